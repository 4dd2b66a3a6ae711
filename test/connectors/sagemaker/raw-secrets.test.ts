import { describe, expect, it } from 'vitest';
import { ctRecord, fx, normOne, expectNoSecrets } from './helpers.js';

/** Secret values a job or model request logs in clear (CloudTrail: "NOT sensitive"). */
const SECRETS = ['hf_Secr3tHubToken', 'wandb-S3cretKey', 'Sup3rPassw0rd', 'mlflow-Pa55word', 'userinfoPa55'];

const expectNoSecret = (ev: unknown): string => expectNoSecrets(ev, SECRETS);

describe('SageMaker: secrets of env, hyperparameters and container arguments stay out of the event', () => {
  it('CreateTrainingJob: environment, hyperParameters and containerArguments are redacted in raw and ml.job', () => {
    const params = {
      trainingJobName: 'train-llm',
      algorithmSpecification: {
        trainingImage: '111122223333.dkr.ecr.us-east-1.amazonaws.com/train:1',
        trainingInputMode: 'File',
        containerEntrypoint: ['python', 'train.py'],
        containerArguments: ['--password', 'Sup3rPassw0rd', '--epochs', '3'],
      },
      environment: { HF_TOKEN: 'hf_Secr3tHubToken', MODEL_ID: 'meta-llama/Llama-3-8B', DATA_URL: 'https://bob:userinfoPa55@data.example.com/x' },
      hyperParameters: { wandb_api_key: 'wandb-S3cretKey', learning_rate: '0.001' },
      roleArn: 'arn:aws:iam::111122223333:role/SageMakerExec',
    };
    const record = ctRecord('CreateTrainingJob', params);
    const before = JSON.stringify(record);
    const ev = normOne(record);
    const json = expectNoSecret(ev);
    // Names and non-secret values stay.
    const raw = ev.raw as { requestParameters: typeof params };
    expect(raw.requestParameters.environment).toEqual({ HF_TOKEN: '[redacted]', MODEL_ID: 'meta-llama/Llama-3-8B', DATA_URL: 'https://[redacted]@data.example.com/x' });
    expect(raw.requestParameters.hyperParameters).toEqual({ wandb_api_key: '[redacted]', learning_rate: '0.001' });
    expect(raw.requestParameters.algorithmSpecification.containerArguments).toEqual(['--password', '[redacted]', '--epochs', '3']);
    expect(ev.ml?.job?.params).toEqual({ wandb_api_key: '[redacted]', learning_rate: '0.001' });
    expect(ev.ml?.job?.arguments).toEqual(['--password', '[redacted]', '--epochs', '3']);
    expect(ev.ml?.job?.env_keys).toEqual(['DATA_URL', 'HF_TOKEN', 'MODEL_ID']);
    expect(json).toContain('train-llm');
    // The caller's record is not changed (copy-on-write).
    expect(JSON.stringify(record)).toBe(before);
  });

  it('CreateModel: a primary container environment secret is redacted in raw', () => {
    const record = ctRecord('CreateModel', {
      modelName: 'fraud-model',
      executionRoleArn: 'arn:aws:iam::111122223333:role/SageMakerExec',
      primaryContainer: {
        image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/serve:1',
        modelDataUrl: 's3://models/fraud/model.tar.gz',
        environment: { MLFLOW_TRACKING_PASSWORD: 'mlflow-Pa55word', MLFLOW_TRACKING_USERNAME: 'svc-serving' },
      },
    });
    const ev = normOne(record);
    expectNoSecret(ev);
    const raw = ev.raw as { requestParameters: { primaryContainer: { environment: Record<string, string>; modelDataUrl: string } } };
    expect(raw.requestParameters.primaryContainer.environment).toEqual({ MLFLOW_TRACKING_PASSWORD: '[redacted]', MLFLOW_TRACKING_USERNAME: 'svc-serving' });
    expect(raw.requestParameters.primaryContainer.modelDataUrl).toBe('s3://models/fraud/model.tar.gz');
  });

  it('training job state change (EventBridge): a secret HyperParameters value is redacted in raw and ml.job.params', () => {
    const env = fx<{ detail: Record<string, unknown> }>('eventbridge-sagemaker-training-job-state-change.awsdocs.json');
    env.detail = { ...env.detail, HyperParameters: { hf_token: 'hf_Secr3tHubToken', epochs: '3' }, Environment: { WANDB_API_KEY: 'wandb-S3cretKey' } };
    const ev = normOne(env);
    expectNoSecret(ev);
    expect(ev.ml?.job?.params).toEqual({ hf_token: '[redacted]', epochs: '3' });
    expect((ev.raw as typeof env).detail.HyperParameters).toEqual({ hf_token: '[redacted]', epochs: '3' });
  });

  it('a record without secrets is kept as is (the same object)', () => {
    const record = fx('cloudtrail-sagemaker-createtrainingjob.real.json');
    expect(normOne(record).raw).toBe(record);
  });
});
