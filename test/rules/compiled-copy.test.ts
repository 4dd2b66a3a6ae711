import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig, createRuleEngine } from '../../core/rules/engine.js';
import { MemoryStateStore } from '../../core/state/index.js';
import { isAwsNeoImage } from '../../core/rules/aws-images.js';
import { asS3Uri } from '../../core/rules/facts.js';
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
  it('a compiled copy registered in the approved package deploys without a "never approved" alert', () => {
    const events = [register(), approve(), compile(), addCopy(), ...deploy(COMPILED)];
    expect(events[3]!.ml?.model).toMatchObject({ name: 'fraud', version: '3', additional_inference_artifact_uris: [COMPILED] });
    expect(alerts(events, 'registry.unapproved_deployment')).toEqual([]);
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
    // The copy was vouched for as the compilation job's output: the finding names the job whose bytes were replaced.
    expect(fired[0]!.details.compiled_copy).toMatchObject({ artifact: COMPILED, job: 'fraud-v3-c5', input: PKG, output: 's3://models/fraud/v3/neo', target_device: 'ml_c5', output_match: 'exact_name' });
  });

  it('the copy follows its version: registered in a package later rejected, its deployment is of a rejected version', () => {
    const reject = () => at('UpdateModelPackage', { modelPackageArn: PKG, modelApprovalStatus: 'Rejected' }, { modelPackageArn: PKG }, 'Approver');
    const out = alerts([register(), approve(), addCopy(), reject(), ...deploy(COMPILED)], 'registry.unapproved_deployment');
    expect(out.map((a) => a.details.reason)).toEqual(['rejected']);
  });
});

/**
 * The normal Neo flow — approve, compile the approved version (CreateCompilationJob), register the compiled copy in the
 * package (UpdateModelPackage AdditionalInferenceSpecificationsToAdd) — raises no registry.approved_model_modified when
 * the copy is the job's output (`<S3OutputLocation>/<input name>-<target device>.tar.gz`), the job read this version
 * and the copy's image is one AWS publishes for Neo; any other addition stays the finding, saying what was not vouched for.
 */
