import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { SinkRunner, sinkConsumer, withBacklog, type SinkMetrics, type SinkRunnerHealth, type SinkStatus } from '../../core/delivery/runner.js';
import { MltrailError, type ErrorKind } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { Metrics } from '../../core/metrics.js';
import type { SinkCommonConfig, SinkFactory } from '../../core/sink.js';
import type { Spool } from '../../core/spool/index.js';
import { SupervisedWorker } from '../../core/worker.js';
import { loadSinkFactory } from './load.js';

/** One configured sink: its entry name, type and parsed config (plain data: it crosses to the sink thread). */
export interface SinkEntry {
  name: string;
  type: string;
  config: SinkCommonConfig & Record<string, unknown>;
}

export interface SinksWorkerData {
  dir: string;
  sinks: SinkEntry[];
  env: Record<string, string | undefined>;
  logLevel: string;
  /** Int32 counter the main thread bumps (and notifies) on every append: wakes idle runners. */
  wake: SharedArrayBuffer;
  /** Whether this worker's connection checkpoints the WAL. */
  checkpoints: boolean;
}
export type ToSinksWorker = { type: 'start' } | { type: 'stop' };
/**
 * `ready` once every sink is built (`fatal` with the error when one cannot be:
 * a config fault such as an unreadable CA file), then counter increments for
 * /metrics and the sinks' statuses for /readyz. (Its end is its `exit`.)
 */
export type FromSinksWorker =
  | { type: 'ready' }
  | { type: 'fatal'; kind?: ErrorKind; message: string; extra?: Record<string, unknown> }
  | { type: 'count'; metric: 'sinkSent' | 'sinkFailed'; labels: Record<string, string>; n: number }
  | { type: 'status'; sinks: Record<string, SinkStatus> };

/** A sink's /readyz entry: status, backlog, the thread it runs on and (on a worker) how often that was restarted. */
export type SinkThreadHealth = SinkRunnerHealth & { thread: 'worker' | 'main'; restarts?: number };

/** Where the sinks run: built, started by `start`; `drain` waits for their backlog, `stop` ends them. */
export interface SinksRunner {
  readonly mode: 'worker' | 'main';
  /** Each sink's name and spool consumer. */
  readonly sinks: ReadonlyArray<{ name: string; consumer: string }>;
  /** Begin delivering (serve calls it once its server listens). */
  start(): void;
  /** For /readyz and metrics: status and backlog of each sink, by name. */
  health(): Record<string, SinkThreadHealth>;
  /** Wait until every sink's backlog is delivered or `ms` passes. Returns true when all drained. */
  drain(ms: number): Promise<boolean>;
  /** Stop: in-flight sends are aborted; their records stay in the spool for the next start. */
  stop(): Promise<void>;
}

export interface SinksRunnerOptions {
  spool: Spool;
  /** The spool's data directory (the sink thread opens its own connection to it). */
  dir: string;
  sinks: SinkEntry[];
  log: Logger;
  metrics?: Metrics;
  env: NodeJS.ProcessEnv;
  /** `worker` (default) falls back to `main` when the compiled worker is not there (running from TypeScript sources). */
  thread?: 'worker' | 'main';
  logLevel?: string;
  /**
   * On a worker, its connection checkpoints the WAL (the event loop's
   * auto-checkpoints go off): sink threads mostly wait on the network, so the
   * copying lands where there is CPU to spare. Pass `checkpoints: false` to the
   * rules then. Ignored on the main thread.
   */
  checkpoints?: boolean;
}

/** How often the sink thread reports its sinks' statuses. */
export const STATUS_EVERY_MS = 250;
/** How long stop() waits for the sink thread to end before terminating it (cursors are transactional: nothing is lost). */
const STOP_TIMEOUT_MS = 15_000;
const WORKER_URL = new URL('./worker.js', import.meta.url);
const workerAvailable = (): boolean => WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(WORKER_URL));

/** Runners for the entries, each sink built by its type's factory (loaded on demand). Throws when a sink cannot be built. */
export async function createRunners(
  entries: SinkEntry[],
  spool: Spool,
  deps: { log: Logger; dir: string; env: NodeJS.ProcessEnv; metrics?: SinkMetrics },
): Promise<SinkRunner[]> {
  const factories = await Promise.all(entries.map((e) => loadSinkFactory(e.type)));
  return entries.map((e, i) => createRunner(e, factories[i]!, spool, deps));
}

function createRunner(
  entry: SinkEntry,
  factory: SinkFactory<any>,
  spool: Spool,
  deps: { log: Logger; dir: string; env: NodeJS.ProcessEnv; metrics?: SinkMetrics },
): SinkRunner {
  const sink = factory.create(entry.config, { name: entry.name, logger: deps.log.child({ sink: entry.name }), dataDir: deps.dir, spool, env: deps.env });
  return new SinkRunner(spool, sink, entry.config, deps.log, deps.metrics);
}

/**
 * Build the sink runners: on one worker thread with its own spool connection
 * when possible — reading, mapping, serializing and compressing batches then
 * never holds the event loop that answers senders — else on this thread.
 * Either way each sink keeps its own cursor: a slow or dead sink blocks none
 * of the others, and a crash resends from the last committed cursor. Rejects
 * when a sink cannot be built (a config fault), as building it here would throw.
 *
 * @example
 * const sinks = await createSinks({ spool, dir, sinks: cfg.sinks, log, metrics, env: process.env });
 * sinks.start();
 * await sinks.drain(5000);
 * await sinks.stop();
 */
