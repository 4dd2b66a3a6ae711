/**
 * SinksRunner.drain, as a SIGTERM's stop uses it: it waits for EVERY sink's
 * backlog, not for the first sink to finish (runners on this thread: the
 * tests run the TypeScript sources).
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { createSinks } from '../../../bridge/sinks/thread.js';
import { silentLogger } from '../../../core/log.js';
import { Spool } from '../../../core/spool/index.js';
import { sampleEvent, tmpDir } from '../../helpers/bridge.js';

describe('sinks drain', () => {
  it('is done only when every sink has delivered its backlog', async () => {
    const dir = tmpDir();
    const cfg = loadConfig({
      env: { MLTRAIL_DATA_DIR: dir },
      overrides: {
        sinks: {
          fast: { type: 'file', path: `${dir}/fast`, batch: { timeout_ms: 0 } },
          // Waits a minute for a batch to fill: its backlog outlasts the drain.
          slow: { type: 'file', path: `${dir}/slow`, batch: { max_events: 100000, timeout_ms: 60000 } },
        },
      },
    });
    const spool = Spool.open({ dir, synchronous: 'OFF' });
    const sinks = await createSinks({ spool, dir, sinks: cfg.sinks, log: silentLogger(), env: {}, thread: 'main' });
    await spool.append(Array.from({ length: 5 }, () => sampleEvent()).map((e) => ({ kind: 'event' as const, id: e.id as string, body: JSON.stringify(e) })));
    sinks.start();
    expect(await sinks.drain(400)).toBe(false);
    expect(spool.depth('sink:fast').records).toBe(0);
    expect(spool.depth('sink:slow').records).toBe(5);
    await sinks.stop();
    spool.close();
  });
});
