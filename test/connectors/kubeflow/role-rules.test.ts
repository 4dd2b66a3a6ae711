import { describe, expect, it } from 'vitest';
import { auditRelevance } from '../../../connectors/kubeflow/filter.js';
import { namespaceMatcher } from '../../../connectors/kubeflow/namespaces.js';
import { auditEvent } from './helpers.js';
import { workloadAccessAlerts as alerts, RBAC, MALLORY, saUser as sa, ARGOCD, rbacRef as ref } from './audit-harness.js';

type Obj = Record<string, unknown>;
const NS = 'kubeflow-user-alice';

/** A Role / ClusterRole write as `kubectl apply` / `create role` sends it (Request level). */
const roleWrite = (verb: string, resource: 'roles' | 'clusterroles', name: string, body: unknown, user: Obj = MALLORY, namespace?: string, level = 'Request') =>
  auditEvent({
    level, verb, user, objectRef: ref(resource, name, namespace),
    requestURI: `/apis/${RBAC}/v1/${namespace ? `namespaces/${namespace}/` : ''}${resource}${verb === 'create' ? '' : `/${name}`}`,
    ...(body === undefined ? {} : { requestObject: body }),
    responseStatus: { metadata: {}, code: verb === 'create' ? 201 : 200 },
  });
const role = (kind: string, name: string, rules: Obj[], labels?: Obj, namespace?: string) =>
  ({ apiVersion: `${RBAC}/v1`, kind, metadata: { name, ...(namespace ? { namespace } : {}), ...(labels ? { labels } : {}) }, rules });

