import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { errorResponse, takeInternalError } from '../../core/http/index.js';
import { Ingestor, normalizeAndIngest } from '../../core/ingest.js';
import { boundedJson, nestedTooDeep, parseJsonText, textNestsDeeper } from '../../core/input/depth.js';
import { silentLogger } from '../../core/log.js';
import { makeEvent } from '../../core/schema/index.js';
import { Spool } from '../../core/spool/index.js';

const deep = (levels: number): unknown => JSON.parse(`${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`);
const event = (id: string, details?: unknown) =>
  makeEvent({ id, time: '2026-11-25T10:00:00.000Z', platform: 'custom', channel: 'test', stage: 'training', action: 'training_job.create', operation: 'X', outcome: 'success' }, { receivedTime: '2026-11-25T10:00:01.000Z', raw: details });

const dirs: string[] = [];
const spools: Spool[] = [];
function open() {
  const dir = mkdtempSync(join(tmpdir(), 'mltrail-deep-'));
  dirs.push(dir);
  const spool = Spool.open({ dir, synchronous: 'NORMAL' });
  spools.push(spool);
  return { spool, ingest: new Ingestor(spool, silentLogger()) };
}
afterEach(() => {
  for (const s of spools.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('JSON nested thousands of levels deep', () => {
  it('textNestsDeeper counts brackets outside strings only, in one pass, without parsing', () => {
    expect(textNestsDeeper('[[[]]]', 2)).toBe(true);
    expect(textNestsDeeper('[[[]]]', 3)).toBe(false);
    expect(textNestsDeeper('{"a":[{"b":1}]}', 3)).toBe(false);
    expect(textNestsDeeper('{"a":[{"b":[1]}]}', 3)).toBe(true);
    // Brackets in strings, escaped quotes, and an escaped backslash right before a closing quote.
    expect(textNestsDeeper('["[[[[", "x\\"[[[[", "y\\\\", "{{{{"]', 1)).toBe(false);
    expect(textNestsDeeper('["y\\\\", [[1]]]', 2)).toBe(true);
    // Text no longer than the bound is not scanned (it cannot nest deeper).
    expect(textNestsDeeper('[[[', 3)).toBe(false);
    expect(() => parseJsonText('['.repeat(20_000) + ']'.repeat(20_000))).toThrow(SyntaxError);
    expect(() => parseJsonText('['.repeat(20_000) + ']'.repeat(20_000))).toThrow(/nested deeper than 10000 levels/);
    expect(parseJsonText('{"a":["[[["]}')).toEqual({ a: ['[[['] });
  });

  it('nestedTooDeep / boundedJson: bounded depth, the rest kept for inspection', () => {
    expect(nestedTooDeep(deep(200))).toBe(false);
    expect(nestedTooDeep(deep(201))).toBe(true);
    const text = boundedJson(deep(10_000));
    expect(text).toContain('"[nested deeper than 200 levels]"');
    expect(text.startsWith('{"a":{"a":')).toBe(true);
    expect(boundedJson({ x: [1, 'two'] })).toBe('{"x":[1,"two"]}');
  });

  it('Ingestor: a too-deep event is refused and quarantined, the rest of the batch committed', async () => {
    const { spool, ingest } = open();
    const res = await ingest.ingest([event('ok-1'), event('deep-1', deep(20_000)), event('ok-2')], 'test');
    expect(res.accepted).toEqual(['ok-1', 'ok-2']);
    expect(res.rejected).toEqual([{ index: 1, id: 'deep-1', reason: expect.stringMatching(/^event 1: .*nested too deep/) }]);
    const q = spool.listQuarantine({ channel: 'test' });
    expect(q).toHaveLength(1);
    expect(q[0]!.body.toString()).toContain('[nested deeper than 200 levels]');
  });

  it('normalizeAndIngest: a record whose normalize overflows is quarantined with the reason, not a failed request', async () => {
    const { spool, ingest } = open();
    const records = [{ n: 1 }, deep(20_000), { n: 3 }];
    const normalize = (r: unknown) => ({ events: [event(`r-${JSON.stringify(r)}`)], rejected: [], skipped: [] });
    const out = await normalizeAndIngest(ingest, normalize, records, 'test');
    expect(out.accepted).toBe(2);
    expect(out.rejected).toEqual([{ reason: 'cannot normalize: JSON nested deeper than 200 levels' }]);
    expect(spool.listQuarantine({ channel: 'test' }).map((q) => q.meta.record)).toEqual([1]);
  });

  it('errorResponse keeps an unexpected error for the app to log; a catalogued one is not kept', async () => {
    const app = new Hono();
    const seen: unknown[] = [];
    app.use('*', async (c, next) => {
      await next();
      seen.push(takeInternalError(c));
    });
    app.get('/boom', (c) => errorResponse(c, new TypeError('x is undefined')));
    const r = await app.request('/boom');
    expect(r.status).toBe(500);
    expect(await r.json()).toEqual({ error: { code: 'MLTRAIL_ERR_INTERNAL', message: 'internal error' } });
    expect(seen).toEqual([new TypeError('x is undefined')]);
  });
});
