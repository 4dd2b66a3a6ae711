import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { SinkRunner } from '../../../core/delivery/runner.js';
import { silentLogger } from '../../../core/log.js';
import { createMetrics } from '../../../core/metrics.js';
import { SinkCommonConfig, type DeliveryStatus, type Sink } from '../../../core/sink.js';
import { Spool, type SpoolRecord } from '../../../core/spool/index.js';
import { tmpDir } from '../../helpers/bridge.js';
import { NdjsonHttpSink } from '../../helpers/http-sink.js';
import { SplunkHecSink } from '../../../bridge/sinks/splunk_hec/index.js';
import { SplunkHecConfig } from '../../../bridge/sinks/splunk_hec/config.js';
import { until } from '../../helpers/wait.js';

const cfg = SinkCommonConfig.parse({ batch: { max_events: 10, timeout_ms: 0 }, concurrency: 2, retry: { initial_ms: 20, max_ms: 100 }, request_timeout_ms: 2000 });

/** A local receiver that can be down (refusing connections), answer 503, or accept. */
class Receiver {
  received: string[] = [];
  mode: 'ok' | '503' = 'ok';
  private server?: Server;
  port = 0;
  async up(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        if (this.mode === '503') {
          res.writeHead(503, { 'retry-after': '0' }).end('busy');
          return;
        }
        for (const line of body.split('\n').filter(Boolean)) this.received.push((JSON.parse(line) as { id: string }).id);
        res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', () => r()));
    this.port = (this.server!.address() as AddressInfo).port;
  }
  async down(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
    this.server?.closeAllConnections();
  }
}

async function fill(spool: Spool, n: number, prefix: string) {
  const items = Array.from({ length: n }, (_, i) => ({ kind: 'event' as const, id: `${prefix}${i}`, body: JSON.stringify({ id: `${prefix}${i}` }) }));
  await spool.append(items);
  return items.map((i) => i.id);
}

