import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/log.js';

/** A logger writing into memory; `written()` is what it has written so far. */
function capturedLogger() {
  let out = '';
  const dest = new Writable({
    write(chunk, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  return { log: createLogger({ level: 'info', destination: dest as never }), written: () => out };
}

describe('logger', () => {
  it('writes JSON lines and never the secrets a caller passes in', async () => {
    const { log, written } = capturedLogger();
    log.info(
      {
        token: 'tok-123',
        headers: { authorization: 'Bearer abc', 'x-api-key': 'key-456', 'x-amz-firehose-access-key': 'fh-789' },
        config: { server: { ingest_token: 'ing-000' }, sinks: { hec: { token: 'hec-111' } } },
        sink: { api_key: 'es-222' },
      },
      'hello',
    );
    await new Promise((r) => setTimeout(r, 10));
    const line = JSON.parse(written().trim()) as Record<string, unknown>;
    expect(line.msg).toBe('hello');
    for (const secret of ['tok-123', 'Bearer abc', 'key-456', 'fh-789', 'ing-000', 'hec-111', 'es-222']) expect(written()).not.toContain(secret);
  });
  it('redacts every secret-bearing field it promises to, at the top level, one level down and in request headers', async () => {
    const { log, written } = capturedLogger();
    // Each value is a distinct secret; the field names are what callers really log (configs, errors, requests).
    const fields: Array<[string, Record<string, unknown>]> = [
      ['s-top-secret', { secret: 's-top-secret' }],
      ['s-top-password', { password: 's-top-password' }],
      ['s-top-apikey', { apiKey: 's-top-apikey' }],
      ['s-top-api_key', { api_key: 's-top-api_key' }],
      ['s-top-access_key', { access_key: 's-top-access_key' }],
      ['s-top-authorization', { authorization: 's-top-authorization' }],
      ['s-top-credentials', { credentials: { private_key: 's-top-credentials' } }],
      ['s-nested-secret', { mlflow: { secret: 's-nested-secret' } }],
      ['s-nested-secrets', { mlflow: { secrets: ['s-nested-secrets'] } }],
      ['s-nested-password', { sink: { password: 's-nested-password' } }],
      ['s-nested-apikey', { sink: { apiKey: 's-nested-apikey' } }],
      ['s-nested-access_key', { firehose: { access_key: 's-nested-access_key' } }],
      ['s-nested-authorization', { upstream: { authorization: 's-nested-authorization' } }],
      ['s-nested-credentials', { gcp: { credentials: 's-nested-credentials' } }],
      ['s-webhook-secrets', { connector: { webhook_secrets: ['s-webhook-secrets'] } }],
      ['s-ingest-token', { server: { ingest_token: 's-ingest-token' } }],
      ['s-access-token', { oauth: { access_token: 's-access-token' } }],
      ['s-nested-token', { hec: { token: 's-nested-token' } }],
      ['s-cookie', { headers: { cookie: 'session=s-cookie' } }],
      ['s-req-authorization', { req: { headers: { authorization: 'Bearer s-req-authorization' } } }],
      ['s-req-api-key', { req: { headers: { 'x-api-key': 's-req-api-key' } } }],
      ['s-req-firehose', { req: { headers: { 'x-amz-firehose-access-key': 's-req-firehose' } } }],
      ['s-sink-password', { config: { sinks: { elastic: { password: 's-sink-password' } } } }],
      ['s-sink-api-key', { config: { sinks: { elastic: { api_key: 's-sink-api-key' } } } }],
    ];
    for (const [, obj] of fields) log.info(obj, 'line');
    await new Promise((r) => setTimeout(r, 10));
    const lines = written().trim().split('\n');
    expect(lines).toHaveLength(fields.length);
    for (const [secret] of fields) expect(written(), secret).not.toContain(secret);
    expect(written()).toContain('[redacted]');
  });
});
