import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { normalizeInput } from '../../../bridge/normalize.js';
import { replayEvents } from '../../../bridge/replay.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../../../connectors/kubeflow/audit/envelope.js';
import { applyJsonPatch, applyMergePatch, keepPatchBasesIn, PATCH_BASE_NS, patchedObjectOf } from '../../../connectors/kubeflow/audit/patch-base.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { fromServer, type NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { AUDIT_ROUTE } from '../../../connectors/kubeflow/route.js';
import { startAuditRoute } from './helpers.js';

/**
 * A patch of an InferenceService logged at `Request` level (docker/kubeflow/audit-policy.yaml): the record holds the
 * patch body (`requestObject`: a JSON patch's array of ops, a merge patch's object) and no `responseObject`. It is
 * applied to the last whole object seen of that endpoint and judged as that. One MLflow server `team`
 * (http://mlflow.team.svc:5000), whose fraud v3 is approved (alias champion) and v9 is not. Records are the falco
 * audit fixture with the object, user, level and bodies changed.
 */
type Obj = Record<string, any>;
const AUDIT = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');
const TOKEN = 'default-cluster-token-5c1d9e';
const MLFLOW = MlflowConfig.parse({ servers: [{ id: 'team', webhook_secrets: ['team-webhook-secret-0123456789abcdef'], tracking_uris: ['http://mlflow.team.svc:5000'] }] });
const TRACKING = { name: 'MLFLOW_TRACKING_URI', value: 'http://mlflow.team.svc:5000' };
let seq = 0;

/** A Request-level audit record of `verb` on InferenceService `name` in `prod` with `body` as requestObject. */
function record(verb: 'create' | 'patch', name: string, at: string, body: unknown): Obj {
  const ev = structuredClone(AUDIT);
  return {
    ...ev,
    level: 'Request',
    auditID: `${ev.auditID}-rp-${++seq}`,
    verb,
    requestURI: `/apis/serving.kserve.io/v1beta1/namespaces/prod/inferenceservices${verb === 'create' ? '' : `/${name}`}`,
    user: { username: 'mallory@example.com', groups: ['system:authenticated'] },
    userAgent: 'kubectl/v1.31.0 (linux/amd64) kubernetes/9edcffc',
    objectRef: { resource: 'inferenceservices', namespace: 'prod', name, apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1' },
    responseStatus: { metadata: {}, code: verb === 'create' ? 201 : 200 },
    requestObject: body,
    responseObject: undefined,
    requestReceivedTimestamp: at,
    stageTimestamp: at,
  };
}
/** The create of `name` loading `models:/fraud/3` from team's registry. */
const created = (name: string, at: string) => record('create', name, at, {
  apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name, namespace: 'prod' },
  spec: { predictor: { model: { modelFormat: { name: 'mlflow' }, storageUri: 'models:/fraud/3', env: [TRACKING] } } },
});

function fraud(): NormalizedEvent[] {
  const bodies: Array<[string, string, string, Record<string, unknown>]> = [
    ['registered_model', 'created', '2026-11-19T10:00:00.000000+00:00', { name: 'fraud', tags: {}, description: null }],
    ['model_version', 'created', '2026-11-19T10:01:00.000000+00:00', { name: 'fraud', version: '3', source: 's3://team/fraud/3', run_id: 'run-team', tags: {}, description: null }],
    ['model_version_alias', 'created', '2026-11-19T10:02:00.000000+00:00', { name: 'fraud', alias: 'champion', version: '3' }],
    ['model_version', 'created', '2026-11-19T10:03:00.000000+00:00', { name: 'fraud', version: '9', source: 's3://team/fraud/9', run_id: 'run-team-9', tags: {}, description: null }],
  ];
  return bodies.flatMap(([entity, action, timestamp, data], i) =>
    normalizeMlflow({ entity, action, timestamp, data }, { channel: 'mlflow.webhook', receivedTime: timestamp, keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: `d-rp-${i}` } }).events,
  ).map((e) => fromServer(e, 'team'));
}
const unapproved = (events: NormalizedEvent[]) => replayEvents([...fraud(), ...events], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});
async function start(kubeflow: Record<string, unknown> = {}) {
  const route = await startAuditRoute({ namespaces: ['prod'], mlflow_server: 'team', ...kubeflow }, { ingestToken: TOKEN, mlflow: MLFLOW });
  cleanup.push(route.close);
  return route;
}

