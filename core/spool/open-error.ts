/** Turning a failure to open or set up the spool database into one start-up message an operator can act on. */
import { MltrailError } from '../errors.js';

/** A failure to set up an opened spool, as one STARTUP line saying what to change. */
export function openError(err: unknown, file: string, dir: string): unknown {
  if (err instanceof MltrailError) return err;
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return err;
  const hint = code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN')
    ? 'make the file, its -wal/-shm files and the directory writable by the user mltrail runs as'
    : code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB'
      ? 'the file is damaged: keep a copy (it holds what was acknowledged), then restore it or move it aside'
      : code === 'SQLITE_ERROR'
        ? 'it does not look like an mltrail spool: move it aside, or point data_dir elsewhere'
        : 'check the file and the disk';
  return new MltrailError('STARTUP', `cannot open the spool ${file} (data_dir, MLTRAIL_DATA_DIR): ${(err as Error).message} (${code}): ${hint}`, { dir });
}
