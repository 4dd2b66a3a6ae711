import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { KFP_RUNS_STATE_NS, MLMD_STATE_NS, MlmdPoller } from '../../../connectors/kubeflow/mlmd/poller.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { FakeMlmd, finishKfpRun, RUN_ID, seedKfpRun } from './fake-mlmd.js';
import { harness } from './helpers.js';

const TOKEN = 'kfp-sa-token-join';
let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

/**
 * A KFP v2beta1 API server that knows one run (the fixture, renamed to the
 * MLMD run's id) and answers GET /runs/{id}; `status` forces an error answer.
 * Listings are empty, so the KFP poller records nothing on its own.
 * `delayMs` holds each run answer that long (to look at the poller mid-look-up).
 */
async function fakeKfp() {
  const run = { ...readFixtureJson<Record<string, unknown>>('kubeflow', 'kfp-rest', 'run_completed.json'), run_id: RUN_ID, service_account: 'default-editor' };
  const state = { status: 200, gets: [] as string[], delayMs: 0 };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://kfp');
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { error: 'Unauthenticated', code: 16 });
    const m = /^\/apis\/v2beta1\/runs\/([^/]+)$/.exec(url.pathname);
    if (m) {
      state.gets.push(decodeURIComponent(m[1]!));
      if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
      if (state.status === 403) return send(403, { error: 'User is not authorized to read runs in namespace kubeflow-user-alice', code: 7 });
      if (state.status !== 200) return send(state.status, { error: 'upstream connect error', code: 14 });
      return decodeURIComponent(m[1]!) === RUN_ID ? send(200, run) : send(404, { error: `Run ${m[1]} not found`, code: 5 });
    }
    const list = /^\/apis\/v2beta1\/(runs|recurringruns|experiments|pipelines)$/.exec(url.pathname);
    if (list) return send(200, {});
    return send(404, { error: 'Not Found', code: 5 });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, state };
}

async function setup(mlmd: Record<string, unknown> = {}, token = TOKEN) {
  const db = new FakeMlmd();
  seedKfpRun(db, Date.now() - 3_600_000);
  const address = await db.start();
  const kfp = await fakeKfp();
  const h = harness({ mlmd: { address, ...mlmd }, kfp: { url: kfp.url, token, timeout_ms: 2000 } });
  const poller = new MlmdPoller(h.deps);
  cleanup.push(() => db.stop(), () => poller.stop(), () => h.close());
  return { db, kfp, h, poller, signal: new AbortController().signal };
}

const runStart = (evs: NormalizedEvent[]) => evs.find((e) => e.action === 'pipeline_run.start');

