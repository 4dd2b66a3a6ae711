import { describe, expect, it } from 'vitest';
import { toRfc3339 } from '../../../core/schema/build.js';

describe('toRfc3339: native timestamps to the event time', () => {
  it('converts RFC 3339 (any offset, sub-ms digits) and epoch s / ms / µs to UTC milliseconds', () => {
    expect(toRfc3339('2024-05-01T14:00:00+02:00')).toBe('2024-05-01T12:00:00.000Z');
    expect(toRfc3339('2024-05-01T12:00:00.123456789Z')).toBe('2024-05-01T12:00:00.123Z');
    expect(toRfc3339('2024-05-01t12:00:00z')).toBe('2024-05-01T12:00:00.000Z');
    expect(toRfc3339('2024-02-29T10:00:00Z')).toBe('2024-02-29T10:00:00.000Z');
    for (const epoch of [1714564800, '1714564800', 1714564800000, '1714564800000', 1714564800000000]) expect(toRfc3339(epoch)).toBe('2024-05-01T12:00:00.000Z');
    expect(toRfc3339(new Date(Date.UTC(2024, 4, 1, 12)))).toBe('2024-05-01T12:00:00.000Z');
  });

  it('reads a time without an offset as UTC, never as the machine\'s zone', () => {
    expect(toRfc3339('2024-05-01T12:00:00')).toBe('2024-05-01T12:00:00.000Z');
  });

  it('refuses what is not a time rather than rolling it over to another date or 1970', () => {
    for (const bad of ['2024-02-30T10:00:00Z', '2023-02-29T00:00:00Z', '2024-02-29T24:00:00Z', '2024-05-01T12:60:00Z', '2024-13-01T00:00:00Z', '10000-01-01T00:00:00Z', '0', 0, -1, '-5', 'garbage', '2024-05-01', true, {}]) {
      expect(toRfc3339(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });
});
