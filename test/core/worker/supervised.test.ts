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
});
