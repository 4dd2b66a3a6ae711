import type { NormalizedEvent } from '../../schema/index.js';
import { anyGlob, callerText, identityOf, sagemakerScopeOf, scopedName } from '../facts.js';
import { setting, type KindImpl, type RuleContext } from './context.js';

/**
 * Where a trail lives (`<account>:<region>`): its ARN's, else where the call was made. Trail names are unique only in
 * an account and region — every account's console trail is `management-events` — and mltrail reads many accounts.
 */
function trailScope(ev: NormalizedEvent): string | undefined {
  const arn = /^arn:[^:]+:cloudtrail:([^:]+):(\d{12}):trail\//.exec(ev.resource?.id ?? '');
  return arn ? `${arn[2]}:${arn[1]}` : sagemakerScopeOf(ev);
}

/**
 * The audit log mltrail reads being switched off, deleted or narrowed (CloudTrail StopLogging, DeleteTrail,
 * PutEventSelectors): the step before a change nobody is meant to see — poisoning a training bucket whose data
 * events no longer reach the trail. A narrowing counts only when it drops what the ML platform needs: object
 * writes of a listed training/model bucket, or management events (the connector's `unlogged_buckets`,
 * `management_events: false`), a part of such a bucket left out (`excluded_objects`); an UpdateTrail that delivers the
 * log files to another bucket or prefix (the reader's notifications stop) or drops member accounts or other regions;
 * a Cloud Logging sink update exporting elsewhere (`log_destination`) or adding exclusion filters (`log_exclusions`).
 * Widening a trail is not judged.
 */
