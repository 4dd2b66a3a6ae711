import { describe, expect, it } from 'vitest';
import { coreConnector, stampReceived } from '../../../connectors/core/index.js';
import { sampleEvent } from '../../helpers/bridge.js';

const ctx = (keepRaw: boolean) => ({ channel: 'file', receivedTime: '2026-11-26T00:00:00.000Z', keepRaw, config: {} });

describe('core connector', () => {
  it('honours keepRaw: false drops a sender\'s raw (spool.keep_raw), true keeps it', () => {
    const ev = sampleEvent({ raw: { eventName: 'CreateTrainingJob' } });
    const dropped = coreConnector.normalize!(ev, ctx(false)).events[0]!;
    expect(dropped).not.toHaveProperty('raw');
    expect(dropped.id).toBe(ev.id);
    expect(coreConnector.normalize!(ev, ctx(true)).events[0]!.raw).toEqual(ev.raw);
    // The input is not modified in place.
    expect(ev.raw).toEqual({ eventName: 'CreateTrainingJob' });
  });

  it('stampReceived fills received_time only where missing, and returns a record it need not change as is', () => {
    const { received_time: _, ...bare } = sampleEvent();
    const own = sampleEvent();
    const [a, b] = stampReceived([bare, own], '2026-11-26T00:00:00.000Z', false);
    expect(a).toEqual({ ...bare, received_time: '2026-11-26T00:00:00.000Z' });
    expect(b).toBe(own);
  });
});
