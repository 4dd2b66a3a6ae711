import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';
import { LOC, V1, auditEntry, normOne as vxOne } from '../connectors/vertex/samples.js';
import { ModelVersion, Run } from '../../connectors/mlflow/client.js';
import { runEvents } from '../../connectors/mlflow/provenance.js';
import { versionSnap } from '../../connectors/mlflow/snapshot.js';

/**
 * Poisoning the data a model is trained on (ingestion.unfamiliar_writer, training.unfamiliar_data_source), end to
 * end from CloudTrail records: S3 data events on a listed training bucket, Feature Store PutRecord data events and
 * CreateTrainingJob, through the SageMaker connector and the rules.
 */

const SM = { training_buckets: ['ml-training-data'], model_buckets: ['ml-models'] };
const ACCOUNT = '111122223333';
let n = 0;

/** A role session as a pipeline's SDK names it (a new botocore session name each run). */
function pipelineRole(session: string) {
  return {
    userIdentity: {
      type: 'AssumedRole', principalId: `AROAPIPELINE:${session}`, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/churn-pipeline-exec/${session}`, accountId: ACCOUNT, accessKeyId: 'ASIAPIPELINE',
      sessionContext: { sessionIssuer: { type: 'Role', principalId: 'AROAPIPELINE', arn: `arn:aws:iam::${ACCOUNT}:role/churn-pipeline-exec`, accountId: ACCOUNT, userName: 'churn-pipeline-exec' }, attributes: { creationDate: '2026-10-01T00:00:00Z', mfaAuthenticated: 'false' } },
    },
    sourceIPAddress: '10.0.1.5', userAgent: 'Boto3/1.35.0 md/Botocore#1.35.0',
  };
}
const MALLORY = { userIdentity: { type: 'IAMUser', principalId: 'AIDAMALLORY', arn: `arn:aws:iam::${ACCOUNT}:user/mallory`, accountId: ACCOUNT, accessKeyId: 'AKIAMALLORY', userName: 'mallory' }, sourceIPAddress: '198.51.100.7', userAgent: 'aws-cli/2.15.0' };

function s3(eventName: string, time: string, who: object, key: string, params: Record<string, unknown> = {}): NormalizedEvent {
  return normOne(
    ctRecord(eventName, { bucketName: 'ml-training-data', key, Host: 'ml-training-data.s3.us-east-1.amazonaws.com', ...params }, {
      ...who, eventTime: time, eventSource: 's3.amazonaws.com', eventCategory: 'Data', managementEvent: false, readOnly: false, eventID: `evt-${++n}`,
      resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::ml-training-data/${key}` }, { accountId: ACCOUNT, type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::ml-training-data' }],
    }),
    SM,
  );
}

