import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../core/log.js';
import { BASELINE_NS, Baselines } from '../../../core/rules/baseline.js';
import { resolveRules } from '../../../core/rules/config.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { RuleProcessor } from '../../../core/rules/processor.js';
import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';
import { Spool } from '../../../core/spool/index.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import { tmpDir } from '../../helpers/bridge.js';
import { diurnal, hourly, ingestionEvent } from './generate.js';

/**
 * Baseline series are written without what their key says (rule, entity type and id, label) and without empty
 * streaks and open windows; series written whole by earlier versions still load, and are written compact again.
 */

/** Evaluate `events` on the spool in `dir` as `serve` does (drained, state and cursor committed), then close it. */
function serve(dir: string, events: NormalizedEvent[]): void {
  const spool = Spool.open({ dir, synchronous: 'OFF' });
  const proc = RuleProcessor.forConfig(spool, RulesConfig.parse({}), silentLogger());
  spool.transaction(() => spool.appendInTx(events.map((e) => ({ kind: 'event' as const, id: e.id, body: JSON.stringify(e) }))));
  proc.drainNow();
  spool.close();
}

function alertsOf(dir: string): Alert[] {
  const spool = Spool.open({ dir });
  const alerts = spool.listAlerts({ limit: 100_000 }) as Alert[];
  spool.close();
  return alerts;
}

type Row = { key: string; value: string };
function seriesRows(dir: string): Row[] {
  const spool = Spool.open({ dir });
  const rows = spool.db.prepare("SELECT key, value FROM state WHERE ns = ? AND key NOT LIKE '%|#closed' ORDER BY key").all(BASELINE_NS) as Row[];
  spool.close();
  return rows;
}

/** A series as the version before compact series wrote it: every field, the key's parts included. */
function asWritten(key: string, compact: Record<string, unknown>): Record<string, unknown> {
  const [rule, type, id, label] = key.split('|') as [string, string, string, string];
  const { entity, open, streak, streakEvidence, agg, first, buckets, ...rest } = compact as Record<string, unknown> & { entity?: Record<string, unknown> };
  return { rule, label, entity: { type, id, ...entity }, agg, first, open: open ?? [], buckets, streak: streak ?? 0, streakEvidence: streakEvidence ?? [], ...rest };
}

const month = () =>
  hourly(35, 11, (t) => diurnal(t, 6, 2, 1), ingestionEvent('clicks'), [
    { day: 10, hour: 10, hours: 3, count: 40 },
    { day: 30, hour: 10, hours: 3, count: 40 },
  ]);

