/**
 * HTTP ingest load for `npm run bench`, run as a second process: autocannon
 * POSTs single normalized events (unique ids) to /v1/events at a fixed overall
 * rate and this prints `{"req_per_s","p50_ms","p99_ms","non2xx","errors"}`.
 * Usage: node load.js URL RATE SECONDS
 */
import autocannon from 'autocannon';

const [url, rateArg, secondsArg] = process.argv.slice(2);
const body = JSON.stringify({
  schema_version: '1',
  id: 'load-[<id>]',
  time: '2026-11-01T00:00:00.000Z',
  received_time: '2026-11-01T00:00:00.000Z',
  platform: 'mlflow',
  channel: 'bench.load',
  stage: 'registry',
  action: 'model_version.create',
  operation: 'model_version.created',
  outcome: 'success',
  resource: { type: 'model_version', name: 'fraud-detector', version: '7' },
  ml: { model: { name: 'fraud-detector', version: '7', artifact_uri: 'models:/m-0123456789abcdef' } },
});

const result = await autocannon({
  url: `${url}/v1/events`,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body,
  idReplacement: true,
  connections: 16,
  overallRate: Number(rateArg ?? 2000),
  duration: Number(secondsArg ?? 5),
});
process.stdout.write(
  `${JSON.stringify({
    req_per_s: Math.round(result.requests.average),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  })}\n`,
);
