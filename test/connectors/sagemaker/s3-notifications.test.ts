import { describe, expect, it } from 'vitest';
import { parseQueueMessage, skipReason } from '../../../connectors/sagemaker/s3-notifications.js';
import { fx } from './helpers.js';

/** The AWS-documented S3 event notification with its one record's event name, bucket and (encoded) key replaced. */
function s3Event(eventName: string, key: string, bucket = 'org-cloudtrail-logs') {
  const n = fx<{ Records: Array<Record<string, any>> }>('s3-event-notification-objectcreated-put.awsdocs.json');
  const r = n.Records[0]!;
  r.eventName = eventName;
  r.s3.bucket.name = bucket;
  r.s3.object.key = key;
  return n;
}

describe('parseQueueMessage: what an SQS message announces', () => {
  it('only ObjectCreated records are read; deletions and restores in the same notification are skipped, never fetched', () => {
    const created = s3Event('ObjectCreated:Put', 'AWSLogs/1/CloudTrail/a.json.gz');
    const removed = s3Event('ObjectRemoved:Delete', 'AWSLogs/1/CloudTrail/b.json.gz').Records[0]!;
    const restored = s3Event('ObjectRestore:Completed', 'AWSLogs/1/CloudTrail/c.json.gz').Records[0]!;
    const out = parseQueueMessage(JSON.stringify({ Records: [...created.Records, removed, restored] }));
    expect(out).toMatchObject({ kind: 'objects', refs: [{ bucket: 'org-cloudtrail-logs', key: 'AWSLogs/1/CloudTrail/a.json.gz' }] });
    if (out.kind !== 'objects') throw new Error('unreachable');
    expect(out.refs).toHaveLength(1);
    expect(out.skipped).toEqual([
      'S3 ObjectRemoved:Delete for s3://org-cloudtrail-logs/AWSLogs/1/CloudTrail/b.json.gz',
      'S3 ObjectRestore:Completed for s3://org-cloudtrail-logs/AWSLogs/1/CloudTrail/c.json.gz',
    ]);
  });

  it('an SNS SubscribeURL on a host that merely starts like SNS is flagged as not SNS', () => {
    const notice = (url: string) => JSON.stringify({ Type: 'SubscriptionConfirmation', TopicArn: 'arn:aws:sns:us-east-1:111122223333:t', SubscribeURL: url });
    for (const url of [
      'https://sns.us-east-1.amazonaws.com.attacker.example/?Action=ConfirmSubscription',
      'https://sns.us-east-1.amazonaws.com:8443/?Action=ConfirmSubscription',
      'https://user:pw@sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription',
      'https://xsns.us-east-1.amazonaws.com/?Action=ConfirmSubscription',
    ]) {
      expect(parseQueueMessage(notice(url)), url).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('is NOT an SNS address') });
    }
    expect(parseQueueMessage(notice('https://sns.cn-north-1.amazonaws.com.cn/?Action=ConfirmSubscription'))).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('mltrail does not visit it') });
  });

  it('keeps the object version of S3 and EventBridge notices, so the version announced is the one read', () => {
    const n = s3Event('ObjectCreated:Put', 'AWSLogs/1/CloudTrail/a%3Db+c.json.gz');
    n.Records[0]!.s3.object.versionId = '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY';
    expect(parseQueueMessage(JSON.stringify(n))).toMatchObject({ kind: 'objects', refs: [{ key: 'AWSLogs/1/CloudTrail/a=b c.json.gz', versionId: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY' }] });
    // An EventBridge "Object Created" event (S3 → EventBridge → SQS): the key is not URL-encoded there.
    const eb = { version: '0', id: 'e1', 'detail-type': 'Object Created', source: 'aws.s3', account: '111122223333', time: '2026-11-25T10:15:00Z', region: 'us-east-1', resources: ['arn:aws:s3:::org-cloudtrail-logs'],
      detail: { version: '0', bucket: { name: 'org-cloudtrail-logs' }, object: { key: 'AWSLogs/1/CloudTrail/x.json.gz', size: 1200, etag: 'abc', 'version-id': 'v-42', sequencer: '00' }, reason: 'PutObject' } };
    expect(parseQueueMessage(JSON.stringify(eb))).toEqual({ kind: 'objects', refs: [{ bucket: 'org-cloudtrail-logs', key: 'AWSLogs/1/CloudTrail/x.json.gz', size: 1200, versionId: 'v-42' }], skipped: [] });
  });

  it('SNS envelopes nested deeper than three levels are invalid, not followed', () => {
    let body: unknown = { s3Bucket: 'b', s3ObjectKey: ['k.json.gz'] };
    for (let i = 0; i < 3; i++) body = { Type: 'Notification', Message: JSON.stringify(body) };
    expect(parseQueueMessage(JSON.stringify(body))).toMatchObject({ kind: 'objects', refs: [{ bucket: 'b', key: 'k.json.gz' }] });
    body = { Type: 'Notification', Message: JSON.stringify(body) };
    expect(parseQueueMessage(JSON.stringify(body))).toEqual({ kind: 'invalid', reason: 'SNS envelopes nested too deep' });
  });
});

describe('skipReason: objects recognised and not read', () => {
  it('Model Monitor statistics and baseline constraints are skipped; constraint_violations.json is read', () => {
    expect(skipReason('monitoring/ep/data-quality/2026/11/25/10/statistics.json')).toMatch(/statistics\/baseline/);
    expect(skipReason('monitoring/ep/baseline/constraints.json')).toMatch(/statistics\/baseline/);
    expect(skipReason('monitoring/ep/data-quality/2026/11/25/10/constraint_violations.json')).toBeUndefined();
    expect(skipReason('AWSLogs/1/CloudTrail-Insight/us-east-1/2026/11/25/x.json.gz')).toBe('CloudTrail Insight file');
    expect(skipReason('AWSLogs/1/CloudTrail/us-east-1/2026/11/25/')).toBe('folder marker');
    expect(skipReason('AWSLogs/1/CloudTrail/us-east-1/2026/11/25/x.json.gz')).toBeUndefined();
  });
});
