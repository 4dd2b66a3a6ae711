/**
 * The sink worker thread, as `serve` runs it. Worker threads load compiled
 * JavaScript, so these tests drive the build in dist/ (`npm test` builds first)
 * against a strict fake Splunk HEC on 127.0.0.1.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/fixtures.js';
import { sampleEvent, spawnBridge, tmpDir } from '../../helpers/bridge.js';
import { until } from '../../helpers/wait.js';
import { FakeHec } from './splunk_hec/fake.js';

const dist = (p: string) => import(pathToFileURL(join(ROOT, 'dist', p)).href);

async function modules() {
  const [{ Spool }, { createSinks }, { SplunkHecConfig }, { silentLogger }, { createMetrics }] = await Promise.all([
    dist('core/spool/index.js'),
    dist('bridge/sinks/thread.js'),
    dist('bridge/sinks/splunk_hec/config.js'),
    dist('core/log.js'),
    dist('core/metrics.js'),
  ]);
  return { Spool, createSinks, SplunkHecConfig, silentLogger, createMetrics };
}

const events = (n: number) => Array.from({ length: n }, () => sampleEvent());
const items = (evs: Array<Record<string, unknown>>) => evs.map((e) => ({ kind: 'event', id: e.id as string, body: JSON.stringify(e) }));

let hec: FakeHec | undefined;
afterEach(async () => {
  await hec?.close();
  hec = undefined;
});

/** A started sinks runner on its worker with one HEC sink named `siem`. */
async function startHecWorker(dir: string, extra: Record<string, unknown> = {}, opts: { checkpoints?: boolean } = {}) {
  const m = await modules();
  hec = await new FakeHec().start();
  const spool = m.Spool.open({ dir, synchronous: 'FULL' });
  const metrics = m.createMetrics();
  const config = m.SplunkHecConfig.parse({
    url: hec.url,
    token: hec.token,
    batch: { max_events: 50, timeout_ms: 0 },
    retry: { initial_ms: 50, max_ms: 200 },
    ...extra,
  });
  const start = async () => {
    const sinks = await m.createSinks({ spool, dir, sinks: [{ name: 'siem', type: 'splunk_hec', config }], log: m.silentLogger(), metrics, env: {}, ...opts });
    sinks.start();
    return sinks;
  };
  return { spool, metrics, start, hec: hec! };
}

const counter = async (metrics: { registry: { metrics(): Promise<string> } }, re: RegExp) => Number(re.exec(await metrics.registry.metrics())?.[1] ?? 0);

