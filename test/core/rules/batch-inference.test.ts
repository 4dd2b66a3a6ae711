import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig, createRuleEngine } from '../../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import { LOC, V1, auditEntry, normOne } from '../../connectors/vertex/samples.js';
import { CT_ACCOUNT, cloudTrailRecord, normalizeSageMaker } from './cloudtrail.js';

/**
 * serving.unapproved_batch_inference: a SageMaker transform job or a Vertex batch prediction job running a model
 * version the registry rejected, or never approved, is an alert, as a deployment of it would be; a version awaiting
 * approval (what evaluation pipelines batch-score) only when `judge` asks. Built from the records the connectors
 * read: CloudTrail requestParameters in the shape of the shared fixture (SageMaker CreateTransformJob, CreateModel,
 * CreateModelPackage, UpdateModelPackage) and Cloud Audit Log entries (Vertex UploadModel, MergeVersionAliases,
 * CreateBatchPredictionJob with the BatchPredictionJob the call returns).
 */

const RULE = 'serving.unapproved_batch_inference';
const MIN = 60_000;
const ACCOUNT = CT_ACCOUNT;
const PKG = (v: string) => `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/fraud/${v}`;

const ct = (eventName: string, time: string, req: Record<string, unknown>, resp: Record<string, unknown> = {}, user = 'alice') => cloudTrailRecord(eventName, time, req, { resp, user });
const sagemaker = normalizeSageMaker;

