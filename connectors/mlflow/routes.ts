import type { Context, Hono } from 'hono';
import type { ConnectorDeps, NormalizeContext } from '../../core/connector.js';
import { MltrailError } from '../../core/errors.js';
import { UnverifiedBodyBudget, clientIp, errorResponse, readRawBody } from '../../core/http/index.js';
import { normalizeAndIngest } from '../../core/ingest.js';
import { MAX_JSON_DEPTH, nestedTooDeep, parseJsonText } from '../../core/input/depth.js';
import type { MlflowConfig } from './config.js';
import { normalizeMlflow } from './normalize.js';
import { keptBody, redactRejectedRecord } from './redact.js';
import { fromServer } from '../../core/schema/index.js';
import { signedBy, verifyDatabricksSignature, verifyMlflowSignature, type WebhookSender } from './signature.js';

export const WEBHOOK_CHANNEL = 'mlflow.webhook';
export const DATABRICKS_CHANNEL = 'mlflow.databricks';
const SECRET_VAR = 'MLTRAIL_MLFLOW_WEBHOOK_SECRET';

export interface RouteOptions {
  /** Clock in ms (tests pin it to the fixtures' signing time). */
  now: () => number;
  /** Bytes of bodies held at once before their signature is checked (default: UNVERIFIED_BODY_BYTES, at least 4 × body_limit_bytes). */
  unverifiedBodyBytes?: number;
}

/**
 * Bytes of webhook bodies the two routes hold at once before their signature could be checked. MLflow and
 * Databricks bodies are a few hundred bytes; without a bound, 800 unauthenticated connections each sending
 * 1 MiB less a byte held 800 MB until Node's request timeout (300 s). Past it a request gets 503 +
 * Retry-After, which MLflow retries.
 */
export const UNVERIFIED_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Mount `POST /v1/ingest/mlflow` (MLflow OSS webhooks; Databricks bodies are
 * recognised by their `X-Databricks-Signature` header) and
 * `POST /v1/ingest/mlflow/databricks`.
 *
 * @example
 * mountMlflowRoutes(app, deps, { now: Date.now });
 */
export function mountMlflowRoutes(app: Hono, deps: ConnectorDeps<MlflowConfig>, opts: RouteOptions): void {
  const short = [...mlflowSenders(deps.config), ...databricksSenders(deps.config)].flatMap((s) => s.secrets).filter((s) => s.length < 16).length;
  if (short) deps.logger.warn({ count: short, code: 'MLTRAIL_ERR_CONFIG' }, 'MLflow webhook secret(s) shorter than 16 characters: use a long random secret (e.g. openssl rand -hex 32)');
  const budget = new UnverifiedBodyBudget(opts.unverifiedBodyBytes ?? Math.max(UNVERIFIED_BODY_BYTES, 4 * deps.config.body_limit_bytes));
  // The lease is given back once the request is answered: its body is no longer held unauthenticated.
  const leased = async (c: Context, handle: (c: Context, lease: Lease) => Promise<Response>) => {
    const lease = budget.lease();
    try {
      return await handle(c, lease);
    } finally {
      lease.release();
    }
  };
  app.post('/v1/ingest/mlflow', (c) => {
    const isDatabricks = !c.req.header('x-mlflow-signature') && !!c.req.header('x-databricks-signature');
    return leased(c, (c, lease) => (isDatabricks ? handleDatabricks(c, deps, opts, lease) : handleMlflow(c, deps, opts, lease)));
  });
  app.post('/v1/ingest/mlflow/databricks', (c) => leased(c, (c, lease) => handleDatabricks(c, deps, opts, lease)));
}

/** The default server (top-level secrets) and each configured one (`servers[]`), those with secrets. */
function mlflowSenders(cfg: MlflowConfig): WebhookSender[] {
  return [{ secrets: cfg.webhook_secrets }, ...cfg.servers.map((s) => ({ server: s.id, secrets: s.webhook_secrets }))].filter((s) => s.secrets.length > 0);
}

/** As mlflowSenders, for X-Databricks-Signature: each server's Databricks secrets, else its webhook secrets. */
function databricksSenders(cfg: MlflowConfig): WebhookSender[] {
  const own = (dbx: string[] | undefined, plain: string[]) => (dbx?.length ? dbx : plain);
  return [{ secrets: own(cfg.databricks_webhook_secrets, cfg.webhook_secrets) }, ...cfg.servers.map((s) => ({ server: s.id, secrets: own(s.databricks_webhook_secrets, s.webhook_secrets) }))].filter((s) => s.secrets.length > 0);
}

