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

  it('stays within its bound, evicting clean entries only, and re-reads evicted ones from the store', () => {
    const spool = Spool.open({ dir: ':memory:' });
    const cache = new WriteBackStateStore(spool.state, 20, 10);
    for (let i = 0; i < 50; i++) cache.set('ns', `k${i}`, i);
    spool.transaction(() => cache.flush());
    for (let i = 0; i < 50; i++) expect(cache.get('ns', `k${i}`)).toBe(i);
    expect((cache as unknown as { lru: Map<string, unknown> }).lru.size).toBeLessThanOrEqual(10);
    expect(cache.get('ns', 'k0')).toBe(0);
    expect(cache.get('ns', 'nope')).toBeUndefined();
    // Demoted (never listed, grew past 20): still read-through correct, and list() sees everything.
    expect(spool.transaction(() => cache.list('ns', 'k4')).map((e) => e.key)).toEqual(['k4', 'k40', 'k41', 'k42', 'k43', 'k44', 'k45', 'k46', 'k47', 'k48', 'k49']);
    cache.set('ns', 'k1', 'changed');
    expect(cache.get('ns', 'k1')).toBe('changed');
    spool.transaction(() => cache.flush());
    expect(spool.state.get('ns', 'k1')).toBe('changed');
    spool.close();
  });

  it('never evicts a change not yet flushed: writes to a large namespace survive a burst of reads before the flush', () => {
    const spool = Spool.open({ dir: ':memory:' });
    for (let i = 0; i < 3; i++) spool.state.set('reg', `old${i}`, i);
    // 3 keys > 2: the namespace is served from the LRU of at most 5 entries.
    const cache = new WriteBackStateStore(spool.state, 2, 5);
    for (let i = 0; i < 5; i++) cache.set('reg', `new${i}`, { n: i });
    for (let i = 0; i < 20; i++) expect(cache.get('reg', `absent${i}`)).toBeUndefined();
    for (let i = 0; i < 5; i++) expect(cache.get('reg', `new${i}`)).toEqual({ n: i });
    spool.transaction(() => cache.flush());
    for (let i = 0; i < 5; i++) expect(spool.state.get('reg', `new${i}`)).toEqual({ n: i });
    expect(spool.state.get('reg', 'old0')).toBe(0);
    spool.close();
  });

  it('list() of a namespace held in the LRU includes changes not yet flushed', () => {
    const spool = Spool.open({ dir: ':memory:' });
    for (let i = 0; i < 3; i++) spool.state.set('reg', `k${i}`, i);
    const cache = new WriteBackStateStore(spool.state, 2, 5);
    expect(cache.get('reg', 'k0')).toBe(0);
    cache.set('reg', 'k9', 9);
    cache.delete('reg', 'k1');
    const listed = spool.transaction(() => cache.list('reg', 'k'));
    expect(listed).toEqual([
      { key: 'k0', value: 0 },
      { key: 'k2', value: 2 },
      { key: 'k9', value: 9 },
    ]);
    spool.close();
  });

  it('forget() drops clean cached entries only, whole or LRU: a whole namespace then reads them absent, an LRU one from the store', () => {
    const spool = Spool.open({ dir: ':memory:' });
    for (const k of ['old1', 'old2', 'new']) { spool.state.set('whole', k, k); spool.state.set('big', k, k); }
    // 'big' has more keys than the cache holds whole: it is read through the LRU.
    for (let i = 0; i < 5; i++) spool.state.set('big', `pad${i}`, i);
    const cache = new WriteBackStateStore(spool.state, 4);
    expect(['old1', 'old2', 'new'].map((k) => [cache.get('whole', k), cache.get('big', k)])).toEqual([['old1', 'old1'], ['old2', 'old2'], ['new', 'new']]);
    cache.set('whole', 'old2', 'changed');
    cache.set('big', 'old2', 'changed');
    spool.state.delete('whole', 'old1');
    spool.state.delete('big', 'old1');
    cache.forget('whole', (k) => k.startsWith('old'));
    cache.forget('big', (k) => k.startsWith('old'));
    // Deleted by another connection: no longer held. Changed here and not flushed: kept, and written.
    expect([cache.get('whole', 'old1'), cache.get('whole', 'old2'), cache.get('whole', 'new')]).toEqual([undefined, 'changed', 'new']);
    expect([cache.get('big', 'old1'), cache.get('big', 'old2'), cache.get('big', 'new')]).toEqual([undefined, 'changed', 'new']);
    spool.transaction(() => cache.flush());
    expect([spool.state.get('whole', 'old2'), spool.state.get('big', 'old2')]).toEqual(['changed', 'changed']);
    spool.close();
  });
  it('writes each changed key once per flush, kept apart by namespace (a key of the same name in two), also across a demotion to the LRU', () => {
    const spool = Spool.open({ dir: ':memory:' });
    const written: string[] = [];
    const setJson = spool.state.setJson.bind(spool.state);
    spool.state.setJson = (ns, key, json) => {
      written.push(`${ns} ${key}`);
      setJson(ns, key, json);
    };
    const cache = new WriteBackStateStore(spool.state, 3, 100);
    cache.set('a', 'k|1', 1);
    cache.set('b', 'k|1', 2);
    cache.set('a', 'k|1', 3);
    // 'grow' passes 3 keys with its changes pending: moved to the LRU, they are still written.
    for (let i = 0; i < 5; i++) cache.set('grow', `g${i}`, i);
    cache.delete('b', 'gone');
    spool.transaction(() => cache.flush());
    expect(written.sort()).toEqual(['a k|1', 'b k|1', 'grow g0', 'grow g1', 'grow g2', 'grow g3', 'grow g4']);
    expect([spool.state.get('a', 'k|1'), spool.state.get('b', 'k|1')]).toEqual([3, 2]);
    for (let i = 0; i < 5; i++) expect(spool.state.get('grow', `g${i}`)).toBe(i);
    // Nothing changed since: nothing written.
    written.length = 0;
    expect(cache.get('grow', 'g1')).toBe(1);
    spool.transaction(() => cache.flush());
    expect(written).toEqual([]);
    cache.set('grow', 'g1', 'again');
    spool.transaction(() => cache.flush());
    expect(written).toEqual(['grow g1']);
    expect(spool.state.get('grow', 'g1')).toBe('again');
    spool.close();
  });
});
