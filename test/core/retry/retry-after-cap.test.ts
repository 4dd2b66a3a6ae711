/**
 * The longest server-requested wait the shared retry honours: a Retry-After
 * of an hour (a misconfigured proxy, a hostile endpoint) is cut to 300 s, not
 * obeyed and not ignored. The waits are recorded instead of slept, so the cap
 * is checked without waiting five minutes.
 */
import { describe, expect, it, vi } from 'vitest';

const waits: number[] = [];
vi.mock('node:timers/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:timers/promises')>();
  return {
    ...real,
    setTimeout: (ms: number, value?: unknown, opts?: { signal?: AbortSignal }) => {
      waits.push(ms);
      return real.setTimeout(0, value, opts);
    },
  };
});

const { deliverWithRetry } = await import('../../../core/retry/index.js');
const { DeliveryError } = await import('../../../core/sink.js');

describe('Retry-After cap', () => {
  it('waits at most 300 s for a Retry-After of an hour; a shorter one is waited as asked', async () => {
    for (const [asked, waited] of [[3_600_000, 300_000], [300_000, 300_000], [299_000, 299_000]] as const) {
      waits.length = 0;
      let calls = 0;
      const final = await deliverWithRetry(
        ['x'],
        async (items) => {
          if (++calls === 1) throw new DeliveryError('429 Too Many Requests', true, asked);
          return items.map(() => ({ status: 'ok' as const }));
        },
        { initialMs: 1, maxMs: 2, requestTimeoutMs: 1000 },
        new AbortController().signal,
      );
      expect(final).toEqual([{ status: 'ok' }]);
      expect(waits, `Retry-After ${asked} ms`).toContain(waited);
      expect(Math.max(...waits)).toBe(waited);
    }
  });
});
