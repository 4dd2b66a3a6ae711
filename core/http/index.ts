import { createHash, timingSafeEqual } from 'node:crypto';
import { IncomingMessage, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { gunzipSync, inflateSync } from 'node:zlib';
import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { MltrailError, errorBody, type ErrorKind } from '../errors.js';
import { parseJsonText } from '../input/depth.js';

/**
 * Constant-time string comparison (hashes first so lengths do not leak).
 *
 * @example
 * if (!safeEqual(given, expected)) throw new MltrailError('UNAUTHORIZED', 'bad token');
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** True when `given` equals any of `accepted`, checking all of them (no early exit). */
export function safeEqualAny(given: string, accepted: readonly string[]): boolean {
  let ok = false;
  for (const a of accepted) ok = safeEqual(given, a) || ok;
  return ok;
}

/** Unexpected errors routes answered with a 500, kept for the app to log (`takeInternalError`). */
const internalErrors = new WeakMap<Context, unknown>();

/** JSON error response in the catalogue's shape, with any extra headers (Retry-After). */
export function errorResponse(c: Context, err: unknown): Response {
  if (err instanceof MltrailError) {
    for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
    return c.json(err.toBody(), err.status as 400);
  }
  internalErrors.set(c, err);
  return c.json(errorBody('INTERNAL', 'internal error'), 500);
}

/**
 * The unexpected error a route answered with a 500 through `errorResponse`
 * (the sender sees only "internal error"), once: the app logs it.
 *
 * @example
 * const err = takeInternalError(c); if (err) logger.error({ err }, 'request failed');
 */
export function takeInternalError(c: Context): unknown {
  const err = internalErrors.get(c);
  internalErrors.delete(c);
  return err;
}

/**
 * The same JSON error as a new Response, built without the Context: for
 * middleware replacing a response a route already produced.
 */
export function errorAsResponse(err: unknown): Response {
  const e = err instanceof MltrailError ? err : undefined;
  const body = e ? e.toBody() : errorBody('INTERNAL', 'internal error');
  return new Response(JSON.stringify(body), { status: e?.status ?? 500, headers: { 'content-type': 'application/json', ...e?.headers } });
}

/** Shorthand for a JSON error without throwing. */
export function jsonError(c: Context, kind: ErrorKind, message: string, extra: Record<string, unknown> = {}): Response {
  return errorResponse(c, new MltrailError(kind, message, extra));
}

/** The remote address of the request (the TCP peer). */
export function clientIp(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

export interface ReadBodyOptions {
  /** Limit on the bytes as received (413 past it). */
  maxBytes: number;
  /** Limit on the bytes after Content-Encoding is undone (413 past it); defaults to 4 × maxBytes. */
  maxDecodedBytes?: number;
  /** Channel to quarantine an undecodable body under (see `takeUndecodableBody`). */
  channel?: string;
}

/** The channel a route named when reading its body (for metrics of refused requests). */
const channels = new WeakMap<object, string>();

/** The channel the route named for this request's body (`readBody`), if any. */
export function requestChannel(c: Context): string | undefined {
  return channels.get(c);
}

/** A body whose Content-Encoding could not be undone, per request, until the app quarantines it. */
const undecodable = new WeakMap<object, { body: Buffer; reason: string; channel?: string; encoding: string }>();

/**
 * The body (as sent, so within the route's size limit) that `readBody` could
 * not decode on this request, if any, handed out once. The bridge app
 * quarantines it after the route answered, for every route: input that fails
 * to parse is kept with its reason, even when it fails before JSON.
 */
export function takeUndecodableBody(c: Context): { body: Buffer; reason: string; channel?: string; encoding: string } | undefined {
  const u = undecodable.get(c);
  undecodable.delete(c);
  return u;
}

/**
 * Read the raw request body, enforcing the size limit while streaming and
 * undoing `Content-Encoding: gzip|deflate` with a bound on the decoded size.
 * Routes that verify a signature over the bytes as sent use `readRawBody`.
 */
export async function readBody(c: Context, opts: ReadBodyOptions): Promise<Buffer> {
  if (opts.channel) channels.set(c, opts.channel);
  const raw = await readRawBody(c, opts.maxBytes);
  const enc = (c.req.header('content-encoding') ?? '').trim().toLowerCase();
  if (!enc || enc === 'identity') return raw;
  const maxOutputLength = opts.maxDecodedBytes ?? opts.maxBytes * 4;
  try {
    if (enc === 'gzip' || enc === 'x-gzip') return gunzipSync(raw, { maxOutputLength });
    if (enc === 'deflate') return inflateSync(raw, { maxOutputLength });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new MltrailError('BODY_TOO_LARGE', `decoded body exceeds ${maxOutputLength} bytes`, { limit_bytes: maxOutputLength });
    }
    const reason = `body is not valid ${enc}: ${(err as Error).message}`;
    undecodable.set(c, { body: raw, reason, channel: opts.channel, encoding: enc });
    throw new MltrailError('BAD_REQUEST', reason);
  }
  throw new MltrailError('UNSUPPORTED_MEDIA_TYPE', `unsupported Content-Encoding: ${enc}`);
}

/**
 * Bytes of request bodies held before their sender could be authenticated, across requests. A route that
 * must read a body to check its signature (an HMAC over the body) holds it unauthenticated: without a
 * bound, a few hundred connections each sending a body just under the limit and then stalling held
 * hundreds of MB until the request timeout. Each request takes a lease, counts what it reads, and
 * gives it back when answered; past the limit the request is refused with 503 + Retry-After.
 *
 * @example
 * const lease = budget.lease(); try { body = await readRawBody(c, max, channel, lease); … } finally { lease.release(); }
 */
export class UnverifiedBodyBudget {
  private used = 0;
  constructor(readonly limitBytes: number, readonly retryAfterS = 5) {}
  /** Bytes held right now. */
  get heldBytes(): number {
    return this.used;
  }
  /** One request's share: `add` counts bytes read (false past the limit, nothing counted), `release` gives all back once, `busy` is the answer past it. */
  lease(): { add(n: number): boolean; release(): void; busy(): MltrailError } {
    let mine = 0;
    let released = false;
    return {
      add: (n) => {
        if (released || this.used + n > this.limitBytes) return false;
        this.used += n;
        mine += n;
        return true;
      },
      release: () => {
        if (released) return;
        released = true;
        this.used -= mine;
        mine = 0;
      },
      busy: () => this.busy(),
    };
  }
  /** The 503 a request gets while the budget is spent. */
  busy(): MltrailError {
    return new MltrailError(
      'BUSY',
      `too many unauthenticated request bodies are being received at once (${this.limitBytes} bytes in all); retry shortly`,
      { retry_after_s: this.retryAfterS },
      { 'Retry-After': String(this.retryAfterS) },
    );
  }
}

/**
 * Read the body bytes exactly as sent, up to `maxBytes` (413 past it, without reading the rest); `channel` names the
 * route's input in metrics. With a `lease`, each chunk is counted against its budget first (503 BUSY past it).
 */
export async function readRawBody(c: Context, maxBytes: number, channel?: string, lease?: { add(n: number): boolean; busy(): MltrailError }): Promise<Buffer> {
  if (channel) channels.set(c, channel);
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new MltrailError('BODY_TOO_LARGE', `request body of ${declared} bytes exceeds the limit of ${maxBytes}`, { limit_bytes: maxBytes });
  }
  // Served by @hono/node-server: read Node's request stream directly. Going through `c.req.raw.body`
  // builds a full web Request (AbortSignal, web stream adapters) per request: ~50 µs of event loop.
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming instanceof IncomingMessage && !incoming.readableDidRead && !incoming.readableEnded) return readIncoming(incoming, maxBytes, lease);
  const stream = c.req.raw.body;
  if (!stream) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    if (lease && !lease.add(value.byteLength)) {
      await reader.cancel().catch(() => {});
      throw lease.busy();
    }
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

