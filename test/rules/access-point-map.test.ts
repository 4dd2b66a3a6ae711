import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { MAX_PINNED_PER_BUCKET, learnAccessPoint, pinAccessPoint } from '../../core/rules/kinds/access-point-map.js';
import type { RuleContext } from '../../core/rules/kinds/context.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * An S3 access point's name says nothing of the bucket it fronts, so an artifact approved under one name and
 * overwritten under the other passed unseen: approved through the access point (its object ARN, the CLI's
 * s3://<ARN>/<key>, or its alias) and written straight to the bucket, or approved by the bucket and written through
 * the alias. The rule learns the map from CreateAccessPoint, from requests through an access point whose resources[]
 * name the bucket, and from rules.access_points; DeleteAccessPoint forgets the name.
 */
const PKG = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/3';
const IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/xgboost-inference:1.7-1-cpu-py3';
const KEY = 'fraud/v3/model.tar.gz';
const AP = 'arn:aws:s3:us-east-1:111122223333:accesspoint/ml-ap';
const AP_OBJECT = `${AP}/object/${KEY}`;
const ALIAS = 'ml-ap-hxgz3m5qrzr8b1yrlbgfgmf2use1a-s3alias';
let n = 0;
const time = () => new Date(Date.parse('2026-11-25T10:00:00Z') + n * 60_000).toISOString().replace('.000Z', 'Z');
const SM = { s3_unlisted_buckets: 'normalize' };
const api = (name: string, params: Record<string, unknown>) =>
  normOne(ctRecord(name, params, { eventID: `apm-${++n}`, eventTime: time(), responseElements: { modelPackageArn: PKG } }));
const register = (modelDataUrl: string) => api('CreateModelPackage', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl }] } });
const approve = () => api('UpdateModelPackage', { modelPackageArn: PKG, modelApprovalStatus: 'Approved' });

/** An S3 Control call as CloudTrail logs it under s3.amazonaws.com: the name and account in the request, the XML body read into JSON. */
const control = (eventName: string, name: string, body: Record<string, unknown> | undefined, response: Record<string, unknown> | null = null, cfg: Record<string, unknown> = SM, region = 'us-east-1') =>
  normOne(ctRecord(eventName, { name, 'x-amz-account-id': '111122223333', ...(body ? { [`${eventName}Request`]: { xmlns: 'http://awss3control.amazonaws.com/doc/2018-08-20/', ...body } } : {}) }, {
    eventID: `apm-${++n}`, eventTime: time(), eventSource: 's3.amazonaws.com', awsRegion: region, responseElements: response,
    resources: [{ accountId: '111122223333', type: 'AWS::S3::AccessPoint', ARN: `arn:aws:s3:${region}:111122223333:accesspoint/${name}` }],
  }), cfg);
const createAp = (bucket: string, name = 'ml-ap', response: Record<string, unknown> | null = null, region = 'us-east-1') => control('CreateAccessPoint', name, { Bucket: bucket }, response, SM, region);
const deleteAp = (name = 'ml-ap') => control('DeleteAccessPoint', name, undefined);

