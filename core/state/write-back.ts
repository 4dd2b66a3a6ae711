import type { StateStore } from './index.js';

const DELETED = Symbol('deleted');
type Slot = unknown | typeof DELETED;

/**
 * A write-back cache in front of a StateStore, for the rule engine's hot path:
 * reads come from memory (each namespace is loaded whole on first use), writes
 * stay in memory until `flush()`, which the rule processor calls inside the
 * spool transaction that advances its cursor — so state still commits
 * atomically with the cursor, but a chunk of events costs one write per
 * changed key instead of a JSON round-trip through SQLite per access.
 *
 * Contract: a value returned by `get`/`list` is the cached object itself;
 * mutate it only when you `set` it afterwards (as the engine does). After a
 * failed transaction call `discard()`: the cache reloads from the store.
 *
 * @example
 * const state = new WriteBackStateStore(spool.state);
 * spool.transaction(() => { engine.process(ev); state.flush(); });
 */
export class WriteBackStateStore implements StateStore {
  private readonly spaces = new Map<string, Map<string, Slot>>();
  private readonly dirty = new Map<string, Set<string>>();

  constructor(private readonly backing: StateStore) {}

  private space(ns: string): Map<string, Slot> {
    let m = this.spaces.get(ns);
    if (!m) {
      m = new Map(this.backing.list(ns).map(({ key, value }) => [key, value]));
      this.spaces.set(ns, m);
    }
    return m;
  }

  private touch(ns: string, key: string): void {
    let d = this.dirty.get(ns);
    if (!d) this.dirty.set(ns, (d = new Set()));
    d.add(key);
  }

  get<T = unknown>(ns: string, key: string): T | undefined {
    const v = this.space(ns).get(key);
    return v === DELETED ? undefined : (v as T | undefined);
  }

  set(ns: string, key: string, value: unknown): void {
    this.space(ns).set(key, value);
    this.touch(ns, key);
  }

  delete(ns: string, key: string): void {
    const m = this.space(ns);
    if (!m.has(key)) return;
    m.set(key, DELETED);
    this.touch(ns, key);
  }

  list<T = unknown>(ns: string, prefix = ''): Array<{ key: string; value: T }> {
    const out: Array<{ key: string; value: T }> = [];
    for (const [key, value] of this.space(ns)) if (value !== DELETED && key.startsWith(prefix)) out.push({ key, value: value as T });
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Write every changed key to the backing store (call inside the transaction). */
  flush(): void {
    for (const [ns, keys] of this.dirty) {
      const m = this.spaces.get(ns)!;
      for (const key of keys) {
        const v = m.get(key);
        if (v === DELETED) {
          this.backing.delete(ns, key);
          m.delete(key);
        } else this.backing.set(ns, key, v);
      }
    }
    this.dirty.clear();
  }

  /** Forget everything cached (after a rolled-back transaction). */
  discard(): void {
    this.spaces.clear();
    this.dirty.clear();
  }
}
