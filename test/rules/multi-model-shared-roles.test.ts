import { describe, expect, it } from 'vitest';
import { CT_ACCOUNT, cloudTrailRecord } from '../core/rules/cloudtrail.js';
import { DEPLOYER, mmeModel, type Obj, PREFIX, put, role, writeAlerts } from './multi-model-records.js';

/**
 * With `mme_writers` empty, the role that created a multi-model Model is trusted to write under its prefix. A role
 * people share (an Identity Center permission-set role, a Studio execution role, a console or email-named session) is
 * every user of it: there only the creating person is trusted. CloudTrail userIdentity shapes as AWS logs them
 * (IAM user guide, "CloudTrail userIdentity element"; SSO roles under `aws-reserved/sso.amazonaws.com/`; Studio's
 * `SageMaker` session with the user profile as `sourceIdentity` when the domain sets ExecutionRoleIdentityConfig).
 */
const SSO_ROLE = 'AWSReservedSSO_DataScientist_0123456789abcdef';
function sso(session: string): Obj {
  const who = role(SSO_ROLE, session);
  who.sessionContext.sessionIssuer.arn = `arn:aws:iam::${CT_ACCOUNT}:role/aws-reserved/sso.amazonaws.com/${SSO_ROLE}`;
  return who;
}
const STUDIO_ROLE = 'AmazonSageMaker-ExecutionRole-20260301T000000';
function studio(profile?: string): Obj {
  const who = role(STUDIO_ROLE, 'SageMaker');
  if (profile) who.sessionContext.sourceIdentity = profile;
  return who;
}
const by = (record: Obj, who: Obj): Obj => ({ ...record, userIdentity: who });
const T0 = '2026-03-02T01:00:00Z';
const T1 = '2026-03-02T02:00:00Z';

