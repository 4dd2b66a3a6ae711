import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../bridge/config.js';
import { startBridge, type Bridge } from '../../bridge/runtime.js';
import { rootDigest } from '../../core/integrity/manifest.js';
import { silentLogger } from '../../core/log.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { tmpDir } from '../helpers/bridge.js';

const TOKEN = 'attest-route-token-0123456789';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const running: Bridge[] = [];
afterEach(async () => {
  for (const b of running.splice(0)) await b.stop();
});

async function start() {
  // The bridge-wide body limit stays at its 5 MiB default: /v1/attest must still stop at 1 MiB.
  const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir(), MLTRAIL_INGEST_TOKEN: TOKEN }, overrides: { server: { port: 0 } } });
  expect(cfg.server.body_limit_bytes).toBeGreaterThan(2 * 1024 * 1024);
  const b = await startBridge(cfg, { logger: silentLogger(), env: {} });
  running.push(b);
  return b;
}

const post = (b: Bridge, body: unknown) =>
  fetch(`${b.url}/v1/attest`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** The attest events the bridge committed to its spool. */
function spooledAttests(b: Bridge): NormalizedEvent[] {
  return b.spool
    .read('attest-route-test', 10_000, 0)
    .map((r) => { try { return JSON.parse(r.body) as NormalizedEvent; } catch { return undefined; } })
    .filter((e): e is NormalizedEvent => e?.action === 'model_version.attest');
}

describe('POST /v1/attest: limits and validation', () => {
  it('refuses a body over 1 MiB with 413 even when the bridge-wide limit is larger; exactly 1 MiB is read', async () => {
    const b = await start();
    const pad = (n: number) => {
      const head = JSON.stringify({ model: 'fraud', version: '8', sha256: sha('a'), where: '' });
      return head.replace('"where":""', `"where":"${'w'.repeat(n - head.length)}"`);
    };
    expect(Buffer.byteLength(pad(1024 * 1024))).toBe(1024 * 1024);
    const over = await post(b, pad(1024 * 1024 + 1));
    expect(over.status).toBe(413);
    expect(((await over.json()) as any).error.code).toBe('MLTRAIL_ERR_BODY_TOO_LARGE');
    const at = await post(b, pad(1024 * 1024)); // read, then refused for its 1 MiB `where` (max 512)
    expect(at.status).toBe(400);
    expect(((await at.json()) as any).error).toMatchObject({ code: 'MLTRAIL_ERR_VALIDATION', field: 'where' });
  });

  it('refuses a sha256 that is not the digest of the manifest sent with it', async () => {
    const b = await start();
    const files = [{ path: 'MLmodel', sha256: sha('m') }, { path: 'model.pkl', sha256: sha('w') }];
    const r = await post(b, { model: 'fraud', version: '8', sha256: sha('registered'), manifest: { files }, where: 'pod/x' });
    expect(r.status).toBe(400);
    expect(((await r.json()) as any).error).toMatchObject({ code: 'MLTRAIL_ERR_VALIDATION', field: 'sha256' });
    const ok = await post(b, { model: 'fraud', version: '8', sha256: rootDigest(files).toUpperCase(), manifest: { files }, where: 'pod/x' });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as any).sha256).toBe(rootDigest(files));
  });

  it('refuses manifest entries without a path or with a digest that is not 64 hex characters', async () => {
    const b = await start();
    for (const files of [[{ path: '', sha256: sha('m') }], [{ path: 'MLmodel', sha256: 'md5:abc' }]]) {
      const r = await post(b, { model: 'fraud', version: '8', manifest: { files }, where: 'pod/x' });
      expect(r.status).toBe(400);
      expect(((await r.json()) as any).error.field).toMatch(/^manifest\.files\.0\./);
    }
  });

  it('digests a manifest whose file hashes are upper-case hex as the lower-case ones (the auditor registers lower case)', async () => {
    const b = await start();
    const files = [{ path: 'MLmodel', sha256: sha('m') }, { path: 'data/model.pkl', sha256: sha('w') }];
    const r = await post(b, { model: 'fraud', version: '8', manifest: { files: files.map((f) => ({ ...f, sha256: f.sha256.toUpperCase() })) }, where: 'pod/x' });
    expect(r.status).toBe(200);
    expect(((await r.json()) as any).sha256).toBe(rootDigest(files));
  });

  it('keeps the attestation time given, and two pods attesting at the same instant are two events', async () => {
    const b = await start();
    const time = '2026-03-01T10:00:00.000Z';
    const one = (await (await post(b, { model: 'fraud', version: '8', sha256: sha('a'), where: 'pod/fraud-0', time })).json()) as any;
    const two = (await (await post(b, { model: 'fraud', version: '8', sha256: sha('a'), where: 'pod/fraud-1', time })).json()) as any;
    expect(one).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(two).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(two.id).not.toBe(one.id);
    const evs = spooledAttests(b);
    expect(evs.map((e) => [e.id, e.time, e.details?.where]).sort()).toEqual([[one.id, time, 'pod/fraud-0'], [two.id, time, 'pod/fraud-1']].sort());
    expect(evs[0]!.ml?.model).toMatchObject({ name: 'fraud', version: '8', sha256: sha('a') });
  });
});
