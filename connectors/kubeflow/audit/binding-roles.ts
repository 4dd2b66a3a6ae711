/**
 * The role each (Cluster)RoleBinding binds, as earlier records showed it. A binding's `roleRef` is immutable (the
 * apiserver refuses a write changing it), so a patch never repeats it: at `Request` level (a customer's own audit
 * policy; `kubectl patch rolebinding x --type=json -p '[{"op":"add","path":"/subjects/-",…}]'`) the record names the
 * subjects added and not the role they get. The roleRef a create, an update or a logged response showed is kept per
 * cluster, namespace and name (bounded; a delete forgets it), so that such a patch is judged by it. The serving bridge
 * keeps them in its spool state too (keepBindingRolesIn), read back at first use: after a restart, a routine patch of a
 * binding created before it is still judged by its role, not reported with `role_unknown`.
 */

import type { StateStore } from '../../../core/state/index.js';
import type { AuditEvent } from './envelope.js';
import { isObject } from './objects.js';

/** Bindings kept per connector config (each serving bridge, each `normalize` run, has its own). */
const MAX_BINDINGS = 5000;
/** Per connector config: `<cluster>|<resource>|<namespace>/<name>` → roleRef. Oldest first (a Map keeps insertion order). */
const kept = new WeakMap<object, Map<string, { kind?: string; name: string }>>();
/** The memory of a run without a connector config (`normalize` of a bare file). */
const NO_CONFIG = {};
/** The spool state namespace the roleRefs persist in (key as in memory, value `{kind, name, seq}`). */
export const BINDING_ROLES_NS = 'kubeflow.binding_roles';
/** Per connector config: the state store they persist in (keepBindingRolesIn), read back at first use. */
const stores = new WeakMap<object, { state: StateStore; loaded: boolean; seq: number }>();

/**
 * Keep the roleRefs seen for connector config `config` in `state` (the serving bridge's spool state, as the patch
 * bases are): written when seen, read back at first use, so that a restart forgets no binding. Without it
 * (`mltrail normalize`, `replay`) they are kept in memory only.
 */
export function keepBindingRolesIn(config: object, state: StateStore): void {
  stores.set(config, { state, loaded: false, seq: 0 });
}

/** The remembered roleRefs of `owner`, read back from its store at first use (oldest first, at most MAX_BINDINGS). */
function memoryOf(owner: object): Map<string, { kind?: string; name: string }> {
  let memory = kept.get(owner);
  if (!memory) kept.set(owner, (memory = new Map()));
  const st = stores.get(owner);
  if (st && !st.loaded) {
    st.loaded = true;
    const rows: Array<{ key: string; kind?: string; name: string; seq: number }> = [];
    for (const { key, value } of st.state.list<unknown>(BINDING_ROLES_NS)) {
      if (!isObject(value) || typeof value.name !== 'string' || !value.name) continue;
      rows.push({ key, name: value.name, kind: typeof value.kind === 'string' ? value.kind : undefined, seq: typeof value.seq === 'number' ? value.seq : 0 });
    }
    rows.sort((a, b) => a.seq - b.seq);
    for (const r of rows.slice(-MAX_BINDINGS)) if (!memory.has(r.key)) memory.set(r.key, { kind: r.kind, name: r.name });
    for (const r of rows.slice(0, Math.max(0, rows.length - MAX_BINDINGS))) st.state.delete(BINDING_ROLES_NS, r.key);
    st.seq = rows.length ? rows[rows.length - 1]!.seq : 0;
  }
  return memory;
}

/** Whether the apiserver carried the write out (answered below 400, not a dry run). */
export function carriedOut(ev: AuditEvent): boolean {
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
  const memory = memoryOf(owner);
  const st = stores.get(owner);
  const key = `${cluster}|${ref.resource}|${ref.namespace ?? ''}/${ref.name}`;
  if (ev.verb === 'delete') {
    if (carriedOut(ev) && memory.delete(key)) st?.state.delete(BINDING_ROLES_NS, key);
    return undefined;
  }
  if (shown?.name) {
    if (carriedOut(ev)) {
      const before = memory.get(key);
      memory.delete(key);
      memory.set(key, { kind: shown.kind, name: shown.name });
      // Written when it changes (a binding's roleRef never does: its updates cost no write).
      if (st && (before?.name !== shown.name || before?.kind !== shown.kind)) st.state.set(BINDING_ROLES_NS, key, { kind: shown.kind, name: shown.name, seq: ++st.seq });
      if (memory.size > MAX_BINDINGS) {
        const oldest = memory.keys().next().value as string;
        memory.delete(oldest);
        st?.state.delete(BINDING_ROLES_NS, oldest);
      }
    }
    return undefined;
  }
  return memory.get(key);
}
