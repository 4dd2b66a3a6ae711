import { ServerCredentials } from '@grpc/grpc-js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { hostPortProblem } from '../../../connectors/kubeflow/config.js';
import { MlmdPoller } from '../../../connectors/kubeflow/mlmd/poller.js';
import { runCli } from '../../helpers/cli.js';
import { makeTestPki } from '../../bridge/sinks/helpers.js';
import { FakeMlmd, seedKfpRun } from './fake-mlmd.js';
import { harness } from './helpers.js';

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mltrail-kf-cfg-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Write a YAML config beside a fresh data dir; returns its path. */
function configFile(yaml: string): { file: string; dir: string } {
  const dir = tmp();
  const file = join(dir, 'mltrail.yaml');
  writeFileSync(file, `data_dir: ${join(dir, 'data')}\nserver: { port: 0 }\n${yaml}`);
  return { file, dir };
}

const configError = (env: NodeJS.ProcessEnv, file?: string) => {
  try {
    loadConfig({ env, file });
  } catch (err) {
    return ((err as { extra?: { issues?: string[] } }).extra?.issues) ?? [(err as Error).message];
  }
  return [];
};

describe('kubeflow MLMD TLS files are checked with the config', () => {
  it('serve with a missing mlmd.ca_file exits 2 with an MLTRAIL_ERR_CONFIG line and one line naming the key (it used to hang)', async () => {
    const { file } = configFile('connectors:\n  kubeflow:\n    mlmd: { address: "127.0.0.1:24410", tls: true, ca_file: /nonexist/ca.pem }\n');
    const res = await runCli(['serve', '--config', file]);
    expect(res.code).toBe(2);
    const lines = res.err.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/MLTRAIL_ERR_CONFIG/);
    expect(lines[1]).toMatch(/connectors\.kubeflow\.mlmd\.ca_file: cannot read \/nonexist\/ca\.pem: ENOENT/);

    const check = await runCli(['check-config', file]);
    expect(check.code).not.toBe(0);
    expect(check.err).toMatch(/connectors\.kubeflow\.mlmd\.ca_file: cannot read/);
  }, 15_000);

  it('a ca_file that holds no certificate, or one set without tls, is refused', () => {
    const dir = tmp();
    const junk = join(dir, 'ca.pem');
    writeFileSync(junk, 'not a certificate\n');
    const env = { MLTRAIL_MLMD_ADDRESS: '127.0.0.1:8080' };
    const { file: f1 } = configFile(`connectors:\n  kubeflow:\n    mlmd: { tls: true, ca_file: ${junk} }\n`);
    expect(configError(env, f1)).toEqual([expect.stringMatching(/^connectors\.kubeflow\.mlmd\.ca_file: .*holds no PEM certificate/)]);
    const pki = makeTestPki();
    cleanup.push(() => rmSync(pki.dir, { recursive: true, force: true }));
    const { file: f2 } = configFile(`connectors:\n  kubeflow:\n    mlmd: { ca_file: ${pki.caFile} }\n`);
    expect(configError(env, f2)).toEqual([expect.stringMatching(/^connectors\.kubeflow\.mlmd\.ca_file: set, but mlmd\.tls is false/)]);
    const { file: f3 } = configFile(`connectors:\n  kubeflow:\n    mlmd: { tls: true, ca_file: ${pki.caFile} }\n`);
    expect(configError(env, f3)).toEqual([]);
  });

  it('a ca_file that also holds a private key is refused by check-config, with the other mlmd keys\' errors, and again when the client is made', async () => {
    const pki = makeTestPki();
    cleanup.push(() => rmSync(pki.dir, { recursive: true, force: true }));
    const caWithKey = join(pki.dir, 'ca-with-key.pem');
    writeFileSync(caWithKey, readFileSync(pki.caFile, 'utf8') + readFileSync(join(pki.dir, 'ca.key'), 'utf8'));
    // A cluster's mlmd block with a wrong type beside it: the file's problem is said in the same run.
    const { file } = configFile(
      `connectors:\n  kubeflow:\n    mlmd: { address: "127.0.0.1:8080", tls: true, ca_file: ${caWithKey} }\n    clusters:\n      - id: b\n        mlmd: { address: "127.0.0.1:8081", tls: true, ca_file: ${caWithKey}, timeout_ms: soon }\n`,
    );
    const check = await runCli(['check-config', file]);
    expect(check.code).toBe(1);
    const refused = `holds a private key (-----BEGIN PRIVATE KEY-----): a CA bundle is handed out and must hold CA certificates only; remove the key from it (and replace that key if the file was shared)`;
    expect(check.err.trim().split('\n').slice(1)).toEqual([
      `${file}: connectors.kubeflow.mlmd.ca_file: ${caWithKey} ${refused}`,
      `${file}: connectors.kubeflow.clusters.0.mlmd.ca_file: ${caWithKey} ${refused}`,
      `${file}: connectors.kubeflow.clusters.0.mlmd.timeout_ms: Invalid input: expected number, received string`,
    ]);
    // A key appended once the config was read: the poller's client refuses the file at start, naming the key path.
    const ca = join(pki.dir, 'mlmd-ca.pem');
    writeFileSync(ca, readFileSync(pki.caFile));
    const h = harness({ mlmd: { address: '127.0.0.1:8080', tls: true, ca_file: ca } });
    cleanup.push(() => h.close());
    writeFileSync(ca, readFileSync(caWithKey));
    expect(() => new MlmdPoller(h.deps)).toThrow(/connectors\.kubeflow\.mlmd\.ca_file: \S+ holds a private key \(-----BEGIN PRIVATE KEY-----\)/);
  });

  it('a missing kfp.token_file (MLTRAIL_KFP_TOKEN_FILE) is a config error naming the key and the variable', () => {
    const issues = configError({ MLTRAIL_KFP_URL: 'http://127.0.0.1:8888', MLTRAIL_KFP_TOKEN_FILE: '/nonexist/tok' });
    expect(issues).toEqual([expect.stringMatching(/^connectors\.kubeflow\.kfp\.token_file: cannot read \/nonexist\/tok: ENOENT.*MLTRAIL_KFP_TOKEN_FILE/)]);
  });

  it('a token put where its file belongs (MLTRAIL_KFP_TOKEN_FILE=eyJ…) is refused without printing it', () => {
    const token = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6a3ViZWZsb3c6bWx0cmFpbCJ9.c2lnbmF0dXJlLXNlY3JldA';
    const issues = configError({ MLTRAIL_KFP_URL: 'http://127.0.0.1:8888', MLTRAIL_KFP_TOKEN_FILE: token });
    expect(issues).toEqual([expect.stringMatching(/^connectors\.kubeflow\.kfp\.token_file: cannot read the value given \(\d+ characters, not shown: .*ENOENT.*MLTRAIL_KFP_TOKEN_FILE/)]);
    expect(issues.join('\n')).not.toContain('c2lnbmF0dXJlLXNlY3JldA');
  });

  it('the poller reaches a TLS MLMD server verified with ca_file', async () => {
    const pki = makeTestPki();
    cleanup.push(() => rmSync(pki.dir, { recursive: true, force: true }));
    const db = new FakeMlmd();
    seedKfpRun(db, Date.now() - 600_000);
    const address = await db.start(ServerCredentials.createSsl(null, [{ private_key: Buffer.from(pki.key), cert_chain: Buffer.from(pki.cert) }]));
    const h = harness({ mlmd: { address, tls: true, ca_file: pki.caFile } });
    const poller = new MlmdPoller(h.deps);
    cleanup.push(() => db.stop(), () => poller.stop(), () => h.close());
    expect((await poller.pollOnce(new AbortController().signal)).executions).toBe(4);
    expect(readFileSync(pki.caFile, 'utf8')).toContain('BEGIN CERTIFICATE');
  });
});

