/**
 * A patch of an InferenceService logged at `Request` level (the shipped audit policy) carries the patch body, not the
 * object: a JSON patch replacing one env value or a merge patch of `storageUri` alone says nothing of the rest of the
 * spec. The last whole object seen per cluster, namespace and name (a create or update body, or any logged response
 * object) is kept, bounded, and such a patch is applied to it, so the write is judged as the object it made. The same
 * holds for the ServiceAccounts and Secrets whose annotations say where KServe fetches `s3://` models from. The serving
 * bridge keeps them in its spool state (keepPatchBasesIn), without secret values, so that a restart loses none.
 *
 * The audit Event does not record the request's Content-Type: a JSON patch (RFC 6902) is told by its body being an
 * array; an object body is taken as a merge patch (RFC 7386): custom resources refuse strategic merge patches, and a
 * server-side apply body is applied as one too (its lists merged by key are then replaced, an approximation). A
 * ServiceAccount's `secrets`, which `kubectl patch` (a strategic merge patch for core objects) merges by name, are
 * merged so (applyObjectPatch).
 * JSON patches are applied by fast-json-patch; the merge patch (RFC 7386, a few lines) is written here.
 */

import type { AuditEvent } from './envelope.js';
import jsonPatch, { type JsonPatchError, type Operation } from 'fast-json-patch';
import type { StateStore } from '../../../core/state/index.js';
import { REDACTED } from '../../../core/secrets.js';
import { AZURE_CONNECTION_STRING_ENV, azureBlobEndpointOf, shownEndpoint } from '../artifactendpoints.js';
import { isObject } from './objects.js';
import { redactAuditRaw } from './redact.js';

/** Objects kept per connector config and memory (each serving bridge, each `normalize` run, has its own). */
const MAX_OBJECTS = 2000;
const MODEL_SERVERS = new Set(['inferenceservices', 'llminferenceservices']);
const KSERVE_GROUPS = new Set(['serving.kserve.io', 'serving.kubeflow.org']);
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

interface KeptObject {
  /** The whole object after the write that showed it. */
  object: Record<string, unknown>;
  /** Its secret values are hidden (withoutSecrets): a Secret, or an object read back from the spool state. */
  redacted?: true;
  /** The event id of that record (a reconstructed object: of the patch that made it). */
  eventId: string;
  /** Where the object came from a patch applied here: the patch's auditID and the object it was applied to. */
  patched?: { auditId: string; base: KeptObject };
}

/** The resource type of a key (keyOf: `<cluster>|<resource>|<namespace>/<name>`; a namespace or name holds no `|`). */
const keyResource = (key: string): string | undefined => key.split('|').at(-2);

/** A kept object as persisted: with its place in the eviction order. */
type StoredObject = KeptObject & { seq: number };

/**
 * The last whole object of each endpoint seen, oldest dropped first (a Map keeps insertion order). With a state store
 * (the serving bridge's spool state, keepPatchBasesIn) every change is written through to it and the objects are read
 * back at first use, so a restart between an object's write and its patch still applies the patch to it; the bound
 * holds on disk as in memory. Changes made within a batch (PatchBaseBatch.run) are the batch's: written by its
 * `save`, or taken back by its `abandon`.
 */
