import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import { randomBytes } from 'node:crypto';
import { MltrailError, type ErrorKind } from './errors.js';
import { MinuteSampler } from './log-sampler.js';
import { MAX_JSON_DEPTH, boundedJson, nestedTooDeep } from './input/depth.js';
import { checkEvent, describeZodError, isValidAsIs, prepareEventCheck, makeEvent, serializeEvent, stableId, type Platform } from './schema/index.js';
import type { AppendResult, Spool, SpoolItem } from './spool/index.js';

export interface IngestResult extends AppendResult {
  /** Events that failed validation (quarantined), by position in the input. */
  rejected: Array<{ index: number; id?: string; reason: string }>;
}

export interface AuthFailure {
  platform: Platform;
  channel: string;
  reason: string;
  /** The error the sender is answered with (default UNAUTHORIZED): the event and the log carry the same code. */
  code?: ErrorKind;
  ip?: string;
  user_agent?: string;
  /** Principal the sender claimed (token email, key id), never the secret; unverified, so kept apart from `actor`. */
  claimed?: string;
  /**
   * What the refused credential said beyond the principal (a token's `aud`, `iss`, `kid`, `exp`), unverified and never
   * the secret: `details.unverified_claims`, so an operator can tell a misconfigured sender (another audience) from an attack.
   */
  claims?: Record<string, unknown>;
}

/**
 * The fixed part of a refusal's reason, without what the sender chose (a
 * quoted kid or alg, a number of seconds, a library message after a colon):
 * what a flood is collapsed by, so varying those cannot mint one event per
 * request.
 *
 * @example
 * reasonClass('token kid "k42" is not in the configured JWKS') // 'token kid'
 */
export function reasonClass(reason: string): string {
  return (/^[A-Za-z _\-(),/]*/.exec(reason)?.[0] ?? '').trim() || 'refused';
}

/**
 * Auth-failure events one minute holds one per source address; past it, a minute's further refusals
 * collapse per route, code and kind of reason whatever their address. Keyed by address alone, a spray
 * from many addresses (200 loopback addresses, an IPv6 /64) minted one event per request: unbounded
 * events in the spool and the SIEM from senders holding no credential.
 */
const MAX_AUTH_FAILURE_SOURCES = 100;

/** Rejections of one request explained in full; past it, events get only the compiled check. */
const MAX_EXPLAINED = 1000;

/**
 * Rejected inputs of one request kept as a row each; the rest share one row. A flood of tiny bad items
 * (a million `{}` in 3 KB of gzip) cost ~210 bytes of row each against `spool.max_bytes`: a few requests
 * filled the spool and every route answered 503.
 */
const MAX_QUARANTINE_ROWS = 1000;
/**
 * A rejected input is kept whole up to this size, else its first bytes and its size: decoded input
 * (a Firehose record that gunzips to 60 MiB) can be far larger than the request that carried it.
 */
const MAX_QUARANTINE_BODY = 256 * 1024;
/** What the shared row keeps of the rest: their bodies, as lines, up to this many bytes; past it they are counted. */
const MAX_QUARANTINE_OVERFLOW = 8 * 1024 * 1024;
/**
 * Body bytes one request's rejections may keep in all (a route passes 16× what it was sent, at least
 * 1 MiB): a 1 KB Firehose request whose record decodes to a thousand 60 KB bad lines held 150 MB.
 * Past it each body keeps its first KiB.
 */
const DEFAULT_QUARANTINE_BUDGET = 16 * 1024 * 1024;
const SHORT_BODY = 1024;

/**
 * The quarantine budget for a request of `sentBytes` on the wire (see DEFAULT_QUARANTINE_BUDGET).
 *
 * @example
 * quarantineBudget(1_142) // 1 MiB
 */
export const quarantineBudget = (sentBytes: number): number => Math.min(DEFAULT_QUARANTINE_BUDGET, Math.max(1024 * 1024, 16 * sentBytes));

