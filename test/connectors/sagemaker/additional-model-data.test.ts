import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { ctRecord, normOne } from './helpers.js';

/**
 * A SageMaker Model's containers load up to five more weight locations besides their model data
 * (ContainerDefinition.AdditionalModelDataSources: ChannelName + S3DataSource, mounted under
 * /opt/ml/additional-model-data-sources/<channel>): a draft model for speculative decoding, adapters. They run in
 * the serving container as much as the model does, so a deployment is judged on them too; a package can register
 * its own (ModelPackageContainerDefinition.AdditionalS3DataSource), which its approval then covers.
 */

const PKG = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/3';
const IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.29.0-lmi11.0.0-cu124';
let n = 0;
/** One CloudTrail record, each a minute after the one built before it. */
const at = (name: string, params: Record<string, unknown>, response: Record<string, unknown> | null = null) =>
  normOne(ctRecord(name, params, { eventID: `amd-${++n}`, eventTime: `2026-11-25T11:${String(n).padStart(2, '0')}:00Z`, responseElements: response }));

const register = (container: Record<string, unknown> = {}) =>
  at('CreateModelPackage', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'Approved', inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl: 's3://models/fraud/v3/model.tar.gz', ...container }], supportedContentTypes: ['application/json'], supportedResponseMIMETypes: ['application/json'] } }, { modelPackageArn: PKG });

const draft = (uri: string) => [{ channelName: 'draft_model', s3DataSource: { s3Uri: uri, s3DataType: 'S3Prefix', compressionType: 'None' } }];

/** CreateModel (container as given) → endpoint config → CreateEndpoint fraud-prod. */
const deploy = (primaryContainer: Record<string, unknown>) => [
  at('CreateModel', { modelName: 'fraud-m', executionRoleArn: 'arn:aws:iam::111122223333:role/exec', primaryContainer }),
  at('CreateEndpointConfig', { endpointConfigName: 'fraud-ec', productionVariants: [{ variantName: 'AllTraffic', modelName: 'fraud-m', instanceType: 'ml.g5.2xlarge', initialInstanceCount: 1 }] }),
  at('CreateEndpoint', { endpointName: 'fraud-prod', endpointConfigName: 'fraud-ec' }),
];

const unapproved = (events: ReturnType<typeof at>[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');

describe('SageMaker additional model data sources', () => {
  it('are named apart from the model artifact (ml.model.additional_artifact_uris)', () => {
    const [model] = deploy({ modelPackageName: PKG, additionalModelDataSources: draft('s3://scratch/draft/') });
    expect(model!.ml?.model).toMatchObject({ name: 'fraud-m', source_package: PKG, additional_artifact_uris: ['s3://scratch/draft/'] });
    expect(model!.ml?.model?.artifact_uri).toBeUndefined();
  });

  it('weights nobody registered, loaded beside an approved package, make the deployment unapproved', () => {
    const alerts = unapproved([register(), ...deploy({ modelPackageName: PKG, additionalModelDataSources: draft('s3://scratch/draft/') })]);
    expect(alerts.map((a) => [a.entity.id, a.details.reason, (a.details.deployed as { artifact?: string } | undefined)?.artifact])).toEqual([['111122223333:us-east-1:fraud-prod', 'never_approved', 's3://scratch/draft']]);
    // The same with the approved artifact named directly rather than through the package.
    const direct = unapproved([register(), ...deploy({ image: IMAGE, modelDataUrl: 's3://models/fraud/v3/model.tar.gz', additionalModelDataSources: draft('s3://scratch/draft/') })]);
    expect(direct.map((a) => (a.details.deployed as { artifact?: string } | undefined)?.artifact)).toEqual(['s3://scratch/draft']);
  });

  it('weights the approved package registered (additionalS3DataSource) are covered by its approval; without extra weights nothing changes', () => {
    const reg = register({ additionalS3DataSource: { s3DataType: 'S3Prefix', s3Uri: 's3://models/fraud/v3/draft/', compressionType: 'None' } });
    expect(reg.ml?.model?.additional_artifact_uris).toEqual(['s3://models/fraud/v3/draft/']);
    expect(unapproved([reg, ...deploy({ modelPackageName: PKG, additionalModelDataSources: draft('s3://models/fraud/v3/draft/') })])).toEqual([]);
    expect(unapproved([register(), ...deploy({ modelPackageName: PKG })])).toEqual([]);
  });
});