class ObjectMemory {
  readonly objects = new Map<string, KeptObject>();
  private seq = 0;
  store?: { state: StateStore; ns: string; loaded: boolean; deferred: boolean };
  /** Writes not yet in the store and of no open batch, key → value, `null` for a deletion (see `save`). */
  readonly pending = new Map<string, StoredObject | null>();
  /** The batch whose record is being normalized (PatchBaseBatch.run): its changes are noted there. */
  batch?: PatchBaseBatch;
  /**
   * Persist in namespace `ns` of `state` (entries already there are read back at first use). `deferred`: changes
   * wait for `save`, which the caller runs in one transaction for a whole batch.
   */
  persistIn(state: StateStore, ns: string, deferred = false): void {
    this.store = { state, ns, loaded: false, deferred };
    this.pending.clear();
  }
  /** Write the deferred changes to the store (inside the caller's transaction); kept pending if that throws. */
  save(): void {
    const st = this.store;
    if (!st) return;
    for (const [key, value] of this.pending) this.writeNow(key, value);
  }
  /** Forget the deferred changes once `save` committed. */
  saved(): void {
    this.pending.clear();
  }
  get pendingWrites(): number {
    return this.pending.size;
  }
  writeNow(key: string, value: StoredObject | null): void {
    const st = this.store!;
    if (value === null) st.state.delete(st.ns, key);
    else st.state.set(st.ns, key, value);
  }
  private load(): void {
    const st = this.store;
    if (!st || st.loaded) return;
    st.loaded = true;
    const stored = st.state.list<StoredObject>(st.ns).sort((a, b) => a.value.seq - b.value.seq);
    for (const { key, value } of stored) {
      const { seq, ...kept } = value;
      this.seq = Math.max(this.seq, seq);
      // Written without secret values: so read back (a patch's `test` of one cannot be checked).
      const base = kept.patched && { ...kept.patched, base: { ...kept.patched.base, redacted: true as const } };
      if (!this.objects.has(key)) this.objects.set(key, { ...kept, ...(base ? { patched: base } : {}), redacted: true });
    }
    this.trim();
  }
  get(key: string): KeptObject | undefined {
    this.load();
    return this.objects.get(key);
  }
  /** Every kept object whose key starts with `prefix`. */
  *under(prefix: string): Generator<[string, KeptObject]> {
    this.load();
    for (const entry of this.objects) if (entry[0].startsWith(prefix)) yield entry;
  }
  /**
   * Make `next` the object of `key` (undefined: none), last in the eviction order, and note the change: in the open
   * batch, else in the store (now, or deferred to `save`).
   */
  private put(key: string, next: KeptObject | undefined): void {
    const before = this.objects.get(key);
    if (before === undefined && next === undefined) return;
    this.objects.delete(key);
    if (next) this.objects.set(key, next);
    // On disk without secret values (the spool is no place for them): a base read back after a restart lacks them.
    const write = this.store ? (next ? this.storedForm(key, next) : null) : undefined;
    if (this.batch) this.batch.noted(this, key, before, next, write);
    else if (write === undefined) return;
    else if (this.store!.deferred) this.pending.set(key, write);
    else this.writeNow(key, write);
  }
  /** `kept` as written to the store. */
  storedForm(key: string, kept: KeptObject): StoredObject {
    const resource = keyResource(key);
    const patched = kept.patched && { auditId: kept.patched.auditId, base: { object: withoutSecrets(kept.patched.base.object, resource), eventId: kept.patched.base.eventId } };
    return { object: withoutSecrets(kept.object, resource), eventId: kept.eventId, ...(patched ? { patched } : {}), seq: ++this.seq } satisfies StoredObject;
  }
  set(key: string, kept: KeptObject): void {
    this.load();
    this.put(key, kept);
    this.trim();
  }
  delete(key: string): void {
    this.load();
    this.put(key, undefined);
  }
  /** Forget every object whose key starts with `prefix` (a deletecollection: one resource type in a namespace). */
  deleteUnder(prefix: string): void {
    this.load();
    for (const key of [...this.objects.keys()]) if (key.startsWith(prefix)) this.delete(key);
  }
  trim(): void {
    for (const old of this.objects.keys()) {
      if (this.objects.size <= MAX_OBJECTS) break;
      this.put(old, undefined);
    }
  }
}

interface Memories {
  endpoints: ObjectMemory;
  credentials: ObjectMemory;
  /** Batches begun and neither saved nor abandoned. */
  open: Set<PatchBaseBatch>;
}
const memories = new WeakMap<object, Memories>();
const shared: Memories = { endpoints: new ObjectMemory(), credentials: new ObjectMemory(), open: new Set() };

