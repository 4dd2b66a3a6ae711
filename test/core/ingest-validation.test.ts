import { describe, expect, it } from 'vitest';
import { Ingestor } from '../../core/ingest.js';
import { silentLogger } from '../../core/log.js';
import { Spool } from '../../core/spool/index.js';
import { sampleEvent, tmpDir } from '../helpers/bridge.js';

describe('Ingestor: what is spooled is the validated event (mutation audit)', () => {
  it('stores zod\'s output: defaults filled in, unknown keys of closed objects stripped', async () => {
    const spool = Spool.open({ dir: tmpDir(), synchronous: 'OFF' });
    const ingest = new Ingestor(spool, silentLogger());
    const ev = sampleEvent({ actor: { id: 'alice', shoe_size: 9 }, error: { code: 'X', stack: 'at y' } });
    const res = await ingest.ingest([ev], 'core.api');
    expect(res.accepted).toEqual([ev.id]);
    const stored = JSON.parse(spool.read('probe', 10)[0]!.body);
    expect(stored.actor).toEqual({ id: 'alice', type: 'unknown' });
    expect(stored.error).toEqual({ code: 'X' });
    spool.close();
  });
});
