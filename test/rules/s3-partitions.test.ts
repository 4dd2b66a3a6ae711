import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { partitionOfEvent, partitionOfRegion, partitionOfUri, partitionOfVersion } from '../../core/rules/facts.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * S3 bucket names are unique in a partition, not across them: `s3://models/…` in aws-cn is another bucket than
 * `s3://models/…` in aws. A write is in the partition of its record's region (CloudTrail `awsRegion`); an artifact in
 * the one its URL tells, else its SageMaker account's region's, else `aws`.
 */
const KEY = 'fraud/v3/model.tar.gz';
const IMAGE = '763104351884.dkr.ecr.us-east-1.amazonaws.com/xgboost-inference:1.7-1-cpu-py3';
const REGIONS: Record<string, string> = { aws: 'us-east-1', 'aws-cn': 'cn-north-1', 'aws-us-gov': 'us-gov-west-1' };
const pkg = (p: string, n = 3) => `arn:${p}:sagemaker:${REGIONS[p]}:111122223333:model-package/fraud/${n}`;
let n = 0;
const time = () => `2026-11-25T1${Math.floor(n / 60)}:${String(n % 60).padStart(2, '0')}:00Z`;
const api = (p: string, name: string, params: Record<string, unknown>, response: Record<string, unknown> | null) =>
  normOne(ctRecord(name, params, { eventID: `part-${++n}`, eventTime: time(), awsRegion: REGIONS[p], responseElements: response }));
const register = (p: string, modelDataUrl = `s3://models/${KEY}`, v = 3, status = 'PendingManualApproval') =>
  api(p, 'CreateModelPackage', { modelPackageGroupName: 'fraud', modelApprovalStatus: status, inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl }] } }, { modelPackageArn: pkg(p, v) });
const decide = (p: string, status: string, v = 3) => api(p, 'UpdateModelPackage', { modelPackageArn: pkg(p, v), modelApprovalStatus: status }, { modelPackageArn: pkg(p, v) });
const put = (p: string) => normOne(ctRecord('PutObject', { bucketName: 'models', key: KEY }, {
  eventID: `part-${++n}`, eventTime: time(), awsRegion: REGIONS[p], eventSource: 's3.amazonaws.com', eventCategory: 'Data', responseElements: null,
  resources: [{ type: 'AWS::S3::Object', ARN: `arn:${p}:s3:::models/${KEY}` }, { accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: `arn:${p}:s3:::models` }],
}), { model_buckets: ['models'] });
/** A PutObject whose record has no awsRegion (a shipper dropping it, a hand-made record); `arn`: its caller's ARN, or none. */
const putRegionless = (arn: string | undefined) => {
  const rec = ctRecord('PutObject', { bucketName: 'models', key: KEY }, { eventID: `part-${++n}`, eventTime: time(), eventSource: 's3.amazonaws.com', eventCategory: 'Data', responseElements: null });
  delete rec.awsRegion;
  const who = rec.userIdentity as Record<string, unknown>;
  if (arn) who.arn = arn;
  else { delete who.arn; delete who.sessionContext; }
  return normOne(rec, { model_buckets: ['models'] });
};
const alerts = (events: NormalizedEvent[], rule: string, rules: Record<string, unknown> = {}) => replayEvents(events, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === rule);
const changes = (events: NormalizedEvent[], rules: Record<string, unknown> = {}) => alerts(events, 'registry.approved_model_modified', rules).filter((a) => a.details.object).map((a) => [a.entity.id, a.details.object]);

