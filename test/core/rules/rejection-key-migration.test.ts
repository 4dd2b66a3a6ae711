import { describe, expect, it } from 'vitest';
import { createRuleEngine, RulesConfig } from '../../../core/rules/engine.js';
import { REGISTRY_NS, type RejectedArtifact } from '../../../core/rules/registry.js';
import { Spool } from '../../../core/spool/index.js';
import { ctRecord, normOne } from '../../connectors/sagemaker/helpers.js';
import { tmpDir } from '../../helpers/bridge.js';

/**
 * Rejections kept by artifact were keyed by the URI as written (`rja|https://models.s3…/…`) before they were keyed
 * by the S3 object it names (`rja|s3://models/…`): a state database of that shape is rewritten once when the rules
 * engine opens it, so the same weights approved by their s3:// name are found rejected.
 */
const ARN = (n: number) => `arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/${n}`;
const IMAGE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/churn@sha256:' + 'a'.repeat(64);
const old = (key: string, time: string, extra: Partial<RejectedArtifact> = {}): RejectedArtifact => ({ key, name: 'churn', version: '4', time, event: `rej-${key}`, identity: 'reviewer', ...extra });
const HTTPS = 'https://models.s3.us-east-1.amazonaws.com/churn/4/model.tar.gz';

/** A spool whose state holds rejections in the old key shape (as an older build wrote them). */
function oldSpool(dir: string): void {
  const spool = Spool.open({ dir });
  spool.state.set(REGISTRY_NS, `rja|${HTTPS}`, old('111122223333:us-east-1:churn/4', '2026-11-24T09:00:00Z'));
  spool.state.set(REGISTRY_NS, 'rja|https://models.s3.cn-north-1.amazonaws.com.cn/churn/9/model.tar.gz', old('111122223333:cn-north-1:churn/9', '2026-11-24T09:00:00Z'));
  // Both keys of one object: the later decision stays.
  spool.state.set(REGISTRY_NS, 'rja|https://s3.us-east-1.amazonaws.com/models/churn/7/model.tar.gz', old('k7-old', '2026-11-24T08:00:00Z'));
  spool.state.set(REGISTRY_NS, 'rja|s3://models/churn/7/model.tar.gz', old('k7-new', '2026-11-24T10:00:00Z'));
  // An access point URL, named by its object ARN now; a URL that is no S3 object stays as it is.
  spool.state.set(REGISTRY_NS, 'rja|https://ml-ap-111122223333.s3-accesspoint.us-east-1.amazonaws.com/churn/8/model.tar.gz', old('k8', '2026-11-24T09:00:00Z'));
  spool.state.set(REGISTRY_NS, 'rja|https://models.example.com/churn/5/model.tar.gz', old('k5', '2026-11-24T09:00:00Z'));
  spool.close();
}

