/**
 * `node dist/test/bench/redact-audit.js`: the cost of redacting the `raw` Kubernetes audit record (redactAuditRaw)
 * and of normalizing one record with it, per record, on falco audit fixtures that hold no secret (the common case:
 * nothing is copied). Fastest of 7 runs (the least disturbed by other load); the last line is JSON.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeAuditEvent, type AuditEvent } from '../../connectors/kubeflow/audit.js';
import { redactAuditRaw } from '../../connectors/kubeflow/audit/redact.js';
import { KubeflowConfig } from '../../connectors/kubeflow/config.js';

const dir = join(process.env.MLTRAIL_FIXTURES ?? '../shared/fixtures', 'kubeflow', 'k8s-audit');
const FIXTURES = ['falco_create_nginx_pod_privileged.json', 'falco_exec_pod.json', 'falco_create_serviceaccount.json'];
const N = Number(process.env.MLTRAIL_BENCH_RECORDS ?? 200_000);
const ctx = { channel: 'bench', receivedTime: '2026-11-25T00:00:00.000Z', keepRaw: true, config: KubeflowConfig.parse({}) };

/** µs per call of `f` over N calls, the fastest of 7 runs after a warm-up. */
function perCall(f: () => unknown): number {
  for (let i = 0; i < 20_000; i++) f();
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) f();
    runs.push(Number(process.hrtime.bigint() - t) / 1000 / N);
  }
  return Math.min(...runs);
}

const out: Record<string, { redact_us: number; normalize_us: number }> = {};
for (const f of FIXTURES) {
  const ev = JSON.parse(readFileSync(join(dir, f), 'utf8')) as AuditEvent;
  if (redactAuditRaw(ev).paths.length) throw new Error(`${f} holds something redacted: not a record without secrets`);
  out[f] = { redact_us: +perCall(() => redactAuditRaw(ev)).toFixed(3), normalize_us: +perCall(() => normalizeAuditEvent(ev, ctx)).toFixed(3) };
  process.stderr.write(`${f}: redact ${out[f]!.redact_us} µs, normalize ${out[f]!.normalize_us} µs per record\n`);
}
console.log(JSON.stringify(out));
