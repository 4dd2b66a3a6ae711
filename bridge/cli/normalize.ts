import { createWriteStream, mkdtempSync, openSync, rmSync, type WriteStream } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from '../../core/connector.js';
import { MltrailError } from '../../core/errors.js';
import { FORMATS, formatter } from '../../core/formats/index.js';
import { printable, streamRecords } from '../../core/input/read.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { loadConfig, type Config } from '../config.js';
import { PLATFORM_CHOICES, normalizeStream } from '../normalize.js';
import { EventSorter, Replayer } from '../replay.js';
import { common, parse } from './args.js';

export const normalizeUsage = `mltrail normalize [--platform ${PLATFORM_CHOICES.join('|')}] [--format ${FORMATS.join('|')}] [--config FILE] [FILE|DIR|-]...

Read native records (JSON, JSON array, NDJSON, .gz; any envelope a connector
accepts) and print one normalized event per line, as the input is read (NDJSON
line by line, also from stdin). A DIR stands for the files under it, sorted,
hidden ones left out. Rejected records are reported on stderr as FILE:N:
reason and the rest still print.
Exit 0 all ok, 1 some rejected, 2 unusable input or arguments.`;

export const replayUsage = `mltrail replay [--config FILE] [--platform P] [--alerts FILE] [--events FILE] FILE|DIR|-...

Run files through the whole pipeline (normalize, dedup, rules) in event-time
order, rules evaluated on event time, and write alerts as NDJSON (default
stdout). --events also writes the normalized events. - reads standard input.
Exit 0 all ok, 1 some rejected, 2 unusable input or arguments.`;

function checkPlatform(p: string): string {
  if (!(PLATFORM_CHOICES as readonly string[]).includes(p)) {
    throw new MltrailError('USAGE', `unknown --platform "${p}" (expected one of ${PLATFORM_CHOICES.join(', ')})`);
  }
  return p;
}

interface ReadAll {
  rejected: number;
  unusable: boolean;
  /** What the live filter left out, by `<connector>: <reason>` (replay). */
  filtered: Record<string, number>;
}

/**
 * The files named: a directory stands for the files under it, recursively, in
 * a stable order (sorted by path, byte-wise), hidden files and directories
 * left out, so `mltrail replay AWSLogs/` reads a month of a trail in one
 * argument. A directory with no files is unusable input.
 */
