import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { auditEvent, ctx } from './helpers.js';

/**
 * A KServe InferenceGraph (serving.kserve.io/v1alpha1) step's `serviceUrl` (kserve's InferenceTarget: nodeName,
 * serviceName or serviceUrl) to a host outside the cluster: the router sends every request there and serves the
 * answers (registry.unapproved_deployment, reason graph_external_service). Records: the helpers' k8s audit Event
 * shape; bodies as KServe's InferenceGraph samples write them.
 */
type Obj = Record<string, any>;
const NS = 'kubeflow-user-alice';
const RULE = 'registry.unapproved_deployment';
let seq = 0;
const graph = (steps: Obj[]) => ({ apiVersion: 'serving.kserve.io/v1alpha1', kind: 'InferenceGraph', metadata: { name: 'fraud-graph', namespace: NS }, spec: { nodes: { root: { routerType: 'Sequence', steps } } } });
function write(verb: 'create' | 'patch', resource: 'inferencegraphs' | 'inferenceservices', name: string, requestObject: unknown, responseObject?: unknown): Obj {
  return auditEvent({
    level: 'RequestResponse', verb, auditID: `ig-${++seq}`,
    requestURI: `/apis/serving.kserve.io/${resource === 'inferencegraphs' ? 'v1alpha1' : 'v1beta1'}/namespaces/${NS}/${resource}${verb === 'create' ? '' : `/${name}`}`,
    user: { username: 'mallory@example.com', groups: ['system:authenticated'] },
    objectRef: { resource, namespace: NS, name, apiGroup: 'serving.kserve.io', apiVersion: resource === 'inferencegraphs' ? 'v1alpha1' : 'v1beta1' },
    responseStatus: { metadata: {}, code: verb === 'create' ? 201 : 200 },
    requestObject, responseObject,
    requestReceivedTimestamp: `2026-11-25T10:${String(seq).padStart(2, '0')}:00.000000Z`, stageTimestamp: `2026-11-25T10:${String(seq).padStart(2, '0')}:00.100000Z`,
  });
}
const one = (r: Obj): NormalizedEvent => NormalizedEvent.parse(kubeflowConnector.normalize!(r, ctx()).events[0]);
const alerts = (records: Obj[], rules: Obj = {}) => replayEvents(records.map(one), { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE && a.details.reason === 'graph_external_service');
const isvc = (name: string) => write('create', 'inferenceservices', name, { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name, namespace: NS }, spec: { predictor: { model: { modelFormat: { name: 'sklearn' }, storageUri: 'gs://models/fraud/3' } } } });

