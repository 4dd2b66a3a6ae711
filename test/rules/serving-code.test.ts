import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne as smOne } from '../connectors/sagemaker/helpers.js';

/**
 * serving.unverified_image: the script archive a SageMaker model's container downloads and runs
 * (`Environment.SAGEMAKER_SUBMIT_DIRECTORY` naming a remote location, as the SDK's framework models set it) is judged
 * as a training job's code archive is: outside trusted_code_locations when set, another account's SDK bucket always.
 */
const RULE = 'serving.unverified_image';
const alertsOf = (evs: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);
const DLC = '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1.0-cpu-py310';

const container = (submitDirectory: string) => ({
  image: DLC, modelDataUrl: 's3://models/fraud/model.tar.gz',
  environment: { SAGEMAKER_SUBMIT_DIRECTORY: submitDirectory, SAGEMAKER_PROGRAM: 'inference.py', SAGEMAKER_REGION: 'us-east-1' },
});
const createModel = (submitDirectory: string, name = 'fraud') =>
  NormalizedEvent.parse(smOne(ctRecord('CreateModel', { modelName: name, executionRoleArn: 'arn:aws:iam::111122223333:role/Sm', primaryContainer: container(submitDirectory) })));

describe('SageMaker CreateModel: SAGEMAKER_SUBMIT_DIRECTORY', () => {
  it('is the model\'s code_uris; in the SDK bucket of another account it alerts on the DLC by tag, in the model\'s own it does not', () => {
    const own = createModel('s3://sagemaker-us-east-1-111122223333/fraud/sourcedir.tar.gz');
    expect(own.ml?.model?.code_uris).toEqual(['s3://sagemaker-us-east-1-111122223333/fraud/sourcedir.tar.gz']);
    expect(alertsOf([own])).toEqual([]);
    const [alert, ...more] = alertsOf([createModel('s3://sagemaker-us-east-1-999988887777/x/sourcedir.tar.gz')]);
    expect(more).toEqual([]);
    expect(alert!.details).toMatchObject({ images: [], code_uris: ['s3://sagemaker-us-east-1-999988887777/x/sourcedir.tar.gz'] });
    expect(alert!.summary).toContain('the SageMaker SDK bucket of account 999988887777');
    // A path inside the model data is no archive.
    expect(createModel('/opt/ml/model/code').ml?.model?.code_uris).toBeUndefined();
  });

  it('with trusted_code_locations set, code anywhere else alerts; unset, an unknown bucket does not', () => {
    const attacker = createModel('s3://attacker-bucket/sourcedir.tar.gz');
    expect(alertsOf([attacker])).toEqual([]);
    const rules = { [RULE]: { trusted_code_locations: ['s3://sagemaker-*-111122223333/*', 's3://ml-code/*'] } };
    expect(alertsOf([attacker], rules).map((a) => a.details?.code_uris)).toEqual([['s3://attacker-bucket/sourcedir.tar.gz']]);
    expect(alertsOf([createModel('s3://ml-code/fraud/sourcedir.tar.gz', 'fraud-2')], rules)).toEqual([]);
    expect(() => RulesConfig.parse({ [RULE]: { trusted_code_locations: [''] } })).toThrow();
  });

  it('a model package\'s additional inference specification is judged too, and an untrusted image and code alert once with both', () => {
    const pkg = NormalizedEvent.parse(smOne(ctRecord('CreateModelPackage', {
      modelPackageGroupName: 'fraud', modelApprovalStatus: 'PendingManualApproval',
      inferenceSpecification: { containers: [{ image: 'mallory/serve:1', modelDataUrl: 's3://models/fraud/model.tar.gz' }], supportedContentTypes: ['text/csv'], supportedResponseMIMETypes: ['text/csv'] },
      additionalInferenceSpecifications: [{ name: 'gpu', containers: [container('s3://sagemaker-us-east-1-999988887777/x/sourcedir.tar.gz')] }],
    })));
    const alerts = alertsOf([pkg]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details).toMatchObject({ images: ['mallory/serve:1'], code_uris: ['s3://sagemaker-us-east-1-999988887777/x/sourcedir.tar.gz'] });
  });
});
