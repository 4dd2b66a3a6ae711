import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig, createRuleEngine } from '../../../core/rules/engine.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import type { Alert } from '../../../core/schema/index.js';
import { T0, actors, at, ev, type Draft } from '../../rules/events.js';

const rules = RulesConfig.parse({});

describe('training.unverified_dependency names the job, by family', () => {
  const img = 'ghcr.io/acme/trainer:1.4';
  it('a Katib experiment is named by its name (not "create experiments"), and each run of a recurring pipeline is one finding', () => {
    const katib = ev({ id: 'k1', time: at(T0), platform: 'kubeflow', stage: 'training', action: 'training_job.create', operation: 'create experiments', actor: actors.aliceMlflow, resource: { type: 'experiments', name: 'churn-hpo', namespace: 'kubeflow-user-alice' }, ml: { job: { image: img } } });
    const nightly = [16, 17, 18].map((d) => ev({ id: `n${d}`, time: at(T0 + (d - 16) * 3_600_000), platform: 'kubeflow', stage: 'training', action: 'training_job.create', actor: actors.aliceMlflow, resource: { type: 'pipeline_run', name: `churn-nightly-${d}` }, ml: { job: { name: `churn-nightly-${d}`, image: img } } }));
    const alerts = replayEvents([katib, ...nightly], { rules }).alerts.filter((a) => a.rule_id === 'training.unverified_dependency');
    expect(alerts.map((a) => [a.entity.id, a.details?.job])).toEqual([['churn-hpo', 'churn-hpo'], ['churn-nightly', 'churn-nightly-16']]);
  });
});

