import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { isGroundTruthBuiltIn } from '../../core/rules/kinds/code-locations.js';
import { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * training.unverified_dependency on a SageMaker Ground Truth labeling job: the pre-annotation and annotation
 * consolidation Lambda functions run over every data object and decide its label (the labels a model learns from).
 * Records are CloudTrail's CreateLabelingJob (requestParameters lowerCamel, spec §2.1).
 */
const RULE = 'training.unverified_dependency';
const alertsOf = (evs: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);
const OWN = '111122223333';
const labelingJob = (pre: string, acs: string, opts: { workteam?: string; errorCode?: string; name?: string } = {}) => {
  const name = opts.name ?? 'churn-labels';
  return NormalizedEvent.parse(normOne(ctRecord('CreateLabelingJob', {
    labelingJobName: name, labelAttributeName: 'label',
    inputConfig: { dataSource: { s3DataSource: { manifestS3Uri: 's3://ml-raw/manifests/input.manifest' } } },
    outputConfig: { s3OutputPath: 's3://training-data/labels/' }, roleArn: `arn:aws:iam::${OWN}:role/GroundTruthExec`,
    labelCategoryConfigS3Uri: 's3://ml-raw/labels.json',
    humanTaskConfig: {
      workteamArn: opts.workteam ?? `arn:aws:sagemaker:us-east-1:${OWN}:workteam/private-crowd/labelers`,
      uiConfig: { uiTemplateS3Uri: 's3://ml-raw/template.liquid' }, preHumanTaskLambdaArn: pre,
      taskTitle: 'Churn', taskDescription: 'Label churn', numberOfHumanWorkersPerDataObject: 3, taskTimeLimitInSeconds: 300,
      annotationConsolidationConfig: { annotationConsolidationLambdaArn: acs },
    },
  }, {
    responseElements: opts.errorCode ? null : { labelingJobArn: `arn:aws:sagemaker:us-east-1:${OWN}:labeling-job/${name}` },
    ...(opts.errorCode ? { errorCode: opts.errorCode, errorMessage: 'denied' } : {}),
  })));
};
const PRE_BUILTIN = 'arn:aws:lambda:us-east-1:432418664414:function:PRE-BoundingBox';
const ACS_BUILTIN = 'arn:aws:lambda:us-east-1:432418664414:function:ACS-BoundingBox';

describe('SageMaker CreateLabelingJob: its Lambda functions and work team', () => {
  it('normalizes them into ml.job', () => {
    const ev = labelingJob(PRE_BUILTIN, `arn:aws:lambda:us-east-1:${OWN}:function:consolidate`, { workteam: 'arn:aws:sagemaker:us-east-1:394669845002:workteam/public-crowd/default' });
    expect(ev.stage).toBe('ingestion');
    expect(ev.ml?.job).toMatchObject({
      type: 'labeling', lambda_functions: [PRE_BUILTIN, `arn:aws:lambda:us-east-1:${OWN}:function:consolidate`], pre_annotation_lambda: PRE_BUILTIN,
      consolidation_lambda: `arn:aws:lambda:us-east-1:${OWN}:function:consolidate`, workteam: 'arn:aws:sagemaker:us-east-1:394669845002:workteam/public-crowd/default', public_workforce: true,
    });
    expect(labelingJob(PRE_BUILTIN, ACS_BUILTIN).ml?.job?.public_workforce).toBeUndefined();
  });

  it('a function of another account alerts; Ground Truth\'s built-in functions and the own account\'s do not', () => {
    expect(alertsOf([labelingJob(PRE_BUILTIN, ACS_BUILTIN), labelingJob(`arn:aws:lambda:us-east-1:${OWN}:function:pre`, `arn:aws:lambda:us-east-1:${OWN}:function:acs`, { name: 'own-1' })])).toEqual([]);
    const foreign = 'arn:aws:lambda:us-east-1:999988887777:function:ACS-BoundingBox';
    const [alert, ...more] = alertsOf([labelingJob(PRE_BUILTIN, foreign)]);
    expect(more).toEqual([]);
    expect(alert!.severity).toBe('high');
    expect(alert!.details).toMatchObject({ job: 'churn-labels', lambda_functions: [foreign] });
    expect(alert!.summary).toContain('of account 999988887777');
    // A built-in name in the wrong region's account is no built-in.
    expect(isGroundTruthBuiltIn('arn:aws:lambda:us-east-2:432418664414:function:PRE-BoundingBox')).toBe(false);
    expect(isGroundTruthBuiltIn('arn:aws:lambda:us-east-2:266458841044:function:PRE-BoundingBox')).toBe(true);
    // A refused request ran nothing.
    expect(alertsOf([labelingJob(PRE_BUILTIN, foreign, { errorCode: 'AccessDeniedException' })])).toEqual([]);
  });

  it('trusted_code_locations: Lambda ARN globs judge the own account\'s functions too and trust another\'s; S3 globs alone leave functions out', () => {
    const own = labelingJob(`arn:aws:lambda:us-east-1:${OWN}:function:scratch-pre`, ACS_BUILTIN);
    expect(alertsOf([own], { [RULE]: { trusted_code_locations: ['s3://ml-code/*'] } })).toEqual([]);
    const rules = { [RULE]: { trusted_code_locations: ['s3://ml-code/*', `arn:aws:lambda:*:${OWN}:function:gt-*`, 'arn:aws:lambda:*:444455556666:function:*'] } };
    expect(alertsOf([own], rules).map((a) => a.details?.lambda_functions)).toEqual([[`arn:aws:lambda:us-east-1:${OWN}:function:scratch-pre`]]);
    expect(alertsOf([labelingJob(`arn:aws:lambda:us-east-1:${OWN}:function:gt-pre`, 'arn:aws:lambda:us-east-1:444455556666:function:vendor-acs')], rules)).toEqual([]);
  });
});
