import { describe, expect, it } from 'vitest';
import { Replayer, replayEvents } from '../../bridge/replay.js';
import { connectorByName } from '../../connectors/index.js';
import { RulesConfig, createRuleEngine } from '../../core/rules/engine.js';
import { MemoryStateStore } from '../../core/state/index.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { readFixture } from '../helpers/fixtures.js';

/**
 * Ways an insider with ordinary platform permissions tried to get an unapproved or changed model
 * served without an alert (a black-box hunt), as native records built from the shared fixtures.
 */

const CT_BASE = JSON.parse(readFixture('sagemaker', 'cloudtrail-sagemaker-createendpoint.awsdocs.json').toString()) as Record<string, unknown>;
let n = 0;
/** Where ct() records happen: SageMaker alert entities are named in their account and region. */
const AT = '123456789012:us-east-1:';
type Who = { arn: string; user: string };
const alice: Who = { arn: 'arn:aws:iam::123456789012:user/alice', user: 'alice' };
const bob: Who = { arn: 'arn:aws:iam::123456789012:user/bob', user: 'bob' };

/** A CloudTrail record of the fixture's shape with another call in it. */
function ct(eventName: string, time: string, req: Record<string, unknown>, resp: Record<string, unknown> = {}, who: Who = alice): Record<string, unknown> {
  return {
    ...structuredClone(CT_BASE),
    eventName, eventTime: time, requestParameters: req, responseElements: resp, eventID: `evt-${eventName}-${time}-${n++}`, requestID: `req-${n}`,
    recipientAccountId: '123456789012', awsRegion: 'us-east-1',
    userIdentity: { type: 'IAMUser', principalId: `AIDA${who.user}`, arn: who.arn, accountId: '123456789012', userName: who.user },
  };
}

function normalize(platform: string, records: unknown[]): NormalizedEvent[] {
  const plugin = connectorByName(platform)!;
  const ctx = { channel: `test.${platform}`, receivedTime: '2026-03-10T00:00:00.000Z', keepRaw: false, config: plugin.configSchema.parse({}) } as never;
  return records.flatMap((r) => plugin.normalize!(r, ctx).events);
}

const fired = (events: NormalizedEvent[], rules: Record<string, unknown> = {}): Alert[] => replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts;
const ids = (alerts: Alert[]) => alerts.map((a) => `${a.rule_id}[${a.entity.id}]`);

// SageMaker: a package approved by bob, its model, and a model of a scratch artifact nobody approved.
const PKG = 'arn:aws:sagemaker:us-east-1:123456789012:model-package/fraud/4';
const IMG = `123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb@sha256:${'a'.repeat(64)}`;
const smPackage = () => [
  ct('CreateModelPackage', '2026-03-02T10:00:00Z', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'PendingManualApproval', customerMetadataProperties: { adv_robust_accuracy: '0.9' }, inferenceSpecification: { containers: [{ image: IMG, modelDataUrl: 's3://models/fraud/v4/model.tar.gz' }] } }, { modelPackageArn: PKG }),
  ct('UpdateModelPackage', '2026-03-02T10:30:00Z', { modelPackageArn: PKG, modelApprovalStatus: 'Approved' }, { modelPackageArn: PKG }, bob),
  ct('CreateModel', '2026-03-02T11:00:00Z', { modelName: 'fraud-4', primaryContainer: { modelPackageName: PKG } }),
  ct('CreateModel', '2026-03-02T11:10:00Z', { modelName: 'evil', primaryContainer: { image: IMG, modelDataUrl: 's3://scratch/evil/model.tar.gz' } }),
];
const variant = (name: string, model: string, weight: number) => ({ variantName: name, modelName: model, initialInstanceCount: 1, instanceType: 'ml.m5.large', initialVariantWeight: weight });
const endpointConfig = (extra: Record<string, unknown>) => ct('CreateEndpointConfig', '2026-03-02T12:00:00Z', { endpointConfigName: 'c2', ...extra });
const createEndpoint = () => ct('CreateEndpoint', '2026-03-02T13:00:00Z', { endpointName: 'fraud-prod', endpointConfigName: 'c2' });

