import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeLines } from '../../../bridge/sinks/common.js';
import { GZIP_OPTIONS } from '../../../bridge/sinks/http.js';

const item = (pieces: string[]) => ({ pieces, bytes: pieces.reduce((n, s) => n + Buffer.byteLength(s), 0) });

describe('encodeLines', () => {
  it('gives the bytes of the joined text, multi-byte characters included', () => {
    const items = [item(['{"a":', '"héllo 😀"', '}']), item(['', '{"b":"\u2028"}', '']), item(['x'])];
    for (const sep of ['\n', '']) {
      expect(encodeLines(items, (i) => i.pieces, sep).equals(Buffer.from(items.map((i) => i.pieces.join('')).join(sep)))).toBe(true);
    }
    expect(encodeLines([], (i: ReturnType<typeof item>) => i.pieces, '\n').length).toBe(0);
  });

  it('never truncates or pads when a size is wrong', () => {
    const tooSmall = [{ pieces: ['abc'], bytes: 2 }, { pieces: ['é'], bytes: 1 }];
    expect(encodeLines(tooSmall, (i) => i.pieces, '\n').toString()).toBe('abc\né');
    expect(encodeLines([{ pieces: ['abc'], bytes: 9 }], (i) => i.pieces).toString()).toBe('abc');
  });
});

describe('request gzip', () => {
  it('is deterministic (a resent body is byte-identical) and round-trips', () => {
    const body = Buffer.from('{"event":{"a":1}}\n'.repeat(5000));
    const a = gzipSync(body, GZIP_OPTIONS);
    expect(a.equals(gzipSync(body, GZIP_OPTIONS))).toBe(true);
    expect(gunzipSync(a).equals(body)).toBe(true);
    expect(a.length).toBeLessThan(body.length / 10);
  });
});
