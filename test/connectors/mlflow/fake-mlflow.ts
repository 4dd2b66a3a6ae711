import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A strict fake of the MLflow tracking server's REST API (the endpoints the
 * registry auditor uses), on 127.0.0.1:0: protobuf-JSON shapes (empty lists
 * and unset fields omitted), opaque page tokens with `max_results` limits
 * enforced like MLflow, `{error_code, message}` error bodies, Basic auth that
 * answers 401 in plain text like the basic-auth app, proxied artifacts
 * (`mlflow-artifacts`) with basename listings and chunked downloads.
 */

export interface FakeVersion {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  user_id?: string;
  current_stage: string;
  description?: string;
  source: string;
  run_id?: string;
  status: string;
  tags: Record<string, string>;
  /** MLflow 3: the logged model the version was registered from (`source` `models:/<model_id>`). */
  model_id?: string;
}

/** An MLflow 3 logged model (`LoggedModel`): its files live at `artifact_location`. */
export interface FakeLoggedModel {
  model_id: string;
  experiment_id: string;
  source_run_id?: string;
  artifact_location: string;
  /** Files of a location the server reads itself (`s3://…`, not proxied): path under the root → bytes. */
  files: Map<string, Buffer>;
  /** `data.metrics`: what runs logged for the model (an evaluation run's, with its dataset). */
  metrics: Array<{ key: string; value: number; timestamp: number; step: number; run_id?: string; dataset_name?: string; dataset_digest?: string }>;
}

export interface FakeModel {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description?: string;
  tags: Record<string, string>;
  aliases: Record<string, string>;
}

/** A registry webhook as MLflow 3.3+ stores it (`mlflow/protos/webhooks.proto` `Webhook`; the secret is never listed). */
export interface FakeWebhook {
  webhook_id: string;
  name: string;
  description?: string;
  url: string;
  events: Array<{ entity: string; action: string }>;
  status: 'ACTIVE' | 'DISABLED';
  creation_timestamp: number;
  last_updated_timestamp: number;
}

export type Fault = { status: number; body?: string; contentType?: string; retryAfter?: string } | { hang: true };

export class FakeMlflow {
  models = new Map<string, FakeModel>();
  versions: FakeVersion[] = [];
  runs = new Map<string, unknown>();
  /** MLflow 3 logged models by id. */
  loggedModels = new Map<string, FakeLoggedModel>();
  /** Proxied artifact store: path (no leading slash) → bytes. */
  artifacts = new Map<string, Buffer>();
  /** Faults served (one each) to the next matching requests. */
  faults: Array<{ match: RegExp; fault: Fault }> = [];
  requests: Array<{ method: string; path: string; query: URLSearchParams; auth?: string; body?: unknown; workspace?: string }> = [];
  credentials?: { username: string; password: string };
  /** Runs the auditor's user may not read (basic-auth app: 403 plain text, like no READ on the experiment). */
  forbiddenRuns = new Set<string>();
  /** Runs answered 401 (e.g. a per-experiment auth proxy rejecting the auditor for them only). */
  unauthorizedRuns = new Set<string>();
  /**
   * MLflow 3 leaves prompts out of an unfiltered registered-model or model-version search (the SQL store's
   * `_update_query_to_exclude_prompts`) and lists only them for the filter ``tag.`mlflow.prompt.is_prompt` = 'true'``;
   * other filters are refused (400) as this fake does not implement them. `false`: an older server that lists
   * prompts with everything else (and applies the tag filter as any tag filter).
   */
  excludesPrompts = true;
  /** A server refusing the prompt tag filter (400 INVALID_PARAMETER_VALUE), as one that does not take tag filters would. */
  refusesPromptFilter = false;
  /**
   * Registry webhooks (MLflow 3.3+ `GET /api/2.0/mlflow/webhooks`, `GET /api/2.0/mlflow/webhooks/{id}`). Unset: a
   * server before 3.3, whose routes do not exist (404).
   */
  webhooks?: Map<string, FakeWebhook>;
  /** When true every request is answered 503 (the server went down). */
  down = false;
  /**
   * `mlflow server --static-prefix` (`/mlflow`): as MLflow routes it, the UI routes (`/ajax-api/…`, `/get-artifact`)
   * answer only under the prefix and the REST API (`/api/…`) only without it; anything else is Flask's HTML 404.
   */
  staticPrefix?: string;
  /**
   * Called with each request's path and query before it is answered. Changing the registry from
   * here between two pages of a search shifts the offset the next page token points at, as in
   * MLflow's SQL store: deleting an item already listed makes the next page skip one.
   */
  onRequest?: (path: string, query: URLSearchParams) => void;
  /** Pause between 64 KiB download chunks (a slow link or a big file). */
  chunkDelayMs = 0;
  /** Artifact paths whose download sends headers and a first chunk, then stalls forever. */
  stalled = new Set<string>();
  url = '';
  /**
   * Named workspaces (MLFLOW_ENABLE_WORKSPACES): each its own registry, runs and artifacts, selected by the
   * `X-MLFLOW-WORKSPACE` header (no header or `default`: this one). A header naming no workspace is answered as
   * MLflow's workspace middleware does: 404 RESOURCE_DOES_NOT_EXIST.
   */
  readonly workspaces = new Map<string, FakeMlflow>();
  private server?: Server;

