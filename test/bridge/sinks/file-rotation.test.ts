import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileSinkFactory } from '../../../bridge/sinks/file/index.js';
import { silentLogger } from '../../../core/log.js';
import type { SinkCommonConfig } from '../../../core/sink.js';
import { Spool, type SpoolRecord } from '../../../core/spool/index.js';
import { counts, Harness, testAlert, testEvent } from './helpers.js';

// Crashes are simulated as in file.test.ts: a second sink on the same spool writes records and is
// dropped without a commit (what a kill -9 between the write and the cursor commit leaves), then
// the runner starts again on the reopened spool and sends those records once more.

const CFG = { format: 'core', batch: { max_events: 50, max_bytes: 1_000_000, timeout_ms: 0 } };

/** Every line of a file as its id; a line that is not JSON fails the test (a torn line joined to another). */
function ids(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).id as string);
}

/** Write records with a sink that never reaches a commit (the process dies before it). */
async function crashAfterWrite<C extends SinkCommonConfig>(h: Harness<C>, ...batches: Array<SpoolRecord[] | (() => void)>): Promise<void> {
  const sink = fileSinkFactory.create(fileSinkFactory.configSchema.parse(h.rawConfig), { name: h.name, logger: silentLogger(), dataDir: h.dir, spool: h.spool, env: {} });
  for (const b of batches) {
    if (typeof b === 'function') b();
    else expect((await sink.send(b, new AbortController().signal)).map((s) => s.status)).toEqual(b.map(() => 'ok'));
  }
  await sink.close?.();
}

/** Restart on the same data dir and let the runner deliver its backlog. */
async function restartAndDrain<C extends SinkCommonConfig>(h: Harness<C>): Promise<void> {
  h.spool.close();
  h.spool = Spool.open({ dir: h.dir, synchronous: 'NORMAL' });
  h.start();
  expect(await h.drain()).toBe(true);
  await h.stop();
}

describe('file sink: crash before its first commit', () => {
  it('a fresh install that crashes before the first commit writes each record once', async () => {
    const h = new Harness(fileSinkFactory, CFG);
    await h.add([testEvent(1), testEvent(2)]);
    await crashAfterWrite(h, h.spool.read('sink:file', 100));
    await restartAndDrain(h);
    expect([...counts(ids(join(h.dir, 'out', 'events.ndjson'))).entries()]).toEqual([['evt-0001', 1], ['evt-0002', 1]]);
  });

  it('the first alert ever, crashed before its commit, is written once (events were committed before)', async () => {
    const h = new Harness(fileSinkFactory, CFG);
    await h.add([testEvent(1)]);
    h.start();
    expect(await h.drain()).toBe(true);
    await h.runner.stop();
    await h.add([testAlert(1)]);
    await crashAfterWrite(h, h.spool.read('sink:file', 100));
    await restartAndDrain(h);
    expect(ids(join(h.dir, 'out', 'alerts.ndjson'))).toEqual(['alert-0001']);
    expect(ids(join(h.dir, 'out', 'events.ndjson'))).toEqual(['evt-0001']);
  });

  it('a file that was there before the sink (never written by it) keeps its lines; an unterminated last line is not joined to ours', async () => {
    const h = new Harness(fileSinkFactory, CFG);
    mkdirSync(join(h.dir, 'out'), { recursive: true });
    const file = join(h.dir, 'out', 'events.ndjson');
    writeFileSync(file, '{"id":"before-1"}\n{"id":"before-2"}');
    await h.add([testEvent(1), testEvent(2)]);
    await crashAfterWrite(h, h.spool.read('sink:file', 100));
    await restartAndDrain(h);
    expect(ids(file)).toEqual(['before-1', 'before-2', 'evt-0001', 'evt-0002']);
  });
});

