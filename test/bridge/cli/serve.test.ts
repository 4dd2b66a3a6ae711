import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpDir } from '../../helpers/bridge.js';
import { runCli } from '../../helpers/cli.js';
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
    expect(typo.err).toContain(`MLTRAIL_ERR_CONFIG: ${file}: server: unknown key(s): prot`);
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
