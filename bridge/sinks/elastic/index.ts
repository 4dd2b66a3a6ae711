import { boundedId } from '../../../core/formats/common.js';
import { formatter, type Formatter } from '../../../core/formats/index.js';
import type { Logger } from '../../../core/log.js';
import { DeliveryError, type DeliveryStatus, type Sink, type SinkContext, type SinkFactory, type SinkHealth } from '../../../core/sink.js';
import type { SpoolRecord } from '../../../core/spool/index.js';
import { HealthTracker, OK, SendHints, apiUrl, asObject, chunkBySize, forEachYielding, encodeLines, formatRecord, jsonOf, parseRecord, permanent, retryable } from '../common.js';
import { SinkHttpClient, type SinkResponse } from '../http.js';
import { ElasticConfig, dataStreams, elasticAuth, elasticFromEnv } from './config.js';

/**
 * `filter_path` that shrinks the response yet keeps one entry per item, in
 * request order (every item has a status), so positions still line up
 * (specs/sinks.md §2.5 — `items.*.error` alone would lose the correlation).
 */
export const BULK_FILTER_PATH = 'errors,items.*.status,items.*.error.type,items.*.error.reason,items.*.failure_store';

/** Elasticsearch refuses an `_id` over 512 bytes (the whole `_bulk` request fails validation). */
export const MAX_ID_BYTES = 512;

/**
 * The document `_id` for an mltrail id: the id itself, or — when it is over
 * 512 UTF-8 bytes (`/v1/events` takes ids up to 256 characters) — a stable
 * `mltrail-sha256:<hex>` of it, so a resend still answers 409. The real id
 * stays in `mltrail.id`.
 */
export function elasticDocId(id: string): string {
  return boundedId(id, MAX_ID_BYTES);
}

export type BulkItemClass = 'ok' | 'duplicate_ok' | 'retry' | 'dead_letter' | 'fix_config';

/**
 * Per-item outcome of a `_bulk` response (specs/sinks.md §2.4): 2xx ok, 409 on
 * `create` = already indexed (delivered), 429/5xx retried alone, 401/403 a
 * permission problem (kept), any other 4xx a document the cluster will never
 * take (dead-lettered with its reason).
 */
export function classifyBulkItem(status: number): BulkItemClass {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 409) return 'duplicate_ok';
  if (status === 429 || status >= 500 || status === 408) return 'retry';
  if (status === 401 || status === 403) return 'fix_config';
  return 'dead_letter';
}

interface Doc {
  i: number;
  id: string;
  /** The action line (ending in "\n") and the document JSON (its "\n" is added when encoding), kept apart so the body is encoded without a joined string. */
  action: string;
  source: string;
  bytes: number;
}

/**
 * Elastic sink: ECS documents in `_bulk` NDJSON (`create` with `_id` = the
 * mltrail id, so a resend of an indexed document is a 409 = delivered),
 * gzip, API key or basic auth; per-item outcomes, whole-request backoff.
 */
export class ElasticSink implements Sink {
  readonly name: string;
  private readonly fmt: Formatter;
  private readonly http: SinkHttpClient;
  private readonly hints = new SendHints();
  private readonly healthState = new HealthTracker();
  private readonly streams: { events: string; alerts: string };
  private readonly log: Logger;
  /** Per-sink constants of every document: `data_stream` objects and the action line up to `_id`. */
  private readonly eventsStream: { type: string; dataset: string; namespace: string };
  private readonly alertsStream: { type: string; dataset: string; namespace: string };
  private readonly eventsAction: string;
  private readonly alertsAction: string;

