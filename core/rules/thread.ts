import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Spool } from '../spool/index.js';
import { SupervisedWorker } from '../worker.js';
import type { RulesConfig } from './engine.js';
import { RuleProcessor } from './processor.js';

export interface RulesWorkerData {
  dir: string;
  rules: unknown;
  logLevel: string;
  chunk: number;
  stateEveryMs: number;
  /** Whether this worker's connection checkpoints the WAL. */
  checkpoints: boolean;
}
export type ToWorker = { type: 'stop'; deadline?: number };
/** Alerts the worker committed: counts for /metrics, bytes for the spool's size bound. (Its end is its `exit`.) */
export type FromWorker = { type: 'alerts'; alerts: Array<{ rule_id: string; mode: string }>; bytes: number };

/** How rules run: a started consumer that `stop()` drains and ends. */
export interface RulesRunner {
  readonly mode: 'worker' | 'main';
  /** For /readyz: degraded while a dead worker waits to be restarted. */
  health(): { state: 'healthy' | 'degraded'; thread: 'worker' | 'main'; restarts?: number; last_error?: string };
  /** Evaluate what is waiting — for at most `graceMs` if given; the rest waits in the spool for the next start — and end. */
  stop(graceMs?: number): Promise<void>;
}

export interface RulesRunnerOptions {
  spool: Spool;
  /** The spool's data directory (the worker opens its own connection to it). */
  dir: string;
  config: RulesConfig;
  log: Logger;
  metrics?: Metrics;
  /** `worker` (default) falls back to `main` when the compiled worker is not there (running from TypeScript sources). */
  thread?: 'worker' | 'main';
  logLevel?: string;
  /** Events per evaluation turn on the worker. */
  chunk?: number;
  /** How often the worker writes its state and cursor (see RuleProcessor.start). */
  stateEveryMs?: number;
  /**
   * Whether the worker's connection checkpoints the WAL (default true; the
   * event loop's auto-checkpoints then go off). False when another thread's
   * connection owns checkpoints (the sink thread's, see bridge/sinks/thread.ts).
   */
  checkpoints?: boolean;
}

/** How long past its grace period stop() waits for the worker to end before terminating it (its state and cursor are transactional). */
const STOP_TIMEOUT_MS = 30_000;
const WORKER_URL = new URL('./worker.js', import.meta.url);
/** Whether the compiled worker entry exists next to this module (it does not when tests run the TypeScript sources). */
export const workerAvailable = (): boolean => WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(WORKER_URL));

/**
 * Start the rule engine as a spool consumer: on a worker thread with its own
 * spool connection when possible — rules then never hold the event loop that
 * answers senders, and that connection also does the WAL checkpoints (the
 * owner's are turned off) unless `checkpoints: false` — else on this thread.
 *
 * @example
 * const rules = startRules({ spool, dir: cfg.data_dir, config: cfg.rules, log, metrics });
 * await rules.stop();
 */
export function startRules(opts: RulesRunnerOptions): RulesRunner {
  if ((opts.thread ?? 'worker') === 'worker' && workerAvailable() && !opts.spool.db.memory) return new RulesThread(opts);
  const proc = RuleProcessor.forConfig(opts.spool, opts.config, opts.log, opts.metrics);
  proc.start();
  return {
    mode: 'main',
    health: () => ({ state: 'healthy', thread: 'main' }),
    async stop(graceMs?: number) {
      proc.stop(graceMs === undefined ? undefined : Date.now() + graceMs);
    },
  };
}

class RulesThread implements RulesRunner {
  readonly mode = 'worker' as const;
  private readonly thread: SupervisedWorker;

  constructor(private readonly opts: RulesRunnerOptions) {
    const data: RulesWorkerData = {
      dir: opts.dir,
      rules: opts.config,
      logLevel: opts.logLevel ?? opts.log.level,
      chunk: opts.chunk ?? 2000,
      stateEveryMs: opts.stateEveryMs ?? 1000,
      checkpoints: opts.checkpoints !== false,
    };
    this.thread = new SupervisedWorker({
      what: 'rules worker',
      url: WORKER_URL,
      data: () => data,
      log: opts.log,
      spool: opts.spool,
      ownsCheckpoints: data.checkpoints,
      onMessage: (msg) => {
        const m = msg as FromWorker;
        for (const a of m.alerts) this.opts.metrics?.alerts.inc({ rule_id: a.rule_id, mode: a.mode });
        this.opts.spool.addPendingBytes(m.bytes);
        this.opts.spool.emit('append');
      },
    });
    this.thread.start();
  }

  /** The current worker (tests terminate it to check restarts). */
  get worker() {
    return this.thread.worker;
  }

  health() {
    const t = this.thread;
    return {
      state: t.down ? ('degraded' as const) : ('healthy' as const),
      thread: 'worker' as const,
      restarts: t.restarts,
      ...(t.lastError ? { last_error: t.lastError } : {}),
    };
  }

  stop(graceMs?: number): Promise<void> {
    // The worker drains, closes its connection and ends by itself; it is terminated only if it hangs.
    return this.thread.stop(
      { type: 'stop', deadline: graceMs === undefined ? undefined : Date.now() + graceMs } satisfies ToWorker,
      (graceMs ?? 0) + STOP_TIMEOUT_MS,
    );
  }
}
