import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';
import { kubeflowConnector } from '../../connectors/kubeflow/index.js';
import { identityOf } from '../../core/rules/facts.js';
import { auditEvent, ctx } from '../connectors/kubeflow/helpers.js';

/**
 * Deployments made by automation, end to end from CloudTrail records (the SageMaker Projects MLOps template's shape:
 * a SageMaker Pipelines step registers the package, a person approves it, CloudFormation's stack role deploys it):
 * who the rules say did it when the caller is a service acting for a stack, or a pipeline role a person started.
 */

const ACCOUNT = '111122223333';
const IDENTITY_STORE = `arn:aws:identitystore::${ACCOUNT}:identitystore/d-9067642ac7`;
const REGION = 'us-east-1';
const IMAGE = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1';
let n = 0;

/** A role session as CloudTrail logs it; `invokedBy` when a service made the call, `sourceIdentity` when one was set. */
function session(role: string, name: string, opts: { invokedBy?: string; sourceIdentity?: string; onBehalfOf?: string } = {}) {
  return {
    userIdentity: {
      type: 'AssumedRole', principalId: `AROA${role.length}EXAMPLE:${name}`, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${name}`, accountId: ACCOUNT, accessKeyId: `ASIA${++n}EXAMPLE`,
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: `AROA${role.length}EXAMPLE`, arn: `arn:aws:iam::${ACCOUNT}:role/${role}`, accountId: ACCOUNT, userName: role },
        attributes: { creationDate: '2026-11-02T00:00:00Z', mfaAuthenticated: 'false' },
        ...(opts.sourceIdentity ? { sourceIdentity: opts.sourceIdentity } : {}),
      },
      ...(opts.invokedBy ? { invokedBy: opts.invokedBy } : {}),
      // An identity-enhanced session (CloudTrail userIdentity element: onBehalfOf {userId, identityStoreArn}).
      ...(opts.onBehalfOf ? { onBehalfOf: { userId: opts.onBehalfOf, identityStoreArn: IDENTITY_STORE } } : {}),
    },
    sourceIPAddress: opts.invokedBy ?? '203.0.113.7', userAgent: opts.invokedBy ?? 'aws-cli/2.15.0',
  };
}
/** CloudFormation's session of a stack role: every stack's is named `AWSCloudFormation`. */
const stackRole = (role: string) => session(role, 'AWSCloudFormation', { invokedBy: 'cloudformation.amazonaws.com' });
const BOB = session('MLApprover', 'bob@corp.example');
const PKG = (v: number) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/churn/${v}`;

function call(eventName: string, time: string, who: object, params: Record<string, unknown>, response: Record<string, unknown> | null = null, extra: Record<string, unknown> = {}): NormalizedEvent {
  return normOne(ctRecord(eventName, params, { ...who, eventTime: time, awsRegion: REGION, recipientAccountId: ACCOUNT, eventID: `auto-${++n}`, responseElements: response, ...extra }));
}
const register = (time: string, who: object, v = 3) =>
  call('CreateModelPackage', time, who, { modelPackageGroupName: 'churn', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl: `s3://ml-models/churn/v${v}/model.tar.gz` }] } }, { modelPackageArn: PKG(v) });
const approve = (time: string, who: object, v = 3) => call('UpdateModelPackage', time, who, { modelPackageArn: PKG(v), modelApprovalStatus: 'Approved' }, { modelPackageArn: PKG(v) });
function deploy(time: string, who: object, suffix: string, v = 3, verb = 'CreateEndpoint'): NormalizedEvent[] {
  const model = `churn-prod-model-${suffix}`;
  const config = `churn-prod-config-${suffix}`;
  return [
    call('CreateModel', time, who, { modelName: model, containers: [{ modelPackageName: PKG(v) }], executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/ModelRole` }, { modelArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model/${model}` }),
    call('CreateEndpointConfig', time, who, { endpointConfigName: config, productionVariants: [{ variantName: 'AllTraffic', modelName: model, initialInstanceCount: 1, instanceType: 'ml.m5.large' }] }, { endpointConfigArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:endpoint-config/${config}` }),
    call(verb, time, who, { endpointName: 'churn-prod', endpointConfigName: config }, { endpointArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:endpoint/churn-prod` }),
  ];
}
const put = (time: string, who: object, key: string) =>
  call('PutObject', time, who, { bucketName: 'training-data', key, Host: 'training-data.s3.us-east-1.amazonaws.com' }, null, { eventSource: 's3.amazonaws.com', eventCategory: 'Data', managementEvent: false, readOnly: false });

