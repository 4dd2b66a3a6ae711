import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileSinkFactory } from '../../../bridge/sinks/file/index.js';
import { silentLogger } from '../../../core/log.js';
import { serializeEvent, type NormalizedEvent } from '../../../core/schema/index.js';
import { Spool } from '../../../core/spool/index.js';
import { sampleEvent } from '../../helpers/bridge.js';

function setup(format: string) {
  const dir = mkdtempSync(join(tmpdir(), 'mltrail-filesink-'));
  const spool = Spool.open({ dir: ':memory:' });
  const cfg = fileSinkFactory.configSchema.parse({ format, fsync: false });
  const sink = fileSinkFactory.create(cfg, { name: 'file', logger: silentLogger(), dataDir: dir, spool, env: {} });
  return { dir, spool, sink };
}

describe('file sink', () => {
  it('format core writes each spooled record as its line, events and alerts apart', async () => {
    const { dir, spool, sink } = setup('core');
    // Integer-like keys, non-ASCII and a raw record: the line must be what parse + stringify would give.
    const ev = { ...sampleEvent({ id: 'ev-1' }), details: { '10': 'b', '2': 'a', name: 'José' }, raw: { '7': 1, z: ['😀'] } } as unknown as NormalizedEvent;
    const { body, rawAt } = serializeEvent(ev);
    const alert = JSON.stringify({ schema_version: '1', id: 'al-1', rule_id: 'r', stage: 'registry', severity: 'high', mode: 'alert', title: 't', summary: 's', time: '2026-11-25T12:00:00Z', entity: { type: 'model', id: 'm' }, evidence: ['ev-1'], details: {} });
    await spool.append([{ kind: 'event', id: 'ev-1', body, rawAt }]);
    spool.transaction(() => spool.appendInTx([{ kind: 'alert', id: 'al-1', body: alert }]));
    const statuses = await sink.send(spool.readHeld('file', 10), new AbortController().signal);
    await sink.close?.();
    expect(statuses.map((s) => s.status)).toEqual(['ok', 'ok']);
    const events = readFileSync(join(dir, 'out', 'events.ndjson'), 'utf8');
    expect(events).toBe(`${body}\n`);
    expect(events).toBe(`${JSON.stringify(JSON.parse(body))}\n`);
    expect(JSON.parse(events)).toEqual(ev);
    expect(readFileSync(join(dir, 'out', 'alerts.ndjson'), 'utf8')).toBe(`${alert}\n`);
    spool.close();
  });

  it('another format maps each record', async () => {
    const { dir, spool, sink } = setup('ecs');
    const ev = sampleEvent({ id: 'ev-2' }) as unknown as NormalizedEvent;
    await spool.append([{ kind: 'event', id: 'ev-2', ...serializeEvent(ev) }]);
    await sink.send(spool.readHeld('file', 10), new AbortController().signal);
    await sink.close?.();
    const doc = JSON.parse(readFileSync(join(dir, 'out', 'events.ndjson'), 'utf8')) as { event?: { id?: string }; '@timestamp'?: string };
    expect(doc['@timestamp']).toBeDefined();
    expect(JSON.stringify(doc)).toContain('ev-2');
    spool.close();
  });
});
