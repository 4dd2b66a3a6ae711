import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * registry.rejection_reversed and the access point map: weights rejected under an access point's name (a package
 * whose model data is the access point's object ARN or `s3://<alias>/<key>`) and registered again by the bucket's
 * name, then approved, are the rejected weights (and the reverse) — as registry.approved_model_modified judges an
 * overwrite under the other name. Native CloudTrail records, normalized by the SageMaker connector.
 */
const IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/xgboost-inference:1.7-1-cpu-py3';
const KEY = 'fraud/v3/model.tar.gz';
const AP = 'arn:aws:s3:us-east-1:111122223333:accesspoint/ml-ap';
const AP_OBJECT = `${AP}/object/${KEY}`;
const ALIAS = 'ml-ap-hxgz3m5qrzr8b1yrlbgfgmf2use1a-s3alias';
const RULE = 'registry.rejection_reversed';
let n = 0;
const time = () => new Date(Date.parse('2026-11-25T10:00:00Z') + ++n * 60_000).toISOString().replace('.000Z', 'Z');
const SM = { s3_unlisted_buckets: 'normalize' };
const pkg = (v: number) => `arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/${v}`;
const api = (name: string, params: Record<string, unknown>, v: number) =>
  normOne(ctRecord(name, params, { eventID: `apr-${n}`, eventTime: time(), responseElements: { modelPackageArn: pkg(v) } }));
const register = (v: number, modelDataUrl: string, status = 'PendingManualApproval') =>
  api('CreateModelPackage', { modelPackageGroupName: 'fraud', modelApprovalStatus: status, inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl }] } }, v);
const decide = (v: number, status: 'Approved' | 'Rejected') => api('UpdateModelPackage', { modelPackageArn: pkg(v), modelApprovalStatus: status }, v);
const deletePkg = (v: number) => api('DeleteModelPackage', { modelPackageName: pkg(v) }, v);

/** An S3 Control call as CloudTrail logs it under s3.amazonaws.com. */
const control = (eventName: string, name: string, body: Record<string, unknown> | undefined) =>
  normOne(ctRecord(eventName, { name, 'x-amz-account-id': '111122223333', ...(body ? { [`${eventName}Request`]: { xmlns: 'http://awss3control.amazonaws.com/doc/2018-08-20/', ...body } } : {}) }, {
    eventID: `apr-${n}`, eventTime: time(), eventSource: 's3.amazonaws.com', awsRegion: 'us-east-1', responseElements: null,
    resources: [{ accountId: '111122223333', type: 'AWS::S3::AccessPoint', ARN: `arn:aws:s3:us-east-1:111122223333:accesspoint/${name}` }],
  }), SM);
const createAp = (bucket = 'models') => control('CreateAccessPoint', 'ml-ap', { Bucket: bucket });
const deleteAp = () => control('DeleteAccessPoint', 'ml-ap', undefined);

const reversals = (events: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);