/** The memories of a connector config: endpoints and credential objects apart, so many of one never push out the other. */
function memoriesOf(config: unknown): Memories {
  let m = isObject(config) ? memories.get(config) : shared;
  if (!m) memories.set(config as object, (m = { endpoints: new ObjectMemory(), credentials: new ObjectMemory(), open: new Set() }));
  return m;
}
function memoryFor(config: unknown, credentials: boolean): ObjectMemory {
  const m = memoriesOf(config);
  return credentials ? m.credentials : m.endpoints;
}

/** The spool state namespaces the kept objects persist in. */
export const PATCH_BASE_NS = { endpoints: 'kubeflow.patch_base', credentials: 'kubeflow.patch_base.credentials' } as const;

/**
 * Keep the objects of connector config `config` in `state` (the serving bridge's spool state, on the main thread where
 * the audit route normalizes, as the Kubeflow pollers keep their cursors): the route's patches are then applied across
 * a restart. Without it (`mltrail normalize`, `replay`: one file read in one run) they are kept in memory only.
 */
export function keepPatchBasesIn(config: object, state: StateStore, opts: { transaction?: <T>(fn: () => T) => T } = {}): void {
  const m = memoriesOf(config);
  m.endpoints.persistIn(state, PATCH_BASE_NS.endpoints, !!opts.transaction);
  m.credentials.persistIn(state, PATCH_BASE_NS.credentials, !!opts.transaction);
  transactions.set(m, opts.transaction);
}

/** The transaction keepPatchBasesIn was given per memories (deferred writes). */
const transactions = new WeakMap<Memories, (<T>(fn: () => T) => T) | undefined>();

/**
 * Write the kept objects' changes since the last call that belong to no batch in one transaction (keepPatchBasesIn
 * with `transaction`). Nothing to write: no transaction at all. A failed commit leaves them to the next call.
 */
export function savePatchBases(config: object): void {
  const m = memoriesOf(config);
  const tx = transactions.get(m);
  if (!tx || (m.endpoints.pendingWrites === 0 && m.credentials.pendingWrites === 0)) return;
  tx(() => {
    m.endpoints.save();
    m.credentials.save();
  });
  m.endpoints.saved();
  m.credentials.saved();
}

/** A change a batch made to one kept object: the object before its first change, the one it left, what to write. */
interface BatchChange {
  before?: KeptObject;
  after?: KeptObject;
  /** The stored form of `after` (null: a deletion); undefined without a store. */
  write?: StoredObject | null;
}

/**
 * The changes one audit batch (one request) makes to the kept objects, held apart until its events are known to be
 * committed: `save` then writes them (one transaction, with any left from before); `abandon`, when the commit failed,
 * takes them back in memory and writes none, so the sender's retry applies its patches to the objects they were
 * applied to the first time. (Saved before the commit, a failed commit left bases that already included the batch:
 * its retry, or a restart then the retry, applied each patch a second time, to its own result.)
 */
