import { describe, expect, it } from 'vitest';
import { CT_ACCOUNT, cloudTrailRecord } from '../core/rules/cloudtrail.js';
import { mmeModel, type Obj, PREFIX, put, role, writeAlerts } from './multi-model-records.js';

/**
 * The Studio role a user profile alone has is that profile's (multi_model_write trusts its `SageMaker` sessions on the
 * prefix of a Model it created) only while it is: a DeleteUserProfile / DeleteDomain takes it back, a notebook instance
 * running as the role shares it (its sessions are `SageMaker` sessions too), and a domain whose older default roles
 * were dropped from memory cannot show the role is no default. Records as CloudTrail logs them (SageMaker API
 * reference: DeleteUserProfile `DomainId`, `UserProfileName`; DeleteDomain `DomainId`, `RetentionPolicy`;
 * CreateNotebookInstance `RoleArn`; lower camel case in `requestParameters`).
 */
const ADMIN = role('Admin', 'ops@corp.example');
const DOMAIN = 'd-abc123def456';
const roleArn = (name: string) => `arn:aws:iam::${CT_ACCOUNT}:role/${name}`;
const by = (record: Obj, who: Obj): Obj => ({ ...record, userIdentity: who });
const STUDIO_ROLE = 'AmazonSageMaker-ExecutionRole-20260301T000000';
const ALICE_ROLE = 'AmazonSageMaker-ExecutionRole-alice';
const domain = (defaultRole: string, t = '2026-03-01T00:00:00Z', op = 'CreateDomain') =>
  by(cloudTrailRecord(op, t, op === 'CreateDomain' ? { domainName: 'ds', authMode: 'IAM', defaultUserSettings: { executionRole: roleArn(defaultRole) }, subnetIds: ['subnet-1'], vpcId: 'vpc-1' } : { domainId: DOMAIN, defaultUserSettings: { executionRole: roleArn(defaultRole) } }, { resp: op === 'CreateDomain' ? { domainArn: `arn:aws:sagemaker:us-east-1:${CT_ACCOUNT}:domain/${DOMAIN}` } : { domainArn: `arn:aws:sagemaker:us-east-1:${CT_ACCOUNT}:domain/${DOMAIN}` } }), ADMIN);
const profile = (name: string, execRole: string, t = '2026-03-01T00:10:00Z') =>
  by(cloudTrailRecord('CreateUserProfile', t, { domainId: DOMAIN, userProfileName: name, userSettings: { executionRole: roleArn(execRole) } }, { resp: { userProfileArn: `arn:aws:sagemaker:us-east-1:${CT_ACCOUNT}:user-profile/${DOMAIN}/${name}` } }), ADMIN);
const deleteProfile = (name: string, t: string) => by(cloudTrailRecord('DeleteUserProfile', t, { domainId: DOMAIN, userProfileName: name }), ADMIN);
const deleteDomain = (t: string) => by(cloudTrailRecord('DeleteDomain', t, { domainId: DOMAIN, retentionPolicy: { homeEfsFileSystem: 'Delete' } }), ADMIN);
const notebook = (name: string, execRole: string, t: string, op = 'CreateNotebookInstance') =>
  by(cloudTrailRecord(op, t, op === 'DeleteNotebookInstance' ? { notebookInstanceName: name } : { notebookInstanceName: name, instanceType: 'ml.t3.medium', roleArn: roleArn(execRole) }, { resp: op === 'CreateNotebookInstance' ? { notebookInstanceArn: `arn:aws:sagemaker:us-east-1:${CT_ACCOUNT}:notebook-instance/${name}` } : {} }), ADMIN);
const alice = (): Obj => role(ALICE_ROLE, 'SageMaker');
const T0 = '2026-03-02T01:00:00Z';
const T1 = '2026-03-02T02:00:00Z';
const model = () => by(mmeModel(T0), alice());
const write = (t = T1) => put(t, `${PREFIX}a.tar.gz`, alice());
const seen = (alerts: ReturnType<typeof writeAlerts>) => alerts.map((a) => [a.details.object, a.details.studio_role_owner_unknown]);

