import { describe, expect, it } from 'vitest';
import { ctRecord, fx, normOne } from './helpers.js';

/** What the connector marks for platform.artifact_exported / platform.artifact_shared. */
const cfg = { training_buckets: ['ransomware-test-victim-1764604156', 'train-data'], model_buckets: ['models'] };
const s3 = (eventName: string, params: Record<string, unknown>, extra: Record<string, unknown> = {}) => ctRecord(eventName, params, { eventSource: 's3.amazonaws.com', ...extra });

describe('SageMaker exports and shares in the event', () => {
  it('a CopyObject out of a training bucket (fixture) is a dataset export; out of an unlisted bucket, or between listed ones, it is none', () => {
    const ev = normOne(fx('cloudtrail-s3-copyobject-external-account.panther.json'), cfg);
    expect(ev.details).toMatchObject({ export_of: 'dataset' });
    expect(ev.ml?.data?.outputs).toEqual(['s3://attacker-exfil-1764604156/customer-database.csv']);
    expect(normOne(fx('cloudtrail-s3-copyobject-external-account.panther.json')).details?.export_of).toBeUndefined();
    expect(normOne(s3('CopyObject', { bucketName: 'train-data', key: 'k', 'x-amz-copy-source': 'models/k' }), cfg).details?.export_of).toBeUndefined();
  });

  it('the destination bucket\'s owner is the destination account', () => {
    const ev = normOne(s3('CopyObject', { bucketName: 'drop', key: 'm.tar.gz', 'x-amz-copy-source': 'models/fraud/model.tar.gz' }, { resources: [{ accountId: '444455556666', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::drop' }] }), cfg);
    expect(ev.details).toMatchObject({ export_of: 'model', destination_account: '444455556666' });
  });

  it('a GetObject of a listed bucket by another account is an export to that account; by the owner, or a service, it is none', () => {
    const read = (accountId: string, ui: Record<string, unknown> = {}) =>
      normOne(s3('GetObject', { bucketName: 'models', key: 'fraud/model.tar.gz' }, {
        userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${accountId}:assumed-role/R/s`, accountId, ...ui },
        resources: [{ accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::models' }],
      }), cfg);
    expect(read('999988887777').details).toMatchObject({ export_of: 'model', destination_account: '999988887777' });
    expect(read('111122223333').details?.export_of).toBeUndefined();
    expect(read('999988887777', { invokedBy: 'sagemaker.amazonaws.com' }).details?.export_of).toBeUndefined();
    expect(read('999988887777', { type: 'AWSService', invokedBy: 's3.amazonaws.com' }).details?.export_of).toBeUndefined();
    // Read through a query service, the other account's principal still takes the data.
    expect(read('999988887777', { invokedBy: 'athena.amazonaws.com' }).details).toMatchObject({ export_of: 'model', destination_account: '999988887777' });
  });

  it('PutBucketReplication of a listed bucket names the enabled rules\' destinations (an ARN or a name, either spelling) and their one owner', () => {
    const rep = (config: Record<string, unknown>, c: Record<string, unknown> = cfg) => normOne(s3('PutBucketReplication', { bucketName: 'models', replication: '', ReplicationConfiguration: config }), c);
    const ev = rep({ Role: 'arn:aws:iam::111122223333:role/r', Rule: [
      { ID: 'a', Status: 'Enabled', Prefix: 'v1/', Destination: { Bucket: 'arn:aws:s3:::drop', Account: '444455556666' } },
      { ID: 'b', Status: 'Disabled', Destination: { Bucket: 'arn:aws:s3:::other', Account: '999988887777' } },
    ] });
    expect(ev.details).toMatchObject({ export_of: 'model', destination_account: '444455556666' });
    expect(ev.ml?.data?.outputs).toEqual(['s3://drop/v1/']);
    // Lower-camel keys, as some forwarders rewrite them.
    expect(normOne(s3('PutBucketReplication', { bucketName: 'train-data', replicationConfiguration: { rules: [{ status: 'Enabled', filter: {}, destination: { bucket: 'arn:aws:s3:::drop' } }] } }), cfg).details).toMatchObject({ export_of: 'dataset' });
    // An unlisted bucket replicated is no model or dataset leaving.
    expect(rep({ Rule: { Status: 'Enabled', Destination: { Bucket: 'arn:aws:s3:::drop' } } }, { model_buckets: ['other'], s3_unlisted_buckets: 'normalize' }).details?.export_of).toBeUndefined();
  });

  it('PutModelPackageGroupPolicy and a listed bucket\'s policy name their grantees', () => {
    const pkg = normOne(ctRecord('PutModelPackageGroupPolicy', { modelPackageGroupName: 'fraud', resourcePolicy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: '444455556666' }, Action: 'sagemaker:DescribeModelPackage' }] }) }));
    expect(pkg.details).toMatchObject({ share_of: 'model', grantees: ['444455556666'] });
    const pol = normOne(s3('PutBucketPolicy', { bucketName: 'train-data', bucketPolicy: { Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject' }] } }), cfg);
    expect(pol.details).toMatchObject({ share_of: 'dataset', grantees: ['*'] });
  });

  it('a bucket policy letting in all but some (NotPrincipal, StringNotEquals on the account, an IfExists condition) opens it to everyone; a CanonicalUser principal is a grantee', () => {
    const policy = (statement: Record<string, unknown>) =>
      normOne(s3('PutBucketPolicy', { bucketName: 'models', bucketPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::models/*', ...statement }] } }), cfg).details?.grantees;
    expect(policy({ NotPrincipal: { AWS: 'arn:aws:iam::111122223333:root' } })).toEqual(['*']);
    expect(policy({ Principal: '*', Condition: { StringNotEquals: { 'aws:PrincipalAccount': '111122223333' } } })).toEqual(['*']);
    expect(policy({ Principal: { AWS: '*' }, Condition: { StringEqualsIfExists: { 'aws:PrincipalAccount': '111122223333' } } })).toEqual(['*']);
    expect(policy({ Principal: '*', Condition: { 'ForAllValues:StringEquals': { 'aws:PrincipalOrgID': 'o-abc123' } } })).toEqual(['*']);
    expect(policy({ Principal: '*', Condition: { Null: { 'aws:PrincipalOrgID': 'false' } } })).toEqual(['*']);
    // Narrowed by a positive condition, as before: that account.
    expect(policy({ Principal: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': '111122223333' } } })).toEqual(['111122223333']);
    expect(policy({ Principal: { CanonicalUser: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be' } })).toEqual(['canonical:79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be']);
  });
});
