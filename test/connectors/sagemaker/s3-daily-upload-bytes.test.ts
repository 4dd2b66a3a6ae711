import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { normOne } from './helpers.js';

/** ingestion.volume_anomaly on real PutObject bytes: one large upload a day (a nightly export) is no anomaly. */
const CFG = { training_buckets: ['training-data'] };
const put = (bytesIn: number, id: string, time: string) => ({
  eventVersion: '1.08', eventTime: time, eventSource: 's3.amazonaws.com', eventName: 'PutObject', awsRegion: 'us-west-2', eventID: id,
  sourceIPAddress: '198.51.100.7', userAgent: '[aws-cli/2.2.14 Python/3.9.5 command/s3.cp]', eventType: 'AwsApiCall', eventCategory: 'Data', managementEvent: false, readOnly: false,
  recipientAccountId: '111122223333',
  userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/IngestJob/run-1', accountId: '111122223333', sessionContext: { sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::111122223333:role/IngestJob', accountId: '111122223333' } } },
  requestParameters: { bucketName: 'training-data', Host: 'training-data.s3.us-west-2.amazonaws.com', key: `clicks/${time.slice(0, 10)}/export.parquet` },
  responseElements: { 'x-amz-server-side-encryption': 'aws:kms' },
  additionalEventData: { SignatureVersion: 'SigV4', bytesTransferredIn: bytesIn, AuthenticationMethod: 'AuthHeader', bytesTransferredOut: 0.0 },
  resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::training-data/clicks/${time.slice(0, 10)}/export.parquet` }, { accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::training-data' }],
});
const day = (d: number) => `2026-10-${String(d).padStart(2, '0')}T02:00:00Z`;
const alertsOf = (evs: NormalizedEvent[]) => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'ingestion.volume_anomaly');

describe('ingestion.volume_anomaly: a large daily upload (verify27a)', () => {
  it('the first 5 GB upload, and a month of them (±10 %), raise nothing', () => {
    const evs = Array.from({ length: 30 }, (_, i) => NormalizedEvent.parse(normOne(put(5e9 * (0.9 + ((i * 37) % 20) / 100), `p-${i}`, day(i + 1)), CFG)));
    expect(evs[0]!.ml?.data?.bytes).toBeGreaterThan(4e9);
    expect(alertsOf(evs.slice(0, 1))).toEqual([]);
    expect(alertsOf(evs).map((a) => `${a.mode} ${a.details.measure} ${a.summary}`)).toEqual([]);
  });
});
