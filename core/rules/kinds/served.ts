import type { NormalizedEvent } from '../../schema/index.js';
import { normUri, scopeOf, type ModelRef } from '../facts.js';
import type { VersionRec } from '../registry.js';
import type { RuleContext } from './context.js';

/**
 * What a deployment or a batch-inference job runs, and whether the registry approved it: one place, so an
 * endpoint and a transform job naming the same SageMaker Model (→ its package or artifact), or the same Vertex
 * `model@version` / alias, are judged alike.
 */

/** One model served, judged on its own: a named version and/or model resources (SageMaker Models). */
export interface ServedPart {
  ref?: ModelRef;
  models: string[];
}

/**
 * The models an event runs, each judged on its own, so an approved one cannot vouch for an unapproved one beside
 * it: SageMaker production variants, KServe's further storage URIs (an LLM's LoRA adapters), the containers of a
 * SageMaker Model after its first, the versions holding the alias named in another case.
 */
export function servedParts(ev: NormalizedEvent, ctx: RuleContext, direct: ModelRef | undefined, ref: ModelRef | undefined, models: string[]): ServedPart[] {
  const parts: ServedPart[] = models.length > 1 ? [...(direct ? [{ ref: direct, models: [] }] : []), ...models.map((m) => ({ models: [m] }))] : [{ ref, models }];
  // Several model locations: each beyond the first, which `ref` already stands for, is judged too.
  const uris = ev.ml?.deployment?.model_uris;
  if (Array.isArray(uris)) {
    for (const uri of uris.slice(1)) if (typeof uri === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) parts.push({ ref: { platform: ev.platform, artifact: normUri(uri, ctx.cfg) }, models: [] });
  }
  // An alias other versions hold in another case (`CHAMPION` set beside `champion`): the registry's database decides
  // which one the serving side reaches (MySQL folds case), so each of them is judged as served.
  const named = direct ?? ref;
  for (const v of ctx.reg.aliasVariants(named, ev.platform)) parts.push({ ref: { platform: v.platform, name: v.name, version: v.version, alias: named!.alias }, models: [] });
  // A model resource of several containers (SageMaker): the artifact or package of each container after the first, too.
  const scope = scopeOf(ev);
  for (const m of models) {
    for (const artifact of ctx.reg.moreArtifactsOf(ev.platform, m, scope)) parts.push({ ref: { platform: ev.platform, artifact }, models: [] });
    for (const pkg of ctx.reg.morePackagesOf(ev.platform, m, scope)) parts.push({ ref: pkg, models: [] });
  }
  return parts;
}

/** The registry's verdict on one served part. */
export interface ApprovalVerdict {
  /** The version the reference names, if any. */
  named?: VersionRec;
  /** Every version it resolves to: the named one, then those linked by model resource, artifact or hash. */
  candidates: VersionRec[];
  /** Those approved (ever, not rejected since) in the scope of the package named, if it names one. */
  approved: VersionRec[];
  /** A candidate rejected now (its approval may have come first: then it was revoked). */
  rejected?: VersionRec;
  /** A SageMaker package approved, then set back to PendingManualApproval. */
  withdrawn?: VersionRec;
  /** None approved here, but one approved in another account or region (a SageMaker package shared in). */
  elsewhere: boolean;
  /** `<account>:<region>` of the SageMaker packages named by ARN. */
  scopes: string[];
  /** How the part is named in an alert: `name vN`, else its artifact, else its model resources. */
  what: string;
}

/** `scope`: where the event runs `models` (SageMaker Models are looked up in its account and region). */
export function approvalVerdict(ctx: RuleContext, ref: ModelRef | undefined, models: string[], platform: string, scope?: string): ApprovalVerdict {
  const { named, linked, refs } = ctx.reg.resolve(ref, models, platform, true, scope);
  const candidates = [...(named ? [named] : []), ...linked.filter((l) => l.key !== named?.key)];
  // A SageMaker package version lives in one account and region: an approval made elsewhere (the same
  // group and version in another account, shared in) does not vouch for it.
  const scopes = [...new Set(refs.flatMap((r) => (r.scope && r.version ? [r.scope] : [])))];
  const approvedHere = (v: VersionRec) => !scopes.length || !v.approvedScopes || scopes.every((sc) => v.approvedScopes!.includes(sc));
  const approved = candidates.filter((v) => v.approvedEver && !revoked(v) && approvedHere(v));
  const elsewhere = !approved.length && candidates.some((v) => v.approvedEver && !revoked(v));
  // A version reached by a case variant of the alias served is named with it (`fraud@champion v5`).
  const what = ref?.name ? `${ref.name}${ref.version ? `${ref.alias ? `@${ref.alias}` : ''} v${ref.version}` : ''}` : (ref?.artifact ?? models.join(', '));
  return { named, candidates, approved, rejected: candidates.find((v) => v.approval?.state === 'rejected'), withdrawn: candidates.find(withdrawn), elsewhere, scopes, what };
}

/**
 * A SageMaker package set back from Approved to PendingManualApproval: its approval was withdrawn. ModelApprovalStatus
 * is the one approval SageMaker has, and it is current. (Elsewhere a pending marker beside an approving one — an
 * MLflow tag on the champion — leaves the version approved: see Registry.update.)
 */
const withdrawn = (v: VersionRec): boolean => v.platform === 'sagemaker' && v.approvedEver && v.approval?.state === 'pending';
const revoked = (v: VersionRec): boolean => v.approval?.state === 'rejected' || withdrawn(v);
