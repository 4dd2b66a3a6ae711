import { createHash, createHmac } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { databricksSignature, mlflowSignature } from '../../../connectors/mlflow/signature.js';
import { stableId } from '../../../core/schema/index.js';
import { readFixture } from '../../helpers/fixtures.js';
import { fixtureSecret, signingVectors, startWebhookServer, type Harness } from './helpers.js';

const vectors = signingVectors();
const secret = fixtureSecret();
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function post(url: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; json: any }> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const mlflowHeaders = (v: { deliveryId: string; timestamp: string; signature: string }) => ({
  'X-MLflow-Delivery-Id': v.deliveryId,
  'X-MLflow-Timestamp': v.timestamp,
  'X-MLflow-Signature': v.signature,
  'User-Agent': 'python-requests/2.32.4',
});

describe('POST /v1/ingest/mlflow signature vectors', () => {
  it('SOURCES.md lists a vector for every fixture and the secret', () => {
    expect(vectors).toHaveLength(6);
    expect(secret).toBe('test-secret-key');
    for (const v of vectors) {
      const body = readFixture('mlflow', v.file);
      expect(body.length).toBe(v.bytes);
      expect(createHash('sha256').update(body).digest('hex')).toBe(v.sha256);
      expect(mlflowSignature(secret, v.deliveryId, v.timestamp, body)).toBe(v.signature);
    }
  });

  it('the inline vector of the spec verifies', () => {
    const body = '{"entity": "model_version", "action": "created", "timestamp": "2025-07-31T22:13:20.123456+00:00", "data": {"name": "example_model", "version": "1", "source": "models:/123", "run_id": "abcd1234abcd5678", "tags": {"example_key": "example_value"}, "description": "An example model version"}}';
    expect(mlflowSignature('test-secret-key', '5b9c3a5e-6f3c-4d1e-9a51-2a7f0c8d1e42', '1754000000', body)).toBe('v1,+BMyXosMKMkMsRqdAD38W9/FuxwPonxMVGK5XvqWOdo=');
  });

  for (const v of vectors) {
    it(`accepts ${v.file} exactly as MLflow sent it`, async () => {
      h = await startWebhookServer({ webhook_secrets: [secret] }, Number(v.timestamp) * 1000 + 2000);
      const r = await post(`${h.url}/v1/ingest/mlflow`, readFixture('mlflow', v.file), mlflowHeaders(v));
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ accepted: 1, duplicates: 0, delivery_id: v.deliveryId });
      const events = h.events();
      expect(events).toHaveLength(1);
      expect(events[0]!.id).toBe(stableId('mlflow', 'delivery', v.deliveryId));
      expect(events[0]!.channel).toBe('mlflow.webhook');
      expect(events[0]!.stage).toBe('registry');
      expect(events[0]!.details?.delivery_id).toBe(v.deliveryId);
    });
  }
});

