import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Replayer, replayEvents } from '../../../bridge/replay.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { registryDiffer } from '../../../connectors/mlflow/diff.js';
import { createMlflowConnector } from '../../../connectors/mlflow/index.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { versionKey, type VersionSnap } from '../../../connectors/mlflow/snapshot.js';
import type { ConnectorDeps } from '../../../core/connector.js';
import { Ingestor } from '../../../core/ingest.js';
import { silentLogger } from '../../../core/log.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';
import { Spool } from '../../../core/spool/index.js';
import { FakeMlflow } from './fake-mlflow.js';

/**
 * One change to the MLflow registry reaches mltrail twice: the signed webhook at once, the registry auditor at
 * its next poll, as two events with their own ids. The rules count it once; a change only one half reports
 * still counts.
 */

const SECRET = 'cross-channel-secret';
const T0 = Date.parse('2026-03-02T09:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
/** Ports of this test (the range its task was given). */

const rules = { rules: RulesConfig.parse({}) };

/** Alerts over events in event-time order (`replay`) and in commit order (`serve`): both must agree. */
function alertsOf(events: NormalizedEvent[]): Alert[] {
  const replayed = replayEvents(events, rules).alerts;
  const served: Alert[] = [];
  const r = new Replayer(rules, { onAlerts: (a) => served.push(...a) });
  r.push(events.map((e) => ({ id: e.id, time: e.time, body: JSON.stringify(e) })));
  r.finish();
  expect(served.map((a) => a.id).sort()).toEqual(replayed.map((a) => a.id).sort());
  return replayed;
}

describe('MLflow: the webhook and the registry auditor reporting one change', () => {
  let fake: FakeMlflow;
  let dir: string;
  let spool: Spool;
  let server: ServerType;
  let bridgePort = 0;
  const clock = { now: T0 };
  let auditor: { runOnce(): Promise<boolean> };

  beforeEach(async () => {
    fake = new FakeMlflow();
    // Free ports: a fixed one failed this file whenever another run on the machine held it.
    await fake.start(0);
    dir = mkdtempSync(join(tmpdir(), 'mltrail-mlflow-xchan-'));
    spool = Spool.open({ dir });
    clock.now = T0;
    const logger = silentLogger();
    const config = MlflowConfig.parse({ webhook_secrets: [SECRET], poll: { tracking_uri: fake.url, max_attempts: 2, retry_initial_ms: 5, retry_max_ms: 10, request_timeout_ms: 3000 } });
    const deps: ConnectorDeps<MlflowConfig> = { config, ingest: new Ingestor(spool, logger), spool, logger, server: { host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20 }, dataDir: dir, keepRaw: true, env: {} };
    const plugin = createMlflowConnector({ now: () => clock.now });
    const app = new Hono();
    plugin.routes!(app, deps);
    server = await new Promise((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
        bridgePort = info.port;
        resolve(s);
      });
    });
    auditor = plugin.pollers!(deps)[0] as unknown as { runOnce(): Promise<boolean> };
  });
  afterEach(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    spool.close();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** MLflow's webhook delivery of one event, signed as `_send_webhook_request` signs it, at the clock's time. */
  async function deliver(entity: string, action: string, data: Record<string, string>): Promise<void> {
    const body = JSON.stringify({ entity, action, timestamp: iso(clock.now), data });
    const id = randomUUID();
    const ts = String(Math.floor(clock.now / 1000));
    const signature = `v1,${createHmac('sha256', SECRET).update(`${id}.${ts}.${body}`).digest('base64')}`;
    const res = await fetch(`http://127.0.0.1:${bridgePort}/v1/ingest/mlflow`, {
      method: 'POST', body, headers: { 'content-type': 'application/json', 'x-mlflow-delivery-id': id, 'x-mlflow-timestamp': ts, 'x-mlflow-signature': signature },
    });
    expect(res.status).toBe(200);
  }

  const events = () => spool.read('test', 100_000).filter((r) => r.kind === 'event').map((r) => JSON.parse(r.body) as NormalizedEvent);
  const setTag = (version: string, key: string, value: string | undefined) => {
    const v = fake.versions.find((x) => x.name === 'fraud' && x.version === version)!;
    if (value === undefined) delete v.tags[key];
    else v.tags[key] = value;
  };

  it('a tag set on an approved version raises one approved_model_modified; a change only the auditor or only the webhook saw raises its own', async () => {
    fake.addModel('fraud', T0 - 86_400_000);
    for (const n of ['1', '2', '3']) {
      fake.addVersion('fraud', n, T0 - 86_400_000 + Number(n), { MLmodel: 'flavors: {}', 'model.pkl': `w${n}` }, { run_id: `run${n}`, tags: { approved: 'true' } });
      fake.addRun(`run${n}`, { user: 'alice@corp.example', metrics: { auc: 0.9, adv_robust_acc: 0.8 } });
    }
    // baseline: three versions approved by the tag `approved` (a default of the connector and of the rules)
    expect(await auditor.runOnce()).toBe(true);

    // fraud/1: mallory tags it; MLflow sends the webhook at once and the auditor sees the tag at its next poll.
    clock.now += 20_000;
    setTag('1', 'owner', 'mallory');
    await deliver('model_version_tag', 'set', { name: 'fraud', version: '1', key: 'owner', value: 'mallory' });
    // fraud/2: a tag the webhook never brought (missed delivery): only the auditor reports it.
    setTag('2', 'owner', 'eve');
    // fraud/3: a tag set and removed between two polls: only the webhook reports it.
    await deliver('model_version_tag', 'set', { name: 'fraud', version: '3', key: 'owner', value: 'trudy' });
    await deliver('model_version_tag', 'deleted', { name: 'fraud', version: '3', key: 'owner' });
    clock.now += 40_000;
    expect(await auditor.runOnce()).toBe(true);

    const all = events();
    const reports = all.filter((e) => e.action !== 'model_version.hash_registered' && e.resource?.id === 'fraud/1' && e.details?.tag);
    // Two events, each with its own id, one change key.
    expect(reports.map((e) => e.channel).sort()).toEqual(['mlflow.audit', 'mlflow.webhook']);
    expect(new Set(reports.map((e) => e.id)).size).toBe(2);
    expect(reports[0]!.details?.change_key).toBeTruthy();
    expect(reports[0]!.details?.change_key).toBe(reports[1]!.details?.change_key);

    const modified = alertsOf(all).filter((a) => a.rule_id === 'registry.approved_model_modified');
    const webhookReport = reports.find((e) => e.channel === 'mlflow.webhook')!;
    const one = modified.filter((a) => a.entity.id === 'fraud/1');
    expect(one).toHaveLength(1);
    expect(one[0]).toMatchObject({ count: 1, details: { change: 'tag_set', tags: ['owner'] } });
    expect(one[0]!.evidence.at(-1)).toBe(webhookReport.id);
    // The auditor-only and the webhook-only changes still raise theirs.
    expect(modified.filter((a) => a.entity.id === 'fraud/2')).toHaveLength(1);
    expect(modified.filter((a) => a.entity.id === 'fraud/3').map((a) => a.details.change).sort()).toEqual(['tag_delete', 'tag_set']);
    expect(modified).toHaveLength(4);
  });

  it("someone rewriting mltrail's digest tag: the webhook's report is excepted (it may be the auditor's write-back), the auditor's is judged", async () => {
    fake.addModel('fraud', T0 - 86_400_000);
    fake.addVersion('fraud', '1', T0 - 86_400_000, { MLmodel: 'flavors: {}', 'model.pkl': 'w1' }, { run_id: 'run1', tags: { approval_status: 'approved' } });
    fake.addRun('run1', { user: 'alice@corp.example', metrics: { adv_robust_acc: 0.8 } });
    await auditor.runOnce();
    clock.now += 20_000;
    setTag('1', 'mltrail.sha256', `sha256:${'0'.repeat(64)}`);
    await deliver('model_version_tag', 'set', { name: 'fraud', version: '1', key: 'mltrail.sha256', value: `sha256:${'0'.repeat(64)}` });
    clock.now += 40_000;
    await auditor.runOnce();
    const modified = alertsOf(events()).filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(modified.map((a) => [a.entity.id, a.details.tags])).toEqual([['fraud/1', ['mltrail.sha256']]]);
  });
});

