import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * A SageMaker Neo (CreateCompilationJob) or inference-optimization (CreateOptimizationJob) copy of an approved package
 * is a new S3 object. It is vouched for as the registry records it — an artifact of the package's additional inference
 * specifications (CreateModelPackage AdditionalInferenceSpecifications, UpdateModelPackage
 * AdditionalInferenceSpecificationsToAdd, "generally used with SageMaker Neo to store the compiled artifacts") — and
 * judged by that version's approval; never by the compilation job's output location, which anyone who can write there
 * could fill with other weights.
 */
const PKG = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/3';
const IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/xgboost-inference:1.7-1-cpu-py3';
const NEO_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/sagemaker-inference-mxnet:1.8-cpu-py3';
const COMPILED = 's3://models/fraud/v3/neo/model-ml_c5.tar.gz';
let n = 0;
const at = (name: string, params: Record<string, unknown>, response: Record<string, unknown> | null = null, actor?: string) =>
  normOne(ctRecord(name, params, {
    eventID: `neo-${++n}`, eventTime: `2026-11-25T1${Math.floor(n / 60)}:${String(n % 60).padStart(2, '0')}:00Z`, responseElements: response,
    ...(actor ? { userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::111122223333:assumed-role/${actor}/${actor}`, accountId: '111122223333', principalId: `AROA:${actor}`, sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::111122223333:role/${actor}`, userName: actor } } } } : {}),
  }));

const register = () => at('CreateModelPackage', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl: 's3://models/fraud/v3/model.tar.gz' }] } }, { modelPackageArn: PKG }, 'Trainer');
const approve = () => at('UpdateModelPackage', { modelPackageArn: PKG, modelApprovalStatus: 'Approved' }, { modelPackageArn: PKG }, 'Approver');
const compile = () => at('CreateCompilationJob', {
  compilationJobName: 'fraud-v3-c5', roleArn: 'arn:aws:iam::111122223333:role/Neo', modelPackageVersionArn: PKG,
  outputConfig: { s3OutputLocation: 's3://models/fraud/v3/neo/', targetDevice: 'ml_c5' }, stoppingCondition: { maxRuntimeInSeconds: 900 },
}, { compilationJobArn: 'arn:aws:sagemaker:us-east-1:111122223333:compilation-job/fraud-v3-c5' }, 'Trainer');
const addCopy = (uri = COMPILED) => at('UpdateModelPackage', {
  modelPackageArn: PKG,
  additionalInferenceSpecificationsToAdd: [{ name: 'neo-ml-c5', containers: [{ image: NEO_IMAGE, modelDataUrl: uri }], supportedRealtimeInferenceInstanceTypes: ['ml.c5.xlarge'] }],
}, { modelPackageArn: PKG }, 'Approver');
const deploy = (modelDataUrl: string, endpoint = 'fraud-prod', image = NEO_IMAGE) => [
  at('CreateModel', { modelName: `m-${n}`, executionRoleArn: 'arn:aws:iam::111122223333:role/exec', primaryContainer: { image, modelDataUrl } }, null, 'Deployer'),
  at('CreateEndpointConfig', { endpointConfigName: `ec-${n}`, productionVariants: [{ variantName: 'AllTraffic', modelName: `m-${n - 1}`, instanceType: 'ml.c5.xlarge', initialInstanceCount: 1 }] }, null, 'Deployer'),
  at('CreateEndpoint', { endpointName: endpoint, endpointConfigName: `ec-${n - 1}` }, null, 'Deployer'),
];

const alerts = (events: NormalizedEvent[], rule: string) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === rule);

describe('Neo / optimization copies of an approved package', () => {
  it('a compiled copy registered in the approved package deploys without a "never approved" alert; its addition is a change of the approved version', () => {
    const events = [register(), approve(), compile(), addCopy(), ...deploy(COMPILED)];
    expect(events[3]!.ml?.model).toMatchObject({ name: 'fraud', version: '3', additional_inference_artifact_uris: [COMPILED] });
    expect(alerts(events, 'registry.unapproved_deployment')).toEqual([]);
    expect(alerts(events, 'registry.approved_model_modified')).toMatchObject([{ entity: { type: 'model_version' } }]);
  });

  it('a copy registered by the call that approves the package deploys with its own container image without an alert', () => {
    const approveWithCopy = () => at('UpdateModelPackage', {
      modelPackageArn: PKG, modelApprovalStatus: 'Approved',
      additionalInferenceSpecificationsToAdd: [{ name: 'neo-ml-c5', containers: [{ image: NEO_IMAGE, modelDataUrl: COMPILED }], supportedRealtimeInferenceInstanceTypes: ['ml.c5.xlarge'] }],
    }, { modelPackageArn: PKG }, 'Approver');
    const events = [register(), approveWithCopy(), ...deploy(COMPILED)];
    expect(alerts(events, 'registry.unapproved_deployment')).toEqual([]);
    // Another image with the copy than any registered is still a substitution.
    const other = alerts([register(), approveWithCopy(), ...deploy(COMPILED, 'fraud-prod', '111122223333.dkr.ecr.us-east-1.amazonaws.com/evil@sha256:' + 'e'.repeat(64))], 'registry.unapproved_deployment');
    expect(other.map((a) => a.details.reason)).toEqual(['image_substitution']);
  });

  it('a compiled copy nobody registered, and other weights put in the compilation output location, are never approved', () => {
    const unregistered = alerts([register(), approve(), compile(), ...deploy(COMPILED)], 'registry.unapproved_deployment');
    expect(unregistered.map((a) => a.details.reason)).toEqual(['never_approved']);
    const planted = alerts([register(), approve(), compile(), addCopy(), ...deploy('s3://models/fraud/v3/neo/other.tar.gz')], 'registry.unapproved_deployment');
    expect(planted.map((a) => [a.details.reason, a.details.known_versions])).toEqual([['never_approved', []]]);
  });

  it('once registered, the copy is an approved artifact: a later PutObject over it is approved-model tampering', () => {
    const put = normOne(ctRecord('PutObject', { bucketName: 'models', key: 'fraud/v3/neo/model-ml_c5.tar.gz' }, {
      eventID: `neo-${++n}`, eventTime: '2026-11-25T13:00:00Z', eventSource: 's3.amazonaws.com', eventCategory: 'Data', responseElements: null,
      resources: [{ type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::models/fraud/v3/neo/model-ml_c5.tar.gz' }, { accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::models' }],
    }), { model_buckets: ['models'] });
    const fired = alerts([register(), approve(), compile(), addCopy(), put], 'registry.approved_model_modified').filter((a) => a.details.object);
    expect(fired.map((a) => [a.entity.id, a.details.object])).toEqual([['111122223333:us-east-1:fraud/3', COMPILED]]);
  });

  it('the copy follows its version: registered in a package later rejected, its deployment is of a rejected version', () => {
    const reject = () => at('UpdateModelPackage', { modelPackageArn: PKG, modelApprovalStatus: 'Rejected' }, { modelPackageArn: PKG }, 'Approver');
    const out = alerts([register(), approve(), addCopy(), reject(), ...deploy(COMPILED)], 'registry.unapproved_deployment');
    expect(out.map((a) => a.details.reason)).toEqual(['rejected']);
  });
});
