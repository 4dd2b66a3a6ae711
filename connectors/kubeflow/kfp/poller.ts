import type { ConnectorDeps } from '../../../core/connector.js';
import { normalizeAndIngest } from '../../../core/ingest.js';
import { ofCluster } from '../cluster.js';
import type { KubeflowConfig } from '../config.js';
import { KFP_RUNS_STATE_NS } from '../mlmd/poller.js';
import { IntervalPoller } from '../source.js';
import { KfpApi, MAX_PAGES, runInfoOf, type Obj } from './client.js';
import { kfpRunNamespace, normalizeKfp, specImages, specPackageSourceFacts, type KfpKind } from './normalize.js';

export const KFP_CHANNEL = 'kubeflow.kfp';
export const KFP_STATE_NS = 'kubeflow.kfp';
/** Per listed object (`<base>|<kind>:<id>`): the facts its last committed rendering produced (event ids, `!reason` of quarantines). */
export const KFP_SEEN_STATE_NS = 'kubeflow.kfp.seen';
/** Run facts older than this are dropped from the join table. */
const RUN_INFO_TTL_MS = 14 * 24 * 3600_000;

/** The field holding each kind's own id. */
const ID_FIELD: Record<KfpKind, string> = {
  run: 'run_id',
  recurring_run: 'recurring_run_id',
  pipeline: 'pipeline_id',
  pipeline_version: 'pipeline_version_id',
  experiment: 'experiment_id',
};

/** One poll's view of the objects' facts: as stored (updated on commit), and the keys listed so far. */
interface Seen {
  facts: Map<string, string[]>;
  listed: Set<string>;
}

/**
 * Polls the KFP v2beta1 REST API (runs, recurring runs, experiments,
 * pipelines and their versions) and emits creation, state and schedule
 * events. Runs are listed with a server-side `created_at` filter reaching
 * `lookback_h` before the last successful poll, so state changes of recent
 * runs are seen and a downtime shorter than the look-back loses nothing.
 *
 * Every listing returns every object again, each poll. What an object's last
 * rendering produced (its event ids, and the reasons of anything quarantined)
 * is kept in `spool.state`, written only after those events are committed, and
 * only what is new is emitted: the spool's dedup window (7 days, also bounded
 * by `dedup_max_ids`) would otherwise let every old object out again as a new
 * `*.create` once it expired. A restart re-reads the state, so it neither
 * re-emits nor misses; a crash between commit and state write re-emits what
 * the spool's dedup then collapses. Objects no longer listed (deleted, or runs
 * past the look-back) are forgotten after a complete poll. Run facts (service
 * account, version) are kept in `spool.state` for the MLMD poller to attribute runs.
 *
 * A configured cluster's poller (`cluster`, reading `deps.config.kfp` as that cluster's settings) keeps its state
 * under its own namespaces (`kubeflow.kfp@<cluster>`, …) and emits its events as that cluster's (forCluster).
 *
 * @example
 * new KfpPoller(deps).start();
 */
export class KfpPoller extends IntervalPoller {
  readonly name: string;
  override readonly channel = KFP_CHANNEL;
  /** State namespaces: the default cluster's as they always were, a configured cluster's its own. */
  private readonly ns: { poll: string; seen: string; runs: string };
  private readonly api: KfpApi;
  private readonly base: string;
  /** Pipeline version id → its images, from the versions listed: a run of a version carries no spec of its own. */
  private readonly versionImages = new Map<string, string[]>();
  /** Pipeline version id → its package sources (indexes, URL requirements of its pip installs), as for its images. */
  private readonly versionPackageSources = new Map<string, string[]>();
  /** Pipeline version id → the package sources its pip installs name but do not show (`-i $IDX`, an env `valueFrom`). */
  private readonly versionHiddenSources = new Map<string, string[]>();
  /** Experiment id → its namespace, from this poll's listings: a run executes in its experiment's namespace. */
  private readonly experimentNamespaces = new Map<string, string>();

