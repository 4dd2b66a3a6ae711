import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';

/**
 * serving.error_spike judges the failure rate of an endpoint whose requests are known (`measure: rate`, the
 * default), so busier traffic at the same rate is no spike, while a burst of failures on steady traffic is.
 * One seasonal bucket and no learning period keep the figures small: two days of hourly windows.
 */
const H = 3_600_000;
const T = Date.parse('2026-05-04T00:00:00Z');
const at = (ms: number) => new Date(ms).toISOString();
const HOURS = 2 * 24;
/** The changed hours: 3 consecutive windows on day 2 (N = 3). */
const changed = (h: number) => h >= 24 + 10 && h < 24 + 13;

const rules = (extra: Record<string, unknown> = {}) => RulesConfig.parse({ 'serving.error_spike': { seasonality: 'none', learning: '0s', ...extra } });
const spikes = (events: NormalizedEvent[], extra: Record<string, unknown> = {}) =>
  replayEvents(events, { rules: rules(extra) }).alerts.filter((a: Alert) => a.rule_id === 'serving.error_spike');

/**
 * Vertex AI Predict calls on one endpoint (Data Access audit log entries): about 200 an hour with every
 * 50th failing (2 %); `busy` hours serve three times as many at the same rate, `extra` adds failures.
 */
function predictions(opts: { busy?: (h: number) => boolean; extra?: (h: number) => number } = {}): NormalizedEvent[] {
  const out: NormalizedEvent[] = [];
  for (let h = 0; h < HOURS; h++) {
    const usual = 190 + ((h * 7) % 21);
    const n = opts.busy?.(h) ? 3 * usual : usual;
    const failures = opts.extra?.(h) ?? 0;
    const total = n + failures;
    for (let i = 0; i < total; i++) {
      const failed = i >= n || i % 50 === 49;
      const time = at(T + h * H + Math.floor(((i + 0.5) / total) * H));
      out.push({
        schema_version: '1', id: `p-${h}-${i}`, time, received_time: time, platform: 'vertex', channel: 'vertex.gen',
        stage: 'serving', action: 'endpoint.invoke', operation: 'google.cloud.aiplatform.v1.PredictionService.Predict', outcome: failed ? 'failure' : 'success',
        ...(failed ? { error: { code: 'INTERNAL', message: 'model server error' } } : {}),
        resource: { type: 'endpoint', name: 'fraud-prod' }, ml: { deployment: { endpoint: 'fraud-prod' } },
      } as NormalizedEvent);
    }
  }
  return out;
}

describe('serving.error_spike on an endpoint whose requests are events (measure: rate)', () => {
  it('three times the traffic at the same 2 % error rate is no spike (it was, counting failures)', () => {
    const busy = predictions({ busy: changed });
    expect(spikes(busy)).toEqual([]);
    // The setting keeps the counts an operator may want: the same hours are then a spike of failures.
    expect(spikes(busy, { measure: 'count' }).map((a) => [a.entity.id, a.details.measure])).toEqual([['fraud-prod', 'failures']]);
  });

  it('a burst of failures on steady traffic still alerts, with the window’s failures and requests', () => {
    const alerts = spikes(predictions({ extra: (h) => (changed(h) ? 30 : 0) }));
    expect(alerts.map((a) => [a.entity.id, a.mode, a.details.measure, a.details.consecutive])).toEqual([['fraud-prod', 'alert', 'failure_rate', 3]]);
    const d = alerts[0]!.details as Record<string, number>;
    expect(d.numerator).toBeGreaterThanOrEqual(30);
    expect(d.value).toBeCloseTo(d.numerator / d.denominator, 12);
    // The z reported is the one judged: (value − median) / σ, σ being the floor that set it.
    expect(d.z).toBeCloseTo((d.value - d.baseline_median) / d.baseline_sigma, 9);
    expect(d.z).toBeGreaterThan(2);
  });

  it('near miss: a few more failures than usual at the usual traffic are no spike', () => {
    expect(spikes(predictions({ extra: (h) => (changed(h) ? 3 : 0) }))).toEqual([]);
  });
});

