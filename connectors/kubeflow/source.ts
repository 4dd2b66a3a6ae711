import type { ConnectorDeps, Poller } from '../../core/connector.js';
import { describe, type AttemptInfo } from '../../core/retry/index.js';
import { makeEvent, stableId, type NormalizedEvent } from '../../core/schema/index.js';
import { forCluster } from './cluster.js';

/**
 * Resolves after `ms`, or at once when `signal` aborts. The listener is
 * removed when the timer fires: the loop's signal lives as long as the poller,
 * and one listener left behind per poll grows without bound (and Node prints a
 * MaxListenersExceededWarning on stderr after 10, breaking JSON log lines).
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The loop, health and source.unavailable/recovered bookkeeping a Kubeflow
 * poller shares: poll, sleep the interval, repeat until stopped. A failed poll
 * keeps the cursor (nothing is lost) and is reported once per outage.
 */
export abstract class IntervalPoller implements Poller {
  /** The poller's name: its channel, `@<cluster>` for a configured cluster's (ofCluster). */
  abstract readonly name: string;
  /** The channel its events carry, the same for every cluster's (as the audit route's); `name` when unset. */
  readonly channel?: string;
  private abort?: AbortController;
  private loop?: Promise<void>;
  private lastError?: string;
  /** A request of the poll in progress being retried (cleared when the poll ends). */
  private retrying?: string;
  private down = false;
  protected polls = 0;

  /** `cluster`: the configured cluster (`connectors.kubeflow.clusters[].id`) polled; undefined for the default one. */
  constructor(protected readonly deps: ConnectorDeps<any>, protected readonly intervalMs: number, protected readonly cluster?: string) {}

  /** An event as this poller's cluster's (see forCluster): scoped as its audit webhook's events are. */
  protected own(ev: NormalizedEvent): NormalizedEvent {
    return forCluster(ev, this.deps.config, this.cluster);
  }

  /** One poll: read what changed since the cursor, commit, then advance the cursor. */
  abstract pollOnce(signal: AbortSignal): Promise<unknown>;

  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.loop = (async () => {
      while (!signal.aborted) {
        try {
          await this.pollOnce(signal);
          this.retrying = undefined;
          this.polls++;
          if (this.down) await this.transition('recovered', 'polling works again');
          this.lastError = undefined;
        } catch (err) {
          if (signal.aborted) break;
          this.retrying = undefined;
          this.lastError = describe(err);
          this.deps.logger.warn({ poller: this.name, err: this.lastError, code: 'MLTRAIL_ERR_UPSTREAM' }, 'poll failed; will retry');
          if (!this.down) await this.transition('unavailable', this.lastError);
        }
        await sleep(this.intervalMs, signal);
      }
    })();
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
  }

  health(): { state: 'healthy' | 'degraded' | 'unhealthy'; reason?: string } {
    if (this.lastError) return { state: 'unhealthy', reason: this.lastError };
    return this.retrying ? { state: 'degraded', reason: `retrying: ${this.retrying}` } : { state: 'healthy' };
  }

  /** A subclass's request is being retried (core/retry onRetry): degraded until it succeeds (undefined) or the poll ends. */
  protected noteRetry(info: AttemptInfo | undefined): void {
    this.retrying = info ? `attempt ${info.attempt} failed: ${info.reason}` : undefined;
  }

  private async transition(kind: 'unavailable' | 'recovered', reason: string): Promise<void> {
    this.down = kind === 'unavailable';
    const now = new Date();
    const ev = this.own(makeEvent({
      id: stableId('kubeflow', 'source', this.name, kind, Math.floor(now.getTime() / 60_000)),
      time: now.toISOString(),
      platform: 'kubeflow',
      channel: this.channel ?? this.name,
      stage: 'ingestion',
      action: kind === 'unavailable' ? 'source.unavailable' : 'source.recovered',
      operation: `poll.${kind}`,
      service: 'mltrail',
      outcome: kind === 'unavailable' ? 'failure' : 'success',
      error: kind === 'unavailable' ? { code: 'MLTRAIL_ERR_UPSTREAM', message: reason } : undefined,
      resource: { type: 'poller', id: this.name },
    }));
    await this.deps.ingest.ingest([ev], this.name).catch(() => undefined);
  }
}
