import type * as S3 from '@aws-sdk/client-s3';
import type * as Sqs from '@aws-sdk/client-sqs';
import type { Message } from '@aws-sdk/client-sqs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { ConnectorDeps, Poller } from '../../core/connector.js';
import { isGzip } from '../../core/input/read.js';
import { lazyRequire } from '../../core/lazy-require.js';
import { normalizeAndIngest, type RecordsOutcome } from '../../core/ingest.js';
import { describe, retryOperation, type RetryPolicy } from '../../core/retry/index.js';
import { makeEvent, stableId } from '../../core/schema/index.js';
import type { SagemakerConfig } from './config.js';
import { normalizeSagemaker } from './normalize.js';
import { parseQueueMessage, skipReason, type ObjectRef } from './s3-notifications.js';
import { redactJobSecrets } from '../../core/secrets.js';

export const S3_CHANNEL = 'sagemaker.s3';

/** The AWS SDK clients, loaded when a poller is made (`serve` with a queue configured), not by every command. */
const s3Sdk = lazyRequire<typeof S3>('@aws-sdk/client-s3');
const sqsSdk = lazyRequire<typeof Sqs>('@aws-sdk/client-sqs');

/**
 * ReceiveMessage failing this many times in a row (about 7–14 s with the default backoff) is an
 * outage: `unhealthy` and one `source.unavailable`, as the MLflow auditor after its default
 * max_attempts. Fewer is a blip: `degraded` until the next receive works.
 */
const RECEIVE_FAILURES_DOWN = 4;
/** Trouble with single messages (a stalled transfer, a failed delete) keeps the poller degraded this long. */
const MESSAGE_FAULT_MS = 5 * 60_000;

class ObjectTooLarge extends Error {}
/** An S3 transfer that made no progress for `object_idle_timeout_s`. */
class ObjectStalled extends Error {}

/**
 * An abort signal that fires when `kick()` has not been called for `ms`
 * (no progress), or when `parent` fires. `stop()` disarms it.
 */
function idleWatchdog(ms: number, parent: AbortSignal, what: string) {
  const idle = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const kick = () => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(new ObjectStalled(`${what}: no data for ${ms / 1000} s (connectors.sagemaker.sqs.object_idle_timeout_s)`)), ms);
    timer.unref();
  };
  kick();
  return { signal: AbortSignal.any([parent, idle.signal]), kick, stop: () => clearTimeout(timer), stalled: () => idle.signal.reason as ObjectStalled | undefined };
}

/**
 * `https://sqs.<region>.amazonaws.com/<acct>/<name>` → region.
 *
 * @example
 * regionFromQueueUrl('https://sqs.eu-west-1.amazonaws.com/1/q') // 'eu-west-1'
 */
export function regionFromQueueUrl(url: string): string | undefined {
  return /^https?:\/\/sqs[.-]([a-z0-9-]+)\.amazonaws\.com(\.cn)?\//.exec(url)?.[1];
}

/** `…/<account>/<name>` of a queue URL (also LocalStack's). */
function queueParts(url: string): { account?: string; name?: string } {
  const m = /\/(\d{12})\/([^/?#]+)\/?$/.exec(url);
  return m ? { account: m[1], name: m[2] } : {};
}

/**
 * Stream an S3 object body, gunzipping on the fly when it starts with the
 * gzip magic bytes, with a bound on the decompressed size.
 * `rawBytes` lets the caller compare with Content-Length (a short read is a
 * transport fault to retry, not a corrupt file). `onChunk` is called for
 * every chunk received (progress, for an idle timeout). Aborting `signal`
 * destroys `body`, so a read stuck waiting for bytes ends too.
 *
 * @example
 * const { data } = await readObjectBody(res.Body as Readable, 512 * 1024 * 1024, signal);
 */
export async function readObjectBody(body: Readable, maxBytes: number, signal: AbortSignal, onChunk: () => void = () => {}): Promise<{ data: Buffer; rawBytes: number }> {
  const onAbort = () => body.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await readBody(body, maxBytes, signal, onChunk);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function readBody(body: Readable, maxBytes: number, signal: AbortSignal, onChunk: () => void): Promise<{ data: Buffer; rawBytes: number }> {
  const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  let head = Buffer.alloc(0);
  // Enough bytes to see the magic number.
  while (head.length < 2) {
    const n = await it.next();
    if (n.done) break;
    onChunk();
    head = Buffer.concat([head, Buffer.from(n.value)]);
  }
  let rawBytes = 0;
  async function* source() {
    rawBytes += head.length;
    yield head;
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      onChunk();
      const b = Buffer.from(n.value);
      rawBytes += b.length;
      yield b;
    }
  }
  const chunks: Buffer[] = [];
  let total = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      total += chunk.length;
      if (total > maxBytes) return cb(new ObjectTooLarge(`object exceeds ${maxBytes} bytes decompressed (connectors.sagemaker.sqs.max_object_bytes)`));
      chunks.push(chunk);
      cb();
    },
  });
  const src = Readable.from(source());
  if (isGzip(head)) await pipeline(src, createGunzip(), sink, { signal });
  else await pipeline(src, sink, { signal });
  return { data: Buffer.concat(chunks, total), rawBytes };
}

