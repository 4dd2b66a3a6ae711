import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { mlflowSignature } from '../../../connectors/mlflow/signature.js';
import type { Poller } from '../../../core/connector.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { FakeMlflow } from './fake-mlflow.js';
import { startWebhookServer, type Harness } from './helpers.js';

/**
 * One MLflow tracking server run with MLFLOW_ENABLE_WORKSPACES, workspaces team-a and team-b each with a
 * `fraud` model of its own. Its webhooks name the workspace in the envelope; the registry auditor audits each
 * workspace listed in `poll.workspaces`, asking with `X-MLFLOW-WORKSPACE`. Both halves' reports of one change in
 * one workspace pair up; the same change in the other workspace is another change.
 */

const SECRET = 'workspaces-webhook-secret-0123456';
const T0 = Date.parse('2026-03-02T09:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const poll = (url: string, extra: Record<string, unknown> = {}) => ({ tracking_uri: url, max_attempts: 2, retry_initial_ms: 5, retry_max_ms: 10, request_timeout_ms: 3000, hash_artifacts: false, run_provenance: false, ...extra });

describe('an MLflow server with workspaces: webhooks and one registry auditor per workspace', () => {
  let fake: FakeMlflow;
  let h: Harness | undefined;
  const clock = { now: T0 };

  async function start(cfg: Record<string, unknown>): Promise<Array<Poller & { runOnce(): Promise<boolean> }>> {
    h = await startWebhookServer(cfg, T0, { clock });
    return h.pollers();
  }

  beforeEach(async () => {
    clock.now = T0;
    fake = new FakeMlflow();
    await fake.start(0);
    // The same model, versions and approval tag in both workspaces; the default workspace holds another fraud.
    for (const ws of [fake.workspace('team-a'), fake.workspace('team-b')]) {
      ws.addModel('fraud', T0 - 86_400_000);
      for (const n of ['1', '2']) ws.addVersion('fraud', n, T0 - 86_400_000 + Number(n), { 'model.pkl': `w${n}` }, { tags: { approved: 'true' } });
    }
    fake.addModel('fraud', T0 - 86_400_000);
    fake.addVersion('fraud', '1', T0 - 86_400_000, { 'model.pkl': 'd1' }, { tags: { approved: 'true' } });
  });
  afterEach(async () => {
    await h?.close();
    h = undefined;
    await fake.stop();
  });

  /** MLflow's webhook delivery (`_send_webhook_request` with workspaces on: `workspace` after `data`), signed. */
  async function deliver(workspace: string, entity: string, action: string, data: Record<string, string>): Promise<void> {
    const body = JSON.stringify({ entity, action, timestamp: iso(clock.now), data, workspace });
    const id = randomUUID();
    const ts = String(Math.floor(clock.now / 1000));
    const res = await fetch(`${h!.url}/v1/ingest/mlflow`, {
      method: 'POST', body, headers: { 'content-type': 'application/json', 'x-mlflow-delivery-id': id, 'x-mlflow-timestamp': ts, 'x-mlflow-signature': mlflowSignature(SECRET, id, ts, body) },
    });
    expect(res.status).toBe(200);
  }
  const events = (): NormalizedEvent[] => h!.events();

  it('audits each listed workspace with its header, keeps its own snapshot and scopes its events to the workspace', async () => {
    const [a, b, ...rest] = await start({ webhook_secrets: [SECRET], poll: poll(fake.url, { workspaces: ['team-a', 'team-b'] }) });
    expect(rest).toEqual([]);
    expect([a!.name, b!.name]).toEqual(['mlflow.registry-auditor@/team-a', 'mlflow.registry-auditor@/team-b']);
    expect(await a!.runOnce()).toBe(true);
    expect(await b!.runOnce()).toBe(true);
    // Every request named its workspace; none read the default workspace's registry.
    expect(new Set(fake.requests.map((r) => r.workspace))).toEqual(new Set(['team-a', 'team-b']));
    const first = events();
    expect(first.length).toBeGreaterThan(0);
    expect(new Set(first.map((e) => e.cloud?.project))).toEqual(new Set(['team-a', 'team-b']));
    // The two workspaces' identical registries are two sets of events, none deduplicated into the other.
    const perWorkspace = (ws: string) => first.filter((e) => e.cloud?.project === ws).map((e) => e.resource?.id).sort();
    expect(perWorkspace('team-a')).toEqual(perWorkspace('team-b'));
    expect(new Set(first.map((e) => e.id)).size).toBe(first.length);

    // Nothing changed in team-a: its next poll reports nothing (its snapshot is not team-b's).
    clock.now += 60_000;
    expect(await a!.runOnce()).toBe(true);
    expect(events().length).toBe(first.length);
    // A version made in team-b is team-b's, reported by its auditor only.
    fake.workspace('team-b').addVersion('fraud', '3', clock.now, { 'model.pkl': 'w3' });
    expect(await a!.runOnce()).toBe(true);
    expect(await b!.runOnce()).toBe(true);
    const created = events().slice(first.length).filter((e) => e.action === 'model_version.create');
    expect(created.map((e) => [e.cloud, e.resource?.id])).toEqual([[{ provider: 'other', project: 'team-b' }, 'fraud/3']]);
  });

  it("pairs a workspace's webhook with its auditor's report of the same change, never with the other workspace's", async () => {
    const [a, b] = await start({ webhook_secrets: [SECRET], poll: poll(fake.url, { workspaces: ['team-a', 'team-b'] }) });
    expect(await a!.runOnce()).toBe(true);
    expect(await b!.runOnce()).toBe(true);
    const baseline = events().length;

    // mallory tags fraud/1 in both workspaces; MLflow sends each workspace's webhook, the auditors see the tags next poll.
    clock.now += 20_000;
    for (const ws of ['team-a', 'team-b']) {
      fake.workspace(ws).versions.find((v) => v.version === '1')!.tags.owner = 'mallory';
      await deliver(ws, 'model_version_tag', 'set', { name: 'fraud', version: '1', key: 'owner', value: 'mallory' });
    }
    clock.now += 40_000;
    expect(await a!.runOnce()).toBe(true);
    expect(await b!.runOnce()).toBe(true);

    const reports = events().slice(baseline).filter((e) => e.resource?.id === 'fraud/1' && e.details?.tag);
    expect(reports.map((e) => [e.channel, e.cloud?.project]).sort()).toEqual([
      ['mlflow.audit', 'team-a'], ['mlflow.audit', 'team-b'], ['mlflow.webhook', 'team-a'], ['mlflow.webhook', 'team-b'],
    ]);
    const keyOf = (ws: string) => new Set(reports.filter((e) => e.cloud?.project === ws).map((e) => e.details?.change_key));
    expect(keyOf('team-a').size).toBe(1);
    expect(keyOf('team-b').size).toBe(1);
    expect([...keyOf('team-a')][0]).not.toBe([...keyOf('team-b')][0]);

    // One approved_model_modified per workspace, each counting its change once, named by its workspace.
    const modified = replayEvents(events(), { rules: RulesConfig.parse({}) }).alerts.filter((x) => x.rule_id === 'registry.approved_model_modified');
    expect(modified.map((x) => [x.entity.id, x.count]).sort()).toEqual([['/team-a:fraud/1', 1], ['/team-b:fraud/1', 1]]);
  });

  it('without poll.workspaces the auditor reads the default workspace as before: no header, events unscoped', async () => {
    const pollers = await start({ webhook_secrets: [SECRET], poll: poll(fake.url) });
    expect(pollers.map((p) => p.name)).toEqual(['mlflow.registry-auditor']);
    expect(await pollers[0]!.runOnce()).toBe(true);
    expect(fake.requests.every((r) => r.workspace === undefined)).toBe(true);
    expect(events().length).toBeGreaterThan(0);
    expect(events().every((e) => e.cloud === undefined)).toBe(true);
  });

  it('a configured server with workspaces: scoped to both (team/team-a); `default` listed audits the default workspace unscoped', async () => {
    const pollers = await start({ servers: [{ id: 'team', poll: poll(fake.url, { workspaces: ['default', 'team-a'] }) }] });
    expect(pollers.map((p) => p.name)).toEqual(['mlflow.registry-auditor@team', 'mlflow.registry-auditor@team/team-a']);
    for (const p of pollers) expect(await p.runOnce()).toBe(true);
    expect(new Set(fake.requests.map((r) => r.workspace))).toEqual(new Set(['default', 'team-a']));
    const clouds = new Set(events().map((e) => JSON.stringify(e.cloud)));
    expect(clouds).toEqual(new Set([JSON.stringify({ provider: 'other', account: 'team' }), JSON.stringify({ provider: 'other', project: 'team-a', account: 'team' })]));
  });

  it('a listed workspace the server does not have fails its audit (source.unavailable), not silently empty', async () => {
    const [gone] = await start({ poll: poll(fake.url, { workspaces: ['team-c'] }) });
    expect(await gone!.runOnce()).toBe(false);
    expect(gone!.health?.()).toMatchObject({ state: 'unhealthy' });
    expect(events().map((e) => [e.action, e.cloud?.project])).toEqual([['source.unavailable', 'team-c']]);
  });
});

describe('connectors.mlflow.poll.workspaces config', () => {
  it('poll.workspaces holds MLflow workspace names, each once', () => {
    expect(MlflowConfig.parse({ poll: { workspaces: ['team-a', 'default'] } }).poll.workspaces).toEqual(['team-a', 'default']);
    expect(MlflowConfig.parse({}).poll.workspaces).toEqual([]);
    expect(MlflowConfig.safeParse({ poll: { workspaces: ['team-a', 'team-a'] } }).success).toBe(false);
    expect(MlflowConfig.safeParse({ poll: { workspaces: ['a:b'] } }).success).toBe(false);
    expect(MlflowConfig.safeParse({ poll: { workspaces: ['a/b'] } }).success).toBe(false);
    expect(MlflowConfig.safeParse({ poll: { workspaces: 'team-a' } }).success).toBe(false);
    expect(MlflowConfig.safeParse({ servers: [{ id: 'team', poll: { tracking_uri: 'http://127.0.0.1:1', workspaces: ['x', 'x'] } }] }).success).toBe(false);
  });

  it("a name MLflow's WorkspaceNameValidator refuses is a config error naming the key, not an auditor failing at its first request", () => {
    for (const name of ['Team-A', 'team_a', 'team.a', 'Default', 'a', 'team-']) {
      const r = MlflowConfig.safeParse({ poll: { workspaces: ['team-a', name] } });
      expect(r.success, name).toBe(false);
      expect(r.error?.issues[0]?.path, name).toEqual(['poll', 'workspaces', 1]);
    }
    expect(MlflowConfig.safeParse({ servers: [{ id: 'team', poll: { tracking_uri: 'http://127.0.0.1:1', workspaces: ['Fraud'] } }] }).error?.issues[0]?.path).toEqual(['servers', 0, 'poll', 'workspaces', 0]);
  });
});
