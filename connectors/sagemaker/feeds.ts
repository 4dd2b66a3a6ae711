import type { Action } from '../../core/schema/actions.js';
import { globMatch } from '../../core/rules/facts.js';
import type { TrailClassified } from './trail.js';
import { arr, get, isObj, str, type Obj } from './util.js';

/**
 * mltrail's own AWS feeds: the EventBridge rule (and its custom bus), API destination and connection, and the Firehose stream that deliver
 * CloudTrail records to the bridge. Disabling, deleting or redirecting one blinds mltrail as surely as StopLogging does
 * (and leaves no trail change to see), so such calls are `audit_log.*` events judged by `platform.audit_log_tampering`.
 * Only resources named by `feed_names` (globs; default `*mltrail*`: the README's setup names them `mltrail`, `sagemaker-to-mltrail`) are read: every
 * other EventBridge rule or stream of the account is none of mltrail's business.
 */

const EVENTS: Record<string, { action: Action; type: string; change?: string }> = {
  DisableRule: { action: 'audit_log.disable', type: 'eventbridge_rule', change: 'disabled the rule' },
  DeleteRule: { action: 'audit_log.delete', type: 'eventbridge_rule' },
  RemoveTargets: { action: 'audit_log.disable', type: 'eventbridge_rule', change: 'removed its targets' },
  PutRule: { action: 'audit_log.update', type: 'eventbridge_rule' },
  EnableRule: { action: 'audit_log.enable', type: 'eventbridge_rule' },
  // Targets added or re-pointed: judged by the rule against the targets it saw before (details.feed_targets).
  PutTargets: { action: 'audit_log.update', type: 'eventbridge_rule' },
  // A custom bus deleted takes its rules with it (the default bus cannot be deleted).
  DeleteEventBus: { action: 'audit_log.delete', type: 'eventbridge_bus' },
  DeleteApiDestination: { action: 'audit_log.delete', type: 'eventbridge_api_destination' },
  // Read for what it sends to (details.feed_api_destination): an update is judged against it.
  CreateApiDestination: { action: 'audit_log.create', type: 'eventbridge_api_destination' },
  UpdateApiDestination: { action: 'audit_log.update', type: 'eventbridge_api_destination' },
  DeleteConnection: { action: 'audit_log.delete', type: 'eventbridge_connection' },
  DeauthorizeConnection: { action: 'audit_log.disable', type: 'eventbridge_connection', change: 'deauthorized the connection' },
  UpdateConnection: { action: 'audit_log.update', type: 'eventbridge_connection' },
};

const FIREHOSE: Record<string, { action: Action; type: string; change?: string }> = {
  DeleteDeliveryStream: { action: 'audit_log.delete', type: 'firehose_stream' },
  UpdateDestination: { action: 'audit_log.update', type: 'firehose_stream' },
};

/**
 * The resource name in an ARN: `mltrail` of `arn:aws:events:us-east-1:111122223333:api-destination/mltrail/<uuid>`,
 * `cloudtrail-to-mltrail` of `arn:aws:firehose:…:deliverystream/cloudtrail-to-mltrail`, `f` of `…:function:f`.
 */
export function arnResourceName(arn: string): string | undefined {
  const res = arn.split(':').slice(5).join(':');
  if (!res) return undefined;
  const parts = res.split(/[/:]/);
  return parts.length > 1 ? parts[1] : parts[0];
}

/**
 * A PutTargets target as judged: its id, ARN, whether the ARN names one of mltrail's feeds (`to_feed`) and whether
 * the id itself does (`id_named`: the README's setup gives the target the id `mltrail`), both by `feedNames`.
 */
export interface FeedTarget { id: string; arn: string; to_feed: boolean; id_named: boolean }

