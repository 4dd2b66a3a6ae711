/**
 * A signal for one attempt: aborted when `parent` aborts or after `ms`, whichever comes first.
 * Call `clear()` when the attempt is over (the timer and the listener on `parent` go).
 *
 * Not `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: on Node 20 a garbage collection can take
 * the timeout signal before it fires (nodejs/node#57736), so a request to an endpoint that accepted
 * the connection and never answered hung for ever, and its sink with it. Here the timer holds the
 * controller, so the deadline stands whatever the collector does.
 *
 * @example
 * const d = attemptDeadline(shutdown.signal, 30_000);
 * try { await request(url, { signal: d.signal }); } finally { d.clear(); }
 */
export function attemptDeadline(parent: AbortSignal | undefined, ms: number): { signal: AbortSignal; clear: () => void } {
  const ctl = new AbortController();
  const onParent = () => ctl.abort(parent!.reason);
  if (parent?.aborted) ctl.abort(parent.reason);
  else parent?.addEventListener('abort', onParent, { once: true });
  const timer = setTimeout(() => ctl.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')), ms);
  return {
    signal: ctl.signal,
    clear: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
  };
}
