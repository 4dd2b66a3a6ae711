import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../bridge/config.js';
import { startBridge, type Bridge } from '../../bridge/runtime.js';
import { PLAIN_HTTP_ANSWER, startsRequestLine, watchHandshakeFailures } from '../../bridge/tls-handshake.js';
import { createMetrics } from '../../core/metrics.js';
import { AUDIT_ROUTE } from '../../connectors/kubeflow/route.js';
import { createLogger, silentLogger } from '../../core/log.js';
import { makeTestPki } from './sinks/helpers.js';
import { auditEvent } from '../connectors/kubeflow/helpers.js';
import { sampleEvent, tmpDir } from '../helpers/bridge.js';
import { runCli } from '../helpers/cli.js';
import { CLI } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait.js';

/**
 * `server.tls`: `mltrail serve` ends TLS itself. A test CA signs the server's certificate (for 127.0.0.1); the
 * apiserver's client certificates come from a CA of their own, and a rogue CA issues one with the same subject.
 */
const pki = makeTestPki();
const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: pki.dir, stdio: 'pipe' });
const at = (name: string) => join(pki.dir, name);
writeFileSync(at('srv.pem.key'), pki.key);
ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=kubernetes', '-keyout', 'kube-ca.key', '-out', 'kube-ca.pem');
ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=kubernetes', '-keyout', 'rogue-ca.key', '-out', 'rogue-ca.pem');
function clientCert(name: string, cn: string, ca: string): { cert: Buffer; key: Buffer } {
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
  writeFileSync(at(`${name}.ext`), '[ext]\nbasicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-extensions', 'ext', '-out', `${name}.crt`);
  return { cert: readFileSync(at(`${name}.crt`)), key: readFileSync(at(`${name}.key`)) };
}
const apiserver = clientCert('apiserver', 'kube-apiserver-audit', 'kube-ca');
// An intermediate CA under kube-ca issuing a client certificate, sent with the intermediate (leaf first).
ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=kube-intermediate', '-keyout', 'kube-int.key', '-out', 'kube-int.csr');
writeFileSync(at('kube-int.ext'), '[ext]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
ssl('x509', '-req', '-in', 'kube-int.csr', '-CA', 'kube-ca.pem', '-CAkey', 'kube-ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'kube-int.ext', '-extensions', 'ext', '-out', 'kube-int.pem');
const viaIntermediate = clientCert('via-int', 'kube-apiserver-audit', 'kube-int');
viaIntermediate.cert = Buffer.concat([viaIntermediate.cert, readFileSync(at('kube-int.pem'))]);
const rogue = clientCert('rogue', 'kube-apiserver-audit', 'rogue-ca');
const TOKEN = 'tls-test-token';
const TLS = { cert_file: at('srv.pem'), key_file: at('srv.pem.key') };

const running: Bridge[] = [];
afterEach(async () => {
  for (const b of running.splice(0)) await b.stop();
});

async function start(overrides: Record<string, unknown>, env: Record<string, string> = {}) {
  const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir(), ...env }, overrides: { ...overrides, server: { port: 0, ...(overrides.server as object) } } });
  const b = await startBridge(cfg, { logger: silentLogger(), env: {} });
  running.push(b);
  return b;
}

/** One request over HTTPS on a connection of its own, trusting the test CA; `client`: the certificate to present. */
function send(url: string, opts: { method?: string; body?: string; headers?: Record<string, string>; client?: { cert: Buffer; key: Buffer } } = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpsRequest(url, { method: opts.method ?? 'GET', agent: false, ca: readFileSync(pki.caFile), ...opts.client, headers: { 'content-type': 'application/json', ...opts.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
/** The server's certificate and key copied to a folder of their own, to be renewed there. */
function ownPair() {
  const dir = tmpDir();
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  copyFileSync(at('srv.pem'), certFile);
  copyFileSync(at('srv.pem.key'), keyFile);
  return { dir, certFile, keyFile };
}

/** The serial number of the certificate a new TLS connection to 127.0.0.1:`port` is served. */
function servedSerial(port: number) {
  return new Promise<string>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(pki.caFile) }, () => (resolve(s.getPeerX509Certificate()!.serialNumber), s.end()));
    s.on('error', reject);
  });
}

const auditBatch = (auditID: string) => JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [auditEvent({ auditID })] });
/** The audit ids of the Kubernetes audit events in the spool. */
const auditIds = (b: Bridge) =>
  b.spool
    .read('test-reader', 1000)
    .map((r) => JSON.parse(r.body) as { channel?: string; action?: string; details?: { audit_id?: string } })
    .filter((e) => e.channel === 'kubeflow.k8s_audit' && e.action !== 'ingest.auth_failure')
    .map((e) => e.details?.audit_id);