/** Run `fn` over `items`, at most `limit` at a time; rejects with the first failure after all settle. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure;
}

/**
 * CloudTrail log files (and Model Monitor results) in S3, announced through
 * SQS. A message is deleted only after every record of every object it
 * announces is committed to the spool; on any failure it stays, reappears
 * after its visibility timeout and is processed again (ids are stable, so
 * the repeat collapses). Visibility is extended while a message is worked on,
 * up to `max_visibility_extension_s`; an S3 read idle for
 * `object_idle_timeout_s` is abandoned. Either way the message is left for
 * SQS to redeliver (its maxReceiveCount / DLQ policy applies), the slot is
 * freed for other messages and health reports degraded.
 * ReceiveMessage failing RECEIVE_FAILURES_DOWN times in a row (AccessDenied,
 * QueueDoesNotExist, unreachable) is an outage: `unhealthy`, one
 * source.unavailable, and source.recovered at the first receive that works.
 *
 * @example
 * const poller = new CloudTrailQueuePoller(deps); // deps.config.sqs.queue_url set
 * poller.start(); … await poller.stop();
 */
export class CloudTrailQueuePoller implements Poller {
  readonly name = 'sagemaker.cloudtrail_sqs';
  private readonly cfg: SagemakerConfig['sqs'];
  private readonly queueUrl: string;
  private readonly sqs: Sqs.SQSClient;
  private readonly s3: S3.S3Client;
  private abort = new AbortController();
  private loop?: Promise<void>;
  /** The last problem with a single message (degraded for MESSAGE_FAULT_MS). */
  private lastError?: { reason: string; at: number };
  /** ReceiveMessage failing now: set by a failed attempt, cleared by the next one that works. */
  private receiveTrouble?: { since: number; attempts: number; reason: string };
  /** Set once receive trouble became an outage (source.unavailable raised); source.recovered ends it. */
  private outage?: { since: number };
  private readonly receivePolicy: RetryPolicy;

