import { afterEach, describe, expect, it } from 'vitest';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { decodeMessage, encodeMessage } from '../../../connectors/kubeflow/mlmd/proto.js';
import { KFP_RUNS_STATE_NS, MLMD_STATE_NS, MlmdPoller } from '../../../connectors/kubeflow/mlmd/poller.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { FakeMlmd, RUN_ID, finishKfpRun, seedKfpRun } from './fake-mlmd.js';
import { harness, type Harness } from './helpers.js';

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function setup(pageSize = 2) {
  const db = new FakeMlmd();
  const t0 = Date.now() - 3_600_000;
  seedKfpRun(db, t0);
  const address = await db.start();
  const h = harness({ mlmd: { address, page_size: pageSize } });
  const poller = new MlmdPoller(h.deps);
  cleanup.push(() => db.stop(), () => poller.stop(), () => h.close());
  return { db, t0, h, poller, signal: new AbortController().signal };
}

const find = (h: Harness, pred: (e: NormalizedEvent) => boolean) => h.events().filter(pred);

describe('MLMD message definitions', () => {
  it('round-trip an Execution with int64, enums, oneof Values and a Struct', () => {
    const x = {
      id: '9007199254740993',
      type: 'system.ContainerExecution',
      last_known_state: 'CACHED',
      custom_properties: { parent_dag_id: { int_value: '42' }, inputs: { struct_value: { fields: { lr: { number_value: 0.5 }, tags: { list_value: { values: [{ string_value: 'a' }] } } } } } },
      last_update_time_since_epoch: '1764064800123',
    };
    const back = decodeMessage('Execution', encodeMessage('Execution', x));
    expect(back).toEqual({ ...x, properties: {} });
  });

  it('use the upstream field numbers (Execution.last_known_state = 3, Artifact.uri = 3, Event.type = 4)', () => {
    // tag = field << 3 | wire type 0 (varint)
    expect([...encodeMessage('Execution', { last_known_state: 'COMPLETE' })]).toEqual([3 << 3, 3]);
    expect([...encodeMessage('Event', { type: 'OUTPUT' })]).toEqual([4 << 3, 4]);
    expect(encodeMessage('Artifact', { uri: 'x' })[0]).toBe((3 << 3) | 2);
    expect([...encodeMessage('ListOperationOptions', { max_result_size: 100 })]).toEqual([1 << 3, 100]);
  });
});

