import { describe, expect, it } from 'vitest';
import { compact } from '../../../core/formats/common.js';

/** The plain-copy definition compact() must keep matching (drop undefined/null/'' and empty objects/arrays). */
function reference(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reference).filter((v) => v !== undefined && v !== null && v !== '');
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || v === null || v === '') continue;
    const c = reference(v);
    if (c && typeof c === 'object' && (Array.isArray(c) ? c.length === 0 : Object.keys(c).length === 0)) continue;
    out[k] = c;
  }
  return out;
}

describe('compact', () => {
  it('drops empty values at any depth and keeps empty objects inside arrays', () => {
    const v = { a: '', b: null, c: undefined, d: { e: { f: '' } }, g: [], h: [null, '', 'x', {}, [], { k: '' }], i: 0, j: false, k: { l: 'm' } };
    expect(compact(v)).toEqual({ h: ['x', {}, [], {}], i: 0, j: false, k: { l: 'm' } });
    expect(compact(v)).toEqual(reference(v));
  });

  it('returns an already compact object as is and shares untouched sub-objects (no copy on the hot path)', () => {
    const actor = { id: 'u1', chain: ['a', 'b'] };
    const clean = { actor, n: 1 };
    expect(compact(clean)).toBe(clean);
    const dirty = { actor, drop: '' };
    const out = compact(dirty);
    expect(out).not.toBe(dirty);
    expect(out).toEqual({ actor });
    expect(out.actor).toBe(actor);
    expect(dirty).toEqual({ actor, drop: '' }); // the input is never changed
  });

  it('copies arrays with holes or droppable elements, and non-plain objects, exactly as the plain definition does', () => {
    const holes = ['a', , 'b']; // eslint-disable-line no-sparse-arrays
    expect(compact(holes)).toEqual(['a', 'b']);
    const v = { when: new Date(0), nested: { d: new Date(0), s: 'x' }, list: [new Date(0)] };
    expect(JSON.stringify(compact(v))).toBe(JSON.stringify(reference(v)));
  });

  it('agrees with the plain definition on generated values', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const leaves = [undefined, null, '', 'x', 0, false, 1.5];
    const gen = (d: number): unknown => {
      const r = rnd();
      if (d > 3 || r < 0.35) return leaves[Math.floor(rnd() * leaves.length)];
      if (r < 0.65) return Array.from({ length: Math.floor(rnd() * 4) }, () => gen(d + 1));
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rnd() * 5); i > 0; i--) o[`k${Math.floor(rnd() * 6)}`] = gen(d + 1);
      return o;
    };
    for (let i = 0; i < 5000; i++) {
      const v = gen(0);
      const before = JSON.stringify(v);
      expect(JSON.stringify(compact(v))).toBe(JSON.stringify(reference(v)));
      expect(JSON.stringify(v)).toBe(before);
    }
  });
});
