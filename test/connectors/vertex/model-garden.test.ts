import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { parseModelRef } from '../../../connectors/vertex/facts.js';
import { LOC, V1, auditEntry, normOne } from './samples.js';

/**
 * Model Garden deploys weights from anywhere in one call (ModelGardenService.Deploy, v1beta1 DeployRequest
 * `customModel.gcsUri`; DeployPublisherModel's `model`: a publisher model, a Hugging Face id, a `gs://` or
 * `https://` location), uploading and deploying them with no UploadModel or DeployModel of its own in the
 * audit log. What it deploys must be named for registry.unapproved_deployment to judge it.
 */

const V1B = 'google.cloud.aiplatform.v1beta1.';
const MODEL = `${LOC}/models/777`;
const at = (m: number) => `2026-11-20T09:${String(m).padStart(2, '0')}:00Z`;

const garden = (rpc: 'Deploy' | 'DeployPublisherModel', request: Record<string, unknown>, minute = 30) =>
  normOne(auditEntry({
    method: `${V1B}ModelGardenService.${rpc}`,
    resourceName: LOC,
    request: { '@type': `type.googleapis.com/google.cloud.aiplatform.v1beta1.${rpc}Request`, destination: LOC, ...request },
    response: { name: `${LOC}/operations/31` },
    principal: 'mallory@example.com',
    timestamp: at(minute),
  }));

