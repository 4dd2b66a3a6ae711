import { z } from 'zod';
import { SinkCommonConfig } from '../../../core/sink.js';
import { TlsConfig, pathOf } from '../common.js';

const dsPart = z.string().regex(/^[a-z0-9._]+$/, 'lowercase letters, digits, "." and "_" only (no "-": it separates data stream name parts)');

/**
 * `sinks.elastic`: Elasticsearch `_bulk` into data streams, ECS documents.
 *
 * @example
 * sinks:
 *   elastic:
 *     url: https://es.example.com:9200
 *     api_key: ${ES_API_KEY}
 */
export const ElasticConfig = SinkCommonConfig.extend({
  /** Base URL (scheme://host:port); env MLTRAIL_ELASTIC_URL. */
  url: z
    .url({ protocol: /^https?$/, error: 'must be the Elasticsearch base URL, e.g. https://es.example.com:9200' })
    .refine((u) => !/\/_bulk/.test(pathOf(u)), { message: 'give the base URL; the sink adds /_bulk itself' }),
  /** API key, the `encoded` value (base64 of id:api_key); env MLTRAIL_ELASTIC_API_KEY. Sent as `Authorization: ApiKey …`. */
  api_key: z.string().min(1).optional(),
  /** Basic auth instead of an API key. */
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  /** Data streams `{type}-{dataset}-{namespace}`: events go to `logs-mltrail.events-default`, alerts to `logs-mltrail.alerts-default`. */
  data_stream: z
    .strictObject({
      type: z.enum(['logs', 'metrics', 'traces']).default('logs'),
      events_dataset: dsPart.default('mltrail.events'),
      alerts_dataset: dsPart.default('mltrail.alerts'),
      namespace: dsPart.default('default'),
    })
    .prefault({}),
  /** Ingest pipeline to run on every document. */
  pipeline: z.string().min(1).optional(),
  gzip: z.boolean().default(true),
  /** Uncompressed bytes per `_bulk` request (Elastic: stay well below http.max_content_length, 100 MB). */
  max_request_bytes: z.number().int().positive().default(10_000_000),
  tls: TlsConfig,
})
  .strict()
  .superRefine((c, ctx) => {
    if (!c.api_key && !(c.username && c.password)) {
      ctx.addIssue({ code: 'custom', path: ['api_key'], message: 'set MLTRAIL_ELASTIC_API_KEY (sinks.elastic.api_key) or username + password' });
    }
    if (c.api_key && c.username) ctx.addIssue({ code: 'custom', path: ['username'], message: 'use api_key or username/password, not both' });
  });
export type ElasticConfig = z.infer<typeof ElasticConfig>;

/** Names of the two data streams a config writes to. */
export function dataStreams(c: ElasticConfig): { events: string; alerts: string } {
  const d = c.data_stream;
  return { events: `${d.type}-${d.events_dataset}-${d.namespace}`, alerts: `${d.type}-${d.alerts_dataset}-${d.namespace}` };
}

/** The Authorization header value. */
export function elasticAuth(c: ElasticConfig): string {
  if (!c.api_key) return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  // Accept the raw `id:api_key` pair as well as the encoded form Elastic returns.
  const key = c.api_key.includes(':') ? Buffer.from(c.api_key).toString('base64') : c.api_key;
  return `ApiKey ${key}`;
}

/** Quick setup: MLTRAIL_ELASTIC_URL (+ MLTRAIL_ELASTIC_API_KEY) enables the sink. */
export function elasticFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> | undefined {
  if (!env.MLTRAIL_ELASTIC_URL && !env.MLTRAIL_ELASTIC_API_KEY) return undefined;
  const out: Record<string, unknown> = {};
  if (env.MLTRAIL_ELASTIC_URL) out.url = env.MLTRAIL_ELASTIC_URL;
  if (env.MLTRAIL_ELASTIC_API_KEY) out.api_key = env.MLTRAIL_ELASTIC_API_KEY;
  return out;
}