describe('a Request-level patch of an InferenceService', () => {
  it('a JSON patch of one env value is applied to the last object seen and judged as the deployment it makes', async () => {
    const { h, send } = await start();
    await send(TOKEN,
      created('fraud', '2026-11-20T10:00:00Z'),
      // kubectl patch isvc fraud --type=json -p '[{"op":"replace","path":"/spec/predictor/model/env/0/value","value":"http://evil:5000"}]'
      record('patch', 'fraud', '2026-11-20T11:00:00Z', [{ op: 'replace', path: '/spec/predictor/model/env/0/value', value: 'http://evil:5000' }]),
    );
    const [create, patch] = h.events();
    expect(patch!.ml?.deployment).toMatchObject({ endpoint: 'prod/fraud', model_uri: 'models:/fraud/3', mlflow_registry_uri: 'http://evil:5000' });
    expect(patch!.details).toMatchObject({ patch_type: 'json', patch_base_event_id: create!.id, mlflow_registry_unwatched: true });
    const alerts = unapproved([create!, patch!]);
    expect(alerts.map((a) => [a.entity.id, a.details?.reason, a.details?.mlflow_registry_uri, a.evidence])).toEqual([['prod/fraud', 'unwatched_registry', 'http://evil:5000', [patch!.id]]]);
  });

  it('a merge patch of storageUri alone keeps the env of the object it patches', async () => {
    const { h, send } = await start();
    await send(TOKEN,
      created('fraud', '2026-11-20T10:00:00Z'),
      record('patch', 'fraud', '2026-11-20T10:30:00Z', [{ op: 'replace', path: '/spec/predictor/model/env/0/value', value: 'https://mlflow.attacker.example' }]),
      record('patch', 'fraud', '2026-11-20T11:00:00Z', { spec: { predictor: { model: { storageUri: 'models:/fraud@champion' } } } }),
    );
    const [, envPatch, merge] = h.events();
    // The approved alias, loaded from the registry the first patch set: not team's approval.
    expect(merge!.ml?.deployment).toMatchObject({ model_uri: 'models:/fraud@champion', mlflow_registry_uri: 'https://mlflow.attacker.example' });
    expect(merge!.details).toMatchObject({ patch_type: 'merge', patch_base_event_id: envPatch!.id });
    expect(unapproved(h.events()).map((a) => [a.details?.reason, a.evidence])).toEqual([['unwatched_registry', [envPatch!.id]], ['unwatched_registry', [merge!.id]]]);
  });

  it('a patch naming another serving runtime redeploys the stored models:/ URI with that runtime\'s env', async () => {
    const { h, send } = await start();
    const runtime = {
      ...record('create', 'mlflow-evil', '2026-11-20T09:00:00Z', {
        apiVersion: 'serving.kserve.io/v1alpha1', kind: 'ServingRuntime', metadata: { name: 'mlflow-evil', namespace: 'prod' },
        spec: { supportedModelFormats: [{ name: 'mlflow', version: '2' }], containers: [{ name: 'kserve-container', image: 'docker.io/seldonio/mlserver:1.6.1', env: [{ name: 'MLFLOW_REGISTRY_URI', value: 'https://mlflow.attacker.example' }] }] },
      }),
      requestURI: '/apis/serving.kserve.io/v1alpha1/namespaces/prod/servingruntimes',
      objectRef: { resource: 'servingruntimes', namespace: 'prod', name: 'mlflow-evil', apiGroup: 'serving.kserve.io', apiVersion: 'v1alpha1' },
    };
    await send(TOKEN,
      runtime,
      created('fraud', '2026-11-20T10:00:00Z'),
      created('churn', '2026-11-20T10:00:01Z'),
      record('patch', 'fraud', '2026-11-20T11:00:00Z', { spec: { predictor: { model: { runtime: 'mlflow-evil' } } } }),
      record('patch', 'churn', '2026-11-20T11:00:01Z', [{ op: 'add', path: '/spec/predictor/model/runtime', value: 'mlflow-evil' }]),
    );
    const [, , , fraudPatch, churnPatch] = h.events();
    for (const [patch, endpoint] of [[fraudPatch, 'prod/fraud'], [churnPatch, 'prod/churn']] as const) {
      expect(patch!.ml?.deployment).toMatchObject({ endpoint, model_uri: 'models:/fraud/3' });
      expect(patch!.details?.serving_runtime).toBe('mlflow-evil');
    }
    expect(unapproved(h.events()).map((a) => [a.entity.id, a.details?.reason, a.details?.runtime_registry_uri])).toEqual([
      ['prod/fraud', 'unwatched_registry', 'https://mlflow.attacker.example'],
      ['prod/churn', 'unwatched_registry', 'https://mlflow.attacker.example'],
    ]);
  });

  it('a runtime switch of an object never seen is judged by the runtime it names where that runtime is known (details.patch_base_unknown); an unknown or clean runtime raises nothing', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    const runtime = (name: string, env: unknown[]) => ({
      ...record('create', name, '2026-11-20T09:00:00Z', {
        apiVersion: 'serving.kserve.io/v1alpha1', kind: 'ServingRuntime', metadata: { name, namespace: 'prod' },
        spec: { supportedModelFormats: [{ name: 'mlflow', version: '2' }], containers: [{ name: 'kserve-container', image: 'docker.io/seldonio/mlserver:1.6.1', env }] },
      }),
      requestURI: '/apis/serving.kserve.io/v1alpha1/namespaces/prod/servingruntimes',
      objectRef: { resource: 'servingruntimes', namespace: 'prod', name, apiGroup: 'serving.kserve.io', apiVersion: 'v1alpha1' },
    });
    await send(TOKEN,
      runtime('mlflow-evil', [{ name: 'MLFLOW_REGISTRY_URI', value: 'https://mlflow.attacker.example' }]),
      runtime('hidden-s3', [TRACKING, { name: 'AWS_ENDPOINT_URL', valueFrom: { secretKeyRef: { name: 's3', key: 'endpoint' } } }]),
      runtime('clean', [TRACKING, { name: 'MLFLOW_S3_ENDPOINT_URL', value: 'http://minio.minio.svc:9000' }]),
      // kubectl patch isvc fraud --type=merge -p '{"spec":{"predictor":{"model":{"runtime":"mlflow-evil"}}}}', no object of fraud seen.
      record('patch', 'fraud', '2026-11-20T11:00:00Z', { spec: { predictor: { model: { runtime: 'mlflow-evil' } } } }),
      record('patch', 'churn', '2026-11-20T11:00:01Z', [{ op: 'replace', path: '/spec/predictor/model/runtime', value: 'hidden-s3' }]),
      record('patch', 'quiet', '2026-11-20T11:00:02Z', { spec: { predictor: { model: { runtime: 'clean' } } } }),
      record('patch', 'unknown', '2026-11-20T11:00:03Z', { spec: { predictor: { model: { runtime: 'never-seen' } } } }),
    );
    const kube = h.events();
    expect(kube.slice(3).map((e) => [e.resource?.name, e.details?.serving_runtime, e.details?.patch_base_unknown])).toEqual([
      ['fraud', 'mlflow-evil', true], ['churn', 'hidden-s3', true], ['quiet', 'clean', true], ['unknown', 'never-seen', true],
    ]);
    const alerts = replayEvents([...fraud(), ...kube], { rules: RulesConfig.parse({}) }).alerts.filter((a) => /unapproved_deployment|model_source_unverifiable/.test(a.rule_id));
    expect(alerts.map((a) => [a.rule_id, a.entity.id, a.severity, a.details?.reason ?? a.details?.reasons, a.details?.patch_base_unknown, a.details?.serving_runtime])).toEqual([
      ['registry.unapproved_deployment', 'prod/fraud', 'critical', 'unwatched_registry', true, 'prod/mlflow-evil'],
      ['serving.model_source_unverifiable', 'prod/churn', 'medium', ['artifact_endpoint_unverifiable'], true, 'prod/hidden-s3'],
    ]);
    expect(alerts[0]!.details).toMatchObject({ mlflow_registry_uri: 'https://mlflow.attacker.example', runtime_registry_uri: 'https://mlflow.attacker.example' });
    expect(alerts[0]!.summary).toContain('through serving runtime prod/mlflow-evil');
    expect(alerts[1]!.details?.runtime_artifact_env_unverifiable).toEqual(['AWS_ENDPOINT_URL']);
  });

  it('a record delivered again (a retried batch) is applied once', async () => {
    const { h, send } = await start();
    const add = record('patch', 'fraud', '2026-11-20T11:00:00Z', [{ op: 'add', path: '/spec/predictor/model/env/0', value: { name: 'MLFLOW_REGISTRY_URI', value: 'https://mlflow.attacker.example' } }]);
    await send(TOKEN, created('fraud', '2026-11-20T10:00:00Z'), add);
    await send(TOKEN, add);
    // Applied twice, env 1 would be the added entry again and this test would fail.
    await send(TOKEN, record('patch', 'fraud', '2026-11-20T12:00:00Z', [{ op: 'test', path: '/spec/predictor/model/env/1', value: TRACKING }, { op: 'replace', path: '/spec/predictor/model/storageUri', value: 'models:/fraud/9' }]));
    const last = h.events().at(-1)!;
    expect(last.details?.patch_not_applied).toBeUndefined();
    expect(last.ml?.deployment).toMatchObject({ model_uri: 'models:/fraud/9', mlflow_registry_uri: 'https://mlflow.attacker.example' });
  });

  it('no object seen before: what the patch sets is judged, the rest said unknown; a patch that does not apply is not judged as applied', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    await send(TOKEN,
      record('patch', 'other', '2026-11-20T10:00:00Z', { spec: { predictor: { model: { storageUri: 'models:/fraud/9' } } } }),
      // Env set by a patch of objects not seen: the registry and endpoint it names are judged, the model is unknown.
      record('patch', 'unseen', '2026-11-20T10:00:01Z', { spec: { predictor: { model: { env: [{ name: 'MLFLOW_TRACKING_URI', value: 'https://mlflow.attacker.example' }] } } } }),
      record('patch', 'unseen-s3', '2026-11-20T10:00:02Z', [{ op: 'add', path: '/spec/predictor/model/env/-', value: { name: 'AWS_ENDPOINT_URL', value: 'https://s3.attacker.example' } }]),
      created('fraud', '2026-11-20T10:00:00Z'),
      // The test fails against the object seen (its env 0 is team's): the apiserver patched another object.
      record('patch', 'fraud', '2026-11-20T11:00:00Z', [{ op: 'test', path: '/spec/predictor/model/env/0/value', value: 'http://other:5000' }, { op: 'replace', path: '/spec/predictor/model/env/0/value', value: 'http://evil:5000' }]),
    );
    const [other, unseen, unseenS3, , failed] = h.events();
    expect(other!.ml?.deployment).toMatchObject({ model_uri: 'models:/fraud/9' });
    expect(other!.details).toMatchObject({ patch_type: 'merge', patch_base_unknown: true });
    expect(unseen!.ml?.deployment).toEqual({ endpoint: 'prod/unseen', mlflow_registry_uri: 'https://mlflow.attacker.example' });
    expect(unseen!.details).toMatchObject({ patch_type: 'merge', patch_base_unknown: true, mlflow_registry_unwatched: true });
    expect(unseenS3!.ml?.deployment).toEqual({ endpoint: 'prod/unseen-s3' });
    expect(unseenS3!.details).toMatchObject({ patch_type: 'json', patch_base_unknown: true, artifact_env: { AWS_ENDPOINT_URL: 'https://s3.attacker.example' }, artifact_endpoint_unlisted: ['AWS_ENDPOINT_URL'] });
    expect(failed!.details).toMatchObject({ patch_type: 'json', patch_base_unknown: true, patch_not_applied: expect.stringContaining('test of /spec/predictor/model/env/0/value failed') });
    expect(failed!.details?.patch_base_event_id).toBeUndefined();
    expect(failed!.ml?.deployment?.mlflow_registry_uri).toBeUndefined();
    // What the env patches set is judged (env-only patches of unseen objects: the next test).
    expect(unapproved(h.events()).map((a) => [a.entity.id, a.details?.reason])).toEqual([['prod/other', 'never_approved'], ['prod/unseen', 'unwatched_registry'], ['prod/unseen-s3', 'artifact_endpoint_not_allowed']]);
  });

  it('an env-only patch of an object never seen that sets a registry or artifact env not allowed, or hides one, is judged with the reason a known model would get (details.patch_base_unknown)', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    const secret = { secretKeyRef: { name: 'conf', key: 'v' } };
    await send(TOKEN,
      record('patch', 'registry', '2026-11-20T10:00:00Z', { spec: { predictor: { model: { env: [{ name: 'MLFLOW_REGISTRY_URI', value: 'https://mlflow.attacker.example' }] } } } }),
      record('patch', 'azure', '2026-11-20T10:00:01Z', [{ op: 'add', path: '/spec/predictor/model/env/-', value: { name: 'AZURE_STORAGE_CONNECTION_STRING', value: 'AccountName=attackerstore;AccountKey=a2V5' } }]),
      record('patch', 'hidden-registry', '2026-11-20T10:00:02Z', { spec: { predictor: { model: { env: [{ name: 'MLFLOW_TRACKING_URI', valueFrom: secret }] } } } }),
      // A literal registry URI beside a hidden endpoint: the lesser doubt, as for a known model.
      record('patch', 'hidden-s3', '2026-11-20T10:00:03Z', { spec: { predictor: { model: { env: [TRACKING, { name: 'AWS_ENDPOINT_URL', valueFrom: secret }] } } } }),
      // Values the cluster allows: nothing.
      record('patch', 'allowed', '2026-11-20T10:00:04Z', { spec: { predictor: { model: { env: [TRACKING, { name: 'AWS_ENDPOINT_URL', value: 'http://minio.minio.svc:9000' }] } } } }),
    );
    const kube = h.events();
    expect(kube.map((e) => [e.resource?.name, e.ml?.deployment?.model_uri, e.details?.patch_base_unknown])).toEqual([
      ['registry', undefined, true], ['azure', undefined, true], ['hidden-registry', undefined, true], ['hidden-s3', undefined, true], ['allowed', undefined, true],
    ]);
    const alerts = replayEvents([...fraud(), ...kube], { rules: RulesConfig.parse({}) }).alerts.filter((a) => /unapproved_deployment|model_source_unverifiable/.test(a.rule_id));
    expect(alerts.map((a) => [a.rule_id, a.entity.id, a.severity, a.details?.reason ?? a.details?.reasons, a.details?.patch_base_unknown, a.evidence])).toEqual([
      ['registry.unapproved_deployment', 'prod/registry', 'critical', 'unwatched_registry', true, [kube[0]!.id]],
      ['registry.unapproved_deployment', 'prod/azure', 'critical', 'artifact_endpoint_not_allowed', true, [kube[1]!.id]],
      ['registry.unapproved_deployment', 'prod/hidden-registry', 'critical', 'registry_unverifiable', true, [kube[2]!.id]],
      ['serving.model_source_unverifiable', 'prod/hidden-s3', 'medium', ['artifact_endpoint_unverifiable'], true, [kube[3]!.id]],
    ]);
    expect(alerts[0]!.details).toMatchObject({ mlflow_registry_uri: 'https://mlflow.attacker.example', patch_type: 'merge', deployer: 'mallory@example.com' });
    expect(alerts[1]!.details?.artifact_endpoints_not_allowed).toEqual({ AZURE_STORAGE_CONNECTION_STRING: 'https://attackerstore.blob.core.windows.net' });
    expect(alerts[2]!.details?.mlflow_env_unverifiable).toEqual(['MLFLOW_TRACKING_URI']);
    expect(alerts[0]!.summary).toContain('the model it serves is not in the log');
  });
  it('an envFrom patch of an object never seen adding an unprefixed Secret (S3 credentials) is the medium mlflow_env_in_secret doubt, not registry_unverifiable: the object\'s env, not in the log, may list a registry URI that wins over it', async () => {
    const { h, send } = await start();
    await send(TOKEN,
      // kubectl patch isvc creds --type=merge -p '{"spec":{"predictor":{"model":{"envFrom":[{"secretRef":{"name":"s3creds"}}]}}}}'
      record('patch', 'creds', '2026-11-20T10:00:00Z', { spec: { predictor: { model: { envFrom: [{ secretRef: { name: 's3creds' } }] } } } }),
      // With a literal registry URI in the patch: the same doubt, said too.
      record('patch', 'creds-uri', '2026-11-20T10:00:01Z', { spec: { predictor: { model: { env: [TRACKING], envFrom: [{ secretRef: { name: 's3creds' } }] } } } }),
      // A ConfigMap (where MLflow settings are kept) could set the registry: the registry doubt it was.
      record('patch', 'config', '2026-11-20T10:00:02Z', { spec: { predictor: { model: { envFrom: [{ configMapRef: { name: 'mlflow' } }] } } } }),
    );
    const kube = h.events();
    const alerts = replayEvents([...fraud(), ...kube], { rules: RulesConfig.parse({}) }).alerts.filter((a) => /unapproved_deployment|model_source_unverifiable/.test(a.rule_id));
    expect(alerts.map((a) => [a.rule_id, a.entity.id, a.severity, a.details?.reason ?? a.details?.reasons, a.details?.patch_base_unknown])).toEqual([
      ['serving.model_source_unverifiable', 'prod/creds', 'medium', ['mlflow_env_in_secret'], true],
      ['serving.model_source_unverifiable', 'prod/creds-uri', 'medium', ['mlflow_env_in_secret'], true],
      ['registry.unapproved_deployment', 'prod/config', 'critical', 'registry_unverifiable', true],
    ]);
    expect(alerts[0]!.details?.mlflow_env_secret_unverifiable).toEqual(['MLFLOW_WORKSPACE', 'MLFLOW_REGISTRY_URI', 'MLFLOW_TRACKING_URI']);
    expect(alerts[1]!.details?.mlflow_env_secret_unverifiable).toEqual(['MLFLOW_WORKSPACE', 'MLFLOW_REGISTRY_URI']);
  });

  it('an env patch of an object never seen that resends a predictor container whole (its image too) is judged by the env it sets', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    const image = 'docker.io/seldonio/mlserver@sha256:' + 'a'.repeat(64);
    await send(TOKEN,
      // A merge patch replaces the containers list, so it carries each container's image beside the env it changes.
      record('patch', 'custom', '2026-11-20T10:00:00Z', { spec: { predictor: { containers: [{ name: 'kserve-container', image, env: [{ name: 'MLFLOW_TRACKING_URI', value: 'https://mlflow.attacker.example' }] }] } } }),
      record('patch', 'custom-s3', '2026-11-20T10:00:01Z', [{ op: 'replace', path: '/spec/predictor/containers', value: [{ name: 'kserve-container', image, env: [{ name: 'AWS_ENDPOINT_URL', value: 'https://s3.attacker.example' }] }] }]),
    );
    const kube = h.events();
    expect(kube.map((e) => [e.ml?.deployment, e.details?.patch_base_unknown])).toEqual([
      [{ endpoint: 'prod/custom', mlflow_registry_uri: 'https://mlflow.attacker.example', images: [image] }, true],
      [{ endpoint: 'prod/custom-s3', images: [image] }, true],
    ]);
    expect(unapproved(kube).map((a) => [a.entity.id, a.details?.reason, a.details?.patch_base_unknown])).toEqual([['prod/custom', 'unwatched_registry', true], ['prod/custom-s3', 'artifact_endpoint_not_allowed', true]]);
  });
});

