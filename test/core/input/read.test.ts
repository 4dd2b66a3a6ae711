import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inputRecords, splitRecords } from '../../../core/input/read.js';
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
