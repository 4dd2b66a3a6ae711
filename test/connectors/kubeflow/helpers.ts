import { PassThrough } from 'node:stream';
import type { NormalizeContext } from '../../../core/connector.js';
import { KubeflowConfig } from '../../../connectors/kubeflow/config.js';

export const ctx = (over: Partial<NormalizeContext<KubeflowConfig>> = {}): NormalizeContext<KubeflowConfig> => ({
  channel: 'test',
  receivedTime: '2026-11-25T00:00:00.000Z',
  keepRaw: false,
  config: KubeflowConfig.parse({}),
  ...over,
});

/** A realistic audit.k8s.io/v1 Event in a Kubeflow namespace; `over` replaces top-level keys. */
export function auditEvent(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    level: 'Metadata',
    auditID: `a-${Math.random().toString(16).slice(2)}`,
    stage: 'ResponseComplete',
    requestURI: '/api/v1/namespaces/kubeflow-user-alice/secrets/mlpipeline-minio-artifact',
    verb: 'get',
    user: {
      username: 'system:serviceaccount:kubeflow-user-alice:default-editor',
      uid: '5b1c4f2e-0000-4000-8000-000000000001',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:kubeflow-user-alice', 'system:authenticated'],
      extra: { 'authentication.kubernetes.io/pod-name': ['train-pipeline-x7k2p-system-container-impl-123'] },
    },
    sourceIPs: ['10.244.1.17'],
    userAgent: 'python-requests/2.31.0',
    objectRef: { resource: 'secrets', namespace: 'kubeflow-user-alice', name: 'mlpipeline-minio-artifact', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: '2026-11-25T10:00:00.100000Z',
    stageTimestamp: '2026-11-25T10:00:00.120000Z',
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'RBAC: allowed by RoleBinding "default-editor" of ClusterRole "kubeflow-edit" to ServiceAccount "default-editor/kubeflow-user-alice"' },
    ...over,
  };
}

export function captureIo(env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (d: Buffer) => out.push(d));
  stderr.on('data', (d: Buffer) => err.push(d));
  return {
    io: { stdout, stderr, stdin: new PassThrough(), env },
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
  };
}