const res = {
  object: (bucket: string, key = KEY) => ({ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` }),
  bucket: (bucket: string) => ({ accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }),
  ap: (arn = AP) => ({ accountId: '111122223333', type: 'AWS::S3::AccessPoint', ARN: arn }),
};
/** An S3 data event: `bucketName` the bucket, access point ARN or alias; resources[] as CloudTrail lists them (or fewer). */
const s3 = (eventName: string, bucketName: string, resources: Array<Record<string, unknown>>, key = KEY, cfg: Record<string, unknown> = SM, region = 'us-east-1', params: Record<string, unknown> = {}) =>
  normOne(ctRecord(eventName, { bucketName, key, ...params }, { eventID: `apm-${++n}`, eventTime: time(), eventSource: 's3.amazonaws.com', awsRegion: region, eventCategory: 'Data', managementEvent: false, responseElements: null, resources }), cfg);
/** A PutObject straight to a bucket: the record names only the bucket (and its object). */
const putBucket = (bucket = 'models', key = KEY, region = 'us-east-1') => s3('PutObject', bucket, [res.object(bucket, key), res.bucket(bucket)], key, SM, region);

const findings = (events: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts
  .filter((a) => a.rule_id === 'registry.approved_model_modified' && a.details.object);
const changes = (events: NormalizedEvent[], rules: Record<string, unknown> = {}) => findings(events, rules).map((a) => [a.details.change, a.details.object]);

describe('registry.approved_model_modified: an approved artifact overwritten under the access point\'s other name', () => {
  it('approved through the access point (object ARN, CLI s3://<ARN>/<key>), written straight to its bucket: the finding, once the map knows the bucket', () => {
    for (const url of [AP_OBJECT, `s3://${AP}/${KEY}`, `https://ml-ap-111122223333.s3-accesspoint.us-east-1.amazonaws.com/${KEY}`]) {
      // Before: nothing maps the access point to its bucket.
      expect([url, changes([register(url), approve(), putBucket()])]).toEqual([url, []]);
      const out = findings([createAp('models'), register(url), approve(), putBucket()]);
      expect([url, out.map((a) => [a.details.change, a.details.object])]).toEqual([url, [['artifact_overwritten', AP_OBJECT]]]);
      expect(out[0]!.details.access_point_mapping).toMatchObject({ written: `s3://models/${KEY}`, access_point: AP, bucket: 'models', learned_from: 'create' });
      expect(out[0]!.summary).toContain(`written as s3://models/${KEY}: access point ${AP} fronts bucket models`);
    }
    // Learned from a request through it instead (a read that names the bucket behind it).
    expect(changes([s3('GetObject', AP, [res.object('models', 'other/x'), res.bucket('models'), res.ap()], 'other/x'), register(AP_OBJECT), approve(), putBucket()])).toEqual([['artifact_overwritten', AP_OBJECT]]);
    // The access point created after the approval maps it all the same (the map is read at the write).
    expect(changes([register(AP_OBJECT), approve(), createAp('models'), putBucket()])).toEqual([['artifact_overwritten', AP_OBJECT]]);
  });

  it('approved by the access point\'s alias (SageMaker ModelDataUrl, MLflow source), written straight to its bucket: the finding', () => {
    const aliasUrl = `s3://${ALIAS}/${KEY}`;
    // The alias from the CreateAccessPoint response, or from a request made through the alias (it names the ARN and the bucket).
    const fromResponse = createAp('models', 'ml-ap', { CreateAccessPointResult: { AccessPointArn: AP, Alias: ALIAS } });
    expect(changes([fromResponse, register(aliasUrl), approve(), putBucket()])).toEqual([['artifact_overwritten', aliasUrl]]);
    const throughAlias = s3('GetObject', ALIAS, [res.object('models', 'x'), res.bucket('models'), res.ap()], 'x');
    expect(changes([createAp('models'), throughAlias, register(aliasUrl), approve(), putBucket()])).toEqual([['artifact_overwritten', aliasUrl]]);
    expect(changes([register(aliasUrl), approve(), putBucket()])).toEqual([]);
    // An MLflow version registered from the alias.
    const mlflow = (id: string, d: Record<string, unknown>) => {
      const t = time();
      n++;
      return { schema_version: '1', id, time: t, received_time: t, channel: 'mlflow.webhook', outcome: 'success', platform: 'mlflow', stage: 'registry', actor: { id: 'bob', name: 'bob', type: 'user' }, ...d } as unknown as NormalizedEvent;
    };
    const created = mlflow('mv3', { action: 'model_version.create', operation: 'model_version.created', resource: { type: 'model_version', name: 'fraud', version: '3' }, ml: { model: { name: 'fraud', version: '3', artifact_uri: aliasUrl } } });
    const approved = mlflow('al3', { action: 'model_version.alias_set', operation: 'model_version_alias.created', resource: { type: 'model_version', name: 'fraud', version: '3' }, ml: { model: { name: 'fraud', version: '3', aliases: ['champion'] } }, details: { alias: 'champion' } });
    expect(changes([fromResponse, created, approved, putBucket()])).toEqual([['artifact_overwritten', aliasUrl]]);
  });

  it('approved through the access point\'s ARN, written through its alias: the record naming the bucket and the ARN is the map itself', () => {
    expect(changes([register(AP_OBJECT), approve(), s3('PutObject', ALIAS, [res.object('models'), res.bucket('models'), res.ap()])])).toEqual([['artifact_overwritten', AP_OBJECT]]);
  });

  it('approved by the bucket, written through the alias in a record naming no bucket: the finding, by the alias the map knows', () => {
    const bare = () => s3('PutObject', ALIAS, [res.ap()], KEY, { model_buckets: ['models'] });
    expect(changes([register(`s3://models/${KEY}`), approve(), bare()])).toEqual([]);
    const fromResponse = createAp('models', 'ml-ap', { CreateAccessPointResult: { AccessPointArn: AP, Alias: ALIAS } });
    const out = findings([fromResponse, register(`s3://models/${KEY}`), approve(), bare()]);
    expect(out.map((a) => [a.details.change, a.details.object])).toEqual([['artifact_overwritten', `s3://models/${KEY}`]]);
    expect(out[0]!.details.access_point_mapping).toMatchObject({ written: `s3://${ALIAS}/${KEY}`, access_point: AP, alias: ALIAS, bucket: 'models' });
    // Through the ARN with no bucket named, likewise.
    expect(changes([createAp('models'), register(`s3://models/${KEY}`), approve(), s3('DeleteObject', AP, [res.ap()])])).toEqual([['artifact_deleted', `s3://models/${KEY}`]]);
  });

  it('access points made before mltrail ran: rules.access_points, by ARN or alias', () => {
    const rules = { access_points: [{ arn: AP, bucket: 'models' }, { alias: ALIAS, bucket: 's3://models' }] };
    expect(changes([register(AP_OBJECT), approve(), putBucket()], rules)).toEqual([['artifact_overwritten', AP_OBJECT]]);
    expect(changes([register(`s3://${ALIAS}/${KEY}`), approve(), putBucket()], rules)).toEqual([['artifact_overwritten', `s3://${ALIAS}/${KEY}`]]);
    expect(changes([register(`s3://models/${KEY}`), approve(), s3('PutObject', ALIAS, [], KEY)], rules)).toEqual([['artifact_overwritten', `s3://models/${KEY}`]]);
    expect(findings([register(AP_OBJECT), approve(), putBucket()], rules)[0]!.details.access_point_mapping).toMatchObject({ learned_from: 'config', bucket: 'models' });
    // Validated: an access point ARN (no Multi-Region or Object Lambda one), an alias, a bucket.
    expect(() => RulesConfig.parse({ access_points: [{ bucket: 'models' }] })).toThrow(/arn or alias/);
    expect(() => RulesConfig.parse({ access_points: [{ arn: 'arn:aws:s3::111122223333:accesspoint/mfzwi23gnjvgw.mrap', bucket: 'models' }] })).toThrow(/access point ARN/);
    expect(() => RulesConfig.parse({ access_points: [{ arn: 'arn:aws:s3-object-lambda:us-east-1:111122223333:accesspoint/ol', bucket: 'models' }] })).toThrow(/access point ARN/);
    expect(() => RulesConfig.parse({ access_points: [{ alias: 'ml-ap', bucket: 'models' }] })).toThrow(/alias/);
  });

  it('no false alarm: another key, another bucket, another access point, another partition', () => {
    const base = () => [createAp('models'), register(AP_OBJECT), approve()];
    expect(changes([...base(), putBucket('models', 'fraud/v4/model.tar.gz')])).toEqual([]);
    expect(changes([...base(), putBucket('scratch')])).toEqual([]);
    // Another access point of another bucket, same key.
    expect(changes([...base(), createAp('scratch', 'other-ap'), s3('PutObject', 'arn:aws:s3:us-east-1:111122223333:accesspoint/other-ap', [res.ap('arn:aws:s3:us-east-1:111122223333:accesspoint/other-ap')])])).toEqual([]);
    // A bucket of the same name in China is another bucket.
    expect(changes([...base(), putBucket('models', KEY, 'cn-north-1')])).toEqual([]);
    // An artifact approved by the bucket, written through an access point of another bucket whose record names no bucket.
    expect(changes([createAp('scratch'), register(`s3://models/${KEY}`), approve(), s3('PutObject', AP, [res.ap()])])).toEqual([]);
  });

  it('DeleteAccessPoint forgets the name; an artifact approved through it before stays the bucket\'s object', () => {
    // Approved before the deletion: a write to the bucket still alerts.
    const approvedBefore = findings([createAp('models'), register(AP_OBJECT), approve(), deleteAp(), putBucket()]);
    expect(approvedBefore.map((a) => a.details.object)).toEqual([AP_OBJECT]);
    expect(approvedBefore[0]!.details.access_point_mapping).toMatchObject({ deleted_at: expect.any(String) });
    expect(approvedBefore[0]!.summary).toContain('until it was deleted at');
    // Approved after it (the name free to front any bucket): the bucket's object is not that artifact...
    expect(changes([createAp('models'), deleteAp(), register(AP_OBJECT), approve(), putBucket()])).toEqual([]);
    // ...and a new access point of the name over another bucket maps it there.
    expect(changes([createAp('models'), deleteAp(), createAp('other'), register(AP_OBJECT), approve(), putBucket()])).toEqual([]);
    expect(changes([createAp('models'), deleteAp(), createAp('other'), register(AP_OBJECT), approve(), putBucket('other')])).toEqual([['artifact_overwritten', AP_OBJECT]]);
    // Deleted: a write through the name with no bucket named is no longer the bucket's.
    expect(changes([createAp('models'), deleteAp(), register(`s3://models/${KEY}`), approve(), s3('PutObject', AP, [res.ap()])])).toEqual([]);
  });

  it('a write in parts straight to the bucket over an artifact approved through the access point: judged at its completion, the part as evidence', () => {
    const inParts = (op: string) => s3(op, 'models', [res.object('models'), res.bucket('models')], KEY, SM, 'us-east-1', { uploadId: 'up-1', ...(op === 'UploadPart' ? { partNumber: '1' } : {}) });
    const before = [createAp('models'), register(AP_OBJECT), approve()];
    const part = inParts('UploadPart');
    const out = findings([...before, part, inParts('CompleteMultipartUpload')]);
    expect(out.map((a) => [a.details.change, a.details.object])).toEqual([['artifact_overwritten', AP_OBJECT]]);
    expect(out[0]!.evidence).toContain(part.id);
    expect(out[0]!.summary).toContain('made current by CompleteMultipartUpload');
  });

  it('a version deleted straight from the bucket (DeleteObjects naming it) over an artifact approved through the access point: the rollback, read for the object as written', () => {
    const before = [createAp('models'), register(AP_OBJECT), approve()];
    const del = s3('DeleteObjects', 'models', [{ type: 'AWS::S3::Object', ARNPrefix: 'arn:aws:s3:::models/' }, res.bucket('models')], KEY, SM, 'us-east-1', { delete: { Object: [{ Key: KEY, VersionId: '3HL4kqtJlcpXroDTDmJ' }] } });
    const out = findings([...before, del]);
    expect(out.map((a) => [a.details.change, a.details.object, a.details.version_rollback])).toEqual([['artifact_deleted', AP_OBJECT, { removed_version: '3HL4kqtJlcpXroDTDmJ' }]]);
  });

  it('the map is bounded per bucket: 50 access points; a new one beyond takes the place of one not approved through (making access points cannot push out that one), a deleted one makes room first', () => {
    const many = (count: number, from = 0) => Array.from({ length: count }, (_, i) => createAp('models', `ap-${String(from + i).padStart(3, '0')}`));
    // Records made in order (replay sorts by time).
    expect(changes([createAp('models'), register(AP_OBJECT), approve(), ...many(60), putBucket()])).toEqual([['artifact_overwritten', AP_OBJECT]]);
    // The bucket full, the 51st access point is mapped all the same (the least recently seen not pinned leaves): an
    // artifact approved through it is told from the bucket's writes.
    const late = 'arn:aws:s3:us-east-1:111122223333:accesspoint/late-ap';
    expect(changes([createAp('models'), ...many(49), createAp('models', 'late-ap'), register(`${late}/object/${KEY}`), approve(), putBucket()])).toEqual([['artifact_overwritten', `${late}/object/${KEY}`]]);
    // One deleted makes room for it.
    expect(changes([createAp('models'), ...many(49), deleteAp('ap-000'), createAp('models', 'late-ap'), register(`${late}/object/${KEY}`), approve(), putBucket()])).toEqual([['artifact_overwritten', `${late}/object/${KEY}`]]);
  });

  it('all 50 places pinned (an artifact approved through each): a new access point is still mapped, and the pinned ones stay', () => {
    // Each access point with a package of its own approved through it (pinning it).
    const pinnedAp = (i: number) => {
      const name = `team-${String(i).padStart(3, '0')}`;
      const pkg = `arn:aws:sagemaker:us-east-1:111122223333:model-package/team${i}/1`;
      const call = (op: string, params: Record<string, unknown>) => normOne(ctRecord(op, params, { eventID: `apm-${++n}`, eventTime: time(), responseElements: { modelPackageArn: pkg } }));
      return [createAp('models', name),
        call('CreateModelPackage', { modelPackageGroupName: `team${i}`, modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl: `arn:aws:s3:us-east-1:111122223333:accesspoint/${name}/object/team${i}/model.tar.gz` }] } }),
        call('UpdateModelPackage', { modelPackageArn: pkg, modelApprovalStatus: 'Approved' })];
    };
    const fifty = Array.from({ length: 50 }, (_, i) => pinnedAp(i)).flat();
    // The 51st, ml-ap, through which the fraud package is approved: mapped (before, not kept: the overwrite passed).
    expect(changes([...fifty, createAp('models'), register(AP_OBJECT), approve(), putBucket()])).toEqual([['artifact_overwritten', AP_OBJECT]]);
    // And 60 unpinned access points made after it push out none of the pinned: team-000's artifact overwritten is found.
    const flood = Array.from({ length: 60 }, (_, i) => createAp('models', `flood-${i}`));
    expect(changes([...fifty, ...flood, putBucket('models', 'team0/model.tar.gz')])).toEqual([['artifact_overwritten', 'arn:aws:s3:us-east-1:111122223333:accesspoint/team-000/object/team0/model.tar.gz']]);
  });

  it('a bucket with more than 50 access points: a new one is mapped, the least recently seen leaves; the one an artifact was approved through stays', () => {
    // 50 access points on the bucket (a data lake's teams), then ml-ap: the 51st, through which the package is approved.
    const flood = (from: number, count: number) => Array.from({ length: count }, (_, i) => createAp('models', `team-${from + i}`));
    const approvedThrough51st = [...flood(0, 50), createAp('models'), register(AP_OBJECT), approve(), putBucket()];
    expect(changes(approvedThrough51st)).toEqual([['artifact_overwritten', AP_OBJECT]]);
    // Then 100 more access points made on the bucket: the one an artifact was approved through is kept.
    const floodedAfter = [createAp('models'), register(AP_OBJECT), approve(), ...flood(100, 100), putBucket()];
    expect(changes(floodedAfter)).toEqual([['artifact_overwritten', AP_OBJECT]]);
  });
});


