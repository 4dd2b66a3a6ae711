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
 * Start `mltrail serve` in a child process on a free port and wait until
 * /readyz answers. A random port someone else holds (EADDRINUSE) is retried
 * with another one.
 */
export async function spawnBridge(opts: { dataDir: string; env?: Record<string, string>; args?: string[]; port?: number }): Promise<Child> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnOnce(opts, opts.port ?? 20000 + Math.floor(Math.random() * 12000));
    } catch (err) {
      if (opts.port !== undefined || attempt >= 5 || !/EADDRINUSE/.test((err as Error).message)) throw err;
    }
  }
}

async function spawnOnce(opts: { dataDir: string; env?: Record<string, string>; args?: string[] }, port: number): Promise<Child> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--port', String(port), ...(opts.args ?? [])], {
    env: { ...process.env, MLTRAIL_DATA_DIR: opts.dataDir, MLTRAIL_LOG_LEVEL: 'info', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  proc.stdout!.resume();
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  // By time, not tries: on a loaded machine a start (and each /readyz answer) takes longer.
  for (const end = Date.now() + 20_000; Date.now() < end; ) {
    if (proc.exitCode !== null) throw new Error(`bridge exited early: ${err}`);
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.ok) return { proc, url, stderr: () => err, exited };
    } catch {
      /* not up yet */
    }
    await sleep(100);
  }
  proc.kill('SIGKILL');
  throw new Error(`bridge did not become ready: ${err}`);
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
