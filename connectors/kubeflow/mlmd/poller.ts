import type { ConnectorDeps } from '../../../core/connector.js';
import { describe, retryOperation, type RetryPolicy } from '../../../core/retry/index.js';
import { ofCluster } from '../cluster.js';
import type { KubeflowConfig } from '../config.js';
import { KfpApi, KfpHttpError, runInfoOf } from '../kfp/client.js';
import { IntervalPoller } from '../source.js';
import { MlmdClient } from './client.js';
import { normalizeMlmdRun, type RunGraph, type RunInfo } from './normalize.js';
import { customString, type ListOptions, type MlmdContext, type MlmdExecution } from './types.js';

export const MLMD_STATE_NS = 'kubeflow.mlmd';
/** Where the KFP REST poller leaves run facts (service account, version) for the MLMD poller to join. */
export const KFP_RUNS_STATE_NS = 'kubeflow.kfp.runs';
export const MLMD_CHANNEL = 'kubeflow.mlmd';

/** Position of the incremental read: last update time seen, and the ids already handled at that instant. */
export interface MlmdCursor {
  t: number;
  ids: string[];
}

/** A run whose events wait for KFP to say who launched it. */
class JoinDeferred extends Error {}

/** How long a run KFP refused to show (403) goes out unattributed before it is asked again (RBAC may be fixed). */
const DENIED_TTL_MS = 3600_000;

const CHUNK = 500;
const chunks = <T>(xs: T[]) => Array.from({ length: Math.ceil(xs.length / CHUNK) }, (_, i) => xs.slice(i * CHUNK, (i + 1) * CHUNK));

/**
 * Polls ML Metadata for executions updated since the cursor
 * (`last_update_time_since_epoch`, ascending, paged), loads each touched run's
 * graph (contexts, executions, events, artifacts), emits run/step/artifact
 * events and only then advances the cursor, page by page.
 *
 * Attribution (the run's service account and pipeline version) comes from KFP.
 * Both pollers start together, so the KFP poller has often not listed a run yet
 * when its first MLMD executions appear, and MLMD events are emitted once (stable
 * ids). So a run missing from the KFP join table is looked up by id
 * (`GET /apis/v2beta1/runs/{id}`) before its events go out. While KFP cannot
 * answer, the page is left unread (cursor kept, health degraded) for up to
 * `kfp_join_wait_s`, then events go out unattributed: a KFP outage delays MLMD
 * telemetry boundedly but never stops it. 401 (the bridge's KFP credentials)
 * counts as KFP not answering: one bounded wait for the whole source. A run KFP
 * does not know (404: v1 or deleted) or will not show (403: a namespace the
 * bridge may not read, common in multi-user installs) is emitted at once,
 * unattributed — waiting cannot change KFP's answer, and holding the page would
 * hold every other run's events behind it. A 403 run is not asked again for an
 * hour.
 *
 * A configured cluster's poller (`cluster`, reading `deps.config.mlmd` and `.kfp` as that cluster's settings) keeps
 * its cursor and reads its run facts under its own namespaces (`kubeflow.mlmd@<cluster>`,
 * `kubeflow.kfp.runs@<cluster>`: run ids of two clusters' KFPs are not one run) and emits its events as that
 * cluster's (forCluster).
 *
 * @example
 * const p = new MlmdPoller(deps); p.start(); … await p.stop();
 */
export class MlmdPoller extends IntervalPoller {
  readonly name: string;
  override readonly channel = MLMD_CHANNEL;
  /** State namespaces: the default cluster's as they always were, a configured cluster's its own. */
  private readonly ns: { cursor: string; runs: string };
  readonly client: MlmdClient;
  private readonly cfg: KubeflowConfig['mlmd'];
  private readonly retry: RetryPolicy;
  private readonly kfp?: KfpApi;
  /** Since when KFP run look-ups fail (undefined: they work). */
  private kfpFailingSince?: number;
  /** Why events are held (a run look-up waits); set until a poll completes without holding any. */
  private deferred?: string;
  /** Runs KFP answered 403 for → when to ask again. */
  private readonly denied = new Map<string, number>();

