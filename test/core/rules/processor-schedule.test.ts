/**
 * The rule processor as a running consumer (`start`): how it works through a
 * backlog, when it commits its alerts, state and cursor, and how it recovers
 * from failures. A counting engine over a real spool and write-back state.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '../../../core/log.js';
import { createMetrics } from '../../../core/metrics.js';
import type { RuleEngine } from '../../../core/rules/engine.js';
import { RULES_CONSUMER, RuleProcessor } from '../../../core/rules/processor.js';
import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';
import { Spool } from '../../../core/spool/index.js';
import { WriteBackStateStore } from '../../../core/state/write-back.js';
import { waitFor } from '../../helpers/wait.js';

const open: Array<{ proc: RuleProcessor; spool: Spool }> = [];
afterEach(() => {
  for (const { proc, spool } of open.splice(0)) {
    const inner = proc as unknown as { stopped: boolean; timer?: NodeJS.Timeout };
    inner.stopped = true;
    clearInterval(inner.timer);
    spool.close();
  }
});

/** An alert for event `id` (mode `observe` when the event's id says so). */
function alertFor(id: string): Alert {
  return {
    id: `alert-${id}`,
    rule_id: 'test.rule',
    stage: 'training',
    severity: 'high',
    mode: id.includes('observe') ? 'observe' : 'alert',
    title: 't',
    summary: 's',
    time: '2026-11-25T10:00:00.000Z',
    entity: { type: 'job', id },
    evidence: [id],
    details: {},
  } as unknown as Alert;
}

/** An engine that records every event it evaluates and raises an alert for ids starting with `alert`. */
function countingEngine() {
  const seen: string[] = [];
  const engine: RuleEngine = {
    process(ev: NormalizedEvent): Alert[] {
      seen.push(ev.id);
      return ev.id.startsWith('alert') ? [alertFor(ev.id)] : [];
    },
    flush: () => [],
    tick: () => [],
    catalogue: () => [],
  };
  return { engine, seen };
}

function processor(opts: { log?: Logger } = {}) {
  const spool = Spool.open({ dir: ':memory:' });
  const { engine, seen } = countingEngine();
  const metrics = createMetrics();
  const proc = new RuleProcessor(spool, engine, opts.log ?? silentLogger(), metrics, undefined, new WriteBackStateStore(spool.state));
  open.push({ proc, spool });
  return { spool, proc, seen, metrics };
}

