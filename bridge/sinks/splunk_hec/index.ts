import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatter, type Formatter } from '../../../core/formats/index.js';
import type { Logger } from '../../../core/log.js';
import type { DeliveryStatus, Sink, SinkContext, SinkFactory, SinkHealth } from '../../../core/sink.js';
import type { SpoolRecord } from '../../../core/spool/index.js';
import { HealthTracker, OK, SendHints, apiUrl, asObject, chunkBySize, forEachYielding, encodeLines, formatRecord, jsonOf, parked, parseRecord, permanent, retryable, type ParsedRecord } from '../common.js';
import { SinkHttpClient, type EncodedBody } from '../http.js';
import { classifyHec, parseHecReply } from './codes.js';
import { SplunkHecConfig, splunkHecFromEnv } from './config.js';

interface Envelope {
  /** Position in the send() call. */
  i: number;
  id: string;
  index: string;
  /** The envelope's JSON text in three pieces (head, event body, tail), written straight into the request buffer. */
  line: EnvelopeText;
  bytes: number;
}

/** `head + event + tail` is one envelope line; kept apart so the large event text is never copied into a joined string. */
interface EnvelopeText {
  head: string;
  event: string;
  tail: string;
}

/** Stands in for an envelope's text once it is encoded into a request body. */
const SENT: EnvelopeText = { head: '', event: '', tail: '' };

/** Records of one accepted request waiting for their indexer acknowledgement. */
interface PendingAck {
  ackId: number;
  positions: number[];
}

/**
 * Splunk HEC sink: batched `/services/collector/event` envelopes (gzip,
 * `Authorization: Splunk`), one request per index so a refused index never
 * blocks another, indexer acknowledgement on a channel, and partial-failure
 * handling at `invalid-event-number` (the prefix is delivered, the bad event
 * dead-lettered, the rest resent — never the whole batch).
 */
export class SplunkHecSink implements Sink {
  readonly name: string;
  readonly channel: string;
  readonly readsRaw: boolean;
  private readonly fmt: Formatter;
  private readonly http: SinkHttpClient;
  private readonly hints = new SendHints();
  private readonly healthState = new HealthTracker();
  private readonly log: Logger;
  private ackDisabledWarned = false;
  /** Per-sink constants of every envelope, as JSON text (`"host":"…",` / `"index":"…",`). */
  private readonly eventIndex: string;
  private readonly alertIndex: string;
  private readonly hostJson: string;
  private readonly eventIndexJson: string;
  private readonly alertIndexJson: string;

