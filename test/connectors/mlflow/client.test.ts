import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { MlflowApiError, MlflowClient } from '../../../connectors/mlflow/client.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A one-off server answering each request with `handler`. */
async function serve(handler: (path: string, q: URLSearchParams) => { status?: number; body: string; type?: string }): Promise<string> {
  server = createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    const r = handler(u.pathname, u.searchParams);
    res.writeHead(r.status ?? 200, { 'content-type': r.type ?? 'application/json' });
    res.end(r.body);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const a = server.address();
  return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
}

const retry = { initialMs: 5, maxMs: 10, requestTimeoutMs: 2000, maxAttempts: 2 };
const signal = new AbortController().signal;

describe('MlflowClient', () => {
  it('accepts int64 as numbers or numeric strings and omitted empty lists', async () => {
    const url = await serve(() => ({ body: JSON.stringify({ model_versions: [{ name: 'm', version: 3, creation_timestamp: '1755680000000', last_updated_timestamp: 1755680000001 }, { name: 'm', version: '4' }] }) }));
    const c = new MlflowClient({ trackingUri: `${url}/`, retry });
    const vs = await c.searchModelVersions(signal);
    expect(vs.map((v) => [v.version, v.creation_timestamp])).toEqual([['3', 1755680000000], ['4', undefined]]);
    const empty = await serve(() => ({ body: '{}' }));
    expect(await new MlflowClient({ trackingUri: empty, retry }).searchRegisteredModels(signal)).toEqual([]);
  });

  it('a server repeating a page token is an error, not an endless loop', async () => {
    const url = await serve(() => ({ body: JSON.stringify({ registered_models: [{ name: 'a' }], next_page_token: 'same' }) }));
    await expect(new MlflowClient({ trackingUri: url, retry }).searchRegisteredModels(signal)).rejects.toThrow(/repeated page_token/);
  });

  it('an unexpected response shape is a non-retryable error naming the field', async () => {
    let calls = 0;
    const url = await serve(() => (calls++, { body: JSON.stringify({ run: { info: { start_time: 'yesterday' } } }) }));
    const err = await new MlflowClient({ trackingUri: url, retry }).getRun('r1', signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MlflowApiError);
    expect((err as MlflowApiError).message).toMatch(/run\.info\.start_time/);
    expect((err as MlflowApiError).retryable).toBe(false);
    expect(calls).toBe(1);
  });

  it('MLflow error bodies surface with status and error_code; 404 is not retried', async () => {
    let calls = 0;
    const url = await serve(() => (calls++, { status: 404, body: JSON.stringify({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Run with id=r1 not found' }) }));
    const err = (await new MlflowClient({ trackingUri: url, retry }).getRun('r1', signal).catch((e: unknown) => e)) as MlflowApiError;
    expect(err.status).toBe(404);
    expect(err.errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(err.message).toBe('GET /api/2.0/mlflow/runs/get → HTTP 404 RESOURCE_DOES_NOT_EXIST: Run with id=r1 not found');
    expect(calls).toBe(1);
  });

  it('with a static prefix, run artifacts are fetched from <tracking_uri><prefix>/get-artifact, REST calls from <tracking_uri>/api', async () => {
    const seen: string[] = [];
    // A server behind a path (https://gw/team → the server's root) run with --static-prefix /mlflow.
    const url = await serve((path, q) => {
      seen.push(path);
      if (path === '/team/mlflow/get-artifact' && q.get('run_id') === 'r1' && q.get('path') === 'model/model.pkl') return { body: 'weights', type: 'application/octet-stream' };
      if (path === '/team/api/2.0/mlflow/runs/get') return { body: JSON.stringify({ run: { info: { run_id: 'r1' } } }) };
      return { status: 404, body: '<h1>Not Found</h1>', type: 'text/html' };
    });
    const c = new MlflowClient({ trackingUri: `${url}/team/`, retry, staticPrefix: '/mlflow' });
    const text = await c.download({ runId: 'r1', path: 'model/model.pkl' }, async (body) => {
      let s = '';
      for await (const chunk of body) s += String(chunk);
      return s;
    }, signal);
    expect(text).toBe('weights');
    expect((await c.getRun('r1', signal)).info?.run_id).toBe('r1');
    expect(seen).toEqual(['/team/mlflow/get-artifact', '/team/api/2.0/mlflow/runs/get']);
  });

  it('connection refused is a retryable network error', async () => {
    const url = await serve(() => ({ body: '{}' }));
    server!.close();
    server!.closeAllConnections();
    server = undefined;
    const err = (await new MlflowClient({ trackingUri: url, retry }).searchRegisteredModels(signal).catch((e: unknown) => e)) as MlflowApiError;
    expect(err).toBeInstanceOf(MlflowApiError);
    expect(err.status).toBeUndefined();
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/ECONNREFUSED/);
  });
});
