import type { Logger } from '../log.js';
import type { Spool } from './index.js';

/** How often the owning connection checkpoints: fewer, larger checkpoints copy a page rewritten by many commits once. */
export const CHECKPOINT_EVERY_MS = 250;

/**
 * Make `spool`'s connection the one that checkpoints the WAL: its own
 * auto-checkpoints go off (they would run inside its commits) and it
 * checkpoints every {@link CHECKPOINT_EVERY_MS}, or sooner after a `poke()`
 * (a commit) once that interval has passed. Exactly one connection of a spool
 * should own this; the event loop's auto-checkpoints are turned off by the
 * supervisor that starts the owning worker (`SupervisedWorker` in core/worker.ts).
 *
 * @example
 * const cp = ownCheckpoints(spool);
 * spool.on('committed', cp.poke);
 * // …
 * cp.stop(); // a last checkpoint, then no more
 */
export function ownCheckpoints(
  spool: Spool,
  everyMs = CHECKPOINT_EVERY_MS,
  onError?: (err: unknown) => void,
): { poke: () => void; stop: () => void } {
  spool.db.pragma('wal_autocheckpoint = 0');
  let last = 0;
  const run = () => {
    if (spool.isClosed || Date.now() - last < everyMs) return;
    last = Date.now();
    // A checkpoint the disk refuses (SQLITE_FULL, an I/O error) leaves the WAL as it was: try again at the next
    // tick. Thrown from the timer it ended the thread that owns it (the sink thread: every sink stopped, then
    // restarted after a growing delay of up to a minute, also once the disk had room again).
    try {
      spool.checkpoint();
    } catch (err) {
      onError?.(err);
    }
  };
  const tick = setInterval(run, everyMs);
  return {
    poke: run,
    stop: () => {
      clearInterval(tick);
      if (spool.isClosed) return;
      try {
        spool.checkpoint();
      } catch (err) {
        onError?.(err); // the WAL stays: the next connection to open the spool checkpoints it
      }
    },
  };
}

/**
 * The `onError` of a worker's {@link ownCheckpoints}: a failed checkpoint is noted on the spool (so /readyz
 * and the input's 503s show a full disk) and logged at most once a minute, as it is retried every tick.
 *
 * @example
 * ownCheckpoints(spool, undefined, checkpointErrorLogger(spool, log));
 */
export function checkpointErrorLogger(spool: Spool, log: Logger): (err: unknown) => void {
  let last = 0;
  return (err) => {
    if (Date.now() - last < 60_000) return;
    last = Date.now();
    const e = spool.noteFailure(err) as { code?: string; message?: string };
    log.error({ err: { code: e?.code, message: e?.message }, code: e?.code?.startsWith('MLTRAIL_ERR_') ? e.code : 'MLTRAIL_ERR_INTERNAL' }, 'WAL checkpoint failed; retrying');
  };
}
