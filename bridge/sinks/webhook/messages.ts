import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';
import type { ParsedRecord } from '../common.js';

/**
 * Escape text for Slack mrkdwn: `&`, `<`, `>` become entities so a model
 * name or a summary taken from platform data can never inject a link, a
 * user/channel mention (`<!channel>`) or formatting control.
 */
export function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * Escape for mrkdwn, then clip to `n` characters of the escaped text (what
 * Slack counts against its block limits): clipping first let `&`, `<`, `>`
 * grow the text 4–5 times past the limit, and Slack refused the message.
 * Never cuts inside an entity.
 */
const escClip = (s: string, n: number) => {
  const e = slackEscape(s);
  return e.length > n ? `${e.slice(0, n - 1).replace(/&[a-z]{0,3}$/, '')}…` : e;
};

const SEVERITY_LABEL = { low: 'LOW', medium: 'MEDIUM', high: 'HIGH', critical: 'CRITICAL' } as const;

/**
 * A Slack incoming-webhook message (Block Kit) for an alert or an event:
 * `text` is the notification fallback, blocks carry the facts; every value
 * from platform data is escaped and clipped to Slack's limits (header 150,
 * section 3000 characters).
 *
 * @example
 * await fetch(webhookUrl, { method: 'POST', body: JSON.stringify(slackMessage(parseRecord(rec))) })
 */
export function slackMessage(p: ParsedRecord): Record<string, unknown> {
  if (p.kind === 'alert') {
    const a = p.value as Alert;
    const head = `${SEVERITY_LABEL[a.severity]}${a.mode === 'observe' ? ' (observe)' : ''}: ${a.title}`;
    const entity = `${a.entity.type} ${a.entity.name ?? a.entity.id}${a.entity.platform ? ` (${a.entity.platform})` : ''}`;
    const evidence = a.evidence.slice(0, 5).map((e) => `\`${slackEscape(e)}\``).join(', ') + (a.evidence.length > 5 ? ` +${a.evidence.length - 5}` : '');
    return {
      text: escClip(`[mltrail] ${head} — ${a.summary}`, 3000),
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: clip(head, 150) } },
        { type: 'section', text: { type: 'mrkdwn', text: escClip(a.summary, 2900) } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: `*Rule*\n\`${slackEscape(a.rule_id)}\`` },
            { type: 'mrkdwn', text: `*Stage*\n${slackEscape(a.stage)}` },
            { type: 'mrkdwn', text: `*Entity*\n${escClip(entity, 1900)}` },
            { type: 'mrkdwn', text: `*Time*\n${slackEscape(a.time)}${a.count && a.count > 1 ? ` (×${a.count})` : ''}` },
          ],
        },
        { type: 'context', elements: [{ type: 'mrkdwn', text: clip(`mltrail alert \`${slackEscape(a.id)}\`${evidence ? ` · evidence ${evidence}` : ''}`, 2900) }] },
      ],
    };
  }
  const e = p.value as NormalizedEvent;
  const who = e.actor?.email ?? e.actor?.name ?? e.actor?.id ?? 'unknown actor';
  const what = `${e.platform} ${e.action} by ${who} (${e.outcome})`;
  return {
    text: escClip(`[mltrail] ${what}`, 3000),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: escClip(`${what}${e.resource ? ` on ${e.resource.type} ${e.resource.name ?? e.resource.id ?? ''}` : ''}`, 2900) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `mltrail event \`${slackEscape(e.id)}\` · ${slackEscape(e.time)}` }] },
    ],
  };
}

/** PagerDuty Events API v2 severities for mltrail severities. */
export const PAGERDUTY_SEVERITY = { critical: 'critical', high: 'error', medium: 'warning', low: 'info' } as const;

/**
 * A PagerDuty Events API v2 `trigger` for an alert. `dedup_key` is the
 * mltrail alert id, so a resend (lost response) folds into the same incident.
 *
 * @example
 * pagerDutyEvent(alert, routingKey).dedup_key === alert.id
 */
export function pagerDutyEvent(a: Alert, routingKey: string): Record<string, unknown> {
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: a.id,
    client: 'mltrail',
    payload: {
      summary: clip(`${a.title}: ${a.summary}`, 1024),
      source: clip(a.entity.platform ? `${a.entity.platform}:${a.entity.id}` : a.entity.id, 255),
      severity: PAGERDUTY_SEVERITY[a.severity],
      timestamp: a.time,
      component: clip(a.entity.name ?? a.entity.id, 255),
      group: a.stage,
      class: a.rule_id,
      custom_details: {
        mltrail_id: a.id,
        rule_id: a.rule_id,
        mode: a.mode,
        entity: a.entity,
        evidence: a.evidence,
        count: a.count,
        first_seen: a.first_seen,
        last_seen: a.last_seen,
        details: a.details,
      },
    },
  };
}
