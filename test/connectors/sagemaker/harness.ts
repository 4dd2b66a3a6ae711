import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectorDeps } from '../../../core/connector.js';
import { Ingestor } from '../../../core/ingest.js';
import { silentLogger } from '../../../core/log.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { Spool } from '../../../core/spool/index.js';
import { SagemakerConfig } from '../../../connectors/sagemaker/config.js';
import { sagemakerConnector } from '../../../connectors/sagemaker/index.js';

export interface Harness {
  url: string;
  spool: Spool;
  deps: ConnectorDeps<SagemakerConfig>;
  events(): NormalizedEvent[];
  close(): Promise<void>;
}

/** A temporary spool + ingestor, as the bridge wires them for a connector. */
export function makeDeps(config: Record<string, unknown> = {}, spoolOpts: { maxBytes?: number; dir?: string } = {}): { deps: ConnectorDeps<SagemakerConfig>; spool: Spool; dir: string } {
  const dir = spoolOpts.dir ?? mkdtempSync(join(tmpdir(), 'mltrail-sm-'));
  const spool = Spool.open({ dir, synchronous: 'NORMAL', maxBytes: spoolOpts.maxBytes, retryAfterS: 7 });
  const logger = silentLogger();
  const deps: ConnectorDeps<SagemakerConfig> = {
    config: SagemakerConfig.parse(config),
    ingest: new Ingestor(spool, logger),
    spool,
    logger,
    server: { host: '127.0.0.1', port: 0, bodyLimitBytes: 5 * 1024 * 1024 },
    dataDir: dir,
    keepRaw: true,
    env: {},
  };
  return { deps, spool, dir };
}

export function spooledEvents(spool: Spool): NormalizedEvent[] {
  return spool.read('test-reader', 100_000).filter((r) => r.kind === 'event').map((r) => JSON.parse(r.body) as NormalizedEvent);
}

/** The SageMaker routes on a real HTTP server at 127.0.0.1:<random port>. */
export async function startRoutes(config: Record<string, unknown> = {}, spoolOpts: { maxBytes?: number } = {}): Promise<Harness> {
  const { deps, spool, dir } = makeDeps(config, spoolOpts);
  const app = new Hono();
  sagemakerConnector.routes!(app, deps);
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const addr = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${addr.port}`,
    spool,
    deps,
    events: () => spooledEvents(spool),
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      spool.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
