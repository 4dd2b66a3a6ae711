import { Hono } from 'hono';
import { z } from 'zod';
import { routePath } from 'hono/route';
import { MltrailError, errorBody } from '../core/errors.js';
import { bearerToken, clientIp, errorAsResponse, errorResponse, isTooLarge, readBody, sentBytes, safeEqual, requestChannel, splitJsonRecords, takeInternalError, takeUndecodableBody } from '../core/http/index.js';
import { quarantineBudget, type Ingestor } from '../core/ingest.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import type { Spool } from '../core/spool/index.js';
import type { ServerSettings } from '../core/connector.js';
import { stampReceived } from '../connectors/core/index.js';

export interface AppDeps {
  spool: Spool;
  ingest: Ingestor;
  logger: Logger;
  metrics: Metrics;
  server: ServerSettings;
  /** Per-sink and per-poller health for /readyz. */
  components: () => Record<string, { state: string; [k: string]: unknown }>;
  isShuttingDown: () => boolean;
  /** `spool.keep_raw`: false drops a sender's `raw` from events POSTed to /v1/events. */
  keepRaw?: boolean;
}

/** Rejected inputs an answer lists one by one; past it, only their count (a body of 200,000 bad lines answered 22 MB). */
const MAX_LISTED_REJECTED = 1000;

