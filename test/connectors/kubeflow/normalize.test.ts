import { describe, expect, it } from 'vitest';
import { main } from '../../../bridge/cli/main.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { fixturePath, listFixtures, readFixtureJson } from '../../helpers/fixtures.js';
import { auditEvent, captureIo, ctx } from './helpers.js';

const normalize = (r: unknown) => kubeflowConnector.normalize!(r, ctx());
const one = (r: unknown) => {
  const out = normalize(r);
  expect(out.rejected).toEqual([]);
  expect(out.events).toHaveLength(1);
  return NormalizedEvent.parse(out.events[0]);
};

describe('kubeflow audit normalization (fixtures)', () => {
  it('normalizes every k8s-audit fixture into a valid event, with no namespace filter', () => {
    const files = listFixtures('kubeflow', 'k8s-audit');
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const f of files) {
      const rec = readFixtureJson('kubeflow', 'k8s-audit', f);
      expect(kubeflowConnector.detect!(rec), f).toBe(true);
      const ev = one(rec);
      expect(ev.platform).toBe('kubeflow');
      expect(ev.service).toBe('kube-apiserver');
    }
  });

  it('exec into a pod: pod.exec with the command, actor and trusted source IP', () => {
    const ev = one(readFixtureJson('kubeflow', 'k8s-audit', 'falco_exec_pod.json'));
    expect(ev.action).toBe('pod.exec');
    expect(ev.stage).toBe('platform');
    expect(ev.outcome).toBe('success');
    expect(ev.actor).toMatchObject({ id: 'minikube-user', type: 'user', ip: '192.168.99.1' });
    expect(ev.resource).toMatchObject({ type: 'pods', name: 'nginx-deployment-7998647bdf-phvq7', namespace: 'default' });
    expect(ev.details).toMatchObject({ exec_command: ['bash'], container: 'nginx1', subresource: 'exec', audit_stage: 'ResponseStarted', response_code: 101 });
    expect(ev.time).toBe('2018-10-26T13:38:34.902Z');
  });

  it('attach, service account and cluster role binding map to their actions', () => {
    expect(one(readFixtureJson('kubeflow', 'k8s-audit', 'falco_attach_pod.json')).action).toBe('pod.attach');
    expect(one(readFixtureJson('kubeflow', 'k8s-audit', 'falco_create_serviceaccount.json')).action).toBe('service_account.create');
    const crb = one(readFixtureJson('kubeflow', 'k8s-audit', 'falco_create_clusterrolebinding.json'));
    expect(crb.action).toBe('role_binding.create');
    expect(crb.details).toMatchObject({ role_ref: { kind: 'ClusterRole', name: 'system:basic-user' }, subjects: [{ kind: 'User', name: 'minikube' }] });
    expect(crb.details?.grants_cluster_admin).toBeUndefined();
  });

  it('a privileged pod (v1beta1) is surfaced with its container and the controller as actor', () => {
    const ev = one(readFixtureJson('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json'));
    expect(ev.action).toBe('pod.create');
    expect(ev.actor).toMatchObject({ type: 'service', name: 'replicaset-controller', id: 'system:serviceaccount:kube-system:replicaset-controller' });
    expect(ev.details).toMatchObject({ privileged: true, privileged_containers: ['nginx'], images: ['nginx'] });
    expect(ev.ml?.job).toMatchObject({ image: 'nginx', image_pinned: false });
    // Created with generateName: objectRef has no name, the response object does.
    expect(ev.resource).toEqual({ type: 'pods', id: 'namespaces/default/pods/nginx-deployment-5cdcc99dbf-rgw6z', name: 'nginx-deployment-5cdcc99dbf-rgw6z', namespace: 'default' });
  });

  it('names a created object from the response, a refused create from its request, never from a Status or a subresource body', () => {
    const pod = (name?: string, generateName?: string) => ({ kind: 'Pod', apiVersion: 'v1', metadata: { name, generateName, namespace: 'kubeflow-user-alice' }, spec: { containers: [{ name: 'main', image: 'python:3.12' }] } });
    const create = (over: Record<string, unknown>) => one(auditEvent({ verb: 'create', level: 'RequestResponse', objectRef: { resource: 'pods', namespace: 'kubeflow-user-alice', apiVersion: 'v1' }, ...over }));
    const made = create({ requestObject: pod(undefined, 'train-'), responseObject: pod('train-x7k2p', 'train-'), responseStatus: { code: 201 } });
    expect(made.resource).toMatchObject({ id: 'namespaces/kubeflow-user-alice/pods/train-x7k2p', name: 'train-x7k2p' });
    const denied = create({
      requestObject: pod('miner'),
      responseObject: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403 },
      responseStatus: { code: 403, reason: 'Forbidden' },
      annotations: { 'authorization.k8s.io/decision': 'forbid' },
    });
    expect([denied.resource?.name, denied.outcome]).toEqual(['miner', 'failure']);
    const unnamed = create({ requestObject: pod(undefined, 'train-'), responseObject: { kind: 'Status', metadata: { name: 'not-an-object' }, code: 422 }, responseStatus: { code: 422 } });
    expect(unnamed.resource?.name).toBeUndefined();
    expect(unnamed.resource?.id).toBeUndefined();
    const evict = one(auditEvent({ verb: 'create', objectRef: { resource: 'pods', subresource: 'eviction', namespace: 'kubeflow', apiVersion: 'v1' }, requestObject: { kind: 'Eviction', metadata: { name: 'ml-pipeline-abc' } }, responseStatus: { code: 201 } }));
    expect(evict.resource?.name).toBeUndefined();
  });

  it('anonymous and system users get their actor types', () => {
    expect(one(readFixtureJson('kubeflow', 'k8s-audit', 'falco_anonymous_creates_namespace_foo.json')).actor?.type).toBe('unknown');
    const sec = one(readFixtureJson('kubeflow', 'k8s-audit', 'falco_create_service_account_token_secret.json'));
    expect(sec.action).toBe('secret.create');
    expect(sec.actor?.type).toBe('system');
  });

  it('`mltrail normalize --platform kubeflow` normalizes every fixture item (audit and KFP REST)', async () => {
    const files = [
      ...listFixtures('kubeflow', 'k8s-audit').map((f) => fixturePath('kubeflow', 'k8s-audit', f)),
      ...listFixtures('kubeflow', 'kfp-rest').map((f) => fixturePath('kubeflow', 'kfp-rest', f)),
    ];
    const cap = captureIo({});
    const code = await main(['normalize', '--platform', 'kubeflow', ...files], cap.io);
    expect(cap.stderr()).toBe('');
    expect(code).toBe(0);
    const events = cap.stdout().trim().split('\n').map((l) => NormalizedEvent.parse(JSON.parse(l)));
    // 7 audit items; KFP: 2 per run with a final state (3 runs), 1 recurring run, experiment, pipeline, version.
    expect(events.filter((e) => e.service === 'kube-apiserver')).toHaveLength(7);
    expect(events.filter((e) => e.service === 'ml-pipeline').map((e) => e.action).sort()).toEqual(
      ['experiment.create', 'pipeline.create', 'pipeline_run.complete', 'pipeline_run.complete', 'pipeline_run.create', 'pipeline_run.create', 'pipeline_run.create', 'pipeline_run.fail', 'pipeline_version.create', 'recurring_run.create'].sort(),
    );
  });

  it('`--platform auto` picks the kubeflow connector for audit events and KFP objects', async () => {
    const cap = captureIo({});
    const code = await main(['normalize', fixturePath('kubeflow', 'k8s-audit', 'falco_exec_pod.json'), fixturePath('kubeflow', 'kfp-rest', 'run_failed.json')], cap.io);
    expect(cap.stderr()).toBe('');
    expect(code).toBe(0);
    expect(cap.stdout().trim().split('\n').map((l) => JSON.parse(l).platform)).toEqual(['kubeflow', 'kubeflow', 'kubeflow']);
  });
});

