import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { AWS_PROCESSING_IMAGES } from '../../core/rules/aws-images.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * training.unverified_dependency on SageMaker processing jobs with `allowed_repositories` set: AWS's own processing
 * images (Spark, Data Wrangler, Clarify, Model Monitor), which the SDK runs by tag from per-region accounts, pass as
 * AWS's images (the SDK's image URI tables); the same repository name in another account, or another repository of
 * AWS's account, still alerts. Records are CloudTrail's CreateProcessingJob (requestParameters lowerCamel).
 */
const RULE = 'training.unverified_dependency';
const RULES = { [RULE]: { allowed_repositories: ['111122223333.dkr.ecr.*.amazonaws.com/*'] } };
const alertsOf = (evs: NormalizedEvent[], rules: Record<string, unknown> = RULES) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);
let n = 0;
const processing = (imageUri: string, region = 'us-east-1') => {
  const name = `prep-${++n}`;
  return NormalizedEvent.parse(normOne(ctRecord('CreateProcessingJob', {
    processingJobName: name, appSpecification: { imageUri },
    processingInputs: [{ inputName: 'input-1', s3Input: { s3Uri: 's3://ml-raw/churn/', localPath: '/opt/ml/processing/input', s3DataType: 'S3Prefix', s3InputMode: 'File' } }],
    processingOutputConfig: { outputs: [{ outputName: 'train', s3Output: { s3Uri: 's3://training-data/churn/', localPath: '/opt/ml/processing/train', s3UploadMode: 'EndOfJob' } }] },
    processingResources: { clusterConfig: { instanceCount: 1, instanceType: 'ml.m5.xlarge', volumeSizeInGB: 30 } },
    roleArn: 'arn:aws:iam::111122223333:role/SageMakerExec', networkConfig: { enableNetworkIsolation: true },
  }, { eventID: `ev-${name}`, awsRegion: region, responseElements: { processingJobArn: `arn:aws:sagemaker:${region}:111122223333:processing-job/${name}` } })));
};

describe('AWS processing images with allowed_repositories set', () => {
  it('Spark, Data Wrangler, Clarify and Model Monitor images by tag from their region\'s AWS account pass', () => {
    const images = [
      '173754725891.dkr.ecr.us-east-1.amazonaws.com/sagemaker-spark-processing:3.5-cpu-py39-v1.0',
      '663277389841.dkr.ecr.us-east-1.amazonaws.com/sagemaker-data-wrangler-container:1.x',
      '205585389593.dkr.ecr.us-east-1.amazonaws.com/sagemaker-clarify-processing:1.0',
      '156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer',
    ];
    expect(alertsOf(images.map((i) => processing(i)))).toEqual([]);
    // Other regions and partitions: eu-west-1's Spark account, China's Clarify account under amazonaws.com.cn.
    expect(alertsOf([
      processing('571004829621.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-spark-processing:3.3-cpu-py39-v1.0', 'eu-west-1'),
      processing('122526803553.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-clarify-processing:1.0', 'cn-north-1'),
    ])).toEqual([]);
  });

  it('the same repository in another account, or in another region\'s account, alerts', () => {
    const fake = '999988887777.dkr.ecr.us-east-1.amazonaws.com/sagemaker-spark-processing:3.5-cpu-py39-v1.0';
    const wrongRegion = '173754725891.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-spark-processing:3.5-cpu-py39-v1.0';
    const otherRepo = '173754725891.dkr.ecr.us-east-1.amazonaws.com/something-else:1';
    expect(alertsOf([processing(fake), processing(wrongRegion, 'eu-west-1'), processing(otherRepo)]).map((a) => a.details.image)).toEqual([fake, wrongRegion, otherRepo]);
  });

  it('tables every region the SDK lists, one glob per region, account and repository', () => {
    expect(AWS_PROCESSING_IMAGES).toContain('330188676905.dkr.ecr.eu-north-1.amazonaws.com/sagemaker-spark-processing');
    expect(AWS_PROCESSING_IMAGES).toContain('579539705040.dkr.ecr.us-isof-east-1.csp.hci.ic.gov/sagemaker-clarify-processing');
    expect(AWS_PROCESSING_IMAGES.every((g) => !/[*?]/.test(g))).toBe(true);
    expect(new Set(AWS_PROCESSING_IMAGES.map((g) => g.split('/')[1]))).toEqual(new Set(['sagemaker-spark-processing', 'sagemaker-data-wrangler-container', 'sagemaker-clarify-processing', 'sagemaker-model-monitor-analyzer']));
  });
});

/**
 * verify28b: with allowed_repositories set, a Deep Learning Container of a region with its own DLC account (the
 * SDK's framework estimators there run it by tag) passes — China (amazonaws.com.cn), GovCloud, opt-in regions — and
 * only in its region's domain; an attacker's host shaped like ECR's, or another region's account, still alerts.
 */
describe('regional Deep Learning Containers with allowed_repositories set', () => {
  it("ap-southeast-3, il-central-1, cn-north-1 and us-gov-west-1's DLC accounts pass in their regions", () => {
    expect(alertsOf([
      processing('907027046896.dkr.ecr.ap-southeast-3.amazonaws.com/pytorch-training:2.1-cpu-py310', 'ap-southeast-3'),
      processing('780543022126.dkr.ecr.il-central-1.amazonaws.com/pytorch-training:2.1-cpu-py310', 'il-central-1'),
      processing('727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/pytorch-training:2.1-cpu-py310', 'cn-north-1'),
      processing('442386744353.dkr.ecr.us-gov-west-1.amazonaws.com/pytorch-training:2.1-cpu-py310', 'us-gov-west-1'),
      processing('800295151634.dkr.ecr.ap-southeast-3.amazonaws.com/sagemaker-spark-processing:3.5-cpu-py39-v1.0', 'ap-southeast-3'),
    ])).toEqual([]);
  });

  it("an ECR-shaped host of another domain, a DLC account in another region, or a repository under a trusted one's path alerts", () => {
    const shaped = '763104351884.dkr.ecr.attacker.io/a.amazonaws.com/evil:1';
    const otherRegion = '727897471807.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.1-cpu-py310';
    const nested = '173754725891.dkr.ecr.us-east-1.amazonaws.com/sagemaker-spark-processing/evil:1';
    expect(alertsOf([processing(shaped), processing(otherRegion), processing(nested)]).map((a) => a.details.image)).toEqual([shaped, otherRegion, nested]);
  });
});
