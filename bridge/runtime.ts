import { serve, type ServerType } from '@hono/node-server';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { isIP, type Server } from 'node:net';
import { resolve } from 'node:path';
import { connectorPlugins } from '../connectors/index.js';
import type { ConnectorDeps, Poller, ServerSettings } from '../core/connector.js';
import { sinkConsumer } from '../core/delivery/runner.js';
import { MltrailError } from '../core/errors.js';
import { clientErrorHandler } from '../core/http/index.js';
import { Ingestor } from '../core/ingest.js';
import { claimDataDir } from '../core/spool/lock.js';
import { createLogger, type Logger } from '../core/log.js';
import { createMetrics, type Metrics } from '../core/metrics.js';
import { RULES_CONSUMER } from '../core/rules/processor.js';
import { startRules, type RulesRunner } from '../core/rules/thread.js';
import { expireRuleStats, statsCutoffDay } from '../core/rules/stats-retention.js';
import { expireRuleState, type StateExpiryCursor } from '../core/rules/state-retention.js';
import { Spool } from '../core/spool/index.js';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { createSinks, type SinksRunner } from './sinks/thread.js';
import { extraRoutes } from './routes.js';
import { serverTls, watchTls } from './tls.js';
import { watchHandshakeFailures } from './tls-handshake.js';

export interface Bridge {
  url: string;
  port: number;
  spool: Spool;
  metrics: Metrics;
  /** The sink runners (on their worker thread unless `pipeline.sinks_thread: main`). */
  sinks: SinksRunner;
  /** Graceful stop: refuse new input, finish in-flight requests, deliver what it can within the grace period, close. */
  stop(): Promise<void>;
  /** The bridge's logger (JSON lines): what the CLI reports goes through it, so the stream stays parseable. */
  log: Logger;
  /**
   * With `server.tls`: read `cert_file`, `key_file` and the client CA files again and serve them to new connections
   * (a renewed certificate or CA, on SIGHUP); returns the new certificate's expiry. Throws CONFIG, keeping the
   * previous pair and CAs, when any is unusable (unreadable, not PEM, a key not of that certificate, a CA file holding
   * no CA). Undefined without `server.tls`.
   */
  reloadTls?: () => { valid_to: string };
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '[::1]';
}

/**
 * Start the bridge: spool, rule processor, sink runners, HTTP server and
 * pollers, wired connector → normalize → spool → rules → sinks.
 *
 * @example
 * const bridge = await startBridge(loadConfig());
 * process.on('SIGTERM', () => bridge.stop().then(() => process.exit(0)));
 */