async function expandInputs(args: string[], io: CliIo): Promise<{ files: string[]; unusable: boolean }> {
  const files: string[] = [];
  let unusable = false;
  const walk = async (dir: string, seen: Set<string>): Promise<void> => {
    // A link back up the tree would loop forever: each directory is read once.
    const real = await realpath(dir);
    if (seen.has(real)) return;
    seen.add(real);
    const names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort(byteOrder);
    for (const name of names) {
      const path = join(dir, name);
      const st = await stat(path).catch(() => undefined); // a dangling link is not a file
      if (st?.isDirectory()) await walk(path, seen);
      else if (st?.isFile()) files.push(path);
    }
  };
  for (const arg of args) {
    const st = arg === '-' ? undefined : await stat(arg).catch(() => undefined);
    if (!st?.isDirectory()) {
      files.push(arg); // a file, stdin, or a path that fails when it is opened (and says why)
      continue;
    }
    const before = files.length;
    try {
      await walk(arg, new Set());
    } catch (err) {
      io.stderr.write(`${printable(arg)}: cannot read: ${printable((err as Error).message)}\n`);
      unusable = true;
      continue;
    }
    if (files.length === before) {
      io.stderr.write(`${printable(arg)}: cannot read: a directory with no files in it\n`);
      unusable = true;
    }
  }
  return { files, unusable };
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A file as a stream of bytes, opened first so that a missing or unreadable file is named at once. */
async function openInput(file: string, io: CliIo): Promise<{ bytes: AsyncIterable<Buffer | string>; size?: number }> {
  if (file === '-') return { bytes: io.stdin as AsyncIterable<Buffer | string> };
  const fh = await open(file, 'r');
  const st = await fh.stat().catch(() => undefined);
  return { bytes: fh.createReadStream(), size: st?.size };
}

async function readAll(
  files: string[], platform: string, cfg: Config, io: CliIo, onEvents: (events: NormalizedEvent[]) => void | Promise<void>, liveFilter = false,
): Promise<ReadAll> {
  const expanded = await expandInputs(files, io);
  const out: ReadAll = { rejected: 0, unusable: expanded.unusable, filtered: {} };
  files = expanded.files;
  const tty = (io.stderr as NodeJS.WriteStream).isTTY === true;
  const progress = tty && files.length > 1;
  const bar = (done: number, total: number, what: string) =>
    io.stderr.write(`\r[${'#'.repeat(Math.round((Math.min(done, total) / total) * 30)).padEnd(30)}] ${what}`);
  // A message clears a progress bar drawn on the line first.
  let barShown = false;
  const report = (line: string) => {
    io.stderr.write(`${barShown ? '\r\x1b[K' : ''}${printable(line)}\n`);
    barShown = false;
  };
  for (const [i, file] of files.entries()) {
    const name = file === '-' ? '<stdin>' : file;
    let input: Awaited<ReturnType<typeof openInput>>;
    try {
      input = await openInput(file, io);
    } catch (err) {
      io.stderr.write(`${printable(file)}: cannot read: ${printable((err as Error).message)}\n`);
      out.unusable = true;
      continue;
    }
    const mtime = file === '-' ? undefined : await stat(file).then((s) => s.mtime.toISOString(), () => undefined);
    const realPath = file === '-' ? undefined : await realpath(file).catch(() => undefined);
    // Bytes read from the file (before gunzip) against its size: the progress of a large file, on a terminal only.
    let read = 0;
    const bytes = input.size !== undefined && tty ? counted(input.bytes, (n) => (read += n)) : input.bytes;
    let lastBar = Date.now();
    const onProgress =
      input.size && tty
        ? () => {
            if (Date.now() - lastBar < 200) return;
            lastBar = Date.now();
            bar(read, input.size!, `${mib(read)}/${mib(input.size!)} of ${printable(file)}`);
            barShown = true;
          }
        : undefined;
    // The event loop gets a turn at each read and every 1000 records, so Ctrl-C / SIGTERM are handled during a long input.
    const r = await normalizeStream(streamRecords(bytes), name, platform, cfg, { onEvents, report, onProgress, fileMtime: mtime, realPath, live: file === '-', liveFilter });
    if (barShown) {
      // The file's bar, finished, stays on its line.
      bar(input.size!, input.size!, `${mib(input.size!)}/${mib(input.size!)} of ${printable(file)}`);
      io.stderr.write('\n');
    }
    barShown = false;
    out.rejected += r.rejected ?? 0;
    for (const [k, n] of Object.entries(r.filtered ?? {})) out.filtered[k] = (out.filtered[k] ?? 0) + n;
    out.unusable ||= r.unreadable === true;
    if (progress) {
      bar(i + 1, files.length, `${i + 1}/${files.length} files`);
      barShown = true;
    }
  }
  if (progress) io.stderr.write('\n');
  return out;
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;

async function* counted(src: AsyncIterable<Buffer | string>, add: (n: number) => void): AsyncGenerator<Buffer | string> {
  for await (const c of src) {
    add(c.length);
    yield c;
  }
}

function exitCode(r: ReadAll): number {
  return r.unusable ? 2 : r.rejected > 0 ? 1 : 0;
}

export async function normalizeCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, { ...common, platform: { type: 'string', default: 'auto' }, format: { type: 'string', default: 'core' } });
  if (values.help) return (io.stdout.write(`${normalizeUsage}\n`), 0);
  const platform = checkPlatform(values.platform!);
  const fmt = formatter(values.format!);
  const cfg = loadConfig({ file: values.config, env: io.env });
  const files = positionals.length ? positionals : ['-'];
  const r = await readAll(files, platform, cfg, io, (events) => {
    for (const ev of events) io.stdout.write(`${JSON.stringify(fmt.event(ev))}\n`);
    // Printing waits for a slow reader of standard output instead of buffering what it has not taken.
    return drained(io.stdout);
  });
  return exitCode(r);
}

