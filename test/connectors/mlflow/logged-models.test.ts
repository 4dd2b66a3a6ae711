import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { useAuditorHarness } from './auditor-harness.js';
import { replayEvents } from '../../../bridge/replay.js';
import { loggedModelIdOf } from '../../../connectors/mlflow/artifacts.js';
import { RulesConfig } from '../../../core/rules/engine.js';

/**
 * MLflow 3 registers `models:/m-<hex>` (a LoggedModel) as a version's source; its files are the logged model's, at
 * the logged model's artifact_location. With a bucket the server reads itself (no `mlflow-artifacts` proxy) they are
 * read through the logged-model artifact routes, hashed, and an approved version re-verified like any other.
 */
const T0 = 1755680000000;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const h = useAuditorHarness('mltrail-mlflow-lm-', T0);
const auditor = () => h.auditor({ verify_interval_s: 600 });
const all = h.events;

/** What MLflow 3's `mlflow.sklearn.log_model` writes at a logged model's root (a subdirectory too: MLmodel's metadata). */
const files = {
  MLmodel: 'artifact_path: null\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\nmodel_id: m-x\nmlflow_version: 3.3.2\n',
  'model.pkl': 'weights-v1',
  'requirements.txt': 'mlflow==3.3.2\nscikit-learn==1.5.2\n',
  'metadata/MLmodel': 'artifact_path: null\n',
};

