import { afterEach, describe, expect, it } from 'vitest';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { AUDIT_ROUTE } from '../../../connectors/kubeflow/route.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { harness, Hono, listen } from './helpers.js';

/**
 * Input the Kubernetes audit route quarantines is listed and shown (`mltrail quarantine list --body`): it must not
 * keep the secrets `raw` hides. Each quarantine path of the route, with the falco RequestResponse pod fixture.
 */
type Obj = Record<string, any>;
const TOKEN = 'audit-token-q-81c2';
const POD = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function start() {
  const h = harness({ namespaces: ['prod'] }, { ingestToken: TOKEN });
  const app = new Hono();
  kubeflowConnector.routes!(app, h.deps);
  const srv = await listen(app);
  cleanup.push(() => h.close(), () => srv.close());
  const post = (body: string) => fetch(`${srv.url}${AUDIT_ROUTE}`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } });
  const bodies = () => h.spool.listQuarantine().map((q) => q.body.toString('utf8'));
  return { h, post, bodies };
}

/** The pod fixture in a watched namespace, its container given env, args and a proxied ?token=. */
function podWith(auditID: string, secrets: { env: string; arg: string; query: string }): Obj {
  const ev = structuredClone(POD);
  ev.auditID = auditID;
  ev.objectRef.namespace = 'prod';
  ev.requestURI = `/api/v1/namespaces/prod/pods?token=${secrets.query}`;
  ev.requestObject.spec.containers[0].env = [{ name: 'AWS_SECRET_ACCESS_KEY', value: secrets.env }, { name: 'LOG_LEVEL', value: 'debug' }];
  ev.requestObject.spec.containers[0].args = ['--api-key', secrets.arg, '--port', '8080'];
  return ev;
}

const eventList = (items: unknown[]) => JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items });

