import { describe, expect, it } from 'vitest';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { normalizeKfp } from '../../../connectors/kubeflow/kfp/normalize.js';
import { normalizeMlmdRun, type RunGraph } from '../../../connectors/kubeflow/mlmd/normalize.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { auditEvent, ctx } from './helpers.js';

/**
 * How Kubernetes audit events, KFP REST objects and MLMD graphs map onto the fields the rules and
 * the SOC read: outcome, action, privilege facts, image pinning, ids that keep distinct facts
 * apart. Each case is a fact a regression in connectors/kubeflow/{audit,kfp/normalize,mlmd/normalize}.ts
 * would silently change.
 */

const PINNED = 'gcr.io/proj/trainer@sha256:' + 'c'.repeat(64);
const NS = 'kubeflow-user-alice';

function one(r: unknown): NormalizedEvent {
  const out = kubeflowConnector.normalize!(r, ctx());
  expect(out.rejected).toEqual([]);
  expect(out.events).toHaveLength(1);
  return NormalizedEvent.parse(out.events[0]);
}

describe('k8s audit: outcome', () => {
  it('a 400 answer is a failure (the request changed nothing), a 2xx a success', () => {
    const bad = one(auditEvent({ verb: 'create', responseStatus: { metadata: {}, code: 400, reason: 'BadRequest', message: 'invalid' } }));
    expect(bad.outcome).toBe('failure');
    expect(bad.error).toEqual({ code: 'BadRequest', message: 'invalid' });
    expect(one(auditEvent({ responseStatus: { metadata: {}, code: 201 } })).outcome).toBe('success');
  });

  it('a Panic stage is a failure', () => {
    const ev = one(auditEvent({ stage: 'Panic', responseStatus: { metadata: {}, code: 500, message: 'boom' }, annotations: {} }));
    expect(ev.outcome).toBe('failure');
    expect(ev.error?.code).toBe('Panic');
  });
});

describe('k8s audit: credential and privilege actions', () => {
  it('creating a service account token (TokenRequest) is service_account.token_create', () => {
    const ev = one(auditEvent({
      verb: 'create',
      requestURI: `/api/v1/namespaces/${NS}/serviceaccounts/default-editor/token`,
      objectRef: { resource: 'serviceaccounts', namespace: NS, name: 'default-editor', apiVersion: 'v1', subresource: 'token' },
      responseStatus: { metadata: {}, code: 201 },
    }));
    expect([ev.stage, ev.action]).toEqual(['platform', 'service_account.token_create']);
  });

  it('a JSON patch adding a subject to the cluster-admin binding (no roleRef in the patch) grants cluster-admin; `/subjects/-` counts', () => {
    const ev = one(auditEvent({
      level: 'Request',
      verb: 'patch',
      requestURI: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/cluster-admin',
      user: { username: 'alice@example.com', groups: ['system:authenticated'] },
      objectRef: { resource: 'clusterrolebindings', name: 'cluster-admin', apiGroup: 'rbac.authorization.k8s.io', apiVersion: 'v1' },
      requestObject: [{ op: 'add', path: '/subjects/-', value: { kind: 'User', name: 'mallory@example.com', apiGroup: 'rbac.authorization.k8s.io' } }],
    }));
    expect(ev.details?.subjects).toEqual([{ kind: 'User', name: 'mallory@example.com', apiGroup: 'rbac.authorization.k8s.io' }]);
    expect(ev.details?.grants_cluster_admin).toBe(true);
  });

  it('an unpinned init container makes the pod unpinned, and is the image named', () => {
    const ev = one(auditEvent({
      level: 'Request',
      verb: 'create',
      objectRef: { resource: 'pods', namespace: NS, name: 'p', apiVersion: 'v1' },
      responseStatus: { metadata: {}, code: 201 },
      requestObject: { metadata: { name: 'p' }, spec: { initContainers: [{ name: 'fetch', image: 'busybox:latest' }], containers: [{ name: 'main', image: PINNED }] } },
    }));
    expect(ev.ml?.job).toMatchObject({ image: 'busybox:latest', image_pinned: false });
    const debug = one(auditEvent({
      level: 'Request',
      verb: 'create',
      objectRef: { resource: 'pods', namespace: NS, name: 'p', apiVersion: 'v1' },
      responseStatus: { metadata: {}, code: 201 },
      requestObject: { metadata: { name: 'p' }, spec: { containers: [{ name: 'main', image: PINNED }], ephemeralContainers: [{ name: 'dbg', image: 'nicolaka/netshoot', securityContext: { privileged: true } }] } },
    }));
    expect(debug.ml?.job).toMatchObject({ image: 'nicolaka/netshoot', image_pinned: false });
    expect(debug.details?.privileged).toBe(true);
  });
});