describe('registry.unapproved_deployment: every model a deployment serves is judged', () => {
  it('an approved variant does not vouch for an unapproved one beside it, whichever comes first', () => {
    for (const variants of [[variant('A', 'evil', 0.9), variant('B', 'fraud-4', 0.1)], [variant('A', 'fraud-4', 0.1), variant('B', 'evil', 0.9)]]) {
      const events = normalize('sagemaker', [...smPackage(), endpointConfig({ productionVariants: variants }), createEndpoint()]);
      const alerts = fired(events).filter((a) => a.rule_id === 'registry.unapproved_deployment');
      expect(alerts.map((a) => [a.entity.id, a.details?.models])).toEqual([[`${AT}fraud-prod`, ['evil']]]);
    }
    // The approved model alone is served quietly.
    expect(ids(fired(normalize('sagemaker', [...smPackage(), endpointConfig({ productionVariants: [variant('A', 'fraud-4', 1)] }), createEndpoint()])))).toEqual([]);
  });

  it('a model of several containers: the approved artifact in the first does not vouch for the second', () => {
    const model = ct('CreateModel', '2026-03-02T11:20:00Z', { modelName: 'multi', containers: [{ image: IMG, modelDataUrl: 's3://models/fraud/v4/model.tar.gz' }, { image: IMG, modelDataUrl: 's3://scratch/evil/model.tar.gz' }] });
    const alerts = fired(normalize('sagemaker', [...smPackage(), model, endpointConfig({ productionVariants: [variant('A', 'multi', 1)] }), createEndpoint()])).filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect(alerts.map((a) => (a.details?.deployed as { artifact?: string } | undefined)?.artifact)).toEqual(['s3://scratch/evil/model.tar.gz']);
    const ok = ct('CreateModel', '2026-03-02T11:20:00Z', { modelName: 'multi', containers: [{ image: IMG, modelDataUrl: 's3://models/fraud/v4/model.tar.gz' }] });
    expect(fired(normalize('sagemaker', [...smPackage(), ok, endpointConfig({ productionVariants: [variant('A', 'multi', 1)] }), createEndpoint()])).filter((a) => a.rule_id === 'registry.unapproved_deployment')).toEqual([]);
    // A package of two containers (a preprocessor and the model): serving both of its artifacts is serving what was approved.
    const [create, ...rest] = smPackage();
    const req = structuredClone(create!.requestParameters) as Record<string, any>;
    req.inferenceSpecification.containers.unshift({ image: IMG, modelDataUrl: 's3://models/fraud/v4/pre.tar.gz' });
    const twoContainers = [{ ...create!, requestParameters: req }, ...rest];
    const both = ct('CreateModel', '2026-03-02T11:20:00Z', { modelName: 'multi', containers: [{ image: IMG, modelDataUrl: 's3://models/fraud/v4/pre.tar.gz' }, { image: IMG, modelDataUrl: 's3://models/fraud/v4/model.tar.gz' }] });
    expect(fired(normalize('sagemaker', [...twoContainers, both, endpointConfig({ productionVariants: [variant('A', 'multi', 1)] }), createEndpoint()])).filter((a) => a.rule_id === 'registry.unapproved_deployment')).toEqual([]);
  });

  it('a package of the same group and version from another account or region is not the approved one; a central registry account\'s approval vouches for its own package', () => {
    const served = (model: Record<string, unknown>, before: Record<string, unknown>[] = smPackage()) =>
      fired(normalize('sagemaker', [...before, model, endpointConfig({ productionVariants: [variant('A', 'shared', 1)] }), createEndpoint()])).filter((a) => a.rule_id === 'registry.unapproved_deployment');
    for (const arn of ['arn:aws:sagemaker:us-east-1:999988887777:model-package/fraud/4', 'arn:aws:sagemaker:us-west-2:123456789012:model-package/fraud/4']) {
      const alerts = served(ct('CreateModel', '2026-03-02T11:30:00Z', { modelName: 'shared', primaryContainer: { modelPackageName: arn } }));
      expect(alerts.map((a) => [a.entity.id, a.details?.reason]), arn).toEqual([[`${AT}fraud-prod`, 'approved_in_another_account']]);
      expect(alerts[0]!.summary).toContain('approval was made in 123456789012:us-east-1');
      expect(alerts[0]!.title).toBe('registry.unapproved_deployment: Deployment of a model version approved only in another account or region');
    }
    // The package of this account and region: quiet.
    expect(served(ct('CreateModel', '2026-03-02T11:30:00Z', { modelName: 'shared', primaryContainer: { modelPackageName: PKG } }))).toEqual([]);
    // A central model registry (account 111111111111) approves its package; production (this account) deploys it by ARN: quiet.
    const inRegistry = (r: Record<string, unknown>) => ({ ...r, recipientAccountId: '111111111111', userIdentity: { ...(r.userIdentity as object), accountId: '111111111111' } });
    const central = 'arn:aws:sagemaker:us-east-1:111111111111:model-package/fraud/4';
    const registry = [
      inRegistry(ct('CreateModelPackage', '2026-03-02T10:00:00Z', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'PendingManualApproval', customerMetadataProperties: { adv_robust_accuracy: '0.9' }, inferenceSpecification: { containers: [{ image: IMG, modelDataUrl: 's3://models/fraud/v4/model.tar.gz' }] } }, { modelPackageArn: central })),
      inRegistry(ct('UpdateModelPackage', '2026-03-02T10:30:00Z', { modelPackageArn: central, modelApprovalStatus: 'Approved' }, { modelPackageArn: central }, bob)),
    ];
    expect(served(ct('CreateModel', '2026-03-02T11:30:00Z', { modelName: 'shared', primaryContainer: { modelPackageName: central } }), registry)).toEqual([]);
    // The registry's package approved by a prod-account approver (the group's resource policy allows it): the
    // call is in the prod account's trail, but approves the registry's package.
    const approvedFromProd = [registry[0]!, ct('UpdateModelPackage', '2026-03-02T10:30:00Z', { modelPackageArn: central, modelApprovalStatus: 'Approved' }, { modelPackageArn: central }, bob)];
    expect(served(ct('CreateModel', '2026-03-02T11:30:00Z', { modelName: 'shared', primaryContainer: { modelPackageName: central } }), approvedFromProd)).toEqual([]);
  });

  it('an approved package\'s artifact overwritten in S3 is a change of the approved version; a sibling object, or a write before the approval, is not', () => {
    const put = (time: string, key: string) => ({ ...ct('PutObject', time, { bucketName: 'models', key }, {}, bob), eventSource: 's3.amazonaws.com', eventCategory: 'Data' });
    const changed = (records: Record<string, unknown>[]) =>
      fired(normalize('sagemaker', records)).filter((a) => a.rule_id === 'registry.approved_model_modified').map((a) => [a.entity.id, a.details?.change, a.details?.object]);
    expect(changed([...smPackage(), put('2026-03-02T12:00:00Z', 'fraud/v4/model.tar.gz')])).toEqual([[`${AT}fraud/4`, 'artifact_overwritten', 's3://models/fraud/v4/model.tar.gz']]);
    expect(changed([...smPackage(), put('2026-03-02T12:00:00Z', 'fraud/v5/model.tar.gz')])).toEqual([]);
    const [create, approve, ...rest] = smPackage();
    expect(changed([create!, put('2026-03-02T10:10:00Z', 'fraud/v4/model.tar.gz'), approve!, ...rest])).toEqual([]);
    // DeleteObjects (`aws s3 rm --recursive`) names its keys in the request, or as object resources.
    const delMany = (extra: Record<string, unknown>) => ({ ...ct('DeleteObjects', '2026-03-02T12:00:00Z', { bucketName: 'models', ...extra }, {}, bob), eventSource: 's3.amazonaws.com', eventCategory: 'Data' });
    expect(changed([...smPackage(), delMany({ delete: { Object: [{ Key: 'fraud/v3/model.tar.gz' }, { Key: 'fraud/v4/model.tar.gz' }], Quiet: true } })])).toEqual([[`${AT}fraud/4`, 'artifact_deleted', 's3://models/fraud/v4/model.tar.gz']]);
    expect(changed([...smPackage(), { ...delMany({}), resources: [{ type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::models/fraud/v4/model.tar.gz' }, { type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::models' }] }])).toEqual([[`${AT}fraud/4`, 'artifact_deleted', 's3://models/fraud/v4/model.tar.gz']]);
    expect(changed([...smPackage(), delMany({ delete: { Object: [{ Key: 'fraud/v3/model.tar.gz' }] } })])).toEqual([]);
  });

  it('the approved artifact served with another image than the package was registered with is a substitution; the same image, by tag or digest, is not', () => {
    const serve = (image: string) =>
      fired(normalize('sagemaker', [...smPackage(), ct('CreateModel', '2026-03-02T11:30:00Z', { modelName: 'same-weights', primaryContainer: { image, modelDataUrl: 's3://models/fraud/v4/model.tar.gz' } }), endpointConfig({ productionVariants: [variant('A', 'same-weights', 1)] }), createEndpoint()]))
        .filter((a) => a.rule_id === 'registry.unapproved_deployment')
        .map((a) => [a.details?.reason, a.details?.deployed_images, a.title]);
    expect(serve('docker.io/attacker/serve:latest')).toEqual([['image_substitution', ['docker.io/attacker/serve:latest'], 'registry.unapproved_deployment: Approved model deployed with another container image']]);
    expect(serve(IMG)).toEqual([]);
    expect(serve(`123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1.7@sha256:${'a'.repeat(64)}`)).toEqual([]);
    // A package registered with a tag and its digest apart (SageMaker's own form), and with an additional inference
    // specification (a GPU variant): a model using either, by tag or digest, runs a registered image.
    const TAGGED = '123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1.7';
    const GPU = '123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb-gpu:1.7';
    const tagged = () => {
      const [create, ...rest] = smPackage();
      const req = structuredClone(create!.requestParameters) as Record<string, any>;
      req.inferenceSpecification.containers[0] = { image: TAGGED, imageDigest: `sha256:${'b'.repeat(64)}`, modelDataUrl: 's3://models/fraud/v4/model.tar.gz' };
      req.additionalInferenceSpecifications = [{ name: 'gpu', containers: [{ image: GPU, modelDataUrl: 's3://models/fraud/v4/model.tar.gz' }] }];
      return [{ ...create!, requestParameters: req }, ...rest];
    };
    const serveTagged = (image: string) =>
      fired(normalize('sagemaker', [...tagged(), ct('CreateModel', '2026-03-02T11:30:00Z', { modelName: 'same-weights', primaryContainer: { image, modelDataUrl: 's3://models/fraud/v4/model.tar.gz' } }), endpointConfig({ productionVariants: [variant('A', 'same-weights', 1)] }), createEndpoint()]))
        .filter((a) => a.rule_id === 'registry.unapproved_deployment')
        .map((a) => a.details?.reason);
    for (const image of [TAGGED, `123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb@sha256:${'b'.repeat(64)}`, `${TAGGED}@sha256:${'b'.repeat(64)}`, GPU]) expect(serveTagged(image), image).toEqual([]);
    expect(serveTagged(`123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb@sha256:${'c'.repeat(64)}`)).toEqual(['image_substitution']);
    // An inference component's own container is judged too.
    const ic = (image: string) =>
      fired(normalize('sagemaker', [...smPackage(), ct('CreateInferenceComponent', '2026-03-02T12:00:00Z', { inferenceComponentName: 'ic1', endpointName: 'fraud-prod', variantName: 'A', specification: { container: { image, artifactUrl: 's3://models/fraud/v4/model.tar.gz' } } })]))
        .filter((a) => a.rule_id === 'registry.unapproved_deployment')
        .map((a) => a.details?.reason);
    expect(ic('docker.io/attacker/serve:latest')).toEqual(['image_substitution']);
    expect(ic(IMG)).toEqual([]);
  });

  it('UpdateInferenceComponent naming only the component: judged on the endpoint it was created on', () => {
    const create = ct('CreateInferenceComponent', '2026-03-02T12:00:00Z', { inferenceComponentName: 'ic1', endpointName: 'fraud-prod', variantName: 'A', specification: { modelName: 'fraud-4' } });
    const swap = ct('UpdateInferenceComponent', '2026-03-02T13:00:00Z', { inferenceComponentName: 'ic1', specification: { modelName: 'evil' } });
    const alerts = fired(normalize('sagemaker', [...smPackage(), create, swap])).filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect(alerts.map((a) => [a.entity.id, a.details?.models])).toEqual([[`${AT}fraud-prod`, ['evil']]]);
    const stay = ct('UpdateInferenceComponent', '2026-03-02T13:00:00Z', { inferenceComponentName: 'ic1', specification: { modelName: 'fraud-4' } });
    expect(fired(normalize('sagemaker', [...smPackage(), create, stay])).filter((a) => a.rule_id === 'registry.unapproved_deployment')).toEqual([]);
  });

  it('a shadow variant serves its model too', () => {
    const events = normalize('sagemaker', [...smPackage(), endpointConfig({ productionVariants: [variant('A', 'fraud-4', 1)], shadowProductionVariants: [variant('S', 'evil', 1)] }), createEndpoint()]);
    expect(fired(events).filter((a) => a.rule_id === 'registry.unapproved_deployment').map((a) => a.details?.models)).toEqual([['evil']]);
  });
});