export async function replayCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    ...common,
    platform: { type: 'string', default: 'auto' },
    alerts: { type: 'string' },
    events: { type: 'string' },
  });
  if (values.help) return (io.stdout.write(`${replayUsage}\n`), 0);
  if (positionals.length === 0) throw new MltrailError('USAGE', 'replay needs at least one FILE (or - for stdin)');
  const platform = checkPlatform(values.platform!);
  const cfg = loadConfig({ file: values.config, env: io.env });
  // Outputs are opened first: a path that cannot be written is a usage error before any work is done.
  const alertsOut = values.alerts ? openOutput('--alerts', values.alerts) : io.stdout;
  const evOut = values.events ? openOutput('--events', values.events) : undefined;
  // Events are ordered on disk and the spool is pruned as rules evaluate it: memory stays flat however much is replayed.
  let tmp: string;
  try {
    tmp = workDir();
  } catch (err) {
    // Nothing will be written: close the outputs already opened.
    if (alertsOut !== io.stdout) (alertsOut as WriteStream).destroy();
    evOut?.destroy();
    throw err;
  }
  // Removed however the run ends: also by process.exit (standard output failing) and by Ctrl-C / SIGTERM.
  const removeTmp = () => rmSync(tmp, { recursive: true, force: true });
  // A signal is only dispatched when the event loop gets a turn: every phase below yields one (a macrotask)
  // at bounded intervals, and the handler stays installed until the summary is written, so an interrupted
  // run exits 130/143 without a summary and without its temporary directory, whichever phase it was in.
  const onSignal = (signal: NodeJS.Signals) => {
    removeTmp();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', removeTmp);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await replayRun(positionals, platform, cfg, io, tmp, alertsOut, evOut);
  } finally {
    removeTmp();
    process.off('exit', removeTmp);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The run's throwaway directory in the system's temp dir; one that cannot be made is named in one line (exit 2). */
function workDir(): string {
  const parent = tmpdir();
  try {
    return mkdtempSync(join(parent, 'mltrail-replay-'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // os.tmpdir() reads TMPDIR: name it, it is what the user can change. CONFIG: one line, exit 2.
    const from = process.env.TMPDIR ? 'TMPDIR' : 'the system temp dir';
    throw new MltrailError('CONFIG', `replay cannot create its working directory in ${parent} (${from}): ${e.code ?? e.message}; set TMPDIR to a writable directory with room for the sorted events`);
  }
}

/** Events per sorted chunk the replay pushes, with a turn of the event loop between two (bounds the Ctrl-C delay). */
const REPLAY_CHUNK = 1000;

/** Gives the event loop a turn: pending signals, I/O and timers run (awaiting a resolved promise would not). */
const turn = () => new Promise<void>((r) => setImmediate(r));

async function replayRun(
  files: string[],
  platform: string,
  cfg: Config,
  io: CliIo,
  tmp: string,
  alertsOut: NodeJS.WritableStream,
  evOut: WriteStream | undefined,
): Promise<number> {
  let alerts = 0;
  let r: ReadAll;
  let replayer: Replayer | undefined;
  const sorter = new EventSorter(tmp);
  try {
    // What serve's routes would have left out (the Kubeflow audit route's namespace filter) is left out here too.
    r = await readAll(files, platform, cfg, io, (events) => sorter.add(events), true);
    replayer = new Replayer(cfg, {
      dir: join(tmp, 'spool'),
      onAlerts: (raised) => {
        for (const a of raised) alertsOut.write(`${JSON.stringify(a)}\n`);
        alerts += raised.length;
      },
      onEvent: evOut ? (item) => evOut.write(`${item.body}\n`) : undefined,
    });
    for (const chunk of sorter.chunks(REPLAY_CHUNK)) {
      replayer.push(chunk);
      // Let the output streams drain between chunks (their buffers would otherwise hold everything written).
      await Promise.all([drained(alertsOut), evOut && drained(evOut), turn()]);
      checkOutput(alertsOut);
      if (evOut) checkOutput(evOut);
    }
  } finally {
    replayer?.finish();
    sorter.close();
  }
  if (evOut) await closeOutput(evOut);
  if (alertsOut !== io.stdout) await closeOutput(alertsOut as WriteStream);
  // The summary counts what was written: wait until standard output took it (a failure there exits 2 first).
  await new Promise<void>((res) => {
    io.stdout.write('', () => res());
  });
  // A signal that came during the last (synchronous) steps is handled here, before a summary could claim success.
  // Two turns: resumed from an I/O callback (a file output's close), the first runs in the same loop iteration,
  // before the loop polls again; the second comes after a poll, which is where a pending signal is read.
  await turn();
  await turn();
  const filtered = Object.entries(r.filtered);
  if (filtered.length) {
    const total = filtered.reduce((s, [, n]) => s + n, 0);
    io.stderr.write(`replay: ${total} audit items left out as serve leaves them out (${filtered.map(([why, n]) => `${why}: ${n}`).join(', ')})\n`);
  }
  io.stderr.write(`replay: ${replayer.accepted} events (${replayer.duplicates} duplicates), ${alerts} alerts\n`);
  return exitCode(r);
}

/** A file to write NDJSON to, opened now so a path that cannot be written is named at once (exit 2). */
function openOutput(flag: string, path: string): WriteStream {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new MltrailError('USAGE', `${flag} ${path}: cannot write: ${e.code ?? e.message}`);
  }
  const out = Object.assign(createWriteStream(path, { fd }), { label: path });
  // A later write error (disk full) is reported after the chunk being written, or when the stream is closed.
  out.on('error', (err) => ((out as WriteStream & { failed?: Error }).failed = err));
  return out;
}

async function closeOutput(out: WriteStream): Promise<void> {
  checkOutput(out);
  // end's callback gets the write error, if any (it runs before the 'error' event).
  await new Promise<void>((res) =>
    out.end((err?: Error | null) => {
      if (err) (out as WriteStream & { failed?: Error }).failed ??= err;
      res();
    }),
  );
  checkOutput(out);
}

/** Throws (exit 2) once an output file failed: what it holds is incomplete. */
function checkOutput(out: NodeJS.WritableStream): void {
  const failed = (out as NodeJS.WritableStream & { failed?: Error }).failed;
  if (failed) throw new MltrailError('OUTPUT', `${(out as NodeJS.WritableStream & { label?: string }).label ?? 'output'}: writing failed: ${failed.message}`);
}

/** Resolves once a writable stream has room again (at once when it has). */
function drained(out: NodeJS.WritableStream): Promise<void> {
  const w = out as NodeJS.WritableStream & { writableNeedDrain?: boolean; failed?: Error };
  // A stream that failed never drains: resolve on its error too (the caller checks it).
  if (!w.writableNeedDrain || w.failed) return Promise.resolve();
  // Whichever comes first removes the other listener: a wait per chunk must not pile listeners up on the stream.
  return new Promise((r) => {
    const done = () => {
      w.off('drain', done);
      w.off('error', done);
      r();
    };
    w.once('drain', done);
    w.once('error', done);
  });
}
