import type { Readable } from 'node:stream';
import type * as Undici from 'undici';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { lazyRequire } from '../../core/lazy-require.js';
import { retryOperation, type RetryPolicy } from '../../core/retry/index.js';
import { DeliveryError, parseRetryAfter } from '../../core/sink.js';
import { safeUri } from './uri.js';

/** undici, loaded when a client is made (the registry auditor in `serve`), not by every command. */
const undici = lazyRequire<typeof Undici>('undici');

/**
 * A small typed client for the parts of the MLflow REST API the registry
 * auditor reads (no maintained TS client covers the OSS registry). Every call
 * goes through core/retry; failures surface as `MlflowApiError` carrying the
 * HTTP status and MLflow's `error_code`, never as a silent empty result.
 */

/** int64 fields arrive as JSON numbers on current servers, as strings on some: accept both. */
const int64 = z.union([z.number(), z.string().regex(/^-?\d+$/)]).transform(Number);
const KeyValue = z.looseObject({ key: z.string(), value: z.string().optional().default('') });

export const ModelVersion = z.looseObject({
  name: z.string(),
  version: z.union([z.string(), z.number()]).transform(String),
  creation_timestamp: int64.optional(),
  last_updated_timestamp: int64.optional(),
  user_id: z.string().optional(),
  current_stage: z.string().optional(),
  description: z.string().optional(),
  source: z.string().optional(),
  run_id: z.string().optional(),
  status: z.string().optional(),
  status_message: z.string().optional(),
  tags: z.array(KeyValue).optional(),
  aliases: z.array(z.string()).optional(),
  run_link: z.string().optional(),
  model_id: z.string().optional(),
});
export type ModelVersion = z.infer<typeof ModelVersion>;

/**
 * A registry webhook (MLflow 3.3+, `mlflow/protos/webhooks.proto` `Webhook`): `events` as `{entity, action}` enum
 * names (`MODEL_VERSION`, `CREATED`), `status` `ACTIVE` or `DISABLED`; the secret is never returned.
 */
export const RegistryWebhook = z.looseObject({
  webhook_id: z.string(),
  name: z.string().optional(),
  description: z.string().optional(),
  url: z.string().optional(),
  events: z.array(z.looseObject({ entity: z.string(), action: z.string() })).optional(),
  status: z.string().optional(),
  creation_timestamp: int64.optional(),
  last_updated_timestamp: int64.optional(),
});
export type RegistryWebhook = z.infer<typeof RegistryWebhook>;

export const RegisteredModel = z.looseObject({
  name: z.string(),
  creation_timestamp: int64.optional(),
  last_updated_timestamp: int64.optional(),
  user_id: z.string().optional(),
  description: z.string().optional(),
  tags: z.array(KeyValue).optional(),
  aliases: z.array(z.looseObject({ alias: z.string(), version: z.union([z.string(), z.number()]).transform(String) })).optional(),
});
export type RegisteredModel = z.infer<typeof RegisteredModel>;

export const Run = z.looseObject({
  info: z.looseObject({
    run_id: z.string().optional(),
    run_uuid: z.string().optional(),
    run_name: z.string().optional(),
    experiment_id: z.string().optional(),
    user_id: z.string().optional(),
    status: z.string().optional(),
    start_time: int64.optional(),
    end_time: int64.optional(),
    artifact_uri: z.string().optional(),
    lifecycle_stage: z.string().optional(),
  }),
  data: z
    .looseObject({
      metrics: z.array(z.looseObject({ key: z.string(), value: z.union([z.number(), z.string()]).transform(Number), step: int64.optional(), timestamp: int64.optional() })).optional(),
      params: z.array(KeyValue).optional(),
      tags: z.array(KeyValue).optional(),
    })
    .optional(),
  inputs: z
    .looseObject({
      dataset_inputs: z
        .array(z.looseObject({ dataset: z.looseObject({ name: z.string().optional(), digest: z.string().optional(), source_type: z.string().optional(), source: z.string().optional(), schema: z.string().optional(), profile: z.string().optional() }).optional(), tags: z.array(KeyValue).optional() }))
        .optional(),
    })
    .optional(),
});
export type Run = z.infer<typeof Run>;

