import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, fx, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * SageMaker Model Registry evaluation reports (CreateModelPackage `ModelMetrics`: the `evaluation.json` a pipeline's
 * evaluation step wrote, Clarify's bias and explainability reports). The package keeps only where each report is:
 * an approval is judged on what is there, so rewriting the report between registration and approval, or after the
 * approval, changes the evidence with no trace in the registry.
 */
const PKG = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/3';
const IMAGE = '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1';
const EVAL = 's3://ml-eval/fraud/exec-7f3a/evaluation/evaluation.json';
const BIAS = 's3://ml-eval/fraud/exec-7f3a/clarify/analysis.json';
let n = 0;
const time = (min: number) => `2026-11-25T1${Math.floor(min / 60)}:${String(min % 60).padStart(2, '0')}:00Z`;
const modelMetrics = {
  modelQuality: { statistics: { contentType: 'application/json', s3Uri: EVAL, contentDigest: 'sha256:0f3b' } },
  bias: { postTrainingReport: { contentType: 'application/json', s3Uri: BIAS } },
};
const register = (min: number, metrics: Record<string, unknown> | null = modelMetrics) =>
  normOne(ctRecord('CreateModelPackage', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: { containers: [{ image: IMAGE, modelDataUrl: 's3://models/fraud/v3/model.tar.gz' }] }, ...(metrics ? { modelMetrics: metrics } : {}) }, { eventID: `rep-${++n}`, eventTime: time(min), responseElements: { modelPackageArn: PKG } }));
