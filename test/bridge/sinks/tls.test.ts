import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { checkConfigCommand } from '../../../bridge/cli/admin.js';
import { loadConfig } from '../../../bridge/config.js';
import { caFileProblem } from '../../../core/config/pem.js';
import { ElasticConfig } from '../../../bridge/sinks/elastic/config.js';
import { elasticSinkFactory } from '../../../bridge/sinks/elastic/index.js';
import { silentLogger } from '../../../core/log.js';
import { MltrailError } from '../../../core/errors.js';
import { Spool } from '../../../core/spool/index.js';
import { makeTestPki, tmpDir } from './helpers.js';

/** `mltrail check-config FILE` in-process: exit code and what it printed. */
async function checkConfig(file: string): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await checkConfigCommand([file], { stdout, stderr, stdin: new PassThrough(), env: {} });
  return { code, out, err };
}

/** A config with three sinks; `es_onprem` (type elastic) and `pager` (type webhook) get the given CA files. */
function threeSinks(dir: string, esCa: string, webhookCa: string): string {
  const file = join(dir, 'mltrail.yaml');
  writeFileSync(
    file,
    [
      'sinks:',
      '  file: {}',
      '  es_onprem:',
      '    type: elastic',
      '    url: https://es.example.com:9200',
      '    api_key: k',
      `    tls: { ca_file: ${esCa} }`,
      '  pager:',
      '    type: webhook',
      '    flavor: slack',
      '    url: https://hooks.example.com/x',
      `    tls: { ca_file: ${webhookCa} }`,
      '',
    ].join('\n'),
  );
  return file;
}

describe('sinks tls.ca_file is checked with the config', () => {
  it('a missing CA file fails check-config (exit 1) and loadConfig (CONFIG), naming sinks.<name>.tls.ca_file', async () => {
    const dir = tmpDir();
    const pki = makeTestPki();
    const file = threeSinks(dir, '/nonexistent/ca.pem', pki.caFile);
    const r = await checkConfig(file);
    expect(r.code).toBe(1);
    expect(r.out).not.toContain(': ok');
    expect(r.err).toContain(`${file}: sinks.es_onprem.tls.ca_file: cannot read /nonexistent/ca.pem: ENOENT`);
    expect(r.err).not.toContain('sinks.pager');
    let thrown: unknown;
    try {
      loadConfig({ file, env: {} });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(MltrailError);
    expect((thrown as MltrailError).kind).toBe('CONFIG');
    expect((thrown as MltrailError).message).toContain('sinks.es_onprem.tls.ca_file: cannot read /nonexistent/ca.pem');
  });

  it('a file without a PEM certificate, or with one that does not parse, is refused; a directory too', async () => {
    const dir = tmpDir();
    const notPem = join(dir, 'ca.der-or-key.txt');
    writeFileSync(notPem, 'this is not a certificate\n');
    const broken = join(dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nMIIBbad\n-----END CERTIFICATE-----\n');
    const r = await checkConfig(threeSinks(dir, notPem, broken));
    expect(r.code).toBe(1);
    expect(r.err).toContain(`sinks.es_onprem.tls.ca_file: ${notPem} holds no PEM certificate`);
    expect(r.err).toMatch(new RegExp(`sinks\\.pager\\.tls\\.ca_file: ${broken}: certificate 1 does not parse`));
    expect(caFileProblem(dir)).toBe(`${dir} is not a file`);
  });

  it('a CA file that also holds a private key is refused by check-config, loadConfig and the sink, naming the key path and the PEM label only', async () => {
    const pki = makeTestPki();
    const dir = tmpDir();
    // The CA's certificate with its own key appended (a bundle written with `cat ca.pem ca.key`).
    const caWithKey = join(dir, 'ca-with-key.pem');
    writeFileSync(caWithKey, readFileSync(pki.caFile, 'utf8') + readFileSync(join(pki.dir, 'ca.key'), 'utf8'));
    const r = await checkConfig(threeSinks(dir, caWithKey, pki.caFile));
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toEqual([
      'mltrail check-config: MLTRAIL_ERR_CONFIG: invalid, 1 problem in the configuration:',
      `${join(dir, 'mltrail.yaml')}: sinks.es_onprem.tls.ca_file: ${caWithKey} holds a private key (-----BEGIN PRIVATE KEY-----): a CA bundle is handed out and must hold CA certificates only; remove the key from it (and replace that key if the file was shared)`,
    ]);
    expect(r.err).not.toMatch(/MII/);
    expect(() => loadConfig({ file: join(dir, 'mltrail.yaml'), env: {} })).toThrow(expect.objectContaining({ code: 'MLTRAIL_ERR_CONFIG', message: expect.stringContaining(`sinks.es_onprem.tls.ca_file: ${caWithKey} holds a private key`) }));
    // A key appended after the config was read: building the sink refuses it too.
    const cfg = ElasticConfig.parse({ url: 'https://es.example.com:9200', api_key: 'k', tls: { ca_file: pki.caFile } });
    writeFileSync(pki.caFile, readFileSync(caWithKey));
    const spool = Spool.open({ dir });
    try {
      expect(() => elasticSinkFactory.create(cfg, { name: 'es_onprem', logger: silentLogger(), dataDir: dir, spool, env: {} })).toThrow(/sinks\.es_onprem\.tls\.ca_file: \S+ holds a private key \(-----BEGIN PRIVATE KEY-----\)/);
    } finally {
      spool.close();
    }
  });

  it('a CA bundle of real certificates passes check-config', async () => {
    const pki = makeTestPki();
    const r = await checkConfig(threeSinks(tmpDir(), pki.caFile, pki.caFile));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(caFileProblem(pki.caFile)).toBeUndefined();
  });

  it('a CA file spoiled after the config was read: building the sink is a CONFIG error naming the sink', () => {
    const pki = makeTestPki();
    const cfg = ElasticConfig.parse({ url: 'https://es.example.com:9200', api_key: 'k', tls: { ca_file: pki.caFile } });
    writeFileSync(pki.caFile, 'rotated by hand, wrongly\n');
    const dir = tmpDir();
    const spool = Spool.open({ dir });
    try {
      expect(() => elasticSinkFactory.create(cfg, { name: 'es_onprem', logger: silentLogger(), dataDir: dir, spool, env: {} })).toThrow(
        /sinks\.es_onprem\.tls\.ca_file: .* holds no PEM certificate/,
      );
    } finally {
      spool.close();
    }
  });
});
