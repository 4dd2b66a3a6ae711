/**
 * A poller whose start() throws (a client its settings cannot make) fails the bridge's start cleanly: what already
 * ran — the listening server, the rules, the sinks, the pollers started before it — is stopped and the data
 * directory released, so `mltrail serve` exits with the error instead of reporting it and staying up.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../../bridge/config.js';
import { startBridge } from '../../bridge/runtime.js';
import { connectorPlugins } from '../../connectors/index.js';
import type { ConnectorPlugin, Poller } from '../../core/connector.js';
import { silentLogger } from '../../core/log.js';
import { tmpDir } from '../helpers/bridge.js';

const calls: string[] = [];
const poller = (name: string, fail: boolean): Poller => ({
  name,
  start: () => {
    calls.push(`start ${name}`);
    if (fail) throw new Error(`${name}: cannot make its client`);
  },
  stop: async () => void calls.push(`stop ${name}`),
});
/** A connector with two pollers, the second failing to start. */
const failing: ConnectorPlugin<unknown> = {
  name: 'failing', platform: 'custom', description: 'test connector', configSchema: z.unknown(),
  pollers: () => [poller('first', false), poller('second', true)],
};

afterEach(() => {
  const i = connectorPlugins.indexOf(failing);
  if (i >= 0) connectorPlugins.splice(i, 1);
  calls.length = 0;
});

/** Whether something accepts connections on 127.0.0.1:`port`. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

describe('a poller that cannot start', () => {
  it('fails the start with MLTRAIL_ERR_STARTUP, stops what started and releases the data directory', async () => {
    const dataDir = tmpDir();
    const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: dataDir }, overrides: { server: { port: 0 } } });
    // A free port to bind, known beforehand: the failed start must leave it closed.
    const probe = await startBridge(cfg, { logger: silentLogger(), env: {} });
    const port = probe.port;
    await probe.stop();
    connectorPlugins.push(failing);
    const fixed = { ...cfg, server: { ...cfg.server, port } };
    await expect(startBridge(fixed, { logger: silentLogger(), env: {} })).rejects.toMatchObject({ code: 'MLTRAIL_ERR_STARTUP', message: expect.stringContaining('second: cannot make its client') });
    expect(calls).toEqual(['start first', 'start second', 'stop first']);
    expect(await listening(port)).toBe(false);
    // The data directory is free again: a fixed config starts.
    connectorPlugins.splice(connectorPlugins.indexOf(failing), 1);
    const again = await startBridge(cfg, { logger: silentLogger(), env: {} });
    await again.stop();
  });
});