export const auditTampering: KindImpl = (ev, ctx) => {
  if (ev.outcome === 'failure') return;
  // SageMaker managed MLflow: registered models no longer synced to the Model Registry, or their weights written to
  // a bucket mltrail does not read (judged whatever `actions` says: these are resource.* events).
  if (ev.resource?.type === 'mlflow_tracking_server' || ev.resource?.type === 'mlflow_app') return mlflowServerNarrowed(ev, ctx);
  // Kept from every audit config change (widening ones are no audit_log.* action): what still logs after this one.
  const configs = learnAuditConfigs(ev, ctx);
  // A rule feed_names does not name is mltrail's feed only while it forwards to mltrail's bus (see forwarderOf):
  // nothing of any other rule is learned or judged.
  const forwardsTo = ev.resource?.type === 'eventbridge_rule' && ev.details?.feed_named === false ? forwarderOf(ev, ctx) : undefined;
  if (ev.resource?.type === 'eventbridge_rule' && ev.details?.feed_named === false && !forwardsTo?.length) return;
  // An EventBridge feed rule's pattern as last seen (PutRule): what it delivered before this change.
  const droppedSources = learnFeedSources(ev, ctx, forwardsTo);
  // And the rest of that pattern (detail-type, detail.eventSource / eventName…): one the earlier one did not allow.
  const narrowedPattern = learnFeedPattern(ev, ctx, forwardsTo);
  // An EventBridge feed rule's targets as last seen (PutTargets, RemoveTargets): a target re-pointed away from mltrail,
  // or removed while it delivered to mltrail (or never seen added).
  const { repointed, removed, unconfirmed } = learnFeedTargets(ev, ctx);
  // mltrail's API destination as last set (CreateApiDestination, UpdateApiDestination): what an update changed.
  const apiDest = learnApiDestination(ev, ctx);
  // The custom buses feed rules were seen on: a bus deleted takes them with it, whatever its name.
  const busRules = learnFeedBuses(ev, ctx);
  if (!anyGlob(setting(ctx, 'actions'), ev.action)) return;
  // RemoveTargets of targets known to deliver elsewhere (a dead-letter copy, a log group): mltrail's target stays.
  if (removed && !removed.cut.length && !removed.unknown.length) return;
  // A bus feed_names does not name: mltrail's only when a feed rule was seen on it.
  if (ev.resource?.type === 'eventbridge_bus' && ev.details?.feed_named === false && !busRules?.length) return;
  const identity = identityOf(ev.actor, ctx.cfg);
  if (identity && anyGlob(setting<string[]>(ctx, 'exempt'), identity)) return;
  const d = ev.details ?? {};
  const unlogged = Array.isArray(d.unlogged_buckets) ? d.unlogged_buckets.filter((b): b is string => typeof b === 'string') : [];
  const excluded = Array.isArray(d.excluded_objects) ? d.excluded_objects.filter((b): b is string => typeof b === 'string') : [];
  const noManagement = d.management_events === false;
  // UpdateTrail: log files sent elsewhere than the reader was set up on, or member accounts / other regions dropped.
  const logBucket = typeof d.log_bucket === 'string' ? d.log_bucket : undefined;
  const logPrefix = typeof d.log_prefix === 'string' ? d.log_prefix : undefined;
  const narrowed = [d.organization_trail === false ? "stopped logging the organization's member accounts" : undefined, d.multi_region === false ? 'stopped logging other regions' : undefined].filter((x): x is string => !!x);
  // A Cloud Logging sink's UpdateSink: entries exported elsewhere, or left out by exclusion filters. An API
  // destination's endpoint counts only when the update changed it (or what it was is not known).
  const apiEndpointKept = ev.resource?.type === 'eventbridge_api_destination' && !!apiDest && !apiDest.changes.some((c) => c.field === 'invocation_endpoint');
  const sinkDestination = typeof d.log_destination === 'string' && !apiEndpointKept ? d.log_destination : undefined;
  const sinkExclusions = Array.isArray(d.log_exclusions) ? d.log_exclusions.filter((f): f is string => typeof f === 'string') : [];
  const redirected = logBucket !== undefined || logPrefix !== undefined ? `sent its log files to ${logBucket !== undefined ? `bucket ${logBucket}` : 'the same bucket'}${logPrefix !== undefined ? ` under prefix '${logPrefix}'` : ''}`
    : sinkDestination !== undefined ? `sent its entries to ${sinkDestination}` : undefined;
  if (sinkExclusions.length) narrowed.push(`stopped exporting entries matching ${sinkExclusions.map((f) => `'${f}'`).join(', ')}`);
  // An IAM policy's auditConfigs (Google Cloud): Data Access log types switched off, identities exempted from them.
  // A log type removed from a service is still logged while allServices logs it (or, removed from allServices, while
  // each watched service has its own): judged by what earlier changes of the same project, folder or organization set.
  // None seen: the delta alone says it is off (allServices set before mltrail read the log may still log it).
  const offInDelta = auditConfigEntries(d.audit_logs_off);
  const logsOff = configs?.seen ? offInDelta.filter((c) => !stillLogged(configs.now, c)) : offInDelta;
  const exemptions = auditConfigEntries(d.audit_exemptions);
  if (logsOff.length) narrowed.push(`stopped audit logging of ${logsOff.map((c) => `${c.log_type} on ${c.service}`).join(', ')}`);
  // One of mltrail's own feeds (EventBridge rule, API destination, connection, Firehose stream, Pub/Sub subscription).
  const feedChange = typeof d.feed_change === 'string' ? d.feed_change : undefined;
  if (feedChange && ev.action === 'audit_log.update') narrowed.push(feedChange);
  for (const c of apiDest?.changes ?? []) {
    if (c.field === 'invocation_endpoint') continue;
    const what = c.field === 'connection_arn' ? 'connection' : 'HTTP method';
    narrowed.push(c.was !== undefined ? `changed its ${what} to ${c.now} (was ${c.was})` : `set its ${what} to ${c.now} (what it was is not known)`);
  }
  if (droppedSources.length) narrowed.push(`stopped delivering events of ${droppedSources.join(', ')}`);
  for (const t of repointed) narrowed.push(`pointed target ${t.id} at ${t.arn}${t.was ? `, not ${t.was}` : ", not one of mltrail's feeds"}`);
  if (narrowedPattern) narrowed.push(`narrowed what its event pattern matches besides its sources (${narrowedPattern})`);
  if (exemptions.length) narrowed.push(`exempted ${exemptions.map((c) => `${c.member} from ${c.log_type} logging on ${c.service}`).join(', ')}`);
  if (ev.action === 'audit_log.update' && !unlogged.length && !excluded.length && !noManagement && !redirected && !narrowed.length) return;
  const trail = typeof d.trail === 'string' ? d.trail : (ev.resource?.name ?? ev.resource?.id ?? 'unknown');
  const removedText = removed ? [
    ...removed.cut.map((t) => `removed its target ${t.id} (delivering to ${t.arn})`),
    ...removed.unknown.map((id) => `removed its target ${id} (never seen added: whether it delivered to mltrail is not known)`),
  ].join(' and ') : undefined;
  const what =
    ev.action === 'audit_log.disable' ? (removedText ?? feedChange ?? 'stopped logging')
      : ev.action === 'audit_log.delete' ? `deleted the ${DELETED[ev.resource?.type ?? ''] ?? 'trail'}${busRules?.length ? ` (it held ${busRules.join(', ')})` : ''}`
        : [
          unlogged.length ? `stopped logging object writes of ${unlogged.join(', ')}` : undefined,
          excluded.length ? `stopped logging object writes of ${excluded.join(', ')}` : undefined,
          noManagement ? 'stopped logging management events' : undefined,
          redirected,
          ...narrowed,
        ].filter(Boolean).join(' and ');
  ctx.detect({
    entity: { type: 'audit_log', id: scopedName(trail, trailScope(ev)), name: trail, platform: ev.platform }, key: `${ev.action}|${unlogged.join(',')}|${noManagement}${excluded.length ? `|${excluded.join(',')}` : ''}${redirected ? `|${sinkDestination ?? `${logBucket ?? ''}/${logPrefix ?? ''}`}` : ''}${narrowed.length ? `|${narrowed.join(',')}` : ''}${feedChange && ev.action !== 'audit_log.update' ? `|${feedChange}` : ''}`, evidence: [ev.id], title: 'Audit log switched off or narrowed',
    summary: `${callerText(ev.actor, ctx.cfg)} ${what} on ${trail}${forwardsTo?.length ? ` (forwarding to mltrail's event bus ${forwardsTo.join(', ')})` : ''} (${ev.operation}): what follows is not recorded${logsOff.length && !configs?.seen ? ` (no earlier audit config change of ${trail} seen: an allServices config set before may still log it)` : ''}`,
    details: { identity, trail, operation: ev.operation, action: ev.action, unlogged_buckets: unlogged.length ? unlogged : undefined, management_events: noManagement ? false : undefined,
      excluded_objects: excluded.length ? excluded : undefined, log_bucket: logBucket, log_prefix: logPrefix,
      organization_trail: d.organization_trail === false ? false : undefined, multi_region: d.multi_region === false ? false : undefined,
      log_destination: sinkDestination, log_exclusions: sinkExclusions.length ? sinkExclusions : undefined,
      audit_logs_off: logsOff.length ? logsOff : undefined, audit_exemptions: exemptions.length ? exemptions : undefined,
      audit_config_seen: logsOff.length ? !!configs?.seen : undefined,
      feed: typeof d.feed === 'string' ? d.feed : undefined, feed_change: feedChange, feed_sources_dropped: droppedSources.length ? droppedSources : undefined,
      feed_targets_repointed: repointed.length ? repointed : undefined, feed_pattern_narrowed: narrowedPattern,
      feed_targets_cut: removed?.cut.length ? removed.cut : undefined, feed_targets_unknown: removed?.unknown.length ? removed.unknown : undefined,
      feed_api_destination_changes: apiDest?.changes.length && ev.action === 'audit_log.update' ? apiDest.changes : undefined,
      feed_previous_seen: apiDest?.changes.length && ev.action === 'audit_log.update' ? apiDest.seen : undefined,
      feed_rules: busRules?.length ? busRules : undefined, feed_forwards_to: forwardsTo?.length ? forwardsTo : undefined,
      feed_targets_failed: Array.isArray(d.feed_targets_failed) && d.feed_targets_failed.length ? d.feed_targets_failed : undefined,
      feed_targets_unconfirmed: unconfirmed || undefined },
  });
};

/** What is known of a SageMaker managed MLflow server (tracking server or App): its artifact store and registration. */
interface MlflowServerSeen { store?: string; registration?: 'enabled' | 'disabled' }

/**
 * A SageMaker managed MLflow tracking server or App updated so that what it registers escapes what mltrail watches:
 * automatic model registration turned off (`details.model_registration` `disabled`: models registered in MLflow no
 * longer become Model Registry packages, whose approvals the registry rules and the SageMaker approval workflow
 * judge), or its artifact store moved to a bucket neither `model_buckets` nor `training_buckets` lists (the
 * connector's `details.artifact_store_unwatched`: the weights of models registered from then on are written where
 * their S3 events are not read, so an overwrite of them is never seen — as a trail no longer logging a model bucket).
 * Judged against what Create/Update calls set before (kept per server; a delete forgets it): turning off what was
 * already off, or re-sending the same store, is none; nothing known, the update alone is judged
 * (`details.previous_seen: false`). A creation sets, it does not narrow: learned, not judged.
 */
function mlflowServerNarrowed(ev: NormalizedEvent, ctx: RuleContext): void {
  const d = ev.details ?? {};
  const id = ev.resource?.id ?? ev.resource?.name;
  if (!id) return;
  const key = `mlflowsrv|${scopedName(id, id.startsWith('arn:') ? undefined : sagemakerScopeOf(ev))}`;
  if (ev.action === 'resource.delete') {
    ctx.delete(key);
    return;
  }
  if (ev.action !== 'resource.create' && ev.action !== 'resource.update') return;
  const store = typeof d.artifact_store_uri === 'string' ? d.artifact_store_uri : undefined;
  const registration = d.model_registration === 'enabled' || d.model_registration === 'disabled' ? d.model_registration : undefined;
  if (!store && !registration) return;
  const before = ctx.get<MlflowServerSeen>(key);
  ctx.set(key, { ...before, ...(store ? { store } : {}), ...(registration ? { registration } : {}) } satisfies MlflowServerSeen);
  if (ev.action !== 'resource.update') return;
  const registrationOff = registration === 'disabled' && before?.registration !== 'disabled';
  const storeMoved = !!store && d.artifact_store_unwatched === true && before?.store !== store;
  if (!registrationOff && !storeMoved) return;
  const identity = identityOf(ev.actor, ctx.cfg);
  if (identity && anyGlob(setting<string[]>(ctx, 'exempt'), identity)) return;
  const name = ev.resource?.name ?? id;
  const what = [
    registrationOff ? `turned off automatic model registration${before?.registration ? '' : ' (whether it was on is not known)'}: models registered in its MLflow no longer become SageMaker Model Registry packages` : undefined,
    storeMoved ? `moved its artifact store to ${store}${before?.store ? ` (was ${before.store})` : ''}, a bucket neither model_buckets nor training_buckets lists: the weights of the models registered from now on are written where mltrail does not read` : undefined,
  ].filter(Boolean).join(' and ');
  ctx.detect({
    entity: { type: 'audit_log', id: key.slice('mlflowsrv|'.length), name, platform: ev.platform },
    key: `mlflow|${registrationOff ? 'registration' : ''}|${storeMoved ? store : ''}`, evidence: [ev.id], title: 'MLflow server no longer watched',
    summary: `${callerText(ev.actor, ctx.cfg)} ${what} on MLflow ${ev.resource?.type === 'mlflow_app' ? 'App' : 'tracking server'} ${name} (${ev.operation})`,
    details: {
      identity, trail: name, operation: ev.operation, action: ev.action, mlflow_server: id,
      model_registration: registrationOff ? { was: before?.registration, now: 'disabled' } : undefined,
      artifact_store: storeMoved ? { was: before?.store, now: store } : undefined,
      previous_seen: !!before,
    },
  });
}

/** What a delete removed, by the event's resource type (default: a CloudTrail trail). */
const DELETED: Record<string, string> = {
  logging_sink: 'log sink',
  eventbridge_rule: 'EventBridge rule delivering to mltrail',
  eventbridge_api_destination: 'EventBridge API destination delivering to mltrail',
  eventbridge_connection: "EventBridge connection of mltrail's API destination",
  eventbridge_bus: "EventBridge event bus of mltrail's rule",
  firehose_stream: 'Firehose stream delivering to mltrail',
  pubsub_subscription: 'Pub/Sub subscription delivering to mltrail',
  pubsub_topic: "Pub/Sub topic of mltrail's log sink",
  mlflow_webhook: 'MLflow webhook delivering to mltrail',
};

/** An EventBridge event bus ARN (region, account, name), as a target of a rule forwarding to another bus. */
const BUS_ARN = /^arn:aws[a-z-]*:events:([a-z0-9-]+):(\d{12}):event-bus\/(.+)$/;

/** One piece of a feed rule's learned state (targets, pattern sources, pattern), read and written through feedRuleSlot. */
interface Slot<T> { get(): T | undefined; set(v: T): void; delete(): void }

/**
 * Where what is learned of an EventBridge rule is kept: per account, region, event bus and rule name (rule names are
 * unique only on a bus: `sagemaker-to-mltrail` on the default bus and on `ml-events` are two rules). An older mltrail
 * kept it by account, region and name alone (`<kind>|<account>:<region>:<name>`): that state is still read for the
 * default bus, or for a custom bus the rule was seen on (`feedbus|…`, where it may have come from), while nothing is
 * kept under the bus yet, and moves to the bus the first time it is read and written again (so the first of two
 * same-named rules to change takes what the older key held; the other starts unlearned).
 */
function feedRuleSlot<T>(ev: NormalizedEvent, ctx: RuleContext, kind: 'feedtgt' | 'feedsrc' | 'feedpat'): Slot<T> | undefined {
  const d = ev.details ?? {};
  const name = typeof d.trail === 'string' ? d.trail : ev.resource?.name;
  if (!name) return undefined;
  const scope = sagemakerScopeOf(ev);
  const bus = typeof d.event_bus === 'string' ? d.event_bus : 'default';
  // Rule names have no `/` (bus names may: partner buses), so `<bus>/<name>` names one rule.
  const key = `${kind}|${scopedName(`${bus}/${name}`, scope)}`;
  const legacy = `${kind}|${scopedName(name, scope)}`;
  const legacyMay = () => bus === 'default' || (ctx.get<string[]>(`feedbus|${scopedName(bus, scope)}`) ?? []).includes(name);
  let took = false;
  return {
    get: () => {
      const v = ctx.get<T>(key);
      if (v !== undefined || !legacyMay()) return v;
      const old = ctx.get<T>(legacy);
      took = old !== undefined;
      return old;
    },
    set: (v) => {
      ctx.set(key, v);
      if (took) ctx.delete(legacy);
    },
    delete: () => {
      ctx.delete(key);
      // Forgotten rather than left to another rule of the name: a target then unknown is still reported when removed.
      if (took || legacyMay()) ctx.delete(legacy);
    },
  };
}

/**
 * Whether a target ARN is an event bus mltrail's feed rules were seen on (`feedbus|…` of its account and region): a
 * rule delivering there forwards to mltrail. A bus `feed_names` names is marked `to_feed` by the connector already.
 */
function feedBusTarget(arn: string, ctx: RuleContext): boolean {
  const m = BUS_ARN.exec(arn);
  return !!m && !!ctx.get<string[]>(`feedbus|${m[2]}:${m[1]}:${m[3]}`)?.length;
}

/**
 * The event buses an EventBridge rule `feed_names` does not name forwards to, where they are mltrail's (a bus
 * `feed_names` names, or one mltrail's feed rules were seen on): the rule is then part of mltrail's feed — a rule on the
 * default bus sending to mltrail's custom bus, whose disabling, deletion, narrowing or target removal cuts the feed
 * as surely as the feed rule's own. Learned from its PutTargets (targets as kept by learnFeedTargets); a PutTargets
 * adding such a target makes it one. Empty for any other rule.
 */
function forwarderOf(ev: NormalizedEvent, ctx: RuleContext): string[] {
  if (ev.outcome === 'failure') return [];
  const known = feedRuleSlot<Record<string, LearnedTarget>>(ev, ctx, 'feedtgt')?.get() ?? {};
  const out = new Set(Object.values(known).filter((t) => t.to_feed).map((t) => t.arn));
  const now = ev.details?.feed_targets;
  if (Array.isArray(now)) {
    for (const t of now as Array<{ arn?: unknown; to_feed?: unknown }>) {
      if (t && typeof t.arn === 'string' && BUS_ARN.test(t.arn) && (t.to_feed === true || feedBusTarget(t.arn, ctx))) out.add(t.arn);
    }
  }
  return [...out];
}

/**
 * The sources mltrail's connector reads when nothing else tells what a bus should carry: those of the pattern the
 * README's EventBridge setup gives mltrail's rule.
 */
const FEED_SOURCES = ['aws.sagemaker', 'aws.s3', 'aws.cloudtrail', 'aws.events', 'aws.firehose'];

/**
 * Whether an EventBridge detail-type is one mltrail's connector reads: CloudTrail records (`AWS API Call via
 * CloudTrail`, `AWS Service Event via CloudTrail`…), SageMaker's own state-change events, S3's `Object Created`.
 */
function feedDetailType(t: string): boolean {
  return /via CloudTrail$/.test(t) || /^SageMaker .+ (State|Status) Change$/.test(t) || t === 'Object Created';
}

/**
 * What a forwarding rule's first pattern is judged against (nothing learned of the rule since it began to forward:
 * as a plain rule nothing of it is kept): the sources the feed rules seen on the buses it forwards to match (their
 * learned patterns), else the sources mltrail's connector reads (FEED_SOURCES).
 */
function expectedSources(forwardsTo: readonly string[], ctx: RuleContext): string[] {
  const out = new Set<string>();
  for (const arn of forwardsTo) {
    const m = BUS_ARN.exec(arn);
    if (!m) continue;
    const scope = `${m[2]}:${m[1]}`;
    for (const rule of ctx.get<string[]>(`feedbus|${scope}:${m[3]}`) ?? []) {
      for (const s of ctx.get<string[]>(`feedsrc|${scope}:${m[3]}/${rule}`) ?? []) out.add(s);
    }
  }
  return out.size ? [...out] : FEED_SOURCES;
}

/** An event pattern's `source` matchers, or undefined when it has none; a matcher that is no plain string (prefix, anything-but…) may match any source. */
function patternSourceList(text: unknown): { names: string[]; open: boolean } | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const p: unknown = JSON.parse(text);
    const s = p && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>).source : undefined;
    if (!Array.isArray(s)) return undefined;
    return { names: s.filter((x): x is string => typeof x === 'string'), open: s.some((x) => typeof x !== 'string') };
  } catch {
    return undefined;
  }
}