const tooLarge = (maxBytes: number) =>
  new MltrailError('BODY_TOO_LARGE', `request body exceeds the limit of ${maxBytes} bytes`, { limit_bytes: maxBytes });

/** Collect a Node request body up to `maxBytes`; past it, stop reading (the server adapter drains or closes the rest). */
function readIncoming(incoming: IncomingMessage, maxBytes: number, lease?: { add(n: number): boolean; busy(): MltrailError }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (err?: unknown) => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
      if (err) {
        incoming.pause();
        reject(err);
      } else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    };
    const onData = (d: Buffer) => {
      total += d.length;
      if (total > maxBytes) done(tooLarge(maxBytes));
      else if (lease && !lease.add(d.length)) done(lease.busy());
      else chunks.push(d);
    };
    const onEnd = () => done();
    const onError = (err: Error) => done(err);
    const onClose = () => {
      if (!incoming.complete) done(new MltrailError('BAD_REQUEST', 'the client closed the connection before the body was complete'));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}

/** The token of an `Authorization: Bearer …` header, or undefined. */
export function bearerToken(c: Context): string | undefined {
  const h = c.req.header('authorization');
  if (!h) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  return m?.[1]?.trim();
}

/**
 * Records one request may carry (array elements, NDJSON lines, an EventList's items, a Firehose request's
 * records, what nested arrays hold at any depth). Parsing, normalizing and quarantining run on the event loop: a 3 KB gzip
 * of a million `{}` held every route for seconds. Real senders stay far below (an apiserver batch is 400
 * events, a Firehose buffer of ≤ 64 MiB holds tens of thousands of records).
 */
