import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../bridge/config.js';
import { normalizeStream } from '../../bridge/normalize.js';
import type { InputRecord } from '../../core/input/read.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { sampleEvent } from '../helpers/bridge.js';

const cfg = loadConfig({ env: {} });

describe('normalizeStream (the CLI path: files and stdin as they are read)', () => {
  it('hands each batch\'s events over before the next batch is read, and reports rejections as they come without keeping them', async () => {
    const seen: string[] = [];
    const a = sampleEvent();
    const b = sampleEvent();
    async function* batches(): AsyncGenerator<InputRecord[]> {
      yield [{ n: 1, record: a }, { n: 2, error: 'not JSON: x' }];
      seen.push('second batch read');
      yield [{ n: 3, record: b }];
    }
    const r = await normalizeStream(batches(), 'in.ndjson', 'core', cfg, {
      onEvents: (evs: NormalizedEvent[]) => void seen.push(...evs.map((e) => `event ${e.id}`)),
      report: (line) => void seen.push(line),
    });
    expect(seen).toEqual(['in.ndjson:2: not JSON: x', `event ${a.id}`, 'second batch read', `event ${b.id}`]);
    expect(r).toMatchObject({ records: 3, emitted: 2, rejected: 1, errors: [], events: [] });
    expect(r.unreadable).toBeUndefined();
  });

  it('is unusable when nothing in the input is JSON or it could not be read, not when JSON records are rejected', async () => {
    const opts = { onEvents: () => {}, report: () => {} };
    const from = (recs: InputRecord[]) => (async function* () {
      yield recs;
    })();
    expect((await normalizeStream(from([{ n: 1, error: 'line longer than 128 MiB: not read' }]), 'f', 'auto', cfg, opts)).unreadable).toBe(true);
    expect((await normalizeStream(from([{ n: 1, record: sampleEvent() }, { n: 2, error: 'cannot read: unexpected end of file', unusable: true }]), 'f', 'core', cfg, opts)).unreadable).toBe(true);
    const rejected = await normalizeStream(from([{ n: 1, record: { what: 'unknown shape' } }]), 'f', 'auto', cfg, opts);
    expect(rejected).toMatchObject({ rejected: 1 });
    expect(rejected.unreadable).toBeUndefined();
    expect((await normalizeStream(from([]), 'f', 'auto', cfg, opts)).unreadable).toBeUndefined();
  });

  it('live (standard input): a record without received_time is stamped when its batch arrived, not when reading began', async () => {
    const { received_time: _, ...bare } = sampleEvent();
    async function* slow(): AsyncGenerator<InputRecord[]> {
      yield [{ n: 1, record: { ...bare, id: 'first' } }];
      await new Promise((r) => setTimeout(r, 30));
      yield [{ n: 2, record: { ...bare, id: 'second' } }];
    }
    const events: NormalizedEvent[] = [];
    await normalizeStream(slow(), '<stdin>', 'core', cfg, { live: true, onEvents: (e) => void events.push(...e), report: () => {} });
    expect(events.map((e) => e.id)).toEqual(['first', 'second']);
    expect(Date.parse(events[1]!.received_time) - Date.parse(events[0]!.received_time)).toBeGreaterThanOrEqual(25);
  });
});