export class PatchBaseBatch {
  private readonly changes = new Map<ObjectMemory, Map<string, BatchChange>>();
  private done = false;
  constructor(private readonly m: Memories) {
    m.open.add(this);
  }
  /** Run `fn` (normalizing one record) with the kept objects' changes noted in this batch. */
  run<T>(fn: () => T): T {
    const outer = [this.m.endpoints.batch, this.m.credentials.batch];
    this.m.endpoints.batch = this.m.credentials.batch = this.done ? undefined : this;
    try {
      return fn();
    } finally {
      [this.m.endpoints.batch, this.m.credentials.batch] = outer;
    }
  }
  /** Note a change of `memory`'s `key` from `before` to `after` (ObjectMemory.put). */
  noted(memory: ObjectMemory, key: string, before: KeptObject | undefined, after: KeptObject | undefined, write: StoredObject | null | undefined): void {
    let changes = this.changes.get(memory);
    if (!changes) this.changes.set(memory, (changes = new Map()));
    const first = changes.get(key);
    changes.set(key, { before: first ? first.before : before, after, write });
  }
  /** Whether this batch changed `memory`'s `key`. */
  touches(memory: ObjectMemory, key: string): boolean {
    return this.changes.get(memory)?.has(key) === true;
  }
  /**
   * The batch's events are committed: write its changes (and any left by an earlier failed save) in one transaction.
   * Throws if that fails; the writes are then left to the next save (the objects in memory are right: the events are in).
   */
  save(): void {
    if (this.done) return;
    this.done = true;
    this.m.open.delete(this);
    for (const [memory, changes] of this.changes) {
      if (!memory.store) continue;
      // An object a later batch changed since is that batch's to write (or to put back, and write, if it fails).
      for (const [key, c] of changes) if (c.write !== undefined && memory.objects.get(key) === c.after) memory.pending.set(key, c.write);
    }
    this.changes.clear();
    const tx = transactions.get(this.m);
    const memories = [this.m.endpoints, this.m.credentials].filter((mem) => mem.store && mem.pendingWrites > 0);
    if (!memories.length) return;
    const write = () => {
      for (const mem of memories) mem.save();
    };
    if (tx) tx(write);
    else write();
    for (const mem of memories) mem.saved();
  }
  /**
   * The batch's events were not committed (the sender retries it): each object it changed is the one before again,
   * in memory and, where no other open batch changed it too (that one writes it when saved), on disk, which may
   * lack it (a batch saved meanwhile leaves an object changed since to this one). An object another open batch
   * changed since is forgotten instead, on disk too: the object that batch holds was built on this one's.
   */
  abandon(): void {
    if (this.done) return;
    this.done = true;
    this.m.open.delete(this);
    for (const [memory, changes] of this.changes) {
      for (const [key, c] of changes) {
        const unchanged = memory.objects.get(key) === c.after;
        memory.objects.delete(key);
        if (unchanged && c.before) memory.objects.set(key, c.before);
        if (!memory.store || (unchanged && [...this.m.open].some((other) => other.touches(memory, key)))) continue;
        memory.pending.set(key, unchanged && c.before ? memory.storedForm(key, c.before) : null);
      }
      memory.trim();
    }
    this.changes.clear();
  }
}

/**
 * Begin a batch of kept-object changes for connector config `config` (see PatchBaseBatch): the audit route begins
 * one per request, normalizes each record within `run`, and saves it once the events are committed, or abandons it.
 */
export function beginPatchBaseBatch(config: object): PatchBaseBatch {
  return new PatchBaseBatch(memoriesOf(config));
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
  /**
   * The paths of `test` ops that failed only against a value the kept object holds hidden (a secret, kept without
   * its value): whether they passed is unknown, and the rest of the patch was applied.
   */
  patch_test_unverifiable?: string[];
}

/**
 * Apply a JSON patch (RFC 6902) to a copy of `doc` with fast-json-patch, validated (a failed `test`, a missing path,
 * a bad op fail the whole patch, as the apiserver applies all ops or none; `__proto__` writes refused): the result,
 * or `{error}` naming the op that failed. With `redacted` set (the kept object lacks its secret values: a Secret, or
 * any object read back from the spool state), a `test` that fails where `doc` holds a hidden value cannot be told
 * from one that passed on the apiserver: it is skipped, its path listed in `unverifiedTests`, and the rest applied.
 */
