import type { Context, Hono } from 'hono';
import type { ConnectorDeps, NormalizeContext } from '../../core/connector.js';
import { MltrailError } from '../../core/errors.js';
import { assertRecordCount, clientIp, errorResponse, isTooLarge, parseJsonRecords, readBody, safeEqual, safeEqualAny, sentBytes } from '../../core/http/index.js';
import { normalizeAndIngest, quarantineBudget, type RecordsOutcome } from '../../core/ingest.js';
import { parseJsonText } from '../../core/input/depth.js';
import { MinuteSampler } from '../../core/log-sampler.js';
import type { SagemakerConfig } from './config.js';
import { decodeData, normalizeSagemaker } from './normalize.js';
import { isObj } from './util.js';
import { redactJobSecrets } from '../../core/secrets.js';

export const EVENTBRIDGE_PATH = '/v1/ingest/sagemaker/eventbridge';
export const FIREHOSE_PATH = '/v1/ingest/sagemaker/firehose';
const EB_CHANNEL = 'sagemaker.eventbridge';
const FH_CHANNEL = 'sagemaker.firehose';

function normalizeCtx(deps: ConnectorDeps<SagemakerConfig>, channel: string, meta: Record<string, unknown>): NormalizeContext<SagemakerConfig> {
  return { channel, receivedTime: new Date().toISOString(), keepRaw: deps.keepRaw, config: deps.config, meta };
}

/** Per-request lines (skips, a Firehose batch's quarantined records): the first of a minute per channel, then every 100th. */
const requestLines = new WeakMap<ConnectorDeps<SagemakerConfig>, MinuteSampler>();
function sampled(deps: ConnectorDeps<SagemakerConfig>, key: string): number | undefined {
  let sampler = requestLines.get(deps);
  if (!sampler) requestLines.set(deps, (sampler = new MinuteSampler()));
  return sampler.take(key);
}

function logSkipped(deps: ConnectorDeps<SagemakerConfig>, channel: string, out: RecordsOutcome): void {
  if (!out.skipped.length) return;
  const seen = sampled(deps, `skipped|${channel}`);
  if (seen !== undefined) deps.logger.info({ channel, skipped: out.skipped.length, reasons: [...new Set(out.skipped.map((s) => s.reason))].slice(0, 10), requests_this_minute: seen }, 'records recognised and skipped');
}

/** `Authorization: Basic` → user and password, or undefined. */
function basicCredentials(c: Context): { user: string; pass: string } | undefined {
  const h = c.req.header('authorization');
  const m = h ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h) : null;
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { user: decoded.slice(0, i), pass: decoded.slice(i + 1) };
}

/**
 * EventBridge API destination target. The connection authenticates with an
 * API key header (`ApiKeyName`/`ApiKeyValue`, `x-api-key` by default) or
 * Basic auth whose password is an API key. EventBridge retries 429/5xx and
 * gives up on other 4xx, so: a full spool answers 503 + Retry-After, bad
 * input 400 (and is quarantined), success 200 after commit.
 */
function mountEventBridge(app: Hono, deps: ConnectorDeps<SagemakerConfig>): void {
  const cfg = deps.config.eventbridge;
  app.post(EVENTBRIDGE_PATH, async (c) => {
    try {
      if (!cfg.api_keys.length) {
        throw new MltrailError('NOT_CONFIGURED', 'EventBridge ingest is not configured: set MLTRAIL_EVENTBRIDGE_API_KEY (connectors.sagemaker.eventbridge.api_keys)', { variable: 'MLTRAIL_EVENTBRIDGE_API_KEY' });
      }
      const headerKey = c.req.header(cfg.api_key_header);
      const basic = headerKey === undefined ? basicCredentials(c) : undefined;
      const given = headerKey ?? basic?.pass;
      const userOk = !basic || !cfg.basic_username || safeEqual(basic.user, cfg.basic_username);
      if (given === undefined || !safeEqualAny(given, cfg.api_keys) || !userOk) {
        const reason = given === undefined ? `missing ${cfg.api_key_header} header or Basic credentials` : 'invalid API key';
        deps.ingest.authFailure({ platform: 'sagemaker', channel: EB_CHANNEL, reason, ip: clientIp(c), user_agent: c.req.header('user-agent'), claimed: basic?.user });
        throw new MltrailError('UNAUTHORIZED', reason);
      }
      const body = await readBody(c, { maxBytes: cfg.max_body_bytes, channel: EB_CHANNEL });
      let records: unknown[];
      try {
        records = parseJsonRecords(body);
      } catch (err) {
        // Refused whole for its size (too many records) is not kept, as a body over the limit is not.
        if (!isTooLarge(err)) deps.ingest.quarantine(EB_CHANNEL, (err as Error).message, body, { route: EVENTBRIDGE_PATH });
        throw err;
      }
      const meta = { route: EVENTBRIDGE_PATH };
      const ctx = normalizeCtx(deps, EB_CHANNEL, meta);
      const out = await normalizeAndIngest(deps.ingest, (r) => normalizeSagemaker(r, ctx), records, EB_CHANNEL, meta, { quarantineBudget: quarantineBudget(sentBytes(c, body)), redactRejected: redactJobSecrets });
      logSkipped(deps, EB_CHANNEL, out);
      if (out.rejected.length && out.accepted + out.duplicates + out.skipped.length === 0) {
        throw new MltrailError('VALIDATION', `no usable record in the request (quarantined): ${out.rejected[0]?.reason}`, { rejected: out.rejected });
      }
      return c.json({ accepted: out.accepted, duplicates: out.duplicates, skipped: out.skipped.length, rejected: out.rejected }, 200);
    } catch (err) {
      return errorResponse(c, err);
    }
  });
}