  /** `opts.receiveRetry`: tests shorten the ReceiveMessage backoff. */
  constructor(
    private readonly deps: ConnectorDeps<SagemakerConfig>,
    opts: { receiveRetry?: Partial<RetryPolicy> } = {},
  ) {
    this.cfg = deps.config.sqs;
    this.queueUrl = this.cfg.queue_url!;
    const env = deps.env;
    const sqsEndpoint = this.cfg.endpoint ?? env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL;
    const s3Endpoint = this.cfg.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
    const region = this.cfg.region ?? regionFromQueueUrl(this.queueUrl);
    // Credentials and (when not given) region come from the SDK's standard chain.
    const { SQSClient } = sqsSdk();
    const { S3Client } = s3Sdk();
    this.sqs = new SQSClient({ region, endpoint: sqsEndpoint, maxAttempts: 1 });
    this.s3 = new S3Client({ region: this.cfg.region, endpoint: s3Endpoint, forcePathStyle: !!s3Endpoint, followRegionRedirects: true, maxAttempts: 1 });
    this.receivePolicy = { initialMs: 1000, maxMs: 60_000, requestTimeoutMs: (this.cfg.wait_time_s + 30) * 1000, ...opts.receiveRetry };
  }

  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.loop = this.run().catch((err) => this.deps.logger.error({ err, poller: this.name }, 'poller loop ended'));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.loop = undefined;
    this.sqs.destroy();
    this.s3.destroy();
  }

  health(): { state: 'healthy' | 'degraded' | 'unhealthy'; reason?: string } {
    // Receiving is the source itself: reported as it is now, never as it was minutes ago.
    const t = this.receiveTrouble;
    if (t) {
      const reason = `ReceiveMessage failed: ${t.reason} (failing since ${new Date(t.since).toISOString()}, ${t.attempts} attempt(s) in a row; retrying with backoff)`;
      return { state: this.outage ? 'unhealthy' : 'degraded', reason };
    }
    if (this.deps.spool.full) return { state: 'degraded', reason: 'spool full: not receiving' };
    if (this.lastError && Date.now() - this.lastError.at < MESSAGE_FAULT_MS) return { state: 'degraded', reason: this.lastError.reason };
    return { state: 'healthy' };
  }

  private fault(reason: string): void {
    this.lastError = { reason, at: Date.now() };
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const inflight = new Set<Promise<void>>();
    this.deps.logger.info({ poller: this.name, queue: this.queueUrl, concurrency: this.cfg.concurrency }, 'polling CloudTrail notifications');
    while (!signal.aborted) {
      while (inflight.size >= this.cfg.concurrency && !signal.aborted) await Promise.race(inflight);
      if (signal.aborted) break;
      if (this.deps.spool.full) {
        // Messages received now could not be committed; leave them queued until the sinks catch up (health says so).
        await new Promise((r) => setTimeout(r, 1000).unref());
        continue;
      }
      let messages: Message[];
      try {
        messages = await retryOperation(
          (s) => this.receive(Math.min(this.cfg.max_messages, this.cfg.concurrency - inflight.size), s),
          this.receivePolicy,
          signal,
          (info) => this.receiveFailed(info.attempt, info.reason),
        );
      } catch (err) {
        if (signal.aborted) break;
        this.fault(describe(err));
        continue;
      }
      await this.receiveWorks();
      for (const m of messages) {
        const p: Promise<void> = this.handle(m).finally(() => inflight.delete(p));
        inflight.add(p);
      }
    }
    await Promise.allSettled(inflight);
  }

  private async receive(max: number, signal: AbortSignal): Promise<Message[]> {
    const { ReceiveMessageCommand } = sqsSdk();
    try {
      const res = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: this.cfg.wait_time_s,
          VisibilityTimeout: this.cfg.visibility_timeout_s,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
        { abortSignal: signal },
      );
      return res.Messages ?? [];
    } catch (err) {
      // Name the AWS error (AccessDenied, QueueDoesNotExist…): its message alone often does not.
      const name = (err as { name?: unknown }).name;
      if (typeof name !== 'string' || name === 'Error' || !(err instanceof Error)) throw err;
      throw new Error(`${name}: ${err.message}`, { cause: err });
    }
  }

  /** A failed ReceiveMessage attempt (`attempt` counts the failures in a row). */
  private receiveFailed(attempt: number, reason: string): void {
    const since = this.receiveTrouble?.since ?? Date.now();
    this.receiveTrouble = { since, attempts: attempt, reason };
    this.deps.logger.warn({ poller: this.name, attempt, reason, code: 'MLTRAIL_ERR_UPSTREAM' }, 'SQS receive failed; retrying');
    if (attempt < RECEIVE_FAILURES_DOWN || this.outage) return;
    this.outage = { since };
    this.deps.logger.error({ poller: this.name, queue: this.queueUrl, attempts: attempt, reason, code: 'MLTRAIL_ERR_UPSTREAM' }, 'SQS queue unavailable: nothing is received');
    void this.sourceEvent('unavailable', since, reason);
  }

  /** A ReceiveMessage worked: receive trouble is over at once; an outage ends with source.recovered. */
  private async receiveWorks(): Promise<void> {
    const was = this.outage;
    this.receiveTrouble = undefined;
    this.outage = undefined;
    if (!was) return;
    this.deps.logger.info({ poller: this.name, queue: this.queueUrl, down_s: Math.round((Date.now() - was.since) / 1000) }, 'SQS queue receiving again');
    await this.sourceEvent('recovered', was.since);
  }

  /**
   * One source.unavailable / source.recovered per outage, shaped as the Kubeflow and MLflow pollers'
   * (ids from the outage start, so a repeat collapses). Never throws: a full spool must not stop the loop.
   */
  private async sourceEvent(kind: 'unavailable' | 'recovered', since: number, reason?: string): Promise<void> {
    const now = Date.now();
    const { account, name } = queueParts(this.queueUrl);
    const ev = makeEvent({
      id: stableId('sagemaker', 'source', this.name, kind, this.queueUrl, since),
      time: new Date(now).toISOString(),
      platform: 'sagemaker',
      channel: S3_CHANNEL,
      stage: 'ingestion',
      action: kind === 'unavailable' ? 'source.unavailable' : 'source.recovered',
      operation: 'sqs.receive',
      service: 'mltrail',
      outcome: kind === 'unavailable' ? 'failure' : 'success',
      error: reason === undefined ? undefined : { code: 'MLTRAIL_ERR_UPSTREAM', message: reason },
      resource: { type: 'sqs_queue', id: this.queueUrl, name },
      cloud: { provider: 'aws', account, region: this.cfg.region ?? regionFromQueueUrl(this.queueUrl) },
      details: kind === 'unavailable' ? { poller: this.name, failing_since: new Date(since).toISOString(), attempts: RECEIVE_FAILURES_DOWN } : { poller: this.name, after: 'unavailable', down_s: Math.round((now - since) / 1000) },
    });
    await this.deps.ingest.ingest([ev], S3_CHANNEL).catch((err: unknown) => this.deps.logger.error({ err: describe(err), poller: this.name, code: 'MLTRAIL_ERR_INTERNAL' }, `could not record source.${kind}`));
  }

  /** One SQS message: read what it announces, commit, then delete it. */
  private async handle(m: Message): Promise<void> {
    const shutdown = this.abort.signal;
    // Fires when the message has been worked on for max_visibility_extension_s: its work is abandoned.
    const giveUp = new AbortController();
    const signal = AbortSignal.any([shutdown, giveUp.signal]);
    const log = this.deps.logger;
    const meta = { message_id: m.MessageId, receive_count: m.Attributes?.ApproximateReceiveCount };
    const visibilityMs = this.cfg.visibility_timeout_s * 1000;
    const heartbeatMs = Math.max(500, visibilityMs / 2);
    const extendUntil = Date.now() + this.cfg.max_visibility_extension_s * 1000;
    const { ChangeMessageVisibilityCommand } = sqsSdk();
    const heartbeat = setInterval(() => {
      if (Date.now() >= extendUntil) {
        // No more extensions: the message reappears when its current visibility ends.
        clearInterval(heartbeat);
        giveUp.abort(new Error(`message still not done after ${this.cfg.max_visibility_extension_s} s (connectors.sagemaker.sqs.max_visibility_extension_s): abandoned, visibility no longer extended`));
        return;
      }
      this.sqs
        .send(new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: this.cfg.visibility_timeout_s }), { abortSignal: AbortSignal.timeout(heartbeatMs) })
        .catch((err: unknown) => log.warn({ err: describe(err), ...meta }, 'could not extend message visibility'));
    }, heartbeatMs);
    heartbeat.unref();
    try {
      const content = parseQueueMessage(m.Body ?? '');
      // Deleted from the queue only once whatever it left in quarantine is synced to disk.
      await this.deps.ingest.durably(async () => {
        switch (content.kind) {
          case 'invalid':
            if (content.notice) log.warn({ poller: this.name, reason: content.reason, ...meta, code: 'MLTRAIL_ERR_VALIDATION' }, content.notice);
            // It will never parse: keep it in quarantine (durable) and take it off the queue.
            this.deps.ingest.quarantine(S3_CHANNEL, content.reason, m.Body ?? '', meta);
            break;
          case 'skip':
            log.info({ poller: this.name, reason: content.reason, ...meta }, 'SQS message recognised and skipped');
            break;
          case 'records':
            this.logOutcome(await this.ingest([content.value], { ...meta, source: 'sqs_message' }), meta);
            break;
          case 'objects':
            for (const s of content.skipped) log.info({ poller: this.name, reason: s, ...meta }, 'notification record skipped');
            await eachLimited(content.refs, this.cfg.object_concurrency, (ref) => this.processObject(ref, meta, signal));
            break;
        }
      });
      if (shutdown.aborted) return;
      if (giveUp.signal.aborted) throw giveUp.signal.reason;
      await this.deleteMessage(m);
    } catch (err) {
      if (!shutdown.aborted) {
        const reason = describe(giveUp.signal.aborted ? giveUp.signal.reason : err);
        this.fault(reason);
        log.warn({ poller: this.name, reason, ...meta, code: 'MLTRAIL_ERR_UPSTREAM' }, 'message not completed; SQS will redeliver it after its visibility timeout');
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async deleteMessage(m: Message): Promise<void> {
    const { DeleteMessageCommand } = sqsSdk();
    // Not tied to the shutdown signal: what is committed should be acknowledged even while stopping.
    await retryOperation(
      (s) => this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: m.ReceiptHandle }), { abortSignal: s }),
      { initialMs: 200, maxMs: 2000, requestTimeoutMs: 10_000, maxAttempts: 3 },
      new AbortController().signal,
    );
  }

  private ingest(records: unknown[], meta: Record<string, unknown>): Promise<RecordsOutcome> {
    const ctx = { channel: S3_CHANNEL, receivedTime: new Date().toISOString(), keepRaw: this.deps.keepRaw, config: this.deps.config, meta };
    return normalizeAndIngest(this.deps.ingest, (r) => normalizeSagemaker(r, ctx), records, S3_CHANNEL, meta, { redactRejected: redactJobSecrets });
  }

  private logOutcome(out: RecordsOutcome, meta: Record<string, unknown>): void {
    if (out.skipped.length) this.deps.logger.info({ poller: this.name, skipped: out.skipped.length, reasons: [...new Set(out.skipped.map((s) => s.reason))].slice(0, 10), ...meta }, 'records recognised and skipped');
    this.deps.logger.debug({ poller: this.name, accepted: out.accepted, duplicates: out.duplicates, rejected: out.rejected.length, ...meta }, 'object ingested');
  }

  private async processObject(ref: ObjectRef, msgMeta: Record<string, unknown>, signal: AbortSignal): Promise<void> {
    const uri = `s3://${ref.bucket}/${ref.key}`;
    const meta = { ...msgMeta, source_uri: uri };
    const skip = skipReason(ref.key);
    if (skip) {
      this.deps.logger.info({ poller: this.name, reason: skip, ...meta }, 'S3 object recognised and skipped');
      return;
    }
    let data: Buffer;
    let lastModified: Date | undefined;
    // Bounds the wait for the response and for each chunk of the body: S3 that stops sending must not hold this slot.
    const idle = idleWatchdog(this.cfg.object_idle_timeout_s * 1000, signal, `GetObject ${uri}`);
    const { GetObjectCommand } = s3Sdk();
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }), { abortSignal: idle.signal });
      lastModified = res.LastModified;
      idle.kick();
      const read = await readObjectBody(res.Body as Readable, this.cfg.max_object_bytes, idle.signal, idle.kick);
      if (res.ContentLength !== undefined && read.rawBytes < res.ContentLength) throw new Error(`short read of ${uri}: ${read.rawBytes} of ${res.ContentLength} bytes`);
      data = read.data;
    } catch (err) {
      // The abort surfaces as a generic AbortError; name the stall instead.
      const stalled = idle.stalled();
      if (stalled) throw stalled;
      const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NoSuchKey' || e.name === 'NoSuchVersion') {
        this.deps.ingest.quarantine(S3_CHANNEL, `announced object ${uri} does not exist (${e.name})`, JSON.stringify(ref), meta);
        return;
      }
      if (err instanceof ObjectTooLarge) {
        this.deps.ingest.quarantine(S3_CHANNEL, `${uri}: ${err.message}`, JSON.stringify(ref), meta);
        return;
      }
      if (typeof e.code === 'string' && /^Z_/.test(e.code)) {
        this.deps.ingest.quarantine(S3_CHANNEL, `${uri} is not valid gzip: ${(err as Error).message}`, JSON.stringify(ref), meta);
        return;
      }
      throw err;
    } finally {
      idle.stop();
    }
    let doc: unknown;
    try {
      doc = JSON.parse(data.toString('utf8').replace(/^\uFEFF/, ''));
    } catch (err) {
      this.deps.ingest.quarantine(S3_CHANNEL, `${uri} is not JSON: ${(err as Error).message}`, data, meta);
      return;
    }
    const out = await this.ingest([doc], { ...meta, object_time: lastModified?.toISOString() });
    this.logOutcome(out, meta);
  }
}
