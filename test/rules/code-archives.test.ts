import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { vertexConnector } from '../../connectors/vertex/index.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne as smOne } from '../connectors/sagemaker/helpers.js';
import { auditEntry, ctx as vertexCtx, LOC, V1 } from '../connectors/vertex/samples.js';

/**
 * training.unverified_dependency: the code archive a job downloads and runs besides its image — SageMaker script
 * mode's `sagemaker_submit_directory` (the SDK's sourcedir.tar.gz, JSON-encoded as the SDK writes hyperparameters), a
 * Vertex worker pool's `pythonPackageSpec.packageUris` — on Google's or AWS's prebuilt image, which passes by tag.
 */
const RULE = 'training.unverified_dependency';
const alertsOf = (evs: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);
const DLC = '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3.0-gpu-py311';

const scriptMode = (submitDirectory: string, name = 'churn-7') =>
  NormalizedEvent.parse(smOne(ctRecord('CreateTrainingJob', {
    trainingJobName: name, algorithmSpecification: { trainingImage: DLC, trainingInputMode: 'File' }, roleArn: 'arn:aws:iam::111122223333:role/SageMakerExec', enableNetworkIsolation: true,
    hyperParameters: { sagemaker_submit_directory: JSON.stringify(submitDirectory), sagemaker_program: '"train.py"', sagemaker_region: '"us-east-1"', epochs: '3' },
  })));

describe('SageMaker script mode: sagemaker_submit_directory', () => {
  it('is the job\'s code_uris; in the SDK default bucket of another account it alerts, in the job\'s own it does not', () => {
    const own = scriptMode('s3://sagemaker-us-east-1-111122223333/churn-7/source/sourcedir.tar.gz');
    expect(own.ml?.job?.code_uris).toEqual(['s3://sagemaker-us-east-1-111122223333/churn-7/source/sourcedir.tar.gz']);
    expect(alertsOf([own])).toEqual([]);
    const foreign = scriptMode('s3://sagemaker-us-east-1-999988887777/x/source/sourcedir.tar.gz');
    const [alert, ...more] = alertsOf([foreign]);
    expect(more).toEqual([]);
    expect(alert!.details).toMatchObject({ job: 'churn-7', code_uris: ['s3://sagemaker-us-east-1-999988887777/x/source/sourcedir.tar.gz'] });
    expect(alert!.summary).toContain('the SageMaker SDK bucket of account 999988887777');
  });

  it('with trusted_code_locations set, code anywhere else alerts (an unknown bucket is no proof without it)', () => {
    const attacker = scriptMode('s3://attacker-bucket/sourcedir.tar.gz');
    expect(alertsOf([attacker])).toEqual([]);
    const rules = { [RULE]: { trusted_code_locations: ['s3://sagemaker-*-111122223333/*', 's3://ml-code/*'] } };
    expect(alertsOf([attacker], rules).map((a) => a.details?.code_uris)).toEqual([['s3://attacker-bucket/sourcedir.tar.gz']]);
    expect(alertsOf([scriptMode('s3://sagemaker-us-east-1-111122223333/c/source/sourcedir.tar.gz'), scriptMode('s3://ml-code/churn/sourcedir.tar.gz', 'churn-8')], rules)).toEqual([]);
    // Trusted by the operator, another account's SDK bucket passes too (a central tooling account).
    expect(alertsOf([scriptMode('s3://sagemaker-us-east-1-999988887777/x/sourcedir.tar.gz')], { [RULE]: { trusted_code_locations: ['s3://sagemaker-us-east-1-999988887777/*'] } })).toEqual([]);
    // A local path is in the image: no archive.
    expect(scriptMode('/opt/ml/code').ml?.job?.code_uris).toBeUndefined();
  });
});

