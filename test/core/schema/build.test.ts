import { describe, expect, it } from 'vitest';
import { makeEvent, toRfc3339 } from '../../../core/schema/build.js';

const draft = () => ({
  id: 'ev-1', time: '2026-11-25T12:00:00.000Z', platform: 'mlflow' as const, channel: 'mlflow.webhook', stage: 'registry' as const,
  action: 'model_version.alias_set' as const, operation: 'model_version_alias.created', outcome: 'success' as const,
});

describe('makeEvent (mutation audit)', () => {
  it('keeps the native record by default, and byte for byte: raw is never pruned', () => {
    const raw = { payload: {}, tags: [], nested: { empty: {} } };
    const ev = makeEvent(draft(), { raw });
    expect(ev.raw).toEqual({ payload: {}, tags: [], nested: { empty: {} } });
    expect(makeEvent(draft(), { raw, keepRaw: false })).not.toHaveProperty('raw');
  });

  it('keeps an empty list (no aliases left is a fact) while it drops undefined members and empty objects', () => {
    const ev = makeEvent({ ...draft(), service: undefined, ml: { model: { name: 'm', aliases: [] } }, details: {} });
    expect(ev.ml?.model?.aliases).toEqual([]);
    expect(ev).not.toHaveProperty('service');
    expect(ev).not.toHaveProperty('details');
  });

  it('takes received_time from the draft, then the option, and only then the clock', () => {
    expect(makeEvent({ ...draft(), received_time: '2026-11-25T12:00:05.000Z' }, { receivedTime: '2026-11-25T12:00:09.000Z' }).received_time).toBe('2026-11-25T12:00:05.000Z');
    expect(makeEvent(draft(), { receivedTime: '2026-11-25T12:00:09.000Z' }).received_time).toBe('2026-11-25T12:00:09.000Z');
  });
});

describe('toRfc3339 (mutation audit)', () => {
  it('accepts the space separator RFC 3339 §5.6 allows', () => {
    expect(toRfc3339('2024-05-01 12:00:00Z')).toBe('2024-05-01T12:00:00.000Z');
  });

  it('refuses instants before 1970 (an unset or garbled field), as a string or a Date', () => {
    expect(toRfc3339('1969-12-31T23:59:59Z')).toBeUndefined();
    expect(toRfc3339(new Date(-1000))).toBeUndefined();
    expect(toRfc3339('1970-01-01T00:00:01Z')).toBe('1970-01-01T00:00:01.000Z');
  });
});
