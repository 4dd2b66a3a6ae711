import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * platform.audit_log_tampering on mltrail's EventBridge feed, judged against what was learned of it:
 * - an UpdateApiDestination alerted whenever it named the endpoint, also when it only re-sent the same one beside a
 *   new rate limit (the console sends every field); it now alerts when the endpoint, connection or method changes;
 * - a RemoveTargets alerted for any target id of a feed rule, a dead-letter copy's too; it now alerts when a target
 *   last seen delivering to mltrail, or one never seen added, is removed;
 * - a custom bus holding the mltrail rule under another name (PutRule's EventBusName) was not learned, so its
 *   DeleteEventBus went unseen; it now alerts.
 * Request fields as CloudTrail logs the EventBridge API's (lower camel case of the API reference's names).
 */

let n = 0;
function events(eventName: string, params: Record<string, unknown>, extra: Record<string, unknown> = {}): NormalizedEvent {
  n++;
  return normOne(ctRecord(eventName, params, { eventSource: 'events.amazonaws.com', eventID: `fc-${n}`, eventTime: new Date(Date.parse('2026-11-27T11:00:00Z') + n * 60_000).toISOString().replace('.000Z', 'Z'), ...extra }));
}
const alerts = (evs: NormalizedEvent[]): Alert[] => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'platform.audit_log_tampering');

const ENDPOINT = 'https://mltrail.example.com/v1/ingest/sagemaker/eventbridge';
const CONN = 'arn:aws:events:us-east-1:111122223333:connection/mltrail/3f1c2b9a-7d4e-4a1b-9c0d-5e6f7a8b9c0d';
const CONN2 = 'arn:aws:events:us-east-1:111122223333:connection/mltrail-rotated/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const APIDEST = 'arn:aws:events:us-east-1:111122223333:api-destination/mltrail/8b1e1f9c-3c52-4a59-9e0f-0f3b2c7e1a11';