describe('rejections kept under an https:// key are moved to the s3:// object key, once', () => {
  it('rewrites the old keys, keeps the later of two, leaves what names no S3 object, and is idempotent', () => {
    const dir = tmpDir();
    oldSpool(dir);
    let spool = Spool.open({ dir });
    createRuleEngine(RulesConfig.parse({}), spool.state);
    const keys = () => Object.fromEntries(spool.state.list<RejectedArtifact>(REGISTRY_NS, 'rja|').map(({ key, value }) => [key, [value.key, value.partition]]));
    const after = {
      'rja|arn:aws:s3:us-east-1:111122223333:accesspoint/ml-ap/object/churn/8/model.tar.gz': ['k8', undefined],
      'rja|https://models.example.com/churn/5/model.tar.gz': ['k5', undefined],
      'rja|s3://models/churn/4/model.tar.gz': ['111122223333:us-east-1:churn/4', undefined],
      'rja|s3://models/churn/7/model.tar.gz': ['k7-new', undefined],
      // The China URL tells its partition: kept with the rejection.
      'rja|s3://models/churn/9/model.tar.gz': ['111122223333:cn-north-1:churn/9', 'aws-cn'],
    };
    expect(keys()).toEqual(after);
    expect(spool.state.get(REGISTRY_NS, 'migrations')).toEqual(['rja-object-keys']);
    spool.close();
    // Opened again (a restart): nothing left to move, nothing changed.
    spool = Spool.open({ dir });
    createRuleEngine(RulesConfig.parse({}), spool.state);
    expect(keys()).toEqual(after);
    spool.close();
  });

  it('a package registered by the s3:// name of weights rejected under their https:// URL, then approved, is the reversal', () => {
    const dir = tmpDir();
    oldSpool(dir);
    const spool = Spool.open({ dir });
    const engine = createRuleEngine(RulesConfig.parse({}), spool.state);
    const spec = { containers: [{ image: IMAGE, modelDataUrl: 's3://models/churn/4/model.tar.gz' }], supportedContentTypes: ['text/csv'], supportedResponseMIMETypes: ['text/csv'] };
    const create = normOne(ctRecord('CreateModelPackage', { modelPackageGroupName: 'churn', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: spec }, { eventID: 'mig-1', eventTime: '2026-11-25T08:00:00Z', responseElements: { modelPackageArn: ARN(5) } }));
    const approve = normOne(ctRecord('UpdateModelPackage', { modelPackageArn: ARN(5), modelApprovalStatus: 'Approved' }, { eventID: 'mig-2', eventTime: '2026-11-25T09:00:00Z', responseElements: { modelPackageArn: ARN(5) } }));
    const found = [create, approve].flatMap((e) => engine.process(e, Date.parse('2026-11-25T09:05:00Z'))).filter((a) => a.rule_id === 'registry.rejection_reversed');
    expect(found.map((a) => [a.entity.id, a.details.rejected_version, a.details.rejected_at])).toEqual([['111122223333:us-east-1:churn/5', 'churn/4', '2026-11-24T09:00:00Z']]);
    spool.close();
  });

  it('a rejection kept without its partition (by an older build) is in its version\'s: a China rejection is found by a China approval', () => {
    const dir = tmpDir();
    const spool = Spool.open({ dir });
    const engine = createRuleEngine(RulesConfig.parse({}), spool.state);
    const cn = (n: number) => `arn:aws-cn:sagemaker:cn-north-1:111122223333:model-package/churn/${n}`;
    const spec = { containers: [{ image: IMAGE, modelDataUrl: 's3://models/churn/4/model.tar.gz' }] };
    const at = (id: string, t: string) => ({ eventID: id, eventTime: t, awsRegion: 'cn-north-1' });
    const create = (n: number, t: string) => normOne(ctRecord('CreateModelPackage', { modelPackageGroupName: 'churn', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: spec }, { ...at(`cn-c${n}`, t), responseElements: { modelPackageArn: cn(n) } }));
    const decide = (n: number, status: string, t: string) => normOne(ctRecord('UpdateModelPackage', { modelPackageArn: cn(n), modelApprovalStatus: status }, { ...at(`cn-d${n}`, t), responseElements: { modelPackageArn: cn(n) } }));
    const now = Date.parse('2026-11-25T12:00:00Z');
    for (const e of [create(4, '2026-11-25T08:00:00Z'), decide(4, 'Rejected', '2026-11-25T08:30:00Z')]) engine.process(e, now);
    const kept = spool.state.get<RejectedArtifact>(REGISTRY_NS, 'rja|s3://models/churn/4/model.tar.gz')!;
    expect(kept.partition).toBe('aws-cn');
    // As an older build kept it: no partition.
    delete kept.partition;
    spool.state.set(REGISTRY_NS, 'rja|s3://models/churn/4/model.tar.gz', kept);
    const found = [create(5, '2026-11-25T09:00:00Z'), decide(5, 'Approved', '2026-11-25T09:30:00Z')].flatMap((e) => engine.process(e, now)).filter((a) => a.rule_id === 'registry.rejection_reversed');
    expect(found.map((a) => [a.entity.id, a.details.rejected_version])).toEqual([['111122223333:cn-north-1:churn/5', 'churn/4']]);
    spool.close();
  });
});
