import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { CT_ACCOUNT, cloudTrailRecord, normalizeSageMaker } from '../core/rules/cloudtrail.js';

/**
 * platform.artifact_exported: predictions sent to another account. CreateTransformJob and CreateEndpointConfig
 * (asynchronous inference) as CloudTrail records them (the real CreateEndpoint record of the fixtures with another
 * call in it; request fields as the SageMaker API reference names them, camelCased as CloudTrail writes them). Only an
 * account the record shows is judged: an SNS topic ARN's, an S3 access point's (ARN or HTTPS endpoint); a bucket name
 * says no owner.
 */
type Obj = Record<string, any>;
const RULE = 'platform.artifact_exported';
const PARTNER = '444455556666';
const IMG = '763104351884.dkr.ecr.us-east-1.amazonaws.com/xgboost:1';
const T = '2026-03-02T02:00:00Z';
const transformJob = (output: string, capture?: string) =>
  cloudTrailRecord('CreateTransformJob', T, {
    transformJobName: 'score-nightly', modelName: 'fraud-m',
    transformInput: { dataSource: { s3DataSource: { s3DataType: 'S3Prefix', s3Uri: 's3://in/batch/' } }, contentType: 'text/csv' },
    transformOutput: { s3OutputPath: output, accept: 'text/csv', assembleWith: 'Line' },
    dataProcessing: { joinSource: 'Input' },
    transformResources: { instanceType: 'ml.m5.large', instanceCount: 1 },
    ...(capture ? { dataCaptureConfig: { destinationS3Uri: capture } } : {}),
  }, { resp: { transformJobArn: `arn:aws:sagemaker:us-east-1:${CT_ACCOUNT}:transform-job/score-nightly` } });
const asyncConfig = (outputConfig: Obj) =>
  cloudTrailRecord('CreateEndpointConfig', T, {
    endpointConfigName: 'fraud-async-ec',
    productionVariants: [{ variantName: 'AllTraffic', modelName: 'fraud-m', instanceType: 'ml.m5.large', initialInstanceCount: 1 }],
    asyncInferenceConfig: { clientConfig: { maxConcurrentInvocationsPerInstance: 4 }, outputConfig },
  }, { resp: { endpointConfigArn: `arn:aws:sagemaker:us-east-1:${CT_ACCOUNT}:endpoint-config/fraud-async-ec` } });