/**
 * A feed rule's event pattern sources (`details.feed_sources`, PutRule) are kept per rule (account, region, bus, name);
 * returns the sources the previous pattern seen matched and this one no longer does. None seen before: a feed rule's
 * first pattern is not judged (it is how mltrail was set up); a forwarding rule's (`forwardsTo`, the buses it forwards
 * to: it became part of the feed by a PutTargets, and this PutRule is the first seen since) is judged against what
 * those buses' feed rules read (else the connector's sources): a pattern matching none of them delivers nothing mltrail
 * reads, and those are returned. One matching some of them is not judged: another rule may forward the rest. A failed
 * call changes nothing.
 */
function learnFeedSources(ev: NormalizedEvent, ctx: RuleContext, forwardsTo?: readonly string[]): string[] {
  const now = ev.details?.feed_sources;
  if (ev.outcome === 'failure' || !Array.isArray(now) || ev.resource?.type !== 'eventbridge_rule') return [];
  const slot = feedRuleSlot<string[]>(ev, ctx, 'feedsrc');
  if (!slot) return [];
  const before = slot.get();
  const sources = now.filter((x): x is string => typeof x === 'string');
  slot.set(sources);
  if (before) return before.filter((x) => !sources.includes(x));
  if (!forwardsTo?.length) return [];
  const list = patternSourceList(ev.details?.feed_pattern);
  if (!list || list.open) return [];
  const expected = expectedSources(forwardsTo, ctx);
  return expected.some((x) => list.names.includes(x)) ? [] : expected;
}

