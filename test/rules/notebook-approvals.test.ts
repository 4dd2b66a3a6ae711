import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig, createRuleEngine } from '../../core/rules/engine.js';
import { MemoryStateStore } from '../../core/state/index.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * evaluation.self_approval: a SageMaker model package approved (UpdateModelPackage `ModelApprovalStatus: Approved`) in
 * a notebook's execution role — a notebook instance's `RoleArn`, a Studio domain's or user profile's execution role, a
 * role named as SageMaker's Studio execution role — is nobody's review: any notebook cell run as the role could approve.
 * A CI approval role, and a pipeline step registering Approved for the role (invokedBy), stay quiet. Records as
 * CloudTrail logs them (lower camel case request fields; an assumed-role session's userIdentity).
 */
const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const IMAGE = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1';
const RULE = 'evaluation.self_approval';
let n = 0;
function session(role: string, name: string, invokedBy?: string) {
  return {
    userIdentity: {
      type: 'AssumedRole', principalId: `AROAEXAMPLE${role.length}:${name}`, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${name}`, accountId: ACCOUNT, accessKeyId: `ASIA${++n}EXAMPLE`,
      sessionContext: { sessionIssuer: { type: 'Role', principalId: `AROAEXAMPLE${role.length}`, arn: `arn:aws:iam::${ACCOUNT}:role/${role}`, accountId: ACCOUNT, userName: role }, attributes: { creationDate: '2026-11-02T00:00:00Z', mfaAuthenticated: 'false' } },
      ...(invokedBy ? { invokedBy } : {}),
    },
    sourceIPAddress: invokedBy ?? '10.0.3.17', userAgent: invokedBy ?? 'Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#5.10 lang/python#3.10.14',
  };
}
const PKG = (v: number) => `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/churn/${v}`;
function call(eventName: string, time: string, who: object, params: Record<string, unknown>, response: Record<string, unknown> | null = null): NormalizedEvent {
  return normOne(ctRecord(eventName, params, { ...who, eventTime: time, awsRegion: REGION, recipientAccountId: ACCOUNT, eventID: `nb-${++n}`, responseElements: response }));
}
const CI = session('ModelApprovalCI', 'GitHubActions');
const register = (time: string, v = 3) => call('CreateModelPackage', time, session('MLPipeline', 'botocore-session-1762000000'), { modelPackageGroupName: 'churn', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl: `s3://ml-models/churn/v${v}/model.tar.gz` }] } }, { modelPackageArn: PKG(v) });
const approve = (time: string, who: object, v = 3) => call('UpdateModelPackage', time, who, { modelPackageArn: PKG(v), modelApprovalStatus: 'Approved', approvalDescription: 'looks good' }, { modelPackageArn: PKG(v) });
const notebook = (time: string, role: string) => call('CreateNotebookInstance', time, session('Admin', 'ops@corp.example'), { notebookInstanceName: 'ds-alice', instanceType: 'ml.t3.medium', roleArn: `arn:aws:iam::${ACCOUNT}:role/${role}` }, { notebookInstanceArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:notebook-instance/ds-alice` });
const alerts = (events: NormalizedEvent[], rules: Record<string, unknown> = {}): Alert[] => replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);
/** An AssumeRole of the approver role (the connector keeps those of roles it is told are SageMaker's: role_arns), and a session of it with that key. */
const assume = (time: string, who: object, key: string) =>
  normOne(
    ctRecord('AssumeRole', { roleArn: `arn:aws:iam::${ACCOUNT}:role/ModelApprover`, roleSessionName: 'approve' }, { ...who, eventSource: 'sts.amazonaws.com', eventTime: time, awsRegion: REGION, recipientAccountId: ACCOUNT, eventID: `nb-${++n}`, responseElements: { assumedRoleUser: { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ModelApprover/approve`, assumedRoleId: 'AROAAPPROVER:approve' }, credentials: { accessKeyId: key, expiration: 'Nov 3, 2026, 11:00:00 AM', sessionToken: 'x' } } }),
    { role_arns: [`arn:aws:iam::${ACCOUNT}:role/ModelApprover`] },
  );
const asApprover = (key: string) => {
  const s = session('ModelApprover', 'approve');
  return { ...s, userIdentity: { ...s.userIdentity, accessKeyId: key } };
};

describe('evaluation.self_approval: a model package approved from a notebook execution role', () => {
  it("a notebook instance's role approving alerts, naming the role and why it is a notebook's", () => {
    const ok = approve('2026-11-03T10:00:00Z', session('DataSciNotebook', 'SageMaker'));
    const a = alerts([register('2026-11-03T09:00:00Z'), notebook('2026-11-01T09:00:00Z', 'DataSciNotebook'), ok]);
    expect(a.map((x) => [x.evidence, x.entity.id, x.details.roles, x.details.approver_role, x.details.notebook_role])).toEqual([
      [[ok.id], `${ACCOUNT}:${REGION}:churn/3`, ['notebook'], `arn:aws:iam::${ACCOUNT}:role/DataSciNotebook`, 'notebook instance ds-alice'],
    ]);
    expect(a[0]!.title).toContain('approved from a notebook execution role');
  });

  it("SageMaker's Studio execution role (by its name, no notebook seen) and a notebook_roles entry alert too", () => {
    expect(alerts([register('2026-11-03T09:00:00Z'), approve('2026-11-03T10:00:00Z', session('AmazonSageMaker-ExecutionRole-20260301T000000', 'SageMaker'))]).map((x) => x.details.notebook_role)).toEqual(["named as SageMaker's Studio execution role"]);
    expect(alerts([register('2026-11-03T09:00:00Z'), approve('2026-11-03T10:00:00Z', session('ds-workbench', 'alice'))], { [RULE]: { notebook_roles: ['ds-*'] } }).map((x) => x.details.notebook_role)).toEqual(['listed in notebook_roles']);
  });

  it('a CI approval role, a pipeline step registering Approved for the Studio role (invokedBy), notebook_approvals: false, or an exempt identity stay quiet', () => {
    expect(alerts([register('2026-11-03T09:00:00Z'), notebook('2026-11-01T09:00:00Z', 'DataSciNotebook'), approve('2026-11-03T10:00:00Z', CI)])).toEqual([]);
    const byPipeline = call('CreateModelPackage', '2026-11-03T10:00:00Z', session('AmazonSageMaker-ExecutionRole-20260301T000000', 'SageMaker', 'sagemaker.amazonaws.com'), { modelPackageGroupName: 'churn', modelApprovalStatus: 'Approved', inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl: 's3://ml-models/churn/v4/model.tar.gz' }] } }, { modelPackageArn: PKG(4) });
    expect(alerts([byPipeline])).toEqual([]);
    const nbApprove = [register('2026-11-03T09:00:00Z'), notebook('2026-11-01T09:00:00Z', 'DataSciNotebook'), approve('2026-11-03T10:00:00Z', session('DataSciNotebook', 'SageMaker'))];
    expect(alerts(nbApprove, { [RULE]: { notebook_approvals: false } })).toEqual([]);
    expect(alerts(nbApprove, { [RULE]: { exempt: ['role:datascinotebook/*'] } })).toEqual([]);
  });
});

