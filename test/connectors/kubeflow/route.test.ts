import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { AUDIT_ROUTE } from '../../../connectors/kubeflow/route.js';
import { KubeflowConfig, kubeflowFromEnv } from '../../../connectors/kubeflow/config.js';
import { auditEvent, harness, Hono, listen, type Harness } from './helpers.js';
import { readFixtureJson } from '../../helpers/fixtures.js';

const TOKEN = 'audit-token-3f9c1e7a5b';
let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function start(config: Record<string, unknown> = {}, server: Record<string, unknown> = { ingestToken: TOKEN }, listenOpts: Record<string, unknown> = {}) {
  const h = harness(config, server);
  const app = new Hono();
  kubeflowConnector.routes!(app, h.deps);
  const srv = await listen(app, listenOpts);
  cleanup.push(() => h.close(), () => srv.close());
  return { h, url: `${srv.url}${AUDIT_ROUTE}` };
}

const post = (url: string, body: string | Buffer, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) =>
  fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

const list = (items: unknown[]) => JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items });

/** The four cases the issue names, as a kube-apiserver in a Kubeflow cluster would send them. */
function kubeflowBatch() {
  const deniedExec = {
    ...auditEvent({
      auditID: '0b7c2a55-1d1e-4f0a-9d6f-0c1f1c7e0001',
      verb: 'create',
      stage: 'ResponseComplete',
      user: { username: 'mallory@example.com', groups: ['kubeflow-users', 'system:authenticated'] },
      sourceIPs: ['203.0.113.50', '10.0.0.12'],
      userAgent: 'kubectl/v1.31.0 (linux/amd64) kubernetes/9edcffc',
      objectRef: { resource: 'pods', subresource: 'exec', namespace: 'kubeflow', name: 'ml-pipeline-5c8f7b9d4-qz2mx', apiVersion: 'v1' },
      requestURI: '/api/v1/namespaces/kubeflow/pods/ml-pipeline-5c8f7b9d4-qz2mx/exec?command=%2Fbin%2Fsh&container=ml-pipeline-api-server&stdin=true&stdout=true&tty=true',
      responseStatus: { metadata: {}, status: 'Failure', message: 'pods "ml-pipeline-5c8f7b9d4-qz2mx" is forbidden: User "mallory@example.com" cannot create resource "pods/exec" in API group "" in the namespace "kubeflow"', reason: 'Forbidden', details: { name: 'ml-pipeline-5c8f7b9d4-qz2mx', kind: 'pods' }, code: 403 },
      annotations: { 'authorization.k8s.io/decision': 'forbid', 'authorization.k8s.io/reason': '' },
    }),
  };
  const privilegedPod: Record<string, unknown> = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    ...auditEvent({
      auditID: '0b7c2a55-1d1e-4f0a-9d6f-0c1f1c7e0002',
      level: 'Request',
      verb: 'create',
      user: { username: 'system:serviceaccount:kubeflow:argo', groups: ['system:serviceaccounts', 'system:serviceaccounts:kubeflow', 'system:authenticated'] },
      objectRef: { resource: 'pods', namespace: 'kubeflow-user-alice', apiVersion: 'v1' },
      requestURI: '/api/v1/namespaces/kubeflow-user-alice/pods',
      requestObject: {
        kind: 'Pod',
        apiVersion: 'v1',
        metadata: { name: 'train-x7k2p-system-container-impl-2841', labels: { 'pipeline/runid': 'c0ffee00-1111-4222-8333-444455556666', 'workflows.argoproj.io/workflow': 'train-x7k2p' } },
        spec: { serviceAccountName: 'default-editor', containers: [{ name: 'main', image: 'docker.io/acme/miner:latest', securityContext: { privileged: true } }] },
      },
      responseStatus: { metadata: {}, code: 201 },
      annotations: {
        'authorization.k8s.io/decision': 'allow',
        'authorization.k8s.io/reason': 'RBAC: allowed by ClusterRoleBinding "argo-binding" of ClusterRole "argo-cluster-role" to ServiceAccount "argo/kubeflow"',
        'pod-security.kubernetes.io/enforce-policy': 'baseline:latest',
        'pod-security.kubernetes.io/audit-violations': 'would violate PodSecurity "restricted:latest": privileged (container "main" must not set securityContext.privileged=true)',
      },
    }),
  };
  const clusterAdmin = auditEvent({
    auditID: '0b7c2a55-1d1e-4f0a-9d6f-0c1f1c7e0003',
    level: 'RequestResponse',
    verb: 'create',
    user: { username: 'bob@example.com', groups: ['system:authenticated'] },
    objectRef: { resource: 'clusterrolebindings', apiGroup: 'rbac.authorization.k8s.io', apiVersion: 'v1', name: 'pipeline-runner-admin' },
    requestURI: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
    requestObject: {
      kind: 'ClusterRoleBinding',
      apiVersion: 'rbac.authorization.k8s.io/v1',
      metadata: { name: 'pipeline-runner-admin' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'pipeline-runner', namespace: 'kubeflow' }],
    },
    responseStatus: { metadata: {}, code: 201 },
  });
  const secretGet = auditEvent({ auditID: '0b7c2a55-1d1e-4f0a-9d6f-0c1f1c7e0004' });
  const secretList = auditEvent({
    auditID: '0b7c2a55-1d1e-4f0a-9d6f-0c1f1c7e0005',
    verb: 'list',
    objectRef: { resource: 'secrets', namespace: 'kubeflow', apiVersion: 'v1' },
    requestURI: '/api/v1/namespaces/kubeflow/secrets?limit=500',
    user: { username: 'system:serviceaccount:kubeflow-user-alice:default-editor', groups: ['system:serviceaccounts'] },
  });
  // Noise and out-of-scope items the route must count but not keep.
  const otherNamespace = auditEvent({ auditID: 'x-1', objectRef: { resource: 'secrets', namespace: 'payments', name: 'db', apiVersion: 'v1' }, user: { username: 'carol@example.com' } });
  const lease = auditEvent({ auditID: 'x-2', verb: 'update', objectRef: { resource: 'leases', apiGroup: 'coordination.k8s.io', namespace: 'kubeflow', name: 'ml-pipeline-scheduledworkflow' } });
  const unrelatedCrb = auditEvent({
    auditID: 'x-3',
    verb: 'create',
    user: { username: 'ops-admin@example.com', groups: ['system:masters'] },
    level: 'RequestResponse',
    objectRef: { resource: 'clusterrolebindings', apiGroup: 'rbac.authorization.k8s.io', name: 'ops' },
    requestObject: { roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'ops@example.com' }] },
  });
  return { deniedExec, privilegedPod, clusterAdmin, secretGet, secretList, filtered: [otherNamespace, lease, unrelatedCrb] };
}

