import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

/** One top-level record of an input file, with its 1-based position (array index or NDJSON line). */
export type InputRecord = { n: number; record: unknown } | { n: number; error: string };

/** True when the bytes start with the gzip magic number. */
export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/**
 * Split file contents into records: a JSON document (an array yields its
 * elements), or NDJSON (one per line; a bad line is reported, the rest kept).
 * Gzip is detected by magic bytes, not by file name.
 *
 * @example
 * for (const r of splitRecords(await readInput('trail.json.gz'))) …
 */
export function splitRecords(data: Buffer): InputRecord[] {
  return splitText(isGzip(data) ? gunzipSync(data) : data);
}

/** Records of an input, iterated once, with how many there are at most (for progress). */
export interface RecordList extends Iterable<InputRecord> {
  readonly length: number;
}

/**
 * Inputs at least this large (after gunzip) are read as NDJSON one line at a
 * time: a whole-file string could not even be built past V8's string limit
 * (~512 MiB), and parsing every record up front holds them all in memory.
 */
export const LINE_BY_LINE_BYTES = 64 * 1024 * 1024;

/**
 * Like `splitRecords`, for inputs of any size: below `lineByLineBytes` the
 * same records; from there on each NDJSON line is decoded and parsed only
 * when the iteration reaches it, so memory holds the bytes and one record.
 * A large input that is one JSON document (not one record per line) is
 * reported, not parsed.
 *
 * @example
 * for (const r of inputRecords(await readInput('export.ndjson.gz'))) …
 */
export function inputRecords(data: Buffer, lineByLineBytes = LINE_BY_LINE_BYTES): RecordList {
  const buf = isGzip(data) ? gunzipSync(data) : data;
  if (buf.length < lineByLineBytes) return splitText(buf);
  const ends: number[] = [];
  for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, i + 1)) ends.push(i);
  ends.push(buf.length);
  const bom = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  return {
    length: ends.length,
    *[Symbol.iterator]() {
      let start = bom;
      let first = true;
      for (let i = 0; i < ends.length; i++) {
        const line = buf.toString('utf8', start, ends[i]);
        start = ends[i]! + 1;
        if (!line.trim()) continue;
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch (e) {
          if (first) {
            // The first record is not a line of its own: this is one large JSON document.
            yield {
              n: i + 1,
              error: `not JSON Lines: an input of ${Math.round(buf.length / 2 ** 20)} MiB is read one record per line (NDJSON), and line ${i + 1} is not a JSON value (${(e as Error).message}); convert it, e.g. jq -c '.Records[]'`,
            };
            return;
          }
          yield { n: i + 1, error: `not JSON: ${(e as Error).message}` };
          continue;
        }
        first = false;
        yield { n: i + 1, record };
      }
    },
  };
}

function splitText(buf: Buffer): InputRecord[] {
  const text = buf.toString('utf8').replace(/^\uFEFF/, '');
  const trimmed = text.trim();
  if (!trimmed) return [];
  try {
    const v = JSON.parse(trimmed) as unknown;
    return Array.isArray(v) ? v.map((record, i) => ({ n: i + 1, record })) : [{ n: 1, record: v }];
  } catch (wholeErr) {
    const lines = text.split('\n');
    const out: InputRecord[] = [];
    let nonEmpty = 0;
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      nonEmpty++;
      try {
        out.push({ n: i + 1, record: JSON.parse(line) as unknown });
      } catch (e) {
        out.push({ n: i + 1, error: `not JSON: ${(e as Error).message}` });
      }
    });
    if (nonEmpty <= 1) return [{ n: 1, error: `not JSON: ${(wholeErr as Error).message}` }];
    return out;
  }
}

/** Read a file path, or standard input for `-`. */
export async function readInput(path: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<Buffer> {
  if (path !== '-') return readFile(path);
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}
