import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { replayEvents } from '../../../bridge/replay.js';
import { normalizeAuditEvent } from '../../../connectors/kubeflow/audit.js';
import type { AuditEvent } from '../../../connectors/kubeflow/audit/envelope.js';
import { KubeflowConfig } from '../../../connectors/kubeflow/config.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { fromServer, type NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { ctx, startAuditRoute } from './helpers.js';

/**
 * One MLflow server (`team`) with workspaces: team-a, team-b and its default workspace each register `fraud/3`, and
 * only team-a's holds `champion` (approved). KServe clusters say (config `mlflow_workspace`, or the predictor's
 * `MLFLOW_WORKSPACE` env) which workspace their `models:/` URIs load from. Records are the falco RequestResponse
 * audit fixture with the object, user and bodies changed.
 */
type Obj = Record<string, any>;
const AUDIT = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');
const DEFAULT_TOKEN = 'default-cluster-token-7a41c2';
const A_TOKEN = 'cluster-a-token-31f0be92c4';
const B_TOKEN = 'cluster-b-token-d85e6a0f17';
let seq = 0;

type Env = Array<{ name: string; value?: string; valueFrom?: unknown }>;

/** An audit record of an InferenceService created with `storageUri` (and `env` on its model spec). */
function inferenceService(name: string, uri: string, at: string, env?: Env): Obj {
  const ev = structuredClone(AUDIT);
  return {
    ...ev,
    auditID: `${ev.auditID}-ws-${++seq}`,
    verb: 'create',
    requestURI: '/apis/serving.kserve.io/v1beta1/namespaces/prod/inferenceservices',
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    objectRef: { resource: 'inferenceservices', namespace: 'prod', name, apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1' },
    responseStatus: { metadata: {}, code: 201 },
    requestObject: { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name, namespace: 'prod' }, spec: { predictor: { model: { modelFormat: { name: 'mlflow' }, storageUri: uri, ...(env ? { env } : {}) } } } },
    responseObject: undefined,
    requestReceivedTimestamp: at,
    stageTimestamp: at,
  };
}

type Body = [string, string, string, Record<string, unknown>];
/** MLflow 3.x webhook bodies of `workspace` (undefined: none) on server `server` (undefined: the default one), normalized as the route does. */
const mlflow = (server: string | undefined, workspace: string | undefined, ...bodies: Body[]): NormalizedEvent[] =>
  bodies.flatMap(([entity, action, timestamp, data], i) =>
    normalizeMlflow({ entity, action, timestamp, data, ...(workspace ? { workspace } : {}) }, { channel: 'mlflow.webhook', receivedTime: timestamp, keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: `d-${server}-${workspace}-${timestamp}-${i}` } }).events,
  ).map((e) => (server ? fromServer(e, server) : e));
/** `fraud` version 3 registered in `workspace`, given `champion` when `approved`. */
const fraud3 = (server: string | undefined, workspace: string | undefined, approved: boolean) => mlflow(server, workspace,
  ['registered_model', 'created', '2026-11-19T10:00:00.000000+00:00', { name: 'fraud', tags: {}, description: null }],
  ['model_version', 'created', '2026-11-19T10:01:00.000000+00:00', { name: 'fraud', version: '3', source: `s3://${server ?? 'default'}-${workspace ?? 'default'}/fraud/3`, run_id: `run-${server}-${workspace}`, tags: {}, description: null }],
  ...(approved ? [['model_version_alias', 'created', '2026-11-19T10:02:00.000000+00:00', { name: 'fraud', alias: 'champion', version: '3' }] as Body] : []));
/** The `team` server: team-a approved fraud/3, team-b and the default workspace did not. */
const teamRegistry = () => [...fraud3('team', 'team-a', true), ...fraud3('team', 'team-b', false), ...fraud3('team', 'default', false)];

const unapprovedOf = (events: NormalizedEvent[]) =>
  replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment').map((a) => a.entity.id).sort();

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function start(kubeflow: Record<string, unknown>) {
  // The team server's URL, as the bridge gives the connector (a predictor's MLFLOW_TRACKING_URI names it).
  const mlflow = MlflowConfig.parse({ servers: [{ id: 'team', webhook_secrets: ['a-webhook-secret-of-team-0123456789'], tracking_uris: ['http://mlflow.team:5000'] }] });
  const route = await startAuditRoute({ namespaces: ['prod'], ...kubeflow }, { ingestToken: DEFAULT_TOKEN, mlflow });
  cleanup.push(route.close);
  return route;
}

