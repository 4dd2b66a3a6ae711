import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { LOC, V1, V1B, auditEntry, normOne } from './samples.js';

/**
 * Vertex AI GenAI supervised tuning (GenAiTuningService.CreateTuningJob): the job's own name is a number, the run is
 * named by `tunedModelDisplayName`, and the model it starts from is `baseModel` (or, continuing a tuned model,
 * `preTunedModel.tunedModelName`). A tuning run on a base model swapped for another project's, or on data from an
 * unfamiliar bucket, must stand out from the family's earlier runs; the managed job itself has no network setting.
 */

const NLOC = 'projects/123456789012/locations/us-central1';
let id = 9000;
/** A CreateTuningJob entry as the audit log writes it: the request's TuningJob, answered by the pending job. */
const tune = (opts: { day: number; tuningJob: Record<string, unknown>; principal?: string }) => {
  const tuningJob = { tunedModelDisplayName: 'support-bot', supervisedTuningSpec: { trainingDatasetUri: 'gs://corp-tune/support/train.jsonl', validationDatasetUri: 'gs://corp-tune/support/val.jsonl' }, ...opts.tuningJob };
  return normOne(auditEntry({
    method: `${V1}GenAiTuningService.CreateTuningJob`,
    request: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.CreateTuningJobRequest', parent: LOC, tuningJob },
    response: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.TuningJob', name: `${NLOC}/tuningJobs/${++id}`, state: 'JOB_STATE_PENDING', ...tuningJob },
    principal: opts.principal,
    timestamp: `2026-11-${String(opts.day).padStart(2, '0')}T12:00:00Z`,
  }));
};
const gemini = (day: number) => tune({ day, tuningJob: { baseModel: 'gemini-2.0-flash-001' } });

const alerts = (events: ReturnType<typeof normOne>[], rules: Record<string, unknown> = {}) => replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts;

