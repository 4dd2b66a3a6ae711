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

/**
 * Convert a platform timestamp to RFC 3339 (UTC, milliseconds).
 * Accepts ISO strings, epoch seconds or milliseconds (number or numeric string).
 * Returns undefined when it cannot tell.
 */
export function toRfc3339(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let d: Date;
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value))) {
    const n = Number(value);
    // Heuristic: < 1e11 is seconds (year 5138 in ms), else milliseconds; > 1e14 microseconds.
    const ms = n > 1e14 ? n / 1000 : n < 1e11 ? n * 1000 : n;
    d = new Date(ms);
  } else if (typeof value === 'string') {
    d = new Date(value);
  } else if (value instanceof Date) {
    d = value;
  } else {
    return undefined;
  }
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
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
