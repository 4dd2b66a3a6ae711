import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig, createRuleEngine } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { MemoryStateStore } from '../../core/state/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * platform.audit_log_tampering on mltrail's EventBridge feed, the rule's learned state by event bus:
 * - targets and patterns were kept by rule name alone, so the same rule name on the default bus and on a custom bus
 *   mixed up (mltrail's target removed from the default-bus rule after a same-named rule elsewhere re-used its id for
 *   a log group passed); they are now kept by bus and name, the older keys still read;
 * - a rule of another name forwarding the default bus to mltrail's custom bus (target `arn:…:event-bus/<bus>`) was
 *   never read: its disabling, deletion or target removal cut the feed unseen;
 * - a PutTargets whose response lists failed entries was learned whole: a failed re-pointing became the target known.
 * Request and response fields as CloudTrail logs the EventBridge API's (lower camel case: `failedEntryCount`,
 * `failedEntries: [{targetId, errorCode, errorMessage}]`).
 */

let n = 0;
function events(eventName: string, params: Record<string, unknown>, extra: Record<string, unknown> = {}): NormalizedEvent {
  n++;
  return normOne(ctRecord(eventName, params, { eventSource: 'events.amazonaws.com', eventID: `fb-${n}`, eventTime: new Date(Date.parse('2026-11-27T11:00:00Z') + n * 60_000).toISOString().replace('.000Z', 'Z'), ...extra }));
}
const alerts = (evs: NormalizedEvent[]): Alert[] => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'platform.audit_log_tampering');

const RULE = 'sagemaker-to-mltrail';
const APIDEST = 'arn:aws:events:us-east-1:111122223333:api-destination/mltrail/8b1e1f9c-3c52-4a59-9e0f-0f3b2c7e1a11';
const LOGS = 'arn:aws:logs:us-east-1:111122223333:log-group:/aws/events/ml';
const LAMBDA = 'arn:aws:lambda:us-east-1:111122223333:function:nightly';
const putTargets = (rule: string, targets: Array<Record<string, unknown>>, bus?: string, extra: Record<string, unknown> = {}) => events('PutTargets', { rule, ...(bus ? { eventBusName: bus } : {}), targets }, extra);
const removeTargets = (rule: string, ids: string[], bus?: string, extra: Record<string, unknown> = {}) => events('RemoveTargets', { rule, ...(bus ? { eventBusName: bus } : {}), ids, force: false }, extra);
const putRule = (rule: string, sources: string[], bus?: string) => events('PutRule', { name: rule, ...(bus ? { eventBusName: bus } : {}), eventPattern: JSON.stringify({ source: sources }), state: 'ENABLED' });

describe('feed rules of one name on two buses are two rules', () => {
  it("mltrail's target removed from the default-bus rule alerts, though a same-named rule on another bus re-used its id for a log group", () => {
    const mine = putTargets(RULE, [{ id: 'mltrail', arn: APIDEST }]);
    const other = putTargets(RULE, [{ id: 'mltrail', arn: LOGS }], 'ml-events');
    const cut = removeTargets(RULE, ['mltrail']);
    const a = alerts([mine, other, cut]);
    // The other bus's rule: an id named as mltrail's never seen there delivering to a log group (as before).
    expect(a.map((x) => [x.evidence, x.details.feed_targets_cut ?? null])).toEqual([[[other.id], null], [[cut.id], [{ id: 'mltrail', arn: APIDEST }]]]);
    // That rule's own removal of its log group cuts nothing.
    expect(alerts([mine, other, removeTargets(RULE, ['mltrail'], 'ml-events')]).map((x) => x.evidence)).toEqual([[other.id]]);
  });

  it("a pattern dropping a source is judged against the same bus's earlier pattern, not another bus's rule of the name", () => {
    const a = alerts([putRule(RULE, ['aws.sagemaker', 'aws.s3']), putRule(RULE, ['aws.sagemaker'], 'ml-events'), putRule(RULE, ['aws.sagemaker'])]);
    expect(a.map((x) => [x.details.feed_sources_dropped, x.details.trail])).toEqual([[['aws.s3'], RULE]]);
    // And the custom bus's rule widened back: nothing.
    expect(alerts([putRule(RULE, ['aws.sagemaker', 'aws.s3']), putRule(RULE, ['aws.sagemaker'], 'ml-events'), putRule(RULE, ['aws.sagemaker', 'aws.s3'], 'ml-events')])).toEqual([]);
  });
});

