import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MltrailError } from '../errors.js';

/** The file whose lock marks a data directory as served (`<data_dir>/serve.lock`). */
export const LOCK_FILE = 'serve.lock';

/** A serving process's claim on its data directory; `release()` ends it. */
export interface DataDirClaim {
  readonly file: string;
  release(): void;
}

/**
 * Claim a data directory for one serving process. Two bridges on one spool
 * would both read every consumer's cursor — each event delivered twice, each
 * rule's state overwritten by the other's cache — so the second one must not
 * start. The claim is SQLite's exclusive lock on `<dir>/serve.lock`, held
 * for the process's lifetime: an OS lock, so a crashed or killed bridge
 * leaves no stale claim behind (unlike a pid file). Other commands (`dlq`,
 * `quarantine`, `backfill`) share the spool with a running bridge and take
 * no claim. `waitMs` covers a restart whose predecessor is still draining.
 *
 * @example
 * const claim = claimDataDir(dataDir); // throws MLTRAIL_ERR_STARTUP while another bridge serves it
 * try { … } finally { claim.release(); }
 */
export function claimDataDir(dir: string, waitMs = 1000): DataDirClaim {
  const file = join(dir, LOCK_FILE);
  let db: Database.Database | undefined;
  try {
    mkdirSync(dir, { recursive: true });
    db = new Database(file);
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(waitMs))}`);
    // EXCLUSIVE locking mode keeps the lock once taken; the open transaction takes it now.
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db?.close();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_LOCKED') {
      throw new MltrailError(
        'STARTUP',
        `another mltrail bridge is serving from ${dir} (${LOCK_FILE} is locked): two bridges on one data directory would deliver every event twice and overwrite each other's rule state; stop it, or give this one its own data_dir (MLTRAIL_DATA_DIR)`,
        { dir },
      );
    }
    // mkdir says EEXIST (or ENOTDIR for a path under a file): name the cause, not the syscall.
    const hint = e.code === 'EEXIST' || e.code === 'ENOTDIR' ? ' (it, or a folder on its path, is a file, not a directory: point data_dir elsewhere)' : e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'SQLITE_CANTOPEN' || e.code === 'SQLITE_READONLY' ? ' (not permitted: make it writable by this user, or point data_dir elsewhere)' : '';
    throw new MltrailError('STARTUP', `cannot claim the data directory ${dir} (data_dir, MLTRAIL_DATA_DIR): ${e.message}${hint}`, { dir });
  }
  const held = db;
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      try {
        held.exec('ROLLBACK');
      } finally {
        held.close();
      }
    },
  };
}
