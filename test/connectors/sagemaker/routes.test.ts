import { afterEach, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { readFixture } from '../../helpers/fixtures.js';
import { ctRecord, cwlData, fx } from './helpers.js';
import { startRoutes, type Harness } from './harness.js';

const EB = '/v1/ingest/sagemaker/eventbridge';
const FH = '/v1/ingest/sagemaker/firehose';
const KEY = 'eb-key-0123456789';
const FH_KEY = 'fh-access-key-abcdef';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function post(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(`${h!.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

/** What Firehose sends: its headers, the JSON envelope, optional gzip. */
function firehoseRequest(records: Array<{ data: string }>, opts: { requestId?: string; key?: string; gzip?: boolean } = {}) {
  const requestId = opts.requestId ?? 'ed4acda5-034f-9f42-bba1-f29aea6d7d8f';
  const json = Buffer.from(JSON.stringify({ requestId, timestamp: 1578090901599, records }));
  const headers: Record<string, string> = {
    'x-amz-firehose-protocol-version': '1.0',
    'x-amz-firehose-request-id': requestId,
    'x-amz-firehose-source-arn': 'arn:aws:firehose:us-east-1:111122223333:deliverystream/cloudtrail-to-mltrail',
    'user-agent': 'Amazon Kinesis Data Firehose Agent/1.0',
  };
  if (opts.key !== '') headers['x-amz-firehose-access-key'] = opts.key ?? FH_KEY;
  if (opts.gzip) headers['content-encoding'] = 'gzip';
  return { body: opts.gzip ? gzipSync(json) : json, headers };
}

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64');

async function authFailures(): Promise<number> {
  await new Promise((r) => setTimeout(r, 50));
  return h!.events().filter((e) => e.action === 'ingest.auth_failure').length;
}

describe('POST /v1/ingest/sagemaker/eventbridge', () => {
  it('answers 503 naming MLTRAIL_EVENTBRIDGE_API_KEY when no key is configured', async () => {
    h = await startRoutes();
    const r = await post(EB, JSON.stringify(fx('eventbridge-sagemaker-training-job-state-change.awsdocs.json')), { 'x-api-key': 'x' });
    expect(r.status).toBe(503);
    expect(r.json!.error).toMatchObject({ code: 'MLTRAIL_ERR_NOT_CONFIGURED', variable: 'MLTRAIL_EVENTBRIDGE_API_KEY' });
    expect(h.events()).toHaveLength(0);
  });

  it('refuses a missing or wrong API key with 401 and records the auth failure', async () => {
    h = await startRoutes({ eventbridge: { api_keys: [KEY] } });
    const body = JSON.stringify(fx('eventbridge-sagemaker-training-job-state-change.awsdocs.json'));
    expect((await post(EB, body)).status).toBe(401);
    const wrong = await post(EB, body, { 'x-api-key': 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.json!.error.code).toBe('MLTRAIL_ERR_UNAUTHORIZED');
    expect(wrong.text).not.toContain(KEY);
    expect(await authFailures()).toBe(2);
    expect(h.events().filter((e) => e.action !== 'ingest.auth_failure')).toHaveLength(0);
  });

  it('accepts a single service event with the API key header and commits it before answering', async () => {
    h = await startRoutes({ eventbridge: { api_keys: ['old-key', KEY] } });
    const r = await post(EB, readFixture('sagemaker', 'eventbridge-sagemaker-training-job-state-change.awsdocs.json'), {
      'x-api-key': KEY,
      'user-agent': 'Amazon/EventBridge/ApiDestinations',
      range: 'bytes=0-1048575',
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ accepted: 1, duplicates: 0 });
    const [ev] = h.events();
    expect(ev).toMatchObject({ channel: 'sagemaker.eventbridge', stage: 'training', action: 'training_job.complete', platform: 'sagemaker' });
  });

  it('takes a batch (JSON array), a configured header name, and Basic auth', async () => {
    h = await startRoutes({ eventbridge: { api_keys: [KEY], api_key_header: 'x-mltrail-key', basic_username: 'eventbridge' } });
    const batch = JSON.stringify([
      fx('eventbridge-sagemaker-endpoint-state-change.awsdocs.json'),
      fx('eventbridge-cloudtrail-s3-putobject.stepfunctions-docs.json'),
    ]);
    expect((await post(EB, batch, { 'x-api-key': KEY })).status).toBe(401);
    const r = await post(EB, batch, { 'x-mltrail-key': KEY });
    expect(r.json).toMatchObject({ accepted: 2 });
    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
    const one = JSON.stringify(fx('eventbridge-sagemaker-pipeline-execution-status-change.awsdocs.json'));
    expect((await post(EB, one, { authorization: basic('someone-else', KEY) })).status).toBe(401);
    expect((await post(EB, one, { authorization: basic('eventbridge', 'wrong') })).status).toBe(401);
    const ok = await post(EB, one, { authorization: basic('eventbridge', KEY) });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ accepted: 1 });
    expect(h.events().filter((e) => e.channel === 'sagemaker.eventbridge' && e.action !== 'ingest.auth_failure')).toHaveLength(3);
  });

  it('checks the API key before reading the body: without it, a body over the limit or a corrupt gzip is a 401, not a 413/400', async () => {
    h = await startRoutes({ eventbridge: { api_keys: [KEY], max_body_bytes: 1000 } });
    const big = 'x'.repeat(5000);
    expect((await post(EB, big)).status).toBe(401);
    expect((await post(EB, big, { 'x-api-key': 'nope' })).status).toBe(401);
    expect((await post(EB, big, { 'x-api-key': KEY })).status).toBe(413);
    expect((await post(EB, Buffer.from('not gzip'), { 'x-api-key': 'nope', 'content-encoding': 'gzip' })).status).toBe(401);
    expect((await post(EB, Buffer.from('not gzip'), { 'x-api-key': KEY, 'content-encoding': 'gzip' })).status).toBe(400);
    expect(h.events().filter((e) => e.action !== 'ingest.auth_failure')).toEqual([]);
  });

  it('Basic auth without basic_username configured: any user name, the password is the API key (any of the rotated keys)', async () => {
    h = await startRoutes({ eventbridge: { api_keys: [KEY, 'next-key-9876543210'] } });
    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
    const one = JSON.stringify(fx('eventbridge-sagemaker-pipeline-execution-status-change.awsdocs.json'));
    const ok = await post(EB, one, { authorization: basic('any-connection-user', KEY) });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ accepted: 1 });
    expect((await post(EB, one, { authorization: basic('any-connection-user', 'wrong') })).status).toBe(401);
  });

  it('quarantines a body that is not JSON (400, EventBridge does not retry it) and one with nothing usable', async () => {
    h = await startRoutes({ eventbridge: { api_keys: [KEY] } });
    const bad = await post(EB, '{"detail-type": "AWS API Call via CloudTrail", "detail": {', { 'x-api-key': KEY });
    expect(bad.status).toBe(400);
    expect(bad.json!.error.code).toBe('MLTRAIL_ERR_INVALID_JSON');
    const junk = await post(EB, JSON.stringify({ hello: 'world' }), { 'x-api-key': KEY });
    expect(junk.status).toBe(400);
    expect(junk.json!.error.code).toBe('MLTRAIL_ERR_VALIDATION');
    const q = h.spool.listQuarantine({ channel: 'sagemaker.eventbridge' });
    expect(q).toHaveLength(2);
    expect(q.map((e) => e.body.toString())).toEqual(expect.arrayContaining(['{"hello":"world"}']));
  });

  it('a quarantined record keeps no job secret (a rejected CloudTrail envelope holding an environment)', async () => {
    h = await startRoutes({ eventbridge: { api_keys: [KEY] } });
    // Not a CloudTrail record (no eventSource, eventName, eventTime): rejected whole, the envelope kept in quarantine.
    const envelope = { 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.sagemaker', detail: { requestParameters: { environment: { HF_TOKEN: 'hf_quarantineleak', MODEL_ID: 'bert' } } } };
    const r = await post(EB, JSON.stringify(envelope), { 'x-api-key': KEY });
    expect(r.status).toBe(400);
    const q = h.spool.listQuarantine({ channel: 'sagemaker.eventbridge' });
    expect(q).toHaveLength(1);
    const body = q[0]!.body.toString();
    expect(body).not.toContain('hf_quarantineleak');
    expect(JSON.parse(body).detail.requestParameters.environment).toEqual({ HF_TOKEN: '[redacted]', MODEL_ID: 'bert' });
  });

  it('answers 503 with Retry-After when the spool is full (EventBridge retries 5xx)', async () => {
    h = await startRoutes({ eventbridge: { api_keys: [KEY] } }, { maxBytes: 1 });
    await post(EB, JSON.stringify(fx('eventbridge-sagemaker-endpoint-state-change.awsdocs.json')), { 'x-api-key': KEY });
    const r = await post(EB, JSON.stringify(fx('eventbridge-sagemaker-training-job-state-change.awsdocs.json')), { 'x-api-key': KEY });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('7');
    expect(r.json!.error.code).toBe('MLTRAIL_ERR_SPOOL_FULL');
  });

  it('a CloudTrail record delivered by EventBridge and again by Firehose is one event', async () => {
    h = await startRoutes({ eventbridge: { api_keys: [KEY] }, firehose: { access_keys: [FH_KEY] } });
    const rec = ctRecord('CreateTrainingJob', { trainingJobName: 'j1' });
    const env = { version: '0', id: 'e-1', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.sagemaker', account: '111122223333', time: '2026-11-25T10:05:00Z', region: 'us-east-1', resources: [], detail: rec };
    expect((await post(EB, JSON.stringify(env), { 'x-api-key': KEY })).json).toMatchObject({ accepted: 1 });
    const fr = firehoseRequest([{ data: cwlData([rec]) }]);
    expect((await post(FH, fr.body, fr.headers)).status).toBe(200);
    expect(h.events().filter((e) => e.operation === 'CreateTrainingJob')).toHaveLength(1);
  });
});

describe('POST /v1/ingest/sagemaker/firehose', () => {
  it('answers 503 naming MLTRAIL_FIREHOSE_ACCESS_KEY (with requestId and timestamp) when no key is configured', async () => {
    h = await startRoutes();
    const fr = firehoseRequest([{ data: b64(ctRecord('CreateModel', { modelName: 'm' })) }]);
    const r = await post(FH, fr.body, fr.headers);
    expect(r.status).toBe(503);
    expect(r.json).toMatchObject({ requestId: 'ed4acda5-034f-9f42-bba1-f29aea6d7d8f', error: { code: 'MLTRAIL_ERR_NOT_CONFIGURED', variable: 'MLTRAIL_FIREHOSE_ACCESS_KEY' } });
    expect(r.json!.errorMessage).toMatch(/MLTRAIL_FIREHOSE_ACCESS_KEY/);
    expect(typeof r.json!.timestamp).toBe('number');
  });

  it('checks X-Amz-Firehose-Access-Key: missing or wrong → 401 (Firehose retries), error body per protocol', async () => {
    h = await startRoutes({ firehose: { access_keys: [FH_KEY] } });
    for (const key of ['', 'wrong-key']) {
      const fr = firehoseRequest([{ data: b64(ctRecord('CreateModel', { modelName: 'm' })) }], { key });
      const r = await post(FH, fr.body, fr.headers);
      expect(r.status).toBe(401);
      expect(r.json).toMatchObject({ requestId: 'ed4acda5-034f-9f42-bba1-f29aea6d7d8f' });
      expect(r.json!.errorMessage).toMatch(/X-Amz-Firehose-Access-Key/);
      expect(r.text).not.toContain(FH_KEY);
    }
    expect(await authFailures()).toBe(2);
  });

  it('delivers gzip request bodies of CloudWatch Logs records; answers exactly {requestId, timestamp} as JSON', async () => {
    h = await startRoutes({ firehose: { access_keys: [FH_KEY] } });
    const before = Date.now();
    const records = [
      { data: cwlData([ctRecord('CreateEndpoint', { endpointName: 'ep' }), ctRecord('UpdateModelPackage', { modelPackageArn: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/g/3', modelApprovalStatus: 'Approved' })]) },
      { data: b64(fx('eventbridge-sagemaker-model-package-state-change.awsdocs.json')) },
      { data: b64({ Records: [ctRecord('PutRecord', { featureGroupName: 'fg' })] }) },
    ];
    const fr = firehoseRequest(records, { gzip: true, requestId: 'req-gz-1' });
    const r = await post(FH, fr.body, fr.headers);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.headers.get('content-encoding')).toBeNull();
    expect(Object.keys(r.json!).sort()).toEqual(['requestId', 'timestamp']);
    expect(r.json!.requestId).toBe('req-gz-1');
    expect(r.json!.timestamp).toBeGreaterThanOrEqual(before);
    const got = h.events().map((e) => `${e.stage}/${e.action}`).sort();
    expect(got).toEqual(['ingestion/feature_record.write', 'registry/model_version.approve', 'registry/model_version.status_change', 'serving/endpoint.deploy']);
    expect(h.events().every((e) => e.channel === 'sagemaker.firehose')).toBe(true);
  });

  it('a malformed record is quarantined and the rest delivered (200)', async () => {
    h = await startRoutes({ firehose: { access_keys: [FH_KEY] } });
    const fr = firehoseRequest([
      { data: b64(ctRecord('CreateTrainingJob', { trainingJobName: 'good-1' })) },
      { data: b64('{"eventVersion":"1.08","userIdentity":{"type":"Root"}') },
      { data: b64(ctRecord('CreateTrainingJob', { trainingJobName: 'good-2' }, { eventID: 'evt-2' })) },
    ]);
    const r = await post(FH, fr.body, fr.headers);
    expect(r.status).toBe(200);
    expect(h.events().map((e) => e.resource?.name).sort()).toEqual(['good-1', 'good-2']);
    const q = h.spool.listQuarantine({ channel: 'sagemaker.firehose' });
    expect(q).toHaveLength(1);
    expect(q[0]!.reason).toMatch(/not JSON/);
    expect(q[0]!.meta).toMatchObject({ path: 'records[1]', request_id: 'ed4acda5-034f-9f42-bba1-f29aea6d7d8f' });
    // The quarantined copy is the record as Firehose sent it, so it can be replayed.
    expect(JSON.parse(q[0]!.body.toString()).data).toBe(b64('{"eventVersion":"1.08","userIdentity":{"type":"Root"}'));
  });

  it('a record nested thousands of levels deep is quarantined and the rest of the batch delivered (200, not a 500 for all)', async () => {
    h = await startRoutes({ firehose: { access_keys: [FH_KEY] } });
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const fr = firehoseRequest([
      { data: b64(ctRecord('CreateTrainingJob', { trainingJobName: 'good-1' })) },
      { data: b64(`{"eventVersion":"1.08","eventSource":"sagemaker.amazonaws.com","eventName":"CreateTrainingJob","requestParameters":${deep}}`) },
    ]);
    const r = await post(FH, fr.body, fr.headers);
    expect(r.status).toBe(200);
    expect(h.events().map((e) => e.resource?.name)).toEqual(['good-1']);
    const q = h.spool.listQuarantine({ channel: 'sagemaker.firehose' });
    expect(q.map((x) => [x.reason, x.meta.path])).toEqual([[expect.stringMatching(/nested deeper than 200 levels/), 'records[1]']]);
  });

  it('the documented example request ("hello", "hello world") is accepted with both records quarantined', async () => {
    h = await startRoutes({ firehose: { access_keys: [FH_KEY] } });
    const r = await post(FH, readFixture('sagemaker', 'firehose-http-endpoint-request.awsdocs.json'), {
      'x-amz-firehose-request-id': 'ed4acda5-034f-9f42-bba1-f29aea6d7d8f',
      'x-amz-firehose-access-key': FH_KEY,
      'x-amz-firehose-protocol-version': '1.0',
    });
    expect(r.status).toBe(200);
    expect(r.json!.requestId).toBe('ed4acda5-034f-9f42-bba1-f29aea6d7d8f');
    expect(h.spool.listQuarantine({ channel: 'sagemaker.firehose' })).toHaveLength(2);
  });

  it('a retried request (same requestId) does not duplicate events', async () => {
    h = await startRoutes({ firehose: { access_keys: [FH_KEY] } });
    const fr = firehoseRequest([{ data: cwlData([ctRecord('CreateEndpoint', { endpointName: 'ep' })]) }]);
    expect((await post(FH, fr.body, fr.headers)).status).toBe(200);
    expect((await post(FH, fr.body, fr.headers)).status).toBe(200);
    expect(h.events()).toHaveLength(1);
  });

  it('status codes: body not JSON / mismatched request id → 400 (retried, then S3 backup); too large → 413 (final)', async () => {
    h = await startRoutes({ firehose: { access_keys: [FH_KEY], max_body_bytes: 4096 } });
    const notJson = await post(FH, 'not json', { 'x-amz-firehose-request-id': 'r-1', 'x-amz-firehose-access-key': FH_KEY });
    expect(notJson.status).toBe(400);
    expect(notJson.json).toMatchObject({ requestId: 'r-1' });
    expect(h.spool.listQuarantine({ channel: 'sagemaker.firehose' })).toHaveLength(1);
    const fr = firehoseRequest([{ data: b64(ctRecord('CreateModel', { modelName: 'm' })) }], { requestId: 'body-id' });
    const mismatch = await post(FH, fr.body, { ...fr.headers, 'x-amz-firehose-request-id': 'header-id' });
    expect(mismatch.status).toBe(400);
    const big = firehoseRequest([{ data: b64('x'.repeat(8000)) }]);
    const tooLarge = await post(FH, big.body, big.headers);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.json).toMatchObject({ requestId: 'ed4acda5-034f-9f42-bba1-f29aea6d7d8f', error: { code: 'MLTRAIL_ERR_BODY_TOO_LARGE' } });
    const badGzip = await post(FH, Buffer.from('definitely not gzip'), { ...firehoseRequest([]).headers, 'content-encoding': 'gzip' });
    expect(badGzip.status).toBe(400);
    expect(h.events()).toHaveLength(0);
  });

  it('checks the access key before reading the body: without it, a body over the limit is a 401 (retried), never the final 413', async () => {
    h = await startRoutes({ firehose: { access_keys: [FH_KEY], max_body_bytes: 4096 } });
    const big = firehoseRequest([{ data: b64('x'.repeat(8000)) }], { key: 'wrong-key' });
    const r = await post(FH, big.body, big.headers);
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ requestId: 'ed4acda5-034f-9f42-bba1-f29aea6d7d8f', errorMessage: expect.stringMatching(/X-Amz-Firehose-Access-Key/) });
    const badGzip = await post(FH, Buffer.from('definitely not gzip'), { ...firehoseRequest([], { key: 'wrong-key' }).headers, 'content-encoding': 'gzip' });
    expect(badGzip.status).toBe(401);
    expect(h.events().filter((e) => e.action !== 'ingest.auth_failure')).toEqual([]);
    expect(h.spool.listQuarantine({ channel: 'sagemaker.firehose' })).toEqual([]);
  });

  it('answers with the body requestId when the X-Amz-Firehose-Request-Id header is absent; refuses another protocol version', async () => {
    h = await startRoutes({ firehose: { access_keys: [FH_KEY] } });
    const fr = firehoseRequest([{ data: b64(ctRecord('CreateModel', { modelName: 'm' })) }], { requestId: 'body-only-id' });
    const { 'x-amz-firehose-request-id': _id, ...noId } = fr.headers;
    const r = await post(FH, fr.body, noId);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ requestId: 'body-only-id', timestamp: expect.any(Number) });
    const v2 = await post(FH, fr.body, { ...fr.headers, 'x-amz-firehose-protocol-version': '2.0' });
    expect(v2.status).toBe(400);
    expect(v2.json).toMatchObject({ requestId: 'body-only-id', errorMessage: expect.stringMatching(/Protocol-Version 2\.0/) });
  });

  it('a gzip body that decodes past max_decoded_bytes → 413 naming the bound (a small gzip must not decode to gigabytes)', async () => {
    h = await startRoutes({ firehose: { access_keys: [FH_KEY], max_decoded_bytes: 64 * 1024 } });
    const fr = firehoseRequest([{ data: b64('x'.repeat(100_000)) }], { gzip: true, requestId: 'bomb' });
    expect(fr.body.length).toBeLessThan(4096);
    const r = await post(FH, fr.body, fr.headers);
    expect(r.status).toBe(413);
    expect(r.json).toMatchObject({ requestId: 'bomb', error: { code: 'MLTRAIL_ERR_BODY_TOO_LARGE', limit_bytes: 64 * 1024 } });
    expect(h.spool.listQuarantine({ channel: 'sagemaker.firehose' })).toEqual([]);
  });

  it('a full spool answers 503 with Retry-After so Firehose retries', async () => {
    h = await startRoutes({ firehose: { access_keys: [FH_KEY] } }, { maxBytes: 1 });
    const first = firehoseRequest([{ data: b64(ctRecord('CreateModel', { modelName: 'm' })) }], { requestId: 'a' });
    expect((await post(FH, first.body, first.headers)).status).toBe(200);
    const second = firehoseRequest([{ data: b64(ctRecord('CreateEndpoint', { endpointName: 'e' })) }], { requestId: 'b' });
    const r = await post(FH, second.body, second.headers);
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('7');
    expect(r.json).toMatchObject({ requestId: 'b' });
  });
});

describe('bounds on what one request may unpack to', () => {
  it('a gzip of a million {} (3 KB) to EventBridge is refused 413 before it is normalized, and costs the spool nothing', async () => {
    h = await startRoutes({ eventbridge: { api_keys: [KEY] } });
    const held = h.spool.heldBytes;
    const r = await post(EB, gzipSync(`[${Array(1_000_000).fill('{}').join(',')}]`), { 'x-api-key': KEY, 'content-encoding': 'gzip' });
    expect(r.status).toBe(413);
    expect(r.json!.error).toMatchObject({ code: 'MLTRAIL_ERR_BODY_TOO_LARGE', limit_records: 100_000 });
    expect(h.spool.heldBytes - held).toBe(0);
  });

  it('Firehose: a buffer of CloudWatch Logs batches holding 150,000 events is taken whole (sliced, not refused, no stack overflow); a bad record is named by its place', async () => {
    h = await startRoutes({ firehose: { access_keys: [FH_KEY] } });
    const batch = (r: number) => gzipSync(JSON.stringify({ messageType: 'DATA_MESSAGE', owner: '111122223333', logGroup: 'g', logStream: 's', subscriptionFilters: ['f'], logEvents: Array.from({ length: 100 }, (_, i) => ({ id: `${r}-${i}`, timestamp: 1, message: JSON.stringify(ctRecord('DescribeTrainingJob', { trainingJobName: 'j' }, { eventID: `fh-${r}-${i}` })) })) })).toString('base64');
    const records = Array.from({ length: 1500 }, (_, r) => ({ data: batch(r) }));
    records.splice(700, 0, { data: b64('not json at all') });
    const { body, headers } = firehoseRequest(records);
    const r = await post(FH, body, headers);
    expect(r.status).toBe(200);
    expect(h.spool.maxSeq()).toBe(150_000);
    const q = h.spool.listQuarantine({ channel: 'sagemaker.firehose' });
    expect(q.map((x) => [x.meta.record, x.meta.path])).toEqual([[700, 'records[700]']]);
  }, 120_000);

  it('Firehose: one record holding a CloudWatch Logs batch of 5,000 events is normalized in slices; a bad event is named by its place in the request', async () => {
    h = await startRoutes({ firehose: { access_keys: [FH_KEY] } });
    const logEvents = Array.from({ length: 5000 }, (_, i) => ({ id: String(i), timestamp: 1, message: i === 4321 ? 'not json' : JSON.stringify(ctRecord('DescribeTrainingJob', { trainingJobName: `job-${i}-${'x'.repeat(i % 97)}` }, { eventID: `one-${i}` })) }));
    const data = gzipSync(JSON.stringify({ messageType: 'DATA_MESSAGE', owner: '111122223333', logGroup: 'g', logStream: 's', subscriptionFilters: ['f'], logEvents })).toString('base64');
    expect(data.length).toBeGreaterThan(64 * 1024);
    const req = firehoseRequest([{ data: b64('{"x":') }, { data }], { requestId: 'one-big' });
    expect((await post(FH, req.body, req.headers)).status).toBe(200);
    expect(h.spool.maxSeq()).toBe(4999);
    expect(h.spool.listQuarantine({ channel: 'sagemaker.firehose' }).map((q) => q.meta.path).sort()).toEqual(['records[0]', 'records[1].logEvents[4321]']);
  });

  it('Firehose: readable records are all taken, however much the request decodes to together (each record is bounded, not the request); 1 KB of bad lines costs the spool a few MiB (not 150)', async () => {
    h = await startRoutes({ firehose: { access_keys: [FH_KEY], max_decoded_bytes: 1024 * 1024 } });
    // Readable: 4 CloudWatch Logs batches of 200 CloudTrail events each, far over 1 MiB decoded together.
    const batch = (r: number) => gzipSync(JSON.stringify({ messageType: 'DATA_MESSAGE', owner: '111122223333', logGroup: 'g', logStream: 's', subscriptionFilters: ['f'], logEvents: Array.from({ length: 200 }, (_, i) => ({ id: `${r}-${i}`, timestamp: 1, message: JSON.stringify(ctRecord('DescribeTrainingJob', { trainingJobName: 'j'.repeat(2000) }, { eventID: `dec-${r}-${i}` })) })) })).toString('base64');
    const ok = firehoseRequest([0, 1, 2, 3].map((r) => ({ data: batch(r) })), { requestId: 'dec-ok' });
    expect((await post(FH, ok.body, ok.headers)).status).toBe(200);
    expect(h.spool.maxSeq()).toBe(800);
    expect(h.spool.listQuarantine({ channel: 'sagemaker.firehose' })).toEqual([]);
    // Bad: one record of 1,050 lines of 60,000 'x' (1 KB on the wire) used to keep its whole data with every line.
    const held = h.spool.heldBytes;
    const lines = gzipSync(Array(1050).fill('x'.repeat(60_000)).join('\n')).toString('base64');
    const bad = firehoseRequest([{ data: lines }], { requestId: 'dec-bad', gzip: true });
    expect(bad.body.length).toBeLessThan(2048);
    expect((await post(FH, bad.body, bad.headers)).status).toBe(200); // kept in quarantine, acknowledged (Firehose would resend it for ever)
    expect(h.spool.heldBytes - held).toBeLessThan(3 * 1024 * 1024); // was 150 MB: the record's data copied into every row
    const q = h.spool.listQuarantine({ channel: 'sagemaker.firehose', limit: 2000 });
    expect(q).toHaveLength(1001);
    expect(q.at(-1)!.meta.overflow).toMatchObject({ count: 50 });
  });
});
