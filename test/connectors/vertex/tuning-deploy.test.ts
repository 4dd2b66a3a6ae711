import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { LOC, V1, auditEntry, normOne } from './samples.js';

/**
 * A Vertex AI tuning job registers its tuned model and deploys it to an endpoint by itself
 * (TuningJob.tunedModel.model / .endpoint, output only; intermediate checkpoints each on an endpoint of their own):
 * a model reaches an endpoint with no DeployModel and no approval. The job's output must be known to the rules.
 */

const NLOC = 'projects/123456789012/locations/us-central1';
const JOB = `${LOC}/tuningJobs/42`;
const tuningJob = {
  '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.TuningJob',
  name: `${NLOC}/tuningJobs/42`,
  baseModel: 'gemini-2.0-flash-001',
  supervisedTuningSpec: { trainingDatasetUri: 'gs://corp-tune/train.jsonl', validationDatasetUri: 'gs://corp-tune/val.jsonl' },
  tunedModelDisplayName: 'support-tuned',
  state: 'JOB_STATE_SUCCEEDED',
  tunedModel: {
    model: `${NLOC}/models/9001@1`,
    endpoint: `${NLOC}/endpoints/7007`,
    checkpoints: [{ checkpointId: '1', epoch: '1', step: '10', endpoint: `${NLOC}/endpoints/7008` }, { checkpointId: '2', epoch: '2', step: '20', endpoint: `${NLOC}/endpoints/7007` }],
  },
};
// The done job as a GetTuningJob answer reports it (CreateTuningJob answers while the job is still pending).
const done = normOne(auditEntry({
  method: `${V1}GenAiTuningService.GetTuningJob`,
  resourceName: JOB,
  log: 'data_access',
  request: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.GetTuningJobRequest', name: JOB },
  response: tuningJob,
  principal: 'tuner@example.com',
  timestamp: '2026-11-20T11:00:00Z',
}));

const unapproved = (events: ReturnType<typeof normOne>[], settings: Record<string, unknown> = {}) =>
  replayEvents(events, { rules: RulesConfig.parse({ 'registry.unapproved_deployment': settings }) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');

describe('tuning jobs that deploy their tuned model', () => {
  it('the tuned model, its endpoint, checkpoints and tuning data are in ml.* and details', () => {
    expect(done.ml?.model).toMatchObject({ name: `${LOC}/models/9001`, version: '1' });
    expect(done.ml?.deployment).toEqual({ endpoint: `${LOC}/endpoints/7007`, model_uri: `${LOC}/models/9001@1`, auto_deployed: true });
    expect(done.ml?.data?.inputs).toEqual(['gs://corp-tune/train.jsonl', 'gs://corp-tune/val.jsonl']);
    expect(done.details?.tuned_checkpoints).toEqual([
      { checkpoint_id: '1', epoch: '1', step: '10', endpoint: `${LOC}/endpoints/7008` },
      { checkpoint_id: '2', epoch: '2', step: '20', endpoint: `${LOC}/endpoints/7007` },
    ]);
  });

  it('the auto-deployment is no alert by default (every tuning job makes one); with auto_deployments it is judged as a deployment', () => {
    expect(unapproved([done])).toEqual([]);
    const alerts = unapproved([done], { auto_deployments: true });
    // Nobody deployed it: the reader of the done job (tuner@) is not named as the deployer.
    expect(alerts.map((a) => [a.entity.id, a.details.reason, a.details.auto_deployed, a.details.deployer])).toEqual([[`${LOC}/endpoints/7007`, 'never_approved', true, undefined]]);
    expect(alerts[0]!.summary).toMatch(/^the platform itself .* deployed .*models\/9001 v1 to .*endpoints\/7007/);
    // Scoped by `endpoints` as any deployment.
    expect(unapproved([done], { auto_deployments: true, endpoints: ['*/endpoints/1*'] })).toEqual([]);
  });

  it('the registry knows what the tuned endpoint serves: a later deploy of an older version there is a rollback', () => {
    const older = normOne(auditEntry({
      method: `${V1}EndpointService.DeployModel`,
      resourceName: `${LOC}/endpoints/7007`,
      request: { endpoint: `${LOC}/endpoints/7007`, deployedModel: { model: `${LOC}/models/9001@1` } },
      timestamp: '2026-11-20T12:00:00Z',
    }));
    const tunedV2 = normOne(auditEntry({
      method: `${V1}GenAiTuningService.GetTuningJob`,
      resourceName: JOB,
      log: 'data_access',
      request: { name: JOB },
      response: { ...tuningJob, tunedModel: { model: `${NLOC}/models/9001@2`, endpoint: `${NLOC}/endpoints/7007` } },
      timestamp: '2026-11-20T11:30:00Z',
    }));
    const alerts = replayEvents([tunedV2, older], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.version_rollback');
    expect(alerts.map((a) => [a.details.from_version, a.details.to_version])).toEqual([['2', '1']]);
  });
});

describe('sync creates answered with the project number', () => {
  it('a CreateTuningJob / CreateCustomJob names the job it made, not its parent, when the response spells the project by number', () => {
    const created = (method: string, name: string) =>
      normOne(auditEntry({ method, request: { parent: LOC }, response: { name: `${NLOC}/${name}`, state: 'JOB_STATE_PENDING' } }));
    const tuning = created(`${V1}GenAiTuningService.CreateTuningJob`, 'tuningJobs/42');
    expect([tuning.resource?.id, tuning.resource?.name]).toEqual([JOB, '42']);
    expect(tuning.details?.resource_name_logged).toBe(`${NLOC}/tuningJobs/42`);
    expect(created(`${V1}JobService.CreateCustomJob`, 'customJobs/77').resource?.id).toBe(`${LOC}/customJobs/77`);
  });
});