export async function createSinks(opts: SinksRunnerOptions): Promise<SinksRunner> {
  if ((opts.thread ?? 'worker') === 'worker' && workerAvailable() && !opts.spool.db.memory && opts.sinks.length > 0) {
    const t = new SinksThread(opts);
    await t.ready;
    return t;
  }
  const runners = await createRunners(opts.sinks, opts.spool, { log: opts.log, dir: opts.dir, env: opts.env, metrics: opts.metrics });
  return {
    mode: 'main',
    sinks: runners.map((r) => ({ name: r.sink.name, consumer: r.consumer })),
    start: () => runners.forEach((r) => r.start()),
    health: () => Object.fromEntries(runners.map((r) => [r.sink.name, { ...r.health(), thread: 'main' as const }])),
    drain: (ms) => drainAll(opts.spool, runners.map((r) => r.consumer), ms),
    stop: async () => void (await Promise.all(runners.map((r) => r.stop()))),
  };
}

/** Poll the consumers' backlog until it is empty or `ms` passes. */
async function drainAll(spool: Spool, consumers: string[], ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  const empty = () => spool.isClosed || consumers.every((c) => spool.depth(c).records === 0);
  while (Date.now() < until && !empty()) await new Promise((r) => setTimeout(r, 50));
  return empty();
}

class SinksThread implements SinksRunner {
  readonly mode = 'worker' as const;
  readonly sinks: ReadonlyArray<{ name: string; consumer: string }>;
  private readonly thread: SupervisedWorker;
  private statuses: Record<string, SinkStatus> = {};
  private started = false;
  /** Settles when the first worker has built its sinks (rejects with its error when it could not). */
  readonly ready: Promise<void>;
  private settleReady?: (err?: Error) => void;
  private readonly wake = new Int32Array(new SharedArrayBuffer(4));
  // One add and notify per commit: no message, nothing allocated (a postMessage per append cost the loop far more).
  private readonly onAppend = () => {
    Atomics.add(this.wake, 0, 1);
    Atomics.notify(this.wake, 0);
  };

  constructor(private readonly opts: SinksRunnerOptions) {
    this.sinks = opts.sinks.map((e) => ({ name: e.name, consumer: sinkConsumer(e.name) }));
    for (const e of opts.sinks) this.statuses[e.name] = { state: 'healthy' };
    this.ready = new Promise<void>((resolve, reject) => (this.settleReady = (err) => (err ? reject(err) : resolve())));
    const data: SinksWorkerData = {
      dir: opts.dir,
      sinks: opts.sinks,
      env: { ...opts.env },
      logLevel: opts.logLevel ?? opts.log.level,
      wake: this.wake.buffer as SharedArrayBuffer,
      checkpoints: opts.checkpoints === true,
    };
    this.thread = new SupervisedWorker({
      what: 'sink worker',
      url: WORKER_URL,
      data: () => data,
      log: opts.log,
      spool: opts.spool,
      ownsCheckpoints: data.checkpoints,
      onMessage: (m, w) => this.onMessage(m as FromSinksWorker, w),
    });
    opts.spool.on('append', this.onAppend);
    this.thread.start();
  }

  /** The current worker (tests terminate it to check restarts). */
  get worker() {
    return this.thread.worker;
  }

  start(): void {
    this.started = true;
    this.thread.worker.postMessage({ type: 'start' } satisfies ToSinksWorker);
  }

  private onMessage(m: FromSinksWorker, w: Worker): void {
    if (m.type === 'count') this.opts.metrics?.[m.metric].inc(m.labels, m.n);
    else if (m.type === 'status') this.statuses = m.sinks;
    else if (m.type === 'ready') {
      this.settleReady?.();
      this.settleReady = undefined;
      // A restarted worker resumes delivering at once.
      if (this.started) w.postMessage({ type: 'start' } satisfies ToSinksWorker);
    } else if (m.type === 'fatal') {
      this.thread.lastError = m.message;
      const err = m.kind ? new MltrailError(m.kind, m.message, m.extra) : new Error(m.message);
      if (this.settleReady) {
        // The first start: fail it, as building the sinks on this thread would have.
        this.thread.abandon();
        this.opts.spool.off('append', this.onAppend);
        this.settleReady(err);
        this.settleReady = undefined;
      } else this.opts.log.error({ err: m.message, code: 'MLTRAIL_ERR_CONFIG' }, 'sink worker cannot build its sinks');
    }
  }

  health(): Record<string, SinkThreadHealth> {
    const t = this.thread;
    const out: Record<string, SinkThreadHealth> = {};
    for (const s of this.sinks) {
      const own = this.statuses[s.name] ?? { state: 'healthy' };
      const status: SinkStatus = t.down ? { state: 'degraded', reason: 'sink worker restarting', last_error: t.lastError ?? own.last_error } : own;
      out[s.name] = { ...withBacklog(status, this.opts.spool, s.consumer), thread: 'worker', restarts: t.restarts };
    }
    return out;
  }

  drain(ms: number): Promise<boolean> {
    return drainAll(this.opts.spool, this.sinks.map((s) => s.consumer), ms);
  }

  stop(): Promise<void> {
    this.opts.spool.off('append', this.onAppend);
    return this.thread.stop({ type: 'stop' } satisfies ToSinksWorker, STOP_TIMEOUT_MS);
  }
}
