/**
 * What a running bridge exposes for operators: the Prometheus names and labels
 * of /metrics (dashboards and alerts are written against them) and the
 * summary log line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../bridge/config.js';
import { startBridge, type Bridge } from '../../bridge/runtime.js';
import { createLogger, silentLogger } from '../../core/log.js';
import { createMetrics } from '../../core/metrics.js';
import { sampleEvent, tmpDir } from '../helpers/bridge.js';
import { ROOT } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait.js';

const running: Bridge[] = [];
afterEach(async () => {
  for (const b of running.splice(0)) await b.stop();
});

/** The value of one sample, `name{labels}` exactly as Prometheus text shows it; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('bridge /metrics', () => {
  it('exposes spool depth and age per consumer, spool bytes, sink sent/health per sink, duplicates and request latency by route/method/status', async () => {
    const sinks = {
      file: { batch: { timeout_ms: 0 } },
      // Holds what it gets for a minute: its backlog shows in the depth gauges.
      held: { type: 'file', path: `${tmpDir()}/held`, batch: { max_events: 100000, timeout_ms: 60000 } },
      // Nothing listens on port 9: every send fails, the sink is degraded.
      soc: { type: 'splunk_hec', url: 'http://127.0.0.1:9', token: 't', ack: { enabled: false } },
    };
    const b = await startBridge(loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir() }, overrides: { server: { port: 0, shutdown_grace_ms: 200 }, sinks } }), { logger: silentLogger(), env: {} });
    running.push(b);
    const events = [sampleEvent(), sampleEvent(), sampleEvent()];
    const post = (body: unknown) => fetch(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify(body) });
    expect((await post(events)).status).toBe(200);
    expect((await post(events[0])).status).toBe(200); // a resend: a duplicate
    expect((await fetch(`${b.url}/wp-admin/scan-7f3a9c`)).status).toBe(404); // a scanner's path
    const text = await waitFor(async () => {
      const t = await (await fetch(`${b.url}/metrics`)).text();
      const held = sample(t, 'mltrail_spool_depth{consumer="sink:held"}');
      return held !== undefined && held > 0 && held === b.spool.depth('sink:held').records && sample(t, 'mltrail_sink_healthy{sink="soc"}') === 0.5 && sample(t, 'mltrail_spool_depth{consumer="sink:file"}') === 0 ? t : undefined;
    }, 5000);
    expect(sample(text, 'mltrail_events_received_total{channel="core.api"}')).toBe(3);
    expect(sample(text, 'mltrail_events_duplicate_total{channel="core.api"}')).toBe(1);
    // When the channel last delivered (unix seconds): a feed switched off shows as this growing old.
    const lastEvent = sample(text, 'mltrail_channel_last_event_timestamp_seconds{channel="core.api"}')!;
    expect(Math.abs(lastEvent - Date.now() / 1000)).toBeLessThan(60);
    expect(sample(text, 'mltrail_channel_last_event_timestamp_seconds{channel="sagemaker.eventbridge"}')).toBeUndefined();
    expect(sample(text, 'mltrail_spool_depth{consumer="rules"}')).toBe(0);
    expect(sample(text, 'mltrail_spool_depth{consumer="sink:soc"}')).toBe(b.spool.depth('sink:soc').records);
    // In seconds: the held events were posted a moment ago.
    expect(sample(text, 'mltrail_spool_oldest_age_seconds{consumer="sink:held"}')).toBeGreaterThan(0);
    expect(sample(text, 'mltrail_spool_oldest_age_seconds{consumer="sink:held"}')).toBeLessThan(60);
    expect(sample(text, 'mltrail_spool_oldest_age_seconds{consumer="sink:file"}')).toBe(0);
    expect(sample(text, 'mltrail_spool_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'mltrail_spool_held_bytes')).toBe(0);
    expect(sample(text, 'mltrail_sink_sent_total{sink="file"}')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'mltrail_sink_healthy{sink="file"}')).toBe(1);
    expect(sample(text, 'mltrail_sink_failed_total{sink="soc",kind="retry"}')).toBeGreaterThan(0);
    // The latency histogram is labelled by the route pattern (bounded cardinality), the method and the status.
    expect(sample(text, 'mltrail_http_request_duration_seconds_count{route="/v1/events",method="POST",status="200"}')).toBe(2);
    expect(text).toMatch(/^mltrail_http_request_duration_seconds_bucket\{le="0\.001",route="\/v1\/events",method="POST",status="200"\} \d+$/m);
    expect(text).toContain('# TYPE mltrail_http_request_duration_seconds histogram');
    // A path no route matched is not a label value of its own: a scanner cannot grow the series without bound.
    expect(text).not.toContain('scan-7f3a9c');
    expect(text).toMatch(/^mltrail_http_request_duration_seconds_count\{route="[^"]*",method="GET",status="404"\} 1$/m);
  });

  it('the summary line counts what was received and delivered in its own interval, not since the start', async () => {
    const logged: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void logged.push(JSON.parse(l) as Record<string, unknown>) } });
    const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir() }, overrides: { server: { port: 0 }, log: { summary_interval_s: 1 }, sinks: { file: { batch: { timeout_ms: 0 } } } } });
    const b = await startBridge(cfg, { logger, env: {} });
    running.push(b);
    expect((await fetch(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify([sampleEvent(), sampleEvent()]) })).status).toBe(200);
    const summaries = () => logged.filter((l) => l.msg === 'summary');
    await waitFor(() => (summaries().length >= 2 ? true : undefined), 4000);
    const [first, second] = summaries();
    expect(first).toMatchObject({ received: 2, interval_s: 1, backlog: { file: expect.any(Number) } });
    // A channel that delivered before and nothing since the last summary is named: its feed may have been cut.
    expect(first!.silent_channels).toBeUndefined();
    expect(second).toMatchObject({ received: 0, silent_channels: ['core.api'] });
    expect(Number(first!.delivered) + Number(second!.delivered)).toBeGreaterThanOrEqual(2);
  });
});

describe('README /metrics row', () => {
  it('names every metric of the bridge registry (the process defaults by their prefixes)', async () => {
    const row = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').find((l) => l.startsWith('| `GET /metrics` |'))!;
    const names = (await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
    const own = names.filter((n) => !/^mltrail_(process|nodejs)_/.test(n));
    expect(own.length).toBeGreaterThan(5);
    for (const n of own) expect(row, n).toMatch(new RegExp(`\`${n}[{\`]`));
    expect(row).toContain('`mltrail_process_*`');
    expect(row).toContain('`mltrail_nodejs_*`');
  });
});
