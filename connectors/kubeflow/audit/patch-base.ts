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

const memories = new WeakMap<object, { endpoints: ObjectMemory; credentials: ObjectMemory }>();
const shared = { endpoints: new ObjectMemory(), credentials: new ObjectMemory() };

/** The memories of a connector config: endpoints and credential objects apart, so many of one never push out the other. */
function memoryFor(config: unknown, credentials: boolean): ObjectMemory {
  let m = isObject(config) ? memories.get(config) : shared;
  if (!m) memories.set(config as object, (m = { endpoints: new ObjectMemory(), credentials: new ObjectMemory() }));
  return credentials ? m.credentials : m.endpoints;
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

/**
 * KServe's S3 credential objects (core ServiceAccounts and Secrets, whose `serving.kserve.io/s3-endpoint` annotation
 * decides where a predictor's `s3://` model is fetched from, s3-credentials.ts): `kubectl annotate sa` sends a merge
 * patch, logged at `Request` level with no object, so they are kept and patched as endpoints are.
 */
const CREDENTIAL_OBJECTS = new Set(['serviceaccounts', 'secrets']);

/** The key of an endpoint or S3 credential object in its cluster, and which memory keeps it. */
function keyOf(ev: AuditEvent, cluster: string | undefined): { key: string; credentials: boolean } | undefined {
  const ref = ev.objectRef ?? {};
  if (!ref.name) return undefined;
  const credentials = !ref.apiGroup && CREDENTIAL_OBJECTS.has(ref.resource ?? '');
  if (!credentials && (!KSERVE_GROUPS.has(ref.apiGroup ?? '') || !MODEL_SERVERS.has(ref.resource ?? ''))) return undefined;
  return { key: `${cluster ?? ''}|${ref.resource}|${ref.namespace ?? ''}/${ref.name}`, credentials };
}

/**
 * What is kept of a credential object: a Secret's values are never kept (its keys stay, blank, so a patch of one still
 * applies); a ServiceAccount is kept whole (names, no secret values).
 */
function keptForm(obj: Record<string, unknown>, resource: string | undefined): Record<string, unknown> {
  if (resource !== 'secrets') return structuredClone(obj);
  const blank = (v: unknown) => (isObject(v) ? Object.fromEntries(Object.keys(v).map((k) => [k, ''])) : undefined);
  const { data, stringData, ...rest } = obj;
  return { ...structuredClone(rest), ...(data === undefined ? {} : { data: blank(data) }), ...(stringData === undefined ? {} : { stringData: blank(stringData) }) };
}

/** Whether the apiserver carried the write out (answered below 400, not a dry run). */
function carriedOut(ev: AuditEvent): boolean {
  const code = ev.responseStatus?.code;
  return typeof code === 'number' && code < 400 && ev.annotations?.['authorization.k8s.io/decision'] !== 'forbid' && !/[?&]dryRun=All(&|$)/.test(ev.requestURI ?? '');
}

/**
 * Keep the whole object a write shows (its response, else a create or update body), forget a deleted one, and for
 * a Request-level patch of an InferenceService, or of a ServiceAccount or Secret (no response object), return the
 * object the patch made of the kept one (`object`, to be judged as the response would be) with what was done
 * (`facts`). A patch that does not apply is not judged as applied; the kept object is then unknown. With no object
 * kept, a credential object's patch returns what the patch alone makes (`partial`: applied to an empty object).
 */
export function patchedObjectOf(ev: AuditEvent, eventId: string, config: unknown, cluster: string | undefined): { object?: Record<string, unknown>; facts?: PatchFacts; partial?: Record<string, unknown> } {
  const found = keyOf(ev, cluster);
  const ref = ev.objectRef ?? {};
  if (!found || (ref.subresource && ref.subresource !== 'status') || ev.stage !== 'ResponseComplete' || !carriedOut(ev)) return {};
  const { key, credentials } = found;
  const memory = memoryFor(config, credentials);
  if (ev.verb === 'delete') {
    memory.delete(key);
    return {};
  }
  // An endpoint's object has a spec; a ServiceAccount or Secret has none, its metadata is what counts.
  const whole = (o: unknown): o is Record<string, unknown> => isObject(o) && o.kind !== 'Status' && (credentials ? isObject(o.metadata) : isObject(o.spec));
  const response = ev.responseObject;
  if (whole(response)) {
    memory.set(key, { object: keptForm(response, credentials ? ref.resource : undefined), eventId });
    return {};
  }
  if (ref.subresource) return {};
  const req = ev.requestObject;
  if ((ev.verb === 'create' || ev.verb === 'update') && whole(req)) {
    memory.set(key, { object: keptForm(req, credentials ? ref.resource : undefined), eventId });
    return {};
  }
  if (ev.verb !== 'patch' || (!Array.isArray(req) && !isObject(req))) return {};
  const facts: PatchFacts = { patch_type: Array.isArray(req) ? 'json' : 'merge' };
  const kept = memory.get(key);
  // The same record delivered again (a retried batch): applied to the object it was applied to the first time.
  const base = kept?.patched && kept.patched.auditId === ev.auditID ? kept.patched.base : kept;
  if (!base) return { facts: { ...facts, patch_base_unknown: true }, ...(credentials ? { partial: partialOf(req) } : {}) };
  const applied = Array.isArray(req) ? applyJsonPatch(base.object, req) : { result: applyMergePatch(base.object, req) };
  if ('error' in applied || !isObject(applied.result)) {
    // The apiserver applied it to the object it had: not the one kept here, which is no longer known.
    memory.delete(key);
    return { facts: { ...facts, patch_base_unknown: true, patch_not_applied: 'error' in applied ? applied.error : 'the patch leaves no object' }, ...(credentials ? { partial: partialOf(req) } : {}) };
  }
  const result = credentials ? keptForm(applied.result, ref.resource) : applied.result;
  memory.set(key, { object: result, eventId, patched: { auditId: ev.auditID ?? '', base: { object: base.object, eventId: base.eventId } } });
  return { object: structuredClone(result), facts: { ...facts, patch_base_event_id: base.eventId } };
}

/**
 * What a patch of an object not kept makes of its metadata alone: a merge patch applied to an empty object, a JSON
 * patch to empty `metadata.annotations` (where `kubectl annotate` and most annotation patches write). Undefined when
 * the JSON patch does not apply there.
 */
function partialOf(req: unknown): Record<string, unknown> | undefined {
  const out = Array.isArray(req) ? applyJsonPatch({ metadata: { annotations: {} } }, req) : { result: applyMergePatch({}, req) };
  return 'error' in out || !isObject(out.result) ? undefined : out.result;
}
