import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { createMlflowConnector } from '../../../connectors/mlflow/index.js';
import { databricksSignature, mlflowSignature } from '../../../connectors/mlflow/signature.js';
import type { ConnectorDeps, Poller } from '../../../core/connector.js';
import { Ingestor } from '../../../core/ingest.js';
import { silentLogger } from '../../../core/log.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { stableId, type NormalizedEvent } from '../../../core/schema/index.js';
import { Spool } from '../../../core/spool/index.js';
import { readFixture } from '../../helpers/fixtures.js';
import { FakeMlflow } from './fake-mlflow.js';

/**
 * Two MLflow tracking servers (a team server and the prod registry) both have `fraud/1` and send their webhooks
 * to one bridge. The secret that verifies a delivery tells which server sent it; each server's names, state and
 * alerts are its own. The bodies are MLflow's own webhook fixtures, with the model (and alias, and time) replaced
 * in the bytes as MLflow serializes them.
 */

const DEFAULT_SECRET = 'default-server-secret-0123456789';
const TEAM_SECRET = 'team-server-secret-0123456789ab';
const PROD_SECRET = 'prod-server-secret-0123456789ab';
const T0 = Date.parse('2025-08-20T09:45:00Z');
/** Ports of this test (the range its task was given): a bridge port per test, so no pooled connection outlives its server. */
/** The bridge's port: the kernel picks a free one per test (a fixed one can be a client's ephemeral port). */
let bridgePort = 0;

const config = {
  webhook_secrets: [DEFAULT_SECRET],
  servers: [
    { id: 'team', webhook_secrets: [TEAM_SECRET] },
    { id: 'prod', webhook_secrets: [PROD_SECRET] },
  ],
};

/** The fixture's bytes with `data` values replaced as they are serialized (`"key": "value"`). */
function body(file: string, replace: Record<string, string>): string {
  let text = readFixture('mlflow', file).toString('utf8');
  for (const [from, to] of Object.entries(replace)) {
    expect(text).toContain(from);
    text = text.replace(from, to);
  }
  return text;
}
const approveFraud = () => body('model_version_alias.created.json', { '"name": "model_version_alias_created"': '"name": "fraud"', '"alias": "test_alias"': '"alias": "champion"' });
const tagFraud = () => body('model_version_tag.set.json', { '"name": "model_version_tag_set"': '"name": "fraud"', '"timestamp": "2025-08-20T09:21:47.902114+00:00"': '"timestamp": "2025-08-20T09:40:00.000000+00:00"' });

