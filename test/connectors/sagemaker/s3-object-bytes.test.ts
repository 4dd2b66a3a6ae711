import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { ROOT } from '../../helpers/fixtures.js';
import { START, hourly } from '../../core/rules/generate.js';
import { normOne } from './helpers.js';

/**
 * ml.data.bytes of S3 object calls, what ingestion.volume_anomaly sums per source: an upload's size is CloudTrail's
 * `bytesTransferredIn` (the shape of real PutObject data events: `"bytesTransferredIn": 25701.0, "bytesTransferredOut":
 * 0.0`), a download's `bytesTransferredOut`; a copy's response XML is no data.
 */
const CFG = { training_buckets: ['training-data'] };
const put = (bytesIn: number, id = 'put-1', time = '2026-11-20T10:00:00Z') => ({
  eventVersion: '1.08', eventTime: time, eventSource: 's3.amazonaws.com', eventName: 'PutObject', awsRegion: 'us-west-2', eventID: id,
  sourceIPAddress: '198.51.100.7', userAgent: '[aws-cli/2.2.14 Python/3.9.5 command/s3.cp]', eventType: 'AwsApiCall', eventCategory: 'Data', managementEvent: false, readOnly: false,
  recipientAccountId: '111122223333',
  userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/IngestJob/run-1', accountId: '111122223333', sessionContext: { sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::111122223333:role/IngestJob', accountId: '111122223333' } } },
  requestParameters: { bucketName: 'training-data', Host: 'training-data.s3.us-west-2.amazonaws.com', key: 'clicks/2026-11-20/part-0001.parquet' },
  responseElements: { 'x-amz-server-side-encryption': 'aws:kms' },
  additionalEventData: { SignatureVersion: 'SigV4', bytesTransferredIn: bytesIn, AuthenticationMethod: 'AuthHeader', bytesTransferredOut: 0.0 },
  resources: [{ type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::training-data/clicks/2026-11-20/part-0001.parquet' }, { accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::training-data' }],
});

describe('S3 object bytes', () => {
  it('an upload carries its bytesTransferredIn, a download its bytesTransferredOut, a copy none', () => {
    const up = normOne(put(25701.0), CFG);
    expect([up.stage, up.action, up.ml?.data?.bytes]).toEqual(['ingestion', 'data_object.write', 25701]);
    const down = normOne({ ...put(0), eventName: 'GetObject', eventID: 'get-1', readOnly: true, additionalEventData: { bytesTransferredIn: 0.0, bytesTransferredOut: 4096.0 } }, CFG);
    expect([down.action, down.ml?.data?.bytes]).toEqual(['data_object.read', 4096]);
    // CopyObject: bytesTransferredOut 224 is its CopyObjectResult document.
    const copy = normOne(JSON.parse(readFileSync(join(ROOT, 'test/fixtures/sagemaker-s3/cloudtrail-s3-copyobject.elastic.json'), 'utf8')), { training_buckets: ['elastic-cspm-cloudtrail-test-bucket'] });
    expect(copy.action).toBe('data_object.copy');
    expect(copy.ml?.data?.bytes).toBeUndefined();
  });

  it('ingestion.volume_anomaly sees uploads of the usual count but ten times the bytes', () => {
    const template = NormalizedEvent.parse(normOne(put(20_000), CFG));
    // 3 uploads an hour, ~20 kB each (seeded noise); on day 30 from 10:00, three hours of 200 kB uploads, same count.
    const events = hourly(32, 7, () => 3, (t, n) => {
      const day = Math.floor((t - START) / 86_400_000);
      const hour = new Date(t).getUTCHours();
      const big = day === 30 && hour >= 10 && hour < 13;
      return { ...template, id: `put-${n}`, time: new Date(t).toISOString(), received_time: new Date(t).toISOString(), ml: { data: { ...template.ml!.data, bytes: big ? 200_000 : 20_000 + (Number(n.split('-')[1]) * 997) % 3000 } } };
    });
    const alerts = replayEvents(events, { rules: RulesConfig.parse({ 'ingestion.volume_anomaly': { measures: ['events', 'bytes'] } }) }).alerts.filter((a) => a.rule_id === 'ingestion.volume_anomaly' && a.mode === 'alert');
    expect(alerts.map((a) => a.details.measure)).toEqual(['bytes']);
  });
});
