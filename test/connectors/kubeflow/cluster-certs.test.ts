import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest, createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeflowConfig } from '../../../connectors/kubeflow/config.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { AUDIT_ROUTE } from '../../../connectors/kubeflow/route.js';
import { makeTestPki } from '../../bridge/sinks/helpers.js';
import { runCli } from '../../helpers/cli.js';
import { auditEvent, harness, Hono, listen } from './helpers.js';

/**
 * Two clusters' apiservers authenticate the audit webhook with client certificates issued by one CA, over TLS that
 * ends in the bridge process (`requestCert`): the verified certificate's subject tells which cluster sent a batch.
 */
const pki = makeTestPki();
const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: pki.dir, stdio: 'pipe' });
/**
 * A CA of its own (`<name>.pem`, `<name>.key` in the PKI folder): another cluster's, as kubeadm makes one per cluster
 * (every one CN=kubernetes). With `issuer`, an intermediate CA signed by that CA.
 */
function makeCa(name: string, cn: string, issuer?: string): string {
  if (!issuer) ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.pem`);
  else {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    writeFileSync(join(pki.dir, `${name}.ext`), '[ext]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-extensions', 'ext', '-out', `${name}.pem`);
  }
  return join(pki.dir, `${name}.pem`);
}

/**
 * A client certificate signed by the test CA or the CA `ca` made by makeCa (`san`: an extra DNS subjectAltName;
 * `sans`: openssl SAN entries such as `URI.1 = …`, one per line, values taken verbatim), or self-signed (`rogue`).
 * With `chain`, the issuing intermediate's certificate follows the client's, as a kubeconfig's client-certificate
 * file holds it.
 */
function clientCert(name: string, cn: string, opts: { san?: string; sans?: string[]; rogue?: boolean; ca?: string; chain?: boolean } = {}): { cert: Buffer; key: Buffer } {
  if (opts.rogue) ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
  else {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    const lines = [
      ...(opts.san ? [`subjectAltName=DNS:${opts.san}`] : []),
      // A section: there, a value may hold commas.
      ...(opts.sans ? ['subjectAltName=@alt'] : []),
      // As kubeadm's: the issuer's key id lets the TLS layer tell apart CAs of one name.
      ...(opts.ca ? ['authorityKeyIdentifier=keyid', 'basicConstraints=CA:FALSE', 'extendedKeyUsage=clientAuth'] : []),
    ];
    const ext = lines.length ? ['-extfile', join(pki.dir, `${name}.ext`), '-extensions', 'ext'] : [];
    writeFileSync(join(pki.dir, `${name}.ext`), `[ext]\n${lines.join('\n')}\n${opts.sans ? `[alt]\n${opts.sans.join('\n')}\n` : ''}`);
    const ca = opts.ca ?? 'ca';
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '1', ...ext, '-out', `${name}.crt`);
  }
  const cert = readFileSync(join(pki.dir, `${name}.crt`));
  return { cert: opts.chain ? Buffer.concat([cert, readFileSync(join(pki.dir, `${opts.ca}.pem`))]) : cert, key: readFileSync(join(pki.dir, `${name}.key`)) };
}
/** A subject with a comma, as an apiserver identity URI may hold one. */
const C_SUBJECT = 'https://cluster-c.example.com/apiserver?roles=audit,webhook';
const certs = {
  def: clientCert('default', 'kube-apiserver-audit'),
  b: clientCert('cluster-b', 'cluster-b-apiserver'),
  /** Cluster B's subject only as a DNS subjectAltName. */
  bSan: clientCert('cluster-b-san', 'audit-webhook-client', { san: 'cluster-b-apiserver' }),
  /** Names both the default cluster (CN) and cluster B (SAN). */
  both: clientCert('both', 'kube-apiserver-audit', { san: 'cluster-b-apiserver' }),
  /** Cluster B's subject, not issued by the trusted CA. */
  rogue: clientCert('rogue', 'cluster-b-apiserver', { rogue: true }),
  /** Cluster C's subject as a URI subjectAltName holding a comma (Node writes it as a JSON string literal). */
  cComma: clientCert('cluster-c-comma', 'audit-webhook-client', { sans: ['DNS.1 = edge.example.com', `URI.1 = ${C_SUBJECT}`, 'IP.1 = 10.0.0.7'] }),
  /** One DNS SAN whose value reads like two entries, the second cluster B's subject. */
  smuggled: clientCert('smuggled', 'audit-webhook-client', { sans: ['DNS.1 = x.example.com, DNS:cluster-b-apiserver'] }),
};

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

/** `serverCa`: the CA files the TLS server trusts (the union of every cluster's). */
async function start(config: Record<string, unknown>, server: { ingestToken?: string } = {}, serverCa: string[] = [pki.caFile]) {
  const h = harness(config, server);
  const app = new Hono();
  kubeflowConnector.routes!(app, h.deps);
  const srv = await listen(app, {
    createServer: createHttpsServer,
    serverOptions: { key: pki.key, cert: pki.cert, ca: serverCa.map((f) => readFileSync(f)), requestCert: true, rejectUnauthorized: false },
  });
  cleanup.push(() => h.close(), () => srv.close());
  const send = (client: { cert: Buffer; key: Buffer }, auditID: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(`${srv.url}${AUDIT_ROUTE}`, { method: 'POST', ...client, ca: readFileSync(pki.caFile), headers: { 'content-type': 'application/json', ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [auditEvent({ auditID })] }));
    });
  return { h, send };
}

const TWO_CLUSTERS = { audit: { client_cert_subjects: ['kube-apiserver-audit'] }, clusters: [{ id: 'cluster-b', client_cert_subjects: ['cluster-b-apiserver'] }] };

describe('clusters[].client_cert_subjects: a verified client certificate names its cluster', () => {
  it("each cluster's certificate (CN or DNS SAN) files its batches under that cluster; no token is needed", async () => {
    const { h, send } = await start(TWO_CLUSTERS);
    expect((await send(certs.def, 'def-1')).status).toBe(200);
    expect((await send(certs.b, 'b-1')).status).toBe(200);
    expect((await send(certs.bSan, 'b-2')).status).toBe(200);
    const accounts = Object.fromEntries(h.events().map((e) => [e.details?.audit_id, e.cloud?.account ?? null]));
    expect(accounts).toEqual({ 'def-1': null, 'b-1': 'cluster-b', 'b-2': 'cluster-b' });
  });

  it('never by a header: the default certificate with a header naming cluster B is the default cluster', async () => {
    const { h, send } = await start(TWO_CLUSTERS);
    expect((await send(certs.def, 'def-2', { 'x-mltrail-cluster': 'cluster-b', 'x-forwarded-client-cert': 'Subject="CN=cluster-b-apiserver"' })).status).toBe(200);
    expect(h.events().map((e) => e.cloud?.account)).toEqual([undefined]);
  });

  it('refuses a certificate of the right subject from another CA, and one naming two clusters (which one is unknown)', async () => {
    const { h, send } = await start(TWO_CLUSTERS);
    expect((await send(certs.rogue, 'rogue-1')).status).toBe(401);
    const both = await send(certs.both, 'both-1');
    expect(both.status).toBe(401);
    expect(JSON.parse(both.body).error.message).toMatch(/more than one cluster/);
    const failures = h.events().filter((e) => e.action === 'ingest.auth_failure');
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(h.events().filter((e) => e.details?.audit_id)).toEqual([]);
  });

  it("a certificate of one cluster with a bearer token of another is refused (which one sent it is unknown); both naming the same cluster pass", async () => {
    const DEFAULT_TOKEN = 'default-cluster-token';
    const B_TOKEN = 'cluster-b-token';
    const config = { ...TWO_CLUSTERS, clusters: [{ ...TWO_CLUSTERS.clusters[0], token: B_TOKEN }] };
    const { h, send } = await start(config, { ingestToken: DEFAULT_TOKEN });
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    // Agreeing: cluster B's certificate and token; the default cluster's certificate and MLTRAIL_INGEST_TOKEN.
    expect((await send(certs.b, 'b-agree', bearer(B_TOKEN))).status).toBe(200);
    expect((await send(certs.def, 'def-agree', bearer(DEFAULT_TOKEN))).status).toBe(200);
    // The default cluster's certificate with cluster B's token, and cluster B's certificate with the default token.
    for (const [client, token, id] of [[certs.def, B_TOKEN, 'def-b'], [certs.bSan, DEFAULT_TOKEN, 'b-def']] as const) {
      const res = await send(client, id, bearer(token));
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body).error.message).toBe('client certificate and bearer token name different clusters');
    }
    const accounts = Object.fromEntries(h.events().filter((e) => e.details?.audit_id).map((e) => [e.details?.audit_id, e.cloud?.account ?? null]));
    expect(accounts).toEqual({ 'b-agree': 'cluster-b', 'def-agree': null });
    const failures = h.events().filter((e) => e.action === 'ingest.auth_failure');
    expect(failures.map((e) => e.error?.message)).toContain('client certificate and bearer token name different clusters');
  });

  it('a subject holding a comma matches the SAN entry that holds it; a SAN that only reads like another entry names nothing', async () => {
    const config = { ...TWO_CLUSTERS, clusters: [...TWO_CLUSTERS.clusters, { id: 'cluster-c', client_cert_subjects: [C_SUBJECT] }] };
    const { h, send } = await start(config);
    expect((await send(certs.cComma, 'c-1')).status).toBe(200);
    expect((await send(certs.smuggled, 'smuggled-1')).status).toBe(401);
    const accounts = Object.fromEntries(h.events().filter((e) => e.details?.audit_id).map((e) => [e.details?.audit_id, e.cloud?.account ?? null]));
    expect(accounts).toEqual({ 'c-1': 'cluster-c' });
  });

  it('over plain HTTP (TLS ending elsewhere) no certificate can be verified: 503 naming the setting, not a 401 the apiserver drops', async () => {
    const h = harness({ clusters: [{ id: 'cluster-b', client_cert_subjects: ['cluster-b-apiserver'] }] }, {});
    const app = new Hono();
    kubeflowConnector.routes!(app, h.deps);
    const srv = await listen(app);
    cleanup.push(() => h.close(), () => srv.close());
    const res = await fetch(`${srv.url}${AUDIT_ROUTE}`, { method: 'POST', body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items: [auditEvent()] }), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^clusters\[\]\.client_cert_subjects needs TLS.*plain HTTP/);
  });

  it('config: a subject names one cluster only', () => {
    expect(() => KubeflowConfig.parse({ audit: { client_cert_subjects: ['x'] }, clusters: [{ id: 'b', client_cert_subjects: ['x'] }] })).toThrow(/default cluster/);
    expect(() => KubeflowConfig.parse({ clusters: [{ id: 'b', client_cert_subjects: ['x'] }, { id: 'c', client_cert_subjects: ['x'] }] })).toThrow(/is also cluster/);
    const r = KubeflowConfig.safeParse({ clusters: [{ id: 'b', client_cert_subjects: ['x'] }, { id: 'c', client_cert_subjects: ['x'] }] });
    expect(r.success ? [] : r.error.issues.map((i) => i.path.join('.'))).toEqual(['clusters.1.client_cert_subjects.0']);
  });
});

/**
 * Cluster B's apiserver certificates come from its own CA; the TLS server trusts the union of both clusters' CAs. The
 * kubeadm way: both CAs are named CN=kubernetes.
 */
const caB = makeCa('ca-b', 'kubernetes');
const caOther = makeCa('ca-other', 'kubernetes');
const caBIntermediate = makeCa('ca-b-int', 'cluster-b-intermediate', 'ca-b');
const pinned = {
  /** Cluster B's subject, issued by cluster B's CA. */
  bByB: clientCert('b-by-b', 'cluster-b-apiserver', { ca: 'ca-b' }),
  /** Cluster B's subject, issued by a CA the server trusts for another cluster (same name as B's). */
  bByOther: clientCert('b-by-other', 'cluster-b-apiserver', { ca: 'ca-other' }),
  /** Cluster B's subject, issued through an intermediate of B's CA (sent with the intermediate). */
  bByInt: clientCert('b-by-int', 'cluster-b-apiserver', { ca: 'ca-b-int', chain: true }),
  /** The default cluster's subject (CN) and cluster B's (SAN), issued by the other CA. */
  defAndBByOther: clientCert('def-b-by-other', 'kube-apiserver-audit', { ca: 'ca-other', san: 'cluster-b-apiserver' }),
};
const SERVER_CAS = [pki.caFile, caB, caOther];
const PINNED = { audit: TWO_CLUSTERS.audit, clusters: [{ ...TWO_CLUSTERS.clusters[0], client_ca_file: caB }] };

describe('clusters[].client_ca_file: a cluster honours its subjects only in certificates its own CA issued', () => {
  it("cluster B's subject passes from B's CA (directly or through an intermediate), not from a CA the server trusts for another cluster", async () => {
    const { h, send } = await start(PINNED, {}, SERVER_CAS);
    expect((await send(pinned.bByB, 'b-by-b')).status).toBe(200);
    expect((await send(pinned.bByInt, 'b-by-int')).status).toBe(200);
    for (const [client, id] of [[pinned.bByOther, 'b-by-other'], [certs.b, 'b-by-default-ca']] as const) {
      const res = await send(client, id);
      expect(res.status, id).toBe(401);
      expect(JSON.parse(res.body).error.message).toBe('client certificate names a cluster whose client_ca_file did not issue it');
    }
    // The default cluster is not pinned: its certificates still pass from any trusted CA.
    expect((await send(certs.def, 'def-1')).status).toBe(200);
    const accounts = Object.fromEntries(h.events().filter((e) => e.details?.audit_id).map((e) => [e.details?.audit_id, e.cloud?.account ?? null]));
    expect(accounts).toEqual({ 'b-by-b': 'cluster-b', 'b-by-int': 'cluster-b', 'def-1': null });
    const failures = h.events().filter((e) => e.action === 'ingest.auth_failure');
    expect(failures.map((e) => e.error?.message)).toContain('client certificate names a cluster whose client_ca_file did not issue it');
  });

  it("a wrongly issued certificate is refused even with a valid token, and even when it also names an unpinned cluster", async () => {
    const B_TOKEN = 'cluster-b-token';
    const config = { ...PINNED, clusters: [{ ...PINNED.clusters[0], token: B_TOKEN }] };
    const { h, send } = await start(config, { ingestToken: 'default-cluster-token' }, SERVER_CAS);
    expect((await send(pinned.bByOther, 'b-other-token', { authorization: `Bearer ${B_TOKEN}` })).status).toBe(401);
    expect((await send(pinned.defAndBByOther, 'def-b-other', { authorization: 'Bearer default-cluster-token' })).status).toBe(401);
    expect((await send(pinned.bByB, 'b-token', { authorization: `Bearer ${B_TOKEN}` })).status).toBe(200);
    expect(h.events().filter((e) => e.details?.audit_id).map((e) => e.details?.audit_id)).toEqual(['b-token']);
  });

  it("a file holding the intermediate pins to it; audit.client_ca_file pins the default cluster's subjects", async () => {
    const config = { audit: { ...TWO_CLUSTERS.audit, client_ca_file: pki.caFile }, clusters: [{ ...TWO_CLUSTERS.clusters[0], client_ca_file: caBIntermediate }] };
    const { send } = await start(config, {}, SERVER_CAS);
    expect((await send(pinned.bByInt, 'b-by-int')).status).toBe(200);
    // Issued by B's root, not by the intermediate that is pinned.
    expect((await send(pinned.bByB, 'b-by-b')).status).toBe(401);
    expect((await send(certs.def, 'def-1')).status).toBe(200);
    expect((await send(clientCert('def-by-b', 'kube-apiserver-audit', { ca: 'ca-b' }), 'def-by-b')).status).toBe(401);
  });

  it('config: a missing file, PEM text in place of a path, a client certificate instead of a CA, or no subjects to pin are errors naming the key', async () => {
    const issues = (config: Record<string, unknown>) => {
      const r = KubeflowConfig.safeParse(config);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    const cluster = (over: Record<string, unknown>) => ({ clusters: [{ id: 'b', client_cert_subjects: ['x'], ...over }] });
    expect(issues(cluster({ client_ca_file: join(pki.dir, 'nope.pem') }))).toEqual([`clusters.0.client_ca_file: cannot read ${join(pki.dir, 'nope.pem')}: ENOENT`]);
    expect(issues(cluster({ client_ca_file: readFileSync(caB, 'utf8') }))).toEqual([expect.stringMatching(/^clusters\.0\.client_ca_file: is PEM text, not a file name/)]);
    expect(issues(cluster({ client_ca_file: join(pki.dir, 'b-by-b.crt') }))).toEqual([expect.stringMatching(/^clusters\.0\.client_ca_file: .*b-by-b\.crt: certificate 1 \(CN=cluster-b-apiserver\) is not a CA certificate/)]);
    expect(issues({ clusters: [{ id: 'b', token: 'tok-b', client_ca_file: caB }] })).toEqual([expect.stringMatching(/^clusters\.0\.client_ca_file: set, but client_cert_subjects is empty/)]);
    expect(issues({ audit: { client_ca_file: caB } })).toEqual([expect.stringMatching(/^audit\.client_ca_file: set, but audit\.client_cert_subjects is empty/)]);
    expect(issues(cluster({ client_ca_file: caB }))).toEqual([]);
    expect(issues(cluster({ client_ca: caB }))).toEqual([expect.stringMatching(/^clusters\.0: Unrecognized key: "client_ca"/)]);

    // check-config names the full key and the file.
    const file = join(pki.dir, 'mltrail.yaml');
    writeFileSync(file, `data_dir: ${join(pki.dir, 'data')}\nconnectors:\n  kubeflow:\n    clusters:\n      - { id: edge-1, client_cert_subjects: [edge-1-kube-apiserver], client_ca_file: /nonexist/edge-1-ca.pem }\n`);
    const check = await runCli(['check-config', file]);
    expect(check.code).not.toBe(0);
    expect(check.err).toMatch(/connectors\.kubeflow\.clusters\.0\.client_ca_file: cannot read \/nonexist\/edge-1-ca\.pem: ENOENT/);
  });
});
