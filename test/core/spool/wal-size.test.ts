import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Spool } from '../../../core/spool/index.js';
import { tmpDir } from '../../helpers/bridge.js';

const walBytes = (dir: string) => statSync(join(dir, 'spool.db-wal')).size;

describe('Spool: the WAL file once everything is delivered', () => {
  it('a burst larger than walKeepBytes does not leave its WAL on disk: the checkpoint that finds everything copied truncates it', async () => {
    const dir = tmpDir();
    const spool = Spool.open({ dir, synchronous: 'NORMAL', walKeepBytes: 1024 * 1024 });
    // As in serve: one connection owns checkpoints, no commit runs one itself.
    spool.db.pragma('wal_autocheckpoint = 0');
    const body = JSON.stringify({ pad: 'x'.repeat(4000) });
    for (let b = 0; b < 4; b++) await spool.append(Array.from({ length: 500 }, (_, i) => ({ kind: 'event' as const, id: `e-${b}-${i}`, body })));
    expect(walBytes(dir)).toBeGreaterThan(6 * 1024 * 1024);
    // Delivered: the consumer's cursor passes every record and they are pruned.
    spool.commitCursor('sink:file', spool.maxSeq());
    spool.prune(['sink:file']);
    spool.checkpoint();
    spool.checkpoint();
    expect(walBytes(dir)).toBeLessThanOrEqual(1024 * 1024);
    // Nothing committed was lost by the truncation.
    expect(spool.cursor('sink:file')).toBe(2000);
    spool.close();
    const again = Spool.open({ dir, synchronous: 'NORMAL' });
    expect(again.cursor('sink:file')).toBe(2000);
    expect(again.seen('event', 'e-3-499')).toBe(true);
    again.close();
  });
});