export function applyJsonPatch(doc: unknown, ops: unknown[], redacted = false): { result: unknown; unverifiedTests?: string[] } | { error: string } {
  let current = structuredClone(doc);
  const unverifiedTests: string[] = [];
  // One op at a time: a test is judged against the document the ops before it made, as the apiserver does.
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    try {
      current = jsonPatch.applyPatch(current, [structuredClone(op) as Operation], true, true).newDocument;
    } catch (err) {
      const e = err as JsonPatchError;
      // A JsonPatchError names its op; anything else (a banned `__proto__` write) is said by its message.
      if (typeof e.index !== 'number') return { error: e.message };
      const failedTest = e.name === 'TEST_OPERATION_FAILED' && isObject(op);
      if (failedTest && redacted && holdsHiddenValue(valueAt(current, String(op.path)))) {
        unverifiedTests.push(String(op.path));
        continue;
      }
      const what = isObject(op) ? ` (${String(op.op)} ${String(op.path)})` : '';
      // A failed test is said as such: it is the one an operator writes on purpose (optimistic concurrency).
      const why = failedTest ? `test of ${String(op.path)} failed` : e.name;
      return { error: `op ${i}${what}: ${why}` };
    }
  }
  return { result: current, ...(unverifiedTests.length ? { unverifiedTests } : {}) };
}

/** The value at a JSON pointer of `doc`, undefined where there is none. */
function valueAt(doc: unknown, pointer: string): unknown {
  try {
    return jsonPatch.getValueByPointer(doc, pointer);
  } catch {
    return undefined;
  }
}

/**
 * Whether a kept value is (or holds) one withoutSecrets hid: `[redacted]` anywhere in it (a whole value, URL
 * user-info, a JSON string's key), a base64 value kept as `[unscanned: N bytes]`, or an Azure connection string kept
 * as the blob endpoint it names.
 */
function holdsHiddenValue(v: unknown): boolean {
  if (typeof v === 'string') return v.includes(REDACTED) || AZURE_KEPT.test(v) || UNSCANNED.test(v);
  if (Array.isArray(v)) return v.some(holdsHiddenValue);
  return isObject(v) && Object.values(v).some(holdsHiddenValue);
}
/** A base64 value kept as what stands for one never read whole (core/secrets redactBase64Text: a large gzip text or tar). */
const UNSCANNED = /^\[unscanned: \d+ bytes\]$/;
/** An Azure connection string as keepAzureBlobEndpoints keeps it (its AccountKey dropped). */
const AZURE_KEPT = /^BlobEndpoint=[^;]*$/;

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
 * An object body patch (merge or strategic merge: the record does not say which) applied to `base`. A ServiceAccount's
 * `secrets` are merged by name as a strategic merge patch does (its patchMergeKey; `kubectl patch`'s default for core
 * objects): a merge patch would replace the list, but keeping the Secrets listed before errs toward judging the ones
 * KServe may still read, where replacing them would forget an annotated one still listed.
 */
function applyObjectPatch(base: Record<string, unknown>, patch: unknown, resource: string | undefined): unknown {
  const out = applyMergePatch(base, patch);
  if (resource !== 'serviceaccounts' || !isObject(out) || !isObject(patch) || !Array.isArray(patch.secrets) || !Array.isArray(base.secrets)) return out;
  const named = (s: unknown) => (isObject(s) && typeof s.name === 'string' ? s.name : undefined);
  // Strategic merge directives: `{"$patch":"replace"}` in the list replaces it, `{"name":…,"$patch":"delete"}` drops one.
  const directive = (s: unknown) => (isObject(s) ? s.$patch : undefined);
  const written = patch.secrets.filter((s) => directive(s) === undefined).map((s) => structuredClone(s));
  if (patch.secrets.some((s) => directive(s) === 'replace')) {
    out.secrets = written;
    return out;
  }
  const touched = new Set(patch.secrets.map(named));
  out.secrets = [...base.secrets.filter((s) => !touched.has(named(s))), ...written];
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
  const kept = keptResource(ev);
  return kept && { key: `${cluster ?? ''}|${ref.resource}|${ref.namespace ?? ''}/${ref.name}`, credentials: kept.credentials };
}

