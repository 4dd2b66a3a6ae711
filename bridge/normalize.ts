import { connectorByName, connectorPlugins } from '../connectors/index.js';
import type { ConnectorPlugin, NormalizeContext } from '../core/connector.js';
import { inputRecords, type InputRecord, type RecordList } from '../core/input/read.js';
import { checkEvent, describeZodError, type NormalizedEvent } from '../core/schema/index.js';
import type { Config } from './config.js';

export interface NormalizedFile {
  events: NormalizedEvent[];
  /** `FILE:N: reason` lines. */
  errors: string[];
  /** `FILE:N: skipped: reason` lines (digest files, test events…). */
  skipped: string[];
  records: number;
  /** Events produced (also those handed to `onEvents` instead of kept in `events`). */
  emitted: number;
  /** True when the input could not be read at all (corrupt gzip, undecodable bytes): unusable input. */
  unreadable?: boolean;
  /** Records rejected (the `errors` lines, also those handed to a report callback instead). */
  rejected?: number;
  /** Records skipped (likewise). */
  skippedCount?: number;
  /** Items the live filter left out (`StreamOptions.liveFilter`), by `<connector>: <reason>`. */
  filtered?: Record<string, number>;
}

export const PLATFORM_CHOICES = ['auto', ...connectorPlugins.map((p) => p.name)] as const;

/** The connector for a record: the named one, or the first whose `detect` matches. */
export function pickConnector(platform: string, record: unknown): ConnectorPlugin<any> | undefined {
  if (platform !== 'auto') return connectorByName(platform);
  return connectorPlugins.find((p) => p.normalize && p.detect?.(record));
}

/** Records normalized between two hand-offs to `onEvents`. */
const HAND_OFF_RECORDS = 1000;

/**
 * Normalize every record of one input (a file's bytes) with the connectors.
 * A record that fails is reported as `FILE:N: reason`; the rest still come out.
 * With `onEvents`, events are handed over as they are made (every 1000
 * records) instead of collected in `events`. The input is held in memory:
 * the CLI streams its files through `normalizeStream` instead.
 *
 * @example
 * const r = normalizeInput(buf, 'trail.json.gz', 'auto', cfg);
 */
export function normalizeInput(
  data: Buffer,
  name: string,
  platform: string,
  cfg: Pick<Config, 'connectors' | 'spool'>,
  receivedTime = new Date().toISOString(),
  onProgress?: (done: number, total: number) => void,
  onEvents?: (events: NormalizedEvent[]) => void,
  /** The file's modification time: the event time of a record that carries none (a Model Monitor result). */
  fileMtime?: string,
  /** The file's resolved path (symlinks followed): what identifies a file whatever name it was given by. */
  realPath?: string,
): NormalizedFile {
  const out: NormalizedFile = { events: [], errors: [], skipped: [], records: 0, emitted: 0 };
  let records: RecordList;
  try {
    records = inputRecords(data);
  } catch (err) {
    out.errors.push(`${name}:1: cannot read: ${(err as Error).message}`);
    out.unreadable = true;
    return out;
  }
  const handOff = () => {
    if (onEvents && out.events.length) {
      const batch = out.events;
      out.events = [];
      onEvents(batch);
    }
  };
  const normalize = recordNormalizer(name, platform, cfg, () => receivedTime, out, { fileMtime, realPath });
  for (const r of records) {
    out.records++;
    if (out.records % HAND_OFF_RECORDS === 0) handOff();
    if (onProgress && out.records % 5000 === 0) onProgress(out.records, records.length);
    normalize(r);
  }
  handOff();
  return out;
}

