import { describe, expect, it } from 'vitest';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { auditEvent } from './helpers.js';
import { normAudit as norm, workloadAccessAlerts as alerts, MALLORY } from './audit-harness.js';

type Obj = Record<string, unknown>;
const NS = 'kubeflow-user-alice';
const PROFILES = { username: 'system:serviceaccount:kubeflow:profiles-controller-service-account', groups: ['system:serviceaccounts', 'system:serviceaccounts:kubeflow', 'system:authenticated'] };
const rbacRef = (resource: string, name: string, namespace?: string) => ({ resource, name, apiGroup: 'rbac.authorization.k8s.io', apiVersion: 'v1', ...(namespace ? { namespace } : {}) });


/** falco's ClusterRoleBinding create (RequestResponse), binding another role to another subject. */
function falcoBinding(role: string, subject: Obj, user: Obj = MALLORY): Obj {
  const ev = structuredClone(readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_clusterrolebinding.json'));
  for (const k of ['requestObject', 'responseObject']) {
    const o = ev[k] as Obj;
    o.roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role };
    o.subjects = [subject];
  }
  ev.user = user;
  return ev;
}

/** A RoleBinding create in a namespace, as `kubectl create rolebinding` sends it (Request level). */
const roleBinding = (user: Obj, namespace: string, name: string, role: string, subjects: Obj[], over: Obj = {}) =>
  auditEvent({
    level: 'Request', verb: 'create', user, objectRef: rbacRef('rolebindings', name, namespace),
    requestURI: `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`,
    requestObject: { kind: 'RoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name, namespace }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects },
    responseStatus: { metadata: {}, code: 201 }, ...over,
  });
const alice = { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice@corp.example' };
const mallory = { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'mallory@corp.example' };

describe('platform.ml_workload_access: rights over ML namespaces granted outside Kubeflow', () => {
  it('a ClusterRoleBinding of cluster-admin to a user (falco capture, RequestResponse) alerts, naming role and subject', () => {
    const [a, ...rest] = alerts([falcoBinding('cluster-admin', mallory)]);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ severity: 'high', details: { access: 'role grant', workload: 'role_binding', role: 'cluster-admin', scope: 'cluster', identity: 'mallory@corp.example', object: 'some-reader-binding' } });
    expect(a!.summary).toContain('cluster-admin');
    expect(a!.summary).toContain('User mallory@corp.example');
  });

  it('the falco capture as recorded (system:basic-user) and a view grant raise nothing', () => {
    expect(alerts([readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_clusterrolebinding.json')])).toEqual([]);
    expect(alerts([roleBinding(MALLORY, NS, 'peek', 'kubeflow-view', [mallory])])).toEqual([]);
  });

  it('kubeflow-edit / admin in a watched namespace alerts; the same in an unwatched namespace does not', () => {
    const [edit] = alerts([roleBinding(MALLORY, NS, 'mallory-edit', 'kubeflow-edit', [mallory])]);
    expect(edit).toMatchObject({ details: { role: 'kubeflow-edit', scope: 'namespace', namespace: NS, subjects: [mallory] } });
    expect(alerts([roleBinding(MALLORY, NS, 'x', 'admin', [{ kind: 'ServiceAccount', name: 'default', namespace: 'team-b' }])])).toHaveLength(1);
    expect(alerts([roleBinding(MALLORY, 'team-b', 'mallory-edit', 'kubeflow-edit', [mallory])])).toEqual([]);
  });

  it("the profile controller's own bindings and KFAM's contributor add raise nothing; failed, dry-run and exempt ones neither", () => {
    const kfam = roleBinding(PROFILES, NS, 'user-bob-corp-example-clusterrole-edit', 'kubeflow-edit', [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob@corp.example' }]);
    ((kfam.requestObject as Obj).metadata as Obj).annotations = { user: 'bob@corp.example', role: 'edit' };
    const records = [
      roleBinding(PROFILES, NS, 'namespaceAdmin', 'kubeflow-admin', [alice]),
      roleBinding(PROFILES, NS, 'default-editor', 'kubeflow-edit', [{ kind: 'ServiceAccount', name: 'default-editor', namespace: NS }]),
      kfam,
      roleBinding(MALLORY, NS, 'm', 'kubeflow-admin', [mallory], { annotations: { 'authorization.k8s.io/decision': 'forbid' }, responseStatus: { metadata: {}, code: 403 } }),
      roleBinding(MALLORY, NS, 'm', 'kubeflow-admin', [mallory], { requestURI: `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings?dryRun=All` }),
    ];
    expect(alerts(records)).toEqual([]);
    expect(alerts([roleBinding(MALLORY, NS, 'm', 'kubeflow-admin', [mallory])], { 'platform.ml_workload_access': { exempt: ['mallory@*'] } })).toEqual([]);
    // A look-alike account of that name in a profile namespace is a user.
    expect(alerts([roleBinding({ username: `system:serviceaccount:${NS}:profiles-controller-service-account` }, NS, 'm', 'kubeflow-admin', [mallory])])).toHaveLength(1);
    // The apiserver reconciling its bootstrap cluster-admin binding at start.
    expect(alerts([falcoBinding('cluster-admin', { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:masters' }, { username: 'system:apiserver', groups: ['system:masters'] })])).toEqual([]);
  });

  it('a JSON patch adding a subject to namespaceAdmin (no roleRef in the patch) alerts as a kubeflow-admin grant', () => {
    const patch = auditEvent({
      level: 'Request', verb: 'patch', user: MALLORY, objectRef: rbacRef('rolebindings', 'namespaceAdmin', NS),
      requestURI: `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings/namespaceAdmin`,
      requestObject: [{ op: 'add', path: '/subjects/-', value: mallory }],
    });
    const [a] = alerts([patch]);
    expect(a).toMatchObject({ details: { role: 'kubeflow-admin', role_from: 'name', subjects: [mallory] } });
    // Removing a subject grants nothing.
    expect(alerts([{ ...patch, requestObject: [{ op: 'remove', path: '/subjects/1' }] }])).toEqual([]);
  });

  it('a patch adding a subject to a binding of another name is judged by the roleRef the RequestResponse record answers with', () => {
    const answer = { kind: 'RoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name: 'team-admins', namespace: NS }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' }, subjects: [alice, mallory] };
    const patch = (requestObject: unknown) => auditEvent({
      level: 'RequestResponse', verb: 'patch', user: MALLORY, objectRef: rbacRef('rolebindings', 'team-admins', NS),
      requestURI: `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings/team-admins`, requestObject, responseObject: answer,
    });
    // kubectl patch --type=json, and a merge patch repeating the subjects list.
    for (const body of [[{ op: 'add', path: '/subjects/-', value: mallory }], { subjects: [alice, mallory] }]) {
      const [a, ...rest] = alerts([patch(body)]);
      expect(rest).toEqual([]);
      expect(a).toMatchObject({ details: { role: 'admin', scope: 'namespace', namespace: NS } });
    }
    // A group of every ServiceAccount of a namespace, bound to cluster-admin by a RoleBinding in a watched namespace.
    const group = { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:serviceaccounts:team-b' };
    expect(alerts([roleBinding(MALLORY, NS, 'ci', 'cluster-admin', [group])]).map((x) => [x.details.role, x.details.scope])).toEqual([['cluster-admin', 'namespace']]);
  });

  it("normalize: KFAM's contributor binding names the contributor added and the dashboard role; the actor stays KFAM", () => {
    const kfam = roleBinding(PROFILES, NS, 'user-bob-corp-example-clusterrole-edit', 'kubeflow-edit', [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob@corp.example' }]);
    ((kfam.requestObject as Obj).metadata as Obj).annotations = { user: 'bob@corp.example', role: 'edit' };
    const [ev] = norm([kfam]);
    expect(ev!.details).toMatchObject({ kfam_contributor: { user: 'bob@corp.example', role: 'edit' }, by_profile_controller: true, role_grant: { role: 'kubeflow-edit', scope: 'namespace' } });
    expect(ev!.actor?.id).toBe(PROFILES.username);
    // The same annotations on a binding someone else wrote say nothing of KFAM.
    const [other] = norm([{ ...kfam, user: MALLORY }]);
    expect(other!.details?.kfam_contributor).toBeUndefined();
  });
});
