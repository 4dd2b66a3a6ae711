/**
 * Entry of the sink worker thread (see ./thread.ts): its own connection to the
 * spool and every sink runner, so reading, mapping, serializing and
 * compressing batches never holds the event loop that answers senders.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { SinkMetrics, SinkRunner } from '../../core/delivery/runner.js';
import { MltrailError } from '../../core/errors.js';
import { createLogger } from '../../core/log.js';
import { checkpointErrorLogger, ownCheckpoints } from '../../core/spool/checkpointer.js';
import { Spool } from '../../core/spool/index.js';
import { endWorkerThread } from '../../core/worker.js';
import { STATUS_EVERY_MS, createRunners, type FromSinksWorker, type SinksWorkerData, type ToSinksWorker } from './thread.js';

const data = workerData as SinksWorkerData;
const port = parentPort!;
const post = (m: FromSinksWorker) => port.postMessage(m);
const log = createLogger({ level: data.logLevel }).child({ thread: 'sinks' });
const spool = Spool.open({ dir: data.dir, synchronous: 'NORMAL', consumer: true });
// Auto-checkpoints would run inside this thread's commits: off. Checkpoints are this connection's job
// when it owns them (see SinksRunnerOptions.checkpoints), else the rules thread's.
spool.db.pragma('wal_autocheckpoint = 0');
const checkpoints = data.checkpoints ? ownCheckpoints(spool, undefined, checkpointErrorLogger(spool, log)) : undefined;

// The runners' counters, forwarded to the main thread's /metrics.
const counter = (metric: 'sinkSent' | 'sinkFailed') => ({
  inc: (labels: Record<string, string>, n = 1) => post({ type: 'count', metric, labels, n }),
});
const metrics = { sinkSent: counter('sinkSent'), sinkFailed: counter('sinkFailed') } as unknown as SinkMetrics;

/** Build the runners; on failure report it (`fatal`) and end the thread. */
async function build(): Promise<SinkRunner[] | undefined> {
  try {
    return await createRunners(data.sinks, spool, { log, dir: data.dir, env: data.env, metrics });
  } catch (err) {
    // A sink that cannot be built (an unreadable CA file, bad credentials): the main thread reports it.
    const e = err as Error;
    post(e instanceof MltrailError ? { type: 'fatal', kind: e.kind, message: e.message, extra: e.extra } : { type: 'fatal', message: e.message });
    checkpoints?.stop();
    spool.close();
    port.close();
    return undefined;
  }
}

/** Wake idle runners when the main thread appends (it bumps and notifies the shared counter). */
async function watchAppends(wake: Int32Array, stopped: () => boolean): Promise<void> {
  let seen = Atomics.load(wake, 0);
  while (!stopped()) {
    const w = (Atomics as unknown as AtomicsWaitAsync).waitAsync(wake, 0, seen, 1000);
    if (w.async) await w.value;
    const now = Atomics.load(wake, 0);
    if (now !== seen) {
      seen = now;
      spool.emit('append');
    }
  }
}
type AtomicsWaitAsync = { waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<string> | string } };

const runners = await build();
if (runners) {
  const wake = new Int32Array(data.wake);
  const reportStatus = () => post({ type: 'status', sinks: Object.fromEntries(runners.map((r) => [r.sink.name, r.status()])) });
  let statusTick: NodeJS.Timeout | undefined;
  let stopped = false;

  port.on('message', async (m: ToSinksWorker) => {
    if (m.type === 'start') {
      if (statusTick || stopped) return;
      for (const r of runners) r.start();
      statusTick = setInterval(reportStatus, STATUS_EVERY_MS);
      reportStatus();
      void watchAppends(wake, () => stopped);
      return;
    }
    stopped = true;
    Atomics.notify(wake, 0); // ends the pending wait in watchAppends
    clearInterval(statusTick);
    const finish = async () => {
      await Promise.all(runners.map((r) => r.stop()));
      reportStatus();
    };
    await endWorkerThread({ what: 'sink worker', finish, spool, checkpoints, log, port });
  });
  post({ type: 'ready' });
}
