import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookConfig } from '../../../../bridge/sinks/webhook/config.js';
import { webhookSinkFactory } from '../../../../bridge/sinks/webhook/index.js';
import { pagerDutyEvent, slackEscape } from '../../../../bridge/sinks/webhook/messages.js';
import { FAST, FakeHttp, Harness, counts, testAlert, testEvent, until, type FakeReply, type FakeRequest } from '../helpers.js';

const SLACK_PATH = '/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX';
const ROUTING_KEY = 'R0123456789abcdef0123456789abcde';
const BLOCK_TYPES = new Set(['header', 'section', 'context', 'divider', 'actions', 'image']);

/** Slack incoming webhook: JSON with text, Block Kit limits, answers "ok" or an error word. */
class FakeSlack extends FakeHttp {
  readonly messages: Array<Record<string, any>> = [];
  constructor() {
    super((r) => this.handle(r));
  }
  private handle(r: FakeRequest): FakeReply {
    if (r.method !== 'POST' || r.path !== SLACK_PATH) return { status: 404, text: 'no_service' };
    if (r.headers['content-type'] !== 'application/json') return { status: 400, text: 'invalid_payload' };
    let m: Record<string, any>;
    try {
      m = JSON.parse(r.body);
    } catch {
      return { status: 400, text: 'invalid_payload' };
    }
    if (typeof m.text !== 'string' || !m.text) return { status: 400, text: 'no_text' };
    const blocks = (m.blocks ?? []) as Array<Record<string, any>>;
    if (blocks.length > 50 || blocks.some((b) => !BLOCK_TYPES.has(b.type))) return { status: 400, text: 'invalid_blocks' };
    for (const b of blocks) {
      if (b.type === 'header' && (b.text?.type !== 'plain_text' || b.text.text.length > 150)) return { status: 400, text: 'invalid_blocks' };
      if (b.type === 'section' && b.text && b.text.text.length > 3000) return { status: 400, text: 'invalid_blocks' };
      if (b.type === 'section' && b.fields && (b.fields.length > 10 || b.fields.some((f: any) => f.text.length > 2000))) return { status: 400, text: 'invalid_blocks' };
    }
    this.messages.push(m);
    return { status: 200, text: 'ok' };
  }
}

/** PagerDuty Events API v2: validates the event, groups by dedup_key into incidents. */
class FakePagerDuty extends FakeHttp {
  readonly incidents = new Map<string, number>();
  loseNextResponse = 0;
  constructor() {
    super((r) => this.handle(r));
  }
  private handle(r: FakeRequest): FakeReply {
    if (r.path !== '/v2/enqueue') return { status: 404, json: { status: 'not found' } };
    const invalid = (why: string) => ({ status: 400, json: { status: 'invalid event', message: 'Event object is invalid', errors: [why] } });
    let e: Record<string, any>;
    try {
      e = JSON.parse(r.body);
    } catch {
      return invalid('Invalid JSON');
    }
    if (e.routing_key !== ROUTING_KEY) return invalid('Invalid routing key');
    if (!['trigger', 'acknowledge', 'resolve'].includes(e.event_action)) return invalid("'event_action' is invalid");
    const p = e.payload ?? {};
    if (typeof p.summary !== 'string' || p.summary.length > 1024 || typeof p.source !== 'string') return invalid("'payload.summary' and 'payload.source' are required");
    if (!['critical', 'error', 'warning', 'info'].includes(p.severity)) return invalid("'payload.severity' is invalid");
    if (p.timestamp !== undefined && Number.isNaN(Date.parse(p.timestamp))) return invalid("'payload.timestamp' is invalid");
    this.incidents.set(e.dedup_key, (this.incidents.get(e.dedup_key) ?? 0) + 1);
    if (this.loseNextResponse-- > 0) return 'reset';
    return { status: 202, json: { status: 'success', message: 'Event processed', dedup_key: e.dedup_key } };
  }
}