describe('multi_model_write: the creating role is trusted only as far as it is one principal', () => {
  it('an Identity Center permission-set role: another user of it alerts (creator_role_shared); the creating user does not', () => {
    const model = by(mmeModel(T0), sso('alice@corp.example'));
    const alerts = writeAlerts([model, put(T1, `${PREFIX}alice.tar.gz`, sso('alice@corp.example')), put(T1, `${PREFIX}evil.tar.gz`, sso('mallory@corp.example'))]);
    expect(alerts.map((a) => [a.details.object, a.details.writer, a.details.model_created_by, a.details.creator_role_shared])).toEqual([
      [`${PREFIX}evil.tar.gz`, 'mallory@corp.example', 'alice@corp.example', true],
    ]);
    expect(alerts[0]!.summary).toContain('which people share: only its creator is trusted');
  });

  it('a Studio execution role: user profiles are told apart by their source identity; without one nobody is trusted by default', () => {
    const model = by(mmeModel(T0), studio('alice'));
    const alerts = writeAlerts([model, put(T1, `${PREFIX}a.tar.gz`, studio('alice')), put(T1, `${PREFIX}b.tar.gz`, studio('bob'))]);
    expect(alerts.map((a) => [a.details.object, a.details.writer])).toEqual([[`${PREFIX}b.tar.gz`, 'bob']]);
    // A domain without source identities: every user is the role's `SageMaker` session, the creator included.
    const anonymous = writeAlerts([by(mmeModel(T0), studio()), put(T1, `${PREFIX}c.tar.gz`, studio())]);
    expect(anonymous.map((a) => [a.details.object, a.details.creator_role_shared])).toEqual([[`${PREFIX}c.tar.gz`, true]]);
    // mme_writers still names whom to trust.
    expect(writeAlerts([by(mmeModel(T0), studio()), put(T1, `${PREFIX}c.tar.gz`, studio())], { 'registry.unapproved_deployment': { mme_writers: [`arn:aws:sts::${CT_ACCOUNT}:assumed-role/${STUDIO_ROLE}/*`] } })).toEqual([]);
  });

  it("a Studio role that one user profile alone has (its domain's defaults seen naming another) is that profile's: its `SageMaker` sessions are trusted; shared, a domain default, or its domain unseen, nobody is", () => {
    // CreateDomain / CreateUserProfile / UpdateUserProfile as CloudTrail logs them (lower camel case; CreateDomain's
    // response carries the domain ARN).
    const ADMIN = role('Admin', 'ops@corp.example');
    const roleArn = (name: string) => `arn:aws:iam::${CT_ACCOUNT}:role/${name}`;
    const domain = (defaultRole: string, t = '2026-03-01T00:00:00Z') => by(cloudTrailRecord('CreateDomain', t, { domainName: 'ds', authMode: 'IAM', defaultUserSettings: { executionRole: roleArn(defaultRole) }, subnetIds: ['subnet-1'], vpcId: 'vpc-1' }, { resp: { domainArn: `arn:aws:sagemaker:us-east-1:${CT_ACCOUNT}:domain/d-abc123def456`, url: 'https://d-abc123def456.studio.us-east-1.sagemaker.aws' } }), ADMIN);
    const profile = (name: string, execRole: string, op = 'CreateUserProfile', t = '2026-03-01T00:10:00Z') => by(cloudTrailRecord(op, t, { domainId: 'd-abc123def456', userProfileName: name, userSettings: { executionRole: roleArn(execRole) } }, { resp: op === 'CreateUserProfile' ? { userProfileArn: `arn:aws:sagemaker:us-east-1:${CT_ACCOUNT}:user-profile/d-abc123def456/${name}` } : {} }), ADMIN);
    const ALICE_ROLE = 'AmazonSageMaker-ExecutionRole-alice';
    const alice = (): Obj => role(ALICE_ROLE, 'SageMaker');
    const model = by(mmeModel(T0), alice());
    const write = put(T1, `${PREFIX}a.tar.gz`, alice());
    expect(writeAlerts([domain(STUDIO_ROLE), profile('alice', ALICE_ROLE), profile('bob', STUDIO_ROLE), model, write])).toEqual([]);
    // Bob given alice's role too: the role is two people's, nobody is trusted.
    const shared = writeAlerts([domain(STUDIO_ROLE), profile('alice', ALICE_ROLE), model, profile('bob', ALICE_ROLE, 'UpdateUserProfile', '2026-03-02T01:30:00Z'), write]);
    expect(shared.map((a) => [a.details.object, a.details.creator_role_shared])).toEqual([[`${PREFIX}a.tar.gz`, true]]);
    // The domain's default role (every user and space of it), or a domain whose defaults were never seen.
    expect(writeAlerts([domain(ALICE_ROLE), profile('alice', ALICE_ROLE), model, write]).map((a) => a.details.object)).toEqual([`${PREFIX}a.tar.gz`]);
    expect(writeAlerts([profile('alice', ALICE_ROLE), model, write]).map((a) => a.details.object)).toEqual([`${PREFIX}a.tar.gz`]);
    // Another session of the role than Studio's (someone assuming it by hand) is not the profile's apps.
    expect(writeAlerts([domain(STUDIO_ROLE), profile('alice', ALICE_ROLE), model, put(T1, `${PREFIX}b.tar.gz`, role(ALICE_ROLE, 'botocore-session-1772412345'))]).map((a) => a.details.object)).toEqual([`${PREFIX}b.tar.gz`]);
  });

  it('a generic role whose creating session is a person (an email as session name) trusts that person only', () => {
    const model = by(mmeModel(T0), role('DataSci', 'alice@corp.example'));
    const alerts = writeAlerts([model, put(T1, `${PREFIX}a.tar.gz`, role('DataSci', 'alice@corp.example')), put(T1, `${PREFIX}b.tar.gz`, role('DataSci', 'bob@corp.example'))]);
    expect(alerts.map((a) => a.details.object)).toEqual([`${PREFIX}b.tar.gz`]);
  });

  it('a console session of a role is a person too: another console user of the role alerts', () => {
    const console = (session: string): Obj => ({ ...role('Admin', session), sessionContext: { ...role('Admin', session).sessionContext, attributes: { creationDate: '2026-03-02T00:00:00Z', mfaAuthenticated: 'true' } } });
    const alerts = writeAlerts([by(mmeModel(T0), console('alice')), put(T1, `${PREFIX}a.tar.gz`, console('alice')), put(T1, `${PREFIX}b.tar.gz`, console('bob'))]);
    expect(alerts.map((a) => a.details.object)).toEqual([`${PREFIX}b.tar.gz`]);
  });

  it('a deploy pipeline role (tool-made session names) stays trusted across its sessions: no false alarm re-writing its own prefix', () => {
    const records = [mmeModel(T0), put(T1, `${PREFIX}v8.tar.gz`, role('MLDeployer', 'botocore-session-1772412345')), put(T1, `${PREFIX}v9.tar.gz`, role('MLDeployer', 'GitHubActions')), put(T1, `${PREFIX}v10.tar.gz`, DEPLOYER)];
    expect(writeAlerts(records)).toEqual([]);
    // And its writes are never creator_role_shared.
    expect(writeAlerts([...records, put(T1, `${PREFIX}x.tar.gz`, role('Other', 'ci-1'))]).map((a) => a.details.creator_role_shared)).toEqual([undefined]);
  });
});

/** verify27b: a CI/CD deploy role whose session names are build ids, also through CloudFormation (invokedBy). */
describe('multi_model_write: CI/CD build-id sessions (verify27b)', () => {
  it('a CI/CD role creating the Model in one build (through CloudFormation) and writing its prefix in later builds raises nothing', () => {
    const build = (id: string): Obj => role('CodeBuildDeployRole', `AWSCodeBuild-${id}`);
    const model = { ...by(mmeModel(T0), build('0f5c7c1e-7c55-4d4e-9b7e-2f0c3f6d1a11')), userIdentity: { ...build('0f5c7c1e-7c55-4d4e-9b7e-2f0c3f6d1a11'), invokedBy: 'cloudformation.amazonaws.com' } };
    const records = [model, put(T1, `${PREFIX}v2.tar.gz`, build('6a1f2e3d-0b9c-4a8e-8d7f-1c2b3a4d5e6f')), put(T1, `${PREFIX}v3.tar.gz`, role('CodeBuildDeployRole', '1234567890'))];
    expect(writeAlerts(records)).toEqual([]);
    // Another role writing there still alerts.
    expect(writeAlerts([...records, put(T1, `${PREFIX}x.tar.gz`, role('DataSci', 'mallory@corp.example'))]).map((a) => a.details.object)).toEqual([`${PREFIX}x.tar.gz`]);
  });
});
