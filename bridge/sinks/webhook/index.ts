import { createHmac } from 'node:crypto';
import type { Alert } from '../../../core/schema/index.js';
import type { DeliveryStatus, Sink, SinkContext, SinkFactory, SinkHealth } from '../../../core/sink.js';
import type { SpoolRecord } from '../../../core/spool/index.js';
import { HealthTracker, OK, SendHints, parseRecord, permanent, retryable } from '../common.js';
import { SinkHttpClient, type SinkResponse } from '../http.js';
import { PAGERDUTY_EVENTS_URL, WebhookConfig } from './config.js';
import { pagerDutyEvent, slackMessage } from './messages.js';

/**
 * Webhook sink for alerts: Slack incoming webhooks and PagerDuty Events v2
 * get one request per alert; `generic` gets the batch as
 * `{"records":[{id, kind, data}]}`, HMAC-signed when a secret is set.
 * Outcomes: 2xx delivered; 408/429/5xx retried (Retry-After honoured);
 * 400/422 refused for good (a lone record is dead-lettered with the answer);
 * 401/403/404/410 a config fault (unhealthy, records kept).
 */
export class WebhookSink implements Sink {
  readonly name: string;
  private readonly http: SinkHttpClient;
  private readonly healthState = new HealthTracker();
  private readonly hints = new SendHints();
  private readonly url: string;
  /** Only the host is ever logged or reported: a Slack webhook URL's path is its secret. */
  private readonly host: string;

  constructor(
    private readonly cfg: WebhookConfig,
    ctx: SinkContext,
  ) {
    this.name = ctx.name;
    this.url = cfg.url ?? PAGERDUTY_EVENTS_URL;
    this.host = new URL(this.url).host;
    this.http = new SinkHttpClient({ connections: cfg.concurrency, tls: cfg.tls, sink: ctx.name });
  }

  lastAnswerAt(): number | undefined {
    return this.http.lastAnswerAt;
  }
  health(): SinkHealth {
    return this.healthState.get();
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  async send(records: SpoolRecord[], signal: AbortSignal): Promise<DeliveryStatus[]> {
    const out: DeliveryStatus[] = new Array(records.length);
    if (this.cfg.flavor === 'generic') {
      const together = records.map((r, i) => ({ r, i })).filter(({ r }) => !this.hints.alone(r.id));
      const alone = records.map((r, i) => ({ r, i })).filter(({ r }) => this.hints.alone(r.id));
      for (const group of [together, ...alone.map((x) => [x])]) {
        if (group.length) await this.post(group, JSON.stringify({ records: group.map(({ r }) => ({ id: r.id, kind: r.kind, data: JSON.parse(r.body) as unknown })) }), out, signal);
      }
    } else {
      // One message per record: Slack and PagerDuty take a single message / event per request.
      for (const [i, r] of records.entries()) {
        let body: string;
        try {
          const p = parseRecord(r);
          body = JSON.stringify(this.cfg.flavor === 'slack' ? slackMessage(p) : pagerDutyEvent(p.value as Alert, this.cfg.routing_key!));
        } catch (err) {
          out[i] = permanent(`cannot build the ${this.cfg.flavor} message: ${(err as Error).message}`);
          continue;
        }
        await this.post([{ r, i }], body, out, signal);
      }
    }
    this.hints.settle(records.filter((_, i) => out[i]!.status !== 'retryable').map((r) => r.id));
    return out;
  }

  private headers(body: string): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'mltrail' };
    if (this.cfg.flavor !== 'generic') return h;
    Object.assign(h, this.cfg.headers);
    if (this.cfg.bearer_token) h.authorization = `Bearer ${this.cfg.bearer_token}`;
    if (this.cfg.secret) {
      const ts = String(Math.floor(Date.now() / 1000));
      h['x-mltrail-timestamp'] = ts;
      h['x-mltrail-signature'] = `sha256=${createHmac('sha256', this.cfg.secret).update(`${ts}.${body}`).digest('hex')}`;
    }
    return h;
  }

  private async post(group: Array<{ r: SpoolRecord; i: number }>, body: string, out: DeliveryStatus[], signal: AbortSignal): Promise<void> {
    const set = (s: DeliveryStatus) => {
      for (const { i } of group) out[i] = s;
    };
    let res: SinkResponse;
    try {
      res = await this.http.post(this.url, body, this.headers(body), signal);
    } catch (err) {
      this.healthState.degraded(`${this.host} unreachable: ${(err as Error).message}`);
      return set(retryable(`webhook request failed: ${(err as Error).message}`));
    }
    const what = `HTTP ${res.status} ${res.text.slice(0, 300)}`.trim();
    if (res.status >= 200 && res.status < 300) {
      this.healthState.healthy();
      return set(OK);
    }
    if (res.status === 408 || res.status === 429 || res.status >= 500) {
      this.healthState.degraded(what);
      return set(retryable(what, res.retryAfterMs));
    }
    // PagerDuty answers 400 for a wrong routing key too: that is config, not a bad alert.
    const badKey = this.cfg.flavor === 'pagerduty' && res.status === 400 && /routing.?key/i.test(res.text);
    if (!badKey && (res.status === 400 || res.status === 413 || res.status === 422)) {
      if (group.length === 1) return set(permanent(`${this.cfg.flavor} refused the message: ${what}`));
      this.hints.markAlone(group.map(({ r }) => r.id));
      return set(retryable(`${what}; resending one record per request`));
    }
    // 401/403/404/410: wrong or revoked URL / key, archived channel — keep the alerts.
    this.healthState.unhealthy(`${this.cfg.flavor} webhook ${this.host}: ${what}`);
    set(retryable(what));
  }
}

/**
 * The webhook (Slack / PagerDuty / generic) sink factory.
 *
 * @example
 * sinks:
 *   slack: { type: webhook, flavor: slack, url: ${SLACK_WEBHOOK_URL} }
 */
export const webhookSinkFactory: SinkFactory<WebhookConfig> = {
  type: 'webhook',
  description: 'Alerts to Slack, PagerDuty (Events API v2) or a signed generic JSON webhook',
  configSchema: WebhookConfig,
  create: (cfg, ctx) => new WebhookSink(cfg, ctx),
};
