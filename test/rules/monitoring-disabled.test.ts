import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, fx, normOne } from '../connectors/sagemaker/helpers.js';
import { LOC, V1, V1B, auditEntry, normOne as vertexOne } from '../connectors/vertex/samples.js';

/**
 * serving.monitoring_disabled end to end from CloudTrail records and Cloud Audit Log entries: before, a Model Monitor
 * schedule stopped or deleted, an endpoint moved onto a config without data capture, a Vertex monitoring job paused or
 * an endpoint's request-response logging switched off were normalized and raised nothing.
 */

let n = 0;
const MIN = 60_000;
const T0 = Date.parse('2026-11-27T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** A SageMaker CloudTrail record at T0 + `min` minutes, by `who` (a role session of MLEngineer). */
function sm(eventName: string, params: Record<string, unknown>, min: number, who = 'alice', errorCode?: string): NormalizedEvent {
  const r = ctRecord(eventName, params, { eventID: `mon-${++n}`, eventTime: iso(T0 + min * MIN), ...(errorCode ? { errorCode, errorMessage: 'x' } : {}) });
  (r.userIdentity as { arn: string }).arn = `arn:aws:sts::111122223333:assumed-role/MLEngineer/${who}`;
  return normOne(r);
}

/** The AWS documentation's CreateEndpoint record (fixture), as a CreateEndpoint or UpdateEndpoint of `endpoint` onto `config`. */
function endpointCall(eventName: 'CreateEndpoint' | 'UpdateEndpoint', endpoint: string, config: string, min: number): NormalizedEvent {
  const r = structuredClone(fx('cloudtrail-sagemaker-createendpoint.awsdocs.json')) as Record<string, unknown>;
  Object.assign(r, { eventName, eventID: `mon-${++n}`, eventTime: iso(T0 + min * MIN), requestParameters: { endpointName: endpoint, endpointConfigName: config } });
  return normOne(r);
}

function endpointConfig(name: string, min: number, capture?: Record<string, unknown>): NormalizedEvent {
  const r = ctRecord('CreateEndpointConfig', { endpointConfigName: name, productionVariants: [{ variantName: 'AllTraffic', modelName: 'fraud-m1', initialInstanceCount: 1, instanceType: 'ml.m5.xlarge' }], ...(capture ? { dataCaptureConfig: capture } : {}) }, { eventID: `mon-${++n}`, eventTime: iso(T0 + min * MIN) });
  // The fixture's account: the endpoint calls built from it are made there.
  r.recipientAccountId = '444455556666';
  r.awsRegion = 'us-west-2';
  return normOne(r);
}

function fired(events: NormalizedEvent[], rules: Record<string, unknown> = {}): Alert[] {
  return replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === 'serving.monitoring_disabled');
}

const FULL = { enableCapture: true, initialSamplingPercentage: 100, destinationS3Uri: 's3://ml-capture/fraud', captureOptions: [{ captureMode: 'Input' }, { captureMode: 'Output' }] };
const schedule = (endpoint?: string) => ({
  monitoringScheduleName: 'fraud-dq',
  monitoringScheduleConfig: {
    monitoringType: 'DataQuality',
    scheduleConfig: { scheduleExpression: 'cron(0 * ? * * *)' },
    ...(endpoint
      ? { monitoringJobDefinition: { monitoringInputs: [{ endpointInput: { endpointName: endpoint, localPath: '/opt/ml/processing/input' } }], baselineConfig: { constraintsResource: { s3Uri: 's3://ml-monitor/baseline/constraints.json' } } } }
      : { monitoringJobDefinitionName: 'fraud-dq-def' }),
  },
});