describe('several MLflow servers sending webhooks to one bridge', () => {
  let dir: string;
  let spool: Spool;
  let server: ServerType;
  let deps: ConnectorDeps<MlflowConfig>;
  let plugin: ReturnType<typeof createMlflowConnector>;
  const clock = { now: T0 };

  async function start(cfg: Record<string, unknown>): Promise<void> {
    dir = mkdtempSync(join(tmpdir(), 'mltrail-mlflow-servers-'));
    spool = Spool.open({ dir });
    const logger = silentLogger();
    deps = { config: MlflowConfig.parse(cfg), ingest: new Ingestor(spool, logger), spool, logger, server: { host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20 }, dataDir: dir, keepRaw: true, env: {} };
    plugin = createMlflowConnector({ now: () => clock.now });
    const app = new Hono();
    plugin.routes!(app, deps);
    server = await new Promise((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    bridgePort = (server.address() as { port: number }).port;
    deps.server.port = bridgePort;
  }
  beforeEach(() => {
    clock.now = T0;
  });
  afterEach(async () => {
    await new Promise<void>((r) => {
      server.close(() => r());
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
    spool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One delivery as MLflow sends it (`_send_webhook_request`), signed with `secret`. */
  async function deliver(secret: string, text: string, id = randomUUID(), ts = String(Math.floor(clock.now / 1000))): Promise<{ status: number; json: any }> {
    const res = await fetch(`http://127.0.0.1:${bridgePort}/v1/ingest/mlflow`, {
      method: 'POST', body: text,
      headers: { 'content-type': 'application/json', 'x-mlflow-delivery-id': id, 'x-mlflow-timestamp': ts, 'x-mlflow-signature': mlflowSignature(secret, id, ts, text) },
    });
    return { status: res.status, json: await res.json() };
  }
  const events = () => spool.read('test', 100_000).filter((r) => r.kind === 'event').map((r) => JSON.parse(r.body) as NormalizedEvent);
  const modified = () => replayEvents(events(), { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');

  it("one server's approval does not vouch for another's fraud/1; the alert names the server whose approved version changed", async () => {
    await start(config);
    // The default server and the team server approve their fraud/1 (alias champion).
    expect(await deliver(DEFAULT_SECRET, approveFraud())).toMatchObject({ status: 200, json: { accepted: 1 } });
    const teamApproval = await deliver(TEAM_SECRET, approveFraud());
    expect(teamApproval).toMatchObject({ status: 200, json: { accepted: 1, server: 'team' } });
    // The prod registry's fraud/1, never approved there, gets a tag: nothing approved changed.
    clock.now += 60_000;
    expect(await deliver(PROD_SECRET, tagFraud())).toMatchObject({ status: 200, json: { accepted: 1, server: 'prod' } });
    expect(modified()).toEqual([]);

    // The team server's approved fraud/1 gets the same tag: that one is an approved version modified.
    const teamTag = await deliver(TEAM_SECRET, tagFraud());
    expect(teamTag.status).toBe(200);
    const alerts = modified();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.entity).toEqual({ type: 'model_version', id: 'team:fraud/1', name: 'fraud', platform: 'mlflow' });
    expect(alerts[0]!.evidence).toContain(stableId('mlflow', 'server', 'team', stableId('mlflow', 'delivery', teamTag.json.delivery_id)));
    expect(alerts[0]!.details.cloud).toEqual({ provider: 'other', account: 'team' });

    // Each event says its server; the default server's stay as before (no cloud, the delivery id's id).
    const byServer = events().map((e) => [e.cloud?.account ?? null, e.action]);
    expect(byServer).toEqual([[null, 'model_version.approve'], ['team', 'model_version.approve'], ['prod', 'model_version.tag_set'], ['team', 'model_version.tag_set']]);
    expect(events()[0]!.cloud).toBeUndefined();
  });

  it("the default server's approval does not vouch for a configured server's version of the same name", async () => {
    await start(config);
    expect((await deliver(DEFAULT_SECRET, approveFraud())).status).toBe(200);
    clock.now += 60_000;
    expect((await deliver(PROD_SECRET, tagFraud())).status).toBe(200);
    expect(modified()).toEqual([]);
    // The default server's own fraud/1 changed: its alert reads as before scoping.
    expect((await deliver(DEFAULT_SECRET, tagFraud())).status).toBe(200);
    expect(modified().map((a) => a.entity)).toEqual([{ type: 'model_version', id: 'fraud/1', name: 'fraud', platform: 'mlflow' }]);
  });

  it('the same change made on two servers is two changes, not one change reported twice (webhook and auditor)', async () => {
    await start(config);
    expect((await deliver(TEAM_SECRET, approveFraud())).status).toBe(200);
    expect((await deliver(PROD_SECRET, approveFraud())).status).toBe(200);
    clock.now += 60_000;
    expect((await deliver(TEAM_SECRET, tagFraud())).status).toBe(200);
    expect((await deliver(PROD_SECRET, tagFraud())).status).toBe(200);
    const [team, prod] = events().slice(2);
    expect(team!.details?.change_key).not.toBe(prod!.details?.change_key);
    expect(modified().map((a) => a.entity.id).sort()).toEqual(['prod:fraud/1', 'team:fraud/1']);
  });

  it("two servers' identical deliveries are two events; a server's retry is still a duplicate; the default server's id is unchanged", async () => {
    await start(config);
    const text = approveFraud();
    const id = '3e9d1c7b-2a4f-4b6e-9c8d-5f1a0e2b7c64';
    const ts = String(Math.floor(clock.now / 1000));
    expect((await deliver(TEAM_SECRET, text, id, ts)).json).toMatchObject({ accepted: 1, duplicates: 0, server: 'team' });
    expect((await deliver(PROD_SECRET, text, id, ts)).json).toMatchObject({ accepted: 1, duplicates: 0, server: 'prod' });
    expect((await deliver(TEAM_SECRET, text, id, ts)).json).toMatchObject({ accepted: 0, duplicates: 1 });
    const def = await deliver(DEFAULT_SECRET, text, id, ts);
    expect(def.json).toEqual({ accepted: 1, duplicates: 0, delivery_id: id });
    expect(events().map((e) => e.id)).toEqual([
      stableId('mlflow', 'server', 'team', stableId('mlflow', 'delivery', id)),
      stableId('mlflow', 'server', 'prod', stableId('mlflow', 'delivery', id)),
      stableId('mlflow', 'delivery', id),
    ]);
  });

  it('Databricks bodies (ids from their content) of two servers are two events', async () => {
    await start({ ...config, servers: [{ id: 'team', webhook_secrets: [TEAM_SECRET] }, { id: 'prod', databricks_webhook_secrets: [PROD_SECRET] }] });
    const text = JSON.stringify({ event: 'MODEL_VERSION_TRANSITIONED_TO_PRODUCTION', webhook_id: 'w1', event_timestamp: clock.now - 1000, model_name: 'fraud', version: '1', to_stage: 'Production', from_stage: 'Staging' });
    const post = (secret: string) => fetch(`http://127.0.0.1:${bridgePort}/v1/ingest/mlflow/databricks`, { method: 'POST', body: text, headers: { 'content-type': 'application/json', 'x-databricks-signature': databricksSignature(secret, text) } }).then(async (r) => ({ status: r.status, json: await r.json() }));
    expect(await post(TEAM_SECRET)).toMatchObject({ status: 200, json: { accepted: 1, server: 'team' } });
    expect(await post(PROD_SECRET)).toMatchObject({ status: 200, json: { accepted: 1, duplicates: 0, server: 'prod' } });
    expect(events().map((e) => e.cloud?.account)).toEqual(['team', 'prod']);
  });

  it('a delivery no configured secret signs is still a 401; a server is never named by anything but its secret', async () => {
    await start(config);
    const r = await deliver('not-a-configured-secret-000000', approveFraud());
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe('MLTRAIL_ERR_SIGNATURE');
    // Signed by the prod server: a header or query naming another server changes nothing.
    const text = approveFraud();
    const id = randomUUID();
    const ts = String(Math.floor(clock.now / 1000));
    const res = await fetch(`http://127.0.0.1:${bridgePort}/v1/ingest/mlflow?server=team`, {
      method: 'POST', body: text,
      headers: { 'content-type': 'application/json', 'x-mlflow-server': 'team', 'x-mlflow-delivery-id': id, 'x-mlflow-timestamp': ts, 'x-mlflow-signature': mlflowSignature(PROD_SECRET, id, ts, text) },
    });
    expect(res.status).toBe(200);
    expect(events().filter((e) => e.stage === 'registry').map((e) => e.cloud?.account)).toEqual(['prod']);
  });

  describe('registry auditors, one per server', () => {
    let team: FakeMlflow;
    let prod: FakeMlflow;
    beforeEach(async () => {
      team = new FakeMlflow();
      prod = new FakeMlflow();
      await team.start();
      await prod.start();
    });
    afterEach(async () => {
      await team.stop();
      await prod.stop();
    });

    it('each audits its server, keeps its own snapshot and names its server in its events', async () => {
      const poll = (url: string) => ({ tracking_uri: url, max_attempts: 2, retry_initial_ms: 5, retry_max_ms: 10, request_timeout_ms: 3000, hash_artifacts: false, run_provenance: false });
      await start({ servers: [{ id: 'team', webhook_secrets: [TEAM_SECRET], poll: poll(team.url) }, { id: 'prod', poll: poll(prod.url) }] });
      team.addModel('fraud', T0 - 86_400_000);
      team.addVersion('fraud', '1', T0 - 86_400_000, { 'model.pkl': 'w1' }, { tags: { approved: 'true' } });
      prod.addModel('fraud', T0 - 86_400_000);
      for (const n of ['1', '2']) prod.addVersion('fraud', n, T0 - 86_400_000 + Number(n), { 'model.pkl': `p${n}` }, { tags: { approved: n === '2' ? 'true' : 'false' } });
      const pollers = plugin.pollers!(deps) as Array<Poller & { runOnce(): Promise<boolean> }>;
      expect(pollers.map((p) => p.name)).toEqual(['mlflow.registry-auditor@team', 'mlflow.registry-auditor@prod']);
      expect(await pollers[0]!.runOnce()).toBe(true);
      expect(await pollers[1]!.runOnce()).toBe(true);
      const first = events().length;
      expect(new Set(events().map((e) => e.cloud?.account))).toEqual(new Set(['team', 'prod']));
      // Nothing changed on the team server: its next poll reports nothing (its snapshot is not the prod registry's).
      clock.now += 60_000;
      expect(await pollers[0]!.runOnce()).toBe(true);
      expect(events().length).toBe(first);
      // A version made on prod is prod's.
      prod.addVersion('fraud', '3', clock.now, { 'model.pkl': 'p3' });
      expect(await pollers[1]!.runOnce()).toBe(true);
      const created = events().slice(first).filter((e) => e.action === 'model_version.create');
      expect(created.map((e) => [e.cloud?.account, e.resource?.id])).toEqual([['prod', 'fraud/3']]);
    });
  });
});

describe('connectors.mlflow.servers config', () => {
  it('ids are unique and well-formed, each secret names one server, a server needs secrets or a tracking URI, unknown keys are errors', () => {
    expect(MlflowConfig.parse(config).servers.map((s) => s.id)).toEqual(['team', 'prod']);
    expect(() => MlflowConfig.parse({ servers: [{ id: 'a', webhook_secrets: ['s1'] }, { id: 'a', webhook_secrets: ['s2'] }] })).toThrow(/used twice/);
    expect(() => MlflowConfig.parse({ servers: [{ id: 'a:b', webhook_secrets: ['s1'] }] })).toThrow(/letters, digits/);
    expect(() => MlflowConfig.parse({ webhook_secrets: ['s1'], servers: [{ id: 'a', webhook_secrets: ['s1'] }] })).toThrow(/also one of the default server/);
    expect(() => MlflowConfig.parse({ servers: [{ id: 'a', webhook_secrets: ['s1'] }, { id: 'b', databricks_webhook_secrets: ['s1'] }] })).toThrow(/also one of server/);
    expect(() => MlflowConfig.parse({ servers: [{ id: 'a' }] })).toThrow(/webhook_secrets.*or poll.tracking_uri/);
    expect(() => MlflowConfig.parse({ servers: [{ id: 'a', webhook_secrets: ['s1'], secret: 'x' }] })).toThrow(/secret/);
  });
});