/** A generic receiver that verifies the HMAC signature and a 5-minute timestamp window. */
class FakeReceiver extends FakeHttp {
  readonly ids: string[] = [];
  constructor(readonly secret: string) {
    super((r) => this.handle(r));
  }
  private handle(r: FakeRequest): FakeReply {
    const ts = String(r.headers['x-mltrail-timestamp'] ?? '');
    const sig = String(r.headers['x-mltrail-signature'] ?? '');
    const want = `sha256=${createHmac('sha256', this.secret).update(`${ts}.${r.body}`).digest('hex')}`;
    if (sig.length !== want.length || !timingSafeEqual(Buffer.from(sig), Buffer.from(want))) return { status: 401, json: { error: 'bad signature' } };
    if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return { status: 401, json: { error: 'stale' } };
    if (r.headers['x-receiver-key'] !== 'k1' || r.headers.authorization !== 'Bearer rx-token') return { status: 403, json: { error: 'forbidden' } };
    const body = JSON.parse(r.body) as { records: Array<{ id: string; kind: string; data: unknown }> };
    this.ids.push(...body.records.map((x) => x.id));
    return { status: 204 };
  }
}

describe('webhook sink through SinkRunner + Spool', () => {
  const fakes: FakeHttp[] = [];
  let h: Harness<WebhookConfig> | undefined;
  afterEach(async () => {
    await h?.stop().catch(() => {});
    h = undefined;
    for (const f of fakes.splice(0)) await f.close();
  });

  it('slack: one Block Kit message per alert (alerts only by default), platform text escaped, each alert once', async () => {
    const slack = await new FakeSlack().start();
    fakes.push(slack);
    h = new Harness(webhookSinkFactory, { flavor: 'slack', url: slack.url + SLACK_PATH, ...FAST }, undefined, 'slack');
    await h.add([testEvent(1), testAlert(1), testAlert(2, { summary: 'model <!channel> <https://evil|click>' , title: 'T'.repeat(200) }), testAlert(3, { severity: 'critical' })]);
    h.start();
    expect(await h.drain()).toBe(true);
    expect(slack.messages).toHaveLength(3);
    const texts = JSON.stringify(slack.messages);
    expect(texts).not.toMatch(/<!channel>|<https:/);
    expect(texts).toContain('&lt;!channel&gt;');
    expect(slack.messages.map((m) => m.blocks.at(-1).elements[0].text.match(/alert `([^`]+)`/)[1])).toEqual(['alert-0001', 'alert-0002', 'alert-0003']);
    expect(slack.messages[2]!.blocks[0].text.text).toMatch(/^CRITICAL: /);
    expect(slackEscape('a&<b>')).toBe('a&amp;&lt;b&gt;');
  });

  it('slack: 429 Retry-After is retried, 400 invalid_blocks dead-letters with the answer, 404 no_service keeps alerts (unhealthy)', async () => {
    const slack = await new FakeSlack().start();
    fakes.push(slack);
    slack.fault(() => true, { status: 429, text: 'rate_limited', headers: { 'retry-after': '0' } }, 1);
    slack.fault((r) => r.body.includes('alert-0002'), { status: 400, text: 'invalid_blocks' }, 1);
    h = new Harness(webhookSinkFactory, { flavor: 'slack', url: slack.url + SLACK_PATH, ...FAST }, undefined, 'slack');
    await h.add([testAlert(1), testAlert(2), testAlert(3)]);
    h.start();
    expect(await h.drain()).toBe(true);
    expect(slack.messages).toHaveLength(2);
    expect(h.deadLetters().map((d) => [d.record_id, d.reason])).toEqual([['alert-0002', expect.stringMatching(/HTTP 400 invalid_blocks/)]]);
    await h.stop();
    h = new Harness(webhookSinkFactory, { flavor: 'slack', url: `${slack.url}/services/T0000/B0000/revoked`, ...FAST }, undefined, 'slack');
    await h.add([testAlert(4)]);
    h.start();
    await until(() => slack.requests.filter((r) => r.path.endsWith('revoked')).length >= 2, 5000, 'retries');
    expect(h.runner.health()).toMatchObject({ state: 'unhealthy', backlog: 1 });
    expect(h.runner.health().reason).not.toContain('revoked'); // the URL path is the secret
    expect(h.deadLetters()).toEqual([]);
  });

  it('pagerduty: Events v2 trigger with dedup_key = alert id; a lost response folds into the same incident', async () => {
    const pd = await new FakePagerDuty().start();
    fakes.push(pd);
    pd.loseNextResponse = 1;
    h = new Harness(webhookSinkFactory, { flavor: 'pagerduty', url: `${pd.url}/v2/enqueue`, routing_key: ROUTING_KEY, ...FAST }, undefined, 'pager');
    await h.add([testAlert(1, { severity: 'critical' }), testAlert(2, { severity: 'low' }), testEvent(3)]);
    h.start();
    expect(await h.drain()).toBe(true);
    expect([...pd.incidents.keys()].sort()).toEqual(['alert-0001', 'alert-0002']);
    expect(pd.requests.map((r) => JSON.parse(r.body).payload.severity).sort()).toEqual(['critical', 'critical', 'info']);
    expect(pd.incidents.get('alert-0001')).toBe(2); // resent after the lost response, same dedup_key → one incident
    expect(h.deadLetters()).toEqual([]);
  });

  it('pagerduty: a wrong routing key is a config fault (kept), not a bad alert', async () => {
    const pd = await new FakePagerDuty().start();
    fakes.push(pd);
    h = new Harness(webhookSinkFactory, { flavor: 'pagerduty', url: `${pd.url}/v2/enqueue`, routing_key: 'X'.repeat(32), ...FAST }, undefined, 'pager');
    await h.add([testAlert(1)]);
    h.start();
    await until(() => pd.requests.length >= 2, 5000, 'retries');
    expect(h.runner.health().state).toBe('unhealthy');
    expect(h.deadLetters()).toEqual([]);
  });

  it('generic: signed batches; 500 retried; each id once; wrong signature secret → kept, unhealthy', async () => {
    const rx = await new FakeReceiver('s3cret-s3cret-s3cret').start();
    fakes.push(rx);
    rx.fault(() => true, { status: 500, json: { error: 'boom' } }, 1);
    h = new Harness(webhookSinkFactory, { flavor: 'generic', url: rx.url, secret: 's3cret-s3cret-s3cret', headers: { 'x-receiver-key': 'k1' }, bearer_token: 'rx-token', route: { kinds: ['event', 'alert'] }, ...FAST }, undefined, 'hook');
    await h.add([testEvent(1), testAlert(1), testEvent(2)]);
    h.start();
    expect(await h.drain()).toBe(true);
    expect([...counts(rx.ids).entries()].sort()).toEqual([['alert-0001', 1], ['evt-0001', 1], ['evt-0002', 1]]);
    await h.stop();
    h = new Harness(webhookSinkFactory, { flavor: 'generic', url: rx.url, secret: 'wrong-wrong-wrong-wrong', headers: { 'x-receiver-key': 'k1' }, bearer_token: 'rx-token', ...FAST }, undefined, 'hook');
    await h.add([testAlert(9)]);
    h.start();
    await until(() => rx.requests.length >= 4, 5000, 'retries');
    expect(h.runner.health().state).toBe('unhealthy');
    expect(h.deadLetters()).toEqual([]);
  });

  it('config: pagerduty takes alerts only and needs a routing key; http only to loopback', () => {
    expect(WebhookConfig.safeParse({ flavor: 'pagerduty', routing_key: ROUTING_KEY, route: { kinds: ['event'] } }).success).toBe(false);
    expect(WebhookConfig.safeParse({ flavor: 'pagerduty' }).error?.message).toMatch(/routing_key/);
    expect(WebhookConfig.safeParse({ flavor: 'slack', url: 'http://hooks.example.com/x' }).success).toBe(false);
    expect(WebhookConfig.safeParse({ flavor: 'slack', url: 'not a url' }).success).toBe(false); // an error, not a TypeError
    expect(WebhookConfig.parse({ flavor: 'slack', url: 'https://hooks.slack.com/services/T/B/X' }).route.kinds).toEqual(['alert']);
  });

  // Size and validation refusals, Retry-After, PagerDuty severities.

  /** A generic receiver that takes one record per request: 413 for a batch, 422 for a record it cannot process. */
  const strictReceiver = async () => {
    const ids: string[] = [];
    const rx = await new FakeHttp((r) => {
      const { records } = JSON.parse(r.body) as { records: Array<{ id: string }> };
      if (records.length > 1) return { status: 413, text: 'Payload Too Large' };
      if (records[0]!.id === 'alert-0002') return { status: 422, json: { error: 'unprocessable' } };
      ids.push(records[0]!.id);
      return { status: 204 };
    }).start();
    fakes.push(rx);
    return { rx, ids };
  };

  it('generic: a 413 batch is resent one record per request; a lone 422 record is dead-lettered; the others delivered once', async () => {
    const { rx, ids } = await strictReceiver();
    h = new Harness(webhookSinkFactory, { flavor: 'generic', url: rx.url, ...FAST }, undefined, 'hook');
    await h.add([testAlert(1), testAlert(2), testAlert(3)]);
    h.start();
    expect(await h.drain(5000)).toBe(true);
    expect([...counts(ids).entries()].sort()).toEqual([['alert-0001', 1], ['alert-0003', 1]]);
    const dl = h.deadLetters();
    expect(dl.map((d) => [d.record_id, d.status])).toEqual([['alert-0002', 'dead']]);
    expect(dl[0]!.reason).toMatch(/HTTP 422/);
  });

  it('slack: a 429 with Retry-After is resent only after the delay Slack asked for, and the sink is degraded, not unhealthy', async () => {
    const slack = await new FakeSlack().start();
    fakes.push(slack);
    let refusedAt = 0;
    let healthAfter = '';
    slack.fault(() => true, () => {
      refusedAt = Date.now();
      setTimeout(() => { healthAfter = h!.runner.health().state; }, 300);
      return { status: 429, text: 'rate_limited', headers: { 'retry-after': '1' } };
    }, 1);
    h = new Harness(webhookSinkFactory, { flavor: 'slack', url: slack.url + SLACK_PATH, ...FAST }, undefined, 'slack');
    await h.add([testAlert(1)]);
    h.start();
    expect(await h.drain(5000)).toBe(true);
    expect(slack.requests).toHaveLength(2);
    expect(Date.now() - refusedAt).toBeGreaterThanOrEqual(900);
    expect(healthAfter).toBe('degraded');
    expect(slack.messages).toHaveLength(1);
  });

  it('slack: a long summary full of & < > stays within Slack\'s limits once escaped: delivered, not dead-lettered', async () => {
    const slack = await new FakeSlack().start();
    fakes.push(slack);
    h = new Harness(webhookSinkFactory, { flavor: 'slack', url: slack.url + SLACK_PATH, ...FAST }, undefined, 'slack');
    // 2,000 characters (rule summaries are bounded at 2,048), a third of them escaped to 4–5 characters each.
    const summary = "bash -c 'a && b < c > d' ".repeat(80);
    await h.add([testAlert(1, { summary, entity: { type: 'model', id: `m/${'&'.repeat(1890)}`, platform: 'mlflow' } })]);
    h.start();
    expect(await h.drain(5000)).toBe(true);
    expect(h.deadLetters()).toEqual([]);
    expect(slack.messages).toHaveLength(1);
    const m = slack.messages[0]!;
    const section = m.blocks[1].text.text as string;
    expect(section.length).toBeLessThanOrEqual(3000);
    expect(section.startsWith(slackEscape(summary.slice(0, 100)))).toBe(true);
    // Clipped between entities, never inside one.
    expect(section).not.toMatch(/&[a-z]{0,3}…$/);
    expect(m.blocks[2].fields[2].text.length).toBeLessThanOrEqual(2000);
  });

  it('pagerduty: mltrail severities map to the Events v2 severities (critical, error, warning, info)', () => {
    const sev = (s: 'low' | 'medium' | 'high' | 'critical') => (pagerDutyEvent(testAlert(1, { severity: s }), ROUTING_KEY).payload as { severity: string }).severity;
    expect([sev('critical'), sev('high'), sev('medium'), sev('low')]).toEqual(['critical', 'error', 'warning', 'info']);
  });
});
