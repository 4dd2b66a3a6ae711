import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { replayEvents } from '../../../bridge/replay.js';
import { KubeflowConfig } from '../../../connectors/kubeflow/config.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { createLogger } from '../../../core/log.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { fromServer, type NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { startAuditRoute } from './helpers.js';

/**
 * Which MLflow registry a KServe predictor loads `models:/…` from, as its serving container's env says:
 * `MLFLOW_TRACKING_URI` / `MLFLOW_REGISTRY_URI` matched to the configured servers' URLs, values the audit log does
 * not show (`valueFrom`, `envFrom`, `$(VAR)`), and the container that serves among several. Two MLflow servers:
 * `team` (reached in-cluster as http://mlflow.team.svc:5000) and `prod` (audited at https://mlflow-prod.internal:5000).
 * Records are the falco RequestResponse audit fixture with the object, user and bodies changed.
 */
type Obj = Record<string, any>;
const AUDIT = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');
const TOKEN = 'default-cluster-token-5c1d9e';
const B_TOKEN = 'cluster-b-token-0a8f3c71e2';
const MLFLOW = MlflowConfig.parse({
  servers: [
    { id: 'team', webhook_secrets: ['team-webhook-secret-0123456789abcdef'], tracking_uris: ['http://mlflow.team.svc:5000'] },
    { id: 'prod', poll: { tracking_uri: 'https://mlflow-prod.internal:5000' } },
  ],
});
let seq = 0;

type Env = Array<Record<string, unknown>>;
const ws = (value: string) => ({ name: 'MLFLOW_WORKSPACE', value });
/** The artifact endpoint and proxy env names an unprefixed envFrom may set, as the event lists them. */
const REDIRECT_ENV = ['MLFLOW_S3_ENDPOINT_URL', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'S3_ENDPOINT', 'STORAGE_EMULATOR_HOST', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'AZURE_STORAGE_CONNECTION_STRING', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_PROFILE'];
const tracking = (value: string) => ({ name: 'MLFLOW_TRACKING_URI', value });

/** An audit record of an InferenceService created with `predictor` (a `model` spec with `uri` and `env` by default). */
function inferenceService(name: string, at: string, predictor: Obj): Obj {
  const ev = structuredClone(AUDIT);
  return {
    ...ev,
    auditID: `${ev.auditID}-reg-${++seq}`,
    verb: 'create',
    requestURI: '/apis/serving.kserve.io/v1beta1/namespaces/prod/inferenceservices',
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    objectRef: { resource: 'inferenceservices', namespace: 'prod', name, apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1' },
    responseStatus: { metadata: {}, code: 201 },
    requestObject: { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name, namespace: 'prod' }, spec: { predictor } },
    responseObject: undefined,
    requestReceivedTimestamp: at,
    stageTimestamp: at,
  };
}
const modelSpec = (uri: string, env?: Env, envFrom?: Env): Obj => ({ model: { modelFormat: { name: 'mlflow' }, storageUri: uri, ...(env ? { env } : {}), ...(envFrom ? { envFrom } : {}) } });

type Body = [string, string, string, Record<string, unknown>];
/** `fraud` version 3 on `server` (undefined: the default one), in `workspace`, given `champion` when `approved`. */
function fraud3(server: string | undefined, approved: boolean, workspace?: string): NormalizedEvent[] {
  const bodies: Body[] = [
    ['registered_model', 'created', '2026-11-19T10:00:00.000000+00:00', { name: 'fraud', tags: {}, description: null }],
    ['model_version', 'created', '2026-11-19T10:01:00.000000+00:00', { name: 'fraud', version: '3', source: `s3://${server ?? 'default'}-${workspace}/fraud/3`, run_id: `run-${server}-${workspace}`, tags: {}, description: null }],
    ...(approved ? [['model_version_alias', 'created', '2026-11-19T10:02:00.000000+00:00', { name: 'fraud', alias: 'champion', version: '3' }] as Body] : []),
  ];
  return bodies.flatMap(([entity, action, timestamp, data], i) =>
    normalizeMlflow({ entity, action, timestamp, data, ...(workspace ? { workspace } : {}) }, { channel: 'mlflow.webhook', receivedTime: timestamp, keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: `d-${server}-${workspace}-${i}` } }).events,
  ).map((e) => (server ? fromServer(e, server) : e));
}

/** The unapproved-deployment alerts: entity and reason. */
const unapproved = (events: NormalizedEvent[]) =>
  replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment').map((a) => [a.entity.id, a.details?.reason]).sort();

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

/** The audit route with `kubeflow` settings and the MLflow servers' URLs, as the bridge assembles them. */
async function start(kubeflow: Record<string, unknown>, mlflow = MLFLOW, logger?: ReturnType<typeof createLogger>) {
  const route = await startAuditRoute({ namespaces: ['prod'], ...kubeflow }, { ingestToken: TOKEN, mlflow, logger });
  cleanup.push(route.close);
  return route;
}

describe("a KServe predictor's MLFLOW_TRACKING_URI names its MLflow server", () => {
  it('matched to a configured server by its URL (however spelt), over the cluster setting; the default server too', async () => {
    // The default cluster says nothing; cluster-b says prod.
    const { h, send } = await start({ clusters: [{ id: 'cluster-b', token: B_TOKEN, mlflow_server: 'prod' }] });
    await send(TOKEN,
      inferenceService('fraud', '2026-11-20T10:00:00Z', modelSpec('models:/fraud/3', [tracking('HTTP://MLflow.Team.SVC.:5000/')])),
      inferenceService('no-env', '2026-11-20T10:00:01Z', modelSpec('models:/fraud/3')),
    );
    await send(B_TOKEN, inferenceService('fraud', '2026-11-20T10:01:00Z', modelSpec('models:/fraud@champion', [tracking('http://mlflow.team.svc:5000')])));
    const kube = h.events();
    expect(kube.map((e) => [e.cloud?.account, e.ml?.deployment?.mlflow_server, e.ml?.deployment?.mlflow_registry_uri, e.details?.mlflow_registry_unwatched])).toEqual([
      [undefined, 'team', 'HTTP://MLflow.Team.SVC.:5000/', undefined],
      [undefined, undefined, undefined, undefined],
      ['cluster-b', 'team', 'http://mlflow.team.svc:5000', undefined],
    ]);
    // team approved its fraud/3, prod and the default server registered theirs unapproved. The env names team:
    // judged against team's version. Without env or setting, fraud/3 of three servers names none (as before).
    expect(unapproved([...fraud3('team', true), ...fraud3('prod', false), ...fraud3(undefined, false), ...kube])).toEqual([['prod/no-env', 'never_approved']]);
  });

  it('a URI no configured server has: the deployment loads from a registry mltrail does not watch, whatever the cluster says', async () => {
    const { h, send } = await start({ mlflow_server: 'team' });
    await send(TOKEN,
      inferenceService('evil', '2026-11-20T10:00:00Z', modelSpec('models:/fraud@champion', [tracking('https://bob:s3cret@mlflow.attacker.example:5000/?token=abc')])),
      // MLFLOW_REGISTRY_URI is where MLflow resolves models:/, over the tracking URI.
      inferenceService('evil-registry', '2026-11-20T10:00:01Z', modelSpec('models:/fraud/3', [tracking('http://mlflow.team.svc:5000'), { name: 'MLFLOW_REGISTRY_URI', value: 'databricks' }])),
      // A blank registry URI is unset for MLflow: the tracking URI decides.
      inferenceService('blank-registry', '2026-11-20T10:00:02Z', modelSpec('models:/fraud/3', [{ name: 'MLFLOW_REGISTRY_URI', value: ' ' }, tracking('http://mlflow.team.svc:5000')])),
    );
    const kube = h.events();
    expect(kube.map((e) => [e.ml?.deployment?.mlflow_server, e.ml?.deployment?.mlflow_registry_uri, e.details?.mlflow_registry_unwatched])).toEqual([
      [undefined, 'https://mlflow.attacker.example:5000/', true],
      [undefined, 'databricks', true],
      ['team', 'http://mlflow.team.svc:5000', undefined],
    ]);
    // The credentials in the URI never reach an event.
    expect(JSON.stringify(kube.map((e) => ({ ...e, raw: undefined })))).not.toContain('s3cret');
    const replay = replayEvents([...fraud3('team', true), ...kube], { rules: RulesConfig.parse({}) });
    const alerts = replay.alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect(alerts.map((a) => [a.entity.id, a.details?.reason, a.details?.mlflow_registry_uri]).sort()).toEqual([
      ['prod/evil', 'unwatched_registry', 'https://mlflow.attacker.example:5000/'],
      ['prod/evil-registry', 'unwatched_registry', 'databricks'],
    ]);
    const evil = alerts.find((a) => a.entity.id === 'prod/evil')!;
    expect(evil.summary).toMatch(/^alice@example\.com deployed fraud@champion to prod\/evil \(kubeflow\); it loads from https:\/\/mlflow\.attacker\.example:5000\/, which no configured MLflow server has/);
    expect(evil.details?.deployed).toMatchObject({ name: 'fraud', alias: 'champion' });
    expect((evil.details?.deployed as Record<string, unknown>).mlflowServer).toBeUndefined();
    // The doubt is in details.reason / mlflow_registry_uri, not repeated as the rules' internal record under deployed.
    expect(JSON.parse(JSON.stringify(evil.details?.deployed))).toEqual({ platform: 'kubeflow', name: 'fraud', alias: 'champion' });
  });

  it('until some server lists tracking_uris, a URI no server has is said and judged by the cluster settings (the auditor URL may not be the in-cluster one)', async () => {
    // Only the auditors' URLs are known: the team server is audited at its external name, predictors use the Service.
    const audited = MlflowConfig.parse({ servers: [{ id: 'team', poll: { tracking_uri: 'https://mlflow-team.example.com' } }, { id: 'prod', poll: { tracking_uri: 'https://mlflow-prod.internal:5000' } }] });
    const logs: string[] = [];
    const { h, send } = await start({ mlflow_server: 'team' }, audited, createLogger({ level: 'warn', destination: { write: (l: string) => void logs.push(l) } }));
    await send(TOKEN,
      inferenceService('in-cluster', '2026-11-20T10:00:00Z', modelSpec('models:/fraud@champion', [tracking('http://mlflow.team.svc:5000')])),
      inferenceService('prod-named', '2026-11-20T10:00:01Z', modelSpec('models:/fraud/3', [tracking('https://MLFLOW-PROD.internal:5000/')])),
    );
    await send(TOKEN, inferenceService('in-cluster-2', '2026-11-20T10:00:02Z', modelSpec('models:/fraud@champion', [tracking('http://mlflow.team.svc:5000')])));
    // The operator is told once, when it first matters, which key makes such a deployment a finding.
    const warned = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.config_key === 'connectors.mlflow.tracking_uris');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 40, registry_uri: 'http://mlflow.team.svc:5000', msg: expect.stringContaining('list the URLs predictors use in connectors.mlflow.tracking_uris') });
    const kube = h.events();
    expect(kube.map((e) => [e.ml?.deployment?.mlflow_server, e.details?.mlflow_registry_unwatched, e.details?.mlflow_registry_unmatched])).toEqual([
      ['team', undefined, true],
      ['prod', undefined, undefined],
      ['team', undefined, true],
    ]);
    // team approved fraud/3 (champion): the in-cluster deployment is judged there and passes; prod's fraud/3 is not approved.
    expect(unapproved([...fraud3('team', true), ...fraud3('prod', false), ...kube])).toEqual([['prod/prod-named', 'never_approved']]);
  });

  it("a URI of another server than the cluster's: that server's registry, and the cluster's workspace does not apply", async () => {
    const { h, send } = await start({ mlflow_server: 'team', mlflow_workspace: 'team-a' });
    await send(TOKEN, inferenceService('fraud', '2026-11-20T10:00:00Z', modelSpec('models:/fraud/3', [tracking('https://mlflow-prod.internal:5000')])));
    const kube = h.events();
    expect(kube.map((e) => [e.ml?.deployment?.mlflow_server, e.ml?.deployment?.mlflow_workspace])).toEqual([['prod', undefined]]);
    // team's team-a approved fraud/3; prod's own registry did not.
    expect(unapproved([...fraud3('team', true, 'team-a'), ...fraud3('prod', false), ...kube])).toEqual([['prod/fraud', 'never_approved']]);
    // The summary names the registry judged, so the SOC knows which server's fraud v3 was never approved.
    const alert = replayEvents([...fraud3('team', true, 'team-a'), ...fraud3('prod', false), ...kube], { rules: RulesConfig.parse({}) }).alerts.find((a) => a.rule_id === 'registry.unapproved_deployment')!;
    expect(alert.summary).toBe('alice@example.com deployed fraud v3 (MLflow server prod) to prod/fraud (kubeflow); it was never approved');
  });
});