describe('server.tls: the bridge serves HTTPS', () => {
  it('events over TLS land; /healthz and /readyz answer over HTTPS; plain HTTP is not served', async () => {
    const b = await start({ server: { tls: TLS } }, { MLTRAIL_INGEST_TOKEN: TOKEN });
    expect(b.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await send(`${b.url}/healthz`)).status).toBe(200);
    expect((await send(`${b.url}/readyz`)).status).toBe(200);
    const event = sampleEvent();
    const res = await send(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify(event), headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(b.spool.seen('event', event.id as string)).toBe(true);
    // The certificate served is the configured one, and TLS below min_version (TLSv1.2 by default) is refused.
    const served = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: b.port, ca: readFileSync(pki.caFile) }, () => (resolve(s.getPeerX509Certificate()!.fingerprint256), s.end()));
      s.on('error', reject);
    });
    expect(served).toBe(new X509Certificate(pki.cert).fingerprint256);
    // Plain HTTP reaches no route: it is answered 400 by the TLS layer (below), never with the app's answer.
    const plain = await fetch(`${b.url.replace('https:', 'http:')}/healthz`);
    expect(plain.status).toBe(400);
  });

  it('Kubernetes audit: a certificate with a listed subject from the client CA is accepted without a token; the CA of audit.client_ca_file is trusted with nothing else set', async () => {
    const b = await start({ server: { tls: TLS }, connectors: { kubeflow: { audit: { client_cert_subjects: ['kube-apiserver-audit'], client_ca_file: at('kube-ca.pem') } } } });
    const res = await send(`${b.url}${AUDIT_ROUTE}`, { method: 'POST', body: auditBatch('by-cert'), client: apiserver });
    expect(res.status, res.body).toBe(200);
    expect(JSON.parse(res.body).accepted).toBe(1);
    expect(auditIds(b)).toEqual(['by-cert']);
  });

  it('server.tls.client_ca_files: a certificate from a CA not listed (same subject, same CA name) is no cluster; a client without a certificate still gets in with the token', async () => {
    const b = await start({ server: { tls: { ...TLS, client_ca_files: [at('kube-ca.pem')] } }, connectors: { kubeflow: { audit: { client_cert_subjects: ['kube-apiserver-audit'] } } } }, { MLTRAIL_INGEST_TOKEN: TOKEN });
    expect((await send(`${b.url}${AUDIT_ROUTE}`, { method: 'POST', body: auditBatch('ok-cert'), client: apiserver })).status).toBe(200);
    const forged = await send(`${b.url}${AUDIT_ROUTE}`, { method: 'POST', body: auditBatch('forged'), client: rogue });
    expect(forged.status).toBe(401);
    // Said as a certificate that came and was not trusted, not as a client that sent none: the operator sees which CA
    // to list, the SOC which subject was claimed.
    expect(JSON.parse(forged.body).error.message).toMatch(/^client certificate not verified \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\): no client CA of server\.tls\.client_ca_files or client_ca_file issued it/);
    const failure = await waitFor(() =>
      b.spool
        .read('test-auth', 1000)
        .map((r) => JSON.parse(r.body) as { action?: string; error?: { message?: string }; details?: { claimed_principal?: string } })
        .find((e) => e.action === 'ingest.auth_failure'),
    );
    expect(failure?.error?.message).toMatch(/^client certificate not verified/);
    expect(failure?.details?.claimed_principal).toBe('kube-apiserver-audit');
    const noCert = await send(`${b.url}${AUDIT_ROUTE}`, { method: 'POST', body: auditBatch('by-token'), headers: { authorization: `Bearer ${TOKEN}` } });
    expect(noCert.status).toBe(200);
    const noCertEvents = await send(`${b.url}/v1/events`, { method: 'POST', body: JSON.stringify(sampleEvent()), headers: { authorization: `Bearer ${TOKEN}` } });
    expect(noCertEvents.status).toBe(200);
    expect((await send(`${b.url}${AUDIT_ROUTE}`, { method: 'POST', body: auditBatch('nothing') })).status).toBe(401);
    expect(auditIds(b).sort()).toEqual(['by-token', 'ok-cert']);
  });

  it('a client cannot renegotiate (TLS 1.2), where it could present a certificate of its own making that the server would not verify again', async () => {
    const b = await start({ server: { tls: { ...TLS, client_ca_files: [at('kube-ca.pem')] } }, connectors: { kubeflow: { audit: { client_cert_subjects: ['kube-apiserver-audit'] } } } }, { MLTRAIL_INGEST_TOKEN: TOKEN });
    const renegotiated = await new Promise<string>((resolve) => {
      let connected = false;
      const s = tlsConnect({ host: '127.0.0.1', port: b.port, ca: readFileSync(pki.caFile), maxVersion: 'TLSv1.2', ...apiserver }, () => {
        connected = s.authorized;
        s.renegotiate({}, (err) => (resolve(err ? 'refused' : 'renegotiated'), s.destroy()));
      });
      // The server's refusal ends the connection (an error on the client's side).
      s.on('error', (err) => (resolve(connected ? 'refused' : `not connected: ${err.message}`), s.destroy()));
    });
    expect(renegotiated).toBe('refused');
    // The connection the certificate came with still works for a new one.
    expect((await send(`${b.url}${AUDIT_ROUTE}`, { method: 'POST', body: auditBatch('after'), client: apiserver })).status).toBe(200);
  });

  it('a pinned cluster whose certificate comes through an intermediate is not refused on a resumed TLS session (which carries no chain)', async () => {
    const b = await start({ server: { tls: TLS }, connectors: { kubeflow: { audit: { client_cert_subjects: ['kube-apiserver-audit'], client_ca_file: at('kube-ca.pem') } } } });
    let session: Buffer | undefined;
    /** POST a batch on a connection of its own, offering the session of the one before (as an HTTPS agent does). */
    const post = (id: string) => new Promise<string>((resolve, reject) => {
      const body = auditBatch(id);
      const s = tlsConnect({ host: '127.0.0.1', port: b.port, ca: readFileSync(pki.caFile), ...viaIntermediate, ...(session ? { session } : {}) }, () => {
        s.write(`POST ${AUDIT_ROUTE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      });
      s.on('session', (x: Buffer) => (session = x));
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString()));
      s.on('end', () => resolve(out.split('\r\n')[0]!));
      s.on('error', reject);
    });
    expect(await post('first')).toBe('HTTP/1.1 200 OK');
    expect(session).toBeDefined();
    expect(await post('second')).toBe('HTTP/1.1 200 OK');
    expect(auditIds(b).sort()).toEqual(['first', 'second']);
  });

  it('with no client CA, no certificate is asked for: a listed subject is no identity, and the start says so', async () => {
    const lines: string[] = [];
    const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir(), MLTRAIL_INGEST_TOKEN: TOKEN }, overrides: { server: { port: 0, tls: TLS }, connectors: { kubeflow: { audit: { client_cert_subjects: ['kube-apiserver-audit'] } } } } });
    const b = await startBridge(cfg, { logger: createLogger({ level: 'warn', destination: { write: (l: string) => void lines.push(l) } }), env: {} });
    running.push(b);
    expect((await send(`${b.url}${AUDIT_ROUTE}`, { method: 'POST', body: auditBatch('x'), client: apiserver })).status).toBe(401);
    expect(lines.join('')).toContain('connectors.kubeflow.audit.client_cert_subjects: server.tls trusts no client CA');
  });

  it('reloadTls serves a renewed certificate to new connections; an unusable pair keeps the previous one', async () => {
    const { dir, certFile, keyFile } = ownPair();
    const b = await start({ server: { tls: { cert_file: certFile, key_file: keyFile } } }, { MLTRAIL_INGEST_TOKEN: TOKEN });
    const servedCert = () => servedSerial(b.port);
    const first = await servedCert();
    // Renewed: a new certificate of the same key, as cert-manager or certbot write it.
    ssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', join(dir, 'tls.crt'));
    const renewed = new X509Certificate(readFileSync(certFile));
    expect(b.reloadTls!()).toEqual({ valid_to: renewed.validTo });
    expect(await servedCert()).toBe(renewed.serialNumber);
    expect(renewed.serialNumber).not.toBe(first);
    // A key of another certificate: refused, named, and the renewed certificate stays.
    copyFileSync(at('kube-ca.key'), keyFile);
    expect(() => b.reloadTls!()).toThrow(/server\.tls\.key_file: .*tls\.key does not match the certificate in .*tls\.crt/);
    expect(await servedCert()).toBe(renewed.serialNumber);
    expect((await send(`${b.url}/readyz`)).status).toBe(200);
  });

  it('a certificate renewed on disk is picked up by itself (reload_check_s); one close to its expiry is warned about once', async () => {
    const { dir, certFile, keyFile } = ownPair();
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    const logged = () => lines.map((l) => JSON.parse(l) as { level: number; msg: string; valid_to?: string });
    const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir(), MLTRAIL_INGEST_TOKEN: TOKEN }, overrides: { server: { port: 0, tls: { cert_file: certFile, key_file: keyFile, reload_check_s: 1 } } } });
    const b = await startBridge(cfg, { logger, env: {} });
    running.push(b);
    // The test certificate is valid one day: said at start, once.
    const first = new X509Certificate(readFileSync(certFile));
    expect(logged().filter((l) => l.msg.includes('certificate expires at'))).toEqual([expect.objectContaining({ level: 40, valid_to: first.validTo })]);
    // cert-manager writes the renewed pair: no SIGHUP, the bridge notices within reload_check_s.
    ssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30', '-extfile', 'ext.cnf', '-out', join(dir, 'tls.crt.new'));
    copyFileSync(join(dir, 'tls.crt.new'), certFile);
    const renewed = new X509Certificate(readFileSync(certFile));
    await waitFor(async () => (await servedSerial(b.port)) === renewed.serialNumber, 10_000, 'the renewed certificate served');
    expect(logged().filter((l) => l.msg.includes('changed: re-read'))).toEqual([expect.objectContaining({ level: 30, valid_to: renewed.validTo })]);
    // 30 days left: no further expiry warning; a key that does not fit is said once and the renewed pair stays.
    copyFileSync(at('kube-ca.key'), keyFile);
    await waitFor(() => logged().some((l) => l.msg.includes('previous certificate stays in use')), 10_000, 'the refused pair');
    expect(await servedSerial(b.port)).toBe(renewed.serialNumber);
    await new Promise((r) => setTimeout(r, 1500));
    expect(logged().filter((l) => l.msg.includes('previous certificate stays in use'))).toHaveLength(1);
    expect(logged().filter((l) => l.msg.includes('certificate expires at'))).toHaveLength(1);
  });

  it('a client CA file rotated on disk is trusted without a restart (reload_check_s); one gone bad or deleted keeps the previous CAs, said once', async () => {
    const caFile = join(tmpDir(), 'client-ca.pem');
    copyFileSync(at('kube-ca.pem'), caFile);
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    const logged = () => lines.map((l) => JSON.parse(l) as { level: number; msg: string; code?: string });
    const kept = () => logged().filter((l) => l.msg.includes('previous certificate stays in use, with its client CAs'));
    const cfg = loadConfig({
      env: { MLTRAIL_DATA_DIR: tmpDir(), MLTRAIL_INGEST_TOKEN: TOKEN },
      overrides: { server: { port: 0, tls: { ...TLS, client_ca_files: [caFile], reload_check_s: 1 } }, connectors: { kubeflow: { audit: { client_cert_subjects: ['kube-apiserver-audit'] } } } },
    });
    const b = await startBridge(cfg, { logger, env: {} });
    running.push(b);
    const post = async (id: string, client: { cert: Buffer; key: Buffer }) => (await send(`${b.url}${AUDIT_ROUTE}`, { method: 'POST', body: auditBatch(id), client })).status;
    expect(await post('kube-1', apiserver)).toBe(200);
    expect(await post('rogue-1', rogue)).toBe(401);
    // A CA rotation: the new CA is added to the bundle (the old one stays while its certificates are in use).
    writeFileSync(caFile, readFileSync(at('kube-ca.pem'), 'utf8') + readFileSync(at('rogue-ca.pem'), 'utf8'));
    await waitFor(async () => (await post('rogue-2', rogue)) === 200, 10_000, 'the added CA trusted');
    expect(logged().filter((l) => l.msg.includes('changed: re-read'))).toHaveLength(1);
    // Written over with something that is no CA bundle: the CAs in use stay (never no client verification), said once.
    writeFileSync(caFile, 'hello\n');
    await waitFor(() => kept().length > 0, 10_000, 'the refused CA file');
    expect(kept()[0]).toEqual(expect.objectContaining({ level: 50, code: 'MLTRAIL_ERR_CONFIG', msg: expect.stringContaining(`client CA file (server.tls.client_ca_files): ${caFile} holds no PEM certificate`) }));
    expect(await post('kube-2', apiserver)).toBe(200);
    expect(await post('rogue-3', rogue)).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    expect(kept()).toHaveLength(1);
    // Deleted: said too; still the same CAs.
    unlinkSync(caFile);
    await waitFor(() => kept().length > 1, 10_000, 'the deleted CA file');
    expect(kept()[1]!.msg).toContain(`cannot read ${caFile}: ENOENT`);
    expect(await post('kube-3', apiserver)).toBe(200);
  });

  it('a Kubeflow client_ca_file re-read (SIGHUP: reloadTls) moves the TLS trust and the cluster pin together; a file holding no CA is refused and both stay', async () => {
    const pinFile = join(tmpDir(), 'cluster-ca.pem');
    copyFileSync(at('kube-ca.pem'), pinFile);
    const b = await start({ server: { tls: { ...TLS, reload_check_s: 0 } }, connectors: { kubeflow: { audit: { client_cert_subjects: ['kube-apiserver-audit'], client_ca_file: pinFile } } } });
    const post = async (id: string, client: { cert: Buffer; key: Buffer }) => send(`${b.url}${AUDIT_ROUTE}`, { method: 'POST', body: auditBatch(id), client });
    expect((await post('kube-1', apiserver)).status).toBe(200);
    expect((await post('rogue-1', rogue)).status).toBe(401);
    // The cluster's CA replaced: its certificates verify and are pinned from the same moment (a pin left behind would
    // refuse them as "client_ca_file did not issue it"), and the old CA's no longer count.
    copyFileSync(at('rogue-ca.pem'), pinFile);
    b.reloadTls!();
    const rotated = await post('rogue-2', rogue);
    expect(rotated.status, rotated.body).toBe(200);
    expect((await post('kube-2', apiserver)).status).toBe(401);
    // A client certificate put where the CA belongs: refused, named; trust and pin stay on the CA in use.
    copyFileSync(at('apiserver.crt'), pinFile);
    expect(() => b.reloadTls!()).toThrow(/client CA file \(a connector's client_ca_file\): \S*cluster-ca\.pem: certificate 1 \(CN=kube-apiserver-audit\) is not a CA certificate/);
    expect((await post('rogue-3', rogue)).status).toBe(200);
    expect((await post('kube-3', apiserver)).status).toBe(401);
    expect(auditIds(b).sort()).toEqual(['kube-1', 'rogue-2', 'rogue-3']);
  });

  it('a client CA file holding a private key is refused at start and on re-read (the material in use stays); a certificate chain with its key appended is served, given as both files or not', async () => {
    const caWithKey = readFileSync(at('kube-ca.pem'), 'utf8') + readFileSync(at('kube-ca.key'), 'utf8');
    const keyLine = readFileSync(at('kube-ca.key'), 'utf8').split('\n')[1]!;
    // Checked by the config, then the files turn bad before the start reads them: the start refuses, naming the file.
    const caFile = join(tmpDir(), 'client-ca.pem');
    copyFileSync(at('kube-ca.pem'), caFile);
    const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir(), MLTRAIL_INGEST_TOKEN: TOKEN }, overrides: { server: { port: 0, tls: { ...TLS, client_ca_files: [caFile], reload_check_s: 0 } } } });
    writeFileSync(caFile, caWithKey);
    const refused = await startBridge(cfg, { logger: silentLogger(), env: {} }).then((b) => (running.push(b), undefined), (err: Error) => err);
    expect(refused?.message).toMatch(/client CA file \(server\.tls\.client_ca_files\): \S*client-ca\.pem holds a private key \(-----BEGIN PRIVATE KEY-----\)/);
    expect(refused).toMatchObject({ code: 'MLTRAIL_ERR_CONFIG' });
    expect(refused!.message).not.toContain(keyLine);
    // Running: a re-read finding a key in the CA file refuses the set; the previous CAs and pair stay.
    const { certFile, keyFile } = ownPair();
    copyFileSync(at('kube-ca.pem'), caFile);
    const b = await start({ server: { tls: { cert_file: certFile, key_file: keyFile, client_ca_files: [caFile], reload_check_s: 0 } }, connectors: { kubeflow: { audit: { client_cert_subjects: ['kube-apiserver-audit'] } } } }, { MLTRAIL_INGEST_TOKEN: TOKEN });
    const first = await servedSerial(b.port);
    writeFileSync(caFile, caWithKey);
    expect(() => b.reloadTls!()).toThrow(/client CA file \(server\.tls\.client_ca_files\): \S*client-ca\.pem holds a private key/);
    expect((await send(`${b.url}${AUDIT_ROUTE}`, { method: 'POST', body: auditBatch('still-trusted'), client: apiserver })).status).toBe(200);
    // A key appended to cert_file while key_file is its own file: read as before (the chain file is the server's, not
    // handed out by it), so a working setup keeps serving after an upgrade.
    copyFileSync(at('kube-ca.pem'), caFile);
    ssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', `${certFile}.new`);
    writeFileSync(certFile, readFileSync(`${certFile}.new`, 'utf8') + pki.key);
    b.reloadTls!();
    expect(await servedSerial(b.port)).not.toBe(first);
    // The same certificate and key in one file named by both keys: a normal setup, served.
    const combined = join(tmpDir(), 'tls.pem');
    writeFileSync(combined, readFileSync(`${certFile}.new`, 'utf8') + pki.key);
    const c = await start({ server: { tls: { cert_file: combined, key_file: combined } } }, { MLTRAIL_INGEST_TOKEN: TOKEN });
    expect(await servedSerial(c.port)).toBe(new X509Certificate(readFileSync(combined)).serialNumber);
  });

  it('a client CA certificate within 14 days of expiry is warned about once per certificate, at start and when a rotated CA file is re-read', async () => {
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=long-lived-ca', '-keyout', 'long-ca.key', '-out', 'long-ca.pem');
    const caFile = join(tmpDir(), 'client-ca.pem');
    const pinFile = join(tmpDir(), 'cluster-ca.pem');
    copyFileSync(at('long-ca.pem'), caFile);
    copyFileSync(at('kube-ca.pem'), pinFile);
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    const caWarnings = () => lines.map((l) => JSON.parse(l) as { level: number; msg: string; client_ca_file?: string; valid_to?: string }).filter((l) => l.msg.includes('client CA certificate'));
    const cfg = loadConfig({
      env: { MLTRAIL_DATA_DIR: tmpDir(), MLTRAIL_INGEST_TOKEN: TOKEN },
      overrides: { server: { port: 0, tls: { ...TLS, client_ca_files: [caFile], reload_check_s: 1 } }, connectors: { kubeflow: { audit: { client_cert_subjects: ['kube-apiserver-audit'], client_ca_file: pinFile } } } },
    });
    const b = await startBridge(cfg, { logger, env: {} });
    running.push(b);
    // The Kubeflow pin's CA (valid one day) is said at start; the ten-year CA is not.
    const kubeCa = new X509Certificate(readFileSync(at('kube-ca.pem')));
    expect(caWarnings()).toEqual([expect.objectContaining({ level: 40, client_ca_file: pinFile, valid_to: kubeCa.validTo, msg: expect.stringContaining('CN=kubernetes') })]);
    // server.tls.client_ca_files rotated to a CA close to its expiry: said once it is in use.
    copyFileSync(at('rogue-ca.pem'), caFile);
    await waitFor(() => caWarnings().length > 1, 10_000, 'the rotated CA warned about');
    const rogueCa = new X509Certificate(readFileSync(at('rogue-ca.pem')));
    expect(caWarnings()[1]).toEqual(expect.objectContaining({ level: 40, client_ca_file: caFile, valid_to: rogueCa.validTo }));
    // Once per certificate, not at every check.
    await new Promise((r) => setTimeout(r, 2500));
    expect(caWarnings()).toHaveLength(2);
  });

  it('a SIGHUP re-read with polling off (reload_check_s: 0) is checked for expiry too: a rotated client CA close to its end is warned about once', async () => {
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=hup-long-lived-ca', '-keyout', 'hup-ca.key', '-out', 'hup-ca.pem');
    const caFile = join(tmpDir(), 'client-ca.pem');
    copyFileSync(at('hup-ca.pem'), caFile);
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    const caWarnings = () => lines.map((l) => JSON.parse(l) as { level: number; msg: string; client_ca_file?: string }).filter((l) => l.msg.includes('client CA certificate'));
    const cfg = loadConfig({
      env: { MLTRAIL_DATA_DIR: tmpDir(), MLTRAIL_INGEST_TOKEN: TOKEN },
      overrides: { server: { port: 0, tls: { ...TLS, client_ca_files: [caFile], reload_check_s: 0 } }, connectors: { kubeflow: { audit: { client_cert_subjects: ['kube-apiserver-audit'] } } } },
    });
    const b = await startBridge(cfg, { logger, env: {} });
    running.push(b);
    expect(caWarnings()).toEqual([]);
    copyFileSync(at('rogue-ca.pem'), caFile);
    b.reloadTls!();
    b.reloadTls!();
    // The rotated-in CA (CN=kubernetes, valid one day), once for the two re-reads.
    expect(caWarnings()).toEqual([expect.objectContaining({ level: 40, client_ca_file: caFile, msg: expect.stringContaining('CN=kubernetes') })]);
  });

  it('bound elsewhere without a token it still refuses to start', async () => {
    const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir() }, overrides: { server: { port: 0, host: '0.0.0.0', tls: TLS } } });
    await expect(startBridge(cfg, { logger: silentLogger(), env: {} })).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without an ingest token/);
  });
});

/** `openssl s_client` connecting to 127.0.0.1:`port` with `args`; resolves when it ended (it aborts a handshake it refuses with an alert). */
function sClient(port: number, ...args: string[]) {
  return new Promise<void>((resolve) => {
    const p = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-verify_return_error', ...args], { stdio: ['pipe', 'ignore', 'ignore'] });
    p.stdin!.end();
    p.on('exit', () => resolve());
  });
}
/** A TLS client with `opts` that the server refuses; resolves once the connection failed. */
function refusedTls(port: number, opts: Record<string, unknown>) {
  return new Promise<void>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(pki.caFile), ...opts }, () => (s.destroy(), reject(new Error('the handshake succeeded'))));
    s.on('error', () => resolve());
  });
}
/**
 * Write `bytes` on a plain TCP connection to 127.0.0.1:`port` and resolve with all that came back until it closed;
 * with `firstWrite`, its first `firstWrite` bytes alone, the rest 50 ms later.
 */
function rawExchange(port: number, bytes: Buffer, firstWrite?: number) {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = netConnect(port, '127.0.0.1', () => {
      if (firstWrite === undefined) return void s.write(bytes);
      s.setNoDelay(true);
      s.write(bytes.subarray(0, firstWrite));
      setTimeout(() => s.write(bytes.subarray(firstWrite)), 50);
    });
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : reject(err)));
    s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
  });
}
/** A connection closed before it sent a byte, as a TCP health check makes. */
function tcpProbe(port: number) {
  return new Promise<void>((resolve) => {
    const s = netConnect(port, '127.0.0.1', () => s.destroy());
    s.on('close', () => resolve());
  });
}
const failureCounts = async (url: string) =>
  Object.fromEntries([...(await send(`${url}/metrics`)).body.matchAll(/^mltrail_tls_handshake_failures_total\{reason="(\w+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));

describe('server.tls: failed TLS handshakes are counted and logged', () => {
  it('each reason counted in mltrail_tls_handshake_failures_total; one warn line per reason, with the peer and an error code, no certificate bytes; a TCP probe is no handshake', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir(), MLTRAIL_INGEST_TOKEN: TOKEN }, overrides: { server: { port: 0, tls: { ...TLS, min_version: 'TLSv1.3', client_ca_files: [at('kube-ca.pem')] } } } });
    const b = await startBridge(cfg, { logger, env: {} });
    running.push(b);
    expect(await failureCounts(b.url)).toEqual({ unknown_ca: 0, bad_certificate: 0, no_shared_cipher: 0, protocol_version: 0, not_tls: 0, other: 0 });
    // A client trusting another CA (alert unknown_ca), twice; one checking another name (alert bad_certificate).
    await sClient(b.port, '-CAfile', at('kube-ca.pem'));
    await sClient(b.port, '-CAfile', at('kube-ca.pem'));
    await sClient(b.port, '-CAfile', pki.caFile, '-verify_hostname', 'other.example');
    // TLS 1.2 only, where min_version is TLSv1.3; plain HTTP to the HTTPS port; a TCP probe.
    await refusedTls(b.port, { maxVersion: 'TLSv1.2' });
    expect((await fetch(`${b.url.replace('https:', 'http:')}/healthz`)).status).toBe(400);
    await tcpProbe(b.port);
    await waitFor(async () => (await failureCounts(b.url)).not_tls === 1, 5000, 'the plain HTTP request counted');
    expect(await failureCounts(b.url)).toEqual({ unknown_ca: 2, bad_certificate: 1, no_shared_cipher: 0, protocol_version: 1, not_tls: 1, other: 0 });
    const warned = lines.map((l) => JSON.parse(l) as { level: number; code?: string; reason?: string; count?: number; peer_ip?: string; tls_error?: string }).filter((l) => l.code === 'MLTRAIL_ERR_TLS_HANDSHAKE');
    // Within the minute, one line per reason (the second unknown_ca waits for the window's end).
    expect(warned.map((l) => l.reason).sort()).toEqual(['bad_certificate', 'not_tls', 'protocol_version', 'unknown_ca']);
    for (const l of warned) expect(l).toEqual(expect.objectContaining({ level: 40, count: 1, peer_ip: '127.0.0.1', tls_error: expect.stringMatching(/^ERR_SSL_/) }));
    expect(warned.find((l) => l.reason === 'unknown_ca')?.tls_error).toBe('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
    expect(lines.join('')).not.toContain('BEGIN CERTIFICATE');
    // Handshakes that succeed are not counted, with or without a client certificate.
    expect((await send(`${b.url}/healthz`, { client: apiserver })).status).toBe(200);
    expect((await failureCounts(b.url)).other).toBe(0);
  });

  it('plain HTTP to the HTTPS port is answered as Go net/http answers it (400 and the reason), still counted not_tls; a TLS record is never answered in plaintext', async () => {
    const b = await start({ server: { tls: TLS } }, { MLTRAIL_INGEST_TOKEN: TOKEN });
    // An MLflow webhook whose URL says http://: a POST with a body, as a sender's HTTP client makes it.
    const res = await fetch(`${b.url.replace('https:', 'http:')}/v1/mlflow/webhook`, { method: 'POST', body: JSON.stringify({ entity: 'model_version' }), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('Client sent an HTTP request to an HTTPS server.\n');
    // The exact bytes on the wire (Go's): the status line, no header, the reason; then the connection closes.
    expect(await rawExchange(b.port, Buffer.from('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'))).toBe('HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n');
    // Bytes that start like a TLS record (handshake, a version no TLS has; OpenSSL: wrong version number, counted
    // not_tls too) and a client hello the server refuses get no plaintext: nothing, or a TLS alert.
    expect(await rawExchange(b.port, Buffer.from([0x16, 0x09, 0x09, 0x00, 0x05, 1, 2, 3, 4, 5]))).toBe('');
    const hello = await rawExchange(b.port, Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x08]), Buffer.from('GET / HT')]));
    expect(hello).not.toContain('HTTP/');
    const total = async () => Object.values(await failureCounts(b.url)).reduce((a, n) => a + n, 0);
    await waitFor(async () => (await total()) === 4, 5000, 'the four failed handshakes counted');
    expect(await failureCounts(b.url)).toMatchObject({ not_tls: 3, other: 1 });
  });

  it('plain HTTP with any method is answered so (OPTIONS, DELETE, PATCH, CONNECT, TRACE too, request line in one write or several); bytes that start like a TLS record never are', async () => {
    const b = await start({ server: { tls: TLS } }, { MLTRAIL_INGEST_TOKEN: TOKEN });
    const requests = [
      'GET /healthz HTTP/1.1',
      'POST /v1/events HTTP/1.1',
      'HEAD /healthz HTTP/1.1',
      'PUT /v1/events HTTP/1.1',
      'OPTIONS * HTTP/1.1',
      'OPTIONS /v1/events HTTP/1.1',
      'DELETE /v1/events/1 HTTP/1.1',
      'PATCH /v1/events HTTP/1.1',
      'CONNECT 127.0.0.1:443 HTTP/1.1',
      'TRACE / HTTP/1.1',
      'PROPFIND /dav HTTP/1.1',
    ];
    for (const line of requests) {
      expect(await rawExchange(b.port, Buffer.from(`${line}\r\nHost: 127.0.0.1\r\n\r\n`)), line).toBe('HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n');
    }
    // A sender whose request line comes in pieces (the method alone first) is answered too.
    expect(await rawExchange(b.port, Buffer.from('DELETE /v1/events/1 HTTP/1.1\r\n\r\n'), 3)).toBe(PLAIN_HTTP_ANSWER);
    // A TLS record of each content type (change_cipher_spec, alert, handshake, application_data) followed by
    // request-line text, and a method with no space or target after it get no plaintext (an SSLv2-style hello's
    // first byte, 0x80 or more, is no tchar either: startsRequestLine below).
    for (const type of [0x14, 0x15, 0x16, 0x17]) {
      expect(await rawExchange(b.port, Buffer.concat([Buffer.from([type]), Buffer.from('ET / HTTP/1.1\r\n\r\n')]))).not.toContain('HTTP/');
    }
    expect(await rawExchange(b.port, Buffer.from('DELETE\r\n\r\n'))).toBe('');
    // Each one still a failed handshake: the requests counted not_tls.
    const total = async () => Object.values(await failureCounts(b.url)).reduce((a, n) => a + n, 0);
    await waitFor(async () => (await total()) === requests.length + 6, 5000, 'every failed handshake counted');
    expect(await failureCounts(b.url)).toMatchObject({ not_tls: requests.length + 6, other: 0 });
    // The server still speaks TLS.
    expect((await send(`${b.url}/healthz`)).status).toBe(200);
  });

  it('a request line is a method token, one space and a visible byte; no TLS record or SSLv2 hello reads as one', () => {
    expect(startsRequestLine(Buffer.from('M-SEARCH * HTTP/1.1'))).toBe(true);
    expect(startsRequestLine(Buffer.from('GET http://example.com/ HTTP/1.1'))).toBe(true);
    // Not enough bytes to say yet: waited for.
    expect(startsRequestLine(Buffer.from('OPTIO'))).toBeUndefined();
    expect(startsRequestLine(Buffer.from('OPTIONS '))).toBeUndefined();
    for (const head of [Buffer.from(' GET /'), Buffer.from('GET  /'), Buffer.from('GET\t/'), Buffer.from('G(T /'), Buffer.from('A'.repeat(64)), Buffer.from([0x80, 0x2e, 0x01, 0x03, 0x01]), Buffer.from([0x16, 0x03, 0x01, 0x00, 0x20])]) {
      expect(startsRequestLine(head), JSON.stringify(head.toString('latin1'))).toBe(false);
    }
    for (let type = 0x14; type <= 0x17; type++) expect(startsRequestLine(Buffer.concat([Buffer.from([type]), Buffer.from('ET / HTTP/1.1')]))).toBe(false);
  });

  it('no shared cipher suite is its own reason', async () => {
    const b = await start({ server: { tls: TLS } });
    // The server's key is RSA: a TLS 1.2 client offering ECDSA suites only shares none.
    await refusedTls(b.port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    expect((await failureCounts(b.url)).no_shared_cipher).toBe(1);
  });

  it('the log is rate-limited per reason: failures within the window are said at its end with their count; a quiet window says nothing', async () => {
    const server = createHttpsServer({ cert: readFileSync(TLS.cert_file), key: readFileSync(TLS.key_file) }, (_req, res) => res.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const lines: string[] = [];
    const metrics = createMetrics();
    // The windows end when the test says (it waited 500 ms of real time, which a loaded machine spent on starting
    // openssl: the window closed before the failures meant to fall in it, and the counts came out split).
    const timers: Array<{ fn: () => void; ms: number; cancelled: boolean }> = [];
    const setTimer = (fn: () => void, ms: number) => {
      const t = { fn, ms, cancelled: false };
      timers.push(t);
      return () => void (t.cancelled = true);
    };
    const pending = () => timers.filter((t) => !t.cancelled);
    // Ends every open window (the timers set so far), as their time passing would.
    const endWindows = () => {
      for (const t of timers.splice(0)) if (!t.cancelled) t.fn();
    };
    const stop = watchHandshakeFailures(server, { log: createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } }), metrics, windowMs: 500, setTimer });
    try {
      const port = (server.address() as AddressInfo).port;
      const counts = () => lines.map((l) => JSON.parse(l) as { reason: string; count: number; window_s: number }).map((l) => `${l.reason}:${l.count}`);
      const plainHttp = () => fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
      await plainHttp();
      await waitFor(() => counts().length === 1, 2000, 'the first line');
      // The first failure of a reason is said at once and opens its window.
      expect(pending().map((t) => t.ms)).toEqual([500]);
      expect((JSON.parse(lines[0]!) as { window_s: number }).window_s).toBe(0.5);
      await plainHttp();
      await plainHttp();
      await sClient(port, '-CAfile', at('kube-ca.pem'));
      await waitFor(() => counts().length === 2, 2000, 'the unknown CA line');
      // Within the window: counted, not said; another reason has its own window.
      expect(counts()).toEqual(['not_tls:1', 'unknown_ca:1']);
      expect(pending()).toHaveLength(2);
      endWindows();
      expect(counts()).toEqual(['not_tls:1', 'unknown_ca:1', 'not_tls:2']);
      // The line at a window's end opens the next window; the quiet unknown_ca window closed without one.
      expect(pending()).toHaveLength(1);
      endWindows();
      expect(counts()).toHaveLength(3);
      expect(pending()).toHaveLength(0);
      expect((await metrics.registry.getSingleMetric('mltrail_tls_handshake_failures_total')!.get()).values.find((v) => v.labels.reason === 'not_tls')?.value).toBe(3);
      // A failure after the quiet window is said at once again.
      await plainHttp();
      await waitFor(() => counts().length === 4, 2000, 'the line after a quiet window');
      expect(counts().at(-1)).toBe('not_tls:1');
    } finally {
      stop();
      server.close();
    }
    // stop() cancelled the window it left open.
    expect(pending()).toHaveLength(0);
  });

});

describe('server.tls: check-config names what is wrong with the files', () => {
  const check = async (tls: Record<string, unknown>) => {
    const file = join(tmpDir(), 'mltrail.yaml');
    writeFileSync(file, `server:\n  tls: ${JSON.stringify(tls)}\n`);
    const r = await runCli(['check-config', file]);
    return { code: r.code, err: r.err, file };
  };

  it('missing or unreadable files, non-PEM, PEM text, a mismatched or encrypted key, a client CA that is no CA, unknown keys', async () => {
    const notPem = join(tmpDir(), 'notes.txt');
    writeFileSync(notPem, 'hello\n');
    ssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-aes-128-cbc', '-pass', 'pass:secret', '-out', 'enc.key');
    // A bundle written CA first: the key is the server certificate's, the order is wrong.
    writeFileSync(at('ca-first.pem'), readFileSync(pki.caFile, 'utf8') + pki.cert);
    // A CA bundle with the CA's own key in it; a chain with the server's key appended while key_file is its own file.
    writeFileSync(at('ca-with-key.pem'), readFileSync(at('kube-ca.pem'), 'utf8') + readFileSync(at('kube-ca.key'), 'utf8'));
    writeFileSync(at('srv-with-key.pem'), pki.cert + pki.key);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...TLS, cert_file: '/nonexist/tls.crt' }, /server\.tls\.cert_file: cannot read \/nonexist\/tls\.crt: ENOENT/],
      [{ ...TLS, key_file: '/nonexist/tls.key' }, /server\.tls\.key_file: cannot read \/nonexist\/tls\.key: ENOENT/],
      [{ ...TLS, cert_file: pki.dir }, /server\.tls\.cert_file: .* is not a file/],
      [{ ...TLS, cert_file: notPem }, /server\.tls\.cert_file: .*notes\.txt holds no PEM certificate/],
      [{ ...TLS, key_file: notPem }, /server\.tls\.key_file: .*notes\.txt holds no PEM private key/],
      [{ ...TLS, key_file: pki.key }, /server\.tls\.key_file: is PEM text, not a file name/],
      [{ ...TLS, key_file: at('kube-ca.key') }, /server\.tls\.key_file: .*kube-ca\.key does not match the certificate in .*srv\.pem \(CN=127\.0\.0\.1\)/],
      [{ ...TLS, key_file: at('enc.key') }, /server\.tls\.key_file: .*enc\.key is encrypted/],
      [{ ...TLS, cert_file: at('ca-first.pem') }, /server\.tls\.cert_file: .*ca-first\.pem: the key in .*srv\.pem\.key is for certificate 2 \(CN=127\.0\.0\.1\), not the first \(CN=mltrail-test-ca\): put the server's certificate first/],
      [{ ...TLS, client_ca_files: [at('apiserver.crt')] }, /server\.tls\.client_ca_files\.0: .*apiserver\.crt: certificate 1 \(CN=kube-apiserver-audit\) is not a CA certificate/],
      [{ ...TLS, client_ca_files: ['/nonexist/ca.pem'] }, /server\.tls\.client_ca_files\.0: cannot read \/nonexist\/ca\.pem: ENOENT/],
      [{ ...TLS, client_ca_files: [at('ca-with-key.pem')] }, /server\.tls\.client_ca_files\.0: \S*ca-with-key\.pem holds a private key \(-----BEGIN PRIVATE KEY-----\): a client CA bundle is handed out/],
      [{ key_file: TLS.key_file }, /server\.tls\.cert_file: /],
      [{ ...TLS, min_version: 'TLSv1.1' }, /server\.tls\.min_version: /],
      [{ ...TLS, ca_file: at('kube-ca.pem') }, /server\.tls: .*ca_file/],
    ];
    for (const [tls, expected] of cases) {
      const r = await check(tls);
      expect(r.code, JSON.stringify(tls)).toBe(1);
      expect(r.err).toMatch(expected);
    }
    // The private key's text never reaches the output.
    expect((await check({ ...TLS, key_file: pki.key })).err).not.toContain(pki.key.split('\n')[1]);
    const ok = await check({ ...TLS, client_ca_files: [at('kube-ca.pem')] });
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    // No byte of a key found in a CA bundle is printed; one PEM holding certificate and key, named by both keys, is fine.
    expect((await check({ ...TLS, client_ca_files: [at('ca-with-key.pem')] })).err).not.toContain(readFileSync(at('kube-ca.key'), 'utf8').split('\n')[1]);
    expect(await check({ cert_file: at('srv-with-key.pem'), key_file: at('srv-with-key.pem') })).toMatchObject({ code: 0, err: '' });
  });

  it('both files wrong: each is named by its key path in one run (only cert_file was)', async () => {
    const notPem = join(tmpDir(), 'notes.txt');
    writeFileSync(notPem, 'hello\n');
    const cases: Array<[Record<string, unknown>, RegExp[]]> = [
      [{ cert_file: '/nonexist/tls.crt', key_file: '/nonexist/tls.key' }, [/server\.tls\.cert_file: cannot read \/nonexist\/tls\.crt: ENOENT/, /server\.tls\.key_file: cannot read \/nonexist\/tls\.key: ENOENT/]],
      [{ cert_file: notPem, key_file: pki.dir }, [/server\.tls\.cert_file: \S*notes\.txt holds no PEM certificate/, /server\.tls\.key_file: \S* is not a file/]],
      [{ cert_file: '/nonexist/tls.crt', key_file: notPem }, [/server\.tls\.cert_file: cannot read/, /server\.tls\.key_file: \S*notes\.txt holds no PEM private key/]],
    ];
    for (const [tls, expected] of cases) {
      const r = await check(tls);
      expect(r.code, JSON.stringify(tls)).toBe(1);
      expect(r.err).toMatch(/2 problems/);
      for (const e of expected) expect(r.err).toMatch(e);
    }
    // A certificate that cannot be read beside a good key names the certificate only.
    const one = await check({ ...TLS, cert_file: '/nonexist/tls.crt' });
    expect(one.err).toMatch(/1 problem\b/);
    expect(one.err).not.toMatch(/server\.tls\.key_file/);
  });

  it('the files are named in the same run as another key of the block that is wrong (an unset variable, a misspelt value)', async () => {
    writeFileSync(at('ca-with-key.pem'), readFileSync(at('kube-ca.pem'), 'utf8') + readFileSync(at('kube-ca.key'), 'utf8'));
    const caWithKey = /server\.tls\.client_ca_files\.0: \S*ca-with-key\.pem holds a private key/;
    const unset = await check({ ...TLS, client_ca_files: [at('ca-with-key.pem')], min_version: '${MLTRAIL_TEST_UNSET_TLS_VERSION}' });
    expect(unset.code).toBe(1);
    expect(unset.err).toMatch(/server\.tls\.min_version: environment variable MLTRAIL_TEST_UNSET_TLS_VERSION is not set/);
    expect(unset.err).toMatch(caWithKey);
    const misspelt = await check({ ...TLS, key_file: at('kube-ca.key'), client_ca_files: [at('ca-with-key.pem')], min_version: 'TLSv1.1' });
    expect(misspelt.err).toMatch(/server\.tls\.min_version: /);
    expect(misspelt.err).toMatch(caWithKey);
    expect(misspelt.err).toMatch(/server\.tls\.key_file: .*kube-ca\.key does not match the certificate/);
    // A Kubeflow cluster's CA file beside another key of the cluster that is wrong.
    const file = join(tmpDir(), 'mltrail.yaml');
    writeFileSync(file, `connectors:\n  kubeflow:\n    audit:\n      client_cert_subjects: [kube-apiserver-audit]\n      client_ca_file: ${at('ca-with-key.pem')}\n      keep_all: maybe\n`);
    const kf = await runCli(['check-config', file]);
    expect(kf.err).toMatch(/connectors\.kubeflow\.audit\.keep_all: /);
    expect(kf.err).toMatch(/connectors\.kubeflow\.audit\.client_ca_file: \S*ca-with-key\.pem holds a private key/);
  });

  it('a Kubeflow client_ca_file holding a private key is named by its key path', async () => {
    const caFile = join(tmpDir(), 'cluster-ca.pem');
    writeFileSync(caFile, readFileSync(at('kube-ca.pem'), 'utf8') + readFileSync(at('kube-ca.key'), 'utf8'));
    const file = join(tmpDir(), 'mltrail.yaml');
    writeFileSync(file, `connectors:\n  kubeflow:\n    audit:\n      client_cert_subjects: [kube-apiserver-audit]\n      client_ca_file: ${caFile}\n`);
    const r = await runCli(['check-config', file]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/connectors\.kubeflow\.audit\.client_ca_file: \S*cluster-ca\.pem holds a private key/);
  });
});

describe('mltrail serve with server.tls', () => {
  it('serves HTTPS on the port the kernel picked, and a SIGHUP re-reads the certificate', async () => {
    const dir = tmpDir();
    const certFile = join(dir, 'tls.crt');
    copyFileSync(at('srv.pem'), certFile);
    const file = join(dir, 'mltrail.yaml');
    writeFileSync(file, `server:\n  port: 0\n  tls: { cert_file: ${certFile}, key_file: ${TLS.key_file} }\ndata_dir: ${join(dir, 'data')}\n`);
    const proc = spawn(process.execPath, [CLI, 'serve', '--config', file], { env: { ...process.env, MLTRAIL_INGEST_TOKEN: TOKEN, MLTRAIL_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise((r) => proc.on('exit', r));
    try {
      const url = await waitFor(() => {
        if (proc.exitCode !== null) throw new Error(`mltrail serve exited: ${err}`);
        return /"url":"(https:\/\/127\.0\.0\.1:\d+)"/.exec(err)?.[1];
      }, 20_000, 'the listening line');
      const event = sampleEvent();
      expect((await send(`${url}/v1/events`, { method: 'POST', body: JSON.stringify(event), headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
      ssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', certFile);
      proc.kill('SIGHUP');
      await waitFor(() => err.includes('server.tls certificate and key re-read'), 20_000, 'the reload line');
      const port = Number(new URL(url).port);
      const serial = await new Promise<string>((resolve, reject) => {
        const s = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(pki.caFile) }, () => (resolve(s.getPeerX509Certificate()!.serialNumber), s.end()));
        s.on('error', reject);
      });
      expect(serial).toBe(new X509Certificate(readFileSync(certFile)).serialNumber);
    } finally {
      proc.kill('SIGTERM');
      await exited;
    }
  }, 60_000);
});

describe('mltrail serve with server.tls: stop', () => {
  it('SIGTERM ends the process within the grace period while peers hold connections before or in their handshake (it stayed up)', async () => {
    const dir = tmpDir();
    const file = join(dir, 'mltrail.yaml');
    writeFileSync(file, `server:\n  port: 0\n  shutdown_grace_ms: 500\n  tls: { cert_file: ${TLS.cert_file}, key_file: ${TLS.key_file} }\ndata_dir: ${join(dir, 'data')}\n`);
    const proc = spawn(process.execPath, [CLI, 'serve', '--config', file], { env: { ...process.env, MLTRAIL_INGEST_TOKEN: TOKEN, MLTRAIL_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    const peers: Array<ReturnType<typeof netConnect>> = [];
    try {
      const url = await waitFor(() => {
        if (proc.exitCode !== null) throw new Error(`mltrail serve exited: ${err}`);
        return /"url":"(https:\/\/127\.0\.0\.1:\d+)"/.exec(err)?.[1];
      }, 20_000, 'the listening line');
      const port = Number(new URL(url).port);
      // Silent (held for its first bytes), one byte of a method (held), a TLS record header (in the TLS handshake).
      for (const first of ['', 'G', '\x16\x03\x01']) {
        const s = netConnect(port, '127.0.0.1', () => first && s.write(Buffer.from(first, 'latin1')));
        s.on('error', () => undefined);
        peers.push(s);
      }
      await waitFor(() => peers.every((s) => !s.connecting) || undefined, 5_000, 'the connections');
      await new Promise((r) => setTimeout(r, 200));
      proc.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running 8 s after SIGTERM'), 8_000))]);
      expect(code).toBe(0);
      expect(err).toContain('mltrail bridge stopped');
    } finally {
      for (const s of peers) s.destroy();
      if (proc.exitCode === null) proc.kill('SIGKILL');
      await exited;
    }
  }, 60_000);
});

describe('server.tls.handshake_timeout_ms', () => {
  /** Milliseconds until the server closes a connection that sends `bytes` (maybe none) and then stays silent. */
  const closedAfter = (port: number, bytes: Buffer) =>
    new Promise<number>((resolve, reject) => {
      const t0 = Date.now();
      const s = netConnect({ host: '127.0.0.1', port }, () => {
        if (bytes.length) s.write(bytes);
      });
      s.on('data', () => undefined);
      s.on('error', () => undefined);
      s.on('close', () => resolve(Date.now() - t0));
      setTimeout(() => (s.destroy(), reject(new Error('still open after 8 s'))), 8000).unref();
    });

  it('closes a connection whose handshake has not completed within it: a silent peer and one that stops mid-hello (Node kept them 120 s)', async () => {
    const b = await start({ server: { tls: { ...TLS, handshake_timeout_ms: 1500 } } }, { MLTRAIL_INGEST_TOKEN: TOKEN });
    // A TLS record header announcing a ClientHello that never comes; and nothing at all (held for its first bytes
    // at most as long as the handshake may take, then in the handshake).
    const [midHello, silent] = await Promise.all([closedAfter(b.port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x80])), closedAfter(b.port, Buffer.alloc(0))]);
    expect(midHello).toBeGreaterThanOrEqual(1400);
    expect(midHello).toBeLessThan(4000);
    // Silent: closed at the setting counted from its connect, not held 1.5 s for its first bytes and 1.5 s again.
    expect(silent).toBeGreaterThanOrEqual(1400);
    expect(silent).toBeLessThan(2600);
    // The one that sent a hello's first bytes is a failed handshake (ERR_TLS_HANDSHAKE_TIMEOUT), counted; the silent
    // one sent nothing, a probe, as before.
    await waitFor(async () => (await failureCounts(b.url)).other === 1, 5000, 'the timed-out hello counted');
    // A client that completes its handshake in time is served as before.
    expect((await send(`${b.url}/healthz`)).status).toBe(200);
  }, 20_000);

  it('bounds a peer that sends bytes too few to tell plain HTTP from TLS by the setting itself, from its connect (it was held 10 s, or the setting, and the setting again)', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    const cfg = loadConfig({ env: { MLTRAIL_DATA_DIR: tmpDir(), MLTRAIL_INGEST_TOKEN: TOKEN }, overrides: { server: { port: 0, tls: { ...TLS, handshake_timeout_ms: 1500 } } } });
    const b = await startBridge(cfg, { logger, env: {} });
    running.push(b);
    // Two letters of a method ('GE'), and a whole method token with no space yet: neither says whether a request
    // line starts, and neither peer sends more.
    const [two, token] = await Promise.all([closedAfter(b.port, Buffer.from('GE')), closedAfter(b.port, Buffer.from('OPTIONS'))]);
    for (const ms of [two, token]) {
      expect(ms).toBeGreaterThanOrEqual(1400);
      expect(ms).toBeLessThan(2600);
    }
    // They sent bytes: failed handshakes, counted and said as timed out (not as a peer's reset).
    await waitFor(async () => (await failureCounts(b.url)).other === 2, 5000, 'the two timed-out connections counted');
    const warned = lines.map((l) => JSON.parse(l) as { code?: string; reason?: string; tls_error?: string }).filter((l) => l.code === 'MLTRAIL_ERR_TLS_HANDSHAKE');
    expect(warned).toEqual([expect.objectContaining({ reason: 'other', tls_error: 'ERR_TLS_HANDSHAKE_TIMEOUT' })]);
    // A plain HTTP request whose request line comes slowly (after 1 s) is still told it reached the HTTPS port.
    const slow = await new Promise<string>((resolve) => {
      let got = '';
      const s = netConnect({ host: '127.0.0.1', port: b.port }, () => {
        s.write('PATC');
        setTimeout(() => s.write('H /v1/events HTTP/1.1\r\nHost: x\r\n\r\n'), 1000);
      });
      s.on('data', (d: Buffer) => (got += d.toString('latin1')));
      s.on('error', () => undefined);
      s.on('close', () => resolve(got));
    });
    expect(slow).toBe(PLAIN_HTTP_ANSWER);
    expect((await send(`${b.url}/healthz`)).status).toBe(200);
  }, 20_000);

  it('is bounded: below 1 s or past 10 min is refused, naming the key', () => {
    for (const v of [999, 600_001]) {
      expect(() => loadConfig({ env: {}, overrides: { server: { tls: { ...TLS, handshake_timeout_ms: v } } } })).toThrow(/server\.tls\.handshake_timeout_ms/);
    }
    expect(loadConfig({ env: {}, overrides: { server: { tls: TLS } } }).server.tls?.handshake_timeout_ms).toBe(120_000);
  });
});
