import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { evaluationStepOf } from '../../../connectors/sagemaker/evaluation-step.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { ctRecord, normOne } from './helpers.js';

/**
 * A SageMaker Pipelines evaluation step: a CreateProcessingJob (CloudTrail requestParameters, lowerCamel) on a
 * scikit-learn / XGBoost processing image writing its `evaluation.json` property file to an output named `evaluation`,
 * the job tagged by Pipelines with its step name. Classified stage evaluation, still judged as the processing job it is.
 */
const EXEC = 'arn:aws:sagemaker:us-east-1:111122223333:pipeline/abalone/execution/a1b2c3d4e5f6';
const SKLEARN = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3';
let n = 0;
function processingJob(opts: { output?: string; step?: string; name?: string; image?: string; isolated?: boolean } = {}): NormalizedEvent {
  const name = opts.name ?? `pipelines-a1b2c3d4e5f6-Job${++n}-Ab12Cd34Ef`;
  return NormalizedEvent.parse(normOne(ctRecord('CreateProcessingJob', {
    processingJobName: name,
    appSpecification: { imageUri: opts.image ?? SKLEARN, containerEntrypoint: ['python3', '/opt/ml/processing/input/code/evaluation.py'] },
    processingInputs: [
      { inputName: 'input-1', s3Input: { s3Uri: 's3://ml-artifacts/abalone/model.tar.gz', localPath: '/opt/ml/processing/model', s3DataType: 'S3Prefix', s3InputMode: 'File' } },
      { inputName: 'code', s3Input: { s3Uri: 's3://ml-artifacts/abalone/code/evaluation.py', localPath: '/opt/ml/processing/input/code', s3DataType: 'S3Prefix', s3InputMode: 'File' } },
    ],
    processingOutputConfig: { outputs: [{ outputName: opts.output ?? 'train', s3Output: { s3Uri: `s3://ml-eval/abalone/${name}/${opts.output ?? 'train'}`, localPath: '/opt/ml/processing/out', s3UploadMode: 'EndOfJob' } }] },
    processingResources: { clusterConfig: { instanceCount: 1, instanceType: 'ml.m5.xlarge', volumeSizeInGB: 30 } },
    roleArn: 'arn:aws:iam::111122223333:role/SageMakerExec', ...(opts.isolated === false ? {} : { networkConfig: { enableNetworkIsolation: true } }),
    ...(opts.step ? { tags: [{ key: 'sagemaker:pipeline-execution-arn', value: EXEC }, { key: 'sagemaker:pipeline-step-name', value: opts.step }] } : {}),
  }, { eventID: `ev-${name}`, responseElements: { processingJobArn: `arn:aws:sagemaker:us-east-1:111122223333:processing-job/${name}` } })));
}

describe('SageMaker Pipelines evaluation step (CreateProcessingJob)', () => {
  it('an output named evaluation, or a step named for it (tag or generated job name), is stage evaluation with details.evaluation_step', () => {
    const byOutput = processingJob({ output: 'evaluation' });
    expect([byOutput.stage, byOutput.action, byOutput.details?.evaluation_step]).toEqual(['evaluation', 'processing_job.create', 'output evaluation']);
    const byTag = processingJob({ step: 'EvaluateAbaloneModel', name: 'abalone-eval-custom-prefix' });
    expect([byTag.stage, byTag.details?.evaluation_step]).toEqual(['evaluation', 'pipeline step EvaluateAbaloneModel']);
    const byName = processingJob({ name: 'pipelines-a1b2c3d4e5f6-ModelEvaluation-Xy12Ab34Cd' });
    expect([byName.stage, byName.details?.evaluation_step]).toEqual(['evaluation', 'pipeline step ModelEvaluation']);
  });

  it('a preprocessing step stays preprocessing: its outputs and step name say nothing of evaluation', () => {
    const prep = processingJob({ output: 'validation', step: 'PreprocessAbaloneData' });
    expect([prep.stage, prep.details?.evaluation_step]).toEqual(['preprocessing', undefined]);
    // "evaluate" must be a word of the name, not a part of another (`reevaluated` is none; `medieval` neither).
    expect([evaluationStepOf({ processingJobName: 'pipelines-a1b2c3d4e5f6-Medieval-Ab12Cd34Ef' }), evaluationStepOf({ processingOutputConfig: { outputs: [{ outputName: 'test' }] } })]).toEqual([undefined, undefined]);
  });

  it('an evaluation step is still judged as a processing job: a foreign image, and no network isolation, alert as for preprocessing', () => {
    const rules = RulesConfig.parse({ 'training.network_egress': { policy: [{ jobs: '*', require_isolation: true }] } });
    const evs = [processingJob({ output: 'evaluation', image: 'docker.io/attacker/eval:latest', isolated: false })];
    const alerts = replayEvents(evs, { rules }).alerts.map((a) => a.rule_id).sort();
    expect(alerts).toEqual(expect.arrayContaining(['training.network_egress', 'training.unverified_dependency']));
  });
});
