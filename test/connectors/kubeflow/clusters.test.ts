import { afterEach, describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { loadConfig } from '../../../bridge/config.js';
import { KubeflowConfig } from '../../../connectors/kubeflow/config.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { fromServer, type NormalizedEvent } from '../../../core/schema/index.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { AUDIT_ROUTE } from '../../../connectors/kubeflow/route.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { harness, Hono, listen } from './helpers.js';

/**
 * Two Kubernetes clusters send their audit webhooks to one bridge, both with namespace `prod` and InferenceService
 * `fraud`. The bearer token tells which cluster sent a batch; each cluster's endpoints are its own. Records are the
 * falco RequestResponse audit fixture with the object, user and bodies changed.
 */
type Obj = Record<string, any>;
const AUDIT = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');
const DEFAULT_TOKEN = 'default-cluster-token-5e1f0a';
const B_TOKEN = 'cluster-b-token-9c2d7e41aa';
let seq = 0;

/** An audit record of an InferenceService written with `storageUri`. */
function inferenceService(verb: 'create' | 'update', ns: string, name: string, uri: string, at: string): Obj {
  const ev = structuredClone(AUDIT);
  return {
    ...ev,
    auditID: `${ev.auditID}-clusters-${++seq}`,
    verb,
    requestURI: `/apis/serving.kserve.io/v1beta1/namespaces/${ns}/inferenceservices${verb === 'create' ? '' : `/${name}`}`,
    user: { username: 'alice@example.com', groups: ['system:authenticated'] },
    objectRef: { resource: 'inferenceservices', namespace: ns, name, apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1' },
    responseStatus: { metadata: {}, code: verb === 'create' ? 201 : 200 },
    requestObject: { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name, namespace: ns }, spec: { predictor: { model: { modelFormat: { name: 'sklearn' }, storageUri: uri } } } },
    responseObject: undefined,
    requestReceivedTimestamp: at,
    stageTimestamp: at,
  };
}

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function start(opts: { bToken?: string; bMlflowServer?: string; mlflowServer?: string } = {}) {
  const clusterB = { id: 'cluster-b', token: opts.bToken ?? B_TOKEN, ...(opts.bMlflowServer ? { mlflow_server: opts.bMlflowServer } : {}) };
  const h = harness({ namespaces: ['prod'], clusters: [clusterB], ...(opts.mlflowServer ? { mlflow_server: opts.mlflowServer } : {}) }, { ingestToken: DEFAULT_TOKEN });
  const app = new Hono();
  kubeflowConnector.routes!(app, h.deps);
  // Port 0: a fixed port can be another test's client (ephemeral) port, and listen fails with EADDRINUSE.
  const srv = await listen(app);
  cleanup.push(() => h.close(), () => srv.close());
  const send = (token: string, ...items: Obj[]) =>
    fetch(`${srv.url}${AUDIT_ROUTE}`, { method: 'POST', body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items }), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
  return { h, send };
}

describe('several Kubernetes clusters sending audit webhooks to one bridge', () => {
  it("one cluster's prod/fraud is not another's: no rollback across clusters; its own rollback names the cluster", async () => {
    const { h, send } = await start();
    // The default cluster serves fraud v5; cluster B deploys its own prod/fraud with v3: no rollback.
    expect((await send(DEFAULT_TOKEN, inferenceService('create', 'prod', 'fraud', 'models:/fraud/5', '2026-11-20T10:00:00Z'))).status).toBe(200);
    expect((await send(B_TOKEN, inferenceService('create', 'prod', 'fraud', 'models:/fraud/3', '2026-11-20T10:05:00Z'))).status).toBe(200);
    const alerts = (rule: string) => replayEvents(h.events(), { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === rule);
    expect(alerts('registry.version_rollback')).toEqual([]);
    // Cluster B moves its endpoint back to v2: its own rollback, named in its cluster.
    expect((await send(B_TOKEN, inferenceService('update', 'prod', 'fraud', 'models:/fraud/2', '2026-11-20T10:10:00Z'))).status).toBe(200);
    const rollbacks = alerts('registry.version_rollback');
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]!.entity).toEqual({ type: 'endpoint', id: 'cluster-b:prod/fraud', name: 'prod/fraud', platform: 'kubeflow' });
    expect(rollbacks[0]!.details).toMatchObject({ from_version: '3', to_version: '2' });
    // Its summary says which cluster's prod/fraud moved; the default cluster's alerts name none.
    expect(rollbacks[0]!.summary).toMatch(/ \(on Kubernetes cluster cluster-b\)$/);
    expect(alerts('registry.unapproved_deployment').filter((a) => a.entity.id === 'prod/fraud').map((a) => a.summary).join()).not.toMatch(/cluster/);
    // Each cluster's deployments alert apart (the default cluster's endpoint as before).
    expect(new Set(alerts('registry.unapproved_deployment').map((a) => a.entity.id))).toEqual(new Set(['prod/fraud', 'cluster-b:prod/fraud']));
    // Events say their cluster; the default cluster's stay as they were.
    expect(h.events().map((e) => e.cloud?.account ?? null)).toEqual([null, 'cluster-b', 'cluster-b']);
  });

  it("two clusters' batches with the same audit ids are both kept; a cluster's retry is a duplicate", async () => {
    const { h, send } = await start();
    const item = inferenceService('create', 'prod', 'fraud', 'models:/fraud/1', '2026-11-20T10:00:00Z');
    expect(await (await send(DEFAULT_TOKEN, item)).json()).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(await (await send(B_TOKEN, item)).json()).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(await (await send(B_TOKEN, item)).json()).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(h.events()).toHaveLength(2);
  });

  it("an alert on a person (one across clusters, so unscoped) says which cluster's request it judged", async () => {
    const { h, send } = await start();
    const refused = (auditID: string) => ({
      ...structuredClone(AUDIT), auditID, verb: 'get',
      requestURI: '/api/v1/namespaces/prod/secrets/mlflow-db', user: { username: 'mallory@example.com', groups: ['system:authenticated'] },
      objectRef: { resource: 'secrets', namespace: 'prod', name: 'mlflow-db', apiVersion: 'v1' },
      responseStatus: { metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403, message: 'secrets "mlflow-db" is forbidden: User "mallory@example.com" cannot get resource "secrets" in API group "" in the namespace "prod"' },
      requestObject: undefined, responseObject: undefined,
      requestReceivedTimestamp: '2026-11-20T10:00:00Z', stageTimestamp: '2026-11-20T10:00:00Z',
    });
    expect((await send(B_TOKEN, refused('refused-b'))).status).toBe(200);
    expect((await send(DEFAULT_TOKEN, { ...refused('refused-default'), requestReceivedTimestamp: '2026-11-21T10:00:00Z', stageTimestamp: '2026-11-21T10:00:00Z' })).status).toBe(200);
    const failures = replayEvents(h.events(), { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'ingestion.source_auth_failure');
    expect(failures.map((a) => a.entity)).toEqual([{ type: 'identity', id: 'mallory@example.com' }, { type: 'identity', id: 'mallory@example.com' }]);
    // Cluster B's refusal names the cluster; the default cluster's summary is as it was.
    expect(failures[0]!.summary).toMatch(/on mlflow-db.* \(on Kubernetes cluster cluster-b\)$/);
    expect(failures[1]!.summary).not.toMatch(/cluster/);
  });

  it('a token of no cluster is still a 401 and nothing is kept', async () => {
    const { h, send } = await start();
    const res = await send('cluster-c-token-not-configured', inferenceService('create', 'prod', 'fraud', 'models:/fraud/1', '2026-11-20T10:00:00Z'));
    expect(res.status).toBe(401);
    expect(h.events().map((e) => e.channel)).toEqual(['kubeflow.k8s_audit']);
    expect(h.events()[0]!.stage).toBe('ingestion');
  });

  it('a cluster token read from a secret file (trailing newline) still authenticates its cluster, as MLTRAIL_INGEST_TOKEN does', async () => {
    // `token: "${CLUSTER_B_AUDIT_TOKEN}"` from a Kubernetes Secret mounted as env keeps the file's newline; the
    // apiserver sends the kubeconfig's token without it. Unread, every batch was a 401 the apiserver drops after five tries.
    const { h, send } = await start({ bToken: `${B_TOKEN}\n` });
    expect((await send(B_TOKEN, inferenceService('create', 'prod', 'fraud', 'models:/fraud/1', '2026-11-20T10:00:00Z'))).status).toBe(200);
    expect(h.events().map((e) => e.cloud?.account)).toEqual(['cluster-b']);
    // A blank token would be no token at all: a config error naming it.
    expect(() => KubeflowConfig.parse({ clusters: [{ id: 'b', token: ' \n' }] })).toThrow(/clusters.*token|token/);
  });

  it('config: cluster ids and tokens are each one cluster\'s; unknown keys are errors', () => {
    expect(KubeflowConfig.parse({ clusters: [{ id: 'b', token: 't1' }] }).clusters).toEqual([{ id: 'b', token: 't1' }]);
    expect(() => KubeflowConfig.parse({ clusters: [{ id: 'b', token: 't1' }, { id: 'b', token: 't2' }] })).toThrow(/used twice/);
    expect(() => KubeflowConfig.parse({ clusters: [{ id: 'b', token: 't1' }, { id: 'c', token: 't1' }] })).toThrow(/another cluster/);
    expect(() => KubeflowConfig.parse({ clusters: [{ id: 'b', token: 't1', ca: 'x' }] })).toThrow(/ca/);
    expect(() => KubeflowConfig.parse({ clusters: [{ id: 'b:c', token: 't1' }] })).toThrow(/letters, digits/);
  });

  describe('a cluster that says which MLflow server it loads models:/ from (mlflow_server)', () => {
    /** MLflow 3.x webhook bodies, normalized as the webhook route does, of the server `server` (undefined: the default one). */
    const mlflow = (server: string | undefined, ...bodies: Array<[string, string, string, Record<string, unknown>]>): NormalizedEvent[] =>
      bodies.flatMap(([entity, action, timestamp, data], i) =>
        normalizeMlflow({ entity, action, timestamp, data }, { channel: 'mlflow.webhook', receivedTime: timestamp, keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: `d-${server}-${timestamp}-${i}` } }).events,
      ).map((e) => (server ? fromServer(e, server) : e));
    const registry = (server: string | undefined, champion: boolean) => mlflow(server,
      ['registered_model', 'created', '2026-11-19T10:00:00.000000+00:00', { name: 'fraud', tags: {}, description: null }],
      ['model_version', 'created', '2026-11-19T10:01:00.000000+00:00', { name: 'fraud', version: '2', source: `s3://${server ?? 'default'}/fraud/2`, run_id: `run-${server ?? 'default'}`, tags: {}, description: null }],
      ...(champion ? [['model_version_alias', 'created', '2026-11-19T10:02:00.000000+00:00', { name: 'fraud', alias: 'champion', version: '2' }] as [string, string, string, Record<string, unknown>]] : []));

    it("judges the deployment against that server's alias and version, not the default server's", async () => {
      // The team server approved fraud v2 (champion); the default server has its own fraud v2, never approved.
      const { h, send } = await start({ bMlflowServer: 'team' });
      const registries = [...registry('team', true), ...registry(undefined, false)];
      expect((await send(B_TOKEN, inferenceService('create', 'prod', 'fraud', 'models:/fraud@champion', '2026-11-20T10:00:00Z'))).status).toBe(200);
      expect((await send(B_TOKEN, inferenceService('create', 'prod', 'fraud-v', 'models:/fraud/2', '2026-11-20T10:01:00Z'))).status).toBe(200);
      // The default cluster says no server: models:/fraud@champion is the default server's, which holds no champion.
      expect((await send(DEFAULT_TOKEN, inferenceService('create', 'prod', 'fraud', 'models:/fraud@champion', '2026-11-20T10:02:00Z'))).status).toBe(200);
      const kube = h.events();
      expect(kube.map((e) => e.ml?.deployment?.mlflow_server)).toEqual(['team', 'team', undefined]);
      const unapproved = replayEvents([...registries, ...kube], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
      expect(unapproved.map((a) => a.entity.id)).toEqual(['prod/fraud']);
    });

    it("the default cluster's setting is connectors.kubeflow.mlflow_server; a configured cluster does not take it", async () => {
      const { h, send } = await start({ mlflowServer: 'team' });
      expect((await send(DEFAULT_TOKEN, inferenceService('create', 'prod', 'fraud', 'models:/fraud@champion', '2026-11-20T10:00:00Z'))).status).toBe(200);
      expect((await send(B_TOKEN, inferenceService('create', 'prod', 'fraud', 'models:/fraud@champion', '2026-11-20T10:01:00Z'))).status).toBe(200);
      expect((await send(DEFAULT_TOKEN, inferenceService('create', 'prod', 'plain', 's3://bucket/plain', '2026-11-20T10:02:00Z'))).status).toBe(200);
      expect(h.events().map((e) => [e.cloud?.account, e.ml?.deployment?.mlflow_server])).toEqual([[undefined, 'team'], ['cluster-b', undefined], [undefined, undefined]]);
      const unapproved = replayEvents([...registry('team', true), ...h.events()], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
      expect(unapproved.map((a) => a.entity.id).sort()).toEqual(['cluster-b:prod/fraud', 'prod/plain']);
    });

    it('config: the server must be one of connectors.mlflow.servers', () => {
      const env = {};
      const mlflowServers = { servers: [{ id: 'team', webhook_secrets: ['a-webhook-secret-of-team-0123456789'] }] };
      const cfg = loadConfig({ env, overrides: { connectors: { mlflow: mlflowServers, kubeflow: { mlflow_server: 'team', clusters: [{ id: 'b', token: 't1', mlflow_server: 'team' }] } } } });
      expect((cfg.connectors.kubeflow as KubeflowConfig).clusters[0]!.mlflow_server).toBe('team');
      expect(() => loadConfig({ env, overrides: { connectors: { mlflow: mlflowServers, kubeflow: { clusters: [{ id: 'b', token: 't1', mlflow_server: 'prod' }] } } } })).toThrow(/clusters.*0.*mlflow_server|names no MLflow server/);
      expect(() => loadConfig({ env, overrides: { connectors: { kubeflow: { mlflow_server: 'team' } } } })).toThrow(/names no MLflow server/);
      expect(() => KubeflowConfig.parse({ clusters: [{ id: 'b', token: 't1', mlflow_server: 'a:b' }] })).toThrow(/letters, digits/);
    });
  });
});