describe('POST /v1/ingest/mlflow authentication', () => {
  const v = vectors.find((x) => x.file === 'model_version.created.json')!;
  const body = () => readFixture('mlflow', v.file);
  const at = Number(v.timestamp) * 1000;

  it('several secrets are active at once (rotation)', async () => {
    h = await startWebhookServer({ webhook_secrets: 'new-secret-2026, test-secret-key' }, at);
    expect((await post(`${h.url}/v1/ingest/mlflow`, body(), mlflowHeaders(v))).status).toBe(200);
  });

  it('tampering one byte of body, timestamp or delivery id → 401 and an auth-failure event', async () => {
    h = await startWebhookServer({ webhook_secrets: [secret] }, at);
    const tampered = Buffer.from(body());
    tampered[tampered.indexOf('"1"') + 1] = '2'.charCodeAt(0);
    const cases = [
      { b: tampered, hd: mlflowHeaders(v) },
      { b: body(), hd: mlflowHeaders({ ...v, timestamp: String(Number(v.timestamp) + 1) }) },
      { b: body(), hd: mlflowHeaders({ ...v, deliveryId: v.deliveryId.replace(/.$/, (c) => (c === '0' ? '1' : '0')) }) },
      { b: body(), hd: mlflowHeaders({ ...v, signature: v.signature.replace('v1,', 'v1, ') }) },
      { b: body(), hd: mlflowHeaders({ ...v, signature: mlflowSignature('wrong-secret', v.deliveryId, v.timestamp, body()) }) },
      { b: body(), hd: mlflowHeaders({ ...v, signature: `v2,${v.signature.slice(3)}` }) },
    ];
    for (const c of cases) {
      const r = await post(`${h.url}/v1/ingest/mlflow`, c.b, c.hd);
      expect(r.status).toBe(401);
      expect(r.json.error.code).toBe('MLTRAIL_ERR_SIGNATURE');
    }
    const events = h.events();
    expect(events.every((e) => e.action === 'ingest.auth_failure')).toBe(true);
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events[0]).toMatchObject({ platform: 'mlflow', channel: 'mlflow.webhook', stage: 'ingestion', outcome: 'failure' });
  });

  it('missing signature or headers → 401', async () => {
    h = await startWebhookServer({ webhook_secrets: [secret] }, at);
    const { 'X-MLflow-Signature': _s, ...noSig } = mlflowHeaders(v);
    const r1 = await post(`${h.url}/v1/ingest/mlflow`, body(), noSig);
    expect(r1.status).toBe(401);
    expect(r1.json.error.message).toMatch(/X-MLflow-Signature/);
    const { 'X-MLflow-Timestamp': _t, ...noTs } = mlflowHeaders(v);
    expect((await post(`${h.url}/v1/ingest/mlflow`, body(), noTs)).status).toBe(401);
    expect(h.events().filter((e) => e.action !== 'ingest.auth_failure')).toEqual([]);
  });

  it('timestamp window: 300 s past and future by default, configurable', async () => {
    h = await startWebhookServer({ webhook_secrets: [secret] }, at + 301_000);
    const stale = await post(`${h.url}/v1/ingest/mlflow`, body(), mlflowHeaders(v));
    expect(stale.status).toBe(401);
    expect(stale.json.error.code).toBe('MLTRAIL_ERR_STALE_TIMESTAMP');
    expect(stale.json.error.message).toMatch(/301 s in the past/);
    h.clock.now = at - 301_000;
    const future = await post(`${h.url}/v1/ingest/mlflow`, body(), mlflowHeaders(v));
    expect(future.status).toBe(401);
    expect(future.json.error.message).toMatch(/in the future/);
    h.clock.now = at + 300_000;
    expect((await post(`${h.url}/v1/ingest/mlflow`, body(), mlflowHeaders(v))).status).toBe(200);
    await h.close();
    h = await startWebhookServer({ webhook_secrets: [secret], timestamp_window_s: 30 }, at + 31_000);
    expect((await post(`${h.url}/v1/ingest/mlflow`, body(), mlflowHeaders(v))).status).toBe(401);
  });

  it('rotation: whichever configured secret signed the delivery verifies, first or last in the list', async () => {
    h = await startWebhookServer({ webhook_secrets: 'test-secret-key, new-secret-2026, third-secret-0000' }, at);
    expect((await post(`${h.url}/v1/ingest/mlflow`, body(), mlflowHeaders(v))).status).toBe(200);
    const id = 'dddddddd-0000-4000-8000-0000000000aa';
    const mid = { ...v, deliveryId: id, signature: mlflowSignature('new-secret-2026', id, v.timestamp, body()) };
    expect((await post(`${h.url}/v1/ingest/mlflow`, body(), mlflowHeaders(mid))).status).toBe(200);
  });

  it('a signed X-MLflow-Timestamp that is not whole unix seconds → 401 STALE_TIMESTAMP: the replay window cannot be stepped around', async () => {
    h = await startWebhookServer({ webhook_secrets: [secret] }, at);
    for (const ts of [`${v.timestamp}.0`, 'abc', `${v.timestamp}000`]) {
      const id = `dddddddd-0000-4000-8000-${String(ts.length).padStart(12, '0')}`;
      const r = await post(`${h.url}/v1/ingest/mlflow`, body(), mlflowHeaders({ deliveryId: id, timestamp: ts, signature: mlflowSignature(secret, id, ts, body()) }));
      expect(r.status).toBe(401);
      expect(r.json.error.code).toBe('MLTRAIL_ERR_STALE_TIMESTAMP');
    }
    expect(h.events().filter((e) => e.action !== 'ingest.auth_failure')).toEqual([]);
  });

  it('a retried delivery (same id) answers 2xx and stays one event', async () => {
    h = await startWebhookServer({ webhook_secrets: [secret] }, at);
    const first = await post(`${h.url}/v1/ingest/mlflow`, body(), mlflowHeaders(v));
    h.clock.now = at + 7_000; // urllib3 backoff before the retry
    const second = await post(`${h.url}/v1/ingest/mlflow`, body(), mlflowHeaders(v));
    expect(first).toMatchObject({ status: 200, json: { accepted: 1, duplicates: 0 } });
    expect(second).toMatchObject({ status: 200, json: { accepted: 0, duplicates: 1 } });
    expect(h.events()).toHaveLength(1);
  });

  it('a signed body nested thousands of levels deep → 400, kept byte for byte in quarantine (not a 500 MLflow retries and loses)', async () => {
    const deep = `{"entity":"model_version","action":"created","timestamp":"2025-08-20T09:15:42+00:00","data":{"name":"m","version":"1","description":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}}`;
    const id = '11111111-2222-4333-8444-666666666666';
    const ts = '1755681342';
    const sig = `v1,${createHmac('sha256', secret).update(`${id}.${ts}.${deep}`).digest('base64')}`;
    h = await startWebhookServer({ webhook_secrets: [secret] }, Number(ts) * 1000);
    const r = await post(`${h.url}/v1/ingest/mlflow`, deep, { 'X-MLflow-Delivery-Id': id, 'X-MLflow-Timestamp': ts, 'X-MLflow-Signature': sig });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'MLTRAIL_ERR_INVALID_JSON', message: expect.stringMatching(/deeper than 200 levels/) });
    const q = h.spool.listQuarantine({ channel: 'mlflow.webhook' });
    expect(q.map((x) => x.body.toString())).toEqual([deep]);
  });

  it('a signed body up to the route limit is kept whole in quarantine, so it still verifies against its signature', async () => {
    const big = `{"entity": "model_version", "action": "created", "data": {"description": "${'a'.repeat(600 * 1024)}"`; // cut: not JSON
    const id = '11111111-2222-4333-8444-777777777777';
    const ts = '1755681342';
    const sig = mlflowSignature(secret, id, ts, big);
    h = await startWebhookServer({ webhook_secrets: [secret] }, Number(ts) * 1000);
    const r = await post(`${h.url}/v1/ingest/mlflow`, big, { 'X-MLflow-Delivery-Id': id, 'X-MLflow-Timestamp': ts, 'X-MLflow-Signature': sig });
    expect(r.status).toBe(400);
    const [q] = h.spool.listQuarantine({ channel: 'mlflow.webhook' });
    expect(q!.body.length).toBe(Buffer.byteLength(big));
    expect(mlflowSignature(secret, id, ts, q!.body)).toBe(sig);
  });

  it('a signed delivery whose timestamp is not a time → 400 naming the field, the signed bytes quarantined (never dated otherwise)', async () => {
    const fixture = readFixture('mlflow', 'model_version.created.json').toString();
    const bad = fixture.replace('"timestamp": "2025-08-20T09:16:03.104877+00:00"', '"timestamp": "2025-02-30T09:16:03.104877+00:00"');
    expect(bad).not.toBe(fixture);
    const id = '11111111-2222-4333-8444-777777777777';
    const ts = '1755681363';
    const sig = `v1,${createHmac('sha256', secret).update(`${id}.${ts}.${bad}`).digest('base64')}`;
    h = await startWebhookServer({ webhook_secrets: [secret] }, Number(ts) * 1000);
    const r = await post(`${h.url}/v1/ingest/mlflow`, bad, { 'X-MLflow-Delivery-Id': id, 'X-MLflow-Timestamp': ts, 'X-MLflow-Signature': sig });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'MLTRAIL_ERR_VALIDATION', field: 'timestamp', message: 'timestamp "2025-02-30T09:16:03.104877+00:00" is not a valid RFC 3339 time (years 1970-9999, a date the calendar has)' });
    expect(h.events()).toEqual([]);
    expect(h.spool.listQuarantine({ channel: 'mlflow.webhook' }).map((x) => x.body.toString())).toEqual([bad]);
  });

  it('non-ASCII payloads (Python \\uXXXX escaping) verify over the raw bytes', async () => {
    const raw = '{"entity": "registered_model", "action": "created", "timestamp": "2025-08-20T09:15:42+00:00", "data": {"name": "mod\\u00e8le_\\u4e2d\\u6587_\\ud83d\\ude80", "tags": {"owner": "Jos\\u00e9"}, "description": ""}}';
    const id = '11111111-2222-4333-8444-555555555555';
    const ts = '1755681342';
    // Independent of the code under test: Python's hmac over the same bytes.
    const sig = `v1,${createHmac('sha256', secret).update(`${id}.${ts}.${raw}`).digest('base64')}`;
    h = await startWebhookServer({ webhook_secrets: [secret] }, Number(ts) * 1000);
    const r = await post(`${h.url}/v1/ingest/mlflow`, Buffer.from(raw, 'ascii'), { 'X-MLflow-Delivery-Id': id, 'X-MLflow-Timestamp': ts, 'X-MLflow-Signature': sig });
    expect(r.status).toBe(200);
    const ev = h.events()[0]!;
    expect(ev.resource?.name).toBe('modèle_中文_🚀');
    expect(ev.ml?.model?.tags).toEqual({ owner: 'José' });
    // The same document re-serialized as UTF-8 no longer matches the signature.
    const reserialized = JSON.stringify(JSON.parse(raw));
    const r2 = await post(`${h.url}/v1/ingest/mlflow`, reserialized, { 'X-MLflow-Delivery-Id': id, 'X-MLflow-Timestamp': ts, 'X-MLflow-Signature': sig });
    expect(r2.status).toBe(401);
  });
});

