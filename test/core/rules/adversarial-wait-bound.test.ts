import { describe, expect, it } from 'vitest';
import { RulesConfig, createRuleEngine, KIND_NS } from '../../../core/rules/engine.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import { WriteBackStateStore } from '../../../core/state/write-back.js';
import { T0, actors, at, ev } from '../../rules/events.js';

const rules = RulesConfig.parse({});
const RULE = 'evaluation.adversarial_failure';

describe('evaluation.adversarial_failure: more approvals waiting at once than the bound (1000)', () => {
  it('the oldest pushed out is judged then, not left in rule state unjudged for good', () => {
    // As serve keeps it: a write-back cache over the store.
    const store = new MemoryStateStore();
    const state = new WriteBackStateStore(store);
    const engine = createRuleEngine(rules, state);
    const n = 1100;
    const alerts = [];
    // A registry's first poll: 1100 versions created and approved within minutes, none with adversarial evidence.
    for (let i = 0; i < n; i++) {
      const model = { name: 'fraud', version: String(i + 1) };
      const t = T0 + i * 100;
      for (const e of [
        ev({ id: `c${i}`, time: at(t), platform: 'mlflow', stage: 'registry', action: 'model_version.create', actor: actors.aliceMlflow, resource: { type: 'model_version', ...model }, ml: { model } }),
        ev({ id: `a${i}`, time: at(t + 50), platform: 'mlflow', stage: 'registry', action: 'model_version.alias_set', actor: actors.bob, resource: { type: 'model_version', ...model }, ml: { model: { ...model, aliases: ['champion'] } }, details: { alias: 'champion' } }),
      ]) alerts.push(...engine.process(e, Date.parse(e.time)));
    }
    // Two hours on, by event time and by receipt: every approval has had its hour.
    const later = T0 + 2 * 3_600_000;
    alerts.push(...engine.process(ev({ id: 'x', time: at(later), platform: 'mlflow', stage: 'registry', action: 'model.read', actor: actors.aliceMlflow, resource: { type: 'model', name: 'other' } }), later));
    const judged = new Set(alerts.filter((a) => a.rule_id === RULE).flatMap((a) => a.evidence));
    expect(judged.size).toBe(n);
    expect(judged.has('a0')).toBe(true);
    // Those judged before their hour say so (an analyst can tell them from approvals that had their hour).
    const early = alerts.filter((a) => a.rule_id === RULE && a.details?.pushed_out === true);
    expect(early).toHaveLength(n - 1000);
    expect(early[0]!.evidence).toEqual(['a0']);
    expect(early[0]!.summary).toMatch(/judged before its hour was up: more than 1000 approvals were waiting/);
    state.flush();
    expect(store.list(KIND_NS, `${RULE}|advwait|`)).toEqual([]);
  });
});
