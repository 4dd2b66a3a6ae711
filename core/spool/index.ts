import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MltrailError } from '../errors.js';
import type { StateStore } from '../state/index.js';
import { ADDED_COLUMNS, DDL, USER_VERSION } from './schema.sql.js';
import { openError } from './open-error.js';
import { HeldRecord, LeanRecord } from './records.js';
import { SqliteStateStore } from './state-store.js';
import type { AppendResult, DeadLetter, QuarantineEntry, RecordKind, SpoolItem, SpoolOptions, SpoolRecord } from './types.js';

export type { AppendResult, DeadLetter, QuarantineEntry, RecordKind, SpoolItem, SpoolOptions, SpoolRecord } from './types.js';

/** Default bound on the ids remembered for dedup (SpoolOptions.dedupMaxIds): ~1.5 GB of disk at most. */
export const DEDUP_MAX_IDS = 10_000_000;
/** Bytes a quarantine row counts toward spool.max_bytes beyond its body, reason and meta (row and index overhead). */
const QUARANTINE_ROW_OVERHEAD = 64;
/** The same count in SQL (held bytes rebuilt at open, and taken back by a purge). */
const QUARANTINE_ROW_BYTES = `LENGTH(CAST(body AS BLOB)) + LENGTH(CAST(reason AS BLOB)) + LENGTH(CAST(meta AS BLOB)) + ${QUARANTINE_ROW_OVERHEAD}`;

/** Tables of a spool (a first open that stopped before setting the schema version left only these). */
const SPOOL_TABLES = new Set([...DDL.matchAll(/CREATE TABLE IF NOT EXISTS (\w+)/g)].map((m) => m[1]!));


/** State namespaces of the spool's own bookkeeping: the dedup id count, the held (dead-letter + quarantine) bytes. */
const DEDUP_COUNT_NS = '_spool.dedup';
const HELD_NS = '_spool.held';

/** Characters of queued bodies at which a group commit happens at once instead of at the end of the turn. */
const GROUP_COMMIT_MAX_CHARS = 4 * 1024 * 1024;

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** Page size of a new spool database (see Spool.open). */
export const PAGE_SIZE = 8192;
/** WAL size past which `checkpoint()` rewinds it (RESTART), briefly holding writers back. */
const WAL_RESTART_BYTES = 64 * 1024 * 1024;

/**
 * The durable spool: every accepted event and alert is committed here before
 * the sender is acknowledged; each consumer (the rule engine, each sink) reads
 * it through its own cursor, so a slow sink never blocks another and memory
 * stays flat while the backlog grows on disk.
 *
 * Appends are group-committed: all appends made in one event-loop turn share
 * one transaction (and one fsync).
 *
 * @example
 * const spool = Spool.open({ dir: './data' });
 * await spool.append([{ kind: 'event', id: ev.id, body: JSON.stringify(ev) }]);
 * const batch = spool.read('sink:file', 100);
 * spool.commitCursor('sink:file', batch.at(-1)!.seq);
 */
export class Spool extends EventEmitter {
  readonly db: Database.Database;
  readonly maxBytes: number;
  readonly state: SqliteStateStore;
  private readonly now: () => number;
  private readonly dedupWindowMs: number;
  private readonly dedupMaxIds: number;
  private readonly retryAfterS: number;
  private readonly alertLogMax: number;
  private readonly walKeepBytes: number;
  private readonly quarantineRetentionMs: number;
  private readonly deadLetterRetentionMs: number;
  private pendingBytes = 0;
  /** Bytes of dead letters and quarantined input (see `heldBytes`); refreshed from the shared count by pruneStep. */
  private held = 0;
  private queue: Array<{ items: SpoolItem[]; resolve: (r: AppendResult) => void; reject: (e: unknown) => void }> = [];
  private flushScheduled = false;
  private queuedChars = 0;
  private closed = false;
  private readonly stmt: ReturnType<Spool['prepare']>;
  private readonly walPath?: string;
  private walFd?: number;
  private syncing = false;
  private syncWaiters: Array<(err: Error | null) => void> = [];
  /** The waiters of the fdatasync in flight: close() settles them itself (its own sync covers them). */
  private syncingWaiters: Array<(err: Error | null) => void> = [];
  /** The WAL descriptor close() left open for the fdatasync in flight: closed when it returns (never reused under it). */
  private walFdToClose?: number;

  private constructor(db: Database.Database, opts: SpoolOptions, walPath?: string) {
    super();
    this.db = db;
    this.walPath = walPath;
    this.now = opts.now ?? Date.now;
    this.maxBytes = opts.maxBytes ?? 1024 ** 3;
    this.dedupWindowMs = opts.dedupWindowMs ?? 7 * 24 * 3600 * 1000;
    this.dedupMaxIds = opts.dedupMaxIds ?? DEDUP_MAX_IDS;
    this.retryAfterS = Math.min(60, opts.retryAfterS ?? 30);
    this.alertLogMax = opts.alertLogMax ?? 100_000;
    this.walKeepBytes = opts.walKeepBytes ?? WAL_RESTART_BYTES;
    this.quarantineRetentionMs = opts.quarantineRetentionMs ?? 0;
    this.deadLetterRetentionMs = opts.deadLetterRetentionMs ?? 0;
    // A writer that starts the WAL over after a checkpoint also cuts the file back to this size (SQLite
    // otherwise keeps it at its largest, reusing it): a burst's WAL does not stay on disk for good.
    if (!db.memory) db.pragma(`journal_size_limit = ${this.walKeepBytes}`);
    this.stmt = this.prepare();
    if (!opts.consumer) {
      this.pendingBytes = (db.prepare('SELECT COALESCE(SUM(bytes),0) AS b FROM records').get() as { b: number }).b;
      // A spool made before the counts were kept is counted once, here.
      this.stmt.dedupCountInit.run();
      this.stmt.heldInit.run();
      this.held = this.readHeldCount();
    }
    this.state = new SqliteStateStore(db, () => this.now());
    this.setMaxListeners(100);
  }

