import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { ctRecord, normOne } from './helpers.js';

/**
 * A SageMaker private hub's model (ImportHubContent): named by HubContentName (the ARN's last part is its version),
 * its HubContentDocument (a JSON string) read for where JumpStart takes its weights, inference script and image from.
 */
const JUMPSTART = 's3://jumpstart-cache-prod-us-east-1';
const doc = (over: Record<string, unknown> = {}) => JSON.stringify({
  Url: 'https://huggingface.co/meta-llama/Meta-Llama-3-8B-Instruct', MinSdkVersion: '2.189.0',
  HostingEcrUri: '763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.28.0-lmi10.0.0-cu124',
  HostingArtifactUri: `${JUMPSTART}/meta-textgeneration/meta-textgeneration-llama-3-8b-instruct/artifacts/inference/v1.0.0/`,
  HostingScriptUri: `${JUMPSTART}/source-directory-tarballs/meta/inference/textgeneration/v1.2.3/sourcedir.tar.gz`,
  TrainingArtifactUri: `${JUMPSTART}/meta-training/train-meta-textgeneration-llama-3-8b-instruct.tar.gz`,
  InferenceEnvironmentVariables: [{ Name: 'SAGEMAKER_PROGRAM', DefaultValue: 'inference.py', Scope: 'container' }],
  ...over,
});
const importHub = (document: string, id = 'hub-1') => NormalizedEvent.parse(normOne(ctRecord('ImportHubContent', {
  hubName: 'corp-genai-hub', hubContentName: 'llama-3-8b-instruct', hubContentVersion: '2.0.0', hubContentType: 'Model', documentSchemaVersion: '2.2.0',
  hubContentDocument: document,
}, { eventID: id, responseElements: { hubArn: 'arn:aws:sagemaker:us-east-1:111122223333:hub/corp-genai-hub', hubContentArn: 'arn:aws:sagemaker:us-east-1:111122223333:hub-content/corp-genai-hub/Model/llama-3-8b-instruct/2.0.0' } })));

describe('ImportHubContent', () => {
  it('is named by the content name and records the document\'s hosting and training locations', () => {
    const ev = importHub(doc());
    expect(ev.resource).toMatchObject({ type: 'hub_content', name: 'llama-3-8b-instruct' });
    expect(ev.ml?.model).toMatchObject({
      name: 'llama-3-8b-instruct', version: '2.0.0', hub: 'corp-genai-hub', hub_content_type: 'Model',
      artifact_uri: `${JUMPSTART}/meta-textgeneration/meta-textgeneration-llama-3-8b-instruct/artifacts/inference/v1.0.0/`,
      image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.28.0-lmi10.0.0-cu124',
      code_uris: [`${JUMPSTART}/source-directory-tarballs/meta/inference/textgeneration/v1.2.3/sourcedir.tar.gz`],
      training_artifact_uri: `${JUMPSTART}/meta-training/train-meta-textgeneration-llama-3-8b-instruct.tar.gz`,
    });
    expect(ev.ml?.data?.inputs).toHaveLength(3);
  });

  it('a hosting script outside trusted_code_locations is serving.unverified_image; JumpStart\'s own bucket listed passes', () => {
    const rules = { 'serving.unverified_image': { trusted_code_locations: ['s3://jumpstart-cache-prod-*/*', 's3://ml-code/*'] } };
    const alertsOf = (ev: NormalizedEvent) => replayEvents([ev], { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === 'serving.unverified_image');
    expect(alertsOf(importHub(doc()))).toEqual([]);
    const foreign = importHub(doc({ HostingScriptUri: 's3://scratch-share-9931/sourcedir.tar.gz' }), 'hub-2');
    expect(alertsOf(foreign).map((a) => a.details?.code_uris)).toEqual([['s3://scratch-share-9931/sourcedir.tar.gz']]);
  });

  it('a document that is no JSON still names the content', () => {
    const ev = importHub('{not json', 'hub-3');
    expect(ev.ml?.model).toMatchObject({ name: 'llama-3-8b-instruct', version: '2.0.0' });
    expect(ev.ml?.model?.artifact_uri).toBeUndefined();
  });
});

describe('CreateHubContentReference (a private hub referencing a public JumpStart model)', () => {
  const PUBLIC = 'arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/Model/meta-textgeneration-llama-3-1-8b-instruct';
  const reference = (name: string, params: Record<string, unknown>, response: Record<string, unknown> | null, id: string) =>
    NormalizedEvent.parse(normOne(ctRecord(name, { hubName: 'corp-genai-hub', ...params }, { eventID: id, responseElements: response })));
  const response = (content: string) => ({ hubArn: 'arn:aws:sagemaker:us-east-1:111122223333:hub/corp-genai-hub', hubContentArn: `arn:aws:sagemaker:us-east-1:111122223333:hub-content/corp-genai-hub/ModelReference/${content}` });

  it('names the referenced public model in ml.model as ImportHubContent names its content, by HubContentName', () => {
    const ev = reference('CreateHubContentReference', { sageMakerPublicHubContentArn: PUBLIC, hubContentName: 'llama31', minVersion: '2.0.0' }, response('llama31'), 'ref-1');
    expect(ev).toMatchObject({ stage: 'platform', action: 'resource.create', resource: { type: 'hub_content', name: 'llama31' } });
    expect(ev.ml?.model).toEqual({
      name: 'llama31', hub: 'corp-genai-hub', hub_content_type: 'ModelReference',
      public_hub_content_arn: PUBLIC, jumpstart_model_id: 'meta-textgeneration-llama-3-1-8b-instruct', min_version: '2.0.0',
    });
  });

  it('without HubContentName, the reference is named by the public model\'s id; update and delete name the reference too', () => {
    const unnamed = reference('CreateHubContentReference', { sageMakerPublicHubContentArn: PUBLIC }, response('meta-textgeneration-llama-3-1-8b-instruct'), 'ref-2');
    expect(unnamed.ml?.model).toMatchObject({ name: 'meta-textgeneration-llama-3-1-8b-instruct', jumpstart_model_id: 'meta-textgeneration-llama-3-1-8b-instruct' });
    expect(unnamed.resource?.name).toBe('meta-textgeneration-llama-3-1-8b-instruct');
    const update = reference('UpdateHubContentReference', { hubContentName: 'llama31', hubContentType: 'ModelReference', minVersion: '3.0.0' }, response('llama31'), 'ref-3');
    expect(update.action).toBe('resource.update');
    expect(update.ml?.model).toEqual({ name: 'llama31', hub: 'corp-genai-hub', hub_content_type: 'ModelReference', min_version: '3.0.0' });
    const del = reference('DeleteHubContentReference', { hubContentName: 'llama31', hubContentType: 'ModelReference' }, null, 'ref-4');
    expect(del.action).toBe('resource.delete');
    expect(del.ml?.model).toMatchObject({ name: 'llama31', hub: 'corp-genai-hub' });
  });
});
