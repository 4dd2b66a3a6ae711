import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { MlflowConfig } from '../../connectors/mlflow/config.js';
import { normalizeMlflow } from '../../connectors/mlflow/normalize.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * A model approved (or rejected) in MLflow and deployed to SageMaker. Two ways seen in the wild:
 * - CreateModel whose ModelDataUrl points into the MLflow artifact store (linked by artifact: already judged);
 * - `mlflow deployments create -t sagemaker` / `mlflow.sagemaker.deploy` (mlflow/sagemaker/__init__.py): it downloads
 *   the model, re-packs it as `s3://mlflow-sagemaker-<region>-<account>/<app>-model-<id>/model.tar.gz` and calls
 *   CreateModel with `Tags: [{Key: 'model_uri', Value: <the MLflow URI deployed>}]` and the flavor env. The tag is the
 *   only link to the MLflow version.
 * MLflow records arrive as its webhooks deliver them (fixtures/mlflow envelopes), SageMaker ones as CloudTrail logs them.
 */

const ACCOUNT = '111122223333';
const ART3 = 's3://ml-mlflow/mlartifacts/1/aaaa1111/artifacts/model';
const ART4 = 's3://ml-mlflow/mlartifacts/1/bbbb2222/artifacts/model';
const IMAGE = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/mlflow-pyfunc@sha256:${'a'.repeat(64)}`;
let seq = 0;

function webhook(time: string, entity: string, action: string, data: Record<string, unknown>): NormalizedEvent {
  const timestamp = time.replace('Z', '.000000+00:00');
  const [e] = normalizeMlflow({ entity, action, timestamp, data }, { channel: 'mlflow.webhook', receivedTime: timestamp, keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: `d-${++seq}` } }).events;
  return e!;
}

/** fraud v3 approved by tag, v4 rejected by tag (model_version.created / model_version_tag.set webhooks). */
const registry = (): NormalizedEvent[] => [
  webhook('2026-11-20T09:00:00Z', 'model_version', 'created', { name: 'fraud', version: '3', source: ART3, run_id: 'aaaa1111', tags: {}, description: '' }),
  webhook('2026-11-20T09:30:00Z', 'model_version_tag', 'set', { name: 'fraud', version: '3', key: 'approval_status', value: 'approved' }),
  webhook('2026-11-20T10:00:00Z', 'model_version', 'created', { name: 'fraud', version: '4', source: ART4, run_id: 'bbbb2222', tags: {}, description: '' }),
  webhook('2026-11-20T10:30:00Z', 'model_version_tag', 'set', { name: 'fraud', version: '4', key: 'approval_status', value: 'rejected' }),
];

const call = (name: string, time: string, params: Record<string, unknown>, response: Record<string, unknown> | null = null) => normOne(ctRecord(name, params, {
  eventID: `ct-${++seq}`, eventTime: time, awsRegion: 'us-east-1', recipientAccountId: ACCOUNT, responseElements: response,
  userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/MLDeployer/alice`, accountId: ACCOUNT, principalId: 'AROA:alice', sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCOUNT}:role/MLDeployer`, userName: 'MLDeployer' } } },
}));

/** CreateModel (as mlflow.sagemaker makes it when `modelUri` is given) → CreateEndpointConfig → CreateEndpoint. */
function deploy(endpoint: string, modelDataUrl: string, modelUri?: string): NormalizedEvent[] {
  const model = `${endpoint}-model-abc123def456`;
  return [
    call('CreateModel', '2026-11-20T11:00:00Z', {
      modelName: model, executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/SageMakerExec`,
      primaryContainer: { image: IMAGE, modelDataUrl, environment: { MLFLOW_DEPLOYMENT_FLAVOR_NAME: 'python_function', SERVING_ENVIRONMENT: 'SageMaker' } },
      ...(modelUri ? { tags: [{ key: 'model_uri', value: modelUri }] } : {}),
    }),
    call('CreateEndpointConfig', '2026-11-20T11:00:10Z', { endpointConfigName: `${endpoint}-cfg`, productionVariants: [{ variantName: 'v', modelName: model, initialInstanceCount: 1, instanceType: 'ml.m5.large' }] }),
    call('CreateEndpoint', '2026-11-20T11:00:20Z', { endpointName: endpoint, endpointConfigName: `${endpoint}-cfg` }),
  ];
}
const copyUrl = (endpoint: string) => `s3://mlflow-sagemaker-us-east-1-${ACCOUNT}/${endpoint}-model-abc123def456/model.tar.gz`;

