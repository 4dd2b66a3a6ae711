import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileSinkFactory } from '../../bridge/sinks/file/index.js';
import { silentLogger } from '../../core/log.js';
import { serializeEvent, type NormalizedEvent } from '../../core/schema/index.js';
import { Spool } from '../../core/spool/index.js';

/**
 * What a sink is sent for `events`, through the real path after normalize: each event serialized and appended to a
 * spool (in memory), read back held for a file sink, written by it (`format`, default `core`). Returns the sink's
 * body text (NDJSON, one line an event) and its lines parsed.
 */
export async function sinkBody(events: readonly NormalizedEvent[], format = 'core'): Promise<{ text: string; docs: Array<Record<string, any>> }> {
  const dir = mkdtempSync(join(tmpdir(), 'mltrail-sinkbody-'));
  const spool = Spool.open({ dir: ':memory:' });
  try {
    const sink = fileSinkFactory.create(fileSinkFactory.configSchema.parse({ format, fsync: false }), { name: 'file', logger: silentLogger(), dataDir: dir, spool, env: {} });
    await spool.append(events.map((ev) => ({ kind: 'event' as const, id: ev.id, ...serializeEvent(ev) })));
    const statuses = await sink.send(spool.readHeld('file', 1000), new AbortController().signal);
    await sink.close?.();
    if (statuses.some((s) => s.status !== 'ok')) throw new Error(`file sink: ${JSON.stringify(statuses)}`);
    const text = readFileSync(join(dir, 'out', 'events.ndjson'), 'utf8');
    return { text, docs: text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>) };
  } finally {
    spool.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