  /** The registry of workspace `name` (created on first use). */
  workspace(name: string): FakeMlflow {
    let ws = this.workspaces.get(name);
    if (!ws) this.workspaces.set(name, (ws = new FakeMlflow()));
    return ws;
  }

  addModel(name: string, t: number, extra: Partial<FakeModel> = {}): FakeModel {
    const m: FakeModel = { name, creation_timestamp: t, last_updated_timestamp: t, tags: {}, aliases: {}, ...extra };
    this.models.set(name, m);
    return m;
  }

  /** A version whose files live in the proxied store under `1/<run>/artifacts/model/`. */
  addVersion(name: string, version: string, t: number, files: Record<string, string | Buffer>, extra: Partial<FakeVersion> = {}): FakeVersion {
    const runId = extra.run_id ?? `run${name.replace(/\W/g, '')}${version}`;
    const v: FakeVersion = {
      name, version, creation_timestamp: t, last_updated_timestamp: t, user_id: 'alice@example.com', current_stage: 'None',
      source: `runs:/${runId}/model`, run_id: runId, status: 'READY', tags: {}, ...extra,
    };
    this.versions.push(v);
    for (const [p, data] of Object.entries(files)) this.artifacts.set(`1/${runId}/artifacts/model/${p}`, Buffer.isBuffer(data) ? data : Buffer.from(data));
    return v;
  }

  /**
   * MLflow 3's `log_model(..., registered_model_name=…)`: a logged model `m-<hex>` whose files live in the proxied store
   * (`mlflow-artifacts:/1/models/<id>/artifacts`) or, with `store: 's3'`, in a bucket only the server reads
   * (`--no-serve-artifacts`, `--default-artifact-root s3://…`); the version's `source` is `models:/<id>` and its
   * `model_id` the id, as MLflow 3 registers it.
   */
  addLoggedModelVersion(name: string, version: string, t: number, files: Record<string, string | Buffer>, opts: { store?: 'proxied' | 's3'; modelId?: string } & Partial<FakeVersion> = {}): FakeVersion {
    const { store = 'proxied', modelId: id0, ...extra } = opts;
    const modelId = id0 ?? `m-${Buffer.from(`${name}${version}`).toString('hex').padEnd(32, '0').slice(0, 32)}`;
    const runId = extra.run_id ?? `run${name.replace(/\W/g, '')}${version}`;
    const root = `1/models/${modelId}/artifacts`;
    const lm: FakeLoggedModel = { model_id: modelId, experiment_id: '1', source_run_id: runId, artifact_location: store === 's3' ? `s3://mlflow-bucket/${root}` : `mlflow-artifacts:/${root}`, files: new Map(), metrics: [] };
    this.loggedModels.set(modelId, lm);
    for (const [p, data] of Object.entries(files)) this.setLoggedModelFile(modelId, p, data);
    const v: FakeVersion = {
      name, version, creation_timestamp: t, last_updated_timestamp: t, user_id: 'alice@example.com', current_stage: 'None',
      source: `models:/${modelId}`, run_id: runId, status: 'READY', tags: {}, model_id: modelId, ...extra,
    };
    this.versions.push(v);
    return v;
  }