/** Normalizes one record into `out` (events, errors, skipped); errors go to `report` instead when given. */
function recordNormalizer(
  name: string,
  platform: string,
  cfg: Pick<Config, 'connectors' | 'spool'>,
  receivedTime: () => string,
  out: NormalizedFile,
  opts: { fileMtime?: string; realPath?: string; report?: (line: string) => void; liveFilter?: boolean },
): (r: InputRecord) => void {
  const error = (line: string) => {
    out.rejected = (out.rejected ?? 0) + 1;
    if (opts.report) opts.report(line);
    else out.errors.push(line);
  };
  const skip = (line: string) => (opts.report ? opts.report(line) : out.skipped.push(line));
  return (r) => {
    if ('error' in r) {
      error(`${name}:${r.n}: ${r.error}`);
      return;
    }
    const plugin = pickConnector(platform, r.record);
    if (!plugin?.normalize) {
      error(
        platform === 'auto'
          ? `${name}:${r.n}: cannot tell the platform from the record's shape (use --platform)`
          : `${name}:${r.n}: the ${platform} connector cannot normalize files yet`,
      );
      return;
    }
    const ctx: NormalizeContext = {
      channel: 'file',
      receivedTime: receivedTime(),
      keepRaw: cfg.spool.keep_raw,
      config: (cfg.connectors as Record<string, unknown>)[plugin.name] ?? plugin.configSchema.parse({}),
      meta: { file: name, record: r.n, ...(opts.fileMtime ? { file_mtime: opts.fileMtime } : {}), ...(opts.realPath ? { file_realpath: opts.realPath } : {}) },
      ...(opts.liveFilter ? { liveFilter: true } : {}),
    };
    let res;
    try {
      res = plugin.normalize(r.record, ctx);
    } catch (err) {
      error(`${name}:${r.n}: ${plugin.name}: ${(err as Error).message}`);
      return;
    }
    for (const rej of res.rejected) {
      // Named once: not after a path that already ends at the field (`message.data`), nor before a reason that
      // starts with it (a schema check's `schema_version: …; id: …`, which names every bad field itself).
      const fieldNamed = rej.field && !(rej.path === rej.field || rej.path?.endsWith(`.${rej.field}`) || rej.reason.startsWith(`${rej.field}: `));
      const where = [rej.path, fieldNamed ? `field ${rej.field}` : undefined].filter(Boolean).join(': ');
      error(`${name}:${r.n}: ${where ? `${where}: ` : ''}${rej.reason}`);
    }
    for (const [why, n] of Object.entries(res.filtered ?? {})) {
      const k = `${plugin.name}: ${why}`;
      (out.filtered ??= {})[k] = (out.filtered[k] ?? 0) + n;
    }
    for (const s of res.skipped) {
      out.skippedCount = (out.skippedCount ?? 0) + 1;
      skip(`${name}:${r.n}: skipped${s.path ? ` ${s.path}` : ''}: ${s.reason}`);
    }
    for (const ev of res.events) {
      const v = checkEvent(ev);
      if (v.success) (out.events.push(v.data), out.emitted++);
      else error(`${name}:${r.n}: ${plugin.name} produced an invalid event: ${describeZodError(v.error)}`);
    }
  };
}

/** What `normalizeStream` is given besides the records. */
export interface StreamOptions {
  receivedTime?: string;
  /** A live stream (standard input, `tail -F`): without `receivedTime`, each batch is stamped when it arrived, not when reading began. */
  live?: boolean;
  /** Events as they are made: after each batch the input gave (so a line on standard input prints when it arrives) and every 1000 records; awaited (an output's back-pressure). */
  onEvents: (events: NormalizedEvent[]) => void | Promise<void>;
  /** `FILE:N: reason` and `FILE:N: skipped: …` lines, as they come (only counted in the result). */
  report: (line: string) => void;
  /** After each batch: how many records so far. */
  onProgress?: (records: number) => void;
  fileMtime?: string;
  realPath?: string;
  /** Leave out what the connectors' live routes leave out (replay: what serve would not have kept); counted in `filtered`. */
  liveFilter?: boolean;
}

/**
 * `normalizeInput` for a stream of record batches (`streamRecords` of a
 * file or standard input): events, rejections and skips are handed over as
 * they come, nothing is kept, so memory does not grow with the input. The
 * event loop gets a turn (a macrotask) every 1000 records, for signals.
 * An input with nothing usable in it (not JSON at all, unreadable) is
 * `unreadable`.
 *
 * @example
 * await normalizeStream(streamRecords(createReadStream(f)), f, 'auto', cfg, { onEvents: print, report: warn });
 */
export async function normalizeStream(
  batches: AsyncIterable<InputRecord[]>,
  name: string,
  platform: string,
  cfg: Pick<Config, 'connectors' | 'spool'>,
  opts: StreamOptions,
): Promise<NormalizedFile> {
  const out: NormalizedFile = { events: [], errors: [], skipped: [], records: 0, emitted: 0, rejected: 0, skippedCount: 0 };
  let now = opts.receivedTime ?? new Date().toISOString();
  const normalize = recordNormalizer(name, platform, cfg, () => now, out, opts);
  let parsed = 0;
  let unreadable = 0;
  const handOff = async () => {
    if (!out.events.length) return;
    const batch = out.events;
    out.events = [];
    await opts.onEvents(batch);
  };
  for await (const batch of batches) {
    if (opts.live && !opts.receivedTime) now = new Date().toISOString();
    for (const r of batch) {
      out.records++;
      if ('record' in r) parsed++;
      else if (r.unusable) unreadable++;
      normalize(r);
      if (out.records % HAND_OFF_RECORDS === 0) {
        await handOff();
        await new Promise<void>((res) => setImmediate(res));
      }
    }
    await handOff();
    opts.onProgress?.(out.records);
  }
  // Nothing in it was JSON (or it could not be read): unusable input, not rejected records.
  if (unreadable > 0 || (parsed === 0 && out.rejected! > 0 && out.emitted === 0 && !out.skippedCount)) out.unreadable = true;
  return out;
}
