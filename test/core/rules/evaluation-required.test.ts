import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig, createRuleEngine } from '../../../core/rules/engine.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import { T0, actors, at, ev, type Draft } from '../../rules/events.js';

/** `evaluation.score_drop` `require_at_approval` (opt-in): an approval with no quality metric on record an hour on. */
const on = RulesConfig.parse({ 'evaluation.score_drop': { require_at_approval: true } });
const mk = (id: string, min: number, d: Partial<Draft> & Pick<Draft, 'action'>) => ev({ id, time: at(T0 + min * 60_000), platform: 'mlflow', stage: 'registry', ...d });
const created = mk('c7', 0, { action: 'model_version.create', operation: 'model_version.created', actor: actors.aliceMlflow, resource: { type: 'model_version', name: 'fraud', version: '7' }, ml: { model: { name: 'fraud', version: '7', run_id: 'r7', artifact_uri: 's3://m/fraud/7' } } });
const approved = mk('a7', 1, { action: 'model_version.alias_set', operation: 'model_version_alias.created', actor: actors.bob, resource: { type: 'model_version', name: 'fraud', version: '7' }, ml: { model: { name: 'fraud', version: '7', aliases: ['champion'] } }, details: { alias: 'champion' } });
/** The MLflow auditor's runs/get evaluation of the version's run, read after the approval webhook. */
const metrics = (min: number, m: Record<string, number>) => mk('m7', min, { channel: 'mlflow.audit', stage: 'evaluation', action: 'evaluation.metrics', operation: 'runs/get', actor: actors.aliceMlflow, resource: { type: 'model_version', id: 'fraud/7', name: 'fraud' }, ml: { model: { name: 'fraud', version: '7', run_id: 'r7' }, metrics: m, provenance: { run_id: 'r7' } } });
const required = (events: ReturnType<typeof ev>[], rules = on) => replayEvents(events, { rules }).alerts.filter((a) => a.rule_id === 'evaluation.score_drop');

describe('evaluation.score_drop require_at_approval', () => {
  it('an approval with no quality metric on record is a finding, dated at the approval', () => {
    const alerts = required([created, approved]);
    expect(alerts.map((a) => [a.entity.id, a.details.finding, a.time])).toEqual([['fraud/7', 'no_quality_metric', at(T0 + 60_000)]]);
    expect(alerts[0]!.summary).toMatch(/fraud v7 was approved by bob@corp\.example .* no quality metric on record/);
  });

  it('metrics logged before the approval, or read within its hour (the auditor polls after the webhook), are the evaluation', () => {
    expect(required([created, metrics(0.5, { val_accuracy: 0.93 }), approved])).toEqual([]);
    expect(required([created, approved, metrics(20, { accuracy_val: 0.93 })])).toEqual([]);
  });

  it('only adversarial metrics or names no metric of the rule are no quality evaluation', () => {
    expect(required([created, metrics(0.5, { adv_robust_accuracy: 0.8, example_count: 1000 }), approved]).map((a) => a.details.finding)).toEqual(['no_quality_metric']);
  });

  it('served: judged an hour on, by the idle tick too', () => {
    const engine = createRuleEngine(on, new MemoryStateStore());
    const out = [created, approved].flatMap((e) => engine.process(e, Date.parse(e.time))).filter((a) => a.rule_id === 'evaluation.score_drop');
    expect(out).toEqual([]);
    expect(engine.tick(T0 + 40 * 60_000).filter((a) => a.rule_id === 'evaluation.score_drop')).toEqual([]);
    expect(engine.tick(T0 + 75 * 60_000).filter((a) => a.rule_id === 'evaluation.score_drop').map((a) => a.details.finding)).toEqual(['no_quality_metric']);
  });

  it('a SageMaker package registered with a model_quality report has its evaluation; off by default nothing is judged', () => {
    const PKG = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/3';
    const sm = (id: string, min: number, d: Partial<Draft> & Pick<Draft, 'action'>) => ev({ id, time: at(T0 + min * 60_000), platform: 'sagemaker', stage: 'registry', resource: { type: 'model_package', id: PKG, name: 'fraud', version: '3' }, ...d });
    const withReport = sm('s3c', 0, { action: 'model_version.create', operation: 'CreateModelPackage', actor: actors.ci, ml: { model: { name: 'fraud', version: '3', artifact_uri: 's3://m/fraud/3/model.tar.gz' } }, details: { model_metrics: [{ report: 'model_quality.statistics', uri: 's3://ml-eval/fraud/exec-7f3a/evaluation/evaluation.json', content_type: 'application/json' }] } });
    const approve = sm('s3a', 10, { action: 'model_version.approve', operation: 'UpdateModelPackage', actor: actors.aliceAws, ml: { model: { name: 'fraud', version: '3', approval: 'approved' } } });
    expect(required([withReport, approve])).toEqual([]);
    const bare = { ...withReport, details: {} } as ReturnType<typeof ev>;
    expect(required([bare, approve]).map((a) => a.entity.id)).toEqual(['111122223333:us-east-1:fraud/3']);
    expect(required([created, approved], RulesConfig.parse({}))).toEqual([]);
  });
});
