import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';
import { DAY, ECR_IMAGE, HOUR, T0, actors, at, ev, sha } from '../../rules/events.js';

/**
 * The conditions that decide whether a per-event rule fires: each case with its near miss, replayed
 * through the whole engine with the default settings unless a setting is the point.
 */
const run = (events: NormalizedEvent[], rules: Record<string, unknown> = {}): Alert[] => replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts;
const of = (alerts: Alert[], rule: string) => alerts.filter((a) => a.rule_id === rule);

const version = (ms: number, name: string, v: string, model: Record<string, unknown> = {}, actor: NormalizedEvent['actor'] = actors.ci) =>
  ev({ time: at(ms), platform: 'mlflow', stage: 'registry', action: 'model_version.create', actor, resource: { type: 'model_version', name, version: v }, ml: { model: { name, version: v, tags: { adv_verdict: 'passed' }, ...model } } });
const alias = (ms: number, name: string, v: string, actor: NormalizedEvent['actor'] = actors.bob) =>
  ev({ time: at(ms), platform: 'mlflow', stage: 'registry', action: 'model_version.alias_set', actor, resource: { type: 'model_version', name, version: v }, ml: { model: { name, version: v, aliases: ['champion'] } }, details: { alias: 'champion' } });
const deploy = (ms: number, name: string, v: string, model: Record<string, unknown> = {}) =>
  ev({ time: at(ms), platform: 'mlflow', stage: 'serving', action: 'endpoint.deploy', actor: actors.ci, ml: { deployment: { endpoint: 'fraud-prod' }, model: { name, version: v, ...model } } });

