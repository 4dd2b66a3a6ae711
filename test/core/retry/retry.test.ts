import { describe, expect, it } from 'vitest';
import { deliverWithRetry } from '../../../core/retry/index.js';
import { DeliveryError, parseRetryAfter, type DeliveryStatus } from '../../../core/sink.js';

const policy = { initialMs: 5, maxMs: 20, requestTimeoutMs: 1000 };

describe('deliverWithRetry', () => {
  it('re-sends only the retryable items and settles ok/permanent ones once', async () => {
    const calls: string[][] = [];
    let round = 0;
    const final = await deliverWithRetry(
      ['a', 'b', 'c', 'd'],
      async (items) => {
        calls.push(items);
        round++;
        return items.map((i): DeliveryStatus => {
          if (i === 'b') return { status: 'permanent', reason: 'mapping error' };
          if (i === 'c' && round < 3) return { status: 'retryable', reason: '429' };
          return { status: 'ok' };
        });
      },
      policy,
      new AbortController().signal,
    );
    expect(calls).toEqual([['a', 'b', 'c', 'd'], ['c'], ['c']]);
    expect(final).toEqual([{ status: 'ok' }, { status: 'permanent', reason: 'mapping error' }, { status: 'ok' }, { status: 'ok' }]);
  });

  it('treats a thrown transport error as all-retryable and a non-retryable DeliveryError as permanent', async () => {
    let n = 0;
    const ok = await deliverWithRetry(
      [1, 2],
      async (items) => {
        if (n++ === 0) throw new Error('ECONNREFUSED');
        return items.map(() => ({ status: 'ok' as const }));
      },
      policy,
      new AbortController().signal,
    );
    expect(ok).toEqual([{ status: 'ok' }, { status: 'ok' }]);
    const perm = await deliverWithRetry([1], async () => {
      throw new DeliveryError('400 bad request', false);
    }, policy, new AbortController().signal);
    expect(perm).toEqual([{ status: 'permanent', reason: '400 bad request' }]);
  });

  it('waits at least Retry-After before the next attempt', async () => {
    const times: number[] = [];
    await deliverWithRetry(
      ['x'],
      async () => {
        times.push(Date.now());
        return times.length === 1 ? [{ status: 'retryable', reason: '429', retryAfterMs: 150 }] : [{ status: 'ok' }];
      },
      policy,
      new AbortController().signal,
    );
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(140);
  });

  it('times out a hung attempt and retries it', async () => {
    let n = 0;
    const final = await deliverWithRetry(
      ['x'],
      (items, signal) =>
        n++ === 0
          ? new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))))
          : Promise.resolve(items.map(() => ({ status: 'ok' as const }))),
      { ...policy, requestTimeoutMs: 50 },
      new AbortController().signal,
    );
    expect(final).toEqual([{ status: 'ok' }]);
    expect(n).toBe(2);
  });

  it('stops on shutdown without settling anything (the cursor stays put)', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await expect(
      deliverWithRetry(['x'], async () => [{ status: 'retryable', reason: 'down' }], { ...policy, initialMs: 10 }, ac.signal),
    ).rejects.toThrow();
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())).toBeGreaterThan(8000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
