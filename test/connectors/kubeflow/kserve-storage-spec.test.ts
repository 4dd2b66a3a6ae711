import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { auditEvent, ctx } from './helpers.js';

const one = (r: unknown) => {
  const out = kubeflowConnector.normalize!(r, ctx());
  expect(out.rejected).toEqual([]);
  expect(out.events).toHaveLength(1);
  return NormalizedEvent.parse(out.events[0]);
};

/** An InferenceService write by bob in alice's profile (KServe writes are logged at `Request`). */
const isvc = (verb: string, requestObject: unknown, at = '2026-11-20T12:00:00.000000Z') =>
  auditEvent({
    level: 'Request',
    verb,
    auditID: `isvc-${verb}-${at}`,
    requestURI: `/apis/serving.kserve.io/v1beta1/namespaces/kubeflow-user-alice/inferenceservices${verb === 'create' ? '' : '/churn'}`,
    user: { username: 'bob@example.com', groups: ['system:authenticated'] },
    objectRef: { resource: 'inferenceservices', namespace: 'kubeflow-user-alice', name: 'churn', apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1' },
    responseStatus: { metadata: {}, code: verb === 'create' ? 201 : 200 },
    requestObject,
    requestReceivedTimestamp: at,
    stageTimestamp: at,
  });

/** `spec.predictor.model.storage` (KServe V1beta1StorageSpec: key, path, parameters, schemaPath) in place of storageUri. */
const withStorage = (storage: Record<string, unknown>) => ({
  apiVersion: 'serving.kserve.io/v1beta1',
  kind: 'InferenceService',
  metadata: { name: 'churn', namespace: 'kubeflow-user-alice' },
  spec: { predictor: { model: { modelFormat: { name: 'sklearn' }, storage } } },
});

const mlflowApproved = (at: string) => [
  { entity: 'model_version', action: 'created', timestamp: `${at}:00.000000+00:00`, data: { name: 'churn', version: '1', source: 's3://mlpipeline/models/churn/1', run_id: 'r1', tags: {}, description: null } },
  { entity: 'model_version_alias', action: 'created', timestamp: `${at}:30.000000+00:00`, data: { name: 'churn', alias: 'champion', version: '1' } },
];

describe('a KServe storage spec names the model served', () => {
  it('storage.path is the model location: under its storage key, or its bucket when parameters give one', () => {
    const keyed = one(isvc('create', withStorage({ key: 'localMinIO', path: 'scratch/bob/model.joblib' })));
    expect(keyed.ml?.deployment).toEqual({ endpoint: 'kubeflow-user-alice/churn', model_uri: 'kserve-storage://localMinIO/scratch/bob/model.joblib' });
    expect(one(isvc('create', withStorage({ path: '/x/model.joblib' }))).ml?.deployment?.model_uri).toBe('kserve-storage://default/x/model.joblib');
    const bucket = one(isvc('create', withStorage({ key: 'localMinIO', path: 'models/churn/1', parameters: { type: 's3', bucket: 'mlpipeline' } })));
    expect(bucket.ml?.deployment?.model_uri).toBe('s3://mlpipeline/models/churn/1');
    const patched = one(isvc('patch', [{ op: 'add', path: '/spec/predictor/model/storage', value: { key: 'localMinIO', path: 'scratch/evil' } }]));
    expect([patched.action, patched.ml?.deployment?.model_uri]).toEqual(['endpoint.update', 'kserve-storage://localMinIO/scratch/evil']);
  });

  it('registry.unapproved_deployment judges it; a mirror mapping the storage key vouches for the approved artifact', () => {
    const mlflow = mlflowApproved('2026-11-20T10:00').flatMap((r) => normalizeMlflow(r, { channel: 'test', receivedTime: '2026-11-25T00:00:00.000Z', keepRaw: false, config: MlflowConfig.parse({}) }).events);
    expect(mlflow.map((e) => e.action)).toEqual(['model_version.create', 'model_version.approve']);
    const unreviewed = one(isvc('create', withStorage({ key: 'localMinIO', path: 'scratch/bob/unreviewed' })));
    const approved = one(isvc('create', withStorage({ key: 'localMinIO', path: 'models/churn/1' })));
    const alerts = (rules: unknown, evs: NormalizedEvent[]) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect(alerts({}, [...mlflow, unreviewed])).toHaveLength(1);
    // The storage key mapped to its bucket: the approved version's artifact is vouched for, another path is not.
    const mirrors = { artifact_mirrors: [{ from: 's3://mlpipeline/', to: 'kserve-storage://localMinIO/' }] };
    expect(alerts(mirrors, [...mlflow, approved])).toEqual([]);
    expect(alerts(mirrors, [...mlflow, unreviewed])).toHaveLength(1);
  });
});
