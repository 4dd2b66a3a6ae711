import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig, createRuleEngine } from '../../../core/rules/engine.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';
import { CLI, ROOT } from '../../helpers/fixtures.js';
import { START, diurnal, featureStats, hourly, ingestionEvent, registryWrite, servingFailure, type Spike } from './generate.js';

const at = (ms: number) => new Date(ms).toISOString();

/**
 * Windowed statistical rules with the defaults: 1 h windows, k = 2, a 28-day
 * learning period in observe mode, then an alert after N = 3 consecutive
 * anomalous windows; repeats suppressed per rule + entity.
 */
const run = (events: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts;
const only = (alerts: Alert[], rule: string) => alerts.filter((a) => a.rule_id === rule);
const volume = (spikes: Spike[], days = 35) => hourly(days, 11, (t) => diurnal(t, 6, 2, 1), ingestionEvent('clicks'), spikes);

describe('ingestion.volume_anomaly', () => {
  it('fires after 3 consecutive anomalous hours once the 28-day learning period is over', () => {
    const events = volume([{ day: 30, hour: 10, hours: 3, count: 40 }]);
    const alerts = run(events);
    expect(alerts.map((a) => a.rule_id)).toEqual(['ingestion.volume_anomaly']);
    const a = alerts[0]!;
    expect(a).toMatchObject({ stage: 'ingestion', mode: 'alert', entity: { type: 'data_source', id: 'dataset:clicks' }, count: 3 });
    expect(a.details).toMatchObject({ measure: 'events', value: 40, consecutive: 3, window_start: '2026-04-01T12:00:00.000Z' });
    const spikeIds = new Set(events.filter((e) => e.time >= '2026-04-01T10:00' && e.time < '2026-04-01T13:00').map((e) => e.id));
    expect(a.evidence.length).toBeGreaterThan(0);
    for (const id of a.evidence) expect(spikeIds.has(id)).toBe(true);
    expect(a.time).toBe(events.find((e) => e.id === a.evidence.at(-1))!.time);
  });

  it('near miss: two anomalous hours (N = 3 not reached) raise nothing', () => {
    expect(run(volume([{ day: 30, hour: 10, hours: 2, count: 40 }]))).toEqual([]);
  });

  it('fires on a drop too (direction both): a source that goes quiet in office hours', () => {
    const alerts = run(volume([{ day: 30, hour: 9, hours: 4, count: 0 }]));
    expect(alerts.map((a) => [a.rule_id, (a.details.z as number) < 0])).toEqual([['ingestion.volume_anomaly', true]]);
  });

  it('replay, like serve, does not close windows past its clock: a quiet spell dated days ahead of its receipt is not judged at the end of input', () => {
    // Received on day 31; the last days are dated ahead of that (a bad clock), with a quiet spell on day 33.
    const received = at(START + 31 * 86_400_000);
    const ahead = volume([{ day: 33, hour: 9, hours: 4, count: 0 }]).map((e) => ({ ...e, received_time: received }));
    const inTime = volume([{ day: 30, hour: 9, hours: 4, count: 0 }]).map((e) => ({ ...e, received_time: e.time }));
    expect(only(run(ahead), 'ingestion.volume_anomaly')).toEqual([]);
    // The same spell in time is judged (the control).
    expect(only(run(inTime), 'ingestion.volume_anomaly')).toHaveLength(1);
  });

  it('during the learning period the same spike is an observe-mode alert', () => {
    const alerts = run(volume([{ day: 10, hour: 10, hours: 3, count: 40 }], 14));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ mode: 'observe', details: { observe_reason: 'learning period' } });
  });

  it('a rule in observe mode reports its detections with mode observe', () => {
    const alerts = run(volume([{ day: 30, hour: 10, hours: 3, count: 40 }]), { 'ingestion.volume_anomaly': { mode: 'observe' } });
    expect(alerts.map((a) => [a.rule_id, a.mode])).toEqual([['ingestion.volume_anomaly', 'observe']]);
  });

  it('N and k are per-rule settings (N = 2 fires on the near miss, k = 50 never fires)', () => {
    expect(run(volume([{ day: 30, hour: 10, hours: 2, count: 40 }]), { 'ingestion.volume_anomaly': { n: 2 } })).toHaveLength(1);
    expect(run(volume([{ day: 30, hour: 10, hours: 3, count: 40 }]), { 'ingestion.volume_anomaly': { k: 50 } })).toEqual([]);
  });

  it('suppresses repeats per rule + entity and reports them with count / first_seen / last_seen', () => {
    const events = volume([
      { day: 30, hour: 10, hours: 6, count: 40 },
      { day: 32, hour: 10, hours: 3, count: 40 },
    ]);
    const alerts = run(events);
    expect(alerts).toHaveLength(2);
    const [first, second] = alerts as [Alert, Alert];
    // The run's three windows (N = 3) are its detections.
    expect(first.count).toBe(3);
    // At most 20 ids (README), though the streak of three windows saw 120 events; the alerting window's own last.
    expect(first.evidence).toHaveLength(20);
    expect(second.evidence.length).toBeLessThanOrEqual(20);
    // Hours 13..15 of day 30 were suppressed repeats; day 32's alert stands for them and itself:
    // first_seen is the first of them (an hour after the alert already sent, not that alert), and their events are evidence.
    // Three suppressed windows, then a new run of three.
    expect(second.count).toBe(6);
    expect(second.first_seen).toBe(new Date(Date.parse(first.time) + 3_600_000).toISOString());
    expect(second.last_seen).toBe(second.time);
    const timeOf = new Map(events.map((e) => [e.id, e.time]));
    const suppressed = second.evidence.map((id) => timeOf.get(id)!).filter((t) => t.slice(0, 10) === first.time.slice(0, 10));
    expect(suppressed.length).toBeGreaterThan(0);
    expect(suppressed.every((t) => t > first.time && t < `${first.time.slice(0, 10)}T16`)).toBe(true);
    expect(second.id).not.toBe(first.id);
  });

  it('missing windows: a week-long outage is neither learned nor flagged as a drop', () => {
    const events = volume([]).filter((e) => !(e.time >= '2026-03-23' && e.time < '2026-03-31'));
    expect(run(events)).toEqual([]);
  });
});

