import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { hubModelOfEnv, isPinnedHubModel } from '../../core/integrity/hub.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne as smOne } from '../connectors/sagemaker/helpers.js';
import { LOC, V1, auditEntry, normOne as vxOne } from '../connectors/vertex/samples.js';

/**
 * serving.unverified_image: a SageMaker model whose container loads its weights from the Hugging Face Hub
 * (`Environment.HF_MODEL_ID`, as the SDK's HuggingFaceModel / DJLModel write it) names the repository and revision in
 * ml.model; an unpinned revision is judged like an image by tag, a repository outside allowed_hub_models alerts.
 */
const RULE = 'serving.unverified_image';
const alertsOf = (evs: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);
// The SDK's get_huggingface_llm_image_uri: AWS's TGI DLC by tag, trusted as a prebuilt serving image.
const TGI = '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.1.1-tgi2.0.0-gpu-py310-cu121-ubuntu22.04';
const DJL = '763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.29.0-lmi11.0.0-cu124';
const COMMIT = '8c22764a7e3675c50d4c7c9a4edb474456022b16';

let n = 0;
const createModel = (environment: Record<string, string>, image = TGI, name = 'llama3-chat') => NormalizedEvent.parse(smOne(ctRecord('CreateModel', {
  modelName: name, executionRoleArn: 'arn:aws:iam::111122223333:role/SageMakerExecution',
  primaryContainer: { image, environment: { SM_NUM_GPUS: '1', MAX_INPUT_LENGTH: '2048', MAX_TOTAL_TOKENS: '4096', ...environment } },
}, { eventID: `hub-${++n}` })));

describe('hubModelOfEnv: which variables each container reads', () => {
  it('HF_MODEL_ID (+ HF_MODEL_REVISION, HF_TASK, trust_remote_code), DJL OPTION_MODEL_ID / OPTION_REVISION; MODEL_ID only bare', () => {
    expect(hubModelOfEnv({ HF_MODEL_ID: 'someuser/llama-3-8b-uncensored', HF_MODEL_REVISION: 'main', HF_TASK: 'text-generation', HF_MODEL_TRUST_REMOTE_CODE: 'true' }))
      .toEqual({ hub: { id: 'someuser/llama-3-8b-uncensored', revision: 'main', task: 'text-generation', trust_remote_code: true } });
    expect(hubModelOfEnv({ OPTION_MODEL_ID: 'meta-llama/Meta-Llama-3-8B', OPTION_REVISION: COMMIT })).toEqual({ hub: { id: 'meta-llama/Meta-Llama-3-8B', revision: COMMIT } });
    expect(hubModelOfEnv({ HF_MODEL_ID: 's3://models/llama3/' })).toEqual({ uri: 's3://models/llama3/' });
    expect(hubModelOfEnv({ HF_MODEL_ID: '/opt/ml/model' })).toEqual({});
    expect(hubModelOfEnv({ MODEL_ID: 'google/gemma-2b' })).toEqual({});
    expect(hubModelOfEnv([{ name: 'MODEL_ID', value: 'google/gemma-2b' }, { name: 'REVISION', value: 'v1.1' }], { bare: true })).toEqual({ hub: { id: 'google/gemma-2b', revision: 'v1.1' } });
    expect(isPinnedHubModel({ revision: COMMIT })).toBe(true);
    expect(isPinnedHubModel({ revision: 'main' })).toBe(false);
    expect(isPinnedHubModel({})).toBe(false);
  });
});

