import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { kubeflowConnector } from '../../../connectors/kubeflow/index.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { withTrainedModelParent } from '../../../core/rules/kinds/trained-model-parent.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { ctx } from './helpers.js';

/** Verification repros (verify26a): TrainedModel patch forms that set the model without saying its value. */
type Obj = Record<string, any>;
const BASE = readFixtureJson<Obj>('kubeflow', 'k8s-audit', 'falco_create_nginx_pod_privileged.json');
const NS = 'kubeflow-user-alice';
let seq = 0;
function patch(requestObject: unknown, responseObject?: unknown): Obj {
  const ev = structuredClone(BASE);
  return {
    ...ev, auditID: `${ev.auditID}-tmv-${++seq}`, verb: 'patch',
    stageTimestamp: '2026-11-25T10:00:00.000000Z', requestReceivedTimestamp: '2026-11-25T10:00:00.000000Z',
    requestURI: `/apis/serving.kserve.io/v1alpha1/namespaces/${NS}/trainedmodels/cifar10`,
    user: { username: 'mallory@example.com', groups: ['system:authenticated'] },
    objectRef: { resource: 'trainedmodels', namespace: NS, name: 'cifar10', apiGroup: 'serving.kserve.io', apiVersion: 'v1alpha1' },
    responseStatus: { metadata: {}, code: 200 }, requestObject, responseObject,
  };
}
const create = (storageUri: string): Obj => ({ ...patch({ apiVersion: 'serving.kserve.io/v1alpha1', kind: 'TrainedModel', metadata: { name: 'cifar10', namespace: NS }, spec: { inferenceService: 'triton-mms', model: { framework: 'pytorch', storageUri, memory: '1Gi' } } }), verb: 'create', requestURI: `/apis/serving.kserve.io/v1alpha1/namespaces/${NS}/trainedmodels`, responseStatus: { metadata: {}, code: 201 }, stageTimestamp: '2026-11-25T09:00:00.000000Z', requestReceivedTimestamp: '2026-11-25T09:00:00.000000Z' });
const del = (): Obj => ({ ...patch(undefined), verb: 'delete', stageTimestamp: '2026-11-25T09:30:00.000000Z', requestReceivedTimestamp: '2026-11-25T09:30:00.000000Z' });
function mlflow(entity: string, action: string, data: Obj, hour: number): NormalizedEvent {
  const timestamp = `2026-11-25T0${hour}:00:00.000000+00:00`;
  return normalizeMlflow({ entity, action, timestamp, data }, { channel: 'mlflow.webhook', receivedTime: timestamp, keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: `tmv-${entity}-${hour}` } }).events[0]!;
}
const one = (r: Obj): NormalizedEvent => NormalizedEvent.parse(kubeflowConnector.normalize!(r, ctx()).events[0]);

describe('TrainedModel patches (verification)', () => {
  it("a JSON patch copying or moving the model location from a field the log does not show is a deployment of an unknown model (was resource.update, no alert); one copied from a value the same patch set is that value", () => {
    for (const op of ['copy', 'move']) {
      const e = one(patch([{ op, from: '/metadata/annotations/src', path: '/spec/model/storageUri' }]));
      expect([e.action, e.ml?.deployment]).toEqual(['endpoint.deploy', { variant: 'cifar10', model_uri_copied_from: '/metadata/annotations/src' }]);
    }
    const stash = { op: 'add', path: '/metadata/annotations/x', value: 'gs://scratch/evil' };
    const e = one(patch([stash, { op: 'copy', from: '/metadata/annotations/x', path: '/spec/model/storageUri' }]));
    expect([e.action, e.ml?.deployment]).toEqual(['endpoint.deploy', { variant: 'cifar10', model_uri: 'gs://scratch/evil' }]);
    // The stored object logged: its location, not the copy's source.
    const stored = { apiVersion: 'serving.kserve.io/v1alpha1', kind: 'TrainedModel', metadata: { name: 'cifar10', namespace: NS }, spec: { inferenceService: 'triton-mms', model: { framework: 'pytorch', storageUri: 'gs://scratch/evil2', memory: '1Gi' } } };
    expect(one(patch([{ op: 'copy', from: '/metadata/annotations/src', path: '/spec/model/storageUri' }], stored)).ml?.deployment).toEqual({ endpoint: `${NS}/triton-mms`, variant: 'cifar10', model_uri: 'gs://scratch/evil2' });
    // A copy elsewhere (memory) deploys nothing.
    expect(one(patch([{ op: 'copy', from: '/metadata/annotations/m', path: '/spec/model/memory' }])).action).toBe('resource.update');
  });

  it('a patch of storageUri logged without the stored object is judged on the parent InferenceService an earlier write named (was no endpoint, no alert)', () => {
    const events = [
      mlflow('model_version', 'created', { name: 'cifar10', version: '3', source: 'gs://models/cifar10/3', run_id: 'r3', tags: {}, description: null }, 1),
      mlflow('model_version_tag', 'set', { name: 'cifar10', version: '3', key: 'approval_status', value: 'approved' }, 2),
      one(create('gs://models/cifar10/3')),
    ];
    const replaced = one(patch([{ op: 'replace', path: '/spec/model/storageUri', value: 'gs://scratch/evil' }]));
    const copied = one(patch([{ op: 'copy', from: '/metadata/annotations/src', path: '/spec/model/storageUri' }]));
    const withParent = (evs: NormalizedEvent[]) => {
      const state = new Map<string, unknown>();
      const rc = { get: (k: string) => state.get(k), set: (k: string, v: unknown) => state.set(k, v), delete: (k: string) => state.delete(k) } as never;
      let last: NormalizedEvent | undefined;
      for (const e of evs) last = withTrainedModelParent(e, rc);
      return last?.ml?.deployment;
    };
    const alerts = (evs: NormalizedEvent[]) => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect(alerts(events)).toEqual([]);
    expect(alerts([...events, replaced]).map((a) => [a.entity.id, a.details.reason, (a.details.deployed as Obj)?.artifact, a.evidence])).toEqual([[`${NS}/triton-mms`, 'never_approved', 'gs://scratch/evil', [replaced.id]]]);
    // A copy from a field the log does not show now names the parent too (judging a location no one knows is left to
    // the rules, as for an InferenceService patch with model_uri_copied_from).
    expect(withParent([...events, copied])).toEqual({ endpoint: `${NS}/triton-mms`, variant: 'cifar10', model_uri_copied_from: '/metadata/annotations/src' });
    // Deleted, the TrainedModel's parent is forgotten (a new one of that name names its own).
    expect(alerts([...events, one(del()), replaced])).toEqual([]);
  });
});
