import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { lineageOf, registryLineage, versionKeyOfEntity } from '../../../core/rules/facts.js';
import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';
import { ctRecord, normOne } from '../../connectors/sagemaker/helpers.js';

/**
 * `details.lineage`: an alert carries the chain-of-custody ids an incident responder pivots on — those of the event
 * that raised it (its resource as the platform names it, model version, run, pipeline run, job, endpoint) and, for a
 * model version, what the registry state knows of it (artifact, producing runs, who trained and approved it). Before
 * it, an `evaluation.adversarial_failure` alert on a SageMaker package said who approved it and nothing else: its
 * artifact, the execution that trained it and who started that were in mltrail's state, on no alert field.
 */
const ACC = '111122223333';
const EXEC = `arn:aws:sagemaker:us-east-1:${ACC}:pipeline/fraud-pipeline/execution/4r83jejmhorv`;
const PKG = `arn:aws:sagemaker:us-east-1:${ACC}:model-package/fraud-models/3`;
const ARTIFACT = 's3://fraud-models/4r83jejmhorv/pipelines-4r83jejmhorv-TrainModel-xw869y8C4a/output/model.tar.gz';
const session = (role: string, name: string) => ({
  type: 'AssumedRole',
  principalId: `AROA${role.toUpperCase()}:${name}`,
  arn: `arn:aws:sts::${ACC}:assumed-role/${role}/${name}`,
  accountId: ACC,
  accessKeyId: `ASIA${role.toUpperCase()}`,
  sessionContext: { sessionIssuer: { type: 'Role', principalId: `AROA${role.toUpperCase()}`, arn: `arn:aws:iam::${ACC}:role/${role}`, accountId: ACC, userName: role }, attributes: { creationDate: '2026-11-25T09:00:00Z', mfaAuthenticated: 'false' } },
});
const tags = (step: string) => [{ key: 'sagemaker:pipeline-execution-arn', value: EXEC }, { key: 'sagemaker:pipeline-step-name', value: step }];
let n = 0;
const record = (name: string, who: ReturnType<typeof session>, params: Record<string, unknown>, response: Record<string, unknown>): NormalizedEvent =>
  normOne(ctRecord(name, params, { userIdentity: who, eventTime: `2026-11-25T10:${String(++n).padStart(2, '0')}:00Z`, eventID: `lineage-${n}`, requestID: `req-lineage-${n}`, responseElements: response }));