describe('multi_model_write: a Studio profile role is its own only while the profile lives and no notebook instance runs as it', () => {
  it('baseline: the profile alone has the role, its writes pass', () => {
    expect(writeAlerts([domain(STUDIO_ROLE), profile('alice', ALICE_ROLE), model(), write()])).toEqual([]);
  });

  it('DeleteUserProfile: the role is no longer the profile\'s; a write after it alerts (profile_deleted), one before it does not', () => {
    expect(seen(writeAlerts([domain(STUDIO_ROLE), profile('alice', ALICE_ROLE), model(), deleteProfile('alice', '2026-03-02T01:30:00Z'), write()]))).toEqual([[`${PREFIX}a.tar.gz`, 'profile_deleted']]);
    expect(writeAlerts([domain(STUDIO_ROLE), profile('alice', ALICE_ROLE), model(), write(), deleteProfile('alice', '2026-03-02T03:00:00Z')])).toEqual([]);
    // A failed delete (the profile still has apps: ResourceInUse) takes nothing back.
    const failed = { ...deleteProfile('alice', '2026-03-02T01:30:00Z'), errorCode: 'ResourceInUse', errorMessage: 'User profile has running apps' };
    expect(writeAlerts([domain(STUDIO_ROLE), profile('alice', ALICE_ROLE), model(), failed, write()])).toEqual([]);
  });

  it('a profile deleted and made again under the same name with the same role is a new profile: the old Model\'s prefix is not its', () => {
    const records = [domain(STUDIO_ROLE), profile('alice', ALICE_ROLE), model(), deleteProfile('alice', '2026-03-02T01:20:00Z'), profile('alice', ALICE_ROLE, '2026-03-02T01:40:00Z'), write()];
    expect(seen(writeAlerts(records))).toEqual([[`${PREFIX}a.tar.gz`, 'profile_deleted']]);
    // A Model the new profile creates is its own again.
    const later = by(mmeModel('2026-03-02T01:50:00Z', 'mme-new', 's3://models/mme/new/'), alice());
    expect(writeAlerts([domain(STUDIO_ROLE), profile('alice', ALICE_ROLE), deleteProfile('alice', '2026-03-02T01:20:00Z'), profile('alice', ALICE_ROLE, '2026-03-02T01:40:00Z'), later, put(T1, 's3://models/mme/new/a.tar.gz', alice())])).toEqual([]);
  });

  it('DeleteDomain forgets the domain\'s profiles and defaults', () => {
    expect(seen(writeAlerts([domain(STUDIO_ROLE), profile('alice', ALICE_ROLE), model(), deleteDomain('2026-03-02T01:30:00Z'), write()]))).toEqual([[`${PREFIX}a.tar.gz`, 'profile_deleted']]);
  });

  it('a notebook instance running as the profile\'s role shares it (its sessions are SageMaker sessions too); deleted, the role is the profile\'s again', () => {
    expect(seen(writeAlerts([domain(STUDIO_ROLE), profile('alice', ALICE_ROLE), notebook('nb-shared', ALICE_ROLE, '2026-03-01T00:20:00Z'), model(), write()]))).toEqual([[`${PREFIX}a.tar.gz`, 'notebook_instance']]);
    // Given the role after the Model: the writes from then on are judged.
    expect(seen(writeAlerts([domain(STUDIO_ROLE), profile('alice', ALICE_ROLE), model(), notebook('nb-shared', ALICE_ROLE, '2026-03-02T01:30:00Z'), write()]))).toEqual([[`${PREFIX}a.tar.gz`, 'notebook_instance']]);
    expect(seen(writeAlerts([domain(STUDIO_ROLE), profile('alice', ALICE_ROLE), notebook('nb-shared', 'OtherRole', '2026-03-01T00:20:00Z'), notebook('nb-shared', ALICE_ROLE, '2026-03-01T00:30:00Z', 'UpdateNotebookInstance'), model(), write()]))).toEqual([[`${PREFIX}a.tar.gz`, 'notebook_instance']]);
    expect(writeAlerts([domain(STUDIO_ROLE), profile('alice', ALICE_ROLE), notebook('nb-shared', ALICE_ROLE, '2026-03-01T00:20:00Z'), notebook('nb-shared', ALICE_ROLE, '2026-03-01T00:30:00Z', 'DeleteNotebookInstance'), model(), write()])).toEqual([]);
    // A notebook instance with another role changes nothing.
    expect(writeAlerts([domain(STUDIO_ROLE), profile('alice', ALICE_ROLE), notebook('nb-other', 'OtherRole', '2026-03-01T00:20:00Z'), model(), write()])).toEqual([]);
  });

  it('a domain that set more default roles than are kept: no role of it is a profile\'s own (domain_defaults_evicted); ten are kept', () => {
    const updates = (count: number) => Array.from({ length: count }, (_, i) => domain(`DefaultRole${i}`, `2026-03-01T00:0${Math.floor(i / 6)}:${String((i % 6) * 10).padStart(2, '0')}Z`, 'UpdateDomain'));
    // CreateDomain's default plus nine updates: ten roles, none dropped.
    expect(writeAlerts([domain(STUDIO_ROLE), ...updates(9), profile('alice', ALICE_ROLE), model(), write()])).toEqual([]);
    expect(seen(writeAlerts([domain(STUDIO_ROLE), ...updates(10), profile('alice', ALICE_ROLE), model(), write()]))).toEqual([[`${PREFIX}a.tar.gz`, 'domain_defaults_evicted']]);
  });

  it('the reason is named when the creator\'s role was no profile\'s own from the start (domain unseen)', () => {
    expect(seen(writeAlerts([profile('alice', ALICE_ROLE), model(), write()]))).toEqual([[`${PREFIX}a.tar.gz`, 'domain_unseen']]);
  });
});