interface LearnedTarget { arn: string; to_feed: boolean }
/** A target moved off mltrail: its id, the ARN it delivers to now, the feed ARN it delivered to (when seen). */
interface Repointed { id: string; arn: string; was?: string }
/** A RemoveTargets as judged: targets last seen delivering to mltrail (`cut`), ids never seen added (`unknown`). */
interface Removed { cut: Array<{ id: string; arn: string }>; unknown: string[] }

/**
 * A feed rule's targets (`details.feed_targets` of PutTargets, by id: PutTargets adds or replaces by id; those its
 * response names failed are not in it) kept per rule (account, region, bus, name); RemoveTargets forgets the ids it removes, DeleteRule the rule. Returns the targets this
 * PutTargets moved off mltrail: an id last seen delivering to one of mltrail's feeds now delivering elsewhere, or,
 * never seen, an id named as mltrail's (`id_named`, the README's `mltrail`) delivering elsewhere. A target added
 * beside mltrail's (a dead-letter queue, a log group) cuts nothing: not returned. For a RemoveTargets, `removed`: the
 * ids last seen delivering to one of mltrail's feeds, and those never seen added (PutTargets made before mltrail read
 * the trail: what they delivered to is not known, so their removal is still reported); an id last seen delivering
 * elsewhere is in neither.
 */
