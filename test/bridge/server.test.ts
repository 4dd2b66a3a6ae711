import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, silentLogger } from '../../core/log.js';
import type { MltrailError } from '../../core/errors.js';
import { loadConfig } from '../../bridge/config.js';
import { isLoopback, startBridge, type Bridge } from '../../bridge/runtime.js';
import { connectorByName } from '../../connectors/index.js';
import { sampleEvent, tmpDir } from '../helpers/bridge.js';
import { runCli } from '../helpers/cli.js';
import { readFixture } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait.js';

const running: Bridge[] = [];
afterEach(async () => {
  for (const b of running.splice(0)) await b.stop();
});

async function start(env: Record<string, string> = {}, overrides: Record<string, unknown> = {}) {
  const dataDir = tmpDir();
  const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: dataDir, ...env }, overrides: { server: { port: 0 }, ...overrides } });
  const b = await startBridge(cfg, { logger: silentLogger(), env: {} });
  running.push(b);
  return { b, dataDir };
}

describe('bridge server', () => {
  it('one bridge per data directory: a second one refuses to start until the first stops', async () => {
    const { b, dataDir } = await start();
    const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: dataDir }, overrides: { server: { port: 0 } } });
    const second = await startBridge(cfg, { logger: silentLogger(), env: {} }).then(
      (x) => (running.push(x), undefined),
      (err: MltrailError) => err,
    );
    expect(second?.code).toBe('MLTRAIL_ERR_STARTUP');
    expect(second?.message).toContain(`another mltrail bridge is serving from ${dataDir}`);
    // The refused start left the first bridge's spool alone, and stopping that one frees the directory.
    expect((await fetch(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify(sampleEvent()) })).status).toBe(200);
    await running.splice(running.indexOf(b), 1)[0]!.stop();
    const again = await startBridge(cfg, { logger: silentLogger(), env: {} });
    running.push(again);
    expect((await fetch(`${again.url}/readyz`)).status).toBe(200);
  });

  it('a sink turned off keeps its undelivered records until it is on again; one removed from the config does not', async () => {
    const dataDir = tmpDir();
    const lines = (dir: string) => (existsSync(join(dir, 'events.ndjson')) ? readFileSync(join(dir, 'events.ndjson'), 'utf8').trim().split('\n').filter(Boolean).length : 0);
    const run = async (sinks: Record<string, unknown>, post: number) => {
      const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: dataDir }, overrides: { server: { port: 0 }, sinks } });
      const b = await startBridge(cfg, { logger: silentLogger(), env: {} });
      if (post) expect((await fetch(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify(Array.from({ length: post }, () => sampleEvent())) })).status).toBe(200);
      await waitFor(() => (b.spool.depth('sink:file').records === 0 ? true : undefined));
      await sleep(1500); // housekeeping prunes what every consumer it counts has finished
      await b.stop();
    };
    const main = join(dataDir, 'main');
    const archive = join(dataDir, 'archive');
    await run({ file: { path: main }, archive: { type: 'file', path: archive } }, 5);
    expect(lines(archive)).toBe(5);
    await run({ file: { path: main }, archive: { type: 'file', path: archive, enabled: false } }, 10);
    expect([lines(main), lines(archive)]).toEqual([15, 5]);
    await run({ file: { path: main }, archive: { type: 'file', path: archive } }, 0);
    expect(lines(archive)).toBe(15);
    // Removed: nothing is held for it (the spool does not grow for a sink nobody configures any more).
    await run({ file: { path: main } }, 3);
    const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: dataDir }, overrides: { server: { port: 0 }, sinks: { file: { path: main } } } });
    const b = await startBridge(cfg, { logger: silentLogger(), env: {} });
    running.push(b);
    expect(b.spool.maxSeq() - b.spool.cursor('sink:file')).toBe(0);
    expect(b.spool.depth('sink:archive').records).toBe(0);
  });

  it('a sink that never delivered anything (wrong URL from day one) and is then turned off keeps its backlog, and the start says so', async () => {
    const dataDir = tmpDir();
    const logged: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) } });
    // Nothing listens on port 9 of 127.0.0.1: every send fails and the sink never commits a cursor of its own.
    const soc = { type: 'splunk_hec', url: 'http://127.0.0.1:9', token: 't', ack: { enabled: false } };
    const startWith = (sinks: Record<string, unknown>) => startBridge(loadConfig({ env: { MLTRAIL_DATA_DIR: dataDir }, overrides: { server: { port: 0 }, sinks } }), { logger, env: {} });
    const a = await startWith({ file: {}, soc });
    expect((await fetch(`${a.url}/v1/events`, { method: 'POST', body: JSON.stringify([sampleEvent(), sampleEvent(), sampleEvent()]) })).status).toBe(200);
    await waitFor(() => (a.spool.depth('sink:file').records === 0 ? true : undefined));
    await a.stop();
    const b = await startWith({ file: {}, soc: { ...soc, enabled: false } });
    running.push(b);
    await sleep(1500); // housekeeping has pruned what it may
    expect(b.spool.depth('sink:soc').records).toBe(3);
    expect(logged.find((l) => l.msg === 'sink is disabled: its undelivered records are kept for it (they count toward spool.max_bytes) until it is enabled again')).toMatchObject({ sink: 'soc', backlog: 3 });
  });

  it('a sink removed with a backlog is named at the next start only, not at every later one with the others\' backlog as its own', async () => {
    const dataDir = tmpDir();
    const logged: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) } });
    const removed = () => logged.filter((l) => l.msg === 'a sink with undelivered records is no longer configured: they are no longer kept for it');
    // Nothing listens on port 9 of 127.0.0.1: `soc` keeps its 3 records.
    const soc = { type: 'splunk_hec', url: 'http://127.0.0.1:9', token: 't', ack: { enabled: false } };
    // A file sink that holds its records (a batch fills for 10 minutes): they stay in the spool across starts.
    const holding = { file: { batch: { max_events: 100000, timeout_ms: 600000 } } };
    const startWith = (sinks: Record<string, unknown>, log = silentLogger()) =>
      startBridge(loadConfig({ env: { MLTRAIL_DATA_DIR: dataDir }, overrides: { server: { port: 0, shutdown_grace_ms: 200 }, sinks } }), { logger: log, env: {} });
    const a = await startWith({ file: {}, soc });
    expect((await fetch(`${a.url}/v1/events`, { method: 'POST', body: JSON.stringify([sampleEvent(), sampleEvent(), sampleEvent()]) })).status).toBe(200);
    await waitFor(() => (a.spool.depth('sink:file').records === 0 ? true : undefined));
    await a.stop();
    const b = await startWith(holding, logger);
    expect(removed()).toHaveLength(1);
    expect(removed()[0]).toMatchObject({ sink: 'soc', backlog: 3 });
    await sleep(1500); // soc's records are pruned
    expect((await fetch(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify([sampleEvent(), sampleEvent()]) })).status).toBe(200);
    await b.stop();
    const c = await startWith(holding, logger);
    running.push(c);
    expect(c.spool.depth('sink:file').records).toBe(2);
    expect(removed()).toHaveLength(1); // not again, with the file sink's 2 records as "soc's backlog"
  });

  it('dead letters of a sink no longer configured (renamed, removed) are named at the start: nothing would re-send them', async () => {
    const dataDir = tmpDir();
    const logged: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) } });
    const cfg = () => loadConfig({ env: { MLTRAIL_DATA_DIR: dataDir }, overrides: { server: { port: 0, shutdown_grace_ms: 200 }, sinks: { file: {} } } });
    const a = await startBridge(cfg(), { logger: silentLogger(), env: {} });
    // What `soc` (since renamed) refused for good, one of them already marked by `mltrail dlq retry`.
    const [e1, e2] = [sampleEvent(), sampleEvent()];
    a.spool.transaction(() => {
      a.spool.deadLetter('soc', { kind: 'event', id: 'e1', body: JSON.stringify(e1) }, 'HTTP 400');
      a.spool.deadLetter('soc', { kind: 'event', id: 'e2', body: JSON.stringify(e2) }, 'HTTP 400');
      a.spool.deadLetter('file', { kind: 'event', id: 'e3', body: JSON.stringify(sampleEvent()) }, 'cannot format');
    });
    a.spool.markDeadLettersForRetry({ sink: 'soc', ids: [a.spool.listDeadLetters({ sink: 'soc' })[0]!.dlq_id] });
    await a.stop();
    const b = await startBridge(cfg(), { logger, env: {} });
    running.push(b);
    const named = logged.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('dead letters of a sink that is no longer configured'));
    expect(named).toHaveLength(1);
    expect(named[0]).toMatchObject({ sink: 'soc', dead_letters: 2, marked_for_retry: 1, code: 'MLTRAIL_ERR_NOT_CONFIGURED' });
    expect(named[0]!.msg).toContain('mltrail dlq retry --sink soc --to NAME');
    // Handed to the configured file sink (another process's connection, as the CLI runs): its runner re-sends them.
    const env = { MLTRAIL_DATA_DIR: dataDir };
    expect(await runCli(['dlq', 'retry', '--sink', 'soc', '--to', 'pager'], env)).toMatchObject({ code: 2 });
    expect(await runCli(['dlq', 'retry', '--sink', 'soc', '--to', 'file'], env)).toMatchObject({ code: 0, out: '2 dead letter(s) of soc handed to file and marked for re-sending\n' });
    const soc = [e1, e2].map((e) => e.id);
    await waitFor(() => (b.spool.listDeadLetters({}).length === 1 ? true : undefined));
    const out = readdirSync(join(dataDir, 'out')).filter((f) => f.startsWith('events')).map((f) => readFileSync(join(dataDir, 'out', f), 'utf8')).join('');
    expect(soc.every((id) => out.includes(`"id":"${id}"`))).toBe(true);
    // The file sink's own dead letter is untouched.
    expect(b.spool.listDeadLetters({})).toMatchObject([{ sink: 'file', record_id: 'e3', status: 'dead' }]);
  });

  it('a sink turned off that still holds a backlog shows in /readyz (state disabled) and in the spool depth gauges', async () => {
    const dataDir = tmpDir();
    // Nothing listens on port 9 of 127.0.0.1: every send fails, the records wait for the sink.
    const soc = { type: 'splunk_hec', url: 'http://127.0.0.1:9', token: 't', ack: { enabled: false } };
    const a = await startBridge(loadConfig({ env: { MLTRAIL_DATA_DIR: dataDir }, overrides: { server: { port: 0, shutdown_grace_ms: 200 }, sinks: { file: {}, soc } } }), { logger: silentLogger(), env: {} });
    expect((await fetch(`${a.url}/v1/events`, { method: 'POST', body: JSON.stringify([sampleEvent(), sampleEvent(), sampleEvent()]) })).status).toBe(200);
    await waitFor(() => (a.spool.depth('sink:file').records === 0 ? true : undefined));
    await a.stop();
    const b = await startBridge(loadConfig({ env: { MLTRAIL_DATA_DIR: dataDir }, overrides: { server: { port: 0 }, sinks: { file: {}, soc: { ...soc, enabled: false } } } }), { logger: silentLogger(), env: {} });
    running.push(b);
    await sleep(1500); // housekeeping has pruned what it may and set the gauges
    const ready = (await (await fetch(`${b.url}/readyz`)).json()) as { status: string; components: Record<string, { state: string; backlog?: number }> };
    expect(ready.status).toBe('ready');
    expect(ready.components['sink:soc']).toMatchObject({ state: 'disabled', backlog: 3 });
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toContain('mltrail_spool_depth{consumer="sink:soc"} 3');
  });

  it('a full disk answers 503 + Retry-After naming it (not an unlogged 500) and /readyz says so, until a commit succeeds', async () => {
    const logged: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) } });
    const b = await startBridge(loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir() }, overrides: { server: { port: 0 } } }), { logger, env: {} });
    running.push(b);
    const pages = b.spool.db.pragma('page_count', { simple: true }) as number;
    b.spool.db.pragma(`max_page_count = ${pages}`);
    const batch = () => JSON.stringify(Array.from({ length: 40 }, () => sampleEvent({ details: { pad: 'x'.repeat(8000) } })));
    const refused = await fetch(`${b.url}/v1/events`, { method: 'POST', body: batch() });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(((await refused.json()) as any).error).toMatchObject({ code: 'MLTRAIL_ERR_SPOOL_FULL', message: expect.stringMatching(/disk holding the spool .* is full/) });
    const ready = await fetch(`${b.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as any).spool).toMatchObject({ state: 'error', reason: expect.stringMatching(/is full/) });
    expect(await (await fetch(`${b.url}/metrics`)).text()).toContain('mltrail_events_rejected_total{channel="core.api",reason="spool_full"} 1');
    // …and in the log, once a minute at most.
    expect((await fetch(`${b.url}/v1/events`, { method: 'POST', body: batch() })).status).toBe(503);
    const said = logged.filter((l) => l.msg === 'input refused: the spool cannot store it');
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({ code: 'MLTRAIL_ERR_SPOOL_FULL', reason: expect.stringMatching(/is full/) });
    b.spool.db.pragma('max_page_count = 1073741823');
    expect((await fetch(`${b.url}/v1/events`, { method: 'POST', body: batch() })).status).toBe(200);
    expect((await fetch(`${b.url}/readyz`)).status).toBe(200);
  });

  it('a spool that fails under housekeeping (a damaged page met while pruning) does not take the bridge down', async () => {
    const logged: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) } });
    const b = await startBridge(loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir() }, overrides: { server: { port: 0 } } }), { logger, env: {} });
    running.push(b);
    // What better-sqlite3 throws when pruning reaches a damaged page.
    const spool = b.spool as unknown as { pruneStep: () => unknown };
    const real = spool.pruneStep.bind(b.spool);
    spool.pruneStep = () => {
      throw Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' });
    };
    await waitFor(() => (logged.some((l) => l.msg === 'spool housekeeping failed; retrying every second') ? true : undefined));
    expect((await fetch(`${b.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${b.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as any).spool).toMatchObject({ state: 'error', reason: expect.stringMatching(/damaged \(SQLITE_CORRUPT\)/) });
    expect(logged.find((l) => l.msg === 'spool housekeeping failed; retrying every second')).toMatchObject({ code: 'MLTRAIL_ERR_SPOOL_UNAVAILABLE' });
    spool.pruneStep = real;
    expect((await fetch(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify(sampleEvent()) })).status).toBe(200);
    expect((await fetch(`${b.url}/readyz`)).status).toBe(200);
  });

  it('without a token, a browser page (Origin) or a rebound host name cannot use /v1/events or /v1/alerts; local programs can', async () => {
    const { b } = await start();
    const port = new URL(b.url).port;
    const post = (headers: Record<string, string>) => fetch(`${b.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8', ...headers }, body: JSON.stringify(sampleEvent()) });
    const csrf = await post({ origin: 'http://attacker.example' });
    expect(csrf.status).toBe(403);
    expect(((await csrf.json()) as any).error).toMatchObject({ code: 'MLTRAIL_ERR_FORBIDDEN', variable: 'MLTRAIL_INGEST_TOKEN' });
    // fetch sets Host itself: node:http sends the one a rebound page would.
    const withHost = (method: string, path: string, host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { host, 'content-type': 'application/json' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(method === 'POST' ? JSON.stringify(sampleEvent()) : undefined);
      });
    expect(await withHost('POST', '/v1/events', `rebind.attacker.example:${port}`)).toBe(403);
    expect(await withHost('GET', '/v1/alerts', `rebind.attacker.example:${port}`)).toBe(403);
    // A name that merely starts like a local one is a rebinding name too.
    expect(await withHost('POST', '/v1/events', `localhost.attacker.example:${port}`)).toBe(403);
    expect(await withHost('POST', '/v1/events', `127.0.0.1.nip.io:${port}`)).toBe(403);
    expect(await withHost('POST', '/v1/events', `evil-localhost:${port}`)).toBe(403);
    expect(await withHost('POST', '/v1/events', `127.0.0.1:${port}`)).toBe(200);
    expect(await withHost('POST', '/v1/events', `[::1]:${port}`)).toBe(200);
    expect(await withHost('POST', '/v1/events', `localhost:${port}`)).toBe(200);
    expect((await post({})).status).toBe(200);
    expect((await fetch(`${b.url}/v1/alerts`)).status).toBe(200);
  });

  it('serves healthz, readyz with sink state, and Prometheus metrics', async () => {
    const { b } = await start();
    expect(await (await fetch(`${b.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = (await (await fetch(`${b.url}/readyz`)).json()) as Record<string, any>;
    expect(ready.status).toBe('ready');
    expect(ready.spool.state).toBe('ok');
    expect(ready.components['sink:file']).toMatchObject({ state: 'healthy', backlog: 0 });
    await fetch(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify(sampleEvent()) });
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toMatch(/mltrail_events_received_total\{channel="core.api"\} 1/);
    expect(metrics).toContain('mltrail_http_request_duration_seconds_bucket');
  });

  it('accepts an event on /v1/events and the default sink writes it to data/out/events.ndjson', async () => {
    const { b, dataDir } = await start();
    const ev = sampleEvent();
    const r = await fetch(`${b.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([ev]) });
    expect(r.status).toBe(200);
    const file = join(dataDir, 'out', 'events.ndjson');
    const line = await waitFor(() => (existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined));
    expect(JSON.parse(line)).toEqual(ev);
  });

  it('a known route under the wrong method answers 405 with Allow; an unknown one 404; an empty batch is accepted as zero events', async () => {
    const { b } = await start();
    const get = await fetch(`${b.url}/v1/events`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(((await get.json()) as any).error.code).toBe('MLTRAIL_ERR_METHOD_NOT_ALLOWED');
    const post = await fetch(`${b.url}/readyz`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const missing = await fetch(`${b.url}/v1/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.code).toBe('MLTRAIL_ERR_NOT_FOUND');
    const empty = await fetch(`${b.url}/v1/events`, { method: 'POST', body: '[]' });
    expect(empty.status).toBe(200);
    expect(await empty.json()).toEqual({ accepted: 0, duplicates: 0, rejected: [] });
  });

  it('GET /v1/alerts checks its query: a bad since, limit or mode is a 400 naming it; since compares as a time', async () => {
    const { b } = await start();
    const alert = (id: string, time: string) => ({ kind: 'alert' as const, id, body: JSON.stringify({ id, time, rule_id: 'r.x', mode: 'alert' }) });
    b.spool.transaction(() => b.spool.appendInTx([alert('a1', '2026-11-25T09:59:59.999Z'), alert('a2', '2026-11-25T10:00:00.000Z')]));
    const get = async (q: string) => {
      const r = await fetch(`${b.url}/v1/alerts?${q}`);
      return { status: r.status, body: (await r.json()) as any };
    };
    // The same instant written without milliseconds, or with an offset, still includes a2.
    expect((await get('since=2026-11-25T10:00:00Z')).body.alerts.map((a: any) => a.id)).toEqual(['a2']);
    expect((await get(`since=${encodeURIComponent('2026-11-25T11:00:00+01:00')}`)).body.alerts.map((a: any) => a.id)).toEqual(['a2']);
    for (const [q, param] of [['since=yesterday', 'since'], ['limit=-5', 'limit'], ['limit=ten', 'limit'], ['mode=loud', 'mode']]) {
      const r = await get(q!);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('MLTRAIL_ERR_BAD_REQUEST');
      expect(r.body.error.parameter).toBe(param);
    }
    expect((await get('limit=5000')).body.alerts).toHaveLength(2); // clamped to 1000, not refused
    expect((await get('limit=1')).body.alerts.map((a: any) => a.id)).toEqual(['a2']); // the newest
  });

  it('GET /v1/alerts refuses a parameter it does not know (a misspelt filter would answer every alert), naming it', async () => {
    const { b } = await start();
    const alert = (id: string, rule: string) => ({ kind: 'alert' as const, id, body: JSON.stringify({ id, time: '2026-11-25T10:00:00.000Z', rule_id: rule, mode: 'alert' }) });
    b.spool.transaction(() => b.spool.appendInTx([alert('a1', 'r.x'), alert('a2', 'r.y')]));
    const typo = await fetch(`${b.url}/v1/alerts?rule=r.x`);
    expect(typo.status).toBe(400);
    const body = (await typo.json()) as { error: { code: string; message: string; parameter: string } };
    expect(body.error).toMatchObject({ code: 'MLTRAIL_ERR_BAD_REQUEST', parameter: 'rule' });
    expect(body.error.message).toMatch(/^query parameter rule: unknown, expected one of since, rule_id, mode, after, limit$/);
    const ok = (await (await fetch(`${b.url}/v1/alerts?rule_id=r.x`)).json()) as { alerts: Array<{ id: string }> };
    expect(ok.alerts.map((a) => a.id)).toEqual(['a1']);
  });

  it('GET /v1/alerts?after=<cursor> gives the alerts raised since, oldest first — also one dated before alerts already seen', async () => {
    const { b } = await start();
    const alert = (id: string, time: string, rule = 'r.x') => ({ kind: 'alert' as const, id, body: JSON.stringify({ id, time, rule_id: rule, mode: 'alert' }) });
    const get = async (q: string) => (await (await fetch(`${b.url}/v1/alerts?${q}`)).json()) as { alerts: Array<{ id: string }>; cursor: number };
    expect(await get('')).toEqual({ alerts: [], cursor: 0 });
    b.spool.transaction(() => b.spool.appendInTx([alert('a1', '2026-11-25T10:00:00.000Z'), alert('a2', '2026-11-25T11:00:00.000Z')]));
    const first = await get('');
    expect(first.alerts.map((a) => a.id)).toEqual(['a1', 'a2']);
    // Raised later but dated earlier (an approval judged an hour on): `since` the newest time seen misses it, `after` does not.
    b.spool.transaction(() => b.spool.appendInTx([alert('late', '2026-11-25T09:30:00.000Z'), alert('a3', '2026-11-25T12:00:00.000Z', 'r.y')]));
    expect((await get('since=2026-11-25T11:00:00.001Z')).alerts.map((a) => a.id)).toEqual(['a3']);
    const next = await get(`after=${first.cursor}`);
    expect(next.alerts.map((a) => a.id)).toEqual(['late', 'a3']);
    // Paging: a full page goes on from its last; a filter that passes over rows still moves the cursor to the latest.
    const page = await get(`after=${first.cursor}&limit=1`);
    expect(page.alerts.map((a) => a.id)).toEqual(['late']);
    expect((await get(`after=${page.cursor}`)).alerts.map((a) => a.id)).toEqual(['a3']);
    const filtered = await get(`after=${first.cursor}&rule_id=r.x`);
    expect(filtered.alerts.map((a) => a.id)).toEqual(['late']);
    expect(await get(`after=${filtered.cursor}`)).toEqual({ alerts: [], cursor: filtered.cursor });
    for (const q of ['after=-1', 'after=1e3', 'after=0x10']) {
      const bad = await fetch(`${b.url}/v1/alerts?${q}`);
      expect([bad.status, ((await bad.json()) as any).error.parameter]).toEqual([400, 'after']);
    }
    // A cursor this log never gave (another data dir's) is refused, naming the latest, not echoed back (a silent poller).
    const ahead = await fetch(`${b.url}/v1/alerts?after=${filtered.cursor + 1000}`);
    expect(ahead.status).toBe(400);
    expect(((await ahead.json()) as any).error).toMatchObject({ parameter: 'after', latest_cursor: filtered.cursor });
  });

  it('runs with every sink disabled: accepts, evaluates rules, writes nothing to data/out', async () => {
    const { b, dataDir } = await start({}, { sinks: { file: { enabled: false } } });
    const r = await fetch(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify(sampleEvent()) });
    expect(r.status).toBe(200);
    const ready = (await (await fetch(`${b.url}/readyz`)).json()) as Record<string, any>;
    expect(ready.status).toBe('ready');
    expect(Object.keys(ready.components)).toEqual(['rules']);
    await waitFor(() => b.spool.depth('rules').records === 0);
    expect(existsSync(join(dataDir, 'out'))).toBe(false);
  });

  it('stamps received_time on an event that leaves it out, and keeps a sender\'s own', async () => {
    const { b, dataDir } = await start();
    const { received_time: _, ...bare } = sampleEvent();
    const own = { ...sampleEvent(), id: 'evt-own-received' };
    const before = new Date().toISOString();
    const r = await fetch(`${b.url}/v1/events`, { method: 'POST', body: [JSON.stringify(bare), JSON.stringify(own)].join('\n') });
    const after = new Date().toISOString();
    expect(r.status).toBe(200);
    expect(((await r.json()) as any).accepted).toBe(2);
    const file = join(dataDir, 'out', 'events.ndjson');
    const lines = await waitFor(() => {
      const l = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
      return l.length === 2 ? l.map((x) => JSON.parse(x)) : undefined;
    });
    const stamped = lines.find((e) => e.id === bare.id)!;
    expect(stamped.received_time >= before && stamped.received_time <= after).toBe(true);
    expect(stamped).toEqual({ ...bare, received_time: stamped.received_time });
    expect(lines.find((e) => e.id === own.id)).toEqual(own);
    expect(b.spool.listQuarantine()).toEqual([]);
  });

  it('an empty received_time is not a missing one: it is refused naming the field (a sender\'s clock is broken), the rest of the batch is taken', async () => {
    const { b } = await start();
    const good = sampleEvent();
    const blank = { ...sampleEvent(), received_time: '' };
    const r = await fetch(`${b.url}/v1/events`, { method: 'POST', body: [JSON.stringify(good), JSON.stringify(blank)].join('\n') });
    const body = (await r.json()) as any;
    expect(body.accepted).toBe(1);
    expect(body.rejected).toHaveLength(1);
    expect(JSON.stringify(body.rejected[0])).toContain('received_time');
    expect(b.spool.listQuarantine().map((q) => q.reason).join(' ')).toContain('received_time');
  });

  it('/readyz shows the rules backlog: events not yet evaluated count while the rules cannot commit, and drain to 0 once they can', async () => {
    const { b } = await start({}, { pipeline: { rules_thread: 'main' } });
    const spool = b.spool as unknown as { commitCursor: (...a: unknown[]) => void };
    const commitCursor = spool.commitCursor;
    spool.commitCursor = () => {
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    };
    const events = [sampleEvent(), sampleEvent(), sampleEvent()];
    expect((await fetch(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify(events) })).status).toBe(200);
    const rulesState = async () => ((await (await fetch(`${b.url}/readyz`)).json()) as any).components.rules;
    await sleep(300);
    expect(await rulesState()).toMatchObject({ backlog: 3 });
    spool.commitCursor = commitCursor;
    await waitFor(async () => ((await rulesState()).backlog === 0 ? true : undefined), 10_000);
  });

  it('quarantines bad input with the reason, keeps the valid events of a mixed batch', async () => {
    const { b } = await start();
    const bad = await fetch(`${b.url}/v1/events`, { method: 'POST', body: '{"not json' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.code).toBe('MLTRAIL_ERR_INVALID_JSON');
    const good = sampleEvent();
    const mixed = await fetch(`${b.url}/v1/events`, {
      method: 'POST',
      body: [JSON.stringify(good), JSON.stringify({ ...sampleEvent(), stage: 'nope' })].join('\n'),
    });
    expect(mixed.status).toBe(200);
    const body = (await mixed.json()) as any;
    expect(body.accepted).toBe(1);
    expect(body.rejected[0].reason).toMatch(/stage/);
    const q = b.spool.listQuarantine();
    expect(q.map((x) => x.channel)).toEqual(['core.api', 'core.api']);
    expect(q[0]!.body.toString()).toBe('{"not json');
    expect(q[1]!.reason).toMatch(/stage/);
  });

  it('an invalid event of a JSON object or array is quarantined naming the route, as a body that is not JSON is', async () => {
    const { b } = await start();
    const one = await fetch(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify({ ...sampleEvent(), stage: 'nope' }) });
    expect(one.status).toBe(400);
    const arr = await fetch(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify([sampleEvent(), { ...sampleEvent(), stage: 'nope' }]) });
    expect(arr.status).toBe(200);
    const q = b.spool.listQuarantine();
    expect(q).toHaveLength(2);
    expect(q[0]).toMatchObject({ channel: 'core.api', reason: expect.stringMatching(/^event 0: .*stage/), meta: { route: '/v1/events', index: 0 } });
    expect(q[1]).toMatchObject({ channel: 'core.api', reason: expect.stringMatching(/^event 1: .*stage/), meta: { route: '/v1/events', index: 1 } });
  });

  it('NDJSON with a line that is not JSON: the other lines are ingested, the bad one quarantined with its physical line', async () => {
    const { b } = await start();
    const [e1, e2] = [sampleEvent(), sampleEvent()];
    // Line 1 blank, line 3 broken, line 4 blank, line 5 invalid (stage), line 6 good: numbers are the editor's.
    const body = ['', JSON.stringify(e1), '{"broken', '', JSON.stringify({ ...sampleEvent(), stage: 'nope' }), JSON.stringify(e2)].join('\r\n');
    const r = await fetch(`${b.url}/v1/events`, { method: 'POST', body });
    expect(r.status).toBe(200);
    const res = (await r.json()) as any;
    expect(res.accepted).toBe(2);
    expect(res.rejected).toHaveLength(2);
    expect(res.rejected[0]).toMatchObject({ line: 3, index: 1, reason: expect.stringMatching(/^NDJSON line 3 is not JSON/) });
    expect(res.rejected[1]).toMatchObject({ line: 5, index: 2, reason: expect.stringMatching(/^line 5: .*stage/) });
    const q = b.spool.listQuarantine();
    expect(q).toHaveLength(2);
    expect(q[0]).toMatchObject({ channel: 'core.api', meta: { route: '/v1/events', line: 3 } });
    expect(q[0]!.body.toString()).toBe('{"broken');
    expect(q[0]!.reason).toMatch(/line 3/);
    // The invalid event's quarantine row names its physical line too (it used to say "event 1", counting parsed lines).
    expect(q[1]!.reason).toMatch(/^line 5: .*stage/);
    expect(q[1]).toMatchObject({ meta: { route: '/v1/events', line: 5 } });
    const ids = b.spool.read('probe', 10).map((x) => JSON.parse(x.body).id);
    expect(ids).toEqual([e1.id, e2.id]);
    // Nothing usable at all (every line broken, or broken and invalid): 400, the body kept.
    const none = await fetch(`${b.url}/v1/events`, { method: 'POST', body: '{"a\n{"b\n' });
    expect(none.status).toBe(400);
    expect(((await none.json()) as any).error).toMatchObject({ code: 'MLTRAIL_ERR_INVALID_JSON', line: 1 });
    const invalid = await fetch(`${b.url}/v1/events`, { method: 'POST', body: `{"a\n${JSON.stringify({ ...sampleEvent(), stage: 'nope' })}\n` });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as any).error.code).toBe('MLTRAIL_ERR_VALIDATION');
  });

  it('refuses an event missing any required field, naming it, and lists NDJSON rejections in line order (mutation audit)', async () => {
    const { b } = await start();
    for (const field of ['schema_version', 'id', 'time', 'platform', 'channel', 'stage', 'action', 'operation', 'outcome']) {
      // As the README quick start sends it: no received_time (the bridge stamps it), which must not fill anything else in.
      const { [field]: _, received_time: __, ...ev } = sampleEvent();
      const r = await fetch(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify(ev) });
      expect(r.status, field).toBe(400);
      expect(((await r.json()) as any).error).toMatchObject({ code: 'MLTRAIL_ERR_VALIDATION', message: expect.stringContaining(`${field}:`) });
    }
    // An invalid event on line 1 and a line that is not JSON on line 2: the answer follows the body's order.
    const body = [JSON.stringify({ ...sampleEvent(), outcome: 'maybe' }), '{"broken', JSON.stringify(sampleEvent())].join('\n');
    const r = await fetch(`${b.url}/v1/events`, { method: 'POST', body });
    expect(r.status).toBe(200);
    const res = (await r.json()) as any;
    expect(res.rejected.map((x: any) => [x.line, x.index])).toEqual([[1, 0], [2, 1]]);
  });

  it('a body of thousands of bad lines: every one quarantined in one commit; the answer lists the first 1000 and counts them all', async () => {
    const { b } = await start();
    const good = sampleEvent();
    const body = [JSON.stringify(good), ...Array.from({ length: 2999 }, () => '1')].join('\n');
    const commits = b.spool.quarantineCommits;
    const r = await fetch(`${b.url}/v1/events`, { method: 'POST', body });
    expect(r.status).toBe(200);
    const res = (await r.json()) as { accepted: number; rejected: unknown[]; rejected_count?: number };
    expect([res.accepted, res.rejected.length, res.rejected_count]).toEqual([1, 1000, 2999]);
    expect(b.spool.quarantineCommits - commits).toBe(1);
    // All kept: the first 1000 a row each, the other 1999 together in one row (one line each).
    const q = b.spool.listQuarantine({ limit: 5000 });
    expect(q).toHaveLength(1001);
    expect(q.find((x) => x.meta.overflow)?.meta.overflow).toMatchObject({ count: 1999, bodies_kept: 1999 });
  });

  it('exactly 1000 rejections are all listed with no count; 1001 list 1000 and count them (the boundary of the answer)', async () => {
    const { b } = await start();
    for (const [n, count] of [[1000, undefined], [1001, 1001]] as const) {
      const body = [JSON.stringify(sampleEvent()), ...Array.from({ length: n }, () => '1')].join('\n');
      const r = await fetch(`${b.url}/v1/events`, { method: 'POST', body });
      const res = (await r.json()) as { accepted: number; rejected: unknown[]; rejected_count?: number };
      expect([res.accepted, res.rejected.length, res.rejected_count], `${n} bad lines`).toEqual([1, 1000, count]);
      expect('rejected_count' in res).toBe(count !== undefined);
    }
  });

  it('spool.keep_raw false drops a sender\'s raw from /v1/events; true keeps it', async () => {
    for (const keep of [false, true]) {
      const { b } = await start({}, { spool: { keep_raw: keep } });
      const ev = sampleEvent({ raw: { eventName: 'CreateTrainingJob', secret_ish: 'x' } });
      expect((await fetch(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify(ev) })).status).toBe(200);
      const stored = JSON.parse(b.spool.read('probe', 10)[0]!.body);
      if (keep) expect(stored.raw).toEqual(ev.raw);
      else expect(stored).not.toHaveProperty('raw');
    }
  });

  it('a corrupt gzip body is quarantined (the bytes as sent) with the reason, and answered 400', async () => {
    const { b } = await start();
    const garbage = Buffer.from('\x1f\x8b\x08\x00not really gzip at all', 'latin1');
    const r = await fetch(`${b.url}/v1/events`, { method: 'POST', headers: { 'content-encoding': 'gzip' }, body: garbage });
    expect(r.status).toBe(400);
    expect(((await r.json()) as any).error.code).toBe('MLTRAIL_ERR_BAD_REQUEST');
    const q = b.spool.listQuarantine();
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({ channel: 'core.api', reason: expect.stringMatching(/not valid gzip/), meta: { route: '/v1/events', content_encoding: 'gzip' } });
    expect(q[0]!.body.equals(garbage)).toBe(true);
  });

  it('a corrupt gzip body on a connector route is quarantined too, under the route\'s channel', async () => {
    const { b } = await start({ MLTRAIL_EVENTBRIDGE_API_KEY: 'k-123' });
    const r = await fetch(`${b.url}/v1/ingest/sagemaker/eventbridge`, { method: 'POST', headers: { 'content-encoding': 'gzip', 'x-api-key': 'k-123' }, body: 'garbage' });
    expect(r.status).toBe(400);
    const q = b.spool.listQuarantine();
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({ channel: 'sagemaker.eventbridge', reason: expect.stringMatching(/not valid gzip/) });
    expect(q[0]!.body.toString()).toBe('garbage');
  });

  it('requests Node\'s HTTP parser refuses get a JSON error body and a closed connection', async () => {
    const { b } = await start();
    const { port } = new URL(b.url);
    const big = await rawRequest(Number(port), `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big.status).toBe(431);
    expect(JSON.parse(big.body).error.code).toBe('MLTRAIL_ERR_BAD_REQUEST');
    const badLen = await rawRequest(Number(port), 'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}');
    expect(badLen.status).toBe(400);
    expect(JSON.parse(badLen.body).error).toMatchObject({ code: 'MLTRAIL_ERR_BAD_REQUEST', message: expect.stringMatching(/malformed HTTP request/) });
    const badLine = await rawRequest(Number(port), 'THIS IS NOT HTTP\r\n\r\n');
    expect(badLine.status).toBe(400);
    expect(JSON.parse(badLine.body).error.code).toBe('MLTRAIL_ERR_BAD_REQUEST');
    // HTTP/1.1 without Host: Node's own answer was an empty 400.
    const noHost = await rawRequest(Number(port), 'POST /v1/events HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}');
    expect(noHost.status).toBe(400);
    expect(JSON.parse(noHost.body).error).toMatchObject({ code: 'MLTRAIL_ERR_BAD_REQUEST', message: expect.stringMatching(/Host header/) });
    expect(b.spool.maxSeq()).toBe(0);
    // HTTP/1.0 may leave Host out.
    const old = await rawRequest(Number(port), 'GET /healthz HTTP/1.0\r\n\r\n');
    expect(old.status).toBe(200);
  });

  it('answers for quarantined input only once it is synced to disk, and refuses bad input too when the spool is full', async () => {
    const { b } = await start({}, { spool: { max_bytes: 4000 } });
    // Hold the WAL sync: the 400 for bad input must wait for it, as a 200 for good input does.
    let release!: () => void;
    const synced = b.spool.synced.bind(b.spool);
    b.spool.synced = () => new Promise<void>((r) => (release = r)).then(synced);
    let answered = false;
    const pending = fetch(`${b.url}/v1/events`, { method: 'POST', body: 'x'.repeat(1500) }).then((r) => ((answered = true), r));
    await waitFor(() => release !== undefined);
    await sleep(100);
    expect(answered).toBe(false);
    release();
    expect((await pending).status).toBe(400);
    b.spool.synced = synced;
    // 1500 + 1500 + 1500 bytes of bad input reach the 4000-byte bound: from then on input is refused with 503.
    for (let i = 0; i < 2; i++) expect((await fetch(`${b.url}/v1/events`, { method: 'POST', body: 'x'.repeat(1500) })).status).toBe(400);
    const held = b.spool.heldBytes;
    const refused = await fetch(`${b.url}/v1/events`, { method: 'POST', body: 'x'.repeat(1500) });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await refused.json()) as any).error.code).toBe('MLTRAIL_ERR_SPOOL_FULL');
    // So is a body whose gzip cannot be undone (it used to turn into a 500 here).
    const gz = await fetch(`${b.url}/v1/events`, { method: 'POST', headers: { 'content-encoding': 'gzip' }, body: 'garbage' });
    expect(gz.status).toBe(503);
    expect(gz.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await gz.json()) as any).error.code).toBe('MLTRAIL_ERR_SPOOL_FULL');
    // A mixed batch is refused whole: its bad half is not quarantined again on every retry.
    const mixed = await fetch(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify([sampleEvent(), { ...sampleEvent(), stage: 'nope' }]) });
    expect(mixed.status).toBe(503);
    expect(b.spool.heldBytes).toBe(held);
    expect(b.spool.listQuarantine()).toHaveLength(3);
  });

  it('a file sink path that cannot be a directory is a one-line STARTUP error, and the data dir is left free', async () => {
    const dataDir = tmpDir();
    writeFileSync(join(dataDir, 'afile'), 'x');
    const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: dataDir }, overrides: { server: { port: 0 }, sinks: { file: { path: join(dataDir, 'afile', 'out') } } } });
    const err = await startBridge(cfg, { logger: silentLogger(), env: {} }).then(() => undefined, (e: MltrailError) => e);
    expect(err?.code).toBe('MLTRAIL_ERR_STARTUP');
    expect(err?.message).toMatch(/sink file: cannot use .*afile\/out as its output directory: ENOTDIR \(set sinks\.file\.path/);
    // Everything it opened was closed: a fixed config starts on the same data dir.
    const b = await startBridge(loadConfig({ env: { MLTRAIL_DATA_DIR: dataDir }, overrides: { server: { port: 0 } } }), { logger: silentLogger(), env: {} });
    running.push(b);
    expect((await fetch(`${b.url}/healthz`)).status).toBe(200);
  });

  it('enforces the body limit with a 413 JSON error', async () => {
    const { b } = await start({}, { server: { port: 0, body_limit_bytes: 1000 } });
    const r = await fetch(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify({ pad: 'x'.repeat(5000) }) });
    expect(r.status).toBe(413);
    expect(((await r.json()) as any).error).toMatchObject({ code: 'MLTRAIL_ERR_BODY_TOO_LARGE', limit_bytes: 1000 });
    // Chunked (no Content-Length) is cut off while streaming too.
    const stream = new ReadableStream({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode('x'.repeat(500)));
        c.close();
      },
    });
    const r2 = await fetch(`${b.url}/v1/events`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(r2.status).toBe(413);
    // Counted as rejected input (the metric's help says "too large"), by the route's channel.
    expect(await (await fetch(`${b.url}/metrics`)).text()).toContain('mltrail_events_rejected_total{channel="core.api",reason="too_large"} 2');
    const { b: m } = await start({ MLTRAIL_MLFLOW_WEBHOOK_SECRET: 'whsec' }, { server: { port: 0 }, connectors: { mlflow: { body_limit_bytes: 1000 } } });
    expect((await fetch(`${m.url}/v1/ingest/mlflow`, { method: 'POST', body: 'x'.repeat(5000) })).status).toBe(413);
    expect((await fetch(`${m.url}/v1/attest`, { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024) })).status).toBe(413);
    const text = await (await fetch(`${m.url}/metrics`)).text();
    expect(text).toContain('mltrail_events_rejected_total{channel="mlflow.webhook",reason="too_large"} 1');
    expect(text).toContain('mltrail_events_rejected_total{channel="core.attest",reason="too_large"} 1');
  });

  it('an event sent to /v1/events first cannot make a connector\'s event with the same id a duplicate; the other way round it is one', async () => {
    const token = 'ingest-token-0123456789';
    const key = 'eb-key-0123456789';
    const { b, dataDir } = await start({ MLTRAIL_INGEST_TOKEN: token, MLTRAIL_EVENTBRIDGE_API_KEY: key });
    const native = JSON.parse(readFixture('sagemaker', 'eventbridge-sagemaker-training-job-state-change.awsdocs.json').toString('utf8')) as Record<string, unknown>;
    const plugin = connectorByName('sagemaker')!;
    // Ids of connector events are derived from the record, so anyone can compute this one ahead of time.
    const id = plugin.normalize!(native, { channel: 'sagemaker.eventbridge', receivedTime: new Date().toISOString(), keepRaw: true, config: plugin.configSchema.parse({}) } as never).events[0]!.id;
    const api = (ev: unknown) => fetch(`${b.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(ev) }).then((r) => r.json());
    const eventbridge = () => fetch(`${b.url}/v1/ingest/sagemaker/eventbridge`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify(native) }).then((r) => r.json());

    expect(await api({ ...sampleEvent(), id, platform: 'sagemaker', channel: 'sagemaker.eventbridge' })).toMatchObject({ accepted: 1 });
    expect(await api({ ...sampleEvent(), id })).toMatchObject({ accepted: 0, duplicates: 1 }); // a forwarder's resend is still one
    expect(await eventbridge()).toMatchObject({ accepted: 1 }); // the real event is not taken for the forged one's duplicate
    expect(await eventbridge()).toMatchObject({ accepted: 0, duplicates: 1 });
    const lines = async () => {
      await waitFor(() => (b.spool.depth('sink:file').records === 0 ? true : undefined));
      return readFileSync(join(dataDir, 'out', 'events.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; raw?: unknown });
    };
    expect((await lines()).filter((e) => e.id === id)).toHaveLength(2);
    expect((await lines()).some((e) => e.id === id && JSON.stringify(e.raw) === JSON.stringify(native))).toBe(true);

    // A connector's event first: an already-normalized copy forwarded later is its duplicate.
    const other = { ...native, id: 'a-different-eventbridge-id' };
    expect(await (await fetch(`${b.url}/v1/ingest/sagemaker/eventbridge`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify(other) })).json()).toMatchObject({ accepted: 1 });
    const otherId = plugin.normalize!(other, { channel: 'sagemaker.eventbridge', receivedTime: new Date().toISOString(), keepRaw: true, config: plugin.configSchema.parse({}) } as never).events[0]!.id;
    expect(otherId).not.toBe(id);
    expect(await api({ ...sampleEvent(), id: otherId })).toMatchObject({ accepted: 0, duplicates: 1 });
  });

  it('requires the bearer token when one is set, and records the failure as an event', async () => {
    const { b } = await start({ MLTRAIL_INGEST_TOKEN: 's3cret-token-value' });
    const no = await fetch(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify(sampleEvent()) });
    expect(no.status).toBe(401);
    expect(no.headers.get('www-authenticate')).toBe('Bearer realm="mltrail"');
    // The token applies to reading alerts too, and to a local program as much as any other.
    expect((await fetch(`${b.url}/v1/alerts`)).status).toBe(401);
    expect((await fetch(`${b.url}/v1/alerts`, { headers: { authorization: 'Bearer s3cret-token-value' } })).status).toBe(200);
    // With a token, the caller may be anywhere: a remote Host name (proxy, DNS name) or a page with Origin passes on the token.
    const remote = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: new URL(b.url).port, method: 'POST', path: '/v1/events', headers: { host: 'mltrail.internal.example:8787', origin: 'https://console.example', authorization: 'Bearer s3cret-token-value', 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(JSON.stringify(sampleEvent()));
    });
    expect(remote).toBe(200);
    expect(((await no.json()) as any).error.code).toBe('MLTRAIL_ERR_UNAUTHORIZED');
    const wrong = await fetch(`${b.url}/v1/events`, { method: 'POST', headers: { authorization: 'Bearer nope' }, body: JSON.stringify(sampleEvent()) });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${b.url}/v1/events`, { method: 'POST', headers: { authorization: 'Bearer s3cret-token-value' }, body: JSON.stringify(sampleEvent()) });
    expect(ok.status).toBe(200);
    const events = await waitFor(() => {
      const recs = b.spool.read('probe', 100).map((r) => JSON.parse(r.body));
      const fails = recs.filter((e) => e.action === 'ingest.auth_failure');
      return fails.length >= 2 ? fails : undefined;
    });
    expect(events[0]).toMatchObject({ stage: 'ingestion', outcome: 'failure', channel: 'core.api', actor: { ip: expect.stringMatching(/127\.0\.0\.1/) } });
  });

  it('isLoopback: only 127.0.0.0/8, ::1 and localhost are loopback; a host name that starts with 127. is not', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '127.evil.example', '127.0.0.1.nip.io', 'localhost.example', '']) expect(isLoopback(h), h).toBe(false);
  });

  it('refuses to start on a non-loopback address without an ingest token', async () => {
    const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir(), MLTRAIL_HOST: '0.0.0.0' }, overrides: { server: { port: 0 } } });
    await expect(startBridge(cfg, { logger: silentLogger() })).rejects.toThrow(/MLTRAIL_INGEST_TOKEN/);
  });

  it('MLTRAIL_INGEST_TOKEN with a trailing newline (a Kubernetes secret made from a file) is the token without it: a header cannot carry the newline', async () => {
    const { b } = await start({ MLTRAIL_INGEST_TOKEN: 's3cret-token-value\n' });
    const post = (token: string) => fetch(`${b.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(sampleEvent()) });
    expect((await post('s3cret-token-value')).status).toBe(200);
    expect((await post('s3cret-token-valu')).status).toBe(401);
    expect(loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir(), MLTRAIL_INGEST_TOKEN: ' tok\r\n' } }).server.ingest_token).toBe('tok');
    expect(loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir() }, overrides: { server: { ingest_token: 'tok\n' } } }).server.ingest_token).toBe('tok');
  });

  it('a blank MLTRAIL_INGEST_TOKEN is a configuration error naming the variable, not a token nobody can send', () => {
    expect(() => loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir(), MLTRAIL_HOST: '0.0.0.0', MLTRAIL_INGEST_TOKEN: '   ' } })).toThrow(/server\.ingest_token: is blank.*MLTRAIL_INGEST_TOKEN/);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const { b } = await start();
    const r = await fetch(`${b.url}/nope`);
    expect(r.status).toBe(404);
    expect(((await r.json()) as any).error.code).toBe('MLTRAIL_ERR_NOT_FOUND');
  });
});

/** Send bytes as they are (fetch would refuse to), read until the server closes. */
function rawRequest(port: number, text: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.end(text));
    let data = '';
    sock.on('data', (d) => (data += d.toString()));
    sock.on('error', reject);
    sock.on('close', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]), headers: head, body });
    });
  });
}
