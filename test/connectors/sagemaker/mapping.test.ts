import { describe, expect, it } from 'vitest';
import { ctRecord, fx, normOne } from './helpers.js';

/**
 * How CloudTrail records map onto the fields the rules and the SOC read: actor type, account,
 * resource ids, image pinning, isolation, model versions. Each case is a fact a regression in
 * connectors/sagemaker/{cloudtrail,facts}.ts would silently change.
 */

const one = normOne;

const ACCOUNT = '111122223333';

describe('actor type of assumed-role sessions', () => {
  it("an assumed-role session a service invoked (userIdentity.invokedBy) is the person's when MFA is on it; a service's own session is a service", () => {
    // A service assumes its roles without MFA: an MFA session is one a person made, which the service called with
    // (CloudFormation without a stack role, forward access): the person is the actor, invoked_by says the service.
    const r = ctRecord('CreateTrainingJob', { trainingJobName: 'j' });
    (r.userIdentity as Record<string, unknown>).invokedBy = 'sagemaker.amazonaws.com';
    const ev = one(r);
    expect(ev.actor?.type).toBe('user');
    expect(ev.details?.invoked_by).toBe('sagemaker.amazonaws.com');
    const own = ctRecord('CreateTrainingJob', { trainingJobName: 'j' });
    const ui = own.userIdentity as Record<string, any>;
    ui.invokedBy = 'sagemaker.amazonaws.com';
    ui.sessionContext.attributes.mfaAuthenticated = 'false';
    expect(one(own).actor?.type).toBe('service');
    // The same session without invokedBy is the MFA user it was.
    expect(one(ctRecord('CreateTrainingJob', { trainingJobName: 'j' })).actor?.type).toBe('user');
  });

  it('a role session named by an EC2 instance id (instance profile) is a service, not a person', () => {
    const r = ctRecord('CreateModel', { modelName: 'm' });
    const ui = r.userIdentity as Record<string, unknown>;
    ui.principalId = 'AROAEXAMPLE:i-0abc123def4567890';
    ui.arn = `arn:aws:sts::${ACCOUNT}:assumed-role/MLEngineer/i-0abc123def4567890`;
    const ev = one(r);
    expect(ev.actor).toMatchObject({ type: 'service', name: 'MLEngineer/i-0abc123def4567890' });
  });
});

describe('delegation chain of a role session', () => {
  it('names the session and then the role it was issued by; an IAM user has none', () => {
    const ev = one(ctRecord('DeleteModel', { modelName: 'fraud' }));
    expect(ev.actor?.chain).toEqual([`arn:aws:sts::${ACCOUNT}:assumed-role/MLEngineer/alice`, `arn:aws:iam::${ACCOUNT}:role/MLEngineer`]);
    expect(one(fx('cloudtrail-sagemaker-createendpoint.awsdocs.json')).actor?.chain).toBeUndefined();
  });
});

describe('cloud account of a cross-account call', () => {
  it('is the account the call was made in (recipientAccountId), the caller account kept apart', () => {
    const r = ctRecord('DeleteModel', { modelName: 'fraud' }, { recipientAccountId: '444455556666' });
    const ev = one(r);
    expect(ev.cloud).toEqual({ provider: 'aws', account: '444455556666', region: 'us-east-1' });
    expect(ev.details).toMatchObject({ caller_account: ACCOUNT, cross_account: true });
    // The ARN built for the resource lives in the recipient account too.
    expect(ev.resource?.id).toBe('arn:aws:sagemaker:us-east-1:444455556666:model/fraud');
    // A same-account call is not flagged.
    expect(one(ctRecord('DeleteModel', { modelName: 'fraud' })).details?.cross_account).toBeUndefined();
  });
});

describe('resource ids in other AWS partitions', () => {
  it('a GovCloud / China caller gets a resource ARN in its own partition', () => {
    const r = ctRecord('DeleteEndpoint', { endpointName: 'Fraud-Prod' }, { awsRegion: 'us-gov-west-1' });
    (r.userIdentity as Record<string, unknown>).arn = `arn:aws-us-gov:sts::${ACCOUNT}:assumed-role/MLEngineer/alice`;
    expect(one(r).resource?.id).toBe(`arn:aws-us-gov:sagemaker:us-gov-west-1:${ACCOUNT}:endpoint/fraud-prod`);
    const cn = ctRecord('DeleteEndpoint', { endpointName: 'e' }, { awsRegion: 'cn-north-1' });
    (cn.userIdentity as Record<string, unknown>).arn = `arn:aws-cn:sts::${ACCOUNT}:assumed-role/MLEngineer/alice`;
    expect(one(cn).resource?.id).toBe(`arn:aws-cn:sagemaker:cn-north-1:${ACCOUNT}:endpoint/e`);
  });
});

