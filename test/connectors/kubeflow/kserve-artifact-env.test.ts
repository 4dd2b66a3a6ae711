import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { replayEvents } from '../../../bridge/replay.js';
import { KubeflowConfig } from '../../../connectors/kubeflow/config.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { createLogger } from '../../../core/log.js';
import { RulesConfig, createRuleEngine } from '../../../core/rules/engine.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import { fromServer, type Alert, type NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { startAuditRoute } from './helpers.js';

/**
 * Where a KServe predictor fetches its `models:/…` bytes from while its registry URI stays the approved one: the
 * artifact endpoints and proxies its serving container's env names, judged against the cluster's
 * `artifact_endpoints`. One MLflow server `team` (http://mlflow.team.svc:5000), whose fraud v3 is approved.
 * Records are the falco RequestResponse audit fixture with the object, user and bodies changed.
 */
type Obj = Record<string, any>;
const AUDIT = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');
const TOKEN = 'default-cluster-token-5c1d9e';
const B_TOKEN = 'cluster-b-token-0a8f3c71e2';
const MLFLOW = MlflowConfig.parse({ servers: [{ id: 'team', webhook_secrets: ['team-webhook-secret-0123456789abcdef'], tracking_uris: ['http://mlflow.team.svc:5000'] }] });
let seq = 0;

type Env = Array<Record<string, unknown>>;
const TRACKING = { name: 'MLFLOW_TRACKING_URI', value: 'http://mlflow.team.svc:5000' };
const env = (name: string, value: string) => ({ name, value });

/** An audit record of an InferenceService `name` created with a `model` spec loading `uri` with `env` (and `envFrom`). */
function inferenceService(name: string, at: string, uri: string, extra: Env = [], envFrom?: Env): Obj {
  const ev = structuredClone(AUDIT);
  const model = { modelFormat: { name: 'mlflow' }, storageUri: uri, env: [TRACKING, ...extra], ...(envFrom ? { envFrom } : {}) };
  return {
    ...ev,
    auditID: `${ev.auditID}-art-${++seq}`,
    verb: 'create',
    requestURI: '/apis/serving.kserve.io/v1beta1/namespaces/prod/inferenceservices',
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    objectRef: { resource: 'inferenceservices', namespace: 'prod', name, apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1' },
    responseStatus: { metadata: {}, code: 201 },
    requestObject: { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name, namespace: 'prod' }, spec: { predictor: { model } } },
    responseObject: undefined,
    requestReceivedTimestamp: at,
    stageTimestamp: at,
  };
}

/** `fraud` version 3 on server `team`, given `champion` when `approved`. */
function fraud3(approved: boolean): NormalizedEvent[] {
  const bodies: Array<[string, string, string, Record<string, unknown>]> = [
    ['registered_model', 'created', '2026-11-19T10:00:00.000000+00:00', { name: 'fraud', tags: {}, description: null }],
    ['model_version', 'created', '2026-11-19T10:01:00.000000+00:00', { name: 'fraud', version: '3', source: 's3://team/fraud/3', run_id: 'run-team', tags: {}, description: null }],
    ...(approved ? [['model_version_alias', 'created', '2026-11-19T10:02:00.000000+00:00', { name: 'fraud', alias: 'champion', version: '3' }] as [string, string, string, Record<string, unknown>]] : []),
  ];
  return bodies.flatMap(([entity, action, timestamp, data], i) =>
    normalizeMlflow({ entity, action, timestamp, data }, { channel: 'mlflow.webhook', receivedTime: timestamp, keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: `d-art-${i}` } }).events,
  ).map((e) => fromServer(e, 'team'));
}

