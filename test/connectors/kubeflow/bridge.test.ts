import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { startBridge } from '../../../bridge/runtime.js';
import { createLogger, silentLogger } from '../../../core/log.js';
import { FakeMlmd, seedKfpRun } from './fake-mlmd.js';
import { auditEvent } from './helpers.js';

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

describe('kubeflow connector inside the bridge', () => {
  it('mounts the audit route and starts the MLMD poller from the environment', async () => {
    const db = new FakeMlmd();
    seedKfpRun(db, Date.now() - 600_000);
    const address = await db.start();
    cleanup.push(() => db.stop());
    const dir = mkdtempSync(join(tmpdir(), 'mltrail-kf-bridge-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { MLTRAIL_INGEST_TOKEN: 'bridge-token-123456', MLTRAIL_DATA_DIR: dir, MLTRAIL_MLMD_ADDRESS: address, MLTRAIL_KUBEFLOW_POLL_S: '3600', PORT: '0' };
    const cfg = loadConfig({ env });
    cfg.spool.synchronous = 'NORMAL';
    const bridge = await startBridge(cfg, { logger: silentLogger(), env });
    cleanup.push(() => bridge.stop());

    const res = await fetch(`${bridge.url}/v1/ingest/kubeflow/k8s-audit`, {
      method: 'POST',
      headers: { authorization: 'Bearer bridge-token-123456', 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [auditEvent({ auditID: 'bridge-1' })] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ accepted: 1 });

    const ready = (await (await fetch(`${bridge.url}/readyz`)).json()) as { components: Record<string, unknown> };
    expect(ready.components['poller:kubeflow.mlmd']).toBeDefined();
    await expect.poll(() => db.calls.includes('GetExecutions'), { timeout: 5000 }).toBe(true);
    await expect
      .poll(() => bridge.spool.read('probe', 1000).map((r) => JSON.parse(r.body).channel as string), { timeout: 5000 })
      .toEqual(expect.arrayContaining(['kubeflow.k8s_audit', 'kubeflow.mlmd']));
  });

  it('says at start that client certificate subjects cannot work: the bridge listens on plain HTTP, so such an apiserver is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mltrail-kf-bridge-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const start = async (kubeflow: Record<string, unknown>) => {
      const logged: Array<Record<string, unknown>> = [];
      const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) } });
      const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: dir }, overrides: { server: { port: 0 }, connectors: { kubeflow } } });
      cfg.spool.synchronous = 'NORMAL';
      const bridge = await startBridge(cfg, { logger, env: {} });
      return { bridge, warned: () => logged.filter((l) => Array.isArray(l.config_keys)) };
    };
    // A cluster with a token beside one with subjects only: no 503 tells the second what is wrong.
    const { bridge, warned } = await start({ audit: { client_cert_subjects: ['kube-apiserver-audit'] }, clusters: [{ id: 'cluster-b', token: 'cluster-b-token-123456' }, { id: 'edge-1', client_cert_subjects: ['edge-1-kube-apiserver'] }] });
    expect(warned()).toHaveLength(1);
    expect(warned()[0]).toMatchObject({ level: 40, code: 'MLTRAIL_ERR_CONFIG', config_keys: ['connectors.kubeflow.audit.client_cert_subjects', 'connectors.kubeflow.clusters.1.client_cert_subjects'] });
    expect(String(warned()[0]!.msg)).toContain('plain HTTP');
    const res = await fetch(`${bridge.url}/v1/ingest/kubeflow/k8s-audit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [] }) });
    expect(res.status).toBe(401);
    await bridge.stop();
    // Tokens only: nothing to say.
    const quiet = await start({ clusters: [{ id: 'cluster-b', token: 'cluster-b-token-123456' }] });
    cleanup.push(() => quiet.bridge.stop());
    expect(quiet.warned()).toEqual([]);
  });
});
