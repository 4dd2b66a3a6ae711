import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { connectorByName } from '../../connectors/index.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { readFixture } from '../helpers/fixtures.js';

/**
 * SageMaker names are unique only within one account and region. mltrail reads an Organizations trail, so the
 * dev, stage and prod accounts built from one IaC template all have an endpoint `churn-prod`, a config and a
 * Model of the same names, a package group `churn` with its own versions: each account's are its own (native
 * CloudTrail records of the fixture's shape, through the real connector and engine).
 */

const CT_BASE = JSON.parse(readFixture('sagemaker', 'cloudtrail-sagemaker-createendpoint.awsdocs.json').toString()) as Record<string, unknown>;
const A = '111122223333';
const B = '444455556666';
const REGISTRY = '777788889999';
let n = 0;

/** A CloudTrail record of the fixture's shape: `eventName` called by `user` in `account` (us-east-1). */
function ct(account: string, eventName: string, time: string, req: Record<string, unknown>, resp: Record<string, unknown> = {}, user = 'alice'): Record<string, unknown> {
  return {
    ...structuredClone(CT_BASE),
    eventName, eventTime: time, requestParameters: req, responseElements: resp, eventID: `evt-${account}-${eventName}-${n++}`, requestID: `req-${n}`,
    recipientAccountId: account, awsRegion: 'us-east-1',
    userIdentity: { type: 'IAMUser', principalId: `AIDA${user}`, arn: `arn:aws:iam::${account}:user/${user}`, accountId: account, userName: user },
  };
}