/**
 * The bridge's HTTP app: health, metrics, the generic event intake and the
 * alert listing. Connector routes are mounted on it by the runtime.
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const { metrics, logger } = deps;
  let lastSpoolWarning = 0;

  app.use('*', async (c, next) => {
    const start = performance.now();
    // The server lets a request without Host through (Node's own answer is an empty 400): HTTP/1.1 requires one.
    const incoming = (c.env as { incoming?: { httpVersion?: string } } | undefined)?.incoming;
    if (incoming?.httpVersion === '1.1' && c.req.header('host') === undefined) {
      c.header('Connection', 'close');
      return c.json(errorBody('BAD_REQUEST', 'an HTTP/1.1 request must carry a Host header'), 400);
    }
    if (deps.isShuttingDown() && c.req.method === 'POST') {
      c.header('Retry-After', '5');
      c.header('Connection', 'close');
      return c.json(errorBody('SHUTTING_DOWN', 'the bridge is shutting down; retry shortly'), 503);
    }
    const quarantined = deps.spool.quarantineCommits;
    await next();
    // A body no route could decode (corrupt gzip) is input that failed to parse: keep it with the reason.
    const undecodable = takeUndecodableBody(c);
    if (undecodable) {
      const route = routePath(c) || c.req.path;
      try {
        deps.ingest.quarantine(undecodable.channel ?? `http:${route}`, undecodable.reason, undecodable.body, { route, content_encoding: undecodable.encoding });
      } catch (err) {
        c.res = undefined;
        c.res = errorAsResponse(err);
      }
    }
    // Input kept in quarantine is acknowledged (2xx, or a 4xx the sender will not resend) only once it is on disk.
    if (deps.spool.quarantineCommits !== quarantined) {
      try {
        await deps.spool.synced();
      } catch (err) {
        logger.error({ err, code: 'MLTRAIL_ERR_INTERNAL' }, 'could not sync quarantined input to disk');
        c.res = undefined;
        c.res = errorAsResponse(new MltrailError('INTERNAL', 'could not store the input durably; retry'));
      }
    }
    const route = routePath(c) || 'unmatched';
    // Refused before any event could be counted: too large, or no room in the spool.
    const status = c.res.status;
    if (status === 413 || status === 503) {
      const code = status === 503 ? ((await c.res.clone().json().catch(() => undefined)) as { error?: { code?: string } } | undefined)?.error?.code : undefined;
      const reason = status === 413 ? 'too_large' : code === 'MLTRAIL_ERR_SPOOL_FULL' ? 'spool_full' : code === 'MLTRAIL_ERR_SPOOL_UNAVAILABLE' ? 'spool_error' : undefined;
      if (reason) metrics.eventsRejected.inc({ channel: requestChannel(c) ?? `http:${route}`, reason });
      // Input refused because the spool cannot take it is said in the log too, at most once a minute.
      const failure = deps.spool.writeError;
      if (reason && reason !== 'too_large' && failure && Date.now() - lastSpoolWarning > 60_000) {
        lastSpoolWarning = Date.now();
        logger.error({ code, reason: failure.message, route }, 'input refused: the spool cannot store it');
      }
    }
    const internal = takeInternalError(c);
    if (internal !== undefined) logger.error({ err: internal, code: 'MLTRAIL_ERR_INTERNAL', route, path: c.req.path }, 'request failed');
    metrics.requestDuration.observe({ route, method: c.req.method, status: String(c.res.status) }, (performance.now() - start) / 1000);
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', (c) => {
    let spool: { state: string; reason?: string; bytes?: number; held_bytes?: number; limit_bytes?: number };
    try {
      // Writable: take (and release) the write lock without changing anything.
      deps.spool.transaction(() => undefined);
      const sizes = { bytes: deps.spool.bytes, held_bytes: deps.spool.heldBytes, limit_bytes: deps.spool.maxBytes };
      const refused = deps.spool.writeError;
      spool = refused
        ? { state: 'error', reason: `${refused.message} (last at ${refused.at})`, ...sizes }
        : deps.spool.full
          ? { state: 'full', reason: 'spool at its size limit; input refused', ...sizes }
          : { state: 'ok', ...sizes };
    } catch (err) {
      spool = { state: 'error', reason: (err as Error).message };
    }
    const components = deps.components();
    const ready = spool.state === 'ok' && !deps.isShuttingDown();
    return c.json({ status: ready ? 'ready' : 'not_ready', spool, components }, ready ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });

  app.post('/v1/events', async (c) => {
    const channel = 'core.api';
    const route = '/v1/events';
    try {
      requireIngestToken(c, deps, channel);
      const body = await readBody(c, { maxBytes: deps.server.bodyLimitBytes, channel });
      let parsed: ReturnType<typeof splitJsonRecords>;
      try {
        parsed = splitJsonRecords(body);
      } catch (err) {
        // Refused whole for its size (too many records) is not kept, as a body over the limit is not.
        if (!isTooLarge(err)) deps.ingest.quarantine(channel, (err as Error).message, body, { route });
        throw err;
      }
      // NDJSON: a line that is not JSON is kept with its line number, like an array's bad element; the rest go on.
      const { records, lines, bad } = parsed;
      const budget = quarantineBudget(sentBytes(c, body));
      deps.ingest.quarantineMany(channel, bad.map((b) => ({ reason: b.reason, body: b.text, meta: { route, line: b.line } })), budget);
      // NDJSON: a rejected event is named (and quarantined) by its physical line; either way its row names the route,
      // as the rows of bodies that are not JSON do.
      const where = lines ? (i: number) => ({ label: `line ${lines[i]}`, meta: { route, line: lines[i] } }) : (i: number) => ({ label: `event ${i}`, meta: { route } });
      const res = await deps.ingest.ingest(stampReceived(records, new Date().toISOString(), deps.keepRaw ?? true), channel, undefined, where, { forwarded: true, quarantineBudget: budget });
      let rejected: Array<{ index: number; line?: number; id?: string; reason: string }> = res.rejected;
      if (lines && rejected.length + bad.length > 0) {
        // NDJSON: name the physical line, and count positions over every non-blank line (parsed or not).
        const position = new Map([...lines, ...bad.map((b) => b.line)].sort((a, b) => a - b).map((l, i) => [l, i]));
        rejected = [
          ...bad.map((b) => ({ index: position.get(b.line)!, line: b.line, reason: b.reason })),
          ...res.rejected.map((r) => {
            const line = lines[r.index]!;
            return { ...r, index: position.get(line)!, line };
          }),
        ].sort((a, b) => a.index - b.index);
      }
      // An empty batch ([] or blank NDJSON lines) holds nothing to reject: accepted, zero events.
      // The answer lists at most the first MAX_LISTED_REJECTED (all are quarantined); rejected_count says how many there were.
      const listed = rejected.length > MAX_LISTED_REJECTED ? { rejected: rejected.slice(0, MAX_LISTED_REJECTED), rejected_count: rejected.length } : { rejected };
      if (rejected.length > 0 && rejected.length === records.length + bad.length) {
        throw new MltrailError('VALIDATION', `no valid event in the request: ${rejected[0]?.reason}`, listed);
      }
      return c.json({ accepted: res.accepted.length, duplicates: res.duplicates.length, ...listed }, 200);
    } catch (err) {
      return errorResponse(c, err);
    }
  });

  app.get('/v1/alerts', (c) => {
    try {
      requireIngestToken(c, deps, 'core.alerts');
      const q = AlertsQuery.safeParse(c.req.query());
      if (!q.success) {
        const i = q.error.issues[0]!;
        // A misspelt parameter (`rule=`, `mode_=`) would otherwise widen the answer to every alert, silently.
        const parameter = i.code === 'unrecognized_keys' ? i.keys[0]! : i.path.join('.');
        const message = i.code === 'unrecognized_keys' ? `unknown, expected one of ${Object.keys(AlertsQuery.shape).join(', ')}` : i.message;
        throw new MltrailError('BAD_REQUEST', `query parameter ${parameter}: ${message}`, { parameter });
      }
      // Alert times are stored as toISOString() text: compare against the same form (any offset, any precision in).
      const since = q.data.since === undefined ? undefined : new Date(q.data.since).toISOString();
      const { alerts, cursor } = deps.spool.alertsPage({ since, rule_id: q.data.rule_id, mode: q.data.mode, limit: q.data.limit, after: q.data.after });
      return c.json({ alerts, cursor });
    } catch (err) {
      return errorResponse(c, err);
    }
  });

  app.notFound((c) => {
    // A route that exists under other methods answers 405 with Allow (RFC 9110 §15.5.6), not 404.
    const allowed = allowedMethods(app, c.req.path);
    if (allowed.length) {
      c.header('Allow', allowed.join(', '));
      return c.json(errorBody('METHOD_NOT_ALLOWED', `${c.req.method} is not allowed on ${c.req.path} (allowed: ${allowed.join(', ')})`, { allowed }), 405);
    }
    return c.json(errorBody('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`), 404);
  });
  app.onError((err, c) => {
    if (err instanceof MltrailError) return errorResponse(c, err);
    logger.error({ err, code: 'MLTRAIL_ERR_INTERNAL', path: c.req.path }, 'request failed');
    return c.json(errorBody('INTERNAL', 'internal error'), 500);
  });
  return app;
}

/**
 * Check the ingest bearer token when one is configured. Without one the
 * bridge only runs bound to loopback (checked at start), so local callers pass.
 */
