import { describe, expect, it } from 'vitest';
import { accessPointBucket } from '../../../connectors/sagemaker/access-points.js';
import { ctRecord, norm, normOne } from './helpers.js';

/**
 * What a CloudTrail record tells of the bucket behind an S3 access point (`details.access_point_bucket`), for the
 * rules' access point map: CreateAccessPoint (its request's bucket, its response's alias), a request made through an
 * access point whose resources[] name the bucket (through an alias, the access point's ARN too); DeleteAccessPoint.
 */
const KEY = 'fraud/v3/model.tar.gz';
const AP = 'arn:aws:s3:us-east-1:111122223333:accesspoint/ml-ap';
const ALIAS = 'ml-ap-hxgz3m5qrzr8b1yrlbgfgmf2use1a-s3alias';
const SM = { s3_unlisted_buckets: 'normalize' };
let n = 0;
const control = (eventName: string, name: string, body: Record<string, unknown> | undefined, response: Record<string, unknown> | null = null) =>
  normOne(ctRecord(eventName, { name, 'x-amz-account-id': '111122223333', ...(body ? { [`${eventName}Request`]: { xmlns: 'http://awss3control.amazonaws.com/doc/2018-08-20/', ...body } } : {}) }, {
    eventID: `apb-${++n}`, eventSource: 's3.amazonaws.com', responseElements: response,
    resources: [{ accountId: '111122223333', type: 'AWS::S3::AccessPoint', ARN: `arn:aws:s3:us-east-1:111122223333:accesspoint/${name}` }],
  }), SM);
const createAp = (bucket: string, name = 'ml-ap', response: Record<string, unknown> | null = null) => control('CreateAccessPoint', name, { Bucket: bucket }, response);
const deleteAp = (name = 'ml-ap') => control('DeleteAccessPoint', name, undefined);
const res = {
  object: (bucket: string, key = KEY) => ({ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` }),
  bucket: (bucket: string) => ({ accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }),
  ap: (arn = AP) => ({ accountId: '111122223333', type: 'AWS::S3::AccessPoint', ARN: arn }),
};
const s3 = (eventName: string, bucketName: string, resources: Array<Record<string, unknown>>, key = KEY, cfg: Record<string, unknown> = SM) =>
  normOne(ctRecord(eventName, { bucketName, key }, { eventID: `apb-${++n}`, eventSource: 's3.amazonaws.com', eventCategory: 'Data', managementEvent: false, responseElements: null, resources }), cfg);
const putBucket = (bucket = 'models') => s3('PutObject', bucket, [res.object(bucket), res.bucket(bucket)]);

describe('the connector: what a record tells of the bucket behind an access point', () => {
  it('CreateAccessPoint names the bucket (and the alias, where the record carries the response); DeleteAccessPoint the access point', () => {
    const created = createAp('models', 'ml-ap', { CreateAccessPointResult: { AccessPointArn: AP, Alias: ALIAS } });
    expect(created.details?.access_point_bucket).toEqual({ arn: AP, alias: ALIAS, bucket: 'models' });
    expect(createAp('models').details?.access_point_bucket).toEqual({ arn: AP, alias: undefined, bucket: 'models' });
    const deleted = deleteAp();
    expect([deleted.action, deleted.operation, deleted.details?.access_point]).toEqual(['resource.delete', 'DeleteAccessPoint', AP]);
    // Kept whatever the bucket lists say: the creation of an access point on an unlisted bucket, and every deletion.
    const listed = { model_buckets: ['models'] };
    expect(norm(ctRecord('CreateAccessPoint', { name: 'x-ap', 'x-amz-account-id': '111122223333', CreateAccessPointRequest: { Bucket: 'scratch' } }, { eventSource: 's3.amazonaws.com' }), listed).events).toHaveLength(1);
    expect(norm(ctRecord('DeleteAccessPoint', { name: 'x-ap', 'x-amz-account-id': '111122223333' }, { eventSource: 's3.amazonaws.com' }), listed).events).toHaveLength(1);
  });

  it('a request through an access point whose resources[] name the bucket tells the map; through the alias, the ARN too', () => {
    expect(s3('GetObject', AP, [res.object('models'), res.bucket('models'), res.ap()]).details?.access_point_bucket).toEqual({ arn: AP, bucket: 'models' });
    expect(s3('PutObject', ALIAS, [res.object('models'), res.bucket('models'), res.ap()]).details?.access_point_bucket).toEqual({ arn: AP, alias: ALIAS, bucket: 'models' });
    expect(s3('PutObject', ALIAS, [res.object('models'), res.bucket('models')]).details?.access_point_bucket).toEqual({ arn: undefined, alias: ALIAS, bucket: 'models' });
    // No bucket named: nothing told (and the record is kept, even with bucket lists: the rules may know the bucket).
    const bare = s3('PutObject', ALIAS, [res.ap()], KEY, { model_buckets: ['models'] });
    expect([bare.details?.access_point_bucket, bare.ml?.data?.uris]).toEqual([undefined, [`s3://${ALIAS}/${KEY}`]]);
    // A request to the bucket itself tells nothing of access points.
    expect(putBucket().details?.access_point_bucket).toBeUndefined();
  });
});

describe('accessPointBucket', () => {
  it('needs an access point named where the bucket goes and a bucket behind it; two access point resources name no one ARN', () => {
    expect(accessPointBucket({}, 'models', 'models')).toBeUndefined();
    expect(accessPointBucket({}, AP, undefined)).toBeUndefined();
    expect(accessPointBucket({}, 'arn:aws:s3:us-east-1:111122223333:accesspoint:ml-ap', 'models')).toEqual({ arn: AP, bucket: 'models' });
    const two = { resources: [res.ap(), res.ap('arn:aws:s3:us-east-1:111122223333:accesspoint/other-ap')] };
    expect(accessPointBucket(two, ALIAS, 'models')).toEqual({ arn: undefined, alias: ALIAS, bucket: 'models' });
  });
});