describe('registry.approved_model_modified: approving again does not hide a change made in the same call', () => {
  const deploy = () => [
    ct('CreateModel', '2026-03-02T12:00:00Z', { modelName: 'fraud-4b', primaryContainer: { modelPackageName: PKG } }),
    ct('CreateEndpointConfig', '2026-03-02T12:10:00Z', { endpointConfigName: 'c3', productionVariants: [variant('A', 'fraud-4b', 1)] }),
    ct('CreateEndpoint', '2026-03-02T12:20:00Z', { endpointName: 'fraud-prod', endpointConfigName: 'c3' }),
  ];
  it('SageMaker: UpdateModelPackage with modelApprovalStatus Approved and a new artifact, sourceUri or metadata', () => {
    const swaps: Array<[Record<string, unknown>, string]> = [
      [{ inferenceSpecification: { containers: [{ image: IMG, modelDataUrl: 's3://scratch/evil/model.tar.gz' }] } }, 'artifact'],
      [{ sourceUri: 's3://scratch/evil/' }, 'sourceUri'],
      [{ customerMetadataPropertiesToAdd: { owner: 'x' } }, 'customerMetadataPropertiesToAdd'],
    ];
    for (const [change, field] of swaps) {
      const swap = ct('UpdateModelPackage', '2026-03-02T11:30:00Z', { modelPackageArn: PKG, modelApprovalStatus: 'Approved', ...change }, { modelPackageArn: PKG });
      const alerts = fired(normalize('sagemaker', [...smPackage(), swap, ...deploy()])).filter((a) => a.rule_id === 'registry.approved_model_modified');
      expect(alerts.map((a) => [a.entity.id, a.details?.change, (a.details?.fields as string[]).includes(field)]), field).toEqual([[`${AT}fraud/4`, 'reapproved_with_changes', true]]);
    }
    // Approving an approved package again, alone (or with its reason), changes nothing.
    const again = ct('UpdateModelPackage', '2026-03-02T11:30:00Z', { modelPackageArn: PKG, modelApprovalStatus: 'Approved', approvalDescription: 'ok' }, { modelPackageArn: PKG }, bob);
    expect(ids(fired(normalize('sagemaker', [...smPackage(), again, ...deploy()])))).toEqual([]);
  });

  it('Vertex: UpdateModel setting the approval alias and labels in one call (update mask)', () => {
    const model = 'projects/p/locations/us-central1/models/777';
    const base = { platform: 'vertex', channel: 'vertex.pubsub_push', stage: 'registry', operation: 'google.cloud.aiplatform.v1.ModelService.UpdateModel', outcome: 'success', actor: { id: 'alice@corp.example', email: 'alice@corp.example', type: 'user' }, resource: { type: 'model_version', name: model, version: '3' } } as const;
    const e = (id: string, time: string, action: string, model_: Record<string, unknown>, details: Record<string, unknown> = {}) =>
      ({ schema_version: '1', id, time, received_time: time, ...base, action, ml: { model: { name: model, version: '3', ...model_ } }, details }) as unknown as NormalizedEvent;
    const upload = e('up', '2026-03-02T10:00:00.000Z', 'model_version.create', { tags: { adv_verdict: 'passed' } });
    const approve = { ...e('ap', '2026-03-02T10:30:00.000Z', 'model_version.update', { aliases: ['prod'] }, { update_mask: ['versionAliases'] }), actor: { id: 'bob@corp.example', email: 'bob@corp.example', type: 'user' } } as NormalizedEvent;
    const both = e('both', '2026-03-02T11:00:00.000Z', 'model_version.update', { aliases: ['prod'] }, { update_mask: ['labels', 'versionAliases'] });
    const onlyAlias = e('again', '2026-03-02T11:00:00.000Z', 'model_version.update', { aliases: ['prod'] }, { update_mask: ['versionAliases'] });
    const rules = { approval: { aliases: ['prod'] } };
    expect(fired([upload, approve, both], rules).filter((a) => a.rule_id === 'registry.approved_model_modified').map((a) => a.details?.fields)).toEqual([['labels']]);
    expect(fired([upload, approve, onlyAlias], rules).filter((a) => a.rule_id === 'registry.approved_model_modified')).toEqual([]);
  });
});

