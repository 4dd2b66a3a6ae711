import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * An approved version's artifact registered as an https:// S3 URL (SageMaker's ModelDataUrl takes `^(https|s3)://`)
 * is the object `s3://<bucket>/<key>`: an S3 data event on it (CloudTrail names the bucket and key) is a write to the
 * approved artifact, whatever endpoint form the URL used.
 */
const PKG = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/3';
const IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/xgboost-inference:1.7-1-cpu-py3';
const NEO_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/sagemaker-inference-mxnet:1.8-cpu-py3';
const KEY = 'fraud/v3/model.tar.gz';
let n = 0;
const time = () => `2026-11-25T1${Math.floor(n / 60)}:${String(n % 60).padStart(2, '0')}:00Z`;
const api = (name: string, params: Record<string, unknown>, response: Record<string, unknown> | null = { modelPackageArn: PKG }) =>
  normOne(ctRecord(name, params, { eventID: `https-${++n}`, eventTime: time(), responseElements: response }));
const register = (modelDataUrl: string) => api('CreateModelPackage', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl }] } });
const approve = () => api('UpdateModelPackage', { modelPackageArn: PKG, modelApprovalStatus: 'Approved' });
/** An S3 data event on `models/<key>`, as CloudTrail records it. */
const s3 = (eventName: string, key = KEY, params: Record<string, unknown> = {}, awsRegion = 'us-east-1') => normOne(ctRecord(eventName, { bucketName: 'models', key, ...params }, {
  eventID: `https-${++n}`, eventTime: time(), awsRegion, eventSource: 's3.amazonaws.com', eventCategory: 'Data', responseElements: null,
  resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::models/${key}` }, { accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::models' }],
}), { model_buckets: ['models'] });
const changes = (events: NormalizedEvent[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts
  .filter((a) => a.rule_id === 'registry.approved_model_modified' && a.details.object)
  .map((a) => [a.details.change, a.details.object]);

describe('writes to an approved artifact registered as an https:// S3 URL', () => {
  const forms = [
    `https://models.s3.us-east-1.amazonaws.com/${KEY}`, `https://s3.us-east-1.amazonaws.com/models/${KEY}`,
    `https://models.s3.dualstack.us-east-1.amazonaws.com/${KEY}`, `https://models.s3-fips.us-east-1.amazonaws.com/${KEY}`,
    `https://s3-fips.dualstack.us-east-1.amazonaws.com/models/${KEY}`, `https://models.s3.amazonaws.com/${KEY}`,
  ];

  it.each(forms)('%s: PutObject, CopyObject, CompleteMultipartUpload and DeleteObject on s3://models/<key> are findings', (url) => {
    const uri = `s3://models/${KEY}`;
    expect(changes([register(url), approve(), s3('PutObject')])).toEqual([['artifact_overwritten', uri]]);
    expect(changes([register(url), approve(), s3('CopyObject', KEY, { 'x-amz-copy-source': 'scratch/evil.tar.gz' })])).toEqual([['artifact_overwritten', uri]]);
    expect(changes([register(url), approve(), s3('CompleteMultipartUpload', KEY, { uploadId: 'u-1' })])).toEqual([['artifact_overwritten', uri]]);
    expect(changes([register(url), approve(), s3('DeleteObject')])).toEqual([['artifact_deleted', uri]]);
  });

  it("an artifact registered by a sovereign partition's S3 URL (ISO, ISO-B, European Sovereign Cloud): a write on its s3:// object in that partition is the finding", () => {
    for (const [url, region] of [[`https://models.s3.us-iso-east-1.c2s.ic.gov/${KEY}`, 'us-iso-east-1'], [`https://s3.us-isob-east-1.sc2s.sgov.gov/models/${KEY}`, 'us-isob-east-1'], [`https://models.s3.eusc-de-east-1.amazonaws.eu/${KEY}`, 'eusc-de-east-1'], [`https://models.s3.cn-north-1.amazonaws.com.cn/${KEY}`, 'cn-north-1']] as const) {
      expect([url, changes([register(url), approve(), s3('PutObject', KEY, {}, region)])]).toEqual([url, [['artifact_overwritten', `s3://models/${KEY}`]]]);
      // The same bucket name in the commercial partition is another bucket (test/rules/s3-partitions.test.ts).
      expect([url, changes([register(url), approve(), s3('PutObject')])]).toEqual([url, []]);
    }
  });

  it('an artifact registered as a prefix URL holds the objects under it; other keys and buckets are not it', () => {
    expect(changes([register('https://models.s3.us-east-1.amazonaws.com/fraud/v3/'), approve(), s3('PutObject')])).toEqual([['artifact_overwritten', `s3://models/${KEY}`]]);
    expect(changes([register(forms[0]!), approve(), s3('PutObject', 'fraud/v3/other.tar.gz')])).toEqual([]);
    expect(changes([register(`https://scratch.s3.us-east-1.amazonaws.com/${KEY}`), approve(), s3('PutObject')])).toEqual([]);
  });

  it('a compiled copy registered by an https:// URL: a later write on its s3:// object is the finding, naming the copy', () => {
    const compile = () => api('CreateCompilationJob', {
      compilationJobName: 'fraud-v3-c5', roleArn: 'arn:aws:iam::111122223333:role/Neo', modelPackageVersionArn: PKG,
      outputConfig: { s3OutputLocation: 's3://models/fraud/v3/neo/', targetDevice: 'ml_c5' }, stoppingCondition: { maxRuntimeInSeconds: 900 },
    }, { compilationJobArn: 'arn:aws:sagemaker:us-east-1:111122223333:compilation-job/fraud-v3-c5' });
    const copyUrl = 'https://models.s3.us-east-1.amazonaws.com/fraud/v3/neo/model-ml_c5.tar.gz';
    const add = () => api('UpdateModelPackage', { modelPackageArn: PKG, additionalInferenceSpecificationsToAdd: [{ name: 'neo', containers: [{ image: NEO_IMAGE, modelDataUrl: copyUrl }] }] });
    const out = replayEvents([register(`s3://models/${KEY}`), approve(), compile(), add(), s3('PutObject', 'fraud/v3/neo/model-ml_c5.tar.gz')], { rules: RulesConfig.parse({}) }).alerts
      .filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(out.map((a) => [a.details.change, a.details.object])).toEqual([['artifact_overwritten', 's3://models/fraud/v3/neo/model-ml_c5.tar.gz']]);
    expect(out[0]!.details.compiled_copy).toMatchObject({ artifact: copyUrl, job: 'fraud-v3-c5' });
  });
});

