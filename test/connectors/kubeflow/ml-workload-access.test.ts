import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { auditEvent } from './helpers.js';
import { normAudit as norm, workloadAccessAlerts as alerts, MALLORY, saUser as sa } from './audit-harness.js';

type Obj = Record<string, unknown>;
const NS = 'kubeflow-user-alice';
const POD = 'fraud-predictor-00001-deployment-7d9f8c6b5-x2x9z';
const NOTEBOOK_SA = { username: `system:serviceaccount:${NS}:default-editor`, groups: ['system:serviceaccounts', `system:serviceaccounts:${NS}`, 'system:authenticated'] };


/** The falco capture of a `kubectl exec` (log backend, ResponseStarted, code 101), pointed at another pod. */
function falcoExec(namespace: string, pod: string, query: string): Obj {
  const ev = structuredClone(readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_exec_pod.json'));
  ev.objectRef = { ...(ev.objectRef as Obj), namespace, name: pod };
  ev.requestURI = `/api/v1/namespaces/${namespace}/pods/${pod}/exec?${query}`;
  return ev;
}

const exec = (user: Obj, namespace: string, pod: string, query: string, over: Obj = {}) =>
  auditEvent({ verb: 'create', user, objectRef: { resource: 'pods', namespace, name: pod, apiVersion: 'v1', subresource: 'exec' }, requestURI: `/api/v1/namespaces/${namespace}/pods/${pod}/exec?${query}`, responseStatus: { metadata: {}, code: 101 }, ...over });

const deploymentPatch = (user: Obj, name: string, body: unknown, resource = 'deployments') =>
  auditEvent({ level: 'Request', verb: 'patch', user, objectRef: { resource, namespace: NS, name, apiGroup: 'apps', apiVersion: 'v1' }, requestURI: `/apis/apps/v1/namespaces/${NS}/${resource}/${name}`, requestObject: body });

/** A RawDeployment predictor as KServe writes it (labels name the InferenceService), storage initializer first. */
const rawDeployment = (storageUri: string, image = 'kserve/sklearnserver:v0.14.0') => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: 'churn-predictor', namespace: NS, labels: { 'serving.kserve.io/inferenceservice': 'churn', component: 'predictor' } },
  spec: { template: { metadata: { labels: { 'serving.kserve.io/inferenceservice': 'churn', component: 'predictor' } }, spec: {
    initContainers: [{ name: 'storage-initializer', image: 'kserve/storage-initializer:v0.14.0', args: [storageUri, '/mnt/models'] }],
    containers: [{ name: 'kserve-container', image, args: ['--model_name=churn', '--model_dir=/mnt/models'] }],
  } } },
});
const deploymentUpdate = (user: Obj) => auditEvent({ level: 'Request', verb: 'update', user, objectRef: { resource: 'deployments', namespace: NS, name: 'churn-predictor', apiGroup: 'apps', apiVersion: 'v1' }, requestURI: `/apis/apps/v1/namespaces/${NS}/deployments/churn-predictor`, requestObject: rawDeployment('s3://scratch/evil-model') });

