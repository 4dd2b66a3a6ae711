import { readFileSync } from 'node:fs';
import { retryOperation, type AttemptInfo, type RetryPolicy } from '../../../core/retry/index.js';
import { DeliveryError, parseRetryAfter } from '../../../core/sink.js';
import { kfpBase, type KubeflowConfig } from '../config.js';
import type { RunInfo } from '../mlmd/normalize.js';

export type Obj = Record<string, any>;

/** Safety bound on pages per listing. */
export const MAX_PAGES = 200;

/** An HTTP answer that was not 2xx (kept so a caller can tell "no such run" from an outage). */
export class KfpHttpError extends DeliveryError {
  constructor(message: string, readonly status: number, retryable: boolean, retryAfterMs?: number) {
    super(message, retryable, retryAfterMs);
  }
}

/**
 * Read-only client of the KFP v2beta1 REST API with the configured auth
 * (bearer token, a token file re-read per request, or an identity header).
 * Shared by the KFP poller and the MLMD poller's run look-up.
 *
 * @example
 * const kfp = new KfpApi(cfg.kfp);
 * const run = await kfp.getRun('5d3c…', signal); // undefined when KFP does not know it
 */
export class KfpApi {
  readonly base: string;
  private readonly retry: RetryPolicy;

  /** Told of each retried attempt (the poller reads degraded meanwhile), and (undefined) of each request that succeeds. */
  onRetry?: (info: AttemptInfo | undefined) => void;

  constructor(private readonly cfg: KubeflowConfig['kfp']) {
    this.base = kfpBase(cfg.url!);
    this.retry = { initialMs: 500, maxMs: 10_000, requestTimeoutMs: cfg.timeout_ms, maxAttempts: 4 };
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json' };
    const token = this.cfg.token_file ? readFileSync(this.cfg.token_file, 'utf8').trim() : this.cfg.token;
    if (token) h.authorization = `Bearer ${token}`;
    if (this.cfg.user_header && this.cfg.user) h[this.cfg.user_header.toLowerCase()] = this.cfg.user;
    return h;
  }

  /** GET a v2beta1 path; 408/429/5xx/network errors are retried, other 4xx are not. */
  get(path: string, query: Record<string, string | undefined>, signal: AbortSignal): Promise<Obj> {
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
            const body = JSON.parse(text) as { message?: string; error?: string };
            msg = body.message ?? body.error ?? msg;
          } catch { /* not JSON */ }
          throw new KfpHttpError(`KFP GET ${url.pathname}: HTTP ${res.status}: ${msg}`, res.status, retryable, parseRetryAfter(res.headers.get('retry-after')));
        }
        try {
          return JSON.parse(text || '{}') as Obj;
        } catch (err) {
          throw new DeliveryError(`KFP GET ${url.pathname}: response is not JSON: ${(err as Error).message}`, false);
        }
      },
      this.retry,
      signal,
      (info) => this.onRetry?.(info),
    ).then((out) => {
      this.onRetry?.(undefined);
      return out;
    });
  }

  /** Every item of a paged listing (`next_page_token` until empty). */
  async list(path: string, key: string, query: Record<string, string | undefined>, signal: AbortSignal): Promise<Obj[]> {
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

  /** One run by id; undefined when KFP answers 404 (a v1 run, or deleted). */
  async getRun(runId: string, signal: AbortSignal): Promise<Obj | undefined> {
    try {
      return await this.get(`runs/${encodeURIComponent(runId)}`, {}, signal);
    } catch (err) {
      if (err instanceof KfpHttpError && err.status === 404) return undefined;
      throw err;
    }
  }
}

/** The facts of a KFP run the MLMD events are joined with (who launched it, from which version). */
export function runInfoOf(r: Obj, namespace: string | undefined, seen: number): RunInfo & { seen: number } {
  return {
    service_account: r.service_account || undefined,
    namespace,
    experiment_id: r.experiment_id || undefined,
    pipeline_id: r.pipeline_version_reference?.pipeline_id || undefined,
    pipeline_version_id: r.pipeline_version_reference?.pipeline_version_id || r.pipeline_version_id || undefined,
    display_name: r.display_name || undefined,
    seen,
  };
}
