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
  const buf = isGzip(data) ? gunzipSync(data) : data;
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
