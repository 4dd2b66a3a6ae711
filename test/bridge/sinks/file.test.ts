import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
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

describe('file sink rotation', () => {
  const ids = (dir: string, kind: string) => {
    return readdirSync(join(dir, 'out'))
      .filter((n) => n.startsWith(kind) && n.endsWith('.ndjson'))
      .flatMap((n) => readFileSync(join(dir, 'out', n), 'utf8').trim().split('\n').filter(Boolean))
      .map((l) => JSON.parse(l).id as string);
  };

  it('rotates at a commit once a file passes max_file_bytes, keeping max_files rotated files', async () => {
    const { Harness, testEvent } = await import('./helpers.js');
    const { readdirSync: ls } = await import('node:fs');
    const h = new Harness(fileSinkFactory, { format: 'core', max_file_bytes: 1, max_files: 2, batch: { max_events: 1, max_bytes: 1_000_000, timeout_ms: 0 }, concurrency: 1 });
    h.start();
    for (let i = 0; i < 4; i++) {
      await h.add([testEvent(i)]);
      expect(await h.drain()).toBe(true);
      await new Promise((r) => setTimeout(r, 5)); // distinct rotation stamps
    }
    await h.stop();
    const names = ls(join(h.dir, 'out')).filter((n) => n.startsWith('events'));
    // Every commit rotated its file (each is past 1 byte): the 2 newest rotated files are kept.
    expect(names.filter((n) => n.startsWith('events-'))).toHaveLength(2);
    expect(ids(h.dir, 'events').sort()).toEqual(['evt-0002', 'evt-0003']);
  });

  it('after the clock is set back, max_files still keeps the newest rotated files (stamps only go forward)', async () => {
    const { Harness, testEvent } = await import('./helpers.js');
    const { mkdirSync, writeFileSync, readdirSync: ls } = await import('node:fs');
    const h = new Harness(fileSinkFactory, { format: 'core', max_file_bytes: 1, max_files: 2, batch: { max_events: 1, max_bytes: 1_000_000, timeout_ms: 0 }, concurrency: 1 });
    // Rotated while the clock ran a year ahead (NTP has since set it back).
    mkdirSync(join(h.dir, 'out'), { recursive: true });
    writeFileSync(join(h.dir, 'out', 'events-2099-01-01T00-00-00-000Z.ndjson'), '{"id":"stale-1"}\n');
    writeFileSync(join(h.dir, 'out', 'events-2099-01-01T00-00-00-001Z.ndjson'), '{"id":"stale-2"}\n');
    h.start();
    for (let i = 0; i < 3; i++) {
      await h.add([testEvent(i)]);
      expect(await h.drain()).toBe(true);
    }
    await h.stop();
    // Every commit rotated its file: the 2 kept are the 2 rotated last, not the ones stamped in the future.
    expect(ls(join(h.dir, 'out')).filter((n) => n.startsWith('events-'))).toHaveLength(2);
    expect(ids(h.dir, 'events').sort()).toEqual(['evt-0001', 'evt-0002']);
  });

  it('output past the last commit is taken back also when a rotation happened in between (commit done or not)', async () => {
    const { Harness, counts, testEvent } = await import('./helpers.js');
    const { readdirSync: ls, renameSync } = await import('node:fs');
    const cfg = { format: 'core', max_file_bytes: 100_000_000, batch: { max_events: 50, max_bytes: 1_000_000, timeout_ms: 0 } };
    const h = new Harness(fileSinkFactory, cfg);
    await h.add([testEvent(1), testEvent(2)]);
    h.start();
    expect(await h.drain()).toBe(true);
    await h.runner.stop();
    // Crash inside a commit that rotated: the records were written and the file renamed aside, the commit never landed.
    await h.add([testEvent(3), testEvent(4)]);
    const recs = h.spool.read('sink:file', 100);
    const orphan = fileSinkFactory.create(h.config, { name: 'file', logger: silentLogger(), dataDir: h.dir, spool: h.spool, env: {} });
    await orphan.send(recs, new AbortController().signal);
    await orphan.close?.();
    renameSync(join(h.dir, 'out', 'events.ndjson'), join(h.dir, 'out', 'events-2026-11-26T00-00-00-000Z.ndjson'));
    h.spool.close();
    h.spool = Spool.open({ dir: h.dir, synchronous: 'NORMAL' });
    h.start();
    expect(await h.drain()).toBe(true);
    await h.stop();
    expect([...counts(ids(h.dir, 'events')).entries()].sort()).toEqual([['evt-0001', 1], ['evt-0002', 1], ['evt-0003', 1], ['evt-0004', 1]]);
    // And a commit that did rotate: the next file, begun after it, is emptied if the crash comes before the next commit.
    const h2 = new Harness(fileSinkFactory, { ...cfg, max_file_bytes: 1 });
    await h2.add([testEvent(5)]);
    h2.start();
    expect(await h2.drain()).toBe(true);
    await h2.runner.stop();
    await h2.add([testEvent(6)]);
    const recs2 = h2.spool.read('sink:file', 100);
    const orphan2 = fileSinkFactory.create(h2.config, { name: 'file', logger: silentLogger(), dataDir: h2.dir, spool: h2.spool, env: {} });
    await orphan2.send(recs2, new AbortController().signal);
    await orphan2.close?.();
    expect(ls(join(h2.dir, 'out')).filter((n) => n.startsWith('events-'))).toHaveLength(1);
    h2.spool.close();
    h2.spool = Spool.open({ dir: h2.dir, synchronous: 'NORMAL' });
    h2.start();
    expect(await h2.drain()).toBe(true);
    await h2.stop();
    expect([...counts(ids(h2.dir, 'events')).entries()].sort()).toEqual([['evt-0005', 1], ['evt-0006', 1]]);
  });
});
