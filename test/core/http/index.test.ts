import { createServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTestPki } from '../../bridge/sinks/helpers.js';
import { bearerToken, clientErrorHandler, errorResponse, parseJsonRecords, readBody, readRawBody, safeEqualAny, splitJsonRecords } from '../../../core/http/index.js';

describe('splitJsonRecords', () => {
  it('reads one object, an array, or NDJSON', () => {
    expect(splitJsonRecords('{"a":1}')).toEqual({ records: [{ a: 1 }], bad: [] });
    expect(splitJsonRecords('\uFEFF[{"a":1},2]')).toEqual({ records: [{ a: 1 }, 2], bad: [] });
    expect(splitJsonRecords('{"a":1}\n{"a":2}\n')).toEqual({ records: [{ a: 1 }, { a: 2 }], lines: [1, 2], bad: [] });
  });

  it('keeps the NDJSON lines that parse and names the others by physical line (blank lines and CRLF count)', () => {
    const out = splitJsonRecords('\n\r\n{"a":1}\r\n{"broken\r\n\n{"a":2}\n');
    expect(out.records).toEqual([{ a: 1 }, { a: 2 }]);
    expect(out.lines).toEqual([3, 6]);
    expect(out.bad).toEqual([{ line: 4, text: '{"broken', reason: expect.stringMatching(/^NDJSON line 4 is not JSON: /) }]);
  });

  it('throws INVALID_JSON only when nothing is JSON', () => {
    expect(() => splitJsonRecords('  \n ')).toThrow(/empty body/);
    expect(() => splitJsonRecords('{"not json')).toThrow(/^body is not JSON/);
    expect(() => splitJsonRecords('\n{"a\n{"b')).toThrow(expect.objectContaining({ code: 'MLTRAIL_ERR_INVALID_JSON', extra: { line: 2 } }));
  });
});

describe('parseJsonRecords (all or nothing, for one-document platforms)', () => {
  it('refuses a body with any bad line, naming its physical line', () => {
    expect(parseJsonRecords('{"a":1}\n{"a":2}')).toEqual([{ a: 1 }, { a: 2 }]);
    expect(() => parseJsonRecords('\n\n{"a":1}\n{"broken')).toThrow(
      expect.objectContaining({ code: 'MLTRAIL_ERR_INVALID_JSON', message: expect.stringMatching(/^NDJSON line 4 /), extra: { line: 4 } }),
    );
  });
});

describe('clientErrorHandler', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  const raw = (port: number, text: string) =>
    new Promise<string>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1', () => sock.end(text));
      let data = '';
      sock.on('data', (d) => (data += d.toString()));
      sock.on('error', reject);
      sock.on('close', () => resolve(data));
    });

  it('answers parser errors with the JSON error shape and closes the connection', async () => {
    server = createServer((_req, res) => res.end('ok'));
    server.on('clientError', clientErrorHandler());
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const big = await raw(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(big).toMatch(/\r\nContent-Type: application\/json\r\n/);
    expect(big).toMatch(/\r\nConnection: close\r\n/);
    expect(JSON.parse(big.split('\r\n\r\n')[1]!)).toEqual({ error: { code: 'MLTRAIL_ERR_BAD_REQUEST', message: expect.stringMatching(/header fields too large/) } });
    const bad = await raw(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n');
    expect(bad).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(bad.split('\r\n\r\n')[1]!).error.code).toBe('MLTRAIL_ERR_BAD_REQUEST');
    // A malformed request after a good one on the same keep-alive connection is answered too.
    const second = await new Promise<string>((resolve) => {
      const sock = connect(port, '127.0.0.1', () => sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      let data = '';
      sock.on('data', (d) => {
        if (!data) sock.write('NOT HTTP AT ALL\r\n\r\n');
        data += d.toString();
      });
      sock.on('close', () => resolve(data));
    });
    expect(second).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nokHTTP\/1\.1 400 Bad Request\r\n[\s\S]*"code":"MLTRAIL_ERR_BAD_REQUEST"/);
  });

  it('closes an HTTPS connection whose TLS handshake timed out, silent or part-sent (it stayed open for good)', async () => {
    const pki = makeTestPki();
    server = createHttpsServer({ cert: pki.cert, key: pki.key, handshakeTimeout: 300 }, (_req, res) => res.end('ok'));
    server.on('clientError', clientErrorHandler());
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    // Closed by the server: 'close' without the client ending first (a plain-HTTP answer would need a handshake).
    const closedBy = (first: Buffer) =>
      new Promise<string>((resolve) => {
        const sock = connect(port, '127.0.0.1', () => first.length && sock.write(first));
        sock.on('error', () => undefined);
        const timer = setTimeout(() => (sock.destroy(), resolve('still open after 3 s')), 3000);
        sock.on('close', () => (clearTimeout(timer), resolve('closed')));
      });
    // Nothing; the first bytes of a TLS record header.
    expect(await Promise.all([closedBy(Buffer.alloc(0)), closedBy(Buffer.from([0x16, 0x03, 0x01]))])).toEqual(['closed', 'closed']);
  });
});