describe('registry.unapproved_deployment: every model location a deployment names is judged', () => {
  it('KServe with several storage URIs (a base model and a LoRA adapter): the approved base does not vouch for the adapter', () => {
    const actor = { id: 'alice@corp.example', email: 'alice@corp.example', type: 'user' } as const;
    const e = (id: string, time: string, d: Record<string, unknown>) => ({ schema_version: '1', id, time, received_time: time, channel: 'test', outcome: 'success', actor, ...d }) as unknown as NormalizedEvent;
    const registered = e('v5', '2026-03-02T10:00:00.000Z', { platform: 'mlflow', stage: 'registry', action: 'model_version.create', operation: 'model_version.created', resource: { type: 'model_version', name: 'fraud', version: '5' }, ml: { model: { name: 'fraud', version: '5', artifact_uri: 'gs://models/fraud/5', tags: { adv_verdict: 'passed' } } } });
    const approved = e('a5', '2026-03-02T10:30:00.000Z', { platform: 'mlflow', stage: 'registry', action: 'model_version.alias_set', operation: 'model_version_alias.created', actor: { id: 'bob', name: 'bob', type: 'user' }, resource: { type: 'model_version', name: 'fraud', version: '5' }, ml: { model: { name: 'fraud', version: '5', aliases: ['champion'] } }, details: { alias: 'champion' } });
    const deploy = (uris: string[]) => e(`d-${uris.length}`, '2026-03-02T11:00:00.000Z', { platform: 'kubeflow', stage: 'serving', action: 'endpoint.deploy', operation: 'create', resource: { type: 'inferenceservice', name: 'fraud' }, ml: { deployment: { endpoint: 'fraud', model_uri: uris[0], model_uris: uris } } });
    const alerts = fired([registered, approved, deploy(['gs://models/fraud/5', 'gs://scratch/lora'])]).filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect(alerts.map((a) => (a.details?.deployed as { artifact?: string } | undefined)?.artifact)).toEqual(['gs://scratch/lora']);
    expect(fired([registered, approved, deploy(['gs://models/fraud/5'])]).filter((a) => a.rule_id === 'registry.unapproved_deployment')).toEqual([]);
  });

  it('a `..` in the location does not climb out of the approved artifact (an HTTP client or a PVC resolves it)', () => {
    const actor = { id: 'alice@corp.example', email: 'alice@corp.example', type: 'user' } as const;
    const e = (id: string, time: string, d: Record<string, unknown>) => ({ schema_version: '1', id, time, received_time: time, channel: 'test', outcome: 'success', actor, ...d }) as unknown as NormalizedEvent;
    const at = (artifact: string) => [
      e('v5', '2026-03-02T10:00:00.000Z', { platform: 'mlflow', stage: 'registry', action: 'model_version.create', operation: 'model_version.created', resource: { type: 'model_version', name: 'tabnet', version: '5' }, ml: { model: { name: 'tabnet', version: '5', artifact_uri: artifact, tags: { adv_verdict: 'passed' } } } }),
      e('a5', '2026-03-02T10:30:00.000Z', { platform: 'mlflow', stage: 'registry', action: 'model_version.alias_set', operation: 'model_version_alias.created', actor: { id: 'bob', name: 'bob', type: 'user' }, resource: { type: 'model_version', name: 'tabnet', version: '5' }, ml: { model: { name: 'tabnet', version: '5', aliases: ['champion'] } }, details: { alias: 'champion' } }),
    ];
    const deploy = (uri: string) => e(`d-${uri}`, '2026-03-02T11:00:00.000Z', { platform: 'kubeflow', stage: 'serving', action: 'endpoint.deploy', operation: 'create', actor: { name: 'mallory', type: 'user' }, resource: { type: 'inferenceservice', name: 'tabnet' }, ml: { deployment: { endpoint: 'tabnet', model_uri: uri } } });
    const alerted = (artifact: string, uri: string) => fired([...at(artifact), deploy(uri)]).filter((a) => a.rule_id === 'registry.unapproved_deployment').length > 0;
    expect(alerted('https://artifacts.corp.example/models/tabnet/v5', 'https://artifacts.corp.example/models/tabnet/v5/../../../uploads/mallory/model.joblib')).toBe(true);
    expect(alerted('pvc://models-pvc/iris/v4', 'pvc://models-pvc/iris/v4/../../scratch/mallory/model')).toBe(true);
    // Spelt so that a string check misses it but a client resolves it: %2e%2e (requests sends '..'), backslashes, doubled slashes.
    expect(alerted('https://artifacts.corp.example/models/tabnet/v5', 'https://artifacts.corp.example/models/tabnet/v5/%2e%2e/%2e%2e/%2e%2e/uploads/x')).toBe(true);
    expect(alerted('https://artifacts.corp.example/models/tabnet/v5', 'https://artifacts.corp.example/models/tabnet/v5/..\\..\\..\\uploads\\x')).toBe(true);
    expect(alerted('https://artifacts.corp.example/models/tabnet/v5', 'https://artifacts.corp.example/models/tabnet/v5//..//..//..//uploads/x')).toBe(true);
    // Encoded separators too (nginx and WSGI decode %2F before resolving).
    expect(alerted('https://artifacts.corp.example/models/tabnet/v5', 'https://artifacts.corp.example/models/tabnet/v5/..%2f..%2F..%2fuploads/x')).toBe(true);
    expect(alerted('https://artifacts.corp.example/models/tabnet/v5', 'https://artifacts.corp.example/models/tabnet/v5/%2e%2e%5c%2e%2e%5c%2e%2e%5cuploads/x')).toBe(true);
    // An object store reads the key as written: s3://b/x/../v5 is another object, under x/.
    expect(alerted('s3://models/tabnet/v5', 's3://models/x/../tabnet/v5')).toBe(true);
    // Near misses: a file under the approved artifact, also spelled with `.` or a `..` that stays inside it.
    expect(alerted('https://artifacts.corp.example/models/tabnet/v5', 'https://artifacts.corp.example/models/tabnet/v5/sub/model.pkl')).toBe(false);
    expect(alerted('https://artifacts.corp.example/models/tabnet/v5', 'https://artifacts.corp.example/models/tabnet/v5/./sub/../model.pkl')).toBe(false);
  });
});

describe('evaluation.score_drop: a renamed metric is still compared', () => {
  it('beside a training-split or adversarial metric of the same kind', () => {
    const m = (id: string, h: string, version: string, metrics: Record<string, number>) =>
      ({ schema_version: '1', id, time: `2026-03-02T${h}:00:00.000Z`, received_time: `2026-03-02T${h}:00:00.000Z`, channel: 'test', operation: 'evaluate', outcome: 'success', platform: 'kubeflow', stage: 'evaluation', action: 'evaluation.metrics', actor: { name: 'pipeline-runner', type: 'service' }, ml: { model: { name: 'fraud', version }, metrics } }) as unknown as NormalizedEvent;
    for (const extra of [{ train_accuracy: 0.99 }, { adv_robust_accuracy: 0.8 }] as Array<Record<string, number>>) {
      const alerts = fired([m('v1', '10', '1', { accuracy: 0.95, ...extra }), m('v2', '11', '2', { test_accuracy: 0.8, ...extra })]).filter((a) => a.rule_id === 'evaluation.score_drop');
      expect(alerts.map((a) => a.entity.id), JSON.stringify(extra)).toEqual(['fraud/2']);
    }
    // Training accuracy alone is not held-out accuracy: no pairing across splits.
    expect(fired([m('v1', '10', '1', { train_accuracy: 0.99 }), m('v2', '11', '2', { test_accuracy: 0.8 })]).filter((a) => a.rule_id === 'evaluation.score_drop')).toEqual([]);
  });
});