describe('a deletecollection forgets the objects patches apply to', () => {
  /** A carried-out deletecollection of `resource` in `namespace` (objectRef with no name; all namespaces without one). */
  const deleteCollection = (resource: string, apiGroup: string | undefined, namespace: string | undefined, at: string): Obj => {
    const ev = record('patch', 'x', at, undefined);
    return { ...ev, verb: 'deletecollection', requestURI: `/api${apiGroup ? `s/${apiGroup}/v1beta1` : '/v1'}${namespace ? `/namespaces/${namespace}` : ''}/${resource}`, objectRef: { resource, ...(namespace ? { namespace } : {}), ...(apiGroup ? { apiGroup } : {}), apiVersion: 'v1' }, responseStatus: { metadata: {}, code: 200 } };
  };

  it('InferenceServices: a later patch of a name deleted so is judged by what it sets, not applied to the deleted object', async () => {
    const { h, send } = await start();
    await send(TOKEN,
      created('fraud', '2026-11-20T10:00:00Z'),
      deleteCollection('inferenceservices', 'serving.kserve.io', 'prod', '2026-11-20T10:30:00Z'),
      record('patch', 'fraud', '2026-11-20T11:00:00Z', { spec: { predictor: { model: { storageUri: 'models:/fraud@champion' } } } }),
    );
    const patch = h.events().at(-1)!;
    expect(patch.details).toMatchObject({ patch_type: 'merge', patch_base_unknown: true });
    expect(patch.details?.patch_base_event_id).toBeUndefined();
    // The deleted object's env (team's registry URI) is not carried to the patch.
    expect(patch.ml?.deployment?.mlflow_registry_uri).toBeUndefined();
  });

  it('ServiceAccounts and Secrets: the namespace\'s objects of that type go (another namespace\'s, another type\'s stay; a failed one forgets nothing; none: every namespace)', () => {
    const config = {};
    const obj = (resource: 'serviceaccounts' | 'secrets', namespace: string, name: string) => ({
      ...record('create', name, '2026-11-20T10:00:00Z', { apiVersion: 'v1', kind: resource === 'secrets' ? 'Secret' : 'ServiceAccount', metadata: { name, namespace, annotations: { 'serving.kserve.io/s3-endpoint': 'minio.minio.svc:9000' } } }),
      requestURI: `/api/v1/namespaces/${namespace}/${resource}`, objectRef: { resource, namespace, name, apiVersion: 'v1' },
    }) as unknown as AuditEvent;
    const patch = (resource: string, namespace: string, name: string) => patchedObjectOf({ ...record('patch', name, '2026-11-20T11:00:00Z', { metadata: { labels: { team: 'ml' } } }), requestURI: `/api/v1/namespaces/${namespace}/${resource}/${name}`, objectRef: { resource, namespace, name, apiVersion: 'v1' } } as unknown as AuditEvent, 'p', config, undefined).facts;
    const seen = [obj('serviceaccounts', 'prod', 'sa'), obj('serviceaccounts', 'dev', 'sa'), obj('secrets', 'prod', 's3'), obj('secrets', 'dev', 's3')];
    seen.forEach((ev, i) => patchedObjectOf(ev, `e${i}`, config, undefined));
    const failed = { ...deleteCollection('serviceaccounts', undefined, 'dev', '2026-11-20T10:20:00Z'), responseStatus: { metadata: {}, code: 403 } };
    patchedObjectOf(failed as unknown as AuditEvent, 'f', config, undefined);
    patchedObjectOf(deleteCollection('serviceaccounts', undefined, 'prod', '2026-11-20T10:30:00Z') as unknown as AuditEvent, 'd', config, undefined);
    expect([patch('serviceaccounts', 'prod', 'sa'), patch('serviceaccounts', 'dev', 'sa'), patch('secrets', 'prod', 's3')]).toEqual([
      { patch_type: 'merge', patch_base_unknown: true }, { patch_type: 'merge', patch_base_event_id: 'e1' }, { patch_type: 'merge', patch_base_event_id: 'e2' },
    ]);
    patchedObjectOf(deleteCollection('secrets', undefined, undefined, '2026-11-20T10:40:00Z') as unknown as AuditEvent, 'd2', config, undefined);
    expect([patch('secrets', 'prod', 's3'), patch('secrets', 'dev', 's3')]).toEqual([{ patch_type: 'merge', patch_base_unknown: true }, { patch_type: 'merge', patch_base_unknown: true }]);
  });
  it('a deletecollection whose answer lists what it deleted (RequestResponse level) forgets exactly those: the ones a selector spared keep their bases', () => {
    const config = {};
    const sa = (namespace: string, name: string) => ({
      ...record('create', name, '2026-11-20T10:00:00Z', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace, annotations: { 'serving.kserve.io/s3-endpoint': 'minio.minio.svc:9000' } } }),
      requestURI: `/api/v1/namespaces/${namespace}/serviceaccounts`, objectRef: { resource: 'serviceaccounts', namespace, name, apiVersion: 'v1' },
    }) as unknown as AuditEvent;
    const patch = (namespace: string, name: string) => patchedObjectOf({ ...record('patch', name, '2026-11-20T11:00:00Z', { metadata: { labels: { team: 'ml' } } }), requestURI: `/api/v1/namespaces/${namespace}/serviceaccounts/${name}`, objectRef: { resource: 'serviceaccounts', namespace, name, apiVersion: 'v1' } } as unknown as AuditEvent, 'p', config, undefined).facts;
    [sa('prod', 'old'), sa('prod', 'kept'), sa('dev', 'old'), sa('dev', 'kept')].forEach((ev, i) => patchedObjectOf(ev, `e${i}`, config, undefined));
    // kubectl delete sa -l stale=true -n prod: the answer lists the one deleted (an item without namespace is of the request's).
    const listed = { ...deleteCollection('serviceaccounts', undefined, 'prod', '2026-11-20T10:30:00Z'), level: 'RequestResponse', requestURI: '/api/v1/namespaces/prod/serviceaccounts?labelSelector=stale%3Dtrue', responseObject: { kind: 'ServiceAccountList', apiVersion: 'v1', metadata: {}, items: [{ metadata: { name: 'old' } }] } };
    patchedObjectOf(listed as unknown as AuditEvent, 'd', config, undefined);
    // Every namespace, the answer naming dev's: prod's survivor stays.
    const all = { ...deleteCollection('serviceaccounts', undefined, undefined, '2026-11-20T10:40:00Z'), level: 'RequestResponse', responseObject: { kind: 'ServiceAccountList', apiVersion: 'v1', metadata: {}, items: [{ metadata: { name: 'old', namespace: 'dev' } }] } };
    patchedObjectOf(all as unknown as AuditEvent, 'd2', config, undefined);
    expect([patch('prod', 'old'), patch('prod', 'kept'), patch('dev', 'old'), patch('dev', 'kept')]).toEqual([
      { patch_type: 'merge', patch_base_unknown: true }, { patch_type: 'merge', patch_base_event_id: 'e1' }, { patch_type: 'merge', patch_base_unknown: true }, { patch_type: 'merge', patch_base_event_id: 'e3' },
    ]);
    // The answer of a deletecollection in prod can only list prod's objects: one naming another namespace is not what
    // the apiserver did there, so it forgets nothing outside prod (and says nothing exact inside it).
    const [fresh, spared] = [sa('prod', 'fresh'), sa('dev', 'spared')];
    patchedObjectOf(fresh, 'e4', config, undefined);
    patchedObjectOf(spared, 'e5', config, undefined);
    const elsewhere = { ...deleteCollection('serviceaccounts', undefined, 'prod', '2026-11-20T10:45:00Z'), level: 'RequestResponse', requestURI: '/api/v1/namespaces/prod/serviceaccounts', responseObject: { kind: 'ServiceAccountList', apiVersion: 'v1', metadata: {}, items: [{ metadata: { name: 'spared', namespace: 'dev' } }] } };
    patchedObjectOf(elsewhere as unknown as AuditEvent, 'd4', config, undefined);
    expect([patch('dev', 'spared'), patch('prod', 'fresh')]).toEqual([{ patch_type: 'merge', patch_base_event_id: 'e5' }, { patch_type: 'merge', patch_base_unknown: true }]);
    // An answer that is no list (a Status) says nothing exact: the namespace's objects all go, as before.
    patchedObjectOf({ ...deleteCollection('serviceaccounts', undefined, 'dev', '2026-11-20T10:50:00Z'), responseObject: { kind: 'Status', apiVersion: 'v1', status: 'Success' } } as unknown as AuditEvent, 'd3', config, undefined);
    expect(patch('dev', 'kept')).toEqual({ patch_type: 'merge', patch_base_unknown: true });
  });
});