describe('k8s audit: KServe deployments', () => {
  it('a merge patch of labels deploys nothing, even when the stored object (response) names a model', () => {
    const ev = one(auditEvent({
      level: 'RequestResponse',
      verb: 'patch',
      user: { username: 'alice@example.com', groups: ['system:authenticated'] },
      objectRef: { resource: 'inferenceservices', namespace: NS, name: 'churn', apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1' },
      requestObject: { metadata: { labels: { team: 'risk' } } },
      responseObject: { metadata: { name: 'churn', labels: { team: 'risk' } }, spec: { predictor: { sklearn: { storageUri: 'gs://models/churn/v3' } } } },
    }));
    expect(ev.ml?.deployment).toEqual({ endpoint: `${NS}/churn` });
  });
});

describe('k8s audit: KFP authorization checks (SubjectAccessReview by ml-pipeline)', () => {
  const sar = (resourceAttributes: Record<string, unknown>, status?: Record<string, unknown>) =>
    auditEvent({
      level: 'RequestResponse',
      verb: 'create',
      requestURI: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      user: { username: 'system:serviceaccount:kubeflow:ml-pipeline', groups: ['system:serviceaccounts'] },
      objectRef: { resource: 'subjectaccessreviews', apiGroup: 'authorization.k8s.io', apiVersion: 'v1' },
      responseStatus: { metadata: {}, code: 201 },
      requestObject: { spec: { user: 'bob@example.com', groups: ['system:authenticated'], resourceAttributes } },
      ...(status ? { responseObject: { spec: { user: 'bob@example.com', resourceAttributes }, status } } : {}),
    });

  it('without a logged answer the outcome is unknown, not success', () => {
    const ev = one(sar({ group: 'pipelines.kubeflow.org', verb: 'delete', resource: 'runs', name: 'r1', namespace: NS }));
    expect(ev.actor?.id).toBe('bob@example.com');
    expect(ev.action).toBe('pipeline_run.delete');
    expect(ev.outcome).toBe('unknown');
    expect(one(sar({ group: 'pipelines.kubeflow.org', verb: 'delete', resource: 'runs', name: 'r1', namespace: NS }, { allowed: true })).outcome).toBe('success');
    expect(one(sar({ group: 'pipelines.kubeflow.org', verb: 'delete', resource: 'runs', name: 'r1', namespace: NS }, { allowed: false, reason: 'no' })).outcome).toBe('failure');
  });

  it('a review of another API group is not a KFP call of the checked user', () => {
    const ev = one(sar({ group: 'apps', verb: 'delete', resource: 'deployments', name: 'd', namespace: NS }, { allowed: true }));
    expect(ev.actor?.id).toBe('system:serviceaccount:kubeflow:ml-pipeline');
    expect(ev.operation).toBe('create subjectaccessreviews');
    expect(ev.details?.kfp_authorization).toBeUndefined();
  });
});

describe('KFP REST objects', () => {
  const kfp = (record: unknown, meta: Record<string, unknown> = { namespace: NS }) => {
    const out = normalizeKfp(record, { ...ctx(), meta });
    expect(out.rejected).toEqual([]);
    for (const e of out.events) NormalizedEvent.parse(e);
    return out.events;
  };
  const spec = (...images: string[]) => ({ pipelineInfo: { name: 'p' }, deploymentSpec: { executors: Object.fromEntries(images.map((image, i) => [`exec-${i}`, { container: { image } }])) } });
  const run = (over: Record<string, unknown>) => ({
    run_id: 'run-1', display_name: 'nightly', experiment_id: 'exp-1', service_account: 'pipeline-runner', storage_state: 'AVAILABLE',
    created_at: '2026-11-25T10:00:00Z', scheduled_at: '2026-11-25T10:00:00Z', finished_at: '1970-01-01T00:00:00Z', state: 'RUNNING',
    pipeline_spec: spec(PINNED), ...over,
  });

  it('a run with one unpinned executor image is not pinned, and names that image', () => {
    const [create] = kfp(run({ pipeline_spec: spec(PINNED, 'python:3.11') }));
    expect(create!.ml?.job).toMatchObject({ image: 'python:3.11', image_pinned: false, images: [PINNED, 'python:3.11'] });
  });

  it('a FAILED run is a failure with its error; its time is when it failed (state history), not when it was created', () => {
    const events = kfp(run({
      state: 'FAILED', finished_at: '2026-11-25T10:30:00Z', error: { code: 9, message: 'step train failed' },
      state_history: [{ update_time: '2026-11-25T10:01:00Z', state: 'PENDING' }, { update_time: '2026-11-25T10:02:00Z', state: 'RUNNING' }, { update_time: '2026-11-25T10:29:00Z', state: 'FAILED' }],
    }));
    const fail = events.find((e) => e.action === 'pipeline_run.fail')!;
    expect(fail.outcome).toBe('failure');
    expect(fail.error).toEqual({ code: '9', message: 'step train failed' });
    expect(fail.time).toBe('2026-11-25T10:29:00.000Z');
  });

  it('the zero timestamp the API renders for "unset" is no time: a finished run without history is dated by creation, never 1970', () => {
    const events = kfp(run({ state: 'SUCCEEDED', finished_at: '1970-01-01T00:00:00Z' }));
    expect(events.map((e) => e.time)).toEqual(['2026-11-25T10:00:00.000Z', '2026-11-25T10:00:00.000Z']);
    // A pipeline whose created_at is the zero timestamp is refused, not dated 1970.
    const out = normalizeKfp({ pipeline_id: 'p1', display_name: 'p', created_at: '1970-01-01T00:00:00Z' }, ctx());
    expect(out.events).toEqual([]);
    expect(out.rejected[0]!.field).toBe('created_at');
  });

  const recurring = (over: Record<string, unknown>) => ({
    recurring_run_id: 'rr-1', display_name: 'hourly', service_account: 'pipeline-runner', mode: 'ENABLE', status: 'ENABLED',
    created_at: '2026-11-20T10:00:00Z', updated_at: '2026-11-25T10:00:00Z', trigger: { cron_schedule: { cron: '0 0 * * * *' } }, max_concurrency: '1',
    pipeline_version_reference: { pipeline_id: 'p1', pipeline_version_id: 'pv-1' }, ...over,
  });

  it('a recurring run with status DISABLED is disabled', () => {
    const events = kfp(recurring({ mode: undefined, status: 'DISABLED' }));
    expect(events.map((e) => e.action)).toEqual(['recurring_run.create', 'recurring_run.disable']);
  });

  it('each distinct schedule configuration is its own event; the same one read again has the same id', () => {
    const a = kfp(recurring({}))[1]!;
    const again = kfp(recurring({}))[1]!;
    const other = kfp(recurring({ trigger: { cron_schedule: { cron: '0 */5 * * * *' } } }))[1]!;
    expect(again.id).toBe(a.id);
    expect(other.id).not.toBe(a.id);
    expect(kfp(recurring({ pipeline_version_reference: { pipeline_id: 'p1', pipeline_version_id: 'pv-2' } }))[1]!.id).not.toBe(a.id);
  });
});

describe('MLMD run graphs', () => {
  const RUN = 'run-9';
  const exec = (id: string, task: string, state = 'COMPLETE', created = '1764064800000', updated = '1764065400000') => ({
    id, type: 'system.ContainerExecution', last_known_state: state,
    custom_properties: { task_name: { string_value: task }, parent_dag_id: { int_value: '1' } },
    create_time_since_epoch: created, last_update_time_since_epoch: updated,
  });
  const art = (id: string, type: string, uri: string) => ({ id, type, uri });
  const ev = (execution_id: string, artifact_id: string, type: 'INPUT' | 'OUTPUT', key: string) => ({ execution_id, artifact_id, type, path: { steps: [{ key }] }, milliseconds_since_epoch: '1764065000000' });
  // load → raw dataset; prep (raw) → features; train (features) → model; eval (model) → metrics.
  const graph: RunGraph = {
    run: { id: '100', name: RUN },
    executions: [exec('1', 'load'), exec('2', 'prep'), exec('3', 'train'), exec('4', 'score', 'RUNNING', '1764066000000', '1764066600000')],
    artifacts: [art('10', 'system.Dataset', 's3://raw/2026-11'), art('11', 'system.Artifact', 's3://work/features'), art('12', 'system.Model', 's3://models/m'), art('13', 'system.Artifact', 's3://work/features')],
    events: [
      ev('1', '10', 'OUTPUT', 'raw'),
      ev('2', '10', 'INPUT', 'raw'), ev('2', '11', 'OUTPUT', 'features'),
      ev('3', '11', 'INPUT', 'features'), ev('3', '12', 'OUTPUT', 'model'),
      ev('4', '11', 'INPUT', 'features'),
    ],
  };
  const events = normalizeMlmdRun(graph, new Set(['1', '2', '3', '4']), { channel: 'kubeflow.mlmd', receivedTime: '2026-11-25T12:00:00.000Z', keepRaw: false }, { namespace: NS });
  for (const e of events) NormalizedEvent.parse(e);

  it('a step sees the datasets upstream of it through intermediate artifacts (train ← features ← raw)', () => {
    const train = events.find((e) => e.action === 'pipeline_step.complete' && e.resource?.name === 'train')!;
    expect(train.ml?.data?.inputs).toEqual(['s3://raw/2026-11']);
    const model = events.find((e) => e.action === 'artifact.produce' && e.resource?.type === 'system.Model')!;
    expect(model.ml?.provenance).toMatchObject({ upstream_datasets: ['s3://raw/2026-11'] });
  });

  it('one artifact consumed by two steps is two events', () => {
    const consumed = events.filter((e) => e.action === 'artifact.consume' && e.resource?.id === 'mlmd:artifact:11');
    expect(consumed.map((e) => e.details?.mlmd_execution_id).sort()).toEqual(['3', '4']);
    expect(new Set(consumed.map((e) => e.id)).size).toBe(2);
  });

  it('a running step is dated when it started, a finished one when it finished', () => {
    const running = events.find((e) => e.action === 'pipeline_step.start')!;
    expect(running.time).toBe(new Date(1764066000000).toISOString());
    const done = events.find((e) => e.action === 'pipeline_step.complete' && e.resource?.name === 'train')!;
    expect(done.time).toBe(new Date(1764065400000).toISOString());
  });
});