describe('Vertex AI: pythonPackageSpec.packageUris', () => {
  const customJob = (packageUris: string[]) => NormalizedEvent.parse(vertexConnector.normalize!(auditEntry({
    method: `${V1}JobService.CreateCustomJob`, resourceName: LOC,
    request: { parent: LOC, customJob: { displayName: 'train', jobSpec: { network: 'projects/123456/global/networks/vpc', workerPoolSpecs: [{ pythonPackageSpec: { executorImageUri: 'us-docker.pkg.dev/vertex-ai/training/pytorch-gpu.2-1.py310:latest', packageUris, pythonModule: 'trainer.task' } }] } } },
  }), vertexCtx).events[0]);

  it('a package outside trusted_code_locations alerts on Google\'s prebuilt executor', () => {
    const ev = customJob(['gs://ml-code/trainer-0.1.tar.gz', 'gs://attacker-bucket/helpers-0.1.tar.gz']);
    expect(ev.ml?.job?.code_uris).toEqual(['gs://ml-code/trainer-0.1.tar.gz', 'gs://attacker-bucket/helpers-0.1.tar.gz']);
    const rules = { [RULE]: { trusted_code_locations: ['gs://ml-code/*'] } };
    expect(alertsOf([ev], rules).map((a) => a.details?.code_uris)).toEqual([['gs://attacker-bucket/helpers-0.1.tar.gz']]);
    expect(alertsOf([customJob(['gs://ml-code/trainer-0.1.tar.gz'])], rules)).toEqual([]);
    expect(() => RulesConfig.parse({ [RULE]: { trusted_code_locations: [''] } })).toThrow();
  });
});

describe('SageMaker processing jobs: their packages, code and image registry', () => {
  const SKLEARN = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3';
  const processing = (extra: Record<string, unknown>, image = SKLEARN) =>
    NormalizedEvent.parse(smOne(ctRecord('CreateProcessingJob', {
      processingJobName: 'prep-7', appSpecification: { imageUri: image, containerEntrypoint: ['python3', '/opt/ml/processing/input/code/preprocess.py'] },
      processingResources: { clusterConfig: { instanceCount: 1, instanceType: 'ml.m5.xlarge', volumeSizeInGB: 30 } }, roleArn: 'arn:aws:iam::111122223333:role/SageMakerExec',
      networkConfig: { enableNetworkIsolation: true }, ...extra,
    })));
  const input = (inputName: string, s3Uri: string, localPath: string) => ({ inputName, s3Input: { s3Uri, localPath, s3DataType: 'S3Prefix', s3InputMode: 'File' } });

  it('a foreign index in its Environment, or its `code` input in another account\'s SDK bucket, alerts; AWS\'s processing image by tag does not', () => {
    expect(alertsOf([processing({})])).toEqual([]);
    const pip = processing({ environment: { PIP_INDEX_URL: 'https://pypi.attacker.example/simple' } });
    expect(alertsOf([pip]).map((a) => a.details?.package_sources)).toEqual([['https://pypi.attacker.example/simple']]);
    const code = processing({ processingInputs: [input('input-1', 's3://ml-data/raw/', '/opt/ml/processing/input'), input('code', 's3://sagemaker-us-east-1-999988887777/prep/code/preprocess.py', '/opt/ml/processing/input/code')] });
    expect(code.ml?.job?.code_uris).toEqual(['s3://sagemaker-us-east-1-999988887777/prep/code/preprocess.py']);
    expect(alertsOf([code]).map((a) => a.details?.code_uris)).toEqual([['s3://sagemaker-us-east-1-999988887777/prep/code/preprocess.py']]);
    const attacker = processing({ processingInputs: [input('code', 's3://attacker-bucket/preprocess.py', '/opt/ml/processing/input/code')] });
    expect(alertsOf([attacker], { [RULE]: { trusted_code_locations: ['s3://sagemaker-*-111122223333/*'] } })).toHaveLength(1);
  });
});

