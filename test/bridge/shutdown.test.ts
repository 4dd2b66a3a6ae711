/**
 * Bridge.stop() as SIGTERM runs it, in process: refuse new input, finish the
 * requests in flight, and end promptly — a keep-alive connection left idle by
 * the answer must not hold the stop until its keep-alive timeout.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../bridge/config.js';
import { startBridge } from '../../bridge/runtime.js';
import { silentLogger } from '../../core/log.js';
import { sampleEvent, tmpDir } from '../helpers/bridge.js';

/** A client that sends the start of a request and never the rest: its request stays in flight. */
async function stalledRequest(port: number) {
  const stalled = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
  stalled.on('error', () => {});
  stalled.write('POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"id":');
  await new Promise((r) => setTimeout(r, 100));
  return stalled;
}

describe('bridge stop', () => {
  it('finishes a request in flight on a keep-alive connection and then stops at once, not after the grace period or the keep-alive timeout', async () => {
    const dataDir = tmpDir();
    const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: dataDir }, overrides: { server: { port: 0, shutdown_grace_ms: 8000 }, sinks: { file: { batch: { timeout_ms: 0 } } } } });
    const b = await startBridge(cfg, { logger: silentLogger(), env: {} });
    const agent = new Agent({ keepAlive: true });
    const ev = sampleEvent();
    const body = JSON.stringify(ev);
    let stopped: Promise<void> | undefined;
    let stopAt = 0;
    const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({ agent, host: '127.0.0.1', port: b.port, path: '/v1/events', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.write(body.slice(0, 20));
      setTimeout(() => {
        stopAt = Date.now();
        stopped = b.stop();
        setTimeout(() => req.end(body.slice(20)), 100);
      }, 100);
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ accepted: 1 });
    await stopped;
    agent.destroy();
    expect(Date.now() - stopAt).toBeLessThan(2500);
    // …and the stop delivered it before ending.
    expect(readFileSync(join(dataDir, 'out', 'events.ndjson'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual([ev.id]);
  });
  it('a request that never finishes (a stalled client) holds the stop no longer than shutdown_grace_ms', async () => {
    const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir() }, overrides: { server: { port: 0, shutdown_grace_ms: 300 } } });
    const b = await startBridge(cfg, { logger: silentLogger(), env: {} });
    const stalled = await stalledRequest(b.port);
    const t0 = Date.now();
    await b.stop();
    stalled.destroy();
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('a stalled client and a sink that cannot deliver share one grace period: the stop takes shutdown_grace_ms once, not twice', async () => {
    const grace = 1500;
    // Nothing listens on port 9: the sink retries until the grace period ends, its event waits in the spool.
    const sinks = { soc: { type: 'splunk_hec', url: 'http://127.0.0.1:9', token: 't', ack: { enabled: false } } };
    const b = await startBridge(loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir() }, overrides: { server: { port: 0, shutdown_grace_ms: grace }, sinks } }), { logger: silentLogger(), env: {} });
    expect((await fetch(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify(sampleEvent()) })).status).toBe(200);
    const stalled = await stalledRequest(b.port);
    const t0 = Date.now();
    await b.stop();
    stalled.destroy();
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(grace - 50);
    expect(took).toBeLessThan(grace * 1.7);
  });

  it('a rules commit that fails at stop (rules on the main thread, a full disk) does not skip the rest: sinks stop, the spool closes, the data directory is free again', async () => {
    const dataDir = tmpDir();
    const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: dataDir }, overrides: { server: { port: 0, shutdown_grace_ms: 2000 }, pipeline: { rules_thread: 'main' } } });
    const b = await startBridge(cfg, { logger: silentLogger(), env: {} });
    // Every write of the rules' cursor fails from now on, as on a full disk (the sinks, on their thread, write theirs).
    const spool = b.spool as unknown as { commitCursor: (...a: unknown[]) => void };
    spool.commitCursor = () => {
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    };
    const r = await fetch(`${b.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sampleEvent()) });
    expect(r.status).toBe(200);
    await expect(b.stop()).resolves.toBeUndefined();
    expect(b.spool.isClosed).toBe(true);
    // The directory is released: a new bridge starts on it (its rules take the event again from their cursor).
    const again = await startBridge(loadConfig({ env: { MLTRAIL_DATA_DIR: dataDir }, overrides: { server: { port: 0 } } }), { logger: silentLogger(), env: {} });
    await again.stop();
  });
});
