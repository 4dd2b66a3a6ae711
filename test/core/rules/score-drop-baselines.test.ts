import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { metricOf } from '../../../core/rules/metric-names.js';
import { KIND_DEFAULTS } from '../../../core/rules/defaults.js';
import { T0, actors, at, ev } from '../../rules/events.js';

const rules = RulesConfig.parse({});
const HOUR = 3_600_000;

/** The MLflow auditor's `runs/get` evaluation event of a version (as runEvents builds it). */
const evaluation = (version: string, metrics: Record<string, number>, hour = Number(version)) =>
  ev({ id: `e${version}`, time: at(T0 + hour * HOUR), platform: 'mlflow', channel: 'mlflow.audit', stage: 'evaluation', action: 'evaluation.metrics', operation: 'runs/get', outcome: 'success', actor: actors.bob, resource: { type: 'model_version', id: `fraud/${version}`, name: 'fraud' }, ml: { model: { name: 'fraud', version, run_id: `run${version}` }, metrics, provenance: { run_id: `run${version}` } } });
const decision = (version: string, action: 'model_version.approve' | 'model_version.reject', hour: number) =>
  ev({ id: `${action}-${version}`, time: at(T0 + hour * HOUR), platform: 'sagemaker', stage: 'registry', action, operation: 'UpdateModelPackage', actor: actors.aliceAws, resource: { type: 'model_package', name: 'fraud', version }, ml: { model: { name: 'fraud', version, approval: action === 'model_version.approve' ? 'approved' : 'rejected' } } });
const drops = (events: ReturnType<typeof ev>[], cfg = rules) => replayEvents(events, { rules: cfg }).alerts.filter((a) => a.rule_id === 'evaluation.score_drop');

describe('evaluation.score_drop baselines', () => {
  it('a version rejected and never approved is no baseline; the approved one before it is', () => {
    const sm = (version: string, metrics: Record<string, number>, hour: number) => ({ ...evaluation(version, metrics, hour), platform: 'sagemaker' as const, channel: 'sagemaker.test' });
    // v1 approved at 0.90, v2 rejected at 0.97 (e.g. leaked labels), v3 at 0.91: better than the bar v1 set.
    const events = [sm('1', { accuracy: 0.9 }, 0), decision('1', 'model_version.approve', 1), sm('2', { accuracy: 0.97 }, 2), decision('2', 'model_version.reject', 3), sm('3', { accuracy: 0.91 }, 4)];
    expect(drops(events)).toEqual([]);
    // Before the fix v3 was compared with the rejected v2 (6.2 % worse). A drop below the approved v1 still fires.
    const worse = drops([...events.slice(0, 4), sm('3', { accuracy: 0.8 }, 4)]);
    expect(worse.map((a) => [a.entity.id, a.details.baseline_version, a.details.compared_with])).toEqual([['fraud/3', '1', 'previous']]);
  });

  it('a version approved once and rejected when superseded is still a baseline', () => {
    const sm = (version: string, metrics: Record<string, number>, hour: number) => ({ ...evaluation(version, metrics, hour), platform: 'sagemaker' as const, channel: 'sagemaker.test' });
    const events = [sm('1', { accuracy: 0.95 }, 0), decision('1', 'model_version.approve', 1), decision('1', 'model_version.reject', 2), sm('2', { accuracy: 0.8 }, 3)];
    expect(drops(events).map((a) => a.details.baseline_version)).toEqual(['1']);
  });
});