  static open(opts: SpoolOptions): Spool {
    let file = ':memory:';
    let db: Database.Database | undefined;
    try {
      if (opts.dir !== ':memory:') {
        mkdirSync(opts.dir, { recursive: true });
        file = join(opts.dir, 'spool.db');
      }
      db = new Database(file);
      // New spools use 8 KiB pages (SQLite's default is 4): an event's JSON is ~2 KiB, so a 4 KiB page
      // held one and wasted half its bytes; 8 KiB holds three. Bench: 5-9% less CPU per event, webhook
      // p99 unchanged. 16 KiB made inserts cheaper still but multiplied the WAL bytes of the one-event
      // commits webhooks make, raising their p99. (An existing spool keeps the page size it was made with.)
      // Another program's SQLite file is refused before anything is written to it (not even the switch to WAL):
      // every table of a spool is one of ours, whatever its schema version says.
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[];
      const foreign = tables.filter((t) => !SPOOL_TABLES.has(t));
      if (foreign.length) {
        db.close();
        db = undefined;
        throw new MltrailError('STARTUP', `${file} is not an mltrail spool (it holds tables ${foreign.slice(0, 5).join(', ')}): move it aside, or point data_dir elsewhere`, { dir: opts.dir });
      }
      db.pragma(`page_size = ${PAGE_SIZE}`);
      db.pragma('journal_mode = WAL');
    } catch (err) {
      if (err instanceof MltrailError) throw err;
      db?.close();
      const e = err as NodeJS.ErrnoException;
      const hint = e.code === 'SQLITE_NOTADB' ? ` (${file} is not an mltrail spool: move it aside, or point data_dir elsewhere)` : '';
      throw new MltrailError('STARTUP', `cannot open the spool in ${opts.dir} (data_dir, MLTRAIL_DATA_DIR): ${e.message}${hint}`, { dir: opts.dir });
    }
    const fullByFsync = (opts.synchronous ?? 'FULL') === 'FULL' && file !== ':memory:';
    try {
      db.pragma(`synchronous = ${fullByFsync ? 'NORMAL' : (opts.synchronous ?? 'FULL')}`);
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = OFF');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > USER_VERSION) {
        throw new MltrailError('STARTUP', `spool ${file} was written by a newer mltrail (schema ${version} > ${USER_VERSION}): run that version, or point data_dir elsewhere`, { dir: opts.dir });
      }
      db.exec(DDL);
      for (const c of ADDED_COLUMNS) {
        const have = (db.pragma(`table_info(${c.table})`) as Array<{ name: string }>).some((col) => col.name === c.column);
        if (!have) db.exec(`ALTER TABLE ${c.table} ADD COLUMN ${c.column} ${c.type}`);
      }
      if (version !== USER_VERSION) db.pragma(`user_version = ${USER_VERSION}`);
      // A consumer connection polls for the write lock itself (see transaction()), but only once set up:
      // the schema statements above wait in the busy handler, or a worker started under load failed SQLITE_BUSY.
      if (opts.consumer) db.pragma('busy_timeout = 0');
      return new Spool(db, opts, fullByFsync ? `${file}-wal` : undefined);
    } catch (err) {
      db.close();
      throw openError(err, file, opts.dir);
    }
  }

  private prepare() {
    const db = this.db;
    return {
      dedup: db.prepare('INSERT OR IGNORE INTO dedup (id, added) VALUES (?, ?)'),
      dedupHas: db.prepare('SELECT 1 FROM dedup WHERE id = ?').pluck(),
      insert: db.prepare('INSERT INTO records (kind, id, body, bytes, added, raw_at) VALUES (?, ?, ?, ?, ?, ?)'),
      read: db.prepare('SELECT seq, kind, id, body, added FROM records WHERE seq > ? ORDER BY seq LIMIT ?'),
      readBytes: db.prepare('SELECT seq, kind, id, CAST(body AS BLOB) AS bytes, added, raw_at FROM records WHERE seq > ? ORDER BY seq LIMIT ?'),
      // raw_at is a byte offset: cut the UTF-8 bytes there (substr counts bytes on a BLOB), then close the object.
      readLean: db.prepare(
        "SELECT seq, kind, id, CASE WHEN raw_at IS NULL THEN body ELSE CAST(substr(CAST(body AS BLOB), 1, raw_at) AS TEXT) || '}' END AS lean, bytes, added FROM records WHERE seq > ? ORDER BY seq LIMIT ?",
      ),
      bodyAt: db.prepare('SELECT body FROM records WHERE seq = ?').pluck(),
      getCursor: db.prepare('SELECT seq FROM cursors WHERE consumer = ?'),
      setCursor: db.prepare('INSERT INTO cursors (consumer, seq) VALUES (?, ?) ON CONFLICT(consumer) DO UPDATE SET seq = excluded.seq'),
      maxSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM records'),
      seqState: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'records'"),
      // Two sub-selects: SQLite answers a lone MIN or MAX of the rowid from the b-tree's ends, but scans
      // the whole table for MIN and MAX in one select.
      seqRange: db.prepare('SELECT (SELECT MIN(seq) FROM records) AS lo, (SELECT MAX(seq) FROM records) AS hi'),
      addedAt: db.prepare('SELECT added FROM records WHERE seq >= ? ORDER BY seq LIMIT 1'),
      bytesUpTo: db.prepare('SELECT COALESCE(SUM(bytes),0) AS b FROM records WHERE seq <= ?'),
      pruneUpTo: db.prepare('DELETE FROM records WHERE seq <= ?'),
      minSeq: db.prepare('SELECT MIN(seq) AS s FROM records'),
      pruneDedup: db.prepare('DELETE FROM dedup WHERE id IN (SELECT id FROM dedup WHERE added < ? LIMIT ?)'),
      pruneDedupOldest: db.prepare('DELETE FROM dedup WHERE id IN (SELECT id FROM dedup ORDER BY added LIMIT ?)'),
      // How many ids the dedup table holds, kept beside it (counting the table would scan it): every
      // connection that appends adds to it in the same transaction; pruning subtracts.
      dedupCountInit: db.prepare(`INSERT OR IGNORE INTO state (ns, key, value) SELECT '${DEDUP_COUNT_NS}', 'ids', CAST(COUNT(*) AS TEXT) FROM dedup`),
      dedupCount: db.prepare(`SELECT CAST(value AS INTEGER) FROM state WHERE ns = '${DEDUP_COUNT_NS}' AND key = 'ids'`).pluck(),
      // Bytes of dead letters and quarantined input, kept the same way (see heldBytes).
      heldInit: db.prepare(
        `INSERT OR IGNORE INTO state (ns, key, value) SELECT '${HELD_NS}', 'bytes', CAST((SELECT COALESCE(SUM(LENGTH(CAST(body AS BLOB))), 0) FROM dead_letters) + (SELECT COALESCE(SUM(${QUARANTINE_ROW_BYTES}), 0) FROM quarantine) AS TEXT)`,
      ),
      held: db.prepare(`SELECT CAST(value AS INTEGER) FROM state WHERE ns = '${HELD_NS}' AND key = 'bytes'`).pluck(),
      heldAdd: db.prepare(`UPDATE state SET value = CAST(MAX(0, CAST(value AS INTEGER) + ?) AS TEXT) WHERE ns = '${HELD_NS}' AND key = 'bytes'`),
      dlqDelete: db.prepare('DELETE FROM dead_letters WHERE dlq_id = ? RETURNING LENGTH(CAST(body AS BLOB)) AS n'),
      dedupCountAdd: db.prepare(`UPDATE state SET value = CAST(MAX(0, CAST(value AS INTEGER) + ?) AS TEXT) WHERE ns = '${DEDUP_COUNT_NS}' AND key = 'ids'`),
      dlqInsert: db.prepare(
        'INSERT INTO dead_letters (sink, kind, record_id, body, reason, status, added, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      quarantine: db.prepare('INSERT INTO quarantine (channel, reason, body, meta, added) VALUES (?, ?, ?, ?, ?)'),
      // The oldest rows (q_id grows with time: read from the b-tree's start, never a scan of the table).
      quarantineHead: db.prepare('SELECT q_id, added FROM quarantine ORDER BY q_id LIMIT ?'),
      quarantineBytesUpTo: db.prepare(`SELECT COALESCE(SUM(${QUARANTINE_ROW_BYTES}), 0) FROM quarantine WHERE q_id <= ?`).pluck(),
      quarantineDeleteUpTo: db.prepare('DELETE FROM quarantine WHERE q_id <= ?'),
      // Dead letters refused for good before the cutoff, oldest refusal first (index dead_letters_expiry).
      deadLettersExpire: db.prepare("DELETE FROM dead_letters WHERE dlq_id IN (SELECT dlq_id FROM dead_letters WHERE status = 'dead' AND updated < ? ORDER BY updated LIMIT ?) RETURNING LENGTH(CAST(body AS BLOB)) AS n"),
      deadLetterOldest: db.prepare('SELECT MIN(added) FROM dead_letters').pluck(),
      // As expiry reads them (the dead_letters_expiry index): the dead ones, by their last refusal.
      deadLetterOldestRefusal: db.prepare("SELECT MIN(updated) FROM dead_letters WHERE status = 'dead'").pluck(),
      alertLog: db.prepare('INSERT OR IGNORE INTO alert_log (id, time, rule_id, mode, body) VALUES (?, ?, ?, ?, ?)'),
      pruneAlertLog: db.prepare('DELETE FROM alert_log WHERE n <= (SELECT MAX(n) FROM alert_log) - ?'),
    };
  }

  /** Bytes of records not yet pruned (i.e. not yet delivered to every consumer). */
  get bytes(): number {
    return this.pendingBytes;
  }

  /**
   * Bytes of dead letters and quarantined input. They share the spool's
   * bound with undelivered records: a sink that refuses everything, or a
   * flood of bad input, ends in the documented full-spool answer (503, input
   * refused, nothing dropped) rather than a full disk. `mltrail dlq purge` and
   * `mltrail quarantine purge` free them.
   */
  get heldBytes(): number {
    return this.held;
  }

  /** The answer to new input while the spool is full: 503 with Retry-After. */
  private fullError(): MltrailError {
    return new MltrailError(
      'SPOOL_FULL',
      `the spool holds ${this.pendingBytes} undelivered bytes${this.held ? ` and ${this.held} bytes of dead letters and quarantined input` : ''} (limit ${this.maxBytes}); retry later`,
      { retry_after_s: this.retryAfterS },
      { 'Retry-After': String(this.retryAfterS) },
    );
  }

  /** The last write the disk refused (SQLITE_FULL, an I/O error) in the past minute, until a commit succeeds again. */
  get writeError(): { at: string; message: string } | undefined {
    const e = this.lastWriteError;
    return e && Date.now() - Date.parse(e.at) < 60_000 ? e : undefined;
  }
  private lastWriteError?: { at: string; message: string };

  /**
   * A commit the disk refused, as the answer to the sender: 503 with
   * Retry-After (SPOOL_FULL: nothing was stored, retrying later is right)
   * naming the cause and the file; other errors are returned as they are.
   */
  /**
   * Record a failure met outside an append (housekeeping's pruning, a read): a disk or file problem shows on
   * `/readyz` as for input. Returns the error to report (an MltrailError saying what to do, when known).
   */
  noteFailure(err: unknown): unknown {
    return this.writeFailed(err);
  }

  private writeFailed(err: unknown): unknown {
    const code = (err as { code?: unknown })?.code;
    if (typeof code !== 'string') return err;
    const where = this.db.name;
    let message: string;
    let kind: 'SPOOL_FULL' | 'SPOOL_UNAVAILABLE' = 'SPOOL_FULL';
    if (code === 'SQLITE_FULL') message = `the disk holding the spool (${where}) is full: free space there`;
    else if (code.startsWith('SQLITE_IOERR')) message = `the disk holding the spool (${where}) failed a write (${code}): check it`;
    else if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
      kind = 'SPOOL_UNAVAILABLE';
      message = `the spool (${where}) is damaged (${code}): stop the bridge, keep a copy of the file (it holds what was acknowledged) and restore it or move it aside`;
    } else if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN')) {
      kind = 'SPOOL_UNAVAILABLE';
      message = `the spool (${where}) cannot be written (${code}): make it, its -wal/-shm files and its directory writable by this user`;
    } else return err;
    this.lastWriteError = { at: new Date().toISOString(), message };
    return new MltrailError(kind, `cannot store the input: ${message}; retry later`, { retry_after_s: this.retryAfterS, cause: code }, { 'Retry-After': String(this.retryAfterS) });
  }

  /** True when new input would be refused. */
  get full(): boolean {
    return this.pendingBytes + this.held >= this.maxBytes;
  }

  private readHeldCount(): number {
    return (this.stmt.held.get() as number | undefined) ?? 0;
  }

  /** Count bytes into (or, negative, out of) the held total, inside the transaction that changed them. */
  private addHeld(n: number): void {
    if (n === 0) return;
    this.stmt.heldAdd.run(n);
    this.held = Math.max(0, this.held + n);
  }

  /**
   * Durably append records. Resolves once they are committed (group commit).
   * Rejects with SPOOL_FULL (503, Retry-After) when the spool is at its size
   * bound: acknowledged data is never dropped to make room.
   */
  append(items: SpoolItem[]): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new MltrailError('SHUTTING_DOWN', 'the spool is closed'));
    if (items.length === 0) return Promise.resolve({ accepted: [], duplicates: [] });
    if (this.full && items.some((i) => i.kind === 'event')) return Promise.reject(this.fullError());
    const promise = new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
    for (const it of items) this.queuedChars += it.body.length;
    // A burst of large appends in one turn commits once it holds GROUP_COMMIT_MAX_CHARS, not at the end
    // of the turn: the queued bodies would otherwise outlive young-generation collections, each copying them.
    // (Never inside a caller's transaction: its rollback would take back appends already acknowledged.)
    if (this.queuedChars >= GROUP_COMMIT_MAX_CHARS && !this.db.inTransaction) this.flush();
    return promise;
  }

  /** Commit every queued append in one transaction. */
  private flush(): void {
    this.flushScheduled = false;
    const queue = this.queue;
    this.queue = [];
    this.queuedChars = 0;
    if (queue.length === 0) return;
    let results: AppendResult[];
    try {
      results = this.transaction(() => {
        const out = queue.map((q) => this.appendRows(q.items));
        this.countDedup(out.reduce((n, r) => n + r.accepted.length, 0));
        return out;
      });
    } catch (err) {
      const e = this.writeFailed(err);
      for (const q of queue) q.reject(e);
      return;
    }
    this.lastWriteError = undefined;
    this.emit('append');
    if (!this.walPath) {
      queue.forEach((q, i) => q.resolve(results[i]!));
      return;
    }
    // Only the callbacks wait for the fsync: the record bodies are garbage as soon as they are committed.
    const waiting = queue.map((q) => ({ resolve: q.resolve, reject: q.reject }));
    this.afterSync((err) => waiting.forEach((q, i) => (err ? q.reject(err) : q.resolve(results[i]!))));
  }

  /**
   * Call `done` once everything committed so far is on stable storage. One
   * fdatasync (in libuv's thread pool) covers every commit made before it
   * started; commits made while it runs wait for the next one.
   */
  private afterSync(done: (err: Error | null) => void): void {
    this.syncWaiters.push(done);
    if (!this.syncing) this.runSync();
  }

  private runSync(): void {
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    try {
      this.walFd ??= openSync(this.walPath!, 'r+');
    } catch (err) {
      for (const w of waiters) w(err as Error);
      return;
    }
    this.syncing = true;
    this.syncingWaiters = waiters;
    fdatasync(this.walFd, (err) => {
      this.syncing = false;
      // Settled by close() already if it ran meanwhile (this call may then have found the descriptor closed).
      const settle = this.syncingWaiters;
      this.syncingWaiters = [];
      for (const w of settle) w(err);
      if (this.walFdToClose !== undefined) {
        closeSync(this.walFdToClose);
        this.walFdToClose = undefined;
      }
      if (this.syncWaiters.length && !this.closed) this.runSync();
    });
  }

  /**
   * Append inside a transaction the caller already holds (the rule engine
   * commits alerts and its cursor together). Not size-bounded.
   */
  appendInTx(items: SpoolItem[]): AppendResult {
    const res = this.appendRows(items);
    this.countDedup(res.accepted.length);
    return res;
  }

  /** Ids newly remembered for dedup (inside the transaction that added them). */
  private countDedup(n: number): void {
    if (n !== 0) this.stmt.dedupCountAdd.run(n);
  }

  private appendRows(items: SpoolItem[]): AppendResult {
    const now = this.now();
    const accepted: string[] = [];
    const duplicates: string[] = [];
    for (const it of items) {
      if (it.forwarded ? this.isForwardedDuplicate(it, now) : this.stmt.dedup.run(`${it.kind}:${it.id}`, now).changes === 0) {
        duplicates.push(it.id);
        continue;
      }
      const bytes = Buffer.byteLength(it.body);
      // An offset outside the body would make readLean cut it wrong: keep such a record whole.
      const rawAt = it.rawAt !== undefined && it.rawAt > 0 && it.rawAt < bytes - 1 ? it.rawAt : null;
      this.stmt.insert.run(it.kind, it.id, it.body, bytes, now, rawAt);
      if (it.kind === 'alert') {
        const a = JSON.parse(it.body) as { time?: string; rule_id?: string; mode?: string };
        this.stmt.alertLog.run(it.id, a.time ?? '', a.rule_id ?? '', a.mode ?? '', it.body);
      }
      this.pendingBytes += bytes;
      accepted.push(it.id);
    }
    return { accepted, duplicates };
  }

  /** A forwarded event duplicates any record of its id, and is remembered under `fwd:` (see SpoolItem.forwarded). */
  private isForwardedDuplicate(it: SpoolItem, now: number): boolean {
    if (this.stmt.dedupHas.get(`${it.kind}:${it.id}`) !== undefined) return true;
    return this.stmt.dedup.run(`fwd:${it.kind}:${it.id}`, now).changes === 0;
  }

  /** Whether an id was already accepted inside the dedup window. */
  seen(kind: RecordKind, id: string): boolean {
    return this.stmt.dedupHas.get(`${kind}:${id}`) !== undefined || this.stmt.dedupHas.get(`fwd:${kind}:${id}`) !== undefined;
  }

  /** Up to `limit` records after the consumer's cursor, oldest first. */
  read(consumer: string, limit: number, after?: number): SpoolRecord[] {
    return this.stmt.read.all(after ?? this.cursor(consumer), limit) as SpoolRecord[];
  }

  /**
   * Like `read`, for a consumer that holds a batch while it waits (a sink on
   * the network, the rules over a large chunk): each body stays UTF-8 bytes
   * outside the JS heap and becomes a string only when `body` is read. Held
   * strings survive young-generation collections and are copied and promoted
   * by each; bytes are not.
   */
  readHeld(consumer: string, limit: number, after?: number): SpoolRecord[] {
    const rows = this.stmt.readBytes.all(after ?? this.cursor(consumer), limit) as Array<{ seq: number; kind: RecordKind; id: string; bytes: Buffer; added: number }>;
    return rows.map((r) => new HeldRecord(r.seq, r.kind, r.id, r.bytes, r.added));
  }

  /**
   * Like `read`, for a consumer that does not use events' `raw` (the rules,
   * a sink whose format never reads it): `leanBody` is each body without its
   * `raw` member, cut by SQLite — about half the text to hold and parse. The
   * full `body` is fetched from the spool only if read (a dead letter, a rule
   * that needs the native record); the records must not be pruned meanwhile,
   * which the consumer's own uncommitted cursor guarantees.
   */
  readLean(consumer: string, limit: number, after?: number): SpoolRecord[] {
    const rows = this.stmt.readLean.all(after ?? this.cursor(consumer), limit) as Array<{ seq: number; kind: RecordKind; id: string; lean: string; bytes: number; added: number }>;
    const bodyAt = (seq: number) => this.stmt.bodyAt.get(seq) as string | undefined;
    return rows.map((r) => new LeanRecord(r.seq, r.kind, r.id, r.lean, r.bytes, r.added, bodyAt));
  }

  /** Highest seq the consumer has fully handled (0 when new). */
  cursor(consumer: string): number {
    const row = this.stmt.getCursor.get(consumer) as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  /** Every consumer that has committed a cursor, with it (a sink removed from the config included). */
  cursors(): Array<{ consumer: string; seq: number }> {
    return this.db.prepare('SELECT consumer, seq FROM cursors ORDER BY consumer').all() as Array<{ consumer: string; seq: number }>;
  }

  /** Record that the consumer has handled everything up to and including `seq`. */
  commitCursor(consumer: string, seq: number): void {
    this.stmt.setCursor.run(consumer, seq);
  }

  /**
   * Run `fn` in one SQLite transaction (state + cursor + appends commit
   * together). It takes the write lock up front (BEGIN IMMEDIATE): other
   * connections write to the same spool (the rules worker, `mltrail dlq`),
   * and a transaction that read before writing would otherwise fail with
   * SQLITE_BUSY_SNAPSHOT when one of them committed in between.
   */
  transaction<T>(fn: () => T): T {
    // SQLite can answer SQLITE_BUSY at once instead of waiting in its busy handler (while another
    // connection runs a checkpoint, for one); a consumer connection has no busy handler at all and
    // polls every 0.2 ms, since the handler's growing sleeps (1, 2, 5, 10… ms) lose every race
    // against a writer that commits each turn. Either way: retry briefly, then give up loudly.
    // Only BEGIN is retried: once `fn` ran, its effects outside the database may not be repeatable.
    const until = Date.now() + 10_000;
    let ran = false;
    const tx = this.db.transaction(() => {
      ran = true;
      return fn();
    });
    // The in-memory size counts follow the rows: a transaction rolled back (SQLITE_FULL at commit) must not
    // leave its bytes counted, or the spool would refuse input while empty.
    const counts = { pending: this.pendingBytes, held: this.held };
    for (;;) {
      try {
        return tx.immediate();
      } catch (err) {
        this.pendingBytes = counts.pending;
        this.held = counts.held;
        if (ran || (err as { code?: string }).code !== 'SQLITE_BUSY' || this.db.inTransaction || Date.now() > until) throw err;
        Atomics.wait(PAUSE, 0, 0, 0.2);
      }
    }
  }

  /**
   * Checkpoint the WAL from this connection: PASSIVE (never waits), then,
   * once the WAL has grown past 64 MiB, RESTART so it is rewound even under
   * sustained input. For the connection that owns checkpointing once the
   * writer's auto-checkpoints are off (the rules worker's; see core/rules/thread.ts).
   */
  checkpoint(): void {
    if (this.db.memory) return;
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const r = (this.db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>)[0];
    // Everything copied but the file still as large as a past burst made it (no commit since to start it over and
    // cut it, journal_size_limit): TRUNCATE empties it. It gives up at once (busy) if a reader still uses the WAL.
    if (r && r.log === r.checkpointed && this.walFileBytes() > this.walKeepBytes) this.db.pragma('wal_checkpoint(TRUNCATE)');
    if (!r || r.log * pageSize <= WAL_RESTART_BYTES) return;
    // RESTART holds writers back while it copies what PASSIVE left: do it when that is little,
    // or when the WAL has grown far past the mark (sustained input never leaves it idle).
    const left = (r.log - r.checkpointed) * pageSize;
    if (left < 1024 * 1024 || r.log * pageSize > 4 * WAL_RESTART_BYTES) this.db.pragma('wal_checkpoint(RESTART)');
  }

  /** Size of the WAL file on disk (0 when there is none). */
  private walFileBytes(): number {
    try {
      return statSync(`${this.db.name}-wal`).size;
    } catch {
      return 0;
    }
  }

  /** Count bytes another connection appended (the rules worker's alerts) toward the size bound. */
  addPendingBytes(bytes: number): void {
    this.pendingBytes += bytes;
  }

  /** Highest seq ever assigned. */
  maxSeq(): number {
    const s = this.stmt.seqState.get() as { seq: number } | undefined;
    return s?.seq ?? (this.stmt.maxSeq.get() as { s: number }).s;
  }

  /** Records waiting for a consumer and the age (ms) of the oldest. */
  depth(consumer: string): { records: number; oldestAgeMs: number } {
    // Seqs are dense (AUTOINCREMENT; a rolled-back insert gives its seq back) and pruning removes
    // a prefix, so the backlog is a difference of seqs: no COUNT(*) over a backlog of millions
    // on every /metrics scrape while a sink is down.
    const { lo, hi } = this.stmt.seqRange.get() as { lo: number | null; hi: number | null };
    if (lo === null || hi === null) return { records: 0, oldestAgeMs: 0 };
    const from = Math.max(this.cursor(consumer) + 1, lo);
    if (from > hi) return { records: 0, oldestAgeMs: 0 };
    const oldest = (this.stmt.addedAt.get(from) as { added: number } | undefined)?.added;
    return { records: hi - from + 1, oldestAgeMs: oldest === undefined ? 0 : Math.max(0, this.now() - oldest) };
  }

  /**
   * Delete records every active consumer has handled, and dedup ids older than
   * the window. Consumers not named keep no records alive.
   */
  prune(activeConsumers: string[]): number {
    let removed = 0;
    for (;;) {
      const step = this.pruneStep(activeConsumers, Number.MAX_SAFE_INTEGER);
      removed += step.removed;
      if (!step.more) return removed;
    }
  }

  /**
   * One bounded slice of `prune()`: at most `maxRows` records and `maxRows`
   * dedup ids, in one short transaction, so a serving event loop (and the
   * other connection waiting for the lock) is never held for long. `more`
   * says whether another slice has work.
   */
  pruneStep(activeConsumers: string[], maxRows = 256): { removed: number; more: boolean; quarantineExpired: number; deadLettersExpired: number } {
    if (activeConsumers.length === 0) return { removed: 0, more: false, quarantineExpired: 0, deadLettersExpired: 0 };
    const min = Math.min(...activeConsumers.map((c) => this.cursor(c)));
    let removed = 0;
    let more = false;
    let quarantineExpired = 0;
    let deadLettersExpired = 0;
    this.transaction(() => {
      const lo = (this.stmt.minSeq.get() as { s: number | null }).s;
      if (lo !== null && lo <= min) {
        const hi = Math.min(min, lo + maxRows - 1);
        const { b } = this.stmt.bytesUpTo.get(hi) as { b: number };
        removed = this.stmt.pruneUpTo.run(hi).changes;
        this.pendingBytes = Math.max(0, this.pendingBytes - b);
        more = hi < min;
      }
      const expired = this.stmt.pruneDedup.run(this.now() - this.dedupWindowMs, maxRows).changes;
      if (expired >= maxRows) more = true;
      this.countDedup(-expired);
      // Past the bound, forget the oldest ids even inside the window (see dedupMaxIds).
      const over = ((this.stmt.dedupCount.get() as number | undefined) ?? 0) - this.dedupMaxIds;
      if (over > 0) {
        const forgotten = this.stmt.pruneDedupOldest.run(Math.min(over, maxRows)).changes;
        this.countDedup(-forgotten);
        if (over > maxRows) more = true;
      }
      this.stmt.pruneAlertLog.run(this.alertLogMax);
      quarantineExpired = this.expireQuarantine(maxRows);
      if (quarantineExpired >= maxRows) more = true;
      deadLettersExpired = this.expireDeadLetters(maxRows);
      if (deadLettersExpired >= maxRows) more = true;
      // Other connections (the sink thread's dead letters) add to the held count: pick up their share.
      this.held = this.readHeldCount();
    });
    return { removed, more, quarantineExpired, deadLettersExpired };
  }

  /**
   * Delete up to `maxRows` dead letters whose last refusal is older than the retention (opt-in: they are accepted
   * events, so by default they stay until purged), inside pruneStep's transaction. Parked ones and those marked for
   * retry are on their way again: never deleted here. Returns how many.
   */
  private expireDeadLetters(maxRows: number): number {
    if (this.deadLetterRetentionMs <= 0) return 0;
    const rows = this.stmt.deadLettersExpire.all(this.now() - this.deadLetterRetentionMs, maxRows) as Array<{ n: number }>;
    this.addHeld(-rows.reduce((sum, r) => sum + r.n, 0));
    return rows.length;
  }

  /** When the oldest dead letter still kept was added (ms), undefined when there is none. */
  oldestDeadLetterAt(): number | undefined {
    return (this.stmt.deadLetterOldest.get() as number | null) ?? undefined;
  }

  /**
   * The oldest last refusal (ms) of the dead letters `spool.dead_letter_retention_days` may delete (status `dead`),
   * undefined when there is none: what expiry goes by, so the next one to expire is refused at that time plus the
   * retention. A dead letter `dlq retry` re-sent and the sink refused again is counted from its new refusal.
   */
  oldestDeadLetterRefusalAt(): number | undefined {
    return (this.stmt.deadLetterOldestRefusal.get() as number | null) ?? undefined;
  }

  /**
   * Delete up to `maxRows` of the oldest quarantined inputs older than the retention (inside pruneStep's
   * transaction), giving their bytes back to the spool's bound: a sender that keeps posting bad input would
   * otherwise fill `max_bytes` for good, and every sender then gets 503 until someone purges. Returns how many.
   */
  private expireQuarantine(maxRows: number): number {
    if (this.quarantineRetentionMs <= 0) return 0;
    const cutoff = this.now() - this.quarantineRetentionMs;
    let hi: number | undefined;
    let n = 0;
    for (const row of this.stmt.quarantineHead.all(maxRows) as Array<{ q_id: number; added: number }>) {
      if (row.added >= cutoff) break;
      hi = row.q_id;
      n++;
    }
    if (hi === undefined) return 0;
    const bytes = this.stmt.quarantineBytesUpTo.get(hi) as number;
    this.stmt.quarantineDeleteUpTo.run(hi);
    this.addHeld(-bytes);
    return n;
  }

  /** Keep a record a sink refused permanently, with the reason. */
  deadLetter(sink: string, rec: SpoolItem, reason: string, status: 'dead' | 'parked' = 'dead'): void {
    const now = this.now();
    this.stmt.dlqInsert.run(sink, rec.kind, rec.id, rec.body, reason.slice(0, 4000), status, now, now);
    this.addHeld(Buffer.byteLength(rec.body));
  }

  /** Dead letters per sink name: how many, and how many are marked for re-sending (`dlq retry`). */
  deadLetterCounts(): Array<{ sink: string; n: number; marked: number }> {
    return this.db.prepare("SELECT sink, COUNT(*) AS n, SUM(status = 'retry') AS marked FROM dead_letters GROUP BY sink ORDER BY sink").all() as Array<{ sink: string; n: number; marked: number }>;
  }

  /** The oldest record's seq still held (undefined when the spool holds none). */
  oldestSeq(): number | undefined {
    return (this.stmt.minSeq.get() as { s: number | null }).s ?? undefined;
  }

  listDeadLetters(filter: { sink?: string; status?: 'dead' | 'retry' | 'parked'; limit?: number } = {}): DeadLetter[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.sink) (where.push('sink = ?'), args.push(filter.sink));
    if (filter.status) (where.push('status = ?'), args.push(filter.status));
    const sql = `SELECT * FROM dead_letters ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY dlq_id LIMIT ?`;
    return this.db.prepare(sql).all(...args, filter.limit ?? 1000) as DeadLetter[];
  }

  /** Mark dead letters for re-sending; the sink's runner picks them up. Returns how many. */
  markDeadLettersForRetry(filter: { sink?: string; ids?: number[] } = {}): number {
    const where = ["status IN ('dead', 'parked')"];
    const args: unknown[] = [];
    if (filter.sink) (where.push('sink = ?'), args.push(filter.sink));
    if (filter.ids?.length) (where.push(`dlq_id IN (${filter.ids.map(() => '?').join(',')})`), args.push(...filter.ids));
    const r = this.db.prepare(`UPDATE dead_letters SET status = 'retry', updated = ? WHERE ${where.join(' AND ')}`).run(this.now(), ...args);
    if (r.changes > 0) this.emit('append');
    return r.changes;
  }

  /**
   * Hand dead letters of sink `from` (renamed or replaced in the config) to sink `to`, marked for re-sending:
   * its runner picks them up as it does `dlq retry`'s. A body is the spooled record, not a sink's format, so
   * any sink can send it. Returns how many.
   */
  moveDeadLetters(filter: { from: string; to: string; ids?: number[] }): number {
    // What is named must be there: a mistyped `from`, or an id of another sink, is a USAGE error naming what there
    // is, and nothing moves (else "0 handed over" read as done). Checked and moved in one transaction.
    const n = this.transaction(() => {
      const held = new Set(this.db.prepare('SELECT dlq_id FROM dead_letters WHERE sink = ?').pluck().all(filter.from) as number[]);
      if (held.size === 0) {
        const sinks = this.deadLetterCounts().map((d) => d.sink);
        throw new MltrailError('USAGE', `--sink ${filter.from}: no dead letters of that sink (sinks with dead letters: ${sinks.join(', ') || 'none'}; see mltrail dlq list)`);
      }
      const others = (filter.ids ?? []).filter((id) => !held.has(id));
      if (others.length) throw new MltrailError('USAGE', `--id ${others.join(', ')}: not dead letters of ${filter.from} (see mltrail dlq list --sink ${filter.from}); nothing handed over`);
      const where = ['sink = ?'];
      const args: unknown[] = [filter.from];
      if (filter.ids?.length) (where.push(`dlq_id IN (${filter.ids.map(() => '?').join(',')})`), args.push(...filter.ids));
      return this.db.prepare(`UPDATE dead_letters SET sink = ?, status = 'retry', updated = ? WHERE ${where.join(' AND ')}`).run(filter.to, this.now(), ...args).changes;
    });
    if (n > 0) this.emit('append');
    return n;
  }

  /** Resolve a re-sent dead letter: delivered (removed), or kept as `status` (dead, or parked again) with the new reason. */
  settleDeadLetter(dlqId: number, delivered: boolean, reason?: string, status: 'dead' | 'parked' = 'dead'): void {
    if (delivered) this.addHeld(-(((this.stmt.dlqDelete.get(dlqId) as { n: number } | undefined)?.n) ?? 0));
    else
      this.db
        .prepare('UPDATE dead_letters SET status = ?, attempts = attempts + 1, reason = ?, updated = ? WHERE dlq_id = ?')
        .run(status, (reason ?? 'failed again').slice(0, 4000), this.now(), dlqId);
  }

  /**
   * Keep input that could not be parsed or validated, with the reason, for
   * `mltrail quarantine list`. Never throws on odd bodies.
   */
  quarantine(channel: string, reason: string, body: string | Buffer | Uint8Array, meta: Record<string, unknown> = {}): number {
    return this.quarantineMany([{ channel, reason, body, meta }]);
  }

  /**
   * Keep many rejected inputs in one transaction (a request's bad NDJSON lines or records): one commit,
   * not one per line. Each counts toward `spool.max_bytes` with its reason, meta and row overhead, so a
   * flood of tiny bad lines is bounded like the bytes it takes on disk. Returns the last row's id.
   */
  quarantineMany(rows: ReadonlyArray<{ channel: string; reason: string; body: string | Buffer | Uint8Array; meta?: Record<string, unknown> }>): number {
    if (rows.length === 0) return 0;
    // Bad input shares the bound: a flood of it is refused like good input, not kept until the disk fills.
    if (this.full) throw this.fullError();
    let last = 0;
    try {
      this.transaction(() => {
        const now = this.now();
        let bytes = 0;
        for (const row of rows) {
          const body = row.body;
          const buf = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
          const reason = row.reason.slice(0, 4000);
          const meta = JSON.stringify(row.meta ?? {});
          last = Number(this.stmt.quarantine.run(row.channel, reason, buf, meta, now).lastInsertRowid);
          bytes += buf.length + Buffer.byteLength(reason) + Buffer.byteLength(meta) + QUARANTINE_ROW_OVERHEAD;
        }
        this.addHeld(bytes);
      });
    } catch (err) {
      throw this.writeFailed(err);
    }
    this.quarantineCommits++;
    return last;
  }

  /** Quarantine commits so far: a caller compares two readings to know whether to await `synced()`. */
  quarantineCommits = 0;

  /**
   * Resolves once every commit made so far is on stable storage (one
   * fdatasync of the WAL, shared with the group commit's). Quarantined input
   * is acknowledged only after this, like accepted events.
   */
  synced(): Promise<void> {
    if (!this.walPath || this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => this.afterSync((err) => (err ? reject(err) : resolve())));
  }

  /**
   * Delete dead letters (an operator's decision: `mltrail dlq purge`), by
   * sink and/or ids; `all` is required to delete every one. Returns how many.
   */
  purgeDeadLetters(filter: { sink?: string; ids?: number[]; all?: boolean }): number {
    return this.purge('dead_letters', 'dlq_id', 'LENGTH(CAST(body AS BLOB))', filter.sink ? ['sink', filter.sink] : undefined, filter);
  }

  /** Delete quarantined input (`mltrail quarantine purge`), by channel and/or ids; `all` for every one. Returns how many. */
  purgeQuarantine(filter: { channel?: string; ids?: number[]; all?: boolean }): number {
    return this.purge('quarantine', 'q_id', QUARANTINE_ROW_BYTES, filter.channel ? ['channel', filter.channel] : undefined, filter);
  }

  private purge(table: string, idCol: string, size: string, by: [string, string] | undefined, filter: { ids?: number[]; all?: boolean }): number {
    const where: string[] = [];
    const args: unknown[] = [];
    if (by) (where.push(`${by[0]} = ?`), args.push(by[1]));
    if (filter.ids?.length) (where.push(`${idCol} IN (${filter.ids.map(() => '?').join(',')})`), args.push(...filter.ids));
    if (where.length === 0 && !filter.all) throw new MltrailError('USAGE', 'say what to purge (ids, a name) or purge all explicitly');
    const cond = where.length ? `WHERE ${where.join(' AND ')}` : '';
    return this.transaction(() => {
      const bytes = this.db.prepare(`SELECT COALESCE(SUM(${size}), 0) FROM ${table} ${cond}`).pluck().get(...args) as number;
      const n = this.db.prepare(`DELETE FROM ${table} ${cond}`).run(...args).changes;
      this.addHeld(-bytes);
      return n;
    });
  }

  listQuarantine(filter: { channel?: string; limit?: number } = {}): QuarantineEntry[] {
    const rows = (
      filter.channel
        ? this.db.prepare('SELECT * FROM quarantine WHERE channel = ? ORDER BY q_id LIMIT ?').all(filter.channel, filter.limit ?? 1000)
        : this.db.prepare('SELECT * FROM quarantine ORDER BY q_id LIMIT ?').all(filter.limit ?? 1000)
    ) as Array<Omit<QuarantineEntry, 'meta'> & { meta: string }>;
    return rows.map((r) => ({ ...r, meta: JSON.parse(r.meta) as Record<string, unknown> }));
  }

  /** Recent alerts (newest last), for GET /v1/alerts. */
  listAlerts(filter: { since?: string; rule_id?: string; mode?: string; limit?: number } = {}): unknown[] {
    return this.alertsPage(filter).alerts;
  }

  /**
   * Alerts in the order they were raised, with a cursor: `after` a cursor from an earlier answer gives the
   * ones raised since, oldest first (an alert dated in the past — a late approval's, a backfill's — is
   * not missed as it is by `since`, which compares alert times); without it, the latest, newest last.
   * `cursor` is where to go on from (the last alert's, or the latest raised when none matched).
   */
  alertsPage(filter: { since?: string; rule_id?: string; mode?: string; limit?: number; after?: number } = {}): { alerts: unknown[]; cursor: number } {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.after !== undefined) (where.push('n > ?'), args.push(filter.after));
    if (filter.since) (where.push('time >= ?'), args.push(filter.since));
    if (filter.rule_id) (where.push('rule_id = ?'), args.push(filter.rule_id));
    if (filter.mode) (where.push('mode = ?'), args.push(filter.mode));
    const cond = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const sql =
      filter.after !== undefined
        ? `SELECT n, body FROM alert_log ${cond} ORDER BY n LIMIT ?`
        : `SELECT n, body FROM (SELECT n, body FROM alert_log ${cond} ORDER BY n DESC LIMIT ?) ORDER BY n`;
    const limit = filter.limit ?? 100;
    // One read snapshot for both: an alert the rules thread commits in between is neither returned nor skipped.
    const read = this.db.transaction(() => {
      const rows = this.db.prepare(sql).all(...args, limit) as Array<{ n: number; body: string }>;
      const latest = (this.db.prepare('SELECT MAX(n) AS n FROM alert_log').get() as { n: number | null }).n ?? 0;
      return { rows, latest };
    });
    const { rows, latest } = read.deferred();
    // A cursor this log never gave (another data dir's, a typo) would silence a poller until the log caught up.
    if (filter.after !== undefined && filter.after > latest) {
      throw new MltrailError('BAD_REQUEST', `cursor ${filter.after} is ahead of this bridge's alert log (latest ${latest}): it is not from this bridge; start again without after`, { parameter: 'after', latest_cursor: latest });
    }
    // A full page after a cursor: more may follow, go on from its last. Otherwise everything raised up to the
    // snapshot was looked at (a filter may have passed over some): go on from the latest.
    const cursor = filter.after !== undefined && rows.length === limit ? rows.at(-1)!.n : Math.max(latest, filter.after ?? 0);
    return { alerts: rows.map((r) => JSON.parse(r.body) as unknown), cursor };
  }

  /** Flush pending appends and close the database. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.walFd !== undefined) {
      // Settle appends still waiting for an fsync, synchronously, before closing.
      let err: Error | null = null;
      try {
        fdatasyncSync(this.walFd);
      } catch (e) {
        err = e as Error;
      }
      // Also those of an fdatasync still in flight (queued in libuv's pool, it may run only after this returns).
      const waiters = [...this.syncingWaiters, ...this.syncWaiters];
      this.syncingWaiters = [];
      this.syncWaiters = [];
      for (const w of waiters) w(err);
      // The descriptor stays open until that fdatasync returns: closed now, its number could be another file's by then.
      if (this.syncing) this.walFdToClose = this.walFd;
      else closeSync(this.walFd);
      this.walFd = undefined;
    }
    this.db.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