function putRecord(time: string, who: object): NormalizedEvent {
  return normOne(
    ctRecord('PutRecord', { featureGroupName: 'churn-features' }, {
      ...who, eventTime: time, eventCategory: 'Data', managementEvent: false, readOnly: false, eventID: `evt-${++n}`,
      resources: [{ accountId: ACCOUNT, type: 'AWS::SageMaker::FeatureGroup', ARN: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:feature-group/churn-features` }],
    }),
    SM,
  );
}

function training(time: string, name: string, input: string, who: object = pipelineRole('SageMaker')): NormalizedEvent {
  return normOne(
    ctRecord('CreateTrainingJob', {
      trainingJobName: name,
      algorithmSpecification: { trainingImage: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/churn@sha256:${'a'.repeat(64)}`, trainingInputMode: 'File' },
      roleArn: `arn:aws:iam::${ACCOUNT}:role/SageMakerExec`, enableNetworkIsolation: true,
      inputDataConfig: [{ channelName: 'train', dataSource: { s3DataSource: { s3DataType: 'S3Prefix', s3Uri: input } } }],
      outputDataConfig: { s3OutputPath: 's3://ml-models/churn/' },
      resourceConfig: { instanceCount: 1, instanceType: 'ml.m5.xlarge', volumeSizeInGB: 30 }, stoppingCondition: { maxRuntimeInSeconds: 3600 },
    }, { ...who, eventTime: time, eventID: `evt-${++n}`, responseElements: { trainingJobArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:training-job/${name}` } }),
    SM,
  );
}

const day = (d: number) => new Date(Date.parse('2026-10-01T00:00:00Z') + d * 86_400_000).toISOString().slice(0, 10);

/** Ten nights of a daily pipeline: fresh dated objects, a feature upsert, a training run over the dataset. */
function nightly(days = 10): NormalizedEvent[] {
  return Array.from({ length: days }, (_, d) => [
    s3('PutObject', `${day(d)}T02:10:00Z`, pipelineRole(`botocore-session-${1759280000 + d}`), `churn/${day(d)}/part-0.parquet`),
    s3('PutObject', `${day(d)}T02:11:00Z`, pipelineRole(`botocore-session-${1759280000 + d}`), `churn/${day(d)}/part-1.parquet`),
    putRecord(`${day(d)}T02:20:00Z`, pipelineRole(`botocore-session-${1759280000 + d}`)),
    training(`${day(d)}T03:00:00Z`, `churn-train-${day(d)}`, 's3://ml-training-data/churn/'),
  ]).flat();
}

function alerts(events: NormalizedEvent[], rules: Record<string, unknown> = {}): Alert[] {
  return replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => /unfamiliar/.test(a.rule_id));
}

describe('training data written by an identity that never wrote there (ingestion.unfamiliar_writer)', () => {
  it('a daily pipeline writing fresh objects under new session names raises nothing', () => {
    expect(alerts(nightly(20))).toEqual([]);
  });

  it('session names an orchestrator makes per run (Step Functions execution ids, Airflow DAG runs) are one writer per role and pattern, not a new writer each night', () => {
    const uuid = (d: number) => `${(0x3f2a1b9c + d).toString(16)}-0d4e-4f5a-9b6c-${(0x7d8e9f0a1b2c + d).toString(16)}`;
    const sessions = [(d: number) => `execution-${uuid(d)}`, (d: number) => `airflow-churn_dag-scheduled__${day(d)}T02_00_00`];
    for (const session of sessions) {
      const month = Array.from({ length: 30 }, (_, d) => s3('PutObject', `${day(d)}T02:10:00Z`, pipelineRole(session(d)), `churn/${day(d)}/part-0.parquet`));
      expect(alerts(month)).toEqual([]);
      // Another role's session of the same shape is another writer; so is a person on the pipeline's role.
      const other = { ...pipelineRole(session(31)), userIdentity: { ...pipelineRole(session(31)).userIdentity, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/sandbox-admin/${session(31)}` } };
      expect(alerts([...month, s3('PutObject', `${day(31)}T12:00:00Z`, other, `churn/${day(30)}/part-0.parquet`)]).map((a) => a.details.identity)).toEqual([session(31).toLowerCase()]);
      expect(alerts([...month, s3('PutObject', `${day(31)}T12:00:00Z`, pipelineRole('mallory'), `churn/${day(30)}/part-0.parquet`)]).map((a) => a.details.identity)).toEqual(['mallory']);
    }
  });

  it('an IAM user overwriting, copying in and deleting objects under the training prefix between two runs: one alert naming who, what and the jobs trained on it', () => {
    const put = s3('PutObject', `${day(10)}T12:00:00Z`, MALLORY, `churn/${day(9)}/part-0.parquet`);
    const copy = s3('CopyObject', `${day(10)}T12:05:00Z`, MALLORY, `churn/${day(9)}/part-1.parquet`, { 'x-amz-copy-source': 'scratch-mallory/flipped.parquet' });
    const del = s3('DeleteObject', `${day(10)}T12:10:00Z`, MALLORY, `churn/${day(9)}/part-2.parquet`);
    const fired = alerts([...nightly(), put, copy, del]);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({
      rule_id: 'ingestion.unfamiliar_writer', stage: 'ingestion', severity: 'medium', evidence: [put.id],
      entity: { type: 'data_source', id: 's3://ml-training-data/churn/' },
      details: { identity: 'mallory', actor_id: `arn:aws:iam::${ACCOUNT}:user/mallory`, object: `s3://ml-training-data/churn/${day(9)}/part-0.parquet`, operation: 'PutObject', ip: '198.51.100.7', known_writers: ['role:churn-pipeline-exec'], read_by: ['churn-train'] },
    });
    // Alone, the copy-in is the finding, and it names where the data came from.
    const [c] = alerts([...nightly(), copy]);
    expect(c).toMatchObject({ evidence: [copy.id], details: { action: 'data_object.copy', inputs: ['s3://scratch-mallory/flipped.parquet'] } });
    expect(alerts([...nightly(), put], { 'ingestion.unfamiliar_writer': { exempt: ['mallory'] } })).toEqual([]);
  });

  it('a bucket laid out by date (s3://bucket/2026-10-01/…, dt=…) is one source: a new writer of the day\'s folder alerts on the bucket', () => {
    const dated = Array.from({ length: 10 }, (_, d) => s3('PutObject', `${day(d)}T02:10:00Z`, pipelineRole(`botocore-session-${1759280000 + d}`), `${d % 2 ? 'dt=' : ''}${day(d)}/part-0.parquet`));
    const w = s3('PutObject', `${day(10)}T12:00:00Z`, MALLORY, `${day(9)}/part-0.parquet`);
    expect(alerts([...dated, w]).map((a) => [a.entity.id, a.evidence])).toEqual([['s3://ml-training-data', [w.id]]]);
  });

  it('a new folder made by an identity that never wrote to the bucket alerts (a job reading the bucket root trains on it); a new dataset the pipeline starts does not', () => {
    const rootJob = training(`${day(9)}T04:00:00Z`, `all-train-${day(9)}`, 's3://ml-training-data/');
    const planted = s3('PutObject', `${day(10)}T12:00:00Z`, MALLORY, 'zz-extra/part-0.parquet');
    const fired = alerts([...nightly(), rootJob, planted]);
    expect(fired.map((a) => [a.entity.id, a.evidence, a.details.known_writers_of, a.details.read_by])).toEqual([['s3://ml-training-data/zz-extra/', [planted.id], 's3://ml-training-data', ['all-train']]]);
    expect(fired[0]!.summary).toContain('s3://ml-training-data/zz-extra/ is new; s3://ml-training-data has been written only by role:churn-pipeline-exec');
    // The pipeline's own new dataset, and a person joining it in its first week (still learning), raise nothing.
    const started = s3('PutObject', `${day(10)}T02:10:00Z`, pipelineRole('botocore-session-1759289999'), 'retention/part-0.parquet');
    const joined = s3('PutObject', `${day(11)}T12:00:00Z`, MALLORY, 'retention/part-1.parquet');
    expect(alerts([...nightly(), rootJob, started, joined])).toEqual([]);
  });

  it('a Feature Store PutRecord by a new identity alerts on the feature group', () => {
    const w = putRecord(`${day(10)}T12:20:00Z`, MALLORY);
    expect(alerts([...nightly(), w]).map((a) => [a.entity.id, a.evidence])).toEqual([[`${ACCOUNT}:us-east-1:feature_group:churn-features`, [w.id]]]);
  });

  it('feature groups of one name in two accounts are two sources: writing the prod one by hand alerts though the same person writes the dev one daily', () => {
    const PROD = '444455556666';
    // An SSO person (the same identity in every account) and each account's pipeline role, as IaC deploys them.
    const sso = (account: string) => ({
      userIdentity: { type: 'AssumedRole', principalId: 'AROASSO:alice@corp.example', arn: `arn:aws:sts::${account}:assumed-role/AWSReservedSSO_DataScientist_0123456789abcdef/alice@corp.example`, accountId: account },
      sourceIPAddress: '198.51.100.20', userAgent: 'aws-cli/2.15.0',
    });
    const role = (account: string, d: number) => {
      const r = pipelineRole(`botocore-session-${1759280000 + d}`) as { userIdentity: Record<string, unknown> };
      return { ...r, userIdentity: { ...r.userIdentity, arn: `arn:aws:sts::${account}:assumed-role/churn-pipeline-exec/botocore-session-${1759280000 + d}`, accountId: account } };
    };
    const putIn = (account: string, time: string, who: object) =>
      normOne(
        ctRecord('PutRecord', { featureGroupName: 'churn-features' }, {
          ...who, recipientAccountId: account, eventTime: time, eventCategory: 'Data', managementEvent: false, readOnly: false, eventID: `evt-${++n}`,
          resources: [{ accountId: account, type: 'AWS::SageMaker::FeatureGroup', ARN: `arn:aws:sagemaker:us-east-1:${account}:feature-group/churn-features` }],
        }),
        SM,
      );
    const history = Array.from({ length: 10 }, (_, d) => [
      putIn(ACCOUNT, `${day(d)}T02:20:00Z`, role(ACCOUNT, d)),
      putIn(ACCOUNT, `${day(d)}T09:00:00Z`, sso(ACCOUNT)),
      putIn(PROD, `${day(d)}T02:20:00Z`, role(PROD, d)),
    ]).flat();
    const w = putIn(PROD, `${day(10)}T12:20:00Z`, sso(PROD));
    expect(alerts([...history, w]).map((a) => [a.entity.id, a.entity.name, a.details.identity, a.details.known_writers])).toEqual([
      [`${PROD}:us-east-1:feature_group:churn-features`, 'feature_group:churn-features', 'alice@corp.example', ['role:churn-pipeline-exec']],
    ]);
    // In the dev account she is a known writer.
    expect(alerts([...history, putIn(ACCOUNT, `${day(10)}T12:20:00Z`, sso(ACCOUNT))])).toEqual([]);
  });

  it('a young source is still learning its writers (min_history), and the new writer is learned after one alert', () => {
    const early = s3('PutObject', `${day(3)}T12:00:00Z`, MALLORY, `churn/${day(2)}/part-0.parquet`);
    expect(alerts([...nightly(), early])).toEqual([]);
    expect(alerts([...nightly(), early], { 'ingestion.unfamiliar_writer': { min_history: '2d' } })).toHaveLength(1);
  });
});

