import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { KIND_NS, RulesConfig, createRuleEngine } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { MemoryStateStore } from '../../core/state/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * serving.monitoring_disabled's held stops: the sweep run on every event read every held stop's record (up to 500 of
 * them, each a state read) to learn which were due. The index now keeps each stop's wait start, so a sweep reads the
 * index only and loads the stops it judges; an index written by an earlier mltrail (bare ids) still works.
 */

let n = 0;
const MIN = 60_000;
const T0 = Date.parse('2026-11-27T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const RULE = 'serving.monitoring_disabled';

function sm(eventName: string, params: Record<string, unknown>, min: number, who = 'alice'): NormalizedEvent {
  const r = ctRecord(eventName, params, { eventID: `mdh-${++n}`, eventTime: iso(T0 + min * MIN) });
  (r.userIdentity as { arn: string }).arn = `arn:aws:sts::111122223333:assumed-role/MLEngineer/${who}`;
  return normOne(r);
}
const stop = (name: string, min: number) => sm('StopMonitoringSchedule', { monitoringScheduleName: name }, min, 'mallory');
const start = (name: string, min: number) => sm('StartMonitoringSchedule', { monitoringScheduleName: name }, min);
const other = (min: number) => sm('DescribeEndpoint', { endpointName: 'other' }, min);

/** A MemoryStateStore counting reads of held stops' own records (`…|held|<id>`). */
class CountingStore extends MemoryStateStore {
  heldReads = 0;
  override get<T>(ns: string, key: string): T | undefined {
    if (ns === KIND_NS && key.startsWith(`${RULE}|held|`)) this.heldReads++;
    return super.get<T>(ns, key);
  }
}

function run(state: MemoryStateStore, events: NormalizedEvent[]): Alert[] {
  const engine = createRuleEngine(RulesConfig.parse({}), state);
  const out: Alert[] = [];
  // Each record received as it is made.
  for (const e of events) out.push(...engine.process({ ...e, received_time: e.time }, Date.parse(e.time)));
  return out.filter((a) => a.rule_id === RULE);
}

describe('serving.monitoring_disabled: held stops are swept from the index', () => {
  it('an event while 300 stops wait within the grace reads none of their records; the due one alone is loaded', () => {
    const state = new CountingStore();
    run(state, Array.from({ length: 300 }, (_, i) => stop(`s${i}`, i * 0.01)));
    state.heldReads = 0;
    expect(run(state, [other(5)])).toEqual([]);
    expect(state.heldReads).toBe(0);
    // 16 minutes after the first stops (grace 15m): only those due are read and reported.
    const a = run(state, [other(15 + 0.025)]);
    expect(a.map((x) => x.details.monitor)).toEqual(['s0', 's1', 's2']);
    expect(state.heldReads).toBe(3);
  });

  it('the index keeps when each wait started: persisted, a restarted engine judges the stops (restart within the grace excuses)', () => {
    const state = new MemoryStateStore();
    run(state, [stop('fraud-dq', 0), stop('churn-dq', 1)]);
    const index = state.get<Array<Record<string, unknown>>>(KIND_NS, `${RULE}|held-index`);
    expect(index?.map((r) => [r.mon, r.at])).toEqual([['mon|sagemaker|111122223333:us-east-1:fraud-dq', T0], ['mon|sagemaker|111122223333:us-east-1:churn-dq', T0 + MIN]]);
    // Another engine on the same state (a bridge restarted): churn-dq restarted in time, fraud-dq not.
    expect(run(state, [start('churn-dq', 10), other(20)]).map((a) => a.details.monitor)).toEqual(['fraud-dq']);
    expect(state.get(KIND_NS, `${RULE}|held-index`)).toBeUndefined();
    expect(state.list(KIND_NS, `${RULE}|held|`)).toEqual([]);
  });

  it('an index of bare ids (written by an earlier mltrail) is read, rewritten with wait starts, and its stops judged as before', () => {
    const state = new MemoryStateStore();
    run(state, [stop('fraud-dq', 0), stop('churn-dq', 1), stop('gone-dq', 2)]);
    const key = `${RULE}|held-index`;
    const ids = state.get<Array<{ id: string }>>(KIND_NS, key)!.map((r) => r.id);
    // The old shape: ids only, each stop's record holding its wait start. One record lost: dropped from the index.
    state.set(KIND_NS, key, ids);
    state.delete(KIND_NS, `${RULE}|held|${ids[2]}`);
    expect(run(state, [other(5)])).toEqual([]);
    expect(state.get<Array<Record<string, unknown>>>(KIND_NS, key)?.map((r) => [r.id, r.at])).toEqual([[ids[0], T0], [ids[1], T0 + MIN]]);
    expect(run(state, [start('churn-dq', 6), other(30)]).map((a) => [a.details.monitor, a.evidence])).toEqual([['fraud-dq', [ids[0]]]]);
  });

  it('an endpoint deleted finds its held stops through the index (teardown), leaving the others', () => {
    const state = new MemoryStateStore();
    const sched = (name: string, ep: string) => sm('CreateMonitoringSchedule', { monitoringScheduleName: name, monitoringScheduleConfig: { monitoringType: 'DataQuality', monitoringJobDefinition: { monitoringInputs: [{ endpointInput: { endpointName: ep, localPath: '/opt/ml/processing/input' } }] } } }, 0);
    const a = run(state, [sched('fraud-dq', 'fraud-ep'), sched('churn-dq', 'churn-ep'), stop('fraud-dq', 1), stop('churn-dq', 1), sm('DeleteEndpoint', { endpointName: 'fraud-ep' }, 3), other(30)]);
    expect(a.map((x) => x.details.monitor)).toEqual(['churn-dq']);
  });
});

describe('serving.monitoring_disabled: held stops at the end of a replay', () => {
  // Records replayed after they were made (as an export is): received when made.
  const replayed = (events: NormalizedEvent[]) => replayEvents(events.map((e) => ({ ...e, received_time: e.time })), { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === RULE);

  it('a stop whose grace had not run out by the last event is reported marked pending, at low severity; one past its grace is the finding as before', () => {
    const a = replayed([stop('fraud-dq', 0), other(7)]);
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ severity: 'low', time: new Date(T0).toISOString(), details: { change: 'stopped', monitor: 'fraud-dq', grace_elapsed: false, input_ended: new Date(T0 + 7 * MIN).toISOString() } });
    expect(a[0]!.summary).toContain('the input ended 7m later, within the grace period');
    expect(a[0]!.summary).toContain(`replay input reaching past ${new Date(T0 + 15 * MIN).toISOString()} would tell`);

    const done = replayed([stop('fraud-dq', 0), other(16)]);
    expect(done).toHaveLength(1);
    expect(done[0]!.severity).toBe('medium');
    expect(done[0]!.details.grace_elapsed).toBeUndefined();
    expect(done[0]!.summary).toContain('neither restarted it nor deleted the endpoint within the grace period');
  });

  it('a stop restarted before the end of input is still no finding', () => {
    expect(replayed([stop('fraud-dq', 0), start('fraud-dq', 3), other(5)])).toEqual([]);
  });
});
