import { PassThrough } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inputRecords, printable, RecordSplitter, splitRecords, streamRecords, type InputRecord } from '../../../core/input/read.js';
import { normalizeInput } from '../../../bridge/normalize.js';
import { loadConfig } from '../../../bridge/config.js';
import { readFixture } from '../../helpers/fixtures.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';

const ndjson = (records: unknown[]) => Buffer.from(records.map((r) => JSON.stringify(r)).join('\n') + '\n');

describe('reading input files', () => {
  it('below the line-by-line size: the same records as splitRecords (documents, arrays, NDJSON)', () => {
    for (const buf of [Buffer.from('{"a":1}'), Buffer.from('[{"a":1},{"a":2}]'), Buffer.from('{"a":1}\nnope\n{"a":3}\n')]) {
      expect([...inputRecords(buf)]).toEqual(splitRecords(buf));
    }
  });

  it('from the line-by-line size on: NDJSON parsed one line at a time, bad lines reported by number, gzip and a BOM handled', () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\n\n{"a":2}\r\n{broken\n{"a":"é"}')]);
    for (const input of [body, gzipSync(body)]) {
      const list = inputRecords(input, 16);
      expect(Array.isArray(list)).toBe(false); // the lazy reader, not the whole-file split
      expect(list.length).toBe(5);
      expect([...list]).toEqual([
        { n: 1, record: { a: 1 } },
        { n: 3, record: { a: 2 } },
        { n: 4, error: expect.stringMatching(/^not JSON: /) },
        { n: 5, record: { a: 'é' } },
      ]);
    }
  });

  it('a large input that is one JSON document is reported with what to do, not parsed', () => {
    const doc = Buffer.from(JSON.stringify({ Records: [{ a: 1 }, { a: 2 }] }, null, 2));
    const out = [...inputRecords(doc, 16)];
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ n: 1, error: expect.stringMatching(/not JSON Lines: .* read one record per line \(NDJSON\).*jq -c/) });
  });

  it('normalizeInput with onEvents hands events over every 1000 records instead of keeping them', () => {
    const cfg = loadConfig({ env: {} });
    const record = JSON.parse(readFixture('sagemaker/cloudtrail-sagemaker-createendpoint.awsdocs.json').toString()) as { eventID: string };
    const records = Array.from({ length: 2500 }, (_, i) => ({ ...record, eventID: `id-${i}` }));
    const batches: NormalizedEvent[][] = [];
    const r = normalizeInput(ndjson(records), 'many.ndjson', 'auto', cfg, undefined, undefined, (evs) => batches.push(evs));
    expect(r.events).toEqual([]);
    expect(r.emitted).toBe(2500);
    expect(batches.map((b) => b.length)).toEqual([999, 1000, 501]);
    expect(new Set(batches.flat().map((e) => e.id)).size).toBe(2500);
    // Without it, the same events are kept.
    expect(normalizeInput(ndjson(records.slice(0, 3)), 'few.ndjson', 'auto', cfg).events).toHaveLength(3);
  });
});

