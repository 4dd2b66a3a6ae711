import type { NormalizedEvent } from '../../core/schema/index.js';
import { DAY, ECR_IMAGE, HOUR, T0, actors, at, ev, resetIds, sha, smTraining } from './events.js';

/**
 * Per-rule scenarios: a case that must fire and a near-miss that must not.
 * `test/rules/<rule id>/<name>.ndjson` are written from these (set
 * MLTRAIL_WRITE_SCENARIOS=1 and run test/rules/scenarios.test.ts); the test
 * checks the files still match and replays them.
 */
export interface ExpectedAlert {
  rule_id: string;
  entity: { type: string; id: string };
  /** Event ids the alert must cite. */
  evidence: string[];
  mode?: 'alert' | 'observe';
}

export interface Scenario {
  rule: string;
  name: string;
  /** `rules:` config for this scenario (YAML-equivalent object), if not the defaults. */
  config?: Record<string, unknown>;
  events: NormalizedEvent[];
  /** Exactly these alerts (by rule id) and no others. */
  expect: ExpectedAlert[];
}

const ADV_OK = { adv_robust_accuracy: 0.81 };

/** A CloudTrail control call on the account's trail, as the SageMaker connector reads it. */
function trailCall(time: number, operation: string, action: NormalizedEvent['action'], details: Record<string, unknown>): NormalizedEvent {
  return ev({ time: at(time), platform: 'sagemaker', stage: 'platform', action, operation, actor: actors.aliceAwsData, resource: { type: 'cloudtrail_trail', id: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail', name: 'org-trail' }, details: { trail: 'org-trail', ...details } });
}

/** A SageMaker Model Monitor schedule call on `fraud-dq`. */
function monitorCall(time: number, operation: string, action: NormalizedEvent['action']): NormalizedEvent {
  return ev({ time: at(time), platform: 'sagemaker', stage: 'serving', action, operation, actor: actors.aliceAwsData, resource: { type: 'monitoring_schedule', id: 'arn:aws:sagemaker:us-east-1:111122223333:monitoring-schedule/fraud-dq', name: 'fraud-dq' } });
}

/** An S3 PutObject into a listed training bucket (CloudTrail data event, stage ingestion). */
function dataWrite(time: number, uri: string, actor: NormalizedEvent['actor']): NormalizedEvent {
  return ev({ time: at(time), platform: 'sagemaker', stage: 'ingestion', action: 'data_object.write', operation: 'PutObject', actor, resource: { type: 's3_object', id: uri, uri }, ml: { data: { uris: [uri] } } });
}

/** A registered MLflow version with adversarial evidence (so approvals are clean). */
function mlflowVersion(time: number, name: string, version: string, extra: Record<string, unknown> = {}, actor = actors.ci): NormalizedEvent {
  return ev({
    time: at(time), platform: 'mlflow', stage: 'registry', action: 'model_version.create', operation: 'model_version.created', actor,
    resource: { type: 'model_version', name, version },
    ml: { model: { name, version, tags: { adv_verdict: 'passed' }, ...extra } },
  });
}
function mlflowAlias(time: number, name: string, version: string, alias: string, actor: NormalizedEvent['actor']): NormalizedEvent {
  return ev({
    time: at(time), platform: 'mlflow', stage: 'registry', action: 'model_version.alias_set', operation: 'model_version_alias.created', actor,
    resource: { type: 'model_version', name, version }, ml: { model: { name, version, aliases: [alias] } }, details: { alias },
  });
}

type Builder = () => Omit<Scenario, 'rule' | 'name'>;
const S: Record<string, Record<string, Builder>> = {
  'ingestion.schema_mismatch': {
    fire: () => {
      const a = imp(0, 'h1');
      const b = imp(2, 'h2');
      return { events: [a, b], expect: [{ rule_id: 'ingestion.schema_mismatch', entity: { type: 'data_source', id: 'dataset:transactions' }, evidence: [a.id, b.id] }] };
    },
    'near-miss': () => ({ events: [imp(0, 'h1'), imp(2, 'h1'), imp(4, 'h1')], expect: [] }),
  },
  'ingestion.source_auth_failure': {
    fire: () => {
      const e = ev({
        time: at(T0), platform: 'mlflow', channel: 'mlflow.webhook', stage: 'ingestion', action: 'ingest.auth_failure', operation: 'bridge.authenticate', service: 'mltrail', outcome: 'failure',
        error: { code: 'MLTRAIL_ERR_SIGNATURE', message: 'invalid X-MLflow-Signature' }, actor: { type: 'unknown', ip: '203.0.113.9' }, resource: { type: 'ingest_route', id: 'mlflow.webhook' },
      });
      return { events: [e], expect: [{ rule_id: 'ingestion.source_auth_failure', entity: { type: 'ingest_route', id: 'mlflow.webhook' }, evidence: [e.id] }] };
    },
    'fire-platform': () => {
      const e = ev({
        time: at(T0), platform: 'sagemaker', stage: 'ingestion', action: 'data_object.read', operation: 'GetObject', service: 's3.amazonaws.com', outcome: 'failure',
        error: { code: 'AccessDenied', message: 'Access Denied' }, actor: actors.ci, ml: { data: { uris: ['s3://raw-data/fraud/2026-03-02.csv'] } },
      });
      return { events: [e], expect: [{ rule_id: 'ingestion.source_auth_failure', entity: { type: 'identity', id: 'role:cipipeline/botocore-session-1700000000' }, evidence: [e.id] }] };
    },
    // Per principal (README): one caller denied on four objects in a row is one finding, counted; another caller is another.
    'fire-enumeration': () => {
      const denied = (i: number, actor: typeof actors.ci | typeof actors.bob) =>
        ev({
          time: at(T0 + i * 60_000), platform: 'sagemaker', stage: 'ingestion', action: 'data_object.read', operation: 'GetObject', service: 's3.amazonaws.com', outcome: 'failure',
          error: { code: 'AccessDenied', message: 'Access Denied' }, actor, resource: { type: 's3_object', name: `fraud/day${i}.parquet` }, ml: { data: { uris: [`s3://raw-data/fraud/day${i}.parquet`] } },
        });
      const ci = [1, 2, 3, 4].map((i) => denied(i, actors.ci));
      const bob = denied(5, actors.bob);
      return {
        events: [...ci, bob],
        expect: [
          { rule_id: 'ingestion.source_auth_failure', entity: { type: 'identity', id: 'role:cipipeline/botocore-session-1700000000' }, evidence: [ci[0]!.id] },
          { rule_id: 'ingestion.source_auth_failure', entity: { type: 'identity', id: 'bob@corp.example' }, evidence: [bob.id] },
        ],
      };
    },
    'near-miss': () => ({
      events: [
        ev({ time: at(T0), platform: 'sagemaker', stage: 'ingestion', action: 'data_object.read', operation: 'GetObject', actor: actors.ci, ml: { data: { uris: ['s3://raw-data/fraud/2026-03-02.csv'] } } }),
        ev({ time: at(T0 + HOUR), platform: 'sagemaker', stage: 'ingestion', action: 'data_object.read', operation: 'GetObject', outcome: 'failure', error: { code: 'NoSuchKey', message: 'The specified key does not exist.' }, actor: actors.ci, ml: { data: { uris: ['s3://raw-data/fraud/missing.csv'] } } }),
        // A failure action that reports success (a custom sender's `auth.failure` check that passed) is not a failure.
        ev({ time: at(T0 + 2 * HOUR), platform: 'custom', channel: 'core.api', stage: 'ingestion', action: 'auth.failure', operation: 'token.check', outcome: 'success', actor: actors.ci }),
      ],
      expect: [],
    }),
  },
  'preprocessing.distribution_shift': {
    fire: () => {
      const e = ev({
        time: at(T0), platform: 'sagemaker', stage: 'serving', action: 'monitor.violation', operation: 'SageMaker Processing Job State Change', outcome: 'failure',
        resource: { type: 'monitoring_schedule', name: 'fraud-prod-data-quality' }, ml: { deployment: { endpoint: 'fraud-prod' } },
        details: { monitoring_type: 'DataQuality', status: 'CompletedWithViolations' },
      });
      return { events: [e], expect: [{ rule_id: 'preprocessing.distribution_shift', entity: { type: 'endpoint', id: 'fraud-prod' }, evidence: [e.id] }] };
    },
    'fire-vertex-skew': () => {
      const e = ev({
        time: at(T0), platform: 'vertex', stage: 'serving', action: 'monitor.anomaly', operation: 'ModelMonitoringAnomaliesLogEntry', outcome: 'unknown',
        resource: { type: 'model_deployment_monitoring_job', name: 'projects/123/locations/us-central1/modelDeploymentMonitoringJobs/77' },
        ml: { deployment: { endpoint: 'projects/p/locations/us-central1/endpoints/9' } }, details: { anomaly_objective: 'RAW_FEATURE_SKEW' },
      });
      return { events: [e], expect: [{ rule_id: 'preprocessing.distribution_shift', entity: { type: 'endpoint', id: 'projects/p/locations/us-central1/endpoints/9' }, evidence: [e.id] }] };
    },
    'near-miss': () => ({
      events: [
        ev({ time: at(T0), platform: 'sagemaker', stage: 'serving', action: 'monitor.update', operation: 'SageMaker Processing Job State Change', resource: { type: 'monitoring_schedule', name: 'fraud-prod-data-quality' }, ml: { deployment: { endpoint: 'fraud-prod' } }, details: { monitoring_type: 'DataQuality', status: 'Completed' } }),
      ],
      expect: [],
    }),
  },
  'preprocessing.code_modified': {
    fire: () => {
      const a = prep(0, 'c'.repeat(64), 'abc123');
      const b = prep(1, 'd'.repeat(64), 'abc123');
      return { events: [a, b], expect: [{ rule_id: 'preprocessing.code_modified', entity: { type: 'job', id: 'features' }, evidence: [a.id, b.id] }] };
    },
    'fire-approved-list': () => {
      const a = prep(0, 'e'.repeat(64), 'def456');
      return {
        config: { 'preprocessing.code_modified': { approved_images: [`sha256:${'c'.repeat(64)}`] } },
        events: [a],
        expect: [{ rule_id: 'preprocessing.code_modified', entity: { type: 'job', id: 'features' }, evidence: [a.id] }],
      };
    },
    'near-miss': () => ({ events: [prep(0, 'c'.repeat(64), 'abc123'), prep(1, 'c'.repeat(64), 'abc123'), prep(2, 'c'.repeat(64), 'abc123')], expect: [] }),
  },
  'training.network_egress': {
    fire: () => {
      const e = smTraining(T0, 'fraud-train-1', actors.ci, {}, { network_isolation: undefined });
      delete e.ml!.job!.network_isolation;
      return { events: [e], expect: [{ rule_id: 'training.network_egress', entity: { type: 'job', id: 'fraud-train' }, evidence: [e.id] }] };
    },
    'fire-vertex': () => {
      const e = ev({ time: at(T0), platform: 'vertex', stage: 'training', action: 'training_job.create', operation: 'google.cloud.aiplatform.v1.JobService.CreateCustomJob', actor: actors.ciGcp, resource: { type: 'custom_job', name: 'fraud-custom' }, ml: { job: { name: 'fraud-custom', image: 'us-docker.pkg.dev/proj/train/img@sha256:' + 'b'.repeat(64), image_pinned: true } } });
      return { events: [e], expect: [{ rule_id: 'training.network_egress', entity: { type: 'job', id: 'fraud-custom' }, evidence: [e.id] }] };
    },
    'near-miss': () => {
      const e = smTraining(T0, 'fraud-train-1', actors.ci, {}, { network_isolation: false, vpc: 'vpc-0abc1234' });
      const open = smTraining(T0 + HOUR, 'sandbox-explore', actors.ci, {}, { network_isolation: false });
      return { config: { 'training.network_egress': { policy: [{ jobs: 'sandbox-*', require_isolation: false }, { jobs: '*', require_isolation: true }] } }, events: [e, open], expect: [] };
    },
  },
  'training.off_hours_job': {
    fire: () => {
      const hist = officeHistory();
      const night = smTraining(T0 + 43 * DAY + 2 * HOUR - 10 * HOUR + 15 * 60_000, 'fraud-train-late', actors.aliceAws); // Tuesday 02:15
      return { events: [...hist, night], expect: [{ rule_id: 'training.off_hours_job', entity: { type: 'identity', id: 'alice@corp.example' }, evidence: [night.id] }] };
    },
    'near-miss': () => {
      const hist = officeHistory();
      const day = smTraining(T0 + 43 * DAY + 30 * 60_000, 'fraud-train-day', actors.aliceAws); // Tuesday 10:30
      return { events: [...hist, day], expect: [] };
    },
  },
  'ingestion.unfamiliar_writer': {
    fire: () => {
      // A week of nightly writes by the pipeline role (a new tool-named session each night), then a person's write.
      const nightly = Array.from({ length: 8 }, (_, d) => dataWrite(T0 + d * DAY, `s3://training-data/fraud/day-${d}/part-0.parquet`, { ...actors.ci, id: `arn:aws:sts::111122223333:assumed-role/CIPipeline/botocore-session-${1700000000 + d}` }));
      const w = dataWrite(T0 + 8 * DAY, 's3://training-data/fraud/day-7/part-0.parquet', actors.aliceAwsData);
      return { events: [...nightly, w], expect: [{ rule_id: 'ingestion.unfamiliar_writer', entity: { type: 'data_source', id: 's3://training-data/fraud/' }, evidence: [w.id] }] };
    },
    'near-miss': () => {
      // The same pipeline role every night, and a first writer of a source still being learned (its first week).
      const nightly = Array.from({ length: 8 }, (_, d) => dataWrite(T0 + d * DAY, `s3://training-data/fraud/day-${d}/part-0.parquet`, actors.ci));
      const young = dataWrite(T0 + 7 * DAY, 's3://training-data/churn/day-0/part-0.parquet', actors.ci);
      const other = dataWrite(T0 + 8 * DAY, 's3://training-data/churn/day-1/part-0.parquet', actors.aliceAwsData);
      return { events: [...nightly, young, other], expect: [] };
    },
  },
  'training.unfamiliar_data_source': {
    fire: () => {
      const runs = [0, 1, 2].map((d) => smTraining(T0 + d * DAY, `fraud-train-${d}`, actors.ci, { data: { inputs: [`s3://training-data/fraud/day-${d}/`] } }));
      const odd = smTraining(T0 + 3 * DAY, 'fraud-train-3', actors.ci, { data: { inputs: ['s3://scratch-mallory/fraud/'] } });
      return { events: [...runs, odd], expect: [{ rule_id: 'training.unfamiliar_data_source', entity: { type: 'job', id: 'fraud-train' }, evidence: [runs[2]!.id, odd.id] }] };
    },
    'near-miss': () => {
      // New dated folders of the same bucket are the same source; a family with fewer than min_runs runs is still learning.
      const runs = [0, 1, 2, 3].map((d) => smTraining(T0 + d * DAY, `fraud-train-${d}`, actors.ci, { data: { inputs: [`s3://training-data/fraud/day-${d}/`] } }));
      const young = [0, 1].map((d) => smTraining(T0 + d * DAY + HOUR, `churn-train-${d}`, actors.ci, { data: { inputs: [d ? 's3://other-data/churn/' : 's3://training-data/churn/'] } }));
      return { events: [...runs, ...young], expect: [] };
    },
  },
  'platform.audit_log_tampering': {
    fire: () => {
      const stop = trailCall(T0, 'StopLogging', 'audit_log.disable', {});
      return { events: [stop], expect: [{ rule_id: 'platform.audit_log_tampering', entity: { type: 'audit_log', id: '111122223333:us-east-1:org-trail' }, evidence: [stop.id] }] };
    },
    'fire-narrowed': () => {
      const put = trailCall(T0, 'PutEventSelectors', 'audit_log.update', { unlogged_buckets: ['training-data'] });
      return { events: [put], expect: [{ rule_id: 'platform.audit_log_tampering', entity: { type: 'audit_log', id: '111122223333:us-east-1:org-trail' }, evidence: [put.id] }] };
    },
    // Selectors that still log every listed bucket and the management events, and logging switched back on.
    'near-miss': () => ({ events: [trailCall(T0, 'PutEventSelectors', 'audit_log.update', {}), trailCall(T0 + HOUR, 'StartLogging', 'audit_log.enable', {})], expect: [] }),
  },
  'serving.monitoring_disabled': {
    // A Model Monitor schedule stopped and left stopped past the grace period.
    fire: () => {
      const stop = monitorCall(T0, 'StopMonitoringSchedule', 'monitor.stop');
      return { events: [stop], expect: [{ rule_id: 'serving.monitoring_disabled', entity: { type: 'monitor', id: '111122223333:us-east-1:fraud-dq' }, evidence: [stop.id] }] };
    },
    // Stopped and started again within minutes (an automation redeploying it): no finding.
    'near-miss': () => ({ events: [monitorCall(T0, 'StopMonitoringSchedule', 'monitor.stop'), monitorCall(T0 + 5 * 60_000, 'StartMonitoringSchedule', 'monitor.start')], expect: [] }),
  },
  'training.unverified_dependency': {
    fire: () => {
      const e = smTraining(T0, 'fraud-train-hub', actors.ci, {}, { image: 'python:3.11', image_pinned: false });
      return { events: [e], expect: [{ rule_id: 'training.unverified_dependency', entity: { type: 'job', id: 'fraud-train-hub' }, evidence: [e.id] }] };
    },
    'near-miss': () => ({ events: [smTraining(T0, 'fraud-train-ecr', actors.ci)], expect: [] }),
  },
  'evaluation.score_drop': {
    fire: () => {
      const a = evalMetrics(0, 'fraud', '1', { accuracy: 0.95, adv_robust_accuracy: 0.8 });
      const b = evalMetrics(1, 'fraud', '2', { accuracy: 0.9, adv_robust_accuracy: 0.8 });
      return { events: [a, b], expect: [{ rule_id: 'evaluation.score_drop', entity: { type: 'model_version', id: 'fraud/2' }, evidence: [a.id, b.id] }] };
    },
    'near-miss': () => ({ events: [evalMetrics(0, 'fraud', '1', { accuracy: 0.95, test_rmse: 1.0 }), evalMetrics(1, 'fraud', '2', { accuracy: 0.945, test_rmse: 1.01 })], expect: [] }),
  },
  'evaluation.adversarial_failure': {
    fire: () => {
      const e = evalMetrics(0, 'fraud', '1', { accuracy: 0.95, adv_robust_accuracy: 0.31 });
      return { events: [e], expect: [{ rule_id: 'evaluation.adversarial_failure', entity: { type: 'model_version', id: 'fraud/1' }, evidence: [e.id] }] };
    },
    'fire-missing': () => {
      const v = ev({ time: at(T0), platform: 'mlflow', stage: 'registry', action: 'model_version.create', actor: actors.ci, ml: { model: { name: 'fraud', version: '1' } } });
      const ap = mlflowAlias(T0 + HOUR, 'fraud', '1', 'champion', actors.bobMlflow);
      return { events: [v, ap], expect: [{ rule_id: 'evaluation.adversarial_failure', entity: { type: 'model_version', id: 'fraud/1' }, evidence: [ap.id] }] };
    },
    'near-miss': () => {
      const v = ev({ time: at(T0), platform: 'mlflow', stage: 'registry', action: 'model_version.create', actor: actors.ci, ml: { model: { name: 'fraud', version: '1' } } });
      const t = ev({ time: at(T0 + 10 * 60_000), platform: 'mlflow', stage: 'registry', action: 'model_version.tag_set', actor: actors.ci, ml: { model: { name: 'fraud', version: '1', tags: { adversarial_eval: 'passed' } } } });
      return { events: [v, t, mlflowAlias(T0 + HOUR, 'fraud', '1', 'champion', actors.bobMlflow)], expect: [] };
    },
  },
  'evaluation.train_test_overlap': {
    fire: () => {
      const tr = smTraining(T0, 'fraud-train-7', actors.ci, { data: { inputs: ['s3://data/fraud/2026-02/'], outputs: ['s3://models/fraud/fraud-train-7/'] } });
      const v = mlflowVersion(T0 + HOUR, 'fraud', '7', { artifact_uri: 's3://models/fraud/fraud-train-7/output/model' });
      const e = evalMetrics(2, 'fraud', '7', { accuracy: 0.97 }, ['s3://data/fraud/2026-02/test.parquet']);
      return { events: [tr, v, e], expect: [{ rule_id: 'evaluation.train_test_overlap', entity: { type: 'model_version', id: 'fraud/7' }, evidence: [tr.id, e.id] }] };
    },
    'near-miss': () => {
      const tr = smTraining(T0, 'fraud-train-7', actors.ci, { data: { inputs: ['s3://data/fraud/2026-02/'], outputs: ['s3://models/fraud/fraud-train-7/'] } });
      const v = mlflowVersion(T0 + HOUR, 'fraud', '7', { artifact_uri: 's3://models/fraud/fraud-train-7/output/model' });
      return { events: [tr, v, evalMetrics(2, 'fraud', '7', { accuracy: 0.97 }, ['s3://data/fraud/2026-02-holdout/test.parquet'])], expect: [] };
    },
  },
  'evaluation.self_approval': {
    fire: () => {
      const tr = smTraining(T0, 'fraud-train-alice', actors.aliceAws, { data: { inputs: ['s3://data/fraud/2026-02/'], outputs: ['s3://models/fraud/fraud-train-alice/'] } });
      const v = mlflowVersion(T0 + HOUR, 'fraud', '3', { artifact_uri: 's3://models/fraud/fraud-train-alice/output/model' });
      const ap = mlflowAlias(T0 + 2 * HOUR, 'fraud', '3', 'champion', actors.aliceMlflow);
      return { events: [tr, v, ap], expect: [{ rule_id: 'evaluation.self_approval', entity: { type: 'model_version', id: 'fraud/3' }, evidence: [tr.id, ap.id] }] };
    },
    'fire-sagemaker-pipeline': () => {
      // Alice starts a SageMaker pipeline; it registers an already-approved package (approved at registration by her role).
      const exec = 'arn:aws:sagemaker:us-east-1:111122223333:pipeline/fraud/execution/abc123';
      const start = ev({ time: at(T0), platform: 'sagemaker', stage: 'training', action: 'pipeline_run.start', operation: 'StartPipelineExecution', actor: actors.aliceAws, resource: { type: 'pipeline', name: 'fraud' }, ml: { provenance: { run_id: exec, pipeline: 'fraud' } } });
      const pkg = ev({
        time: at(T0 + HOUR), platform: 'sagemaker', stage: 'registry', action: 'model_version.create', operation: 'CreateModelPackage', actor: actors.aliceAwsDeploy,
        resource: { type: 'model_package', name: 'fraud', version: '5' },
        ml: { model: { name: 'fraud', version: '5', approval: 'approved', generated_by: exec, artifact_uri: 's3://models/fraud/v5/model.tar.gz', tags: { adv_verdict: 'passed' } } },
      });
      return { events: [start, pkg], expect: [{ rule_id: 'evaluation.self_approval', entity: { type: 'model_version', id: 'fraud/5' }, evidence: [start.id, pkg.id] }] };
    },
    'near-miss': () => {
      const tr = smTraining(T0, 'fraud-train-alice', actors.aliceAws, { data: { inputs: ['s3://data/fraud/2026-02/'], outputs: ['s3://models/fraud/fraud-train-alice/'] } });
      const v = mlflowVersion(T0 + HOUR, 'fraud', '3', { artifact_uri: 's3://models/fraud/fraud-train-alice/output/model' });
      return { events: [tr, v, mlflowAlias(T0 + 2 * HOUR, 'fraud', '3', 'champion', actors.bobMlflow)], expect: [] };
    },
  },
  'registry.approved_model_modified': {
    fire: () => {
      const v = mlflowVersion(T0, 'fraud', '1');
      const ap = mlflowAlias(T0 + HOUR, 'fraud', '1', 'champion', actors.bobMlflow);
      const mod = ev({ time: at(T0 + 2 * HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.source_change', operation: 'model_version.updated', actor: actors.mallory, ml: { model: { name: 'fraud', version: '1', artifact_uri: 's3://evil/model' } } });
      return { events: [v, ap, mod], expect: [{ rule_id: 'registry.approved_model_modified', entity: { type: 'model_version', id: 'fraud/1' }, evidence: [ap.id, mod.id] }] };
    },
    'near-miss': () => {
      const v = mlflowVersion(T0, 'fraud', '1');
      const tag = ev({ time: at(T0 + 30 * 60_000), platform: 'mlflow', stage: 'registry', action: 'model_version.tag_set', actor: actors.ci, ml: { model: { name: 'fraud', version: '1', tags: { owner: 'fraud-team' } } } });
      const ap = mlflowAlias(T0 + HOUR, 'fraud', '1', 'champion', actors.bobMlflow);
      const approvalTag = ev({ time: at(T0 + 2 * HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.tag_set', actor: actors.bobMlflow, ml: { model: { name: 'fraud', version: '1', tags: { approval: 'approved' } } } });
      return { events: [v, tag, ap, approvalTag], expect: [] };
    },
  },
  'registry.unapproved_deployment': {
    fire: () => {
      const v = smPackage(0, '4', 'pending');
      const d = smDeploy(1, 'fraud-prod', { model: { name: 'fraud', version: '4' } });
      return { events: [v, d], expect: [{ rule_id: 'registry.unapproved_deployment', entity: { type: 'endpoint', id: 'fraud-prod' }, evidence: [d.id] }] };
    },
    'fire-substitution': () => {
      const v = smPackage(0, '4', 'approved');
      const d = smDeploy(1, 'fraud-prod', { model: { name: 'fraud', version: '4', artifact_uri: 's3://models/fraud/other/model.tar.gz' } });
      return { events: [v, d], expect: [{ rule_id: 'registry.unapproved_deployment', entity: { type: 'endpoint', id: 'fraud-prod' }, evidence: [v.id, d.id] }] };
    },
    'fire-endpoint-config': () => {
      const v = smPackage(0, '4', 'approved');
      const m = ev({ time: at(T0 + HOUR), platform: 'sagemaker', stage: 'serving', action: 'model.create', operation: 'CreateModel', actor: actors.ci, resource: { type: 'model', name: 'fraud-shadow' }, ml: { model: { artifact_uri: 's3://scratch/fraud/model.tar.gz' } } });
      const c = ev({ time: at(T0 + 2 * HOUR), platform: 'sagemaker', stage: 'serving', action: 'endpoint_config.create', operation: 'CreateEndpointConfig', actor: actors.ci, resource: { type: 'endpoint_config', name: 'fraud-cfg-shadow' }, ml: { deployment: { endpoint_config: 'fraud-cfg-shadow', variants: [{ name: 'AllTraffic', model: 'fraud-shadow' }] } } });
      const d = smDeploy(3, 'fraud-prod', { deployment: { endpoint: 'fraud-prod', endpoint_config: 'fraud-cfg-shadow' } });
      return { events: [v, m, c, d], expect: [{ rule_id: 'registry.unapproved_deployment', entity: { type: 'endpoint', id: 'fraud-prod' }, evidence: [d.id] }] };
    },
    'fire-kserve': () => {
      const d = ev({
        time: at(T0), platform: 'kubeflow', stage: 'serving', action: 'endpoint.update', operation: 'patch inferenceservices', service: 'kube-apiserver', actor: { name: 'mallory@corp.example', type: 'user' },
        resource: { type: 'inferenceservices', name: 'fraud', namespace: 'models' },
        // As the Kubeflow connector emits it: the storageUri the write sets is the deployment's model_uri.
        ml: { deployment: { endpoint: 'fraud', model_uri: 'gs://scratch/fraud-unreviewed/' } },
        raw: { requestObject: { spec: { predictor: { sklearn: { storageUri: 'gs://scratch/fraud-unreviewed/' } } } } },
      });
      return { events: [d], expect: [{ rule_id: 'registry.unapproved_deployment', entity: { type: 'endpoint', id: 'fraud' }, evidence: [d.id] }] };
    },
    'near-miss-package': () => {
      const v = smPackage(0, '4', 'approved');
      const m = ev({ time: at(T0 + HOUR), platform: 'sagemaker', stage: 'serving', action: 'model.create', operation: 'CreateModel', actor: actors.ci, resource: { type: 'model', name: 'fraud-4-pkg' }, ml: { model: { name: 'fraud-4-pkg', source_package: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/4' } } });
      const c = ev({ time: at(T0 + 2 * HOUR), platform: 'sagemaker', stage: 'serving', action: 'endpoint_config.create', operation: 'CreateEndpointConfig', actor: actors.ci, resource: { type: 'endpoint_config', name: 'fraud-cfg-4p' }, ml: { deployment: { endpoint_config: 'fraud-cfg-4p', variants: [{ name: 'AllTraffic', model: 'fraud-4-pkg' }] } } });
      return { events: [v, m, c, smDeploy(3, 'fraud-prod', { deployment: { endpoint: 'fraud-prod', endpoint_config: 'fraud-cfg-4p' } })], expect: [] };
    },
    'near-miss': () => {
      const v = smPackage(0, '4', 'approved');
      const m = ev({ time: at(T0 + HOUR), platform: 'sagemaker', stage: 'serving', action: 'model.create', operation: 'CreateModel', actor: actors.ci, resource: { type: 'model', name: 'fraud-4' }, ml: { model: { artifact_uri: 's3://models/fraud/v4/model.tar.gz' } } });
      const c = ev({ time: at(T0 + 2 * HOUR), platform: 'sagemaker', stage: 'serving', action: 'endpoint_config.create', operation: 'CreateEndpointConfig', actor: actors.ci, resource: { type: 'endpoint_config', name: 'fraud-cfg-4' }, ml: { deployment: { endpoint_config: 'fraud-cfg-4', variants: [{ name: 'AllTraffic', model: 'fraud-4' }] } } });
      return { events: [v, m, c, smDeploy(3, 'fraud-prod', { deployment: { endpoint: 'fraud-prod', endpoint_config: 'fraud-cfg-4' } }), smDeploy(4, 'fraud-prod', { model: { name: 'fraud', version: '4' } })], expect: [] };
    },
  },
  'serving.unapproved_batch_inference': {
    // A transform job runs the SageMaker Model made from package fraud/4, which was rejected after review.
    fire: () => {
      const v = smPackage(0, '4', 'pending');
      const r = ev({ time: at(T0 + HOUR), platform: 'sagemaker', stage: 'registry', action: 'model_version.update', operation: 'UpdateModelPackage', actor: actors.bob, resource: { type: 'model_package', name: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/4' }, ml: { model: { name: 'fraud', version: '4', approval: 'rejected' } } });
      const m = smModelFromPackage(2, 'fraud-4-pkg', '4');
      const j = smTransform(3, 'fraud-score-2026-03-02-13-00-00', 'fraud-4-pkg');
      return { events: [v, r, m, j], expect: [{ rule_id: 'serving.unapproved_batch_inference', entity: { type: 'batch_job', id: 'fraud-score' }, evidence: [r.id, j.id] }] };
    },
    // Vertex: version 2 was uploaded but never approved; with pending judged, scoring production data with it alerts.
    'fire-vertex-pending': () => {
      const [u1, a1] = vertexVersions();
      const u2 = ev({ time: at(T0 + 2 * HOUR), platform: 'vertex', stage: 'registry', action: 'model.upload', operation: 'google.cloud.aiplatform.v1.ModelService.UploadModel', actor: actors.ciGcp, resource: { type: 'model', name: 'projects/p/locations/us-central1/models/123' }, ml: { model: { name: 'projects/p/locations/us-central1/models/123', version: '2', artifact_uri: 'gs://models/fraud/2/' } } });
      const j = vxBatch(3, 'projects/p/locations/us-central1/models/123@2', '2', 'bq://p.scores.fraud');
      return { config: { 'serving.unapproved_batch_inference': { judge: ['never_approved', 'pending'], evaluation_outputs: ['gs://ml-eval/*'] } }, events: [u1!, a1!, u2, j], expect: [{ rule_id: 'serving.unapproved_batch_inference', entity: { type: 'batch_job', id: 'fraud-nightly' }, evidence: [j.id] }] };
    },
    // The approved package scored in production; a pending one scored by an evaluation job (pending is not judged by default).
    'near-miss': () => {
      const [u1, a1] = vertexVersions();
      return {
        events: [
          smPackage(0, '4', 'approved'), smModelFromPackage(1, 'fraud-4-pkg', '4'), smTransform(2, 'fraud-score-2026-03-02-12-00-00', 'fraud-4-pkg'),
          smPackage(3, '5', 'pending'), smModelFromPackage(4, 'fraud-5-pkg', '5'), smTransform(5, 'fraud-eval-2026-03-02-15-00-00', 'fraud-5-pkg'),
          u1!, a1!, vxBatch(6, 'projects/p/locations/us-central1/models/123@production', '1', 'bq://p.scores.fraud'),
        ],
        expect: [],
      };
    },
  },
  'registry.rejection_reversed': {
    // SageMaker package fraud/4 rejected after review, then approved by someone else with the same weights.
    fire: () => {
      const v = smPackage(0, '4', 'pending');
      const decide = (hours: number, approval: 'approved' | 'rejected', actor: NormalizedEvent['actor']) => ev({ time: at(T0 + hours * HOUR), platform: 'sagemaker', stage: 'registry', action: approval === 'approved' ? 'model_version.approve' : 'model_version.update', operation: 'UpdateModelPackage', actor, resource: { type: 'model_package', name: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/4' }, ml: { model: { name: 'fraud', version: '4', approval } } });
      const r = decide(1, 'rejected', actors.bob);
      const a = decide(5, 'approved', actors.ci);
      return { events: [v, r, a], expect: [{ rule_id: 'registry.rejection_reversed', entity: { type: 'model_version', id: 'fraud/4' }, evidence: [r.id, a.id] }] };
    },
    // Approved with no rejection before it, and a rejection after an approval: decisions, none reversed.
    'near-miss': () => {
      const decide = (hours: number, version: string, approval: 'approved' | 'rejected') => ev({ time: at(T0 + hours * HOUR), platform: 'sagemaker', stage: 'registry', action: approval === 'approved' ? 'model_version.approve' : 'model_version.update', operation: 'UpdateModelPackage', actor: actors.bob, resource: { type: 'model_package', name: `arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/${version}` }, ml: { model: { name: 'fraud', version, approval } } });
      return { events: [smPackage(0, '4', 'pending'), decide(1, '4', 'approved'), smPackage(2, '5', 'pending'), decide(3, '5', 'approved'), decide(4, '5', 'rejected')], expect: [] };
    },
  },
  'registry.version_rollback': {
    fire: () => {
      const [u1, a1, u2, a2] = vertexVersions();
      const d2 = vxDeploy(5, '2');
      const d1 = vxDeploy(6, '1');
      return { events: [u1!, a1!, u2!, a2!, d2, d1], expect: [{ rule_id: 'registry.version_rollback', entity: { type: 'endpoint', id: 'projects/p/locations/us-central1/endpoints/9' }, evidence: [d2.id, d1.id] }] };
    },
    'near-miss': () => ({ events: [...vertexVersions(), vxDeploy(5, '1'), vxDeploy(6, '2')], expect: [] }),
    'fire-default-version': () => {
      // DeployModel naming the model without a version serves its `default` alias: version 1 here, after version 2.
      const [u1, a1, u2, a2] = vertexVersions();
      const e = 'projects/p/locations/us-central1/endpoints/9';
      const def = ev({ time: at(T0 + 4 * HOUR), platform: 'vertex', stage: 'registry', action: 'model_version.alias_set', operation: 'google.cloud.aiplatform.v1.ModelService.MergeVersionAliases', actor: actors.bob, resource: { type: 'model', name: 'projects/p/locations/us-central1/models/123@1' }, ml: { model: { name: 'projects/p/locations/us-central1/models/123', version: '1', aliases: ['default'] } } });
      const d = ev({ time: at(T0 + 5 * HOUR), platform: 'vertex', stage: 'serving', action: 'endpoint.deploy', operation: 'google.cloud.aiplatform.v1.EndpointService.DeployModel', actor: actors.ciGcp, resource: { type: 'endpoint', name: e }, ml: { deployment: { endpoint: e, model_uri: 'projects/p/locations/us-central1/models/123' }, model: { name: 'projects/p/locations/us-central1/models/123' } } });
      const d2 = vxDeploy(4.5, '2');
      return { events: [u1!, a1!, u2!, a2!, def, d2, d], expect: [{ rule_id: 'registry.version_rollback', entity: { type: 'endpoint', id: e }, evidence: [d2.id, d.id] }] };
    },
  },
  'serving.hash_mismatch': {
    fire: () => {
      const v = mlflowVersion(T0, 'fraud', '8');
      const h = hashReg(1, 'fraud', '8', sha('a'));
      const at1 = attest(2, 'fraud', '8', sha('b'));
      return { events: [v, h, at1], expect: [{ rule_id: 'serving.hash_mismatch', entity: { type: 'model_version', id: 'fraud/8' }, evidence: [h.id, at1.id] }] };
    },
    'fire-auditor': () => {
      const v = mlflowVersion(T0, 'fraud', '8');
      const h = hashReg(1, 'fraud', '8', sha('a'));
      const mm = ev({ time: at(T0 + 2 * HOUR), platform: 'mlflow', stage: 'serving', action: 'model_version.hash_mismatch', operation: 'audit.verify', outcome: 'failure', actor: { name: 'mltrail-auditor', type: 'service' }, ml: { model: { name: 'fraud', version: '8', sha256: sha('c') } } });
      return { events: [v, h, mm], expect: [{ rule_id: 'serving.hash_mismatch', entity: { type: 'model_version', id: 'fraud/8' }, evidence: [h.id, mm.id] }] };
    },
    'near-miss': () => ({ events: [mlflowVersion(T0, 'fraud', '8'), hashReg(1, 'fraud', '8', sha('a')), attest(2, 'fraud', '8', sha('a'))], expect: [] }),
  },
  'serving.behavioral_drift': {
    fire: () => {
      const e = ev({
        time: at(T0), platform: 'vertex', stage: 'serving', action: 'monitor.anomaly', operation: 'ModelMonitoringAnomaliesLogEntry', outcome: 'unknown',
        resource: { type: 'model_deployment_monitoring_job', name: 'projects/123/locations/us-central1/modelDeploymentMonitoringJobs/77' },
        ml: { deployment: { endpoint: 'projects/p/locations/us-central1/endpoints/9' } }, details: { anomaly_objective: 'RAW_FEATURE_DRIFT' },
      });
      return { events: [e], expect: [{ rule_id: 'serving.behavioral_drift', entity: { type: 'endpoint', id: 'projects/p/locations/us-central1/endpoints/9' }, evidence: [e.id] }] };
    },
    'near-miss': () => ({
      events: [ev({ time: at(T0), platform: 'vertex', stage: 'serving', action: 'monitor.start', operation: 'ResumeModelDeploymentMonitoringJob', actor: actors.ciGcp, resource: { type: 'model_deployment_monitoring_job', name: 'projects/123/locations/us-central1/modelDeploymentMonitoringJobs/77' } })],
      expect: [],
    }),
  },
  'platform.artifact_exported': {
    fire: () => {
      const e = ev({
        time: at(T0), platform: 'vertex', stage: 'registry', action: 'model_version.export', operation: 'google.cloud.aiplatform.v1.ModelService.ExportModel', actor: actors.aliceGcp,
        resource: { type: 'model', id: 'projects/p/locations/us-central1/models/55@2', name: '55', version: '2' },
        ml: { model: { name: 'projects/p/locations/us-central1/models/55', version: '2' }, data: { uris: ['gs://alice-personal/fraud/'], outputs: ['gs://alice-personal/fraud/'] } },
      });
      return { events: [e], expect: [{ rule_id: 'platform.artifact_exported', entity: { type: 'model', id: 'projects/p/locations/us-central1/models/55/2' }, evidence: [e.id] }] };
    },
    // An export to the allowed bucket, a copy out of a bucket that is no model or training bucket (no export_of), a refused export.
    'near-miss': () => ({
      config: { 'platform.artifact_exported': { allowed_destinations: ['gs://corp-ml-exports/*'] } },
      events: [
        ev({ time: at(T0), platform: 'vertex', stage: 'ingestion', action: 'dataset.export', operation: 'google.cloud.aiplatform.v1.DatasetService.ExportData', actor: actors.ciGcp, resource: { type: 'dataset', id: 'projects/p/locations/us-central1/datasets/9' }, ml: { data: { outputs: ['gs://corp-ml-exports/fraud/2026-03/'] } } }),
        ev({ time: at(T0 + HOUR), platform: 'sagemaker', stage: 'platform', action: 'data_object.copy', operation: 'CopyObject', actor: actors.ci, ml: { data: { uris: ['s3://scratch/x'], inputs: ['s3://tmp/x'], outputs: ['s3://scratch/x'] } } }),
        ev({ time: at(T0 + 2 * HOUR), platform: 'vertex', stage: 'registry', action: 'model.export', operation: 'google.cloud.aiplatform.v1.ModelService.ExportModel', outcome: 'failure', error: { code: 'FAILED_PRECONDITION', message: 'the model has no supported export format' }, actor: actors.bob, ml: { data: { outputs: ['gs://bob-personal/'] } } }),
      ],
      expect: [],
    }),
  },
  'platform.artifact_shared': {
    fire: () => {
      const e = ev({
        time: at(T0), platform: 'sagemaker', stage: 'registry', action: 'permission.change', operation: 'PutModelPackageGroupPolicy', actor: actors.aliceAws, cloud: { provider: 'aws', account: '111122223333', region: 'us-east-1' },
        resource: { type: 'model_package_group', id: 'arn:aws:sagemaker:us-east-1:111122223333:model-package-group/fraud', name: 'fraud' },
        details: { share_of: 'model', grantees: ['arn:aws:iam::444455556666:root'] },
      });
      return { events: [e], expect: [{ rule_id: 'platform.artifact_shared', entity: { type: 'model', id: 'arn:aws:sagemaker:us-east-1:111122223333:model-package-group/fraud' }, evidence: [e.id] }] };
    },
    // A grant to the own account's role, one to an allowed partner account, and a policy change on no model or data store.
    'near-miss': () => ({
      config: { 'platform.artifact_shared': { allowed_accounts: ['444455556666'] } },
      events: [
        ev({ time: at(T0), platform: 'sagemaker', stage: 'registry', action: 'permission.change', operation: 'PutModelPackageGroupPolicy', actor: actors.aliceAws, cloud: { provider: 'aws', account: '111122223333' }, resource: { type: 'model_package_group', name: 'fraud' }, details: { share_of: 'model', grantees: ['arn:aws:iam::111122223333:role/Deployer'] } }),
        ev({ time: at(T0 + HOUR), platform: 'sagemaker', stage: 'registry', action: 'permission.change', operation: 'PutModelPackageGroupPolicy', actor: actors.aliceAws, cloud: { provider: 'aws', account: '111122223333' }, resource: { type: 'model_package_group', name: 'churn' }, details: { share_of: 'model', grantees: ['444455556666'] } }),
        ev({ time: at(T0 + 2 * HOUR), platform: 'sagemaker', stage: 'platform', action: 'permission.change', operation: 'PutBucketPolicy', actor: actors.aliceAws, cloud: { provider: 'aws', account: '111122223333' }, resource: { type: 's3_bucket', name: 'website' }, details: { grantees: ['*'] } }),
      ],
      expect: [],
    }),
  },
  'platform.notebook_exposure': {
    // A notebook instance lifecycle configuration whose OnStart pipes a download into bash (run as root at every start).
    fire: () => {
      const e = ev({
        time: at(T0), platform: 'sagemaker', stage: 'platform', action: 'resource.create', operation: 'CreateNotebookInstanceLifecycleConfig', actor: actors.aliceAws, cloud: { provider: 'aws', account: '111122223333', region: 'us-east-1' },
        resource: { type: 'notebook_instance_lifecycle_config', id: 'arn:aws:sagemaker:us-east-1:111122223333:notebook-instance-lifecycle-config/lc-tools', name: 'lc-tools' },
        details: { lifecycle_scripts: true, script_hooks: ['on_start'], script_code_uris: ['https://paste.example.net/raw/x.sh'], script_piped_to_shell: ['https://paste.example.net/raw/x.sh'] },
      });
      return { events: [e], expect: [{ rule_id: 'platform.notebook_exposure', entity: { type: 'notebook_instance_lifecycle_config', id: 'arn:aws:sagemaker:us-east-1:111122223333:notebook-instance-lifecycle-config/lc-tools' }, evidence: [e.id] }] };
    },
    // A script fetching from the team's trusted bucket, a notebook instance in a VPC subnet, and a user opening their own Studio.
    'near-miss': () => ({
      config: { 'platform.notebook_exposure': { trusted_code_locations: ['s3://ml-platform-code/*'] } },
      events: [
        ev({ time: at(T0), platform: 'sagemaker', stage: 'platform', action: 'resource.create', operation: 'CreateNotebookInstanceLifecycleConfig', actor: actors.aliceAws, cloud: { provider: 'aws', account: '111122223333', region: 'us-east-1' }, resource: { type: 'notebook_instance_lifecycle_config', name: 'lc-team' }, details: { lifecycle_scripts: true, script_hooks: ['on_start'], script_code_uris: ['s3://ml-platform-code/lifecycle/autostop.py'], script_package_sources: ['https://pypi.org/simple'] } }),
        ev({ time: at(T0 + HOUR), platform: 'sagemaker', stage: 'platform', action: 'notebook.create', operation: 'CreateNotebookInstance', actor: actors.aliceAws, cloud: { provider: 'aws', account: '111122223333', region: 'us-east-1' }, resource: { type: 'notebook_instance', name: 'nb-alice' }, details: { subnet_id: 'subnet-0abc', root_access: 'Enabled', direct_internet_access: 'Disabled' } }),
        ev({ time: at(T0 + 2 * HOUR), platform: 'sagemaker', stage: 'platform', action: 'notebook.open', operation: 'CreatePresignedDomainUrl', actor: actors.aliceAws, cloud: { provider: 'aws', account: '111122223333', region: 'us-east-1' }, resource: { type: 'domain', name: 'd-abc123' }, details: { domain_id: 'd-abc123', user_profile_name: 'alice' } }),
      ],
      expect: [],
    }),
  },
  'platform.ml_workload_access': {
    // `kubectl cp` into a KServe predictor's model directory (an exec of tar), as the Kubeflow connector reads it.
    fire: () => {
      const e = ev({
        time: at(T0), platform: 'kubeflow', stage: 'platform', action: 'pod.exec', operation: 'create pods/exec', service: 'kube-apiserver', actor: { id: 'mallory@corp.example', name: 'mallory@corp.example', email: 'mallory@corp.example', type: 'user' },
        resource: { type: 'pods', id: 'namespaces/kubeflow-user-alice/pods/fraud-predictor-00001-deployment-7d9f8c6b5-x2x9z', name: 'fraud-predictor-00001-deployment-7d9f8c6b5-x2x9z', namespace: 'kubeflow-user-alice' },
        details: { subresource: 'exec', exec_command: ['tar', 'xmf', '-', '-C', '/mnt/models'], container: 'kserve-container', ml_workload: { kind: 'model_server', endpoint: 'kubeflow-user-alice/fraud', component: 'predictor', from: 'name' } },
      });
      return { events: [e], expect: [{ rule_id: 'platform.ml_workload_access', entity: { type: 'endpoint', id: 'kubeflow-user-alice/fraud' }, evidence: [e.id] }] };
    },
    // KServe's controller rewriting its own Deployment, a rollout restart, a refused exec, and a break-glass admin's exec.
    'near-miss': () => ({
      config: { 'platform.ml_workload_access': { exempt: ['sre-breakglass@corp.example'] } },
      events: [
        ev({ time: at(T0), platform: 'kubeflow', stage: 'platform', action: 'workload.update', operation: 'update deployments', actor: { id: 'system:serviceaccount:kserve:kserve-controller-manager', name: 'kserve-controller-manager', type: 'service' }, resource: { type: 'deployments', name: 'churn-predictor', namespace: 'kubeflow-user-alice' }, details: { ml_workload: { kind: 'model_server', endpoint: 'kubeflow-user-alice/churn', component: 'predictor', from: 'labels' }, pod_spec_changed: true, by_workload_controller: true } }),
        ev({ time: at(T0 + HOUR), platform: 'kubeflow', stage: 'platform', action: 'workload.update', operation: 'patch deployments', actor: { id: 'alice@corp.example', name: 'alice@corp.example', email: 'alice@corp.example', type: 'user' }, resource: { type: 'deployments', name: 'churn-predictor', namespace: 'kubeflow-user-alice' }, details: { ml_workload: { kind: 'model_server', endpoint: 'kubeflow-user-alice/churn', component: 'predictor', from: 'name' }, pod_spec_changed: false } }),
        ev({ time: at(T0 + 2 * HOUR), platform: 'kubeflow', stage: 'platform', action: 'pod.exec', operation: 'create pods/exec', outcome: 'failure', actor: { id: 'mallory@corp.example', name: 'mallory@corp.example', email: 'mallory@corp.example', type: 'user' }, resource: { type: 'pods', name: 'fraud-predictor-00001-deployment-7d9f8c6b5-x2x9z', namespace: 'kubeflow-user-alice' }, details: { subresource: 'exec', exec_command: ['sh'], ml_workload: { kind: 'model_server', endpoint: 'kubeflow-user-alice/fraud', from: 'name' } } }),
        ev({ time: at(T0 + 3 * HOUR), platform: 'kubeflow', stage: 'platform', action: 'pod.exec', operation: 'create pods/exec', actor: { id: 'oidc:sre-breakglass@corp.example', name: 'sre-breakglass@corp.example', email: 'sre-breakglass@corp.example', type: 'user' }, resource: { type: 'pods', name: 'fraud-predictor-00001-deployment-7d9f8c6b5-x2x9z', namespace: 'kubeflow-user-alice' }, details: { subresource: 'exec', exec_command: ['sh'], ml_workload: { kind: 'model_server', endpoint: 'kubeflow-user-alice/fraud', from: 'name' } } }),
      ],
      expect: [],
    }),
  },
  'serving.unverified_image': {
    fire: () => {
      const e = kserveIsvc(T0, 'ghcr.io/mallory/predictor:latest');
      return { events: [e], expect: [{ rule_id: 'serving.unverified_image', entity: { type: 'endpoint', id: 'kubeflow-user-alice/fraud' }, evidence: [e.id] }] };
    },
    // The clouds' prebuilt serving containers by tag, and a team image pinned in its ECR.
    'near-miss': () => ({
      events: [
        ev({ time: at(T0), platform: 'sagemaker', stage: 'serving', action: 'model.create', operation: 'CreateModel', actor: actors.ci, resource: { type: 'model', name: 'fraud-dlc' }, ml: { model: { name: 'fraud-dlc', image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1.0-cpu-py310', artifact_uri: 's3://models/fraud/model.tar.gz' } } }),
        ev({ time: at(T0 + HOUR), platform: 'sagemaker', stage: 'serving', action: 'model.create', operation: 'CreateModel', actor: actors.ci, resource: { type: 'model', name: 'fraud-own' }, ml: { model: { name: 'fraud-own', image: ECR_IMAGE, artifact_uri: 's3://models/fraud/model.tar.gz' } } }),
        ev({ time: at(T0 + 2 * HOUR), platform: 'vertex', stage: 'registry', action: 'model.upload', operation: 'google.cloud.aiplatform.v1.ModelService.UploadModel', actor: actors.ciGcp, resource: { type: 'model', name: 'projects/p/locations/us-central1/models/123' }, ml: { model: { name: 'projects/p/locations/us-central1/models/123', image: 'us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest' } } }),
        kserveIsvc(T0 + 3 * HOUR, 'kserve/sklearnserver:v0.14.0'),
      ],
      expect: [],
    }),
  },
  'serving.runtime_model_source': {
    fire: () => {
      const e = kserveRuntime(T0, { mlflow_registry_unwatched: true, artifact_env: { MLFLOW_S3_ENDPOINT_URL: 'http://minio.evil.example:9000' }, artifact_endpoint_unlisted: ['MLFLOW_S3_ENDPOINT_URL'] }, 'https://mlflow.attacker.example');
      return { events: [e], expect: [{ rule_id: 'serving.runtime_model_source', entity: { type: 'servingruntimes', id: 'kubeflow-user-alice/mlflow-runtime' }, evidence: [e.id] }] };
    },
    // A watched registry and a listed endpoint; a runtime env the log does not show is recorded, not judged.
    'near-miss': () => ({
      events: [
        kserveRuntime(T0, { artifact_env: { MLFLOW_S3_ENDPOINT_URL: 'http://minio.minio.svc:9000' } }, 'http://mlflow.mlflow.svc:5000'),
        kserveRuntime(T0 + HOUR, { mlflow_env_unverifiable: ['MLFLOW_REGISTRY_URI'] }, 'http://mlflow.mlflow.svc:5000'),
      ],
      expect: [],
    }),
  },
  'serving.model_source_unverifiable': {
    fire: () => {
      const e = kserveModelsUri(T0 + HOUR, { artifact_env_unverifiable: ['MLFLOW_S3_ENDPOINT_URL'], artifact_endpoint_unverifiable: true, mlflow_env_secret_unverifiable: ['MLFLOW_REGISTRY_URI'] });
      return { events: [...approvedFraud3(), e], expect: [{ rule_id: 'serving.model_source_unverifiable', entity: { type: 'endpoint', id: 'kubeflow-user-alice/fraud' }, evidence: [e.id] }] };
    },
    // Without artifact_endpoints a hidden endpoint is recorded only; a trusting cluster's names are trusted.
    'near-miss': () => ({
      events: [
        ...approvedFraud3(),
        kserveModelsUri(T0 + HOUR, { artifact_env_unverifiable: ['MLFLOW_S3_ENDPOINT_URL'] }),
        kserveModelsUri(T0 + 2 * HOUR, { artifact_env_unverifiable: ['MLFLOW_S3_ENDPOINT_URL'], mlflow_env_trusted: ['MLFLOW_REGISTRY_URI', 'MLFLOW_S3_ENDPOINT_URL'] }),
      ],
      expect: [],
    }),
  },
  'access.separation_of_duties': {
    fire: () => {
      const w = ev({ time: at(T0), platform: 'sagemaker', stage: 'ingestion', action: 'data_object.write', operation: 'PutObject', actor: actors.aliceAwsData, ml: { data: { uris: ['s3://data/fraud/2026-03/labels.parquet'] } } });
      const v = mlflowVersion(T0 + 5 * DAY, 'fraud', '9');
      const ap = mlflowAlias(T0 + 10 * DAY, 'fraud', '9', 'champion', actors.aliceMlflow);
      return { events: [w, v, ap], expect: [{ rule_id: 'access.separation_of_duties', entity: { type: 'identity', id: 'alice@corp.example' }, evidence: [w.id, ap.id] }] };
    },
    'fire-deploy': () => {
      const w = ev({ time: at(T0), platform: 'sagemaker', stage: 'ingestion', action: 'data_object.write', operation: 'PutObject', actor: actors.aliceAwsData, ml: { data: { uris: ['s3://data/fraud/2026-03/labels.parquet'] } } });
      const v = smPackage(24, '4', 'approved');
      const d = smDeploy(48, 'fraud-prod', { model: { name: 'fraud', version: '4' } }, actors.aliceAwsDeploy);
      return { events: [w, v, d], expect: [{ rule_id: 'access.separation_of_duties', entity: { type: 'identity', id: 'alice@corp.example' }, evidence: [w.id, d.id] }] };
    },
    'fire-delete': () => {
      // Deleting training data (labels removed from a listed training bucket: DeleteObjects names only the bucket) changes what is trained on.
      const w = ev({ time: at(T0), platform: 'sagemaker', stage: 'ingestion', action: 'data_object.delete', operation: 'DeleteObjects', actor: actors.aliceAwsData, resource: { type: 's3_bucket', id: 's3://training-data', name: 'training-data', uri: 's3://training-data' }, ml: { data: { uris: ['s3://training-data'] } } });
      const v = smPackage(24, '4', 'approved');
      const d = smDeploy(48, 'fraud-prod', { model: { name: 'fraud', version: '4' } }, actors.aliceAwsDeploy);
      return { events: [w, v, d], expect: [{ rule_id: 'access.separation_of_duties', entity: { type: 'identity', id: 'alice@corp.example' }, evidence: [w.id, d.id] }] };
    },
    'fire-s3-training-data': () => {
      // S3 PutObject arrives with stage platform; the configured training-data prefix makes it a data write.
      const w = ev({ time: at(T0), platform: 'sagemaker', stage: 'platform', action: 'data_object.write', operation: 'PutObject', actor: actors.aliceAwsData, resource: { type: 's3_object', uri: 's3://training-data/fraud/labels.csv' }, ml: { data: { uris: ['s3://training-data/fraud/labels.csv'] } } });
      const other = ev({ time: at(T0 + HOUR), platform: 'sagemaker', stage: 'platform', action: 'data_object.write', operation: 'PutObject', actor: actors.bob, ml: { data: { uris: ['s3://scratch/bob/notes.txt'] } } });
      const v = smPackage(24, '4', 'approved');
      const d = smDeploy(48, 'fraud-prod', { model: { name: 'fraud', version: '4' } }, actors.aliceAwsDeploy);
      const d2 = smDeploy(49, 'fraud-prod', { model: { name: 'fraud', version: '4' } }, actors.bob);
      return {
        config: { 'access.separation_of_duties': { training_data_uris: ['s3://training-data/*'] } },
        events: [w, other, v, d, d2],
        expect: [{ rule_id: 'access.separation_of_duties', entity: { type: 'identity', id: 'alice@corp.example' }, evidence: [w.id, d.id] }],
      };
    },
    'near-miss': () => {
      const w = ev({ time: at(T0), platform: 'sagemaker', stage: 'ingestion', action: 'data_object.write', operation: 'PutObject', actor: actors.aliceAwsData, ml: { data: { uris: ['s3://data/fraud/2026-03/labels.parquet'] } } });
      const v = mlflowVersion(T0 + 5 * DAY, 'fraud', '9');
      return { events: [w, v, mlflowAlias(T0 + 31 * DAY, 'fraud', '9', 'champion', actors.aliceMlflow), mlflowAlias(T0 + 32 * DAY, 'fraud', '9', 'prod', actors.bobMlflow)], expect: [] };
    },
  },
  'kubeflow-run': {
    // A KFP run (created by alice) trains and evaluates; MLflow registers the model artifact afterwards; alice approves it.
    fire: () => {
      const run = 'kfp-run-7f3a';
      const prev = mlflowVersion(T0 - DAY, 'fraud', '1', { artifact_uri: 'gs://kfp/old/model' });
      const prevEval = ev({ time: at(T0 - DAY + HOUR), platform: 'kubeflow', stage: 'evaluation', action: 'evaluation.metrics', operation: 'mlmd.event.output', actor: actors.kfRunner, ml: { model: { name: 'fraud', version: '1' }, metrics: { accuracy: 0.95 } } });
      const create = ev({ time: at(T0), platform: 'kubeflow', stage: 'training', action: 'pipeline_run.create', operation: 'CreateRun', actor: actors.aliceGcp, resource: { type: 'pipeline_run', name: 'fraud-train' }, ml: { provenance: { run_id: run, pipeline: 'fraud-train' }, job: { name: 'fraud-train', image: ECR_IMAGE, image_pinned: true } } });
      const model = ev({ time: at(T0 + HOUR), platform: 'kubeflow', stage: 'training', action: 'artifact.produce', operation: 'mlmd.event.output', actor: actors.kfRunner, resource: { type: 'system.Model', name: 'model', uri: `gs://kfp/${run}/model` }, ml: { model: { artifact_uri: `gs://kfp/${run}/model`, run_id: run, name: 'model' }, data: { inputs: ['gs://data/fraud/train'], outputs: [`gs://kfp/${run}/model`] }, provenance: { run_id: run } } });
      const evalEv = ev({ time: at(T0 + 2 * HOUR), platform: 'kubeflow', stage: 'evaluation', action: 'evaluation.metrics', operation: 'mlmd.event.output', actor: actors.kfRunner, resource: { type: 'system.ClassificationMetrics', name: 'metrics' }, ml: { metrics: { accuracy: 0.81, adv_robust_accuracy: 0.77 }, data: { inputs: ['gs://data/fraud/train/part-0009.parquet'], outputs: [`gs://kfp/${run}/metrics`] }, provenance: { run_id: run } } });
      const reg = mlflowVersion(T0 + 3 * HOUR, 'fraud', '2', { artifact_uri: `gs://kfp/${run}/model` });
      const ap = mlflowAlias(T0 + 4 * HOUR, 'fraud', '2', 'champion', actors.aliceMlflow);
      return {
        events: [prev, prevEval, create, model, evalEv, reg, ap],
        expect: [
          { rule_id: 'evaluation.train_test_overlap', entity: { type: 'model_version', id: 'fraud/2' }, evidence: [model.id, evalEv.id, reg.id] },
          { rule_id: 'evaluation.score_drop', entity: { type: 'model_version', id: 'fraud/2' }, evidence: [prevEval.id, evalEv.id] },
          { rule_id: 'evaluation.self_approval', entity: { type: 'model_version', id: 'fraud/2' }, evidence: [create.id, ap.id] },
        ],
      };
    },
  },
  'cross-platform': {
    // Trained on SageMaker by alice, registered in MLflow, approved in MLflow by alice, deployed on Vertex from the mirrored artifact.
    fire: () => {
      const tr = smTraining(T0, 'fraud-train-x', actors.aliceAws, { data: { inputs: ['s3://data/fraud/2026-02/'], outputs: ['s3://models/fraud/fraud-train-x/'] } });
      const v = mlflowVersion(T0 + HOUR, 'fraud', '12', { artifact_uri: 's3://models/fraud/fraud-train-x/output/model' });
      const h = hashReg(2, 'fraud', '12', sha('1'));
      const ap = mlflowAlias(T0 + 3 * HOUR, 'fraud', '12', 'champion', actors.aliceMlflow);
      const up = ev({ time: at(T0 + 4 * HOUR), platform: 'vertex', stage: 'registry', action: 'model.upload', operation: 'google.cloud.aiplatform.v1.ModelService.UploadModel', actor: actors.ciGcp, resource: { type: 'model', name: 'projects/p/locations/us-central1/models/555' }, ml: { model: { name: 'projects/p/locations/us-central1/models/555', version: '1', artifact_uri: 'gs://mirror/fraud/fraud-train-x/output/model/' } } });
      const d = ev({ time: at(T0 + 5 * HOUR), platform: 'vertex', stage: 'serving', action: 'endpoint.deploy', operation: 'google.cloud.aiplatform.v1.EndpointService.DeployModel', actor: actors.ciGcp, resource: { type: 'endpoint', name: 'projects/p/locations/us-central1/endpoints/42' }, ml: { deployment: { endpoint: 'projects/p/locations/us-central1/endpoints/42' }, model: { name: 'projects/p/locations/us-central1/models/555@1' } } });
      const rogue = ev({ time: at(T0 + 6 * HOUR), platform: 'vertex', stage: 'serving', action: 'endpoint.deploy', operation: 'google.cloud.aiplatform.v1.EndpointService.DeployModel', actor: actors.aliceGcp, resource: { type: 'endpoint', name: 'projects/p/locations/us-central1/endpoints/43' }, ml: { deployment: { endpoint: 'projects/p/locations/us-central1/endpoints/43' }, model: { name: 'projects/p/locations/us-central1/models/777@1' } } });
      const att = attest(7, 'fraud', '12', sha('2'));
      return {
        config: { artifact_mirrors: [{ from: 's3://models/', to: 'gs://mirror/' }] },
        events: [tr, v, h, ap, up, d, rogue, att],
        expect: [
          { rule_id: 'evaluation.self_approval', entity: { type: 'model_version', id: 'fraud/12' }, evidence: [tr.id, ap.id] },
          { rule_id: 'registry.unapproved_deployment', entity: { type: 'endpoint', id: 'projects/p/locations/us-central1/endpoints/43' }, evidence: [rogue.id] },
          { rule_id: 'serving.hash_mismatch', entity: { type: 'model_version', id: 'fraud/12' }, evidence: [h.id, att.id] },
        ],
      };
    },
    // Evaluated on Vertex (with adversarial evidence) before MLflow knows the version, then approved in MLflow by the
    // same person: linked by name+version whatever the order (self-approval, and the Vertex evidence counts).
    'fire-evaluated-first': () => {
      const e = ev({ time: at(T0), platform: 'vertex', stage: 'evaluation', action: 'evaluation.metrics', operation: 'evaluation.metrics', actor: actors.aliceGcp, ml: { model: { name: 'sa', version: '4' }, metrics: { accuracy: 0.9, adv_robust_accuracy: 0.9 } } });
      const ap = mlflowAlias(T0 + HOUR, 'sa', '4', 'champion', actors.aliceMlflow);
      return {
        events: [e, ap],
        expect: [{ rule_id: 'evaluation.self_approval', entity: { type: 'model_version', id: 'sa/4' }, evidence: [e.id, ap.id] }],
      };
    },
  },
};

function imp(hours: number, schema: string): NormalizedEvent {
  return ev({ time: at(T0 + hours * HOUR), platform: 'vertex', stage: 'ingestion', action: 'dataset.import', operation: 'ImportData', actor: actors.ingestSa, resource: { type: 'dataset', name: 'transactions' }, ml: { data: { rows: 1000, schema_hash: schema } } });
}
function prep(day: number, digest: string, commit: string): NormalizedEvent {
  const job = `features-${at(T0 + day * DAY).slice(0, 10)}-10-00-00`;
  return ev({
    time: at(T0 + day * DAY), platform: 'sagemaker', stage: 'preprocessing', action: 'processing_job.create', operation: 'CreateProcessingJob', actor: actors.ci, resource: { type: 'processing_job', name: job },
    ml: { job: { name: job, image: `111122223333.dkr.ecr.us-east-1.amazonaws.com/features@sha256:${digest}`, image_digest: `sha256:${digest}`, image_pinned: true, network_isolation: true }, code: { repo: 'git@example.com:ml/features.git', commit } },
  });
}
function evalMetrics(hours: number, name: string, version: string, metrics: Record<string, number>, inputs?: string[]): NormalizedEvent {
  return ev({ time: at(T0 + hours * HOUR), platform: 'kubeflow', stage: 'evaluation', action: 'evaluation.metrics', operation: 'evaluate', actor: actors.kfRunner, ml: { model: { name, version }, metrics, ...(inputs ? { data: { inputs } } : {}) } });
}
function smPackage(hours: number, version: string, approval: 'approved' | 'pending'): NormalizedEvent {
  return ev({
    time: at(T0 + hours * HOUR), platform: 'sagemaker', stage: 'registry', action: 'model_version.create', operation: 'CreateModelPackage', actor: actors.ci,
    resource: { type: 'model_package', name: `arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/${version}` },
    ml: { model: { name: 'fraud', version, approval, artifact_uri: `s3://models/fraud/v${version}/model.tar.gz`, tags: { adv_robust_accuracy: '0.8' } } },
  });
}
function smDeploy(hours: number, endpoint: string, ml: NonNullable<NormalizedEvent['ml']>, actor: NormalizedEvent['actor'] = actors.ci): NormalizedEvent {
  return ev({ time: at(T0 + hours * HOUR), platform: 'sagemaker', stage: 'serving', action: 'endpoint.update', operation: 'UpdateEndpoint', actor, resource: { type: 'endpoint', name: endpoint }, ml: { deployment: { endpoint }, ...ml } });
}
function vertexVersions(): NormalizedEvent[] {
  const m = 'projects/p/locations/us-central1/models/123';
  return ['1', '2'].flatMap((v, i) => [
    ev({ time: at(T0 + i * 2 * HOUR), platform: 'vertex', stage: 'registry', action: 'model.upload', operation: 'google.cloud.aiplatform.v1.ModelService.UploadModel', actor: actors.ciGcp, resource: { type: 'model', name: m }, ml: { model: { name: m, version: v, artifact_uri: `gs://models/fraud/${v}/`, tags: { adv_verdict: 'passed' } } } }),
    ev({ time: at(T0 + (i * 2 + 1) * HOUR), platform: 'vertex', stage: 'registry', action: 'model_version.alias_set', operation: 'google.cloud.aiplatform.v1.ModelService.MergeVersionAliases', actor: actors.bob, resource: { type: 'model', name: `${m}@${v}` }, ml: { model: { name: m, version: v, aliases: ['production'] } } }),
  ]);
}
function vxDeploy(hours: number, version: string): NormalizedEvent {
  const e = 'projects/p/locations/us-central1/endpoints/9';
  return ev({ time: at(T0 + hours * HOUR), platform: 'vertex', stage: 'serving', action: 'endpoint.deploy', operation: 'google.cloud.aiplatform.v1.EndpointService.DeployModel', actor: actors.ciGcp, resource: { type: 'endpoint', name: e }, ml: { deployment: { endpoint: e, model_uri: `projects/p/locations/us-central1/models/123@${version}` }, model: { name: 'projects/p/locations/us-central1/models/123', version } } });
}
function smModelFromPackage(hours: number, name: string, version: string): NormalizedEvent {
  return ev({ time: at(T0 + hours * HOUR), platform: 'sagemaker', stage: 'serving', action: 'model.create', operation: 'CreateModel', actor: actors.ci, resource: { type: 'model', name }, ml: { model: { name, source_package: `arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/${version}` } } });
}
/** A SageMaker transform job as the connector emits it: the Model it runs in ml.deployment.model. */
function smTransform(hours: number, job: string, model: string): NormalizedEvent {
  return ev({
    time: at(T0 + hours * HOUR), platform: 'sagemaker', stage: 'serving', action: 'transform_job.create', operation: 'CreateTransformJob', actor: actors.aliceAwsDeploy, resource: { type: 'transform_job', name: job },
    ml: { job: { name: job, type: 'transform' }, deployment: { model }, data: { uris: ['s3://prod-data/transactions/', 's3://scoring/fraud/'], inputs: ['s3://prod-data/transactions/'], outputs: ['s3://scoring/fraud/'] } },
  });
}
/** A Vertex batch prediction job as the connector emits it: the model (and version the service reports) it runs. */
function vxBatch(hours: number, model: string, version: string, output: string): NormalizedEvent {
  return ev({
    time: at(T0 + hours * HOUR), platform: 'vertex', stage: 'serving', action: 'transform_job.create', operation: 'google.cloud.aiplatform.v1.JobService.CreateBatchPredictionJob', actor: actors.aliceGcp, resource: { type: 'batch_prediction_job', name: '8841' },
    ml: { job: { name: 'fraud-nightly' }, model: { name: model.replace(/@.*$/, ''), version }, deployment: { model_uri: model }, data: { uris: ['bq://p.payments.transactions', output], inputs: ['bq://p.payments.transactions'], outputs: [output] } },
  });
}
function hashReg(hours: number, name: string, version: string, digest: string): NormalizedEvent {
  return ev({ time: at(T0 + hours * HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.hash_registered', operation: 'audit.register', actor: { name: 'mltrail-auditor', type: 'service' }, ml: { model: { name, version, sha256: digest } } });
}
function attest(hours: number, name: string, version: string, digest: string): NormalizedEvent {
  return ev({ time: at(T0 + hours * HOUR), platform: 'custom', channel: 'core.attest', stage: 'serving', action: 'model_version.attest', operation: 'attest', actor: { name: 'serving-container', type: 'service' }, ml: { model: { name, version, sha256: digest } }, details: { where: 'pod/fraud-serving-0' } });
}
/** A KServe InferenceService created with a custom predictor container. */
function kserveIsvc(time: number, image: string): NormalizedEvent {
  return ev({
    time: at(time), platform: 'kubeflow', stage: 'serving', action: 'endpoint.create', operation: 'create inferenceservices', actor: { name: 'alice@corp.example', type: 'user' },
    resource: { type: 'inferenceservices', name: 'fraud', namespace: 'kubeflow-user-alice' }, ml: { deployment: { endpoint: 'kubeflow-user-alice/fraud', images: [image] } },
  });
}
/** MLflow fraud v3, given the approval alias `champion`: what a `models:/fraud/3` deployment may load. */
const approvedFraud3 = () => [mlflowVersion(T0 - 2 * HOUR, 'fraud', '3'), mlflowAlias(T0 - HOUR, 'fraud', '3', 'champion', actors.ci)];
/** A KServe InferenceService created loading `models:/fraud/3` from the literal registry URI of its env; `details` the connector's verdicts. */
function kserveModelsUri(time: number, details: Record<string, unknown>): NormalizedEvent {
  return ev({
    time: at(time), platform: 'kubeflow', stage: 'serving', action: 'endpoint.create', operation: 'create inferenceservices', actor: { name: 'alice@corp.example', type: 'user' },
    resource: { type: 'inferenceservices', name: 'fraud', namespace: 'kubeflow-user-alice' }, ml: { deployment: { endpoint: 'kubeflow-user-alice/fraud', model_uri: 'models:/fraud/3', mlflow_registry_uri: 'http://mlflow.mlflow.svc:5000' } }, details,
  });
}
/** A KServe ServingRuntime created with a serving container whose env names `registryUri`; `details` the connector's verdicts. */
function kserveRuntime(time: number, details: Record<string, unknown>, registryUri: string): NormalizedEvent {
  return ev({
    time: at(time), platform: 'kubeflow', stage: 'serving', action: 'resource.create', operation: 'create servingruntimes', actor: { name: 'alice@corp.example', type: 'user' },
    resource: { type: 'servingruntimes', name: 'mlflow-runtime', namespace: 'kubeflow-user-alice' }, ml: { deployment: { images: ['docker.io/seldonio/mlserver:1.6.1'], mlflow_registry_uri: registryUri } }, details,
  });
}
/** Six weeks of alice's weekday office-hours jobs, and a nightly service pipeline. */
function officeHistory(): NormalizedEvent[] {
  const out: NormalizedEvent[] = [];
  for (let d = 0; d < 43; d++) {
    const day = new Date(T0 + d * DAY).getUTCDay();
    if (day !== 0 && day !== 6) out.push(smTraining(T0 + d * DAY + ((d % 3) - 1) * HOUR, `fraud-train-d${d}`, actors.aliceAws));
    out.push(ev({ time: at(T0 + d * DAY - 8 * HOUR), platform: 'kubeflow', stage: 'training', action: 'pipeline_run.create', operation: 'CreateRun', actor: actors.kfRunner, resource: { type: 'pipeline_run', name: `nightly-${d}` }, ml: { job: { name: `nightly-${d}`, image: ECR_IMAGE, image_pinned: true } } }));
  }
  return out;
}

/** Every scenario, built with ids reset per scenario (so files are stable). */
export function allScenarios(): Scenario[] {
  const out: Scenario[] = [];
  for (const [rule, cases] of Object.entries(S)) {
    for (const [name, build] of Object.entries(cases)) {
      resetIds(`${rule.replace(/\./g, '-')}-${name}`);
      out.push({ rule, name, ...build() });
    }
  }
  return out;
}