describe('registering a Neo-compiled copy of an approved version', () => {
  /** Neo's PyTorch inference image in us-east-1 (SageMaker Python SDK image_uri_config/neo-pytorch.json). */
  const AWS_NEO = '785573368785.dkr.ecr.us-east-1.amazonaws.com/sagemaker-inference-pytorch:1.8-cpu-py3';
  const compileFrom = (input: Record<string, unknown>, output = 's3://models/fraud/v3/neo/', job = 'fraud-v3-c5') => at('CreateCompilationJob', {
    compilationJobName: job, roleArn: 'arn:aws:iam::111122223333:role/Neo', ...input,
    outputConfig: { s3OutputLocation: output, targetDevice: 'ml_c5' }, stoppingCondition: { maxRuntimeInSeconds: 900 },
  }, { compilationJobArn: `arn:aws:sagemaker:us-east-1:111122223333:compilation-job/${job}` }, 'Trainer');
  const fromArtifact = (uri = 's3://models/fraud/v3/model.tar.gz') => compileFrom({ inputConfig: { s3Uri: uri, framework: 'PYTORCH', frameworkVersion: '1.8', dataInputConfig: '{"input0":[1,3,224,224]}' } });
  const add = (uri = COMPILED, image = AWS_NEO) => at('UpdateModelPackage', {
    modelPackageArn: PKG,
    additionalInferenceSpecificationsToAdd: [{ name: 'neo-ml-c5', containers: [{ image, modelDataUrl: uri }], supportedRealtimeInferenceInstanceTypes: ['ml.c5.xlarge'] }],
  }, { modelPackageArn: PKG }, 'Approver');
  const modified = (events: NormalizedEvent[]) => alerts(events, 'registry.approved_model_modified');
  /** In arrival order, as serve judges a live stream (replay sorts by event time), then the end of input. */
  const arriving = (events: NormalizedEvent[], end?: string) => {
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const out = events.flatMap((e) => engine.process(e, Date.parse(e.time)));
    return [...out, ...(end ? engine.flush(end) : [])].filter((a) => a.rule_id === 'registry.approved_model_modified');
  };

  it('the CreateCompilationJob record names its input, output location and target device', () => {
    expect(fromArtifact().ml?.job).toMatchObject({ name: 'fraud-v3-c5', type: 'compilation', source_uri: 's3://models/fraud/v3/model.tar.gz', output_location: 's3://models/fraud/v3/neo/', target_device: 'ml_c5' });
    expect(compile().ml?.job).toMatchObject({ source_package: PKG, output_location: 's3://models/fraud/v3/neo/' });
  });

  it('the compiled output of this version (by its artifact or its package ARN) with an AWS Neo image: no finding', () => {
    expect(modified([register(), approve(), fromArtifact(), add()])).toEqual([]);
    expect(modified([register(), approve(), compile(), add()])).toEqual([]);
    // A Deep Learning Container serves it too (the image of the older tests).
    expect(modified([register(), approve(), compile(), addCopy()])).toEqual([]);
    // The copy is still the version's: deployed, it is vouched for.
    expect(alerts([register(), approve(), fromArtifact(), add(), ...deploy(COMPILED, 'fraud-prod', AWS_NEO)], 'registry.unapproved_deployment')).toEqual([]);
  });

  it("the compilation job's record read after the update's (log files out of order): no finding", () => {
    const [r, a, job, update] = [register(), approve(), fromArtifact(), add()];
    expect(arriving([r!, a!, update!, job!], '2026-11-26T00:00:00Z')).toEqual([]);
    // A late job that compiled other weights into that location does not vouch for the copy: the finding comes with it.
    const [r2, a2, other, update2] = [register(), approve(), fromArtifact('s3://scratch/uploads/other.tar.gz'), add()];
    const out = arriving([r2!, a2!, update2!, other!]);
    expect(out.map((x) => [x.time, x.details.compiled_copy_unvouched])).toEqual([[update2!.time, [`compilation job fraud-v3-c5 writing ${COMPILED} compiled s3://scratch/uploads/other.tar.gz, not an artifact of fraud v3`]]]);
  });

  it('a copy no compilation job was seen writing is the finding, once the wait is over, at the update', () => {
    const [r, a, update] = [register(), approve(), add()];
    const late = arriving([r!, a!, update!], '2026-11-26T00:00:00Z');
    expect(late.map((x) => [x.time, x.details.compiled_copy_unvouched])).toEqual([[update!.time, [`no compilation job seen writing ${COMPILED}`]]]);
    expect(late[0]!.summary).toContain('not vouched for as a compiled copy: no compilation job seen writing');
    // Live: an hour of events later, without an end of input.
    const later = at('AddTags', { resourceArn: 'arn:aws:sagemaker:us-east-1:111122223333:endpoint/other', tags: [{ key: 'team', value: 'x' }] });
    const hoursLater = new Date(Date.parse(update!.time) + 4 * 3_600_000).toISOString();
    const clock = { ...later, time: hoursLater, received_time: hoursLater };
    expect(arriving([r!, a!, update!, clock]).map((x) => x.details.compiled_copy_unvouched)).toEqual([[`no compilation job seen writing ${COMPILED}`]]);
  });

  it('a job that compiled other weights, another object in its output location, or an image AWS does not publish: the finding says which', () => {
    const reasons = (events: NormalizedEvent[]) => modified(events).map((x) => x.details.compiled_copy_unvouched);
    expect(reasons([register(), approve(), fromArtifact('s3://scratch/uploads/other.tar.gz'), add()])).toEqual([[
      `compilation job fraud-v3-c5 writing ${COMPILED} compiled s3://scratch/uploads/other.tar.gz, not an artifact of fraud v3`,
    ]]);
    expect(reasons([register(), approve(), fromArtifact(), add('s3://models/fraud/v3/neo/other.tar.gz')])).toEqual([[
      `s3://models/fraud/v3/neo/other.tar.gz is not the object compilation job fraud-v3-c5 writes (${COMPILED})`,
    ]]);
    const lookalike = '111122223333.dkr.ecr.us-east-1.amazonaws.com/sagemaker-inference-pytorch:1.8-cpu-py3';
    expect(reasons([register(), approve(), fromArtifact(), add(COMPILED, lookalike)])).toEqual([[`image ${lookalike} is not an AWS Neo or Deep Learning Container image`]]);
    // Another field changed in the same call: the usual finding.
    const withMeta = () => at('UpdateModelPackage', { modelPackageArn: PKG, customerMetadataProperties: { note: 'x' }, additionalInferenceSpecificationsToAdd: [{ name: 'neo', containers: [{ image: AWS_NEO, modelDataUrl: COMPILED }] }] }, { modelPackageArn: PKG }, 'Approver');
    expect(modified([register(), approve(), fromArtifact(), withMeta()]).map((x) => x.details.fields)).toEqual([['customerMetadataProperties', 'additionalInferenceSpecificationsToAdd']]);
  });

  it("Neo's images are its repositories in the account that publishes them in the image's region", () => {
    expect(isAwsNeoImage(AWS_NEO)).toBe(true);
    expect(isAwsNeoImage('301217895009.dkr.ecr.us-west-2.amazonaws.com/sagemaker-neo-pytorch:1.5.1-inf-py3')).toBe(true);
    expect(isAwsNeoImage('472730292857.dkr.ecr.cn-north-1.amazonaws.com.cn/xgboost-neo:latest')).toBe(true);
    // us-west-2's account in us-east-1, and another repository of Neo's account.
    expect(isAwsNeoImage('301217895009.dkr.ecr.us-east-1.amazonaws.com/sagemaker-inference-pytorch:1.8-cpu-py3')).toBe(false);
    expect(isAwsNeoImage('785573368785.dkr.ecr.us-east-1.amazonaws.com/anything:1')).toBe(false);
  });
  it("a Deep Learning Container is one of the image's region's DLC account: opt-in regions, China and GovCloud have their own", () => {
    // The SageMaker Python SDK's image_uri_config registries: 763104351884 in most regions, another account in these.
    expect(isAwsNeoImage('217643126080.dkr.ecr.me-south-1.amazonaws.com/pytorch-inference:2.1.0-cpu-py310')).toBe(true);
    expect(isAwsNeoImage('626614931356.dkr.ecr.af-south-1.amazonaws.com/pytorch-inference:2.1.0-cpu-py310')).toBe(true);
    expect(isAwsNeoImage('727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/pytorch-inference:2.1.0-cpu-py310')).toBe(true);
    expect(isAwsNeoImage('442386744353.dkr.ecr.us-gov-west-1.amazonaws.com/pytorch-inference:2.1.0-cpu-py310')).toBe(true);
    expect(isAwsNeoImage('763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.1.0-cpu-py310')).toBe(true);
    // 763104351884 is not the DLC account of a region that has its own; a region's DLC account is not another region's.
    expect(isAwsNeoImage('763104351884.dkr.ecr.me-south-1.amazonaws.com/pytorch-inference:2.1.0-cpu-py310')).toBe(false);
    expect(isAwsNeoImage('763104351884.dkr.ecr.cn-north-1.amazonaws.com.cn/pytorch-inference:2.1.0-cpu-py310')).toBe(false);
    expect(isAwsNeoImage('217643126080.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1.0-cpu-py310')).toBe(false);
    // The rule: a copy registered in me-south-1 with that region's DLC is vouched for, with 763104351884's not.
    const ME = 'arn:aws:sagemaker:me-south-1:111122223333:model-package/fraud/3';
    const inMe = (e: NormalizedEvent) => ({ ...e, cloud: { ...e.cloud, region: 'me-south-1' } }) as NormalizedEvent;
    const reg = () => at('CreateModelPackage', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl: 's3://models/fraud/v3/model.tar.gz' }] } }, { modelPackageArn: ME }, 'Trainer');
    const ok = () => at('UpdateModelPackage', { modelPackageArn: ME, modelApprovalStatus: 'Approved' }, { modelPackageArn: ME }, 'Approver');
    const job = () => at('CreateCompilationJob', { compilationJobName: 'fraud-v3-c5', roleArn: 'arn:aws:iam::111122223333:role/Neo', modelPackageVersionArn: ME, outputConfig: { s3OutputLocation: 's3://models/fraud/v3/neo/', targetDevice: 'ml_c5' } }, { compilationJobArn: 'arn:aws:sagemaker:me-south-1:111122223333:compilation-job/fraud-v3-c5' }, 'Trainer');
    const addWith = (image: string) => at('UpdateModelPackage', { modelPackageArn: ME, additionalInferenceSpecificationsToAdd: [{ name: 'neo-ml-c5', containers: [{ image, modelDataUrl: COMPILED }] }] }, { modelPackageArn: ME }, 'Approver');
    const run = (image: string) => modified([reg(), ok(), job(), addWith(image)].map(inMe)).map((x) => x.details.compiled_copy_unvouched);
    expect(run('217643126080.dkr.ecr.me-south-1.amazonaws.com/pytorch-inference:2.1.0-cpu-py310')).toEqual([]);
    const wrong = '763104351884.dkr.ecr.me-south-1.amazonaws.com/pytorch-inference:2.1.0-cpu-py310';
    expect(run(wrong)).toEqual([[`image ${wrong} is not an AWS Neo or Deep Learning Container image`]]);
  });

  it('regions the SDK tables list since: their own DLC account (ap-east-2, ap-southeast-5/6/7, mx-central-1, ISO-F/E, EU sovereign), ISO Neo images', () => {
    // sagemaker-core image_uri_config (pytorch.json, tensorflow.json, djl-lmi.json; neo-pytorch.json), ALTERNATE_DOMAINS for the host.
    for (const dlc of [
      '975050140332.dkr.ecr.ap-east-2.amazonaws.com', '550225433462.dkr.ecr.ap-southeast-5.amazonaws.com', '633930458069.dkr.ecr.ap-southeast-6.amazonaws.com',
      '590183813437.dkr.ecr.ap-southeast-7.amazonaws.com', '637423239942.dkr.ecr.mx-central-1.amazonaws.com', '303241398832.dkr.ecr.us-isof-east-1.csp.hci.ic.gov',
      '454834333376.dkr.ecr.us-isof-south-1.csp.hci.ic.gov', '371248457586.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk', '204133271717.dkr.ecr.eusc-de-east-1.amazonaws.eu',
      '886529160074.dkr.ecr.us-iso-east-1.c2s.ic.gov', '094389454867.dkr.ecr.us-isob-east-1.sc2s.sgov.gov',
    ]) expect([dlc, isAwsNeoImage(`${dlc}/pytorch-inference:2.3.0-cpu-py311`)]).toEqual([dlc, true]);
    // There 763104351884's images are not the region's DLCs.
    for (const region of ['ap-east-2', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7', 'mx-central-1']) {
      expect([region, isAwsNeoImage(`763104351884.dkr.ecr.${region}.amazonaws.com/pytorch-inference:2.3.0-cpu-py311`)]).toEqual([region, false]);
    }
    expect(isAwsNeoImage('167761179201.dkr.ecr.us-iso-east-1.c2s.ic.gov/sagemaker-inference-pytorch:1.8-cpu-py3')).toBe(true);
    expect(isAwsNeoImage('751086301963.dkr.ecr.us-isof-east-1.csp.hci.ic.gov/xgboost-neo:latest')).toBe(true);
    // The account in another domain than its region's is no ECR host of that region.
    expect(isAwsNeoImage('886529160074.dkr.ecr.us-iso-east-1.attacker.example/pytorch-inference:2.3.0-cpu-py311')).toBe(false);
    expect(isAwsNeoImage('763104351884.dkr.ecr.us-east-1.amazonaws.com.cn/pytorch-inference:2.3.0-cpu-py311')).toBe(false);
  });

  it('a TargetPlatform job (no device, no documented object name) vouches only for a *.tar.gz directly in its output location', () => {
    const forPlatform = (output: string) => at('CreateCompilationJob', {
      compilationJobName: 'fraud-v3-linux', roleArn: 'arn:aws:iam::111122223333:role/Neo', modelPackageVersionArn: PKG,
      outputConfig: { s3OutputLocation: output, targetPlatform: { os: 'LINUX', arch: 'X86_64' } }, stoppingCondition: { maxRuntimeInSeconds: 900 },
    }, { compilationJobArn: 'arn:aws:sagemaker:us-east-1:111122223333:compilation-job/fraud-v3-linux' }, 'Trainer');
    expect(forPlatform('s3://models/').ml?.job).toMatchObject({ target_platform: 'LINUX_X86_64', output_location: 's3://models/' });
    const reasons = (output: string, copy: string) => modified([register(), approve(), forPlatform(output), add(copy)]).map((x) => x.details.compiled_copy_unvouched);
    const text = (output: string) => `a *.tar.gz directly in ${output}: the name Neo gives a TargetPlatform (LINUX_X86_64) job's output is not documented`;
    // An output location at the bucket's root vouches for its own archives, not for every object of the bucket.
    expect(reasons('s3://models/', 's3://models/model-LINUX_X86_64.tar.gz')).toEqual([]);
    expect(reasons('s3://models/', 's3://models/uploads/evil.tar.gz')).toEqual([[`s3://models/uploads/evil.tar.gz is not the object compilation job fraud-v3-linux writes (${text('s3://models')})`]]);
    expect(reasons('s3://models/fraud/v3/neo', 's3://models/fraud/v3/neo/deeper/model.tar.gz')).toEqual([[`s3://models/fraud/v3/neo/deeper/model.tar.gz is not the object compilation job fraud-v3-linux writes (${text('s3://models/fraud/v3/neo')})`]]);
    expect(reasons('s3://models/fraud/v3/neo', 's3://models/fraud/v3/neo/model.bin')).toEqual([[`s3://models/fraud/v3/neo/model.bin is not the object compilation job fraud-v3-linux writes (${text('s3://models/fraud/v3/neo')})`]]);
    // The copy vouched for says how: a later write over it names the job and that its name could not be told.
    const put = normOne(ctRecord('PutObject', { bucketName: 'models', key: 'model-LINUX_X86_64.tar.gz' }, {
      eventID: `neo-${++n}`, eventTime: '2026-11-25T13:00:00Z', eventSource: 's3.amazonaws.com', eventCategory: 'Data', responseElements: null,
      resources: [{ type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::models/model-LINUX_X86_64.tar.gz' }, { accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::models' }],
    }), { model_buckets: ['models'] });
    const over = modified([register(), approve(), forPlatform('s3://models/'), add('s3://models/model-LINUX_X86_64.tar.gz'), put]).filter((a) => a.details.object);
    expect(over[0]!.details.compiled_copy).toMatchObject({ job: 'fraud-v3-linux', output: 's3://models', target_platform: 'LINUX_X86_64', output_match: 'tar_gz_in_output' });
  });

  it('a job whose output location is an https:// S3 URL (virtual-hosted or path-style) vouches for the s3:// object it names', () => {
    const viaHttps = (output: string) => modified([register(), approve(), compileFrom({ modelPackageVersionArn: PKG }, output), add()]).map((x) => x.details.compiled_copy_unvouched);
    expect(viaHttps('https://models.s3.us-east-1.amazonaws.com/fraud/v3/neo/')).toEqual([]);
    expect(viaHttps('https://s3.us-east-1.amazonaws.com/models/fraud/v3/neo')).toEqual([]);
    expect(viaHttps('https://models.s3.amazonaws.com/fraud/v3/neo')).toEqual([]);
    // Its input named by https:// too: the version's own artifact.
    expect(modified([register(), approve(), compileFrom({ inputConfig: { s3Uri: 'https://models.s3.us-east-1.amazonaws.com/fraud/v3/model.tar.gz', framework: 'PYTORCH' } }, 'https://models.s3.us-east-1.amazonaws.com/fraud/v3/neo'), add()])).toEqual([]);
    // Another bucket's location, and a host that is not S3's, name other objects.
    expect(viaHttps('https://scratch.s3.us-east-1.amazonaws.com/fraud/v3/neo')).toEqual([[`no compilation job seen writing ${COMPILED}`]]);
    expect(viaHttps('https://models.example.com/fraud/v3/neo')).toEqual([[`no compilation job seen writing ${COMPILED}`]]);
    // The key as S3 reads it: percent-decoded, never dot-resolved; what cannot be read as one object stays as written.
    expect(asS3Uri('https://my.models.s3-eu-west-1.amazonaws.com/a%20b/c')).toBe('s3://my.models/a b/c');
    expect(asS3Uri('https://s3.dualstack.us-east-1.amazonaws.com/models/x/../y')).toBe('s3://models/x/../y');
    expect(asS3Uri('https://models.s3.cn-north-1.amazonaws.com.cn/x')).toBe('s3://models/x');
    for (const kept of ['https://models.s3.amazonaws.com/x?versionId=1', 'https://ap-111122223333.s3-accesspoint.us-east-1.amazonaws.com/x', 'https://s3.us-east-1.amazonaws.com/', 'https://models.s3.amazonaws.com/%E0%A4%A']) {
      expect(asS3Uri(kept)).toBe(kept);
    }
  });

  it('every S3 endpoint form AWS lists names the s3:// object: FIPS, dual-stack, legacy dash, global, China', () => {
    const viaHttps = (output: string) => modified([register(), approve(), compileFrom({ modelPackageVersionArn: PKG }, output), add()]).map((x) => x.details.compiled_copy_unvouched);
    for (const output of [
      'https://models.s3-fips.us-east-1.amazonaws.com/fraud/v3/neo', 'https://models.s3-fips.dualstack.us-east-1.amazonaws.com/fraud/v3/neo/',
      'https://s3-fips.us-east-1.amazonaws.com/models/fraud/v3/neo', 'https://s3-fips.dualstack.us-east-2.amazonaws.com/models/fraud/v3/neo',
      'https://models.s3.dualstack.us-east-1.amazonaws.com/fraud/v3/neo', 'https://s3-us-west-2.amazonaws.com/models/fraud/v3/neo',
      'https://s3-fips-us-gov-west-1.amazonaws.com/models/fraud/v3/neo', 'https://models.s3-fips.us-gov-west-1.amazonaws.com/fraud/v3/neo',
      'https://s3.amazonaws.com/models/fraud/v3/neo', 'https://s3-external-1.amazonaws.com/models/fraud/v3/neo',
      'https://s3.cn-north-1.amazonaws.com.cn/models/fraud/v3/neo', 'https://models.s3.ap-southeast-7.amazonaws.com/fraud/v3/neo',
    ]) expect([output, viaHttps(output)]).toEqual([output, []]);
    // The compiled copy registered by a FIPS URL is the same object as the job's s3:// output.
    expect(modified([register(), approve(), compile(), add('https://models.s3-fips.us-east-1.amazonaws.com/fraud/v3/neo/model-ml_c5.tar.gz')])).toEqual([]);
    expect(asS3Uri('https://models.s3-accelerate.dualstack.amazonaws.com/x')).toBe('s3://models/x');
    // An access point's host (FIPS too) names the object by its access point (test/rules/access-point-artifacts.test.ts).
    expect(asS3Uri('https://ml-ap-111122223333.s3-accesspoint-fips.us-east-1.amazonaws.com/x')).toBe('arn:aws:s3:us-east-1:111122223333:accesspoint/ml-ap/object/x');
    // Hosts that are not a bucket's endpoint stay as written: S3 Express, Object Lambda, a Multi-Region Access Point,
    // a website endpoint, a look-alike domain.
    for (const kept of [
      'https://models--use1-az4--x-s3.s3express-use1-az4.us-east-1.amazonaws.com/x',
      'https://ol-111122223333.s3-object-lambda.us-east-1.amazonaws.com/x', 'https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/x',
      'https://models.s3-website-us-east-1.amazonaws.com/x', 'https://models.s3-website.us-east-1.amazonaws.com/x', 'https://models.s3-fips.us-east-1.amazonaws.com.evil.example/x',
    ]) expect(asS3Uri(kept)).toBe(kept);
  });

  it("the sovereign partitions' S3 hosts (ISO, ISO-B, ISO-E, ISO-F, European Sovereign Cloud; partitions.json dnsSuffix) name the s3:// object", () => {
    const viaHttps = (output: string) => modified([register(), approve(), compileFrom({ modelPackageVersionArn: PKG }, output), add()]).map((x) => x.details.compiled_copy_unvouched);
    for (const output of [
      'https://models.s3.us-iso-east-1.c2s.ic.gov/fraud/v3/neo', 'https://s3.us-iso-west-1.c2s.ic.gov/models/fraud/v3/neo',
      'https://models.s3-fips.us-iso-east-1.c2s.ic.gov/fraud/v3/neo', 'https://models.s3.us-isob-east-1.sc2s.sgov.gov/fraud/v3/neo',
      'https://s3.us-isob-east-1.sc2s.sgov.gov/models/fraud/v3/neo', 'https://models.s3.eu-isoe-west-1.cloud.adc-e.uk/fraud/v3/neo',
      'https://models.s3.us-isof-south-1.csp.hci.ic.gov/fraud/v3/neo', 'https://models.s3.eusc-de-east-1.amazonaws.eu/fraud/v3/neo',
      'https://s3.eusc-de-east-1.amazonaws.eu/models/fraud/v3/neo', 'https://models.s3.cn-northwest-1.amazonaws.com.cn/fraud/v3/neo',
      'https://s3.dualstack.cn-north-1.amazonaws.com.cn/models/fraud/v3/neo',
    ]) expect([output, viaHttps(output)]).toEqual([output, []]);
    // A region of another partition under a sovereign suffix, dual-stack (none of them has it), the legacy and global
    // forms there, and a look-alike domain: not an endpoint, kept as written.
    for (const kept of [
      'https://models.s3.us-east-1.c2s.ic.gov/x', 'https://models.s3.us-iso-east-1.sc2s.sgov.gov/x', 'https://models.s3.dualstack.us-iso-east-1.c2s.ic.gov/x',
      'https://s3.c2s.ic.gov/models/x', 'https://models.s3-us-iso-east-1.c2s.ic.gov/x', 'https://models.s3.eu-central-1.amazonaws.eu/x', 'https://models.s3.eusc-de-east-1.amazonaws.eu.evil.example/x',
    ]) expect(asS3Uri(kept)).toBe(kept);
  });

  it('a copy whose AWS image is told to download and run a script (SAGEMAKER_SUBMIT_DIRECTORY) is the finding', () => {
    const withCode = (dir: string) => at('UpdateModelPackage', {
      modelPackageArn: PKG,
      additionalInferenceSpecificationsToAdd: [{ name: 'neo-ml-c5', containers: [{ image: AWS_NEO, modelDataUrl: COMPILED, environment: { SAGEMAKER_PROGRAM: 'inference.py', SAGEMAKER_SUBMIT_DIRECTORY: dir } }] }],
    }, { modelPackageArn: PKG }, 'Approver');
    const [r, a, job, update] = [register(), approve(), fromArtifact(), withCode('s3://scratch/someone/sourcedir.tar.gz')];
    expect(update!.ml?.model).toMatchObject({ additional_code_uris: ['s3://scratch/someone/sourcedir.tar.gz'] });
    expect(modified([r!, a!, job!, update!]).map((x) => x.details.compiled_copy_unvouched)).toEqual([[
      'code s3://scratch/someone/sourcedir.tar.gz the container downloads and runs (SAGEMAKER_SUBMIT_DIRECTORY) is not part of a compiled copy',
    ]]);
    // The script packed in the compiled model (`/opt/ml/model/code`): inside the job's output, nothing else to vouch for.
    const [r2, a2, job2, update2] = [register(), approve(), fromArtifact(), withCode('/opt/ml/model/code')];
    expect(update2!.ml?.model?.additional_code_uris).toBeUndefined();
    expect(modified([r2!, a2!, job2!, update2!])).toEqual([]);
  });

  it('a compilation job created after the update vouches for nothing, in replay and in arrival order', () => {
    // Register one's own object at the job's output name first, then start a job naming that location.
    const [r, a, update, job] = [register(), approve(), add(), fromArtifact()];
    const reason = `compilation job fraud-v3-c5 writing ${COMPILED} was created at ${new Date(job!.time).toISOString()}, after the update`;
    expect(modified([r!, a!, update!, job!]).map((x) => x.details.compiled_copy_unvouched)).toEqual([[reason]]);
    expect(arriving([r!, a!, update!, job!], '2026-11-26T00:00:00Z').map((x) => [x.time, x.details.compiled_copy_unvouched])).toEqual([[update!.time, [reason]]]);
  });

  it('a job stopped before the update (StopCompilationJob) may never have written its output: the copy is the finding', () => {
    const stop = (extra: Record<string, unknown> = {}) => normOne(ctRecord('StopCompilationJob', { compilationJobName: 'fraud-v3-c5' }, { eventID: `neo-${++n}`, eventTime: `2026-11-25T1${Math.floor(n / 60)}:${String(n % 60).padStart(2, '0')}:00Z`, responseElements: null, ...extra }));
    expect(stop().resource).toMatchObject({ type: 'compilation_job', name: 'fraud-v3-c5' });
    expect(stop().operation).toBe('StopCompilationJob');
    // Someone's object put at the job's output name before the job, the job stopped, the object registered.
    const [r, a, job, stopped, update] = [register(), approve(), fromArtifact(), stop(), add()];
    expect(modified([r!, a!, job!, stopped!, update!]).map((x) => x.details.compiled_copy_unvouched)).toEqual([[
      `compilation job fraud-v3-c5 writing ${COMPILED} was stopped at ${stopped!.time} (StopCompilationJob), before the update: it may never have written its output`,
    ]]);
    // A stop refused (the job had completed: only a running job can be stopped), or one after the update: vouched for.
    expect(modified([register(), approve(), fromArtifact(), stop({ errorCode: 'ValidationException', errorMessage: 'job is not in progress' }), add()])).toEqual([]);
    expect(modified([register(), approve(), fromArtifact(), add(), stop()])).toEqual([]);
    // A later job of the same output, not stopped, vouches for it.
    expect(modified([register(), approve(), fromArtifact(), stop(), compileFrom({ modelPackageVersionArn: PKG }, 's3://models/fraud/v3/neo/', 'fraud-v3-c5-again'), add()])).toEqual([]);
  });

  it('a stop read after the update it came before (log files out of order) is judged when it comes, as replay judges it', () => {
    const stop = () => normOne(ctRecord('StopCompilationJob', { compilationJobName: 'fraud-v3-c5' }, { eventID: `neo-${++n}`, eventTime: `2026-11-25T1${Math.floor(n / 60)}:${String(n % 60).padStart(2, '0')}:00Z`, responseElements: null }));
    const [r, a, job, stopped, update] = [register(), approve(), fromArtifact(), stop(), add()];
    const reason = `compilation job fraud-v3-c5 writing ${COMPILED} was stopped at ${stopped!.time} (StopCompilationJob), before the update: it may never have written its output`;
    // serve reads the update first (vouched for then), the stop after: the finding comes with the stop, dated at the update.
    const late = arriving([r!, a!, job!, update!, stopped!]);
    expect(late.map((x) => [x.time, x.details.compiled_copy_unvouched])).toEqual([[update!.time, [reason]]]);
    expect(late[0]!.evidence).toContain(stopped!.id);
    expect(modified([r!, a!, job!, update!, stopped!]).map((x) => x.details.compiled_copy_unvouched)).toEqual([[reason]]);
    // A stop after the update, read late or not, and a later job of the same output still running: no finding.
    const [r2, a2, job2, update2, after] = [register(), approve(), fromArtifact(), add(), stop()];
    expect(arriving([r2!, a2!, job2!, update2!, after!])).toEqual([]);
    const [r3, a3, job3, stop3, again, update3] = [register(), approve(), fromArtifact(), stop(), compileFrom({ modelPackageVersionArn: PKG }, 's3://models/fraud/v3/neo/', 'fraud-v3-c5-again'), add()];
    expect(arriving([r3!, a3!, job3!, again!, update3!, stop3!])).toEqual([]);
  });

  it('an input "under" the approved archive is another object, not its weights', () => {
    // `<artifact>.tar.gz/evil.tar.gz` is an S3 key of its own, anyone who can write the bucket may upload.
    const [r, a, job, update] = [register(), approve(), fromArtifact('s3://models/fraud/v3/model.tar.gz/evil.tar.gz'), add('s3://models/fraud/v3/neo/evil-ml_c5.tar.gz')];
    expect(modified([r!, a!, job!, update!]).map((x) => x.details.compiled_copy_unvouched)).toEqual([[
      'compilation job fraud-v3-c5 writing s3://models/fraud/v3/neo/evil-ml_c5.tar.gz compiled s3://models/fraud/v3/model.tar.gz/evil.tar.gz, not an artifact of fraud v3',
    ]]);
    // A version whose weights are a prefix (ModelDataSource S3Prefix): an archive under it is its own.
    const registerPrefix = () => at('CreateModelPackage', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: IMAGE, modelDataSource: { s3DataSource: { s3Uri: 's3://models/fraud/v3/weights/', s3DataType: 'S3Prefix', compressionType: 'None' } } }] } }, { modelPackageArn: PKG }, 'Trainer');
    const [r2, a2, job2, update2] = [registerPrefix(), approve(), fromArtifact('s3://models/fraud/v3/weights/model.tar.gz'), add()];
    expect(modified([r2!, a2!, job2!, update2!])).toEqual([]);
  });
});