describe('a training job reading a location its family never read (training.unfamiliar_data_source)', () => {
  it('a run reading another bucket alerts with the job, the new input and the known sources; allowed_sources lets it through', () => {
    const odd = training(`${day(10)}T13:00:00Z`, `churn-train-${day(10)}b`, 's3://partner-data-999/churn/');
    const [a, ...rest] = alerts([...nightly(), odd]);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({
      rule_id: 'training.unfamiliar_data_source', stage: 'training', entity: { type: 'job', id: `${ACCOUNT}:us-east-1:churn-train`, name: 'churn-train' },
      details: { job: `churn-train-${day(10)}b`, inputs: ['s3://partner-data-999/churn/'], known_sources: ['s3://ml-training-data'] },
    });
    expect(a!.evidence.at(-1)).toBe(odd.id);
    expect(alerts([...nightly(), odd], { 'training.unfamiliar_data_source': { allowed_sources: ['s3://partner-data-999/*'] } })).toEqual([]);
  });

  it('the same pipeline in another account (dev and prod from one template) reads its own bucket: another family, no alert', () => {
    const PROD = '444455556666';
    const prodRole = { userIdentity: { type: 'AssumedRole', principalId: 'AROAPROD:SageMaker', arn: `arn:aws:sts::${PROD}:assumed-role/churn-pipeline-exec/SageMaker`, accountId: PROD }, recipientAccountId: PROD };
    const prodRuns = [0, 1, 2, 3].map((d) => training(`${day(10 + d)}T03:00:00Z`, `churn-train-${day(10 + d)}`, 's3://ml-training-data-prod/churn/', prodRole));
    expect(alerts([...nightly(), ...prodRuns])).toEqual([]);
    // …while in its own account the fourth run from a new bucket still alerts.
    const odd = training(`${day(14)}T03:00:00Z`, `churn-train-${day(14)}`, 's3://partner-data-999/churn/', prodRole);
    expect(alerts([...nightly(), ...prodRuns, odd]).map((a) => a.entity.id)).toEqual([`${PROD}:us-east-1:churn-train`]);
  });

  it('new dated folders of the usual bucket are no new source', () => {
    const dated = training(`${day(10)}T03:00:00Z`, `churn-train-${day(10)}`, `s3://ml-training-data/churn/${day(10)}/`);
    expect(alerts([...nightly(), dated])).toEqual([]);
  });
});