describe('rule kinds on facts some platforms carry', () => {
  it('unverified_dependency checks every image of a job that runs several (a tuning job with several definitions)', () => {
    const pinned = (repo: string) => `111122223333.dkr.ecr.us-east-1.amazonaws.com/${repo}@sha256:${'a'.repeat(64)}`;
    const tuning = (id: string, images: string[]) =>
      ev({
        id,
        time: at(T0),
        platform: 'sagemaker',
        stage: 'training',
        action: 'tuning_job.create',
        actor: actors.ci,
        resource: { type: 'hyper_parameter_tuning_job', name: id },
        ml: { job: { name: id, type: 'tuning', image: images[0], image_pinned: true, images, network_isolation: true, vpc: true } },
      });
    const clean = tuning('hp-clean', [pinned('a'), pinned('b')]);
    const foreign = tuning('hp-foreign', [pinned('a'), `docker.io/library/python@sha256:${'b'.repeat(64)}`]);
    const { alerts } = replayEvents([clean, foreign], { rules });
    const dep = alerts.filter((a) => a.rule_id === 'training.unverified_dependency');
    expect(dep.map((a) => a.entity.id)).toEqual(['hp-foreign']);
    expect(dep[0]!.summary).toMatch(/registry docker\.io is not on the allow list/);
  });

  it('unverified_dependency blames only the images that fail, not a pinned first image of a multi-image job', () => {
    const pinnedGcr = `gcr.io/p/a@sha256:${'c'.repeat(64)}`;
    const job = ev({ id: 'multi', time: at(T0), platform: 'vertex', stage: 'training', action: 'training_job.create', actor: actors.ci, resource: { type: 'custom_job', name: 'multi' }, ml: { job: { name: 'multi', image: pinnedGcr, image_digest: `sha256:${'c'.repeat(64)}`, image_pinned: false, images: [pinnedGcr, 'docker.io/evil/miner:latest'] } } });
    const dep = replayEvents([job], { rules: RulesConfig.parse({ 'training.unverified_dependency': { allowed_registries: ['gcr.io', '*.pkg.dev'] } }) }).alerts.filter((a) => a.rule_id === 'training.unverified_dependency');
    expect(dep).toHaveLength(1);
    expect(dep[0]!.summary).not.toContain(`${pinnedGcr} is not pinned`);
    expect(dep[0]!.summary).toMatch(/image docker\.io\/evil\/miner:latest is not pinned by digest; registry docker\.io is not on the allow list/);
    expect(dep[0]!.details.image).toBe('docker.io/evil/miner:latest');
  });

  it('a version evaluated on one platform before another registers it is linked once registered (order does not matter)', () => {
    const evaluation = ev({ id: 'x-eval', time: at(T0), platform: 'vertex', stage: 'evaluation', action: 'evaluation.metrics', actor: actors.aliceGcp, ml: { model: { name: 'sa', version: '4' }, metrics: { accuracy: 0.9, adv_robust_accuracy: 0.9 } } });
    const create = ev({ id: 'x-create', time: at(T0 + 1_800_000), platform: 'mlflow', stage: 'registry', action: 'model_version.create', actor: actors.ci, resource: { type: 'model_version', name: 'sa', version: '4' }, ml: { model: { name: 'sa', version: '4' } } });
    const approve = ev({ id: 'x-approve', time: at(T0 + 3_600_000), platform: 'mlflow', stage: 'registry', action: 'model_version.alias_set', actor: actors.aliceMlflow, resource: { type: 'model_version', name: 'sa', version: '4' }, ml: { model: { name: 'sa', version: '4', aliases: ['champion'] } }, details: { alias: 'champion' } });
    const { alerts } = replayEvents([evaluation, create, approve], { rules });
    expect(alerts.map((a) => [a.rule_id, a.entity.id, a.entity.platform, a.evidence])).toEqual([['evaluation.self_approval', 'sa/4', 'mlflow', ['x-eval', 'x-approve']]]);
    // The same approval when the registry saw the version before the evaluation: the same alert.
    const again = replayEvents([{ ...create, time: at(T0 - 1_800_000) }, evaluation, approve], { rules }).alerts;
    expect(again.map((a) => a.id)).toEqual(alerts.map((a) => a.id));
  });

  it('registry.approved_model_modified: a generic resource.tag_set / tag_delete naming an approved version', () => {
    const model = { name: 'fraud', version: '1' };
    const approve = ev({ id: 't-approve', time: at(T0), platform: 'sagemaker', stage: 'registry', action: 'model_version.approve', actor: actors.bob, ml: { model: { ...model, approval: 'approved' } } });
    const tag = ev({ id: 't-tag', time: at(T0 + 3_600_000), platform: 'sagemaker', stage: 'platform', action: 'resource.tag_set', actor: actors.mallory, resource: { type: 'model_package', name: 'fraud', version: '1' }, ml: { model: { ...model, tags: { owner: 'mallory' } } } });
    const untag = ev({ id: 't-untag', time: at(T0 + 7_200_000), platform: 'sagemaker', stage: 'platform', action: 'resource.tag_delete', actor: actors.mallory, resource: { type: 'model_package', name: 'fraud', version: '1' }, ml: { model }, details: { tag_keys: ['reviewed_by'] } });
    const ours = ev({ id: 't-ours', time: at(T0 + 10_800_000), platform: 'sagemaker', stage: 'platform', action: 'resource.tag_set', actor: actors.ci, resource: { type: 'model_package', name: 'fraud', version: '1' }, ml: { model: { ...model, tags: { 'mltrail.sha256': 'abc' } } } });
    const mod = replayEvents([approve, tag, untag, ours], { rules }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(mod.map((a) => [a.entity.id, a.evidence, a.details.tags])).toEqual([
      ['fraud/1', ['t-approve', 't-tag'], ['owner']],
      ['fraud/1', ['t-approve', 't-untag'], ['reviewed_by']],
    ]);
  });

  it('unverified_dependency: Argo workflows created by generateName in two tenants are two entities (one is not suppressed by the other); a dry run counts for nothing', () => {
    const wf = (id: string, ns: string, h: number, details?: Record<string, unknown>) =>
      ev({ id, time: at(T0 + h * 3600_000), platform: 'kubeflow', stage: 'training', action: 'pipeline_run.create', operation: 'create workflows', resource: { type: 'workflows', namespace: ns }, ml: { job: { image: 'python:3.9', images: ['python:3.9'], image_pinned: false } }, details });
    const alerts = (evs: ReturnType<typeof ev>[]) => replayEvents(evs, { rules }).alerts.filter((a) => a.rule_id === 'training.unverified_dependency');
    expect(alerts([wf('a', 'kubeflow-user-alice', 0), wf('b', 'kubeflow-user-bob', 1)]).map((a) => a.entity.id)).toEqual(['kubeflow-user-alice/workflows', 'kubeflow-user-bob/workflows']);
    expect(alerts([wf('d', 'kubeflow-user-alice', 0, { dry_run: true })])).toEqual([]);
  });

  it('unapproved_deployment: an approval alias set at an upload whose version is not known yet covers a deploy of that alias, and only that alias', () => {
    const M = 'projects/p/locations/us-central1/models/55';
    const upload = ev({ id: 'up', time: at(T0), platform: 'vertex', stage: 'registry', action: 'model_version.create', operation: 'google.cloud.aiplatform.v1.ModelService.UploadModel', actor: actors.aliceGcp, resource: { type: 'model', id: M }, ml: { model: { name: M, aliases: ['production'], approval: 'approved', artifact_uri: 'gs://models/m/v3/' } } });
    const deploy = (id: string, alias: string, h: number) =>
      ev({ id, time: at(T0 + h * 3600_000), platform: 'vertex', stage: 'serving', action: 'endpoint.deploy', operation: 'google.cloud.aiplatform.v1.EndpointService.DeployModel', actor: actors.ci, resource: { type: 'endpoint', id: 'projects/p/locations/us-central1/endpoints/77' }, ml: { model: { name: M, aliases: [alias] }, deployment: { endpoint: 'projects/p/locations/us-central1/endpoints/77', model_uri: `${M}@${alias}` } } });
    const alerts = (evs: ReturnType<typeof ev>[]) => replayEvents(evs, { rules }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect(alerts([upload, deploy('d1', 'production', 1)])).toEqual([]);
    // An upload that sets an approval alias (rules.approval.aliases) approves, whether or not the connector marked it.
    expect(alerts([{ ...upload, ml: { model: { name: M, aliases: ['production'] } } }, deploy('d3', 'production', 1)])).toEqual([]);
    // Near misses: another alias, and no approval at all.
    expect(alerts([upload, deploy('d2', 'staging', 1)])).toHaveLength(1);
    expect(alerts([{ ...upload, ml: { model: { name: M, aliases: ['staging'] } } }, deploy('d3', 'staging', 1)])).toHaveLength(1);
    // @default (Vertex gives the first version that alias without logging it) is the newest known version, as no version is.
    const v1 = ev({ id: 'v1', time: at(T0), platform: 'vertex', stage: 'registry', action: 'model_version.create', actor: actors.aliceGcp, resource: { type: 'model', id: M }, ml: { model: { name: M, version: '1' } } });
    const approve1 = ev({ id: 'a1', time: at(T0 + 1000), platform: 'vertex', stage: 'registry', action: 'model_version.alias_set', actor: actors.aliceGcp, resource: { type: 'model', id: M }, ml: { model: { name: M, version: '1', aliases: ['production'] } } });
    expect(alerts([v1, approve1, deploy('d4', 'default', 1)])).toEqual([]);
    expect(alerts([v1, deploy('d5', 'default', 1)])).toHaveLength(1);
  });

  it('approved_model_modified: a second, different change within the suppression period is its own finding; the same change again is a repeat', () => {
    const approve = ev({ id: 'ap', time: at(T0), platform: 'mlflow', stage: 'registry', action: 'model_version.alias_set', ml: { model: { name: 'm', version: '1', aliases: ['champion'] } } });
    const tag = (id: string, key: string, value: string, min: number) =>
      ev({ id, time: at(T0 + min * 60_000), platform: 'mlflow', stage: 'registry', action: 'model_version.tag_set', ml: { model: { name: 'm', version: '1', tags: { [key]: value } } }, details: { tag: { key, value } } });
    // A harmless-looking note, then the decision threshold ten minutes later: the second was hidden behind the first.
    const mod = replayEvents([approve, tag('t1', 'notes', 'retrained', 120), tag('t2', 'decision_threshold', '0.99', 130), tag('t3', 'notes', 'again', 140)], { rules }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(mod.map((a) => [a.evidence.at(-1), a.details.tag])).toEqual([
      ['t1', { key: 'notes', value: 'retrained' }],
      ['t2', { key: 'decision_threshold', value: '0.99' }],
    ]);
  });

  it('approved_model_modified: ignore_tags adds to the mltrail.* exception instead of replacing it', () => {
    const approve = ev({ id: 'ap', time: at(T0), platform: 'mlflow', stage: 'registry', action: 'model_version.alias_set', ml: { model: { name: 'm', version: '1', aliases: ['champion'] } } });
    const tag = (id: string, key: string, h: number) => ev({ id, time: at(T0 + h * 3600_000), platform: 'mlflow', stage: 'registry', action: 'model_version.tag_set', ml: { model: { name: 'm', version: '1', tags: { [key]: 'x' } } } });
    const cfg = RulesConfig.parse({ 'registry.approved_model_modified': { ignore_tags: ['notes'] } });
    const mod = replayEvents([approve, tag('t1', 'mltrail.sha256', 1), tag('t2', 'notes', 2), tag('t3', 'owner', 3)], { rules: cfg }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(mod.map((a) => a.evidence.at(-1))).toEqual(['t3']);
  });

  it('approved_model_modified: adversarial evidence tagged within the hour after the approval is what adversarial_failure waits for, not a change; later, again, or with other keys it is', () => {
    const approve = ev({ id: 'ap', time: at(T0), platform: 'mlflow', stage: 'registry', action: 'model_version.alias_set', ml: { model: { name: 'm', version: '1', aliases: ['champion'] } } });
    const tag = (id: string, tags: Record<string, string>, min: number) => ev({ id, time: at(T0 + min * 60_000), platform: 'mlflow', stage: 'registry', action: 'model_version.tag_set', ml: { model: { name: 'm', version: '1', tags } } });
    const modified = (...evs: ReturnType<typeof ev>[]) => replayEvents([approve, ...evs], { rules }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified').map((a) => a.evidence.at(-1));
    const all = (...evs: ReturnType<typeof ev>[]) => replayEvents([approve, ...evs], { rules }).alerts.map((a) => a.rule_id);
    // The documented workflow: the score arrives 17 minutes after the approval. Nothing at all is raised.
    expect(all(tag('t1', { adversarial_robustness: '0.91' }, 17))).toEqual([]);
    // The same key set again (a score rewritten), a tag after the hour, another key alongside: changes.
    expect(modified(tag('t1', { adversarial_robustness: '0.91' }, 17), tag('t2', { adversarial_robustness: '0.95' }, 30))).toEqual(['t2']);
    expect(modified(tag('t3', { adv_pgd_accuracy: '0.8' }, 61))).toEqual(['t3']);
    expect(modified(tag('t4', { adv_pgd_accuracy: '0.8', owner: 'mallory' }, 5))).toEqual(['t4']);
    // The same tag reported twice — MLflow's webhook at once, the registry auditor at its next poll (even past the
    // hour) — is one evaluation, not a rewrite; a different value after it still is.
    expect(all(tag('t6', { adversarial_robustness: '0.91' }, 17), tag('t7', { adversarial_robustness: '0.91' }, 20), tag('t8', { adversarial_robustness: '0.91' }, 70))).toEqual([]);
    expect(modified(tag('t6', { adversarial_robustness: '0.91' }, 17), tag('t7', { adversarial_robustness: '0.91' }, 20), tag('t9', { adversarial_robustness: '0.97' }, 25))).toEqual(['t9']);
    // Configured prefixes of the adversarial rule are the ones excepted.
    const own = RulesConfig.parse({ 'evaluation.adversarial_failure': { prefixes: ['robust_'] } });
    expect(replayEvents([approve, tag('t5', { robust_acc: '0.9' }, 5)], { rules: own }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified')).toEqual([]);
  });

  it('score_drop is not evaded by re-casing or renaming a metric, and never compares train with test accuracy', () => {
    const evalOf = (id: string, version: string, metrics: Record<string, number>, hour: number) =>
      ev({ id, time: at(T0 + hour * 3600_000), platform: 'kubeflow', stage: 'evaluation', action: 'evaluation.metrics', operation: 'evaluate', outcome: 'success', ml: { model: { name: 'churn', version }, metrics } });
    const drops = (second: Record<string, number>, first: Record<string, number> = { accuracy: 0.9 }) =>
      replayEvents([evalOf('v1', '1', first, 0), evalOf('v2', '2', second, 1)], { rules }).alerts.filter((a) => a.rule_id === 'evaluation.score_drop');
    expect(drops({ Accuracy: 0.85 }).map((a) => [a.entity.id, a.details.metric, a.details.baseline])).toEqual([['churn/2', 'Accuracy', 0.9]]);
    expect(drops({ test_accuracy: 0.85 }).map((a) => [a.details.metric, a.details.baseline_metric])).toEqual([['test_accuracy', 'accuracy']]);
    expect(drops({ 'Test-Accuracy': 0.85 }, { test_accuracy: 0.9 })).toHaveLength(1);
    // Near misses: no drop; and two metrics of one kind are never paired by guess.
    expect(drops({ ACCURACY: 0.9 })).toEqual([]);
    expect(drops({ test_accuracy: 0.9, train_accuracy: 0.99 }, { train_accuracy: 0.99, validation_accuracy: 0.91 })).toEqual([]);
    // One metric on each side, but measured on other data: training accuracy is no baseline for test accuracy.
    expect(drops({ test_accuracy: 0.91 }, { train_accuracy: 0.99 })).toEqual([]);
    expect(drops({ train_accuracy: 0.91 }, { accuracy: 0.99 })).toEqual([]);
    expect(drops({ val_accuracy: 0.8 }, { test_accuracy: 0.9 })).toHaveLength(1);
  });

  it('score_drop compares a version only evaluated on one platform with the champion registered on another', () => {
    const evaluation = (id: string, hours: number, version: string, accuracy: number) =>
      ev({ id, time: at(T0 + hours * 3_600_000), platform: 'kubeflow', stage: 'evaluation', action: 'evaluation.metrics', actor: actors.kfRunner, ml: { model: { name: 'ch', version }, metrics: { accuracy, adv_robust_accuracy: 0.9 } } });
    const champion = ev({ id: 'c-champion', time: at(T0 + 1_800_000), platform: 'mlflow', stage: 'registry', action: 'model_version.alias_set', actor: actors.bobMlflow, resource: { type: 'model_version', name: 'ch', version: '1' }, ml: { model: { name: 'ch', version: '1', aliases: ['champion'] } }, details: { alias: 'champion' } });
    const events = [evaluation('c-v1', 0, '1', 0.95), champion, evaluation('c-v2', 1, '2', 0.94), evaluation('c-v3', 2, '3', 0.925)];
    const { alerts } = replayEvents(events, { rules });
    expect(alerts.map((a) => [a.rule_id, a.entity.id, a.entity.platform, a.evidence, a.details.compared_with])).toEqual([['evaluation.score_drop', 'ch/3', 'mlflow', ['c-v1', 'c-v3'], 'champion']]);
  });

  it('a renamed MLflow model keeps what is known of its versions: approved_model_modified and hash_mismatch still judge them, also across a name swap', () => {
    const A = 'a'.repeat(64);
    const B = 'b'.repeat(64);
    const C = 'c'.repeat(64);
    let n = 0;
    const at2 = () => at(T0 + ++n * 60_000);
    const mlflow = (id: string, action: string, model: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      ev({ id, time: at2(), platform: 'mlflow', stage: 'registry', action, actor: actors.ci, resource: { type: 'model_version', name: model.name as string, version: model.version as string }, ml: { model }, ...extra });
    const rename = (id: string, from: string, to: string) =>
      ev({ id, time: at2(), platform: 'mlflow', stage: 'registry', action: 'registered_model.rename', actor: actors.ci, resource: { type: 'registered_model', id: to, name: to }, details: { old_name: from, new_name: to } });
    const setup = (name: string, sha: string) => [
      mlflow(`${name}-create`, 'model_version.create', { name, version: '1', tags: { adv_verdict: 'passed' } }),
      mlflow(`${name}-hash`, 'model_version.hash_registered', { name, version: '1', sha256: sha }),
      mlflow(`${name}-approve`, 'model_version.approve', { name, version: '1', approval: 'approved', aliases: ['champion'] }),
    ];
    // A plain rename: the renamed version is still approved, so editing it is flagged.
    const plain = [...setup('r', A), rename('r-ren', 'r', 'r2'), mlflow('r2-edit', 'model_version.description_change', { name: 'r2', version: '1' }, { details: { field: 'description' } })];
    const mod = replayEvents(plain, { rules }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(mod.map((a) => a.entity.id)).toEqual(['r2/1']);
    // A swap p <-> q (two renames in a row, in either order): each keeps its own registered digest.
    for (const order of [['p', 'q'], ['q', 'p']]) {
      n = 0;
      const [x, y] = order as [string, string];
      const swap = [...setup('p', A), ...setup('q', B), rename(`ren-${x}`, x, y), rename(`ren-${y}`, y, x)];
      // The model that was p is now q; its files are tampered: observed C, registered A.
      const tampered = ev({ id: `mm-${x}`, time: at2(), platform: 'mlflow', stage: 'serving', action: 'model_version.hash_mismatch', outcome: 'failure', actor: actors.ci, ml: { model: { name: 'q', version: '1', sha256: C } }, details: { expected_sha256: A, observed_sha256: C } });
      const hm = replayEvents([...swap, tampered], { rules }).alerts.filter((a) => a.rule_id === 'serving.hash_mismatch');
      expect(hm.map((a) => [a.entity.id, a.details.registered_sha256, a.details.observed_sha256])).toEqual([['q/1', A, C]]);
    }
  });

  it('approved_model_modified names the tag that changed, not every tag the version carries', () => {
    const model = { name: 'tg', version: '1' };
    const all = { adversarial_verdict: 'passed', note: 'x' };
    const mk = (id: string, mins: number, action: string, extra: Record<string, unknown>) =>
      ev({ id, time: at(T0 + mins * 60_000), platform: 'mlflow', stage: 'registry', action, actor: actors.mallory, resource: { type: 'model_version', name: 'tg', version: '1' }, ...extra });
    const events = [
      mk('tg-approve', 0, 'model_version.approve', { ml: { model: { ...model, approval: 'approved', tags: all } } }),
      mk('tg-tag', 1, 'model_version.tag_set', { ml: { model: { ...model, tags: all } }, details: { tag: { key: 'note', value: 'x' } } }),
      mk('tg-desc', 2, 'model_version.description_change', { ml: { model: { ...model, tags: all } }, details: { field: 'description' } }),
    ];
    const mod = replayEvents(events, { rules }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(mod.map((a) => [a.details.change, a.details.tags])).toEqual([['tag_set', ['note']], ['description_change', undefined]]);
    expect(mod[1]!.summary).toMatch(/changed \(description_change\) by/);
  });
});

describe('preprocessing.distribution_shift on a SageMaker Model Monitor violation', () => {
  it('names the feature, the check and the monitor\'s text, and keeps two endpoints apart', () => {
    const violation = (id: string, endpoint: string, feature: string) =>
      ev({
        id, time: at(T0), platform: 'sagemaker', stage: 'serving', action: 'monitor.violation', operation: 'ModelMonitor.baseline_drift_check', service: 'sagemaker.amazonaws.com', outcome: 'success',
        actor: { type: 'service', name: 'sagemaker-model-monitor' }, resource: { type: 'monitoring_execution', id: `s3://mon/${endpoint}/dq/2026/03/02/10/constraint_violations.json`, name: `${endpoint}-dq` },
        ml: { deployment: { endpoint } }, details: { monitoring_type: 'DataQuality', constraint_check_type: 'baseline_drift_check', feature_name: feature, description: 'Baseline drift distance: 0.42 exceeds threshold: 0.1' },
      });
    const alerts = replayEvents([violation('v1', 'fraud-prod', 'amount'), violation('v2', 'churn-prod', 'amount')], { rules }).alerts.filter((a) => a.rule_id === 'preprocessing.distribution_shift');
    expect(alerts.map((a) => a.entity.id)).toEqual(['fraud-prod', 'churn-prod']);
    expect(alerts[0]!.summary).toBe('fraud-prod-dq reported a violation (baseline_drift_check on feature amount) on fraud-prod: Baseline drift distance: 0.42 exceeds threshold: 0.1');
    expect(alerts[0]!.details).toMatchObject({ feature: 'amount', check: 'baseline_drift_check', monitor: 'fraud-prod-dq' });
  });
});

describe('evaluation.score_drop on Vertex AI evaluation metric names', () => {
  it('compares auRoc and rootMeanSquaredError as the catalogue metrics they are', () => {
    const evaluation = (id: string, version: string, metrics: Record<string, number>) =>
      ev({ id, time: at(T0 + Number(version) * 3_600_000), platform: 'vertex', stage: 'evaluation', action: 'evaluation.import', operation: 'google.cloud.aiplatform.v1.ModelService.ImportModelEvaluation', outcome: 'success', actor: actors.bob, ml: { model: { name: 'projects/p/locations/us-central1/models/9', version }, metrics } });
    const alerts = replayEvents([evaluation('e1', '1', { auRoc: 0.93, rootMeanSquaredError: 1.0 }), evaluation('e2', '2', { auRoc: 0.71, rootMeanSquaredError: 1.6 })], { rules }).alerts.filter((a) => a.rule_id === 'evaluation.score_drop');
    expect(alerts.map((a) => a.details?.metric).sort()).toEqual(['auRoc', 'rootMeanSquaredError']);
  });
});

describe('evaluation.score_drop on the metric names mlflow.evaluate and scikit-learn log', () => {
  // MLflow's built-in classifier and regressor evaluators log `accuracy_score`, `recall_score`, `precision_score`,
  // `f1_score`, `roc_auc`, `log_loss` and `mean_absolute_error`, `mean_squared_error`, `root_mean_squared_error`,
  // `r2_score`, `mean_absolute_percentage_error` (beside `example_count`, `max_error`…): as the MLflow auditor's
  // `runs/get` evaluation event carries them.
  const evaluation = (id: string, version: string, metrics: Record<string, number>) =>
    ev({ id, time: at(T0 + Number(version) * 3_600_000), platform: 'mlflow', channel: 'mlflow.audit', stage: 'evaluation', action: 'evaluation.metrics', operation: 'runs/get', outcome: 'success', actor: actors.bob, resource: { type: 'model_version', id: `fraud/${version}`, name: 'fraud' }, ml: { model: { name: 'fraud', version, run_id: `run${version}` }, metrics, provenance: { run_id: `run${version}` } } });
  const drops = (first: Record<string, number>, second: Record<string, number>, cfg = rules) =>
    replayEvents([evaluation('e1', '1', first), evaluation('e2', '2', second)], { rules: cfg }).alerts.filter((a) => a.rule_id === 'evaluation.score_drop');
  const classifier = { example_count: 1000, accuracy_score: 0.95, recall_score: 0.9, precision_score: 0.91, f1_score: 0.9, roc_auc: 0.97, log_loss: 0.2 };
  const regressor = { example_count: 500, mean_absolute_error: 1.0, mean_squared_error: 2.0, root_mean_squared_error: 1.41, r2_score: 0.9, max_error: 5, mean_absolute_percentage_error: 0.1 };

  it('a classifier whose accuracy_score, recall_score and precision_score fell is a drop of each', () => {
    const alerts = drops(classifier, { ...classifier, accuracy_score: 0.7, recall_score: 0.5, precision_score: 0.6 });
    expect(alerts.map((a) => [a.entity.id, a.details.metric, a.details.baseline]).sort()).toEqual([['fraud/2', 'accuracy_score', 0.95], ['fraud/2', 'precision_score', 0.91], ['fraud/2', 'recall_score', 0.9]]);
    expect(alerts.find((a) => a.details.metric === 'accuracy_score')!.summary).toBe('fraud v2 accuracy_score=0.7 is 26.3% worse than the previous version v1 (0.95)');
  });

  it("a regressor's long-named errors rising and r2_score falling are drops; max_error and example_count are no metric", () => {
    const alerts = drops(regressor, { example_count: 10, mean_absolute_error: 3, mean_squared_error: 9, root_mean_squared_error: 3, r2_score: 0.5, max_error: 50, mean_absolute_percentage_error: 0.4 });
    expect(alerts.map((a) => a.details.metric).sort()).toEqual(['mean_absolute_error', 'mean_absolute_percentage_error', 'mean_squared_error', 'r2_score', 'root_mean_squared_error']);
  });

  it('improvement and noise within the threshold raise nothing', () => {
    expect(drops(classifier, { ...classifier, accuracy_score: 0.96, recall_score: 0.89, log_loss: 0.18 })).toEqual([]);
    expect(drops(regressor, { ...regressor, mean_absolute_error: 0.9, root_mean_squared_error: 1.42, r2_score: 0.95, max_error: 9 })).toEqual([]);
  });

  it('switching from hand-logged names to the evaluator (accuracy → accuracy_score, rmse → root_mean_squared_error) does not hide a drop', () => {
    expect(drops({ accuracy: 0.95 }, { accuracy_score: 0.8 }).map((a) => [a.details.metric, a.details.baseline_metric])).toEqual([['accuracy_score', 'accuracy']]);
    expect(drops({ val_rmse: 1.0 }, { val_root_mean_squared_error: 1.5 }).map((a) => [a.details.metric, a.details.baseline_metric])).toEqual([['val_root_mean_squared_error', 'val_rmse']]);
    // A `metric_prefix` of the evaluator keeps the split: training accuracy is still no baseline for held-out accuracy.
    expect(drops({ train_accuracy_score: 0.99 }, { val_accuracy_score: 0.9 })).toEqual([]);
  });

  it("scikit-learn's negated scorers (neg_mean_squared_error, neg_log_loss) are higher-is-better and paired with the loss they negate only with its sign flipped", () => {
    // From -2.0 to -1.0 is an improvement; to -3.0 a drop.
    expect(drops({ neg_mean_squared_error: -2.0, neg_log_loss: -0.3 }, { neg_mean_squared_error: -1.0, neg_log_loss: -0.2 })).toEqual([]);
    expect(drops({ neg_mean_squared_error: -2.0, neg_log_loss: -0.3 }, { neg_mean_squared_error: -3.0, neg_log_loss: -0.5 }).map((a) => a.details.metric).sort()).toEqual(['neg_log_loss', 'neg_mean_squared_error']);
    // Paired with the loss they negate only with the sign flipped: mse 2.0 then neg_mean_squared_error -2.5 is a loss of 2.5, 25% worse.
    expect(drops({ mse: 2.0 }, { neg_mean_squared_error: -2.5 }).map((a) => [a.details.metric, a.details.baseline, a.details.worse_by])).toEqual([['neg_mean_squared_error', -2, 0.25]]);
    expect(drops({ mse: 2.0 }, { neg_mean_squared_error: -1.9 })).toEqual([]);
    expect(drops({ cv_neg_rmse: -1.2 }, { cv_neg_rmse: -1.1 })).toEqual([]);
  });

  it('a threshold keyed by the long name applies, and a bare `score` names no metric', () => {
    const own = RulesConfig.parse({ 'evaluation.score_drop': { thresholds: { root_mean_squared_error: 0.5 } } });
    expect(drops(regressor, { ...regressor, root_mean_squared_error: 2.0 }, own).map((a) => a.details.metric)).toEqual([]);
    expect(drops(regressor, { ...regressor, root_mean_squared_error: 2.2 }, own).map((a) => a.details.metric)).toEqual(['root_mean_squared_error']);
    expect(drops({ score: 0.9, anomaly_score: 0.9 }, { score: 0.1, anomaly_score: 0.1 })).toEqual([]);
  });

  it('f1 renamed to the evaluator\'s f1_score (eval_f1 → test_f1_score), and a loss renamed to its neg_ scorer, are still compared', () => {
    expect(drops({ eval_f1: 0.9 }, { test_f1_score: 0.6 }).map((a) => [a.details.metric, a.details.baseline_metric])).toEqual([['test_f1_score', 'eval_f1']]);
    expect(drops({ f1_score: 0.9 }, { val_f1: 0.6 }).map((a) => [a.details.metric, a.details.baseline_metric])).toEqual([['val_f1', 'f1_score']]);
    // Improving runs and the other prefixes the brief names stay quiet / compared as before.
    expect(drops({ eval_f1: 0.8 }, { test_f1_score: 0.85 })).toEqual([]);
    expect(drops({ eval_accuracy: 0.95 }, { 'val/accuracy': 0.7 }).map((a) => a.details.metric)).toEqual(['val/accuracy']);
    // A loss switched to scikit-learn's negated scorer (`log_loss` 0.2 → `neg_log_loss` -0.5 is a loss of 0.5) is compared with its sign flipped.
    const [neg, ...more] = drops({ log_loss: 0.2 }, { neg_log_loss: -0.5 });
    expect(more).toEqual([]);
    expect(neg).toMatchObject({ details: { metric: 'neg_log_loss', baseline_metric: 'log_loss', baseline: -0.2, baseline_negated: true } });
    expect(neg!.summary).toBe('fraud v2 neg_log_loss=-0.5 is 150.0% worse than the previous version v1 (log_loss=0.2, negated -0.2)');
    expect(drops({ neg_mean_squared_error: -2.0 }, { mean_squared_error: 3.0 }).map((a) => a.details.metric)).toEqual(['mean_squared_error']);
    // Improving across the switch, and both spellings logged on one side (no guess), stay quiet.
    expect(drops({ log_loss: 0.2 }, { neg_log_loss: -0.15 })).toEqual([]);
    expect(drops({ log_loss: 0.2, neg_log_loss: -0.2 }, { neg_log_loss: -0.15 })).toEqual([]);
  });
});

describe('MLflow auditor baseline: a version approved before mltrail watched', () => {
  const base = (id: string, min: number, d: Partial<Draft> & Pick<Draft, 'action'>) => ev({ id, time: at(T0 + min * 60_000), platform: 'mlflow', channel: 'mlflow.audit', stage: 'registry', ...d });
  const created = base('c4', 0, { action: 'model_version.create', operation: 'model-versions/search', actor: { name: 'alice@corp.example', type: 'user' }, resource: { type: 'model_version', name: 'credit', version: '4' }, ml: { model: { name: 'credit', version: '4', artifact_uri: 'mlflow-artifacts:/9/runC4/artifacts/model' } } });
  const approved = base('b4', 1, { action: 'model_version.approve', operation: 'registered-models/get', actor: { type: 'unknown' }, resource: { type: 'model_version', name: 'credit', version: '4' }, ml: { model: { name: 'credit', version: '4', aliases: ['production'], approval: 'approved' } }, details: { baseline: true, approval_markers: ['alias:production'] } });
  const deploy = (uri: string) => ev({ id: `d-${uri}`, time: at(T0 + 3_600_000), platform: 'kubeflow', stage: 'serving', action: 'endpoint.deploy', operation: 'create', actor: actors.bob, resource: { type: 'inferenceservice', name: 'credit' }, ml: { deployment: { endpoint: 'ml/credit', model_uri: uri } } });
  const fired = (events: ReturnType<typeof ev>[], cfg = rules) => replayEvents(events, { rules: cfg }).alerts.map((a) => a.rule_id);
  it('is approved for a rollout of its mlflow-artifacts:/ location, also through a mirror, and raises nothing at install', () => {
    expect(fired([created, approved, deploy('mlflow-artifacts:/9/runC4/artifacts/model')])).toEqual([]);
    const mirrored = RulesConfig.parse({ artifact_mirrors: [{ from: 'mlflow-artifacts:/', to: 's3://mlflow/' }] });
    expect(fired([created, approved, deploy('s3://mlflow/9/runC4/artifacts/model')], mirrored)).toEqual([]);
    // Near miss: another run's artifact is not approved.
    expect(fired([created, approved, deploy('mlflow-artifacts:/9/runEvil/artifacts/model')])).toEqual(['registry.unapproved_deployment']);
    // The same approval made now (not the baseline) without adversarial evidence is the documented alert.
    const now = { ...approved, id: 'n4', details: {} } as typeof approved;
    expect(fired([created, now])).toContain('evaluation.adversarial_failure');
  });
});

describe('a KServe deployment naming an MLflow model by registry or run URI', () => {
  const mlflow = (id: string, min: number, d: Partial<Draft> & Pick<Draft, 'action'>) => ev({ id, time: at(T0 + min * 60_000), platform: 'mlflow', stage: 'registry', ...d });
  const created = mlflow('c5', 0, { action: 'model_version.create', operation: 'model_version.created', actor: actors.aliceMlflow, resource: { type: 'model_version', name: 'tabnet', version: '5' }, ml: { model: { name: 'tabnet', version: '5', run_id: 'abc123', artifact_uri: 'mlflow-artifacts:/1/abc123/artifacts/model', tags: { adv_verdict: 'passed' } } } });
  const approved = mlflow('a5', 5, { action: 'model_version.alias_set', operation: 'model_version_alias.created', actor: actors.bob, resource: { type: 'model_version', name: 'tabnet', version: '5' }, ml: { model: { name: 'tabnet', version: '5', aliases: ['champion'] } }, details: { alias: 'champion' } });
  const deploy = (uri: string) => ev({ id: `d-${uri}`, time: at(T0 + 3_600_000), platform: 'kubeflow', stage: 'serving', action: 'endpoint.deploy', operation: 'create', actor: actors.bob, resource: { type: 'inferenceservice', name: 'tabnet' }, ml: { deployment: { endpoint: 'team-a/tabnet', model_uri: uri } } });
  const unapproved = (uri: string) => replayEvents([created, approved, deploy(uri)], { rules }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment').length;
  it('resolves models:/name@alias and runs:/run/path to the approved version; other aliases and paths are not approved', () => {
    expect(unapproved('models:/tabnet@champion')).toBe(0);
    expect(unapproved('models:/tabnet/5')).toBe(0);
    expect(unapproved('runs:/abc123/model')).toBe(0);
    expect(unapproved('models:/tabnet@staging')).toBe(1);
    expect(unapproved('runs:/abc123/other')).toBe(1);
    expect(unapproved('runs:/abc123/../other/model')).toBe(1);
  });
});

describe('evaluation.adversarial_failure: an approval that arrives before its evaluation', () => {
  const mk = (id: string, min: number, d: Partial<Draft> & Pick<Draft, 'action'>) => ev({ id, time: at(T0 + min * 60_000), platform: 'mlflow', stage: 'registry', ...d });
  const created = mk('c7', 0, { action: 'model_version.create', operation: 'model_version.created', actor: actors.aliceMlflow, resource: { type: 'model_version', name: 'fraud', version: '7' }, ml: { model: { name: 'fraud', version: '7', run_id: 'r7', artifact_uri: 's3://m/fraud/7' } } });
  const approved = mk('a7', 1, { action: 'model_version.alias_set', operation: 'model_version_alias.created', actor: actors.bob, resource: { type: 'model_version', name: 'fraud', version: '7' }, ml: { model: { name: 'fraud', version: '7', aliases: ['champion'] } }, details: { alias: 'champion' } });
  // The auditor's poll reports the run's metrics a little later, dated at the run (before the approval).
  const metrics = { ...mk('m7', 0.5, { stage: 'evaluation', action: 'evaluation.metrics', operation: 'runs/get', actor: { type: 'service', name: 'mltrail-auditor' }, ml: { model: { name: 'fraud', version: '7', run_id: 'r7' }, metrics: { adv_robust_accuracy: 0.82 } } }) };
  const later = (id: string, min: number) => mk(id, min, { action: 'model.read', operation: 'registered_models/get', actor: actors.aliceMlflow, resource: { type: 'model', name: 'other' } });
  const served = (events: ReturnType<typeof ev>[]) => {
    const engine = createRuleEngine(rules, new MemoryStateStore());
    return [...events.flatMap((e) => engine.process(e)), ...engine.flush(events.at(-1)!.time)].filter((a) => a.rule_id === 'evaluation.adversarial_failure');
  };
  const replayed = (events: ReturnType<typeof ev>[]) => replayEvents(events, { rules }).alerts.filter((a) => a.rule_id === 'evaluation.adversarial_failure');
  it('evidence that comes after the approval (but is dated before it) counts: no alert, as in replay', () => {
    expect(served([created, approved, metrics, later('x', 90)])).toEqual([]);
    expect(replayed([created, approved, metrics])).toEqual([]);
  });
  it('an event dated years ahead neither judges the waiting approval early nor stops it being judged', () => {
    const future = { ...later('f', 0), time: '2030-01-01T00:00:00.000Z', received_time: at(T0 + 2 * 60_000) } as ReturnType<typeof ev>;
    // Without evidence: judged once the clock is an hour on, as without the far-future event (serve: no end-of-input flush).
    const engine = createRuleEngine(rules, new MemoryStateStore());
    const live = [created, approved, future, later('x', 120), later('y', 3000)].flatMap((e) => engine.process(e)).filter((a) => a.rule_id === 'evaluation.adversarial_failure');
    expect(live.map((a) => a.evidence)).toEqual([['a7']]);
    // With evidence 10 minutes after the approval: the far-future event did not judge it before.
    const tag = mk('t7', 10, { action: 'model_version.tag_set', operation: 'model_version_tag.created', actor: actors.aliceMlflow, resource: { type: 'model_version', name: 'fraud', version: '7' }, ml: { model: { name: 'fraud', version: '7', tags: { adv_robustness: '0.9' } } } });
    expect(served([created, approved, future, tag, later('x', 120)])).toEqual([]);
  });

  it('a backfill during live traffic: old records get their hour by receipt too, so their own later evidence counts', () => {
    const engine = createRuleEngine(rules, new MemoryStateStore());
    const P = T0 + 10 * 86_400_000; // live now: ten days after the backfilled records
    const live = (id: string, min: number) => ({ ...later(id, 0), time: at(P + min * 60_000), received_time: at(P + min * 60_000) }) as ReturnType<typeof ev>;
    const tag = mk('t7', 20, { action: 'model_version.tag_set', operation: 'model_version_tag.created', actor: actors.aliceMlflow, resource: { type: 'model_version', name: 'fraud', version: '7' }, ml: { model: { name: 'fraud', version: '7', tags: { adv_robustness: '0.9' } } } });
    const arrivals: Array<[ReturnType<typeof ev>, number]> = [[live('l0', 0), P], [created, P + 60_000], [approved, P + 60_000], [live('l1', 11), P + 11 * 60_000], [tag, P + 12 * 60_000], [live('l2', 120), P + 120 * 60_000]];
    // A backfill stamps its records' received_time when it fetches them.
    const received = (e: ReturnType<typeof ev>, r: number) => ({ ...e, received_time: new Date(r).toISOString() }) as ReturnType<typeof ev>;
    expect(arrivals.flatMap(([e, r]) => engine.process(received(e, r), r)).filter((a) => a.rule_id === 'evaluation.adversarial_failure')).toEqual([]);
  });

  it('a quiet bridge: the approval with no evidence is judged an hour on by the idle tick, with nothing else arriving', () => {
    const engine = createRuleEngine(rules, new MemoryStateStore());
    const adv = (alerts: Alert[]) => alerts.filter((a) => a.rule_id === 'evaluation.adversarial_failure');
    expect(adv([created, approved].flatMap((e) => engine.process(e, Date.parse(e.time))))).toEqual([]);
    expect(adv(engine.tick(T0 + 40 * 60_000))).toEqual([]);
    expect(adv(engine.tick(T0 + 75 * 60_000)).map((a) => [a.evidence, a.time])).toEqual([[['a7'], at(T0 + 60_000)]]);
  });

  it('an approval whose source clock runs ahead of its receipt still gets its hour for evidence', () => {
    const engine = createRuleEngine(rules, new MemoryStateStore());
    const ahead = { ...approved, time: at(T0 + 30 * 60_000) } as ReturnType<typeof ev>;
    const tag = mk('t7', 70, { action: 'model_version.tag_set', operation: 'model_version_tag.created', actor: actors.aliceMlflow, resource: { type: 'model_version', name: 'fraud', version: '7' }, ml: { model: { name: 'fraud', version: '7', tags: { adv_robustness: '0.9' } } } });
    const arrivals: Array<[ReturnType<typeof ev>, number]> = [[created, T0], [ahead, T0], [tag, T0 + 70 * 60_000], [later('x', 200), T0 + 200 * 60_000]];
    expect(arrivals.flatMap(([e, r]) => engine.process(e, r)).filter((a) => a.rule_id === 'evaluation.adversarial_failure')).toEqual([]);
  });

  it('an approval dated years ahead of its receipt (a bad clock) still waits only its hour, then is judged', () => {
    const engine = createRuleEngine(rules, new MemoryStateStore());
    const farAhead = { ...approved, time: '2030-01-01T00:00:00.000Z' } as ReturnType<typeof ev>;
    const arrivals: Array<[ReturnType<typeof ev>, number]> = [[created, T0], [farAhead, T0 + 60_000], [later('x', 150), T0 + 150 * 60_000], [later('y', 300), T0 + 300 * 60_000]];
    expect(arrivals.flatMap(([e, r]) => engine.process(e, r)).filter((a) => a.rule_id === 'evaluation.adversarial_failure').map((a) => a.evidence)).toEqual([['a7']]);
  });

  it('evidence hours after the approval is too late, in serve and in replay alike (replay stamps one receipt on every record)', () => {
    const tag = mk('t7', 300, { action: 'model_version.tag_set', operation: 'model_version_tag.created', actor: actors.aliceMlflow, resource: { type: 'model_version', name: 'fraud', version: '7' }, ml: { model: { name: 'fraud', version: '7', tags: { adv_robustness: '0.9' } } } });
    const events = [created, approved, later('x', 120), tag, later('y', 400)];
    const engine = createRuleEngine(rules, new MemoryStateStore());
    const live = events.flatMap((e) => engine.process(e, Date.parse(e.time))).filter((a) => a.rule_id === 'evaluation.adversarial_failure');
    const stamped = events.map((e) => ({ ...e, received_time: '2026-11-26T12:00:00.000Z' }) as ReturnType<typeof ev>);
    expect(live.map((a) => a.id)).toHaveLength(1);
    expect(replayed(stamped).map((a) => a.id)).toEqual(live.map((a) => a.id));
  });

  it('no evidence within the hour: the alert, dated at the approval and naming the approver, with replay\'s id', () => {
    const s = served([created, approved, later('x', 30), later('y', 75)]);
    expect(s.map((a) => [Date.parse(a.time), a.evidence, a.details?.approver])).toEqual([[Date.parse(approved.time), ['a7'], 'bob@corp.example']]);
    expect(replayed([created, approved]).map((a) => a.id)).toEqual(s.map((a) => a.id));
  });
});

describe('evaluation.adversarial_failure: what counts as an adversarial evaluation', () => {
  const mk = (id: string, min: number, d: Partial<Draft> & Pick<Draft, 'action'>) => ev({ id, time: at(T0 + min * 60_000), platform: 'mlflow', stage: 'registry', ...d });
  const withTag = (value: string) => [
    mk('c', 0, { action: 'model_version.create', operation: 'model_version.created', actor: actors.aliceMlflow, resource: { type: 'model_version', name: 'm', version: '1' }, ml: { model: { name: 'm', version: '1', tags: { adversarial_eval: value } } } }),
    mk('a', 1, { action: 'model_version.alias_set', operation: 'model_version_alias.created', actor: actors.bob, resource: { type: 'model_version', name: 'm', version: '1' }, ml: { model: { name: 'm', version: '1', aliases: ['champion'] } }, details: { alias: 'champion' } }),
  ];
  const titles = (value: string) => replayEvents(withTag(value), { rules }).alerts.filter((a) => a.rule_id === 'evaluation.adversarial_failure').map((a) => a.title);
  it('a placeholder is no evaluation: the approval is still missing one', () => {
    for (const v of ['pending', 'skipped', 'n/a', '', 'NaN', '-']) expect(titles(v), v).toEqual(['evaluation.adversarial_failure: Approved without adversarial evaluation']);
  });
  it('a score or a verdict word is one', () => {
    for (const v of ['0.9', '.81', '+0.8', '0,81', '85%', '9e-01', 'passed', 'true']) expect(titles(v), v).toEqual([]);
    for (const v of ['0.1', '10%', '1e-05', 'failed']) expect(titles(v), v).toEqual(['evaluation.adversarial_failure: Adversarial evaluation failed']);
  });
  const withTags = (tags: Record<string, string | number>, cfg = rules) =>
    replayEvents(
      [
        mk('c', 0, { action: 'model_version.create', operation: 'model_version.created', actor: actors.aliceMlflow, resource: { type: 'model_version', name: 'm', version: '1' }, ml: { model: { name: 'm', version: '1' }, metrics: tags as Record<string, number> } }),
        mk('a', 1, { action: 'model_version.alias_set', operation: 'model_version_alias.created', actor: actors.bob, resource: { type: 'model_version', name: 'm', version: '1' }, ml: { model: { name: 'm', version: '1', aliases: ['champion'] } }, details: { alias: 'champion' } }),
      ],
      { rules: cfg },
    ).alerts.filter((a) => a.rule_id === 'evaluation.adversarial_failure').map((a) => [a.title, a.details?.failed ?? null]);
  it('a number from 1 to 100 is a percent: 40 fails, 85 passes; above 100 or below 0 it is no score', () => {
    expect(withTags({ adversarial_accuracy: 40 })).toEqual([['evaluation.adversarial_failure: Adversarial evaluation failed', [{ key: 'adversarial_accuracy', value: 40, event: 'c' }]]]);
    expect(withTags({ adversarial_accuracy: 85 })).toEqual([]);
    expect(withTags({ adv_attack_success_rate: 60 })).toEqual([['evaluation.adversarial_failure: Adversarial evaluation failed', [{ key: 'adv_attack_success_rate', value: 60, event: 'c' }]]]);
    expect(withTags({ adv_loss: 250 })).toEqual([['evaluation.adversarial_failure: Approved without adversarial evaluation', null]]);
  });
  it('the attack\'s own settings (epsilon, steps, samples) are not scores: an epsilon of 0.03 fails nothing, nor counts as an evaluation', () => {
    expect(withTags({ adv_epsilon: 0.03, adv_pgd_steps: 40, adv_n_samples: 1000, adversarial_accuracy: 0.82 })).toEqual([]);
    expect(withTags({ adv_epsilon: 0.03 })).toEqual([['evaluation.adversarial_failure: Approved without adversarial evaluation', null]]);
    // Settable: a team whose `adv_eps` is a score says so.
    const own = RulesConfig.parse({ 'evaluation.adversarial_failure': { parameters: [] } });
    expect(withTags({ adv_epsilon: 0.03 }, own).map(([t]) => t)).toEqual(['evaluation.adversarial_failure: Adversarial evaluation failed']);
  });
  it('the settings attack libraries name (ART max_iter/norm/num_random_init, CleverHans nb_iter, torchattacks alpha, Foolbox stepsize) are not percent scores', () => {
    const settings = { adv_max_iter: 40, adv_nb_iter: 10, adv_norm: 2, adv_num_random_init: 5, adv_alpha: 2, adv_step_size: 2, adv_abs_stepsize: 1, adv_rand_init: 1 };
    expect(withTags({ ...settings, adversarial_accuracy: 0.71 })).toEqual([]);
    expect(withTags(settings)).toEqual([['evaluation.adversarial_failure: Approved without adversarial evaluation', null]]);
    // A score whose name merely contains such a word is still one.
    expect(withTags({ adv_normal_accuracy: 30 }).map(([t]) => t)).toEqual(['evaluation.adversarial_failure: Adversarial evaluation failed']);
  });
});
