import { fstatSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MltrailError } from '../../../core/errors.js';
import { formatter, type Formatter } from '../../../core/formats/index.js';
import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';
import type { DeliveryStatus, Sink, SinkContext, SinkFactory, SinkHealth } from '../../../core/sink.js';
import type { SpoolRecord } from '../../../core/spool/index.js';
import { forEachYielding } from '../common.js';
import { FileSinkConfig } from './config.js';

interface OpenFile {
  fh: FileHandle;
  dev: number;
  ino: number;
  /** Where this sink's last write ended (re-read from the file before each write and commit). */
  size: number;
}

type Kind = 'events' | 'alerts';

/**
 * How far a file went at the last commit: which file (inode) and its size.
 * Before the sink first writes to a file (a new one, one moved in by an
 * operator, one truncated by someone else) it commits a mark at the file's
 * size then, so output past a mark is always output not yet committed.
 */
interface FileMark {
  ino: number;
  size: number;
  /** Files moved away by someone else (logrotate) since the last commit, with their marks: recovery cuts them too. */
  rotated?: Array<{ ino: number; size: number }>;
}

/** Names a rotated file of `kind` may have: the sink's own `<kind>-<time>.ndjson`, logrotate's `<kind>.ndjson.1` / `-<date>`; never a compressed one. */
const rotatedName = (kind: Kind, n: string) => (n.startsWith(`${kind}-`) || n.startsWith(`${kind}.ndjson.`) || n.startsWith(`${kind}.ndjson-`)) && !/\.(gz|bz2|xz|zst|lz4|z)$/i.test(n);

/** State namespace of the file sinks' marks, keyed by sink name. */
const MARKS_NS = '_sink.file';

/**
 * Writes events and alerts as NDJSON (`events.ndjson`, `alerts.ndjson`),
 * rotating by size to `events-<time>.ndjson`. A batch is `ok` once written
 * (and fsynced when configured). Each commit of the sink's cursor records how
 * far the files go; after a crash, output past that mark (records the runner
 * sends again) is cut off before writing, so no line is written twice.
 */
