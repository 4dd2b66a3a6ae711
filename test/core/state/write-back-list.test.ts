import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../../../core/state/index.js';
import { WriteBackStateStore } from '../../../core/state/write-back.js';
// The bench's mulberry32: a small deterministic generator, the same runs every time.
import { prng as rng } from '../../bench/workload.js';

/**
 * `list(ns, prefix)` of a namespace held whole answers from a sorted index of its keys (perf28), kept across value
 * changes and rebuilt when a key comes or goes. Checked against a plain model: the exact entries, in key order, for
 * prefixes that are a rule id, a key, a key's extension, or sort between keys, after random sets, deletes, flushes,
 * forgets, discards and restarts.
 */

const KEYS = ['a|x|1|n', 'a|x|10|n', 'a|x|2|n', 'a|#closed', 'ab|x|1|n', 'a.b|y|1|n', 'b|x|1|n', 'b|#closed', 'a', 'ä|x|1|n', 'a|x|1|n|', ''];
const PREFIXES = ['', 'a', 'a|', 'a|x|1', 'a|x|1|n', 'ab|', 'b|', 'c|', 'a|x|1|n|', 'ä', '|'];

describe('WriteBackStateStore.list with a prefix', () => {
  it('returns exactly the prefix’s entries in key order through sets, deletes, flush, forget, discard and restart', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed);
      const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
      const backing = new MemoryStateStore();
      let cache = new WriteBackStateStore(backing);
      let committed = new Map<string, unknown>();
      let model = new Map<string, unknown>();
      const expected = (prefix: string) =>
        [...model].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => ({ key, value }));
      for (let step = 0; step < 300; step++) {
        const op = r();
        const key = pick(KEYS);
        if (op < 0.35) {
          const v = { v: step };
          cache.set('rules.baseline', key, v);
          model.set(key, v);
        } else if (op < 0.5) {
          cache.delete('rules.baseline', key);
          model.delete(key);
        } else if (op < 0.6) {
          cache.flush();
          committed = new Map(model);
        } else if (op < 0.65) {
          // As the bridge's housekeeping does: another connection deletes a key, the cache forgets it.
          cache.flush();
          const drop = pick(KEYS);
          backing.delete('rules.baseline', drop);
          cache.forget('rules.baseline', (k) => k === drop);
          model.delete(drop);
          committed = new Map(model);
        } else if (op < 0.7) {
          cache.discard();
          model = new Map(committed);
        } else if (op < 0.73) {
          cache = new WriteBackStateStore(backing);
          model = new Map(committed);
        } else {
          const prefix = pick(PREFIXES);
          expect(cache.list('rules.baseline', prefix), `seed ${seed} step ${step} prefix ${JSON.stringify(prefix)}`).toEqual(expected(prefix));
        }
      }
    }
  });

  it('a value changed in place is listed as changed, and a key added after a list is listed next time', () => {
    const cache = new WriteBackStateStore(new MemoryStateStore());
    cache.set('ns', 'r|b', 1);
    cache.set('ns', 'r|a', 2);
    expect(cache.list('ns', 'r|')).toEqual([{ key: 'r|a', value: 2 }, { key: 'r|b', value: 1 }]);
    cache.set('ns', 'r|b', 3);
    cache.set('ns', 'r|0', 4);
    cache.set('ns', 's|a', 5);
    expect(cache.list('ns', 'r|')).toEqual([{ key: 'r|0', value: 4 }, { key: 'r|a', value: 2 }, { key: 'r|b', value: 3 }]);
    cache.delete('ns', 'r|a');
    expect(cache.list('ns', 'r|')).toEqual([{ key: 'r|0', value: 4 }, { key: 'r|b', value: 3 }]);
    cache.flush();
    expect(cache.list('ns', 'r|')).toEqual([{ key: 'r|0', value: 4 }, { key: 'r|b', value: 3 }]);
    expect(cache.list('ns', 's')).toEqual([{ key: 's|a', value: 5 }]);
  });

  it('a key deleted and set again before the write is listed again; one new after the write is listed too (perf29: set() tells a new key by the map growing)', () => {
    const cache = new WriteBackStateStore(new MemoryStateStore());
    cache.set('ns', 'r|a', 1);
    cache.set('ns', 'r|b', 2);
    expect(cache.list('ns', 'r|').map((e) => e.key)).toEqual(['r|a', 'r|b']);
    cache.delete('ns', 'r|a');
    expect(cache.list('ns', 'r|').map((e) => e.key)).toEqual(['r|b']);
    cache.set('ns', 'r|a', 3);
    expect(cache.list('ns', 'r|')).toEqual([{ key: 'r|a', value: 3 }, { key: 'r|b', value: 2 }]);
    cache.delete('ns', 'r|b');
    cache.flush();
    expect(cache.list('ns', 'r|')).toEqual([{ key: 'r|a', value: 3 }]);
    cache.set('ns', 'r|b', 4);
    expect(cache.list('ns', 'r|')).toEqual([{ key: 'r|a', value: 3 }, { key: 'r|b', value: 4 }]);
  });
});
