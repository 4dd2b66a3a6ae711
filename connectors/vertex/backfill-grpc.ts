import { createRequire } from 'node:module';
import { retryOperation } from '../../core/retry/index.js';
import { DeliveryError } from '../../core/sink.js';
import { decodeAuditLogAny, isProtoAny, structToJson } from './audit-proto.js';
import { canonicalTimestamp, isObj, str, type Json, type LogEntry } from './logentry.js';
import type { ListOptions } from './backfill.js';

/** gRPC codes worth retrying for a read: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE. */
const RETRYABLE = new Set([4, 8, 10, 13, 14]);

/**
 * A LogEntry as the gRPC client hands it over (proto3 object form:
 * `{seconds,nanos}` timestamps, `protoPayload` as a protobuf Any, `jsonPayload`
 * as a Struct, empty defaults) → the JSON form the REST API and Pub/Sub export
 * use, with the timestamp's nanoseconds kept so ids match pushed entries.
 *
 * @example
 * fromGrpcEntry({ logName, insertId, timestamp: { seconds: '1763632800', nanos: 123 }, protoPayload: { type_url, value } })
 */
export function fromGrpcEntry(raw: Json): LogEntry {
  const e: LogEntry = { logName: str(raw.logName) };
  if (str(raw.insertId)) e.insertId = raw.insertId as string;
  // A value that is not a time is kept as received: normalize refuses the entry naming the field
  // (dropping it would let receiveTimestamp stand in for a timestamp the entry does have).
  const ts = canonicalTimestamp(raw.timestamp);
  if (ts || (raw.timestamp !== undefined && raw.timestamp !== null)) e.timestamp = ts ?? raw.timestamp;
  const rts = canonicalTimestamp(raw.receiveTimestamp);
  if (rts || (raw.receiveTimestamp !== undefined && raw.receiveTimestamp !== null)) e.receiveTimestamp = rts ?? raw.receiveTimestamp;
  if (raw.severity !== undefined && raw.severity !== 'DEFAULT' && raw.severity !== 0) e.severity = raw.severity as string;
  if (isObj(raw.resource)) e.resource = { type: str(raw.resource.type), labels: isObj(raw.resource.labels) ? (raw.resource.labels as Record<string, string>) : undefined };
  if (isObj(raw.labels) && Object.keys(raw.labels).length) e.labels = raw.labels as Record<string, string>;
  if (isObj(raw.operation) && (str(raw.operation.id) || raw.operation.first || raw.operation.last)) e.operation = raw.operation as LogEntry['operation'];
  if (str(raw.trace)) e.trace = raw.trace as string;
  const which = str(raw.payload);
  if ((which === 'protoPayload' || !which) && isProtoAny(raw.protoPayload)) e.protoPayload = decodeAuditLogAny(raw.protoPayload);
  else if ((which === 'jsonPayload' || !which) && isObj(raw.jsonPayload)) e.jsonPayload = isObj(raw.jsonPayload.fields) ? structToJson(raw.jsonPayload) : raw.jsonPayload;
  else if ((which === 'textPayload' || !which) && typeof raw.textPayload === 'string' && raw.textPayload) e.textPayload = raw.textPayload;
  return e;
}

/** Channel credentials from the same grpc-js instance @google-cloud/logging's google-gax uses. */
function insecureCreds(): unknown {
  const loggingRequire = createRequire(createRequire(import.meta.url).resolve('@google-cloud/logging'));
  return (loggingRequire('google-gax') as { grpc: { credentials: { createInsecure(): unknown } } }).grpc.credentials.createInsecure();
}

/**
 * Page through entries with `@google-cloud/logging` (gRPC) oldest first. The
 * library's Entry objects lose the timestamp's nanoseconds and leave
 * protoPayload as an undecoded Any, so the raw page (`apiResponse.entries`)
 * is converted instead. `endpoint` is `host:port`; a non-googleapis host
 * gets a plain-text channel and no credentials (local fake or emulator).
 *
 * @example
 * for await (const page of listEntriesGrpc({ project, filter, pageSize: 1000, endpoint: 'logging.googleapis.com:443', signal })) …
 */
export async function* listEntriesGrpc(opts: Omit<ListOptions, 'token'>): AsyncGenerator<LogEntry[]> {
  const options: Record<string, unknown> = { projectId: opts.project };
  const m = /^(?:grpcs?:\/\/)?([^:/]+)(?::(\d+))?\/?$/.exec(opts.endpoint);
  if (!m) throw new DeliveryError(`--endpoint "${opts.endpoint}" is not host[:port]`, false);
  options.apiEndpoint = m[1];
  if (m[2]) options.port = Number(m[2]);
  if (!m[1]!.endsWith('.googleapis.com')) options.sslCreds = insecureCreds();
  // Loaded here, by `--transport grpc` only: at module load it slowed every command.
  const { Logging } = await import('@google-cloud/logging');
  const logging = new Logging(options);
  let pageToken: string | undefined;
  do {
    const [, next, response] = await retryOperation(
      async () => {
        try {
          return await logging.getEntries({
            resourceNames: [`projects/${opts.project}`],
            filter: opts.filter,
            orderBy: 'timestamp asc',
            pageSize: opts.pageSize,
            pageToken,
            autoPaginate: false,
            // One retry mechanism: ours (core/retry), not gax's.
            gaxOptions: { maxRetries: 0 },
          });
        } catch (err) {
          const code = Number((err as { code?: unknown }).code);
          throw new DeliveryError(`ListLogEntries: ${(err as Error).message}`, RETRYABLE.has(code) || !Number.isFinite(code));
        }
      },
      { initialMs: 1000, maxMs: 30_000, requestTimeoutMs: 60_000, maxAttempts: 8 },
      opts.signal,
      (info) => opts.onRetry?.(info.reason),
    );
    const raw = (response as { entries?: unknown[] } | undefined)?.entries ?? [];
    yield raw.filter(isObj).map(fromGrpcEntry);
    pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken || undefined;
  } while (pageToken);
  await logging.loggingService.close?.().catch(() => {});
}