function learnFeedTargets(ev: NormalizedEvent, ctx: RuleContext): { repointed: Repointed[]; removed?: Removed; unconfirmed?: boolean } {
  if (ev.outcome === 'failure' || ev.resource?.type !== 'eventbridge_rule') return { repointed: [] };
  const d = ev.details ?? {};
  const slot = feedRuleSlot<Record<string, LearnedTarget>>(ev, ctx, 'feedtgt');
  if (!slot) return { repointed: [] };
  if (ev.action === 'audit_log.delete') {
    slot.delete();
    return { repointed: [] };
  }
  const before = slot.get();
  // Some targets failed and the response does not name them all: which applied is not known. The call is judged
  // (a re-pointing that may have applied is reported), nothing of it is learned.
  const unconfirmed = d.feed_targets_unconfirmed === true;
  if (Array.isArray(d.feed_targets_removed)) {
    const removed: Removed = { cut: [], unknown: [] };
    const next = { ...before };
    for (const id of d.feed_targets_removed) {
      if (typeof id !== 'string') continue;
      const was = before?.[id];
      if (!was) removed.unknown.push(id);
      else if (was.to_feed) removed.cut.push({ id, arn: was.arn });
      delete next[id];
    }
    if (before && !unconfirmed) {
      if (Object.keys(next).length) slot.set(next);
      else slot.delete();
    }
    return { repointed: [], removed, unconfirmed };
  }
  if (!Array.isArray(d.feed_targets)) return { repointed: [] };
  const next: Record<string, LearnedTarget> = { ...before };
  const out: Repointed[] = [];
  for (const t of d.feed_targets) {
    if (!t || typeof t !== 'object') continue;
    const { id, arn, to_feed: toFeed, id_named: idNamed } = t as { id?: unknown; arn?: unknown; to_feed?: unknown; id_named?: unknown };
    if (typeof id !== 'string' || typeof arn !== 'string') continue;
    const was = before?.[id];
    // A bus whose rules deliver to mltrail (a rule forwarding to it) is one of mltrail's feeds, whatever its name.
    const feed = toFeed === true || feedBusTarget(arn, ctx);
    if (!feed && (was ? was.to_feed : idNamed === true)) out.push({ id, arn, was: was?.arn });
    next[id] = { arn, to_feed: feed };
  }
  // EventBridge allows 5 targets a rule: a bound against a malformed stream, not a limit met in practice.
  const ids = Object.keys(next);
  for (const id of ids.slice(0, Math.max(0, ids.length - 20))) delete next[id];
  if (!unconfirmed) slot.set(next);
  return { repointed: out, unconfirmed };
}

