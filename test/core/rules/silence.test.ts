import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig, createRuleEngine } from '../../../core/rules/engine.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';
import { START, hourly, ingestionEvent, servingFailure } from './generate.js';

/**
 * A source that goes silent for longer than a week while other sources keep the engine's clock moving (a
 * connector paused for three weeks, a dataset whose imports were moved elsewhere and back). README: empty
 * windows count 0, a silence of more than a week is an outage, skipped.
 */
const DAY_MS = 86_400_000;
const at = (ms: number) => new Date(ms).toISOString();
const only = (alerts: Alert[], id: string) => alerts.filter((a) => a.rule_id === 'ingestion.volume_anomaly' && a.entity.id === id);

/** 6 events an hour from `paused` (silent on days [from, to)) and from `steady`, for `days` days. */
function twoSources(days: number, from: number, to: number): NormalizedEvent[] {
  const steady = hourly(days, 3, () => 6, ingestionEvent('steady'));
  const paused = hourly(days, 5, () => 6, ingestionEvent('paused')).filter((e) => e.time < at(START + from * DAY_MS) || e.time >= at(START + to * DAY_MS));
  return [...steady, ...paused];
}

describe('a source silent for more than a week while others keep sending', () => {
  const events = twoSources(70, 35, 56);
  const back = at(START + 56 * DAY_MS);
  const weekIn = at(START + 42 * DAY_MS);

  it('its usual traffic after the silence is no spike: the weeks of silence are not learned as zeros', () => {
    const alerts = only(replayEvents(events, { rules: RulesConfig.parse({}) }).alerts, 'dataset:paused');
    expect(alerts.filter((a) => a.time >= back).map((a) => [a.time, a.details.value, a.details.baseline_median])).toEqual([]);
  });

  it('near miss: going quiet is still a drop, in the first week of the silence', () => {
    const alerts = only(replayEvents(events, { rules: RulesConfig.parse({}) }).alerts, 'dataset:paused');
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts.every((a) => (a.details.z as number) < 0 && a.time < weekIn)).toBe(true);
  });

  it('serve (receipt order, ticking on quiet nights) raises what replay raises', () => {
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const sorted = [...events].sort((a, b) => a.time.localeCompare(b.time));
    const served = sorted.flatMap((e) => engine.process(e, Date.parse(e.time)));
    served.push(...engine.flush(sorted.at(-1)!.time));
    const replayed = replayEvents(events, { rules: RulesConfig.parse({}) }).alerts;
    const ids = (a: Alert[]) => only(a, 'dataset:paused').map((x) => x.id);
    expect(ids(served)).toEqual(ids(replayed));
  });
});

describe('the whole input silent for more than a week (an outage)', () => {
  it('is skipped to its end: the hours just before the input comes back are no drop', () => {
    // Busy at night too (6 an hour), so two or three empty windows before the return would be a drop.
    const events = hourly(35, 7, () => 6, ingestionEvent('clicks')).filter((e) => !(e.time >= '2026-03-23' && e.time < '2026-03-31'));
    expect(only(replayEvents(events, { rules: RulesConfig.parse({}) }).alerts, 'dataset:clicks')).toEqual([]);
  });
});

describe('a series whose silence is its norm (failures of a healthy endpoint)', () => {
  it('keeps counting its quiet weeks as 0: a burst of failures weeks after the last one is still a spike', () => {
    // One failure on day 1, none for seven weeks, then 10 an hour for 3 hours on day 50.
    const make = servingFailure('churn-prod');
    const events: NormalizedEvent[] = [make(START + 86_400_000 + 10 * 3_600_000, 'first')];
    for (let h = 0; h < 3; h++) for (let i = 0; i < 10; i++) events.push(make(START + 50 * DAY_MS + (10 + h) * 3_600_000 + i * 60_000, `burst-${h}-${i}`));
    // Another source keeps the clock moving hour by hour, as live traffic does.
    events.push(...hourly(52, 3, () => 2, ingestionEvent('steady')));
    const alerts = replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'serving.error_spike');
    expect(alerts.map((a) => [a.mode, a.details.window_start, a.details.baseline_median])).toEqual([['alert', '2026-04-21T12:00:00.000Z', 0]]);
  });
});
