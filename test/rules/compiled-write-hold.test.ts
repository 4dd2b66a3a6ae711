import { describe, expect, it } from 'vitest';
import { createRuleEngine, RulesConfig } from '../../core/rules/engine.js';
import { MemoryStateStore } from '../../core/state/index.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * A write of a `*.tar.gz` read before the CreateCompilationJob whose output it is waits for that record (CloudTrail
 * delivers out of order). One caller may have 100 held at once: its flood after an overwrite cannot push the
 * overwrite out; its flood before one, or a flood in the job's output location, is said when the job's record comes
 * (`details.finding: early_write_pushed_out`, one per job whose output it wrote in, bounded). The job's own role writing many
 * outputs is never said.
 */
const PKG = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/3';
const IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/xgboost-inference:1.7-1-cpu-py3';
const NEO_IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/sagemaker-inference-mxnet:1.8-cpu-py3';
const COMPILED = 's3://models/fraud/v3/neo/model-ml_c5.tar.gz';
const T0 = Date.parse('2026-11-25T10:00:00Z');
/** Seconds after T0, as CloudTrail writes times. */
const t = (s: number) => new Date(T0 + s * 1000).toISOString().replace('.000Z', 'Z');
const who = (role: string) => ({ userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::111122223333:assumed-role/${role}/${role}`, accountId: '111122223333', principalId: `AROA:${role}`, sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::111122223333:role/${role}`, userName: role } } } });
let n = 0;
const api = (s: number, name: string, params: Record<string, unknown>, response: Record<string, unknown> | null, role = 'Trainer') =>
  normOne(ctRecord(name, params, { eventID: `hold-${++n}`, eventTime: t(s), responseElements: response, ...who(role) }));