/**
 * An MLflow 3 logged model (`GetLoggedModel` → `model {info, data}`): only what the auditor reads. `data.metrics` are
 * the model's metrics from every run that logged one for it (`mlflow.evaluate` / `mlflow.genai.evaluate` of
 * `models:/m-…` run in their own run), each naming its run and dataset.
 */
export const LoggedModel = z.looseObject({
  info: z.looseObject({ model_id: z.string(), experiment_id: z.string().optional(), source_run_id: z.string().optional(), artifact_uri: z.string().optional() }),
  data: z
    .looseObject({
      metrics: z
        .array(z.looseObject({
          key: z.string(), value: z.union([z.number(), z.string()]).transform(Number), step: int64.optional(), timestamp: int64.optional(),
          run_id: z.string().optional(), dataset_name: z.string().optional(), dataset_digest: z.string().optional(),
        }))
        .optional(),
    })
    .optional(),
});
export type LoggedModel = z.infer<typeof LoggedModel>;

export const FileInfo = z.looseObject({ path: z.string(), is_dir: z.boolean().optional(), file_size: int64.optional() });
export type FileInfo = z.infer<typeof FileInfo>;

const page = <T extends z.ZodType>(key: string, item: T) =>
  z.looseObject({ [key]: z.array(item).optional(), next_page_token: z.string().optional() }) as unknown as z.ZodType<{ [k: string]: unknown; next_page_token?: string }>;