describe('normalize: which ML workload a pod or its controller is', () => {
  it('a KServe predictor pod by its name (Knative and RawDeployment), a KFP v2 step pod, an MLflow server, or the kserve-container named', () => {
    const evs = norm([
      exec(MALLORY, NS, POD, 'command=sh&container=kserve-container&stdin=true&tty=true'),
      exec(MALLORY, NS, 'churn-predictor-5d8f7c9b4-abcde', 'command=sh&container=kserve-container'),
      exec(MALLORY, NS, 'churn-pipeline-x7k2p-system-container-impl-1843591523', 'command=sh&container=main'),
      exec(MALLORY, 'kubeflow', 'mlflow-server-6c9d8b7f5-q7w2e', 'command=sh&container=mlflow'),
      exec(MALLORY, NS, 'custom-server-0', 'command=sh&container=kserve-container'),
      exec(MALLORY, NS, 'alice-nb-0', 'command=sh&container=alice-nb'),
    ]);
    expect(evs.map((e) => e.details?.ml_workload)).toEqual([
      { kind: 'model_server', endpoint: `${NS}/fraud`, component: 'predictor', from: 'name' },
      { kind: 'model_server', endpoint: `${NS}/churn`, component: 'predictor', from: 'name' },
      { kind: 'pipeline_step', workflow: 'churn-pipeline-x7k2p', from: 'name' },
      { kind: 'mlflow_server', from: 'name' },
      { kind: 'model_server', from: 'container' },
      undefined,
    ]);
    expect(evs.every((e) => e.action === 'pod.exec' && e.stage === 'platform')).toBe(true);
  });

  it('a Deployment by its labels; whether a write changes the pods and whether a controller made it', () => {
    const [user, ctrl, restart, setImage] = norm([
      deploymentUpdate(MALLORY),
      deploymentUpdate(sa('kserve', 'kserve-controller-manager')),
      deploymentPatch(MALLORY, 'churn-predictor', { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-25T10:00:00Z' } } } } }),
      deploymentPatch(MALLORY, 'fraud-predictor-00001-deployment', { spec: { template: { spec: { containers: [{ name: 'kserve-container', image: 'ghcr.io/mallory/sklearnserver:latest' }] } } } }),
    ]);
    expect(user!.details).toMatchObject({ ml_workload: { kind: 'model_server', endpoint: `${NS}/churn`, from: 'labels' }, pod_spec_changed: true });
    expect(user!.details?.by_workload_controller).toBeUndefined();
    expect(ctrl!.details).toMatchObject({ pod_spec_changed: true, by_workload_controller: true });
    expect(restart!.details).toMatchObject({ ml_workload: { kind: 'model_server', endpoint: `${NS}/churn`, from: 'name' }, pod_spec_changed: false });
    expect(setImage!.details).toMatchObject({ ml_workload: { endpoint: `${NS}/fraud` }, pod_spec_changed: true, images: ['ghcr.io/mallory/sklearnserver:latest'] });
  });

  it('kubectl debug: the ephemeral container, its image and target', () => {
    const [ev] = norm([auditEvent({
      level: 'Request', verb: 'patch', user: MALLORY, requestURI: `/api/v1/namespaces/${NS}/pods/${POD}/ephemeralcontainers`,
      objectRef: { resource: 'pods', namespace: NS, name: POD, apiVersion: 'v1', subresource: 'ephemeralcontainers' },
      requestObject: { spec: { ephemeralContainers: [{ name: 'debugger-8xqzk', image: 'docker.io/library/busybox:latest', targetContainerName: 'kserve-container', stdin: true, tty: true }] } },
    })]);
    expect(ev!.action).toBe('pod.exec');
    expect(ev!.details).toMatchObject({ ephemeral_containers: [{ name: 'debugger-8xqzk', image: 'docker.io/library/busybox:latest', target: 'kserve-container' }], images: ['docker.io/library/busybox:latest'], ml_workload: { kind: 'model_server' } });
  });
});

describe('platform.ml_workload_access', () => {
  it('the falco exec capture into a predictor pod alerts; the same capture into an nginx pod does not', () => {
    const nginx = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_exec_pod.json');
    expect(alerts([nginx])).toEqual([]);
    const [a] = alerts([falcoExec(NS, POD, 'command=bash&container=kserve-container&stdin=true&stdout=true&tty=true')]);
    expect(a).toMatchObject({ severity: 'high', entity: { type: 'endpoint', id: `${NS}/fraud` }, details: { identity: 'minikube-user', workload: 'model_server', access: 'exec', command: ['bash'], container: 'kserve-container', endpoint: `${NS}/fraud` } });
    expect(a!.summary).toBe(`minikube-user ran 'bash' in pod ${NS}/${POD} (model server ${NS}/fraud)`);
  });

  it('kubectl cp into the model directory and out of the MLflow server, attach, port-forward, debug container', () => {
    const got = alerts([
      exec(NOTEBOOK_SA, NS, POD, 'command=tar&command=xmf&command=-&command=-C&command=%2Fmnt%2Fmodels&container=kserve-container&stdin=true'),
      exec(MALLORY, 'kubeflow', 'mlflow-server-6c9d8b7f5-q7w2e', 'command=tar&command=cf&command=-&command=%2Fmlruns&container=mlflow&stdout=true'),
      auditEvent({ verb: 'create', user: MALLORY, objectRef: { resource: 'pods', namespace: NS, name: 'churn-pipeline-x7k2p-system-container-impl-1843591523', apiVersion: 'v1', subresource: 'attach' }, requestURI: `/api/v1/namespaces/${NS}/pods/churn-pipeline-x7k2p-system-container-impl-1843591523/attach?container=main&stdin=true`, responseStatus: { metadata: {}, code: 101 } }),
      auditEvent({ verb: 'create', user: MALLORY, objectRef: { resource: 'pods', namespace: 'kubeflow', name: 'mlflow-server-6c9d8b7f5-q7w2e', apiVersion: 'v1', subresource: 'portforward' }, requestURI: '/api/v1/namespaces/kubeflow/pods/mlflow-server-6c9d8b7f5-q7w2e/portforward', responseStatus: { metadata: {}, code: 101 } }),
      auditEvent({ level: 'Request', verb: 'patch', user: MALLORY, requestURI: `/api/v1/namespaces/${NS}/pods/${POD}/ephemeralcontainers`, objectRef: { resource: 'pods', namespace: NS, name: POD, apiVersion: 'v1', subresource: 'ephemeralcontainers' }, requestObject: { spec: { ephemeralContainers: [{ name: 'debugger-8xqzk', image: 'docker.io/library/busybox:latest', targetContainerName: 'kserve-container' }] } } }),
    ]);
    expect(got.map((a) => a.details?.access)).toEqual(['copy in', 'copy out', 'attach', 'port-forward', 'ephemeral container']);
    expect(got.map((a) => a.summary)).toEqual([
      `system:serviceaccount:${NS}:default-editor copied /mnt/models into pod ${NS}/${POD} (model server ${NS}/fraud)`,
      'mallory@corp.example copied /mlruns out of pod kubeflow/mlflow-server-6c9d8b7f5-q7w2e (MLflow server)',
      `mallory@corp.example attached to pod ${NS}/churn-pipeline-x7k2p-system-container-impl-1843591523 (pipeline step)`,
      'mallory@corp.example port-forwarded to pod kubeflow/mlflow-server-6c9d8b7f5-q7w2e (MLflow server)',
      `mallory@corp.example added a debug container (docker.io/library/busybox:latest) to pod ${NS}/${POD} (model server ${NS}/fraud)`,
    ]);
    expect(got[3]!.entity).toMatchObject({ type: 'pod', id: 'kubeflow/mlflow-server-6c9d8b7f5-q7w2e' });
  });

  it('a model server Deployment or ReplicaSet changed by a user alerts; KServe, Knative, Kubernetes controllers and a rollout restart do not', () => {
    const got = alerts([
      deploymentUpdate(MALLORY),
      deploymentPatch(NOTEBOOK_SA, 'churn-predictor', [{ op: 'replace', path: '/spec/template/spec/initContainers/0/args/0', value: 's3://scratch/evil-model' }]),
      deploymentPatch(MALLORY, 'fraud-predictor-00001-deployment-7d9f8c6b5', { spec: { template: { spec: { volumes: [{ name: 'evil', hostPath: { path: '/var/lib/evil' } }] } } } }, 'replicasets'),
      deploymentUpdate(sa('kserve', 'kserve-controller-manager')),
      deploymentUpdate(sa('knative-serving', 'controller')),
      deploymentUpdate(sa('kube-system', 'deployment-controller')),
      deploymentPatch(MALLORY, 'churn-predictor', { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-25T10:00:00Z' } } } } }),
      deploymentPatch(MALLORY, 'churn-predictor', { spec: { replicas: 3 } }),
    ]);
    expect(got.map((a) => [a.details?.identity, a.details?.object, a.details?.access])).toEqual([
      ['mallory@corp.example', 'churn-predictor', 'pod spec change'],
      [`system:serviceaccount:${NS}:default-editor`, 'churn-predictor', 'pod spec change'],
      ['mallory@corp.example', 'fraud-predictor-00001-deployment-7d9f8c6b5', 'pod spec change'],
    ]);
    expect(got[0]!.summary).toBe(`mallory@corp.example changed the pods of deployment ${NS}/churn-predictor (model server ${NS}/churn, not through its InferenceService): its pods download the model from s3://scratch/evil-model`);
  });

  it('an account named kserve-controller-manager in a profile namespace is a user', () => {
    expect(alerts([deploymentUpdate(sa(NS, 'kserve-controller-manager'))])).toHaveLength(1);
  });

  it('not judged: a refused or dry-run exec, an Argo executor patching its step pod, a notebook pod, an exempt break-glass identity', () => {
    const forbidden = exec(MALLORY, NS, POD, 'command=sh&container=kserve-container', { responseStatus: { metadata: {}, code: 403, reason: 'Forbidden' }, annotations: { 'authorization.k8s.io/decision': 'forbid' } });
    const argo = auditEvent({ level: 'Request', verb: 'patch', user: NOTEBOOK_SA, objectRef: { resource: 'pods', namespace: NS, name: 'churn-pipeline-x7k2p-system-container-impl-1843591523', apiVersion: 'v1' }, requestURI: `/api/v1/namespaces/${NS}/pods/churn-pipeline-x7k2p-system-container-impl-1843591523`, requestObject: { metadata: { annotations: { 'workflows.argoproj.io/outputs': '{}' } } } });
    const breakGlass = { username: 'oidc:sre-breakglass@corp.example', groups: ['system:authenticated'] };
    expect(alerts([forbidden, argo, exec(MALLORY, NS, 'alice-nb-0', 'command=sh&container=alice-nb'), exec(breakGlass, NS, POD, 'command=sh&container=kserve-container')], { 'platform.ml_workload_access': { exempt: ['sre-breakglass@corp.example'] } })).toEqual([]);
    // Without the exemption the break-glass exec is a finding.
    expect(alerts([exec(breakGlass, NS, POD, 'command=sh&container=kserve-container')])).toHaveLength(1);
  });

  it('pods lists further ML workloads by <namespace>/<pod> glob', () => {
    const feast = exec(MALLORY, 'kubeflow', 'feast-registry-0', 'command=sh&container=registry');
    expect(alerts([feast])).toEqual([]);
    const [a] = alerts([feast], { 'platform.ml_workload_access': { pods: ['kubeflow/feast-*'] } });
    expect(a).toMatchObject({ entity: { type: 'pod', id: 'kubeflow/feast-registry-0' }, details: { workload: 'configured', workload_from: 'config' } });
  });

  it("an exec's ResponseStarted and ResponseComplete are one finding", () => {
    const started = exec(MALLORY, NS, POD, 'command=sh&container=kserve-container', { stage: 'ResponseStarted' });
    const done = { ...started, stage: 'ResponseComplete', stageTimestamp: '2026-11-25T10:05:00.000000Z' };
    const got = replayEvents(norm([started, done]), { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'platform.ml_workload_access');
    expect(got.map((a) => a.count ?? 1).reduce((x, y) => x + y, 0) >= 1).toBe(true);
    expect(new Set(got.map((a) => a.id)).size).toBe(1);
  });

  it("a token minted for a watched service account, and KServe's storage-config secret read, by anyone but the controllers and kubelets", () => {
    const token = (user: Obj, ns: string, account: string) => auditEvent({ verb: 'create', user, objectRef: { resource: 'serviceaccounts', namespace: ns, name: account, apiVersion: 'v1', subresource: 'token' }, requestURI: `/api/v1/namespaces/${ns}/serviceaccounts/${account}/token`, responseStatus: { metadata: {}, code: 201 } });
    const secretGet = (user: Obj, name: string) => auditEvent({ verb: 'get', user, objectRef: { resource: 'secrets', namespace: NS, name, apiVersion: 'v1' }, requestURI: `/api/v1/namespaces/${NS}/secrets/${name}` });
    const kubelet = { username: 'system:node:worker-3', groups: ['system:nodes', 'system:authenticated'] };
    const got = alerts([
      token(MALLORY, 'kubeflow', 'pipeline-runner'),
      token(NOTEBOOK_SA, NS, 'sa-s3'),
      secretGet(NOTEBOOK_SA, 'storage-config'),
      token(kubelet, NS, 'default-editor'),
      secretGet(sa('kserve', 'kserve-controller-manager'), 'storage-config'),
      secretGet(sa('modelmesh-serving', 'modelmesh-controller'), 'storage-config'),
      // KFP's launcher reads the artifact store secret with the pipeline's account: the run's own business.
      secretGet(NOTEBOOK_SA, 'mlpipeline-minio-artifact'),
    ]);
    expect(got.map((a) => [a.entity.type, a.entity.id, a.details?.access, a.details?.identity])).toEqual([
      ['service_account', 'kubeflow/pipeline-runner', 'token request', 'mallory@corp.example'],
      ['service_account', `${NS}/sa-s3`, 'token request', `system:serviceaccount:${NS}:default-editor`],
      ['secret', `${NS}/storage-config`, 'credentials read', `system:serviceaccount:${NS}:default-editor`],
    ]);
    expect(got[0]!.summary).toBe('mallory@corp.example minted a token for service account kubeflow/pipeline-runner: it acts as that account outside its pods until the token expires');
    // A ModelMesh controller account made in a profile namespace is a user.
    expect(alerts([secretGet(sa(NS, 'modelmesh-controller'), 'storage-config')])).toHaveLength(1);
  });

  it('a pod written to mount storage-config (volume, projected source, env or envFrom) by a user alerts; by the ReplicaSet controller not', () => {
    const pod = (user: Obj, name: string, spec: Obj) => auditEvent({ level: 'Request', verb: 'create', user, objectRef: { resource: 'pods', namespace: NS, name, apiVersion: 'v1' }, requestURI: `/api/v1/namespaces/${NS}/pods`, responseStatus: { metadata: {}, code: 201 }, requestObject: { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec } });
    const c = (extra: Obj = {}) => ({ name: 'c', image: 'docker.io/library/alpine:3.20', ...extra });
    const got = alerts([
      pod(MALLORY, 'debug-shell', { containers: [c()], volumes: [{ name: 'creds', secret: { secretName: 'storage-config' } }] }),
      pod(MALLORY, 'debug-proj', { containers: [c()], volumes: [{ name: 'p', projected: { sources: [{ secret: { name: 'storage-config' } }] } }] }),
      pod(NOTEBOOK_SA, 'debug-env', { containers: [c({ env: [{ name: 'CFG', valueFrom: { secretKeyRef: { name: 'storage-config', key: 'localMinIO' } } }] })] }),
      pod(NOTEBOOK_SA, 'debug-envfrom', { containers: [c({ envFrom: [{ secretRef: { name: 'storage-config' } }] })] }),
      pod(sa('kube-system', 'replicaset-controller'), 'custom-model-7d9f8c6b5-x2x9z', { containers: [c({ envFrom: [{ secretRef: { name: 'storage-config' } }] })] }),
      pod(MALLORY, 'other-secret', { containers: [c()], volumes: [{ name: 'creds', secret: { secretName: 'mlpipeline-minio-artifact' } }] }),
    ]);
    expect(got.map((a) => [a.entity.id, a.details?.access])).toEqual([
      [`${NS}/debug-shell`, 'credentials mounted'], [`${NS}/debug-proj`, 'credentials mounted'], [`${NS}/debug-env`, 'credentials mounted'], [`${NS}/debug-envfrom`, 'credentials mounted'],
    ]);
    expect(got[0]!.summary).toBe(`mallory@corp.example wrote pod ${NS}/debug-shell to mount secret ${NS}/storage-config (the model store credentials KServe's storage initializer downloads models with)`);
  });
});
