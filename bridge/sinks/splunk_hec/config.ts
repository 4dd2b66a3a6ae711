import { hostname } from 'node:os';
import { z } from 'zod';
import { SinkCommonConfig } from '../../../core/sink.js';
import { TlsConfig, pathOf } from '../common.js';

const baseUrl = z
  .url({ protocol: /^https?$/, error: 'must be the HEC base URL, e.g. https://splunk.example.com:8088' })
  .refine((u) => !/\/services\/collector/.test(pathOf(u)), {
    message: 'give the base URL (scheme://host:port); the sink adds /services/collector/event itself',
  });

/**
 * `sinks.splunk_hec`: Splunk HTTP Event Collector, CIM-shaped events.
 *
 * @example
 * sinks:
 *   splunk_hec:
 *     url: https://splunk.example.com:8088
 *     token: ${SPLUNK_HEC_TOKEN}
 *     index: mltrail
 */
export const SplunkHecConfig = SinkCommonConfig.extend({
  /** Base URL (scheme://host:port); env MLTRAIL_SPLUNK_HEC_URL. */
  url: baseUrl,
  /** HEC token (a GUID); env MLTRAIL_SPLUNK_HEC_TOKEN. Sent as `Authorization: Splunk <token>`. */
  token: z.string({ error: 'set MLTRAIL_SPLUNK_HEC_TOKEN (sinks.splunk_hec.token)' }).min(1),
  /** Index for events (must be allowed for the token); default: the token's default index. */
  index: z.string().min(1).optional(),
  /** Index for alerts; default `index`. */
  alerts_index: z.string().min(1).optional(),
  /** `source` of every event; default `mltrail:<channel>` (alerts `mltrail:alerts`). */
  source: z.string().min(1).optional(),
  /** `sourcetype` override; default the CIM mapping's per-platform sourcetype, else `mltrail:<platform>` / `mltrail:alert`. */
  sourcetype: z.string().min(1).optional(),
  /** `host` of every event. */
  host: z.string().min(1).default(hostname()),
  /** Output schema of the `event` body. */
  format: z.enum(['cim', 'core', 'ocsf']).default('cim'),
  gzip: z.boolean().default(true),
  /** Uncompressed bytes per HEC request (1 MB is safe for Splunk Cloud; Enterprise accepts far more). */
  max_request_bytes: z.number().int().positive().default(1_000_000),
  /** A single envelope above this is dead-lettered (inputs.conf maxEventSize, 5 MiB). */
  max_event_bytes: z.number().int().positive().default(5 * 1024 * 1024),
  /** Indexer acknowledgement: a record is delivered only once Splunk reports it indexed. */
  ack: z
    .strictObject({
      /** On: send a channel and, when HEC answers with an ackId, poll /services/collector/ack. Tokens without useACK answer no ackId: delivered on 200. */
      enabled: z.boolean().default(true),
      /** Channel GUID; default a random UUID per start (ackIds are channel-scoped, so unacked batches are resent after a restart). */
      channel: z.uuid().optional(),
      poll_interval_ms: z.number().int().positive().default(1000),
      /** Unacked after this long → resent (Splunk may then hold a duplicate with the same mltrail_id). Must be below request_timeout_ms. */
      timeout_ms: z.number().int().positive().default(30_000),
    })
    .prefault({}),
  tls: TlsConfig,
})
  .strict()
  .superRefine((c, ctx) => {
    if (c.ack.enabled && c.ack.timeout_ms >= c.request_timeout_ms) {
      ctx.addIssue({
        code: 'custom',
        path: ['ack', 'timeout_ms'],
        message: `must be below request_timeout_ms (${c.request_timeout_ms}): the ack wait is part of the request attempt`,
      });
    }
  });
export type SplunkHecConfig = z.infer<typeof SplunkHecConfig>;

/** Quick setup: MLTRAIL_SPLUNK_HEC_URL (+ MLTRAIL_SPLUNK_HEC_TOKEN) enables the sink. */
export function splunkHecFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> | undefined {
  if (!env.MLTRAIL_SPLUNK_HEC_URL && !env.MLTRAIL_SPLUNK_HEC_TOKEN) return undefined;
  const out: Record<string, unknown> = {};
  if (env.MLTRAIL_SPLUNK_HEC_URL) out.url = env.MLTRAIL_SPLUNK_HEC_URL;
  if (env.MLTRAIL_SPLUNK_HEC_TOKEN) out.token = env.MLTRAIL_SPLUNK_HEC_TOKEN;
  return out;
}
