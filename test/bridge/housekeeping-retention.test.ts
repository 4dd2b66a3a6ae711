import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../bridge/config.js';
import { startBridge, type Bridge } from '../../bridge/runtime.js';
import { createLogger } from '../../core/log.js';
import { STATS_NS } from '../../core/rules/engine.js';
import { Spool } from '../../core/spool/index.js';
import { tmpDir } from '../helpers/bridge.js';
import { waitFor } from '../helpers/wait.js';

const DAY = 86_400_000;
const running: Bridge[] = [];
afterEach(async () => {
  for (const b of running.splice(0)) await b.stop();
});

/** A bridge on `dataDir` (config `overrides` beside port 0) whose log lines are collected in `logged`. */
async function serveLogged(dataDir: string, overrides: Record<string, unknown> = {}) {
  const logged: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) } });
  const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: dataDir }, overrides: { server: { port: 0 }, ...overrides } });
  const b = await startBridge(cfg, { logger, env: {} });
  running.push(b);
  return { b, cfg, logged };
}

describe('serve housekeeping: dead letters and rule statistics past their retention', () => {
  it('are deleted and told in one info line (how many, the oldest dead letter kept); a dead letter inside the retention stays', async () => {
    const dataDir = tmpDir();
    const now = Date.now();
    // A spool a bridge has run on for two years: a dead letter from 200 days ago, one from yesterday, daily rule stats.
    let clock = now - 200 * DAY;
    const before = Spool.open({ dir: dataDir, synchronous: 'NORMAL', now: () => clock });
    before.deadLetter('file', { kind: 'event', id: 'old', body: '{"id":"old"}' }, 'refused');
    clock = now - DAY;
    before.deadLetter('file', { kind: 'event', id: 'recent', body: '{"id":"recent"}' }, 'refused');
    for (let d = 0; d < 730; d++) before.state.set(STATS_NS, `serving.error_spike|${new Date(now - d * DAY).toISOString().slice(0, 10)}`, { windows: 1 });
    before.close();

    const { b, logged } = await serveLogged(dataDir, { spool: { dead_letter_retention_days: 90 } });
    const line = await waitFor(() => logged.find((l) => l.dead_letters_expired !== undefined), 10_000);
    expect(line).toMatchObject({ level: 30, dead_letters_expired: 1, dead_letter_retention_days: 90, rule_stats_expired: 330, stats_retention_days: 400 });
    expect(Date.parse(String(line.dead_letters_oldest_kept))).toBeCloseTo(now - DAY, -4);
    expect(b.spool.listDeadLetters().map((d) => d.record_id)).toEqual(['recent']);
    expect(b.spool.state.list(STATS_NS)).toHaveLength(400);
  });

  it('rule state unused for rules.state_retention_days is deleted and counted in the same line (rule_state_expired)', async () => {
    const dataDir = tmpDir();
    const now = Date.now();
    let clock = now - 500 * DAY;
    const before = Spool.open({ dir: dataDir, synchronous: 'NORMAL', now: () => clock });
    before.state.set('rules.registry', 'v|mlflow|gone|1', { approvedEver: true });
    before.state.set('rules.kind', 'ingestion.unfamiliar_writer|writers|s3://old/', { writers: {} });
    clock = now - 10 * DAY;
    before.state.set('rules.registry', 'v|mlflow|fraud|3', { approvedEver: true });
    before.close();

    const { b, logged } = await serveLogged(dataDir, { rules: { state_retention_days: 400 } });
    const line = await waitFor(() => logged.find((l) => l.rule_state_expired !== undefined), 10_000);
    expect(line).toMatchObject({ level: 30, rule_state_expired: 2, state_retention_days: 400 });
    expect(b.spool.state.list('rules.registry').map((r) => r.key)).toEqual(['v|mlflow|fraud|3']);
    expect(b.spool.state.list('rules.kind')).toEqual([]);
  });

  it('by default (rules.state_retention_days 0) rule state is kept for good: a 500-day-old approval still stands', async () => {
    const dataDir = tmpDir();
    const now = Date.now();
    const clock = now - 500 * DAY;
    const before = Spool.open({ dir: dataDir, synchronous: 'NORMAL', now: () => clock });
    before.state.set('rules.registry', 'v|mlflow|fraud|1', { approvedEver: true });
    before.close();
    const { b, cfg, logged } = await serveLogged(dataDir);
    expect(cfg.rules.state_retention_days).toBe(0);
    // The housekeeping pass at start has run once its summary line (or the quiet pass) is done: wait for the first tick.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(logged.some((l) => l.rule_state_expired !== undefined)).toBe(false);
    expect(b.spool.state.list('rules.registry').map((r) => r.key)).toEqual(['v|mlflow|fraud|1']);
  });

  it('dead_letters_oldest_kept goes by last refusal, as expiry does; dead_letters_oldest_added by when the oldest kept was added', async () => {
    const dataDir = tmpDir();
    const now = Date.now();
    // One dead letter refused 200 days ago (expires), one added 150 days ago that `dlq retry` re-sent 10 days ago and the sink refused again (kept).
    let clock = now - 200 * DAY;
    const before = Spool.open({ dir: dataDir, synchronous: 'NORMAL', now: () => clock });
    before.deadLetter('file', { kind: 'event', id: 'old', body: '{"id":"old"}' }, 'refused');
    clock = now - 150 * DAY;
    before.deadLetter('file', { kind: 'event', id: 'retried', body: '{"id":"retried"}' }, 'refused');
    clock = now - 10 * DAY;
    const retried = before.listDeadLetters().find((d) => d.record_id === 'retried')!;
    expect(before.markDeadLettersForRetry({ ids: [retried.dlq_id] })).toBe(1);
    before.settleDeadLetter(retried.dlq_id, false, 'refused again');
    before.close();

    const { b, logged } = await serveLogged(dataDir, { spool: { dead_letter_retention_days: 90 } });
    const line = await waitFor(() => logged.find((l) => l.dead_letters_expired !== undefined), 10_000);
    expect(line).toMatchObject({ dead_letters_expired: 1, dead_letter_retention_days: 90 });
    // Read by when it was added (150 days ago), the figure looked past the 90 days' retention: it is kept by its refusal 10 days ago.
    expect(Date.parse(String(line.dead_letters_oldest_kept))).toBeCloseTo(now - 10 * DAY, -4);
    expect(Date.parse(String(line.dead_letters_oldest_added))).toBeCloseTo(now - 150 * DAY, -4);
    expect(b.spool.listDeadLetters().map((d) => d.record_id)).toEqual(['retried']);
  });
});