describe('registry.modification_rate and serving.error_spike', () => {
  it('modification_rate fires on a burst of registry writes, not on two busy hours', () => {
    const usual = (t: number) => diurnal(t, 2, 0, 0);
    const fire = run(hourly(35, 5, usual, registryWrite, [{ day: 31, hour: 20, hours: 3, count: 25 }]));
    expect(fire.map((a) => [a.rule_id, a.entity.type, a.entity.id, a.mode])).toEqual([['registry.modification_rate', 'registry', 'mlflow', 'alert']]);
    expect(run(hourly(35, 5, usual, registryWrite, [{ day: 31, hour: 20, hours: 2, count: 25 }]))).toEqual([]);
  });

  it('near miss: a burst of registry reads, or of failed ingestion calls, is no write or volume anomaly', () => {
    const usual = (t: number) => diurnal(t, 2, 0, 0);
    const burst = (make: (t: number, n: string) => NormalizedEvent) => hourly(35, 5, () => 0, make, [{ day: 31, hour: 20, hours: 3, count: 25 }]);
    const reads = burst((t, n) => ({ ...registryWrite(t, n), id: `read-${n}`, action: 'model_version.read' }) as NormalizedEvent);
    expect(run([...hourly(35, 5, usual, registryWrite), ...reads].sort((a, b) => a.time.localeCompare(b.time)))).toEqual([]);
    const failures = burst((t, n) => ({ ...ingestionEvent('clicks')(t, n), id: `fail-${n}`, outcome: 'failure', error: { code: 'INTERNAL', message: 'import failed' } }) as NormalizedEvent);
    expect(only(run([...volume([]), ...failures].sort((a, b) => a.time.localeCompare(b.time))), 'ingestion.volume_anomaly')).toEqual([]);
  });

  it('modification_rate counts an S3 upload in parts to a model bucket once, at its completion: its parts are no burst of writes', () => {
    // A model bucket's writes (stage registry) as the SageMaker connector gives them: objects put, and uploads in parts.
    const s3Write = (operation: string) => (t: number, n: string) =>
      ({ ...registryWrite(t, n), id: `${operation}-${n}`, platform: 'sagemaker', operation, action: 'data_object.write', resource: { type: 's3_object', uri: `s3://ml-models/churn/${n}/model.tar.gz` }, ml: { data: { uris: [`s3://ml-models/churn/${n}/model.tar.gz`] } } }) as NormalizedEvent;
    const usual = hourly(35, 5, (t) => diurnal(t, 2, 0, 0), s3Write('PutObject'));
    const burst = (operation: string, count: number) => hourly(35, 5, () => 0, s3Write(operation), [{ day: 31, hour: 20, hours: 3, count }]);
    const byTime = (evs: NormalizedEvent[]) => evs.sort((a, b) => a.time.localeCompare(b.time));
    // Three uploads of a large model in 25 parts each (one an hour), and uploads started or aborted: three writes.
    const parts = [...burst('CreateMultipartUpload', 1), ...burst('UploadPart', 25), ...burst('UploadPartCopy', 5), ...burst('AbortMultipartUpload', 1), ...burst('CompleteMultipartUpload', 1)];
    expect(only(run(byTime([...usual, ...parts])), 'registry.modification_rate')).toEqual([]);
    // 25 uploads completed an hour are a burst of writes.
    expect(only(run(byTime([...usual, ...burst('CompleteMultipartUpload', 25)])), 'registry.modification_rate').map((a) => a.entity.type)).toEqual(['registry']);
  });

  it('modification_rate counts a completion retried under another event id (same upload id) once: a client retrying is no burst of writes', () => {
    // Model-bucket completions as the SageMaker connector gives them, each naming its upload (`details.upload_id`).
    const completion = (upload: (n: string) => string) => (t: number, n: string) => {
      const uri = `s3://ml-models/churn/${upload(n)}/model.tar.gz`;
      return { ...registryWrite(t, n), id: `complete-${upload(n)}-${n}`, platform: 'sagemaker', operation: 'CompleteMultipartUpload', action: 'data_object.write', resource: { type: 's3_object', uri }, details: { upload_id: upload(n) }, ml: { data: { uris: [uri] } } } as NormalizedEvent;
    };
    const usual = hourly(35, 5, (t) => diurnal(t, 2, 0, 0), completion((n) => `u${n}`));
    // Three hours in which two uploads an hour are completed, each completion retried eleven times (24 records an hour).
    const retries = hourly(35, 5, () => 0, completion((n) => `r${n.split('-')[0]}-${Number(n.split('-')[1]) % 2}`), [{ day: 31, hour: 20, hours: 3, count: 24 }]);
    const byTime = (evs: NormalizedEvent[]) => evs.sort((a, b) => a.time.localeCompare(b.time));
    expect(only(run(byTime([...usual, ...retries])), 'registry.modification_rate')).toEqual([]);
    // The same 24 records an hour as 24 uploads are a burst.
    const distinct = hourly(35, 5, () => 0, completion((n) => `d${n}`), [{ day: 31, hour: 20, hours: 3, count: 24 }]);
    expect(only(run(byTime([...usual, ...distinct])), 'registry.modification_rate').map((a) => a.entity.type)).toEqual(['registry']);
  });

  it('error_spike fires on failures above baseline only (a drop to zero errors is good news)', () => {
    const usual = (t: number) => diurnal(t, 1, 0, 0);
    const fire = run(hourly(35, 9, usual, servingFailure('fraud-prod'), [{ day: 30, hour: 10, hours: 3, count: 30 }]));
    expect(fire.map((a) => [a.rule_id, a.stage, a.entity.id])).toEqual([['serving.error_spike', 'serving', 'fraud-prod']]);
    expect(run(hourly(35, 9, usual, servingFailure('fraud-prod'), [{ day: 30, hour: 8, hours: 8, count: 0 }]))).toEqual([]);
  });
});