describe('the objects patches apply to, across a restart', () => {
  it('a restart between an object\'s write and its patch still applies the patch to that object (kept in the spool state, bounded)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mltrail-kf-restart-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const first = await startAuditRoute({ namespaces: ['prod'], mlflow_server: 'team', artifact_endpoints: ['minio.minio.svc:9000'] }, { ingestToken: TOKEN, mlflow: MLFLOW, spoolDir: dir });
    const azure = created('azure', '2026-11-20T10:00:01Z');
    azure.requestObject.spec.predictor.model.env.push(
      { name: 'AZURE_STORAGE_CONNECTION_STRING', value: 'DefaultEndpointsProtocol=https;AccountName=mlartifacts;AccountKey=QXp1cmVLZXlTZWNyZXQ=;BlobEndpoint=https://blob.attacker.example/' },
      { name: 'AWS_SECRET_ACCESS_KEY', value: 'wJalrXUtnFEMIK7MDENGbPxRfiCYs3cret' },
    );
    const secret = {
      ...record('create', 'creds', '2026-11-20T10:00:02Z', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'prod', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"v1","kind":"Secret","stringData":{"AWS_SECRET_ACCESS_KEY":"lastAppliedS3cret"}}' } }, stringData: { AWS_SECRET_ACCESS_KEY: 'stringDataS3cret' } }),
      requestURI: '/api/v1/namespaces/prod/secrets',
      objectRef: { resource: 'secrets', namespace: 'prod', name: 'creds', apiVersion: 'v1' },
    };
    await first.send(TOKEN, created('fraud', '2026-11-20T10:00:00Z'), azure, secret);
    const [create, azureCreate] = first.h.events();
    // Secret values never reach the spool state: the connection string is kept as the blob endpoint it names.
    const stored = JSON.stringify([...first.h.spool.state.list(PATCH_BASE_NS.endpoints), ...first.h.spool.state.list(PATCH_BASE_NS.credentials)]);
    expect(stored).toContain('BlobEndpoint=https://blob.attacker.example/');
    for (const s of ['QXp1cmVLZXlTZWNyZXQ=', 'wJalrXUtnFEMIK7MDENGbPxRfiCYs3cret', 'lastAppliedS3cret', 'stringDataS3cret']) expect(stored).not.toContain(s);
    await first.close();
    // The bridge restarted: another config object, the same spool.
    const second = await startAuditRoute({ namespaces: ['prod'], mlflow_server: 'team', artifact_endpoints: ['minio.minio.svc:9000'] }, { ingestToken: TOKEN, mlflow: MLFLOW, spoolDir: dir });
    cleanup.push(second.close);
    await second.send(TOKEN,
      record('patch', 'fraud', '2026-11-20T11:00:00Z', [{ op: 'replace', path: '/spec/predictor/model/env/0/value', value: 'http://evil:5000' }]),
      record('patch', 'azure', '2026-11-20T11:00:01Z', { spec: { predictor: { model: { storageUri: 'models:/fraud@champion' } } } }),
    );
    const [patch, azurePatch] = second.h.events().slice(-2);
    expect(azurePatch!.details).toMatchObject({ patch_base_event_id: azureCreate!.id, artifact_env: { AZURE_STORAGE_CONNECTION_STRING: 'https://blob.attacker.example/' }, artifact_endpoint_unlisted: ['AZURE_STORAGE_CONNECTION_STRING'] });
    expect(patch!.details).toMatchObject({ patch_type: 'json', patch_base_event_id: create!.id });
    expect(patch!.details?.patch_base_unknown).toBeUndefined();
    expect(patch!.ml?.deployment).toMatchObject({ model_uri: 'models:/fraud/3', mlflow_registry_uri: 'http://evil:5000' });
    expect(unapproved([create!, patch!]).map((a) => [a.entity.id, a.details?.reason])).toEqual([['prod/fraud', 'unwatched_registry']]);
  });

  it('after a restart, a JSON patch whose test fails only against a value kept hidden (a secret) is applied, the test said unverifiable; one failing on a value shown is still not applied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mltrail-kf-restart-test-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const bridge = () => startAuditRoute({ namespaces: ['prod'], mlflow_server: 'team' }, { ingestToken: TOKEN, mlflow: MLFLOW, spoolDir: dir });
    const first = await bridge();
    const withPassword = (name: string) => {
      const c = created(name, '2026-11-20T10:00:00Z');
      c.requestObject.spec.predictor.model.env.push({ name: 'MLFLOW_TRACKING_PASSWORD', value: 'trackingPw123' });
      return c;
    };
    await first.send(TOKEN, withPassword('fraud'), withPassword('shown'));
    const [create] = first.h.events();
    await first.close();
    // The bridge restarted: the kept objects are read back from the spool state, the password as [redacted].
    const second = await bridge();
    cleanup.push(second.close);
    await second.send(TOKEN,
      // A client that checks the password it knows before moving the registry (optimistic concurrency).
      record('patch', 'fraud', '2026-11-20T11:00:00Z', [{ op: 'test', path: '/spec/predictor/model/env/1/value', value: 'trackingPw123' }, { op: 'replace', path: '/spec/predictor/model/env/0/value', value: 'http://evil:5000' }]),
      // A test of a value kept as sent that fails: the apiserver patched another object, as before.
      record('patch', 'shown', '2026-11-20T11:00:01Z', [{ op: 'test', path: '/spec/predictor/model/env/0/value', value: 'http://other:5000' }, { op: 'replace', path: '/spec/predictor/model/env/0/value', value: 'http://evil:5000' }]),
    );
    const [patch, shown] = second.h.events().slice(-2);
    expect(patch!.details).toMatchObject({ patch_type: 'json', patch_base_event_id: create!.id, patch_test_unverifiable: ['/spec/predictor/model/env/1/value'] });
    expect(patch!.details?.patch_not_applied).toBeUndefined();
    expect(patch!.ml?.deployment).toMatchObject({ model_uri: 'models:/fraud/3', mlflow_registry_uri: 'http://evil:5000' });
    expect(unapproved([create!, patch!]).map((a) => [a.entity.id, a.details?.reason])).toEqual([['prod/fraud', 'unwatched_registry']]);
    expect(shown!.details).toMatchObject({ patch_base_unknown: true, patch_not_applied: expect.stringContaining('test of /spec/predictor/model/env/0/value failed') });
    expect(shown!.details?.patch_test_unverifiable).toBeUndefined();
  });

  it('a Secret, kept without its values even in memory: a JSON patch testing one of them is applied to it, the test said unverifiable', () => {
    const config = {};
    const ref = { resource: 'secrets', namespace: 'prod', name: 's3', apiVersion: 'v1' };
    const create = { ...record('create', 's3', '2026-11-20T10:00:00Z', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's3', namespace: 'prod', annotations: { 'serving.kserve.io/s3-endpoint': 'minio.minio.svc:9000' } }, stringData: { AWS_SECRET_ACCESS_KEY: 'secretKey456' } }), requestURI: '/api/v1/namespaces/prod/secrets', objectRef: ref };
    patchedObjectOf(create as unknown as AuditEvent, 'e0', config, undefined);
    const patch = { ...record('patch', 's3', '2026-11-20T11:00:00Z', [{ op: 'test', path: '/stringData/AWS_SECRET_ACCESS_KEY', value: 'secretKey456' }, { op: 'replace', path: '/metadata/annotations/serving.kserve.io~1s3-endpoint', value: 's3.attacker.example' }]), requestURI: '/api/v1/namespaces/prod/secrets/s3', objectRef: ref };
    const out = patchedObjectOf(patch as unknown as AuditEvent, 'p', config, undefined);
    expect(out.facts).toEqual({ patch_type: 'json', patch_base_event_id: 'e0', patch_test_unverifiable: ['/stringData/AWS_SECRET_ACCESS_KEY'] });
    expect(out.object?.metadata).toMatchObject({ annotations: { 'serving.kserve.io/s3-endpoint': 's3.attacker.example' } });
  });

  it('the objects one audit batch writes are saved in one transaction (1000 InferenceServices and Secrets: one commit, not 1000)', async () => {
    const route = await startAuditRoute({ namespaces: ['prod'], mlflow_server: 'team' }, { ingestToken: TOKEN, mlflow: MLFLOW });
    cleanup.push(route.close);
    const { spool } = route.h;
    // Watched on the real store: each write of a kept object, and whether a transaction held it.
    const writes: Array<{ key: string; tx: number | undefined }> = [];
    let tx: number | undefined;
    let txs = 0;
    const set = spool.state.set.bind(spool.state);
    spool.state.set = (ns: string, key: string, value: unknown) => {
      if (ns.startsWith(PATCH_BASE_NS.endpoints)) writes.push({ key, tx: spool.db.inTransaction ? tx : undefined });
      set(ns, key, value);
    };
    const transaction = spool.transaction.bind(spool);
    spool.transaction = <T>(fn: () => T): T => {
      const outer = tx;
      tx = ++txs;
      try {
        return transaction(fn);
      } finally {
        tx = outer;
      }
    };
    const secret = (name: string, at: string) => ({
      ...record('create', name, at, { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'prod', annotations: { 'serving.kserve.io/s3-endpoint': 'minio.minio.svc:9000' } }, stringData: { AWS_SECRET_ACCESS_KEY: 'S3cret' } }),
      requestURI: '/api/v1/namespaces/prod/secrets',
      objectRef: { resource: 'secrets', namespace: 'prod', name, apiVersion: 'v1' },
    });
    const items = Array.from({ length: 1000 }, (_, i) => (i % 2 ? secret(`s${i}`, '2026-11-20T10:00:00Z') : created(`m${i}`, '2026-11-20T10:00:00Z')));
    await route.send(TOKEN, ...items);
    expect(writes).toHaveLength(1000);
    // Every one inside a transaction, and the same one.
    expect(new Set(writes.map((w) => w.tx))).toEqual(new Set([writes[0]!.tx]));
    expect(writes[0]!.tx).toBeTypeOf('number');
    expect(spool.state.size(PATCH_BASE_NS.endpoints) + spool.state.size(PATCH_BASE_NS.credentials)).toBe(1000);
    // A batch that writes no kept object opens no transaction for them.
    const before = txs;
    await route.send(TOKEN, { ...structuredClone(AUDIT), auditID: 'pod-only', verb: 'get', objectRef: { resource: 'pods', namespace: 'prod', name: 'p', apiVersion: 'v1' } });
    expect(writes).toHaveLength(1000);
    expect(txs - before).toBeLessThanOrEqual(1);
  });

  describe('a batch whose events fail to commit (the apiserver sends it again)', () => {
    /** The route on `dir`'s spool, with the commit of the next request's events made to fail once (SQLITE_IOERR, rolled back). */
    const failingRoute = async (dir: string) => {
      const route = await startAuditRoute({ namespaces: ['prod'], mlflow_server: 'team' }, { ingestToken: TOKEN, mlflow: MLFLOW, spoolDir: dir });
      cleanup.push(route.close);
      const { spool } = route.h;
      let failNext = false;
      const append = spool.append.bind(spool);
      // The events' commit is the first transaction after their append (the group commit, a turn later).
      spool.append = (items) => ((failNext ||= items.some((i) => i.kind === 'event') && armed), append(items));
      let armed = false;
      const transaction = spool.transaction.bind(spool);
      spool.transaction = <T>(fn: () => T): T => {
        if (!failNext) return transaction(fn);
        failNext = armed = false;
        return transaction(() => {
          fn();
          throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
        });
      };
      const post = (...items: Record<string, unknown>[]) =>
        fetch(`${route.url}${AUDIT_ROUTE}`, { method: 'POST', body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items }), headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } });
      return { ...route, post, failOnce: () => (armed = true) };
    };
    // A client that moves the model only if it is still v3 (a JSON patch's test), then the registry, in one batch.
    const batch = () => [
      record('patch', 'fraud', '2026-11-20T11:00:00Z', [{ op: 'test', path: '/spec/predictor/model/storageUri', value: 'models:/fraud/3' }, { op: 'replace', path: '/spec/predictor/model/storageUri', value: 'models:/fraud/9' }]),
      record('patch', 'fraud', '2026-11-20T11:00:01Z', [{ op: 'replace', path: '/spec/predictor/model/env/0/value', value: 'http://evil:5000' }]),
    ];
    const judgedAsFirst = (events: NormalizedEvent[], createId: string) => {
      const [move, registry] = events.slice(-2);
      expect(move!.details).toMatchObject({ patch_type: 'json', patch_base_event_id: createId });
      expect(move!.details?.patch_not_applied).toBeUndefined();
      expect(move!.ml?.deployment).toMatchObject({ model_uri: 'models:/fraud/9' });
      expect(registry!.ml?.deployment).toMatchObject({ model_uri: 'models:/fraud/9', mlflow_registry_uri: 'http://evil:5000' });
    };

    it('leaves the kept objects on disk as they were: the retry after a restart applies each patch to the object it applied to (its test passed again)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mltrail-kf-commit-fail-'));
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      const first = await failingRoute(dir);
      await first.send(TOKEN, created('fraud', '2026-11-20T10:00:00Z'));
      const [create] = first.h.events();
      const storedUri = () => JSON.stringify(first.h.spool.state.list(PATCH_BASE_NS.endpoints).map((e) => (e.value as Obj).object.spec.predictor.model.storageUri));
      first.failOnce();
      const failed = await first.post(...batch());
      expect(failed.status).toBeGreaterThanOrEqual(500);
      expect(first.h.events()).toHaveLength(1);
      // The object the batch made is not on disk: the create's still is.
      expect(storedUri()).toBe('["models:/fraud/3"]');
      await first.close();
      // The bridge restarted (another config object, the same spool), then the apiserver sends the batch again.
      const second = await startAuditRoute({ namespaces: ['prod'], mlflow_server: 'team' }, { ingestToken: TOKEN, mlflow: MLFLOW, spoolDir: dir });
      cleanup.push(second.close);
      await second.send(TOKEN, ...batch().map((r, i) => ({ ...r, auditID: `${AUDIT.auditID}-retry-${i}` })));
      judgedAsFirst(second.h.events(), create!.id);
      expect(JSON.stringify(second.h.spool.state.list(PATCH_BASE_NS.endpoints).map((e) => (e.value as Obj).object.spec.predictor.model))).toContain('http://evil:5000');
    });

    it('takes the batch back in memory too: the same records sent again are applied to the objects they applied to, and saved then', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mltrail-kf-commit-fail-mem-'));
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      const route = await failingRoute(dir);
      await route.send(TOKEN, created('fraud', '2026-11-20T10:00:00Z'));
      const [create] = route.h.events();
      const records = batch();
      route.failOnce();
      expect((await route.post(...records)).status).toBeGreaterThanOrEqual(500);
      // The very records again (same auditIDs), as the apiserver retries.
      expect((await route.post(...records)).status).toBe(200);
      judgedAsFirst(route.h.events(), create!.id);
      const stored = route.h.spool.state.list(PATCH_BASE_NS.endpoints).map((e) => (e.value as Obj).object.spec.predictor.model);
      expect(stored).toEqual([expect.objectContaining({ storageUri: 'models:/fraud/9', env: [{ name: 'MLFLOW_TRACKING_URI', value: 'http://evil:5000' }] })]);
    });
  });

  it('the kept objects stay bounded in the state store (2000 endpoints: the oldest written first out), also when read back', () => {
    const state = new MemoryStateStore();
    const config = {};
    keepPatchBasesIn(config, state);
    const ev = (name: string) => ({ ...created(name, '2026-11-20T10:00:00Z'), level: 'Request' }) as unknown as AuditEvent;
    for (let i = 0; i <= 2000; i++) patchedObjectOf(ev(`m${i}`), `e${i}`, config, undefined);
    expect(state.size(PATCH_BASE_NS.endpoints)).toBe(2000);
    expect(state.get(PATCH_BASE_NS.endpoints, '|inferenceservices|prod/m0')).toBeUndefined();
    // Read back by another config (a restart): the newest are the ones kept, and one more still pushes out the oldest.
    const again = {};
    keepPatchBasesIn(again, state);
    patchedObjectOf(ev('m2001'), 'e2001', again, undefined);
    expect(state.size(PATCH_BASE_NS.endpoints)).toBe(2000);
    expect(state.get(PATCH_BASE_NS.endpoints, '|inferenceservices|prod/m1')).toBeUndefined();
    const patched = patchedObjectOf({ ...record('patch', 'm2', '2026-11-20T11:00:00Z', { spec: { predictor: { model: { storageUri: 'models:/fraud/9' } } } }) } as unknown as AuditEvent, 'p', again, undefined);
    expect(patched.facts?.patch_base_event_id).toBe('e2');
  });
});