function notConfigured(which: string): MltrailError {
  return new MltrailError('NOT_CONFIGURED', `${which} webhooks are not accepted: no webhook secret is configured; set ${SECRET_VAR} (comma-separated for rotation) or connectors.mlflow.webhook_secrets`, {
    variable: SECRET_VAR,
    config_key: 'connectors.mlflow.webhook_secrets',
  });
}

/** Report the failure, then throw the 401 the sender gets. */
function deny(c: Context, deps: ConnectorDeps<MlflowConfig>, channel: string, kind: 'SIGNATURE' | 'STALE_TIMESTAMP', reason: string, claimed?: string): never {
  deps.ingest.authFailure({ platform: 'mlflow', channel, reason, code: kind, ip: clientIp(c), user_agent: c.req.header('user-agent'), claimed });
  throw new MltrailError(kind, reason);
}

type Lease = ReturnType<UnverifiedBodyBudget['lease']>;

/** The configured server a delivery came from, in the answer and quarantine records (none for the default server). */
const serverMeta = (sender: WebhookSender): Record<string, unknown> => (sender.server !== undefined ? { server: sender.server } : {});

async function readSignedBody(c: Context, deps: ConnectorDeps<MlflowConfig>, channel: string, lease: Lease): Promise<Buffer> {
  const enc = (c.req.header('content-encoding') ?? '').trim().toLowerCase();
  // The signature covers the bytes MLflow sent; MLflow never compresses, so an encoded body is not from it.
  if (enc && enc !== 'identity') throw new MltrailError('UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${enc} is not accepted: MLflow signs the uncompressed body`);
  return readRawBody(c, deps.config.body_limit_bytes, channel, lease);
}

/** The headers that authenticated a delivery of `channel`, named in its quarantine records (their values are not kept). */
const SIGNATURE_HEADERS: Record<string, string[]> = {
  [WEBHOOK_CHANNEL]: ['X-MLflow-Signature', 'X-MLflow-Delivery-Id', 'X-MLflow-Timestamp'],
  [DATABRICKS_CHANNEL]: ['X-Databricks-Signature'],
};

async function ingestVerified(
  c: Context,
  deps: ConnectorDeps<MlflowConfig>,
  channel: string,
  body: Buffer,
  meta: Record<string, unknown>,
  receivedTime: string,
  server: string | undefined,
): Promise<Response> {
  // Quarantine keeps the signed bytes (evidence) unless they hold a secret a user put in a tag or description: then
  // the body redacted as raw is, with the signed bytes' length and SHA-256 (keptBody).
  const keep = (reason: string, parsed: unknown, extra: Record<string, unknown> = {}) => {
    const kept = keptBody(body, parsed);
    const size = typeof kept.body === 'string' ? Buffer.byteLength(kept.body) : kept.body.length;
    deps.ingest.quarantine(channel, reason, kept.body, { ...meta, ...extra, signature_headers: SIGNATURE_HEADERS[channel], ...kept.meta }, { whole: size });
  };
  let record: unknown;
  try {
    record = parseJsonText(body.toString('utf8'));
  } catch (err) {
    keep(`signed body is not JSON: ${(err as Error).message}`, undefined);
    throw new MltrailError('INVALID_JSON', `body is not JSON: ${(err as Error).message}`, { quarantined: true });
  }
  if (nestedTooDeep(record)) {
    const reason = `signed body nests JSON deeper than ${MAX_JSON_DEPTH} levels`;
    keep(reason, undefined);
    throw new MltrailError('INVALID_JSON', reason, { quarantined: true });
  }
  const ctx: NormalizeContext<MlflowConfig> = { channel, receivedTime, keepRaw: deps.keepRaw, config: deps.config, meta };
  const normalized = normalizeMlflow(record, ctx);
  // A configured server's events say which it is (the secret that verified the delivery told).
  if (server !== undefined) normalized.events = normalized.events.map((ev) => fromServer(ev, server));
  if (normalized.events.length === 0 && normalized.rejected.length > 0) {
    const rej = normalized.rejected[0]!;
    keep(rej.reason, record, { field: rej.field });
    throw new MltrailError('VALIDATION', rej.reason, { quarantined: true, field: rej.field, ...meta });
  }
  // An event the schema refuses is kept as its record, redacted as above.
  const out = await normalizeAndIngest(deps.ingest, () => normalized, [record], channel, meta, { redactRejected: redactRejectedRecord });
  if (out.accepted === 0 && out.duplicates === 0 && out.rejected.length > 0) {
    throw new MltrailError('VALIDATION', out.rejected[0]!.reason, { quarantined: true, ...meta });
  }
  return c.json({ accepted: out.accepted, duplicates: out.duplicates, ...meta }, 200);
}

async function handleMlflow(c: Context, deps: ConnectorDeps<MlflowConfig>, opts: RouteOptions, lease: Lease): Promise<Response> {
  const channel = WEBHOOK_CHANNEL;
  try {
    const senders = mlflowSenders(deps.config);
    if (senders.length === 0) throw notConfigured('MLflow');
    const body = await readSignedBody(c, deps, channel, lease);
    const signature = c.req.header('x-mlflow-signature')?.trim();
    const deliveryId = c.req.header('x-mlflow-delivery-id')?.trim();
    const timestamp = c.req.header('x-mlflow-timestamp')?.trim();
    if (!signature) deny(c, deps, channel, 'SIGNATURE', 'missing X-MLflow-Signature header (create the MLflow webhook with a secret)');
    if (!deliveryId || !timestamp) deny(c, deps, channel, 'SIGNATURE', 'missing X-MLflow-Delivery-Id or X-MLflow-Timestamp header');
    const sender = signedBy(senders, (secrets) => verifyMlflowSignature(secrets, signature, deliveryId, timestamp, body));
    if (!sender) deny(c, deps, channel, 'SIGNATURE', 'X-MLflow-Signature does not match the body under any configured secret', deliveryId);
    // Signed, so the timestamp is authentic; the window stops replays of captured requests.
    const ts = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) * 1000 : NaN;
    const skewS = Math.round((opts.now() - ts) / 1000);
    if (!Number.isFinite(ts) || Math.abs(skewS) > deps.config.timestamp_window_s) {
      deny(c, deps, channel, 'STALE_TIMESTAMP', Number.isFinite(ts)
        ? `X-MLflow-Timestamp is ${Math.abs(skewS)} s in the ${skewS >= 0 ? 'past' : 'future'}; the window is ${deps.config.timestamp_window_s} s`
        : 'X-MLflow-Timestamp is not unix seconds', deliveryId);
    }
    return await ingestVerified(c, deps, channel, body, { delivery_id: deliveryId, ...serverMeta(sender) }, new Date(opts.now()).toISOString(), sender.server);
  } catch (err) {
    return errorResponse(c, err);
  }
}

