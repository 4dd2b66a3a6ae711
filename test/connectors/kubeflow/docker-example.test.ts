import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../../bridge/config.js';
import { KubeflowConfig, kubeflowFromEnv } from '../../../connectors/kubeflow/config.js';
import { AUDIT_ROUTE } from '../../../connectors/kubeflow/route.js';
import { ROOT } from '../../helpers/fixtures.js';
import { makeTestPki } from '../../bridge/sinks/helpers.js';

const read = (f: string) => readFileSync(join(ROOT, 'docker/kubeflow', f), 'utf8');

describe('docker/kubeflow example', () => {
  it('the webhook kubeconfig points at the audit route and carries a token and a client certificate', () => {
    const kc = parse(read('webhook-kubeconfig.yaml'));
    expect(new URL(kc.clusters[0].cluster.server).pathname).toBe(AUDIT_ROUTE);
    // The token is read from a file beside the others (client-go kubeconfig `tokenFile`), not written inline.
    expect(kc.users[0].user).toMatchObject({ tokenFile: expect.any(String), 'client-certificate': expect.any(String), 'client-key': expect.any(String) });
    expect(kc.users[0].user.token).toBeUndefined();
    expect(kc['current-context']).toBe(kc.contexts[0].name);
  });

  it('the README, the kubeconfig and the policy agree on every file name under /etc/kubernetes/audit/', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Enabling the audit webhook'), readme.indexOf('**Authentication.**', readme.indexOf('### Enabling the audit webhook')));
    const kc = parse(read('webhook-kubeconfig.yaml'));
    const nodeFiles = [kc.clusters[0].cluster['certificate-authority'], kc.users[0].user['client-certificate'], kc.users[0].user['client-key'], kc.users[0].user.tokenFile] as string[];
    for (const f of nodeFiles) {
      expect(f.startsWith('/etc/kubernetes/audit/')).toBe(true);
      // Each file the kubeconfig reads is listed in README step 2 with where it comes from.
      expect(section).toContain(`\`${f.slice('/etc/kubernetes/audit/'.length)}\``);
    }
    // The flags in README name the repository's files, and so do the files' own comments.
    for (const [flag, file] of [['--audit-policy-file', 'audit-policy.yaml'], ['--audit-webhook-config-file', 'webhook-kubeconfig.yaml']]) {
      expect(section).toContain(`${flag}=/etc/kubernetes/audit/${file}`);
      const comments = [read('audit-policy.yaml'), read('webhook-kubeconfig.yaml')].join('\n').split('\n').filter((l) => l.includes(`${flag}=`));
      expect(comments.length).toBeGreaterThan(0);
      for (const l of comments) expect(l).toContain(`${flag}=/etc/kubernetes/audit/${file}`);
    }
    // The ingest token made in step 1 is the file the Secret and the node both use.
    expect(section).toContain('--from-file=MLTRAIL_INGEST_TOKEN=mltrail-ingest.token');
    expect(read('bridge.yaml')).toContain('--from-file=MLTRAIL_INGEST_TOKEN=mltrail-ingest.token');
    // The CA the kubeconfig trusts is the one that signs the sidecar's serving certificate (ghostunnel --cert).
    expect(section).toMatch(/`mltrail-ca\.crt` \| `ca\.crt` of step 1/);
    expect(section).toContain(`subjectAltName=DNS:${kc.clusters[0].cluster['tls-server-name']}`);
  });

  it('the audit policy never logs secret bodies and drops RequestReceived', () => {
    const policy = parse(read('audit-policy.yaml'));
    expect(policy).toMatchObject({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', omitStages: ['RequestReceived'] });
    const first = policy.rules.find((r: any) => r.resources?.some((g: any) => g.group === '' && g.resources.includes('secrets')));
    expect(first.level).toBe('Metadata');
  });

  it('the audit policy is an audit.k8s.io/v1 Policy whose first matching rule logs the bodies the connector reads', () => {
    const policy = parse(read('audit-policy.yaml'));
    const LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'];
    const RULE_KEYS = ['level', 'users', 'userGroups', 'verbs', 'resources', 'namespaces', 'nonResourceURLs', 'omitStages', 'omitManagedFields'];
    for (const r of policy.rules) {
      expect(LEVELS).toContain(r.level);
      for (const k of Object.keys(r)) expect(RULE_KEYS).toContain(k);
      for (const g of r.resources ?? []) for (const k of Object.keys(g)) expect(['group', 'resources', 'resourceNames']).toContain(k);
    }
    // The level the apiserver picks: the first rule matching user, verb and resource (sufficient for these rules).
    const levelOf = (user: string, verb: string, group: string, resource: string) =>
      policy.rules.find((r: any) => (!r.users || r.users.includes(user)) && !r.userGroups && !r.nonResourceURLs && (!r.verbs || r.verbs.includes(verb)) && (!r.resources || r.resources.some((g: any) => g.group === group && g.resources.includes(resource))))?.level;
    // TrainedModel storageUri and ModelMesh Predictor storage: read from the body (trained-model.ts, graph targets).
    expect(levelOf('mallory', 'create', 'serving.kserve.io', 'trainedmodels')).toBe('Request');
    expect(levelOf('mallory', 'patch', 'serving.kserve.io', 'predictors')).toBe('Request');
    // A binding patch names its subjects, not its roleRef: the answer says which role they get.
    expect(levelOf('mallory', 'patch', 'rbac.authorization.k8s.io', 'rolebindings')).toBe('RequestResponse');
    expect(levelOf('mallory', 'patch', 'rbac.authorization.k8s.io', 'clusterrolebindings')).toBe('RequestResponse');
    expect(levelOf('mallory', 'get', 'rbac.authorization.k8s.io', 'rolebindings')).toBe('Metadata');
    expect(levelOf('mallory', 'patch', 'admissionregistration.k8s.io', 'mutatingwebhookconfigurations')).toBe('Request');
    expect(levelOf('mallory', 'update', '', 'services')).toBe('Request');
    expect(levelOf('mallory', 'create', '', 'services/proxy')).toBe('Metadata');
  });

  it('the Deployment env is understood by the connector', () => {
    const docs = parseAllDocuments(read('bridge.yaml')).map((d) => d.toJS());
    const dep = docs.find((d) => d.kind === 'Deployment');
    const env = Object.fromEntries(dep.spec.template.spec.containers[0].env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
    const mapped = kubeflowFromEnv(env) as { kfp: Record<string, unknown> };
    expect(mapped.kfp.token_file).toBe('/var/run/secrets/kfp/token');
    // The token file must exist when the config is validated: stand in for the projected volume.
    const dir = mkdtempSync(join(tmpdir(), 'kf-docker-'));
    const token = join(dir, 'token');
    writeFileSync(token, 'projected-sa-token');
    try {
      const cfg = KubeflowConfig.parse({ ...mapped, kfp: { ...mapped.kfp, token_file: token } });
      expect(cfg).toMatchObject({ namespaces: ['kubeflow', 'kubeflow-*'], poll_interval_s: 60, mlmd: { address: 'metadata-grpc-service.kubeflow:8080' }, kfp: { url: 'http://ml-pipeline.kubeflow:8888', token_file: token } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(dep.spec.template.spec.containers[0].env.find((e: any) => e.name === 'MLTRAIL_INGEST_TOKEN').valueFrom.secretKeyRef).toBeTruthy();
  });

  it('bridge-tls.yaml (no sidecar): its ConfigMap and the Deployment env make a valid config serving TLS on the probed, exposed port', () => {
    const docs = parseAllDocuments(read('bridge-tls.yaml')).map((d) => d.toJS());
    const dep = docs.find((d) => d.kind === 'Deployment');
    const pod = dep.spec.template.spec;
    expect(pod.containers).toHaveLength(1);
    const bridge = pod.containers[0];
    const env = Object.fromEntries(bridge.env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
    // The config file the env names is the ConfigMap's key, where the volume is mounted.
    const cm = docs.find((d) => d.kind === 'ConfigMap');
    const mountOf = (volume: string) => bridge.volumeMounts.find((m: any) => m.name === volume).mountPath as string;
    const cmVolume = pod.volumes.find((v: any) => v.configMap?.name === cm.metadata.name).name;
    const [key] = Object.keys(cm.data);
    expect(env.MLTRAIL_CONFIG).toBe(`${mountOf(cmVolume)}/${key}`);
    // The TLS files are the Secret mltrail-tls's keys, where it is mounted: stand in for them with a test PKI.
    const tlsDir = mountOf(pod.volumes.find((v: any) => v.secret?.secretName === 'mltrail-tls').name);
    const pki = makeTestPki();
    writeFileSync(join(pki.dir, 'tls.key'), pki.key);
    writeFileSync(join(pki.dir, 'tls.crt'), pki.cert);
    writeFileSync(join(pki.dir, 'ca.crt'), readFileSync(pki.caFile));
    writeFileSync(join(pki.dir, 'token'), 'projected-sa-token');
    const file = join(pki.dir, 'mltrail.yaml');
    writeFileSync(file, (cm.data[key] as string).replaceAll(`${tlsDir}/`, `${pki.dir}/`));
    try {
      const cfg = loadConfig({ file, env: { ...env, MLTRAIL_CONFIG: file, MLTRAIL_DATA_DIR: pki.dir, MLTRAIL_KFP_TOKEN_FILE: join(pki.dir, 'token'), MLTRAIL_INGEST_TOKEN: 'docker-example-token' } });
      expect(cfg.server).toMatchObject({ host: '0.0.0.0', ingest_token: 'docker-example-token', tls: { cert_file: join(pki.dir, 'tls.crt'), key_file: join(pki.dir, 'tls.key') } });
      expect(cfg.connectors.kubeflow).toMatchObject({ audit: { client_cert_subjects: ['kube-apiserver-audit'], client_ca_file: join(pki.dir, 'ca.crt') }, mlmd: { address: 'metadata-grpc-service.kubeflow:8080' } });
      // The kubeconfig's server URL port reaches the bridge: Service → container port → the port it listens on; the probe speaks HTTPS there.
      const port = bridge.ports.find((p: any) => p.name === 'audit-tls').containerPort;
      expect(cfg.server.port).toBe(port);
      const svc = docs.find((d) => d.kind === 'Service');
      const kc = parse(read('webhook-kubeconfig.yaml'));
      expect(svc.spec.ports[0]).toMatchObject({ port: Number(new URL(kc.clusters[0].cluster.server).port), targetPort: 'audit-tls' });
      expect(svc.spec.clusterIP).toBe(new URL(kc.clusters[0].cluster.server).hostname);
      expect(bridge.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 'audit-tls', scheme: 'HTTPS' });
    } finally {
      rmSync(pki.dir, { recursive: true, force: true });
    }
  });
});
