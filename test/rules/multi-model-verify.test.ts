import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { Alert } from '../../core/schema/index.js';
import { readFixtureJson } from '../helpers/fixtures.js';
import { CT_ACCOUNT, cloudTrailRecord, normalizeSageMaker } from '../core/rules/cloudtrail.js';

/** Verification repros for multi_model_write (verify26a): DeleteModel under a live endpoint, rejected copies, many Models. */
type Obj = Record<string, any>;
const PUT = readFixtureJson<Obj>('sagemaker', 'eventbridge-cloudtrail-s3-putobject.stepfunctions-docs.json');
const COPY = readFixtureJson<Obj>('sagemaker', 'cloudtrail-s3-copyobject-external-account.panther.json');
const RULE = 'registry.unapproved_deployment';
const PREFIX = 's3://models/mme/fraud/';
let n = 0;
function role(name: string, session: string): Obj {
  return {
    type: 'AssumedRole', principalId: `AROA${name.toUpperCase()}:${session}`, arn: `arn:aws:sts::${CT_ACCOUNT}:assumed-role/${name}/${session}`, accountId: CT_ACCOUNT,
    sessionContext: { sessionIssuer: { type: 'Role', principalId: `AROA${name.toUpperCase()}`, arn: `arn:aws:iam::${CT_ACCOUNT}:role/${name}`, accountId: CT_ACCOUNT, userName: name }, attributes: { creationDate: '2026-03-02T00:00:00Z', mfaAuthenticated: 'false' } },
  };
}
const DEPLOYER = role('MLDeployer', 'ci-build-41');
const MALLORY = role('DataSci', 'mallory');
const IMG = '763104351884.dkr.ecr.us-east-1.amazonaws.com/mxnet-inference:1.8.0-cpu-py37';
const sm = (eventName: string, t: string, req: Obj, resp: Obj, who: Obj) => ({ ...cloudTrailRecord(eventName, t, req, { resp }), userIdentity: who });
const mmeModel = (t: string, name = 'mme-fraud', prefix = PREFIX) =>
  sm('CreateModel', t, { modelName: name, primaryContainer: { image: IMG, mode: 'MultiModel', modelDataUrl: prefix }, executionRoleArn: `arn:aws:iam::${CT_ACCOUNT}:role/SageMakerExec` }, { modelArn: `arn:aws:sagemaker:us-east-1:${CT_ACCOUNT}:model/${name}` }, DEPLOYER);
const endpointConfig = (t: string, model = 'mme-fraud') =>
  sm('CreateEndpointConfig', t, { endpointConfigName: `${model}-cfg`, productionVariants: [{ variantName: 'AllTraffic', modelName: model, initialInstanceCount: 1, instanceType: 'ml.m5.large' }] }, { endpointConfigArn: `arn:aws:sagemaker:us-east-1:${CT_ACCOUNT}:endpoint-config/${model}-cfg` }, DEPLOYER);
const deleteModel = (t: string, name = 'mme-fraud', who = DEPLOYER) => sm('DeleteModel', t, { modelName: name }, {}, who);
const pkg = (t: string, version: number, status: string, artifact: string) =>
  sm('CreateModelPackage', t, { modelPackageGroupName: 'fraud', modelApprovalStatus: status, inferenceSpecification: { containers: [{ image: IMG, modelDataUrl: artifact }], supportedContentTypes: ['text/csv'], supportedResponseMIMETypes: ['text/csv'] } }, { modelPackageArn: `arn:aws:sagemaker:us-east-1:${CT_ACCOUNT}:model-package/fraud/${version}` }, role('Approver', 'carol'));
