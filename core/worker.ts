import { Worker, type MessagePort } from 'node:worker_threads';
import { MltrailError } from './errors.js';
import type { Logger } from './log.js';
import type { Spool } from './spool/index.js';

/** SQLite's default auto-checkpoint threshold (pages), given back to the event loop's connection while a checkpointing worker is down. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;
/** A worker alive this long has not "died young": its next restart waits 1 s again. */
const YOUNG_MS = 60_000;

export interface SupervisedWorkerOptions {
  /** For log lines: `rules worker`, `sink worker`. */
  what: string;
  url: URL;
  /** The workerData of each (re)start. */
  data: () => unknown;
  onMessage: (m: unknown, w: Worker) => void;
  log: Logger;
  /** The event loop's spool; its auto-checkpoints are off while this worker's connection owns checkpoints. */
  spool: Spool;
  ownsCheckpoints: boolean;
}

/**
 * One worker thread kept running: restarted when it dies, after 1 s, 2 s,
 * 4 s… up to a minute while it keeps dying young. What it works on is in the
 * spool, with transactional cursors, so a new worker resumes where the last
 * one committed. While a worker that owns the WAL checkpoints is down, the
 * event loop's connection checkpoints instead, so the WAL never grows
 * unchecked. The rules thread and the sink thread both run on this.
 *
 * @example
 * const sw = new SupervisedWorker({ what: 'rules worker', url, data: () => ({ dir }), onMessage, log, spool, ownsCheckpoints: true });
 * sw.start();
 * await sw.stop({ type: 'stop' }, 30_000);
 */
export class SupervisedWorker {
  worker!: Worker;
  restarts = 0;
  /** True between a worker's death and its restart. */
  down = false;
  lastError?: string;
  private stopping?: Promise<void>;
  private startedAt = 0;

  constructor(private readonly opts: SupervisedWorkerOptions) {}

  start(): void {
    const { opts } = this;
    if (opts.ownsCheckpoints) opts.spool.db.pragma('wal_autocheckpoint = 0');
    const w = new Worker(opts.url, { workerData: opts.data() });
    this.worker = w;
    this.down = false;
    this.startedAt = Date.now();
    w.on('message', (m: unknown) => opts.onMessage(m, w));
    w.on('error', (err) => {
      // A spool failure (disk full, damaged file) is named as one, with what to do, and shows on /readyz.
      const known = opts.spool.isClosed ? err : opts.spool.noteFailure(err);
      const spoolError = known instanceof MltrailError ? known : undefined;
      this.lastError = spoolError?.message ?? err.message;
      opts.log.error({ err: spoolError ? { code: spoolError.code, message: spoolError.message } : err, code: spoolError?.code ?? 'MLTRAIL_ERR_INTERNAL' }, `${opts.what} failed`);
    });
    w.on('exit', (code) => {
      if (this.stopping || this.worker !== w) return;
      this.down = true;
      if (opts.ownsCheckpoints && !opts.spool.isClosed) opts.spool.db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
      this.restarts = Date.now() - this.startedAt > YOUNG_MS ? 1 : this.restarts + 1;
      const delay = Math.min(60_000, 1000 * 2 ** (this.restarts - 1));
      opts.log.error({ code: 'MLTRAIL_ERR_INTERNAL', exit_code: code, restart_in_ms: delay }, `${opts.what} exited; restarting it`);
      setTimeout(() => this.stopping || this.start(), delay).unref();
    });
  }

  /** Never restart it again (a worker that failed for good has ended by itself). */
  abandon(): void {
    this.stopping ??= Promise.resolve();
  }

  /**
   * Ask the worker to end with `message` (it finishes its work and exits by
   * itself); terminate it if it has not after `timeoutMs`. No restart follows.
   */
  stop(message: unknown, timeoutMs: number): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      const w = this.worker;
      if (this.down) return resolve(); // between restarts: nothing runs
      const timer = setTimeout(() => void w.terminate(), timeoutMs);
      w.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      w.postMessage(message);
    });
    return this.stopping;
  }
}

/**
 * The end of a worker thread, inside it: finish its work (`finish`), take the
 * last checkpoint if it owns them, close its spool connection, flush its log
 * and close its port. Nothing is then left to keep the thread alive: it exits,
 * and the main thread (waiting in {@link SupervisedWorker.stop}) sees that.
 *
 * @example
 * port.on('message', (m) => m.type === 'stop' && void endWorkerThread({ what: 'rules worker', finish: () => rules.stop(), spool, checkpoints, log, port }));
 */
export async function endWorkerThread(opts: {
  what: string;
  finish: () => unknown;
  spool: Spool;
  checkpoints?: { stop(): void };
  log: Logger;
  port: MessagePort;
}): Promise<void> {
  try {
    await opts.finish();
    opts.checkpoints?.stop();
    opts.spool.close();
  } catch (err) {
    opts.log.error({ err, code: 'MLTRAIL_ERR_INTERNAL' }, `${opts.what} stop failed`);
  }
  opts.log.flush?.();
  opts.port.close();
}
