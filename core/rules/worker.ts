/**
 * Entry of the rules worker thread (see ./thread.ts): its own connection to
 * the spool, the rule processor in large chunks, and (unless the sink thread
 * owns them) the WAL checkpoints, so the event loop that answers senders
 * never evaluates rules or copies pages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../log.js';
import { checkpointErrorLogger, ownCheckpoints } from '../spool/checkpointer.js';
import { Spool } from '../spool/index.js';
import { endWorkerThread } from '../worker.js';
import { RulesConfig } from './engine.js';
import { RuleProcessor, type ConsumerCommit } from './processor.js';
import type { FromWorker, RulesWorkerData, ToWorker } from './thread.js';

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
// Auto-checkpoints would run inside this thread's commits: off. Checkpoints are this connection's job
// only when it owns them (the sink thread's connection does when sinks run on their worker).
spool.db.pragma('wal_autocheckpoint = 0');
const checkpoints = data.checkpoints ? ownCheckpoints(spool, undefined, checkpointErrorLogger(spool, log)) : undefined;
spool.on('committed', (c: ConsumerCommit) => {
  pendingBytes += c.alertBytes;
  checkpoints?.poke();
});

port.on('message', (m: ToWorker) => {
  if (m.type === 'stop') void endWorkerThread({ what: 'rules worker', finish: () => rules.stop(m.deadline), spool, checkpoints, log, port });
});
// Polling finds new records within 10 ms for a few µs a look; a message per append cost the event loop far more.
rules.start({ chunk: data.chunk, stateEveryMs: data.stateEveryMs, pollMs: 10 });