describe('splitJsonRecords / assertRecordCount: at most 100,000 records a request', () => {
  it('NDJSON of more lines is refused before any line is parsed; an array or an EventList of more items too', async () => {
    const { splitJsonRecords, assertRecordCount, MAX_RECORDS_PER_REQUEST } = await import('../../../core/http/index.js');
    expect(MAX_RECORDS_PER_REQUEST).toBe(100_000);
    expect(() => splitJsonRecords('x\n'.repeat(100_001))).toThrow(/more than 100000 records/);
    expect(splitJsonRecords('{}\n'.repeat(100_000)).records).toHaveLength(100_000);
    expect(() => splitJsonRecords(`[${Array(100_001).fill('{}').join(',')}]`)).toThrow(/more than 100000 records/);
    expect(() => assertRecordCount([{ kind: 'EventList', items: Array(100_000).fill({}) }])).toThrow(/more than 100000/);
    expect(() => assertRecordCount([{ kind: 'EventList', items: Array(99_999).fill({}) }])).not.toThrow();
    // Nested arrays (a connector walks them) are counted at any depth, without recursion.
    expect(() => assertRecordCount([[[Array(60_000).fill({}), Array(60_000).fill({})]]])).toThrow(/more than 100000/);
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => assertRecordCount([deep])).not.toThrow();
  });
});

describe('body limits on a real server (readRawBody / readBody)', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  /** A Hono app on 127.0.0.1:0 whose route reads the body with the given function and answers its length. */
  async function serveReader(read: (c: Context) => Promise<Buffer>): Promise<string> {
    const app = new Hono();
    app.post('/in', async (c) => {
      try {
        return c.json({ bytes: (await read(c)).length });
      } catch (err) {
        return errorResponse(c, err);
      }
    });
    const server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    close = () => new Promise<void>((r) => server.close(() => r()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/in`;
  }

  /** POST with Transfer-Encoding: chunked (no Content-Length), the body in several writes. */
  const chunked = (url: string, parts: Buffer[]) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      for (const p of parts) req.write(p);
      req.end();
    });

  it('a body of exactly the limit is read; one byte more is 413, whether declared by Content-Length or streamed chunked', async () => {
    const url = await serveReader((c) => readRawBody(c, 1000));
    const exact = await fetch(url, { method: 'POST', body: 'a'.repeat(1000) });
    expect(exact.status).toBe(200);
    expect(await exact.json()).toEqual({ bytes: 1000 });
    const over = await fetch(url, { method: 'POST', body: 'a'.repeat(1001) });
    expect(over.status).toBe(413);
    expect(((await over.json()) as { error: unknown }).error).toMatchObject({ code: 'MLTRAIL_ERR_BODY_TOO_LARGE', limit_bytes: 1000 });
    // No Content-Length: the limit holds while streaming.
    const streamedOk = await chunked(url, [Buffer.alloc(600, 97), Buffer.alloc(400, 97)]);
    expect(streamedOk.status).toBe(200);
    expect(JSON.parse(streamedOk.body)).toEqual({ bytes: 1000 });
    const streamedOver = await chunked(url, Array.from({ length: 20 }, () => Buffer.alloc(600, 97)));
    expect(streamedOver.status).toBe(413);
    expect(JSON.parse(streamedOver.body).error).toMatchObject({ code: 'MLTRAIL_ERR_BODY_TOO_LARGE', limit_bytes: 1000 });
  });

  it('a gzip body is bounded after decoding too: 4 × maxBytes by default, maxDecodedBytes when given (413, a small gzip of many bytes is a bomb)', async () => {
    const url = await serveReader((c) => readBody(c, { maxBytes: 1000 }));
    const gz = (n: number) => gzipSync(Buffer.alloc(n, 97));
    expect(gz(4000).length).toBeLessThan(1000);
    const atBound = await fetch(url, { method: 'POST', body: gz(4000), headers: { 'content-encoding': 'gzip' } });
    expect(await atBound.json()).toEqual({ bytes: 4000 });
    const bomb = await fetch(url, { method: 'POST', body: gz(4001), headers: { 'content-encoding': 'gzip' } });
    expect(bomb.status).toBe(413);
    expect(((await bomb.json()) as { error: unknown }).error).toMatchObject({ code: 'MLTRAIL_ERR_BODY_TOO_LARGE', limit_bytes: 4000 });
    await close!();
    const url2 = await serveReader((c) => readBody(c, { maxBytes: 1000, maxDecodedBytes: 1500 }));
    const over = await fetch(url2, { method: 'POST', body: gz(1501), headers: { 'content-encoding': 'gzip' } });
    expect(over.status).toBe(413);
    expect(((await over.json()) as { error: unknown }).error).toMatchObject({ code: 'MLTRAIL_ERR_BODY_TOO_LARGE', limit_bytes: 1500 });
  });
});

describe('bearerToken', () => {
  const app = new Hono().get('/', (c) => c.json({ token: bearerToken(c) ?? null }));
  const tokenOf = async (authorization?: string) => ((await (await app.request('/', { headers: authorization ? { authorization } : {} })).json()) as { token: string | null }).token;

  it('takes the token of the Bearer scheme, named in any case (RFC 7235 §2.1), and nothing else', async () => {
    expect(await tokenOf('Bearer abc.def')).toBe('abc.def');
    expect(await tokenOf('bearer abc')).toBe('abc');
    expect(await tokenOf('BEARER  abc  ')).toBe('abc');
    expect(await tokenOf('Basic YTpi')).toBeNull();
    expect(await tokenOf('Bearer ')).toBeNull();
    expect(await tokenOf(undefined)).toBeNull();
  });
});

describe('safeEqualAny', () => {
  it('matches whichever accepted value equals, wherever it is in the list (rotation: new and old secret both work)', () => {
    expect(safeEqualAny('k1', ['k1', 'k2', 'k3'])).toBe(true);
    expect(safeEqualAny('k2', ['k1', 'k2', 'k3'])).toBe(true);
    expect(safeEqualAny('k3', ['k1', 'k2', 'k3'])).toBe(true);
    expect(safeEqualAny('k4', ['k1', 'k2', 'k3'])).toBe(false);
    expect(safeEqualAny('k1', [])).toBe(false);
    expect(safeEqualAny('', [''])).toBe(true);
  });
});
