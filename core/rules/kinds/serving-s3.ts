import type { NormalizedEvent } from '../../schema/index.js';
import { anyGlob, endpointKey, endpointOf, identityOf, isCarriedOut, isDeployment, scopeOf, scopedName } from '../facts.js';
import { endpointEntity, setting, type RuleContext } from './context.js';

/**
 * KServe fetches an `s3://` storageUri from the endpoint the predictor's ServiceAccount, or a Secret it lists, is
 * annotated with (`serving.kserve.io/s3-endpoint`; the connector's `details.kserve_s3`, `unlisted` where the cluster's
 * `artifact_endpoints` does not list it). Those writes are kept in the rule's state, bounded, and an `s3://`
 * deployment running under such an account is a registry.unapproved_deployment finding (`artifact_endpoint_not_allowed`):
 * whatever approved the location, the bytes come from that host. KServe reads those settings when it makes each pod
 * (its pod mutator builds the storage initializer's env), so a live `s3://` deployment is kept, bounded, and judged
 * again when its account or a Secret it lists is annotated later: every pod made since fetches from there.
 */

interface S3Rec {
  endpoint?: string;
  unlisted?: true;
  /** A ServiceAccount's `secrets`. */
  secrets?: string[];
  /** The connector's: a patch of an object it had not seen removed the endpoint annotation (never kept). */
  endpoint_removed?: true;
}

const MAX_ACCOUNTS = 1000;
/** Live `s3://` deployments kept to be judged again when their account's settings change. */
const MAX_LIVE = 500;

type KeptDeployment = Pick<NormalizedEvent, 'id' | 'time' | 'platform' | 'actor' | 'cloud' | 'resource' | 'action' | 'outcome' | 'operation' | 'ml' | 'details'>;
interface LiveS3 {
  /** endpointKey of the deployment's endpoint. */
  ep: string;
  dep: KeptDeployment;
}
const TYPES = new Set(['serviceaccounts', 'secrets']);
const WRITES = /^(service_account|secret)\.(create|update)$/;

const s3Key = (type: string, namespace: string | undefined, name: string, scope: string | undefined) => `s3|${type}|${scopedName(`${namespace ?? ''}/${name}`, scope)}`;

/** Keep what a ServiceAccount or Secret write says of KServe's S3 settings (a record without the object says nothing). */
export function rememberS3Credentials(ev: NormalizedEvent, ctx: RuleContext): void {
  const r = ev.resource;
  const s3 = ev.details?.kserve_s3 as S3Rec | undefined;
  if (ev.platform !== 'kubeflow' || !r || !TYPES.has(r.type) || !s3 || typeof s3 !== 'object' || !WRITES.test(ev.action) || !isCarriedOut(ev)) return;
  const name = r.name;
  if (!name) return;
  const key = s3Key(r.type, r.namespace, name, scopeOf(ev));
  // A patch of an object the connector had not seen says only what it sets (an endpoint, Secrets listed) or removes
  // (the endpoint): the rest stays as known. Secrets it lists are added to those known, as a strategic merge patch
  // (kubectl's default for a ServiceAccount) adds them by name; a merge patch would replace them, which the record
  // does not tell apart.
  const known = ev.details?.patch_base_unknown === true ? ctx.get<S3Rec>(key) : undefined;
  const listed = Array.isArray(s3.secrets) ? s3.secrets.filter((n): n is string => typeof n === 'string') : undefined;
  const secrets = known?.secrets || listed ? [...new Set([...(known?.secrets ?? []), ...(listed ?? [])])].slice(-50) : undefined;
  const keepEndpoint = typeof s3.endpoint !== 'string' && s3.endpoint_removed !== true && known;
  const rec: S3Rec = keepEndpoint
    ? { ...(known.endpoint ? { endpoint: known.endpoint } : {}), ...(known.unlisted ? { unlisted: true } : {}), ...(secrets ? { secrets } : {}) }
    : { ...(typeof s3.endpoint === 'string' ? { endpoint: s3.endpoint } : {}), ...(s3.unlisted === true ? { unlisted: true } : {}), ...(secrets ? { secrets } : {}) };
  ctx.set(key, rec);
  const index = (ctx.get<string[]>('s3-index') ?? []).filter((k) => k !== key);
  index.push(key);
  for (const old of index.splice(0, Math.max(0, index.length - MAX_ACCOUNTS))) ctx.delete(old);
  ctx.set('s3-index', index);
  // Live deployments under this account, or under an account listing this Secret: their next pods fetch from here
  // (an account's write may only list a Secret annotated before; judgeUnder says nothing where no source is unlisted).
  for (const { dep } of ctx.get<LiveS3[]>('s3-live') ?? []) {
    const sa = dep.details?.predictor_service_account as string;
    if (dep.resource?.namespace !== r.namespace || scopeOf(dep as NormalizedEvent) !== scopeOf(ev)) continue;
    const under = r.type === 'serviceaccounts' ? sa === name : (ctx.get<S3Rec>(s3Key('serviceaccounts', r.namespace, sa, scopeOf(ev)))?.secrets ?? []).includes(name);
    if (under) judgeUnder(dep as NormalizedEvent, ctx, ev);
  }
}

