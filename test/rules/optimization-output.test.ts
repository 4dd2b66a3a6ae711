import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig, createRuleEngine } from '../../core/rules/engine.js';
import { MemoryStateStore } from '../../core/state/index.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * CreateOptimizationJob with `OutputConfig.SageMakerModel`: when the job completes, the service itself creates the
 * SageMaker Model from the optimized weights it wrote — no CreateModel of it is logged. The Model is judged by the
 * job's source (`ModelSource.S3.S3Uri`, or `ModelSource.SageMakerModel`): an approved source vouches for it, an
 * unapproved or rejected one gives the same verdict as the source would.
 */
const ACCOUNT = '111122223333';
const PKG = `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/llm/3`;
const IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124';
const WEIGHTS = 's3://models/llm/v3/';
let n = 0;
const at = (name: string, params: Record<string, unknown>, response: Record<string, unknown> | null = null, actor = 'MLEngineer', region = 'us-east-1') =>
  normOne(ctRecord(name, params, {
    eventID: `opt-${++n}`, eventTime: `2026-11-26T1${Math.floor(n / 60)}:${String(n % 60).padStart(2, '0')}:00Z`, responseElements: response, awsRegion: region,
    userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${actor}/${actor}`, accountId: ACCOUNT, principalId: `AROA:${actor}`, sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCOUNT}:role/${actor}`, accountId: ACCOUNT, userName: actor } } },
  }));

