import { describe, expect, it } from 'vitest';
import { bucketBehind, copySourceOf } from '../../../connectors/sagemaker/access-points.js';

const AP = 'arn:aws:s3:us-east-1:111122223333:accesspoint/partner-ap';
const bucketRes = (...names: string[]) => ({ resources: names.map((n) => ({ accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${n}` })) });

describe('S3 access points: the bucket behind them', () => {
  it('a copy source names a bucket or an access point object ARN (URL-encoded or not, with a version)', () => {
    expect(copySourceOf('/models/fraud/v5/model.tar.gz?versionId=3HL4kqtJ')).toEqual({ bucket: 'models', key: 'fraud/v5/model.tar.gz' });
    expect(copySourceOf(encodeURIComponent(`${AP}/object/fraud/model.tar.gz`))).toEqual({ bucket: AP, key: 'fraud/model.tar.gz' });
    expect(copySourceOf(`${AP}/object/a%20b.csv`)).toEqual({ bucket: AP, key: 'a b.csv' });
    expect(copySourceOf('arn:aws:s3-outposts:us-east-1:111122223333:outpost/op-1/bucket/b')).toBeUndefined();
  });

  it('an access point (ARN or alias) is the one bucket resources[] name beside the copy\'s other bucket; two unknown sides stay unknown', () => {
    expect(bucketBehind(bucketRes('models'), 'models')).toBe('models');
    expect(bucketBehind(bucketRes('models'), AP)).toBe('models');
    expect(bucketBehind(bucketRes('models'), 'partner-ap-hxgz3m5qrzr8b1yrlbgfgmf2use1a-s3alias')).toBe('models');
    expect(bucketBehind(bucketRes('drop', 'models'), AP, 'drop')).toBe('models');
    // A copy within one bucket through its access point lists the bucket once.
    expect(bucketBehind(bucketRes('models'), AP, 'models')).toBe('models');
    expect(bucketBehind(bucketRes('drop', 'models'), AP)).toBeUndefined();
    expect(bucketBehind({}, AP)).toBeUndefined();
  });
});
