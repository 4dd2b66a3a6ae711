import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/log.js';
import { Spool } from '../../../core/spool/index.js';
import { SupervisedWorker } from '../../../core/worker.js';
import { tmpDir } from '../../helpers/bridge.js';
import { waitFor } from '../../helpers/wait.js';

describe('SupervisedWorker', () => {
  it('a worker that dies of a full disk is logged as the spool problem it is (not an internal error), and /readyz sees it', async () => {
    const dir = tmpDir();
    // A worker that meets what better-sqlite3 throws when the disk is full.
    const script = join(dir, 'full.mjs');
    writeFileSync(script, "const e = new Error('database or disk is full'); e.code = 'SQLITE_FULL'; throw e;\n");
    const spool = Spool.open({ dir, synchronous: 'OFF' });
    const logged: Array<Record<string, unknown>> = [];
    const log = createLogger({ level: 'info', destination: { write: (l: string) => void logged.push(JSON.parse(l) as Record<string, unknown>) } });
    const sw = new SupervisedWorker({ what: 'sink worker', url: pathToFileURL(script), data: () => ({}), onMessage: () => {}, log, spool, ownsCheckpoints: false });
    sw.start();
    const line = await waitFor(() => logged.find((l) => l.msg === 'sink worker failed'));
    await sw.stop({ type: 'stop' }, 1000).catch(() => {});
    expect(line).toMatchObject({ code: 'MLTRAIL_ERR_SPOOL_FULL', err: { message: expect.stringMatching(/disk holding the spool .* is full/) } });
    expect(sw.lastError).toMatch(/is full/);
    expect(spool.writeError?.message).toMatch(/is full/);
    spool.close();
  });
  it('a worker that keeps dying young is restarted after 1 s, then 2 s, then 4 s…, not every second', async () => {
    const dir = tmpDir();
    const script = join(dir, 'dies.mjs');
    writeFileSync(script, 'process.exit(3);\n');
    const spool = Spool.open({ dir, synchronous: 'OFF' });
    const logged: Array<Record<string, unknown>> = [];
    const log = createLogger({ level: 'info', destination: { write: (l: string) => void logged.push(JSON.parse(l) as Record<string, unknown>) } });
    const sw = new SupervisedWorker({ what: 'sink worker', url: pathToFileURL(script), data: () => ({}), onMessage: () => {}, log, spool, ownsCheckpoints: false });
    sw.start();
    const exits = () => logged.filter((l) => l.msg === 'sink worker exited; restarting it');
    await waitFor(() => (exits().length >= 2 ? true : undefined), 5000);
    await sw.stop({ type: 'stop' }, 1000).catch(() => {});
    expect(exits().slice(0, 2).map((l) => [l.exit_code, l.restart_in_ms])).toEqual([[3, 1000], [3, 2000]]);
    expect(sw.restarts).toBe(2);
    spool.close();
  });
});
