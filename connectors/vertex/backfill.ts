import { resolve } from 'node:path';
import type * as GoogleAuthLibrary from 'google-auth-library';
import { parse } from '../../bridge/cli/args.js';
import type { CliCommand, CliIo, NormalizeContext } from '../../core/connector.js';
import { MltrailError } from '../../core/errors.js';
import { Ingestor, normalizeAndIngest } from '../../core/ingest.js';
import { lazyRequire } from '../../core/lazy-require.js';
import { createLogger } from '../../core/log.js';
import { describe as describeError, retryOperation } from '../../core/retry/index.js';
import { checkEvent } from '../../core/schema/index.js';
import { DeliveryError, parseRetryAfter } from '../../core/sink.js';
import { Spool } from '../../core/spool/index.js';
import { listEntriesGrpc } from './backfill-grpc.js';
import { VertexConfig } from './config.js';
import { canonicalTimestamp, isObj, toEventTime, type LogEntry } from './logentry.js';
import { normalizeVertex } from './normalize.js';
import { vertexLogSelection } from './selection.js';
import { redactJobSecrets } from '../../core/secrets.js';

export const BACKFILL_CHANNEL = 'vertex.backfill';
const DEFAULT_ENDPOINT = 'https://logging.googleapis.com';
const READ_SCOPE = 'https://www.googleapis.com/auth/logging.read';
const STATE_NS = 'vertex.backfill';
/** google-auth-library, loaded by a backfill over https: the CLI imports this module for every command. */
const googleAuth = lazyRequire<typeof GoogleAuthLibrary>('google-auth-library');

export const backfillUsage = `mltrail backfill vertex --project P --since T [--until T] [--filter EXPR] [--stdout] [--transport rest|grpc]
                        [--page-size N] [--max-entries N] [--resume] [--endpoint URL] [--config F] [--data-dir D]

Read Vertex AI audit and Model Monitoring entries from Cloud Logging
(entries.list, oldest first, every page) and ingest them like pushed
ones: same normalization, same stable ids (entries already pushed collapse as
duplicates), into the data dir's spool — or print events with --stdout.
  --project      project id whose logs are read (resourceNames projects/P)
  --since        start, inclusive: RFC 3339 (2026-11-01T00:00:00Z) or a duration back from now (36h, 7d)
  --until        end, exclusive (default now); both bounds go into the filter, so the
                 client library's implicit 24 h window never applies
  --filter       selection instead of the default (Vertex audit logs + Model Monitoring anomalies)
  --stdout       print normalized events as NDJSON instead of writing the spool
  --resume       start after the last entry a previous backfill of this project committed
  --page-size    entries per request (1..1000, default 1000)
  --max-entries  stop after this many entries
  --transport    rest (entries.list over HTTPS, default) or grpc (@google-cloud/logging; audit payloads
                 arrive as protobuf Any and are decoded with the AuditLog descriptor)
  --endpoint     rest: API base URL (default ${DEFAULT_ENDPOINT}); grpc: host[:port] (default
                 logging.googleapis.com:443). Credentials (GOOGLE_APPLICATION_CREDENTIALS or the metadata
                 server) are only sent over TLS; a plain-http URL / non-googleapis host gets none
Exit 0 all ingested, 1 some entries quarantined or the listing failed, 2 usage or configuration errors.`;

/** `36h` / `7d` / `90m` back from `now`, or an RFC 3339 time; throws USAGE naming the flag. */
export function parseTimeArg(flag: string, value: string, now = Date.now()): string {
  const rel = /^(\d+)([smhd])$/.exec(value.trim());
  if (rel) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[rel[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now - Number(rel[1]) * unit).toISOString();
  }
  const m = /^(\d{4}-\d\d-\d\d)(?:T(\d\d:\d\d)(:\d\d(?:\.\d+)?)?(Z|[+-]\d\d:\d\d))?$/.exec(value.trim());
  if (!m) throw new MltrailError('USAGE', `--${flag} "${value}" is not an RFC 3339 time (2026-11-01T00:00:00Z) or a duration (36h, 7d)`);
  // Checked like a LogEntry timestamp: Date.parse would read 2024-02-30 as March 1 and 24:00 as the next day.
  const t = toEventTime(canonicalTimestamp(`${m[1]}T${m[2] ?? '00:00'}${(m[3] ?? ':00').slice(0, 13)}${m[4] ?? 'Z'}`));
  if (!t) throw new MltrailError('USAGE', `--${flag} "${value}" is not a valid time (a date the calendar has, years 1970-9999)`);
  return t;
}

