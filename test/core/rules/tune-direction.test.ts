import { describe, expect, it } from 'vitest';
import { RulesConfig, createRuleEngine } from '../../../core/rules/engine.js';
import { tuneReport } from '../../../core/rules/tune.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';
import { START, ingestionEvent, rng } from './generate.js';

/**
 * `rules tune` suggests k from the z-scores of judged windows. Only windows in the rule's direction can be
 * detections: a `direction: below` rule watching a feed with routine backfill bursts must not be told to
 * raise k past every drop because of the bursts (and an `above` rule because of quiet holidays).
 */
const HOUR = 3_600_000;
const at = (ms: number) => new Date(ms).toISOString();

/** About 20 imports an hour for 60 days, 60 more in ~6 % of hours (ad-hoc backfills), none for 4 hours on `outageDay`. */
function feed(outageDay = -1): NormalizedEvent[] {
  const r = rng(7);
  const poisson = (l: number) => {
    let k = 0;
    for (let p = r(); p > Math.exp(-l); p *= r()) k++;
    return k;
  };
  const out: NormalizedEvent[] = [];
  const make = ingestionEvent('clicks');
  for (let h = 0; h < 60 * 24; h++) {
    let n = poisson(20) + (r() < 0.06 ? 60 : 0);
    if (Math.floor(h / 24) === outageDay && h % 24 >= 10 && h % 24 < 14) n = 0;
    for (let i = 0; i < n; i++) out.push(make(START + h * HOUR + Math.floor(((i + 0.5) / n) * HOUR), `${h}-${i}`));
  }
  return out;
}

const cfg = (k?: number) => RulesConfig.parse({ 'ingestion.volume_anomaly': { direction: 'below', measures: ['events'], ...(k ? { k } : {}) } });

function serve(events: NormalizedEvent[], rules: RulesConfig): { alerts: Alert[]; state: MemoryStateStore } {
  const state = new MemoryStateStore();
  const engine = createRuleEngine(rules, state);
  const alerts = events.flatMap((e) => engine.process(e, Date.parse(e.time)));
  alerts.push(...engine.flush(events.at(-1)!.time));
  return { alerts, state };
}

describe('rules tune: k from the windows in the rule’s direction', () => {
  it('a drop-only rule on a feed with backfill bursts: the suggested k still catches a 4-hour outage', () => {
    const { state } = serve(feed(), cfg());
    const row = tuneReport(cfg(), state, at(START).slice(0, 10)).find((x) => x.rule_id === 'ingestion.volume_anomaly')!;
    expect(row.windows).toBeGreaterThan(168);
    const k = row.suggested.k!;
    expect(k).toBeLessThanOrEqual(3);
    const outage = serve(feed(50), cfg(k)).alerts.filter((a) => a.rule_id === 'ingestion.volume_anomaly' && a.mode === 'alert');
    expect(outage.map((a) => [a.details.window_start, (a.details.z as number) < 0])).toEqual([['2026-04-21T12:00:00.000Z', true]]);
  });

  it('near miss: a rule that looks both ways still counts the bursts', () => {
    const both = RulesConfig.parse({ 'ingestion.volume_anomaly': { direction: 'both', measures: ['events'] } });
    const { state } = serve(feed(), both);
    const row = tuneReport(both, state, at(START).slice(0, 10)).find((x) => x.rule_id === 'ingestion.volume_anomaly')!;
    expect(row.suggested.k).toBeGreaterThan(3);
  });
});