describe.each([
  { rule: 'ingestion.volume_anomaly', gen: (days: number, spikes: Spike[]) => hourly(days, 11, (t) => diurnal(t, 6, 2, 1), ingestionEvent('clicks'), spikes), count: 40 },
  { rule: 'registry.modification_rate', gen: (days: number, spikes: Spike[]) => hourly(days, 5, (t) => diurnal(t, 2, 0, 0), registryWrite, spikes), count: 25 },
  { rule: 'serving.error_spike', gen: (days: number, spikes: Spike[]) => hourly(days, 9, (t) => diurnal(t, 1, 0, 0), servingFailure('fraud-prod'), spikes), count: 30 },
])('$rule: learning, observe mode, N consecutive, suppression', ({ rule, gen, count }) => {
  it('observes during the 28-day learning period, alerts after it', () => {
    expect(run(gen(14, [{ day: 10, hour: 10, hours: 3, count }])).map((a) => [a.rule_id, a.mode])).toEqual([[rule, 'observe']]);
    expect(run(gen(35, [{ day: 30, hour: 10, hours: 3, count }])).map((a) => [a.rule_id, a.mode])).toEqual([[rule, 'alert']]);
  });
  it('mode: observe reports the same detection as observe', () => {
    expect(run(gen(35, [{ day: 30, hour: 10, hours: 3, count }]), { [rule]: { mode: 'observe' } }).map((a) => a.mode)).toEqual(['observe']);
  });
  it('needs N = 3 consecutive anomalous windows (2 are a near miss; n: 2 makes them enough)', () => {
    expect(run(gen(35, [{ day: 30, hour: 10, hours: 2, count }]))).toEqual([]);
    expect(run(gen(35, [{ day: 30, hour: 10, hours: 2, count }]), { [rule]: { n: 2 } }).map((a) => a.rule_id)).toEqual([rule]);
  });
  it('suppresses repeats of the same entity for 24 h, then reports them in the next alert', () => {
    const alerts = run(gen(35, [{ day: 30, hour: 10, hours: 6, count }, { day: 32, hour: 10, hours: 3, count }]));
    expect(alerts.map((a) => [a.rule_id, a.count])).toEqual([[rule, 3], [rule, 6]]);
    expect(run(gen(35, [{ day: 30, hour: 10, hours: 6, count }, { day: 32, hour: 10, hours: 3, count }]), { [rule]: { suppress: '1h' } }).map((a) => a.count)).toEqual([3, 1, 1, 1, 3]);
  });
});