describe('approvals: a Vertex upload that sets an approval alias approves the new version', () => {
  it('UploadModel versionAliases ["prod"] then DeployModel @3 / @prod: no false unapproved_deployment', () => {
    const M = 'projects/p/locations/us-central1/models/777';
    const e = (id: string, time: string, d: Record<string, unknown>) => ({ schema_version: '1', id, time, received_time: time, channel: 'test', outcome: 'success', platform: 'vertex', actor: { id: 'bob@corp.example', email: 'bob@corp.example', type: 'user' }, ...d }) as unknown as NormalizedEvent;
    const upload = e('up', '2026-03-02T10:00:00.000Z', { stage: 'registry', action: 'model_version.create', operation: 'google.cloud.aiplatform.v1.ModelService.UploadModel', resource: { type: 'model', id: M }, ml: { model: { name: M, version: '3', aliases: ['prod'], artifact_uri: 'gs://models/fraud/3' } } });
    const deploy = (ref: string) => e(`d${ref}`, '2026-03-02T11:00:00.000Z', { stage: 'serving', action: 'endpoint.deploy', operation: 'google.cloud.aiplatform.v1.EndpointService.DeployModel', resource: { type: 'endpoint', id: 'projects/p/locations/us-central1/endpoints/88' }, ml: { model: { name: M, ...(ref === '3' ? { version: '3' } : { aliases: [ref] }) }, deployment: { endpoint: 'projects/p/locations/us-central1/endpoints/88', model_uri: `${M}@${ref}` } } });
    for (const ref of ['3', 'prod']) expect(fired([upload, deploy(ref)]).filter((a) => a.rule_id === 'registry.unapproved_deployment'), ref).toEqual([]);
    const staging = { ...upload, ml: { model: { name: M, version: '3', aliases: ['staging'] } } } as NormalizedEvent;
    expect(fired([staging, deploy('3')]).filter((a) => a.rule_id === 'registry.unapproved_deployment')).toHaveLength(1);
  });
});

describe('a deleted and re-created model is a new model: the old approval does not pass to it', () => {
  const actor = { id: 'alice', name: 'alice', type: 'user' } as const;
  const e = (id: string, minute: number, d: Record<string, unknown>) => {
    const time = new Date(Date.parse('2026-03-02T10:00:00.000Z') + minute * 60_000).toISOString();
    return { schema_version: '1', id, time, received_time: time, channel: 'mlflow.webhook', outcome: 'success', platform: 'mlflow', stage: 'registry', actor, ...d } as unknown as NormalizedEvent;
  };
  const model = (id: string, minute: number) => e(id, minute, { action: 'registered_model.create', operation: 'registered_model.created', resource: { type: 'registered_model', name: 'fraud' }, ml: { model: { name: 'fraud' } } });
  const version = (id: string, minute: number, v: string, uri: string) => e(id, minute, { action: 'model_version.create', operation: 'model_version.created', resource: { type: 'model_version', name: 'fraud', version: v }, ml: { model: { name: 'fraud', version: v, artifact_uri: uri, tags: { adv_verdict: 'passed' } } } });
  const approve = (id: string, minute: number, v: string) => ({ ...e(id, minute, { action: 'model_version.alias_set', operation: 'model_version_alias.created', resource: { type: 'model_version', name: 'fraud', version: v }, ml: { model: { name: 'fraud', version: v, aliases: ['champion'] } }, details: { alias: 'champion' } }), actor: { id: 'bob', name: 'bob', type: 'user' } }) as NormalizedEvent;
  const deleted = (id: string, minute: number) => e(id, minute, { channel: 'mlflow.audit', action: 'registered_model.delete', operation: 'registered_model.delete', resource: { type: 'registered_model', name: 'fraud' } });
  const deploy = (minute: number, uri: string) => e('deploy', minute, { platform: 'kubeflow', channel: 'kubeflow.k8s_audit', stage: 'serving', action: 'endpoint.create', operation: 'create', resource: { type: 'inferenceservice', name: 'fraud' }, ml: { deployment: { endpoint: 'fraud', model_uri: uri } } });
  const unapproved = (events: NormalizedEvent[]) => fired(events).filter((a) => a.rule_id === 'registry.unapproved_deployment').map((a) => a.entity.id);
  const before = () => [model('m1', 0), version('v1', 1, '1', 'gs://models/fraud/1'), version('v2', 2, '2', 'gs://models/fraud/2'), approve('a2', 3, '2')];

  it('re-created with no delete event seen (MLflow sends no webhook for it): created again under the name', () => {
    expect(unapproved([...before(), model('m2', 10), version('v1b', 11, '1', 'gs://scratch/x'), version('v2b', 12, '2', 'gs://scratch/evil'), deploy(20, 'gs://scratch/evil')])).toEqual(['fraud']);
  });
  it('the same version number from another artifact, with nothing else seen', () => {
    expect(unapproved([...before(), version('v2b', 12, '2', 'gs://scratch/evil'), deploy(20, 'gs://scratch/evil')])).toEqual(['fraud']);
  });
  it('the auditor\'s registered_model.delete, then re-created', () => {
    expect(unapproved([...before(), deleted('d', 9), version('v2b', 12, '2', 'gs://scratch/evil'), deploy(20, 'gs://scratch/evil')])).toEqual(['fraud']);
  });
  it('near miss: the model\'s own creation reported late (the auditor dates it at creation_timestamp) keeps its versions and approval', () => {
    // In arrival order, as serve sees it: the report comes after the versions and the approval.
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const arrivals = [...before(), { ...model('m1-audit', 0), id: 'm1-audit', channel: 'mlflow.audit' } as NormalizedEvent, deploy(20, 'gs://models/fraud/2')];
    expect(arrivals.flatMap((e) => engine.process(e)).filter((a) => a.rule_id === 'registry.unapproved_deployment')).toEqual([]);
  });
  it('near miss: the same create reported twice (webhook, then auditor) keeps the approval given in between', () => {
    expect(unapproved([...before(), { ...version('v2-audit', 5, '2', 'gs://models/fraud/2'), channel: 'mlflow.audit' } as NormalizedEvent, deploy(20, 'gs://models/fraud/2')])).toEqual([]);
  });
});