describe('MLMD events carry the KFP actor and pipeline version even when the KFP poller has not run yet', () => {
  it('looks the run up by id in KFP, attributes every event, and stores the facts for the next polls', async () => {
    const { kfp, h, poller, signal } = await setup();
    expect(h.spool.state.get(KFP_RUNS_STATE_NS, RUN_ID)).toBeUndefined();
    await poller.pollOnce(signal);
    expect(kfp.state.gets).toEqual([RUN_ID]); // once per run, not per execution
    const evs = h.events();
    expect(runStart(evs)).toMatchObject({
      actor: { type: 'service', name: 'default-editor', id: 'system:serviceaccount:kubeflow-user-alice:default-editor' },
      ml: { provenance: { run_id: RUN_ID, pipeline_version: 'e15dc3ec-b45e-4cc7-bb07-e76b5dbce99a' } },
    });
    const mlmdEvents = evs.filter((e) => e.channel === 'kubeflow.mlmd');
    expect(mlmdEvents.length).toBeGreaterThan(5);
    expect(mlmdEvents.every((e) => e.actor?.name === 'default-editor')).toBe(true);
    expect(h.spool.state.get(KFP_RUNS_STATE_NS, RUN_ID)).toMatchObject({ service_account: 'default-editor', namespace: 'kubeflow-user-alice' });
  });

  it('both pollers started together by the connector: the first MLMD events are attributed', async () => {
    const { h } = await setup();
    h.deps.config.poll_interval_s = 3600;
    const pollers = kubeflowConnector.pollers!(h.deps);
    expect(pollers.map((p) => p.name)).toEqual(['kubeflow.mlmd', 'kubeflow.kfp']);
    for (const p of pollers) p.start();
    cleanup.push(() => Promise.all(pollers.map((p) => p.stop())));
    await expect.poll(() => runStart(h.events())?.actor?.name, { timeout: 10_000 }).toBe('default-editor');
  });

  it('while KFP cannot answer, the page waits (cursor kept, degraded) and goes out attributed once KFP is back', async () => {
    const { db, kfp, h, poller, signal } = await setup({ kfp_join_wait_s: 600 });
    kfp.state.status = 503;
    const first = await poller.pollOnce(signal);
    expect(first.deferred).toMatch(new RegExp(`KFP run ${RUN_ID} cannot be looked up.*HTTP 503`));
    expect(h.events().filter((e) => e.channel === 'kubeflow.mlmd')).toEqual([]);
    expect(h.spool.state.get(MLMD_STATE_NS, `cursor:${db.address}`)).toBeUndefined();
    expect(poller.health()).toMatchObject({ state: 'degraded', reason: expect.stringContaining('wait up to 600s') });

    kfp.state.status = 200;
    await poller.pollOnce(signal);
    expect(runStart(h.events())?.actor?.name).toBe('default-editor');
    expect(poller.health().state).toBe('healthy');
  }, 30_000);

  it('the wait is bounded: past kfp_join_wait_s the events go out unattributed', async () => {
    const { kfp, h, poller, signal } = await setup({ kfp_join_wait_s: 0 });
    kfp.state.status = 503;
    const stats = await poller.pollOnce(signal);
    expect(stats.deferred).toBeUndefined();
    const start = runStart(h.events())!;
    expect(start).toBeDefined();
    expect(start.actor).toBeUndefined();
  }, 30_000);

  it('the bounded wait starts again at each outage: a KFP failure after a recovery holds the page again', async () => {
    const { db, kfp, h, poller, signal } = await setup({ kfp_join_wait_s: 1 });
    kfp.state.status = 400; // not retried: one request per poll
    expect((await poller.pollOnce(signal)).deferred).toMatch(/HTTP 400/);
    kfp.state.status = 200;
    await poller.pollOnce(signal);
    expect(runStart(h.events())?.actor?.name).toBe('default-editor');
    // Longer than kfp_join_wait_s after the first failure, KFP fails again for a run it must look up.
    await new Promise((r) => setTimeout(r, 1100));
    h.spool.state.delete(KFP_RUNS_STATE_NS, RUN_ID);
    finishKfpRun(db, Date.now() - 3_600_000);
    const before = h.events().length;
    kfp.state.status = 400;
    expect((await poller.pollOnce(signal)).deferred).toMatch(/HTTP 400/);
    expect(h.events().length).toBe(before);
  }, 30_000);

  it('a run whose facts the KFP poller already recorded is not looked up: a KFP outage then holds nothing', async () => {
    const { kfp, h, poller, signal } = await setup({ kfp_join_wait_s: 600 });
    h.spool.state.set(KFP_RUNS_STATE_NS, RUN_ID, { service_account: 'default-editor', namespace: 'kubeflow-user-alice', pipeline_version_id: 'pv-7' });
    kfp.state.status = 400;
    const stats = await poller.pollOnce(signal);
    expect(stats.deferred).toBeUndefined();
    expect(kfp.state.gets).toEqual([]);
    expect(runStart(h.events())).toMatchObject({ actor: { name: 'default-editor' }, ml: { provenance: { pipeline_version: 'pv-7' } } });
  });

  it('a run KFP does not know (404) is emitted at once, unattributed', async () => {
    const { db, kfp, h, poller, signal } = await setup();
    db.contexts.find((c) => c.type === 'system.PipelineRun')!.name = 'v1-or-deleted-run';
    await poller.pollOnce(signal);
    expect(kfp.state.gets).toEqual(['v1-or-deleted-run']);
    expect(runStart(h.events())).toMatchObject({ resource: { id: 'v1-or-deleted-run' } });
    expect(runStart(h.events())!.actor).toBeUndefined();
  });

  it('a run KFP refuses to show (403: a namespace the bridge may not read) is emitted at once, unattributed, and not asked again each poll', async () => {
    const { db, kfp, h, poller, signal } = await setup({ kfp_join_wait_s: 600 });
    kfp.state.status = 403;
    const stats = await poller.pollOnce(signal);
    expect(stats.deferred).toBeUndefined();
    const start = runStart(h.events())!;
    expect(start).toBeDefined();
    expect(start.actor).toBeUndefined();
    expect(h.spool.state.get(MLMD_STATE_NS, `cursor:${db.address}`)).toBeDefined();
    expect(poller.health().state).toBe('healthy');
    // The run goes on (new executions): its events go out at once without another look-up.
    const before = h.events().length;
    finishKfpRun(db, Date.now() - 3_600_000);
    expect((await poller.pollOnce(signal)).deferred).toBeUndefined();
    expect(h.events().length).toBeGreaterThan(before);
    expect(kfp.state.gets).toEqual([RUN_ID]);
  }, 30_000);

  it('401 (the bridge\'s KFP credentials) is KFP not answering for the whole source: the bounded wait applies', async () => {
    const { h, poller, signal } = await setup({ kfp_join_wait_s: 600 }, 'wrong-token');
    expect((await poller.pollOnce(signal)).deferred).toMatch(/HTTP 401/);
    expect(h.events().filter((e) => e.channel === 'kubeflow.mlmd')).toEqual([]);
    expect(poller.health().state).toBe('degraded');
  }, 30_000);

  it('health stays degraded for as long as events are held, also while the next poll looks the run up again', async () => {
    const { kfp, h, poller, signal } = await setup({ kfp_join_wait_s: 600 });
    kfp.state.status = 503;
    expect((await poller.pollOnce(signal)).deferred).toBeDefined();
    const gets = kfp.state.gets.length;
    kfp.state.status = 400; // not retried: one request per poll, held by delayMs
    kfp.state.delayMs = 1500;
    const next = poller.pollOnce(signal);
    await expect.poll(() => kfp.state.gets.length, { timeout: 5000 }).toBe(gets + 1);
    expect(poller.health().state).toBe('degraded'); // mid-poll, the page is still held
    expect((await next).deferred).toBeDefined();
    expect(poller.health().state).toBe('degraded');

    kfp.state.status = 200;
    kfp.state.delayMs = 0;
    await poller.pollOnce(signal);
    expect(runStart(h.events())?.actor?.name).toBe('default-editor');
    expect(poller.health().state).toBe('healthy');
  }, 30_000);

  it('without kfp.url nothing is looked up (MLMD alone)', async () => {
    const db = new FakeMlmd();
    seedKfpRun(db, Date.now() - 3_600_000);
    const h = harness({ mlmd: { address: await db.start() } });
    const poller = new MlmdPoller(h.deps);
    cleanup.push(() => db.stop(), () => poller.stop(), () => h.close());
    await poller.pollOnce(new AbortController().signal);
    expect(runStart(h.events())).toBeDefined();
    expect(runStart(h.events())!.actor).toBeUndefined();
  });
});
