import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * preprocessing.code_modified: a SageMaker processing job on AWS's scikit-learn image by tag runs the script of its
 * `code` input (the SDK's ScriptProcessor uploads it to `s3://<default bucket>/<job name>/input/code/<file>`, a new
 * folder every run): where that script comes from is the job's code, and a run fetching it from elsewhere is a change.
 */
const RULE = 'preprocessing.code_modified';
const SKLEARN = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3';
const SDK = 's3://sagemaker-us-east-1-111122223333';
const run = (day: number, codeUri: string, image = SKLEARN) => {
  const name = `prep-churn-2026-11-${String(day).padStart(2, '0')}-10-00-00-123`;
  return NormalizedEvent.parse(normOne(ctRecord('CreateProcessingJob', {
    processingJobName: name, appSpecification: { imageUri: image, containerEntrypoint: ['python3', '/opt/ml/processing/input/code/preprocess.py'] },
    processingInputs: [
      { inputName: 'input-1', s3Input: { s3Uri: 's3://ml-raw/churn/', localPath: '/opt/ml/processing/input', s3DataType: 'S3Prefix', s3InputMode: 'File' } },
      { inputName: 'code', s3Input: { s3Uri: codeUri.replace('{job}', name), localPath: '/opt/ml/processing/input/code', s3DataType: 'S3Prefix', s3InputMode: 'File' } },
    ],
    processingOutputConfig: { outputs: [{ outputName: 'train', s3Output: { s3Uri: 's3://training-data/churn/train/', localPath: '/opt/ml/processing/train', s3UploadMode: 'EndOfJob' } }] },
    processingResources: { clusterConfig: { instanceCount: 1, instanceType: 'ml.m5.xlarge', volumeSizeInGB: 30 } }, roleArn: 'arn:aws:iam::111122223333:role/SageMakerExec',
    networkConfig: { enableNetworkIsolation: true },
  }, { eventID: `ev-${day}-${codeUri.length}`, eventTime: `2026-11-${String(day).padStart(2, '0')}T10:00:00Z`, responseElements: { processingJobArn: `arn:aws:sagemaker:us-east-1:111122223333:processing-job/${name}` } })));
};
const alertsOf = (evs: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);
const usual = [1, 2, 3].map((d) => run(d, `${SDK}/{job}/input/code/preprocess.py`));

describe('preprocessing.code_modified: a processing job\'s script location', () => {
  it('the SDK\'s per-run folder in the same bucket is the same code; a script from another bucket is a change, once', () => {
    expect(alertsOf(usual)).toEqual([]);
    const evil = run(4, 's3://attacker-bucket/preprocess.py');
    const [alert, ...more] = alertsOf([...usual, evil, run(5, 's3://attacker-bucket/preprocess.py')]);
    expect(more).toEqual([]);
    expect(alert!.evidence).toContain(evil.id);
    expect(alert!.details).toMatchObject({ code_locations: ['s3://attacker-bucket/…/preprocess.py'], known_code_locations: [`${SDK}/…/preprocess.py`] });
    expect(alert!.summary).toContain('code from s3://attacker-bucket/…/preprocess.py since the last approved run');
  });

  it('another script in the usual bucket is a change too; the image by tag alone stays unchanged', () => {
    expect(alertsOf([...usual, run(4, `${SDK}/{job}/input/code/exfil.py`)]).map((a) => a.details.code_locations)).toEqual([[`${SDK}/…/exfil.py`]]);
    // With learn: false the first location stays the only one known: the next day's run from the other bucket (past the
    // one-day suppression) alerts again, where learned it was the family's code by then.
    expect(alertsOf([...usual, run(4, 's3://attacker-bucket/preprocess.py'), run(5, 's3://attacker-bucket/preprocess.py')], { [RULE]: { learn: false } })).toHaveLength(2);
  });
});

describe('preprocessing.code_modified: a SageMaker Pipelines processing step\'s code (verify27a)', () => {
  // A pipeline uploads a step's script under a hash of its content: s3://<bucket>/<pipeline>/code/<hash>/<file>.
  const A = '0f3b8c2d9e1a4b5c6d7e8f9012345678';
  const B = '9a8b7c6d5e4f30211203948576abcdef';
  const step = (day: number, hash: string) => run(day, `${SDK}/churn-pipeline/code/${hash}/preprocess.py`);
  it('an unchanged pipeline (same hash every run) is quiet', () => {
    expect(alertsOf([step(1, A), step(2, A), step(3, A)])).toEqual([]);
  });
  it('a change of the pipeline\'s own script (new content hash, same file name) is a change', () => {
    const changed = step(4, B);
    const [alert, ...more] = alertsOf([step(1, A), step(2, A), step(3, A), changed]);
    expect(more).toEqual([]);
    expect(alert!.evidence).toContain(changed.id);
    expect(alert!.details.code_locations).toEqual([`${SDK}/…/code/${B}/preprocess.py`]);
  });
});
