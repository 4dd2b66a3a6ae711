import { describe, expect, it } from 'vitest';
import { HealthTracker, chunkBySize } from '../../../bridge/sinks/common.js';

describe('chunkBySize', () => {
  it('never makes an empty request: an item larger than the cap goes alone, wherever it is', () => {
    const items = [{ id: 'big', bytes: 50 }, { id: 'a', bytes: 5 }, { id: 'huge', bytes: 80 }, { id: 'b', bytes: 5 }];
    const chunks = chunkBySize(items, 20);
    expect(chunks.every((c) => c.length > 0)).toBe(true);
    expect(chunks.map((c) => c.map((x) => x.id))).toEqual([['big'], ['a'], ['huge'], ['b']]);
  });

  it('keeps a request within the cap, separators counted', () => {
    const items = Array.from({ length: 6 }, (_, i) => ({ id: String(i), bytes: 10 }));
    const chunks = chunkBySize(items, 22); // two items and their separators fit; three do not
    expect(chunks.map((c) => c.length)).toEqual([2, 2, 2]);
  });
});

describe('HealthTracker', () => {
  it('a config fault (unhealthy) is not hidden by a later transient fault; a success clears both', () => {
    const h = new HealthTracker();
    h.unhealthy('HEC 403 code 4');
    h.degraded('HEC unreachable: ECONNRESET');
    expect(h.get()).toEqual({ state: 'unhealthy', reason: 'HEC 403 code 4' });
    h.healthy();
    expect(h.get()).toEqual({ state: 'healthy' });
    h.degraded('busy');
    expect(h.get()).toEqual({ state: 'degraded', reason: 'busy' });
    h.unhealthy('refused');
    expect(h.get().state).toBe('unhealthy');
  });
});
