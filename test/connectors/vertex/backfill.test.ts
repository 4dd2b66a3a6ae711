import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../bridge/cli/main.js';
import { backfillCommand, buildFilter, parseTimeArg } from '../../../connectors/vertex/backfill.js';
import { vertexLogSelection } from '../../../connectors/vertex/selection.js';
import { VertexConfig } from '../../../connectors/vertex/config.js';
import { vertexConnector } from '../../../connectors/vertex/index.js';
import { Ingestor } from '../../../core/ingest.js';
import { createLogger } from '../../../core/log.js';
import type { CliIo } from '../../../core/connector.js';
import { Spool } from '../../../core/spool/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { httpServer } from './harness.js';
import { LOC, V1, auditEntry } from './samples.js';

const PROJECT = 'ml-prod-123';
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

function io(env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const cli: CliIo = { stdout, stderr, stdin: new PassThrough(), env: { MLTRAIL_CONFIG: '', ...env } };
  return { cli, out: () => out, err: () => err };
}

const entries = Array.from({ length: 5 }, (_, i) =>
  auditEntry({
    method: `${V1}${['JobService.CreateCustomJob', 'ModelService.UploadModel', 'EndpointService.DeployModel', 'PredictionService.Predict', 'ModelService.MergeVersionAliases'][i]}`,
    resourceName: `${LOC}/x/${i}`,
    insertId: `bf-${i}`,
    timestamp: `2026-11-20T0${i}:00:00.000000123Z`,
  }),
);

interface Seen {
  body: Record<string, any>;
  auth?: string;
}

/**
 * A strict fake of Logging's REST entries.list: POST /v2/entries:list with
 * resourceNames, an explicit timestamp window in the filter and orderBy
 * "timestamp asc"; pages of `pageSize` with opaque page tokens.
 */
async function fakeLogging(all: Array<Record<string, any>>, opts: { failFirst?: { status: number; retryAfter?: string } } = {}) {
  const seen: Seen[] = [];
  let failures = opts.failFirst ? 1 : 0;
  const srv = await httpServer((req, res, raw) => {
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/v2/entries:list') return reply(404, { error: { code: 404, message: `no ${req.method} ${req.url}`, status: 'NOT_FOUND' } });
    const body = JSON.parse(raw.toString()) as Record<string, any>;
    seen.push({ body, auth: req.headers.authorization });
    if (failures > 0) {
      failures--;
      return reply(opts.failFirst!.status, { error: { code: opts.failFirst!.status, message: 'Quota exceeded for quota metric Read requests', status: 'RESOURCE_EXHAUSTED' } }, opts.failFirst!.retryAfter ? { 'retry-after': opts.failFirst!.retryAfter } : {});
    }
    const m = /timestamp>="([^"]+)" AND timestamp<"([^"]+)"$/.exec(body.filter ?? '');
    if (!m || body.orderBy !== 'timestamp asc' || JSON.stringify(body.resourceNames) !== JSON.stringify([`projects/${PROJECT}`])) {
      return reply(400, { error: { code: 400, message: `bad request: ${JSON.stringify(body)}`, status: 'INVALID_ARGUMENT' } });
    }
    const [since, until] = [Date.parse(m[1]!), Date.parse(m[2]!)];
    const inWindow = all.filter((e) => Date.parse(e.timestamp) >= since && Date.parse(e.timestamp) < until);
    const start = body.pageToken ? Number(Buffer.from(body.pageToken, 'base64').toString()) : 0;
    const page = inWindow.slice(start, start + body.pageSize);
    const next = start + body.pageSize < inWindow.length ? Buffer.from(String(start + body.pageSize)).toString('base64') : undefined;
    reply(200, { entries: page.length ? page : undefined, nextPageToken: next });
  });
  closers.push(srv.close);
  return { url: srv.url, seen };
}

const readEvents = (dir: string) => {
  const spool = Spool.open({ dir, synchronous: 'NORMAL' });
  try {
    return spool.read('test', 1000, 0).filter((r) => r.kind === 'event').map((r) => JSON.parse(r.body) as Record<string, any>);
  } finally {
    spool.close();
  }
};

