import type { Rejection } from '../../core/connector.js';
import { decodeAuditLogAny, isProtoAny } from './audit-proto.js';
import { MAX_JSON_DEPTH, isLogEntry, isObj, nestedTooDeep, str, type Json, type LogEntry, type Transport } from './logentry.js';

/** One LogEntry found in an envelope, where it was and how it travelled. */
export interface Unwrapped {
  entry: LogEntry;
  path?: string;
  transport?: Transport;
}

export interface UnwrapResult {
  entries: Unwrapped[];
  rejected: Rejection[];
}

const MAX_NESTING = 4;

/** A Pub/Sub push body (wrapped) or CloudEvents MessagePublishedData: `{message:{data,…}, subscription}`. */
export function isPubsubEnvelope(v: unknown): v is { message: Json; subscription?: string; deliveryAttempt?: number } {
  return isObj(v) && isObj(v.message) && ('data' in v.message || 'messageId' in v.message || 'message_id' in v.message);
}

/** A CloudEvents structured-mode event (`specversion` + `data` / `data_base64`). */
function isCloudEvent(v: unknown): v is Json {
  return isObj(v) && typeof v.specversion === 'string' && ('data' in v || 'data_base64' in v);
}

/** `@google-cloud/logging` Entry objects serialized as JSON: `{metadata: LogEntry fields, data: payload}`. */
function isLibraryEntry(v: unknown): v is { metadata: Json; data: unknown } {
  return isObj(v) && isObj(v.metadata) && typeof v.metadata.logName === 'string' && 'data' in v;
}

/** True when `detect` should claim the record for the Vertex/Cloud Logging connector. */
export function looksLikeVertexInput(v: unknown, depth = 0): boolean {
  if (depth > MAX_NESTING) return false;
  if (isLogEntry(v) || isPubsubEnvelope(v) || isLibraryEntry(v)) return true;
  if (isCloudEvent(v)) return typeof v.type === 'string' && /^google\.cloud\.(audit|pubsub)\./.test(v.type);
  if (isObj(v) && Array.isArray(v.entries)) return v.entries.length > 0 && v.entries.every((e) => isLogEntry(e));
  return false;
}

function transportOf(env: Json, message: Json): Transport {
  const attrs = isObj(message.attributes) ? (message.attributes as Record<string, string>) : undefined;
  const attempt = Number(env.deliveryAttempt ?? env.delivery_attempt);
  return {
    message_id: str(message.messageId) ?? str(message.message_id),
    publish_time: str(message.publishTime) ?? str(message.publish_time),
    subscription: str(env.subscription),
    delivery_attempt: Number.isFinite(attempt) && attempt > 0 ? attempt : undefined,
    ordering_key: str(message.orderingKey) ?? str(message.ordering_key),
    attributes: attrs && Object.keys(attrs).length ? attrs : undefined,
  };
}

/**
 * Parse a Pub/Sub message payload (the LogEntry JSON a Logging sink publishes,
 * possibly ending in a newline) into a LogEntry, or say why not.
 */
export function parseMessageData(data: Buffer | string): { entry: LogEntry } | { error: string } {
  const text = (typeof data === 'string' ? data : data.toString('utf8')).replace(/^\uFEFF/, '').trim();
  if (!text) return { error: 'message data is empty' };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    // The parser's message would echo raw (possibly binary) bytes: name the first few in hex instead.
    const head = Buffer.from(text.slice(0, 8), 'utf8').toString('hex');
    return { error: `message data does not decode to a LogEntry: invalid JSON (first bytes 0x${head})` };
  }
  if (nestedTooDeep(v)) return { error: `message data does not decode to a LogEntry: JSON nested deeper than ${MAX_JSON_DEPTH} levels` };
  const coerced = coerceEntry(v);
  if (!coerced) return { error: 'message data is JSON but not a LogEntry (no logName)' };
  return { entry: coerced };
}

/**
 * Bring gRPC-shaped entries to the JSON form: protoPayload as `Any` decoded,
 * `{seconds,nanos}` timestamps kept (the normalizer reads both).
 */
export function coerceEntry(v: unknown): LogEntry | undefined {
  if (isLibraryEntry(v)) {
    const meta = { ...v.metadata };
    const audit = isProtoAny(v.data) || (isObj(v.data) && String(v.data['@type'] ?? '').endsWith('.AuditLog'));
    const payloadKey = audit ? 'protoPayload' : typeof v.data === 'string' ? 'textPayload' : 'jsonPayload';
    if (meta.protoPayload === undefined && meta.jsonPayload === undefined && meta.textPayload === undefined) meta[payloadKey] = v.data;
    return coerceEntry(meta);
  }
  if (!isLogEntry(v)) return undefined;
  if (isProtoAny(v.protoPayload)) return { ...v, protoPayload: decodeAuditLogAny(v.protoPayload) };
  return v;
}

