import { describe, expect, it } from 'vitest';
import { FORMAT_SLICE, forEachYielding } from '../../../bridge/sinks/common.js';
import { splunkHecSinkFactory } from '../../../bridge/sinks/splunk_hec/index.js';
import { silentLogger } from '../../../core/log.js';
import { Spool } from '../../../core/spool/index.js';
import type { Formatter } from '../../../core/formats/index.js';
import { sampleEvent } from '../../helpers/bridge.js';

describe('sinks format a batch in slices, letting the event loop run between them', () => {
  it('forEachYielding visits every item in order and yields every slice', async () => {
    const seen: number[] = [];
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const busyUntil = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    // 3 slices of 2 ms each, plus a partial one: the timer gets turns in between.
    await forEachYielding(Array.from({ length: FORMAT_SLICE * 3 + 5 }, (_, i) => i), (x, i) => {
      expect(x).toBe(i);
      seen.push(i);
      busyUntil(2 / FORMAT_SLICE);
    });
    clearInterval(ticker);
    expect(seen).toHaveLength(FORMAT_SLICE * 3 + 5);
    expect(turns).toBeGreaterThan(0);
    // A short batch never yields.
    let afterShort = 0;
    const t2 = setImmediate(() => afterShort++);
    await forEachYielding([1, 2, 3], () => {});
    expect(afterShort).toBe(0);
    clearImmediate(t2);
  });

  it('a HEC batch of 2,000 records lets a waiting callback run after the first slice, not after the whole batch', async () => {
    const spool = Spool.open({ dir: ':memory:' });
    await spool.append(Array.from({ length: 2000 }, () => sampleEvent()).map((e) => ({ kind: 'event' as const, id: e.id as string, body: JSON.stringify(e) })));
    const cfg = splunkHecSinkFactory.configSchema.parse({ url: 'http://127.0.0.1:9', token: 't', ack: { enabled: false }, request_timeout_ms: 2000 });
    const sink = splunkHecSinkFactory.create(cfg, { name: 'hec', logger: silentLogger(), dataDir: ':memory:', spool, env: {} });
    // Count the records mapped so far; a callback queued before send() notes the count when it finally runs.
    const internals = sink as unknown as { fmt: Formatter };
    const fmt = internals.fmt;
    let mapped = 0;
    internals.fmt = { ...fmt, event: (ev) => (mapped++, fmt.event(ev)) };
    let mappedWhenLoopRan = -1;
    setImmediate(() => (mappedWhenLoopRan = mapped));
    // Nothing listens on port 9: the records come back retryable; what matters is when the loop got its turn.
    const statuses = await sink.send(spool.readLean('hec', 2000), AbortSignal.timeout(5000));
    await sink.close?.();
    spool.close();
    expect(mapped).toBe(2000);
    expect(statuses.every((s) => s.status === 'retryable')).toBe(true);
    expect(mappedWhenLoopRan).toBe(FORMAT_SLICE);
  });
});