function alerts(events: NormalizedEvent[], rules: Record<string, unknown>, id: string): Alert[] {
  return replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === id);
}
const SOD = { 'access.separation_of_duties': { production_endpoints: ['*-prod'], training_data_uris: ['s3://training-data/*'] } };

describe('deployments made by automation', () => {
  it('CloudFormation stack roles are each their own identity: two stacks are not one person who registered and approved', () => {
    const fired = alerts(
      [register('2026-11-02T09:00:00Z', stackRole('RegistryStackRole')), approve('2026-11-02T11:00:00Z', stackRole('GovernanceStackRole'))],
      { 'evaluation.self_approval': { roles: ['trained', 'evaluated', 'registered'] } },
      'evaluation.self_approval',
    );
    expect(fired).toEqual([]);
    // The same stack role registering and approving is still one identity, named by its role.
    const same = alerts(
      [register('2026-11-02T09:00:00Z', stackRole('MLOpsStackRole')), approve('2026-11-02T11:00:00Z', stackRole('MLOpsStackRole'))],
      { 'evaluation.self_approval': { roles: ['trained', 'evaluated', 'registered'] } },
      'evaluation.self_approval',
    );
    expect(same.map((a) => a.details.identity)).toEqual(['role:mlopsstackrole/awscloudformation']);
  });

  it('a stack role deploying an approved package raises no unapproved deployment, and alerts name the stack role, not "awscloudformation"', () => {
    const cfn = stackRole('AmazonSageMakerServiceCatalogProductsCloudformationRole');
    const events = [register('2026-11-02T09:00:00Z', session('AmazonSageMaker-ExecutionRole', 'SageMaker', { invokedBy: 'sagemaker.amazonaws.com' })), approve('2026-11-02T11:00:00Z', BOB), ...deploy('2026-11-02T12:00:00Z', cfn, 'a1')];
    expect(events.at(-1)!.actor).toMatchObject({ type: 'service', id: `arn:aws:sts::${ACCOUNT}:assumed-role/AmazonSageMakerServiceCatalogProductsCloudformationRole/AWSCloudFormation` });
    expect(events.at(-1)!.details).toMatchObject({ invoked_by: 'cloudformation.amazonaws.com' });
    expect(alerts(events, {}, 'registry.unapproved_deployment')).toEqual([]);
    // The same stack role writing training data and deploying is a finding named by the role.
    const fired = alerts([put('2026-11-02T08:00:00Z', cfn, 'churn/seed.csv'), ...events], SOD, 'access.separation_of_duties');
    expect(fired.map((a) => a.details.identity)).toEqual(['role:amazonsagemakerservicecatalogproductscloudformationrole/awscloudformation']);
  });

  it('a stack update redeploying the same approved package is quiet; a stack rollback to the previous version is a rollback that says CloudFormation made it', () => {
    const cfn = stackRole('AmazonSageMakerServiceCatalogProductsCloudformationRole');
    const pipeline = session('AmazonSageMaker-ExecutionRole', 'SageMaker', { invokedBy: 'sagemaker.amazonaws.com' });
    const events = [
      register('2026-11-02T09:00:00Z', pipeline), approve('2026-11-02T11:00:00Z', BOB), ...deploy('2026-11-02T12:00:00Z', cfn, 'a1'),
      ...deploy('2026-11-03T12:00:00Z', cfn, 'b2', 3, 'UpdateEndpoint'),
      register('2026-11-04T09:00:00Z', pipeline, 4), approve('2026-11-04T11:00:00Z', BOB, 4), ...deploy('2026-11-04T12:00:00Z', cfn, 'c3', 4, 'UpdateEndpoint'),
    ];
    const all = replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => /unapproved|rollback/.test(a.rule_id));
    expect(all).toEqual([]);
    // UPDATE_ROLLBACK: CloudFormation puts the previous endpoint config back (the stack's status is not in CloudTrail).
    const back = call('UpdateEndpoint', '2026-11-04T12:30:00Z', cfn, { endpointName: 'churn-prod', endpointConfigName: 'churn-prod-config-b2' }, { endpointArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:endpoint/churn-prod` });
    const fired = replayEvents([...events, back], { rules: RulesConfig.parse({}) }).alerts.filter((a) => /unapproved|rollback/.test(a.rule_id));
    expect(fired.map((a) => [a.rule_id, a.severity])).toEqual([['registry.version_rollback', 'medium']]);
    expect(fired[0]!.details).toMatchObject({ from_version: '4', to_version: '3', invoked_by: 'cloudformation.amazonaws.com', actor: 'role:amazonsagemakerservicecatalogproductscloudformationrole/awscloudformation' });
    expect(fired[0]!.summary).toContain('by role:amazonsagemakerservicecatalogproductscloudformationrole/awscloudformation');
  });

  it('a pipeline role\'s sessions are judged as the person behind them when the session carries a source identity', () => {
    const write = put('2026-11-02T10:00:00Z', session('mlops-cicd', 'run-7f3a9c', { sourceIdentity: 'alice@corp.example' }), 'churn/poison.csv');
    expect(write.actor!.chain).toEqual(['alice@corp.example', `arn:aws:sts::${ACCOUNT}:assumed-role/mlops-cicd/run-7f3a9c`, `arn:aws:iam::${ACCOUNT}:role/mlops-cicd`]);
    expect(write.details).toMatchObject({ source_identity: 'alice@corp.example' });
    const approved = [register('2026-11-02T11:00:00Z', session('AmazonSageMaker-ExecutionRole', 'SageMaker', { invokedBy: 'sagemaker.amazonaws.com' })), approve('2026-11-02T12:00:00Z', BOB)];
    const release = deploy('2026-11-03T10:00:00Z', session('mlops-deploy', 'run-8b4d1e', { sourceIdentity: 'alice@corp.example' }), 'e1');
    const fired = alerts([write, ...approved, ...release], SOD, 'access.separation_of_duties');
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ entity: { id: 'alice@corp.example' }, details: { identity: 'alice@corp.example', data_write: { event: write.id }, release: { event: release.at(-1)!.id } } });
    // Another person behind the deploy role's session: no finding, whatever the sessions are called.
    const bob = deploy('2026-11-03T10:00:00Z', session('mlops-deploy', 'run-8b4d1e', { sourceIdentity: 'bob' }), 'e2');
    expect(alerts([write, ...approved, ...bob], SOD, 'access.separation_of_duties')).toEqual([]);
    expect(alerts([write, ...approved, ...bob], SOD, 'registry.unapproved_deployment')).toEqual([]);
  });
});

describe('IAM Identity Center users behind a machine-named role session', () => {
  // SageMaker Studio in an Identity Center domain: every user's calls are the execution role's session `SageMaker`,
  // each made for its Identity Center user (onBehalfOf).
  const studio = (user: string) => session('AmazonSageMaker-ExecutionRole', 'SageMaker', { onBehalfOf: user });
  const ALICE = '544894e8-80c1-707f-60e3-3ba6510dfac1';
  const CAROL = '94d00cd8-e9e6-4810-b177-b08e84775435';

  it('is the identity, `<identityStoreArn>/<userId>`: two users of one Studio role are two people; an alias names one', () => {
    const write = put('2026-11-02T10:00:00Z', studio(ALICE), 'churn/poison.csv');
    expect(write.actor!.chain).toEqual([`${IDENTITY_STORE}/${ALICE}`, `arn:aws:sts::${ACCOUNT}:assumed-role/AmazonSageMaker-ExecutionRole/SageMaker`, `arn:aws:iam::${ACCOUNT}:role/AmazonSageMaker-ExecutionRole`]);
    const cfg = RulesConfig.parse({});
    expect(identityOf(write.actor, cfg)).toBe(`${IDENTITY_STORE}/${ALICE}`);
    expect(identityOf(write.actor, RulesConfig.parse({ identities: { aliases: { 'alice@corp.example': [`${IDENTITY_STORE}/${ALICE}`] } } }))).toBe('alice@corp.example');
    const approved = [register('2026-11-02T11:00:00Z', session('AmazonSageMaker-ExecutionRole', 'SageMaker', { invokedBy: 'sagemaker.amazonaws.com' })), approve('2026-11-02T12:00:00Z', BOB)];
    // The same user deploying (from Studio): a finding naming that user, not `role:…/sagemaker`.
    const release = deploy('2026-11-03T10:00:00Z', studio(ALICE), 'f1');
    const fired = alerts([write, ...approved, ...release], SOD, 'access.separation_of_duties');
    expect(fired.map((a) => a.details.identity)).toEqual([`${IDENTITY_STORE}/${ALICE}`]);
    // Another user of the same role and session name: not one person who wrote the data and deployed.
    expect(alerts([write, ...approved, ...deploy('2026-11-03T10:00:00Z', studio(CAROL), 'f2')], SOD, 'access.separation_of_duties')).toEqual([]);
  });

  it('a session named for a person keeps its name, a source identity comes first; a session without onBehalfOf is the role\'s as before', () => {
    const cfg = RulesConfig.parse({});
    expect(identityOf(put('2026-11-02T10:00:00Z', session('MLEngineer', 'alice@corp.example', { onBehalfOf: ALICE }), 'a.csv').actor, cfg)).toBe('alice@corp.example');
    expect(identityOf(put('2026-11-02T10:00:00Z', session('mlops-cicd', 'SageMaker', { sourceIdentity: 'bob', onBehalfOf: ALICE }), 'b.csv').actor, cfg)).toBe('bob');
    expect(identityOf(put('2026-11-02T10:00:00Z', session('AmazonSageMaker-ExecutionRole', 'SageMaker'), 'c.csv').actor, cfg)).toBe('role:amazonsagemaker-executionrole/sagemaker');
  });
});

describe('GitOps on Kubernetes: Argo CD applying an InferenceService', () => {
  const argocd = 'system:serviceaccount:argocd:argocd-application-controller';
  const isvc = (user: Record<string, unknown>, over: Record<string, unknown> = {}) => {
    const out = kubeflowConnector.normalize!(auditEvent({
      level: 'Request', verb: 'create', requestURI: '/apis/serving.kserve.io/v1beta1/namespaces/ml-prod/inferenceservices?fieldManager=argocd-controller',
      user, userAgent: 'argocd-application-controller/v2.13.0 (linux/amd64) kubernetes/abc',
      objectRef: { resource: 'inferenceservices', namespace: 'ml-prod', name: 'churn', apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1' },
      responseStatus: { metadata: {}, code: 201 },
      requestObject: { spec: { predictor: { model: { modelFormat: { name: 'xgboost' }, storageUri: 's3://ml-models/churn/v3' } } } },
      ...over,
    }), ctx());
    expect(out.rejected).toEqual([]);
    return out.events[0]!;
  };
  const cfg = RulesConfig.parse({});

  it('the controller is a service, named with its namespace; its token id and pod are kept', () => {
    const ev = isvc({ username: argocd, groups: ['system:serviceaccounts', 'system:serviceaccounts:argocd'], extra: { 'authentication.kubernetes.io/credential-id': ['JTI=8f0c2b7e-1111-4222-8333-444455556666'], 'authentication.kubernetes.io/pod-name': ['argocd-application-controller-0'] } });
    expect(ev.action).toBe('endpoint.create');
    expect(ev.actor).toMatchObject({ id: argocd, type: 'service' });
    expect(ev.details).toMatchObject({ actor_credential_id: 'JTI=8f0c2b7e-1111-4222-8333-444455556666', actor_pod: 'argocd-application-controller-0', service_account_namespace: 'argocd' });
    expect(identityOf(ev.actor, cfg)).toBe(argocd);
    // An account of the same name in another namespace (one anybody with a namespace can make) is someone else.
    const other = isvc({ username: 'system:serviceaccount:team-x:argocd-application-controller', groups: ['system:serviceaccounts'] });
    expect(identityOf(other.actor, cfg)).toBe('system:serviceaccount:team-x:argocd-application-controller');
  });

  it('a person impersonating the deployer account is the identity; the controller impersonating one stays the controller', () => {
    const human = isvc({ username: 'alice@corp.example', groups: ['system:authenticated'] }, { impersonatedUser: { username: 'system:serviceaccount:ml-prod:deployer' } });
    expect(human.actor!.chain).toEqual(['alice@corp.example', 'system:serviceaccount:ml-prod:deployer']);
    expect(identityOf(human.actor, cfg)).toBe('alice@corp.example');
    const sync = isvc({ username: argocd, groups: ['system:serviceaccounts'] }, { impersonatedUser: { username: 'system:serviceaccount:ml-prod:argocd-deployer' } });
    expect(identityOf(sync.actor, cfg)).toBe(argocd);
  });
});
