import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Poll `cond` (sync or async) every 20 ms until it holds; throws after `ms` naming `what`.
 *
 * @example
 * await until(() => spool.cursor('rules') >= spool.maxSeq());
 */
export async function until(cond: () => boolean | Promise<boolean>, ms = 30_000, what = 'condition'): Promise<void> {
  await waitFor(async () => (await cond()) || undefined, ms, what);
}

/**
 * Poll `fn` every 20 ms until it returns a truthy value, and return that value; throws after `ms`.
 *
 * @example
 * const alert = await waitFor(() => spool.listAlerts({ rule_id: 'x' })[0]);
 */
export async function waitFor<T>(fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, ms = 30_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