const events = (ids: string[]) => ids.map((id) => ({ kind: 'event' as const, id, body: JSON.stringify({ id }) }));
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('RuleProcessor as a running consumer', () => {
  it('works through a backlog chunk after chunk at once (not one chunk per poll), evaluating each event once', async () => {
    const { spool, proc, seen } = processor();
    // A poll an hour away: only the append and the processor's own rescheduling can move it.
    proc.start({ chunk: 10, pollMs: 3_600_000 });
    await spool.append(events(ids('e', 95)));
    await waitFor(() => (spool.cursor(RULES_CONSUMER) === 95 ? true : undefined), 1000);
    expect(seen).toEqual(ids('e', 95));
  });

  it('an idle turn commits the alerts, state and cursor evaluated meanwhile at once, not when stateEveryMs next comes round', async () => {
    const { spool, proc } = processor();
    proc.start({ chunk: 100, stateEveryMs: 60_000, pollMs: 20 });
    await spool.append(events(['alert-1', 'quiet-1']));
    // Both events, then the alert they raised (seq 3: the processor reads past its own alerts too).
    await waitFor(() => (spool.cursor(RULES_CONSUMER) === 3 ? true : undefined), 1000);
    expect((spool.listAlerts({ limit: 10 }) as Alert[]).map((a) => a.id)).toEqual(['alert-alert-1']);
  });

  it('between state writes it reads on from what it evaluated, not from the committed cursor: each event is evaluated once', async () => {
    const { spool, proc, seen } = processor();
    proc.start({ chunk: 10, stateEveryMs: 60_000, pollMs: 20 });
    await spool.append(events(ids('e', 95)));
    await waitFor(() => (spool.cursor(RULES_CONSUMER) === 95 ? true : undefined), 1000);
    expect(seen).toEqual(ids('e', 95));
  });

  it('stop() evaluates what is waiting and commits it with the cursor, even within stateEveryMs', () => {
    const { spool, proc, seen } = processor();
    proc.start({ chunk: 100, stateEveryMs: 60_000, pollMs: 3_600_000 });
    spool.transaction(() => spool.appendInTx(events(['alert-2', ...ids('q', 3)])));
    proc.stop();
    expect(seen).toEqual(['alert-2', ...ids('q', 3)]);
    expect(spool.cursor(RULES_CONSUMER)).toBe(4);
    expect((spool.listAlerts({ limit: 10 }) as Alert[]).map((a) => a.id)).toEqual(['alert-alert-2']);
  });

  it('counts committed alerts in /metrics by rule and by their own mode', async () => {
    const { spool, proc, metrics } = processor();
    proc.start({ chunk: 100, pollMs: 3_600_000 });
    await spool.append(events(['alert-a', 'alert-observe-b', 'alert-observe-c']));
    await waitFor(() => (spool.listAlerts({ limit: 10 }).length === 3 ? true : undefined), 1000);
    const text = await metrics.registry.metrics();
    expect(text).toContain('mltrail_alerts_total{rule_id="test.rule",mode="alert"} 1');
    expect(text).toContain('mltrail_alerts_total{rule_id="test.rule",mode="observe"} 2');
  });

  it('after a failure passes, the next one backs off from 0.1 s again (the failure count resets on success)', async () => {
    const errors: Array<{ failures: number; retry_in_ms: number }> = [];
    const log = { ...silentLogger(), error: (o: { failures: number; retry_in_ms: number }) => void errors.push(o) } as unknown as Logger;
    const { spool, proc } = processor({ log });
    let failing = true;
    const readLean = spool.readLean.bind(spool);
    spool.readLean = ((...args: Parameters<typeof readLean>) => {
      if (failing) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      return readLean(...args);
    }) as typeof spool.readLean;
    proc.start({ chunk: 100, pollMs: 5 });
    await spool.append(events(['x-1']));
    await waitFor(() => (errors.length >= 2 ? true : undefined), 2000);
    failing = false;
    await waitFor(() => (spool.cursor(RULES_CONSUMER) === 1 ? true : undefined), 2000);
    const before = errors.length;
    failing = true;
    await waitFor(() => (errors.length > before ? true : undefined), 2000);
    expect(errors[before]).toMatchObject({ failures: 1, retry_in_ms: 100 });
  });
  it('ticks the engine once after idleTickMs with no event (counted from the start), then once per idleTickMs, never while events flow', async () => {
    const spool = Spool.open({ dir: ':memory:' });
    const ticks: number[] = [];
    const engine: RuleEngine = { process: () => [], flush: () => [], tick: (now: number) => (ticks.push(now), []), catalogue: () => [] };
    const proc = new RuleProcessor(spool, engine, silentLogger(), undefined, undefined, new WriteBackStateStore(spool.state));
    open.push({ proc, spool });
    let wall = Date.parse('2026-11-25T10:00:00Z');
    const settle = () => new Promise((r) => setTimeout(r, 60)); // a dozen 5 ms polls
    proc.start({ pollMs: 5, idleTickMs: 60_000, clock: () => wall });
    await settle();
    expect(ticks).toEqual([]); // just started: not idle yet
    wall += 30_000;
    await spool.append(events(['busy-1']));
    await waitFor(() => (spool.cursor(RULES_CONSUMER) === 1 ? true : undefined), 1000);
    wall += 45_000; // 75 s since the start, 45 s since the event
    await settle();
    expect(ticks).toEqual([]);
    wall += 20_000; // 65 s since the event
    await waitFor(() => (ticks.length === 1 ? true : undefined), 1000);
    await settle();
    expect(ticks).toHaveLength(1); // once, not on every poll
    wall += 30_000;
    await settle();
    expect(ticks).toHaveLength(1);
    wall += 31_000;
    await waitFor(() => (ticks.length === 2 ? true : undefined), 1000);
    await settle();
    expect(ticks).toHaveLength(2);
  });
});
