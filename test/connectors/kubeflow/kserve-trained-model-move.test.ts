import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { withTrainedModelParent } from '../../../core/rules/kinds/trained-model-parent.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { ctx } from './helpers.js';

/**
 * A TrainedModel patched onto another InferenceService (`spec.inferenceService`), logged without the stored object
 * (a Request-level audit policy): KServe's model agent loads its model into the new parent. The record shape is the
 * real k8s audit fixture's, given a TrainedModel's objectRef and a JSON or merge patch as the requestObject.
 */
type Obj = Record<string, any>;
const BASE = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');
const NS = 'kubeflow-user-alice';
let seq = 0;
function write(verb: string, minute: number, requestObject: unknown, responseObject?: unknown): Obj {
  const ev = structuredClone(BASE);
  const t = `2026-11-25T10:${String(minute).padStart(2, '0')}:00.000000Z`;
  return {
    ...ev, auditID: `${ev.auditID}-tmm-${++seq}`, verb, stageTimestamp: t, requestReceivedTimestamp: t,
    requestURI: `/apis/serving.kserve.io/v1alpha1/namespaces/${NS}/trainedmodels${verb === 'create' ? '' : '/cifar10'}`,
    user: { username: 'mallory@example.com', groups: ['system:authenticated'] },
    objectRef: { resource: 'trainedmodels', namespace: NS, name: 'cifar10', apiGroup: 'serving.kserve.io', apiVersion: 'v1alpha1' },
    responseStatus: { metadata: {}, code: verb === 'create' ? 201 : 200 }, requestObject, responseObject,
  };
}
const create = (isvc: string, storageUri: string) => write('create', 0, { apiVersion: 'serving.kserve.io/v1alpha1', kind: 'TrainedModel', metadata: { name: 'cifar10', namespace: NS }, spec: { inferenceService: isvc, model: { framework: 'pytorch', storageUri, memory: '1Gi' } } });
const move = (isvc: string, minute = 10) => write('patch', minute, [{ op: 'replace', path: '/spec/inferenceService', value: isvc }]);
const mergeMove = (isvc: string) => write('patch', 10, { spec: { inferenceService: isvc } });
const one = (r: Obj): NormalizedEvent => NormalizedEvent.parse(kubeflowConnector.normalize!(r, ctx()).events[0]);
// The rule judges production endpoints only: the model was loaded unjudged into a sandbox, then moved.
const RULES = { 'registry.unapproved_deployment': { endpoints: [`${NS}/prod-*`] } };
const alerts = (records: Obj[]) => replayEvents(records.map(one), { rules: RulesConfig.parse(RULES) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');

describe('a TrainedModel moved to another InferenceService (registry.unapproved_deployment)', () => {
  it('the move patch, logged without the stored object, is a deployment of the remembered model onto the new parent (was resource.update, no alert)', () => {
    const m = move('prod-triton');
    expect(one(m).action).toBe('resource.update');
    const got = alerts([create('sandbox-triton', 'gs://scratch/mallory/cifar10'), m]);
    expect(got.map((a) => [a.entity.id, a.details.reason, (a.details.deployed as Obj)?.artifact])).toEqual([[`${NS}/prod-triton`, 'never_approved', 'gs://scratch/mallory/cifar10']]);
    // The event the rule judges says where the model came from.
    const state = new Map<string, unknown>();
    const rc = { get: (k: string) => state.get(k), set: (k: string, v: unknown) => state.set(k, v), delete: (k: string) => state.delete(k) } as never;
    withTrainedModelParent(one(create('sandbox-triton', 'gs://scratch/mallory/cifar10')), rc);
    const judged = withTrainedModelParent(one(m), rc);
    expect([judged.action, judged.ml?.deployment, judged.details?.trained_model_uri_remembered, judged.details?.trained_model_previous_parent]).toEqual(['endpoint.deploy', { endpoint: `${NS}/prod-triton`, variant: 'cifar10', model_uri: 'gs://scratch/mallory/cifar10' }, true, `${NS}/sandbox-triton`]);
    expect(got[0]!.evidence).toEqual([one(m).id]);
    // A merge patch of spec.inferenceService alike.
    expect(alerts([create('sandbox-triton', 'gs://scratch/mallory/cifar10'), mergeMove('prod-triton')]).map((a) => a.entity.id)).toEqual([`${NS}/prod-triton`]);
  });

  it('near misses: a patch naming the same parent, a move with no model remembered, a move after the location was copied from an unlogged field', () => {
    expect(alerts([create('prod-triton', 'gs://scratch/mallory/cifar10'), move('prod-triton')]).length).toBe(1); // the create only
    expect(alerts([move('prod-triton')])).toEqual([]);
    const copied = write('patch', 5, [{ op: 'copy', from: '/metadata/annotations/src', path: '/spec/model/storageUri' }]);
    // The copy itself is judged on the sandbox (out of scope here); the move does not claim the old location.
    expect(alerts([create('sandbox-triton', 'gs://scratch/mallory/cifar10'), copied, move('prod-triton')]).map((a) => a.details.trained_model_uri_remembered)).toEqual([]);
  });
});
