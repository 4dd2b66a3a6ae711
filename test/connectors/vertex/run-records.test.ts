import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { LOC, V1, auditEntry, normOne } from './samples.js';

/**
 * What the rules know of a Vertex run (who submitted it, what it read) is kept per job, by its resource name
 * (`…/customJobs/555`, `…/tuningJobs/77`): display names repeat across a family's runs (every nightly CustomJob of
 * `train-fraud`, every tuning run of one `tunedModelDisplayName`), so a version trained by one run must not take the
 * trainers and inputs of another of the same name.
 */
const RULES = RulesConfig.parse({ 'evaluation.self_approval': { roles: ['trained'] } });
const alerts = (events: NormalizedEvent[], rule: string) => replayEvents(events, { rules: RULES }).alerts.filter((a) => a.rule_id === rule);

/** A CreateCustomJob by `principal`, named `train-fraud`, writing under `out`, answered with its resource name. */
const customJob = (id: number, principal: string, out: string, day: number) => normOne(auditEntry({
  method: `${V1}JobService.CreateCustomJob`,
  request: { parent: LOC, customJob: { displayName: 'train-fraud', jobSpec: { workerPoolSpecs: [{ containerSpec: { imageUri: `us-docker.pkg.dev/p/train/fraud@sha256:${'a'.repeat(64)}` } }], baseOutputDirectory: { outputUriPrefix: out } } } },
  response: { name: `${LOC}/customJobs/${id}`, displayName: 'train-fraud' },
  principal, timestamp: `2026-11-0${day}T10:00:00Z`,
}));
const upload = (artifactUri: string) => normOne(auditEntry({
  method: `${V1}ModelService.UploadModel`,
  request: { parent: LOC, model: { displayName: 'fraud', artifactUri, containerSpec: { imageUri: 'us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest' } } },
  response: { model: `${LOC}/models/901@1` },
  principal: 'ci@p.iam.gserviceaccount.com', timestamp: '2026-11-05T10:00:00Z',
}));
const approve = (principal: string) => normOne(auditEntry({
  method: `${V1}ModelService.MergeVersionAliases`, resourceName: `${LOC}/models/901@1`, request: { name: `${LOC}/models/901@1`, versionAliases: ['production'] }, principal, timestamp: '2026-11-06T10:00:00Z',
}));

describe('Vertex runs of one display name are separate runs', () => {
  it('a CustomJob is its resource name\'s run: another run of the same displayName by another person is not the version\'s trainer', () => {
    const alice = customJob(555, 'alice@example.com', 'gs://ml-out/fraud/run-1/', 1);
    const bob = customJob(556, 'bob@example.com', 'gs://ml-out/fraud/run-2/', 2);
    expect([alice.ml?.job?.name, bob.ml?.job?.name]).toEqual(['train-fraud', 'train-fraud']);
    const events = [alice, bob, upload('gs://ml-out/fraud/run-1/model/')];
    // Bob approving the version alice's run trained: no self-approval (one record per display name made him its trainer).
    expect(alerts([...events, approve('bob@example.com')], 'evaluation.self_approval')).toEqual([]);
    // Alice approving it is one.
    expect(alerts([...events, approve('alice@example.com')], 'evaluation.self_approval').map((a) => a.details.identity)).toEqual(['alice@example.com']);
  });

  it('a tuning job is its resource name\'s run, and its tuned version is its output: trained by who submitted that job, not another of the same tunedModelDisplayName', () => {
    const NLOC = 'projects/123456789012/locations/us-central1';
    const spec = (bucket: string) => ({ tunedModelDisplayName: 'support-bot', baseModel: 'gemini-2.0-flash-001', supervisedTuningSpec: { trainingDatasetUri: `gs://${bucket}/train.jsonl` } });
    const create = (id: number, principal: string, bucket: string, day: number) => normOne(auditEntry({
      method: `${V1}GenAiTuningService.CreateTuningJob`, request: { parent: LOC, tuningJob: spec(bucket) },
      response: { name: `${NLOC}/tuningJobs/${id}`, state: 'JOB_STATE_PENDING', ...spec(bucket) }, principal, timestamp: `2026-11-0${day}T12:00:00Z`,
    }));
    // The done job as a GetTuningJob answer reports it, read by someone else (a dashboard).
    const done = normOne(auditEntry({
      method: `${V1}GenAiTuningService.GetTuningJob`, resourceName: `${LOC}/tuningJobs/77`, log: 'data_access', request: { name: `${LOC}/tuningJobs/77` },
      response: { name: `${NLOC}/tuningJobs/77`, state: 'JOB_STATE_SUCCEEDED', ...spec('corp-tune'), tunedModel: { model: `${NLOC}/models/9001@1`, endpoint: `${NLOC}/endpoints/7007` } },
      principal: 'viewer@example.com', timestamp: '2026-11-04T12:00:00Z',
    }));
    expect(done.ml?.model).toMatchObject({ name: `${LOC}/models/9001`, version: '1', generated_by: `${LOC}/tuningJobs/77` });
    const tunedApproval = (principal: string) => normOne(auditEntry({
      method: `${V1}ModelService.MergeVersionAliases`, resourceName: `${LOC}/models/9001@1`, request: { name: `${LOC}/models/9001@1`, versionAliases: ['production'] }, principal, timestamp: '2026-11-06T10:00:00Z',
    }));
    const events = [create(77, 'alice@example.com', 'corp-tune', 1), create(78, 'bob@example.com', 'bob-scratch', 2), done];
    expect(alerts([...events, tunedApproval('bob@example.com')], 'evaluation.self_approval')).toEqual([]);
    expect(alerts([...events, tunedApproval('alice@example.com')], 'evaluation.self_approval').map((a) => a.details.identity)).toEqual(['alice@example.com']);
  });
});
