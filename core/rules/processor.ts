import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Alert, NormalizedEvent } from '../schema/index.js';
import type { Spool, SpoolRecord } from '../spool/index.js';
import type { WriteBackStateStore } from '../state/write-back.js';
import { WriteBackStateStore as CachedState } from '../state/write-back.js';
import { AGED_STATE_NS } from './state-retention.js';
import { createRuleEngine, type EngineOptions, type RuleEngine, type RulesConfig } from './engine.js';

export const RULES_CONSUMER = 'rules';

/** Payload of the spool's `committed` event after a rules chunk commits. */
export interface ConsumerCommit {
  consumer: string;
  /** Bytes of alerts newly appended by this commit. */
  alertBytes: number;
}

/**
 * Events evaluated per event-loop turn (one transaction) when serving: ~100 ×
 * tens of µs keeps each turn to a few ms, so senders' p99 stays low. Replay
 * and drains use bigger transactions.
 */
const CHUNK = 100;

/** A minute without events, and each minute after: the engine judges by the clock (see `start`). */
const IDLE_TICK_MS = 60_000;

/**
 * Runs the rule engine as a spool consumer: reads events after its cursor,
 * evaluates them, and commits the alerts it raised, its state and its cursor
 * in one transaction — so a crash never loses or doubles an alert.
 */
export class RuleProcessor {
  private timer?: NodeJS.Timeout;
  private scheduled = false;
  private stopped = false;
  /** Failures in a row, and when to try again (see schedule). */
  private failures = 0;
  private retryAt = 0;
  private readonly onAppend = () => this.schedule();

  /**
   * The processor `serve` and `replay` use: the engine over a write-back cache
   * of the spool's state, flushed with each chunk's transaction.
   *
   * @example
   * const rules = RuleProcessor.forConfig(spool, cfg.rules, log, metrics); rules.start();
   */
  static forConfig(spool: Spool, config: RulesConfig, log: Logger, metrics?: Metrics, onAlerts?: (alerts: Alert[]) => void, engine: EngineOptions = {}): RuleProcessor {
    // Rule state ages out by when it was last used (state-retention.ts): reads move its `touched` too. Not in replay
    // (receipts off), whose spool no housekeeping ages: writing reads back would only slow it.
    const aging = config.state_retention_days > 0 && engine.receipts !== false;
    const state = new CachedState(spool.state, undefined, undefined, aging ? { touchOnRead: AGED_STATE_NS } : {});
    const onRuleError = (ruleId: string, err: unknown, ev: NormalizedEvent) =>
      log.error({ err, rule_id: ruleId, event_id: ev.id, code: 'MLTRAIL_ERR_INTERNAL' }, 'a rule failed on this event; the other rules evaluated it');
    return new RuleProcessor(spool, createRuleEngine(config, state, onRuleError, engine), log, metrics, onAlerts, state);
  }

  constructor(
    private readonly spool: Spool,
    readonly engine: RuleEngine,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
    private readonly onAlerts?: (alerts: Alert[]) => void,
    /** The engine's cached state, flushed inside each chunk's transaction. */
    private readonly state?: WriteBackStateStore,
  ) {}

  private chunk = CHUNK;
  private stateEveryMs = 0;
  private idleTickMs = IDLE_TICK_MS;
  /** When an event was last evaluated, and when the engine last ticked (epoch ms). */
  private lastActive = 0;
  private lastTick = 0;
  private clock: () => number = Date.now;
  /** When this run started consuming (the ticks do not count the downtime before it). */
  private runningSince = 0;
  /** Highest seq evaluated into the cached state; ahead of the committed cursor until the state is written. */
  private position?: number;
  private lastStateWrite = 0;
  /** Alerts raised by evaluated events, committed with the state (see `commit`). */
  private pending: Alert[] = [];