const alerts = (events: NormalizedEvent[], rules: Record<string, unknown> = {}, rule = 'registry.unapproved_deployment') =>
  replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === rule);

describe('MLflow-approved models deployed to SageMaker', () => {
  it('by ModelDataUrl into the MLflow artifact store: the approved version passes, the rejected one alerts as rejected', () => {
    expect(alerts([...registry(), ...deploy('fraud-a', `${ART3}/model.tar.gz`)])).toEqual([]);
    const fired = alerts([...registry(), ...deploy('fraud-b', `${ART4}/model.tar.gz`)]);
    expect(fired.map((a) => [a.entity.name, a.details.reason, a.details.model_versions])).toEqual([['fraud-b', 'rejected', ['fraud/4']]]);
  });

  it('mlflow.sagemaker deploy of a rejected version (models:/fraud/4 in the model_uri tag) is a rejected deployment, not "never approved"', () => {
    const events = [...registry(), ...deploy('fraud-d', copyUrl('fraud-d'), 'models:/fraud/4')];
    expect(events.at(-3)!.ml?.model?.tags).toEqual({ model_uri: 'models:/fraud/4' });
    const [a, ...more] = alerts(events);
    expect(more).toEqual([]);
    expect(a!.title).toMatch(/rejected model version/);
    expect(a!.details).toMatchObject({ reason: 'rejected', model_versions: ['fraud/4'], mlflow_model_uri: { uri: 'models:/fraud/4', versions: ['fraud/4'], approved: false } });
    // The rejection (the MLflow tag) and the CreateModel that named the version are evidence beside the deployment.
    expect(a!.evidence).toEqual(expect.arrayContaining([events[3]!.id, events.at(-3)!.id, events.at(-1)!.id]));
    expect(a!.summary).toMatch(/model_uri tag names models:\/fraud\/4 \(MLflow fraud v4\)/);
    // The same trusting the tag: a rejection is never vouched for.
    expect(alerts(events, { 'registry.unapproved_deployment': { trust_mlflow_model_uri_tag: true } }).map((x) => x.details.reason)).toEqual(['rejected']);
  });

  it('a copy of an approved version alerts as an unverified copy by default, and passes when the tag is trusted', () => {
    const events = [...registry(), ...deploy('fraud-c', copyUrl('fraud-c'), 'models:/fraud/3')];
    const fired = alerts(events);
    expect(fired.map((a) => [a.details.reason, a.details.mlflow_model_uri])).toEqual([
      ['unverified_mlflow_copy', { uri: 'models:/fraud/3', model: 'fraud-c-model-abc123def456', versions: ['fraud/3'], approved: true, event: events.at(-3)!.id }],
    ]);
    expect(fired[0]!.title).toMatch(/copy of an approved MLflow model/);
    expect(alerts(events, { 'registry.unapproved_deployment': { trust_mlflow_model_uri_tag: true } })).toEqual([]);
  });

  it('the tag is resolved as MLflow resolves it at deploy time: an alias, and a runs:/ URI by its run\'s artifact', () => {
    const champion = webhook('2026-11-20T10:40:00Z', 'model_version_alias', 'created', { name: 'fraud', alias: 'champion', version: '3' });
    const trust = { 'registry.unapproved_deployment': { trust_mlflow_model_uri_tag: true } };
    expect(alerts([...registry(), champion, ...deploy('fraud-e', copyUrl('fraud-e'), 'models:/fraud@champion')], trust)).toEqual([]);
    expect(alerts([...registry(), ...deploy('fraud-f', copyUrl('fraud-f'), 'runs:/aaaa1111/model')], trust)).toEqual([]);
    expect(alerts([...registry(), ...deploy('fraud-g', copyUrl('fraud-g'), 'runs:/bbbb2222/model')], trust).map((a) => a.details.reason)).toEqual(['rejected']);
  });

  it('a model_uri naming no known version, or no tag at all, is still never approved', () => {
    const unknown = alerts([...registry(), ...deploy('fraud-h', copyUrl('fraud-h'), 'models:/fraud/9')], { 'registry.unapproved_deployment': { trust_mlflow_model_uri_tag: true } });
    expect(unknown.map((a) => [a.details.reason, (a.details.mlflow_model_uri as { versions: string[] }).versions])).toEqual([['never_approved', []]]);
    const untagged = alerts([...registry(), ...deploy('fraud-i', copyUrl('fraud-i'))]);
    expect(untagged.map((a) => [a.details.reason, a.details.mlflow_model_uri])).toEqual([['never_approved', undefined]]);
  });

  it('a transform job on a Model made from a rejected MLflow version is a rejected batch job', () => {
    const [model] = deploy('fraud-j', copyUrl('fraud-j'), 'models:/fraud/4');
    const job = call('CreateTransformJob', '2026-11-20T12:00:00Z', {
      transformJobName: 'fraud-score-2026-11-20', modelName: 'fraud-j-model-abc123def456',
      transformInput: { dataSource: { s3DataSource: { s3DataType: 'S3Prefix', s3Uri: 's3://scoring/in/' } } }, transformOutput: { s3OutputPath: 's3://scoring/out/' },
      transformResources: { instanceType: 'ml.m5.large', instanceCount: 1 },
    });
    const fired = alerts([...registry(), model!, job], {}, 'serving.unapproved_batch_inference');
    expect(fired.map((a) => a.details.reason)).toEqual(['rejected']);
  });
});