describe('kubeflow mlmd.address is a gRPC host:port', () => {
  it.each([
    ['metadata-grpc-service.kubeflow:8080'],
    ['metadata-grpc-service.kubeflow.svc.cluster.local:8080'],
    ['127.0.0.1:8080'],
    ['[fd00::1]:8080'],
  ])('accepts %s', (address) => {
    expect(hostPortProblem(address)).toBeUndefined();
  });

  it.each([
    ['http://metadata-grpc-service.kubeflow:8080', /without a scheme/],
    ['127.0.0.1', /expected host:port/],
    ['metadata-grpc-service.kubeflow', /expected host:port/],
    ['mlmd:0', /outside 1-65535/],
    ['mlmd:70000', /outside 1-65535/],
    ['bad_host!:8080', /not a host name/],
    ['[not-v6]:8080', /not a host name/],
    ['fd00::1:8080', /expected host:port/],
  ])('refuses %s', (address, why) => {
    expect(hostPortProblem(address)).toMatch(why);
  });

  it('a bad MLTRAIL_MLMD_ADDRESS fails validation naming the key and the variable', () => {
    expect(configError({ MLTRAIL_MLMD_ADDRESS: 'http://host:8080' })).toEqual([
      expect.stringMatching(/^connectors\.kubeflow\.mlmd\.address: expected host:port without a scheme.*\(from environment variable MLTRAIL_MLMD_ADDRESS\)$/),
    ]);
    expect(configError({ MLTRAIL_MLMD_ADDRESS: '127.0.0.1' })[0]).toMatch(/^connectors\.kubeflow\.mlmd\.address: expected host:port/);
  });
});