  constructor(deps: ConnectorDeps<KubeflowConfig>, cluster?: string) {
    const cfg = deps.config.kfp;
    super(deps, (cfg.poll_interval_s ?? deps.config.poll_interval_s) * 1000, cluster);
    this.name = ofCluster(KFP_CHANNEL, cluster);
    this.ns = { poll: ofCluster(KFP_STATE_NS, cluster), seen: ofCluster(KFP_SEEN_STATE_NS, cluster), runs: ofCluster(KFP_RUNS_STATE_NS, cluster) };
    this.api = new KfpApi(cfg);
    this.api.onRetry = (info) => this.noteRetry(info);
    this.base = this.api.base;
  }

  /** Where an object's facts are kept; undefined for an object without its id (then only the spool's dedup applies). */
  private key(kind: KfpKind, item: Obj): string | undefined {
    const id = item[ID_FIELD[kind]];
    return typeof id === 'string' && id ? `${this.base}|${kind}:${id}` : undefined;
  }

  /**
   * What the normalizer needs to know about a listing. Single-user mode (no
   * `kfp.namespaces`) names KFP's own namespace, where a run whose experiment has
   * none executes: its service account is then `system:serviceaccount:<ns>:<sa>`,
   * as the audit webhook and the MLMD poller name it.
   */
  private meta(namespace: string | undefined): Record<string, unknown> {
    const cfg = this.deps.config.kfp;
    return {
      namespace,
      version_images: this.versionImages,
      version_package_sources: this.versionPackageSources,
      version_package_sources_unverifiable: this.versionHiddenSources,
      experiment_namespaces: this.experimentNamespaces,
      install_namespace: cfg.namespaces.length ? undefined : cfg.install_namespace,
    };
  }

  /**
   * Emit what is new about these objects (see the class comment), then, once
   * committed, remember what each now produces in `seen` and the state.
   */
  private async ingest(kind: KfpKind, items: Obj[], namespace: string | undefined, seen: Seen): Promise<number> {
    if (!items.length) return 0;
    const receivedTime = new Date().toISOString();
    const changed = new Map<string, string[]>();
    const normalize = (r: unknown) => {
      const raw = normalizeKfp(r, { channel: KFP_CHANNEL, receivedTime, keepRaw: this.deps.keepRaw, config: this.deps.config, meta: this.meta(namespace) });
      // Scoped before the facts are taken: what is remembered is the ids that were committed.
      const out = { ...raw, events: raw.events.map((e) => this.own(e)) };
      const key = this.key(kind, r as Obj);
      if (!key) return out;
      seen.listed.add(key);
      const facts = [...out.events.map((e) => e.id), ...out.rejected.map((x) => `!${x.reason}`)].sort();
      const before = new Set(seen.facts.get(key) ?? []);
      if (facts.length === before.size && facts.every((f) => before.has(f))) return { events: [], rejected: [], skipped: out.skipped };
      changed.set(key, facts);
      return { events: out.events.filter((e) => !before.has(e.id)), rejected: out.rejected.filter((x) => !before.has(`!${x.reason}`)), skipped: out.skipped };
    };
    // durably: what was quarantined is on disk too before the state says it was handled.
    const res = await this.deps.ingest.durably(() => normalizeAndIngest(this.deps.ingest, normalize, items, KFP_CHANNEL, { namespace }));
    if (changed.size) {
      this.deps.spool.transaction(() => {
        for (const [key, facts] of changed) this.deps.spool.state.set(this.ns.seen, key, facts);
      });
      for (const [key, facts] of changed) seen.facts.set(key, facts);
    }
    return res.accepted;
  }

  /** Forget objects this complete poll did not list: deleted, or runs now past the look-back. */
  private forget(seen: Seen, stored: string[]): void {
    const gone = stored.filter((k) => !seen.listed.has(k));
    if (!gone.length) return;
    this.deps.spool.transaction(() => {
      for (const key of gone) this.deps.spool.state.delete(this.ns.seen, key);
    });
  }

