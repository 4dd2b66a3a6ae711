import { describe, expect, it } from 'vitest';
import { Spool } from '../../../core/spool/index.js';
import { WriteBackStateStore } from '../../../core/state/write-back.js';

describe('WriteBackStateStore', () => {
  it('serves reads from memory, writes only on flush, and commits with the transaction', () => {
    const spool = Spool.open({ dir: ':memory:' });
    spool.state.set('ns', 'a', 1);
    const cache = new WriteBackStateStore(spool.state);
    expect(cache.get('ns', 'a')).toBe(1);
    cache.set('ns', 'b', { n: 2 });
    cache.delete('ns', 'a');
    expect(cache.list('ns')).toEqual([{ key: 'b', value: { n: 2 } }]);
    expect(spool.state.get('ns', 'b')).toBeUndefined();
    expect(spool.state.get('ns', 'a')).toBe(1);
    spool.transaction(() => cache.flush());
    expect(spool.state.get('ns', 'b')).toEqual({ n: 2 });
    expect(spool.state.get('ns', 'a')).toBeUndefined();
    spool.close();
  });

  it('after a rolled-back transaction, discard() brings back what the store holds', () => {
    const spool = Spool.open({ dir: ':memory:' });
    const cache = new WriteBackStateStore(spool.state);
    cache.set('ns', 'k', 'committed');
    spool.transaction(() => cache.flush());
    expect(() =>
      spool.transaction(() => {
        cache.set('ns', 'k', 'lost');
        cache.flush();
        throw new Error('crash mid-chunk');
      }),
    ).toThrow('crash mid-chunk');
    expect(cache.get('ns', 'k')).toBe('lost');
    cache.discard();
    expect(cache.get('ns', 'k')).toBe('committed');
    spool.close();
  });
});
