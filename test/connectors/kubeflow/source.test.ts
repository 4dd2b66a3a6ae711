import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { IntervalPoller, sleep } from '../../../connectors/kubeflow/source.js';
import { harness } from './helpers.js';

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

/** A poller that only remembers the loop's signal (it is the one passed to every poll). */
class CountingPoller extends IntervalPoller {
  readonly name = 'kubeflow.test';
  signal?: AbortSignal;
  async pollOnce(signal: AbortSignal): Promise<void> {
    this.signal = signal;
  }
  get count(): number {
    return this.polls;
  }
}

describe('IntervalPoller sleep', () => {
  it('leaves no abort listener behind when the timer fires', async () => {
    const ac = new AbortController();
    for (let i = 0; i < 25; i++) await sleep(1, ac.signal);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('returns at once on abort, and at once when already aborted', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const p = sleep(60_000, ac.signal);
    ac.abort();
    await p;
    await sleep(60_000, ac.signal);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('a long-running loop keeps at most one listener on its signal and warns nothing', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    cleanup.push(() => process.off('warning', onWarning));
    const h = harness();
    cleanup.push(() => h.close());
    const p = new CountingPoller(h.deps, 1);
    p.start();
    cleanup.push(() => p.stop());
    await expect.poll(() => p.count, { timeout: 5000 }).toBeGreaterThan(30);
    expect(getEventListeners(p.signal!, 'abort').length).toBeLessThanOrEqual(1);
    await p.stop();
    // Node emits the warning on the next tick after the 11th listener.
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});