describe('registry.unapproved_deployment: a deployment that arrives before its endpoint config and model', () => {
  // As serve sees them when CloudTrail delivers out of order: the deploy first, then the facts it names.
  // Received in this order, each as it happened (the bridge's receipt, as serve passes it).
  const arriving = (records: Record<string, unknown>[]) => {
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    let receipt = 0;
    return normalize('sagemaker', records).flatMap((e) => engine.process(e, (receipt = Math.max(receipt, Date.parse(e.time))))).filter((a) => a.rule_id === 'registry.unapproved_deployment');
  };
  const update = ct('UpdateEndpoint', '2026-03-02T13:00:40Z', { endpointName: 'fraud-prod', endpointConfigName: 'cs1' });
  it('is judged once they have arrived: an unapproved model is an alert citing the deployment', () => {
    const config = ct('CreateEndpointConfig', '2026-03-02T13:00:20Z', { endpointConfigName: 'cs1', productionVariants: [variant('A', 'evils', 1)] });
    const model = ct('CreateModel', '2026-03-02T13:00:00Z', { modelName: 'evils', primaryContainer: { image: IMG, modelDataUrl: 's3://scratch/evil/model.tar.gz' } });
    const alerts = arriving([...smPackage(), update, config, model]);
    expect(alerts.map((a) => [a.entity.id, a.details?.models])).toEqual([[`${AT}fraud-prod`, ['evils']]]);
    expect(alerts[0]!.evidence).toContain(normalize('sagemaker', [update])[0]!.id);
  });
  it('the late alert is the one replay raises: same id, time of the deployment it cites (not of the record that settled it)', () => {
    const config = ct('CreateEndpointConfig', '2026-03-02T13:00:20Z', { endpointConfigName: 'cs1', productionVariants: [variant('A', 'evils', 1)] });
    const model = ct('CreateModel', '2026-03-02T13:00:00Z', { modelName: 'evils', primaryContainer: { image: IMG, modelDataUrl: 's3://scratch/evil/model.tar.gz' } });
    const replayed = fired(normalize('sagemaker', [...smPackage(), model, config, update])).filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect(replayed.map((a) => a.time)).toEqual(['2026-03-02T13:00:40.000Z']);
    for (const order of [[update, config, model], [update, model, config]]) {
      const served = arriving([...smPackage(), ...order]);
      expect(served.map((a) => [a.id, a.time, a.summary])).toEqual(replayed.map((a) => [a.id, a.time, a.summary]));
    }
  });
  it('a model never seen (created before mltrail watched) is judged an hour after the config came, as in order', () => {
    const config = ct('CreateEndpointConfig', '2026-03-02T13:00:20Z', { endpointConfigName: 'cs1', productionVariants: [variant('A', 'fraud-4', 0.5), variant('B', 'unseen', 0.5)] });
    const later = ct('DescribeEndpoint', '2026-03-02T15:00:00Z', { endpointName: 'other' });
    const alerts = arriving([...smPackage(), update, config, later]);
    expect(alerts.map((a) => [a.entity.id, a.details?.models])).toEqual([[`${AT}fraud-prod`, ['unseen']]]);
  });
  it('replay: the same second in either order, nothing after it, gives the alert the in-order file gives', () => {
    const config = ct('CreateEndpointConfig', '2026-03-02T13:00:40Z', { endpointConfigName: 'cs1', productionVariants: [variant('A', 'unseen', 1)] });
    const inOrder = fired(normalize('sagemaker', [...smPackage(), config, update])).filter((a) => a.rule_id === 'registry.unapproved_deployment');
    const reversed = fired(normalize('sagemaker', [...smPackage(), update, config])).filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect(inOrder.map((a) => a.details?.models)).toEqual([['unseen']]);
    expect(reversed.map((a) => a.details?.models)).toEqual([['unseen']]);
  });
  it('near miss: the approved package\'s model arriving last is quiet', () => {
    const config = ct('CreateEndpointConfig', '2026-03-02T13:00:20Z', { endpointConfigName: 'cs1', productionVariants: [variant('A', 'fraud-4b', 1)] });
    const model = ct('CreateModel', '2026-03-02T13:00:00Z', { modelName: 'fraud-4b', primaryContainer: { modelPackageName: PKG } });
    expect(arriving([...smPackage(), update, config, model])).toEqual([]);
  });
});

describe('serving.hash_mismatch: an attestation made before the hash was registered', () => {
  const A = 'a'.repeat(64);
  const B = 'b'.repeat(64);
  const attest = (sha: string) => ({ schema_version: '1', id: `att-${sha[0]}`, time: '2026-03-02T10:02:00.000Z', received_time: '2026-03-02T10:02:00.000Z', channel: 'core.attest', operation: 'attest', outcome: 'success', platform: 'custom', stage: 'serving', action: 'model_version.attest', actor: { name: 'serving', type: 'service' }, ml: { model: { name: 'fraud', version: '8', sha256: sha } }, details: { where: 'pod/x' } }) as unknown as NormalizedEvent;
  const registered = { schema_version: '1', id: 'reg', time: '2026-03-02T10:05:00.000Z', received_time: '2026-03-02T10:05:00.000Z', channel: 'mlflow.audit', operation: 'model-versions/get', outcome: 'success', platform: 'mlflow', stage: 'registry', action: 'model_version.hash_registered', actor: { name: 'mltrail-auditor', type: 'service' }, ml: { model: { name: 'fraud', version: '8', sha256: A } } } as unknown as NormalizedEvent;
  const mismatches = (events: NormalizedEvent[]) => fired(events).filter((a) => a.rule_id === 'serving.hash_mismatch');
  it('is compared with the hash once registered (the auditor hashes at its next poll)', () => {
    expect(mismatches([attest(B), registered]).map((a) => [a.entity.id, a.evidence])).toEqual([['fraud/8', ['att-b', 'reg']]]);
  });
  it('near miss: the same hash is quiet', () => {
    expect(mismatches([attest(A), registered])).toEqual([]);
  });
  it('is compared within 7 days of the registration; an attestation older than that is not held against the new hash', () => {
    const dated = (sha: string, id: string, time: string) => ({ ...attest(sha), id, time, received_time: time }) as NormalizedEvent;
    const regAt = (time: string) => ({ ...registered, time, received_time: time }) as NormalizedEvent;
    // 6 days 23 h before: compared.
    expect(mismatches([dated(B, 'att-recent', '2026-03-02T10:00:00.000Z'), regAt('2026-03-09T09:00:00.000Z')]).map((a) => a.evidence)).toEqual([['att-recent', 'reg']]);
    // 8 days before: a stale attestation (another deployment of a re-created version number) stays quiet.
    expect(mismatches([dated(B, 'att-stale', '2026-03-02T10:00:00.000Z'), regAt('2026-03-10T10:00:00.000Z')])).toEqual([]);
  });
  it('every pod that attested before the registration is compared, not only the last one', () => {
    const pod = (sha: string, id: string, where: string, time: string) => ({ ...attest(sha), id, time, received_time: time, details: { where } }) as NormalizedEvent;
    const early = [pod(B, 'att-bad', 'pod/fraud-0', '2026-03-02T10:01:00.000Z'), pod(A, 'att-good', 'pod/fraud-1', '2026-03-02T10:02:00.000Z'), pod(A, 'att-good-2', 'pod/fraud-2', '2026-03-02T10:03:00.000Z')];
    expect(mismatches([...early, registered]).map((a) => [a.evidence, a.details?.where])).toEqual([[['att-bad', 'reg'], 'pod/fraud-0']]);
  });
  it('artifacts of an approved version that can no longer be read to verify them (hash_verified failure) alert', () => {
    const verifyFailed = {
      schema_version: '1', id: 'verify-failed', time: '2026-03-02T11:00:00.000Z', received_time: '2026-03-02T11:00:00.000Z', channel: 'mlflow.audit', operation: 'artifacts/verify', outcome: 'failure',
      platform: 'mlflow', stage: 'registry', action: 'model_version.hash_verified', actor: { name: 'mltrail-auditor', type: 'service' }, error: { code: 'HTTP_403', message: 'cannot be read' },
      ml: { model: { name: 'fraud', version: '8' } }, details: { expected_sha256: A },
    } as unknown as NormalizedEvent;
    expect(mismatches([registered, verifyFailed]).map((a) => [a.entity.id, a.evidence, a.details?.registered_sha256])).toEqual([['fraud/8', ['reg', 'verify-failed'], A]]);
    expect(mismatches([registered, { ...verifyFailed, id: 'verify-ok', outcome: 'success', error: undefined } as NormalizedEvent])).toEqual([]);
  });
  it('near miss: the same hash in upper-case hex is the same hash', () => {
    const upper = { ...registered, ml: { model: { name: 'fraud', version: '8', sha256: A.toUpperCase() } } } as unknown as NormalizedEvent;
    const later = { ...attest(A), id: 'att-later', time: '2026-03-02T10:10:00.000Z', received_time: '2026-03-02T10:10:00.000Z' } as NormalizedEvent;
    expect(mismatches([upper, later])).toEqual([]);
    expect(mismatches([attest(A), upper])).toEqual([]);
  });
});

