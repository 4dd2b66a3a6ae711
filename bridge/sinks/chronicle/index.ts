import { formatter, type Formatter } from '../../../core/formats/index.js';
import { udmLogId } from '../../../core/formats/udm/index.js';
import type { Logger } from '../../../core/log.js';
import type { DeliveryStatus, Sink, SinkContext, SinkFactory, SinkHealth } from '../../../core/sink.js';
import type { SpoolRecord } from '../../../core/spool/index.js';
import { HealthTracker, OK, SendHints, asObject, chunkBySize, forEachYielding, formatRecord, jsonOf, parseRecord, permanent, retryable } from '../common.js';
import { SinkHttpClient, type SinkResponse } from '../http.js';
import { chronicleTokenSource, type TokenSource } from './auth.js';
import { ChronicleConfig, chronicleBase, chronicleFromEnv } from './config.js';

export type ChronicleClass = 'ok' | 'retry' | 'refresh' | 'fix_config' | 'split' | 'bad_request';

/**
 * Google API error classes (specs/sinks.md §3.3): 429/5xx and 408 retried
 * with the identical batch, 401 → refresh the token then retry, 403/404 a
 * config fault (kept), 400 "payload too large" → split, any other 400 → the
 * batch holds a record Chronicle refuses.
 */
export function classifyChronicle(status: number, message = ''): ChronicleClass {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  if (status === 401) return 'refresh';
  if (status === 413 || (status === 400 && /payload size|too large|exceeds the (size )?limit|request size/i.test(message))) return 'split';
  if (status === 400) return 'bad_request';
  return 'fix_config';
}

interface Piece {
  i: number;
  id: string;
  json: string;
  bytes: number;
}

/** Room left in a request for the envelope around the pieces. */
const ENVELOPE_BYTES = 2048;

/**
 * Google SecOps (Chronicle) sink. UDM events or unstructured logs, through
 * the Chronicle API (`events:import`, `logTypes/*\/logs:import`) or the
 * legacy Ingestion API (`udmevents` / `unstructuredlogentries:batchCreate`).
 * Requests stay under the API's size cap and are built deterministically
 * (greedy packing, times from the record, never "now"), so a retried batch is
 * byte-identical — which the legacy API deduplicates for unstructured logs.
 */
export class ChronicleSink implements Sink {
  readonly name: string;
  readonly readsRaw: boolean;
  readonly base: string;
  private readonly fmt?: Formatter;
  private readonly http: SinkHttpClient;
  private readonly auth: TokenSource;
  private readonly hints = new SendHints();
  private readonly healthState = new HealthTracker();
  private readonly maxBytes: number;
  private readonly log: Logger;
  private unauthorizedStreak = 0;

  constructor(
    private readonly cfg: ChronicleConfig,
    ctx: SinkContext,
  ) {
    this.name = ctx.name;
    this.log = ctx.logger;
    this.base = chronicleBase(cfg);
    this.fmt = cfg.mode === 'udm' ? formatter('udm') : undefined;
    // Unstructured mode sends the spooled record itself, raw included.
    this.readsRaw = this.fmt?.readsRaw !== false;
    this.auth = chronicleTokenSource(cfg);
    this.maxBytes = cfg.max_request_bytes ?? (cfg.api === 'legacy' ? 1_000_000 : 4_000_000);
    this.http = new SinkHttpClient({ connections: cfg.concurrency * 2 });
  }

