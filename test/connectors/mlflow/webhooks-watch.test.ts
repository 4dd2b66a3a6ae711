import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { createMlflowConnector } from '../../../connectors/mlflow/index.js';
import type { ConnectorDeps } from '../../../core/connector.js';
import { Ingestor } from '../../../core/ingest.js';
import { silentLogger } from '../../../core/log.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { Spool } from '../../../core/spool/index.js';
import { FakeMlflow, type FakeWebhook } from './fake-mlflow.js';

/**
 * mltrail's own MLflow registry webhooks (3.3+) deleted, disabled, re-pointed or narrowed: no webhook reports its own
 * change, so the registry auditor lists them each cycle (`GET /api/2.0/mlflow/webhooks`) and
 * platform.audit_log_tampering judges the cuts.
 */

const T0 = 1764300000000;
const BRIDGE = 'https://mltrail.example.com/v1/ingest/mlflow';
let fake: FakeMlflow;
let dir: string;
let spool: Spool | undefined;
const clock = { now: T0 + 3_600_000 };
let cursor = 0;

beforeEach(async () => {
  fake = new FakeMlflow();
  fake.credentials = { username: 'auditor', password: 's3cret' };
  await fake.start();
  dir = mkdtempSync(join(tmpdir(), 'mltrail-mlflow-hooks-'));
  cursor = 0;
});
afterEach(async () => {
  spool?.close();
  spool = undefined;
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

function auditor(poll: Record<string, unknown> = {}): { runOnce(): Promise<boolean> } {
  spool?.close();
  spool = Spool.open({ dir });
  const config = MlflowConfig.parse({ poll: { tracking_uri: fake.url, username: 'auditor', password: 's3cret', max_attempts: 2, retry_initial_ms: 5, retry_max_ms: 10, hash_artifacts: false, ...poll } });
  const deps: ConnectorDeps<MlflowConfig> = { config, ingest: new Ingestor(spool, silentLogger()), spool, logger: silentLogger(), server: { host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20 }, dataDir: dir, keepRaw: true, env: {} };
  return createMlflowConnector({ now: () => clock.now }).pollers!(deps)[0] as unknown as { runOnce(): Promise<boolean> };
}

function newEvents(): NormalizedEvent[] {
  const recs = spool!.read('test', 100_000, cursor);
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
    fake.webhooks = new Map([
      ['a1', hook('a1', BRIDGE)], ['b2', hook('b2', BRIDGE)], ['c3', hook('c3', BRIDGE)], ['d4', hook('d4', `${BRIDGE}?server=team`)],
      ['x9', hook('x9', 'https://slack.example.com/hook')],
    ]);
    const a = auditor();
    expect(await a.runOnce()).toBe(true);
    expect(newEvents().filter((e) => e.action.startsWith('audit_log.'))).toEqual([]);
    expect(fake.requests.some((r) => r.path === '/api/2.0/mlflow/webhooks' && r.auth?.startsWith('Basic '))).toBe(true);

    const U = T0 + 60_000;
    Object.assign(fake.webhooks.get('a1')!, { status: 'DISABLED', last_updated_timestamp: U });
    Object.assign(fake.webhooks.get('b2')!, { url: 'https://attacker.example/collect', last_updated_timestamp: U });
    Object.assign(fake.webhooks.get('c3')!, { events: [{ entity: 'MODEL_VERSION', action: 'CREATED' }], last_updated_timestamp: U });
    fake.webhooks.delete('d4');
    fake.webhooks.delete('x9'); // not mltrail's: nothing
    clock.now += 60_000;
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
    expect(fake.requests.some((r) => r.path === '/api/2.0/mlflow/webhooks/d4')).toBe(true);

    const alerts = tampering(evs);
    expect(alerts.map((x) => [x.details.trail, x.details.action]).sort()).toEqual([
      ['hook-a1 (a1)', 'audit_log.disable'], ['hook-b2 (b2)', 'audit_log.update'], ['hook-c3 (c3)', 'audit_log.update'], ['hook-d4 (d4)', 'audit_log.delete'],
    ]);
    expect(alerts.find((x) => x.details.trail === 'hook-d4 (d4)')!.summary).toContain('deleted the MLflow webhook delivering to mltrail');
    expect(alerts.find((x) => x.details.trail === 'hook-c3 (c3)')!.summary).toContain('stopped delivering model_version_alias.created');

    // Nothing changed since: nothing new (the disabled one is not reported again; the re-pointed one is no longer mltrail's).
    clock.now += 60_000;
    expect(await a.runOnce()).toBe(true);
    expect(newEvents().filter((e) => e.action.startsWith('audit_log.'))).toEqual([]);
  });

  it('a webhook missing from the listing but still answered by GET is no deletion; re-enabled or widened is no cut', async () => {
    fake.webhooks = new Map([['a1', hook('a1', BRIDGE, { status: 'DISABLED' })]]);
    const a = auditor();
    await a.runOnce();
    newEvents();
    // The listing answers without it (a page shifted by a concurrent delete), yet GET still finds it.
    const hidden = fake.webhooks.get('a1')!;
    const realList = fake.webhooks;
    fake.onRequest = (path) => {
      fake.webhooks = path === '/api/2.0/mlflow/webhooks' ? new Map() : realList;
    };
    Object.assign(hidden, { status: 'ACTIVE', events: [...hidden.events, { entity: 'PROMPT_VERSION', action: 'CREATED' }], last_updated_timestamp: T0 + 1 });
    clock.now += 60_000;
    expect(await a.runOnce()).toBe(true);
    expect(newEvents().filter((e) => e.action.startsWith('audit_log.'))).toEqual([]);
  });

  it('ids name webhooks whose URL the globs miss (a proxy in front of the bridge); a server without the webhooks API is asked once', async () => {
    fake.webhooks = new Map([['p7', hook('p7', 'https://siem-proxy.internal/mlflow')]]);
    const a = auditor({ webhooks: { ids: ['p7'] } });
    await a.runOnce();
    fake.webhooks.delete('p7');
    clock.now += 60_000;
    await a.runOnce();
    expect(newEvents().filter((e) => e.action.startsWith('audit_log.')).map((e) => [e.action, e.resource?.id])).toEqual([['audit_log.delete', 'p7']]);

    fake.webhooks = undefined; // MLflow before 3.3: 404 ENDPOINT_NOT_FOUND
    fake.requests = [];
    const old = auditor();
    expect(await old.runOnce()).toBe(true);
    expect(await old.runOnce()).toBe(true);
    expect(fake.requests.filter((r) => r.path === '/api/2.0/mlflow/webhooks')).toHaveLength(1);
  });
});
