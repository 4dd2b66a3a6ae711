import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';

/**
 * The σ a baseline with no spread is given (an error metric that was always 0). It used to be 1e-9, so the
 * first single error after a clean history was z ≈ 1e9; now counts get a Poisson floor, fractions a tenth of
 * a percentage point, and `min_sigma` sets it in the measure's unit. Judged one window at a time (n: 1), one
 * seasonal bucket, no learning period: 12 clean hours, then the hour under test.
 */
const H = 3_600_000;
const T = Date.parse('2026-05-04T00:00:00Z');
const at = (ms: number) => new Date(ms).toISOString();

/** One monitor report an hour on one endpoint, with `metric` = 0 for 12 hours, then `last`, then 0 again. */
function reports(metric: string, last: number): NormalizedEvent[] {
  return Array.from({ length: 15 }, (_, h) => {
    const time = at(T + h * H + 30 * 60_000);
    return {
      schema_version: '1', id: `m-${h}`, time, received_time: time, platform: 'custom', channel: 'custom.gen',
      stage: 'serving', action: 'endpoint.status_change', operation: 'metrics', outcome: 'unknown',
      resource: { type: 'endpoint', name: 'ep-1' }, ml: { deployment: { endpoint: 'ep-1' }, metrics: { [metric]: h === 12 ? last : 0 } },
    } as NormalizedEvent;
  });
}

const spikes = (events: NormalizedEvent[], extra: Record<string, unknown> = {}) =>
  replayEvents(events, { rules: RulesConfig.parse({ 'serving.error_spike': { seasonality: 'none', learning: '0s', n: 1, ...extra } }) }).alerts.filter((a: Alert) => a.rule_id === 'serving.error_spike');
const figures = (a: Alert) => [a.details.value, a.details.baseline_sigma, a.details.sigma_from, a.details.z];

describe('σ of an error count that was always 0', () => {
  it('one error after a clean history is z = 1 (Poisson), no alert', () => {
    expect(spikes(reports('errors_5xx', 1))).toEqual([]);
  });

  it('a burst after a clean history still alerts, with the z it was judged by', () => {
    expect(spikes(reports('errors_5xx', 40)).map(figures)).toEqual([[40, 1, 'poisson', 40]]);
  });
});

describe('σ of an error rate (a fraction) that was always 0', () => {
  it('a small rate after a clean history is no alert (0.05 % is z = 0.5)', () => {
    expect(spikes(reports('error_rate', 0.0005))).toEqual([]);
  });

  it('30 % after a clean history still alerts', () => {
    expect(spikes(reports('error_rate', 0.3)).map(figures)).toEqual([[0.3, 0.001, 'fraction', 300]]);
  });

  it('min_sigma sets the floor in the measure’s unit: 0.5 % is an alert by default, not with min_sigma 0.01', () => {
    expect(spikes(reports('error_rate', 0.005)).map((a) => a.details.z)).toEqual([5]);
    expect(spikes(reports('error_rate', 0.005), { min_sigma: 0.01 })).toEqual([]);
    expect(spikes(reports('error_rate', 0.3), { min_sigma: 0.01 }).map(figures)).toEqual([[0.3, 0.01, 'min_sigma', 30]]);
  });

  it('min_sigma is a per-rule setting, a positive number (config check)', () => {
    expect((RulesConfig.parse({ 'serving.error_spike': { min_sigma: 0.01 } }) as Record<string, unknown>)['serving.error_spike']).toMatchObject({ min_sigma: 0.01 });
    expect(RulesConfig.parse({ custom: [{ id: 'platform.reads', kind: 'statistical', stage: 'platform', min_sigma: 2 }] }).custom[0]).toMatchObject({ min_sigma: 2 });
    expect(() => RulesConfig.parse({ 'serving.error_spike': { min_sigma: 0 } })).toThrow(/min_sigma/);
    expect(() => RulesConfig.parse({ defaults: { statistical: { min_sigma: 1 } } })).toThrow(/min_sigma/);
  });
});

describe('σ of a failure rate that was always 0 (requests known)', () => {
  /** 200 Predict calls an hour, none failing for 12 hours, then `failures` of them in hour 12. */
  const calls = (failures: number): NormalizedEvent[] =>
    Array.from({ length: 15 * 200 }, (_, i) => {
      const h = Math.floor(i / 200);
      const time = at(T + h * H + (i % 200) * 15_000);
      const failed = h === 12 && i % 200 < failures;
      return {
        schema_version: '1', id: `p-${i}`, time, received_time: time, platform: 'vertex', channel: 'vertex.gen',
        stage: 'serving', action: 'endpoint.invoke', operation: 'Predict', outcome: failed ? 'failure' : 'success',
        resource: { type: 'endpoint', name: 'ep-2' }, ml: { deployment: { endpoint: 'ep-2' } },
      } as NormalizedEvent;
    });

  it('one failure in 200 requests is z = 1, no alert; 20 are z = 20', () => {
    expect(spikes(calls(1))).toEqual([]);
    expect(spikes(calls(20)).map(figures)).toEqual([[0.1, 0.005, 'poisson', 20]]);
  });
});
