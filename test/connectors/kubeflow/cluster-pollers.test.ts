import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { loadConfig } from '../../../bridge/config.js';
import { KubeflowConfig } from '../../../connectors/kubeflow/config.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { KfpPoller } from '../../../connectors/kubeflow/kfp/poller.js';
import { KFP_RUNS_STATE_NS, MLMD_STATE_NS, MlmdPoller } from '../../../connectors/kubeflow/mlmd/poller.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { fromServer, type NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { makeTestPki } from '../../bridge/sinks/helpers.js';
import { type FakeKfpData, KFP_TOKEN, kfpData, startFakeKfp } from './fake-kfp.js';
import { FakeMlmd, finishKfpRun, RUN_ID, seedKfpRun } from './fake-mlmd.js';
import { harness } from './helpers.js';

/**
 * The default cluster and `cluster-b` each run Kubeflow Pipelines with the same objects (the KFP REST fixtures, and
 * the MLMD run RUN_ID with its datasets and model), as two clusters installed from one pipeline repository do. Each
 * cluster's KFP API and ML Metadata store is a strict local fake on port 0; cluster B's KFP takes its own token.
 */
type Obj = Record<string, any>;
const B_KFP_TOKEN = 'kfp-sa-token-of-cluster-b-71c0';
const NS = 'kubeflow-user-alice';
const signal = new AbortController().signal;

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

/** The fixtures, plus the MLMD run as KFP lists it, launched by `sa` (each cluster's run has its own service account). */
function clusterKfp(sa: string, token?: string): FakeKfpData {
  const data = kfpData();
  const run = { ...readFixtureJson<Obj>('kubeflow', 'kfp-rest', 'run_completed.json'), run_id: RUN_ID, display_name: 'fraud-detector-training', service_account: sa, created_at: new Date(Date.now() - 7_200_000).toISOString() };
  return { ...data, runs: [...data.runs, run], ...(token ? { token } : {}) };
}

async function servers() {
  const kfpA = await startFakeKfp(clusterKfp('sa-default'));
  const kfpB = await startFakeKfp(clusterKfp('sa-b', B_KFP_TOKEN));
  const t0 = Date.now() - 3_600_000;
  const mlmdA = new FakeMlmd();
  const mlmdB = new FakeMlmd();
  seedKfpRun(mlmdA, t0);
  seedKfpRun(mlmdB, t0);
  await mlmdA.start();
  await mlmdB.start();
  cleanup.push(() => kfpA.close(), () => kfpB.close(), () => mlmdA.stop(), () => mlmdB.stop());
  return { kfpA, kfpB, mlmdA, mlmdB, t0 };
}
type Servers = Awaited<ReturnType<typeof servers>>;

const config = (s: Servers) => ({
  kfp: { url: s.kfpA.url, token: KFP_TOKEN, namespaces: [NS] },
  mlmd: { address: s.mlmdA.address },
  clusters: [{ id: 'cluster-b', token: 'audit-token-of-cluster-b', kfp: { url: s.kfpB.url, token: B_KFP_TOKEN, namespaces: [NS] }, mlmd: { address: s.mlmdB.address } }],
});

/** Each poller polled once, the KFP pollers first (as their join table fills before MLMD reads it). */
async function pollAll(deps: Parameters<NonNullable<typeof kubeflowConnector.pollers>>[0]) {
  const pollers = kubeflowConnector.pollers!(deps);
  for (const p of pollers) if (p instanceof KfpPoller) await p.pollOnce(signal);
  for (const p of pollers) if (p instanceof MlmdPoller) await p.pollOnce(signal);
  cleanup.push(() => Promise.all(pollers.map((p) => p.stop())));
  return pollers;
}

const ofCluster = (evs: NormalizedEvent[], account: string | undefined) => evs.filter((e) => e.cloud?.account === account);

