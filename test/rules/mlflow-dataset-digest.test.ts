import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { ModelVersion, Run } from '../../connectors/mlflow/client.js';
import { runEvents } from '../../connectors/mlflow/provenance.js';
import { versionSnap } from '../../connectors/mlflow/snapshot.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';

/**
 * The datasets a registered version's run logged with `mlflow.log_input` (`POST /api/2.0/mlflow/runs/log-inputs`,
 * read back from `runs/get` as `run.inputs.dataset_inputs[].dataset {name, digest, source_type, source, schema,
 * profile}`): one `dataset.read` per dataset at stage ingestion, its source the dataset's name in the run's
 * experiment; ingestion.schema_mismatch learns its schema, and (for `digest_sources`) compares its content digest with
 * the previous run's.
 */
const SCHEMA_A = JSON.stringify({ mlflow_colspec: [{ type: 'double', name: 'amount', required: true }, { type: 'long', name: 'label', required: true }] });
const SCHEMA_B = JSON.stringify({ mlflow_colspec: [{ type: 'double', name: 'amount', required: true }, { type: 'string', name: 'label', required: true }] });
const SOURCE = 'dataset:experiments/1/datasets/fraud-train';

/** The registry auditor's events of version `v` of model `fraud`, from the runs/get response MLflow returns. */
function version(v: number, digest: string, opts: { schema?: string; experiment?: string; name?: string; uri?: string } = {}): NormalizedEvent[] {
  const t = Date.parse('2026-10-01T03:00:00Z') + v * 86_400_000;
  const mv = ModelVersion.parse({ name: 'fraud', version: String(v), creation_timestamp: t + 60_000, run_id: `run${v}`, source: `s3://mlflow-artifacts/1/run${v}/artifacts/model`, user_id: 'ci@corp.example' });
  const run = Run.parse({
    info: { run_id: `run${v}`, run_uuid: `run${v}`, run_name: `run-${v}`, experiment_id: opts.experiment ?? '1', user_id: 'ci@corp.example', status: 'FINISHED', start_time: t - 600_000, end_time: t, artifact_uri: `s3://mlflow-artifacts/1/run${v}/artifacts`, lifecycle_stage: 'active' },
    data: { tags: [{ key: 'mlflow.user', value: 'ci@corp.example' }] },
    inputs: {
      dataset_inputs: [{
        tags: [{ key: 'mlflow.data.context', value: 'training' }],
        dataset: {
          name: opts.name ?? 'fraud-train', digest, source_type: 's3', source: JSON.stringify({ uri: opts.uri ?? 's3://training-data/fraud/train.parquet' }),
          schema: opts.schema ?? SCHEMA_A, profile: JSON.stringify({ num_rows: 1000 + v, num_elements: 2 * (1000 + v) }),
        },
      }],
    },
  });
  return runEvents(versionSnap(mv), run, t + 120_000, new Date(t + 120_000).toISOString());
}
const alertsOf = (evs: NormalizedEvent[], rules: Record<string, unknown> = {}): Alert[] =>
  replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === 'ingestion.schema_mismatch');
const DIGESTS = { 'ingestion.schema_mismatch': { digest_sources: ['dataset:experiments/*/datasets/fraud-*'] } };

describe('MLflow log_input datasets', () => {
  it('a version\'s run gives one dataset.read per dataset: location, schema hash, rows, digest', () => {
    const read = version(1, '6f2c1a9e').find((e) => e.action === 'dataset.read')!;
    expect(read).toMatchObject({ platform: 'mlflow', stage: 'ingestion', resource: { type: 'dataset', id: 'experiments/1/datasets/fraud-train' }, actor: { id: 'ci@corp.example' } });
    expect(read.ml?.data).toEqual({ uris: ['s3://training-data/fraud/train.parquet'], schema_hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), rows: 1001 });
    expect(read.details).toMatchObject({ dataset_name: 'fraud-train', dataset_digest: '6f2c1a9e', dataset_source_type: 's3', dataset_context: 'training', experiment_id: '1' });
    // The same run behind two versions is one read.
    expect(version(1, '6f2c1a9e').find((e) => e.action === 'dataset.read')!.id).toBe(read.id);
  });

  it('ingestion.schema_mismatch: a changed schema under the same name alerts once (default settings)', () => {
    const evs = [...version(1, 'a1'), ...version(2, 'a2'), ...version(3, 'a3', { schema: SCHEMA_B }), ...version(4, 'a4', { schema: SCHEMA_B })];
    const alerts = alertsOf(evs);
    expect(alerts.map((a) => [a.entity.id, a.details.basis])).toEqual([[SOURCE, 'learned']]);
  });

  it('digest_sources: a changed digest with the same name is the data change signal, against the previous run', () => {
    const before = [...version(1, 'a1'), ...version(2, 'a1')];
    expect(alertsOf(before, DIGESTS)).toEqual([]);
    const changed = version(3, 'b7');
    const [alert, ...more] = alertsOf([...before, ...changed, ...version(4, 'b7')], DIGESTS);
    expect(more).toEqual([]);
    expect(alert!.entity.id).toBe(SOURCE);
    expect(alert!.evidence).toEqual([before.find((e) => e.action === 'dataset.read' && e.details?.dataset_digest === 'a1' && e.ml?.provenance?.run_id === 'run2')!.id, changed.find((e) => e.action === 'dataset.read')!.id]);
    expect(alert!.details).toMatchObject({ finding: 'content_digest_changed', dataset_digest: 'b7', previous_digest: 'a1', run_id: 'run3', previous_run_id: 'run2' });
    // Unlisted (the default), fresh content every run is no finding.
    expect(alertsOf([...before, ...changed])).toEqual([]);
  });

  it('digest_sources: another experiment\'s dataset of the same name, or another name, is another source', () => {
    const evs = [...version(1, 'a1'), ...version(2, 'z9', { experiment: '7' }), ...version(3, 'q1', { name: 'fraud-eval' }), ...version(4, 'a1')];
    expect(alertsOf(evs, DIGESTS)).toEqual([]);
  });
});

describe('MLflow log_input datasets logged without a name (verify28b)', () => {
  it('unnamed datasets (MLflow names them "dataset") of different notebooks alternating schemas are no schema_mismatch storm; the schema stays in details', () => {
    const evs = [1, 2, 3, 4].flatMap((v) => version(v, `d${v}`, { name: 'dataset', schema: v % 2 ? SCHEMA_A : SCHEMA_B }));
    expect(alertsOf(evs)).toEqual([]);
    const read = evs.find((e) => e.action === 'dataset.read')!;
    expect(read.ml?.data?.schema_hash).toBeUndefined();
    expect(read.details).toMatchObject({ dataset_name: 'dataset', dataset_schema_hash: expect.stringMatching(/^sha256:/), schema_not_learned: expect.any(String) });
  });
});
