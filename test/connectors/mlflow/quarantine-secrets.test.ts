import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { databricksSignature, mlflowSignature } from '../../../connectors/mlflow/signature.js';
import { readFixture } from '../../helpers/fixtures.js';
import { fixtureSecret, startWebhookServer, type Harness } from './helpers.js';

// Rejected signed deliveries are kept for inspection, but a signature proves who sent a secret, not that it may be
// stored: quarantine keeps them redacted as `raw` is (secret-named tags, secrets in descriptions, URL user-info).
const secret = fixtureSecret();
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const HF = 'hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';
const PW = 'S3cr3t-Passw0rd-xyz';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

async function postSigned(url: string, body: string, id: string, ts: string) {
  const res = await fetch(`${url}/v1/ingest/mlflow`, {
    method: 'POST', body,
    headers: { 'content-type': 'application/json', 'X-MLflow-Delivery-Id': id, 'X-MLflow-Timestamp': ts, 'X-MLflow-Signature': mlflowSignature(secret, id, ts, body) },
  });
  return { status: res.status, json: (await res.json()) as any };
}

/** The real model_version.created delivery with a token tag, a password in its description and credentials in its source. */
function secretBearing(timestamp?: string): string {
  const fixture = readFixture('mlflow', 'model_version.created.json').toString();
  const out = fixture
    .replace('"tags": {"test_tag_key": "test_tag_value"}', `"tags": {"test_tag_key": "test_tag_value", "hf_token": "${HF}"}`)
    .replace('"description": "test_description"', `"description": "trained with password: ${PW}"`)
    .replace('"source": "s3://bucket/path/to/model"', `"source": "https://alice:${PW}@artifacts.internal/path/to/model"`);
  expect(out).toContain(HF);
  return timestamp ? out.replace('"timestamp": "2025-08-20T09:16:03.104877+00:00"', `"timestamp": "${timestamp}"`) : out;
}