export const MAX_RECORDS_PER_REQUEST = 100_000;

/**
 * Refuse a request holding more than MAX_RECORDS_PER_REQUEST records (413, like a body over its limit):
 * counts the values and everything in their arrays, and in the `records`/`items`/`Records`/`logEvents`
 * lists of each object, stopping at the bound.
 *
 * @example
 * assertRecordCount(parseJsonRecords(body)); // throws BODY_TOO_LARGE past 100,000
 */
export function assertRecordCount(values: unknown[], limit = MAX_RECORDS_PER_REQUEST): void {
  // Arrays at any depth (a connector walks nested arrays: `[[[{}…]]]` must not slip past), and the record lists
  // of known envelopes; iterative, so deep nesting cannot overflow the stack here.
  let n = 0;
  const stack: unknown[] = [...values];
  while (stack.length) {
    const v = stack.pop();
    // An array is not a record; what it holds is.
    if (Array.isArray(v)) {
      if (v.length > limit) throw tooManyRecords(limit);
      for (const x of v) stack.push(x);
      continue;
    }
    if (++n > limit) throw tooManyRecords(limit);
    if (v === null || typeof v !== 'object') continue;
    for (const k of ['records', 'items', 'Records', 'logEvents']) {
      const list = (v as Record<string, unknown>)[k];
      if (Array.isArray(list)) stack.push(list);
    }
  }
}

/**
 * Whether an error refuses a request whole for its size (a body over its limit, too many records): such
 * input is not quarantined — keeping what a tiny gzip decodes to would let a few KB fill the spool.
 *
 * @example
 * if (!isTooLarge(err)) ingest.quarantine(channel, err.message, body);
 */
export const isTooLarge = (err: unknown): boolean => err instanceof MltrailError && err.kind === 'BODY_TOO_LARGE';

const tooManyRecords = (limit: number) =>
  new MltrailError('BODY_TOO_LARGE', `the request holds more than ${limit} records; send at most ${limit} per request`, { limit_records: limit });

/**
 * Bytes a request carried on the wire (its Content-Length, else the body as read): what its quarantine
 * budget is measured against (a gzip body decodes to far more).
 *
 * @example
 * normalizeAndIngest(ingest, normalize, records, channel, meta, { quarantineBudget: quarantineBudget(sentBytes(c, body)) });
 */
export function sentBytes(c: Context, body: Buffer): number {
  const declared = Number(c.req.header('content-length'));
  return Number.isFinite(declared) && declared >= 0 ? declared : body.length;
}

/** What `splitJsonRecords` found in a body. */
export interface JsonRecords {
  /** The values, in body order. */
  records: unknown[];
  /** For an NDJSON body: the physical (1-based) line of each record. */
  lines?: number[];
  /** NDJSON lines that are not JSON: physical line, reason and the line as sent. */
  bad: Array<{ line: number; reason: string; text: string }>;
}

/** Whether the text has more than `limit` non-blank lines (stops counting there). */
function lineCountOver(text: string, limit: number): boolean {
  let lines = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    if (text.slice(start, end).trim() && ++lines > limit) return true;
    start = end + 1;
  }
  return false;
}

