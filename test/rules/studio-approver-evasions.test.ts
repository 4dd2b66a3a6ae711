import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * verify29c: evaluation.self_approval's approver-only Studio profiles (leftaws2) tried as an attacker would. A Studio
 * role's `SageMaker` session names no person, so the person-level check cannot tie a trainer to an approval made in a
 * fresh profile's role; what can is who made the profile. Records as CloudTrail logs them (see notebook-approvals.test).
 */
const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const DOMAIN = 'd-abc123def456';
const IMAGE = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1';
const RULE = 'evaluation.self_approval';
let n = 0;
const arn = (r: string) => `arn:aws:iam::${ACCOUNT}:role/${r}`;
function session(role: string, name: string) {
  return {
    userIdentity: {
      type: 'AssumedRole', principalId: `AROAEXAMPLE${role.length}:${name}`, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${name}`, accountId: ACCOUNT, accessKeyId: `ASIA${++n}EXAMPLE`,
      sessionContext: { sessionIssuer: { type: 'Role', principalId: `AROAEXAMPLE${role.length}`, arn: arn(role), accountId: ACCOUNT, userName: role }, attributes: { creationDate: '2026-11-02T00:00:00Z', mfaAuthenticated: 'false' } },
    },
    sourceIPAddress: '10.0.3.17', userAgent: 'Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#5.10 lang/python#3.10.14',
  };
}
function call(eventName: string, time: string, who: object, params: Record<string, unknown>, response: Record<string, unknown> | null = null): NormalizedEvent {
  return normOne(ctRecord(eventName, params, { ...who, eventTime: time, awsRegion: REGION, recipientAccountId: ACCOUNT, eventID: `ev-${++n}`, responseElements: response }));
}
const PKG = `arn:aws:sagemaker:${REGION}:${ACCOUNT}:model-package/churn/3`;
const ADMIN = session('Admin', 'ops@corp.example');
const ALICE = session('MLEngineer', 'alice@corp.example');
const APPROVER_ROLE = 'AmazonSageMaker-ExecutionRole-approver';
const domain = (time: string) => call('CreateDomain', time, ADMIN, { domainName: 'ds', authMode: 'IAM', defaultUserSettings: { executionRole: arn('AmazonSageMaker-ExecutionRole-default') }, subnetIds: ['subnet-1'], vpcId: 'vpc-1' }, { domainArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:domain/${DOMAIN}` });
const profile = (time: string, who: object, name: string, role: string, op = 'CreateUserProfile') => call(op, time, who, { domainId: DOMAIN, userProfileName: name, userSettings: { executionRole: arn(role) } }, { userProfileArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:user-profile/${DOMAIN}/${name}` });
const train = (time: string, who: object) => call('CreateTrainingJob', time, who, { trainingJobName: 'churn-xgb-1', roleArn: arn('MLPipeline'), algorithmSpecification: { trainingImage: IMAGE, trainingInputMode: 'File' }, inputDataConfig: [{ channelName: 'train', dataSource: { s3DataSource: { s3DataType: 'S3Prefix', s3Uri: 's3://ml-data/churn/train/' } } }], outputDataConfig: { s3OutputPath: 's3://ml-models/churn/' }, resourceConfig: { instanceType: 'ml.m5.xlarge', instanceCount: 1, volumeSizeInGB: 10 }, stoppingCondition: { maxRuntimeInSeconds: 3600 } }, { trainingJobArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:training-job/churn-xgb-1` });
const register = (time: string) => call('CreateModelPackage', time, session('MLPipeline', 'botocore-session-1762000000'), { modelPackageGroupName: 'churn', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl: 's3://ml-models/churn/v3/model.tar.gz' }] } }, { modelPackageArn: PKG });
const approveAs = (time: string, role: string) => call('UpdateModelPackage', time, session(role, 'SageMaker'), { modelPackageArn: PKG, modelApprovalStatus: 'Approved', approvalDescription: 'looks good' }, { modelPackageArn: PKG });
const alerts = (events: NormalizedEvent[]): Alert[] => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === RULE);