/**
 * An approved archive (`…/model.tar.gz`) is one S3 object, not a folder: `…/model.tar.gz/evil.tar.gz` is another key,
 * which anyone who can write the bucket may upload. Deployed, it is not the approved weights; written, it leaves them as
 * they were (in either form the artifact was registered by).
 */
describe('an object under an approved archive name is another object', () => {
  const UNDER = `${KEY}/evil.tar.gz`;
  const deploy = (modelDataUrl: string) => [
    api('CreateModel', { modelName: `m-${n}`, executionRoleArn: 'arn:aws:iam::111122223333:role/exec', primaryContainer: { image: IMAGE, modelDataUrl } }, null),
    api('CreateEndpointConfig', { endpointConfigName: `ec-${n}`, productionVariants: [{ variantName: 'AllTraffic', modelName: `m-${n - 1}`, instanceType: 'ml.c5.xlarge', initialInstanceCount: 1 }] }, null),
    api('CreateEndpoint', { endpointName: 'fraud-prod', endpointConfigName: `ec-${n - 1}` }, null),
  ];
  const unapproved = (events: NormalizedEvent[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment').map((a) => a.details.reason);

  it.each([`s3://models/${KEY}`, `https://models.s3.us-east-1.amazonaws.com/${KEY}`])('registered as %s: deploying an object under it is never approved, writing one is no change of it', (url) => {
    expect(unapproved([register(url), approve(), ...deploy(`s3://models/${UNDER}`)])).toEqual(['never_approved']);
    expect(changes([register(url), approve(), s3('PutObject', UNDER)])).toEqual([]);
    // The archive itself: approved when deployed, changed when written.
    expect(unapproved([register(url), approve(), ...deploy(`s3://models/${KEY}`)])).toEqual([]);
    expect(changes([register(url), approve(), s3('PutObject')])).toEqual([['artifact_overwritten', `s3://models/${KEY}`]]);
  });
});