export class MlflowApiError extends DeliveryError {
  constructor(
    message: string,
    /** HTTP status, undefined for network failures. */
    readonly status: number | undefined,
    /** MLflow's `error_code` (RESOURCE_DOES_NOT_EXIST, …) when the body had one. */
    readonly errorCode: string | undefined,
    retryable: boolean,
    retryAfterMs?: number,
  ) {
    super(message, retryable, retryAfterMs);
    this.name = 'MlflowApiError';
  }
  /** 401/403: credentials missing, wrong, or lacking permission. */
  get isAuth(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

export interface MlflowClientOptions {
  trackingUri: string;
  username?: string;
  password?: string;
  token?: string;
  retry: RetryPolicy;
  dispatcher?: Dispatcher;
  /**
   * `mlflow server --static-prefix` (`/mlflow`): MLflow serves its UI routes (`/ajax-api/…`, `/get-artifact`) under it
   * and its REST API (`/api/…`) without it, so only the former get it.
   */
  staticPrefix?: string;
  /** The workspace every request is made in (`X-MLFLOW-WORKSPACE`, servers with MLFLOW_ENABLE_WORKSPACES); the server's default when unset. */
  workspace?: string;
}

/** The header that selects the workspace of a request (WORKSPACE_HEADER_NAME, mlflow/utils/workspace_utils.py). */
export const WORKSPACE_HEADER = 'x-mlflow-workspace';

export class MlflowClient {
  private readonly base: string;
  private readonly auth?: string;

  constructor(private readonly opts: MlflowClientOptions) {
    undici(); // loaded here, where a library that cannot load stops the start (not at the first poll)
    // Credentials written into the URI (http://user:password@host) are used as Basic auth, as
    // MLflow's Python client (requests) does, and kept out of the base: it appears in messages.
    const u = new URL(opts.trackingUri);
    const [user, pass] = [decodeURIComponent(u.username), decodeURIComponent(u.password)];
    u.username = '';
    u.password = '';
    this.base = u.toString().replace(/\/+$/, '');
    if (opts.username) this.auth = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
    else if (opts.token) this.auth = `Bearer ${opts.token}`;
    else if (user) this.auth = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  }

  /** What MLflow's UI routes are under: the server's `--static-prefix`, without a trailing `/` (none: ''). */
  private get uiPrefix(): string {
    return (this.opts.staticPrefix ?? '').replace(/\/+$/, '');
  }

  /** Where requests go, safe for logs and events (no user-info, no credential-like query values). */
  get trackingUri(): string {
    return safeUri(this.base);
  }

  private async send(
    method: 'GET' | 'POST', path: string, signal: AbortSignal, query?: Array<[string, string]>, body?: unknown,
    /** Streaming downloads: bound the wait for headers and each gap between body chunks, not the whole body. */
    idle?: { headersTimeout: number; bodyTimeout: number },
  ): Promise<Dispatcher.ResponseData> {
    const url = new URL(this.base + path);
    for (const [k, v] of query ?? []) url.searchParams.append(k, v);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'mltrail-mlflow-auditor' };
    if (this.auth) headers.authorization = this.auth;
    if (this.opts.workspace !== undefined) headers[WORKSPACE_HEADER] = this.opts.workspace;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const { request } = undici();
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, dispatcher: this.opts.dispatcher, ...idle });
    } catch (err) {
      if (signal.aborted) throw err;
      throw new MlflowApiError(`${method} ${url.pathname}: ${(err as Error).message}${(err as { code?: string }).code ? ` (${(err as { code?: string }).code})` : ''}`, undefined, undefined, true);
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return res;
    const text = (await readLimited(res.body, 4096).catch(() => '')).trim();
    let errorCode: string | undefined;
    let message = text;
    try {
      const j = JSON.parse(text) as { error_code?: string; message?: string };
      errorCode = j.error_code;
      message = j.message ?? text;
    } catch {
      // basic-auth app answers 401/403 in plain text
    }
    const retryable = res.statusCode >= 500 || res.statusCode === 429 || res.statusCode === 408;
    const retryAfter = parseRetryAfter(res.headers['retry-after'] as string | undefined);
    throw new MlflowApiError(`${method} ${url.pathname} → HTTP ${res.statusCode}${errorCode ? ` ${errorCode}` : ''}: ${message.slice(0, 500) || '(empty body)'}`, res.statusCode, errorCode, retryable, retryAfter);
  }

  private async json<T>(method: 'GET' | 'POST', path: string, schema: z.ZodType<T>, signal: AbortSignal, query?: Array<[string, string]>, body?: unknown): Promise<T> {
    return retryOperation(async (s) => {
      const res = await this.send(method, path, s, query, body);
      let parsed: unknown;
      try {
        parsed = await res.body.json();
      } catch (err) {
        throw new MlflowApiError(`${method} ${path}: response is not JSON: ${(err as Error).message}`, res.statusCode, undefined, true);
      }
      const r = schema.safeParse(parsed);
      if (!r.success) {
        const i = r.error.issues[0];
        throw new MlflowApiError(`${method} ${path}: unexpected response shape at ${i?.path.join('.') || '(root)'}: ${i?.message}`, res.statusCode, undefined, false);
      }
      return r.data;
    }, this.opts.retry, signal);
  }

  /** Follow `next_page_token` until the last page. */
  private async all<T>(path: string, key: string, item: z.ZodType<T>, signal: AbortSignal, query: Array<[string, string]>): Promise<T[]> {
    const out: T[] = [];
    let token: string | undefined;
    const seen = new Set<string>();
    do {
      const q: Array<[string, string]> = token ? [...query, ['page_token', token]] : query;
      const res = await this.json('GET', path, page(key, z.unknown()), signal, q);
      for (const raw of (res[key] as unknown[] | undefined) ?? []) {
        const r = item.safeParse(raw);
        if (!r.success) throw new MlflowApiError(`GET ${path}: unexpected ${key} entry: ${r.error.issues[0]?.path.join('.')}: ${r.error.issues[0]?.message}`, 200, undefined, false);
        out.push(r.data);
      }
      token = res.next_page_token || undefined;
      if (token && seen.has(token)) throw new MlflowApiError(`GET ${path}: server repeated page_token ${token}`, 200, undefined, false);
      if (token) seen.add(token);
    } while (token);
    return out;
  }

  /**
   * Every registered model (optionally filtered). MLflow 3 leaves prompts (registered models tagged
   * `mlflow.prompt.is_prompt`) out of an unfiltered search; they are listed by asking for that tag.
   */
  searchRegisteredModels(signal: AbortSignal, pageSize = 500, filter?: string): Promise<RegisteredModel[]> {
    const q: Array<[string, string]> = [['max_results', String(pageSize)]];
    if (filter) q.push(['filter', filter]);
    return this.all('/api/2.0/mlflow/registered-models/search', 'registered_models', RegisteredModel, signal, q);
  }

  /** Every model version (optionally filtered, e.g. `name='fraud'`). */
  searchModelVersions(signal: AbortSignal, pageSize = 500, filter?: string): Promise<ModelVersion[]> {
    const q: Array<[string, string]> = [['max_results', String(pageSize)]];
    if (filter) q.push(['filter', filter]);
    return this.all('/api/2.0/mlflow/model-versions/search', 'model_versions', ModelVersion, signal, q);
  }

  /** One registered model by name; a deleted one answers 404 `RESOURCE_DOES_NOT_EXIST`. */
  async getRegisteredModel(name: string, signal: AbortSignal): Promise<RegisteredModel> {
    return (await this.json('GET', '/api/2.0/mlflow/registered-models/get', z.looseObject({ registered_model: RegisteredModel }), signal, [['name', name]])).registered_model;
  }

  /** One model version; a deleted one (or one of a deleted model) answers 404 `RESOURCE_DOES_NOT_EXIST`. */
  async getModelVersion(name: string, version: string, signal: AbortSignal): Promise<ModelVersion> {
    return (await this.json('GET', '/api/2.0/mlflow/model-versions/get', z.looseObject({ model_version: ModelVersion }), signal, [['name', name], ['version', version]])).model_version;
  }

  /** One small registry read: tells a failure of one version's requests from the server failing. */
  async probe(signal: AbortSignal): Promise<void> {
    await this.json('GET', '/api/2.0/mlflow/registered-models/search', page('registered_models', z.unknown()), signal, [['max_results', '1']]);
  }

  /** Every registry webhook (`GET /api/2.0/mlflow/webhooks`; MLflow before 3.3 answers 404). */
  listWebhooks(signal: AbortSignal, pageSize = 100): Promise<RegistryWebhook[]> {
    return this.all('/api/2.0/mlflow/webhooks', 'webhooks', RegistryWebhook, signal, [['max_results', String(pageSize)]]);
  }

  /** One webhook; a deleted one answers 404 `RESOURCE_DOES_NOT_EXIST`. */
  async getWebhook(id: string, signal: AbortSignal): Promise<RegistryWebhook> {
    return (await this.json('GET', `/api/2.0/mlflow/webhooks/${encodeURIComponent(id)}`, z.looseObject({ webhook: RegistryWebhook }), signal)).webhook;
  }

  async getRun(runId: string, signal: AbortSignal): Promise<Run> {
    return (await this.json('GET', '/api/2.0/mlflow/runs/get', z.looseObject({ run: Run }), signal, [['run_id', runId]])).run;
  }

  /** Runs of experiments matching a search filter (`POST /api/2.0/mlflow/runs/search`), the first page only (`maxResults`). */
  async searchRuns(experimentIds: string[], filter: string, maxResults: number, signal: AbortSignal): Promise<Run[]> {
    const res = await this.json('POST', '/api/2.0/mlflow/runs/search', z.looseObject({ runs: z.array(Run).optional() }), signal, undefined, { experiment_ids: experimentIds, filter, max_results: maxResults, order_by: ['attributes.start_time DESC'] });
    return res.runs ?? [];
  }

  /** One MLflow 3 logged model (`GET /api/2.0/mlflow/logged-models/{model_id}`), with its metrics. */
  async getLoggedModel(modelId: string, signal: AbortSignal): Promise<LoggedModel> {
    return (await this.json('GET', `/api/2.0/mlflow/logged-models/${encodeURIComponent(modelId)}`, z.looseObject({ model: LoggedModel }), signal)).model;
  }

  /** The storage URI a version's files live at (resolves `runs:/` and `models:/` sources). */
  async getDownloadUri(name: string, version: string, signal: AbortSignal): Promise<string> {
    return (await this.json('GET', '/api/2.0/mlflow/model-versions/get-download-uri', z.looseObject({ artifact_uri: z.string() }), signal, [['name', name], ['version', version]])).artifact_uri;
  }

  /** Files of one directory of the proxied artifact store (`mlflow-artifacts`); paths are basenames. */
  listProxied(dir: string, signal: AbortSignal): Promise<FileInfo[]> {
    return this.all('/api/2.0/mlflow-artifacts/artifacts', 'files', FileInfo, signal, [['path', dir]]);
  }

  /** Files of one directory of a run's artifacts; paths are relative to the run's artifact root. */
  listRunArtifacts(runId: string, dir: string, signal: AbortSignal): Promise<FileInfo[]> {
    return this.all('/api/2.0/mlflow/artifacts/list', 'files', FileInfo, signal, [['run_id', runId], ['path', dir]]);
  }

  /**
   * Files of one directory of an MLflow 3 logged model's artifacts (`ListLoggedModelArtifacts`,
   * `GET /api/2.0/mlflow/logged-models/{model_id}/artifacts/directories`); paths are relative to the model's
   * artifact root. The server reads its artifact store itself, proxied or not (`_list_logged_model_artifacts_impl`).
   */
  listLoggedModelArtifacts(modelId: string, dir: string, signal: AbortSignal): Promise<FileInfo[]> {
    return this.all(`/api/2.0/mlflow/logged-models/${encodeURIComponent(modelId)}/artifacts/directories`, 'files', FileInfo, signal, dir ? [['artifact_directory_path', dir]] : []);
  }

  /**
   * Stream one file. `consume` gets the body stream and must read it fully;
   * the whole download (connect and body) is retried as one operation.
   * `requestTimeoutMs` bounds the wait for the response headers and each
   * silence between body chunks, not the whole transfer: a multi-GB model
   * file takes as long as it takes while bytes keep arriving.
   */
  download<T>(target: { proxiedPath: string } | { runId: string; path: string } | { loggedModelId: string; path: string }, consume: (body: Readable) => Promise<T>, signal: AbortSignal): Promise<T> {
    const idle = { headersTimeout: this.opts.retry.requestTimeoutMs, bodyTimeout: this.opts.retry.requestTimeoutMs };
    return retryOperation(async (s) => {
      const res =
        'proxiedPath' in target
          ? await this.send('GET', `/api/2.0/mlflow-artifacts/artifacts/${encodePath(target.proxiedPath)}`, s, undefined, undefined, idle)
          : 'loggedModelId' in target
            // A logged model's file: MLflow serves it only under /ajax-api (mlflow/server/__init__.py
            // serve_get_logged_model_artifact), read from its artifact store whether proxied or not.
            ? await this.send('GET', `${this.uiPrefix}/ajax-api/2.0/mlflow/logged-models/${encodeURIComponent(target.loggedModelId)}/artifacts/files`, s, [['artifact_file_path', target.path]], undefined, idle)
            : await this.send('GET', `${this.uiPrefix}/get-artifact`, s, [['path', target.path], ['run_id', target.runId]], undefined, idle);
      try {
        return await consume(res.body);
      } catch (err) {
        if (s.aborted) throw err;
        throw new MlflowApiError(`download interrupted: ${(err as Error).message}`, res.statusCode, undefined, true);
      }
    }, { ...this.opts.retry, requestTimeoutMs: NO_TOTAL_LIMIT_MS }, signal);
  }

  /** Set a model-version tag (needs EDIT permission). */
  async setModelVersionTag(name: string, version: string, key: string, value: string, signal: AbortSignal): Promise<void> {
    await this.json('POST', '/api/2.0/mlflow/model-versions/set-tag', z.unknown(), signal, undefined, { name, version, key, value });
  }
}

/** Longest timer Node accepts (~24.8 days; a larger value fires after 1 ms): a download attempt's overall bound. */
const NO_TOTAL_LIMIT_MS = 2 ** 31 - 1;

function encodePath(p: string): string {
  return p.split('/').filter(Boolean).map(encodeURIComponent).join('/');
}

async function readLimited(body: Readable | AsyncIterable<Uint8Array>, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body as AsyncIterable<Uint8Array>) {
    if (n < max) chunks.push(Buffer.from(c));
    n += c.length;
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, max);
}