/**
 * The Logging filter: the selection, AND explicit timestamp bounds (the
 * Node client appends `timestamp >= now-24h` to filters without `timestamp`;
 * REST has no default but we state bounds anyway so both agree).
 *
 * @example
 * buildFilter('p', '2026-11-01T00:00:00.000Z', '2026-11-02T00:00:00.000Z')
 */
export function buildFilter(project: string, since: string, until: string, selection?: string): string {
  // By default what the README's sink forwards: every entry the connector judges, not Vertex AI's alone.
  const sel = selection ?? vertexLogSelection(project);
  return `(${sel}) AND timestamp>="${since}" AND timestamp<"${until}"`;
}

export interface ListOptions {
  endpoint: string;
  project: string;
  filter: string;
  pageSize: number;
  /** Bearer token source; undefined → no Authorization header. */
  token?: () => Promise<string | undefined>;
  signal: AbortSignal;
  onRetry?: (reason: string) => void;
}

/**
 * Page through `entries.list` (POST /v2/entries:list) oldest first. Each page
 * request is retried by the shared retry mechanism on 429/5xx/network errors
 * (Retry-After honoured); other 4xx stop the listing with the API's message.
 *
 * @example
 * for await (const page of listEntries(opts)) await ingest(page);
 */
export async function* listEntries(opts: ListOptions): AsyncGenerator<LogEntry[]> {
  let pageToken: string | undefined;
  const url = `${opts.endpoint.replace(/\/+$/, '')}/v2/entries:list`;
  do {
    const body = { resourceNames: [`projects/${opts.project}`], filter: opts.filter, orderBy: 'timestamp asc', pageSize: opts.pageSize, ...(pageToken ? { pageToken } : {}) };
    const page = await retryOperation(
      async (signal) => {
        const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'mltrail-backfill' };
        const token = await opts.token?.();
        if (token) headers.authorization = `Bearer ${token}`;
        let res: Response;
        try {
          res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal });
        } catch (err) {
          // undici's own message is only 'fetch failed': the cause says why (refused, reset, a certificate).
          throw new DeliveryError(`entries.list: ${describeError(err)}`, true);
        }
        const text = await res.text();
        if (!res.ok) {
          let msg = text.slice(0, 300);
          try {
            const e = JSON.parse(text) as { error?: { message?: string; status?: string } };
            if (e.error?.message) msg = `${e.error.status ?? ''} ${e.error.message}`.trim();
          } catch {
            /* keep the text */
          }
          const retryable = res.status === 429 || res.status >= 500;
          throw new DeliveryError(`entries.list HTTP ${res.status}: ${msg}`, retryable, parseRetryAfter(res.headers.get('retry-after')));
        }
        try {
          return JSON.parse(text) as { entries?: unknown[]; nextPageToken?: string };
        } catch (err) {
          throw new DeliveryError(`entries.list answered non-JSON: ${(err as Error).message}`, true);
        }
      },
      { initialMs: 1000, maxMs: 30_000, requestTimeoutMs: 60_000, maxAttempts: 8 },
      opts.signal,
      (info) => opts.onRetry?.(info.reason),
    );
    yield (page.entries ?? []).filter(isObj) as LogEntry[];
    pageToken = page.nextPageToken || undefined;
  } while (pageToken);
}