describe('evaluation.score_drop absolute floor (min_difference, min_differences)', () => {
  it('a log loss from 0.050 to 0.052 (4 % relative, 0.002 absolute) is noise; to 0.060 it is a drop', () => {
    expect(drops([evaluation('1', { log_loss: 0.05 }), evaluation('2', { log_loss: 0.052 })])).toEqual([]);
    expect(drops([evaluation('1', { val_loss: 0.05 }), evaluation('2', { val_loss: 0.054 })])).toEqual([]);
    const fired = drops([evaluation('1', { log_loss: 0.05 }), evaluation('2', { log_loss: 0.06 })]);
    expect(fired.map((a) => [a.details.metric, a.details.min_difference])).toEqual([['log_loss', 0.005]]);
  });

  it('other metrics keep no floor unless configured; a configured map replaces the default', () => {
    expect(drops([evaluation('1', { rmse: 0.05 }), evaluation('2', { rmse: 0.052 })]).map((a) => a.details.metric)).toEqual(['rmse']);
    const own = RulesConfig.parse({ 'evaluation.score_drop': { min_differences: { rmse: 0.01 } } });
    expect(drops([evaluation('1', { rmse: 0.05 }), evaluation('2', { rmse: 0.052 })], own)).toEqual([]);
    expect(drops([evaluation('1', { log_loss: 0.05 }), evaluation('2', { log_loss: 0.052 })], own).map((a) => a.details.metric)).toEqual(['log_loss']);
    const all = RulesConfig.parse({ 'evaluation.score_drop': { min_difference: 0.01 } });
    // 2.5 % worse relative, 0.005 absolute: below the floor.
    expect(drops([evaluation('1', { accuracy: 0.2 }), evaluation('2', { accuracy: 0.195 })], all)).toEqual([]);
    expect(drops([evaluation('1', { accuracy: 0.2 }), evaluation('2', { accuracy: 0.195 })]).map((a) => a.details.metric)).toEqual(['accuracy']);
    expect(drops([evaluation('1', { accuracy: 0.95 }), evaluation('2', { accuracy: 0.925 })], all).map((a) => a.details.metric)).toEqual(['accuracy']);
    expect(drops([evaluation('1', { rmse: 0.5 }), evaluation('2', { rmse: 0.509 })], all)).toEqual([]);
  });

  it('a min_differences key naming no metric is a config error', () => {
    expect(() => RulesConfig.parse({ 'evaluation.score_drop': { min_differences: { widgets: 0.1 } } })).toThrow(/widgets.*no metric/);
  });
});

describe('evaluation.score_drop metric names with split / averaging suffixes', () => {
  const dirs = KIND_DEFAULTS.score_drop.metrics as Record<string, 'higher' | 'lower'>;
  it('accuracy_val, f1_macro, loss_test, f1_score_weighted are the metric they name', () => {
    expect(['accuracy_val', 'f1_macro', 'val_accuracy', 'eval_f1', 'loss_test', 'f1_score_weighted', 'precision_macro_val'].map((n) => metricOf(n, dirs)?.metric)).toEqual(['accuracy', 'f1', 'accuracy', 'f1', 'loss', 'f1_score', 'precision']);
    // Not a metric: a statistic of one, or a qualifier alone.
    expect(['accuracy_std', 'val', 'macro'].map((n) => metricOf(n, dirs))).toEqual([undefined, undefined, undefined]);
  });

  it('a drop under a suffixed name is seen, renames between suffix and prefix forms are paired, macro and weighted F1 are not', () => {
    expect(drops([evaluation('1', { accuracy_val: 0.95 }), evaluation('2', { accuracy_val: 0.8 })]).map((a) => a.details.metric)).toEqual(['accuracy_val']);
    expect(drops([evaluation('1', { val_accuracy: 0.95 }), evaluation('2', { accuracy_val: 0.8 })]).map((a) => [a.details.metric, a.details.baseline_metric])).toEqual([['accuracy_val', 'val_accuracy']]);
    expect(drops([evaluation('1', { f1_macro: 0.9 }), evaluation('2', { eval_f1_macro: 0.7 })]).map((a) => a.details.metric)).toEqual(['eval_f1_macro']);
    // Two averagings are two measurements: weighted F1 is no successor of macro F1.
    expect(drops([evaluation('1', { f1_weighted: 0.95 }), evaluation('2', { f1_macro: 0.7 })])).toEqual([]);
    // A training-split suffix is still no baseline for held-out data.
    expect(drops([evaluation('1', { accuracy_train: 0.99 }), evaluation('2', { accuracy_val: 0.9 })])).toEqual([]);
  });
});
