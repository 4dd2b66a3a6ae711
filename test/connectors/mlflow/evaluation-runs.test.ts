import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { useAuditorHarness } from './auditor-harness.js';

/**
 * MLflow 2's `mlflow.evaluate(model="models:/fraud/2", data=…)` logs its metrics in a run of its own and names the
 * model only by its MLmodel `model_uuid`, in the run's `mlflow.datasets` tag (`_log_dataset_tag`:
 * `[{"name":…,"hash":…,"model":"<model_uuid>"}]`). At the version's approval the auditor searches its run's
 * experiment for such runs, so score_drop sees their metrics as the version's.
 */
const T0 = 1755680000000;
const h = useAuditorHarness('mltrail-mlflow-eval-runs-', T0);
const UUID = '1e5c2b7a9d3f4e6a8b0c1d2e3f4a5b6c';
const mlmodel = (uuid: string) => `artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\nmodel_uuid: ${uuid}\nmlflow_version: 2.14.1\n`;
const datasetsTag = (uuid: string) => JSON.stringify([{ name: 'holdout', hash: '6c0b3e2a', model: uuid }]);

async function approveV2(evalTags: Record<string, string>): Promise<ReturnType<typeof h.events>> {
  h.fake.addModel('fraud', T0, { aliases: { champion: '1' } });
  h.fake.addVersion('fraud', '1', T0 + 10, { MLmodel: mlmodel('0000aaaa1111bbbb2222cccc3333dddd'), 'model.pkl': 'w1' }, { run_id: 'r1' });
  h.fake.addRun('r1', { user: 'alice@corp.example', metrics: { accuracy_score: 0.95 } });
  const a = h.auditor();
  expect(await a.runOnce()).toBe(true);
  h.clock.now += 60_000;
  h.fake.addVersion('fraud', '2', h.clock.now - 1000, { MLmodel: mlmodel(UUID), 'model.pkl': 'w2' }, { run_id: 'r2' });
  h.fake.addRun('r2', { user: 'alice@corp.example', metrics: { train_loss: 0.1 } });
  await a.runOnce();
  h.clock.now += 60_000;
  // mlflow.evaluate(model="models:/fraud/2") in a run of its own, in the same experiment.
  h.fake.addRun('ev2', { user: 'carol@corp.example', metrics: { accuracy_score: 0.7, example_count: 500 }, tags: evalTags });
  h.fake.models.get('fraud')!.aliases = { champion: '2' };
  await a.runOnce();
  return h.events();
}

describe('registry auditor: MLflow 2 evaluation runs linked by model_uuid', () => {
  it('an evaluation run naming the version\'s model_uuid is read at the approval, before it, and score_drop compares it', async () => {
    const all = await approveV2({ 'mlflow.datasets': datasetsTag(UUID) });
    const linked = all.filter((e) => e.operation === 'runs/search');
    expect(linked.map((e) => [e.action, e.ml?.model?.name, e.ml?.model?.version, e.ml?.provenance?.run_id, e.actor?.name, e.ml?.metrics?.accuracy_score])).toEqual([['evaluation.metrics', 'fraud', '2', 'ev2', 'carol@corp.example', 0.7]]);
    expect(linked[0]!.details).toMatchObject({ evaluation_run_id: 'ev2', linked_by: 'mlflow.datasets model_uuid', model_uuid: UUID, datasets: [{ name: 'holdout', hash: '6c0b3e2a' }] });
    expect(all.findIndex((e) => e.action === 'model_version.approve' && e.ml?.model?.version === '2')).toBeGreaterThan(all.indexOf(linked[0]!));
    const drops = replayEvents(all, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'evaluation.score_drop');
    expect(drops.map((a) => [a.entity.id, a.details.metric, a.details.baseline, a.details.baseline_version])).toEqual([['fraud/2', 'accuracy_score', 0.95, '1']]);
  });

  it('a run naming another model, or mentioning the uuid outside its model field, is not linked', async () => {
    const other = await approveV2({ 'mlflow.datasets': JSON.stringify([{ name: 'holdout', hash: UUID, model: 'ffffeeeeddddccccbbbbaaaa99998888' }]) });
    expect(other.filter((e) => e.operation === 'runs/search')).toEqual([]);
  });
});
