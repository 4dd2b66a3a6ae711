import { describe, expect, it } from 'vitest';
import { routePredicate, splitBatches } from '../../../core/delivery/route.js';
import { SinkCommonConfig } from '../../../core/sink.js';
import type { SpoolRecord } from '../../../core/spool/index.js';

let seq = 0;
const rec = (kind: 'event' | 'alert', body: Record<string, unknown>): SpoolRecord => ({ seq: ++seq, kind, id: `r${seq}`, body: JSON.stringify(body), added: 0 });
const route = (r: Record<string, unknown> = {}) => routePredicate(SinkCommonConfig.parse({ route: r }).route);

describe('routePredicate', () => {
  it('by default sends every event and alert-mode alerts of any severity, but not observe-mode ones', () => {
    const wanted = route();
    expect(wanted(rec('event', { stage: 'training', platform: 'vertex' }))).toBe(true);
    expect(wanted(rec('alert', { mode: 'alert', severity: 'low', entity: {} }))).toBe(true);
    expect(wanted(rec('alert', { mode: 'observe', severity: 'critical', entity: {} }))).toBe(false);
    expect(route({ observe_alerts: true })(rec('alert', { mode: 'observe', severity: 'low', entity: {} }))).toBe(true);
  });

  it('min_severity keeps alerts at or above it', () => {
    const high = route({ min_severity: 'high' });
    expect(['low', 'medium', 'high', 'critical'].map((severity) => high(rec('alert', { mode: 'alert', severity })))).toEqual([false, false, true, true]);
  });

  it('kinds, stages and platforms filter; an alert\'s platform is its entity\'s', () => {
    expect(route({ kinds: ['alert'] })(rec('event', { stage: 'training' }))).toBe(false);
    const training = route({ stages: ['training'] });
    expect(training(rec('event', { stage: 'training' }))).toBe(true);
    expect(training(rec('event', { stage: 'serving' }))).toBe(false);
    expect(training(rec('alert', { stage: 'serving', mode: 'alert', severity: 'high' }))).toBe(false);
    const sm = route({ platforms: ['sagemaker'] });
    expect(sm(rec('event', { platform: 'sagemaker' }))).toBe(true);
    expect(sm(rec('event', { platform: 'vertex' }))).toBe(false);
    expect(sm(rec('alert', { mode: 'alert', severity: 'high', entity: { platform: 'vertex' } }))).toBe(false);
    expect(sm(rec('alert', { mode: 'alert', severity: 'high', entity: { platform: 'sagemaker' } }))).toBe(true);
  });

  it('reads the lean body when there is one (routing never needs raw)', () => {
    const r = { ...rec('event', { stage: 'serving' }), leanBody: JSON.stringify({ stage: 'training' }) };
    expect(route({ stages: ['training'] })(r)).toBe(true);
  });
});

describe('splitBatches', () => {
  const sized = (n: number, bytes: number) => Array.from({ length: n }, (_, i) => ({ seq: i + 1, kind: 'event' as const, id: `s${i}`, body: 'x'.repeat(bytes), added: 0 }));

  it('never puts more than max_events records in a batch, and keeps their order', () => {
    const batches = splitBatches(sized(25, 10), 10, 1_000_000);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat().map((r) => r.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it('never exceeds max_bytes, except a lone record larger than it', () => {
    // 3 × 40 bytes fit in 120, a fourth does not.
    expect(splitBatches(sized(7, 40), 100, 120).map((b) => b.length)).toEqual([3, 3, 1]);
    expect(splitBatches(sized(2, 500), 100, 120).map((b) => b.length)).toEqual([1, 1]);
    // Counted in UTF-8 bytes (size when the spool knows it).
    const wide = [{ seq: 1, kind: 'event' as const, id: 'w1', body: 'é'.repeat(40), added: 0 }, { seq: 2, kind: 'event' as const, id: 'w2', body: 'é'.repeat(40), added: 0 }];
    expect(splitBatches(wide, 100, 120).map((b) => b.length)).toEqual([1, 1]);
  });
});