describe('ids come from eventID', () => {
  it('a record re-delivered with an addendum (same eventID, more fields) keeps its id; another eventID is another event', () => {
    const first = ctRecord('DeleteModel', { modelName: 'fraud' }, { eventID: 'a1b2c3d4-0000-4000-8000-000000000001' });
    const again = { ...first, addendum: { reason: 'DELIVERY_DELAY', updatedFields: '', originalRequestID: 'x', originalEventID: 'a1b2c3d4-0000-4000-8000-000000000001' } };
    const a = one(first);
    const b = one(again);
    expect(b.details?.addendum_reason).toBe('DELIVERY_DELAY');
    expect(b.id).toBe(a.id);
    expect(one({ ...first, eventID: 'a1b2c3d4-0000-4000-8000-000000000002' }).id).not.toBe(a.id);
  });
});

describe('S3 bucket lists', () => {
  it('a bucket listed as an s3:// URI matches its records', () => {
    const put = ctRecord('PutObject', { bucketName: 'train-data', key: 'a/b.csv' }, { eventSource: 's3.amazonaws.com', eventCategory: 'Data' });
    expect(one(put, { training_buckets: ['s3://train-data'] }).stage).toBe('ingestion');
    expect(one(put, { model_buckets: ['s3://train-data'] }).stage).toBe('registry');
  });
});

describe('IAM changes of SageMaker roles', () => {
  const iam = (eventName: string, params: Record<string, unknown>) => ctRecord(eventName, params, { eventSource: 'iam.amazonaws.com' });

  it('attaching or putting a policy on a SageMaker role is a permission change; reading it is not', () => {
    const attach = one(iam('AttachRolePolicy', { roleName: 'SageMakerExecution', policyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    expect([attach.stage, attach.action]).toEqual(['platform', 'permission.change']);
    expect(attach.details?.policy_arn).toBe('arn:aws:iam::aws:policy/AdministratorAccess');
    expect(one(iam('PutRolePolicy', { roleName: 'SageMakerExecution', policyName: 'inline' })).action).toBe('permission.change');
    expect(one(iam('GetRolePolicy', { roleName: 'SageMakerExecution', policyName: 'inline' })).action).toBe('role.read');
    expect(one(iam('CreateRole', { roleName: 'SageMakerExecution' })).action).toBe('role.create');
  });
});

describe('ECR images', () => {
  it('a pushed image is named by registry, region, repository and the pushed digest', () => {
    const ev = one(fx('cloudtrail-ecr-putimage.panther.json'));
    const digest = 'sha256:98c8b060c21d9adbb6b8c41b916e95e6307102786973ab93a41e8b86d1fc6d3e';
    expect(ev.ml?.job).toMatchObject({ image: `123456789012.dkr.ecr.us-east-2.amazonaws.com/testrepo@${digest}`, image_digest: digest });
  });
});

describe('model registry versions and container images', () => {
  it('a model package version of two or more digits is read whole from its ARN', () => {
    const arn = `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/fraud/12`;
    const ev = one(ctRecord('UpdateModelPackage', { modelPackageArn: arn, modelApprovalStatus: 'Approved' }));
    expect(ev.action).toBe('model_version.approve');
    expect(ev.ml?.model).toMatchObject({ name: 'fraud', version: '12', approval: 'approved' });
    expect(ev.resource).toMatchObject({ type: 'model_package', name: 'fraud', version: '12' });
  });

  it('a model whose containers are pinned by digest only in part is not pinned', () => {
    const ECR = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`;
    const pinned = `${ECR}/pre@sha256:${'a'.repeat(64)}`;
    const mixed = one(ctRecord('CreateModel', { modelName: 'm', containers: [{ image: pinned }, { image: `${ECR}/serve:latest` }], executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/SageMakerExec` }));
    expect(mixed.ml?.model).toMatchObject({ image: pinned, images: [pinned, `${ECR}/serve:latest`], image_pinned: false });
    const both = one(ctRecord('CreateModel', { modelName: 'm', containers: [{ image: pinned }, { image: `${ECR}/serve@sha256:${'b'.repeat(64)}` }] }));
    expect(both.ml?.model?.image_pinned).toBe(true);
  });

  it('a training job whose image is a tag but whose request names the resolved digest keeps the digest', () => {
    const digest = `sha256:${'c'.repeat(64)}`;
    const ev = one(ctRecord('CreateTrainingJob', { trainingJobName: 'j', algorithmSpecification: { trainingImage: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/t:v1` }, trainingImageDigest: digest }));
    expect(ev.ml?.job).toMatchObject({ image_digest: digest, image_pinned: false });
  });
});

describe('network isolation of processing and monitoring jobs (networkConfig)', () => {
  it('networkConfig.enableNetworkIsolation is the job isolation, true or false', () => {
    const job = (isolated: boolean) =>
      one(ctRecord('CreateProcessingJob', { processingJobName: 'p', appSpecification: { imageUri: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/p:1` }, roleArn: `arn:aws:iam::${ACCOUNT}:role/SageMakerExec`, networkConfig: { enableNetworkIsolation: isolated, enableInterContainerTrafficEncryption: true } }));
    expect(job(true).ml?.job).toMatchObject({ type: 'processing', network_isolation: true, inter_container_encryption: true });
    expect(job(false).ml?.job?.network_isolation).toBe(false);
  });
});