/**
 * Split a JSON, JSON array or NDJSON body into records, keeping every NDJSON
 * line that parses and reporting the others by physical line number (blank
 * lines count, as an editor counts them). Throws INVALID_JSON only when
 * nothing in the body is JSON.
 *
 * @example
 * const { records, bad } = splitJsonRecords(body); // quarantine `bad`, ingest `records`
 */
export function splitJsonRecords(body: Buffer | string): JsonRecords {
  const text = (typeof body === 'string' ? body : body.toString('utf8')).replace(/^\uFEFF/, '');
  const trimmed = text.trim();
  if (!trimmed) throw new MltrailError('INVALID_JSON', 'empty body');
  // Counted before anything is parsed: NDJSON of millions of lines is refused without parsing them.
  if (lineCountOver(text, MAX_RECORDS_PER_REQUEST)) throw tooManyRecords(MAX_RECORDS_PER_REQUEST);
  let wholeError: Error | undefined;
  let whole: unknown;
  try {
    // Nesting no record may have is refused before any parse (see MAX_BODY_DEPTH); NDJSON lines are then
    // taken one by one below, so the lines that are fine still go in.
    whole = parseJsonText(trimmed);
  } catch (err) {
    wholeError = err as Error;
  }
  if (!wholeError) {
    const records = Array.isArray(whole) ? whole : [whole];
    assertRecordCount(records);
    return { records, bad: [] };
  }
  const out: Required<JsonRecords> = { records: [], lines: [], bad: [] };
  const physical = text.split('\n');
  let nonBlank = 0;
  physical.forEach((raw, i) => {
    const l = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!l.trim()) return;
    nonBlank++;
    try {
      out.records.push(parseJsonText(l));
      out.lines.push(i + 1);
    } catch (e) {
      out.bad.push({ line: i + 1, reason: `NDJSON line ${i + 1} is not JSON: ${(e as Error).message}`, text: l });
    }
  });
  // One line (a single document) or no line at all that parses: the body as a whole is not JSON.
  if (nonBlank < 2) throw new MltrailError('INVALID_JSON', `body is not JSON: ${wholeError.message}`);
  if (out.records.length === 0) throw new MltrailError('INVALID_JSON', out.bad[0]!.reason, { line: out.bad[0]!.line });
  return out;
}

/**
 * Parse JSON, NDJSON or a JSON array body into a list of values, all or
 * nothing: for routes whose platform sends one JSON document per request
 * (an EventBridge event, an audit EventList), where a line that is not JSON
 * means the body as a whole is not what the platform sends.
 */
export function parseJsonRecords(body: Buffer | string): unknown[] {
  const { records, bad } = splitJsonRecords(body);
  if (bad.length) throw new MltrailError('INVALID_JSON', bad[0]!.reason, { line: bad[0]!.line });
  return records;
}

/**
 * What Node's HTTP parser refuses before any route runs (a header block over
 * its limit, a malformed request line, a Content-Length that is not a
 * number, a request too slow to arrive): by default Node answers these with
 * an empty body. Returns the handler for the server's `clientError` event,
 * which answers in the catalogue's JSON error shape and closes the
 * connection (the parser's state is lost, so it cannot carry another request).
 *
 * @example
 * server.on('clientError', clientErrorHandler());
 */
export function clientErrorHandler(): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    // Nothing to answer on a connection the peer reset, nor in the middle of a response already begun on it
    // (as Node decides; an earlier keep-alive request's finished response does not count).
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) return void socket.destroy();
    // An HTTPS server hands its TLS handshake timeout here too (Node closes such a socket only when nothing listens
    // for clientError): an answer written there waits for a handshake that never comes, so the connection, and its
    // file descriptor, stayed open for good, even after the peer closed.
    if (socket instanceof TLSSocket && !(socket as { _secureEstablished?: boolean })._secureEstablished) return void socket.destroy();
    const [status, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'request header fields too large: together they exceed the server limit (16 KB by default)']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'the request did not arrive in time']
          : [400, `malformed HTTP request${err.code ? ` (${err.code})` : ''}`];
    const body = JSON.stringify(errorBody('BAD_REQUEST', message));
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  };
}
