import type { ConnectorDeps } from '../../../core/connector.js';
import { normalizeAndIngest } from '../../../core/ingest.js';
import type { KubeflowConfig } from '../config.js';
import { KFP_RUNS_STATE_NS } from '../mlmd/poller.js';
import { IntervalPoller } from '../source.js';
import { KfpApi, runInfoOf, type Obj } from './client.js';
import { normalizeKfp } from './normalize.js';

export const KFP_CHANNEL = 'kubeflow.kfp';
export const KFP_STATE_NS = 'kubeflow.kfp';
/** Run facts older than this are dropped from the join table. */
const RUN_INFO_TTL_MS = 14 * 24 * 3600_000;

/**
 * Polls the KFP v2beta1 REST API (runs, recurring runs, experiments,
 * pipelines and their versions) and emits creation, state and schedule
 * events. Runs are listed with a server-side `created_at` filter reaching
 * `lookback_h` before the last successful poll, so state changes of recent
 * runs are seen and a downtime shorter than the look-back loses nothing;
 * repeated reads collapse by event id. Run facts (service account, version)
 * are kept in `spool.state` for the MLMD poller to attribute runs.
 *
 * @example
 * new KfpPoller(deps).start();
 */
export class KfpPoller extends IntervalPoller {
  readonly name = KFP_CHANNEL;
  private readonly api: KfpApi;
  private readonly base: string;

  constructor(deps: ConnectorDeps<KubeflowConfig>) {
    const cfg = deps.config.kfp;
    super(deps, (cfg.poll_interval_s ?? deps.config.poll_interval_s) * 1000);
    this.api = new KfpApi(cfg);
    this.base = this.api.base;
  }

  private list(path: string, key: string, query: Record<string, string | undefined>, signal: AbortSignal): Promise<Obj[]> {
    return this.api.list(path, key, query, signal);
  }

  private async ingest(items: Obj[], namespace: string | undefined): Promise<number> {
    if (!items.length) return 0;
    const receivedTime = new Date().toISOString();
    const res = await normalizeAndIngest(
      this.deps.ingest,
      (r) => normalizeKfp(r, { channel: KFP_CHANNEL, receivedTime, keepRaw: this.deps.keepRaw, config: this.deps.config, meta: { namespace } }),
      items,
      KFP_CHANNEL,
      { namespace },
    );
    return res.accepted;
  }

  async pollOnce(signal: AbortSignal): Promise<{ events: number; runs: number }> {
    const cfg = this.deps.config.kfp;
    const started = Date.now();
    const last = this.deps.spool.state.get<number>(KFP_STATE_NS, `last_poll:${this.base}`) ?? started;
    const since = new Date(Math.min(last, started) - cfg.lookback_h * 3600_000).toISOString();
    const runFilter = JSON.stringify({ predicates: [{ key: 'created_at', operation: 'GREATER_THAN', timestamp_value: since }] });
    const namespaces: Array<string | undefined> = cfg.namespaces.length ? cfg.namespaces : [undefined];
    let events = 0;
    let runs = 0;
    for (const namespace of namespaces) {
      const ns = { namespace };
      const experiments = await this.list('experiments', 'experiments', ns, signal);
      events += await this.ingest(experiments, namespace);
      const pipelines = await this.list('pipelines', 'pipelines', ns, signal);
      events += await this.ingest(pipelines, namespace);
      for (const p of pipelines) {
        if (!p.pipeline_id) continue;
        const versions = await this.list(`pipelines/${encodeURIComponent(p.pipeline_id)}/versions`, 'pipeline_versions', { sort_by: 'created_at desc' }, signal);
        events += await this.ingest(versions, p.namespace || namespace);
      }
      const recurring = await this.list('recurringruns', 'recurringRuns', ns, signal);
      events += await this.ingest(recurring, namespace);
      const runList = await this.list('runs', 'runs', { ...ns, sort_by: 'created_at desc', filter: runFilter }, signal);
      runs += runList.length;
      events += await this.ingest(runList, namespace);
      for (const r of runList) {
        if (!r.run_id) continue;
        this.deps.spool.state.set(KFP_RUNS_STATE_NS, r.run_id, runInfoOf(r, namespace, started));
      }
    }
    this.deps.spool.state.set(KFP_STATE_NS, `last_poll:${this.base}`, started);
    if (this.polls % 60 === 0) {
      for (const { key, value } of this.deps.spool.state.list<{ seen?: number }>(KFP_RUNS_STATE_NS)) {
        if ((value.seen ?? 0) < started - RUN_INFO_TTL_MS) this.deps.spool.state.delete(KFP_RUNS_STATE_NS, key);
      }
    }
    return { events, runs };
  }
}
