import { describe, expect, it } from 'vitest';
import { RulesConfig, createRuleEngine } from '../../core/rules/engine.js';
import { MemoryStateStore } from '../../core/state/index.js';
import type { Alert } from '../../core/schema/index.js';
import { ctRecord, fx, norm } from '../connectors/sagemaker/helpers.js';

/**
 * access.separation_of_duties and a CI role that writes training data and approves the model it trains every night:
 * one alert a day, by design. `learn_days` (opt-in) learns the pairs it does both for over that many days — each
 * alerted, the last saying the pattern is learned — then keeps those quiet while anything else still alerts. The S3
 * records are the shared PutObject data event (the Step Functions tutorial's CloudTrail record) on the training bucket.
 */
const SM = { training_buckets: ['ml-training-data'], model_buckets: ['ml-models'] };
const ACCOUNT = '111122223333';
const S3_RECORD = fx<{ detail: Record<string, unknown> }>('eventbridge-cloudtrail-s3-putobject.stepfunctions-docs.json').detail;
const ci = { type: 'IAMUser', principalId: 'AIDACI', arn: `arn:aws:iam::${ACCOUNT}:user/ci-trainer`, accountId: ACCOUNT, accessKeyId: 'AKIACI', userName: 'ci-trainer' };
let n = 0;

const put = (time: string, key: string) => ({
  ...S3_RECORD, eventName: 'PutObject', eventTime: time, eventID: `sod-${++n}`, userIdentity: ci, recipientAccountId: ACCOUNT, awsRegion: 'us-east-1',
  requestParameters: { bucketName: 'ml-training-data', Host: 'ml-training-data.s3.us-east-1.amazonaws.com', key },
  resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::ml-training-data/${key}` }, { accountId: ACCOUNT, type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::ml-training-data' }],
});
const approve = (time: string, model: string, version: number) => {
  const pkg = `arn:aws:sagemaker:us-east-1:${ACCOUNT}:model-package/${model}/${version}`;
  return ctRecord('UpdateModelPackage', { modelPackageArn: pkg, modelApprovalStatus: 'Approved' }, { eventTime: time, eventID: `sod-${++n}`, userIdentity: ci, recipientAccountId: ACCOUNT, responseElements: { modelPackageArn: pkg } });
};
/** Night d (1-based): the CI role writes the day's churn partition, then approves the model version it trained. */
const night = (d: number, key = `churn/day-${d}.parquet`, model = 'churn') => {
  const day = `2026-11-${String(d).padStart(2, '0')}`;
  return [put(`${day}T02:00:00Z`, key), approve(`${day}T04:00:00Z`, model, d)];
};

function alerts(records: Record<string, unknown>[], rule: Record<string, unknown> = {}): Alert[] {
  const engine = createRuleEngine(RulesConfig.parse({ 'access.separation_of_duties': rule }), new MemoryStateStore());
  return records.flatMap((r) => norm(r, SM).events).flatMap((e) => engine.process(e, Date.parse(e.time))).filter((a) => a.rule_id === 'access.separation_of_duties');
}
const days = (count: number) => Array.from({ length: count }, (_, i) => night(i + 1)).flat();
const keyed = (a: Alert) => (a.details.pattern as { learned_at?: string; outside?: boolean } | undefined)?.outside ? 'outside' : (a.details.pattern as { learned_at?: string } | undefined)?.learned_at ? 'learned' : 'pair';

describe('access.separation_of_duties: a CI role doing both every night', () => {
  it('by default: one alert a night, for good', () => {
    const out = alerts(days(6));
    expect(out.map((a) => a.time.slice(0, 10))).toEqual(['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04', '2026-11-05', '2026-11-06']);
    expect(out.every((a) => a.details.pattern === undefined)).toBe(true);
  });

  it('learn_days: 3 — alerted while learning, the third night says the pattern is learned, then quiet for the same data and model', () => {
    const out = alerts(days(6), { learn_days: 3 });
    expect(out.map((a) => [a.time.slice(0, 10), keyed(a)])).toEqual([['2026-11-01', 'pair'], ['2026-11-02', 'pair'], ['2026-11-03', 'learned']]);
    expect(out[0]!.details.pattern).toEqual({ learning: true, days: 1, of: 3, pair: 's3://ml-training-data/churn/ → model churn' });
    expect(out[2]!.summary).toMatch(/seen on 3 days: from now on, s3:\/\/ml-training-data\/churn\/ → model churn by .*ci-trainer is not alerted \(learn_days\), anything else it writes or releases still is/);
    expect(out[2]!.details.pattern).toMatchObject({ pairs: ['s3://ml-training-data/churn/ → model churn'], days: ['2026-11-01', '2026-11-02', '2026-11-03'] });
  });

  it('after learning, another dataset written or another model approved by the same role still alerts, and is not learned', () => {
    const out = alerts([...days(4), ...night(5, 'fraud-labels/day-5.parquet'), ...night(6, 'churn/day-6.parquet', 'fraud'), ...night(7, 'fraud-labels/day-7.parquet')], { learn_days: 3 });
    expect(out.map((a) => [a.time.slice(0, 10), keyed(a)])).toEqual([['2026-11-01', 'pair'], ['2026-11-02', 'pair'], ['2026-11-03', 'learned'], ['2026-11-05', 'outside'], ['2026-11-06', 'outside'], ['2026-11-07', 'outside']]);
    expect(out[3]!.details.pattern).toMatchObject({ outside: true, pair: 's3://ml-training-data/fraud-labels/ → model churn', pairs: ['s3://ml-training-data/churn/ → model churn'] });
    expect(out[3]!.summary).toContain('outside the pattern learned for it on');
  });

  it('days count per pair: a pair done beside the routine on the learning night, or pairs each done once, are not learned', () => {
    // The routine pair for two nights, then on the third a pair of the role's choosing first, the routine after it.
    const planted = [...days(2), ...night(3, 'fraud-labels/day-3.parquet', 'fraud'), ...night(3), ...night(5, 'fraud-labels/day-5.parquet', 'fraud')];
    const out = alerts(planted, { learn_days: 3 });
    expect(out.map((a) => [a.time.slice(0, 10), keyed(a)])).toEqual([['2026-11-01', 'pair'], ['2026-11-02', 'pair'], ['2026-11-03', 'pair'], ['2026-11-03', 'learned'], ['2026-11-05', 'outside']]);
    expect((out[3]!.details.pattern as { pairs: string[] }).pairs).toEqual(['s3://ml-training-data/churn/ → model churn']);
    expect(out[4]!.details.pattern).toMatchObject({ outside: true, pairs: ['s3://ml-training-data/churn/ → model churn'] });
    // Three nights, three different pairs: nothing is routine, nothing learned.
    const scattered = [...night(1), ...night(2, 'fraud-labels/day-2.parquet', 'fraud'), ...night(3, 'ads/day-3.parquet', 'ads'), ...night(4, 'fraud-labels/day-4.parquet', 'fraud')];
    expect(alerts(scattered, { learn_days: 3 }).map(keyed)).toEqual(['pair', 'pair', 'pair', 'pair']);
  });

  it('learn_days is checked: 1 is refused, 0 is off', () => {
    expect(() => RulesConfig.parse({ 'access.separation_of_duties': { learn_days: 1 } })).toThrow(/at least 2 days/);
    expect(alerts(days(4), { learn_days: 0 })).toHaveLength(4);
  });
});
