import { afterEach, describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { AUDIT_ROUTE } from '../../../connectors/kubeflow/route.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { fromServer, type NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { harness, Hono, listen } from './helpers.js';

/**
 * Which MLflow registry a KServe predictor loads `models:/…` from, as its serving container's env says: the
 * container that serves among several. Records are the falco RequestResponse audit fixture with the object, user
 * and bodies changed.
 */
type Obj = Record<string, any>;
const AUDIT = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');
const TOKEN = 'default-cluster-token-5c1d9e';
let seq = 0;

type Env = Array<Record<string, unknown>>;
const ws = (value: string) => ({ name: 'MLFLOW_WORKSPACE', value });

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

/** The audit route with `kubeflow` settings. */
async function start(kubeflow: Record<string, unknown>) {
  const h = harness({ namespaces: ['prod'], ...kubeflow }, { ingestToken: TOKEN });
  const app = new Hono();
  kubeflowConnector.routes!(app, h.deps);
  // Port 0: the kernel picks a free port.
  const srv = await listen(app);
  cleanup.push(() => h.close(), () => srv.close());
  const send = async (token: string, ...items: Obj[]) => {
    const res = await fetch(`${srv.url}${AUDIT_ROUTE}`, { method: 'POST', body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items }), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
  };
  return { h, send };
}

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
    expect(kube.map((e) => [e.resource?.name, e.ml?.deployment?.mlflow_workspace])).toEqual([
      ['sidecar-first', 'team-b'],
      ['sidecar-ref', 'team-a'],
      ['single', 'team-a'],
    ]);
    expect(unapproved([...fraud3('team', true, 'team-a'), ...fraud3('team', false, 'team-b'), ...kube])).toEqual([['prod/sidecar-first', 'never_approved']]);
  });
});
