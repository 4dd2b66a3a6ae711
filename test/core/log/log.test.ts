import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/log.js';

describe('logger', () => {
  it('writes JSON lines and never the secrets a caller passes in', async () => {
    let out = '';
    const dest = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const log = createLogger({ level: 'info', destination: dest as never });
    log.info(
      {
        token: 'tok-123',
        headers: { authorization: 'Bearer abc', 'x-api-key': 'key-456', 'x-amz-firehose-access-key': 'fh-789' },
        config: { server: { ingest_token: 'ing-000' }, sinks: { hec: { token: 'hec-111' } } },
        sink: { api_key: 'es-222' },
      },
      'hello',
    );
    await new Promise((r) => setTimeout(r, 10));
    const line = JSON.parse(out.trim()) as Record<string, unknown>;
    expect(line.msg).toBe('hello');
    for (const secret of ['tok-123', 'Bearer abc', 'key-456', 'fh-789', 'ing-000', 'hec-111', 'es-222']) expect(out).not.toContain(secret);
  });
});
