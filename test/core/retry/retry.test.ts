import { describe, expect, it } from 'vitest';
import { deliverWithRetry, retryOperation } from '../../../core/retry/index.js';
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

describe('deliverWithRetry: what a sink answers', () => {
  it('a sink answering too few statuses is retried (its records are not settled as permanent)', async () => {
    let n = 0;
    const final = await deliverWithRetry(
      ['a', 'b'],
      async (items) => (n++ === 0 ? [{ status: 'ok' as const }] : items.map(() => ({ status: 'ok' as const }))),
      policy,
      new AbortController().signal,
    );
    expect(n).toBe(2);
    expect(final).toEqual([{ status: 'ok' }, { status: 'ok' }]);
  });

  it('waits for the longest Retry-After of the records to retry, whatever their order', async () => {
    const times: number[] = [];
    await deliverWithRetry(
      ['x', 'y'],
      async (items) => {
        times.push(Date.now());
        return times.length === 1
          ? [{ status: 'retryable', reason: '429', retryAfterMs: 200 }, { status: 'retryable', reason: '429', retryAfterMs: 10 }]
          : items.map(() => ({ status: 'ok' as const }));
      },
      policy,
      new AbortController().signal,
    );
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(190);
  });

  it('honours the Retry-After of a whole-request failure (a thrown retryable DeliveryError)', async () => {
    const times: number[] = [];
    const final = await deliverWithRetry(
      ['x'],
      async (items) => {
        times.push(Date.now());
        if (times.length === 1) throw new DeliveryError('503 Service Unavailable', true, 150);
        return items.map(() => ({ status: 'ok' as const }));
      },
      policy,
      new AbortController().signal,
    );
    expect(final).toEqual([{ status: 'ok' }]);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(140);
  });

  it('with maxAttempts, makes exactly that many attempts and settles what is left as permanent', async () => {
    let n = 0;
    const final = await deliverWithRetry(['x'], async () => (n++, [{ status: 'retryable' as const, reason: 'down' }]), { ...policy, maxAttempts: 3 }, new AbortController().signal);
    expect(n).toBe(3);
    expect(final).toEqual([{ status: 'permanent', reason: expect.stringMatching(/^gave up: /) }]);
  });
});

describe('retryOperation', () => {
  it('retries transient failures and returns the result', async () => {
    let n = 0;
    const out = await retryOperation(async () => {
      if (n++ < 2) throw new Error('ECONNRESET');
      return 'page';
    }, policy, new AbortController().signal);
    expect(out).toBe('page');
    expect(n).toBe(3);
  });

  it('makes exactly maxAttempts attempts, then fails with the last error', async () => {
    let n = 0;
    await expect(retryOperation(async () => {
      n++;
      throw new Error(`down ${n}`);
    }, { ...policy, maxAttempts: 3 }, new AbortController().signal)).rejects.toThrow('down 3');
    expect(n).toBe(3);
  });

  it('does not retry a non-retryable DeliveryError (a refused token, a 404)', async () => {
    let n = 0;
    await expect(retryOperation(async () => {
      n++;
      throw new DeliveryError('401 Unauthorized', false);
    }, policy, new AbortController().signal)).rejects.toThrow('401 Unauthorized');
    expect(n).toBe(1);
  });

  it('honours a retryable DeliveryError\'s Retry-After', async () => {
    const times: number[] = [];
    await retryOperation(async () => {
      times.push(Date.now());
      if (times.length === 1) throw new DeliveryError('429 Too Many Requests', true, 150);
      return 1;
    }, policy, new AbortController().signal);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(140);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())).toBeGreaterThan(8000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
