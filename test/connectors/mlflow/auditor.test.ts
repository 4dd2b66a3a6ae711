import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { createMlflowConnector } from '../../../connectors/mlflow/index.js';
import type { ConnectorDeps } from '../../../core/connector.js';
import { Ingestor } from '../../../core/ingest.js';
import { rootDigest } from '../../../core/integrity/manifest.js';
import { createLogger, silentLogger } from '../../../core/log.js';
import { safeUri } from '../../../connectors/mlflow/uri.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { Spool } from '../../../core/spool/index.js';
import { FakeMlflow } from './fake-mlflow.js';

const T0 = 1755680000000;
let fake: FakeMlflow;
let dir: string;
let spool: Spool | undefined;
const clock = { now: T0 + 3_600_000 };

beforeEach(async () => {
  fake = new FakeMlflow();
  fake.credentials = { username: 'auditor', password: 's3cret' };
  await fake.start();
  dir = mkdtempSync(join(tmpdir(), 'mltrail-mlflow-'));
  clock.now = T0 + 3_600_000;
});
afterEach(async () => {
  spool?.close();
  spool = undefined;
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Auditor = { runOnce(): Promise<boolean>; stop(): Promise<void>; start(): void; health?(): { state: string; reason?: string } };

/** A fresh auditor over the spool in `dir` (reopened: a restart keeps only what was persisted). */
function auditor(poll: Record<string, unknown> = {}, top: Record<string, unknown> = {}, logger = silentLogger()): Auditor {
  spool?.close();
  spool = Spool.open({ dir });
  const config = MlflowConfig.parse({
    ...top,
    poll: { tracking_uri: fake.url, username: 'auditor', password: 's3cret', page_size: 2, max_attempts: 3, retry_initial_ms: 5, retry_max_ms: 10, request_timeout_ms: 3000, ...poll },
  });
  const deps: ConnectorDeps<MlflowConfig> = { config, ingest: new Ingestor(spool, logger), spool, logger, server: { host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20 }, dataDir: dir, keepRaw: true, env: {} };
  const pollers = createMlflowConnector({ now: () => clock.now }).pollers!(deps);
  expect(pollers).toHaveLength(1);
  return pollers[0] as unknown as Auditor;
}

let cursor = 0;
/** Events committed since the last call. */
function newEvents(): NormalizedEvent[] {
  const recs = spool!.read('test', 100_000, cursor);
  if (recs.length) cursor = recs.at(-1)!.seq;
  return recs.map((r) => {
    const ev = JSON.parse(r.body);
    expect(NormalizedEvent.safeParse(ev).success).toBe(true);
    return ev as NormalizedEvent;
  });
}
beforeEach(() => {
  cursor = 0;
});

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

function seed(): void {
  fake.addModel('fraud', T0, { description: 'fraud scorer', tags: { team: 'risk' } });
  fake.addModel('churn', T0 + 1);
  fake.addModel('support-prompt', T0 + 2, { tags: { 'mlflow.prompt.is_prompt': 'true' } });
  fake.addVersion('fraud', '1', T0 + 10, { MLmodel: 'flavors: {}', 'model.pkl': 'weights-v1', 'data/vocab.txt': 'a\nb' });
  fake.addVersion('fraud', '2', T0 + 20, { MLmodel: 'flavors: {}', 'model.pkl': 'weights-v2' });
  fake.addVersion('churn', '1', T0 + 30, { MLmodel: 'x', 'model.pkl': 'churn' }, { user_id: 'bob@example.com' });
  fake.addVersion('support-prompt', '1', T0 + 40, {}, { source: 'dummy-source', run_id: undefined, tags: { 'mlflow.prompt.is_prompt': 'true', 'mlflow.prompt.text': 'Hi {{name}}' } });
  fake.addRun('runfraud1', { user: 'alice', commit: 'abc123', params: { lr: '0.1' }, metrics: { auc: 0.91, adv_robust_acc: 0.7 }, datasets: [
    { name: 'tx', digest: 'd1', source: '{"uri": "s3://data/tx.parquet"}' }, // as MLflow stores it: the source's to_json()
    { name: 'labels', digest: 'd2', source: '{"url": "https://data.example.com/labels.csv"}', source_type: 'http' },
    { name: 'snippet', digest: 'd3', source: '{"tags": {"mlflow.user": "alice"}}', source_type: 'code' },
  ] });
  fake.addRun('runfraud2', { user: 'alice', commit: 'def456', metrics: { auc: 0.93 } });
  fake.addRun('runchurn1', { user: 'bob' });
}

describe('registry auditor: first run (baseline)', () => {
  it('pages through the registry with Basic auth, emits no diffs, registers provenance and hashes', async () => {
    seed();
    const a = auditor();
    expect(await a.runOnce()).toBe(true);
    // MLflow 3 lists prompts only when asked: one search for the models, one for the prompts.
    const searches = fake.requests.filter((r) => r.path.endsWith('/registered-models/search'));
    expect(searches.map((r) => r.query.get('filter'))).toEqual([null, "tag.`mlflow.prompt.is_prompt` = 'true'"]); // 2 models, page size 2; 1 prompt
    const versionSearches = fake.requests.filter((r) => r.path.endsWith('/model-versions/search') && !r.query.has('filter'));
    expect(versionSearches.length).toBe(2); // 3 versions, page size 2
    expect(versionSearches[1]!.query.get('page_token')).toBeTruthy();
    expect(fake.requests.filter((r) => r.path.endsWith('/model-versions/search') && r.query.has('filter')).length).toBe(1);
    expect(fake.requests.every((r) => r.auth === `Basic ${Buffer.from('auditor:s3cret').toString('base64')}`)).toBe(true);

    const evs = newEvents();
    expect(evs.filter((e) => e.stage === 'registry' && e.action !== 'model_version.hash_registered')).toEqual([]);
    const hashes = evs.filter((e) => e.action === 'model_version.hash_registered');
    expect(hashes.map((e) => `${e.resource?.name}/${e.resource?.version}`).sort()).toEqual(['churn/1', 'fraud/1', 'fraud/2']);
    const f1 = hashes.find((e) => e.resource?.name === 'fraud' && e.resource.version === '1')!;
    const expectedRoot = rootDigest([
      { path: 'MLmodel', sha256: sha('flavors: {}') }, { path: 'data/vocab.txt', sha256: sha('a\nb') }, { path: 'model.pkl', sha256: sha('weights-v1') },
    ]);
    expect(f1.ml?.model?.sha256).toBe(expectedRoot);
    expect(f1.details?.files).toBe(3);

    const prov = evs.find((e) => e.action === 'run.provenance' && e.ml?.model?.version === '1' && e.ml.model.name === 'fraud')!;
    expect(prov.stage).toBe('training');
    expect(prov.actor).toMatchObject({ id: 'alice', type: 'user' });
    expect(prov.ml?.code).toMatchObject({ commit: 'abc123', source: 'train.py' });
    expect(prov.ml?.job?.params).toEqual({ lr: '0.1' });
    expect(prov.ml?.provenance).toMatchObject({ run_id: 'runfraud1', inputs: ['s3://data/tx.parquet', 'https://data.example.com/labels.csv', 'snippet@d3'], outputs: ['models:/fraud/1'] });
    expect(prov.ml?.data?.inputs).toEqual(['s3://data/tx.parquet', 'https://data.example.com/labels.csv', 'snippet@d3']);
    const evals = evs.filter((e) => e.action === 'evaluation.metrics');
    expect(evals.find((e) => e.ml?.model?.version === '1' && e.ml.model.name === 'fraud')?.ml?.metrics).toEqual({ auc: 0.91, adv_robust_acc: 0.7 });
    expect(evals.every((e) => e.stage === 'evaluation')).toBe(true);
    // The prompt version has no artifacts nor run to audit.
    expect(evs.some((e) => e.resource?.name === 'support-prompt')).toBe(false);
  });
});

describe('registry auditor: auth modes', () => {
  it('sends MLFLOW_TRACKING_TOKEN as a Bearer token when no username is set', async () => {
    fake.credentials = undefined;
    seed();
    const a = auditor({ username: undefined, password: undefined, token: 'tok-123' });
    expect(await a.runOnce()).toBe(true);
    expect(fake.requests.length).toBeGreaterThan(0);
    expect(fake.requests.every((r) => r.auth === 'Bearer tok-123')).toBe(true);
  });

  it('an out-of-range page size is an honest error from MLflow, reported as the source failing', async () => {
    seed();
    const a = auditor({ page_size: 1000 });
    // The fake enforces MLflow's limits; 1000 is accepted for registered models.
    expect(await a.runOnce()).toBe(true);
    fake.faults.push({ match: /registered-models\/search/, fault: { status: 400, body: '{"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid value 5000 for parameter max_results"}' } });
    expect(await a.runOnce()).toBe(false);
    const ev = newEvents().find((e) => e.action === 'source.unavailable')!;
    expect(ev.error).toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
    expect(ev.error?.message).toMatch(/HTTP 400 INVALID_PARAMETER_VALUE: Invalid value 5000/);
  });
});

describe('registry auditor: diffs', () => {
  it('emits one event per change, including what webhooks never report', async () => {
    seed();
    fake.models.get('fraud')!.aliases = { challenger: '2' };
    let a = auditor();
    await a.runOnce();
    newEvents();

    const t1 = T0 + 100_000;
    const fraud = fake.models.get('fraud')!;
    fraud.aliases = { champion: '2' }; // challenger removed, champion set: approval
    fraud.description = 'fraud scorer v2';
    fraud.last_updated_timestamp = t1;
    const v1 = fake.versions.find((v) => v.name === 'fraud' && v.version === '1')!;
    v1.current_stage = 'Archived';
    v1.last_updated_timestamp = t1;
    const v2 = fake.versions.find((v) => v.name === 'fraud' && v.version === '2')!;
    v2.current_stage = 'Production';
    v2.tags.approval_status = 'approved';
    v2.last_updated_timestamp = t1;
    fake.versions = fake.versions.filter((v) => !(v.name === 'churn'));
    fake.models.delete('churn');
    // rename support-prompt → support-prompt-v2 (same creation time)
    const sp = fake.models.get('support-prompt')!;
    fake.models.delete('support-prompt');
    fake.models.set('support-prompt-v2', { ...sp, name: 'support-prompt-v2' });
    for (const v of fake.versions) if (v.name === 'support-prompt') v.name = 'support-prompt-v2';
    fake.addVersion('fraud', '3', t1, { MLmodel: 'm3' }, { user_id: 'mallory@example.com' });
    fake.addRun('runfraud3', { user: 'mallory', metrics: { auc: 0.5 } });

    clock.now = T0 + 3_700_000;
    a = auditor(); // restart in between: diffing must use the persisted snapshot
    expect(await a.runOnce()).toBe(true);
    const evs = newEvents();
    const summary = evs.map((e) => `${e.action} ${e.resource?.name}${e.resource?.version ? `/${e.resource.version}` : ''}`).sort();
    expect(summary).toEqual([
      'evaluation.metrics fraud/3',
      'model_version.alias_delete fraud/2',
      'model_version.approve fraud/2', // alias champion
      'model_version.approve fraud/2', // stage Production
      'model_version.approve fraud/2', // tag approval_status=approved
      'model_version.create fraud/3',
      'model_version.delete churn/1',
      'model_version.hash_registered fraud/3',
      'model_version.stage_transition fraud/1',
      'prompt.update support-prompt-v2',
      'registered_model.delete churn',
      'registered_model.update fraud',
      'run.provenance name-runfraud3', // resource is the run
    ]);
    expect(evs.find((e) => e.action === 'run.provenance')!.ml?.model).toMatchObject({ name: 'fraud', version: '3' });
    const create = evs.find((e) => e.action === 'model_version.create')!;
    expect(create.actor).toMatchObject({ id: 'mallory@example.com', type: 'user' });
    expect(create.time).toBe(new Date(t1).toISOString());
    const stage = evs.find((e) => e.action === 'model_version.stage_transition')!;
    expect(stage.details).toMatchObject({ field: 'current_stage', old: 'None', new: 'Archived' });
    expect(stage.actor).toBeUndefined(); // MLflow does not say who transitioned
    const rename = evs.find((e) => e.action === 'prompt.update')!;
    expect(rename.details).toMatchObject({ old_name: 'support-prompt', new_name: 'support-prompt-v2' });
    expect(rename.resource?.type).toBe('prompt');
    const desc = evs.find((e) => e.action === 'registered_model.update')!;
    expect(desc.details).toMatchObject({ field: 'description', old: 'fraud scorer', new: 'fraud scorer v2' });
    expect(evs.every((e) => e.channel === 'mlflow.audit' && e.platform === 'mlflow')).toBe(true);

    // Nothing changed: a restart and another poll emit nothing.
    clock.now += 60_000;
    a = auditor();
    await a.runOnce();
    expect(newEvents()).toEqual([]);
  });

  it('a crash after commit but before the snapshot re-emits with the same ids (duplicates collapse)', async () => {
    seed();
    let a = auditor();
    await a.runOnce();
    newEvents();
    const before = spool!.state.list<{ name: string }>('mlflow.registry', 'version:').find((e) => e.value.name === 'churn')!;
    fake.versions.find((v) => v.name === 'churn')!.current_stage = 'Staging';
    a = auditor();
    await a.runOnce();
    const first = newEvents();
    expect(first.map((e) => e.action)).toEqual(['model_version.stage_transition']);
    // Simulate the lost snapshot write (one transaction, all or nothing) by restoring the previous snapshot.
    spool!.state.set('mlflow.registry', before.key, before.value);
    a = auditor();
    await a.runOnce();
    expect(newEvents()).toEqual([]); // same id → duplicate, not a second event
  });
});

/** Where fraud v1's model file sits in the fake artifact store. */
const fraud1ModelPath = () => [...fake.artifacts.keys()].find((k) => k.startsWith('1/runfraud1/') && k.endsWith('model.pkl'))!;
/** The hash_registered event of a version (`name/version`) among `evs`. */
const hashRegistered = (evs: NormalizedEvent[], id: string) => evs.find((e) => e.action === 'model_version.hash_registered' && e.resource?.id === id)!;

describe('registry auditor: artifact integrity', () => {
  it('re-verifies approved versions on schedule and reports a tampered artifact with both digests and the files', async () => {
    seed();
    fake.models.get('fraud')!.aliases = { champion: '1' };
    const a = auditor({ verify_interval_s: 600 });
    await a.runOnce();
    const registered = newEvents().find((e) => e.action === 'model_version.hash_registered' && e.resource?.name === 'fraud' && e.resource.version === '1')!;
    const path = fraud1ModelPath();
    fake.artifacts.set(path, Buffer.from('weights-v1-backdoored'));
    fake.artifacts.set(path.replace('model.pkl', 'extra.py'), Buffer.from('import os'));

    clock.now += 300_000; // not due yet
    await a.runOnce();
    expect(newEvents()).toEqual([]);
    const before = fake.requests.filter((r) => r.path.includes('/mlflow-artifacts/artifacts/1/runfraud2')).length;

    clock.now += 301_000;
    await a.runOnce();
    const evs = newEvents();
    expect(evs).toHaveLength(1);
    const mm = evs[0]!;
    expect(mm.action).toBe('model_version.hash_mismatch');
    expect(mm.outcome).toBe('failure');
    expect(mm.details?.expected_sha256).toBe(registered.ml?.model?.sha256);
    expect(mm.details?.observed_sha256).not.toBe(registered.ml?.model?.sha256);
    expect(mm.details?.files).toEqual([
      { path: 'extra.py', expected_sha256: null, observed_sha256: sha('import os') },
      { path: 'model.pkl', expected_sha256: sha('weights-v1'), observed_sha256: sha('weights-v1-backdoored') },
    ]);
    // Only approved versions are re-hashed (fraud/2 is not approved).
    expect(fake.requests.filter((r) => r.path.includes('/mlflow-artifacts/artifacts/1/runfraud2')).length).toBe(before);
  });

  it('an approved version whose artifacts can no longer be read is a finding of its own, once, without flapping the source', async () => {
    seed();
    fake.models.get('fraud')!.aliases = { champion: '1' };
    const a = auditor({ verify_interval_s: 600 });
    await a.runOnce();
    newEvents();
    // Someone takes read access to the approved version's files away (403 on every download).
    for (let i = 0; i < 50; i++) fake.faults.push({ match: /\/artifacts\/1\/runfraud1\//, fault: { status: 403, body: 'forbidden', contentType: 'text/plain' } });
    clock.now += 601_000;
    expect(await a.runOnce()).toBe(true);
    const evs = newEvents();
    expect(evs.map((e) => [e.action, e.outcome, e.resource?.name, e.resource?.version])).toEqual([['model_version.hash_verified', 'failure', 'fraud', '1']]);
    expect(evs[0]!.error?.message).toMatch(/cannot be read to verify them/);
    expect(a.health!()).toMatchObject({ state: 'degraded', reason: expect.stringContaining('fraud/1') });
    // The next pass finds the same: no new event, no source.unavailable / recovered pair.
    clock.now += 601_000;
    expect(await a.runOnce()).toBe(true);
    expect(newEvents()).toEqual([]);
    // Readable again and unchanged: healthy.
    fake.faults.length = 0;
    clock.now += 601_000;
    expect(await a.runOnce()).toBe(true);
    expect(newEvents()).toEqual([]);
    expect(a.health!().state).toBe('healthy');
  });

  it('MLflow going down while approved versions are re-verified is one source.unavailable, not a verify failure per version', async () => {
    seed();
    fake.models.get('fraud')!.aliases = { champion: '1' };
    const a = auditor({ verify_interval_s: 600, max_attempts: 1 });
    await a.runOnce();
    newEvents();
    clock.now += 601_000;
    fake.onRequest = (path) => {
      if (path.includes('/artifacts/')) fake.down = true; // the snapshot read fine; the download finds MLflow gone
    };
    expect(await a.runOnce()).toBe(false);
    expect(newEvents().map((e) => e.action)).toEqual(['source.unavailable']);
    fake.onRequest = undefined;
    fake.down = false;
    expect(await a.runOnce()).toBe(true);
    expect(newEvents().map((e) => [e.action, e.outcome])).toEqual([['source.recovered', 'success']]);
    expect(a.health!().state).toBe('healthy');
  });

  it('an approved version missing from the listing whose deletion cannot be confirmed is kept but not re-verified (no false finding)', async () => {
    seed();
    fake.models.get('fraud')!.aliases = { champion: '1' };
    const a = auditor({ verify_interval_s: 600 });
    await a.runOnce();
    newEvents();
    // fraud/1 and its files are deleted; MLflow then fails to confirm it (503 on every attempt).
    fake.deleteVersion('fraud', '1');
    for (const k of [...fake.artifacts.keys()]) if (k.startsWith('1/runfraud1/')) fake.artifacts.delete(k);
    for (let i = 0; i < 3; i++) fake.faults.push({ match: /\/model-versions\/get$/, fault: { status: 503 } });
    clock.now += 601_000;
    expect(await a.runOnce()).toBe(true);
    const evs = newEvents();
    expect(evs.filter((e) => e.action.startsWith('model_version.hash_'))).toEqual([]);
    expect(a.health!()).toMatchObject({ state: 'degraded', reason: expect.stringContaining('fraud/1') });
  });

  it('streams a multi-megabyte artifact and writes the digest back as a tag without reporting it as a change', async () => {
    const big = Buffer.alloc(12 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    fake.addModel('llm', T0);
    fake.addVersion('llm', '1', T0, { 'weights.bin': big, MLmodel: 'x' });
    const a = auditor({ digest_tag: 'mltrail.sha256', download_concurrency: 2 });
    await a.runOnce();
    const h = newEvents().find((e) => e.action === 'model_version.hash_registered')!;
    expect(h.details?.bytes).toBe(big.length + 1);
    expect((h.details?.manifest as Array<{ path: string; sha256: string }>).find((f) => f.path === 'weights.bin')!.sha256).toBe(sha(big));
    const setTag = fake.requests.find((r) => r.path.endsWith('/model-versions/set-tag'))!;
    expect(setTag.body).toEqual({ name: 'llm', version: '1', key: 'mltrail.sha256', value: `sha256:${h.ml?.model?.sha256}` });
    expect(fake.versions[0]!.tags['mltrail.sha256']).toBe(`sha256:${h.ml?.model?.sha256}`);
    await a.runOnce();
    expect(newEvents()).toEqual([]);
    // Someone else rewriting the digest tag (to hide a swap) is reported.
    fake.versions[0]!.tags['mltrail.sha256'] = 'sha256:0000';
    await a.runOnce();
    const forged = newEvents();
    expect(forged.map((e) => e.action)).toEqual(['model_version.tag_set']);
    expect(forged[0]!.details?.tag).toMatchObject({ key: 'mltrail.sha256', value: 'sha256:0000' });
  });

  it('a version whose artifacts the server does not serve is reported, not crashed on', async () => {
    fake.addModel('ext', T0);
    fake.addVersion('ext', '1', T0, {}, { source: 's3://bucket/models/ext', run_id: undefined });
    const a = auditor();
    expect(await a.runOnce()).toBe(true);
    const ev = newEvents().find((e) => e.action === 'model_version.hash_registered')!;
    expect(ev.outcome).toBe('failure');
    expect(ev.error?.message).toMatch(/--serve-artifacts/);
  });

  it('a missing run is reported as failed provenance', async () => {
    fake.addModel('orphan', T0);
    fake.addVersion('orphan', '1', T0, { MLmodel: 'x' }, { run_id: 'gone' , source: 'runs:/gone/model' });
    const a = auditor();
    await a.runOnce();
    const p = newEvents().find((e) => e.action === 'run.provenance')!;
    expect(p.outcome).toBe('failure');
    expect(p.error?.code).toBe('RESOURCE_DOES_NOT_EXIST');
  });
});

describe('registry auditor: MLflow down', () => {
  it('500s are retried, then one source.unavailable event; recovery emits source.recovered', async () => {
    seed();
    const a = auditor();
    for (let i = 0; i < 12; i++) fake.faults.push({ match: /registered-models\/search/, fault: { status: 500 } }); // models' and prompts' searches
    expect(await a.runOnce()).toBe(false);
    expect(fake.requests.filter((r) => r.path.endsWith('registered-models/search') && !r.query.has('filter')).length).toBe(3); // max_attempts
    let evs = newEvents();
    expect(evs.map((e) => e.action)).toEqual(['source.unavailable']);
    expect(evs[0]!.error?.message).toMatch(/HTTP 500 INTERNAL_ERROR: simulated failure/);
    expect(a.health!().state).toBe('unhealthy');
    clock.now += 60_000; // a poll interval later (a later event time would be a new id: no dedup to hide a repeat)
    expect(await a.runOnce()).toBe(false); // still down: no second event
    expect(newEvents()).toEqual([]);
    expect(await a.runOnce()).toBe(true);
    evs = newEvents();
    expect(evs.map((e) => e.action)).toContain('source.recovered');
    expect(a.health!().state).toBe('healthy');
  });

  it('a transient 503 with Retry-After is absorbed by the retry', async () => {
    seed();
    fake.faults.push({ match: /model-versions\/search/, fault: { status: 503, retryAfter: '0', body: '{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"}' } });
    const a = auditor();
    expect(await a.runOnce()).toBe(true);
    expect(newEvents().some((e) => e.action.startsWith('source.'))).toBe(false);
  });

  it('429 (rate limited) and 408 are retried like a 503, not a source failure', async () => {
    seed();
    fake.faults.push(
      { match: /registered-models\/search/, fault: { status: 429, retryAfter: '0', body: '{"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "rate limited"}' } },
      { match: /model-versions\/search/, fault: { status: 408, body: 'request timeout', contentType: 'text/plain' } },
    );
    const a = auditor();
    expect(await a.runOnce()).toBe(true);
    expect(fake.faults).toEqual([]);
    expect(newEvents().some((e) => e.action.startsWith('source.'))).toBe(false);
    expect(a.health!().state).toBe('healthy');
  });

  it('a hanging server times out, then source.unavailable', async () => {
    seed();
    for (let i = 0; i < 6; i++) fake.faults.push({ match: /registered-models\/search/, fault: { hang: true } }); // models' and prompts' searches
    const a = auditor({ request_timeout_ms: 150 });
    expect(await a.runOnce()).toBe(false);
    expect(newEvents().map((e) => e.action)).toEqual(['source.unavailable']);
  });

  it('wrong credentials → source.auth_failure at once (no retries), never a crash', async () => {
    seed();
    fake.credentials = { username: 'auditor', password: 'rotated' };
    const a = auditor();
    expect(await a.runOnce()).toBe(false);
    const evs = newEvents();
    expect(evs.map((e) => e.action)).toEqual(['source.auth_failure']);
    expect(evs[0]!.details?.http_status).toBe(401);
    expect(fake.requests.filter((r) => r.path.endsWith('registered-models/search') && !r.query.has('filter')).length).toBe(1);
    expect(JSON.stringify(evs)).not.toContain('s3cret');
  });

  it('one version\'s artifacts failing keep it pending (source degraded, not unavailable) and it is finished later', async () => {
    seed();
    for (let i = 0; i < 20; i++) fake.faults.push({ match: /mlflow-artifacts\/artifacts\/1\/runchurn1/, fault: { status: 502, body: 'Bad Gateway', contentType: 'text/html' } });
    const a = auditor();
    expect(await a.runOnce()).toBe(true);
    const first = newEvents();
    expect(first.some((e) => e.action.startsWith('source.'))).toBe(false);
    expect(first.some((e) => e.action === 'model_version.hash_registered' && e.resource?.name === 'churn')).toBe(false);
    expect(first.some((e) => e.action === 'model_version.hash_registered' && e.resource?.name === 'fraud')).toBe(true); // the others are not held back
    expect(a.health!()).toMatchObject({ state: 'degraded', reason: expect.stringContaining('churn/1') });
    expect(spool!.state.get('mlflow.registry', 'pending:["churn","1"]')).toMatchObject({ attempts: 1, last_error: expect.stringContaining('HTTP 502') });
    await new Promise((r) => setTimeout(r, 50)); // let in-flight sibling downloads settle
    fake.faults = [];
    expect(await a.runOnce()).toBe(true);
    const evs = newEvents();
    expect(evs.some((e) => e.action === 'model_version.hash_registered' && e.resource?.name === 'churn')).toBe(true);
    expect(evs.some((e) => e.action.startsWith('source.'))).toBe(false);
    expect(a.health!().state).toBe('healthy');
  });

  it('MLflow going down while a new version is hashed is one source.unavailable, and the version is not charged for it', async () => {
    seed();
    const a = auditor({ max_attempts: 1 });
    fake.onRequest = (path) => {
      if (path.endsWith('/runs/get')) fake.down = true; // after the snapshot read fine
    };
    expect(await a.runOnce()).toBe(false);
    expect(newEvents().map((e) => e.action)).toEqual(['source.unavailable']);
    expect(a.health!().state).toBe('unhealthy');
    for (const { value } of spool!.state.list<{ attempts?: number }>('mlflow.registry', 'pending:')) expect(value.attempts).toBeUndefined();
    fake.onRequest = undefined;
    fake.down = false;
    expect(await a.runOnce()).toBe(true);
    const evs = newEvents();
    expect(evs.filter((e) => e.action === 'model_version.hash_registered' && e.outcome === 'success')).toHaveLength(3);
    expect(evs.filter((e) => e.action.startsWith('source.')).map((e) => e.action)).toEqual(['source.recovered']);
  });

  it('one version whose artifacts always fail is given up after 5 cycles, not forever', async () => {
    seed();
    fake.faults = Array.from({ length: 1000 }, () => ({ match: /mlflow-artifacts\/artifacts\/1\/runchurn1\//, fault: { status: 500 } as const }));
    const a = auditor({ max_attempts: 1 });
    for (let i = 0; i < 4; i++) {
      expect(await a.runOnce()).toBe(true);
      expect(a.health!().state).toBe('degraded');
    }
    expect(await a.runOnce()).toBe(true);
    expect(a.health!().state).toBe('healthy');
    const evs = newEvents();
    expect(evs.filter((e) => e.action.startsWith('source.'))).toEqual([]); // the registry read fine throughout: no flapping
    const failed = evs.find((e) => e.action === 'model_version.hash_registered' && e.resource?.name === 'churn')!;
    expect(failed.outcome).toBe('failure');
    expect(failed.details?.cycles).toBe(5);
  });

  it('start/stop runs the loop and stops cleanly mid-request', async () => {
    seed();
    fake.faults.push({ match: /registered-models\/search/, fault: { hang: true } });
    const a = auditor({ request_timeout_ms: 10_000 });
    a.start();
    await new Promise((r) => setTimeout(r, 100));
    const t = Date.now();
    await a.stop();
    expect(Date.now() - t).toBeLessThan(2000);
  });
});

describe('registry auditor: repeated changes MLflow does not timestamp', () => {
  it('every alias move and tag change is an event, dated when seen, even when it repeats an earlier one', async () => {
    seed();
    const fraud = fake.models.get('fraud')!;
    fraud.aliases = { champion: '1' };
    let a = auditor();
    await a.runOnce();
    newEvents();
    const v1 = fake.versions.find((v) => v.name === 'fraud' && v.version === '1')!;

    // set_registered_model_alias / set_model_version_tag / set_registered_model_tag leave last_updated_timestamp alone.
    const polls: Array<{ at: number; evs: NormalizedEvent[] }> = [];
    const moves: Array<() => void> = [
      () => { fraud.aliases.champion = '2'; v1.tags.approval_status = 'approved'; fraud.tags.team = 'fraud'; },
      () => { fraud.aliases.champion = '1'; delete v1.tags.approval_status; fraud.tags.team = 'risk'; },
      () => { fraud.aliases.champion = '2'; v1.tags.approval_status = 'approved'; fraud.tags.team = 'fraud'; },
    ];
    let beforeLast: Array<{ key: string; value: unknown }> = [];
    for (const [i, move] of moves.entries()) {
      if (i === moves.length - 1) beforeLast = spool!.state.list('mlflow.registry', '');
      move();
      clock.now += 60_000;
      a = auditor();
      await a.runOnce();
      polls.push({ at: clock.now, evs: newEvents() });
    }
    for (const { at, evs } of polls) {
      expect(evs.map((e) => `${e.action} ${e.details?.alias ?? (e.details?.tag as { key: string } | undefined)?.key}`).sort()).toHaveLength(3);
      for (const e of evs) expect(e.time).toBe(new Date(at).toISOString()); // not the stale last_updated_timestamp
    }
    const all = polls.flatMap((p) => p.evs);
    expect(all.filter((e) => e.details?.alias === 'champion').map((e) => `${e.details?.old_version}->${e.details?.new_version}`)).toEqual(['1->2', '2->1', '1->2']);
    expect(all.filter((e) => e.details?.alias === 'champion').map((e) => e.action)).toEqual(['model_version.approve', 'model_version.approve', 'model_version.approve']); // champion on 2, back on 1, on 2 again
    expect(all.filter((e) => (e.details?.tag as { key?: string } | undefined)?.key === 'approval_status').map((e) => e.action))
      .toEqual(['model_version.approve', 'model_version.tag_delete', 'model_version.approve']);
    expect(all.filter((e) => e.action === 'registered_model.tag_set')).toHaveLength(3);
    expect(new Set(all.map((e) => e.id)).size).toBe(9);

    // A crash before the last snapshot was persisted: the re-diff of the same snapshot gives the same ids.
    for (const { key } of spool!.state.list('mlflow.registry', '')) spool!.state.delete('mlflow.registry', key);
    for (const { key, value } of beforeLast) spool!.state.set('mlflow.registry', key, value);
    clock.now += 60_000;
    a = auditor();
    await a.runOnce();
    expect(newEvents()).toEqual([]);
  });
});

describe('registry auditor: renames and re-used version numbers', () => {
  it('keeps re-verifying approved versions of a renamed model', async () => {
    seed();
    fake.models.get('fraud')!.aliases = { champion: '1' };
    let a = auditor({ verify_interval_s: 600 });
    await a.runOnce();
    const registered = hashRegistered(newEvents(), 'fraud/1');

    const m = fake.models.get('fraud')!;
    fake.models.delete('fraud');
    fake.models.set('fraud-renamed', { ...m, name: 'fraud-renamed', last_updated_timestamp: T0 + 500_000 });
    for (const v of fake.versions) if (v.name === 'fraud') v.name = 'fraud-renamed';
    clock.now += 60_000;
    a = auditor({ verify_interval_s: 600 });
    await a.runOnce();
    const renameEvs = newEvents();
    expect(renameEvs.map((e) => e.action)).toEqual(['registered_model.rename']); // versions carried, not re-registered

    const path = fraud1ModelPath();
    fake.artifacts.set(path, Buffer.from('weights-v1-swapped'));
    clock.now += 601_000;
    a = auditor({ verify_interval_s: 600 });
    await a.runOnce();
    const evs = newEvents();
    expect(evs.map((e) => `${e.action} ${e.resource?.id}`)).toEqual(['model_version.hash_mismatch fraud-renamed/1']);
    expect(evs[0]!.details?.expected_sha256).toBe(registered.ml?.model?.sha256);
  });

  it('a model renamed away and its name re-used in the same poll: rename, a new model, and the old hashes stay with the renamed one', async () => {
    seed();
    fake.models.get('fraud')!.aliases = { champion: '1' };
    let a = auditor({ verify_interval_s: 600 });
    await a.runOnce();
    const registered = hashRegistered(newEvents(), 'fraud/1');

    const m = fake.models.get('fraud')!;
    fake.models.set('fraud-old', { ...m, name: 'fraud-old', last_updated_timestamp: T0 + 500_000 });
    for (const v of fake.versions) if (v.name === 'fraud') v.name = 'fraud-old';
    fake.addModel('fraud', T0 + 600_000);
    fake.addVersion('fraud', '1', T0 + 600_001, { MLmodel: 'x', 'model.pkl': 'impostor' }, { run_id: 'runimpostor', user_id: 'mallory@example.com' });
    fake.addRun('runimpostor', { user: 'mallory' });
    clock.now += 60_000;
    a = auditor({ verify_interval_s: 600 });
    await a.runOnce();
    const evs = newEvents();
    expect(evs.map((e) => `${e.action} ${e.resource?.id}`).sort()).toEqual([
      'model_version.create fraud/1',
      'model_version.hash_registered fraud/1',
      'registered_model.create fraud',
      'registered_model.rename fraud-old',
      'run.provenance runimpostor',
    ]);
    expect(evs.find((e) => e.action === 'model_version.hash_registered')!.ml?.model?.sha256).not.toBe(registered.ml?.model?.sha256);

    const path = fraud1ModelPath();
    fake.artifacts.set(path, Buffer.from('weights-v1-swapped'));
    clock.now += 601_000;
    a = auditor({ verify_interval_s: 600 });
    await a.runOnce();
    const mm = newEvents();
    expect(mm.map((e) => `${e.action} ${e.resource?.id}`)).toEqual(['model_version.hash_mismatch fraud-old/1']);
    expect(mm[0]!.details?.expected_sha256).toBe(registered.ml?.model?.sha256);
  });

  it('a version number deleted and re-created between two polls is a delete and a new version (provenance, hash)', async () => {
    seed();
    let a = auditor({ verify_interval_s: 600 });
    await a.runOnce();
    const old = newEvents().find((e) => e.action === 'model_version.hash_registered' && e.resource?.id === 'fraud/2')!;

    fake.versions = fake.versions.filter((v) => !(v.name === 'fraud' && v.version === '2'));
    for (const [k] of fake.artifacts) if (k.startsWith('1/runfraud2/')) fake.artifacts.delete(k);
    const t = T0 + 900_000;
    fake.addVersion('fraud', '2', t, { MLmodel: 'flavors: {}', 'model.pkl': 'weights-other' }, { run_id: 'runfraud2b', user_id: 'mallory@example.com', description: 'replacement' });
    fake.addRun('runfraud2b', { user: 'mallory', metrics: { auc: 0.6 } });
    fake.models.get('fraud')!.aliases = { champion: '2' };
    clock.now += 60_000;
    a = auditor({ verify_interval_s: 600 });
    await a.runOnce();
    const evs = newEvents();
    expect(evs.map((e) => `${e.action} ${e.action === 'run.provenance' ? e.resource?.id : e.resource?.id}`).sort()).toEqual([
      'evaluation.metrics fraud/2',
      'model_version.approve fraud/2', // the champion alias on the new version
      'model_version.create fraud/2',
      'model_version.delete fraud/2',
      'model_version.hash_registered fraud/2',
      'run.provenance runfraud2b',
    ]);
    expect(evs.find((e) => e.action === 'model_version.delete')!.details?.last_seen).toMatchObject({ run_id: 'runfraud2', creation_timestamp: T0 + 20 });
    expect(evs.find((e) => e.action === 'model_version.create')!.actor).toMatchObject({ id: 'mallory@example.com' });
    const fresh = evs.find((e) => e.action === 'model_version.hash_registered')!;
    expect(fresh.ml?.model?.sha256).not.toBe(old.ml?.model?.sha256);
    expect(fresh.ml?.model?.run_id).toBe('runfraud2b');

    // The new version is verified against its own hash, not the deleted one's.
    clock.now += 601_000;
    a = auditor({ verify_interval_s: 600 });
    await a.runOnce();
    expect(newEvents()).toEqual([]);
  });
});

describe('registry auditor: unreadable runs', () => {
  it('a run the auditor may not read (403) is recorded as unavailable provenance and the artifacts are still hashed, once', async () => {
    seed();
    fake.forbiddenRuns.add('runchurn1');
    const a = auditor();
    expect(await a.runOnce()).toBe(true);
    const evs = newEvents();
    const prov = evs.find((e) => e.action === 'run.provenance' && e.ml?.model?.name === 'churn')!;
    expect(prov.outcome).toBe('failure');
    expect(prov.error?.code).toBe('HTTP_403');
    expect(prov.details).toMatchObject({ provenance: 'unavailable', http_status: 403 });
    expect(prov.details?.reason).toMatch(/READ/);
    expect(evs.find((e) => e.action === 'model_version.hash_registered' && e.resource?.id === 'churn/1')?.outcome).toBe('success');
    expect(evs.some((e) => e.action.startsWith('source.'))).toBe(false);
    expect(a.health!().state).toBe('healthy');
    // Next cycles: nothing more (no auth_failure/recovered flapping, no retries of that run).
    const gets = fake.requests.filter((r) => r.path.endsWith('/runs/get')).length;
    expect(await a.runOnce()).toBe(true);
    expect(newEvents()).toEqual([]);
    expect(fake.requests.filter((r) => r.path.endsWith('/runs/get')).length).toBe(gets);
  });

  it('a transient runs/get failure does not hold the hash back; only provenance is tried again', async () => {
    fake.addModel('churn', T0);
    fake.addVersion('churn', '1', T0 + 30, { MLmodel: 'x', 'model.pkl': 'churn' });
    fake.addRun('runchurn1', { user: 'bob', metrics: { auc: 0.8 } });
    for (let i = 0; i < 3; i++) fake.faults.push({ match: /\/runs\/get$/, fault: { status: 503 } });
    const a = auditor();
    expect(await a.runOnce()).toBe(true);
    expect(a.health!().state).toBe('degraded');
    let evs = newEvents();
    expect(evs.filter((e) => e.action === 'model_version.hash_registered').map((e) => e.outcome)).toEqual(['success']);
    expect(evs.some((e) => e.action === 'run.provenance')).toBe(false);
    const downloads = fake.requests.filter((r) => r.path.includes('/mlflow-artifacts/artifacts/1/')).length;
    expect(await a.runOnce()).toBe(true);
    evs = newEvents();
    expect(evs.map((e) => e.action).sort()).toEqual(['evaluation.metrics', 'run.provenance']);
    expect(evs.find((e) => e.action === 'run.provenance')!.outcome).toBe('success');
    expect(fake.requests.filter((r) => r.path.includes('/mlflow-artifacts/artifacts/1/')).length).toBe(downloads); // not re-hashed
  });
});

describe('registry auditor: one version failing does not flap the source', () => {
  it('a 401 on runs/get for one version only: no source.unavailable/recovered pairs, the version is given up after 5 cycles', async () => {
    seed();
    fake.unauthorizedRuns.add('runchurn1');
    const a = auditor();
    for (let i = 0; i < 5; i++) {
      expect(await a.runOnce()).toBe(true);
      clock.now += 60_000;
    }
    const evs = newEvents();
    expect(evs.filter((e) => e.action.startsWith('source.'))).toEqual([]);
    const prov = evs.filter((e) => e.action === 'run.provenance' && e.ml?.model?.name === 'churn');
    expect(prov.map((e) => e.outcome)).toEqual(['failure']);
    expect(evs.filter((e) => e.action === 'model_version.hash_registered' && e.resource?.name === 'churn').map((e) => e.outcome)).toEqual(['success']);
    expect(a.health!().state).toBe('healthy');
    expect(spool!.state.list('mlflow.registry', 'pending:')).toEqual([]);
  });
});

describe('registry auditor: large artifacts', () => {
  it('request_timeout_ms bounds the silence between chunks, not a download that keeps streaming', async () => {
    const big = Buffer.alloc(1024 * 1024, 7); // 16 chunks of 64 KiB
    fake.addModel('llm', T0);
    fake.addVersion('llm', '1', T0, { 'weights.bin': big });
    fake.chunkDelayMs = 40; // ~640 ms in all, each gap far below the timeout
    const a = auditor({ request_timeout_ms: 250, run_provenance: false });
    expect(await a.runOnce()).toBe(true);
    const evs = newEvents();
    expect(evs.map((e) => e.action)).toEqual(['model_version.hash_registered']);
    expect(evs[0]!.outcome).toBe('success');
    expect((evs[0]!.details?.manifest as Array<{ sha256: string }>)[0]!.sha256).toBe(sha(big));
    expect(fake.requests.filter((r) => r.path.endsWith('weights.bin'))).toHaveLength(1); // no retry either
  });

  it('a download that stops sending is cut off after request_timeout_ms of silence and retried', async () => {
    fake.addModel('llm', T0);
    const v = fake.addVersion('llm', '1', T0, { 'weights.bin': Buffer.alloc(256 * 1024, 1) });
    fake.stalled.add(`1/${v.run_id}/artifacts/model/weights.bin`);
    const a = auditor({ request_timeout_ms: 200, run_provenance: false });
    const t = Date.now();
    expect(await a.runOnce()).toBe(true);
    expect(Date.now() - t).toBeLessThan(5000);
    expect(fake.requests.filter((r) => r.path.endsWith('weights.bin'))).toHaveLength(3); // max_attempts
    expect(newEvents()).toEqual([]); // one stalled version is not the source failing
    expect(a.health!()).toMatchObject({ state: 'degraded', reason: expect.stringContaining('llm/1') });
    expect(spool!.state.get('mlflow.registry', 'pending:["llm","1"]')).toMatchObject({ attempts: 1, last_error: expect.stringMatching(/download interrupted: .*timeout/i) });
  });
});

describe('registry auditor: re-created models and versions', () => {
  it('an approval of a deleted and re-created model/version is a new event, not a duplicate of the old one', async () => {
    const files = { MLmodel: 'flavors: {}', 'model.pkl': 'same-weights' };
    fake.addModel('m9', T0);
    fake.addVersion('m9', '1', T0 + 1, files, { run_id: 'runm9' });
    fake.addRun('runm9', { user: 'alice' });
    let a = auditor();
    await a.runOnce();
    const first = newEvents();
    expect(first.map((e) => e.action).sort()).toEqual(['model_version.hash_registered', 'run.provenance']);

    const approve = () => {
      fake.models.get('m9')!.aliases = { champion: '1' };
      fake.versions.find((v) => v.name === 'm9' && v.version === '1')!.tags.approval_status = 'approved';
    };
    approve();
    clock.now += 60_000;
    a = auditor();
    await a.runOnce();
    const approvals1 = newEvents();
    expect(approvals1.map((e) => e.action)).toEqual(['model_version.approve', 'model_version.approve']);

    // Deleted and re-created (same name, same number, same run and files): another model and version.
    fake.models.delete('m9');
    fake.versions = fake.versions.filter((v) => v.name !== 'm9');
    fake.addModel('m9', T0 + 5_000);
    fake.addVersion('m9', '1', T0 + 5_001, files, { run_id: 'runm9' });
    clock.now += 60_000;
    a = auditor();
    await a.runOnce();
    const recreatedEvs = newEvents();
    expect(recreatedEvs.map((e) => e.action).sort()).toEqual([
      'model_version.create', 'model_version.delete', 'model_version.hash_registered',
      'registered_model.create', 'registered_model.delete', 'run.provenance',
    ]);
    expect(recreatedEvs.find((e) => e.action === 'model_version.hash_registered')!.id).not.toBe(first.find((e) => e.action === 'model_version.hash_registered')!.id);

    approve();
    clock.now += 60_000;
    a = auditor();
    await a.runOnce();
    const approvals2 = newEvents();
    expect(approvals2.map((e) => `${e.action} ${e.details?.alias ?? (e.details?.tag as { key: string } | undefined)?.key}`).sort())
      .toEqual(['model_version.approve approval_status', 'model_version.approve champion']);
    for (const e of approvals2) expect(approvals1.map((o) => o.id)).not.toContain(e.id);
  });
});

describe('registry auditor: names swapped between two polls', () => {
  /** Apply renames all at once (the poll sees only the end state), like rename via a temporary name. */
  function renameAll(moves: Array<[string, string]>): void {
    const taken = moves.map(([from, to]) => ({ to, m: fake.models.get(from)!, vs: fake.versions.filter((v) => v.name === from) }));
    for (const [from] of moves) fake.models.delete(from);
    for (const { to, m, vs } of taken) {
      fake.models.set(to, { ...m, name: to, last_updated_timestamp: T0 + 700_000 });
      for (const v of vs) v.name = to;
    }
  }

  it('a model deleted and another renamed onto its name: the deleted one\'s versions are reported deleted', async () => {
    fake.addModel('fraud', T0);
    fake.addModel('fraud-v2', T0 + 1);
    fake.addVersion('fraud', '1', T0 + 10, { MLmodel: 'x', 'model.pkl': 'weights-A' }, { run_id: 'runA' });
    fake.addVersion('fraud-v2', '1', T0 + 11, { MLmodel: 'x', 'model.pkl': 'weights-B' }, { run_id: 'runB' });
    fake.addRun('runA');
    fake.addRun('runB');
    let a = auditor();
    await a.runOnce();
    newEvents();
    fake.models.delete('fraud');
    fake.versions = fake.versions.filter((v) => v.name !== 'fraud');
    renameAll([['fraud-v2', 'fraud']]);
    clock.now += 60_000;
    a = auditor();
    await a.runOnce();
    const evs = newEvents();
    expect(evs.map((e) => `${e.action} ${e.resource?.id}`).sort()).toEqual(['model_version.delete fraud/1', 'registered_model.delete fraud', 'registered_model.rename fraud']);
    expect(evs.find((e) => e.action === 'model_version.delete')!.details?.last_seen).toMatchObject({ run_id: 'runA' });
  });

  for (const [title, moves] of [
    ['a swap (fraud ↔ fraud-v2)', [['fraud', 'fraud-v2'], ['fraud-v2', 'fraud']]],
    ['a chain (fraud-v2 → fraud-x, fraud → fraud-v2)', [['fraud-v2', 'fraud-x'], ['fraud', 'fraud-v2']]],
    ['a chain (fraud → fraud-old, fraud-v2 → fraud)', [['fraud', 'fraud-old'], ['fraud-v2', 'fraud']]],
  ] as Array<[string, Array<[string, string]>]>) {
    it(`${title}: two renames, no spurious create/delete, each hash stays with its own model`, async () => {
      fake.addModel('fraud', T0, { aliases: { champion: '1' } });
      fake.addModel('fraud-v2', T0 + 1, { aliases: { champion: '1' } });
      fake.addVersion('fraud', '1', T0 + 10, { MLmodel: 'x', 'model.pkl': 'weights-A' }, { run_id: 'runA' });
      fake.addVersion('fraud-v2', '1', T0 + 11, { MLmodel: 'x', 'model.pkl': 'weights-B' }, { run_id: 'runB' });
      fake.addRun('runA');
      fake.addRun('runB');
      let a = auditor({ verify_interval_s: 600 });
      await a.runOnce();
      const hashes = newEvents().filter((e) => e.action === 'model_version.hash_registered');
      const hashA = hashes.find((e) => e.ml?.model?.run_id === 'runA')!.ml?.model?.sha256;

      renameAll(moves);
      clock.now += 60_000;
      a = auditor({ verify_interval_s: 600 });
      await a.runOnce();
      expect(newEvents().map((e) => `${e.action} ${e.details?.old_name}->${e.details?.new_name}`).sort())
        .toEqual(moves.map(([from, to]) => `registered_model.rename ${from}->${to}`).sort());

      clock.now += 601_000;
      a = auditor({ verify_interval_s: 600 });
      await a.runOnce();
      expect(newEvents()).toEqual([]); // untouched files verify against their own registered hash

      const nameA = moves.find(([from]) => from === 'fraud')![1];
      fake.artifacts.set('1/runA/artifacts/model/model.pkl', Buffer.from('weights-A-swapped'));
      clock.now += 601_000;
      a = auditor({ verify_interval_s: 600 });
      await a.runOnce();
      const mm = newEvents();
      expect(mm.map((e) => `${e.action} ${e.resource?.id}`)).toEqual([`model_version.hash_mismatch ${nameA}/1`]);
      expect(mm[0]!.details?.expected_sha256).toBe(hashA);
    });
  }
});

describe('registry auditor: credentials in URLs', () => {
  it('a password in the tracking URI authenticates but never reaches logs or events', async () => {
    fake.credentials = { username: 'u', password: 'hunter2' };
    seed();
    fake.versions.find((v) => v.name === 'churn')!.source = 'https://store:s3kr1t@blob.example.com/models/churn?sv=2024&sig=s3kr1tsig';
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: { write: (s: string) => { lines.push(s); } } });
    const uri = fake.url.replace('http://', 'http://u:hunter2@') + '/';
    const a = auditor({ tracking_uri: uri, username: undefined, password: undefined }, {}, logger);
    expect(await a.runOnce()).toBe(true); // user-info used as Basic auth, like MLflow's own client
    fake.models.get('churn')!.aliases = { champion: '1' };
    fake.versions.find((v) => v.name === 'churn')!.source = 'https://store:s3kr1t@blob.example.com/models/churn2?sig=other';
    clock.now += 60_000;
    expect(await a.runOnce()).toBe(true);
    for (let i = 0; i < 6; i++) fake.faults.push({ match: /registered-models\/search/, fault: { status: 500 } });
    clock.now += 60_000;
    expect(await a.runOnce()).toBe(false);
    const evs = newEvents();
    const down = evs.find((e) => e.action === 'source.unavailable')!;
    expect(down.resource).toMatchObject({ id: fake.url, uri: fake.url });
    expect(evs.some((e) => e.resource?.uri === 'https://blob.example.com/models/churn?sv=2024&sig=REDACTED')).toBe(true);
    expect(lines.some((l) => l.includes('MLTRAIL_ERR_UPSTREAM'))).toBe(true);
    const all = JSON.stringify(evs) + lines.join('');
    for (const secret of ['hunter2', 's3kr1t']) expect(all).not.toContain(secret);
  });

  it('safeUri removes user-info and credential-like query values, keeps everything else as written', () => {
    expect(safeUri('http://u:hunter2@127.0.0.1:5000/')).toBe('http://127.0.0.1:5000/');
    expect(safeUri('s3://AKIA:secret@bucket/m/model.pkl')).toBe('s3://bucket/m/model.pkl');
    expect(safeUri('https://h/x?X-Amz-Signature=abc&X-Amz-Credential=c&X-Amz-Security-Token=t&a=1')).toBe('https://h/x?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&X-Amz-Security-Token=REDACTED&a=1');
    expect(safeUri('runs:/abc/model')).toBe('runs:/abc/model');
    expect(safeUri('models:/fraud/1')).toBe('models:/fraud/1');
    expect(safeUri('mlflow-artifacts:/1/r/artifacts/model')).toBe('mlflow-artifacts:/1/r/artifacts/model');
    expect(safeUri('not a url //user:pw@host/x')).toBe('not a url //host/x');
    expect(safeUri(undefined)).toBeUndefined();
  });
});

describe('registry auditor: items a paged listing misses are not deleted', () => {
  /** Versions listed churn/1, fraud/2, fraud/1 (fraud/1 the approved Production version), two per page. */
  function seedShift(): void {
    fake.addModel('churn', T0);
    fake.addModel('fraud', T0 + 1);
    fake.addVersion('churn', '1', T0 + 10, { MLmodel: 'c1' });
    fake.addVersion('fraud', '2', T0 + 20, { MLmodel: 'f2' });
    fake.addVersion('fraud', '1', T0 + 30, { MLmodel: 'f1' }, { current_stage: 'Production' });
  }
  /** Run `change` once, when the second page of `search` is asked for (after the first was read). */
  function betweenPages(search: string, change: () => void): void {
    let done = false;
    fake.onRequest = (path, q) => {
      if (done || !path.endsWith(search) || !q.has('page_token')) return;
      done = true;
      change();
    };
  }
  const registry = (evs: NormalizedEvent[]) =>
    evs.filter((e) => e.stage === 'registry' && !e.action.startsWith('model_version.hash')).map((e) => `${e.action} ${e.resource?.id}`).sort();
  const gets = (route: string) => fake.requests.filter((r) => r.path === `/api/2.0/mlflow/${route}/get`).map((r) => [...r.query.values()].join('/'));
  const poll = { run_provenance: false };

  it('a version deleted while the versions are paged: the one the next page skips is not deleted, the deleted one is, once', async () => {
    seedShift();
    let a = auditor(poll);
    expect(await a.runOnce()).toBe(true);
    newEvents();
    fake.requests = [];

    // Page 1 = churn/1, fraud/2; churn/1 is deleted; page 2 (offset 2) of [fraud/2, fraud/1] is empty.
    betweenPages('/model-versions/search', () => fake.deleteVersion('churn', '1'));
    expect(await a.runOnce()).toBe(true);
    const second = fake.requests.filter((r) => r.path.endsWith('/model-versions/search')).at(-1)!;
    expect(second.query.get('page_token')).toBeTruthy(); // the shifted page was really read
    expect(registry(newEvents())).toEqual([]); // churn/1 was listed (page 1): its delete is seen next poll
    expect(gets('model-versions')).toEqual(['fraud/1']); // only the missing one is asked about
    expect(gets('registered-models')).toEqual([]);
    // fraud/1 keeps its snapshot and registered hash: it is still re-verified.
    expect(spool!.state.get('mlflow.registry', 'version:["fraud","1"]')).toMatchObject({ current_stage: 'Production' });
    expect(spool!.state.get('mlflow.registry', 'hash:["fraud","1"]')).toBeTruthy();
    expect(a.health!().state).toBe('healthy');

    // Restart and poll again with a stable listing: the real delete, and no create for fraud/1.
    fake.onRequest = undefined;
    clock.now += 60_000;
    a = auditor(poll);
    expect(await a.runOnce()).toBe(true);
    expect(registry(newEvents())).toEqual(['model_version.delete churn/1']);
    expect(await a.runOnce()).toBe(true);
    expect(newEvents()).toEqual([]);
  });

  it('a model deleted while the models are paged: the model the next page skips is not deleted, the deleted one and its versions are, once', async () => {
    for (const [i, name] of ['a-model', 'b-model', 'c-model'].entries()) {
      fake.addModel(name, T0 + i);
      fake.addVersion(name, '1', T0 + 10 + i, { MLmodel: name });
    }
    let a = auditor(poll);
    expect(await a.runOnce()).toBe(true);
    newEvents();
    fake.requests = [];

    // Page 1 = a-model, b-model; a-model (and its version) is deleted; page 2 of [b-model, c-model] is empty.
    betweenPages('/registered-models/search', () => fake.deleteModel('a-model'));
    expect(await a.runOnce()).toBe(true);
    const evs = registry(newEvents());
    // a-model was listed; its version may have been (the versions are paged at the same time).
    expect(evs.filter((e) => !e.startsWith('model_version.delete a-model/'))).toEqual([]);
    expect(gets('registered-models')).toEqual(['c-model']);
    expect(spool!.state.get('mlflow.registry', 'model:c-model')).toMatchObject({ name: 'c-model' });
    expect(spool!.state.get('mlflow.registry', 'version:["c-model","1"]')).toBeTruthy();
    fake.requests = [];

    fake.onRequest = undefined;
    a = auditor(poll);
    expect(await a.runOnce()).toBe(true);
    expect([...evs, ...registry(newEvents())].sort()).toEqual(['model_version.delete a-model/1', 'registered_model.delete a-model']);
    // The versions of a model confirmed deleted are not asked about one by one.
    expect(gets('registered-models')).toEqual(['a-model']);
    expect(gets('model-versions')).toEqual([]);
    expect(await a.runOnce()).toBe(true);
    expect(newEvents()).toEqual([]);
  });

  it('a confirmation that fails (503 after retries) keeps the items, degraded; the real delete is reported on the next poll, once', async () => {
    seedShift();
    const a = auditor(poll);
    expect(await a.runOnce()).toBe(true);
    newEvents();
    fake.requests = [];

    const fail = () => { for (let i = 0; i < 3; i++) fake.faults.push({ match: /\/model-versions\/get$/, fault: { status: 503 } }); };
    // The skipped fraud/1 cannot be checked: kept, no delete.
    betweenPages('/model-versions/search', () => fake.deleteVersion('churn', '1'));
    fail();
    expect(await a.runOnce()).toBe(true);
    expect(registry(newEvents())).toEqual([]);
    expect(gets('model-versions')).toEqual(['fraud/1', 'fraud/1', 'fraud/1']);
    expect(a.health!()).toMatchObject({ state: 'degraded', reason: expect.stringContaining('fraud/1') });
    fake.onRequest = undefined;

    // Two real deletes (churn/1, fraud/2) that cannot be confirmed yet: kept; the server failing
    // stops the checks (churn/1 used its 3 attempts, fraud/2 was not asked).
    fake.deleteVersion('fraud', '2');
    fake.requests = [];
    fail();
    expect(await a.runOnce()).toBe(true);
    expect(registry(newEvents())).toEqual([]);
    expect(gets('model-versions')).toEqual(['churn/1', 'churn/1', 'churn/1']);
    expect(a.health!()).toMatchObject({ state: 'degraded', reason: expect.stringMatching(/churn\/1.*fraud\/2/) });
    expect(spool!.state.get('mlflow.registry', 'version:["churn","1"]')).toBeTruthy();

    // The server answers again: each real delete is reported, once.
    expect(await a.runOnce()).toBe(true);
    expect(registry(newEvents())).toEqual(['model_version.delete churn/1', 'model_version.delete fraud/2']);
    expect(a.health!().state).toBe('healthy');
    expect(await a.runOnce()).toBe(true);
    expect(newEvents()).toEqual([]);
  });

  it('a confirmation refused for one item (403) keeps only that one and still asks about the others', async () => {
    seedShift();
    const a = auditor(poll);
    expect(await a.runOnce()).toBe(true);
    newEvents();
    fake.requests = [];

    // Both versions of fraud vanish from the listing: fraud/2 is really deleted, fraud/1 is refused.
    fake.deleteVersion('fraud', '2');
    fake.faults.push({ match: /\/model-versions\/get$/, fault: { status: 403, body: 'Permission denied', contentType: 'text/plain' } });
    const listed = fake.versions;
    fake.versions = listed.filter((v) => v.name !== 'fraud');
    fake.onRequest = (path) => {
      if (path.endsWith('/model-versions/get')) fake.versions = listed; // get sees the truth, the listing did not
    };
    expect(await a.runOnce()).toBe(true);
    expect(gets('model-versions')).toEqual(['fraud/1', 'fraud/2']);
    expect(registry(newEvents())).toEqual(['model_version.delete fraud/2']);
    expect(a.health!()).toMatchObject({ state: 'degraded', reason: expect.stringContaining('fraud/1') });

    fake.onRequest = undefined;
    expect(await a.runOnce()).toBe(true);
    expect(newEvents()).toEqual([]);
    expect(a.health!().state).toBe('healthy');
  });
});

describe('registry auditor: an MLflow time that is not a time', () => {
  it('quarantines the event naming creation_timestamp / last_updated_timestamp, never re-dates it, and keeps auditing', async () => {
    seed();
    let a = auditor({ hash_artifacts: false, run_provenance: false });
    expect(await a.runOnce()).toBe(true);
    newEvents();

    fake.addModel('neg', -5); // became 1969-12-31T23:59:59.995Z
    fake.addModel('huge', 1e17); // new Date(1e17).toISOString() threw: every poll failed as "MLflow unreachable"
    fake.addVersion('fraud', '3', Date.UTC(10000, 0, 1), {}); // year 10000: "event 0: time: Invalid ISO datetime"
    const v2 = fake.versions.find((v) => v.name === 'fraud' && v.version === '2')!;
    v2.current_stage = 'Production';
    v2.last_updated_timestamp = -1;
    fake.addModel('ok', T0 + 5_000);
    clock.now += 60_000;
    a = auditor({ hash_artifacts: false, run_provenance: false });
    expect(await a.runOnce()).toBe(true);
    expect(a.health?.().state).toBe('healthy');

    const evs = newEvents();
    expect(evs.map((e) => `${e.action} ${e.resource?.id}`)).toEqual(['registered_model.create ok']);
    expect(evs[0]!.time).toBe(new Date(T0 + 5_000).toISOString());
    const q = spool!.listQuarantine({ channel: 'mlflow.audit' });
    expect(q.map((e) => e.reason).sort()).toEqual([
      "model-versions/create fraud/3: MLflow's creation_timestamp 253402300800000 is not a valid time (epoch milliseconds, years 1970-9999)",
      "model-versions/transition-stage fraud/2: MLflow's last_updated_timestamp -1 is not a valid time (epoch milliseconds, years 1970-9999)",
      "registered-models/create huge: MLflow's creation_timestamp 100000000000000000 is not a valid time (epoch milliseconds, years 1970-9999)",
      "registered-models/create neg: MLflow's creation_timestamp -5 is not a valid time (epoch milliseconds, years 1970-9999)",
    ]);
    // The quarantined record is the event itself, so the change is not lost.
    expect(JSON.parse(q.find((e) => e.reason.includes('fraud/2'))!.body.toString())).toMatchObject({ action: 'model_version.approve', details: { field: 'current_stage', new: 'Production' } });

    // The snapshot moved on: the next poll neither repeats them nor fails.
    clock.now += 60_000;
    expect(await a.runOnce()).toBe(true);
    expect(newEvents()).toEqual([]);
    expect(spool!.listQuarantine({ channel: 'mlflow.audit' })).toHaveLength(4);
  });

  it("a run's end_time that is not a time quarantines its provenance and evaluation events naming end_time", async () => {
    seed();
    fake.runs.clear();
    fake.addRun('runfraud1', { metrics: { auc: 0.9 }, info: { end_time: 1e18 } });
    const a = auditor({ hash_artifacts: false });
    expect(await a.runOnce()).toBe(true);
    expect(newEvents().filter((e) => e.ml?.provenance?.run_id === 'runfraud1')).toEqual([]);
    const reasons = spool!.listQuarantine({ channel: 'mlflow.audit' }).map((e) => e.reason).filter((r) => r.includes('end_time'));
    expect(reasons).toEqual([
      "runs/get runfraud1: MLflow's end_time 1000000000000000000 is not a valid time (epoch milliseconds, years 1970-9999)",
      "runs/get fraud/1: MLflow's end_time 1000000000000000000 is not a valid time (epoch milliseconds, years 1970-9999)",
    ]);
  });
});

describe('a model hidden from the auditor', () => {
  it('NO_PERMISSIONS for the auditor on an approved model (gone from the listing, 403 on get) still gets its versions verified', async () => {
    seed();
    fake.models.get('fraud')!.aliases = { champion: '1' };
    const a = auditor({ verify_interval_s: 600 });
    await a.runOnce();
    newEvents();
    // The model's owner (MANAGE) gives the auditor NO_PERMISSIONS on it: the basic-auth app drops it from the search
    // results and answers the registry routes about it (get, get-download-uri) 403 in plain text…
    fake.deleteModel('fraud');
    for (let i = 0; i < 50; i++) fake.faults.push({ match: /\/(registered-models|model-versions)\/get/, fault: { status: 403, body: 'Permission denied', contentType: 'text/plain' } });
    // …then swaps the champion's weights in the artifact store.
    fake.artifacts.set('1/runfraud1/artifacts/model/model.pkl', Buffer.from('swapped-weights'));
    clock.now += 601_000;
    expect(await a.runOnce()).toBe(true);
    const evs = newEvents();
    expect(evs.map((e) => [e.action, e.outcome, e.resource?.name, e.resource?.version])).toEqual([['model_version.hash_verified', 'failure', 'fraud', '1']]);
    expect(evs[0]!.error?.message).toMatch(/cannot be read to verify them.*403/);
    expect(a.health!().state).toBe('degraded');
  });
});
