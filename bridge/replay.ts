import { RuleProcessor } from '../core/rules/processor.js';
import { silentLogger } from '../core/log.js';
import type { Alert, NormalizedEvent } from '../core/schema/index.js';
import { Spool } from '../core/spool/index.js';
import type { Config } from './config.js';

export interface ReplayResult {
  /** Events in event-time order, duplicates (same id) removed. */
  events: NormalizedEvent[];
  alerts: Alert[];
  duplicates: number;
}

/**
 * Run events through the same dedup → spool → rules path as `serve`, in
 * event-time order, with rules evaluated on event time. Uses a throwaway
 * in-memory spool, so nothing touches the data directory.
 *
 * @example
 * const { alerts } = replayEvents(events, loadConfig({ file }));
 */
export function replayEvents(input: NormalizedEvent[], cfg: Pick<Config, 'rules'>): ReplayResult {
  const events = input
    .map((e, i) => ({ e, i, t: Date.parse(e.time) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((x) => x.e);
  const spool = Spool.open({ dir: ':memory:', synchronous: 'OFF', maxBytes: Number.MAX_SAFE_INTEGER });
  const alerts: Alert[] = [];
  const rules = RuleProcessor.forConfig(spool, cfg.rules, silentLogger(), undefined, (a) => alerts.push(...a));
  const kept: NormalizedEvent[] = [];
  let duplicates = 0;
  const CHUNK = 5000;
  for (let i = 0; i < events.length; i += CHUNK) {
    const chunk = events.slice(i, i + CHUNK);
    const res = spool.transaction(() => spool.appendInTx(chunk.map((e) => ({ kind: 'event' as const, id: e.id, body: JSON.stringify(e) }))));
    const accepted = new Set(res.accepted);
    for (const e of chunk) if (accepted.has(e.id)) (kept.push(e), accepted.delete(e.id));
    duplicates += res.duplicates.length;
    rules.drainNow();
  }
  const last = kept.at(-1)?.time;
  if (last) {
    alerts.push(...rules.flushWindows(last));
  }
  spool.close();
  return { events: kept, alerts, duplicates };
}
