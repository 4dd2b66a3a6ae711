/**
 * `npm run bench`: a generated mixed workload (fixed seed) through
 * normalize → durable spool → rules (on their worker thread, as `serve` runs
 * them) → the Splunk HEC sink (on the sink thread, which also checkpoints the
 * WAL) → a local HEC endpoint (another process on 127.0.0.1), timed until every event is evaluated and every event and alert
 * delivered; the same bytes through bare JSON.parse+JSON.stringify for a floor,
 * and HTTP ingest at 2,000 req/s from a second process (cold, then steady). The last line is one
 * JSON object with the figures.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { connectorByName } from '../../connectors/index.js';
import { sinkConsumer } from '../../core/delivery/runner.js';
import { Ingestor } from '../../core/ingest.js';
import { createLogger, silentLogger } from '../../core/log.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { RULES_CONSUMER } from '../../core/rules/processor.js';
import { startRules } from '../../core/rules/thread.js';
import { Spool } from '../../core/spool/index.js';
import { sinkFactories } from '../../bridge/sinks/index.js';
import { createSinks } from '../../bridge/sinks/thread.js';
import { spawnBridge } from '../helpers/bridge.js';
import { generateWorkload } from './workload.js';

const here = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.MLTRAIL_BENCH_EVENTS ?? 100_000);
// 100k events over one day (~1.2 events/s): a busy but ordinary ML platform; hourly rule windows close 24 times.
const DAYS = Number(process.env.MLTRAIL_BENCH_DAYS ?? 1);
const log = (s: string) => process.stderr.write(`${s}\n`);

let peakRss = 0;
const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

function startChild(script: string, args: string[] = []) {
  const proc = spawn(process.execPath, [join(here, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const firstLine = new Promise<string>((resolve) => {
    let buf = '';
    proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf.split('\n')[0]!);
    });
  });
  return { proc, firstLine };
}

async function pipeline(texts: string[], platforms: string[]): Promise<{ events: number; seconds: number; skipped: number; cpuUs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'mltrail-bench-'));
  const rx = startChild('receiver.js');
  const port = Number(await rx.firstLine);
  const spool = Spool.open({ dir, synchronous: 'FULL', maxBytes: 8 * 1024 ** 3 });
  // MLTRAIL_BENCH_LOG=warn shows the pipeline's warnings (retries, errors) on stderr.
  const benchLog = process.env.MLTRAIL_BENCH_LOG ? createLogger({ level: process.env.MLTRAIL_BENCH_LOG }) : silentLogger();
  const ingest = new Ingestor(spool, benchLog);
  // The real Splunk HEC sink (CIM mapping, gzip) against a local HEC endpoint in another process.
  const hec = sinkFactories.find((f) => f.type === 'splunk_hec')!;
  const sinkCfg = hec.configSchema.parse({
    url: `http://127.0.0.1:${port}`,
    token: 'bench-token',
    ack: { enabled: false },
    batch: { max_events: 1000, max_bytes: 1_000_000, timeout_ms: 20 },
    concurrency: 2,
  }) as Parameters<typeof hec.create>[0];
  // MLTRAIL_BENCH_SINKS_THREAD=main runs the sink on the event loop instead of its worker thread.
  const sinksThread = process.env.MLTRAIL_BENCH_SINKS_THREAD === 'main' ? 'main' : 'worker';
  const consumer = sinkConsumer('bench');
  const receivedTime = new Date().toISOString();
  const ctxFor = new Map<string, { plugin: ReturnType<typeof connectorByName>; ctx: any }>();
  for (const p of new Set(platforms)) {
    const plugin = connectorByName(p);
    ctxFor.set(p, { plugin, ctx: { channel: `bench.${p}`, receivedTime, keepRaw: true, config: plugin?.configSchema.parse({}) } });
  }

  // Sinks as `serve` runs them: on their worker thread, whose connection also checkpoints the WAL.
  const sinks = await createSinks({ spool, dir, sinks: [{ name: 'bench', type: 'splunk_hec', config: sinkCfg }], log: benchLog, env: {}, thread: sinksThread, logLevel: process.env.MLTRAIL_BENCH_LOG ?? 'silent', checkpoints: true });
  // Rules as `serve` runs them: on their worker thread with its own spool connection.
  const rules = startRules({ spool, dir, config: RulesConfig.parse({}), log: benchLog, logLevel: process.env.MLTRAIL_BENCH_LOG ?? 'silent', checkpoints: sinks.mode !== 'worker' });
  sinks.start();
  const t0 = performance.now();
  // MLTRAIL_BENCH_PROGRESS=1 prints each consumer's position every second (where a backlog builds up).
  const prog = setInterval(() => process.env.MLTRAIL_BENCH_PROGRESS === '1' && log(`  t=${((performance.now()-t0)/1000).toFixed(1)} max=${spool.maxSeq()} rules=${spool.cursor(RULES_CONSUMER)} sink=${spool.cursor(consumer)}`), 1000);
  const cpu0 = process.cpuUsage();
  let events = 0;
  let skipped = 0;
  const CHUNK = 250;
  const inflight = new Set<Promise<unknown>>();
  for (let i = 0; i < texts.length; i += CHUNK) {
    const batch: unknown[] = [];
    for (let j = i; j < Math.min(texts.length, i + CHUNK); j++) {
      const { plugin, ctx } = ctxFor.get(platforms[j]!)!;
      if (!plugin?.normalize) {
        skipped++;
        continue;
      }
      const out = plugin.normalize(JSON.parse(texts[j]!), ctx);
      batch.push(...out.events);
    }
    events += batch.length;
    const p = ingest.ingest(batch, 'bench').finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= 8) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  const ingested = (performance.now() - t0) / 1000;
  const rulesBacklog = spool.depth(RULES_CONSUMER).records;
  // Done when the rules have evaluated every event and the sink has delivered every event and alert.
  let received = 0;
  let duplicates = 0;
  for (;;) {
    const last = spool.maxSeq();
    if (spool.cursor(RULES_CONSUMER) >= last && spool.cursor(consumer) >= last && spool.maxSeq() === last) {
      [received, duplicates] = (await (await fetch(`http://127.0.0.1:${port}/count`)).text()).split(' ').map(Number) as [number, number];
      if (received >= events) break;
    }
    await sleep(10);
  }
  clearInterval(prog);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  log(`  pipeline process CPU: user ${(cpu.user / 1e6).toFixed(2)} s, system ${(cpu.system / 1e6).toFixed(2)} s (all its threads)`);
  log(
    `  ingest done at ${ingested.toFixed(2)} s (rules backlog then ${rulesBacklog}); rules done and ${events} events + ${received - events} alerts delivered at ${seconds.toFixed(2)} s (rules on ${rules.mode} thread, sink on ${sinks.mode} thread; ${duplicates} resent)`,
  );
  await sinks.stop();
  await rules.stop();
  spool.close();
  rx.proc.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  return { events, seconds, skipped, cpuUs: cpu.user + cpu.system };
}

function floor(texts: string[]): number {
  const t0 = performance.now();
  let bytes = 0;
  for (const t of texts) bytes += JSON.stringify(JSON.parse(t)).length;
  if (bytes < 0) log('unreachable');
  return (performance.now() - t0) / 1000;
}

/**
 * HTTP ingest against a real `mltrail serve` process (durable spool, default
 * file sink), loaded at 2,000 req/s by a second process for 5 s from its start
 * (the cold figure) and then 5 s more (the steady-state `p99_ms`); also reads
 * that bridge's peak RSS (VmHWM) — the memory figure that matters for deployment.
 */