/**
 * Find every LogEntry in whatever envelope a user or Google feeds us: a raw
 * LogEntry, a wrapped Pub/Sub push body (base64 `message.data`), CloudEvents
 * (MessagePublishedData or LogEntryData), an `entries.list` response, a
 * `@google-cloud/logging` Entry, or an array of any of these.
 *
 * @example
 * unwrap({ message: { data: 'eyJ…', messageId: '1' }, subscription: 'projects/p/subscriptions/s' })
 * // { entries: [{ entry: {logName…}, path: 'message.data', transport: {message_id: '1', …} }], rejected: [] }
 */
export function unwrap(record: unknown, path = '', depth = 0): UnwrapResult {
  const out: UnwrapResult = { entries: [], rejected: [] };
  const at = (p: string) => (path ? `${path}.${p}` : p);
  if (depth === 0 && nestedTooDeep(record)) {
    // Kept as an outline: the record itself cannot be serialized into quarantine (stack overflow).
    out.rejected.push({ reason: `not a LogEntry: JSON nested deeper than ${MAX_JSON_DEPTH} levels`, record: outline(record) });
    return out;
  }
  if (depth > MAX_NESTING) {
    out.rejected.push({ reason: 'envelopes nested too deeply', path: path || undefined, record });
    return out;
  }
  if (Array.isArray(record)) {
    // An empty list holds no entry to keep: rejected (quarantined), not acknowledged as if something was kept.
    if (!record.length) out.rejected.push({ reason: 'empty array: no LogEntry in it', path: path || undefined, record });
    record.forEach((r, i) => merge(out, unwrap(r, `${path}[${i}]`, depth + 1)));
    return out;
  }
  if (isPubsubEnvelope(record)) {
    const message = record.message;
    const transport = transportOf(record, message);
    const data = message.data;
    if (typeof data !== 'string') {
      out.rejected.push({ reason: 'Pub/Sub message has no data (expected base64 LogEntry JSON)', path: at('message.data'), field: 'message.data', record });
      return out;
    }
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(data.trim())) {
      out.rejected.push({ reason: 'Pub/Sub message.data is not base64', path: at('message.data'), field: 'message.data', record });
      return out;
    }
    const parsed = parseMessageData(Buffer.from(data, 'base64'));
    if ('error' in parsed) {
      out.rejected.push({ reason: `Pub/Sub ${parsed.error}`, path: at('message.data'), field: 'message.data', record });
      return out;
    }
    out.entries.push({ entry: parsed.entry, path: at('message.data'), transport });
    return out;
  }
  if (isCloudEvent(record)) {
    if (typeof record.data_base64 === 'string') {
      const parsed = parseMessageData(Buffer.from(record.data_base64, 'base64'));
      if ('error' in parsed) out.rejected.push({ reason: `CloudEvent ${parsed.error}`, path: at('data_base64'), field: 'data_base64', record });
      else out.entries.push({ entry: parsed.entry, path: at('data_base64') });
      return out;
    }
    return unwrap(record.data, at('data'), depth + 1);
  }
  if (isObj(record) && Array.isArray(record.entries) && !('logName' in record)) {
    if (!record.entries.length) out.rejected.push({ reason: 'entries is empty: no LogEntry in it', path: at('entries'), field: 'entries', record });
    record.entries.forEach((r, i) => merge(out, unwrap(r, at(`entries[${i}]`), depth + 1)));
    return out;
  }
  const entry = coerceEntry(record);
  if (entry) {
    out.entries.push({ entry, path: path || undefined });
    return out;
  }
  out.rejected.push({
    reason: isObj(record) ? 'not a Cloud Logging LogEntry (no logName) nor a Pub/Sub push envelope' : `expected a JSON object, got ${record === null ? 'null' : typeof record}`,
    path: path || undefined,
    field: isObj(record) ? 'logName' : undefined,
    record,
  });
  return out;
}

/** The top level of a record with every nested value left out. */
function outline(v: unknown): unknown {
  const omit = (x: unknown) => (x && typeof x === 'object' ? `[${Array.isArray(x) ? 'array' : 'object'} omitted: nested too deeply]` : x);
  if (Array.isArray(v)) return v.slice(0, 100).map(omit);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, omit(x)]));
  return v;
}

function merge(into: UnwrapResult, from: UnwrapResult): void {
  into.entries.push(...from.entries);
  into.rejected.push(...from.rejected);
}