/** The unapproved-deployment alerts of `events`. */
const unapprovedAlerts = (events: NormalizedEvent[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function start(kubeflow: Record<string, unknown>, logs?: string[]) {
  const logger = logs ? createLogger({ level: 'warn', destination: { write: (l: string) => void logs.push(l) } }) : undefined;
  const route = await startAuditRoute({ namespaces: ['prod'], mlflow_server: 'team', ...kubeflow }, { ingestToken: TOKEN, mlflow: MLFLOW, logger });
  cleanup.push(route.close);
  return route;
}

describe('artifact endpoints and proxies in the serving container env', () => {
  it('without artifact_endpoints: recorded without credentials, not judged, and the key named once in a warning', async () => {
    const logs: string[] = [];
    const { h, send } = await start({}, logs);
    await send(TOKEN,
      inferenceService('minio', '2026-11-20T10:00:00Z', 'models:/fraud/3', [env('MLFLOW_S3_ENDPOINT_URL', 'http://minio.minio.svc:9000'), env('HTTPS_PROXY', 'http://bob:s3cret@proxy.corp:3128'), env('NO_PROXY', '*')]),
      inferenceService('elsewhere', '2026-11-20T10:00:01Z', 'models:/fraud@champion', [env('AWS_ENDPOINT_URL_S3', 'https://s3.attacker.example/?X-Amz-Signature=abc')]),
      // An artifact URI loads no registry model: its env is not read here.
      inferenceService('plain', '2026-11-20T10:00:02Z', 's3://team/fraud/3', [env('AWS_ENDPOINT_URL', 'https://s3.attacker.example')]),
    );
    const kube = h.events();
    expect(kube.map((e) => [e.resource?.name, e.details?.artifact_env, e.details?.artifact_endpoint_unlisted])).toEqual([
      ['minio', { MLFLOW_S3_ENDPOINT_URL: 'http://minio.minio.svc:9000', HTTPS_PROXY: 'http://[redacted]@proxy.corp:3128' }, undefined],
      ['elsewhere', { AWS_ENDPOINT_URL_S3: 'https://s3.attacker.example/' }, undefined],
      ['plain', undefined, undefined],
    ]);
    expect(JSON.stringify(kube.map((e) => ({ ...e, raw: undefined })))).not.toContain('s3cret');
    const warned = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.config_key === 'connectors.kubeflow.artifact_endpoints');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 40, msg: expect.stringContaining('connectors.kubeflow.artifact_endpoints is not set') });
    // Approved in team's registry; with no list nothing says the endpoints are wrong.
    expect(unapprovedAlerts([...fraud3(true), ...kube.slice(0, 2)])).toEqual([]);
  });

  it('with artifact_endpoints: an endpoint or proxy it does not list is a finding even for an approved version; a configured cluster has its own list', async () => {
    const logs: string[] = [];
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000', 'https://proxy.corp:3128'], clusters: [{ id: 'cluster-b', token: B_TOKEN }] }, logs);
    await send(TOKEN,
      // Listed: the same host and port however written (scheme, case, path and credentials aside).
      inferenceService('minio', '2026-11-20T10:00:00Z', 'models:/fraud/3', [env('MLFLOW_S3_ENDPOINT_URL', 'HTTP://MinIO.minio.svc:9000/'), env('S3_ENDPOINT', 'minio.minio.svc:9000'), env('https_proxy', 'https://bob:s3cret@proxy.corp:3128')]),
      inferenceService('exfil', '2026-11-20T10:00:01Z', 'models:/fraud@champion', [env('MLFLOW_S3_ENDPOINT_URL', 'http://minio.minio.svc:9000'), env('AWS_ENDPOINT_URL_S3', 'https://s3.attacker.example')]),
      // Another port of a listed host is another endpoint; a proxy in any case is read.
      inferenceService('proxy', '2026-11-20T10:00:02Z', 'models:/fraud/3', [env('Https_Proxy', 'http://proxy.corp:8080')]),
      // google-cloud-storage (MLflow's gs:// artifacts) sends every request to its emulator host.
      inferenceService('gcs', '2026-11-20T10:00:04Z', 'models:/fraud/3', [env('STORAGE_EMULATOR_HOST', 'gcs.attacker.example:4443')]),
    );
    await send(B_TOKEN, inferenceService('b-exfil', '2026-11-20T10:00:03Z', 'models:/fraud/3', [env('AWS_ENDPOINT_URL', 'https://s3.attacker.example')]));
    const kube = h.events();
    expect(kube.map((e) => [e.resource?.name, e.details?.artifact_endpoint_unlisted])).toEqual([
      ['minio', undefined],
      ['exfil', ['AWS_ENDPOINT_URL_S3']],
      ['proxy', ['Https_Proxy']],
      ['gcs', ['STORAGE_EMULATOR_HOST']],
      // cluster-b lists none: recorded only (the default cluster's list is not its).
      ['b-exfil', undefined],
    ]);
    const warned = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => typeof l.config_key === 'string' && l.config_key.endsWith('artifact_endpoints'));
    expect(warned.map((w) => w.config_key)).toEqual(['connectors.kubeflow.clusters.0.artifact_endpoints']);

    const alerts = unapprovedAlerts([...fraud3(true), ...kube]);
    expect(alerts.map((a) => [a.entity.id, a.details?.reason, a.details?.artifact_endpoints_not_allowed, a.severity])).toEqual([
      ['prod/exfil', 'artifact_endpoint_not_allowed', { AWS_ENDPOINT_URL_S3: 'https://s3.attacker.example' }, 'critical'],
      ['prod/proxy', 'artifact_endpoint_not_allowed', { Https_Proxy: 'http://proxy.corp:8080' }, 'critical'],
      ['prod/gcs', 'artifact_endpoint_not_allowed', { STORAGE_EMULATOR_HOST: 'gcs.attacker.example:4443' }, 'critical'],
    ]);
    expect(alerts[0]!.summary).toBe("alice@example.com deployed fraud@champion (MLflow server team) to prod/exfil (kubeflow); its env fetches the model's bytes from or through AWS_ENDPOINT_URL_S3=https://s3.attacker.example, which the cluster's artifact_endpoints does not list: fraud v3 is approved, but not what that host serves under its name");
    expect(JSON.parse(JSON.stringify(alerts[0]!.details?.deployed))).not.toHaveProperty('mlflowDoubt');
    // Never approved: the usual alert, which names the endpoint too.
    expect(unapprovedAlerts([...fraud3(false), kube[1]!]).map((a) => [a.details?.reason, a.details?.artifact_endpoints_not_allowed])).toEqual([['never_approved', { AWS_ENDPOINT_URL_S3: 'https://s3.attacker.example' }]]);
  });

  it("an Azure connection string's BlobEndpoint is judged as an endpoint (its AccountKey never shown); an AWS config file or profile is unverifiable", async () => {
    const key = 'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000', 'https://mlartifacts.blob.core.windows.net'] });
    await send(TOKEN,
      inferenceService('azure-evil', '2026-11-20T10:00:00Z', 'models:/fraud/3', [env('AZURE_STORAGE_CONNECTION_STRING', `DefaultEndpointsProtocol=https;AccountName=mlartifacts;${key};blobendpoint=https://blob.attacker.example/`)]),
      inferenceService('azure-listed', '2026-11-20T10:00:01Z', 'models:/fraud/3', [env('AZURE_STORAGE_CONNECTION_STRING', `DefaultEndpointsProtocol=https;AccountName=mlartifacts;${key};BlobEndpoint=https://mlartifacts.blob.core.windows.net/`)]),
      // No BlobEndpoint: the account's own host (the portal's connection string), listed.
      inferenceService('azure-plain', '2026-11-20T10:00:02Z', 'models:/fraud/3', [env('AZURE_STORAGE_CONNECTION_STRING', `DefaultEndpointsProtocol=https;AccountName=mlartifacts;${key};EndpointSuffix=core.windows.net`)]),
      inferenceService('azurite', '2026-11-20T10:00:03Z', 'models:/fraud/3', [env('AZURE_STORAGE_CONNECTION_STRING', 'UseDevelopmentStorage=true')]),
      inferenceService('aws-profile', '2026-11-20T10:00:04Z', 'models:/fraud/3', [env('AWS_PROFILE', 'minio'), env('AWS_CONFIG_FILE', '/etc/aws/config')]),
      // The SDK builds <protocol>://<account>.blob.<suffix>: another account, or a suffix of one's own, is another host.
      inferenceService('azure-account', '2026-11-20T10:00:05Z', 'models:/fraud/3', [env('AZURE_STORAGE_CONNECTION_STRING', `AccountName=attackerstore;${key}`)]),
      inferenceService('azure-suffix', '2026-11-20T10:00:06Z', 'models:/fraud/3', [env('AZURE_STORAGE_CONNECTION_STRING', `DefaultEndpointsProtocol=http;AccountName=mlartifacts;${key};EndpointSuffix=attacker.example`)]),
    );
    const kube = h.events();
    expect(kube.map((e) => [e.resource?.name, e.details?.artifact_env, e.details?.artifact_endpoint_unlisted, e.details?.artifact_env_unverifiable])).toEqual([
      ['azure-evil', { AZURE_STORAGE_CONNECTION_STRING: 'https://blob.attacker.example/' }, ['AZURE_STORAGE_CONNECTION_STRING'], undefined],
      ['azure-listed', { AZURE_STORAGE_CONNECTION_STRING: 'https://mlartifacts.blob.core.windows.net/' }, undefined, undefined],
      ['azure-plain', { AZURE_STORAGE_CONNECTION_STRING: 'https://mlartifacts.blob.core.windows.net' }, undefined, undefined],
      ['azurite', { AZURE_STORAGE_CONNECTION_STRING: 'http://127.0.0.1:10000' }, ['AZURE_STORAGE_CONNECTION_STRING'], undefined],
      ['aws-profile', undefined, undefined, ['AWS_CONFIG_FILE', 'AWS_PROFILE']],
      ['azure-account', { AZURE_STORAGE_CONNECTION_STRING: 'https://attackerstore.blob.core.windows.net' }, ['AZURE_STORAGE_CONNECTION_STRING'], undefined],
      ['azure-suffix', { AZURE_STORAGE_CONNECTION_STRING: 'http://mlartifacts.blob.attacker.example' }, ['AZURE_STORAGE_CONNECTION_STRING'], undefined],
    ]);
    // The key reaches no event field and no raw record.
    expect(JSON.stringify(kube)).not.toContain('Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq');
    const alerts = replayEvents([...fraud3(true), ...kube], { rules: RulesConfig.parse({}) }).alerts.filter((a) => /unapproved_deployment|model_source_unverifiable/.test(a.rule_id));
    expect(alerts.map((a) => [a.rule_id, a.entity.id, a.details?.reason ?? a.details?.reasons, a.details?.artifact_endpoints_not_allowed])).toEqual([
      ['registry.unapproved_deployment', 'prod/azure-evil', 'artifact_endpoint_not_allowed', { AZURE_STORAGE_CONNECTION_STRING: 'https://blob.attacker.example/' }],
      ['registry.unapproved_deployment', 'prod/azurite', 'artifact_endpoint_not_allowed', { AZURE_STORAGE_CONNECTION_STRING: 'http://127.0.0.1:10000' }],
      ['serving.model_source_unverifiable', 'prod/aws-profile', ['artifact_endpoint_unverifiable'], undefined],
      ['registry.unapproved_deployment', 'prod/azure-account', 'artifact_endpoint_not_allowed', { AZURE_STORAGE_CONNECTION_STRING: 'https://attackerstore.blob.core.windows.net' }],
      ['registry.unapproved_deployment', 'prod/azure-suffix', 'artifact_endpoint_not_allowed', { AZURE_STORAGE_CONNECTION_STRING: 'http://mlartifacts.blob.attacker.example' }],
    ]);
    // Without the list, the profile is recorded only, as a visible endpoint is not judged either.
    const unlisted = await start({});
    await unlisted.send(TOKEN, inferenceService('aws-profile', '2026-11-20T10:00:04Z', 'models:/fraud/3', [env('AWS_PROFILE', 'minio')]));
    const recorded = unlisted.h.events();
    expect(recorded.map((e) => [e.details?.artifact_env_unverifiable, e.details?.artifact_endpoint_unverifiable])).toEqual([[['AWS_PROFILE'], undefined]]);
    expect(replayEvents([...fraud3(true), ...recorded], { rules: RulesConfig.parse({}) }).alerts.filter((a) => /unapproved_deployment|model_source_unverifiable/.test(a.rule_id))).toEqual([]);
  });

  it("an Azure sovereign cloud's EndpointSuffix makes that cloud's account host; UseDevelopmentStorage's DevelopmentStorageProxyUri is the host the emulator's blob endpoint is built on", async () => {
    const key = 'AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
    const { h, send } = await start({ artifact_endpoints: ['https://mlartifacts.blob.core.chinacloudapi.cn', 'http://azurite.dev.svc:10000'] });
    await send(TOKEN,
      inferenceService('china', '2026-11-20T10:00:00Z', 'models:/fraud/3', [env('AZURE_STORAGE_CONNECTION_STRING', `DefaultEndpointsProtocol=https;AccountName=mlartifacts;${key};EndpointSuffix=core.chinacloudapi.cn`)]),
      inferenceService('usgov', '2026-11-20T10:00:01Z', 'models:/fraud/3', [env('AZURE_STORAGE_CONNECTION_STRING', `DefaultEndpointsProtocol=https;AccountName=mlartifacts;${key};EndpointSuffix=core.usgovcloudapi.net`)]),
      inferenceService('proxy-listed', '2026-11-20T10:00:02Z', 'models:/fraud/3', [env('AZURE_STORAGE_CONNECTION_STRING', 'UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://azurite.dev.svc')]),
      inferenceService('proxy-evil', '2026-11-20T10:00:03Z', 'models:/fraud/3', [env('AZURE_STORAGE_CONNECTION_STRING', 'usedevelopmentstorage=TRUE;developmentstorageproxyuri=http://bob:pw@blob.attacker.example:8080')]),
    );
    const kube = h.events();
    expect(kube.map((e) => [e.resource?.name, e.details?.artifact_env, e.details?.artifact_endpoint_unlisted])).toEqual([
      ['china', { AZURE_STORAGE_CONNECTION_STRING: 'https://mlartifacts.blob.core.chinacloudapi.cn' }, undefined],
      ['usgov', { AZURE_STORAGE_CONNECTION_STRING: 'https://mlartifacts.blob.core.usgovcloudapi.net' }, ['AZURE_STORAGE_CONNECTION_STRING']],
      ['proxy-listed', { AZURE_STORAGE_CONNECTION_STRING: 'http://azurite.dev.svc:10000' }, undefined],
      ['proxy-evil', { AZURE_STORAGE_CONNECTION_STRING: 'http://blob.attacker.example:10000' }, ['AZURE_STORAGE_CONNECTION_STRING']],
    ]);
    expect(JSON.stringify(kube)).not.toContain('bob:pw');
    expect(unapprovedAlerts([...fraud3(true), ...kube]).map((a) => [a.entity.id, a.details?.reason])).toEqual([
      ['prod/usgov', 'artifact_endpoint_not_allowed'],
      ['prod/proxy-evil', 'artifact_endpoint_not_allowed'],
    ]);
  });

  it('a backslash before an @ does not pass an unlisted host off as a listed one (the URL parser and urllib3 read it as a path)', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    await send(TOKEN,
      inferenceService('backslash', '2026-11-20T10:00:00Z', 'models:/fraud/3', [env('AWS_ENDPOINT_URL', 'http://s3.attacker.example\\@minio.minio.svc:9000')]),
      inferenceService('bare', '2026-11-20T10:00:01Z', 'models:/fraud/3', [env('S3_ENDPOINT', 's3.attacker.example\\@minio.minio.svc:9000')]),
      // Real user-info before a listed host stays quiet.
      inferenceService('userinfo', '2026-11-20T10:00:02Z', 'models:/fraud/3', [env('AWS_ENDPOINT_URL', 'http://minio:s3cret@minio.minio.svc:9000')]),
    );
    const kube = h.events();
    expect(kube.map((e) => [e.resource?.name, e.details?.artifact_env, e.details?.artifact_endpoint_unlisted])).toEqual([
      ['backslash', { AWS_ENDPOINT_URL: 'http://s3.attacker.example/[redacted]' }, ['AWS_ENDPOINT_URL']],
      ['bare', { S3_ENDPOINT: 's3.attacker.example/[redacted]' }, ['S3_ENDPOINT']],
      ['userinfo', { AWS_ENDPOINT_URL: 'http://[redacted]@minio.minio.svc:9000' }, undefined],
    ]);
    expect(unapprovedAlerts([...fraud3(true), ...kube]).map((a) => [a.entity.id, a.details?.reason])).toEqual([
      ['prod/backslash', 'artifact_endpoint_not_allowed'],
      ['prod/bare', 'artifact_endpoint_not_allowed'],
    ]);
  });

  it('an endpoint or proxy the log does not show (valueFrom, $(VAR), envFrom) beside a literal registry URI is the lesser model-source doubt, not the registry one', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    const secret = { secretKeyRef: { name: 'aws', key: 'endpoint' } };
    await send(TOKEN,
      inferenceService('from-secret', '2026-11-20T10:00:00Z', 'models:/fraud/3', [{ name: 'AWS_ENDPOINT_URL', valueFrom: secret }]),
      inferenceService('expanded', '2026-11-20T10:00:01Z', 'models:/fraud/3', [{ name: 'P', valueFrom: secret }, env('http_proxy', 'http://$(P)')]),
      // `AWS_` can make AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3 and the AWS config file and profile names, nothing else read here.
      inferenceService('aws-prefixed', '2026-11-20T10:00:02Z', 'models:/fraud/3', [], [{ prefix: 'AWS_', secretRef: { name: 'aws' } }]),
      // The registry URI itself by reference: the hidden endpoint stays part of the registry doubt.
      inferenceService('uri-hidden', '2026-11-20T10:00:03Z', 'models:/fraud/3', [{ name: 'MLFLOW_TRACKING_URI', valueFrom: secret }, { name: 'AWS_ENDPOINT_URL', valueFrom: secret }]),
    );
    const kube = h.events();
    expect(kube.map((e) => [e.resource?.name, e.details?.mlflow_env_unverifiable, e.details?.artifact_env_unverifiable, e.details?.artifact_endpoint_unverifiable])).toEqual([
      ['from-secret', undefined, ['AWS_ENDPOINT_URL'], true],
      ['expanded', undefined, ['http_proxy'], true],
      ['aws-prefixed', undefined, ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_PROFILE'], true],
      ['uri-hidden', ['MLFLOW_TRACKING_URI', 'AWS_ENDPOINT_URL'], undefined, undefined],
    ]);
    const alerts = replayEvents([...fraud3(true), ...kube], { rules: RulesConfig.parse({}) }).alerts.filter((a) => /unapproved_deployment|model_source_unverifiable/.test(a.rule_id));
    expect(alerts.map((a) => [a.rule_id, a.entity.id, a.severity, a.details?.reason ?? a.details?.reasons])).toEqual([
      ['serving.model_source_unverifiable', 'prod/from-secret', 'medium', ['artifact_endpoint_unverifiable']],
      ['serving.model_source_unverifiable', 'prod/expanded', 'medium', ['artifact_endpoint_unverifiable']],
      ['serving.model_source_unverifiable', 'prod/aws-prefixed', 'medium', ['artifact_endpoint_unverifiable']],
      ['registry.unapproved_deployment', 'prod/uri-hidden', 'critical', 'registry_unverifiable'],
    ]);
    expect(alerts[0]!.summary).toContain('AWS_ENDPOINT_URL come from a source the audit log does not show');
  });

  it('a MinIO install giving S3 settings through an unprefixed envFrom Secret is one medium doubt, not a critical registry_unverifiable; a ConfigMap or no literal registry URI stays critical', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    const minio = [{ secretRef: { name: 'minio-s3' } }];
    const noTracking = (o: Obj): Obj => {
      o.requestObject.spec.predictor.model.env = [];
      return o;
    };
    await send(TOKEN,
      inferenceService('minio', '2026-11-20T10:00:00Z', 'models:/fraud/3', [], minio),
      // Unprefixed ConfigMaps are where MLflow settings are kept (MLFLOW_WORKSPACE, MLFLOW_REGISTRY_URI): the bypass.
      inferenceService('configmap', '2026-11-20T10:00:01Z', 'models:/fraud/3', [], [{ configMapRef: { name: 'mlflow' } }]),
      // No registry URI in the env: the Secret may be where it comes from.
      noTracking(inferenceService('no-uri', '2026-11-20T10:00:02Z', 'models:/fraud/3', [], minio)),
    );
    const kube = h.events();
    expect(kube.map((e) => [e.resource?.name, e.details?.mlflow_env_unverifiable, e.details?.mlflow_env_secret_unverifiable, e.details?.artifact_endpoint_unverifiable])).toEqual([
      ['minio', undefined, ['MLFLOW_WORKSPACE', 'MLFLOW_REGISTRY_URI'], true],
      ['configmap', ['MLFLOW_WORKSPACE', 'MLFLOW_REGISTRY_URI', 'MLFLOW_S3_ENDPOINT_URL', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'S3_ENDPOINT', 'STORAGE_EMULATOR_HOST', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'AZURE_STORAGE_CONNECTION_STRING', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_PROFILE'], undefined, undefined],
      ['no-uri', expect.arrayContaining(['MLFLOW_WORKSPACE', 'MLFLOW_REGISTRY_URI', 'MLFLOW_TRACKING_URI', 'MLFLOW_S3_ENDPOINT_URL']), undefined, undefined],
    ]);
    const alerts = replayEvents([...fraud3(true), ...kube], { rules: RulesConfig.parse({}) }).alerts.filter((a) => /unapproved_deployment|model_source_unverifiable/.test(a.rule_id));
    expect(alerts.map((a) => [a.rule_id, a.entity.id, a.severity, a.details?.reason ?? a.details?.reasons])).toEqual([
      ['serving.model_source_unverifiable', 'prod/minio', 'medium', ['artifact_endpoint_unverifiable', 'mlflow_env_in_secret']],
      ['registry.unapproved_deployment', 'prod/configmap', 'critical', 'registry_unverifiable'],
      ['registry.unapproved_deployment', 'prod/no-uri', 'critical', 'registry_unverifiable'],
    ]);
    // A cluster that sets them so by design: trusted, nothing alerted.
    const trusting = await start({ artifact_endpoints: ['minio.minio.svc:9000'], trust_mlflow_env_refs: true });
    await trusting.send(TOKEN, inferenceService('minio', '2026-11-20T10:00:00Z', 'models:/fraud/3', [], minio));
    const trustedEvents = trusting.h.events();
    expect(trustedEvents[0]!.details?.mlflow_env_trusted).toEqual(expect.arrayContaining(['MLFLOW_WORKSPACE', 'MLFLOW_REGISTRY_URI', 'MLFLOW_S3_ENDPOINT_URL']));
    expect(replayEvents([...fraud3(true), ...trustedEvents], { rules: RulesConfig.parse({}) }).alerts.filter((a) => /unapproved_deployment|model_source_unverifiable/.test(a.rule_id))).toEqual([]);
  });
});