describe('weights rejected in MLflow approved in the SageMaker Model Registry', () => {
  const PKG = `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/fraud-1a2b3c/1`;
  /** A package (as SageMaker's MLflow model registration names its group, `<model>-<suffix>`) registered from `modelDataUrl`, then approved there. */
  const registerAndApprove = (modelDataUrl: string) => [
    call('CreateModelPackage', '2026-11-20T12:00:00Z', { modelPackageGroupName: 'fraud-1a2b3c', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl }], supportedContentTypes: ['application/json'], supportedResponseMIMETypes: ['application/json'] } }, { modelPackageArn: PKG }),
    call('UpdateModelPackage', '2026-11-20T12:10:00Z', { modelPackageArn: PKG, modelApprovalStatus: 'Approved' }, { modelPackageArn: PKG }),
  ];
  const reversed = (events: NormalizedEvent[]) => alerts(events, {}, 'registry.rejection_reversed');

  it('an archive inside the rejected MLflow model directory is the rejection reversed, named with the folder', () => {
    const fired = reversed([...registry(), ...registerAndApprove(`${ART4}/model.tar.gz`)]);
    expect(fired.map((a) => [a.entity.id, a.details.rejected_version, a.details.rejected_artifact])).toEqual([[`${ACCOUNT}:us-east-1:fraud-1a2b3c/1`, 'fraud/4', ART4]]);
    expect(fired[0]!.summary).toMatch(/lies inside that version's, s3:\/\/ml-mlflow\/mlartifacts\/1\/bbbb2222\/artifacts\/model/);
  });

  it('the same archive under an approved version, beside the rejected one, or in a subfolder layout is no reversal', () => {
    expect(reversed([...registry(), ...registerAndApprove(`${ART3}/model.tar.gz`)])).toEqual([]);
    expect(reversed([...registry(), ...registerAndApprove('s3://ml-mlflow/mlartifacts/1/bbbb2222/artifacts/model2/model.tar.gz')])).toEqual([]);
    // A folder inside a rejected folder is not its weights (versions kept in subfolders of one prefix).
    const vertexLike = [
      webhook('2026-11-20T09:00:00Z', 'model_version', 'created', { name: 'churn', version: '1', source: 's3://models/churn', run_id: 'c1', tags: {}, description: '' }),
      webhook('2026-11-20T09:30:00Z', 'model_version_tag', 'set', { name: 'churn', version: '1', key: 'approval_status', value: 'rejected' }),
      webhook('2026-11-20T10:00:00Z', 'model_version', 'created', { name: 'churn', version: '2', source: 's3://models/churn/v2', run_id: 'c2', tags: {}, description: '' }),
      webhook('2026-11-20T10:30:00Z', 'model_version_tag', 'set', { name: 'churn', version: '2', key: 'approval_status', value: 'approved' }),
    ];
    expect(reversed(vertexLike)).toEqual([]);
  });

  it('an archive in a subfolder of a rejected folder (a version layout under one prefix) is no reversal; one directly inside still is (verify26a)', () => {
    const layout = (approvedSource: string) => [
      webhook('2026-11-20T09:00:00Z', 'model_version', 'created', { name: 'churn', version: '1', source: 's3://models/churn', run_id: 'c1', tags: {}, description: '' }),
      webhook('2026-11-20T09:30:00Z', 'model_version_tag', 'set', { name: 'churn', version: '1', key: 'approval_status', value: 'rejected' }),
      ...registerAndApprove(approvedSource),
    ];
    expect(reversed(layout('s3://models/churn/v2/model.tar.gz'))).toEqual([]);
    expect(reversed(layout('s3://models/churn/model.tar.gz')).map((a) => a.details.rejected_artifact)).toEqual(['s3://models/churn']);
  });
});