describe('MLflow quarantine keeps rejected webhooks redacted', () => {
  const ts = '1755681363';

  it('a secret-bearing delivery refused for its timestamp is kept with its secrets hidden, everything else and the reason intact', async () => {
    h = await startWebhookServer({ webhook_secrets: [secret] }, Number(ts) * 1000);
    const body = secretBearing('2025-02-30T09:16:03.104877+00:00');
    const r = await postSigned(h.url, body, '11111111-2222-4333-8444-aaaaaaaaaaaa', ts);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'MLTRAIL_ERR_VALIDATION', field: 'timestamp', quarantined: true });
    const [q, ...more] = h.spool.listQuarantine({ channel: 'mlflow.webhook' });
    expect(more).toEqual([]);
    const kept = q!.body.toString();
    expect(kept).not.toContain(HF);
    expect(kept).not.toContain(PW);
    expect(JSON.parse(kept)).toEqual({
      entity: 'model_version', action: 'created', timestamp: '2025-02-30T09:16:03.104877+00:00',
      data: {
        name: 'model_version_created', version: '1', source: 'https://[redacted]@artifacts.internal/path/to/model', run_id: '1234567890abcdef',
        tags: { test_tag_key: 'test_tag_value', hf_token: '[redacted]' }, description: 'trained with password: [redacted]',
      },
    });
    expect(q!.reason).toMatch(/^timestamp "2025-02-30T09:16:03\.104877\+00:00" is not a valid RFC 3339 time/);
    // What matches it to MLflow's copy of the delivery: the id, the signed bytes' length, the headers that signed them.
    expect(q!.meta).toMatchObject({
      delivery_id: '11111111-2222-4333-8444-aaaaaaaaaaaa', field: 'timestamp', redacted: true,
      body_bytes: Buffer.byteLength(body),
      signature_headers: ['X-MLflow-Signature', 'X-MLflow-Delivery-Id', 'X-MLflow-Timestamp'],
    });
    expect(JSON.stringify(q!.meta)).not.toContain(HF);
    expect(JSON.stringify(q!.meta)).not.toContain('v1,');
  });

  it('a signed body that is not JSON (cut short) keeps its text with the secrets hidden', async () => {
    h = await startWebhookServer({ webhook_secrets: [secret] }, Number(ts) * 1000);
    const body = secretBearing().slice(0, -3);
    const r = await postSigned(h.url, body, '11111111-2222-4333-8444-bbbbbbbbbbbb', ts);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('MLTRAIL_ERR_INVALID_JSON');
    const [q] = h.spool.listQuarantine({ channel: 'mlflow.webhook' });
    const kept = q!.body.toString();
    expect(kept).not.toContain(HF);
    expect(kept).not.toContain(PW);
    expect(kept).toContain('"name": "model_version_created"');
    expect(q!.meta).toMatchObject({ redacted: true, body_bytes: Buffer.byteLength(body) });
    // No digest of the secret-bearing bytes: it would let a reader of quarantine test guesses of the secret offline.
    expect(q!.meta).not.toHaveProperty('body_sha256');
    expect(JSON.stringify(q!.meta)).not.toContain(sha(body));
  });

  it('a malformed envelope (data not an object, tags at the top) is redacted wherever the secret-named keys are', async () => {
    h = await startWebhookServer({ webhook_secrets: [secret] }, Number(ts) * 1000);
    const body = JSON.stringify({ entity: 'model_version', action: 'created', timestamp: '2025-08-20T09:16:03+00:00', data: `api_key=${PW}`, tags: { mlflow_tracking_token: HF } });
    const r = await postSigned(h.url, body, '11111111-2222-4333-8444-cccccccccccc', ts);
    expect(r.status).toBe(400);
    const [q] = h.spool.listQuarantine({ channel: 'mlflow.webhook' });
    const kept = JSON.parse(q!.body.toString());
    expect(kept.tags).toEqual({ mlflow_tracking_token: '[redacted]' });
    expect(kept.data).not.toContain(PW);
    expect(kept.entity).toBe('model_version');
  });

  it('a rejected delivery with no secret is still kept byte for byte (it verifies against its signature), no redaction meta', async () => {
    h = await startWebhookServer({ webhook_secrets: [secret] }, Number(ts) * 1000);
    const fixture = readFixture('mlflow', 'model_version.created.json').toString();
    const body = fixture.replace('"timestamp": "2025-08-20T09:16:03.104877+00:00"', '"timestamp": "yesterday"');
    const id = '11111111-2222-4333-8444-dddddddddddd';
    expect((await postSigned(h.url, body, id, ts)).status).toBe(400);
    const [q] = h.spool.listQuarantine({ channel: 'mlflow.webhook' });
    expect(q!.body.toString()).toBe(body);
    expect(mlflowSignature(secret, id, ts, q!.body)).toBe(mlflowSignature(secret, id, ts, body));
    expect(q!.meta.redacted).toBeUndefined();
    expect(q!.meta.signature_headers).toEqual(['X-MLflow-Signature', 'X-MLflow-Delivery-Id', 'X-MLflow-Timestamp']);
  });

  it('a valid secret-bearing delivery is accepted as before: one event (raw redacted), nothing quarantined', async () => {
    h = await startWebhookServer({ webhook_secrets: [secret] }, Number(ts) * 1000);
    const r = await postSigned(h.url, secretBearing(), '11111111-2222-4333-8444-eeeeeeeeeeee', ts);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ accepted: 1 });
    const [ev, ...rest] = h.events();
    expect(rest).toEqual([]);
    expect(ev!.resource).toMatchObject({ name: 'model_version_created', version: '1' });
    expect(JSON.stringify(ev)).not.toContain(HF);
    expect(h.spool.listQuarantine({ channel: 'mlflow.webhook' })).toEqual([]);
  });

  it('a Databricks body refused (an event that is not a registry one) keeps its tags list redacted', async () => {
    const now = 1755681342_000;
    h = await startWebhookServer({ webhook_secrets: [secret] }, now);
    const body = JSON.stringify({ event: 'MODEL_DEPLOYED', webhook_id: 'c5596721253c4b429368cf6f4341b88a', event_timestamp: now - 5000, model_name: 'fraud', version: '3', tags: [{ key: 'hf_token', value: HF }, { key: 'team', value: 'risk' }] });
    const res = await fetch(`${h.url}/v1/ingest/mlflow/databricks`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'X-Databricks-Signature': databricksSignature(secret, body) } });
    expect(res.status).toBe(400);
    const [q] = h.spool.listQuarantine({ channel: 'mlflow.databricks' });
    const kept = JSON.parse(q!.body.toString());
    expect(kept.tags).toEqual([{ key: 'hf_token', value: '[redacted]' }, { key: 'team', value: 'risk' }]);
    expect(kept).toMatchObject({ event: 'MODEL_DEPLOYED', model_name: 'fraud', version: '3' });
    expect(q!.meta).toMatchObject({ redacted: true, signature_headers: ['X-Databricks-Signature'] });
    expect(JSON.stringify(q!.meta)).not.toContain(sha(body));
  });
});
