import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, norm, normOne } from '../connectors/sagemaker/helpers.js';
import { auditEntry, normOne as vertexOne } from '../connectors/vertex/samples.js';

/**
 * platform.audit_log_tampering end to end from CloudTrail's own records (eventSource cloudtrail.amazonaws.com):
 * before, the SageMaker connector skipped them as not ML-relevant, so a trail switched off, or narrowed to stop
 * logging a training bucket's object writes, ahead of poisoning it raised nothing.
 */

const SM = { training_buckets: ['ml-training-data'], model_buckets: ['ml-models'] };
const TRAIL_ARN = 'arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail';
let n = 0;

function trail(eventName: string, params: Record<string, unknown>, extra: Record<string, unknown> = {}): NormalizedEvent {
  return normOne(ctRecord(eventName, params, { eventSource: 'cloudtrail.amazonaws.com', eventID: `trail-${++n}`, eventTime: `2026-11-25T10:${String(n).padStart(2, '0')}:00Z`, ...extra }), SM);
}

function alerts(events: NormalizedEvent[], rules: Record<string, unknown> = {}): Alert[] {
  return replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === 'platform.audit_log_tampering');
}

const basic = (values: string[], extra: Record<string, unknown> = {}) => ({ trailName: 'org-trail', eventSelectors: [{ readWriteType: 'All', includeManagementEvents: true, dataResources: [{ type: 'AWS::S3::Object', values }], ...extra }] });
const advanced = (fieldSelectors: unknown[]) => ({
  trailName: TRAIL_ARN,
  advancedEventSelectors: [{ name: 'mgmt', fieldSelectors: [{ field: 'eventCategory', equals: ['Management'] }] }, { name: 's3', fieldSelectors: [{ field: 'eventCategory', equals: ['Data'] }, { field: 'resources.type', equals: ['AWS::S3::Object'] }, ...fieldSelectors] }],
});