function put(t: string, uri: string, who: Obj): Obj {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri)!;
  const e = structuredClone(PUT);
  e.id = `vput-${++n}`;
  e.time = t;
  e.detail = { ...e.detail, eventTime: t, eventID: `vput-${n}`, userIdentity: who, requestParameters: { ...e.detail.requestParameters, bucketName: bucket, key }, resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` }, { accountId: CT_ACCOUNT, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }] };
  return e;
}
function copy(t: string, from: string, to: string, who: Obj): Obj {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.*)$/.exec(to)!;
  const [, sb, sk] = /^s3:\/\/([^/]+)\/(.*)$/.exec(from)!;
  return { ...structuredClone(COPY), eventTime: t, eventID: `vcopy-${++n}`, awsRegion: 'us-east-1', recipientAccountId: CT_ACCOUNT, userIdentity: who, requestParameters: { bucketName: bucket, key, 'x-amz-copy-source': `${sb}/${sk}` }, resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${sb}/${sk}` }, { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` }, { accountId: CT_ACCOUNT, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }] };
}
const writeAlerts = (records: Obj[], rules: Obj = {}): Alert[] =>
  replayEvents(normalizeSageMaker(records), { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE && a.details.reason === 'multi_model_write');

describe('multi_model_write verification repros', () => {
  it('DeleteModel of a Model an endpoint config serves does not blind the rule (the endpoint keeps loading from the prefix)', () => {
    const alerts = writeAlerts([mmeModel('2026-03-02T01:00:00Z'), endpointConfig('2026-03-02T01:10:00Z'), deleteModel('2026-03-02T02:00:00Z', 'mme-fraud', MALLORY), put('2026-03-02T03:00:00Z', `${PREFIX}evil.tar.gz`, MALLORY)]);
    expect(alerts.map((a) => [a.details.object, a.details.model_deleted])).toEqual([[`${PREFIX}evil.tar.gz`, true]]);
  });

  it('a copy from a rejected version\'s artifact into the prefix alerts, whoever copies (not the creator exception)', () => {
    const rejected = 's3://registry-artifacts/fraud/v8/model.tar.gz';
    const alerts = writeAlerts([pkg('2026-03-02T00:20:00Z', 8, 'Rejected', rejected), mmeModel('2026-03-02T01:00:00Z'), copy('2026-03-02T02:00:00Z', rejected, `${PREFIX}fraud-v8.tar.gz`, MALLORY)]);
    expect(alerts.map((a) => a.details.copied_from)).toEqual([rejected]);
  });

  it("a copy of a rejected version's artifact alerts even by the creating role or a listed mme_writer (their exemption is for the pipeline's own models)", () => {
    const rejected = 's3://registry-artifacts/fraud/v8/model.tar.gz';
    const records = [pkg('2026-03-02T00:20:00Z', 8, 'Rejected', rejected), mmeModel('2026-03-02T01:00:00Z'), copy('2026-03-02T02:00:00Z', rejected, `${PREFIX}fraud-v8.tar.gz`, role('MLDeployer', 'other'))];
    expect(writeAlerts(records).map((a) => [a.details.copied_from, a.details.copied_from_rejected])).toEqual([[rejected, 'fraud/8']]);
    expect(writeAlerts(records, { [RULE]: { mme_writers: [`arn:aws:sts::${CT_ACCOUNT}:assumed-role/MLDeployer/*`] } })).toHaveLength(1);
    // The pipeline's own writes still pass.
    expect(writeAlerts([mmeModel('2026-03-02T01:00:00Z'), put('2026-03-02T02:00:00Z', `${PREFIX}fraud-v9.tar.gz`, role('MLDeployer', 'other'))])).toEqual([]);
  });

  it('600 other multi-model Models made later do not push out the prefix an endpoint config serves; an unserved one is forgotten first', () => {
    const recs: Obj[] = [mmeModel('2026-03-02T01:00:00Z'), endpointConfig('2026-03-02T01:10:00Z')];
    for (let i = 0; i < 600; i++) recs.push(mmeModel('2026-03-02T01:30:00Z', `junk-${i}`, `s3://junk/${i}/`));
    recs.push(put('2026-03-02T03:00:00Z', `${PREFIX}evil.tar.gz`, MALLORY), put('2026-03-02T03:00:00Z', 's3://junk/0/evil.tar.gz', MALLORY), put('2026-03-02T03:00:00Z', 's3://junk/599/evil.tar.gz', MALLORY));
    expect(writeAlerts(recs).map((a) => a.details.object)).toEqual([`${PREFIX}evil.tar.gz`, 's3://junk/599/evil.tar.gz']);
  });
});
