import { request } from 'undici';
import { DeliveryError, parseRetryAfter, type DeliveryStatus, type Sink, type SinkHealth } from '../../core/sink.js';
import type { SpoolRecord } from '../../core/spool/index.js';

/**
 * A minimal NDJSON-over-HTTP sink for tests and the benchmark: POSTs the
 * batch, 2xx = delivered, 429/5xx = retryable (Retry-After honoured by the
 * runner), other 4xx = permanent. It exercises the runner, not a SIEM protocol.
 */
export class NdjsonHttpSink implements Sink {
  readonly name: string;
  private lastError?: string;
  constructor(
    private readonly url: string,
    name = 'http',
  ) {
    this.name = name;
  }
  async send(records: SpoolRecord[], signal: AbortSignal): Promise<DeliveryStatus[]> {
    const body = records.map((r) => r.body).join('\n') + '\n';
    const res = await request(this.url, { method: 'POST', body, signal, headers: { 'content-type': 'application/x-ndjson' } });
    await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) {
      this.lastError = undefined;
      return records.map(() => ({ status: 'ok' }));
    }
    this.lastError = `HTTP ${res.statusCode}`;
    const retryable = res.statusCode === 429 || res.statusCode >= 500;
    throw new DeliveryError(`HTTP ${res.statusCode}`, retryable, parseRetryAfter(res.headers['retry-after'] as string | undefined));
  }
  health(): SinkHealth {
    return this.lastError ? { state: 'degraded', reason: this.lastError } : { state: 'healthy' };
  }
}
