import { beforeEach, describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { useAuditorHarness } from './auditor-harness.js';
import type { FakeWebhook } from './fake-mlflow.js';

/**
 * mltrail's own MLflow registry webhooks (3.3+) deleted, disabled, re-pointed or narrowed: no webhook reports its own
 * change, so the registry auditor lists them each cycle (`GET /api/2.0/mlflow/webhooks`) and
 * platform.audit_log_tampering judges the cuts.
 */

const T0 = 1764300000000;
const BRIDGE = 'https://mltrail.example.com/v1/ingest/mlflow';
const h = useAuditorHarness('mltrail-mlflow-hooks-', T0, (fake) => {
  fake.credentials = { username: 'auditor', password: 's3cret' };
});
let cursor = 0;
beforeEach(() => {
  cursor = 0;
});
const auditor = (poll: Record<string, unknown> = {}) => h.auditor({ username: 'auditor', password: 's3cret', hash_artifacts: false, ...poll });

function newEvents(): NormalizedEvent[] {
  const recs = h.spool!.read('test', 100_000, cursor);
  if (recs.length) cursor = recs.at(-1)!.seq;
  return recs.map((r) => NormalizedEvent.parse(JSON.parse(r.body)));
}

function hook(id: string, url: string, extra: Partial<FakeWebhook> = {}): FakeWebhook {
  return {
    webhook_id: id, name: `hook-${id}`, url, status: 'ACTIVE', creation_timestamp: T0, last_updated_timestamp: T0,
    events: [{ entity: 'MODEL_VERSION', action: 'CREATED' }, { entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' }, { entity: 'MODEL_VERSION_TAG', action: 'SET' }],
    ...extra,
  };
}

const tampering = (evs: NormalizedEvent[]) => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'platform.audit_log_tampering');

describe("MLflow webhooks of mltrail's (poll.webhooks)", () => {
  it('disabled, re-pointed, narrowed and deleted webhooks each become an audit_log event and an alert; a first listing is learned', async () => {
    h.fake.webhooks = new Map([
      ['a1', hook('a1', BRIDGE)], ['b2', hook('b2', BRIDGE)], ['c3', hook('c3', BRIDGE)], ['d4', hook('d4', `${BRIDGE}?server=team`)],
      ['x9', hook('x9', 'https://slack.example.com/hook')],
    ]);
    const a = auditor();
    expect(await a.runOnce()).toBe(true);
    expect(newEvents().filter((e) => e.action.startsWith('audit_log.'))).toEqual([]);
    expect(h.fake.requests.some((r) => r.path === '/api/2.0/mlflow/webhooks' && r.auth?.startsWith('Basic '))).toBe(true);

    const U = T0 + 60_000;
    Object.assign(h.fake.webhooks.get('a1')!, { status: 'DISABLED', last_updated_timestamp: U });
    Object.assign(h.fake.webhooks.get('b2')!, { url: 'https://attacker.example/collect', last_updated_timestamp: U });
    Object.assign(h.fake.webhooks.get('c3')!, { events: [{ entity: 'MODEL_VERSION', action: 'CREATED' }], last_updated_timestamp: U });
    h.fake.webhooks.delete('d4');
    h.fake.webhooks.delete('x9'); // not mltrail's: nothing
    h.clock.now += 60_000;
    expect(await a.runOnce()).toBe(true);
    const evs = newEvents().filter((e) => e.action.startsWith('audit_log.'));
    expect(evs.map((e) => [e.action, e.resource?.id, e.details?.log_destination ?? e.details?.feed_change ?? null]).sort()).toEqual([
      ['audit_log.delete', 'd4', null],
      ['audit_log.disable', 'a1', 'disabled the MLflow webhook (status DISABLED)'],
      ['audit_log.update', 'b2', 'https://attacker.example/collect'],
      ['audit_log.update', 'c3', 'stopped delivering model_version_alias.created, model_version_tag.set'],
    ]);
    expect(evs.find((e) => e.resource?.id === 'a1')).toMatchObject({ platform: 'mlflow', stage: 'platform', time: new Date(U).toISOString(), resource: { type: 'mlflow_webhook', name: 'hook-a1' }, details: { feed: 'mlflow_webhook', trail: 'hook-a1 (a1)' } });
    // The deletion was confirmed by GET .../webhooks/d4 answering 404.
    expect(h.fake.requests.some((r) => r.path === '/api/2.0/mlflow/webhooks/d4')).toBe(true);

    const alerts = tampering(evs);
    expect(alerts.map((x) => [x.details.trail, x.details.action]).sort()).toEqual([
      ['hook-a1 (a1)', 'audit_log.disable'], ['hook-b2 (b2)', 'audit_log.update'], ['hook-c3 (c3)', 'audit_log.update'], ['hook-d4 (d4)', 'audit_log.delete'],
    ]);
    expect(alerts.find((x) => x.details.trail === 'hook-d4 (d4)')!.summary).toContain('deleted the MLflow webhook delivering to mltrail');
    expect(alerts.find((x) => x.details.trail === 'hook-c3 (c3)')!.summary).toContain('stopped delivering model_version_alias.created');

    // Nothing changed since: nothing new (the disabled one is not reported again; the re-pointed one is no longer mltrail's).
    h.clock.now += 60_000;
    expect(await a.runOnce()).toBe(true);
    expect(newEvents().filter((e) => e.action.startsWith('audit_log.'))).toEqual([]);
  });

  it('a webhook missing from the listing but still answered by GET is no deletion; re-enabled or widened is no cut', async () => {
    h.fake.webhooks = new Map([['a1', hook('a1', BRIDGE, { status: 'DISABLED' })]]);
    const a = auditor();
    await a.runOnce();
    newEvents();
    // The listing answers without it (a page shifted by a concurrent delete), yet GET still finds it.
    const hidden = h.fake.webhooks.get('a1')!;
    const realList = h.fake.webhooks;
    h.fake.onRequest = (path) => {
      h.fake.webhooks = path === '/api/2.0/mlflow/webhooks' ? new Map() : realList;
    };
    Object.assign(hidden, { status: 'ACTIVE', events: [...hidden.events, { entity: 'PROMPT_VERSION', action: 'CREATED' }], last_updated_timestamp: T0 + 1 });
    h.clock.now += 60_000;
    expect(await a.runOnce()).toBe(true);
    expect(newEvents().filter((e) => e.action.startsWith('audit_log.'))).toEqual([]);
  });

  it('ids name webhooks whose URL the globs miss (a proxy in front of the bridge); a server without the webhooks API is asked once', async () => {
    h.fake.webhooks = new Map([['p7', hook('p7', 'https://siem-proxy.internal/mlflow')]]);
    const a = auditor({ webhooks: { ids: ['p7'] } });
    await a.runOnce();
    h.fake.webhooks.delete('p7');
    h.clock.now += 60_000;
    await a.runOnce();
    expect(newEvents().filter((e) => e.action.startsWith('audit_log.')).map((e) => [e.action, e.resource?.id])).toEqual([['audit_log.delete', 'p7']]);

    h.fake.webhooks = undefined; // MLflow before 3.3: 404 ENDPOINT_NOT_FOUND
    h.fake.requests = [];
    const old = auditor();
    expect(await old.runOnce()).toBe(true);
    expect(await old.runOnce()).toBe(true);
    expect(h.fake.requests.filter((r) => r.path === '/api/2.0/mlflow/webhooks')).toHaveLength(1);
  });
});