const byteLength = (b: QuarantineRow['body']) => (typeof b === 'string' ? Buffer.byteLength(b) : b.byteLength);

/** A body cut to `max` bytes (MAX_QUARANTINE_BODY), with what was cut in `meta.truncated`. */
function bounded(row: QuarantineRow, max = MAX_QUARANTINE_BODY): QuarantineRow {
  const size = byteLength(row.body);
  if (size <= max) return row;
  // A copy of the first bytes (a view would keep the whole 60 MB body alive), from at most `max` characters.
  const head = typeof row.body === 'string' ? Buffer.from(row.body.slice(0, max)) : Buffer.from(row.body.buffer, row.body.byteOffset, row.body.byteLength);
  const total = (row.meta?.truncated as { total_bytes?: number } | undefined)?.total_bytes ?? size;
  return { ...row, body: Buffer.from(head.subarray(0, max)), meta: { ...row.meta, truncated: { kept_bytes: max, total_bytes: total } } };
}

/**
 * The rows one request's rejections are kept as: the first MAX_QUARANTINE_ROWS one each (bodies bounded),
 * the rest in one row whose body holds theirs as lines (up to MAX_QUARANTINE_OVERFLOW bytes) and whose meta
 * counts them, with the first of their reasons and positions.
 *
 * @example
 * compactQuarantine(rows).length // ≤ 1001
 */
export function compactQuarantine(rows: QuarantineRow[], budget = DEFAULT_QUARANTINE_BUDGET, maxBody = MAX_QUARANTINE_BODY): QuarantineRow[] {
  let left = budget;
  // Bodies are kept whole (up to maxBody) while the request's budget lasts, then their first KiB.
  const keep = (r: QuarantineRow): QuarantineRow => {
    const row = bounded(r, left >= maxBody ? maxBody : Math.max(SHORT_BODY, left));
    left -= byteLength(row.body);
    return row;
  };
  if (rows.length <= MAX_QUARANTINE_ROWS) return rows.map(keep);
  const kept = rows.slice(0, MAX_QUARANTINE_ROWS).map(keep);
  const rest = rows.slice(MAX_QUARANTINE_ROWS);
  const parts: Buffer[] = [];
  const cap = Math.min(MAX_QUARANTINE_OVERFLOW, Math.max(SHORT_BODY, left));
  let bytes = 0;
  let omitted = 0;
  for (const r of rest) {
    const b = bounded(r).body;
    const buf = typeof b === 'string' ? Buffer.from(b) : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    if (bytes + buf.length + 1 > cap) {
      omitted++;
      continue;
    }
    parts.push(buf, Buffer.from('\n'));
    bytes += buf.length + 1;
  }
  kept.push({
    reason: `${rest.length} more inputs of this request rejected (kept together; the first: ${rest[0]!.reason.slice(0, 300)})`,
    body: Buffer.concat(parts),
    meta: {
      overflow: { count: rest.length, bodies_kept: rest.length - omitted, bodies_omitted: omitted, body_format: 'one input per line, in order' },
      examples: rest.slice(0, 20).map((r) => ({ reason: r.reason.slice(0, 300), ...r.meta })),
    },
  });
  return kept;
}

/** One rejected input to keep: why, what was sent, and where it was in the request. */
export interface QuarantineRow {
  reason: string;
  body: string | Buffer | Uint8Array;
  meta?: Record<string, unknown>;
}

export interface IngestOptions {
  /**
   * The events were normalized outside mltrail (`POST /v1/events`): they
   * cannot take the id of an event a connector has yet to deliver
   * (SpoolItem.forwarded).
   */
  forwarded?: boolean;
  /** Body bytes the request's rejections may keep in quarantine (`quarantineBudget`); default 16 MiB. */
  quarantineBudget?: number;
}