describe('registry.modification_rate counts a change reported by both halves once', () => {
  const cfg = MlflowConfig.parse({});
  let delivery = 0;
  /** The webhook's event of a tag set at `ms`. */
  const webhook = (key: string, ms: number, value = 'x'): NormalizedEvent =>
    normalizeMlflow({ entity: 'model_version_tag', action: 'set', timestamp: iso(ms), data: { name: 'fraud', version: '1', key, value } }, { channel: 'mlflow.webhook', receivedTime: iso(ms), keepRaw: false, config: cfg, meta: { delivery_id: `d-${++delivery}` } }).events[0]!;
  /** The auditor's event of the same tag, seen by a poll at `ms`. */
  const audited = (key: string, ms: number, value = 'x'): NormalizedEvent => {
    const snap: VersionSnap = { name: 'fraud', version: '1', creation_timestamp: T0 - 86_400_000, description: '', tags: {}, aliases: [] };
    const differ = registryDiffer({ approval: cfg.approval, ownDigestTag: () => undefined, receivedTime: iso(ms) });
    const k = versionKey('fraud', '1');
    const out = differ.diffVersions(new Map([[k, snap]]), new Map([[k, { ...snap, tags: { [key]: value } }]]), new Set(), ms);
    expect(out).toHaveLength(1);
    return out[0]!;
  };
  const HOUR = 3_600_000;
  const stat = { rules: RulesConfig.parse({ 'registry.modification_rate': { learning: '0s', n: 1, min_samples: 3, seasonality: 'none' } }) };

  it('six quiet hours of one change each, then an hour of four: two reported by both, one by each half alone', () => {
    const evs: NormalizedEvent[] = [];
    let n = 0;
    const both = (ms: number) => {
      const key = `k${++n}`;
      evs.push(webhook(key, ms), audited(key, ms + 45_000));
    };
    for (let h = 0; h < 6; h++) both(T0 + h * HOUR + 600_000);
    const burst = T0 + 6 * HOUR;
    both(burst + 60_000);
    both(burst + 120_000);
    evs.push(webhook(`k${++n}`, burst + 180_000)); // the auditor missed it (set and removed between polls)
    evs.push(audited(`k${++n}`, burst + 240_000)); // the webhook missed it
    evs.push(webhook(`k${++n}`, T0 + 9 * HOUR)); // later: closes the burst's window
    const rate = replayEvents(evs, stat).alerts.filter((a) => a.rule_id === 'registry.modification_rate');
    expect(rate.map((a) => [a.details.value, a.details.baseline_median, a.details.window_start])).toEqual([[4, 1, iso(burst)]]);
  });

  it('an approval reported by both halves dates from the first report: the auditor\'s poll does not move it', () => {
    const approve = webhook('approved', T0, 'true');
    const echo = audited('approved', T0 + 50_000, 'true');
    expect([approve.action, echo.action]).toEqual(['model_version.approve', 'model_version.approve']);
    const owner = webhook('owner', T0 + 600_000, 'mallory');
    const modified = replayEvents([approve, echo, owner], rules).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(modified.map((a) => [a.evidence, a.details.approved_at])).toEqual([[[approve.id, owner.id], iso(T0)]]);
  });
});