describe('state kept by rule name alone (the version before this one) is still read', () => {
  // As that version wrote it for PutRule {source: [aws.sagemaker, aws.s3]} and PutTargets mltrail → the API destination on
  // the default bus, and a PutRule of the same name on bus ml-events.
  const legacy = (): MemoryStateStore => {
    const s = new MemoryStateStore();
    const k = (x: string) => `platform.audit_log_tampering|${x}`;
    s.set('rules.kind', k(`feedtgt|111122223333:us-east-1:${RULE}`), { mltrail: { arn: APIDEST, to_feed: true } });
    s.set('rules.kind', k(`feedsrc|111122223333:us-east-1:${RULE}`), ['aws.sagemaker', 'aws.s3']);
    s.set('rules.kind', k(`feedpat|111122223333:us-east-1:${RULE}`), {});
    s.set('rules.kind', k('feedbus|111122223333:us-east-1:ml-events'), [RULE]);
    return s;
  };
  const run = (state: MemoryStateStore, evs: NormalizedEvent[]) => {
    const engine = createRuleEngine(RulesConfig.parse({}), state);
    return evs.flatMap((e) => engine.process(e, Date.parse(e.time))).filter((a) => a.rule_id === 'platform.audit_log_tampering');
  };
  const keys = (s: MemoryStateStore) => s.list('rules.kind').map((x) => x.key.replace('platform.audit_log_tampering|', '')).filter((k) => /^feed(tgt|src)\|/.test(k)).sort();

  it('the default-bus rule: its target removed is a cut naming where it delivered, a dropped source alerts; the state moves under the bus', () => {
    const state = legacy();
    const a = run(state, [removeTargets(RULE, ['mltrail']), putRule(RULE, ['aws.sagemaker'])]);
    expect(a.map((x) => [x.details.feed_targets_cut ?? null, x.details.feed_targets_unknown ?? null, x.details.feed_sources_dropped ?? null])).toEqual([
      [[{ id: 'mltrail', arn: APIDEST }], null, null],
      [null, null, ['aws.s3']],
    ]);
    expect(keys(state)).toEqual([`feedsrc|111122223333:us-east-1:default/${RULE}`]);
  });

  it('a custom bus the rule was seen on reads it too; a bus it was never seen on does not', () => {
    expect(run(legacy(), [removeTargets(RULE, ['mltrail'], 'ml-events')]).map((x) => x.details.feed_targets_cut)).toEqual([[{ id: 'mltrail', arn: APIDEST }]]);
    expect(run(legacy(), [removeTargets(RULE, ['mltrail'], 'ops-bus')]).map((x) => [x.details.feed_targets_cut ?? null, x.details.feed_targets_unknown])).toEqual([[null, ['mltrail']]]);
  });

  it('moved once: after the first rule of the name wrote it, the other bus starts unlearned', () => {
    const state = legacy();
    run(state, [putTargets(RULE, [{ id: 'mltrail', arn: APIDEST }, { id: 'copy', arn: LOGS }])]);
    expect(keys(state)).toEqual([`feedsrc|111122223333:us-east-1:${RULE}`, `feedtgt|111122223333:us-east-1:default/${RULE}`]);
    expect(run(state, [removeTargets(RULE, ['copy'], 'ml-events')]).map((x) => x.details.feed_targets_unknown)).toEqual([['copy']]);
  });
});

