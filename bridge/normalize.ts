import { connectorByName, connectorPlugins } from '../connectors/index.js';
import type { ConnectorPlugin, NormalizeContext } from '../core/connector.js';
import { inputRecords, type RecordList } from '../core/input/read.js';
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
 * records) instead of collected in `events`, so an input of any size is
 * normalized in bounded memory.
 *
 * @example
 * const r = normalizeInput(buf, 'trail.json.gz', 'auto', cfg);
 */
export function normalizeInput(...args: NormalizeArgs): NormalizedFile {
  const steps = normalizeSteps(...args);
  for (;;) {
    const s = steps.next();
    if (s.done) return s.value;
  }
}

/**
 * `normalizeInput` that gives the event loop a turn (a macrotask, not just a
 * microtask) after every hand-off of 1000 records: a long input then leaves
 * room for signals (Ctrl-C, SIGTERM), timers and I/O while it is normalized.
 *
 * @example
 * const r = await normalizeInputAsync(buf, 'trail.ndjson', 'auto', cfg, undefined, undefined, (evs) => sorter.add(evs));
 */
export async function normalizeInputAsync(...args: NormalizeArgs): Promise<NormalizedFile> {
  const steps = normalizeSteps(...args);
  for (;;) {
    const s = steps.next();
    if (s.done) return s.value;
    await new Promise<void>((r) => setImmediate(r));
  }
}

type NormalizeArgs = [
  data: Buffer,
  name: string,
  platform: string,
  cfg: Pick<Config, 'connectors' | 'spool'>,
  receivedTime?: string,
  onProgress?: (done: number, total: number) => void,
  onEvents?: (events: NormalizedEvent[]) => void,
  /** The file's modification time: the event time of a record that carries none (a Model Monitor result). */
  fileMtime?: string,
  /** The file's resolved path (symlinks followed): what identifies a file whatever name it was given by. */
  realPath?: string,
];

/** The normalization, paused (yield) after each hand-off of `HAND_OFF_RECORDS` records. */
function* normalizeSteps(
  data: Buffer,
  name: string,
  platform: string,
  cfg: Pick<Config, 'connectors' | 'spool'>,
  receivedTime = new Date().toISOString(),
  onProgress?: (done: number, total: number) => void,
  onEvents?: (events: NormalizedEvent[]) => void,
  fileMtime?: string,
  realPath?: string,
): Generator<void, NormalizedFile> {
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
  for (const r of records) {
    out.records++;
    if (out.records % HAND_OFF_RECORDS === 0) {
      handOff();
      yield;
    }
    if (onProgress && out.records % 5000 === 0) onProgress(out.records, records.length);
    if ('error' in r) {
      out.errors.push(`${name}:${r.n}: ${r.error}`);
      continue;
    }
    const plugin = pickConnector(platform, r.record);
    if (!plugin?.normalize) {
      out.errors.push(
        platform === 'auto'
          ? `${name}:${r.n}: cannot tell the platform from the record's shape (use --platform)`
          : `${name}:${r.n}: the ${platform} connector cannot normalize files yet`,
      );
      continue;
    }
    const ctx: NormalizeContext = {
      channel: 'file',
      receivedTime,
      keepRaw: cfg.spool.keep_raw,
      config: (cfg.connectors as Record<string, unknown>)[plugin.name] ?? plugin.configSchema.parse({}),
      meta: { file: name, record: r.n, ...(fileMtime ? { file_mtime: fileMtime } : {}), ...(realPath ? { file_realpath: realPath } : {}) },
    };
    let res;
    try {
      res = plugin.normalize(r.record, ctx);
    } catch (err) {
      out.errors.push(`${name}:${r.n}: ${plugin.name}: ${(err as Error).message}`);
      continue;
    }
    for (const rej of res.rejected) {
      const where = [rej.path, rej.field ? `field ${rej.field}` : undefined].filter(Boolean).join(': ');
      out.errors.push(`${name}:${r.n}: ${where ? `${where}: ` : ''}${rej.reason}`);
    }
    for (const s of res.skipped) out.skipped.push(`${name}:${r.n}: skipped${s.path ? ` ${s.path}` : ''}: ${s.reason}`);
    for (const ev of res.events) {
      const v = checkEvent(ev);
      if (v.success) (out.events.push(v.data), out.emitted++);
      else out.errors.push(`${name}:${r.n}: ${plugin.name} produced an invalid event: ${describeZodError(v.error)}`);
    }
  }
  handOff();
  return out;
}
