import type { Action } from '../../core/schema/actions.js';
import type { NormalizedEvent, Stage } from '../../core/schema/index.js';
import type { SagemakerConfig } from './config.js';
import { arr, bool, get, isObj, str, uniq, type Obj } from './util.js';

/**
 * CloudTrail's own control calls (`cloudtrail.amazonaws.com`): switching the trail off, deleting it, or narrowing
 * what it logs is how an attacker hides the S3 writes and SageMaker calls mltrail reads (poisoning a training
 * bucket after removing its data events from the trail). Kept by default, whatever `extra_event_sources` says.
 */

const TRAIL_ACTIONS: Record<string, Action> = {
  StopLogging: 'audit_log.disable',
  DeleteTrail: 'audit_log.delete',
  PutEventSelectors: 'audit_log.update',
  UpdateTrail: 'audit_log.update',
  StartLogging: 'audit_log.enable',
  CreateTrail: 'audit_log.create',
};

export interface TrailClassified {
  stage: Stage;
  action: Action;
  resource: NormalizedEvent['resource'];
  details: Record<string, unknown>;
}

/** A CloudTrail control call as an `audit_log.*` event, or undefined for its other calls (reads, tags, Lake). */
export function classifyTrail(eventName: string, params: Obj, response: Obj, cfg: SagemakerConfig): TrailClassified | undefined {
  const action = TRAIL_ACTIONS[eventName];
  if (!action) return undefined;
  // StopLogging / StartLogging / DeleteTrail name the trail in `name`; Put/UpdateTrail and PutEventSelectors in `trailName` or `name`.
  const named = str(params.name) ?? str(params.trailName);
  const arn = str(response.trailARN) ?? (named?.startsWith('arn:') ? named : undefined);
  // One trail, named by its name or ARN depending on the call: the name is what alerts group by.
  const name = (arn ?? named)?.split('/').pop();
  const details: Record<string, unknown> = { trail: name };
  if (eventName === 'PutEventSelectors') Object.assign(details, selectorCoverage(params, [...cfg.training_buckets, ...cfg.model_buckets].map((b) => b.replace(/^s3:\/\//, ''))));
  if (eventName === 'UpdateTrail') Object.assign(details, trailNarrowing(params));
  return { stage: 'platform', action, resource: { type: 'cloudtrail_trail', id: arn ?? named, name }, details };
}

/**
 * What an UpdateTrail changes that blinds a reader of the trail: its log files delivered to another bucket or prefix
 * (mltrail reads the one it was set up on: its notifications stop), or the trail no longer logging the organization's
 * member accounts or the other regions. Only what the request names is changed (the response echoes the whole trail).
 */
export function trailNarrowing(params: Obj): { log_bucket?: string; log_prefix?: string; organization_trail?: false; multi_region?: false } {
  const out: { log_bucket?: string; log_prefix?: string; organization_trail?: false; multi_region?: false } = {};
  if (str(params.s3BucketName)) out.log_bucket = str(params.s3BucketName);
  if (typeof params.s3KeyPrefix === 'string') out.log_prefix = params.s3KeyPrefix;
  if (bool(params.isOrganizationTrail) === false) out.organization_trail = false;
  if (bool(params.isMultiRegionTrail) === false) out.multi_region = false;
  return out;
}

/** The object writes a poisoning can use: a selector that drops any of them leaves that way in unseen (large files go multipart). */
const WRITE_EVENTS = ['PutObject', 'CopyObject', 'CompleteMultipartUpload', 'DeleteObject', 'DeleteObjects'];

/**
 * What a trail logs after PutEventSelectors, for the listed buckets: `unlogged_buckets` are those whose object
 * writes no selector logs any more, `excluded_objects` the parts of a listed bucket an advanced selector leaves out
 * (a `notStartsWith` prefix inside it, a `notEndsWith` suffix such as `.parquet`), `management_events: false` when
 * no selector keeps management events (the SageMaker calls). Basic selectors (`eventSelectors[].dataResources`) and
 * advanced ones (`advancedEventSelectors[].fieldSelectors`) are read as CloudTrail documents them; a trail takes one
 * kind or the other.
 */
export function selectorCoverage(params: Obj, buckets: string[]): { unlogged_buckets?: string[]; excluded_objects?: string[]; management_events?: boolean } {
  const basic = arr(params.eventSelectors).filter(isObj);
  const advanced = arr(params.advancedEventSelectors).filter(isObj);
  if (!basic.length && !advanced.length) return {};
  const logs = (bucket: string) => (advanced.length ? advanced.some((s) => advancedLogsWrites(s, bucket)) : basic.some((s) => basicLogsWrites(s, bucket)));
  const management = advanced.length
    ? advanced.some((s) => fieldValues(s, 'eventCategory', 'equals').includes('Management'))
    : basic.some((s) => bool(s.includeManagementEvents) !== false);
  const unlogged = uniq(buckets).filter((b) => !logs(b));
  // Holes only count where the bucket is otherwise logged (and by every selector that logs it: one without the hole covers it).
  const excluded = uniq(uniq(buckets).filter((b) => !unlogged.includes(b)).flatMap((b) => {
    const logging = advanced.filter((s) => advancedLogsWrites(s, b));
    const holes = logging.map((s) => excludedParts(s, b));
    return holes.length && holes.every((h) => h.length) ? holes.flat() : [];
  }));
  return { unlogged_buckets: unlogged.length ? unlogged : undefined, excluded_objects: excluded.length ? excluded : undefined, management_events: management ? undefined : false };
}

/** An object ARN value covers a bucket when it names all of S3, the bucket, or a prefix inside it. */
function coversBucket(value: string, bucket: string): boolean {
  return value === 'arn:aws:s3' || value === 'arn:aws:s3:::' || value === `arn:aws:s3:::${bucket}` || value.startsWith(`arn:aws:s3:::${bucket}/`);
}

function basicLogsWrites(s: Obj, bucket: string): boolean {
  if (str(s.readWriteType) === 'ReadOnly') return false;
  return arr(s.dataResources).filter(isObj).some((d) => str(d.type) === 'AWS::S3::Object' && arr(d.values).some((v) => typeof v === 'string' && coversBucket(v, bucket)));
}

function fieldValues(s: Obj, field: string, op: string): string[] {
  return arr(s.fieldSelectors).filter(isObj).filter((f) => str(f.field) === field).flatMap((f) => arr(get(f, op)).filter((v): v is string => typeof v === 'string'));
}

/** Whether a selector's conditions on `eventName` let this call through (every operator CloudTrail offers on it). */
function admitsEvent(s: Obj, name: string): boolean {
  const v = (op: string) => fieldValues(s, 'eventName', op);
  const positive = [...v('equals'), ...v('startsWith'), ...v('endsWith')];
  if (positive.length && !(v('equals').includes(name) || v('startsWith').some((p) => name.startsWith(p)) || v('endsWith').some((p) => name.endsWith(p)))) return false;
  return !(v('notEquals').includes(name) || v('notStartsWith').some((p) => name.startsWith(p)) || v('notEndsWith').some((p) => name.endsWith(p)));
}

function advancedLogsWrites(s: Obj, bucket: string): boolean {
  if (!fieldValues(s, 'eventCategory', 'equals').includes('Data')) return false;
  const types = fieldValues(s, 'resources.type', 'equals');
  if (!types.includes('AWS::S3::Object')) return false;
  if (fieldValues(s, 'readOnly', 'equals').includes('true')) return false;
  if (!WRITE_EVENTS.every((e) => admitsEvent(s, e))) return false;
  const arn = `arn:aws:s3:::${bucket}/`;
  const excluded = [...fieldValues(s, 'resources.ARN', 'notStartsWith'), ...fieldValues(s, 'resources.ARN', 'notEquals')];
  if (excluded.some((v) => arn.startsWith(v))) return false;
  const included = [...fieldValues(s, 'resources.ARN', 'startsWith'), ...fieldValues(s, 'resources.ARN', 'equals')];
  return !included.length || included.some((v) => arn.startsWith(v) || v.startsWith(arn));
}

/**
 * The objects of a bucket a selector that logs it still leaves out: a `notStartsWith` / `notEquals` ARN inside it
 * (`arn:aws:s3:::bucket/churn/`, as `s3://bucket/churn/`) or a `notEndsWith` suffix (`*.parquet`), the training files.
 */
function excludedParts(s: Obj, bucket: string): string[] {
  const arn = `arn:aws:s3:::${bucket}/`;
  const inside = [...fieldValues(s, 'resources.ARN', 'notStartsWith'), ...fieldValues(s, 'resources.ARN', 'notEquals')].filter((v) => v.startsWith(arn));
  return [...inside.map((v) => `s3://${v.slice('arn:aws:s3:::'.length)}`), ...fieldValues(s, 'resources.ARN', 'notEndsWith').map((v) => `s3://${bucket}/*${v}`)];
}