describe('identity: a role session name is the caller\'s to choose', () => {
  const TRAIN = JSON.parse(readFixture('sagemaker', 'cloudtrail-sagemaker-createtrainingjob.real.json').toString()) as Record<string, unknown>;
  const assumed = (role: string, session: string) => ({ type: 'AssumedRole', principalId: `AROAX:${session}`, arn: `arn:aws:sts::123456789012:assumed-role/${role}/${session}`, accountId: '123456789012', sessionContext: { sessionIssuer: { type: 'Role', principalId: 'AROAX', arn: `arn:aws:iam::123456789012:role/${role}`, accountId: '123456789012', userName: role } } });
  const records = (assumer: Who): Array<Record<string, unknown>> => {
    const train = { ...structuredClone(TRAIN), eventTime: '2026-03-02T09:00:00Z', eventID: 'train-1', recipientAccountId: '123456789012', awsRegion: 'us-east-1', userIdentity: { type: 'IAMUser', principalId: 'AIDAalice', arn: alice.arn, accountId: '123456789012', userName: 'alice' } } as Record<string, unknown>;
    const req = train.requestParameters as Record<string, unknown>;
    req.trainingJobName = 'fraud-train-1';
    req.outputDataConfig = { s3OutputPath: 's3://models/fraud' };
    const pkg = { ...ct('CreateModelPackage', '2026-03-02T10:00:00Z', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'PendingManualApproval', customerMetadataProperties: { adv_robust_accuracy: '0.9' }, inferenceSpecification: { containers: [{ image: IMG, modelDataUrl: 's3://models/fraud/fraud-train-1/output/model.tar.gz' }] } }, { modelPackageArn: PKG }), userIdentity: assumed('CIPipeline', 'botocore-session-1') };
    const assume = { ...ct('AssumeRole', '2026-03-02T10:50:00Z', { roleArn: 'arn:aws:iam::123456789012:role/MLApprover', roleSessionName: 'bob@corp.example', durationSeconds: 3600 }, { assumedRoleUser: { assumedRoleId: 'AROAX:bob@corp.example', arn: 'arn:aws:sts::123456789012:assumed-role/MLApprover/bob@corp.example' } }, assumer), eventSource: 'sts.amazonaws.com' };
    const approve = { ...ct('UpdateModelPackage', '2026-03-02T11:00:00Z', { modelPackageArn: PKG, modelApprovalStatus: 'Approved' }, { modelPackageArn: PKG }), userIdentity: assumed('MLApprover', 'bob@corp.example') };
    return [train, pkg, assume, approve];
  };
  const selfApprovals = (assumer: Who) => {
    const plugin = connectorByName('sagemaker')!;
    const ctx = { channel: 'test.sagemaker', receivedTime: '2026-03-10T00:00:00.000Z', keepRaw: false, config: plugin.configSchema.parse({ role_arns: ['arn:aws:iam::123456789012:role/MLApprover'] }) } as never;
    const events = records(assumer).flatMap((r) => plugin.normalize!(r, ctx).events);
    return fired(events).filter((a) => a.rule_id === 'evaluation.self_approval').map((a) => a.details?.identity);
  };
  it('alice assuming the approver role under the session name "bob@corp.example" approves as alice', () => {
    expect(selfApprovals(alice)).toEqual(['alice']);
  });
  it('near miss: bob assuming it himself is bob', () => {
    expect(selfApprovals(bob)).toEqual([]);
  });
  it('alice setting the source identity "bob@corp.example" too (sts:SetSourceIdentity) still approves as alice: the AssumeRole record decides', () => {
    const plugin = connectorByName('sagemaker')!;
    const ctx = { channel: 'test.sagemaker', receivedTime: '2026-03-10T00:00:00.000Z', keepRaw: false, config: plugin.configSchema.parse({ role_arns: ['arn:aws:iam::123456789012:role/MLApprover'] }) } as never;
    const [train, pkg, assume, approve] = records(alice);
    const claimed = { ...assume!, requestParameters: { ...(assume!.requestParameters as object), sourceIdentity: 'bob@corp.example' } };
    const ui = approve!.userIdentity as { sessionContext: Record<string, unknown> };
    const approveAsBob = { ...approve!, userIdentity: { ...ui, sessionContext: { ...ui.sessionContext, sourceIdentity: 'bob@corp.example' } } };
    const identities = (recs: Array<Record<string, unknown>>) => fired(recs.flatMap((r) => plugin.normalize!(r, ctx).events)).filter((a) => a.rule_id === 'evaluation.self_approval').map((a) => a.details?.identity);
    expect(identities([train!, pkg!, claimed, approveAsBob])).toEqual(['alice']);
    // Without the AssumeRole record the claimed source identity stands in, as a session name does (README: not proof).
    expect(identities([train!, pkg!, approveAsBob])).toEqual([]);
  });
  it('one role and session name assumed by two people: the access key of the call says whose session it is', () => {
    const plugin = connectorByName('sagemaker')!;
    const ctx = { channel: 'test.sagemaker', receivedTime: '2026-03-10T00:00:00.000Z', keepRaw: false, config: plugin.configSchema.parse({ role_arns: ['arn:aws:iam::123456789012:role/MLApprover'] }) } as never;
    const [train, pkg, assume, approve] = records(alice);
    const assumeAs = (who: Who, time: string, key: string) => ({ ...assume!, eventTime: time, eventID: `assume-${key}`, userIdentity: { type: 'IAMUser', principalId: `AIDA${who.user}`, arn: who.arn, accountId: '123456789012', userName: who.user }, responseElements: { ...(assume!.responseElements as object), credentials: { accessKeyId: key, expiration: 'x', sessionToken: 'x' } } });
    const approveWith = (key: string) => ({ ...approve!, userIdentity: { ...(approve!.userIdentity as object), accessKeyId: key } });
    const run = (key: string) =>
      fired([train!, pkg!, assumeAs(alice, '2026-03-02T08:00:00Z', 'ASIAALICE'), assumeAs(bob, '2026-03-02T10:00:00Z', 'ASIABOB'), approveWith(key)].flatMap((r) => plugin.normalize!(r, ctx).events))
        .filter((a) => a.rule_id === 'evaluation.self_approval')
        .map((a) => a.details?.identity);
    expect(run('ASIAALICE')).toEqual(['alice']);
    expect(run('ASIABOB')).toEqual([]);
  });

  it('the AssumeRole record arriving after the approval (another trail file, later): serve judges the approval again as the caller\'s', () => {
    const plugin = connectorByName('sagemaker')!;
    const ctx = { channel: 'test.sagemaker', receivedTime: '2026-03-10T00:00:00.000Z', keepRaw: false, config: plugin.configSchema.parse({ role_arns: ['arn:aws:iam::123456789012:role/MLApprover'] }) } as never;
    // In arrival order, as serve evaluates them (replay would sort them by event time).
    const inArrivalOrder = (assumer: Who) => {
      const [train, pkg, assume, approve] = records(assumer);
      const events = [train!, pkg!, approve!, assume!].flatMap((r) => plugin.normalize!(r, ctx).events);
      const out: Alert[] = [];
      const r = new Replayer({ rules: RulesConfig.parse({}) }, { onAlerts: (a) => out.push(...a) });
      r.push(events.map((e) => ({ id: e.id, time: e.time, body: JSON.stringify(e) })));
      r.finish();
      return out.filter((a) => a.rule_id === 'evaluation.self_approval');
    };
    const late = inArrivalOrder(alice);
    expect(late.map((a) => a.details?.identity)).toEqual(['alice']);
    expect(late[0]!.time).toBe('2026-03-02T11:00:00.000Z'); // dated at the approval, not at the AssumeRole
    expect(inArrivalOrder(bob)).toEqual([]);
    // At most 1000 sessions wait (session names are often one per call): past that the oldest is forgotten.
    const [train, pkg, assume, approve] = records(alice);
    const others = Array.from({ length: 1000 }, (_, i) => ({ ...approve!, eventID: `other-${i}`, userIdentity: assumed('MLApprover', `ci-${i}`) }));
    const events = [train!, pkg!, approve!, ...others, assume!].flatMap((r) => plugin.normalize!(r, ctx).events);
    const out: Alert[] = [];
    const r = new Replayer({ rules: RulesConfig.parse({}) }, { onAlerts: (a) => out.push(...a) });
    r.push(events.map((e) => ({ id: e.id, time: e.time, body: JSON.stringify(e) })));
    r.finish();
    expect(out.filter((a) => a.rule_id === 'evaluation.self_approval')).toEqual([]);
  });

  it('role chaining: alice assumes Hop as "hop-1", and from it the approver role as "bob@corp.example"', () => {
    const plugin = connectorByName('sagemaker')!;
    const ctx = { channel: 'test.sagemaker', receivedTime: '2026-03-10T00:00:00.000Z', keepRaw: false, config: plugin.configSchema.parse({ role_arns: ['arn:aws:iam::123456789012:role/MLApprover', 'arn:aws:iam::123456789012:role/Hop'] }) } as never;
    const [train, pkg, assume, approve] = records(alice);
    const hop = { ...ct('AssumeRole', '2026-03-02T10:40:00Z', { roleArn: 'arn:aws:iam::123456789012:role/Hop', roleSessionName: 'hop-1' }, { assumedRoleUser: { assumedRoleId: 'AROAH:hop-1', arn: 'arn:aws:sts::123456789012:assumed-role/Hop/hop-1' } }, alice), eventSource: 'sts.amazonaws.com' };
    const fromHop = { ...assume!, userIdentity: assumed('Hop', 'hop-1') };
    const events = [train!, pkg!, hop, fromHop, approve!].flatMap((r) => plugin.normalize!(r, ctx).events);
    expect(fired(events).filter((a) => a.rule_id === 'evaluation.self_approval').map((a) => a.details?.identity)).toEqual(['alice']);
  });
});

