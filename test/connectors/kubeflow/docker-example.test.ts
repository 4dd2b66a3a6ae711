import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { KubeflowConfig, kubeflowFromEnv } from '../../../connectors/kubeflow/config.js';
import { AUDIT_ROUTE } from '../../../connectors/kubeflow/route.js';
import { ROOT } from '../../helpers/fixtures.js';

const read = (f: string) => readFileSync(join(ROOT, 'docker/kubeflow', f), 'utf8');

describe('docker/kubeflow example', () => {
  it('the webhook kubeconfig points at the audit route and carries a token and a client certificate', () => {
    const kc = parse(read('webhook-kubeconfig.yaml'));
    expect(new URL(kc.clusters[0].cluster.server).pathname).toBe(AUDIT_ROUTE);
    expect(kc.users[0].user).toMatchObject({ token: expect.any(String), 'client-certificate': expect.any(String), 'client-key': expect.any(String) });
    expect(kc['current-context']).toBe(kc.contexts[0].name);
  });

  it('the audit policy never logs secret bodies and drops RequestReceived', () => {
    const policy = parse(read('audit-policy.yaml'));
    expect(policy).toMatchObject({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', omitStages: ['RequestReceived'] });
    const first = policy.rules.find((r: any) => r.resources?.some((g: any) => g.group === '' && g.resources.includes('secrets')));
    expect(first.level).toBe('Metadata');
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
});