describe('POST /v1/ingest/mlflow configuration and bad input', () => {
  const v = vectors[0]!;
  const at = Number(v.timestamp) * 1000;
  const sign = (b: string, id = 'dddddddd-0000-4000-8000-000000000001') => ({ 'X-MLflow-Delivery-Id': id, 'X-MLflow-Timestamp': v.timestamp, 'X-MLflow-Signature': mlflowSignature(secret, id, v.timestamp, b) });

  it('no secret configured → 503 naming the variable', async () => {
    h = await startWebhookServer({}, at);
    const r = await post(`${h.url}/v1/ingest/mlflow`, readFixture('mlflow', v.file), mlflowHeaders(v));
    expect(r.status).toBe(503);
    expect(r.json.error).toMatchObject({ code: 'MLTRAIL_ERR_NOT_CONFIGURED', variable: 'MLTRAIL_MLFLOW_WEBHOOK_SECRET' });
    expect(r.json.error.message).toMatch(/MLTRAIL_MLFLOW_WEBHOOK_SECRET/);
    const d = await post(`${h.url}/v1/ingest/mlflow/databricks`, '{}', { 'X-Databricks-Signature': 'ab' });
    expect(d.status).toBe(503);
    expect(h.events()).toEqual([]);
  });

  it('body over the limit → 413; compressed body → 415', async () => {
    h = await startWebhookServer({ webhook_secrets: [secret], body_limit_bytes: 100 }, at);
    const r = await post(`${h.url}/v1/ingest/mlflow`, readFixture('mlflow', v.file), mlflowHeaders(v));
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('MLTRAIL_ERR_BODY_TOO_LARGE');
    const gz = await post(`${h.url}/v1/ingest/mlflow`, 'x', { ...mlflowHeaders(v), 'Content-Encoding': 'gzip' });
    expect(gz.status).toBe(415);
  });

  it('bodies held before their signature is checked are bounded across requests: past it 503 + Retry-After, until they are gone', async () => {
    h = await startWebhookServer({ webhook_secrets: [secret] }, at, { unverifiedBodyBytes: 64 * 1024 });
    const { port } = new URL(h.url);
    // Unauthenticated senders each send most of a body under the 1 MiB limit, then stall.
    const stalled: Socket[] = [];
    for (const id of ['s1', 's2']) {
      const s = connect(Number(port), '127.0.0.1');
      s.on('error', () => undefined);
      s.write(`POST /v1/ingest/mlflow HTTP/1.1\r\nHost: x\r\nX-MLflow-Delivery-Id: ${id}\r\nX-MLflow-Timestamp: ${v.timestamp}\r\nX-MLflow-Signature: v1,AAAA\r\nContent-Length: 200000\r\n\r\n`);
      s.write(Buffer.alloc(30 * 1024, 0x20));
      stalled.push(s);
    }
    try {
      await new Promise((r) => setTimeout(r, 200));
      const big = ' '.repeat(20 * 1024);
      const refused = await post(`${h.url}/v1/ingest/mlflow`, big, { 'X-MLflow-Delivery-Id': 'b', 'X-MLflow-Timestamp': v.timestamp, 'X-MLflow-Signature': 'v1,AAAA' });
      expect(refused.status).toBe(503);
      expect(refused.json.error).toMatchObject({ code: 'MLTRAIL_ERR_BUSY', retry_after_s: 5 });
      // A real delivery (a few hundred bytes) still fits beside them.
      const real = await post(`${h.url}/v1/ingest/mlflow`, readFixture('mlflow', v.file), mlflowHeaders(v));
      expect(real.status).toBe(200);
      // Once the stalled senders are gone, their bytes are given back.
      for (const s of stalled) s.destroy();
      await new Promise((r) => setTimeout(r, 200));
      const again = await post(`${h.url}/v1/ingest/mlflow`, big, { 'X-MLflow-Delivery-Id': 'b', 'X-MLflow-Timestamp': v.timestamp, 'X-MLflow-Signature': 'v1,AAAA' });
      expect(again.status).toBe(401);
    } finally {
      for (const s of stalled) s.destroy();
    }
  });

  it('signed but not JSON, or not an MLflow envelope → 400 and quarantined', async () => {
    h = await startWebhookServer({ webhook_secrets: [secret] }, at);
    const notJson = 'entity=model_version';
    const r1 = await post(`${h.url}/v1/ingest/mlflow`, notJson, sign(notJson));
    expect(r1.status).toBe(400);
    expect(r1.json.error.code).toBe('MLTRAIL_ERR_INVALID_JSON');
    const bad = '{"entity": "model_version", "action": "created", "timestamp": "2025-08-20T09:16:03+00:00", "data": {"version": "1"}}';
    const r2 = await post(`${h.url}/v1/ingest/mlflow`, bad, sign(bad, 'dddddddd-0000-4000-8000-000000000002'));
    expect(r2.status).toBe(400);
    expect(r2.json.error).toMatchObject({ code: 'MLTRAIL_ERR_VALIDATION', quarantined: true });
    expect(r2.json.error.message).toMatch(/data\.name/);
    const q = h.spool.listQuarantine({ channel: 'mlflow.webhook' });
    expect(q).toHaveLength(2);
    expect(q.map((e) => e.body.toString())).toEqual(expect.arrayContaining([notJson, bad]));
    expect(h.events()).toEqual([]);
  });
});

