import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { ctx } from './helpers.js';

/**
 * KServe ModelMesh: a `Predictor` (serving.kserve.io/v1alpha1, kserve/modelmesh-serving's CRD) is a stable endpoint
 * for the model its spec names — `storage.{key, path, parameters}`, or the deprecated `path` with
 * `storage.s3.{secretKey, bucket}`. Records built from a real audit record (the falco RequestResponse pod create);
 * only the object, user and bodies are changed.
 */
type Obj = Record<string, any>;
const BASE = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');
const NS = 'kubeflow-user-alice';
const EP = `${NS}/mnist`;
let seq = 0;
function record(verb: string, requestObject: unknown, responseObject?: unknown, over: Obj = {}): Obj {
  const ev = structuredClone(BASE);
  return {
    ...ev,
    auditID: `${ev.auditID}-mm-${++seq}`,
    verb,
    requestURI: `/apis/serving.kserve.io/v1alpha1/namespaces/${NS}/predictors${verb === 'create' ? '' : '/mnist'}`,
    user: { username: 'mallory@example.com', groups: ['system:authenticated'] },
    objectRef: { resource: 'predictors', namespace: NS, name: 'mnist', apiGroup: 'serving.kserve.io', apiVersion: 'v1alpha1' },
    responseStatus: { metadata: {}, code: verb === 'create' ? 201 : 200 },
    requestObject,
    responseObject,
    ...over,
  };
}
const predictor = (spec: Obj) => ({ apiVersion: 'serving.kserve.io/v1alpha1', kind: 'Predictor', metadata: { name: 'mnist', namespace: NS }, spec: { modelType: { name: 'onnx' }, ...spec } });
const one = (r: Obj): NormalizedEvent => {
  const out = kubeflowConnector.normalize!(r, ctx());
  expect(out.rejected).toEqual([]);
  expect(out.events).toHaveLength(1);
  return NormalizedEvent.parse(out.events[0]);
};

describe('KServe ModelMesh Predictor', () => {
  it('is an endpoint of its own; a write names the model its storage spec (or deprecated path + s3) gives', () => {
    const a = one(record('create', predictor({ storage: { key: 'localMinIO', path: 'onnx/mnist.onnx' } })));
    expect([a.action, a.stage, a.ml?.deployment]).toEqual(['endpoint.create', 'serving', { endpoint: EP, model_uri: 'kserve-storage://localMinIO/onnx/mnist.onnx' }]);
    const b = one(record('create', predictor({ storage: { path: 'mnist', parameters: { type: 's3', bucket: 'models' } } })));
    expect(b.ml?.deployment?.model_uri).toBe('s3://models/mnist');
    const old = one(record('create', predictor({ path: 'my_models/mnist-tf', storage: { s3: { secretKey: 'my_storage', bucket: 'my_bucket' } } })));
    expect(old.ml?.deployment?.model_uri).toBe('s3://my_bucket/my_models/mnist-tf');
    const oldNoBucket = one(record('create', predictor({ path: 'mnist', storage: { s3: { secretKey: 'my_storage' } } })));
    expect(oldNoBucket.ml?.deployment?.model_uri).toBe('kserve-storage://my_storage/mnist');
  });

  it('a patch deploys what the stored object names; a label patch, a path patch with no object logged, a delete name no model', () => {
    const p = one(record('patch', { spec: { storage: { path: 'v2' } } }, predictor({ storage: { key: 'localMinIO', path: 'v2' } })));
    expect([p.action, p.ml?.deployment]).toEqual(['endpoint.update', { endpoint: EP, model_uri: 'kserve-storage://localMinIO/v2' }]);
    expect(one(record('patch', { metadata: { labels: { a: 'b' } } }, predictor({ storage: { key: 'k', path: 'v2' } }))).ml?.deployment).toEqual({ endpoint: EP });
    expect(one(record('patch', { spec: { path: 'v3' } })).ml?.deployment).toEqual({ endpoint: EP });
    const del = one(record('delete', undefined));
    expect([del.action, del.ml?.deployment]).toEqual(['endpoint.delete', { endpoint: EP }]);
  });

  it('a Predictor serving a model no registry approved is registry.unapproved_deployment on it', () => {
    const e = one(record('create', predictor({ storage: { path: 'mallory/mnist', parameters: { type: 's3', bucket: 'scratch' } } })));
    const alerts = replayEvents([e], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect(alerts.map((a) => [a.entity.id, a.details.reason, (a.details.deployed as Obj).artifact])).toEqual([[EP, 'never_approved', 's3://scratch/mallory/mnist']]);
  });
});
