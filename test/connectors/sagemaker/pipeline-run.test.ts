import { describe, expect, it } from 'vitest';
import { ctRecord, fx, normOne as sagemakerOne } from './helpers.js';

/**
 * `ml.provenance.pipeline_run`: one field, one value, on every stage's event of a pipeline run, so a SIEM search
 * follows a model from its data to its registration whatever the platform. Before it, a SageMaker execution's ARN
 * was `ml.provenance.run_id` on the execution's events, `ml.job.pipeline_execution` on its step jobs and
 * `ml.model.generated_by` on the package it registered; a Vertex pipeline job's name was on no field of its own
 * CreatePipelineJob event nor of the Model it uploaded.
 */
const EXEC = 'arn:aws:sagemaker:us-east-1:111122223333:pipeline/fraud-pipeline/execution/4r83jejmhorv';
const stepTags = (step: string) => [{ key: 'sagemaker:pipeline-execution-arn', value: EXEC }, { key: 'sagemaker:pipeline-step-name', value: step }];

describe('SageMaker: the pipeline execution on every stage', () => {
  const started = () => sagemakerOne(ctRecord('StartPipelineExecution', { pipelineName: 'fraud-pipeline', clientRequestToken: 't' }, { responseElements: { pipelineExecutionArn: EXEC } }));
  const processing = () =>
    sagemakerOne(
      ctRecord('CreateProcessingJob', {
        processingJobName: 'pipelines-4r83jejmhorv-Preprocess-a1b2c3',
        roleArn: 'arn:aws:iam::111122223333:role/Exec',
        appSpecification: { imageUri: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3' },
        processingInputs: [{ inputName: 'raw', s3Input: { s3Uri: 's3://fraud-raw/2026-11/', localPath: '/opt/ml/processing/input', s3DataType: 'S3Prefix', s3InputMode: 'File' } }],
        processingOutputConfig: { outputs: [{ outputName: 'train', s3Output: { s3Uri: 's3://fraud-work/4r83jejmhorv/train', localPath: '/opt/ml/processing/train', s3UploadMode: 'EndOfJob' } }] },
        processingResources: { clusterConfig: { instanceCount: 1, instanceType: 'ml.m5.xlarge', volumeSizeInGB: 30 } },
        tags: stepTags('Preprocess'),
      }),
    );
  const training = () =>
    sagemakerOne(
      ctRecord('CreateTrainingJob', {
        trainingJobName: 'pipelines-4r83jejmhorv-TrainModel-xw869y8C4a',
        roleArn: 'arn:aws:iam::111122223333:role/Exec',
        algorithmSpecification: { trainingImage: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1', trainingInputMode: 'File' },
        inputDataConfig: [{ channelName: 'train', dataSource: { s3DataSource: { s3DataType: 'S3Prefix', s3Uri: 's3://fraud-work/4r83jejmhorv/train' } } }],
        outputDataConfig: { s3OutputPath: 's3://fraud-models/4r83jejmhorv' },
        resourceConfig: { instanceType: 'ml.m5.xlarge', instanceCount: 1, volumeSizeInGB: 30 },
        stoppingCondition: { maxRuntimeInSeconds: 3600 },
        tags: stepTags('TrainModel'),
      }),
    );
  const registered = (extra: Record<string, unknown> = { metadataProperties: { generatedBy: EXEC } }) =>
    sagemakerOne(
      ctRecord(
        'CreateModelPackage',
        {
          modelPackageGroupName: 'fraud-models',
          modelApprovalStatus: 'PendingManualApproval',
          inferenceSpecification: { containers: [{ image: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1', modelDataUrl: 's3://fraud-models/4r83jejmhorv/pipelines-4r83jejmhorv-TrainModel-xw869y8C4a/output/model.tar.gz' }], supportedContentTypes: ['text/csv'], supportedResponseMIMETypes: ['text/csv'] },
          ...extra,
        },
        { responseElements: { modelPackageArn: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud-models/3' } },
      ),
    );

  it('the execution, its step jobs and the package it registered name it in ml.provenance.pipeline_run', () => {
    const events = [started(), processing(), training(), registered()];
    expect(events.map((e) => e.ml?.provenance?.pipeline_run)).toEqual([EXEC, EXEC, EXEC, EXEC]);
    // The fields each had before stay as they were.
    expect(events[0]!.ml?.provenance?.run_id).toBe(EXEC);
    expect(events[2]!.ml?.job?.pipeline_execution).toBe(EXEC);
    expect(events[3]!.ml?.model?.generated_by).toBe(EXEC);
    // A step job's own run is still its job, not the execution: the rules key runs by it.
    expect(events[2]!.ml?.provenance?.run_id).toBeUndefined();
  });

  it('a package a pipeline only tagged (no GeneratedBy) names it too; one registered by hand names none', () => {
    expect(registered({ tags: stepTags('RegisterModel') }).ml?.provenance?.pipeline_run).toBe(EXEC);
    expect(registered({}).ml?.provenance).toBeUndefined();
    // GeneratedBy naming something other than an execution (a training job's ARN) is no pipeline run.
    expect(registered({ metadataProperties: { generatedBy: 'arn:aws:sagemaker:us-east-1:111122223333:training-job/t1' } }).ml?.provenance).toBeUndefined();
  });

  it('EventBridge: the model package state change (GeneratedBy) and the execution status change (real AWS samples)', () => {
    const pkg = sagemakerOne(fx('eventbridge-sagemaker-model-package-state-change.awsdocs.json'));
    expect(pkg.ml?.provenance?.pipeline_run).toBe('arn:aws:sagemaker:us-east-2:123456789012:pipeline/versionedmp-p-idy6c3e1fiqj/execution/4r83jejmhorv');
    const exec = sagemakerOne(fx('eventbridge-sagemaker-pipeline-execution-status-change.awsdocs.json'));
    expect(exec.ml?.provenance?.pipeline_run).toBe('arn:aws:sagemaker:us-east-1:123456789012:pipeline/myPipeline-123/execution/p4jn9xou8a8s');
    expect(exec.ml?.provenance?.pipeline_run).toBe(exec.ml?.provenance?.run_id);
  });
});


describe('SageMaker: the caller\'s credential in actor.key_id', () => {
  it('is the access key CloudTrail logged (userIdentity.accessKeyId), where a Vertex AI event names its service-account key', () => {
    const ev = sagemakerOne(fx('cloudtrail-sagemaker-createendpoint.awsdocs.json'));
    expect(ev.actor?.key_id).toBe('ASXIAGXEXAMPLEQULKNXV');
    expect(ev.details?.access_key_id).toBe('ASXIAGXEXAMPLEQULKNXV');
    // A service's own call (EventBridge state change) has none.
    expect(sagemakerOne(fx('eventbridge-sagemaker-endpoint-state-change.awsdocs.json')).actor?.key_id).toBeUndefined();
  });
});