describe('KServe models:/ URIs of an MLflow workspace', () => {
  it("a cluster loading from workspace team-a is judged against team-a's approval, not team-b's nor the default workspace's", async () => {
    const { h, send } = await start({
      clusters: [
        { id: 'cluster-a', token: A_TOKEN, mlflow_server: 'team', mlflow_workspace: 'team-a' },
        { id: 'cluster-b', token: B_TOKEN, mlflow_server: 'team', mlflow_workspace: 'team-b' },
      ],
      // The default cluster loads from the team server's default workspace, said explicitly.
      mlflow_server: 'team',
      mlflow_workspace: 'default',
    });
    await send(A_TOKEN, inferenceService('fraud', 'models:/fraud/3', '2026-11-20T10:00:00Z'), inferenceService('fraud-alias', 'models:/fraud@champion', '2026-11-20T10:00:01Z'));
    await send(B_TOKEN, inferenceService('fraud', 'models:/fraud/3', '2026-11-20T10:01:00Z'), inferenceService('fraud-alias', 'models:/fraud@champion', '2026-11-20T10:01:01Z'));
    await send(DEFAULT_TOKEN, inferenceService('fraud', 'models:/fraud/3', '2026-11-20T10:02:00Z'));
    const kube = h.events();
    expect(kube.map((e) => [e.cloud?.account, e.ml?.deployment?.mlflow_server, e.ml?.deployment?.mlflow_workspace])).toEqual([
      ['cluster-a', 'team', 'team-a'], ['cluster-a', 'team', 'team-a'],
      ['cluster-b', 'team', 'team-b'], ['cluster-b', 'team', 'team-b'],
      [undefined, 'team', 'default'],
    ]);
    // team-a's fraud/3 holds champion; team-b's and the default workspace's fraud/3 were never approved.
    expect(unapprovedOf([...teamRegistry(), ...kube])).toEqual(['cluster-b:prod/fraud', 'cluster-b:prod/fraud-alias', 'prod/fraud']);
  });

  it('a workspace without mlflow_server is the default server\'s; a configured cluster does not take the default cluster\'s', async () => {
    const { h, send } = await start({ clusters: [{ id: 'cluster-b', token: B_TOKEN }], mlflow_workspace: 'team-a' });
    await send(DEFAULT_TOKEN, inferenceService('fraud', 'models:/fraud/3', '2026-11-20T10:00:00Z'), inferenceService('plain', 's3://bucket/plain', '2026-11-20T10:00:01Z'));
    await send(B_TOKEN, inferenceService('fraud', 'models:/fraud/3', '2026-11-20T10:01:00Z'));
    expect(h.events().map((e) => [e.cloud?.account, e.ml?.deployment?.mlflow_server, e.ml?.deployment?.mlflow_workspace])).toEqual([
      [undefined, undefined, 'team-a'], [undefined, undefined, undefined], ['cluster-b', undefined, undefined],
    ]);
    // The default server: team-a approved fraud/3, team-b did not. The default cluster is judged against team-a's;
    // cluster-b says nothing, and two workspaces registered fraud/3: neither version is the one named.
    const registry = [...fraud3(undefined, 'team-a', true), ...fraud3(undefined, 'team-b', false)];
    const alerts = unapprovedOf([...registry, ...h.events()]);
    expect(alerts).not.toContain('prod/fraud');
    const onlyTeamB = unapprovedOf([...fraud3(undefined, 'team-a', false), ...fraud3(undefined, 'team-b', true), ...h.events()]);
    expect(onlyTeamB).toContain('prod/fraud');
  });

  it("the predictor's MLFLOW_WORKSPACE env says the workspace, over the cluster's setting", async () => {
    const { h, send } = await start({ clusters: [{ id: 'cluster-b', token: B_TOKEN, mlflow_server: 'team', mlflow_workspace: 'team-b' }] });
    await send(B_TOKEN,
      inferenceService('fraud', 'models:/fraud/3', '2026-11-20T10:00:00Z', [{ name: 'MLFLOW_TRACKING_URI', value: 'http://mlflow.team:5000' }, { name: 'MLFLOW_WORKSPACE', value: ' team-a ' }]),
      // A value the log does not show (a ConfigMap reference): the cluster's setting.
      inferenceService('fraud-ref', 'models:/fraud/3', '2026-11-20T10:00:01Z', [{ name: 'MLFLOW_WORKSPACE', valueFrom: { configMapKeyRef: { name: 'mlflow', key: 'workspace' } } }]),
      // A name MLflow refuses: the cluster's setting.
      inferenceService('fraud-bad', 'models:/fraud/3', '2026-11-20T10:00:02Z', [{ name: 'MLFLOW_WORKSPACE', value: 'Team_A' }]),
    );
    expect(h.events().map((e) => e.ml?.deployment?.mlflow_workspace)).toEqual(['team-a', 'team-b', 'team-b']);
    expect(unapprovedOf([...teamRegistry(), ...h.events()])).toEqual(['cluster-b:prod/fraud-bad', 'cluster-b:prod/fraud-ref']);
  });

  it('MLFLOW_WORKSPACE listed twice in one container: the last entry is what the container gets, and what is judged', async () => {
    const { h, send } = await start({ clusters: [{ id: 'cluster-b', token: B_TOKEN, mlflow_server: 'team', mlflow_workspace: 'team-b' }] });
    await send(B_TOKEN,
      // The approved workspace first, the container loads from the unapproved one.
      inferenceService('fraud-dup', 'models:/fraud/3', '2026-11-20T10:00:00Z', [{ name: 'MLFLOW_WORKSPACE', value: 'team-a' }, { name: 'MLFLOW_WORKSPACE', value: 'default' }]),
      // Overridden by a value the log does not show: not read (the cluster's setting), as a lone valueFrom.
      inferenceService('fraud-dupref', 'models:/fraud/3', '2026-11-20T10:00:01Z', [{ name: 'MLFLOW_WORKSPACE', value: 'team-a' }, { name: 'MLFLOW_WORKSPACE', valueFrom: { configMapKeyRef: { name: 'mlflow', key: 'workspace' } } }]),
      // The other order: team-a is what the container gets.
      inferenceService('fraud-last', 'models:/fraud/3', '2026-11-20T10:00:02Z', [{ name: 'MLFLOW_WORKSPACE', value: 'team-b' }, { name: 'MLFLOW_WORKSPACE', value: 'team-a' }]),
    );
    expect(h.events().map((e) => e.ml?.deployment?.mlflow_workspace)).toEqual(['default', 'team-b', 'team-a']);
    expect(unapprovedOf([...teamRegistry(), ...h.events()])).toEqual(['cluster-b:prod/fraud-dup', 'cluster-b:prod/fraud-dupref']);
  });

  it('a merge patch of storageUri keeps the workspace the stored predictor env names', () => {
    const cfg = KubeflowConfig.parse({ namespaces: ['prod'] });
    const created = inferenceService('fraud', 'models:/fraud/3', '2026-11-20T10:00:00Z', [{ name: 'MLFLOW_WORKSPACE', value: 'team-a' }]);
    const patch = { ...created, auditID: `${created.auditID}-patch`, verb: 'patch', requestURI: '/apis/serving.kserve.io/v1beta1/namespaces/prod/inferenceservices/fraud', responseStatus: { metadata: {}, code: 200 },
      requestObject: { spec: { predictor: { model: { storageUri: 'models:/fraud/4' } } } },
      responseObject: created.requestObject };
    patch.responseObject = structuredClone(created.requestObject);
    patch.responseObject.spec.predictor.model.storageUri = 'models:/fraud/4';
    const r = normalizeAuditEvent(patch as unknown as AuditEvent, ctx({ config: cfg }));
    expect('event' in r && r.event.ml?.deployment).toMatchObject({ model_uri: 'models:/fraud/4', mlflow_workspace: 'team-a' });
    // An artifact URI names no registry: no workspace.
    const s3 = inferenceService('plain', 's3://bucket/plain', '2026-11-20T10:00:00Z', [{ name: 'MLFLOW_WORKSPACE', value: 'team-a' }]);
    const r2 = normalizeAuditEvent(s3 as unknown as AuditEvent, ctx({ config: cfg }));
    expect('event' in r2 && r2.event.ml?.deployment?.mlflow_workspace).toBeUndefined();
  });

  it('config: mlflow_workspace is an MLflow workspace name; errors name the key', () => {
    const env = {};
    const servers = { servers: [{ id: 'team', webhook_secrets: ['a-webhook-secret-of-team-0123456789'] }] };
    const cfg = loadConfig({ env, overrides: { connectors: { mlflow: servers, kubeflow: { mlflow_workspace: 'team-a', clusters: [{ id: 'b', token: 't1', mlflow_server: 'team', mlflow_workspace: 'team-b' }] } } } });
    const kf = cfg.connectors.kubeflow as KubeflowConfig;
    expect([kf.mlflow_workspace, kf.clusters[0]!.mlflow_workspace]).toEqual(['team-a', 'team-b']);
    expect(() => loadConfig({ env, overrides: { connectors: { mlflow: servers, kubeflow: { clusters: [{ id: 'b', token: 't1', mlflow_server: 'team', mlflow_workspace: 'Team_A' }] } } } })).toThrow(/connectors\.kubeflow\.clusters\.0\.mlflow_workspace.*MLflow workspace name/);
    expect(() => loadConfig({ env, overrides: { connectors: { kubeflow: { mlflow_workspace: 'a' } } } })).toThrow(/connectors\.kubeflow\.mlflow_workspace.*MLflow workspace name/);
  });
});