const alerts = (records: Obj[], rules: Obj = {}) => replayEvents(normalizeSageMaker(records), { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);
const topic = (account: string, name: string) => `arn:aws:sns:us-east-1:${account}:${name}`;

describe('predictions sent to another account (platform.artifact_exported)', () => {
  it("an async endpoint config notifying another account's SNS topic with the inference response alerts, naming the field and the account", () => {
    const rec = asyncConfig({ s3OutputPath: 's3://fraud-async/out/', s3FailurePath: 's3://fraud-async/err/', notificationConfig: { successTopic: topic(PARTNER, 'results'), errorTopic: topic(CT_ACCOUNT, 'errors'), includeInferenceResponseIn: ['SUCCESS_NOTIFICATION_TOPIC'] } });
    const [ev] = normalizeSageMaker([rec]);
    expect(ev!.details?.prediction_destinations).toEqual([
      { field: 'AsyncInferenceConfig.OutputConfig.NotificationConfig.SuccessTopic', destination: topic(PARTNER, 'results'), account: PARTNER, includes_response: true },
      { field: 'AsyncInferenceConfig.OutputConfig.NotificationConfig.ErrorTopic', destination: topic(CT_ACCOUNT, 'errors'), account: CT_ACCOUNT },
    ]);
    const got = alerts([rec]);
    expect(got.map((a) => [a.entity.type, a.entity.name, a.details.destination_accounts, a.details.includes_response, (a.details.destinations as Obj[]).map((d) => d.field)])).toEqual([
      ['endpoint_config', 'fraud-async-ec', [PARTNER], true, ['AsyncInferenceConfig.OutputConfig.NotificationConfig.SuccessTopic']],
    ]);
    expect(got[0]!.title).toContain('Predictions sent to another account');
    expect(got[0]!.summary).toContain('inference responses included');
  });

  it("a transform job writing to another account's S3 access point (ARN or HTTPS endpoint), or capturing to one, alerts", () => {
    const viaArn = alerts([transformJob(`s3://arn:aws:s3:us-east-1:${PARTNER}:accesspoint/drop/out/`)]);
    expect(viaArn.map((a) => [a.entity.type, a.details.destination_account, (a.details.destinations as Obj[]).map((d) => d.field)])).toEqual([['transform_job', PARTNER, ['TransformOutput.S3OutputPath']]]);
    const viaHost = alerts([transformJob(`https://drop-${PARTNER}.s3-accesspoint.us-east-1.amazonaws.com/out/`)]);
    expect(viaHost.map((a) => a.details.destination_account)).toEqual([PARTNER]);
    const capture = alerts([transformJob('s3://own-results/out/', `s3://arn:aws:s3:us-east-1:${PARTNER}:accesspoint/cap/`)]);
    expect(capture.map((a) => (a.details.destinations as Obj[]).map((d) => d.field))).toEqual([['DataCaptureConfig.DestinationS3Uri']]);
  });

  it('near misses: a bucket name (no owner shown), the own account, an allowed account or destination, a failed call', () => {
    expect(alerts([transformJob('s3://partner-results/out/')])).toEqual([]);
    expect(normalizeSageMaker([transformJob('s3://partner-results/out/')])[0]!.details?.prediction_destinations).toBeUndefined();
    expect(alerts([asyncConfig({ s3OutputPath: 's3://x/out/', notificationConfig: { successTopic: topic(CT_ACCOUNT, 'done') } })])).toEqual([]);
    const foreign = asyncConfig({ s3OutputPath: 's3://x/out/', notificationConfig: { successTopic: topic(PARTNER, 'done') } });
    expect(alerts([foreign], { [RULE]: { allowed_accounts: [PARTNER] } })).toEqual([]);
    expect(alerts([foreign], { [RULE]: { allowed_destinations: [`arn:aws:sns:*:${PARTNER}:done`] } })).toEqual([]);
    expect(alerts([{ ...foreign, errorCode: 'ValidationException', errorMessage: 'topic not found' }])).toEqual([]);
    // Without the response included, a notice to another account still alerts (it names each output object), not marked as the response.
    expect(alerts([foreign]).map((a) => a.details.includes_response)).toEqual([undefined]);
  });
});

describe('predictions to a bucket named by name alone: judged against prediction_buckets when set', () => {
  const listed = { [RULE]: { prediction_buckets: ['own-results', 'ml-*'] } };
  it('a transform job writing to a bucket prediction_buckets does not list alerts, not claiming an owner', () => {
    const ev = normalizeSageMaker([transformJob('s3://partner-results/out/')])[0]!;
    expect(ev.details?.prediction_buckets).toEqual([{ field: 'TransformOutput.S3OutputPath', destination: 's3://partner-results/out/', bucket: 'partner-results' }]);
    const got = alerts([transformJob('s3://partner-results/out/')], listed);
    expect(got.map((a) => [a.title, a.details.destination_owner_unknown, a.details.destination_account, (a.details.destinations as Obj[]).map((d) => d.destination)])).toEqual([
      ['platform.artifact_exported: Predictions sent to a bucket prediction_buckets does not list', true, undefined, ['s3://partner-results/out/']],
    ]);
    // An async endpoint's failure path and a capture destination are read too.
    expect(alerts([asyncConfig({ s3OutputPath: 's3://ml-async/out/', s3FailurePath: 's3://drop-box/fail/' })], listed).map((a) => (a.details.destinations as Obj[]).map((d) => d.field))).toEqual([['AsyncInferenceConfig.OutputConfig.S3FailurePath']]);
  });

  it('listed buckets, an allowed destination, or no prediction_buckets (the default) stay quiet', () => {
    expect(alerts([transformJob('s3://own-results/out/', 's3://ml-capture/x/')], listed)).toEqual([]);
    expect(alerts([transformJob('s3://partner-results/out/')], { [RULE]: { prediction_buckets: ['own-results'], allowed_destinations: ['s3://partner-results/*'] } })).toEqual([]);
    expect(alerts([transformJob('s3://partner-results/out/')])).toEqual([]);
    // An access point ARN is judged by its account as before, not as a bucket name.
    expect(normalizeSageMaker([transformJob(`s3://arn:aws:s3:us-east-1:${PARTNER}:accesspoint/drop/out/`)])[0]!.details?.prediction_buckets).toBeUndefined();
  });
});
