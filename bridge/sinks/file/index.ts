import { mkdirSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
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
  ino: number;
  size: number;
}

type Kind = 'events' | 'alerts';

/** How far a file went at the last commit: which file (inode) and its size. */
interface FileMark {
  ino: number;
  size: number;
}

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
      for (const kind of ['events', 'alerts'] as const) if (lines[kind].length) await this.write(kind, `${lines[kind].join('\n')}\n`);
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

  // Async I/O: the sink never blocks the event loop that answers senders.
  private async write(kind: Kind, text: string): Promise<void> {
    let f = this.files.get(kind);
    // With a spool, files rotate at a commit (checkpoint), so all output past the last commit is in one file.
    if (!this.spool && f && f.size >= this.cfg.max_file_bytes) {
      await f.fh.close();
      this.files.delete(kind);
      this.rotate(kind);
      f = undefined;
    }
    if (!f) {
      const fh = await open(join(this.dir, `${kind}.ndjson`), 'a');
      const st = await fh.stat();
      f = { fh, ino: st.ino, size: st.size };
      if (!this.recovered.has(kind)) {
        this.recovered.add(kind);
        await this.recover(kind, f);
      }
      this.files.set(kind, f);
    }
    const buf = Buffer.from(text);
    await f.fh.write(buf);
    f.size += buf.length;
    if (this.cfg.fsync) await f.fh.datasync();
  }

  /**
   * Take back output written after the last commit (before a crash): the
   * runner sends those records again. The mark names the file by inode: the
   * current file (cut to the mark), or one rotated by a commit that did not
   * complete (cut, and the current file, begun after it, emptied). A file an
   * operator put in place (another inode) is left alone.
   */
  private async recover(kind: Kind, f: OpenFile): Promise<void> {
    const mark = this.marks[kind];
    if (!mark) return;
    const cut = async (fh: FileHandle, name: string, from: number, to: number) => {
      await fh.truncate(to);
      this.log.warn({ file: name, bytes: from - to }, 'file sink: output past the last commit cut off (its records are written again)');
    };
    if (mark.ino === f.ino) {
      if (f.size > mark.size) await cut(f.fh, `${kind}.ndjson`, f.size, mark.size);
      f.size = Math.min(f.size, mark.size);
      return;
    }
    // ino 0: the last commit rotated the file, so everything in the current one came after it.
    let begunAfter = mark.ino === 0;
    if (!begunAfter) {
      const rotated = readdirSync(this.dir).find((n) => n.startsWith(`${kind}-`) && n.endsWith('.ndjson') && statSync(join(this.dir, n)).ino === mark.ino);
      if (rotated) {
        const fh = await open(join(this.dir, rotated), 'r+');
        const size = (await fh.stat()).size;
        if (size > mark.size) await cut(fh, rotated, size, mark.size);
        await fh.close();
        begunAfter = true;
      }
    }
    if (begunAfter && f.size > 0) {
      await cut(f.fh, `${kind}.ndjson`, f.size, 0);
      f.size = 0;
    }
  }

  /** Rename the current file aside (`<kind>-<time>.ndjson`) and keep at most `max_files` of them. */
  private rotate(kind: Kind): void {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    renameSync(join(this.dir, `${kind}.ndjson`), join(this.dir, `${kind}-${stamp}.ndjson`));
    if (this.cfg.max_files > 0) {
      const rotated = readdirSync(this.dir)
        .filter((n) => n.startsWith(`${kind}-`) && n.endsWith('.ndjson'))
        .sort();
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
      if (f.size >= this.cfg.max_file_bytes) {
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
