import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFixtureJson } from '../../helpers/fixtures.js';

type Obj = Record<string, any>;

/** The bearer token the fake accepts unless `data.token` says another. */
export const KFP_TOKEN = 'kfp-sa-token-eyJhbGciOi';

export interface FakeKfpData {
  runs: Obj[];
  recurringRuns: Obj[];
  pipelines: Obj[];
  versions: Record<string, Obj[]>;
  experiments: Obj[];
  /** A path answered 400. */
  refuse?: string;
  /** How many requests answer `unavailableStatus` (503 by default) first. */
  unavailable?: number;
  unavailableStatus?: number;
  singleUser?: boolean;
  /** The bearer token this server accepts (another cluster's KFP has its own); KFP_TOKEN when unset. */
  token?: string;
}

/**
 * A strict fake of the KFP v2beta1 API server on 127.0.0.1, port 0: bearer auth, multi-user
 * namespace requirement, protojson filter with created_at predicates,
 * `sort_by`, opaque page tokens, and GetRun (`/runs/{id}`, 404 for a run it does not list).
 */
export async function startFakeKfp(data: FakeKfpData) {
  const requests: URL[] = [];
  const headers: IncomingMessage['headers'][] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://kfp');
    requests.push(url);
    headers.push(req.headers);
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${data.token ?? KFP_TOKEN}`) return send(401, { error: 'Unauthenticated', code: 16, message: 'Failed to authenticate token review' });
    const ns = url.searchParams.get('namespace');
    const pageSize = Number(url.searchParams.get('page_size') ?? 20);
    const offset = Number(url.searchParams.get('page_token') || 0);
    const page = (key: string, all: Obj[], extra: Obj = {}) => {
      const items = all.slice(offset, offset + pageSize);
      const next = offset + pageSize < all.length ? String(offset + pageSize) : undefined;
      return send(200, { [key]: items, total_size: all.length, ...(next ? { next_page_token: next } : {}), ...extra });
    };
    const path = url.pathname;
    if (path === data.refuse) return send(400, { error: 'refused by the test', code: 3 });
    if ((data.unavailable ?? 0) > 0) {
      data.unavailable!--;
      if (data.unavailableStatus === 429) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '0' });
        return res.end(JSON.stringify({ error: 'too many requests', code: 8 }));
      }
      if (data.unavailableStatus === 408) return send(408, { error: 'request timeout', code: 4 });
      return send(503, { error: 'upstream connect error', code: 14 });
    }
    if (path === '/apis/v2beta1/runs') {
      // Single-user mode: one unscoped listing (the poller must not invent a namespace filter).
      if (data.singleUser ? ns !== null : ns !== 'kubeflow-user-alice') return send(400, { error: 'Invalid input error: ListRuns must filter by namespace in multi-user mode', code: 3 });
      if (url.searchParams.get('sort_by') !== 'created_at desc') return send(400, { error: 'bad sort_by', code: 3 });
      let runs = data.runs;
      const f = url.searchParams.get('filter');
      if (f) {
        const pred = (JSON.parse(f) as { predicates: Obj[] }).predicates[0]!;
        if (pred.key !== 'created_at' || pred.operation !== 'GREATER_THAN' || Number.isNaN(Date.parse(pred.timestamp_value))) return send(400, { error: 'bad filter', code: 3 });
        runs = runs.filter((r) => Date.parse(r.created_at) > Date.parse(pred.timestamp_value));
      }
      return page('runs', runs);
    }
    const run = /^\/apis\/v2beta1\/runs\/([^/]+)$/.exec(path);
    if (run) {
      const found = data.runs.find((r) => r.run_id === decodeURIComponent(run[1]!));
      return found ? send(200, found) : send(404, { error: `Run ${run[1]} not found`, code: 5 });
    }
    if (path === '/apis/v2beta1/recurringruns') return page('recurringRuns', data.recurringRuns);
    if (path === '/apis/v2beta1/experiments') return page('experiments', data.experiments);
    if (path === '/apis/v2beta1/pipelines') return page('pipelines', data.pipelines);
    const m = /^\/apis\/v2beta1\/pipelines\/([^/]+)\/versions$/.exec(path);
    if (m) return page('pipeline_versions', data.versions[decodeURIComponent(m[1]!)] ?? []);
    return send(404, { error: 'Not Found', code: 5 });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    headers,
    data,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** The KFP REST fixtures as a multi-user server lists them: two recent runs, one past the look-back, a schedule, a pipeline with a version, an experiment. */
export function kfpData(): FakeKfpData {
  const recent = new Date(Date.now() - 3_600_000).toISOString();
  const run = { ...readFixtureJson<Obj>('kubeflow', 'kfp-rest', 'run_completed.json'), created_at: recent, state: 'RUNNING', finished_at: '1970-01-01T00:00:00Z' };
  const failed = { ...readFixtureJson<Obj>('kubeflow', 'kfp-rest', 'run_failed.json'), created_at: recent };
  const old = { ...readFixtureJson<Obj>('kubeflow', 'kfp-rest', 'run_completed_with_spec.json'), run_id: 'ancient-run' };
  const pipeline = readFixtureJson<Obj>('kubeflow', 'kfp-rest', 'pipeline.json');
  return {
    runs: [run, failed, old],
    recurringRuns: [readFixtureJson<Obj>('kubeflow', 'kfp-rest', 'recurring_run.json')],
    pipelines: [pipeline],
    versions: { [pipeline.pipeline_id]: [readFixtureJson<Obj>('kubeflow', 'kfp-rest', 'pipeline_version.json')] },
    experiments: [readFixtureJson<Obj>('kubeflow', 'kfp-rest', 'experiment.json')],
  };
}
