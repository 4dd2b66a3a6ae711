import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { ctRecord, normOne } from './helpers.js';

/**
 * SageMaker JumpStart fine-tuning: a training job whose input channel `model` is the base model's weights (JumpStart's
 * `jumpstart-*-cache-prod-<region>` bucket, `ModelAccessConfig.AcceptEula` for a gated model) beside the `training`
 * channel. The base model is named in `ml.job.base_model`; a run whose base model comes from another bucket than the
 * family's earlier runs' is `training.unfamiliar_data_source`.
 */

const BASE = 's3://jumpstart-private-cache-prod-us-east-1/meta-textgeneration/meta-textgeneration-llama-3-8b/artifacts/inference-prepack/v1.0.0/';
const IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:2.0.0-transformers4.28.1-gpu-py310-cu118-ubuntu20.04';
let n = 0;
const train = (day: number, base: string, user = 'alice') => {
  const name = `meta-textgeneration-llama-3-8b-202611${String(day).padStart(2, '0')}-1200`;
  return normOne(ctRecord('CreateTrainingJob', {
    trainingJobName: name,
    hyperParameters: { epoch: '5', instruction_tuned: 'True', sagemaker_program: '"transfer_learning.py"' },
    algorithmSpecification: { trainingImage: IMAGE, trainingInputMode: 'File' },
    roleArn: 'arn:aws:iam::111122223333:role/SageMakerExec',
    inputDataConfig: [
      { channelName: 'training', dataSource: { s3DataSource: { s3DataType: 'S3Prefix', s3Uri: 's3://ml-training-data/genai/dolly/', s3DataDistributionType: 'FullyReplicated' } } },
      { channelName: 'model', dataSource: { s3DataSource: { s3DataType: 'S3Prefix', s3Uri: base, s3DataDistributionType: 'FullyReplicated', modelAccessConfig: { acceptEula: true } } } },
    ],
    outputDataConfig: { s3OutputPath: 's3://ml-model-artifacts/genai/' },
    resourceConfig: { instanceType: 'ml.g5.12xlarge', instanceCount: 1, volumeSizeInGB: 256 },
    enableNetworkIsolation: true,
    tags: [{ key: 'sagemaker-sdk:jumpstart-model-id', value: 'meta-textgeneration-llama-3-8b' }],
  }, {
    eventID: `js-${++n}`, eventTime: `2026-11-${String(day).padStart(2, '0')}T12:00:00Z`,
    userIdentity: { type: 'AssumedRole', principalId: `AROAEXAMPLE:${user}`, arn: `arn:aws:sts::111122223333:assumed-role/MLEngineer/${user}`, accountId: '111122223333' },
    responseElements: { trainingJobArn: `arn:aws:sagemaker:us-east-1:111122223333:training-job/${name}` },
  }));
};

describe('SageMaker JumpStart fine-tuning jobs', () => {
  it('name the base model (the `model` channel) in ml.job.base_model, both channels in ml.data.inputs', () => {
    const ev = train(1, BASE);
    expect(ev.ml?.job).toMatchObject({ type: 'training', base_model: BASE, network_isolation: true });
    expect(ev.ml?.data?.inputs).toEqual(['s3://ml-training-data/genai/dolly/', BASE]);
  });

  it('a base model from an unfamiliar bucket is one training.unfamiliar_data_source finding (not two)', () => {
    const events = [train(1, BASE), train(5, BASE), train(9, BASE), train(15, 's3://hf-mirror-llm/llama-3-8b-backdoor/', 'mallory')];
    const found = replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'training.unfamiliar_data_source');
    expect(found.map((a) => [a.entity.name, a.details.inputs, a.details.base_model, a.details.submitted_by])).toEqual([
      ['meta-textgeneration-llama-3-8b', ['s3://hf-mirror-llm/llama-3-8b-backdoor/'], undefined, 'mallory'],
    ]);
  });
});

describe('SageMaker adapter inference components', () => {
  const adapter = (artifactUrl: string, eventID: string) => normOne(ctRecord('CreateInferenceComponent', {
    inferenceComponentName: 'support-adapter', endpointName: 'genai-prod',
    specification: { baseInferenceComponentName: 'llama3-8b-base-ic', container: { artifactUrl } },
  }, { eventID, eventTime: '2026-11-17T09:20:00Z', responseElements: { inferenceComponentArn: 'arn:aws:sagemaker:us-east-1:111122223333:inference-component/support-adapter' } }));

  it('name the base component they load into and the adapter weights they load', () => {
    const ev = adapter('s3://scratch-share-9931/adapters/support-lora.tar.gz', 'ic-1');
    expect(ev.action).toBe('endpoint.deploy');
    expect(ev.ml?.deployment).toMatchObject({ endpoint: 'genai-prod', base_inference_component: 'llama3-8b-base-ic' });
    expect(ev.ml?.model?.artifact_uri).toBe('s3://scratch-share-9931/adapters/support-lora.tar.gz');
  });

  it('an adapter no approved package holds is registry.unapproved_deployment; one an approved package holds is not', () => {
    const uri = 's3://ml-model-artifacts/genai/support-lora/output/model.tar.gz';
    const pkg = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/support-lora/1';
    const register = normOne(ctRecord('CreateModelPackage', { modelPackageGroupName: 'support-lora', modelApprovalStatus: 'Approved', inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl: uri }] } }, { eventID: 'ic-pkg', eventTime: '2026-11-10T09:00:00Z', responseElements: { modelPackageArn: pkg } }));
    const judge = (events: ReturnType<typeof normOne>[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect(judge([register, adapter(uri, 'ic-2')])).toEqual([]);
    const foreign = judge([register, adapter('s3://scratch-share-9931/adapters/support-lora.tar.gz', 'ic-3')]);
    expect(foreign.map((a) => [a.entity.name, a.details.reason, (a.details.deployed as { artifact?: string }).artifact])).toEqual([['genai-prod', 'never_approved', 's3://scratch-share-9931/adapters/support-lora.tar.gz']]);
  });
});