describe('mltrail normalize of an audit log file', () => {
  it('applies a Request-level patch to the object a record before it showed, as the live route does', () => {
    const lines = [created('fraud', '2026-11-20T10:00:00Z'), record('patch', 'fraud', '2026-11-20T11:00:00Z', [{ op: 'replace', path: '/spec/predictor/model/env/0/value', value: 'http://evil:5000' }])];
    const r = normalizeInput(Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n')), 'audit.log', 'auto', loadConfig({ env: {} }));
    expect(r.errors).toEqual([]);
    const [create, patch] = r.events;
    expect(patch!.ml?.deployment).toMatchObject({ model_uri: 'models:/fraud/3', mlflow_registry_uri: 'http://evil:5000' });
    expect(patch!.details?.patch_base_event_id).toBe(create!.id);
  });
});

describe('patch appliers', () => {
  it('RFC 6902: ops in order, a missing path or failed test fails the whole patch; RFC 7386: null removes, arrays replace', () => {
    const doc = { spec: { env: [{ name: 'A', value: '1' }], uri: 'x' } };
    expect(applyJsonPatch(doc, [{ op: 'add', path: '/spec/env/-', value: { name: 'B', value: '2' } }, { op: 'move', from: '/spec/uri', path: '/spec/old' }, { op: 'copy', from: '/spec/old', path: '/spec/uri' }, { op: 'remove', path: '/spec/env/0' }])).toEqual({ result: { spec: { env: [{ name: 'B', value: '2' }], uri: 'x', old: 'x' } } });
    expect(applyJsonPatch(doc, [{ op: 'replace', path: '/spec/nope/0', value: 1 }])).toHaveProperty('error');
    expect(applyJsonPatch(doc, [{ op: 'add', path: '/spec/env/5', value: 1 }])).toHaveProperty('error');
    expect(applyJsonPatch(doc, [{ op: 'test', path: '/spec/uri', value: 'x' }, { op: 'add', path: '/__proto__/polluted', value: 1 }])).toHaveProperty('error');
    expect(doc.spec.env).toHaveLength(1);
    expect(applyMergePatch(doc, { spec: { uri: null, env: [{ name: 'C' }] } })).toEqual({ spec: { env: [{ name: 'C' }] } });
  });
  it('a test op on a value kept hidden (a JSON annotation compacted with [redacted], a base64 bundle kept as [unscanned: N bytes]) is unverifiable, not a failed patch', () => {
    const kept = { metadata: { annotations: { 'ml.corp/cfg': '{"a":1,"token":"[redacted]"}', 'ml.corp/bundle': '[unscanned: 4096 bytes]' } } };
    const ops = (path: string, was: string) => [{ op: 'test', path, value: was }, { op: 'replace', path, value: 'new' }];
    expect(applyJsonPatch(kept, ops('/metadata/annotations/ml.corp~1cfg', '{"a": 1, "token": "t0k"}'), true)).toMatchObject({ unverifiedTests: ['/metadata/annotations/ml.corp~1cfg'] });
    expect(applyJsonPatch(kept, ops('/metadata/annotations/ml.corp~1bundle', 'H4sIAAAAAAAAA0tMTgYA'), true)).toMatchObject({ unverifiedTests: ['/metadata/annotations/ml.corp~1bundle'], result: { metadata: { annotations: { 'ml.corp/bundle': 'new' } } } });
    // A value kept as sent: a failed test fails the patch still.
    expect(applyJsonPatch({ metadata: { annotations: { x: 'kept' } } }, ops('/metadata/annotations/x', 'other'), true)).toHaveProperty('error');
  });
});
