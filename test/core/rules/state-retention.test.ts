import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { REGISTRY_NS } from '../../../core/rules/registry.js';
import { AGED_STATE_NS, expireRuleState, type StateExpiryCursor } from '../../../core/rules/state-retention.js';
import { Spool } from '../../../core/spool/index.js';
import { WriteBackStateStore } from '../../../core/state/write-back.js';
import { tmpDir } from '../../helpers/bridge.js';

const DAY = 86_400_000;
const KIND_NS = 'rules.kind';

/** A whole housekeeping pass (as the bridge runs it, in slices of `scan` keys): how many it deleted. */
function pass(spool: Spool, now: number, days: number, scan = 2): number {
  let deleted = 0;
  let at: StateExpiryCursor | undefined = { ns: 0, after: '' };
  while (at) {
    const r = expireRuleState(spool.state, now, days, at, scan);
    deleted += r.deleted;
    at = r.next;
  }
  return deleted;
}

describe('rules.state_retention_days: learned rule state unused past it ages out', () => {
  it('deletes rules.registry and rules.kind keys neither written nor read for that long; a key read by the rules is kept; other state is not touched', () => {
    const t0 = Date.parse('2025-01-10T12:00:00Z');
    let clock = t0;
    const spool = Spool.open({ dir: tmpDir(), synchronous: 'NORMAL', now: () => clock });
    expect(AGED_STATE_NS).toEqual([REGISTRY_NS, KIND_NS]);
    spool.state.set(REGISTRY_NS, 'v|mlflow|gone|1', { approvedEver: true });
    spool.state.set(REGISTRY_NS, 'v|mlflow|fraud|3', { approvedEver: true });
    spool.state.set(KIND_NS, 'ingestion.unfamiliar_writer|writers|s3://old-bucket/', { writers: { etl: t0 } });
    spool.state.set(KIND_NS, 'ingestion.unfamiliar_writer|writers|s3://ml-training-data/churn/', { writers: { etl: t0 } });
    spool.state.set('rules.engine', 'watermark', t0);
    spool.state.set('cursor-like', 'x', 1);
    // A row an older build wrote (no `touched`): it ages from the first pass on.
    spool.db.prepare("INSERT INTO state (ns, key, value) VALUES ('rules.kind', 'legacy|key', '1')").run();

    // 300 days on: the churn writers are written again (etl wrote there); 350 days on, the rules read fraud v3 (a deployment).
    clock = t0 + 300 * DAY;
    expect(pass(spool, clock, 400)).toBe(0);
    spool.state.set(KIND_NS, 'ingestion.unfamiliar_writer|writers|s3://ml-training-data/churn/', { writers: { etl: clock } });
    clock = t0 + 350 * DAY;
    const cache = new WriteBackStateStore(spool.state, undefined, undefined, { touchOnRead: AGED_STATE_NS, now: () => clock });
    expect(cache.get(REGISTRY_NS, 'v|mlflow|fraud|3')).toEqual({ approvedEver: true });
    spool.transaction(() => cache.flush());

    // 401 days after t0: what nothing used since t0 goes; the row stamped at the first pass (day 300) stays.
    clock = t0 + 401 * DAY;
    expect(pass(spool, clock, 400)).toBe(2);
    expect(spool.state.list(REGISTRY_NS).map((r) => r.key)).toEqual(['v|mlflow|fraud|3']);
    expect(spool.state.list(KIND_NS).map((r) => r.key)).toEqual(['ingestion.unfamiliar_writer|writers|s3://ml-training-data/churn/', 'legacy|key']);
    expect(spool.state.get('rules.engine', 'watermark')).toBe(t0);
    expect(spool.state.get('cursor-like', 'x')).toBe(1);
    // 0 keeps everything, whatever its age.
    clock = t0 + 3000 * DAY;
    expect(pass(spool, clock, 0)).toBe(0);
    expect(pass(spool, clock, 400)).toBe(3);
    spool.close();
  });

  it('the rules\' cache writes a key it read back once a UTC day, and only in the namespaces that age', () => {
    let clock = Date.parse('2026-03-02T10:00:00Z');
    const spool = Spool.open({ dir: tmpDir(), synchronous: 'NORMAL', now: () => clock });
    spool.state.set(REGISTRY_NS, 'v|a', 1);
    spool.state.set('rules.engine', 'watermark', 1);
    const cache = new WriteBackStateStore(spool.state, undefined, undefined, { touchOnRead: AGED_STATE_NS, now: () => clock });
    cache.get(REGISTRY_NS, 'v|a');
    cache.get(REGISTRY_NS, 'v|a');
    cache.get(REGISTRY_NS, 'v|missing');
    cache.get('rules.engine', 'watermark');
    expect(cache.serializeDirty()).toEqual([{ ns: REGISTRY_NS, key: 'v|a', json: '1' }]);
    spool.transaction(() => cache.flush());
    cache.get(REGISTRY_NS, 'v|a');
    expect(cache.serializeDirty()).toEqual([]);
    // The next day it is written back again; a cache without touchOnRead never writes a read back.
    clock += DAY;
    spool.transaction(() => cache.flush());
    cache.get(REGISTRY_NS, 'v|a');
    expect(cache.serializeDirty()).toHaveLength(1);
    const plain = new WriteBackStateStore(spool.state);
    plain.get(REGISTRY_NS, 'v|a');
    expect(plain.serializeDirty()).toEqual([]);
    spool.close();
  });

  it('the default keeps state for good (0, opt-in ageing) and a documented 400 is accepted; replay is unaffected', () => {
    expect(RulesConfig.parse({}).state_retention_days).toBe(0);
    expect(RulesConfig.parse({ state_retention_days: 400 }).state_retention_days).toBe(400);
    expect(RulesConfig.parse({ state_retention_days: 0 }).state_retention_days).toBe(0);
    expect(() => RulesConfig.parse({ state_retention_days: -1 })).toThrow();
    expect(replayEvents([], { rules: RulesConfig.parse({ state_retention_days: 30 }) }).alerts).toEqual([]);
  });
});