  constructor(
    private readonly cfg: SplunkHecConfig,
    ctx: SinkContext,
  ) {
    this.name = ctx.name;
    this.log = ctx.logger;
    this.fmt = formatter(cfg.format);
    this.readsRaw = this.fmt.readsRaw !== false;
    this.channel = cfg.ack.channel ?? randomUUID();
    this.eventIndex = cfg.index ?? '';
    this.alertIndex = cfg.alerts_index ?? cfg.index ?? '';
    this.hostJson = cfg.host === undefined ? '' : `"host":${JSON.stringify(cfg.host)},`;
    this.eventIndexJson = `"index":${JSON.stringify(this.eventIndex)},`;
    this.alertIndexJson = `"index":${JSON.stringify(this.alertIndex)},`;
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
    const byIndex = new Map<string, Envelope[]>();
    await forEachYielding(records, (r, i) => {
      let line: EnvelopeText;
      let index: string;
      try {
        ({ line, index } = this.envelope(parseRecord(r, this.readsRaw)));
      } catch (err) {
        out[i] = permanent(`cannot map record to ${this.cfg.format}: ${(err as Error).message}`);
        return;
      }
      const bytes = Buffer.byteLength(line.head) + Buffer.byteLength(line.event) + Buffer.byteLength(line.tail);
      if (bytes > this.cfg.max_event_bytes) {
        out[i] = permanent(`HEC envelope of ${bytes} bytes exceeds max_event_bytes (${this.cfg.max_event_bytes})`);
        return;
      }
      const list = byIndex.get(index) ?? [];
      list.push({ i, id: r.id, index, line, bytes });
      byIndex.set(index, list);
    });

    const pending: PendingAck[] = [];
    const chunks: Envelope[][] = [];
    for (const envs of byIndex.values()) {
      const cap = this.hints.capFor(envs.map((e) => e.id), this.cfg.max_request_bytes);
      chunks.push(...chunkBySize(envs, cap, Number.POSITIVE_INFINITY, (e) => this.hints.alone(e.id)));
    }
    // Requests go one after another; their bodies are compressed up front (thread pool), so the
    // next one is ready when the current answer arrives.
    const bodies = chunks.map((chunk) => this.http.encode(encodeLines(chunk, (e) => [e.line.head, e.line.event, e.line.tail], '\n'), this.cfg.gzip));
    for (const b of bodies) b.catch(() => {}); // a failure is reported where that body is awaited
    // The request bodies hold the bytes now: drop the envelope texts, or they outlive the requests on the
    // JS heap (and are copied by each young-generation collection meanwhile).
    for (const chunk of chunks) for (const e of chunk) e.line = SENT;
    for (let k = 0; k < chunks.length; k++) {
      const ack = await this.post(chunks[k]!, bodies[k]!, out, signal);
      if (ack) pending.push(ack);
    }
    if (pending.length) await this.awaitAcks(pending, out, signal);
    const settled = records.filter((_, i) => out[i]!.status !== 'retryable').map((r) => r.id);
    this.hints.settle(settled);
    return out;
  }