describe('MLflow env the audit log does not show', () => {
  const cluster = { mlflow_server: 'team', mlflow_workspace: 'team-a' };
  const ref = { configMapKeyRef: { name: 'mlflow', key: 'workspace' } };

  it('valueFrom, envFrom or a $(VAR) reference: flagged, and an approval in the cluster\'s registry does not vouch', async () => {
    const { h, send } = await start(cluster);
    await send(TOKEN,
      inferenceService('ref', '2026-11-20T10:00:00Z', modelSpec('models:/fraud/3', [{ name: 'MLFLOW_WORKSPACE', valueFrom: ref }])),
      inferenceService('from', '2026-11-20T10:00:01Z', modelSpec('models:/fraud/3', undefined, [{ configMapRef: { name: 'mlflow-settings' } }])),
      inferenceService('expand', '2026-11-20T10:00:02Z', modelSpec('models:/fraud/3', [{ name: 'WS', valueFrom: ref }, ws('$(WS)')])),
      // Beside envFrom, a literal tracking URI does not decide: the ConfigMap may set MLFLOW_REGISTRY_URI, which MLflow reads first.
      inferenceService('tracking-only', '2026-11-20T10:00:03Z', modelSpec('models:/fraud/3', [ws('team-a'), tracking('http://mlflow.team.svc:5000')], [{ configMapRef: { name: 'mlflow-settings' } }])),
      // Visible: literal env entries win over envFrom; an envFrom prefix that cannot make the names.
      inferenceService('literal', '2026-11-20T10:00:03Z', modelSpec('models:/fraud/3', [ws('team-a'), { name: 'MLFLOW_REGISTRY_URI', value: 'http://mlflow.team.svc:5000' }], [{ configMapRef: { name: 'mlflow-settings' } }])),
      inferenceService('prefixed', '2026-11-20T10:00:04Z', modelSpec('models:/fraud/3', undefined, [{ prefix: 'APP_', configMapRef: { name: 'app' } }])),
      // An artifact URI names no registry: nothing to flag.
      inferenceService('plain', '2026-11-20T10:00:05Z', modelSpec('s3://bucket/fraud', [{ name: 'MLFLOW_WORKSPACE', valueFrom: ref }])),
    );
    const kube = h.events();
    // The ConfigMaps may also set where the bytes are fetched from: recorded only, as the cluster lists no artifact_endpoints.
    expect(kube.map((e) => [e.resource?.name, e.details?.mlflow_env_unverifiable, e.details?.artifact_env_unverifiable])).toEqual([
      ['ref', ['MLFLOW_WORKSPACE'], undefined],
      ['from', ['MLFLOW_WORKSPACE', 'MLFLOW_REGISTRY_URI'], REDIRECT_ENV],
      ['expand', ['MLFLOW_WORKSPACE'], undefined],
      ['tracking-only', ['MLFLOW_REGISTRY_URI'], REDIRECT_ENV],
      ['literal', undefined, REDIRECT_ENV],
      ['prefixed', undefined, undefined],
      ['plain', undefined, undefined],
    ]);
    // team-a approved fraud/3: the visible ones pass, the hidden ones cannot be told.
    const replay = replayEvents([...fraud3('team', true, 'team-a'), ...kube], { rules: RulesConfig.parse({}) });
    const alerts = replay.alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect(alerts.map((a) => [a.entity.id, a.details?.reason, a.details?.mlflow_env_unverifiable])).toEqual([
      ['prod/ref', 'registry_unverifiable', ['MLFLOW_WORKSPACE']],
      ['prod/from', 'registry_unverifiable', ['MLFLOW_WORKSPACE', 'MLFLOW_REGISTRY_URI']],
      ['prod/expand', 'registry_unverifiable', ['MLFLOW_WORKSPACE']],
      ['prod/tracking-only', 'registry_unverifiable', ['MLFLOW_REGISTRY_URI']],
      // An artifact no version registered: the usual alert, nothing said of MLflow env.
      ['prod/plain', 'never_approved', undefined],
    ]);
    expect(JSON.parse(JSON.stringify(alerts[0]!.details?.deployed))).not.toHaveProperty('mlflowDoubt');
    expect(alerts[0]!.summary).toMatch(/MLFLOW_WORKSPACE comes from a source the audit log does not show.*fraud v3 is approved in the one the cluster's settings name, MLflow workspace team-a on server team \(a cluster that sets them so by design: trust_mlflow_env_refs\)/);
    // Not approved anyway: the usual alert, which says the env could not be read either.
    expect(unapproved([...fraud3('team', false, 'team-a'), kube[0]!])).toEqual([['prod/ref', 'never_approved']]);
  });

  it('envFrom: only a source whose prefix can make a name hides it (keys are never empty); one without prefix hides them all', async () => {
    // With artifact_endpoints listed, a hidden artifact endpoint or proxy is a doubt like a hidden registry.
    const { h, send } = await start({ ...cluster, artifact_endpoints: ['minio.minio.svc:9000'] });
    const literal = [ws('team-a'), tracking('http://mlflow.team.svc:5000')];
    const from = (prefix?: string) => [{ ...(prefix === undefined ? {} : { prefix }), secretRef: { name: 'aws-credentials' } }];
    await send(TOKEN,
      // A credentials Secret without prefix: its keys are not in the log, they may be any of the names.
      inferenceService('creds', '2026-11-20T10:00:00Z', modelSpec('models:/fraud/3', literal, from())),
      inferenceService('creds-prefixed', '2026-11-20T10:00:01Z', modelSpec('models:/fraud/3', literal, from('CREDS_'))),
      // The whole name as prefix makes MLFLOW_WORKSPACE_<key> only, never MLFLOW_WORKSPACE itself.
      inferenceService('whole-name', '2026-11-20T10:00:02Z', modelSpec('models:/fraud/3', [tracking('http://mlflow.team.svc:5000')], from('MLFLOW_WORKSPACE'))),
      inferenceService('mlflow-prefixed', '2026-11-20T10:00:03Z', modelSpec('models:/fraud/3', literal, from('MLFLOW_'))),
      inferenceService('s3-prefixed', '2026-11-20T10:00:04Z', modelSpec('models:/fraud/3', literal, from('S3_'))),
    );
    const kube = h.events();
    expect(kube.map((e) => [e.resource?.name, e.details?.mlflow_env_unverifiable, e.details?.mlflow_env_secret_unverifiable, e.details?.artifact_env_unverifiable])).toEqual([
      // MLFLOW_WORKSPACE is literal; MLFLOW_REGISTRY_URI, read before the literal tracking URI, may be in the Secret:
      // beside a literal registry URI, a credentials Secret's possible names are the lesser doubt.
      ['creds', undefined, ['MLFLOW_REGISTRY_URI'], REDIRECT_ENV],
      ['creds-prefixed', undefined, undefined, undefined],
      ['whole-name', undefined, undefined, undefined],
      // A prefix that makes MLflow names targets them: the registry doubt.
      ['mlflow-prefixed', ['MLFLOW_REGISTRY_URI', 'MLFLOW_S3_ENDPOINT_URL'], undefined, undefined],
      ['s3-prefixed', undefined, undefined, ['S3_ENDPOINT']],
    ]);
    // team-a approved fraud/3: only the deployment whose registry URI may be elsewhere cannot be vouched for; the
    // others whose env may be elsewhere are the medium model-source doubt.
    expect(unapproved([...fraud3('team', true, 'team-a'), ...kube])).toEqual([['prod/mlflow-prefixed', 'registry_unverifiable']]);
    const lesser = replayEvents([...fraud3('team', true, 'team-a'), ...kube], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'serving.model_source_unverifiable');
    expect(lesser.map((a) => [a.entity.id, a.severity, a.details?.reasons])).toEqual([
      ['prod/creds', 'medium', ['artifact_endpoint_unverifiable', 'mlflow_env_in_secret']],
      ['prod/s3-prefixed', 'medium', ['artifact_endpoint_unverifiable']],
    ]);
  });

  it('a hidden artifact endpoint or proxy is a doubt only where the cluster lists artifact_endpoints', async () => {
    // Registry and workspace literal (MLFLOW_REGISTRY_URI too: MLflow reads it first); a credentials Secret without prefix.
    const literal = [ws('team-a'), { name: 'MLFLOW_REGISTRY_URI', value: 'http://mlflow.team.svc:5000' }];
    const creds = [{ secretRef: { name: 'aws-credentials' } }];
    const { h, send } = await start({ ...cluster, clusters: [{ id: 'cluster-b', token: B_TOKEN, ...cluster, artifact_endpoints: ['minio.minio.svc:9000'] }] });
    await send(B_TOKEN, inferenceService('listed', '2026-11-20T10:00:00Z', modelSpec('models:/fraud/3', literal, creds)));
    await send(TOKEN, inferenceService('unlisted', '2026-11-20T10:00:01Z', modelSpec('models:/fraud/3', literal, creds)));
    const kube = h.events();
    expect(kube.map((e) => [e.resource?.name, e.details?.mlflow_env_unverifiable, e.details?.artifact_env_unverifiable, e.details?.artifact_endpoint_unverifiable])).toEqual([
      ['listed', undefined, REDIRECT_ENV, true],
      ['unlisted', undefined, REDIRECT_ENV, undefined],
    ]);
    // team-a approved fraud/3, and the registry is literal: the cluster that listed its endpoints cannot vouch for
    // bytes a Secret may redirect, a doubt of its own (medium), not the registry's.
    const alerts = replayEvents([...fraud3('team', true, 'team-a'), ...kube], { rules: RulesConfig.parse({}) }).alerts.filter((a) => /unapproved_deployment|model_source_unverifiable/.test(a.rule_id));
    expect(alerts.map((a) => [a.rule_id, a.entity.id, a.severity, a.details?.artifact_env_unverifiable])).toEqual([['serving.model_source_unverifiable', 'cluster-b:prod/listed', 'medium', REDIRECT_ENV]]);
  });

  it('trust_mlflow_env_refs: a cluster that sets them by reference by design is judged against its settings', async () => {
    const { h, send } = await start({ ...cluster, artifact_endpoints: ['minio.minio.svc:9000'], clusters: [{ id: 'cluster-b', token: B_TOKEN, ...cluster, artifact_endpoints: ['minio.minio.svc:9000'], trust_mlflow_env_refs: true }] });
    const isvc = (name: string, at: string) => inferenceService(name, at, modelSpec('models:/fraud/3', undefined, [{ configMapRef: { name: 'mlflow-settings' } }]));
    await send(B_TOKEN, isvc('trusted', '2026-11-20T10:00:00Z'));
    await send(TOKEN, isvc('untrusted', '2026-11-20T10:00:01Z'));
    const kube = h.events();
    expect(kube.map((e) => [e.cloud?.account, e.details?.mlflow_env_unverifiable, e.details?.mlflow_env_trusted])).toEqual([
      ['cluster-b', undefined, ['MLFLOW_WORKSPACE', 'MLFLOW_REGISTRY_URI', ...REDIRECT_ENV]],
      [undefined, ['MLFLOW_WORKSPACE', 'MLFLOW_REGISTRY_URI', ...REDIRECT_ENV], undefined],
    ]);
    const registry = [...fraud3('team', true, 'team-a')];
    expect(unapproved([...registry, ...kube])).toEqual([['prod/untrusted', 'registry_unverifiable']]);
  });
});

describe('the container that serves the model', () => {
  it("several predictor containers: the kserve-container's env is read, not a sidecar's", async () => {
    const { h, send } = await start({ mlflow_server: 'team' });
    const storage = { name: 'STORAGE_URI', value: 'models:/fraud/3' };
    await send(TOKEN,
      // The sidecar names the approved workspace first; the serving container loads from team-b.
      inferenceService('sidecar-first', '2026-11-20T10:00:00Z', { containers: [{ name: 'log-shipper', image: 'shipper:1', env: [ws('team-a')] }, { name: 'kserve-container', image: 'server:1', env: [storage, ws('team-b')] }] }),
      // A sidecar's envFrom says nothing of the serving container.
      inferenceService('sidecar-ref', '2026-11-20T10:00:01Z', { containers: [{ name: 'kserve-container', image: 'server:1', env: [storage, ws('team-a')] }, { name: 'proxy', image: 'proxy:1', envFrom: [{ secretRef: { name: 'proxy' } }] }] }),
      // One unnamed container: KServe names it kserve-container.
      inferenceService('single', '2026-11-20T10:00:02Z', { containers: [{ image: 'server:1', env: [storage, ws('team-a')] }] }),
    );
    const kube = h.events();
    expect(kube.map((e) => [e.resource?.name, e.ml?.deployment?.mlflow_workspace, e.details?.mlflow_env_unverifiable])).toEqual([
      ['sidecar-first', 'team-b', undefined],
      ['sidecar-ref', 'team-a', undefined],
      ['single', 'team-a', undefined],
    ]);
    expect(unapproved([...fraud3('team', true, 'team-a'), ...fraud3('team', false, 'team-b'), ...kube])).toEqual([['prod/sidecar-first', 'never_approved']]);
  });

  it('several named containers, none named kserve-container: the first one serves (KServe reads its STORAGE_URI, and older releases rename it kserve-container)', async () => {
    const { h, send } = await start({ mlflow_server: 'team' });
    const storage = { name: 'STORAGE_URI', value: 'models:/fraud@champion' };
    await send(TOKEN, inferenceService('named-first', '2026-11-20T10:00:00Z', { containers: [
      { name: 'model-server', image: 'server:1', env: [storage, tracking('https://mlflow.attacker.example')] },
      { name: 'log-shipper', image: 'shipper:1' },
    ] }));
    const kube = h.events();
    expect(kube.map((e) => [e.ml?.deployment?.mlflow_registry_uri, e.details?.mlflow_registry_unwatched])).toEqual([['https://mlflow.attacker.example', true]]);
    expect(unapproved([...fraud3('team', true), ...kube])).toEqual([['prod/named-first', 'unwatched_registry']]);
  });
});

describe('config', () => {
  const env = {};
  it('tracking_uris are http(s) URLs, one server each; trust_mlflow_env_refs is a boolean; the URLs reach the Kubeflow connector', () => {
    const cfg = loadConfig({ env, overrides: { connectors: {
      mlflow: { tracking_uris: ['http://mlflow.mlflow.svc:5000'], servers: [{ id: 'team', webhook_secrets: ['a-webhook-secret-of-team-0123456789'], tracking_uris: ['http://mlflow.team.svc:5000/'] }] },
      kubeflow: { trust_mlflow_env_refs: true, clusters: [{ id: 'b', token: 't1', trust_mlflow_env_refs: false }] },
    } } });
    const kf = cfg.connectors.kubeflow as KubeflowConfig;
    expect(kf.mlflowRegistryUrls).toEqual([{ key: 'http://mlflow.mlflow.svc:5000', listed: true }, { key: 'http://mlflow.team.svc:5000', server: 'team', listed: true }]);
    expect([kf.trust_mlflow_env_refs, kf.clusters[0]!.trust_mlflow_env_refs]).toEqual([true, false]);
    // Not a YAML key: a printed configuration does not show it.
    expect(JSON.stringify(kf)).not.toContain('mlflowRegistryUrls');
    const servers = (urls: string[][]) => ({ servers: urls.map((u, i) => ({ id: `s${i}`, webhook_secrets: [`a-webhook-secret-${i}-0123456789abcdef`], tracking_uris: u })) });
    expect(() => loadConfig({ env, overrides: { connectors: { mlflow: servers([['databricks']]) } } })).toThrow(/connectors\.mlflow\.servers\.0\.tracking_uris\.0: must be the http\(s\):\/\/ URL/);
    expect(() => loadConfig({ env, overrides: { connectors: { mlflow: servers([['http://mlflow:5000'], ['HTTP://MLFLOW:5000/']]) } } })).toThrow(/connectors\.mlflow\.servers\.1\.tracking_uris\.0: .*also server "s0"'s URL/);
    expect(() => loadConfig({ env, overrides: { connectors: { kubeflow: { trust_mlflow_env_refs: 'yes' } } } })).toThrow(/connectors\.kubeflow\.trust_mlflow_env_refs/);
    expect(KubeflowConfig.safeParse({ clusters: [{ id: 'b', token: 't', trust_mlflow_env_refs: 1 }] }).success).toBe(false);
  });
});

describe('a write that changes only the env', () => {
  /** `inferenceService` as a patch of `fraud`: `requestObject` the patch, `responseObject` the stored object after it. */
  const patched = (at: string, request: unknown, stored: Obj): Obj => {
    const ev = inferenceService('fraud', at, stored);
    return { ...ev, verb: 'patch', requestURI: '/apis/serving.kserve.io/v1beta1/namespaces/prod/inferenceservices/fraud', responseStatus: { metadata: {}, code: 200 }, requestObject: request, responseObject: { ...ev.requestObject } };
  };

  it("a merge or JSON patch pointing MLFLOW_TRACKING_URI elsewhere redeploys the stored models:/ URI from that registry", async () => {
    const { h, send } = await start({ mlflow_server: 'team' });
    const evil = modelSpec('models:/fraud@champion', [tracking('https://mlflow.attacker.example:5000')]);
    await send(TOKEN,
      inferenceService('fraud', '2026-11-20T10:00:00Z', modelSpec('models:/fraud@champion', [tracking('http://mlflow.team.svc:5000')])),
      patched('2026-11-20T11:00:00Z', { spec: { predictor: { model: { env: [tracking('https://mlflow.attacker.example:5000')] } } } }, evil),
      patched('2026-11-20T12:00:00Z', [{ op: 'replace', path: '/spec/predictor/model/env/0/value', value: 'https://mlflow.attacker.example:5000' }], evil),
      // A merge patch of labels changes no env: nothing deployed.
      patched('2026-11-20T13:00:00Z', { metadata: { labels: { team: 'fraud' } } }, evil),
    );
    const kube = h.events();
    expect(kube.map((e) => [e.ml?.deployment?.model_uri, e.ml?.deployment?.mlflow_registry_uri, e.details?.mlflow_registry_unwatched])).toEqual([
      ['models:/fraud@champion', 'http://mlflow.team.svc:5000', undefined],
      ['models:/fraud@champion', 'https://mlflow.attacker.example:5000', true],
      ['models:/fraud@champion', 'https://mlflow.attacker.example:5000', true],
      [undefined, undefined, undefined],
    ]);
    expect(unapproved([...fraud3('team', true), ...kube])).toEqual([['prod/fraud', 'unwatched_registry']]);
  });
});
