import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig, createRuleEngine } from '../../core/rules/engine.js';
import { MemoryStateStore } from '../../core/state/index.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, fx, norm, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * S3 writes in parts as the rules judge them: at the `CompleteMultipartUpload` that makes the parts the object, by the
 * writers of the parts and the completion, whatever order CloudTrail delivers the records in. The S3 records are the
 * shared PutObject data event (the Step Functions tutorial's CloudTrail record) with the multipart calls' request
 * parameters (`uploadId`, `partNumber`) as CloudTrail logs them.
 */

const SM = { training_buckets: ['ml-training-data'], model_buckets: ['ml-models'] };
const ACCOUNT = '111122223333';
const PKG = `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/fraud/4`;
const KEY = 'churn/part-9.parquet';
const S3_RECORD = fx<{ detail: Record<string, unknown> }>('eventbridge-cloudtrail-s3-putobject.stepfunctions-docs.json').detail;
let n = 0;

const user = (name: string) => ({ type: 'IAMUser', principalId: `AIDA${name.toUpperCase()}`, arn: `arn:aws:iam::${ACCOUNT}:user/${name}`, accountId: ACCOUNT, accessKeyId: `AKIA${name.toUpperCase()}`, userName: name });
const alice = user('alice');
const etl = user('etl');
const bob = user('bob');

/** An S3 call on the training bucket, shaped as the fixture's record. */
function s3(eventName: string, time: string, who: Record<string, unknown>, params: Record<string, unknown>, key = KEY): Record<string, unknown> {
  return {
    ...S3_RECORD, eventName, eventTime: time, eventID: `mp-${++n}`, userIdentity: who, recipientAccountId: ACCOUNT, awsRegion: 'us-east-1',
    requestParameters: { bucketName: 'ml-training-data', Host: 'ml-training-data.s3.us-east-1.amazonaws.com', key, ...params },
    resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::ml-training-data/${key}` }, { accountId: ACCOUNT, type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::ml-training-data' }],
  };
}
const create = (time: string, who = alice) => s3('CreateMultipartUpload', time, who, { uploads: '' });
const part = (n: number, time: string, who = alice, id = 'up-9') => s3('UploadPart', time, who, { partNumber: String(n), uploadId: id });
const end = (op: 'CompleteMultipartUpload' | 'AbortMultipartUpload', time: string, who = alice, id = 'up-9') => s3(op, time, who, { uploadId: id });

/** alice approves package 4 of fraud (the release separation_of_duties pairs with her writes). */
const approve = (time: string, who = alice) =>
  ctRecord('UpdateModelPackage', { modelPackageArn: PKG, modelApprovalStatus: 'Approved' }, { eventTime: time, eventID: `mp-${++n}`, userIdentity: who, recipientAccountId: ACCOUNT, responseElements: { modelPackageArn: PKG } });

const events = (records: Record<string, unknown>[]): NormalizedEvent[] => records.flatMap((r) => norm(r, SM).events);
const id = (r: Record<string, unknown>) => normOne(r, SM).id;

/** Records in arrival order, as `serve` judges a live stream, each received at `at` (default: its event time). */
function arriving(records: Array<Record<string, unknown> | [Record<string, unknown>, string]>, rule: string): Alert[] {
  const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
  return records.flatMap((x) => {
    const [r, at] = Array.isArray(x) ? x : [x, undefined];
    return events([r]).flatMap((e) => engine.process({ ...e, received_time: at ?? e.time }, Date.parse(at ?? e.time)));
  }).filter((a) => a.rule_id === rule);
}
const replayed = (records: Record<string, unknown>[], rule: string): Alert[] => replayEvents(events(records), { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === rule);

const DUTIES = 'access.separation_of_duties';

describe('access.separation_of_duties: training data written in parts', () => {
  it('an upload in parts counts as a write at its completion only: started or aborted, alice wrote nothing', () => {
    const [c, p1, p2] = [create('2026-11-10T03:00:00Z'), part(1, '2026-11-10T03:00:01Z'), part(2, '2026-11-10T03:00:02Z')];
    expect(arriving([c, p1, p2, end('AbortMultipartUpload', '2026-11-10T03:00:09Z'), approve('2026-11-10T05:00:00Z')], DUTIES)).toEqual([]);
    // The abort delivered first, its parts after it: still nothing.
    expect(arriving([end('AbortMultipartUpload', '2026-11-10T03:00:09Z'), c, p1, p2, approve('2026-11-10T05:00:00Z')], DUTIES)).toEqual([]);
    const done = end('CompleteMultipartUpload', '2026-11-10T03:00:09Z');
    const fired = arriving([c, p1, p2, done, approve('2026-11-10T05:00:00Z')], DUTIES);
    expect(fired.map((a) => [a.entity.id, a.evidence.slice(0, 2), a.details.data_write])).toEqual([[
      'alice', [id(p1), id(done)], { time: '2026-11-10T03:00:09.000Z', event: id(done), what: `wrote s3://ml-training-data/${KEY}`, operation: 'UploadPart, made current by CompleteMultipartUpload' },
    ]]);
    expect(fired[0]!.summary).toContain('(2026-11-10T03:00:09.000Z, UploadPart, made current by CompleteMultipartUpload)');
  });

  it('the writers of an upload are its parts\' and its completion\'s: not who only started it, and a part\'s writer whoever completed it', () => {
    // bob starts the upload (CreateMultipartUpload writes no bytes), the pipeline uploads and completes it; bob approves.
    const pipeline = [create('2026-11-10T03:00:00Z', bob), part(1, '2026-11-10T03:00:01Z', etl), end('CompleteMultipartUpload', '2026-11-10T03:00:09Z', etl)];
    expect(arriving([...pipeline, approve('2026-11-10T05:00:00Z', bob)], DUTIES)).toEqual([]);
    // alice adds a part to the pipeline's upload, the pipeline completes it: alice wrote it, judged at the completion.
    const p1 = part(1, '2026-11-10T03:00:01Z', etl);
    const injected = part(2, '2026-11-10T03:00:02Z', alice);
    const done = end('CompleteMultipartUpload', '2026-11-10T03:00:09Z', etl);
    for (const order of [[p1, injected, done], [injected, p1, done]]) {
      const fired = arriving([...order, approve('2026-11-10T05:00:00Z')], DUTIES);
      expect(fired.map((a) => [a.entity.id, a.evidence.slice(0, 2), a.details.data_write])).toEqual([[
        'alice', [id(injected), id(done)], { time: '2026-11-10T03:00:09.000Z', event: id(injected), what: `wrote s3://ml-training-data/${KEY}`, operation: 'UploadPart, made current by CompleteMultipartUpload' },
      ]]);
    }
    // Aborted: alice's part wrote nothing.
    expect(arriving([p1, injected, end('AbortMultipartUpload', '2026-11-10T03:00:09Z', etl), approve('2026-11-10T05:00:00Z')], DUTIES)).toEqual([]);
  });

  it('an upload with no completion or abort seen in 7 days counts as its writer\'s write then, dated at its part, said to be unjudged', () => {
    const p1 = part(1, '2026-11-10T03:00:01Z');
    const ap = approve('2026-11-10T05:00:00Z');
    const later = s3('PutObject', '2026-11-17T03:10:00Z', etl, {}, 'churn/part-10.parquet');
    expect(arriving([p1, ap], DUTIES)).toEqual([]);
    const fired = arriving([p1, ap, later], DUTIES);
    expect(fired.map((a) => [a.entity.id, a.time, a.evidence, a.details.data_write])).toEqual([[
      'alice', '2026-11-10T05:00:00.000Z', [id(p1), id(ap)], { time: '2026-11-10T03:00:01.000Z', event: id(p1), what: `started writing s3://ml-training-data/${KEY} in parts`, operation: 'UploadPart', unjudged: 'not_completed', upload_id: 'up-9' },
    ]]);
    expect(fired[0]!.summary).toContain('whether the upload was completed can no longer be judged: no completion or abort seen within 7 days');
  });
});
