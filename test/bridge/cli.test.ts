import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sampleEvent, tmpDir } from '../helpers/bridge.js';
import { CLI } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait.js';

const run = (args: string[], input?: string) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, env: { PATH: process.env.PATH } });

describe('mltrail CLI', () => {
  it('prints help listing every command, and --help on each', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    for (const c of ['serve', 'normalize', 'replay', 'check-config', 'schema', 'rules', 'dlq', 'quarantine']) expect(r.stdout).toContain(c);
    expect(run(['normalize', '--help']).stdout).toContain('--platform');
    expect(run(['nosuch']).status).toBe(2);
  });

  it('prints JSON Schema for events and alerts', () => {
    const ev = JSON.parse(run(['schema', 'event']).stdout);
    expect(ev.properties.stage.enum).toContain('registry');
    expect(ev.required).toEqual(expect.arrayContaining(['schema_version', 'id', 'time', 'platform', 'channel', 'stage', 'action', 'outcome']));
    const al = JSON.parse(run(['schema', 'alert']).stdout);
    expect(al.properties.mode.enum).toEqual(['observe', 'alert']);
    expect(run(['schema', 'bogus']).status).toBe(2);
  });

  it('normalize --platform core: prints valid events, reports FILE:N for bad records, exit 1; reads gzip and stdin', () => {
    const dir = tmpDir();
    const good = sampleEvent();
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, `${JSON.stringify(good)}\n{"broken\n${JSON.stringify({ ...sampleEvent(), outcome: 'maybe' })}\n`);
    const r = run(['normalize', '--platform', 'core', file]);
    expect(r.status).toBe(1);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l).id)).toEqual([good.id]);
    expect(r.stderr).toContain(`${file}:2: not JSON`);
    expect(r.stderr).toMatch(new RegExp(`${file}:3: outcome: Invalid option`));
    const gz = join(dir, 'events.json.gz');
    writeFileSync(gz, gzipSync(JSON.stringify([good])));
    expect(run(['normalize', '--platform', 'core', gz])).toMatchObject({ status: 0 });
    expect(JSON.parse(run(['normalize', '--platform', 'core', '-'], JSON.stringify(good)).stdout).id).toBe(good.id);
    // received_time is mltrail's to fill in when a record leaves it out.
    const { received_time: _, ...bare } = good;
    const stamped = run(['normalize', '--platform', 'core', '-'], JSON.stringify(bare));
    expect(stamped.status).toBe(0);
    expect(JSON.parse(stamped.stdout).received_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('serve explains an address in use or an unusable data directory in one line (exit 1), no stack trace', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      const dir = tmpDir();
      const serve = (env: Record<string, string>) =>
        spawnSync(process.execPath, [CLI, 'serve', '--port', String(port)], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH, MLTRAIL_LOG_LEVEL: 'silent', ...env } });
      const inUse = serve({ MLTRAIL_DATA_DIR: join(dir, 'data') });
      expect(inUse.status).toBe(1);
      expect(inUse.stderr).toContain(`MLTRAIL_ERR_STARTUP: cannot listen on 127.0.0.1:${port}: EADDRINUSE: the address is already in use`);
      expect(inUse.stderr).not.toMatch(/^\s+at /m);
      const file = join(dir, 'not-a-dir');
      writeFileSync(file, '');
      const badDir = serve({ MLTRAIL_DATA_DIR: join(file, 'data') });
      expect(badDir.status).toBe(1);
      expect(badDir.stderr).toMatch(/MLTRAIL_ERR_STARTUP: cannot claim the data directory .*not-a-dir\/data \(data_dir, MLTRAIL_DATA_DIR\): ENOTDIR/);
      expect(badDir.stderr).not.toMatch(/^\s+at /m);
    } finally {
      taken.close();
    }
  });

  it('serve: a second bridge on the same data directory exits 1 saying another one serves it', async () => {
    const dataDir = join(tmpDir(), 'data');
    const env = { PATH: process.env.PATH, MLTRAIL_LOG_LEVEL: 'info', MLTRAIL_DATA_DIR: dataDir };
    const first = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let log = '';
      first.stderr.on('data', (d: Buffer) => (log += d.toString()));
      await waitFor(() => log.includes('mltrail bridge listening'), 20_000);
      const second = spawnSync(process.execPath, [CLI, 'serve', '--port', '0'], { encoding: 'utf8', timeout: 30_000, env });
      expect(second.status).toBe(1);
      expect(second.stderr).toContain(`MLTRAIL_ERR_STARTUP: another mltrail bridge is serving from ${dataDir}`);
    } finally {
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
    }
    // A killed bridge leaves no stale claim: the OS dropped its lock.
    const third = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let log3 = '';
    third.stderr.on('data', (d: Buffer) => (log3 += d.toString()));
    try {
      await waitFor(() => log3.includes('mltrail bridge listening'), 20_000);
    } finally {
      third.kill('SIGTERM');
      await new Promise((r) => third.once('exit', r));
    }
  });

  it('dlq purge and quarantine purge delete what they name, refuse without a target, and free the spool budget', async () => {
    const { Spool } = await import('../../core/spool/index.js');
    const dataDir = tmpDir();
    const s = Spool.open({ dir: dataDir });
    s.quarantine('core.api', 'not JSON', '{"broken');
    s.quarantine('vertex.pubsub_push', 'bad envelope', '{}');
    s.transaction(() => {
      s.deadLetter('hec', { kind: 'event', id: 'a', body: '{"id":"a"}' }, 'rejected');
      s.deadLetter('elastic', { kind: 'event', id: 'b', body: '{"id":"b"}' }, 'rejected');
    });
    const held = s.heldBytes;
    s.close();
    const cli = (...a: string[]) => run([...a, '--data-dir', dataDir]);
    expect(cli('dlq', 'purge')).toMatchObject({ status: 2 });
    expect(cli('dlq', 'purge').stderr).toContain('name them with --sink or --id, or pass --all');
    expect(cli('quarantine', 'purge')).toMatchObject({ status: 2 });
    expect(cli('dlq', 'purge', '--sink', 'hec')).toMatchObject({ status: 0, stdout: '1 dead letter(s) deleted\n' });
    expect(cli('dlq', 'list').stdout).toContain('"sink":"elastic"');
    expect(cli('dlq', 'list').stdout).not.toContain('"sink":"hec"');
    const q = cli('quarantine', 'list').stdout.trim().split('\n').map((l) => JSON.parse(l));
    const first = q.find((x) => x.channel === 'core.api').q_id;
    expect(cli('quarantine', 'purge', '--id', String(first))).toMatchObject({ status: 0, stdout: '1 quarantined input(s) deleted\n' });
    expect(cli('quarantine', 'list').stdout).not.toContain('core.api');
    expect(cli('quarantine', 'purge', '--all')).toMatchObject({ status: 0, stdout: '1 quarantined input(s) deleted\n' });
    const after = Spool.open({ dir: dataDir });
    // A quarantine row counts its body, reason, meta ({}) and 64 bytes of row overhead; a dead letter its body.
    const row = (body: string, reason: string) => body.length + reason.length + 2 + 64;
    expect(after.heldBytes).toBe(held - row('{"broken', 'not JSON') - row('{}', 'bad envelope') - '{"id":"a"}'.length);
    after.close();
  }, 120_000);

  it('dlq list and quarantine list take a validated --limit, document it, and say how many there are in all', async () => {
    const { Spool } = await import('../../core/spool/index.js');
    const dataDir = tmpDir();
    const s = Spool.open({ dir: dataDir });
    s.transaction(() => {
      for (let i = 0; i < 1005; i++) s.quarantine(i % 2 ? 'core.api' : 'other', 'not JSON', `{"b${i}`);
      for (let i = 0; i < 3; i++) s.deadLetter('hec', { kind: 'event', id: `e${i}`, body: '{}' }, 'rejected');
    });
    s.close();
    const cli = (...a: string[]) => run([...a, '--data-dir', dataDir]);
    const all = cli('quarantine', 'list');
    expect(all.status).toBe(0);
    expect(all.stdout.trim().split('\n')).toHaveLength(1000);
    expect(all.stderr).toBe('1005 quarantined input(s) in all, 1000 shown (the oldest; --limit N shows more)\n');
    const more = cli('quarantine', 'list', '--limit', '2000');
    expect(more.stdout.trim().split('\n')).toHaveLength(1005);
    expect(more.stderr).toBe('1005 quarantined input(s)\n');
    expect(cli('quarantine', 'list', '--channel', 'core.api', '--limit', '5').stderr).toBe('502 quarantined input(s) in all, 5 shown (the oldest; --limit N shows more)\n');
    const dlq = cli('dlq', 'list', '--limit', '2');
    expect(dlq.stdout.trim().split('\n')).toHaveLength(2);
    expect(dlq.stderr).toBe('3 dead letter(s) in all, 2 shown (the oldest; --limit N shows more)\n');
    for (const [cmd, bad] of [['quarantine', 'abc'], ['dlq', 'abc'], ['quarantine', '0'], ['dlq', '-3'], ['quarantine', '1.5']] as const) {
      const r = cli(cmd, 'list', `--limit=${bad}`);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`MLTRAIL_ERR_USAGE: --limit takes a whole number of at least 1, got "${bad}"`);
      expect(r.stderr).not.toMatch(/INTERNAL|SqliteError/);
    }
    expect(run(['quarantine', '--help']).stdout).toContain('--limit N');
    expect(run(['dlq', '--help']).stdout).toContain('--limit N');
  }, 120_000);

  it('the first word of a two-word command (backfill, setup) prints its subcommands with --help, exit 0', () => {
    for (const [group, sub] of [['backfill', 'vertex'], ['setup', 'elastic']] as const) {
      const h = run([group, '--help']);
      expect(h.status).toBe(0);
      expect(h.stdout).toContain(`Usage: mltrail ${group} <subcommand>`);
      expect(h.stdout).toMatch(new RegExp(`^  ${sub}  `, 'm'));
      expect(run([group]).status).toBe(2);
      const unknown = run([group, 'nosuch']);
      expect(unknown.status).toBe(2);
      expect(unknown.stderr).toContain(`unknown ${group} subcommand "nosuch"`);
    }
    expect(run(['backfill', 'vertex', '--help']).status).toBe(0);
  });

  it('standard output that fills up is one OUTPUT line and exit 2, not a stack trace', async () => {
    const { existsSync, openSync, closeSync } = await import('node:fs');
    if (!existsSync('/dev/full')) return;
    const fd = openSync('/dev/full', 'w');
    const events = Array.from({ length: 200 }, (_, i) => JSON.stringify(sampleEvent({ id: `o-${i}` }))).join('\n');
    const r = spawnSync(process.execPath, [CLI, 'normalize', '--platform', 'core', '-'], { input: events, stdio: ['pipe', fd, 'pipe'], encoding: 'utf8' });
    closeSync(fd);
    expect(r.stderr).toMatch(/^mltrail: MLTRAIL_ERR_OUTPUT: cannot write to standard output: ENOSPC$/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.status).toBe(2);
  });

  it('replay of one large file honours Ctrl-C and SIGTERM in every phase: exit 130/143, no summary, temporary directory removed', async () => {
    const { mkdirSync, readdirSync, statSync, existsSync } = await import('node:fs');
    const { readFixtureJson } = await import('../helpers/fixtures.js');
    const dir = tmpDir();
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    // One file of 10,000 CloudTrail records (~30 MB): normalizing it and replaying it take seconds each, with no I/O to wait on.
    const record = readFixtureJson<Record<string, unknown>>('sagemaker', 'cloudtrail-sagemaker-createtrainingjob.real.json');
    const file = join(dir, 'trail.ndjson');
    const lines: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const time = new Date(Date.UTC(2026, 7, 21) + ((i * 7919) % 10_000) * 1000).toISOString();
      lines.push(JSON.stringify({ ...record, eventID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, eventTime: time }));
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const runDir = () => readdirSync(tmp).find((n) => n.startsWith('mltrail-replay-'));
    const phases = [
      // While the file is normalized: the sorter's database has taken a first batch of events.
      { signal: 'SIGINT', code: 130, started: (d: string) => statSync(join(d, 'sort.db')).size > 1_000_000 },
      // While the sorted events go through the rules: the replay spool exists.
      { signal: 'SIGTERM', code: 143, started: (d: string) => existsSync(join(d, 'spool')) },
    ] as const;
    for (const { signal, code, started } of phases) {
      const child = spawn(process.execPath, [CLI, 'replay', file], { env: { PATH: process.env.PATH, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<{ code: number | null; at: number }>((r) => child.once('exit', (c) => r({ code: c, at: Date.now() })));
      await waitFor(() => {
        const d = runDir();
        try {
          return d !== undefined && started(join(tmp, d));
        } catch {
          return false; // not created yet
        }
      }, 20_000, `replay to reach the phase for ${signal}`);
      const sent = Date.now();
      child.kill(signal);
      const exit = await exited;
      expect({ signal, code: exit.code, out }).toEqual({ signal, code, out: '' });
      // Promptly: a chunk of 1000 records or events, not the rest of the run.
      expect(exit.at - sent).toBeLessThan(3000);
      expect(readdirSync(tmp)).toEqual([]);
    }
  }, 60_000);

  it('normalize exits 2 on unusable input or arguments', () => {
    expect(run(['normalize', '/no/such/file']).status).toBe(2);
    expect(run(['normalize', '--platform', 'nosuch', '-'], '{}').status).toBe(2);
    expect(run(['normalize', '--bogus-flag']).status).toBe(2);
    // A .gz file that is not gzip cannot be read at all: unusable input, like a missing file.
    const broken = join(tmpDir(), 'broken.json.gz');
    writeFileSync(broken, Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0xff]), Buffer.from('garbage')]));
    const r = run(['normalize', broken]);
    expect(r.stderr).toMatch(/broken\.json\.gz:1: cannot read/);
    expect(r.status).toBe(2);
  });

  it('normalize dates a record that carries no time (a Model Monitor result) by its file\'s modification time, not the run', async () => {
    const { copyFileSync, utimesSync } = await import('node:fs');
    const { fixturePath } = await import('../helpers/fixtures.js');
    const file = join(tmpDir(), 'constraint_violations.json');
    copyFileSync(fixturePath('sagemaker', 'modelmonitor-bias-drift-constraint_violations.awsdocs.json'), file);
    const mtime = new Date('2026-05-04T03:02:01.000Z');
    utimesSync(file, mtime, mtime);
    const r = run(['normalize', '--platform', 'sagemaker', file]);
    expect(r.status).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.time === mtime.toISOString())).toBe(true);
  });

  it('replay orders by event time, removes duplicate ids and writes --events', () => {
    const dir = tmpDir();
    const a = sampleEvent({ time: '2026-01-02T00:00:00Z' });
    const b = sampleEvent({ time: '2026-01-01T00:00:00Z' });
    const f1 = join(dir, 'a.ndjson');
    const f2 = join(dir, 'b.json');
    writeFileSync(f1, `${JSON.stringify(a)}\n${JSON.stringify(b)}\n`);
    writeFileSync(f2, JSON.stringify([a]));
    const out = join(dir, 'events.out');
    const r = run(['replay', '--platform', 'core', '--events', out, f1, f2]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('2 events (1 duplicates)');
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l: string) => JSON.parse(l).id);
    expect(lines).toEqual([b.id, a.id]);
  });

  it('normalize and replay take a directory: its files recursively, sorted by path, hidden ones left out, digest files skipped', async () => {
    const { mkdirSync, copyFileSync } = await import('node:fs');
    const { fixturePath } = await import('../helpers/fixtures.js');
    const root = join(tmpDir(), 'AWSLogs');
    const day = (d: string) => join(root, '123456789012', 'CloudTrail', 'us-east-1', '2026', '08', d);
    mkdirSync(day('10'), { recursive: true });
    mkdirSync(day('09'), { recursive: true });
    mkdirSync(join(root, '.cache'));
    // Named so that the listing order (10 before 09 on some file systems) and the sorted order differ.
    const record = JSON.parse(readFileSync(fixturePath('sagemaker', 'cloudtrail-sagemaker-createendpoint.awsdocs.json'), 'utf8'));
    const trail = (id: string) => gzipSync(JSON.stringify({ Records: [{ ...(record.Records?.[0] ?? record), eventID: id }] }));
    writeFileSync(join(day('10'), 'b.json.gz'), trail('00000000-0000-4000-8000-00000000000b'));
    writeFileSync(join(day('09'), 'a.json.gz'), trail('00000000-0000-4000-8000-00000000000a'));
    copyFileSync(fixturePath('sagemaker', 'cloudtrail-digest-file.awsdocs.json'), join(day('09'), 'digest.json'));
    writeFileSync(join(root, '.cache', 'junk.json'), 'not json');
    writeFileSync(join(root, '.DS_Store'), Buffer.from([0, 1, 2]));
    const r = run(['normalize', '--platform', 'sagemaker', `${root}/`]);
    expect(r.stderr).toMatch(/digest\.json:1: skipped: CloudTrail digest file/);
    expect(r.stderr).not.toMatch(/junk|DS_Store/);
    expect(r.status).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events).toHaveLength(2);
    expect(JSON.stringify(events[0])).toContain('00000000000a');
    expect(JSON.stringify(events[1])).toContain('00000000000b');
    const replayed = run(['replay', '--platform', 'sagemaker', root]);
    expect(replayed.status).toBe(0);
    expect(replayed.stderr).toContain('replay: 2 events (0 duplicates)');
    // A directory with no files in it is unusable input, named.
    const empty = join(tmpDir(), 'empty');
    mkdirSync(empty);
    const none = run(['normalize', empty]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain(`${empty}: cannot read: a directory with no files in it`);
  });

  it('replay with a TMPDIR that is missing or not a directory is one CONFIG line naming it (exit 2), no stack trace', () => {
    const dir = tmpDir();
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, `${JSON.stringify(sampleEvent())}\n`);
    const notDir = join(dir, 'a-file');
    writeFileSync(notDir, '');
    for (const [tmp, code] of [[join(dir, 'no', 'such'), 'ENOENT'], [notDir, 'ENOTDIR']] as const) {
      const r = spawnSync(process.execPath, [CLI, 'replay', '--platform', 'core', file], { encoding: 'utf8', env: { PATH: process.env.PATH, TMPDIR: tmp } });
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`mltrail replay: MLTRAIL_ERR_CONFIG: replay cannot create its working directory in ${tmp} (TMPDIR): ${code}; set TMPDIR to a writable directory with room for the sorted events\n`);
    }
  });

  it('normalize - prints each NDJSON line\'s events as the line arrives, before standard input ends (tail -F | mltrail normalize -)', async () => {
    const child = spawn(process.execPath, [CLI, 'normalize', '--platform', 'core', '-'], { env: { PATH: process.env.PATH }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    try {
      const [a, b] = [sampleEvent(), sampleEvent()];
      child.stdin.write(`${JSON.stringify(a)}\n`);
      await waitFor(() => out.includes(a.id as string), 20_000, 'the first line to be printed while stdin is open');
      child.stdin.write(`${JSON.stringify(b)}\n`);
      await waitFor(() => out.includes(b.id as string), 20_000, 'the second line to be printed while stdin is open');
      child.stdin.end();
      expect(await exited).toBe(0);
    } finally {
      child.kill();
    }
  }, 60_000);

  it('normalize reads a file as a stream: a FIFO prints its lines as they are written', async () => {
    const fifo = join(tmpDir(), 'audit.fifo');
    if (spawnSync('mkfifo', [fifo]).status !== 0) return; // no mkfifo on this system
    const { createWriteStream } = await import('node:fs');
    const child = spawn(process.execPath, [CLI, 'normalize', '--platform', 'core', fifo], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    const writer = createWriteStream(fifo);
    try {
      const a = sampleEvent();
      writer.write(`${JSON.stringify(a)}\n`);
      await waitFor(() => out.includes(a.id as string), 20_000, 'the line to be printed while the FIFO is open');
      writer.end();
      expect(await exited).toBe(0);
    } finally {
      writer.destroy();
      child.kill();
    }
  }, 60_000);

  it('normalize reads a file over 2 GiB (a line too long is reported and skipped, the record after it printed)', async () => {
    const { openSync, writeSync, closeSync, ftruncateSync, unlinkSync } = await import('node:fs');
    const file = join(tmpDir(), 'huge.ndjson');
    // Sparse: 2.125 GiB of zero bytes (one line far over the line limit) take no disk, then one event.
    const ev = sampleEvent();
    const fd = openSync(file, 'w');
    const size = 2 ** 31 + 2 ** 27;
    ftruncateSync(fd, size);
    writeSync(fd, `\n${JSON.stringify(ev)}\n`, size);
    closeSync(fd);
    try {
      const r = spawnSync(process.execPath, [CLI, 'normalize', '--platform', 'core', file], { encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 120_000 });
      expect(r.stderr).toMatch(/huge\.ndjson:1: line longer than 128 MiB: not read/);
      expect(r.stderr).not.toMatch(/2 GiB/);
      expect(JSON.parse(r.stdout).id).toBe(ev.id);
      expect(r.status).toBe(1);
    } finally {
      unlinkSync(file);
    }
  }, 150_000);

  it('a binary or plain-text file is unusable input: exit 2, one line, its bytes escaped', () => {
    const dir = tmpDir();
    const zip = join(dir, 'trail.zip');
    writeFileSync(zip, Buffer.concat([Buffer.from('PK\x03\x04\x14\x00\x08\x00\x1b]0;owned\x07\x1b[2J'), Buffer.from('\n\x00\x01\x02\nmore\x1b[0m\n')]));
    const r = run(['normalize', zip]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^[^\n]*trail\.zip:1: not JSON: none of its 3 lines is a JSON value \(line 1: .*PK\\x03\\x04.*\)\n$/);
    expect(r.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f]/);
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello\nworld\n');
    const t = run(['replay', text]);
    expect(t.status).toBe(2);
    expect(t.stderr).toContain(`${text}:1: not JSON: none of its 2 lines is a JSON value`);
  });
});