/**
 * A compiled copy is vouched for by its name; whoever can write the output bucket can replace the object after the job
 * wrote it and before the copy is registered. An S3 write on the vouched key after the job's creation by anyone but
 * the job's role (the last write before the registration) is the approved_model_modified artifact_overwritten finding.
 */
describe("writes over a compiled copy's object before its registration", () => {
  const KEY = 'fraud/v3/neo/model-ml_c5.tar.gz';
  const roleIdentity = (role: string) => ({ userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::111122223333:assumed-role/${role}/SageMaker`, accountId: '111122223333', principalId: `AROA:SageMaker`, sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::111122223333:role/${role}`, userName: role } } } });
  /** An S3 data event on the copy's key (CloudTrail's record), by the caller of ctRecord (MLEngineer/alice) or a role's SageMaker session. */
  const s3 = (eventName: string, params: Record<string, unknown> = {}, role?: string) => normOne(ctRecord(eventName, { bucketName: 'models', key: KEY, ...params }, {
    eventID: `neo-${++n}`, eventTime: `2026-11-25T1${Math.floor(n / 60)}:${String(n % 60).padStart(2, '0')}:00Z`, eventSource: 's3.amazonaws.com', eventCategory: 'Data', responseElements: null,
    resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::models/${KEY}` }, { accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::models' }],
    ...(role ? roleIdentity(role) : {}),
  }), { model_buckets: ['models'] });
  const overwritten = (events: NormalizedEvent[]) => alerts(events, 'registry.approved_model_modified').filter((a) => a.details.change === 'artifact_overwritten');

  it('a write on a bucket of the same name in another partition (its record in cn-north-1) is not a write of the copy', () => {
    const cn = () => normOne(ctRecord('PutObject', { bucketName: 'models', key: KEY }, {
      eventID: `neo-${++n}`, eventTime: `2026-11-25T1${Math.floor(n / 60)}:${String(n % 60).padStart(2, '0')}:00Z`, awsRegion: 'cn-north-1', eventSource: 's3.amazonaws.com', eventCategory: 'Data', responseElements: null,
      resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws-cn:s3:::models/${KEY}` }, { accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: 'arn:aws-cn:s3:::models' }],
    }), { model_buckets: ['models'] });
    expect(overwritten([register(), approve(), compile(), s3('PutObject', {}, 'Neo'), cn(), addCopy()])).toEqual([]);
    // Read before the job's record (held for it, then taken in), the same; in the own partition, the finding.
    const [r, a, job, w] = [register(), approve(), compile(), cn()];
    expect(overwritten([r!, a!, w!, job!, addCopy()])).toEqual([]);
    const [r2, a2, job2, w2] = [register(), approve(), compile(), s3('PutObject')];
    expect(overwritten([r2!, a2!, w2!, job2!, addCopy()])).toHaveLength(1);
    // In the package's own partition it is the finding.
    expect(overwritten([register(), approve(), compile(), s3('PutObject', {}, 'Neo'), s3('PutObject'), addCopy()])).toHaveLength(1);
  });

  it("the job's own write, then someone else's PutObject, then the registration: the finding names that write", () => {
    const [r, a, job, own, evil, update] = [register(), approve(), compile(), s3('PutObject', {}, 'Neo'), s3('PutObject'), addCopy()];
    const out = overwritten([r!, a!, job!, own!, evil!, update!]);
    expect(out.map((x) => [x.entity.id, x.details.object, x.evidence])).toEqual([['111122223333:us-east-1:fraud/3', COMPILED, [a!.id, evil!.id, update!.id]]]);
    expect(out[0]!.details.written_before_registration).toEqual({ event: evil!.id, time: evil!.time, operation: 'PutObject', actor: 'alice' });
    expect(out[0]!.details.compiled_copy).toMatchObject({ artifact: COMPILED, job: 'fraud-v3-c5', job_role: 'arn:aws:iam::111122223333:role/Neo', job_time: job!.time });
    expect(out[0]!.summary).toContain(`its compiled copy ${COMPILED} was written (PutObject) by alice`);
  });

  it('a CopyObject or a write in parts (CompleteMultipartUpload) by someone else is one too', () => {
    const copy = () => s3('CopyObject', { 'x-amz-copy-source': 'scratch/evil.tar.gz' });
    expect(overwritten([register(), approve(), compile(), copy(), addCopy()]).map((x) => (x.details.written_before_registration as { operation: string }).operation)).toEqual(['CopyObject']);
    const parts = () => s3('CompleteMultipartUpload', { uploadId: 'u-1' });
    expect(overwritten([register(), approve(), compile(), parts(), addCopy()]).map((x) => (x.details.written_before_registration as { operation: string }).operation)).toEqual(['CompleteMultipartUpload']);
  });

  it("the job's own write last, or a write before the job was created: no finding", () => {
    expect(overwritten([register(), approve(), compile(), s3('PutObject', {}, 'Neo'), addCopy()])).toEqual([]);
    // Someone else's write the job's own write replaced.
    expect(overwritten([register(), approve(), compile(), s3('PutObject'), s3('PutObject', {}, 'Neo'), addCopy()])).toEqual([]);
    // Before the job: the job writes over it.
    expect(overwritten([register(), approve(), s3('PutObject'), compile(), addCopy()])).toEqual([]);
    // Another role's SageMaker session (a training job's role) is not the compilation job's.
    expect(overwritten([register(), approve(), compile(), s3('PutObject', {}, 'Neo'), s3('PutObject', {}, 'TrainingRole'), addCopy()])).toHaveLength(1);
  });

  it("someone else's write in the same second as the job's own (CloudTrail's time resolution): which came last cannot be told, so it is the finding", () => {
    const [r, a, job, own, evil, update] = [register(), approve(), compile(), s3('PutObject', {}, 'Neo'), s3('PutObject'), addCopy()];
    // The overwrite raced right after the job's write: the same eventTime, its event id sorting first.
    const raced = { ...evil!, id: 'a-raced', time: own!.time };
    const ownLast = { ...own!, id: 'z-own' };
    const out = overwritten([r!, a!, job!, ownLast, raced, update!]);
    expect(out.map((x) => x.evidence)).toEqual([[a!.id, 'a-raced', update!.id]]);
    expect(out[0]!.details.written_before_registration).toEqual({ event: 'a-raced', time: own!.time, operation: 'PutObject', actor: 'alice', same_time_as_job_write: true });
    // The job's own writes alone in that second: none.
    expect(overwritten([register(), approve(), compile(), s3('PutObject'), s3('PutObject', {}, 'Neo'), addCopy()])).toEqual([]);
  });

  it("the job's own write read after the registration (log files out of order) is no overwrite; someone else's is", () => {
    const engineRun = (events: NormalizedEvent[]) => {
      const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
      return events.flatMap((e) => engine.process(e, Date.parse(e.time))).filter((a) => a.rule_id === 'registry.approved_model_modified' && a.details.change === 'artifact_overwritten');
    };
    const [r, a, job, own, update] = [register(), approve(), compile(), s3('PutObject', {}, 'Neo'), addCopy()];
    expect(engineRun([r!, a!, job!, update!, own!])).toEqual([]);
    const [r2, a2, job2, evil, update2] = [register(), approve(), compile(), s3('PutObject'), addCopy()];
    expect(engineRun([r2!, a2!, job2!, update2!, evil!]).map((x) => x.details.object)).toEqual([COMPILED]);
    // Someone else's write read after the job's own that came later by event time: the job's bytes are the registered ones.
    const [r3, a3, job3, earlier, own3, update3] = [register(), approve(), compile(), s3('PutObject'), s3('PutObject', {}, 'Neo'), addCopy()];
    expect(engineRun([r3!, a3!, job3!, own3!, earlier!, update3!])).toEqual([]);
  });
  /** An S3 data event as s3() makes it, with its own id, for floods (s3()'s clock runs out of hours); timed() sets its time. */
  const s3Flood = (id: string, key: string, role?: string) => normOne(ctRecord('PutObject', { bucketName: 'models', key }, {
    eventID: id, eventTime: '2026-11-25T20:00:00Z', eventSource: 's3.amazonaws.com', eventCategory: 'Data', responseElements: null,
    resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::models/${key}` }, { accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::models' }],
    ...(role ? roleIdentity(role) : {}),
  }), { model_buckets: ['models'] });
  /** Events at minutes after `base` (CloudTrail times to the second), in the order given. */
  const timed = (base: string, ...events: [NormalizedEvent, number][]) => events.map(([e, minutes]) => ({ ...e, time: new Date(Date.parse(base) + minutes * 60_000).toISOString().replace('.000Z', 'Z') }));
  const BASE = '2026-11-25T20:00:00Z';

  it('600 writes to other keys of the output location, after the overwrite, do not push its record out', () => {
    const junk = (i: number, key: string) => s3Flood(`junk-${i}`, key);
    const [r, a] = [register(), approve()];
    const [job, own, evil] = timed(BASE, [compile(), 0], [s3('PutObject', {}, 'Neo'), 5], [s3('PutObject'), 6]);
    // Archives beside the copy and objects deeper in the location, none the object the job writes.
    const flood = Array.from({ length: 640 }, (_, i) => timed(BASE, [junk(i, i % 2 ? `fraud/v3/neo/junk-${i}.tar.gz` : `fraud/v3/neo/d/${i}/model-ml_c5.tar.gz`), 7 + i / 60])[0]!);
    const [update] = timed(BASE, [addCopy(), 120]);
    const out = overwritten([r!, a!, job!, own!, evil!, ...flood, update!]);
    expect(out.map((x) => (x.details.written_before_registration as { event: string }).event)).toEqual([evil!.id]);
  });

  it('a write read before its compilation job\'s record (CloudTrail out of order) is held and judged when the job comes', () => {
    const engineRun = (events: NormalizedEvent[]) => {
      const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
      return events.flatMap((e, i) => engine.process(e, Date.parse(BASE) + i * 1000)).filter((x) => x.rule_id === 'registry.approved_model_modified' && x.details.change === 'artifact_overwritten');
    };
    const [r, a] = [register(), approve()];
    const [job, own, evil, update] = timed(BASE, [compile(), 0], [s3('PutObject', {}, 'Neo'), 5], [s3('PutObject'), 6], [addCopy(), 30]);
    // Someone else's write after the job's, both read before the job's record: the finding, at the registration.
    expect(engineRun([r!, a!, own!, evil!, job!, update!]).map((x) => (x.details.written_before_registration as { event: string }).event)).toEqual([evil!.id]);
    // The registration read before the job's record too: judged when the job comes, with the held writes.
    expect(engineRun([r!, a!, evil!, update!, job!]).map((x) => (x.details.written_before_registration as { event: string }).event)).toEqual([evil!.id]);
    // The job's own write last: nothing.
    const [job2, evil2, own2, update2] = timed(BASE, [compile(), 0], [s3('PutObject'), 5], [s3('PutObject', {}, 'Neo'), 6], [addCopy(), 30]);
    expect(engineRun([register(), approve(), evil2!, own2!, job2!, update2!])).toEqual([]);
    // A write made before the job's creation is not its output, held or not.
    const [early, job3, update3] = timed(BASE, [s3('PutObject'), 0], [compile(), 5], [addCopy(), 30]);
    expect(engineRun([register(), approve(), early!, job3!, update3!])).toEqual([]);
  });

  it('the hold is bounded: a caller flooding it pushes out its own writes, not another\'s still waiting', () => {
    const engineRun = (events: NormalizedEvent[]) => {
      const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
      return events.flatMap((e, i) => engine.process(e, Date.parse(BASE) + i * 10)).filter((x) => x.rule_id === 'registry.approved_model_modified' && x.details.change === 'artifact_overwritten');
    };
    const [r, a] = [register(), approve()];
    const [job, evil, update] = timed(BASE, [compile(), 0], [s3('PutObject'), 6], [addCopy(), 30]);
    const flood = Array.from({ length: 600 }, (_, i) => timed(BASE, [s3Flood(`flood-${i}`, `scratch/f-${i}.tar.gz`, 'Flooder'), 7])[0]!);
    expect(engineRun([r!, a!, evil!, ...flood, job!, update!]).map((x) => (x.details.written_before_registration as { event: string }).event)).toEqual([evil!.id]);
  });
});