describe('an MLflow 3 version registered from a logged model (source models:/m-…)', () => {
  const LM = 's3://ml-mlflow/mlartifacts/1/models/m-0a1b2c3d4e/artifacts';
  const versions = () => [
    webhook('2026-11-20T09:00:00Z', 'model_version', 'created', { name: 'fraud', version: '7', source: 'models:/m-0a1b2c3d4e', run_id: 'eeee5555', tags: {}, description: '' }),
    webhook('2026-11-20T09:30:00Z', 'model_version_tag', 'set', { name: 'fraud', version: '7', key: 'approval_status', value: 'approved' }),
    webhook('2026-11-20T10:00:00Z', 'model_version', 'created', { name: 'fraud', version: '8', source: 'models:/m-9f8e7d6c5b', run_id: 'ffff6666', tags: {}, description: '' }),
    webhook('2026-11-20T10:30:00Z', 'model_version_tag', 'set', { name: 'fraud', version: '8', key: 'approval_status', value: 'rejected' }),
  ];
  /**
   * The MLflow auditor's hash record of a version (auditor.ts, operation artifacts/manifest): `artifact_uri` is the
   * registry's download URI for it, the logged model's artifact location; a server that does not serve artifacts gives
   * the same location in a failed record (hash_unreachable).
   */
  const hashRecord = (version: string, uri: string, time: string, readable = true): NormalizedEvent => ({
    schema_version: '1', id: `audit-${version}-${readable}`, received_time: time, time, platform: 'mlflow', channel: 'mlflow.audit', stage: 'registry',
    action: 'model_version.hash_registered', operation: 'artifacts/manifest', outcome: readable ? 'success' : 'failure',
    ...(readable ? {} : { error: { message: `artifacts at ${uri} are not served by the MLflow server` } }),
    actor: { name: 'mltrail-auditor', type: 'service' }, resource: { type: 'model_version', id: `fraud/${version}`, name: 'fraud', version },
    ml: { model: { name: 'fraud', version, artifact_uri: uri, ...(readable ? { sha256: '1'.repeat(64) } : {}) } },
  } as NormalizedEvent);
  const put = (key: string) => normOne(ctRecord('PutObject', { bucketName: 'ml-mlflow', key }, {
    eventID: `put-${++seq}`, eventTime: '2026-11-21T08:00:00Z', eventSource: 's3.amazonaws.com', eventCategory: 'Data', responseElements: null,
    resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::ml-mlflow/${key}` }, { accountId: ACCOUNT, type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::ml-mlflow' }],
  }));
  const modified = (events: NormalizedEvent[]) => alerts(events, {}, 'registry.approved_model_modified').filter((a) => a.details.change === 'artifact_overwritten');

  it('an overwrite of its files in S3 is judged once the auditor has said where they are (read or not), not before', () => {
    const write = put('mlartifacts/1/models/m-0a1b2c3d4e/artifacts/model.pkl');
    expect(modified([...versions(), write])).toEqual([]);
    for (const readable of [true, false]) {
      const fired = modified([...versions(), hashRecord('7', LM, '2026-11-20T09:40:00Z', readable), write]);
      expect(fired.map((a) => [a.entity.id, a.details.object])).toEqual([['fraud/7', `${LM}/model.pkl`]]);
    }
    // The auditor's record is no change of the approved version by itself.
    expect(alerts([...versions(), hashRecord('7', LM, '2026-11-20T09:40:00Z')], {}, 'registry.approved_model_modified')).toEqual([]);
  });

  it('a SageMaker deployment of the files of the rejected one is a rejected deployment; of the approved one, none', () => {
    const known = [...versions(), hashRecord('7', LM, '2026-11-20T09:40:00Z'), hashRecord('8', 's3://ml-mlflow/mlartifacts/1/models/m-9f8e7d6c5b/artifacts', '2026-11-20T10:40:00Z')];
    expect(alerts([...known, ...deploy('fraud-k', `${LM}/model.tar.gz`)])).toEqual([]);
    const fired = alerts([...known, ...deploy('fraud-l', 's3://ml-mlflow/mlartifacts/1/models/m-9f8e7d6c5b/artifacts/model.tar.gz')]);
    expect(fired.map((a) => [a.details.reason, a.details.model_versions])).toEqual([['rejected', ['fraud/8']]]);
  });
});

describe('a trusted model_uri tag vouches only for a copy', () => {
  it('a Model tagged with the approved version but serving the rejected version\'s artifact is judged by that artifact', () => {
    const trust = { 'registry.unapproved_deployment': { trust_mlflow_model_uri_tag: true } };
    const fired = alerts([...registry(), ...deploy('fraud-m', `${ART4}/model.tar.gz`, 'models:/fraud/3')], trust);
    expect(fired.map((a) => [a.details.reason, a.details.model_versions])).toEqual([['rejected', ['fraud/4', 'fraud/3']]]);
    // Serving a registered version's files still awaiting review, tagged with an approved one: not vouched for either.
    const pending = webhook('2026-11-20T10:45:00Z', 'model_version', 'created', { name: 'fraud', version: '5', source: 's3://ml-mlflow/mlartifacts/1/cccc3333/artifacts/model', run_id: 'cccc3333', tags: {}, description: '' });
    const unreviewed = alerts([...registry(), pending, ...deploy('fraud-n', 's3://ml-mlflow/mlartifacts/1/cccc3333/artifacts/model/model.tar.gz', 'models:/fraud/3')], trust);
    expect(unreviewed.map((a) => [a.details.reason, a.details.model_versions, (a.details.mlflow_model_uri as { approved: boolean }).approved])).toEqual([['never_approved', ['fraud/5', 'fraud/3'], true]]);
  });
});