describe('MLflow 3 logged models (models:/<model_id> sources)', () => {
  it('loggedModelIdOf reads a models:/ URI as MLflow does: one segment without @ is a logged model id', () => {
    expect(loggedModelIdOf('models:/m-0a1b2c3d')).toBe('m-0a1b2c3d');
    expect(loggedModelIdOf('models:/fraud/3')).toBeUndefined();
    expect(loggedModelIdOf('models:/fraud@champion')).toBeUndefined();
    expect(loggedModelIdOf('runs:/abc/model')).toBeUndefined();
    expect(loggedModelIdOf(undefined)).toBeUndefined();
  });

  it('a version registered from a logged model in a bucket the server reads itself is hashed through the logged-model artifact routes', async () => {
    h.fake.addModel('fraud', T0);
    const v = h.fake.addLoggedModelVersion('fraud', '1', T0 + 10, files, { store: 's3' });
    h.fake.addRun(v.run_id!, { user: 'alice' });
    expect(await auditor().runOnce()).toBe(true);
    const hash = all().find((e) => e.action === 'model_version.hash_registered')!;
    expect(hash.outcome).toBe('success');
    expect(hash.ml?.model?.artifact_uri).toBe(`s3://mlflow-bucket/1/models/${v.model_id}/artifacts`);
    expect((hash.details?.manifest as Array<{ path: string; sha256: string }>).map((f) => [f.path, f.sha256])).toEqual([
      ['MLmodel', sha(files.MLmodel)], ['metadata/MLmodel', sha(files['metadata/MLmodel'])], ['model.pkl', sha('weights-v1')], ['requirements.txt', sha(files['requirements.txt'])],
    ]);
    // Read where MLflow serves a logged model's files: the listing under /api, each file under /ajax-api.
    const lm = h.fake.requests.filter((r) => r.path.includes('/logged-models/'));
    expect(lm.map((r) => r.path)).toContain(`/api/2.0/mlflow/logged-models/${v.model_id}/artifacts/directories`);
    expect(lm.filter((r) => r.path.endsWith('/artifacts/files')).map((r) => [r.path, r.query.get('artifact_file_path')]).sort()).toEqual(
      ['MLmodel', 'metadata/MLmodel', 'model.pkl', 'requirements.txt'].map((p) => [`/ajax-api/2.0/mlflow/logged-models/${v.model_id}/artifacts/files`, p]),
    );
  });

  it('an approved logged-model version whose files are overwritten afterwards is a hash_mismatch (serving.hash_mismatch)', async () => {
    h.fake.addModel('fraud', T0, { aliases: { champion: '1' } });
    const v = h.fake.addLoggedModelVersion('fraud', '1', T0 + 10, files, { store: 's3' });
    h.fake.addRun(v.run_id!, { user: 'alice' });
    const a = auditor();
    expect(await a.runOnce()).toBe(true);
    // The logged model's weights are replaced in the bucket (MLflow records nothing: no version field changes).
    h.fake.setLoggedModelFile(v.model_id!, 'model.pkl', 'weights-v1-backdoored');
    h.clock.now += 601_000;
    expect(await a.runOnce()).toBe(true);
    const evs = all();
    const mm = evs.find((e) => e.action === 'model_version.hash_mismatch')!;
    expect(mm).toBeDefined();
    expect(mm.resource?.id).toBe('fraud/1');
    expect(mm.details?.files).toEqual([{ path: 'model.pkl', expected_sha256: sha('weights-v1'), observed_sha256: sha('weights-v1-backdoored') }]);
    const alerts = replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((x) => x.rule_id === 'serving.hash_mismatch');
    expect(alerts.map((x) => x.entity.id)).toEqual(['fraud/1']);
  });

  it('a server run with --static-prefix serves the file download under the prefix and the REST API without it: both are found (poll.static_prefix)', async () => {
    h.fake.staticPrefix = '/mlflow';
    h.fake.addModel('fraud', T0);
    const v = h.fake.addLoggedModelVersion('fraud', '1', T0 + 10, files, { store: 's3' });
    h.fake.addRun(v.run_id!, { user: 'alice' });
    expect(await h.auditor({ verify_interval_s: 600, static_prefix: '/mlflow' }).runOnce()).toBe(true);
    const hash = all().find((e) => e.action === 'model_version.hash_registered')!;
    expect(hash.outcome).toBe('success');
    expect((hash.details?.manifest as Array<{ path: string }>).map((f) => f.path)).toEqual(['MLmodel', 'metadata/MLmodel', 'model.pkl', 'requirements.txt']);
    const lm = h.fake.requests.filter((r) => r.path.includes('/logged-models/'));
    expect(lm.map((r) => r.path)).toContain(`/api/2.0/mlflow/logged-models/${v.model_id}/artifacts/directories`);
    expect([...new Set(lm.filter((r) => r.path.endsWith('/artifacts/files')).map((r) => r.path))]).toEqual([`/mlflow/ajax-api/2.0/mlflow/logged-models/${v.model_id}/artifacts/files`]);
  });

  it('without poll.static_prefix, such a server does not serve the files at /ajax-api: a failed hash_registered, not a hash', async () => {
    h.fake.staticPrefix = '/mlflow';
    h.fake.addModel('fraud', T0);
    const v = h.fake.addLoggedModelVersion('fraud', '1', T0 + 10, files, { store: 's3' });
    h.fake.addRun(v.run_id!, { user: 'alice' });
    await auditor().runOnce();
    const hash = all().find((e) => e.action === 'model_version.hash_registered')!;
    expect(hash.outcome).toBe('failure');
    expect(hash.ml?.model?.sha256).toBeUndefined();
  });

  it('a logged model in the proxied store is still read through the proxy', async () => {
    h.fake.addModel('fraud', T0);
    const v = h.fake.addLoggedModelVersion('fraud', '1', T0 + 10, files);
    h.fake.addRun(v.run_id!, { user: 'alice' });
    expect(await auditor().runOnce()).toBe(true);
    const hash = all().find((e) => e.action === 'model_version.hash_registered')!;
    expect(hash.outcome).toBe('success');
    expect(hash.ml?.model?.artifact_uri).toBe(`mlflow-artifacts:/1/models/${v.model_id}/artifacts`);
    expect(h.fake.requests.some((r) => /\/logged-models\/.*\/artifacts\//.test(r.path))).toBe(false);
  });
});

describe('MLflow 3 logged models: evaluations in runs of their own', () => {
  /** The version is registered at T0+10 (first cycle), evaluated in its own run, then given the champion alias. */
  async function scenario(evaluate: boolean, evaluator: string | null = 'carol'): Promise<NormalizedEvent[]> {
    const m = h.fake.addModel('fraud', T0);
    const v = h.fake.addLoggedModelVersion('fraud', '1', T0 + 10, files);
    h.fake.addRun(v.run_id!, { user: 'alice', metrics: { train_loss: 0.1 } });
    // The evaluation run as MLflow stores it: user_id is what the client sent at CreateRun (mlflow.evaluate sends the OS user).
    if (evaluator !== null) h.fake.addRun('evalrun1', { info: { user_id: evaluator, experiment_id: '7' } });
    const lm = h.fake.loggedModels.get(v.model_id!)!;
    // The training run's own metric is the model's too (MLflow links it by model_id): reported once, by runs/get.
    lm.metrics.push({ key: 'train_loss', value: 0.1, timestamp: T0 + 5, step: 0, run_id: v.run_id });
    const a = auditor();
    expect(await a.runOnce()).toBe(true);
    if (evaluate) {
      // mlflow.evaluate(model_id=…) in an evaluation run of its own, after registration.
      lm.metrics.push(
        { key: 'adversarial_accuracy', value: 0.7, timestamp: T0 + 3_000_000, step: 0, run_id: 'evalrun1', dataset_name: 'adv_eval', dataset_digest: 'd1' },
        { key: 'adversarial_accuracy', value: 0.91, timestamp: T0 + 3_100_000, step: 1, run_id: 'evalrun1', dataset_name: 'adv_eval', dataset_digest: 'd1' },
      );
    }
    m.aliases = { champion: '1' };
    m.last_updated_timestamp = T0 + 3_200_000;
    h.clock.now += 60_000;
    expect(await a.runOnce()).toBe(true);
    return all();
  }

  it("an evaluation logged for the logged model after registration is on record before its approval: no 'approved without adversarial evaluation'", async () => {
    const evs = await scenario(true);
    const evals = evs.filter((e) => e.action === 'evaluation.metrics');
    expect(evals.map((e) => [e.operation, e.ml?.metrics, e.ml?.provenance?.run_id])).toEqual([
      ['runs/get', { train_loss: 0.1 }, v1Run()],
      ['logged-models/get', { adversarial_accuracy: 0.91 }, 'evalrun1'],
    ]);
    const lmEval = evals[1]!;
    expect(lmEval.resource?.id).toBe('fraud/1');
    expect(lmEval.details).toMatchObject({ model_id: expect.stringMatching(/^m-/), evaluation_run_id: 'evalrun1', datasets: [{ name: 'adv_eval', digest: 'd1' }] });
    // Its author: the evaluation run's user_id (the client's claim at CreateRun: MLflow records none per metric).
    expect(lmEval.actor).toMatchObject({ id: 'carol', type: 'user' });
    expect(lmEval.details).toMatchObject({ actor_source: expect.stringMatching(/user_id/), evaluation_run: { experiment_id: '7', user_id: 'carol' } });
    expect(h.fake.requests.some((r) => r.path === '/api/2.0/mlflow/runs/get' && r.query.get('run_id') === 'evalrun1')).toBe(true);
    // Committed before the approval it backs.
    const order = evs.map((e) => e.action);
    expect(order.indexOf('model_version.approve')).toBeGreaterThan(order.lastIndexOf('evaluation.metrics'));
    const alerts = replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((x) => x.rule_id === 'evaluation.adversarial_failure');
    expect(alerts).toEqual([]);
  });

  it('an evaluation run that names no author, or that the auditor cannot read, is no evidence: anyone may log a metric under the model id', async () => {
    // The metrics as before, but their run is gone (404) or was never readable: who logged them cannot be told.
    const evs = await scenario(true, null);
    const lmEval = evs.find((e) => e.operation === 'logged-models/get')!;
    expect(lmEval.actor).toBeUndefined();
    expect(lmEval.details?.evaluation_author_unknown).toMatch(/could not be read/);
    const alerts = replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((x) => x.rule_id === 'evaluation.adversarial_failure');
    expect(alerts.map((x) => x.entity.id)).toEqual(['fraud/1']);
    expect(alerts[0]!.details?.evidence_not_counted).toEqual([{ key: 'adversarial_accuracy', value: 0.91, event: lmEval.id, why: expect.stringMatching(/^no author known \(the evaluation run could not be read/) }]);
    expect(alerts[0]!.summary).toMatch(/not counted: adversarial_accuracy=0.91, no author known/);
  });

  it('a run naming no user (user_id and mlflow.user empty) is no evidence either', async () => {
    const evs = await scenario(true, '');
    expect(evs.find((e) => e.operation === 'logged-models/get')!.details?.evaluation_author_unknown).toMatch(/names no user/);
    expect(replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((x) => x.rule_id === 'evaluation.adversarial_failure').map((x) => x.entity.id)).toEqual(['fraud/1']);
  });

  it('metrics logged for the logged model after the approval was seen do not count for it, whatever their timestamps', async () => {
    const m = h.fake.addModel('fraud', T0);
    const v = h.fake.addLoggedModelVersion('fraud', '1', T0 + 10, files);
    h.fake.addRun(v.run_id!, { user: 'alice' });
    h.fake.addRun('evalrun1', { info: { user_id: 'carol' } });
    const a = auditor();
    expect(await a.runOnce()).toBe(true);
    // Approved with nothing on record.
    m.aliases = { champion: '1' };
    h.clock.now += 60_000;
    expect(await a.runOnce()).toBe(true);
    // Then someone logs a passing score under the model id, backdated to before the approval, and a second
    // approval alias makes the auditor read the logged model again within the hour the rule waits.
    h.fake.loggedModels.get(v.model_id!)!.metrics.push({ key: 'adversarial_accuracy', value: 0.95, timestamp: T0 + 1000, step: 0, run_id: 'evalrun1' });
    m.aliases = { champion: '1', production: '1' };
    h.clock.now += 60_000;
    expect(await a.runOnce()).toBe(true);
    const evs = all();
    const lmEval = evs.find((e) => e.operation === 'logged-models/get')!;
    expect(lmEval.actor?.id).toBe('carol');
    const order = evs.map((e) => e.id);
    const firstApproval = evs.find((e) => e.action === 'model_version.approve')!;
    expect(order.indexOf(lmEval.id)).toBeGreaterThan(order.indexOf(firstApproval.id));
    const alerts = replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((x) => x.rule_id === 'evaluation.adversarial_failure');
    expect(alerts.map((x) => [x.entity.id, x.evidence[0]])).toEqual([['fraud/1', firstApproval.id]]);
    expect(alerts[0]!.details?.evidence_not_counted).toEqual([{ key: 'adversarial_accuracy', value: 0.95, event: lmEval.id, author: 'carol', why: expect.stringMatching(/^first read by the auditor at .*, after the version was approved$/) }]);
  });

  it('without that evaluation the approval is still judged as having none', async () => {
    const evs = await scenario(false);
    expect(evs.filter((e) => e.operation === 'logged-models/get')).toEqual([]);
    const alerts = replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((x) => x.rule_id === 'evaluation.adversarial_failure');
    expect(alerts.map((x) => x.entity.id)).toEqual(['fraud/1']);
  });
});
const v1Run = () => 'runfraud1';

describe('MLflow 3 logged models: a new version', () => {
  it('evaluated before it was registered: its logged model metrics come with its run; a logged model the auditor may not read (403) is skipped, the version still hashed', async () => {
    h.fake.addModel('fraud', T0);
    h.fake.addModel('churn', T0);
    const a = auditor();
    expect(await a.runOnce()).toBe(true); // baseline: empty registry
    const v = h.fake.addLoggedModelVersion('fraud', '1', T0 + 10, files);
    h.fake.addRun(v.run_id!, { user: 'alice' });
    h.fake.loggedModels.get(v.model_id!)!.metrics.push({ key: 'adversarial_accuracy', value: 0.88, timestamp: T0 + 5, step: 0, run_id: 'evalrun1' });
    h.fake.addRun('evalrun1', { info: { user_id: 'carol' } });
    h.fake.models.get('fraud')!.aliases = { champion: '1' };
    const w = h.fake.addLoggedModelVersion('churn', '1', T0 + 20, files);
    h.fake.addRun(w.run_id!, { user: 'bob' });
    h.fake.faults.push({ match: new RegExp(`/logged-models/${w.model_id}$`), fault: { status: 403, body: 'Permission denied', contentType: 'text/plain' } });
    // A backend failing on logged models (500 on every attempt) holds up neither the version nor the cycle.
    const x = h.fake.addLoggedModelVersion('churn', '2', T0 + 30, files);
    h.fake.addRun(x.run_id!, { user: 'bob' });
    for (let i = 0; i < 2; i++) h.fake.faults.push({ match: new RegExp(`/logged-models/${x.model_id}$`), fault: { status: 500 } });
    h.clock.now += 60_000;
    expect(await a.runOnce()).toBe(true);
    expect(h.fake.faults).toEqual([]); // the 403 was served
    const evs = all();
    expect(evs.filter((e) => e.operation === 'logged-models/get').map((e) => [e.resource?.id, e.ml?.metrics])).toEqual([['fraud/1', { adversarial_accuracy: 0.88 }]]);
    expect(evs.filter((e) => e.action === 'model_version.hash_registered').map((e) => [e.resource?.id, e.outcome]).sort()).toEqual([['churn/1', 'success'], ['churn/2', 'success'], ['fraud/1', 'success']]);
    expect(evs.filter((e) => e.action === 'run.provenance').map((e) => e.ml?.model?.version && `${e.ml.model.name}/${e.ml.model.version}`).sort()).toEqual(['churn/1', 'churn/2', 'fraud/1']);
    expect(evs.some((e) => e.action === 'source.unavailable')).toBe(false);
    const order = evs.map((e) => `${e.action} ${e.resource?.id}`);
    expect(order.indexOf('model_version.approve fraud/1')).toBeGreaterThan(order.indexOf('evaluation.metrics fraud/1'));
    expect(replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((x) => x.rule_id === 'evaluation.adversarial_failure')).toEqual([]);
  });
});

describe('a version copied from another (source models:/<name>/<version>)', () => {
  it('outside the proxy is read where the version it was copied from is (here its logged model)', async () => {
    h.fake.addModel('fraud-staging', T0);
    h.fake.addModel('fraud-prod', T0, { aliases: { champion: '1' } });
    const src = h.fake.addLoggedModelVersion('fraud-staging', '1', T0 + 10, files, { store: 's3' });
    h.fake.addRun(src.run_id!, { user: 'alice' });
    // MlflowClient.copy_model_version: source models:/<src>/<version>, the same run and logged model.
    h.fake.versions.push({ ...src, name: 'fraud-prod', version: '1', creation_timestamp: T0 + 20, last_updated_timestamp: T0 + 20, source: 'models:/fraud-staging/1', tags: {} });
    const a = auditor();
    expect(await a.runOnce()).toBe(true);
    const hashes = all().filter((e) => e.action === 'model_version.hash_registered');
    expect(hashes.map((e) => [e.resource?.id, e.outcome, e.ml?.model?.artifact_uri]).sort()).toEqual([
      ['fraud-prod/1', 'success', `s3://mlflow-bucket/1/models/${src.model_id}/artifacts`],
      ['fraud-staging/1', 'success', `s3://mlflow-bucket/1/models/${src.model_id}/artifacts`],
    ]);
    expect(new Set(hashes.map((e) => e.ml?.model?.sha256)).size).toBe(1);
    // The copy's files overwritten in the bucket: the approved copy is a mismatch.
    h.fake.setLoggedModelFile(src.model_id!, 'model.pkl', 'weights-v1-backdoored');
    h.clock.now += 601_000;
    expect(await a.runOnce()).toBe(true);
    expect(all().filter((e) => e.action === 'model_version.hash_mismatch').map((e) => e.resource?.id)).toEqual(['fraud-prod/1']);
  });

  it('copied from a version since deleted: a failed hash_registered saying so', async () => {
    h.fake.addModel('fraud-prod', T0);
    h.fake.addRun('r1', { user: 'alice' });
    h.fake.versions.push({ name: 'fraud-prod', version: '1', creation_timestamp: T0 + 20, last_updated_timestamp: T0 + 20, user_id: 'alice', current_stage: 'None', source: 'models:/fraud-staging/1', run_id: 'r1', status: 'READY', tags: {} });
    expect(await auditor().runOnce()).toBe(true);
    const hash = all().find((e) => e.action === 'model_version.hash_registered')!;
    expect([hash.outcome, hash.error?.message]).toEqual(['failure', expect.stringContaining('copied from fraud-staging version 1, which no longer exists')]);
  });
});
