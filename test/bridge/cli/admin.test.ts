import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Spool } from '../../../core/spool/index.js';
import { tmpDir } from '../../helpers/bridge.js';
import { runCli } from '../../helpers/cli.js';

describe('mltrail check-config / quarantine (in process)', () => {
  it('check-config hides every kind of secret, also each element of a list of keys, and keeps names readable', async () => {
    const file = join(tmpDir(), 'mltrail.yaml');
    writeFileSync(
      file,
      [
        'connectors:',
        '  sagemaker:',
        '    eventbridge:',
        '      api_keys: [ebkey-aaaa-1111, ebkey-bbbb-2222]',
        '    firehose:',
        '      access_keys: [fhkey-cccc-3333]',
        '  mlflow:',
        '    poll:',
        '      tracking_uri: http://127.0.0.1:5000',
        '      username: auditor-name',
        '      password: mlflowpw-4444',
        'sinks:',
        '  elastic:',
        '    url: http://127.0.0.1:9200',
        '    username: es-user-name',
        '    password: espw-5555',
        '  pager:',
        '    type: webhook',
        '    flavor: pagerduty',
        '    routing_key: 0123456789abcdef0123456789abcdef',
        '',
      ].join('\n'),
    );
    const r = await runCli(['check-config', file]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    for (const secret of ['ebkey-aaaa-1111', 'ebkey-bbbb-2222', 'fhkey-cccc-3333', 'mlflowpw-4444', 'espw-5555', '0123456789abcdef0123456789abcdef']) {
      expect(r.out).not.toContain(secret);
    }
    const cfg = JSON.parse(r.out.slice(r.out.indexOf('{')));
    expect(cfg.connectors.sagemaker.eventbridge.api_keys).toEqual(['[redacted]', '[redacted]']);
    expect(cfg.connectors.mlflow.poll).toMatchObject({ username: 'auditor-name', password: '[redacted]' });
    const es = cfg.sinks.find((s: { name: string }) => s.name === 'elastic').config;
    expect(es).toMatchObject({ username: 'es-user-name', password: '[redacted]' });
  });

  it('quarantine list --body prints text as body and other bytes as body_base64, exactly as kept', async () => {
    const dir = tmpDir();
    const s = Spool.open({ dir });
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x80]);
    s.quarantine('core.api', 'not JSON', binary);
    s.quarantine('core.api', 'not JSON', '{"broken');
    s.close();
    const r = await runCli(['quarantine', 'list', '--body', '--data-dir', dir]);
    expect(r.code).toBe(0);
    const rows = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ bytes: 5, body_base64: binary.toString('base64') });
    expect(rows[0].body).toBeUndefined();
    expect(Buffer.from(rows[0].body_base64, 'base64').equals(binary)).toBe(true);
    expect(rows[1]).toMatchObject({ bytes: 8, body: '{"broken' });
    expect(rows[1].body_base64).toBeUndefined();
    // Without --body, no bytes are printed at all.
    const plain = (await runCli(['quarantine', 'list', '--data-dir', dir])).out.trim().split('\n').map((l) => JSON.parse(l));
    expect(plain.every((x) => x.body === undefined && x.body_base64 === undefined)).toBe(true);
  });

  it('dlq retry marks only the dead letters named by --sink or --id, and says how many', async () => {
    const dir = tmpDir();
    const s = Spool.open({ dir });
    s.transaction(() => {
      s.deadLetter('hec', { kind: 'event', id: 'a', body: '{"id":"a"}' }, 'rejected');
      s.deadLetter('hec', { kind: 'event', id: 'b', body: '{"id":"b"}' }, 'rejected');
      s.deadLetter('elastic', { kind: 'event', id: 'c', body: '{"id":"c"}' }, 'rejected');
    });
    s.close();
    const list = async () => (await runCli(['dlq', 'list', '--data-dir', dir])).out.trim().split('\n').map((l) => JSON.parse(l) as { dlq_id: number; sink: string; record_id: string; status: string });
    const status = async () => Object.fromEntries((await list()).map((d) => [d.record_id, d.status]));
    expect(await runCli(['dlq', 'retry', '--sink', 'elastic', '--data-dir', dir])).toMatchObject({ code: 0, out: '1 dead letter(s) marked for re-sending\n' });
    expect(await status()).toEqual({ a: 'dead', b: 'dead', c: 'retry' });
    const b = (await list()).find((d) => d.record_id === 'b')!;
    expect(await runCli(['dlq', 'retry', '--id', String(b.dlq_id), '--data-dir', dir])).toMatchObject({ code: 0, out: '1 dead letter(s) marked for re-sending\n' });
    expect(await status()).toEqual({ a: 'dead', b: 'retry', c: 'retry' });
  });

  it('dlq retry --to: a --sink with no dead letters or an --id of another sink is a usage error (exit 2) and moves nothing', async () => {
    const dir = tmpDir();
    const s = Spool.open({ dir });
    s.transaction(() => {
      s.deadLetter('soc', { kind: 'event', id: 'a', body: '{"id":"a"}' }, 'rejected');
      s.deadLetter('hec', { kind: 'event', id: 'b', body: '{"id":"b"}' }, 'rejected');
    });
    s.close();
    const env = { MLTRAIL_DATA_DIR: dir };
    const list = async () => (await runCli(['dlq', 'list'], env)).out.trim().split('\n').map((l) => JSON.parse(l) as { dlq_id: number; sink: string; record_id: string; status: string });
    const before = await list();
    const typo = await runCli(['dlq', 'retry', '--sink', 'sco', '--to', 'file'], env);
    expect(typo.code).toBe(2);
    expect(typo.err).toContain('--sink sco: no dead letters of that sink (sinks with dead letters: hec, soc');
    const hecId = before.find((d) => d.sink === 'hec')!.dlq_id;
    const foreign = await runCli(['dlq', 'retry', '--sink', 'soc', '--to', 'file', '--id', String(hecId)], env);
    expect(foreign.code).toBe(2);
    expect(foreign.err).toContain(`--id ${hecId}: not dead letters of soc`);
    // A sink turned off runs no runner: handing it dead letters strands them again.
    const off = join(dir, 'off.yaml');
    writeFileSync(off, 'sinks:\n  file: {}\n  pager: { type: webhook, url: "http://127.0.0.1:9/hook", enabled: false }\n');
    const disabled = await runCli(['dlq', 'retry', '--sink', 'soc', '--to', 'pager', '--config', off], env);
    expect(disabled.code).toBe(2);
    expect(disabled.err).toContain('--to pager: that sink is turned off');
    expect(await list()).toEqual(before);
    expect(await runCli(['dlq', 'retry', '--sink', 'soc', '--to', 'file'], env)).toMatchObject({ code: 0, out: '1 dead letter(s) of soc handed to file and marked for re-sending\n' });
  });

  it('dlq and quarantine on a directory without a spool are a usage error naming it, and create none there', async () => {
    const dir = tmpDir();
    for (const args of [['dlq', 'list'], ['dlq', 'retry', '--all'], ['quarantine', 'list']]) {
      const r = await runCli([...args, '--data-dir', dir]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`no spool at ${dir}`);
    }
    expect(existsSync(join(dir, 'spool.db'))).toBe(false);
  });

  it('a misspelt dlq or quarantine subcommand is named as such (exit 2), not reported as a missing spool', async () => {
    const dir = tmpDir();
    for (const [cmd, subs] of [['dlq', 'list, retry, purge'], ['quarantine', 'list, purge']] as const) {
      const r = await runCli([cmd, 'lsit', '--data-dir', dir]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`MLTRAIL_ERR_USAGE: unknown ${cmd} subcommand "lsit" (${subs})`);
      expect(r.err).not.toContain('no spool');
    }
  });

  it('check-config with unset ${VAR}s says each of them and the other keys\' errors in one run, none blamed on the placeholder', async () => {
    const file = join(tmpDir(), 'mltrail.yaml');
    // Two unset variables (one where a number belongs, one in a list) and two mistakes of the file's own.
    writeFileSync(
      file,
      'server:\n  port: ${BRIDGE_PORT}\n  ingest_token: ${INGEST_TOKEN}\nspool:\n  max_bytes: 0\n  retry_after: 30\n' +
        'connectors:\n  sagemaker:\n    eventbridge:\n      api_keys: ["${EB_KEY}", "${EB_OLD:-older-key-1}"]\n',
    );
    const r = await runCli(['check-config', file], { INGEST_TOKEN: 'set-token' });
    expect(r.code).toBe(1);
    const lines = r.err.trim().split('\n');
    expect(lines).toEqual([
      'mltrail check-config: MLTRAIL_ERR_CONFIG: invalid, 4 problems in the configuration:',
      `${file}: server.port: environment variable BRIDGE_PORT is not set (or empty); set it, or give a default: \${BRIDGE_PORT:-value}`,
      `${file}: connectors.sagemaker.eventbridge.api_keys.0: environment variable EB_KEY is not set (or empty); set it, or give a default: \${EB_KEY:-value}`,
      expect.stringMatching(/^\S+: spool\.max_bytes: /),
      expect.stringMatching(/^\S+: spool: unknown key\(s\): retry_after$/),
    ]);
    // Nothing on the placeholders' keys beyond "not set" (no "expected number" for server.port), and no value printed.
    expect(r.err).not.toContain('set-token');
    // Set, only the file's own mistakes remain; fixed, the file is valid (the exit code as before: 1, then 0).
    const set = await runCli(['check-config', file], { INGEST_TOKEN: 'set-token', BRIDGE_PORT: '8443', EB_KEY: 'k1' });
    expect(set.err.trim().split('\n').slice(1)).toEqual([expect.stringMatching(/spool\.max_bytes: /), expect.stringMatching(/spool: unknown key\(s\): retry_after$/)]);
    writeFileSync(file, 'server:\n  port: ${BRIDGE_PORT}\n');
    expect((await runCli(['check-config', file], {})).code).toBe(1);
    expect((await runCli(['check-config', file], { BRIDGE_PORT: '8443' })).code).toBe(0);
  });

  it('check-config checks one file a run: several (a shell glob), or FILE and another --config, are a usage error, not the first one\'s "ok"', async () => {
    const dir = tmpDir();
    const good = join(dir, 'good.yaml');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(good, 'server:\n  port: 8443\n');
    writeFileSync(bad, 'server:\n  port: 99999\n');
    const both = await runCli(['check-config', good, bad]);
    expect(both.code).toBe(2);
    expect(both.out).toBe('');
    expect(both.err).toContain(`MLTRAIL_ERR_USAGE: check-config checks one file, got 2 (${good}, ${bad}): run it once per file`);
    const named = await runCli(['check-config', good, '--config', bad]);
    expect(named.code).toBe(2);
    expect(named.err).toContain(`two files named (${good} and --config ${bad})`);
    // One file, named either way (or both ways alike), is checked as before.
    expect((await runCli(['check-config', bad])).code).toBe(1);
    expect((await runCli(['check-config', '--config', good])).code).toBe(0);
    expect((await runCli(['check-config', good, '--config', good])).code).toBe(0);
  });

  it('check-config reads MLTRAIL_CONFIG when no file is named, and names that file in what it prints', async () => {
    const file = join(tmpDir(), 'from-env.yaml');
    writeFileSync(file, 'log:\n  level: loud\n');
    const r = await runCli(['check-config'], { MLTRAIL_CONFIG: file });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${file}: log.level:`);
    expect(r.err).not.toMatch(/^configuration: /m);
    writeFileSync(file, 'log:\n  level: warn\n');
    const ok = await runCli(['check-config'], { MLTRAIL_CONFIG: file });
    expect(ok.code).toBe(0);
    expect(ok.out.split('\n')[0]).toBe(`${file}: ok`);
  });

  it('check-config --help says where the file comes from (FILE, --config, MLTRAIL_CONFIG) and its exit codes; --config FILE works as FILE', async () => {
    const help = (await runCli(['check-config', '--help'])).out;
    expect(help).toContain('mltrail check-config [FILE | --config FILE]');
    expect(help).toContain('MLTRAIL_CONFIG');
    expect(help).toContain('Exit 0 valid, 1 invalid, 2 bad arguments.');
    const file = join(tmpDir(), 'flag.yaml');
    writeFileSync(file, 'log:\n  level: loud\n');
    const r = await runCli(['check-config', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${file}: log.level:`);
    expect((await runCli(['check-config', '--bogus'])).code).toBe(2);
  });

  it('dlq and quarantine take the data dir from --config as their help says (every subcommand), below --data-dir and MLTRAIL_DATA_DIR', async () => {
    const dir = tmpDir();
    const s = Spool.open({ dir });
    s.quarantine('core.api', 'not JSON', '{"broken');
    s.close();
    const file = join(tmpDir(), 'mltrail.yaml');
    writeFileSync(file, `data_dir: ${dir}\n`);
    const listed = await runCli(['quarantine', 'list', '--config', file]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.out.trim()).reason).toBe('not JSON');
    expect((await runCli(['dlq', 'list', '--config', file])).code).toBe(0);
    // The environment's data dir wins over the file's, as for serve.
    expect((await runCli(['quarantine', 'list', '--config', file], { MLTRAIL_DATA_DIR: tmpDir() })).code).toBe(2);
    for (const [cmd, subs] of [['quarantine', ['list', 'purge']], ['dlq', ['list', 'retry', 'purge']]] as const) {
      const help = (await runCli([cmd, '--help'])).out;
      for (const sub of subs) {
        const lines = help.split('\n').filter((l) => l.startsWith(`mltrail ${cmd} ${sub} `));
        expect(lines.length).toBeGreaterThan(0);
        for (const l of lines) expect(l).toContain('[--config FILE]');
      }
    }
    const serveHelp = (await runCli(['serve', '--help'])).out;
    expect(serveHelp).toMatch(/--port, -p/);
    // HTTPS is configured in the file only: the help says where, and what SIGHUP re-reads.
    expect(serveHelp).toMatch(/HTTPS: server\.tls in the config file/);
    expect(serveHelp).toMatch(/SIGHUP\s+re-reads its cert_file and key_file/);
  });
});
