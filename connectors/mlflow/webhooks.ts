import { globMatch } from '../../core/rules/facts.js';
import { stableId } from '../../core/schema/index.js';
import type { RegistryWebhook } from './client.js';
import type { AuditDraft } from './events.js';
import { iso } from './snapshot.js';
import { safeUri } from './uri.js';

/**
 * MLflow 3.3+ registry webhooks that deliver to mltrail, as the auditor lists them each cycle
 * (`GET /api/2.0/mlflow/webhooks`). A webhook of mltrail's deleted, disabled, pointed at another URL or subscribed to
 * fewer events blinds the webhook half of the connector as a cut EventBridge rule blinds the SageMaker one, and no
 * webhook reports its own change: the auditor's listing is what sees it (`platform.audit_log_tampering`).
 */

/** What is kept of one of mltrail's webhooks between cycles. */
export interface WebhookSnap {
  id: string;
  name?: string;
  url: string;
  status: string;
  /** Subscribed events as `<entity>.<action>` in MLflow's delivery spelling (`model_version.created`). */
  events: string[];
}

/** Which webhooks are mltrail's: by id, or by the URL they deliver to (globs). */
export interface OwnWebhooks {
  ids: readonly string[];
  urls: readonly string[];
}

/** A listed webhook as kept: its events as `<entity>.<action>` in lower case, the spelling of a delivery's event. */
export function webhookSnap(w: RegistryWebhook): WebhookSnap {
  const events = (w.events ?? []).map((e) => `${e.entity.toLowerCase()}.${e.action.toLowerCase()}`);
  return { id: w.webhook_id, name: w.name, url: w.url ?? '', status: w.status ?? 'ACTIVE', events: [...new Set(events)].sort() };
}

/** Whether a webhook is one of mltrail's (`poll.webhooks.ids`, or its URL matching `poll.webhooks.urls`). */
export function isOwnWebhook(w: Pick<WebhookSnap, 'id' | 'url'>, own: OwnWebhooks): boolean {
  return own.ids.includes(w.id) || (!!w.url && own.urls.some((g) => globMatch(g, w.url)));
}

/**
 * The cuts between two listings of mltrail's webhooks (`prev`: those that were mltrail's; `cur`: every webhook listed
 * now, by id, and a webhook MLflow confirmed gone is absent): deleted (`audit_log.delete`), disabled
 * (`audit_log.disable`), delivering to a URL that is not mltrail's (`audit_log.update`, `details.log_destination`), or
 * subscribed to fewer events (`audit_log.update`, `details.feed_change`, `webhook_events_dropped`). A webhook enabled
 * again, widened or renamed is no cut. Dated at the webhook's `last_updated_timestamp`, a deletion at `now`.
 */
export function webhookCuts(prev: ReadonlyMap<string, WebhookSnap>, cur: ReadonlyMap<string, WebhookSnap & { updated?: number }>, own: OwnWebhooks, now: number): AuditDraft[] {
  const out: AuditDraft[] = [];
  for (const p of prev.values()) {
    const c = cur.get(p.id);
    const trail = p.name ? `${p.name} (${p.id})` : p.id;
    const resource = { type: 'mlflow_webhook', id: p.id, name: p.name, uri: safeUri(p.url) };
    const draft = (kind: string, action: AuditDraft['action'], details: Record<string, unknown>, at?: number): AuditDraft => ({
      id: stableId('mlflow', 'audit', 'webhook', kind, p.id, at ?? 'gone', JSON.stringify(details)),
      time: iso(at, now, 'last_updated_timestamp'), stage: 'platform', action, operation: kind === 'deleted' ? 'webhooks/delete' : 'webhooks/update',
      resource, details: { trail, feed: 'mlflow_webhook', webhook_id: p.id, ...details },
    });
    if (!c) {
      out.push(draft('deleted', 'audit_log.delete', { previous_url: safeUri(p.url) }));
      continue;
    }
    if (p.status === 'ACTIVE' && c.status !== 'ACTIVE') {
      out.push(draft('disabled', 'audit_log.disable', { feed_change: `disabled the MLflow webhook (status ${c.status})` }, c.updated));
    }
    if (c.url !== p.url && !isOwnWebhook(c, own)) {
      out.push(draft('url', 'audit_log.update', { log_destination: safeUri(c.url), previous_url: safeUri(p.url) }, c.updated));
    }
    const dropped = p.events.filter((e) => !c.events.includes(e));
    if (dropped.length) {
      out.push(draft('events', 'audit_log.update', { feed_change: `stopped delivering ${dropped.join(', ')}`, webhook_events_dropped: dropped, webhook_events: c.events }, c.updated));
    }
  }
  return out;
}

/** The webhooks that are mltrail's now, to compare the next listing with. */
export function ownSnapshot(cur: Iterable<WebhookSnap>, own: OwnWebhooks): Record<string, WebhookSnap> {
  const out: Record<string, WebhookSnap> = {};
  for (const w of cur) if (isOwnWebhook(w, own)) out[w.id] = { id: w.id, name: w.name, url: w.url, status: w.status, events: w.events };
  return out;
}
