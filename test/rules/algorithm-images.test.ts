import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne as smOne } from '../connectors/sagemaker/helpers.js';

/**
 * SageMaker's built-in algorithms (XGBoost, Linear Learner, BlazingText, K-Means…) run by tag from AWS's per-region
 * algorithm accounts (the SageMaker Python SDK's image_uri_config tables): trusted by default for training and for
 * serving, exactly those repositories in those accounts.
 */
const alertsOf = (rule: string, evs: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === rule);

const training = (image: string, name = 'churn-7') =>
  NormalizedEvent.parse(smOne(ctRecord('CreateTrainingJob', {
    trainingJobName: name, algorithmSpecification: { trainingImage: image, trainingInputMode: 'File' }, roleArn: 'arn:aws:iam::111122223333:role/SageMakerExec', enableNetworkIsolation: true,
  })));
const model = (image: string, name = 'fraud') =>
  NormalizedEvent.parse(smOne(ctRecord('CreateModel', { modelName: name, executionRoleArn: 'arn:aws:iam::111122223333:role/Sm', primaryContainer: { image, modelDataUrl: 's3://models/fraud.tar.gz' } })));

/** us-east-1's algorithm images as the SDK's image_uris.retrieve names them (xgboost 1.7-1, linear-learner, blazingtext, kmeans, deepar, lda). */
const US_EAST_1 = [
  '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1',
  '382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1',
  '382416733822.dkr.ecr.us-east-1.amazonaws.com/kmeans:1',
  '811284229777.dkr.ecr.us-east-1.amazonaws.com/blazingtext:1',
  '522234722520.dkr.ecr.us-east-1.amazonaws.com/forecasting-deepar:1',
  '766337827248.dkr.ecr.us-east-1.amazonaws.com/lda:1',
];

describe('SageMaker built-in algorithm images by tag', () => {
  it('pass training.unverified_dependency and serving.unverified_image, in other regions and partitions too', () => {
    const others = ['801668240914.dkr.ecr.me-south-1.amazonaws.com/sagemaker-xgboost:1.7-1', '390948362332.dkr.ecr.cn-north-1.amazonaws.com.cn/linear-learner:1'];
    for (const image of [...US_EAST_1, ...others]) {
      expect(alertsOf('training.unverified_dependency', [training(image)]), image).toEqual([]);
      expect(alertsOf('serving.unverified_image', [model(image)]), image).toEqual([]);
    }
  });

  it('another repository of an algorithm account, the repository in another account, region or partition still alert', () => {
    const lookalikes = [
      '683313688378.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1', // the repository in the xgboost account
      '382416733822.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1', // and the other way round
      '111122223333.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1', // anyone's account
      '683313688378.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1', // the account is us-east-1's, eu-west-1 has its own
      '390948362332.dkr.ecr.cn-north-1.amazonaws.com/linear-learner:1', // the China account's number in the aws partition
      '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-spark-processing:3.3-cpu-py39-v1.0', // not in the SDK's sklearn / sparkml-serving tables
      '382416733822.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3', // scikit-learn in the Linear Learner account
      '628508329040.dkr.ecr.ap-south-2.amazonaws.com/sagemaker-sparkml-serving:3.3', // the region's scikit-learn account; no SparkML Serving there
    ];
    for (const image of lookalikes) {
      expect(alertsOf('training.unverified_dependency', [training(image)]).map((a) => a.details?.image), image).toEqual([image]);
      expect(alertsOf('serving.unverified_image', [model(image)]).map((a) => a.details?.images), image).toEqual([[image]]);
    }
  });

  it('the scikit-learn (training and serving) and SparkML Serving images of the algorithm accounts pass, as the SDK\'s sklearn.json and sparkml-serving.json name them', () => {
    for (const image of [
      '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3',
      '141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3',
      '450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-scikit-learn:1.0-1-cpu-py3',
      '246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-sparkml-serving:3.3',
      '414596584902.dkr.ecr.us-gov-west-1.amazonaws.com/sagemaker-sparkml-serving:2.4',
    ]) {
      expect(alertsOf('training.unverified_dependency', [training(image)]), image).toEqual([]);
      expect(alertsOf('serving.unverified_image', [model(image)]), image).toEqual([]);
    }
  });

  it('listing trusted_images replaces the defaults, algorithm images included', () => {
    const rules = { 'training.unverified_dependency': { trusted_images: ['763104351884.dkr.ecr.*.amazonaws.com/*'] } };
    expect(alertsOf('training.unverified_dependency', [training(US_EAST_1[0]!)], rules)).toHaveLength(1);
  });
});
