/**
 * Entry of the rules worker thread (see ./thread.ts): its own connection to
 * the spool, the rule processor in large chunks, and the WAL checkpoints, so
 * the event loop that answers senders never evaluates rules or copies pages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../log.js';
import { Spool } from '../spool/index.js';
import { RulesConfig } from './engine.js';
import { RuleProcessor, type ConsumerCommit } from './processor.js';
import type { FromWorker, RulesWorkerData, ToWorker } from './thread.js';

const CHECKPOINT_EVERY_MS = 250;
const data = workerData as RulesWorkerData;
const port = parentPort!;
const log = createLogger({ level: data.logLevel }).child({ thread: 'rules' });
const spool = Spool.open({ dir: data.dir, synchronous: 'NORMAL', consumer: true });
const post = (m: FromWorker) => port.postMessage(m);

let pendingBytes = 0;
const rules = RuleProcessor.forConfig(spool, RulesConfig.parse(data.rules), log, undefined, (alerts) => {
  post({ type: 'alerts', alerts: alerts.map((a) => ({ rule_id: a.rule_id, mode: a.mode })), bytes: pendingBytes });
  pendingBytes = 0;
});
// After each committed chunk: count the alerts' bytes, checkpoint (this connection owns checkpointing).
// At most every 250 ms: fewer, larger checkpoints copy a page rewritten by many commits once.
let lastCheckpoint = 0;
const checkpoint = () => {
  if (Date.now() - lastCheckpoint < CHECKPOINT_EVERY_MS) return;
  spool.checkpoint();
  lastCheckpoint = Date.now();
};
spool.on('committed', (c: ConsumerCommit) => {
  pendingBytes += c.alertBytes;
  checkpoint();
});
const tick = setInterval(checkpoint, CHECKPOINT_EVERY_MS);

port.on('message', (m: ToWorker) => {
  if (m.type === 'stop') {
    clearInterval(tick);
    try {
      rules.stop(m.deadline);
      spool.checkpoint();
      spool.close();
    } catch (err) {
      log.error({ err, code: 'MLTRAIL_ERR_INTERNAL' }, 'rules worker stop failed');
    }
    log.flush?.();
    // Nothing is left to keep this thread alive: it exits (the main thread waits for that).
    port.close();
  }
});
// Polling finds new records within 10 ms for a few µs a look; a message per append cost the event loop far more.
rules.start({ chunk: data.chunk, stateEveryMs: data.stateEveryMs, pollMs: 10 });