describe('UpdateApiDestination: judged against the destination as last set', () => {
  const create = () => events('CreateApiDestination', { name: 'mltrail', connectionArn: CONN, invocationEndpoint: ENDPOINT, httpMethod: 'POST', invocationRateLimitPerSecond: 300 }, {
    responseElements: { apiDestinationArn: APIDEST, apiDestinationState: 'ACTIVE', creationTime: 'Nov 27, 2026 11:00:00 AM', lastModifiedTime: 'Nov 27, 2026 11:00:00 AM' },
  });
  const update = (p: Record<string, unknown>) => events('UpdateApiDestination', { name: 'mltrail', ...p });

  it('the create is read (audit_log.create, not judged); an update re-sending the same endpoint, connection and method, or only a rate limit, does not alert', () => {
    const c = create();
    expect(c).toMatchObject({ action: 'audit_log.create', resource: { type: 'eventbridge_api_destination', name: 'mltrail' }, details: { feed_api_destination: { invocation_endpoint: ENDPOINT, connection_arn: CONN, http_method: 'POST' } } });
    expect(alerts([c, update({ connectionArn: CONN, invocationEndpoint: ENDPOINT, httpMethod: 'POST', invocationRateLimitPerSecond: 10 }), update({ invocationRateLimitPerSecond: 50, description: 'throttled' })])).toEqual([]);
  });

  it('the endpoint, connection or method changed alerts, naming what it was', () => {
    const c = create();
    const moved = update({ connectionArn: CONN, invocationEndpoint: 'https://attacker.example/in', httpMethod: 'POST', invocationRateLimitPerSecond: 300 });
    const conn = update({ connectionArn: CONN2 });
    const get = update({ httpMethod: 'GET' });
    const a = alerts([c, moved, conn, get]);
    expect(a.map((x) => [x.evidence, x.details.feed_api_destination_changes, x.details.feed_previous_seen])).toEqual([
      [[moved.id], [{ field: 'invocation_endpoint', was: ENDPOINT, now: 'https://attacker.example/in' }], true],
      [[conn.id], [{ field: 'connection_arn', was: CONN, now: CONN2 }], true],
      [[get.id], [{ field: 'http_method', was: 'POST', now: 'GET' }], true],
    ]);
    expect(a[0]!.details.log_destination).toBe('https://attacker.example/in');
    expect(a[1]!.summary).toContain(`changed its connection to ${CONN2} (was ${CONN})`);
    expect(a[2]!.summary).toContain('changed its HTTP method to GET (was POST)');
    // Back to the endpoint it had: a change too (from the attacker's), judged against the last one set.
    expect(alerts([c, moved, update({ invocationEndpoint: ENDPOINT })]).map((x) => x.details.log_destination)).toEqual(['https://attacker.example/in', ENDPOINT]);
  });

  it('nothing learned (created before mltrail read the trail): an update naming the endpoint, connection or method alerts, saying its earlier settings were not seen; one naming none does not', () => {
    const a = alerts([update({ invocationEndpoint: ENDPOINT, invocationRateLimitPerSecond: 20 })]);
    expect(a.map((x) => [x.details.log_destination, x.details.feed_previous_seen])).toEqual([[ENDPOINT, false]]);
    expect(alerts([update({ invocationRateLimitPerSecond: 20 })])).toEqual([]);
    expect(alerts([update({ connectionArn: CONN2 })])[0]!.summary).toContain(`set its connection to ${CONN2} (what it was is not known)`);
    // Learned by that first update: the next one re-sending it is none.
    expect(alerts([update({ invocationEndpoint: ENDPOINT }), update({ invocationEndpoint: ENDPOINT, invocationRateLimitPerSecond: 5 })])).toHaveLength(1);
  });

  it('a failed create teaches nothing; a deleted destination is forgotten', () => {
    const failed = events('CreateApiDestination', { name: 'mltrail', connectionArn: CONN, invocationEndpoint: 'https://attacker.example/in', httpMethod: 'POST' }, { errorCode: 'ResourceAlreadyExistsException', errorMessage: 'x' });
    expect(alerts([create(), failed, update({ invocationEndpoint: ENDPOINT })])).toEqual([]);
    // Made in order (the replay orders by event time).
    const again = create();
    const del = events('DeleteApiDestination', { name: 'mltrail' });
    expect(alerts([again, del, update({ invocationEndpoint: ENDPOINT })]).map((x) => [x.details.action, x.details.feed_previous_seen ?? null])).toEqual([['audit_log.delete', null], ['audit_log.update', false]]);
  });
});

describe('RemoveTargets: only a target delivering to mltrail (or never seen) removed alerts', () => {
  const put = (targets: Array<Record<string, unknown>>) => events('PutTargets', { rule: 'sagemaker-to-mltrail', eventBusName: 'default', targets });
  const remove = (ids: string[]) => events('RemoveTargets', { rule: 'sagemaker-to-mltrail', eventBusName: 'default', ids, force: false });
  const LOGS = 'arn:aws:logs:us-east-1:111122223333:log-group:/aws/events/ml';

  it("removing a copy beside mltrail's target does not alert; removing mltrail's target does, naming where it delivered", () => {
    const setup = put([{ id: 'mltrail', arn: APIDEST, roleArn: 'arn:aws:iam::111122223333:role/mltrail-eventbridge' }, { id: 'audit-copy', arn: LOGS }]);
    const copy = remove(['audit-copy']);
    const cut = remove(['mltrail']);
    const a = alerts([setup, copy, cut]);
    expect(a.map((x) => [x.evidence, x.details.action, x.details.feed_targets_cut, x.details.feed_targets_unknown ?? null])).toEqual([[[cut.id], 'audit_log.disable', [{ id: 'mltrail', arn: APIDEST }], null]]);
    expect(a[0]!.summary).toContain(`removed its target mltrail (delivering to ${APIDEST})`);
  });

  it('a target delivering to mltrail under another id (the learned Firehose stream) is judged by what it delivered to, not its id', () => {
    const fh = 'arn:aws:firehose:us-east-1:111122223333:deliverystream/cloudtrail-to-mltrail';
    expect(alerts([put([{ id: 'Target0', arn: fh }]), remove(['Target0'])]).map((x) => x.details.feed_targets_cut)).toEqual([[{ id: 'Target0', arn: fh }]]);
  });

  it("an id first seen delivering elsewhere, then reused for mltrail's destination, is mltrail's when removed", () => {
    const a = alerts([put([{ id: 'audit-copy', arn: LOGS }]), put([{ id: 'audit-copy', arn: APIDEST }]), remove(['audit-copy'])]);
    expect(a.map((x) => x.details.feed_targets_cut ?? null)).toEqual([[{ id: 'audit-copy', arn: APIDEST }]]);
    // And the reverse: mltrail's id re-pointed to a log group alerts there; its removal afterwards cuts nothing more.
    const b = alerts([put([{ id: 'mltrail', arn: APIDEST }]), put([{ id: 'mltrail', arn: LOGS }]), remove(['mltrail'])]);
    expect(b.map((x) => [x.details.action, x.details.feed_targets_cut ?? null])).toHaveLength(1);
  });

  it('an id never seen added is reported as unknown; beside a known copy, only it is named', () => {
    const a = alerts([put([{ id: 'audit-copy', arn: LOGS }]), remove(['audit-copy', 'Target9'])]);
    expect(a.map((x) => [x.details.feed_targets_cut ?? null, x.details.feed_targets_unknown])).toEqual([[null, ['Target9']]]);
    expect(a[0]!.summary).toContain('removed its target Target9 (never seen added: whether it delivered to mltrail is not known)');
    expect(a[0]!.summary).not.toContain('audit-copy');
  });
});

