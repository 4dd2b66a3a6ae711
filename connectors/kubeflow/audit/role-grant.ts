/**
 * A (Cluster)RoleBinding write that hands a subject the rights to get into ML workloads: Kubeflow's `kubeflow-admin` /
 * `kubeflow-edit` or Kubernetes' `admin` / `edit` (pods/exec, port-forward, Secrets, Deployments) in a watched
 * namespace, or any of them — and `cluster-admin` — cluster-wide. Kubeflow's profile controller (which is also KFAM,
 * the contributor API: one pod, one service account) makes these bindings as a matter of course.
 */

import type { AuditEvent } from './envelope.js';
import { at, isObject } from './objects.js';
import type { bindingOf } from './rbac.js';

/** ClusterRoles whose holders can exec into, read the Secrets of, and rewrite the workloads of a namespace. */
const ML_ACCESS_ROLES = new Set(['cluster-admin', 'admin', 'edit', 'kubeflow-admin', 'kubeflow-edit']);

/**
 * The profile controller's and KFAM's account as Kubeflow's manifests install it (`profiles-deployment` in namespace
 * `kubeflow`). A profile editor can make an account of that name in their own namespace: only this one is the controller.
 */
export const PROFILE_CONTROLLER = 'system:serviceaccount:kubeflow:profiles-controller-service-account';

/**
 * The role a binding of a known name binds, for a patch that names subjects but not the (immutable) roleRef: the
 * profile controller's `namespaceAdmin` (kubeflow-admin) and `default-editor` (kubeflow-edit), and KFAM's contributor
 * bindings `<kind>-<user>-clusterrole-<admin|edit>` (kfam getBindingName: user kind, user, roleRef kind, KFAM role).
 */
function roleOfName(resource: string | undefined, name: string | undefined): string | undefined {
  if (!name) return undefined;
  if (resource === 'clusterrolebindings' && name === 'cluster-admin') return 'cluster-admin';
  if (resource !== 'rolebindings') return undefined;
  if (name === 'namespaceAdmin') return 'kubeflow-admin';
  if (name === 'default-editor') return 'kubeflow-edit';
  const kfam = /^(?:user|group|serviceaccount)-.+-clusterrole-(admin|edit)$/.exec(name);
  return kfam ? `kubeflow-${kfam[1]}` : undefined;
}

export interface RoleGrant {
  /** The ClusterRole bound; absent when `role_unknown`. */
  role?: string;
  /** `cluster` for a ClusterRoleBinding (every namespace), else `namespace`. */
  scope: 'cluster' | 'namespace';
  /**
   * Where the role is known from when the record does not name it (a patch does not repeat the roleRef): `earlier_record`
   * (a create, update or logged response of the same binding seen before, binding-roles.ts), `name` (the binding's name).
   */
  role_from?: 'name' | 'earlier_record';
  /** A patch adding subjects to a binding whose role no record showed: they get a role the record does not name. */
  role_unknown?: true;
  /** A ClusterRole of another name bound in a watched namespace: the rights its last seen write showed (role-rules.ts). */
  role_rights?: string[];
}

/**
 * The grant a binding write makes, when it gives ML access: a create, update or patch naming subjects, binding one of
 * the roles above (a `ClusterRole`; a namespace `Role` that happens to be named `admin` is not Kubernetes' `admin`),
 * in a watched namespace (`watched`) or cluster-wide. A patch, which repeats no roleRef, is read by the roleRef of the
 * response, else `earlier` (what an earlier record of the binding showed), else the binding's name; with none of them,
 * a patch naming subjects is `role_unknown`. Undefined otherwise (a removal, `view`, a Metadata-level write whose body
 * the record does not show).
 */
export function roleGrantOf(
  ev: AuditEvent,
  binding: ReturnType<typeof bindingOf>,
  watched: (ns: string | undefined) => boolean,
  earlier?: { kind?: string; name: string },
  rightsOfRole?: (name: string) => string[] | undefined,
): RoleGrant | undefined {
  const ref = ev.objectRef ?? {};
  if (ref.subresource || !binding?.subjects.length || !['create', 'update', 'patch'].includes(ev.verb ?? '')) return undefined;
  const cluster = ref.resource === 'clusterrolebindings';
  if (!cluster && (ref.resource !== 'rolebindings' || !watched(ref.namespace))) return undefined;
  const scope = cluster ? 'cluster' : 'namespace';
  // What the record says, else what an earlier record of the binding said (a fact), else what its name says (a convention).
  const seen = binding.roleRef?.name ? undefined : earlier;
  const roleRef = binding.roleRef?.name ? binding.roleRef : seen;
  if (roleRef?.kind && roleRef.kind !== 'ClusterRole') return undefined;
  const named = roleRef?.name ? undefined : roleOfName(ref.resource, ref.name);
  const role = roleRef?.name ?? named;
  // A patch naming subjects of a binding no record showed: the role they get is not known, and may be any.
  if (!role) return ev.verb === 'patch' ? { scope, role_unknown: true } : undefined;
  const from = seen ? { role_from: 'earlier_record' as const } : named ? { role_from: 'name' as const } : {};
  if (ML_ACCESS_ROLES.has(role)) return { role, scope, ...from };
  // Any other ClusterRole bound in a watched namespace hands out what its rules hold there.
  const rights = cluster ? undefined : rightsOfRole?.(role);
  return rights?.length ? { role, scope, ...from, role_rights: rights } : undefined;
}

/**
 * KFAM's contributor binding: the `user` and `role` annotations KFAM (kubeflow/dashboard `kfam/bindings.go`) writes on
 * every RoleBinding it makes are the contributor it adds (the binding's subject) and the role as the dashboard names
 * it (`edit`, `view`, `admin`). The person who asked (a profile owner or a KFAM cluster admin: KFAM checks
 * `isOwnerOrAdmin` on the `kubeflow-userid` header) is in no annotation and not in the audit record.
 */
export function kfamContributorOf(ev: AuditEvent): { user: string; role?: string } | undefined {
  if (ev.user?.username !== PROFILE_CONTROLLER || ev.objectRef?.resource !== 'rolebindings') return undefined;
  for (const obj of [ev.responseObject, ev.requestObject]) {
    const ann = at(obj, ['metadata', 'annotations']);
    if (!isObject(ann) || typeof ann.user !== 'string' || !ann.user) continue;
    return { user: ann.user, role: typeof ann.role === 'string' && ann.role ? ann.role : undefined };
  }
  return undefined;
}
