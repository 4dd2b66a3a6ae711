import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { mlflowConnector } from '../../../connectors/mlflow/index.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { ctx } from './helpers.js';

/**
 * A KServe endpoint is `<namespace>/<name>`: InferenceService names are unique
 * per namespace only, and each Kubeflow profile is a namespace. Records are the
 * falco RequestResponse audit fixture with the object, user and bodies changed,
 * and the MLflow webhook fixtures with the model renamed.
 */
type Obj = Record<string, any>;
const AUDIT = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');
let seq = 0;

interface Write {
  verb?: string;
  ns?: string;
  name: string;
  user?: string;
  uri?: string;
  at: string;
  resource?: string;
  subresource?: string;
  body?: unknown;
}

/** An audit record of a write to a KServe object (an InferenceService unless `resource` says otherwise). */
function kserve({ verb = 'create', ns, name, user = 'alice@example.com', uri, at, resource = 'inferenceservices', subresource, body }: Write): Obj {
  const ev = structuredClone(AUDIT);
  const object = { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name, namespace: ns }, spec: { predictor: { model: { modelFormat: { name: 'sklearn' }, storageUri: uri } } } };
  return {
    ...ev,
    auditID: `${ev.auditID}-ep-${++seq}`,
    verb,
    requestURI: `/apis/serving.kserve.io/v1beta1/${ns ? `namespaces/${ns}/` : ''}${resource}${verb === 'create' ? '' : `/${name}`}${subresource ? `/${subresource}` : ''}`,
    user: { username: user, groups: ['system:authenticated'] },
    objectRef: { resource, namespace: ns, name, apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1', subresource },
    responseStatus: { metadata: {}, code: verb === 'create' ? 201 : 200 },
    requestObject: body === undefined ? (uri ? object : undefined) : body,
    responseObject: undefined,
    requestReceivedTimestamp: at,
    stageTimestamp: at,
  };
}

const kf = (record: Obj) => {
  const out = kubeflowConnector.normalize!(record, ctx());
  expect(out.rejected).toEqual([]);
  expect(out.events).toHaveLength(1);
  return NormalizedEvent.parse(out.events[0]);
};

const mlflowCtx = { channel: 'test', receivedTime: '2026-11-20T12:00:00.000Z', keepRaw: false, config: MlflowConfig.parse({}) };
/** An MLflow webhook fixture with its model, version and time replaced. */
function mlflow(file: string, data: Obj, timestamp: string): NormalizedEvent {
  const envelope = readFixtureJson<Obj>('mlflow', file);
  const out = mlflowConnector.normalize!({ ...envelope, timestamp, data: { ...envelope.data, ...data } }, mlflowCtx);
  expect(out.rejected).toEqual([]);
  return NormalizedEvent.parse(out.events[0]);
}

const alertsOf = (evs: NormalizedEvent[], rule: string) => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === rule);