const register = () => api(0, 'CreateModelPackage', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl: 's3://models/fraud/v3/model.tar.gz' }] } }, { modelPackageArn: PKG });
const approve = () => api(60, 'UpdateModelPackage', { modelPackageArn: PKG, modelApprovalStatus: 'Approved' }, { modelPackageArn: PKG }, 'Approver');
const compile = (s = 120, name = 'fraud-v3-c5', output = 's3://models/fraud/v3/neo/') => api(s, 'CreateCompilationJob', {
  compilationJobName: name, roleArn: 'arn:aws:iam::111122223333:role/Neo', modelPackageVersionArn: PKG,
  outputConfig: { s3OutputLocation: output, targetDevice: 'ml_c5' }, stoppingCondition: { maxRuntimeInSeconds: 900 },
}, { compilationJobArn: `arn:aws:sagemaker:us-east-1:111122223333:compilation-job/${name}` });
const addCopy = (s: number) => api(s, 'UpdateModelPackage', {
  modelPackageArn: PKG, additionalInferenceSpecificationsToAdd: [{ name: 'neo-ml-c5', containers: [{ image: NEO_IMAGE, modelDataUrl: COMPILED }], supportedRealtimeInferenceInstanceTypes: ['ml.c5.xlarge'] }],
}, { modelPackageArn: PKG }, 'Approver');
/** A PutObject of `models/<key>` at T0+s by `role`'s session, as CloudTrail records the data event. */
const put = (s: number, key: string, role = 'Mallory') => normOne(ctRecord('PutObject', { bucketName: 'models', key }, {
  eventID: `hold-${++n}`, eventTime: t(s), eventSource: 's3.amazonaws.com', eventCategory: 'Data', responseElements: null, ...who(role),
  resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::models/${key}` }, { accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::models' }],
}), { model_buckets: ['models'] });
const flood = (from: number, count: number, role = 'Mallory', dir = (i: number) => `scratch/run-${i}`) => Array.from({ length: count }, (_, i) => put(from + i, `${dir(i)}/model.tar.gz`, role));
/** The rules over the events in arrival order (as `serve` reads them: log files out of order), each received 5 minutes after its time or after the one before. */
const findings = (events: NormalizedEvent[]) => {
  const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
  let receipt = 0;
  return events.flatMap((e) => engine.process(e, (receipt = Math.max(receipt, Date.parse(e.time) + 300_000)))).filter((a) => a.rule_id === 'registry.approved_model_modified');
};
const overwritten = (alerts: ReturnType<typeof findings>) => alerts.filter((a) => a.details.change === 'artifact_overwritten').map((a) => (a.details.written_before_registration as { event: string }).event);
const pushedOut = (alerts: ReturnType<typeof findings>) => alerts.filter((a) => a.details.finding === 'early_write_pushed_out').map((a) => [a.entity.id, a.details.pushed_out, a.details.locations_unknown ?? false]);

describe('the hold of compilation-output writes read before their job', () => {
  it("an overwrite read before its job, then 600 more archives of the same caller: the overwrite stays held and is the finding", () => {
    const [r, a, job] = [register(), approve(), compile()];
    const evil = put(180, 'fraud/v3/neo/model-ml_c5.tar.gz');
    const out = findings([r!, a!, evil, ...flood(200, 600), job!, addCopy(1500)]);
    expect(overwritten(out)).toEqual([evil.id]);
    // Its flood went to 600 other locations, none the job's (under 1,000 named): nothing else is said.
    expect(pushedOut(out)).toEqual([]);
  });

  it('a flood before the overwrite: the overwrite is not held, and the job it wrote for is the early_write_pushed_out finding, once', () => {
    const [r, a, job] = [register(), approve(), compile()];
    const evil = put(900, 'fraud/v3/neo/model-ml_c5.tar.gz');
    const out = findings([r!, a!, ...flood(200, 600), evil, job!, compile(1200, 'fraud-v3-c5-again'), addCopy(1500)]);
    expect(pushedOut(out)).toEqual([['mallory', 501, false]]);
    expect(out.find((x) => x.details.finding === 'early_write_pushed_out')!.summary).toContain('in the output location s3://models/fraud/v3/neo of compilation job fraud-v3-c5');
    // Written in more than 1,000 places: which is unknown, said of the next job.
    const wide = findings([r!, a!, ...flood(200, 1200), job!]);
    expect(pushedOut(wide)).toEqual([['mallory', 1100, true]]);
  });

  it('a flood before overwrites of two jobs\' outputs in one hour: each job is its own finding; a flood over many jobs\' outputs is bounded', () => {
    const [r, a] = [register(), approve()];
    const jobs = [compile(120, 'fraud-v3-c5'), compile(130, 'fraud-v3-g4', 's3://models/fraud/v3/neo-g4/')];
    const evil = [put(900, 'fraud/v3/neo/model-ml_c5.tar.gz'), put(910, 'fraud/v3/neo-g4/model-ml_g4dn.tar.gz')];
    const out = findings([r!, a!, ...flood(200, 600), ...evil, ...jobs]);
    expect(pushedOut(out)).toEqual([['mallory', 502, false], ['mallory', 502, false]]);
    expect(out.filter((x) => x.details.finding === 'early_write_pushed_out').map((x) => [x.details.job, x.details.output_location])).toEqual([['fraud-v3-c5', 's3://models/fraud/v3/neo'], ['fraud-v3-g4', 's3://models/fraud/v3/neo-g4']]);
    // The same job's record read again (a duplicate delivery) is not said twice.
    expect(pushedOut(findings([r!, a!, ...flood(200, 600), ...evil, ...jobs, jobs[0]!]))).toHaveLength(2);
    // 30 jobs' outputs overwritten within the hour: 20 findings of that caller, not 30.
    const many = Array.from({ length: 30 }, (_, i) => compile(120, `c-${i}`, `s3://models/fraud/v3/neo-${i}/`));
    const overwrites = Array.from({ length: 30 }, (_, i) => put(900 + i, `fraud/v3/neo-${i}/model-ml_c5.tar.gz`));
    expect(pushedOut(findings([r!, a!, ...flood(200, 600), ...overwrites, ...many]))).toHaveLength(20);
  });

  it('a busy compilation pipeline (the jobs\' role writing 300 outputs read before their 300 jobs) and a busy training pipeline are never said', () => {
    const [r, a] = [register(), approve()];
    const jobs = Array.from({ length: 300 }, (_, i) => compile(120, `c-${i}`, `s3://models/fraud/v3/neo-${i}/`));
    const outputs = Array.from({ length: 300 }, (_, i) => put(200 + i, `fraud/v3/neo-${i}/model-ml_c5.tar.gz`, 'Neo'));
    const out = findings([r!, a!, ...outputs, ...jobs]);
    expect(pushedOut(out)).toEqual([]);
    expect(out).toEqual([]);
    // A training pipeline's 600 model.tar.gz elsewhere, then a compilation job of another role: nothing either.
    expect(pushedOut(findings([r!, a!, ...flood(200, 600, 'TrainingRole'), compile(100)]))).toEqual([]);
  });
});
