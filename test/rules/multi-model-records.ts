import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { Alert } from '../../core/schema/index.js';
import { readFixtureJson } from '../helpers/fixtures.js';
import { CT_ACCOUNT, cloudTrailRecord, normalizeSageMaker } from '../core/rules/cloudtrail.js';

/**
 * Records for the multi-model write tests (registry.unapproved_deployment, reason multi_model_write):
 * CreateModel / CreateEndpointConfig / CreateModelPackage / DeleteModel as CloudTrail records them (the CreateEndpoint
 * fixture's shape); PutObject from the real EventBridge-delivered S3 data event fixture, CopyObject from the real
 * CopyObject record, each given another bucket, key and caller.
 */
export type Obj = Record<string, any>;
const PUT = readFixtureJson<Obj>('sagemaker', 'eventbridge-cloudtrail-s3-putobject.stepfunctions-docs.json');
const COPY = readFixtureJson<Obj>('sagemaker', 'cloudtrail-s3-copyobject-external-account.panther.json');
export const RULE = 'registry.unapproved_deployment';
export const PREFIX = 's3://models/mme/fraud/';
export const IMG = '763104351884.dkr.ecr.us-east-1.amazonaws.com/mxnet-inference:1.8.0-cpu-py37';
let n = 0;

/** An assumed-role caller of the account: `role` (the IAM role), `session` (its session name). */
export function role(name: string, session: string): Obj {
  return {
    type: 'AssumedRole', principalId: `AROA${name.toUpperCase()}:${session}`, arn: `arn:aws:sts::${CT_ACCOUNT}:assumed-role/${name}/${session}`, accountId: CT_ACCOUNT,
    sessionContext: { sessionIssuer: { type: 'Role', principalId: `AROA${name.toUpperCase()}`, arn: `arn:aws:iam::${CT_ACCOUNT}:role/${name}`, accountId: CT_ACCOUNT, userName: name }, attributes: { creationDate: '2026-03-02T00:00:00Z', mfaAuthenticated: 'false' } },
  };
}
export const DEPLOYER = role('MLDeployer', 'ci-build-41');
export const MALLORY = role('DataSci', 'mallory');

const sm = (eventName: string, t: string, req: Obj, resp: Obj, who: Obj) => ({ ...cloudTrailRecord(eventName, t, req, { resp }), userIdentity: who });
/** A CreateModel of `name` whose container loads `prefix` in `mode` (MultiModel by default), by the deployer. */
export const mmeModel = (t: string, name = 'mme-fraud', prefix = PREFIX, mode = 'MultiModel') =>
  sm('CreateModel', t, { modelName: name, primaryContainer: { image: IMG, mode, modelDataUrl: prefix }, executionRoleArn: `arn:aws:iam::${CT_ACCOUNT}:role/SageMakerExec` }, { modelArn: `arn:aws:sagemaker:us-east-1:${CT_ACCOUNT}:model/${name}` }, DEPLOYER);
export const endpointConfig = (t: string, model = 'mme-fraud') =>
  sm('CreateEndpointConfig', t, { endpointConfigName: `${model}-cfg`, productionVariants: [{ variantName: 'AllTraffic', modelName: model, initialInstanceCount: 1, instanceType: 'ml.m5.large' }] }, { endpointConfigArn: `arn:aws:sagemaker:us-east-1:${CT_ACCOUNT}:endpoint-config/${model}-cfg` }, DEPLOYER);
export const deleteModel = (t: string, name = 'mme-fraud', who = DEPLOYER) => sm('DeleteModel', t, { modelName: name }, {}, who);
/** A model package `fraud/<version>` created in `status` with `artifact`, by an approver. */
export const pkg = (t: string, version: number, status: string, artifact: string) =>
  sm('CreateModelPackage', t, { modelPackageGroupName: 'fraud', modelApprovalStatus: status, inferenceSpecification: { containers: [{ image: IMG, modelDataUrl: artifact }], supportedContentTypes: ['text/csv'], supportedResponseMIMETypes: ['text/csv'] } }, { modelPackageArn: `arn:aws:sagemaker:us-east-1:${CT_ACCOUNT}:model-package/fraud/${version}` }, role('Approver', 'carol'));

/** The real PutObject data event (EventBridge envelope), writing `s3://<bucket>/<key>` as `who` at `t`. */
export function put(t: string, uri: string, who: Obj): Obj {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri)!;
  const e = structuredClone(PUT);
  e.id = `put-${++n}`;
  e.time = t;
  e.detail = { ...e.detail, eventTime: t, eventID: `put-${n}`, userIdentity: who, requestParameters: { ...e.detail.requestParameters, bucketName: bucket, key }, resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` }, { accountId: CT_ACCOUNT, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }] };
  return e;
}
/** The real CopyObject record, copying `from` to `to` as `who` at `t`. */
export function copy(t: string, from: string, to: string, who: Obj): Obj {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.*)$/.exec(to)!;
  const [, sb, sk] = /^s3:\/\/([^/]+)\/(.*)$/.exec(from)!;
  return { ...structuredClone(COPY), eventTime: t, eventID: `copy-${++n}`, awsRegion: 'us-east-1', recipientAccountId: CT_ACCOUNT, userIdentity: who, requestParameters: { bucketName: bucket, key, 'x-amz-copy-source': `${sb}/${sk}` }, resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${sb}/${sk}` }, { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` }, { accountId: CT_ACCOUNT, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }] };
}

/** The multi_model_write alerts of replaying `records` with `rules`. */
export const writeAlerts = (records: Obj[], rules: Obj = {}): Alert[] =>
  replayEvents(normalizeSageMaker(records), { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE && a.details.reason === 'multi_model_write');