/**
 * verify28b: Studio's Model Registry UI approves as the user profile's execution role (session `SageMaker`). When the
 * domain propagates source identity (ExecutionRoleIdentityConfig USER_PROFILE_NAME) CloudTrail's
 * `sessionContext.sourceIdentity` names the profile, and an Identity Center domain's record names its user
 * (`onBehalfOf`): the approval is a named person's, so it stays quiet (the trained/evaluated check still judges that
 * person). A notebook role's session assuming an approver role and approving there is still the notebook's.
 */
describe('evaluation.self_approval (notebook): accountable Studio approvals and role chaining', () => {
  const STUDIO = 'AmazonSageMaker-ExecutionRole-20260301T000000';
  const withSourceIdentity = (s: ReturnType<typeof session>, si: string) => ({ ...s, userIdentity: { ...s.userIdentity, sessionContext: { ...s.userIdentity.sessionContext, sourceIdentity: si } } });

  it("a Studio UI approval whose session carries the user profile's source identity, or an Identity Center user, stays quiet; without either it alerts", () => {
    expect(alerts([register('2026-11-03T09:00:00Z'), approve('2026-11-03T10:00:00Z', withSourceIdentity(session(STUDIO, 'SageMaker'), 'mlops-approver'))])).toEqual([]);
    const idc = session(STUDIO, 'SageMaker');
    const onBehalf = { ...idc, userIdentity: { ...idc.userIdentity, onBehalfOf: { userId: 'u-1234', identityStoreArn: 'arn:aws:identitystore::111122223333:identitystore/d-1234567890' } } };
    expect(alerts([register('2026-11-03T09:00:00Z'), approve('2026-11-03T10:00:00Z', onBehalf)])).toEqual([]);
    expect(alerts([register('2026-11-03T09:00:00Z'), approve('2026-11-03T10:00:00Z', session(STUDIO, 'SageMaker'))])).toHaveLength(1);
  });

  it('a notebook role session assuming an approver role and approving as it alerts, naming the chain; a CI role assuming it does not', () => {
    const fromNotebook = [notebook('2026-11-01T09:00:00Z', 'DataSciNotebook'), register('2026-11-03T09:00:00Z'), assume('2026-11-03T09:59:00Z', session('DataSciNotebook', 'SageMaker'), 'ASIACHAIN1'), approve('2026-11-03T10:00:00Z', asApprover('ASIACHAIN1'))];
    expect(alerts(fromNotebook).map((x) => [x.details.approver_role, x.details.notebook_role])).toEqual([[`arn:aws:iam::${ACCOUNT}:role/ModelApprover`, 'assumed from notebook role datascinotebook (notebook instance ds-alice)']]);
    const fromCi = [notebook('2026-11-01T09:00:00Z', 'DataSciNotebook'), register('2026-11-03T09:00:00Z'), assume('2026-11-03T09:59:00Z', CI, 'ASIACHAIN2'), approve('2026-11-03T10:00:00Z', asApprover('ASIACHAIN2'))];
    expect(alerts(fromCi)).toEqual([]);
  });
});