describe('mltrail backfill vertex (REST entries.list against a local fake)', () => {
  it('pages oldest-first with an explicit window, writes the spool, and a rerun only finds duplicates', async () => {
    const fake = await fakeLogging(entries);
    const dataDir = mkdtempSync(join(tmpdir(), 'mltrail-bf-'));
    const args = ['--project', PROJECT, '--since', '2026-11-20T01:00:00Z', '--until', '2026-11-21T00:00:00Z', '--page-size', '2', '--endpoint', fake.url, '--data-dir', dataDir];
    const t = io();
    expect(await backfillCommand.run(args, t.cli)).toBe(0);
    expect(fake.seen.map((s) => s.body.pageToken ?? null)).toEqual([null, 'Mg==']);
    expect(fake.seen[0]!.body).toMatchObject({
      resourceNames: [`projects/${PROJECT}`],
      orderBy: 'timestamp asc',
      pageSize: 2,
      filter: `(${vertexLogSelection(PROJECT)}) AND timestamp>="2026-11-20T01:00:00.000Z" AND timestamp<"2026-11-21T00:00:00.000Z"`,
    });
    expect(fake.seen.every((s) => s.auth === undefined)).toBe(true); // plain http: no credentials sent
    const events = readEvents(dataDir);
    expect(events.map((e) => [e.details.insert_id, e.channel, e.stage, e.action])).toEqual([
      ['bf-1', 'vertex.backfill', 'registry', 'model.upload'],
      ['bf-2', 'vertex.backfill', 'serving', 'endpoint.deploy'],
      ['bf-3', 'vertex.backfill', 'serving', 'endpoint.invoke'],
      ['bf-4', 'vertex.backfill', 'registry', 'model_version.alias_set'],
    ]);
    expect(t.err()).toMatch(/2 page\(s\), 4 entries, 4 accepted, 0 duplicates, 0 quarantined/);
    const again = io();
    expect(await backfillCommand.run(args, again.cli)).toBe(0);
    expect(again.err()).toMatch(/4 entries, 0 accepted, 4 duplicates/);
  });

  it('an entry already pushed through Pub/Sub collapses with its backfilled copy; --resume continues after the last commit', async () => {
    const fake = await fakeLogging(entries);
    const dataDir = mkdtempSync(join(tmpdir(), 'mltrail-bf-'));
    // entries[0] arrived earlier by Pub/Sub push (wrapped, base64, trailing newline).
    const spool = Spool.open({ dir: dataDir, synchronous: 'NORMAL' });
    const pushed = vertexConnector.normalize!(
      { message: { data: Buffer.from(`${JSON.stringify(entries[0])}\n`).toString('base64'), messageId: '1' }, subscription: 'projects/p/subscriptions/s' },
      { channel: 'vertex.pubsub_push', receivedTime: new Date().toISOString(), keepRaw: true, config: VertexConfig.parse({}) },
    );
    expect((await new Ingestor(spool, createLogger({ level: 'silent' })).ingest(pushed.events, 'vertex.pubsub_push')).accepted).toHaveLength(1);
    spool.close();
    const first = io();
    expect(await backfillCommand.run(['--project', PROJECT, '--since', '2026-11-20T00:00:00Z', '--until', '2026-11-20T02:30:00Z', '--endpoint', fake.url, '--data-dir', dataDir], first.cli)).toBe(0);
    expect(first.err()).toMatch(/3 entries, 2 accepted, 1 duplicates/);
    const resumed = io();
    expect(await backfillCommand.run(['--project', PROJECT, '--resume', '--until', '2026-11-21T00:00:00Z', '--endpoint', fake.url, '--data-dir', dataDir], resumed.cli)).toBe(0);
    // Resumes at the last committed timestamp (inclusive): that one entry is a duplicate, the rest are new.
    expect(fake.seen.at(-1)!.body.filter).toMatch(/timestamp>="2026-11-20T02:00:00.000000123Z"/);
    expect(resumed.err()).toMatch(/3 entries, 2 accepted, 1 duplicates/);
    expect(readEvents(dataDir)).toHaveLength(5);
  });

  it('says when --since reaches past the dedup window: entries pushed before it would be taken again, not as duplicates', async () => {
    const fake = await fakeLogging(entries);
    const dataDir = mkdtempSync(join(tmpdir(), 'mltrail-bf-'));
    const run = async (sinceMs: number) => {
      const t = io();
      const args = ['--project', PROJECT, '--since', new Date(Date.now() - sinceMs).toISOString(), '--endpoint', fake.url, '--data-dir', dataDir];
      expect(await backfillCommand.run(args, t.cli)).toBe(0);
      return t.err();
    };
    expect(await run(3600_000)).not.toMatch(/dedup_window_hours/);
    expect(await run(30 * 86_400_000)).toMatch(/no longer known as duplicates: backfilled again they are new events \(and alerts\); if the sink was already live before \S+Z, give --until the time it started/);
    // --stdout writes no spool: nothing to say.
    const t = io();
    expect(await backfillCommand.run(['--project', PROJECT, '--since', new Date(Date.now() - 30 * 86_400_000).toISOString(), '--endpoint', fake.url, '--stdout'], t.cli)).toBe(0);
    expect(t.err()).not.toMatch(/dedup_window_hours/);
  });

  it('--stdout prints the window\'s events (audit and Model Monitoring) as NDJSON', async () => {
    const monitoring = { ...readFixtureJson<Record<string, any>>('vertex', 'vertex-model-monitoring-anomaly-doc-example.json'), timestamp: '2026-11-20T03:30:00Z' };
    const fake = await fakeLogging([...entries, monitoring].sort((a, b) => Date.parse(a.timestamp as string) - Date.parse(b.timestamp as string)));
    const t = io();
    expect(await backfillCommand.run(['--project', PROJECT, '--since', '2026-11-20T03:00:00Z', '--until', '2026-11-20T04:00:00Z', '--stdout', '--endpoint', fake.url], t.cli)).toBe(0);
    const lines = t.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(lines.map((e) => e.action)).toEqual(['endpoint.invoke', 'monitor.anomaly']);
  });

  it('retries a 429 (Retry-After honoured) through the shared retry mechanism', async () => {
    const fake = await fakeLogging(entries, { failFirst: { status: 429, retryAfter: '0' } });
    const t = io();
    expect(await backfillCommand.run(['--project', PROJECT, '--since', '2026-11-20T04:00:00Z', '--until', '2026-11-20T05:00:00Z', '--stdout', '--endpoint', fake.url], t.cli)).toBe(0);
    expect(fake.seen).toHaveLength(2);
    expect(t.err()).toMatch(/retrying: entries\.list HTTP 429: RESOURCE_EXHAUSTED Quota exceeded/);
    expect(t.out().trim().split('\n')).toHaveLength(1);
  });

  it('a connection cut before an answer is retried, and the message says why (undici only says "fetch failed")', async () => {
    const fake = await fakeLogging(entries);
    let cut = 0;
    // A proxy that resets the first connection, then passes requests through to the fake.
    const proxy = await httpServer(async (req, res, raw) => {
      if (cut++ === 0) return void req.socket.destroy();
      const r = await fetch(`${fake.url}${req.url}`, { method: req.method, headers: { 'content-type': 'application/json' }, body: raw });
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(await r.text());
    });
    closers.push(proxy.close);
    const t = io();
    expect(await backfillCommand.run(['--project', PROJECT, '--since', '2026-11-20T04:00:00Z', '--until', '2026-11-20T05:00:00Z', '--stdout', '--endpoint', proxy.url], t.cli)).toBe(0);
    expect(t.err()).toMatch(/entries\.list: fetch failed: \S/);
    expect(t.out().trim().split('\n')).toHaveLength(1);
  });

  it('retries a 500 (a server error is transient, not the end of the listing)', async () => {
    const fake = await fakeLogging(entries, { failFirst: { status: 500, retryAfter: '0' } });
    const t = io();
    expect(await backfillCommand.run(['--project', PROJECT, '--since', '2026-11-20T04:00:00Z', '--until', '2026-11-20T05:00:00Z', '--stdout', '--endpoint', fake.url], t.cli)).toBe(0);
    expect(fake.seen).toHaveLength(2);
    expect(t.out().trim().split('\n')).toHaveLength(1);
  });

  it('--max-entries stops after that many entries, mid-page, and --resume continues from the last one committed', async () => {
    const fake = await fakeLogging(entries);
    const dataDir = mkdtempSync(join(tmpdir(), 'mltrail-bf-'));
    const window = ['--project', PROJECT, '--until', '2026-11-21T00:00:00Z', '--page-size', '2', '--endpoint', fake.url, '--data-dir', dataDir];
    const t = io();
    expect(await backfillCommand.run([...window, '--since', '2026-11-20T00:00:00Z', '--max-entries', '3'], t.cli)).toBe(0);
    expect(t.err()).toMatch(/2 page\(s\), 3 entries, 3 accepted/);
    expect(fake.seen).toHaveLength(2);
    expect(readEvents(dataDir).map((e) => e.details.insert_id)).toEqual(['bf-0', 'bf-1', 'bf-2']);
    const resumed = io();
    expect(await backfillCommand.run([...window, '--resume'], resumed.cli)).toBe(0);
    expect(fake.seen.at(-1)!.body.filter).toMatch(/timestamp>="2026-11-20T02:00:00.000000123Z"/);
    expect(readEvents(dataDir).map((e) => e.details.insert_id)).toEqual(['bf-0', 'bf-1', 'bf-2', 'bf-3', 'bf-4']);
  });

  it('exits 1 when an entry had to be quarantined', async () => {
    // Nested deeper than the normalizer reads (200 levels): rejected, quarantined.
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 300; i++) deep = { a: deep };
    const fake = await fakeLogging([...entries.slice(0, 1), { ...entries[1]!, timestamp: '2026-11-20T01:00:00Z', protoPayload: deep }]);
    const dataDir = mkdtempSync(join(tmpdir(), 'mltrail-bf-'));
    const t = io();
    expect(await backfillCommand.run(['--project', PROJECT, '--since', '2026-11-20T00:00:00Z', '--until', '2026-11-21T00:00:00Z', '--endpoint', fake.url, '--data-dir', dataDir], t.cli)).toBe(1);
    expect(t.err()).toMatch(/2 entries, 1 accepted, 0 duplicates, 1 quarantined/);
  });

  it('a 403 stops at once with the API message, exit 1', async () => {
    const fake = await fakeLogging(entries, { failFirst: { status: 403 } });
    const t = io();
    expect(await backfillCommand.run(['--project', PROJECT, '--since', '1d', '--stdout', '--endpoint', fake.url], t.cli)).toBe(1);
    expect(fake.seen).toHaveLength(1);
    expect(t.err()).toMatch(/MLTRAIL_ERR_UPSTREAM: entries\.list HTTP 403/);
  });

  it('is a CLI command: usage errors exit 2 and name the flag', async () => {
    const t = io();
    expect(await main(['backfill', 'vertex', '--since', '1d'], t.cli)).toBe(2);
    expect(t.err()).toMatch(/MLTRAIL_ERR_USAGE: missing --project/);
    const u = io();
    expect(await main(['backfill', 'vertex', '--project', PROJECT, '--since', 'yesterday'], u.cli)).toBe(2);
    expect(u.err()).toMatch(/--since "yesterday" is not an RFC 3339 time/);
    expect(parseTimeArg('since', '36h', Date.parse('2026-11-20T12:00:00Z'))).toBe('2026-11-19T00:00:00.000Z');
    expect(parseTimeArg('since', '2026-11-01')).toBe('2026-11-01T00:00:00.000Z');
    expect(parseTimeArg('since', '2026-11-01T10:30+01:00')).toBe('2026-11-01T09:30:00.000Z');
    expect(parseTimeArg('since', '2024-02-29T10:00:00.1234567891Z')).toBe('2024-02-29T10:00:00.123Z');
    // Date.parse rolled these over (March 1, the next day) instead of refusing them.
    for (const bad of ['2024-02-30', '2023-02-29T10:00Z', '2024-05-01T24:00:00Z', '2024-02-31T10:00:00+02:00', '1969-12-31']) {
      expect(() => parseTimeArg('since', bad)).toThrow(`--since "${bad}" is not a valid time`);
    }
    expect(buildFilter('p', 'a', 'b', 'logName:"x"')).toBe('(logName:"x") AND timestamp>="a" AND timestamp<"b"');
  });
});