describe('platform.ml_workload_access: roles with rights over ML workloads', () => {
  const exec = { apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get'] };
  const secrets = { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] };
  const all = { apiGroups: ['*'], resources: ['*'], verbs: ['*'] };

  it('a Role in a watched namespace with pods/exec and Secrets, created by a person, alerts naming the rights; one in an unwatched namespace or with read-only rights does not', () => {
    const [a, ...rest] = alerts([roleWrite('create', 'roles', 'debug', role('Role', 'debug', [exec, secrets], undefined, NS), MALLORY, NS)]);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ details: { access: 'role rules', workload: 'role', role: 'debug', scope: 'namespace', namespace: NS, rights: ['create,get pods/exec', 'get,list secrets'] } });
    expect(a!.title).toContain('Role with rights over ML workloads written');
    expect(alerts([
      roleWrite('create', 'roles', 'debug', role('Role', 'debug', [exec], undefined, 'team-b'), MALLORY, 'team-b'),
      roleWrite('create', 'roles', 'reader', role('Role', 'reader', [{ apiGroups: [''], resources: ['pods', 'configmaps'], verbs: ['get', 'list'] }], undefined, NS), MALLORY, NS),
    ])).toEqual([]);
  });

  it('escalate / bind / impersonate, `*`, and a JSON patch adding a verb `*` are rights', () => {
    const esc = alerts([roleWrite('create', 'roles', 'binder', role('Role', 'binder', [{ apiGroups: [RBAC], resources: ['roles'], verbs: ['bind', 'escalate'] }], undefined, NS), MALLORY, NS)]);
    expect(esc[0]!.details.rights).toEqual(['bind roles', 'escalate roles']);
    expect(alerts([roleWrite('create', 'roles', 'all', role('Role', 'all', [all], undefined, NS), MALLORY, NS)])[0]!.details.rights).toEqual(['* *']);
    const [p] = alerts([roleWrite('patch', 'roles', 'reader', [{ op: 'add', path: '/rules/0/verbs/-', value: '*' }], MALLORY, NS)]);
    expect(p).toMatchObject({ details: { rules_partial: true, rights: ['* ?'] } });
  });

  it('a ClusterRole aggregated into kubeflow-edit (or edit) with `*`, or one labelled so by a patch, alerts; an unaggregated ClusterRole does not', () => {
    const evil = role('ClusterRole', 'ml-extras', [all], { 'rbac.authorization.kubeflow.org/aggregate-to-kubeflow-edit': 'true' });
    const [a] = alerts([roleWrite('create', 'clusterroles', 'ml-extras', evil)]);
    expect(a).toMatchObject({ details: { workload: 'cluster_role', scope: 'cluster', aggregated_by: ['rbac.authorization.kubeflow.org/aggregate-to-kubeflow-edit'], rights: ['* *'] } });
    expect(a!.summary).toContain('kubeflow-edit');
    expect(alerts([roleWrite('create', 'clusterroles', 'x', role('ClusterRole', 'x', [secrets], { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' }))])).toHaveLength(1);
    expect(alerts([roleWrite('patch', 'clusterroles', 'ml-extras', [{ op: 'add', path: '/metadata/labels/rbac.authorization.kubeflow.org~1aggregate-to-kubeflow-admin', value: 'true' }])])).toMatchObject([{ details: { rules_unknown: true } }]);
    expect(alerts([roleWrite('create', 'clusterroles', 'mine', role('ClusterRole', 'mine', [all]))])).toEqual([]);
    // Editing Kubeflow's own kubeflow-kserve-edit by a person.
    expect(alerts([roleWrite('patch', 'clusterroles', 'kubeflow-kserve-edit', { rules: [secrets] })])).toHaveLength(1);
  });

  it("the aggregation controller filling kubeflow-edit / edit, the apiserver's bootstrap, KServe's controller, Argo CD and exempt callers stay quiet; a refused or Metadata-level write too", () => {
    const filled = role('ClusterRole', 'kubeflow-edit', [exec, secrets, all]);
    expect(alerts([
      roleWrite('update', 'clusterroles', 'kubeflow-edit', filled, sa('kube-system', 'clusterrole-aggregation-controller'), undefined, 'RequestResponse'),
      roleWrite('update', 'clusterroles', 'edit', role('ClusterRole', 'edit', [exec, secrets]), { username: 'system:apiserver' }),
      roleWrite('create', 'roles', 'kserve', role('Role', 'kserve', [secrets], undefined, NS), sa('kserve', 'kserve-controller-manager'), NS),
      roleWrite('create', 'clusterroles', 'ml-extras', role('ClusterRole', 'ml-extras', [all], { 'rbac.authorization.kubeflow.org/aggregate-to-kubeflow-edit': 'true' }), ARGOCD),
      roleWrite('create', 'roles', 'debug', undefined, MALLORY, NS, 'Metadata'),
      { ...roleWrite('create', 'roles', 'debug', role('Role', 'debug', [exec], undefined, NS), MALLORY, NS), responseStatus: { metadata: {}, code: 403 } },
    ])).toEqual([]);
    expect(alerts([roleWrite('create', 'roles', 'debug', role('Role', 'debug', [exec], undefined, NS), MALLORY, NS)], { 'platform.ml_workload_access': { exempt: ['mallory@*'] } })).toEqual([]);
  });

  it('the audit filter keeps ClusterRoles aggregated into the bound roles, and admin / edit', () => {
    const watched = namespaceMatcher(['kubeflow', 'kubeflow-user-*']);
    const keep = (ev: Obj) => auditRelevance(ev as never, watched).keep;
    expect(keep(roleWrite('create', 'clusterroles', 'ml-extras', role('ClusterRole', 'ml-extras', [all], { 'rbac.authorization.kubeflow.org/aggregate-to-kubeflow-edit': 'true' })))).toBe(true);
    expect(keep(roleWrite('patch', 'clusterroles', 'x', [{ op: 'add', path: '/metadata/labels/rbac.authorization.k8s.io~1aggregate-to-admin', value: 'true' }]))).toBe(true);
    expect(keep(roleWrite('patch', 'clusterroles', 'edit', { rules: [all] }))).toBe(true);
    // An unaggregated ClusterRole is kept only when its rules get into workloads (a RoleBinding may bind it later).
    expect(keep(roleWrite('create', 'clusterroles', 'mine', role('ClusterRole', 'mine', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }])))).toBe(false);
    expect(keep(roleWrite('create', 'clusterroles', 'mine', role('ClusterRole', 'mine', [all])))).toBe(true);
  });
});

describe('platform.ml_workload_access: a custom ClusterRole bound in an ML namespace (verify29b)', () => {
  const all = { apiGroups: ['*'], resources: ['*'], verbs: ['*'] };
  const binding = (roleName: string, user: Obj = MALLORY) => auditEvent({
    level: 'Request', verb: 'create', user, objectRef: { resource: 'rolebindings', name: 'rb', namespace: NS, apiGroup: RBAC, apiVersion: 'v1' },
    requestURI: `/apis/${RBAC}/v1/namespaces/${NS}/rolebindings`,
    requestObject: { kind: 'RoleBinding', metadata: { name: 'rb', namespace: NS }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: roleName }, subjects: [{ kind: 'User', name: 'mallory@corp.example', apiGroup: RBAC }] },
    responseStatus: { metadata: {}, code: 201 },
  });

  it('made first with `*`, unbound and unaggregated (no alert), then bound in a watched namespace: the binding alerts naming its rights (was: neither alerted)', () => {
    const made = roleWrite('create', 'clusterroles', 'pwn', role('ClusterRole', 'pwn', [all]));
    expect(alerts([made])).toEqual([]);
    const [a, ...rest] = alerts([made, binding('pwn')]);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ details: { access: 'role grant', role: 'pwn', role_rights: ['* *'], scope: 'namespace', namespace: NS } });
    expect(a!.summary).toContain('bound pwn (* *)');
    // The route keeps such a ClusterRole write, which it dropped before, so its rules are seen.
    expect(auditRelevance(made, namespaceMatcher([NS])).keep).toBe(true);
  });

  it('a ClusterRole with harmless rules, one deleted, or one never seen bound there stays quiet', () => {
    const reader = roleWrite('create', 'clusterroles', 'reader', role('ClusterRole', 'reader', [{ apiGroups: [''], resources: ['pods', 'configmaps'], verbs: ['get', 'list'] }]));
    expect(alerts([reader, binding('reader')])).toEqual([]);
    const del = auditEvent({ level: 'Metadata', verb: 'delete', user: MALLORY, objectRef: ref('clusterroles', 'pwn'), responseStatus: { metadata: {}, code: 200 } });
    expect(alerts([roleWrite('create', 'clusterroles', 'pwn', role('ClusterRole', 'pwn', [all])), del, binding('pwn')])).toEqual([]);
    expect(alerts([binding('view')])).toEqual([]);
    // Rewritten without the rights: forgotten.
    expect(alerts([roleWrite('create', 'clusterroles', 'pwn', role('ClusterRole', 'pwn', [all])), roleWrite('update', 'clusterroles', 'pwn', role('ClusterRole', 'pwn', [])), binding('pwn')])).toEqual([]);
  });
});

