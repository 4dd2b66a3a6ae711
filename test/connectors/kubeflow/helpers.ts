import type { NormalizeContext } from '../../../core/connector.js';
import { KubeflowConfig } from '../../../connectors/kubeflow/config.js';

export const ctx = (over: Partial<NormalizeContext<KubeflowConfig>> = {}): NormalizeContext<KubeflowConfig> => ({
  channel: 'test',
  receivedTime: '2026-11-25T00:00:00.000Z',
  keepRaw: false,
  config: KubeflowConfig.parse({}),
  ...over,
});

/** A realistic audit.k8s.io/v1 Event in a Kubeflow namespace; `over` replaces top-level keys. */
export function auditEvent(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    level: 'Metadata',
    auditID: `a-${Math.random().toString(16).slice(2)}`,
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/kubeflow-user-alice/secrets/mlpipeline-minio-artifact',
    verb: 'get',
    user: {
      username: 'system:serviceaccount:kubeflow-user-alice:default-editor',
      uid: '5b1c4f2e-0000-4000-8000-000000000001',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:kubeflow-user-alice', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/pod-name': ['train-pipeline-x7k2p-system-container-impl-123'] },
    },
    sourceIPs: ['10.244.1.17'],
    userAgent: 'python-requests/2.31.0',
    objectRef: { resource: 'secrets', namespace: 'kubeflow-user-alice', name: 'mlpipeline-minio-artifact', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: '2026-11-25T10:00:00.100000Z',
    stageTimestamp: '2026-11-25T10:00:00.120000Z',
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'RBAC: allowed by RoleBinding "default-editor" of ClusterRole "kubeflow-edit" to ServiceAccount "default-editor/kubeflow-user-alice"' },
    ...over,
  };
}

export { captureIo } from '../../helpers/cli.js';

import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectorDeps, ServerSettings } from '../../../core/connector.js';
import { Ingestor } from '../../../core/ingest.js';
import { silentLogger } from '../../../core/log.js';
import { createMetrics } from '../../../core/metrics.js';
import { Spool, type SpoolOptions } from '../../../core/spool/index.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { expect } from 'vitest';
import { withMlflowRegistryUrls } from '../../../connectors/kubeflow/config.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { AUDIT_ROUTE } from '../../../connectors/kubeflow/route.js';
import { type MlflowConfig, mlflowRegistryUrls } from '../../../connectors/mlflow/config.js';

export interface Harness {
  deps: ConnectorDeps<KubeflowConfig>;
  spool: Spool;
  events(): NormalizedEvent[];
  close(): void;
}

/** A real spool in a temp dir (or `spoolOptions.dir`, kept on close: a restart) plus connector deps around it. */
export function harness(config: Record<string, unknown> = {}, server: Partial<ServerSettings> = {}, spoolOptions: Partial<SpoolOptions> = {}): Harness {
  const keep = spoolOptions.dir !== undefined;
  const dir = spoolOptions.dir ?? mkdtempSync(join(tmpdir(), 'mltrail-kf-'));
  const spool = Spool.open({ synchronous: 'NORMAL', ...spoolOptions, dir });
  const logger = silentLogger();
  const metrics = createMetrics();
  const deps: ConnectorDeps<KubeflowConfig> = {
    config: KubeflowConfig.parse(config),
    ingest: new Ingestor(spool, logger, metrics),
    spool,
    logger,
    metrics,
    server: { host: '127.0.0.1', port: 0, bodyLimitBytes: 5 * 1024 * 1024, ...server },
    dataDir: dir,
    keepRaw: true,
    env: {},
  };
  return {
    deps,
    spool,
    events: () => spool.read('test-reader', 100_000).filter((r) => r.kind === 'event').map((r) => JSON.parse(r.body) as NormalizedEvent),
    close: () => {
      spool.close();
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Serve a Hono app on 127.0.0.1:0; resolves with its base URL. */
export async function listen(app: Hono, opts: Record<string, unknown> = {}): Promise<{ url: string; server: ServerType; close: () => Promise<void> }> {
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0, ...opts } as Parameters<typeof serve>[0], () => resolve(s));
  });
  const addr = server.address() as { port: number };
  const scheme = opts.createServer ? 'https' : 'http';
  return {
    url: `${scheme}://127.0.0.1:${addr.port}`,
    server,
    close: () => new Promise<void>((r) => { (server as { closeAllConnections?: () => void }).closeAllConnections?.(); server.close(() => r()); }),
  };
}

/**
 * The audit route mounted with `kubeflow` settings on 127.0.0.1:0, the MLflow servers' URLs given to it as the
 * bridge gives them (`mlflow`); `send(token, …items)` posts one EventList and expects 200. `close` ends both.
 * `spoolDir`: a spool kept there on close, so a second route on it is the bridge restarted.
 */
export async function startAuditRoute(kubeflow: Record<string, unknown>, opts: { ingestToken: string; mlflow?: MlflowConfig; logger?: ConnectorDeps<KubeflowConfig>['logger']; spoolDir?: string }) {
  const h = harness(kubeflow, { ingestToken: opts.ingestToken }, opts.spoolDir === undefined ? {} : { dir: opts.spoolDir });
  if (opts.logger) h.deps.logger = opts.logger;
  if (opts.mlflow) withMlflowRegistryUrls(h.deps.config, mlflowRegistryUrls(opts.mlflow));
  const app = new Hono();
  kubeflowConnector.routes!(app, h.deps);
  const srv = await listen(app);
  const send = async (token: string, ...items: Record<string, unknown>[]) => {
    const res = await fetch(`${srv.url}${AUDIT_ROUTE}`, { method: 'POST', body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items }), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
  };
  return { h, send, url: srv.url, close: async () => (await srv.close(), h.close()) };
}

export { Hono };