  constructor(
    private readonly cfg: ElasticConfig,
    ctx: SinkContext,
  ) {
    this.name = ctx.name;
    this.log = ctx.logger;
    this.fmt = formatter('ecs');
    this.streams = dataStreams(cfg);
    const d = cfg.data_stream;
    this.eventsStream = { type: d.type, dataset: d.events_dataset, namespace: d.namespace };
    this.alertsStream = { type: d.type, dataset: d.alerts_dataset, namespace: d.namespace };
    this.eventsAction = `{"create":{"_index":${JSON.stringify(this.streams.events)},"_id":`;
    this.alertsAction = `{"create":{"_index":${JSON.stringify(this.streams.alerts)},"_id":`;
    this.http = new SinkHttpClient({ connections: cfg.concurrency * 2, tls: cfg.tls, sink: ctx.name });
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

  async send(records: SpoolRecord[], signal: AbortSignal): Promise<DeliveryStatus[]> {
    const out: DeliveryStatus[] = new Array(records.length);
    const docs: Doc[] = [];
    await forEachYielding(records, (r, i) => {
      try {
        const [action, source] = this.actionAndSource(r);
        docs.push({ i, id: r.id, action, source, bytes: Buffer.byteLength(action) + Buffer.byteLength(source) + 1 });
      } catch (err) {
        out[i] = permanent(`cannot map record to ECS: ${(err as Error).message}`);
      }
    });
    const cap = this.hints.capFor(docs.map((d) => d.id), this.cfg.max_request_bytes);
    const chunks = chunkBySize(docs, cap, Number.POSITIVE_INFINITY, (d) => this.hints.alone(d.id), 0);
    for (const chunk of chunks) await this.bulk(chunk, out, signal, chunks.length === 1);
    this.hints.settle(records.filter((_, i) => out[i]!.status !== 'retryable').map((r) => r.id));
    return out;
  }

  /** The two NDJSON lines of one document: the action line with its "\n", the source line without it. */
  private actionAndSource(r: SpoolRecord): [string, string] {
    const p = parseRecord(r);
    const doc = { ...(asObject(formatRecord(this.fmt, p)) ?? {}) };
    if (typeof doc['@timestamp'] !== 'string') doc['@timestamp'] = p.time; // data streams require it
    const isAlert = p.kind === 'alert';
    const stream = isAlert ? this.alertsStream : this.eventsStream;
    doc.data_stream = stream;
    // ECS: event.dataset equals data_stream.dataset, which the config may rename.
    const event = asObject(doc.event);
    if (event) doc.event = { ...event, dataset: stream.dataset };
    // `{"create":{"_index":…,"_id":…}}`: the per-sink part is JSON text made once.
    return [`${isAlert ? this.alertsAction : this.eventsAction}${JSON.stringify(elasticDocId(r.id))}}}\n`, JSON.stringify(doc)];
  }

  private async bulk(chunk: Doc[], out: DeliveryStatus[], signal: AbortSignal, only: boolean): Promise<void> {
    const set = (s: DeliveryStatus) => {
      for (const d of chunk) out[d.i] = s;
    };
    const q = new URLSearchParams({ filter_path: BULK_FILTER_PATH });
    if (this.cfg.pipeline) q.set('pipeline', this.cfg.pipeline);
    const body = encodeLines(chunk, (d) => [d.action, d.source, '\n']); // every doc already ends in "\n": the body does too
    let res: SinkResponse;
    try {
      res = await this.http.post(
        apiUrl(this.cfg.url, `/_bulk?${q}`),
        body,
        { authorization: elasticAuth(this.cfg), 'content-type': 'application/x-ndjson', accept: 'application/json' },
        signal,
        { gzip: this.cfg.gzip },
      );
    } catch (err) {
      this.healthState.degraded(`Elasticsearch unreachable: ${(err as Error).message}`);
      if (only) throw err; // transport fault: the whole call is retryable
      set(retryable(`bulk request failed: ${(err as Error).message}`));
      return;
    }
    const err = asObject(asObject(jsonOf(res.text))?.error);
    const what = `HTTP ${res.status}${err ? ` ${String(err.type)}: ${String(err.reason)}` : ''}`;
    if (res.status === 200) return this.items(chunk, res.text, out);
    if (res.status === 401 || res.status === 403) {
      this.healthState.unhealthy(`Elasticsearch refused the credentials: ${what}`);
      this.log.error({ status: res.status, code: 'MLTRAIL_ERR_UPSTREAM' }, `Elasticsearch ${what}; records kept`);
      return set(retryable(what));
    }
    if (res.status === 429 || res.status >= 500 || res.status === 408) {
      this.healthState.degraded(what);
      if (only) throw new DeliveryError(`bulk ${what}`, true, res.retryAfterMs);
      return set(retryable(what, res.retryAfterMs));
    }
    if (res.status === 413 || res.status === 400) {
      // 413: too large. 400: the body was refused whole (should not happen: we build it) —
      // resend smaller / one document per request; a lone document refused is dead-lettered.
      if (chunk.length === 1) return set(permanent(`bulk ${what}`));
      if (res.status === 413) this.hints.shrink(chunk.map((d) => d.id), Math.floor(chunk.reduce((a, d) => a + d.bytes, 0) / 2));
      else this.hints.markAlone(chunk.map((d) => d.id));
      return set(retryable(`bulk ${what}; resending ${res.status === 413 ? 'in halves' : 'one document per request'}`));
    }
    this.healthState.unhealthy(`bulk ${what}`);
    set(retryable(`bulk ${what}`));
  }

  private items(chunk: Doc[], text: string, out: DeliveryStatus[]): void {
    const items = asObject(jsonOf(text))?.items;
    if (!Array.isArray(items) || items.length !== chunk.length) {
      this.healthState.degraded('unexpected _bulk response');
      for (const d of chunk) out[d.i] = retryable(`_bulk answered ${Array.isArray(items) ? items.length : 'no'} items for ${chunk.length} documents`);
      return;
    }
    // An item without a numeric status says nothing about its document: resend the chunk (a create is idempotent).
    const itemOf = (raw: unknown) => asObject(Object.values(asObject(raw) ?? {})[0]) ?? {};
    const unclear = items.findIndex((raw) => typeof itemOf(raw).status !== 'number');
    if (unclear >= 0) {
      this.healthState.degraded('unexpected _bulk response');
      for (const d of chunk) out[d.i] = retryable(`_bulk item ${unclear} has no status`);
      return;
    }
    let fault: string | undefined;
    let redirected = 0;
    items.forEach((raw, k) => {
      const item = itemOf(raw);
      const status = item.status as number;
      const e = asObject(item.error);
      const reason = `item ${status}${e ? ` ${String(e.type)}: ${String(e.reason)}` : ''}`;
      const d = chunk[k]!;
      switch (classifyBulkItem(status)) {
        case 'ok':
        case 'duplicate_ok':
          // Stored, but in the data stream's failure store (a mapping/pipeline failure), not searchable with the rest.
          if (item.failure_store === 'used') redirected++;
          out[d.i] = OK;
          break;
        case 'retry':
          out[d.i] = retryable(reason);
          break;
        case 'fix_config':
          fault = reason;
          out[d.i] = retryable(reason);
          break;
        case 'dead_letter':
          if (e?.type === 'index_not_found_exception') fault = `${reason} (run: mltrail setup elastic)`;
          out[d.i] = permanent(reason);
          break;
      }
    });
    if (fault) this.healthState.unhealthy(fault);
    else if (redirected) {
      this.healthState.degraded(`${redirected} document(s) went to the failure store (see ${this.streams.events}::failures)`);
      this.log.warn({ count: redirected, code: 'MLTRAIL_ERR_UPSTREAM' }, 'Elasticsearch redirected documents to the failure store');
    } else this.healthState.healthy();
  }
}

/**
 * The Elastic sink factory.
 *
 * @example
 * sinks:
 *   elastic: { url: https://es:9200, api_key: ${ES_API_KEY} }
 */
export const elasticSinkFactory: SinkFactory<ElasticConfig> = {
  type: 'elastic',
  description: 'Elasticsearch _bulk into data streams (ECS, create with _id = event id, gzip)',
  configSchema: ElasticConfig,
  fromEnv: elasticFromEnv,
  create: (cfg, ctx) => new ElasticSink(cfg, ctx),
};