type ApiDestination = Partial<Record<'invocation_endpoint' | 'connection_arn' | 'http_method', string>>;
/** A field of mltrail's API destination an update changed: its value before (absent: not known) and now. */
interface ApiChange { field: keyof ApiDestination; was?: string; now: string }

/**
 * mltrail's API destination as last set (`details.feed_api_destination` of CreateApiDestination and
 * UpdateApiDestination: endpoint, connection, HTTP method), kept per destination (account, region, name);
 * DeleteApiDestination forgets it. For an update: the fields it set to another value than the one known (`seen`),
 * or, nothing known, every one it names (`seen: false`: an update only changing the rate limit or description names
 * none). Undefined for other events.
 */
function learnApiDestination(ev: NormalizedEvent, ctx: RuleContext): { changes: ApiChange[]; seen: boolean } | undefined {
  if (ev.outcome === 'failure' || ev.resource?.type !== 'eventbridge_api_destination') return undefined;
  const name = typeof ev.details?.trail === 'string' ? ev.details.trail : ev.resource?.name;
  if (!name) return undefined;
  const key = `feedapi|${scopedName(name, sagemakerScopeOf(ev))}`;
  if (ev.action === 'audit_log.delete') {
    ctx.delete(key);
    return undefined;
  }
  const raw = ev.details?.feed_api_destination;
  const set: ApiDestination = {};
  if (raw && typeof raw === 'object') {
    for (const f of ['invocation_endpoint', 'connection_arn', 'http_method'] as const) {
      const v = (raw as Record<string, unknown>)[f];
      if (typeof v === 'string' && v) set[f] = v;
    }
  }
  const before = ctx.get<ApiDestination>(key);
  if (Object.keys(set).length) ctx.set(key, { ...before, ...set });
  if (ev.action === 'audit_log.create') return { changes: [], seen: !!before };
  const changes: ApiChange[] = [];
  for (const [f, now] of Object.entries(set) as Array<[keyof ApiDestination, string]>) {
    const was = before?.[f];
    // The method as AWS keeps it (upper case); endpoints and ARNs as written.
    if (was === undefined || (f === 'http_method' ? was.toUpperCase() !== now.toUpperCase() : was !== now)) changes.push({ field: f, ...(was !== undefined ? { was } : {}), now });
  }
  return { changes, seen: !!before };
}

