import type { X509Certificate } from 'node:crypto';
import type { Hono } from 'hono';
import type { z } from 'zod';
import type { Ingestor } from './ingest.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { NormalizedEvent, Platform } from './schema/index.js';
import type { Spool } from './spool/index.js';

/**
 * The connector contract (every connectors/<platform>/ obeys it):
 * - `configSchema` validates `connectors.<name>` in the YAML (must accept `{}`);
 *   `fromEnv` maps the connector's environment variables onto that config.
 * - `normalize` turns one native record — in any envelope the connector accepts
 *   over the network — into normalized events, without I/O; the CLI's
 *   `normalize` and `replay` and the live routes all use it.
 * - `routes` mounts HTTP ingest routes; each authenticates its sender the way
 *   the platform does, answers 2xx only after `deps.ingest.ingest()` resolved
 *   (events committed), quarantines what it cannot parse and reports auth
 *   failures through `deps.ingest.authFailure()`.
 * - `pollers` are started by `serve` and stopped on shutdown; they ack/delete
 *   upstream only after the spool commit, and keep their cursors in
 *   `deps.spool.state`.
 */
export interface ConnectorPlugin<C = unknown> {
  /** Config key and `--platform` name. */
  name: string;
  platform: Platform;
  description: string;
  configSchema: z.ZodType<C>;
  fromEnv?(env: NodeJS.ProcessEnv): Record<string, unknown> | undefined;
  /** True when the record's shape belongs to this platform (`--platform auto`). */
  detect?(record: unknown): boolean;
  normalize?(record: unknown, ctx: NormalizeContext<C>): NormalizeOutput;
  routes?(app: Hono, deps: ConnectorDeps<C>): void;
  pollers?(deps: ConnectorDeps<C>): Poller[];
  /** Extra CLI commands (e.g. `backfill vertex`). */
  commands?: CliCommand[];
  /** PEM files of CAs whose client certificates the connector's routes identify senders by: the HTTPS server trusts them. */
  clientCaFiles?(config: C): string[];
}

export interface NormalizeContext<C = unknown> {
  /** Channel to stamp on events (e.g. `mlflow.webhook`, or `file` for the CLI). */
  channel: string;
  receivedTime: string;
  keepRaw: boolean;
  config: C;
  /** Extra transport facts (HTTP headers, Pub/Sub attributes, file name). */
  meta?: Record<string, unknown>;
  /**
   * Leave out what the connector's live route leaves out (the Kubeflow audit route's namespace filter):
   * `replay` judges only what `serve` would have kept. Connectors whose routes filter nothing ignore it.
   */
  liveFilter?: boolean;
}

export interface Rejection {
  reason: string;
  /** Position inside the envelope (e.g. Records[3]). */
  path?: string;
  field?: string;
  /** The offending piece of input, kept in quarantine. */
  record?: unknown;
}

export interface NormalizeOutput {
  events: NormalizedEvent[];
  /** Records that could not be normalized (quarantined by the caller). */
  rejected: Rejection[];
  /** Records recognised and deliberately skipped (digest files, test events). */
  skipped: Array<{ reason: string; path?: string }>;
  /** Items the live filter left out (`liveFilter`), counted by reason: expected in bulk, not reported one by one. */
  filtered?: Record<string, number>;
}

export const emptyOutput = (): NormalizeOutput => ({ events: [], rejected: [], skipped: [] });

export interface ServerSettings {
  host: string;
  port: number;
  ingestToken?: string;
  bodyLimitBytes: number;
  /**
   * The routes are served over plain HTTP (`mltrail serve`): no client certificate is ever verified here, so a
   * route that can authenticate by one says at start when that is configured. Unset where the embedder does not say.
   */
  plainHttp?: boolean;
  /**
   * Whether the TLS layer asks clients for a certificate and verifies it (`server.tls` with client CAs). False: TLS
   * ends here, but no client certificate is ever verified. Unset where the embedder does not say.
   */
  verifiesClientCerts?: boolean;
  /**
   * The client CA certificates the TLS layer verifies against now, by file (`server.tls`): replaced together with
   * the server's secure context when a CA file changes, so a route pinning identities to a CA file (Kubeflow
   * `client_ca_file`) judges by the same CAs the handshake did. Unset without `server.tls`.
   */
  clientCas?: ClientCaSet;
}

/** The client CA certificates in use, by the file they were read from. */
export interface ClientCaSet {
  /** The certificates of `file` as last read, or undefined for a file this server does not trust. */
  certs(file: string): X509Certificate[] | undefined;
}

export interface ConnectorDeps<C = unknown> {
  config: C;
  ingest: Ingestor;
  spool: Spool;
  logger: Logger;
  metrics?: Metrics;
  server: ServerSettings;
  dataDir: string;
  keepRaw: boolean;
  env: NodeJS.ProcessEnv;
}

export interface Poller {
  name: string;
  start(): void;
  stop(): Promise<void>;
  health?(): { state: 'healthy' | 'degraded' | 'unhealthy'; reason?: string };
}

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

/** A CLI subcommand contributed by a connector or sink (`mltrail <name> ...`). */
export interface CliCommand {
  /** Words after `mltrail`, e.g. `backfill vertex`. */
  name: string;
  summary: string;
  usage: string;
  /** Returns the exit code. */
  run(args: string[], io: CliIo): Promise<number>;
}