describe('baseline series on disk', () => {
  it('are written without their key’s parts; a data dir written whole (the earlier format) loads and judges as one never stopped', () => {
    const events = month();
    const half = events.findIndex((e) => e.time >= '2026-03-25');
    const reference = tmpDir();
    serve(reference, events);
    const expected = alertsOf(reference);
    expect(expected.filter((a) => a.rule_id === 'ingestion.volume_anomaly').length).toBeGreaterThan(0);

    const dir = tmpDir();
    serve(dir, events.slice(0, half));
    const compact = seriesRows(dir);
    expect(compact.length).toBeGreaterThan(0);
    for (const r of compact) {
      const v = JSON.parse(r.value) as Record<string, unknown>;
      expect(v).not.toHaveProperty('rule');
      expect(v).not.toHaveProperty('label');
      expect(v.entity === undefined || !('id' in (v.entity as object))).toBe(true);
    }
    // Rewrite every series as the earlier version had written it, as an upgraded bridge finds its data dir.
    const spool = Spool.open({ dir, synchronous: 'OFF' });
    const set = spool.db.prepare('UPDATE state SET value = ? WHERE ns = ? AND key = ?');
    const whole = compact.map((r) => ({ key: r.key, value: JSON.stringify(asWritten(r.key, JSON.parse(r.value) as Record<string, unknown>)) }));
    for (const r of whole) set.run(r.value, BASELINE_NS, r.key);
    spool.close();
    expect(whole.some((r) => r.value.includes('"rule":"ingestion.volume_anomaly"') && r.value.includes('"streak":0'))).toBe(true);

    serve(dir, events.slice(half));
    // Same alerts (ids, windows, figures) as the run that never stopped.
    const strip = (a: Alert) => ({ ...a, created_time: undefined });
    expect(alertsOf(dir).map(strip)).toEqual(expected.map(strip));
    // Read old, written new: each series is compact again, smaller than written whole.
    const after = seriesRows(dir);
    expect(after.map((r) => r.key)).toEqual(expect.arrayContaining(whole.map((r) => r.key)));
    for (const r of after) {
      expect(JSON.parse(r.value)).not.toHaveProperty('rule');
      expect(r.value.length).toBeLessThan(JSON.stringify(asWritten(r.key, JSON.parse(r.value) as Record<string, unknown>)).length);
    }
  });

  it('a series the earlier version wrote loads with its entity, history and streak', () => {
    const rule = resolveRules(RulesConfig.parse({ 'ingestion.volume_anomaly': { learning: '0s', seasonality: 'none', min_samples: 4 } })).find((r) => r.id === 'ingestion.volume_anomaly')!;
    const state = new MemoryStateStore();
    const key = 'ingestion.volume_anomaly|data_source|s3://raw/clicks|a|events';
    // As the earlier version wrote it (an entity id with a `|` in it: the key's middle).
    state.set(BASELINE_NS, key, {
      rule: 'ingestion.volume_anomaly', label: 'events', entity: { type: 'data_source', id: 's3://raw/clicks|a', platform: 'aws' }, agg: 'count',
      first: Date.parse('2026-03-01T00:00:00Z'), open: [{ start: Date.parse('2026-03-02T00:00:00Z'), value: 40, n: 40, evidence: ['e-1', 'e-2'], lastTime: '2026-03-02T00:59:00.000Z' }],
      buckets: { all: [5, 6, 5, 6, 5] }, streak: 2, streakEvidence: ['e-0'], streakSign: 1, streakFirst: '2026-03-01T23:00:00.000Z', lastClosed: Date.parse('2026-03-01T23:00:00Z'), lastData: Date.parse('2026-03-01T23:00:00Z'),
    });
    const [w] = new Baselines(state).advance(rule, Date.parse('2026-03-02T01:00:00Z'));
    expect(w).toMatchObject({
      rule: 'ingestion.volume_anomaly', label: 'events', entity: { type: 'data_source', id: 's3://raw/clicks|a', platform: 'aws' },
      value: 40, anomalous: true, streak: 3, streakFirst: '2026-03-01T23:00:00.000Z', evidence: ['e-0', 'e-1', 'e-2'], baseline: { median: 5, samples: 5 },
    });
    // Written back compact: the key's parts left out, the entity's platform kept.
    const written = (state as unknown as { map: Map<string, Map<string, string>> }).map.get(BASELINE_NS)!.get(key)!;
    expect(JSON.parse(written)).toEqual({
      entity: { platform: 'aws' }, agg: 'count', first: Date.parse('2026-03-01T00:00:00Z'), buckets: { all: [5, 6, 5, 6, 5, 40] },
      streak: 3, streakEvidence: ['e-0', 'e-1', 'e-2'], streakSign: 1, streakFirst: '2026-03-01T23:00:00.000Z', lastClosed: Date.parse('2026-03-02T00:00:00Z'), lastData: Date.parse('2026-03-02T00:00:00Z'),
    });
    // And read again from that form, it goes on: judged by the six samples, the run of highs ended by a low.
    new Baselines(state).add(rule, 'events', { type: 'data_source', id: 's3://raw/clicks|a', platform: 'aws' }, 'count', '2026-03-02T01:10:00.000Z', 1, 'e-3', Date.parse('2026-03-02T01:00:00Z'));
    const [next] = new Baselines(state).advance(rule, Date.parse('2026-03-02T02:00:00Z'));
    expect(next).toMatchObject({ entity: { type: 'data_source', id: 's3://raw/clicks|a', platform: 'aws' }, value: 1, baseline: { median: 5.5, samples: 6 }, streak: 0, evidence: ['e-3'] });
    expect(JSON.parse((state as unknown as { map: Map<string, Map<string, string>> }).map.get(BASELINE_NS)!.get(key)!)).not.toHaveProperty('streak');
  });

  it('a series whose label holds a `|` (a metric name) is written whole: its key does not say its parts exactly', () => {
    const rule = resolveRules(RulesConfig.parse({})).find((r) => r.id === 'ingestion.volume_anomaly')!;
    const state = new MemoryStateStore();
    const b = new Baselines(state);
    const entity = { type: 'data_source', id: 'a|b', name: 'clicks' };
    b.add(rule, 'rows|x', entity, 'sum', '2026-03-02T00:10:00.000Z', 5, 'e-1', 0);
    const [[key, written]] = [...(state as unknown as { map: Map<string, Map<string, string>> }).map.get(BASELINE_NS)!];
    expect(key).toBe('ingestion.volume_anomaly|data_source|a|b|rows|x');
    expect(JSON.parse(written!)).toMatchObject({ rule: 'ingestion.volume_anomaly', label: 'rows|x', entity });
    const [w] = new Baselines(state).advance(rule, Date.parse('2026-03-02T02:00:00Z'));
    expect(w).toMatchObject({ label: 'rows|x', entity, value: 5 });
  });

  it('a series whose entity id and label hold odd characters (unicode, newline, an empty label) is written compact and reads back the same (verify26c)', () => {
    const rule = resolveRules(RulesConfig.parse({})).find((r) => r.id === 'ingestion.volume_anomaly')!;
    for (const [id, label] of [['gs://données/é\n|x', ''], ['s3://b/k ✓\u0000', 'rows:é\n']] as const) {
      const state = new MemoryStateStore();
      const entity = { type: 'data_source', id, name: 'n' };
      new Baselines(state).add(rule, label, entity, 'sum', '2026-03-02T00:10:00.000Z', 5, 'e-1', 0);
      const [[, written]] = [...(state as unknown as { map: Map<string, Map<string, string>> }).map.get(BASELINE_NS)!];
      expect(JSON.parse(written!)).not.toHaveProperty('rule');
      const [w] = new Baselines(state).advance(rule, Date.parse('2026-03-02T02:00:00Z'));
      expect(w).toMatchObject({ label, entity, value: 5 });
    }
  });

  it('a data dir holding compact series is marked schema 3, which a build before them (schema 2: it read them as series with no entity, raising alerts naming none) refuses (verify26c)', () => {
    const dir = tmpDir();
    serve(dir, month().slice(0, 200));
    expect(seriesRows(dir).length).toBeGreaterThan(0);
    const spool = Spool.open({ dir });
    expect(spool.db.pragma('user_version', { simple: true })).toBe(3);
    spool.close();
  });

  it('closing windows writes only the series it changed', () => {
    const rule = resolveRules(RulesConfig.parse({})).find((r) => r.id === 'ingestion.volume_anomaly')!;
    const written: string[] = [];
    const state = new (class extends MemoryStateStore {
      override set(ns: string, key: string, value: unknown): void {
        written.push(key);
        super.set(ns, key, value);
      }
    })();
    const b = new Baselines(state);
    const H = 3_600_000;
    const t0 = Date.parse('2026-03-02T00:00:00Z');
    b.add(rule, 'rows', { type: 'data_source', id: 'metric' }, 'mean', '2026-03-02T00:10:00.000Z', 5, 'e-1', 0);
    b.add(rule, 'events', { type: 'data_source', id: 'count' }, 'count', '2026-03-02T00:20:00.000Z', 1, 'e-2', 0);
    written.length = 0;
    expect(b.advance(rule, t0 + 2 * H).map((w) => [w.entity.id, w.value])).toEqual([['count', 1], ['count', 0], ['metric', 5]]);
    expect(written.filter((k) => !k.endsWith('#closed')).sort()).toEqual(['ingestion.volume_anomaly|data_source|count|events', 'ingestion.volume_anomaly|data_source|metric|rows']);
    written.length = 0;
    // An hour later the count series learns its 0 (written); the metric series has no window to close (not written).
    expect(b.advance(rule, t0 + 3 * H).map((w) => [w.entity.id, w.value])).toEqual([['count', 0]]);
    expect(written.filter((k) => !k.endsWith('#closed'))).toEqual(['ingestion.volume_anomaly|data_source|count|events']);
    // Its state is as it was: its next value is judged against the one window it had.
    b.add(rule, 'rows', { type: 'data_source', id: 'metric' }, 'mean', '2026-03-02T03:10:00.000Z', 7, 'e-3', 0);
    expect(b.advance(rule, t0 + 5 * H).filter((w) => w.entity.id === 'metric').map((w) => [w.windowStart, w.value])).toEqual([['2026-03-02T03:00:00.000Z', 7]]);
  });
});
