import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Ingestor } from '../../core/ingest.js';
import { createLogger } from '../../core/log.js';
import { Spool } from '../../core/spool/index.js';
import { tmpDir } from '../helpers/bridge.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
  return { log, lines };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-11-26T11:30:05Z'));
});
afterEach(() => vi.useRealTimers());

describe('Ingestor: quarantine warnings under a flood of bad input', () => {
  it('logs the first of a minute per channel, then every 100th with the count, not a line per request', () => {
    const spool = Spool.open({ dir: tmpDir(), synchronous: 'OFF' });
    const { log, lines } = capture();
    const ingest = new Ingestor(spool, log);
    // 30 s of 500 bad requests a second on one route, and one on another.
    for (let i = 0; i < 15_000; i++) ingest.quarantine('core.api', 'body is not JSON', `{"bad ${i}`);
    ingest.quarantine('mlflow.webhook', 'body is not JSON', '{');
    const warned = lines.filter((l) => String(l.msg).includes('quarantined'));
    expect(warned.filter((l) => l.channel === 'core.api')).toHaveLength(1 + 150);
    expect(warned.filter((l) => l.channel === 'mlflow.webhook')).toHaveLength(1);
    expect(warned[0]).toMatchObject({ channel: 'core.api', reason: 'body is not JSON', quarantines_this_minute: 1 });
    expect(warned.find((l) => l.channel === 'core.api' && l.quarantines_this_minute === 15_000)).toBeDefined();
    // Every input is still kept; only the log is sampled.
    expect(spool.listQuarantine({ limit: 20_000 })).toHaveLength(15_001);
    // The next minute starts over: its first one is logged at once.
    vi.setSystemTime(new Date('2026-11-26T11:31:05Z'));
    ingest.quarantine('core.api', 'body is not JSON', '{');
    expect(lines.at(-1)).toMatchObject({ channel: 'core.api', quarantines_this_minute: 1 });
    spool.close();
  });
});
