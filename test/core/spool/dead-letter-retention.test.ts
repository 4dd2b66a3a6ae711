import { describe, expect, it } from 'vitest';
import { Spool } from '../../../core/spool/index.js';
import { tmpDir } from '../../helpers/bridge.js';

const DAY = 86_400_000;
const item = (id: string, body = `{"id":"${id}","pad":"${'x'.repeat(500)}"}`) => ({ kind: 'event' as const, id, body });

/** Every pruning slice until none is left; the dead letters they deleted. */
function pruneAll(spool: Spool): number {
  let n = 0;
  for (let step = spool.pruneStep(['sink:hec'], 2); ; step = spool.pruneStep(['sink:hec'], 2)) {
    n += step.deadLettersExpired;
    if (!step.more) return n;
  }
}

describe('Spool: dead letter retention (spool.dead_letter_retention_days)', () => {
  it('deletes dead letters last refused before the retention, giving their bytes back; parked, marked and newer ones stay', () => {
    let now = Date.parse('2026-08-01T00:00:00Z');
    const spool = Spool.open({ dir: tmpDir(), synchronous: 'NORMAL', deadLetterRetentionMs: 90 * DAY, now: () => now });
    for (let i = 0; i < 5; i++) spool.deadLetter('hec', item(`old${i}`), 'invalid event');
    spool.deadLetter('hec', item('parked'), 'index not allowed', 'parked');
    spool.deadLetter('hec', item('marked'), 'invalid event');
    const marked = spool.listDeadLetters().find((d) => d.record_id === 'marked')!;
    spool.markDeadLettersForRetry({ ids: [marked.dlq_id] });
    now += 60 * DAY;
    spool.deadLetter('hec', item('recent'), 'invalid event');
    const heldBefore = spool.heldBytes;
    // 60 days on: none is old enough.
    expect(pruneAll(spool)).toBe(0);
    now += 31 * DAY;
    // In slices (2 rows a slice here): every expired one counted.
    expect(pruneAll(spool)).toBe(5);
    expect(spool.listDeadLetters().map((d) => d.record_id).sort()).toEqual(['marked', 'parked', 'recent']);
    expect(spool.heldBytes).toBe(heldBefore - 5 * item('old0').body.length);
    // The oldest kept is what the bridge's log line names.
    expect(spool.oldestDeadLetterAt()).toBe(Date.parse('2026-08-01T00:00:00Z'));
    spool.close();
  });

  it('without a retention (the default) dead letters stay until purged', () => {
    let now = Date.parse('2026-08-01T00:00:00Z');
    const spool = Spool.open({ dir: tmpDir(), synchronous: 'NORMAL', now: () => now });
    spool.deadLetter('hec', item('a'), 'invalid event');
    now += 4000 * DAY;
    spool.prune(['sink:hec']);
    expect(spool.listDeadLetters()).toHaveLength(1);
    spool.close();
  });
});
