import { Duration, PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import type { ConnectorDeps, NormalizeContext, Poller } from '../../core/connector.js';
import { normalizeAndIngest } from '../../core/ingest.js';
import type { VertexConfig } from './config.js';
import { parseMessageData } from './envelope.js';
import type { Transport } from './logentry.js';
import { normalizeVertex } from './normalize.js';

export const PULL_CHANNEL = 'vertex.pubsub_pull';

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
      deps.ingest.quarantine(channel, `Pub/Sub ${parsed.error}`, msg.data ?? Buffer.alloc(0), { message_id: msg.id, subscription });
    } else {
      const ctx: NormalizeContext<VertexConfig> = {
        channel,
        receivedTime: new Date().toISOString(),
        keepRaw: deps.keepRaw,
        config: deps.config,
        meta: { transport },
      };
      await normalizeAndIngest(deps.ingest, (r) => normalizeVertex(r, ctx), [parsed.entry], channel, { message_id: msg.id, subscription });
    }
  } catch (err) {
    deps.logger.warn({ err, code: (err as { code?: string }).code ?? 'MLTRAIL_ERR_INTERNAL', message_id: msg.id }, 'pulled message not committed; nacked for redelivery');
    msg.nack();
    return 'nack';
  }
  msg.ack();
  return 'ack';
}

/**
 * The pull subscriber (`connectors.vertex.pull`): a StreamingPull
 * subscription with flow control (at most `max_messages` / `max_bytes`
 * leased, no excess), leases extended while a message waits for commit, ack
 * after commit, nack on failure. `stop()` refuses new messages (nack), waits
 * for in-flight commits, then closes the stream so queued acks are flushed.
 *
 * @example
 * const poller = new VertexPullPoller(deps); poller.start(); … await poller.stop();
 */
export class VertexPullPoller implements Poller {
  readonly name = 'vertex.pubsub_pull';
  private pubsub?: PubSub;
  private subscription?: Subscription;
  private readonly inflight = new Set<Promise<unknown>>();
  private stopping = false;
  private lastError?: string;
  private lastErrorAt = 0;
  private counts = { ack: 0, nack: 0 };

  constructor(
    private readonly deps: ConnectorDeps<VertexConfig>,
    private readonly opts: { graceMs?: number } = {},
  ) {}

  start(): void {
    const pull = this.deps.config.pull;
    const name = pull.subscription!;
    const projectId = name.split('/')[1];
    const apiEndpoint = pull.api_endpoint ?? this.deps.env.PUBSUB_EMULATOR_HOST;
    // GOOGLE_APPLICATION_CREDENTIALS is read by google-auth-library; an emulator endpoint gets insecure channel credentials.
    this.pubsub = new PubSub({ projectId, ...(apiEndpoint ? { apiEndpoint } : {}) });
    this.subscription = this.pubsub.subscription(name, {
      flowControl: { maxMessages: pull.max_messages, maxBytes: pull.max_bytes, allowExcessMessages: false },
      maxExtensionTime: Duration.from({ seconds: pull.max_extension_s }),
      closeOptions: { behavior: 'NACK', timeout: Duration.from({ seconds: 10 }) },
    });
    this.subscription.on('message', (m: Message) => {
      if (this.stopping) {
        m.nack();
        return;
      }
      const p = handlePullMessage(m, this.deps, name).then((r) => this.counts[r]++);
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    });
    this.subscription.on('error', (err: Error) => {
      // The library retries transient stream errors itself; record the rest for /readyz.
      this.lastError = err.message;
      this.lastErrorAt = Date.now();
      this.deps.logger.error({ err: { message: err.message, code: (err as { code?: unknown }).code }, code: 'MLTRAIL_ERR_UPSTREAM', subscription: name }, 'Pub/Sub subscription error');
    });
    this.deps.logger.info({ subscription: name, endpoint: apiEndpoint ?? 'pubsub.googleapis.com', max_messages: pull.max_messages }, 'vertex pull subscriber started');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const grace = this.opts.graceMs ?? 10_000;
    await Promise.race([Promise.allSettled([...this.inflight]), new Promise((r) => setTimeout(r, grace).unref())]);
    await this.subscription?.close().catch((err: Error) => this.deps.logger.warn({ err: { message: err.message } }, 'closing the subscription failed'));
    await this.pubsub?.close().catch(() => {});
    this.subscription?.removeAllListeners();
  }

  health(): { state: 'healthy' | 'degraded' | 'unhealthy'; reason?: string } {
    if (this.lastError && Date.now() - this.lastErrorAt < 5 * 60_000) return { state: 'degraded', reason: this.lastError };
    return { state: 'healthy' };
  }

  /** Acks and nacks so far (diagnostics). */
  stats(): { ack: number; nack: number; inflight: number } {
    return { ...this.counts, inflight: this.inflight.size };
  }
}
