/**
 * KServe InferenceGraph (`serving.kserve.io/v1alpha1`): a router that sends each request through the steps of its
 * nodes (`spec.nodes.<node>.steps[]`). A step targets an InferenceService of the graph's namespace (`serviceName`),
 * another node (`nodeName`), or any URL (`serviceUrl`, kserve's InferenceTarget): the router posts the request there
 * and returns or forwards what it answers. A URL outside the cluster sends every request the graph receives to that
 * service and serves its answers as predictions; the rules judge the hosts (registry.unapproved_deployment).
 */

import { redactUrlSecrets } from '../../../core/secrets.js';
import type { AuditEvent } from './envelope.js';
import { isObject } from './objects.js';

const KSERVE_GROUPS = new Set(['serving.kserve.io', 'serving.kubeflow.org']);
/** Steps read at most per write (a graph has a handful; bounds what a huge body costs). */
const MAX_URLS = 50;

/** A step's `serviceUrl` as written (credentials in it hidden), with the node it belongs to when the body says. */
export interface GraphServiceUrl {
  node?: string;
  url: string;
}

/** True for an audit record of an InferenceGraph object (not its `/status`). */
export function isInferenceGraph(ev: AuditEvent): boolean {
  const ref = ev.objectRef ?? {};
  return KSERVE_GROUPS.has(ref.apiGroup ?? '') && ref.resource === 'inferencegraphs' && !ref.subresource;
}

/** Every `serviceUrl` under `value`, `node` the `spec.nodes` key it sits under where known. */
function collect(value: unknown, node: string | undefined, out: GraphServiceUrl[], depth = 0): void {
  if (out.length >= MAX_URLS || depth > 12) return;
  if (Array.isArray(value)) {
    for (const v of value) collect(v, node, out, depth + 1);
    return;
  }
  if (!isObject(value)) return;
  for (const [k, v] of Object.entries(value)) {
    if (k === 'serviceUrl' && typeof v === 'string' && v) out.push({ ...(node ? { node } : {}), url: redactUrlSecrets(v) });
    else if (k === 'nodes' && isObject(v)) for (const [name, router] of Object.entries(v)) collect(router, name, out, depth + 1);
    else collect(v, node, out, depth + 1);
  }
}

/**
 * The `serviceUrl`s an InferenceGraph write sets: from the stored object when the record logs it (or the object a
 * Request-level patch made of the last one seen, `written`), else from the body — an object, or the values of a JSON
 * patch's ops (a path under `/spec/nodes/<node>/` names the node). Undefined for a read, a delete, a status write.
 *
 * @example
 * graphServiceUrlsOf(createRecord) // [{ node: 'root', url: 'https://scoring.partner.example/v1/predict' }]
 */
export function graphServiceUrlsOf(ev: AuditEvent, written: AuditEvent = ev): GraphServiceUrl[] | undefined {
  if (!isInferenceGraph(ev) || (ev.verb !== 'create' && ev.verb !== 'update' && ev.verb !== 'patch')) return undefined;
  const out: GraphServiceUrl[] = [];
  const stored = isObject(written.responseObject) && isObject(written.responseObject.spec) ? written.responseObject : undefined;
  if (stored) collect(stored.spec, undefined, out);
  else if (Array.isArray(ev.requestObject)) {
    for (const op of ev.requestObject) {
      if (!isObject(op) || (op.op !== 'add' && op.op !== 'replace') || typeof op.path !== 'string') continue;
      const node = /^\/spec\/nodes\/([^/]+)/.exec(op.path)?.[1]?.replace(/~1/g, '/').replace(/~0/g, '~');
      if (/\/serviceUrl$/.test(op.path) && typeof op.value === 'string' && op.value) out.push({ ...(node ? { node } : {}), url: redactUrlSecrets(op.value) });
      else if (op.path === '' || op.path === '/spec') collect(op.value, undefined, out);
      else collect(op.value, node, out);
    }
  } else if (isObject(ev.requestObject)) collect(ev.requestObject.spec, undefined, out);
  return out.length ? out.slice(0, MAX_URLS) : undefined;
}
