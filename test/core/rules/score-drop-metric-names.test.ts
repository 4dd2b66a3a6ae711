import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { metricOf } from '../../../core/rules/metric-names.js';
import { KIND_DEFAULTS } from '../../../core/rules/defaults.js';
import { T0, actors, at, ev } from '../../rules/events.js';

/**
 * Keras (`model.compile(metrics=["acc"])`, autologged as `acc` / `val_acc`) and Lightning (`self.log("val/acc", …)`)
 * shorten accuracy: it was no metric at all, so a version logging only `val_acc` was never compared (a drop from
 * `val_accuracy` 0.95 to `val_acc` 0.80 went unseen) and, with `require_at_approval`, its approval read as unevaluated.
 */
const HOUR = 3_600_000;
const evaluation = (version: string, metrics: Record<string, number>) =>
  ev({ id: `e${version}`, time: at(T0 + Number(version) * HOUR), platform: 'mlflow', channel: 'mlflow.audit', stage: 'evaluation', action: 'evaluation.metrics', operation: 'runs/get', outcome: 'success', actor: actors.bob, resource: { type: 'model_version', id: `fraud/${version}`, name: 'fraud' }, ml: { model: { name: 'fraud', version, run_id: `run${version}` }, metrics, provenance: { run_id: `run${version}` } } });
const drops = (events: ReturnType<typeof ev>[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'evaluation.score_drop');

describe('score_drop: accuracy shortened to acc', () => {
  it('reads acc, val_acc, val/acc, acc_val, eval/acc as accuracy', () => {
    const m = KIND_DEFAULTS.score_drop.metrics as Record<string, 'higher' | 'lower'>;
    for (const n of ['acc', 'val_acc', 'val/acc', 'acc_val', 'eval/acc', 'test-acc']) expect(metricOf(n, m), n).toEqual({ metric: 'accuracy', dir: 'higher' });
    // not a word ending in acc
    expect(metricOf('mac', m)).toBeUndefined();
    expect(metricOf('vacc', m)).toBeUndefined();
  });

  it('a drop from val_accuracy 0.95 to val_acc 0.80 is a drop', () => {
    expect(drops([evaluation('1', { val_accuracy: 0.95 }), evaluation('2', { val_acc: 0.8 })]).map((a) => [a.entity.id, a.details.metric])).toEqual([['fraud/2', 'val_acc']]);
    expect(drops([evaluation('1', { val_acc: 0.95 }), evaluation('2', { val_acc: 0.96 })])).toEqual([]);
  });
});
