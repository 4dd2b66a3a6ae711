import { mkdirSync, symlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attestCommand } from '../../bridge/attest.js';
import { hashDirectory } from '../../core/integrity/manifest.js';
import { modelDir, tmpDir } from '../helpers/bridge.js';

const TOKEN = 'attest-cli-token-0123456789';

interface Seen { method: string; url: string; headers: IncomingMessage['headers']; body: string }

/** A strict stand-in for the bridge's POST /v1/attest: answers the scripted statuses in order, records each request. */
async function fakeBridge(script: Array<{ status: number; headers?: Record<string, string>; body?: unknown }>, route = '/v1/attest') {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (req.method !== 'POST' || req.url !== route) return void res.writeHead(404).end();
      const step = script[Math.min(seen.length - 1, script.length - 1)]!;
      res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
      res.end(JSON.stringify(step.body ?? (step.status === 200 ? { id: 'ev-1', sha256: 'x', accepted: 1, duplicates: 0 } : { error: { code: 'X', message: `status ${step.status}` } })));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}
const servers: Array<ReturnType<typeof createServer>> = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

function io(env: Record<string, string> = { MLTRAIL_INGEST_TOKEN: TOKEN }) {
  const o = { out: '', err: '' };
  const obj = { stdout: { write: (s: string) => ((o.out += s), true) }, stderr: { write: (s: string) => ((o.err += s), true) }, stdin: process.stdin, env } as never;
  return { io: obj, o };
}

const args = (dir: string, url: string) => ['--model', 'fraud', '--version', '8', '--path', dir, '--url', url, '--where', 'pod/fraud-0'];

describe('mltrail attest (against a strict fake bridge)', () => {
  it('names symlinks to nothing it left out, and attests the rest (their digest unchanged)', async () => {
    const dir = modelDir();
    const root = (await hashDirectory(dir)).root;
    symlinkSync('alice@host.1234:1700000000', join(dir, '.#MLmodel'));
    const bridge = await fakeBridge([{ status: 200 }]);
    const { io: cio, o } = io();
    expect(await attestCommand(args(dir, bridge.url), cio)).toBe(0);
    expect((JSON.parse(bridge.seen[0]!.body) as { sha256: string }).sha256).toBe(root);
    expect(o.err).toContain('attest: left out, symlinks to nothing (no content to hash): .#MLmodel');
  });

  it('retries a 5xx and sends the same attestation again (same time, so the bridge collapses it); exit 0', async () => {
    const dir = modelDir();
    const bridge = await fakeBridge([{ status: 503 }, { status: 200 }]);
    const { io: cio, o } = io();
    expect(await attestCommand(args(dir, bridge.url), cio)).toBe(0);
    expect(bridge.seen).toHaveLength(2);
    const first = bridge.seen[0]!;
    expect(first.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(first.headers['content-type']).toBe('application/json');
    const body = JSON.parse(first.body) as Record<string, unknown>;
    expect(body).toEqual({ model: 'fraud', version: '8', sha256: (await hashDirectory(dir)).root, where: 'pod/fraud-0', time: expect.any(String) });
    expect(new Date(body.time as string).toISOString()).toBe(body.time);
    expect(bridge.seen[1]!.body).toBe(first.body);
    expect(o.err).toMatch(/attempt 1 failed: 503/);
  });

  it('a connection that fails says why (undici only says "fetch failed"), and is retried', async () => {
    const dir = modelDir();
    let dropped = 0;
    const server = createServer((req, res) => {
      // The first request's connection is cut before any answer: a bridge restarting, a proxy resetting.
      if (dropped++ === 0) return void req.socket.destroy();
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'ev-1', sha256: 'x', accepted: 1, duplicates: 0 })));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { io: cio, o } = io();
    expect(await attestCommand(args(dir, url), cio)).toBe(0);
    expect(o.err).toMatch(new RegExp(`attempt 1 failed: cannot reach ${url}: fetch failed: \\S`));
  });

  it('retries a 429 (the bridge spool full)', async () => {
    const bridge = await fakeBridge([{ status: 429, headers: { 'retry-after': '0' } }, { status: 200 }]);
    const { io: cio } = io();
    expect(await attestCommand(args(modelDir(), bridge.url), cio)).toBe(0);
    expect(bridge.seen).toHaveLength(2);
  });

  it('keeps the path of a bridge published under a prefix (reverse proxy): BRIDGE/v1/attest', async () => {
    const bridge = await fakeBridge([{ status: 200 }], '/mltrail/v1/attest');
    for (const url of [`${bridge.url}/mltrail`, `${bridge.url}/mltrail/`]) {
      const { io: cio } = io();
      expect(await attestCommand(args(modelDir(), url), cio)).toBe(0);
    }
    expect(bridge.seen.map((r) => r.url)).toEqual(['/mltrail/v1/attest', '/mltrail/v1/attest']);
  });

  it('a --url that is not an http(s) URL is a usage error (2), not five failed attempts', async () => {
    const { io: cio } = io();
    await expect(attestCommand(args(modelDir(), 'bridge:8787'), cio)).rejects.toMatchObject({ code: 'MLTRAIL_ERR_USAGE' });
    await expect(attestCommand(args(modelDir(), 'not a url'), cio)).rejects.toMatchObject({ code: 'MLTRAIL_ERR_USAGE' });
  });

  it('a 400 is final: one request, exit 1', async () => {
    const bridge = await fakeBridge([{ status: 400 }, { status: 200 }]);
    const { io: cio, o } = io();
    expect(await attestCommand(args(modelDir(), bridge.url), cio)).toBe(1);
    expect(bridge.seen).toHaveLength(1);
    expect(o.err).toMatch(/refused: 400/);
    expect(o.out).toBe('');
  });

  it('refuses to attest a directory holding no files (the model was not mounted), without posting', async () => {
    const bridge = await fakeBridge([{ status: 200 }]);
    const empty = join(tmpDir(), 'empty');
    mkdirSync(empty);
    const { io: cio } = io();
    await expect(attestCommand(args(empty, bridge.url), cio)).rejects.toMatchObject({ code: 'MLTRAIL_ERR_USAGE' });
    expect(bridge.seen).toHaveLength(0);
  });
});
