import type { NormalizedEvent } from '../../schema/index.js';
import type { Entity } from '../baseline.js';
import { anyGlob, callerText } from '../facts.js';
import { setting, type KindImpl, type RuleContext } from './context.js';

/**
 * Exfiltration of ML artifacts (MITRE ATLAS): a model or dataset copied to a destination the operator has not
 * allowed, and a grant that lets another account (or everyone) read where models and data are kept.
 *
 * What the connectors say, whatever the platform:
 * - an export is `model.export`, `model_version.export` or `dataset.export`, or any event the connector marks
 *   `details.export_of: model | dataset` (an S3 copy out of a model or training bucket, a foreign account
 *   reading one, a feature or BigQuery table export); its destinations are `ml.data.outputs`, and the account
 *   owning them, when known, `details.destination_account`;
 * - a share is a `permission.change` the connector marks `details.share_of: model | dataset`, naming who it
 *   lets in as `details.grantees` (account ids, principal ARNs, `o-…` organizations, `*` for everyone).
 */

const EXPORT_ACTIONS = new Set(['model.export', 'model_version.export', 'dataset.export']);

type Artifact = 'model' | 'dataset';

function artifactOf(marked: unknown, action: string): Artifact | undefined {
  if (marked === 'model' || marked === 'dataset') return marked;
  if (!EXPORT_ACTIONS.has(action)) return undefined;
  return action === 'dataset.export' ? 'dataset' : 'model';
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/**
 * What left: the model (version) or dataset an export or share is about, by the most specific name the event has.
 * An event the connector marks names its source in `ml.data.inputs`, which comes first: its `ml.model` may be the
 * copy's destination (a Vertex CopyModel into another project's model is a new version of that model).
 */
function sourceEntity(ev: NormalizedEvent, what: Artifact): Entity {
  const m = ev.ml?.model;
  const input = ev.ml?.data?.inputs?.[0];
  const marked = ev.details?.export_of !== undefined;
  const id =
    (marked && input !== undefined ? folderOf(input) : undefined) ??
    (what === 'model' && m?.name ? `${m.name}${m.version ? `/${m.version}` : ''}` : undefined) ??
    (input !== undefined ? folderOf(input) : undefined) ??
    // An object read in place (another account's GetObject): by its folder too, as a copy's source is.
    (ev.resource?.uri !== undefined ? folderOf(ev.resource.uri) : undefined) ??
    ev.resource?.id ??
    ev.resource?.name ??
    'unknown';
  return { type: what, id, name: what === 'model' && !(marked && input !== undefined) ? m?.name : undefined, platform: ev.platform };
}

/**
 * An object's folder (`s3://b/fraud/v5/model.tar.gz` → `s3://b/fraud/v5/`): a copy or read of an object store is
 * judged by folder, so a bulk copy of a folder (one S3 event per object) is one finding, with its count, not an
 * alert per file. Anything else (a model version, a dataset resource, a BigQuery table) stands as it is.
 */
function folderOf(uri: string): string {
  const m = /^(s3|gs):\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!m) return uri;
  const cut = m[3]!.lastIndexOf('/');
  return `${m[1]}://${m[2]}/${cut >= 0 ? m[3]!.slice(0, cut + 1) : ''}`;
}

/** The 12-digit AWS account a principal names (`123456789012`, `arn:aws:iam::123456789012:role/R`), if any. */
function awsAccountOf(principal: string): string | undefined {
  if (/^\d{12}$/.test(principal)) return principal;
  return /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(principal)?.[1];
}

/** A destination is allowed when its URI matches `allowed_destinations` or its owner `allowed_accounts`. */
export const artifactExport: KindImpl = (ev, ctx) => {
  if (ev.outcome === 'failure') return;
  const what = artifactOf(ev.details?.export_of, ev.action);
  if (!what) return;
  const allowedUris = setting<string[]>(ctx, 'allowed_destinations');
  const allowedAccounts = setting<string[]>(ctx, 'allowed_accounts');
  const account = text(ev.details?.destination_account);
  if (account && anyGlob(allowedAccounts, account)) return;
  // No URI (a foreign account reading the object in place): the account is where it went. Neither: the
  // request was logged without its destination (an audit `request` may be partial) — not shown to be allowed.
  const uris = ev.ml?.data?.outputs?.length ? ev.ml.data.outputs : [undefined];
  const entity = sourceEntity(ev, what);
  const object = ev.ml?.data?.inputs?.[0] ?? ev.resource?.uri;
  for (const uri of uris) {
    if (uri !== undefined && anyGlob(allowedUris, uri)) continue;
    const destination = uri ?? (account ? `account ${account}` : 'an unrecorded destination');
    ctx.detect({
      entity,
      key: uri !== undefined ? folderOf(uri) : (account ?? 'unknown'),
      evidence: [ev.id],
      title: what === 'model' ? 'Model exported to a destination not allowed' : 'Dataset exported to a destination not allowed',
      summary: `${entity.id} was exported to ${destination} (${ev.operation}) by ${callerText(ev.actor, ctx.cfg)}`,
      details: { exported: what, source: entity.id, source_object: object !== undefined && object !== entity.id ? object : undefined, destination: uri, destination_account: account, operation: ev.operation },
    });
  }
};

