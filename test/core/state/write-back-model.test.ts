import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../../../core/state/index.js';
import { WriteBackStateStore } from '../../../core/state/write-back.js';
// The bench's mulberry32: a small deterministic generator, the same runs every time.
import { prng as rng } from '../../bench/workload.js';

/**
 * The write-back cache against a plain model of what it promises (reads and lists see the writes not yet flushed; flush
 * commits them; discard and a restart drop them; demotion to the LRU and eviction change nothing visible), over long
 * random runs with namespaces small enough to be demoted and an LRU small enough to evict: the per-namespace changed
 * keys (perf25) must keep every one of these.
 */

describe('WriteBackStateStore against its model', () => {
  it('flush, discard, restart, list, demotion and eviction over random runs', () => {
    const NS = ['a', 'b', 'c'];
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed);
      const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
      const backing = new MemoryStateStore();
      const make = () => new WriteBackStateStore(backing, 6, 10);
      let cache = make();
      const committed = new Map<string, unknown>();
      let pending = new Map<string, unknown>();
      const DEL = Symbol('del');
      const k = (ns: string, key: string) => `${ns}\u0000${key}`;
      const expected = (ns: string, key: string) => {
        const p = pending.get(k(ns, key));
        return p === DEL ? undefined : p !== undefined ? p : committed.get(k(ns, key));
      };
      for (let step = 0; step < 400; step++) {
        const ns = pick(NS);
        const key = `k${Math.floor(r() * 14)}`;
        const op = r();
        if (op < 0.35) {
          const v = { v: step, s: seed };
          cache.set(ns, key, v);
          pending.set(k(ns, key), v);
        } else if (op < 0.5) {
          cache.delete(ns, key);
          pending.set(k(ns, key), DEL);
        } else if (op < 0.8) {
          expect(cache.get(ns, key), `seed ${seed} step ${step} get ${ns}/${key}`).toEqual(expected(ns, key));
        } else if (op < 0.88) {
          cache.flush();
          for (const [kk, v] of pending) {
            if (v === DEL) committed.delete(kk);
            else committed.set(kk, v);
          }
          pending = new Map();
          for (const n of NS) for (let i = 0; i < 14; i++) expect(backing.get(n, `k${i}`), `seed ${seed} step ${step} stored ${n}/k${i}`).toEqual(committed.get(k(n, `k${i}`)));
        } else if (op < 0.93) {
          cache.discard();
          pending = new Map();
        } else if (op < 0.96) {
          cache = make();
          pending = new Map();
        } else if (ns === 'c') {
          // Only `c` is listed (a listed namespace stays whole): `a` and `b` are demoted to the LRU and evicted from it.
          // A list reads through the store once the namespace is demoted (flushing first): flushed here in both.
          expect(cache.list(ns).map((e) => e.key).sort(), `seed ${seed} step ${step} list ${ns}`).toEqual(Array.from({ length: 14 }, (_, i) => `k${i}`).filter((x) => expected(ns, x) !== undefined).sort());
          cache.flush();
          for (const [kk, v] of pending) {
            if (v === DEL) committed.delete(kk);
            else committed.set(kk, v);
          }
          pending = new Map();
        } else {
          expect(cache.get(ns, key), `seed ${seed} step ${step} get ${ns}/${key}`).toEqual(expected(ns, key));
        }
      }
      for (const n of NS) for (let i = 0; i < 14; i++) expect(cache.get(n, `k${i}`), `seed ${seed} end ${n}/k${i}`).toEqual(expected(n, `k${i}`));
    }
  });
});