/** PutTargets' `targets` (`{id, arn, roleArn, …}` as CloudTrail logs the API's Targets) as FeedTargets. */
function feedTargets(targets: unknown, feedNames: readonly string[]): FeedTarget[] {
  const out: FeedTarget[] = [];
  for (const t of arr(targets)) {
    if (!isObj(t)) continue;
    const id = str(t.id);
    const arn = str(t.arn);
    if (!id || !arn) continue;
    const name = arnResourceName(arn);
    out.push({ id, arn, to_feed: !!name && feedNames.some((g) => globMatch(g, name)), id_named: feedNames.some((g) => globMatch(g, id)) });
  }
  return out.slice(0, 20);
}

/** Rule calls read for a rule feed_names does not name, which may forward to mltrail's bus (see classifyFeed). */
const FORWARDER_CALLS = new Set(['PutTargets', 'RemoveTargets', 'DeleteRule', 'DisableRule', 'PutRule']);

/** A target PutTargets or RemoveTargets failed to add or remove, as the response names it. */
export interface FailedTarget { id: string; error_code?: string }

/**
 * The targets a PutTargets / RemoveTargets response lists as failed (`failedEntries`, counted by `failedEntryCount`;
 * the API's FailedEntries and FailedEntryCount), and whether more failed than it names (`unconfirmed`).
 */
function failedTargets(response: Obj): { entries: FailedTarget[]; unconfirmed: boolean } {
  const entries: FailedTarget[] = [];
  for (const f of arr(response.failedEntries ?? response.FailedEntries)) {
    if (!isObj(f)) continue;
    const id = str(f.targetId) ?? str(f.TargetId);
    const code = str(f.errorCode) ?? str(f.ErrorCode);
    if (id) entries.push({ id, ...(code ? { error_code: code } : {}) });
  }
  const count = Number(response.failedEntryCount ?? response.FailedEntryCount ?? 0);
  return { entries: entries.slice(0, 20), unconfirmed: Number.isFinite(count) && count > entries.length };
}

/** An EventBridge bus named by name or ARN (`arn:…:event-bus/<name>`), undefined for the default bus or none. */
function busName(v: unknown): string | undefined {
  const s = str(v);
  const name = s?.startsWith('arn:') ? arnResourceName(s) : s;
  return name && name !== 'default' ? name : undefined;
}