describe('registry.rejection_reversed: rejected weights approved under the access point\'s other name', () => {
  it('rejected through the access point (object ARN, CLI s3://<ARN>/<key>, alias), registered again by the bucket and approved: the reversal, once the map knows the bucket', () => {
    for (const url of [AP_OBJECT, `s3://${AP}/${KEY}`, `s3://${ALIAS}/${KEY}`]) {
      const alias = url.includes(ALIAS);
      const rejected = () => [register(1, url), decide(1, 'Rejected'), deletePkg(1)];
      // Nothing maps the access point to its bucket: not found.
      expect([url, reversals([...rejected(), register(2, `s3://models/${KEY}`), decide(2, 'Approved')])]).toEqual([url, []]);
      // Learned from the CreateAccessPoint (the ARN), or from rules.access_points (the alias).
      const out = alias
        ? reversals([...rejected(), register(2, `s3://models/${KEY}`), decide(2, 'Approved')], { access_points: [{ alias: ALIAS, bucket: 'models' }] })
        : reversals([createAp(), ...rejected(), register(2, `s3://models/${KEY}`), decide(2, 'Approved')]);
      expect([url, out.length]).toEqual([url, 1]);
      expect(out[0]).toMatchObject({ entity: { id: expect.stringContaining('fraud') }, details: { rejected_version: 'fraud/1', version: '2' } });
      expect(out[0]!.details.access_point_mapping).toMatchObject({ rejected_as: alias ? `s3://${ALIAS}/${KEY}` : AP_OBJECT, bucket: 'models', learned_from: alias ? 'config' : 'create' });
      expect(out[0]!.summary).toContain('fronts bucket models');
    }
  });

  it('rejected by the bucket, registered again through the access point already approved: the reversal', () => {
    const events = [createAp(), register(1, `s3://models/${KEY}`), decide(1, 'Rejected'), deletePkg(1), register(2, AP_OBJECT, 'Approved')];
    const out = reversals(events);
    expect(out.map((a) => a.details.rejected_version)).toEqual(['fraud/1']);
    expect(out[0]!.details.access_point_mapping).toMatchObject({ rejected_as: `s3://models/${KEY}`, access_point: AP });
    // Another bucket's access point, or another key: other weights.
    expect(reversals([createAp('scratch'), register(1, `s3://models/${KEY}`), decide(1, 'Rejected'), deletePkg(1), register(2, AP_OBJECT, 'Approved')])).toEqual([]);
    expect(reversals([createAp(), register(1, `s3://models/${KEY}`), decide(1, 'Rejected'), deletePkg(1), register(2, `${AP}/object/fraud/v4/model.tar.gz`, 'Approved')])).toEqual([]);
  });

  it('an access point deleted since: a rejection made through it while it fronted the bucket still counts; one made after, under a name it no longer maps, does not', () => {
    const out = reversals([createAp(), register(1, AP_OBJECT), decide(1, 'Rejected'), deletePkg(1), deleteAp(), register(2, `s3://models/${KEY}`), decide(2, 'Approved')]);
    expect(out.map((a) => a.details.rejected_version)).toEqual(['fraud/1']);
    expect(out[0]!.details.access_point_mapping).toMatchObject({ deleted_at: expect.any(String) });
    expect(reversals([createAp(), deleteAp(), register(1, AP_OBJECT), decide(1, 'Rejected'), deletePkg(1), register(2, `s3://models/${KEY}`), decide(2, 'Approved')])).toEqual([]);
  });

  it('one reversal per rejection: the same weights approved again (another version) after a mapped reversal are no second finding, as by the bucket\'s own name', () => {
    // By the same name: the registry forgets a rejection its approval reversed.
    const same = reversals([register(1, `s3://models/${KEY}`), decide(1, 'Rejected'), deletePkg(1), register(2, `s3://models/${KEY}`), decide(2, 'Approved'), register(3, `s3://models/${KEY}`), decide(3, 'Approved')]);
    expect(same.map((a) => a.details.version)).toEqual(['2']);
    // Through the access point map: the same, once.
    const mapped = reversals([createAp(), register(1, AP_OBJECT), decide(1, 'Rejected'), deletePkg(1), register(2, `s3://models/${KEY}`), decide(2, 'Approved'), register(3, `s3://models/${KEY}`), decide(3, 'Approved')]);
    expect(mapped.map((a) => [a.details.version, a.details.rejected_version])).toEqual([['2', 'fraud/1']]);
    // A new rejection of those weights is a new decision: approving them again after it is a reversal again.
    const again = reversals([createAp(), register(1, AP_OBJECT), decide(1, 'Rejected'), deletePkg(1), register(2, `s3://models/${KEY}`), decide(2, 'Approved'), register(4, AP_OBJECT), decide(4, 'Rejected'), deletePkg(4), register(5, `s3://models/${KEY}`), decide(5, 'Approved')]);
    expect(again.map((a) => [a.details.version, a.details.rejected_version])).toEqual([['2', 'fraud/1'], ['5', 'fraud/4']]);
  });

  it('weights rejected through an access point pin it: 60 access points made on the bucket afterwards do not push it out of the map', () => {
    const flood = Array.from({ length: 60 }, (_, i) => control('CreateAccessPoint', `team-${i}`, { Bucket: 'models' }));
    const out = reversals([createAp(), register(1, AP_OBJECT), decide(1, 'Rejected'), deletePkg(1), ...flood, register(2, `s3://models/${KEY}`), decide(2, 'Approved')]);
    expect(out.map((a) => a.details.rejected_version)).toEqual(['fraud/1']);
  });
});

