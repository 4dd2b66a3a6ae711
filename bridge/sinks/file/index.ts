import { mkdirSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
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
    if (f && f.size >= this.cfg.max_file_bytes) {
      await this.rotate(kind, f);
      f = undefined;
    }
    if (!f) {
      const fh = await open(join(this.dir, `${kind}.ndjson`), 'a');
      const st = await fh.stat();
      f = { fh, ino: st.ino, size: st.size };
      if (!this.recovered.has(kind)) {
        this.recovered.add(kind);
        const mark = this.marks[kind];
        if (mark && mark.ino === st.ino && st.size > mark.size) {
          // Written after the last commit, before a crash: those records are being sent again.
          await fh.truncate(mark.size);
          this.log.warn({ file: `${kind}.ndjson`, bytes: st.size - mark.size }, 'file sink: output past the last commit cut off (its records are written again)');
          f.size = mark.size;
        }
      }
      this.files.set(kind, f);
    }
    const buf = Buffer.from(text);
    await f.fh.write(buf);
    f.size += buf.length;
    if (this.cfg.fsync) await f.fh.datasync();
  }

  private async rotate(kind: Kind, f: OpenFile): Promise<void> {
    await f.fh.close();
    this.files.delete(kind);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    renameSync(join(this.dir, `${kind}.ndjson`), join(this.dir, `${kind}-${stamp}.ndjson`));
    if (this.cfg.max_files > 0) {
      const rotated = readdirSync(this.dir)
        .filter((n) => n.startsWith(`${kind}-`) && n.endsWith('.ndjson'))
        .sort();
      for (const n of rotated.slice(0, Math.max(0, rotated.length - this.cfg.max_files))) unlinkSync(join(this.dir, n));
    }
  }

  /** Inside the cursor's commit: remember how far each file goes. */
  checkpoint(): void {
    if (!this.spool || this.files.size === 0) return;
    const marks = { ...this.marks };
    for (const [kind, f] of this.files) marks[kind] = { ino: f.ino, size: f.size };
    this.spool.state.set(MARKS_NS, this.name, marks);
    this.marks = marks;
  }

  health(): SinkHealth {
    return this.lastError ? { state: 'unhealthy', reason: this.lastError } : { state: 'healthy' };
  }

  async close(): Promise<void> {
    await this.tail;
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
