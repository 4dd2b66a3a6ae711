import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { BINDING_ROLES_NS, keepBindingRolesIn } from '../../../connectors/kubeflow/audit/binding-roles.js';
import { KubeflowConfig } from '../../../connectors/kubeflow/config.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { auditEvent, ctx } from './helpers.js';
import { normAudit as norm, workloadAccessAlerts as alerts, RBAC, MALLORY, saUser as sa, ARGOCD, rbacRef as ref } from './audit-harness.js';

type Obj = Record<string, unknown>;
const NS = 'kubeflow-user-alice';
const mallory = { kind: 'User', apiGroup: RBAC, name: 'mallory@corp.example' };

/** The falco capture of a ClusterRoleBinding create (RequestResponse), binding `role` under `name`, by `user`. */
function falcoBinding(name: string, role: string, user: Obj): Obj {
  const ev = structuredClone(readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_clusterrolebinding.json'));
  (ev.objectRef as Obj).name = name;
  for (const k of ['requestObject', 'responseObject']) {
    const o = ev[k] as Obj;
    (o.metadata as Obj).name = name;
    o.roleRef = { apiGroup: RBAC, kind: 'ClusterRole', name: role };
  }
  ev.user = user;
  return ev;
}

/** A subject added by `kubectl patch … --type=json`, logged at Request level (a customer's own audit policy). */
const subjectPatch = (resource: string, name: string, namespace: string | undefined, user: Obj = MALLORY) =>
  auditEvent({
    level: 'Request', verb: 'patch', user, objectRef: ref(resource, name, namespace),
    requestURI: `/apis/${RBAC}/v1/${namespace ? `namespaces/${namespace}/` : ''}${resource}/${name}`,
    requestObject: [{ op: 'add', path: '/subjects/-', value: mallory }],
    responseStatus: { metadata: {}, code: 200 },
  });

describe('platform.ml_workload_access: a binding patch that names no role (Request level)', () => {
  it('is judged by the roleRef an earlier record of the binding showed (falco capture): cluster-admin alerts, a view role does not', () => {
    const [a, ...rest] = alerts([falcoBinding('ops-admins', 'cluster-admin', { username: 'system:apiserver' }), subjectPatch('clusterrolebindings', 'ops-admins', undefined)]);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ details: { access: 'role grant', role: 'cluster-admin', role_from: 'earlier_record', scope: 'cluster', subjects: [mallory], identity: 'mallory@corp.example' } });
    expect(a!.summary).toContain('bound cluster-admin');
    expect(alerts([falcoBinding('readers', 'view', { username: 'system:apiserver' }), subjectPatch('clusterrolebindings', 'readers', undefined)])).toEqual([]);
    const [ev] = norm([falcoBinding('ops-admins', 'cluster-admin', { username: 'system:apiserver' }), subjectPatch('clusterrolebindings', 'ops-admins', undefined)]).slice(1);
    expect(ev!.details).toMatchObject({ grants_cluster_admin: true, role_grant: { role: 'cluster-admin', role_from: 'earlier_record' } });
  });

  it('with no earlier record, a subject patch in a watched namespace or cluster-wide alerts with role_unknown; one in an unwatched namespace does not', () => {
    const [a, ...rest] = alerts([subjectPatch('rolebindings', 'team-admins', NS)]);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ details: { access: 'role grant', role_unknown: true, scope: 'namespace', namespace: NS, object: 'team-admins', subjects: [mallory] } });
    expect(a!.details.role).toBeUndefined();
    expect(a!.summary).toContain('does not name');
    expect(alerts([subjectPatch('clusterrolebindings', 'ops', undefined)])).toMatchObject([{ details: { role_unknown: true, scope: 'cluster' } }]);
    expect(alerts([subjectPatch('rolebindings', 'team-admins', 'team-b')])).toEqual([]);
    // A deleted binding is forgotten: a patch of one made again is not judged by the old roleRef.
    const del = auditEvent({ level: 'Metadata', verb: 'delete', user: MALLORY, objectRef: ref('clusterrolebindings', 'readers'), responseStatus: { metadata: {}, code: 200 } });
    expect(alerts([falcoBinding('readers', 'view', { username: 'system:apiserver' }), del, subjectPatch('clusterrolebindings', 'readers', undefined)])).toMatchObject([{ details: { role_unknown: true } }]);
  });

  it("the profile controller's and a trusted installer's patches stay quiet", () => {
    expect(alerts([
      subjectPatch('rolebindings', 'team-admins', NS, sa('kubeflow', 'profiles-controller-service-account')),
      subjectPatch('clusterrolebindings', 'ops', undefined, ARGOCD),
    ])).toEqual([]);
  });
});