describe('a rule forwarding to mltrail\'s event bus is part of the feed', () => {
  const BUS = 'arn:aws:events:us-east-1:111122223333:event-bus/mltrail-bus';
  const ML_EVENTS = 'arn:aws:events:us-east-1:111122223333:event-bus/ml-events';
  const FWD = 'forward-ml-to-audit';
  const forward = (arn = BUS) => putTargets(FWD, [{ id: 'to-bus', arn, roleArn: 'arn:aws:iam::111122223333:role/eventbridge-forward' }]);

  it('to a bus feed_names names: disabling, deleting, narrowing, removing its target or re-pointing it alert, naming the bus', () => {
    const f = forward();
    expect(f).toMatchObject({ action: 'audit_log.update', details: { trail: FWD, feed_named: false, feed_targets: [{ id: 'to-bus', arn: BUS, to_feed: true }] } });
    expect(alerts([f])).toEqual([]);
    const dis = events('DisableRule', { name: FWD });
    const a = alerts([f, dis]);
    expect(a.map((x) => [x.evidence, x.details.action, x.details.feed_forwards_to])).toEqual([[[dis.id], 'audit_log.disable', [BUS]]]);
    expect(a[0]!.summary).toContain(`disabled the rule on ${FWD} (forwarding to mltrail's event bus ${BUS})`);
    expect(alerts([forward(), events('PutRule', { name: FWD, state: 'DISABLED', eventPattern: JSON.stringify({ source: ['aws.sagemaker'] }) })]).map((x) => x.details.action)).toEqual(['audit_log.disable']);
    expect(alerts([forward(), events('DeleteRule', { name: FWD })]).map((x) => x.details.action)).toEqual(['audit_log.delete']);
    expect(alerts([forward(), removeTargets(FWD, ['to-bus'])]).map((x) => x.details.feed_targets_cut)).toEqual([[{ id: 'to-bus', arn: BUS }]]);
    expect(alerts([forward(), putTargets(FWD, [{ id: 'to-bus', arn: LAMBDA }])]).map((x) => x.details.feed_targets_repointed)).toEqual([[{ id: 'to-bus', arn: LAMBDA, was: BUS }]]);
    // Its pattern, learned once it forwards, narrowed.
    expect(alerts([forward(), putRule(FWD, ['aws.sagemaker', 'aws.s3']), putRule(FWD, ['aws.sagemaker'])]).map((x) => x.details.feed_sources_dropped)).toEqual([['aws.s3']]);
  });

  it("its first PutRule since it forwards is judged against what mltrail reads there, not learned blindly (a narrowing in that very call passed)", () => {
    const pat = (p: Record<string, unknown>) => events('PutRule', { name: FWD, eventPattern: JSON.stringify(p), state: 'ENABLED' });
    // The usual setup: PutRule (a plain rule then: nothing kept), PutTargets to the bus, then the rule re-put narrowed.
    const setup = [pat({ source: ['aws.sagemaker', 'aws.s3'] }), forward()];
    const none = alerts([...setup, pat({ source: ['aws.ec2'] })]);
    expect(none.map((x) => [x.details.feed_sources_dropped, x.details.feed_forwards_to])).toEqual([[['aws.sagemaker', 'aws.s3', 'aws.cloudtrail', 'aws.events', 'aws.firehose'], [BUS]]]);
    expect(alerts([...setup, pat({ source: ['aws.sagemaker'], 'detail-type': ['Nothing'] })]).map((x) => x.details.feed_pattern_narrowed)).toEqual(['detail-type matches nothing mltrail reads']);
    // A first pattern delivering some of what mltrail reads is learned, not judged; the next narrowing is.
    expect(alerts([...setup, pat({ source: ['aws.sagemaker'] })])).toEqual([]);
    expect(alerts([...setup, pat({ source: ['aws.sagemaker'], 'detail-type': ['AWS API Call via CloudTrail', 'SageMaker Training Job State Change'] })])).toEqual([]);
    expect(alerts([...setup, pat({ source: [{ prefix: 'aws.' }] })])).toEqual([]);
    expect(alerts([...setup, pat({ source: ['aws.sagemaker'] }), pat({ source: ['aws.sagemaker'], 'detail-type': ['AWS API Call via CloudTrail'] })]).map((x) => x.details.feed_pattern_narrowed)).toEqual(['detail-type added']);
    // mltrail's own feed rule's first pattern is still how it was set up: learned, not judged.
    expect(alerts([putRule(RULE, ['aws.ec2'])])).toEqual([]);
  });

  it("a forwarder's first pattern is judged against the sources of the feed rules seen on the bus it forwards to", () => {
    const onBus = putRule(RULE, ['aws.sagemaker'], 'ml-events');
    const fwd = (sources: string[]) => alerts([onBus, forward(ML_EVENTS), events('PutRule', { name: FWD, eventPattern: JSON.stringify({ source: sources }), state: 'ENABLED' })]);
    expect(fwd(['aws.s3']).map((x) => x.details.feed_sources_dropped)).toEqual([['aws.sagemaker']]);
    expect(fwd(['aws.sagemaker', 'aws.ec2'])).toEqual([]);
  });

  it('to a custom bus of another name that a feed rule was seen on: learned through that bus', () => {
    const onBus = putRule(RULE, ['aws.sagemaker'], 'ml-events');
    const f = forward(ML_EVENTS);
    expect(f.details?.feed_targets).toEqual([{ id: 'to-bus', arn: ML_EVENTS, to_feed: false, id_named: false }]);
    expect(alerts([onBus, f, events('DisableRule', { name: FWD })]).map((x) => x.details.feed_forwards_to)).toEqual([[ML_EVENTS]]);
    // No feed rule seen on it: none of mltrail's.
    expect(alerts([forward(ML_EVENTS), events('DisableRule', { name: FWD })])).toEqual([]);
  });

  it('other rules stay none of mltrail\'s: nothing alerts and nothing is learned of them; a forwarder re-pointed off the bus is one no longer', () => {
    const state = new MemoryStateStore();
    const engine = createRuleEngine(RulesConfig.parse({}), state);
    const run = (evs: NormalizedEvent[]) => evs.flatMap((e) => engine.process(e, Date.parse(e.time))).filter((a) => a.rule_id === 'platform.audit_log_tampering');
    expect(run([putRule('nightly', ['aws.batch'], 'ops'), putTargets('nightly', [{ id: 'Target0', arn: LAMBDA }], 'ops'), putRule('nightly', ['aws.s3'], 'ops'), events('DisableRule', { name: 'nightly', eventBusName: 'ops' }), removeTargets('nightly', ['Target0'], 'ops'), events('DeleteRule', { name: 'nightly', eventBusName: 'ops' })])).toEqual([]);
    expect(state.list('rules.kind').filter((x) => x.key.startsWith('platform.audit_log_tampering|'))).toEqual([]);
    expect(alerts([forward(), putTargets(FWD, [{ id: 'to-bus', arn: LAMBDA }]), events('DisableRule', { name: FWD })]).map((x) => x.details.action)).toEqual(['audit_log.update']);
  });
});