describe('kubeflow audit normalization (EventList and semantics)', () => {
  it('normalizes an EventList whose items have no kind/apiVersion, and one whose items do', () => {
    const bare = auditEvent();
    const typed = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', ...auditEvent() };
    const out = normalize({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: [bare, typed] });
    expect(out.rejected).toEqual([]);
    expect(out.events.map((e) => e.action)).toEqual(['secret.read', 'secret.read']);
  });

  it('ids come from auditID + stage: stable, and distinct per stage', () => {
    const a = auditEvent({ auditID: 'same-id' });
    const id1 = one(a).id;
    expect(one(structuredClone(a)).id).toBe(id1);
    expect(one({ ...a, stage: 'RequestReceived', responseStatus: undefined }).id).not.toBe(id1);
    expect(one({ ...a, stage: 'RequestReceived', responseStatus: undefined }).outcome).toBe('unknown');
  });

  it('authorization decision forbid → outcome failure with the reason', () => {
    const ev = one(
      auditEvent({
        verb: 'create',
        objectRef: { resource: 'pods', subresource: 'exec', namespace: 'kubeflow', name: 'ml-pipeline-7c9d-abcde', apiVersion: 'v1' },
        requestURI: '/api/v1/namespaces/kubeflow/pods/ml-pipeline-7c9d-abcde/exec?command=sh&command=-c&command=cat+%2Fetc%2Fshadow&container=ml-pipeline-api-server&stdin=true',
        responseStatus: { code: 403, status: 'Failure', reason: 'Forbidden', message: 'pods "ml-pipeline-7c9d-abcde" is forbidden' },
        annotations: { 'authorization.k8s.io/decision': 'forbid', 'authorization.k8s.io/reason': '' },
      }),
    );
    expect(ev.action).toBe('pod.exec');
    expect(ev.outcome).toBe('failure');
    expect(ev.error?.code).toBe('Forbidden');
    expect(ev.details?.exec_command).toEqual(['sh', '-c', 'cat /etc/shadow']);
  });

  it('kubectl debug (ephemeral container) counts as exec, WebSocket exec (verb get) too', () => {
    const debug = one(auditEvent({ verb: 'patch', objectRef: { resource: 'pods', subresource: 'ephemeralcontainers', namespace: 'kubeflow', name: 'ml-pipeline-x' } }));
    expect(debug.action).toBe('pod.exec');
    const ws = one(auditEvent({ verb: 'get', requestURI: '/api/v1/namespaces/kubeflow/pods/p/exec?command=id', objectRef: { resource: 'pods', subresource: 'exec', namespace: 'kubeflow', name: 'p' } }));
    expect([ws.action, ws.details?.exec_command]).toEqual(['pod.exec', ['id']]);
  });

  it('impersonation keeps the authenticated user as actor and records the chain', () => {
    const ev = one(auditEvent({ user: { username: 'alice@example.com', groups: ['system:authenticated'] }, impersonatedUser: { username: 'system:serviceaccount:kubeflow:ml-pipeline' } }));
    expect(ev.actor).toMatchObject({ id: 'alice@example.com', email: 'alice@example.com', type: 'user', chain: ['alice@example.com', 'system:serviceaccount:kubeflow:ml-pipeline'] });
    expect(ev.details?.impersonated_user).toEqual({ username: 'system:serviceaccount:kubeflow:ml-pipeline' });
  });

  it('the last source IP is the trusted one; all are kept in details', () => {
    const ev = one(auditEvent({ sourceIPs: ['1.2.3.4', '10.0.0.9'] }));
    expect(ev.actor?.ip).toBe('10.0.0.9');
    expect(ev.details?.source_ips).toEqual(['1.2.3.4', '10.0.0.9']);
  });

  it('Pod Security audit-violations are surfaced and KFP pods count as training', () => {
    const ev = one(
      auditEvent({
        verb: 'create',
        level: 'Request',
        objectRef: { resource: 'pods', namespace: 'kubeflow-user-alice', apiVersion: 'v1' },
        requestObject: {
          kind: 'Pod',
          metadata: { generateName: 'train-', labels: { 'pipeline/runid': '6a5e1c1e-1111-4222-8333-944445555666' } },
          spec: { hostNetwork: true, containers: [{ name: 'main', image: 'ghcr.io/acme/train@sha256:' + 'a'.repeat(64), securityContext: { capabilities: { add: ['SYS_ADMIN'] } } }] },
        },
        responseStatus: { code: 201 },
        annotations: {
          'authorization.k8s.io/decision': 'allow',
          'pod-security.kubernetes.io/enforce-policy': 'privileged:latest',
          'pod-security.kubernetes.io/audit-violations': 'would violate PodSecurity "restricted:latest": host namespaces (hostNetwork=true)',
        },
      }),
    );
    expect(ev.stage).toBe('training');
    expect(ev.ml?.provenance?.run_id).toBe('6a5e1c1e-1111-4222-8333-944445555666');
    expect(ev.ml?.job).toMatchObject({ image_pinned: true });
    expect(ev.details).toMatchObject({
      pod_security: { enforce_policy: 'privileged:latest', audit_violations: expect.stringContaining('hostNetwork=true') },
      host_network: true,
      added_capabilities: ['SYS_ADMIN'],
      privileged: false,
    });
  });

  it('stages by resource: Argo workflows and notebooks are training, InferenceServices serving', () => {
    const wf = one(auditEvent({ verb: 'create', objectRef: { apiGroup: 'argoproj.io', resource: 'workflows', namespace: 'kubeflow', name: 'p-abc' }, responseStatus: { code: 201 } }));
    expect([wf.stage, wf.action]).toEqual(['training', 'pipeline_run.create']);
    const nb = one(auditEvent({ verb: 'delete', objectRef: { apiGroup: 'kubeflow.org', resource: 'notebooks', namespace: 'kubeflow-user-alice', name: 'nb' } }));
    expect([nb.stage, nb.action]).toEqual(['training', 'notebook.delete']);
    const isvc = one(auditEvent({ verb: 'patch', objectRef: { apiGroup: 'serving.kserve.io', resource: 'inferenceservices', namespace: 'kubeflow-user-alice', name: 'fraud' } }));
    expect([isvc.stage, isvc.action]).toEqual(['serving', 'endpoint.update']);
    const prof = one(auditEvent({ verb: 'create', objectRef: { apiGroup: 'kubeflow.org', resource: 'profiles', name: 'kubeflow-user-bob' } }));
    expect([prof.stage, prof.action]).toEqual(['platform', 'namespace.create']);
  });

  it('privileged containers inside an Argo Workflow are surfaced (PSA never checks workflows)', () => {
    const ev = one(
      auditEvent({
        verb: 'create',
        level: 'Request',
        objectRef: { apiGroup: 'argoproj.io', resource: 'workflows', namespace: 'kubeflow' },
        requestObject: { kind: 'Workflow', spec: { templates: [{ name: 'dag' }, { name: 'step', container: { name: 'main', image: 'python:3.11', securityContext: { privileged: true } } }] } },
      }),
    );
    expect(ev.details).toMatchObject({ privileged: true, privileged_containers: ['main'], images: ['python:3.11'] });
  });

  it('rejects list items that are not audit events, keeping the others', () => {
    const out = normalize({ kind: 'EventList', items: [auditEvent(), { hello: 'world' }, { ...auditEvent(), stageTimestamp: 'nope', requestReceivedTimestamp: undefined }] });
    expect(out.events).toHaveLength(1);
    expect(out.rejected.map((r) => r.path)).toEqual(['items[1]', 'items[2]']);
    expect(out.rejected[1]?.field).toBe('stageTimestamp');
  });
});

