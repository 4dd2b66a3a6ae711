import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { SinkRunner } from '../../../core/delivery/runner.js';
import { silentLogger } from '../../../core/log.js';
import type { Metrics } from '../../../core/metrics.js';
import { makeEvent, type Alert, type NormalizedEvent } from '../../../core/schema/index.js';
import type { SinkCommonConfig, SinkFactory } from '../../../core/sink.js';
import { Spool, type SpoolItem } from '../../../core/spool/index.js';

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Decoded body (gunzipped when Content-Encoding: gzip). */
  body: string;
  /** Bytes on the wire. */
  wireBytes: number;
}

export type FakeReply =
  | { status: number; json?: unknown; text?: string; headers?: Record<string, string> }
  /** Never answer (the client's timeout must fire). */
  | 'hang'
  /** Drop the connection without an answer. */
  | 'reset';

/**
 * A local HTTP server on 127.0.0.1:0 for strict protocol fakes: decodes gzip,
 * enforces a wire-size cap (413 like the real servers), records every request,
 * and lets a test queue faults that answer the next matching requests.
 */
export class FakeHttp {
  readonly requests: FakeRequest[] = [];
  private readonly faults: Array<{ match: (r: FakeRequest) => boolean; reply: FakeReply | ((r: FakeRequest) => FakeReply); left: number }> = [];
  private readonly hung = new Set<ServerResponse>();
  private server!: Server;
  url = '';
  /** Largest accepted (decoded) body; larger → 413. */
  maxBodyBytes = 50 * 1024 * 1024;

  constructor(private readonly handler: (r: FakeRequest) => FakeReply | Promise<FakeReply>) {}

