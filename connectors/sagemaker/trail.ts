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
  return { stage: 'platform', action, resource: { type: 'cloudtrail_trail', id: arn ?? named, name }, details };
}

/**
 * What a trail logs after PutEventSelectors, for the listed buckets: `unlogged_buckets` are those whose object
 * writes no selector logs any more, `management_events: false` when no selector keeps management events (the
 * SageMaker calls). Basic selectors (`eventSelectors[].dataResources`) and advanced ones (`advancedEventSelectors[].
 * fieldSelectors`) are read as CloudTrail documents them; a trail takes one kind or the other.
 */
export function selectorCoverage(params: Obj, buckets: string[]): { unlogged_buckets?: string[]; management_events?: boolean } {
  const basic = arr(params.eventSelectors).filter(isObj);
  const advanced = arr(params.advancedEventSelectors).filter(isObj);
  if (!basic.length && !advanced.length) return {};
  const logs = (bucket: string) => (advanced.length ? advanced.some((s) => advancedLogsWrites(s, bucket)) : basic.some((s) => basicLogsWrites(s, bucket)));
  const management = advanced.length
    ? advanced.some((s) => fieldValues(s, 'eventCategory', 'equals').includes('Management'))
    : basic.some((s) => bool(s.includeManagementEvents) !== false);
  const unlogged = uniq(buckets).filter((b) => !logs(b));
  return { unlogged_buckets: unlogged.length ? unlogged : undefined, management_events: management ? undefined : false };
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

function advancedLogsWrites(s: Obj, bucket: string): boolean {
  if (!fieldValues(s, 'eventCategory', 'equals').includes('Data')) return false;
  const types = fieldValues(s, 'resources.type', 'equals');
  if (!types.includes('AWS::S3::Object')) return false;
  if (fieldValues(s, 'readOnly', 'equals').includes('true')) return false;
  const names = fieldValues(s, 'eventName', 'equals');
  if (names.length && !names.includes('PutObject')) return false;
  if (fieldValues(s, 'eventName', 'notEquals').includes('PutObject')) return false;
  const arn = `arn:aws:s3:::${bucket}/`;
  const excluded = [...fieldValues(s, 'resources.ARN', 'notStartsWith'), ...fieldValues(s, 'resources.ARN', 'notEquals')];
  if (excluded.some((v) => arn.startsWith(v))) return false;
  const included = [...fieldValues(s, 'resources.ARN', 'startsWith'), ...fieldValues(s, 'resources.ARN', 'equals')];
  return !included.length || included.some((v) => arn.startsWith(v) || v.startsWith(arn));
}