describe('MLMD poller against an in-process gRPC ml_metadata server', () => {
  it('emits run, steps and artifacts with provenance, paging with the first call’s options', async () => {
    const { db, h, poller, signal } = await setup(2);
    h.spool.state.set(KFP_RUNS_STATE_NS, RUN_ID, { service_account: 'default-editor', namespace: 'kubeflow-user-alice', pipeline_version_id: 'pv-7' });
    const stats = await poller.pollOnce(signal);
    expect(stats).toMatchObject({ executions: 4, pages: 2 });

    // Paging: the second call carries the token AND the same filter/order/size.
    expect(db.listCalls).toHaveLength(2);
    expect(db.listCalls[0]).toMatchObject({ max_result_size: 2, order_by_field: { field: 'LAST_UPDATE_TIME', is_asc: true } });
    expect(db.listCalls[0]!.filter_query).toMatch(/^last_update_time_since_epoch >= \d+$/);
    expect(db.listCalls[1]!.next_page_token).toBeTruthy();
    expect(db.listCalls[1]!.filter_query).toBe(db.listCalls[0]!.filter_query);

    for (const e of h.events()) NormalizedEvent.parse(e);
    const [start] = find(h, (e) => e.action === 'pipeline_run.start');
    expect(start).toMatchObject({
      stage: 'training',
      channel: 'kubeflow.mlmd',
      resource: { type: 'pipeline_run', id: RUN_ID, namespace: 'kubeflow-user-alice' },
      actor: { type: 'service', id: 'system:serviceaccount:kubeflow-user-alice:default-editor' },
      ml: { job: { params: { learning_rate: 0.01, epochs: 5, source_table: 'payments.transactions_2026q3' } }, provenance: { run_id: RUN_ID, pipeline: 'fraud-detector-training' } },
    });

    const steps = find(h, (e) => e.action.startsWith('pipeline_step.'));
    expect(steps.map((e) => [e.resource?.name, e.action, e.stage]).sort()).toEqual([
      ['evaluate', 'pipeline_step.start', 'training'],
      ['load-data', 'pipeline_step.complete', 'ingestion'],
      ['train', 'pipeline_step.complete', 'training'],
    ]);
    const train = steps.find((e) => e.resource?.name === 'train')!;
    expect(train.details).toMatchObject({ pod_name: 'fraud-detector-training-x2k9q-system-container-impl-2222', pod_namespace: 'kubeflow-user-alice', task_name: 'train', parent_dag_id: '10' });

    const dataset = find(h, (e) => e.action === 'artifact.produce' && e.resource?.type === 'system.Dataset')[0]!;
    expect(dataset).toMatchObject({ stage: 'ingestion', resource: { uri: expect.stringContaining('/load-data/') } });
    expect(dataset.details?.store_session).toEqual({ provider: 'minio', secret_name: 'mlpipeline-minio-artifact', endpoint: 'minio-service.kubeflow:9000', from_env: 'false' });
    expect(JSON.stringify(dataset.details)).not.toContain('secretKeyKey');

    const consumed = find(h, (e) => e.action === 'artifact.consume');
    expect(consumed.map((e) => [e.details?.artifact_role, e.resource?.type]).sort()).toEqual([
      ['model', 'system.Model'],
      ['test_data', 'system.Dataset'],
      ['training_data', 'system.Dataset'],
    ]);

    const model = find(h, (e) => e.action === 'artifact.produce' && e.resource?.type === 'system.Model')[0]!;
    const datasetUri = dataset.resource!.uri!;
    expect(model).toMatchObject({
      stage: 'training',
      actor: { name: 'default-editor' },
      ml: {
        model: { artifact_uri: expect.stringContaining('/train/'), run_id: RUN_ID },
        data: { inputs: [datasetUri], outputs: [model.resource!.uri] },
        provenance: { run_id: RUN_ID, pipeline: 'fraud-detector-training', pipeline_version: 'pv-7', step: 'train', inputs: [datasetUri], upstream_datasets: [datasetUri] },
      },
    });

    const cursor = h.spool.state.get<{ t: number; ids: string[] }>(MLMD_STATE_NS, `cursor:${db.address}`)!;
    expect(cursor.ids).toEqual(['13']);
  });

  it('after an update, the next poll reads only what changed and emits metrics and run completion', async () => {
    const { db, t0, h, poller, signal } = await setup(2);
    await poller.pollOnce(signal);
    const before = h.events().length;
    const cursor = h.spool.state.get<{ t: number }>(MLMD_STATE_NS, `cursor:${db.address}`)!;
    finishKfpRun(db, t0);
    db.listCalls = [];

    const stats = await poller.pollOnce(signal);
    expect(db.listCalls[0]!.filter_query).toBe(`last_update_time_since_epoch >= ${cursor.t}`);
    expect(stats.executions).toBe(2);
    const fresh = h.events().slice(before);
    expect(fresh.map((e) => e.action).sort()).toEqual(['evaluation.metrics', 'evaluation.metrics', 'pipeline_run.complete', 'pipeline_step.complete']);

    const metrics = fresh.find((e) => e.resource?.type === 'system.Metrics')!;
    expect(metrics).toMatchObject({ stage: 'evaluation', ml: { metrics: { accuracy: 0.943, auc: 0.981, f1: 0.912 }, provenance: { step: 'evaluate', run_id: RUN_ID } } });
    expect(metrics.ml?.provenance?.inputs?.length).toBe(2);
    const confusion = fresh.find((e) => e.resource?.type === 'system.ClassificationMetrics')!;
    expect(confusion.details?.confusion_matrix).toEqual({ struct: { annotationSpecs: [{ displayName: 'legit' }, { displayName: 'fraud' }], rows: [{ row: [9500, 120] }, { row: [80, 300] }] } });
    const evaluate = fresh.find((e) => e.action === 'pipeline_step.complete')!;
    expect(evaluate.stage).toBe('evaluation');

    // Nothing changed: nothing read, nothing emitted; a restarted poller resumes from the stored cursor.
    expect(await poller.pollOnce(signal)).toMatchObject({ executions: 0, events: 0 });
    const again = new MlmdPoller(h.deps);
    cleanup.push(() => again.stop());
    expect(await again.pollOnce(signal)).toMatchObject({ executions: 0, events: 0 });
  });

  it('a run with more executions than one GetExecutionsByContext page (100) is read whole: every step has its event', async () => {
    const { db, t0, h, poller, signal } = await setup(100);
    for (let i = 0; i < 110; i++) {
      const id = String(200 + i);
      db.executions.push({
        id, type_id: '22', type: 'system.ContainerExecution', last_known_state: 'COMPLETE',
        custom_properties: { display_name: { string_value: `shard-${i}` }, task_name: { string_value: `shard-${i}` }, parent_dag_id: { int_value: '10' }, namespace: { string_value: 'kubeflow-user-alice' } },
        create_time_since_epoch: String(t0 + 1_000 + i), last_update_time_since_epoch: String(t0 + 2_000 + i),
      });
      db.associations.push({ execution: id, context: '1' }, { execution: id, context: '2' });
    }
    await poller.pollOnce(signal);
    const steps = find(h, (e) => e.action.startsWith('pipeline_step.'));
    expect(new Set(steps.map((e) => e.resource?.name)).size).toBe(113);
    expect(steps.filter((e) => e.resource?.name === 'shard-109')).toHaveLength(1);
  });

  it('a failed step comes out as pipeline_step.fail with outcome failure', async () => {
    const { db, h, poller, signal } = await setup(100);
    const x = db.executions.find((e) => e.id === '13')!;
    x.last_known_state = 'FAILED';
    await poller.pollOnce(signal);
    expect(find(h, (e) => e.action === 'pipeline_step.fail')[0]).toMatchObject({ outcome: 'failure', resource: { name: 'evaluate' } });
  });

  it('the bridge starts it from MLTRAIL_MLMD_ADDRESS; an unreachable server makes it unhealthy and emits source.unavailable', async () => {
    const h = harness(kubeflowConnector.fromEnv!({ MLTRAIL_MLMD_ADDRESS: '127.0.0.1:1', MLTRAIL_KUBEFLOW_POLL_S: '30' })!);
    expect(h.deps.config.mlmd.address).toBe('127.0.0.1:1');
    expect(h.deps.config.poll_interval_s).toBe(30);
    h.deps.config.mlmd.timeout_ms = 300;
    const [p] = kubeflowConnector.pollers!(h.deps);
    cleanup.push(() => h.close());
    expect(p!.name).toBe('kubeflow.mlmd');
    p!.start();
    await expect.poll(() => p!.health!().state, { timeout: 20_000, interval: 200 }).toBe('unhealthy');
    await expect.poll(() => h.events().map((e) => e.action), { timeout: 5000 }).toContain('source.unavailable');
    await p!.stop();
  });
});