function normalize(records: Record<string, unknown>[]): NormalizedEvent[] {
  const plugin = connectorByName('sagemaker')!;
  const ctx = { channel: 'test.sagemaker', receivedTime: '2026-03-10T00:00:00.000Z', keepRaw: false, config: plugin.configSchema.parse({}) } as never;
  return records.flatMap((r) => plugin.normalize!(r, ctx).events);
}
const fired = (records: Record<string, unknown>[], rule: string): Alert[] => replayEvents(normalize(records), { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === rule);

const IMG = `${A}.dkr.ecr.us-east-1.amazonaws.com/xgb@sha256:${'a'.repeat(64)}`;
const pkgArn = (account: string, v: number) => `arn:aws:sagemaker:us-east-1:${account}:model-package/churn/${v}`;
const variant = (model: string) => ({ variantName: 'A', modelName: model, initialInstanceCount: 1, instanceType: 'ml.m5.large', initialVariantWeight: 1 });

/** Package churn/v registered and approved in `account` (its owner's approver, bob), at `hour`. */
function approvedPackage(account: string, v: number, hour: number, owner = account): Record<string, unknown>[] {
  const at = (m: number) => `2026-03-02T${String(hour).padStart(2, '0')}:${String(m).padStart(2, '0')}:00Z`;
  const arn = pkgArn(owner, v);
  return [
    ct(owner, 'CreateModelPackage', at(0), { modelPackageGroupName: 'churn', modelApprovalStatus: 'PendingManualApproval', customerMetadataProperties: { adv_robust_accuracy: '0.9' }, inferenceSpecification: { containers: [{ image: IMG, modelDataUrl: `s3://models-${owner}/churn/v${v}/model.tar.gz` }] } }, { modelPackageArn: arn }),
    ct(owner, 'UpdateModelPackage', at(5), { modelPackageArn: arn, modelApprovalStatus: 'Approved' }, { modelPackageArn: arn }, 'bob'),
  ];
}

/** The account's Model, config and endpoint deployment of package churn/v (the same names in every account). */
function deployPackage(account: string, v: number, hour: number, op: 'CreateEndpoint' | 'UpdateEndpoint', owner = account): Record<string, unknown>[] {
  const at = (m: number) => `2026-03-02T${String(hour).padStart(2, '0')}:${String(m).padStart(2, '0')}:00Z`;
  return [
    ct(account, 'CreateModel', at(10), { modelName: `churn-model-v${v}`, primaryContainer: { modelPackageName: pkgArn(owner, v) } }),
    ct(account, 'CreateEndpointConfig', at(15), { endpointConfigName: `churn-config-v${v}`, productionVariants: [variant(`churn-model-v${v}`)] }),
    ct(account, op, at(20), { endpointName: 'churn-prod', endpointConfigName: `churn-config-v${v}` }),
  ];
}

describe('SageMaker state is kept per account and region', () => {
  it('the same endpoint name in two accounts: B deploying an older version number than A is no rollback; A moving back is', () => {
    const a5 = [...approvedPackage(A, 5, 9), ...deployPackage(A, 5, 10, 'CreateEndpoint')];
    const b3 = [...approvedPackage(B, 3, 9), ...deployPackage(B, 3, 11, 'CreateEndpoint')];
    expect(fired([...a5, ...b3], 'registry.version_rollback')).toEqual([]);
    // A's own endpoint moved back to v3: a rollback, named in A.
    const a3 = [...approvedPackage(A, 3, 8), ...deployPackage(A, 3, 12, 'UpdateEndpoint')];
    const rollback = fired([...a5, ...b3, ...a3], 'registry.version_rollback');
    expect(rollback.map((r) => [r.entity, r.details?.from_version, r.details?.to_version])).toEqual([
      [{ type: 'endpoint', id: `${A}:us-east-1:churn-prod`, name: 'churn-prod', platform: 'sagemaker' }, '5', '3'],
    ]);
  });

  it('the same endpoint and Model names in two accounts: each account\'s unapproved deployment is its own alert, not one suppressed repeat', () => {
    const raw = (account: string, minute: number) => [
      ct(account, 'CreateModel', `2026-03-02T10:${minute}:00Z`, { modelName: 'churn-model', primaryContainer: { image: IMG, modelDataUrl: `s3://scratch-${account}/churn/model.tar.gz` } }),
      ct(account, 'CreateEndpointConfig', `2026-03-02T10:${minute + 1}:00Z`, { endpointConfigName: 'churn-config', productionVariants: [variant('churn-model')] }),
      ct(account, 'CreateEndpoint', `2026-03-02T10:${minute + 2}:00Z`, { endpointName: 'churn-prod', endpointConfigName: 'churn-config' }),
    ];
    const alerts = fired([...raw(A, 10), ...raw(B, 20)], 'registry.unapproved_deployment');
    expect(alerts.map((a) => [a.entity.id, a.entity.name, a.count, (a.details?.cloud as { account?: string }).account])).toEqual([
      [`${A}:us-east-1:churn-prod`, 'churn-prod', 1, A],
      [`${B}:us-east-1:churn-prod`, 'churn-prod', 1, B],
    ]);
    expect(new Set(alerts.map((a) => a.id)).size).toBe(2);
  });

  it('an endpoint config of the same name in another account is not the one an UpdateEndpoint applies', () => {
    // B's config serves a scratch Model; A's config of the same name (created later) serves A's approved package.
    const records = [
      ct(B, 'CreateModel', '2026-03-02T09:00:00Z', { modelName: 'evil', primaryContainer: { image: IMG, modelDataUrl: `s3://scratch-${B}/evil/model.tar.gz` } }),
      ct(B, 'CreateEndpointConfig', '2026-03-02T09:05:00Z', { endpointConfigName: 'churn-config', productionVariants: [variant('evil')] }),
      ...approvedPackage(A, 5, 9),
      ct(A, 'CreateModel', '2026-03-02T10:00:00Z', { modelName: 'churn-model', primaryContainer: { modelPackageName: pkgArn(A, 5) } }),
      ct(A, 'CreateEndpointConfig', '2026-03-02T10:05:00Z', { endpointConfigName: 'churn-config', productionVariants: [variant('churn-model')] }),
      ct(B, 'UpdateEndpoint', '2026-03-02T11:00:00Z', { endpointName: 'churn-prod', endpointConfigName: 'churn-config' }),
    ];
    const alerts = fired(records, 'registry.unapproved_deployment');
    expect(alerts.map((a) => [a.entity.id, a.details?.models])).toEqual([[`${B}:us-east-1:churn-prod`, ['evil']]]);
    // A applying its own config is quiet.
    expect(fired([...records.slice(0, -1), ct(A, 'UpdateEndpoint', '2026-03-02T11:00:00Z', { endpointName: 'churn-prod', endpointConfigName: 'churn-config' })], 'registry.unapproved_deployment')).toEqual([]);
  });

  it('a Model of the same name in another account made from an approved package does not vouch for a raw artifact', () => {
    const records = [
      ct(B, 'CreateModel', '2026-03-02T09:00:00Z', { modelName: 'churn-model', primaryContainer: { image: IMG, modelDataUrl: `s3://scratch-${B}/churn/model.tar.gz` } }),
      ...approvedPackage(A, 5, 9),
      ct(A, 'CreateModel', '2026-03-02T10:00:00Z', { modelName: 'churn-model', primaryContainer: { modelPackageName: pkgArn(A, 5) } }),
      ct(B, 'CreateEndpointConfig', '2026-03-02T10:30:00Z', { endpointConfigName: 'churn-config', productionVariants: [variant('churn-model')] }),
      ct(B, 'CreateEndpoint', '2026-03-02T11:00:00Z', { endpointName: 'churn-prod', endpointConfigName: 'churn-config' }),
    ];
    const alerts = fired(records, 'registry.unapproved_deployment');
    expect(alerts.map((a) => [a.entity.id, a.details?.models, a.details?.reason])).toEqual([[`${B}:us-east-1:churn-prod`, ['churn-model'], 'never_approved']]);
  });

  it('a package version of the same group and number in another account is another version: changing B\'s is no change of A\'s approved one', () => {
    const bPkg = pkgArn(B, 5);
    const records = [
      ct(B, 'CreateModelPackage', '2026-03-02T08:30:00Z', { modelPackageGroupName: 'churn', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: IMG, modelDataUrl: `s3://models-${B}/churn/v5/model.tar.gz` }] } }, { modelPackageArn: bPkg }),
      ...approvedPackage(A, 5, 9),
      ct(B, 'UpdateModelPackage', '2026-03-02T10:00:00Z', { modelPackageArn: bPkg, customerMetadataProperties: { owner: 'mallory' } }, { modelPackageArn: bPkg }),
    ];
    expect(fired(records, 'registry.approved_model_modified')).toEqual([]);
    // The same change of A's approved version alerts, named in A.
    const onA = ct(A, 'UpdateModelPackage', '2026-03-02T10:00:00Z', { modelPackageArn: pkgArn(A, 5), customerMetadataProperties: { owner: 'mallory' } }, { modelPackageArn: pkgArn(A, 5) });
    expect(fired([...records, onA], 'registry.approved_model_modified').map((a) => [a.entity.id, a.entity.name])).toEqual([[`${A}:us-east-1:churn/5`, 'churn']]);
  });

  it('an unpinned serving image in a Model of the same name in two accounts is an alert for each', () => {
    const unpinned = (account: string, minute: number) =>
      ct(account, 'CreateModel', `2026-03-02T10:${minute}:00Z`, { modelName: 'churn-model', primaryContainer: { image: 'docker.io/someone/serve:latest', modelDataUrl: `s3://models-${account}/churn/model.tar.gz` } });
    expect(fired([unpinned(A, 10), unpinned(B, 20)], 'serving.unverified_image').map((a) => [a.entity.id, a.entity.name])).toEqual([
      [`${A}:us-east-1:churn-model`, 'churn-model'],
      [`${B}:us-east-1:churn-model`, 'churn-model'],
    ]);
  });

  it('a training job family of the same name in two accounts: its unpinned image is an alert in each, not one suppressed repeat', () => {
    const job = (account: string, minute: number) =>
      ct(account, 'CreateTrainingJob', `2026-03-02T10:${minute}:00Z`, {
        trainingJobName: `churn-nightly-${minute}`, roleArn: `arn:aws:iam::${account}:role/SageMakerExec`, enableNetworkIsolation: true,
        algorithmSpecification: { trainingImage: 'docker.io/someone/train:latest', trainingInputMode: 'File' },
        outputDataConfig: { s3OutputPath: `s3://models-${account}/churn/` },
      });
    expect(fired([job(A, 10), job(B, 20)], 'training.unverified_dependency').map((a) => [a.entity.id, a.entity.name])).toEqual([
      [`${A}:us-east-1:churn-nightly`, 'churn-nightly'],
      [`${B}:us-east-1:churn-nightly`, 'churn-nightly'],
    ]);
  });

  it('a custom rule naming the resource names a SageMaker one in its account and region', () => {
    const rules = RulesConfig.parse({ custom: [{ id: 'platform.endpoint_deleted', kind: 'match', stage: 'serving', entity: 'resource', where: { actions: ['endpoint.undeploy'], platforms: ['sagemaker'] } }] });
    const del = (account: string, minute: number) => ct(account, 'DeleteEndpoint', `2026-03-02T10:${minute}:00Z`, { endpointName: 'churn-prod' });
    const alerts = replayEvents(normalize([del(A, 10), del(B, 20)]), { rules }).alerts.filter((a) => a.rule_id === 'platform.endpoint_deleted');
    expect(alerts.map((a) => [a.entity.id, a.entity.name])).toEqual([
      [`${A}:us-east-1:churn-prod`, 'churn-prod'],
      [`${B}:us-east-1:churn-prod`, 'churn-prod'],
    ]);
  });

  it('a central registry account\'s approved package, deployed by ARN in two prod accounts, is approved in both', () => {
    const records = [...approvedPackage(REGISTRY, 5, 9), ...deployPackage(A, 5, 10, 'CreateEndpoint', REGISTRY), ...deployPackage(B, 5, 11, 'CreateEndpoint', REGISTRY)];
    expect(fired(records, 'registry.unapproved_deployment')).toEqual([]);
  });
});

