import { z } from 'zod';
import { SinkCommonConfig } from '../../../core/sink.js';
import { TlsConfig, hostOf, pathOf } from '../common.js';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * `sinks.<name>` with `type: webhook`: alerts to Slack (incoming webhook),
 * PagerDuty (Events API v2) or any HTTPS endpoint (generic JSON, optionally
 * HMAC-signed). Sends alerts only unless `route.kinds` says otherwise.
 *
 * @example
 * sinks:
 *   slack: { type: webhook, flavor: slack, url: ${SLACK_WEBHOOK_URL}, route: { min_severity: high } }
 *   pager: { type: webhook, flavor: pagerduty, routing_key: ${PD_ROUTING_KEY}, route: { min_severity: critical } }
 */
export const WebhookConfig = SinkCommonConfig.extend({
  flavor: z.enum(['slack', 'pagerduty', 'generic']).default('generic'),
  /** Target URL (https; http only to loopback). PagerDuty defaults to the Events API v2 endpoint. The URL is a secret for Slack: keep it in an env var. */
  url: z
    .url({ protocol: /^https?$/ })
    .refine((u) => u.startsWith('https:') || LOOPBACK.has(hostOf(u)), { message: 'must be https (http only to 127.0.0.1/localhost)' })
    .optional(),
  /** PagerDuty integration (routing) key. */
  routing_key: z.string().length(32, 'a PagerDuty routing key has 32 characters').optional(),
  /** Generic: HMAC-SHA256 secret; each request carries X-Mltrail-Timestamp and X-Mltrail-Signature: sha256=<hex of HMAC(ts + "." + body)>. */
  secret: z.string().min(16).optional(),
  /** Generic: sent as `Authorization: Bearer <token>` (a secret: redacted by check-config, never logged). */
  bearer_token: z.string().min(1).optional(),
  /** Generic: extra, non-secret request headers (secrets go in bearer_token / secret). */
  headers: z.record(z.string(), z.string()).default({}),
  /** Alerts only by default; one message per alert for Slack and PagerDuty. */
  route: SinkCommonConfig.shape.route.unwrap().extend({ kinds: z.array(z.enum(['event', 'alert'])).default(['alert']) }).prefault({}),
  /** Slack allows about one message per second per webhook: one request at a time. */
  concurrency: z.number().int().min(1).max(64).default(1),
  tls: TlsConfig,
})
  .strict()
  .superRefine((c, ctx) => {
    if (c.flavor !== 'pagerduty' && !c.url) ctx.addIssue({ code: 'custom', path: ['url'], message: `a ${c.flavor} webhook needs url` });
    if (c.flavor === 'pagerduty' && !c.routing_key) ctx.addIssue({ code: 'custom', path: ['routing_key'], message: 'PagerDuty needs routing_key (the integration key of an Events API v2 service)' });
    if (c.flavor === 'pagerduty' && c.route.kinds.includes('event')) {
      ctx.addIssue({ code: 'custom', path: ['route', 'kinds'], message: 'PagerDuty takes alerts only (every event would page)' });
    }
  });
export type WebhookConfig = z.infer<typeof WebhookConfig>;
