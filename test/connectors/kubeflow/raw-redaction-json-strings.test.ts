import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeAudit } from '../../../connectors/kubeflow/audit.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { AUDIT_ROUTE } from '../../../connectors/kubeflow/route.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { ctx, harness, Hono, listen } from './helpers.js';

/**
 * JSON held in strings of a Kubernetes audit record (an annotation, an env value, a ConfigMap's config.json) and the
 * text leaks redact9 closed (a literal after an unset value, a dashed key flag, a tar bundle), end to end through
 * `raw` (what the spool and every sink get) and the route's quarantine, with the falco RequestResponse fixture.
 */
type Obj = Record<string, any>;
const POD = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');
const SECRETS = /k8s-(?:json|flag|expr|cm|tar)-\d/;
const TOKEN = 'audit-token-r9-5d1e';

/** One ustar member (header, data padded to 512). */
function tarMember(name: string, data: string): Buffer {
  const body = Buffer.from(data);
  const h = Buffer.alloc(512);
  h.write(name, 0, 'latin1');
  h.write('0000644\0', 100, 'latin1');
  h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write('0', 156, 'latin1');
  h.write('ustar\u000000', 257, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return Buffer.concat([h, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

function leakyPod(auditID: string): Obj {
  const ev = structuredClone(POD);
  ev.auditID = auditID;
  ev.objectRef.namespace = 'prod';
  ev.requestObject.metadata.annotations = {
    'example.com/db-config': '{"db": {"host": "pg", "password": "k8s-json-1"}, "retries": 3}',
    'example.com/owner': 'team-risk',
  };
  const c = ev.requestObject.spec.containers[0];
  c.env = [{ name: 'APP_CONFIG', value: '{"api_key": "k8s-json-2", "region": "eu", "pin_password": 4711}' }, { name: 'LOG_LEVEL', value: 'debug' }];
  c.args = ['--signing-key', 'k8s-flag-3', '--token-limit', '512', '--key-name', 'primary'];
  c.command = ['sh', '-c', 'export HF_TOKEN="" ; python -c \'token = None or "k8s-expr-4"\''];
  return ev;
}

function configMapCreate(): Obj {
  const ev = structuredClone(POD);
  const bundle = gzipSync(Buffer.concat([tarMember('cfg/train.yaml', 'epochs: 3\n'), tarMember('cfg/.env', 'DB_PASSWORD=k8s-tar-6\n'), Buffer.alloc(1024)])).toString('base64');
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'trainer' }, data: { 'config.json': '{"token": "k8s-cm-5", "pin_password": 1234, "lr": 0.1}' }, binaryData: { 'bundle.tgz': bundle } };
  return { ...ev, objectRef: { resource: 'configmaps', namespace: 'prod', name: 'trainer', apiVersion: 'v1' }, requestObject: cm, responseObject: undefined };
}

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

describe('Kubernetes audit: JSON in strings and the text leaks closed by redact9', () => {
  it('a pod create: an annotation\'s and an env value\'s JSON have their secret-named keys hidden (written back compact), a dashed key flag and a literal after an unset value too; the rest stays', () => {
    const rec = leakyPod('r9-1');
    const before = JSON.stringify(rec);
    const [out] = normalizeAudit(rec, ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(SECRETS);
    const raw = out!.raw as Obj;
    expect(raw.requestObject.metadata.annotations).toEqual({ 'example.com/db-config': '{"db":{"host":"pg","password":"[redacted]"},"retries":3}', 'example.com/owner': 'team-risk' });
    const c = raw.requestObject.spec.containers[0];
    expect(c.env).toEqual([{ name: 'APP_CONFIG', value: '{"api_key":"[redacted]","region":"eu","pin_password":"[redacted]"}' }, { name: 'LOG_LEVEL', value: 'debug' }]);
    expect(c.args).toEqual(['--signing-key', '[redacted]', '--token-limit', '512', '--key-name', 'primary']);
    expect(c.command).toEqual(['sh', '-c', 'export HF_TOKEN="" ; python -c \'token = None or "[redacted]"\'']);
    expect(out!.details?.raw_redacted).toEqual(expect.arrayContaining(['requestObject.metadata.annotations.example.com/db-config', 'requestObject.spec.containers[0].env[0].value']));
    expect(JSON.stringify(rec)).toBe(before);
  });

  it('a ConfigMap create: config.json\'s secret-named values (a number too) and a .tar.gz bundle holding a .env are hidden', () => {
    const [out] = normalizeAudit(configMapCreate(), ctx({ keepRaw: true })).events;
    expect(JSON.stringify(out)).not.toMatch(SECRETS);
    const cm = (out!.raw as Obj).requestObject;
    expect(cm.data).toEqual({ 'config.json': '{"token":"[redacted]","pin_password":"[redacted]","lr":0.1}' });
    expect(cm.binaryData).toEqual({ 'bundle.tgz': '[redacted]' });
  });

  it('quarantine: rejected items keep none of these secrets', async () => {
    const h = harness({ namespaces: ['prod'] }, { ingestToken: TOKEN });
    const app = new Hono();
    kubeflowConnector.routes!(app, h.deps);
    const srv = await listen(app);
    cleanup.push(() => h.close(), () => srv.close());
    const bad = [{ ...leakyPod('r9-q1'), stage: 42 }, { ...configMapCreate(), auditID: 'r9-q2', stage: 42 }];
    const res = await fetch(`${srv.url}${AUDIT_ROUTE}`, { method: 'POST', body: JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: bad }), headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } });
    expect(await res.json()).toMatchObject({ accepted: 0, rejected: 2 });
    const kept = h.spool.listQuarantine().map((q) => q.body.toString('utf8'));
    expect(kept).toHaveLength(2);
    for (const b of kept) expect(b).not.toMatch(SECRETS);
    expect(JSON.parse(kept[0]!).requestObject.metadata.annotations['example.com/owner']).toBe('team-risk');
  });
});
