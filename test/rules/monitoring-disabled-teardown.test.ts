import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { KIND_NS, RulesConfig, createRuleEngine } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { MemoryStateStore } from '../../core/state/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * serving.monitoring_disabled, checked as an MLOps team tearing stacks down and as an attacker: a schedule naming a
 * job definition (the CloudFormation form) deleted with its endpoint, a schedule cleaned up days after its endpoint,
 * a stop read after its endpoint's later deletion, and the rule's state over many endpoints and configs.
 */

let n = 0;
const MIN = 60_000;
const T0 = Date.parse('2026-11-27T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function sm(eventName: string, params: Record<string, unknown>, min: number, who = 'alice'): NormalizedEvent {
  const r = ctRecord(eventName, params, { eventID: `mtd-${++n}`, eventTime: iso(T0 + min * MIN) });
  (r.userIdentity as { arn: string }).arn = `arn:aws:sts::111122223333:assumed-role/MLEngineer/${who}`;
  return normOne(r);
}

const RULE = 'serving.monitoring_disabled';
const fired = (events: NormalizedEvent[]): Alert[] => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === RULE);
const def = (min: number, ep = 'fraud-ep') => sm('CreateDataQualityJobDefinition', { jobDefinitionName: 'fraud-dq-def', dataQualityJobInput: { endpointInput: { endpointName: ep, localPath: '/opt/ml/processing/input' } } }, min);
const namedSchedule = (min: number) => sm('CreateMonitoringSchedule', { monitoringScheduleName: 'fraud-dq', monitoringScheduleConfig: { monitoringJobDefinitionName: 'fraud-dq-def', monitoringType: 'DataQuality', scheduleConfig: { scheduleExpression: 'cron(0 * ? * * *)' } } }, min);
const inlineSchedule = (min: number) =>
  sm('CreateMonitoringSchedule', { monitoringScheduleName: 'fraud-dq', monitoringScheduleConfig: { monitoringType: 'DataQuality', monitoringJobDefinition: { monitoringInputs: [{ endpointInput: { endpointName: 'fraud-ep', localPath: '/opt/ml/processing/input' } }] } } }, min);
const delSchedule = (min: number, who?: string) => sm('DeleteMonitoringSchedule', { monitoringScheduleName: 'fraud-dq' }, min, who);
const stopSchedule = (min: number, who?: string) => sm('StopMonitoringSchedule', { monitoringScheduleName: 'fraud-dq' }, min, who);
const delEndpoint = (min: number, ep = 'fraud-ep') => sm('DeleteEndpoint', { endpointName: ep }, min);

describe('serving.monitoring_disabled: teardowns are not findings', () => {
  it('a schedule naming a job definition, deleted with the definition and its endpoint seconds apart (a stack teardown), is no finding', () => {
    expect(fired([def(0), namedSchedule(1), delSchedule(60), sm('DeleteDataQualityJobDefinition', { jobDefinitionName: 'fraud-dq-def' }, 60.2), delEndpoint(60.5)])).toEqual([]);
    // The same schedule stopped with its endpoint left serving: a finding, naming the endpoint the definition watches.
    const a = fired([def(0), namedSchedule(1), stopSchedule(60, 'mallory'), sm('DescribeEndpoint', { endpointName: 'x' }, 120)]);
    expect(a.map((x) => [x.details.change, x.details.endpoint, x.entity.id])).toEqual([['stopped', 'fraud-ep', '111122223333:us-east-1:fraud-ep']]);
  });

  it('a schedule deleted days after its endpoint (clean-up of a monitor watching nothing) is no finding; re-created, the endpoint is watched again', () => {
    expect(fired([inlineSchedule(0), delEndpoint(10), delSchedule(3 * 1440)])).toEqual([]);
    expect(fired([inlineSchedule(0), delEndpoint(10), sm('CreateEndpoint', { endpointName: 'fraud-ep', endpointConfigName: 'c' }, 20), delSchedule(3 * 1440), sm('DescribeEndpoint', { endpointName: 'x' }, 4 * 1440)]).map((a) => a.details.change)).toEqual(['deleted']);
  });
});

