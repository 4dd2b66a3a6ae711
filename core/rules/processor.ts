import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Alert, NormalizedEvent } from '../schema/index.js';
import type { Spool, SpoolRecord } from '../spool/index.js';
import type { WriteBackStateStore } from '../state/write-back.js';
import { WriteBackStateStore as CachedState } from '../state/write-back.js';
import { createRuleEngine, type RuleEngine, type RulesConfig } from './engine.js';
import { rulesReadRaw } from './facts.js';

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

/**
 * Runs the rule engine as a spool consumer: reads events after its cursor,
 * evaluates them, and commits the alerts it raised, its state and its cursor
 * in one transaction — so a crash never loses or doubles an alert.
 */
export class RuleProcessor {
  private timer?: NodeJS.Timeout;
  private scheduled = false;
  private stopped = false;
  private readonly onAppend = () => this.schedule();

  /**
   * The processor `serve` and `replay` use: the engine over a write-back cache
   * of the spool's state, flushed with each chunk's transaction.
   *
   * @example
   * const rules = RuleProcessor.forConfig(spool, cfg.rules, log, metrics); rules.start();
   */
  static forConfig(spool: Spool, config: RulesConfig, log: Logger, metrics?: Metrics, onAlerts?: (alerts: Alert[]) => void): RuleProcessor {
    const state = new CachedState(spool.state);
    return new RuleProcessor(spool, createRuleEngine(config, state), log, metrics, onAlerts, state);
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
  /** Highest seq evaluated into the cached state; ahead of the committed cursor until the state is written. */
  private position?: number;
  private lastStateWrite = 0;

  /**
   * Start consuming. `chunk`: events per evaluation turn (bigger on a worker
   * thread, where no sender waits on the loop). `stateEveryMs`: write the
   * state (and move the cursor) at most this often — a key changed by many
   * chunks is written once, and a writer sharing the spool seldom waits for
   * the lock; alerts still commit with the chunk that raised them, and a
   * crash re-evaluates from the cursor, raising the same alerts (same ids,
   * dropped as duplicates). The idle tick writes what is left. `pollMs`: how
   * often to look for new records besides the spool's `append` events (a
   * worker thread polls: it cannot hear another connection's appends).
   */
  start(opts: { chunk?: number; stateEveryMs?: number; pollMs?: number } = {}): void {
    this.chunk = opts.chunk ?? CHUNK;
    this.stateEveryMs = opts.stateEveryMs ?? 0;
    this.lastStateWrite = Date.now();
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
      try {
        // One chunk per turn: rule evaluation never holds the event loop (and the senders waiting on it) for long.
        if (this.processChunk(this.chunk) === this.chunk) this.schedule();
      } catch (err) {
        this.log.error({ err, code: 'MLTRAIL_ERR_INTERNAL' }, 'rule processing failed; will retry');
      }
    });
  }

  /** Close time windows up to `time` and commit what they raise (replay's end of input). */
  flushWindows(time: string): Alert[] {
    let alerts: Alert[] = [];
    try {
      this.spool.transaction(() => {
        alerts = this.engine.flush(time);
        if (alerts.length) this.spool.appendInTx(alerts.map((a) => ({ kind: 'alert' as const, id: a.id, body: JSON.stringify(a) })));
        this.state?.flush();
        if (this.position !== undefined) this.spool.commitCursor(RULES_CONSUMER, this.position);
      });
    } catch (err) {
      this.state?.discard();
      this.position = undefined;
      throw err;
    }
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
    if (this.position !== undefined && this.position > this.spool.cursor(RULES_CONSUMER)) this.writeState();
    return total;
  }

  private processChunk(limit: number): number {
    const committed = this.spool.cursor(RULES_CONSUMER);
    const recs = this.spool.readLean(RULES_CONSUMER, limit, this.position ?? committed);
    if (recs.length === 0) {
      if (this.position !== undefined && this.position > committed) this.writeState();
      return 0;
    }
    let raised: Alert[];
    try {
      if (this.state) {
        // State lives in the write-back cache: evaluate (and serialize) outside any transaction, then
        // commit in one short write transaction: the alerts, and — when due — the state with the cursor.
        raised = this.evaluate(recs);
        const alerts = raised.map((a) => ({ kind: 'alert' as const, id: a.id, body: JSON.stringify(a) }));
        const last = recs.at(-1)!.seq;
        const due = Date.now() - this.lastStateWrite >= this.stateEveryMs;
        const changes = due ? this.state.serializeDirty() : undefined;
        const state = this.state;
        let appended: string[] = [];
        if (alerts.length || changes) {
          this.spool.transaction(() => {
            if (alerts.length) appended = this.spool.appendInTx(alerts).accepted;
            if (changes) {
              state.write(changes);
              this.spool.commitCursor(RULES_CONSUMER, last);
            }
          });
        }
        this.position = last;
        if (changes) this.lastStateWrite = Date.now();
        const fresh = new Set(appended);
        let bytes = 0;
        for (const a of alerts) if (fresh.has(a.id)) bytes += Buffer.byteLength(a.body);
        this.spool.emit('committed', { consumer: RULES_CONSUMER, alertBytes: bytes } satisfies ConsumerCommit);
      } else {
        raised = this.spool.transaction(() => {
          const out = this.evaluate(recs);
          if (out.length) this.spool.appendInTx(out.map((a) => ({ kind: 'alert' as const, id: a.id, body: JSON.stringify(a) })));
          this.spool.commitCursor(RULES_CONSUMER, recs.at(-1)!.seq);
          return out;
        });
      }
    } catch (err) {
      this.state?.discard();
      this.position = undefined;
      throw err;
    }
    if (raised.length) {
      for (const a of raised) this.metrics?.alerts.inc({ rule_id: a.rule_id, mode: a.mode });
      this.onAlerts?.(raised);
      this.spool.emit('append');
    }
    return recs.length;
  }

  /** Write the cached state and move the cursor to what it reflects. */
  private writeState(): void {
    if (!this.state || this.position === undefined) return;
    const changes = this.state.serializeDirty();
    const state = this.state;
    const position = this.position;
    try {
      this.spool.transaction(() => {
        state.write(changes);
        this.spool.commitCursor(RULES_CONSUMER, position);
      });
      this.lastStateWrite = Date.now();
      this.spool.emit('committed', { consumer: RULES_CONSUMER, alertBytes: 0 } satisfies ConsumerCommit);
    } catch (err) {
      this.state.discard();
      this.position = undefined;
      throw err;
    }
  }

  private evaluate(recs: SpoolRecord[]): Alert[] {
    const raised: Alert[] = [];
    for (const r of recs) {
      if (r.kind !== 'event') continue;
      let alerts: Alert[];
      try {
        // Most events are evaluated without their (large) native record; the few rules that read it get it.
        const lean = r.leanBody;
        let ev = JSON.parse(lean ?? r.body) as NormalizedEvent;
        if (lean !== undefined && ev.raw === undefined && rulesReadRaw(ev)) ev = JSON.parse(r.body) as NormalizedEvent;
        alerts = this.engine.process(ev);
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