describe('SageMaker endpoint data capture (serving.monitoring_disabled)', () => {
  it('normalizes a config capture: enabled (default true), sampling percentage, capture modes, destination', () => {
    expect(endpointConfig('c1', 0, FULL).ml?.deployment?.data_capture).toEqual({ enabled: true, destination: 's3://ml-capture/fraud', sampling_percentage: 100, capture_modes: ['Input', 'Output'] });
    const { enableCapture: _e, ...noFlag } = FULL;
    expect(endpointConfig('c2', 0, noFlag).ml?.deployment?.data_capture).toMatchObject({ enabled: true });
  });

  it('an UpdateEndpoint onto a config without capture alerts, naming the capture it had', () => {
    const events = [endpointConfig('fraud-cfg-v1', 0, FULL), endpointCall('CreateEndpoint', 'fraud-ep', 'fraud-cfg-v1', 1), endpointConfig('fraud-cfg-v2', 2), endpointCall('UpdateEndpoint', 'fraud-ep', 'fraud-cfg-v2', 3)];
    const a = fired(events);
    expect(a).toHaveLength(1);
    expect(a[0]!.entity).toMatchObject({ type: 'endpoint', id: '444455556666:us-west-2:fraud-ep' });
    expect(a[0]!.details).toMatchObject({ what: 'data_capture', change: 'switched off', previous_config: 'fraud-cfg-v1', config: 'fraud-cfg-v2', previous: { enabled: true, sampling: 100, destination: 's3://ml-capture/fraud' }, now: { enabled: false } });
    expect(a[0]!.summary).toContain('was 100 % to s3://ml-capture/fraud, now off');
    expect(a[0]!.evidence).toEqual([events[3]!.id]);
  });

  it('capture disabled, sampled less or sent to another bucket alerts; the same capture, or a config never seen, does not', () => {
    const base = [endpointConfig('v1', 0, FULL), endpointCall('CreateEndpoint', 'fraud-ep', 'v1', 1)];
    const to = (cap: Record<string, unknown> | undefined, name: string) => fired([...base, endpointConfig(name, 2, cap), endpointCall('UpdateEndpoint', 'fraud-ep', name, 3)]).map((a) => a.details.change);
    expect(to({ ...FULL, enableCapture: false }, 'off')).toEqual(['switched off']);
    expect(to({ ...FULL, initialSamplingPercentage: 5 }, 'low')).toEqual(['sampled less']);
    expect(to({ ...FULL, destinationS3Uri: 's3://elsewhere/x' }, 'moved')).toEqual(['sent elsewhere']);
    expect(to(FULL, 'same')).toEqual([]);
    // v9's CreateEndpointConfig was never read: nothing says its capture is off.
    expect(fired([...base, endpointCall('UpdateEndpoint', 'fraud-ep', 'v9', 3)])).toEqual([]);
  });

  it('ignore_endpoints (a test endpoint) and exempt identities are not judged', () => {
    const events = [endpointConfig('v1', 0, FULL), endpointCall('CreateEndpoint', 'fraud-test', 'v1', 1), endpointConfig('v2', 2), endpointCall('UpdateEndpoint', 'fraud-test', 'v2', 3)];
    // The fixture's caller is the IAM user intern.
    expect(fired(events)).toHaveLength(1);
    expect(fired(events, { 'serving.monitoring_disabled': { ignore_endpoints: ['*-test'] } })).toEqual([]);
    expect(fired(events, { 'serving.monitoring_disabled': { exempt: ['intern'] } })).toEqual([]);
  });
});

