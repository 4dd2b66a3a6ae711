import type { SqliteStateStore } from '../spool/state-store.js';
import { REGISTRY_NS } from './registry.js';

const DAY_MS = 86_400_000;

/**
 * What the rules learn and keep for later events: the registry's versions, approvals, jobs and their indexes
 * (`rules.registry`), each rule's learned state (`rules.kind`: writers of a data source, alias holders, live stage
 * deployments, waits). Neither had a bound in time: a model deleted from view, a writer gone, a bucket no longer used
 * kept its rows for as long as the spool lived.
 */
export const AGED_STATE_NS = [REGISTRY_NS, 'rules.kind'] as const;

/** Where a pass of expireRuleState stopped: the namespace (index in AGED_STATE_NS) and the last key looked at. */
export interface StateExpiryCursor {
  ns: number;
  after: string;
}

/**
 * One slice of the bridge's housekeeping pass over rule state: looks at up to `scanRows` keys from `cursor` and
 * deletes those neither written nor read by the rules for `retentionDays` before `nowMs` (the state store's
 * `touched`, which the rules' cache moves on a read, once a day: see WriteBackStateStore `touchOnRead`); 0 keeps
 * them all. Rows written before `touched` was kept count from the first pass on. Returns how many it deleted and
 * the cursor to go on from, undefined when the pass is over.
 *
 * @example
 * let at: StateExpiryCursor | undefined = { ns: 0, after: '' };
 * while (at) ({ next: at } = expireRuleState(spool.state, Date.now(), cfg.rules.state_retention_days, at, 2000));
 */
export function expireRuleState(state: SqliteStateStore, nowMs: number, retentionDays: number, cursor: StateExpiryCursor, scanRows: number): { deleted: number; next?: StateExpiryCursor } {
  if (retentionDays <= 0) return { deleted: 0 };
  const ns = AGED_STATE_NS[cursor.ns];
  if (ns === undefined) return { deleted: 0 };
  const { deleted, next } = state.expireUntouched(ns, nowMs - retentionDays * DAY_MS, cursor.after, scanRows);
  if (next !== undefined) return { deleted, next: { ns: cursor.ns, after: next } };
  return { deleted, ...(cursor.ns + 1 < AGED_STATE_NS.length ? { next: { ns: cursor.ns + 1, after: '' } } : {}) };
}
