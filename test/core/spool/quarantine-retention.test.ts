import { describe, expect, it } from 'vitest';
import { Spool } from '../../../core/spool/index.js';
import { tmpDir } from '../../helpers/bridge.js';

const DAY = 86_400_000;

describe('Spool: quarantine retention', () => {
  it('pruning deletes quarantined input older than the retention and gives its bytes back to max_bytes; newer input stays', async () => {
    let now = Date.parse('2026-08-01T00:00:00Z');
    const spool = Spool.open({ dir: tmpDir(), synchronous: 'NORMAL', maxBytes: 2_000_000, quarantineRetentionMs: 30 * DAY, now: () => now });
    // A sender posting bad input: its quarantine fills the spool's bound, and then every sender gets 503.
    for (let i = 0; i < 950; i++) spool.quarantine('core.api', 'body is not JSON', 'x'.repeat(2000));
    now += 20 * DAY;
    spool.quarantine('core.api', 'body is not JSON', 'r'.repeat(30_000));
    expect(spool.heldBytes).toBeGreaterThan(2_000_000);
    const event = [{ kind: 'event' as const, id: 'a', body: '{}' }];
    await expect(spool.append(event)).rejects.toThrow(/retry later/);
    // 20 days on: nothing is old enough yet.
    while (spool.pruneStep(['sink:file'], 256).more);
    expect(spool.listQuarantine({ limit: 5000 })).toHaveLength(951);
    now += 11 * DAY;
    // Each slice says how many it deleted (the bridge logs the sum: deleted input is never silent).
    let expired = 0;
    for (let step = spool.pruneStep(['sink:file'], 256); ; step = spool.pruneStep(['sink:file'], 256)) {
      expired += step.quarantineExpired;
      if (!step.more) break;
    }
    expect(expired).toBe(950);
    const left = spool.listQuarantine({ limit: 5000 });
    expect(left.map((r) => r.body.length)).toEqual([30_000]);
    expect(spool.heldBytes).toBeLessThan(31_000);
    await expect(spool.append(event)).resolves.toMatchObject({ accepted: ['a'] });
    spool.close();
  });

  it('without a retention (0, as the CLI opens the spool) quarantined input stays until purged', () => {
    let now = Date.parse('2026-08-01T00:00:00Z');
    const spool = Spool.open({ dir: tmpDir(), synchronous: 'NORMAL', now: () => now });
    spool.quarantine('core.api', 'body is not JSON', '{');
    now += 400 * DAY;
    spool.prune(['sink:file']);
    expect(spool.listQuarantine()).toHaveLength(1);
    spool.close();
  });
});
