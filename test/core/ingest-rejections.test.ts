import { describe, expect, it } from 'vitest';
import { Ingestor, compactQuarantine, normalizeAndIngest } from '../../core/ingest.js';
import { silentLogger } from '../../core/log.js';
import { Spool } from '../../core/spool/index.js';
import { sampleEvent, tmpDir } from '../helpers/bridge.js';

describe('Ingestor: a request of thousands of invalid events', () => {
  it('explains the first 1000 rejections; the rest get the compiled check only, and every one is kept', async () => {
    const spool = Spool.open({ dir: tmpDir(), synchronous: 'OFF' });
    const ingest = new Ingestor(spool, silentLogger());
    const good = sampleEvent();
    const res = await ingest.ingest([...Array.from({ length: 3000 }, (_, i) => ({ x: i })), good], 'core.api');
    expect(res.accepted).toEqual([good.id]);
    expect(res.rejected).toHaveLength(3000);
    expect(res.rejected[0]!.reason).toMatch(/^event 0: .*schema_version/);
    expect(res.rejected[999]!.reason).toMatch(/^event 999: .*schema_version/);
    expect(res.rejected[1000]!.reason).toMatch(/^event 1000: not a valid event as sent \(not explained: more than 1000/);
    // Every one is kept: the first 1000 a row each, the other 2000 together in one row, one per line.
    const q = spool.listQuarantine({ limit: 5000 });
    expect(q).toHaveLength(1001);
    const overflow = q.find((r) => r.meta.overflow)!;
    expect(overflow.meta.overflow).toMatchObject({ count: 2000, bodies_kept: 2000, bodies_omitted: 0 });
    expect(overflow.body.toString().trim().split('\n').map((l) => JSON.parse(l).x)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1000));
    spool.close();
  });
});

describe('Ingestor: what a request\'s rejections cost the spool', () => {
  it('a million tiny bad items cost about what they weigh (not a row of overhead each), so a few requests cannot fill the spool', () => {
    const spool = Spool.open({ dir: tmpDir(), synchronous: 'OFF' });
    const ingest = new Ingestor(spool, silentLogger());
    const before = spool.heldBytes;
    ingest.quarantineMany('core.api', Array.from({ length: 1_000_000 }, (_, i) => ({ reason: `event ${i}: not an event`, body: '{}', meta: { index: i } })));
    // 1000 rows with overhead, then ~3 bytes per item.
    expect(spool.heldBytes - before).toBeLessThan(4_000_000);
    spool.close();
  });

  it('a body over 256 KiB keeps its first 256 KiB and says how big it was', () => {
    const spool = Spool.open({ dir: tmpDir(), synchronous: 'OFF' });
    const ingest = new Ingestor(spool, silentLogger());
    ingest.quarantine('core.api', 'not JSON', 'A'.repeat(3 * 1024 * 1024));
    const [row] = spool.listQuarantine();
    expect(row!.body.length).toBe(256 * 1024);
    expect(row!.meta.truncated).toEqual({ kept_bytes: 256 * 1024, total_bytes: 3 * 1024 * 1024 });
    // The kept head is a copy: a view of a rejected 60 MB body held it whole until the request ended (2.9 GB RSS).
    const [cut] = compactQuarantine([{ reason: 'x', body: Buffer.alloc(3 * 1024 * 1024, 65) }]);
    expect((cut!.body as Buffer).buffer.byteLength).toBeLessThan(1024 * 1024);
    spool.close();
  });
});

describe('normalizeAndIngest: a large input goes to the spool in slices', () => {
  const normalizeAll = (r: unknown) => ({ events: [r], rejected: [], skipped: [] });

  it('counts every slice\'s events, and reports events the schema refuses beside the records normalize refused', async () => {
    const spool = Spool.open({ dir: tmpDir(), synchronous: 'OFF' });
    const ingest = new Ingestor(spool, silentLogger());
    const records: unknown[] = Array.from({ length: 2500 }, () => sampleEvent());
    records.push({ not: 'an event' });
    const out = await normalizeAndIngest(ingest, normalizeAll, records, 'test');
    expect(out.accepted).toBe(2500);
    expect(spool.read('x', 5000)).toHaveLength(2500);
    expect(out.rejected).toEqual([{ reason: expect.stringMatching(/^event 500: .*schema_version/) }]);
    expect(spool.listQuarantine({ channel: 'test' })).toHaveLength(1);
    spool.close();
  });

  it('a slice the spool refuses (full) fails the whole call: the sender is never answered 2xx for events not stored', async () => {
    // The first slice fits (the spool is not full yet) and fills it; the second is refused.
    const spool = Spool.open({ dir: tmpDir(), synchronous: 'OFF', maxBytes: 1 });
    const ingest = new Ingestor(spool, silentLogger());
    const records = Array.from({ length: 2000 }, () => sampleEvent());
    await expect(normalizeAndIngest(ingest, normalizeAll, records, 'test')).rejects.toMatchObject({ code: 'MLTRAIL_ERR_SPOOL_FULL' });
    expect(spool.read('x', 5000)).toHaveLength(1000);
    spool.close();
  });
});

describe('normalizeAndIngest: redactRejected', () => {
  it('a rejected record is kept as the connector redacts it; one it cannot redact keeps its reason, not its body', async () => {
    const spool = Spool.open({ dir: tmpDir(), synchronous: 'OFF' });
    const ingest = new Ingestor(spool, silentLogger());
    const reject = (record: unknown) => ({ events: [], rejected: [{ reason: 'unreadable', record }], skipped: [] });
    const redactRejected = (r: unknown) => {
      if ((r as { boom?: boolean }).boom) throw new Error('odd input');
      return { ...(r as object), password: '[redacted]' };
    };
    await normalizeAndIngest(ingest, reject, [{ password: 'pw-1' }, { boom: true, password: 'pw-2' }], 'test', {}, { redactRejected });
    const q = spool.listQuarantine();
    expect(q.map((r) => r.body.toString())).toEqual(['{"password":"[redacted]"}', '"[not kept: could not be redacted: odd input]"']);
    expect(q[1]!.reason).toBe('unreadable');
    spool.close();
  });
});