describe('Kubernetes audit route: quarantined input is kept redacted', () => {
  it('rejected items of an EventList (not an audit Event, a field of the wrong type, over 256 KiB) are kept with their secrets hidden; the rest of them stays', async () => {
    const { h, post, bodies } = await start();
    const good = podWith('ok-1', { env: 'good-env-0', arg: 'good-arg-0', query: 'good-q-0' });
    const noAuditId = podWith('x', { env: 'noid-env-1', arg: 'noid-arg-1', query: 'noid-q-1' });
    delete noAuditId.auditID;
    const badField = podWith('bad-2', { env: 'bad-env-2', arg: 'bad-arg-2', query: 'bad-q-2' });
    badField.user.username = 42;
    badField.responseStatus = { code: 400, message: 'admission webhook "v" denied the request: MLFLOW_TRACKING_PASSWORD=bad-msg-2' };
    badField.requestObject.metadata.annotations = { note: 'x'.repeat(300 * 1024) };
    const patch = { ...podWith('patch-3', { env: 'p-env-3', arg: 'p-arg-3', query: 'p-q-3' }), verb: 'patch', stage: 42, requestObject: [{ op: 'replace', path: '/spec/containers/0/env/3/value', value: 'p-op-3' }] };
    const res = await post(eventList([good, noAuditId, badField, patch]));
    expect(await res.json()).toMatchObject({ accepted: 1, rejected: 3 });
    const kept = bodies();
    expect(kept).toHaveLength(3);
    for (const b of kept) expect(b).not.toMatch(/-(env|arg|q|msg|op)-\d/);
    const noId = JSON.parse(kept[0]!) as Obj;
    expect(noId.requestObject.spec.containers[0].env).toEqual([{ name: 'AWS_SECRET_ACCESS_KEY', value: '[redacted]' }, { name: 'LOG_LEVEL', value: 'debug' }]);
    expect(noId.requestObject.spec.containers[0].args).toEqual(['--api-key', '[redacted]', '--port', '8080']);
    expect(noId.requestURI).toBe('/api/v1/namespaces/prod/pods?token=[redacted]');
    expect(noId.objectRef).toEqual(noAuditId.objectRef);
    // Over 256 KiB: its first 256 KiB kept, redacted before it was cut.
    expect(h.spool.listQuarantine()[1]!.meta.truncated).toMatchObject({ kept_bytes: 256 * 1024 });
    expect(kept[1]).toContain('MLFLOW_TRACKING_PASSWORD=[redacted]');
    expect(JSON.parse(kept[2]!).requestObject).toEqual([{ op: 'replace', path: '/spec/containers/0/env/3/value', value: '[redacted]' }]);
  });

  it("a rejected record about a Secret is kept with its data and stringData values hidden", async () => {
    const { post, bodies } = await start();
    const sec = { ...structuredClone(POD), auditID: 'sec-7', stage: 42, verb: 'create', objectRef: { resource: 'secrets', namespace: 'prod', name: 'db', apiVersion: 'v1' }, requestObject: { kind: 'Secret', metadata: { name: 'db' }, data: { k: 'c2VjLWRhdGEtNw==' } }, responseObject: { metadata: { name: 'db' }, stringData: { k: 'sec-sd-7' } } };
    const res = await post(eventList([sec]));
    expect(await res.json()).toMatchObject({ accepted: 0, rejected: 1 });
    const kept = bodies();
    expect(kept).toHaveLength(1);
    expect(kept[0]).not.toMatch(/c2VjLWRhdGEtNw==|sec-sd-7/);
    const item = JSON.parse(kept[0]!) as Obj;
    expect([item.requestObject.data, item.responseObject.stringData]).toEqual([{ k: '[redacted]' }, { k: '[redacted]' }]);
  });

  it("a rejected record about a Secret keeps no value of a last-applied-configuration that names no kind (hand-written)", async () => {
    const { post, bodies } = await start();
    const applied = JSON.stringify({ apiVersion: 'v1', metadata: { name: 'db' }, stringData: { url: 'la-sd-9' } });
    const sec = { ...structuredClone(POD), auditID: 'sec-9', stage: 42, verb: 'create', objectRef: { resource: 'secrets', namespace: 'prod', name: 'db', apiVersion: 'v1' }, requestObject: { kind: 'Secret', metadata: { name: 'db', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': applied } } }, responseObject: undefined };
    expect(await (await post(eventList([sec]))).json()).toMatchObject({ accepted: 0, rejected: 1 });
    const kept = bodies();
    expect(kept[0]).not.toContain('la-sd-9');
    expect(JSON.parse(JSON.parse(kept[0]!).requestObject.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'])).toEqual({ apiVersion: 'v1', metadata: { name: 'db' }, stringData: { url: '[redacted]' } });
  });

  it('a rejected record about another resource keeps no value of a Secret it holds (a v1/List item, a SecretList item naming no kind), last-applied-configuration included', async () => {
    const { post, bodies } = await start();
    const applied = JSON.stringify({ apiVersion: 'v1', metadata: { name: 'db' }, stringData: { url: 'emb-q-la-1' } });
    const meta = { name: 'db', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': applied } };
    const rec = {
      ...structuredClone(POD), auditID: 'emb-1', stage: 42, verb: 'create', objectRef: { resource: 'bundles', namespace: 'prod', name: 'b', apiGroup: 'bundles.example.io', apiVersion: 'v1' },
      requestObject: { kind: 'List', items: [{ kind: 'Secret', metadata: meta, data: { k: 'ZW1iLXEtMg==' } }] },
      responseObject: { kind: 'SecretList', items: [{ metadata: meta, stringData: { k: 'emb-q-sd-3' } }] },
    };
    expect(await (await post(eventList([rec]))).json()).toMatchObject({ accepted: 0, rejected: 1 });
    const kept = bodies();
    for (const v of ['emb-q-la-1', 'ZW1iLXEtMg==', 'emb-q-sd-3']) expect(kept[0]).not.toContain(v);
    const item = JSON.parse(kept[0]!) as Obj;
    expect(JSON.parse(item.requestObject.items[0].metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'])).toEqual({ apiVersion: 'v1', metadata: { name: 'db' }, stringData: { url: '[redacted]' } });
    expect(item.responseObject.items[0].stringData).toEqual({ k: '[redacted]' });
  });

  it('JSON that is no EventList, and a body that does not parse (a bad NDJSON line, a truncated EventList): 400, kept redacted', async () => {
    const { post, bodies } = await start();
    const notAList = { kind: 'PodList', items: [{ spec: { containers: [{ name: 'c', env: [{ name: 'HF_TOKEN', value: 'nl-env-4' }], command: ['sh', '-c', 'run --password=nl-arg-4'] }] } }] };
    expect((await post(JSON.stringify(notAList))).status).toBe(400);

    const line = JSON.stringify(podWith('nd-5', { env: 'nd-env-5', arg: 'nd-arg-5', query: 'nd-q-5' }));
    expect((await post(`${line}\n{"auditID":"cut","requestObject":{"env":[{"name":"DB_PASSWORD","value":"nd-cut-5"}],"args":["--token", "nd-cut-arg-5"]}`)).status).toBe(400);

    const truncated = eventList([podWith('tr-6', { env: 'tr-env-6', arg: 'tr-arg-6', query: 'tr-q-6' })]).slice(0, -40);
    expect((await post(truncated)).status).toBe(400);

    const kept = bodies();
    expect(kept).toHaveLength(3);
    for (const b of kept) expect(b).not.toMatch(/-(env|arg|q|cut|cut-arg)-\d/);
    expect(JSON.parse(kept[0]!).items[0].spec.containers[0]).toEqual({ name: 'c', env: [{ name: 'HF_TOKEN', value: '[redacted]' }], command: ['sh', '-c', 'run --password=[redacted]'] });
    // The line that parsed is redacted as a record; the one that did not, by its text.
    const [first, second] = kept[1]!.split('\n');
    expect(JSON.parse(first!).requestObject.spec.containers[0].env[0]).toEqual({ name: 'AWS_SECRET_ACCESS_KEY', value: '[redacted]' });
    expect(second).toBe('{"auditID":"cut","requestObject":{"env":[{"name":"DB_PASSWORD","value":"[redacted]"}],"args":["--token", "[redacted]"]}');
    expect(kept[2]).toContain('"name":"LOG_LEVEL","value":"debug"');
  });

  it('a body that does not parse: a cut Secret keeps no data / stringData value (also in escaped last-applied JSON, a value cut mid-way), malformed JSON no string under a secret-named key or env name; the rest stays for the analyst', async () => {
    const { post, bodies } = await start();
    const applied = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, data: { password: 'YXBwbGllZC0x' } });
    const secret = { ...structuredClone(POD), auditID: 'cut-8', verb: 'create', objectRef: { resource: 'secrets', namespace: 'prod', name: 'db', apiVersion: 'v1' },
      requestObject: { kind: 'Secret', apiVersion: 'v1', metadata: { name: 'db', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': applied } }, data: { username: 'dXNlci04', 'tls.key': 'LS0tLS1CRUdJTi1rZXktOA==' }, stringData: { 'config.json': '{"pw":"sd-8"}' } } };
    const line = JSON.stringify(secret);
    // Cut inside the last value (an apiserver or shipper line limit).
    const cut = line.slice(0, line.indexOf('sd-8') + 2);
    const malformed = `{"auditID":"bad-9","objectRef":{"resource":"pods"},"requestObject":{"spec":{"containers":[{"image":"mysql:8.4","ports":[{"containerPort":3306}],"env":[{"value":"vf-9","name":"DB_PASSWORD"},{"name":"PORT","value":"3306"}],"config":{"password":"kv-9","secretName":"db-creds"},"note":["MYSQL_PWD","value":"nv-9"]} ,,]}}}`;
    expect((await post(`${cut}\n${malformed}`)).status).toBe(400);
    const [kept] = bodies();
    expect(kept).not.toMatch(/dXNlci04|LS0tLS1CRUdJTi1rZXktOA|sd-8|sd-|YXBwbGllZC0x|vf-9|kv-9|nv-9/);
    const [first, second] = kept!.split('\n');
    expect(first).toContain('"data":{"username":"[redacted]","tls.key":"[redacted]"},"stringData":{"config.json":"[redacted]');
    expect(first).toContain('\\"data\\":{\\"password\\":\\"[redacted]\\"}');
    expect(first).toContain('"auditID":"cut-8"');
    expect(second).toBe('{"auditID":"bad-9","objectRef":{"resource":"pods"},"requestObject":{"spec":{"containers":[{"image":"mysql:8.4","ports":[{"containerPort":3306}],"env":[{"value":"[redacted]","name":"DB_PASSWORD"},{"name":"PORT","value":"3306"}],"config":{"password":"[redacted]","secretName":"db-creds"},"note":["MYSQL_PWD","value":"[redacted]"]} ,,]}}}');
  });

  it('a cut line holding a PEM private key under no secret name (a pod annotation): the key body is hidden, the key kind and the rest stay', async () => {
    const { post, bodies } = await start();
    const pod = structuredClone(POD);
    pod.auditID = 'cut-pem';
    pod.requestObject.metadata.annotations = { 'example.com/deploy-key': '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEq-pem-body\n-----END EC PRIVATE KEY-----\n', 'example.com/port': '8443' };
    const line = JSON.stringify(pod);
    const cut = line.slice(0, line.indexOf('example.com/port') + 10);
    expect((await post(cut)).status).toBe(400);
    const [kept] = bodies();
    expect(kept).not.toMatch(/q-pem-body/);
    expect(kept).toContain('"example.com/deploy-key":"-----BEGIN EC PRIVATE KEY-----[redacted]-----END EC PRIVATE KEY-----\\n"');
    expect(kept).toContain('"auditID":"cut-pem"');
  });

  it('a cut line: a value under a *_file / *_path key is hidden unless it reads as a place (as in raw): a token given there is the secret itself', async () => {
    const { post, bodies } = await start();
    const pod = structuredClone(POD);
    pod.auditID = 'cut-token-file';
    pod.requestObject.metadata.annotations = { password_path: '/run/secrets/db/password', 'example.com/port': '8443', token_file: 'ghp_q7tokenInTheFileKey' };
    const line = JSON.stringify(pod);
    // Cut inside the token: the value runs to the end of the line.
    const cut = line.slice(0, line.indexOf('q7tokenInTheFileKey') + 12);
    expect((await post(cut)).status).toBe(400);
    const [kept] = bodies();
    expect(kept).not.toMatch(/q7tokenIn/);
    expect(kept).toMatch(/"token_file":"\[redacted\]$/);
    expect(kept).toContain('"password_path":"/run/secrets/db/password"');
    expect(kept).toContain('"auditID":"cut-token-file"');
  });

  it('a cut line: secret-named keys inside the escaped last-applied JSON are hidden too (the annotation was matched as one string); the rest stays', async () => {
    const { post, bodies } = await start();
    const pod = structuredClone(POD);
    pod.auditID = 'cut-last-applied';
    const applied = { metadata: { annotations: { password: 'q9appliedPassword', token_file: 'ghp_q9appliedToken', owner: 'team-fraud' } } };
    pod.requestObject.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(applied), 'example.com/port': '8443' };
    const line = JSON.stringify(pod);
    const cut = line.slice(0, line.indexOf('example.com/port') + 10);
    expect((await post(cut)).status).toBe(400);
    const [kept] = bodies();
    expect(kept).not.toMatch(/q9applied/);
    expect(kept).toContain('\\"password\\":\\"[redacted]\\"');
    expect(kept).toContain('\\"owner\\":\\"team-fraud\\"');
  });
  it('a cut line: YAML held in the escaped last-applied JSON (an annotation holding a config file) hides the block or next-line value under a secret-named key; the neighbouring keys stay', async () => {
    const { post, bodies } = await start();
    const pod = structuredClone(POD);
    pod.auditID = 'cut-yaml';
    const applied = { metadata: { annotations: { 'example.com/cfg': 'db:\n  password: |\n    q-yaml-blk-1\n  port: 5432\n', 'example.com/cfg2': 'token:\n  q-yaml-next-2\n' } } };
    pod.requestObject.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(applied), 'example.com/port': '8443' };
    const line = JSON.stringify(pod);
    const cut = line.slice(0, line.indexOf('example.com/port') + 10);
    expect((await post(cut)).status).toBe(400);
    const [kept] = bodies();
    expect(kept).not.toMatch(/q-yaml-(blk-1|next-2)/);
    expect(kept).toContain(String.raw`db:\\n  password: |\\n    [redacted]\\n  port: 5432\\n`);
    expect(kept).toContain(String.raw`token:\\n  [redacted]\\n`);
  });
  it('a cut line: a ConfigMap binaryData file whose decoded text holds a secret is hidden (also when the line cuts it); binary stays', async () => {
    const { post, bodies } = await start();
    const b64 = (x: string | Uint8Array) => Buffer.from(x).toString('base64');
    const png = b64(new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13]));
    const envFile = b64('HOST=db\nDB_PASSWORD=q-bin-1-secret\nPORT=5432\n');
    const cm = { ...structuredClone(POD), auditID: 'cut-bin', objectRef: { resource: 'configmaps', namespace: 'prod', name: 'app', apiVersion: 'v1' },
      requestObject: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'app' }, binaryData: { 'app.env': envFile, 'logo.png': png, 'cut.env': b64('A=1\nAPI_TOKEN=q-bin-2-secret-cut-here\n') } } };
    const line = JSON.stringify(cm);
    // Cut inside the last file, past its token's first bytes.
    const cut = line.slice(0, line.indexOf(cm.requestObject.binaryData['cut.env']) + 30);
    expect((await post(cut)).status).toBe(400);
    const [kept] = bodies();
    expect(kept).not.toContain(envFile);
    expect(kept).toContain(`"binaryData":{"app.env":"[redacted]","logo.png":"${png}","cut.env":"[redacted]`);
  });
  it('a cut line: a binaryData file of non-ASCII text is hidden also when the cut splits a character (its dropped bytes are no sign of binary)', async () => {
    const { post, bodies } = await start();
    // 'é' is 2 bytes: 24 base64 chars are 18 bytes, so the cut below ends inside the first 'é' after the token.
    const file = Buffer.from('API_TOKEN=q-utf8-1\n#é ééé\n').toString('base64');
    const cm = { ...structuredClone(POD), auditID: 'cut-utf8', objectRef: { resource: 'configmaps', namespace: 'prod', name: 'app', apiVersion: 'v1' },
      requestObject: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'app' }, binaryData: { 'app.env': file } } };
    const line = JSON.stringify(cm);
    const cut = line.slice(0, line.indexOf(file) + 28);
    expect(Buffer.from(file.slice(0, 28), 'base64').toString('utf8')).toContain('\ufffd');
    expect((await post(cut)).status).toBe(400);
    const [kept] = bodies();
    expect(kept).not.toContain(file.slice(0, 16));
    expect(kept).toContain('"binaryData":{"app.env":"[redacted]');
  });
  it('a cut line: -p of a MySQL tool or sshpass and curl\'s -u user:password in an args list (plain or in escaped last-applied JSON) are judged by the command or image named before them, as in args; another tool\'s -p stays', async () => {
    const { post, bodies } = await start();
    const pod = structuredClone(POD);
    pod.auditID = 'cut-argv';
    const applied = { spec: { containers: [{ name: 'ssh', args: ['sshpass', '-p', 'q-argv-esc-1', 'ssh', 'h'] }, { name: 'cli', args: ['mysql', '-pq-argv-esc-2', 'db'] }, { name: 'get', args: ['curl', '-u', 'me:q-argv-esc-3', 'https://x'] }] } };
    pod.requestObject.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(applied) };
    pod.requestObject.spec.containers = [{ name: 'backup', image: 'mydumper/mydumper:v0.16', args: ['-u', 'root', '-p', 'q-argv-4', '-o', '/d'] }, { name: 'x', image: 'y', args: ['x'] }];
    const line = JSON.stringify(pod);
    const cut = line.slice(0, line.indexOf('"name":"x"'));
    const other = structuredClone(POD);
    other.auditID = 'cut-redis';
    other.requestObject.spec.containers = [{ name: 'r', image: 'redis:7', args: ['redis-cli', '-p', '6379', 'ping'] }, { name: 'x', image: 'y' }];
    const otherLine = JSON.stringify(other);
    expect((await post(`${cut}\n${otherLine.slice(0, otherLine.indexOf('"name":"x"'))}`)).status).toBe(400);
    const [kept] = bodies();
    expect(kept).not.toMatch(/q-argv-(esc-1|esc-2|esc-3|4)/);
    expect(kept).toContain('"args":["-u","root","-p","[redacted]","-o","/d"]');
    expect(kept).toContain(String.raw`[\"sshpass\",\"-p\",\"[redacted]\",\"ssh\",\"h\"]`);
    expect(kept).toContain(String.raw`[\"mysql\",\"-p[redacted]\",\"db\"]`);
    expect(kept).toContain(String.raw`[\"curl\",\"-u\",\"me:[redacted]\",\"https://x\"]`);
    expect(kept).toContain('"args":["redis-cli","-p","6379","ping"]');
  });
  it('a cut line: a secret flag value in an args list inside the escaped last-applied JSON, and a secret-named key in JSON escaped twice (a config annotation holding JSON) are hidden; the rest stays', async () => {
    const { post, bodies } = await start();
    const pod = structuredClone(POD);
    pod.auditID = 'cut-escaped';
    const applied = {
      metadata: { annotations: { cfg: JSON.stringify({ db: JSON.stringify({ password: 'q-dbl-pw-1', host: 'db.prod' }), owner: 'team-fraud' }), cfg2: JSON.stringify({ api_token: 'q-dbl-tok-4', region: 'eu' }) } },
      spec: { containers: [{ name: 'srv', args: ['--api-key', 'q-esc-flag-2', '--port', '8080'] }] },
      data: { x: JSON.stringify({ token: 'q-dbl-data-3' }) },
    };
    pod.requestObject.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(applied), 'example.com/port': '8443' };
    const line = JSON.stringify(pod);
    const cut = line.slice(0, line.indexOf('example.com/port') + 10);
    expect((await post(cut)).status).toBe(400);
    const [kept] = bodies();
    expect(kept).not.toMatch(/q-(dbl-pw-1|esc-flag-2|dbl-data-3|dbl-tok-4)/);
    expect(kept).toContain(String.raw`\"args\":[\"--api-key\",\"[redacted]\",\"--port\",\"8080\"]`);
    expect(kept).toContain(String.raw`{\\\\\\\"password\\\\\\\":\\\\\\\"[redacted]\\\\\\\",\\\\\\\"host\\\\\\\":\\\\\\\"db.prod\\\\\\\"}`);
    expect(kept).toContain(String.raw`{\\\"api_token\\\":\\\"[redacted]\\\",\\\"region\\\":\\\"eu\\\"}`);
    expect(kept).toContain(String.raw`\\\"owner\\\":\\\"team-fraud\\\"`);
  });
});
