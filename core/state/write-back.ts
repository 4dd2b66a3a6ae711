import type { StateStore } from './index.js';

const DELETED = Symbol('deleted');
const ABSENT = Symbol('absent');
type Slot = unknown | typeof DELETED | typeof ABSENT;
const SEP = '\u0001';

/** Changed keys serialized for a write: `json` undefined means deleted. */
export type SerializedChanges = Array<{ ns: string; key: string; json?: string }>;

/**
 * A write-back cache in front of a StateStore, for the rule engine's hot path.
 * Writes stay in memory until `flush()`, which the rule processor calls inside
 * the spool transaction that advances its cursor — so state still commits
 * atomically with the cursor, but a chunk of events costs one write per
 * changed key instead of a JSON round-trip through SQLite per access.
 *
 * Reads: each namespace is held whole in memory (misses answered without a
 * query) while it has at most `maxWholeEntries` keys. A namespace that grows
 * past that and is never `list`ed (the registry, which only grows) moves to a
 * bounded LRU of recently used and known-absent keys, so memory stays flat at
 * any scale while the full state lives on disk. Listed namespaces (baselines,
 * suppression bookkeeping) stay whole: the engine bounds them itself.
 *
 * Contract: a value returned by `get`/`list` may be the cached object itself;
 * mutate it only when you `set` it afterwards (as the engine does). After a
 * failed transaction call `discard()`: the cache reloads from the store.
 *
 * @example
 * const state = new WriteBackStateStore(spool.state);
 * spool.transaction(() => { engine.process(ev); state.flush(); });
 */
export class WriteBackStateStore implements StateStore {
  private readonly whole = new Map<string, Map<string, Slot>>();
  private readonly listed = new Set<string>();
  private readonly lruSpaces = new Set<string>();
  /** `ns SEP key` → value for LRU namespaces (Map order: oldest first). */
  private readonly lru = new Map<string, Slot>();
  /**
   * Changed keys not yet written, by namespace. Kept apart per namespace (not as `ns SEP key`) so that marking a key
   * costs no string concatenation and hashing of a second, longer key on every write (profiled: the rules' hot path).
   */
  private readonly dirty = new Map<string, Set<string>>();
  /** Keys of `touchOnRead` namespaces read (and so written back) on the UTC day `touchDay`, by namespace. */
  private readonly touched = new Map<string, Set<string>>();
  private touchDay = -1;
  /**
   * Keys of a listed whole namespace, sorted, built by the first `list` and kept until a key is added to or removed
   * from the namespace's map (a value changing keeps it). The rules list their baselines' series each hour, once per
   * windowed rule: sorting every series' key for each was a tenth of the rules thread on a multi-week workload.
   */
  private readonly sortedKeys = new Map<string, string[]>();

  /**
   * `touchOnRead`: namespaces whose keys age out by when they were last used (core/rules/state-retention): a key
   * read there is written back at the next flush, at most once a UTC day, so the store's `touched` says when it was
   * last read or written. `now`: the clock of those days (tests).
   */
  constructor(
    private readonly backing: StateStore,
    private readonly maxWholeEntries = 200_000,
    private readonly maxLruEntries = 100_000,
    private readonly opts: { touchOnRead?: readonly string[]; now?: () => number } = {},
  ) {
    for (const ns of opts.touchOnRead ?? []) this.touched.set(ns, new Set());
    this.startTouchDay();
  }

  get<T = unknown>(ns: string, key: string): T | undefined {
    const space = this.space(ns);
    if (space) {
      const v = space.get(key);
      if (v === DELETED || v === undefined) return undefined;
      if (this.touched.size) this.touch(ns, key);
      return v as T;
    }
    const k = ns + SEP + key;
    let v = this.lru.get(k);
    if (v === undefined) {
      v = this.backing.get(ns, key) ?? ABSENT;
      this.lru.set(k, v);
      if (this.lru.size > this.maxLruEntries) this.evict();
    } else if (!this.isDirty(ns, key)) {
      this.lru.delete(k);
      this.lru.set(k, v);
    }
    if (v === DELETED || v === ABSENT) return undefined;
    if (this.touched.size) this.touch(ns, key);
    return v as T;
  }

  /** A key of a touchOnRead namespace read: written back at the next flush, once a day (its `touched` moves). */
  private touch(ns: string, key: string): void {
    const today = this.touched.get(ns);
    if (!today || today.has(key)) return;
    // Bounded: past it the day starts over (a key may then be written back twice that day, never missed).
    if (today.size >= this.maxLruEntries) today.clear();
    today.add(key);
    this.markDirty(ns, key);
  }

  /** A new UTC day (looked at each write, not per read): the keys read start being written back again. */
  private startTouchDay(): void {
    if (!this.touched.size) return;
    const day = Math.floor((this.opts.now ?? Date.now)() / 86_400_000);
    if (day === this.touchDay) return;
    this.touchDay = day;
    for (const keys of this.touched.values()) keys.clear();
  }

  set(ns: string, key: string, value: unknown): void {
    this.put(ns, key, value);
  }

  delete(ns: string, key: string): void {
    this.put(ns, key, DELETED);
  }