describe('Databricks registry webhooks', () => {
  const now = 1755681342_000;
  const body = JSON.stringify({
    event: 'MODEL_VERSION_TRANSITIONED_STAGE', webhook_id: 'c5596721253c4b429368cf6f4341b88a', event_timestamp: now - 5000,
    model_name: 'Airline_Delay_SparkML', version: '8', to_stage: 'Production', from_stage: 'None', text: 'Registered model moved',
  });
  for (const path of ['/v1/ingest/mlflow/databricks', '/v1/ingest/mlflow']) {
    it(`hex X-Databricks-Signature verifies on ${path}`, async () => {
      h = await startWebhookServer({ webhook_secrets: ['other', secret] }, now);
      const r = await post(`${h.url}${path}`, body, { 'X-Databricks-Signature': databricksSignature(secret, body) });
      expect(r.status).toBe(200);
      const ev = h.events()[0]!;
      expect(ev.action).toBe('model_version.approve');
      expect(ev.channel).toBe('mlflow.databricks');
      // A replay of the same body collapses.
      expect((await post(`${h.url}${path}`, body, { 'X-Databricks-Signature': databricksSignature(secret, body) })).json.duplicates).toBe(1);
      expect(h.events()).toHaveLength(1);
    });
  }
  it('databricks_webhook_secrets overrides; wrong or stale → 401', async () => {
    h = await startWebhookServer({ webhook_secrets: [secret], databricks_webhook_secrets: ['dbx-secret'] }, now);
    const url = `${h.url}/v1/ingest/mlflow/databricks`;
    expect((await post(url, body, { 'X-Databricks-Signature': databricksSignature(secret, body) })).status).toBe(401);
    expect((await post(url, body, { 'X-Databricks-Signature': databricksSignature('dbx-secret', body).toUpperCase() })).status).toBe(200);
    expect((await post(url, body, {})).status).toBe(401);
    h.clock.now = now + 2 * 86_400_000;
    const stale = await post(url, body, { 'X-Databricks-Signature': databricksSignature('dbx-secret', body) });
    expect(stale.status).toBe(401);
    expect(stale.json.error.code).toBe('MLTRAIL_ERR_STALE_TIMESTAMP');
  });
  it('event_timestamp window: exactly 24 h old is taken; older, or further in the future, → 401 STALE_TIMESTAMP', async () => {
    h = await startWebhookServer({ webhook_secrets: [secret] }, now);
    const url = `${h.url}/v1/ingest/mlflow/databricks`;
    const at = (eventTs: number, version: string) => {
      const b = JSON.stringify({ ...JSON.parse(body), event_timestamp: eventTs, version });
      return post(url, b, { 'X-Databricks-Signature': databricksSignature(secret, b) });
    };
    expect((await at(now - 86_400_000, '1')).status).toBe(200);
    expect((await at(now + 86_400_000, '2')).status).toBe(200);
    const old = await at(now - 86_401_000, '3');
    expect(old.status).toBe(401);
    expect(old.json.error).toMatchObject({ code: 'MLTRAIL_ERR_STALE_TIMESTAMP', message: expect.stringMatching(/86401 s in the past/) });
    const future = await at(now + 86_401_000, '4');
    expect(future.status).toBe(401);
    expect(future.json.error).toMatchObject({ code: 'MLTRAIL_ERR_STALE_TIMESTAMP', message: expect.stringMatching(/86401 s in the future/) });
    expect(h.events().filter((e) => e.action !== 'ingest.auth_failure')).toHaveLength(2);
  });
  it('a signed body without a numeric event_timestamp → 401 (its freshness cannot be checked, so it could be replayed)', async () => {
    h = await startWebhookServer({ webhook_secrets: [secret] }, now);
    const url = `${h.url}/v1/ingest/mlflow/databricks`;
    for (const ts of [undefined, 'yesterday', null]) {
      const b = JSON.stringify({ ...JSON.parse(body), event_timestamp: ts });
      const r = await post(url, b, { 'X-Databricks-Signature': databricksSignature(secret, b) });
      expect(r.status).toBe(401);
      expect(r.json.error).toMatchObject({ code: 'MLTRAIL_ERR_STALE_TIMESTAMP', message: expect.stringMatching(ts === 'yesterday' ? /event_timestamp .* is not a number of milliseconds/ : /event_timestamp .* missing/) });
    }
    expect(h.events().filter((e) => e.action !== 'ingest.auth_failure')).toEqual([]);
  });
});
