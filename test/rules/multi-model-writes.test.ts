import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { readFixtureJson } from '../helpers/fixtures.js';
import { CT_ACCOUNT, cloudTrailRecord, normalizeSageMaker } from '../core/rules/cloudtrail.js';

/**
 * A SageMaker multi-model endpoint serves every object under its Model's ModelDataUrl prefix (container
 * `Mode: MultiModel`; InvokeEndpoint's TargetModel names the object): an S3 write there is a new deployable model
 * with no registry step. registry.unapproved_deployment judges such writes, the deploy pipeline's excepted.
 * CreateModel / CreateModelPackage / DeleteModel as CloudTrail records them (the CreateEndpoint fixture's shape);
 * PutObject from the real EventBridge-delivered S3 data event fixture, CopyObject from the real CopyObject record,
 * each given another bucket, key and caller.
 */
type Obj = Record<string, any>;
const PUT = readFixtureJson<Obj>('sagemaker', 'eventbridge-cloudtrail-s3-putobject.stepfunctions-docs.json');
const COPY = readFixtureJson<Obj>('sagemaker', 'cloudtrail-s3-copyobject-external-account.panther.json');
const RULE = 'registry.unapproved_deployment';
const PREFIX = 's3://models/mme/fraud/';
let n = 0;

/** An assumed-role caller of the account: `role` (the IAM role), `session` (its session name). */
function role(name: string, session: string): Obj {
  return {
    type: 'AssumedRole', principalId: `AROA${name.toUpperCase()}:${session}`, arn: `arn:aws:sts::${CT_ACCOUNT}:assumed-role/${name}/${session}`, accountId: CT_ACCOUNT,
    sessionContext: { sessionIssuer: { type: 'Role', principalId: `AROA${name.toUpperCase()}`, arn: `arn:aws:iam::${CT_ACCOUNT}:role/${name}`, accountId: CT_ACCOUNT, userName: name }, attributes: { creationDate: '2026-03-02T00:00:00Z', mfaAuthenticated: 'false' } },
  };
}
const DEPLOYER = role('MLDeployer', 'ci-build-41');
const DEPLOYER_LATER = role('MLDeployer', 'botocore-session-1772412345');
const MALLORY = role('DataSci', 'mallory');