async function httpIngest(): Promise<{ req_per_s: number; p99_ms: number; cold_p99_ms: number; errors: number; non2xx: number; bridge_rss_mb: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'mltrail-bench-http-'));
  // On port 0, its URL read back from its log: a port picked here (it was 21000-41000, in the kernel's ephemeral
  // range) could be another server's, which would then be the one loaded and measured.
  const bridge = await spawnBridge({ dataDir: dir, cli: join(here, '../../bridge/cli/main.js') });
  const url = bridge.url;
  // Two 5-s runs at 2,000 req/s against the same bridge: the first from a cold start (JIT, caches, the worker
  // threads' own start) is `cold_p99_ms`; the second is the steady state a long-running bridge serves, `p99_ms`.
  const cold = JSON.parse(await startChild('load.js', [url, '2000', '5']).firstLine) as { p99_ms: number; errors: number; non2xx: number };
  const result = JSON.parse(await startChild('load.js', [url, '2000', '5']).firstLine) as { req_per_s: number; p99_ms: number; errors: number; non2xx: number };
  const status = readFileSync(`/proc/${bridge.proc.pid}/status`, 'utf8');
  const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  bridge.proc.kill('SIGTERM');
  await bridge.exited;
  // Its warnings (retries, errors), as the bench printed them before; the info lines are left out.
  for (const line of bridge.stderr().split('\n')) if (/"level":(4|5|6)0/.test(line)) log(line);
  rmSync(dir, { recursive: true, force: true });
  return { ...result, errors: result.errors + cold.errors, non2xx: result.non2xx + cold.non2xx, cold_p99_ms: cold.p99_ms, bridge_rss_mb: Math.round(hwmKb / 1024) };
}

