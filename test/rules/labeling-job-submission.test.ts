import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * A SageMaker Ground Truth labeling job (CloudTrail `CreateLabelingJob`, requestParameters lowerCamel) is a job
 * submission where the stage rules look for jobs: training.off_hours_job (per role), training.network_egress (only
 * with automated data labeling, which runs instances of the job: `labelingJobResourceConfig.vpcConfig`),
 * training.unverified_dependency (its Lambda functions). Ground Truth's own accounts named in the request (its
 * built-in PRE-/ACS- functions, the public-crowd work team, the built-in labeling algorithm) raise nothing.
 */
const OWN = '111122223333';
const PRE = 'arn:aws:lambda:us-east-1:432418664414:function:PRE-ImageMultiClass';
const ACS = 'arn:aws:lambda:us-east-1:432418664414:function:ACS-ImageMultiClass';
const ALGORITHM = 'arn:aws:sagemaker:us-east-1:027400017018:labeling-job-algorithm-specification/image-classification';
let n = 0;
function labelingJob(time: string, opts: { automated?: boolean; vpc?: boolean; region?: string; pre?: string; acs?: string; errorCode?: string } = {}): NormalizedEvent {
  const name = `images-${++n}`;
  const region = opts.region ?? 'us-east-1';
  return NormalizedEvent.parse(normOne(ctRecord('CreateLabelingJob', {
    labelingJobName: name, labelAttributeName: 'category',
    inputConfig: { dataSource: { s3DataSource: { manifestS3Uri: 's3://ml-raw/manifests/images.manifest' } } },
    outputConfig: { s3OutputPath: 's3://training-data/labels/' }, roleArn: `arn:aws:iam::${OWN}:role/GroundTruthExec`,
    labelCategoryConfigS3Uri: 's3://ml-raw/labels.json',
    humanTaskConfig: {
      workteamArn: `arn:aws:sagemaker:${region}:394669845002:workteam/public-crowd/default`,
      uiConfig: { uiTemplateS3Uri: 's3://ml-raw/template.liquid' }, preHumanTaskLambdaArn: opts.pre ?? PRE,
      taskTitle: 'Images', taskDescription: 'Classify images', numberOfHumanWorkersPerDataObject: 3, taskTimeLimitInSeconds: 300,
      annotationConsolidationConfig: { annotationConsolidationLambdaArn: opts.acs ?? ACS },
    },
    ...(opts.automated ? {
      labelingJobAlgorithmsConfig: {
        labelingJobAlgorithmSpecificationArn: ALGORITHM,
        ...(opts.vpc ? { labelingJobResourceConfig: { vpcConfig: { securityGroupIds: ['sg-0123'], subnets: ['subnet-0123'] } } } : {}),
      },
    } : {}),
  }, {
    eventID: `lj-${n}`, eventTime: time, awsRegion: region,
    responseElements: opts.errorCode ? null : { labelingJobArn: `arn:aws:sagemaker:${region}:${OWN}:labeling-job/${name}` },
    ...(opts.errorCode ? { errorCode: opts.errorCode, errorMessage: 'denied' } : {}),
  })));
}
const alertsOf = (rule: string, evs: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === rule);
/** Weekdays from 2026-11-02 (a Monday), `count` of them, at hour `h` UTC. */
const weekdays = (count: number, h: number) => Array.from({ length: 60 }, (_, d) => new Date(Date.UTC(2026, 10, 2 + d, h, 0, 0)))
  .filter((d) => d.getUTCDay() !== 0 && d.getUTCDay() !== 6).slice(0, count).map((d) => d.toISOString().replace('.000Z', 'Z'));

describe('CreateLabelingJob as a job submission', () => {
  it('normalizes automated data labeling and its algorithm into ml.job', () => {
    expect(labelingJob('2026-11-02T10:00:00Z', { automated: true }).ml?.job).toMatchObject({ type: 'labeling', automated_labeling: true, labeling_algorithm: ALGORITHM });
    expect(labelingJob('2026-11-02T10:00:00Z').ml?.job?.automated_labeling).toBeUndefined();
  });

  it('training.off_hours_job: a labeling job at 03:00 from a role that labels at 10:00 alerts; one at 10:00 does not', () => {
    const usual = weekdays(30, 10).map((t) => labelingJob(t));
    const odd = labelingJob('2026-12-21T03:00:00Z');
    const alerts = alertsOf('training.off_hours_job', [...usual, odd, labelingJob('2026-12-22T10:00:00Z')]);
    expect(alerts.map((a) => [a.evidence, a.details.job, a.details.history_jobs])).toEqual([[[odd.id], odd.ml?.job?.name, 30]]);
    // A refused request submitted nothing.
    expect(alertsOf('training.off_hours_job', [...usual, labelingJob('2026-12-21T03:00:00Z', { errorCode: 'AccessDeniedException' })])).toEqual([]);
  });

  it('training.network_egress: automated labeling without a VPC alerts (default policy: every job); with one, or human labeling alone, does not', () => {
    const open = labelingJob('2026-11-02T10:00:00Z', { automated: true });
    const alerts = alertsOf('training.network_egress', [open, labelingJob('2026-11-02T11:00:00Z', { automated: true, vpc: true }), labelingJob('2026-11-02T12:00:00Z')]);
    expect(alerts.map((a) => [a.evidence, a.details.job, a.details.vpc])).toEqual([[[open.id], open.ml?.job?.name, null]]);
  });

  it('training.unverified_dependency: Ground Truth\'s own accounts (built-in functions, public crowd, built-in algorithm) raise nothing', () => {
    expect(alertsOf('training.unverified_dependency', [labelingJob('2026-11-02T10:00:00Z', { automated: true, vpc: true })])).toEqual([]);
    // eu-west-2's built-ins from eu-west-2's Ground Truth account.
    expect(alertsOf('training.unverified_dependency', [labelingJob('2026-11-02T10:00:00Z', {
      region: 'eu-west-2', pre: 'arn:aws:lambda:eu-west-2:487402164563:function:PRE-ImageMultiClass', acs: 'arn:aws:lambda:eu-west-2:487402164563:function:ACS-ImageMultiClass',
    })])).toEqual([]);
  });

  it('a built-in name in a region no Ground Truth account is known for alerts, saying so', () => {
    const fn = 'arn:aws:lambda:eu-north-1:999988887777:function:ACS-ImageMultiClass';
    const [alert, ...more] = alertsOf('training.unverified_dependency', [labelingJob('2026-11-02T10:00:00Z', { region: 'eu-north-1', pre: 'arn:aws:lambda:eu-north-1:999988887777:function:PRE-ImageMultiClass', acs: fn })]);
    expect(more).toEqual([]);
    expect(alert!.details.lambda_functions).toHaveLength(2);
    expect(alert!.summary).toContain('no built-in account is known for eu-north-1');
  });
});
