import { describe, expect, it } from 'vitest';
import { BASELINE_NS, Baselines, type Agg } from '../../../core/rules/baseline.js';
import { resolveRules } from '../../../core/rules/config.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { MemoryStateStore } from '../../../core/state/index.js';

/**
 * An empty window judged against a baseline of zeros (a series silent in that hour) skips the median and MAD sorts
 * and reuses its window's ISO times (perf28): the verdict and figures are those the full computation gives — median
 * 0, the σ floor of the series' aggregation (or min_sigma), z 0 — and a baseline with a non-zero sample is judged in
 * full.
 */
const H = 3_600_000;
const T = Date.parse('2026-03-02T00:00:00Z');
const KEY = 'ingestion.volume_anomaly|data_source|s3://raw/clicks|events';

function ruleWith(extra: Record<string, unknown> = {}) {
  return resolveRules(RulesConfig.parse({ 'ingestion.volume_anomaly': { learning: '0s', seasonality: 'none', min_samples: 4, ...extra } })).find((r) => r.id === 'ingestion.volume_anomaly')!;
}

/** A silent series with `samples` in its one bucket, last closed at T - 1 h, judged for the two hours after. */
function judgeSilence(samples: number[], agg: Agg, extra: Record<string, unknown> = {}, unit?: number) {
  const state = new MemoryStateStore();
  state.set(BASELINE_NS, KEY, {
    agg, first: T - 48 * H, open: [], buckets: { all: samples }, lastClosed: T - H, lastData: T - H, ...(unit ? { unit } : {}),
  });
  return new Baselines(state).advance(ruleWith(extra), T + 2 * H);
}

describe('an empty window judged against a baseline of zeros', () => {
  it('a count: median 0, Poisson σ 1, z 0, with its window’s times', () => {
    const [w1, w2] = judgeSilence([0, 0, 0, 0, 0], 'count');
    expect(w1).toEqual({
      rule: 'ingestion.volume_anomaly', entity: { type: 'data_source', id: 's3://raw/clicks' }, label: 'events',
      windowStart: '2026-03-02T00:00:00.000Z', windowEnd: '2026-03-02T01:00:00.000Z', time: '2026-03-02T01:00:00.000Z', value: 0,
      anomalous: false, streak: 0, evidence: [], learning: false, firstSeen: '2026-02-28T00:00:00.000Z',
      baseline: { median: 0, sigma: 1, samples: 5 }, sigmaFrom: 'poisson', z: 0,
    });
    // The first 0 judged joined the bucket: six samples.
    expect(w2).toMatchObject({ windowStart: '2026-03-02T01:00:00.000Z', windowEnd: '2026-03-02T02:00:00.000Z', baseline: { median: 0, sigma: 1, samples: 6 }, z: 0 });
  });

  it('min_sigma sets σ; a sum’s σ comes from its unit, or is the 1e-9 of no spread without one', () => {
    expect(judgeSilence([0, 0, 0, 0], 'count', { min_sigma: 3 })[0]).toMatchObject({ baseline: { median: 0, sigma: 3, samples: 4 }, sigmaFrom: 'min_sigma', z: 0 });
    expect(judgeSilence([0, 0, 0, 0], 'sum', {}, 250)[0]).toMatchObject({ baseline: { median: 0, sigma: 250, samples: 4 }, sigmaFrom: 'poisson', z: 0 });
    expect(judgeSilence([0, 0, 0, 0], 'sum')[0]).toMatchObject({ baseline: { median: 0, sigma: 1e-9, samples: 4 }, sigmaFrom: 'spread', z: 0 });
  });

  it('a baseline of zeros but one is judged in full (its spread sets σ), and a drop from a busy baseline still alerts', () => {
    // Median 0, MAD 0: σ is the standard deviation of [0,0,0,0,8] (3.2), above the Poisson floor.
    expect(judgeSilence([0, 0, 0, 0, 8], 'count')[0]).toMatchObject({ baseline: { median: 0, sigma: 3.2, samples: 5 }, sigmaFrom: 'spread', z: 0, anomalous: false });
    expect(judgeSilence([400, 410, 390, 405, 395], 'count')[0]).toMatchObject({ value: 0, anomalous: true, streak: 1, baseline: { median: 400, samples: 5 } });
  });

  it('window times stay right over more distinct hours than the times remembered', () => {
    const state = new MemoryStateStore();
    const rule = ruleWith();
    const start = Date.parse('2025-01-01T00:00:00Z');
    state.set(BASELINE_NS, KEY, { agg: 'count', first: start, open: [], buckets: { all: [] }, lastClosed: start, lastData: start });
    const b = new Baselines(state);
    let hour = start + H;
    // One event every 100 h keeps the series out of its week-long silence: 6,000 hours judged, one at a time.
    for (let i = 1; i <= 6000; i++) {
      if (i % 100 === 0) b.add(rule, 'events', { type: 'data_source', id: 's3://raw/clicks' }, 'count', new Date(hour + 60_000).toISOString(), 1, `e-${i}`, hour);
      const ws = b.advance(rule, hour + H);
      for (const w of ws) {
        const s = Date.parse(w.windowStart);
        expect(w.windowStart).toBe(new Date(s).toISOString());
        expect(w.windowEnd).toBe(new Date(s + H).toISOString());
        expect(w.firstSeen).toBe('2025-01-01T00:00:00.000Z');
      }
      expect(ws.at(-1)?.windowStart).toBe(new Date(hour).toISOString());
      hour += H;
    }
  });
});

describe('seasonal buckets (the UTC weekday and hour, by arithmetic)', () => {
  it('a window is learned in the bucket of its UTC weekday and hour, before and after 1970, both seasonalities', () => {
    const times = [Date.parse('1969-12-31T23:00:00Z'), Date.parse('1960-02-29T05:00:00Z'), 0, 3 * H, Date.parse('2026-03-01T23:00:00Z'), Date.parse('2026-03-02T00:00:00Z'), Date.parse('2028-02-29T13:00:00Z')];
    // And 300 hours drawn over 1970-2100 (a fixed sequence: the same every run).
    let x = 12345;
    for (let i = 0; i < 300; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      times.push(Math.floor((x / 2 ** 31) * 1_140_000) * H);
    }
    for (const seasonality of ['hour_of_week', 'weekday_hour'] as const) {
      const rule = resolveRules(RulesConfig.parse({ 'ingestion.volume_anomaly': { learning: '0s', seasonality } })).find((r) => r.id === 'ingestion.volume_anomaly')!;
      for (const t of times) {
        const state = new MemoryStateStore();
        const b = new Baselines(state);
        b.add(rule, 'events', { type: 'data_source', id: 'd' }, 'count', new Date(t + 60_000).toISOString(), 1, 'e', t);
        // Closed by the series' own next value (the engine's clock, which advance() keeps, starts at 1970).
        b.add(rule, 'events', { type: 'data_source', id: 'd' }, 'count', new Date(t + H + 60_000).toISOString(), 1, 'e2', t + H);
        const d = new Date(t);
        const day = d.getUTCDay();
        const want = seasonality === 'hour_of_week' ? `${day}-${d.getUTCHours()}` : `${day === 0 || day === 6 ? 'we' : 'wd'}-${d.getUTCHours()}`;
        const stored = state.get<{ buckets: Record<string, number[]> }>(BASELINE_NS, 'ingestion.volume_anomaly|data_source|d|events')!;
        expect(Object.keys(stored.buckets), `${seasonality} ${d.toISOString()}`).toEqual([want]);
      }
    }
  });
});
