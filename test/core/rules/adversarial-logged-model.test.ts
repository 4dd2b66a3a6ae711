import { describe, expect, it } from 'vitest';
import { RulesConfig, createRuleEngine } from '../../../core/rules/engine.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import { T0, actors, at, ev } from '../../rules/events.js';

const RULE = 'evaluation.adversarial_failure';
const model = { name: 'fraud', version: '1' };

/**
 * Adversarial metrics of an MLflow 3 logged model (the auditor's `logged-models/get` evaluations, shaped as
 * connectors/mlflow/provenance.ts makes them): anyone who may log to a run can log one under the model's id, so they
 * count only with an author, and only for an approval they came before.
 */
function run(evaluation: { time: number; author?: string; details?: Record<string, unknown> }) {
  const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
  const events = [
    ev({ id: 'create', time: at(T0), platform: 'mlflow', stage: 'registry', action: 'model_version.create', actor: actors.aliceMlflow, resource: { type: 'model_version', ...model }, ml: { model } }),
    // The webhook's alias approval (MLflow names no approver).
    ev({ id: 'approve', time: at(T0 + 600_000), platform: 'mlflow', channel: 'mlflow.webhook', stage: 'registry', action: 'model_version.alias_set', resource: { type: 'model_version', ...model }, ml: { model: { ...model, aliases: ['champion'] } }, details: { alias: 'champion' } }),
    ev({
      id: 'lm-eval', time: at(evaluation.time), platform: 'mlflow', channel: 'mlflow.audit', stage: 'evaluation', action: 'evaluation.metrics', operation: 'logged-models/get',
      ...(evaluation.author ? { actor: { id: evaluation.author, name: evaluation.author, type: 'user' as const } } : {}),
      resource: { type: 'model_version', id: 'fraud/1', ...model }, ml: { model, metrics: { adversarial_accuracy: 0.93 }, provenance: { run_id: 'evalrun1' } },
      details: { model_id: 'm-0a1b', evaluation_run_id: 'evalrun1', ...evaluation.details },
    }),
    ev({ id: 'later', time: at(T0 + 3 * 3_600_000), platform: 'mlflow', stage: 'registry', action: 'model.read', actor: actors.aliceMlflow, resource: { type: 'model', name: 'other' } }),
  ].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  return events.flatMap((e) => engine.process(e, Date.parse(e.time))).filter((a) => a.rule_id === RULE);
}

describe('evaluation.adversarial_failure: logged-model evaluations (MLflow 3)', () => {
  it('by a named author, logged before the approval: evidence', () => {
    expect(run({ time: T0 + 300_000, author: 'carol' })).toEqual([]);
  });

  it('logged after the approval by its timestamps: not counted, named in the alert', () => {
    const alerts = run({ time: T0 + 1_200_000, author: 'carol' });
    expect(alerts.map((a) => [a.entity.id, a.evidence])).toEqual([['fraud/1', ['approve', 'lm-eval']]]);
    expect(alerts[0]!.details?.evidence_not_counted).toEqual([{ key: 'adversarial_accuracy', value: 0.93, event: 'lm-eval', author: 'carol', why: `logged after the approval (${at(T0 + 1_200_000)})` }]);
  });

  it('with no author known: not counted', () => {
    const alerts = run({ time: T0 + 300_000, details: { evaluation_author_unknown: 'the evaluation run could not be read: 404' } });
    expect(alerts[0]!.details?.evidence_not_counted).toEqual([{ key: 'adversarial_accuracy', value: 0.93, event: 'lm-eval', why: 'no author known (the evaluation run could not be read: 404)' }]);
  });

  it('first read after the version was approved (the auditor says so): not counted for that approval, whatever its timestamp', () => {
    const alerts = run({ time: T0 + 300_000, author: 'carol', details: { read_after_approval: at(T0 + 900_000) } });
    expect(alerts[0]!.details?.evidence_not_counted).toEqual([expect.objectContaining({ why: `first read by the auditor at ${at(T0 + 900_000)}, after the version was approved` })]);
  });

  it('a failing score is still a failure, author or not', () => {
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const e = ev({ id: 'lm-eval', time: at(T0), platform: 'mlflow', channel: 'mlflow.audit', stage: 'evaluation', action: 'evaluation.metrics', operation: 'logged-models/get', resource: { type: 'model_version', id: 'fraud/1', ...model }, ml: { model, metrics: { adversarial_accuracy: 0.2 } }, details: { evaluation_author_unknown: 'x' } });
    expect(engine.process(e, T0).filter((a) => a.rule_id === RULE).map((a) => a.title)).toEqual(['evaluation.adversarial_failure: Adversarial evaluation failed']);
  });
});