/** Credentials only travel over https; a plain-http endpoint is a local fake or emulator. */
function tokenSource(endpoint: string): (() => Promise<string | undefined>) | undefined {
  if (!/^https:\/\//i.test(endpoint)) return undefined;
  const { GoogleAuth } = googleAuth();
  const auth = new GoogleAuth({ scopes: [READ_SCOPE] });
  return async () => {
    try {
      return (await auth.getAccessToken()) ?? undefined;
    } catch (err) {
      throw new DeliveryError(`no Google credentials (set GOOGLE_APPLICATION_CREDENTIALS or run where the metadata server answers): ${(err as Error).message}`, false);
    }
  };
}

async function runBackfill(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    config: { type: 'string', short: 'c' },
    help: { type: 'boolean', short: 'h' },
    'data-dir': { type: 'string' },
    project: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    filter: { type: 'string' },
    stdout: { type: 'boolean' },
    resume: { type: 'boolean' },
    'page-size': { type: 'string' },
    'max-entries': { type: 'string' },
    endpoint: { type: 'string' },
    transport: { type: 'string', default: 'rest' },
  });
  if (values.help) return (io.stdout.write(`${backfillUsage}\n`), 0);
  const project = values.project?.trim();
  if (!project || !/^[a-z][a-z0-9-.:]{3,62}[a-z0-9]$/.test(project)) throw new MltrailError('USAGE', project ? `--project "${project}" is not a project id` : 'missing --project');
  if (!values.since && !values.resume) throw new MltrailError('USAGE', 'missing --since (or --resume)');
  const pageSize = Number(values['page-size'] ?? 1000);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new MltrailError('USAGE', '--page-size must be an integer 1..1000');
  const maxEntries = values['max-entries'] !== undefined ? Number(values['max-entries']) : Number.POSITIVE_INFINITY;
  if (!(maxEntries > 0)) throw new MltrailError('USAGE', '--max-entries must be a positive integer');
  const until = values.until ? parseTimeArg('until', values.until) : new Date().toISOString();
  const transport = values.transport!;
  if (transport !== 'rest' && transport !== 'grpc') throw new MltrailError('USAGE', `--transport "${transport}" must be rest or grpc`);
  const endpoint = values.endpoint ?? (transport === 'grpc' ? 'logging.googleapis.com:443' : DEFAULT_ENDPOINT);
  if (transport === 'rest' && !/^https?:\/\/[^\s]+$/i.test(endpoint)) throw new MltrailError('USAGE', `--endpoint "${endpoint}" is not an http(s) URL`);
  if (transport === 'grpc' && !/^[A-Za-z0-9.-]+(:\d+)?$/.test(endpoint)) throw new MltrailError('USAGE', `--endpoint "${endpoint}" is not host[:port] (--transport grpc)`);

  // Loaded lazily: bridge/config imports every connector, this module included.
  const { loadConfig } = await import('../../bridge/config.js');
  const cfg = loadConfig({ file: values.config, env: io.env, overrides: values['data-dir'] ? { data_dir: values['data-dir'] } : {} });
  const vertexCfg = VertexConfig.parse((cfg.connectors as Record<string, unknown>).vertex ?? {});
  const spool = values.stdout
    ? undefined
    : Spool.open({ dir: resolve(cfg.data_dir), maxBytes: cfg.spool.max_bytes, synchronous: cfg.spool.synchronous, dedupWindowMs: cfg.spool.dedup_window_hours * 3600_000, dedupMaxIds: cfg.spool.dedup_max_ids, retryAfterS: cfg.spool.retry_after_s });
  const ingest = spool ? new Ingestor(spool, createLogger({ level: 'warn' })) : undefined;
  try {
    let since = values.since ? parseTimeArg('since', values.since) : undefined;
    if (values.resume) {
      const prev = spool?.state.get<{ last_timestamp?: string }>(STATE_NS, project);
      if (prev?.last_timestamp) since = prev.last_timestamp;
      else if (!since) throw new MltrailError('USAGE', `--resume: no previous backfill of ${project} recorded in ${cfg.data_dir}; give --since`);
    }
    if (Date.parse(since!) >= Date.parse(until)) throw new MltrailError('USAGE', `--since ${since} is not before --until ${until}`);
    const filter = buildFilter(project, since!, until, values.filter);
    io.stderr.write(`backfill vertex: project ${project}, ${since} → ${until}${spool ? `, into ${resolve(cfg.data_dir)}` : ', to stdout'}\nfilter: ${filter}\n`);
    // Dedup remembers ids for spool.dedup_window_hours after they were taken: an entry push or pull
    // delivered longer ago than that is no longer known, and its backfilled copy would be a new event.
    const horizon = Date.now() - cfg.spool.dedup_window_hours * 3600_000;
    if (spool && Date.parse(since!) < horizon) {
      io.stderr.write(
        `note: entries a Pub/Sub subscription delivered more than spool.dedup_window_hours (${cfg.spool.dedup_window_hours} h) ago are no longer known as duplicates: ` +
          `backfilled again they are new events (and alerts); if the sink was already live before ${new Date(horizon).toISOString()}, give --until the time it started\n`,
      );
    }
    const totals = { pages: 0, entries: 0, accepted: 0, duplicates: 0, quarantined: 0 };
    const ac = new AbortController();
    const onSignal = () => ac.abort();
    process.once('SIGINT', onSignal);
    try {
      const onRetry = (r: string) => io.stderr.write(`retrying: ${r}\n`);
      const pages =
        transport === 'grpc'
          ? listEntriesGrpc({ endpoint, project, filter, pageSize, signal: ac.signal, onRetry })
          : listEntries({ endpoint, project, filter, pageSize, token: tokenSource(endpoint), signal: ac.signal, onRetry });
      for await (const page of pages) {
        const entries = page.slice(0, Math.max(0, maxEntries - totals.entries));
        totals.pages++;
        totals.entries += entries.length;
        const ctx: NormalizeContext<VertexConfig> = { channel: BACKFILL_CHANNEL, receivedTime: new Date().toISOString(), keepRaw: cfg.spool.keep_raw, config: vertexCfg };
        if (ingest && spool) {
          const out = await normalizeAndIngest(ingest, (r) => normalizeVertex(r, ctx), entries, BACKFILL_CHANNEL, { project }, { redactRejected: redactJobSecrets });
          totals.accepted += out.accepted;
          totals.duplicates += out.duplicates;
          totals.quarantined += out.rejected.length;
          const last = entries.at(-1)?.timestamp;
          if (typeof last === 'string') spool.state.set(STATE_NS, project, { last_timestamp: last, until, filter, updated: new Date().toISOString() });
        } else {
          for (const [i, e] of entries.entries()) {
            const out = normalizeVertex(e, ctx);
            for (const ev of out.events) {
              const v = checkEvent(ev);
              if (v.success) {
                io.stdout.write(`${JSON.stringify(v.data)}\n`);
                totals.accepted++;
              } else totals.quarantined++;
            }
            for (const r of out.rejected) {
              totals.quarantined++;
              io.stderr.write(`page ${totals.pages} entry ${i + 1}: ${r.path ? `${r.path}: ` : ''}${r.reason}\n`);
            }
          }
        }
        if (totals.entries >= maxEntries) break;
      }
    } finally {
      process.off('SIGINT', onSignal);
    }
    io.stderr.write(`backfill vertex: ${totals.pages} page(s), ${totals.entries} entries, ${totals.accepted} accepted, ${totals.duplicates} duplicates, ${totals.quarantined} quarantined\n`);
    return totals.quarantined > 0 ? 1 : 0;
  } catch (err) {
    if (err instanceof DeliveryError) {
      io.stderr.write(`mltrail backfill vertex: MLTRAIL_ERR_UPSTREAM: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    spool?.close();
  }
}

/** `mltrail backfill vertex`, contributed to the CLI through the plugin's `commands`. */
export const backfillCommand: CliCommand = {
  name: 'backfill vertex',
  summary: 'read Vertex audit/monitoring entries from Cloud Logging into the spool',
  usage: backfillUsage,
  run: runBackfill,
};
