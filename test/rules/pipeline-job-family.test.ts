import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, fx, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * Jobs a SageMaker Pipelines execution starts fold into one family by the `sagemaker:pipeline-execution-arn` /
 * `sagemaker:pipeline-step-name` tags Pipelines puts on them, not only by the generated `pipelines-<id>-<Step>-<rand>`
 * name: with PipelineDefinitionConfig(use_custom_job_prefix=True) the job keeps the user's prefix, and a tuning step's
 * training jobs are named after the tuning job. Each run of a step is then one family, as the rules learn and suppress by.
 */
const ACCOUNT = '111122223333';
const execArn = (id: string, pipeline = 'churn-pipeline', account = ACCOUNT) => `arn:aws:sagemaker:us-east-1:${account}:pipeline/${pipeline}/execution/${id}`;
const pipelineTags = (execution: string, step: string) => [
  { key: 'sagemaker:pipeline-execution-arn', value: execution },
  { key: 'sagemaker:pipeline-step-name', value: step },
];
const IMAGE_A = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/prep@sha256:${'a'.repeat(64)}`;
const IMAGE_B = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/prep@sha256:${'b'.repeat(64)}`;

/** A processing step's job as Pipelines starts it with a custom prefix: the prefix, then a run-specific suffix. */
function processingJob(name: string, image: string, tags: unknown[] | undefined, eventID: string, eventTime: string): NormalizedEvent {
  return normOne(ctRecord('CreateProcessingJob', {
    processingJobName: name,
    appSpecification: { imageUri: image },
    roleArn: `arn:aws:iam::${ACCOUNT}:role/PipelineExecution`,
    processingResources: { clusterConfig: { instanceType: 'ml.m5.xlarge', instanceCount: 1, volumeSizeInGB: 30 } },
    networkConfig: { enableNetworkIsolation: true },
    ...(tags ? { tags } : {}),
  }, { eventID, eventTime, recipientAccountId: ACCOUNT }));
}

const alertsOf = (events: NormalizedEvent[], rule: string) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === rule);

describe('SageMaker Pipelines job families by the pipeline tags', () => {
  it('custom-prefix step jobs of two executions are one family: a changed preprocessing image alerts; two pipelines\' unlinked jobs do not', () => {
    const run1 = processingJob('churn-prep-p4jn9xou8a8s-Zq81LmN0aB', IMAGE_A, pipelineTags(execArn('p4jn9xou8a8s'), 'Preprocess'), 'prep-1', '2026-11-25T10:00:00Z');
    const run2 = processingJob('churn-prep-kytlemm1lvpq-cIpzShs3Qp', IMAGE_B, pipelineTags(execArn('kytlemm1lvpq'), 'Preprocess'), 'prep-2', '2026-11-26T10:00:00Z');
    expect(run1.ml?.job).toMatchObject({ pipeline_execution: execArn('p4jn9xou8a8s'), pipeline_step: 'Preprocess' });
    const [a, ...rest] = alertsOf([run1, run2], 'preprocessing.code_modified');
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ entity: { id: `${ACCOUNT}:us-east-1:pipelines-churn-pipeline/Preprocess` }, details: { job: 'churn-prep-kytlemm1lvpq-cIpzShs3Qp', reasons: [expect.stringContaining('image changed')] } });
    // The same names without the tags: nothing links them, each is its own family (first run, nothing to compare).
    const bare1 = processingJob('churn-prep-p4jn9xou8a8s-Zq81LmN0aB', IMAGE_A, undefined, 'bare-1', '2026-11-25T10:00:00Z');
    const bare2 = processingJob('churn-prep-kytlemm1lvpq-cIpzShs3Qp', IMAGE_B, undefined, 'bare-2', '2026-11-26T10:00:00Z');
    expect(alertsOf([bare1, bare2], 'preprocessing.code_modified')).toEqual([]);
  });

  it('two pipelines\' steps of one name are two families: their own images alternating raise nothing; a change within one still alerts', () => {
    const churn = (id: string, image: string, day: string) => processingJob(`churn-prep-${id}-Zq81LmN0aB`, image, pipelineTags(execArn(id), 'Preprocess'), `churn-${id}`, `2026-11-${day}T10:00:00Z`);
    const fraud = (id: string, image: string, day: string) => processingJob(`fraud-prep-${id}-cIpzShs3Qp`, image, pipelineTags(execArn(id, 'fraud-pipeline'), 'Preprocess'), `fraud-${id}`, `2026-11-${day}T11:00:00Z`);
    expect(alertsOf([churn('aaaa1111bbbb', IMAGE_A, '24'), fraud('cccc2222dddd', IMAGE_B, '24'), churn('eeee3333ffff', IMAGE_A, '25'), fraud('gggg4444hhhh', IMAGE_B, '25')], 'preprocessing.code_modified')).toEqual([]);
    const changed = alertsOf([churn('aaaa1111bbbb', IMAGE_A, '24'), fraud('cccc2222dddd', IMAGE_B, '24'), churn('eeee3333ffff', IMAGE_B, '25')], 'preprocessing.code_modified');
    expect(changed.map((a) => a.entity.id)).toEqual([`${ACCOUNT}:us-east-1:pipelines-churn-pipeline/Preprocess`]);
  });

  it('a tag naming an execution in another account links nothing', () => {
    const run1 = processingJob('churn-prep-p4jn9xou8a8s-Zq81LmN0aB', IMAGE_A, pipelineTags(execArn('p4jn9xou8a8s'), 'Preprocess'), 'x-1', '2026-11-25T10:00:00Z');
    const forged = processingJob('evil-prep-Ab12Cd34Ef', IMAGE_B, pipelineTags(execArn('kytlemm1lvpq', 'churn-pipeline', '444455556666'), 'Preprocess'), 'x-2', '2026-11-26T10:00:00Z');
    expect(alertsOf([run1, forged], 'preprocessing.code_modified')).toEqual([]);
  });

  it('a tuning step\'s training jobs carry the tuning job\'s pipeline tags and its ARN: one family with the step', () => {
    // EventBridge Training Job State Change (Tags an object map, as SageMaker sends it) of a job a tuning job launched.
    const env = fx<Record<string, any>>('eventbridge-sagemaker-training-job-state-change.awsdocs.json');
    env.detail = {
      ...env.detail,
      TrainingJobName: 'Tune-Ab12Cd34Ef-003-4ef22c8d',
      TrainingJobArn: `arn:aws:sagemaker:us-east-1:${env.account}:training-job/tune-ab12cd34ef-003-4ef22c8d`,
      TuningJobArn: `arn:aws:sagemaker:us-east-1:${env.account}:hyper-parameter-tuning-job/tune-ab12cd34ef`,
      Tags: { 'sagemaker:pipeline-execution-arn': execArn('p4jn9xou8a8s', 'churn-pipeline', env.account), 'sagemaker:pipeline-step-name': 'TuneChurn', team: 'risk' },
    };
    const ev = normOne(env);
    expect(ev.ml?.job).toMatchObject({ name: 'Tune-Ab12Cd34Ef-003-4ef22c8d', tuning_job: 'Tune-Ab12Cd34Ef', pipeline_step: 'TuneChurn' });
    // Without the pipeline tags it is still its tuning job's job.
    env.detail.Tags = {};
    expect(normOne(env).ml?.job).toMatchObject({ tuning_job: 'Tune-Ab12Cd34Ef' });
    expect(normOne(env).ml?.job?.pipeline_step).toBeUndefined();
  });
});