  /** Write (or overwrite) one file of a logged model, where its artifact location keeps it. */
  setLoggedModelFile(modelId: string, path: string, data: string | Buffer): void {
    const lm = this.loggedModels.get(modelId)!;
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data);
    const proxied = /^mlflow-artifacts:\/(.*)$/.exec(lm.artifact_location);
    if (proxied) this.artifacts.set(`${proxied[1]}/${path}`, bytes);
    else lm.files.set(path, bytes);
  }

  /**
   * Where a version's files are stored (MLflow's storage_location, what get-download-uri answers): a run's proxied
   * artifacts, a logged model's artifact_location (MLflow 3 `models:/<model_id>`), the download URI of the version a
   * `models:/<name>/<version>` source was copied from, else the source itself.
   */
  downloadUriOf(source: string): string {
    const m = /^runs:\/([^/]+)\/(.*)$/.exec(source);
    if (m) return `mlflow-artifacts:/1/${m[1]}/artifacts/${m[2]}`;
    const lm = /^models:\/([^/@]+)$/.exec(source) ? this.loggedModels.get(source.slice('models:/'.length)) : undefined;
    if (lm) return lm.artifact_location;
    const copy = /^models:\/([^/]+)\/(\d+)$/.exec(source);
    const from = copy ? this.versions.find((x) => x.name === copy[1] && x.version === copy[2]) : undefined;
    return from ? this.downloadUriOf(from.source) : source;
  }

  /** A logged model's files (path under its root → bytes), wherever they are kept. */
  private loggedModelFiles(lm: FakeLoggedModel): Map<string, Buffer> {
    const proxied = /^mlflow-artifacts:\/(.*)$/.exec(lm.artifact_location);
    if (!proxied) return lm.files;
    const prefix = `${proxied[1]}/`;
    return new Map([...this.artifacts].filter(([p]) => p.startsWith(prefix)).map(([p, b]) => [p.slice(prefix.length), b]));
  }

  /** Delete a registered model as MLflow does: with its versions. */
  deleteModel(name: string): void {
    this.models.delete(name);
    this.versions = this.versions.filter((v) => v.name !== name);
  }

  /** Delete one version (and the aliases pointing at it, as MLflow does). */
  deleteVersion(name: string, version: string): void {
    this.versions = this.versions.filter((v) => !(v.name === name && v.version === version));
    const m = this.models.get(name);
    if (m) for (const [a, v] of Object.entries(m.aliases)) if (v === version) delete m.aliases[a];
  }

  /** `datasets[].source` is stored as MLflow does: the dataset source's `to_json()` string. */
  addRun(runId: string, run: { user?: string; commit?: string; params?: Record<string, string>; metrics?: Record<string, number>; datasets?: Array<{ name: string; digest: string; source: string; source_type?: string }>; info?: Record<string, unknown>; tags?: Record<string, string> } = {}): void {
    const tags = [
      ...Object.entries(run.tags ?? {}).map(([key, value]) => ({ key, value })),
      ...(run.user ? [{ key: 'mlflow.user', value: run.user }] : []),
      ...(run.commit ? [{ key: 'mlflow.source.git.commit', value: run.commit }] : []),
      { key: 'mlflow.source.name', value: 'train.py' },
      { key: 'mlflow.source.type', value: 'LOCAL' },
    ];
    this.runs.set(runId, {
      info: { run_id: runId, run_uuid: runId, run_name: `name-${runId}`, experiment_id: '1', user_id: '', status: 'FINISHED', start_time: 1755680000000, end_time: 1755680500000, artifact_uri: `mlflow-artifacts:/1/${runId}/artifacts`, lifecycle_stage: 'active', ...run.info },
      data: {
        ...(run.metrics ? { metrics: Object.entries(run.metrics).map(([key, value]) => ({ key, value, timestamp: 1755680400000, step: 0 })) } : {}),
        ...(run.params ? { params: Object.entries(run.params).map(([key, value]) => ({ key, value })) } : {}),
        tags,
      },
      inputs: run.datasets ? { dataset_inputs: run.datasets.map((d) => ({ dataset: { source_type: 's3', ...d }, tags: [{ key: 'mlflow.data.context', value: 'training' }] })) } : {},
    });
  }

  /** `port`: 0 (any free one) unless a test must stay in a range it was given. */
  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error_code: 'INTERNAL_ERROR', message: err.message }));
      });
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    const a = this.server.address();
    this.url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error_code: code, message }));
  }

  private json(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  /** Page like MLflow's SQL store: opaque token, `next_page_token` only when more remain. */
  private page<T>(items: T[], q: URLSearchParams, max: number, def: number): { items: T[]; next?: string } | string {
    const n = q.has('max_results') ? Number(q.get('max_results')) : def;
    if (!Number.isInteger(n) || n < 1 || n > max) return `Invalid value ${q.get('max_results')} for parameter 'max_results' supplied. It must be at most ${max}.`;
    let offset = 0;
    const tok = q.get('page_token');
    if (tok) {
      try {
        offset = (JSON.parse(Buffer.from(tok, 'base64').toString()) as { offset: number }).offset;
      } catch {
        return `Invalid page token, could not base64-decode`;
      }
    }
    const slice = items.slice(offset, offset + n);
    const next = offset + n < items.length ? Buffer.from(JSON.stringify({ offset: offset + n })).toString('base64') : undefined;
    return { items: slice, next };
  }

  private modelJson(m: FakeModel): unknown {
    const tags = Object.entries(m.tags).map(([key, value]) => ({ key, value }));
    const aliases = Object.entries(m.aliases).map(([alias, version]) => ({ alias, version }));
    return { name: m.name, creation_timestamp: m.creation_timestamp, last_updated_timestamp: m.last_updated_timestamp, ...(m.description ? { description: m.description } : {}), ...(tags.length ? { tags } : {}), ...(aliases.length ? { aliases } : {}) };
  }

  private versionJson(v: FakeVersion): unknown {
    const aliases = Object.entries(this.models.get(v.name)?.aliases ?? {}).filter(([, ver]) => ver === v.version).map(([a]) => a);
    const tags = Object.entries(v.tags).map(([key, value]) => ({ key, value }));
    return {
      name: v.name, version: v.version, creation_timestamp: v.creation_timestamp, last_updated_timestamp: v.last_updated_timestamp,
      ...(v.user_id ? { user_id: v.user_id } : {}), current_stage: v.current_stage, ...(v.description ? { description: v.description } : {}),
      source: v.source, ...(v.run_id ? { run_id: v.run_id } : {}), status: v.status, ...(tags.length ? { tags } : {}), ...(aliases.length ? { aliases } : {}),
      ...(v.model_id ? { model_id: v.model_id } : {}),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString();
    const body = rawBody ? (JSON.parse(rawBody) as Record<string, string>) : undefined;
    const header = (req.headers['x-mlflow-workspace'] as string | undefined)?.trim() || undefined;
    this.requests.push({ method: req.method!, path: url.pathname, query: url.searchParams, auth: req.headers.authorization, body, workspace: header });
    this.onRequest?.(url.pathname, url.searchParams);
    if (this.down) {
      res.writeHead(503, { 'content-type': 'text/html' });
      res.end('Service Unavailable');
      return;
    }

    if (this.credentials) {
      const want = `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
      if (req.headers.authorization !== want) {
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="mlflow"' });
        res.end('You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.');
        return;
      }
    }
    const fi = this.faults.findIndex((f) => f.match.test(url.pathname));
    if (fi >= 0) {
      const { fault } = this.faults.splice(fi, 1)[0]!;
      if ('hang' in fault) return; // never answers: the client's timeout must fire
      res.writeHead(fault.status, { 'content-type': fault.contentType ?? 'application/json', ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}) });
      res.end(fault.body ?? JSON.stringify({ error_code: 'INTERNAL_ERROR', message: 'simulated failure' }));
      return;
    }
    const q = url.searchParams;
    let p = url.pathname;
    const ui = (path: string) => path.startsWith('/ajax-api/') || path === '/get-artifact';
    if (this.staticPrefix !== undefined) {
      const under = p.startsWith(`${this.staticPrefix}/`) ? p.slice(this.staticPrefix.length) : undefined;
      if (under !== undefined && ui(under)) p = under;
      else if (ui(p) || under !== undefined) {
        res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><title>404 Not Found</title><h1>Not Found</h1>');
        return;
      }
    }
    const reg = header === undefined || header === 'default' ? this : this.workspaces.get(header);
    if (!reg) return this.error(res, 404, 'RESOURCE_DOES_NOT_EXIST', `Workspace '${header}' not found`);
    const PROMPT_FILTER = "tag.`mlflow.prompt.is_prompt` = 'true'";
    const isPrompt = (tags: Record<string, string>) => (tags['mlflow.prompt.is_prompt'] ?? '').toLowerCase() === 'true';
    /** Which items a search returns: all (older server, no filter), prompts only, or no prompts; undefined: refused. */
    const promptView = (): 'all' | 'prompts' | 'models' | undefined => {
      const f = q.get('filter');
      if (!f) return this.excludesPrompts ? 'models' : 'all';
      return f === PROMPT_FILTER && !this.refusesPromptFilter ? 'prompts' : undefined;
    };
    if (req.method === 'GET' && (p === '/api/2.0/mlflow/registered-models/search' || p === '/api/2.0/mlflow/model-versions/search') && !promptView()) {
      return this.error(res, 400, 'INVALID_PARAMETER_VALUE', `fake MLflow: unsupported filter ${q.get('filter')}`);
    }
    if (req.method === 'GET' && p === '/api/2.0/mlflow/registered-models/search') {
      const view = promptView();
      const all = [...reg.models.values()].filter((m) => view === 'all' || isPrompt(m.tags) === (view === 'prompts')).sort((a, b) => (a.name < b.name ? -1 : 1));
      const pg = this.page(all, q, 1000, 100);
      if (typeof pg === 'string') return this.error(res, 400, 'INVALID_PARAMETER_VALUE', pg);
      return this.json(res, {
        ...(pg.items.length ? { registered_models: pg.items.map((m) => reg.modelJson(m)) } : {}),
        ...(pg.next ? { next_page_token: pg.next } : {}),
      });
    }
    if (req.method === 'GET' && p === '/api/2.0/mlflow/model-versions/search') {
      const view = promptView();
      // A version is a prompt's by its own tags (MLflow's query joins the version tags).
      const pg = this.page(reg.versions.filter((v) => view === 'all' || isPrompt(v.tags) === (view === 'prompts')), q, 200_000, 200_000);
      if (typeof pg === 'string') return this.error(res, 400, 'INVALID_PARAMETER_VALUE', pg);
      return this.json(res, { ...(pg.items.length ? { model_versions: pg.items.map((v) => reg.versionJson(v)) } : {}), ...(pg.next ? { next_page_token: pg.next } : {}) });
    }
    if (req.method === 'GET' && p === '/api/2.0/mlflow/registered-models/get') {
      const m = reg.models.get(q.get('name') ?? '');
      if (!m) return this.error(res, 404, 'RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${q.get('name')} not found`);
      return this.json(res, { registered_model: reg.modelJson(m) });
    }
    if (req.method === 'GET' && p === '/api/2.0/mlflow/model-versions/get') {
      const v = reg.versions.find((x) => x.name === q.get('name') && x.version === q.get('version'));
      if (!v) return this.error(res, 404, 'RESOURCE_DOES_NOT_EXIST', `Model Version (name=${q.get('name')}, version=${q.get('version')}) not found`);
      return this.json(res, { model_version: reg.versionJson(v) });
    }
    if (req.method === 'GET' && p === '/api/2.0/mlflow/runs/get') {
      if (reg.unauthorizedRuns.has(q.get('run_id') ?? '')) {
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="mlflow"' });
        res.end('You are not authenticated.');
        return;
      }
      if (reg.forbiddenRuns.has(q.get('run_id') ?? '')) {
        res.writeHead(403, { 'content-type': 'text/plain' });
        res.end('Permission denied');
        return;
      }
      const run = reg.runs.get(q.get('run_id') ?? '');
      if (!run) return this.error(res, 404, 'RESOURCE_DOES_NOT_EXIST', `Run with id=${q.get('run_id')} not found`);
      return this.json(res, { run });
    }
    if (req.method === 'GET' && p === '/api/2.0/mlflow/model-versions/get-download-uri') {
      const v = reg.versions.find((x) => x.name === q.get('name') && x.version === q.get('version'));
      if (!v) return this.error(res, 404, 'RESOURCE_DOES_NOT_EXIST', `Model Version (name=${q.get('name')}, version=${q.get('version')}) not found`);
      return this.json(res, { artifact_uri: reg.downloadUriOf(v.source) });
    }
    const lmGet = /^\/api\/2\.0\/mlflow\/logged-models\/([^/]+)$/.exec(p);
    if (req.method === 'GET' && lmGet) {
      const lm = reg.loggedModels.get(decodeURIComponent(lmGet[1]!));
      if (!lm) return this.error(res, 404, 'RESOURCE_DOES_NOT_EXIST', `Logged model with ID '${lmGet[1]}' not found.`);
      const metrics = lm.metrics.map((m) => ({ ...m, model_id: lm.model_id }));
      return this.json(res, {
        model: {
          info: { model_id: lm.model_id, experiment_id: lm.experiment_id, name: 'model', artifact_uri: lm.artifact_location, status: 'LOGGED_MODEL_READY', creation_timestamp_ms: 1755680000000, last_updated_timestamp_ms: 1755680000000, ...(lm.source_run_id ? { source_run_id: lm.source_run_id } : {}) },
          data: metrics.length ? { metrics } : {},
        },
      });
    }
    const lmRoute = /^\/(api|ajax-api)\/2\.0\/mlflow\/logged-models\/([^/]+)\/artifacts\/(directories|files)$/.exec(p);
    // ListLoggedModelArtifacts under /api and /ajax-api; the file download only under /ajax-api (as MLflow routes them).
    if (req.method === 'GET' && lmRoute && (lmRoute[3] === 'directories' || lmRoute[1] === 'ajax-api')) {
      const lm = reg.loggedModels.get(decodeURIComponent(lmRoute[2]!));
      if (!lm) return this.error(res, 404, 'RESOURCE_DOES_NOT_EXIST', `Logged model with ID '${lmRoute[2]}' not found.`);
      const files = reg.loggedModelFiles(lm);
      if (lmRoute[3] === 'directories') {
        const dir = (q.get('artifact_directory_path') ?? '').replace(/\/+$/, '');
        if (dir.split('/').includes('..')) return this.error(res, 400, 'INVALID_PARAMETER_VALUE', 'Invalid path');
        const prefix = dir ? `${dir}/` : '';
        const children = new Map<string, { is_dir: boolean; size?: number }>();
        for (const [path, data] of files) {
          if (!path.startsWith(prefix)) continue;
          const rest = path.slice(prefix.length).split('/');
          // Paths from the logged model's root (list_artifacts of its repository), not basenames.
          if (rest.length > 1) children.set(`${prefix}${rest[0]}`, { is_dir: true });
          else children.set(`${prefix}${rest[0]}`, { is_dir: false, size: data.length });
        }
        const list = [...children].sort().map(([path, f]) => ({ path, is_dir: f.is_dir, ...(f.size !== undefined ? { file_size: f.size } : {}) }));
        return this.json(res, { root_uri: lm.artifact_location, ...(list.length ? { files: list } : {}) });
      }
      const file = q.get('artifact_file_path');
      if (!file) return this.error(res, 400, 'BAD_REQUEST', 'Request must include the "artifact_file_path" query parameter.');
      const data = files.get(file);
      if (!data) return this.error(res, 404, 'RESOURCE_DOES_NOT_EXIST', `File ${file} not found`);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(data);
      return;
    }
    if (req.method === 'GET' && p === '/api/2.0/mlflow-artifacts/artifacts') {
      const dir = (q.get('path') ?? '').replace(/\/+$/, '');
      const prefix = dir ? `${dir}/` : '';
      const children = new Map<string, { is_dir: boolean; size?: number }>();
      for (const [path, data] of reg.artifacts) {
        if (!path.startsWith(prefix)) continue;
        const rest = path.slice(prefix.length).split('/');
        if (rest.length > 1) children.set(rest[0]!, { is_dir: true });
        else children.set(rest[0]!, { is_dir: false, size: data.length });
      }
      const files = [...children].sort().map(([path, f]) => ({ path, is_dir: f.is_dir, ...(f.size !== undefined ? { file_size: f.size } : {}) }));
      return this.json(res, files.length ? { files } : {});
    }
    if (req.method === 'GET' && p.startsWith('/api/2.0/mlflow-artifacts/artifacts/')) {
      const path = decodeURIComponent(p.slice('/api/2.0/mlflow-artifacts/artifacts/'.length));
      const data = reg.artifacts.get(path);
      if (!data) return this.error(res, 404, 'RESOURCE_DOES_NOT_EXIST', `File ${path} not found`);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      // Chunked, so the client has to stream.
      for (let i = 0; i < data.length; i += 64 * 1024) {
        if (!res.write(data.subarray(i, i + 64 * 1024))) await new Promise((r) => res.once('drain', r));
        if (reg.stalled.has(path)) return; // never ends: the connection is closed by stop()
        if (this.chunkDelayMs) await new Promise((r) => setTimeout(r, this.chunkDelayMs));
      }
      res.end();
      return;
    }
    if (req.method === 'GET' && p === '/api/2.0/mlflow/webhooks' && reg.webhooks) {
      const all = [...reg.webhooks.values()].sort((a, b) => b.creation_timestamp - a.creation_timestamp);
      const pg = this.page(all, q, 1000, 100);
      if (typeof pg === 'string') return this.error(res, 400, 'INVALID_PARAMETER_VALUE', pg);
      return this.json(res, { ...(pg.items.length ? { webhooks: pg.items } : {}), ...(pg.next ? { next_page_token: pg.next } : {}) });
    }
    const hook = /^\/api\/2\.0\/mlflow\/webhooks\/([^/]+)$/.exec(p);
    if (req.method === 'GET' && hook && reg.webhooks) {
      const w = reg.webhooks.get(decodeURIComponent(hook[1]!));
      if (!w) return this.error(res, 404, 'RESOURCE_DOES_NOT_EXIST', `Webhook with ID ${hook[1]} not found`);
      return this.json(res, { webhook: w });
    }
    if (req.method === 'POST' && p === '/api/2.0/mlflow/runs/search') {
      // As MLflow's search: runs of the experiments named; the one filter the auditor sends, a LIKE on a tag.
      const b = body as unknown as { experiment_ids?: string[]; filter?: string; max_results?: number } | undefined;
      if (!b?.experiment_ids?.length) return this.error(res, 400, 'INVALID_PARAMETER_VALUE', 'experiment_ids must be given');
      const like = b.filter ? /^tags\.`([^`]+)` LIKE '%(.*)%'$/.exec(b.filter) : null;
      if (b.filter && !like) return this.error(res, 400, 'INVALID_PARAMETER_VALUE', `unsupported filter ${b.filter}`);
      type R = { info: { experiment_id: string }; data: { tags?: Array<{ key: string; value: string }> } };
      const runs = [...reg.runs.values()].map((r) => r as R).filter((r) => b.experiment_ids!.includes(r.info.experiment_id) && (!like || (r.data.tags ?? []).some((t) => t.key === like[1] && t.value.includes(like[2]!))));
      return this.json(res, runs.length ? { runs: runs.slice(0, b.max_results ?? 1000) } : {});
    }
    if (req.method === 'POST' && p === '/api/2.0/mlflow/model-versions/set-tag') {
      if (req.headers['content-type'] !== 'application/json') return this.error(res, 400, 'BAD_REQUEST', 'Content-Type must be application/json');
      const v = reg.versions.find((x) => x.name === body?.name && x.version === String(body?.version));
      if (!v) return this.error(res, 404, 'RESOURCE_DOES_NOT_EXIST', 'not found');
      v.tags[body!.key!] = body!.value!;
      return this.json(res, {});
    }
    return this.error(res, 404, 'ENDPOINT_NOT_FOUND', `No endpoint ${req.method} ${p}`);
  }
}