  lastAnswerAt(): number | undefined {
    return this.http.lastAnswerAt;
  }
  health(): SinkHealth {
    return this.healthState.get();
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  /** Endpoint of the configured API and mode. */
  endpoint(): string {
    const { api, mode, instance, log_type } = this.cfg;
    if (api === 'legacy') return `${this.base}/v2/${mode === 'udm' ? 'udmevents' : 'unstructuredlogentries'}:batchCreate`;
    return mode === 'udm' ? `${this.base}/v1alpha/${instance}/events:import` : `${this.base}/v1alpha/${instance}/logTypes/${log_type}/logs:import`;
  }

  async send(records: SpoolRecord[], signal: AbortSignal): Promise<DeliveryStatus[]> {
    const out: DeliveryStatus[] = new Array(records.length);
    const pieces: Piece[] = [];
    await forEachYielding(records, (r, i) => {
      try {
        const json = this.piece(r);
        pieces.push({ i, id: r.id, json, bytes: Buffer.byteLength(json) });
      } catch (err) {
        out[i] = permanent(`cannot build a Chronicle ${this.cfg.mode} record: ${(err as Error).message}`);
      }
    });
    const cap = this.hints.capFor(pieces.map((p) => p.id), this.maxBytes) - ENVELOPE_BYTES;
    for (const p of pieces) {
      if (p.bytes > this.maxBytes - ENVELOPE_BYTES) out[p.i] = permanent(`record of ${p.bytes} bytes exceeds the ${this.maxBytes}-byte request cap of the Chronicle ${this.cfg.api} API`);
    }
    const fits = pieces.filter((p) => out[p.i] === undefined);
    if (fits.length) {
      let token: string;
      try {
        token = await abortable(this.auth.token(), signal); // a hung token endpoint must not outlive the attempt
      } catch (err) {
        this.healthState.unhealthy(`cannot get a Google access token: ${(err as Error).message}`);
        for (const p of fits) out[p.i] = retryable(`no access token: ${(err as Error).message}`);
        return out;
      }
      for (const chunk of chunkBySize(fits, Math.max(1, cap), Number.POSITIVE_INFINITY, (p) => this.hints.alone(p.id))) {
        await this.post(chunk, token, out, signal);
      }
    }
    this.hints.settle(records.filter((_, i) => out[i]!.status !== 'retryable').map((r) => r.id));
    return out;
  }

  /** One record as the JSON element of the request's list. */
  private piece(r: SpoolRecord): string {
    const p = parseRecord(r, this.readsRaw);
    if (this.cfg.mode === 'udm') {
      const udm = asObject(formatRecord(this.fmt!, p));
      const meta = asObject(udm?.metadata);
      if (!udm || !meta) throw new Error('UDM event without metadata');
      if (!meta.event_timestamp || !meta.event_type) throw new Error('UDM metadata.event_timestamp and metadata.event_type are required');
      meta.product_log_id ??= udmLogId(r.id); // trace end to end (≤ 256 bytes)
      return JSON.stringify(this.cfg.api === 'legacy' ? udm : { udm });
    }
    // Unstructured: the normalized record exactly as spooled (stable bytes), timestamps from the record.
    const received = (p.value as { received_time?: string }).received_time;
    if (this.cfg.api === 'legacy') return JSON.stringify({ log_text: r.body, ts_rfc3339: p.time });
    // collection_time must be ≥ log_entry_time: compared as instants (the two may carry different offsets).
    const collection = received && Date.parse(received) > Date.parse(p.time) ? received : p.time;
    const labels = Object.keys(this.cfg.labels).length
      ? Object.fromEntries(Object.entries(this.cfg.labels).map(([k, value]) => [k, { value }]))
      : undefined;
    return JSON.stringify({
      data: Buffer.from(r.body).toString('base64'),
      log_entry_time: p.time,
      collection_time: collection,
      ...(this.cfg.namespace ? { environment_namespace: this.cfg.namespace } : {}),
      ...(labels ? { labels } : {}),
    });
  }

  /** The request body around the pieces (fixed key order: identical input → identical bytes). */
  private body(chunk: Piece[]): string {
    const list = chunk.map((p) => p.json).join(',');
    const c = this.cfg;
    if (c.api === 'legacy') {
      if (c.mode === 'udm') return `{"customer_id":${JSON.stringify(c.customer_id)},"events":[${list}]}`;
      const labels = Object.entries(c.labels).map(([key, value]) => ({ key, value }));
      return `{"customer_id":${JSON.stringify(c.customer_id)},"log_type":${JSON.stringify(c.log_type)}${
        c.namespace ? `,"namespace":${JSON.stringify(c.namespace)}` : ''
      }${labels.length ? `,"labels":${JSON.stringify(labels)}` : ''},"entries":[${list}]}`;
    }
    if (c.mode === 'udm') return `{"inline_source":{"events":[${list}]}}`;
    const fwd = c.forwarder ? (c.forwarder.includes('/') ? c.forwarder : `${c.instance}/forwarders/${c.forwarder}`) : undefined;
    return `{"inline_source":{"logs":[${list}]${fwd ? `,"forwarder":${JSON.stringify(fwd)}` : ''}}}`;
  }

  private async post(chunk: Piece[], token: string, out: DeliveryStatus[], signal: AbortSignal): Promise<void> {
    const set = (s: DeliveryStatus) => {
      for (const p of chunk) out[p.i] = s;
    };
    let res: SinkResponse;
    try {
      res = await this.http.post(this.endpoint(), this.body(chunk), { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, signal);
    } catch (err) {
      this.healthState.degraded(`Chronicle unreachable: ${(err as Error).message}`);
      return set(retryable(`Chronicle request failed: ${(err as Error).message}`));
    }
    const e = asObject(asObject(jsonOf(res.text))?.error);
    const message = typeof e?.message === 'string' ? e.message : res.text.slice(0, 300);
    const what = `HTTP ${res.status}${e?.status ? ` ${String(e.status)}` : ''}: ${message}`;
    const cls = classifyChronicle(res.status, message);
    if (cls !== 'refresh') this.unauthorizedStreak = 0;
    switch (cls) {
      case 'ok': {
        this.healthState.healthy();
        // events:import may answer 200 with per-event failures (successCount / failureCount).
        const body = asObject(jsonOf(res.text)) ?? {};
        const failed = Number(body.failureCount ?? body.failure_count ?? 0);
        if (failed > 0) {
          if (chunk.length === 1) return set(permanent(`Chronicle reported the event as failed: ${res.text.slice(0, 300)}`));
          // Which ones failed is not said: resend each alone (the ones already imported may
          // then be duplicated — they share metadata.product_log_id — but none is lost).
          this.log.warn({ failed, batch: chunk.length }, 'Chronicle imported only part of a batch; resending its events one by one');
          this.hints.markAlone(chunk.map((p) => p.id));
          return set(retryable(`Chronicle reported ${failed} of ${chunk.length} events failed; resending one per request`));
        }
        return set(OK);
      }
      case 'retry':
        this.healthState.degraded(what);
        return set(retryable(what, res.retryAfterMs));
      case 'refresh':
        this.auth.invalidate();
        this.unauthorizedStreak++;
        if (this.auth.kind === 'static' || this.unauthorizedStreak > 1) {
          this.healthState.unhealthy(
            this.auth.kind === 'static' ? `${what} (the static access token expired? set a fresh MLTRAIL_CHRONICLE_ACCESS_TOKEN or use MLTRAIL_CHRONICLE_CREDENTIALS)` : what,
          );
        }
        return set(retryable(`${what}; token refreshed`));
      case 'fix_config':
        this.healthState.unhealthy(`${what} (check the instance / customer id, region, log type and the service account's roles and scope ${this.auth.scopes.join(' ')})`);
        this.log.error({ status: res.status, code: 'MLTRAIL_ERR_UPSTREAM' }, `Chronicle refused the request: ${what}; records kept`);
        return set(retryable(what));
      case 'split':
        if (chunk.length === 1) return set(permanent(what));
        this.hints.shrink(chunk.map((p) => p.id), Math.floor(chunk.reduce((a, p) => a + p.bytes, 0) / 2) + ENVELOPE_BYTES);
        return set(retryable(`${what}; resending in halves`));
      case 'bad_request':
        // Chronicle refuses the whole batch for one bad record: find it by sending each alone
        // (nothing was ingested, so this cannot duplicate); a lone refused record is dead-lettered.
        if (chunk.length === 1) return set(permanent(what));
        this.hints.markAlone(chunk.map((p) => p.id));
        return set(retryable(`${what}; resending one record per request to isolate the bad one`));
    }
  }
}

/**
 * The Chronicle sink factory.
 *
 * @example
 * sinks:
 *   chronicle: { credentials: ./sa.json, instance: projects/p/locations/us/instances/… }
 */
export const chronicleSinkFactory: SinkFactory<ChronicleConfig> = {
  type: 'chronicle',
  description: 'Google SecOps / Chronicle (UDM events or unstructured logs; Chronicle API or legacy Ingestion API)',
  configSchema: ChronicleConfig,
  fromEnv: chronicleFromEnv,
  create: (cfg, ctx) => new ChronicleSink(cfg, ctx),
};

/** Reject when `signal` aborts first (for calls that take no signal, e.g. a token refresh). */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}
