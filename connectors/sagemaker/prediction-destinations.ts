import { arr, get, str, type Obj } from './util.js';

/**
 * Where a batch transform job or an asynchronous endpoint sends its predictions (and, for an async endpoint's
 * notifications with `IncludeInferenceResponseIn`, the inference response itself), as far as the request shows the
 * account that owns the destination: an SNS topic ARN names it (`arn:aws:sns:<region>:<account>:<topic>`), and so does
 * an S3 access point written as its ARN (`s3://arn:aws:s3:<region>:<account>:accesspoint/<name>/…`) or its HTTPS endpoint
 * (`https://<name>-<account>.s3-accesspoint.<region>.amazonaws.com/…`). A bucket name does not say whose the bucket
 * is (any account may own `s3://results`), and neither TransformOutput nor AsyncInferenceOutputConfig takes an
 * ExpectedBucketOwner: those destinations are not listed. `platform.artifact_exported` judges the ones whose
 * account is not the event's (SageMaker API reference: TransformOutput, AsyncInferenceOutputConfig,
 * AsyncInferenceNotificationConfig, DataCaptureConfig, BatchDataCaptureConfig).
 */
export interface PredictionDestination {
  /** The request field, as the API reference spells it (`AsyncInferenceConfig.OutputConfig.NotificationConfig.SuccessTopic`). */
  field: string;
  destination: string;
  account: string;
  /** An SNS topic the inference response itself is posted to (IncludeInferenceResponseIn), not only a notice. */
  includes_response?: true;
}

const SNS_TOPIC = /^arn:aws[a-z-]*:sns:[a-z0-9-]*:(\d{12}):[A-Za-z0-9_.-]+$/;
const S3_ACCESS_POINT_ARN = /^s3:\/\/arn:aws[a-z-]*:s3:[a-z0-9-]*:(\d{12}):accesspoint[/:]/i;
const S3_ACCESS_POINT_HOST = /^https:\/\/[a-z0-9-]+-(\d{12})\.s3-accesspoint(?:-fips)?(?:\.dualstack)?\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?(?:\/|$)/i;

/** The account a destination names, if it names one. */
export function destinationAccount(value: string): string | undefined {
  return (SNS_TOPIC.exec(value) ?? S3_ACCESS_POINT_ARN.exec(value) ?? S3_ACCESS_POINT_HOST.exec(value))?.[1];
}

/**
 * The destinations of a CreateTransformJob's or CreateEndpointConfig's outputs whose account the request shows.
 *
 * @example
 * predictionDestinations('CreateEndpointConfig', { asyncInferenceConfig: { outputConfig: { s3OutputPath: 's3://out/', notificationConfig: { successTopic: 'arn:aws:sns:us-east-1:444455556666:done' } } } })
 * // [{ field: 'AsyncInferenceConfig.OutputConfig.NotificationConfig.SuccessTopic', destination: 'arn:aws:sns:us-east-1:444455556666:done', account: '444455556666' }]
 */
export function predictionDestinations(eventName: string, params: Obj): PredictionDestination[] {
  const fields: Array<[string, string, boolean?]> = [];
  if (eventName === 'CreateTransformJob') {
    fields.push(['transformOutput.s3OutputPath', 'TransformOutput.S3OutputPath'], ['dataCaptureConfig.destinationS3Uri', 'DataCaptureConfig.DestinationS3Uri']);
  } else if (eventName === 'CreateEndpointConfig') {
    const include = arr(get(params, 'asyncInferenceConfig.outputConfig.notificationConfig.includeInferenceResponseIn')).map(String);
    fields.push(
      ['asyncInferenceConfig.outputConfig.s3OutputPath', 'AsyncInferenceConfig.OutputConfig.S3OutputPath'],
      ['asyncInferenceConfig.outputConfig.s3FailurePath', 'AsyncInferenceConfig.OutputConfig.S3FailurePath'],
      ['asyncInferenceConfig.outputConfig.notificationConfig.successTopic', 'AsyncInferenceConfig.OutputConfig.NotificationConfig.SuccessTopic', include.includes('SUCCESS_NOTIFICATION_TOPIC')],
      ['asyncInferenceConfig.outputConfig.notificationConfig.errorTopic', 'AsyncInferenceConfig.OutputConfig.NotificationConfig.ErrorTopic', include.includes('ERROR_NOTIFICATION_TOPIC')],
      ['dataCaptureConfig.destinationS3Uri', 'DataCaptureConfig.DestinationS3Uri'],
    );
  } else return [];
  const out: PredictionDestination[] = [];
  for (const [path, field, response] of fields) {
    const value = str(get(params, path));
    const account = value ? destinationAccount(value) : undefined;
    if (value && account) out.push({ field, destination: value, account, ...(response ? { includes_response: true as const } : {}) });
  }
  return out;
}

/** An S3 destination of predictions named by bucket alone: its owner is not in the request. */
export interface NamedBucketDestination { field: string; destination: string; bucket: string }

/**
 * The S3 destinations of a CreateTransformJob's or CreateEndpointConfig's outputs named by bucket name only
 * (`s3://partner-results/out/`): neither API takes an ExpectedBucketOwner, so whose bucket it is is not in the record.
 * `platform.artifact_exported` judges them against `prediction_buckets` when that is set.
 *
 * @example
 * namedBucketDestinations('CreateTransformJob', { transformOutput: { s3OutputPath: 's3://partner-results/out/' } })
 * // [{ field: 'TransformOutput.S3OutputPath', destination: 's3://partner-results/out/', bucket: 'partner-results' }]
 */
export function namedBucketDestinations(eventName: string, params: Obj): NamedBucketDestination[] {
  const fields: Array<[string, string]> = eventName === 'CreateTransformJob'
    ? [['transformOutput.s3OutputPath', 'TransformOutput.S3OutputPath'], ['dataCaptureConfig.destinationS3Uri', 'DataCaptureConfig.DestinationS3Uri']]
    : eventName === 'CreateEndpointConfig'
      ? [['asyncInferenceConfig.outputConfig.s3OutputPath', 'AsyncInferenceConfig.OutputConfig.S3OutputPath'], ['asyncInferenceConfig.outputConfig.s3FailurePath', 'AsyncInferenceConfig.OutputConfig.S3FailurePath'], ['dataCaptureConfig.destinationS3Uri', 'DataCaptureConfig.DestinationS3Uri']]
      : [];
  const out: NamedBucketDestination[] = [];
  for (const [path, field] of fields) {
    const value = str(get(params, path));
    const bucket = value && !destinationAccount(value) ? /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/|$)/.exec(value)?.[1] : undefined;
    if (value && bucket) out.push({ field, destination: value, bucket });
  }
  return out;
}
