import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest, createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeflowConfig } from '../../../connectors/kubeflow/config.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { AUDIT_ROUTE } from '../../../connectors/kubeflow/route.js';
import { makeTestPki } from '../../bridge/sinks/helpers.js';
import { auditEvent, harness, Hono, listen } from './helpers.js';

/**
 * Two clusters' apiservers authenticate the audit webhook with client certificates issued by one CA, over TLS that
 * ends in the bridge process (`requestCert`): the verified certificate's subject tells which cluster sent a batch.
 */
const pki = makeTestPki();
const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: pki.dir, stdio: 'pipe' });
/**
 * A client certificate signed by the test CA (`san`: an extra DNS subjectAltName; `sans`: openssl SAN entries such as
 * `URI.1 = …`, one per line, values taken verbatim), or self-signed (`rogue`).
 */
function clientCert(name: string, cn: string, opts: { san?: string; sans?: string[]; rogue?: boolean } = {}): { cert: Buffer; key: Buffer } {
  if (opts.rogue) ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
  else {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    const ext = opts.san || opts.sans ? ['-extfile', join(pki.dir, `${name}.ext`), '-extensions', 'ext'] : [];
    if (opts.san) writeFileSync(join(pki.dir, `${name}.ext`), `[ext]\nsubjectAltName=DNS:${opts.san}\n`);
    // A section: there, a value may hold commas.
    if (opts.sans) writeFileSync(join(pki.dir, `${name}.ext`), `[ext]\nsubjectAltName=@alt\n[alt]\n${opts.sans.join('\n')}\n`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', ...ext, '-out', `${name}.crt`);
  }
  return { cert: readFileSync(join(pki.dir, `${name}.crt`)), key: readFileSync(join(pki.dir, `${name}.key`)) };
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

async function start(config: Record<string, unknown>, server: { ingestToken?: string } = {}) {
  const h = harness(config, server);
  const app = new Hono();
  kubeflowConnector.routes!(app, h.deps);
  const srv = await listen(app, {
    createServer: createHttpsServer,
    serverOptions: { key: pki.key, cert: pki.cert, ca: readFileSync(pki.caFile), requestCert: true, rejectUnauthorized: false },
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
