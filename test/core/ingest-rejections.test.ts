import { describe, expect, it } from 'vitest';
import { Ingestor } from '../../core/ingest.js';
import { silentLogger } from '../../core/log.js';
import { Spool } from '../../core/spool/index.js';
import { sampleEvent, tmpDir } from '../helpers/bridge.js';

describe('Ingestor: a request of thousands of invalid events', () => {
  it('explains the first 1000 rejections; the rest get the compiled check only, and every one is kept', async () => {
    const spool = Spool.open({ dir: tmpDir(), synchronous: 'OFF' });
    const ingest = new Ingestor(spool, silentLogger());
    const good = sampleEvent();
    const res = await ingest.ingest([...Array.from({ length: 3000 }, (_, i) => ({ x: i })), good], 'core.api');
    expect(res.accepted).toEqual([good.id]);
    expect(res.rejected).toHaveLength(3000);
    expect(res.rejected[0]!.reason).toMatch(/^event 0: .*schema_version/);
    expect(res.rejected[999]!.reason).toMatch(/^event 999: .*schema_version/);
    expect(res.rejected[1000]!.reason).toMatch(/^event 1000: not a valid event as sent \(not explained: more than 1000/);
    expect(spool.listQuarantine({ limit: 5000 })).toHaveLength(3000);
    spool.close();
  });
});
