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
const deployAlerts = (evs: NormalizedEvent[]) => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');

/**
 * One InferenceService create as a cluster whose audit policy keeps every stage logs it: a `RequestReceived`
 * record (written before authorization and admission: no response, no decision) and the `ResponseComplete`
 * record of the same auditID with the answer.
 */
function stages(code: number): NormalizedEvent[] {
  const base = {
    level: 'Request',
    auditID: `c0ffee00-0000-4000-8000-00000000${code}`,
    verb: 'create',
    requestURI: '/apis/serving.kserve.io/v1beta1/namespaces/kubeflow-user-alice/inferenceservices',
    user: { username: 'bob@example.com', groups: ['system:authenticated'] },
    objectRef: { resource: 'inferenceservices', namespace: 'kubeflow-user-alice', name: 'churn', apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1' },
    requestObject: { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name: 'churn', namespace: 'kubeflow-user-alice' }, spec: { predictor: { model: { modelFormat: { name: 'sklearn' }, storageUri: 's3://scratch/unreviewed' } } } },
    requestReceivedTimestamp: '2026-11-20T12:00:00.000000Z',
  };
  const received = one(auditEvent({ ...base, stage: 'RequestReceived', stageTimestamp: '2026-11-20T12:00:00.000000Z', responseStatus: undefined, annotations: undefined }));
  const complete = one(auditEvent({
    ...base,
    stage: 'ResponseComplete',
    stageTimestamp: '2026-11-20T12:00:00.040000Z',
    responseStatus: code >= 400
      ? { metadata: {}, status: 'Failure', message: 'admission webhook "validation.gatekeeper.sh" denied the request: [require-approved-model] model not approved', reason: 'Forbidden', code }
      : { metadata: {}, code },
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
  }));
  expect([received.details?.audit_stage, received.outcome, received.action]).toEqual(['RequestReceived', 'unknown', 'endpoint.create']);
  return [received, complete];
}

describe('a RequestReceived audit record is no deployment', () => {
  it('a create refused by admission raises no unapproved-deployment alert', () => {
    const [received, complete] = stages(403);
    expect(complete.outcome).toBe('failure');
    expect(deployAlerts([received!, complete!])).toEqual([]);
  });

  it('a create carried out is judged once, on its ResponseComplete', () => {
    const [received, complete] = stages(201);
    const alerts = deployAlerts([received!, complete!]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.evidence).toEqual([complete!.id]);
  });
});
