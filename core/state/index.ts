/**
 * Small key-value state interface for cursors, dedup windows, rule baselines
 * and connector snapshots. SQLite (core/spool) is the embedded default; a
 * shared store can implement the same interface later. Values are JSON.
 * Synchronous on purpose: rules evaluate inside the spool transaction that
 * advances their cursor, so state and cursor commit together.
 */
export interface StateStore {
  get<T = unknown>(ns: string, key: string): T | undefined;
  set(ns: string, key: string, value: unknown): void;
  delete(ns: string, key: string): void;
  /** All entries of a namespace whose key starts with `prefix`. */
  list<T = unknown>(ns: string, prefix?: string): Array<{ key: string; value: T }>;
  /** Number of keys in a namespace (optional: lets caches decide what fits in memory). */
  size?(ns: string): number;
  /** Store a value already serialized as JSON (optional: lets a cache serialize outside the write transaction). */
  setJson?(ns: string, key: string, json: string): void;
  /**
   * Drop the cached entries of a namespace whose key `drop` picks, from memory only (optional: a store that caches).
   * For rows another connection deletes (the bridge's housekeeping): held in a cache they would stay until restart.
   */
  forget?(ns: string, drop: (key: string) => boolean): void;
}

/** In-memory StateStore for tests and throwaway runs. */
export class MemoryStateStore implements StateStore {
  private readonly map = new Map<string, Map<string, string>>();
  get<T>(ns: string, key: string): T | undefined {
    const v = this.map.get(ns)?.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }
  set(ns: string, key: string, value: unknown): void {
    let m = this.map.get(ns);
    if (!m) this.map.set(ns, (m = new Map()));
    m.set(key, JSON.stringify(value));
  }
  delete(ns: string, key: string): void {
    this.map.get(ns)?.delete(key);
  }
  size(ns: string): number {
    return this.map.get(ns)?.size ?? 0;
  }
  list<T>(ns: string, prefix = ''): Array<{ key: string; value: T }> {
    const m = this.map.get(ns);
    if (!m) return [];
    return [...m.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, v]) => ({ key, value: JSON.parse(v) as T }));
  }
}