describe('CloudTrail control calls (platform.audit_log_tampering)', () => {
  it('StopLogging and DeleteTrail are kept by default and alert, naming the trail and the caller', () => {
    const stop = trail('StopLogging', { name: TRAIL_ARN });
    expect(stop).toMatchObject({ stage: 'platform', action: 'audit_log.disable', resource: { type: 'cloudtrail_trail', id: TRAIL_ARN, name: 'org-trail' } });
    const del = trail('DeleteTrail', { name: 'org-trail' });
    const fired = alerts([stop, del]);
    expect(fired.map((a) => [a.entity.id, a.severity, a.evidence, a.details.action])).toEqual([
      // One trail whether named by its ARN or by its name: scoped by account and region, its name as entity.name.
      ['111122223333:us-east-1:org-trail', 'high', [stop.id], 'audit_log.disable'],
      ['111122223333:us-east-1:org-trail', 'high', [del.id], 'audit_log.delete'],
    ]);
    expect(fired[0]!.details).toMatchObject({ identity: 'alice', trail: 'org-trail', actor_id: 'arn:aws:sts::111122223333:assumed-role/MLEngineer/alice' });
    expect(alerts([stop], { 'platform.audit_log_tampering': { exempt: ['alice'] } })).toEqual([]);
  });

  it('PutEventSelectors that drops a listed bucket alerts with the buckets no longer logged; one that keeps them does not', () => {
    const dropped = trail('PutEventSelectors', basic(['arn:aws:s3:::ml-models/']));
    expect(dropped.details).toMatchObject({ trail: 'org-trail', unlogged_buckets: ['ml-training-data'] });
    expect(alerts([dropped]).map((a) => a.details.unlogged_buckets)).toEqual([['ml-training-data']]);
    // Every bucket (arn:aws:s3), or each listed one by prefix: nothing lost.
    expect(alerts([trail('PutEventSelectors', basic(['arn:aws:s3']))])).toEqual([]);
    expect(alerts([trail('PutEventSelectors', basic(['arn:aws:s3:::ml-training-data/churn/', 'arn:aws:s3:::ml-models/']))])).toEqual([]);
    // Read-only data events do not record a write.
    expect(alerts([trail('PutEventSelectors', basic(['arn:aws:s3'], { readWriteType: 'ReadOnly' }))]).map((a) => a.details.unlogged_buckets)).toEqual([['ml-training-data', 'ml-models']]);
    // Management events off: the SageMaker calls themselves are gone.
    expect(alerts([trail('PutEventSelectors', basic(['arn:aws:s3'], { includeManagementEvents: false }))]).map((a) => a.details.management_events)).toEqual([false]);
  });

  it('advanced selectors: an exclusion of the training bucket alerts, all S3 objects do not', () => {
    const excluded = trail('PutEventSelectors', advanced([{ field: 'resources.ARN', notStartsWith: ['arn:aws:s3:::ml-training-data/'] }]));
    expect(alerts([excluded]).map((a) => a.details.unlogged_buckets)).toEqual([['ml-training-data']]);
    expect(alerts([trail('PutEventSelectors', advanced([]))])).toEqual([]);
    const readsOnly = trail('PutEventSelectors', advanced([{ field: 'readOnly', equals: ['true'] }]));
    expect(alerts([readsOnly])).toHaveLength(1);
  });

  it('trails of one name in two accounts are two trails: the second account\'s StopLogging alerts too, not a repeat of the first\'s', () => {
    // The console's default trail name in every account of an organization; mltrail reads them all.
    const inAccount = (account: string, hour: string) =>
      trail('StopLogging', { name: `arn:aws:cloudtrail:us-east-1:${account}:trail/management-events` }, {
        recipientAccountId: account, eventTime: `2026-11-25T${hour}:00:00Z`,
        userIdentity: { type: 'IAMUser', principalId: `AIDA${account}`, arn: `arn:aws:iam::${account}:user/ops`, accountId: account, userName: 'ops' },
      });
    const fired = alerts([inAccount('111122223333', '10'), inAccount('444455556666', '11')]);
    expect(fired.map((a) => [a.entity.id, a.entity.name, a.details.trail, a.count ?? 1])).toEqual([
      ['111122223333:us-east-1:management-events', 'management-events', 'management-events', 1],
      ['444455556666:us-east-1:management-events', 'management-events', 'management-events', 1],
    ]);
    // The same trail stopped again the same day is still one finding, counted.
    const again = alerts([inAccount('111122223333', '10'), inAccount('111122223333', '12')]);
    expect(again.map((a) => a.entity.id)).toEqual(['111122223333:us-east-1:management-events']);
  });

  it('advanced selectors that keep the bucket but leave out its training prefix, its .parquet files, or multipart uploads alert', () => {
    const prefix = trail('PutEventSelectors', advanced([{ field: 'resources.ARN', notStartsWith: ['arn:aws:s3:::ml-training-data/churn/'] }]));
    expect(prefix.details).toMatchObject({ excluded_objects: ['s3://ml-training-data/churn/'] });
    const fired = alerts([prefix]);
    expect(fired.map((a) => [a.severity, a.details.excluded_objects])).toEqual([['high', ['s3://ml-training-data/churn/']]]);
    expect(fired[0]!.summary).toContain('stopped logging object writes of s3://ml-training-data/churn/');
    const suffix = trail('PutEventSelectors', advanced([{ field: 'resources.ARN', notEndsWith: ['.parquet'] }]));
    expect(alerts([suffix]).map((a) => a.details.excluded_objects)).toEqual([['s3://ml-training-data/*.parquet', 's3://ml-models/*.parquet']]);
    // `aws s3 cp` of a file over 8 MB is CreateMultipartUpload … CompleteMultipartUpload, never PutObject.
    const noMultipart = trail('PutEventSelectors', advanced([{ field: 'eventName', notEquals: ['CompleteMultipartUpload'] }]));
    expect(alerts([noMultipart]).map((a) => a.details.unlogged_buckets)).toEqual([['ml-training-data', 'ml-models']]);
    const putOnly = trail('PutEventSelectors', advanced([{ field: 'eventName', equals: ['PutObject'] }]));
    expect(alerts([putOnly])).toHaveLength(1);
    // A prefix left out of another bucket, or a second selector still logging the whole bucket: nothing lost.
    expect(alerts([trail('PutEventSelectors', advanced([{ field: 'resources.ARN', notStartsWith: ['arn:aws:s3:::scratch/'] }]))])).toEqual([]);
    const covered = trail('PutEventSelectors', {
      trailName: TRAIL_ARN,
      advancedEventSelectors: [
        { name: 'mgmt', fieldSelectors: [{ field: 'eventCategory', equals: ['Management'] }] },
        { name: 'most', fieldSelectors: [{ field: 'eventCategory', equals: ['Data'] }, { field: 'resources.type', equals: ['AWS::S3::Object'] }, { field: 'resources.ARN', notStartsWith: ['arn:aws:s3:::ml-training-data/churn/'] }] },
        { name: 'training', fieldSelectors: [{ field: 'eventCategory', equals: ['Data'] }, { field: 'resources.type', equals: ['AWS::S3::Object'] }, { field: 'resources.ARN', startsWith: ['arn:aws:s3:::ml-training-data/'] }] },
      ],
    });
    expect(alerts([covered])).toEqual([]);
  });

  it('UpdateTrail sending the log files to another bucket, or dropping member accounts or other regions, alerts; other updates do not', () => {
    const moved = trail('UpdateTrail', { name: 'org-trail', s3BucketName: 'attacker-logs-999' }, { responseElements: { name: 'org-trail', trailARN: TRAIL_ARN, s3BucketName: 'attacker-logs-999', isMultiRegionTrail: true } });
    expect(moved).toMatchObject({ action: 'audit_log.update', details: { trail: 'org-trail', log_bucket: 'attacker-logs-999' } });
    const narrowed = trail('UpdateTrail', { name: TRAIL_ARN, isOrganizationTrail: false, isMultiRegionTrail: false });
    const fired = alerts([moved, narrowed]);
    expect(fired.map((a) => [a.severity, a.entity.id, a.evidence])).toEqual([['high', '111122223333:us-east-1:org-trail', [moved.id]], ['high', '111122223333:us-east-1:org-trail', [narrowed.id]]]);
    expect(fired[0]!.summary).toContain('sent its log files to bucket attacker-logs-999');
    expect(fired[1]!.details).toMatchObject({ organization_trail: false, multi_region: false });
    expect(fired[1]!.summary).toMatch(/member accounts.*other regions/);
    // Turning on log file validation, or making the trail multi-region, hides nothing.
    expect(alerts([trail('UpdateTrail', { name: 'org-trail', enableLogFileValidation: true, isMultiRegionTrail: true })])).toEqual([]);
  });

  it('a refused StopLogging changed nothing: no tampering alert; other CloudTrail calls stay skipped', () => {
    const refused = trail('StopLogging', { name: TRAIL_ARN }, { errorCode: 'AccessDenied', errorMessage: 'not authorized' });
    expect(alerts([refused])).toEqual([]);
    const out = norm(ctRecord('LookupEvents', {}, { eventSource: 'cloudtrail.amazonaws.com', eventID: 'lookup-1' }), SM);
    expect(out.events).toEqual([]);
    expect(out.skipped.length).toBe(1);
  });
});