/** The `source` values of an EventBridge pattern (a JSON string in PutRule), or undefined when it names none. */
export function patternSources(pattern: unknown): string[] | undefined {
  if (typeof pattern !== 'string') return undefined;
  try {
    const p: unknown = JSON.parse(pattern);
    const s = isObj(p) ? p.source : undefined;
    return Array.isArray(s) ? s.filter((x): x is string => typeof x === 'string') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An `events.amazonaws.com` or `firehose.amazonaws.com` call on one of mltrail's feeds as an `audit_log.*` event
 * (`details.trail` the feed's name, `details.feed` its kind), or undefined for any other call or resource.
 *
 * @example
 * classifyFeed('events.amazonaws.com', 'DisableRule', { name: 'mltrail-sagemaker' }, ['*mltrail*'])?.action // 'audit_log.disable'
 */
export function classifyFeed(source: string, eventName: string, params: Obj, feedNames: readonly string[], response: Obj = {}): TrailClassified | undefined {
  const m = source === 'events.amazonaws.com' ? EVENTS[eventName] : source === 'firehose.amazonaws.com' ? FIREHOSE[eventName] : undefined;
  if (!m) return undefined;
  const named = source === 'firehose.amazonaws.com' ? str(params.deliveryStreamName) : eventName === 'RemoveTargets' || eventName === 'PutTargets' ? str(params.rule) : str(params.name);
  const name = named?.split('/').pop();
  if (!name) return undefined;
  const feedNamed = feedNames.some((g) => globMatch(g, name));
  // Any custom bus deleted is read: mltrail's rule may sit on a bus under another name (PutRule's EventBusName),
  // which the rule learns; a bus feed_names does not name is judged by what was learned of it (`feed_named: false`).
  // So is a rule of another name forwarding to mltrail's bus (a default-bus rule whose target is the bus mltrail's rule
  // is on): learned from its PutTargets naming an event bus, its disabling, deletion, narrowing or target removal is
  // then judged by the rule (a forwarder's target re-pointed off the bus too, so every PutTargets is read); EnableRule
  // of other rules is still none of mltrail's.
  if (!feedNamed && eventName !== 'DeleteEventBus' && !FORWARDER_CALLS.has(eventName)) return undefined;
  const details: Record<string, unknown> = { trail: name, feed: m.type };
  if (!feedNamed) details.feed_named = false;
  // The bus a rule is on (name or ARN in the request; absent: the default bus, which cannot be deleted).
  const bus = /^(PutRule|PutTargets|RemoveTargets|DeleteRule|DisableRule|EnableRule)$/.test(eventName) ? busName(params.eventBusName) : undefined;
  if (bus) details.event_bus = bus;
  let action = m.action;
  if (m.change) details.feed_change = m.change;
  // PutTargets and RemoveTargets apply target by target: the ids the response lists as failed were not added or
  // removed (`failedEntries`, `{targetId, errorCode, errorMessage}` as CloudTrail logs the API's FailedEntries).
  const failed = eventName === 'PutTargets' || eventName === 'RemoveTargets' ? failedTargets(response) : undefined;
  if (failed?.entries.length) details.feed_targets_failed = failed.entries;
  // More failed than named (the response cut or left out): which targets applied is not known, so none is learned.
  if (failed?.unconfirmed) details.feed_targets_unconfirmed = true;
  const failedIds = new Set(failed?.entries.map((f) => f.id));
  if (eventName === 'RemoveTargets') details.feed_targets_removed = arr(params.ids).filter((x): x is string => typeof x === 'string' && !failedIds.has(x));
  if (eventName === 'PutTargets') details.feed_targets = feedTargets(params.targets, feedNames).filter((t) => !failedIds.has(t.id));
  if (eventName === 'PutRule') {
    // A rule set to DISABLED through PutRule is DisableRule by another name; its pattern is kept so the rule can tell
    // a narrowing (a source it delivered no longer matched) from a widening.
    if (params.state === 'DISABLED') {
      action = 'audit_log.disable';
      details.feed_change = 'disabled the rule';
    }
    const sources = patternSources(params.eventPattern);
    if (sources) details.feed_sources = sources;
    if (typeof params.eventPattern === 'string') details.feed_pattern = params.eventPattern.slice(0, 2000);
  }
  // Deliveries sent elsewhere: the API destination's endpoint, the Firehose stream's HTTP endpoint.
  const endpoint = str(params.invocationEndpoint) ?? str(get(params, 'httpEndpointDestinationUpdate.endpointConfiguration.url'));
  if (endpoint && eventName !== 'CreateApiDestination') details.log_destination = endpoint;
  if (eventName === 'CreateApiDestination' || eventName === 'UpdateApiDestination') {
    // What the destination delivers through, as the request sets it (an update sets only what it names): the rule
    // compares an update with what it learned, so one changing the rate limit or description only is no cut.
    const api = { invocation_endpoint: str(params.invocationEndpoint), connection_arn: str(params.connectionArn), http_method: str(params.httpMethod) };
    const set = Object.fromEntries(Object.entries(api).filter(([, v]) => v !== undefined));
    if (Object.keys(set).length) details.feed_api_destination = set;
  }
  if (eventName === 'UpdateConnection' && (isObj(params.authParameters) || str(params.authorizationType))) details.feed_change = "changed the connection's credentials (mltrail's sender check then refuses what it delivers)";
  if (eventName === 'UpdateDestination' && !endpoint && isObj(params.httpEndpointDestinationUpdate)) {
    const rc = get(params, 'httpEndpointDestinationUpdate.endpointConfiguration');
    if (isObj(rc) && rc.accessKey !== undefined) details.feed_change = "changed the stream's access key (mltrail's sender check then refuses what it delivers)";
  }
  return { stage: 'platform', action, resource: { type: m.type, name }, details };
}
