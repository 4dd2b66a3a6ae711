import type { SqliteStateStore } from '../spool/state-store.js';

const DAY_MS = 86_400_000;

/** Per-rule daily statistics: `<rule>|YYYY-MM-DD` (re-exported by ./engine.ts). */
export const STATS_NS = 'rules.stats';

/**
 * Delete up to `maxRows` days of per-rule statistics (`rules.stats`, one row per rule and day: `<rule>|YYYY-MM-DD`)
 * older than `retentionDays` before `nowMs` (UTC days); 0 keeps them all. Called by the bridge's housekeeping, in
 * slices: the rows otherwise grew by one per rule every day for as long as the bridge ran. Returns how many.
 *
 * @example
 * expireRuleStats(spool.state, Date.now(), cfg.rules.stats_retention_days, 256)
 */
export function expireRuleStats(state: SqliteStateStore, nowMs: number, retentionDays: number, maxRows: number): number {
  if (retentionDays <= 0) return 0;
  return state.deleteDatedBefore(STATS_NS, statsCutoffDay(nowMs, retentionDays), maxRows);
}

/** The first day kept (YYYY-MM-DD): today counts as one of the `retentionDays`. */
export function statsCutoffDay(nowMs: number, retentionDays: number): string {
  return new Date(nowMs - (retentionDays - 1) * DAY_MS).toISOString().slice(0, 10);
}

/** Whether a `rules.stats` key is a day (`<rule>|YYYY-MM-DD`, as expireRuleStats reads it) before `cutoffDay`. */
export function isStatsDayBefore(key: string, cutoffDay: string): boolean {
  return key.charAt(key.length - 11) === '|' && key.slice(-10) < cutoffDay;
}
