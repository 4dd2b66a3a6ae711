import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig, createRuleEngine } from '../../core/rules/engine.js';
import { MemoryStateStore } from '../../core/state/index.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { parseQueueMessage } from '../../connectors/sagemaker/s3-notifications.js';
import { ctRecord, norm, normOne } from '../connectors/sagemaker/helpers.js';
import { auditEntry, LOC, normOne as vxOne, V1 } from '../connectors/vertex/samples.js';

/**
 * An object put back to an earlier version on a versioned S3 bucket, with no PutObject: a DeleteObject of a specific
 * version (the one before it becomes current when it was the current one), or a CopyObject whose x-amz-copy-source
 * names a versionId of the same key. Records shaped as CloudTrail logs S3 data events (the shared CopyObject
 * fixture: bucketName, key, x-amz-copy-source; a version delete adds the versionId query parameter).
 */

const SM = { training_buckets: ['ml-training-data'], model_buckets: ['ml-models'] };
const ACCOUNT = '111122223333';
const PKG = `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/fraud/4`;
const ARTIFACT = 's3://ml-models/fraud/v4/model.tar.gz';
let n = 0;

/** The training pipeline's role session: a known writer of the training bucket. */
const etl = { type: 'AssumedRole', principalId: 'AROAETL:etl-nightly', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/etl/etl-nightly`, accountId: ACCOUNT,
  sessionContext: { sessionIssuer: { type: 'Role', principalId: 'AROAETL', arn: `arn:aws:iam::${ACCOUNT}:role/etl`, accountId: ACCOUNT, userName: 'etl' }, attributes: { creationDate: '2026-11-01T00:00:00Z', mfaAuthenticated: 'false' } } };

function call(eventName: string, time: string, params: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return ctRecord(eventName, params, { eventTime: time, eventID: `rb-${++n}`, recipientAccountId: ACCOUNT, ...extra });
}

function s3(eventName: string, time: string, params: Record<string, unknown>, response: Record<string, unknown> | null = null): Record<string, unknown> {
  const arn = `arn:aws:s3:::${params.bucketName as string}`;
  return call(eventName, time, params, { eventSource: 's3.amazonaws.com', eventCategory: 'Data', userIdentity: etl, responseElements: response,
    resources: [{ type: 'AWS::S3::Object', ARN: `${arn}/${params.key as string}` }, { accountId: ACCOUNT, type: 'AWS::S3::Bucket', ARN: arn }] });
}

/** A SageMaker training job reading `input` (what ingestion.unfamiliar_writer learns as the data's readers). */
function trainingJob(time: string, name: string, input: string): Record<string, unknown> {
  return call('CreateTrainingJob', time, {
    trainingJobName: name, roleArn: `arn:aws:iam::${ACCOUNT}:role/SageMakerExec`, enableNetworkIsolation: true,
    algorithmSpecification: { trainingImage: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/churn@sha256:${'a'.repeat(64)}`, trainingInputMode: 'File' },
    inputDataConfig: [{ channelName: 'train', dataSource: { s3DataSource: { s3DataType: 'S3Prefix', s3Uri: input } } }],
    outputDataConfig: { s3OutputPath: 's3://ml-models/churn/' }, resourceConfig: { instanceCount: 1, instanceType: 'ml.m5.xlarge', volumeSizeInGB: 30 }, stoppingCondition: { maxRuntimeInSeconds: 3600 },
  }, { eventSource: 'sagemaker.amazonaws.com', responseElements: { trainingJobArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:training-job/${name}` } });
}

const events = (records: Record<string, unknown>[]): NormalizedEvent[] => records.flatMap((r) => norm(r, SM).events);
const alerts = (evs: NormalizedEvent[]): Alert[] => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts;

/** Package 4 of group fraud, its model at ARTIFACT, approved. */
const approvedPackage = () => [
  call('CreateModelPackage', '2026-11-20T10:00:00Z', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/fraud@sha256:${'a'.repeat(64)}`, modelDataUrl: ARTIFACT }] } }, { eventSource: 'sagemaker.amazonaws.com', responseElements: { modelPackageArn: PKG } }),
  call('UpdateModelPackage', '2026-11-20T10:30:00Z', { modelPackageArn: PKG, modelApprovalStatus: 'Approved' }, { eventSource: 'sagemaker.amazonaws.com', responseElements: { modelPackageArn: PKG } }),
];