const approve = (min: number, who = 'bob') => normOne(ctRecord('UpdateModelPackage', { modelPackageArn: PKG, modelApprovalStatus: 'Approved' }, {
  eventID: `rep-${++n}`, eventTime: time(min), responseElements: { modelPackageArn: PKG },
  userIdentity: { type: 'AssumedRole', principalId: `AROAEXAMPLE:${who}`, arn: `arn:aws:sts::111122223333:assumed-role/Reviewer/${who}`, accountId: '111122223333', sessionContext: { sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::111122223333:role/Reviewer', accountId: '111122223333', userName: 'Reviewer' } } },
}));
/** An S3 data event on `s3://ml-eval/<key>`, as CloudTrail records it, by mallory. */
const s3 = (eventName: string, min: number, uri = EVAL, extra: Record<string, unknown> = {}) => {
  const key = uri.replace('s3://ml-eval/', '');
  return normOne(ctRecord(eventName, { bucketName: 'ml-eval', key, ...extra }, {
    eventID: `rep-${++n}`, eventTime: time(min), eventSource: 's3.amazonaws.com', eventCategory: 'Data', managementEvent: false, responseElements: null,
    userIdentity: { type: 'AssumedRole', principalId: 'AROAEXAMPLE:mallory', arn: 'arn:aws:sts::111122223333:assumed-role/MLEngineer/mallory', accountId: '111122223333', sessionContext: { sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::111122223333:role/MLEngineer', accountId: '111122223333', userName: 'MLEngineer' } } },
    resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::ml-eval/${key}` }, { accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::ml-eval' }],
  }));
};
const findings = (events: NormalizedEvent[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');

describe('SageMaker ModelMetrics: the evaluation reports registered with a package', () => {
  it('CreateModelPackage names each report, its kind and claimed digest (details.model_metrics); a refused create names none', () => {
    expect(register(0).details?.model_metrics).toEqual([
      { report: 'model_quality.statistics', uri: EVAL, content_digest: 'sha256:0f3b', content_type: 'application/json' },
      { report: 'bias.post_training_report', uri: BIAS, content_type: 'application/json' },
    ]);
    expect(register(0, null).details?.model_metrics).toBeUndefined();
    const refused = normOne(ctRecord('CreateModelPackage', { modelPackageGroupName: 'fraud', modelMetrics }, { errorCode: 'ValidationException', errorMessage: 'x' }));
    expect(refused.details?.model_metrics).toBeUndefined();
  });

  it('the Model Package State Change event (AWS docs example) names its ModelQuality statistics', () => {
    const ev = normOne(fx('eventbridge-sagemaker-model-package-state-change.awsdocs.json'));
    expect(ev.details?.model_metrics).toEqual([{ report: 'model_quality.statistics', uri: 's3://sagemaker-project-p-idy6c3e1fiqj/versionedmp-p-idy6c3e1fiqj/script-2021-02-24-10-55-15-413/output/evaluation/evaluation.json', content_type: 'application/json' }]);
  });
});

describe('registry.approved_model_modified on evaluation reports', () => {
  it('a report written or deleted after the approval is a finding naming the report', () => {
    const written = findings([register(0), approve(30), s3('PutObject', 45)]);
    expect(written.map((a) => [a.details.change, a.details.object, a.details.report, a.entity.id])).toEqual([['evaluation_report_overwritten', EVAL, 'model_quality.statistics', '111122223333:us-east-1:fraud/3']]);
    expect(written[0]!.summary).toBe(`fraud v3 was approved at 2026-11-25T10:30:00.000Z and then its evaluation report ${EVAL} (model_quality.statistics) was written (PutObject) by mallory`);
    expect(written[0]!.details.registered_digest).toBe('sha256:0f3b');
    expect(findings([register(0), approve(30), s3('DeleteObject', 45, BIAS)]).map((a) => [a.details.change, a.details.report])).toEqual([['evaluation_report_deleted', 'bias.post_training_report']]);
  });

  it('a report rewritten between registration and approval is one finding at the approval, naming the writes and the approver', () => {
    const alerts = findings([register(0), s3('PutObject', 10), s3('PutObject', 12), approve(30)]);
    expect(alerts.map((a) => [a.details.change, a.details.objects, a.time])).toEqual([['evaluation_report_rewritten_before_approval', [EVAL], '2026-11-25T10:30:00.000Z']]);
    expect(alerts[0]!.details.writes).toHaveLength(2);
    expect(alerts[0]!.details.approver).toBe('bob');
    expect(alerts[0]!.summary).toContain(`after its evaluation report ${EVAL} (model_quality.statistics) was written (PutObject) by mallory at 2026-11-25T10:10:00.000Z, after the version was registered (2 writes)`);
  });

  it('near misses: the evaluation step writing before registration, other objects, a package without ModelMetrics, a version never approved', () => {
    // The pipeline's evaluation step writes evaluation.json, then RegisterModel names it: the normal flow.
    expect(findings([s3('PutObject', 0), register(5), approve(30)])).toEqual([]);
    expect(findings([register(0), approve(30), s3('PutObject', 45, 's3://ml-eval/fraud/exec-8a1c/evaluation/evaluation.json')])).toEqual([]);
    expect(findings([register(0, null), s3('PutObject', 10), approve(30), s3('PutObject', 45)])).toEqual([]);
    expect(findings([register(0), s3('PutObject', 10)])).toEqual([]);
  });

  it('a report replaced by CopyObject or a multipart upload after the approval is a finding; one before it, at the approval', () => {
    const copied = findings([register(0), approve(30), s3('CopyObject', 45, EVAL, { 'x-amz-copy-source': 'scratch/good-numbers.json' })]);
    expect(copied.map((a) => [a.details.change, a.details.object])).toEqual([['evaluation_report_overwritten', EVAL]]);
    const parts = [s3('CreateMultipartUpload', 44, EVAL, { uploads: '' }), s3('UploadPart', 44, EVAL, { uploadId: 'u-1', partNumber: 1 }), s3('CompleteMultipartUpload', 45, EVAL, { uploadId: 'u-1' })];
    expect(findings([register(0), approve(30), ...parts]).map((a) => a.details.change)).toEqual(['evaluation_report_overwritten']);
    expect(findings([register(0), s3('CopyObject', 10, EVAL, { 'x-amz-copy-source': 'scratch/good-numbers.json' }), approve(30)]).map((a) => a.details.change)).toEqual(['evaluation_report_rewritten_before_approval']);
  });

  it('the next pipeline execution writing its own evaluation.json (a per-execution path) and a retried evaluation step before registration stay quiet', () => {
    expect(findings([s3('PutObject', 0), s3('PutObject', 2), register(5), approve(30), s3('PutObject', 60, 's3://ml-eval/fraud/exec-9b2d/evaluation/evaluation.json')])).toEqual([]);
  });

  it('an upload in parts that was aborted changed no report', () => {
    const aborted = [s3('CreateMultipartUpload', 44, EVAL, { uploads: '' }), s3('UploadPart', 44, EVAL, { uploadId: 'u-1', partNumber: 1 }), s3('AbortMultipartUpload', 45, EVAL, { uploadId: 'u-1' })];
    expect(findings([register(0), approve(30), ...aborted])).toEqual([]);
  });
});