describe('KFP REST normalization', () => {
  const kfp = (f: string) => normalize(readFixtureJson('kubeflow', 'kfp-rest', f));

  it('a failed run: create + fail with the error and the service account', () => {
    const out = kfp('run_failed.json');
    expect(out.rejected).toEqual([]);
    const [create, fail] = out.events.map((e) => NormalizedEvent.parse(e));
    expect(create!.action).toBe('pipeline_run.create');
    expect(fail!).toMatchObject({ action: 'pipeline_run.fail', outcome: 'failure', error: { code: '1', message: 'This was a Failed Run.' } });
    expect(fail!.actor).toMatchObject({ type: 'service', name: 'sa2' });
  });

  it('a run records pipeline version, runtime config and recurring parent', () => {
    const [create] = kfp('run_completed.json').events;
    expect(create!.ml?.provenance).toEqual({
      run_id: 'completed-run-123',
      pipeline: '9b187b86-7c0a-42ae-a0bc-2a746b6eb7a3',
      pipeline_version: 'e15dc3ec-b45e-4cc7-bb07-e76b5dbce99a',
      parent_run_id: 'recurring-schedule-001',
      pipeline_run: 'completed-run-123',
    });
    expect(create!.ml?.job?.params).toEqual({ batch_size: 1000, learning_rate: 'foo' });
    expect(create!.details?.pipeline_source).toBe('pipeline_version');
  });

  it('an inline-spec run is flagged and its images listed', () => {
    const [create] = kfp('run_completed_with_spec.json').events;
    expect(create!.details).toMatchObject({ pipeline_source: 'inline_spec', images: ['python:3.11'] });
  });

  it('pipeline version carries images, code source and package URL', () => {
    const [ev] = kfp('pipeline_version.json').events;
    expect(ev!.ml?.code?.source).toBe('https://github.com/org/repo/pipeline1/tree/v1.0.0');
    expect(ev!.details).toMatchObject({ images: ['python:3.11'], unpinned_images: ['python:3.11'], package_url: 'gs://my-bucket/pipelines/pipeline1-v1.0.0.yaml', pipeline_name: 'pipeline-hello-world' });
  });

  it('a schedule change gets a new event; re-reading the same schedule does not', () => {
    const rr = readFixtureJson<Record<string, any>>('kubeflow', 'kfp-rest', 'recurring_run.json');
    expect(normalize(rr).events.map((e) => e.action)).toEqual(['recurring_run.create']);
    const disabled = { ...rr, mode: 'DISABLE', status: 'DISABLED', updated_at: '2024-01-02T08:00:00Z' };
    const d1 = normalize(disabled).events;
    expect(d1.map((e) => e.action)).toEqual(['recurring_run.create', 'recurring_run.disable']);
    expect(normalize(structuredClone(disabled)).events.map((e) => e.id)).toEqual(d1.map((e) => e.id));
    const faster = { ...disabled, mode: 'ENABLE', status: 'ENABLED', updated_at: '2024-01-03T08:00:00Z', trigger: { cron_schedule: { cron: '*/5 * * * *' } } };
    const e2 = normalize(faster).events;
    expect(e2[1]!.action).toBe('recurring_run.enable');
    expect(e2[1]!.details?.schedule).toEqual({ cron: '*/5 * * * *' });
    expect(e2[1]!.id).not.toBe(d1[1]!.id);
  });

  it('list pages are flattened', () => {
    const run = readFixtureJson('kubeflow', 'kfp-rest', 'run_failed.json');
    const out = normalize({ runs: [run, run], total_size: 2 });
    expect(out.events).toHaveLength(4);
    expect(new Set(out.events.map((e) => e.id)).size).toBe(2);
  });
});
