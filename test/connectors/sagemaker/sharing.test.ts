import { describe, expect, it } from 'vitest';
import { aclGrantees, policyGrantees } from '../../../connectors/sagemaker/sharing.js';

describe('grantees of resource policies and S3 ACLs (platform.artifact_shared reads them)', () => {
  it('Allow statements name their AWS principals; Deny statements and service principals grant nothing', () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::444455556666:role/Reader', '777788889999'] }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::models/*' },
        { Effect: 'Allow', Principal: { Service: 'sagemaker.amazonaws.com' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::models/*' },
        { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::models/*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      ],
    };
    expect(policyGrantees(policy)).toEqual(['arn:aws:iam::444455556666:role/Reader', '777788889999']);
    // PutModelPackageGroupPolicy records the policy as its JSON text.
    expect(policyGrantees(JSON.stringify(policy))).toEqual(['arn:aws:iam::444455556666:role/Reader', '777788889999']);
    expect(policyGrantees('{"Statement": [')).toEqual([]);
  });

  it('"*" narrowed to accounts or an organization is those; narrowed otherwise it is everyone', () => {
    const star = (Condition: unknown) => ({ Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:GetObject', Condition }] });
    expect(policyGrantees(star({ StringEquals: { 'aws:PrincipalAccount': ['444455556666'] } }))).toEqual(['444455556666']);
    expect(policyGrantees(star({ 'ForAnyValue:StringLike': { 'aws:PrincipalOrgID': 'o-abc123' } }))).toEqual(['o-abc123']);
    expect(policyGrantees(star({ IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } }))).toEqual(['*']);
  });

  it('ACLs: public groups and canned ACLs are everyone, other canonical users and e-mail grantees are named, the owner is not', () => {
    expect(aclGrantees({ 'x-amz-acl': ['public-read'] })).toEqual(['*']);
    expect(aclGrantees({ 'x-amz-acl': ['private'] })).toEqual([]);
    expect(aclGrantees({
      AccessControlPolicy: {
        Owner: { ID: 'own' },
        AccessControlList: { Grant: [{ Grantee: { ID: 'own' }, Permission: 'FULL_CONTROL' }, { Grantee: { ID: 'c0ffee' }, Permission: 'READ' }, { Grantee: { EmailAddress: 'x@partner.example' }, Permission: 'READ' }] },
      },
    })).toEqual(['canonical:c0ffee', 'email:x@partner.example']);
    // One grant is recorded as an object, not a list.
    expect(aclGrantees({ AccessControlPolicy: { AccessControlList: { Grant: { Grantee: { URI: 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers' }, Permission: 'READ' } } } })).toEqual(['*']);
    expect(aclGrantees({ 'x-amz-grant-read': ['uri="http://acs.amazonaws.com/groups/global/AllUsers", id="abc"'] })).toEqual(['*', 'canonical:abc']);
    // The log-delivery group is no outsider.
    expect(aclGrantees({ 'x-amz-grant-write': ['uri="http://acs.amazonaws.com/groups/s3/LogDelivery"'] })).toEqual([]);
  });
});