describe('σ parts of mixed rules', () => {
  it('preprocessing.distribution_shift fires when a feature statistic stays shifted for 3 runs', () => {
    const fire = run(featureStats(40, 3, [33, 34, 35]));
    expect(fire.map((a) => [a.rule_id, a.entity.id, a.details.measure])).toEqual([['preprocessing.distribution_shift', 'dataset:clicks-features', 'null_fraction_user_id']]);
    expect(run(featureStats(40, 3, [33, 35]))).toEqual([]);
  });
});

/** Deterministic noise in [0, 1). */
const noise = (i: number) => {
  const x = Math.sin(i * 12.9898) * 43758.5453;
  return x - Math.floor(x);
};

describe('σ parts of network_egress and behavioral_drift', () => {
  const egress = (spikeDays: number[], spike = 9e9) =>
    Array.from({ length: 40 }, (_, d) => {
      const t = Date.parse('2026-03-02T10:30:00Z') + d * 86_400_000;
      const job = `fraud-train-${d}`;
      return {
        schema_version: '1', id: `egress-${d}`, time: new Date(t).toISOString(), received_time: new Date(t).toISOString(), platform: 'sagemaker', channel: 'sagemaker.gen',
        stage: 'training', action: 'training_job.complete', operation: 'SageMaker Training Job State Change', outcome: 'success',
        resource: { type: 'training_job', name: job }, ml: { job: { name: job }, metrics: { network_egress_bytes: spikeDays.includes(d) ? spike : 1e6 + (d % 5) * 1e4 } },
      } as NormalizedEvent;
    });

  it('training.network_egress fires when a job family sends far more than usual for 3 runs', () => {
    const alerts = run(egress([34, 35, 36]));
    expect(alerts.map((a) => [a.rule_id, a.entity.type, a.entity.id, a.details.measure])).toEqual([['training.network_egress', 'job', 'fraud-train', 'network_egress_bytes']]);
    expect(alerts[0]!.evidence).toEqual(['egress-34', 'egress-35', 'egress-36']);
    expect(run(egress([34, 35]))).toEqual([]);
  });

  it('a weekly job family keeps its baseline between runs (a week without values does not retire it)', () => {
    const weekly = (spikeWeeks: number[]) =>
      egress([]).slice(0, 16).map((e, w) => {
        const t = Date.parse('2026-03-02T10:30:00Z') + w * 7 * 86_400_000;
        const bytes = spikeWeeks.includes(w) ? 9e9 : 1e6 + (w % 5) * 1e4;
        return { ...e, id: `weekly-${w}`, time: new Date(t).toISOString(), received_time: new Date(t).toISOString(), ml: { ...e.ml, job: { name: `fraud-train-${w}` }, metrics: { network_egress_bytes: bytes } } } as NormalizedEvent;
      });
    expect(run(weekly([12, 13, 14])).map((a) => [a.rule_id, a.entity.id, a.mode, a.evidence])).toEqual([['training.network_egress', 'fraud-train', 'alert', ['weekly-12', 'weekly-13', 'weekly-14']]]);
  });

  it('near miss: a job family sending far less than usual for 3 runs is no egress alert (direction above by default)', () => {
    expect(run(egress([34, 35, 36], 1e3))).toEqual([]);
    // The same drop is a detection when the rule is told to look both ways: the runs are anomalous, only the direction spares them.
    expect(run(egress([34, 35, 36], 1e3), { 'training.network_egress': { direction: 'both' } }).map((a) => a.rule_id)).toEqual(['training.network_egress']);
  });

  const outputs = (shift: Spike[]) =>
    hourly(35, 21, () => 2, (t, n) => ({
      schema_version: '1', id: `pred-${n}`, time: new Date(t).toISOString(), received_time: new Date(t).toISOString(), platform: 'vertex', channel: 'vertex.gen',
      stage: 'serving', action: 'endpoint.invoke', operation: 'predict', outcome: 'success', resource: { type: 'endpoint', name: 'ep-9' },
      ml: { deployment: { endpoint: 'ep-9' }, metrics: { prediction_mean: shift.some((s) => Date.parse('2026-03-02T00:00:00Z') + (s.day * 24 + s.hour) * 3_600_000 <= t && t < Date.parse('2026-03-02T00:00:00Z') + (s.day * 24 + s.hour + s.hours) * 3_600_000) ? 0.9 : 0.3 + noise(Number(n.split('-')[0])) * 0.02 } },
    }) as NormalizedEvent);

  it('serving.behavioral_drift fires when an output statistic stays off its baseline for 3 windows', () => {
    const alerts = run(outputs([{ day: 31, hour: 9, hours: 3, count: 0 }]));
    expect(alerts.map((a) => [a.rule_id, a.entity.id, a.details.measure, a.mode])).toEqual([['serving.behavioral_drift', 'ep-9', 'prediction_mean', 'alert']]);
    expect(run(outputs([{ day: 31, hour: 9, hours: 2, count: 0 }]))).toEqual([]);
  });
});

