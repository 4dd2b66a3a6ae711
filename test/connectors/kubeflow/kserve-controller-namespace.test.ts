import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { auditEvent, ctx } from './helpers.js';

const one = (r: unknown) => {
  const out = kubeflowConnector.normalize!(r, ctx());
  expect(out.rejected).toEqual([]);
  expect(out.events).toHaveLength(1);
  return NormalizedEvent.parse(out.events[0]);
};
const alertsOf = (evs: NormalizedEvent[], rule: string) => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === rule);

/**
 * A full update (`kubectl replace`) of an InferenceService, logged at `Request` as the example audit policy
 * logs KServe writes (no response object, so no generation to compare).
 */
const replace = (username: string, storageUri: string) =>
  auditEvent({
    level: 'Request',
    verb: 'update',
    requestURI: '/apis/serving.kserve.io/v1beta1/namespaces/kubeflow-user-alice/inferenceservices/churn',
    user: { username, groups: ['system:serviceaccounts', `system:serviceaccounts:${username.split(':')[2]}`, 'system:authenticated'] },
    objectRef: { resource: 'inferenceservices', namespace: 'kubeflow-user-alice', name: 'churn', apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1' },
    responseStatus: { metadata: {}, code: 200 },
    requestObject: {
      apiVersion: 'serving.kserve.io/v1beta1',
      kind: 'InferenceService',
      metadata: { name: 'churn', namespace: 'kubeflow-user-alice', generation: 1, resourceVersion: '12345' },
      spec: { predictor: { model: { modelFormat: { name: 'sklearn' }, storageUri } } },
    },
  });

describe('KServe controller writes are recognised by the controller’s own namespace', () => {
  it('an account named kserve-controller-manager in a profile namespace is a user: its spec update is a deployment', () => {
    const spoof = one(replace('system:serviceaccount:kubeflow-user-alice:kserve-controller-manager', 's3://scratch/unreviewed/model'));
    expect([spoof.action, spoof.ml?.deployment?.model_uri]).toEqual(['endpoint.update', 's3://scratch/unreviewed/model']);
    expect(alertsOf([spoof], 'registry.unapproved_deployment')).toHaveLength(1);
    const llm = one(replace('system:serviceaccount:kubeflow-user-alice:llmisvc-controller-manager', 's3://scratch/unreviewed/model'));
    expect(llm.action).toBe('endpoint.update');
  });

  it('the real controllers (kserve, kubeflow, or Open Data Hub, OpenShift AI) still reconcile without deploying', () => {
    for (const ns of ['kserve', 'kubeflow', 'opendatahub', 'redhat-ods-applications']) {
      const ev = one(replace(`system:serviceaccount:${ns}:kserve-controller-manager`, 's3://models/churn/1'));
      expect([ev.action, ev.ml?.deployment]).toEqual(['endpoint.status_change', { endpoint: 'kubeflow-user-alice/churn' }]);
    }
  });
});
