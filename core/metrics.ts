import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's Prometheus metrics (served at GET /metrics). One registry per
 * runtime so tests can run several bridges in one process.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mltrail_' });
  const m = {
    registry,
    eventsReceived: new Counter({
      name: 'mltrail_events_received_total',
      help: 'Events accepted into the spool, by channel',
      labelNames: ['channel'],
      registers: [registry],
    }),
    // A feed that goes silent (its EventBridge rule disabled, its subscription deleted) shows here first:
    // `time() - mltrail_channel_last_event_timestamp_seconds > 3600` on a channel that is steady otherwise.
    channelLastEvent: new Gauge({
      name: 'mltrail_channel_last_event_timestamp_seconds',
      help: 'Unix time an event last arrived on the channel (accepted or a duplicate of one already taken)',
      labelNames: ['channel'],
      registers: [registry],
    }),
    eventsDuplicate: new Counter({
      name: 'mltrail_events_duplicate_total',
      help: 'Events dropped as duplicates of an already accepted id, by channel',
      labelNames: ['channel'],
      registers: [registry],
    }),
    eventsRejected: new Counter({
      name: 'mltrail_events_rejected_total',
      help: 'Input rejected, by channel and reason: quarantined events; requests refused whole (unauthenticated, too_large, spool_full, spool_error)',
      labelNames: ['channel', 'reason'],
      registers: [registry],
    }),
    spoolDepth: new Gauge({
      name: 'mltrail_spool_depth',
      help: 'Records waiting for a consumer (sink or rules)',
      labelNames: ['consumer'],
      registers: [registry],
    }),
    spoolOldestAge: new Gauge({
      name: 'mltrail_spool_oldest_age_seconds',
      help: 'Age of the oldest record waiting for a consumer',
      labelNames: ['consumer'],
      registers: [registry],
    }),
    spoolBytes: new Gauge({ name: 'mltrail_spool_bytes', help: 'Undelivered bytes in the spool', registers: [registry] }),
    spoolHeldBytes: new Gauge({ name: 'mltrail_spool_held_bytes', help: 'Bytes of dead letters and quarantined input (they count toward spool.max_bytes)', registers: [registry] }),
    sinkSent: new Counter({
      name: 'mltrail_sink_sent_total',
      help: 'Records delivered, by sink',
      labelNames: ['sink'],
      registers: [registry],
    }),
    sinkFailed: new Counter({
      name: 'mltrail_sink_failed_total',
      help: 'Records dead-lettered (permanent) or attempts failed (retry), by sink and kind',
      labelNames: ['sink', 'kind'],
      registers: [registry],
    }),
    sinkHealthy: new Gauge({
      name: 'mltrail_sink_healthy',
      help: '1 when the sink is healthy, 0.5 degraded, 0 unhealthy',
      labelNames: ['sink'],
      registers: [registry],
    }),
    alerts: new Counter({
      name: 'mltrail_alerts_total',
      help: 'Alerts raised, by rule and mode',
      labelNames: ['rule_id', 'mode'],
      registers: [registry],
    }),
    tlsHandshakeFailures: new Counter({
      name: 'mltrail_tls_handshake_failures_total',
      help: 'TLS handshakes the HTTPS server (server.tls) failed, by reason: unknown_ca, bad_certificate, no_shared_cipher, protocol_version, not_tls, other',
      labelNames: ['reason'],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: 'mltrail_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