/** CloudWatch `AWS/SageMaker` figures for one endpoint, one event every 10 minutes (Sums of the period). */
function cloudwatch(at10: (h: number) => { invocations: number; errors: number }): NormalizedEvent[] {
  const out: NormalizedEvent[] = [];
  for (let h = 0; h < HOURS; h++) {
    for (let m = 0; m < 6; m++) {
      const time = at(T + h * H + m * 600_000);
      const { invocations, errors } = at10(h);
      out.push({
        schema_version: '1', id: `cw-${h}-${m}`, time, received_time: time, platform: 'sagemaker', channel: 'sagemaker.metrics',
        stage: 'serving', action: 'endpoint.status_change', operation: 'GetMetricData', outcome: 'success',
        resource: { type: 'endpoint', name: 'churn-prod' }, ml: { deployment: { endpoint: 'churn-prod' }, metrics: { Invocations: invocations, Invocation5XXErrors: errors } },
      } as NormalizedEvent);
    }
  }
  return out;
}

describe('serving.error_spike on an error count next to a request count (CloudWatch Invocation5XXErrors with Invocations)', () => {
  const usual = (h: number) => 100 + ((h * 7) % 11);

  it('divides the errors by the invocations: three times the invocations at the same rate is no spike', () => {
    const busy = cloudwatch((h) => {
      const n = changed(h) ? 3 * usual(h) : usual(h);
      return { invocations: n, errors: Math.round(n / 50) };
    });
    expect(spikes(busy)).toEqual([]);
    expect(spikes(busy, { measure: 'count' }).map((a) => a.details.measure)).toEqual(['Invocation5XXErrors']);
  });

  it('a burst of errors at the usual invocations alerts on the rate', () => {
    const burst = cloudwatch((h) => ({ invocations: usual(h), errors: changed(h) ? 30 : Math.round(usual(h) / 50) }));
    const alerts = spikes(burst);
    expect(alerts.map((a) => [a.entity.id, a.details.measure, a.details.consecutive])).toEqual([['churn-prod', 'Invocation5XXErrors/Invocations', 3]]);
    expect(alerts[0]!.details).toMatchObject({ numerator: 180, denominator: 6 * usual(24 + 12) });
  });
});

describe('serving.error_spike where only failures arrive (no request known)', () => {
  it('still counts them: a source that reports errors only has no rate to judge', () => {
    const failuresOnly = predictions({ extra: (h) => (changed(h) ? 30 : 0) }).filter((e) => e.outcome === 'failure');
    expect(spikes(failuresOnly).map((a) => [a.entity.id, a.details.measure])).toEqual([['fraud-prod', 'failures']]);
  });
});

describe('a custom error_spike rule on another figure (README: serving.latency_spike on ModelLatency)', () => {
  it('judges the figure itself next to Invocations, not the figure per invocation', () => {
    const events = cloudwatch((h) => ({ invocations: changed(h) ? 300 : 100, errors: 0 })).map((e, i) => {
      const h = Math.floor(i / 6);
      return { ...e, ml: { ...e.ml, metrics: { Invocations: e.ml!.metrics!.Invocations!, ModelLatency: h >= 24 + 20 && h < 24 + 23 ? 900_000 : 40_000 + (h % 5) * 1000 } } } as NormalizedEvent;
    });
    const latency = replayEvents(events, { rules: RulesConfig.parse({ custom: [{ id: 'serving.latency_spike', kind: 'error_spike', stage: 'serving', metrics: ['ModelLatency'], seasonality: 'none', learning: '0s' }] }) }).alerts;
    expect(latency.map((a) => [a.rule_id, a.details.measure, a.details.value])).toEqual([['serving.latency_spike', 'ModelLatency', 900_000]]);
  });
});
