/** The rules' and connectors' key/value state (StateStore) in the spool database's `state` table. */
import type Database from 'better-sqlite3';
import type { StateStore } from '../state/index.js';

/** StateStore over the spool's `state` table: JSON values, keyed by namespace and key. */
export class SqliteStateStore implements StateStore {
  private readonly s;
  /** `now`: the clock `touched` is stamped with (epoch ms; the spool's, so tests can move it). */
  constructor(
    db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {
    this.s = {
      get: db.prepare('SELECT value FROM state WHERE ns = ? AND key = ?'),
      // `touched`: when the key was last written, what rule-state retention (core/rules/state-retention) goes by.
      set: db.prepare('INSERT INTO state (ns, key, value, touched) VALUES (?, ?, ?, ?) ON CONFLICT(ns, key) DO UPDATE SET value = excluded.value, touched = excluded.touched'),
      scanKeys: db.prepare('SELECT key FROM state WHERE ns = ? AND key > ? ORDER BY key LIMIT ?').pluck(),
      deleteUntouched: db.prepare('DELETE FROM state WHERE ns = ? AND key > ? AND key <= ? AND touched < ?'),
      stampUnknown: db.prepare('UPDATE state SET touched = ? WHERE ns = ? AND key > ? AND key <= ? AND touched IS NULL'),
      del: db.prepare('DELETE FROM state WHERE ns = ? AND key = ?'),
      list: db.prepare("SELECT key, value FROM state WHERE ns = ? AND key >= ? AND key < ? || char(1114111) ORDER BY key"),
      size: db.prepare('SELECT COUNT(*) AS n FROM state WHERE ns = ?'),
      // Keys ending in a day (`…|YYYY-MM-DD`): such strings sort as the days they name.
      deleteDatedBefore: db.prepare('DELETE FROM state WHERE ns = ? AND key IN (SELECT key FROM state WHERE ns = ? AND substr(key, -11, 1) = \'|\' AND substr(key, -10) < ? LIMIT ?)'),
    };
  }
  get<T>(ns: string, key: string): T | undefined {
    const row = this.s.get.get(ns, key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }
  set(ns: string, key: string, value: unknown): void {
    this.s.set.run(ns, key, JSON.stringify(value), this.now());
  }
  setJson(ns: string, key: string, json: string): void {
    this.s.set.run(ns, key, json, this.now());
  }
  delete(ns: string, key: string): void {
    this.s.del.run(ns, key);
  }
  size(ns: string): number {
    return (this.s.size.get(ns) as { n: number }).n;
  }
  /** Delete up to `maxRows` keys of `ns` that end in a day (`…|YYYY-MM-DD`) before `day`; returns how many. */
  deleteDatedBefore(ns: string, day: string, maxRows: number): number {
    return this.s.deleteDatedBefore.run(ns, ns, day, maxRows).changes;
  }
  /**
   * One slice of a pass over `ns` in key order: of the next `scanRows` keys after `after` ('' from the start), delete
   * those last written before `before` (epoch ms), and stamp those written before `touched` was kept with now (they
   * age from the upgrade on). Returns how many were deleted and the last key scanned (undefined: the pass is done).
   */
  expireUntouched(ns: string, before: number, after: string, scanRows: number): { deleted: number; next?: string } {
    const keys = this.s.scanKeys.all(ns, after, scanRows) as string[];
    const last = keys.at(-1);
    if (last === undefined) return { deleted: 0 };
    this.s.stampUnknown.run(this.now(), ns, after, last);
    const deleted = this.s.deleteUntouched.run(ns, after, last, before).changes;
    return { deleted, ...(keys.length === scanRows ? { next: last } : {}) };
  }
  list<T>(ns: string, prefix = ''): Array<{ key: string; value: T }> {
    const rows = this.s.list.all(ns, prefix, prefix) as Array<{ key: string; value: string }>;
    return rows.map((r) => ({ key: r.key, value: JSON.parse(r.value) as T }));
  }
}