describe('mltrail replay on generated event files', () => {
  it.skipIf(!existsSync(CLI))('the CLI gives the same alerts as the in-process replay', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mltrail-rules-'));
    const events = volume([{ day: 30, hour: 10, hours: 3, count: 40 }]);
    const file = join(dir, 'volume.ndjson');
    writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n'));
    const out = execFileSync(process.execPath, [CLI, 'replay', file], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, MLTRAIL_CONFIG: '' } });
    const alerts = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Alert);
    expect(alerts.map((a) => a.id)).toEqual(run(events).map((a) => a.id));
    expect(only(alerts, 'ingestion.volume_anomaly')).toHaveLength(1);
  });
});

describe('a source lagging behind another (serve order)', () => {
  it('counts a lagging source in its own windows: serve raises what replay raises, not a window judged empty before its events came', async () => {
    const { createRuleEngine } = await import('../../../core/rules/engine.js');
    const { MemoryStateStore } = await import('../../../core/state/index.js');
    const clicks = volume([{ day: 30, hour: 10, hours: 3, count: 40 }]);
    // Another source whose events are stamped 2 h ahead of the clicks they arrive with (a live feed while
    // the clicks come through a queue catching up): before each hour of clicks, one such event.
    const arrival: NormalizedEvent[] = [];
    let hour = '';
    for (const e of clicks) {
      if (e.time.slice(0, 13) !== hour) {
        hour = e.time.slice(0, 13);
        const ahead = new Date(Date.parse(e.time) + 2 * 3_600_000).toISOString();
        arrival.push({ ...ingestionEvent('live-feed')(Date.parse(ahead), `ahead-${hour}`), received_time: ahead });
      }
      arrival.push({ ...e, received_time: e.time });
    }
    const serve = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const served: Alert[] = [];
    for (const e of arrival) served.push(...serve.process(e));
    // As replay ends: windows closed up to the newest event time.
    served.push(...serve.flush(arrival.map((e) => e.time).sort().at(-1)!));
    const replayed = run(arrival);
    const spike = (alerts: Alert[]) => alerts.filter((a) => a.rule_id === 'ingestion.volume_anomaly' && a.entity.id === 'dataset:clicks').map((a) => [a.id, a.details.value, a.details.window_start]);
    expect(spike(replayed)).toEqual([[expect.any(String), 40, '2026-04-01T12:00:00.000Z']]);
    expect(spike(served)).toEqual(spike(replayed));
  });
});