/**
 * The custom buses feed rules were seen on (`details.event_bus` of a feed rule's PutRule, PutTargets, …), kept per bus
 * (account, region, name) as the rules' names (at most 20 a bus); DeleteRule on the bus forgets its rule. For a
 * DeleteEventBus: the feed rules seen on that bus (forgotten with it), undefined for other events.
 */
function learnFeedBuses(ev: NormalizedEvent, ctx: RuleContext): string[] | undefined {
  const type = ev.resource?.type;
  if (ev.outcome === 'failure' || (type !== 'eventbridge_bus' && type !== 'eventbridge_rule')) return undefined;
  const d = ev.details ?? {};
  const scope = sagemakerScopeOf(ev);
  if (ev.resource?.type === 'eventbridge_bus' && ev.action === 'audit_log.delete') {
    const bus = typeof d.trail === 'string' ? d.trail : ev.resource.name;
    if (!bus) return undefined;
    const key = `feedbus|${scopedName(bus, scope)}`;
    const rules = ctx.get<string[]>(key);
    ctx.delete(key);
    return rules;
  }
  if (ev.resource?.type !== 'eventbridge_rule' || typeof d.event_bus !== 'string') return undefined;
  const rule = typeof d.trail === 'string' ? d.trail : ev.resource.name;
  if (!rule) return undefined;
  const key = `feedbus|${scopedName(d.event_bus, scope)}`;
  const before = ctx.get<string[]>(key) ?? [];
  if (ev.action === 'audit_log.delete') {
    const next = before.filter((r) => r !== rule);
    if (next.length !== before.length) {
      if (next.length) ctx.set(key, next);
      else ctx.delete(key);
    }
  } else if (!before.includes(rule)) ctx.set(key, [...before, rule].slice(-20));
  return undefined;
}

