import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Replayer, replayEvents } from '../../../bridge/replay.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { createMlflowConnector } from '../../../connectors/mlflow/index.js';
import type { ConnectorDeps } from '../../../core/connector.js';
import { Ingestor } from '../../../core/ingest.js';
import { silentLogger } from '../../../core/log.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { makeEvent, NormalizedEvent } from '../../../core/schema/index.js';
import { Spool } from '../../../core/spool/index.js';
import { FakeMlflow } from './fake-mlflow.js';

/**
 * What the auditor tells the rules about approvals MLflow does not attribute: the approval state
 * of versions that exist when it first runs, and aliases / stages a new version already carries
 * when first seen. Replayed through the built-in rules to show the alerts they lead to.
 */

const T0 = 1755680000000;
let fake: FakeMlflow;
let dir: string;
let spool: Spool | undefined;
const clock = { now: T0 + 3_600_000 };
let cursor = 0;

beforeEach(async () => {
  fake = new FakeMlflow();
  await fake.start();
  dir = mkdtempSync(join(tmpdir(), 'mltrail-mlflow-approval-'));
  clock.now = T0 + 3_600_000;
  cursor = 0;
});
afterEach(async () => {
  spool?.close();
  spool = undefined;
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh auditor over the spool in `dir` (reopened: a restart keeps only what was persisted). */
function auditor(): { runOnce(): Promise<boolean> } {
  spool?.close();
  spool = Spool.open({ dir });
  const config = MlflowConfig.parse({ poll: { tracking_uri: fake.url, max_attempts: 2, retry_initial_ms: 5, retry_max_ms: 10, request_timeout_ms: 3000 } });
  const logger = silentLogger();
  const deps: ConnectorDeps<MlflowConfig> = { config, ingest: new Ingestor(spool, logger), spool, logger, server: { host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20 }, dataDir: dir, keepRaw: true, env: {} };
  return createMlflowConnector({ now: () => clock.now }).pollers!(deps)[0] as unknown as { runOnce(): Promise<boolean> };
}

/** Events committed since the last call, in commit order. */
function newEvents(): NormalizedEvent[] {
  const recs = spool!.read('test', 100_000, cursor);
  if (recs.length) cursor = recs.at(-1)!.seq;
  return recs.map((r) => {
    const ev = JSON.parse(r.body);
    expect(NormalizedEvent.safeParse(ev).success).toBe(true);
    return ev as NormalizedEvent;
  });
}

/** A KServe InferenceService rollout serving `uri` (as the Kubeflow audit connector reports it). */
function kserveDeploy(uri: string, timeMs: number): NormalizedEvent {
  return makeEvent({
    id: `deploy-${timeMs}`, time: new Date(timeMs).toISOString(), platform: 'kubeflow', channel: 'kubeflow.k8s-audit', service: 'kube-apiserver',
    stage: 'serving', action: 'endpoint.update', operation: 'patch inferenceservices', outcome: 'success',
    actor: { name: 'carol@corp.example', type: 'user' }, resource: { type: 'inferenceservices', name: 'fraud-svc', namespace: 'models' },
    ml: { deployment: { endpoint: 'fraud-svc', model_uri: uri } },
  }, { keepRaw: false, receivedTime: new Date(timeMs).toISOString() });
}

const rules = { rules: RulesConfig.parse({}) };
/** Alerts of the built-in rules over events, in event-time order (`mltrail replay`) and in commit order (`serve`): both must agree. */
function alertsOf(events: NormalizedEvent[]): string[] {
  const replayed = replayEvents(events, rules).alerts.map((a) => `${a.rule_id}: ${a.summary}`);
  const served: string[] = [];
  const r = new Replayer(rules, { onAlerts: (a) => served.push(...a.map((x) => `${x.rule_id}: ${x.summary}`)) });
  r.push(events.map((e) => ({ id: e.id, time: e.time, body: JSON.stringify(e) })));
  r.finish();
  expect(served.sort()).toEqual([...replayed].sort());
  return replayed;
}
/** Where MLflow with an S3 artifact store keeps a run's model: the version's source, and KServe's storageUri. */
const artifactOf = (run: string) => `s3://mlflow-artifacts/1/${run}/artifacts/model`;
const files = (w: string) => ({ MLmodel: 'flavors: {}', 'model.pkl': w });

describe('registry auditor: approval state at the first run', () => {
  it('reports each version approved before install (alias, stage) without an actor, after its run, and the rollout of it raises nothing', async () => {
    fake.addModel('fraud', T0, { aliases: { production: '1', challenger: '2' } });
    fake.addModel('churn', T0 + 1);
    fake.addVersion('fraud', '1', T0 + 10, files('w1'), { run_id: 'runf1', source: artifactOf('runf1'), user_id: 'alice@corp.example' });
    fake.addVersion('fraud', '2', T0 + 20, files('w2'), { run_id: 'runf2', source: artifactOf('runf2'), user_id: 'alice@corp.example' });
    fake.addVersion('churn', '1', T0 + 30, files('c1'), { run_id: 'runc1', source: artifactOf('runc1'), user_id: 'bob@corp.example', current_stage: 'Production' });
    fake.addVersion('churn', '2', T0 + 40, files('c2'), { run_id: 'runc2', source: artifactOf('runc2'), user_id: 'bob@corp.example' }); // nothing to tell
    for (const [run, user] of [['runf1', 'alice@corp.example'], ['runf2', 'alice@corp.example'], ['runc1', 'bob@corp.example'], ['runc2', 'bob@corp.example']] as const) {
      fake.addRun(run, { user, metrics: { auc: 0.9, adv_robust_acc: 0.8 } });
    }

    let a = auditor();
    expect(await a.runOnce()).toBe(true);
    const evs = newEvents();
    const baseline = evs.filter((e) => e.details?.baseline === true);
    expect(baseline.map((e) => `${e.action} ${e.resource?.id} ${e.ml?.model?.approval}`).sort()).toEqual([
      'model_version.alias_set fraud/2 undefined', // challenger: not an approval, but the rules learn who holds it
      'model_version.approve churn/1 approved', // stage Production
      'model_version.approve fraud/1 approved', // alias production
    ]);
    const f1 = baseline.find((e) => e.resource?.id === 'fraud/1')!;
    expect(f1.actor).toBeUndefined(); // MLflow does not record who set the alias
    expect(f1.ml?.model).toMatchObject({ name: 'fraud', version: '1', aliases: ['production'], stage: 'None', run_id: 'runf1', artifact_uri: artifactOf('runf1') });
    expect(f1.details).toMatchObject({ baseline: true, version_creator: 'alice@corp.example', approval_markers: [{ kind: 'alias', alias: 'production' }] });
    expect(baseline.find((e) => e.resource?.id === 'churn/1')!.details?.approval_markers).toEqual([{ kind: 'stage', stage: 'Production' }]);
    // Each after its version's run: the rules judge the approval with the evaluation evidence on record.
    for (const b of baseline) {
      const metrics = evs.findIndex((e) => e.action === 'evaluation.metrics' && e.ml?.model?.name === b.ml?.model?.name && e.ml?.model?.version === b.ml?.model?.version);
      expect(metrics).toBeGreaterThanOrEqual(0);
      expect(evs.indexOf(b)).toBeGreaterThan(metrics);
    }

    // Rolling out today's production models raises nothing; an unapproved version still does.
    const later = clock.now + 600_000;
    expect(alertsOf([...evs, kserveDeploy(artifactOf('runf1'), later), kserveDeploy(artifactOf('runc1'), later + 1)])).toEqual([]);
    expect(alertsOf([...evs, kserveDeploy(artifactOf('runf2'), later)])).toEqual([expect.stringMatching(/^registry\.unapproved_deployment: .*never approved/)]);

    // Told once: later polls and a restart emit nothing more.
    clock.now += 60_000;
    a = auditor();
    await a.runOnce();
    expect(newEvents()).toEqual([]);
  });

  it('a rejection tag wins over an approval alias, as for a version seen later', async () => {
    fake.addModel('fraud', T0, { aliases: { champion: '1' } });
    fake.addVersion('fraud', '1', T0 + 10, files('w1'), { run_id: 'runf1', source: artifactOf('runf1'), tags: { approval_status: 'rejected' } });
    fake.addRun('runf1', { user: 'alice' });
    const a = auditor();
    await a.runOnce();
    const b = newEvents().find((e) => e.details?.baseline === true)!;
    expect(b.action).toBe('model_version.reject');
    expect(b.ml?.model?.approval).toBe('rejected');
  });

  it('a version whose run cannot be read yet gets its approval state in the first cycle all the same, once', async () => {
    fake.addModel('fraud', T0, { aliases: { champion: '1' } });
    fake.addVersion('fraud', '1', T0 + 10, files('w1'), { run_id: 'runf1', source: artifactOf('runf1') });
    fake.addRun('runf1', { user: 'alice' });
    fake.unauthorizedRuns.add('runf1'); // 401 for this run only: retried each cycle, given up after 5
    const a = auditor();
    await a.runOnce();
    expect(newEvents().filter((e) => e.details?.baseline === true).map((e) => e.action)).toEqual(['model_version.approve']);
    const later: NormalizedEvent[] = [];
    for (let i = 0; i < 5; i++) {
      clock.now += 60_000;
      await a.runOnce();
      later.push(...newEvents());
    }
    expect(later.some((e) => e.action === 'run.provenance' && e.outcome === 'failure')).toBe(true); // given up on the run
    expect(later.filter((e) => e.details?.baseline === true)).toEqual([]);
  });
});

describe('registry auditor: a new version that already carries an alias or a stage', () => {
  it('the creator is not credited with an approval set in the same poll interval', async () => {
    fake.addModel('fraud', T0);
    fake.addVersion('fraud', '1', T0 + 10, files('w1'), { run_id: 'runf1', source: artifactOf('runf1'), user_id: 'bob@corp.example' });
    fake.addRun('runf1', { user: 'bob@corp.example', metrics: { adv_robust_acc: 0.8 } });
    const a = auditor();
    await a.runOnce();
    const first = newEvents();

    // Within one poll interval: alice registers quick2 v1 from her run and someone points `champion` at it.
    clock.now += 60_000;
    const t1 = T0 + 100_000;
    fake.addModel('quick2', t1, { aliases: { champion: '1' } });
    fake.addVersion('quick2', '1', t1 + 1, files('q1'), { run_id: 'runq1', source: artifactOf('runq1'), user_id: 'alice@corp.example' });
    fake.addRun('runq1', { user: 'alice@corp.example', metrics: { adv_robust_acc: 0.8 } });
    // …and an existing model gets a new version already in stage Production.
    fake.addVersion('fraud', '2', t1 + 2, files('w2'), { run_id: 'runf2', source: artifactOf('runf2'), user_id: 'bob@corp.example', current_stage: 'Production' });
    fake.addRun('runf2', { user: 'bob@corp.example', metrics: { adv_robust_acc: 0.8 } });
    await a.runOnce();
    const evs = newEvents();

    const q = evs.filter((e) => e.resource?.id === 'quick2/1' && e.stage === 'registry' && e.action !== 'model_version.hash_registered');
    expect(q.map((e) => e.action)).toEqual(['model_version.create', 'model_version.approve']);
    const [create, approve] = q as [NormalizedEvent, NormalizedEvent];
    expect(create.actor).toMatchObject({ id: 'alice@corp.example' });
    expect(create.ml?.model?.approval).toBeUndefined();
    expect(create.ml?.model?.aliases).toBeUndefined(); // create-model-version cannot set aliases
    expect(approve.actor).toBeUndefined();
    expect(approve.ml?.model).toMatchObject({ name: 'quick2', version: '1', aliases: ['champion'], approval: 'approved' });
    expect(approve.details).toMatchObject({ alias: 'champion', version_creator: 'alice@corp.example', approval_marker: { kind: 'alias', alias: 'champion' } });
    // Committed after the run's metrics (the order serve's rules see): judged with its evaluation on record.
    const metrics = evs.findIndex((e) => e.action === 'evaluation.metrics' && e.resource?.id === 'quick2/1');
    expect(metrics).toBeGreaterThanOrEqual(0);
    expect(evs.indexOf(approve)).toBeGreaterThan(metrics);

    const f = evs.filter((e) => e.resource?.id === 'fraud/2' && e.stage === 'registry' && e.action !== 'model_version.hash_registered');
    expect(f.map((e) => e.action)).toEqual(['model_version.create', 'model_version.approve']);
    expect(f[0]!.ml?.model?.stage).toBeUndefined(); // a new version is created in stage None
    expect(f[1]!.actor).toBeUndefined();
    expect(f[1]!.details).toMatchObject({ field: 'current_stage', old: 'None', new: 'Production', version_creator: 'bob@corp.example' });

    // No self-approval (replay and serve agree: MLflow does not say alice set the alias), and the approval counts.
    const later = clock.now + 600_000;
    expect(alertsOf([...first, ...evs, kserveDeploy(artifactOf('runq1'), later), kserveDeploy(artifactOf('runf2'), later + 1)])).toEqual([]);

    // Same input, same ids: a restart re-diffing the same snapshots emits nothing new.
    const ids = evs.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    clock.now += 60_000;
    await auditor().runOnce();
    expect(newEvents()).toEqual([]);
  });

  it('an alias diffModels reported for the new version is not reported twice, and a deleted and re-created number gets its alias again', async () => {
    fake.addModel('fraud', T0, { aliases: { champion: '1' } });
    fake.addVersion('fraud', '1', T0 + 10, files('w1'), { run_id: 'runf1', source: artifactOf('runf1') });
    fake.addRun('runf1', { user: 'alice' });
    const a = auditor();
    await a.runOnce();
    newEvents();

    // champion moves to a version created in the same interval: one approval event (the alias move).
    clock.now += 60_000;
    fake.addVersion('fraud', '2', T0 + 50_000, files('w2'), { run_id: 'runf2', source: artifactOf('runf2'), user_id: 'mallory@corp.example' });
    fake.addRun('runf2', { user: 'mallory' });
    fake.models.get('fraud')!.aliases = { champion: '2' };
    await a.runOnce();
    const moved = newEvents().filter((e) => e.action === 'model_version.approve');
    expect(moved.map((e) => [e.resource?.id, e.details?.old_version, e.actor])).toEqual([['fraud/2', '1', undefined]]);

    // v2 deleted and re-created (number reused) and champion set on the new one: the alias map looks
    // unchanged, yet the new v2 is approved by someone — reported, without the creator as actor.
    clock.now += 60_000;
    fake.deleteVersion('fraud', '2');
    fake.addVersion('fraud', '2', T0 + 90_000, files('evil'), { run_id: 'runevil', source: artifactOf('runevil'), user_id: 'mallory@corp.example' });
    fake.addRun('runevil', { user: 'mallory' });
    fake.models.get('fraud')!.aliases = { champion: '2' };
    await a.runOnce();
    const re = newEvents().filter((e) => e.stage === 'registry' && e.action !== 'model_version.hash_registered');
    expect(re.map((e) => `${e.action} ${e.actor?.id ?? '-'}`)).toEqual(['model_version.delete -', 'model_version.create mallory@corp.example', 'model_version.approve -']);
    expect(re[1]!.ml?.model?.approval).toBeUndefined();
  });
});

describe('registry auditor: an existing model approves a version created in the same poll interval', () => {
  it('the alias move and new aliases on the new version come after its run, so serve and replay agree (no false adversarial_failure)', async () => {
    // The everyday flow: fraud is watched, v1 is champion; then a run registers v3 and someone runs
    // set_registered_model_alias before the next poll.
    fake.addModel('fraud', T0, { aliases: { champion: '1' } });
    fake.addVersion('fraud', '1', T0 + 10, files('w1'), { run_id: 'runf1', source: artifactOf('runf1'), user_id: 'alice@corp.example' });
    fake.addVersion('fraud', '2', T0 + 20, files('w2'), { run_id: 'runf2', source: artifactOf('runf2'), user_id: 'alice@corp.example' });
    for (const run of ['runf1', 'runf2', 'runf3']) fake.addRun(run, { user: 'alice@corp.example', metrics: { auc: 0.9, adv_robust_acc: 0.8 } });
    const a = auditor();
    await a.runOnce();
    const first = newEvents();

    clock.now += 60_000;
    fake.addVersion('fraud', '3', T0 + 3_000_000, files('w3'), { run_id: 'runf3', source: artifactOf('runf3'), user_id: 'alice@corp.example', tags: { approval_status: 'approved' } });
    fake.models.get('fraud')!.aliases = { champion: '3', prod: '3' };
    await a.runOnce();
    const evs = newEvents();

    const f3 = (e: NormalizedEvent) => e.ml?.model?.name === 'fraud' && e.ml?.model?.version === '3' && e.action !== 'model_version.hash_registered';
    expect(evs.filter(f3).map((e) => `${e.action} ${e.details?.alias ?? (e.details?.tag as { key?: string } | undefined)?.key ?? ''}`.trim())).toEqual([
      'model_version.create',
      'run.provenance',
      'evaluation.metrics',
      'model_version.approve champion', // moved from v1 (diffModels' event, not a marker)
      'model_version.alias_set prod',
      'model_version.approve approval_status', // the version's own tag, seen at creation
    ]);
    const [move, prod] = evs.filter((e) => f3(e) && e.details?.alias) as [NormalizedEvent, NormalizedEvent];
    expect(move.details).toMatchObject({ alias: 'champion', old_version: '1', new_version: '3' });
    expect(move.details?.seen_at_creation).toBeUndefined();
    expect([move.actor, prod.actor]).toEqual([undefined, undefined]); // MLflow names no one for an alias write
    expect(prod.details).toMatchObject({ alias: 'prod', new_version: '3' });
    expect(prod.details?.old_version).toBeUndefined(); // a new alias

    // The rules (prod is an approval alias for them) in commit order (serve) and in time order
    // (replay) agree, and see v3's adversarial evaluation before its approval.
    expect(alertsOf([...first, ...evs])).toEqual([]);

    // Same ids on a re-diff after a restart: nothing new.
    const ids = evs.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    clock.now += 60_000;
    await auditor().runOnce();
    expect(newEvents()).toEqual([]);

    // An alias moved to a version already known is reported by the diff as before, once.
    clock.now += 60_000;
    fake.models.get('fraud')!.aliases = { champion: '2', prod: '3' };
    await auditor().runOnce();
    const back = newEvents();
    expect(back.map((e) => `${e.action} ${e.resource?.id} ${e.details?.old_version}`)).toEqual(['model_version.approve fraud/2 3']);
    // v2 after v3: serving `models:/fraud@champion` rolls back — that, and nothing else, is a finding.
    expect(alertsOf([...first, ...evs, ...back])).toEqual(['registry.version_rollback: fraud@champion moved from v3 to older v2 (by an unidentified caller)']);
  });

  it('stopped before a new version\'s held aliases were committed, the next cycle commits them before a later alias move', async () => {
    fake.addModel('fraud', T0, { aliases: { champion: '1' } });
    fake.addVersion('fraud', '1', T0 + 10, files('w1'), { run_id: 'runf1', source: artifactOf('runf1'), user_id: 'alice@corp.example' });
    fake.addVersion('fraud', '2', T0 + 20, files('w2'), { run_id: 'runf2', source: artifactOf('runf2'), user_id: 'alice@corp.example' });
    for (const run of ['runf1', 'runf2', 'runf3']) fake.addRun(run, { user: 'alice@corp.example', metrics: { auc: 0.9, adv_robust_acc: 0.8 } });
    await auditor().runOnce();
    const first = newEvents();

    // v3 arrives already champion; the auditor is stopped while it reads v3's run (its aliases wait for it).
    clock.now += 60_000;
    fake.addVersion('fraud', '3', T0 + 3_000_000, files('w3'), { run_id: 'runf3', source: artifactOf('runf3'), user_id: 'alice@corp.example' });
    fake.models.get('fraud')!.aliases = { champion: '3' };
    fake.faults.push({ match: /runs\/get/, fault: { hang: true } });
    const a = auditor() as unknown as { runOnce(): Promise<boolean>; stop(): Promise<void> };
    const runReads = () => fake.requests.filter((r) => r.path.endsWith('/runs/get')).length;
    const before = runReads();
    const cycle = a.runOnce();
    for (let i = 0; i < 500 && runReads() === before; i++) await new Promise((r) => setTimeout(r, 10));
    await a.stop();
    expect(await cycle).toBe(false);
    const cut = newEvents();
    expect(cut.map((e) => e.action)).toEqual(['model_version.create']);

    // Before the next poll champion moves on to v2: the held move to v3 must be committed first.
    clock.now += 60_000;
    fake.models.get('fraud')!.aliases = { champion: '2' };
    await auditor().runOnce();
    const evs = newEvents();
    const moves = evs.filter((e) => e.details?.alias === 'champion').map((e) => `${e.details?.old_version ?? ''}->${e.details?.new_version}`);
    expect(moves).toEqual(['1->3', '3->2']);
    // Once: a further cycle commits nothing new.
    clock.now += 60_000;
    await auditor().runOnce();
    expect(newEvents()).toEqual([]);
    expect(alertsOf([...first, ...cut, ...evs])).toEqual(['registry.version_rollback: fraud@champion moved from v3 to older v2 (by an unidentified caller)']);
  });

  it('without adversarial evidence on the new version the approval still alerts, in both orders', async () => {
    fake.addModel('fraud', T0, { aliases: { champion: '1' } });
    fake.addVersion('fraud', '1', T0 + 10, files('w1'), { run_id: 'runf1', source: artifactOf('runf1') });
    fake.addRun('runf1', { user: 'alice', metrics: { adv_robust_acc: 0.8 } });
    fake.addRun('runf3', { user: 'alice', metrics: { auc: 0.9 } });
    const a = auditor();
    await a.runOnce();
    const first = newEvents();
    clock.now += 60_000;
    fake.addVersion('fraud', '3', T0 + 3_000_000, files('w3'), { run_id: 'runf3', source: artifactOf('runf3') });
    fake.models.get('fraud')!.aliases = { champion: '3' };
    await a.runOnce();
    expect(alertsOf([...first, ...newEvents()])).toEqual([expect.stringMatching(/^evaluation\.adversarial_failure: fraud v3 was approved by alias champion at \S+ with no adversarial evaluation/)]);
  });
});