/**
 * Amazon Data Firehose HTTP endpoint delivery (spec §3c). Every answer is
 * JSON with the request id and a timestamp. Firehose treats only 200 as
 * delivered and only 413 as final; anything else is retried until the
 * stream's retry duration ends and then goes to its S3 backup bucket.
 * A record that cannot be read is quarantined and the rest delivered.
 */
function mountFirehose(app: Hono, deps: ConnectorDeps<SagemakerConfig>): void {
  const cfg = deps.config.firehose;
  app.post(FIREHOSE_PATH, async (c) => {
    let requestId = c.req.header('x-amz-firehose-request-id') ?? '';
    const answer = (status: number, err?: unknown) => {
      const timestamp = Date.now();
      if (!err) return c.json({ requestId, timestamp }, 200);
      const e = err instanceof MltrailError ? err : new MltrailError('INTERNAL', 'internal error');
      if (!(err instanceof MltrailError)) deps.logger.error({ err, code: e.code, request_id: requestId }, 'firehose delivery failed');
      for (const [k, v] of Object.entries(e.headers)) c.header(k, v);
      return c.json({ requestId, timestamp, errorMessage: e.message.slice(0, 8192), ...e.toBody() }, (status || e.status) as 400);
    };
    try {
      if (!cfg.access_keys.length) {
        throw new MltrailError('NOT_CONFIGURED', 'Firehose ingest is not configured: set MLTRAIL_FIREHOSE_ACCESS_KEY (connectors.sagemaker.firehose.access_keys)', { variable: 'MLTRAIL_FIREHOSE_ACCESS_KEY' });
      }
      const key = c.req.header('x-amz-firehose-access-key');
      if (key === undefined || !safeEqualAny(key, cfg.access_keys)) {
        const reason = key === undefined ? 'missing X-Amz-Firehose-Access-Key' : 'invalid X-Amz-Firehose-Access-Key';
        deps.ingest.authFailure({ platform: 'sagemaker', channel: FH_CHANNEL, reason, ip: clientIp(c), user_agent: c.req.header('user-agent'), claimed: c.req.header('x-amz-firehose-source-arn') });
        throw new MltrailError('UNAUTHORIZED', reason);
      }
      const version = c.req.header('x-amz-firehose-protocol-version');
      if (version !== undefined && version !== '1.0') throw new MltrailError('BAD_REQUEST', `unsupported X-Amz-Firehose-Protocol-Version ${version} (expected 1.0)`);
      const body = await readBody(c, { maxBytes: cfg.max_body_bytes, maxDecodedBytes: cfg.max_decoded_bytes, channel: FH_CHANNEL });
      const meta: Record<string, unknown> = { route: FIREHOSE_PATH, request_id: requestId || undefined, source_arn: c.req.header('x-amz-firehose-source-arn') };
      let parsed: unknown;
      try {
        parsed = parseJsonText(body.toString('utf8'));
      } catch (err) {
        deps.ingest.quarantine(FH_CHANNEL, `Firehose body is not JSON: ${(err as Error).message}`, body, meta);
        throw new MltrailError('INVALID_JSON', `body is not JSON: ${(err as Error).message}`);
      }
      assertRecordCount([parsed]);
      if (!isObj(parsed) || typeof parsed.requestId !== 'string' || !Array.isArray(parsed.records)) {
        deps.ingest.quarantine(FH_CHANNEL, 'not a Firehose request ({requestId, timestamp, records[]})', body, meta);
        throw new MltrailError('BAD_REQUEST', 'body is not a Firehose request: expected {"requestId", "timestamp", "records":[{"data"}]}');
      }
      if (requestId && parsed.requestId !== requestId) {
        throw new MltrailError('BAD_REQUEST', 'X-Amz-Firehose-Request-Id does not match the body requestId');
      }
      requestId ||= parsed.requestId;
      meta.request_id = requestId;
      // Record by record: a buffer of CloudWatch Logs batches can hold hundreds of thousands of events, normalized
      // and committed in slices with the event loop let go in between. Each record decodes to at most 64 MiB;
      // a total across the request would refuse readable records of a legitimate buffer (they were lost).
      const ctx = normalizeCtx(deps, FH_CHANNEL, meta);
      // Units are made as they are reached (a large record decoded only then), and forgotten once done.
      const place = new WeakMap<object, (path?: string) => string | undefined>();
      const units = (function* () {
        for (const u of firehoseUnits(parsed.requestId, parsed.timestamp, parsed.records as unknown[])) {
          place.set(u.record, u.place);
          yield u.record;
        }
      })();
      const normalizeOne = (unit: unknown) => {
        const at = place.get(unit as object) ?? ((p?: string) => p);
        const res = normalizeSagemaker(unit, ctx);
        return {
          events: res.events,
          rejected: res.rejected.map((r) => ({ ...r, path: at(r.path) })),
          skipped: res.skipped.map((s) => ({ ...s, path: at(s.path) })),
        };
      };
      const out = await normalizeAndIngest(deps.ingest, normalizeOne, units, FH_CHANNEL, meta, { quarantineBudget: quarantineBudget(sentBytes(c, body)), redactRejected: redactJobSecrets });
      logSkipped(deps, FH_CHANNEL, out);
      const seen = out.rejected.length ? sampled(deps, `rejected|${FH_CHANNEL}`) : undefined;
      if (seen !== undefined) deps.logger.warn({ channel: FH_CHANNEL, request_id: requestId, rejected: out.rejected.length, accepted: out.accepted, requests_this_minute: seen }, 'some Firehose records quarantined');
      return answer(200);
    } catch (err) {
      return answer(err instanceof MltrailError ? err.status : 500, err);
    }
  });
}