describe('sinks on a worker thread', () => {
  it('delivers every record once, counts them in /metrics and reports the sink healthy with no backlog', async () => {
    const dir = tmpDir();
    const { spool, metrics, start, hec } = await startHecWorker(dir);
    const sinks = await start();
    expect(sinks.mode).toBe('worker');
    const evs = events(230);
    // Many small commits while the worker reads: the idle worker is woken by each append.
    for (let i = 0; i < evs.length; i += 23) await spool.append(items(evs.slice(i, i + 23)));
    await until(() => spool.cursor('sink:siem') >= spool.maxSeq() && hec.ids().length >= evs.length, 15_000);
    expect([...hec.ids()].sort()).toEqual(evs.map((e) => e.id).sort());
    await until(async () => (await counter(metrics, /mltrail_sink_sent_total\{sink="siem"\} (\d+)/)) === 230);
    expect(sinks.health().siem).toMatchObject({ state: 'healthy', backlog: 0, thread: 'worker', restarts: 0 });
    await sinks.stop();
    spool.close();
  }, 30_000);

  it('an append wakes an idle runner at once (the shared counter), instead of after its 1 s idle wait', async () => {
    const dir = tmpDir();
    const { spool, start } = await startHecWorker(dir);
    const sinks = await start();
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      // Once a record is delivered the runner finds nothing more and starts a 1 s idle wait.
      await spool.append(items(events(1)));
      await until(() => spool.cursor('sink:siem') >= spool.maxSeq(), 10_000);
      const t0 = Date.now();
      await spool.append(items(events(1)));
      await until(() => spool.cursor('sink:siem') >= spool.maxSeq(), 10_000);
      delays.push(Date.now() - t0);
    }
    expect(delays.sort((a, b) => a - b)[1]).toBeLessThan(600);
    await sinks.stop();
    spool.close();
  }, 30_000);

  it('a sink outage then recovery: degraded while retrying, then everything delivered once', async () => {
    const dir = tmpDir();
    const { spool, metrics, start, hec } = await startHecWorker(dir);
    let down = true;
    hec.fault(() => down, { status: 503, json: { text: 'Server is busy', code: 9 } }, 1_000_000);
    const sinks = await start();
    const evs = events(120);
    await spool.append(items(evs));
    await until(() => sinks.health().siem?.state === 'degraded', 10_000);
    expect(sinks.health().siem).toMatchObject({ backlog: 120 });
    expect(hec.ids()).toHaveLength(0);
    down = false;
    await until(() => spool.cursor('sink:siem') >= spool.maxSeq(), 15_000);
    expect([...hec.ids()].sort()).toEqual(evs.map((e) => e.id).sort());
    expect(await counter(metrics, /mltrail_sink_failed_total\{sink="siem",kind="retry"\} (\d+)/)).toBeGreaterThan(0);
    await until(() => sinks.health().siem?.state === 'healthy');
    await sinks.stop();
    spool.close();
  }, 30_000);

  it('a worker that dies is restarted and resends from the committed cursor: nothing lost; the event loop checkpoints meanwhile', async () => {
    const dir = tmpDir();
    const { spool, start, hec } = await startHecWorker(dir, {}, { checkpoints: true });
    const sinks = await start();
    const first = events(60);
    await spool.append(items(first));
    await until(() => spool.cursor('sink:siem') >= spool.maxSeq(), 10_000);
    expect(spool.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0); // the worker checkpoints
    await (sinks as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await until(() => sinks.health().siem?.state === 'degraded', 2000);
    // Nobody checkpoints while it is down but the event loop's own auto-checkpoints, back on meanwhile.
    expect(spool.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    const second = events(60);
    await spool.append(items(second));
    await until(() => sinks.health().siem?.state === 'healthy' && spool.cursor('sink:siem') >= spool.maxSeq(), 10_000);
    expect(sinks.health().siem).toMatchObject({ thread: 'worker', restarts: 1 });
    expect(spool.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    expect(new Set(hec.ids())).toEqual(new Set([...first, ...second].map((e) => e.id)));
    await sinks.stop();
    spool.close();
  }, 30_000);

  it('stop() with the SIEM unreachable returns promptly; the records wait in the spool and the next start delivers them', async () => {
    const dir = tmpDir();
    const { spool, start, hec } = await startHecWorker(dir);
    let hang = true;
    hec.fault(() => hang, 'hang', 1_000_000);
    let sinks = await start();
    const evs = events(40);
    await spool.append(items(evs));
    await until(() => hec.eventRequests().length > 0, 10_000);
    const t0 = Date.now();
    await sinks.stop();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(spool.cursor('sink:siem')).toBe(0);
    hang = false;
    sinks = await start();
    await until(() => spool.cursor('sink:siem') >= spool.maxSeq(), 10_000);
    expect(new Set(hec.ids())).toEqual(new Set(evs.map((e) => e.id)));
    await sinks.stop();
    spool.close();
  }, 30_000);

  it('with checkpoints: true its connection checkpoints the WAL (pages reach the database file); without an owner none do', async () => {
    const dbBytes = (dir: string) => statSync(join(dir, 'spool.db')).size;
    const run = async (checkpoints: boolean) => {
      const dir = tmpDir();
      const { spool, start } = await startHecWorker(dir, {}, { checkpoints });
      spool.db.pragma('wal_autocheckpoint = 0'); // the owner check below must not see the writer's own checkpoints
      const sinks = await start();
      const before = dbBytes(dir);
      const big = 'x'.repeat(4000);
      const evs = events(1500).map((e) => ({ ...e, details: { pad: big } }));
      for (let i = 0; i < evs.length; i += 100) await spool.append(items(evs.slice(i, i + 100)));
      await until(() => spool.cursor('sink:siem') >= spool.maxSeq(), 20_000);
      if (checkpoints) await until(() => dbBytes(dir) > before + 4_000_000, 5000);
      else await new Promise((r) => setTimeout(r, 600));
      const grown = dbBytes(dir) - before;
      await sinks.stop();
      spool.close();
      return grown;
    };
    expect(await run(true)).toBeGreaterThan(4_000_000);
    expect(await run(false)).toBeLessThan(1_000_000);
  }, 60_000);

  it('a sink that cannot be built (unreadable CA file) stops serve from starting, with the key named, as on the main thread', async () => {
    const dataDir = tmpDir();
    const cfg = join(dataDir, 'bad-ca.yaml');
    writeFileSync(cfg, `sinks:\n  splunk_hec:\n    url: https://127.0.0.1:1\n    token: t\n    tls: { ca_file: ${join(dataDir, 'missing-ca.pem')} }\n`);
    const started = spawnBridge({ dataDir, args: ['--config', cfg] });
    await expect(started).rejects.toThrow(/exited early: [\s\S]*tls\.ca_file: cannot read/);
  }, 30_000);

  it('serve runs its sinks on the worker: /readyz shows the thread, events reach the HEC endpoint, SIGTERM drains', async () => {
    hec = await new FakeHec().start();
    const dataDir = tmpDir();
    const b = await spawnBridge({ dataDir, env: { MLTRAIL_SPLUNK_HEC_URL: hec.url, MLTRAIL_SPLUNK_HEC_TOKEN: hec.token } });
    try {
      expect(b.stderr()).toContain('"sinks_thread":"worker"');
      const ready = (await (await fetch(`${b.url}/readyz`)).json()) as { components: Record<string, unknown> };
      expect(ready.components['sink:splunk_hec']).toMatchObject({ state: 'healthy', thread: 'worker' });
      const evs = events(25);
      const res = await fetch(`${b.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(evs) });
      expect(res.status).toBe(200);
      const h = hec;
      await until(() => evs.every((e) => h.ids().includes(e.id as string)), 15_000);
      // The endpoint indexes before its answer reaches the worker, whose count then reaches /metrics.
      await until(async () => /mltrail_sink_sent_total\{sink="splunk_hec"\} 25\b/.test(await (await fetch(`${b.url}/metrics`)).text()), 10_000);
      // Accepted just before SIGTERM, still waiting for its batch to fill: the drain delivers it before exit.
      const late = events(10);
      const res2 = await fetch(`${b.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(late) });
      expect(res2.status).toBe(200);
      b.proc.kill('SIGTERM');
      expect(await b.exited).toBe(0);
      expect(late.every((e) => h.ids().includes(e.id as string))).toBe(true);
    } finally {
      if (b.proc.exitCode === null) {
        b.proc.kill('SIGTERM');
        await b.exited;
      }
    }
  }, 60_000);
});
