import { describe, expect, it } from 'vitest';
import { ctRecord, normOne } from './helpers.js';

/**
 * Studio deletions name what they remove (`details.studio_deleted`), as the SageMaker API reference gives the requests:
 * DeleteUserProfile `{DomainId, UserProfileName}`, DeleteDomain `{DomainId, RetentionPolicy}`, DeleteSpace
 * `{DomainId, SpaceName}` (CloudTrail's requestParameters in lower camel case).
 */
describe('sagemaker: Studio deletions', () => {
  it('DeleteUserProfile, DeleteDomain and DeleteSpace say what they delete', () => {
    const profile = normOne(ctRecord('DeleteUserProfile', { domainId: 'd-abc123def456', userProfileName: 'alice' }));
    expect([profile.action, profile.resource?.type, profile.details?.studio_deleted]).toEqual(['resource.delete', 'user_profile', { domain_id: 'd-abc123def456', user_profile: 'alice' }]);
    expect(normOne(ctRecord('DeleteDomain', { domainId: 'd-abc123def456', retentionPolicy: { homeEfsFileSystem: 'Delete' } })).details?.studio_deleted).toEqual({ domain_id: 'd-abc123def456' });
    expect(normOne(ctRecord('DeleteSpace', { domainId: 'd-abc123def456', spaceName: 'team-space' })).details?.studio_deleted).toEqual({ domain_id: 'd-abc123def456', space: 'team-space' });
  });

  it('other calls, and a deletion whose request names no domain, carry none', () => {
    expect(normOne(ctRecord('DeleteNotebookInstance', { notebookInstanceName: 'nb' })).details?.studio_deleted).toBeUndefined();
    expect(normOne(ctRecord('DeleteUserProfile', { userProfileName: 'alice' })).details?.studio_deleted).toBeUndefined();
  });
});