describe('KServe InferenceGraph serviceUrl (registry.unapproved_deployment, graph_external_service)', () => {
  it('a step to a host outside the cluster alerts on the graph, naming node, URL and host (credentials hidden)', () => {
    const rec = write('create', 'inferencegraphs', 'fraud-graph', graph([{ serviceName: 'fraud-pre' }, { serviceUrl: 'https://user:s3cret@scoring.partner.example/v1/models/fraud:predict', data: '$response' }]));
    const ev = one(rec);
    expect(ev.details?.graph_service_urls).toEqual([{ node: 'root', url: 'https://[redacted]@scoring.partner.example/v1/models/fraud:predict' }]);
    const got = alerts([rec]);
    expect(got.map((a) => [a.entity.id, a.details.hosts, a.details.service_urls])).toEqual([[`${NS}/fraud-graph`, ['scoring.partner.example'], [{ node: 'root', url: 'https://[redacted]@scoring.partner.example/v1/models/fraud:predict' }]]]);
    expect(got[0]!.summary).toContain('sees every request');
    expect(JSON.stringify(got)).not.toContain('s3cret');
  });

  it('in-cluster targets do not: a known InferenceService by its name, *.svc, *.svc.cluster.local, a known InferenceService by its ingress URL; graph_hosts allows a host', () => {
    const inside = graph([
      { serviceUrl: 'http://fraud-pre/v1/models/pre:predict' },
      { serviceUrl: 'http://fraud-pre.kubeflow-user-alice.svc/v1/models/pre:predict' },
      { serviceUrl: `http://fraud-main.${NS}.svc.cluster.local/v1/models/main:predict` },
      { serviceUrl: `http://fraud-post.${NS}.example.com/v1/models/post:predict` },
    ]);
    expect(alerts([isvc('fraud-pre'), isvc('fraud-post'), write('create', 'inferencegraphs', 'fraud-graph', inside)])).toEqual([]);
    // The same ingress-style URL of an InferenceService never seen is not shown to be one, nor is a dotless name no Service was seen to have.
    expect(alerts([write('create', 'inferencegraphs', 'fraud-graph', inside)]).map((a) => a.details.hosts)).toEqual([[`fraud-post.${NS}.example.com`, 'fraud-pre']]);
    const partner = write('create', 'inferencegraphs', 'fraud-graph', graph([{ serviceUrl: 'https://scoring.partner.example/predict' }]));
    expect(alerts([partner], { [RULE]: { graph_hosts: ['*.partner.example'] } })).toEqual([]);
    expect(alerts([partner], { [RULE]: { endpoints: ['other/*'] } })).toEqual([]);
  });

  it('a Request-level JSON patch adding an outside step is judged from its ops', () => {
    const patch = write('patch', 'inferencegraphs', 'fraud-graph', [{ op: 'add', path: '/spec/nodes/root/steps/-', value: { serviceUrl: 'http://203.0.113.7:8080/predict' } }]);
    expect(one(patch).details?.graph_service_urls).toEqual([{ node: 'root', url: 'http://203.0.113.7:8080/predict' }]);
    expect(alerts([patch]).map((a) => a.details.hosts)).toEqual([['203.0.113.7']]);
  });
});

/** verify27b: a known InferenceService's name in front of anyone's domain, and KServe's component Service names. */
describe('KServe InferenceGraph serviceUrl hosts (verify27b)', () => {
  const graphOf = (...urls: string[]) => write('create', 'inferencegraphs', 'fraud-graph', graph([{ serviceName: 'fraud-post' }, ...urls.map((serviceUrl) => ({ serviceUrl }))]));

  it('<known isvc>.<namespace>.<another domain> is outside (was in-cluster: the attacker owns that DNS)', () => {
    const known = isvc('fraud-post');
    const got = alerts([known, graphOf(`https://fraud-post.${NS}.attacker.example/v1/models/post:predict`)]);
    expect(got.map((a) => a.details.hosts)).toEqual([[`fraud-post.${NS}.attacker.example`]]);
    // The cluster's own ingress domain is listed in graph_hosts.
    expect(alerts([known, graphOf(`https://fraud-post.${NS}.models.corp.example/v1/models/post:predict`)], { [RULE]: { graph_hosts: ['*.models.corp.example'] } })).toEqual([]);
  });

  it('in-cluster forms raise nothing: <name>.<ns>, <name>-predictor.<ns>, uppercase, trailing dot, default ingress domain over https', () => {
    const known = isvc('fraud-post');
    const inside = graphOf(
      `http://fraud-post.${NS}/v1/models/post:predict`,
      `http://fraud-post-predictor.${NS}/v1/models/post:predict`,
      `http://fraud-post-predictor-default.${NS}/v1/models/post:predict`,
      `http://FRAUD-POST.${NS.toUpperCase()}.SVC.CLUSTER.LOCAL./v1/models/post:predict`,
      `https://fraud-post.${NS}.example.com/v1/models/post:predict`,
    );
    expect(alerts([known, inside])).toEqual([]);
  });

  it('evasions stay outside: userinfo naming an in-cluster host, an IP literal, a component suffix on an unknown service, uppercase or trailing dot', () => {
    const known = isvc('fraud-post');
    const got = alerts([known, graphOf(
      `http://fraud-post.${NS}.svc.cluster.local@evil.example/p`,
      'http://10.96.0.15/p',
      `http://other-predictor.${NS}/p`,
      'https://EVIL.example./p',
    )]);
    expect(got.map((a) => a.details.hosts)).toEqual([['10.96.0.15', 'evil.example', `other-predictor.${NS}`]]);
  });
});
