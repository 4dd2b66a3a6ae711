import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI } from './fixtures.js';

export const tmpDir = (prefix = 'mltrail-') => mkdtempSync(join(tmpdir(), prefix));

export interface Child {
  proc: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * Start `mltrail serve` in a child process and wait until /readyz answers. Without `port` it listens on port 0 (the
 * kernel picks a free one) and the URL is read from its `mltrail bridge listening` line (stderr, level info): a
 * port picked here could be another server's, which would then answer /readyz before this bridge exited with
 * EADDRINUSE. `cli`: the CLI to run (the built one by default; the benchmark, itself built, passes its own).
 */
export async function spawnBridge(opts: { dataDir: string; env?: Record<string, string>; args?: string[]; port?: number; cli?: string }): Promise<Child> {
  const proc = spawn(process.execPath, [opts.cli ?? CLI, 'serve', '--port', String(opts.port ?? 0), ...(opts.args ?? [])], {
    env: { ...process.env, MLTRAIL_DATA_DIR: opts.dataDir, MLTRAIL_LOG_LEVEL: 'info', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let url: string | undefined;
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    url ??= listeningUrl(err);
  });
  proc.stdout!.resume();
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  // By time, not tries: on a loaded machine a start (and each /readyz answer) takes longer.
  for (const end = Date.now() + 20_000; Date.now() < end; ) {
    if (proc.exitCode !== null) throw new Error(`bridge exited early: ${err}`);
    try {
      if (url && (await fetch(`${url}/readyz`)).ok) return { proc, url, stderr: () => err, exited };
    } catch {
      /* not up yet */
    }
    await sleep(100);
  }
  proc.kill('SIGKILL');
  throw new Error(`bridge did not become ready: ${err}`);
}

/** The URL of serve's `mltrail bridge listening` log line in `log` (JSON lines), once a whole line holds it. */
function listeningUrl(log: string): string | undefined {
  for (const line of log.split('\n').slice(0, -1)) {
    if (!line.includes('mltrail bridge listening')) continue;
    try {
      const rec = JSON.parse(line) as { msg?: string; url?: string };
      if (rec.msg === 'mltrail bridge listening' && rec.url) return rec.url;
    } catch {
      /* not a log record */
    }
  }
  return undefined;
}

let n = 0;
/** A valid normalized event with a unique id. */
export function sampleEvent(over: Record<string, unknown> = {}): Record<string, unknown> {
  n++;
  return {
    schema_version: '1',
    id: `test-${process.pid}-${Date.now()}-${n}`,
    time: '2026-11-25T10:00:00.000Z',
    received_time: '2026-11-25T10:00:01.000Z',
    platform: 'custom',
    channel: 'test',
    stage: 'training',
    action: 'training_job.create',
    operation: 'CreateTrainingJob',
    outcome: 'success',
    ...over,
  };
}

/** A small MLflow-style model directory (MLmodel and a nested data file) in a fresh temporary directory. */
export function modelDir(): string {
  const dir = join(tmpDir(), 'model');
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(join(dir, 'MLmodel'), 'flavors:\n  python_function: {}\n');
  writeFileSync(join(dir, 'data', 'model.pkl'), Buffer.from([1, 2, 3, 4]));
  return dir;
}