export async function startBridge(cfg: Config, opts: { logger?: Logger; env?: NodeJS.ProcessEnv } = {}): Promise<Bridge> {
  const env = opts.env ?? process.env;
  const log = opts.logger ?? createLogger({ level: cfg.log.level });
  if (!cfg.server.ingest_token && !isLoopback(cfg.server.host)) {
    throw new MltrailError(
      'CONFIG',
      `refusing to listen on ${cfg.server.host} without an ingest token: set MLTRAIL_INGEST_TOKEN (server.ingest_token) or bind to 127.0.0.1`,
      { variable: 'MLTRAIL_INGEST_TOKEN' },
    );
  }
  const dataDir = resolve(cfg.data_dir);
  // One bridge per data directory (see claimDataDir); released once the spool is closed.
  const claim = claimDataDir(dataDir);
  let spool: Spool;
  try {
    spool = Spool.open({
      dir: dataDir,
      maxBytes: cfg.spool.max_bytes,
      synchronous: cfg.spool.synchronous,
      dedupWindowMs: cfg.spool.dedup_window_hours * 3600_000,
      dedupMaxIds: cfg.spool.dedup_max_ids,
      retryAfterS: cfg.spool.retry_after_s,
      quarantineRetentionMs: cfg.spool.quarantine_retention_days * 86_400_000,
      deadLetterRetentionMs: cfg.spool.dead_letter_retention_days * 86_400_000,
    });
  } catch (err) {
    claim.release();
    throw err;
  }
  let tls: ReturnType<typeof serverTls> | undefined;
  try {
    // Read before anything listens: files that went bad since the config check stop the start, named.
    tls = cfg.server.tls ? serverTls(cfg) : undefined;
  } catch (err) {
    spool.close();
    claim.release();
    throw err;
  }
  const metrics = createMetrics();
  const ingest = new Ingestor(spool, log, metrics);
  const server: ServerSettings = {
    host: cfg.server.host,
    port: cfg.server.port,
    ingestToken: cfg.server.ingest_token,
    bodyLimitBytes: cfg.server.body_limit_bytes,
    plainHttp: !tls,
    ...(tls ? { verifiesClientCerts: tls.clientCaFiles.length > 0, clientCas: tls.clientCas } : {}),
  };

  const sinkEntries = cfg.sinks.filter((s) => s.config.enabled);
  if (sinkEntries.length === 0) {
    log.warn({ code: 'MLTRAIL_ERR_NOT_CONFIGURED' }, 'every sink is disabled: events and alerts are forwarded nowhere (GET /v1/alerts keeps the recent alerts); enable a sink to deliver them');
  }
  // Built before the server listens: a sink that cannot be built (a config fault) stops the start.
  let sinks: SinksRunner;
  try {
    sinks = await createSinks({ spool, dir: dataDir, sinks: sinkEntries, log, metrics, env, thread: cfg.pipeline.sinks_thread, logLevel: cfg.log.level, checkpoints: true });
  } catch (err) {
    spool.close();
    claim.release();
    throw err;
  }

  let shuttingDown = false;
  let rules: RulesRunner | undefined;
  /** Consumers of sinks turned off (`enabled: false`): their backlog is kept for them (filled in below). */
  const held = new Set<string>();
  const pollers: Poller[] = [];
  /** The server.tls file check (watchTls), cleared by stop(). */
  let tlsWatch: NodeJS.Timeout | undefined;
  /** Ends the failed-handshake count's log windows (watchHandshakeFailures), called by stop(). */
  let stopHandshakeWatch: (() => void) | undefined;
  /** The pollers started (stop() stops these). */
  const started: Poller[] = [];
  const app = createApp({
    spool,
    ingest,
    logger: log,
    metrics,
    server,
    isShuttingDown: () => shuttingDown,
    keepRaw: cfg.spool.keep_raw,
    components: () => {
      const out: Record<string, { state: string; [k: string]: unknown }> = {};
      for (const [name, h] of Object.entries(sinks.health())) out[`sink:${name}`] = { ...h };
      // A sink turned off still holds its backlog in the spool (counted in spool.max_bytes): show it, or a spool
      // filling up for it (and the 503s that follow) has no visible cause.
      for (const consumer of held) {
        const d = spool.isClosed ? { records: 0, oldestAgeMs: 0 } : spool.depth(consumer);
        out[consumer] = { state: 'disabled', backlog: d.records, oldest_age_s: Math.round(d.oldestAgeMs / 1000) };
      }
      if (rules) out.rules = { ...rules.health(), backlog: spool.isClosed ? 0 : spool.depth(RULES_CONSUMER).records };
      for (const p of pollers) out[`poller:${p.name}`] = p.health?.() ?? { state: 'healthy' };
      return out;
    },
  });

  try {
    mountConnectors();
  } catch (err) {
    // A connector that cannot start (a file its config names went missing…): end what started, then report.
    await sinks.stop();
    spool.close();
    claim.release();
    throw err instanceof MltrailError ? err : new MltrailError('STARTUP', `a connector could not start: ${(err as Error).message}`);
  }

  function mountConnectors(): void {
    for (const plugin of connectorPlugins) {
      const deps: ConnectorDeps<unknown> = {
        config: (cfg.connectors as Record<string, unknown>)[plugin.name] ?? plugin.configSchema.parse({}),
        ingest,
        spool,
        logger: log.child({ connector: plugin.name }),
        metrics,
        server,
        dataDir,
        keepRaw: cfg.spool.keep_raw,
        env,
      };
      plugin.routes?.(app, deps);
      pollers.push(...(plugin.pollers?.(deps) ?? []));
    }
    for (const mount of extraRoutes) {
      mount(app, { config: cfg.rules, ingest, spool, logger: log, metrics, server, dataDir, keepRaw: cfg.spool.keep_raw, env });
    }
  }

  const consumers = [RULES_CONSUMER, ...sinkEntries.map((s) => sinkConsumer(s.name))];
  // A sink turned off (`enabled: false`) keeps its place: what it has not delivered stays in the spool
  // (within spool.max_bytes) until it is turned on again. A sink no longer in the config has no claim: say
  // what it leaves behind.
  const known = new Set(cfg.sinks.map((s) => sinkConsumer(s.name)));
  // Every running sink has its cursor row from its first start: one that never delivered anything (a wrong
  // URL or token from day one) and is then turned off or removed is held or named like any other — with no
  // row it was neither, and its whole backlog was pruned without a word.
  const withRow = new Set(spool.cursors().map((c) => c.consumer));
  const rowless = consumers.filter((c) => c.startsWith('sink:') && !withRow.has(c));
  if (rowless.length) spool.transaction(() => rowless.forEach((c) => spool.commitCursor(c, spool.cursor(c))));
  const oldestSeq = spool.oldestSeq() ?? Number.POSITIVE_INFINITY;
  for (const { consumer, seq } of spool.cursors()) {
    if (!consumer.startsWith('sink:') || consumers.includes(consumer)) continue;
    const backlog = spool.depth(consumer).records;
    if (known.has(consumer)) {
      held.add(consumer);
      if (backlog) log.warn({ sink: consumer.slice(5), backlog, code: 'MLTRAIL_ERR_NOT_CONFIGURED' }, 'sink is disabled: its undelivered records are kept for it (they count toward spool.max_bytes) until it is enabled again');
    } else if (backlog && seq + 1 >= oldestSeq) {
      // Named once: after this start prunes past its cursor, what the spool holds later was never kept for it
      // (its row stays, so a sink added back under the name resumes from there), and naming it again at every
      // start, with whatever the other consumers have not done yet as its "backlog", misled.
      log.warn({ sink: consumer.slice(5), backlog, cursor: seq, code: 'MLTRAIL_ERR_NOT_CONFIGURED' }, 'a sink with undelivered records is no longer configured: they are no longer kept for it');
    }
  }
  const pruneFor = [...consumers, ...held];
  // Dead letters belong to a sink by name: those of a sink renamed or removed have no runner to re-send them
  // (`mltrail dlq retry` marks them and nothing picks them up), yet they count toward spool.max_bytes. Say so.
  for (const d of spool.deadLetterCounts()) {
    if (known.has(sinkConsumer(d.sink))) continue;
    log.warn(
      { sink: d.sink, dead_letters: d.n, marked_for_retry: d.marked, code: 'MLTRAIL_ERR_NOT_CONFIGURED' },
      `dead letters of a sink that is no longer configured: nothing re-sends them (they count toward spool.max_bytes); see mltrail dlq list --sink ${d.sink}, then hand them to a configured sink (mltrail dlq retry --sink ${d.sink} --to NAME) or delete them (mltrail dlq purge --sink ${d.sink})`,
    );
  }

  let httpServer: ServerType;
  try {
    httpServer = await new Promise((resolveListen, reject) => {
      // requireHostHeader off: Node would answer a Host-less request with an empty 400; the app answers it in JSON.
      const listen = { fetch: app.fetch, hostname: cfg.server.host, port: cfg.server.port };
      const s = tls
        ? serve({ ...listen, createServer: createHttpsServer, serverOptions: { ...tls.serverOptions, requireHostHeader: false } }, () => resolveListen(s))
        : serve({ ...listen, serverOptions: { requireHostHeader: false } }, () => resolveListen(s));
      // Requests Node's parser refuses (oversized headers, a malformed request line) get a JSON error too.
      s.on('clientError', clientErrorHandler());
      // Failed TLS handshakes never reach the app: counted and logged here.
      if (tls) stopHandshakeWatch = watchHandshakeFailures(s as Server, { log, metrics, handshakeTimeoutMs: cfg.server.tls?.handshake_timeout_ms });
      s.once('error', reject);
    });
  } catch (err) {
    // Nothing was started yet but the sinks' thread, which is not delivering: end it, close and report.
    await sinks.stop();
    spool.close();
    claim.release();
    throw listenError(err as NodeJS.ErrnoException, cfg.server.host, cfg.server.port);
  }
  // Consumers start once the server listens; anything spooled before (a previous run's backlog) waits for them.
  // The WAL checkpoints go to the sink thread when there is one (it mostly waits on the network), else to the rules'.
  rules = startRules({ spool, dir: dataDir, config: cfg.rules, log, metrics, thread: cfg.pipeline.rules_thread, logLevel: cfg.log.level, checkpoints: sinks.mode !== 'worker' });
  sinks.start();
  const address = httpServer.address();
  const port = typeof address === 'object' && address ? address.port : cfg.server.port;
  const hostForUrl = cfg.server.host.includes(':') && !cfg.server.host.startsWith('[') ? `[${cfg.server.host}]` : cfg.server.host;
  const url = `${tls ? 'https' : 'http'}://${hostForUrl}:${port}`;

  // Pruning goes in short slices, one per event-loop turn: a whole second's worth at once held the
  // loop (and the write lock) for several milliseconds under load.
  let pruning = false;
  // A spool that fails under housekeeping (disk full, file damaged) must not take the bridge down: the failure
  // shows on /readyz and in the log (once a minute), and input is answered 503 until the spool works again.
  let lastHousekeepingError = 0;
  const housekeepingFailed = (err: unknown) => {
    pruning = false;
    const e = spool.noteFailure(err);
    if (Date.now() - lastHousekeepingError < 60_000) return;
    lastHousekeepingError = Date.now();
    log.error({ err: e instanceof MltrailError ? { code: e.code, message: e.message } : err, code: e instanceof MltrailError ? e.code : 'MLTRAIL_ERR_INTERNAL' }, 'spool housekeeping failed; retrying every second');
  };
  /** Rows one pruning slice deletes at most (per table): one event-loop turn's worth. */
  const PRUNE_SLICE_ROWS = 256;
  /** Rule-state keys one slice looks at (an index range scan; most are kept). */
  const STATE_SLICE_KEYS = 2000;
  // What a housekeeping run deleted past its retention (quarantined input, dead letters, rule statistics), told in
  // one info line per run: nothing kept is deleted silently.
  const expired = { quarantine: 0, deadLetters: 0, ruleStats: 0, ruleState: 0 };
  // Rule statistics expire by the day: looked at once a day (and at start), until a run finds no more.
  let statsDoneFor: string | undefined;
  // Rule state unused past rules.state_retention_days: one pass over its keys a day (and at start), in slices.
  let stateDoneFor: string | undefined;
  let stateAt: StateExpiryCursor | undefined;
  const pruneSlices = () => {
    if (spool.isClosed || shuttingDown) return void (pruning = false);
    try {
      const step = spool.pruneStep(pruneFor, PRUNE_SLICE_ROWS);
      expired.quarantine += step.quarantineExpired;
      expired.deadLetters += step.deadLettersExpired;
      const now = Date.now();
      const statsDay = statsCutoffDay(now, cfg.rules.stats_retention_days);
      let statsMore = false;
      if (statsDoneFor !== statsDay) {
        const n = expireRuleStats(spool.state, now, cfg.rules.stats_retention_days, PRUNE_SLICE_ROWS);
        expired.ruleStats += n;
        statsMore = n >= PRUNE_SLICE_ROWS;
        if (!statsMore) statsDoneFor = statsDay;
      }
      const today = new Date(now).toISOString().slice(0, 10);
      let stateMore = false;
      if (stateDoneFor !== today && cfg.rules.state_retention_days > 0) {
        const r = expireRuleState(spool.state, now, cfg.rules.state_retention_days, stateAt ?? { ns: 0, after: '' }, STATE_SLICE_KEYS);
        expired.ruleState += r.deleted;
        stateAt = r.next;
        stateMore = !!r.next;
        if (!stateMore) stateDoneFor = today;
      }
      if (step.more || statsMore || stateMore) return void setImmediate(pruneSlices);
      pruning = false;
      logExpired();
    } catch (err) {
      housekeepingFailed(err);
    }
  };
  const logExpired = () => {
    if (!expired.quarantine && !expired.deadLetters && !expired.ruleStats && !expired.ruleState) return;
    const fields: Record<string, unknown> = {};
    if (expired.quarantine) Object.assign(fields, { quarantine_expired: expired.quarantine, quarantine_retention_days: cfg.spool.quarantine_retention_days });
    if (expired.deadLetters) {
      // By last refusal, as expiry goes (a dead letter added long ago and refused again by a `dlq retry` is kept by
      // that refusal): read by when it was added, the figure looked older than the retention allows.
      const oldest = spool.oldestDeadLetterRefusalAt();
      const added = spool.oldestDeadLetterAt();
      Object.assign(fields, {
        dead_letters_expired: expired.deadLetters, dead_letter_retention_days: cfg.spool.dead_letter_retention_days,
        dead_letters_oldest_kept: oldest === undefined ? null : new Date(oldest).toISOString(), dead_letters_oldest_added: added === undefined ? null : new Date(added).toISOString(),
      });
    }
    if (expired.ruleStats) Object.assign(fields, { rule_stats_expired: expired.ruleStats, stats_retention_days: cfg.rules.stats_retention_days });
    if (expired.ruleState) Object.assign(fields, { rule_state_expired: expired.ruleState, state_retention_days: cfg.rules.state_retention_days });
    log.info(fields, 'housekeeping deleted what is past its retention (spool.quarantine_retention_days, spool.dead_letter_retention_days, rules.stats_retention_days, rules.state_retention_days)');
    expired.quarantine = expired.deadLetters = expired.ruleStats = expired.ruleState = 0;
  };
  const housekeeping = setInterval(() => {
    if (!pruning) {
      pruning = true;
      pruneSlices();
    }
    try {
      housekeepingMetrics();
    } catch (err) {
      housekeepingFailed(err);
    }
  }, 1000);
  const housekeepingMetrics = () => {
    metrics.spoolBytes.set(spool.bytes);
    metrics.spoolHeldBytes.set(spool.heldBytes);
    // Every consumer that keeps records in the spool: the running ones and the sinks turned off.
    for (const c of pruneFor) {
      const d = spool.depth(c);
      metrics.spoolDepth.set({ consumer: c }, d.records);
      metrics.spoolOldestAge.set({ consumer: c }, d.oldestAgeMs / 1000);
    }
    for (const [name, h] of Object.entries(sinks.health())) {
      metrics.sinkHealthy.set({ sink: name }, h.state === 'healthy' ? 1 : h.state === 'degraded' ? 0.5 : 0);
    }
  };
  housekeeping.unref();

  let last = { received: 0, sent: 0 };
  // Per channel, the events seen up to the last summary: a channel that delivered before and nothing in this interval
  // is named in `silent_channels` (its feed may have been switched off: an EventBridge rule disabled, a subscription
  // deleted; or it is a quiet hour). Since the start of this process only: a feed already off at start is not seen.
  let lastByChannel = new Map<string, number>();
  const summary = setInterval(async () => {
    const received = await counterTotal(metrics, 'mltrail_events_received_total');
    const sent = await counterTotal(metrics, 'mltrail_sink_sent_total');
    const byChannel = await channelCounts(metrics);
    const silent = [...lastByChannel].filter(([c, n]) => n > 0 && (byChannel.get(c) ?? 0) === n).map(([c]) => c).sort();
    log.info(
      {
        received: received - last.received,
        delivered: sent - last.sent,
        spool_bytes: spool.bytes,
        backlog: Object.fromEntries(sinkEntries.map((s) => [s.name, spool.depth(sinkConsumer(s.name)).records])),
        interval_s: cfg.log.summary_interval_s,
        ...(silent.length ? { silent_channels: silent } : {}),
      },
      'summary',
    );
    last = { received, sent };
    lastByChannel = byChannel;
  }, cfg.log.summary_interval_s * 1000);
  summary.unref();

  log.info(
    {
      url,
      data_dir: dataDir,
      sinks: sinkEntries.map((s) => s.name),
      pollers: pollers.map((p) => p.name),
      rules_thread: rules.mode,
      sinks_thread: sinks.mode,
      ...(tls ? { tls: { client_ca_files: tls.clientCaFiles } } : {}),
    },
    'mltrail bridge listening',
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      shuttingDown = true;
      // One grace period for the whole stop (requests in flight, rules, sinks): an orchestrator's kill timer counts it once.
      const until = Date.now() + Math.max(0, cfg.server.shutdown_grace_ms);
      clearInterval(housekeeping);
      if (tlsWatch) clearInterval(tlsWatch);
      clearInterval(summary);
      // Stop accepting; in-flight requests finish (their events commit before they answer).
      const closed = new Promise<void>((r) => httpServer.close(() => r()));
      // Keep-alive connections go idle once their in-flight request is answered: close them as they do.
      const closeIdle = () => (httpServer as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      closeIdle();
      const idleSweep = setInterval(closeIdle, 50);
      await Promise.race([closed, sleep(Math.max(0, until - Date.now()))]);
      clearInterval(idleSweep);
      stopHandshakeWatch?.();
      await Promise.all(started.map((p) => p.stop().catch((err) => log.error({ err, poller: p.name }, 'poller stop failed'))));
      // What the rules and sinks have not done by then waits in the spool for the next start.
      // A rules commit that fails here (a full disk) must not skip the rest: the sinks still stop, the spool
      // closes and the data directory is released. The events are evaluated again from the cursor at the next start.
      await rules.stop(Math.max(0, until - Date.now())).catch((err) => log.error({ err, code: 'MLTRAIL_ERR_INTERNAL' }, 'rules could not commit at stop; they resume from their cursor at the next start'));
      await sinks.drain(Math.max(0, until - Date.now()));
      await sinks.stop();
      spool.prune(pruneFor);
      spool.close();
      claim.release();
      log.info('mltrail bridge stopped');
      log.flush?.();
    })());

  // Pollers start last: one that throws (a client its settings cannot make) stops what already runs — the server
  // listening, the rules and sinks — and the start fails, instead of a process that reports the error and stays up.
  try {
    for (const p of pollers) {
      p.start();
      started.push(p);
    }
  } catch (err) {
    await stop();
    throw err instanceof MltrailError ? err : new MltrailError('STARTUP', `a poller could not start: ${(err as Error).message}`);
  }

  let checkTlsExpiry: ((validTo: string) => void) | undefined;
  const reloadTls = tls
    ? () => {
        // New connections get the new pair and client CAs; those already open keep theirs.
        const { validTo } = tls.reload((context) => (httpServer as HttpsServer).setSecureContext(context));
        // What a SIGHUP put in use is checked for expiry as a re-read the polling made (each certificate said once).
        checkTlsExpiry?.(validTo);
        return { valid_to: validTo };
      }
    : undefined;

  if (tls && reloadTls && cfg.server.tls) checkTlsExpiry = watchTls(cfg.server.tls, reloadTls, log, (timer) => (tlsWatch = timer), tls).checkExpiry;

  return { url, port, spool, metrics, sinks, stop, log, ...(reloadTls ? { reloadTls } : {}) };
}