/** A destination of predictions whose account the record shows (the SageMaker connector's `details.prediction_destinations`). */
interface PredictionDestination {
  field: string;
  destination: string;
  account: string;
  includes_response?: boolean;
}

function predictionDestinationsOf(ev: NormalizedEvent): PredictionDestination[] {
  const list = ev.details?.prediction_destinations;
  if (!Array.isArray(list)) return [];
  return list.filter((d): d is PredictionDestination => !!d && typeof d === 'object' && typeof (d as PredictionDestination).destination === 'string' && typeof (d as PredictionDestination).account === 'string');
}

/**
 * Predictions sent to another account: a batch transform job's output, an async endpoint's output, failure path or
 * SNS notifications (with `IncludeInferenceResponseIn`, the inference response itself), or captured requests and
 * responses, written where the request shows another account than the event's owns the destination (an SNS topic
 * ARN, an S3 access point ARN or endpoint; a bucket name shows no owner and is not judged). Predictions carry what
 * the model learned and often the input rows (a transform job's `JoinSource: Input`), so this is data leaving the
 * account: allowed by `allowed_accounts` (the destination's account) or `allowed_destinations` (its URI or ARN).
 */
export const predictionExport: KindImpl = (ev, ctx) => {
  if (ev.outcome === 'failure') return;
  unlistedPredictionBuckets(ev, ctx);
  const own = ev.cloud?.account;
  const destinations = predictionDestinationsOf(ev);
  if (!own || !destinations.length) return;
  const allowedUris = setting<string[]>(ctx, 'allowed_destinations');
  const allowedAccounts = setting<string[]>(ctx, 'allowed_accounts');
  const foreign = destinations.filter((d) => d.account !== own && !anyGlob(allowedAccounts, d.account) && !anyGlob(allowedUris, d.destination));
  if (!foreign.length) return;
  const entity: Entity = { type: ev.resource?.type ?? 'resource', id: ev.resource?.id ?? ev.resource?.name ?? 'unknown', name: ev.resource?.name, platform: ev.platform };
  const accounts = [...new Set(foreign.map((d) => d.account))];
  const response = foreign.some((d) => d.includes_response);
  ctx.detect({
    entity,
    key: `predictions|${foreign.map((d) => d.destination).sort().join(',')}`,
    evidence: [ev.id],
    title: 'Predictions sent to another account',
    summary: `${ev.resource?.name ?? entity.id} sends its predictions${response ? ' (inference responses included)' : ''} to ${foreign.map((d) => `${d.destination} (${d.field})`).join(', ')}, owned by ${accounts.join(', ')}, not ${own} (${ev.operation}) by ${callerText(ev.actor, ctx.cfg)}`,
    details: { exported: 'predictions', source: entity.id, destinations: foreign, destination_account: accounts[0], destination_accounts: accounts, owner_account: own, includes_response: response || undefined, operation: ev.operation },
  });
};

/**
 * Predictions written to a bucket named by name alone (the connector's `details.prediction_buckets`: whose bucket it is
 * is not in the record, and neither CreateTransformJob nor CreateEndpointConfig takes an ExpectedBucketOwner), judged
 * only when `prediction_buckets` (bucket-name globs: the buckets predictions may go to) is set: a bucket it does not
 * match, nor `allowed_destinations` the URI, is a finding that does not claim another account owns it
 * (`destination_owner_unknown: true`). Unset (the default), such destinations are not judged.
 */
function unlistedPredictionBuckets(ev: NormalizedEvent, ctx: RuleContext): void {
  const listed = setting<string[] | undefined>(ctx, 'prediction_buckets');
  const named = ev.details?.prediction_buckets;
  if (!listed?.length || !Array.isArray(named)) return;
  const allowedUris = setting<string[]>(ctx, 'allowed_destinations');
  const off = (named as Array<{ field?: unknown; destination?: unknown; bucket?: unknown }>).filter((d): d is { field: string; destination: string; bucket: string } =>
    !!d && typeof d.destination === 'string' && typeof d.bucket === 'string' && typeof d.field === 'string' && !anyGlob(listed, d.bucket) && !anyGlob(allowedUris, d.destination));
  if (!off.length) return;
  const entity: Entity = { type: ev.resource?.type ?? 'resource', id: ev.resource?.id ?? ev.resource?.name ?? 'unknown', name: ev.resource?.name, platform: ev.platform };
  ctx.detect({
    entity,
    key: `predictions-unlisted|${off.map((d) => d.destination).sort().join(',')}`,
    evidence: [ev.id],
    title: 'Predictions sent to a bucket prediction_buckets does not list',
    summary: `${ev.resource?.name ?? entity.id} sends its predictions to ${off.map((d) => `${d.destination} (${d.field})`).join(', ')}, a bucket prediction_buckets does not list (whose it is the record does not say) (${ev.operation}) by ${callerText(ev.actor, ctx.cfg)}`,
    details: { exported: 'predictions', source: entity.id, destinations: off, destination_owner_unknown: true, owner_account: ev.cloud?.account, operation: ev.operation },
  });
}

