import { describe, expect, it } from 'vitest';
import { ctRecord, normOne, expectNoSecrets } from './helpers.js';
import { redactFreeText, redactJobSecrets, redactTagList } from '../../../core/secrets.js';

/** Secrets a request logs inside values no secret's name marks: a JSON hyperparameter, tags. */
const SECRETS = ['jsonTok3nValue', 'nestedApiK3y', 'tagTok3nValue', 'TagPassw0rd', 'ConfigPa55'];
const expectNoSecret = (ev: unknown): string => expectNoSecrets(ev, SECRETS);

describe('SageMaker: secrets inside JSON hyperparameters and in secret-named tags', () => {
  it('CreateTrainingJob: a JSON string under a non-secret hyperparameter has its secret-named keys hidden in raw and ml.job.params', () => {
    const params = {
      trainingJobName: 'train-llm',
      algorithmSpecification: { trainingImage: '111122223333.dkr.ecr.us-east-1.amazonaws.com/train:1', trainingInputMode: 'File' },
      hyperParameters: {
        config: '{"token": "jsonTok3nValue", "lr": 0.001, "wandb": {"api_key": "nestedApiK3y", "project": "fraud"}}',
        extra_args: '--db-password ConfigPa55 --epochs 3',
        layers: '[64, 32]',
        epochs: '3',
      },
      tags: [{ key: 'api_token', value: 'tagTok3nValue' }, { key: 'team', value: 'risk' }],
      roleArn: 'arn:aws:iam::111122223333:role/SageMakerExec',
    };
    const record = ctRecord('CreateTrainingJob', params);
    const before = JSON.stringify(record);
    const ev = normOne(record);
    const json = expectNoSecret(ev);
    const raw = ev.raw as { requestParameters: typeof params };
    const hp = raw.requestParameters.hyperParameters;
    expect(JSON.parse(hp.config)).toEqual({ token: '[redacted]', lr: 0.001, wandb: { api_key: '[redacted]', project: 'fraud' } });
    expect(hp.extra_args).toBe('--db-password [redacted] --epochs 3');
    expect(hp.layers).toBe('[64, 32]');
    expect(hp.epochs).toBe('3');
    expect(ev.ml?.job?.params).toEqual(hp);
    expect(raw.requestParameters.tags).toEqual([{ key: 'api_token', value: '[redacted]' }, { key: 'team', value: 'risk' }]);
    expect(json).toContain('train-llm');
    expect(JSON.stringify(record)).toBe(before);
  });

  it('AddTags on a model package: secret-named tags hidden in raw, ml.model.tags and details.tags, both casings', () => {
    for (const [k, v] of [['key', 'value'], ['Key', 'Value']] as const) {
      const record = ctRecord('AddTags', {
        resourceArn: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/3',
        tags: [{ [k]: 'hf_token', [v]: 'tagTok3nValue' }, { [k]: 'db_password', [v]: 'TagPassw0rd' }, { [k]: 'adv_verdict', [v]: 'passed' }],
      });
      const ev = normOne(record);
      expectNoSecret(ev);
      expect((ev.raw as any).requestParameters.tags).toEqual([{ [k]: 'hf_token', [v]: '[redacted]' }, { [k]: 'db_password', [v]: '[redacted]' }, { [k]: 'adv_verdict', [v]: 'passed' }]);
      expect(ev.details?.tags).toEqual((ev.raw as any).requestParameters.tags);
      if (k === 'key') expect(ev.ml?.model?.tags).toEqual({ hf_token: '[redacted]', db_password: '[redacted]', adv_verdict: 'passed' });
    }
  });

  it('the cheap paths: values with nothing to hide come back as they are (===)', () => {
    const rec = { requestParameters: { hyperParameters: { config: '{"lr": 0.1}', epochs: '3', data: 's3://b/k' }, tags: [{ key: 'team', value: 'risk' }] } };
    expect(redactJobSecrets(rec)).toBe(rec);
    const tags = [{ Key: 'team', Value: 'risk' }];
    expect(redactTagList(tags)).toBe(tags);
    const big = `{"token": "${'x'.repeat(70 * 1024)}"}`;
    // Too long to parse: read as text, its quoted pairs too.
    expect(redactFreeText(big)).toBe('{"token": "[redacted]"}');
    expect(redactFreeText('{"lr": 1, "token": "cut-jso')).toBe('{"lr": 1, "token": "[redacted]');
    expect(redactFreeText('{not json token=abc')).toBe('{not json token=[redacted]');
  });

  it('sh -c with the script as one argument: its secret flag is hidden', () => {
    const record = ctRecord('CreateTrainingJob', {
      trainingJobName: 'train-sh',
      algorithmSpecification: { trainingImage: 'img:1', trainingInputMode: 'File', containerEntrypoint: ['sh', '-c', 'train --token ConfigPa55 --epochs 3'] },
      roleArn: 'arn:aws:iam::111122223333:role/SageMakerExec',
    });
    const ev = normOne(record);
    expectNoSecret(ev);
    expect(ev.ml?.job?.entrypoint).toEqual(['sh', '-c', 'train --token [redacted] --epochs 3']);
  });
});
