import type { ConnectorPlugin } from '../../core/connector.js';
import { SagemakerConfig, sagemakerFromEnv } from './config.js';
import { detectSagemaker, normalizeSagemaker } from './normalize.js';
import { CloudTrailQueuePoller } from './poller.js';
import { mountSagemakerRoutes } from './routes.js';

/**
 * SageMaker activity: CloudTrail records (EventBridge API destinations,
 * Firehose HTTP endpoint, S3 log files announced through SQS), SageMaker
 * service events and Model Monitor violations, normalized to one schema.
 */
export const sagemakerConnector: ConnectorPlugin<SagemakerConfig> = {
  name: 'sagemaker',
  platform: 'sagemaker',
  description: 'AWS SageMaker via CloudTrail (EventBridge, Firehose, S3/SQS), SageMaker events and Model Monitor results',
  configSchema: SagemakerConfig,
  fromEnv: sagemakerFromEnv,
  detect: detectSagemaker,
  normalize: normalizeSagemaker,
  routes: mountSagemakerRoutes,
  pollers: (deps) => (deps.config.sqs.queue_url ? [new CloudTrailQueuePoller(deps)] : []),
};
