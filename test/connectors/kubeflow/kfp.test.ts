import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { KubeflowConfig } from '../../../connectors/kubeflow/config.js';
import { normalizeKfp } from '../../../connectors/kubeflow/kfp/normalize.js';
import { KFP_SEEN_STATE_NS, KfpPoller } from '../../../connectors/kubeflow/kfp/poller.js';
import { KFP_RUNS_STATE_NS } from '../../../connectors/kubeflow/mlmd/poller.js';
import { NormalizedEvent, stableId } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { type FakeKfpData, KFP_TOKEN, kfpData, startFakeKfp } from './fake-kfp.js';
import { harness } from './helpers.js';

const TOKEN = KFP_TOKEN;
let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

type Obj = Record<string, any>;

/** The shared strict fake KFP API server (fake-kfp.ts), closed after each test. */
async function fakeKfp(data: FakeKfpData) {
  const kfp = await startFakeKfp(data);
  cleanup.push(() => kfp.close());
  return kfp;
}

describe('KFP v2beta1 REST poller', () => {
  it('lists runs, schedules, pipelines, versions and experiments, paging, and records run facts for MLMD', async () => {
    const kfp = await fakeKfp(kfpData());
    let clock = Date.now();
    const h = harness({ kfp: { url: kfp.url, token: TOKEN, namespaces: ['kubeflow-user-alice'], page_size: 1 } }, {}, { now: () => clock });
    cleanup.push(() => h.close());
    const poller = new KfpPoller(h.deps);
    const signal = new AbortController().signal;
    const stats = await poller.pollOnce(signal);
    expect(stats.runs).toBe(2); // the 2024 run is outside the look-back and filtered server-side
    const evs = h.events().map((e) => NormalizedEvent.parse(e));
    expect(evs.map((e) => e.action).sort()).toEqual(
      ['experiment.create', 'pipeline.create', 'pipeline_run.create', 'pipeline_run.create', 'pipeline_run.fail', 'pipeline_run.start', 'pipeline_version.create', 'recurring_run.create'].sort(),
    );
    expect(evs.every((e) => e.channel === 'kubeflow.kfp')).toBe(true);
    // Two runs with page_size 1 → the second page was requested with the token.
    const runCalls = kfp.requests.filter((u) => u.pathname === '/apis/v2beta1/runs');
    expect(runCalls.map((u) => u.searchParams.get('page_token') ?? '')).toEqual(['', '1']);
    const start = evs.find((e) => e.action === 'pipeline_run.start')!;
    expect(start).toMatchObject({
      actor: { type: 'service', name: 'sa1', id: 'system:serviceaccount:kubeflow-user-alice:sa1' },
      resource: { type: 'pipeline_run', id: 'completed-run-123', namespace: 'kubeflow-user-alice' },
      ml: { provenance: { pipeline_version: 'e15dc3ec-b45e-4cc7-bb07-e76b5dbce99a' }, job: { params: { batch_size: 1000, learning_rate: 'foo' } } },
    });
    // The run names a registered version and carries no spec: its images come from the listed version.
    const created = evs.find((e) => e.action === 'pipeline_run.create' && e.resource?.id === 'completed-run-123')!;
    expect(created.ml?.job).toMatchObject({ image: 'python:3.11', image_pinned: false, images: ['python:3.11'] });
    expect(h.spool.state.get(KFP_RUNS_STATE_NS, 'completed-run-123')).toMatchObject({ service_account: 'sa1', namespace: 'kubeflow-user-alice', pipeline_version_id: 'e15dc3ec-b45e-4cc7-bb07-e76b5dbce99a' });

    // Next poll: one run finished and a schedule was disabled → exactly those two new events.
    const before = h.events().length;
    kfp.data.runs[0] = { ...kfp.data.runs[0], state: 'SUCCEEDED', finished_at: new Date().toISOString() };
    kfp.data.recurringRuns[0] = { ...kfp.data.recurringRuns[0], mode: 'DISABLE', status: 'DISABLED', updated_at: new Date().toISOString() };
    await poller.pollOnce(signal);
    expect(h.events().slice(before).map((e) => e.action).sort()).toEqual(['pipeline_run.complete', 'recurring_run.disable']);
    await poller.pollOnce(signal);
    expect(h.events().length).toBe(before + 2);
  });

  it('reads a rotating token from token_file (MLTRAIL_KFP_TOKEN_FILE) on every poll', async () => {
    const kfp = await fakeKfp(kfpData());
    const dir = mkdtempSync(join(tmpdir(), 'kfp-token-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'stale\n');
    const env = kubeflowConnector.fromEnv!({ MLTRAIL_KFP_URL: kfp.url, MLTRAIL_KFP_TOKEN_FILE: file })! as Obj;
    const h = harness({ ...env, kfp: { ...env.kfp, namespaces: ['kubeflow-user-alice'] } });
    cleanup.push(() => h.close());
    const poller = new KfpPoller(h.deps);
    await expect(poller.pollOnce(new AbortController().signal)).rejects.toThrow(/401/);
    writeFileSync(file, `${TOKEN}\n`);
    expect((await poller.pollOnce(new AbortController().signal)).runs).toBe(2);
  });

  it('sends the identity header instead of a token when configured', async () => {
    const kfp = await fakeKfp(kfpData());
    const h = harness({ kfp: { url: kfp.url, user_header: 'kubeflow-userid', user: 'auditor@example.com', namespaces: ['kubeflow-user-alice'] } });
    cleanup.push(() => h.close());
    await expect(new KfpPoller(h.deps).pollOnce(new AbortController().signal)).rejects.toThrow(/HTTP 401: Failed to authenticate token review/);
    expect(kfp.headers[0]!['kubeflow-userid']).toBe('auditor@example.com');
    expect(kfp.headers[0]!.authorization).toBeUndefined();
  });

  it('a refused token fails the poll at once (no retry storm), and the loop reports unhealthy', async () => {
    const kfp = await fakeKfp(kfpData());
    const h = harness(kubeflowConnector.fromEnv!({ MLTRAIL_KFP_URL: kfp.url, MLTRAIL_KFP_TOKEN: 'wrong' })!);
    cleanup.push(() => h.close());
    const pollers = kubeflowConnector.pollers!(h.deps);
    expect(pollers.map((p) => p.name)).toEqual(['kubeflow.kfp']);
    pollers[0]!.start();
    cleanup.push(() => pollers[0]!.stop());
    await expect.poll(() => pollers[0]!.health!().state, { timeout: 5000 }).toBe('unhealthy');
    expect(kfp.requests).toHaveLength(1);
    expect(pollers[0]!.health!().reason).toMatch(/401/);
  });
});

describe('KFP poller in single-user mode (no kfp.namespaces): a run’s service account is namespaced', () => {
  const signal = new AbortController().signal;
  /** The fixture runs; failed-run-456's experiment has no namespace (the default experiment of a single-user install). */
  const singleUser = () => {
    const data = kfpData();
    const experiment = data.experiments[0]!;
    return { ...data, experiments: [experiment, { ...experiment, experiment_id: 'exp-789', display_name: 'Default', namespace: '' }], singleUser: true };
  };
  const actorIds = (evs: NormalizedEvent[]) => Object.fromEntries(evs.filter((e) => e.action === 'pipeline_run.create' || e.action === 'recurring_run.create').map((e) => [e.resource!.id!, [e.actor?.id, e.resource?.namespace]]));

  it('a run in an experiment without a namespace runs in KFP’s namespace (default kubeflow); one in a namespaced experiment, there', async () => {
    const kfp = await fakeKfp(singleUser());
    const h = harness({ kfp: { url: kfp.url, token: TOKEN } });
    cleanup.push(() => h.close());
    await new KfpPoller(h.deps).pollOnce(signal);
    expect(actorIds(h.events())).toEqual({
      'failed-run-456': ['system:serviceaccount:kubeflow:sa2', 'kubeflow'],
      'completed-run-123': ['system:serviceaccount:namespace1:sa1', 'namespace1'],
      'recurring-run-789': ['system:serviceaccount:namespace1:sa3', 'namespace1'],
    });
    // The MLMD poller attributes the run's steps with the same namespace.
    expect(h.spool.state.get(KFP_RUNS_STATE_NS, 'failed-run-456')).toMatchObject({ service_account: 'sa2', namespace: 'kubeflow' });
  });

  it('kfp.install_namespace names where a non-default install runs; it must be a namespace name', async () => {
    const kfp = await fakeKfp(singleUser());
    const h = harness({ kfp: { url: kfp.url, token: TOKEN, install_namespace: 'kfp-system' } });
    cleanup.push(() => h.close());
    await new KfpPoller(h.deps).pollOnce(signal);
    expect(actorIds(h.events())['failed-run-456']).toEqual(['system:serviceaccount:kfp-system:sa2', 'kfp-system']);
    const bad = KubeflowConfig.safeParse({ kfp: { install_namespace: 'KFP_System' } });
    expect(bad.success ? [] : bad.error.issues.map((i) => i.path.join('.'))).toEqual(['kfp.install_namespace']);
  });

  it('multi-user listings keep the listed namespace; a run normalized alone (mode unknown) keeps the bare name', () => {
    const run = readFixtureJson<Obj>('kubeflow', 'kfp-rest', 'run_failed.json');
    const meta = { namespace: 'kubeflow-user-alice', experiment_namespaces: new Map([['exp-789', 'elsewhere']]) };
    const create = (m?: Obj) => normalizeKfp(run, { channel: 'test', receivedTime: '2026-11-25T00:00:00.000Z', keepRaw: false, config: KubeflowConfig.parse({}), meta: m }).events.find((e) => e.action === 'pipeline_run.create')!;
    expect(create(meta).actor?.id).toBe('system:serviceaccount:kubeflow-user-alice:sa2');
    expect(create().actor?.id).toBe('sa2');
  });
});

describe('KFP poller health while a request is retried', () => {
  it('reads degraded (not healthy) while 503s are retried within a poll, healthy once the poll succeeds', async () => {
    const kfp = await fakeKfp({ ...kfpData(), unavailable: 2 });
    const h = harness({ kfp: { url: kfp.url, token: TOKEN, namespaces: ['kubeflow-user-alice'] } });
    cleanup.push(() => h.close());
    const [poller] = kubeflowConnector.pollers!(h.deps);
    const seen = new Set<string>();
    const sample = setInterval(() => seen.add(`${poller!.health!().state}:${poller!.health!().reason ?? ''}`), 5);
    poller!.start();
    cleanup.push(() => poller!.stop());
    await expect.poll(() => h.events().length, { timeout: 10_000 }).toBeGreaterThan(0);
    clearInterval(sample);
    expect([...seen].some((s) => /^degraded:retrying: attempt \d+ failed: .*503/.test(s))).toBe(true);
    expect([...seen].some((s) => s.startsWith('unhealthy'))).toBe(false);
    await expect.poll(() => poller!.health!().state, { timeout: 5000 }).toBe('healthy');
  });
});

describe('KFP client retry classification', () => {
  for (const status of [429, 408]) {
    it(`a ${status} is retried within the poll (not a failed poll)`, async () => {
      const kfp = await fakeKfp({ ...kfpData(), unavailable: 1, unavailableStatus: status });
      const h = harness({ kfp: { url: kfp.url, token: TOKEN, namespaces: ['kubeflow-user-alice'] } });
      cleanup.push(() => h.close());
      const poller = new KfpPoller(h.deps);
      await expect(poller.pollOnce(new AbortController().signal)).resolves.toMatchObject({ runs: 2 });
      expect(kfp.data.unavailable).toBe(0);
      expect(h.events().length).toBeGreaterThan(0);
    });
  }
});

describe('KFP poller: each object is emitted once, not once per dedup window', () => {
  const cfg = (url: string) => ({ kfp: { url, token: TOKEN, namespaces: ['kubeflow-user-alice'] } });
  const FIRST = ['experiment.create', 'pipeline.create', 'pipeline_run.create', 'pipeline_run.create', 'pipeline_run.fail', 'pipeline_run.start', 'pipeline_version.create', 'recurring_run.create'].sort();
  const signal = new AbortController().signal;

  it('re-emits nothing once the spool has forgotten the ids (7-day window), and still emits real changes', async () => {
    let clock = Date.now();
    const kfp = await fakeKfp(kfpData());
    const h = harness(cfg(kfp.url), {}, { now: () => clock });
    cleanup.push(() => h.close());
    const poller = new KfpPoller(h.deps);
    await poller.pollOnce(signal);
    const first = h.events();
    expect(first.map((e) => e.action).sort()).toEqual(FIRST);
    clock += 8 * 24 * 3600_000;
    h.spool.prune(['kfp-test']);
    expect(first.some((e) => h.spool.seen('event', e.id))).toBe(false); // only the poller's own state is left to stop them
    await poller.pollOnce(signal);
    expect(h.events()).toHaveLength(first.length);
    kfp.data.runs[0] = { ...kfp.data.runs[0], state: 'SUCCEEDED', finished_at: new Date().toISOString() };
    await poller.pollOnce(signal);
    expect(h.events().slice(first.length).map((e) => e.action)).toEqual(['pipeline_run.complete']);
    expect(h.events().slice(first.length)[0]!.id).toBe(stableId('kubeflow', 'kfp', 'run', 'completed-run-123', 'state', 'SUCCEEDED'));
  });

  it('a restart re-reads what was emitted: nothing again, even with the dedup ids gone', async () => {
    const kfp = await fakeKfp(kfpData());
    const dir = mkdtempSync(join(tmpdir(), 'kfp-restart-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const h1 = harness(cfg(kfp.url), {}, { dir });
    await new KfpPoller(h1.deps).pollOnce(signal);
    const n = h1.events().length;
    expect(n).toBe(FIRST.length);
    h1.close();
    const h2 = harness(cfg(kfp.url), {}, { dir, dedupMaxIds: 0 });
    cleanup.push(() => h2.close());
    h2.spool.prune(['kfp-test']);
    await new KfpPoller(h2.deps).pollOnce(signal);
    expect(h2.events()).toHaveLength(n);
  });

  it('remembers an object only after its events are committed: a failed commit is emitted on the next poll', async () => {
    const kfp = await fakeKfp(kfpData());
    const h = harness(cfg(kfp.url));
    cleanup.push(() => h.close());
    const ingest = h.deps.ingest.ingest.bind(h.deps.ingest);
    let failures = 1;
    h.deps.ingest.ingest = (...args) => (failures-- > 0 ? Promise.reject(new Error('disk full')) : ingest(...args));
    const poller = new KfpPoller(h.deps);
    await expect(poller.pollOnce(signal)).rejects.toThrow('disk full');
    expect(h.events()).toHaveLength(0);
    expect(h.spool.state.list(KFP_SEEN_STATE_NS)).toHaveLength(0);
    await poller.pollOnce(signal);
    expect(h.events().map((e) => e.action).sort()).toEqual(FIRST);
  });

  it('forgets objects no longer listed after a complete poll, not after a failed one', async () => {
    const kfp = await fakeKfp(kfpData());
    const h = harness(cfg(kfp.url));
    cleanup.push(() => h.close());
    const poller = new KfpPoller(h.deps);
    await poller.pollOnce(signal);
    const keys = () => h.spool.state.list(KFP_SEEN_STATE_NS).map((e) => e.key.replace(`${kfp.url}|`, '')).sort();
    const all = 6; // experiment, pipeline, version, recurring run, two runs in the look-back
    expect(keys()).toHaveLength(all);
    const experiment = kfp.data.experiments.pop()!;
    kfp.data.refuse = '/apis/v2beta1/recurringruns';
    await expect(poller.pollOnce(signal)).rejects.toThrow(/HTTP 400/);
    expect(keys()).toHaveLength(all);
    kfp.data.refuse = undefined;
    await poller.pollOnce(signal);
    expect(keys()).not.toContain(`experiment:${experiment.experiment_id}`);
    expect(keys()).toHaveLength(all - 1);
  });

  it('a listing cut at the page bound (MAX_PAGES) is not complete: what it missed is not forgotten, so not re-emitted later', async () => {
    const data = kfpData();
    const base = data.experiments[0]!;
    data.experiments = Array.from({ length: 200 }, (_, i) => ({ ...base, experiment_id: `exp-${i}`, display_name: `exp ${i}` }));
    const kfp = await fakeKfp(data);
    let clock = Date.now();
    const h = harness({ kfp: { url: kfp.url, token: TOKEN, namespaces: ['kubeflow-user-alice'], page_size: 1 } }, {}, { now: () => clock });
    cleanup.push(() => h.close());
    const poller = new KfpPoller(h.deps);
    const created = () => h.events().filter((e) => e.action === 'experiment.create').map((e) => e.resource?.id);
    await poller.pollOnce(signal);
    expect(created()).toHaveLength(200);
    // A new experiment listed first pushes exp-199 past the 200-page bound for one poll…
    kfp.data.experiments.unshift({ ...base, experiment_id: 'exp-new', display_name: 'exp new' });
    await poller.pollOnce(signal);
    // …and back into view: it was not forgotten, so it is not a new experiment.
    kfp.data.experiments.pop();
    kfp.data.experiments.push({ ...base, experiment_id: 'exp-199', display_name: 'exp 199' });
    kfp.data.experiments.shift();
    // Past the spool's dedup window: only the poller's own state stops a repeat.
    clock += 8 * 24 * 3600_000;
    h.spool.prune(['kfp-test']);
    await poller.pollOnce(signal);
    expect(created().filter((id) => id === 'exp-199')).toHaveLength(1);
    expect(created()).toHaveLength(201);
  });

  it('after a downtime longer than lookback_h, runs created meanwhile are still listed (the window starts at the last poll)', async () => {
    const data = kfpData();
    const kfp = await fakeKfp(data);
    const h = harness(cfg(kfp.url));
    cleanup.push(() => h.close());
    const poller = new KfpPoller(h.deps);
    const day = 24 * 3600_000;
    // The last poll before the bridge went down, five days ago (lookback_h is 72 h).
    const clock = vi.spyOn(Date, 'now').mockReturnValue(Date.now() - 5 * day);
    try {
      await poller.pollOnce(signal);
    } finally {
      clock.mockRestore();
    }
    // A run launched while the bridge was down, four days ago.
    kfp.data.runs.push({ ...data.runs[0]!, run_id: 'run-during-downtime', display_name: 'during downtime', created_at: new Date(Date.now() - 4 * day).toISOString() });
    await poller.pollOnce(signal);
    expect(h.events().filter((e) => e.resource?.id === 'run-during-downtime').map((e) => e.action)).toContain('pipeline_run.create');
  });

  it('quarantines an object it cannot read once, not on every poll', async () => {
    const data = kfpData();
    const { created_at: _, ...undated } = data.experiments[0]!;
    data.experiments[0] = undated;
    const kfp = await fakeKfp(data);
    const h = harness(cfg(kfp.url));
    cleanup.push(() => h.close());
    const poller = new KfpPoller(h.deps);
    for (let i = 0; i < 3; i++) await poller.pollOnce(signal);
    expect(h.spool.listQuarantine({ channel: 'kubeflow.kfp' }).map((q) => q.reason)).toEqual(['experiment has no created_at']);
  });
});
