/**
 * The rules worker thread, as `serve` runs it. Worker threads load compiled
 * JavaScript, so these tests use the build in dist/ (`npm test` builds first).
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/fixtures.js';
import { spawnBridge, tmpDir } from '../../helpers/bridge.js';
import { until } from '../../helpers/wait.js';

const dist = (p: string) => import(pathToFileURL(join(ROOT, 'dist', p)).href);

/** The built modules a rules-thread test drives. */
async function rulesModules() {
  const [{ Spool }, { startRules }, { RulesConfig }, { silentLogger }] = await Promise.all([
    dist('core/spool/index.js'),
    dist('core/rules/thread.js'),
    dist('core/rules/engine.js'),
    dist('core/log.js'),
  ]);
  return { Spool, startRules, RulesConfig, silentLogger };
}

/** Ids of the alerts in a spool, sorted. */
function alertIds(spool: { db: { prepare(s: string): { all(): unknown[] } } }): string[] {
  return (spool.db.prepare("SELECT id FROM records WHERE kind = 'alert' ORDER BY id").all() as Array<{ id: string }>).map((r) => r.id);
}

/** Normalized events of the benchmark's workload (fixed seed): many of them raise alerts. */
async function workloadEvents(n: number): Promise<Array<{ id: string; body: string }>> {
  const { generateWorkload } = await dist('test/bench/workload.js');
  const { connectorByName } = await dist('connectors/index.js');
  const out: Array<{ id: string; body: string }> = [];
  for (const w of generateWorkload(n, 7, 1) as Array<{ platform: string; record: unknown }>) {
    const plugin = connectorByName(w.platform);
    const ctx = { channel: `test.${w.platform}`, receivedTime: '2026-10-02T00:00:00.000Z', keepRaw: true, config: plugin.configSchema.parse({}) };
    for (const ev of plugin.normalize(w.record, ctx).events as Array<{ id: string }>) out.push({ id: ev.id, body: JSON.stringify(ev) });
  }
  return out;
}