describe('file sink: restart after a commit that rotated', () => {
  // A commit that rotates leaves a mark naming no file (the next one is begun by the next write). A file found at
  // the path at the next start was then never written by this sink: output moved there by someone, or an existing
  // file in a directory `path` was changed to. Recovery must leave its lines alone.
  it('a file at the path the sink never wrote keeps every line', async () => {
    const h = new Harness(fileSinkFactory, { ...CFG, max_file_bytes: 1 });
    await h.add([testEvent(1)]);
    h.start();
    expect(await h.drain()).toBe(true);
    await h.stop();
    const file = join(h.dir, 'out', 'events.ndjson');
    expect(existsSync(file)).toBe(false); // rotated at the commit
    writeFileSync(file, '{"id":"kept-1"}\n{"id":"kept-2"}\n');
    h.spool = Spool.open({ dir: h.dir, synchronous: 'NORMAL' });
    await h.add([testEvent(2)]);
    h.start();
    expect(await h.drain()).toBe(true);
    await h.stop();
    // That commit rotated the file again (it is past max_file_bytes): its lines are in the rotated file.
    const all = readdirSync(join(h.dir, 'out')).filter((n) => n.startsWith('events')).flatMap((n) => ids(join(h.dir, 'out', n)));
    expect(all.sort()).toEqual(['evt-0001', 'evt-0002', 'kept-1', 'kept-2']);
  });
});

describe('file sink: logrotate copytruncate', () => {
  it('a copy-truncate while running, then a crash: each record once across both files, no torn line', async () => {
    const h = new Harness(fileSinkFactory, CFG);
    const file = join(h.dir, 'out', 'events.ndjson');
    await h.add([testEvent(1), testEvent(2), testEvent(3)]);
    h.start();
    expect(await h.drain()).toBe(true);
    copyFileSync(file, `${file}.1`);
    truncateSync(file, 0);
    // The sink writes on from the new end; its commit must record the real size, not the size it counted.
    await h.add([testEvent(4), testEvent(5)]);
    expect(await h.drain()).toBe(true);
    await h.runner.stop();
    await h.add([testEvent(6), testEvent(7)]);
    await crashAfterWrite(h, h.spool.read('sink:file', 100));
    await restartAndDrain(h);
    expect(ids(`${file}.1`)).toEqual(['evt-0001', 'evt-0002', 'evt-0003']);
    expect(ids(file)).toEqual(['evt-0004', 'evt-0005', 'evt-0006', 'evt-0007']);
  });

  it('a file shorter than its mark at start (truncated after the commit) keeps its complete lines and loses only a torn last line', async () => {
    const h = new Harness(fileSinkFactory, CFG);
    const file = join(h.dir, 'out', 'events.ndjson');
    await h.add([testEvent(1), testEvent(2)]);
    h.start();
    expect(await h.drain()).toBe(true);
    await h.runner.stop();
    copyFileSync(file, `${file}.1`);
    truncateSync(file, 0);
    // Then a process that did not notice the truncation wrote a line and died inside the next one.
    await h.add([testEvent(3), testEvent(4)]);
    const [l3, l4] = h.spool.read('sink:file', 100).map((r) => r.body);
    appendFileSync(file, `${l3}\n${l4!.slice(0, 40)}`);
    await restartAndDrain(h);
    const lines = ids(file); // throws on a torn line joined to a resent one
    expect(lines.filter((id) => id === 'evt-0004')).toHaveLength(1);
    expect(lines).toContain('evt-0003');
    expect(ids(`${file}.1`)).toEqual(['evt-0001', 'evt-0002']);
  });
});

