/**
 * Namespace labels that switch off a protection of the pods in it: Pod Security Admission's enforced level
 * (`pod-security.kubernetes.io/enforce`; `privileged` admits privileged, host-path and host-network pods) and Istio's
 * sidecar injection (`istio-injection`; Kubeflow's profile namespaces are `enabled`: without sidecars the namespace's
 * pods leave the mesh, and the Istio AuthorizationPolicies that guard notebooks and model servers no longer apply).
 */

import type { AuditEvent } from './envelope.js';
import { at, isObject } from './objects.js';

const ENFORCE = 'pod-security.kubernetes.io/enforce';
const ISTIO = 'istio-injection';

/** One protection turned off: the label and what it was set to (`removed` for a label deleted by a patch). */
export interface GuardOff {
  label: string;
  value: string;
}

/** Whether a label value turns its protection off (`removed`: a patch deleted it). */
function turnsOff(label: string, value: unknown): string | undefined {
  if (value === null || value === 'removed') return 'removed';
  if (typeof value !== 'string') return undefined;
  if (label === ENFORCE && value === 'privileged') return value;
  if (label === ISTIO && value !== 'enabled') return value;
  return undefined;
}

/**
 * The protections a Namespace create, update or patch turns off: from a whole object's labels (an update does not
 * show the labels before it, so only a value that is off counts), a merge patch (`null` deletes), or JSON-patch ops on
 * `/metadata/labels/<label>` (`remove` deletes) and `/metadata/labels`. Undefined when none.
 */
export function namespaceGuardsOff(ev: AuditEvent): GuardOff[] | undefined {
  const ref = ev.objectRef ?? {};
  if (ref.resource !== 'namespaces' || ref.apiGroup || ref.subresource || !['create', 'update', 'patch'].includes(ev.verb ?? '')) return undefined;
  const req = ev.requestObject;
  const out = new Map<string, string>();
  const note = (label: string, value: unknown) => {
    if (label !== ENFORCE && label !== ISTIO) return;
    const off = turnsOff(label, value);
    if (off) out.set(label, off);
  };
  if (Array.isArray(req)) {
    for (const op of req) {
      if (!isObject(op) || typeof op.path !== 'string') continue;
      if (op.path === '/metadata/labels' && isObject(op.value)) for (const [k, v] of Object.entries(op.value)) note(k, v);
      const m = /^\/metadata\/labels\/(.+)$/.exec(op.path);
      if (!m) continue;
      const label = m[1]!.replace(/~1/g, '/').replace(/~0/g, '~');
      if (op.op === 'remove') note(label, 'removed');
      else if (op.op === 'add' || op.op === 'replace') note(label, op.value);
    }
  } else {
    const labels = at(req, ['metadata', 'labels']) ?? (ev.verb === 'patch' ? undefined : at(ev.responseObject, ['metadata', 'labels']));
    // A whole object (create, update) without the label says nothing of a removal: only a patch's null deletes.
    if (isObject(labels)) for (const [k, v] of Object.entries(labels)) if (v !== null || ev.verb === 'patch') note(k, v);
  }
  return out.size ? [...out].map(([label, value]) => ({ label, value })) : undefined;
}