/** Whether the record's resource type is one whose objects are kept here, and in which memory. */
function keptResource(ev: AuditEvent): { credentials: boolean } | undefined {
  const ref = ev.objectRef ?? {};
  const credentials = !ref.apiGroup && CREDENTIAL_OBJECTS.has(ref.resource ?? '');
  if (!credentials && (!KSERVE_GROUPS.has(ref.apiGroup ?? '') || !MODEL_SERVERS.has(ref.resource ?? ''))) return undefined;
  return { credentials };
}

/**
 * A deletecollection (`objectRef` with no name) deleted the resource type's objects of its namespace (of every
 * namespace without one): their kept objects go, so a patch of an object of that name made again later is not
 * applied to the deleted one. Logged at `RequestResponse`, its answer is the list of what it deleted (`<Kind>List`
 * with `items`): exactly those go, and the ones a label or field selector spared stay. Otherwise the record does not
 * say which a selector spared, and all go: a base forgotten only leaves a later patch judged by what it sets
 * (patch_base_unknown).
 */
function forgetCollection(ev: AuditEvent, config: unknown, cluster: string | undefined): void {
  const ref = ev.objectRef ?? {};
  const kept = keptResource(ev);
  if (!kept || ref.name || ref.subresource || ev.stage !== 'ResponseComplete' || !carriedOut(ev)) return;
  const memory = memoryFor(config, kept.credentials);
  const deleted = deletedItemsOf(ev.responseObject, ref.namespace);
  if (!deleted) return memory.deleteUnder(`${cluster ?? ''}|${ref.resource}|${ref.namespace ? `${ref.namespace}/` : ''}`);
  for (const { namespace, name } of deleted) memory.delete(`${cluster ?? ''}|${ref.resource}|${namespace}/${name}`);
}

/**
 * The objects a deletecollection's answer lists as deleted (`kind: <Kind>List`, each item's `metadata`; an item
 * without a namespace is of the request's), or undefined when the answer is no such list (not logged, a Status) or
 * an item names no object, or, for a request in a namespace, an object of another one (the apiserver deletes in the
 * request's namespace only: such an answer is not what it did): then it says nothing exact.
 */
function deletedItemsOf(response: unknown, namespace: string | undefined): Array<{ namespace: string; name: string }> | undefined {
  if (!isObject(response) || typeof response.kind !== 'string' || !response.kind.endsWith('List') || !Array.isArray(response.items)) return undefined;
  const out: Array<{ namespace: string; name: string }> = [];
  for (const item of response.items) {
    const meta = isObject(item) ? item.metadata : undefined;
    if (!isObject(meta) || typeof meta.name !== 'string' || !meta.name) return undefined;
    const itemNamespace = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : (namespace ?? '');
    if (namespace && itemNamespace !== namespace) return undefined;
    out.push({ namespace: itemNamespace, name: meta.name });
  }
  return out;
}

/**
 * An object as the audit record's `raw` shows it (redact.ts): secret values hidden — a Secret's data, its
 * last-applied configuration, secret-named env values, URL credentials. An Azure connection string keeps only the blob
 * endpoint it names (`BlobEndpoint=<host>`: all that is read of it, azureBlobEndpointOf), never its AccountKey. What a
 * Secret is kept as (its values are never needed), and what any object is written to disk as.
 */
function withoutSecrets(obj: Record<string, unknown>, resource: string | undefined): Record<string, unknown> {
  const { raw } = redactAuditRaw({ objectRef: { resource }, verb: 'update', responseObject: obj } as AuditEvent);
  const out = structuredClone(raw.responseObject) as Record<string, unknown>;
  keepAzureBlobEndpoints(obj, out);
  return out;
}

