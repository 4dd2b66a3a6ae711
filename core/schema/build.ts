import { SCHEMA_VERSION, type NormalizedEvent, type NormalizedEventInput } from './event.js';

/** Fields a connector supplies; the rest (schema_version, received_time) are filled in. */
export type EventDraft = Omit<NormalizedEventInput, 'schema_version' | 'received_time'> & { received_time?: string };

/**
 * Fill the common fields of a normalized event. Validation happens once, at
 * ingest (core/ingest), not here.
 *
 * @example
 * makeEvent({ id, time, platform: 'mlflow', channel: 'mlflow.webhook', stage: 'registry',
 *   action: 'model_version.create', operation: 'model_version.created', outcome: 'success' }, { raw })
 */
export function makeEvent(draft: EventDraft, opts: { raw?: unknown; keepRaw?: boolean; receivedTime?: string } = {}): NormalizedEvent {
  const ev = {
    schema_version: SCHEMA_VERSION,
    received_time: draft.received_time ?? opts.receivedTime ?? new Date().toISOString(),
    ...draft,
  } as NormalizedEvent;
  if (opts.keepRaw !== false && opts.raw !== undefined) ev.raw = opts.raw;
  return pruneUndefined(ev);
}

/**
 * Drop undefined values and empty objects so events stay compact and
 * JSON-identical across runs. Works in place on the fresh draft (no copy: this
 * runs once per event on the hot path); `raw` is left untouched.
 */
export function pruneUndefined<T>(value: T): T {
  if (value !== null && typeof value === 'object') pruneInPlace(value as Record<string, unknown>, true);
  return value;
}

/** Returns true when the object is left empty. */
function pruneInPlace(obj: Record<string, unknown> | unknown[], top = false): boolean {
  if (Array.isArray(obj)) {
    for (const v of obj) if (v !== null && typeof v === 'object') pruneInPlace(v as Record<string, unknown>);
    return false;
  }
  let empty = true;
  for (const k in obj) {
    const v = obj[k];
    if (v === undefined) {
      delete obj[k];
      continue;
    }
    if (v !== null && typeof v === 'object' && !(top && k === 'raw')) {
      if (pruneInPlace(v as Record<string, unknown>) && !Array.isArray(v)) {
        delete obj[k];
        continue;
      }
    }
    empty = false;
  }
  return empty;
}

/** RFC 3339 date-time; the offset may be left out (read as UTC, never as the machine's zone). */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$/;
const LAST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** `toISOString()` of an instant RFC 3339 can write (years 1970–9999), else undefined. */
function isoOf(ms: number): string | undefined {
  return Number.isFinite(ms) && ms >= 0 && ms <= LAST_MS ? new Date(ms).toISOString() : undefined;
}

/**
 * Convert a platform timestamp to RFC 3339 (UTC, milliseconds).
 * Accepts RFC 3339 strings (an offset converted to UTC; none means UTC) and
 * epoch seconds, milliseconds or microseconds (number or numeric string).
 * Returns undefined for anything else, including dates the calendar does not
 * have (`2024-02-30`, `24:00`) and 0 or negative epochs (an unset field, not
 * 1970): the caller rejects the record naming its field, rather than
 * another date standing in for it.
 *
 * @example
 * toRfc3339('2024-05-01T14:00:00+02:00') // '2024-05-01T12:00:00.000Z'
 * toRfc3339(1714564800) // '2024-05-01T12:00:00.000Z'
 * toRfc3339('2024-02-30T10:00:00Z') // undefined
 */
export function toRfc3339(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (value instanceof Date) return isoOf(value.getTime());
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value))) {
    const n = Number(value);
    if (!(n > 0)) return undefined;
    // Heuristic: < 1e11 is seconds (year 5138 in ms), else milliseconds; > 1e14 microseconds.
    return isoOf(n > 1e14 ? n / 1000 : n < 1e11 ? n * 1000 : n);
  }
  if (typeof value !== 'string') return undefined;
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac, zone] = m as unknown as [string, string, string, string, string, string, string, string | undefined, string | undefined];
  const month = Number(mo);
  if (month < 1 || month > 12 || Number(d) < 1 || Number(d) > new Date(Date.UTC(Number(y), month, 0)).getUTCDate() || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return undefined;
  return isoOf(Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${sec}${frac ? frac.slice(0, 4) : ''}${zone && zone !== 'z' ? zone : 'Z'}`));
}

/**
 * The spool's JSON text of an event, with `raw` as its last member, and the
 * byte offset where that member begins (`rawAt`): a reader that has no use
 * for the native record (the rules, a CIM sink) decodes and parses only
 * `body[0, rawAt) + "}"` — about half the bytes. Same JSON as
 * `JSON.stringify(ev)` up to the position of `raw`.
 *
 * @example
 * const { body, rawAt } = serializeEvent(ev);
 * spool.append([{ kind: 'event', id: ev.id, body, rawAt }]);
 */
export function serializeEvent(ev: NormalizedEvent): { body: string; rawAt?: number } {
  if (ev.raw === undefined) return { body: JSON.stringify(ev) };
  const { raw, ...rest } = ev;
  const lean = JSON.stringify(rest);
  const rawJson = JSON.stringify(raw) as string | undefined;
  if (rawJson === undefined || lean.length < 3) return { body: JSON.stringify(ev) };
  return { body: `${lean.slice(0, -1)},"raw":${rawJson}}`, rawAt: Buffer.byteLength(lean) - 1 };
}