/** The `s3://` locations a deployment loads. */
function s3UrisOf(ev: NormalizedEvent): string[] {
  const d = ev.ml?.deployment;
  return [d?.model_uri, ...(Array.isArray(d?.model_uris) ? d.model_uris : [])].filter((u): u is string => typeof u === 'string' && /^s3:\/\//i.test(u));
}

/**
 * Keep the live `s3://` deployments (one per endpoint: another model deployed to it replaces it, its deletion ends it),
 * bounded, for rememberS3Credentials.
 */
function trackLive(ev: NormalizedEvent, ctx: RuleContext): void {
  const ep = endpointOf(ev);
  if (ev.platform !== 'kubeflow' || !ep) return;
  const deleted = ev.action === 'endpoint.delete' && isCarriedOut(ev);
  if (!deleted && !(isDeployment(ev) && ev.ml?.deployment?.model_uri)) return;
  const key = endpointKey(ev, ep);
  const live = ctx.get<LiveS3[]>('s3-live') ?? [];
  const kept = live.filter((l) => l.ep !== key);
  if (!deleted && s3UrisOf(ev).length && typeof ev.details?.predictor_service_account === 'string') {
    const { raw: _raw, ...dep } = ev as NormalizedEvent & { raw?: unknown };
    kept.push({ ep: key, dep: dep as KeptDeployment });
  }
  if (kept.length !== live.length || kept.at(-1)?.ep === key) ctx.set('s3-live', kept.slice(-MAX_LIVE));
}

/** An `s3://` KServe deployment whose ServiceAccount (or a Secret it lists) names an S3 endpoint not allowed: the finding. */
export function judgeS3Endpoint(ev: NormalizedEvent, ctx: RuleContext): void {
  trackLive(ev, ctx);
  if (isDeployment(ev)) judgeUnder(ev, ctx);
}

/** judgeS3Endpoint's finding for deployment `ev`; `by`: the later account or Secret write that made it (evidence, time). */
function judgeUnder(ev: NormalizedEvent, ctx: RuleContext, by?: NormalizedEvent): void {
  const sa = ev.details?.predictor_service_account;
  if (ev.platform !== 'kubeflow' || typeof sa !== 'string') return;
  const uris = s3UrisOf(ev);
  const ep = endpointOf(ev);
  if (!uris.length || !ep || !anyGlob(setting(ctx, 'endpoints'), ep)) return;
  const scope = scopeOf(ev);
  const ns = ev.resource?.namespace;
  const account = ctx.get<S3Rec>(s3Key('serviceaccounts', ns, sa, scope));
  if (!account) return;
  const sources: Array<[string, S3Rec | undefined]> = [[`serviceaccount/${sa}`, account], ...(account.secrets ?? []).map((s): [string, S3Rec | undefined] => [`secret/${s}`, ctx.get<S3Rec>(s3Key('secrets', ns, s, scope))])];
  const unlisted = Object.fromEntries(sources.filter(([, r]) => r?.unlisted && r.endpoint).map(([src, r]) => [`${src} serving.kserve.io/s3-endpoint`, r!.endpoint!]));
  if (!Object.keys(unlisted).length) return;
  const who = identityOf(ev.actor, ctx.cfg);
  const via = Object.entries(unlisted).map(([s, e]) => `${e} (${s})`).join(', ');
  const changer = by && identityOf(by.actor, ctx.cfg);
  const late = by && Date.parse(by.time) > Date.parse(ev.time);
  const later = late ? ` (${by.resource?.type === 'secrets' ? 'Secret' : 'ServiceAccount'} ${by.resource?.name} annotated at ${by.time}${changer ? ` by ${changer}` : ''}, after the deployment: every pod KServe makes since fetches from there)` : '';
  ctx.detect({
    entity: endpointEntity(ev, ep), key: `s3-endpoint|${Object.values(unlisted).join(',')}`, evidence: by ? [by.id, ev.id] : [ev.id], title: 'Model fetched from an S3 endpoint not allowed', time: late ? by.time : ev.time,
    summary: `${who ?? 'someone'} deployed ${uris.join(', ')} to ${ep} (${ev.platform}) under ServiceAccount ${sa}, whose KServe S3 settings fetch it from ${via}${later}, which the cluster's artifact_endpoints does not list: an approval of the location does not vouch for what that host serves`,
    details: { reason: 'artifact_endpoint_not_allowed', artifact_endpoints_not_allowed: unlisted, service_account: sa, model_uris: uris, deployer: who, ...(by ? { changed_by: changer, deployment_event: ev.id } : {}) },
  });
}