describe('every event naming a KServe endpoint carries <namespace>/<name>', () => {
  const ns = 'kubeflow-user-bob';
  const EP = `${ns}/churn`;

  it('create, JSON patch, label patch, status write, delete, read, LLMInferenceService, InferenceGraph; resource.name stays plain', () => {
    const cases: Array<[string, Obj, string]> = [
      ['create', kserve({ ns, name: 'churn', uri: 's3://models/churn/v2', at: '2026-11-20T11:00:00Z' }), 'endpoint.create'],
      ['json patch', kserve({ verb: 'patch', ns, name: 'churn', at: '2026-11-20T11:01:00Z', body: [{ op: 'replace', path: '/spec/predictor/model/storageUri', value: 's3://models/churn/v3' }] }), 'endpoint.update'],
      ['label patch', kserve({ verb: 'patch', ns, name: 'churn', at: '2026-11-20T11:02:00Z', body: { metadata: { labels: { team: 'risk' } } } }), 'endpoint.update'],
      ['status', kserve({ verb: 'update', ns, name: 'churn', at: '2026-11-20T11:03:00Z', subresource: 'status', user: 'system:serviceaccount:kubeflow:kserve-controller-manager', body: { status: {} } }), 'endpoint.status_change'],
      ['delete', kserve({ verb: 'delete', ns, name: 'churn', at: '2026-11-20T11:04:00Z' }), 'endpoint.delete'],
      ['get', kserve({ verb: 'get', ns, name: 'churn', at: '2026-11-20T11:05:00Z' }), 'endpoint.read'],
    ];
    for (const [what, record, action] of cases) {
      const ev = kf(record);
      expect({ what, action: ev.action, endpoint: ev.ml?.deployment?.endpoint, name: ev.resource?.name, ns: ev.resource?.namespace }).toEqual({ what, action, endpoint: EP, name: 'churn', ns });
    }
    const llm = kf(kserve({ ns, name: 'chat', resource: 'llminferenceservices', at: '2026-11-20T11:06:00Z', body: { spec: { model: { uri: 'hf://acme/llm' } } } }));
    expect(llm.ml?.deployment).toEqual({ endpoint: `${ns}/chat`, model_uri: 'hf://acme/llm' });
    const graph = kf(kserve({ ns, name: 'ensemble', resource: 'inferencegraphs', at: '2026-11-20T11:07:00Z', body: { spec: { nodes: {} } } }));
    expect(graph.ml?.deployment?.endpoint).toBe(`${ns}/ensemble`);
  });

  it('an object without a namespace keeps its name', () => {
    expect(kf(kserve({ name: 'churn', uri: 's3://models/churn/v2', at: '2026-11-20T11:00:00Z' })).ml?.deployment?.endpoint).toBe('churn');
  });
});

describe('two profiles’ InferenceServices of the same name are two endpoints for the rules', () => {
  // churn v1 (production) and v2 (champion) are both approved.
  const registry = [
    mlflow('model_version.created.json', { name: 'churn', version: '1', source: 's3://models/churn/v1' }, '2026-11-20T10:00:00.000000+00:00'),
    mlflow('model_version.created.json', { name: 'churn', version: '2', source: 's3://models/churn/v2' }, '2026-11-20T10:01:00.000000+00:00'),
    mlflow('model_version_alias.created.json', { name: 'churn', alias: 'production', version: '1' }, '2026-11-20T10:02:00.000000+00:00'),
    mlflow('model_version_alias.created.json', { name: 'churn', alias: 'champion', version: '2' }, '2026-11-20T10:03:00.000000+00:00'),
  ];

  it('bob serving v2 in his profile and alice v1 in hers is no rollback; v2 then v1 in one profile is', () => {
    const bob = kf(kserve({ ns: 'kubeflow-user-bob', name: 'churn', user: 'bob@example.com', uri: 's3://models/churn/v2', at: '2026-11-20T11:00:00Z' }));
    const alice = kf(kserve({ ns: 'kubeflow-user-alice', name: 'churn', user: 'alice@example.com', uri: 's3://models/churn/v1', at: '2026-11-21T11:00:00Z' }));
    expect(alertsOf([...registry, bob, alice], 'registry.version_rollback')).toEqual([]);
    // The same two deploys in bob's profile are a rollback: the rule is on and judges this pair.
    const back = kf(kserve({ verb: 'update', ns: 'kubeflow-user-bob', name: 'churn', user: 'bob@example.com', uri: 's3://models/churn/v1', at: '2026-11-21T11:00:00Z' }));
    const rollback = alertsOf([...registry, bob, back], 'registry.version_rollback');
    expect(rollback.map((a) => a.entity.id)).toEqual(['kubeflow-user-bob/churn']);
  });

  it('an unapproved model deployed to alice/scorer and to zoe/scorer raises one alert per endpoint (neither suppresses the other)', () => {
    const mallory = kf(kserve({ ns: 'kubeflow-user-alice', name: 'scorer', user: 'mallory@example.com', uri: 's3://drop/evil', at: '2026-11-20T10:00:00Z' }));
    const trent = kf(kserve({ ns: 'kubeflow-user-zoe', name: 'scorer', user: 'trent@example.com', uri: 's3://drop/evil', at: '2026-11-20T12:00:00Z' }));
    const alerts = alertsOf([...registry, mallory, trent], 'registry.unapproved_deployment');
    expect(alerts.map((a) => a.entity.id).sort()).toEqual(['kubeflow-user-alice/scorer', 'kubeflow-user-zoe/scorer']);
  });
});
