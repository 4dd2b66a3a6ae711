import { z } from 'zod';
import { csv } from '../../core/config/load.js';

const MiB = 1024 * 1024;

/** EventBridge API destination target (`POST /v1/ingest/sagemaker/eventbridge`). */
export const EventBridgeConfig = z.strictObject({
  /** Accepted API keys (several during rotation). MLTRAIL_EVENTBRIDGE_API_KEY, comma-separated. */
  api_keys: z.array(z.string().min(1)).default([]),
  /** Header the connection's API_KEY authorization sends (its `ApiKeyName`). */
  api_key_header: z.string().min(1).default('x-api-key'),
  /** When set, `Authorization: Basic` must carry this user name (the password is an API key). */
  basic_username: z.string().min(1).optional(),
  max_body_bytes: z.number().int().positive().default(2 * MiB),
});

/** Amazon Data Firehose HTTP endpoint destination (`POST /v1/ingest/sagemaker/firehose`). */
export const FirehoseConfig = z.strictObject({
  /** Accepted access keys (several during rotation). MLTRAIL_FIREHOSE_ACCESS_KEY, comma-separated. */
  access_keys: z.array(z.string().min(1)).default([]),
  /** Above Firehose's largest buffer (64 MiB) so a well-configured stream never gets the (non-retried) 413. */
  max_body_bytes: z.number().int().positive().default(72 * MiB),
  /** Bound on the body after `Content-Encoding: gzip` is undone. */
  max_decoded_bytes: z.number().int().positive().default(256 * MiB),
});

/** CloudTrail log files in S3, announced through SQS (S3 event notifications, direct or via SNS). */
export const SqsConfig = z.strictObject({
  /** Enables the poller. MLTRAIL_CLOUDTRAIL_SQS_URL. */
  queue_url: z.string().url().optional(),
  /** Defaults to the SDK's region chain (AWS_REGION…) or the queue URL's region. */
  region: z.string().min(1).optional(),
  /** Local stand-ins (LocalStack, tests); the SDK also reads AWS_ENDPOINT_URL. */
  endpoint: z.string().url().optional(),
  /** SQS messages processed at the same time. */
  concurrency: z.number().int().min(1).max(64).default(4),
  max_messages: z.number().int().min(1).max(10).default(10),
  wait_time_s: z.number().int().min(0).max(20).default(20),
  /** How long a received message stays hidden; extended while its objects are still being read. */
  visibility_timeout_s: z.number().int().min(1).max(43200).default(300),
  /** Bound on one decompressed log object. */
  max_object_bytes: z.number().int().positive().default(512 * MiB),
  /** Objects of one message read at the same time. */
  object_concurrency: z.number().int().min(1).max(32).default(4),
  /**
   * An S3 read (GetObject response or body) that delivers no byte for this long is
   * abandoned and its message left for SQS to redeliver: a stalled transfer must not
   * hold a concurrency slot (and the queue) forever.
   */
  object_idle_timeout_s: z.number().int().min(1).max(3600).default(60),
  /**
   * Longest time one message is kept hidden by extending its visibility while it is worked
   * on (a transfer that trickles bytes never goes idle). Then its work is abandoned and SQS
   * redelivers it after the visibility timeout, so the queue's maxReceiveCount / DLQ applies.
   */
  max_visibility_extension_s: z.number().int().min(1).max(43200).default(1800),
});

export const SagemakerConfig = z.strictObject({
  eventbridge: EventBridgeConfig.prefault({}),
  firehose: FirehoseConfig.prefault({}),
  sqs: SqsConfig.prefault({}),
  /** Buckets holding training / feature data: their S3 data events normalize as stage `ingestion`. */
  training_buckets: z.array(z.string().min(1)).default([]),
  /** Buckets holding model artifacts: their S3 data events normalize as stage `registry`. */
  model_buckets: z.array(z.string().min(1)).default([]),
  /**
   * S3 records on buckets in neither list: `normalize` (stage platform) or `skip`.
   * Default: normalize when no bucket is listed, skip once any bucket is.
   */
  s3_unlisted_buckets: z.enum(['auto', 'normalize', 'skip']).default('auto'),
  /** Extra role ARNs (or names) whose STS assumption is ML-relevant, besides names containing "sagemaker". */
  role_arns: z.array(z.string().min(1)).default([]),
  /** Further CloudTrail eventSources to normalize (stage platform), e.g. `kms.amazonaws.com`. */
  extra_event_sources: z.array(z.string().min(1)).default([]),
  /**
   * Names (globs) of mltrail's own feeds: the EventBridge rules, custom event buses, API destinations and connections
   * and the Firehose streams that deliver to the bridge (a PutTargets target's id and ARN are matched too: a target
   * moved off them is a cut). Their EventBridge / Firehose calls (disable, delete, redirect) are
   * `audit_log.*` events for `platform.audit_log_tampering`, whatever `extra_event_sources` says.
   */
  feed_names: z.array(z.string().min(1)).default(['*mltrail*']),
});

export type SagemakerConfig = z.infer<typeof SagemakerConfig>;

/**
 * Environment variables of the SageMaker connector.
 *
 * @example
 * sagemakerFromEnv({ MLTRAIL_FIREHOSE_ACCESS_KEY: 'k1,k2' }) // { firehose: { access_keys: ['k1','k2'] } }
 */
export function sagemakerFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  const eb = csv(env.MLTRAIL_EVENTBRIDGE_API_KEY);
  if (eb) out.eventbridge = { api_keys: eb };
  const fh = csv(env.MLTRAIL_FIREHOSE_ACCESS_KEY);
  if (fh) out.firehose = { access_keys: fh };
  const queue = env.MLTRAIL_CLOUDTRAIL_SQS_URL?.trim();
  if (queue) out.sqs = { queue_url: queue };
  return Object.keys(out).length ? out : undefined;
}
