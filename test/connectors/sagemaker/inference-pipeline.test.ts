import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { ctRecord, normOne } from './helpers.js';

/**
 * A SageMaker inference pipeline (CreateModel `containers[]`, up to 15 run in sequence per request) can be made of
 * model packages, one per container (ContainerDefinition.ModelPackageName): a preprocessing package, then the model.
 * Each container serves, so each package is judged on its own: all approved is an approved deployment, and an
 * approved first container does not vouch for an unapproved one behind it.
 */

const ARN = (group: string, v: number) => `arn:aws:sagemaker:us-east-1:111122223333:model-package/${group}/${v}`;
const IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/sklearn-inference:1.2-1';
let n = 0;
const at = (name: string, params: Record<string, unknown>, response: Record<string, unknown> | null = null) =>
  normOne(ctRecord(name, params, { eventID: `ip-${++n}`, eventTime: new Date(Date.UTC(2026, 10, 25, 12) + n * 60_000).toISOString(), responseElements: response }));

const register = (group: string, v: number, status: 'Approved' | 'PendingManualApproval' | 'Rejected') =>
  at('CreateModelPackage', { modelPackageGroupName: group, modelApprovalStatus: status, inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl: `s3://models/${group}/v${v}/model.tar.gz` }], supportedContentTypes: ['text/csv'], supportedResponseMIMETypes: ['text/csv'] } }, { modelPackageArn: ARN(group, v) });

/** A pipeline Model of the given packages, its endpoint config and endpoint fraud-prod. */
const deploy = (packages: string[]) => [
  at('CreateModel', { modelName: 'fraud-pipeline', executionRoleArn: 'arn:aws:iam::111122223333:role/exec', containers: packages.map((p) => ({ modelPackageName: p })), inferenceExecutionConfig: { mode: 'Serial' } }),
  at('CreateEndpointConfig', { endpointConfigName: 'fraud-pipeline-ec', productionVariants: [{ variantName: 'AllTraffic', modelName: 'fraud-pipeline', instanceType: 'ml.m5.large', initialInstanceCount: 1 }] }),
  at('CreateEndpoint', { endpointName: 'fraud-prod', endpointConfigName: 'fraud-pipeline-ec' }),
];

const unapproved = (events: ReturnType<typeof at>[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');

describe('SageMaker inference pipelines of model packages', () => {
  it('name every container\'s package (ml.model.source_package the first, source_packages all)', () => {
    const [model] = deploy([ARN('prep', 1), ARN('fraud', 3)]);
    expect(model!.ml?.model).toMatchObject({ name: 'fraud-pipeline', source_package: ARN('prep', 1), source_packages: [ARN('prep', 1), ARN('fraud', 3)] });
  });

  it('every package approved: no alert', () => {
    expect(unapproved([register('prep', 1, 'Approved'), register('fraud', 3, 'Approved'), ...deploy([ARN('prep', 1), ARN('fraud', 3)])])).toEqual([]);
  });

  it('an approved preprocessing package does not vouch for the model package behind it, which was never approved', () => {
    const alerts = unapproved([register('prep', 1, 'Approved'), register('fraud', 4, 'PendingManualApproval'), ...deploy([ARN('prep', 1), ARN('fraud', 4)])]);
    expect(alerts.map((a) => [a.entity.id, a.details.reason, (a.details.deployed as { name?: string; version?: string } | undefined)?.name, (a.details.deployed as { version?: string } | undefined)?.version])).toEqual([
      ['111122223333:us-east-1:fraud-prod', 'never_approved', 'fraud', '4'],
    ]);
  });

  /** A Model of the given containers (packages or raw ones), its endpoint config and an endpoint. */
  const deployContainers = (model: string, endpoint: string, containers: Record<string, unknown>[]) => [
    at('CreateModel', { modelName: model, executionRoleArn: 'arn:aws:iam::111122223333:role/exec', containers, inferenceExecutionConfig: { mode: 'Serial' } }),
    at('CreateEndpointConfig', { endpointConfigName: `${model}-ec`, productionVariants: [{ variantName: 'AllTraffic', modelName: model, instanceType: 'ml.m5.large', initialInstanceCount: 1 }] }),
    at('CreateEndpoint', { endpointName: endpoint, endpointConfigName: `${model}-ec` }),
  ];
  const RAW = { image: IMAGE, modelDataUrl: 's3://scratch/unreviewed/model.tar.gz' };

  it('a raw container beside an approved package is judged by its own artifact, before or after it, and does not become the package\'s', () => {
    for (const containers of [[{ modelPackageName: ARN('fraud', 3) }, RAW], [RAW, { modelPackageName: ARN('fraud', 3) }]]) {
      const alerts = unapproved([register('fraud', 3, 'Approved'), ...deployContainers('fraud-mixed', 'fraud-prod', containers),
        // The same artifact alone on another endpoint: still nothing approved it.
        ...deployContainers('raw-only', 'scratch-prod', [RAW])]);
      expect(alerts.map((a) => [a.entity.id, a.details.reason, (a.details.deployed as { artifact?: string } | undefined)?.artifact])).toEqual([
        ['111122223333:us-east-1:fraud-prod', 'never_approved', 's3://scratch/unreviewed/model.tar.gz'],
        ['111122223333:us-east-1:scratch-prod', 'never_approved', undefined],
      ]);
    }
  });

  it('an unversioned package behind an approved one is judged, as it is in first place: it has no approval', () => {
    const unversioned = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/legacy-scorer';
    const alerts = unapproved([register('prep', 1, 'Approved'), ...deploy([ARN('prep', 1), unversioned])]);
    expect(alerts.map((a) => [a.details.reason, (a.details.deployed as { name?: string } | undefined)?.name])).toEqual([['never_approved', 'model-package/legacy-scorer']]);
  });

  it('a transform job over a Model of packages judges each package too', () => {
    const registered = [register('prep', 1, 'Approved'), register('fraud', 4, 'Rejected')];
    const [model] = deploy([ARN('prep', 1), ARN('fraud', 4)]);
    const job = at('CreateTransformJob', { transformJobName: 'score-1', modelName: 'fraud-pipeline', transformInput: { dataSource: { s3DataSource: { s3DataType: 'S3Prefix', s3Uri: 's3://in/batch' } } }, transformOutput: { s3OutputPath: 's3://out/batch' }, transformResources: { instanceType: 'ml.m5.large', instanceCount: 1 } });
    const alerts = replayEvents([...registered, model!, job], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'serving.unapproved_batch_inference');
    expect(alerts.map((a) => a.details.reason)).toEqual(['rejected']);
  });
});