describe('a statistical rule turned off for a while, then on again', () => {
  // Serve as restarts with other configs do: one state, a new engine per config.
  const serveRuns = (runs: Array<[Record<string, unknown>, NormalizedEvent[]]>) => {
    const state = new MemoryStateStore();
    return runs.flatMap(([cfg, events]) => {
      const engine = createRuleEngine(RulesConfig.parse(cfg), state);
      return events.flatMap((e) => engine.process(e, Date.parse(e.time)));
    });
  };
  const learning = { defaults: { statistical: { learning: '3d' } } };
  const events = hourly(35, 11, () => 10, ingestionEvent('ds-1'));
  const days = (from: number, to: number) => events.filter((e) => e.time >= at(START + from * 86_400_000) && e.time < at(START + to * 86_400_000));

  it('does not judge the time it was off as empty windows (no false drop on its return)', () => {
    for (const off of [{ 'ingestion.volume_anomaly': { enabled: false } }, { enabled: true, 'ingestion.volume_anomaly': { enabled: false } }]) {
      const alerts = serveRuns([[learning, days(0, 19)], [{ ...learning, ...off }, days(19, 22)], [learning, days(22, 35)]]);
      expect(only(alerts, 'ingestion.volume_anomaly')).toEqual([]);
    }
  });

  it('near miss: a real drop after its return is still an alert', () => {
    const quiet = days(22, 35).filter((e) => !(e.time >= '2026-03-30T09:00' && e.time < '2026-03-30T14:00'));
    const alerts = only(serveRuns([[learning, days(0, 19)], [{ ...learning, 'ingestion.volume_anomaly': { enabled: false } }, days(19, 22)], [learning, quiet]]), 'ingestion.volume_anomaly');
    expect(alerts.filter((a) => a.mode === 'alert').map((a) => [a.entity.id, (a.details.z as number) < 0])).toEqual([['dataset:ds-1', true]]);
  });
});

