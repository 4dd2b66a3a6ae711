import { describe, expect, it } from 'vitest';
import { CT_ACCOUNT } from '../core/rules/cloudtrail.js';
import { copy, DEPLOYER, deleteModel, endpointConfig, MALLORY, mmeModel, pkg, PREFIX, put, role, RULE, writeAlerts, type Obj } from './multi-model-records.js';

/** Verification repros for multi_model_write (verify26a): DeleteModel under a live endpoint, rejected copies, many Models. */
describe('multi_model_write verification repros', () => {
  it('DeleteModel of a Model an endpoint config serves does not blind the rule (the endpoint keeps loading from the prefix)', () => {
    const alerts = writeAlerts([mmeModel('2026-03-02T01:00:00Z'), endpointConfig('2026-03-02T01:10:00Z'), deleteModel('2026-03-02T02:00:00Z', 'mme-fraud', MALLORY), put('2026-03-02T03:00:00Z', `${PREFIX}evil.tar.gz`, MALLORY)]);
    expect(alerts.map((a) => [a.details.object, a.details.model_deleted])).toEqual([[`${PREFIX}evil.tar.gz`, true]]);
  });

  it('a copy from a rejected version\'s artifact into the prefix alerts, whoever copies (not the creator exception)', () => {
    const rejected = 's3://registry-artifacts/fraud/v8/model.tar.gz';
    const alerts = writeAlerts([pkg('2026-03-02T00:20:00Z', 8, 'Rejected', rejected), mmeModel('2026-03-02T01:00:00Z'), copy('2026-03-02T02:00:00Z', rejected, `${PREFIX}fraud-v8.tar.gz`, MALLORY)]);
    expect(alerts.map((a) => a.details.copied_from)).toEqual([rejected]);
  });

  it("a copy of a rejected version's artifact alerts even by the creating role or a listed mme_writer (their exemption is for the pipeline's own models)", () => {
    const rejected = 's3://registry-artifacts/fraud/v8/model.tar.gz';
    const records = [pkg('2026-03-02T00:20:00Z', 8, 'Rejected', rejected), mmeModel('2026-03-02T01:00:00Z'), copy('2026-03-02T02:00:00Z', rejected, `${PREFIX}fraud-v8.tar.gz`, role('MLDeployer', 'other'))];
    expect(writeAlerts(records).map((a) => [a.details.copied_from, a.details.copied_from_rejected])).toEqual([[rejected, 'fraud/8']]);
    expect(writeAlerts(records, { [RULE]: { mme_writers: [`arn:aws:sts::${CT_ACCOUNT}:assumed-role/MLDeployer/*`] } })).toHaveLength(1);
    // The pipeline's own writes still pass.
    expect(writeAlerts([mmeModel('2026-03-02T01:00:00Z'), put('2026-03-02T02:00:00Z', `${PREFIX}fraud-v9.tar.gz`, role('MLDeployer', 'other'))])).toEqual([]);
  });

  it('600 other multi-model Models made later do not push out the prefix an endpoint config serves; an unserved one is forgotten first', () => {
    const recs: Obj[] = [mmeModel('2026-03-02T01:00:00Z'), endpointConfig('2026-03-02T01:10:00Z')];
    for (let i = 0; i < 600; i++) recs.push(mmeModel('2026-03-02T01:30:00Z', `junk-${i}`, `s3://junk/${i}/`));
    recs.push(put('2026-03-02T03:00:00Z', `${PREFIX}evil.tar.gz`, MALLORY), put('2026-03-02T03:00:00Z', 's3://junk/0/evil.tar.gz', MALLORY), put('2026-03-02T03:00:00Z', 's3://junk/599/evil.tar.gz', MALLORY));
    expect(writeAlerts(recs).map((a) => a.details.object)).toEqual([`${PREFIX}evil.tar.gz`, 's3://junk/599/evil.tar.gz']);
  });
});
