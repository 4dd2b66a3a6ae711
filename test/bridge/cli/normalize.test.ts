import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleEvent, tmpDir } from '../../helpers/bridge.js';
import { runCli } from '../../helpers/cli.js';
import { fixturePath } from '../../helpers/fixtures.js';

describe('mltrail normalize (in process)', () => {
  it('a directory with a symlink back up its tree is read once, not followed round until the path is too long', async () => {
    const root = join(tmpDir(), 'logs');
    mkdirSync(join(root, 'day'), { recursive: true });
    const ev = sampleEvent();
    writeFileSync(join(root, 'day', 'a.ndjson'), `${JSON.stringify(ev)}\n`);
    symlinkSync('..', join(root, 'day', 'up'));
    const r = await runCli(['normalize', '--platform', 'core', root]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n').map((l) => JSON.parse(l).id)).toEqual([ev.id]);
  });

  it('a FILE:N line never carries terminal control characters from the input', async () => {
    const file = join(tmpDir(), 'evil.ndjson');
    writeFileSync(file, `${JSON.stringify({ ...sampleEvent(), '\u001b[2J\u202eevil': 1 })}\n`);
    const r = await runCli(['normalize', '--platform', 'core', file]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${file}:1:`);
    expect(r.err).not.toMatch(/[\u001b\u202e]/);
    expect(r.err).toContain('\\x1b[2J');
  });

  it('--config spool.keep_raw: false leaves each record out of its events (kept by default)', async () => {
    const trail = fixturePath('sagemaker', 'cloudtrail-sagemaker-createendpoint.awsdocs.json');
    const off = join(tmpDir(), 'noraw.yaml');
    writeFileSync(off, 'spool:\n  keep_raw: false\n');
    const kept = await runCli(['normalize', '--platform', 'sagemaker', trail]);
    expect(kept.code).toBe(0);
    const withRaw = kept.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(withRaw.length).toBeGreaterThan(0);
    expect(withRaw.every((e) => e.raw !== undefined)).toBe(true);
    const dropped = await runCli(['normalize', '--platform', 'sagemaker', '--config', off, trail]);
    expect(dropped.code).toBe(0);
    const noRaw = dropped.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(noRaw.map((e) => e.id)).toEqual(withRaw.map((e) => e.id));
    expect(noRaw.every((e) => e.raw === undefined)).toBe(true);
  });

  it('unusable input wins the exit code over rejected records (2, not 1), and the good records still print', async () => {
    const dir = tmpDir();
    const ev = sampleEvent();
    const file = join(dir, 'mixed.ndjson');
    writeFileSync(file, `${JSON.stringify(ev)}\n{"broken\n`);
    const missing = join(dir, 'no-such.ndjson');
    const r = await runCli(['normalize', '--platform', 'core', file, missing]);
    expect(r.err).toContain(`${file}:2: not JSON`);
    expect(r.err).toContain(`${missing}: cannot read`);
    expect(r.out.trim().split('\n').map((l) => JSON.parse(l).id)).toEqual([ev.id]);
    expect(r.code).toBe(2);
  });

  it('a rejected record names its place once: a path ending at the field is not followed by the field again', async () => {
    // A Pub/Sub envelope whose message.data decodes to bytes that are not JSON (path and field both message.data).
    const push = fixturePath('vertex', 'cloudevents-MessagePublishedData-duplicatedFields.json');
    const r = await runCli(['normalize', '--platform', 'vertex', push]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${push}:1: message.data: Pub/Sub message data does not decode to a LogEntry`);
    expect(r.err).not.toContain('field message.data');
    // A field below the path is still named: a Firehose record's undecodable data.
    const firehose = fixturePath('sagemaker', 'firehose-http-endpoint-request.awsdocs.json');
    const f = await runCli(['normalize', '--platform', 'sagemaker', firehose]);
    expect(f.err).toContain(`${firehose}:1: records[0]: field data: decoded data not JSON`);
    // A reason that names its fields itself (the event schema's check) is not headed by the first of them.
    const file = join(tmpDir(), 'bad.ndjson');
    writeFileSync(file, '{"id":"x"}\n');
    const core = await runCli(['normalize', '--platform', 'core', file]);
    expect(core.err).toMatch(new RegExp(`^${file}:1: schema_version: Invalid input`));
    expect(core.err).not.toContain('field schema_version');
  });
});