describe('Vertex AI: dataset imports and Cloud Storage writes (ingestion.unfamiliar_writer)', () => {
  const PIPELINE = 'pipeline@my-proj.iam.gserviceaccount.com';
  const importData = (time: string, who: string, uri: string) =>
    vxOne(auditEntry({ method: `${V1}DatasetService.ImportData`, resourceName: `${LOC}/datasets/123`, principal: who, timestamp: time, request: { name: `${LOC}/datasets/123`, importConfigs: [{ gcsSource: { uris: [uri] } }] } }));
  const gcsWrite = (time: string, who: string, object: string) => {
    const e = auditEntry({ method: 'storage.objects.create', resourceName: `projects/_/buckets/vx-training/objects/${object}`, principal: who, log: 'data_access', timestamp: time });
    (e.protoPayload as Record<string, unknown>).serviceName = 'storage.googleapis.com';
    e.resource = { type: 'gcs_bucket', labels: { bucket_name: 'vx-training', project_id: 'my-proj', location: 'us' } };
    return vxOne(e);
  };
  const history = Array.from({ length: 10 }, (_, d) => [importData(`${day(d)}T02:00:00Z`, PIPELINE, `gs://vx-training/churn/${d}/labels.jsonl`), gcsWrite(`${day(d)}T02:05:00Z`, PIPELINE, `churn/${d}/part-0.csv`)]).flat();

  it('an ImportData by a new identity is judged on the dataset it fills, not on the bucket it reads, and names that source', () => {
    const evil = importData(`${day(10)}T12:00:00Z`, 'mallory@example.com', 'gs://elsewhere/labels.jsonl');
    const fired = alerts([...history, evil]);
    expect(fired.map((a) => [a.entity.id, a.evidence])).toEqual([['dataset:123', [evil.id]]]);
    expect(fired[0]!.details).toMatchObject({ identity: 'mallory@example.com', action: 'dataset.import', inputs: ['gs://elsewhere/labels.jsonl'], known_writers: [PIPELINE] });
  });

  it('a Cloud Storage write (stage platform) counts under training_data_uris', () => {
    const w = gcsWrite(`${day(10)}T12:00:00Z`, 'mallory@example.com', 'churn/9/part-0.csv');
    expect(alerts([...history, w])).toEqual([]);
    const fired = alerts([...history, w], { 'ingestion.unfamiliar_writer': { training_data_uris: ['gs://vx-training/*'] } });
    expect(fired.map((a) => [a.entity.id, a.details.object])).toEqual([['gs://vx-training/churn/', 'gs://vx-training/churn/9/part-0.csv']]);
  });
});

