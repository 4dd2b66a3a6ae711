import type * as PubSubSdk from '@google-cloud/pubsub';
import type { DebugMessage, Message, PubSub, Subscription } from '@google-cloud/pubsub';
import type { ConnectorDeps, NormalizeContext, Poller } from '../../core/connector.js';
import { normalizeAndIngest } from '../../core/ingest.js';
import { lazyRequire } from '../../core/lazy-require.js';
import { retryOperation, type RetryPolicy } from '../../core/retry/index.js';
import type { VertexConfig } from './config.js';
import { parseMessageData } from './envelope.js';
import type { Transport } from './logentry.js';
import { normalizeVertex } from './normalize.js';
import { redactJobSecrets } from '../../core/secrets.js';

export const PULL_CHANNEL = 'vertex.pubsub_pull';

/** The Pub/Sub client library, loaded when a subscriber is made (`serve` with a subscription), not by every command. */
const pubsubSdk = lazyRequire<typeof PubSubSdk>('@google-cloud/pubsub');

/** The part of a `@google-cloud/pubsub` Message the handler uses. */
export type PullMessage = Pick<Message, 'id' | 'data' | 'attributes' | 'ack' | 'nack'> & {
  publishTime?: { toISOString(): string } | Date;
  deliveryAttempt?: number;
  orderingKey?: string;
};

/**
 * Handle one pulled message: normalize and commit, then ack; a message that
 * can never be normalized is quarantined (committed) and acked; any failure
 * to commit (spool full, closed, disk error) nacks it so Pub/Sub redelivers.
 *
 * @example
 * subscription.on('message', (m) => handlePullMessage(m, deps, 'projects/p/subscriptions/s'));
 */
export async function handlePullMessage(msg: PullMessage, deps: ConnectorDeps<VertexConfig>, subscription: string): Promise<'ack' | 'nack'> {
  const channel = PULL_CHANNEL;
  try {
    const transport: Transport = {
      message_id: msg.id,
      publish_time: msg.publishTime ? msg.publishTime.toISOString() : undefined,
      subscription,
      delivery_attempt: msg.deliveryAttempt || undefined,
      ordering_key: msg.orderingKey || undefined,
      attributes: msg.attributes && Object.keys(msg.attributes).length ? msg.attributes : undefined,
    };
    const parsed = parseMessageData(Buffer.isBuffer(msg.data) ? msg.data : Buffer.from(msg.data ?? []));
    if ('error' in parsed) {
      // Acked only once the quarantined bytes are synced to disk.
      await deps.ingest.durably(() => deps.ingest.quarantine(channel, `Pub/Sub ${parsed.error}`, msg.data ?? Buffer.alloc(0), { message_id: msg.id, subscription }));
    } else {
      const ctx: NormalizeContext<VertexConfig> = {
        channel,
        receivedTime: new Date().toISOString(),
        keepRaw: deps.keepRaw,
        config: deps.config,
        meta: { transport },
      };
      await deps.ingest.durably(() => normalizeAndIngest(deps.ingest, (r) => normalizeVertex(r, ctx), [parsed.entry], channel, { message_id: msg.id, subscription }, { redactRejected: redactJobSecrets }));
    }
  } catch (err) {
    deps.logger.warn({ err, code: (err as { code?: string }).code ?? 'MLTRAIL_ERR_INTERNAL', message_id: msg.id }, 'pulled message not committed; nacked for redelivery');
    msg.nack();
    return 'nack';
  }
  msg.ack();
  return 'ack';
}

/** Reopening a subscription the library gave up on: 1 s, doubling, at most a minute apart; never gives up. */
const REOPEN_BACKOFF = { initialMs: 1000, maxMs: 60_000 };
/** A reopened subscription counts as working once a message arrives or it stays open this long without an error. */
const STABLE_MS = 30_000;
/**
 * Stream trouble: this many ends, each within TROUBLE_GAP_MS of the one before, mean streams are not
 * staying open (twice the library's 5 streams, so one server-side reset of all of them does not count).
 */
const TROUBLE_ENDS = 10;
const TROUBLE_GAP_MS = 90_000;
const TROUBLE_UNHEALTHY_MS = 2 * 60_000;