describe('serving.monitoring_disabled: a stop read out of order', () => {
  it('a stop read after the deletion of its endpoint a day later (the endpoint served unwatched that day) is a finding', () => {
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const rcv = T0 + 2 * 1440 * MIN;
    const out: Alert[] = [];
    // The delete is read first; the stop, dated a day before it, arrives late.
    for (const [e, r] of [[inlineSchedule(0), T0], [delEndpoint(1440), rcv], [stopSchedule(5, 'mallory'), rcv + MIN], [sm('DeleteEndpoint', { endpointName: 'other-ep' }, 2 * 1440 + 30), rcv + 30 * MIN]] as const) out.push(...engine.process({ ...e, received_time: new Date(r).toISOString() }, r));
    expect(out.filter((a) => a.rule_id === RULE).map((a) => [a.details.change, a.details.identity])).toEqual([['stopped', 'mallory']]);
  });
});

describe('serving.monitoring_disabled: state stays bounded', () => {
  it('deleted endpoint configs and endpoints leave no capture, config or logging state; remembered deletions expire', () => {
    const state = new MemoryStateStore();
    const engine = createRuleEngine(RulesConfig.parse({}), state);
    const cfg = (name: string, min: number) => sm('CreateEndpointConfig', { endpointConfigName: name, productionVariants: [{ variantName: 'A', modelName: 'm' }], dataCaptureConfig: { enableCapture: true, initialSamplingPercentage: 100, destinationS3Uri: 's3://cap/x' } }, min);
    // A CI redeploy a day for 60 days: a fresh endpoint and config each time, torn down after.
    for (let day = 0; day < 60; day++) {
      const m = day * 1440;
      for (const e of [cfg(`cfg-${day}`, m), sm('CreateEndpoint', { endpointName: `ep-${day}`, endpointConfigName: `cfg-${day}` }, m + 1), delEndpoint(m + 60, `ep-${day}`), sm('DeleteEndpointConfig', { endpointConfigName: `cfg-${day}` }, m + 61)]) engine.process(e, Date.parse(e.time));
    }
    const keys = state.list(KIND_NS).map((k) => k.key).filter((k) => k.startsWith(`${RULE}`));
    expect(keys.filter((k) => /\|(cap|ep)\|/.test(k))).toEqual([]);
    const gone = state.get<Record<string, number>>(KIND_NS, keys.find((k) => k.endsWith('gone'))!)!;
    // 35 days kept: the first 24 days' deletions are forgotten.
    expect(Object.keys(gone)).toHaveLength(36);
    expect(Object.keys(gone)[0]).toContain('ep-24');
  });
});

describe('serving.monitoring_disabled: capture of requests or responses only', () => {
  const cfg = (name: string, min: number, modes: string[]) =>
    sm('CreateEndpointConfig', { endpointConfigName: name, productionVariants: [{ variantName: 'A', modelName: 'm' }], dataCaptureConfig: { enableCapture: true, initialSamplingPercentage: 100, destinationS3Uri: 's3://cap/x', captureOptions: modes.map((captureMode) => ({ captureMode })) } }, min);
  const deploy = (op: string, config: string, min: number) => sm(op, { endpointName: 'fraud-ep', endpointConfigName: config }, min);

  it('an UpdateEndpoint onto a config capturing Input only (Output was captured) alerts; the same modes in another order do not', () => {
    const a = fired([cfg('v1', 0, ['Input', 'Output']), deploy('CreateEndpoint', 'v1', 1), cfg('v2', 2, ['Input']), deploy('UpdateEndpoint', 'v2', 3)]);
    expect(a.map((x) => x.details.change)).toEqual(['captures less']);
    expect(a[0]!.summary).toContain('was 100 % to s3://cap/x of Input and Output, now 100 % to s3://cap/x of Input');
    expect(fired([cfg('v1', 0, ['Input', 'Output']), deploy('CreateEndpoint', 'v1', 1), cfg('v2', 2, ['Output', 'Input']), deploy('UpdateEndpoint', 'v2', 3)])).toEqual([]);
  });

  it('a monitor deleted in a teardown leaves no settings behind', () => {
    const state = new MemoryStateStore();
    const engine = createRuleEngine(RulesConfig.parse({}), state);
    for (const e of [inlineSchedule(0), delEndpoint(10), delSchedule(11)]) engine.process(e, Date.parse(e.time));
    expect(state.list(KIND_NS).map((k) => k.key).filter((k) => k.startsWith(`${RULE}|mon|`))).toEqual([]);
  });
});