const unapproved = (events: ReturnType<typeof normOne>[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');

describe('Model Garden deployments of custom weights', () => {
  it('Deploy of a custom model names its weights (customModel.gcsUri) and is an unapproved deployment', () => {
    const ev = garden('Deploy', { customModel: { gcsUri: 'gs://scratch/llm/' }, endpointConfig: { endpointDisplayName: 'llm' } });
    expect([ev.stage, ev.action, ev.ml?.model?.artifact_uri]).toEqual(['serving', 'endpoint.deploy', 'gs://scratch/llm/']);
    const alerts = unapproved([ev]);
    expect(alerts.map((a) => [a.details.reason, a.details.deployer, (a.details.deployed as { artifact?: string }).artifact])).toEqual([['never_approved', 'mallory@example.com', 'gs://scratch/llm']]);
  });

  it('DeployPublisherModel names what its `model` says: weights at a gs:// or https:// location, or a Hugging Face model', () => {
    expect(garden('DeployPublisherModel', { model: 'gs://scratch/llm', endpointDisplayName: 'llm' }).ml?.model?.artifact_uri).toBe('gs://scratch/llm');
    expect(garden('DeployPublisherModel', { model: 'https://example.com/llm.zip' }).ml?.model?.artifact_uri).toBe('https://example.com/llm.zip');
    const hf = garden('DeployPublisherModel', { model: 'evilcorp/backdoored-llm', acceptEula: true });
    expect(hf.ml?.model?.name).toBe('publishers/hf-evilcorp/models/backdoored-llm');
    // A publisher model is named as before (the `@version` is the publisher's, not a registry alias of yours).
    expect(garden('DeployPublisherModel', { model: 'publishers/google/models/gemma2@gemma-2-2b-it' }).ml?.model?.name).toBe('publishers/google/models/gemma2');
    for (const ev of [garden('DeployPublisherModel', { model: 'gs://scratch/llm' }), hf]) expect(unapproved([ev])).toHaveLength(1);
  });

  it('a publisher model\'s @version is ml.model.version, never an alias: a version named like an approval alias approves nothing', () => {
    const gemma = garden('Deploy', { publisherModelName: 'publishers/google/models/gemma3@gemma-3-4b-it', endpointConfig: { endpointDisplayName: 'gemma' } });
    expect(gemma.ml?.model).toMatchObject({ name: 'publishers/google/models/gemma3', version: 'gemma-3-4b-it' });
    expect(gemma.ml?.model?.aliases).toBeUndefined();
    // `production` is an approval alias (the default approval_aliases): as the publisher's version name it is none.
    for (const name of ['production', 'approved']) {
      const ev = garden('Deploy', { publisherModelName: `publishers/google/models/gemma3@${name}` }, 40);
      expect(ev.ml?.model).toMatchObject({ name: 'publishers/google/models/gemma3', version: name });
      expect(ev.ml?.model?.aliases).toBeUndefined();
      expect(ev.ml?.model?.approval).toBeUndefined();
    }
    // Your own registry's `@alias` is still an alias, its `@2` a version.
    expect(parseModelRef(`${MODEL}@production`)).toEqual({ name: MODEL, alias: 'production' });
    expect(parseModelRef(`${MODEL}@2`)).toEqual({ name: MODEL, version: '2' });
  });

  it('a Garden deploy names its endpoint when the call does (the done operation, endpointConfig.endpointUserId), else the model it deploys, not the region', () => {
    // No endpoint named: two deploys of two models in one region are two subjects.
    const hf = garden('Deploy', { huggingFaceModelId: 'evilcorp/backdoored-llm', endpointConfig: { endpointDisplayName: 'llm' } });
    const custom = garden('Deploy', { customModel: { gcsUri: 'gs://scratch/llm/' }, endpointConfig: { endpointDisplayName: 'llm' } }, 31);
    expect(hf.resource).toMatchObject({ type: 'endpoint', id: LOC, name: 'model-garden:publishers/hf-evilcorp/models/backdoored-llm' });
    expect(hf.ml?.deployment).toMatchObject({ endpoint_display_name: 'llm' });
    expect(hf.ml?.deployment?.endpoint).toBeUndefined();
    const alerts = unapproved([hf, custom]);
    expect(alerts.map((a) => a.entity)).toEqual([
      { type: 'endpoint', id: 'model-garden:publishers/hf-evilcorp/models/backdoored-llm', platform: 'vertex' },
      { type: 'endpoint', id: 'model-garden:gs://scratch/llm/', platform: 'vertex' },
    ]);
    // The id the caller picked for the endpoint, under the request's destination.
    const byId = garden('Deploy', { huggingFaceModelId: 'evilcorp/backdoored-llm', endpointConfig: { endpointDisplayName: 'llm', endpointUserId: 'llm-prod' } }, 32);
    expect(byId.ml?.deployment?.endpoint).toBe(`${LOC}/endpoints/llm-prod`);
    expect(unapproved([byId]).map((a) => a.entity.id)).toEqual([`${LOC}/endpoints/llm-prod`]);
    // The done operation's DeployResponse names the endpoint it created.
    const done = normOne(auditEntry({
      method: `${V1B}ModelGardenService.Deploy`,
      resourceName: LOC,
      request: { '@type': `type.googleapis.com/${V1B}DeployRequest`, destination: LOC, publisherModelName: 'publishers/google/models/gemma3@gemma-3-4b-it' },
      response: { name: `${LOC}/operations/32`, done: true, response: { '@type': `type.googleapis.com/${V1B}DeployResponse`, publisherModel: 'publishers/google/models/gemma3@gemma-3-4b-it', endpoint: `${LOC}/endpoints/5544`, model: `${LOC}/models/9911` } },
      principal: 'mallory@example.com',
      timestamp: at(33),
    }));
    expect(done.ml?.deployment?.endpoint).toBe(`${LOC}/endpoints/5544`);
    expect(done.resource).toMatchObject({ type: 'endpoint', id: `${LOC}/endpoints/5544`, name: '5544' });
  });

  it('custom weights uploaded to the registry and approved there are not an unapproved deployment when Model Garden deploys them', () => {
    const upload = normOne(auditEntry({
      method: `${V1}ModelService.UploadModel`,
      request: { parent: LOC, model: { displayName: 'llm', artifactUri: 'gs://corp-models/llm/v1/', versionAliases: ['production'] } },
      response: { name: `${MODEL}/operations/1` },
      principal: 'ci@example.com',
      timestamp: at(0),
    }));
    expect(unapproved([upload, garden('Deploy', { customModel: { gcsUri: 'gs://corp-models/llm/v1/' } })])).toEqual([]);
    // Near miss: other weights beside the approved ones are not vouched for by them.
    expect(unapproved([upload, garden('Deploy', { customModel: { gcsUri: 'gs://corp-models/llm/v2/' } })])).toHaveLength(1);
  });

  it('the serving container a Model Garden deploy sets (modelConfig.containerSpec) is judged as a serving image', () => {
    const ev = garden('Deploy', { huggingFaceModelId: 'evilcorp/backdoored-llm', modelConfig: { acceptEula: true, containerSpec: { imageUri: 'docker.io/evilcorp/serve:latest' } } });
    expect(ev.ml?.model).toMatchObject({ name: 'publishers/hf-evilcorp/models/backdoored-llm', image: 'docker.io/evilcorp/serve:latest' });
    const alerts = replayEvents([ev], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'serving.unverified_image');
    expect(alerts.map((a) => a.details.images)).toEqual([['docker.io/evilcorp/serve:latest']]);
  });
});
