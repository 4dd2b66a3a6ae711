import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attemptDeadline } from '../../../core/retry/index.js';
import { ROOT } from '../../helpers/fixtures.js';

describe('attemptDeadline', () => {
  it('aborts at the deadline with a TimeoutError, or with the parent\'s reason when the parent aborts first', async () => {
    const t0 = Date.now();
    const d = attemptDeadline(undefined, 50);
    await new Promise((r) => d.signal.addEventListener('abort', r, { once: true }));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    expect((d.signal.reason as DOMException).name).toBe('TimeoutError');
    const parent = new AbortController();
    const p = attemptDeadline(parent.signal, 10_000);
    parent.abort(new Error('shutting down'));
    expect(p.signal.aborted).toBe(true);
    expect((p.signal.reason as Error).message).toBe('shutting down');
    p.clear();
  });

  it('an endpoint that accepts and never answers times out on every attempt, however often the GC runs (Node 20: nodejs/node#57736)', () => {
    // In a child with --expose-gc: a collection every 20 ms took AbortSignal.any's timeout signal before it fired.
    const script = `
      import http from 'node:http';
      import { deliverWithRetry } from ${JSON.stringify(join(ROOT, 'dist/core/retry/index.js'))};
      const server = http.createServer((req) => req.resume()).listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      const url = 'http://127.0.0.1:' + server.address().port + '/';
      const gc = setInterval(() => globalThis.gc(), 20);
      const t0 = Date.now();
      const out = await deliverWithRetry([1], async (items, signal) => { await fetch(url, { method: 'POST', body: '{}', signal }); return [{ status: 'ok' }]; },
        { initialMs: 10, maxMs: 20, requestTimeoutMs: 300, maxAttempts: 3 }, new AbortController().signal);
      clearInterval(gc);
      console.log(JSON.stringify({ out, ms: Date.now() - t0 }));
      process.exit(0);`;
    const res = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(res.stderr).toBe('');
    const { out, ms } = JSON.parse(res.stdout) as { out: Array<{ status: string; reason: string }>; ms: number };
    expect(out).toEqual([{ status: 'permanent', reason: expect.stringMatching(/gave up: timeout after 300 ms/) }]);
    expect(ms).toBeLessThan(5000);
  });
});
