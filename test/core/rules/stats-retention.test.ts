import { describe, expect, it } from 'vitest';
import { RulesConfig, STATS_NS, createRuleEngine } from '../../../core/rules/engine.js';
import { expireRuleStats } from '../../../core/rules/stats-retention.js';
import { Spool } from '../../../core/spool/index.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import { WriteBackStateStore } from '../../../core/state/write-back.js';
import { T0, actors, at, ev } from '../../rules/events.js';
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

  it('the rules engine drops cached days past the retention when its day turns, and writes no day that old again', () => {
    const backing = new MemoryStateStore();
    const cache = new WriteBackStateStore(backing);
    const engine = createRuleEngine(RulesConfig.parse({ stats_retention_days: 3 }), cache);
    const RULE = 'training.unverified_dependency';
    // A new job family each time: one alert, so one count in the rule's statistics for the day of the event.
    const job = (n: number, time: number, received = time) => {
      engine.process(ev({ id: `sr-${n}`, time: at(time), received_time: at(received), platform: 'kubeflow', stage: 'training', action: 'training_job.create', actor: actors.aliceMlflow, resource: { type: 'pipeline_run', name: `family${n}-x` }, ml: { job: { name: `family${n}-x`, image: 'docker.io/library/python:3.12' } } }), received);
      cache.flush();
    };
    const dayOf = (d: number) => `${RULE}|${at(T0 + d * DAY).slice(0, 10)}`;
    job(0, T0);
    expect(backing.get(STATS_NS, dayOf(0))).toMatchObject({ alerts: 1 });
    // The bridge's housekeeping deletes day 0 on its own connection; the worker's cache still holds it.
    backing.delete(STATS_NS, dayOf(0));
    for (let d = 1; d <= 4; d++) job(d, T0 + d * DAY);
    // Day 4 keeps days 2-4: days 0 and 1 are no longer held (day 1 is still on disk until housekeeping deletes it).
    expect(cache.get(STATS_NS, dayOf(0))).toBeUndefined();
    expect(cache.get(STATS_NS, dayOf(1))).toBeUndefined();
    expect(backing.get(STATS_NS, dayOf(1))).toMatchObject({ alerts: 1 });
    expect([2, 3, 4].map((d) => cache.get<{ alerts: number }>(STATS_NS, dayOf(d))?.alerts)).toEqual([1, 1, 1]);
    // A late event of day 0 (read on day 4) writes no row for that day back.
    job(5, T0 + 1000, T0 + 4 * DAY + 1000);
    expect(backing.get(STATS_NS, dayOf(0))).toBeUndefined();
    // 0 keeps every day, cached too.
    const all = new WriteBackStateStore(new MemoryStateStore());
    const keepAll = createRuleEngine(RulesConfig.parse({ stats_retention_days: 0 }), all);
    for (let d = 0; d <= 4; d++) keepAll.process(ev({ id: `ka-${d}`, time: at(T0 + d * DAY), platform: 'kubeflow', stage: 'training', action: 'training_job.create', actor: actors.aliceMlflow, resource: { type: 'pipeline_run', name: `family${d}-x` }, ml: { job: { name: `family${d}-x`, image: 'docker.io/library/python:3.12' } } }), T0 + d * DAY);
    expect(all.get(STATS_NS, dayOf(0))).toMatchObject({ alerts: 1 });
  });
  it('the engine\'s cutoff moves at each UTC day of its clock, to the millisecond, also after many events of one day', () => {
    const backing = new MemoryStateStore();
    const cache = new WriteBackStateStore(backing);
    const engine = createRuleEngine(RulesConfig.parse({ stats_retention_days: 3 }), cache);
    const RULE = 'training.unverified_dependency';
    const job = (n: number, time: number, received = time) => {
      engine.process(ev({ id: `sc-${n}`, time: at(time), received_time: at(received), platform: 'kubeflow', stage: 'training', action: 'training_job.create', actor: actors.aliceMlflow, resource: { type: 'pipeline_run', name: `cut${n}-x` }, ml: { job: { name: `cut${n}-x`, image: 'docker.io/library/python:3.12' } } }), received);
      cache.flush();
    };
    const dayStart = Math.floor(T0 / DAY) * DAY;
    const dayOf = (time: number) => `${RULE}|${at(time).slice(0, 10)}`;
    // Many events through day 2: its cutoff (day 0) is asked for again and again.
    for (let n = 0; n < 20; n++) job(n, dayStart + 2 * DAY + n * 60_000);
    // Read at the last millisecond of day 2, a late event of day 0 is still kept.
    job(100, dayStart + 1000, dayStart + 3 * DAY - 1);
    expect(backing.get(STATS_NS, dayOf(dayStart + 1000))).toMatchObject({ alerts: 1 });
    // The engine's clock enters day 3: day 0 is past the retention, a later event of it writes nothing.
    job(101, dayStart + 3 * DAY);
    backing.delete(STATS_NS, dayOf(dayStart));
    job(102, dayStart + 2000, dayStart + 3 * DAY + 1);
    expect(backing.get(STATS_NS, dayOf(dayStart))).toBeUndefined();
    // Day 1 is still within it.
    job(103, dayStart + DAY + 5000, dayStart + 3 * DAY + 2);
    expect(backing.get(STATS_NS, dayOf(dayStart + DAY))).toMatchObject({ alerts: 1 });
  });
});