describe('Cloud Logging sink calls, read by the Vertex connector (platform.audit_log_tampering)', () => {
  const SINK = 'projects/my-ml-project/sinks/siem-export';
  /** An Admin Activity entry of logging.googleapis.com, as Cloud Logging writes it for a sink call. */
  function sinkCall(rpc: string, request: Record<string, unknown>, resourceName = SINK): NormalizedEvent {
    const e = auditEntry({ method: `google.logging.v2.ConfigServiceV2.${rpc}`, resourceName, principal: 'mallory@corp.example', request: { '@type': `type.googleapis.com/google.logging.v2.${rpc}Request`, ...request } });
    (e.protoPayload as Record<string, unknown>).serviceName = 'logging.googleapis.com';
    e.resource = { type: 'logging_sink', labels: { project_id: 'my-ml-project', name: 'siem-export', destination: '' } };
    return vertexOne(e);
  }

  it('a sink deleted, or disabled through its field mask, alerts with the sink\'s name; another update does not', () => {
    const del = sinkCall('DeleteSink', { sinkName: SINK });
    expect(del).toMatchObject({ stage: 'platform', action: 'audit_log.delete', resource: { type: 'logging_sink', id: SINK, name: 'siem-export' }, details: { trail: SINK } });
    const off = sinkCall('UpdateSink', { sinkName: SINK, sink: { name: 'siem-export', destination: 'pubsub.googleapis.com/projects/my-ml-project/topics/siem', disabled: true }, updateMask: 'disabled' });
    expect(off.action).toBe('audit_log.disable');
    const refiltered = sinkCall('UpdateSink', { sinkName: SINK, sink: { name: 'siem-export', filter: 'severity>=ERROR' }, updateMask: 'filter' });
    expect(refiltered.action).toBe('audit_log.update');
    // `disabled: true` outside the mask changes nothing.
    expect(sinkCall('UpdateSink', { sinkName: SINK, sink: { name: 'siem-export', disabled: true }, updateMask: 'filter' }).action).toBe('audit_log.update');
    const fired = alerts([del, off, refiltered]);
    expect(fired.map((a) => [a.entity.id, a.evidence, a.details.action, a.details.trail])).toEqual([
      [SINK, [del.id], 'audit_log.delete', SINK],
      [SINK, [off.id], 'audit_log.disable', SINK],
    ]);
    expect(fired[0]!.summary).toContain('mallory@corp.example deleted the log sink');
  });

  it('an update that exports the entries elsewhere or excludes some of them alerts; removing exclusions does not', () => {
    // Shaped as Cloud Logging logs an UpdateSink: the full sinkName, the sink by its short name, a string field mask.
    const excludeAll = sinkCall('UpdateSink', { sinkName: SINK, sink: { name: 'siem-export', destination: 'pubsub.googleapis.com/projects/my-ml-project/topics/siem', exclusions: [{ name: 'excludeall', filter: '*' }] }, uniqueWriterIdentity: true, updateMask: 'exclusions' });
    expect(excludeAll).toMatchObject({ action: 'audit_log.update', details: { trail: SINK, log_exclusions: ['*'] } });
    expect(excludeAll.details?.log_destination).toBeUndefined();
    const moved = sinkCall('UpdateSink', { sinkName: SINK, sink: { name: 'siem-export', destination: 'storage.googleapis.com/attacker-bucket' }, uniqueWriterIdentity: true, updateMask: 'destination' });
    expect(moved.details).toMatchObject({ log_destination: 'storage.googleapis.com/attacker-bucket' });
    const cleared = sinkCall('UpdateSink', { sinkName: SINK, sink: { name: 'siem-export', exclusions: [] }, updateMask: 'exclusions' });
    const paused = sinkCall('UpdateSink', { sinkName: SINK, sink: { name: 'siem-export', exclusions: [{ name: 'noisy', filter: 'severity<INFO', disabled: true }] }, updateMask: 'exclusions' });
    // An empty mask rewrites the destination with the value the client holds: not read as a redirect.
    const unmasked = sinkCall('UpdateSink', { sinkName: SINK, sink: { name: 'siem-export', destination: 'pubsub.googleapis.com/projects/my-ml-project/topics/siem', filter: 'protoPayload.serviceName="aiplatform.googleapis.com"' } });
    const fired = alerts([excludeAll, moved, cleared, paused, unmasked]);
    expect(fired.map((a) => [a.evidence, a.details.log_exclusions, a.details.log_destination])).toEqual([
      [[excludeAll.id], ['*'], undefined],
      [[moved.id], undefined, 'storage.googleapis.com/attacker-bucket'],
    ]);
    expect(fired[0]!.summary).toContain("stopped exporting entries matching '*'");
    expect(fired[1]!.summary).toContain('sent its entries to storage.googleapis.com/attacker-bucket');
  });

  it('a sink created is kept as audit_log.create under its full name, and judged by nothing', () => {
    const created = sinkCall('CreateSink', { parent: 'projects/my-ml-project', sink: { name: 'copy-out', destination: 'storage.googleapis.com/elsewhere' } }, 'projects/my-ml-project');
    expect(created).toMatchObject({ action: 'audit_log.create', details: { trail: 'projects/my-ml-project/sinks/copy-out' } });
    expect(alerts([created])).toEqual([]);
  });
});
