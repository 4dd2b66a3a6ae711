import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { attemptDeadline, deliverWithRetry, describe } from '../retry/index.js';
import type { DeliveryStatus, Sink, SinkCommonConfig, SinkHealth } from '../sink.js';
import type { Spool, SpoolRecord } from '../spool/index.js';
import { routePredicate, splitBatches } from './route.js';

/** Spool consumer name of a sink. */
export const sinkConsumer = (name: string) => `sink:${name}`;

/** The counters a runner updates (the process's metrics, or a sink thread's proxy to them). */
export type SinkMetrics = Pick<Metrics, 'sinkSent' | 'sinkFailed'>;

/** A sink's own state as the runner sees it (no spool query): the part of /readyz a sink thread reports. */
export type SinkStatus = SinkHealth & { last_error?: string };
/** What /readyz shows for a sink: its status and its backlog. */
export type SinkRunnerHealth = SinkStatus & { backlog: number; oldest_age_s: number };

/** A sink's status plus its backlog in `spool`. */
export function withBacklog(status: SinkStatus, spool: Spool, consumer: string): SinkRunnerHealth {
  const d = spool.isClosed ? { records: 0, oldestAgeMs: 0 } : spool.depth(consumer);
  return { ...status, backlog: d.records, oldest_age_s: Math.round(d.oldestAgeMs / 1000) };
}

/**
 * Drives one sink: reads its cursor's backlog from the spool, batches it,
 * sends with the shared retry policy, dead-letters permanent failures and
 * advances the cursor only once every record of the read is settled. A crash
 * at any point leaves the cursor behind: records are resent (at least once),
 * never lost.
 */
export class SinkRunner {
  readonly consumer: string;
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private wake?: () => void;
  private lastError?: string;
  private consecutiveFailures = 0;
  /** When parked records are next re-sent (epoch ms). */
  private nextParkedRetry = 0;
  /** Whether records are parked (degraded: part of the stream waits for a setting to be fixed). */
  private hasParked = false;
  private readonly wanted: (r: SpoolRecord) => boolean;
  /** Start (epoch ms) of each send attempt waiting for its answer: a destination that accepts and never answers shows. */
  private readonly sending = new Map<number, number>();
  private attempts = 0;
  private readonly onAppend = () => this.wake?.();

  constructor(
    private readonly spool: Spool,
    readonly sink: Sink,
    private readonly cfg: SinkCommonConfig,
    private readonly log: Logger,
    private readonly metrics?: SinkMetrics,
  ) {
    this.consumer = sinkConsumer(sink.name);
    this.wanted = routePredicate(cfg.route);
  }

  start(): void {
    if (this.loop) return;
    this.spool.on('append', this.onAppend);
    this.loop = this.run().catch((err) => {
      this.log.error({ sink: this.sink.name, err: describe(err), code: 'MLTRAIL_ERR_INTERNAL' }, 'sink runner stopped');
    });
  }

  /** The sink's own view, degraded while retrying. */
  status(): SinkStatus {
    const own = this.sink.health();
    // A send unanswered for a while: degraded now, not only once request_timeout_ms (60 s) ends the attempt.
    // Counted from the destination's latest answer when it came later: a send that is answered and then waits
    // on purpose (Splunk's indexer acknowledgement, up to ack.timeout_ms) is not a destination that never answers.
    const waited = this.sending.size ? Date.now() - Math.max(Math.min(...this.sending.values()), this.sink.lastAnswerAt?.() ?? 0) : 0;
    const timeout = this.cfg.request_timeout_ms;
    const stalled = waited >= Math.min(timeout / 2, Math.max(10_000, timeout / 4));
    const state = own.state === 'healthy' && (this.consecutiveFailures > 0 || this.hasParked || stalled) ? 'degraded' : own.state;
    const lastError = stalled && !this.lastError ? `no answer for ${Math.round(waited / 1000)} s (request_timeout_ms ${timeout})` : this.lastError;
    return { ...own, state, last_error: lastError };
  }

  /** Health as /readyz reports it: status and backlog. */
  health(): SinkRunnerHealth {
    return withBacklog(this.status(), this.spool, this.consumer);
  }