describe('KServe S3 credential annotations on a ServiceAccount or Secret', () => {
  /** An audit record of a core `resource` (serviceaccounts, secrets) `name` written in prod; `object` null: logged at level Metadata. */
  function coreWrite(resource: string, name: string, at: string, object: Obj | null): Obj {
    const ev = structuredClone(AUDIT);
    const kind = resource === 'secrets' ? 'Secret' : 'ServiceAccount';
    const body = object && { apiVersion: 'v1', kind, ...object, metadata: { name, namespace: 'prod', ...object.metadata } };
    return {
      ...ev,
      auditID: `${ev.auditID}-s3-${++seq}`,
      level: object ? 'RequestResponse' : 'Metadata',
      verb: 'create',
      requestURI: `/api/v1/namespaces/prod/${resource}`,
      user: { username: 'alice@example.com', groups: ['system:authenticated'] },
      objectRef: { resource, namespace: 'prod', name, apiVersion: 'v1' },
      responseStatus: { metadata: {}, code: 201 },
      requestObject: body ?? undefined,
      responseObject: body ?? undefined,
      requestReceivedTimestamp: at,
      stageTimestamp: at,
    };
  }
  const s3 = (endpoint: string, useHttps?: string) => ({ 'serving.kserve.io/s3-endpoint': endpoint, ...(useHttps ? { 'serving.kserve.io/s3-usehttps': useHttps } : {}) });
  /** An InferenceService loading `uri` under ServiceAccount `sa` (unset: KServe's `default`). */
  const underAccount = (name: string, at: string, uri: string, sa?: string): Obj => {
    const ev = inferenceService(name, at, uri);
    if (sa) ev.requestObject.spec.predictor.serviceAccountName = sa;
    return ev;
  };

  it('an s3:// deployment under an account whose s3-endpoint (its own or a listed Secret\'s) is not in artifact_endpoints is a finding; Secret values stay hidden', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    await send(TOKEN,
      coreWrite('serviceaccounts', 'evil-sa', '2026-11-20T09:00:00Z', { metadata: { annotations: s3('s3.attacker.example') } }),
      coreWrite('secrets', 'evil-s3', '2026-11-20T09:00:01Z', { metadata: { annotations: { ...s3('minio.evil.example:9000', '0'), 'serving.kserve.io/s3-verifyssl': '0' } }, type: 'Opaque', stringData: { AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMIK7MDENGbPxRfiCYs3cret' } }),
      coreWrite('serviceaccounts', 'via-secret', '2026-11-20T09:00:02Z', { metadata: {}, secrets: [{ name: 'evil-s3' }] }),
      coreWrite('serviceaccounts', 'good-sa', '2026-11-20T09:00:03Z', { metadata: { annotations: s3('minio.minio.svc:9000', '0') } }),
      // Logged at level Metadata: no object, nothing said.
      coreWrite('secrets', 'unseen', '2026-11-20T09:00:04Z', null),
      underAccount('evil', '2026-11-20T10:00:00Z', 's3://team/fraud/3', 'evil-sa'),
      underAccount('via', '2026-11-20T10:00:01Z', 's3://team/fraud/3', 'via-secret'),
      underAccount('good', '2026-11-20T10:00:02Z', 's3://team/fraud/3', 'good-sa'),
      underAccount('default', '2026-11-20T10:00:03Z', 's3://team/fraud/3'),
    );
    const kube = h.events();
    expect(kube.map((e) => [e.resource?.name, e.details?.kserve_s3, e.details?.predictor_service_account])).toEqual([
      ['evil-sa', { endpoint: 'https://s3.attacker.example', unlisted: true }, undefined],
      ['evil-s3', { endpoint: 'http://minio.evil.example:9000', use_https: '0', verify_ssl: '0', unlisted: true }, undefined],
      ['via-secret', { secrets: ['evil-s3'] }, undefined],
      ['good-sa', { endpoint: 'http://minio.minio.svc:9000', use_https: '0' }, undefined],
      ['unseen', undefined, undefined],
      ['evil', undefined, 'evil-sa'],
      ['via', undefined, 'via-secret'],
      ['good', undefined, 'good-sa'],
      ['default', undefined, 'default'],
    ]);
    // The annotations are kept in raw; the Secret's value is not.
    expect(JSON.stringify(kube[1]!.raw)).toContain('minio.evil.example:9000');
    expect(JSON.stringify(kube)).not.toContain('wJalrXUtnFEMIK7MDENGbPxRfiCYs3cret');
    const alerts = unapprovedAlerts(kube);
    const s3Alerts = alerts.filter((a) => a.details?.reason === 'artifact_endpoint_not_allowed');
    expect(s3Alerts.map((a) => [a.entity.id, a.severity, a.details?.artifact_endpoints_not_allowed])).toEqual([
      ['prod/evil', 'critical', { 'serviceaccount/evil-sa serving.kserve.io/s3-endpoint': 'https://s3.attacker.example' }],
      ['prod/via', 'critical', { 'secret/evil-s3 serving.kserve.io/s3-endpoint': 'http://minio.evil.example:9000' }],
    ]);
    expect(s3Alerts[0]!.summary).toContain('under ServiceAccount evil-sa, whose KServe S3 settings fetch it from https://s3.attacker.example');
  });

  it('a live s3:// deployment is judged again when its account, or a Secret it lists, is annotated later (KServe reads them at each pod); deleted or redeployed ones are not', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    const deleted = (name: string, at: string): Obj => ({ ...underAccount(name, at, 's3://team/fraud/3'), verb: 'delete', requestURI: `/apis/serving.kserve.io/v1beta1/namespaces/prod/inferenceservices/${name}`, responseStatus: { metadata: {}, code: 200 }, requestObject: undefined });
    const annotated = (resource: string, name: string, at: string, object: Obj) => ({ ...coreWrite(resource, name, at, object), verb: 'update' });
    await send(TOKEN,
      coreWrite('serviceaccounts', 'prod-sa', '2026-11-20T09:00:00Z', { metadata: {} }),
      coreWrite('serviceaccounts', 'via-secret', '2026-11-20T09:00:01Z', { metadata: {}, secrets: [{ name: 'later-s3' }] }),
      underAccount('live', '2026-11-20T10:00:00Z', 's3://team/fraud/3', 'prod-sa'),
      underAccount('via', '2026-11-20T10:00:01Z', 's3://team/fraud/3', 'via-secret'),
      underAccount('gone', '2026-11-20T10:00:02Z', 's3://team/fraud/3', 'prod-sa'),
      deleted('gone', '2026-11-20T10:30:00Z'),
      underAccount('moved', '2026-11-20T10:00:03Z', 's3://team/fraud/3', 'prod-sa'),
      underAccount('moved', '2026-11-20T10:30:01Z', 'gs://team/fraud/3', 'prod-sa'),
      // A listed endpoint annotated later says nothing.
      annotated('serviceaccounts', 'prod-sa', '2026-11-20T10:45:00Z', { metadata: { annotations: s3('minio.minio.svc:9000', '0') } }),
      annotated('serviceaccounts', 'prod-sa', '2026-11-20T11:00:00Z', { metadata: { annotations: s3('s3.attacker.example') } }),
      coreWrite('secrets', 'later-s3', '2026-11-20T11:00:01Z', { metadata: { annotations: s3('minio.evil.example:9000', '0') }, type: 'Opaque', stringData: { AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMIK7MDENGbPxRfiCYs3cret' } }),
    );
    const kube = h.events();
    expect(kube.find((e) => e.resource?.name === 'gone' && e.action === 'endpoint.delete')).toBeDefined();
    const alerts = unapprovedAlerts(kube).filter((a) => a.details?.reason === 'artifact_endpoint_not_allowed');
    const byId = (name: string, at: string) => kube.find((e) => e.resource?.name === name && e.time.startsWith(at.slice(0, 19)))!.id;
    expect(alerts.map((a) => [a.entity.id, a.time, a.evidence, a.details?.artifact_endpoints_not_allowed, a.details?.changed_by])).toEqual([
      ['prod/live', '2026-11-20T11:00:00.000Z', [byId('prod-sa', '2026-11-20T11:00:00'), byId('live', '2026-11-20T10:00:00')], { 'serviceaccount/prod-sa serving.kserve.io/s3-endpoint': 'https://s3.attacker.example' }, 'alice@example.com'],
      ['prod/via', '2026-11-20T11:00:01.000Z', [byId('later-s3', '2026-11-20T11:00:01'), byId('via', '2026-11-20T10:00:01')], { 'secret/later-s3 serving.kserve.io/s3-endpoint': 'http://minio.evil.example:9000' }, 'alice@example.com'],
    ]);
    expect(alerts[0]!.summary).toContain('ServiceAccount prod-sa annotated at 2026-11-20T11:00:00');
    expect(JSON.stringify(alerts)).not.toContain('wJalrXUtnFEMIK7MDENGbPxRfiCYs3cret');
  });
  it('a ServiceAccount annotated by a Request-level patch (kubectl annotate: a merge patch; or a JSON patch) is read on the account it patched, or alone where none was seen', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    /** A Request-level patch of core object `resource`/`name`: the patch body, no object. */
    const patched = (resource: string, name: string, at: string, body: unknown): Obj => ({ ...coreWrite(resource, name, at, null), level: 'Request', verb: 'patch', requestURI: `/api/v1/namespaces/prod/${resource}/${name}`, responseStatus: { metadata: {}, code: 200 }, requestObject: body });
    await send(TOKEN,
      coreWrite('serviceaccounts', 'merge-sa', '2026-11-20T09:00:00Z', { metadata: {} }),
      coreWrite('serviceaccounts', 'json-sa', '2026-11-20T09:00:01Z', { metadata: { annotations: s3('minio.minio.svc:9000', '0') } }),
      coreWrite('serviceaccounts', 'via-secret', '2026-11-20T09:00:02Z', { metadata: {}, secrets: [{ name: 'creds' }] }),
      coreWrite('secrets', 'creds', '2026-11-20T09:00:03Z', { metadata: {}, type: 'Opaque', stringData: { AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMIK7MDENGbPxRfiCYs3cret' } }),
      underAccount('merge', '2026-11-20T10:00:00Z', 's3://team/fraud/3', 'merge-sa'),
      underAccount('json', '2026-11-20T10:00:01Z', 's3://team/fraud/3', 'json-sa'),
      underAccount('via', '2026-11-20T10:00:02Z', 's3://team/fraud/3', 'via-secret'),
      underAccount('unseen', '2026-11-20T10:00:03Z', 's3://team/fraud/3', 'unseen-sa'),
      // kubectl annotate sa merge-sa serving.kserve.io/s3-endpoint=s3.attacker.example
      patched('serviceaccounts', 'merge-sa', '2026-11-20T11:00:00Z', { metadata: { annotations: s3('s3.attacker.example') } }),
      patched('serviceaccounts', 'json-sa', '2026-11-20T11:00:01Z', [{ op: 'replace', path: '/metadata/annotations/serving.kserve.io~1s3-endpoint', value: 'minio.evil.example:9000' }]),
      patched('secrets', 'creds', '2026-11-20T11:00:02Z', { metadata: { annotations: s3('s3.attacker.example') } }),
      // An account created before the log was read: what the patch sets is read alone.
      patched('serviceaccounts', 'unseen-sa', '2026-11-20T11:00:03Z', { metadata: { annotations: s3('s3.attacker.example') } }),
    );
    const kube = h.events();
    const patches = kube.filter((e) => e.operation?.startsWith('patch'));
    expect(patches.map((e) => [e.resource?.name, e.details?.kserve_s3, e.details?.patch_type, e.details?.patch_base_unknown])).toEqual([
      ['merge-sa', { endpoint: 'https://s3.attacker.example', unlisted: true }, 'merge', undefined],
      ['json-sa', { endpoint: 'http://minio.evil.example:9000', use_https: '0', unlisted: true }, 'json', undefined],
      ['creds', { endpoint: 'https://s3.attacker.example', unlisted: true }, 'merge', undefined],
      ['unseen-sa', { endpoint: 'https://s3.attacker.example', unlisted: true }, 'merge', true],
    ]);
    expect(JSON.stringify(kube)).not.toContain('wJalrXUtnFEMIK7MDENGbPxRfiCYs3cret');
    expect(unapprovedAlerts(kube).filter((a) => a.details?.reason === 'artifact_endpoint_not_allowed').map((a) => [a.entity.id, a.details?.artifact_endpoints_not_allowed])).toEqual([
      ['prod/merge', { 'serviceaccount/merge-sa serving.kserve.io/s3-endpoint': 'https://s3.attacker.example' }],
      ['prod/json', { 'serviceaccount/json-sa serving.kserve.io/s3-endpoint': 'http://minio.evil.example:9000' }],
      ['prod/via', { 'secret/creds serving.kserve.io/s3-endpoint': 'https://s3.attacker.example' }],
      ['prod/unseen', { 'serviceaccount/unseen-sa serving.kserve.io/s3-endpoint': 'https://s3.attacker.example' }],
    ]);
    // After a restart (no object kept): a patch of the account's annotation alone leaves the Secrets it lists as known.
    const restarted = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    await restarted.send(TOKEN,
      patched('serviceaccounts', 'via-secret', '2026-11-20T12:00:00Z', { metadata: { annotations: s3('minio.minio.svc:9000', '0') } }),
      patched('secrets', 'creds', '2026-11-20T12:00:01Z', { metadata: { annotations: s3('s3.other.example') } }),
    );
    const later = unapprovedAlerts([...kube, ...restarted.h.events()]).filter((a) => a.time >= '2026-11-20T12');
    expect(later.map((a) => [a.entity.id, a.details?.artifact_endpoints_not_allowed])).toEqual([['prod/via', { 'secret/creds serving.kserve.io/s3-endpoint': 'https://s3.other.example' }]]);
  });

  it('a patch of an account never seen that removes its s3-endpoint, or lists a Secret, is said: the endpoint known goes, the Secret joins those known', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    const patched = (resource: string, name: string, at: string, body: unknown): Obj => ({ ...coreWrite(resource, name, at, null), level: 'Request', verb: 'patch', requestURI: `/api/v1/namespaces/prod/${resource}/${name}`, responseStatus: { metadata: {}, code: 200 }, requestObject: body });
    await send(TOKEN,
      coreWrite('secrets', 'evil-s3', '2026-11-20T09:00:00Z', { metadata: { annotations: s3('s3.attacker.example') }, type: 'Opaque' }),
      // kubectl annotate sa <name> serving.kserve.io/s3-endpoint=s3.attacker.example, then with `serving.kserve.io/s3-endpoint-`.
      patched('serviceaccounts', 'merge-sa', '2026-11-20T09:00:01Z', { metadata: { annotations: s3('s3.attacker.example') } }),
      patched('serviceaccounts', 'merge-sa', '2026-11-20T09:00:02Z', { metadata: { annotations: { 'serving.kserve.io/s3-endpoint': null } } }),
      patched('serviceaccounts', 'json-sa', '2026-11-20T09:00:03Z', { metadata: { annotations: s3('s3.attacker.example') } }),
      patched('serviceaccounts', 'json-sa', '2026-11-20T09:00:04Z', [{ op: 'remove', path: '/metadata/annotations/serving.kserve.io~1s3-endpoint' }]),
      patched('serviceaccounts', 'listing-sa', '2026-11-20T09:00:05Z', { metadata: { annotations: { team: 'fraud' } } }),
      underAccount('merge', '2026-11-20T10:00:00Z', 's3://team/fraud/3', 'merge-sa'),
      underAccount('json', '2026-11-20T10:00:01Z', 's3://team/fraud/3', 'json-sa'),
      underAccount('listing', '2026-11-20T10:00:02Z', 's3://team/fraud/3', 'listing-sa'),
      // kubectl patch sa listing-sa -p '{"secrets":[{"name":"evil-s3"}]}'
      patched('serviceaccounts', 'listing-sa', '2026-11-20T11:00:00Z', { secrets: [{ name: 'evil-s3' }] }),
      // A strategic merge patch (kubectl patch's default for a ServiceAccount) adds a Secret by name: evil-s3 stays listed.
      patched('serviceaccounts', 'listing-sa', '2026-11-20T11:00:01Z', { secrets: [{ name: 'other-creds' }] }),
      underAccount('listing-2', '2026-11-20T11:30:00Z', 's3://team/fraud/3', 'listing-sa'),
      // A Secret listed on an account whose endpoint was annotated: the endpoint stays.
      patched('serviceaccounts', 'kept-sa', '2026-11-20T11:00:02Z', { metadata: { annotations: s3('s3.attacker.example') } }),
      patched('serviceaccounts', 'kept-sa', '2026-11-20T11:00:03Z', { secrets: [{ name: 'other-creds' }] }),
      underAccount('kept', '2026-11-20T11:30:01Z', 's3://team/fraud/3', 'kept-sa'),
    );
    const kube = h.events();
    expect(kube.filter((e) => e.operation?.startsWith('patch')).map((e) => [e.resource?.name, e.details?.kserve_s3, e.details?.patch_base_unknown])).toEqual([
      ['merge-sa', { endpoint: 'https://s3.attacker.example', unlisted: true }, true],
      ['merge-sa', { endpoint_removed: true }, true],
      ['json-sa', { endpoint: 'https://s3.attacker.example', unlisted: true }, true],
      ['json-sa', { endpoint_removed: true }, true],
      ['listing-sa', undefined, true],
      ['listing-sa', { secrets: ['evil-s3'] }, true],
      ['listing-sa', { secrets: ['other-creds'] }, true],
      ['kept-sa', { endpoint: 'https://s3.attacker.example', unlisted: true }, true],
      ['kept-sa', { secrets: ['other-creds'] }, true],
    ]);
    // The annotations removed fetch from S3's own endpoint again: no finding; the Secret listed later redirects `listing`.
    expect(unapprovedAlerts(kube).filter((a) => a.details?.reason === 'artifact_endpoint_not_allowed').map((a) => [a.entity.id, a.details?.artifact_endpoints_not_allowed])).toEqual([
      ['prod/listing', { 'secret/evil-s3 serving.kserve.io/s3-endpoint': 'https://s3.attacker.example' }],
      ['prod/listing-2', { 'secret/evil-s3 serving.kserve.io/s3-endpoint': 'https://s3.attacker.example' }],
      ['prod/kept', { 'serviceaccount/kept-sa serving.kserve.io/s3-endpoint': 'https://s3.attacker.example' }],
    ]);
  });

  it('an s3-endpoint removed from an account seen (kubectl annotate …-, an update without it) or a Secret unlisted is said, and later deployments under it are not findings', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    const patched = (name: string, at: string, body: unknown): Obj => ({ ...coreWrite('serviceaccounts', name, at, null), level: 'Request', verb: 'patch', requestURI: `/api/v1/namespaces/prod/serviceaccounts/${name}`, responseStatus: { metadata: {}, code: 200 }, requestObject: body });
    const updated = (name: string, at: string, object: Obj) => ({ ...coreWrite('serviceaccounts', name, at, object), verb: 'update' });
    await send(TOKEN,
      coreWrite('secrets', 'evil-s3', '2026-11-20T09:00:00Z', { metadata: { annotations: s3('s3.attacker.example') }, type: 'Opaque' }),
      coreWrite('serviceaccounts', 'annotated', '2026-11-20T09:00:01Z', { metadata: { annotations: s3('s3.attacker.example') } }),
      coreWrite('serviceaccounts', 'updated', '2026-11-20T09:00:02Z', { metadata: { annotations: s3('s3.attacker.example') } }),
      coreWrite('serviceaccounts', 'listing', '2026-11-20T09:00:03Z', { metadata: {}, secrets: [{ name: 'evil-s3' }] }),
      // The finding, then the fix: kubectl annotate sa annotated serving.kserve.io/s3-endpoint-
      underAccount('before', '2026-11-20T09:30:00Z', 's3://team/fraud/3', 'annotated'),
      patched('annotated', '2026-11-20T10:00:00Z', { metadata: { annotations: { 'serving.kserve.io/s3-endpoint': null } } }),
      updated('updated', '2026-11-20T10:00:01Z', { metadata: { labels: { team: 'fraud' } } }),
      updated('listing', '2026-11-20T10:00:02Z', { metadata: {} }),
      underAccount('annotated', '2026-11-20T11:00:00Z', 's3://team/fraud/3', 'annotated'),
      underAccount('updated', '2026-11-20T11:00:01Z', 's3://team/fraud/3', 'updated'),
      underAccount('listing', '2026-11-20T11:00:02Z', 's3://team/fraud/3', 'listing'),
    );
    const kube = h.events();
    expect(kube.filter((e) => e.time >= '2026-11-20T10' && e.time < '2026-11-20T11').map((e) => [e.resource?.name, e.details?.kserve_s3])).toEqual([
      ['annotated', { endpoint_removed: true }],
      ['updated', { endpoint_removed: true }],
      ['listing', { secrets: [] }],
    ]);
    expect(unapprovedAlerts(kube).filter((a) => a.details?.reason === 'artifact_endpoint_not_allowed').map((a) => a.entity.id)).toEqual(['prod/before']);
  });

  it('a ServiceAccount patched with Secrets of its own (kubectl patch: a strategic merge patch by name) keeps those it listed; $patch directives apply', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    const patched = (name: string, at: string, body: unknown): Obj => ({ ...coreWrite('serviceaccounts', name, at, null), level: 'Request', verb: 'patch', requestURI: `/api/v1/namespaces/prod/serviceaccounts/${name}`, responseStatus: { metadata: {}, code: 200 }, requestObject: body });
    await send(TOKEN,
      coreWrite('secrets', 'evil-s3', '2026-11-20T09:00:00Z', { metadata: { annotations: s3('s3.attacker.example') }, type: 'Opaque' }),
      coreWrite('serviceaccounts', 'added', '2026-11-20T09:00:01Z', { metadata: {}, secrets: [{ name: 'evil-s3' }] }),
      coreWrite('serviceaccounts', 'deleted', '2026-11-20T09:00:02Z', { metadata: {}, secrets: [{ name: 'evil-s3' }] }),
      // kubectl patch sa added -p '{"secrets":[{"name":"other-creds"}]}': evil-s3 stays listed.
      patched('added', '2026-11-20T10:00:00Z', { secrets: [{ name: 'other-creds' }] }),
      patched('deleted', '2026-11-20T10:00:01Z', { secrets: [{ name: 'evil-s3', $patch: 'delete' }] }),
      underAccount('added', '2026-11-20T11:00:00Z', 's3://team/fraud/3', 'added'),
      underAccount('deleted', '2026-11-20T11:00:01Z', 's3://team/fraud/3', 'deleted'),
    );
    const kube = h.events();
    expect(kube.filter((e) => e.operation?.startsWith('patch')).map((e) => [e.resource?.name, e.details?.kserve_s3])).toEqual([
      ['added', { secrets: ['evil-s3', 'other-creds'] }],
      ['deleted', { secrets: [] }],
    ]);
    expect(unapprovedAlerts(kube).filter((a) => a.details?.reason === 'artifact_endpoint_not_allowed').map((a) => [a.entity.id, a.details?.artifact_endpoints_not_allowed])).toEqual([
      ['prod/added', { 'secret/evil-s3 serving.kserve.io/s3-endpoint': 'https://s3.attacker.example' }],
    ]);
  });

  it('a patch that only moves a predictor to another ServiceAccount (merge or JSON patch) redeploys its stored s3:// URI under it', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    /** A patch of InferenceService `name` (created under `good-sa`) whose request is `request`, stored under `now`. */
    const moved = (name: string, at: string, request: unknown, now: string): Obj => {
      const ev = underAccount(name, at, 's3://team/fraud/3', 'good-sa');
      const stored = structuredClone(ev.requestObject);
      stored.spec.predictor.serviceAccountName = now;
      return { ...ev, verb: 'patch', requestURI: `${ev.requestURI}/${name}`, responseStatus: { metadata: {}, code: 200 }, requestObject: request, responseObject: stored };
    };
    await send(TOKEN,
      coreWrite('serviceaccounts', 'good-sa', '2026-11-20T09:00:00Z', { metadata: { annotations: s3('minio.minio.svc:9000', '0') } }),
      coreWrite('serviceaccounts', 'evil-sa', '2026-11-20T09:00:01Z', { metadata: { annotations: s3('s3.attacker.example') } }),
      underAccount('merge', '2026-11-20T10:00:00Z', 's3://team/fraud/3', 'good-sa'),
      underAccount('json', '2026-11-20T10:00:01Z', 's3://team/fraud/3', 'good-sa'),
      moved('merge', '2026-11-20T11:00:00Z', { spec: { predictor: { serviceAccountName: 'evil-sa' } } }, 'evil-sa'),
      moved('json', '2026-11-20T11:00:01Z', [{ op: 'replace', path: '/spec/predictor/serviceAccountName', value: 'evil-sa' }], 'evil-sa'),
      // A label patch deploys nothing.
      moved('merge', '2026-11-20T11:00:02Z', { metadata: { labels: { team: 'fraud' } } }, 'evil-sa'),
    );
    const patches = h.events().filter((e) => e.action === 'endpoint.update');
    expect(patches.map((e) => [e.resource?.name, e.ml?.deployment?.model_uri, e.details?.predictor_service_account])).toEqual([
      ['merge', 's3://team/fraud/3', 'evil-sa'],
      ['json', 's3://team/fraud/3', 'evil-sa'],
      ['merge', undefined, undefined],
    ]);
    expect(unapprovedAlerts(h.events()).filter((a) => a.details?.reason === 'artifact_endpoint_not_allowed').map((a) => [a.entity.id, a.details?.service_account])).toEqual([
      ['prod/merge', 'evil-sa'],
      ['prod/json', 'evil-sa'],
    ]);
  });
});

describe('config', () => {
  it('artifact_endpoints: hosts, host:ports or URLs, top level and per cluster', () => {
    const cfg = loadConfig({ env: {}, overrides: { connectors: { kubeflow: { artifact_endpoints: ['minio.minio.svc:9000', 'https://s3.eu-west-1.amazonaws.com'], clusters: [{ id: 'b', token: 't1', artifact_endpoints: ['proxy.corp:3128'] }] } } } });
    const kf = cfg.connectors.kubeflow as KubeflowConfig;
    expect([kf.artifact_endpoints, kf.clusters[0]!.artifact_endpoints]).toEqual([['minio.minio.svc:9000', 'https://s3.eu-west-1.amazonaws.com'], ['proxy.corp:3128']]);
    expect(() => loadConfig({ env: {}, overrides: { connectors: { kubeflow: { artifact_endpoints: ['http://'] } } } })).toThrow(/connectors\.kubeflow\.artifact_endpoints\.0: expected a host, host:port or URL/);
    expect(KubeflowConfig.safeParse({ clusters: [{ id: 'b', token: 't', artifact_endpoints: 'minio:9000' }] }).success).toBe(false);
  });

  it('artifact_endpoints: a wildcard or a CIDR range, which would match no endpoint, is an error naming the entry', () => {
    const load = (kubeflow: Record<string, unknown>) => () => loadConfig({ env: {}, overrides: { connectors: { kubeflow } } });
    expect(load({ artifact_endpoints: ['minio.minio.svc:9000', '*.corp.example.com'] })).toThrow(/connectors\.kubeflow\.artifact_endpoints\.1: a wildcard matches no endpoint/);
    expect(load({ clusters: [{ id: 'b', token: 't1', artifact_endpoints: ['10.0.0.0/8'] }] })).toThrow(/connectors\.kubeflow\.clusters\.0\.artifact_endpoints\.0: without a scheme an entry is a host or host:port/);
    // An empty entry is said once, with what is expected (not a second, generic "Too small" line).
    expect(load({ artifact_endpoints: [' '] })).toThrow(/^(?![\s\S]*Too small)[\s\S]*connectors\.kubeflow\.artifact_endpoints\.0: expected a host, host:port or URL/);
    // A URL keeps its path (compared by host), a bare host its trailing slash, a proxy its user-info.
    expect(load({ artifact_endpoints: ['https://minio.corp/bucket/models', 'minio.corp:9000/', 'bob:s3cret@proxy.corp:3128'] })).not.toThrow();
  });
});

describe('a ServingRuntime whose serving container env redirects the models that select it', () => {
  /** An audit record of a write of runtime `name` (a ClusterServingRuntime with `namespace` null) whose kserve-container has `env`. */
  function runtime(name: string, at: string, containerEnv: Env, namespace: string | null = 'prod'): Obj {
    const ev = structuredClone(AUDIT);
    const resource = namespace ? 'servingruntimes' : 'clusterservingruntimes';
    const spec = { supportedModelFormats: [{ name: 'mlflow', version: '2' }], protocolVersions: ['v2'], containers: [{ name: 'kserve-container', image: 'docker.io/seldonio/mlserver:1.6.1', env: containerEnv }] };
    return {
      ...ev,
      auditID: `${ev.auditID}-rt-${++seq}`,
      verb: 'create',
      requestURI: `/apis/serving.kserve.io/v1alpha1/${namespace ? `namespaces/${namespace}/` : ''}${resource}`,
      user: { username: 'alice@example.com', groups: ['system:authenticated'] },
      objectRef: { resource, ...(namespace ? { namespace } : {}), name, apiGroup: 'serving.kserve.io', apiVersion: 'v1alpha1' },
      responseStatus: { metadata: {}, code: 201 },
      requestObject: { apiVersion: 'serving.kserve.io/v1alpha1', kind: namespace ? 'ServingRuntime' : 'ClusterServingRuntime', metadata: { name, ...(namespace ? { namespace } : {}) }, spec },
      responseObject: undefined,
      requestReceivedTimestamp: at,
      stageTimestamp: at,
    };
  }
  /** `runtime` as a patch: `requestObject` the patch, `responseObject` the stored object after it. */
  const patchedRuntime = (name: string, at: string, request: unknown, storedEnv: Env): Obj => {
    const ev = runtime(name, at, storedEnv);
    return { ...ev, verb: 'patch', requestURI: `${ev.requestURI}/${name}`, responseStatus: { metadata: {}, code: 200 }, requestObject: request, responseObject: ev.requestObject };
  };
  const fired = (events: NormalizedEvent[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'serving.runtime_model_source');

  it('an unwatched registry URI or an endpoint not allowed is a serving.runtime_model_source finding; watched and listed ones are not', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    const good = [TRACKING, env('MLFLOW_S3_ENDPOINT_URL', 'http://minio.minio.svc:9000')];
    await send(TOKEN,
      runtime('mlflow-evil', '2026-11-20T10:00:00Z', [env('MLFLOW_TRACKING_URI', 'https://bob:s3cret@mlflow.attacker.example'), env('AWS_ENDPOINT_URL', 'https://s3.attacker.example')]),
      runtime('mlflow-good', '2026-11-20T10:00:01Z', good),
      runtime('cluster-good', '2026-11-20T10:00:02Z', good, null),
      // Pointed elsewhere later by a JSON patch of one value: judged on the stored object.
      patchedRuntime('mlflow-good', '2026-11-20T11:00:00Z', [{ op: 'replace', path: '/spec/containers/0/env/1/value', value: 'http://minio.evil.example:9000' }], [TRACKING, env('MLFLOW_S3_ENDPOINT_URL', 'http://minio.evil.example:9000')]),
      // A label changes no container: nothing said of the env again.
      patchedRuntime('mlflow-evil', '2026-11-20T12:00:00Z', { metadata: { labels: { team: 'fraud' } } }, [env('MLFLOW_TRACKING_URI', 'https://mlflow.attacker.example')]),
    );
    const kube = h.events();
    expect(kube.map((e) => [e.resource?.type, e.resource?.name, e.ml?.deployment?.mlflow_registry_uri, e.ml?.deployment?.mlflow_server, e.details?.mlflow_registry_unwatched, e.details?.artifact_endpoint_unlisted])).toEqual([
      ['servingruntimes', 'mlflow-evil', 'https://mlflow.attacker.example', undefined, true, ['AWS_ENDPOINT_URL']],
      ['servingruntimes', 'mlflow-good', 'http://mlflow.team.svc:5000', undefined, undefined, undefined],
      ['clusterservingruntimes', 'cluster-good', 'http://mlflow.team.svc:5000', undefined, undefined, undefined],
      ['servingruntimes', 'mlflow-good', 'http://mlflow.team.svc:5000', undefined, undefined, ['MLFLOW_S3_ENDPOINT_URL']],
      ['servingruntimes', 'mlflow-evil', undefined, undefined, undefined, undefined],
    ]);
    expect(JSON.stringify(kube.map((e) => ({ ...e, raw: undefined })))).not.toContain('s3cret');
    const alerts = fired(kube);
    expect(alerts.map((a) => [a.entity.id, a.severity, a.details?.reasons, a.details?.mlflow_registry_uri, a.details?.artifact_endpoints_not_allowed])).toEqual([
      ['prod/mlflow-evil', 'high', ['unwatched_registry', 'artifact_endpoint_not_allowed'], 'https://mlflow.attacker.example', { AWS_ENDPOINT_URL: 'https://s3.attacker.example' }],
      ['prod/mlflow-good', 'high', ['artifact_endpoint_not_allowed'], undefined, { MLFLOW_S3_ENDPOINT_URL: 'http://minio.evil.example:9000' }],
    ]);
    expect(alerts[0]!.summary).toBe("prod/mlflow-evil (kubeflow) loads models:/ URIs from https://mlflow.attacker.example, which no configured MLflow server has, and fetches model bytes from or through AWS_ENDPOINT_URL=https://s3.attacker.example, which the cluster's artifact_endpoints does not list: every model deployed on it that does not set these itself does too (written by alice@example.com)");
    // A runtime deploys no model: no deployment finding of its own.
    expect(replayEvents(kube, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment')).toEqual([]);
  });
  /** An InferenceService record loading `models:/fraud/3` on the serving runtime `runtime` (spec.predictor.model.runtime). */
  const onRuntime = (name: string, at: string, runtime: string, extra: Env = []): Obj => {
    const ev = inferenceService(name, at, 'models:/fraud/3', extra);
    ev.requestObject.spec.predictor.model.runtime = runtime;
    return ev;
  };
  /** In arrival order, as the bridge judges a live stream (replay sorts by event time). */
  const arriving = (events: NormalizedEvent[]) => {
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    return events.flatMap((e) => engine.process(e, Date.parse(e.time))).filter((a) => a.rule_id === 'registry.unapproved_deployment');
  };

  it('a models:/ deployment naming a flagged runtime is judged by the runtime env its own does not override, also when the runtime write is read late', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    await send(TOKEN,
      runtime('s3-evil', '2026-11-20T09:00:00Z', [TRACKING, env('AWS_ENDPOINT_URL', 'https://s3.attacker.example')]),
      runtime('registry-evil', '2026-11-20T09:00:01Z', [env('MLFLOW_REGISTRY_URI', 'https://mlflow.attacker.example')]),
      runtime('cluster-evil', '2026-11-20T09:00:02Z', [env('MLFLOW_S3_ENDPOINT_URL', 'http://minio.evil.example:9000')], null),
      runtime('good', '2026-11-20T09:00:03Z', [TRACKING, env('MLFLOW_S3_ENDPOINT_URL', 'http://minio.minio.svc:9000')]),
      onRuntime('on-s3-evil', '2026-11-20T10:00:00Z', 's3-evil'),
      // The InferenceService's env wins over the runtime's for the names it sets.
      onRuntime('overrides', '2026-11-20T10:00:01Z', 's3-evil', [env('AWS_ENDPOINT_URL', 'http://minio.minio.svc:9000')]),
      // MLflow reads MLFLOW_REGISTRY_URI before the MLFLOW_TRACKING_URI the InferenceService sets.
      onRuntime('on-registry-evil', '2026-11-20T10:00:02Z', 'registry-evil'),
      // No ServingRuntime of the name in its namespace: the ClusterServingRuntime.
      onRuntime('on-cluster-evil', '2026-11-20T10:00:03Z', 'cluster-evil'),
      onRuntime('on-good', '2026-11-20T10:00:04Z', 'good'),
    );
    const kube = h.events();
    expect(kube.filter((e) => e.resource?.type === 'inferenceservices').map((e) => [e.resource?.name, e.details?.serving_runtime, e.details?.mlflow_registry_env])).toEqual([
      ['on-s3-evil', 's3-evil', 'MLFLOW_TRACKING_URI'],
      ['overrides', 's3-evil', 'MLFLOW_TRACKING_URI'],
      ['on-registry-evil', 'registry-evil', 'MLFLOW_TRACKING_URI'],
      ['on-cluster-evil', 'cluster-evil', 'MLFLOW_TRACKING_URI'],
      ['on-good', 'good', 'MLFLOW_TRACKING_URI'],
    ]);
    const expected = [
      ['prod/on-s3-evil', 'artifact_endpoint_not_allowed', 'prod/s3-evil', { AWS_ENDPOINT_URL: 'https://s3.attacker.example' }, undefined],
      ['prod/on-registry-evil', 'unwatched_registry', 'prod/registry-evil', undefined, 'https://mlflow.attacker.example'],
      ['prod/on-cluster-evil', 'artifact_endpoint_not_allowed', 'cluster-evil', { MLFLOW_S3_ENDPOINT_URL: 'http://minio.evil.example:9000' }, undefined],
    ];
    const shown = (alerts: Array<{ entity: { id: string }; details?: Record<string, unknown> }>) => alerts.map((a) => [a.entity.id, a.details?.reason, a.details?.serving_runtime, a.details?.runtime_artifact_env, a.details?.runtime_registry_uri]);
    // fraud v3 is approved in team's registry: only the runtime's env makes these findings.
    expect(shown(unapprovedAlerts([...fraud3(true), ...kube]))).toEqual(expected);
    // Read in another order than written (the runtimes' records last): the deployments waited for them.
    const runtimes = kube.filter((e) => e.resource?.type !== 'inferenceservices');
    const deployments = kube.filter((e) => e.resource?.type === 'inferenceservices');
    expect(shown(arriving([...fraud3(true), ...deployments, ...runtimes]))).toEqual(expected);
  });

  it("a runtime's literal registry URI or endpoint is not overridden by a predictor's envFrom Secret (an env entry wins over envFrom), only by a name its env lists", async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    /** A predictor on `rt` taking its S3 credentials from an unprefixed Secret (envFrom), as MinIO installs do. */
    const withSecretEnv = (name: string, at: string, rt: string, extra: Env = []) => {
      const ev = inferenceService(name, at, 'models:/fraud/3', extra, [{ secretRef: { name: 'minio-creds' } }]);
      ev.requestObject.spec.predictor.model.runtime = rt;
      return ev;
    };
    await send(TOKEN,
      runtime('registry-evil', '2026-11-20T09:00:00Z', [env('MLFLOW_REGISTRY_URI', 'https://mlflow.attacker.example')]),
      runtime('s3-evil', '2026-11-20T09:00:01Z', [TRACKING, env('AWS_ENDPOINT_URL', 'https://s3.attacker.example')]),
      withSecretEnv('on-registry-evil', '2026-11-20T10:00:00Z', 'registry-evil'),
      withSecretEnv('on-s3-evil', '2026-11-20T10:00:01Z', 's3-evil'),
      withSecretEnv('overrides', '2026-11-20T10:00:02Z', 's3-evil', [env('AWS_ENDPOINT_URL', 'http://minio.minio.svc:9000')]),
    );
    const alerts = unapprovedAlerts([...fraud3(true), ...h.events()]);
    expect(alerts.map((a) => [a.entity.id, a.severity, a.details?.reason, a.details?.runtime_registry_uri ?? a.details?.runtime_artifact_env])).toEqual([
      ['prod/on-registry-evil', 'critical', 'unwatched_registry', 'https://mlflow.attacker.example'],
      ['prod/on-s3-evil', 'critical', 'artifact_endpoint_not_allowed', { AWS_ENDPOINT_URL: 'https://s3.attacker.example' }],
    ]);
  });

  it("the namespace's runtime of the name is used while it exists at the deployment's time; once deleted, or before it was made, the cluster's", async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    const removed = (name: string, at: string): Obj => {
      const ev = runtime(name, at, []);
      return { ...ev, verb: 'delete', requestURI: `${ev.requestURI}/${name}`, responseStatus: { metadata: {}, code: 200 }, requestObject: undefined };
    };
    await send(TOKEN,
      runtime('shared', '2026-11-20T09:00:00Z', [env('MLFLOW_S3_ENDPOINT_URL', 'http://minio.evil.example:9000')], null),
      runtime('shared', '2026-11-20T09:30:00Z', [TRACKING, env('MLFLOW_S3_ENDPOINT_URL', 'http://minio.minio.svc:9000')]),
      onRuntime('before-own', '2026-11-20T09:10:00Z', 'shared'),
      onRuntime('own', '2026-11-20T10:00:00Z', 'shared'),
      removed('shared', '2026-11-20T10:30:00Z'),
      onRuntime('after-delete', '2026-11-20T11:00:00Z', 'shared'),
    );
    const kube = h.events();
    expect(kube.filter((e) => e.resource?.type === 'servingruntimes').map((e) => e.action)).toEqual(['resource.create', 'resource.delete']);
    const shown = (alerts: Array<{ entity: { id: string }; details?: Record<string, unknown> }>) => alerts.map((a) => [a.entity.id, a.details?.serving_runtime, a.details?.runtime_artifact_env]);
    const expected = [
      ['prod/before-own', 'shared', { MLFLOW_S3_ENDPOINT_URL: 'http://minio.evil.example:9000' }],
      ['prod/after-delete', 'shared', { MLFLOW_S3_ENDPOINT_URL: 'http://minio.evil.example:9000' }],
    ];
    expect(shown(unapprovedAlerts([...fraud3(true), ...kube]))).toEqual(expected);
    // In arrival order with the deployments read last: each still judged by the runtime there at its time.
    const runtimes = kube.filter((e) => e.resource?.type !== 'inferenceservices');
    const deployments = kube.filter((e) => e.resource?.type === 'inferenceservices');
    expect(shown(arriving([...fraud3(true), ...runtimes, ...deployments]))).toEqual(expected);
  });

  it("a runtime's registry URI the log does not show is the critical registry_unverifiable of the models on it that do not set the name, as their own would be", async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    const ref = (name: string) => ({ name, valueFrom: { secretKeyRef: { name: 'mlflow-conf', key: name } } });
    await send(TOKEN,
      runtime('hidden-registry', '2026-11-20T09:00:00Z', [ref('MLFLOW_REGISTRY_URI')]),
      runtime('hidden-tracking', '2026-11-20T09:00:01Z', [ref('MLFLOW_TRACKING_URI')]),
      // MLflow reads the runtime's MLFLOW_REGISTRY_URI before the InferenceService's MLFLOW_TRACKING_URI.
      onRuntime('on-hidden-registry', '2026-11-20T10:00:00Z', 'hidden-registry'),
      // Its own MLFLOW_TRACKING_URI (the builder's) replaces the runtime's: nothing hidden reaches it.
      onRuntime('on-hidden-tracking', '2026-11-20T10:00:01Z', 'hidden-tracking'),
      onRuntime('sets-registry', '2026-11-20T10:00:02Z', 'hidden-registry', [env('MLFLOW_REGISTRY_URI', 'http://mlflow.team.svc:5000')]),
    );
    const kube = h.events();
    const alerts = unapprovedAlerts([...fraud3(true), ...kube]);
    expect(alerts.map((a) => [a.entity.id, a.severity, a.details?.reason, a.details?.mlflow_env_unverifiable, a.details?.serving_runtime, a.details?.runtime_env_unverifiable])).toEqual([
      ['prod/on-hidden-registry', 'critical', 'registry_unverifiable', ['MLFLOW_REGISTRY_URI'], 'prod/hidden-registry', ['MLFLOW_REGISTRY_URI']],
    ]);
    // Read before the runtime's write: judged when it arrives.
    const runtimes = kube.filter((e) => e.resource?.type !== 'inferenceservices');
    const deployments = kube.filter((e) => e.resource?.type === 'inferenceservices');
    expect(arriving([...fraud3(true), ...deployments, ...runtimes]).map((a) => [a.entity.id, a.details?.reason])).toEqual([['prod/on-hidden-registry', 'registry_unverifiable']]);
  });

  it("a runtime's artifact endpoint the log does not show (valueFrom, envFrom, AWS_PROFILE) is the models' own doubt: medium beside a literal registry URI, part of the registry doubt beside a hidden one; a literal on the predictor overrides it", async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    const secret = (key: string) => ({ secretKeyRef: { name: 's3-conf', key } });
    const rt = runtime('hidden-s3', '2026-11-20T09:00:00Z', [TRACKING, { name: 'AWS_ENDPOINT_URL', valueFrom: secret('endpoint') }]);
    // An AWS profile set on the runtime (its endpoint_url is in a file the log never shows), and an envFrom that can make AWS_ENDPOINT_URL.
    const profile = runtime('profile', '2026-11-20T09:00:01Z', [TRACKING, env('AWS_PROFILE', 'minio')]);
    const prefixed = runtime('prefixed', '2026-11-20T09:00:02Z', [TRACKING]);
    prefixed.requestObject.spec.containers[0].envFrom = [{ prefix: 'AWS_ENDPOINT_', configMapRef: { name: 's3' } }];
    // A hidden registry URI beside the hidden endpoint: on a model that overrides the registry, the endpoint alone is left.
    const both = runtime('hidden-both', '2026-11-20T09:00:03Z', [{ name: 'MLFLOW_TRACKING_URI', valueFrom: secret('uri') }, { name: 'AWS_ENDPOINT_URL', valueFrom: secret('endpoint') }]);
    await send(TOKEN,
      rt, profile, prefixed, both,
      onRuntime('on-hidden-s3', '2026-11-20T10:00:00Z', 'hidden-s3'),
      onRuntime('on-profile', '2026-11-20T10:00:01Z', 'profile'),
      onRuntime('on-prefixed', '2026-11-20T10:00:02Z', 'prefixed'),
      // KServe merges the InferenceService's env over the runtime's by name: its literal, listed endpoint wins.
      onRuntime('overrides', '2026-11-20T10:00:03Z', 'hidden-s3', [env('AWS_ENDPOINT_URL', 'http://minio.minio.svc:9000')]),
      onRuntime('on-both', '2026-11-20T10:00:04Z', 'hidden-both', [{ name: 'MLFLOW_TRACKING_URI', valueFrom: secret('uri') }]),
      // Its own literal MLFLOW_TRACKING_URI replaces the runtime's hidden one: only the endpoint is left hidden.
      onRuntime('overrides-registry', '2026-11-20T10:00:05Z', 'hidden-both'),
    );
    const kube = h.events();
    const alerts = replayEvents([...fraud3(true), ...kube], { rules: RulesConfig.parse({}) }).alerts.filter((a) => /unapproved_deployment|model_source_unverifiable/.test(a.rule_id));
    expect(alerts.map((a) => [a.rule_id, a.entity.id, a.severity, a.details?.reason ?? a.details?.reasons, a.details?.artifact_env_unverifiable ?? a.details?.mlflow_env_unverifiable, a.details?.serving_runtime, a.details?.runtime_artifact_env_unverifiable ?? a.details?.runtime_env_unverifiable])).toEqual([
      ['serving.model_source_unverifiable', 'prod/on-hidden-s3', 'medium', ['artifact_endpoint_unverifiable'], ['AWS_ENDPOINT_URL'], 'prod/hidden-s3', ['AWS_ENDPOINT_URL']],
      ['serving.model_source_unverifiable', 'prod/on-profile', 'medium', ['artifact_endpoint_unverifiable'], ['AWS_PROFILE'], 'prod/profile', ['AWS_PROFILE']],
      ['serving.model_source_unverifiable', 'prod/on-prefixed', 'medium', ['artifact_endpoint_unverifiable'], ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3'], 'prod/prefixed', ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3']],
      ['registry.unapproved_deployment', 'prod/on-both', 'critical', 'registry_unverifiable', ['MLFLOW_TRACKING_URI', 'AWS_ENDPOINT_URL'], 'prod/hidden-both', ['AWS_ENDPOINT_URL']],
      ['serving.model_source_unverifiable', 'prod/overrides-registry', 'medium', ['artifact_endpoint_unverifiable'], ['AWS_ENDPOINT_URL'], 'prod/hidden-both', ['AWS_ENDPOINT_URL']],
    ]);
    // Read before the runtime's write: judged when it arrives, as in order.
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const late = [...fraud3(true), ...kube.filter((e) => e.resource?.name === 'on-hidden-s3'), kube[0]!].flatMap((e) => engine.process(e, Date.parse(e.time)));
    expect(late.filter((a) => a.rule_id === 'serving.model_source_unverifiable').map((a) => [a.entity.id, a.details?.serving_runtime])).toEqual([['prod/on-hidden-s3', 'prod/hidden-s3']]);
    // Without artifact_endpoints a hidden endpoint is recorded only, on the runtime as on a predictor.
    const quiet = await start({});
    await quiet.send(TOKEN, rt, onRuntime('on-hidden-s3', '2026-11-20T10:00:00Z', 'hidden-s3'));
    expect(replayEvents([...fraud3(true), ...quiet.h.events()], { rules: RulesConfig.parse({}) }).alerts.filter((a) => /unapproved_deployment|model_source_unverifiable/.test(a.rule_id))).toEqual([]);
  });

  it('a literal MLFLOW_S3_ENDPOINT_URL (the predictor\'s or the runtime\'s) is the endpoint MLflow fetches from: a hidden AWS_ENDPOINT_URL or AWS profile beside it is no doubt, and the literal one is judged against the list', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    const secret = { secretKeyRef: { name: 's3-conf', key: 'endpoint' } };
    const hiddenAws = { name: 'AWS_ENDPOINT_URL', valueFrom: secret };
    const minio = env('MLFLOW_S3_ENDPOINT_URL', 'http://minio.minio.svc:9000');
    const pinned = runtime('pinned', '2026-11-20T09:00:01Z', [TRACKING, minio, hiddenAws, env('AWS_PROFILE', 'minio')]);
    await send(TOKEN,
      runtime('hidden-s3', '2026-11-20T09:00:00Z', [TRACKING, hiddenAws]),
      pinned,
      // The predictor's literal endpoint over the runtime's hidden AWS_ENDPOINT_URL: allowed, then not.
      onRuntime('pins-minio', '2026-11-20T10:00:00Z', 'hidden-s3', [minio]),
      onRuntime('pins-elsewhere', '2026-11-20T10:00:01Z', 'hidden-s3', [env('MLFLOW_S3_ENDPOINT_URL', 'https://s3.attacker.example')]),
      // The runtime's literal endpoint over its own hidden settings, and over the predictor's.
      onRuntime('on-pinned', '2026-11-20T10:00:02Z', 'pinned'),
      onRuntime('own-hidden-on-pinned', '2026-11-20T10:00:03Z', 'pinned', [hiddenAws]),
      // No runtime: its own literal endpoint beside its own hidden one.
      inferenceService('own-both', '2026-11-20T10:00:04Z', 'models:/fraud/3', [minio, hiddenAws]),
      // Still a doubt: no literal MLFLOW_S3_ENDPOINT_URL anywhere, or the predictor's own hidden one over the runtime's literal one.
      onRuntime('on-hidden-s3', '2026-11-20T10:00:05Z', 'hidden-s3'),
      onRuntime('hides-pinned', '2026-11-20T10:00:06Z', 'pinned', [{ name: 'MLFLOW_S3_ENDPOINT_URL', valueFrom: secret }]),
    );
    const kube = h.events();
    expect(kube[1]!.details?.artifact_env_unverifiable).toBeUndefined();
    expect(kube.find((e) => e.resource?.name === 'own-both')!.details?.artifact_env_unverifiable).toBeUndefined();
    const alerts = replayEvents([...fraud3(true), ...kube], { rules: RulesConfig.parse({}) }).alerts.filter((a) => /unapproved_deployment|model_source_unverifiable/.test(a.rule_id));
    expect(alerts.map((a) => [a.rule_id, a.entity.id, a.details?.reason ?? a.details?.reasons, a.details?.artifact_endpoints_not_allowed ?? a.details?.artifact_env_unverifiable])).toEqual([
      ['registry.unapproved_deployment', 'prod/pins-elsewhere', 'artifact_endpoint_not_allowed', { MLFLOW_S3_ENDPOINT_URL: 'https://s3.attacker.example' }],
      ['serving.model_source_unverifiable', 'prod/on-hidden-s3', ['artifact_endpoint_unverifiable'], ['AWS_ENDPOINT_URL']],
      ['serving.model_source_unverifiable', 'prod/hides-pinned', ['artifact_endpoint_unverifiable'], ['MLFLOW_S3_ENDPOINT_URL']],
    ]);
  });

  it("a runtime's MLflow names only its unprefixed envFrom Secret could set, beside its literal registry URI, are the models' own lesser doubt (mlflow_env_in_secret) unless their env lists them, also when the runtime write is read late", async () => {
    const { h, send } = await start({});
    const rt = runtime('creds', '2026-11-20T09:00:00Z', [TRACKING]);
    rt.requestObject.spec.containers[0].envFrom = [{ secretRef: { name: 's3creds' } }];
    await send(TOKEN,
      rt,
      onRuntime('on-creds', '2026-11-20T10:00:00Z', 'creds'),
      // Its own entries replace the runtime's Secret by name (an env entry wins over envFrom): nothing left unlisted.
      onRuntime('lists-them', '2026-11-20T10:00:01Z', 'creds', [env('MLFLOW_REGISTRY_URI', 'http://mlflow.team.svc:5000'), env('MLFLOW_WORKSPACE', 'default')]),
    );
    const kube = h.events();
    expect(kube[0]!.details?.mlflow_env_secret_unverifiable).toEqual(['MLFLOW_WORKSPACE', 'MLFLOW_REGISTRY_URI']);
    const judged = (alerts: Alert[]) => alerts.filter((a) => /unapproved_deployment|model_source_unverifiable/.test(a.rule_id)).map((a) => [a.rule_id, a.entity.id, a.severity, a.details?.reasons ?? a.details?.reason, a.details?.mlflow_env_secret_unverifiable, a.details?.serving_runtime, a.details?.runtime_env_secret_unverifiable]);
    const expected = [['serving.model_source_unverifiable', 'prod/on-creds', 'medium', ['mlflow_env_in_secret'], ['MLFLOW_WORKSPACE', 'MLFLOW_REGISTRY_URI'], 'prod/creds', ['MLFLOW_WORKSPACE', 'MLFLOW_REGISTRY_URI']]];
    expect(judged(replayEvents([...fraud3(true), ...kube], { rules: RulesConfig.parse({}) }).alerts)).toEqual(expected);
    // Read before the runtime's write: judged when it arrives, as in order.
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    expect(judged([...fraud3(true), ...kube.slice(1), kube[0]!].flatMap((e) => engine.process(e, Date.parse(e.time))))).toEqual(expected);
  });

  it('a models:/ URI with its scheme in another case (MLflow lowercases it, as urlparse does) has its registry env and runtime read too', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    const mixed = onRuntime('mixed', '2026-11-20T10:00:01Z', 's3-evil');
    mixed.requestObject.spec.predictor.model.storageUri = 'Models:/fraud/3';
    await send(TOKEN,
      runtime('s3-evil', '2026-11-20T09:00:00Z', [TRACKING, env('AWS_ENDPOINT_URL', 'https://s3.attacker.example')]),
      inferenceService('upper', '2026-11-20T10:00:00Z', 'MODELS:/fraud/3', [env('MLFLOW_REGISTRY_URI', 'https://mlflow.attacker.example')]),
      mixed,
    );
    const kube = h.events();
    expect(kube[1]!.ml?.deployment?.mlflow_registry_uri).toBe('https://mlflow.attacker.example');
    // fraud v3 is approved in team's registry: the other registry and the runtime's endpoint make the findings.
    expect(unapprovedAlerts([...fraud3(true), ...kube]).map((a) => [a.entity.id, a.details?.reason])).toEqual([
      ['prod/upper', 'unwatched_registry'],
      ['prod/mixed', 'artifact_endpoint_not_allowed'],
    ]);
  });

  it('a patch that only switches the serving runtime (merge or JSON patch) redeploys the stored models:/ URI on the new runtime', async () => {
    const { h, send } = await start({ artifact_endpoints: ['minio.minio.svc:9000'] });
    /** A patch of InferenceService `name` (created on runtime `good`) whose request is `request`, stored on runtime `now`. */
    const switched = (name: string, at: string, request: unknown, now: string): Obj => {
      const ev = onRuntime(name, at, 'good');
      const stored = structuredClone(ev.requestObject);
      stored.spec.predictor.model.runtime = now;
      return { ...ev, verb: 'patch', requestURI: `${ev.requestURI}/${name}`, responseStatus: { metadata: {}, code: 200 }, requestObject: request, responseObject: stored };
    };
    await send(TOKEN,
      runtime('s3-evil', '2026-11-20T09:00:00Z', [TRACKING, env('AWS_ENDPOINT_URL', 'https://s3.attacker.example')]),
      runtime('good', '2026-11-20T09:00:01Z', [TRACKING, env('MLFLOW_S3_ENDPOINT_URL', 'http://minio.minio.svc:9000')]),
      onRuntime('merge', '2026-11-20T10:00:00Z', 'good'),
      onRuntime('json', '2026-11-20T10:00:01Z', 'good'),
      onRuntime('stays', '2026-11-20T10:00:02Z', 'good'),
      switched('merge', '2026-11-20T11:00:00Z', { spec: { predictor: { model: { runtime: 's3-evil' } } } }, 's3-evil'),
      switched('json', '2026-11-20T11:00:01Z', [{ op: 'replace', path: '/spec/predictor/model/runtime', value: 's3-evil' }], 's3-evil'),
      // Another clean runtime: judged again, nothing to say; a label patch deploys nothing.
      switched('stays', '2026-11-20T11:00:02Z', { spec: { predictor: { model: { runtime: 'good' } } } }, 'good'),
      switched('stays', '2026-11-20T11:00:03Z', { metadata: { labels: { team: 'fraud' } } }, 'good'),
    );
    const patches = h.events().filter((e) => e.action === 'endpoint.update');
    expect(patches.map((e) => [e.resource?.name, e.ml?.deployment?.model_uri, e.details?.serving_runtime])).toEqual([
      ['merge', 'models:/fraud/3', 's3-evil'],
      ['json', 'models:/fraud/3', 's3-evil'],
      ['stays', 'models:/fraud/3', 'good'],
      ['stays', undefined, undefined],
    ]);
    // fraud v3 is approved: only the runtime switched to makes the findings.
    expect(unapprovedAlerts([...fraud3(true), ...h.events()]).map((a) => [a.entity.id, a.details?.reason, a.details?.serving_runtime, a.details?.runtime_artifact_env])).toEqual([
      ['prod/merge', 'artifact_endpoint_not_allowed', 'prod/s3-evil', { AWS_ENDPOINT_URL: 'https://s3.attacker.example' }],
      ['prod/json', 'artifact_endpoint_not_allowed', 'prod/s3-evil', { AWS_ENDPOINT_URL: 'https://s3.attacker.example' }],
    ]);
  });
});