describe('state kept under the bare name (written before names were scoped, or by events that do not say where)', () => {
  // Records without `cloud` (nor an ARN naming where) leave their facts under the bare names, as the previous version
  // kept every one; an approval naming its package's ARN records where it was made (approvedScopes), as it did too.
  const bare = (records: Record<string, unknown>[]) =>
    normalize(records).map((e) => ({ ...e, cloud: undefined, resource: e.action === 'model_version.approve' ? e.resource : { ...e.resource!, id: undefined } }) as NormalizedEvent);
  const deployed = (legacy: NormalizedEvent[], records: Record<string, unknown>[]) =>
    replayEvents([...legacy, ...normalize(records)], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');

  it('is read for a name not yet seen in its account: an approved package and its Model deployed after the upgrade are quiet', () => {
    const legacy = bare([...approvedPackage(A, 5, 9), ct(A, 'CreateModel', '2026-03-02T10:00:00Z', { modelName: 'churn-model', primaryContainer: { modelPackageName: pkgArn(A, 5) } })]);
    const after = [
      ct(A, 'CreateEndpointConfig', '2026-03-02T11:00:00Z', { endpointConfigName: 'churn-config', productionVariants: [variant('churn-model')] }),
      ct(A, 'CreateEndpoint', '2026-03-02T11:05:00Z', { endpointName: 'churn-prod', endpointConfigName: 'churn-config' }),
    ];
    expect(deployed(legacy, after)).toEqual([]);
  });

  it('but a version it holds approved only in another account does not vouch for the same group and version here', () => {
    const legacy = bare(approvedPackage(A, 5, 9));
    const inB = [
      ct(B, 'CreateModel', '2026-03-02T10:00:00Z', { modelName: 'churn-model', primaryContainer: { modelPackageName: pkgArn(B, 5) } }),
      ct(B, 'CreateEndpointConfig', '2026-03-02T11:00:00Z', { endpointConfigName: 'churn-config', productionVariants: [variant('churn-model')] }),
      ct(B, 'CreateEndpoint', '2026-03-02T11:05:00Z', { endpointName: 'churn-prod', endpointConfigName: 'churn-config' }),
    ];
    expect(deployed(legacy, inB).map((a) => [a.entity.id, a.details?.reason])).toEqual([[`${B}:us-east-1:churn-prod`, 'approved_in_another_account']]);
    // Nor is a change of B's package a change of A's approved version.
    const change = ct(B, 'UpdateModelPackage', '2026-03-02T10:00:00Z', { modelPackageArn: pkgArn(B, 5), customerMetadataProperties: { owner: 'mallory' } }, { modelPackageArn: pkgArn(B, 5) });
    const modified = replayEvents([...legacy, ...normalize([change])], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(modified).toEqual([]);
  });
});

describe('SageMaker endpoint names are case-insensitive', () => {
  it('`Churn-Prod` created and `churn-prod` updated are one endpoint: moving it to an older version is a rollback', () => {
    const records = [
      ...approvedPackage(A, 5, 8), ...approvedPackage(A, 3, 9),
      ...deployPackage(A, 5, 10, 'CreateEndpoint').map((r) => (r.eventName === 'CreateEndpoint' ? { ...r, requestParameters: { ...(r.requestParameters as object), endpointName: 'Churn-Prod' } } : r)),
      ...deployPackage(A, 3, 11, 'UpdateEndpoint'),
    ];
    expect(fired(records, 'registry.version_rollback').map((a) => [a.entity.id, a.details?.to_version])).toEqual([[`${A}:us-east-1:churn-prod`, '3']]);
  });
});