describe('reading input as a stream (files, standard input)', () => {
  const collect = async (source: AsyncIterable<Buffer | string>, splitter?: RecordSplitter) => {
    const out: InputRecord[] = [];
    for await (const batch of streamRecords(source, splitter)) out.push(...batch);
    return out;
  };
  /** The bytes in chunks of `size`: record boundaries fall anywhere, also inside a BOM or a UTF-8 sequence. */
  async function* chunked(buf: Buffer, size: number) {
    for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
  }

  it('gives the same records as splitRecords for documents, arrays, envelopes and NDJSON, in any chunking, plain or gzipped', async () => {
    const cloudTrail = readFixture('sagemaker/cloudtrail-sagemaker-createendpoint.awsdocs.json');
    const inputs = [
      Buffer.from('{"a":1}'),
      Buffer.from('[{"a":1},{"a":2}]\n\n'),
      Buffer.from(JSON.stringify({ Records: [{ a: 1 }, { a: 2 }] }, null, 2)),
      cloudTrail,
      Buffer.from('{"a":1}\nnope\n{"a":3}\n'),
      Buffer.from('nope\n{"a":2}\n'),
      Buffer.from('[1]\n{"a":2}\n'),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\r\n\r\n{"a":"é"}')]),
      Buffer.from(''),
      Buffer.from('\n\n'),
    ];
    for (const buf of inputs) {
      for (const bytes of [buf, gzipSync(buf)]) {
        for (const size of [1, 3, 64 * 1024]) expect(await collect(chunked(bytes, size))).toEqual(splitRecords(buf));
      }
    }
  });

  it('NDJSON records come out as their lines arrive, before the input ends (tail -F | mltrail normalize -), gzip too', async () => {
    for (const gz of [false, true]) {
      const source = new PassThrough();
      const sink = gz ? createGzip() : source;
      if (gz) sink.pipe(source);
      const it = streamRecords(source)[Symbol.asyncIterator]();
      sink.write('{"a":1}\n');
      if (gz) (sink as ReturnType<typeof createGzip>).flush();
      expect((await it.next()).value).toEqual([{ n: 1, record: { a: 1 } }]);
      sink.write('{"a":2}\n{"a"');
      if (gz) (sink as ReturnType<typeof createGzip>).flush();
      expect((await it.next()).value).toEqual([{ n: 2, record: { a: 2 } }]);
      sink.end(':3}\n');
      expect((await it.next()).value).toEqual([{ n: 3, record: { a: 3 } }]);
      expect((await it.next()).done).toBe(true);
    }
  });

  it('reads an NDJSON input of any size holding one line at a time: 3 GiB streamed through, memory flat', async () => {
    // More than a Buffer or a string can hold (readFile refused inputs over 2 GiB): made as it is read, never stored.
    const line = Buffer.from(`${JSON.stringify({ eventVersion: '1.08', pad: 'x'.repeat(4000) })}\n`);
    const chunk = Buffer.concat(Array.from({ length: 256 }, () => line));
    const total = 3 * 2 ** 30;
    async function* huge() {
      for (let sent = 0; sent < total; sent += chunk.length) yield chunk;
    }
    const before = process.memoryUsage().rss;
    let records = 0;
    let peak = 0;
    for await (const batch of streamRecords(huge())) {
      records += batch.length;
      if (records % 50_000 < batch.length) peak = Math.max(peak, process.memoryUsage().rss);
    }
    expect(records).toBe(Math.ceil(total / chunk.length) * 256);
    expect(peak - before).toBeLessThan(300 * 2 ** 20);
  }, 120_000);

  it('a JSON document past the line-by-line size is refused with what to do, and reading stops there', async () => {
    let pulled = 0;
    async function* doc() {
      yield Buffer.from('{\n  "Records": [\n');
      for (;;) {
        pulled++;
        yield Buffer.from('    {"a": 1},\n');
      }
    }
    const out = await collect(doc(), new RecordSplitter(1024));
    expect(out).toEqual([{ n: 1, error: expect.stringMatching(/^not JSON Lines: an input of .* or more is read one record per line \(NDJSON\).*jq -c/), unusable: true }]);
    expect(pulled).toBeLessThan(100);
  });

  it('a line longer than the limit is reported by number and skipped; the lines after it are read', async () => {
    const input = Buffer.from(`{"a":1}\n{"pad":"${'x'.repeat(100)}"}\n{"a":3}\n`);
    expect(await collect(chunked(input, 7), new RecordSplitter(undefined, 64))).toEqual([
      { n: 1, record: { a: 1 } },
      { n: 2, error: expect.stringMatching(/^line longer than .*: not read/) },
      { n: 3, record: { a: 3 } },
    ]);
  });

  it('an input none of whose lines is JSON (binary, plain text) is one unusable record, its excerpt escaped', async () => {
    const zip = Buffer.concat([Buffer.from('PK\x03\x04\x14\x00\x1b[2J'), Buffer.from('\nbinary\x07\nmore\n')]);
    const [only, ...rest] = await collect(chunked(zip, 5));
    expect(rest).toEqual([]);
    expect(only).toMatchObject({ n: 1, unusable: true, error: expect.stringMatching(/^not JSON: none of its 3 lines is a JSON value \(line 1: /) });
    const msg = (only as { error: string }).error;
    expect(msg).toContain('PK\\x03\\x04');
    // No control character left: the excerpt cannot clear or retitle the terminal.
    expect(msg).not.toMatch(/[\x00-\x1f\x7f]/);
    expect(await collect(chunked(Buffer.from('hello\nworld\n'), 4))).toEqual([{ n: 1, error: expect.stringContaining('none of its 2 lines'), unusable: true }]);
    expect(await collect(chunked(Buffer.from('hello'), 4))).toEqual([{ n: 1, error: expect.stringMatching(/^not JSON: /), unusable: true }]);
  });

  it('a gzip stream that breaks off is a cannot-read record (unusable) after the records before it', async () => {
    const gz = gzipSync(Buffer.from('{"a":1}\n{"a":2}\n'.repeat(2000)));
    const out = await collect(chunked(gz.subarray(0, gz.length - 10), 1000));
    expect(out.at(-1)).toMatchObject({ error: expect.stringMatching(/^cannot read: /), unusable: true });
    expect(out.filter((r) => 'record' in r).length).toBeGreaterThan(0);
  });

  it('printable escapes control, format and separator characters, and leaves the rest', () => {
    expect(printable('a\x1b[31mb\x07\u202ec\u2028d é ✓ \uFFFD')).toBe('a\\x1b[31mb\\x07\\u{202e}c\\u{2028}d é ✓ \uFFFD');
  });
});
