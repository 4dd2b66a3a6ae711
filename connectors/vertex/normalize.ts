import type { NormalizeContext, NormalizeOutput } from '../../core/connector.js';
import { packageSourcesHeldSecrets, redactPackageSourceSecrets } from '../../core/integrity/packages.js';
import { redactJobSecrets } from '../../core/secrets.js';
import { contentId, makeEvent, stableId, type EventDraft, type NormalizedEvent } from '../../core/schema/index.js';
import { auditFields } from './audit.js';
import type { VertexConfig } from './config.js';
import { unwrap } from './envelope.js';
import { auditLogKind, canonicalTimestamp, isObj, logIdOf, projectOf, str, toEventTime, type LogEntry, type Transport } from './logentry.js';
import { isMonitoringAnomaly, monitoringFields } from './monitoring.js';

const DEFAULT_APPROVAL_ALIASES = ['production', 'champion'];

/**
 * Stable event id: logName + insertId + timestamp (Logging may export the
 * same entry twice, and a backfill re-reads entries already pushed); the
 * canonical record hash when the entry has no insertId.
 *
 * @example
 * entryId({ logName: 'projects/p/logs/x', insertId: 'a', timestamp: '2024-01-01T00:00:00Z' })
 * // the caller may pass the entry's canonicalTimestamp when it already has it
 */
export function entryId(entry: LogEntry, canonicalTs: string | undefined = canonicalTimestamp(entry.timestamp)): string {
  if (!str(entry.insertId)) return contentId('vertex', entry);
  return stableId('vertex', entry.logName ?? '', entry.insertId, canonicalTs ?? '');
}

function resourceStage(entry: LogEntry): 'serving' | 'training' | 'ingestion' | 'platform' {
  const t = entry.resource?.type ?? '';
  if (/aiplatform\.googleapis\.com\/(Endpoint|DeploymentResourcePool|IndexEndpoint|ServingCluster)/.test(t)) return 'serving';
  if (/aiplatform\.googleapis\.com\/(PipelineJob|NotebookRuntime|CustomJob)/.test(t)) return 'training';
  if (/aiplatform\.googleapis\.com\/(Featurestore|FeatureOnlineStore|Index)$/.test(t)) return 'ingestion';
  return 'platform';
}

/** A non-audit entry (platform or container log, or an entry without payload): kept, stage from its resource. */
function genericFields(entry: LogEntry) {
  const sev = String(entry.severity ?? '');
  return {
    stage: resourceStage(entry),
    action: 'resource.other' as const,
    operation: logIdOf(entry.logName) ?? 'log_entry',
    service: entry.resource?.type?.includes('/') ? entry.resource.type.split('/')[0] : undefined,
    outcome: 'unknown' as const,
    resource: entry.resource?.type ? { type: entry.resource.type, id: Object.values(entry.resource.labels ?? {}).join('/') || undefined } : undefined,
    details: {
      log_id: logIdOf(entry.logName),
      severity: sev || undefined,
      resource_labels: entry.resource?.labels,
      labels: entry.labels && Object.keys(entry.labels).length ? entry.labels : undefined,
      text: typeof entry.textPayload === 'string' ? entry.textPayload.slice(0, 4096) : undefined,
      payload_type: isObj(entry.jsonPayload) ? str(entry.jsonPayload['@type']) : undefined,
      payload: entry.protoPayload || entry.jsonPayload || entry.textPayload ? undefined : 'none',
    },
    region: entry.resource?.labels?.location ?? entry.resource?.labels?.zone,
  };
}

/**
 * `{...base, ...over}` without its undefined values: keys of `base` in order
 * (value from `over` when it has the key), then the new keys of `over`.
 */