describe('shadow variants', () => {
  it('every shadow variant is marked shadow (the first one too), the production ones are not', () => {
    const ev = one(ctRecord('CreateEndpointConfig', {
      endpointConfigName: 'cfg',
      productionVariants: [{ variantName: 'prod', modelName: 'm-prod', initialVariantWeight: 1 }],
      shadowProductionVariants: [{ variantName: 'shadow-a', modelName: 'm-a', initialVariantWeight: 1 }, { variantName: 'shadow-b', modelName: 'm-b' }],
    }));
    const variants = ev.ml?.deployment?.variants as Array<{ name: string; shadow?: boolean; model?: string }>;
    expect(variants.map((v) => [v.name, v.shadow ?? false, v.model])).toEqual([
      ['prod', false, 'm-prod'],
      ['shadow-a', true, 'm-a'],
      ['shadow-b', true, 'm-b'],
    ]);
  });
});

describe('SageMaker service events (EventBridge aws.sagemaker)', () => {
  const ENDPOINT = 'eventbridge-sagemaker-endpoint-state-change.awsdocs.json';
  const PACKAGE = 'eventbridge-sagemaker-model-package-state-change.awsdocs.json';

  it('carry the account and region of the envelope, and the endpoint\'s variants (the AWS docs example)', () => {
    const ev = one(fx(ENDPOINT));
    expect(ev.cloud).toEqual({ provider: 'aws', account: '123456789012', region: 'us-west-2' });
    expect(ev.ml?.deployment).toMatchObject({ endpoint: 'MyEndpoint', endpoint_config: 'MyEndpointConfig', status: 'IN_SERVICE', variants: [{ weight: 1, instance_count: 1 }] });
  });

  it('an event without a status is of unknown outcome', () => {
    const env = fx<Record<string, any>>(ENDPOINT);
    delete env.detail.EndpointStatus;
    expect(one(env).outcome).toBe('unknown');
    expect(one(fx(ENDPOINT)).outcome).toBe('success');
  });

  it('a model package named only by group and ModelPackageVersion keeps its version', () => {
    const env = fx<Record<string, any>>(PACKAGE);
    delete env.detail.ModelPackageArn;
    env.resources = [];
    const ev = one(env);
    expect(ev.resource).toMatchObject({ type: 'model_package', name: 'versionedmp-p-idy6c3e1fiqj', version: '2' });
  });

  it('two events under one envelope id, detail-type and time but for different resources are two events', () => {
    const a = fx<Record<string, any>>(ENDPOINT);
    const b = fx<Record<string, any>>(ENDPOINT);
    b.resources = ['arn:aws:sagemaker:us-west-2:123456789012:endpoint/other'];
    b.detail.EndpointName = 'Other';
    b.detail.EndpointArn = 'arn:aws:sagemaker:us-west-2:123456789012:endpoint/other';
    expect(one(b).id).not.toBe(one(a).id);
    expect(one(fx(ENDPOINT)).id).toBe(one(a).id);
  });
});

describe('operations whose meaning is more than their verb', () => {
  it('deleting a package group\'s resource policy is a permission change, as putting one is', () => {
    const del = one(ctRecord('DeleteModelPackageGroupPolicy', { modelPackageGroupName: 'fraud' }));
    expect([del.stage, del.action]).toEqual(['registry', 'permission.change']);
    expect(one(ctRecord('PutModelPackageGroupPolicy', { modelPackageGroupName: 'fraud', resourcePolicy: '{}' })).action).toBe('permission.change');
  });

  it('a presigned MLflow tracking server URL opens it (notebook.open), like a Studio or notebook URL', () => {
    const ev = one(ctRecord('CreatePresignedMlflowTrackingServerUrl', { trackingServerName: 'mlflow-prod', expiresInSeconds: 300 }));
    expect([ev.stage, ev.action]).toEqual(['platform', 'notebook.open']);
    expect(ev.resource).toMatchObject({ type: 'mlflow_tracking_server', name: 'mlflow-prod' });
  });

  it('async invocations of an endpoint are invocations', () => {
    const ev = one(ctRecord('InvokeEndpointAsync', { endpointName: 'fraud-prod', inputLocation: 's3://in/x.json' }, { eventSource: 'runtime.sagemaker.amazonaws.com' }));
    expect([ev.stage, ev.action]).toEqual(['serving', 'endpoint.invoke']);
  });

  it('sending a version back to PendingManualApproval is a status change with approval pending, not an approval', () => {
    const ev = one(ctRecord('UpdateModelPackage', { modelPackageArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/fraud/7`, modelApprovalStatus: 'PendingManualApproval' }));
    expect(ev.action).toBe('model_version.status_change');
    expect(ev.ml?.model).toMatchObject({ name: 'fraud', version: '7', approval: 'pending' });
  });
});
