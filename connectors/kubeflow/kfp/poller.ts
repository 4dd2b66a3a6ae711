import { readFileSync } from 'node:fs';
import type { ConnectorDeps } from '../../../core/connector.js';
import { normalizeAndIngest } from '../../../core/ingest.js';
import { retryOperation, type RetryPolicy } from '../../../core/retry/index.js';
import { DeliveryError, parseRetryAfter } from '../../../core/sink.js';
import type { KubeflowConfig } from '../config.js';
import { KFP_RUNS_STATE_NS } from '../mlmd/poller.js';
import type { RunInfo } from '../mlmd/normalize.js';
import { IntervalPoller } from '../source.js';
import { normalizeKfp } from './normalize.js';

export const KFP_CHANNEL = 'kubeflow.kfp';
export const KFP_STATE_NS = 'kubeflow.kfp';
/** Run facts older than this are dropped from the join table. */
const RUN_INFO_TTL_MS = 14 * 24 * 3600_000;
/** Safety bound on pages per listing and poll. */
const MAX_PAGES = 200;

type Obj = Record<string, any>;

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
  private readonly cfg: KubeflowConfig['kfp'];
  private readonly retry: RetryPolicy;
  private readonly base: string;

  constructor(deps: ConnectorDeps<KubeflowConfig>) {
    const cfg = deps.config.kfp;
    super(deps, (cfg.poll_interval_s ?? deps.config.poll_interval_s) * 1000);
    this.cfg = cfg;
    this.base = cfg.url!.replace(/\/+$/, '');
    this.retry = { initialMs: 500, maxMs: 10_000, requestTimeoutMs: cfg.timeout_ms, maxAttempts: 4 };
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json' };
    const token = this.cfg.token_file ? readFileSync(this.cfg.token_file, 'utf8').trim() : this.cfg.token;
    if (token) h.authorization = `Bearer ${token}`;
    if (this.cfg.user_header && this.cfg.user) h[this.cfg.user_header.toLowerCase()] = this.cfg.user;
    return h;
  }

  /** GET a v2beta1 path; 429/5xx/network errors are retried, other 4xx are not. */
  private get(path: string, query: Record<string, string | undefined>, signal: AbortSignal): Promise<Obj> {
    const url = new URL(`${this.base}/apis/v2beta1/${path}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') url.searchParams.set(k, v);
    return retryOperation(
      async (s) => {
        const res = await fetch(url, { headers: this.headers(), signal: s });
        const text = await res.text();
        if (!res.ok) {
          const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
          let msg = text.slice(0, 300);
          try {
            msg = (JSON.parse(text) as { message?: string; error?: string }).message ?? (JSON.parse(text) as { error?: string }).error ?? msg;
          } catch { /* not JSON */ }
          throw new DeliveryError(`KFP GET ${url.pathname}: HTTP ${res.status}: ${msg}`, retryable, parseRetryAfter(res.headers.get('retry-after')));
        }
        try {
          return JSON.parse(text || '{}') as Obj;
        } catch (err) {
          throw new DeliveryError(`KFP GET ${url.pathname}: response is not JSON: ${(err as Error).message}`, false);
        }
      },
      this.retry,
      signal,
    );
  }

  /** Every item of a paged listing (`next_page_token` until empty). */
  private async list(path: string, key: string, query: Record<string, string | undefined>, signal: AbortSignal): Promise<Obj[]> {
    const out: Obj[] = [];
    let token: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await this.get(path, { ...query, page_size: String(this.cfg.page_size), page_token: token }, signal);
      out.push(...((body[key] as Obj[] | undefined) ?? []));
      token = body.next_page_token || undefined;
      if (!token) break;
    }
    return out;
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
    const started = Date.now();
    const last = this.deps.spool.state.get<number>(KFP_STATE_NS, `last_poll:${this.base}`) ?? started;
    const since = new Date(Math.min(last, started) - this.cfg.lookback_h * 3600_000).toISOString();
    const runFilter = JSON.stringify({ predicates: [{ key: 'created_at', operation: 'GREATER_THAN', timestamp_value: since }] });
    const namespaces: Array<string | undefined> = this.cfg.namespaces.length ? this.cfg.namespaces : [undefined];
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
        const info: RunInfo & { seen: number } = {
          service_account: r.service_account || undefined,
          namespace,
          experiment_id: r.experiment_id || undefined,
          pipeline_id: r.pipeline_version_reference?.pipeline_id || undefined,
          pipeline_version_id: r.pipeline_version_reference?.pipeline_version_id || r.pipeline_version_id || undefined,
          display_name: r.display_name || undefined,
          seen: started,
        };
        this.deps.spool.state.set(KFP_RUNS_STATE_NS, r.run_id, info);
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