describe("a configured cluster's KFP and ML Metadata pollers (clusters[].kfp, clusters[].mlmd)", () => {
  it("each cluster's pollers read its own servers and emit its events as the cluster's: same objects, other ids and entities", async () => {
    const s = await servers();
    const h = harness(config(s));
    cleanup.push(() => h.close());
    const pollers = await pollAll(h.deps);
    expect(pollers.map((p) => p.name)).toEqual(['kubeflow.mlmd', 'kubeflow.kfp', 'kubeflow.mlmd@cluster-b', 'kubeflow.kfp@cluster-b']);
    // Cluster B's KFP was asked with its own token (a strict fake: any other is a 401).
    expect(s.kfpB.requests.map((u) => u.pathname)).toContain('/apis/v2beta1/runs');
    expect(s.mlmdB.calls).toContain('GetExecutions');

    const evs = h.events();
    const a = ofCluster(evs, undefined);
    const b = ofCluster(evs, 'cluster-b');
    expect(a.length + b.length).toBe(evs.length);
    expect(b.map((e) => `${e.channel} ${e.action}`).sort()).toEqual(a.map((e) => `${e.channel} ${e.action}`).sort());
    expect(new Set(b.map((e) => e.channel))).toEqual(new Set(['kubeflow.kfp', 'kubeflow.mlmd']));
    // The same object on both clusters is two events: B's ids are the default's made the cluster's, as its audit webhook's are.
    expect(b.map((e) => e.id).sort()).toEqual(a.map((e) => fromServer(e, 'cluster-b').id).sort());
    expect(b.every((e) => e.cloud?.provider === 'other')).toBe(true);

    // Each cluster's MLMD run is attributed by its own KFP (the run facts are kept apart, though the run ids are equal).
    const runStart = (xs: NormalizedEvent[]) => xs.find((e) => e.channel === 'kubeflow.mlmd' && e.action === 'pipeline_run.start');
    expect(runStart(a)?.actor?.name).toBe('sa-default');
    expect(runStart(b)?.actor?.name).toBe('sa-b');
    expect(h.spool.state.get(KFP_RUNS_STATE_NS, RUN_ID)).toMatchObject({ service_account: 'sa-default' });
    expect(h.spool.state.get(`${KFP_RUNS_STATE_NS}@cluster-b`, RUN_ID)).toMatchObject({ service_account: 'sa-b' });

    // The rules see two jobs: the default cluster's as before, cluster B's scoped to it.
    const unverified = replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((x) => x.rule_id === 'training.unverified_dependency' && x.entity.id.endsWith('Production Pipeline Run'));
    expect(unverified).toHaveLength(2);
    expect(unverified.map((x) => x.entity)).toEqual(expect.arrayContaining([
      { type: 'job', id: 'Production Pipeline Run', platform: 'kubeflow' },
      { type: 'job', id: 'cluster-b:Production Pipeline Run', name: 'Production Pipeline Run', platform: 'kubeflow' },
    ]));
  });

  it("the default cluster's pollers emit the very events they did without clusters", async () => {
    const s = await servers();
    const h = harness(config(s));
    const alone = harness({ kfp: config(s).kfp, mlmd: config(s).mlmd });
    cleanup.push(() => h.close(), () => alone.close());
    await pollAll(h.deps);
    await pollAll(alone.deps);
    const strip = (evs: NormalizedEvent[]) => evs.map(({ received_time: _r, ...e }) => e).sort((x, y) => x.id.localeCompare(y.id));
    expect(strip(ofCluster(h.events(), undefined))).toEqual(strip(alone.events()));
  });

  it('each cluster keeps its own cursor and seen-state across a restart: only what changed on cluster B comes out', async () => {
    const s = await servers();
    const dir = mkdtempSync(join(tmpdir(), 'kf-cluster-pollers-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const h1 = harness(config(s), {}, { dir });
    await pollAll(h1.deps);
    const before = h1.events().length;
    const cursorA = h1.spool.state.get<{ t: number }>(MLMD_STATE_NS, `cursor:${s.mlmdA.address}`)!;
    expect(h1.spool.state.get(`${MLMD_STATE_NS}@cluster-b`, `cursor:${s.mlmdB.address}`)).toBeDefined();
    h1.close();

    // On cluster B only, the run finishes (MLMD) and a KFP run completes.
    finishKfpRun(s.mlmdB, s.t0);
    s.kfpB.data.runs[0] = { ...s.kfpB.data.runs[0], state: 'SUCCEEDED', finished_at: new Date().toISOString() };

    const h2 = harness(config(s), {}, { dir, dedupMaxIds: 0 });
    cleanup.push(() => h2.close());
    h2.spool.prune(['restart-test']);
    await pollAll(h2.deps);
    const fresh = h2.events().slice(before);
    expect(fresh.length).toBeGreaterThan(1);
    expect(fresh.every((e) => e.cloud?.account === 'cluster-b')).toBe(true);
    expect(fresh.map((e) => `${e.channel} ${e.action}`)).toEqual(expect.arrayContaining(['kubeflow.kfp pipeline_run.complete', 'kubeflow.mlmd pipeline_run.complete']));
    // The default cluster's cursor did not move; cluster B's did.
    expect(h2.spool.state.get(MLMD_STATE_NS, `cursor:${s.mlmdA.address}`)).toEqual(cursorA);
    expect(h2.spool.state.get<{ t: number }>(`${MLMD_STATE_NS}@cluster-b`, `cursor:${s.mlmdB.address}`)!.t).toBe(s.t0 + 90_500);
  });

  it("a cluster poller's outage is reported as that cluster's (source.unavailable scoped, poller named)", async () => {
    const s = await servers();
    s.kfpB.data.unavailable = 1_000;
    const h = harness({ ...config(s), poll_interval_s: 3600, kfp: { ...config(s).kfp, timeout_ms: 500 } });
    cleanup.push(() => h.close());
    const pollers = kubeflowConnector.pollers!(h.deps).filter((p) => p.name === 'kubeflow.kfp@cluster-b');
    for (const p of pollers) p.start();
    cleanup.push(() => Promise.all(pollers.map((p) => p.stop())));
    await expect.poll(() => h.events().filter((e) => e.action === 'source.unavailable'), { timeout: 20_000 }).toHaveLength(1);
    const down = h.events().find((e) => e.action === 'source.unavailable')!;
    expect(down).toMatchObject({ channel: 'kubeflow.kfp', cloud: { account: 'cluster-b' }, resource: { type: 'poller', id: 'kubeflow.kfp@cluster-b' } });
  });
});

describe('config of a cluster\'s pollers', () => {
  const url = 'http://ml-pipeline.kubeflow:8888';
  it('takes the top-level kfp/mlmd keys with the same defaults; unset, no poller runs', () => {
    const cfg = KubeflowConfig.parse({ clusters: [{ id: 'b', token: 't1', kfp: { url }, mlmd: { address: 'metadata-grpc-service.kubeflow:8080' } }] });
    const top = KubeflowConfig.parse({ kfp: { url }, mlmd: { address: 'metadata-grpc-service.kubeflow:8080' } });
    expect(cfg.clusters[0]!.kfp).toEqual(top.kfp);
    expect(cfg.clusters[0]!.mlmd).toEqual(top.mlmd);
    const h = harness({ clusters: [{ id: 'b', token: 't1' }] });
    cleanup.push(() => h.close());
    expect(kubeflowConnector.pollers!(h.deps)).toEqual([]);
  });

  it('errors name the cluster\'s path', () => {
    const err = (kubeflow: Record<string, unknown>) => {
      try {
        loadConfig({ env: {}, overrides: { connectors: { kubeflow } } });
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    const clusters = (...extra: Array<Record<string, unknown>>) => ({ clusters: [{ id: 'a', token: 't-a' }, ...extra] });
    expect(err(clusters({ id: 'b', token: 't-b', kfp: { url: 'not a url' } }))).toMatch(/connectors\.kubeflow\.clusters\.1\.kfp\.url: /);
    expect(err(clusters({ id: 'b', token: 't-b', mlmd: { address: 'http://mlmd:8080' } }))).toMatch(/connectors\.kubeflow\.clusters\.1\.mlmd\.address: expected host:port without a scheme/);
    expect(err(clusters({ id: 'b', token: 't-b', kfp: { url, page_sise: 5 } }))).toMatch(/connectors\.kubeflow\.clusters\.1\.kfp: unknown key\(s\): page_sise/);
    expect(err(clusters({ id: 'b', token: 't-b', kfp: { url, token_file: '/nonexistent/kfp-token' } }))).toMatch(/connectors\.kubeflow\.clusters\.1\.kfp\.token_file: cannot read/);
    // One KFP / MLMD is one cluster's: polled for two, its runs would go out twice under two ids.
    expect(err({ kfp: { url }, clusters: [{ id: 'b', kfp: { url: `${url}/` } }] })).toMatch(/connectors\.kubeflow\.clusters\.0\.kfp\.url: .*default cluster/);
    // However its URL is spelt: host case, a default port.
    expect(err({ kfp: { url: 'http://ml-pipeline.kubeflow' }, clusters: [{ id: 'b', kfp: { url: 'http://ML-Pipeline.Kubeflow:80/' } }] })).toMatch(/connectors\.kubeflow\.clusters\.0\.kfp\.url: .*default cluster/);
    // Polled with fetch: only http(s) (ftp:, file: failed at the first poll instead).
    expect(err(clusters({ id: 'b', kfp: { url: 'ftp://kfp.example:21' } }))).toMatch(/connectors\.kubeflow\.clusters\.1\.kfp\.url: must be the http\(s\):\/\/ URL/);
    expect(err({ kfp: { url: 'file:///etc/passwd' } })).toMatch(/connectors\.kubeflow\.kfp\.url: must be the http\(s\):\/\/ URL/);
    expect(err({ clusters: [{ id: 'b', mlmd: { address: 'mlmd:8080' } }, { id: 'c', mlmd: { address: 'mlmd:8080' } }] })).toMatch(/connectors\.kubeflow\.clusters\.1\.mlmd\.address: .*cluster "b"/);
    // However its host is spelt (host names are case-insensitive); another port is another store.
    expect(err({ mlmd: { address: 'MLMD.kubeflow:8080' }, clusters: [{ id: 'b', mlmd: { address: 'mlmd.kubeflow:8080' } }] })).toMatch(/connectors\.kubeflow\.clusters\.0\.mlmd\.address: .*default cluster/);
    expect(err({ clusters: [{ id: 'b', mlmd: { address: '[FD00::1]:8080' } }, { id: 'c', mlmd: { address: '[fd00::1]:8080' } }] })).toMatch(/connectors\.kubeflow\.clusters\.1\.mlmd\.address: .*cluster "b"/);
    expect(err({ mlmd: { address: 'MLMD.kubeflow:8080' }, clusters: [{ id: 'b', mlmd: { address: 'mlmd.kubeflow:9090' } }] })).toBe('no error');
    // A cluster with neither webhook credentials nor pollers configures nothing.
    expect(err(clusters({ id: 'b' }))).toMatch(/connectors\.kubeflow\.clusters\.1: needs token/);
    // Pollers alone need no audit token.
    expect(err({ clusters: [{ id: 'b', kfp: { url } }] })).toBe('no error');
  });

  it("a cluster's MLMD CA file gone between the config check and the start is named by the cluster's key", () => {
    const dir = mkdtempSync(join(tmpdir(), 'kf-cluster-ca-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const ca = join(dir, 'ca.pem');
    copyFileSync(makeTestPki().caFile, ca);
    const h = harness({ clusters: [{ id: 'b', mlmd: { address: 'mlmd.cluster-b:8080', tls: true, ca_file: ca } }] });
    cleanup.push(() => h.close());
    rmSync(ca);
    expect(() => kubeflowConnector.pollers!(h.deps)).toThrow(/^connectors\.kubeflow\.clusters\.0\.mlmd\.ca_file: cannot read .*ENOENT/);
  });
});
