import pRetry, { AbortError } from 'p-retry';
import type { DeliveryStatus } from '../sink.js';
import { DeliveryError } from '../sink.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { attemptDeadline } from './deadline.js';

/** How a record's delivery ended: delivered, refused for good, or parked until its destination is fixed. */
export type FinalStatus = { status: 'ok' } | { status: 'permanent'; reason: string } | { status: 'parked'; reason: string };

export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
  /** Per-attempt timeout. */
  requestTimeoutMs: number;
  /** Give up after this many attempts (default: never — transient failures are retried forever). */
  maxAttempts?: number;
}

export interface AttemptInfo {
  attempt: number;
  reason: string;
  retryAfterMs?: number;
}

/** Longest server-requested wait honoured (a longer Retry-After is clamped, not ignored). */
const MAX_RETRY_AFTER_MS = 300_000;

/** p-retry options for a policy: jittered exponential backoff; a server's Retry-After is waited first. */
function retryOptions(policy: RetryPolicy, signal: AbortSignal, onRetry?: (info: AttemptInfo) => void) {
  return {
    retries: policy.maxAttempts ? policy.maxAttempts - 1 : Number.POSITIVE_INFINITY,
    minTimeout: policy.initialMs,
    maxTimeout: policy.maxMs,
    factor: 2,
    randomize: true,
    signal,
    onFailedAttempt: async ({ error, attemptNumber }: { error: Error; attemptNumber: number }) => {
      const retryAfterMs = error instanceof RetryLater || error instanceof DeliveryError ? error.retryAfterMs : undefined;
      onRetry?.({ attempt: attemptNumber, reason: error.message, retryAfterMs });
      // Retry-After is a floor the server asked for; the jittered backoff comes on top.
      if (retryAfterMs && retryAfterMs > 0) await sleep(Math.min(retryAfterMs, MAX_RETRY_AFTER_MS), undefined, { signal }).catch(() => {});
    },
    shouldRetry: () => !signal.aborted,
  };
}

class RetryLater extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * The one retry mechanism every sink shares (and connectors use for polling):
 * jittered exponential backoff (p-retry), Retry-After honoured, a per-attempt
 * timeout, and stop on shutdown. Items answered `retryable` are sent again
 * alone; `ok` and `permanent` items are settled and never resent.
 *
 * @returns one final status per item (`ok`, `permanent` or `parked`: never retried here), or throws an
 *   AbortError when `signal` fires first (the caller keeps its cursor: nothing lost).
 * @example
 * const final = await deliverWithRetry(batch, (items, signal) => sink.send(items, signal), policy, shutdown.signal);
 */
export async function deliverWithRetry<T>(
  items: T[],
  send: (items: T[], signal: AbortSignal) => Promise<DeliveryStatus[]>,
  policy: RetryPolicy,
  signal: AbortSignal,
  onRetry?: (info: AttemptInfo) => void,
): Promise<FinalStatus[]> {
  const final: Array<FinalStatus | undefined> = new Array(items.length);
  let pending = items.map((_, i) => i);

  await pRetry(
    async (attempt) => {
      const deadline = attemptDeadline(signal, policy.requestTimeoutMs);
      const attemptSignal = deadline.signal;
      let statuses: DeliveryStatus[];
      try {
        statuses = await send(
          pending.map((i) => items[i]!),
          attemptSignal,
        );
      } catch (err) {
        if (signal.aborted) throw new AbortError('shutting down');
        if (err instanceof DeliveryError && !err.retryable) {
          for (const i of pending) final[i] = { status: 'permanent', reason: err.message };
          pending = [];
          return;
        }
        const reason = attemptSignal.aborted ? `timeout after ${policy.requestTimeoutMs} ms` : describe(err);
        throw new RetryLater(reason, err instanceof DeliveryError ? err.retryAfterMs : undefined);
      } finally {
        deadline.clear();
      }
      if (statuses.length !== pending.length) {
        throw new RetryLater(`sink answered ${statuses.length} statuses for ${pending.length} records`);
      }
      const next: number[] = [];
      let retryAfterMs: number | undefined;
      let reason = '';
      statuses.forEach((s, k) => {
        const i = pending[k]!;
        if (s.status === 'retryable') {
          next.push(i);
          reason ||= s.reason;
          if (s.retryAfterMs !== undefined) retryAfterMs = Math.max(retryAfterMs ?? 0, s.retryAfterMs);
        } else final[i] = s;
      });
      pending = next;
      if (pending.length > 0) throw new RetryLater(`${pending.length} record(s) to retry (attempt ${attempt}): ${reason}`, retryAfterMs);
    },
    retryOptions(policy, signal, onRetry),
  ).catch((err) => {
    if (signal.aborted) throw new AbortError('shutting down');
    // Attempts exhausted (only with maxAttempts): what is still pending is permanent.
    for (const i of pending) final[i] = { status: 'permanent', reason: `gave up: ${describe(err)}` };
  });

  return final.map((f) => f ?? { status: 'permanent', reason: 'no status' });
}

/**
 * Retry a single operation (a poll, a download) with the same policy.
 *
 * @example
 * const page = await retryOperation(() => client.searchModelVersions(), { initialMs: 500, maxMs: 10_000, requestTimeoutMs: 30_000, maxAttempts: 5 }, signal);
 */
export async function retryOperation<T>(
  op: (signal: AbortSignal) => Promise<T>,
  policy: RetryPolicy,
  signal: AbortSignal,
  onRetry?: (info: AttemptInfo) => void,
): Promise<T> {
  return pRetry(
    async () => {
      const deadline = attemptDeadline(signal, policy.requestTimeoutMs);
      try {
        return await op(deadline.signal);
      } catch (err) {
        if (err instanceof DeliveryError && !err.retryable) throw new AbortError(err);
        throw err;
      } finally {
        deadline.clear();
      }
    },
    retryOptions(policy, signal, onRetry),
  );
}

export function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    const c = cause instanceof Error ? `: ${cause.message}` : '';
    return `${err.message}${c}`;
  }
  return String(err);
}

export { AbortError };
export { attemptDeadline } from './deadline.js';