describe('approval withdrawn, and approvals read out of order', () => {
  const deploy = [endpointConfig({ productionVariants: [variant('A', 'fraud-4', 1)] }), createEndpoint()];
  const status = (time: string, st: string) => ct('UpdateModelPackage', time, { modelPackageArn: PKG, modelApprovalStatus: st }, { modelPackageArn: PKG });

  it('a SageMaker package set back from Approved to PendingManualApproval is no longer approved for a deployment', () => {
    const back = status('2026-03-02T11:30:00Z', 'PendingManualApproval');
    const alerts = fired(normalize('sagemaker', [...smPackage(), back, ...deploy])).filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect(alerts.map((a) => [a.details?.reason, a.title])).toEqual([['approval_withdrawn', 'registry.unapproved_deployment: Deployment of a model version whose approval was withdrawn']]);
    // Approved again before the deployment: quiet.
    expect(fired(normalize('sagemaker', [...smPackage(), back, status('2026-03-02T11:40:00Z', 'Approved'), ...deploy])).filter((a) => a.rule_id === 'registry.unapproved_deployment')).toEqual([]);
  });

  it('in arrival order (serve): a rejection logged before the approval but read after it does not undo it', () => {
    const [create, approve, ...models] = normalize('sagemaker', smPackage());
    const reject = normalize('sagemaker', [status('2026-03-02T10:20:00Z', 'Rejected')]);
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const out = [create!, approve!, ...reject, ...models, ...normalize('sagemaker', deploy)].flatMap((e) => engine.process(e));
    expect(out.filter((a) => a.rule_id === 'registry.unapproved_deployment')).toEqual([]);
    // The same rejection logged after the approval does revoke it.
    const later = normalize('sagemaker', [status('2026-03-02T10:40:00Z', 'Rejected')]);
    const engine2 = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const out2 = [create!, approve!, ...later, ...models, ...normalize('sagemaker', deploy)].flatMap((e) => engine2.process(e));
    expect(out2.filter((a) => a.rule_id === 'registry.unapproved_deployment').map((a) => a.details?.reason)).toEqual(['rejected']);
  });
});

describe('second-round evasions', () => {
  it('score_drop: a metric kept under its name (val_accuracy) does not stop pairing the renamed one', () => {
    const m = (id: string, h: string, version: string, metrics: Record<string, number>) =>
      ({ schema_version: '1', id, time: `2026-03-02T${h}:00:00.000Z`, received_time: `2026-03-02T${h}:00:00.000Z`, channel: 'test', operation: 'evaluate', outcome: 'success', platform: 'kubeflow', stage: 'evaluation', action: 'evaluation.metrics', actor: { name: 'pipeline-runner', type: 'service' }, ml: { model: { name: 'fraud', version }, metrics } }) as unknown as NormalizedEvent;
    const alerts = fired([m('v1', '10', '1', { accuracy: 0.95, val_accuracy: 0.94 }), m('v2', '11', '2', { test_accuracy: 0.8, val_accuracy: 0.94 })]).filter((a) => a.rule_id === 'evaluation.score_drop');
    expect(alerts.map((a) => a.details?.metric ?? a.summary)).toHaveLength(1);
  });

  it('approved_model_modified: approval revoked, then approved again in a call that swaps the artifact', () => {
    for (const revoke of ['PendingManualApproval', 'Rejected']) {
      const back = ct('UpdateModelPackage', '2026-03-02T11:20:00Z', { modelPackageArn: PKG, modelApprovalStatus: revoke }, { modelPackageArn: PKG });
      const swap = ct('UpdateModelPackage', '2026-03-02T11:30:00Z', { modelPackageArn: PKG, modelApprovalStatus: 'Approved', inferenceSpecification: { containers: [{ image: IMG, modelDataUrl: 's3://scratch/evil/model.tar.gz' }] } }, { modelPackageArn: PKG });
      const alerts = fired(normalize('sagemaker', [...smPackage(), back, swap])).filter((a) => a.rule_id === 'registry.approved_model_modified' && a.details?.change === 'reapproved_with_changes');
      expect(alerts.map((a) => a.entity.id), revoke).toEqual([`${AT}fraud/4`]);
    }
    const again = ct('UpdateModelPackage', '2026-03-02T11:30:00Z', { modelPackageArn: PKG, modelApprovalStatus: 'Approved' }, { modelPackageArn: PKG });
    const back = ct('UpdateModelPackage', '2026-03-02T11:20:00Z', { modelPackageArn: PKG, modelApprovalStatus: 'PendingManualApproval' }, { modelPackageArn: PKG });
    expect(fired(normalize('sagemaker', [...smPackage(), back, again])).filter((a) => a.details?.change === 'reapproved_with_changes')).toEqual([]);
  });
});