  constructor(deps: ConnectorDeps<KubeflowConfig>, opts: { client?: MlmdClient; cluster?: string } = {}) {
    const cfg = deps.config.mlmd;
    const { client, cluster } = opts;
    super(deps, (cfg.poll_interval_s ?? deps.config.poll_interval_s) * 1000, cluster);
    this.name = ofCluster(MLMD_CHANNEL, cluster);
    this.ns = { cursor: ofCluster(MLMD_STATE_NS, cluster), runs: ofCluster(KFP_RUNS_STATE_NS, cluster) };
    this.cfg = cfg;
    const index = cluster === undefined ? -1 : deps.config.clusters.findIndex((c) => c.id === cluster);
    const caFileKey = index < 0 ? undefined : `connectors.kubeflow.clusters.${index}.mlmd.ca_file`;
    this.client = client ?? new MlmdClient(cfg.address!, { tls: cfg.tls, caFile: cfg.ca_file, timeoutMs: cfg.timeout_ms, caFileKey });
    this.retry = { initialMs: 500, maxMs: 10_000, requestTimeoutMs: cfg.timeout_ms + 1000, maxAttempts: 4 };
    if (deps.config.kfp.url) {
      this.kfp = new KfpApi(deps.config.kfp);
      this.kfp.onRetry = (info) => this.noteRetry(info);
    }
  }

  private get cursorKey(): string {
    return `cursor:${this.client.address}`;
  }

  cursor(): MlmdCursor {
    return this.deps.spool.state.get<MlmdCursor>(this.ns.cursor, this.cursorKey) ?? { t: Math.max(0, Date.now() - this.cfg.initial_lookback_h * 3600_000), ids: [] };
  }

  private rpc<T>(op: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    return retryOperation(op, this.retry, signal, (info) => this.noteRetry(info)).then((out) => {
      this.noteRetry(undefined);
      return out;
    });
  }

  /** @returns counts of executions read and events committed. */
  async pollOnce(signal: AbortSignal): Promise<{ executions: number; events: number; pages: number; deferred?: string }> {
    // `deferred` is not cleared here: the held page is still held while this poll runs (health stays degraded).
    const cur = this.cursor();
    // The page token embeds these options; every page repeats them unchanged.
    const options: ListOptions = {
      max_result_size: this.cfg.page_size,
      order_by_field: { field: 'LAST_UPDATE_TIME', is_asc: true },
      filter_query: `last_update_time_since_epoch >= ${cur.t}`,
    };
    const stats = { executions: 0, events: 0, pages: 0 };
    let token: string | undefined;
    do {
      const page = await this.rpc((s) => this.client.getExecutions(token ? { ...options, next_page_token: token } : options, s), signal);
      stats.pages++;
      const executions = page.executions ?? [];
      const fresh = executions.filter((e) => !(Number(e.last_update_time_since_epoch) === cur.t && cur.ids.includes(e.id)));
      stats.executions += fresh.length;
      if (fresh.length) {
        try {
          stats.events += await this.process(fresh, signal);
        } catch (err) {
          if (!(err instanceof JoinDeferred)) throw err;
          // The cursor stays before this page: it is read again next poll (committed runs dedupe by id).
          this.deferred = err.message;
          this.deps.logger.warn({ poller: this.name, reason: err.message }, 'MLMD events wait for the KFP run look-up');
          return { ...stats, deferred: err.message };
        }
      }
      for (const e of executions) {
        const t = Number(e.last_update_time_since_epoch ?? 0);
        if (t > cur.t) {
          cur.t = t;
          cur.ids = [e.id];
        } else if (t === cur.t && !cur.ids.includes(e.id)) cur.ids.push(e.id);
      }
      this.deps.spool.state.set(this.ns.cursor, this.cursorKey, cur);
      token = page.next_page_token || undefined;
    } while (token && !signal.aborted);
    if (!signal.aborted) this.deferred = undefined;
    return stats;
  }

  /** Emit the events of these changed executions, one run at a time; resolves after commit. */
  private async process(executions: MlmdExecution[], signal: AbortSignal): Promise<number> {
    const runs = new Map<string, { run: MlmdContext; pipeline?: MlmdContext; changed: Set<string> }>();
    for (const x of executions) {
      const contexts = await this.rpc((s) => this.client.getContextsByExecution(x.id, s), signal);
      const run = contexts.find((c) => c.type === 'system.PipelineRun');
      if (!run) {
        this.deps.logger.debug({ execution: x.id, type: x.type }, 'MLMD execution outside a KFP v2 run; skipped');
        continue;
      }
      const entry = runs.get(run.id) ?? { run, pipeline: contexts.find((c) => c.type === 'system.Pipeline'), changed: new Set<string>() };
      entry.changed.add(x.id);
      runs.set(run.id, entry);
    }
    let committed = 0;
    for (const { run, pipeline, changed } of runs.values()) {
      const graph = await this.loadGraph(run, pipeline, signal);
      const info = await this.runInfo(run, signal);
      const events = normalizeMlmdRun(graph, changed, { channel: MLMD_CHANNEL, receivedTime: new Date().toISOString(), keepRaw: this.deps.keepRaw }, info).map((e) => this.own(e));
      const res = await this.deps.ingest.ingest(events, MLMD_CHANNEL);
      committed += res.accepted.length;
    }
    return committed;
  }

