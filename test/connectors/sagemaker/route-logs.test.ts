import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../core/log.js';
import { startRoutes, type Harness } from './harness.js';

const FH = '/v1/ingest/sagemaker/firehose';
const FH_KEY = 'fh-access-key-abcdef';

let h: Harness | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await h?.close();
  h = undefined;
});

describe('SageMaker Firehose route: its log under a stream of bad records', () => {
  it('the per-request "some Firehose records quarantined" line is logged once a minute, then every 100th request, not for each', async () => {
    // One minute of the sampler's: the clock stands still (timers and sockets stay real).
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-26T11:30:05Z'));
    h = await startRoutes({ firehose: { access_keys: [FH_KEY] } });
    const lines: Array<Record<string, unknown>> = [];
    h.deps.logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
    for (let i = 0; i < 201; i++) {
      const requestId = `req-${i}`;
      const body = JSON.stringify({ requestId, timestamp: 1578090901599, records: [{ data: Buffer.from(`not json ${i}`).toString('base64') }] });
      const res = await fetch(`${h.url}${FH}`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-amz-firehose-request-id': requestId, 'x-amz-firehose-access-key': FH_KEY } });
      expect(res.status).toBe(200);
      await res.text();
    }
    const route = lines.filter((l) => l.msg === 'some Firehose records quarantined');
    expect(route.map((l) => l.requests_this_minute)).toEqual([1, 100, 200]);
    // Every record is still kept, and the Ingestor's own line is sampled the same way.
    expect(h.spool.listQuarantine({ limit: 1000 })).toHaveLength(201);
    expect(lines.filter((l) => String(l.msg).endsWith('quarantined') && l.channel === 'sagemaker.firehose' && l.msg !== 'some Firehose records quarantined').length).toBeLessThanOrEqual(3);
  });
});