export class FileSink implements Sink {
  readonly name: string;
  private readonly dir: string;
  private readonly fmt: Formatter;
  private readonly files = new Map<Kind, OpenFile>();
  private readonly spool?: SinkContext['spool'];
  private readonly log: SinkContext['logger'];
  private marks: Partial<Record<Kind, FileMark>>;
  /** Handles of files rotated at a commit, being closed. */
  private closing: Array<Promise<void>> = [];
  /** Files checked against their mark since start (only the first open of each needs it). */
  private readonly recovered = new Set<Kind>();
  private lastError?: string;
  /** Writes are serialized: the runner may call send() for several batches at once. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    name: string,
    private readonly cfg: FileSinkConfig,
    ctx: SinkContext,
  ) {
    this.name = name;
    this.spool = ctx.spool;
    this.log = ctx.logger;
    this.marks = ctx.spool?.state.get<Partial<Record<Kind, FileMark>>>(MARKS_NS, name) ?? {};
    this.dir = resolve(cfg.path ?? join(ctx.dataDir, 'out'));
    this.fmt = formatter(cfg.format);
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new MltrailError('STARTUP', `sink ${name}: cannot use ${this.dir} as its output directory: ${e.code ?? e.message} (set sinks.${name}.path to a directory mltrail can create and write)`);
    }
  }

  async send(records: SpoolRecord[]): Promise<DeliveryStatus[]> {
    const lines: Record<'events' | 'alerts', string[]> = { events: [], alerts: [] };
    const statuses: DeliveryStatus[] = new Array(records.length);
    await forEachYielding(records, (r, i) => {
      try {
        // `core` is the spooled JSON itself, written by JSON.stringify: the same line a parse and
        // stringify would give, without either (this runs on the event loop that answers senders).
        if (this.cfg.format === 'core') {
          lines[r.kind === 'alert' ? 'alerts' : 'events'].push(r.body);
        } else {
          const v = JSON.parse(r.body) as NormalizedEvent | Alert;
          const out = r.kind === 'alert' ? this.fmt.alert(v as Alert) : this.fmt.event(v as NormalizedEvent);
          lines[r.kind === 'alert' ? 'alerts' : 'events'].push(JSON.stringify(out));
        }
        statuses[i] = { status: 'ok' };
      } catch (err) {
        statuses[i] = { status: 'permanent', reason: `cannot format: ${(err as Error).message}` };
      }
    });
    const done = this.tail.then(async () => {
      for (const kind of ['events', 'alerts'] as const) if (lines[kind].length) await this.writeSettled(kind, `${lines[kind].join('\n')}\n`);
    });
    this.tail = done.catch(() => {});
    try {
      await done;
      this.lastError = undefined;
    } catch (err) {
      this.lastError = (err as Error).message;
      throw err; // transport-level: the runner retries the batch
    }
    return statuses;
  }

  /**
   * Write a batch, and again to the new file if the old one was moved away while it was being written
   * (logrotate `compress` without `delaycompress` gzips and deletes the moved file at once: the batch
   * would be acknowledged and lost). A line may then be in both files: a duplicate, never a loss.
   */
  private async writeSettled(kind: Kind, text: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const f = await this.write(kind, text);
      if (attempt >= 3 || (await this.atPath(kind, f))) return;
      this.log.warn({ file: `${kind}.ndjson` }, 'file sink: file moved away while a batch was written to it; writing the batch again to the new file (use delaycompress)');
    }
  }

  // Async I/O: the sink never blocks the event loop that answers senders.
  private async write(kind: Kind, text: string): Promise<OpenFile> {
    let f = this.files.get(kind);
    let movedAway: number | undefined;
    // Rotation by rename (logrotate create/compress): the path is gone or is another file. Writing on to
    // the handle would put acknowledged lines in a file about to be compressed and deleted.
    if (f && !(await this.atPath(kind, f))) {
      this.log.info({ file: `${kind}.ndjson` }, 'file sink: file moved away (rotated by someone else); writing a new one');
      await f.fh.close();
      this.files.delete(kind);
      movedAway = f.ino;
      f = undefined;
    }
    // With a spool, files rotate at a commit (checkpoint), so all output past the last commit is in one file.
    if (!this.spool && f && f.size >= this.cfg.max_file_bytes) {
      await f.fh.close();
      this.files.delete(kind);
      this.rotate(kind);
      f = undefined;
    }
    if (!f) {
      // a+: recovery reads the file (line ends); writes still go to its end.
      const fh = await open(join(this.dir, `${kind}.ndjson`), 'a+');
      const st = await fh.stat();
      f = { fh, dev: st.dev, ino: st.ino, size: st.size };
      if (!this.recovered.has(kind)) {
        // Marked recovered only once done: a failed recovery is tried again with the batch's retry.
        await this.recover(kind, f).catch(async (err: unknown) => {
          await fh.close();
          throw err;
        });
        this.recovered.add(kind);
      }
      this.files.set(kind, f);
    } else this.resync(kind, f, (await f.fh.stat()).size);
    await this.markBeforeWrite(kind, f, movedAway);
    const buf = Buffer.from(text);
    await f.fh.write(buf);
    f.size += buf.length;
    if (this.cfg.fsync) await f.fh.datasync();
    return f;
  }

  /** Whether the path still names the open file (same device and inode). */
  private async atPath(kind: Kind, f: OpenFile): Promise<boolean> {
    try {
      const st = await stat(join(this.dir, `${kind}.ndjson`));
      return st.ino === f.ino && st.dev === f.dev;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  /** Follow the file's real size: shorter than written means someone truncated it (logrotate copytruncate). */
  private resync(kind: Kind, f: OpenFile, real: number): void {
    if (real < f.size) this.log.warn({ file: `${kind}.ndjson`, size: real, expected: f.size }, 'file sink: file truncated by someone else (copytruncate?); writing on from its new end');
    f.size = real;
  }

  /**
   * Before writing to a file the committed mark does not describe (none yet,
   * another inode, or longer than the file), commit a mark at the file's
   * current size: a crash before the next commit then cuts exactly this
   * sink's lines, and never lines that were there before it.
   */
  private async markBeforeWrite(kind: Kind, f: OpenFile, movedAway?: number): Promise<void> {
    const old = this.marks[kind];
    if (!this.spool || (old && old.ino === f.ino && old.size <= f.size)) return;
    // A file not ending in a newline (a torn line of someone else's) would swallow our first line.
    if (!(await endsLine(f.fh, f.size))) {
      await f.fh.write('\n');
      f.size += 1;
    }
    // The moved-away file may hold output past its mark (not committed yet): recovery must still find it.
    const rotated = [...(old?.rotated ?? []), ...(old && movedAway !== undefined && old.ino === movedAway ? [{ ino: old.ino, size: old.size }] : [])];
    const mark: FileMark = { ino: f.ino, size: f.size, ...(rotated.length ? { rotated } : {}) };
    const marks = { ...this.marks, [kind]: mark };
    this.spool.transaction(() => this.spool!.state.set(MARKS_NS, this.name, marks));
    this.marks = marks;
  }

  /**
   * Take back output written after the last commit (before a crash): the
   * runner sends those records again. The mark names the file by inode: the
   * current file is cut to the mark; a file rotated away since (by a commit
   * that did not complete, or by logrotate) is found by inode and cut. A file
   * the mark does not name was never written by this sink and is left alone.
   */
  private async recover(kind: Kind, f: OpenFile): Promise<void> {
    const mark = this.marks[kind];
    if (!mark) return;
    const others = [...(mark.rotated ?? []), ...(mark.ino !== f.ino && mark.ino !== 0 ? [mark] : [])];
    if (others.length) {
      for (const n of readdirSync(this.dir).filter((n) => rotatedName(kind, n))) {
        const ino = statSync(join(this.dir, n), { throwIfNoEntry: false })?.ino;
        const m = others.find((o) => o.ino === ino);
        if (!m) continue;
        const fh = await open(join(this.dir, n), 'r+');
        await this.cutBack(fh, n, (await fh.stat()).size, m.size);
        await fh.close();
      }
    }
    // Only the file the mark names is ours to cut. ino 0 (the last commit rotated the file) names none: the
    // sink commits a mark naming a file before its first write to it, so a file found at the path under an
    // ino-0 mark was never written by this sink (moved in by someone, or at a path changed since) and keeps its lines.
    if (mark.ino === f.ino) f.size = await this.cutBack(f.fh, `${kind}.ndjson`, f.size, mark.size);
  }

  /**
   * Cut a file back to its mark, never inside a line; returns its new size.
   * A file shorter than its mark, or whose mark falls inside a line, was
   * truncated by someone else after the commit: which of its lines came
   * after the commit is unknowable, so every complete line stays (a record
   * sent again may appear twice, none is lost) and only a torn last line goes.
   */
  private async cutBack(fh: FileHandle, name: string, size: number, markSize: number): Promise<number> {
    let to = markSize;
    if (markSize > size || !(await endsLine(fh, markSize))) {
      to = await lastLineEnd(fh, size);
      this.log.warn({ file: name, size, mark: markSize }, 'file sink: file changed by someone else since the last commit (truncated?); its complete lines are kept');
    }
    if (to < size) {
      await fh.truncate(to);
      this.log.warn({ file: name, bytes: size - to }, 'file sink: output past the last commit cut off (its records are written again)');
    }
    return to;
  }

  /** Rename the current file aside (`<kind>-<time>.ndjson`) and keep at most `max_files` of them. */
  private rotate(kind: Kind): void {
    const own = (n: string) => n.startsWith(`${kind}-`) && n.endsWith('.ndjson');
    // Stamps only go forward: after the clock is set back (NTP correcting a clock that ran ahead) a new stamp
    // sorted before the files rotated meanwhile, so max_files deleted each newly rotated file at the next rotation
    // and kept the stale ones; and a stamp equal to an existing one (the same millisecond) replaced that file.
    let latest = -Infinity;
    for (const n of readdirSync(this.dir).filter(own)) latest = Math.max(latest, stampTime(n.slice(kind.length + 1, -'.ndjson'.length)) ?? -Infinity);
    const time = Math.max(Date.now(), latest + 1);
    const stamp = new Date(time).toISOString().replace(/[:.]/g, '-');
    renameSync(join(this.dir, `${kind}.ndjson`), join(this.dir, `${kind}-${stamp}.ndjson`));
    if (this.cfg.max_files > 0) {
      const rotated = readdirSync(this.dir).filter(own).sort();
      for (const n of rotated.slice(0, Math.max(0, rotated.length - this.cfg.max_files))) unlinkSync(join(this.dir, n));
    }
  }

  /**
   * Inside the cursor's commit: remember how far each file goes, and rotate a
   * file past max_file_bytes here (its mark then says a new file begins).
   */
  checkpoint(): void {
    if (!this.spool || this.files.size === 0) return;
    const marks = { ...this.marks };
    for (const [kind, f] of this.files) {
      this.resync(kind, f, Math.min(f.size, fstatSync(f.fh.fd).size));
      // A file someone else moved away is not renamed again: the next write notices the move.
      if (f.size >= this.cfg.max_file_bytes && this.atPathSync(kind, f)) {
        // Renaming an open file is safe (its handle follows it); it is closed once the commit is done.
        this.rotate(kind);
        this.files.delete(kind);
        this.closing.push(f.fh.close().catch(() => {}));
        marks[kind] = { ino: 0, size: 0 };
      } else marks[kind] = { ino: f.ino, size: f.size };
    }
    this.spool.state.set(MARKS_NS, this.name, marks);
    this.marks = marks;
  }

  private atPathSync(kind: Kind, f: OpenFile): boolean {
    try {
      const st = statSync(join(this.dir, `${kind}.ndjson`));
      return st.ino === f.ino && st.dev === f.dev;
    } catch {
      return false;
    }
  }

  health(): SinkHealth {
    return this.lastError ? { state: 'unhealthy', reason: this.lastError } : { state: 'healthy' };
  }

  async close(): Promise<void> {
    await this.tail;
    await Promise.all(this.closing);
    for (const f of this.files.values()) await f.fh.close();
    this.files.clear();
  }
}

/** The time (epoch ms) of a rotation stamp (`2026-11-27T01-28-05-169Z`), or undefined when it is not one. */
function stampTime(stamp: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z$/.exec(stamp);
  if (!m) return undefined;
  const t = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`);
  return Number.isNaN(t) ? undefined : t;
}

/** Whether `pos` is at the start of a line (0, or just after a newline). */
async function endsLine(fh: FileHandle, pos: number): Promise<boolean> {
  if (pos === 0) return true;
  const b = Buffer.alloc(1);
  const { bytesRead } = await fh.read(b, 0, 1, pos - 1);
  return bytesRead === 1 && b[0] === 0x0a;
}

/** The offset just past the last newline before `end` (0 if none): where a torn last line begins. */
async function lastLineEnd(fh: FileHandle, end: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024);
  for (let hi = end; hi > 0; ) {
    const lo = Math.max(0, hi - chunk.length);
    const { bytesRead } = await fh.read(chunk, 0, hi - lo, lo);
    const i = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (i >= 0) return lo + i + 1;
    hi = lo;
  }
  return 0;
}

/**
 * The file sink factory.
 *
 * @example
 * sinks:
 *   file: { path: ./data/out, format: ecs }
 */
export const fileSinkFactory: SinkFactory<FileSinkConfig> = {
  type: 'file',
  description: 'Rotating NDJSON files (embedded default)',
  configSchema: FileSinkConfig,
  create: (cfg, ctx) => new FileSink(ctx.name, cfg, ctx),
};
