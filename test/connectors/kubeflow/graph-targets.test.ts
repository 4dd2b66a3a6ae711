import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { auditEvent, ctx } from './helpers.js';

/** InferenceGraph steps to ExternalName Services, LLMInferenceServices and ModelMesh Predictors (registry.unapproved_deployment, graph_external_service). */
type Obj = Record<string, any>;
const NS = 'kubeflow-user-alice';
const RULE = 'registry.unapproved_deployment';
let seq = 0;
const graph = (steps: Obj[]) => ({ apiVersion: 'serving.kserve.io/v1alpha1', kind: 'InferenceGraph', metadata: { name: 'fraud-graph', namespace: NS }, spec: { nodes: { root: { routerType: 'Sequence', steps } } } });
function write(verb: string, resource: string, group: string, version: string, name: string, requestObject?: unknown): Obj {
  return auditEvent({
    level: 'RequestResponse', verb, auditID: `gt-${++seq}`,
    requestURI: `/${group ? `apis/${group}` : 'api'}/${version}/namespaces/${NS}/${resource}${verb === 'create' ? '' : `/${name}`}`,
    user: { username: 'mallory@example.com', groups: ['system:authenticated'] },
    objectRef: { resource, namespace: NS, name, ...(group ? { apiGroup: group } : {}), apiVersion: version },
    responseStatus: { metadata: {}, code: verb === 'create' ? 201 : 200 },
    ...(requestObject === undefined ? {} : { requestObject }),
    requestReceivedTimestamp: `2026-11-25T10:${String(seq % 60).padStart(2, '0')}:00.000000Z`, stageTimestamp: `2026-11-25T10:${String(seq % 60).padStart(2, '0')}:00.100000Z`,
  });
}
const igWrite = (steps: Obj[]) => write('create', 'inferencegraphs', 'serving.kserve.io', 'v1alpha1', 'fraud-graph', graph(steps));
const service = (name: string, spec: Obj, verb = 'create') => write(verb, 'services', '', 'v1', name, { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec });
const one = (r: Obj): NormalizedEvent => NormalizedEvent.parse(kubeflowConnector.normalize!(r, ctx()).events[0]);
const alerts = (records: Obj[]) => replayEvents(records.map(one), { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === RULE && a.details.reason === 'graph_external_service');

describe('InferenceGraph targets: ExternalName Services, LLMInferenceServices, ModelMesh Predictors', () => {
  it('a dotless step naming an ExternalName Service that resolves outside the cluster alerts; one resolving to a cluster Service does not', () => {
    const got = alerts([service('scorer', { type: 'ExternalName', externalName: 'api.scoring.example.net' }), igWrite([{ serviceUrl: 'http://scorer/v1/models/fraud:predict' }])]);
    expect(got.map((a) => a.details.hosts)).toEqual([['scorer']]);
    expect(alerts([service('scorer', { type: 'ExternalName', externalName: 'fraud-main.team-b.svc.cluster.local' }), igWrite([{ serviceUrl: 'http://scorer/v1/models/fraud:predict' }])])).toEqual([]);
    // `<svc>.<namespace>.svc` naming it is the same alias.
    expect(alerts([service('scorer', { type: 'ExternalName', externalName: 'api.scoring.example.net' }), igWrite([{ serviceUrl: `http://scorer.${NS}.svc/predict` }])])).toHaveLength(1);
  });

  it('the Service changed back to ClusterIP is inside again; deleted, its name resolves through the DNS search domains and is judged', () => {
    const ext = service('scorer', { type: 'ExternalName', externalName: 'api.scoring.example.net' });
    expect(alerts([ext, service('scorer', { type: 'ClusterIP', ports: [{ port: 80 }] }, 'update'), igWrite([{ serviceUrl: 'http://scorer/predict' }])])).toEqual([]);
    expect(alerts([ext, write('delete', 'services', '', 'v1', 'scorer'), igWrite([{ serviceUrl: 'http://scorer/predict' }])])).toMatchObject([{ details: { hosts: ['scorer'], unknown_services: ['scorer'] } }]);
  });

  it('a dotless step is inside only when it names a Service, InferenceService or Knative Service seen in the graph\'s namespace', () => {
    const got = alerts([igWrite([{ serviceUrl: 'http://scorer/v1/models/fraud:predict' }])]);
    expect(got).toMatchObject([{ details: { hosts: ['scorer'], unknown_services: ['scorer'] } }]);
    expect(got[0]!.summary).toContain('DNS search domains');
    expect(alerts([service('scorer', { type: 'ClusterIP', ports: [{ port: 80 }] }), igWrite([{ serviceUrl: 'http://scorer/predict' }])])).toEqual([]);
    const ksvc = write('create', 'services', 'serving.knative.dev', 'v1', 'scorer', { apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 'scorer', namespace: NS }, spec: { template: { spec: { containers: [{ image: 'ghcr.io/corp/scorer:1' }] } } } });
    expect(alerts([ksvc, igWrite([{ serviceUrl: 'http://scorer/predict' }])])).toEqual([]);
    // A Service of that name in another namespace, a refused create, or a dry run say nothing of the graph's namespace.
    const elsewhere = { ...service('scorer', { type: 'ClusterIP' }), objectRef: { resource: 'services', namespace: 'team-b', name: 'scorer', apiVersion: 'v1' } };
    const refused = { ...service('scorer', { type: 'ClusterIP' }), responseStatus: { metadata: {}, code: 403 }, annotations: { 'authorization.k8s.io/decision': 'forbid' } };
    const dry = { ...service('scorer', { type: 'ClusterIP' }), requestURI: `/api/v1/namespaces/${NS}/services?dryRun=All` };
    for (const r of [elsewhere, refused, dry]) expect(alerts([r, igWrite([{ serviceUrl: 'http://scorer/predict' }])])).toHaveLength(1);
    // A Service made before mltrail watched: listed in graph_hosts.
    expect(replayEvents([one(igWrite([{ serviceUrl: 'http://scorer/predict' }]))], { rules: RulesConfig.parse({ [RULE]: { graph_hosts: ['scorer'] } }) }).alerts.filter((a) => a.rule_id === RULE)).toEqual([]);
  });

  it('a Service a judged graph names, turned into an ExternalName outside the cluster afterwards, alerts on the graph then', () => {
    // Written before the graph (records replay in time order): the dotless name is a Service of the namespace.
    const inside = service('scorer', { type: 'ClusterIP', ports: [{ port: 80 }] });
    const cip = service('scorer', { type: 'ClusterIP', ports: [{ port: 80 }] });
    const g = igWrite([{ serviceUrl: 'http://scorer/v1/models/fraud:predict' }]);
    const later = alerts([inside, g, service('scorer', { type: 'ExternalName', externalName: 'api.scoring.example.net' }, 'update')]);
    expect(later.map((a) => [a.entity.id, a.details.hosts, a.details.service, a.details.external_name])).toEqual([[`${NS}/fraud-graph`, ['scorer'], `${NS}/scorer`, 'api.scoring.example.net']]);
    // Made after the graph (a dotless name no Service held yet), and by `<svc>.<ns>.svc.cluster.local`, the same.
    expect(alerts([igWrite([{ serviceUrl: `http://scorer.${NS}.svc.cluster.local/predict` }]), service('scorer', { type: 'ExternalName', externalName: 'api.scoring.example.net' })])).toHaveLength(1);
    // Near misses: an ExternalName to another cluster Service, a Service no graph names, a graph deleted before.
    expect(alerts([cip, g, service('scorer', { type: 'ExternalName', externalName: 'fraud-main.team-b.svc.cluster.local' }, 'update')])).toEqual([]);
    expect(alerts([cip, g, service('other', { type: 'ExternalName', externalName: 'api.scoring.example.net' })])).toEqual([]);
    expect(alerts([cip, g, write('delete', 'inferencegraphs', 'serving.kserve.io', 'v1alpha1', 'fraud-graph'), service('scorer', { type: 'ExternalName', externalName: 'api.scoring.example.net' })])).toEqual([]);
  });

  it("an LLMInferenceService's and a ModelMesh Predictor's URLs are known targets once seen", () => {
    const llm = write('create', 'llminferenceservices', 'serving.kserve.io', 'v1alpha1', 'chat', { apiVersion: 'serving.kserve.io/v1alpha1', kind: 'LLMInferenceService', metadata: { name: 'chat', namespace: NS }, spec: { model: { uri: 'hf://meta-llama/Llama-3.1-8B-Instruct' } } });
    const pred = write('create', 'predictors', 'serving.kserve.io', 'v1alpha1', 'mnist', { apiVersion: 'serving.kserve.io/v1alpha1', kind: 'Predictor', metadata: { name: 'mnist', namespace: NS }, spec: { modelType: { name: 'sklearn' }, path: 'sklearn/mnist-svm.joblib', storage: { s3: { secretKey: 'localMinIO' } } } });
    const steps = [{ serviceUrl: `http://chat.${NS}.example.com/v1/chat/completions` }, { serviceUrl: `http://modelmesh-serving.${NS}:8008/v2/models/mnist/infer` }];
    expect(alerts([llm, pred, igWrite(steps)])).toEqual([]);
    expect(alerts([igWrite(steps)]).map((a) => a.details.hosts)).toEqual([[`chat.${NS}.example.com`, `modelmesh-serving.${NS}`]]);
  });
});
