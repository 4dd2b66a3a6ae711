import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig, createRuleEngine } from '../../../core/rules/engine.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { START, hourly, ingestionEvent } from './generate.js';

/**
 * `defaults.statistical` configures every σ part: also those of the mixed kinds (distribution_shift,
 * network_egress, behavioral_drift), as its `n` and `learning` already did. A team that keeps its σ
 * alerts in observe mode until trusted must not see a behavioral_drift σ alert forwarded as `mode: alert`.
 */
const HOUR = 3_600_000;
const at = (ms: number) => new Date(ms).toISOString();

/** An endpoint's prediction mean every hour for 40 days, shifted from 0.5 to 0.9 for 4 hours on day 33. */
function predictions(): NormalizedEvent[] {
  const out: NormalizedEvent[] = [];
  for (let h = 0; h < 40 * 24; h++) {
    const t = START + h * HOUR + 60_000;
    const shifted = Math.floor(h / 24) === 33 && h % 24 >= 10 && h % 24 < 14;
    out.push({
      schema_version: '1', id: `pred-${h}`, time: at(t), received_time: at(t), channel: 'sagemaker.gen', platform: 'sagemaker', stage: 'serving',
      action: 'endpoint.invoke', operation: 'InvokeEndpoint', outcome: 'success', resource: { type: 'endpoint', name: 'churn-prod' },
      ml: { deployment: { endpoint: 'churn-prod' }, metrics: { prediction_mean: shifted ? 0.9 : 0.5 + 0.01 * (((h * 7) % 5) - 2) } },
    } as NormalizedEvent);
  }
  return out;
}

const drift = (cfg: Record<string, unknown>) =>
  replayEvents(predictions(), { rules: RulesConfig.parse(cfg) }).alerts.filter((a) => a.rule_id === 'serving.behavioral_drift').map((a) => [a.mode, a.details.observe_reason]);

describe('defaults.statistical for the σ part of mixed kinds', () => {
  it('mode: observe keeps a behavioral_drift σ alert in observe mode', () => {
    expect(drift({ defaults: { statistical: { mode: 'observe' } } })).toEqual([['observe', 'rule in observe mode']]);
  });

  it('as it does for a statistical kind (the control)', () => {
    const events = hourly(40, 9, () => 5, ingestionEvent('clicks'), [{ day: 33, hour: 10, hours: 4, count: 40 }]);
    const alerts = replayEvents(events, { rules: RulesConfig.parse({ defaults: { statistical: { mode: 'observe' } } }) }).alerts;
    expect(alerts.map((a) => [a.rule_id, a.mode])).toEqual([['ingestion.volume_anomaly', 'observe']]);
  });

  it('near miss: without it the same shift is an alert, and the rule’s own mode still wins', () => {
    expect(drift({})).toEqual([['alert', undefined]]);
    expect(drift({ defaults: { statistical: { mode: 'observe' } }, 'serving.behavioral_drift': { mode: 'alert' } })).toEqual([['alert', undefined]]);
  });

  it('the per-event part keeps defaults.per_event: a monitor violation is still an alert', () => {
    const violation = {
      schema_version: '1', id: 'mon-1', time: at(START + 5 * 86_400_000), received_time: at(START + 5 * 86_400_000), channel: 'sagemaker.gen', platform: 'sagemaker', stage: 'serving',
      action: 'monitor.violation', operation: 'ModelQualityMonitor', outcome: 'success', resource: { type: 'monitoring_schedule', name: 'churn-quality' },
      ml: { deployment: { endpoint: 'churn-prod' } }, details: { monitoring_type: 'ModelQuality' },
    } as NormalizedEvent;
    const alerts = createRuleEngine(RulesConfig.parse({ defaults: { statistical: { mode: 'observe' } } }), new MemoryStateStore()).process(violation);
    expect(alerts.filter((a) => a.rule_id === 'serving.behavioral_drift').map((a) => a.mode)).toEqual(['alert']);
  });

  it('rules list shows the σ part’s mode and suppression of a mixed kind', () => {
    const cat = createRuleEngine(RulesConfig.parse({ defaults: { statistical: { mode: 'observe', suppress: '6h' } } }), new MemoryStateStore()).catalogue();
    expect(cat.find((r) => r.id === 'serving.behavioral_drift')!.settings).toMatchObject({ window_mode: 'observe', window_suppress_ms: 6 * HOUR });
  });
});