describe('S3 objects are told apart by partition', () => {
  it('partitions of regions, URLs and versions', () => {
    expect(['us-east-1', 'cn-northwest-1', 'us-gov-west-1', 'us-iso-east-1', 'us-isob-east-1', 'eu-isoe-west-1', 'us-isof-south-1', 'eusc-de-east-1', undefined].map(partitionOfRegion))
      .toEqual(['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc', 'aws']);
    expect([
      'https://models.s3.cn-north-1.amazonaws.com.cn/x', 'https://s3.amazonaws.com.cn/models/x', 'https://models.s3-fips.us-gov-west-1.amazonaws.com/x', 'https://s3-fips-us-gov-west-1.amazonaws.com/models/x',
      'https://models.s3.amazonaws.com/x', 'https://models.s3.us-iso-east-1.c2s.ic.gov/x', 'arn:aws-cn:s3:cn-north-1:111122223333:accesspoint/ap/object/x', 's3://models/x', 'https://example.com/x', 'gs://b/x',
    ].map(partitionOfUri)).toEqual(['aws-cn', 'aws-cn', 'aws-us-gov', 'aws-us-gov', 'aws', 'aws-iso', 'aws-cn', undefined, undefined, undefined]);
    expect(partitionOfVersion({ platform: 'sagemaker', scope: '111122223333:cn-north-1', artifact: 's3://models/x' })).toBe('aws-cn');
    // An MLflow (Vertex, Kubeflow) version's s3:// artifact says no partition: not known, matched by any.
    expect(partitionOfVersion({ platform: 'mlflow', scope: 'cn-north-1', artifact: 's3://models/x' })).toBeUndefined();
  });

  it('a write in another partition on a bucket of the same name is not a write to the approved artifact', () => {
    expect(changes([register('aws'), decide('aws', 'Approved'), put('aws-cn')])).toEqual([]);
    expect(changes([register('aws-cn'), decide('aws-cn', 'Approved'), put('aws')])).toEqual([]);
    // In its own partition it is the finding, either way.
    expect(changes([register('aws'), decide('aws', 'Approved'), put('aws')])).toEqual([['111122223333:us-east-1:fraud/3', `s3://models/${KEY}`]]);
    expect(changes([register('aws-cn'), decide('aws-cn', 'Approved'), put('aws-cn')])).toEqual([['111122223333:cn-north-1:fraud/3', `s3://models/${KEY}`]]);
    // Both packages approved, one write: only its partition's version changed.
    expect(changes([register('aws'), decide('aws', 'Approved'), register('aws-cn'), decide('aws-cn', 'Approved'), put('aws-cn')])).toEqual([['111122223333:cn-north-1:fraud/3', `s3://models/${KEY}`]]);
  });

  it('an artifact registered by a China S3 URL is in aws-cn, whatever else says: an aws write is not on it', () => {
    const url = `https://models.s3.cn-north-1.amazonaws.com.cn/${KEY}`;
    expect(changes([register('aws-cn', url), decide('aws-cn', 'Approved'), put('aws-cn')])).toEqual([['111122223333:cn-north-1:fraud/3', `s3://models/${KEY}`]]);
    expect(changes([register('aws-cn', url), decide('aws-cn', 'Approved'), put('aws')])).toEqual([]);
  });

  it('a rejection is of the weights in its partition: the same bucket and key approved in another partition reverses nothing', () => {
    const RULE = 'registry.rejection_reversed';
    // Rejected in aws-cn (kept with its partition), approved as a new package of the same name in aws.
    expect(alerts([register('aws-cn'), decide('aws-cn', 'Rejected'), register('aws', `s3://models/${KEY}`, 4), decide('aws', 'Approved', 4)], RULE)).toEqual([]);
    // In the same partition it is the reversal.
    expect(alerts([register('aws-cn'), decide('aws-cn', 'Rejected'), register('aws-cn', `s3://models/${KEY}`, 4), decide('aws-cn', 'Approved', 4)], RULE).map((a) => a.details.rejected_version)).toEqual(['fraud/3']);
    // An approval in another partition does not settle the rejection: approved again in its own, still reversed.
    expect(alerts([register('aws-cn'), decide('aws-cn', 'Rejected'), register('aws', `s3://models/${KEY}`, 4), decide('aws', 'Approved', 4), register('aws-cn', `s3://models/${KEY}`, 5), decide('aws-cn', 'Approved', 5)], RULE).map((a) => [a.entity.id, a.details.rejected_version]))
      .toEqual([['111122223333:cn-north-1:fraud/5', 'fraud/3']]);
  });

  it('an MLflow version\'s s3:// artifact (no partition told) is matched by a write in any partition: a GovCloud or China MLflow is watched', () => {
    const mlflow = (id: string, t: string, d: Record<string, unknown>) =>
      ({ schema_version: '1', id, time: t, received_time: t, channel: 'mlflow.webhook', outcome: 'success', platform: 'mlflow', stage: 'registry', actor: { id: 'bob', name: 'bob', type: 'user' }, ...d }) as unknown as NormalizedEvent;
    const model = { name: 'fraud', version: '3', artifact_uri: `s3://models/${KEY}` };
    const created = mlflow('mv3', '2026-11-25T09:00:00Z', { action: 'model_version.create', operation: 'model_version.created', resource: { type: 'model_version', name: 'fraud', version: '3' }, ml: { model } });
    const approved = mlflow('al3', '2026-11-25T09:30:00Z', { action: 'model_version.alias_set', operation: 'model_version_alias.created', resource: { type: 'model_version', name: 'fraud', version: '3' }, ml: { model: { name: 'fraud', version: '3', aliases: ['champion'] } }, details: { alias: 'champion' } });
    for (const p of ['aws', 'aws-cn']) {
      n = 0;
      expect(changes([created, approved, put(p)]).map(([, object]) => object)).toEqual([`s3://models/${KEY}`]);
    }
  });

  it('rules.artifact_partitions says which partition an MLflow server\'s s3:// artifacts are in: only a write there matches', () => {
    const mlflow = (id: string, t: string, d: Record<string, unknown>, server?: string) =>
      ({ schema_version: '1', id, time: t, received_time: t, channel: 'mlflow.webhook', outcome: 'success', platform: 'mlflow', stage: 'registry', actor: { id: 'bob', name: 'bob', type: 'user' }, ...d, ...(server ? { cloud: { provider: 'other', account: server } } : {}) }) as unknown as NormalizedEvent;
    const created = (server?: string) => mlflow(`mv3${server ?? ''}`, '2026-11-25T09:00:00Z', { action: 'model_version.create', operation: 'model_version.created', resource: { type: 'model_version', name: 'fraud', version: '3' }, ml: { model: { name: 'fraud', version: '3', artifact_uri: `s3://models/${KEY}` } } }, server);
    const approved = (server?: string) => mlflow(`al3${server ?? ''}`, '2026-11-25T09:30:00Z', { action: 'model_version.alias_set', operation: 'model_version_alias.created', resource: { type: 'model_version', name: 'fraud', version: '3' }, ml: { model: { name: 'fraud', version: '3', aliases: ['champion'] } }, details: { alias: 'champion' } }, server);
    const objects = (events: NormalizedEvent[], rules: Record<string, unknown>) => changes(events, rules).map(([, object]) => object);
    const commercial = { artifact_partitions: { mlflow: 'aws' } };
    // A commercial-partition MLflow: China and GovCloud writes to a bucket of the same name are other buckets.
    for (const p of ['aws-cn', 'aws-us-gov']) {
      n = 0;
      expect(objects([created(), approved(), put(p)], commercial)).toEqual([]);
    }
    n = 0;
    expect(objects([created(), approved(), put('aws')], commercial)).toEqual([`s3://models/${KEY}`]);
    // …and the other way round: a GovCloud MLflow is not changed by a commercial or China write.
    const gov = { artifact_partitions: { mlflow: 'aws-us-gov' } };
    for (const p of ['aws', 'aws-cn']) {
      n = 0;
      expect(objects([created(), approved(), put(p)], gov)).toEqual([]);
    }
    n = 0;
    expect(objects([created(), approved(), put('aws-us-gov')], gov)).toEqual([`s3://models/${KEY}`]);
    // A configured server (its events scoped by fromServer) in GovCloud beside a commercial default server.
    const both = { artifact_partitions: { mlflow: 'aws', 'mlflow:gov': 'aws-us-gov' } };
    n = 0;
    expect(changes([created('gov'), approved('gov'), put('aws')], both)).toEqual([]);
    n = 0;
    expect(changes([created('gov'), approved('gov'), put('aws-us-gov')], both).map(([e]) => e)).toEqual(['gov:fraud/3']);
  });

  it('rules.artifact_partitions: an `mlflow:<server>` entry is that configured server\'s, over `mlflow`; a bad key or partition is refused', () => {
    const cfg = { artifact_partitions: { mlflow: 'aws', 'mlflow:gov': 'aws-us-gov' } };
    expect(partitionOfVersion({ platform: 'mlflow', scope: 'gov', artifact: 's3://models/x' }, cfg)).toBe('aws-us-gov');
    expect(partitionOfVersion({ platform: 'mlflow', scope: 'gov/team-a', artifact: 's3://models/x' }, cfg)).toBe('aws-us-gov');
    expect(partitionOfVersion({ platform: 'mlflow', scope: '/team-a', artifact: 's3://models/x' }, cfg)).toBe('aws');
    expect(partitionOfVersion({ platform: 'mlflow', scope: 'team', artifact: 's3://models/x' }, cfg)).toBe('aws');
    expect(partitionOfVersion({ platform: 'mlflow', artifact: 's3://models/x' }, cfg)).toBe('aws');
    // What the URI itself tells wins; another platform's unset entry leaves it unknown.
    expect(partitionOfVersion({ platform: 'mlflow', scope: 'gov', artifact: 'https://models.s3.cn-north-1.amazonaws.com.cn/x' }, cfg)).toBe('aws-cn');
    expect(partitionOfVersion({ platform: 'kubeflow', artifact: 's3://models/x' }, cfg)).toBeUndefined();
    expect(RulesConfig.parse({ artifact_partitions: { 'mlflow:gov': 'aws-us-gov', vertex: 'aws' } }).artifact_partitions).toEqual({ 'mlflow:gov': 'aws-us-gov', vertex: 'aws' });
    expect(() => RulesConfig.parse({ artifact_partitions: { mlflow: 'aws-gov' } })).toThrow();
    expect(() => RulesConfig.parse({ artifact_partitions: { sagemaker: 'aws' } })).toThrow();
  });

  it('a write whose record names no region is in the partition its caller\'s ARN names, else in any: never dropped as aws', () => {
    const CN_CALLER = 'arn:aws-cn:sts::111122223333:assumed-role/MLEngineer/alice';
    expect(partitionOfEvent({ actor: { id: CN_CALLER } })).toBe('aws-cn');
    expect(partitionOfEvent({ cloud: { region: 'us-gov-west-1' }, actor: { id: CN_CALLER } })).toBe('aws-us-gov');
    expect(partitionOfEvent({})).toBeUndefined();
    const cn = '111122223333:cn-north-1:fraud/3';
    // Read as aws before: the China artifact's overwrite went unjudged.
    expect(changes([register('aws-cn'), decide('aws-cn', 'Approved'), putRegionless(CN_CALLER)]).map(([e]) => e)).toEqual([cn]);
    expect(changes([register('aws-cn'), decide('aws-cn', 'Approved'), putRegionless(undefined)]).map(([e]) => e)).toEqual([cn]);
    expect(changes([register('aws'), decide('aws', 'Approved'), putRegionless(undefined)]).map(([e]) => e)).toEqual(['111122223333:us-east-1:fraud/3']);
    // The caller's ARN still tells another partition's bucket apart.
    expect(changes([register('aws'), decide('aws', 'Approved'), putRegionless(CN_CALLER)])).toEqual([]);
  });
});