/**
 * Exact figures with a generic count rule and no seasonality: 4 events an hour give median 4, MAD 0 and the
 * Poisson floor σ = √4 = 2, so 8 events are z = 2 exactly and 9 events z = 2.5.
 */
describe('baseline boundaries (k, min_samples, min_delta, suppression, late values)', () => {
  const H = 3_600_000;
  const T = Date.parse('2026-05-04T00:00:00Z');
  const counter = (perHour: number[]): NormalizedEvent[] =>
    perHour.flatMap((n, h) =>
      Array.from({ length: n }, (_, i) => {
        const time = at(T + h * H + Math.floor(((i + 0.5) / n) * H));
        return { schema_version: '1', id: `c-${h}-${i}`, time, received_time: time, platform: 'custom', channel: 'custom.gen', stage: 'platform', action: 'secret.read', operation: 'read', outcome: 'success', resource: { type: 'vault', name: 'kv' } } as NormalizedEvent;
      }),
    );
  const rule = (extra: Record<string, unknown> = {}) => ({ custom: [{ id: 'platform.reads', kind: 'statistical', stage: 'platform', measure: 'count', seasonality: 'none', learning: '0s', ...extra }] });
  const fired = (perHour: number[], extra: Record<string, unknown> = {}) => only(run(counter(perHour), rule(extra)), 'platform.reads');
  const flat = (n: number, v = 4) => new Array<number>(n).fill(v);

  it('fires only when |z| is more than k: z = 2 exactly is no anomaly with k = 2, z = 2.5 is', () => {
    expect(fired([...flat(10), 8, 8, 8, ...flat(2)])).toEqual([]);
    const a = fired([...flat(10), 9, 9, 9, ...flat(2)]);
    expect(a.map((x) => [x.details.consecutive, x.details.baseline_median, x.details.baseline_sigma])).toEqual([[3, 4, 2]]);
    expect(a[0]!.details.z).toBe(2.5);
  });

  it('trusts a baseline from min_samples (default 8) earlier windows, not before', () => {
    // 8 windows before the run: its first window is judged, three in a row reach N = 3.
    expect(fired([...flat(8), 40, 40, 40, ...flat(2)]).map((x) => x.details.window_start)).toEqual([at(T + 10 * H)]);
    // 7 before: the first window of the run has too few samples to be judged, so the run is two windows long.
    expect(fired([...flat(7), 40, 40, 40, ...flat(2)])).toEqual([]);
    expect(fired([...flat(7), 40, 40, 40, ...flat(2)], { min_samples: 7 })).toHaveLength(1);
  });

  it('min_delta: a deviation smaller than it is no anomaly, however many σ it is', () => {
    expect(fired([...flat(10), 40, 40, 40, ...flat(2)])).toHaveLength(1);
    expect(fired([...flat(10), 40, 40, 40, ...flat(2)], { min_delta: 50 })).toEqual([]);
  });

  it('the baseline keeps the latest `history` samples: a new level becomes the norm, and a spike above it still stands out', () => {
    const perHour = [...flat(8, 4), ...flat(12, 40), 70, 70, 70, ...flat(2, 40)];
    const values = fired(perHour, { history: 8, suppress: '1h' }).map((x) => x.details.value);
    expect(values).toContain(70);
    // The shift itself was anomalous only until it filled half the history.
    expect(values.filter((v) => v === 40).length).toBeLessThanOrEqual(3);
  });

  it('a value for a window already judged is late and ignored (it does not judge the window again)', () => {
    const engine = createRuleEngine(RulesConfig.parse(rule({ n: 1 })), new MemoryStateStore());
    const events = counter([...flat(12, 10), 10, 10]);
    const out: Alert[] = [];
    for (const e of events) out.push(...engine.process(e, Date.parse(e.time)));
    expect(only(out, 'platform.reads')).toEqual([]);
    // One straggler of hour 12, the window judged last (the clock is past its end + 20 min grace).
    const late = { ...events.find((e) => e.id === 'c-12-0')!, id: 'late-12' };
    const lateOut = engine.process(late, Date.parse('2026-05-04T13:50:00Z'));
    const next = counter([...flat(14, 0), 10]).map((e) => ({ ...e, id: `n-${e.id}` }));
    for (const e of next) lateOut.push(...engine.process(e, Date.parse(e.time)));
    lateOut.push(...engine.flush(at(T + 15 * H)));
    expect(only(lateOut, 'platform.reads')).toEqual([]);
  });
});