async function main(): Promise<void> {
  log(`generating ${N} native records over ${DAYS} day(s) (seed 42)…`);
  const texts: string[] = [];
  const platforms: string[] = [];
  for (const w of generateWorkload(N, 42, DAYS)) {
    texts.push(JSON.stringify(w.record));
    platforms.push(w.platform);
  }
  const mb = texts.reduce((s, t) => s + t.length, 0) / 1e6;
  log(`workload: ${N} records, ${mb.toFixed(1)} MB, mean ${Math.round((mb * 1e6) / N)} bytes`);

  const p = await pipeline(texts, platforms);
  if (p.skipped) log(`note: ${p.skipped} records had no connector to normalize them`);
  const floorS = floor(texts);
  const eventsPerS = p.events / p.seconds;
  const floorPerS = N / floorS;
  log(`pipeline: ${p.events} events in ${p.seconds.toFixed(2)} s; floor (JSON.parse+stringify): ${floorS.toFixed(3)} s`);
  // MLTRAIL_BENCH_HTTP=0 skips the HTTP part (for profiling the pipeline alone).
  const h = process.env.MLTRAIL_BENCH_HTTP === '0' ? { req_per_s: 0, p99_ms: 0, cold_p99_ms: 0, errors: 0, non2xx: 0, bridge_rss_mb: 0 } : await httpIngest();
  log(`http ingest: ${h.req_per_s} req/s, p99 ${h.p99_ms} ms (first 5 s from a cold start: ${h.cold_p99_ms} ms), ${h.errors} errors, ${h.non2xx} non-2xx`);
  clearInterval(rssTimer);
  const out = {
    events_per_s: Math.round(eventsPerS),
    floor_events_per_s: Math.round(floorPerS),
    ratio: +(eventsPerS / floorPerS).toFixed(3),
    ingest_req_per_s: h.req_per_s,
    p99_ms: h.p99_ms,
    rss_mb: h.bridge_rss_mb,
    // CPU (all threads of the pipeline process, user + system) per event: steadier than wall time on a shared machine.
    cpu_us_per_event: Math.round(p.cpuUs / p.events),
    // This process holds the whole generated workload (~110 MB of text) besides the pipeline.
    pipeline_rss_mb: Math.round(peakRss / 1024 / 1024),
    // The webhook p99 of the bridge's first 5 s under load, before the steady state `p99_ms` is measured.
    cold_p99_ms: h.cold_p99_ms,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