const pkg = (time: string, version: string, status: string) =>
  ct('CreateModelPackage', time, {
    modelPackageGroupName: 'fraud', modelApprovalStatus: status,
    inferenceSpecification: { containers: [{ image: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/xgboost:1.7-1`, modelDataUrl: `s3://models/fraud/v${version}/model.tar.gz` }], supportedContentTypes: ['text/csv'], supportedResponseMIMETypes: ['text/csv'] },
  }, { modelPackageArn: PKG(version) }, 'ci');
const review = (time: string, version: string, status: string) => ct('UpdateModelPackage', time, { modelPackageArn: PKG(version), modelApprovalStatus: status }, { modelPackageArn: PKG(version) }, 'carol');
const modelFromPackage = (time: string, name: string, version: string) =>
  ct('CreateModel', time, { modelName: name, primaryContainer: { modelPackageName: PKG(version) }, executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/SageMakerExec` }, { modelArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model/${name}` });
const modelFromData = (time: string, name: string, url: string) =>
  ct('CreateModel', time, { modelName: name, primaryContainer: { image: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/xgboost:1.7-1`, modelDataUrl: url }, executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/SageMakerExec` }, { modelArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model/${name}` });
const transform = (time: string, job: string, model: string, output = 's3://scoring/fraud/out/') =>
  ct('CreateTransformJob', time, {
    transformJobName: job, modelName: model, batchStrategy: 'MultiRecord',
    transformInput: { dataSource: { s3DataSource: { s3DataType: 'S3Prefix', s3Uri: 's3://prod-data/transactions/2026-03-02/' } }, contentType: 'text/csv', splitType: 'Line' },
    transformOutput: { s3OutputPath: output, assembleWith: 'Line' },
    transformResources: { instanceType: 'ml.m5.xlarge', instanceCount: 1 },
  }, { transformJobArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:transform-job/${job}` }, 'mallory');

const batchAlerts = (alerts: Alert[]) => alerts.filter((a) => a.rule_id === RULE);
const replay = (events: NormalizedEvent[], rules: Record<string, unknown> = {}) => batchAlerts(replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts);
/** Serve: each event judged as it arrives, in the order given (not sorted by time). */
function serve(events: NormalizedEvent[], rules: Record<string, unknown> = {}): { engine: ReturnType<typeof createRuleEngine>; alerts: Alert[]; last: number } {
  const engine = createRuleEngine(RulesConfig.parse(rules), new MemoryStateStore());
  const last = Math.max(...events.map((e) => Date.parse(e.time)));
  return { engine, alerts: batchAlerts(events.flatMap((e) => engine.process(e, last))), last };
}

describe('SageMaker CreateTransformJob', () => {
  it('running a Model made from a rejected package version is an alert naming the rejection; from the approved one, none', () => {
    const common = [pkg('2026-03-01T10:00:00Z', '4', 'PendingManualApproval'), modelFromPackage('2026-03-01T12:00:00Z', 'fraud-4', '4')];
    const rejected = sagemaker([...common, review('2026-03-01T11:00:00Z', '4', 'Rejected'), transform('2026-03-02T02:00:00Z', 'fraud-score-2026-03-02-02-00-00', 'fraud-4')]);
    const alerts = replay(rejected);
    expect(alerts.map((a) => [a.entity, a.details.reason, a.details.deployer, a.details.job])).toEqual([
      [{ type: 'batch_job', id: `${ACCOUNT}:us-east-1:fraud-score`, name: 'fraud-score', platform: 'sagemaker' }, 'rejected', 'mallory', 'fraud-score-2026-03-02-02-00-00'],
    ]);
    expect(alerts[0]!.evidence).toEqual([rejected[2]!.id, rejected[3]!.id]);
    expect(alerts[0]!.summary).toContain('fraud v4');
    expect(alerts[0]!.details.inputs).toEqual(['s3://prod-data/transactions/2026-03-02/']);

    const approved = sagemaker([...common, review('2026-03-01T11:00:00Z', '4', 'Approved'), transform('2026-03-02T02:00:00Z', 'fraud-score-2026-03-02-02-00-00', 'fraud-4')]);
    expect(replay(approved)).toEqual([]);
    // Approved, then the approval revoked: an alert, the reason says so.
    const revoked = sagemaker([...common, review('2026-03-01T11:00:00Z', '4', 'Approved'), review('2026-03-01T13:00:00Z', '4', 'Rejected'), transform('2026-03-02T02:00:00Z', 'fraud-score-2026-03-02-02-00-00', 'fraud-4')]);
    expect(replay(revoked).map((a) => a.details.reason)).toEqual(['revoked']);
  });

  it('the alert says where and by whom as logged (account and region, the caller\'s ARN), also when judged once the Model arrived', () => {
    const scope = { cloud: { provider: 'aws', account: ACCOUNT, region: 'us-east-1' }, actor_id: `arn:aws:iam::${ACCOUNT}:user/mallory` };
    const inOrder = sagemaker([pkg('2026-03-01T10:00:00Z', '4', 'Rejected'), modelFromPackage('2026-03-01T12:00:00Z', 'fraud-4', '4'), transform('2026-03-02T02:00:00Z', 'fraud-score-2026-03-02-02-00-00', 'fraud-4')]);
    expect(replay(inOrder).map((a) => a.details)).toEqual([expect.objectContaining(scope)]);
    // The job before its Model (kept while it waits): judged when the CreateModel by 'alice' arrives, it still names mallory's call.
    const late = sagemaker([pkg('2026-03-01T10:00:00Z', '4', 'Rejected'), transform('2026-03-02T02:00:30Z', 'fraud-score-2026-03-02-02-00-30', 'fraud-4'), modelFromPackage('2026-03-02T02:00:00Z', 'fraud-4', '4')]);
    expect(serve(late).alerts.map((a) => a.details)).toEqual([expect.objectContaining(scope)]);
  });

  it('a Model made from a raw ModelDataUrl no package has is an alert; one serving an approved package\'s artifact is not', () => {
    const base = [pkg('2026-03-01T10:00:00Z', '4', 'Approved')];
    const rogue = sagemaker([...base, modelFromData('2026-03-01T12:00:00Z', 'fraud-x', 's3://scratch/mallory/model.tar.gz'), transform('2026-03-02T02:00:00Z', 'fraud-score-2026-03-02-02-00-00', 'fraud-x')]);
    expect(replay(rogue).map((a) => [a.details.reason, a.details.models])).toEqual([['never_approved', ['fraud-x']]]);
    const same = sagemaker([...base, modelFromData('2026-03-01T12:00:00Z', 'fraud-4-raw', 's3://models/fraud/v4/model.tar.gz'), transform('2026-03-02T02:00:00Z', 'fraud-score-2026-03-02-02-00-00', 'fraud-4-raw')]);
    expect(replay(same)).toEqual([]);
  });

  it('a version awaiting approval (what evaluation pipelines score) passes by default; judged when asked, except for jobs writing only to evaluation_outputs', () => {
    const events = sagemaker([pkg('2026-03-01T10:00:00Z', '5', 'PendingManualApproval'), modelFromPackage('2026-03-01T12:00:00Z', 'fraud-5', '5'), transform('2026-03-02T02:00:00Z', 'fraud-eval-2026-03-02', 'fraud-5', 's3://ml-eval/fraud/5/')]);
    expect(replay(events)).toEqual([]);
    expect(replay(events, { [RULE]: { judge: ['never_approved', 'pending'] } }).map((a) => a.details.reason)).toEqual(['pending']);
    expect(replay(events, { [RULE]: { judge: ['never_approved', 'pending'], evaluation_outputs: ['s3://ml-eval/*'] } })).toEqual([]);
    // The evaluation bucket does not excuse a rejected version.
    const rejected = sagemaker([pkg('2026-03-01T10:00:00Z', '5', 'Rejected'), modelFromPackage('2026-03-01T12:00:00Z', 'fraud-5', '5'), transform('2026-03-02T02:00:00Z', 'fraud-eval-2026-03-02', 'fraud-5', 's3://ml-eval/fraud/5/')]);
    expect(replay(rejected, { [RULE]: { evaluation_outputs: ['s3://ml-eval/*'] } }).map((a) => a.details.reason)).toEqual(['rejected']);
  });

  it('CloudTrail delivering the transform job before the CreateModel it names: judged when the Model arrives', () => {
    const rejected = sagemaker([pkg('2026-03-01T10:00:00Z', '4', 'Rejected'), transform('2026-03-02T02:00:30Z', 'fraud-score-2026-03-02-02-00-30', 'fraud-4'), modelFromPackage('2026-03-02T02:00:00Z', 'fraud-4', '4')]);
    const { alerts } = serve(rejected);
    // Raised when the Model came, dated and evidenced by the job.
    expect(alerts.map((a) => [a.details.reason, a.time, a.evidence.at(-1)])).toEqual([['rejected', '2026-03-02T02:00:30.000Z', rejected[1]!.id]]);
    // The same alert replay raises from the same records.
    expect(replay(rejected).map((a) => a.id)).toEqual(alerts.map((a) => a.id));
    // Near miss: the approved package, the same order: nothing.
    const approved = sagemaker([pkg('2026-03-01T10:00:00Z', '4', 'Approved'), transform('2026-03-02T02:00:30Z', 'fraud-score-2026-03-02-02-00-30', 'fraud-4'), modelFromPackage('2026-03-02T02:00:00Z', 'fraud-4', '4')]);
    const quiet = serve(approved);
    expect(quiet.alerts).toEqual([]);
    expect(batchAlerts(quiet.engine.tick(quiet.last + 3 * 60 * MIN))).toEqual([]);
  });

  it('a Model never seen (made before mltrail watched) is judged an hour later, on a quiet bridge too', () => {
    const events = sagemaker([transform('2026-03-02T02:00:00Z', 'fraud-score-2026-03-02-02-00-00', 'unseen')]);
    const { engine, alerts, last } = serve(events);
    expect(alerts).toEqual([]);
    expect(batchAlerts(engine.tick(last + 30 * MIN))).toEqual([]);
    expect(batchAlerts(engine.tick(last + 75 * MIN)).map((a) => [a.details.reason, a.summary.includes('unseen was never seen')])).toEqual([['never_approved', true]]);
    expect(batchAlerts(engine.tick(last + 3 * 60 * MIN))).toEqual([]);
  });
});

describe('Vertex CreateBatchPredictionJob', () => {
  /** Operation and job numbers, one each. */
  let n = 0;
  const MODEL = `${LOC}/models/4242`;
  const at = (h: number, m = 0) => `2026-11-20T${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00Z`;
  const upload = (time: string, parent?: boolean) =>
    auditEntry({ method: `${V1}ModelService.UploadModel`, request: { parent: LOC, ...(parent ? { parentModel: MODEL } : {}), model: { displayName: 'fraud', artifactUri: `gs://models/fraud/${time.slice(11, 13)}/` } }, response: { name: `${MODEL}/operations/${n++}` }, principal: 'ci@example.com', timestamp: time });
  const approve = (time: string, version: string) => auditEntry({ method: `${V1}ModelService.MergeVersionAliases`, resourceName: `${MODEL}@${version}`, request: { name: `${MODEL}@${version}`, versionAliases: ['production'] }, principal: 'carol@example.com', timestamp: time });
  /** The job as Vertex logs it: the request, and the BatchPredictionJob the call returns (with the version it runs). */
  const batch = (time: string, model: string | undefined, version?: string, extra: Record<string, unknown> = {}) =>
    auditEntry({
      method: `${V1}JobService.CreateBatchPredictionJob`, resourceName: LOC, principal: 'mallory@example.com', timestamp: time,
      request: {
        parent: LOC,
        batchPredictionJob: {
          displayName: 'fraud-nightly', ...(model ? { model } : {}), ...extra,
          inputConfig: { instancesFormat: 'bigquery', bigquerySource: { inputUri: 'bq://ml-prod-123.payments.transactions' } },
          outputConfig: { predictionsFormat: 'bigquery', bigqueryDestination: { outputUri: 'bq://ml-prod-123.scores' } },
        },
      },
      response: { name: `${LOC}/batchPredictionJobs/${n++}`, displayName: 'fraud-nightly', ...(model ? { model } : {}), ...(version ? { modelVersionId: version } : {}), state: 'JOB_STATE_PENDING' },
    });
  // Version 1 approved (alias production); version 2 uploaded after it, never approved.
  const registry = () => [upload(at(9)), approve(at(9, 30), '1'), upload(at(10), true)];

  it('the approved version, named by number or by its alias, passes; the one never approved is an alert once pending is judged', () => {
    const ok = [...registry(), batch(at(12), `${MODEL}@1`, '1'), batch(at(13), `${MODEL}@production`)].map(normOne);
    expect(replay(ok, { [RULE]: { judge: ['never_approved', 'pending'] } })).toEqual([]);
    const v2 = [...registry(), batch(at(12), `${MODEL}@2`, '2')].map(normOne);
    // Registered and awaiting approval: not judged by default (evaluation pipelines score such versions).
    expect(replay(v2)).toEqual([]);
    const alerts = replay(v2, { [RULE]: { judge: ['never_approved', 'pending'] } });
    expect(alerts.map((a) => [a.entity, a.details.reason, a.details.deployer])).toEqual([[{ type: 'batch_job', id: 'fraud-nightly', platform: 'vertex' }, 'pending', 'mallory@example.com']]);
    expect(alerts[0]!.summary).toContain(`${MODEL} v2`);
  });

  it('a model named without a version runs the one the service reports: the unapproved one is judged as such', () => {
    // The request names the model only; the returned job says it runs version 2.
    const events = [...registry(), batch(at(12), MODEL, '2')].map(normOne);
    expect(replay(events, { [RULE]: { judge: ['never_approved', 'pending'] } }).map((a) => a.details.reason)).toEqual(['pending']);
  });

  it('an unmanaged container model (no registry at all) is an alert by default; Google\'s foundation models are not judged', () => {
    const rogue = [...registry(), batch(at(12), undefined, undefined, { unmanagedContainerModel: { artifactUri: 'gs://scratch/mallory/fraud/', containerSpec: { imageUri: 'us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest' } } })].map(normOne);
    expect(replay(rogue).map((a) => [a.details.reason, (a.details.deployed as { artifact?: string }).artifact])).toEqual([['never_approved', 'gs://scratch/mallory/fraud']]);
    const gemini = [batch(at(12), 'publishers/google/models/gemini-2.0-flash-001')].map(normOne);
    expect(replay(gemini)).toEqual([]);
    // Only by exempt_models: without it, a model no registry of yours holds is judged.
    expect(replay(gemini, { [RULE]: { exempt_models: [] } }).map((a) => a.details.reason)).toEqual(['never_approved']);
  });

  it('an unmanaged container model\'s image is judged by serving.unverified_image on the job (no upload ever named it); a registered model\'s job names none', () => {
    const imageAlerts = (events: NormalizedEvent[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'serving.unverified_image');
    const unmanaged = (imageUri: string, env?: unknown[]) => batch(at(12), undefined, undefined, { unmanagedContainerModel: { artifactUri: 'gs://scratch/mallory/fraud/', containerSpec: { imageUri, ...(env ? { env } : {}) } } });
    const rogue = normOne(unmanaged('docker.io/mallory/serve:latest'));
    expect(rogue.ml?.model?.image).toBe('docker.io/mallory/serve:latest');
    const alerts = imageAlerts([rogue]);
    expect(alerts.map((a) => [a.entity, a.details.images, a.details.deployer])).toEqual([[{ type: 'batch_job', id: 'fraud-nightly', platform: 'vertex' }, ['docker.io/mallory/serve:latest'], 'mallory@example.com']]);
    // The Hub repository its container downloads is judged as an UploadModel's is.
    const hub = imageAlerts([normOne(unmanaged('us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest', [{ name: 'MODEL_ID', value: 'someone/llm' }]))]);
    expect(hub.map((a) => a.details.hub_models)).toEqual([['someone/llm']]);
    // Near misses: Vertex's prebuilt prediction image by tag, a pinned image of the project's registry, a registered model.
    expect(imageAlerts([normOne(unmanaged('us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-3:latest'))])).toEqual([]);
    expect(imageAlerts([normOne(unmanaged(`us-central1-docker.pkg.dev/ml-prod-123/serving/fraud@sha256:${'c'.repeat(64)}`))])).toEqual([]);
    expect(imageAlerts([...registry(), batch(at(12), `${MODEL}@1`, '1')].map(normOne))).toEqual([]);
  });
});
