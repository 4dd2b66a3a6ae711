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
});
