import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { asS3Uri } from '../../core/rules/facts.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * An approved artifact can be named through an S3 access point (its https:// host, its object ARN, the CLI's
 * s3://<access point ARN>/<key>), and a write can go through one: CloudTrail then names the access point where the
 * bucket goes (requestParameters.bucketName) and lists the bucket and the access point in resources[]. An object
 * reached through an access point is named by its object ARN on both sides; a write through one whose record names
 * the bucket is judged as the bucket's object too.
 */
const PKG = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/3';
const IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/xgboost-inference:1.7-1-cpu-py3';
const KEY = 'fraud/v3/model.tar.gz';
const AP = 'arn:aws:s3:us-east-1:111122223333:accesspoint/ml-ap';
const AP_OBJECT = `${AP}/object/${KEY}`;
let n = 0;
const time = () => `2026-11-25T1${Math.floor(n / 60)}:${String(n % 60).padStart(2, '0')}:00Z`;
const api = (name: string, params: Record<string, unknown>, response: Record<string, unknown> | null = { modelPackageArn: PKG }) =>
  normOne(ctRecord(name, params, { eventID: `ap-${++n}`, eventTime: time(), responseElements: response }));
const register = (modelDataUrl: string) => api('CreateModelPackage', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl }] } });
const approve = () => api('UpdateModelPackage', { modelPackageArn: PKG, modelApprovalStatus: 'Approved' });
/** A PutObject through the access point, resources[] as CloudTrail lists them for one (object and bucket, then the access point), or fewer. */
const putVia = (resources: Array<Record<string, unknown>>, bucketName = AP) => normOne(ctRecord('PutObject', { bucketName, key: KEY }, {
  eventID: `ap-${++n}`, eventTime: time(), eventSource: 's3.amazonaws.com', eventCategory: 'Data', responseElements: null, resources,
}), { s3_unlisted_buckets: 'normalize' });
const OBJECT_RES = { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::models/${KEY}` };
const BUCKET_RES = { accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::models' };
const AP_RES = { accountId: '111122223333', type: 'AWS::S3::AccessPoint', ARN: AP };
const changes = (events: NormalizedEvent[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts
  .filter((a) => a.rule_id === 'registry.approved_model_modified' && a.details.object)
  .map((a) => [a.details.change, a.details.object]);

describe('artifacts and writes named through an S3 access point', () => {
  it('every way of naming an object through an access point is its object ARN', () => {
    for (const form of [
      `https://ml-ap-111122223333.s3-accesspoint.us-east-1.amazonaws.com/${KEY}`, `https://ml-ap-111122223333.s3-accesspoint.dualstack.us-east-1.amazonaws.com/${KEY}`,
      `https://ml-ap-111122223333.s3-accesspoint-fips.us-east-1.amazonaws.com/${KEY}`, AP_OBJECT, `s3://${AP}/${KEY}`, `arn:aws:s3:us-east-1:111122223333:accesspoint:ml-ap/object/${KEY}`,
    ]) expect([form, asS3Uri(form)]).toEqual([form, AP_OBJECT]);
    expect(asS3Uri('https://ml-ap-111122223333.s3-accesspoint.cn-north-1.amazonaws.com.cn/a%20b')).toBe('arn:aws-cn:s3:cn-north-1:111122223333:accesspoint/ml-ap/object/a b');
    expect(asS3Uri('https://ml-ap-111122223333.s3-accesspoint.us-gov-west-1.amazonaws.com/x')).toBe('arn:aws-us-gov:s3:us-gov-west-1:111122223333:accesspoint/ml-ap/object/x');
    // Access point names are 3 to 50 characters: `ap-<account>` names none, kept as written.
    expect(asS3Uri('https://ap-111122223333.s3-accesspoint.us-east-1.amazonaws.com/x')).toBe('https://ap-111122223333.s3-accesspoint.us-east-1.amazonaws.com/x');
    // A Multi-Region Access Point (no account in its name, one of several buckets answers) and an Object Lambda access
    // point (a function's output) name no one object: kept as written. So is an access point ARN without an object.
    for (const kept of [`https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/${KEY}`, `https://ol-111122223333.s3-object-lambda.us-east-1.amazonaws.com/${KEY}`, `${AP}/${KEY}`, 'https://ml-ap-111122223333.s3-accesspoint.us-east-1.amazonaws.com/']) {
      expect(asS3Uri(kept)).toBe(kept);
    }
  });

  it('the connector names a write through an access point as the bucket object the record lists, and as the access point object', () => {
    const full = putVia([OBJECT_RES, BUCKET_RES, AP_RES]);
    expect([full.ml?.data?.uris, full.details?.bucket, full.details?.access_point_object]).toEqual([[`s3://models/${KEY}`], 'models', AP_OBJECT]);
    // The object resource alone tells the bucket too.
    expect(putVia([OBJECT_RES, AP_RES]).ml?.data?.uris).toEqual([`s3://models/${KEY}`]);
    // No bucket in the record: the access point's object, as an artifact named through it is.
    const bare = putVia([AP_RES]);
    expect([bare.ml?.data?.uris, bare.details?.access_point_object]).toEqual([[AP_OBJECT], undefined]);
    // An alias names no ARN: s3://<alias>/<key>, as an artifact registered by the alias is.
    expect(putVia([], 'ml-ap-abcdefghijklmnopqrstuvwxyz0123-s3alias').ml?.data?.uris).toEqual([`s3://ml-ap-abcdefghijklmnopqrstuvwxyz0123-s3alias/${KEY}`]);
  });

  it('an approved artifact named through the access point: a write through it is the finding, whether or not the record names the bucket', () => {
    for (const url of [`https://ml-ap-111122223333.s3-accesspoint.us-east-1.amazonaws.com/${KEY}`, `s3://${AP}/${KEY}`]) {
      expect([url, changes([register(url), approve(), putVia([OBJECT_RES, BUCKET_RES, AP_RES])])]).toEqual([url, [['artifact_overwritten', AP_OBJECT]]]);
      expect([url, changes([register(url), approve(), putVia([AP_RES])])]).toEqual([url, [['artifact_overwritten', AP_OBJECT]]]);
    }
    // Another access point's object of the same key is not it.
    expect(changes([register(`s3://arn:aws:s3:us-east-1:111122223333:accesspoint/other-ap/${KEY}`), approve(), putVia([AP_RES])])).toEqual([]);
  });

  it('an approved artifact named by its bucket: a write through an access point whose record names the bucket is the finding', () => {
    expect(changes([register(`s3://models/${KEY}`), approve(), putVia([OBJECT_RES, BUCKET_RES, AP_RES])])).toEqual([['artifact_overwritten', `s3://models/${KEY}`]]);
    expect(changes([register(`s3://models/${KEY}`), approve(), putVia([OBJECT_RES, AP_RES])])).toEqual([['artifact_overwritten', `s3://models/${KEY}`]]);
    // Which bucket the access point fronts is not in a record that lists none: not judged as the bucket's object.
    expect(changes([register(`s3://models/${KEY}`), approve(), putVia([AP_RES])])).toEqual([]);
  });
});
