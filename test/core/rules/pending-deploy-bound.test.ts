import { describe, expect, it } from 'vitest';
import { KIND_NS, RulesConfig, createRuleEngine } from '../../../core/rules/engine.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import { WriteBackStateStore } from '../../../core/state/write-back.js';
import { cloudTrailRecord, normalizeSageMaker as normalize } from './cloudtrail.js';

const RULE = 'registry.unapproved_deployment';
/** A CloudTrail record with another call in it, at epoch ms `time` (the shared builder). */
const ct = (eventName: string, time: number, req: Record<string, unknown>) => cloudTrailRecord(eventName, time, req);

describe('registry.unapproved_deployment: more deployments waiting for their endpoint config than the bound (1000)', () => {
  it('a deployment pushed out of the wait leaves no row in rule state; one whose config had come is judged then', () => {
    // As serve keeps it: a write-back cache over the store.
    const store = new MemoryStateStore();
    const state = new WriteBackStateStore(store);
    const engine = createRuleEngine(RulesConfig.parse({}), state);
    const T = Date.parse('2026-03-02T13:00:00Z');
    const total = 1100;
    const records: unknown[] = [];
    // The first deployment's config comes (its model never does: it waits an hour for it); the others' never come.
    records.push(ct('UpdateEndpoint', T, { endpointName: 'ep-0', endpointConfigName: 'cs-0' }));
    records.push(ct('CreateEndpointConfig', T + 500, { endpointConfigName: 'cs-0', productionVariants: [{ variantName: 'A', modelName: 'unseen', initialInstanceCount: 1, instanceType: 'ml.m5.large', initialVariantWeight: 1 }] }));
    for (let i = 1; i < total; i++) records.push(ct('UpdateEndpoint', T + i * 1000, { endpointName: `ep-${i}`, endpointConfigName: `cs-${i}` }));
    const alerts = normalize(records).flatMap((e) => engine.process(e, Date.parse(e.time))).filter((a) => a.rule_id === RULE);
    state.flush();
    const pending = store.list(KIND_NS, `${RULE}|pending|`);
    expect(pending.length).toBeLessThanOrEqual(1000);
    expect(pending.map((p) => p.key)).not.toContain(`${RULE}|pending|sagemaker|123456789012:us-east-1:cs-1`);
    // Judged when pushed out, with what was known (its model never seen: never approved).
    expect(alerts.map((a) => a.entity.name ?? a.entity.id)).toEqual([expect.stringContaining('ep-0')]);
  });
});