describe('rules on a worker thread', () => {
  it('raises exactly the alerts the main-thread processor raises, while the main thread keeps appending', async () => {
    const { Spool, startRules, RulesConfig, silentLogger } = await rulesModules();
    const events = await workloadEvents(4000);

    const run = async (thread: 'worker' | 'main') => {
      const dir = tmpDir();
      const spool = Spool.open({ dir, synchronous: 'FULL' });
      const rules = startRules({ spool, dir, config: RulesConfig.parse({}), log: silentLogger(), thread, chunk: 300 });
      expect(rules.mode).toBe(thread);
      // Appends in many small commits while the worker commits its own chunks: the two connections contend for the write lock.
      for (let i = 0; i < events.length; i += 50) {
        await spool.append(events.slice(i, i + 50).map((e) => ({ kind: 'event', ...e })));
      }
      await until(() => spool.cursor('rules') >= spool.maxSeq());
      await rules.stop();
      const ids = alertIds(spool);
      spool.close();
      return ids;
    };
    const viaWorker = await run('worker');
    const viaMain = await run('main');
    expect(viaWorker.length).toBeGreaterThan(100);
    expect(viaWorker).toEqual(viaMain);
  }, 60_000);

  it('resumes after a restart from its committed cursor and state, raising no alert twice', async () => {
    const { Spool, startRules, RulesConfig, silentLogger } = await rulesModules();
    const events = await workloadEvents(2000);
    const dir = tmpDir();
    const spool = Spool.open({ dir, synchronous: 'FULL' });
    await spool.append(events.slice(0, 1000).map((e) => ({ kind: 'event', ...e })));
    let rules = startRules({ spool, dir, config: RulesConfig.parse({}), log: silentLogger(), chunk: 200 });
    await until(() => spool.cursor('rules') >= spool.maxSeq());
    await rules.stop();
    await spool.append(events.slice(1000).map((e) => ({ kind: 'event', ...e })));
    rules = startRules({ spool, dir, config: RulesConfig.parse({}), log: silentLogger(), chunk: 200 });
    await until(() => spool.cursor('rules') >= spool.maxSeq());
    await rules.stop();
    const split = alertIds(spool);
    spool.close();

    const dir2 = tmpDir();
    const once = Spool.open({ dir: dir2, synchronous: 'FULL' });
    await once.append(events.map((e) => ({ kind: 'event', ...e })));
    const r2 = startRules({ spool: once, dir: dir2, config: RulesConfig.parse({}), log: silentLogger(), chunk: 200 });
    await until(() => once.cursor('rules') >= once.maxSeq());
    await r2.stop();
    const whole = alertIds(once);
    once.close();
    expect(split.length).toBeGreaterThan(20);
    expect(split).toEqual(whole);
  }, 60_000);

  it('the alerts the worker commits count toward the spool size on the main connection, once each (the spool.max_bytes bound)', async () => {
    const { Spool, startRules, RulesConfig, silentLogger } = await rulesModules();
    const events = await workloadEvents(600);
    const dir = tmpDir();
    const spool = Spool.open({ dir, synchronous: 'OFF' });
    const rules = startRules({ spool, dir, config: RulesConfig.parse({}), log: silentLogger(), chunk: 200, stateEveryMs: 0 });
    expect(rules.mode).toBe('worker');
    for (let i = 0; i < events.length; i += 150) await spool.append(events.slice(i, i + 150).map((e) => ({ kind: 'event', ...e })));
    await until(() => spool.cursor('rules') >= spool.maxSeq());
    await rules.stop();
    const onDisk = spool.db.prepare('SELECT COALESCE(SUM(bytes), 0) AS b FROM records').get() as { b: number };
    const alertBytes = spool.db.prepare("SELECT COALESCE(SUM(bytes), 0) AS b FROM records WHERE kind = 'alert'").get() as { b: number };
    expect(alertBytes.b).toBeGreaterThan(0);
    expect(spool.bytes).toBe(onDisk.b);
    spool.close();
  }, 30_000);

  it('a worker that dies is restarted and resumes from its cursor; /readyz would show it degraded meanwhile', async () => {
    const { Spool, startRules, RulesConfig, silentLogger } = await rulesModules();
    const events = await workloadEvents(600);
    const dir = tmpDir();
    const spool = Spool.open({ dir, synchronous: 'FULL' });
    const rules = startRules({ spool, dir, config: RulesConfig.parse({}), log: silentLogger(), chunk: 100, stateEveryMs: 0 });
    await spool.append(events.slice(0, 300).map((e) => ({ kind: 'event', ...e })));
    await until(() => spool.cursor('rules') >= 300);
    expect(spool.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0); // the worker checkpoints
    await (rules as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await until(() => rules.health().state === 'degraded', 2000);
    // Nobody checkpoints while it is down but the event loop's own auto-checkpoints, back on meanwhile.
    expect(spool.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    await spool.append(events.slice(300).map((e) => ({ kind: 'event', ...e })));
    await until(() => rules.health().state === 'healthy' && spool.cursor('rules') >= spool.maxSeq(), 10_000);
    expect(rules.health()).toMatchObject({ thread: 'worker', restarts: 1 });
    expect(spool.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    await rules.stop();
    spool.close();
  }, 30_000);

  it('stop(graceMs) stops evaluating at the deadline; the rest waits in the spool and the next start finishes it', async () => {
    const { Spool, startRules, RulesConfig, silentLogger } = await rulesModules();
    const events = await workloadEvents(8000);
    const run = async (dir: string, stopEarly: boolean) => {
      const spool = Spool.open({ dir, synchronous: 'OFF' });
      const start = () => startRules({ spool, dir, config: RulesConfig.parse({}), log: silentLogger(), chunk: 500 });
      let rules = start();
      await spool.append(events.map((e) => ({ kind: 'event', ...e })));
      if (stopEarly) {
        await rules.stop(0);
        expect(spool.cursor('rules')).toBeLessThan(events.length);
        rules = start();
      }
      await until(() => spool.cursor('rules') >= spool.maxSeq());
      await rules.stop(0);
      const ids = alertIds(spool);
      spool.close();
      return ids;
    };
    expect(await run(tmpDir(), true)).toEqual(await run(tmpDir(), false));
  }, 60_000);

  it('serve runs rules on the worker: an alert reaches the file sink, /metrics and /v1/alerts once, across a kill -9', async () => {
    const dataDir = tmpDir();
    const cfg = join(dataDir, 'fast.yaml');
    writeFileSync(cfg, 'sinks:\n  file:\n    batch: { timeout_ms: 50 }\n');
    const job = {
      schema_version: '1',
      id: 'worker-test-job-1',
      time: '2026-11-25T10:00:00.000Z',
      received_time: '2026-11-25T10:00:01.000Z',
      platform: 'sagemaker',
      channel: 'test',
      stage: 'training',
      action: 'training_job.create',
      operation: 'CreateTrainingJob',
      outcome: 'success',
      resource: { type: 'training_job', id: 'train-open-egress', name: 'train-open-egress' },
      ml: { job: { name: 'train-open-egress', network_isolation: false } },
    };
    const post = (ev: unknown) => fetch(`${a.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ev) });
    let a = await spawnBridge({ dataDir, args: ['--config', cfg] });
    const alertLines = () => {
      const dir = join(dataDir, 'out');
      if (!existsSync(dir)) return [] as Array<{ id: string; rule_id: string }>;
      return readdirSync(dir)
        .filter((f) => f.startsWith('alerts'))
        .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
        .map((l) => JSON.parse(l) as { id: string; rule_id: string });
    };
    try {
      expect(a.stderr()).toContain('"rules_thread":"worker"');
      const ready = (await (await fetch(`${a.url}/readyz`)).json()) as { components: Record<string, unknown> };
      expect(ready.components.rules).toMatchObject({ state: 'healthy', thread: 'worker', restarts: 0, backlog: 0 });
      expect((await post(job)).status).toBe(200);
      await until(() => alertLines().some((l) => l.rule_id === 'training.network_egress'), 15_000);
      const metrics = await (await fetch(`${a.url}/metrics`)).text();
      expect(metrics).toMatch(/mltrail_alerts_total\{rule_id="training\.network_egress",mode="(alert|observe)"\} 1/);
      const listed = (await (await fetch(`${a.url}/v1/alerts?rule_id=training.network_egress`)).json()) as { alerts: unknown[] };
      expect(listed.alerts).toHaveLength(1);
    } finally {
      a.proc.kill('SIGKILL');
      await a.exited;
    }
    a = await spawnBridge({ dataDir, args: ['--config', cfg] });
    try {
      // The same event again is a duplicate; the restarted worker raises nothing new.
      expect((await post(job)).status).toBe(200);
      await sleep(1000);
      const ids = alertLines().filter((l) => l.rule_id === 'training.network_egress').map((l) => l.id);
      expect(ids).toHaveLength(1);
    } finally {
      a.proc.kill('SIGTERM');
      expect(await a.exited).toBe(0);
    }
  }, 60_000);
});