/**
 * The pull subscriber (`connectors.vertex.pull`): a StreamingPull
 * subscription with flow control (at most `max_messages` / `max_bytes`
 * leased, no excess), leases extended while a message waits for commit, ack
 * after commit, nack on failure. `stop()` refuses new messages (nack), waits
 * for in-flight commits, then closes the stream so queued acks are flushed.
 *
 * The library retries transient stream statuses itself (UNAVAILABLE,
 * DEADLINE_EXCEEDED…, an unreachable endpoint included, without an 'error'):
 * streams that keep ending read `degraded`, and `unhealthy` after two minutes
 * (see TROUBLE_ENDS). It closes the subscription for good on any other (PERMISSION_DENIED,
 * NOT_FOUND…). Then nothing is pulled, so the poller reopens it
 * through core/retry (jittered backoff, stopped by `stop()`), and reports
 * `unhealthy` until a reopened subscription has delivered a message or stayed
 * open for `stableMs`.
 *
 * @example
 * const poller = new VertexPullPoller(deps); poller.start(); … await poller.stop();
 */
export class VertexPullPoller implements Poller {
  readonly name = 'vertex.pubsub_pull';
  private pubsub?: PubSub;
  private subscription?: Subscription;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly shutdown = new AbortController();
  private stopping = false;
  private lastError?: string;
  private lastErrorAt = 0;
  /** Set while the subscription is closed (not by us) and being reopened: nothing is pulled. */
  private down?: { reason: string; since: string; attempts: number };
  private reopening?: Promise<void>;
  /** Resolves the pending reopen attempt when a message arrives (the stream works). */
  private confirm?: () => void;
  private counts = { ack: 0, nack: 0 };
  /** A run of stream ends the library retries by itself (an unreachable endpoint): nothing is pulled meanwhile. */
  private streamTrouble?: { since: number; last: number; ends: number; reason: string };

  constructor(
    private readonly deps: ConnectorDeps<VertexConfig>,
    private readonly opts: { graceMs?: number; reopen?: Partial<typeof REOPEN_BACKOFF>; stableMs?: number; troubleUnhealthyMs?: number } = {},
  ) {
    // Loaded now, while the bridge mounts its connectors (before it listens): a library that cannot be
    // loaded stops the start there, as a connector that cannot start does.
    pubsubSdk();
  }

  start(): void {
    const pull = this.deps.config.pull;
    const name = pull.subscription!;
    const projectId = name.split('/')[1];
    const apiEndpoint = pull.api_endpoint ?? this.deps.env.PUBSUB_EMULATOR_HOST;
    const { Duration, PubSub } = pubsubSdk();
    // GOOGLE_APPLICATION_CREDENTIALS is read by google-auth-library; an emulator endpoint gets insecure channel credentials.
    this.pubsub = new PubSub({ projectId, ...(apiEndpoint ? { apiEndpoint } : {}) });
    this.subscription = this.pubsub.subscription(name, {
      flowControl: { maxMessages: pull.max_messages, maxBytes: pull.max_bytes, allowExcessMessages: false },
      maxExtensionTime: Duration.from({ seconds: pull.max_extension_s }),
      closeOptions: { behavior: 'NACK', timeout: Duration.from({ seconds: 10 }) },
    });
    // Registering the 'message' listener opens the subscription.
    this.subscription.on('message', (m: Message) => {
      if (this.stopping) {
        m.nack();
        return;
      }
      this.confirm?.();
      this.streamTrouble = undefined;
      const p = handlePullMessage(m, this.deps, name).then((r) => this.counts[r]++);
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    });
    this.subscription.on('error', (err: Error) => {
      this.lastError = err.message;
      this.lastErrorAt = Date.now();
      this.deps.logger.error({ err: { message: err.message, code: (err as { code?: unknown }).code }, code: 'MLTRAIL_ERR_UPSTREAM', subscription: name }, 'Pub/Sub subscription error');
    });
    // Retryable stream ends (UNAVAILABLE: endpoint unreachable, connection refused…) come only as 'debug'.
    this.subscription.on('debug', (m: DebugMessage) => {
      const err = m.error as (Error & { details?: string }) | undefined;
      if (!err) return;
      const now = Date.now();
      const reason = `${m.message || 'stream ended'}${err.details ? ` (${err.details})` : ''}`;
      if (!this.streamTrouble || now - this.streamTrouble.last > TROUBLE_GAP_MS) this.streamTrouble = { since: now, last: now, ends: 0, reason };
      this.streamTrouble.ends++;
      this.streamTrouble.last = now;
      this.streamTrouble.reason = reason;
      if (this.streamTrouble.ends === TROUBLE_ENDS) this.deps.logger.warn({ code: 'MLTRAIL_ERR_UPSTREAM', subscription: name, reason }, 'Pub/Sub streams keep ending; the client library is retrying');
    });
    this.subscription.on('close', () => {
      if (this.stopping) return;
      // Closed without stop(): the library gave up on a non-retryable status.
      this.down ??= { reason: this.lastError ?? 'subscription closed', since: new Date().toISOString(), attempts: 0 };
      this.down.reason = this.lastError ?? this.down.reason;
      // Deferred: the library still closes its ack queues right after emitting 'close'; reopening inside the
      // handler would hand it the new ones.
      setImmediate(() => this.reopen(name));
    });
    this.deps.logger.info({ subscription: name, endpoint: apiEndpoint ?? 'pubsub.googleapis.com', max_messages: pull.max_messages }, 'vertex pull subscriber started');
  }

