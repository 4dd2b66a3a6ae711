/**
 * The role each (Cluster)RoleBinding binds, as earlier records showed it. A binding's `roleRef` is immutable (the
 * apiserver refuses a write changing it), so a patch never repeats it: at `Request` level (a customer's own audit
 * policy; `kubectl patch rolebinding x --type=json -p '[{"op":"add","path":"/subjects/-",…}]'`) the record names the
 * subjects added and not the role they get. The roleRef a create, an update or a logged response showed is kept per
 * cluster, namespace and name (in memory, bounded; a delete forgets it), so that such a patch is judged by it.
 */

import type { AuditEvent } from './envelope.js';
import { isObject } from './objects.js';

/** Bindings kept per connector config (each serving bridge, each `normalize` run, has its own). */
const MAX_BINDINGS = 5000;
/** Per connector config: `<cluster>|<resource>|<namespace>/<name>` → roleRef. Oldest first (a Map keeps insertion order). */
const kept = new WeakMap<object, Map<string, { kind?: string; name: string }>>();
/** The memory of a run without a connector config (`normalize` of a bare file). */
const NO_CONFIG = {};

/** Whether the apiserver carried the write out (answered below 400, not a dry run). */
function carriedOut(ev: AuditEvent): boolean {
  const code = ev.responseStatus?.code;
  return typeof code === 'number' && code < 400 && ev.annotations?.['authorization.k8s.io/decision'] !== 'forbid' && !/[?&]dryRun=All(&|$)/.test(ev.requestURI ?? '');
}

/**
 * Remember the roleRef a binding record shows (`shown`: from its request or response body) and return the one an
 * earlier record of the same binding showed, for a record that shows none. A delete forgets the binding; a refused
 * or dry-run write teaches nothing.
 *
 * @example
 * bindingRoleSeen(createRecord, { kind: 'ClusterRole', name: 'admin' }, config) // undefined (remembered)
 * bindingRoleSeen(requestLevelPatch, undefined, config) // { kind: 'ClusterRole', name: 'admin' }
 */
export function bindingRoleSeen(ev: AuditEvent, shown: { kind?: string; name?: string } | undefined, config: unknown, cluster = ''): { kind?: string; name: string } | undefined {
  const ref = ev.objectRef ?? {};
  if ((ref.resource !== 'rolebindings' && ref.resource !== 'clusterrolebindings') || !ref.name || ref.subresource) return undefined;
  const owner = isObject(config) ? config : NO_CONFIG;
  let memory = kept.get(owner);
  if (!memory) kept.set(owner, (memory = new Map()));
  const key = `${cluster}|${ref.resource}|${ref.namespace ?? ''}/${ref.name}`;
  if (ev.verb === 'delete') {
    if (carriedOut(ev)) memory.delete(key);
    return undefined;
  }
  if (shown?.name) {
    if (carriedOut(ev)) {
      memory.delete(key);
      memory.set(key, { kind: shown.kind, name: shown.name });
      if (memory.size > MAX_BINDINGS) memory.delete(memory.keys().next().value as string);
    }
    return undefined;
  }
  return memory.get(key);
}