  /** KFP's facts of a run: from the join table, else asked of KFP (and stored there); see the class comment. */
  private async runInfo(run: MlmdContext, signal: AbortSignal): Promise<RunInfo | undefined> {
    if (!run.name) return undefined;
    const known = this.deps.spool.state.get<RunInfo>(this.ns.runs, run.name);
    if (known || !this.kfp) return known;
    if ((this.denied.get(run.name) ?? 0) > Date.now()) return undefined;
    let found;
    try {
      found = await this.kfp.getRun(run.name, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      const now = Date.now();
      if (err instanceof KfpHttpError && err.status === 403) {
        // Final for this run, like 404. Not a sign about KFP's health either way: kfpFailingSince is left as it is.
        for (const [id, until] of this.denied) if (until <= now) this.denied.delete(id);
        this.denied.set(run.name, now + DENIED_TTL_MS);
        this.deps.logger.warn({ poller: this.name, run: run.name, namespace: customString(run, 'namespace') || undefined, err: describe(err) }, 'KFP refuses to show this run (403): its MLMD events go out without the KFP actor and pipeline version');
        return undefined;
      }
      this.kfpFailingSince ??= now;
      const waited = now - this.kfpFailingSince;
      if (waited < this.cfg.kfp_join_wait_s * 1000) {
        throw new JoinDeferred(`KFP run ${run.name} cannot be looked up (${describe(err)}); its MLMD events wait up to ${this.cfg.kfp_join_wait_s}s for the service account and pipeline version`);
      }
      this.deps.logger.warn({ poller: this.name, run: run.name, err: describe(err), waited_s: Math.round(waited / 1000) }, 'KFP run look-up still failing: MLMD events go out without the KFP actor and pipeline version');
      return undefined;
    }
    this.kfpFailingSince = undefined;
    if (!found) {
      this.deps.logger.debug({ run: run.name }, 'KFP does not know this MLMD run (v1 or deleted): no KFP attribution');
      return undefined;
    }
    const info = runInfoOf(found, customString(run, 'namespace') || undefined, Date.now());
    this.deps.spool.state.set(this.ns.runs, run.name, info);
    return info;
  }

  override health(): { state: 'healthy' | 'degraded' | 'unhealthy'; reason?: string } {
    const h = super.health();
    // Held events say more than a request being retried.
    return h.state !== 'unhealthy' && this.deferred ? { state: 'degraded', reason: this.deferred } : h;
  }

  private async loadGraph(run: MlmdContext, pipeline: MlmdContext | undefined, signal: AbortSignal): Promise<RunGraph> {
    if (!pipeline) {
      const parents = await this.rpc((s) => this.client.getParentContextsByContext(run.id, s), signal);
      pipeline = parents.find((c) => c.type === 'system.Pipeline');
    }
    const executions: MlmdExecution[] = [];
    const options: ListOptions = { max_result_size: 100, order_by_field: { field: 'ID', is_asc: true } };
    let token: string | undefined;
    do {
      const page = await this.rpc((s) => this.client.getExecutionsByContext(run.id, token ? { ...options, next_page_token: token } : options, s), signal);
      executions.push(...(page.executions ?? []));
      token = page.next_page_token || undefined;
    } while (token);
    const events = [];
    for (const ids of chunks(executions.map((x) => x.id))) events.push(...(await this.rpc((s) => this.client.getEventsByExecutionIds(ids, s), signal)));
    const artifactIds = [...new Set(events.map((e) => e.artifact_id).filter((id): id is string => !!id))];
    const artifacts = [];
    for (const ids of chunks(artifactIds)) artifacts.push(...(await this.rpc((s) => this.client.getArtifactsById(ids, s), signal)));
    return { run, pipeline, executions, events, artifacts };
  }

  override async stop(): Promise<void> {
    await super.stop();
    this.client.close();
  }
}