  list<T = unknown>(ns: string, prefix = ''): Array<{ key: string; value: T }> {
    this.listed.add(ns);
    const space = this.space(ns);
    if (!space) {
      // A namespace demoted before it was ever listed: read through the store.
      this.flush();
      return this.backing.list<T>(ns, prefix);
    }
    let keys = this.sortedKeys.get(ns);
    if (!keys) this.sortedKeys.set(ns, (keys = [...space.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))));
    const out: Array<{ key: string; value: T }> = [];
    // The keys starting with `prefix` are one run of the sorted keys, from the first not below it.
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keys[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < keys.length; i++) {
      const key = keys[i]!;
      if (!key.startsWith(prefix)) break;
      const value = space.get(key);
      if (value !== DELETED) out.push({ key, value: value as T });
    }
    return out;
  }

  /** Write every changed key to the backing store (call inside the transaction). */
  flush(): void {
    this.write(this.serializeDirty());
  }

  /**
   * Serialize every changed key (the costly part of a flush) without touching
   * the store, so a caller can do it before taking the database's write lock
   * and then `write()` the result inside a short transaction.
   */
  serializeDirty(): SerializedChanges {
    const out: SerializedChanges = [];
    for (const [ns, keys] of this.dirty) {
      const space = this.whole.get(ns);
      // In key order (the state table's primary key is (ns, key)): the upserts then walk the B-tree forward, touching
      // each page once, instead of jumping across it in the order keys changed — replaying the bench's commits, the
      // write inside the transaction cost 6-15% less, sort included (and the sort is done here, before the lock).
      for (const key of [...keys].sort()) {
        const v = space ? space.get(key) : this.lru.get(ns + SEP + key);
        out.push(v === DELETED ? { ns, key } : { ns, key, json: JSON.stringify(v) });
      }
    }
    return out;
  }

  /** Write changes from `serializeDirty()` to the backing store (inside the transaction) and mark them clean. */
  write(changes: SerializedChanges): void {
    for (const c of changes) {
      if (c.json === undefined) this.backing.delete(c.ns, c.key);
      else if (this.backing.setJson) this.backing.setJson(c.ns, c.key, c.json);
      else this.backing.set(c.ns, c.key, JSON.parse(c.json));
    }
    for (const c of changes) {
      if (c.json === undefined) {
        const space = this.whole.get(c.ns);
        if (space) {
          if (space.delete(c.key)) this.sortedKeys.delete(c.ns);
        } else this.lru.set(c.ns + SEP + c.key, ABSENT);
      }
      this.dirty.get(c.ns)?.delete(c.key);
    }
    if (this.lru.size > this.maxLruEntries) this.evict();
    this.startTouchDay();
  }

  /**
   * Drop the clean cached entries of `ns` whose key `drop` picks; the backing store keeps them. A namespace held whole
   * then reads them as absent (as after their deletion elsewhere); an LRU one reads them from the store again.
   * Changes not yet written stay (they are written as usual).
   */
  forget(ns: string, drop: (key: string) => boolean): void {
    const pre = ns + SEP;
    const space = this.whole.get(ns);
    if (space) {
      for (const key of space.keys()) if (drop(key) && !this.isDirty(ns, key) && space.delete(key)) this.sortedKeys.delete(ns);
      return;
    }
    for (const k of this.lru.keys()) if (k.startsWith(pre) && drop(k.slice(pre.length)) && !this.isDirty(ns, k.slice(pre.length))) this.lru.delete(k);
  }

  /** Forget everything cached (after a rolled-back transaction). */
  discard(): void {
    // The keys read today were written back with the changes discarded: read again, they are again.
    for (const keys of this.touched.values()) keys.clear();
    this.whole.clear();
    this.sortedKeys.clear();
    this.lruSpaces.clear();
    this.lru.clear();
    this.dirty.clear();
  }

  /** The whole-namespace map, loading it on first use; undefined for an LRU namespace. */
  private space(ns: string): Map<string, Slot> | undefined {
    const have = this.whole.get(ns);
    if (have || this.lruSpaces.has(ns)) return have;
    if (!this.listed.has(ns) && (this.backing.size?.(ns) ?? 0) > this.maxWholeEntries) {
      this.lruSpaces.add(ns);
      return undefined;
    }
    const space = new Map<string, Slot>(this.backing.list(ns).map(({ key, value }) => [key, value]));
    this.whole.set(ns, space);
    return space;
  }

  private put(ns: string, key: string, value: Slot): void {
    const space = this.space(ns);
    if (space) {
      // One lookup, not has() then set(): the size grows only for a new key (a deleted one is still a key here).
      const size = space.size;
      space.set(key, value);
      if (space.size !== size) this.sortedKeys.delete(ns);
      this.markDirty(ns, key);
      if (space.size > this.maxWholeEntries && !this.listed.has(ns)) this.demote(ns, space);
      return;
    }
    const k = ns + SEP + key;
    this.lru.delete(k);
    this.lru.set(k, value);
    this.markDirty(ns, key);
  }

  private markDirty(ns: string, key: string): void {
    let keys = this.dirty.get(ns);
    if (!keys) this.dirty.set(ns, (keys = new Set()));
    keys.add(key);
  }

  private isDirty(ns: string, key: string): boolean {
    return this.dirty.get(ns)?.has(key) ?? false;
  }

  /** Move a grown namespace to the LRU: pending changes move over, clean entries are dropped. */
  private demote(ns: string, space: Map<string, Slot>): void {
    const pre = ns + SEP;
    const dirty = this.dirty.get(ns);
    if (dirty) for (const key of dirty) this.lru.set(pre + key, space.get(key));
    this.whole.delete(ns);
    this.sortedKeys.delete(ns);
    this.lruSpaces.add(ns);
  }

  /** Drop least recently used clean LRU entries down to 90% of the bound. */
  private evict(): void {
    const target = Math.floor(this.maxLruEntries * 0.9);
    for (const k of this.lru.keys()) {
      if (this.lru.size <= target) break;
      const i = k.indexOf(SEP);
      if (!this.isDirty(k.slice(0, i), k.slice(i + 1))) this.lru.delete(k);
    }
  }
}
