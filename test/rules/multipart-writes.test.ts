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
function s3(eventName: string, time: string, who: Record<string, unknown>, params: Record<string, unknown>, key = KEY, bucket = 'ml-training-data'): Record<string, unknown> {
  return {
    ...S3_RECORD, eventName, eventTime: time, eventID: `mp-${++n}`, userIdentity: who, recipientAccountId: ACCOUNT, awsRegion: 'us-east-1',
    requestParameters: { bucketName: bucket, Host: `${bucket}.s3.us-east-1.amazonaws.com`, key, ...params },
    resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` }, { accountId: ACCOUNT, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }],
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
function arriving(records: Array<Record<string, unknown> | [Record<string, unknown>, string]>, rule: string, rules: Record<string, unknown> = {}): Alert[] {
  const engine = createRuleEngine(RulesConfig.parse(rules), new MemoryStateStore());
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

const MODIFIED = 'registry.approved_model_modified';
const ARTIFACT_KEY = 'fraud/v4/model.tar.gz';
const ARTIFACT = `s3://ml-models/${ARTIFACT_KEY}`;
/** Package 4 of fraud, its model at ARTIFACT, approved (by bob). */
const approvedPackage = () => [
  ctRecord('CreateModelPackage', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/fraud@sha256:${'a'.repeat(64)}`, modelDataUrl: ARTIFACT }] } },
    { eventTime: '2026-11-20T10:00:00Z', eventID: `mp-${++n}`, recipientAccountId: ACCOUNT, responseElements: { modelPackageArn: PKG } }),
  approve('2026-11-20T10:30:00Z', bob),
];
/** A call of an upload in parts over the approved artifact. */
const onArtifact = (eventName: string, time: string, params: Record<string, unknown>, uploadId = 'u1') => s3(eventName, time, etl, { uploadId, ...params }, ARTIFACT_KEY, 'ml-models');
const judged = (as: Alert[]) => as.map((a) => [a.details.change, a.details.unjudged, a.evidence.slice(1)]);

describe('the multipart hold: CloudTrail delivery order is not event order', () => {
  const p1 = onArtifact('UploadPart', '2026-11-20T12:00:01Z', { partNumber: '1' });
  const p2 = onArtifact('UploadPart', '2026-11-20T12:00:02Z', { partNumber: '2' });
  const done = onArtifact('CompleteMultipartUpload', '2026-11-20T12:00:09Z', {});
  /** Another upload aborted with nothing held, a day later: the completion's memory is looked over then. */
  const otherAborted = onArtifact('AbortMultipartUpload', '2026-11-21T13:00:00Z', {}, 'u2');
  /** Traffic 9 days on: the hold is swept. */
  const weekLater = s3('PutObject', '2026-11-29T12:00:00Z', etl, {}, 'scratch/x.bin', 'ml-models');

  it('a completion delivered more than a day before its parts settles them when they come: no week-late artifact_upload_unjudged', () => {
    const fired = arriving([...approvedPackage(), done, otherAborted, [p1, '2026-11-21T14:00:00Z'], [p2, '2026-11-21T14:00:00Z'], weekLater], MODIFIED);
    expect(judged(fired)).toEqual([['artifact_overwritten', undefined, [id(done)]]]);
    // Replay sorts by event time: the parts come first, the completion judges them.
    expect(judged(replayed([...approvedPackage(), done, otherAborted, p1, p2, weekLater], MODIFIED))).toEqual([['artifact_overwritten', undefined, [id(p1), id(done)]]]);
  });

  it('a part delivered after the completion or abort that ended its held upload is not held again: no week-late artifact_upload_unjudged', () => {
    const aborted = onArtifact('AbortMultipartUpload', '2026-11-20T12:00:09Z', {});
    expect(judged(arriving([...approvedPackage(), p1, aborted, p2, weekLater], MODIFIED))).toEqual([]);
    expect(judged(arriving([...approvedPackage(), p1, done, p2, weekLater], MODIFIED))).toEqual([['artifact_overwritten', undefined, [id(p1), id(done)]]]);
  });

  it('records delivered twice (the same event id) are judged once: a part again after its completion is not held, a completion again is no second write', () => {
    expect(judged(arriving([...approvedPackage(), p1, p2, done, p1, weekLater], MODIFIED))).toEqual([['artifact_overwritten', undefined, [id(p1), id(done)]]]);
    // Each finding the rule makes, not only the first of a suppression period: a repeat would hide here.
    const unsuppressed = { 'registry.approved_model_modified': { suppress: '0s' } };
    expect(judged(arriving([...approvedPackage(), p1, p2, done, p1, done, weekLater], MODIFIED, unsuppressed))).toEqual([['artifact_overwritten', undefined, [id(p1), id(done)]]]);
    // The completion delivered first, then again after its parts: one write, the parts not held.
    expect(judged(arriving([...approvedPackage(), done, p1, done, p1, weekLater], MODIFIED, unsuppressed))).toEqual([['artifact_overwritten', undefined, [id(done)]]]);
  });

  it('completions that ended held uploads leave the bounded memory before one still waiting for its parts', () => {
    // 500 uploads completed in order after the completion delivered ahead of its parts: its parts still find it.
    const busy = Array.from({ length: 500 }, (_, i) => [onArtifact('UploadPart', '2026-11-20T12:30:00Z', { partNumber: '1' }, `b${i}`), onArtifact('CompleteMultipartUpload', '2026-11-20T12:30:01Z', {}, `b${i}`)]).flat();
    const fired = arriving([...approvedPackage(), done, ...busy, [p1, '2026-11-20T13:00:00Z'], weekLater], MODIFIED);
    expect(fired.filter((a) => a.details.change === 'artifact_upload_unjudged')).toEqual([]);
  });

  it('another writer\'s part delivered after the completion is that writer\'s write, once: separation_of_duties and unfamiliar_writer judge it as when it came first', () => {
    const injected = part(2, '2026-11-10T03:00:02Z', alice);
    const p1 = part(1, '2026-11-10T03:00:01Z', etl);
    const done = end('CompleteMultipartUpload', '2026-11-10T03:00:09Z', etl);
    const fired = arriving([done, p1, injected, injected, approve('2026-11-10T05:00:00Z')], DUTIES);
    expect(fired.map((a) => [a.entity.id, a.evidence.slice(0, 2), (a.details.data_write as { operation?: string }).operation])).toEqual([['alice', [id(injected), id(done)], 'UploadPart, made current by CompleteMultipartUpload']]);
    // The pipeline's own parts after its completion: no write of anyone else's.
    expect(arriving([done, p1, approve('2026-11-10T05:00:00Z', etl)], DUTIES).map((a) => a.evidence)).toEqual([[id(done), expect.any(String)]]);
    const history = Array.from({ length: 9 }, (_, i) => s3('PutObject', `2026-11-0${i + 1}T02:00:00Z`, etl, {}, `churn/part-${i}.parquet`));
    const writer = arriving([...history, done, p1, injected, injected], 'ingestion.unfamiliar_writer');
    expect(writer.map((a) => [a.details.identity, a.evidence])).toEqual([['alice', [id(injected), id(done)]]]);
  });
});

describe('the multipart hold: floods, retries and redeliveries judge each upload once', () => {
  const p1 = onArtifact('UploadPart', '2026-11-20T12:00:01Z', { partNumber: '1' });
  const p2 = onArtifact('UploadPart', '2026-11-20T12:00:02Z', { partNumber: '2' });
  const done = onArtifact('CompleteMultipartUpload', '2026-11-20T12:00:09Z', {});
  /** The client's retry of `done` after a timeout: CloudTrail logs it as a record of its own (another event id), same upload id. */
  const retried = onArtifact('CompleteMultipartUpload', '2026-11-20T12:01:10Z', {});
  /** A retry S3 refused: the upload was completed by the first call. */
  const refused = { ...onArtifact('CompleteMultipartUpload', '2026-11-20T12:01:20Z', {}), errorCode: 'NoSuchUpload', errorMessage: 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.' };
  const weekLater = s3('PutObject', '2026-11-29T12:00:00Z', etl, {}, 'scratch/x.bin', 'ml-models');
  const twoWeeksLater = s3('PutObject', '2026-12-08T12:00:00Z', etl, {}, 'scratch/y.bin', 'ml-models');
  const unsuppressed = { [MODIFIED]: { suppress: '0s' }, [DUTIES]: { suppress: '0s' } };

  it('500 uploads started and aborted at once do not push out a completion still waiting for its parts', () => {
    // Create and abort cost nothing and write nothing: anyone able to write the artifact can send 500 of them.
    const flood = Array.from({ length: 500 }, (_, i) => [onArtifact('CreateMultipartUpload', '2026-11-20T12:10:00Z', { uploads: '' }, `f${i}`), onArtifact('AbortMultipartUpload', '2026-11-20T12:10:01Z', {}, `f${i}`)]).flat();
    const store = new MemoryStateStore();
    const engine = createRuleEngine(RulesConfig.parse({}), store);
    const fired = [...approvedPackage(), done, ...flood, [p1, '2026-11-20T13:00:00Z'] as const, weekLater].flatMap((x) => {
      const [r, at] = Array.isArray(x) ? x : [x, undefined];
      return events([r as Record<string, unknown>]).flatMap((e) => engine.process({ ...e, received_time: at ?? e.time }, Date.parse(at ?? e.time)));
    }).filter((a) => a.rule_id === MODIFIED);
    expect(judged(fired)).toEqual([['artifact_overwritten', undefined, [id(done)]]]);
    // Still bounded: at most 500 aborts remembered beside the completion.
    const ended = store.list('rules.kind').find((x) => x.key === `${MODIFIED}|mpu-ended`)!.value as Record<string, { operation: string }>;
    expect(Object.values(ended).filter((e) => e.operation === 'AbortMultipartUpload')).toHaveLength(500);
    expect(Object.keys(ended)).toContain(`${ARTIFACT}|u1`);
  });

  it('a completion retried under another event id is one write of the upload: approved_model_modified, separation_of_duties', () => {
    for (const order of [[p1, p2, done, retried, refused], [done, retried, p1, p2], [p1, done, refused, retried, p2]]) {
      expect(judged(arriving([...approvedPackage(), ...order, weekLater], MODIFIED, unsuppressed))).toEqual([['artifact_overwritten', undefined, order[0] === done ? [id(done)] : [id(p1), id(done)]]]);
    }
    expect(judged(replayed([...approvedPackage(), p1, p2, done, retried, refused, weekLater], MODIFIED))).toEqual([['artifact_overwritten', undefined, [id(p1), id(done)]]]);
    // alice approved, then wrote training data in parts; her client retried the completion: one write judged.
    const tp1 = part(1, '2026-11-10T06:00:01Z');
    const tdone = end('CompleteMultipartUpload', '2026-11-10T06:00:09Z');
    const tretry = end('CompleteMultipartUpload', '2026-11-10T06:01:09Z');
    const fired = arriving([approve('2026-11-10T05:00:00Z'), tp1, tdone, tretry], DUTIES, unsuppressed);
    expect(fired.map((a) => a.evidence.slice(1))).toEqual([[id(tp1), id(tdone)]]);
  });

  it('a first part delivered again after its upload was reported unjudged is not reported again', () => {
    const fired = arriving([...approvedPackage(), p1, weekLater, p1, p2, twoWeeksLater], MODIFIED, unsuppressed);
    expect(judged(fired)).toEqual([['artifact_upload_unjudged', 'not_completed', [id(p1)]]]);
    const tp1 = part(1, '2026-11-10T03:00:01Z');
    const later = (d: string) => s3('PutObject', `2026-11-${d}T03:10:00Z`, etl, {}, 'churn/part-10.parquet');
    const duties = arriving([tp1, approve('2026-11-10T05:00:00Z'), later('17'), tp1, later('25')], DUTIES, unsuppressed);
    expect(duties.map((a) => [(a.details.data_write as { unjudged?: string }).unjudged, a.evidence[0]])).toEqual([['not_completed', id(tp1)]]);
    // A writer not reported yet whose part comes after the report is held and judged: alice's part into etl's upload.
    const stranger = part(2, '2026-11-10T03:00:02Z', alice);
    const etlPart = part(1, '2026-11-10T03:00:01Z', etl);
    const strangerLater = arriving([etlPart, approve('2026-11-10T05:00:00Z'), later('17'), stranger, end('CompleteMultipartUpload', '2026-11-10T03:00:09Z', etl)], DUTIES, unsuppressed);
    expect(strangerLater.map((a) => [a.entity.id, (a.details.data_write as { event: string }).event])).toEqual([['alice', id(stranger)]]);
  });

  it('the part cited is the first by event time, not the first to arrive: serve cites what replay cites', () => {
    expect(judged(arriving([...approvedPackage(), p2, p1, done], MODIFIED))).toEqual([['artifact_overwritten', undefined, [id(p1), id(done)]]]);
    expect(judged(replayed([...approvedPackage(), p2, p1, done], MODIFIED))).toEqual([['artifact_overwritten', undefined, [id(p1), id(done)]]]);
    // Another writer's parts too: alice's first part is cited, whichever of hers came first.
    const [e1, a2, a3] = [part(1, '2026-11-10T03:00:01Z', etl), part(2, '2026-11-10T03:00:02Z', alice), part(3, '2026-11-10T03:00:03Z', alice)];
    const done2 = end('CompleteMultipartUpload', '2026-11-10T03:00:09Z', etl);
    for (const order of [[e1, a3, a2, done2], [a3, e1, a2, done2], [a3, a2, e1, done2]]) {
      expect(arriving([...order, approve('2026-11-10T05:00:00Z')], DUTIES).map((a) => [a.entity.id, a.evidence.slice(0, 2)])).toEqual([['alice', [id(a2), id(done2)]]]);
    }
    expect(replayed([e1, a3, a2, done2, approve('2026-11-10T05:00:00Z')], DUTIES).map((a) => [a.entity.id, a.evidence.slice(0, 2)])).toEqual([['alice', [id(a2), id(done2)]]]);
  });
});

describe('ingestion.unfamiliar_writer: the part cited is the first by event time', () => {
  const history = Array.from({ length: 9 }, (_, i) => s3('PutObject', `2026-11-0${i + 1}T02:00:00Z`, etl, {}, `churn/part-${i}.parquet`));
  const UNFAMILIAR = 'ingestion.unfamiliar_writer';
  const cited = (as: Alert[]) => as.map((a) => [a.details.identity, a.evidence]);

  it('a stranger\'s parts delivered out of order: their first part by event time is cited, in serve as in replay', () => {
    // alice adds parts 3 and 2 to etl's upload, part 3 delivered first; etl completes it.
    const [e1, a2, a3] = [part(1, '2026-11-10T03:00:01Z', etl), part(2, '2026-11-10T03:00:02Z', alice), part(3, '2026-11-10T03:00:03Z', alice)];
    const done = end('CompleteMultipartUpload', '2026-11-10T03:00:09Z', etl);
    for (const order of [[e1, a3, a2, done], [a3, e1, a2, done], [a3, a2, e1, done]]) {
      expect(cited(arriving([...history, ...order], UNFAMILIAR))).toEqual([['alice', [id(a2), id(done)]]]);
    }
    expect(cited(replayed([...history, e1, a3, a2, done], UNFAMILIAR))).toEqual([['alice', [id(a2), id(done)]]]);
  });

  it('a stranger\'s own upload delivered out of order: its first part by event time is cited beside the completion', () => {
    const [a1, a2] = [part(1, '2026-11-10T03:00:01Z', alice), part(2, '2026-11-10T03:00:02Z', alice)];
    const done = end('CompleteMultipartUpload', '2026-11-10T03:00:09Z', alice);
    expect(cited(arriving([...history, a2, a1, done], UNFAMILIAR))).toEqual([['alice', [id(a1), id(done)]]]);
    expect(cited(replayed([...history, a2, a1, done], UNFAMILIAR))).toEqual([['alice', [id(a1), id(done)]]]);
  });
});

describe('the multipart hold: one caller\'s aborts push out their own', () => {
  it('500 uploads one caller started and aborted do not push out another caller\'s abort still waiting for its late parts', () => {
    // etl aborts its upload; CloudTrail delivers the abort an hour before its part (another log file).
    const aborted = onArtifact('AbortMultipartUpload', '2026-11-20T12:00:09Z', {});
    const p1 = onArtifact('UploadPart', '2026-11-20T12:00:01Z', { partNumber: '1' });
    // bob floods: Create + Abort cost nothing and write nothing.
    const byBob = (op: string, time: string, i: number) => s3(op, time, bob, { uploadId: `f${i}`, ...(op === 'CreateMultipartUpload' ? { uploads: '' } : {}) }, ARTIFACT_KEY, 'ml-models');
    const flood = Array.from({ length: 500 }, (_, i) => [byBob('CreateMultipartUpload', '2026-11-20T12:10:00Z', i), byBob('AbortMultipartUpload', '2026-11-20T12:10:01Z', i)]).flat();
    const weekLater = s3('PutObject', '2026-11-29T12:00:00Z', etl, {}, 'scratch/x.bin', 'ml-models');
    const store = new MemoryStateStore();
    const engine = createRuleEngine(RulesConfig.parse({}), store);
    const fired = [...approvedPackage(), aborted, ...flood, [p1, '2026-11-20T13:00:00Z'] as const, weekLater].flatMap((x) => {
      const [r, at] = Array.isArray(x) ? x : [x, undefined];
      return events([r as Record<string, unknown>]).flatMap((e) => engine.process({ ...e, received_time: at ?? e.time }, Date.parse(at ?? e.time)));
    }).filter((a) => a.rule_id === MODIFIED);
    // The part finds its abort: nothing was written, no week-late artifact_upload_unjudged.
    expect(judged(fired)).toEqual([]);
    expect(judged(replayed([...approvedPackage(), aborted, ...flood, p1, weekLater], MODIFIED))).toEqual([]);
    // Still bounded: at most 500 aborts remembered, etl's among them.
    const ended = store.list('rules.kind').find((x) => x.key === `${MODIFIED}|mpu-ended`)!.value as Record<string, { operation: string }>;
    expect(Object.values(ended).filter((e) => e.operation === 'AbortMultipartUpload')).toHaveLength(500);
    expect(Object.keys(ended)).toContain(`${ARTIFACT}|u1`);
  });
});

describe('the multipart hold: a completion arriving after its upload was reported unjudged', () => {
  const p1 = onArtifact('UploadPart', '2026-11-20T12:00:01Z', { partNumber: '1' });
  const done = onArtifact('CompleteMultipartUpload', '2026-11-20T12:00:09Z', {});
  const weekLater = s3('PutObject', '2026-11-29T12:00:00Z', etl, {}, 'scratch/x.bin', 'ml-models');

  it('is judged as the completion of the upload reported: the part reported beside it, the report named', () => {
    // The completion's log file read 9 days late: the upload was reported not_completed in between.
    const fired = arriving([...approvedPackage(), p1, weekLater, [done, '2026-11-29T12:05:00Z']], MODIFIED);
    expect(judged(fired)).toEqual([['artifact_upload_unjudged', 'not_completed', [id(p1)]], ['artifact_overwritten', undefined, [id(p1), id(done)]]]);
    expect(fired[1]!.details.completes_unjudged).toEqual({ upload_id: 'u1', unjudged: 'not_completed', event: id(p1) });
    expect(fired[1]!.summary).toContain('(UploadPart, made current by CompleteMultipartUpload)');
    expect(fired[1]!.summary).toContain('it completes upload u1, reported earlier as unjudged (not_completed, part');
    // Replay, in event-time order, sees the completion before the week is over: one finding, the same evidence.
    const replay = replayed([...approvedPackage(), p1, weekLater, done], MODIFIED);
    expect(judged(replay)).toEqual([['artifact_overwritten', undefined, [id(p1), id(done)]]]);
  });

  it('separation_of_duties: the late completion\'s write names the report and cites its part', () => {
    const tp1 = part(1, '2026-11-10T06:00:01Z');
    const tdone = end('CompleteMultipartUpload', '2026-11-10T06:00:09Z');
    const later = s3('PutObject', '2026-11-17T07:10:00Z', etl, {}, 'churn/part-10.parquet');
    const fired = arriving([approve('2026-11-10T05:00:00Z'), tp1, later, [tdone, '2026-11-17T07:20:00Z']], DUTIES, { [DUTIES]: { suppress: '0s' } });
    expect(fired.map((a) => [a.evidence.slice(1), (a.details.data_write as { completes_unjudged?: unknown }).completes_unjudged])).toEqual([
      [[id(tp1)], undefined],
      [[id(tp1), id(tdone)], { upload_id: 'up-9', unjudged: 'not_completed', event: id(tp1) }],
    ]);
    expect(replayed([approve('2026-11-10T05:00:00Z'), tp1, later, tdone], DUTIES).map((a) => a.evidence.slice(1))).toEqual([[id(tp1), id(tdone)]]);
  });
});

describe('the multipart hold: uploads pushed out of it, fairly per caller', () => {
  const p1 = onArtifact('UploadPart', '2026-11-20T12:00:01Z', { partNumber: '1' });
  const done = onArtifact('CompleteMultipartUpload', '2026-11-21T12:00:09Z', {});
  /** A part of upload `upload` over the approved artifact by `who`, never completed. */
  const started = (who: Record<string, unknown>, upload: string, minute: number) =>
    s3('UploadPart', `2026-11-20T13:${String(minute).padStart(2, '0')}:00Z`, who, { uploadId: upload, partNumber: '1' }, ARTIFACT_KEY, 'ml-models');

  it('one identity starting 25 uploads it never completes pushes out its own oldest, not the pipeline\'s waiting for its completion', () => {
    const flood = Array.from({ length: 25 }, (_, i) => started(bob, `f${i}`, i));
    const fired = arriving([...approvedPackage(), p1, ...flood, done], MODIFIED, { [MODIFIED]: { suppress: '0s' } });
    // 26 uploads to one object, 20 kept: bob's 6 oldest leave, each judged as unjudged (pushed_out); etl's completion judges its part.
    const unjudged = fired.filter((a) => a.details.change === 'artifact_upload_unjudged');
    expect(unjudged.map((a) => [a.details.unjudged, a.details.upload_id, a.evidence.slice(1)])).toEqual(flood.slice(0, 6).map((r, i) => ['pushed_out', `f${i}`, [id(r)]]));
    expect(judged(fired.filter((a) => a.details.change !== 'artifact_upload_unjudged'))).toEqual([['artifact_overwritten', undefined, [id(p1), id(done)]]]);
  });

  it('21 identities, one upload each: the oldest is pushed out, judged unjudged pushed_out, and its later completion names that report', () => {
    const others = Array.from({ length: 20 }, (_, i) => started(user(`u${i}`), `g${i}`, i));
    const fired = arriving([...approvedPackage(), p1, ...others, done], MODIFIED, { [MODIFIED]: { suppress: '0s' } });
    expect(judged(fired)).toEqual([['artifact_upload_unjudged', 'pushed_out', [id(p1)]], ['artifact_overwritten', undefined, [id(p1), id(done)]]]);
    expect(fired[1]!.details.completes_unjudged).toEqual({ upload_id: 'u1', unjudged: 'pushed_out', event: id(p1) });
  });

  it('ingestion.unfamiliar_writer: a stranger\'s upload pushed out by 20 others is judged then, details.unjudged pushed_out', () => {
    const history = Array.from({ length: 9 }, (_, i) => s3('PutObject', `2026-11-0${i + 1}T02:00:00Z`, etl, {}, `churn/part-${i}.parquet`));
    const a1 = part(1, '2026-11-10T03:00:01Z', alice, 'up-a');
    // 20 other identities' uploads of the same object, one each: alice's, the oldest, leaves.
    const busy = Array.from({ length: 20 }, (_, i) => part(1, `2026-11-10T03:${String(10 + i).padStart(2, '0')}:00Z`, user(`w${i}`), `e${i}`));
    const fired = arriving([...history, a1, ...busy], 'ingestion.unfamiliar_writer');
    expect(fired.map((a) => [a.details.identity, a.details.unjudged, a.details.upload_id, a.evidence])).toEqual([['alice', 'pushed_out', 'up-a', [id(a1)]]]);
    // Her own flood pushes out her own uploads: etl's single upload stays held.
    const e1 = part(1, '2026-11-10T03:00:01Z', etl, 'up-e');
    const hers = Array.from({ length: 20 }, (_, i) => part(1, `2026-11-10T03:${String(10 + i).padStart(2, '0')}:00Z`, alice, `a${i}`));
    const own = arriving([...history, e1, ...hers], 'ingestion.unfamiliar_writer');
    expect(own.map((a) => [a.details.identity, a.details.unjudged, a.details.upload_id])).toEqual([['alice', 'pushed_out', 'a0']]);
  });
});

describe('the multipart hold: a retried completion delivered before its original', () => {
  const p1 = onArtifact('UploadPart', '2026-11-20T12:00:01Z', { partNumber: '1' });
  const done = onArtifact('CompleteMultipartUpload', '2026-11-20T12:00:09Z', {});
  const retried = onArtifact('CompleteMultipartUpload', '2026-11-20T12:01:10Z', {});
  const weekLater = s3('PutObject', '2026-11-29T12:00:00Z', etl, {}, 'scratch/x.bin', 'ml-models');
  const unsuppressed = { [MODIFIED]: { suppress: '0s' }, [DUTIES]: { suppress: '0s' }, 'ingestion.unfamiliar_writer': { suppress: '0s' } };

  it('is one write of the upload, judged when the first of the two arrives (its part cited beside it), never a second', () => {
    for (const order of [[p1, retried, done], [retried, p1, done], [retried, done, p1]]) {
      const fired = arriving([...approvedPackage(), ...order, weekLater], MODIFIED, unsuppressed);
      expect(judged(fired)).toEqual([['artifact_overwritten', undefined, order[0] === p1 ? [id(p1), id(retried)] : [id(retried)]]]);
    }
    // separation_of_duties and unfamiliar_writer: one write, alice's.
    const tp1 = part(1, '2026-11-10T06:00:01Z');
    const tdone = end('CompleteMultipartUpload', '2026-11-10T06:00:09Z');
    const tretry = end('CompleteMultipartUpload', '2026-11-10T06:01:09Z');
    expect(arriving([approve('2026-11-10T05:00:00Z'), tp1, tretry, tdone], DUTIES, unsuppressed).map((a) => a.evidence.slice(1))).toEqual([[id(tp1), id(tretry)]]);
    const history = Array.from({ length: 9 }, (_, i) => s3('PutObject', `2026-11-0${i + 1}T02:00:00Z`, etl, {}, `churn/part-${i}.parquet`));
    expect(arriving([...history, tp1, tretry, tdone], 'ingestion.unfamiliar_writer', unsuppressed).map((a) => a.evidence)).toEqual([[id(tp1), id(tretry)]]);
  });
});