describe('platform.ml_workload_access: Helm and Argo CD installs', () => {
  const helmMeta = { labels: { 'app.kubernetes.io/managed-by': 'Helm' }, annotations: { 'meta.helm.sh/release-name': 'ops-tools', 'meta.helm.sh/release-namespace': 'ops' } };
  const crb = (user: Obj, meta: Obj) => auditEvent({
    level: 'Request', verb: 'create', user, objectRef: ref('clusterrolebindings', 'ops-tools'),
    requestURI: `/apis/${RBAC}/v1/clusterrolebindings`,
    requestObject: { kind: 'ClusterRoleBinding', apiVersion: `${RBAC}/v1`, metadata: { name: 'ops-tools', ...meta }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'ServiceAccount', name: 'ops-tools', namespace: 'ops' }] },
    responseStatus: { metadata: {}, code: 201 },
  });

  it('a person running helm (release labels and annotations) binding cluster-admin alerts, naming the release; Argo CD\'s application controller applying it does not', () => {
    const [a, ...rest] = alerts([crb(MALLORY, helmMeta)]);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ details: { role: 'cluster-admin', helm_release: { name: 'ops-tools', namespace: 'ops' } } });
    expect(a!.summary).toContain('Helm release ops-tools');
    const tracked = { annotations: { 'argocd.argoproj.io/tracking-id': 'ops-tools:rbac.authorization.k8s.io/ClusterRoleBinding:/ops-tools' } };
    expect(alerts([crb(ARGOCD, tracked), crb(sa('flux-system', 'helm-controller'), helmMeta)])).toEqual([]);
    // Argo CD's tracking annotation written by a person (or Argo CD impersonated by one) is that person's write.
    const [byHand] = alerts([crb(MALLORY, tracked)]);
    expect(byHand).toMatchObject({ details: { gitops_application: 'ops-tools' } });
    expect(alerts([{ ...crb(ARGOCD, tracked), user: MALLORY, impersonatedUser: { username: ARGOCD.username } }])).toHaveLength(1);
    // An Argo CD installed elsewhere is listed in trusted_installers (listing replaces the defaults).
    const own = sa('gitops', 'argocd-application-controller');
    expect(alerts([crb(own, tracked)])).toHaveLength(1);
    expect(alerts([crb(own, tracked)], { 'platform.ml_workload_access': { trusted_installers: [own.username] } })).toEqual([]);
  });
});

describe('platform.ml_workload_access: the roleRefs seen survive a bridge restart (spool state)', () => {
  /** One bridge run: a fresh connector config (as a restarted bridge parses its file again) on the same spool state. */
  const run = (state: MemoryStateStore, records: Obj[]) => {
    const config = KubeflowConfig.parse({});
    keepBindingRolesIn(config, state);
    const out = kubeflowConnector.normalize!({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: records }, ctx({ config }));
    expect(out.rejected).toEqual([]);
    const evs = out.events.map((e) => NormalizedEvent.parse(e));
    return replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'platform.ml_workload_access');
  };

  it("a subject patch after a restart is judged by the role created before it: a view binding stays quiet, cluster-admin alerts by name (was: role_unknown for both)", () => {
    const state = new MemoryStateStore();
    expect(run(state, [falcoBinding('readers', 'view', { username: 'system:apiserver' }), falcoBinding('ops-admins', 'cluster-admin', { username: 'system:apiserver' })])).toEqual([]);
    expect(state.list(BINDING_ROLES_NS).map((r) => r.key).sort()).toEqual(['|clusterrolebindings|/ops-admins', '|clusterrolebindings|/readers']);
    // The bridge restarts: a new config, the same spool state.
    expect(run(state, [subjectPatch('clusterrolebindings', 'readers', undefined)])).toEqual([]);
    const [a, ...rest] = run(state, [subjectPatch('clusterrolebindings', 'ops-admins', undefined)]);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ details: { role: 'cluster-admin', role_from: 'earlier_record' } });
    // A delete is forgotten on disk too: after another restart the binding's patch has no role to go by.
    const del = auditEvent({ level: 'Metadata', verb: 'delete', user: MALLORY, objectRef: ref('clusterrolebindings', 'readers'), responseStatus: { metadata: {}, code: 200 } });
    run(state, [del]);
    expect(state.list(BINDING_ROLES_NS).map((r) => r.key)).toEqual(['|clusterrolebindings|/ops-admins']);
    expect(run(state, [subjectPatch('clusterrolebindings', 'readers', undefined)])).toMatchObject([{ details: { role_unknown: true } }]);
  });
});