/** A pipeline run: alice starts it, its steps preprocess (no VPC) and train, it registers v3; bob approves v3. */
function chain(): NormalizedEvent[] {
  n = 0;
  const alice = session('MLEngineer', 'alice@example.com');
  const pipeline = session('SageMakerPipelineRole', 'SageMaker');
  const bob = session('MLApprover', 'bob@example.com');
  return [
    record('StartPipelineExecution', alice, { pipelineName: 'fraud-pipeline', clientRequestToken: 't' }, { pipelineExecutionArn: EXEC }),
    record('CreateProcessingJob', pipeline, {
      processingJobName: 'pipelines-4r83jejmhorv-Preprocess-a1b2c3', roleArn: `arn:aws:iam::${ACC}:role/Exec`,
      appSpecification: { imageUri: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3' },
      processingInputs: [{ inputName: 'raw', s3Input: { s3Uri: 's3://fraud-raw/2026-11/', localPath: '/opt/ml/processing/input', s3DataType: 'S3Prefix', s3InputMode: 'File' } }],
      processingOutputConfig: { outputs: [{ outputName: 'train', s3Output: { s3Uri: 's3://fraud-work/4r83jejmhorv/train', localPath: '/opt/ml/processing/train', s3UploadMode: 'EndOfJob' } }] },
      processingResources: { clusterConfig: { instanceCount: 1, instanceType: 'ml.m5.xlarge', volumeSizeInGB: 30 } },
      tags: tags('Preprocess'),
    }, { processingJobArn: `arn:aws:sagemaker:us-east-1:${ACC}:processing-job/pipelines-4r83jejmhorv-preprocess-a1b2c3` }),
    record('CreateTrainingJob', pipeline, {
      trainingJobName: 'pipelines-4r83jejmhorv-TrainModel-xw869y8C4a', roleArn: `arn:aws:iam::${ACC}:role/Exec`,
      algorithmSpecification: { trainingImage: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1', trainingInputMode: 'File' },
      inputDataConfig: [{ channelName: 'train', dataSource: { s3DataSource: { s3DataType: 'S3Prefix', s3Uri: 's3://fraud-work/4r83jejmhorv/train' } } }],
      outputDataConfig: { s3OutputPath: 's3://fraud-models/4r83jejmhorv' },
      resourceConfig: { instanceType: 'ml.m5.xlarge', instanceCount: 1, volumeSizeInGB: 30 },
      stoppingCondition: { maxRuntimeInSeconds: 3600 }, enableNetworkIsolation: true, vpcConfig: { subnets: ['subnet-1'], securityGroupIds: ['sg-1'] },
      tags: tags('TrainModel'),
    }, { trainingJobArn: `arn:aws:sagemaker:us-east-1:${ACC}:training-job/pipelines-4r83jejmhorv-trainmodel-xw869y8c4a` }),
    record('CreateModelPackage', pipeline, {
      modelPackageGroupName: 'fraud-models', modelApprovalStatus: 'PendingManualApproval', metadataProperties: { generatedBy: EXEC },
      inferenceSpecification: { containers: [{ image: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1', modelDataUrl: ARTIFACT }], supportedContentTypes: ['text/csv'], supportedResponseMIMETypes: ['text/csv'] },
      tags: tags('RegisterModel'),
    }, { modelPackageArn: PKG }),
    record('UpdateModelPackage', bob, { modelPackageArn: PKG, modelApprovalStatus: 'Approved' }, { modelPackageArn: PKG }),
  ];
}
const alertsOf = (events: NormalizedEvent[], rule: string): Alert[] => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === rule);

describe('alert details.lineage', () => {
  it('an alert raised by the event it judges carries that event\'s ids, as the platform names them', () => {
    const [alert] = alertsOf(chain(), 'training.network_egress');
    expect(alert?.entity.id).toBe(`${ACC}:us-east-1:pipelines-fraud-pipeline/Preprocess`);
    expect(alert?.details.lineage).toEqual({
      resource: { type: 'processing_job', id: `arn:aws:sagemaker:us-east-1:${ACC}:processing-job/pipelines-4r83jejmhorv-preprocess-a1b2c3` },
      pipeline_run: EXEC,
      job: 'pipelines-4r83jejmhorv-Preprocess-a1b2c3',
    });
  });

  it('a model version alert carries what the registry knows: artifact, runs, who started the training, who approved', () => {
    const [alert] = alertsOf(chain(), 'evaluation.adversarial_failure');
    expect(alert?.entity).toMatchObject({ type: 'model_version', id: `${ACC}:us-east-1:fraud-models/3` });
    const registry = (alert?.details.lineage as { registry?: Record<string, unknown> } | undefined)?.registry;
    expect(registry).toMatchObject({ artifact_uri: ARTIFACT, run_id: EXEC, approval: { state: 'approved', identity: 'bob@example.com' } });
    expect(registry?.producer_runs).toContain(EXEC);
    // alice started the execution that trained it (the pipeline's role submitted the step job).
    expect(registry?.trained_by).toContain('alice@example.com');
    expect((registry?.approval as { event?: string }).event).toBe(alert?.evidence.at(-1));
  });

  it('a detection judged at the end of input (no event of its own) takes no other event\'s ids', () => {
    const [alert] = alertsOf(chain(), 'evaluation.adversarial_failure');
    // Judged once the approval's wait ended, after the last event: only the registry part, no event part.
    expect(Object.keys(alert?.details.lineage as object)).toEqual(['registry']);
  });
});

describe('lineageOf / versionKeyOfEntity / registryLineage', () => {
  it('keeps only the join keys an event has', () => {
    expect(lineageOf({})).toBeUndefined();
    expect(
      lineageOf({
        resource: { type: 'endpoint', id: 'projects/p/locations/l/endpoints/55' },
        ml: { model: { name: 'projects/p/locations/l/models/fraud', version: '2', tags: { a: 'b' } }, deployment: { endpoint: 'projects/p/locations/l/endpoints/55', model_uri: 'projects/p/locations/l/models/fraud@2' }, provenance: { run_id: 'r', pipeline_run: 'pr' } },
      }),
    ).toEqual({
      resource: { type: 'endpoint', id: 'projects/p/locations/l/endpoints/55' },
      model: { name: 'projects/p/locations/l/models/fraud', version: '2' },
      run_id: 'r', pipeline_run: 'pr',
      endpoint: 'projects/p/locations/l/endpoints/55', model_uri: 'projects/p/locations/l/models/fraud@2',
    });
  });

  it('splits a model version entity at its last slash (a Vertex model name has its own)', () => {
    expect(versionKeyOfEntity('vertex', 'projects/p/locations/l/models/fraud/2')).toBe('vertex|projects/p/locations/l/models/fraud|2');
    expect(versionKeyOfEntity('sagemaker', `${ACC}:us-east-1:fraud-models/3`)).toBe(`sagemaker|${ACC}:us-east-1:fraud-models|3`);
  });

  it('names each identity once, the latest five', () => {
    const party = (identity: string) => ({ identity, event: 'e', time: 't', platform: 'mlflow' });
    const out = registryLineage({
      key: 'k', platform: 'mlflow', name: 'm', version: '1', trainers: ['a', 'a', 'b', 'c', 'd', 'e', 'f'].map(party), evaluators: [], registrants: [], approvedEver: false, metrics: {}, adversarial: [], trainingInputs: [],
    });
    expect(out).toEqual({ trained_by: ['b', 'c', 'd', 'e', 'f'] });
    expect(registryLineage(undefined)).toBeUndefined();
  });
});
