import { describe, expect, it } from 'vitest';
import { ownCheckpoints } from '../../../core/spool/checkpointer.js';
import { Spool } from '../../../core/spool/index.js';
import { tmpDir } from '../../helpers/bridge.js';

describe('ownCheckpoints', () => {
  it('a checkpoint the disk refuses (SQLITE_FULL) is reported and tried again, not thrown from the timer that would end the owning thread', async () => {
    const spool = Spool.open({ dir: tmpDir(), synchronous: 'NORMAL' });
    const real = spool.checkpoint.bind(spool);
    let fail = true;
    let done = 0;
    spool.checkpoint = () => {
      if (fail) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      real();
      done++;
    };
    const errors: unknown[] = [];
    const cp = ownCheckpoints(spool, 5, (err) => errors.push(err));
    try {
      await new Promise((r) => setTimeout(r, 10));
      expect(() => cp.poke()).not.toThrow();
      expect((errors[0] as { code?: string } | undefined)?.code).toBe('SQLITE_FULL');
      // The disk has room again: the next tick checkpoints.
      fail = false;
      await new Promise((r) => setTimeout(r, 30));
      expect(done).toBeGreaterThan(0);
      fail = true;
      expect(() => cp.stop()).not.toThrow();
    } finally {
      cp.stop();
      spool.close();
    }
  });
});
