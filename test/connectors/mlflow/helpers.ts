import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { readFileSync } from 'node:fs';
import type { ConnectorDeps, Poller } from '../../../core/connector.js';
import { Ingestor } from '../../../core/ingest.js';
import { silentLogger } from '../../../core/log.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { Spool } from '../../../core/spool/index.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { createMlflowConnector } from '../../../connectors/mlflow/index.js';
import { fixturePath } from '../../helpers/fixtures.js';

export interface SigningVector {
  file: string;
  deliveryId: string;
  timestamp: string;
  signature: string;
  bytes: number;
  sha256: string;
}

/** The signing vectors of shared/fixtures/mlflow/SOURCES.md (secret `test-secret-key`). */
export function signingVectors(): SigningVector[] {
  const text = readFileSync(fixturePath('mlflow', 'SOURCES.md'), 'utf8');
  const rows = [...text.matchAll(/^\| (\S+\.json) \| `([^`]+)` \| `(\d+)` \| `(v1,[^`]+)` \| (\d+) \| `([0-9a-f]{64})` \|$/gm)];
  return rows.map((m) => ({ file: m[1]!, deliveryId: m[2]!, timestamp: m[3]!, signature: m[4]!, bytes: Number(m[5]), sha256: m[6]! }));
}

/** The secret SOURCES.md states the vectors were signed with. */
export function fixtureSecret(): string {
  const text = readFileSync(fixturePath('mlflow', 'SOURCES.md'), 'utf8');
  const m = /Signing vectors \(secret = `([^`]+)`\)/.exec(text);
  if (!m) throw new Error('secret not stated in SOURCES.md');
  return m[1]!;
}

export interface Harness {
  url: string;
  spool: Spool;
  events(): NormalizedEvent[];
  clock: { now: number };
  /** The connector's pollers (its registry auditors) over the same spool and clock, not started. */
  pollers(): Array<Poller & { runOnce(): Promise<boolean> }>;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1:0 with the MLflow routes mounted over an in-memory spool. */
export async function startWebhookServer(config: Record<string, unknown>, nowMs: number, opts: { unverifiedBodyBytes?: number; clock?: { now: number } } = {}): Promise<Harness> {
  const spool = Spool.open({ dir: ':memory:' });
  const logger = silentLogger();
  const ingest = new Ingestor(spool, logger);
  // A test's own clock (moved between polls) when it passes one.
  const clock = opts.clock ?? { now: nowMs };
  const plugin = createMlflowConnector({ now: () => clock.now, unverifiedBodyBytes: opts.unverifiedBodyBytes });
  const app = new Hono();
  const deps: ConnectorDeps<MlflowConfig> = {
    config: MlflowConfig.parse(config),
    ingest,
    spool,
    logger,
    server: { host: '127.0.0.1', port: 0, bodyLimitBytes: 5 * 1024 * 1024 },
    dataDir: ':memory:',
    keepRaw: true,
    env: {},
  };
  plugin.routes!(app, deps);
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    spool,
    clock,
    events: () => spool.read('test', 100_000).filter((r) => r.kind === 'event').map((r) => JSON.parse(r.body) as NormalizedEvent),
    pollers: () => plugin.pollers!(deps) as Array<Poller & { runOnce(): Promise<boolean> }>,
    close: async () => {
      await new Promise<void>((r) => {
        server.close(() => r());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      spool.close();
    },
  };
}
