import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../bridge/config.js';
import { SagemakerConfig } from '../../../connectors/sagemaker/config.js';
import { ROOT } from '../../helpers/fixtures.js';

describe('sagemaker configuration', () => {
  it('accepts {} and rejects unknown keys', () => {
    expect(SagemakerConfig.parse({}).eventbridge).toMatchObject({ api_keys: [], api_key_header: 'x-api-key' });
    expect(SagemakerConfig.safeParse({ firehose: { accesskey: 'x' } }).success).toBe(false);
  });

  it('maps MLTRAIL_EVENTBRIDGE_API_KEY, MLTRAIL_FIREHOSE_ACCESS_KEY (comma-separated) and MLTRAIL_CLOUDTRAIL_SQS_URL', () => {
    const cfg = loadConfig({
      env: {
        MLTRAIL_EVENTBRIDGE_API_KEY: 'k-new, k-old',
        MLTRAIL_FIREHOSE_ACCESS_KEY: 'fh',
        MLTRAIL_CLOUDTRAIL_SQS_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/ct',
      },
    });
    const sm = cfg.connectors.sagemaker as SagemakerConfig;
    expect(sm.eventbridge.api_keys).toEqual(['k-new', 'k-old']);
    expect(sm.firehose.access_keys).toEqual(['fh']);
    expect(sm.sqs.queue_url).toBe('https://sqs.eu-west-1.amazonaws.com/111122223333/ct');
  });

  it('the README example is a valid configuration', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## SageMaker'), readme.indexOf('## Vertex AI'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(yaml).toBeTruthy();
    const doc = parse(yaml!.replace(/\$\{(\w+)\}/g, 'value-of-$1')) as { connectors: { sagemaker: unknown } };
    const r = SagemakerConfig.safeParse(doc.connectors.sagemaker);
    expect(r.success, JSON.stringify(r.error?.issues)).toBe(true);
  });
});
