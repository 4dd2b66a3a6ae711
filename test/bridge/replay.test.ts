import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EventSorter, Replayer, replayEvents, type ReplayItem } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { Spool } from '../../core/spool/index.js';
import { sampleEvent, tmpDir } from '../helpers/bridge.js';

const rules = { rules: RulesConfig.parse({}) };
const ev = (over: Record<string, unknown>) => sampleEvent(over) as unknown as NormalizedEvent;

describe('replay on disk', () => {
  it('EventSorter yields events oldest first across adds, ties in input order, in chunks of the asked size', () => {
    const dir = tmpDir();
    const sorter = new EventSorter(dir);
    const late = ev({ time: '2026-03-01T00:00:00Z' });
    const tieA = ev({ time: '2026-02-01T00:00:00Z' });
    const early = ev({ time: '2026-01-01T00:00:00.000Z' });
    const tieB = ev({ time: '2026-02-01T00:00:00.000Z' }); // same instant, written differently
    sorter.add([late, tieA]);
    sorter.add([early, tieB]);
    expect(sorter.size).toBe(4);
    const chunks = [...sorter.chunks(3)];
    sorter.close();
    expect(chunks.map((c) => c.length)).toEqual([3, 1]);
    const flat = chunks.flat();
    expect(flat.map((x) => x.id)).toEqual([early.id, tieA.id, tieB.id, late.id]);
    expect(flat[0]).toEqual({ id: early.id, time: early.time, body: JSON.stringify(early) });
  });

  it('orders times past the millisecond by their digits, on disk and in memory', () => {
    const later = ev({ time: '2026-02-01T10:00:00.0009Z' });
    const earlier = ev({ time: '2026-02-01T10:00:00.0001Z' });
    const sorter = new EventSorter(tmpDir());
    sorter.add([later, earlier]);
    const onDisk = [...sorter.chunks(10)].flat().map((x) => x.id);
    sorter.close();
    expect(onDisk).toEqual([earlier.id, later.id]);
    // replayEvents sorts in memory: the rule that fires on both sees the earlier one first.
    const job = (e: NormalizedEvent) => ({ ...e, stage: 'training', action: 'training_job.create', resource: { type: 'training_job', name: 'j' }, ml: { job: { name: 'j', image: 'python:3.11', network_isolation: true } } }) as NormalizedEvent;
    const [first] = replayEvents([job(later), job(earlier)], rules).alerts.filter((a) => a.rule_id === 'training.unverified_dependency');
    expect(first!.evidence).toEqual([earlier.id]);
  });

  it('Replayer prunes what the rules evaluated (memory stays flat), keeps dedup across chunks, and matches replayEvents', () => {
    const dir = join(tmpDir(), 'spool');
    // Training jobs from an unverified image (alerts), one sent twice (dedup).
    const base = Array.from({ length: 30 }, (_, i) =>
      ev({
        time: new Date(Date.UTC(2026, 0, 3, 2, i)).toISOString(),
        stage: 'training',
        action: 'training_job.create',
        actor: { id: `u${i % 3}`, type: 'user' },
        // An image not pinned by digest, from an unlisted registry: training.unverified_dependency fires.
        ml: { job: { name: `job-${i}`, image: `registry.example.com/train:v${i}` } },
      }),
    );
    const input = [...base, base[4]!];
    const expected = replayEvents(input, rules);

    const alerts: Alert[] = [];
    const kept: ReplayItem[] = [];
    const r = new Replayer(rules, { dir, onAlerts: (a) => alerts.push(...a), onEvent: (e) => kept.push(e) });
    const items = base.map((e) => ({ id: e.id, time: e.time, body: JSON.stringify(e) }));
    r.push(items.slice(0, 10));
    // Events the rules evaluated are gone from the spool already (their ids still dedup); only the alerts
    // just raised remain, until the rules' cursor passes them with the next chunk.
    const peek = Spool.open({ dir });
    const left = peek.read('nobody', 100, 0);
    expect(alerts.length).toBeGreaterThan(0);
    expect(left.map((x) => x.kind)).toEqual(alerts.map(() => 'alert'));
    peek.close();
    r.push([...items.slice(10), items[4]!]);
    r.finish();
    expect(r.duplicates).toBe(1);
    expect(r.accepted).toBe(30);
    expect(kept.map((k) => k.id)).toEqual(expected.events.map((e) => e.id));
    expect(alerts.map((a) => a.id)).toEqual(expected.alerts.map((a) => a.id));
    expect(alerts.length).toBeGreaterThan(0);
  });

  it('the replay command leaves no temporary files behind', async () => {
    const before = new Set(readdirSync(tmpDirParent()));
    const { replayCommand } = await import('../../bridge/cli/normalize.js');
    const dir = tmpDir();
    const file = join(dir, 'events.ndjson');
    const { writeFileSync } = await import('node:fs');
    // An alerting event, so the alert is written to stdout while the run is in progress.
    writeFileSync(file, `${JSON.stringify(sampleEvent({ ml: { job: { name: 'j', image: 'registry.example.com/train:v1' } } }))}\n`);
    let err = '';
    // Writables call a write's callback once it is taken (replay waits for standard output before its summary).
    const io = { stdout: { write: (_s: string, cb?: () => void) => (cb?.(), true) }, stderr: { write: (s: string) => ((err += s), true) }, stdin: process.stdin, env: {} };
    // While it runs, the sorter and the spool live in a mltrail-replay-* directory of the system's temp dir.
    let during: string[] = [];
    const io2 = { ...io, stdout: { write: (s: string, cb?: () => void) => (s && (during = readdirSync(tmpDirParent()).filter((n) => n.startsWith('mltrail-replay-') && !before.has(n))), cb?.(), true) } };
    const code = await replayCommand(['--platform', 'core', file], io2 as never);
    expect(during.length).toBe(1);
    expect(code).toBe(0);
    expect(err).toContain('replay: 1 events (0 duplicates)');
    const left = readdirSync(tmpDirParent()).filter((n) => n.startsWith('mltrail-replay-') && !before.has(n));
    expect(left).toEqual([]);
    expect(existsSync(file)).toBe(true);
  });

  // Standard output reports a write taken at once (a microtask later) or from an I/O callback (a pipe or file that
  // was written): resumed from an I/O callback, a single setImmediate would still run before the loop polls signals.
  it.each(['at once', 'from an I/O callback'])('a signal arriving in the last, synchronous steps is still honoured: exit 143 with the temp dir gone, before any summary (write taken %s)', async (how) => {
    const { replayCommand } = await import('../../bridge/cli/normalize.js');
    const { mkdirSync, writeFileSync, stat } = await import('node:fs');
    const dir = tmpDir();
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, `${JSON.stringify(sampleEvent())}\n`);
    // A temp dir of this run's own (os.tmpdir() reads TMPDIR), so other replays on the machine do not count.
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    const runDirs = () => readdirSync(tmp).filter((n) => n.startsWith('mltrail-replay-'));
    const seen: string[] = [];
    // The handler exits: recorded here instead, so the test process survives it.
    const exit = vi.spyOn(process, 'exit').mockImplementation(((code?: number) => void seen.push(`exit ${code} dirs=${runDirs().length}`)) as never);
    // The last step before the summary waits for standard output to take what was written: SIGTERM arrives right
    // there, and the wait ends without the event loop polling again unless the replay gives it a real turn.
    const stdout = {
      write: (s: string, cb?: () => void) => {
        if (s !== '') return (cb?.(), true);
        const signal = () => {
          // Without a handler installed the signal would kill the test process: record that instead.
          if (process.listenerCount('SIGTERM') > 0) process.kill(process.pid, 'SIGTERM');
          else seen.push('no SIGTERM handler');
          cb?.();
        };
        if (how === 'at once') signal();
        else stat(file, signal);
        return true;
      },
    };
    const stderr = { write: (s: string) => (seen.push(s.trim()), true) };
    const tmpEnv = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      await replayCommand(['--platform', 'core', file], { stdout, stderr, stdin: process.stdin, env: {} } as never);
    } finally {
      exit.mockRestore();
      if (tmpEnv === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpEnv;
    }
    // With process.exit mocked the command carries on to its summary: what counts is that the exit came first.
    expect(seen[0]).toBe('exit 143 dirs=0');
    expect(process.listenerCount('SIGTERM')).toBe(0);
  });

  it('an --alerts or --events path that cannot be written is a usage error (exit 2) naming it, before any work and with no temporary files left', async () => {
    const { runCli } = await import('../helpers/cli.js');
    const { writeFileSync } = await import('node:fs');
    const dir = tmpDir();
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, `${JSON.stringify(sampleEvent())}\n`);
    const before = new Set(readdirSync(tmpDirParent()));
    const missing = await runCli(['replay', '--platform', 'core', '--alerts', join(dir, 'no', 'such', 'a.ndjson'), file]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/MLTRAIL_ERR_USAGE: --alerts .*a\.ndjson: cannot write: ENOENT/);
    const isDir = await runCli(['replay', '--platform', 'core', '--events', dir, file]);
    expect(isDir.code).toBe(2);
    expect(isDir.err).toMatch(/--events .*: cannot write: EISDIR/);
    expect(readdirSync(tmpDirParent()).filter((n) => n.startsWith('mltrail-replay-') && !before.has(n))).toEqual([]);
  });

  it('an output that fills up (disk full) is an OUTPUT error, exit 2, naming it, and the temp dir is removed', async () => {
    const { runCli } = await import('../helpers/cli.js');
    const { writeFileSync, existsSync: exists } = await import('node:fs');
    if (!exists('/dev/full')) return; // Linux: writes to /dev/full fail with ENOSPC
    const file = join(tmpDir(), 'events.ndjson');
    // Alerting events (an unpinned image), so both outputs get lines.
    writeFileSync(file, Array.from({ length: 50 }, (_, i) => JSON.stringify(sampleEvent({ id: `full-${i}`, ml: { job: { name: `j${i}`, image: 'registry.example.com/train:v1' } } }))).join('\n'));
    const before = new Set(readdirSync(tmpDirParent()));
    for (const flag of ['--alerts', '--events']) {
      const r = await runCli(['replay', '--platform', 'core', flag, '/dev/full', file]);
      expect(r.err).toMatch(/MLTRAIL_ERR_OUTPUT: \/dev\/full: writing failed: ENOSPC/);
      expect(r.code).toBe(2);
    }
    expect(readdirSync(tmpDirParent()).filter((n) => n.startsWith('mltrail-replay-') && !before.has(n))).toEqual([]);
  });
});

// Replay's working directories go under TMPDIR: a private one, so other processes' replays on this
// machine (/tmp/mltrail-replay-*) cannot look like ones this test left behind.
const privateTmp = mkdtempSync(join(tmpdir(), 'mltrail-replay-test-'));
const sharedTmp = process.env.TMPDIR;
beforeAll(() => void (process.env.TMPDIR = privateTmp));
afterAll(() => {
  if (sharedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = sharedTmp;
  rmSync(privateTmp, { recursive: true, force: true });
});

function tmpDirParent(): string {
  return privateTmp;
}