describe('registry.unapproved_deployment', () => {
  it('a version approved, then rejected, is not approved for a deployment', () => {
    const v = version(T0, 'fraud', '1');
    const ok = alias(T0 + HOUR, 'fraud', '1');
    const reject = ev({ time: at(T0 + 2 * HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.reject', actor: actors.bob, resource: { type: 'model_version', name: 'fraud', version: '1' }, ml: { model: { name: 'fraud', version: '1' } } });
    const d = deploy(T0 + 3 * HOUR, 'fraud', '1');
    const fired = of(run([v, ok, reject, d]), 'registry.unapproved_deployment');
    expect(fired.map((a) => [a.entity.id, a.details.reason, a.evidence, a.severity])).toEqual([['fraud-prod', 'rejected', [reject.id, d.id], 'critical']]);
    // Near miss: not rejected, the same deployment is approved.
    expect(of(run([v, ok, d]), 'registry.unapproved_deployment')).toEqual([]);
  });

  it('a deployment whose sha256 differs from the approved version\'s is a substitution; the same hash is not', () => {
    const v = version(T0, 'fraud', '2', { sha256: sha('a') });
    const ok = alias(T0 + HOUR, 'fraud', '2');
    const swapped = of(run([v, ok, deploy(T0 + 2 * HOUR, 'fraud', '2', { sha256: sha('b') })]), 'registry.unapproved_deployment');
    expect(swapped.map((a) => [a.details.reason, a.details.deployed_sha256, a.details.approved_sha256])).toEqual([['substitution', sha('b'), sha('a')]]);
    expect(of(run([v, ok, deploy(T0 + 2 * HOUR, 'fraud', '2', { sha256: sha('a') })]), 'registry.unapproved_deployment')).toEqual([]);
  });
});

describe('registry.approved_model_modified', () => {
  it('a change to a version whose approval was revoked is not a change of an approved version', () => {
    const v = version(T0, 'churn', '1');
    const ok = alias(T0 + HOUR, 'churn', '1');
    const reject = ev({ time: at(T0 + 2 * HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.reject', actor: actors.bob, resource: { type: 'model_version', name: 'churn', version: '1' }, ml: { model: { name: 'churn', version: '1' } } });
    const tag = ev({ time: at(T0 + 3 * HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.tag_set', actor: actors.mallory, resource: { type: 'model_version', name: 'churn', version: '1' }, ml: { model: { name: 'churn', version: '1' } }, details: { tag: { key: 'note', value: 'x' } } });
    expect(of(run([v, ok, reject, tag]), 'registry.approved_model_modified')).toEqual([]);
    // Near miss: still approved, the same tag is the alert.
    expect(of(run([v, ok, tag]), 'registry.approved_model_modified').map((a) => a.details.change)).toEqual(['tag_set']);
  });

  it('registering the hash an approved version already has is no change; another hash is', () => {
    const v = version(T0, 'churn', '2', { sha256: sha('c') });
    const ok = alias(T0 + HOUR, 'churn', '2');
    const reg = (h: string) => ev({ time: at(T0 + 2 * HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.hash_registered', actor: actors.ci, resource: { type: 'model_version', name: 'churn', version: '2' }, ml: { model: { name: 'churn', version: '2', sha256: h } } });
    expect(of(run([v, ok, reg(sha('c'))]), 'registry.approved_model_modified')).toEqual([]);
    expect(of(run([v, ok, reg(sha('d'))]), 'registry.approved_model_modified').map((a) => [a.details.previous_sha256, a.details.new_sha256])).toEqual([[sha('c'), sha('d')]]);
  });
});

describe('serving.hash_mismatch', () => {
  it('compares hashes regardless of hex case (an upper-case digest of the same bytes is no mismatch)', () => {
    const v = version(T0, 'fraud', '3', { sha256: sha('e') });
    const attest = (h: string) => ev({ time: at(T0 + HOUR), platform: 'mlflow', stage: 'serving', action: 'model_version.attest', actor: actors.ci, ml: { model: { name: 'fraud', version: '3', sha256: h } }, details: { where: 'pod/fraud-1' } });
    expect(of(run([v, attest(sha('e').toUpperCase())]), 'serving.hash_mismatch')).toEqual([]);
    // Critical, as unapproved_deployment: what a pager routed at min_severity critical receives.
    expect(of(run([v, attest(sha('f'))]), 'serving.hash_mismatch').map((a) => [a.details.observed_sha256, a.severity])).toEqual([[sha('f'), 'critical']]);
    // A version mltrail has no record of: the expected hash comes with the event, spelt as its sender spells it.
    const stated = (observed: string) =>
      ev({ time: at(T0 + HOUR), platform: 'custom', stage: 'serving', action: 'model_version.attest', actor: actors.ci, ml: { model: { name: 'ext', version: '7', sha256: observed } }, details: { expected_sha256: `sha256:${sha('e').toUpperCase()}` } });
    expect(of(run([stated(sha('e'))]), 'serving.hash_mismatch')).toEqual([]);
    expect(of(run([stated(sha('f'))]), 'serving.hash_mismatch').map((a) => [a.entity.id, a.details.registered_sha256])).toEqual([['ext/7', sha('e').toUpperCase()]]);
  });
});

describe('evaluation.adversarial_failure scores', () => {
  const withScore = (key: string, value: number) => [version(T0, 'm', '1', { tags: { [key]: value } })];
  const failed = (key: string, value: number) => of(run(withScore(key, value)), 'evaluation.adversarial_failure');

  it('a higher-is-better score below min_score (0.5) fails; 0.5 itself passes', () => {
    expect(failed('adv_robust_accuracy', 0.49).map((a) => a.entity.id)).toEqual(['m/1']);
    expect(failed('adv_robust_accuracy', 0.5)).toEqual([]);
  });

  it('a lower-is-better score (an attack success rate) fails when high, passes when low', () => {
    expect(failed('adv_attack_success_rate', 0.9).map((a) => a.details.min_score)).toEqual([0.5]);
    expect(failed('adv_attack_success_rate', 0.1)).toEqual([]);
  });
});

describe('evaluation.score_drop threshold', () => {
  it('fires when worse by more than 2 %, not at exactly 2 %', () => {
    const pair = (rmse: number) => [version(T0, 'reg', '1', { tags: {} }), ev({ time: at(T0 + HOUR), platform: 'mlflow', stage: 'evaluation', action: 'evaluation.complete', actor: actors.ci, ml: { model: { name: 'reg', version: '1' }, metrics: { rmse: 50 } } }), version(T0 + 2 * HOUR, 'reg', '2', { tags: {} }), ev({ time: at(T0 + 3 * HOUR), platform: 'mlflow', stage: 'evaluation', action: 'evaluation.complete', actor: actors.ci, ml: { model: { name: 'reg', version: '2' }, metrics: { rmse } } })];
    expect(of(run(pair(51)), 'evaluation.score_drop')).toEqual([]);
    expect(of(run(pair(51.5)), 'evaluation.score_drop').map((a) => [a.entity.id, a.details.baseline_version])).toEqual([['reg/2', '1']]);
  });

  /** Version 1 of `reg` evaluated with `first`, version 2 with `second`. */
  const evaluated = (first: Record<string, number>, second: Record<string, number>) => [
    version(T0, 'reg', '1', { tags: {} }),
    ev({ time: at(T0 + HOUR), platform: 'mlflow', stage: 'evaluation', action: 'evaluation.complete', actor: actors.ci, ml: { model: { name: 'reg', version: '1' }, metrics: first } }),
    version(T0 + 2 * HOUR, 'reg', '2', { tags: {} }),
    ev({ time: at(T0 + 3 * HOUR), platform: 'mlflow', stage: 'evaluation', action: 'evaluation.complete', actor: actors.ci, ml: { model: { name: 'reg', version: '2' }, metrics: second } }),
  ];
  const drops = (events: NormalizedEvent[], settings: Record<string, unknown> = {}) =>
    of(run(events, { 'evaluation.score_drop': settings }), 'evaluation.score_drop').map((a) => [a.details.metric, a.details.worse_by, a.details.comparison, a.details.threshold]);

  it('per-metric thresholds: rmse may move 10 %, accuracy 1 %; the others keep threshold', () => {
    const events = evaluated({ rmse: 50, test_accuracy: 0.9, f1: 0.8 }, { rmse: 54, test_accuracy: 0.885, f1: 0.79 });
    // By the default 2 %: rmse (8 %) drops, accuracy (1.7 %) and f1 (1.25 %) do not.
    expect(drops(events)).toEqual([['rmse', 0.08, 'relative', 0.02]]);
    // rmse's own 10 % spares it; accuracy's own 1 % (named by its catalogue metric) catches test_accuracy; f1 keeps 2 %.
    const own = drops(events, { thresholds: { rmse: 0.1, accuracy: 0.01 } });
    expect(own.map(([m, , c, t]) => [m, c, t])).toEqual([['test_accuracy', 'relative', 0.01]]);
    // A logged name is a key too, and `threshold` still sets the rest.
    expect(drops(events, { threshold: 0.01, thresholds: { test_accuracy: 0.5 } }).map(([m, , , t]) => [m, t])).toEqual([['rmse', 0.01], ['f1', 0.01]]);
  });

  it('a previous value of 0 is compared by the difference: a loss from 0 to 0.3 is worse, to 0.01 not (threshold 0.02)', () => {
    expect(drops(evaluated({ loss: 0 }, { loss: 0.3 }))).toEqual([['loss', 0.3, 'absolute', 0.02]]);
    expect(of(run(evaluated({ loss: 0 }, { loss: 0.3 })), 'evaluation.score_drop')[0]!.summary).toBe('reg v2 loss=0.3 is worse by 0.3 than the previous version v1 (0)');
    expect(drops(evaluated({ loss: 0 }, { loss: 0.01 }))).toEqual([]);
    // A higher-is-better metric from 0 can only fall below it (r2).
    expect(drops(evaluated({ r2: 0 }, { r2: -0.4 }))).toEqual([['r2', 0.4, 'absolute', 0.02]]);
    expect(drops(evaluated({ r2: 0 }, { r2: 0.4 }))).toEqual([]);
  });

  it('thresholds are checked: a key that names no metric, or 1 or more for a higher-is-better one, is an error', () => {
    expect(() => RulesConfig.parse({ 'evaluation.score_drop': { thresholds: { acuracy: 0.01 } } })).toThrow(/thresholds.*acuracy.*no metric/s);
    expect(() => RulesConfig.parse({ 'evaluation.score_drop': { thresholds: { accuracy: 1 } } })).toThrow(/higher-is-better/);
    // A loss may double (1 = 100 % worse), and a metric the rule's own `metrics` adds is a key.
    expect((RulesConfig.parse({ 'evaluation.score_drop': { thresholds: { loss: 1 } } }) as Record<string, unknown>)['evaluation.score_drop']).toMatchObject({ thresholds: { loss: 1 } });
    expect(() => RulesConfig.parse({ 'evaluation.score_drop': { metrics: { bleu: 'higher' }, thresholds: { bleu: 0.05 } } })).not.toThrow();
  });
});

describe('approval tags', () => {
  it('a tag write that carries the whole tag list approves only by the tag it sets: the trainer tagging an approved version is no self-approval', () => {
    // Bob registers; alice approves with the approval tag; bob later sets another tag, reported (as the MLflow
    // auditor reports it) with every tag the version has, the approval tag among them.
    const v = version(T0, 'credit', '1', {}, actors.bobMlflow);
    const approve = ev({ time: at(T0 + HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.tag_set', actor: actors.aliceMlflow, resource: { type: 'model_version', name: 'credit', version: '1' }, ml: { model: { name: 'credit', version: '1', tags: { approval: 'approved' } } }, details: { tag: { key: 'approval', value: 'approved' } } });
    const retag = ev({ time: at(T0 + 2 * HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.tag_set', actor: actors.bobMlflow, resource: { type: 'model_version', name: 'credit', version: '1' }, ml: { model: { name: 'credit', version: '1', tags: { approval: 'approved', notes: 'v2 features' } } }, details: { tag: { key: 'notes', value: 'v2 features' } } });
    const alerts = run([v, approve, retag], { 'evaluation.self_approval': { roles: ['registered'] } });
    expect(of(alerts, 'evaluation.self_approval')).toEqual([]);
    // It is a change to an approved version, judged as one.
    expect(of(alerts, 'registry.approved_model_modified').map((a) => a.evidence.at(-1))).toEqual([retag.id]);
  });

  it('a change whose caller the platform does not log (an MLflow webhook) is by "an unidentified caller", not by a user called unknown', () => {
    const v = version(T0, 'credit', '1', {}, actors.bobMlflow);
    const ok = alias(T0 + HOUR, 'credit', '1', actors.aliceMlflow);
    const hook = ev({ time: at(T0 + 2 * HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.tag_set', resource: { type: 'model_version', name: 'credit', version: '1' }, ml: { model: { name: 'credit', version: '1' } }, details: { tag: { key: 'notes', value: 'x' } } });
    const [a] = of(run([v, ok, hook]), 'registry.approved_model_modified');
    expect(a!.summary).toMatch(/ by an unidentified caller$/);
  });
});

describe('exempt identities', () => {
  it('evaluation.self_approval: an exempt identity approving what it trained raises nothing', () => {
    const v = version(T0, 'credit', '1', {}, actors.bobMlflow);
    const ok = alias(T0 + HOUR, 'credit', '1', actors.bob);
    expect(of(run([v, ok], { 'evaluation.self_approval': { roles: ['registered'] } }), 'evaluation.self_approval').map((a) => a.details.identity)).toEqual(['bob@corp.example']);
    expect(of(run([v, ok], { 'evaluation.self_approval': { roles: ['registered'], exempt: ['bob@*'] } }), 'evaluation.self_approval')).toEqual([]);
  });

  it('training.off_hours_job: an exempt identity outside the allowed window raises nothing', () => {
    const job = ev({ time: at(T0 + 13 * HOUR), platform: 'vertex', stage: 'training', action: 'training_job.create', actor: actors.ciGcp, resource: { type: 'custom_job', name: 'nightly' }, ml: { job: { name: 'nightly', network_isolation: true } } });
    const window = { from_hour: 8, to_hour: 18 };
    expect(of(run([job], { 'training.off_hours_job': { allowed_window: window } }), 'training.off_hours_job')).toHaveLength(1);
    expect(of(run([job], { 'training.off_hours_job': { allowed_window: window, exempt: ['ci-*@proj.iam.gserviceaccount.com'] } }), 'training.off_hours_job')).toEqual([]);
  });
});

describe('training.off_hours_job learned pattern', () => {
  // 30 weekdays' jobs at 10:00 UTC, and once (day 3) at 15:00.
  const job = (id: string, ms: number) => ev({ id, time: at(ms), platform: 'sagemaker', stage: 'training', action: 'training_job.create', actor: actors.aliceAws, resource: { type: 'training_job', name: id }, ml: { job: { name: id, image: ECR_IMAGE, image_pinned: true, network_isolation: true } } });
  const history = [...Array.from({ length: 40 }, (_, d) => d).filter((d) => ![5, 6].includes(d % 7)).map((d) => job(`usual-${d}`, T0 + d * DAY)), job('once', T0 + 3 * DAY + 5 * HOUR)];
  const judged = (ms: number) => of(run([...history, job('new', ms)]), 'training.off_hours_job');
  const day = T0 + 42 * DAY; // a Monday, 10:00

  it('an hour next to the usual one is within tolerance (±1 h); three hours off is not', () => {
    expect(judged(day + HOUR)).toEqual([]);
    expect(judged(day + 3 * HOUR).map((a) => [a.evidence, a.details.hour, a.details.support])).toEqual([[['new'], 13, 0]]);
  });

  it('one earlier job near the hour is not a pattern: min_support is 2', () => {
    expect(judged(day + 5 * HOUR).map((a) => [a.details.hour, a.details.support])).toEqual([[15, 1]]);
  });
});

describe('training.unverified_dependency and training.network_egress', () => {
  const train = (job: Record<string, unknown>) => ev({ time: at(T0), platform: 'sagemaker', stage: 'training', action: 'training_job.create', actor: actors.ci, resource: { type: 'training_job', name: 'fraud-train' }, ml: { job: { name: 'fraud-train', network_isolation: true, ...job } } });

  it('an image is pinned only by a full sha256 digest (a truncated one is not a pin)', () => {
    const repo = '111122223333.dkr.ecr.us-east-1.amazonaws.com/train';
    expect(of(run([train({ image: `${repo}@sha256:${'a'.repeat(12)}` })]), 'training.unverified_dependency').map((a) => a.details.reasons)).toEqual([[`image ${repo}@sha256:${'a'.repeat(12)} is not pinned by digest`]]);
    expect(of(run([train({ image: `${repo}@sha256:${'a'.repeat(64)}` })]), 'training.unverified_dependency')).toEqual([]);
  });

  it('a SageMaker job with an empty VpcConfig (vpc: false) and no isolation is not isolated', () => {
    expect(of(run([train({ network_isolation: false, vpc: false, image: ECR_IMAGE })]), 'training.network_egress').map((a) => a.entity.id)).toEqual(['fraud-train']);
    expect(of(run([train({ network_isolation: false, vpc: true, image: ECR_IMAGE })]), 'training.network_egress')).toEqual([]);
  });
});

describe('preprocessing.code_modified and ingestion.schema_mismatch settings', () => {
  const step = (ms: number, commit: string) => ev({ time: at(ms), platform: 'kubeflow', stage: 'preprocessing', action: 'pipeline_run.create', actor: actors.kfRunner, resource: { type: 'pipeline_run', name: 'features' }, ml: { job: { name: 'features' }, code: { repo: 'git@example/feat', commit } } });

  it('approved_commits: a first run of a commit not on the list fires; one on it does not', () => {
    const cfg = { 'preprocessing.code_modified': { approved_commits: ['abc123*'] } };
    expect(of(run([step(T0, 'def456')], cfg), 'preprocessing.code_modified').map((a) => a.details.reasons)).toEqual([['commit def456 is not on the approved list']]);
    expect(of(run([step(T0, 'abc1234')], cfg), 'preprocessing.code_modified')).toEqual([]);
  });

  const imp = (ms: number, hash: string) => ev({ time: at(ms), platform: 'vertex', stage: 'ingestion', action: 'dataset.import', actor: actors.ingestSa, resource: { type: 'dataset', name: 'tx' }, ml: { data: { schema_hash: hash } } });

  it('accept_after_alert (default): after the alert the new schema is the learned one; off, it stays a mismatch', () => {
    const events = [imp(T0, 'h1'), imp(T0 + HOUR, 'h2'), imp(T0 + 3 * DAY, 'h2')];
    expect(of(run(events), 'ingestion.schema_mismatch').map((a) => a.evidence.at(-1))).toEqual([events[1]!.id]);
    expect(of(run(events, { 'ingestion.schema_mismatch': { accept_after_alert: false } }), 'ingestion.schema_mismatch').map((a) => a.evidence.at(-1))).toEqual([events[1]!.id, events[2]!.id]);
  });

  it('a pinned schema hash compares regardless of hex case', () => {
    const cfg = { 'ingestion.schema_mismatch': { pinned: { 'dataset:tx': 'ABCDEF' } } };
    expect(of(run([imp(T0, 'abcdef')], cfg), 'ingestion.schema_mismatch')).toEqual([]);
    expect(of(run([imp(T0, 'abcdee')], cfg), 'ingestion.schema_mismatch').map((a) => a.details.basis)).toEqual(['pinned']);
  });
});

describe('what counts as an approval or a deployment', () => {
  const pkg = ev({
    time: at(T0), platform: 'sagemaker', stage: 'registry', action: 'model_version.create', operation: 'CreateModelPackage', actor: actors.ci,
    resource: { type: 'model_package', name: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/4' },
    ml: { model: { name: 'fraud', version: '4', approval: 'pending', artifact_uri: 's3://models/fraud/v4/model.tar.gz', tags: { adv_robust_accuracy: '0.8' } } },
  });
  const smDeploy = (ms: number, outcome: 'success' | 'failure' = 'success') =>
    ev({ time: at(ms), platform: 'sagemaker', stage: 'serving', action: 'endpoint.update', operation: 'UpdateEndpoint', outcome, actor: actors.ci, resource: { type: 'endpoint', name: 'fraud-prod' }, ml: { deployment: { endpoint: 'fraud-prod' }, model: { name: 'fraud', version: '4' } } });

  it('a SageMaker AddTags approval=approved on a package approves nothing: its deployment is still unapproved', () => {
    const tag = ev({ time: at(T0 + HOUR), platform: 'sagemaker', stage: 'registry', action: 'model_version.tag_set', operation: 'AddTags', actor: actors.mallory, resource: { type: 'model_package', name: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/4' }, ml: { model: { name: 'fraud', version: '4', tags: { approval: 'approved' } } } });
    expect(of(run([pkg, tag, smDeploy(T0 + 2 * HOUR)]), 'registry.unapproved_deployment').map((a) => [a.entity.id, a.details.reason])).toEqual([['fraud-prod', 'never_approved']]);
    // Near miss: the same tag in MLflow is an approval marker (approval.tags), so its deployment is approved.
    const v = version(T0, 'fraud', '4');
    const mlTag = ev({ time: at(T0 + HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.tag_set', actor: actors.bob, resource: { type: 'model_version', name: 'fraud', version: '4' }, ml: { model: { name: 'fraud', version: '4' } }, details: { tag: { key: 'approval', value: 'approved' } } });
    expect(of(run([v, mlTag, deploy(T0 + 2 * HOUR, 'fraud', '4')]), 'registry.unapproved_deployment')).toEqual([]);
  });

  it('a deployment call that failed deployed nothing', () => {
    expect(of(run([pkg, smDeploy(T0 + HOUR, 'failure')]), 'registry.unapproved_deployment')).toEqual([]);
    expect(of(run([pkg, smDeploy(T0 + HOUR)]), 'registry.unapproved_deployment')).toHaveLength(1);
  });
});

describe('mixed rules: n configures the σ part only', () => {
  it('a monitor violation still alerts on its first occurrence when distribution_shift has n: 5', () => {
    const e = ev({
      time: at(T0), platform: 'sagemaker', stage: 'serving', action: 'monitor.violation', operation: 'SageMaker Processing Job State Change',
      resource: { type: 'monitoring_schedule', name: 'fraud-prod-data-quality' }, ml: { deployment: { endpoint: 'fraud-prod' } }, details: { monitoring_type: 'DataQuality', status: 'CompletedWithViolations' },
    });
    expect(of(run([e], { 'preprocessing.distribution_shift': { n: 5 } }), 'preprocessing.distribution_shift').map((a) => [a.entity.id, a.details.consecutive])).toEqual([['fraud-prod', 1]]);
  });
});

describe('serving.hash_mismatch: an attestation before the hash was registered', () => {
  const attest = { ...ev({ time: at(T0), platform: 'custom', stage: 'serving', action: 'model_version.attest', actor: actors.ci, ml: { model: { name: 'fraud', version: '9', sha256: sha('b') } }, details: { where: 'pod/x' } }), id: 'early' };
  const registered = (ms: number) => ev({ time: at(ms), platform: 'mlflow', stage: 'registry', action: 'model_version.hash_registered', actor: actors.ci, ml: { model: { name: 'fraud', version: '9', sha256: sha('a') } } });

  it('is compared with a hash registered within 7 days, not with one registered weeks later', () => {
    expect(of(run([attest, registered(T0 + 6 * DAY)]), 'serving.hash_mismatch').map((a) => a.evidence[0])).toEqual(['early']);
    expect(of(run([attest, registered(T0 + 8 * DAY)]), 'serving.hash_mismatch')).toEqual([]);
  });
});

describe('registry facts taken only from calls that did what they say', () => {
  it('a failed hash registration does not replace the registered hash (the attested substitute is still a mismatch)', () => {
    const v = version(T0, 'fraud', '5', { sha256: sha('a') });
    const failed = ev({ time: at(T0 + HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.hash_registered', outcome: 'failure', error: { code: 'PERMISSION_DENIED', message: 'denied' }, actor: actors.mallory, ml: { model: { name: 'fraud', version: '5', sha256: sha('b') } } });
    const attest = ev({ time: at(T0 + 2 * HOUR), platform: 'custom', stage: 'serving', action: 'model_version.attest', actor: actors.ci, ml: { model: { name: 'fraud', version: '5', sha256: sha('b') } }, details: { where: 'pod/fraud-5' } });
    expect(of(run([v, failed, attest]), 'serving.hash_mismatch').map((a) => [a.details.observed_sha256, a.details.registered_sha256])).toEqual([[sha('b'), sha('a')]]);
  });

  const evaluation = (outcome: 'success' | 'failure') =>
    ev({ time: at(T0 + HOUR), platform: 'mlflow', stage: 'evaluation', action: 'evaluation.complete', outcome, ...(outcome === 'failure' ? { error: { code: 'INTERNAL', message: 'crashed' } } : {}), actor: actors.bobMlflow, ml: { model: { name: 'loan', version: '1' }, metrics: { accuracy: 0.9 } } });
  const judged = (events: NormalizedEvent[]) => of(run(events), 'evaluation.self_approval').map((a) => [a.details.identity, a.details.roles]);

  it('evaluation.self_approval: a failed evaluation run does not make its caller the evaluator', () => {
    const v = version(T0, 'loan', '1');
    const ok = alias(T0 + 2 * HOUR, 'loan', '1', actors.bob);
    expect(judged([v, evaluation('failure'), ok])).toEqual([]);
    expect(judged([v, evaluation('success'), ok])).toEqual([['bob@corp.example', ['evaluated']]]);
  });

  it('evaluation.self_approval: stopping a training job is not training the model', () => {
    const job = (action: string, actor: NormalizedEvent['actor']) =>
      ev({ time: at(T0 + (action.endsWith('create') ? 0 : HOUR)), platform: 'sagemaker', stage: 'training', action, actor, resource: { type: 'training_job', name: 'loan-train' }, ml: { job: { name: 'loan-train', image: ECR_IMAGE, image_pinned: true, network_isolation: true }, model: { name: 'loan', version: '2' } } });
    const ok = ev({ time: at(T0 + 2 * HOUR), platform: 'sagemaker', stage: 'registry', action: 'model_version.update', operation: 'UpdateModelPackage', actor: actors.aliceAws, ml: { model: { name: 'loan', version: '2', approval: 'approved' } } });
    expect(of(run([job('training_job.create', actors.ci), job('training_job.stop', actors.aliceAws), ok]), 'evaluation.self_approval')).toEqual([]);
    expect(of(run([job('training_job.create', actors.aliceAws), ok]), 'evaluation.self_approval').map((a) => a.details.roles)).toEqual([['trained']]);
  });
});

describe('mode of per-event rules', () => {
  const d = () => deploy(T0, 'never-approved', '1');
  const modes = (rules: Record<string, unknown>) => of(run([d()], rules), 'registry.unapproved_deployment').map((a) => [a.mode, a.details.observe_reason]);

  it('mode: observe on a per-event rule reports its detection as observe', () => {
    expect(modes({})).toEqual([['alert', undefined]]);
    expect(modes({ 'registry.unapproved_deployment': { mode: 'observe' } })).toEqual([['observe', 'rule in observe mode']]);
  });

  it('defaults.per_event.mode applies to per-event rules; defaults.statistical.mode does not', () => {
    expect(modes({ defaults: { per_event: { mode: 'observe' } } })).toEqual([['observe', 'rule in observe mode']]);
    expect(modes({ defaults: { statistical: { mode: 'observe' } } })).toEqual([['alert', undefined]]);
  });
});

describe('training.unverified_dependency and access.separation_of_duties conditions', () => {
  it('a dependency check reported failed is an alert even when the job itself succeeded', () => {
    const job = (check: string) => ev({ time: at(T0), platform: 'kubeflow', stage: 'training', action: 'training_job.complete', actor: actors.kfRunner, resource: { type: 'pytorchjobs', name: 'churn-train' }, ml: { job: { name: 'churn-train' } }, details: { dependency_check: check } });
    expect(of(run([job('failed')]), 'training.unverified_dependency').map((a) => a.entity.id)).toEqual(['churn-train']);
    expect(of(run([job('passed')]), 'training.unverified_dependency')).toEqual([]);
  });

  const write = (stage: 'ingestion' | 'training') => ev({ time: at(T0), platform: 'sagemaker', stage, action: 'artifact.write', actor: actors.aliceAwsData, resource: { type: 's3_object', name: 'out/part-0' }, ml: { data: { outputs: ['s3://ml-out/run-1/part-0'] } } });
  const release = (endpoint: string) => ev({ time: at(T0 + DAY), platform: 'sagemaker', stage: 'serving', action: 'endpoint.update', actor: actors.aliceAwsDeploy, resource: { type: 'endpoint', name: endpoint }, ml: { deployment: { endpoint }, model: { name: 'fraud', version: '1' } } });
  const sod = (events: NormalizedEvent[], rules: Record<string, unknown> = {}) => of(run(events, rules), 'access.separation_of_duties').map((a) => a.entity.id);

  it('a data write counts only in the data stages (a training job writing its outputs is not writing training data)', () => {
    expect(sod([write('ingestion'), release('fraud-prod')])).toEqual(['alice@corp.example']);
    expect(sod([write('training'), release('fraud-prod')])).toEqual([]);
  });

  it('production_endpoints: a deployment elsewhere is no release', () => {
    const cfg = { 'access.separation_of_duties': { production_endpoints: ['*-prod'] } };
    expect(sod([write('ingestion'), release('fraud-prod')], cfg)).toEqual(['alice@corp.example']);
    expect(sod([write('ingestion'), release('fraud-staging')], cfg)).toEqual([]);
  });
});