/** CloudWatch Logs events normalized as one unit of a Firehose request (the event loop is let go between units). */
const CWL_SLICE = 1000;

/**
 * A Firehose request's records as units of work, each with how to name a path in it as a path of the request:
 * a record as a one-record request, except a large CloudWatch Logs batch, decoded here once and cut into
 * batches of CWL_SLICE (one record of 150,000 events held every route for 6 s).
 */
function* firehoseUnits(requestId: unknown, timestamp: unknown, records: unknown[]): Generator<{ record: object; place: (path?: string) => string | undefined }> {
  for (let i = 0; i < records.length; i++) {
    const fr = records[i];
    const batch = largeCwlBatch(fr);
    if (batch) {
      // Normalized as decoded here (not decoded again), in batches of CWL_SLICE events.
      const { envelope, events } = batch;
      for (let o = 0; o < Math.max(1, events.length); o += CWL_SLICE) {
        const from = o;
        yield { record: { ...envelope, logEvents: events.slice(o, o + CWL_SLICE) }, place: (p) => p?.replace(/^logEvents\[(\d+)\]/, (_, j: string) => `records[${i}].logEvents[${from + Number(j)}]`) ?? `records[${i}]` };
      }
      continue;
    }
    yield { record: { requestId, timestamp, records: [fr] }, place: (p) => p?.replace(/^records\[0\]/, `records[${i}]`) };
  }
}

/** A large Firehose record that decodes to a CloudWatch Logs batch: its envelope and events (a small one is left to the normalizer). */
function largeCwlBatch(fr: unknown): { envelope: Record<string, unknown>; events: unknown[] } | undefined {
  const data = isObj(fr) ? fr.data : undefined;
  if (typeof data !== 'string' || data.length <= 64 * 1024) return undefined;
  const decoded = decodeData(data);
  if (!('text' in decoded)) return undefined;
  let cwl: unknown;
  try {
    cwl = parseJsonText(decoded.text);
  } catch {
    return undefined;
  }
  if (!isObj(cwl) || typeof cwl.messageType !== 'string' || !Array.isArray(cwl.logEvents)) return undefined;
  const { logEvents, ...envelope } = cwl;
  return { envelope, events: logEvents as unknown[] };
}

/**
 * Mount the SageMaker ingest routes.
 *
 * @example
 * mountSagemakerRoutes(app, deps) // POST /v1/ingest/sagemaker/{eventbridge,firehose}
 */
export function mountSagemakerRoutes(app: Hono, deps: ConnectorDeps<SagemakerConfig>): void {
  mountEventBridge(app, deps);
  mountFirehose(app, deps);
}