describe('SageMaker Model Monitor schedules (serving.monitoring_disabled)', () => {
  it('normalizes what a schedule watches: endpoint, job definition, baseline, schedule', () => {
    expect(sm('CreateMonitoringSchedule', schedule('fraud-ep'), 0).details).toMatchObject({ monitored_endpoint: 'fraud-ep', monitoring_type: 'DataQuality', baseline_constraints: 's3://ml-monitor/baseline/constraints.json', schedule_expression: 'cron(0 * ? * * *)' });
    expect(sm('UpdateMonitoringSchedule', schedule(), 0).details).toMatchObject({ monitoring_job_definition: 'fraud-dq-def' });
    expect(sm('CreateDataQualityJobDefinition', { jobDefinitionName: 'd', dataQualityJobInput: { endpointInput: { endpointName: 'fraud-ep' } } }, 0).details).toMatchObject({ monitoring_job_definition: 'd', monitored_endpoint: 'fraud-ep' });
  });

  it('a schedule stopped and not restarted within the grace alerts, dated at the stop, naming what it ran', () => {
    const create = sm('CreateMonitoringSchedule', schedule('fraud-ep'), 0);
    const stop = sm('StopMonitoringSchedule', { monitoringScheduleName: 'fraud-dq' }, 10, 'mallory');
    const later = sm('DescribeEndpoint', { endpointName: 'other' }, 40);
    const a = fired([create, stop, later]);
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ time: new Date(T0 + 10 * MIN).toISOString(), evidence: [stop.id], entity: { type: 'endpoint', id: '111122223333:us-east-1:fraud-ep' } });
    expect(a[0]!.details).toMatchObject({ change: 'stopped', monitor: 'fraud-dq', endpoint: 'fraud-ep', identity: 'mallory', previous_seen: true, previous: { baseline_constraints: 's3://ml-monitor/baseline/constraints.json' } });
  });

  it('stopped and started again within the grace (an automation redeploying it) is no finding; after it, it is', () => {
    const stop = () => sm('StopMonitoringSchedule', { monitoringScheduleName: 'fraud-dq' }, 10);
    expect(fired([stop(), sm('StartMonitoringSchedule', { monitoringScheduleName: 'fraud-dq' }, 14)])).toEqual([]);
    expect(fired([stop(), sm('StartMonitoringSchedule', { monitoringScheduleName: 'fraud-dq' }, 30)])).toHaveLength(1);
    expect(fired([stop(), sm('StartMonitoringSchedule', { monitoringScheduleName: 'fraud-dq' }, 14)], { 'serving.monitoring_disabled': { grace: '2m' } })).toHaveLength(1);
  });

  it('a schedule deleted with its endpoint (either order, within the grace) is a teardown, not a finding', () => {
    const create = () => sm('CreateMonitoringSchedule', schedule('fraud-ep'), 0);
    const del = (min: number) => sm('DeleteMonitoringSchedule', { monitoringScheduleName: 'fraud-dq' }, min);
    const delEp = (min: number) => sm('DeleteEndpoint', { endpointName: 'fraud-ep' }, min);
    expect(fired([create(), del(10), delEp(12)])).toEqual([]);
    expect(fired([create(), delEp(10), del(12)])).toEqual([]);
    // Another endpoint deleted: still a finding.
    expect(fired([create(), del(10), sm('DeleteEndpoint', { endpointName: 'other-ep' }, 12)]).map((a) => a.details.change)).toEqual(['deleted']);
  });

  it('an UpdateMonitoringSchedule onto another job definition alerts with the one before; a failed call does not', () => {
    const create = sm('CreateMonitoringSchedule', schedule(), 0);
    const upd = sm('UpdateMonitoringSchedule', { monitoringScheduleName: 'fraud-dq', monitoringScheduleConfig: { monitoringJobDefinitionName: 'fraud-dq-lax', monitoringType: 'DataQuality' } }, 5);
    const a = fired([create, upd]);
    expect(a.map((x) => x.details.changes)).toEqual([['job definition fraud-dq-def → fraud-dq-lax']]);
    expect(fired([create, sm('UpdateMonitoringSchedule', { monitoringScheduleName: 'fraud-dq', monitoringScheduleConfig: { monitoringJobDefinitionName: 'fraud-dq-lax' } }, 5, 'alice', 'ValidationException')])).toEqual([]);
    expect(fired([sm('StopMonitoringSchedule', { monitoringScheduleName: 'fraud-dq' }, 5, 'alice', 'AccessDenied')])).toEqual([]);
  });
});

