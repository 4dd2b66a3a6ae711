import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleEvent, tmpDir } from '../../helpers/bridge.js';
import { main } from '../../../bridge/cli/main.js';
import { captureIo, runCli } from '../../helpers/cli.js';

describe('mltrail exit codes (in process)', () => {
  it('no command at all is a usage error (exit 2, the help on stdout); asking for help is not (exit 0)', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.out).toContain('Usage: mltrail <command>');
    for (const h of ['--help', '-h', 'help']) expect((await runCli([h])).code).toBe(0);
  });

  it('replay exits 1 when some records were rejected (reported as FILE:N), still replaying the rest', async () => {
    const dir = tmpDir();
    const good = sampleEvent({ time: '2026-01-01T00:00:00Z' });
    const file = join(dir, 'mixed.ndjson');
    writeFileSync(file, `${JSON.stringify(good)}\n{"broken\n`);
    const r = await runCli(['replay', '--platform', 'core', file]);
    expect(r.err).toContain(`${file}:2: not JSON`);
    expect(r.err).toContain('replay: 1 events (0 duplicates)');
    expect(r.code).toBe(1);
    // All good: exit 0.
    writeFileSync(file, `${JSON.stringify(good)}\n`);
    expect((await runCli(['replay', '--platform', 'core', file])).code).toBe(0);
  });

  it('replay with no FILE is a usage error (exit 2) with its usage, not an empty successful run', async () => {
    const r = await runCli(['replay', '--platform', 'core']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('MLTRAIL_ERR_USAGE: replay needs at least one FILE');
    expect(r.err).toContain('mltrail replay [--config FILE]');
    expect(r.err).not.toContain('replay: 0 events');
  });

  it('replay --help names - (standard input), which its usage error offers and replay reads', async () => {
    expect((await runCli(['replay', '--help'])).out).toMatch(/FILE\|DIR\|-\.\.\./);
    const cap = captureIo();
    cap.io.stdin.end(`${JSON.stringify(sampleEvent())}\n`);
    expect(await main(['replay', '--platform', 'core', '-'], cap.io)).toBe(0);
    expect(cap.stderr()).toContain('replay: 1 events');
  });
});