  /** Listen on 127.0.0.1:0 (https when a key and certificate are given). */
  async start(tls?: { key: string; cert: string }): Promise<this> {
    const onRequest = (req: IncomingMessage, res: ServerResponse) => void this.onRequest(req, res);
    this.server = tls ? createHttpsServer(tls, onRequest) : createServer(onRequest);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `${tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Answer the next `times` requests matching `match` with `reply` instead of the protocol handler. */
  fault(match: (r: FakeRequest) => boolean, reply: FakeReply | ((r: FakeRequest) => FakeReply), times = 1): void {
    this.faults.push({ match, reply, left: times });
  }

  async close(): Promise<void> {
    for (const r of this.hung) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const wire = Buffer.concat(chunks);
    const u = new URL(req.url ?? '/', 'http://x');
    let body: string;
    try {
      body = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(wire) : wire).toString('utf8');
    } catch {
      return this.reply(res, { status: 400, text: 'bad gzip' });
    }
    const r: FakeRequest = { method: req.method ?? 'GET', path: u.pathname, query: u.searchParams, headers: req.headers, body, wireBytes: wire.length };
    this.requests.push(r);
    if (Buffer.byteLength(body) > this.maxBodyBytes) return this.reply(res, { status: 413, text: 'Content-Length of request too large' });
    const f = this.faults.find((x) => x.left > 0 && x.match(r));
    if (f) {
      f.left--;
      return this.reply(res, typeof f.reply === 'function' ? f.reply(r) : f.reply);
    }
    try {
      this.reply(res, await this.handler(r));
    } catch (err) {
      this.reply(res, { status: 500, json: { error: String(err) } });
    }
  }

  private reply(res: ServerResponse, reply: FakeReply): void {
    if (reply === 'hang') {
      this.hung.add(res);
      return;
    }
    if (reply === 'reset') {
      res.socket?.destroy();
      return;
    }
    const text = reply.json !== undefined ? JSON.stringify(reply.json) : (reply.text ?? '');
    res.writeHead(reply.status, { 'content-type': reply.json !== undefined ? 'application/json' : 'text/plain', ...reply.headers });
    res.end(text);
  }
}

export const tmpDir = () => mkdtempSync(join(tmpdir(), 'mltrail-sink-'));

const PLATFORMS = ['mlflow', 'sagemaker', 'vertex', 'kubeflow'] as const;

/** A valid normalized event (distinct per `n`). */
export function testEvent(n: number, over: Partial<NormalizedEvent> = {}): NormalizedEvent {
  const platform = PLATFORMS[n % PLATFORMS.length]!;
  return makeEvent({
    id: `evt-${String(n).padStart(4, '0')}`,
    time: new Date(Date.UTC(2026, 10, 25, 12, 0, n % 60, n % 1000)).toISOString(),
    received_time: new Date(Date.UTC(2026, 10, 25, 12, 1, n % 60)).toISOString(),
    platform,
    channel: `${platform}.test`,
    stage: 'registry',
    action: 'model_version.create',
    operation: 'CreateModelVersion',
    service: platform === 'sagemaker' ? 'sagemaker.amazonaws.com' : undefined,
    outcome: n % 5 === 0 ? 'failure' : 'success',
    actor: { id: `u-${n}`, name: `user${n}`, email: `user${n}@example.com`, type: 'user', ip: '203.0.113.10', user_agent: 'mltrail-test' },
    resource: { type: 'model_version', id: `fraud/${n}`, name: 'fraud', version: String(n) },
    cloud: platform === 'sagemaker' ? { provider: 'aws', account: '123456789012', region: 'us-east-1' } : platform === 'vertex' ? { provider: 'gcp', project: 'ml-prod', region: 'us-central1' } : undefined,
    ml: { model: { name: 'fraud', version: String(n), approval: 'pending' } },
    ...over,
  } as never);
}

/** A valid alert about event `n`. */
export function testAlert(n: number, over: Partial<Alert> = {}): Alert {
  return {
    schema_version: '1',
    id: `alert-${String(n).padStart(4, '0')}`,
    rule_id: 'registry.unapproved_promotion',
    stage: 'registry',
    severity: 'high',
    mode: 'alert',
    title: 'Model version promoted without approval',
    summary: `fraud v${n} reached production without an approval`,
    time: new Date(Date.UTC(2026, 10, 25, 12, 0, n % 60)).toISOString(),
    entity: { type: 'model_version', id: `fraud/${n}`, name: 'fraud', platform: 'mlflow' },
    evidence: [`evt-${String(n).padStart(4, '0')}`],
    details: { approver: null },
    ...over,
  };
}

export function items(records: Array<NormalizedEvent | Alert>): SpoolItem[] {
  return records.map((r) => ({ kind: 'rule_id' in r ? 'alert' : 'event', id: r.id, body: JSON.stringify(r) }));
}

/** Fast retry timings for tests. */
export const FAST = { retry: { initial_ms: 20, max_ms: 200 }, batch: { max_events: 50, max_bytes: 1_000_000, timeout_ms: 0 }, request_timeout_ms: 2000 };

/**
 * A spool + the real SinkRunner around a sink built from its factory and
 * config (validated by the factory's schema, as the bridge does).
 */
export class Harness<C extends SinkCommonConfig> {
  spool: Spool;
  runner!: SinkRunner;
  constructor(
    readonly factory: SinkFactory<C>,
    readonly rawConfig: Record<string, unknown>,
    readonly dir = tmpDir(),
    readonly name = factory.type,
    /** The process's metrics, when a test reads /metrics counters. */
    readonly metrics?: Metrics,
  ) {
    this.spool = Spool.open({ dir, synchronous: 'NORMAL' });
  }

  get config(): C {
    return this.factory.configSchema.parse(this.rawConfig);
  }

  start(): this {
    const cfg = this.config;
    const sink = this.factory.create(cfg, { name: this.name, logger: silentLogger(), dataDir: this.dir, spool: this.spool, env: {} });
    this.runner = new SinkRunner(this.spool, sink, cfg, silentLogger(), this.metrics);
    this.runner.start();
    return this;
  }

  async add(records: Array<NormalizedEvent | Alert>): Promise<void> {
    await this.spool.append(items(records));
  }

  async drain(ms = 10_000): Promise<boolean> {
    return this.runner.drain(ms);
  }

  deadLetters() {
    return this.spool.listDeadLetters({ sink: this.name });
  }

  /** Stop the runner and close the spool (a "crash" between sends keeps the cursor behind). */
  async stop(): Promise<void> {
    await this.runner?.stop();
    this.spool.close();
  }

  /** Simulate a restart: stop, reopen the same spool directory, start a fresh sink. */
  async restart(): Promise<void> {
    await this.stop();
    this.spool = Spool.open({ dir: this.dir, synchronous: 'NORMAL' });
    this.start();
  }
}

/** Wait until `cond` holds (or fail after `ms`). */
/** Count occurrences of each id. */
export function counts(ids: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

/**
 * A throwaway CA and a server certificate for 127.0.0.1 (openssl), for TLS
 * tests: returns the file paths and PEM texts.
 */
export function makeTestPki(): { dir: string; caFile: string; key: string; cert: string } {
  const dir = tmpDir();
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=mltrail-test-ca');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  run('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '1', '-extfile', 'ext.cnf');
  return { dir, caFile: join(dir, 'ca.pem'), key: readFileSync(join(dir, 'srv.key'), 'utf8'), cert: readFileSync(join(dir, 'srv.pem'), 'utf8') };
}

export { until } from '../../helpers/wait.js';
