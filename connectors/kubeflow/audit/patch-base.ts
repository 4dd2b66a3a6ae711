/**
 * A patch of an InferenceService logged at `Request` level (the shipped audit policy) carries the patch body, not the
 * object: a JSON patch replacing one env value or a merge patch of `storageUri` alone says nothing of the rest of the
 * spec. The last whole object seen per cluster, namespace and name (a create or update body, or any logged response
 * object) is kept, bounded, and such a patch is applied to it, so the write is judged as the object it made.
 *
 * The audit Event does not record the request's Content-Type: a JSON patch (RFC 6902) is told by its body being an
 * array; an object body is taken as a merge patch (RFC 7386): custom resources refuse strategic merge patches, and a
 * server-side apply body is applied as one too (its lists merged by key are then replaced, an approximation).
 * JSON patches are applied by fast-json-patch; the merge patch (RFC 7386, a few lines) is written here.
 */

import type { AuditEvent } from './envelope.js';
import jsonPatch, { type JsonPatchError, type Operation } from 'fast-json-patch';
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

/**
 * Apply a JSON patch (RFC 6902) to a copy of `doc` with fast-json-patch, validated (a failed `test`, a missing path,
 * a bad op fail the whole patch, as the apiserver applies all ops or none; `__proto__` writes refused): the result,
 * or `{error}` naming the op that failed.
 */
export function applyJsonPatch(doc: unknown, ops: unknown[]): { result: unknown } | { error: string } {
  try {
    return { result: jsonPatch.applyPatch(structuredClone(doc), structuredClone(ops) as Operation[], true, true).newDocument };
  } catch (err) {
    const e = err as JsonPatchError;
    // A JsonPatchError names its op by index; anything else (a banned `__proto__` write) is said by its message.
    if (typeof e.index !== 'number') return { error: e.message };
    const op = ops[e.index];
    const what = isObject(op) ? ` (${String(op.op)} ${String(op.path)})` : '';
    // A failed test is said as such: it is the one an operator writes on purpose (optimistic concurrency).
    const why = e.name === 'TEST_OPERATION_FAILED' && isObject(op) ? `test of ${String(op.path)} failed` : e.name;
    return { error: `op ${e.index}${what}: ${why}` };
  }
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
