import { z } from 'zod';
import { readFileSync } from 'node:fs';
import { csv } from '../../core/config/load.js';
import { parseKeySet } from './oidc.js';

const MiB = 1024 * 1024;

/** Google's ID-token issuers (google-auth-library's defaults). */
export const GOOGLE_ISSUERS = ['https://accounts.google.com', 'accounts.google.com'];

/**
 * `connectors.vertex` — Pub/Sub push (OIDC), pull subscriber, normalization.
 *
 * @example
 * connectors:
 *   vertex:
 *     push: { audience: https://mltrail.example.com/v1/ingest/vertex/pubsub, service_accounts: [pubsub-push@p.iam.gserviceaccount.com] }
 *     pull: { subscription: projects/p/subscriptions/mltrail-vertex }
 */
export const VertexConfig = z.strictObject({
  /** Aliases whose setting on a model version means "approved for production". */
  // Not `default`: the Python SDK's Model.upload sets it on every new version (is_default_version=True), reviewed or not.
  approval_aliases: z.array(z.string().min(1)).default(['production', 'champion']),
  /** Cloud Storage buckets holding training / feature data (`name` or `gs://name`): a public grant on one is a dataset share. */
  training_buckets: z.array(z.string().min(1)).default([]),
  /** Cloud Storage buckets holding model artifacts (`name` or `gs://name`): a public grant on one is a model share. */
  model_buckets: z.array(z.string().min(1)).default([]),
  /**
   * The organization's email domains (`corp.example`, subdomains included): a grant on a listed bucket to a `user:`,
   * `group:`, `serviceAccount:` or `domain:` member outside them is a share. Unset, only public grants are (the audit
   * log names no organization to tell ours from theirs).
   */
  allowed_domains: z.array(z.string().regex(/^@?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/, 'expected an email domain such as corp.example')).default([]),
  /**
   * Short names (globs) of mltrail's own Pub/Sub subscriptions (the configured pull subscription is always one) and
   * of the Logging sink's topic: a subscription deleted, detached, or no longer pushing to the bridge, or the topic
   * deleted, is an `audit_log.*` event for `platform.audit_log_tampering`.
   */
  feed_names: z.array(z.string().min(1)).default(['*mltrail*']),
  push: z
    .strictObject({
      /** Expected `aud` of the push OIDC token (MLTRAIL_PUBSUB_AUDIENCE); required for the route to accept anything. */
      audience: z.string().min(1).optional(),
      /** Allowed `email` claims: the push subscription's service account(s) (MLTRAIL_PUBSUB_SERVICE_ACCOUNTS). */
      service_accounts: z.array(z.string().min(3)).default([]),
      /** JWKS file path or http(s) URL used instead of Google's keys (MLTRAIL_GOOGLE_JWKS), for private setups and tests. */
      jwks: z.string().min(1).superRefine((v, ctx) => {
        const problem = jwksProblem(v);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }).optional(),
      issuers: z.array(z.string().min(1)).min(1).default(GOOGLE_ISSUERS),
      /** Clock skew tolerated on exp/iat, seconds. */
      clock_skew_s: z.number().int().min(0).max(600).default(60),
      /** Longest token lifetime accepted (exp − iat, and exp − now), seconds; Google push tokens live 1 h. */
      max_token_lifetime_s: z.number().int().positive().max(86_400).default(3600),
      /** A Pub/Sub message is at most 10 MB; base64 in the wrapped body adds a third. */
      body_limit_bytes: z.number().int().positive().default(14 * MiB),
    })
    .prefault({}),
  pull: z
    .strictObject({
      /** Full subscription resource name (MLTRAIL_PUBSUB_SUBSCRIPTION); enables the pull subscriber. */
      subscription: z
        .string()
        .regex(/^projects\/[^/]+\/subscriptions\/[^/]+$/, 'expected projects/PROJECT/subscriptions/NAME')
        .optional(),
      /** Messages leased at once (flow control); each is acked only after its spool commit. */
      max_messages: z.number().int().positive().max(10_000).default(100),
      max_bytes: z.number().int().positive().default(20 * MiB),
      /** How long a message's lease is extended while it waits for commit, seconds. */
      max_extension_s: z.number().int().positive().default(600),
      /** gRPC endpoint override (host:port); else PUBSUB_EMULATOR_HOST, else Google. */
      api_endpoint: z.string().min(1).optional(),
    })
    .prefault({}),
});

export type VertexConfig = z.infer<typeof VertexConfig>;

/**
 * What is wrong with a JWKS location, checked at start (a local setting: it used to surface only at the
 * first push, as a 502 upstream error): an http(s) URL (fetched when needed, refreshed by its
 * cache-control), else a file (or file:// URL) that must hold a key set now.
 */
function jwksProblem(location: string): string | undefined {
  if (/^https?:\/\//i.test(location)) return undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !/^file:\/\//i.test(location)) return `${location}: expected an http(s) URL or a file`;
  try {
    parseKeySet(readFileSync(location.startsWith('file://') ? new URL(location) : location, 'utf8'), location);
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return `cannot use ${location} as a JWKS: ${e.code ?? e.message.replace(`${location}: `, "")}`;
  }
}

/** Environment variables → `connectors.vertex`. GOOGLE_APPLICATION_CREDENTIALS / PUBSUB_EMULATOR_HOST are read by Google's libraries. */
export function vertexFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> | undefined {
  const push: Record<string, unknown> = {};
  if (env.MLTRAIL_PUBSUB_AUDIENCE) push.audience = env.MLTRAIL_PUBSUB_AUDIENCE.trim();
  const accounts = csv(env.MLTRAIL_PUBSUB_SERVICE_ACCOUNTS);
  if (accounts) push.service_accounts = accounts;
  if (env.MLTRAIL_GOOGLE_JWKS) push.jwks = env.MLTRAIL_GOOGLE_JWKS.trim();
  const pull: Record<string, unknown> = {};
  if (env.MLTRAIL_PUBSUB_SUBSCRIPTION) pull.subscription = env.MLTRAIL_PUBSUB_SUBSCRIPTION.trim();
  const out: Record<string, unknown> = {};
  if (Object.keys(push).length) out.push = push;
  if (Object.keys(pull).length) out.pull = pull;
  return Object.keys(out).length ? out : undefined;
}
