/**
 * A patch of an InferenceService logged at `Request` level (the shipped audit policy) carries the patch body, not the
 * object: a JSON patch replacing one env value or a merge patch of `storageUri` alone says nothing of the rest of the
 * spec. The last whole object seen per cluster, namespace and name (a create or update body, or any logged response
 * object) is kept, bounded, and such a patch is applied to it, so the write is judged as the object it made.
 *
 * The audit Event does not record the request's Content-Type: a JSON patch (RFC 6902) is told by its body being an
 * array; an object body is taken as a merge patch (RFC 7386): custom resources refuse strategic merge patches, and a
 * server-side apply body is applied as one too (its lists merged by key are then replaced, an approximation).
 * No JSON-patch library is in the dependencies: the applier below covers RFC 6902's six ops, strictly (a failed
 * `test` or a missing path fails the whole patch, as the apiserver does).
 */

import type { AuditEvent } from './envelope.js';
import { isObject } from './objects.js';

/** Endpoint objects kept per connector config (each serving bridge, each `normalize` run, has its own). */
const MAX_OBJECTS = 2000;
const MODEL_SERVERS = new Set(['inferenceservices', 'llminferenceservices']);
const KSERVE_GROUPS = new Set(['serving.kserve.io', 'serving.kubeflow.org']);
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

interface KeptObject {
  /** The whole object after the write that showed it. */
  object: Record<string, unknown>;
  /** The event id of that record (a reconstructed object: of the patch that made it). */
  eventId: string;
  /** Where the object came from a patch applied here: the patch's auditID and the object it was applied to. */
  patched?: { auditId: string; base: KeptObject };
}

/** The last whole object of each endpoint seen, oldest dropped first (a Map keeps insertion order). */
class ObjectMemory {
  private readonly objects = new Map<string, KeptObject>();
  get(key: string): KeptObject | undefined {
    return this.objects.get(key);
  }
  set(key: string, kept: KeptObject): void {
    this.objects.delete(key);
    this.objects.set(key, kept);
    for (const old of this.objects.keys()) {
      if (this.objects.size <= MAX_OBJECTS) break;
      this.objects.delete(old);
    }
  }
  delete(key: string): void {
    this.objects.delete(key);
  }
}

const memories = new WeakMap<object, ObjectMemory>();
const shared = new ObjectMemory();

function memoryFor(config: unknown): ObjectMemory {
  if (!isObject(config)) return shared;
  let m = memories.get(config);
  if (!m) memories.set(config, (m = new ObjectMemory()));
  return m;
}

/** What a Request-level patch was judged as (`details`). */
export interface PatchFacts {
  /** `json` (RFC 6902, an array body) or `merge` (RFC 7386). */
  patch_type: 'json' | 'merge';
  /** The event id of the record whose object the patch was applied to. */
  patch_base_event_id?: string;
  /** No whole object of the endpoint was seen before: only what the patch itself sets is judged. */
  patch_base_unknown?: true;
  /** Why the patch did not apply to the kept object (a failed `test`, a missing path): it was not judged as applied. */
  patch_not_applied?: string;
}

const deepEqual = (a: unknown, b: unknown): boolean => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObject(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
  return v;
}