async function handleDatabricks(c: Context, deps: ConnectorDeps<MlflowConfig>, opts: RouteOptions, lease: Lease): Promise<Response> {
  const channel = DATABRICKS_CHANNEL;
  try {
    const senders = databricksSenders(deps.config);
    if (senders.length === 0) throw notConfigured('Databricks registry');
    const body = await readSignedBody(c, deps, channel, lease);
    const signature = c.req.header('x-databricks-signature')?.trim();
    if (!signature) deny(c, deps, channel, 'SIGNATURE', 'missing X-Databricks-Signature header (set http_url_spec.secret on the Databricks webhook)');
    const sender = signedBy(senders, (secrets) => verifyDatabricksSignature(secrets, signature, body));
    if (!sender) deny(c, deps, channel, 'SIGNATURE', 'X-Databricks-Signature does not match the body under any configured secret');
    // Databricks signs no timestamp header; event_timestamp (ms) is inside the signed body.
    let eventTs: unknown;
    let parsed = true;
    try {
      eventTs = (parseJsonText(body.toString('utf8')) as { event_timestamp?: unknown })?.event_timestamp;
    } catch {
      parsed = false; // reported as INVALID_JSON below
    }
    // Every Databricks registry webhook carries it; without it a captured delivery could be replayed forever.
    if (parsed && !(typeof eventTs === 'number' && Number.isFinite(eventTs)) && !(typeof eventTs === 'string' && /^\d+$/.test(eventTs))) {
      deny(c, deps, channel, 'STALE_TIMESTAMP', `event_timestamp (epoch milliseconds) is ${eventTs === undefined || eventTs === null ? 'missing from' : 'not a number of milliseconds in'} the signed body, so its freshness cannot be checked`);
    }
    if (parsed) {
      const skewS = Math.round((opts.now() - Number(eventTs)) / 1000);
      if (Math.abs(skewS) > deps.config.databricks_timestamp_window_s) {
        deny(c, deps, channel, 'STALE_TIMESTAMP', `event_timestamp is ${Math.abs(skewS)} s in the ${skewS >= 0 ? 'past' : 'future'}; the window is ${deps.config.databricks_timestamp_window_s} s`);
      }
    }
    return await ingestVerified(c, deps, channel, body, serverMeta(sender), new Date(opts.now()).toISOString(), sender.server);
  } catch (err) {
    return errorResponse(c, err);
  }
}
