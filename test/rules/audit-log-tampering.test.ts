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

describe('Google Cloud audit logs narrowed outside a sink (platform.audit_log_tampering)', () => {
  const PROJECT_ID = 'my-ml-project';
  /** An Admin Activity entry of another service than Vertex AI, shaped as Cloud Audit Logs writes it. */
  function adminCall(service: string, method: string, resourceName: string, request: Record<string, unknown>, resourceType: string, serviceData?: Record<string, unknown>): NormalizedEvent {
    const e = auditEntry({ method, resourceName, principal: 'mallory@corp.example', request });
    const pp = e.protoPayload as Record<string, unknown>;
    pp.serviceName = service;
    if (serviceData) pp.serviceData = serviceData;
    e.resource = { type: resourceType, labels: { project_id: PROJECT_ID } };
    return vertexOne(e);
  }
  const exclusionCall = (rpc: string, request: Record<string, unknown>, resourceName: string) =>
    adminCall('logging.googleapis.com', `google.logging.v2.ConfigServiceV2.${rpc}`, resourceName, { '@type': `type.googleapis.com/google.logging.v2.${rpc}Request`, ...request }, 'audited_resource');
  /** A project's IAM policy set (Resource Manager), its audit config changes as the logged policy delta. */
  const policySet = (auditConfigDeltas: unknown[], resourceName = `projects/${PROJECT_ID}`) =>
    adminCall('cloudresourcemanager.googleapis.com', 'SetIamPolicy', resourceName,
      { '@type': 'type.googleapis.com/google.iam.v1.SetIamPolicyRequest', resource: resourceName.split('/').pop(), policy: { etag: 'BwXhqDSPRxA=' }, updateMask: 'auditConfigs,etag' },
      resourceName.startsWith('projects/') ? 'project' : resourceName.startsWith('folders/') ? 'folder' : 'organization',
      { '@type': 'type.googleapis.com/google.iam.v1.logging.AuditData', policyDelta: { auditConfigDeltas } });

  it('an exclusion created in the _Default sink that leaves out Vertex AI audit entries, or everything, alerts; one pinned to another resource type does not', () => {
    const vertexOut = exclusionCall('CreateExclusion', { parent: `projects/${PROJECT_ID}`, exclusion: { name: 'quiet', filter: 'protoPayload.serviceName="aiplatform.googleapis.com"' } }, `projects/${PROJECT_ID}`);
    expect(vertexOut).toMatchObject({ action: 'audit_log.update', details: { trail: `projects/${PROJECT_ID}/sinks/_Default`, log_exclusions: ['protoPayload.serviceName="aiplatform.googleapis.com"'] } });
    const folderAll = exclusionCall('CreateExclusion', { parent: 'folders/123456789', exclusion: { name: 'all', filter: 'severity<ERROR' } }, 'folders/123456789');
    const k8s = exclusionCall('CreateExclusion', { parent: `projects/${PROJECT_ID}`, exclusion: { name: 'k8s', filter: 'resource.type="k8s_container" AND severity<WARNING' } }, `projects/${PROJECT_ID}`);
    const off = exclusionCall('CreateExclusion', { parent: `projects/${PROJECT_ID}`, exclusion: { name: 'later', filter: '*', disabled: true } }, `projects/${PROJECT_ID}`);
    const fired = alerts([vertexOut, folderAll, k8s, off]);
    expect(fired.map((a) => [a.entity.id, a.evidence, a.details.log_exclusions])).toEqual([
      [`projects/${PROJECT_ID}/sinks/_Default`, [vertexOut.id], ['protoPayload.serviceName="aiplatform.googleapis.com"']],
      ['folders/123456789/sinks/_Default', [folderAll.id], ['severity<ERROR']],
    ]);
    expect(fired[0]!.summary).toContain('mallory@corp.example stopped exporting entries matching');
  });

  it('an exclusion naming the audit entries by part of a value (`:` matches a substring) or by a regular expression alerts; a GKE debug-log exclusion does not', () => {
    const exclude = (name: string, filter: string) =>
      exclusionCall('CreateExclusion', { parent: `projects/${PROJECT_ID}`, exclusion: { name, filter } }, `projects/${PROJECT_ID}`);
    // Each of these leaves out every Vertex AI and Cloud Storage audit entry of the project.
    const hiding = [
      exclude('apis', 'protoPayload.serviceName:"googleapis"'),
      exclude('types', 'resource.type:"_"'),
      exclude('logs', 'logName:"logs"'),
      exclude('regex', 'protoPayload.serviceName=~"^(aip|stor)"'),
    ];
    const gkeDebug = [
      exclude('gke-debug', 'resource.type="k8s_container" AND severity<=DEBUG'),
      exclude('gke-has', 'resource.type:"k8s_container" AND severity<=DEBUG'),
      exclude('stdout', 'logName:"logs/stdout" AND resource.type:"k8s"'),
    ];
    expect(alerts([...hiding, ...gkeDebug]).map((a) => a.details.log_exclusions)).toEqual([
      ['protoPayload.serviceName:"googleapis"'], ['resource.type:"_"'], ['logName:"logs"'], ['protoPayload.serviceName=~"^(aip|stor)"'],
    ]);
  });

  it('UpdateExclusion judges what its mask names: a new filter, an exclusion switched back on; a description or a disable does not', () => {
    const NAME = `projects/${PROJECT_ID}/exclusions/quiet`;
    const refiltered = exclusionCall('UpdateExclusion', { name: NAME, exclusion: { filter: 'logName:"cloudaudit.googleapis.com%2Fdata_access"' }, updateMask: 'filter' }, NAME);
    expect(refiltered.details).toMatchObject({ trail: `projects/${PROJECT_ID}/sinks/_Default`, log_exclusions: ['logName:"cloudaudit.googleapis.com%2Fdata_access"'] });
    const reenabled = exclusionCall('UpdateExclusion', { name: NAME, exclusion: { disabled: false }, updateMask: 'disabled' }, NAME);
    const described = exclusionCall('UpdateExclusion', { name: NAME, exclusion: { description: 'noise' }, updateMask: 'description' }, NAME);
    const disabled = exclusionCall('UpdateExclusion', { name: NAME, exclusion: { disabled: true }, updateMask: 'disabled' }, NAME);
    expect(alerts([refiltered, reenabled, described, disabled]).map((a) => [a.evidence, a.details.log_exclusions])).toEqual([
      [[refiltered.id], ['logName:"cloudaudit.googleapis.com%2Fdata_access"']],
      [[reenabled.id], [`exclusion ${NAME}`]],
    ]);
  });

  it('a sink exclusion pinned to another service is not judged; one on Cloud Storage entries is', () => {
    const SINK = `projects/${PROJECT_ID}/sinks/siem-export`;
    const sinkUpdate = (filter: string) => adminCall('logging.googleapis.com', 'google.logging.v2.ConfigServiceV2.UpdateSink', SINK,
      { '@type': 'type.googleapis.com/google.logging.v2.UpdateSinkRequest', sinkName: SINK, sink: { name: 'siem-export', exclusions: [{ name: 'x', filter }] }, updateMask: 'exclusions' }, 'logging_sink');
    const gke = sinkUpdate('resource.type="gke_cluster"');
    const gcs = sinkUpdate('resource.type="gcs_bucket" AND protoPayload.methodName:"storage.objects."');
    const notK8s = sinkUpdate('NOT resource.type="k8s_container"');
    const bqStorage = sinkUpdate('protoPayload.serviceName="bigquerystorage.googleapis.com"');
    // The project's own entries: its IAM policy changes (audit configs) are among them.
    const project = sinkUpdate('resource.type="project" AND severity<ERROR');
    expect(alerts([gke, gcs, notK8s, bqStorage, project]).map((a) => [a.evidence, a.details.log_exclusions])).toEqual([
      [[gcs.id], ['resource.type="gcs_bucket" AND protoPayload.methodName:"storage.objects."']],
      [[notK8s.id], ['NOT resource.type="k8s_container"']],
      [[project.id], ['resource.type="project" AND severity<ERROR']],
    ]);
  });

  it('Data Access logs of Vertex AI or Cloud Storage switched off, or an identity exempted, in an IAM policy alert; enabling them does not', () => {
    const off = policySet([
      { action: 'REMOVE', service: 'aiplatform.googleapis.com', logType: 'DATA_WRITE' },
      { action: 'REMOVE', service: 'aiplatform.googleapis.com', logType: 'DATA_READ' },
    ]);
    expect(off).toMatchObject({ stage: 'platform', action: 'audit_log.update', details: { trail: `projects/${PROJECT_ID}`, audit_logs_off: [{ service: 'aiplatform.googleapis.com', log_type: 'DATA_WRITE' }, { service: 'aiplatform.googleapis.com', log_type: 'DATA_READ' }] } });
    const exempt = policySet([{ action: 'ADD', service: 'allServices', logType: 'DATA_WRITE', exemptedMember: 'serviceAccount:etl@my-ml-project.iam.gserviceaccount.com' }], 'organizations/123456789012');
    const gcsOff = policySet([{ action: 'REMOVE', service: 'storage.googleapis.com', logType: 'DATA_WRITE' }], 'folders/987');
    // Widening or unrelated: logging turned on, an exemption ended, another service's logs, a type moved to allServices.
    const on = policySet([{ action: 'ADD', service: 'aiplatform.googleapis.com', logType: 'DATA_READ' }]);
    const unexempt = policySet([{ action: 'REMOVE', service: 'aiplatform.googleapis.com', logType: 'DATA_READ', exemptedMember: 'user:bob@corp.example' }]);
    const other = policySet([{ action: 'REMOVE', service: 'bigquery.googleapis.com', logType: 'DATA_READ' }]);
    const moved = policySet([{ action: 'REMOVE', service: 'aiplatform.googleapis.com', logType: 'DATA_READ' }, { action: 'ADD', service: 'allServices', logType: 'DATA_READ' }]);
    for (const e of [on, unexempt, other, moved]) expect(e.action).toBe('permission.change');
    const fired = alerts([off, exempt, gcsOff, on, unexempt, other, moved]);
    expect(fired.map((a) => [a.entity.id, a.evidence])).toEqual([
      [`projects/${PROJECT_ID}`, [off.id]],
      ['organizations/123456789012', [exempt.id]],
      ['folders/987', [gcsOff.id]],
    ]);
    expect(fired[0]!.summary).toContain('stopped audit logging of DATA_WRITE on aiplatform.googleapis.com, DATA_READ on aiplatform.googleapis.com');
    expect(fired[1]!.summary).toContain('exempted serviceAccount:etl@my-ml-project.iam.gserviceaccount.com from DATA_WRITE logging on allServices');
    expect(fired[1]!.details.audit_exemptions).toEqual([{ service: 'allServices', log_type: 'DATA_WRITE', member: 'serviceAccount:etl@my-ml-project.iam.gserviceaccount.com' }]);
  });

  it('a folder or organization policy as Resource Manager logs it there (resource type folder / organization, no project; v2 / v3 method names) that stops Data Access logging alerts on that folder or organization', () => {
    const inherited = (method: string, resourceName: string, type: string, labels: Record<string, string>) => {
      const e = auditEntry({ method, resourceName, principal: 'mallory@corp.example',
        request: { '@type': 'type.googleapis.com/google.iam.v1.SetIamPolicyRequest', resource: resourceName, policy: { etag: 'BwXhqDSPRxA=' }, updateMask: 'auditConfigs,etag' } });
      const pp = e.protoPayload as Record<string, unknown>;
      pp.serviceName = 'cloudresourcemanager.googleapis.com';
      pp.serviceData = { '@type': 'type.googleapis.com/google.iam.v1.logging.AuditData', policyDelta: { auditConfigDeltas: [{ action: 'REMOVE', service: 'allServices', logType: 'DATA_READ' }] } };
      e.resource = { type, labels };
      e.logName = `${resourceName}/logs/cloudaudit.googleapis.com%2Factivity`;
      return vertexOne(e);
    };
    const v3 = inherited('google.cloud.resourcemanager.v3.Folders.SetIamPolicy', 'folders/987654321', 'folder', { folder_id: '987654321' });
    const v2 = inherited('google.cloud.resourcemanager.v2.Folders.SetIamPolicy', 'folders/123123123', 'folder', { folder_id: '123123123' });
    const org = inherited('SetIamPolicy', 'organizations/123456789012', 'organization', { organization_id: '123456789012' });
    for (const e of [v3, v2, org]) expect(e).toMatchObject({ action: 'audit_log.update', details: { audit_logs_off: [{ service: 'allServices', log_type: 'DATA_READ' }] } });
    expect(alerts([v3, v2, org]).map((a) => [a.entity.id, a.evidence])).toEqual([
      ['folders/987654321', [v3.id]], ['folders/123123123', [v2.id]], ['organizations/123456789012', [org.id]],
    ]);
  });

  it('Data Access logging REMOVEd from Vertex AI while allServices, set by an earlier change, still logs that type is no alert; with nothing else logging it, or nothing known, it alerts', () => {
    /** The policy delta of a SetIamPolicy on the project at `time` (ordered: the rule keeps what earlier changes set). */
    const change = (time: string, auditConfigDeltas: unknown[]) => {
      const e = auditEntry({ method: 'SetIamPolicy', resourceName: `projects/${PROJECT_ID}`, principal: 'mallory@corp.example', timestamp: time,
        request: { '@type': 'type.googleapis.com/google.iam.v1.SetIamPolicyRequest', resource: PROJECT_ID, policy: { etag: 'BwXhqDSPRxA=' }, updateMask: 'auditConfigs,etag' } });
      const pp = e.protoPayload as Record<string, unknown>;
      pp.serviceName = 'cloudresourcemanager.googleapis.com';
      pp.serviceData = { '@type': 'type.googleapis.com/google.iam.v1.logging.AuditData', policyDelta: { auditConfigDeltas } };
      e.resource = { type: 'project', labels: { project_id: PROJECT_ID } };
      return vertexOne(e);
    };
    const allOn = change('2026-11-20T09:00:00Z', [{ action: 'ADD', service: 'allServices', logType: 'DATA_READ' }, { action: 'ADD', service: 'allServices', logType: 'DATA_WRITE' }]);
    const vertexOn = change('2026-11-20T09:05:00Z', [{ action: 'ADD', service: 'aiplatform.googleapis.com', logType: 'DATA_READ' }]);
    const vertexOff = change('2026-11-20T10:00:00Z', [{ action: 'REMOVE', service: 'aiplatform.googleapis.com', logType: 'DATA_READ' }]);
    expect(vertexOff).toMatchObject({ action: 'audit_log.update', details: { audit_config_of: `projects/${PROJECT_ID}`, audit_config_deltas: [{ action: 'REMOVE', service: 'aiplatform.googleapis.com', log_type: 'DATA_READ' }] } });
    expect(alerts([allOn, vertexOn, vertexOff])).toEqual([]);
    // allServices' DATA_READ removed since: nothing known logs Vertex AI reads any more.
    const allOff = change('2026-11-20T09:30:00Z', [{ action: 'REMOVE', service: 'allServices', logType: 'DATA_READ' }]);
    const fired = alerts([allOn, vertexOn, allOff, vertexOff]);
    expect(fired.map((a) => [a.evidence, a.details.audit_logs_off, a.details.audit_config_seen])).toEqual([
      [[allOff.id], [{ service: 'allServices', log_type: 'DATA_READ' }], true],
      [[vertexOff.id], [{ service: 'aiplatform.googleapis.com', log_type: 'DATA_READ' }], true],
    ]);
    // Nothing known of the project's configs: flagged, and the alert says it was judged on the delta alone.
    const alone = alerts([vertexOff]);
    expect(alone.map((a) => a.details.audit_config_seen)).toEqual([false]);
    expect(alone[0]!.summary).toContain('no earlier audit config change of projects/my-ml-project seen');
  });
});