describe('SinkRunner', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('keeps everything through an outage (refused, then 503) and delivers each record once on recovery', async () => {
    const rx = new Receiver();
    await rx.up();
    await rx.down(); // outage: connection refused
    const spool = Spool.open({ dir: tmpDir() });
    cleanup.push(() => spool.close());
    const runner = new SinkRunner(spool, new NdjsonHttpSink(`http://127.0.0.1:${rx.port}/`), cfg, silentLogger());
    runner.start();
    cleanup.push(() => runner.stop());
    const ids = await fill(spool, 35, 'a');
    await sleep(300);
    expect(runner.health().state).not.toBe('healthy');
    rx.mode = '503';
    await rx.up();
    cleanup.push(() => rx.down());
    await sleep(300);
    expect(rx.received).toEqual([]);
    rx.mode = 'ok';
    await until(() => rx.received.length >= 35);
    await sleep(200);
    expect(rx.received.sort()).toEqual(ids.sort());
    await until(() => spool.depth(runner.consumer).records === 0);
    expect(spool.listDeadLetters()).toEqual([]);
  });

  it('a destination that takes the request and never answers reads degraded before the attempt times out; after recovery last_error is gone', async () => {
    let hang = true;
    const held: Array<() => void> = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => (hang ? held.push(() => res.destroy()) : res.writeHead(200).end('{}')));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => { for (const h of held) h(); server.close(() => r()); server.closeAllConnections(); }));
    const port = (server.address() as AddressInfo).port;
    const spool = Spool.open({ dir: tmpDir() });
    cleanup.push(() => spool.close());
    // request_timeout_ms 2000: an unanswered send shows after half of it, well before the attempt ends.
    const runner = new SinkRunner(spool, new NdjsonHttpSink(`http://127.0.0.1:${port}/`), cfg, silentLogger());
    runner.start();
    cleanup.push(() => runner.stop());
    await fill(spool, 3, 'h');
    expect(runner.status().state).toBe('healthy');
    await until(() => runner.status().state === 'degraded', 1900, 'degraded while the first attempt waits');
    expect(runner.status().last_error).toMatch(/^no answer for \d+ s \(request_timeout_ms 2000\)$/);
    hang = false;
    for (const h of held.splice(0)) h();
    await until(() => spool.depth(runner.consumer).records === 0, 10_000, 'delivered after recovery');
    expect(runner.status()).toMatchObject({ state: 'healthy' });
    expect(runner.status().last_error).toBeUndefined();
  });

  it('a Splunk HEC that answers at once and acknowledges indexing later (within ack.timeout_ms) is not read as never answering', async () => {
    // HEC answers each event request with an ackId at once and every ack poll at once, but reports the ack
    // indexed only after 1.6 s: past the unanswered-send threshold (1 s here), inside ack.timeout_ms (1.8 s).
    const sentAt = new Map<number, number>();
    let next = 0;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        res.setHeader('content-type', 'application/json');
        if (req.url!.startsWith('/services/collector/event')) {
          sentAt.set(next, Date.now());
          res.end(JSON.stringify({ text: 'Success', code: 0, ackId: next++ }));
        } else {
          const acks = Object.fromEntries((JSON.parse(body) as { acks: number[] }).acks.map((id) => [id, Date.now() - sentAt.get(id)! >= 1600]));
          res.end(JSON.stringify({ acks }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }));
    const port = (server.address() as AddressInfo).port;
    const spool = Spool.open({ dir: tmpDir() });
    cleanup.push(() => spool.close());
    const hecCfg = SplunkHecConfig.parse({ url: `http://127.0.0.1:${port}`, token: 't', format: 'core', batch: { timeout_ms: 0 }, request_timeout_ms: 2000, ack: { poll_interval_ms: 100, timeout_ms: 1800 } });
    const sink = new SplunkHecSink(hecCfg, { name: 'splunk_hec', logger: silentLogger(), dataDir: tmpDir(), spool, env: {} });
    const runner = new SinkRunner(spool, sink, hecCfg, silentLogger());
    runner.start();
    cleanup.push(() => runner.stop());
    const event = { schema_version: '1', id: 'ack-1', time: '2026-11-25T10:00:00Z', received_time: '2026-11-25T10:00:01Z', platform: 'custom', channel: 'demo', stage: 'training', action: 'training_job.create', operation: 'CreateTrainingJob', outcome: 'success' };
    await spool.append([{ kind: 'event', id: 'ack-1', body: JSON.stringify(event) }]);
    const states = new Set<string>();
    const t0 = Date.now();
    while (spool.depth(runner.consumer).records > 0 && Date.now() - t0 < 5000) {
      states.add(runner.status().state);
      await sleep(50);
    }
    expect(spool.depth(runner.consumer).records).toBe(0);
    expect(Date.now() - t0).toBeGreaterThan(1500); // it did wait past the threshold for the ack
    expect([...states]).toEqual(['healthy']);
    expect(runner.status().last_error).toBeUndefined();
  });

  it('resumes from its cursor after a restart without resending delivered records', async () => {
    const rx = new Receiver();
    await rx.up();
    cleanup.push(() => rx.down());
    const dir = tmpDir();
    let spool = Spool.open({ dir });
    let runner = new SinkRunner(spool, new NdjsonHttpSink(`http://127.0.0.1:${rx.port}/`), cfg, silentLogger());
    runner.start();
    const first = await fill(spool, 20, 'b');
    await until(() => rx.received.length >= 20);
    await until(() => spool.depth(runner.consumer).records === 0);
    await runner.stop();
    spool.close();
    spool = Spool.open({ dir });
    cleanup.push(() => spool.close());
    runner = new SinkRunner(spool, new NdjsonHttpSink(`http://127.0.0.1:${rx.port}/`), cfg, silentLogger());
    runner.start();
    cleanup.push(() => runner.stop());
    const second = await fill(spool, 5, 'c');
    await until(() => rx.received.length >= 25);
    await sleep(200);
    expect(rx.received.sort()).toEqual([...first, ...second].sort());
  });

  it('dead-letters permanent failures with the reason and delivers the rest; dlq retry re-sends', async () => {
    let reject = true;
    const seen: string[] = [];
    const sink: Sink = {
      name: 'picky',
      health: () => ({ state: 'healthy' }),
      async send(recs: SpoolRecord[]): Promise<DeliveryStatus[]> {
        return recs.map((r) => {
          if (r.id === 'p3' && reject) return { status: 'permanent', reason: 'mapper_parsing_exception: field [x]' };
          seen.push(r.id);
          return { status: 'ok' };
        });
      },
    };
    const spool = Spool.open({ dir: tmpDir() });
    cleanup.push(() => spool.close());
    const runner = new SinkRunner(spool, sink, cfg, silentLogger());
    runner.start();
    cleanup.push(() => runner.stop());
    await fill(spool, 6, 'p');
    await until(() => spool.listDeadLetters().length === 1 && seen.length === 5);
    expect(spool.listDeadLetters()[0]).toMatchObject({ sink: 'picky', record_id: 'p3', reason: 'mapper_parsing_exception: field [x]' });
    reject = false;
    spool.markDeadLettersForRetry({ sink: 'picky' });
    await until(() => seen.includes('p3'));
    await until(() => spool.listDeadLetters().length === 0);
  });

  it('counts what re-sends settle: dlq retry delivered → sent_total; a parked record refused for good → dead_letter once', async () => {
    const verdict = new Map<string, DeliveryStatus>([
      ['q1', { status: 'permanent', reason: 'bad record' }],
      ['q2', { status: 'parked', reason: 'index not allowed' }],
    ]);
    const sink: Sink = {
      name: 'counted',
      health: () => ({ state: 'healthy' }),
      async send(recs: SpoolRecord[]): Promise<DeliveryStatus[]> {
        return recs.map((r) => verdict.get(r.id) ?? { status: 'ok' });
      },
    };
    const metrics = createMetrics();
    const value = async (name: string, labels: Record<string, string>) =>
      (await metrics.registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
    const spool = Spool.open({ dir: tmpDir() });
    cleanup.push(() => spool.close());
    const runner = new SinkRunner(spool, sink, cfg, silentLogger(), metrics);
    runner.start();
    cleanup.push(() => runner.stop());
    await fill(spool, 4, 'q');
    await until(() => spool.depth(runner.consumer).records === 0 && spool.listDeadLetters().length === 2);
    expect(await value('mltrail_sink_sent_total', { sink: 'counted' })).toBe(2);
    expect(await value('mltrail_sink_failed_total', { sink: 'counted', kind: 'dead_letter' })).toBe(1);
    expect(await value('mltrail_sink_failed_total', { sink: 'counted', kind: 'parked' })).toBe(1);
    // The parked record is now refused for good (retryParked, every retry.max_ms): one more dead letter, counted once.
    verdict.set('q2', { status: 'permanent', reason: 'bad record' });
    await until(() => spool.listDeadLetters({ status: 'parked' }).length === 0);
    await sleep(3 * cfg.retry.max_ms);
    expect(await value('mltrail_sink_failed_total', { sink: 'counted', kind: 'dead_letter' })).toBe(2);
    // dlq retry: both delivered now, both counted as sent.
    verdict.clear();
    spool.markDeadLettersForRetry({ sink: 'counted' });
    await until(() => spool.listDeadLetters().length === 0);
    expect(await value('mltrail_sink_sent_total', { sink: 'counted' })).toBe(4);
    expect(await value('mltrail_sink_failed_total', { sink: 'counted', kind: 'parked' })).toBe(1);
  });

  it('a spool write that fails while settling re-sent dead letters (a full disk) does not end the runner: it goes on delivering', async () => {
    const seen: string[] = [];
    const sink: Sink = {
      name: 'steady',
      health: () => ({ state: 'healthy' }),
      async send(recs: SpoolRecord[]): Promise<DeliveryStatus[]> {
        seen.push(...recs.map((r) => r.id));
        return recs.map(() => ({ status: 'ok' }));
      },
    };
    const spool = Spool.open({ dir: tmpDir() });
    cleanup.push(() => spool.close());
    spool.transaction(() => spool.deadLetter('steady', { kind: 'event', id: 'd1', body: '{"id":"d1"}' }, 'HTTP 400'));
    spool.markDeadLettersForRetry({ sink: 'steady' });
    // The disk is full for the first settle: the commit fails, as SQLite's would.
    const settle = spool.settleDeadLetter.bind(spool);
    let failures = 1;
    spool.settleDeadLetter = (...args: Parameters<Spool['settleDeadLetter']>) => {
      if (failures-- > 0) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      settle(...args);
    };
    const runner = new SinkRunner(spool, sink, cfg, silentLogger());
    runner.start();
    cleanup.push(() => runner.stop());
    await until(() => seen.includes('d1'));
    const ids = await fill(spool, 5, 'n');
    await until(() => ids.every((id) => seen.includes(id)), 5000);
    await until(() => spool.listDeadLetters({ sink: 'steady' }).length === 0, 5000);
    expect(spool.depth(runner.consumer).records).toBe(0);
  });

  it('one dead sink does not hold back another', async () => {
    const rx = new Receiver();
    await rx.up();
    cleanup.push(() => rx.down());
    const spool = Spool.open({ dir: tmpDir() });
    cleanup.push(() => spool.close());
    const dead = new SinkRunner(spool, new NdjsonHttpSink('http://127.0.0.1:1/', 'dead'), cfg, silentLogger());
    const live = new SinkRunner(spool, new NdjsonHttpSink(`http://127.0.0.1:${rx.port}/`, 'live'), cfg, silentLogger());
    dead.start();
    live.start();
    cleanup.push(() => dead.stop(), () => live.stop());
    await fill(spool, 30, 'd');
    await until(() => rx.received.length >= 30);
    expect(spool.depth(dead.consumer).records).toBe(30);
    spool.prune([dead.consumer, live.consumer]);
    expect(spool.depth(dead.consumer).records).toBe(30);
  });

  /** A sink that takes what `verdict` says (ok by default) and remembers what it was sent. */
  const recordingSink = (name: string, verdict: (r: SpoolRecord) => DeliveryStatus = () => ({ status: 'ok' })) => {
    const seen: string[] = [];
    const sink: Sink = {
      name,
      health: () => ({ state: 'healthy' }),
      async send(recs: SpoolRecord[]): Promise<DeliveryStatus[]> {
        return recs.map((r) => {
          const v = verdict(r);
          if (v.status === 'ok') seen.push(r.id);
          return v;
        });
      },
    };
    return { sink, seen };
  };

  it('moves its cursor past records its route leaves out, also when they end the read (no backlog stuck behind them)', async () => {
    const spool = Spool.open({ dir: tmpDir() });
    cleanup.push(() => spool.close());
    const { sink, seen } = recordingSink('events-only');
    const runner = new SinkRunner(spool, sink, SinkCommonConfig.parse({ ...cfg, route: { kinds: ['event'] } }), silentLogger());
    runner.start();
    cleanup.push(() => runner.stop());
    const alert = (id: string) => ({ kind: 'alert' as const, id, body: JSON.stringify({ id, time: 't', rule_id: 'r', mode: 'alert', severity: 'high' }) });
    await spool.append([{ kind: 'event', id: 'e1', body: '{"id":"e1"}' }, alert('a1'), alert('a2')]);
    await until(() => spool.depth(runner.consumer).records === 0, 3000, 'the cursor past the trailing alerts');
    await spool.append([alert('a3')]);
    await until(() => spool.depth(runner.consumer).records === 0, 3000, 'the cursor past an alert-only read');
    await fill(spool, 2, 'f');
    await until(() => seen.length === 3, 3000);
    expect(seen).toEqual(['e1', 'f0', 'f1']);
  });

  it('gives the event loop a turn per read while it skips a long run of records its route leaves out', async () => {
    const spool = Spool.open({ dir: tmpDir() });
    cleanup.push(() => spool.close());
    await fill(spool, 20_000, 'e');
    const { sink, seen } = recordingSink('alerts-only');
    const runner = new SinkRunner(spool, sink, SinkCommonConfig.parse({ ...cfg, route: { kinds: ['alert'] } }), silentLogger());
    runner.start();
    cleanup.push(() => runner.stop());
    // A timer due at once must fire while the backlog is still being skipped, not after it.
    await sleep(1);
    const left = spool.depth(runner.consumer).records;
    expect(left).toBeGreaterThan(0);
    await until(() => spool.depth(runner.consumer).records === 0, 10_000, 'the cursor past the skipped events');
    expect(seen).toEqual([]);
  });

  it('re-sends only its own sink\'s dead letters and parked records, never another sink\'s', async () => {
    const spool = Spool.open({ dir: tmpDir() });
    cleanup.push(() => spool.close());
    // The other sink's letters: one marked for retry by `mltrail dlq retry`, one parked.
    spool.deadLetter('other', { kind: 'event', id: 'theirs-dead', body: '{"id":"theirs-dead"}' }, 'bad record');
    spool.markDeadLettersForRetry({ sink: 'other' });
    spool.deadLetter('other', { kind: 'event', id: 'theirs-parked', body: '{"id":"theirs-parked"}' }, 'index not allowed', 'parked');
    spool.deadLetter('mine', { kind: 'event', id: 'mine-dead', body: '{"id":"mine-dead"}' }, 'bad record');
    spool.markDeadLettersForRetry({ sink: 'mine' });
    const { sink, seen } = recordingSink('mine');
    const runner = new SinkRunner(spool, sink, cfg, silentLogger());
    runner.start();
    cleanup.push(() => runner.stop());
    await fill(spool, 1, 'm');
    await until(() => seen.includes('m0') && seen.includes('mine-dead'), 3000);
    await sleep(3 * cfg.retry.max_ms);
    expect(seen.sort()).toEqual(['m0', 'mine-dead']);
    expect(spool.listDeadLetters().map((d) => [d.sink, d.record_id, d.status])).toEqual([
      ['other', 'theirs-dead', 'retry'],
      ['other', 'theirs-parked', 'parked'],
    ]);
  });

  it('reads healthy again once deliveries succeed after an outage', async () => {
    const spool = Spool.open({ dir: tmpDir() });
    cleanup.push(() => spool.close());
    let down = true;
    const { sink } = recordingSink('flaky', () => (down ? { status: 'retryable', reason: '503 busy' } : { status: 'ok' }));
    const runner = new SinkRunner(spool, sink, cfg, silentLogger());
    runner.start();
    cleanup.push(() => runner.stop());
    await fill(spool, 3, 'h');
    await until(() => runner.status().state === 'degraded', 3000);
    down = false;
    await until(() => spool.depth(runner.consumer).records === 0, 3000);
    await fill(spool, 1, 'h2');
    await until(() => spool.depth(runner.consumer).records === 0, 3000);
    expect(runner.status().state).toBe('healthy');
  });
});