/**
 * leftaws2: a dedicated approver Studio profile (its own role, no other profile's, no domain default, no notebook
 * instance's; the role never seen making a job, Model or version) approving without source identity is that profile's
 * user's review: quiet. Its role seen training, the profile deleted, or the role shared, and it alerts as before. An
 * AssumeRole read after the approval it made possible still ties the approval to the notebook role that assumed.
 */
describe('evaluation.self_approval (notebook): approver-only Studio profiles and late AssumeRole records', () => {
  const DOMAIN = 'd-abc123def456';
  const APPROVER_ROLE = 'AmazonSageMaker-ExecutionRole-approver';
  const ADMIN = session('Admin', 'ops@corp.example');
  const arn = (r: string) => `arn:aws:iam::${ACCOUNT}:role/${r}`;
  const domain = (time: string) => call('CreateDomain', time, ADMIN, { domainName: 'ds', authMode: 'IAM', defaultUserSettings: { executionRole: arn('AmazonSageMaker-ExecutionRole-default') }, subnetIds: ['subnet-1'], vpcId: 'vpc-1' }, { domainArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:domain/${DOMAIN}` });
  const profile = (time: string, name: string, r: string) => call('CreateUserProfile', time, ADMIN, { domainId: DOMAIN, userProfileName: name, userSettings: { executionRole: arn(r) } }, { userProfileArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:user-profile/${DOMAIN}/${name}` });
  const train = (time: string, who: object) => call('CreateTrainingJob', time, who, { trainingJobName: 'churn-xgb-1', roleArn: arn('MLPipeline'), algorithmSpecification: { trainingImage: IMAGE, trainingInputMode: 'File' }, inputDataConfig: [{ channelName: 'train', dataSource: { s3DataSource: { s3DataType: 'S3Prefix', s3Uri: 's3://ml-data/churn/train/' } } }], outputDataConfig: { s3OutputPath: 's3://ml-models/churn/' }, resourceConfig: { instanceType: 'ml.m5.xlarge', instanceCount: 1, volumeSizeInGB: 10 }, stoppingCondition: { maxRuntimeInSeconds: 3600 } }, { trainingJobArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:training-job/churn-xgb-1` });
  const studioApproval = (time: string) => approve(time, session(APPROVER_ROLE, 'SageMaker'));
  const setup = [domain('2026-11-01T08:00:00Z'), profile('2026-11-01T08:10:00Z', 'approver', APPROVER_ROLE), register('2026-11-03T09:00:00Z')];

  it("an approver-only profile's role approving is quiet; seen training, it alerts", () => {
    expect(alerts([...setup, studioApproval('2026-11-03T10:00:00Z')])).toEqual([]);
    // Listed in notebook_roles, it is a notebook's whatever was seen of it.
    expect(alerts([...setup, studioApproval('2026-11-03T10:00:00Z')], { [RULE]: { notebook_roles: ['AmazonSageMaker-ExecutionRole-approver'] } }).map((x) => x.details.notebook_role)).toEqual(['Studio user profile approver']);
    const trained = alerts([...setup, train('2026-11-02T09:00:00Z', session(APPROVER_ROLE, 'SageMaker')), studioApproval('2026-11-03T10:00:00Z')]);
    // The notebook finding, beside the trained one (the same role session trained the version's producer).
    expect(trained.filter((x) => (x.details.roles as string[]).includes('notebook')).map((x) => [x.details.approver_role, x.details.notebook_role])).toEqual([[arn(APPROVER_ROLE), 'Studio user profile approver']]);
  });

  it('shared with another profile, or with a notebook instance, or the profile deleted: the role is no one profile\'s and alerts', () => {
    expect(alerts([...setup, profile('2026-11-01T08:20:00Z', 'bob', APPROVER_ROLE), studioApproval('2026-11-03T10:00:00Z')])).toHaveLength(1);
    expect(alerts([...setup, notebook('2026-11-01T08:30:00Z', APPROVER_ROLE), studioApproval('2026-11-03T10:00:00Z')])).toHaveLength(1);
    const deleted = call('DeleteUserProfile', '2026-11-02T08:00:00Z', ADMIN, { domainId: DOMAIN, userProfileName: 'approver' });
    expect(alerts([...setup, deleted, studioApproval('2026-11-03T10:00:00Z')])).toHaveLength(1);
    // Its domain never seen: a default of it may be the role.
    expect(alerts([profile('2026-11-01T08:10:00Z', 'approver', APPROVER_ROLE), register('2026-11-03T09:00:00Z'), studioApproval('2026-11-03T10:00:00Z')])).toHaveLength(1);
  });


  /** The alerts of `events` processed in the order given (arrival order), each received an hour after it happened. */
  const arriving = (events: NormalizedEvent[]): Alert[] => {
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    return events.flatMap((e) => engine.process(e, Date.parse(e.time) + 3_600_000)).filter((a) => a.rule_id === RULE);
  };

  it("an AssumeRole from a notebook role read after the approval it made possible (STS records in a later file) alerts as the chain; a CI role's does not", () => {
    const late = [notebook('2026-11-01T09:00:00Z', 'DataSciNotebook'), register('2026-11-03T09:00:00Z'), approve('2026-11-03T10:00:00Z', asApprover('ASIALATE1')), assume('2026-11-03T09:59:00Z', session('DataSciNotebook', 'SageMaker'), 'ASIALATE1')];
    const a = arriving(late);
    expect(a.map((x) => [x.details.approver_role, x.details.notebook_role, x.time])).toEqual([[`arn:aws:iam::${ACCOUNT}:role/ModelApprover`, 'assumed from notebook role datascinotebook (notebook instance ds-alice)', '2026-11-03T10:00:00.000Z']]);
    expect(arriving([notebook('2026-11-01T09:00:00Z', 'DataSciNotebook'), register('2026-11-03T09:00:00Z'), approve('2026-11-03T10:00:00Z', asApprover('ASIALATE2')), assume('2026-11-03T09:59:00Z', CI, 'ASIALATE2')])).toEqual([]);
    // More than a day after the approval: not tied to it.
    expect(arriving([notebook('2026-11-01T09:00:00Z', 'DataSciNotebook'), register('2026-11-03T09:00:00Z'), approve('2026-11-03T10:00:00Z', asApprover('ASIALATE3')), assume('2026-11-04T10:30:00Z', session('DataSciNotebook', 'SageMaker'), 'ASIALATE3')])).toEqual([]);
  });

  it('a self-approval judged in a role session whose AssumeRole was not seen says the chain is unknown; with it seen, it does not', () => {
    const records = (withAssume: boolean) => [
      train('2026-11-02T09:00:00Z', asApprover('ASIAKNOWN1')),
      ...(withAssume ? [assume('2026-11-02T08:59:00Z', CI, 'ASIAKNOWN1')] : []),
      register('2026-11-03T09:00:00Z'),
      approve('2026-11-03T10:00:00Z', asApprover('ASIAKNOWN1')),
    ];
    const unknown = alerts(records(false)).filter((x) => x.title.includes('own trainer'));
    expect(unknown.map((x) => x.details.role_chain_unknown)).toEqual([true]);
    const known = alerts(records(true)).filter((x) => x.title.includes('own trainer'));
    expect(known.map((x) => x.details.role_chain_unknown)).toEqual([undefined]);
    // A session naming its person (a source identity) has no unknown chain.
    const named = (key: string) => {
      const s = asApprover(key);
      return { ...s, userIdentity: { ...s.userIdentity, sessionContext: { ...s.userIdentity.sessionContext, sourceIdentity: 'carol' } } };
    };
    const bySourceIdentity = alerts([train('2026-11-02T09:00:00Z', named('ASIAKNOWN2')), register('2026-11-03T09:00:00Z'), approve('2026-11-03T10:00:00Z', named('ASIAKNOWN2'))]).filter((x) => x.title.includes('own trainer'));
    expect(bySourceIdentity.map((x) => [x.details.identity, x.details.role_chain_unknown])).toEqual([['carol', undefined]]);
  });
});
