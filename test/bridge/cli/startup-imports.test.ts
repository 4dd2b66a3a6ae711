import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpDir } from '../../helpers/bridge.js';
import { CLI, ROOT, fixturePath } from '../../helpers/fixtures.js';

/**
 * Client libraries that only `serve` (a poller, a sink, a push route) or `backfill vertex` use: each took
 * tens to hundreds of milliseconds to load, and loaded at module load they made every command slow
 * (protobufjs, for the Kubeflow MLMD client and gRPC Vertex entries: ~25 ms).
 */
const HEAVY = ['@google-cloud/pubsub', '@google-cloud/logging', '@aws-sdk/client-s3', '@aws-sdk/client-sqs', '@grpc/grpc-js', 'google-auth-library', 'undici', 'prom-client', 'protobufjs'];

/**
 * A preloaded module that writes down, at exit, every file the process loaded: ES modules through a load
 * hook, CommonJS ones (the SDKs are CommonJS, `require`d from ESM or not) from the require cache.
 */
const PROBE = `
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
const out = process.env.MLTRAIL_TEST_LOADED;
register('data:text/javascript,' + encodeURIComponent(
  'import { appendFileSync } from "node:fs";' +
  'export async function load(url, context, next) { appendFileSync(' + JSON.stringify(out) + ', url + "\\\\n"); return next(url, context); }'));
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => appendFileSync(out, Object.keys(cache).join('\\n') + '\\n'));
`;

/** The README's configuration example (the first yaml block of its Configuration section). */
function readmeConfig(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Configuration\n'));
  const m = /```yaml\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('no yaml example in the README Configuration section');
  return m[1]!;
}

/** Run the built CLI with the probe; its exit code and the packages (node_modules/<name>) it loaded. */
function packagesLoadedBy(args: string[], env: Record<string, string> = {}): { code: number | null; stderr: string; packages: Set<string> } {
  const dir = tmpDir();
  const probe = join(dir, 'probe.mjs');
  const list = join(dir, 'loaded.txt');
  writeFileSync(probe, PROBE);
  writeFileSync(list, '');
  const r = spawnSync(process.execPath, ['--import', probe, CLI, ...args], {
    env: { ...process.env, ...env, MLTRAIL_TEST_LOADED: list, MLTRAIL_DATA_DIR: join(dir, 'data') },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const packages = new Set<string>();
  for (const line of readFileSync(list, 'utf8').split('\n')) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(decodeURIComponent(line));
    if (m) packages.add(m[1]!);
  }
  return { code: r.status, stderr: r.stderr, packages };
}

describe('CLI start-up loads no cloud SDK it does not use (child process, dist/)', () => {
  const cases: Array<[string, () => { args: string[]; env?: Record<string, string> }]> = [
    ['--help', () => ({ args: ['--help'] })],
    ['normalize of a CloudTrail file', () => ({ args: ['normalize', fixturePath('sagemaker', 'cloudtrail-sagemaker-createendpoint.awsdocs.json')] })],
    ['normalize of a Cloud Audit Logs entry', () => ({ args: ['normalize', fixturePath('vertex', 'otel-auditlog-activity.json')] })],
    ['schema event', () => ({ args: ['schema', 'event'] })],
    [
      "check-config of the README's example",
      () => {
        const file = join(tmpDir(), 'mltrail.yaml');
        writeFileSync(file, readmeConfig());
        return { args: ['check-config', file], env: { MLTRAIL_INGEST_TOKEN: 'token-for-the-check' } };
      },
    ],
  ];

  it.each(cases)('%s', (_name, setup) => {
    const { args, env } = setup();
    const run = packagesLoadedBy(args, env);
    expect(run.code, run.stderr).toBe(0);
    // The probe sees what the CLI does load (zod, an ES module; better-sqlite3, CommonJS): it can fail.
    expect(run.packages).toContain('zod');
    expect(run.packages).toContain('better-sqlite3');
    expect(HEAVY.filter((p) => run.packages.has(p))).toEqual([]);
  });
});