  /**
   * Start consuming. `chunk`: events per evaluation turn (bigger on a worker
   * thread, where no sender waits on the loop). `stateEveryMs`: commit the
   * alerts raised meanwhile, the state and the cursor at most this often — a
   * key changed by many chunks is written once, and a writer sharing the
   * spool seldom waits for the lock; a crash re-evaluates from the cursor,
   * raising the same alerts (same ids, dropped as duplicates). An idle turn
   * commits what is left at once. `pollMs`: how
   * often to look for new records besides the spool's `append` events (a
   * worker thread polls: it cannot hear another connection's appends).
   * `idleTickMs`: after this long with no event, and as often after, the
   * engine judges what the next event would have (`RuleEngine.tick`): a
   * quiet bridge still raises a deployment's or an approval's overdue
   * alert, and a source gone silent is still counted. `clock`: the wall
   * clock those ticks read (tests).
   */
  start(opts: { chunk?: number; stateEveryMs?: number; pollMs?: number; idleTickMs?: number; clock?: () => number } = {}): void {
    this.chunk = opts.chunk ?? CHUNK;
    this.stateEveryMs = opts.stateEveryMs ?? 0;
    this.idleTickMs = opts.idleTickMs ?? IDLE_TICK_MS;
    this.clock = opts.clock ?? Date.now;
    this.lastStateWrite = Date.now();
    this.lastActive = this.clock();
    this.runningSince = this.lastActive;
    this.lastTick = 0;
    this.spool.on('append', this.onAppend);
    this.timer = setInterval(() => this.schedule(), opts.pollMs ?? 1000);
    this.timer.unref();
    this.schedule();
  }

