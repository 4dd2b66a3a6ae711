import { describe, expect, it } from 'vitest';
import { STATS_NS } from '../../../core/rules/engine.js';
import { expireRuleStats } from '../../../core/rules/stats-retention.js';
import { Spool } from '../../../core/spool/index.js';
import { tmpDir } from '../../helpers/bridge.js';

const DAY = 86_400_000;

describe('rules.stats_retention_days: per-rule daily statistics past it are deleted', () => {
  it('keeps the last N days (today one of them) of every rule, deletes older days in slices, leaves other keys alone', () => {
    const spool = Spool.open({ dir: tmpDir(), synchronous: 'NORMAL' });
    const today = Date.parse('2026-11-27T15:00:00Z');
    // Two years of one row per rule and day, as the engine writes them.
    for (const rule of ['ingestion.volume_anomaly', 'serving.error_spike']) {
      for (let d = 0; d < 730; d++) spool.state.set(STATS_NS, `${rule}|${new Date(today - d * DAY).toISOString().slice(0, 10)}`, { windows: d });
    }
    spool.state.set(STATS_NS, 'not-a-day', 1);
    spool.state.set('rules.engine', 'watermark|2020-01-01', 1);
    let deleted = 0;
    for (let n = expireRuleStats(spool.state, today, 400, 256); n > 0; n = expireRuleStats(spool.state, today, 400, 256)) {
      expect(n).toBeLessThanOrEqual(256);
      deleted += n;
    }
    expect(deleted).toBe(2 * 330);
    const kept = spool.state.list<{ windows: number }>(STATS_NS, 'serving.error_spike|');
    expect(kept).toHaveLength(400);
    expect(kept[0]!.key).toBe('serving.error_spike|2025-10-24');
    expect(kept.at(-1)!.key).toBe('serving.error_spike|2026-11-27');
    expect(spool.state.get(STATS_NS, 'not-a-day')).toBe(1);
    expect(spool.state.get('rules.engine', 'watermark|2020-01-01')).toBe(1);
    // 0 keeps every day.
    expect(expireRuleStats(spool.state, today + 1000 * DAY, 0, 256)).toBe(0);
    spool.close();
  });
});
