import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpDir } from '../../helpers/bridge.js';
import { runCli } from '../../helpers/cli.js';
import { CLI } from '../../helpers/fixtures.js';
import { waitFor } from '../../helpers/wait.js';

/** A port nothing listens on at `host` just now. */
async function freePort(host: string): Promise<number> {
  const srv = createServer();
  await new Promise<void>((res) => srv.listen(0, host, res));
  const { port } = srv.address() as { port: number };
  await new Promise((res) => srv.close(res));
  return port;
}

describe('mltrail serve flags (in process)', () => {
  it('--host, --port and --data-dir are where the bridge listens and keeps its spool, over the environment', async () => {
    const dir = join(tmpDir(), 'state');
    const envDir = join(tmpDir(), 'from-env');
    const port = await freePort('127.0.0.2');
    const envPort = await freePort('127.0.0.1');
    const before = new Set(process.listeners('SIGTERM'));
    // 127.0.0.2 is loopback (no token needed) but not the default 127.0.0.1: only a flag that is honoured binds it.
    const running = runCli(['serve', '--host', '127.0.0.2', '--port', String(port), '--data-dir', dir], {
      MLTRAIL_LOG_LEVEL: 'silent',
      MLTRAIL_DATA_DIR: envDir,
      PORT: String(envPort),
      MLTRAIL_HOST: '127.0.0.1',
    });
    let exited = false;
    void running.then(() => (exited = true));
    try {
      const res = await waitFor(async () => (exited ? Promise.reject(new Error(`serve exited: ${JSON.stringify(await running)}`)) : fetch(`http://127.0.0.2:${port}/healthz`).catch(() => undefined)), 15_000, `the bridge on 127.0.0.2:${port}`);
      expect(res.status).toBe(200);
      expect(existsSync(join(dir, 'spool.db'))).toBe(true);
      expect(existsSync(envDir)).toBe(false);
      await expect(fetch(`http://127.0.0.1:${envPort}/healthz`)).rejects.toThrow();
    } finally {
      // serve drains on SIGTERM: call its own handler (a real signal would also reach the test runner).
      for (const l of process.listeners('SIGTERM')) if (!before.has(l)) (l as (s: string) => void)('SIGTERM');
    }
    expect((await running).code).toBe(0);
  }, 30_000);

  it('a config file mistake is blamed on the file, not on the command line (serve passes its flags as a server section)', async () => {
    const file = join(tmpDir(), 'mltrail.yaml');
    writeFileSync(file, 'server:\n  prot: 8080\n');
    const typo = await runCli(['serve', '--config', file], { MLTRAIL_LOG_LEVEL: 'silent' });
    expect(typo.code).toBe(2);
    expect(typo.err).toContain(`MLTRAIL_ERR_CONFIG`);
    expect(typo.err).toContain(`\n${file}: server: unknown key(s): prot\n`);
    expect(typo.err).not.toContain('command line');
    writeFileSync(file, 'server: 8080\n');
    const section = await runCli(['serve', '--config', file], { MLTRAIL_LOG_LEVEL: 'silent' });
    expect(section.code).toBe(2);
    expect(section.err).toMatch(/server: .*expected object/);
    expect(section.err).not.toContain('command line');
    // A bad flag is still the command line's.
    writeFileSync(file, 'server:\n  port: 8080\n');
    const flag = await runCli(['serve', '--config', file, '--port', '70000'], { MLTRAIL_LOG_LEVEL: 'silent' });
    expect(flag.code).toBe(2);
    expect(flag.err).toMatch(/server\.port: .*\(from the command line\)/);
  });
});

/** `mltrail ARGS…` as a user runs it: the built CLI in a child process, with only `env` (and PATH). */
function runBuiltCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('a bad config file, as serve and check-config say it (the built CLI in a child process)', () => {
  it('both print every problem in one run, one a line, the same lines in the same order (unset ${VAR}s first, then the schema\'s); serve exits 2 after a line with the code, check-config 1', async () => {
    const dir = tmpDir();
    const file = join(dir, 'mltrail.yaml');
    writeFileSync(
      file,
      [
        `data_dir: ${join(dir, 'data')}`,
        'server:',
        '  port: 0',
        '  ingest_token: ${MLTRAIL_TEST_UNSET_TOKEN}',
        '  prot: 8080',
        'spool:',
        '  max_bytes: lots',
        'connectors:',
        '  kubeflow:',
        '    mlflow_server: nowhere',
        '',
      ].join('\n'),
    );
    const env = { MLTRAIL_LOG_LEVEL: 'silent' };
    const expected = [
      `${file}: server.ingest_token: environment variable MLTRAIL_TEST_UNSET_TOKEN is not set (or empty); set it, or give a default: \${MLTRAIL_TEST_UNSET_TOKEN:-value}`,
      `${file}: server: unknown key(s): prot`,
      `${file}: spool.max_bytes: Invalid input: expected number, received string`,
      // A cross-check of the whole file, said although other keys failed.
      `${file}: connectors.kubeflow.mlflow_server: names no MLflow server of connectors.mlflow.servers (none configured); the default server needs no setting`,
    ];
    const check = await runBuiltCli(['check-config', file], env);
    // The same lines, after a line with the error code (what a log alert matches), as serve says them.
    expect(check.err.split('\n').slice(0, -1)).toEqual([`mltrail check-config: MLTRAIL_ERR_CONFIG: invalid, 4 problems in the configuration:`, ...expected]);
    expect(check.code).toBe(1);
    const serve = await runBuiltCli(['serve', '--config', file], env);
    expect(serve.err.split('\n').slice(0, -1)).toEqual([`mltrail serve: MLTRAIL_ERR_CONFIG: not started, 4 problems in the configuration:`, ...expected]);
    expect(serve.code).toBe(2);
    expect(existsSync(join(dir, 'data'))).toBe(false);
    // MLTRAIL_CONFIG names the file for both when no flag does.
    const viaEnv = await runBuiltCli(['serve'], { ...env, MLTRAIL_CONFIG: file });
    expect(viaEnv.err.split('\n').slice(1, -1)).toEqual(expected);
    expect(viaEnv.code).toBe(2);
  }, 30_000);

  it('a problem found once the file is loaded (no ingest token on a non-loopback address) is said as check-config says a problem: code line, then the file and the problem, exit 2', async () => {
    const dir = tmpDir();
    const file = join(dir, 'mltrail.yaml');
    writeFileSync(file, [`data_dir: ${join(dir, 'data')}`, 'server:', '  host: 0.0.0.0', '  port: 0', ''].join('\n'));
    const serve = await runBuiltCli(['serve', '--config', file], { MLTRAIL_LOG_LEVEL: 'silent' });
    const lines = serve.err.split('\n').slice(0, -1);
    expect(lines).toEqual([`mltrail serve: MLTRAIL_ERR_CONFIG: not started, 1 problem in the configuration:`, expect.stringMatching(/^.*mltrail\.yaml: refusing to listen on 0\.0\.0\.0 without an ingest token/)]);
    expect(lines[1]!.startsWith(`${file}: `)).toBe(true);
    expect(serve.code).toBe(2);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  }, 30_000);
});
