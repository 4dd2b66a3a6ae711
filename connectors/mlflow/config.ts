import { z } from 'zod';
import { csv, decimalOrText } from '../../core/config/load.js';
import { MLFLOW_WORKSPACE, MLFLOW_WORKSPACE_MESSAGE, mlflowUrlKey, SERVER_ID, SERVER_ID_MESSAGE } from '../../core/schema/origin.js';

/** A list given either as a YAML list or as one comma-separated string (env style). */
const stringList = z
  .union([z.array(z.string()), z.string()])
  .transform((v) => (Array.isArray(v) ? v.map((s) => s.trim()).filter(Boolean) : (csv(v) ?? [])));

/**
 * What counts as an approval in a registry that has no approval workflow of
 * its own (OSS MLflow): an alias, a tag value or a stage. Matching is
 * case-insensitive.
 */
export const ApprovalConfig = z.strictObject({
  /** Aliases whose assignment means "approved for serving". */
  aliases: stringList.default(['champion', 'production']),
  /** Tag keys that carry an approval decision. */
  tags: stringList.default(['approval_status', 'approved']),
  /** Values of those tags meaning approved / rejected / pending. */
  approved_values: stringList.default(['approved', 'true', 'yes', '1']),
  rejected_values: stringList.default(['rejected', 'false', 'no', '0', 'denied']),
  pending_values: stringList.default(['pending', 'in_review', 'requested']),
  /** Legacy registry stages whose transition means approval. */
  stages: stringList.default(['Production']),
});
export type ApprovalConfig = z.infer<typeof ApprovalConfig>;