describe('file sink: logrotate rename (create / compress)', () => {
  it('notices its file was moved away and writes a new one at the path, also once the old one is deleted', async () => {
    const h = new Harness(fileSinkFactory, CFG);
    const file = join(h.dir, 'out', 'events.ndjson');
    await h.add([testEvent(1), testEvent(2)]);
    h.start();
    expect(await h.drain()).toBe(true);
    const oldIno = statSync(file).ino;
    renameSync(file, `${file}.1`);
    await h.add([testEvent(3)]);
    expect(await h.drain()).toBe(true);
    // compress: the rotated file is replaced by its .gz and deleted; what the sink wrote since must not be in it.
    unlinkSync(`${file}.1`);
    await h.add([testEvent(4)]);
    expect(await h.drain()).toBe(true);
    await h.stop();
    expect(statSync(file).ino).not.toBe(oldIno);
    expect(ids(file)).toEqual(['evt-0003', 'evt-0004']);
  });

  it('a crash after writes on both sides of a rename cuts both files back to the last commit', async () => {
    const h = new Harness(fileSinkFactory, CFG);
    const file = join(h.dir, 'out', 'events.ndjson');
    await h.add([testEvent(1), testEvent(2)]);
    h.start();
    expect(await h.drain()).toBe(true);
    await h.runner.stop();
    await h.add([testEvent(3), testEvent(4)]);
    const [r3, r4] = h.spool.read('sink:file', 100);
    await crashAfterWrite(h, [r3!], () => renameSync(file, `${file}.1`), [r4!]);
    expect(ids(`${file}.1`)).toEqual(['evt-0001', 'evt-0002', 'evt-0003']);
    expect(ids(file)).toEqual(['evt-0004']);
    await restartAndDrain(h);
    expect(ids(`${file}.1`)).toEqual(['evt-0001', 'evt-0002']);
    expect(ids(file)).toEqual(['evt-0003', 'evt-0004']);
  });

  it('a commit that would rotate a file past max_file_bytes leaves a file someone already moved away alone', async () => {
    const h = new Harness(fileSinkFactory, { ...CFG, max_file_bytes: 1 });
    const file = join(h.dir, 'out', 'events.ndjson');
    await h.add([testEvent(1), testEvent(2)]);
    const [r1, r2] = h.spool.read('sink:file', 100);
    const sink = fileSinkFactory.create(h.config, { name: h.name, logger: silentLogger(), dataDir: h.dir, spool: h.spool, env: {} });
    await sink.send([r1!], new AbortController().signal);
    renameSync(file, `${file}.1`);
    // The commit must still land (renaming a path that is gone would fail it, and the batch be sent twice).
    h.spool.transaction(() => {
      h.spool.commitCursor('sink:file', r1!.seq);
      sink.checkpoint?.();
    });
    await sink.send([r2!], new AbortController().signal);
    await sink.close?.();
    await h.stop();
    expect(ids(`${file}.1`)).toEqual(['evt-0001']);
    expect(ids(file)).toEqual(['evt-0002']);
  });
});

describe('file sink: a file moved away while a batch is written to it (logrotate compress without delaycompress)', () => {
  it('writes the batch again to the new file: the moved file is gzipped and deleted at once, and nothing acknowledged is lost', async () => {
    const h = new Harness(fileSinkFactory, CFG);
    const out = join(h.dir, 'out', 'events.ndjson');
    await h.add([testEvent(1)]);
    const sink = fileSinkFactory.create(fileSinkFactory.configSchema.parse(h.rawConfig), { name: h.name, logger: silentLogger(), dataDir: h.dir, spool: h.spool, env: {} });
    expect((await sink.send(h.spool.read('sink:file', 100), new AbortController().signal)).map((s) => s.status)).toEqual(['ok']);
    // The next write lands in the file just as logrotate renames it and gzip deletes it.
    const open = (sink as unknown as { files: Map<string, { fh: { write: (b: Buffer) => Promise<unknown> } }> }).files.get('events')!;
    const write = open.fh.write.bind(open.fh);
    open.fh.write = async (b: Buffer) => {
      renameSync(out, `${out}.1`);
      const r = await write(b);
      unlinkSync(`${out}.1`);
      return r;
    };
    await h.add([testEvent(2), testEvent(3)]);
    const batch = h.spool.read('sink:file', 100).filter((r) => r.id !== 'evt-0001');
    expect((await sink.send(batch, new AbortController().signal)).map((s) => s.status)).toEqual(['ok', 'ok']);
    await sink.close?.();
    expect(ids(out)).toEqual(['evt-0002', 'evt-0003']);
  });
});

describe('file sink: copytruncate, then a crash before the next commit (mutation audit)', () => {
  it('the lines written after the truncation are cut on restart and written once', async () => {
    const h = new Harness(fileSinkFactory, CFG);
    const file = join(h.dir, 'out', 'events.ndjson');
    await h.add([testEvent(1), testEvent(2), testEvent(3)]);
    h.start();
    expect(await h.drain()).toBe(true);
    await h.runner.stop();
    copyFileSync(file, `${file}.1`);
    truncateSync(file, 0);
    // Fewer bytes than the committed mark: only a new mark at the truncated size tells recovery they are uncommitted.
    await h.add([testEvent(4), testEvent(5)]);
    await crashAfterWrite(h, h.spool.read('sink:file', 100));
    expect(ids(file)).toEqual(['evt-0004', 'evt-0005']);
    await restartAndDrain(h);
    expect(ids(`${file}.1`)).toEqual(['evt-0001', 'evt-0002', 'evt-0003']);
    expect(ids(file)).toEqual(['evt-0004', 'evt-0005']);
  });
});
