import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { auditRelevance } from '../../../connectors/kubeflow/filter.js';
import { KubeflowConfig } from '../../../connectors/kubeflow/config.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { auditEvent, ctx as kfCtx } from '../../connectors/kubeflow/helpers.js';

/**
 * serving.unverified_image: KServe's storage initializer. A ClusterStorageContainer (serving.kserve.io/v1alpha1,
 * KServe 0.11+) names the container KServe injects to download the model of every InferenceService whose storageUri
 * its supportedUriFormats match; its image runs before those servers with their storage credentials.
 */
const RULE = 'serving.unverified_image';
const alertsOf = (events: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);

/** The apiserver's record of a ClusterStorageContainer write (cluster-scoped) at RequestResponse. */
function storageContainerWrite(verb: 'create' | 'patch', requestObject: unknown, responseObject?: unknown) {
  return auditEvent({
    level: 'RequestResponse', verb,
    requestURI: `/apis/serving.kserve.io/v1alpha1/clusterstoragecontainers${verb === 'create' ? '' : '/hf-hub'}`,
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    objectRef: { resource: 'clusterstoragecontainers', name: 'hf-hub', apiGroup: 'serving.kserve.io', apiVersion: 'v1alpha1' },
    responseStatus: { metadata: {}, code: verb === 'create' ? 201 : 200 },
    requestObject, responseObject,
  });
}
const normalize = (record: unknown) => {
  const out = kubeflowConnector.normalize!(record, kfCtx());
  expect(out.rejected).toEqual([]);
  return NormalizedEvent.parse(out.events[0]);
};
/** As KServe's docs write one (the hf:// storage container), with `image`. */
const csc = (image: string) => ({
  apiVersion: 'serving.kserve.io/v1alpha1', kind: 'ClusterStorageContainer', metadata: { name: 'hf-hub' },
  spec: {
    container: { name: 'storage-initializer', image, env: [{ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-secret', key: 'HF_TOKEN', optional: false } } }], resources: { requests: { memory: '100Mi', cpu: '100m' }, limits: { memory: '1Gi', cpu: '1' } } },
    supportedUriFormats: [{ prefix: 'hf://' }],
  },
});

describe('KServe ClusterStorageContainer', () => {
  it('its storage-initializer image is a serving image: KServe\'s own by tag passes, another registry\'s alerts', () => {
    const own = normalize(storageContainerWrite('create', csc('kserve/storage-initializer:v0.15.0')));
    expect(own.stage).toBe('serving');
    expect(own.ml?.deployment?.images).toEqual(['kserve/storage-initializer:v0.15.0']);
    expect(alertsOf([own])).toEqual([]);
    const evil = normalize(storageContainerWrite('create', csc('ghcr.io/attacker/storage-initializer:latest')));
    const [alert, ...more] = alertsOf([evil]);
    expect(more).toEqual([]);
    expect(alert!.details?.images).toEqual(['ghcr.io/attacker/storage-initializer:latest']);
    expect(alert!.entity.id).toContain('hf-hub');
    expect(alertsOf([evil], { [RULE]: { trusted_images: ['ghcr.io/attacker/storage-initializer'] } })).toEqual([]);
  });

  it('a JSON patch replacing the image is judged; the audit filter keeps the cluster-scoped write', () => {
    const patch = storageContainerWrite('patch', [{ op: 'replace', path: '/spec/container/image', value: 'quay.io/mallory/init:1' }], csc('quay.io/mallory/init:1'));
    expect(auditRelevance(patch as never, (ns) => ns === 'kubeflow-user-alice')).toMatchObject({ keep: true, why: 'KServe ClusterStorageContainer write' });
    expect(alertsOf([normalize(patch)]).map((a) => a.details?.images)).toEqual([['quay.io/mallory/init:1']]);
  });
});

/** The apiserver's record of a write to KServe's controller ConfigMap (namespaced) at RequestResponse. */
function kserveConfigWrite(verb: 'create' | 'update' | 'patch', requestObject: unknown, namespace = 'kserve', name = 'inferenceservice-config') {
  return auditEvent({
    level: 'RequestResponse', verb,
    requestURI: `/api/v1/namespaces/${namespace}/configmaps${verb === 'create' ? '' : `/${name}`}`,
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    objectRef: { resource: 'configmaps', namespace, name, apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: verb === 'create' ? 201 : 200 },
    requestObject,
  });
}
/** The `storageInitializer` key as KServe's config/configmap/inferenceservice.yaml writes it (JSON text), with `image`. */
const initializerSetting = (image: string) => JSON.stringify({ image, memoryRequest: '100Mi', memoryLimit: '1Gi', cpuRequest: '100m', cpuLimit: '1', enableDirectPvcVolumeMount: true, enableModelcar: true }, null, 4);
const kserveConfig = (image: string) => ({
  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inferenceservice-config', namespace: 'kserve' },
  data: { explainers: '{}', storageInitializer: initializerSetting(image), credentials: JSON.stringify({ s3: { s3AccessKeyIDName: 'AWS_ACCESS_KEY_ID', s3SecretAccessKeyName: 'AWS_SECRET_ACCESS_KEY' } }) },
});

describe('KServe inferenceservice-config storageInitializer', () => {
  it('a write of its storageInitializer image is judged as a serving image: KServe\'s own by tag passes, another registry\'s alerts; the audit filter keeps it', () => {
    const own = normalize(kserveConfigWrite('update', kserveConfig('kserve/storage-initializer:v0.15.0')));
    expect(own.stage).toBe('serving');
    expect(own.ml?.deployment?.images).toEqual(['kserve/storage-initializer:v0.15.0']);
    expect(alertsOf([own])).toEqual([]);
    const record = kserveConfigWrite('update', kserveConfig('ghcr.io/attacker/storage-initializer:latest'));
    expect(auditRelevance(record as never, (ns) => ns === 'kubeflow-user-alice')).toMatchObject({ keep: true, why: 'KServe inferenceservice-config write' });
    const [alert, ...more] = alertsOf([normalize(record)]);
    expect(more).toEqual([]);
    expect(alert!.details?.images).toEqual(['ghcr.io/attacker/storage-initializer:latest']);
    expect(alert!.entity.id).toContain('kserve/inferenceservice-config');
    // Kubeflow's manifests install KServe in `kubeflow`.
    expect(alertsOf([normalize(kserveConfigWrite('create', kserveConfig('quay.io/mallory/init:1'), 'kubeflow'))]).map((a) => a.details?.images)).toEqual([['quay.io/mallory/init:1']]);
  });

  it('merge and JSON patches of the key are read; a patch of another key, a ConfigMap of the name elsewhere or of another name are not', () => {
    const merge = kserveConfigWrite('patch', { data: { storageInitializer: initializerSetting('quay.io/mallory/init:2') } });
    expect(alertsOf([normalize(merge)]).map((a) => a.details?.images)).toEqual([['quay.io/mallory/init:2']]);
    const json = kserveConfigWrite('patch', [{ op: 'replace', path: '/data/storageInitializer', value: initializerSetting('quay.io/mallory/init:3') }]);
    expect(alertsOf([normalize(json)]).map((a) => a.details?.images)).toEqual([['quay.io/mallory/init:3']]);
    const other = normalize(kserveConfigWrite('patch', { data: { ingress: '{"ingressGateway": "knative-serving/knative-ingress-gateway"}' } }));
    expect(other.ml?.deployment).toBeUndefined();
    const elsewhere = kserveConfigWrite('create', kserveConfig('quay.io/mallory/init:4'), 'team-a');
    expect(normalize(elsewhere).ml?.deployment).toBeUndefined();
    // Kept by the audit filter in any namespace (normalizing tells the controller's, learned ones included), read only there.
    expect(auditRelevance(elsewhere as never, (ns) => ns === 'kubeflow-user-alice').keep).toBe(true);
    expect(normalize(elsewhere).stage).not.toBe('serving');
    expect(normalize(kserveConfigWrite('create', kserveConfig('quay.io/mallory/init:5'), 'kserve', 'my-config')).ml?.deployment).toBeUndefined();
    // KServe's Go encoding/json matches `image` in any case (the last spelling wins): every spelling's image is judged.
    const cased = (setting: string) => normalize(kserveConfigWrite('patch', { data: { storageInitializer: setting } }));
    expect(alertsOf([cased('{"IMAGE": "quay.io/mallory/init:6"}')]).map((a) => a.details?.images)).toEqual([['quay.io/mallory/init:6']]);
    expect(cased('{"image": "kserve/storage-initializer:v0.15.0", "Image": "quay.io/mallory/init:7"}').ml?.deployment?.images).toEqual(['kserve/storage-initializer:v0.15.0', 'quay.io/mallory/init:7']);
    expect(alertsOf([cased('{"image": "kserve/storage-initializer:v0.15.0", "Image": "quay.io/mallory/init:7"}')]).map((a) => a.details?.images)).toEqual([['quay.io/mallory/init:7']]);
    // Not JSON: KServe's controller cannot read it either, no image is set.
    expect(normalize(kserveConfigWrite('patch', { data: { storageInitializer: 'image: quay.io/x' } })).ml?.deployment).toBeUndefined();
  });
});

/** KServe's config/configmap/inferenceservice.yaml keys naming the containers KServe adds beside every model server (JSON text). */
const sidecarConfig = (images: { agent?: string; logger?: string; batcher?: string; router?: string; art?: string }) => ({
  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inferenceservice-config', namespace: 'kserve' },
  data: {
    agent: JSON.stringify({ image: images.agent ?? 'kserve/agent:v0.15.0', memoryRequest: '100Mi', memoryLimit: '1Gi', cpuRequest: '100m', cpuLimit: '1' }, null, 4),
    logger: JSON.stringify({ image: images.logger ?? 'kserve/agent:v0.15.0', memoryRequest: '100Mi', memoryLimit: '1Gi', cpuRequest: '100m', cpuLimit: '1', defaultUrl: 'http://default-broker' }, null, 4),
    batcher: JSON.stringify({ image: images.batcher ?? 'kserve/agent:v0.15.0', memoryRequest: '1Gi', memoryLimit: '1Gi', cpuRequest: '1', cpuLimit: '1', maxBatchSize: '32', maxLatency: '5000' }, null, 4),
    router: JSON.stringify({ image: images.router ?? 'kserve/router:v0.15.0', memoryRequest: '100Mi', memoryLimit: '1Gi', cpuRequest: '100m', cpuLimit: '1', imagePullPolicy: 'IfNotPresent' }, null, 4),
    explainers: JSON.stringify({ art: { image: images.art ?? 'kserve/art-explainer', defaultImageVersion: 'v0.15.0' } }, null, 4),
    storageInitializer: initializerSetting('kserve/storage-initializer:v0.15.0'),
  },
});

describe('KServe inferenceservice-config agent, logger, batcher, router and explainer images', () => {
  it("are judged as serving images: KServe's own pass, another registry's alert, naming the keys", () => {
    const own = normalize(kserveConfigWrite('update', sidecarConfig({})));
    expect(own.ml?.deployment?.images).toEqual(['kserve/storage-initializer:v0.15.0', 'kserve/agent:v0.15.0', 'kserve/router:v0.15.0', 'kserve/art-explainer:v0.15.0']);
    expect(alertsOf([own])).toEqual([]);
    const evil = normalize(kserveConfigWrite('update', sidecarConfig({ logger: 'ghcr.io/attacker/agent:1', art: 'quay.io/mallory/explainer' })));
    expect(evil.details?.kserve_config_keys).toEqual(['storageInitializer', 'agent', 'logger', 'batcher', 'router', 'explainers']);
    expect(alertsOf([evil]).map((a) => a.details?.images)).toEqual([['ghcr.io/attacker/agent:1', 'quay.io/mallory/explainer:v0.15.0']]);
  });
  it('merge and JSON patches of one key are read; a patch of a key naming no image sets none', () => {
    const merge = kserveConfigWrite('patch', { data: { agent: '{"image": "quay.io/mallory/agent:2"}' } });
    expect(alertsOf([normalize(merge)]).map((a) => a.details?.images)).toEqual([['quay.io/mallory/agent:2']]);
    const json = kserveConfigWrite('patch', [{ op: 'replace', path: '/data/router', value: '{"Image": "quay.io/mallory/router:3"}' }]);
    expect(alertsOf([normalize(json)]).map((a) => a.details?.images)).toEqual([['quay.io/mallory/router:3']]);
    const batcher = kserveConfigWrite('patch', [{ op: 'add', path: '/data', value: { batcher: '{"image": "quay.io/mallory/batcher:4"}' } }]);
    expect(alertsOf([normalize(batcher)]).map((a) => a.details?.images)).toEqual([['quay.io/mallory/batcher:4']]);
    expect(normalize(kserveConfigWrite('patch', { data: { deploy: '{"defaultDeploymentMode": "RawDeployment"}' } })).ml?.deployment).toBeUndefined();
  });
});

describe('KServe inferenceservice-config namespaces', () => {
  const sys = (verb: 'update' | 'patch', body: unknown) => kserveConfigWrite(verb, body, 'kserve-system');
  const evil = { data: { agent: '{"image": "quay.io/mallory/agent:5"}' } };
  it('a controller namespace not listed (a Helm release\'s kserve-system) is read once configured in connectors.kubeflow.kserve_namespaces', () => {
    expect(normalize(sys('patch', evil)).ml?.deployment).toBeUndefined();
    const config = KubeflowConfig.parse({ kserve_namespaces: ['kserve', 'kserve-system'] });
    const out = kubeflowConnector.normalize!(sys('patch', evil), kfCtx({ config }));
    expect(alertsOf([NormalizedEvent.parse(out.events[0])]).map((a) => a.details?.images)).toEqual([['quay.io/mallory/agent:5']]);
    // Listing replaces the defaults: `kubeflow` is then not read.
    expect(NormalizedEvent.parse(kubeflowConnector.normalize!(kserveConfigWrite('patch', evil, 'kubeflow'), kfCtx({ config })).events[0]).ml?.deployment).toBeUndefined();
    expect(() => KubeflowConfig.parse({ kserve_namespaces: ['Kserve_System'] })).toThrow(/Kubernetes namespace name/);
  });
  it("is learned from the controller's own requests (kserve-controller-manager's namespace), per connector config", () => {
    const config = KubeflowConfig.parse({});
    const controllerWrite = auditEvent({
      level: 'RequestResponse', verb: 'update',
      requestURI: '/apis/serving.kserve.io/v1beta1/namespaces/kubeflow-user-alice/inferenceservices/sklearn-iris/status',
      user: { username: 'system:serviceaccount:kserve-system:kserve-controller-manager', groups: ['system:serviceaccounts', 'system:serviceaccounts:kserve-system', 'system:authenticated'] },
      objectRef: { resource: 'inferenceservices', namespace: 'kubeflow-user-alice', name: 'sklearn-iris', apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1', subresource: 'status' },
      responseStatus: { metadata: {}, code: 200 },
    });
    const out = kubeflowConnector.normalize!({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [controllerWrite, sys('patch', evil)] }, kfCtx({ config }));
    expect(out.rejected).toEqual([]);
    const events = out.events.map((e) => NormalizedEvent.parse(e));
    expect(alertsOf(events).map((a) => a.details?.images)).toEqual([['quay.io/mallory/agent:5']]);
    // Another config (another bridge) learned nothing.
    expect(NormalizedEvent.parse(kubeflowConnector.normalize!(sys('patch', evil), kfCtx({ config: KubeflowConfig.parse({}) })).events[0]).ml?.deployment).toBeUndefined();
  });
  it('is looked up only for the ConfigMap: items of that name of another resource, or other ConfigMaps, in a batch after the learning request are not serving writes', () => {
    const config = KubeflowConfig.parse({});
    const learn = auditEvent({
      level: 'Metadata', verb: 'patch',
      requestURI: '/apis/serving.kserve.io/v1beta1/namespaces/kubeflow-user-bob/inferenceservices/ranker/status',
      user: { username: 'system:serviceaccount:kserve-system:kserve-controller-manager', groups: ['system:serviceaccounts', 'system:serviceaccounts:kserve-system', 'system:authenticated'] },
      objectRef: { resource: 'inferenceservices', namespace: 'kubeflow-user-bob', name: 'ranker', apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1', subresource: 'status' },
      responseStatus: { metadata: {}, code: 200 },
    });
    const secretOfName = auditEvent({
      level: 'RequestResponse', verb: 'update', requestURI: '/api/v1/namespaces/kserve-system/secrets/inferenceservice-config',
      user: { username: 'alice@example.com', groups: ['system:authenticated'] },
      objectRef: { resource: 'secrets', namespace: 'kserve-system', name: 'inferenceservice-config', apiVersion: 'v1' },
      responseStatus: { metadata: {}, code: 200 }, requestObject: evil,
    });
    const items = [learn, secretOfName, kserveConfigWrite('patch', evil, 'kserve-system', 'other-config'), sys('patch', evil), kserveConfigWrite('patch', evil, 'kubeflow-user-bob')];
    const out = kubeflowConnector.normalize!({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items }, kfCtx({ config }));
    expect(out.rejected).toEqual([]);
    const events = out.events.map((e) => NormalizedEvent.parse(e));
    expect(events.map((e) => !!e.details?.kserve_config_keys)).toEqual([false, false, false, true, false]);
    expect(alertsOf(events).map((a) => [a.evidence, a.details?.images])).toEqual([[[events[3]!.id], ['quay.io/mallory/agent:5']]]);
  });
  it("is not learned from a namespace editor's account of that name acting in its own namespace, nor denied elsewhere", () => {
    const config = KubeflowConfig.parse({});
    const ns = 'kubeflow-user-mallory';
    const byLookAlike = (namespace: string, code: number) => auditEvent({
      level: 'Metadata', verb: 'create',
      requestURI: `/api/v1/namespaces/${namespace}/configmaps`,
      user: { username: `system:serviceaccount:${ns}:kserve-controller-manager`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] },
      objectRef: { resource: 'configmaps', namespace, name: 'probe', apiVersion: 'v1' },
      responseStatus: { metadata: {}, code },
    });
    const planted = kserveConfigWrite('update', { data: { agent: '{"image": "quay.io/mallory/agent:6"}' } }, ns);
    const out = kubeflowConnector.normalize!({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [byLookAlike(ns, 201), byLookAlike('kubeflow', 403), planted] }, kfCtx({ config }));
    expect(out.rejected).toEqual([]);
    const events = out.events.map((e) => NormalizedEvent.parse(e));
    expect(events.some((e) => e.ml?.deployment)).toBe(false);
    expect(alertsOf(events)).toEqual([]);
  });
});