/** The registry auditor (poller). Enabled when `tracking_uri` is set. */
export const PollConfig = z.strictObject({
  enabled: z.boolean().default(true),
  /** MLflow tracking server base URL (MLFLOW_TRACKING_URI), e.g. https://mlflow.internal:5000 */
  tracking_uri: z.url({ protocol: /^https?$/, error: 'must be the http(s):// URL of an MLflow tracking server (databricks, file: and database URIs cannot be audited over REST)' }).optional(),
  /**
   * The server's `mlflow server --static-prefix` (e.g. `/mlflow`). MLflow puts it before its UI routes only
   * (`/ajax-api/…`, `/get-artifact`; handlers.py `_get_ajax_path` and `_add_static_prefix`), never before `/api/2.0/…`,
   * so the REST calls go to `tracking_uri` as is and the file downloads that exist only as UI routes (a logged
   * model's files, a run's artifacts outside the proxy) to `tracking_uri` + prefix. Unset: no prefix.
   */
  static_prefix: z.string().regex(/^\/[^?#\s]*[^/?#\s]$/, 'must be the path given to mlflow server --static-prefix: starting with /, not ending with /, e.g. /mlflow').optional(),
  /** Basic auth (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD). */
  username: z.string().min(1).optional(),
  password: z.string().optional(),
  /** Bearer token (MLFLOW_TRACKING_TOKEN), used when no username is set. */
  token: z.string().min(1).optional(),
  /** Seconds between registry snapshots (MLTRAIL_MLFLOW_POLL_S). */
  interval_s: z.number().int().min(1).default(60),
  /** Seconds between re-hashes of approved versions' artifacts (MLTRAIL_MLFLOW_VERIFY_S). */
  verify_interval_s: z.number().int().min(1).default(3600),
  /** Per-request timeout. */
  request_timeout_ms: z.number().int().positive().default(30_000),
  /** Attempts per REST call before the source is reported unavailable. */
  max_attempts: z.number().int().min(1).default(4),
  retry_initial_ms: z.number().int().positive().default(1000),
  retry_max_ms: z.number().int().positive().default(30_000),
  /** Page size for registry searches (MLflow rejects > 1000 for registered models). */
  page_size: z.number().int().min(1).max(1000).default(500),
  /** Parallel artifact downloads. */
  download_concurrency: z.number().int().min(1).max(32).default(4),
  /** Hash artifacts of new versions and re-verify approved ones. */
  hash_artifacts: z.boolean().default(true),
  /** Write the root digest back as this model-version tag (needs EDIT permission); off when unset. */
  digest_tag: z.string().min(1).optional(),
  /** Emit training/evaluation events from each new version's run. */
  run_provenance: z.boolean().default(true),
  /**
   * A run tag the operator's deployment sets from the authenticated login, which clients cannot set or change (an
   * authenticating proxy in front of MLflow that writes it into CreateRun and refuses it in SetTag/LogBatch): where a
   * run carries it, it is the actor of the run's events, and the client's `user_id` / `mlflow.user` only
   * `details.claimed_user`. Unset: the claimed user is the actor, as MLflow records no other.
   */
  authenticated_user_tag: z.string().min(1).optional(),
  /**
   * Workspaces to audit on a server run with MLFLOW_ENABLE_WORKSPACES, each with its own snapshot (requests carry
   * `X-MLFLOW-WORKSPACE`); events of a named one are scoped to it as its webhooks' are. Empty: the server's default
   * workspace only (no header), as on a server without workspaces. Listed, not discovered: MLflow lists only the
   * workspaces the auditor's user may see, so a listing would drop one silently when a permission changes.
   */
  workspaces: z.array(z.string().regex(MLFLOW_WORKSPACE, `each workspace: ${MLFLOW_WORKSPACE_MESSAGE}`)).default([])
    .refine((ws) => new Set(ws).size === ws.length, 'a workspace is listed twice'),
  /**
   * mltrail's own registry webhooks (MLflow 3.3+), listed each cycle: one deleted, disabled, pointed at another URL or
   * subscribed to fewer events is an `audit_log.*` event for `platform.audit_log_tampering`. A webhook is mltrail's
   * when its id is in `ids` or its URL matches a glob of `urls` (default: the bridge's MLflow route). A server
   * without the webhooks API (before 3.3) is skipped.
   */
  webhooks: z.strictObject({
    enabled: z.boolean().default(true),
    ids: z.array(z.string().min(1)).default([]),
    urls: z.array(z.string().min(1)).default(['*/v1/ingest/mlflow*']),
  }).prefault({}),
});
export type PollConfig = z.infer<typeof PollConfig>;

/** A URL an MLflow client reaches a server by (`MLFLOW_TRACKING_URI`). */
const trackingUri = z.url({ protocol: /^https?$/, error: 'must be the http(s):// URL an MLflow client reaches this server by, e.g. http://mlflow.mlflow.svc.cluster.local:5000' });

/**
 * One more MLflow tracking server sending webhooks to this bridge (`connectors.mlflow.servers[]`). Its names
 * (`fraud/3`) are its own: the secret that verifies a delivery tells which server sent it, and its events and rule
 * state are kept apart from the other servers' (`cloud.account` = `id`). The top-level keys stay the default
 * server, whose names are not scoped.
 */
export const MlflowServerConfig = z.strictObject({
  /** Names the server in events (`cloud.account`), rule state and alert entities (`team:fraud/3`). */
  id: z.string().regex(SERVER_ID, SERVER_ID_MESSAGE),
  /** HMAC secrets of this server's webhooks (X-MLflow-Signature); several during rotation. */
  webhook_secrets: stringList.default([]),
  /** Secrets for X-Databricks-Signature; defaults to this server's `webhook_secrets`. */
  databricks_webhook_secrets: stringList.optional(),
  /** This server's registry auditor (same keys as `connectors.mlflow.poll`; runs when `tracking_uri` is set). */
  poll: PollConfig.optional(),
  /** Further URLs clients reach this server by (see MlflowConfig.tracking_uris). */
  tracking_uris: z.array(trackingUri).default([]),
});
export type MlflowServerConfig = z.infer<typeof MlflowServerConfig>;

export const MlflowConfig = z.strictObject({
  /** HMAC secrets for X-MLflow-Signature; several at once during rotation (MLTRAIL_MLFLOW_WEBHOOK_SECRET, comma-separated). */
  webhook_secrets: stringList.default([]),
  /** Secrets for X-Databricks-Signature; defaults to `webhook_secrets`. */
  databricks_webhook_secrets: stringList.optional(),
  /** Accepted |now − X-MLflow-Timestamp| in seconds, past and future. */
  timestamp_window_s: z.number().int().min(1).default(300),
  /**
   * Accepted age of a Databricks body's signed `event_timestamp` (no delivery id or
   * timestamp header exists there). Kept below the spool's dedup window (7 days) so a
   * replay is either collapsed as a duplicate or refused as stale.
   */
  databricks_timestamp_window_s: z.number().int().min(1).default(86_400),
  /** Largest accepted webhook body (MLflow payloads are a few hundred bytes). */
  body_limit_bytes: z.number().int().positive().default(1024 * 1024),
  approval: ApprovalConfig.prefault({}),
  poll: PollConfig.prefault({}),
  /** Further MLflow servers, each with its own id and secrets (see MlflowServerConfig). */
  servers: z.array(MlflowServerConfig).default([]),
  /**
   * URLs clients reach the default server by besides `poll.tracking_uri` (the in-cluster Service a KServe
   * predictor's `MLFLOW_TRACKING_URI` names, a server known to mltrail only by its webhooks): a predictor naming one
   * loads from this server's registry.
   */
  tracking_uris: z.array(trackingUri).default([]),
}).superRefine((c, ctx) => {
  const ids = new Set<string>();
  // The secret that verifies a delivery names its server: one secret of two servers would name neither surely.
  const owner = new Map<string, string>();
  const claim = (secrets: readonly string[], who: string, path: PropertyKey[]) => {
    for (const secret of new Set(secrets)) {
      const other = owner.get(secret);
      if (other !== undefined && other !== who) ctx.addIssue({ code: 'custom', path, message: `a secret of ${who} is also one of ${other}: each server needs its own, since the secret that verifies a delivery tells which server sent it` });
      else owner.set(secret, who);
    }
  };
  claim([...c.webhook_secrets, ...(c.databricks_webhook_secrets ?? [])], 'the default server (connectors.mlflow.webhook_secrets)', ['webhook_secrets']);
  c.servers.forEach((srv, i) => {
    if (ids.has(srv.id)) ctx.addIssue({ code: 'custom', path: ['servers', i, 'id'], message: `server id ${JSON.stringify(srv.id)} is used twice` });
    ids.add(srv.id);
    if (!srv.webhook_secrets.length && !srv.databricks_webhook_secrets?.length && !srv.poll?.tracking_uri) {
      ctx.addIssue({ code: 'custom', path: ['servers', i], message: 'needs webhook_secrets (its webhooks) or poll.tracking_uri (its registry auditor)' });
    }
    claim([...srv.webhook_secrets, ...(srv.databricks_webhook_secrets ?? [])], `server ${JSON.stringify(srv.id)}`, ['servers', i, 'webhook_secrets']);
  });
  // A URL names one server: a predictor naming a URL two servers claim would be judged against either.
  const urlOwner = new Map<string, string>();
  const claimUrl = (url: string | undefined, who: string, path: PropertyKey[]) => {
    if (url === undefined) return;
    const key = mlflowUrlKey(url);
    const other = urlOwner.get(key);
    if (other !== undefined && other !== who) ctx.addIssue({ code: 'custom', path, message: `${JSON.stringify(url)} is also ${other}'s URL: a URL names one server, since a KServe predictor's MLFLOW_TRACKING_URI tells which registry it loads from` });
    else urlOwner.set(key, who);
  };
  claimUrl(c.poll.tracking_uri, 'the default server', ['poll', 'tracking_uri']);
  c.tracking_uris.forEach((u, j) => claimUrl(u, 'the default server', ['tracking_uris', j]));
  c.servers.forEach((srv, i) => {
    const who = `server ${JSON.stringify(srv.id)}`;
    claimUrl(srv.poll?.tracking_uri, who, ['servers', i, 'poll', 'tracking_uri']);
    srv.tracking_uris.forEach((u, j) => claimUrl(u, who, ['servers', i, 'tracking_uris', j]));
  });
});
export type MlflowConfig = z.infer<typeof MlflowConfig>;

/**
 * The URLs each configured server is reached by (`poll.tracking_uri`, `tracking_uris`; server undefined: the
 * default one), compared as mlflowUrlKey has them: what a KServe predictor's `MLFLOW_TRACKING_URI` is matched to.
 *
 * @example
 * mlflowRegistryUrls(MlflowConfig.parse({ servers: [{ id: 'team', webhook_secrets: ['s'], tracking_uris: ['http://mlflow.team:5000'] }] }))
 * // [{ key: 'http://mlflow.team:5000', server: 'team', listed: true }]
 */
export function mlflowRegistryUrls(c: Pick<MlflowConfig, 'poll' | 'tracking_uris' | 'servers'>): Array<{ key: string; server?: string; listed?: true }> {
  const out: Array<{ key: string; server?: string; listed?: true }> = [];
  const add = (server: string | undefined, polled: string | undefined, listed: string[]) => {
    if (polled !== undefined) out.push({ key: mlflowUrlKey(polled), ...(server === undefined ? {} : { server }) });
    for (const u of listed) out.push({ key: mlflowUrlKey(u), ...(server === undefined ? {} : { server }), listed: true });
  };
  add(undefined, c.poll.tracking_uri, c.tracking_uris);
  for (const srv of c.servers) add(srv.id, srv.poll?.tracking_uri, srv.tracking_uris);
  return out;
}

/**
 * Map the connector's environment variables (and MLflow's own client
 * variables, so an existing MLflow setup just works) onto `connectors.mlflow`.
 *
 * @example
 * mlflowFromEnv({ MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' }) // { poll: { tracking_uri: 'http://127.0.0.1:5000' } }
 */
export function mlflowFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  const secrets = csv(env.MLTRAIL_MLFLOW_WEBHOOK_SECRET);
  if (secrets) out.webhook_secrets = secrets;
  const poll: Record<string, unknown> = {};
  // MLflow also accepts `databricks`, `file:…`, `sqlite:…` here; only an HTTP server can be audited over REST.
  if (env.MLFLOW_TRACKING_URI && /^https?:\/\//i.test(env.MLFLOW_TRACKING_URI)) poll.tracking_uri = env.MLFLOW_TRACKING_URI.replace(/\/+$/, '');
  if (env.MLFLOW_TRACKING_USERNAME) poll.username = env.MLFLOW_TRACKING_USERNAME;
  if (env.MLFLOW_TRACKING_PASSWORD) poll.password = env.MLFLOW_TRACKING_PASSWORD;
  if (env.MLFLOW_TRACKING_TOKEN) poll.token = env.MLFLOW_TRACKING_TOKEN;
  if (env.MLTRAIL_MLFLOW_POLL_S) poll.interval_s = decimalOrText(env.MLTRAIL_MLFLOW_POLL_S);
  if (env.MLTRAIL_MLFLOW_VERIFY_S) poll.verify_interval_s = decimalOrText(env.MLTRAIL_MLFLOW_VERIFY_S);
  if (Object.keys(poll).length) out.poll = poll;
  return Object.keys(out).length ? out : undefined;
}