describe("DeleteEventBus of a custom bus holding mltrail's rule under another name", () => {
  const putRule = (bus: string, extra: Record<string, unknown> = {}) =>
    events('PutRule', { name: 'sagemaker-to-mltrail', eventPattern: JSON.stringify({ source: ['aws.sagemaker', 'aws.events'] }), state: 'ENABLED', eventBusName: bus }, extra);
  const delBus = (name: string, extra: Record<string, unknown> = {}) => events('DeleteEventBus', { name }, extra);

  it('learned from PutRule (bus by name or ARN): the bus deleted alerts, naming the rule it held', () => {
    const rule = putRule('ml-events');
    expect(rule.details).toMatchObject({ event_bus: 'ml-events' });
    const del = delBus('ml-events');
    const a = alerts([rule, del]);
    expect(a.map((x) => [x.entity.id, x.details.action, x.details.feed, x.details.feed_rules, x.evidence])).toEqual([['111122223333:us-east-1:ml-events', 'audit_log.delete', 'eventbridge_bus', ['sagemaker-to-mltrail'], [del.id]]]);
    expect(a[0]!.summary).toContain("deleted the EventBridge event bus of mltrail's rule (it held sagemaker-to-mltrail)");
    expect(alerts([putRule('arn:aws:events:us-east-1:111122223333:event-bus/ml-events'), delBus('ml-events')])).toHaveLength(1);
    // Learned from PutTargets on that bus too.
    expect(alerts([events('PutTargets', { rule: 'sagemaker-to-mltrail', eventBusName: 'ml-events', targets: [{ id: 'mltrail', arn: APIDEST }] }), delBus('ml-events')])).toHaveLength(1);
  });

  it('no alert for a bus no feed rule was seen on, the default bus, a bus of another region, or after the rule was deleted from it', () => {
    expect(alerts([putRule('default'), delBus('orders')])).toEqual([]);
    expect(putRule('default').details?.event_bus).toBeUndefined();
    expect(alerts([putRule('ml-events'), delBus('ml-events', { awsRegion: 'eu-west-1' })])).toEqual([]);
    const rule = putRule('ml-events');
    const delRule = events('DeleteRule', { name: 'sagemaker-to-mltrail', eventBusName: 'ml-events' });
    // The rule's own deletion alerts; the bus emptied of it is then none of mltrail's.
    expect(alerts([rule, delRule, delBus('ml-events')]).map((x) => x.evidence)).toEqual([[delRule.id]]);
  });
});