  /** Reopen the closed subscription with backoff until a stream works (or stop()). */
  private reopen(name: string): void {
    if (this.stopping || this.reopening || this.subscription?.isOpen) return;
    const stableMs = this.opts.stableMs ?? STABLE_MS;
    // An attempt ends by itself after stableMs; the timeout only guards against a hung open.
    const policy: RetryPolicy = { ...REOPEN_BACKOFF, ...this.opts.reopen, requestTimeoutMs: stableMs + 60_000 };
    this.deps.logger.warn({ code: 'MLTRAIL_ERR_UPSTREAM', subscription: name, reason: this.down?.reason }, 'Pub/Sub subscription closed; reopening with backoff');
    this.reopening = retryOperation((signal) => this.openUntilWorking(signal, stableMs), policy, this.shutdown.signal, (info) => {
      if (this.down) this.down.attempts = info.attempt;
      this.deps.logger.warn({ code: 'MLTRAIL_ERR_UPSTREAM', subscription: name, attempt: info.attempt, reason: info.reason }, 'Pub/Sub subscription still refused; retrying with backoff');
    })
      .then(() => {
        this.deps.logger.info({ subscription: name, down_since: this.down?.since }, 'Pub/Sub subscription pulling again');
        this.down = undefined;
        this.lastError = undefined; // the error that closed it is over
      })
      .catch(() => {}) // only when stop() aborts the retries
      .finally(() => (this.reopening = undefined));
  }

  /** One reopen attempt: resolves once a message arrives or the subscription stays open `stableMs`; rejects if it closes. */
  private openUntilWorking(signal: AbortSignal, stableMs: number): Promise<void> {
    const sub = this.subscription!;
    return new Promise<void>((resolve, reject) => {
      const settle = (err?: Error) => {
        clearTimeout(timer);
        sub.off('close', onClose);
        signal.removeEventListener('abort', onAbort);
        this.confirm = undefined;
        if (err) reject(err);
        else resolve();
      };
      const onClose = () => settle(new Error(this.lastError ?? 'subscription closed'));
      const onAbort = () => settle(new Error(signal.reason instanceof Error ? signal.reason.message : 'reopen attempt aborted'));
      const timer = setTimeout(() => settle(), stableMs);
      this.confirm = () => settle();
      sub.once('close', onClose);
      signal.addEventListener('abort', onAbort, { once: true });
      sub.open();
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.shutdown.abort();
    await this.reopening;
    const grace = this.opts.graceMs ?? 10_000;
    await Promise.race([Promise.allSettled([...this.inflight]), new Promise((r) => setTimeout(r, grace).unref())]);
    await this.subscription?.close().catch((err: Error) => this.deps.logger.warn({ err: { message: err.message } }, 'closing the subscription failed'));
    await this.pubsub?.close().catch(() => {});
    this.subscription?.removeAllListeners();
  }

  health(): { state: 'healthy' | 'degraded' | 'unhealthy'; reason?: string } {
    // Not pulling at all: unhealthy however long ago it started.
    if (this.down) return { state: 'unhealthy', reason: `not pulling since ${this.down.since}: ${this.down.reason}; reopening with backoff (attempt ${this.down.attempts + 1})` };
    // Streams ending again and again (at least TROUBLE_ENDS, each within TROUBLE_GAP_MS of the last): the
    // library retries by itself but nothing is pulled; unhealthy once that has lasted TROUBLE_UNHEALTHY_MS.
    const t = this.streamTrouble;
    if (t && t.ends >= TROUBLE_ENDS && Date.now() - t.last <= TROUBLE_GAP_MS) {
      const since = new Date(t.since).toISOString();
      const state = Date.now() - t.since >= (this.opts.troubleUnhealthyMs ?? TROUBLE_UNHEALTHY_MS) ? 'unhealthy' : 'degraded';
      return { state, reason: `no Pub/Sub stream has stayed open since ${since} (${t.ends} ended): ${t.reason}; the client library keeps retrying` };
    }
    // Errors the library recovered from (transient stream errors, failed acks): degraded for a while.
    if (this.lastError && Date.now() - this.lastErrorAt < 5 * 60_000) return { state: 'degraded', reason: this.lastError };
    return { state: 'healthy' };
  }

  /** Acks and nacks so far (diagnostics). */
  stats(): { ack: number; nack: number; inflight: number } {
    return { ...this.counts, inflight: this.inflight.size };
  }
}