async function counterTotal(metrics: Metrics, name: string): Promise<number> {
  const m = await metrics.registry.getSingleMetric(name)?.get();
  return (m?.values ?? []).reduce((s, v) => s + v.value, 0);
}

/** Events that arrived per channel so far: accepted and duplicates (a duplicate still proves the feed delivers). */
async function channelCounts(metrics: Metrics): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const name of ['mltrail_events_received_total', 'mltrail_events_duplicate_total']) {
    const m = await metrics.registry.getSingleMetric(name)?.get();
    for (const v of m?.values ?? []) {
      const c = String(v.labels.channel ?? '');
      out.set(c, (out.get(c) ?? 0) + v.value);
    }
  }
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

export { sinkConsumer };

/** Why the server could not listen, in words an operator can act on. */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const why: Record<string, string> = {
    EADDRINUSE: 'the address is already in use (another process listens there: stop it, or choose another port with --port or PORT)',
    EACCES: 'permission denied (ports below 1024 need privileges: choose another port with --port or PORT)',
    EADDRNOTAVAIL: 'no interface of this machine has that address (check --host or MLTRAIL_HOST)',
    ENOTFOUND: 'the host name does not resolve (check --host or MLTRAIL_HOST)',
  };
  const reason = err.code ? why[err.code] : undefined;
  if (!reason) return err;
  return new MltrailError('STARTUP', `cannot listen on ${where}: ${err.code}: ${reason}`, { host, port, errno: err.code });
}
