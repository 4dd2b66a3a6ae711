import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig, createRuleEngine } from '../../core/rules/engine.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { MemoryStateStore } from '../../core/state/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/** verify27c: an unrelated busy account's EventBridge rules, and a forwarder to mltrail's bus disabled. */
let n = 0;
function events(eventName: string, params: Record<string, unknown>): NormalizedEvent {
  n++;
  return normOne(ctRecord(eventName, params, { eventSource: 'events.amazonaws.com', eventID: `ba-${n}`, eventTime: new Date(Date.parse('2026-11-27T11:00:00Z') + n * 60_000).toISOString().replace('.000Z', 'Z') }));
}
const LAMBDA = (i: number) => `arn:aws:lambda:us-east-1:111122223333:function:f${i}`;
const MLTRAIL_BUS = 'arn:aws:events:us-east-1:111122223333:event-bus/mltrail-bus';

describe('an account busy with rules that are none of mltrails', () => {
  it('raises nothing and keeps nothing for them', () => {
    const evs: NormalizedEvent[] = [];
    for (let i = 0; i < 200; i++) {
      evs.push(events('PutRule', { name: `app-rule-${i}`, eventPattern: JSON.stringify({ source: ['aws.ec2'] }), state: 'ENABLED' }));
      evs.push(events('PutTargets', { rule: `app-rule-${i}`, targets: [{ id: 't1', arn: LAMBDA(i) }] }));
      evs.push(events('DisableRule', { name: `app-rule-${i}` }));
      evs.push(events('RemoveTargets', { rule: `app-rule-${i}`, ids: ['t1'] }));
      evs.push(events('DeleteRule', { name: `app-rule-${i}` }));
    }
    const state = new MemoryStateStore();
    const engine = createRuleEngine(RulesConfig.parse({}), state);
    const a = evs.flatMap((e) => engine.process(e, Date.parse(e.time))).filter((x) => x.rule_id === 'platform.audit_log_tampering');
    expect(a).toEqual([]);
    // State is not grown per foreign rule: at most the rule's own bookkeeping key.
    const kept = [...(state as unknown as { map: Map<string, Map<string, string>> }).map.values()].flatMap((m) => [...m.keys()]).filter((k) => k.includes('audit_log_tampering') || k.includes('app-rule'));
    expect(kept.length).toBeLessThanOrEqual(1);
  });
  it('a default-bus rule forwarding to mltrails bus, then disabled, alerts', () => {
    const evs = [
      events('PutRule', { name: 'to-mltrail-bus', eventPattern: JSON.stringify({ source: ['aws.sagemaker'] }), state: 'ENABLED' }),
      events('PutTargets', { rule: 'to-mltrail-bus', targets: [{ id: 'fwd', arn: MLTRAIL_BUS, roleArn: 'arn:aws:iam::111122223333:role/fwd' }] }),
      events('PutRule', { name: 'mltrail-sagemaker', eventBusName: 'mltrail-bus', eventPattern: JSON.stringify({ source: ['aws.sagemaker'] }), state: 'ENABLED' }),
      events('DisableRule', { name: 'to-mltrail-bus' }),
    ];
    const a = replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((x) => x.rule_id === 'platform.audit_log_tampering');
    expect(a.map((x) => x.evidence)).toEqual([[evs[3]!.id]]);
  });
});
