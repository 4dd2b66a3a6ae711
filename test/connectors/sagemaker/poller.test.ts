import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { pino, type Logger } from 'pino';
import type { Poller } from '../../../core/connector.js';
import { Ingestor } from '../../../core/ingest.js';
import type { RetryPolicy } from '../../../core/retry/index.js';
import { CloudTrailQueuePoller } from '../../../connectors/sagemaker/poller.js';
import { Spool } from '../../../core/spool/index.js';
import { sagemakerConnector } from '../../../connectors/sagemaker/index.js';
import { readFixture } from '../../helpers/fixtures.js';
import { FakeAws } from './fake-aws.js';
import { makeDeps, spooledEvents } from './harness.js';
import { ctRecord, fx } from './helpers.js';
import { until } from '../../helpers/wait.js';

const BUCKET = 'org-cloudtrail-logs';
const PREFIX = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25';
const LOG1 = `${PREFIX}/111122223333_CloudTrail_us-east-1_20261125T1010Z_aaaaaaaaaaaaaaaa.json.gz`;
const LOG2 = `${PREFIX}/111122223333_CloudTrail_us-east-1_20261125T1015Z_bbbb bbbb.json.gz`;
const DIGEST = 'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/25/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20261125T101500Z.json.gz';
const VIOLATIONS = 'monitoring/fraud-ep/data-quality/2026/11/25/10/constraint_violations.json';

let fake: FakeAws;
let cleanup: Array<() => Promise<void> | void> = [];

beforeAll(() => {
  // The SDK's standard chain: credentials and region from the environment.
  process.env.AWS_ACCESS_KEY_ID = 'AKIAFAKEFAKEFAKE0001';
  process.env.AWS_SECRET_ACCESS_KEY = 'fake-secret-key';
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_ENDPOINT_URL;
});

beforeEach(async () => {
  fake = await new FakeAws().start();
  cleanup = [];
});

afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  await fake.stop();
});