/**
 * The single door into the spool for every connector: validates normalized
 * events against the schema (invalid ones are quarantined with the reason,
 * never dropped), removes duplicates by id and commits the rest durably.
 * The returned promise resolves only after commit: acknowledge the sender then.
 *
 * @example
 * const res = await ingestor.ingest(events, 'mlflow.webhook');
 * return c.json({ accepted: res.accepted.length }, 200);
 */
export class Ingestor {
  private readonly recentAuthFailures = new Map<string, number>();
  /** Auth-failure events made in `authFailureMinute` (see MAX_AUTH_FAILURE_SOURCES). */
  private authFailureEvents = 0;
  private authFailureMinute = -1;
  private salt?: string;
  /** Quarantine warnings: the first of a minute per channel, then every 100th (the metric counts every one). */
  private readonly quarantineWarnings = new MinuteSampler();

  constructor(
    readonly spool: Spool,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {
    prepareEventCheck();
  }

  ingest(events: unknown[], channel: string, rawForQuarantine?: (index: number) => unknown, where?: (index: number) => { label: string; meta?: Record<string, unknown> }, opts: IngestOptions = {}): Promise<IngestResult> {
    try {
      return this.validateAndAppend(events, channel, rawForQuarantine, where, opts.forwarded === true, opts.quarantineBudget);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** `where` names an input position for reasons and quarantine (an NDJSON body's physical line); default `event N`. */
  private validateAndAppend(events: unknown[], channel: string, rawForQuarantine: ((index: number) => unknown) | undefined, where: ((index: number) => { label: string; meta?: Record<string, unknown> }) | undefined, forwarded: boolean, budget?: number): Promise<IngestResult> {
    const items: SpoolItem[] = [];
    const rejected: IngestResult['rejected'] = [];
    const bad: QuarantineRow[] = [];
    for (let index = 0; index < events.length; index++) {
      const e = events[index];
      let problem: string;
      try {
        // Past MAX_EXPLAINED rejections, a request's events get the compiled check only: zod's explanation of
        // each one cost ~80 µs on the event loop (350,000 bad lines held every other request for 28 s).
        const unexplained = rejected.length >= MAX_EXPLAINED && !isValidAsIs(e);
        const parsed = unexplained ? undefined : checkEvent(e);
        if (!parsed) problem = `not a valid event as sent (not explained: more than ${MAX_EXPLAINED} events of this request were rejected; send them on their own to see why)`;
        else if (parsed.success) {
          const { body, rawAt } = serializeEvent(parsed.data);
          items.push(forwarded ? { kind: 'event', id: parsed.data.id, body, rawAt, forwarded } : { kind: 'event', id: parsed.data.id, body, rawAt });
          continue;
        } else problem = describeZodError(parsed.error);
      } catch (err) {
        // JSON nested thousands of levels deep overflows the stack when checked or serialized: one such
        // event is refused and kept, the rest of the batch goes on (it used to fail the request with a 500).
        if (!(err instanceof RangeError)) throw err;
        problem = `cannot be checked or serialized (JSON nested too deep: ${err.message})`;
      }
      const at = where?.(index);
      const reason = `${at?.label ?? `event ${index}`}: ${problem}`;
      const id = typeof (e as { id?: unknown })?.id === 'string' ? (e as { id: string }).id : undefined;
      rejected.push({ index, id, reason });
      bad.push({ reason, body: boundedJson(rawForQuarantine?.(index) ?? e ?? null), meta: { index, id, ...at?.meta } });
    }
    this.quarantineMany(channel, bad, budget);
    // Not async on purpose: the events and their serialized bodies are not held while the commit and
    // its fsync are awaited, so they die young instead of being copied and promoted by every scavenge.
    return this.spool.append(items).then((res) => this.counted(res, channel, rejected));
  }

  private counted(res: AppendResult, channel: string, rejected: IngestResult['rejected']): IngestResult {
    if (res.accepted.length) this.metrics?.eventsReceived.inc({ channel }, res.accepted.length);
    if (res.duplicates.length) this.metrics?.eventsDuplicate.inc({ channel }, res.duplicates.length);
    // A duplicate proves the feed delivers as much as a new event does (a sender retrying, two paths of one record).
    if (res.accepted.length || res.duplicates.length) this.metrics?.channelLastEvent.set({ channel }, Date.now() / 1000);
    return { ...res, rejected };
  }

  /**
   * Run `work` (which may quarantine input) and resolve once anything it
   * quarantined is on stable storage: a poller acknowledges its source (a
   * Pub/Sub ack, an SQS delete) only after this, as the HTTP routes answer.
   *
   * @example
   * await ingest.durably(() => handle(message)); message.ack();
   */
  async durably<T>(work: () => Promise<T> | T): Promise<T> {
    const before = this.spool.quarantineCommits;
    const out = await work();
    if (this.spool.quarantineCommits !== before) await this.spool.synced();
    return out;
  }

  /**
   * Keep input that cannot be normalized, with the reason. `whole` keeps the body uncut up to that many
   * bytes (a signed webhook body, kept byte for byte so it still verifies against its signature);
   * otherwise a body past 256 KiB keeps its first 256 KiB.
   */
  quarantine(channel: string, reason: string, body: string | Buffer | Uint8Array, meta: Record<string, unknown> = {}, opts: { whole?: number } = {}): number {
    return this.quarantineMany(channel, [{ reason, body, meta }], undefined, opts.whole);
  }

  /**
   * Keep many rejected inputs of one request or batch: one commit and one log line for all of them (a body
   * of 200,000 bad NDJSON lines used to cost as many transactions and warnings, blocking the event loop).
   */
  quarantineMany(channel: string, rows: QuarantineRow[], budget?: number, maxBody?: number): number {
    if (rows.length === 0) return 0;
    // Stored first: input refused because the spool is full (it throws) is not counted as quarantined.
    // A body to keep whole (maxBody) also widens the budget to hold it.
    const whole = maxBody !== undefined && maxBody > MAX_QUARANTINE_BODY ? maxBody : undefined;
    const compact = whole === undefined ? compactQuarantine(rows, budget) : compactQuarantine(rows, Math.max(budget ?? DEFAULT_QUARANTINE_BUDGET, whole), whole);
    const last = this.spool.quarantineMany(compact.map((r) => ({ channel, reason: r.reason, body: r.body, meta: r.meta })));
    this.metrics?.eventsRejected.inc({ channel, reason: 'quarantined' }, rows.length);
    const seen = this.quarantineWarnings.take(channel);
    if (seen !== undefined) this.log.warn({ channel, count: rows.length, reason: rows[0]!.reason, code: 'MLTRAIL_ERR_VALIDATION', quarantines_this_minute: seen }, rows.length === 1 ? 'input quarantined' : `${rows.length} inputs quarantined (the first reason shown)`);
    return last;
  }

  /** A random secret kept in the data dir (made once): salts ids a sender must not be able to compute. */
  private idSalt(): string {
    if (this.salt) return this.salt;
    let salt = this.spool.state.get<string>('_bridge', 'id_salt');
    if (typeof salt !== 'string') {
      salt = randomBytes(32).toString('hex');
      this.spool.state.set('_bridge', 'id_salt', salt);
    }
    return (this.salt = salt);
  }

  /**
   * Record that a sender failed the bridge's authentication. Emits one
   * `ingest.auth_failure` event per channel/ip/code/reason class per minute
   * (floods collapse into one event; see `reasonClass`), so the rule
   * `ingestion.source_auth_failure` sees it. The id is salted with a secret
   * of this data dir: a sender cannot compute it ahead and occupy it through
   * `/v1/events`. Never throws.
   */
  authFailure(f: AuthFailure): void {
    try {
      this.recordAuthFailure(f);
    } catch (err) {
      // The sender still gets its 401/403: a full disk or a busy spool must not turn that into a 500.
      this.log.error({ err, channel: f.channel, code: 'MLTRAIL_ERR_INTERNAL' }, 'could not record an authentication failure');
    }
  }

  private recordAuthFailure(f: AuthFailure): void {
    this.metrics?.eventsRejected.inc({ channel: f.channel, reason: 'unauthenticated' });
    const now = new Date();
    const minute = Math.floor(now.getTime() / 60_000);
    const code = `MLTRAIL_ERR_${f.code ?? 'UNAUTHORIZED'}`;
    const kind = reasonClass(f.reason);
    if (minute !== this.authFailureMinute) [this.authFailureMinute, this.authFailureEvents] = [minute, 0];
    // Past MAX_AUTH_FAILURE_SOURCES events this minute, new addresses share one event per route, code and kind.
    const sourceKey = `${f.channel}|${f.ip ?? ''}|${code}|${kind}|${minute}`;
    const collapsed = !this.recentAuthFailures.has(sourceKey) && this.authFailureEvents >= MAX_AUTH_FAILURE_SOURCES;
    const key = collapsed ? `${f.channel}|*|${code}|${kind}|${minute}` : sourceKey;
    const count = (this.recentAuthFailures.get(key) ?? 0) + 1;
    this.recentAuthFailures.set(key, count);
    if (this.recentAuthFailures.size > 10_000) this.recentAuthFailures.clear();
    // The first of a minute, then every 100th: a flood must not flood the log too.
    if (count === 1 || count % 100 === 0) this.log.warn({ channel: f.channel, ip: f.ip, reason: f.reason, code, failures_this_minute: count, ...(collapsed ? { many_sources: true } : {}) }, 'sender failed authentication');
    if (count > 1) return;
    this.authFailureEvents++;
    const ev = makeEvent({
      id: stableId('bridge', 'auth_failure', this.idSalt(), f.channel, collapsed ? '*' : f.ip, code, kind, minute),
      time: now.toISOString(),
      platform: f.platform,
      channel: f.channel,
      stage: 'ingestion',
      action: 'ingest.auth_failure',
      operation: 'bridge.authenticate',
      service: 'mltrail',
      outcome: 'failure',
      error: { code, message: f.reason },
      // Collapsed: the first address of the spray is shown; `details.many_sources` says there were more.
      actor: { type: 'unknown', ip: f.ip, user_agent: f.user_agent },
      resource: { type: 'ingest_route', id: f.channel },
      details: f.claimed === undefined && !collapsed && !f.claims ? undefined : { ...(f.claimed === undefined ? {} : { claimed_principal: f.claimed }), ...(f.claims ? { unverified_claims: f.claims } : {}), ...(collapsed ? { many_sources: true } : {}) },
    });
    this.spool.append([{ kind: 'event', id: ev.id, body: JSON.stringify(ev) }]).catch((err: unknown) => {
      if (!(err instanceof MltrailError)) this.log.error({ err, code: 'MLTRAIL_ERR_INTERNAL' }, 'could not record auth failure');
    });
  }
}

export interface RecordsOutcome {
  accepted: number;
  duplicates: number;
  /** Records that could not be normalized (quarantined), with reasons. */
  rejected: Array<{ reason: string; path?: string; field?: string }>;
  skipped: Array<{ reason: string; path?: string }>;
}

/**
 * The path every live route and poller takes: normalize native records with the
 * connector's `normalize`, quarantine what it rejects (with the reason),
 * then validate, dedup and commit the events. Resolves after commit.
 *
 * @example
 * const out = await normalizeAndIngest(deps.ingest, (r) => normalize(r, ctx), [body], 'mlflow.webhook');
 */
export async function normalizeAndIngest(
  ingest: Ingestor,
  normalize: (record: unknown) => { events: unknown[]; rejected: Array<{ reason: string; path?: string; field?: string; record?: unknown }>; skipped: Array<{ reason: string; path?: string }> },
  records: Iterable<unknown>,
  channel: string,
  meta: Record<string, unknown> = {},
  opts: {
    quarantineBudget?: number;
    /**
     * What a rejected record is kept as in quarantine (a connector hides the secrets it knows of, as in `raw`);
     * default: as it came. A record it cannot redact is not kept, only its reason.
     */
    redactRejected?: (record: unknown) => unknown;
  } = {},
): Promise<RecordsOutcome> {
  let events: unknown[] = [];
  const out: RecordsOutcome = { accepted: 0, duplicates: 0, rejected: [], skipped: [] };
  const bad: QuarantineRow[] = [];
  const commits: Array<Promise<IngestResult>> = [];
  let yielded = Date.now();
  /** Let other requests have the event loop (see YIELD_AFTER_MS and INGEST_SLICE). */
  const letGo = async () => {
    await new Promise((r) => setImmediate(r));
    yielded = Date.now();
  };
  let i = -1;
  for (const rec of records) {
    i++;
    let res;
    try {
      res = normalize(rec);
    } catch (err) {
      const reason = err instanceof RangeError && nestedTooDeep(rec) ? `cannot normalize: JSON nested deeper than ${MAX_JSON_DEPTH} levels` : `cannot normalize: ${(err as Error).message}`;
      res = { events: [], rejected: [{ reason, record: rec }], skipped: [] };
    }
    // One by one, not push(...): a Firehose request of CloudWatch Logs batches holds hundreds of thousands of events.
    for (const e of res.events) events.push(e);
    for (const s of res.skipped) out.skipped.push(s);
    for (const rej of res.rejected) {
      out.rejected.push({ reason: rej.reason, path: rej.path, field: rej.field });
      // Bounded now, not when stored: forty rejected 60 MiB records must not be held until the end.
      bad.push(bounded({ reason: rej.reason, body: keptJson(rej.record ?? rec ?? null, opts.redactRejected), meta: { ...meta, record: i, path: rej.path, field: rej.field } }));
    }
    // Long records (a Firehose record that decodes to megabytes): other requests get the event loop too.
    if (Date.now() - yielded > YIELD_AFTER_MS) await letGo();
    // A large input goes to the spool in slices, and other requests get the event loop in between: the events
    // of one slice are garbage once serialized, so memory holds a slice, not the whole decoded request.
    if (events.length >= INGEST_SLICE) {
      const slice = ingest.ingest(events, channel, undefined, undefined, { quarantineBudget: opts.quarantineBudget });
      // Handled at the end (Promise.all); until then a failure must not count as an unhandled rejection.
      slice.catch(() => undefined);
      commits.push(slice);
      events = [];
      await letGo();
    }
  }
  ingest.quarantineMany(channel, bad, opts.quarantineBudget);
  commits.push(ingest.ingest(events, channel, undefined, undefined, { quarantineBudget: opts.quarantineBudget }));
  for (const r of await Promise.all(commits)) {
    out.accepted += r.accepted.length;
    out.duplicates += r.duplicates.length;
    for (const rej of r.rejected) out.rejected.push({ reason: rej.reason });
  }
  return out;
}

/** A rejected record's JSON text for quarantine, redacted by `redact` when given (see normalizeAndIngest). */
function keptJson(record: unknown, redact?: (record: unknown) => unknown): string {
  if (!redact) return boundedJson(record);
  try {
    return boundedJson(redact(record));
  } catch (err) {
    // Kept unredacted it could hold the very secrets redact hides: the reason stays, the body does not.
    return JSON.stringify(`[not kept: could not be redacted: ${(err as Error).message}]`);
  }
}

/** Work on one request's records before the event loop is let go to other requests (see normalizeAndIngest). */
const YIELD_AFTER_MS = 20;

/** Events normalized before they are handed to the spool and the event loop is let go (see normalizeAndIngest). */
const INGEST_SLICE = 1000;