describe('evaluation.self_approval: approver-only Studio profiles against evasion', () => {
  it('a trainer who makes a fresh Studio profile (its own, never-training role) and approves from it alerts, naming who made the profile', () => {
    const FRESH = 'AmazonSageMaker-ExecutionRole-alice-review';
    const a = alerts([domain('2026-11-01T08:00:00Z'), train('2026-11-02T09:00:00Z', ALICE), register('2026-11-03T09:00:00Z'), profile('2026-11-03T09:30:00Z', ALICE, 'alice-review', FRESH), approveAs('2026-11-03T10:00:00Z', FRESH)]);
    expect(a.map((x) => [x.details.approver_role, x.details.notebook_role])).toEqual([[arn(FRESH), 'Studio user profile alice-review, made by alice@corp.example, who trained the version']]);
    // The same profile made by an administrator who did not train it: a dedicated approver's, quiet as before.
    expect(alerts([domain('2026-11-01T08:00:00Z'), train('2026-11-02T09:00:00Z', ALICE), register('2026-11-03T09:00:00Z'), profile('2026-11-03T09:30:00Z', ADMIN, 'alice-review', FRESH), approveAs('2026-11-03T10:00:00Z', FRESH)])).toEqual([]);
  });

  it("the trainer giving the approver profile's role a new owner by UpdateUserProfile is judged by who set it", () => {
    const setup = [domain('2026-11-01T08:00:00Z'), profile('2026-11-01T08:10:00Z', ADMIN, 'approver', APPROVER_ROLE), train('2026-11-02T09:00:00Z', ALICE), register('2026-11-03T09:00:00Z')];
    expect(alerts([...setup, approveAs('2026-11-03T10:00:00Z', APPROVER_ROLE)])).toEqual([]);
    // Alice re-points the approver profile at a fresh role of hers (UpdateUserProfile userSettings.executionRole).
    const FRESH = 'AmazonSageMaker-ExecutionRole-fresh';
    expect(alerts([...setup, profile('2026-11-03T09:30:00Z', ALICE, 'approver', FRESH, 'UpdateUserProfile'), approveAs('2026-11-03T10:00:00Z', FRESH)])).toHaveLength(1);
    // Her own profile given the approver's role: two profiles have it, no one's own.
    expect(alerts([...setup, profile('2026-11-01T08:20:00Z', ADMIN, 'alice', 'AmazonSageMaker-ExecutionRole-alice'), profile('2026-11-03T09:30:00Z', ALICE, 'alice', APPROVER_ROLE, 'UpdateUserProfile'), approveAs('2026-11-03T10:00:00Z', APPROVER_ROLE)])).toHaveLength(1);
  });

  it('deleting and re-making the profile does not wash a role seen training: the role, not the profile, is judged', () => {
    const trainedAsRole = [domain('2026-11-01T08:00:00Z'), profile('2026-11-01T08:10:00Z', ADMIN, 'approver', APPROVER_ROLE), train('2026-11-02T09:00:00Z', session(APPROVER_ROLE, 'SageMaker')), register('2026-11-03T09:00:00Z')];
    const remade = [call('DeleteUserProfile', '2026-11-03T09:10:00Z', ADMIN, { domainId: DOMAIN, userProfileName: 'approver' }), profile('2026-11-03T09:20:00Z', ADMIN, 'approver', APPROVER_ROLE)];
    const a = alerts([...trainedAsRole, ...remade, approveAs('2026-11-03T10:00:00Z', APPROVER_ROLE)]);
    expect(a.filter((x) => (x.details.roles as string[]).includes('notebook')).map((x) => x.details.notebook_role)).toEqual(['Studio user profile approver']);
  });

  it("no false alarm from the approver's Studio apps: CreateApp under the profile teaches nothing against it", () => {
    const app = call('CreateApp', '2026-11-03T09:40:00Z', session(APPROVER_ROLE, 'SageMaker'), { domainId: DOMAIN, userProfileName: 'approver', appType: 'JupyterLab', appName: 'default', resourceSpec: { instanceType: 'ml.t3.medium' } }, { appArn: `arn:aws:sagemaker:${REGION}:${ACCOUNT}:app/${DOMAIN}/approver/jupyterlab/default` });
    expect(alerts([domain('2026-11-01T08:00:00Z'), profile('2026-11-01T08:10:00Z', ADMIN, 'approver', APPROVER_ROLE), train('2026-11-02T09:00:00Z', ALICE), register('2026-11-03T09:00:00Z'), app, approveAs('2026-11-03T10:00:00Z', APPROVER_ROLE)])).toEqual([]);
  });
});
