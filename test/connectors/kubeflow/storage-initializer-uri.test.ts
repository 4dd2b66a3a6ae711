import { describe, expect, it } from 'vitest';
import { auditEvent } from './helpers.js';
import { normAudit as norm, workloadAccessAlerts as alerts, MALLORY } from './audit-harness.js';

type Obj = Record<string, unknown>;
const NS = 'kubeflow-user-alice';
const ANN = 'internal.serving.kserve.io/storage-initializer-sourceuri';

const patch = (name: string, body: unknown, resource = 'deployments', user: Obj = MALLORY) =>
  auditEvent({ level: 'Request', verb: 'patch', user, objectRef: { resource, namespace: NS, name, apiGroup: resource === 'pods' ? '' : 'apps', apiVersion: 'v1' }, requestURI: `/apis/apps/v1/namespaces/${NS}/${resource}/${name}`, requestObject: body });

/** A Knative revision Deployment as KServe's pod mutator reads it: the template annotation names the model. */
const revision = (uri: string) => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: 'fraud-predictor-00001-deployment', namespace: NS, labels: { 'serving.kserve.io/inferenceservice': 'fraud', component: 'predictor' } },
  spec: { template: { metadata: { annotations: { [ANN]: uri } }, spec: { containers: [{ name: 'kserve-container', image: 'kserve/sklearnserver:v0.14.0' }] } } },
});

describe('a model server pod spec write names the model location (ml.model.artifact_uri)', () => {
  it("the storage-initializer argument (JSON patch) and KServe's source-URI annotation (whole object), credentials hidden", () => {
    const [argPatch, whole, other] = norm([
      patch('churn-predictor', [{ op: 'replace', path: '/spec/template/spec/initContainers/0/args/0', value: 's3://scratch/evil-model' }]),
      auditEvent({ level: 'Request', verb: 'update', user: MALLORY, objectRef: { resource: 'deployments', namespace: NS, name: 'fraud-predictor-00001-deployment', apiGroup: 'apps', apiVersion: 'v1' }, requestURI: `/apis/apps/v1/namespaces/${NS}/deployments/fraud-predictor-00001-deployment`, requestObject: revision('https://user:hunter2@models.example/fraud.joblib') }),
      patch('churn-predictor', { spec: { template: { spec: { containers: [{ name: 'kserve-container', image: 'ghcr.io/mallory/x:1' }] } } } }),
    ]);
    expect(argPatch!.ml?.model?.artifact_uri).toBe('s3://scratch/evil-model');
    expect(argPatch!.details?.storage_initializer_uris).toEqual(['s3://scratch/evil-model']);
    expect(whole!.ml?.model?.artifact_uri).toBe('https://[redacted]@models.example/fraud.joblib');
    expect(JSON.stringify(whole)).not.toContain('hunter2');
    expect(other!.ml?.model).toBeUndefined();
  });

  it('a merge patch of only the template annotation is a pod spec change (not a rollout restart) and alerts naming the model', () => {
    const [a, ...rest] = alerts([patch('fraud-predictor-00001-deployment', { spec: { template: { metadata: { annotations: { [ANN]: 's3://scratch/evil-model' } } } } })]);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ details: { access: 'pod spec change', model_uri: 's3://scratch/evil-model', endpoint: `${NS}/fraud` } });
    expect(a!.summary).toContain('download the model from s3://scratch/evil-model');
    // A restart annotation alone still changes nothing that runs.
    expect(alerts([patch('fraud-predictor-00001-deployment', { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-25T10:00:00Z' } } } } })])).toEqual([]);
  });

  it("a running pod's annotation is read by nobody (no location, no change); a JSON patch of a template's is; KServe's controller writing it is not judged", () => {
    const [pod, tmpl] = norm([
      patch('fraud-predictor-00001-deployment-7d9f8c6b5-x2x9z', [{ op: 'add', path: `/metadata/annotations/${ANN.replace('/', '~1')}`, value: 'gs://scratch/m' }], 'pods'),
      patch('fraud-predictor-00001-deployment', [{ op: 'add', path: `/spec/template/metadata/annotations/${ANN.replace('/', '~1')}`, value: 'gs://scratch/m' }]),
    ]);
    expect(pod!.ml?.model).toBeUndefined();
    expect(pod!.details?.pod_spec_changed).toBe(false);
    expect(tmpl!.ml?.model?.artifact_uri).toBe('gs://scratch/m');
    expect(tmpl!.details?.pod_spec_changed).toBe(true);
    const ctrl = { username: 'system:serviceaccount:kserve:kserve-controller-manager' };
    expect(alerts([patch('fraud-predictor-00001-deployment', { spec: { template: { metadata: { annotations: { [ANN]: 's3://models/fraud/v8' } } } } }, 'deployments', ctrl)])).toEqual([]);
  });
});
