import type { Context, Hono } from 'hono';
import type { OAuth2Client } from 'google-auth-library';
import type { ConnectorDeps, NormalizeContext } from '../../core/connector.js';
import { MltrailError } from '../../core/errors.js';
import { bearerToken, clientIp, errorResponse, readBody, takeUndecodableBody } from '../../core/http/index.js';
import { normalizeAndIngest } from '../../core/ingest.js';
import { parseJsonText } from '../../core/input/depth.js';
import type { VertexConfig } from './config.js';
import { isPubsubEnvelope } from './envelope.js';
import { MAX_JSON_DEPTH, nestedTooDeep, type Transport } from './logentry.js';
import { normalizeVertex } from './normalize.js';
import { KeySourceError, TokenError, createOidcVerifier, type OidcVerifier } from './oidc.js';
import { redactJobSecrets } from '../../core/secrets.js';

export const PUSH_ROUTE = '/v1/ingest/vertex/pubsub';
export const PUSH_CHANNEL = 'vertex.pubsub_push';

/** Transport facts of an unwrapped push (`--push-no-wrapper-write-metadata`): `x-goog-pubsub-*` headers. */
function headerTransport(c: Context): Transport | undefined {
  const h = (n: string) => c.req.header(n) || undefined;
  const t: Transport = {
    message_id: h('x-goog-pubsub-message-id'),
    publish_time: h('x-goog-pubsub-publish-time'),
    subscription: h('x-goog-pubsub-subscription-name'),
    ordering_key: h('x-goog-pubsub-ordering-key'),
  };
  return Object.values(t).some(Boolean) ? t : undefined;
}

/**
 * Mount `POST /v1/ingest/vertex/pubsub`, the Pub/Sub push endpoint of a
 * Logging sink's topic (wrapped or unwrapped delivery). Authenticated push
 * only: the OIDC bearer token is verified before the body is read. Pub/Sub
 * treats 102/200/201/202/204 as ack and redelivers anything else, so: 200
 * only after the spool commit; a message that can never be normalized is
 * quarantined and acknowledged (200) instead of being redelivered forever;
 * auth and configuration faults (401/403/503) and a full spool (503) are
 * redelivered once fixed.
 *
 * @example
 * mountPushRoute(app, deps) // then: gcloud pubsub subscriptions create … --push-endpoint=https://HOST/v1/ingest/vertex/pubsub --push-auth-service-account=SA
 */
export function mountPushRoute(app: Hono, deps: ConnectorDeps<VertexConfig>, opts: { googleClient?: OAuth2Client } = {}): void {
  const push = deps.config.push;
  let verifier: OidcVerifier | undefined;
  const getVerifier = () =>
    (verifier ??= createOidcVerifier(
      {
        audience: push.audience!,
        serviceAccounts: push.service_accounts,
        issuers: push.issuers,
        clockSkewS: push.clock_skew_s,
        maxLifetimeS: push.max_token_lifetime_s,
      },
      { jwks: push.jwks, googleClient: opts.googleClient },
    ));

  app.post(PUSH_ROUTE, async (c) => {
    const channel = PUSH_CHANNEL;
    try {
      if (!push.audience) {
        throw new MltrailError('NOT_CONFIGURED', 'Pub/Sub push is not configured: set MLTRAIL_PUBSUB_AUDIENCE (connectors.vertex.push.audience) to the push subscription\'s OIDC audience', { variable: 'MLTRAIL_PUBSUB_AUDIENCE' });
      }
      if (!push.service_accounts.length) {
        throw new MltrailError('NOT_CONFIGURED', 'Pub/Sub push is not configured: set MLTRAIL_PUBSUB_SERVICE_ACCOUNTS (connectors.vertex.push.service_accounts) to the push service account email(s)', { variable: 'MLTRAIL_PUBSUB_SERVICE_ACCOUNTS' });
      }
      const token = bearerToken(c);
      try {
        if (!token) throw new TokenError(401, 'missing Authorization: Bearer OIDC token (use an authenticated push subscription)');
        await getVerifier().verify(token);
      } catch (err) {
        if (err instanceof KeySourceError) throw new MltrailError('UPSTREAM', err.message);
        if (!(err instanceof TokenError)) throw err;
        deps.ingest.authFailure({ platform: 'vertex', channel, reason: err.message, code: err.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', ip: clientIp(c), user_agent: c.req.header('user-agent'), claimed: err.claimed, claims: err.hints });
        if (err.status === 401) c.header('WWW-Authenticate', 'Bearer realm="mltrail", error="invalid_token"');
        throw new MltrailError(err.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', err.message);
      }

      let body: Buffer;
      try {
        body = await readBody(c, { maxBytes: push.body_limit_bytes, channel });
      } catch (err) {
        // A body whose encoding cannot be undone will not decode on redelivery either: keep it and
        // acknowledge (a 4xx would be redelivered, and quarantined again each time).
        const bad = takeUndecodableBody(c);
        if (!bad) throw err;
        deps.ingest.quarantine(channel, bad.reason, bad.body, { route: PUSH_ROUTE, content_encoding: bad.encoding, message_id: c.req.header('x-goog-pubsub-message-id') });
        return c.json({ accepted: 0, duplicates: 0, quarantined: 1 }, 200);
      }
      let record: unknown;
      try {
        record = parseJsonText(body.toString('utf8').replace(/^\uFEFF/, ''));
      } catch (err) {
        // Redelivery would not fix it: keep it and acknowledge.
        deps.ingest.quarantine(channel, `push body is not JSON: ${(err as Error).message.slice(0, 200)}`, body, { route: PUSH_ROUTE, message_id: c.req.header('x-goog-pubsub-message-id') });
        return c.json({ accepted: 0, duplicates: 0, quarantined: 1 }, 200);
      }
      if (nestedTooDeep(record)) {
        // Parses, but could never be serialized as an event (stack overflow, 500, redelivered forever): keep the bytes.
        deps.ingest.quarantine(channel, `push body is not a LogEntry: JSON nested deeper than ${MAX_JSON_DEPTH} levels`, body, { route: PUSH_ROUTE, message_id: c.req.header('x-goog-pubsub-message-id') });
        return c.json({ accepted: 0, duplicates: 0, quarantined: 1 }, 200);
      }
      const wrapped = isPubsubEnvelope(record);
      const ctx: NormalizeContext<VertexConfig> = {
        channel,
        receivedTime: new Date().toISOString(),
        keepRaw: deps.keepRaw,
        config: deps.config,
        meta: wrapped ? undefined : { transport: headerTransport(c) },
      };
      const messageId = wrapped ? (record as { message: Record<string, unknown> }).message.messageId : c.req.header('x-goog-pubsub-message-id');
      const out = await normalizeAndIngest(deps.ingest, (r) => normalizeVertex(r, ctx), [record], channel, { route: PUSH_ROUTE, message_id: messageId }, { redactRejected: redactJobSecrets });
      return c.json({ accepted: out.accepted, duplicates: out.duplicates, quarantined: out.rejected.length }, 200);
    } catch (err) {
      if (!(err instanceof MltrailError)) deps.logger.error({ err, code: 'MLTRAIL_ERR_INTERNAL', route: PUSH_ROUTE }, 'push request failed');
      return errorResponse(c, err);
    }
  });
}