/**
 * A PutRule of a feed rule whose pattern, leaving its `source` aside, may match less than the one seen before it
 * (`{"source": ["aws.sagemaker"], "detail-type": ["None"]}` keeps the source and delivers nothing): the fields it
 * added or narrowed, undefined when it only widened or kept them (or no earlier pattern, or an unreadable one, was seen).
 * A forwarding rule's first pattern seen (`forwardsTo`) is judged on its `detail-type` alone: a list naming no
 * detail-type mltrail reads (feedDetailType; a matcher that is no plain string may match one) delivers nothing.
 */
function learnFeedPattern(ev: NormalizedEvent, ctx: RuleContext, forwardsTo?: readonly string[]): string | undefined {
  const text = ev.details?.feed_pattern;
  if (ev.outcome === 'failure' || typeof text !== 'string' || ev.resource?.type !== 'eventbridge_rule') return undefined;
  const slot = feedRuleSlot<Record<string, unknown>>(ev, ctx, 'feedpat');
  if (!slot) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Cut at 2000 characters or not JSON: nothing to compare with, this change or the next.
    slot.delete();
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const { source: _source, ...rest } = parsed as Record<string, unknown>;
  const before = slot.get();
  slot.set(rest);
  if (!before) {
    const types = rest['detail-type'];
    if (!forwardsTo?.length || !Array.isArray(types) || types.some((t) => typeof t !== 'string' || feedDetailType(t))) return undefined;
    return 'detail-type matches nothing mltrail reads';
  }
  const narrower = narrowedFields(before, rest, '');
  return narrower.length ? narrower.join(', ') : undefined;
}

/**
 * The fields of EventBridge pattern `after` that may match less than `before`: one `before` did not filter on, a list
 * of values losing one of `before`'s, any other change of a value. Empty when `after` matches all `before` did.
 */
function narrowedFields(before: Record<string, unknown>, after: Record<string, unknown>, at: string): string[] {
  const out: string[] = [];
  for (const [k, a] of Object.entries(after)) {
    const path = `${at}${k}`;
    const b = before[k];
    if (b === undefined) out.push(`${path} added`);
    else if (Array.isArray(a) && Array.isArray(b)) {
      const have = new Set(a.map((x) => JSON.stringify(x)));
      if (b.some((x) => !have.has(JSON.stringify(x)))) out.push(`${path} lost values`);
    } else if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
      out.push(...narrowedFields(b as Record<string, unknown>, a as Record<string, unknown>, `${path}.`));
    } else if (JSON.stringify(a) !== JSON.stringify(b)) out.push(`${path} changed`);
  }
  return out;
}

interface AuditConfigEntry { service: string; log_type: string; member?: string }

/** `details.audit_logs_off` / `audit_exemptions` as the Vertex connector writes them (`{ service, log_type[, member] }`). */
function auditConfigEntries(v: unknown): AuditConfigEntry[] {
  if (!Array.isArray(v)) return [];
  return v.filter((x): x is AuditConfigEntry => !!x && typeof x === 'object' && typeof (x as AuditConfigEntry).service === 'string' && typeof (x as AuditConfigEntry).log_type === 'string');
}

/** The watched services' Data Access log types a project, folder or organization logs, as `service|LOG_TYPE`. */
const WATCHED = ['aiplatform.googleapis.com', 'storage.googleapis.com'];

/**
 * Applies an IAM policy's audit config changes (`details.audit_config_deltas`, `audit_config_of`) to what is known of
 * that resource's configs: `now` after them, `seen` when an earlier change of it was known. Exemptions are not kept.
 */
function learnAuditConfigs(ev: NormalizedEvent, ctx: RuleContext): { now: Set<string>; seen: boolean } | undefined {
  const where = ev.details?.audit_config_of;
  const deltas = auditConfigEntries(ev.details?.audit_config_deltas) as (AuditConfigEntry & { action?: unknown })[];
  if (typeof where !== 'string' || !deltas.length) return undefined;
  const key = `auditcfg|${where}`;
  const before = ctx.get<string[]>(key);
  const now = new Set(before ?? []);
  for (const c of deltas) {
    if (c.member) continue;
    if (c.action === 'ADD') now.add(`${c.service}|${c.log_type}`);
    else if (c.action === 'REMOVE') now.delete(`${c.service}|${c.log_type}`);
  }
  ctx.set(key, [...now]);
  return { now, seen: before !== undefined };
}

/** Whether a log type switched off on a service is still logged by what is known (allServices is unioned with each). */
function stillLogged(now: Set<string>, c: AuditConfigEntry): boolean {
  return c.service === 'allServices' ? WATCHED.every((s) => now.has(`${s}|${c.log_type}`)) : now.has(`allServices|${c.log_type}`) || now.has(`${c.service}|${c.log_type}`);
}