describe('MLflow: the datasets a version\'s run logged (mlflow.log_input) — training.unfamiliar_data_source', () => {
  /** The registry auditor's provenance event of version `v`, from the runs/get response MLflow returns. */
  function provenance(v: number, source: string, runName = ['bouncy-fox', 'calm-owl', 'brave-elk', 'quiet-ant', 'sly-cat'][v - 1]!) {
    const t = Date.parse('2026-10-01T03:00:00Z') + v * 86_400_000;
    const mv = ModelVersion.parse({ name: 'fraud', version: String(v), creation_timestamp: t + 60_000, run_id: `run${v}`, source: `s3://mlflow-artifacts/1/run${v}/artifacts/model`, user_id: 'ci@corp.example' });
    const run = Run.parse({
      info: { run_id: `run${v}`, run_name: runName, experiment_id: '1', user_id: 'ci@corp.example', status: 'FINISHED', start_time: t - 600_000, end_time: t, artifact_uri: `s3://mlflow-artifacts/1/run${v}/artifacts` },
      data: { tags: [{ key: 'mlflow.user', value: 'ci@corp.example' }] },
      inputs: { dataset_inputs: [{ dataset: { name: 'fraud-train', digest: `d${v}`, source_type: 's3', source: JSON.stringify({ uri: source }) }, tags: [{ key: 'mlflow.data.context', value: 'training' }] }] },
    });
    return runEvents(versionSnap(mv), run, t + 120_000, new Date(t + 120_000).toISOString()).find((e) => e.action === 'run.provenance')!;
  }

  it('a new version whose run trained on another bucket alerts on the model; fresh data in the usual bucket does not', () => {
    const usual = [1, 2, 3].map((v) => provenance(v, `s3://training-data/fraud/2026-10-0${v}/train.parquet`));
    expect(alerts([...usual, provenance(4, 's3://training-data/fraud/2026-10-04/train.parquet')])).toEqual([]);
    const odd = provenance(4, 's3://scratch-mallory/fraud/train.parquet');
    const fired = alerts([...usual, odd]);
    expect(fired.map((a) => [a.rule_id, a.entity.type, a.entity.id, a.evidence.at(-1)])).toEqual([['training.unfamiliar_data_source', 'model', 'fraud', odd.id]]);
    expect(fired[0]!.details).toMatchObject({ job: 'quiet-ant', inputs: ['s3://scratch-mallory/fraud/train.parquet'], known_sources: ['s3://training-data'] });
  });
});