describe('Vertex AI GenAI tuning jobs', () => {
  it('name the run by tunedModelDisplayName and the model it tunes in ml.job.base_model', () => {
    const ev = gemini(1);
    expect(ev.stage).toBe('training');
    expect(ev.action).toBe('tuning_job.create');
    expect(ev.ml?.job).toMatchObject({ type: 'tuning_job', name: 'support-bot', base_model: 'gemini-2.0-flash-001' });
    expect(ev.ml?.data?.inputs).toEqual(['gs://corp-tune/support/train.jsonl', 'gs://corp-tune/support/val.jsonl']);
  });

  it('continuous tuning names the tuned model it starts from (project number rewritten) and its checkpoint', () => {
    const ev = tune({ day: 2, tuningJob: { preTunedModel: { tunedModelName: `${NLOC}/models/9001@2`, checkpointId: '3' } } });
    expect(ev.ml?.job).toMatchObject({ name: 'support-bot', base_model: `${LOC}/models/9001@2`, base_checkpoint_id: '3' });
  });

  it('an open model tuned into a bucket keeps its base model and output location', () => {
    const ev = tune({ day: 3, tuningJob: { baseModel: 'meta/llama3_1@llama-3.1-8b-instruct', tunedModelDisplayName: 'support-llama', outputUri: 'gs://corp-tuned/support-llama/' } });
    expect(ev.ml?.job).toMatchObject({ name: 'support-llama', base_model: 'meta/llama3_1@llama-3.1-8b-instruct' });
    expect(ev.ml?.data?.outputs).toEqual(['gs://corp-tuned/support-llama/']);
  });

  it('is no training.network_egress finding: a TuningJob has no network to set', () => {
    expect(alerts([gemini(1), gemini(2)]).filter((a) => a.rule_id === 'training.network_egress')).toEqual([]);
    // A CustomJob with no network is still one.
    const custom = normOne(auditEntry({
      method: `${V1}JobService.CreateCustomJob`,
      request: { parent: LOC, customJob: { displayName: 'train-x', jobSpec: { workerPoolSpecs: [{ containerSpec: { imageUri: 'us-docker.pkg.dev/p/r/train@sha256:' + 'ab'.repeat(32) } }] } } },
      response: { name: `${NLOC}/customJobs/5` },
    }));
    expect(alerts([custom]).filter((a) => a.rule_id === 'training.network_egress').map((a) => a.details.job)).toEqual(['train-x']);
  });

  it('a run tuning another base model than its family ever did is training.unfamiliar_data_source, once', () => {
    const history = [gemini(1), gemini(2), gemini(3)];
    const swapped = tune({ day: 4, tuningJob: { baseModel: 'projects/attacker-proj-9/locations/us-central1/models/777@1' }, principal: 'mallory@example.com' });
    const again = tune({ day: 5, tuningJob: { baseModel: 'projects/attacker-proj-9/locations/us-central1/models/777@1' }, principal: 'mallory@example.com' });
    const found = alerts([...history, swapped, again]).filter((a) => a.rule_id === 'training.unfamiliar_data_source');
    expect(found.map((a) => [a.entity.id, a.details.base_model, a.details.inputs, a.details.submitted_by])).toEqual([
      ['support-bot', 'projects/attacker-proj-9/locations/us-central1/models/777@1', undefined, 'mallory@example.com'],
    ]);
    // Said as an unfamiliar base model it tunes, not as data it reads.
    expect(found[0]!.title).toBe('training.unfamiliar_data_source: Training job tunes a base model its family never tuned');
    expect(found[0]!.summary).toBe('support-bot tunes base model projects/attacker-proj-9/locations/us-central1/models/777@1; the 3 earlier runs of support-bot read only gs://corp-tune and tuned only gemini-2.0-flash-001');
    expect(found[0]!.evidence).toContain(swapped.id);
  });

  it('tuning data from an unfamiliar bucket is found in the family named by tunedModelDisplayName', () => {
    const poisoned = tune({ day: 4, tuningJob: { baseModel: 'gemini-2.0-flash-001', supervisedTuningSpec: { trainingDatasetUri: 'gs://mallory-scratch/support/train.jsonl' } } });
    const found = alerts([gemini(1), gemini(2), gemini(3), poisoned]).filter((a) => a.rule_id === 'training.unfamiliar_data_source');
    expect(found.map((a) => [a.entity.id, a.details.inputs, a.details.base_model])).toEqual([['support-bot', ['gs://mallory-scratch/support/train.jsonl'], undefined]]);
    expect(found[0]!.title).toBe('training.unfamiliar_data_source: Training job reads data from a location its family never read');
    // Both new: both said.
    const both = tune({ day: 4, tuningJob: { baseModel: 'gemini-2.5-flash', supervisedTuningSpec: { trainingDatasetUri: 'gs://mallory-scratch/support/train.jsonl' } } });
    const [alert] = alerts([gemini(1), gemini(2), gemini(3), both]).filter((a) => a.rule_id === 'training.unfamiliar_data_source');
    expect(alert!.title).toBe('training.unfamiliar_data_source: Training job reads data from a location its family never read and tunes a base model it never tuned');
    expect(alert!.summary).toBe('support-bot reads gs://mallory-scratch/support/train.jsonl and tunes base model gemini-2.5-flash; the 3 earlier runs of support-bot read only gs://corp-tune and tuned only gemini-2.0-flash-001');
  });

  it('a base model matching allowed_sources passes; a routine first run of a family is learned, not judged', () => {
    const upgrade = tune({ day: 4, tuningJob: { baseModel: 'gemini-2.5-flash' } });
    const rules = { 'training.unfamiliar_data_source': { allowed_sources: ['gemini-*'] } };
    expect(alerts([gemini(1), gemini(2), gemini(3), upgrade], rules).filter((a) => a.rule_id === 'training.unfamiliar_data_source')).toEqual([]);
    // Without the list the upgrade is named (a new base model is new weights): once.
    expect(alerts([gemini(1), gemini(2), gemini(3), upgrade]).filter((a) => a.rule_id === 'training.unfamiliar_data_source').map((a) => a.details.base_model)).toEqual(['gemini-2.5-flash']);
  });
});

describe('Model Garden deployments of Hugging Face models', () => {
  it('the Hugging Face token of a Deploy / DeployPublisherModel request never reaches raw', () => {
    const deploy = normOne(auditEntry({
      method: `${V1}ModelGardenService.Deploy`,
      request: { destination: LOC, huggingFaceModelId: 'meta-llama/Llama-3.1-8B-Instruct', modelConfig: { acceptEula: true, huggingFaceAccessToken: 'hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789', modelDisplayName: 'llama31' } },
      response: { name: `${NLOC}/operations/555` },
    }));
    const legacy = normOne(auditEntry({
      method: `${V1B}ModelGardenService.DeployPublisherModel`,
      request: { destination: LOC, model: 'someuser/llama-3-8b-uncensored', acceptEula: true, huggingFaceAccessToken: 'hf_ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210' },
    }));
    for (const ev of [deploy, legacy]) {
      expect(JSON.stringify(ev)).not.toMatch(/hf_[A-Za-z0-9]{10,}/);
      expect(ev.action).toBe('endpoint.deploy');
    }
    expect((deploy.raw as { protoPayload: { request: { modelConfig: unknown } } }).protoPayload.request.modelConfig).toEqual({ acceptEula: true, huggingFaceAccessToken: '[redacted]', modelDisplayName: 'llama31' });
    expect(deploy.ml?.model?.name).toBe('publishers/hf-meta-llama/models/Llama-3.1-8B-Instruct');
    expect(legacy.ml?.model?.name).toBe('publishers/hf-someuser/models/llama-3-8b-uncensored');
  });
});