describe('mltrail backfill vertex --transport grpc (@google-cloud/logging against a local ListLogEntries fake)', () => {
  it('decodes protobuf Any audit payloads and Struct JSON payloads; ids equal the pushed/REST ones, nanoseconds kept', async () => {
    const { startFakeLogging } = await import('./logging-fake.js');
    const monitoring = { ...readFixtureJson<Record<string, any>>('vertex', 'vertex-model-monitoring-anomaly-doc-example.json'), timestamp: '2026-11-20T03:30:00Z' };
    const all = [...entries, monitoring].sort((a, b) => Date.parse(a.timestamp as string) - Date.parse(b.timestamp as string));
    const fake = await startFakeLogging(PROJECT, all);
    closers.push(fake.close);
    const t = io();
    expect(await backfillCommand.run(['--project', PROJECT, '--since', '2026-11-20T00:00:00Z', '--until', '2026-11-21T00:00:00Z', '--page-size', '4', '--stdout', '--transport', 'grpc', '--endpoint', fake.endpoint], t.cli)).toBe(0);
    expect(fake.requests.map((r) => r.pageToken || null)).toEqual([null, 'NA==']);
    expect(fake.requests[0]).toMatchObject({ orderBy: 'timestamp asc', pageSize: 4, resourceNames: [`projects/${PROJECT}`] });
    const got = t.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(got.map((e) => e.action)).toEqual(['training_job.create', 'model.upload', 'endpoint.deploy', 'endpoint.invoke', 'monitor.anomaly', 'model_version.alias_set']);
    // The same entries normalized from their JSON (push/REST) form give the same ids.
    const ctx = { channel: 'x', receivedTime: new Date().toISOString(), keepRaw: false, config: VertexConfig.parse({}) };
    const expectedIds = all.map((e) => vertexConnector.normalize!(e, ctx).events[0]!.id);
    expect(got.map((e) => e.id)).toEqual(expectedIds);
    expect(got[0]!.details.timestamp).toBe('2026-11-20T00:00:00.000000123Z');
    expect(got[0]!.actor).toMatchObject({ email: 'alice@example.com', ip: '203.0.113.7' });
    expect(got[4]!.details.features).toEqual([
      { feature: 'age', deviation: 0.9, threshold: 0.7, exceeded: true },
      { feature: 'education', deviation: 0.6, threshold: 0.3, exceeded: true },
    ]);
  });
});