/** A JSON pointer's keys (RFC 6901), unescaped; undefined when it is not one. */
function pointer(p: unknown): string[] | undefined {
  if (typeof p !== 'string' || (p !== '' && !p.startsWith('/'))) return undefined;
  return p === '' ? [] : p.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The container holding `keys`' last key, and that key; throws when a parent is missing. */
function parentOf(doc: unknown, keys: string[]): { parent: Record<string, unknown> | unknown[]; key: string } {
  let node = doc;
  for (const k of keys.slice(0, -1)) {
    if (Array.isArray(node) && /^(0|[1-9][0-9]*)$/.test(k) && Number(k) < node.length) node = node[Number(k)];
    else if (isObject(node) && Object.hasOwn(node, k)) node = node[k];
    else throw new Error(`path /${keys.join('/')} does not exist`);
  }
  if (!Array.isArray(node) && !isObject(node)) throw new Error(`path /${keys.join('/')} does not exist`);
  return { parent: node, key: keys[keys.length - 1]! };
}

function getAt(doc: unknown, keys: string[]): unknown {
  if (!keys.length) return doc;
  const { parent, key } = parentOf(doc, keys);
  if (Array.isArray(parent)) {
    if (!/^(0|[1-9][0-9]*)$/.test(key) || Number(key) >= parent.length) throw new Error(`path /${keys.join('/')} does not exist`);
    return parent[Number(key)];
  }
  if (!Object.hasOwn(parent, key)) throw new Error(`path /${keys.join('/')} does not exist`);
  return parent[key];
}

/** RFC 6902 add/remove/replace on `root` (mutated); returns the new root (path "" replaces it). */
function write(root: unknown, keys: string[], op: 'add' | 'remove' | 'replace', value?: unknown): unknown {
  if (!keys.length) return op === 'remove' ? undefined : value;
  if (op !== 'add') getAt(root, keys);
  const { parent, key } = parentOf(root, keys);
  if (Array.isArray(parent)) {
    const i = key === '-' && op === 'add' ? parent.length : /^(0|[1-9][0-9]*)$/.test(key) ? Number(key) : NaN;
    if (!Number.isInteger(i) || i > parent.length) throw new Error(`index ${key} out of range`);
    if (op === 'add') parent.splice(i, 0, value);
    else if (op === 'replace') parent[i] = value;
    else parent.splice(i, 1);
  } else if (op === 'remove') delete parent[key];
  else parent[key] = value;
  return root;
}

/**
 * Apply a JSON patch (RFC 6902) to a copy of `doc`: the result, or `{error}` naming the op that failed (the
 * apiserver applies all ops or none).
 */
export function applyJsonPatch(doc: unknown, ops: unknown[]): { result: unknown } | { error: string } {
  let root = structuredClone(doc);
  for (const [i, op] of ops.entries()) {
    try {
      if (!isObject(op)) throw new Error('not an operation');
      const keys = pointer(op.path);
      if (!keys) throw new Error('path is not a JSON pointer');
      if ([...keys, ...(pointer(op.from) ?? [])].some((k) => UNSAFE_KEYS.has(k))) throw new Error('unsafe key');
      switch (op.op) {
        case 'add':
        case 'replace':
          if (!Object.hasOwn(op, 'value')) throw new Error('no value');
          root = write(root, keys, op.op, structuredClone(op.value));
          break;
        case 'remove':
          root = write(root, keys, 'remove');
          break;
        case 'copy':
        case 'move': {
          const from = pointer(op.from);
          if (!from) throw new Error('from is not a JSON pointer');
          if (op.op === 'move' && keys.length > from.length && from.every((k, j) => keys[j] === k)) throw new Error('cannot move a value into itself');
          const value = structuredClone(getAt(root, from));
          if (op.op === 'move') root = write(root, from, 'remove');
          root = write(root, keys, 'add', value);
          break;
        }
        case 'test':
          if (!deepEqual(getAt(root, keys), op.value)) throw new Error(`test of ${String(op.path)} failed`);
          break;
        default:
          throw new Error(`unknown op ${String(op.op)}`);
      }
    } catch (err) {
      return { error: `op ${i} (${isObject(op) ? String(op.op) : '?'} ${isObject(op) ? String(op.path) : ''}): ${(err as Error).message}` };
    }
  }
  return { result: root };
}

/** Apply a merge patch (RFC 7386) to `target`: a new value, neither input changed. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (UNSAFE_KEYS.has(k)) continue;
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

/** The key of an endpoint object in its cluster. */
function keyOf(ev: AuditEvent, cluster: string | undefined): string | undefined {
  const ref = ev.objectRef ?? {};
  if (!ref.name || !KSERVE_GROUPS.has(ref.apiGroup ?? '') || !MODEL_SERVERS.has(ref.resource ?? '')) return undefined;
  return `${cluster ?? ''}|${ref.resource}|${ref.namespace ?? ''}/${ref.name}`;
}

/** Whether the apiserver carried the write out (answered below 400, not a dry run). */
function carriedOut(ev: AuditEvent): boolean {
  const code = ev.responseStatus?.code;
  return typeof code === 'number' && code < 400 && ev.annotations?.['authorization.k8s.io/decision'] !== 'forbid' && !/[?&]dryRun=All(&|$)/.test(ev.requestURI ?? '');
}

/**
 * Keep the whole object a write shows (its response, else a create or update body), forget a deleted one, and for
 * a Request-level patch of an InferenceService (no response object) return the object the patch made of the kept
 * one (`object`, to be judged as the response would be) with what was done (`facts`). A patch that does not apply
 * is not judged as applied; the kept object is then unknown.
 */
export function patchedObjectOf(ev: AuditEvent, eventId: string, config: unknown, cluster: string | undefined): { object?: Record<string, unknown>; facts?: PatchFacts } {
  const key = keyOf(ev, cluster);
  const ref = ev.objectRef ?? {};
  if (!key || (ref.subresource && ref.subresource !== 'status') || ev.stage !== 'ResponseComplete' || !carriedOut(ev)) return {};
  const memory = memoryFor(config);
  if (ev.verb === 'delete') {
    memory.delete(key);
    return {};
  }
  const response = ev.responseObject as { kind?: unknown } | undefined;
  if (isObject(response) && response.kind !== 'Status' && isObject((response as { spec?: unknown }).spec)) {
    memory.set(key, { object: structuredClone(response), eventId });
    return {};
  }
  if (ref.subresource) return {};
  const req = ev.requestObject;
  if ((ev.verb === 'create' || ev.verb === 'update') && isObject(req) && isObject(req.spec)) {
    memory.set(key, { object: structuredClone(req), eventId });
    return {};
  }
  if (ev.verb !== 'patch' || (!Array.isArray(req) && !isObject(req))) return {};
  const facts: PatchFacts = { patch_type: Array.isArray(req) ? 'json' : 'merge' };
  const kept = memory.get(key);
  // The same record delivered again (a retried batch): applied to the object it was applied to the first time.
  const base = kept?.patched && kept.patched.auditId === ev.auditID ? kept.patched.base : kept;
  if (!base) return { facts: { ...facts, patch_base_unknown: true } };
  const applied = Array.isArray(req) ? applyJsonPatch(base.object, req) : { result: applyMergePatch(base.object, req) };
  if ('error' in applied || !isObject(applied.result)) {
    // The apiserver applied it to the object it had: not the one kept here, which is no longer known.
    memory.delete(key);
    return { facts: { ...facts, patch_base_unknown: true, patch_not_applied: 'error' in applied ? applied.error : 'the patch leaves no object' } };
  }
  memory.set(key, { object: applied.result, eventId, patched: { auditId: ev.auditID ?? '', base: { object: base.object, eventId: base.eventId } } });
  return { object: structuredClone(applied.result), facts: { ...facts, patch_base_event_id: base.eventId } };
}