  /** Stop consuming: evaluate what is waiting (until `deadline`, epoch ms, if given) and write the state. */
  stop(deadline?: number): void {
    this.stopped = true;
    this.spool.off('append', this.onAppend);
    if (this.timer) clearInterval(this.timer);
    if (!this.spool.isClosed) this.drainNow(2000, deadline);
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.stopped) return; // stop() drained already (and the spool may be closed)
      if (Date.now() < this.retryAt) return; // backing off after a failure: the poll timer comes back
      try {
        // One chunk per turn: rule evaluation never holds the event loop (and the senders waiting on it) for long.
        const n = this.processChunk(this.chunk);
        this.failures = 0;
        if (n > 0) this.lastActive = this.clock();
        else this.tickIfIdle();
        if (n === this.chunk) this.schedule();
      } catch (err) {
        // A failure that lasts (a full disk) is retried with backoff, 0.1 s doubling to 30 s, not on every poll.
        this.failures++;
        const waitMs = Math.min(30_000, 100 * 2 ** Math.min(this.failures - 1, 9));
        this.retryAt = Date.now() + waitMs;
        this.log.error({ err, code: 'MLTRAIL_ERR_INTERNAL', failures: this.failures, retry_in_ms: waitMs }, 'rule processing failed; will retry');
      }
    });
  }

  /** No event for idleTickMs (and since the last tick): let the engine judge by the clock, and commit what it raised. */
  private tickIfIdle(): void {
    const now = this.clock();
    if (now - this.lastActive < this.idleTickMs || now - this.lastTick < this.idleTickMs) return;
    this.lastTick = now;
    if (!this.state) {
      let alerts: Alert[] = [];
      this.spool.transaction(() => {
        alerts = this.engine.tick(now, this.runningSince);
        if (alerts.length) this.spool.appendInTx(alerts.map((a) => ({ kind: 'alert' as const, id: a.id, body: JSON.stringify(a) })));
      });
      this.announce(alerts);
      return;
    }
    try {
      for (const a of this.engine.tick(now, this.runningSince)) this.pending.push(a);
    } catch (err) {
      this.forget();
      throw err;
    }
    this.commit();
  }

  /** Close time windows up to `time` and commit what they raise (replay's end of input). */
  flushWindows(time: string): Alert[] {
    if (!this.state) {
      let alerts: Alert[] = [];
      this.spool.transaction(() => {
        alerts = this.engine.flush(time);
        if (alerts.length) this.spool.appendInTx(alerts.map((a) => ({ kind: 'alert' as const, id: a.id, body: JSON.stringify(a) })));
        if (this.position !== undefined) this.spool.commitCursor(RULES_CONSUMER, this.position);
      });
      return alerts;
    }
    let alerts: Alert[];
    try {
      alerts = this.engine.flush(time);
    } catch (err) {
      this.forget();
      throw err;
    }
    for (const a of alerts) this.pending.push(a);
    this.commit();
    return alerts;
  }

  /** Process everything waiting (or what `deadline`, epoch ms, leaves time for), in chunks, and write the state. */
  drainNow(limit = 2000, deadline = Number.POSITIVE_INFINITY): number {
    let total = 0;
    for (;;) {
      const n = this.processChunk(limit);
      total += n;
      if (n < limit || Date.now() >= deadline) break;
    }
    if (this.uncommitted()) this.commit();
    return total;
  }

  private processChunk(limit: number): number {
    const committed = this.spool.cursor(RULES_CONSUMER);
    const recs = this.spool.readLean(RULES_CONSUMER, limit, this.position ?? committed);
    if (recs.length === 0) {
      if (this.uncommitted()) this.commit();
      return 0;
    }
    if (!this.state) {
      const raised = this.spool.transaction(() => {
        const out = this.evaluate(recs);
        if (out.length) this.spool.appendInTx(out.map((a) => ({ kind: 'alert' as const, id: a.id, body: JSON.stringify(a) })));
        this.spool.commitCursor(RULES_CONSUMER, recs.at(-1)!.seq);
        return out;
      });
      this.announce(raised);
      return recs.length;
    }
    // State lives in the write-back cache: evaluate outside any transaction; the alerts raised wait in
    // memory with the state, and all commit together with the cursor when due (every stateEveryMs):
    // one short write transaction a second instead of one per chunk, so this connection seldom waits
    // for the write lock. A crash re-evaluates from the cursor and raises the same alerts (same ids).
    try {
      for (const a of this.evaluate(recs)) this.pending.push(a);
    } catch (err) {
      this.forget();
      throw err;
    }
    this.position = recs.at(-1)!.seq;
    if (Date.now() - this.lastStateWrite >= this.stateEveryMs) this.commit();
    return recs.length;
  }

  /** Whether evaluated events (their alerts, state and cursor) are not committed yet. */
  private uncommitted(): boolean {
    return this.pending.length > 0 || (this.position !== undefined && this.position > this.spool.cursor(RULES_CONSUMER));
  }

  /** Commit the pending alerts, the cached state and the cursor it reflects, in one transaction. */
  private commit(): void {
    const state = this.state;
    if (!state) return;
    const alerts = this.pending.map((a) => ({ kind: 'alert' as const, id: a.id, body: JSON.stringify(a) }));
    const raised = this.pending;
    const position = this.position;
    let appended: string[] = [];
    try {
      const changes = state.serializeDirty();
      this.spool.transaction(() => {
        if (alerts.length) appended = this.spool.appendInTx(alerts).accepted;
        state.write(changes);
        if (position !== undefined) this.spool.commitCursor(RULES_CONSUMER, position);
      });
    } catch (err) {
      this.forget();
      throw err;
    }
    this.pending = [];
    this.lastStateWrite = Date.now();
    const fresh = new Set(appended);
    let bytes = 0;
    for (const a of alerts) if (fresh.has(a.id)) bytes += Buffer.byteLength(a.body);
    this.spool.emit('committed', { consumer: RULES_CONSUMER, alertBytes: bytes } satisfies ConsumerCommit);
    this.announce(raised);
  }

  /** After a failed commit: drop what was not committed; evaluation resumes from the committed cursor. */
  private forget(): void {
    this.state?.discard();
    this.position = undefined;
    this.pending = [];
  }

  private announce(raised: Alert[]): void {
    if (!raised.length) return;
    for (const a of raised) this.metrics?.alerts.inc({ rule_id: a.rule_id, mode: a.mode });
    this.onAlerts?.(raised);
    this.spool.emit('append');
  }

  private evaluate(recs: SpoolRecord[]): Alert[] {
    const raised: Alert[] = [];
    for (const r of recs) {
      if (r.kind !== 'event') continue;
      let alerts: Alert[];
      try {
        // Events are evaluated without their (large) native record: no rule reads `raw`.
        const ev = JSON.parse(r.leanBody ?? r.body) as NormalizedEvent;
        alerts = this.engine.process(ev, r.added);
      } catch (err) {
        // One event the engine cannot handle must not stall rules for everything after it:
        // it is still delivered to the sinks; the rules skip it, loudly.
        this.log.error({ err, event_id: r.id, seq: r.seq, code: 'MLTRAIL_ERR_INTERNAL' }, 'rule evaluation failed for this event; skipped');
        continue;
      }
      for (const a of alerts) raised.push(a);
    }
    return raised;
  }
}