describe('POST /v1/ingest/kubeflow/k8s-audit', () => {
  it('keeps Kubeflow items with the right actor, resource and outcome; counts the rest', async () => {
    const { h, url } = await start();
    const b = kubeflowBatch();
    const res = await post(url, list([b.deniedExec, b.privilegedPod, b.clusterAdmin, b.secretGet, b.secretList, ...b.filtered]));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 5, duplicates: 0, filtered: 3, rejected: 0 });
    const byAudit = new Map(h.events().map((e) => [e.details?.audit_id, e]));

    const exec = byAudit.get(b.deniedExec.auditID)!;
    expect(exec).toMatchObject({
      action: 'pod.exec',
      outcome: 'failure',
      channel: 'kubeflow.k8s_audit',
      actor: { id: 'mallory@example.com', type: 'user', ip: '10.0.0.12', user_agent: 'kubectl/v1.31.0 (linux/amd64) kubernetes/9edcffc' },
      resource: { type: 'pods', name: 'ml-pipeline-5c8f7b9d4-qz2mx', namespace: 'kubeflow' },
      error: { code: 'Forbidden' },
    });
    expect(exec.details?.exec_command).toEqual(['/bin/sh']);

    const pod = byAudit.get(b.privilegedPod.auditID)!;
    expect(pod).toMatchObject({
      action: 'pod.create',
      outcome: 'success',
      stage: 'training',
      actor: { id: 'system:serviceaccount:kubeflow:argo', type: 'service', name: 'argo' },
      resource: { type: 'pods', namespace: 'kubeflow-user-alice' },
      ml: { job: { image: 'docker.io/acme/miner:latest', image_pinned: false, role: 'default-editor' }, provenance: { run_id: 'c0ffee00-1111-4222-8333-444455556666' } },
    });
    expect(pod.details).toMatchObject({ privileged: true, privileged_containers: ['main'], pod_security: { audit_violations: expect.stringContaining('privileged') } });

    const crb = byAudit.get(b.clusterAdmin.auditID)!;
    expect(crb).toMatchObject({
      action: 'role_binding.create',
      outcome: 'success',
      actor: { id: 'bob@example.com', type: 'user' },
      resource: { type: 'clusterrolebindings', name: 'pipeline-runner-admin' },
      details: { grants_cluster_admin: true, role_ref: { name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: 'pipeline-runner', namespace: 'kubeflow' }] },
    });
    expect(crb.resource?.namespace).toBeUndefined();

    const get = byAudit.get(b.secretGet.auditID)!;
    expect(get).toMatchObject({
      action: 'secret.read',
      outcome: 'success',
      actor: { id: 'system:serviceaccount:kubeflow-user-alice:default-editor', type: 'service', name: 'default-editor' },
      resource: { type: 'secrets', name: 'mlpipeline-minio-artifact', namespace: 'kubeflow-user-alice' },
    });
    expect(get.details?.actor_pod).toBe('train-pipeline-x7k2p-system-container-impl-123');
    const lst = byAudit.get(b.secretList.auditID)!;
    expect(lst).toMatchObject({ action: 'secret.read', resource: { type: 'secrets', namespace: 'kubeflow' }, details: { verb: 'list' } });
    // Filtered items are not quarantined.
    expect(h.spool.listQuarantine()).toEqual([]);
  });

  it('a watched service account writing outside the watched namespaces is kept', async () => {
    const { h, url } = await start();
    const escape = auditEvent({
      auditID: 'esc-1',
      verb: 'create',
      objectRef: { resource: 'clusterrolebindings', apiGroup: 'rbac.authorization.k8s.io', name: 'me-admin' },
      requestObject: { roleRef: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'User', name: 'x@example.com' }] },
    });
    const read = auditEvent({ auditID: 'esc-2', verb: 'list', objectRef: { resource: 'configmaps', namespace: 'kube-system' } });
    expect(await (await post(url, list([escape, read]))).json()).toEqual({ accepted: 1, duplicates: 0, filtered: 1, rejected: 0 });
    expect(h.events()[0]).toMatchObject({ actor: { id: 'system:serviceaccount:kubeflow-user-alice:default-editor' }, details: { grants_cluster_admin: true } });
  });

  it('a cluster-admin grant to a group or user that holds every watched account is kept', async () => {
    const { h, url } = await start();
    const admin = { resource: 'clusterrolebindings', apiGroup: 'rbac.authorization.k8s.io', name: 'oops' };
    const grant = (id: string, subject: Record<string, string>, role = 'cluster-admin') =>
      auditEvent({ auditID: id, verb: 'create', user: { username: 'ops@example.com' }, objectRef: admin, requestObject: { roleRef: { kind: 'ClusterRole', name: role }, subjects: [subject] } });
    const body = list([
      grant('all-sa', { kind: 'Group', name: 'system:serviceaccounts', apiGroup: 'rbac.authorization.k8s.io' }),
      grant('authn', { kind: 'Group', name: 'system:authenticated', apiGroup: 'rbac.authorization.k8s.io' }),
      grant('anon', { kind: 'User', name: 'system:anonymous', apiGroup: 'rbac.authorization.k8s.io' }),
      grant('unrelated', { kind: 'User', name: 'bob@example.com', apiGroup: 'rbac.authorization.k8s.io' }, 'system:basic-user'),
    ]);
    expect(await (await post(url, body)).json()).toEqual({ accepted: 3, duplicates: 0, filtered: 1, rejected: 0 });
    expect(h.events().map((e) => e.details?.audit_id).sort()).toEqual(['all-sa', 'anon', 'authn']);
    expect(h.events().every((e) => e.details?.grants_cluster_admin === true)).toBe(true);
  });

  it('a cluster-wide cluster-admin, admin or edit grant to anyone is kept (it covers every watched namespace); the falco basic-user binding is not', async () => {
    const { h, url } = await start();
    const crb = (id: string, role: string) =>
      auditEvent({ auditID: id, level: 'Request', verb: 'create', user: { username: 'mallory@corp.example' }, objectRef: { resource: 'clusterrolebindings', apiGroup: 'rbac.authorization.k8s.io', name: `mallory-${role}` }, requestObject: { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'mallory@corp.example' }] } });
    const benign = readFixtureJson<Record<string, unknown>>('kubeflow', 'k8s-audit', 'falco_create_clusterrolebinding.json');
    const body = list([crb('ca', 'cluster-admin'), crb('adm', 'admin'), crb('ed', 'edit'), crb('vw', 'view'), benign]);
    expect(await (await post(url, body)).json()).toEqual({ accepted: 3, duplicates: 0, filtered: 2, rejected: 0 });
    expect(h.events().map((e) => [e.details?.audit_id, e.action, e.details?.grants_cluster_admin ?? false])).toEqual([['ca', 'role_binding.create', true], ['adm', 'role_binding.create', false], ['ed', 'role_binding.create', false]]);
  });

  it('a MutatingWebhookConfiguration write is kept: it can rewrite the pods and InferenceServices of every namespace', async () => {
    const { h, url } = await start();
    const ref = { resource: 'mutatingwebhookconfigurations', apiGroup: 'admissionregistration.k8s.io', apiVersion: 'v1', name: 'inference-image-rewriter' };
    const body = list([
      auditEvent({ auditID: 'mwc-create', verb: 'create', user: { username: 'mallory@corp.example' }, objectRef: ref, requestURI: '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', responseStatus: { metadata: {}, code: 201 } }),
      auditEvent({ auditID: 'mwc-get', verb: 'get', user: { username: 'mallory@corp.example' }, objectRef: ref, requestURI: '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/inference-image-rewriter' }),
    ]);
    expect(await (await post(url, body)).json()).toEqual({ accepted: 1, duplicates: 0, filtered: 1, rejected: 0 });
    expect(h.events()[0]).toMatchObject({ action: 'resource.create', resource: { type: 'mutatingwebhookconfigurations', name: 'inference-image-rewriter' } });
  });

  it('a JSON patch adding a subject to a binding is kept, with the subject it adds', async () => {
    const { h, url } = await start();
    // `kubectl patch clusterrolebinding cluster-admin --type=json -p '[{"op":"add","path":"/subjects/-",…}]'` at the Request level.
    const patch = (id: string, name: string, ops: unknown[]) =>
      auditEvent({
        auditID: id,
        level: 'Request',
        verb: 'patch',
        user: { username: 'ops@example.com' },
        objectRef: { resource: 'clusterrolebindings', apiGroup: 'rbac.authorization.k8s.io', name },
        requestObject: ops,
      });
    const body = list([
      patch('jp-add', 'cluster-admin', [{ op: 'add', path: '/subjects/-', value: { kind: 'ServiceAccount', name: 'default-editor', namespace: 'kubeflow-user-alice' } }]),
      patch('jp-elsewhere', 'monitoring', [{ op: 'add', path: '/subjects/-', value: { kind: 'ServiceAccount', name: 'prom', namespace: 'monitoring' } }]),
      patch('jp-label', 'monitoring', [{ op: 'replace', path: '/metadata/labels/team', value: 'sre' }]),
    ]);
    expect(await (await post(url, body)).json()).toEqual({ accepted: 2, duplicates: 0, filtered: 1, rejected: 0 });
    const byId = new Map(h.events().map((e) => [e.details?.audit_id, e]));
    expect(byId.get('jp-add')).toMatchObject({
      action: 'role_binding.update',
      details: { grants_cluster_admin: true, subjects: [{ kind: 'ServiceAccount', name: 'default-editor', namespace: 'kubeflow-user-alice' }] },
    });
    // A patch whose subjects the record does not show is kept rather than guessed away.
    expect(byId.has('jp-label')).toBe(true);
    expect(byId.get('jp-label')!.details?.grants_cluster_admin).toBeUndefined();
  });

  it('one item with a field of the wrong type is rejected naming the field; the rest of the batch is committed', async () => {
    const { h, url } = await start();
    const good = kubeflowBatch().secretGet;
    const badUser = { ...good, auditID: 'bad-user', user: { username: 42 } };
    const badContainers = auditEvent({
      auditID: 'bad-pod',
      verb: 'create',
      objectRef: { resource: 'pods', namespace: 'kubeflow-user-alice', name: 'p' },
      requestObject: { kind: 'Pod', spec: { containers: [null, { name: 'c', image: 'busybox' }] } },
    });
    const res = await post(url, list([good, badUser, badContainers]));
    expect(res.status).toBe(200);
    const out = (await res.json()) as { accepted: number; rejected: number };
    // A null in a container list is skipped, not a reason to lose the pod.
    expect(out.rejected).toBe(1);
    expect(out.accepted).toBe(2);
    const q = h.spool.listQuarantine();
    expect(q).toHaveLength(1);
    expect(q[0]!.reason).toBe('user.username: expected a string, got number');
    expect(q[0]!.meta).toMatchObject({ path: 'items[1]', field: 'user.username' });
    expect(h.events().map((e) => e.details?.audit_id).sort()).toEqual(['bad-pod', good.auditID].sort());
  });

  it('KFP authorization checks name the end user behind a run creation or a denied termination', async () => {
    const { h, url } = await start();
    const sar = (id: string, user: string, verb: string, allowed: boolean, reason = '') =>
      auditEvent({
        auditID: id,
        level: 'RequestResponse',
        verb: 'create',
        user: { username: 'system:serviceaccount:kubeflow:ml-pipeline', groups: ['system:serviceaccounts', 'system:serviceaccounts:kubeflow'] },
        userAgent: 'apiserver/v0.0.0 (linux/amd64) kubernetes/$Format',
        objectRef: { resource: 'subjectaccessreviews', apiGroup: 'authorization.k8s.io', apiVersion: 'v1' },
        requestURI: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        requestObject: { kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', spec: { user, groups: [], resourceAttributes: { namespace: 'kubeflow-user-alice', verb, group: 'pipelines.kubeflow.org', version: 'v1beta1', resource: 'runs', name: verb === 'create' ? '' : 'run-42' } } },
        responseObject: { kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', spec: {}, status: { allowed, reason } },
        responseStatus: { code: 201 },
      });
    const body = list([
      sar('sar-1', 'alice@example.com', 'create', true, 'RBAC: allowed by RoleBinding "namespaceAdmin/kubeflow-user-alice" of ClusterRole "kubeflow-admin" to User "alice@example.com"'),
      sar('sar-2', 'mallory@example.com', 'terminate', false),
      sar('sar-3', 'alice@example.com', 'list', true),
      auditEvent({ auditID: 'sar-4', verb: 'create', objectRef: { resource: 'subjectaccessreviews', apiGroup: 'authorization.k8s.io' }, requestObject: { spec: { user: 'x', resourceAttributes: { group: '', resource: 'pods', verb: 'get' } } } }),
    ]);
    expect(await (await post(url, body)).json()).toEqual({ accepted: 2, duplicates: 0, filtered: 2, rejected: 0 });
    const [created, denied] = h.events().sort((a, b) => String(a.details?.audit_id).localeCompare(String(b.details?.audit_id)));
    expect(created).toMatchObject({
      action: 'pipeline_run.create',
      stage: 'training',
      outcome: 'success',
      service: 'ml-pipeline',
      actor: { id: 'alice@example.com', email: 'alice@example.com', type: 'user', chain: ['alice@example.com', 'system:serviceaccount:kubeflow:ml-pipeline'] },
      resource: { type: 'pipelines.kubeflow.org/runs', namespace: 'kubeflow-user-alice' },
    });
    expect(created!.actor?.ip).toBeUndefined();
    expect(denied).toMatchObject({ action: 'pipeline_run.stop', outcome: 'failure', actor: { id: 'mallory@example.com' }, resource: { name: 'run-42' }, error: { code: 'Forbidden' } });
  });

  it('an apiserver retry of the same batch collapses into duplicates', async () => {
    const { url } = await start();
    const body = list([kubeflowBatch().secretGet]);
    expect(await (await post(url, body)).json()).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(await (await post(url, body)).json()).toMatchObject({ accepted: 0, duplicates: 1 });
  });

  it('a different request sent with the same Audit-ID header is kept, not answered as a duplicate', async () => {
    // The apiserver uses a client's `Audit-ID` request header as the event's auditID: any user can repeat one.
    const { h, url } = await start();
    const auditID = 'chosen-by-mallory';
    const read = auditEvent({ auditID, user: { username: 'mallory@example.com' } });
    const exec = auditEvent({
      auditID,
      verb: 'create',
      user: { username: 'mallory@example.com' },
      objectRef: { resource: 'pods', subresource: 'exec', namespace: 'kubeflow-user-alice', name: 'model-predictor-0', apiVersion: 'v1' },
      requestURI: '/api/v1/namespaces/kubeflow-user-alice/pods/model-predictor-0/exec?command=sh&stdin=true&tty=true',
      responseStatus: { metadata: {}, code: 101 },
      requestReceivedTimestamp: '2026-11-25T10:05:00.100000Z',
      stageTimestamp: '2026-11-25T10:05:00.110000Z',
    });
    expect(await (await post(url, list([read]))).json()).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(await (await post(url, list([exec]))).json()).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(h.events().map((e) => e.action).sort()).toEqual(['pod.exec', 'secret.read']);
    // …while the apiserver's retry of that batch is still one event.
    expect(await (await post(url, list([exec]))).json()).toMatchObject({ accepted: 0, duplicates: 1 });
  });

  it('watched namespaces are configurable globs (MLTRAIL_KUBEFLOW_NAMESPACES)', async () => {
    const config = kubeflowFromEnv({ MLTRAIL_KUBEFLOW_NAMESPACES: 'ml-team-?,pipelines' })!;
    expect(KubeflowConfig.parse(config).namespaces).toEqual(['ml-team-?', 'pipelines']);
    const { url } = await start(config);
    const inTeam = auditEvent({ auditID: 'n-1', objectRef: { resource: 'secrets', namespace: 'ml-team-a', name: 's' } });
    const tooLong = auditEvent({ auditID: 'n-2', objectRef: { resource: 'secrets', namespace: 'ml-team-ab', name: 's' } });
    const kubeflow = auditEvent({ auditID: 'n-3', objectRef: { resource: 'secrets', namespace: 'kubeflow', name: 's' } });
    expect(await (await post(url, list([inTeam, tooLong, kubeflow]))).json()).toEqual({ accepted: 1, duplicates: 0, filtered: 2, rejected: 0 });
  });

  it('quarantines an item it cannot read and still commits the others (200: the apiserver must not retry)', async () => {
    const { h, url } = await start();
    const res = await post(url, list([kubeflowBatch().secretGet, { kind: 'Event', verb: 'get' }]));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 1, rejected: 1 });
    const q = h.spool.listQuarantine();
    expect(q).toHaveLength(1);
    expect(q[0]!.reason).toMatch(/auditID/);
  });

  it('bad JSON → 400 and the body is quarantined', async () => {
    const { h, url } = await start();
    const res = await post(url, '{"kind":"EventList","items":[');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('MLTRAIL_ERR_INVALID_JSON');
    expect(h.spool.listQuarantine()).toHaveLength(1);
  });

  it('JSON that is not an audit EventList → 400', async () => {
    const { url } = await start();
    const res = await post(url, JSON.stringify({ hello: 'world' }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('MLTRAIL_ERR_BAD_REQUEST');
  });

  it('oversized batch → 413 naming the limit; the route limit is its own (default 32 MiB, above the server default)', async () => {
    const small = await start({ audit: { body_limit_bytes: 4096 } });
    const items = Array.from({ length: 40 }, (_, i) => auditEvent({ auditID: `big-${i}` }));
    const res = await post(small.url, list(items));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: 'MLTRAIL_ERR_BODY_TOO_LARGE', limit_bytes: 4096 });

    expect(KubeflowConfig.parse({}).audit.body_limit_bytes).toBe(32 * 1024 * 1024);
    const dflt = await start();
    // ~6 MiB: more than the bridge's 5 MiB default, as an untruncated 400-event batch can be.
    const pad = 'x'.repeat(15_000);
    const many = Array.from({ length: 400 }, (_, i) => auditEvent({ auditID: `many-${i}`, level: 'Request', requestObject: { kind: 'Secret', data: { blob: pad } } }));
    const body = list(many);
    expect(body.length).toBeGreaterThan(5 * 1024 * 1024);
    const ok = await post(dflt.url, body);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { accepted: number }).accepted).toBe(400);
  });

  it('wrong or missing token → 401 with WWW-Authenticate, and an ingest.auth_failure event', async () => {
    const { h, url } = await start();
    const wrong = await post(url, list([auditEvent()]), { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('MLTRAIL_ERR_UNAUTHORIZED');
    const missing = await post(url, list([auditEvent()]), {});
    expect(missing.status).toBe(401);
    await new Promise((r) => setTimeout(r, 50));
    const evs = h.events();
    expect(evs.every((e) => e.action === 'ingest.auth_failure')).toBe(true);
    expect(evs.map((e) => e.error?.message).sort()).toEqual(['invalid bearer token', 'missing bearer token']);
    expect(evs[0]).toMatchObject({ platform: 'kubeflow', channel: 'kubeflow.k8s_audit' });
  });

  it('the token is checked before the body is read: without it, a body over the limit or not JSON is a 401, nothing quarantined; the scheme name is case-insensitive', async () => {
    const { h, url } = await start({ audit: { body_limit_bytes: 4096 } });
    expect((await post(url, 'x'.repeat(10_000), { authorization: 'Bearer nope' })).status).toBe(401);
    expect((await post(url, 'x'.repeat(10_000), {})).status).toBe(401);
    expect((await post(url, '{"not json', { authorization: 'Bearer nope' })).status).toBe(401);
    expect(h.spool.listQuarantine()).toEqual([]);
    expect((await post(url, 'x'.repeat(10_000))).status).toBe(413);
    const lower = await post(url, list([auditEvent({ auditID: 'lower-1' })]), { authorization: `bearer ${TOKEN}` });
    expect(lower.status).toBe(200);
  });

  it('no token configured → 503 naming MLTRAIL_INGEST_TOKEN (even on loopback)', async () => {
    const { url } = await start({}, {});
    const res = await post(url, list([auditEvent()]), {});
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: 'MLTRAIL_ERR_NOT_CONFIGURED', variable: 'MLTRAIL_INGEST_TOKEN' });
  });

  it('client_cert_subjects without a token over plain HTTP (serve) → 503 naming MLTRAIL_INGEST_TOKEN, not a 401 the apiserver drops', async () => {
    const { url } = await start({ audit: { client_cert_subjects: ['kube-apiserver-audit'] } }, {});
    const res = await post(url, list([auditEvent()]), {});
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: 'MLTRAIL_ERR_NOT_CONFIGURED', variable: 'MLTRAIL_INGEST_TOKEN', message: expect.stringMatching(/plain HTTP/) });
  });

  it('non-JSON content type → 415', async () => {
    const { url } = await start();
    const res = await fetch(url, { method: 'POST', body: 'a=b', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(415);
  });
});

