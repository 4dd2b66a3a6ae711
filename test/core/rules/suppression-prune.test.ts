import { describe, expect, it } from 'vitest';
import { ENGINE_NS, RulesConfig, createRuleEngine } from '../../../core/rules/engine.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import { DAY, HOUR, T0, actors, at, ev } from '../../rules/events.js';

const rules = RulesConfig.parse({});
const job = (id: string, name: string, time: number) =>
  ev({ id, time: at(time), platform: 'kubeflow', stage: 'training', action: 'training_job.create', actor: actors.aliceMlflow, resource: { type: 'pipeline_run', name }, ml: { job: { name, image: 'docker.io/library/python:3.12' } } });

describe('rule engine: suppression state of an entity never seen again', () => {
  it('is pruned once older than every suppression period, also when it still holds suppressed repeats', () => {
    const state = new MemoryStateStore();
    const engine = createRuleEngine(rules, state);
    const run = (e: ReturnType<typeof ev>) => engine.process(e, Date.parse(e.time)).filter((a) => a.rule_id === 'training.unverified_dependency');
    // A one-off job family alerts, then repeats within the suppression period: the repeat is held for a next alert.
    expect(run(job('j1', 'oneoff-16', T0))).toHaveLength(1);
    expect(run(job('j2', 'oneoff-17', T0 + HOUR))).toHaveLength(0);
    const held = state.list<{ pending: number }>(ENGINE_NS, 'sup|').filter((s) => s.key.includes('oneoff'));
    expect(held.map((s) => s.value.pending)).toEqual([1]);
    // A year of other traffic: the family never comes back.
    for (let d = 1; d <= 365; d += 7) run(job(`o${d}`, `other-${d}`, T0 + d * DAY));
    expect(state.list(ENGINE_NS, 'sup|').filter((s) => s.key.includes('oneoff'))).toEqual([]);
  });
});
