/**
 * HTTP load generator for `npm run bench`, run as a second process: sends
 * single-event POSTs to /v1/events at a fixed open-loop rate and prints
 * `{"sent","ok","errors","req_per_s","p50_ms","p99_ms"}`.
 * Usage: node load.js URL RATE SECONDS
 */
import { Pool } from 'undici';

async function main(): Promise<void> {
  const [url, rateArg, secondsArg] = process.argv.slice(2);
  const rate = Number(rateArg ?? 2000);
  const seconds = Number(secondsArg ?? 5);
  const target = new URL(url!);
  const pool = new Pool(target.origin, { connections: 64, pipelining: 1 });
  const latencies: number[] = [];
  let ok = 0;
  let errors = 0;
  let n = 0;
  const total = rate * seconds;
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  const one = async (i: number) => {
    const body = JSON.stringify({
      schema_version: '1',
      id: `load-${process.pid}-${i}`,
      time: new Date().toISOString(),
      received_time: new Date().toISOString(),
      platform: 'mlflow',
      channel: 'bench.load',
      stage: 'registry',
      action: 'model_version.create',
      operation: 'model_version.created',
      outcome: 'success',
      resource: { type: 'model_version', name: 'fraud-detector', version: String(i % 50) },
      ml: { model: { name: 'fraud-detector', version: String(i % 50), artifact_uri: `models:/m-${i}` } },
    });
    const t0 = performance.now();
    try {
      const res = await pool.request({ path: '/v1/events', method: 'POST', body, headers: { 'content-type': 'application/json' } });
      await res.body.text();
      if (res.statusCode === 200) ok++;
      else errors++;
    } catch {
      errors++;
    }
    latencies.push(performance.now() - t0);
  };
  // Open loop: request i is due at start + i/rate, whatever the earlier ones do.
  while (n < total) {
    const due = start + (n * 1000) / rate;
    const now = performance.now();
    if (due > now) await new Promise((r) => setTimeout(r, Math.max(0, due - now)));
    const burstEnd = start + ((performance.now() - start) * rate) / 1000;
    while (n < total && n <= burstEnd) inflight.push(one(n++));
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  await pool.close();
  process.stdout.write(
    `${JSON.stringify({ sent: n, ok, errors, req_per_s: Math.round(ok / elapsed), p50_ms: +q(0.5).toFixed(2), p99_ms: +q(0.99).toFixed(2) })}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