export function requireIngestToken(c: Parameters<typeof clientIp>[0], deps: Pick<AppDeps, 'server' | 'ingest'>, channel: string): void {
  const expected = deps.server.ingestToken;
  if (!expected) return requireLocalCaller(c);
  const given = bearerToken(c);
  if (!given || !safeEqual(given, expected)) {
    deps.ingest.authFailure({
      platform: 'custom',
      channel,
      reason: given ? 'invalid bearer token' : 'missing bearer token',
      ip: clientIp(c),
      user_agent: c.req.header('user-agent'),
    });
    c.header('WWW-Authenticate', 'Bearer realm="mltrail"');
    throw new MltrailError('UNAUTHORIZED', given ? 'invalid bearer token' : 'missing Authorization: Bearer token (MLTRAIL_INGEST_TOKEN)');
  }
}

/** Host names that mean this machine: a request naming any other came through a name that resolves here (DNS rebinding). */
const LOCAL_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|\[::ffff:127(?:\.\d{1,3}){3}\])(?::\d+)?$/i;

/**
 * Without a token only local programs may call: a web page open on this
 * machine can also reach 127.0.0.1, by a cross-site POST (browsers send it
 * without asking when the content type is text/plain) or by DNS rebinding.
 * Browsers always send Origin on those, and a rebound name in Host; curl,
 * SDKs and connectors send neither.
 */
function requireLocalCaller(c: Parameters<typeof clientIp>[0]): void {
  const origin = c.req.header('origin');
  const host = c.req.header('host') ?? '';
  if (origin !== undefined || !LOCAL_HOST.test(host)) {
    throw new MltrailError('FORBIDDEN', `without MLTRAIL_INGEST_TOKEN only local programs may call this route (${origin !== undefined ? `a browser page (Origin ${origin.slice(0, 100)})` : `Host ${host.slice(0, 100)}`} refused); set MLTRAIL_INGEST_TOKEN to accept other callers`, { variable: 'MLTRAIL_INGEST_TOKEN' });
  }
}

/** Methods some route answers on `path` (middleware, registered for every method, does not count). */
function allowedMethods(app: Hono, path: string): string[] {
  const methods = new Set<string>();
  for (const r of app.routes) {
    if (r.method === 'ALL') continue;
    const pattern = new RegExp(`^${r.path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\/:[^/]+/g, '/[^/]+').replace(/\*/g, '.*')}$`);
    if (pattern.test(path)) methods.add(r.method);
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

/** GET /v1/alerts query: a bad value is a 400 naming the parameter, never a silently different answer. */
const AlertsQuery = z.strictObject({
  since: z.iso.datetime({ offset: true, error: 'expected an RFC 3339 time, e.g. 2026-11-25T00:00:00Z' }).optional(),
  rule_id: z.string().min(1).max(200).optional(),
  mode: z.enum(['observe', 'alert']).optional(),
  // A `cursor` from an earlier answer: the alerts raised since, oldest first.
  after: z.string().regex(/^\d{1,15}$/, 'expected a cursor (a whole number) from an earlier answer').transform(Number).optional(),
  // At most 1000 per answer: a larger ask gets 1000 (page on with `since`).
  limit: z.coerce
    .number({ error: 'expected a whole number of at least 1' })
    .int('expected a whole number of at least 1')
    .min(1, 'expected a whole number of at least 1')
    .transform((n) => Math.min(n, 1000))
    .default(100),
});
