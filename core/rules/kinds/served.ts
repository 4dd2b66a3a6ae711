import type { NormalizedEvent } from '../../schema/index.js';
import { normUri, parseMlflowModelUri, scopeOf, type ModelRef } from '../facts.js';
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
  /**
   * What the `model_uri` tag of a SageMaker Model served names (mlflow.sagemaker's deploy): the URI, the CreateModel
   * that tagged it, the MLflow versions it resolves to (`name/version`), whether one of them is approved, and whether
   * the Model's data is itself a registered version's (`linked`). Its versions are candidates (a rejected one is a
   * rejected deployment); approved ones count only when trusted, and only for data no registered version holds.
   */
  claim?: { uri: string; event: string; model: string; versions: string[]; approved: boolean; trusted: boolean; linked: boolean };
}

/** `scope`: where the event runs `models` (SageMaker Models are looked up in its account and region). */
export function approvalVerdict(ctx: RuleContext, ref: ModelRef | undefined, models: string[], platform: string, scope?: string, trustClaims = false): ApprovalVerdict {
  const { named, linked, refs } = ctx.reg.resolve(ref, models, platform, true, scope);
  const candidates = [...(named ? [named] : []), ...linked.filter((l) => l.key !== named?.key)];
  // A Model mlflow.sagemaker made names the MLflow version it copied only in its `model_uri` tag: its versions are
  // candidates, so a rejected or unapproved one is said as such; an approved one vouches only when trusted, since the
  // served bytes are a re-packed copy in another bucket that no approval names.
  const claim = claimOf(ctx, models, platform, scope);
  // Trusted, the tag vouches only for a copy no registered version's artifact holds (mlflow.sagemaker's re-packed
  // `model.tar.gz` in its own bucket): a Model whose data is another version's (a rejected one's) is judged by that one.
  const linkedOtherwise = candidates.length > 0;
  const claimedOnly = new Set<string>();
  for (const v of claim?.found ?? []) {
    if (candidates.some((c) => c.key === v.key)) continue;
    candidates.push(v);
    claimedOnly.add(v.key);
  }
  const vouches = (v: VersionRec) => !claimedOnly.has(v.key) || (trustClaims && !linkedOtherwise);
  // A SageMaker package version lives in one account and region: an approval made elsewhere (the same
  // group and version in another account, shared in) does not vouch for it.
  const scopes = [...new Set(refs.flatMap((r) => (r.scope && r.version ? [r.scope] : [])))];
  const approvedHere = (v: VersionRec) => !scopes.length || !v.approvedScopes || scopes.every((sc) => v.approvedScopes!.includes(sc));
  const approved = candidates.filter((v) => v.approvedEver && !revoked(v) && approvedHere(v) && vouches(v));
  const elsewhere = !approved.length && candidates.some((v) => v.approvedEver && !revoked(v) && !claimedOnly.has(v.key));
  // A version reached by a case variant of the alias served is named with it (`fraud@champion v5`).
  const what = ref?.name ? `${ref.name}${ref.version ? `${ref.alias ? `@${ref.alias}` : ''} v${ref.version}` : ''}` : (ref?.artifact ?? models.join(', '));
  const claimed = claim && { uri: claim.uri, event: claim.event, model: claim.model, versions: claim.found.map((v) => `${v.name}/${v.version}`), approved: claim.found.some((v) => v.approvedEver && !revoked(v)), trusted: trustClaims && !linkedOtherwise, linked: linkedOtherwise };
  return { named, candidates, approved, rejected: candidates.find((v) => v.approval?.state === 'rejected'), withdrawn: candidates.find(withdrawn), elsewhere, scopes, what, ...(claimed ? { claim: claimed } : {}) };
}

/**
 * The MLflow versions the `model_uri` tag of a served SageMaker Model names (the first Model that has one): a
 * `models:/<name>/<version|stage|latest>` or `models:/<name>@<alias>` resolved in the MLflow registry as it stands at
 * the deployment (mlflow.sagemaker downloaded it then), a `runs:/` or storage URI by artifact. A URI MLflow refuses
 * names nothing.
 */
function claimOf(ctx: RuleContext, models: string[], platform: string, scope?: string): { uri: string; event: string; model: string; found: VersionRec[] } | undefined {
  for (const model of models) {
    const c = ctx.reg.mlflowClaimOf(platform, model, scope);
    if (!c) continue;
    const parsed = parseMlflowModelUri(c.uri);
    let ref: ModelRef | undefined;
    if (parsed && 'name' in parsed) ref = { platform: 'mlflow', name: parsed.name, ...(parsed.version ? { version: parsed.version } : parsed.stage ? { stage: parsed.stage } : { alias: parsed.alias }) };
    else if (!parsed && /^[a-z][a-z0-9+.-]*:\//i.test(c.uri)) ref = { platform: 'mlflow', artifact: normUri(c.uri, ctx.cfg) };
    const resolved = ref ? ctx.reg.resolveModelUri(ref).ref : undefined;
    const { named, linked } = resolved && (resolved.version || resolved.alias || resolved.artifact) ? ctx.reg.resolve(resolved, [], 'mlflow', true) : { named: undefined, linked: [] };
    const found = [...(named ? [named] : []), ...linked.filter((l) => l.key !== named?.key)];
    return { uri: c.uri, event: c.event, model, found };
  }
  return undefined;
}

/**
 * A SageMaker package set back from Approved to PendingManualApproval: its approval was withdrawn. ModelApprovalStatus
 * is the one approval SageMaker has, and it is current. (Elsewhere a pending marker beside an approving one — an
 * MLflow tag on the champion — leaves the version approved: see Registry.update.)
 */
const withdrawn = (v: VersionRec): boolean => v.platform === 'sagemaker' && v.approvedEver && v.approval?.state === 'pending';
const revoked = (v: VersionRec): boolean => v.approval?.state === 'rejected' || withdrawn(v);
