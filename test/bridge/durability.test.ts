import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { sampleEvent, spawnBridge, tmpDir } from '../helpers/bridge.js';
import { CLI } from '../helpers/fixtures.js';

function outIds(dataDir: string): string[] {
  const f = join(dataDir, 'out', 'events.ndjson');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id);
}

async function post(url: string, events: unknown[]) {
  const r = await fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: events.map((e) => JSON.stringify(e)).join('\n') });
  return { status: r.status, body: (await r.json()) as { accepted: number } };
}

/**
 * Wait (up to 2 s) until the CLI's early signal handlers are in place: the first module it loads notes SIGHUP
 * (with SIGTERM and SIGINT), and Linux shows caught signals in /proc/<pid>/status SigCgt (SIGHUP is bit 0).
 */
async function earlyHandlersIn(pid: number): Promise<void> {
  const caught = () => {
    try {
      return (BigInt(`0x${/SigCgt:\s+([0-9a-f]+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0'}`) & 1n) === 1n;
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 400 && !caught(); i++) await sleep(5);
}

describe('durability across process death', () => {
  it('delivers events acknowledged before a kill -9 exactly once after restart', async () => {
    const dataDir = tmpDir();
    // Hold delivery back: the file sink waits a minute for a batch to fill, so
    // acknowledged events sit committed in the spool but undelivered.
    const cfg = join(dataDir, 'hold.yaml');
    writeFileSync(cfg, 'sinks:\n  file:\n    batch: { max_events: 100000, timeout_ms: 60000 }\n');
    const a = await spawnBridge({ dataDir, args: ['--config', cfg] });
    const events = Array.from({ length: 50 }, () => sampleEvent());
    const res = await post(a.url, events);
    expect(res).toEqual({ status: 200, body: { accepted: 50, duplicates: 0, rejected: [] } });
    a.proc.kill('SIGKILL');
    await a.exited;
    expect(outIds(dataDir)).toEqual([]);

    const b = await spawnBridge({ dataDir });
    try {
      for (let i = 0; i < 50 && outIds(dataDir).length < 50; i++) await sleep(100);
      const ids = outIds(dataDir);
      expect(ids.sort()).toEqual(events.map((e) => e.id as string).sort());
      // The same events resent after the crash are recognised as duplicates.
      const again = await post(b.url, events.slice(0, 5));
      expect(again.body).toMatchObject({ accepted: 0, duplicates: 5 });
    } finally {
      b.proc.kill('SIGKILL');
    }
  });

  it('drains on SIGTERM: in-flight and spooled events are delivered, then exit 0', async () => {
    const dataDir = tmpDir();
    const cfg = join(dataDir, 'slow.yaml');
    // A batch timeout shorter than the grace period: delivery happens during the drain.
    writeFileSync(cfg, 'server:\n  shutdown_grace_ms: 5000\nsinks:\n  file:\n    batch: { max_events: 100000, timeout_ms: 1500 }\n');
    const a = await spawnBridge({ dataDir, args: ['--config', cfg] });
    const events = Array.from({ length: 20 }, () => sampleEvent());
    expect((await post(a.url, events)).status).toBe(200);
    a.proc.kill('SIGTERM');
    const code = await a.exited;
    expect(code).toBe(0);
    expect(a.stderr()).toContain('mltrail bridge stopped');
    // Every line on stderr is JSON, the signal's too (a JSON-lines shipper must parse them all).
    const lines = a.stderr().trim().split('\n');
    for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
    expect(lines.map((l) => JSON.parse(l) as { msg?: string; signal?: string }).find((l) => l.signal === 'SIGTERM')?.msg).toBe('SIGTERM received, draining');
    expect(outIds(dataDir).sort()).toEqual(events.map((e) => e.id as string).sort());
  });

  it('SIGHUP (logrotate postrotate, a closed terminal) is logged and ignored: the bridge keeps serving', async () => {
    const dataDir = tmpDir();
    const a = await spawnBridge({ dataDir });
    try {
      a.proc.kill('SIGHUP');
      for (let i = 0; i < 50 && !a.stderr().includes('SIGHUP'); i++) await sleep(50);
      expect(a.proc.exitCode).toBeNull();
      expect((await post(a.url, [sampleEvent()])).status).toBe(200);
      expect(JSON.parse(a.stderr().trim().split('\n').find((l) => l.includes('SIGHUP'))!)).toMatchObject({ signal: 'SIGHUP' });
    } finally {
      a.proc.kill('SIGKILL');
    }
  });

  it('a SIGHUP while it is still starting does not kill it either, and is logged once it can log', async () => {
    const proc = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env: { ...process.env, MLTRAIL_DATA_DIR: tmpDir(), MLTRAIL_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    try {
      // As soon as the early handler is in place, while the modules are still loading. A SIGHUP before the
      // process runs any JavaScript kills any Node program.
      await earlyHandlersIn(proc.pid!);
      proc.kill('SIGHUP');
      // A loaded machine can take seconds to finish starting.
      for (let i = 0; i < 400 && !err.includes('received while starting'); i++) await sleep(50);
      expect([proc.exitCode, proc.signalCode]).toEqual([null, null]);
      expect(err).toContain('(received while starting)');
    } finally {
      proc.kill('SIGKILL');
    }
  });

  it('a SIGTERM while its modules are still loading drains it once started and exits 0 (it was killed: 143, no drain)', async () => {
    const proc = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env: { ...process.env, MLTRAIL_DATA_DIR: tmpDir(), MLTRAIL_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => proc.on('exit', (code, signal) => r([code, signal])));
    try {
      // As soon as the early handlers are in place, while the rest is still loading: serve's own handlers come a second later.
      await earlyHandlersIn(proc.pid!);
      proc.kill('SIGTERM');
      const end = await Promise.race([exited, sleep(20_000).then(() => 'hung' as const)]);
      expect(end).toEqual([0, null]);
      expect(err).toContain('SIGTERM received, draining');
      expect(err).toContain('mltrail bridge stopped');
    } finally {
      proc.kill('SIGKILL');
    }
  });

  it('exits with an error, promptly, when its port is taken', async () => {
    const a = await spawnBridge({ dataDir: tmpDir() });
    try {
      const second = spawn(process.execPath, [CLI, 'serve', '--port', new URL(a.url).port], {
        env: { ...process.env, MLTRAIL_DATA_DIR: tmpDir() },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      second.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const code = await Promise.race([new Promise<number | null>((r) => second.on('exit', r)), sleep(10_000).then(() => 'hung' as const)]);
      if (code === 'hung') second.kill('SIGKILL');
      expect(code).not.toBe('hung');
      expect(code).not.toBe(0);
      expect(err).toMatch(/EADDRINUSE/);
    } finally {
      a.proc.kill('SIGKILL');
    }
  });

  it('finishes a request already in flight when SIGTERM arrives, and refuses new ones', async () => {
    const dataDir = tmpDir();
    const a = await spawnBridge({ dataDir });
    const ev = sampleEvent();
    const body = JSON.stringify(ev);
    const { port } = new URL(a.url);
    // Send the headers and half the body, then SIGTERM, then the rest.
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: Number(port), path: '/v1/events', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 40));
      setTimeout(() => {
        a.proc.kill('SIGTERM');
        setTimeout(() => req.end(body.slice(40)), 300);
      }, 200);
    });
    const res = await answer;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ accepted: 1 });
    await expect(fetch(`${a.url}/v1/events`, { method: 'POST', body })).rejects.toThrow();
    expect(await a.exited).toBe(0);
    expect(outIds(dataDir)).toEqual([ev.id]);
  });
});
