/** The grants of a (Cluster)RoleBinding write: its roleRef and subjects, and whether it hands out cluster-admin. */

import { isObject } from './objects.js';

interface RbacSubject {
  kind?: string;
  name?: string;
  namespace?: string;
}

/** roleRef + subjects of a (Cluster)RoleBinding body. */
export function bindingOf(obj: unknown): { roleRef?: { kind?: string; name?: string }; subjects: RbacSubject[] } | undefined {
  if (Array.isArray(obj)) return bindingOfJsonPatch(obj);
  const o = obj as { roleRef?: { kind?: string; name?: string }; subjects?: RbacSubject[] } | undefined;
  if (!o || typeof o !== 'object' || (!o.roleRef && !o.subjects)) return undefined;
  return { roleRef: o.roleRef, subjects: Array.isArray(o.subjects) ? o.subjects.filter(isObject) : [] };
}

/**
 * What a JSON patch (RFC 6902; `kubectl patch --type=json`, logged as the
 * request object at the Request level) adds to a binding: subjects added or
 * replaced (`/subjects`, `/subjects/-`, `/subjects/N`) and a new roleRef.
 * Removals grant nothing and are not counted.
 */
function bindingOfJsonPatch(ops: unknown[]): { roleRef?: { kind?: string; name?: string }; subjects: RbacSubject[] } | undefined {
  const subjects: RbacSubject[] = [];
  let roleRef: { kind?: string; name?: string } | undefined;
  for (const op of ops) {
    if (!isObject(op)) continue;
    const { op: verb, path, value } = op as { op?: unknown; path?: unknown; value?: unknown };
    if ((verb !== 'add' && verb !== 'replace') || typeof path !== 'string') continue;
    if (path === '/subjects' && Array.isArray(value)) subjects.push(...value.filter(isObject));
    else if (/^\/subjects\/(\d+|-)$/.test(path) && isObject(value)) subjects.push(value as RbacSubject);
    else if (/^\/subjects\/(\d+|-)\/(kind|name|namespace)$/.test(path) && typeof value === 'string') {
      // A field of an existing subject changed: the subject it makes is not fully known; keep what is.
      const field = path.slice(path.lastIndexOf('/') + 1) as keyof RbacSubject;
      subjects.push({ [field]: value });
    } else if (path === '/roleRef' && isObject(value)) roleRef = value as { kind?: string; name?: string };
    else if (path === '/roleRef/name' && typeof value === 'string') roleRef = { ...roleRef, name: value };
  }
  return subjects.length || roleRef ? { roleRef, subjects } : undefined;
}

/**
 * Whether a binding change hands out cluster-admin. A patch rarely repeats the
 * roleRef, but a roleRef is immutable, so the system binding named
 * `cluster-admin` binds the cluster-admin role whatever the patch says.
 */
export function grantsClusterAdmin(ref: { resource?: string; name?: string }, binding: ReturnType<typeof bindingOf>): boolean {
  if (!binding) return false;
  if (binding.roleRef?.name) return binding.roleRef.name === 'cluster-admin';
  return ref.resource === 'clusterrolebindings' && ref.name === 'cluster-admin' && binding.subjects.length > 0;
}
