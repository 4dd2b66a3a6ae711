/** A Cloud Logging LogEntry in its JSON form (google/logging/v2/log_entry.proto), loosely typed. */
export interface LogEntry {
  logName?: string;
  insertId?: string;
  timestamp?: unknown;
  receiveTimestamp?: unknown;
  severity?: string | number;
  resource?: { type?: string; labels?: Record<string, string> };
  labels?: Record<string, string>;
  operation?: { id?: string; producer?: string; first?: boolean; last?: boolean };
  protoPayload?: Record<string, unknown>;
  jsonPayload?: Record<string, unknown>;
  textPayload?: string;
  trace?: string;
  [k: string]: unknown;
}

/** Pub/Sub delivery facts kept with the event (messageId dedupes transport retries). */
export interface Transport {
  message_id?: string;
  publish_time?: string;
  subscription?: string;
  delivery_attempt?: number;
  ordering_key?: string;
  attributes?: Record<string, string>;
}

export type Json = Record<string, unknown>;

export const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

// The depth guard lives in core (every route uses it); re-exported for this connector's modules.
export { MAX_JSON_DEPTH, nestedTooDeep } from '../../core/input/depth.js';

/** True when the value has the shape of a LogEntry (a log name and a payload, id or resource). */
export function isLogEntry(v: unknown): v is LogEntry {
  if (!isObj(v) || typeof v.logName !== 'string' || !/\/logs\//.test(v.logName)) return false;
  return 'protoPayload' in v || 'jsonPayload' in v || 'textPayload' in v || 'insertId' in v || 'resource' in v;
}

/** RFC 3339 date-time, 0–9 fraction digits, offset required (without one the instant is not defined). */
const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d\d):(\d\d))$/;
/** 9999-12-31T23:59:59Z in epoch seconds: the last second RFC 3339 (and the event schema) can write. */
const LAST_SECOND = Date.UTC(9999, 11, 31, 23, 59, 59) / 1000;

const daysIn = (y: number, mo: number) => (mo === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31);

/** `YYYY-MM-DDTHH:MM:SS.<nanos9>Z` of a whole UTC second since the epoch, or undefined outside 1970–9999. */
function canonicalOf(seconds: number, nanos9: string): string | undefined {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > LAST_SECOND) return undefined;
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${nanos9}Z`;
}

/**
 * Canonical nanosecond RFC 3339 form of a LogEntry timestamp, whatever the
 * transport rendered (JSON string with 0–9 fraction digits, gRPC `{seconds,nanos}`,
 * Date), so the same entry pushed and backfilled gets the same id.
 * Undefined for anything that is not a time: a date the calendar does not have
 * (`2024-02-30`, `24:00`), no offset, a bare number, years outside 1970–9999,
 * an all-zero (unset) gRPC Timestamp. Never parsed leniently (`new Date("0")`
 * is 2000-01-01): the caller refuses the entry naming the field.
 *
 * @example
 * canonicalTimestamp('2021-11-25T21:56:00.2766Z') // '2021-11-25T21:56:00.276600000Z'
 * canonicalTimestamp('2024-02-30T10:00:00Z') // undefined
 */
export function canonicalTimestamp(ts: unknown): string | undefined {
  if (typeof ts === 'string') {
    const m = RFC3339.exec(ts.trim());
    if (!m) return undefined;
    const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]), h = Number(m[4]), mi = Number(m[5]), sec = Number(m[6]);
    // Before 1970 is not a time here (and Date.UTC would read years 0–99 as 19xx).
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || sec > 59) return undefined;
    const nanos9 = (m[7] ?? '').padEnd(9, '0');
    // The usual case (Logging writes Z): already canonical once checked, no Date round trip.
    if (m[8]) return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${nanos9}Z`;
    const oh = Number(m[10]), om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    return canonicalOf(Date.UTC(y, mo - 1, d, h, mi, sec) / 1000 - (m[9] === '-' ? -1 : 1) * (oh * 3600 + om * 60), nanos9);
  }
  if (ts instanceof Date) {
    const ms = ts.getTime();
    return Number.isFinite(ms) ? canonicalOf(Math.floor(ms / 1000), `${String(ms - Math.floor(ms / 1000) * 1000).padStart(3, '0')}000000`) : undefined;
  }
  if (isObj(ts) && ('seconds' in ts || 'nanos' in ts)) {
    const seconds = Number(ts.seconds ?? 0);
    const nanos = Number(ts.nanos ?? 0);
    if (!Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999 || (seconds === 0 && nanos === 0)) return undefined;
    return canonicalOf(seconds, String(nanos).padStart(9, '0'));
  }
  return undefined;
}

/** RFC 3339 with milliseconds (the event's `time`) from a canonical timestamp. */
export function toEventTime(canonical: string | undefined): string | undefined {
  if (!canonical) return undefined;
  const d = new Date(canonical.replace(/\.(\d{3})\d*Z$/, '.$1Z'));
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The decoded LOG_ID of a logName: `projects/p/logs/cloudaudit.googleapis.com%2Factivity` → `cloudaudit.googleapis.com/activity`. */
export function logIdOf(logName: string | undefined): string | undefined {
  if (!logName) return undefined;
  // One-entry memo: an entry asks up to three times, and consecutive entries share their log.
  if (logName === lastLogName) return lastLogId;
  const id = decodeLogId(logName);
  lastLogName = logName;
  lastLogId = id;
  return id;
}

let lastLogName: string | undefined;
let lastLogId: string | undefined;

function decodeLogId(logName: string): string | undefined {
  const i = logName.indexOf('/logs/');
  if (i < 0) return undefined;
  const id = logName.slice(i + 6);
  try {
    return decodeURIComponent(id);
  } catch {
    return id;
  }
}

/** `activity` | `data_access` | `system_event` | `policy` for Cloud Audit Logs, else undefined. */
export function auditLogKind(logName: string | undefined): string | undefined {
  const id = logIdOf(logName);
  const m = id ? /^cloudaudit\.googleapis\.com\/(.+)$/.exec(id) : null;
  return m?.[1];
}

/** The container of a logName or resource name: `{kind: 'projects', id: 'p'}`. */
export function containerOf(name: string | undefined): { kind: string; id: string } | undefined {
  const m = name ? /^(projects|organizations|folders|billingAccounts)\/([^/]+)/.exec(name) : null;
  return m ? { kind: m[1]!, id: m[2]! } : undefined;
}

/** Project id of an entry: resource label first, else the `projects/X` prefix of the log name. */
export function projectOf(entry: LogEntry): string | undefined {
  const label = entry.resource?.labels?.project_id;
  if (label) return label;
  const c = containerOf(entry.logName);
  return c?.kind === 'projects' ? c.id : undefined;
}

/** Location of the form `…/locations/L/…` in a resource name. */
export function locationOf(name: string | undefined): string | undefined {
  const m = name ? /(?:^|\/)locations\/([^/]+)/.exec(name) : null;
  return m?.[1];
}
