import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../core/log.js';
import type { RuleEngine } from '../../../core/rules/engine.js';
import { RULES_CONSUMER, RuleProcessor } from '../../../core/rules/processor.js';
import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';
import { Spool } from '../../../core/spool/index.js';

describe('RuleProcessor', () => {
  it('skips an event the engine throws on, evaluates the rest and advances its cursor', () => {
    const spool = Spool.open({ dir: ':memory:' });
    const seen: string[] = [];
    const engine: RuleEngine = {
      process(ev: NormalizedEvent): Alert[] {
        if (ev.id === 'poison') throw new TypeError('cannot read properties of undefined');
        seen.push(ev.id);
        return [];
      },
      flush: () => [],
      tick: () => [],
      catalogue: () => [],
    };
    const proc = new RuleProcessor(spool, engine, silentLogger());
    spool.transaction(() =>
      spool.appendInTx(['a', 'poison', 'b'].map((id) => ({ kind: 'event' as const, id, body: JSON.stringify({ id }) }))),
    );
    proc.drainNow();
    expect(seen).toEqual(['a', 'b']);
    expect(spool.cursor(RULES_CONSUMER)).toBe(3);
    spool.close();
  });

  it('a failure that lasts (a full disk) is retried with backoff, not on every poll, and logged as often', async () => {
    const spool = Spool.open({ dir: ':memory:' });
    const engine: RuleEngine = { process: () => [], flush: () => [], tick: () => [], catalogue: () => [] };
    const errors: unknown[] = [];
    const log = { ...silentLogger(), error: (o: unknown) => void errors.push(o) } as unknown as ReturnType<typeof silentLogger>;
    const proc = new RuleProcessor(spool, engine, log);
    spool.transaction(() => spool.appendInTx([{ kind: 'event' as const, id: 'a', body: '{"id":"a"}' }]));
    // Every read fails, as on a disk that refuses writes or a broken file.
    spool.readLean = () => {
      throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    };
    proc.start({ pollMs: 5 });
    await new Promise((r) => setTimeout(r, 1000));
    // 0.1 + 0.2 + 0.4 s… : a handful in a second, where a 5 ms poll used to log ~200.
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(errors.length).toBeLessThanOrEqual(6);
    expect(errors.at(-1)).toMatchObject({ failures: errors.length, retry_in_ms: 100 * 2 ** (errors.length - 1) });
    // stop() would drain (and fail again): end the loop directly.
    const inner = proc as unknown as { stopped: boolean; timer?: NodeJS.Timeout };
    inner.stopped = true;
    clearInterval(inner.timer);
    spool.close();
  });
});