function mergeDefined(base: Record<string, unknown> | undefined, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (base) {
    for (const k of Object.keys(base)) {
      const v = Object.hasOwn(over, k) ? over[k] : base[k];
      if (v !== undefined) out[k] = v;
    }
  }
  for (const k of Object.keys(over)) {
    if (base && Object.hasOwn(base, k)) continue;
    const v = over[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** A LogEntry field that makes the entry unusable; `normalizeVertex` rejects the entry naming it. */
export class EntryFieldError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

const unset = (v: unknown) => v === undefined || v === null;

/**
 * The event time: `timestamp`; only when the entry has none, `receiveTimestamp`
 * (Logging gives an entry written without a timestamp its receive time). A
 * value that is not an RFC 3339 time Logging can write is refused naming its
 * field, never replaced by another time (nor by the receipt's "now").
 */
function eventTime(entry: LogEntry, ts: string | undefined): string {
  const bad = (field: string, v: unknown) =>
    new EntryFieldError(field, `${field} ${JSON.stringify(v) ?? String(v)} is not a valid RFC 3339 time (a date the calendar has, years 1970-9999, with Z or an offset)`);
  if (ts) return toEventTime(ts)!;
  if (!unset(entry.timestamp)) throw bad('timestamp', entry.timestamp);
  const rts = canonicalTimestamp(entry.receiveTimestamp);
  if (rts) return toEventTime(rts)!;
  if (!unset(entry.receiveTimestamp)) throw bad('receiveTimestamp', entry.receiveTimestamp);
  throw new EntryFieldError('timestamp', 'timestamp is missing, and so is receiveTimestamp: the entry has no time');
}

/**
 * One LogEntry → one normalized event (throws `EntryFieldError` for an entry without a valid time).
 *
 * @example
 * normalizeEntry(entry, { channel: 'file', receivedTime, keepRaw: true, config }, undefined)
 */
export function normalizeEntry(entry: LogEntry, ctx: NormalizeContext<Partial<VertexConfig>>, transport?: Transport): NormalizedEvent {
  const aliases = ctx.config?.approval_aliases ?? DEFAULT_APPROVAL_ALIASES;
  const fields = isObj(entry.protoPayload) ? auditFields(entry, aliases, ctx.config ?? {}) : isMonitoringAnomaly(entry) ? monitoringFields(entry) : genericFields(entry);
  // Plain copies instead of object rest/spread (rest-with-exclusions and
  // spreads of wide objects go through slow runtime paths on this hot path),
  // and only defined values (makeEvent would delete the rest, and deleting keys
  // from a wide object is slow). Same keys, order and values as
  // `{...rest, id, …, details: {...details, log_name, …}}` once pruned.
  const draft: Record<string, unknown> = {};
  for (const k in fields) {
    const v = (fields as Record<string, unknown>)[k];
    if (v !== undefined && k !== 'region' && k !== 'details') draft[k] = v;
  }
  const ts = canonicalTimestamp(entry.timestamp);
  const time = eventTime(entry, ts);
  const op = entry.operation;
  const details = mergeDefined(fields.details as Record<string, unknown> | undefined, {
    log_name: entry.logName,
    insert_id: str(entry.insertId),
    timestamp: ts,
    receive_timestamp: str(entry.receiveTimestamp),
    severity: entry.severity,
    audit_log: auditLogKind(entry.logName),
    operation: op && (op.id || op.first || op.last) ? { id: op.id, producer: op.producer, first: op.first === true, last: op.last === true } : undefined,
    trace: str(entry.trace),
    pubsub: transport && Object.values(transport).some((v) => v !== undefined) ? transport : undefined,
  });
  draft.id = entryId(entry, ts);
  draft.time = time;
  draft.received_time = ctx.receivedTime;
  draft.platform = 'vertex';
  draft.channel = ctx.channel;
  draft.cloud = { provider: 'gcp', project: projectOf(entry), region: fields.region };
  draft.details = details;
  return makeEvent(
    draft as unknown as EventDraft,
    { raw: ctx.keepRaw === false ? undefined : rawEntry(entry, draft.ml as NormalizedEvent['ml']), keepRaw: ctx.keepRaw, receivedTime: ctx.receivedTime },
  );
}

/**
 * The entry as kept in `raw`: a job's container `env` and `command` / `args` are logged as sent, so their secrets
 * are hidden (redactJobSecrets), and an index URL's credentials as in ml.job.package_sources. The entry itself when
 * there is nothing to hide.
 */
function rawEntry(entry: LogEntry, ml: NormalizedEvent['ml']): LogEntry {
  const raw = redactJobSecrets(entry);
  return packageSourcesHeldSecrets(ml?.job?.package_sources) ? redactPackageSourceSecrets(raw) : raw;
}

/**
 * The connector's `normalize`: any accepted envelope → events, rejections
 * (with the path inside the envelope) — pure, no I/O.
 *
 * @example
 * normalizeVertex(pushBody, { channel: 'vertex.pubsub_push', receivedTime, keepRaw: true, config })
 */
export function normalizeVertex(record: unknown, ctx: NormalizeContext<Partial<VertexConfig>>): NormalizeOutput {
  const out: NormalizeOutput = { events: [], rejected: [], skipped: [] };
  const { entries, rejected } = unwrap(record);
  out.rejected.push(...rejected);
  const metaTransport = isObj(ctx.meta?.transport) ? (ctx.meta.transport as Transport) : undefined;
  for (const u of entries) {
    try {
      out.events.push(normalizeEntry(u.entry, ctx, u.transport ?? metaTransport));
    } catch (err) {
      if (err instanceof EntryFieldError) out.rejected.push({ reason: err.message, path: u.path, field: err.field, record: u.entry });
      else out.rejected.push({ reason: `cannot normalize LogEntry: ${(err as Error).message}`, path: u.path, record: u.entry });
    }
  }
  return out;
}
