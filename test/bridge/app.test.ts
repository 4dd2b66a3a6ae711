/**
 * The bridge's HTTP app (createApp) driven through its fetch interface, with a
 * real spool and ingestor: what /readyz, the shutdown refusal and the alert
 * listing answer, without a server or sinks around them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../bridge/app.js';
import { Ingestor } from '../../core/ingest.js';
import { silentLogger } from '../../core/log.js';
import { createMetrics } from '../../core/metrics.js';
import { Spool } from '../../core/spool/index.js';
import { sampleEvent } from '../helpers/bridge.js';

const TOKEN = 'app-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const spools: Spool[] = [];
afterEach(() => {
  for (const s of spools.splice(0)) s.close();
});

function appWith(opts: { maxBytes?: number } = {}) {
  const spool = Spool.open({ dir: ':memory:', maxBytes: opts.maxBytes });
  spools.push(spool);
  const metrics = createMetrics();
  let shuttingDown = false;
  const app = createApp({
    spool,
    ingest: new Ingestor(spool, silentLogger(), metrics),
    logger: silentLogger(),
    metrics,
    server: { host: '127.0.0.1', port: 0, ingestToken: TOKEN, bodyLimitBytes: 1024 * 1024 },
    components: () => ({ 'sink:file': { state: 'healthy', backlog: 0 } }),
    isShuttingDown: () => shuttingDown,
  });
  return { app, spool, metrics, shutDown: () => (shuttingDown = true) };
}

describe('bridge app', () => {
  it('a body nested millions of levels deep is refused 400 INVALID_JSON before it is parsed, and kept in quarantine', async () => {
    const { app, spool } = appWith();
    const deep = '['.repeat(400_000) + ']'.repeat(400_000);
    const r = await app.request('/v1/events', { method: 'POST', headers: auth, body: deep });
    expect(r.status).toBe(400);
    const err = ((await r.json()) as any).error;
    expect(err).toMatchObject({ code: 'MLTRAIL_ERR_INVALID_JSON' });
    expect(err.message).toMatch(/nested deeper than 10000 levels/);
    const kept = spool.listQuarantine({ channel: 'core.api' });
    expect(kept).toHaveLength(1);
    expect(kept[0]!.reason).toMatch(/nested deeper than 10000 levels/);
    expect(spool.maxSeq()).toBe(0);
    // NDJSON: a deep line is refused on its own (named by its line); the valid lines of the body still go in.
    const ndjson = [JSON.stringify(sampleEvent({ id: 'fine-1' })), '['.repeat(20_000), JSON.stringify(sampleEvent({ id: 'fine-2' }))].join('\n');
    const mixed = await app.request('/v1/events', { method: 'POST', headers: { ...auth, 'content-type': 'application/x-ndjson' }, body: ndjson });
    expect(mixed.status).toBe(200);
    const res = (await mixed.json()) as any;
    expect(res.accepted).toBe(2);
    expect(res.rejected).toMatchObject([{ line: 2 }]);
    expect(res.rejected[0].reason).toMatch(/nested deeper than 10000 levels/);
    // Brackets inside strings are not nesting: a large valid body still goes in.
    const valid = sampleEvent({ id: 'brackets', details: { note: '['.repeat(20_000) + '\\"{{{' } });
    expect((await app.request('/v1/events', { method: 'POST', headers: auth, body: JSON.stringify(valid) })).status).toBe(200);
  });

  it('while shutting down: a POST is refused 503 SHUTTING_DOWN with Retry-After and Connection: close, nothing spooled; /readyz is not ready', async () => {
    const { app, spool, shutDown } = appWith();
    expect((await app.request('/readyz')).status).toBe(200);
    shutDown();
    const r = await app.request('/v1/events', { method: 'POST', headers: auth, body: JSON.stringify(sampleEvent()) });
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('5');
    expect(r.headers.get('connection')).toBe('close');
    expect(((await r.json()) as any).error.code).toBe('MLTRAIL_ERR_SHUTTING_DOWN');
    expect(spool.maxSeq()).toBe(0);
    // A load balancer polling /readyz takes the draining bridge out of rotation; /healthz still says the process is up.
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as any).status).toBe('not_ready');
    expect((await app.request('/healthz')).status).toBe(200);
  });

  it('/readyz is 503 with spool state "full" while the spool is at its size limit, and lists the components', async () => {
    const { app, spool } = appWith({ maxBytes: 3000 });
    const ok = (await (await app.request('/readyz')).json()) as any;
    expect(ok).toMatchObject({ status: 'ready', spool: { state: 'ok', limit_bytes: 3000 }, components: { 'sink:file': { state: 'healthy' } } });
    // Undelivered events fill the bound: input is refused, and /readyz must say so.
    await spool.append([{ kind: 'event', id: 'big', body: JSON.stringify(sampleEvent({ details: { pad: 'x'.repeat(4000) } })) }]);
    expect(spool.full).toBe(true);
    const r = await app.request('/readyz');
    expect(r.status).toBe(503);
    expect(((await r.json()) as any)).toMatchObject({ status: 'not_ready', spool: { state: 'full', limit_bytes: 3000 } });
    const refused = await app.request('/v1/events', { method: 'POST', headers: auth, body: JSON.stringify(sampleEvent()) });
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });

  it('GET /v1/alerts gives the newest 100 by default and at most 1000 however many are asked for', async () => {
    const { app, spool } = appWith();
    const alerts = Array.from({ length: 1005 }, (_, i) => {
      const id = `a${String(i).padStart(4, '0')}`;
      return { kind: 'alert' as const, id, body: JSON.stringify({ id, time: new Date(Date.UTC(2026, 10, 25, 0, 0, i)).toISOString(), rule_id: 'r.x', mode: 'alert' }) };
    });
    spool.transaction(() => spool.appendInTx(alerts));
    const get = async (q: string) => ((await (await app.request(`/v1/alerts?${q}`, { headers: auth })).json()) as { alerts: Array<{ id: string }> }).alerts;
    const byDefault = await get('');
    expect(byDefault).toHaveLength(100);
    expect(byDefault.at(-1)!.id).toBe('a1004');
    const most = await get('limit=5000');
    expect(most).toHaveLength(1000);
    expect([most[0]!.id, most.at(-1)!.id]).toEqual(['a0005', 'a1004']);
    expect(await get('after=0&limit=100000')).toHaveLength(1000);
  });

  it('counts a request refused for a spool that cannot be written as reason spool_error (not spool_full)', async () => {
    const { app, spool, metrics } = appWith();
    // The next commit meets what better-sqlite3 throws on a damaged file (the spool names it SPOOL_UNAVAILABLE).
    const real = spool.append.bind(spool);
    spool.append = () => Promise.reject(spool.noteFailure(Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' })));
    const r = await app.request('/v1/events', { method: 'POST', headers: auth, body: JSON.stringify(sampleEvent()) });
    spool.append = real;
    expect(r.status).toBe(503);
    expect(((await r.json()) as any).error.code).toBe('MLTRAIL_ERR_SPOOL_UNAVAILABLE');
    const text = await metrics.registry.metrics();
    expect(text).toContain('mltrail_events_rejected_total{channel="core.api",reason="spool_error"} 1');
    expect(text).not.toContain('reason="spool_full"');
  });
  it('/readyz probes that the spool takes writes: a spool that turned read-only (a remounted disk) is not ready', async () => {
    const { app, spool } = appWith();
    expect((await app.request('/readyz')).status).toBe(200);
    spool.db.pragma('query_only = ON'); // writes now fail with SQLITE_READONLY, as on a read-only filesystem
    const r = await app.request('/readyz');
    expect(r.status).toBe(503);
    expect(((await r.json()) as any).spool).toMatchObject({ state: 'error', reason: expect.stringMatching(/readonly/i) });
    spool.db.pragma('query_only = OFF');
  });

  it('/metrics answers in the Prometheus text format, with its content type (a scraper refuses an unknown one)', async () => {
    const { app } = appWith();
    const r = await app.request('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await r.text()).toContain('# TYPE mltrail_events_received_total counter');
  });
});
