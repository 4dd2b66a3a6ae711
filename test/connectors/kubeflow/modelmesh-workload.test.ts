import { describe, expect, it } from 'vitest';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { auditEvent } from './helpers.js';
import { normAudit as norm, workloadAccessAlerts as alerts, MALLORY } from './audit-harness.js';

type Obj = Record<string, unknown>;
const NS = 'kubeflow-user-alice';
const MM_POD = 'modelmesh-serving-triton-2.x-6d8b9c7f5-q2w3e';


/** The falco exec capture, pointed at another pod. */
function falcoExec(pod: string, query: string): Obj {
  const ev = structuredClone(readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_exec_pod.json'));
  ev.objectRef = { ...(ev.objectRef as Obj), namespace: NS, name: pod };
  ev.requestURI = `/api/v1/namespaces/${NS}/pods/${pod}/exec?${query}`;
  return ev;
}
const serviceProxy = (verb: string, name: string, path: string) =>
  auditEvent({ verb, user: MALLORY, objectRef: { resource: 'services', namespace: NS, name, apiVersion: 'v1', subresource: 'proxy' }, requestURI: `/api/v1/namespaces/${NS}/services/${name}/proxy/${path}` });

describe('ModelMesh runtime pods and the service proxy', () => {
  it('an exec into a ModelMesh runtime pod (by name) alerts as a model server; its Deployment by the modelmesh-service label too', () => {
    const [a] = alerts([falcoExec(MM_POD, 'command=sh&container=triton&stdin=true&tty=true')]);
    expect(a).toMatchObject({ details: { workload: 'model_server', component: 'modelmesh', access: 'exec', workload_from: 'name' } });
    expect(a!.summary).toContain('ModelMesh model server');
    const dep = auditEvent({
      level: 'Request', verb: 'update', user: MALLORY, objectRef: { resource: 'deployments', namespace: NS, name: 'mm-custom', apiGroup: 'apps', apiVersion: 'v1' },
      requestURI: `/apis/apps/v1/namespaces/${NS}/deployments/mm-custom`,
      requestObject: { kind: 'Deployment', metadata: { name: 'mm-custom', labels: { 'modelmesh-service': 'modelmesh-serving' } }, spec: { template: { metadata: { labels: { 'modelmesh-service': 'modelmesh-serving' } }, spec: { containers: [{ name: 'mm', image: 'kserve/modelmesh:v0.11.2' }] } } } },
    });
    const [ev] = norm([dep]);
    expect(ev!.details?.ml_workload).toEqual({ kind: 'model_server', component: 'modelmesh', from: 'labels' });
    expect(alerts([dep])).toHaveLength(1);
    // ModelMesh's controller writing its runtime Deployment is not judged.
    expect(alerts([{ ...dep, user: { username: 'system:serviceaccount:modelmesh-serving:modelmesh-controller' } }])).toEqual([]);
  });

  it("a write through the service proxy to a predictor's Service or ModelMesh's alerts; a read and another Service do not", () => {
    const got = alerts([
      serviceProxy('create', 'fraud-predictor:80', 'v2/repository/models/fraud/load'),
      serviceProxy('create', 'modelmesh-serving:8008', 'v2/models/x/infer'),
      serviceProxy('get', 'fraud-predictor:80', 'metrics'),
      serviceProxy('create', 'grafana:3000', 'api/dashboards'),
    ]);
    expect(got.map((a) => [a.details?.access, a.details?.endpoint, a.details?.component])).toEqual([
      ['proxy', `${NS}/fraud`, 'predictor'],
      ['proxy', undefined, 'modelmesh'],
    ]);
    // A Service object written (not proxied) is no model server write.
    expect(norm([auditEvent({ verb: 'create', user: MALLORY, objectRef: { resource: 'services', namespace: NS, name: 'fraud-predictor', apiVersion: 'v1' }, requestURI: `/api/v1/namespaces/${NS}/services` })])[0]!.details?.ml_workload).toBeUndefined();
  });
});