describe('Vertex AI monitoring and request-response logging (serving.monitoring_disabled)', () => {
  const JOB = `${LOC}/modelDeploymentMonitoringJobs/123`;
  const EP = `${LOC}/endpoints/456`;
  const at = (min: number) => new Date(T0 + min * MIN).toISOString();
  const job = (rpc: string, min: number, request: Record<string, unknown> = { name: JOB }, resourceName = JOB) => vertexOne(auditEntry({ method: `${V1}JobService.${rpc}`, resourceName, request, timestamp: at(min) }));
  const endpoint = (rpc: string, min: number, request: Record<string, unknown>, resourceName = EP) => vertexOne(auditEntry({ method: `${V1}EndpointService.${rpc}`, resourceName, request, timestamp: at(min) }));
  const logging = (cfg: Record<string, unknown>, mask = 'predict_request_response_logging_config') => ({ endpoint: { name: EP, predictRequestResponseLoggingConfig: cfg }, updateMask: mask });

  it('a paused monitoring job alerts; paused and resumed within the grace does not', () => {
    expect(fired([job('PauseModelDeploymentMonitoringJob', 0)]).map((a) => a.details.change)).toEqual(['paused']);
    expect(fired([job('PauseModelDeploymentMonitoringJob', 0), job('ResumeModelDeploymentMonitoringJob', 5)])).toEqual([]);
  });

  it('a job deleted with its endpoint is a teardown; a v2 model monitor deleted alerts', () => {
    const create = job('CreateModelDeploymentMonitoringJob', 0, { parent: LOC, modelDeploymentMonitoringJob: { displayName: 'fraud-mon', endpoint: EP } }, LOC);
    expect(create.details?.monitored_endpoint).toBe(EP);
    // Creates log the parent: the job's own name comes with its response; here the delete names the endpoint itself.
    const del = job('DeleteModelDeploymentMonitoringJob', 10);
    expect(fired([del, endpoint('DeleteEndpoint', 12, { name: EP })]).map((a) => a.details.change)).toEqual(['deleted']);
    const monitor = `${LOC}/modelMonitors/789`;
    expect(fired([vertexOne(auditEntry({ method: `${V1B}ModelMonitoringService.DeleteModelMonitor`, resourceName: monitor, request: { name: monitor }, timestamp: at(0) }))]).map((a) => a.details.what)).toEqual(['model_monitor']);
  });

  it("a job created for an endpoint, then deleted with that endpoint, is a teardown: the create's response names the job, its request the endpoint", () => {
    // CreateModelDeploymentMonitoringJob is not long-running: the audit entry logs the parent as resourceName, the
    // request's modelDeploymentMonitoringJob.endpoint, and the created job (name with the project number) as response.
    const NUM = 'projects/987654321012/locations/us-central1';
    const create = vertexOne(auditEntry({
      method: `${V1}JobService.CreateModelDeploymentMonitoringJob`, resourceName: LOC, timestamp: at(0),
      request: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.CreateModelDeploymentMonitoringJobRequest', parent: LOC, modelDeploymentMonitoringJob: { displayName: 'fraud-mon', endpoint: EP } },
      response: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.ModelDeploymentMonitoringJob', name: `${NUM}/modelDeploymentMonitoringJobs/123`, displayName: 'fraud-mon', endpoint: `${NUM}/endpoints/456`, state: 'JOB_STATE_PENDING' },
    }));
    expect([create.resource?.id, create.details?.monitored_endpoint]).toEqual([JOB, EP]);
    const del = job('DeleteModelDeploymentMonitoringJob', 10);
    // Either order within the grace: no finding.
    expect(fired([create, del, endpoint('DeleteEndpoint', 12, { name: EP })])).toEqual([]);
    expect(fired([create, endpoint('DeleteEndpoint', 8, { name: EP }), del])).toEqual([]);
    // The job deleted and its endpoint kept: reported, naming the endpoint learnt from the create.
    expect(fired([create, del]).map((a) => [a.details.change, a.details.endpoint])).toEqual([['deleted', EP]]);
  });

  it("the endpoint is read from the create's response when its request was not logged", () => {
    const NUM = 'projects/987654321012/locations/us-central1';
    const create = vertexOne(auditEntry({
      method: `${V1}JobService.CreateModelDeploymentMonitoringJob`, resourceName: LOC, timestamp: at(0), request: { parent: LOC },
      response: { name: `${NUM}/modelDeploymentMonitoringJobs/123`, endpoint: `${NUM}/endpoints/456` },
    }));
    expect(create.details?.monitored_endpoint).toBe(EP);
    expect(fired([create, job('DeleteModelDeploymentMonitoringJob', 10), endpoint('DeleteEndpoint', 12, { name: EP })])).toEqual([]);
  });

  it('an update changing what is monitored alerts; a display-name or label update does not', () => {
    const upd = (mask: string) => job('UpdateModelDeploymentMonitoringJob', 0, { modelDeploymentMonitoringJob: { name: JOB }, updateMask: mask });
    expect(fired([upd('model_deployment_monitoring_objective_configs')]).map((a) => a.details.changes)).toEqual([['changed model_deployment_monitoring_objective_configs']]);
    expect(fired([upd('display_name,labels')])).toEqual([]);
  });

  it('request-response logging switched off or sampled less alerts with what it was', () => {
    const create = endpoint('CreateEndpoint', 0, { parent: LOC, endpoint: { displayName: 'fraud', predictRequestResponseLoggingConfig: { enabled: true, samplingRate: 1, bigqueryDestination: { outputUri: 'bq://ml-prod-123.logs.fraud' } } } }, LOC);
    expect(create.details?.request_logging).toEqual({ enabled: true, sampling_rate: 1, destination: 'bq://ml-prod-123.logs.fraud' });
    // The create logged the parent: the endpoint's name is first seen on its update.
    const on = endpoint('UpdateEndpoint', 1, logging({ enabled: true, samplingRate: 1, bigqueryDestination: { outputUri: 'bq://ml-prod-123.logs.fraud' } }));
    const off = endpoint('UpdateEndpoint', 2, logging({ enabled: false }));
    const a = fired([create, on, off]);
    expect(a.map((x) => [x.details.change, x.evidence])).toEqual([['switched off', [off.id]]]);
    expect(a[0]!.summary).toContain('was 100 % of requests to bq://ml-prod-123.logs.fraud, now off');
    expect(fired([on, endpoint('UpdateEndpoint', 2, logging({ enabled: true, samplingRate: 0.01 }))]).map((x) => x.details.change)).toEqual(['sampled less']);
    // The mask names the config, the body leaves it out: switched off.
    expect(fired([on, endpoint('UpdateEndpoint', 2, { endpoint: { name: EP }, updateMask: 'predict_request_response_logging_config' })]).map((x) => x.details.change)).toEqual(['switched off']);
    // Another field updated: logging untouched.
    expect(fired([on, endpoint('UpdateEndpoint', 2, { endpoint: { name: EP, displayName: 'x' }, updateMask: 'display_name' })])).toEqual([]);
  });
});