const register = () => at('CreateModelPackage', {
  modelPackageGroupName: 'llm', modelApprovalStatus: 'PendingManualApproval',
  inferenceSpecification: { containers: [{ image: IMAGE, modelDataSource: { s3DataSource: { s3Uri: WEIGHTS, s3DataType: 'S3Prefix', compressionType: 'None' } } }], supportedRealtimeInferenceInstanceTypes: ['ml.g5.12xlarge'] },
}, { modelPackageArn: PKG }, 'Trainer');
const decide = (status: 'Approved' | 'Rejected') => at('UpdateModelPackage', { modelPackageArn: PKG, modelApprovalStatus: status }, { modelPackageArn: PKG }, 'Approver');
/** CreateOptimizationJob as CloudTrail logs it (requestParameters in lower camel case). */
const optimize = (source: Record<string, unknown>, output = 'llm-v3-awq', region = 'us-east-1', image?: string) => at('CreateOptimizationJob', {
  optimizationJobName: `${output}-job`, roleArn: `arn:aws:iam::${ACCOUNT}:role/SageMakerOptimization`,
  modelSource: source, deploymentInstanceType: 'ml.g5.12xlarge',
  optimizationConfigs: [{ modelQuantizationConfig: { ...(image ? { image } : {}), overrideEnvironment: { OPTION_QUANTIZE: 'awq' } } }],
  outputConfig: { s3OutputLocation: 's3://models/llm/v3-awq/', sageMakerModel: { modelName: output } },
  stoppingCondition: { maxRuntimeInSeconds: 36000 },
}, { optimizationJobArn: `arn:aws:sagemaker:${region}:${ACCOUNT}:optimization-job/${output}-job` }, 'MLEngineer', region);
const createModel = (modelName: string, container: Record<string, unknown>, actor = 'MLEngineer', region = 'us-east-1') =>
  at('CreateModel', { modelName, executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/exec`, primaryContainer: container }, null, actor, region);
const deploy = (model = 'llm-v3-awq', region = 'us-east-1') => [
  at('CreateEndpointConfig', { endpointConfigName: `ec-${n}`, productionVariants: [{ variantName: 'AllTraffic', modelName: model, instanceType: 'ml.g5.12xlarge', initialInstanceCount: 1 }] }, null, 'Deployer', region),
  at('CreateEndpoint', { endpointName: 'llm-prod', endpointConfigName: `ec-${n - 1}` }, null, 'Deployer', region),
];
const alerts = (events: NormalizedEvent[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
/** In arrival order, as the bridge judges a live stream (replay sorts by event time). */
const arriving = (events: NormalizedEvent[]) => {
  const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
  return events.flatMap((e) => engine.process(e, Date.parse(e.time))).filter((a) => a.rule_id === 'registry.unapproved_deployment');
};

describe('the Model an optimization job has the service create (OutputConfig.SageMakerModel)', () => {
  it('the request names the job, its output Model and its source', () => {
    expect(optimize({ s3: { s3Uri: WEIGHTS, modelAccessConfig: { acceptEula: true } } }).ml?.job).toMatchObject({ name: 'llm-v3-awq-job', type: 'compilation', output_model: 'llm-v3-awq', source_uri: WEIGHTS });
    expect(optimize({ sageMakerModel: { modelName: 'llm-v3' } }).ml?.job).toMatchObject({ output_model: 'llm-v3-awq', source_model: 'llm-v3' });
    // Where the optimized weights go and what they are made for, as a compilation job's output location and device.
    expect(optimize({ s3: { s3Uri: WEIGHTS } }).ml?.job).toMatchObject({ output_location: 's3://models/llm/v3-awq/', deployment_instance_type: 'ml.g5.12xlarge' });
  });

  it('optimized from the approved version\'s S3 weights: its deployment is vouched for', () => {
    expect(alerts([register(), decide('Approved'), optimize({ s3: { s3Uri: WEIGHTS } }), ...deploy()])).toEqual([]);
  });

  it('optimized from an existing Model made from the approved package: vouched for', () => {
    expect(alerts([register(), decide('Approved'), createModel('llm-v3', { modelPackageName: PKG }), optimize({ sageMakerModel: { modelName: 'llm-v3' } }), ...deploy()])).toEqual([]);
  });

  it('a source never approved gives the source\'s verdict, and the summary says whose output it is', () => {
    const s3 = alerts([register(), decide('Approved'), optimize({ s3: { s3Uri: 's3://scratch/uploads/llm/' } }), ...deploy()]);
    expect(s3.map((a) => a.details.reason)).toEqual(['never_approved']);
    expect(s3[0]!.summary).toContain("llm-v3-awq: an optimization job's output of s3://scratch/uploads/llm/, job llm-v3-awq-job");
    expect(s3[0]!.details.optimized_from).toEqual([{ model: 'llm-v3-awq', job: 'llm-v3-awq-job', source: 's3://scratch/uploads/llm/' }]);
    // A source Model of unregistered weights, and one the log never showed.
    const model = alerts([register(), decide('Approved'), createModel('side', { image: IMAGE, modelDataUrl: 's3://scratch/uploads/llm.tar.gz' }), optimize({ sageMakerModel: { modelName: 'side' } }), ...deploy()]);
    expect(model.map((a) => [a.details.reason, a.details.optimized_from])).toEqual([['never_approved', [{ model: 'llm-v3-awq', job: 'llm-v3-awq-job', source: 'side' }]]]);
    expect(alerts([register(), decide('Approved'), optimize({ sageMakerModel: { modelName: 'unseen' } }), ...deploy()]).map((a) => a.details.reason)).toEqual(['never_approved']);
  });

  it("a quantization step run in the caller's own container wrote the weights: the approved source does not vouch for them", () => {
    const own = '444455556666.dkr.ecr.us-east-1.amazonaws.com/quantize:latest';
    const out = alerts([register(), decide('Approved'), optimize({ s3: { s3Uri: WEIGHTS } }, 'llm-v3-awq', 'us-east-1', own), ...deploy()]);
    expect(out.map((a) => a.details.reason)).toEqual(['never_approved']);
    expect(out[0]!.summary).toContain(`written by the caller's container ${own}`);
    // AWS's own LMI container named explicitly is the service's default step: still vouched for.
    expect(alerts([register(), decide('Approved'), optimize({ s3: { s3Uri: WEIGHTS } }, 'llm-v3-awq', 'us-east-1', IMAGE), ...deploy()])).toEqual([]);
    // me-south-1's DLCs are its own account's (the SageMaker SDK's image tables): that one is AWS's, 763104351884's is not there.
    const inMe = (image: string) => alerts([register(), decide('Approved'), optimize({ s3: { s3Uri: WEIGHTS } }, 'llm-v3-awq', 'me-south-1', image), ...deploy('llm-v3-awq', 'me-south-1')]).map((a) => a.details.reason);
    expect(inMe('217643126080.dkr.ecr.me-south-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124')).toEqual([]);
    expect(inMe('763104351884.dkr.ecr.me-south-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124')).toEqual(['never_approved']);
  });

  it('a rejected source: a deployment of a rejected version', () => {
    const out = alerts([register(), decide('Approved'), decide('Rejected'), optimize({ s3: { s3Uri: WEIGHTS } }), ...deploy()]);
    expect(out.map((a) => [a.title.endsWith('Deployment of a rejected model version'), a.details.reason])).toEqual([[true, 'rejected']]);
  });

  it('a CreateModel of the output name made after the job breaks the link, whichever is read first; one made before the job does not', () => {
    const jobFirst = [register(), decide('Approved'), optimize({ s3: { s3Uri: WEIGHTS } })];
    const replaced = createModel('llm-v3-awq', { image: IMAGE, modelDataUrl: 's3://scratch/other.tar.gz' }, 'Intruder');
    expect(alerts([...jobFirst, replaced, ...deploy()]).map((a) => a.details.reason)).toEqual(['never_approved']);
    // The same records, the job's delivered after the later CreateModel (CloudTrail log files read out of order).
    const job = jobFirst[2]!;
    expect(arriving([...jobFirst, ...deploy()])).toEqual([]);
    expect(arriving([jobFirst[0]!, jobFirst[1]!, replaced, job, ...deploy()]).map((a) => a.details.reason)).toEqual(['never_approved']);
    // A Model of the name made before the job (deleted since, or the job could not have created its output), read after it.
    const earlier = createModel('llm-v3-awq', { image: IMAGE, modelDataUrl: 's3://scratch/old.tar.gz' }, 'Intruder');
    const [reg, ok, opt] = [register(), decide('Approved'), optimize({ s3: { s3Uri: WEIGHTS } })];
    expect(arriving([reg, ok, opt, earlier, ...deploy()])).toEqual([]);
  });

  it('the output Model is the job\'s account and region\'s; a source Model is looked up there', () => {
    const events = [register(), decide('Approved'), createModel('llm-v3', { modelPackageName: PKG }), optimize({ sageMakerModel: { modelName: 'llm-v3' } }, 'llm-v3-awq', 'us-west-2'), ...deploy('llm-v3-awq', 'us-west-2')];
    // us-west-2 has no Model llm-v3: the one in us-east-1 does not vouch for the job's output.
    expect(alerts(events).map((a) => a.details.reason)).toEqual(['never_approved']);
    // Optimized in us-west-2 from the approved weights (S3 is not regional): its output is a Model there, not in us-east-1.
    const west = [register(), decide('Approved'), optimize({ s3: { s3Uri: WEIGHTS } }, 'llm-v3-awq', 'us-west-2')];
    expect(alerts([...west, ...deploy('llm-v3-awq', 'us-west-2')])).toEqual([]);
    expect(alerts([...west, ...deploy('llm-v3-awq', 'us-east-1')]).map((a) => a.details.reason)).toEqual(['never_approved']);
  });

  it('a source Model of the name made after the job (read before it) is not what the job read: the output is never approved', () => {
    // The job read unregistered weights as llm-v3; that Model was then deleted and made again from the approved
    // package, and the log file with the later CreateModel was read before the job's.
    const [reg, ok, bad, job] = [register(), decide('Approved'), createModel('llm-v3', { image: IMAGE, modelDataUrl: 's3://scratch/uploads/llm.tar.gz' }, 'Intruder'), optimize({ sageMakerModel: { modelName: 'llm-v3' } })];
    const del = at('DeleteModel', { modelName: 'llm-v3' }, null, 'Intruder');
    const good = createModel('llm-v3', { modelPackageName: PKG }, 'Intruder');
    expect(arriving([reg, ok, bad, del, good, job, ...deploy()]).map((a) => a.details.reason)).toEqual(['never_approved']);
    // The source Model made before the job, read in order: vouched for as before.
    expect(arriving([register(), decide('Approved'), createModel('llm-v3', { modelPackageName: PKG }), optimize({ sageMakerModel: { modelName: 'llm-v3' } }), ...deploy()])).toEqual([]);
  });
});
