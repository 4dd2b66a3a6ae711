import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { LOC, V1, auditEntry, normOne } from './samples.js';

/**
 * A model version may hold several checkpoints (a tuning job's intermediate ones); DeployModel serves the version's
 * default checkpoint (Model.defaultCheckpointId, which UpdateModel can move) unless `deployedModel.checkpointId`
 * names another. An approval of the version saw one set of weights: it must not vouch for another checkpoint.
 */

const MODEL = `${LOC}/models/9001`;
const EP = `${LOC}/endpoints/88`;
const at = (h: number) => `2026-11-20T${String(h).padStart(2, '0')}:00:00Z`;

const upload = (defaultCheckpointId?: string) =>
  normOne(auditEntry({
    method: `${V1}ModelService.UploadModel`,
    request: { parent: LOC, modelId: '9001', model: { displayName: 'support-tuned', artifactUri: 'gs://corp-models/support/', ...(defaultCheckpointId ? { defaultCheckpointId } : {}) } },
    response: { name: `${MODEL}/operations/1` },
    principal: 'ci@example.com',
    timestamp: at(8),
  }));
const approve = normOne(auditEntry({
  method: `${V1}ModelService.MergeVersionAliases`,
  resourceName: MODEL,
  request: { name: `${MODEL}@1`, versionAliases: ['production'] },
  principal: 'reviewer@example.com',
  timestamp: at(9),
}));
const moveDefault = normOne(auditEntry({
  method: `${V1}ModelService.UpdateModel`,
  resourceName: MODEL,
  request: { model: { name: `${MODEL}@1`, defaultCheckpointId: '1' }, updateMask: 'default_checkpoint_id' },
  principal: 'mallory@example.com',
  timestamp: at(10),
}));
const deploy = (checkpointId?: string) =>
  normOne(auditEntry({
    method: `${V1}EndpointService.DeployModel`,
    resourceName: EP,
    request: { endpoint: EP, deployedModel: { model: `${MODEL}@1`, ...(checkpointId ? { checkpointId } : {}) }, trafficSplit: { '0': 100 } },
    response: { name: `${EP}/operations/3` },
    principal: 'mallory@example.com',
    timestamp: at(11),
  }));

const unapproved = (events: ReturnType<typeof normOne>[], settings: Record<string, unknown> = {}) =>
  replayEvents(events, { rules: RulesConfig.parse({ 'registry.unapproved_deployment': settings }) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');

describe('deployments of a checkpoint of an approved version', () => {
  it('the checkpoint deployed and a version\'s default checkpoint are in ml.*', () => {
    expect(deploy('1').ml?.deployment).toMatchObject({ endpoint: EP, model_uri: `${MODEL}@1`, checkpoint_id: '1' });
    expect(deploy().ml?.deployment?.checkpoint_id).toBeUndefined();
    expect(upload('3').ml?.model?.default_checkpoint_id).toBe('3');
    expect(moveDefault.ml?.model).toMatchObject({ name: MODEL, version: '1', default_checkpoint_id: '1' });
  });

  it('an approved version deployed from a checkpoint other than its approved default alerts; its default does not', () => {
    expect(unapproved([upload('3'), approve, deploy()])).toEqual([]);
    expect(unapproved([upload('3'), approve, deploy('3')])).toEqual([]);
    const alerts = unapproved([upload('3'), approve, deploy('1')]);
    expect(alerts.map((a) => [a.details.reason, a.details.checkpoint_id, a.details.approved_checkpoint])).toEqual([['checkpoint_not_approved', '1', '3']]);
    // With no default known when it was approved, the approval cannot be said to cover a checkpoint named explicitly.
    expect(unapproved([upload(), approve, deploy('1')]).map((a) => a.details.reason)).toEqual(['checkpoint_not_approved']);
    // check_substitution: false turns the comparison off, as for artifacts.
    expect(unapproved([upload('3'), approve, deploy('1')], { check_substitution: false })).toEqual([]);
  });

  it('moving the default checkpoint after the approval makes a plain redeploy serve unapproved weights', () => {
    const alerts = unapproved([upload('3'), approve, moveDefault, deploy()]);
    expect(alerts.map((a) => [a.details.reason, a.details.checkpoint_id, a.details.approved_checkpoint, a.details.default_checkpoint])).toEqual([['checkpoint_not_approved', '1', '3', '1']]);
  });

  it('a tuned version (no UploadModel seen) has the default checkpoint its tuning job put on the main endpoint: deploying it by id is no finding', () => {
    const NLOC = 'projects/123456789012/locations/us-central1';
    const JOB = `${LOC}/tuningJobs/42`;
    /** The done job as GetTuningJob answers (CreateTuningJob answers with the job pending): checkpoint 2 on the main endpoint. */
    const tuningDone = (timestamp: string) => normOne(auditEntry({
      method: `${V1}GenAiTuningService.GetTuningJob`, resourceName: JOB, log: 'data_access', request: { name: JOB },
      response: {
        '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.TuningJob', name: `${NLOC}/tuningJobs/42`, baseModel: 'gemini-2.0-flash-001', state: 'JOB_STATE_SUCCEEDED',
        supervisedTuningSpec: { trainingDatasetUri: 'gs://corp-tune/train.jsonl' },
        tunedModel: { model: `${NLOC}/models/9001@1`, endpoint: `${NLOC}/endpoints/7007`, checkpoints: [{ checkpointId: '1', epoch: '1', step: '10', endpoint: `${NLOC}/endpoints/7008` }, { checkpointId: '2', epoch: '2', step: '20', endpoint: `${NLOC}/endpoints/7007` }] },
      },
      principal: 'tuner@example.com', timestamp,
    }));
    expect(tuningDone(at(8)).ml?.model).toMatchObject({ name: MODEL, version: '1', default_checkpoint_id: '2' });
    expect(unapproved([tuningDone(at(8)), approve, deploy('2')])).toEqual([]);
    expect(unapproved([tuningDone(at(8)), approve, deploy('1')]).map((a) => [a.details.checkpoint_id, a.details.approved_checkpoint])).toEqual([['1', '2']]);
    // The job reread after the default was moved does not put the old default back: the plain redeploy still alerts.
    expect(unapproved([tuningDone(at(8)), approve, moveDefault, tuningDone('2026-11-20T10:30:00Z'), deploy()]).map((a) => [a.details.checkpoint_id, a.details.approved_checkpoint])).toEqual([['1', '2']]);
  });
});
