import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { CT_ACCOUNT, normalizeSageMaker } from '../core/rules/cloudtrail.js';
import { copy, DEPLOYER, deleteModel, MALLORY, mmeModel, pkg, PREFIX, put, role, RULE, writeAlerts } from './multi-model-records.js';

/**
 * A SageMaker multi-model endpoint serves every object under its Model's ModelDataUrl prefix (container
 * `Mode: MultiModel`; InvokeEndpoint's TargetModel names the object): an S3 write there is a new deployable model
 * with no registry step. registry.unapproved_deployment judges such writes, the deploy pipeline's excepted.
 * Records: ./multi-model-records.ts (real PutObject and CopyObject fixtures).
 */
const DEPLOYER_LATER = role('MLDeployer', 'botocore-session-1772412345');
const approvedPackage = (t: string) => pkg(t, 7, 'Approved', 's3://registry-artifacts/fraud/v7/model.tar.gz');

describe('writes under a SageMaker multi-model prefix (registry.unapproved_deployment, reason multi_model_write)', () => {
  it('CreateModel with Mode MultiModel carries its prefix in ml.model.multi_model_prefixes; a single-model one does not', () => {
    const [mme, single] = normalizeSageMaker([mmeModel('2026-03-02T01:00:00Z'), mmeModel('2026-03-02T01:00:00Z', 'one', 's3://models/one/model.tar.gz', 'SingleModel')]) as NormalizedEvent[];
    expect(mme!.ml?.model?.multi_model_prefixes).toEqual([PREFIX]);
    expect(single!.ml?.model?.multi_model_prefixes).toBeUndefined();
  });

  it("another principal's PutObject under the prefix alerts, naming the Model, the prefix and the object; the creating role's own writes (any session) do not", () => {
    const model = mmeModel('2026-03-02T01:00:00Z');
    const evil = put('2026-03-02T03:00:00Z', `${PREFIX}evil.tar.gz`, MALLORY);
    const records = [model, put('2026-03-02T02:00:00Z', `${PREFIX}fraud-v7.tar.gz`, DEPLOYER_LATER), evil];
    const alerts = writeAlerts(records);
    const ids = normalizeSageMaker(records).map((e) => e.id);
    expect(alerts.map((a) => [a.entity, a.details.model, a.details.prefix, a.details.object, a.details.writer_principal, a.evidence])).toEqual([
      [{ type: 'model', id: `${CT_ACCOUNT}:us-east-1:mme-fraud`, name: 'mme-fraud', platform: 'sagemaker' }, 'mme-fraud', PREFIX, `${PREFIX}evil.tar.gz`, `arn:aws:iam::${CT_ACCOUNT}:role/datasci`, [ids[0], ids[2]]],
    ]);
    expect(alerts[0]!.summary).toContain('InvokeEndpoint can load it as a TargetModel');
    // Near misses: outside the prefix, a single-model Model's directory, after the Model was deleted.
    expect(writeAlerts([model, put('2026-03-02T03:00:00Z', 's3://models/mme/other/evil.tar.gz', MALLORY)])).toEqual([]);
    expect(writeAlerts([mmeModel('2026-03-02T01:00:00Z', 'one', 's3://models/one/', 'SingleModel'), put('2026-03-02T03:00:00Z', 's3://models/one/evil.tar.gz', MALLORY)])).toEqual([]);
    expect(writeAlerts([model, deleteModel('2026-03-02T02:00:00Z'), put('2026-03-02T03:00:00Z', `${PREFIX}evil.tar.gz`, MALLORY)])).toEqual([]);
  });

  it('a copy of an approved version\'s artifact into the prefix passes, whoever copies; a copy of anything else alerts with copied_from', () => {
    const ok = writeAlerts([approvedPackage('2026-03-02T00:30:00Z'), mmeModel('2026-03-02T01:00:00Z'), copy('2026-03-02T02:00:00Z', 's3://registry-artifacts/fraud/v7/model.tar.gz', `${PREFIX}fraud-v7.tar.gz`, MALLORY)]);
    expect(ok).toEqual([]);
    const bad = writeAlerts([approvedPackage('2026-03-02T00:30:00Z'), mmeModel('2026-03-02T01:00:00Z'), copy('2026-03-02T02:00:00Z', 's3://scratch/mallory/model.tar.gz', `${PREFIX}fraud-v8.tar.gz`, MALLORY)]);
    expect(bad.map((a) => [a.details.object, a.details.copied_from])).toEqual([[`${PREFIX}fraud-v8.tar.gz`, 's3://scratch/mallory/model.tar.gz']]);
  });

  it('mme_writers names the pipeline: its writes pass, and then the creator is no longer trusted by default', () => {
    const uploader = role('ModelSync', 'sync-1');
    const records = [mmeModel('2026-03-02T01:00:00Z'), put('2026-03-02T02:00:00Z', `${PREFIX}a.tar.gz`, uploader), put('2026-03-02T03:00:00Z', `${PREFIX}b.tar.gz`, DEPLOYER_LATER)];
    expect(writeAlerts(records).map((a) => a.details.object)).toEqual([`${PREFIX}a.tar.gz`]);
    const listed = writeAlerts(records, { [RULE]: { mme_writers: [`arn:aws:sts::${CT_ACCOUNT}:assumed-role/ModelSync/*`] } });
    expect(listed.map((a) => a.details.object)).toEqual([`${PREFIX}b.tar.gz`]);
  });
});
