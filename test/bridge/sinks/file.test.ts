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

describe('file sink after a crash', () => {
  it('output written after the last commit is cut off on restart, so records sent again are written once', async () => {
    const { Harness, counts, testEvent, testAlert } = await import('./helpers.js');
    const h = new Harness(fileSinkFactory, { format: 'core', batch: { max_events: 50, max_bytes: 1_000_000, timeout_ms: 0 } });
    await h.add([testEvent(1), testEvent(2), testAlert(1)]);
    h.start();
    expect(await h.drain()).toBe(true);
    // A crash after the write and its fsync, before the cursor commit: the runner's own sink writes the
    // next records, and the process dies before the commit (the runner is not told).
    await h.add([testEvent(3), testAlert(2)]);
    await h.runner.stop();
    const recs = h.spool.read('sink:file', 100);
    expect(recs.map((r) => r.id)).toEqual(['evt-0003', 'alert-0002']);
    const orphan = fileSinkFactory.create(h.config, { name: 'file', logger: silentLogger(), dataDir: h.dir, spool: h.spool, env: {} });
    await orphan.send(recs, new AbortController().signal);
    await orphan.close?.();
    const ids = (kind: string) => readFileSync(join(h.dir, 'out', `${kind}.ndjson`), 'utf8').trim().split('\n').map((l) => JSON.parse(l).id as string);
    expect(ids('events')).toEqual(['evt-0001', 'evt-0002', 'evt-0003']);
    // Restart: the runner sends evt-0003 and alert-0002 again; each is in the files once.
    h.spool.close();
    h.spool = Spool.open({ dir: h.dir, synchronous: 'NORMAL' });
    h.start();
    expect(await h.drain()).toBe(true);
    await h.stop();
    expect([...counts(ids('events')).entries()]).toEqual([['evt-0001', 1], ['evt-0002', 1], ['evt-0003', 1]]);
    expect([...counts(ids('alerts')).entries()]).toEqual([['alert-0001', 1], ['alert-0002', 1]]);
  });

  it('a file replaced since the last commit (another inode) is never cut', async () => {
    const { Harness, testEvent } = await import('./helpers.js');
    const { writeFileSync, renameSync } = await import('node:fs');
    const h = new Harness(fileSinkFactory, { format: 'core', batch: { max_events: 50, max_bytes: 1_000_000, timeout_ms: 0 } });
    await h.add([testEvent(1)]);
    h.start();
    expect(await h.drain()).toBe(true);
    await h.stop();
    // An operator moves the file away and puts another, longer one in its place.
    const file = join(h.dir, 'out', 'events.ndjson');
    renameSync(file, `${file}.old`);
    writeFileSync(file, `${'{"id":"kept"}\n'.repeat(20)}`);
    h.spool = Spool.open({ dir: h.dir, synchronous: 'NORMAL' });
    await h.add([testEvent(2)]);
    h.start();
    expect(await h.drain()).toBe(true);
    await h.stop();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(21);
    expect(JSON.parse(lines.at(-1)!).id).toBe('evt-0002');
  });
});
