import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig, createRuleEngine } from '../../../core/rules/engine.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { HOUR, T0, actors, at, ev } from '../../rules/events.js';

/** A training job whose image is not pinned: one training.unverified_dependency detection per event. */
const job = (id: string, hours: number) =>
  ev({ id, time: at(T0 + hours * HOUR), platform: 'sagemaker', stage: 'training', action: 'training_job.create', actor: actors.ci, resource: { type: 'training_job', name: 'nightly' }, ml: { job: { name: 'nightly', image: 'python:3.11', network_isolation: true } } });

const run = (hours: number[], rules: Record<string, unknown> = {}) =>
  replayEvents(hours.map((h, i) => job(`j${i}`, h)), { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === 'training.unverified_dependency');

describe('per-event detections: N consecutive and suppression (24 h)', () => {
  it('an alert after suppressed repeats reports them: count, first/last seen and evidence since the last alert sent', () => {
    const [first, second, ...rest] = run([0, 1, 2, 25, 26]);
    expect(rest).toEqual([]);
    expect([first!.count, first!.first_seen, first!.last_seen, first!.evidence]).toEqual([1, at(T0), at(T0), ['j0']]);
    // 1 h and 2 h were suppressed; the 25 h detection is sent and stands for them and itself (not for the 0 h one, already sent).
    expect([second!.count, second!.first_seen, second!.last_seen, second!.evidence]).toEqual([3, at(T0 + HOUR), at(T0 + 25 * HOUR), ['j1', 'j2', 'j3']]);
    expect(second!.time).toBe(at(T0 + 25 * HOUR));
  });

  it('with n: 2 the alert lists the events of the streak that made the case, and later alerts only what came after', () => {
    const alerts = run([0, 1, 2, 25], { 'training.unverified_dependency': { n: 2 } });
    expect(alerts.map((a) => [a.time, a.count, a.first_seen, a.evidence])).toEqual([
      [at(T0 + HOUR), 2, at(T0), ['j0', 'j1']],
      [at(T0 + 25 * HOUR), 2, at(T0 + 2 * HOUR), ['j2', 'j3']],
    ]);
    // A lone detection below N is no alert.
    expect(run([0], { 'training.unverified_dependency': { n: 2 } })).toEqual([]);
  });

  it('the evidence a streak keeps is bounded', () => {
    const hours = Array.from({ length: 30 }, (_, i) => i * 0.5);
    const [alert] = run(hours, { 'training.unverified_dependency': { n: 30 } });
    expect(alert!.evidence).toHaveLength(20);
    expect(alert!.evidence.at(-1)).toBe('j29');
  });

  it('a detection dated far ahead (a bad clock) does not mute the ones that follow until its date', () => {
    // In arrival order, as serve sees it (replay would sort the far one last), each received as it happens.
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const arrivals: Array<[NormalizedEvent, number]> = [[job('j-future', 24 * 365 * 70), 0], [job('j1', 2), 2], [job('j2', 48), 48], [job('j3', 96), 96]];
    const alerts = arrivals.flatMap(([e, h]) => engine.process(e, T0 + h * HOUR)).filter((a) => a.rule_id === 'training.unverified_dependency');
    expect(alerts.map((a) => a.evidence.at(-1))).toEqual(['j-future', 'j2', 'j3']);
  });

  it('in serve, events dated far ahead interleaved with real ones do not switch suppression off (counted at receipt + 1 h)', () => {
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const far = (id: string) => job(id, 24 * 365 * 70);
    const arrivals: Array<[NormalizedEvent, number]> = [[job('j1', 0), 0], [far('f1'), 0.2], [job('j2', 0.4), 0.4], [far('f2'), 0.6], [job('j3', 0.8), 0.8]];
    const alerts = arrivals.flatMap(([e, h]) => engine.process(e, T0 + h * HOUR)).filter((a) => a.rule_id === 'training.unverified_dependency');
    expect(alerts.map((a) => a.evidence.at(-1))).toEqual(['j1']);
  });

  it('in serve, events arriving out of order across days are suppressed like the replay of them (a backfill beside live data)', () => {
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const order = [0, 39, 1, 38, 2, 37];
    const served = order.map((h, i) => engine.process(job(`o${i}`, h), T0 + 40 * HOUR + i * 60_000)).flat().filter((a) => a.rule_id === 'training.unverified_dependency');
    const replayed = replayEvents(order.map((h, i) => job(`o${i}`, h)), { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'training.unverified_dependency');
    expect(served).toHaveLength(replayed.length);
    expect(replayed).toHaveLength(2);
  });

  it('in serve, a backfill of last month for an entity that alerts daily is alerted as replay alerts it, not held back until the next live one', () => {
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const live = Array.from({ length: 10 }, (_, d) => job(`live${d}`, 720 + d * 25));
    const receipt = (e: NormalizedEvent) => Date.parse(e.time);
    const liveAlerts = live.flatMap((e) => engine.process(e, receipt(e))).filter((a) => a.rule_id === 'training.unverified_dependency');
    expect(liveAlerts).toHaveLength(10);
    const now = receipt(live.at(-1)!) + HOUR;
    const backfill = [0, 1, 30].map((h, i) => job(`bf${i}`, h));
    const raised = backfill.flatMap((e) => engine.process(e, now)).filter((a) => a.rule_id === 'training.unverified_dependency');
    const replayed = replayEvents(backfill, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'training.unverified_dependency');
    expect(raised.map((a) => [a.time, a.count, a.evidence])).toEqual(replayed.map((a) => [a.time, a.count, a.evidence]));
    expect(raised.map((a) => a.evidence)).toEqual([['bf0'], ['bf1', 'bf2']]);
    // …and the live run goes on as before: the next live repeat within a day is still held back.
    expect(engine.process(job('live-next', 720 + 9 * 25 + 2), now).filter((a) => a.rule_id === 'training.unverified_dependency')).toEqual([]);
  });

  it('times with an offset are compared as instants: first_seen is the earliest, whatever its spelling', () => {
    // 12:10+02:00 is 10:10Z, before 10:20Z.
    const events = [job('e1', 0), { ...job('e2', 0), time: '2026-03-02T12:10:00+02:00' }, job('e3', 20 / 60), job('e4', 25)];
    const [, second] = replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'training.unverified_dependency');
    expect([second!.first_seen, second!.evidence]).toEqual(['2026-03-02T10:10:00.000Z', ['e2', 'e3', 'e4']]);
  });
});

describe('alert size', () => {
  it('an alert copies at most 2 KB of any text from its event (a 1 MB error message made a 2 MB alert)', () => {
    const huge = 'AccessDenied: '.padEnd(1_000_000, 'x');
    const failure = ev({ id: 'big', time: at(T0), platform: 'sagemaker', stage: 'ingestion', action: 'source.auth_failure', outcome: 'failure', error: { code: 'AccessDenied', message: huge }, actor: { type: 'unknown', ip: '203.0.113.9' }, resource: { type: 'bucket', id: 'b' } });
    const [alert] = replayEvents([failure], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'ingestion.source_auth_failure');
    expect(alert).toBeDefined();
    expect(JSON.stringify(alert).length).toBeLessThan(10_000);
    expect(alert!.summary).toMatch(/characters\)/);
    expect(alert!.evidence).toEqual(['big']);
  });
});

