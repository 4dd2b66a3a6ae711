import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { spawnBridge, tmpDir, type Child } from './bridge.js';

/** Listen on the first free port from `from` (a decoy another process might hold), answering 200 to every request. */
async function decoyFrom(from: number): Promise<{ server: Server; port: number }> {
  for (let port = from; ; port++) {
    const server = createServer((_, res) => res.end('{"decoy":true}'));
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) return { server, port };
  }
}

describe('spawnBridge', () => {
  let child: Child | undefined;
  let decoy: Server | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    child?.proc.kill('SIGTERM');
    await child?.exited;
    decoy?.close();
  });

  it('answers with the URL of the bridge it started, also when another server listens where a port would be picked', async () => {
    // The decoy sits on the port a random pick in 20000-32000 would land on; it answers /readyz 200 at once.
    const d = await decoyFrom(20000 + 6000);
    decoy = d.server;
    vi.spyOn(Math, 'random').mockReturnValue((d.port - 20000 + 0.5) / 12000);
    child = await spawnBridge({ dataDir: tmpDir() });
    expect(new URL(child.url).port).not.toBe(String(d.port));
    const ready = (await (await fetch(`${child.url}/readyz`)).json()) as Record<string, unknown>;
    expect(ready).toHaveProperty('components');
  });
});
