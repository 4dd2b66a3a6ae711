import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { MltrailError } from '../../../core/errors.js';
import { Spool } from '../../../core/spool/index.js';
import { claimDataDir } from '../../../core/spool/lock.js';
import { serializeEvent, type NormalizedEvent } from '../../../core/schema/index.js';

const require = createRequire(import.meta.url);
const tmp = () => mkdtempSync(join(tmpdir(), 'mltrail-spool-'));
const item = (id: string, body = `{"id":"${id}"}`) => ({ kind: 'event' as const, id, body });

describe('Spool', () => {
  it('a directory that cannot hold the spool, or a file that is not one, is a STARTUP error naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mltrail-spool-bad-'));
    writeFileSync(join(dir, 'file'), 'x');
    const notDir = (() => {
      try {
        Spool.open({ dir: join(dir, 'file', 'data') });
      } catch (e) {
        return e as MltrailError;
      }
    })();
    expect(notDir?.code).toBe('MLTRAIL_ERR_STARTUP');
    expect(notDir?.message).toMatch(/cannot open the spool in .*file\/data \(data_dir, MLTRAIL_DATA_DIR\): ENOTDIR/);
    const garbage = join(dir, 'garbage');
    Spool.open({ dir: garbage }).close();
    writeFileSync(join(garbage, 'spool.db'), 'this is not a database, just some text long enough to have a header');
    const notDb = (() => {
      try {
        Spool.open({ dir: garbage });
      } catch (e) {
        return e as MltrailError;
      }
    })();
    expect(notDb?.code).toBe('MLTRAIL_ERR_STARTUP');
    expect(notDb?.message).toContain('is not an mltrail spool: move it aside');

    const failure = (d: string) => {
      try {
        Spool.open({ dir: d }).close();
      } catch (e) {
        return e as MltrailError;
      }
    };
    // Another program's SQLite file is refused, not taken over (no tables added, not switched to WAL).
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    const other = new Database(join(foreign, 'spool.db'));
    other.exec('CREATE TABLE records (a TEXT); CREATE TABLE customers (name TEXT)');
    // Many programs set a schema version of their own: it does not make the file a spool.
    other.pragma('user_version = 1');
    other.close();
    expect(failure(foreign)).toMatchObject({ code: 'MLTRAIL_ERR_STARTUP', message: expect.stringMatching(/is not an mltrail spool \(it holds tables customers\)/) });
    const after = new Database(join(foreign, 'spool.db'), { readonly: true });
    expect(after.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all()).toEqual(['records', 'customers']);
    // Untouched: not even switched to WAL.
    expect(after.pragma('journal_mode', { simple: true })).toBe('delete');
    after.close();
    // A spool a newer mltrail wrote: refused as a start-up problem, with what to do.
    const newer = join(dir, 'newer');
    Spool.open({ dir: newer }).close();
    const nd = new Database(join(newer, 'spool.db'));
    nd.pragma('user_version = 99');
    nd.close();
    expect(failure(newer)).toMatchObject({ code: 'MLTRAIL_ERR_STARTUP', message: expect.stringMatching(/written by a newer mltrail \(schema 99 > \d+\): run that version/) });
    // A spool whose schema setup fails (a table of ours changed by hand): one STARTUP line, not a stack.
    const odd = join(dir, 'odd');
    Spool.open({ dir: odd }).close();
    const od = new Database(join(odd, 'spool.db'));
    od.exec('DROP TABLE records; CREATE TABLE records (x TEXT)');
    od.close();
    expect(failure(odd)).toMatchObject({ code: 'MLTRAIL_ERR_STARTUP', message: expect.stringMatching(/cannot open the spool .*\(SQLITE_ERROR\): it does not look like an mltrail spool/) });
  });

  it('a spool found damaged while serving refuses input with 503 SPOOL_UNAVAILABLE and says what to do, and reports the error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mltrail-corrupt-'));
    const spool = Spool.open({ dir, synchronous: 'OFF' });
    // What better-sqlite3 throws when a page of the file is damaged.
    const damaged = Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' });
    const real = spool.transaction.bind(spool);
    (spool as unknown as { transaction: unknown }).transaction = () => {
      throw damaged;
    };
    const err = (await spool.append([{ kind: 'event', id: 'e1', body: '{}' }]).catch((e: unknown) => e)) as MltrailError;
    expect(err.code).toBe('MLTRAIL_ERR_SPOOL_UNAVAILABLE');
    expect(err.status).toBe(503);
    expect(err.message).toMatch(/is damaged \(SQLITE_CORRUPT\): stop the bridge, keep a copy/);
    expect(spool.writeError?.message).toMatch(/damaged/);
    (spool as unknown as { transaction: unknown }).transaction = real;
    spool.close();
  });

  it('claimDataDir: one claim per directory at a time; released, it can be claimed again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mltrail-claim-'));
    const first = claimDataDir(dir, 0);
    expect(() => claimDataDir(dir, 0)).toThrow(/another mltrail bridge is serving from/);
    // The spool itself stays usable beside the claim (dlq, quarantine and backfill share it with a bridge).
    Spool.open({ dir }).close();
    first.release();
    claimDataDir(dir, 0).release();
    // A data_dir that is a file says so, not just mkdir's EEXIST.
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    expect(() => claimDataDir(file, 0)).toThrow(/EEXIST.*is a file, not a directory/);
    expect(() => claimDataDir(join(file, 'sub'), 0)).toThrow(/ENOTDIR.*is a file, not a directory/);
  });

  const open: Spool[] = [];
  afterEach(() => {
    for (const s of open.splice(0)) if (!s.isClosed) s.close();
  });
  /** Another thread takes the spool's write lock (inserting cursor 'holder' = 1) and keeps it `ms`. */
  const holdWriteLock = async (dir: string, ms: number): Promise<Worker> => {
    const holder = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const Database = require(workerData.driver);
       const db = new Database(workerData.file);
       db.exec('BEGIN IMMEDIATE');
       db.prepare('INSERT INTO cursors (consumer, seq) VALUES (?, ?)').run('holder', 1);
       parentPort.postMessage('locked');
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.ms);
       db.exec('COMMIT');
       db.close();`,
      { eval: true, workerData: { driver: require.resolve('better-sqlite3'), file: join(dir, 'spool.db'), ms } },
    );
    await new Promise((r) => holder.once('message', r));
    return holder;
  };

  const make = (opts: Partial<Parameters<typeof Spool.open>[0]> = {}) => {
    const s = Spool.open({ dir: opts.dir ?? tmp(), ...opts });
    open.push(s);
    return s;
  };

  it('a transaction waits for the write lock another connection holds instead of failing (consumer connections poll for it)', async () => {
    const dir = tmp();
    const owner = make({ dir });
    const consumer = make({ dir, consumer: true });
    // Another thread takes the write lock and keeps it for 150 ms.
    const holder = await holdWriteLock(dir, 150);
    const t0 = Date.now();
    consumer.transaction(() => consumer.commitCursor('rules', 7));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(50);
    expect(owner.cursor('rules')).toBe(7);
    expect(owner.cursor('holder')).toBe(1);
    await holder.terminate();
  });

  it('a consumer connection opens while another connection holds the write lock (a rules worker started under load)', async () => {
    const dir = tmp();
    make({ dir });
    const holder = await holdWriteLock(dir, 300);
    // It used to rewrite user_version while opening, with no busy handler: SQLITE_BUSY at once.
    const consumer = make({ dir, consumer: true });
    expect(consumer.cursor('rules')).toBe(0);
    await holder.terminate();
  });

  it('a commit that fails (disk full) leaves no bytes counted: the spool does not refuse input while empty', async () => {
    const s = make({ dir: tmp(), maxBytes: 1_000_000 });
    expect(s.bytes).toBe(0);
    // No room for another page: the inserts (or the commit) fail with SQLITE_FULL and roll back.
    const pages = s.db.pragma('page_count', { simple: true }) as number;
    s.db.pragma(`max_page_count = ${pages}`);
    const big = Array.from({ length: 50 }, (_, i) => item(`full-${i}`, `{"pad":"${'x'.repeat(8000)}"}`));
    // The sender gets 503 + Retry-After naming the cause (nothing was stored: retrying later is right).
    const err = await s.append(big).then(() => undefined, (e: MltrailError) => e);
    expect(err).toMatchObject({ code: 'MLTRAIL_ERR_SPOOL_FULL', status: 503, headers: { 'Retry-After': '30' } });
    expect(err!.message).toMatch(/the disk holding the spool \(.*spool\.db\) is full/);
    expect(s.writeError?.message).toMatch(/is full/);
    expect(s.bytes).toBe(0);
    expect(s.full).toBe(false);
    expect(() => s.quarantine('test', 'bad', Buffer.alloc(200_000))).toThrow(/is full/);
    s.db.pragma('max_page_count = 1073741823');
    const ok = await s.append([item('after')]);
    expect(ok.accepted).toEqual(['after']);
    expect(s.writeError).toBeUndefined();
    expect(s.bytes).toBe(Buffer.byteLength('{"id":"after"}'));
  });

  it('commits appends made in one turn in one transaction and survives reopening', async () => {
    const dir = tmp();
    const s = make({ dir });
    let flushes = 0;
    s.on('append', () => flushes++);
    const results = await Promise.all([s.append([item('a'), item('b')]), s.append([item('c')])]);
    expect(results.map((r) => r.accepted)).toEqual([['a', 'b'], ['c']]);
    expect(flushes).toBe(1);
    s.close();
    const again = make({ dir });
    expect(again.read('x', 10).map((r) => r.id)).toEqual(['a', 'b', 'c']);
  });

  it('drops duplicates by id, across reopen, within the window', async () => {
    const dir = tmp();
    const s = make({ dir });
    expect((await s.append([item('a')])).accepted).toEqual(['a']);
    const r = await s.append([item('a'), item('b')]);
    expect(r).toEqual({ accepted: ['b'], duplicates: ['a'] });
    s.close();
    const again = make({ dir });
    expect((await again.append([item('a')])).duplicates).toEqual(['a']);
  });

  it('forgets ids after the dedup window once pruned', async () => {
    let now = 1_000_000;
    const s = make({ dedupWindowMs: 1000, now: () => now });
    await s.append([item('a')]);
    s.commitCursor('c', s.maxSeq());
    now += 5000;
    s.prune(['c']);
    expect((await s.append([item('a')])).accepted).toEqual(['a']);
  });

  it('dead letters and quarantined input count toward max_bytes (503 when full, nothing dropped); purging frees them', async () => {
    const dir = tmp();
    const s = Spool.open({ dir, maxBytes: 1000 });
    s.quarantine('core.api', 'not JSON', 'x'.repeat(300));
    // The body, its reason and meta, and a row's overhead: 300 + 8 + 2 + 64.
    expect(s.heldBytes).toBe(374);
    // A dead letter written by another connection (the sink thread) is picked up by the next prune step.
    const sinkConn = Spool.open({ dir, consumer: true });
    sinkConn.transaction(() => sinkConn.deadLetter('hec', item('dl1', 'y'.repeat(700)), 'too large'));
    sinkConn.close();
    expect(s.full).toBe(false);
    s.pruneStep(['nobody']);
    expect(s.heldBytes).toBe(1074);
    expect(s.full).toBe(true);
    const refused = await s.append([item('e1')]).then(() => undefined, (e: MltrailError) => e);
    expect(refused?.code).toBe('MLTRAIL_ERR_SPOOL_FULL');
    expect(refused?.message).toContain('1074 bytes of dead letters and quarantined input');
    // Bad input shares the bound: it is refused too, not kept until the disk fills.
    expect(() => s.quarantine('core.api', 'not JSON', 'more')).toThrow(/retry later/);
    expect(s.heldBytes).toBe(1074);
    // Purging needs a target; then it frees the space and input is taken again.
    expect(() => s.purgeQuarantine({})).toThrow(/purge all explicitly/);
    expect(s.purgeQuarantine({ channel: 'core.api' })).toBe(1);
    expect(s.heldBytes).toBe(700);
    expect((await s.append([item('e1')])).accepted).toEqual(['e1']);
    // A retried dead letter that is delivered leaves the count too.
    const [dl] = s.listDeadLetters();
    s.markDeadLettersForRetry({ ids: [dl!.dlq_id] });
    s.transaction(() => s.settleDeadLetter(dl!.dlq_id, true));
    expect(s.heldBytes).toBe(0);
    s.close();
    // The count lives in the spool: reopened, it carries on.
    const re = Spool.open({ dir });
    re.quarantine('x', 'bad', 'z'.repeat(10));
    re.close();
    expect(Spool.open({ dir }).heldBytes).toBe(10 + 3 + 2 + 64);
    // Counted the same way when rebuilt from the table (a spool whose count was never kept).
    const raw = new Database(join(dir, 'spool.db'));
    raw.prepare("DELETE FROM state WHERE ns = '_spool.held'").run();
    raw.close();
    expect(Spool.open({ dir }).heldBytes).toBe(10 + 3 + 2 + 64);
  });

  it('quarantineMany keeps a request\'s bad inputs in one commit, each counted with its reason and meta', () => {
    const s = Spool.open({ dir: tmp(), maxBytes: 10_000_000 });
    const before = s.quarantineCommits;
    s.quarantineMany(Array.from({ length: 5000 }, (_, i) => ({ channel: 'core.api', reason: `line ${i + 1}: not JSON`, body: '1', meta: { line: i + 1 } })));
    expect(s.quarantineCommits - before).toBe(1);
    expect(s.listQuarantine({ limit: 10_000 })).toHaveLength(5000);
    // 5000 one-byte bodies are not 5000 bytes: each row's reason, meta and overhead count too.
    expect(s.heldBytes).toBeGreaterThan(5000 * 80);
    s.close();
  });

  it('bounds the dedup ids: past dedupMaxIds the oldest are forgotten first, the count kept across connections and reopen', async () => {
    let now = 1_000_000;
    const dir = tmp();
    const s = Spool.open({ dir, dedupMaxIds: 100, now: () => now });
    for (let b = 0; b < 5; b++) {
      await s.append(Array.from({ length: 50 }, (_, i) => item(`d${b * 50 + i}`)));
      now += 1000; // each batch a second later: "oldest" is well defined
    }
    // A second connection (a worker appending alerts) counts its ids into the same total.
    const other = Spool.open({ dir, consumer: true });
    other.transaction(() => other.appendInTx([{ kind: 'alert', id: 'al1', body: '{"id":"al1","time":"t","rule_id":"r","mode":"alert"}' }]));
    other.close();
    const count = () => Number(s.db.prepare("SELECT value FROM state WHERE ns = '_spool.dedup' AND key = 'ids'").pluck().get());
    expect(count()).toBe(251);
    s.commitCursor('c', s.maxSeq());
    const steps = [];
    do steps.push(s.pruneStep(['c'], 64));
    while (steps.at(-1)!.more);
    expect(steps.length).toBeGreaterThan(1); // bounded slices
    expect(count()).toBe(100);
    expect((s.db.prepare('SELECT COUNT(*) FROM dedup').pluck().get() as number)).toBe(100);
    // The newest ids (and the alert) still dedup; the oldest were forgotten and are accepted again.
    const again = await s.append([item('d0'), item('d150'), item('d249')]);
    expect(again.accepted).toEqual(['d0', 'd150']);
    expect(again.duplicates).toEqual(['d249']);
    s.close();
    // Reopened, the count carries on; a spool from before the count existed is counted once on open.
    const re = Spool.open({ dir, dedupMaxIds: 100 });
    expect(Number(re.db.prepare("SELECT value FROM state WHERE ns = '_spool.dedup' AND key = 'ids'").pluck().get())).toBe(102);
    re.db.prepare("DELETE FROM state WHERE ns = '_spool.dedup'").run();
    re.close();
    const old = Spool.open({ dir });
    expect(Number(old.db.prepare("SELECT value FROM state WHERE ns = '_spool.dedup' AND key = 'ids'").pluck().get())).toBe(102);
    old.close();
  });

  it('prunes in bounded slices: records up to the slowest cursor and expired dedup ids, bytes accounted', async () => {
    let now = 1_000_000;
    const s = make({ dedupWindowMs: 1000, now: () => now });
    const items = Array.from({ length: 1000 }, (_, i) => item(`r${i}`));
    await s.append(items);
    s.commitCursor('a', s.maxSeq());
    s.commitCursor('b', 600);
    now += 5000;
    const results = [];
    do results.push(s.pruneStep(['a', 'b'], 256));
    while (results.at(-1)!.more);
    // Records 1..600 in slices of 256, 256, 88; the 1000 expired dedup ids need a fourth slice.
    expect(results.map((r) => r.removed)).toEqual([256, 256, 88, 0]);
    expect(s.read('x', 1000).map((r) => r.id)).toEqual(items.slice(600).map((r) => r.id));
    expect(s.bytes).toBe(items.slice(600).reduce((n, r) => n + Buffer.byteLength(r.body), 0));
    // Every dedup id expired: all may come back.
    expect((await s.append([item('r1'), item('r999')])).accepted).toEqual(['r1', 'r999']);
  });

  it('reports each consumer\'s backlog and its oldest record, also after pruning', async () => {
    let now = 1_000_000;
    const s = make({ now: () => now });
    expect(s.depth('a')).toEqual({ records: 0, oldestAgeMs: 0 });
    await s.append([item('a'), item('b')]);
    now += 1000;
    await s.append([item('c'), item('d'), item('e')]);
    now += 500;
    expect(s.depth('a')).toEqual({ records: 5, oldestAgeMs: 1500 });
    s.commitCursor('a', 2);
    expect(s.depth('a')).toEqual({ records: 3, oldestAgeMs: 500 });
    s.prune(['a']);
    // A consumer that was not kept alive starts at what is left.
    expect(s.depth('late')).toEqual({ records: 3, oldestAgeMs: 500 });
    s.commitCursor('a', 5);
    expect(s.depth('a')).toEqual({ records: 0, oldestAgeMs: 0 });
  });

  it('group-commits a turn\'s appends at the end of the turn, or at once when they hold 4 MiB', async () => {
    const s = make();
    const small = s.append([item('s1')]);
    expect(s.maxSeq()).toBe(0); // waits for the end of the turn, with whatever else arrives meanwhile
    const big = 'x'.repeat(1024 * 1024);
    const bursts = [1, 2, 3, 4].map((n) => s.append([item(`b${n}`, JSON.stringify({ big }))]));
    // The fourth MiB reached the bound: everything queued so far is committed before the turn ends.
    expect(s.maxSeq()).toBe(5);
    const after = s.append([item('s2')]);
    expect(s.maxSeq()).toBe(5);
    await Promise.all([small, ...bursts, after]);
    expect(s.read('x', 10).map((r) => r.id)).toEqual(['s1', 'b1', 'b2', 'b3', 'b4', 's2']);
  });

  it('readHeld gives the same records as read, bodies kept as bytes until read', async () => {
    const s = make();
    await s.append([item('a'), { kind: 'event', id: 'ü', body: JSON.stringify({ note: 'naïve café 😀' }) }, item('c')]);
    const plain = s.read('x', 10);
    const held = s.readHeld('x', 10);
    expect(held.map((r) => ({ seq: r.seq, kind: r.kind, id: r.id, body: r.body, added: r.added }))).toEqual(plain);
    expect(held.map((r) => r.size)).toEqual(plain.map((r) => Buffer.byteLength(r.body)));
    expect(JSON.parse(JSON.stringify(held))).toEqual(plain);
    expect(s.readHeld('x', 1, plain[0]!.seq).map((r) => r.id)).toEqual(['ü']);
  });

  it('gives the body without its raw member to readers that skip it (serializeEvent + rawAt)', async () => {
    const s = make();
    const ev = {
      schema_version: '1', id: 'e1', time: '2026-11-25T12:00:00Z', received_time: '2026-11-25T12:00:01Z', platform: 'vertex',
      channel: 'c', stage: 'training', action: 'training_job.create', operation: 'op', outcome: 'success',
      // raw first in the object, non-ASCII on both sides, and raw text that looks like the member it is.
      raw: { note: 'naïve ,"raw": {}', nested: { raw: [1, '😀'] } },
      details: { who: 'José' },
    } as unknown as NormalizedEvent;
    const { body, rawAt } = serializeEvent(ev);
    expect(JSON.parse(body)).toEqual(ev);
    const { raw: _raw, ...lean } = ev;
    const noRaw = serializeEvent(lean as NormalizedEvent);
    expect(noRaw).toEqual({ body: JSON.stringify(lean) });
    await s.append([{ kind: 'event', id: 'e1', body, rawAt }, { kind: 'event', id: 'e2', body: noRaw.body }, item('e3')]);
    const [a, b, c] = s.readLean('x', 10);
    expect(JSON.parse(a!.leanBody!)).toEqual(lean);
    expect(a!.body).toBe(body); // fetched from the spool when asked for
    expect(b!.leanBody).toBe(noRaw.body);
    expect(c!.leanBody).toBe(c!.body);
    expect(a!.size).toBe(Buffer.byteLength(body));
    expect(JSON.parse(JSON.stringify([a, b, c]))).toEqual(s.read('x', 10));
    // `read` and `readHeld` give the full body only.
    expect(s.read('x', 1)[0]!.leanBody).toBeUndefined();
    expect(s.readHeld('x', 1)[0]!.leanBody).toBeUndefined();
    // An offset outside the body is not kept: the record is read whole.
    await s.append([{ kind: 'event', id: 'e4', body: '{"id":"e4"}', rawAt: 99 }]);
    expect(s.readLean('x', 1, c!.seq)[0]!.leanBody).toBe('{"id":"e4"}');
  });

  it('adds columns of newer releases to a spool created before them, keeping its records', async () => {
    const dir = tmp();
    const Database = require('better-sqlite3') as typeof import('better-sqlite3');
    const old = new Database(join(dir, 'spool.db'));
    old.exec(`CREATE TABLE records (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, bytes INTEGER NOT NULL, added INTEGER NOT NULL);
      INSERT INTO records (kind, id, body, bytes, added) VALUES ('event', 'old', '{"id":"old","raw":{"a":1}}', 26, 1);`);
    old.pragma('user_version = 1');
    old.close();
    const s = make({ dir });
    const [rec] = s.readLean('x', 10);
    expect(rec).toMatchObject({ id: 'old', body: '{"id":"old","raw":{"a":1}}', leanBody: '{"id":"old","raw":{"a":1}}' });
    await s.append([item('new')]);
    expect(s.read('x', 10).map((r) => r.id)).toEqual(['old', 'new']);
    // It keeps the 4 KiB pages it was made with; a new spool gets 8 KiB ones.
    expect(s.db.pragma('page_size', { simple: true })).toBe(4096);
    expect(make({ dir: tmp() }).db.pragma('page_size', { simple: true })).toBe(8192);
  });

  it('never scans the whole records table on the hot path (depth, read, cursor, prune…)', () => {
    // A full scan over a backlog of millions on every sink read and /metrics scrape is what this guards
    // against: SQLite scans for MIN and MAX in one select, but answers each alone from the b-tree.
    const s = make();
    const stmts = Object.entries((s as unknown as { stmt: Record<string, { source?: string }> }).stmt).filter(([, st]) => st.source?.includes('records'));
    expect(stmts.map(([k]) => k)).toEqual(expect.arrayContaining(['read', 'seqRange', 'addedAt', 'maxSeq', 'minSeq', 'pruneUpTo', 'bytesUpTo']));
    for (const [name, st] of stmts) {
      const params = new Array((st.source!.match(/\?/g) ?? []).length).fill(0);
      const plan = s.db.prepare(`EXPLAIN QUERY PLAN ${st.source}`).all(...params) as Array<{ detail: string }>;
      expect(plan.map((p) => p.detail), name).not.toContain('SCAN records');
    }
  });

  it('gives each consumer its own cursor and prunes only what all active consumers handled', async () => {
    const s = make();
    await s.append([item('a'), item('b'), item('c')]);
    const [a, b] = s.read('fast', 2);
    s.commitCursor('fast', b!.seq);
    expect(s.read('fast', 10).map((r) => r.id)).toEqual(['c']);
    expect(s.read('slow', 10).map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(s.depth('slow').records).toBe(3);
    s.prune(['fast', 'slow']);
    expect(s.read('slow', 10)).toHaveLength(3);
    s.commitCursor('slow', a!.seq);
    s.prune(['fast', 'slow']);
    expect(s.read('slow', 10).map((r) => r.id)).toEqual(['b', 'c']);
  });

  it('refuses new events with SPOOL_FULL and Retry-After ≤ 60 when at its bound, never dropping stored ones', async () => {
    const s = make({ maxBytes: 50, retryAfterS: 120 });
    await s.append([item('a', 'x'.repeat(60))]);
    const err = await s.append([item('b')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MltrailError);
    expect((err as MltrailError).code).toBe('MLTRAIL_ERR_SPOOL_FULL');
    expect((err as MltrailError).status).toBe(503);
    expect((err as MltrailError).headers['Retry-After']).toBe('60');
    expect(s.read('c', 10).map((r) => r.id)).toEqual(['a']);
    // Alerts derived from accepted data are never refused.
    await expect(s.append([{ kind: 'alert', id: 'al', body: '{"time":"t","rule_id":"r","mode":"alert"}' }])).resolves.toMatchObject({ accepted: ['al'] });
    // Delivery frees room.
    s.commitCursor('c', s.maxSeq());
    s.prune(['c']);
    await expect(s.append([item('b')])).resolves.toMatchObject({ accepted: ['b'] });
  });

  it('keeps dead letters with reasons and marks them for retry', () => {
    const s = make();
    s.deadLetter('hec', item('a'), 'invalid event number 0');
    expect(s.listDeadLetters()).toMatchObject([{ sink: 'hec', record_id: 'a', reason: 'invalid event number 0', status: 'dead' }]);
    expect(s.markDeadLettersForRetry({ sink: 'hec' })).toBe(1);
    const [d] = s.listDeadLetters({ status: 'retry' });
    s.settleDeadLetter(d!.dlq_id, false, 'still bad');
    expect(s.listDeadLetters()).toMatchObject([{ status: 'dead', attempts: 2, reason: 'still bad' }]);
    s.settleDeadLetter(d!.dlq_id, true);
    expect(s.listDeadLetters()).toEqual([]);
  });

  it('quarantines arbitrary bytes with the reason', () => {
    const s = make();
    s.quarantine('core.api', 'not JSON', Buffer.from([0xff, 0x00, 0x41]), { ip: '127.0.0.1' });
    const [q] = s.listQuarantine();
    expect(q).toMatchObject({ channel: 'core.api', reason: 'not JSON', meta: { ip: '127.0.0.1' } });
    expect([...q!.body]).toEqual([0xff, 0x00, 0x41]);
  });

  it('stores state that commits with the transaction', () => {
    const s = make();
    s.state.set('rules', 'k1', { n: 1 });
    s.state.set('rules', 'k2', { n: 2 });
    s.state.set('other', 'k1', 0);
    expect(s.state.list('rules', 'k')).toEqual([
      { key: 'k1', value: { n: 1 } },
      { key: 'k2', value: { n: 2 } },
    ]);
    expect(() =>
      s.transaction(() => {
        s.state.set('rules', 'k1', { n: 99 });
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(s.state.get('rules', 'k1')).toEqual({ n: 1 });
  });
});

describe('Spool: bounds, pruning and dead-letter selection', () => {
  const open: Spool[] = [];
  afterEach(() => {
    for (const s of open.splice(0)) if (!s.isClosed) s.close();
  });
  const make = (opts: Partial<Parameters<typeof Spool.open>[0]> = {}) => {
    const s = Spool.open({ dir: opts.dir ?? tmp(), ...opts });
    open.push(s);
    return s;
  };

  it('is full at exactly max_bytes: the next event is refused', async () => {
    const body = '{"id":"a","pad":"xxxx"}';
    const s = make({ maxBytes: Buffer.byteLength(body) });
    await s.append([item('a', body)]);
    expect(s.full).toBe(true);
    await expect(s.append([item('b')])).rejects.toMatchObject({ code: 'MLTRAIL_ERR_SPOOL_FULL' });
  });

  it('prune with no active consumer removes nothing (no consumer is not "every consumer handled it")', async () => {
    const s = make();
    await s.append([item('a'), item('b')]);
    expect(s.prune([])).toBe(0);
    expect(s.pruneStep([])).toEqual({ removed: 0, more: false, quarantineExpired: 0, deadLettersExpired: 0 });
    expect(s.read('late', 10).map((r) => r.id)).toEqual(['a', 'b']);
    expect(s.bytes).toBeGreaterThan(0);
  });

  it('once every consumer handled the last record it is pruned too: nothing stays counted toward the bound', async () => {
    const s = make({ maxBytes: 100 });
    await s.append([item('only', 'x'.repeat(60))]);
    s.commitCursor('a', s.maxSeq());
    expect(s.prune(['a'])).toBe(1);
    expect(s.bytes).toBe(0);
    expect(s.read('fresh', 10)).toEqual([]);
  });

  it('close() commits appends still queued for the group commit: their senders are answered and the records are there after reopening', async () => {
    const dir = tmp();
    const s = Spool.open({ dir });
    const pending = s.append([item('q1'), item('q2')]);
    s.close();
    await expect(pending).resolves.toEqual({ accepted: ['q1', 'q2'], duplicates: [] });
    const again = make({ dir });
    expect(again.read('x', 10).map((r) => r.id)).toEqual(['q1', 'q2']);
  });

  it('close() while a group commit\'s fdatasync still waits in the thread pool: its appends resolve (close synced them), no EBADF', async () => {
    const dir = tmp();
    const s = Spool.open({ dir });
    // Busy every libuv worker, so the group commit's fdatasync runs only after close() returned: on a loaded
    // machine it does by chance. Before, it then hit the descriptor close() had closed and rejected the appends.
    const { pbkdf2 } = await import('node:crypto');
    const busy = Array.from({ length: 8 }, () => new Promise((r) => pbkdf2('p', 's', 400_000, 32, 'sha256', r)));
    const pending = s.append([item('t1'), item('t2')]);
    await new Promise((r) => setImmediate(r));
    s.close();
    await expect(pending).resolves.toEqual({ accepted: ['t1', 't2'], duplicates: [] });
    await Promise.all(busy);
    expect(make({ dir }).read('x', 10).map((r) => r.id)).toEqual(['t1', 't2']);
  });

  it('a 4 MiB burst appended inside a caller\'s transaction is not committed inside it: a rollback cannot take back an acknowledged append', async () => {
    const s = make();
    const big = 'x'.repeat(1024 * 1024);
    let pending: Array<Promise<unknown>> = [];
    expect(() =>
      s.transaction(() => {
        s.commitCursor('rules', 1);
        pending = [1, 2, 3, 4, 5].map((n) => s.append([item(`big${n}`, JSON.stringify({ big }))]));
        throw new Error('rules chunk failed');
      }),
    ).toThrow('rules chunk failed');
    const results = await Promise.all(pending);
    expect(results).toHaveLength(5);
    // Every append that resolved is in the spool: the rolled-back transaction took only its own writes.
    expect(s.read('x', 10).map((r) => r.id)).toEqual(['big1', 'big2', 'big3', 'big4', 'big5']);
    expect(s.cursor('rules')).toBe(0);
  });

  it('keeps only the latest alertLogMax alerts in the alert log once pruned', async () => {
    const s = make({ alertLogMax: 3 });
    const alert = (n: number) => ({ kind: 'alert' as const, id: `al${n}`, body: JSON.stringify({ id: `al${n}`, time: `2026-11-26T10:00:0${n}Z`, rule_id: 'r', mode: 'alert' }) });
    await s.append([1, 2, 3, 4, 5].map(alert));
    s.pruneStep(['nobody']);
    expect(s.listAlerts({ limit: 100 }).map((a) => (a as { id: string }).id)).toEqual(['al3', 'al4', 'al5']);
  });

  it('dlq retry marks parked letters too, and only the named sink\'s', () => {
    const s = make();
    s.deadLetter('hec', item('d1'), 'bad record');
    s.deadLetter('hec', item('p1'), 'index not allowed', 'parked');
    s.deadLetter('es', item('d2'), 'mapping error');
    expect(s.markDeadLettersForRetry({ sink: 'hec' })).toBe(2);
    expect(s.listDeadLetters({ status: 'retry' }).map((d) => d.record_id)).toEqual(['d1', 'p1']);
    expect(s.listDeadLetters({ sink: 'es' })).toMatchObject([{ record_id: 'd2', status: 'dead' }]);
  });
});