describe('SageMaker processing jobs: an image from a registry off the allow list', () => {
  const SPARK = '173754725891.dkr.ecr.us-east-1.amazonaws.com/sagemaker-spark-processing:3.5-cpu-py312-v1.0';
  // The real CloudTrail shape of CreateProcessingJob (requestParameters lowerCamel, spec §2.2).
  const processing = (imageUri: string, name = 'prep-churn-2026-08-21') =>
    NormalizedEvent.parse(smOne(ctRecord('CreateProcessingJob', {
      processingJobName: name, appSpecification: { imageUri, containerEntrypoint: ['python3', '/opt/ml/processing/input/code/preprocess.py'], containerArguments: ['--train-split', '0.8'] },
      processingInputs: [{ inputName: 'raw', s3Input: { s3Uri: 's3://ml-raw/churn/2026-08-21/', localPath: '/opt/ml/processing/input/raw', s3DataType: 'S3Prefix', s3InputMode: 'File' } }],
      processingOutputConfig: { outputs: [{ outputName: 'train', s3Output: { s3Uri: 's3://training-data/churn/train/', localPath: '/opt/ml/processing/train', s3UploadMode: 'EndOfJob' } }] },
      processingResources: { clusterConfig: { instanceCount: 1, instanceType: 'ml.m5.xlarge', volumeSizeInGB: 30 } }, roleArn: 'arn:aws:iam::111122223333:role/SageMakerExec',
      networkConfig: { enableNetworkIsolation: true },
    }, { responseElements: { processingJobArn: `arn:aws:sagemaker:us-east-1:111122223333:processing-job/${name}` } })));

  it('Docker Hub or a public registry alerts (the container writes the training data); ECR by tag does not (AWS\'s Spark, scikit-learn, the own account\'s)', () => {
    const [hub, ...more] = alertsOf([processing('docker.io/evil/preproc:latest')]);
    expect(more).toEqual([]);
    expect(hub!.details).toMatchObject({ job: 'prep-churn-2026-08-21', image: 'docker.io/evil/preproc:latest', reasons: ['registry docker.io is not on the allow list'] });
    expect(hub!.entity.id).toContain('prep-churn');
    expect(alertsOf([processing('public.ecr.aws/attacker/proc:latest')]).map((a) => a.details?.reasons)).toEqual([['registry public.ecr.aws is not on the allow list']]);
    // Not pinned is no finding for a processing job: AWS's containers run by tag.
    expect(alertsOf([processing(SPARK), processing('111122223333.dkr.ecr.us-east-1.amazonaws.com/prep:latest', 'prep-2')])).toEqual([]);
    // A training job with the same tagged image still needs the digest.
    expect(alertsOf([NormalizedEvent.parse(smOne(ctRecord('CreateTrainingJob', { trainingJobName: 't-1', algorithmSpecification: { trainingImage: '111122223333.dkr.ecr.us-east-1.amazonaws.com/prep:latest', trainingInputMode: 'File' }, roleArn: 'arn:aws:iam::111122223333:role/SageMakerExec', enableNetworkIsolation: true })))])).toHaveLength(1);
  });

  it('allowed_repositories and trusted_images apply as for training images', () => {
    const rules = { [RULE]: { allowed_repositories: ['111122223333.dkr.ecr.*.amazonaws.com/*'] } };
    expect(alertsOf([processing('999988887777.dkr.ecr.us-east-1.amazonaws.com/prep:1')], rules).map((a) => a.details?.reasons)).toEqual([['repository 999988887777.dkr.ecr.us-east-1.amazonaws.com/prep is not on allowed_repositories']]);
    // AWS's Spark processing image passes by the default trusted_images (the SDK's per-region table); a trusted_images
    // list of the operator's own replaces those defaults, and then allowed_repositories judges it.
    expect(alertsOf([processing(SPARK)], rules)).toEqual([]);
    expect(alertsOf([processing(SPARK)], { [RULE]: { ...rules[RULE], trusted_images: ['docker.io/corp/*'] } })).toHaveLength(1);
    expect(alertsOf([processing(SPARK)], { [RULE]: { allowed_repositories: ['111122223333.dkr.ecr.*.amazonaws.com/*', '173754725891.dkr.ecr.us-east-1.amazonaws.com/sagemaker-spark-processing'] } })).toEqual([]);
    expect(alertsOf([processing('docker.io/corp/prep:2')], { [RULE]: { trusted_images: ['docker.io/corp/*'] } })).toEqual([]);
  });
});