const sm = (eventName: string, t: string, req: Obj, resp: Obj, who: Obj) => ({ ...cloudTrailRecord(eventName, t, req, { resp }), userIdentity: who });
const mmeModel = (t: string, name = 'mme-fraud', prefix = PREFIX, mode = 'MultiModel') =>
  sm('CreateModel', t, { modelName: name, primaryContainer: { image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/mxnet-inference:1.8.0-cpu-py37', mode, modelDataUrl: prefix }, executionRoleArn: `arn:aws:iam::${CT_ACCOUNT}:role/SageMakerExec` }, { modelArn: `arn:aws:sagemaker:us-east-1:${CT_ACCOUNT}:model/${name}` }, DEPLOYER);
const deleteModel = (t: string, name = 'mme-fraud') => sm('DeleteModel', t, { modelName: name }, {}, DEPLOYER);
const approvedPackage = (t: string) =>
  sm('CreateModelPackage', t, { modelPackageGroupName: 'fraud', modelApprovalStatus: 'Approved', inferenceSpecification: { containers: [{ image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/mxnet-inference:1.8.0-cpu-py37', modelDataUrl: 's3://registry-artifacts/fraud/v7/model.tar.gz' }], supportedContentTypes: ['text/csv'], supportedResponseMIMETypes: ['text/csv'] } }, { modelPackageArn: `arn:aws:sagemaker:us-east-1:${CT_ACCOUNT}:model-package/fraud/7` }, role('Approver', 'carol'));

/** The real PutObject data event (EventBridge envelope), writing `s3://<bucket>/<key>` as `who` at `t`. */
function put(t: string, uri: string, who: Obj): Obj {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri)!;
  const e = structuredClone(PUT);
  e.id = `put-${++n}`;
  e.time = t;
  e.detail = { ...e.detail, eventTime: t, eventID: `put-${n}`, userIdentity: who, requestParameters: { ...e.detail.requestParameters, bucketName: bucket, key }, resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` }, { accountId: CT_ACCOUNT, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }] };
  return e;
}
/** The real CopyObject record, copying `from` to `to` as `who` at `t`. */
function copy(t: string, from: string, to: string, who: Obj): Obj {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.*)$/.exec(to)!;
  const [, sb, sk] = /^s3:\/\/([^/]+)\/(.*)$/.exec(from)!;
  return { ...structuredClone(COPY), eventTime: t, eventID: `copy-${++n}`, awsRegion: 'us-east-1', recipientAccountId: CT_ACCOUNT, userIdentity: who, requestParameters: { bucketName: bucket, key, 'x-amz-copy-source': `${sb}/${sk}` }, resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${sb}/${sk}` }, { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` }, { accountId: CT_ACCOUNT, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }] };
}

const writeAlerts = (records: Obj[], rules: Obj = {}): Alert[] =>
  replayEvents(normalizeSageMaker(records), { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE && a.details.reason === 'multi_model_write');

describe('writes under a SageMaker multi-model prefix (registry.unapproved_deployment, reason multi_model_write)', () => {
  it('CreateModel with Mode MultiModel carries its prefix in ml.model.multi_model_prefixes; a single-model one does not', () => {
    const [mme, single] = normalizeSageMaker([mmeModel('2026-03-02T01:00:00Z'), mmeModel('2026-03-02T01:00:00Z', 'one', 's3://models/one/model.tar.gz', 'SingleModel')]) as NormalizedEvent[];
    expect(mme!.ml?.model?.multi_model_prefixes).toEqual([PREFIX]);
    expect(single!.ml?.model?.multi_model_prefixes).toBeUndefined();
  });

  it("another principal's PutObject under the prefix alerts, naming the Model, the prefix and the object; the creating role's own writes (any session) do not", () => {
    const model = mmeModel('2026-03-02T01:00:00Z');
    const evil = put('2026-03-02T03:00:00Z', `${PREFIX}evil.tar.gz`, MALLORY);
    const records = [model, put('2026-03-02T02:00:00Z', `${PREFIX}fraud-v7.tar.gz`, DEPLOYER_LATER), evil];
    const alerts = writeAlerts(records);
    const ids = normalizeSageMaker(records).map((e) => e.id);
    expect(alerts.map((a) => [a.entity, a.details.model, a.details.prefix, a.details.object, a.details.writer_principal, a.evidence])).toEqual([
      [{ type: 'model', id: `${CT_ACCOUNT}:us-east-1:mme-fraud`, name: 'mme-fraud', platform: 'sagemaker' }, 'mme-fraud', PREFIX, `${PREFIX}evil.tar.gz`, `arn:aws:iam::${CT_ACCOUNT}:role/datasci`, [ids[0], ids[2]]],
    ]);
    expect(alerts[0]!.summary).toContain('InvokeEndpoint can load it as a TargetModel');
    // Near misses: outside the prefix, a single-model Model's directory, after the Model was deleted.
    expect(writeAlerts([model, put('2026-03-02T03:00:00Z', 's3://models/mme/other/evil.tar.gz', MALLORY)])).toEqual([]);
    expect(writeAlerts([mmeModel('2026-03-02T01:00:00Z', 'one', 's3://models/one/', 'SingleModel'), put('2026-03-02T03:00:00Z', 's3://models/one/evil.tar.gz', MALLORY)])).toEqual([]);
    expect(writeAlerts([model, deleteModel('2026-03-02T02:00:00Z'), put('2026-03-02T03:00:00Z', `${PREFIX}evil.tar.gz`, MALLORY)])).toEqual([]);
  });

  it('a copy of an approved version\'s artifact into the prefix passes, whoever copies; a copy of anything else alerts with copied_from', () => {
    const ok = writeAlerts([approvedPackage('2026-03-02T00:30:00Z'), mmeModel('2026-03-02T01:00:00Z'), copy('2026-03-02T02:00:00Z', 's3://registry-artifacts/fraud/v7/model.tar.gz', `${PREFIX}fraud-v7.tar.gz`, MALLORY)]);
    expect(ok).toEqual([]);
    const bad = writeAlerts([approvedPackage('2026-03-02T00:30:00Z'), mmeModel('2026-03-02T01:00:00Z'), copy('2026-03-02T02:00:00Z', 's3://scratch/mallory/model.tar.gz', `${PREFIX}fraud-v8.tar.gz`, MALLORY)]);
    expect(bad.map((a) => [a.details.object, a.details.copied_from])).toEqual([[`${PREFIX}fraud-v8.tar.gz`, 's3://scratch/mallory/model.tar.gz']]);
  });

  it('mme_writers names the pipeline: its writes pass, and then the creator is no longer trusted by default', () => {
    const uploader = role('ModelSync', 'sync-1');
    const records = [mmeModel('2026-03-02T01:00:00Z'), put('2026-03-02T02:00:00Z', `${PREFIX}a.tar.gz`, uploader), put('2026-03-02T03:00:00Z', `${PREFIX}b.tar.gz`, DEPLOYER_LATER)];
    expect(writeAlerts(records).map((a) => a.details.object)).toEqual([`${PREFIX}a.tar.gz`]);
    const listed = writeAlerts(records, { [RULE]: { mme_writers: [`arn:aws:sts::${CT_ACCOUNT}:assumed-role/ModelSync/*`] } });
    expect(listed.map((a) => a.details.object)).toEqual([`${PREFIX}b.tar.gz`]);
  });
});