const log1Records = () => [
  fx('cloudtrail-sagemaker-createtrainingjob.real.json'),
  fx('cloudtrail-sagemaker-createendpoint.awsdocs.json'),
  fx('cloudtrail-sagemaker-featurestore-putrecord-dataevent.awsdocs.json'),
  ...(fx<{ Records: unknown[] }>('cloudtrail-logfile-records-insight-event.awsdocs.json').Records),
];
const log2Records = () => [ctRecord('UpdateModelPackage', { modelPackageArn: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/4', modelApprovalStatus: 'Approved' })];

function s3Notification(bucket: string, key: string) {
  const n = fx<{ Records: Array<Record<string, any>> }>('s3-event-notification-objectcreated-put.awsdocs.json');
  n.Records[0]!.s3.bucket.name = bucket;
  n.Records[0]!.s3.bucket.arn = `arn:aws:s3:::${bucket}`;
  n.Records[0]!.s3.object.key = encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
  return n;
}

function sns(message: unknown) {
  return {
    Type: 'Notification',
    MessageId: 'b2a5c1f0-0000-4000-8000-000000000001',
    TopicArn: 'arn:aws:sns:us-east-1:111122223333:cloudtrail-delivery',
    Message: JSON.stringify(message),
    Timestamp: '2026-11-25T10:15:00.000Z',
    SignatureVersion: '1',
    Signature: 'EXAMPLE',
    SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem',
    UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
  };
}

function seedObjects(): void {
  fake.putObject(BUCKET, LOG1, gzipSync(JSON.stringify({ Records: log1Records() })), 'application/x-gzip');
  fake.putObject(BUCKET, LOG2, gzipSync(JSON.stringify({ Records: log2Records() })), 'application/x-gzip');
  fake.putObject(BUCKET, DIGEST, gzipSync(readFixture('sagemaker', 'cloudtrail-digest-file.awsdocs.json')), 'application/x-gzip');
  fake.putObject('ml-monitoring', VIOLATIONS, readFixture('sagemaker', 'modelmonitor-bias-drift-constraint_violations.awsdocs.json'));
}

/** `opts.retry` (a shorter ReceiveMessage backoff) builds the poller directly instead of through the connector. */
function startPoller(sqs: Record<string, unknown>, dir?: string, maxBytes?: number, opts: { retry?: Partial<RetryPolicy>; logger?: Logger } = {}): { poller: Poller; spool: Spool; dir: string; ingest: Ingestor } {
  const { deps, spool, dir: d } = makeDeps({ sqs: { wait_time_s: 1, visibility_timeout_s: 2, ...sqs } }, { dir, maxBytes });
  deps.env = { AWS_ENDPOINT_URL: fake.url };
  if (opts.logger) deps.logger = opts.logger;
  const [poller] = opts.retry ? [new CloudTrailQueuePoller(deps, { receiveRetry: opts.retry })] : sagemakerConnector.pollers!(deps);
  poller!.start();
  let stopped = false;
  cleanup.push(async () => {
    if (!stopped) await poller!.stop();
    if (!spool.isClosed) spool.close();
    if (!dir) rmSync(d, { recursive: true, force: true });
  });
  const stop = poller!.stop.bind(poller);
  poller!.stop = async () => {
    stopped = true;
    await stop();
  };
  return { poller: poller!, spool, dir: d, ingest: deps.ingest };
}

function countBy<T>(xs: T[], f: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[f(x)] = (out[f(x)] ?? 0) + 1;
  return out;
}

describe('S3/SQS CloudTrail poller against local SQS (JSON protocol) and S3 fakes', () => {
  it('is only started when MLTRAIL_CLOUDTRAIL_SQS_URL / sqs.queue_url is set', () => {
    const { deps, spool, dir } = makeDeps();
    expect(sagemakerConnector.pollers!(deps)).toEqual([]);
    expect(sagemakerConnector.fromEnv!({ MLTRAIL_CLOUDTRAIL_SQS_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q' })).toEqual({ sqs: { queue_url: 'https://sqs.eu-west-1.amazonaws.com/1/q' } });
    spool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads direct and SNS-wrapped notifications, gunzips, skips digest/insight/test event, deletes each message after commit', async () => {
    seedObjects();
    const q = fake.queueUrl('cloudtrail');
    fake.send('cloudtrail', s3Notification(BUCKET, LOG1));
    fake.send('cloudtrail', sns({ s3Bucket: BUCKET, s3ObjectKey: [LOG1, DIGEST] }));
    fake.send('cloudtrail', fx('s3-event-notification-testevent.awsdocs.json'));
    fake.send('cloudtrail', sns(s3Notification('ml-monitoring', VIOLATIONS)));
    fake.send('cloudtrail', s3Notification(BUCKET, LOG2));
    const { spool } = startPoller({ queue_url: q });
    await until(() => fake.remaining('cloudtrail').length === 0);

    const events = spooledEvents(spool);
    expect(countBy(events, (e) => `${e.stage}/${e.action}`)).toEqual({
      'training/training_job.create': 1,
      'serving/endpoint.deploy': 1,
      'ingestion/feature_record.write': 1,
      'registry/model_version.approve': 1,
      'serving/monitor.violation': 2,
    });
    expect(events.every((e) => e.channel === 'sagemaker.s3')).toBe(true);
    const mm = events.find((e) => e.action === 'monitor.violation')!;
    expect(mm.resource?.uri).toBe(`s3://ml-monitoring/${VIOLATIONS}`);
    expect(mm.time).toBe('2026-11-25T10:10:00.000Z');
    // The digest file is recognised by its key and never fetched; the key with a space was URL-decoded.
    expect(fake.gets.get(`${BUCKET}/${DIGEST}`)).toBeUndefined();
    expect(fake.gets.get(`${BUCKET}/${LOG2}`)).toBe(1);
    expect(fake.queues.get('cloudtrail')!.every((m) => m.receiveCount === 1)).toBe(true);
    expect(fake.unsigned).toBe(0);
    expect(spool.listQuarantine({})).toEqual([]);
  });

  it('a transfer that dies mid-object is not deleted; SQS redelivers after the visibility timeout and nothing is lost', async () => {
    seedObjects();
    fake.s3Faults.set(`${BUCKET}/${LOG1}`, 'reset-once');
    const q = fake.queueUrl('cloudtrail');
    fake.send('cloudtrail', s3Notification(BUCKET, LOG1));
    const { spool } = startPoller({ queue_url: q });
    await until(() => fake.remaining('cloudtrail').length === 0);
    const [msg] = fake.queues.get('cloudtrail')!;
    expect(msg!.receiveCount).toBe(2);
    expect(fake.gets.get(`${BUCKET}/${LOG1}`)).toBe(2);
    expect(countBy(spooledEvents(spool), (e) => e.operation)).toEqual({ CreateTrainingJob: 1, CreateEndpoint: 1, PutRecord: 1 });
  });

  it('crash after commit, before delete: the restarted poller gets the message again, duplicates collapse, then it is deleted', async () => {
    seedObjects();
    // One message announcing two objects; the second hangs, so the first is committed while the message is in flight.
    fake.s3Faults.set(`${BUCKET}/${LOG2}`, 'hang');
    const q = fake.queueUrl('cloudtrail');
    fake.send('cloudtrail', sns({ s3Bucket: BUCKET, s3ObjectKey: [LOG1, LOG2] }));
    const first = startPoller({ queue_url: q, object_concurrency: 1 });
    await until(() => spooledEvents(first.spool).length === 3);
    // The process dies: poller gone, spool closed. The message was never deleted.
    await first.poller.stop();
    first.spool.close();
    expect(fake.remaining('cloudtrail')).toHaveLength(1);
    expect(fake.calls.filter((c) => c === 'sqs:DeleteMessage')).toHaveLength(0);

    fake.s3Faults.delete(`${BUCKET}/${LOG2}`);
    const second = startPoller({ queue_url: q, object_concurrency: 1 }, first.dir);
    await until(() => fake.remaining('cloudtrail').length === 0);
    expect(fake.queues.get('cloudtrail')![0]!.receiveCount).toBe(2);
    const events = spooledEvents(second.spool);
    expect(countBy(events, (e) => e.operation)).toEqual({ CreateTrainingJob: 1, CreateEndpoint: 1, PutRecord: 1, UpdateModelPackage: 1 });
    rmSync(first.dir, { recursive: true, force: true });
  });

  it('a failed DeleteMessage leaves the message; its redelivery is deduplicated and deleted', async () => {
    seedObjects();
    fake.failDeletes = 3; // the poller's three delete attempts all fail
    const q = fake.queueUrl('cloudtrail');
    fake.send('cloudtrail', s3Notification(BUCKET, LOG2));
    const { spool } = startPoller({ queue_url: q });
    await until(() => fake.remaining('cloudtrail').length === 0);
    expect(fake.queues.get('cloudtrail')![0]!.receiveCount).toBe(2);
    expect(spooledEvents(spool).filter((e) => e.operation === 'UpdateModelPackage')).toHaveLength(1);
  });

  it('extends the visibility of a message whose objects take longer than the timeout (no redelivery while working)', async () => {
    seedObjects();
    fake.s3Faults.set(`${BUCKET}/${LOG2}`, { delayMs: 3500 });
    const q = fake.queueUrl('cloudtrail');
    fake.send('cloudtrail', s3Notification(BUCKET, LOG2));
    const { spool } = startPoller({ queue_url: q, visibility_timeout_s: 1, concurrency: 2 });
    await until(() => fake.remaining('cloudtrail').length === 0);
    expect(fake.queues.get('cloudtrail')![0]!.receiveCount).toBe(1);
    expect(fake.calls.filter((c) => c === 'sqs:ChangeMessageVisibility').length).toBeGreaterThanOrEqual(3);
    expect(fake.gets.get(`${BUCKET}/${LOG2}`)).toBe(1);
    expect(spooledEvents(spool)).toHaveLength(1);
  });

  it('a transfer that stalls mid-body is abandoned after object_idle_timeout_s: released (not deleted), redelivered, health degraded, other messages keep flowing', async () => {
    seedObjects();
    const q = fake.queueUrl('cloudtrail');
    // As many stalled objects as concurrency slots (default 4), queued ahead of a healthy one.
    const stalled: string[] = [];
    for (let i = 0; i < 4; i++) {
      const key = `${PREFIX}/111122223333_CloudTrail_us-east-1_20261125T110${i}Z_stalled${i}.json.gz`;
      fake.putObject(BUCKET, key, gzipSync(JSON.stringify({ Records: [ctRecord('CreateModel', { modelName: `s${i}` }, { eventID: `stall-${i}` }), ...log1Records()] })));
      fake.s3Faults.set(`${BUCKET}/${key}`, 'stall');
      stalled.push(fake.send('cloudtrail', s3Notification(BUCKET, key)));
    }
    const healthy = fake.send('cloudtrail', s3Notification(BUCKET, LOG2));
    const msg = (id: string) => fake.queues.get('cloudtrail')!.find((m) => m.id === id)!;
    const { poller, spool } = startPoller({ queue_url: q, object_idle_timeout_s: 1 });

    await until(() => msg(healthy).deleted, 15_000, 'the healthy message to be processed despite four stalled transfers');
    await until(() => stalled.every((id) => msg(id).receiveCount >= 2), 15_000, 'stalled messages to be redelivered');
    expect(stalled.every((id) => !msg(id).deleted)).toBe(true);
    expect(poller.health!()).toEqual({ state: 'degraded', reason: expect.stringMatching(/^GetObject s3:\/\/.*stalled\d\.json\.gz: no data for 1 s/) });
    // Half an object is never committed.
    expect(spooledEvents(spool).map((e) => e.operation)).toEqual(['UpdateModelPackage']);

    // S3 recovers: the redelivered messages complete and are deleted.
    fake.s3Faults.clear();
    await until(() => fake.remaining('cloudtrail').length === 0, 15_000);
    expect(countBy(spooledEvents(spool), (e) => e.operation)).toEqual({ UpdateModelPackage: 1, CreateModel: 4, CreateTrainingJob: 1, CreateEndpoint: 1, PutRecord: 1 });
  });

  it('stops extending visibility after max_visibility_extension_s: a transfer that trickles bytes forever is abandoned and redelivered', async () => {
    seedObjects();
    fake.s3Faults.set(`${BUCKET}/${LOG2}`, { dripMs: 100 });
    const q = fake.queueUrl('cloudtrail');
    const id = fake.send('cloudtrail', s3Notification(BUCKET, LOG2));
    const m = fake.queues.get('cloudtrail')!.find((x) => x.id === id)!;
    const { poller, spool } = startPoller({ queue_url: q, visibility_timeout_s: 1, max_visibility_extension_s: 2, object_idle_timeout_s: 5 });
    await until(() => m.receiveCount >= 2, 15_000, 'redelivery after the extension bound');
    expect(m.deleted).toBe(false);
    expect(poller.health!()).toEqual({ state: 'degraded', reason: expect.stringMatching(/max_visibility_extension_s/) });
    fake.s3Faults.clear();
    await until(() => m.deleted, 15_000);
    expect(spooledEvents(spool).map((e) => e.operation)).toEqual(['UpdateModelPackage']);
  });

  it('does not take messages while the spool is full (they stay queued) and reports degraded health', async () => {
    seedObjects();
    const q = fake.queueUrl('cloudtrail');
    fake.send('cloudtrail', s3Notification(BUCKET, LOG2));
    const { deps, spool, dir } = makeDeps({ sqs: { queue_url: q, wait_time_s: 1, visibility_timeout_s: 2 } }, { maxBytes: 1 });
    deps.env = { AWS_ENDPOINT_URL: fake.url };
    await spool.append([{ kind: 'event', id: 'filler', body: '{"filler":true}' }]);
    expect(spool.full).toBe(true);
    const [poller] = sagemakerConnector.pollers!(deps);
    poller!.start();
    cleanup.push(async () => {
      await poller!.stop();
      spool.close();
      rmSync(dir, { recursive: true, force: true });
    });
    await new Promise((r) => setTimeout(r, 1200));
    expect(fake.queues.get('cloudtrail')![0]!.receiveCount).toBe(0);
    expect(poller!.health!()).toEqual({ state: 'degraded', reason: 'spool full: not receiving' });
  });

  it('bounded concurrency: never more objects in flight than sqs.concurrency', async () => {
    const q = fake.queueUrl('cloudtrail');
    for (let i = 0; i < 6; i++) {
      const key = `${PREFIX}/111122223333_CloudTrail_us-east-1_20261125T10${10 + i}Z_${String(i).repeat(16)}.json.gz`;
      fake.putObject(BUCKET, key, gzipSync(JSON.stringify({ Records: [ctRecord('CreateModel', { modelName: `m${i}` }, { eventID: `e-${i}` })] })));
      fake.send('cloudtrail', s3Notification(BUCKET, key));
    }
    const { spool } = startPoller({ queue_url: q, concurrency: 2, object_concurrency: 1 });
    await until(() => fake.remaining('cloudtrail').length === 0);
    expect(spooledEvents(spool)).toHaveLength(6);
    expect(fake.maxActiveGets).toBe(2);
  });

  it('unreadable messages and missing objects are quarantined (kept) and taken off the queue', async () => {
    fake.putObject(BUCKET, `${PREFIX}/garbage.json.gz`, gzipSync('this is not json'));
    const q = fake.queueUrl('cloudtrail');
    fake.send('cloudtrail', 'not json at all');
    fake.send('cloudtrail', s3Notification(BUCKET, `${PREFIX}/gone.json.gz`));
    fake.send('cloudtrail', s3Notification(BUCKET, `${PREFIX}/garbage.json.gz`));
    // An EventBridge rule may target the queue directly: the message is the event.
    fake.send('cloudtrail', fx('eventbridge-sagemaker-endpoint-state-change.awsdocs.json'));
    const { spool } = startPoller({ queue_url: q });
    await until(() => fake.remaining('cloudtrail').length === 0);
    const reasons = spool.listQuarantine({ channel: 'sagemaker.s3' }).map((e) => e.reason).sort();
    expect(reasons).toEqual([
      expect.stringMatching(/^SQS message body is not JSON/),
      expect.stringMatching(/^announced object .*gone\.json\.gz does not exist \(NoSuchKey\)/),
      expect.stringMatching(/garbage\.json\.gz is not JSON/),
    ]);
    expect(spooledEvents(spool).map((e) => e.action)).toEqual(['endpoint.status_change']);
  });

  it('a corrupt gzip object and one over max_object_bytes (decompressed) are quarantined and the message deleted, not redelivered forever', async () => {
    const good = gzipSync(JSON.stringify({ Records: log2Records() }));
    // Gzip magic, then garbage: zlib fails with a Z_ code.
    fake.putObject(BUCKET, `${PREFIX}/corrupt.json.gz`, Buffer.concat([good.subarray(0, 10), Buffer.alloc(64, 0xff)]), 'application/x-gzip');
    // Small on the wire, large once gunzipped (a gzip bomb in miniature).
    fake.putObject(BUCKET, `${PREFIX}/big.json.gz`, gzipSync(JSON.stringify({ Records: log2Records(), pad: 'x'.repeat(200_000) })), 'application/x-gzip');
    fake.putObject(BUCKET, LOG2, good, 'application/x-gzip');
    const q = fake.queueUrl('cloudtrail');
    fake.send('cloudtrail', s3Notification(BUCKET, `${PREFIX}/corrupt.json.gz`));
    fake.send('cloudtrail', s3Notification(BUCKET, `${PREFIX}/big.json.gz`));
    fake.send('cloudtrail', s3Notification(BUCKET, LOG2));
    const { spool } = startPoller({ queue_url: q, max_object_bytes: 100_000 });
    await until(() => fake.remaining('cloudtrail').length === 0);
    expect(fake.queues.get('cloudtrail')!.map((m) => m.receiveCount)).toEqual([1, 1, 1]);
    const reasons = spool.listQuarantine({ channel: 'sagemaker.s3' }).map((e) => e.reason).sort();
    expect(reasons).toEqual([
      `s3://${BUCKET}/${PREFIX}/big.json.gz: object exceeds 100000 bytes decompressed (connectors.sagemaker.sqs.max_object_bytes)`,
      expect.stringMatching(new RegExp(`^s3://${BUCKET}/${PREFIX}/corrupt\\.json\\.gz is not valid gzip: `)),
    ]);
    // The object under the bound is read whole.
    expect(spooledEvents(spool).map((e) => e.operation)).toEqual(['UpdateModelPackage']);
  });

  it('a gzip object whose first byte arrives alone is still recognised as gzip and read', async () => {
    seedObjects();
    fake.s3Faults.set(`${BUCKET}/${LOG2}`, { firstByteAloneMs: 50 });
    const q = fake.queueUrl('cloudtrail');
    fake.send('cloudtrail', s3Notification(BUCKET, LOG2));
    const { spool } = startPoller({ queue_url: q });
    await until(() => fake.remaining('cloudtrail').length === 0);
    expect(spool.listQuarantine({})).toEqual([]);
    expect(spooledEvents(spool).map((e) => e.operation)).toEqual(['UpdateModelPackage']);
  });

  it('reads the object version the notification announced (versionId), not whatever the key holds now', async () => {
    seedObjects();
    const q = fake.queueUrl('cloudtrail');
    const n = s3Notification(BUCKET, LOG2);
    n.Records[0]!.s3.object.versionId = '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY';
    fake.send('cloudtrail', n);
    startPoller({ queue_url: q });
    await until(() => fake.remaining('cloudtrail').length === 0);
    expect(fake.getVersions).toEqual([{ key: `${BUCKET}/${LOG2}`, versionId: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY' }]);
  });

  describe('health and source events when ReceiveMessage fails', () => {
    const FAST = { initialMs: 100, maxMs: 300 };
    const sourceEvents = (spool: Spool) => spooledEvents(spool).filter((e) => e.action.startsWith('source.'));
    const receives = () => fake.calls.filter((c) => c === 'sqs:ReceiveMessage').length;
    /** Polls health until `state`, recording every state seen on the way. */
    async function healthUntil(poller: Poller, state: string, seen = new Set<string>()): Promise<Set<string>> {
      await until(() => seen.add(poller.health!().state).has(state), 15_000, `health ${state}`);
      return seen;
    }

    it('refused on every receive (AccessDenied): degraded, then unhealthy naming it, one source.unavailable; the first receive that works clears it at once and raises one source.recovered', async () => {
      seedObjects();
      const q = fake.queueUrl('cloudtrail');
      fake.denyReceives = Number.POSITIVE_INFINITY;
      const { poller, spool } = startPoller({ queue_url: q }, undefined, undefined, { retry: FAST });
      const seen = await healthUntil(poller, 'unhealthy');
      expect(seen.has('degraded')).toBe(true); // a short grace first
      expect(poller.health!()).toEqual({ state: 'unhealthy', reason: expect.stringMatching(/^ReceiveMessage failed: AccessDenied\w*: Access to the resource .*\/cloudtrail is denied\. \(failing since .*, [4-9] attempt\(s\) in a row; retrying with backoff\)$/) });
      await until(() => sourceEvents(spool).length > 0);
      // Still refused for several more attempts: still one event.
      const n = receives();
      await until(() => receives() >= n + 4);
      const [down, ...more] = sourceEvents(spool);
      expect(more).toEqual([]);
      expect(down).toMatchObject({
        action: 'source.unavailable', platform: 'sagemaker', channel: 'sagemaker.s3', stage: 'ingestion', outcome: 'failure',
        error: { code: 'MLTRAIL_ERR_UPSTREAM', message: expect.stringMatching(/^AccessDenied/) },
        resource: { type: 'sqs_queue', id: q, name: 'cloudtrail' }, cloud: { provider: 'aws', account: fake.accountId },
      });

      // Access granted again: a message is received, processed and deleted; nothing stale remains.
      fake.denyReceives = 0;
      fake.send('cloudtrail', s3Notification(BUCKET, LOG2));
      await until(() => fake.remaining('cloudtrail').length === 0);
      expect(poller.health!()).toEqual({ state: 'healthy' });
      await until(() => sourceEvents(spool).length === 2);
      const up = sourceEvents(spool)[1]!;
      expect(up).toMatchObject({ action: 'source.recovered', outcome: 'success', resource: { type: 'sqs_queue', id: q }, details: { after: 'unavailable', down_s: expect.any(Number) } });
      expect(up.time >= down!.time).toBe(true);
      expect(spooledEvents(spool).filter((e) => e.operation === 'UpdateModelPackage')).toHaveLength(1);
    });

    it('a queue that does not exist is unhealthy with QueueDoesNotExist; once it exists the poller is healthy at the next receive, not minutes later', async () => {
      const q = `${fake.url}/${fake.accountId}/cloudtrail`; // not created yet
      const { poller, spool } = startPoller({ queue_url: q }, undefined, undefined, { retry: FAST });
      await healthUntil(poller, 'unhealthy');
      expect(poller.health!().reason).toMatch(/^ReceiveMessage failed: QueueDoesNotExist/);
      fake.queueUrl('cloudtrail');
      const n = receives();
      await until(() => receives() > n + 1); // one that worked, and the next long poll started
      expect(poller.health!()).toEqual({ state: 'healthy' });
      await until(() => sourceEvents(spool).length === 2);
      expect(sourceEvents(spool).map((e) => e.action)).toEqual(['source.unavailable', 'source.recovered']);
    });

    it('a brief failure (fewer attempts than an outage) is degraded only, cleared by the next receive, with no source event', async () => {
      seedObjects();
      const q = fake.queueUrl('cloudtrail');
      fake.send('cloudtrail', s3Notification(BUCKET, LOG2));
      fake.denyReceives = 2;
      const { poller, spool } = startPoller({ queue_url: q }, undefined, undefined, { retry: FAST });
      const seen = new Set<string>();
      await until(() => seen.add(poller.health!().state) && fake.remaining('cloudtrail').length === 0);
      expect([...seen].sort()).toEqual(['degraded', 'healthy']);
      expect(poller.health!()).toEqual({ state: 'healthy' });
      expect(sourceEvents(spool)).toEqual([]);
    });
  });

  it('an SNS SubscriptionConfirmation / UnsubscribeConfirmation is quarantined with a reason saying what to do, logged as a warning, deleted, and its URL never visited', async () => {
    const q = fake.queueUrl('cloudtrail');
    const topic = 'arn:aws:sns:us-east-1:111122223333:cloudtrail-delivery';
    const token = '2336412f37fb687f5d51e6e2425c464de12884c9d7c7d6a1a4c1b1f1e1b2b7f0';
    const snsUrl = `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topic}&Token=${token}`;
    // AWS's documented shape of the notice (SNS developer guide, "HTTP/HTTPS subscription confirmation JSON format").
    const notice = (Type: string, SubscribeURL: string) => ({
      Type, MessageId: '165545c9-2a5c-472c-8df2-7ff2be2b3b1b', Token: token, TopicArn: topic,
      Message: `You have chosen to subscribe to the topic ${topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
      SubscribeURL, Timestamp: '2026-11-25T10:15:00.000Z', SignatureVersion: '1', Signature: 'EXAMPLE',
      SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem',
    });
    fake.send('cloudtrail', notice('SubscriptionConfirmation', snsUrl));
    // Anyone who can send to the queue can forge one: a URL that is not SNS's is flagged, and not visited either.
    fake.send('cloudtrail', notice('SubscriptionConfirmation', `${fake.url}/confirm?Action=ConfirmSubscription`));
    fake.send('cloudtrail', notice('UnsubscribeConfirmation', snsUrl));
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const { spool } = startPoller({ queue_url: q }, undefined, undefined, { logger });
    await until(() => fake.remaining('cloudtrail').length === 0);

    const reasons = spool.listQuarantine({ channel: 'sagemaker.s3' }).map((e) => e.reason).sort();
    expect(reasons).toEqual([
      `SNS SubscriptionConfirmation for topic ${topic}: its SubscribeURL (${fake.url}/confirm?Action=ConfirmSubscription) is NOT an SNS address (https://sns.<region>.amazonaws.com/): do not visit it`,
      `SNS SubscriptionConfirmation: confirm the subscription by visiting SubscribeURL (${snsUrl}) if topic ${topic} is yours; mltrail does not visit it`,
      `SNS UnsubscribeConfirmation: topic ${topic} no longer delivers to this queue; to subscribe again, visit SubscribeURL (${snsUrl}); mltrail does not visit it`,
    ]);
    expect(fake.calls.filter((c) => !c.startsWith('sqs:'))).toEqual([]);
    const warned = lines.filter((l) => l.poller === 'sagemaker.cloudtrail_sqs' && l.level === 40).map((l) => l.msg);
    expect(warned.sort()).toEqual(['SNS subscription to the queue awaits confirmation', 'SNS subscription to the queue awaits confirmation', 'SNS subscription to the queue was removed']);
    expect(spooledEvents(spool)).toEqual([]);
  });
});
