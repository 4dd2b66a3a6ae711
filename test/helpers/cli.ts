import { PassThrough } from 'node:stream';
import { main } from '../../bridge/cli/main.js';

/** CLI streams whose output the test can read back (in-process runs of `mltrail`). */
export function captureIo(env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (d: Buffer) => out.push(d));
  stderr.on('data', (d: Buffer) => err.push(d));
  return {
    io: { stdout, stderr, stdin: new PassThrough(), env },
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
  };
}

/** Run `mltrail ARGS…` in process; exit code and both outputs. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const cap = captureIo(env);
  const code = await main(args, cap.io);
  return { code, out: cap.stdout(), err: cap.stderr() };
}