  async pollOnce(signal: AbortSignal): Promise<{ events: number; runs: number }> {
    const cfg = this.deps.config.kfp;
    const started = Date.now();
    const last = this.deps.spool.state.get<number>(this.ns.poll, `last_poll:${this.base}`) ?? started;
    const since = new Date(Math.min(last, started) - cfg.lookback_h * 3600_000).toISOString();
    const runFilter = JSON.stringify({ predicates: [{ key: 'created_at', operation: 'GREATER_THAN', timestamp_value: since }] });
    const namespaces: Array<string | undefined> = cfg.namespaces.length ? cfg.namespaces : [undefined];
    const stored = this.deps.spool.state.list<string[]>(this.ns.seen, `${this.base}|`);
    // Rebuilt each poll from the experiments listed before the runs (deleted experiments drop out).
    this.experimentNamespaces.clear();
    const seen: Seen = { facts: new Map(stored.map(({ key, value }) => [key, value])), listed: new Set() };
    // A listing cut at the page bound is not the whole set: forgetting what it missed would re-emit it later.
    let complete = true;
    const list = async (path: string, key: string, query: Record<string, string | undefined>) => {
      const items = await this.api.list(path, key, query, signal);
      if (items.length >= MAX_PAGES * cfg.page_size) complete = false;
      return items;
    };
    let events = 0;
    let runs = 0;
    const listedVersions = new Set<string>();
    for (const namespace of namespaces) {
      const ns = { namespace };
      const experiments = await list('experiments', 'experiments', ns);
      for (const e of experiments) if (typeof e.experiment_id === 'string' && typeof e.namespace === 'string' && e.namespace) this.experimentNamespaces.set(e.experiment_id, e.namespace);
      events += await this.ingest('experiment', experiments, namespace, seen);
      const pipelines = await list('pipelines', 'pipelines', ns);
      events += await this.ingest('pipeline', pipelines, namespace, seen);
      for (const p of pipelines) {
        if (!p.pipeline_id) continue;
        const versions = await list(`pipelines/${encodeURIComponent(p.pipeline_id)}/versions`, 'pipeline_versions', { sort_by: 'created_at desc' });
        for (const v of versions) {
          if (typeof v.pipeline_version_id !== 'string') continue;
          listedVersions.add(v.pipeline_version_id);
          this.versionImages.set(v.pipeline_version_id, specImages(v.pipeline_spec));
          const facts = specPackageSourceFacts(v.pipeline_spec);
          this.versionPackageSources.set(v.pipeline_version_id, facts.sources);
          this.versionHiddenSources.set(v.pipeline_version_id, facts.unverifiable);
        }
        events += await this.ingest('pipeline_version', versions, p.namespace || namespace, seen);
      }
      const recurring = await list('recurringruns', 'recurringRuns', ns);
      events += await this.ingest('recurring_run', recurring, namespace, seen);
      const runList = await list('runs', 'runs', { ...ns, sort_by: 'created_at desc', filter: runFilter });
      runs += runList.length;
      events += await this.ingest('run', runList, namespace, seen);
      for (const r of runList) {
        if (!r.run_id) continue;
        this.deps.spool.state.set(this.ns.runs, r.run_id, runInfoOf(r, kfpRunNamespace(r, this.meta(namespace)), started));
      }
    }
    if (complete && !signal.aborted) {
      this.forget(seen, stored.map((s) => s.key));
      for (const id of [...this.versionImages.keys()]) if (!listedVersions.has(id)) this.versionImages.delete(id);
      for (const id of [...this.versionPackageSources.keys()]) if (!listedVersions.has(id)) this.versionPackageSources.delete(id);
      for (const id of [...this.versionHiddenSources.keys()]) if (!listedVersions.has(id)) this.versionHiddenSources.delete(id);
    }
    this.deps.spool.state.set(this.ns.poll, `last_poll:${this.base}`, started);
    if (this.polls % 60 === 0) {
      for (const { key, value } of this.deps.spool.state.list<{ seen?: number }>(this.ns.runs)) {
        if ((value.seen ?? 0) < started - RUN_INFO_TTL_MS) this.deps.spool.state.delete(this.ns.runs, key);
      }
    }
    return { events, runs };
  }
}