  /** Wait until the backlog is delivered or `ms` passes. Returns true when drained. */
  async drain(ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (this.spool.depth(this.consumer).records === 0) return true;
      await sleep(50);
    }
    return this.spool.depth(this.consumer).records === 0;
  }

  /** Stop: in-flight sends are aborted; their records stay in the spool for the next start. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.wake?.();
    this.spool.off('append', this.onAppend);
    await this.loop;
    await this.sink.close?.();
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const readLimit = this.cfg.batch.max_events * this.cfg.concurrency;
    while (!signal.aborted) {
      // A read whose records the route all leaves out settles in microtasks alone: without a turn of the
      // event loop per read, a long run of them would starve timers and I/O (the HTTP server, when the sink
      // runs on the main thread) until the backlog is through.
      await yieldToLoop();
      // Everything that touches the spool is inside the try: a re-sent dead letter settled, a parked record, a
      // read met by a full disk or a busy lock. Thrown out of this loop, it ended the runner for good (its worker
      // thread alive, so nothing restarted it) and the sink never delivered again until the process restarted.
      try {
        await this.retryDeadLetters(signal);
        if (Date.now() >= this.nextParkedRetry) await this.retryParked(signal);
        // Look before reading: a partial batch waits to fill for up to batch.timeout_ms, and reading it
        // first would read it twice and keep its bodies alive across the wait.
        const backlog = this.spool.depth(this.consumer);
        if (backlog.records === 0) {
          await this.idle(1000);
          continue;
        }
        if (backlog.records < readLimit && this.cfg.batch.timeout_ms > 0) {
          const wait = this.cfg.batch.timeout_ms - backlog.oldestAgeMs;
          if (wait > 0) {
            await sleep(wait, undefined, { signal }).catch(() => {});
            if (signal.aborted) break;
          }
        }
        const recs = this.sink.readsRaw === false ? this.spool.readLean(this.consumer, readLimit) : this.spool.readHeld(this.consumer, readLimit);
        if (recs.length === 0) {
          await this.idle(1000);
          continue;
        }
        const lastSeq = recs.at(-1)!.seq;
        const routed = recs.filter(this.wanted);
        const batches = splitBatches(routed, this.cfg.batch.max_events, this.cfg.batch.max_bytes);
        const results = (await Promise.all(batches.map((b) => this.deliver(b, signal)))).flat();
        this.spool.transaction(() => {
          for (const r of results) {
            if (r.status === 'permanent') this.spool.deadLetter(this.sink.name, r.rec, r.reason ?? 'rejected');
            else if (r.status === 'parked') this.spool.deadLetter(this.sink.name, r.rec, r.reason ?? 'destination refused it', 'parked');
          }
          this.spool.commitCursor(this.consumer, lastSeq);
          this.sink.checkpoint?.();
        });
        this.count(results);
      } catch (err) {
        if (signal.aborted) break;
        // Unexpected (a sink bug, the disk): the cursor did not move, so nothing is lost; try again shortly.
        this.lastError = describe(err);
        this.consecutiveFailures++;
        this.log.error({ sink: this.sink.name, err: this.lastError, code: 'MLTRAIL_ERR_INTERNAL' }, 'sink runner error; retrying');
        await sleep(1000, undefined, { signal }).catch(() => {});
      }
    }
  }

  private async deliver(batch: SpoolRecord[], signal: AbortSignal) {
    const final = await deliverWithRetry(
      batch,
      (items, s) => {
        const attempt = ++this.attempts;
        this.sending.set(attempt, Date.now());
        return this.sink.send(items, s).finally(() => this.sending.delete(attempt));
      },
      { initialMs: this.cfg.retry.initial_ms, maxMs: this.cfg.retry.max_ms, requestTimeoutMs: this.cfg.request_timeout_ms },
      signal,
      (info) => {
        this.consecutiveFailures++;
        this.lastError = info.reason;
        this.metrics?.sinkFailed.inc({ sink: this.sink.name, kind: 'retry' });
        this.log.warn(
          { sink: this.sink.name, attempt: info.attempt, retry_after_ms: info.retryAfterMs, code: 'MLTRAIL_ERR_UPSTREAM' },
          `delivery failed, will retry: ${info.reason}`,
        );
      },
    );
    this.consecutiveFailures = 0;
    // Delivered: an earlier failure is history, not this sink's state (parked records keep theirs).
    if (!this.hasParked) this.lastError = undefined;
    return final.map((f, i) => ({ rec: batch[i]!, status: f.status, reason: f.status === 'ok' ? undefined : f.reason }));
  }

  private count(results: Array<{ status: string; reason?: string }>): void {
    let ok = 0;
    let bad = 0;
    let parked: { n: number; reason?: string } = { n: 0 };
    for (const r of results) {
      if (r.status === 'ok') ok++;
      else if (r.status === 'parked') parked = { n: parked.n + 1, reason: r.reason };
      else bad++;
    }
    if (ok) this.metrics?.sinkSent.inc({ sink: this.sink.name }, ok);
    if (parked.n) {
      this.hasParked = true;
      this.lastError = parked.reason;
      this.metrics?.sinkFailed.inc({ sink: this.sink.name, kind: 'parked' }, parked.n);
      this.log.error(
        { sink: this.sink.name, count: parked.n, code: 'MLTRAIL_ERR_UPSTREAM' },
        `records parked (mltrail dlq list): ${parked.reason}; re-sent every ${this.cfg.retry.max_ms / 1000} s (retry.max_ms) until taken`,
      );
    }
    if (bad) {
      this.metrics?.sinkFailed.inc({ sink: this.sink.name, kind: 'dead_letter' }, bad);
      this.log.error({ sink: this.sink.name, count: bad, code: 'MLTRAIL_ERR_UPSTREAM' }, 'records dead-lettered (see mltrail dlq list)');
    }
  }

  /**
   * One attempt at the oldest parked records (their destination refused them
   * for a setting). Taken ones leave the table; while they are still refused
   * the next try waits retry.max_ms (the longest backoff); while they are being taken, the next
   * slice follows at once. This schedule is the retry: no loop of its own.
   */
  private async retryParked(signal: AbortSignal): Promise<void> {
    this.nextParkedRetry = Date.now() + this.cfg.retry.max_ms;
    const parked = this.spool.listDeadLetters({ sink: this.sink.name, status: 'parked', limit: this.cfg.batch.max_events });
    this.hasParked = parked.length > 0;
    if (parked.length === 0) return;
    const recs: SpoolRecord[] = parked.map((d) => ({ seq: 0, kind: d.kind, id: d.record_id, body: d.body, added: d.added }));
    let statuses: DeliveryStatus[];
    const deadline = attemptDeadline(signal, this.cfg.request_timeout_ms);
    try {
      statuses = await this.sink.send(recs, deadline.signal);
      if (statuses.length !== recs.length) throw new Error(`sink answered ${statuses.length} statuses for ${recs.length} records`);
    } catch (err) {
      if (signal.aborted) return;
      this.log.warn({ sink: this.sink.name, parked: parked.length, err: describe(err), code: 'MLTRAIL_ERR_UPSTREAM' }, 'parked records not taken yet');
      return;
    } finally {
      deadline.clear();
    }
    let taken = 0;
    let dead = 0;
    this.spool.transaction(() => {
      this.sink.checkpoint?.();
      statuses.forEach((s, i) => {
        const id = parked[i]!.dlq_id;
        if (s.status === 'ok') {
          taken++;
          this.spool.settleDeadLetter(id, true);
        } else {
          if (s.status === 'permanent') dead++;
          this.spool.settleDeadLetter(id, false, s.reason, s.status === 'permanent' ? 'dead' : 'parked');
        }
      });
    });
    // Still parked is not counted again (it would grow every retry.max_ms); parked → dead is a new dead letter.
    if (dead) this.metrics?.sinkFailed.inc({ sink: this.sink.name, kind: 'dead_letter' }, dead);
    if (taken) {
      this.metrics?.sinkSent.inc({ sink: this.sink.name }, taken);
      this.log.info({ sink: this.sink.name, taken, still_parked: parked.length - taken - dead }, 'parked records delivered');
      this.nextParkedRetry = 0;
    }
  }

  /** Re-send dead letters an operator marked with `mltrail dlq retry`. */
  private async retryDeadLetters(signal: AbortSignal): Promise<void> {
    const marked = this.spool.listDeadLetters({ sink: this.sink.name, status: 'retry', limit: this.cfg.batch.max_events });
    if (marked.length === 0) return;
    const recs: SpoolRecord[] = marked.map((d) => ({ seq: 0, kind: d.kind, id: d.record_id, body: d.body, added: d.added }));
    try {
      const res = await this.deliver(recs, signal);
      this.spool.transaction(() => {
        this.sink.checkpoint?.();
        res.forEach((r, i) => this.spool.settleDeadLetter(marked[i]!.dlq_id, r.status === 'ok', r.reason, r.status === 'parked' ? 'parked' : 'dead'));
      });
      this.log.info({ sink: this.sink.name, retried: marked.length }, 'dead letters re-sent');
      // Delivered, dead-lettered again or parked: counted like the stream's own records (README: sent_total = records delivered).
      this.count(res);
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
      if (this.abort.signal.aborted) done();
    });
  }
}