/** Where `redacted` hid an Azure connection string env value of `orig`, put back the blob endpoint it names. */
function keepAzureBlobEndpoints(orig: unknown, redacted: unknown): void {
  if (Array.isArray(orig) && Array.isArray(redacted)) orig.forEach((o, i) => keepAzureBlobEndpoints(o, redacted[i]));
  if (!isObject(orig) || !isObject(redacted) || Array.isArray(orig)) return;
  if (orig.name === AZURE_CONNECTION_STRING_ENV && typeof orig.value === 'string' && redacted.value !== orig.value) {
    const blob = azureBlobEndpointOf(orig.value);
    if (blob) redacted.value = `BlobEndpoint=${shownEndpoint(blob)}`;
    return;
  }
  for (const k of Object.keys(orig)) keepAzureBlobEndpoints(orig[k], redacted[k]);
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
 * kept, a credential object's patch returns what the patch alone makes (`partial`: applied to an empty object). A
 * credential object's write also returns the object kept before it (`previous`): a setting the write removed is
 * said so, as an object without it says nothing new.
 */
export function patchedObjectOf(ev: AuditEvent, eventId: string, config: unknown, cluster: string | undefined): { object?: Record<string, unknown>; facts?: PatchFacts; partial?: Record<string, unknown>; previous?: Record<string, unknown> } {
  if (ev.verb === 'deletecollection') {
    forgetCollection(ev, config, cluster);
    return {};
  }
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
  const kept = memory.get(key);
  const previous = credentials && kept ? { previous: kept.object } : {};
  if (whole(response)) {
    memory.set(key, { object: ref.resource === 'secrets' ? withoutSecrets(response, ref.resource) : structuredClone(response), eventId });
    return previous;
  }
  if (ref.subresource) return {};
  const req = ev.requestObject;
  if ((ev.verb === 'create' || ev.verb === 'update') && whole(req)) {
    memory.set(key, { object: ref.resource === 'secrets' ? withoutSecrets(req, ref.resource) : structuredClone(req), eventId });
    return previous;
  }
  if (ev.verb !== 'patch' || (!Array.isArray(req) && !isObject(req))) return {};
  const facts: PatchFacts = { patch_type: Array.isArray(req) ? 'json' : 'merge' };
  // The same record delivered again (a retried batch): applied to the object it was applied to the first time.
  const base = kept?.patched && kept.patched.auditId === ev.auditID ? kept.patched.base : kept;
  if (!base) return { facts: { ...facts, patch_base_unknown: true }, ...(credentials ? { partial: partialOf(req) } : {}) };
  const redacted = base.redacted === true || ref.resource === 'secrets';
  const applied = Array.isArray(req) ? applyJsonPatch(base.object, req, redacted) : { result: applyObjectPatch(base.object, req, ref.resource) };
  if ('error' in applied || !isObject(applied.result)) {
    // The apiserver applied it to the object it had: not the one kept here, which is no longer known.
    memory.delete(key);
    return { facts: { ...facts, patch_base_unknown: true, patch_not_applied: 'error' in applied ? applied.error : 'the patch leaves no object' }, ...(credentials ? { partial: partialOf(req) } : {}) };
  }
  const result = ref.resource === 'secrets' ? withoutSecrets(applied.result, ref.resource) : applied.result;
  // Made from a base without secret values, the result lacks them too.
  memory.set(key, { object: result, eventId, ...(redacted ? { redacted: true } : {}), patched: { auditId: ev.auditID ?? '', base: { object: base.object, eventId: base.eventId, ...(base.redacted ? { redacted: true } : {}) } } });
  const unverified = 'unverifiedTests' in applied && applied.unverifiedTests ? { patch_test_unverifiable: applied.unverifiedTests } : {};
  return { object: structuredClone(result), facts: { ...facts, patch_base_event_id: base.eventId, ...unverified }, ...(credentials ? { previous: base.object } : {}) };
}

/**
 * What a patch of an object not kept makes of its metadata alone: the patch applied to empty `metadata.annotations`
 * (where `kubectl annotate` and most annotation patches write; a ServiceAccount's `secrets` beside it are read as
 * an object's are only with metadata). Undefined when the JSON patch does not apply there.
 */
function partialOf(req: unknown): Record<string, unknown> | undefined {
  const empty = { metadata: { annotations: {} } };
  const out = Array.isArray(req) ? applyJsonPatch(empty, req) : { result: applyMergePatch(empty, req) };
  return 'error' in out || !isObject(out.result) ? undefined : out.result;
}

/** Whether an object's annotations name KServe S3 settings (`serving.kserve.io/s3-*`, `serving.kubeflow.org/s3-*`). */
function hasKserveS3Annotation(obj: unknown): boolean {
  const ann = isObject(obj) && isObject(obj.metadata) && isObject(obj.metadata.annotations) ? obj.metadata.annotations : undefined;
  return !!ann && Object.keys(ann).some((k) => /^serving\.(kserve\.io|kubeflow\.org)\/s3-/.test(k));
}

/** What makes a Secret a model store credential (modelStoreSecretOf). */
export interface ModelStoreSecret {
  /** `annotation`: the Secret carries KServe's S3 annotations; `service_account`: a ServiceAccount KServe downloads with lists it. */
  from: 'annotation' | 'service_account';
  service_account?: string;
  /** Why that account is KServe's: its own S3 annotations, or the InferenceService (`<namespace>/<name>`) that runs under it. */
  account_of?: string;
}

/**
 * Whether the Secret `namespace/name` is credentials KServe's storage initializer downloads models with, from the
 * objects kept here (the last 2000 ServiceAccounts and Secrets, the last 2000 InferenceServices): the Secret's own
 * `serving.kserve.io/s3-*` annotations (a Secret body is seldom logged), else a ServiceAccount of its namespace listing
 * it under `secrets` that is KServe's — annotated `serving.kserve.io/s3-*`, or the `serviceAccountName` (`default`
 * when unset) of an InferenceService kept in that namespace (KServe's credential builder reads that account's Secrets).
 */
export function modelStoreSecretOf(config: unknown, cluster: string | undefined, namespace: string, name: string, accountOf: (isvc: unknown) => string | undefined): ModelStoreSecret | undefined {
  const creds = memoryFor(config, true);
  const prefix = `${cluster ?? ''}|`;
  if (hasKserveS3Annotation(creds.get(`${prefix}secrets|${namespace}/${name}`)?.object)) return { from: 'annotation' };
  let isvcAccounts: Map<string, string> | undefined;
  const saPrefix = `${prefix}serviceaccounts|${namespace}/`;
  for (const [key, kept] of creds.under(saPrefix)) {
    const listed = Array.isArray(kept.object.secrets) && kept.object.secrets.some((s) => isObject(s) && s.name === name);
    if (!listed) continue;
    const account = key.slice(saPrefix.length);
    // The account's own token (`<account>-token-xxxxx`, listed by Kubernetes before 1.24) and OpenShift's pull secret
    // (`<account>-dockercfg-xxxxx`) are no model store credentials.
    if (name.startsWith(`${account}-token-`) || name.startsWith(`${account}-dockercfg-`)) continue;
    if (hasKserveS3Annotation(kept.object)) return { from: 'service_account', service_account: account, account_of: 'annotation' };
    if (!isvcAccounts) {
      isvcAccounts = new Map();
      const eps = memoryFor(config, false);
      for (const resource of ['inferenceservices', 'llminferenceservices']) {
        const epPrefix = `${prefix}${resource}|${namespace}/`;
        for (const [k, e] of eps.under(epPrefix)) {
          const sa = accountOf(e.object);
          if (sa && !isvcAccounts.has(sa)) isvcAccounts.set(sa, `${namespace}/${k.slice(epPrefix.length)}`);
        }
      }
    }
    const isvc = isvcAccounts.get(account);
    if (isvc) return { from: 'service_account', service_account: account, account_of: isvc };
  }
  return undefined;
}