describe('defaults the statistical rules rely on', () => {
  it('repeats of a long anomalous run are suppressed for 24 h: a 12-hour surge is one alert', () => {
    const alerts = run(volume([{ day: 30, hour: 8, hours: 12, count: 40 }]));
    expect(alerts.map((a) => [a.rule_id, a.count])).toEqual([['ingestion.volume_anomaly', 3]]);
  });

  it('the first detection after the learning period is an alert, though an observe-mode one was sent hours before', () => {
    const alerts = run(
      volume([
        { day: 29, hour: 19, hours: 3, count: 40 },
        { day: 30, hour: 9, hours: 3, count: 40 },
      ]),
      { 'ingestion.volume_anomaly': { learning: '30d' } },
    );
    expect(alerts.map((a) => [a.rule_id, a.mode, a.details.window_start])).toEqual([
      ['ingestion.volume_anomaly', 'observe', '2026-03-31T21:00:00.000Z'],
      ['ingestion.volume_anomaly', 'alert', '2026-04-01T11:00:00.000Z'],
    ]);
  });
});

describe("the README's model-extraction recipe (serving.inference_volume)", () => {
  /** The README's `rules:` example, as a user copies it into their config. */
  const readmeRules = () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('```yaml\nrules:\n  approval:');
    const file = join(mkdtempSync(join(tmpdir(), 'mltrail-readme-')), 'rules.yaml');
    writeFileSync(file, readme.slice(start + 8, readme.indexOf('```', start + 8)));
    return loadConfig({ file, env: {} }).rules;
  };
  const invoke = (caller: string) => (t: number, n: string) =>
    ({ schema_version: '1', id: `inv-${caller}-${n}`, time: at(t), received_time: at(t), platform: 'vertex', channel: 'vertex.gen', stage: 'serving', action: 'endpoint.invoke', operation: 'google.cloud.aiplatform.v1.PredictionService.Predict', outcome: 'success', actor: { id: caller, email: caller, type: 'user' }, resource: { type: 'endpoint', name: 'projects/p/locations/us-central1/endpoints/42' } }) as NormalizedEvent;

  it("fires on one caller's burst of prediction calls, entity that caller; the steady caller beside it raises nothing", () => {
    const rules = readmeRules();
    const steady = hourly(35, 3, (t) => diurnal(t, 20, 2, 2), invoke('app-backend@p.iam.gserviceaccount.com'));
    const scraper = hourly(35, 5, (t) => diurnal(t, 3, 0, 0), invoke('contractor-7@corp.example'), [{ day: 31, hour: 1, hours: 4, count: 400 }]);
    const events = [...steady, ...scraper].sort((a, b) => a.time.localeCompare(b.time));
    const alerts = only(replayEvents(events, { rules }).alerts, 'serving.inference_volume');
    expect(alerts.map((a) => [a.mode, a.entity.id])).toEqual([['alert', 'contractor-7@corp.example']]);
    expect(alerts[0]!.details).toMatchObject({ value: 400 });
  });
});