describe('client-certificate authentication (TLS terminated in-process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mltrail-kf-tls-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  let made = false;
  const pki = () => {
    if (!made) {
      ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.crt');
      ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', 'server.key', '-out', 'server.crt');
      for (const cn of ['kube-apiserver-audit', 'someone-else']) {
        ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${cn}.key`, '-out', `${cn}.csr`);
        ssl('x509', '-req', '-in', `${cn}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', `${cn}.crt`);
      }
      // The allowed name only as a DNS subjectAltName (CN is another): how cert-manager issues client certs.
      writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:kube-apiserver-audit\n');
      ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=audit-webhook-client', '-keyout', 'san-only.key', '-out', 'san-only.csr');
      ssl('x509', '-req', '-in', 'san-only.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', 'san-only.crt');
      // Right name, but not issued by the trusted CA.
      ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=kube-apiserver-audit', '-keyout', 'rogue.key', '-out', 'rogue.crt');
      made = true;
    }
    const f = (n: string) => readFileSync(join(dir, n));
    return f;
  };

  const send = (url: string, cert: Buffer, key: Buffer, ca: Buffer, body: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(url, { method: 'POST', cert, key, ca, headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('accepts an allowed, CA-verified client certificate without a token and refuses other subjects', async () => {
    const f = pki();
    const { url } = await start({ audit: { client_cert_subjects: ['kube-apiserver-audit'] } }, {}, {
      createServer: createHttpsServer,
      serverOptions: { key: f('server.key'), cert: f('server.crt'), ca: f('ca.crt'), requestCert: true, rejectUnauthorized: false },
    });
    const body = list([auditEvent()]);
    const ok = await send(url, f('kube-apiserver-audit.crt'), f('kube-apiserver-audit.key'), f('server.crt'), body);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ accepted: 1 });
    const other = await send(url, f('someone-else.crt'), f('someone-else.key'), f('server.crt'), body);
    expect(other.status).toBe(401);
    const rogue = await send(url, f('rogue.crt'), f('rogue.key'), f('server.crt'), body);
    expect(rogue.status).toBe(401);
  });

  it('an allowed name given as a subjectAltName (DNS) of a CA-verified certificate is accepted too', async () => {
    const f = pki();
    const { h, url } = await start({ audit: { client_cert_subjects: ['kube-apiserver-audit'] } }, {}, {
      createServer: createHttpsServer,
      serverOptions: { key: f('server.key'), cert: f('server.crt'), ca: f('ca.crt'), requestCert: true, rejectUnauthorized: false },
    });
    const ok = await send(url, f('san-only.crt'), f('san-only.key'), f('server.crt'), list([auditEvent({ auditID: 'san-1' })]));
    expect(ok.status).toBe(200);
    expect(h.events().map((e) => e.details?.audit_id)).toEqual(['san-1']);
  });
});