describe('SageMaker CreateModel loading from the Hub', () => {
  it('records the repository and revision in ml.model', () => {
    const ev = createModel({ HF_MODEL_ID: 'someuser/llama-3-8b-uncensored', HF_MODEL_REVISION: 'main' });
    expect(ev.ml?.model).toMatchObject({ name: 'llama3-chat', hub_id: 'someuser/llama-3-8b-uncensored', hub_revision: 'main', hub_models: [{ id: 'someuser/llama-3-8b-uncensored', revision: 'main' }] });
    expect(ev.ml?.model?.artifact_uri).toBeUndefined();
  });

  it('a branch or no revision alerts on the trusted TGI image; a commit does not', () => {
    const [branch, ...more] = alertsOf([createModel({ HF_MODEL_ID: 'someuser/llama-3-8b-uncensored', HF_MODEL_REVISION: 'main' })]);
    expect(more).toEqual([]);
    expect(branch!.details).toMatchObject({ images: [], hub_models: ['someuser/llama-3-8b-uncensored@main'] });
    expect(branch!.summary).toContain('Hugging Face model someuser/llama-3-8b-uncensored at revision main is not pinned to a commit');
    const [none] = alertsOf([createModel({ HF_MODEL_ID: 'someuser/llama-3-8b-uncensored' }, TGI, 'other')]);
    expect(none!.details?.reasons).toEqual(['Hugging Face model someuser/llama-3-8b-uncensored at no revision (the default branch) is not pinned to a commit']);
    expect(alertsOf([createModel({ HF_MODEL_ID: 'meta-llama/Meta-Llama-3-8B-Instruct', HF_MODEL_REVISION: COMMIT })])).toEqual([]);
    // require_hub_commit: false turns the revision check off.
    expect(alertsOf([createModel({ HF_MODEL_ID: 'someuser/llama-3-8b-uncensored' })], { [RULE]: { require_hub_commit: false } })).toEqual([]);
  });

  it('allowed_hub_models: a pinned repository outside it alerts, inside it passes; DJL OPTION_MODEL_ID is read', () => {
    const rules = { [RULE]: { allowed_hub_models: ['meta-llama/*', 'mistralai/Mistral-7B-Instruct-v0.3'] } };
    const [outside, ...more] = alertsOf([createModel({ OPTION_MODEL_ID: 'someuser/llama-3-8b-uncensored', OPTION_REVISION: COMMIT }, DJL)], rules);
    expect(more).toEqual([]);
    expect(outside!.details).toMatchObject({ hub_models: [`someuser/llama-3-8b-uncensored@${COMMIT}`], reasons: ['Hugging Face model someuser/llama-3-8b-uncensored is not in allowed_hub_models'] });
    expect(alertsOf([createModel({ HF_MODEL_ID: 'meta-llama/Meta-Llama-3-8B-Instruct', HF_MODEL_REVISION: COMMIT })], rules)).toEqual([]);
    expect(() => RulesConfig.parse({ [RULE]: { allowed_hub_models: [''] } })).toThrow();
  });

  it('trust_remote_code is said; DJL HF_MODEL_ID as s3:// is weights besides the model data, no Hub model', () => {
    const [a] = alertsOf([createModel({ HF_MODEL_ID: 'someuser/custom-arch', HF_MODEL_TRUST_REMOTE_CODE: 'true' })]);
    expect(a!.details?.reasons).toEqual(['Hugging Face model someuser/custom-arch at no revision (the default branch) is not pinned to a commit (its remote code trusted)']);
    const s3 = createModel({ HF_MODEL_ID: 's3://scratch-share-9931/llama3/' }, DJL);
    expect(s3.ml?.model?.hub_id).toBeUndefined();
    expect(s3.ml?.model?.additional_artifact_uris).toEqual(['s3://scratch-share-9931/llama3/']);
  });

  it('a model package\'s and an inference component\'s containers are read too', () => {
    const pkg = NormalizedEvent.parse(smOne(ctRecord('CreateModelPackage', {
      modelPackageGroupName: 'llama3-chat', modelApprovalStatus: 'PendingManualApproval',
      inferenceSpecification: { containers: [{ image: TGI, environment: { HF_MODEL_ID: 'someuser/llama-3-8b-uncensored', HF_MODEL_REVISION: 'v2' } }], supportedContentTypes: ['application/json'], supportedResponseMIMETypes: ['application/json'] },
    }, { eventID: 'hub-pkg' })));
    expect(pkg.ml?.model).toMatchObject({ hub_id: 'someuser/llama-3-8b-uncensored', hub_revision: 'v2' });
    expect(alertsOf([pkg]).map((a) => a.details?.hub_models)).toEqual([['someuser/llama-3-8b-uncensored@v2']]);
    const ic = NormalizedEvent.parse(smOne(ctRecord('CreateInferenceComponent', {
      inferenceComponentName: 'llama3-ic', endpointName: 'genai-prod', variantName: 'AllTraffic',
      specification: { container: { image: TGI, environment: { HF_MODEL_ID: 'someuser/llama-3-8b-uncensored' } }, computeResourceRequirements: { numberOfAcceleratorDevicesRequired: 1, minMemoryRequiredInMb: 16384 } },
      runtimeConfig: { copyCount: 1 },
    }, { eventID: 'hub-ic' })));
    expect(ic.ml?.model?.hub_id).toBe('someuser/llama-3-8b-uncensored');
    const [icAlert] = alertsOf([ic]);
    expect(icAlert!.entity).toMatchObject({ type: 'endpoint' });
    expect(icAlert!.details?.hub_models).toEqual(['someuser/llama-3-8b-uncensored']);
  });
});

describe('Vertex UploadModel of a Hugging Face container', () => {
  it('reads the TGI container\'s MODEL_ID / REVISION (Vertex runs it directly) and judges them alike', () => {
    const hfImage = `us-docker.pkg.dev/deeplearning-platform-release/gcr.io/huggingface-text-generation-inference-cu121.2-2.ubuntu2204.py310@sha256:${'c'.repeat(64)}`;
    const upload = (env: Array<{ name: string; value: string }>) => NormalizedEvent.parse(vxOne(auditEntry({
      method: `${V1}ModelService.UploadModel`,
      request: { parent: LOC, model: { displayName: 'gemma-chat', containerSpec: { imageUri: hfImage, env: [...env, { name: 'NUM_SHARD', value: '1' }], ports: [{ containerPort: 8080 }] } } },
      response: { name: `${LOC}/models/4242/operations/1` },
    })));
    const branch = upload([{ name: 'MODEL_ID', value: 'someuser/gemma-2b-uncensored' }]);
    expect(branch.ml?.model).toMatchObject({ hub_id: 'someuser/gemma-2b-uncensored', hub_models: [{ id: 'someuser/gemma-2b-uncensored' }] });
    expect(alertsOf([branch]).map((a) => a.details?.hub_models)).toEqual([['someuser/gemma-2b-uncensored']]);
    const pinned = upload([{ name: 'MODEL_ID', value: 'google/gemma-2b-it' }, { name: 'REVISION', value: COMMIT }]);
    expect(pinned.ml?.model?.hub_revision).toBe(COMMIT);
    expect(alertsOf([pinned])).toEqual([]);
  });
});