/** What a bucket holds, as the connector's marks told it (`unlisted`: an access point made on it was not marked). */
type BucketKind = Artifact | 'unlisted';

/**
 * What the rule learns of buckets from the connector's marks (it has not the connector's bucket lists): an access
 * point made on a bucket (`details.access_point_bucket` of a CreateAccessPoint) says by `details.access_point_of`
 * whether the bucket is a model or training one, or neither; a bucket policy or ACL shared (`details.share_of`) that
 * it is one. Written only when it changes.
 */
function learnBucketKind(ev: NormalizedEvent, ctx: RuleContext): void {
  const made = ev.operation === 'CreateAccessPoint' ? (ev.details?.access_point_bucket as { bucket?: unknown } | undefined) : undefined;
  const bucket = text(made?.bucket) ?? (artifactOf(ev.details?.share_of, '') ? text(ev.details?.bucket) : undefined);
  if (!bucket) return;
  const kind: BucketKind = artifactOf(ev.details?.access_point_of, '') ?? artifactOf(ev.details?.share_of, '') ?? 'unlisted';
  if (ctx.get<BucketKind>(`apb|${bucket}`) !== kind) ctx.set(`apb|${bucket}`, kind);
}

/**
 * An access point whose creation the rule did not see (made before mltrail ran), mapped to its bucket by
 * `rules.access_points` (by its ARN, as a policy call names it): what its bucket holds as the connector's marks told
 * it, else a model store (the map is kept for approved model artifacts); a bucket whose access point creation came
 * unmarked (neither list) is shared by nothing.
 */
function configuredAccessPoint(ctx: RuleContext, arn: string): { of: Artifact; uri: string; bucket: string } | undefined {
  const m = ctx.cfg.access_points.find((a) => a.arn === arn);
  if (!m) return undefined;
  const kind = ctx.get<BucketKind>(`apb|${m.bucket}`);
  return kind === 'unlisted' ? undefined : { of: kind ?? 'model', uri: `s3://${m.bucket}`, bucket: m.bucket };
}

/**
 * A grantee is foreign unless it is the event's own account, or matches `allowed_accounts` (by itself or its account).
 * An S3 access point policy names no bucket: the connector marks the access point's creation on a model or training
 * bucket (`details.access_point_of`), kept here, and a policy on that access point (`details.access_point`) shares it;
 * an access point whose creation was not seen shares the bucket `rules.access_points` maps it to (configuredAccessPoint).
 */
export const artifactShare: KindImpl = (ev, ctx) => {
  if (ev.outcome === 'failure') return;
  const accessPoint = text(ev.details?.access_point);
  const fronts = artifactOf(ev.details?.access_point_of, '');
  if (accessPoint && fronts) ctx.set(`ap|${accessPoint}`, { of: fronts, uri: ev.resource?.uri });
  learnBucketKind(ev, ctx);
  if (ev.action !== 'permission.change') return;
  const seen = !ev.details?.share_of && accessPoint ? ctx.get<{ of: Artifact; uri?: string }>(`ap|${accessPoint}`) : undefined;
  const configured = !ev.details?.share_of && accessPoint && !seen ? configuredAccessPoint(ctx, accessPoint) : undefined;
  const viaAccessPoint = seen ?? configured;
  const what = artifactOf(ev.details?.share_of, '') ?? viaAccessPoint?.of;
  const grantees = Array.isArray(ev.details?.grantees) ? (ev.details.grantees as unknown[]).filter((g): g is string => typeof g === 'string' && !!g) : [];
  if (!what || !grantees.length) return;
  const allowed = setting<string[]>(ctx, 'allowed_accounts');
  const own = ev.cloud?.account;
  const foreign = grantees.filter((g) => {
    const account = awsAccountOf(g);
    if (own && account === own) return false;
    return !anyGlob(allowed, g) && !anyGlob(allowed, account);
  });
  if (!foreign.length) return;
  // Through an access point: the bucket behind it is what is shared.
  const entity = viaAccessPoint?.uri ? { type: what, id: viaAccessPoint.uri, platform: ev.platform } : sourceEntity(ev, what);
  const everyone = foreign.includes('*');
  ctx.detect({
    entity,
    key: [...foreign].sort().join(','),
    evidence: [ev.id],
    title: everyone ? `${what === 'model' ? 'Model' : 'Dataset'} store opened to everyone` : `${what === 'model' ? 'Model' : 'Dataset'} store shared with another account`,
    summary: `${entity.id} was opened to ${foreign.join(', ')} (${ev.operation}${configured ? ` on access point ${accessPoint}, which fronts it as rules.access_points says` : ''}) by ${callerText(ev.actor, ctx.cfg)}`,
    details: { shared: what, resource: entity.id, grantees: foreign, public: everyone || undefined, owner_account: own, operation: ev.operation, ...(configured ? { access_point: accessPoint, access_point_bucket_from: 'config' } : {}) },
  });
};