describe('object-version rollback on S3', () => {
  it('the connector names the version a DeleteObject removes and the earlier version a CopyObject of the same key restores', () => {
    expect(normOne(s3('DeleteObject', '2026-11-20T12:00:00Z', { bucketName: 'ml-models', Host: 'ml-models.s3.us-east-1.amazonaws.com', key: 'fraud/v4/model.tar.gz', versionId: 'UIORUnfndfiufdisojhr398493jfdkjFJjkndnqUifhnw89493jJFJ' }), SM).details)
      .toMatchObject({ version_rollback: { removed_version: 'UIORUnfndfiufdisojhr398493jfdkjFJjkndnqUifhnw89493jJFJ' } });
    expect(normOne(s3('CopyObject', '2026-11-20T12:00:00Z', { bucketName: 'ml-models', key: 'fraud/v4/model.tar.gz', 'x-amz-copy-source': 'ml-models/fraud/v4/model.tar.gz?versionId=3HL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY' }, { 'x-amz-version-id': 'new1' }), SM).details)
      .toMatchObject({ version_rollback: { restored_version: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY' } });
    // A plain delete (a delete marker), a copy of another key's version, a copy of the current bytes: no rollback.
    for (const r of [
      s3('DeleteObject', '2026-11-20T12:00:00Z', { bucketName: 'ml-models', key: 'fraud/v4/model.tar.gz' }),
      s3('CopyObject', '2026-11-20T12:00:00Z', { bucketName: 'ml-models', key: 'fraud/v4/model.tar.gz', 'x-amz-copy-source': 'ml-models/fraud/v3/model.tar.gz?versionId=abc' }),
      s3('CopyObject', '2026-11-20T12:00:00Z', { bucketName: 'ml-models', key: 'fraud/v4/model.tar.gz', 'x-amz-copy-source': 'ml-models/fraud/v4/model.tar.gz' }),
    ]) expect(normOne(r, SM).details?.version_rollback).toBeUndefined();
  });

  it('an approved version\'s artifact rolled back is approved-model tampering that says so, also after an overwrite of the same object', () => {
    const removed = s3('DeleteObject', '2026-11-20T12:00:00Z', { bucketName: 'ml-models', key: 'fraud/v4/model.tar.gz', versionId: 'v2' });
    const fired = alerts(events([...approvedPackage(), removed])).filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(fired.map((a) => [a.entity.id, a.details.change, a.details.object, a.details.version_rollback])).toEqual([[`${ACCOUNT}:us-east-1:fraud/4`, 'artifact_deleted', ARTIFACT, { removed_version: 'v2' }]]);
    expect(fired[0]!.summary).toContain('was rolled back: version v2 removed');
    // An overwrite, then the earlier version copied back: two findings, the second one the rollback.
    const put = s3('PutObject', '2026-11-20T12:00:00Z', { bucketName: 'ml-models', key: 'fraud/v4/model.tar.gz' }, { 'x-amz-version-id': 'v3' });
    const restored = s3('CopyObject', '2026-11-20T12:05:00Z', { bucketName: 'ml-models', key: 'fraud/v4/model.tar.gz', 'x-amz-copy-source': 'ml-models/fraud/v4/model.tar.gz?versionId=v1' }, { 'x-amz-version-id': 'v4' });
    const both = alerts(events([...approvedPackage(), put, restored])).filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(both.map((a) => [a.details.change, a.details.version_rollback])).toEqual([['artifact_overwritten', undefined], ['artifact_overwritten', { restored_version: 'v1' }]]);
    expect(both[1]!.summary).toContain('was rolled back: earlier version v1 copied back over it (CopyObject)');
  });

  it('an earlier version copied back in parts is a rollback of the approved artifact at the CompleteMultipartUpload that makes it current, once, not at the part copies', () => {
    const key = 'fraud/v4/model.tar.gz';
    const upload = '2~iCw_lDY8VoNw4vDzo7IMzUbCsOqIjeP';
    const part = (n: number, id = upload, source = `ml-models/${key}?versionId=v1`) => s3('UploadPartCopy', `2026-11-20T12:00:0${n}Z`, { bucketName: 'ml-models', key, partNumber: String(n), uploadId: id, 'x-amz-copy-source': source, 'x-amz-copy-source-range': `bytes=${(n - 1) * 5242880}-${n * 5242880 - 1}` });
    const create = s3('CreateMultipartUpload', '2026-11-20T12:00:00Z', { bucketName: 'ml-models', key, uploads: '' }, { bucketName: 'ml-models', key, uploadId: upload });
    const complete = (id = upload, op = 'CompleteMultipartUpload') => s3(op, '2026-11-20T12:00:09Z', { bucketName: 'ml-models', key, uploadId: id }, op === 'CompleteMultipartUpload' ? { bucketName: 'ml-models', key, 'x-amz-version-id': 'v5' } : null);
    const [p1, p2, done] = [part(1), part(2), complete()];
    // The part copy is marked, and names its upload as the completion does.
    expect(normOne(p1, SM).details).toMatchObject({ version_rollback: { restored_version: 'v1' }, upload_id: upload });
    expect(normOne(done, SM).details).toMatchObject({ upload_id: upload });
    expect(normOne(done, SM).details?.version_rollback).toBeUndefined();
    const modified = (records: Record<string, unknown>[]) => alerts(events([...approvedPackage(), ...records])).filter((a) => a.rule_id === 'registry.approved_model_modified');
    // Two parts copied back, then the completion: one rollback finding, on the completion, citing the first part copy.
    const fired = modified([create, p1, p2, done]).filter((a) => a.details.version_rollback);
    expect(fired.map((a) => [a.details.change, a.details.object, a.details.version_rollback])).toEqual([['artifact_overwritten', ARTIFACT, { restored_version: 'v1' }]]);
    expect(fired[0]!.summary).toContain('was rolled back: earlier version v1 copied back over it (UploadPartCopy, made current by CompleteMultipartUpload)');
    expect(fired[0]!.evidence.slice(-2)).toEqual([normOne(p1, SM).id, normOne(done, SM).id]);
    // Not completed yet, aborted (a completion naming it afterwards finds nothing held), or another upload completed: no rollback.
    expect(modified([create, p1, p2]).filter((a) => a.details.version_rollback)).toEqual([]);
    expect(modified([create, p1, complete(upload, 'AbortMultipartUpload'), done]).filter((a) => a.details.version_rollback)).toEqual([]);
    expect(modified([create, p1, complete('other-upload')]).filter((a) => a.details.version_rollback)).toEqual([]);
    // A part copied from another key's version is an overwrite, not a rollback.
    const other = part(1, upload, 'ml-models/fraud/v3/model.tar.gz?versionId=v1');
    expect(normOne(other, SM).details?.version_rollback).toBeUndefined();
  });

  it('the part copy held for its completion survives a restart (rule state)', () => {
    const key = 'fraud/v4/model.tar.gz';
    const state = new MemoryStateStore();
    const run = (records: Record<string, unknown>[]) => {
      const engine = createRuleEngine(RulesConfig.parse({}), state);
      return events(records).flatMap((e) => engine.process(e, Date.parse(e.time))).filter((a) => a.rule_id === 'registry.approved_model_modified' && a.details?.version_rollback);
    };
    expect(run([...approvedPackage(), s3('UploadPartCopy', '2026-11-20T12:00:05Z', { bucketName: 'ml-models', key, partNumber: '1', uploadId: 'u1', 'x-amz-copy-source': `ml-models/${key}?versionId=v1` })])).toEqual([]);
    const after = run([s3('CompleteMultipartUpload', '2026-11-20T12:00:09Z', { bucketName: 'ml-models', key, uploadId: 'u1' })]);
    expect(after.map((a) => a.details?.version_rollback)).toEqual([{ restored_version: 'v1' }]);
  });

  it('a part copy delivered after its upload\'s completion (CloudTrail log files read out of order) is still the rollback, judged once; after an abort, nothing', () => {
    const key = 'fraud/v4/model.tar.gz';
    const part = (n: number, id = 'u1') => s3('UploadPartCopy', `2026-11-20T12:00:0${n}Z`, { bucketName: 'ml-models', key, partNumber: String(n), uploadId: id, 'x-amz-copy-source': `ml-models/${key}?versionId=v1` });
    const end = (op: string, id = 'u1') => s3(op, '2026-11-20T12:00:09Z', { bucketName: 'ml-models', key, uploadId: id });
    // In arrival order, as the bridge judges a live stream (replay would sort by event time).
    const arriving = (records: Record<string, unknown>[]) => {
      const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
      return events(records).flatMap((e) => engine.process(e, Date.parse(e.time))).filter((a) => a.rule_id === 'registry.approved_model_modified' && a.details?.version_rollback);
    };
    const [p1, p2, done] = [part(1), part(2), end('CompleteMultipartUpload')];
    const late = arriving([...approvedPackage(), done, p1, p2]);
    expect(late.map((a) => [a.details.version_rollback, a.evidence.slice(-2)])).toEqual([[{ restored_version: 'v1' }, [normOne(p1, SM).id, normOne(done, SM).id]]]);
    expect(late[0]!.summary).toContain('(UploadPartCopy, made current by CompleteMultipartUpload)');
    expect(arriving([...approvedPackage(), end('AbortMultipartUpload'), p1, p2])).toEqual([]);
    expect(arriving([...approvedPackage(), end('CompleteMultipartUpload', 'other'), p1])).toEqual([]);
  });

  it('training data a job read, copied back in parts whose completion arrived first, is still the trained-data rollback finding', () => {
    const history = Array.from({ length: 9 }, (_, i) => s3('PutObject', `2026-11-0${i + 1}T02:00:00Z`, { bucketName: 'ml-training-data', key: `churn/part-${i}.parquet` }, { 'x-amz-version-id': `p${i}` }));
    const trained = trainingJob('2026-11-09T04:00:00Z', 'churn-train-1109', 's3://ml-training-data/churn/');
    const part = s3('UploadPartCopy', '2026-11-10T03:00:01Z', { bucketName: 'ml-training-data', key: 'churn/part-8.parquet', partNumber: '1', uploadId: 'up-1', 'x-amz-copy-source': 'ml-training-data/churn/part-8.parquet?versionId=p0' });
    const done = s3('CompleteMultipartUpload', '2026-11-10T03:00:09Z', { bucketName: 'ml-training-data', key: 'churn/part-8.parquet', uploadId: 'up-1' });
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const fired = events([...history, trained, done, part]).flatMap((e) => engine.process(e, Date.parse(e.time))).filter((a) => a.rule_id === 'ingestion.unfamiliar_writer');
    expect(fired.map((a) => [a.details.finding, a.evidence, a.details.version_rollback])).toEqual([['trained_data_rolled_back', [normOne(part, SM).id, normOne(done, SM).id], { restored_version: 'p0' }]]);
  });

  it('a rollback in parts pushed out of the hold by uploads that never complete is not forgotten: a finding then, the completion still a write', () => {
    const key = 'fraud/v4/model.tar.gz';
    const part = (id: string, time = '2026-11-20T12:00:05Z') => s3('UploadPartCopy', time, { bucketName: 'ml-models', key, partNumber: '1', uploadId: id, 'x-amz-copy-source': `ml-models/${key}?versionId=v1` });
    const done = s3('CompleteMultipartUpload', '2026-11-20T12:01:00Z', { bucketName: 'ml-models', key, uploadId: 'real' });
    // The real rollback waits; then someone able to write the artifact starts 200 more that never complete.
    const real = part('real');
    const flood = Array.from({ length: 200 }, (_, i) => part(`f${i}`, '2026-11-20T12:00:30Z'));
    const fired = alerts(events([...approvedPackage(), real, ...flood, done])).filter((a) => a.rule_id === 'registry.approved_model_modified');
    const lost = fired.filter((a) => a.details.change === 'artifact_upload_unjudged');
    expect(lost.map((a) => [a.details.object, a.details.version_rollback, a.details.unjudged, a.details.upload_id, a.evidence.at(-1)])).toEqual([[ARTIFACT, { restored_version: 'v1' }, 'pushed_out', 'real', normOne(real, SM).id]]);
    expect(lost[0]!.summary).toContain('an upload in parts over its artifact s3://ml-models/fraud/v4/model.tar.gz was started (UploadPartCopy: earlier version v1 copied back over it) by etl-nightly; whether it was completed can no longer be judged: pushed out');
    // Its completion, with nothing held any more, is still judged as a write of the artifact: the completion of the
    // upload reported, so the rollback it made current, the part reported beside it, the report named.
    expect(fired.filter((a) => a.details.change === 'artifact_overwritten').map((a) => [a.evidence.slice(-2), a.details.version_rollback, a.details.completes_unjudged])).toEqual([
      [[normOne(real, SM).id, normOne(done, SM).id], { restored_version: 'v1' }, { upload_id: 'real', unjudged: 'pushed_out', event: normOne(real, SM).id }],
    ]);
  });

  it('one object\'s uploads cannot push out another object\'s waiting rollback (at most 20 held per object)', () => {
    const other = 'fraud/v5/model.tar.gz';
    const pkg5 = `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/fraud/5`;
    const approved5 = [
      call('CreateModelPackage', '2026-11-20T10:00:00Z', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/fraud@sha256:${'a'.repeat(64)}`, modelDataUrl: `s3://ml-models/${other}` }] } }, { eventSource: 'sagemaker.amazonaws.com', responseElements: { modelPackageArn: pkg5 } }),
      call('UpdateModelPackage', '2026-11-20T10:30:00Z', { modelPackageArn: pkg5, modelApprovalStatus: 'Approved' }, { eventSource: 'sagemaker.amazonaws.com', responseElements: { modelPackageArn: pkg5 } }),
    ];
    const part = (id: string, k: string) => s3('UploadPartCopy', '2026-11-20T12:00:05Z', { bucketName: 'ml-models', key: k, partNumber: '1', uploadId: id, 'x-amz-copy-source': `ml-models/${k}?versionId=v1` });
    const flood = Array.from({ length: 201 }, (_, i) => part(`f${i}`, other));
    const done = s3('CompleteMultipartUpload', '2026-11-20T12:01:00Z', { bucketName: 'ml-models', key: 'fraud/v4/model.tar.gz', uploadId: 'real' });
    const fired = alerts(events([...approvedPackage(), ...approved5, part('real', 'fraud/v4/model.tar.gz'), ...flood, done])).filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(fired.filter((a) => a.details.object === ARTIFACT).map((a) => [a.details.change, a.details.version_rollback])).toEqual([['artifact_overwritten', { restored_version: 'v1' }]]);
    // The flooded object's own pushed-out uploads are its finding (one, suppressed after: same object, same kind).
    expect(fired.filter((a) => a.details.object === `s3://ml-models/${other}`).map((a) => [a.details.change, a.details.unjudged])).toEqual([['artifact_upload_unjudged', 'pushed_out']]);
  });

  it('uploads over many objects of an approved artifact push the oldest out of the hold (200 in all): a finding, not forgotten', () => {
    // A model stored uncompressed: its artifact is a prefix, every object under it the approved model.
    const pkg = `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/llm/1`;
    const approved = [
      call('CreateModelPackage', '2026-11-20T10:00:00Z', { modelPackageGroupName: 'llm', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/llm@sha256:${'a'.repeat(64)}`, modelDataUrl: 's3://ml-models/llm/v1/' }] } }, { eventSource: 'sagemaker.amazonaws.com', responseElements: { modelPackageArn: pkg } }),
      call('UpdateModelPackage', '2026-11-20T10:30:00Z', { modelPackageArn: pkg, modelApprovalStatus: 'Approved' }, { eventSource: 'sagemaker.amazonaws.com', responseElements: { modelPackageArn: pkg } }),
    ];
    const part = (id: string, k: string, time = '2026-11-20T12:00:05Z') => s3('UploadPartCopy', time, { bucketName: 'ml-models', key: k, partNumber: '1', uploadId: id, 'x-amz-copy-source': `ml-models/${k}?versionId=v1` });
    const real = part('real', 'llm/v1/model-00001.safetensors');
    const flood = Array.from({ length: 200 }, (_, i) => part(`f${i}`, `llm/v1/shard-${i}.bin`, '2026-11-20T12:00:30Z'));
    const fired = alerts(events([...approved, real, ...flood])).filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(fired.map((a) => [a.details.change, a.details.object, a.details.unjudged, a.details.upload_id])).toEqual([['artifact_upload_unjudged', 's3://ml-models/llm/v1/model-00001.safetensors', 'pushed_out', 'real']]);
  });

  it('a part copy held before parts were held whole (its id and version only) is still the rollback at its completion', () => {
    const key = 'fraud/v4/model.tar.gz';
    const state = new MemoryStateStore();
    const engine = createRuleEngine(RulesConfig.parse({}), state);
    const process = (records: Record<string, unknown>[]) => events(records).flatMap((e) => engine.process(e, Date.parse(e.time)));
    process(approvedPackage());
    state.set('rules.kind', 'registry.approved_model_modified|mpu-rollbacks', { [`${ARTIFACT}|u1`]: { restored_version: 'v1', part_event: 'old-part', at: Date.parse('2026-11-20T12:00:05Z') } });
    const fired = process([s3('CompleteMultipartUpload', '2026-11-20T12:00:09Z', { bucketName: 'ml-models', key, uploadId: 'u1' })]).filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(fired.map((a) => [a.details.version_rollback, a.evidence[1]])).toEqual([[{ restored_version: 'v1' }, 'old-part']]);
  });

  it('an upload in parts over an approved artifact with no completion or abort seen in a week is a finding then (also on an idle bridge\'s tick)', () => {
    const key = 'fraud/v4/model.tar.gz';
    const copy = s3('UploadPartCopy', '2026-11-20T12:00:05Z', { bucketName: 'ml-models', key, partNumber: '1', uploadId: 'u1', 'x-amz-copy-source': `ml-models/${key}?versionId=v1` });
    const plain = s3('UploadPart', '2026-11-20T12:00:05Z', { bucketName: 'ml-models', key, partNumber: '1', uploadId: 'u1' });
    const later = (time: string) => s3('PutObject', time, { bucketName: 'ml-models', key: 'scratch/x.bin' }, { 'x-amz-version-id': 'x' });
    const unjudged = (as: Alert[]) => as.filter((a) => a.rule_id === 'registry.approved_model_modified').map((a) => [a.details.change, a.details.unjudged, a.details.version_rollback, a.evidence.at(-1), a.time]);
    const run = (records: Record<string, unknown>[]) => {
      const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
      // Each received when it happened (the helper stamps one receipt on all, which would hold the clock there).
      return { engine, fired: events(records).flatMap((e) => engine.process({ ...e, received_time: e.time }, Date.parse(e.time))) };
    };
    for (const [part, rollback] of [[copy, { restored_version: 'v1' }], [plain, undefined]] as const) {
      expect(unjudged(run([...approvedPackage(), part, later('2026-11-27T11:00:00Z')]).fired)).toEqual([]);
      expect(unjudged(run([...approvedPackage(), part, later('2026-11-27T12:10:00Z')]).fired)).toEqual([['artifact_upload_unjudged', 'not_completed', rollback, normOne(part, SM).id, '2026-11-20T12:00:05.000Z']]);
      const { engine } = run([...approvedPackage(), part]);
      expect(unjudged(engine.tick(Date.parse('2026-11-27T12:10:00Z')))).toEqual([['artifact_upload_unjudged', 'not_completed', rollback, normOne(part, SM).id, '2026-11-20T12:00:05.000Z']]);
    }
  });

  it('an upload in parts over an approved artifact is judged at its completion, once, its first part beside it; started or aborted, nothing', () => {
    const key = 'fraud/v4/model.tar.gz';
    const create = s3('CreateMultipartUpload', '2026-11-20T12:00:00Z', { bucketName: 'ml-models', key, uploads: '' }, { bucketName: 'ml-models', key, uploadId: 'u1' });
    const part = (n: number) => s3('UploadPart', `2026-11-20T12:00:0${n}Z`, { bucketName: 'ml-models', key, partNumber: String(n), uploadId: 'u1' });
    const end = (op: string) => s3(op, '2026-11-20T12:00:09Z', { bucketName: 'ml-models', key, uploadId: 'u1' });
    const arriving = (records: Record<string, unknown>[]) => {
      const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
      return events([...approvedPackage(), ...records]).flatMap((e) => engine.process(e, Date.parse(e.time))).filter((a) => a.rule_id === 'registry.approved_model_modified');
    };
    const [p1, p2, done] = [part(1), part(2), end('CompleteMultipartUpload')];
    expect(arriving([create, p1, p2])).toEqual([]);
    expect(arriving([create, p1, p2, end('AbortMultipartUpload')])).toEqual([]);
    const fired = arriving([create, p1, p2, done]);
    expect(fired.map((a) => [a.details.change, a.details.object, a.evidence.slice(1)])).toEqual([['artifact_overwritten', ARTIFACT, [normOne(p1, SM).id, normOne(done, SM).id]]]);
    expect(fired[0]!.summary).toContain('was written (UploadPart, made current by CompleteMultipartUpload)');
    // The completion delivered first: judged as the write it is; the parts after it add nothing.
    expect(arriving([done, p1, p2]).map((a) => [a.details.change, a.evidence.slice(1)])).toEqual([['artifact_overwritten', [normOne(done, SM).id]]]);
    // The abort delivered before its parts: nothing, and the parts are not left waiting.
    expect(arriving([end('AbortMultipartUpload'), p1, p2, s3('PutObject', '2026-11-28T12:00:00Z', { bucketName: 'ml-models', key: 'scratch/x.bin' })])).toEqual([]);
  });

  it('part copies and completions elsewhere do not push a waiting rollback of an approved artifact out of the hold: each rule holds only objects it judges', () => {
    const key = 'fraud/v4/model.tar.gz';
    const part = (id: string, k = key, time = '2026-11-20T12:00:05Z') => s3('UploadPartCopy', time, { bucketName: 'ml-models', key: k, partNumber: '1', uploadId: id, 'x-amz-copy-source': `ml-models/${k}?versionId=v1` });
    const complete = (id: string, k = key, time = '2026-11-20T12:01:00Z') => s3('CompleteMultipartUpload', time, { bucketName: 'ml-models', key: k, uploadId: id });
    // 300 rollbacks in parts of objects no approved version holds (a busy bucket, or an attacker's own copies), never completed.
    const noise = Array.from({ length: 300 }, (_, i) => part(`n${i}`, `scratch/k${i}.bin`, '2026-11-20T12:00:30Z'));
    const rolledBack = (records: Record<string, unknown>[]) => alerts(events([...approvedPackage(), ...records])).filter((a) => a.rule_id === 'registry.approved_model_modified' && a.details.version_rollback);
    const held = rolledBack([part('real'), ...noise, complete('real')]);
    expect(held.map((a) => [a.details.object, a.details.version_rollback])).toEqual([[ARTIFACT, { restored_version: 'v1' }]]);
    expect(held[0]!.summary).toContain('rolled back: earlier version v1 copied back over it (UploadPartCopy, made current by CompleteMultipartUpload)');
    // Delivered late, after its completion and 300 completions elsewhere: the completion is still remembered.
    const otherCompletions = Array.from({ length: 300 }, (_, i) => complete(`c${i}`, `scratch/c${i}.bin`, '2026-11-20T12:01:30Z'));
    expect(rolledBack([complete('late'), ...otherCompletions, part('late', key, '2026-11-20T12:02:00Z')])).toHaveLength(1);
    // Nothing of the uploads elsewhere is kept; a plain write reads no multipart state.
    const reads: string[] = [];
    const store = new (class extends MemoryStateStore {
      override get<T>(ns: string, k: string): T | undefined { reads.push(k); return super.get<T>(ns, k); }
    })();
    const engine = createRuleEngine(RulesConfig.parse({}), store);
    for (const e of events([...approvedPackage(), ...noise.slice(0, 5), complete('n0', 'scratch/k0.bin')])) engine.process(e, Date.parse(e.time));
    // registry.modification_rate judges every registry write: it remembers the upload ids completed (one write per upload), holds no part.
    const kept = store.list('rules.kind').filter((x) => x.key.includes('mpu-'));
    expect(kept.filter((x) => !x.key.startsWith('registry.modification_rate|'))).toEqual([]);
    expect(kept.map((x) => [x.key, Object.keys(x.value as object)])).toEqual([['registry.modification_rate|mpu-ended', ['s3://ml-models/scratch/k0.bin|n0']]]);
    reads.length = 0;
    for (const e of events([s3('PutObject', '2026-11-20T12:03:00Z', { bucketName: 'ml-models', key }, { 'x-amz-version-id': 'v9' })])) engine.process(e, Date.parse(e.time));
    expect(reads.filter((k) => k.includes('mpu-'))).toEqual([]);
  });

  it('aborts of uploads to data ingestion.unfamiliar_writer does not judge do not push out the completion a late part copy of trained data is judged by', () => {
    const history = Array.from({ length: 9 }, (_, i) => s3('PutObject', `2026-11-0${i + 1}T02:00:00Z`, { bucketName: 'ml-training-data', key: `churn/part-${i}.parquet` }, { 'x-amz-version-id': `p${i}` }));
    const trained = trainingJob('2026-11-09T04:00:00Z', 'churn-train-1109', 's3://ml-training-data/churn/');
    const done = s3('CompleteMultipartUpload', '2026-11-10T03:00:09Z', { bucketName: 'ml-training-data', key: 'churn/part-8.parquet', uploadId: 'up-1' });
    // Model-bucket uploads (stage registry) aborted: not data this rule judges.
    const aborts = Array.from({ length: 300 }, (_, i) => s3('AbortMultipartUpload', '2026-11-10T03:00:20Z', { bucketName: 'ml-models', key: `tmp/m${i}.tar.gz`, uploadId: `a${i}` }));
    const part = s3('UploadPartCopy', '2026-11-10T03:00:01Z', { bucketName: 'ml-training-data', key: 'churn/part-8.parquet', partNumber: '1', uploadId: 'up-1', 'x-amz-copy-source': 'ml-training-data/churn/part-8.parquet?versionId=p0' });
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const fired = events([...history, trained, done, ...aborts, part]).flatMap((e) => engine.process(e, Date.parse(e.time))).filter((a) => a.rule_id === 'ingestion.unfamiliar_writer');
    expect(fired.map((a) => [a.details.finding, a.evidence, a.details.version_rollback])).toEqual([['trained_data_rolled_back', [normOne(part, SM).id, normOne(done, SM).id], { restored_version: 'p0' }]]);
  });

  it('training data no job has read, rolled back by its own pipeline: no alert (a known writer), the event says it was a rollback; by an unfamiliar writer, the alert says so', () => {
    // Nine nights of the pipeline writing churn/: its writers are learned (min_history 7 d).
    const history = Array.from({ length: 9 }, (_, i) => s3('PutObject', `2026-11-0${i + 1}T02:00:00Z`, { bucketName: 'ml-training-data', key: `churn/part-${i}.parquet` }, { 'x-amz-version-id': `p${i}` }));
    const rollback = s3('CopyObject', '2026-11-10T03:00:00Z', { bucketName: 'ml-training-data', key: 'churn/part-8.parquet', 'x-amz-copy-source': 'ml-training-data/churn/part-8.parquet?versionId=p0' }, { 'x-amz-version-id': 'p9' });
    const evs = events([...history, rollback]);
    expect(evs.at(-1)).toMatchObject({ stage: 'ingestion', action: 'data_object.copy', details: { version_rollback: { restored_version: 'p0' } } });
    expect(alerts(evs).filter((a) => a.rule_id === 'ingestion.unfamiliar_writer')).toEqual([]);
    const mallory = { ...etl, principalId: 'AIDAMALLORY', arn: `arn:aws:iam::${ACCOUNT}:user/mallory`, type: 'IAMUser', userName: 'mallory', sessionContext: undefined };
    const byStranger = { ...s3('DeleteObject', '2026-11-10T03:00:00Z', { bucketName: 'ml-training-data', key: 'churn/part-8.parquet', versionId: 'p8' }), userIdentity: mallory };
    const fired = alerts(events([...history, byStranger])).filter((a) => a.rule_id === 'ingestion.unfamiliar_writer');
    expect(fired.map((a) => a.details.version_rollback)).toEqual([{ removed_version: 'p8' }]);
    expect(fired[0]!.summary).toContain('(DeleteObject: version p8 removed');
  });

  it('a known writer putting back an earlier version of training data a training job read is a medium finding of ingestion.unfamiliar_writer, once; data no job read, or a version deleted, stays in the event', () => {
    const history = Array.from({ length: 9 }, (_, i) => s3('PutObject', `2026-11-0${i + 1}T02:00:00Z`, { bucketName: 'ml-training-data', key: `churn/part-${i}.parquet` }, { 'x-amz-version-id': `p${i}` }));
    const trained = trainingJob('2026-11-09T04:00:00Z', 'churn-train-1109', 's3://ml-training-data/churn/');
    const back = s3('CopyObject', '2026-11-10T03:00:00Z', { bucketName: 'ml-training-data', key: 'churn/part-8.parquet', 'x-amz-copy-source': 'ml-training-data/churn/part-8.parquet?versionId=p0' }, { 'x-amz-version-id': 'p9' });
    const writerAlerts = (records: Record<string, unknown>[]) => alerts(events(records)).filter((a) => a.rule_id === 'ingestion.unfamiliar_writer');
    const fired = writerAlerts([...history, trained, back]);
    expect(fired.map((a) => [a.severity, a.entity.id, a.evidence, a.details.finding, a.details.object, a.details.read_by, a.details.version_rollback])).toEqual([
      ['medium', 's3://ml-training-data/churn/', [normOne(back, SM).id], 'trained_data_rolled_back', 's3://ml-training-data/churn/part-8.parquet', ['churn-train'], { restored_version: 'p0' }],
    ]);
    expect(fired[0]!.summary).toContain('rolled back s3://ml-training-data/churn/part-8.parquet (CopyObject: earlier version p0 copied back over it); read by training jobs churn-train');
    // No training job read it yet (a data engineer fixing a file before anyone trained on it): visible in the event only.
    expect(writerAlerts([...history, back])).toEqual([]);
    // A version deleted may be the cleanup of a noncurrent one: no finding either.
    const removed = s3('DeleteObject', '2026-11-10T03:00:00Z', { bucketName: 'ml-training-data', key: 'churn/part-8.parquet', versionId: 'p8' });
    expect(writerAlerts([...history, trained, removed])).toEqual([]);
    // Copied back in parts: judged at the completion, once.
    const part = (n: number) => s3('UploadPartCopy', `2026-11-10T03:00:0${n}Z`, { bucketName: 'ml-training-data', key: 'churn/part-8.parquet', partNumber: String(n), uploadId: 'up-1', 'x-amz-copy-source': 'ml-training-data/churn/part-8.parquet?versionId=p0' });
    const done = s3('CompleteMultipartUpload', '2026-11-10T03:00:09Z', { bucketName: 'ml-training-data', key: 'churn/part-8.parquet', uploadId: 'up-1' });
    const first = part(1);
    const inParts = writerAlerts([...history, trained, first, part(2), done]);
    expect(inParts.map((a) => [a.evidence, a.details.operation, a.details.version_rollback])).toEqual([[[normOne(first, SM).id, normOne(done, SM).id], 'UploadPartCopy, made current by CompleteMultipartUpload', { restored_version: 'p0' }]]);
    // An unfamiliar writer's rollback is that writer's finding (it says rollback), not a second one.
    const mallory = { ...etl, principalId: 'AIDAMALLORY', arn: `arn:aws:iam::${ACCOUNT}:user/mallory`, type: 'IAMUser', userName: 'mallory', sessionContext: undefined };
    const byStranger = writerAlerts([...history, trained, { ...back, userIdentity: mallory }]);
    expect(byStranger.map((a) => [a.details.finding, a.details.identity, a.details.version_rollback])).toEqual([[undefined, 'mallory', { restored_version: 'p0' }]]);
  });

  it('training data written in parts by an unfamiliar writer is judged at the completion (its first part beside it); an aborted upload raises nothing; one never completed is the finding a week later', () => {
    const history = Array.from({ length: 9 }, (_, i) => s3('PutObject', `2026-11-0${i + 1}T02:00:00Z`, { bucketName: 'ml-training-data', key: `churn/part-${i}.parquet` }, { 'x-amz-version-id': `p${i}` }));
    const mallory = { ...etl, principalId: 'AIDAMALLORY', arn: `arn:aws:iam::${ACCOUNT}:user/mallory`, type: 'IAMUser', userName: 'mallory', sessionContext: undefined };
    const by = (r: Record<string, unknown>) => ({ ...r, userIdentity: mallory });
    const key = 'churn/part-9.parquet';
    const create = by(s3('CreateMultipartUpload', '2026-11-10T03:00:00Z', { bucketName: 'ml-training-data', key, uploads: '' }));
    const part = (n: number) => by(s3('UploadPart', `2026-11-10T03:00:0${n}Z`, { bucketName: 'ml-training-data', key, partNumber: String(n), uploadId: 'up-9' }));
    const end = (op: string) => by(s3(op, '2026-11-10T03:00:09Z', { bucketName: 'ml-training-data', key, uploadId: 'up-9' }));
    const writer = (records: Record<string, unknown>[]) => {
      const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
      return events(records).flatMap((e) => engine.process({ ...e, received_time: e.time }, Date.parse(e.time))).filter((a) => a.rule_id === 'ingestion.unfamiliar_writer');
    };
    const [p1, p2, done] = [part(1), part(2), end('CompleteMultipartUpload')];
    expect(writer([...history, create, p1, p2, end('AbortMultipartUpload')])).toEqual([]);
    const fired = writer([...history, create, p1, p2, done]);
    expect(fired.map((a) => [a.details.identity, a.details.object, a.details.operation, a.evidence])).toEqual([['mallory', `s3://ml-training-data/${key}`, 'UploadPart, made current by CompleteMultipartUpload', [normOne(p1, SM).id, normOne(done, SM).id]]]);
    // Never completed (or its completion not logged): the finding, once the week is over, dated at the part.
    const later = s3('PutObject', '2026-11-17T03:10:00Z', { bucketName: 'ml-training-data', key: 'churn/part-10.parquet' }, { 'x-amz-version-id': 'p10' });
    const lost = writer([...history, create, p1, p2, later]);
    expect(lost.map((a) => [a.details.identity, a.details.unjudged, a.details.upload_id, a.evidence, a.time])).toEqual([['mallory', 'not_completed', 'up-9', [normOne(p1, SM).id], '2026-11-10T03:00:01.000Z']]);
    expect(lost[0]!.summary).toContain('mallory started writing s3://ml-training-data/churn/part-9.parquet in parts (UploadPart)');
    // The pipeline's own upload never completed (a failed job; a lifecycle rule aborts it unlogged): nothing.
    expect(writer([...history, s3('UploadPart', '2026-11-10T03:00:01Z', { bucketName: 'ml-training-data', key, partNumber: '1', uploadId: 'up-9' }), later])).toEqual([]);
  });

  it('a part another writer added to the pipeline\'s upload in parts is judged as that writer\'s write at the completion; one pipeline\'s machine sessions are one writer', () => {
    const history = Array.from({ length: 9 }, (_, i) => s3('PutObject', `2026-11-0${i + 1}T02:00:00Z`, { bucketName: 'ml-training-data', key: `churn/part-${i}.parquet` }, { 'x-amz-version-id': `p${i}` }));
    const mallory = { ...etl, principalId: 'AIDAMALLORY', arn: `arn:aws:iam::${ACCOUNT}:user/mallory`, type: 'IAMUser', userName: 'mallory', sessionContext: undefined };
    const node = (id: string) => ({ ...etl, principalId: `AROAETL:${id}`, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/etl/${id}` });
    const key = 'churn/part-9.parquet';
    const part = (n: number, who: Record<string, unknown> = etl) => ({ ...s3('UploadPart', `2026-11-10T03:00:0${n}Z`, { bucketName: 'ml-training-data', key, partNumber: String(n), uploadId: 'up-9' }), userIdentity: who });
    const end = (op: string, who: Record<string, unknown> = etl) => ({ ...s3(op, '2026-11-10T03:00:09Z', { bucketName: 'ml-training-data', key, uploadId: 'up-9' }), userIdentity: who });
    const writer = (records: Record<string, unknown>[]) => {
      const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
      return events(records).flatMap((e) => engine.process({ ...e, received_time: e.time }, Date.parse(e.time))).filter((a) => a.rule_id === 'ingestion.unfamiliar_writer');
    };
    const [p1, injected, p3, done] = [part(1), part(2, mallory), part(3), end('CompleteMultipartUpload')];
    const fired = writer([...history, p1, injected, p3, done]);
    expect(fired.map((a) => [a.details.identity, a.details.operation, a.evidence])).toEqual([['mallory', 'UploadPart, made current by CompleteMultipartUpload', [normOne(injected, SM).id, normOne(done, SM).id]]]);
    // The injected part first, the pipeline's after it: the same.
    expect(writer([...history, injected, p1, done]).map((a) => a.details.identity)).toEqual(['mallory']);
    // Aborted: nothing was written. Never completed (no completion seen in a week): mallory's part is the finding then.
    expect(writer([...history, p1, injected, end('AbortMultipartUpload')])).toEqual([]);
    const later = s3('PutObject', '2026-11-17T03:10:00Z', { bucketName: 'ml-training-data', key: 'churn/part-10.parquet' }, { 'x-amz-version-id': 'p10' });
    expect(writer([...history, p1, injected, p3, later]).map((a) => [a.details.identity, a.details.unjudged, a.evidence])).toEqual([['mallory', 'not_completed', [normOne(injected, SM).id]]]);
    // A Spark job writing from its nodes (machine session names of one role), completed by its driver: one writer, nothing.
    const nodeHistory = history.map((r) => ({ ...r, userIdentity: node('i-0123456789abcdef0') }));
    const nodes = [part(1, node('i-0123456789abcdef0')), part(2, node('i-0fedcba9876543210')), end('CompleteMultipartUpload', node('i-0aaaabbbbccccdddd'))];
    expect(writer([...nodeHistory, ...nodes])).toEqual([]);
  });

  it('a pipeline resetting trained data to its canonical version every night is one finding, not one a night; another version put back is a new one', () => {
    const history = Array.from({ length: 9 }, (_, i) => s3('PutObject', `2026-11-0${i + 1}T02:00:00Z`, { bucketName: 'ml-training-data', key: `churn/part-${i}.parquet` }, { 'x-amz-version-id': `p${i}` }));
    const trained = trainingJob('2026-11-09T04:00:00Z', 'churn-train-1109', 's3://ml-training-data/churn/');
    const reset = (day: string, version = 'p0') => s3('CopyObject', `2026-11-${day}T03:00:00Z`, { bucketName: 'ml-training-data', key: 'churn/part-8.parquet', 'x-amz-copy-source': `ml-training-data/churn/part-8.parquet?versionId=${version}` }, { 'x-amz-version-id': `r${day}` });
    const found = (records: Record<string, unknown>[]) => alerts(events(records)).filter((a) => a.rule_id === 'ingestion.unfamiliar_writer').map((a) => [a.details.finding, a.time.slice(0, 10), a.details.version_rollback]);
    expect(found([...history, trained, reset('10'), reset('12'), reset('14'), reset('16')])).toEqual([['trained_data_rolled_back', '2026-11-10', { restored_version: 'p0' }]]);
    expect(found([...history, trained, reset('10'), reset('12'), reset('14', 'p3')])).toEqual([
      ['trained_data_rolled_back', '2026-11-10', { restored_version: 'p0' }],
      ['trained_data_rolled_back', '2026-11-14', { restored_version: 'p3' }],
    ]);
  });

  it('lifecycle expirations raise nothing: CloudTrail does not log them (S3 acts on internal endpoints), and their EventBridge events and S3 notifications are not read as object calls', () => {
    const eventBridge = { version: '0', id: 'lc-1', 'detail-type': 'Object Deleted', source: 'aws.s3', account: ACCOUNT, time: '2026-11-20T12:00:00Z', region: 'us-east-1', resources: ['arn:aws:s3:::ml-models'],
      detail: { version: '0', bucket: { name: 'ml-models' }, object: { key: 'fraud/v4/model.tar.gz', sequencer: '617B48D7C8BA3F0D' }, 'request-id': '0BH729840619AG5K', requester: 's3.amazonaws.com', 'source-ip-address': 's3.amazonaws.com', reason: 'Lifecycle Expiration', 'deletion-type': 'Delete Marker Created' } };
    const out = norm(eventBridge, SM);
    expect(out.events).toEqual([]);
    expect(out.rejected).toEqual([]);
    // The S3 notification of an expiration (eventName LifecycleExpiration:Delete) names no object to hash or judge.
    const notice = parseQueueMessage(JSON.stringify({ Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: 'us-east-1', eventTime: '2026-11-20T12:00:00.000Z', eventName: 'LifecycleExpiration:Delete', userIdentity: { principalId: 's3.amazonaws.com' },
      requestParameters: { sourceIPAddress: 's3.amazonaws.com' }, responseElements: { 'x-amz-request-id': 'C3D13FE58DE4C810', 'x-amz-id-2': 'FMyUVURIY8' }, s3: { s3SchemaVersion: '1.0', configurationId: 'models', bucket: { name: 'ml-models', ownerIdentity: { principalId: 'A3NL1KOZZKExample' }, arn: 'arn:aws:s3:::ml-models' }, object: { key: 'fraud/v4/model.tar.gz', versionId: 'v2', sequencer: '0055AED6DCD90281E5' } } }] }));
    expect(notice).toMatchObject({ kind: 'objects', refs: [] });
  });
});

describe('object-generation rollback on Cloud Storage', () => {
  // Cloud Storage's audit entries name the object, not its generation, and a copy is logged as its read and its
  // write: a noncurrent generation copied back over an approved model's artifact is a write of that artifact.
  const MODEL = `${LOC}/models/55`;
  const upload = vxOne(auditEntry({ method: `${V1}ModelService.UploadModel`, resourceName: LOC, principal: 'pipeline@ml-prod-123.iam.gserviceaccount.com', timestamp: '2026-11-20T09:00:00Z',
    request: { parent: LOC, model: { displayName: 'fraud', artifactUri: 'gs://fraud-models/fraud/v1/', versionAliases: ['production'] } }, response: { name: `${LOC}/operations/1`, metadata: {}, model: MODEL, modelVersionId: '1' } }));
  const storage = (method: string, object: string, time: string) => {
    const e = auditEntry({ method, resourceName: `projects/_/buckets/fraud-models/objects/${object}`, principal: 'pipeline@ml-prod-123.iam.gserviceaccount.com', log: 'data_access', timestamp: time });
    (e.protoPayload as Record<string, unknown>).serviceName = 'storage.googleapis.com';
    e.resource = { type: 'gcs_bucket', labels: { bucket_name: 'fraud-models', project_id: 'ml-prod-123', location: 'us' } };
    return vxOne(e);
  };

  it('an approved model\'s artifact rewritten or its live generation deleted by the pipeline that uploaded it is approved-model tampering', () => {
    const rewrite = storage('storage.objects.create', 'fraud/v1/model.joblib', '2026-11-20T12:00:00Z');
    const removed = storage('storage.objects.delete', 'fraud/v1/model.joblib', '2026-11-20T12:05:00Z');
    const fired = alerts([upload, rewrite, removed]).filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(fired.map((a) => [a.details.change, a.details.object])).toEqual([
      ['artifact_overwritten', 'gs://fraud-models/fraud/v1/model.joblib'],
      ['artifact_deleted', 'gs://fraud-models/fraud/v1/model.joblib'],
    ]);
  });

  it('a noncurrent generation rewritten or copied back (storage.objects.rewrite / copy with sourceGeneration, which the entry does not show) is the same tampering finding, its source read aside', () => {
    for (const method of ['storage.objects.rewrite', 'storage.objects.copy']) {
      // The read of the old generation (DATA_READ) and the write of the live object, as Cloud Storage logs a copy.
      const read = storage('storage.objects.get', 'fraud/v1/model.joblib', '2026-11-20T11:59:59Z');
      const back = storage(method, 'fraud/v1/model.joblib', '2026-11-20T12:00:00Z');
      expect(back.action).toBe('data_object.copy');
      const fired = alerts([upload, read, back]).filter((a) => a.rule_id === 'registry.approved_model_modified');
      expect(fired.map((a) => [a.details.change, a.details.object])).toEqual([['artifact_overwritten', 'gs://fraud-models/fraud/v1/model.joblib']]);
      // Nothing says which generation came back: the finding does not claim a rollback.
      expect(fired[0]!.details.version_rollback).toBeUndefined();
    }
  });
});

describe('S3 DeleteObjects (multi-object delete)', () => {
  /**
   * CloudTrail's record of a DeleteObjects, as AWS logs it (the record Stratus Red Team's aws.impact.s3-ransomware
   * documents): the request body is left out (`delete: ""`) and the object resource has only an `ARNPrefix`.
   */
  const deleteObjects = (time: string, arnPrefix: string, params: Record<string, unknown> = {}) =>
    call('DeleteObjects', time, { bucketName: 'ml-models', Host: 'ml-models.s3.us-east-1.amazonaws.com', delete: '', 'x-id': 'DeleteObjects', ...params }, {
      eventSource: 's3.amazonaws.com', eventCategory: 'Data', managementEvent: false, readOnly: false, userIdentity: etl, responseElements: null,
      resources: [{ type: 'AWS::S3::Object', ARNPrefix: arnPrefix }, { accountId: ACCOUNT, type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::ml-models' }] });
  const modified = (evs: NormalizedEvent[]) => alerts(evs).filter((a) => a.rule_id === 'registry.approved_model_modified');

  it('a DeleteObjects whose record names no object is read as the bucket or prefix it names and judged through the DeleteObject CloudTrail adds per object', () => {
    const ev = normOne(deleteObjects('2026-11-20T12:00:00Z', 'arn:aws:s3:::ml-models/'), SM);
    expect(ev).toMatchObject({ action: 'data_object.delete', stage: 'registry', ml: { data: { uris: ['s3://ml-models'] } }, details: { objects_not_named: true } });
    // Not a deletion of every approved artifact in the bucket: a cleanup anywhere in it would alert for each.
    expect(modified(events([...approvedPackage(), deleteObjects('2026-11-20T12:00:00Z', 'arn:aws:s3:::ml-models/')]))).toEqual([]);
    // The DeleteObject CloudTrail adds for each object (since June 2025) names the approved artifact: that is the finding.
    const perObject = s3('DeleteObject', '2026-11-20T12:00:00Z', { bucketName: 'ml-models', key: 'fraud/v4/model.tar.gz' });
    const fired = modified(events([...approvedPackage(), deleteObjects('2026-11-20T12:00:00Z', 'arn:aws:s3:::ml-models/'), perObject]));
    expect(fired.map((a) => [a.details.change, a.details.object])).toEqual([['artifact_deleted', ARTIFACT]]);
  });

  it('a DeleteObjects whose request names an object\'s VersionId is a possible rollback of that object, as DeleteObject of a versionId is', () => {
    const named = call('DeleteObjects', '2026-11-20T12:00:00Z', { bucketName: 'ml-models', delete: { Object: [{ Key: 'fraud/v3/model.tar.gz' }, { Key: 'fraud/v4/model.tar.gz', VersionId: 'v2' }], Quiet: true } },
      { eventSource: 's3.amazonaws.com', eventCategory: 'Data', userIdentity: etl });
    expect(normOne(named, SM).details).toMatchObject({ version_rollback: { removed_versions: { 's3://ml-models/fraud/v4/model.tar.gz': 'v2' } } });
    const fired = modified(events([...approvedPackage(), named]));
    expect(fired.map((a) => [a.details.change, a.details.object, a.details.version_rollback])).toEqual([['artifact_deleted', ARTIFACT, { removed_version: 'v2' }]]);
    expect(fired[0]!.summary).toContain('was rolled back: version v2 removed');
  });
});