describe('PutTargets / RemoveTargets partly failed: only the targets applied count', () => {
  const failed = (ids: string[], count = ids.length) => ({ responseElements: { failedEntryCount: count, failedEntries: ids.map((targetId) => ({ targetId, errorCode: 'ConcurrentModificationException', errorMessage: 'Concurrent modification detected' })) } });
  const ok = { responseElements: { failedEntryCount: 0, failedEntries: [] } };

  it('a re-pointing that failed is no cut and is not learned: mltrail\'s target removed afterwards is still a cut', () => {
    const setup = putTargets(RULE, [{ id: 'mltrail', arn: APIDEST }], undefined, ok);
    const tried = putTargets(RULE, [{ id: 'mltrail', arn: LOGS }, { id: 'copy', arn: LOGS }], undefined, failed(['mltrail']));
    expect(tried.details).toMatchObject({ feed_targets: [{ id: 'copy', arn: LOGS }], feed_targets_failed: [{ id: 'mltrail', error_code: 'ConcurrentModificationException' }] });
    const cut = removeTargets(RULE, ['mltrail']);
    expect(alerts([setup, tried, cut]).map((x) => [x.evidence, x.details.feed_targets_cut])).toEqual([[[cut.id], [{ id: 'mltrail', arn: APIDEST }]]]);
    // The copy that was added is known: its removal cuts nothing.
    expect(alerts([setup, tried, removeTargets(RULE, ['copy'])])).toEqual([]);
  });

  it('a removal that failed is no cut, and the target stays known', () => {
    const setup = putTargets(RULE, [{ id: 'mltrail', arn: APIDEST }]);
    const tried = removeTargets(RULE, ['mltrail'], undefined, failed(['mltrail']));
    expect(tried.details).toMatchObject({ feed_targets_removed: [], feed_targets_failed: [{ id: 'mltrail' }] });
    const cut = removeTargets(RULE, ['mltrail']);
    expect(alerts([setup, tried, cut]).map((x) => x.evidence)).toEqual([[cut.id]]);
  });

  it('failures the response counts but does not name: the call is judged, nothing of it learned', () => {
    const setup = putTargets(RULE, [{ id: 'mltrail', arn: APIDEST }]);
    const tried = putTargets(RULE, [{ id: 'mltrail', arn: LOGS }], undefined, { responseElements: { failedEntryCount: 1 } });
    const cut = removeTargets(RULE, ['mltrail']);
    const a = alerts([setup, tried, cut]);
    expect(a.map((x) => [x.evidence, x.details.feed_targets_unconfirmed ?? null, x.details.feed_targets_repointed ?? null, x.details.feed_targets_cut ?? null])).toEqual([
      [[tried.id], true, [{ id: 'mltrail', arn: LOGS, was: APIDEST }], null],
      [[cut.id], null, null, [{ id: 'mltrail', arn: APIDEST }]],
    ]);
  });
});