  /**
   * One HEC envelope (specs/sinks.md §1.3): time in epoch seconds, metadata per event, `fields.mltrail_id`.
   * Written straight to JSON text, keys in the order Splunk documents them
   * (time, host, source, sourcetype, index, event, fields): the same bytes
   * JSON.stringify of the envelope object gives, without building that object.
   */
  private envelope(p: ParsedRecord): { line: EnvelopeText; index: string } {
    const mapped = formatRecord(this.fmt, p);
    // A mapping may hand back a whole envelope ({event, sourcetype, fields…}) or just the event body.
    const m = asObject(mapped);
    const isEnvelope = m !== undefined && 'event' in m && ('sourcetype' in m || 'fields' in m || 'source' in m);
    const body = isEnvelope ? m.event : mapped;
    if (body === undefined || body === null || body === '') throw new Error('empty event body');
    const fields: Record<string, string | string[]> = {};
    const given = isEnvelope ? asObject(m.fields) : undefined;
    if (given) {
      for (const k in given) {
        if (!Object.hasOwn(given, k)) continue;
        const v = given[k];
        // Indexed fields must be flat strings (HEC code 15 otherwise).
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = String(v);
        else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) fields[k] = v as string[];
      }
    }
    fields.mltrail_id = p.id;
    fields.mltrail_kind = p.kind;
    const isAlert = p.kind === 'alert';
    const index = isAlert ? this.alertIndex : this.eventIndex;
    const platform = p.platform ?? 'mltrail';
    const ms = Date.parse(p.time);
    // Whatever the format: `mltrail:<channel>` (how it arrived, as the CIM mapping sets it), alerts `mltrail:alerts`.
    const channel = isAlert ? undefined : (p.value as { channel?: unknown }).channel;
    const source =
      this.cfg.source ?? (isEnvelope && typeof m.source === 'string' ? m.source : isAlert ? 'mltrail:alerts' : `mltrail:${typeof channel === 'string' && channel ? channel : platform}`);
    const sourcetype =
      this.cfg.sourcetype ?? (isEnvelope && typeof m.sourcetype === 'string' ? m.sourcetype : isAlert ? 'mltrail:alert' : `mltrail:${platform}`);
    const eventJson = JSON.stringify(body) as string | undefined;
    const head =
      '{' +
      (Number.isNaN(ms) ? '' : `"time":${JSON.stringify(ms / 1000)},`) +
      this.hostJson +
      `"source":${JSON.stringify(source)},"sourcetype":${JSON.stringify(sourcetype)},` +
      (index ? (isAlert ? this.alertIndexJson : this.eventIndexJson) : '') +
      (eventJson === undefined ? '' : '"event":');
    const tail = `${eventJson === undefined ? '' : ','}"fields":${JSON.stringify(fields)}}`;
    return { line: { head, event: eventJson ?? '', tail }, index };
  }

  private headers(): Record<string, string> {
    // Tolerate a token pasted with its scheme word ("Splunk <guid>").
    const token = this.cfg.token.replace(/^Splunk\s+/i, '');
    const h: Record<string, string> = { authorization: `Splunk ${token}`, 'content-type': 'application/json' };
    if (this.cfg.ack.enabled) h['x-splunk-request-channel'] = this.channel;
    return h;
  }

  /** POST one request and set the statuses of its records; returns the ackId to wait for, if any. */
  private async post(chunk: Envelope[], body: Promise<EncodedBody>, out: DeliveryStatus[], signal: AbortSignal): Promise<PendingAck | undefined> {
    const set = (from: number, s: DeliveryStatus) => {
      for (const e of chunk.slice(from)) out[e.i] = s;
    };
    let res;
    try {
      res = await this.http.post(apiUrl(this.cfg.url, '/services/collector/event'), await body, this.headers(), signal);
    } catch (err) {
      // Transport error or timeout: Splunk may or may not have indexed it; resend (HEC is at-least-once).
      this.healthState.degraded(`HEC unreachable: ${(err as Error).message}`);
      set(0, retryable(`HEC request failed: ${(err as Error).message}`));
      return undefined;
    }
    const reply = parseHecReply(res.text);
    const what = `HEC ${res.status}${reply.code !== undefined ? ` code ${reply.code}` : ''}${reply.text ? ` "${reply.text}"` : ''}`;
    switch (classifyHec(res.status, reply.code)) {
      case 'ok':
        this.healthState.healthy();
        if (this.cfg.ack.enabled && reply.ackId !== undefined) {
          set(0, retryable(`awaiting indexer acknowledgement (ackId ${reply.ackId})`));
          return { ackId: reply.ackId, positions: chunk.map((e) => e.i) };
        }
        set(0, OK);
        return undefined;
      case 'bad_event': {
        const n = reply.invalidEventNumber;
        if (n === undefined || n < 0 || n >= chunk.length) {
          if (chunk.length === 1) set(0, permanent(`${what}`));
          else {
            // HEC did not say which event: resend each alone to find it (no event is guessed bad).
            this.hints.markAlone(chunk.map((e) => e.id));
            set(0, retryable(`${what} without invalid-event-number; resending one event per request`));
          }
          return undefined;
        }
        // Events before N were indexed, N is bad, events after N were not processed (moby/moby#35862).
        for (const e of chunk.slice(0, n)) out[e.i] = OK;
        out[chunk[n]!.i] = permanent(`${what} at invalid-event-number ${n}`);
        set(n + 1, retryable(`not processed after the bad event ${n} (${what}); resending`));
        return undefined;
      }
      case 'split':
        if (chunk.length === 1) set(0, permanent(`${what}: this single event is larger than the server's max_content_length`));
        else {
          const bytes = chunk.reduce((a, e) => a + e.bytes + 1, 0);
          this.hints.shrink(chunk.map((e) => e.id), Math.floor(bytes / 2));
          set(0, retryable(`${what}: request of ${bytes} bytes too large; resending in halves`));
        }
        return undefined;
      case 'fix_config':
        if (reply.code === 7) {
          // Only this request's index is refused (requests go one per index): park its records so the
          // other indexes keep flowing (specs/sinks.md §1.5, otel-contrib#30404); they are re-sent until taken.
          const index = chunk[0]!.index || '(the token default)';
          this.log.error({ status: res.status, hec_code: reply.code, index, code: 'MLTRAIL_ERR_UPSTREAM' }, `Splunk HEC refused index ${index}: ${what}; records parked`);
          set(0, parked(`${what}: index "${index}" is not allowed for this HEC token; add it to the token's allowed indexes or change index/alerts_index`));
          return undefined;
        }
        this.healthState.unhealthy(`${what}: check the HEC token, its allowed indexes and channel settings`);
        this.log.error({ status: res.status, hec_code: reply.code, code: 'MLTRAIL_ERR_UPSTREAM' }, `Splunk HEC refused the request: ${what}; records kept`);
        set(0, retryable(what));
        return undefined;
      case 'retry':
        this.healthState.degraded(what);
        set(0, retryable(what, res.retryAfterMs));
        return undefined;
    }
  }

  /**
   * Poll /services/collector/ack until every ackId is reported indexed or
   * ack.timeout_ms passes; unacknowledged records are then resent (Splunk
   * reports only successes, so "false" may be "lost").
   */
  private async awaitAcks(pending: PendingAck[], out: DeliveryStatus[], signal: AbortSignal): Promise<void> {
    const waiting = new Map(pending.map((p) => [p.ackId, p]));
    const deadline = Date.now() + this.cfg.ack.timeout_ms;
    while (waiting.size && Date.now() < deadline) {
      await sleep(Math.min(this.cfg.ack.poll_interval_ms, Math.max(0, deadline - Date.now())), undefined, { signal });
      let res;
      try {
        res = await this.http.post(
          apiUrl(this.cfg.url, '/services/collector/ack'),
          JSON.stringify({ acks: [...waiting.keys()] }),
          this.headers(),
          signal,
          { gzip: this.cfg.gzip },
        );
      } catch (err) {
        if (signal.aborted) throw err;
        continue; // the ack service may come back before the deadline
      }
      const reply = parseHecReply(res.text);
      if (res.status === 200) {
        // The ack service answers again: a sink marked unhealthy by its earlier refusal (an invalid channel) recovers
        // here too, or an idle bridge would keep the false alarm until the next batch.
        this.healthState.healthy();
        const acks = asObject(asObject(jsonOf(res.text))?.acks) ?? {};
        for (const [id, done] of Object.entries(acks)) {
          const p = waiting.get(Number(id));
          if (p && done === true) {
            for (const i of p.positions) out[i] = OK;
            waiting.delete(p.ackId);
          }
        }
      } else if (reply.code === 14) {
        // The token has useACK off although HEC gave an ackId: the 200 is all Splunk offers.
        if (!this.ackDisabledWarned) {
          this.ackDisabledWarned = true;
          this.log.warn('HEC says indexer acknowledgement is disabled on the token; treating 200 as delivered (set ack.enabled: false)');
        }
        for (const p of waiting.values()) for (const i of p.positions) out[i] = OK;
        waiting.clear();
      } else if (classifyHec(res.status, reply.code) === 'fix_config') {
        this.healthState.unhealthy(`HEC ack endpoint ${res.status} code ${reply.code ?? '-'}`);
      }
    }
    for (const p of waiting.values()) {
      for (const i of p.positions) {
        out[i] = retryable(`not acknowledged by the indexer within ${this.cfg.ack.timeout_ms} ms (ackId ${p.ackId}); resending`);
      }
    }
  }
}

/**
 * The Splunk HEC sink factory.
 *
 * @example
 * sinks:
 *   splunk_hec: { url: https://splunk:8088, token: ${HEC_TOKEN}, index: mltrail }
 */
export const splunkHecSinkFactory: SinkFactory<SplunkHecConfig> = {
  type: 'splunk_hec',
  description: 'Splunk HTTP Event Collector (CIM, batched, gzip, indexer acknowledgement)',
  configSchema: SplunkHecConfig,
  fromEnv: splunkHecFromEnv,
  create: (cfg, ctx) => new SplunkHecSink(cfg, ctx),
};
