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

/**
 * Canonical nanosecond RFC 3339 form of a LogEntry timestamp, whatever the
 * transport rendered (JSON string with 0–9 fraction digits, gRPC `{seconds,nanos}`,
 * Date), so the same entry pushed and backfilled gets the same id.
 *
 * @example
 * canonicalTimestamp('2021-11-25T21:56:00.2766Z') // '2021-11-25T21:56:00.276600000Z'
 */
export function canonicalTimestamp(ts: unknown): string | undefined {
  if (ts === undefined || ts === null || ts === '') return undefined;
  if (typeof ts === 'string') {
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/i.exec(ts.trim());
    if (m && m[3]!.toUpperCase() === 'Z') return `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}Z`;
    if (m) {
      const d = new Date(`${m[1]}${m[3]}`);
      if (Number.isNaN(d.getTime())) return undefined;
      return `${d.toISOString().slice(0, 19)}.${(m[2] ?? '').padEnd(9, '0')}Z`;
    }
    const d = new Date(ts);
    return Number.isNaN(d.getTime()) ? undefined : `${d.toISOString().slice(0, 23)}000000Z`;
  }
  if (ts instanceof Date) return Number.isNaN(ts.getTime()) ? undefined : `${ts.toISOString().slice(0, 23)}000000Z`;
  if (isObj(ts) && ('seconds' in ts || 'nanos' in ts)) {
    const seconds = Number(ts.seconds ?? 0);
    const nanos = Number(ts.nanos ?? 0);
    if (!Number.isFinite(seconds) || !Number.isFinite(nanos)) return undefined;
    const d = new Date(seconds * 1000);
    if (Number.isNaN(d.getTime())) return undefined;
    return `${d.toISOString().slice(0, 19)}.${String(Math.trunc(nanos)).padStart(9, '0')}Z`;
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
