import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { ctx } from './helpers.js';

/**
 * KServe multi-model serving: a TrainedModel (serving.kserve.io/v1alpha1) loads `spec.model.storageUri` into the
 * InferenceService `spec.inferenceService` names, with no write of that InferenceService. Records built from a real
 * audit record (the falco RequestResponse pod create); only the object, user and bodies are changed. TrainedModel
 * fields as in KServe's v1alpha1 API (`inferenceService`, `model.{storageUri, framework, memory}`).
 */
type Obj = Record<string, any>;
const BASE = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');
const NS = 'kubeflow-user-alice';
let seq = 0;
function record(verb: string, resource: string, name: string, requestObject: unknown, responseObject: unknown, over: Obj = {}): Obj {
  const ev = structuredClone(BASE);
  const group = resource === 'inferenceservices' ? 'v1beta1' : 'v1alpha1';
  return {
    ...ev,
    auditID: `${ev.auditID}-tm-${++seq}`,
    verb,
    stageTimestamp: `2026-11-25T1${seq % 10}:00:00.000000Z`,
    requestReceivedTimestamp: `2026-11-25T1${seq % 10}:00:00.000000Z`,
    requestURI: `/apis/serving.kserve.io/${group}/namespaces/${NS}/${resource}${verb === 'create' ? '' : `/${name}`}`,
    user: { username: 'mallory@example.com', groups: ['system:authenticated'] },
    objectRef: { resource, namespace: NS, name, apiGroup: 'serving.kserve.io', apiVersion: group },
    responseStatus: { metadata: {}, code: verb === 'create' ? 201 : 200 },
    requestObject,
    responseObject,
    ...over,
  };
}
const trained = (name: string, storageUri: string, isvc = 'triton-mms') => ({ apiVersion: 'serving.kserve.io/v1alpha1', kind: 'TrainedModel', metadata: { name, namespace: NS }, spec: { inferenceService: isvc, model: { framework: 'pytorch', storageUri, memory: '1Gi' } } });
const isvcCreate = () => record('create', 'inferenceservices', 'triton-mms', { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name: 'triton-mms', namespace: NS }, spec: { predictor: { triton: { resources: { limits: { memory: '4Gi' } } } } } }, undefined);

const one = (r: Obj): NormalizedEvent => {
  const out = kubeflowConnector.normalize!(r, ctx());
  expect(out.rejected).toEqual([]);
  expect(out.events).toHaveLength(1);
  return NormalizedEvent.parse(out.events[0]);
};

/** An MLflow version and its approval tag, as MLflow's webhooks deliver them (fixtures/mlflow envelopes). */
function mlflow(entity: string, action: string, data: Obj, hour: number): NormalizedEvent {
  const timestamp = `2026-11-25T0${hour}:00:00.000000+00:00`;
  return normalizeMlflow({ entity, action, timestamp, data }, { channel: 'mlflow.webhook', receivedTime: timestamp, keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: `tm-${entity}-${hour}` } }).events[0]!;
}
const approvedVersion = () => [
  mlflow('model_version', 'created', { name: 'cifar10', version: '3', source: 'gs://models/cifar10/3', run_id: 'r3', tags: {}, description: null }, 1),
  mlflow('model_version_tag', 'set', { name: 'cifar10', version: '3', key: 'approval_status', value: 'approved' }, 2),
];
const deployAlerts = (events: NormalizedEvent[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');

describe('KServe TrainedModel: a model loaded into an InferenceService', () => {
  it('create is a deployment onto the parent InferenceService: endpoint, model_uri, the TrainedModel as variant', () => {
    const e = one(record('create', 'trainedmodels', 'cifar10-evil', trained('cifar10-evil', 'gs://scratch/mallory/cifar10'), undefined));
    expect([e.action, e.stage, e.ml?.deployment]).toEqual(['endpoint.deploy', 'serving', { endpoint: `${NS}/triton-mms`, model_uri: 'gs://scratch/mallory/cifar10', variant: 'cifar10-evil' }]);
    // Credentials in the location never reach the event.
    const signed = one(record('create', 'trainedmodels', 'x', trained('x', 'https://acct.blob.core.windows.net/m/x?sv=2022&sig=SECRET'), undefined));
    expect(JSON.stringify(signed.ml)).not.toContain('SECRET');
  });

  it('a patch of storageUri deploys what the stored object now holds; a patch of memory or labels, a delete, a status write deploy nothing', () => {
    const merge = one(record('patch', 'trainedmodels', 'cifar10', { spec: { model: { storageUri: 'gs://scratch/v9' } } }, trained('cifar10', 'gs://scratch/v9')));
    expect([merge.action, merge.ml?.deployment]).toEqual(['endpoint.deploy', { endpoint: `${NS}/triton-mms`, model_uri: 'gs://scratch/v9', variant: 'cifar10' }]);
    const json = one(record('patch', 'trainedmodels', 'cifar10', [{ op: 'replace', path: '/spec/model/storageUri', value: 'gs://scratch/v10' }], undefined));
    // No stored object logged: the patch's own value (the parent is unknown then).
    expect([json.action, json.ml?.deployment]).toEqual(['endpoint.deploy', { model_uri: 'gs://scratch/v10', variant: 'cifar10' }]);
    const memory = one(record('patch', 'trainedmodels', 'cifar10', [{ op: 'replace', path: '/spec/model/memory', value: '2Gi' }], trained('cifar10', 'gs://models/cifar10/3')));
    expect([memory.action, memory.ml?.deployment]).toEqual(['resource.update', undefined]);
    const labels = one(record('patch', 'trainedmodels', 'cifar10', { metadata: { labels: { a: 'b' } } }, trained('cifar10', 'gs://models/cifar10/3')));
    expect(labels.action).toBe('resource.update');
    expect(one(record('delete', 'trainedmodels', 'cifar10', undefined, undefined)).action).toBe('resource.delete');
    const status = one(record('update', 'trainedmodels', 'cifar10', trained('cifar10', 'gs://models/cifar10/3'), undefined, { objectRef: { resource: 'trainedmodels', namespace: NS, name: 'cifar10', apiGroup: 'serving.kserve.io', apiVersion: 'v1alpha1', subresource: 'status' } }));
    expect(status.ml?.deployment).toBeUndefined();
  });

  it('a TrainedModel loading a model no registry approved is registry.unapproved_deployment on its InferenceService; an approved version is not', () => {
    const rogue = one(record('create', 'trainedmodels', 'cifar10-evil', trained('cifar10-evil', 'gs://scratch/mallory/cifar10'), undefined));
    const alerts = deployAlerts([...approvedVersion(), one(isvcCreate()), rogue]);
    expect(alerts.map((a) => [a.entity.id, a.details.reason, (a.details.deployed as Obj).artifact, a.evidence])).toEqual([[`${NS}/triton-mms`, 'never_approved', 'gs://scratch/mallory/cifar10', [rogue.id]]]);
    expect(alerts[0]!.summary).toContain('deployed gs://scratch/mallory/cifar10 to kubeflow-user-alice/triton-mms');
    // Near miss: the approved version's artifact, and the same version by registry URI.
    const ok = one(record('create', 'trainedmodels', 'cifar10', trained('cifar10', 'gs://models/cifar10/3'), undefined));
    const byUri = one(record('create', 'trainedmodels', 'cifar10-b', trained('cifar10-b', 'models:/cifar10/3'), undefined));
    expect(deployAlerts([...approvedVersion(), one(isvcCreate()), ok, byUri])).toEqual([]);
  });
});
