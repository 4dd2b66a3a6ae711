import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/fixtures.js';
import { normOne } from './helpers.js';

/**
 * Real CloudTrail records of the S3 calls the version-rollback and export checks read (test/fixtures/sagemaker-s3,
 * SOURCES.md there): the connector reads them as AWS wrote them.
 */
const real = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(ROOT, 'test/fixtures/sagemaker-s3', name), 'utf8')) as Record<string, unknown>;
const BUCKET = 'elastic-cspm-cloudtrail-test-bucket';

describe('S3 records as CloudTrail writes them', () => {
  it('CopyObject: `x-amz-copy-source` is `bucket/key`; a copy to another key is a copy, no rollback', () => {
    const ev = normOne(real('cloudtrail-s3-copyobject.elastic.json'), { model_buckets: [BUCKET] });
    expect(ev).toMatchObject({ stage: 'registry', action: 'data_object.copy', operation: 'CopyObject' });
    expect(ev.ml?.data).toMatchObject({ inputs: [`s3://${BUCKET}/test-copy-object/README.md`], outputs: [`s3://${BUCKET}/test-copy-object/README-copy.md`] });
    expect(ev.details).toMatchObject({ bucket: BUCKET, key: 'test-copy-object/README-copy.md', copy_source: `${BUCKET}/test-copy-object/README.md` });
    expect(ev.details?.version_rollback).toBeUndefined();
  });

  it('the same record copying an earlier version of its own key (`?versionId=` on the header, as S3 takes it) is a rollback', () => {
    // Edited from the real record: the source is the destination key, at a version (the version id's `+` percent-encoded,
    // as botocore sends the header's key part; S3 reads the query after the raw `?`).
    const r = real('cloudtrail-s3-copyobject.elastic.json');
    const params = { ...(r.requestParameters as Record<string, unknown>), 'x-amz-copy-source': `${BUCKET}/test-copy-object/README-copy.md?versionId=3HL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY` };
    const ev = normOne({ ...r, requestParameters: params }, { model_buckets: [BUCKET] });
    expect(ev.details?.version_rollback).toEqual({ restored_version: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY' });
    // A key that merely contains `?versionId=` (percent-encoded, so part of the key) is no version.
    const literal = normOne({ ...r, requestParameters: { ...params, 'x-amz-copy-source': `${BUCKET}/test-copy-object/README-copy.md%3FversionId%3Dv1` } }, { model_buckets: [BUCKET] });
    expect(literal.details?.version_rollback).toBeUndefined();
  });

  it('PutBucketReplication: one `Rule` object, `Destination.Bucket` an ARN with no `Account`, `Filter.Prefix` empty: the whole bucket replicated out', () => {
    const ev = normOne(real('cloudtrail-s3-putbucketreplication.elastic.json'), { model_buckets: [BUCKET] });
    expect(ev).toMatchObject({ stage: 'registry', operation: 'PutBucketReplication', details: { export_of: 'model' } });
    expect(ev.ml?.data).toMatchObject({ inputs: [`s3://${BUCKET}/`], outputs: [`s3://${BUCKET}-replication-2/`] });
    // The rule names no destination owner: none is claimed.
    expect(ev.details?.destination_account).toBeUndefined();
    // Replicated to a bucket that is listed too (a second region's model bucket): it stays inside.
    expect(normOne(real('cloudtrail-s3-putbucketreplication.elastic.json'), { model_buckets: [BUCKET, `${BUCKET}-replication-2`] }).details?.export_of).toBeUndefined();
  });
});