describe('ingestion.source_auth_failure at the bridge', () => {
  it('refusals from many addresses on one route are one alert a day, counting the rest (not one per address)', () => {
    const refused = (i: number, h: number) =>
      ev({ id: `r${i}`, time: at(T0 + h * HOUR), platform: 'mlflow', channel: 'mlflow.webhook', stage: 'ingestion', action: 'ingest.auth_failure', operation: 'bridge.authenticate', service: 'mltrail', outcome: 'failure', error: { code: 'MLTRAIL_ERR_SIGNATURE', message: 'invalid X-MLflow-Signature' }, actor: { type: 'unknown', ip: `2001:db8::${i.toString(16)}` }, resource: { type: 'ingest_route', id: 'mlflow.webhook' } });
    const events = [...Array.from({ length: 500 }, (_, i) => refused(i, i / 100)), refused(999, 30)];
    const alerts = replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'ingestion.source_auth_failure');
    expect(alerts.map((a) => [a.entity.id, a.count])).toEqual([['mlflow.webhook', 1], ['mlflow.webhook', 500]]);
  });
});

describe('ingestion.source_auth_failure on a platform', () => {
  it('one principal denied object after object is one finding per principal, counted (not one alert per object)', () => {
    const denied = (i: number, h: number, user: string) =>
      ev({ id: `d${i}`, time: at(T0 + h * HOUR), platform: 'sagemaker', stage: 'ingestion', action: 'data_object.read', operation: 'GetObject', service: 's3.amazonaws.com', outcome: 'failure', error: { code: 'AccessDenied', message: 'Access Denied' }, actor: { type: 'user', email: user }, resource: { type: 's3_object', name: `fraud/day${i}.parquet` }, ml: { data: { uris: [`s3://raw-data/fraud/day${i}.parquet`] } } });
    const events = [0, 1, 2, 3].map((i) => denied(i, i / 60, 'mallory@corp.example'));
    events.push(denied(4, 0.1, 'bob@corp.example'), denied(5, 30, 'mallory@corp.example'));
    const alerts = replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'ingestion.source_auth_failure');
    expect(alerts.map((a) => [a.entity.type, a.entity.id, a.count])).toEqual([
      ['identity', 'mallory@corp.example', 1],
      ['identity', 'bob@corp.example', 1],
      ['identity', 'mallory@corp.example', 4],
    ]);
    // What was refused stays on the alert.
    expect(alerts[0]!.details).toMatchObject({ principal: 'mallory@corp.example', target: { type: 'data_source', id: 's3://raw-data' } });
  });
});

describe('count with n > 1', () => {
  it('counts every detection its evidence carries: the suppressed repeats and the streak below N that made the case', () => {
    // n 2, suppress 1 h: 0:00 0:05 | alert; 0:10 0:40 suppressed; 2:20 below N, 2:25 alert (the hunt's case: count was 3 of 4).
    const denied = (i: number, min: number) =>
      ev({ id: `d${i}`, time: at(T0 + min * 60_000), platform: 'sagemaker', stage: 'ingestion', action: 'data_object.read', operation: 'GetObject', outcome: 'failure', error: { code: 'AccessDenied', message: 'Access Denied' }, actor: { type: 'user', email: 'mallory@corp.example' }, ml: { data: { uris: ['s3://raw-data/fraud/x.parquet'] } } });
    const events = [0, 5, 10, 40, 140, 145].map((m, i) => denied(i, m));
    const rules = RulesConfig.parse({ 'ingestion.source_auth_failure': { n: 2, suppress: '1h' } });
    const alerts = replayEvents(events, { rules }).alerts.filter((a) => a.rule_id === 'ingestion.source_auth_failure');
    expect(alerts.map((a) => [a.count, a.evidence.length, a.first_seen])).toEqual([
      [2, 2, at(T0)],
      [4, 4, at(T0 + 10 * 60_000)],
    ]);
  });
});
