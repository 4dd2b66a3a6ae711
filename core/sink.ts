import { z } from 'zod';
import type { Logger } from './log.js';
import { Platform, Stage } from './schema/event.js';
import type { SpoolRecord } from './spool/index.js';
import type { Spool } from './spool/index.js';

/**
 * The sink contract (every sink in bridge/sinks/<name>/ obeys it):
 * - `send` gets records in spool order and answers one status per record, in
 *   the same order: `ok` (delivered; the sink acknowledged it — HEC ack, ES
 *   per-item 2xx/409, Chronicle 2xx), `retryable` (resend later; never lost)
 *   or `permanent` (the SIEM will never take it: dead-lettered with the reason).
 * - A whole-request failure may be thrown instead (a DeliveryError, or any
 *   error for transport faults): every record of that call is then retryable.
 * - Retrying, backoff, Retry-After, timeouts, dead-lettering and cursors are
 *   the runner's job (core/delivery), never the sink's.
 * - `health()` tells /readyz and metrics whether it can deliver: a sink that
 *   got 401/403 is `unhealthy` (the runner keeps its backlog and keeps trying
 *   slowly: data is never dropped for a config fault).
 */
export type DeliveryStatus =
  | { status: 'ok' }
  | { status: 'retryable'; reason: string; retryAfterMs?: number }
  | { status: 'permanent'; reason: string }
  /**
   * Only this record's destination refuses it, for a setting the operator must
   * fix (e.g. a HEC index the token may not write), while the rest of the
   * stream can go on: the runner holds it as a `parked` dead letter, moves its
   * cursor on and re-sends parked records on its own schedule until taken.
   */
  | { status: 'parked'; reason: string };

export type SinkHealthState = 'healthy' | 'degraded' | 'unhealthy';
export interface SinkHealth {
  state: SinkHealthState;
  reason?: string;
}

export interface Sink {
  readonly name: string;
  /**
   * False when the sink never reads events' `raw`: its runner then hands it
   * records whose `leanBody` (the body without `raw`) is what to parse.
   * Absent means it may read the whole body.
   */
  readonly readsRaw?: boolean;
  send(records: SpoolRecord[], signal: AbortSignal): Promise<DeliveryStatus[]>;
  /**
   * Called inside the transaction that records sent records as settled (the
   * cursor commit, a dead letter's settlement): a sink whose output has no
   * dedup of its own (files) records there how far its output goes, so after
   * a crash it can take back output past what was committed — which the
   * runner sends again — instead of writing it twice.
   */
  checkpoint?(): void;
  /**
   * Epoch ms of the destination's latest answer to any of this sink's requests. A send may be answered
   * and still wait (Splunk HEC's indexer acknowledgement, a batch split into requests one after another):
   * its runner reads the send as unanswered only since this time, not since it began.
   */
  lastAnswerAt?(): number | undefined;
  health(): SinkHealth;
  close?(): Promise<void>;
}

/** A whole-request failure with its class and an optional server-requested delay. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** Parse a Retry-After header (seconds or HTTP date) into milliseconds, capped. */
export function parseRetryAfter(value: string | null | undefined, capMs = 300_000): number | undefined {
  if (!value) return undefined;
  const s = Number(value);
  if (Number.isFinite(s)) return Math.min(capMs, Math.max(0, s * 1000));
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.min(capMs, Math.max(0, t - Date.now()));
}

/** Settings every sink has; each sink's schema extends this. */
export const SinkCommonConfig = z.object({
  /** Sink type (bridge/sinks/<type>); defaults to the entry's name. */
  type: z.string().optional(),
  enabled: z.boolean().default(true),
  batch: z
    .object({
      max_events: z.number().int().positive().default(500),
      max_bytes: z.number().int().positive().default(1_000_000),
      /** How long to wait for a batch to fill once a record is waiting. */
      timeout_ms: z.number().int().nonnegative().default(1000),
    })
    .prefault({}),
  /** Batches in flight at once. */
  concurrency: z.number().int().min(1).max(64).default(2),
  request_timeout_ms: z.number().int().positive().default(60_000),
  retry: z
    .object({
      initial_ms: z.number().int().positive().default(1000),
      max_ms: z.number().int().positive().default(30_000),
    })
    .refine((r) => r.initial_ms <= r.max_ms, { message: 'initial_ms must not exceed max_ms', path: ['initial_ms'] })
    .prefault({}),
  /** Which records go to this sink. Empty lists mean all. */
  route: z
    .object({
      // At least one: an empty list sent nothing, silently (disable a sink with `enabled: false`).
      kinds: z.array(z.enum(['event', 'alert'])).min(1, 'name event, alert or both (disable the sink with enabled: false)').default(['event', 'alert']),
      // Enums, not strings: a misspelt stage or platform used to route nothing, silently.
      stages: z.array(Stage).default([]),
      platforms: z.array(Platform).default([]),
      /** Alerts below this severity are not sent. */
      min_severity: z.enum(['low', 'medium', 'high', 'critical']).default('low'),
      /** Send observe-mode alerts too (default: only mode=alert). */
      observe_alerts: z.boolean().default(false),
    })
    .prefault({}),
});
export type SinkCommonConfig = z.infer<typeof SinkCommonConfig>;

export interface SinkContext {
  /** The config entry's name (unique per sink instance; the spool cursor is keyed by it). */
  name: string;
  logger: Logger;
  dataDir: string;
  spool: Spool;
  env: NodeJS.ProcessEnv;
}

/**
 * A sink type: config schema + env mapping + factory (one per bridge/sinks/<name>/).
 *
 * @example
 * export const fileSink: SinkFactory<FileSinkConfig> = { type: 'file', configSchema, create: (cfg, ctx) => new FileSink(cfg, ctx) };
 */
export interface SinkFactory<C extends SinkCommonConfig = SinkCommonConfig> {
  type: string;
  description: string;
  configSchema: z.ZodType<C>;
  /** Config from environment variables (quick setup); undefined when the env does not enable it. */
  fromEnv?(env: NodeJS.ProcessEnv): Record<string, unknown> | undefined;
  create(config: C, ctx: SinkContext): Sink;
}
