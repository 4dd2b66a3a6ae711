import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { clientErrorHandler, parseJsonRecords, splitJsonRecords } from '../../../core/http/index.js';

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