describe('pinned access points of one bucket are bounded (MAX_PINNED_PER_BUCKET)', () => {
  it('pinning one past the bound unpins the least recently seen; the one just pinned and the others stay pinned', () => {
    const store = new Map<string, unknown>();
    const ctx = { get: (k: string) => store.get(k), set: (k: string, v: unknown) => void store.set(k, structuredClone(v)), delete: (k: string) => void store.delete(k), cfg: { access_points: [] } } as unknown as RuleContext;
    const arn = (i: number) => `arn:aws:s3:us-east-1:111122223333:accesspoint/ap-${i}`;
    const at = (i: number) => new Date(Date.parse('2026-11-01T00:00:00Z') + i * 86_400_000).toISOString();
    for (let i = 0; i <= MAX_PINNED_PER_BUCKET; i++) {
      // ap-0 seen last of all (a later request through it), so ap-1 is the least recently seen.
      learnAccessPoint({ id: `e${i}`, time: i === 0 ? at(400) : at(i), operation: 'CreateAccessPoint', details: { access_point_bucket: { arn: arn(i), bucket: 'models' } } } as unknown as NormalizedEvent, ctx);
      pinAccessPoint(ctx, `${arn(i)}/object/k${i}/model.tar.gz`);
    }
    const list = store.get('apmap|b|models') as Array<{ arn: string; pinned?: true }>;
    expect(list).toHaveLength(MAX_PINNED_PER_BUCKET + 1);
    expect(list.filter((x) => !x.pinned).map((x) => x.arn)).toEqual([arn(1)]);
  });
});
