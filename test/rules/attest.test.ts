import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { attestCommand } from '../../bridge/attest.js';
import { loadConfig } from '../../bridge/config.js';
import { startBridge, type Bridge } from '../../bridge/runtime.js';
import { silentLogger } from '../../core/log.js';
import { hashDirectory, rootDigest } from '../../core/integrity/manifest.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { modelDir, tmpDir } from '../helpers/bridge.js';
import { T0, at, ev, sha } from './events.js';

const TOKEN = 'attest-test-token-0123456789';
const running: Bridge[] = [];
afterEach(async () => {
  for (const b of running.splice(0)) await b.stop();
});

async function start() {
  const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir(), MLTRAIL_INGEST_TOKEN: TOKEN }, overrides: { server: { port: 0 } } });
  const b = await startBridge(cfg, { logger: silentLogger(), env: {} });
  running.push(b);
  return b;
}

function post(b: Bridge, body: unknown, token: string | null = TOKEN) {
  return fetch(`${b.url}/v1/attest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function waitForAlert(b: Bridge, rule: string): Promise<Alert> {
  for (let i = 0; i < 100; i++) {
    const a = (b.spool.listAlerts({ rule_id: rule }) as Alert[])[0];
    if (a) return a;
    await sleep(50);
  }
  throw new Error(`no ${rule} alert`);
}

/** Register fraud v8 with a hash through /v1/events, as the MLflow auditor would. */
async function register(b: Bridge, digest: string) {
  const events: NormalizedEvent[] = [
    ev({ time: at(T0), platform: 'mlflow', stage: 'registry', action: 'model_version.create', ml: { model: { name: 'fraud', version: '8', tags: { adv_verdict: 'passed' } } } }),
    ev({ time: at(T0 + 1000), platform: 'mlflow', stage: 'registry', action: 'model_version.hash_registered', ml: { model: { name: 'fraud', version: '8', sha256: digest } } }),
  ];
  const r = await fetch(`${b.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(events) });
  expect(r.status).toBe(200);
}

describe('POST /v1/attest', () => {
  it('authenticates with the ingest token and reports failures as events', async () => {
    const b = await start();
    const r = await post(b, { model: 'fraud', version: '8', sha256: sha('a'), where: 'pod/x' }, 'wrong-token');
    expect(r.status).toBe(401);
    expect(((await r.json()) as any).error.code).toBe('MLTRAIL_ERR_UNAUTHORIZED');
    expect((await post(b, { model: 'fraud', version: '8', sha256: sha('a'), where: 'pod/x' }, null)).status).toBe(401);
    await waitForAlert(b, 'ingestion.source_auth_failure');
  });

  it('validates the body, naming the field, and quarantines what it refuses', async () => {
    const b = await start();
    const r = await post(b, { model: 'fraud', version: '8', sha256: 'abc', where: 'pod/x' });
    expect(r.status).toBe(400);
    expect(((await r.json()) as any).error).toMatchObject({ code: 'MLTRAIL_ERR_VALIDATION', field: 'sha256' });
    expect((await post(b, { model: 'fraud', version: '8', where: 'pod/x' })).status).toBe(400);
    expect((await post(b, '{"model":')).status).toBe(400);
    const files = [{ path: 'MLmodel', sha256: sha('1') }];
    expect((await post(b, { model: 'fraud', version: '8', where: 'p', manifest: { root: sha('f'), files } })).status).toBe(400);
    expect(b.spool.listQuarantine({ channel: 'core.attest' })).toHaveLength(4);
  });

  it('an attestation matching the registered hash is quiet; a different one raises serving.hash_mismatch', async () => {
    const b = await start();
    await register(b, sha('a'));
    const ok = await post(b, { model: 'fraud', version: '8', sha256: sha('a'), where: 'pod/fraud-0', time: at(T0 + 60_000) });
    expect(ok.status).toBe(200);
    const okBody = (await ok.json()) as { id: string; accepted: number };
    expect(okBody.accepted).toBe(1);
    // A retry of the same attestation collapses into the same event.
    const again = (await (await post(b, { model: 'fraud', version: '8', sha256: sha('a'), where: 'pod/fraud-0', time: at(T0 + 60_000) })).json()) as { id: string; duplicates: number };
    expect(again).toMatchObject({ id: okBody.id, duplicates: 1 });
    const files = [{ path: 'MLmodel', sha256: sha('1') }, { path: 'data/model.pkl', sha256: sha('2') }];
    const bad = await post(b, { model: 'fraud', version: '8', manifest: { root: rootDigest(files), files }, where: 'pod/fraud-1', time: at(T0 + 120_000) });
    expect(bad.status).toBe(200);
    const badId = ((await bad.json()) as { id: string }).id;
    const alert = await waitForAlert(b, 'serving.hash_mismatch');
    expect(alert).toMatchObject({ stage: 'serving', mode: 'alert', entity: { type: 'model_version', id: 'fraud/8' }, details: { observed_sha256: rootDigest(files), registered_sha256: sha('a'), where: 'pod/fraud-1' } });
    expect(alert.evidence).toContain(badId);
    expect((b.spool.listAlerts({ rule_id: 'serving.hash_mismatch' }) as Alert[])).toHaveLength(1);
  });
});

describe('mltrail attest', () => {
  it('hashes the directory with the auditor digest and posts it; a mismatch alerts', async () => {
    const b = await start();
    const dir = modelDir();
    const digest = (await hashDirectory(dir)).root;
    await register(b, sha('e'));
    let out = '';
    let err = '';
    const io = { stdout: { write: (s: string) => ((out += s), true) }, stderr: { write: (s: string) => ((err += s), true) }, stdin: process.stdin, env: { MLTRAIL_INGEST_TOKEN: TOKEN } } as never;
    expect(await attestCommand(['--model', 'fraud', '--version', '8', '--path', dir, '--url', b.url, '--where', 'pod/fraud-2'], io)).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ model: 'fraud', version: '8', sha256: digest, files: 2 });
    const alert = await waitForAlert(b, 'serving.hash_mismatch');
    expect(alert.details).toMatchObject({ observed_sha256: digest, registered_sha256: sha('e') });
    // A wrong token is final (4xx): no retries, exit 1.
    const io2 = { stdout: { write: () => true }, stderr: { write: (s: string) => ((err += s), true) }, stdin: process.stdin, env: { MLTRAIL_INGEST_TOKEN: 'nope' } } as never;
    expect(await attestCommand(['--model', 'fraud', '--version', '8', '--path', dir, '--url', b.url], io2)).toBe(1);
    expect(err).toMatch(/refused: 401/);
    await expect(attestCommand(['--model', 'fraud', '--path', dir, '--url', b.url], io2)).rejects.toThrow(/--version is required/);
  });
});
