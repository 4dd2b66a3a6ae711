import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, fx, norm as smNorm } from '../connectors/sagemaker/helpers.js';
import { LOC, PROJECT, V1, auditEntry, normOne as vxOne, normOneConfigured } from '../connectors/vertex/samples.js';
import { readFixtureJson } from '../helpers/fixtures.js';

/**
 * platform.artifact_exported / platform.artifact_shared end to end: native records of each platform (shapes
 * of the shared fixtures) through the connector, then the rules, with and without the destination allowed.
 */

const SM = { training_buckets: ['ransomware-test-victim-1764604156', 'train-data'], model_buckets: ['models'] };

function sm(record: unknown): NormalizedEvent {
  const out = smNorm(record, SM);
  expect(out.rejected).toEqual([]);
  expect(out.events).toHaveLength(1);
  return out.events[0]!;
}

function alerts(events: NormalizedEvent[], rules: Record<string, unknown> = {}): Alert[] {
  return replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id.startsWith('platform.artifact_'));
}

const s3 = (eventName: string, params: Record<string, unknown>, extra: Record<string, unknown> = {}) => ctRecord(eventName, params, { eventSource: 's3.amazonaws.com', eventCategory: 'Data', managementEvent: false, ...extra });

describe('SageMaker (CloudTrail): copies out of model/training buckets, foreign reads, cross-account grants', () => {
  it('a CopyObject out of a training bucket to another bucket (fixture) alerts; allowed by destination, it does not', () => {
    const ev = sm(fx('cloudtrail-s3-copyobject-external-account.panther.json'));
    const [a, ...rest] = alerts([ev]);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({
      rule_id: 'platform.artifact_exported', severity: 'medium', stage: 'platform', evidence: [ev.id],
      entity: { type: 'dataset', id: 's3://ransomware-test-victim-1764604156/' },
      details: { exported: 'dataset', source_object: 's3://ransomware-test-victim-1764604156/customer-database.csv', destination: 's3://attacker-exfil-1764604156/customer-database.csv' },
    });
    expect(alerts([ev], { 'platform.artifact_exported': { allowed_destinations: ['s3://attacker-exfil-1764604156/*'] } })).toEqual([]);
    // A glob for a neighbouring bucket name does not allow it.
    expect(alerts([ev], { 'platform.artifact_exported': { allowed_destinations: ['s3://attacker-exfil/*'] } })).toHaveLength(1);
  });

  it('a bulk copy of a folder (one CloudTrail record per object) is one finding, judged by folder: one alert, not one per file', () => {
    const copies = Array.from({ length: 50 }, (_, i) =>
      sm(s3('CopyObject', { bucketName: 'partner-drop', key: `dump/part-${i}.parquet`, 'x-amz-copy-source': `models/fraud/v5/shard-${i}.bin` }, { eventID: `copy-${i}`, eventTime: `2026-11-20T10:00:${String(i).padStart(2, '0')}Z` })),
    );
    const fired = alerts(copies);
    expect(fired.map((a) => [a.entity.id, a.details.destination])).toEqual([['s3://models/fraud/v5/', 's3://partner-drop/dump/part-0.parquet']]);
    // Another destination folder is another finding.
    const elsewhere = sm(s3('CopyObject', { bucketName: 'other-drop', key: 'x.bin', 'x-amz-copy-source': 'models/fraud/v5/shard-0.bin' }, { eventID: 'copy-x', eventTime: '2026-11-20T10:01:00Z' }));
    expect(alerts([...copies, elsewhere])).toHaveLength(2);
  });

  it('a copy of a model artifact to a bucket of another account is allowed by that account; copies inside the listed buckets are no export', () => {
    const out = s3('CopyObject', { bucketName: 'partner-drop', key: 'fraud.tar.gz', 'x-amz-copy-source': 'models/fraud/v5/model.tar.gz' }, {
      resources: [{ type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::partner-drop/fraud.tar.gz' }, { accountId: '444455556666', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::partner-drop' }],
    });
    const ev = sm(out);
    expect(alerts([ev])[0]).toMatchObject({ entity: { type: 'model', id: 's3://models/fraud/v5/' }, details: { source_object: 's3://models/fraud/v5/model.tar.gz', destination_account: '444455556666' } });
    expect(alerts([ev], { 'platform.artifact_exported': { allowed_accounts: ['444455556666'] } })).toEqual([]);
    const inside = sm(s3('CopyObject', { bucketName: 'train-data', key: 'x.csv', 'x-amz-copy-source': 'models/x.csv' }));
    expect(alerts([inside])).toEqual([]);
  });

  it('a GetObject of a model artifact by another account (or anonymously) alerts; the owner\'s own read does not', () => {
    const read = (accountId: string, type = 'AssumedRole') =>
      s3('GetObject', { bucketName: 'models', key: 'fraud/v5/model.tar.gz' }, {
        eventID: `get-${accountId}`,
        userIdentity: { type, principalId: 'AROAX:session', arn: `arn:aws:sts::${accountId}:assumed-role/Reader/session`, accountId },
        resources: [{ type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::models/fraud/v5/model.tar.gz' }, { accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::models' }],
      });
    const foreign = sm(read('999988887777'));
    expect(alerts([foreign])[0]).toMatchObject({ rule_id: 'platform.artifact_exported', details: { destination_account: '999988887777' }, summary: expect.stringContaining('account 999988887777') });
    expect(alerts([foreign], { 'platform.artifact_exported': { allowed_accounts: ['9999*'] } })).toEqual([]);
    expect(alerts([sm(read('anonymous', 'AWSAccount'))])[0]?.details).toMatchObject({ destination_account: 'anonymous' });
    expect(alerts([sm(read('111122223333'))])).toEqual([]);
  });

  it('a bulk read of a model folder by another account (one GetObject record per object) is one finding for the folder, the object in details.source_object', () => {
    const reads = Array.from({ length: 20 }, (_, i) =>
      sm(s3('GetObject', { bucketName: 'models', key: `fraud/v5/shard-${i}.bin` }, {
        eventID: `bulk-get-${i}`, eventTime: `2026-11-20T10:00:${String(i).padStart(2, '0')}Z`,
        userIdentity: { type: 'AssumedRole', principalId: 'AROAX:exfil', arn: 'arn:aws:sts::999988887777:assumed-role/Reader/exfil', accountId: '999988887777' },
        resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::models/fraud/v5/shard-${i}.bin` }, { accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::models' }],
      })),
    );
    const fired = alerts(reads);
    expect(fired.map((a) => [a.entity.id, a.details.source_object, a.details.destination_account])).toEqual([['s3://models/fraud/v5/', 's3://models/fraud/v5/shard-0.bin', '999988887777']]);
  });

  it('PutModelPackageGroupPolicy granting another account is a high alert; the own account or an allowed one is not', () => {
    const policy = (principal: unknown) =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Share', Effect: 'Allow', Principal: principal, Action: ['sagemaker:DescribeModelPackage', 'sagemaker:CreateModel'], Resource: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/*' }] });
    const put = (principal: unknown, id: string) => sm(ctRecord('PutModelPackageGroupPolicy', { modelPackageGroupName: 'fraud', resourcePolicy: policy(principal) }, { eventID: id }));
    const shared = put({ AWS: 'arn:aws:iam::444455556666:root' }, 'p1');
    expect(shared.details).toMatchObject({ share_of: 'model', grantees: ['arn:aws:iam::444455556666:root'] });
    expect(alerts([shared])[0]).toMatchObject({ rule_id: 'platform.artifact_shared', severity: 'high', details: { grantees: ['arn:aws:iam::444455556666:root'] } });
    expect(alerts([shared], { 'platform.artifact_shared': { allowed_accounts: ['444455556666'] } })).toEqual([]);
    expect(alerts([put({ AWS: ['arn:aws:iam::111122223333:role/Deployer'] }, 'p2')])).toEqual([]);
    // Everyone in the organization: the organization is the grantee, and can be allowed.
    const org = sm(ctRecord('PutModelPackageGroupPolicy', {
      modelPackageGroupName: 'fraud',
      resourcePolicy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sagemaker:DescribeModelPackage', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123' } } }] }),
    }, { eventID: 'p3' }));
    expect(org.details?.grantees).toEqual(['o-abc123']);
    expect(alerts([org], { 'platform.artifact_shared': { allowed_accounts: ['o-abc123'] } })).toEqual([]);
  });

  it('a bucket policy or ACL opening a model bucket to everyone alerts; an unlisted bucket is not a model store', () => {
    const bucketPolicy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::models/*' }] };
    const pol = sm(s3('PutBucketPolicy', { bucketName: 'models', bucketPolicy, policy: [''] }, { eventID: 'bp1', managementEvent: true, eventCategory: 'Management' }));
    expect(alerts([pol])[0]).toMatchObject({ rule_id: 'platform.artifact_shared', details: { grantees: ['*'], public: true }, title: expect.stringContaining('Model store opened to everyone') });
    const acl = sm(s3('PutBucketAcl', {
      bucketName: 'train-data', acl: [''],
      AccessControlPolicy: { AccessControlList: { Grant: [{ Grantee: { 'xsi:type': 'CanonicalUser', ID: 'owner1' }, Permission: 'FULL_CONTROL' }, { Grantee: { 'xsi:type': 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' }, Permission: 'READ' }] }, Owner: { ID: 'owner1' } },
    }, { eventID: 'acl1', managementEvent: true }));
    expect(acl.details).toMatchObject({ share_of: 'dataset', grantees: ['*'] });
    expect(alerts([acl])).toHaveLength(1);
    const other = smNorm(s3('PutBucketPolicy', { bucketName: 'scratch', bucketPolicy }, { eventID: 'bp2' }), { ...SM, s3_unlisted_buckets: 'normalize' }).events;
    expect(alerts(other)).toEqual([]);
  });
});

describe('SageMaker (CloudTrail): reads and copies through an S3 access point', () => {
  const AP = 'arn:aws:s3:us-east-1:111122223333:accesspoint/partner-ap';
  /** resources[] of a request through an access point: the object and bucket behind it, and the access point. */
  const throughAp = (bucket: string, key: string) => [
    { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` },
    { accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` },
    { accountId: '111122223333', type: 'AWS::S3::AccessPoint', ARN: AP },
  ];
  const foreignReader = { type: 'AssumedRole', principalId: 'AROAX:exfil', arn: 'arn:aws:sts::999988887777:assumed-role/Reader/exfil', accountId: '999988887777' };

  it('a GetObject of a model bucket by another account through an access point (ARN or alias as the bucket name) is an export to that account', () => {
    for (const [i, name] of [AP, 'partner-ap-hxgz3m5qrzr8b1yrlbgfgmf2use1a-s3alias'].entries()) {
      const ev = sm(s3('GetObject', { bucketName: name, key: 'fraud/v5/model.tar.gz', Host: 'partner-ap-111122223333.s3-accesspoint.us-east-1.amazonaws.com' }, { eventID: `ap-get-${i}`, userIdentity: foreignReader, resources: throughAp('models', 'fraud/v5/model.tar.gz') }));
      expect(ev).toMatchObject({ stage: 'registry', resource: { uri: 's3://models/fraud/v5/model.tar.gz' }, details: { bucket: 'models', access_point: name, export_of: 'model', destination_account: '999988887777' } });
      expect(alerts([ev])[0]).toMatchObject({ rule_id: 'platform.artifact_exported', entity: { type: 'model' }, details: { destination_account: '999988887777' } });
    }
  });

  it('a CopyObject whose source is an access point object ARN out of a training bucket is an export; into a listed bucket it is none', () => {
    const copy = (bucketName: string, id: string) => s3('CopyObject', { bucketName, key: 'dump/users.csv', 'x-amz-copy-source': encodeURIComponent(`${AP}/object/users/2026/users.csv`) }, {
      eventID: id,
      resources: [
        { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucketName}/dump/users.csv` }, { accountId: '444455556666', type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucketName}` },
        ...throughAp('train-data', 'users/2026/users.csv'),
      ],
    });
    const out = sm(copy('partner-drop', 'ap-copy-1'));
    expect(out.ml?.data).toMatchObject({ inputs: ['s3://train-data/users/2026/users.csv'], outputs: ['s3://partner-drop/dump/users.csv'] });
    expect(alerts([out])[0]).toMatchObject({ entity: { type: 'dataset', id: 's3://train-data/users/2026/' }, details: { destination_account: '444455556666' } });
    expect(alerts([sm(copy('models', 'ap-copy-2'))])).toEqual([]);
  });
});

describe('SageMaker (CloudTrail): bucket access delegated to access points', () => {
  /** S3's recommended delegation: everyone, but only through access points of the account the condition names. */
  const delegate = (condition: Record<string, unknown>, eventID: string) =>
    sm(s3('PutBucketPolicy', {
      bucketName: 'models', policy: [''],
      bucketPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: '*', Resource: ['arn:aws:s3:::models', 'arn:aws:s3:::models/*'], Condition: { StringEquals: condition } }] },
    }, { eventID, eventCategory: 'Management', managementEvent: true }));

  it('delegating a model bucket to the own account\'s access points opens it to no one; to another account\'s access points it is a share with that account', () => {
    expect(alerts([delegate({ 's3:DataAccessPointAccount': '111122223333' }, 'dap1')])).toEqual([]);
    const foreign = delegate({ 's3:DataAccessPointAccount': '999988887777' }, 'dap2');
    expect(foreign.details).toMatchObject({ share_of: 'model', grantees: ['999988887777'] });
    expect(alerts([foreign])[0]).toMatchObject({ rule_id: 'platform.artifact_shared', severity: 'high', details: { grantees: ['999988887777'] }, title: expect.stringContaining('shared with another account') });
    expect(alerts([delegate({ 's3:DataAccessPointArn': 'arn:aws:s3:us-east-1:999988887777:accesspoint/*' }, 'dap3')])[0]?.details).toMatchObject({ grantees: ['999988887777'] });
    expect(alerts([foreign], { 'platform.artifact_shared': { allowed_accounts: ['999988887777'] } })).toEqual([]);
  });
});

describe('SageMaker (CloudTrail): access point policies', () => {
  // S3 Control calls, as CloudTrail logs them under s3.amazonaws.com: the access point's name and account in the
  // request, its body (the XML request element) read into JSON.
  const control = (eventName: string, body: Record<string, unknown>, eventID: string, name = 'partner-ap') =>
    sm(s3(eventName, { name, 'x-amz-account-id': '111122223333', [`${eventName}Request`]: { xmlns: 'http://awss3control.amazonaws.com/doc/2018-08-20/', ...body } }, {
      eventID, eventCategory: 'Management', managementEvent: true, resources: [{ accountId: '111122223333', type: 'AWS::S3::AccessPoint', ARN: `arn:aws:s3:us-east-1:111122223333:accesspoint/${name}` }],
    }));
  const policy = (principal: unknown, name = 'partner-ap') => ({
    Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 's3:GetObject', Resource: `arn:aws:s3:us-east-1:111122223333:accesspoint/${name}/object/*` }] }),
  });

  it('a policy on an access point made on a model bucket granting another account shares that bucket; the own account, or an access point of an unlisted bucket, does not', () => {
    const created = control('CreateAccessPoint', { Bucket: 'models', PublicAccessBlockConfiguration: { BlockPublicAcls: true } }, 'ap-create');
    expect(created.details).toMatchObject({ access_point: 'arn:aws:s3:us-east-1:111122223333:accesspoint/partner-ap', access_point_of: 'model' });
    const shared = control('PutAccessPointPolicy', policy({ AWS: 'arn:aws:iam::999988887777:root' }), 'ap-policy');
    expect(shared).toMatchObject({ action: 'permission.change', details: { grantees: ['arn:aws:iam::999988887777:root'] } });
    expect(alerts([created, shared])[0]).toMatchObject({
      rule_id: 'platform.artifact_shared', severity: 'high', entity: { type: 'model', id: 's3://models' },
      details: { grantees: ['arn:aws:iam::999988887777:root'], operation: 'PutAccessPointPolicy' }, title: expect.stringContaining('shared with another account'),
    });
    expect(alerts([created, shared], { 'platform.artifact_shared': { allowed_accounts: ['999988887777'] } })).toEqual([]);
    expect(alerts([created, control('PutAccessPointPolicy', policy({ AWS: 'arn:aws:iam::111122223333:role/Reader' }), 'ap-policy-own')])).toEqual([]);
    const scratch = smNorm(s3('CreateAccessPoint', { name: 'scratch-ap', 'x-amz-account-id': '111122223333', CreateAccessPointRequest: { Bucket: 'scratch' } }, { eventID: 'ap-create-2' }), SM).events;
    expect(alerts([...scratch, control('PutAccessPointPolicy', policy('*', 'scratch-ap'), 'ap-policy-2', 'scratch-ap')])).toEqual([]);
  });

  it('a policy on an access point whose creation was not seen, mapped by rules.access_points: shares the bucket it fronts (a training bucket as told by another access point\'s creation; an unlisted one, nothing)', () => {
    const OLD = 'arn:aws:s3:us-east-1:111122223333:accesspoint/old-ap';
    const mapped = (bucket: string) => ({ access_points: [{ arn: OLD, bucket }] });
    const shared = control('PutAccessPointPolicy', policy({ AWS: 'arn:aws:iam::999988887777:root' }, 'old-ap'), 'ap-policy-old', 'old-ap');
    // Before: nothing tells the rule which bucket old-ap fronts.
    expect(alerts([shared])).toEqual([]);
    const out = alerts([shared], mapped('models'));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      rule_id: 'platform.artifact_shared', entity: { type: 'model', id: 's3://models' },
      details: { grantees: ['arn:aws:iam::999988887777:root'], operation: 'PutAccessPointPolicy', access_point: OLD, access_point_bucket_from: 'config' },
    });
    expect(out[0]!.summary).toContain(`on access point ${OLD}, which fronts it as rules.access_points says`);
    expect(alerts([shared], { ...mapped('models'), 'platform.artifact_shared': { allowed_accounts: ['999988887777'] } })).toEqual([]);
    expect(alerts([control('PutAccessPointPolicy', policy({ AWS: 'arn:aws:iam::111122223333:role/Reader' }, 'old-ap'), 'ap-policy-old-own', 'old-ap')], mapped('models'))).toEqual([]);
    // Another access point made on train-data (marked a training bucket): old-ap's policy shares a dataset store.
    const train = control('CreateAccessPoint', { Bucket: 'train-data' }, 'ap-create-train', 'train-ap');
    expect(alerts([train, control('PutAccessPointPolicy', policy('*', 'old-ap'), 'ap-policy-old-2', 'old-ap')], mapped('train-data'))[0]).toMatchObject({
      entity: { type: 'dataset', id: 's3://train-data' }, details: { public: true }, title: expect.stringContaining('opened to everyone'),
    });
    // One made on scratch, in neither list: old-ap fronting scratch shares nothing.
    const scratch = smNorm(s3('CreateAccessPoint', { name: 'scratch-ap', 'x-amz-account-id': '111122223333', CreateAccessPointRequest: { Bucket: 'scratch' } }, { eventID: 'ap-create-3' }), SM).events;
    expect(scratch[0]!.details).toMatchObject({ access_point_bucket: { bucket: 'scratch' } });
    expect(scratch[0]!.details?.access_point_of).toBeUndefined();
    expect(alerts([...scratch, control('PutAccessPointPolicy', policy('*', 'old-ap'), 'ap-policy-old-3', 'old-ap')], mapped('scratch'))).toEqual([]);
    // Nothing told of scratch: the map is kept for model artifacts, so the bucket is taken as a model store.
    expect(alerts([control('PutAccessPointPolicy', policy('*', 'old-ap'), 'ap-policy-old-4', 'old-ap')], mapped('scratch'))[0]).toMatchObject({ entity: { type: 'model', id: 's3://scratch' } });
  });
});

describe('SageMaker (CloudTrail): replication of a model or training bucket', () => {
  /** A PutBucketReplication management event as CloudTrail writes it: the XML body read into JSON, one `Rule` object or a list. */
  const replicate = (bucketName: string, rule: unknown, eventID: string) =>
    s3('PutBucketReplication', {
      bucketName, Host: `${bucketName}.s3.amazonaws.com`, replication: '',
      ReplicationConfiguration: { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/', Role: 'arn:aws:iam::111122223333:role/s3-replication', Rule: rule },
    }, { eventID, eventCategory: 'Management', managementEvent: true, readOnly: false, resources: [{ accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucketName}` }] });
  const rule = (destination: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    ID: 'r1', Priority: 1, Status: 'Enabled', Filter: { Prefix: 'fraud/' }, DeleteMarkerReplication: { Status: 'Disabled' }, Destination: destination, ...extra,
  });

  it('replicating a model bucket to another account\'s bucket is an export of every future object: alerts, allowed by that account or the destination', () => {
    const ev = sm(replicate('models', rule({ Bucket: 'arn:aws:s3:::partner-drop', Account: '444455556666', AccessControlTranslation: { Owner: 'Destination' } }), 'rep1'));
    expect(ev.details).toMatchObject({ export_of: 'model', destination_account: '444455556666' });
    expect(ev.ml?.data).toMatchObject({ inputs: ['s3://models/'], outputs: ['s3://partner-drop/fraud/'] });
    const [a, ...rest] = alerts([ev]);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({
      rule_id: 'platform.artifact_exported', severity: 'medium', entity: { type: 'model', id: 's3://models/' },
      details: { exported: 'model', destination: 's3://partner-drop/fraud/', destination_account: '444455556666', operation: 'PutBucketReplication' },
    });
    expect(alerts([ev], { 'platform.artifact_exported': { allowed_accounts: ['444455556666'] } })).toEqual([]);
    expect(alerts([ev], { 'platform.artifact_exported': { allowed_destinations: ['s3://partner-drop/*'] } })).toEqual([]);
  });

  it('a training bucket replicated without a named owner is a dataset export judged by destination; a disabled rule, a listed destination or a refused call is none', () => {
    const noAccount = sm(replicate('train-data', [rule({ Bucket: 'arn:aws:s3:::dr-copy' }), rule({ Bucket: 'arn:aws:s3:::dr-copy' }, { ID: 'r2', Priority: 2, Filter: { Prefix: 'labels/' } })], 'rep2'));
    expect(noAccount.details?.destination_account).toBeUndefined();
    expect(alerts([noAccount]).map((x) => [x.entity.id, x.details.destination])).toEqual([['s3://train-data/', 's3://dr-copy/fraud/'], ['s3://train-data/', 's3://dr-copy/labels/']]);
    expect(alerts([noAccount], { 'platform.artifact_exported': { allowed_destinations: ['s3://dr-copy/*'] } })).toEqual([]);
    expect(alerts([sm(replicate('models', rule({ Bucket: 'arn:aws:s3:::partner-drop', Account: '444455556666' }, { Status: 'Disabled' }), 'rep3'))])).toEqual([]);
    expect(alerts([sm(replicate('models', rule({ Bucket: 'arn:aws:s3:::train-data' }), 'rep4'))])).toEqual([]);
    expect(alerts([sm({ ...replicate('models', rule({ Bucket: 'arn:aws:s3:::partner-drop' }), 'rep5'), errorCode: 'AccessDenied', errorMessage: 'Access Denied' })])).toEqual([]);
  });

  it('rules naming different owners leave the owner unknown: one allowed account does not let the other destination through', () => {
    const ev = sm(replicate('models', [rule({ Bucket: 'arn:aws:s3:::a-drop', Account: '444455556666' }), rule({ Bucket: 'arn:aws:s3:::b-drop', Account: '999988887777' }, { ID: 'r2', Priority: 2 })], 'rep6'));
    expect(ev.details?.destination_account).toBeUndefined();
    expect(alerts([ev], { 'platform.artifact_exported': { allowed_accounts: ['444455556666'] } }).map((x) => x.details.destination)).toContain('s3://b-drop/fraud/');
  });
});

describe('Vertex AI (audit log): ExportModel, ExportData, ExportFeatureValues, BigQuery extract jobs', () => {
  const model = `${LOC}/models/55`;

  it('ExportModel of a version to a bucket not allowed alerts on the model version; to an allowed bucket it does not', () => {
    const ev = vxOne(auditEntry({ method: `${V1}ModelService.ExportModel`, resourceName: `${model}@2`, request: { name: `${model}@2`, outputConfig: { exportFormatId: 'custom-trained', artifactDestination: { outputUriPrefix: 'gs://attacker-bucket/x/' } } } }));
    expect(alerts([ev])[0]).toMatchObject({ rule_id: 'platform.artifact_exported', entity: { type: 'model', id: `${model}/2` }, details: { destination: 'gs://attacker-bucket/x/' }, title: expect.stringContaining('Model exported to a destination not allowed') });
    expect(alerts([ev], { 'platform.artifact_exported': { allowed_destinations: ['gs://corp-ml-exports/*', 'gs://attacker-bucket/*'] } })).toEqual([]);
    // The container image destination counts too.
    const image = vxOne(auditEntry({ method: `${V1}ModelService.ExportModel`, resourceName: model, request: { name: model, outputConfig: { exportFormatId: 'custom-trained', imageDestination: { outputUri: 'us-docker.pkg.dev/other-proj/repo/fraud:v2' } } } }));
    expect(alerts([image], { 'platform.artifact_exported': { allowed_destinations: ['gs://corp-ml-exports/*'] } })[0]?.details).toMatchObject({ destination: 'us-docker.pkg.dev/other-proj/repo/fraud:v2' });
  });

  /** A CopyModel as the destination project logs it (the call is made on its `parent`); the operation names the new model by project number. */
  const copyModel = (dest: string, request: Record<string, unknown>, status?: Record<string, unknown>) => {
    const e = auditEntry({
      method: `${V1}ModelService.CopyModel`, resourceName: `projects/${dest}/locations/us-central1`, status,
      request: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.CopyModelRequest', parent: `projects/${dest}/locations/us-central1`, ...request },
      response: { name: 'projects/555000111222/locations/us-central1/models/8812/operations/3141', metadata: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.CopyModelOperationMetadata' } },
    }) as Record<string, any>;
    e.resource.labels.project_id = dest;
    e.logName = `projects/${dest}/logs/cloudaudit.googleapis.com%2Factivity`;
    return vxOne(e);
  };

  it('CopyModel of a version into another project alerts on the source version, allowed by that project; a copy to another region of the same project is none', () => {
    const out = copyModel('sandbox-mallory', { sourceModel: `${model}@2` });
    expect(out.details).toMatchObject({ export_of: 'model', destination_account: 'sandbox-mallory' });
    expect(alerts([out])[0]).toMatchObject({
      rule_id: 'platform.artifact_exported', entity: { type: 'model', id: `${model}@2` },
      details: { exported: 'model', destination: 'projects/sandbox-mallory/locations/us-central1/models/8812', destination_account: 'sandbox-mallory' },
      title: expect.stringContaining('Model exported to a destination not allowed'),
    });
    expect(alerts([out], { 'platform.artifact_exported': { allowed_accounts: ['sandbox-mallory'] } })).toEqual([]);
    expect(alerts([out], { 'platform.artifact_exported': { allowed_destinations: ['projects/sandbox-*'] } })).toEqual([]);
    // Into an existing model of the other project: a new version of it; the source is still what left.
    const intoModel = copyModel('ml-staging', { sourceModel: `${model}@2`, parentModel: 'projects/ml-staging/locations/us-central1/models/77' });
    expect(intoModel.action).toBe('model_version.create');
    expect(alerts([intoModel])[0]).toMatchObject({ entity: { id: `${model}@2` }, details: { destination: 'projects/ml-staging/locations/us-central1/models/77' } });
    // Same project, another region (the entry is logged in the own project).
    const regional = vxOne(auditEntry({ method: `${V1}ModelService.CopyModel`, resourceName: `projects/${PROJECT}/locations/europe-west4`, request: { parent: `projects/${PROJECT}/locations/europe-west4`, sourceModel: `${model}@2` } }));
    expect(regional.details?.export_of).toBeUndefined();
    expect(alerts([regional])).toEqual([]);
    expect(alerts([copyModel('sandbox-mallory', { sourceModel: `${model}@2` }, { code: 7, message: 'denied' })])).toEqual([]);
  });

  it('SetIamPolicy granting allUsers or allAuthenticatedUsers on a featurestore or model opens it to everyone; a grant to a named member raises nothing', () => {
    const grant = (resourceName: string, members: string[], status?: Record<string, unknown>) =>
      vxOne(auditEntry({ method: 'google.iam.v1.IAMPolicy.SetIamPolicy', resourceName, status, request: { '@type': 'type.googleapis.com/google.iam.v1.SetIamPolicyRequest', resource: resourceName, policy: { bindings: [{ role: 'roles/aiplatform.featurestoreDataViewer', members }] } } }));
    const fs = `${LOC}/featurestores/fraud_features`;
    const open = grant(fs, ['group:ml@corp.example', 'allAuthenticatedUsers']);
    expect(open.details).toMatchObject({ share_of: 'dataset', grantees: ['*'] });
    expect(alerts([open])[0]).toMatchObject({ rule_id: 'platform.artifact_shared', severity: 'high', details: { public: true }, title: expect.stringContaining('Dataset store opened to everyone') });
    expect(alerts([grant(`${LOC}/models/55`, ['allUsers'])])[0]).toMatchObject({ rule_id: 'platform.artifact_shared', title: expect.stringContaining('Model store opened to everyone') });
    expect(alerts([grant(fs, ['user:bob@corp.example'])])).toEqual([]);
    // Refused: nothing was opened.
    expect(alerts([grant(fs, ['allUsers'], { code: 7, message: 'denied' })])).toEqual([]);
  });

  /** A bucket IAM change as Cloud Storage logs it: `storage.setIamPermissions`, the grants only as the policy delta. */
  const bucketIam = (bucket: string, deltas: Array<Record<string, unknown>>, insertId: string) => ({
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog', status: {},
      authenticationInfo: { principalEmail: 'mallory@corp.example' },
      requestMetadata: { callerIp: '203.0.113.9', callerSuppliedUserAgent: 'google-cloud-sdk gcloud/470.0.0 command/gcloud.storage.buckets.add-iam-policy-binding', requestAttributes: {}, destinationAttributes: {} },
      serviceName: 'storage.googleapis.com', methodName: 'storage.setIamPermissions',
      authorizationInfo: [{ resource: `projects/_/buckets/${bucket}`, permission: 'storage.buckets.setIamPolicy', granted: true, resourceAttributes: {} }],
      resourceName: `projects/_/buckets/${bucket}`,
      serviceData: { '@type': 'type.googleapis.com/google.iam.v1.logging.AuditData', policyDelta: { bindingDeltas: deltas } },
      resourceLocation: { currentLocations: ['us-central1'] },
    },
    insertId, resource: { type: 'gcs_bucket', labels: { project_id: PROJECT, bucket_name: bucket, location: 'us-central1' } },
    timestamp: '2026-11-20T12:00:00.000Z', severity: 'NOTICE', logName: `projects/${PROJECT}/logs/cloudaudit.googleapis.com%2Factivity`, receiveTimestamp: '2026-11-20T12:00:01.000Z',
  });
  const GCS = { model_buckets: ['fraud-models'], training_buckets: ['gs://fraud-training'] };

  it('a Cloud Storage bucket listed in model_buckets / training_buckets granted to allUsers or allAuthenticatedUsers is opened to everyone; an unlisted bucket, a named member or a removal is not', () => {
    const open = normOneConfigured(bucketIam('fraud-models', [{ action: 'ADD', role: 'roles/storage.objectViewer', member: 'allUsers' }], 'g1'), GCS);
    expect(open).toMatchObject({ action: 'permission.change', details: { share_of: 'model', grantees: ['*'] } });
    expect(alerts([open])[0]).toMatchObject({ rule_id: 'platform.artifact_shared', severity: 'high', entity: { type: 'model', id: 'gs://fraud-models' }, details: { public: true }, title: expect.stringContaining('Model store opened to everyone') });
    const data = normOneConfigured(bucketIam('fraud-training', [{ action: 'ADD', role: 'roles/storage.legacyObjectReader', member: 'allAuthenticatedUsers' }], 'g2'), GCS);
    expect(alerts([data])[0]).toMatchObject({ entity: { type: 'dataset', id: 'gs://fraud-training' }, title: expect.stringContaining('Dataset store opened to everyone') });
    expect(alerts([normOneConfigured(bucketIam('website-assets', [{ action: 'ADD', role: 'roles/storage.objectViewer', member: 'allUsers' }], 'g3'), GCS)])).toEqual([]);
    expect(alerts([normOneConfigured(bucketIam('fraud-models', [{ action: 'ADD', role: 'roles/storage.objectViewer', member: 'group:ml@corp.example' }], 'g4'), GCS)])).toEqual([]);
    expect(alerts([normOneConfigured(bucketIam('fraud-models', [{ action: 'REMOVE', role: 'roles/storage.objectViewer', member: 'allUsers' }], 'g5'), GCS)])).toEqual([]);
  });

  it('with connectors.vertex.allowed_domains set, a listed bucket granted to a named member outside those domains is shared with them; members inside, and removals, are not', () => {
    const INTERNAL = { ...GCS, allowed_domains: ['corp.example'] };
    const outsiders = [
      { action: 'ADD', role: 'roles/storage.objectViewer', member: 'user:eve@partner.example' },
      { action: 'ADD', role: 'roles/storage.objectViewer', member: 'serviceAccount:copier@other-proj.iam.gserviceaccount.com' },
      { action: 'ADD', role: 'roles/storage.objectViewer', member: 'domain:partner.example' },
    ];
    const insiders = [
      { action: 'ADD', role: 'roles/storage.objectViewer', member: 'group:ml@corp.example' },
      { action: 'ADD', role: 'roles/storage.objectAdmin', member: 'user:ana@eu.corp.example' },
      { action: 'REMOVE', role: 'roles/storage.objectViewer', member: 'user:old@partner.example' },
    ];
    const shared = normOneConfigured(bucketIam('fraud-models', [...outsiders, ...insiders], 'd1'), INTERNAL);
    expect(shared.details).toMatchObject({ share_of: 'model', grantees: ['user:eve@partner.example', 'serviceAccount:copier@other-proj.iam.gserviceaccount.com', 'domain:partner.example'] });
    const fired = alerts([shared]);
    expect(fired.map((a) => [a.rule_id, a.entity.id, a.details.grantees, a.details.public])).toEqual([
      ['platform.artifact_shared', 'gs://fraud-models', ['user:eve@partner.example', 'serviceAccount:copier@other-proj.iam.gserviceaccount.com', 'domain:partner.example'], undefined],
    ]);
    expect(fired[0]!.title).toContain('Model store shared with another account');
    // A partner the operator allows, by glob in the rule's allowed_accounts.
    expect(alerts([normOneConfigured(bucketIam('fraud-training', [outsiders[0]!], 'd2'), INTERNAL)], { 'platform.artifact_shared': { allowed_accounts: ['user:*@partner.example'] } })).toEqual([]);
    // A project's own Google service agent, listed as a member (README): allowed; another project's agent of the same service is not.
    const agents = (n: string) => [{ action: 'ADD', role: 'roles/storage.objectViewer', member: `serviceAccount:service-${n}@gcp-sa-aiplatform.iam.gserviceaccount.com` }];
    const ownAgent = { 'platform.artifact_shared': { allowed_accounts: ['serviceAccount:service-123456789012@gcp-sa-aiplatform.iam.gserviceaccount.com'] } };
    expect(alerts([normOneConfigured(bucketIam('fraud-models', agents('123456789012'), 'd6'), INTERNAL)], ownAgent)).toEqual([]);
    expect(alerts([normOneConfigured(bucketIam('fraud-models', agents('999999999999'), 'd7'), INTERNAL)], ownAgent)).toHaveLength(1);
    // Only insiders (subdomains count), or the same grants with the setting unset (today's behaviour): no share.
    expect(normOneConfigured(bucketIam('fraud-models', insiders, 'd3'), INTERNAL).details?.share_of).toBeUndefined();
    expect(alerts([normOneConfigured(bucketIam('fraud-models', outsiders, 'd4'), GCS)])).toEqual([]);
    // Public and named at once: both named.
    expect(normOneConfigured(bucketIam('fraud-models', [{ action: 'ADD', role: 'roles/storage.objectViewer', member: 'allUsers' }, outsiders[0]!], 'd5'), INTERNAL).details?.grantees).toEqual(['*', 'user:eve@partner.example']);
  });

  it('ExportData and ExportFeatureValues are dataset exports; a refused export is none', () => {
    const data = vxOne(auditEntry({ method: `${V1}DatasetService.ExportData`, resourceName: `${LOC}/datasets/9`, request: { name: `${LOC}/datasets/9`, exportConfig: { gcsDestination: { outputUriPrefix: 'gs://somewhere/out/' } } } }));
    expect(alerts([data])[0]).toMatchObject({ entity: { type: 'dataset', id: `${LOC}/datasets/9` }, details: { exported: 'dataset' } });
    const fv = vxOne(auditEntry({
      method: `${V1}FeaturestoreService.ExportFeatureValues`, resourceName: `${LOC}/featurestores/fs/entityTypes/users`,
      request: { entityType: `${LOC}/featurestores/fs/entityTypes/users`, destination: { bigqueryDestination: { outputUri: 'bq://other-proj.dump.users' } }, fullExport: {}, featureSelector: { idMatcher: { ids: ['*'] } } },
    }));
    expect(fv.details?.export_of).toBe('dataset');
    expect(alerts([fv])[0]?.details).toMatchObject({ destination: 'bq://other-proj.dump.users' });
    expect(alerts([fv], { 'platform.artifact_exported': { allowed_destinations: ['bq://ml-prod-123.*'] } })).toHaveLength(1);
    expect(alerts([fv], { 'platform.artifact_exported': { allowed_destinations: ['bq://other-proj.dump.*'] } })).toEqual([]);
    const refused = vxOne(auditEntry({ method: `${V1}DatasetService.ExportData`, resourceName: `${LOC}/datasets/9`, request: { exportConfig: { gcsDestination: { outputUriPrefix: 'gs://x/' } } }, status: { code: 7, message: 'denied' } }));
    expect(alerts([refused])).toEqual([]);
  });

  it('a BigQuery extract job (legacy AuditData, fixture shape) is a dataset export naming its table and destinations', () => {
    const entry = readFixtureJson<Record<string, any>>('vertex', 'cloudevents-LogEntryData-bigqueryjobcompleted.json');
    const job = entry.protoPayload.serviceData.jobCompletedEvent;
    job.eventName = 'extract_job_completed';
    job.job.jobConfiguration = { extract: { destinationFormat: 'CSV', destinationUris: ['gs://personal-bucket/users-*.csv'], sourceTable: { projectId: 'test-project', datasetId: 'training', tableId: 'users' } } };
    const ev = vxOne(entry);
    expect(ev.ml?.data).toMatchObject({ inputs: ['bq://test-project.training.users'], outputs: ['gs://personal-bucket/users-*.csv'] });
    expect(alerts([ev])[0]).toMatchObject({ entity: { type: 'dataset', id: 'bq://test-project.training.users' }, details: { destination: 'gs://personal-bucket/users-*.csv' } });
    expect(alerts([ev], { 'platform.artifact_exported': { allowed_destinations: ['gs://personal-bucket/*'] } })).toEqual([]);
    // The fixture as it is (a query job) is no export.
    expect(alerts([vxOne(readFixtureJson('vertex', 'cloudevents-LogEntryData-bigqueryjobcompleted.json'))])).toEqual([]);
  });

  it('a BigQuery ML model extracted (BigQueryAuditMetadata jobChange) is a model export; a failed one is none', () => {
    const entry = (status: Record<string, unknown>, id: string) => ({
      insertId: id, logName: 'projects/test-project/logs/cloudaudit.googleapis.com%2Fdata_access', timestamp: '2026-11-20T11:00:00Z',
      resource: { type: 'bigquery_project', labels: { project_id: 'test-project', location: 'US' } },
      protoPayload: {
        '@type': 'type.googleapis.com/google.cloud.audit.AuditLog', serviceName: 'bigquery.googleapis.com', methodName: 'google.cloud.bigquery.v2.JobService.InsertJob',
        authenticationInfo: { principalEmail: 'mallory@corp.example' }, resourceName: 'projects/test-project/jobs/job_1', status: {},
        metadata: {
          '@type': 'type.googleapis.com/google.cloud.audit.BigQueryAuditMetadata',
          jobChange: { after: 'DONE', job: { jobName: 'projects/test-project/jobs/job_1', jobConfig: { type: 'EXPORT', extractConfig: { destinationUris: ['gs://mallory-drop/churn_model'], sourceModel: 'projects/test-project/datasets/ml/models/churn' } }, jobStatus: { jobState: 'DONE', ...status } } },
        },
      },
    });
    const ev = vxOne(entry({}, 'bq1'));
    expect(alerts([ev])[0]).toMatchObject({ entity: { type: 'model', id: 'bq://test-project.ml.churn' }, title: expect.stringContaining('Model exported to a destination not allowed') });
    expect(alerts([vxOne(entry({ errorResult: { code: 7, message: 'Access Denied' } }, 'bq2'))])).toEqual([]);
  });
});
