import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { Alert, NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { runCli } from '../../helpers/cli.js';
import { ctx } from './helpers.js';

/**
 * InferenceService writes built from a real audit record (the falco RequestResponse
 * pod create, apiserver v1beta1): only the object, user and bodies are changed.
 */
type Obj = Record<string, any>;
const BASE = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');
let seq = 0;
function isvc(verb: string, requestObject: unknown, over: Obj = {}): Obj {
  const ev = structuredClone(BASE);
  const query = verb === 'patch' && !Array.isArray(requestObject) ? '?fieldManager=kubectl&force=true' : '';
  return {
    ...ev,
    auditID: `${ev.auditID}-${++seq}`,
    verb,
    requestURI: `/apis/serving.kserve.io/v1beta1/namespaces/kubeflow-user-alice/inferenceservices${verb === 'create' ? '' : `/fraud${query}`}`,
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    objectRef: { resource: 'inferenceservices', namespace: 'kubeflow-user-alice', name: 'fraud', apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1' },
    responseStatus: { metadata: {}, code: verb === 'create' ? 201 : 200 },
    requestObject,
    responseObject: undefined,
    ...over,
  };
}
const object = (predictor: Obj) => ({ apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name: 'fraud', namespace: 'kubeflow-user-alice' }, spec: { predictor } });
const URI = 'gs://models/fraud/5';
/** The endpoint id: namespace-qualified (another profile's `fraud` is another endpoint). */
const EP = 'kubeflow-user-alice/fraud';
const LLM_EP = 'kubeflow-user-alice/chat';
/** An event naming the endpoint but no model. */
const NO_MODEL = { endpoint: EP };
/** KServe 0.15+: several storage URIs, each with its mount path. */
const storageUris = (...uris: string[]) => uris.map((uri, i) => ({ uri, mountPath: i ? `/mnt/models/extra${i}` : '/mnt/models' }));
/** A custom predictor: KServe's storage initializer downloads the container's STORAGE_URI. */
const custom = (env: Obj[]) => ({ containers: [{ name: 'kserve-container', image: 'ghcr.io/acme/fraud-server:1.4', env: [{ name: 'PROTOCOL', value: 'v2' }, ...env] }] });

const one = (record: Obj) => {
  const out = kubeflowConnector.normalize!(record, ctx());
  expect(out.rejected).toEqual([]);
  expect(out.events).toHaveLength(1);
  return NormalizedEvent.parse(out.events[0]);
};
const deployment = (record: Obj) => one(record).ml?.deployment;

describe('KServe storageUris and a custom container STORAGE_URI reach ml.deployment.model_uri', () => {
  it('create: spec.predictor.storageUris (API shape), spec.predictor.model.storageUris (docs shape), a custom container STORAGE_URI', () => {
    const a = one(isvc('create', object({ model: { modelFormat: { name: 'sklearn' } }, storageUris: storageUris(URI) })));
    expect([a.action, a.stage, a.ml?.deployment]).toEqual(['endpoint.create', 'serving', { endpoint: EP, model_uri: URI }]);
    expect(deployment(isvc('create', object({ model: { modelFormat: { name: 'sklearn' }, storageUris: storageUris(URI) } })))).toEqual({ endpoint: EP, model_uri: URI });
    const c = one(isvc('create', object(custom([{ name: 'STORAGE_URI', value: URI }]))));
    // The custom container's image is the deployment's too (serving.unverified_image judges it).
    expect([c.action, c.ml?.deployment]).toEqual(['endpoint.create', { endpoint: EP, model_uri: URI, images: ['ghcr.io/acme/fraud-server:1.4'] }]);
    // KFServing v1alpha2 custom predictor.
    const old = isvc('create', { spec: { default: { predictor: { custom: { container: { image: 'acme/srv:1', env: [{ name: 'STORAGE_URI', value: 's3://evil/kfserving' }] } } } } } }, { objectRef: { ...BASE.objectRef, resource: 'inferenceservices', apiGroup: 'serving.kubeflow.org', name: 'old', namespace: 'kubeflow-user-alice' } });
    expect(deployment(old)?.model_uri).toBe('s3://evil/kfserving');
  });

  it('several URIs: model_uri is the first, model_uris lists every one', () => {
    const base = 'hf://acme/base-llm', adapter = 's3://acme/lora/customer-service';
    expect(deployment(isvc('create', object({ model: { modelFormat: { name: 'huggingface' } }, storageUris: storageUris(base, adapter) })))).toEqual({ endpoint: EP, model_uri: base, model_uris: [base, adapter] });
  });

  it('a custom container without STORAGE_URI (it fetches its own model) names none; a label-only write names none', () => {
    expect(deployment(isvc('create', object(custom([{ name: 'MODEL_NAME', value: 'fraud' }]))))).toEqual({ ...NO_MODEL, images: ['ghcr.io/acme/fraud-server:1.4'] });
    expect(deployment(isvc('patch', { metadata: { labels: { team: 'a' } } }))).toEqual(NO_MODEL);
  });

  it('update (PUT), merge patch and server-side apply bodies', () => {
    expect(deployment(isvc('update', object({ storageUris: storageUris(URI) })))?.model_uri).toBe(URI);
    expect(deployment(isvc('update', object(custom([{ name: 'STORAGE_URI', value: URI }]))))?.model_uri).toBe(URI);
    // kubectl patch --type=merge: only what the patch sets.
    expect(deployment(isvc('patch', { spec: { predictor: { storageUris: storageUris(URI) } } }))?.model_uri).toBe(URI);
    expect(deployment(isvc('patch', { spec: { predictor: custom([{ name: 'STORAGE_URI', value: URI }]) } }))?.model_uri).toBe(URI);
    // kubectl apply --server-side: the full applied configuration.
    const ssa = one(isvc('patch', object({ model: { modelFormat: { name: 'sklearn' } }, storageUris: storageUris(URI) })));
    expect([ssa.action, ssa.ml?.deployment?.model_uri]).toEqual(['endpoint.update', URI]);
    // An update whose request body was not logged (level Metadata for requests): the stored object.
    expect(deployment(isvc('update', undefined, { level: 'RequestResponse', responseObject: object(custom([{ name: 'STORAGE_URI', value: URI }])) }))?.model_uri).toBe(URI);
  });

  it('JSON patch: storageUris items and STORAGE_URI env entries, later ops overriding earlier ones', () => {
    const jp = (ops: Obj[], over: Obj = {}) => deployment(isvc('patch', ops, over));
    expect(jp([{ op: 'add', path: '/spec/predictor/storageUris', value: storageUris(URI) }])?.model_uri).toBe(URI);
    expect(jp([{ op: 'add', path: '/spec/predictor/storageUris/-', value: { uri: URI, mountPath: '/mnt/models' } }])?.model_uri).toBe(URI);
    expect(jp([{ op: 'replace', path: '/spec/predictor/storageUris/0/uri', value: URI }])?.model_uri).toBe(URI);
    expect(jp([{ op: 'add', path: '/spec/predictor/model/storageUris/0', value: { uri: URI } }])?.model_uri).toBe(URI);
    expect(jp([{ op: 'add', path: '/spec/predictor/containers/0/env/-', value: { name: 'STORAGE_URI', value: URI } }])?.model_uri).toBe(URI);
    expect(jp([{ op: 'replace', path: '/spec/predictor/containers', value: custom([{ name: 'STORAGE_URI', value: URI }]).containers }])?.model_uri).toBe(URI);
    // A later op replaces or removes what an earlier one set: only what the patch leaves counts.
    const set = { op: 'add', path: '/spec/predictor', value: { model: { storageUris: storageUris('s3://models/fraud/4') } } };
    expect(jp([set, { op: 'replace', path: '/spec/predictor/model/storageUris/0/uri', value: URI }])).toEqual({ endpoint: EP, model_uri: URI });
    expect(jp([set, { op: 'remove', path: '/spec/predictor/model/storageUris' }])).toEqual(NO_MODEL);
    // The env entry's value changed alone: its name is in the stored object, read when the response is logged.
    const valueOnly = [{ op: 'replace', path: '/spec/predictor/containers/0/env/1/value', value: URI }];
    expect(jp(valueOnly, { level: 'RequestResponse', responseObject: object(custom([{ name: 'STORAGE_URI', value: URI }])) })?.model_uri).toBe(URI);
    expect(jp(valueOnly, { level: 'RequestResponse', responseObject: object(custom([{ name: 'LOG_LEVEL', value: URI }])) })).toEqual(NO_MODEL);
    // A patch naming a prototype key is read without touching any prototype.
    expect(jp([{ op: 'add', path: '/__proto__/storageUri', value: URI }, { op: 'add', path: '/spec/constructor/prototype/x', value: 1 }])).toEqual(NO_MODEL);
    expect(({} as Obj).storageUri).toBeUndefined();
    // A copy from an inherited name (`toString`) is a value the patch never wrote, not a reason to drop the record.
    expect(jp([{ op: 'copy', from: '/toString', path: '/metadata/annotations/x' }, { op: 'add', path: '/spec/predictor/storageUris', value: storageUris(URI) }])?.model_uri).toBe(URI);
    // Path "" replaces the whole object.
    expect(jp([{ op: 'replace', path: '', value: object({ storageUris: storageUris(URI) }) }])?.model_uri).toBe(URI);
    // The logged request is left as sent.
    const ops = [set, { op: 'replace', path: '/spec/predictor/model/storageUris/0/uri', value: URI }];
    const sent = structuredClone(ops);
    jp(ops);
    expect(ops).toEqual(sent);
  });
});

describe('a KServe LLMInferenceService names its model in spec.model.uri', () => {
  const llm = (verb: string, requestObject: unknown) =>
    isvc(verb, requestObject, {
      requestURI: `/apis/serving.kserve.io/v1alpha1/namespaces/kubeflow-user-alice/llminferenceservices${verb === 'create' ? '' : '/chat'}`,
      objectRef: { resource: 'llminferenceservices', namespace: 'kubeflow-user-alice', name: 'chat', apiGroup: 'serving.kserve.io', apiVersion: 'v1alpha1' },
    });
  const base = 'hf://acme/llm-8b', adapter = 's3://acme/lora/support';

  it('create with LoRA adapters, merge patch and JSON patch of the uri', () => {
    const c = one(llm('create', { apiVersion: 'serving.kserve.io/v1alpha1', kind: 'LLMInferenceService', metadata: { name: 'chat' }, spec: { model: { uri: base, name: 'acme/llm-8b', lora: { adapters: [{ name: 'support', uri: adapter }] } } } }));
    expect([c.action, c.stage, c.ml?.deployment]).toEqual(['endpoint.create', 'serving', { endpoint: LLM_EP, model_uri: base, model_uris: [base, adapter] }]);
    expect(one(llm('patch', { spec: { model: { uri: base } } })).ml?.deployment?.model_uri).toBe(base);
    expect(one(llm('patch', [{ op: 'replace', path: '/spec/model/uri', value: base }])).ml?.deployment?.model_uri).toBe(base);
    expect(one(llm('patch', { spec: { replicas: 2 } })).ml?.deployment).toEqual({ endpoint: LLM_EP });
    const alerts = replayEvents([one(llm('create', { spec: { model: { uri: base } } }))], { rules: RulesConfig.parse({}) }).alerts;
    expect(alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment')).toHaveLength(1);
  });

  it('its controller re-writing the object unchanged (finalizers) is a status change, not a deployment', () => {
    const body = (gen: number) => ({ metadata: { name: 'chat', generation: gen, finalizers: ['serving.kserve.io/llmisvc-finalizer'] }, spec: { model: { uri: base } } });
    const fin = one({ ...llm('update', body(2)), user: { username: 'system:serviceaccount:kserve:llmisvc-controller-manager' }, level: 'RequestResponse', responseObject: body(2) });
    expect([fin.action, fin.ml?.deployment]).toEqual(['endpoint.status_change', { endpoint: LLM_EP }]);
  });
});

describe('a never-approved model deployed these ways raises registry.unapproved_deployment', () => {
  const deploys = {
    storageUris: isvc('create', object({ model: { modelFormat: { name: 'sklearn' } }, storageUris: storageUris(URI) })),
    modelStorageUris: isvc('patch', [{ op: 'add', path: '/spec/predictor/model/storageUris', value: storageUris(URI) }]),
    customEnv: isvc('create', object(custom([{ name: 'STORAGE_URI', value: URI }]))),
    customEnvJsonPatch: isvc('patch', [{ op: 'add', path: '/spec/predictor/containers/0/env/-', value: { name: 'STORAGE_URI', value: URI } }]),
  };

  it('in the rules (as replay runs them), for each shape', () => {
    for (const [shape, record] of Object.entries(deploys)) {
      const alerts = replayEvents([one(record)], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
      expect({ shape, alerts: alerts.length }).toEqual({ shape, alerts: 1 });
      expect(alerts[0]!.details).toMatchObject({ reason: 'never_approved', deployed: { artifact: expect.stringContaining('models/fraud/5') } });
    }
  });

  const dir = mkdtempSync(join(tmpdir(), 'mltrail-kf-kserve-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('`mltrail replay --platform kubeflow` of an audit EventList holding the deploys', async () => {
    const file = join(dir, 'audit.json');
    const items = Object.values(deploys).map((r, i) => ({ ...r, objectRef: { ...r.objectRef, name: `fraud-${i}` } }));
    writeFileSync(file, JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items }));
    const { code, out, err } = await runCli(['replay', '--platform', 'kubeflow', file], { MLTRAIL_CONFIG: '' });
    expect(err).toMatch(/replay: 4 events/);
    expect(code).toBe(0);
    const alerts = out.trim().split('\n').map((l) => Alert.parse(JSON.parse(l))).filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect(alerts.map((a) => a.entity.name ?? a.entity.id).sort()).toEqual(['fraud-0', 'fraud-1', 'fraud-2', 'fraud-3'].map((n) => `kubeflow-user-alice/${n}`));
  });
});
