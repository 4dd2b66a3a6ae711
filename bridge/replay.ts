import Database from 'better-sqlite3';
import { join } from 'node:path';
import { RuleProcessor, RULES_CONSUMER } from '../core/rules/processor.js';
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

/** An event as replay feeds it: its id, event time and JSON text. */
export interface ReplayItem {
  id: string;
  time: string;
  body: string;
}

/** Events appended and evaluated per transaction. */
const CHUNK = 5000;

/**
 * The replay pipeline: events fed in event-time order go through the same
 * dedup → spool → rules path as `serve`, rules evaluated on event time.
 * Evaluated records are pruned after each chunk, so memory does not grow
 * with the input; the spool lives in `dir` (a throwaway directory) or in
 * memory. Accepted events and raised alerts are handed to the callbacks as
 * they come.
 *
 * @example
 * const r = new Replayer(cfg, { onAlerts: (a) => a.forEach(write) });
 * for (const chunk of sorted) r.push(chunk);
 * r.finish();
 */
export class Replayer {
  private readonly spool: Spool;
  private readonly rules: RuleProcessor;
  private lastTime?: string;
  duplicates = 0;
  accepted = 0;

  constructor(
    cfg: Pick<Config, 'rules'>,
    private readonly opts: { dir?: string; onAlerts?: (alerts: Alert[]) => void; onEvent?: (item: ReplayItem) => void } = {},
  ) {
    this.spool = Spool.open({ dir: opts.dir ?? ':memory:', synchronous: 'OFF', maxBytes: Number.MAX_SAFE_INTEGER });
    // Records are evaluated in event-time order, all received now: receipts say nothing here.
    this.rules = RuleProcessor.forConfig(this.spool, cfg.rules, silentLogger(), undefined, opts.onAlerts, { receipts: false });
  }

  /** Append events (already in event-time order, after those pushed before) and evaluate them. */
  push(items: ReplayItem[]): void {
    for (let i = 0; i < items.length; i += CHUNK) {
      const chunk = items.slice(i, i + CHUNK);
      const res = this.spool.transaction(() => this.spool.appendInTx(chunk.map((e) => ({ kind: 'event' as const, id: e.id, body: e.body }))));
      const accepted = new Set(res.accepted);
      for (const e of chunk) {
        if (!accepted.delete(e.id)) continue;
        this.accepted++;
        this.lastTime = e.time;
        this.opts.onEvent?.(e);
      }
      this.duplicates += res.duplicates.length;
      this.rules.drainNow();
      // Nothing else reads these records: drop them once evaluated (the dedup ids stay).
      this.spool.prune([RULES_CONSUMER]);
    }
  }

  /** Close the rules' time windows at the last event's time (their alerts go to `onAlerts`) and close the spool. */
  finish(): void {
    try {
      if (this.lastTime) this.rules.flushWindows(this.lastTime);
    } finally {
      this.spool.close();
    }
  }
}

/**
 * Orders events by event time on disk (a SQLite table in `dir`), so replay
 * can take more input than fits in memory: `add` as files are read, then
 * `chunks` yields them oldest first (ties keep input order).
 *
 * @example
 * const s = new EventSorter(tmp); s.add(events); for (const c of s.chunks(5000)) replayer.push(c); s.close();
 */
export class EventSorter {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private n = 0;

  constructor(dir: string) {
    this.db = new Database(join(dir, 'sort.db'));
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    this.db.exec('CREATE TABLE events (t INTEGER, n INTEGER, id TEXT NOT NULL, time TEXT NOT NULL, body TEXT NOT NULL)');
    this.insert = this.db.prepare('INSERT INTO events (t, n, id, time, body) VALUES (?, ?, ?, ?, ?)');
  }

  get size(): number {
    return this.n;
  }

  add(events: NormalizedEvent[]): void {
    this.db.transaction(() => {
      for (const e of events) this.insert.run(sortKey(e.time), this.n++, e.id, e.time, JSON.stringify(e));
    })();
  }

  *chunks(size = CHUNK): Generator<ReplayItem[]> {
    // Indexed once, after loading: cheaper than keeping the index up to date on every insert.
    this.db.exec('CREATE INDEX events_order ON events (t, n)');
    let chunk: ReplayItem[] = [];
    for (const row of this.db.prepare('SELECT id, time, body FROM events ORDER BY t, n').iterate() as Iterable<ReplayItem>) {
      chunk.push(row);
      if (chunk.length >= size) {
        yield chunk;
        chunk = [];
      }
    }
    if (chunk.length) yield chunk;
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Epoch ms of an event time, with digits past the millisecond as its fraction (`.0009` sorts before
 * `.0001` of the same ms otherwise); an unreadable one sorts first (null), as it would compare in memory.
 */
function sortKey(time: string): number | null {
  const t = Date.parse(time);
  if (Number.isNaN(t)) return null;
  const sub = /\.\d{3}(\d+)/.exec(time)?.[1];
  return sub ? t + Number(`0.${sub}`) : t;
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
  const sorted = input
    .map((e, i) => ({ e, i, t: sortKey(e.time) ?? -Infinity }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((x) => x.e);
  const alerts: Alert[] = [];
  const kept: NormalizedEvent[] = [];
  const byId = new Map<string, NormalizedEvent>();
  const replayer = new Replayer(cfg, {
    onAlerts: (a) => alerts.push(...a),
    onEvent: (item) => kept.push(byId.get(item.id)!),
  });
  try {
    for (let i = 0; i < sorted.length; i += CHUNK) {
      const chunk = sorted.slice(i, i + CHUNK);
      byId.clear();
      for (const e of chunk) if (!byId.has(e.id)) byId.set(e.id, e);
      replayer.push(chunk.map((e) => ({ id: e.id, time: e.time, body: JSON.stringify(e) })));
    }
  } finally {
    replayer.finish();
  }
  return { events: kept, alerts, duplicates: replayer.duplicates };
}
