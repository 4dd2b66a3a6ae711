import { get, isObj, num, str, type Obj } from './util.js';

/** An S3 object announced by a notification. */
export interface ObjectRef {
  bucket: string;
  key: string;
  size?: number;
  versionId?: string;
}

export type MessageContent =
  /** S3 objects to read. */
  | { kind: 'objects'; refs: ObjectRef[]; skipped: string[] }
  /** Nothing to read (S3 test event, deletions…). */
  | { kind: 'skip'; reason: string }
  /** Not an S3 pointer: the message carries records itself (e.g. an EventBridge rule targeting SQS). */
  | { kind: 'records'; value: unknown }
  /** Never readable: quarantined, then deleted. `notice`: a warning the operator must act on (logged). */
  | { kind: 'invalid'; reason: string; notice?: string };

/**
 * S3 event keys are URL-encoded with `+` for spaces (spec §3a).
 *
 * @example
 * decodeS3Key('logs/a+b%3D.json.gz') // 'logs/a b=.json.gz'
 */
export function decodeS3Key(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

/**
 * What an SQS message body announces: an S3 event notification (direct, or
 * inside an SNS envelope), CloudTrail's own SNS notice `{s3Bucket, s3ObjectKey[]}`,
 * an EventBridge "Object Created" event, or the S3 test event. Pure.
 *
 * @example
 * parseQueueMessage('{"Records":[{"eventSource":"aws:s3",…}]}') // { kind: 'objects', refs: [{ bucket, key }] }
 */
export function parseQueueMessage(body: string, depth = 0): MessageContent {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch (err) {
    return { kind: 'invalid', reason: `SQS message body is not JSON: ${(err as Error).message}` };
  }
  return classify(v, depth);
}

function classify(v: unknown, depth: number): MessageContent {
  if (!isObj(v)) return { kind: 'invalid', reason: 'SQS message body is not a JSON object' };
  if (v.Event === 's3:TestEvent') return { kind: 'skip', reason: 'S3 test event' };
  if (v.Type === 'SubscriptionConfirmation' || v.Type === 'UnsubscribeConfirmation') return snsConfirmation(v);
  if (v.Type === 'Notification' && typeof v.Message === 'string') {
    if (depth > 2) return { kind: 'invalid', reason: 'SNS envelopes nested too deep' };
    return parseQueueMessage(v.Message, depth + 1);
  }
  if (typeof v.s3Bucket === 'string' && Array.isArray(v.s3ObjectKey)) {
    return { kind: 'objects', refs: v.s3ObjectKey.filter((k): k is string => typeof k === 'string').map((key) => ({ bucket: v.s3Bucket as string, key })), skipped: [] };
  }
  if (Array.isArray(v.Records) && v.Records.length > 0 && v.Records.every((r) => isObj(r) && r.eventSource === 'aws:s3')) {
    const refs: ObjectRef[] = [];
    const skipped: string[] = [];
    for (const r of v.Records as Obj[]) {
      const name = str(r.eventName) ?? '';
      const bucket = str(get(r, 's3.bucket.name'));
      const key = str(get(r, 's3.object.key'));
      if (!bucket || !key) {
        skipped.push(`S3 notification record without bucket/key (${name})`);
        continue;
      }
      // Only new objects carry data; deletions, restores, replication notices do not.
      if (!/^(s3:)?ObjectCreated:/.test(name)) {
        skipped.push(`S3 ${name} for s3://${bucket}/${decodeS3Key(key)}`);
        continue;
      }
      refs.push({ bucket, key: decodeS3Key(key), size: num(get(r, 's3.object.size')), versionId: str(get(r, 's3.object.versionId')) });
    }
    return { kind: 'objects', refs, skipped };
  }
  if (v.source === 'aws.s3' && v['detail-type'] === 'Object Created' && isObj(v.detail)) {
    const bucket = str(get(v.detail, 'bucket.name'));
    const key = str(get(v.detail, 'object.key'));
    if (bucket && key) return { kind: 'objects', refs: [{ bucket, key, size: num(get(v.detail, 'object.size')), versionId: str(get(v.detail, 'object.version-id')) }], skipped: [] };
  }
  return { kind: 'records', value: v };
}

/** `https://sns.<region>.amazonaws.com[.cn]/…`: where SNS's own SubscribeURLs point. */
function isSnsUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(u.hostname) && !u.username && !u.password && !u.port;
  } catch {
    return false;
  }
}

/**
 * An SNS (un)subscription notice delivered to the queue (a topic in another account must be
 * confirmed). The poller never visits the SubscribeURL: whoever can send to the queue could
 * make it call any address, and subscribing is the operator's decision. The reason says what
 * to do, and warns when the URL is not SNS's.
 */
function snsConfirmation(v: Obj): MessageContent {
  const confirm = v.Type === 'SubscriptionConfirmation';
  const topic = str(v.TopicArn) ?? '(no TopicArn)';
  const url = str(v.SubscribeURL);
  const what = confirm ? `confirm the subscription by visiting SubscribeURL (${url}) if topic ${topic} is yours` : `topic ${topic} no longer delivers to this queue; to subscribe again, visit SubscribeURL (${url})`;
  const reason = !url
    ? `SNS ${v.Type} for topic ${topic} without a SubscribeURL`
    : isSnsUrl(url)
      ? `SNS ${v.Type}: ${what}; mltrail does not visit it`
      : `SNS ${v.Type} for topic ${topic}: its SubscribeURL (${url}) is NOT an SNS address (https://sns.<region>.amazonaws.com/): do not visit it`;
  return { kind: 'invalid', reason, notice: confirm ? 'SNS subscription to the queue awaits confirmation' : 'SNS subscription to the queue was removed' };
}

/**
 * Objects the poller recognises and does not read (spec §3a, §4).
 *
 * @example
 * skipReason('AWSLogs/1/CloudTrail-Digest/us-east-1/…json.gz') // 'CloudTrail digest file'
 */
export function skipReason(key: string): string | undefined {
  if (/(^|\/)CloudTrail-Digest\//.test(key)) return 'CloudTrail digest file';
  if (/(^|\/)CloudTrail-Insight\//.test(key)) return 'CloudTrail Insight file';
  if (/(^|\/)(statistics|constraints)\.json$/.test(key)) return 'Model Monitor statistics/baseline file (only constraint_violations.json carries findings)';
  if (/\/$/.test(key)) return 'folder marker';
  return undefined;
}
