import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { startBridge, type Bridge } from '../../../bridge/runtime.js';
import { mlflowSignature } from '../../../connectors/mlflow/signature.js';
import { silentLogger } from '../../../core/log.js';
import { readFixture } from '../../helpers/fixtures.js';
import { FakeMlflow } from './fake-mlflow.js';

let bridge: Bridge | undefined;
let fake: FakeMlflow | undefined;
let dir: string | undefined;
afterEach(async () => {
  await bridge?.stop();
  await fake?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  bridge = fake = dir = undefined;
});

describe('mlflow connector inside the bridge (serve wiring)', () => {
  it('env config mounts the signed webhook route and starts the registry auditor', async () => {
    fake = new FakeMlflow();
    fake.addModel('fraud', Date.now());
    await fake.start();
    dir = mkdtempSync(join(tmpdir(), 'mltrail-mlflow-bridge-'));
    const env = { MLTRAIL_MLFLOW_WEBHOOK_SECRET: 'rotated-new,test-secret-key', MLFLOW_TRACKING_URI: fake.url, MLTRAIL_MLFLOW_POLL_S: '3600', MLTRAIL_DATA_DIR: dir, PORT: '0' };
    const cfg = loadConfig({ env });
    cfg.server.shutdown_grace_ms = 500;
    bridge = await startBridge(cfg, { env, logger: silentLogger() });

    const body = readFixture('mlflow', 'model_version_alias.created.json');
    const id = 'e2e00000-0000-4000-8000-000000000001';
    const ts = String(Math.floor(Date.now() / 1000));
    const res = await fetch(`${bridge.url}/v1/ingest/mlflow`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-mlflow-delivery-id': id, 'x-mlflow-timestamp': ts, 'x-mlflow-signature': mlflowSignature('test-secret-key', id, ts, body) },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 1 });

    // The auditor polled the fake server once at start.
    for (let i = 0; i < 50 && !fake.requests.some((r) => r.path.endsWith('/model-versions/search')); i++) await new Promise((r) => setTimeout(r, 20));
    expect(fake.requests.some((r) => r.path.endsWith('/registered-models/search'))).toBe(true);
    const ready = (await (await fetch(`${bridge.url}/readyz`)).json()) as { components: Record<string, { state: string }> };
    expect(ready.components['poller:mlflow.registry-auditor']).toBeDefined();
  });
});
