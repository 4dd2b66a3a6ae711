import { describe, expect, it } from 'vitest';
import { createRuleEngine, RulesConfig } from '../../../core/rules/engine.js';
import { MemoryStateStore } from '../../../core/state/index.js';
import { REGISTRY_NS } from '../../../core/rules/registry.js';
import { ApprovalConfig } from '../../../connectors/mlflow/config.js';
import { baselineState } from '../../../connectors/mlflow/diff.js';
import { ctRecord, normOne } from '../../connectors/sagemaker/helpers.js';
import { LOC, V1, auditEntry, normOne as vertexOne } from '../../connectors/vertex/samples.js';
import { alertsOf, champion, releases, tag, version, webhookEvents } from './mlflow-deliveries.js';

const RULE = 'registry.rejection_reversed';

describe('registry.rejection_reversed: a version approved after its last decision was a rejection', () => {
  it('MLflow: approval_status rejected, then approved on the same version, is one finding (a review asked for again in between is said)', () => {
    const evs = webhookEvents(undefined,
      ...releases(),
      version('2026-11-24T09:00:00.000000+00:00', '3'),
      tag('2026-11-24T09:30:00.000000+00:00', '3', 'approval_status', 'rejected'),
      tag('2026-11-24T10:00:00.000000+00:00', '3', 'approval_status', 'pending'),
      tag('2026-11-24T23:00:00.000000+00:00', '3', 'approval_status', 'approved'),
    );
    const alerts = alertsOf(evs, RULE);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.entity).toMatchObject({ type: 'model_version', id: 'fraud/3' });
    expect(alerts[0]!.details).toMatchObject({ rejected_at: '2026-11-24T09:30:00.000Z', review_requested: true });
    expect(alerts[0]!.summary).toMatch(/^fraud v3 was rejected at .*set back to pending since, and approved at /);
    // Approved without any rejection before: nothing; approved again later (no rejection in between): nothing more.
    expect(alertsOf(webhookEvents(undefined, ...releases(), version('2026-11-24T09:00:00.000000+00:00', '3'), tag('2026-11-24T09:30:00.000000+00:00', '3', 'approval_status', 'approved')), RULE)).toEqual([]);
  });

  it('MLflow: the champion alias moved onto the rejected version is the deployment finding, not this one', () => {
    const evs = webhookEvents(undefined,
      ...releases(),
      version('2026-11-24T09:00:00.000000+00:00', '3'),
      tag('2026-11-24T09:30:00.000000+00:00', '3', 'approval_status', 'rejected'),
      champion('2026-11-24T23:10:00.000000+00:00', '3'),
    );
    expect(alertsOf(evs, RULE)).toEqual([]);
    expect(alertsOf(evs, 'registry.unapproved_deployment').map((a) => a.details.reason)).toEqual(['rejected']);
  });

  it('SageMaker: a package Rejected, then Approved by another role, names both; a rejection logged after the approval (read first) is not reversed by it', () => {
    const pkg = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/4';
    let n = 0;
    const update = (status: string, who: string, time: string) => normOne(ctRecord('UpdateModelPackage', { modelPackageArn: pkg, modelApprovalStatus: status }, {
      eventID: `rr-${++n}`, eventTime: time, responseElements: { modelPackageArn: pkg },
      userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::111122223333:assumed-role/${who}/${who}`, accountId: '111122223333', principalId: `AROA:${who}`, sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::111122223333:role/${who}`, accountId: '111122223333', userName: who } } },
    }));
    const create = normOne(ctRecord('CreateModelPackage', {
      modelPackageGroupName: 'churn', modelApprovalStatus: 'PendingManualApproval',
      inferenceSpecification: { containers: [{ image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/churn@sha256:' + 'a'.repeat(64), modelDataUrl: 's3://models/churn/4/model.tar.gz' }], supportedContentTypes: ['text/csv'], supportedResponseMIMETypes: ['text/csv'] },
    }, { eventID: 'rr-0', eventTime: '2026-11-24T08:00:00Z', responseElements: { modelPackageArn: pkg } }));
    const reject = update('Rejected', 'Reviewer', '2026-11-24T09:00:00Z');
    const approve = update('Approved', 'Mallory', '2026-11-24T12:00:00Z');
    const alerts = alertsOf([create, reject, approve], RULE);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details).toMatchObject({ rejected_at: '2026-11-24T09:00:00.000Z', approval_operation: 'UpdateModelPackage' });
    expect(alerts[0]!.evidence).toEqual([reject.id, approve.id]);
    expect(alerts[0]!.summary).toMatch(/rejected at 2026-11-24T09:00:00.000Z by reviewer and approved at .* by mallory/);
    // In arrival order, a rejection made after the approval but read before it: the approval reverses nothing.
    const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
    const lateReject = update('Rejected', 'Reviewer', '2026-11-24T13:00:00Z');
    const found = [create, lateReject, approve].flatMap((e) => engine.process(e, Date.parse('2026-11-24T13:05:00Z'))).filter((a) => a.rule_id === RULE);
    expect(found).toEqual([]);
  });

  it('MLflow: the rejected version\'s source registered again as a new version and approved there is the same reversal', () => {
    const evs = webhookEvents(undefined,
      ...releases(),
      version('2026-11-24T09:00:00.000000+00:00', '3'),
      tag('2026-11-24T09:30:00.000000+00:00', '3', 'approval_status', 'rejected'),
      // v4: the very logged model v3 was (source models:/m-300aa), registered again.
      ['model_version', 'created', '2026-11-24T10:00:00.000000+00:00', { name: 'fraud', version: '4', source: 'models:/m-300aa', run_id: 'run3', tags: { adversarial_accuracy: '0.9' }, description: null }],
      tag('2026-11-24T11:30:00.000000+00:00', '4', 'approval_status', 'approved'),
      // A version of other weights approved after: nothing.
      version('2026-11-24T12:00:00.000000+00:00', '5'),
      tag('2026-11-24T12:30:00.000000+00:00', '5', 'approval_status', 'approved'),
    );
    const alerts = alertsOf(evs, RULE);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.entity).toMatchObject({ type: 'model_version', id: 'fraud/4' });
    expect(alerts[0]!.details).toMatchObject({ rejected_version: 'fraud/3', rejected_at: '2026-11-24T09:30:00.000Z' });
    expect(alerts[0]!.summary).toMatch(/^fraud v4 was rejected as v3 at /);
    // Registered again born approved (the create's request tags carry approval_status=approved): the same.
    const born = alertsOf(webhookEvents(undefined, ...releases(), version('2026-11-24T09:00:00.000000+00:00', '3'), tag('2026-11-24T09:30:00.000000+00:00', '3', 'approval_status', 'rejected'),
      ['model_version', 'created', '2026-11-24T10:00:00.000000+00:00', { name: 'fraud', version: '4', source: 'models:/m-300aa', run_id: 'run3', tags: { adversarial_accuracy: '0.9', approval_status: 'approved' }, description: null }]), RULE);
    expect(born.map((a) => [a.entity.id, a.details.rejected_version])).toEqual([['fraud/4', 'fraud/3']]);
  });

  it('SageMaker: a Rejected package deleted and its model data registered again as a new package, then Approved, is found', () => {
    const arn = (n: number) => `arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/${n}`;
    const spec = { containers: [{ image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/churn@sha256:' + 'a'.repeat(64), modelDataUrl: 's3://models/churn/4/model.tar.gz' }], supportedContentTypes: ['text/csv'], supportedResponseMIMETypes: ['text/csv'] };
    const create = (n: number, id: string, time: string, status = 'PendingManualApproval') => normOne(ctRecord('CreateModelPackage', { modelPackageGroupName: 'churn', modelApprovalStatus: status, inferenceSpecification: spec }, { eventID: id, eventTime: time, responseElements: { modelPackageArn: arn(n) } }));
    const update = (n: number, status: string, id: string, time: string) => normOne(ctRecord('UpdateModelPackage', { modelPackageArn: arn(n), modelApprovalStatus: status }, { eventID: id, eventTime: time, responseElements: { modelPackageArn: arn(n) } }));
    const del = normOne(ctRecord('DeleteModelPackage', { modelPackageName: arn(4) }, { eventID: 'rd-3', eventTime: '2026-11-24T10:00:00Z' }));
    const reject = update(4, 'Rejected', 'rd-2', '2026-11-24T09:00:00Z');
    const evs = [create(4, 'rd-1', '2026-11-24T08:00:00Z'), reject, del, create(5, 'rd-4', '2026-11-24T11:00:00Z'), update(5, 'Approved', 'rd-5', '2026-11-24T12:00:00Z')];
    const alerts = alertsOf(evs, RULE);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details).toMatchObject({ version: '5', rejected_version: 'churn/4' });
    expect(alerts[0]!.evidence[0]).toBe(reject.id);
    // Registered again already Approved (CreateModelPackage ModelApprovalStatus Approved): the same.
    const direct = alertsOf([create(4, 'rd-1', '2026-11-24T08:00:00Z'), reject, create(5, 'rd-6', '2026-11-24T11:00:00Z', 'Approved')], RULE);
    expect(direct.map((a) => [a.entity.id, a.details.rejected_version])).toEqual([['111122223333:us-east-1:churn/5', 'churn/4']]);
  });

  it('SageMaker: the weights rejected under an https:// S3 URL and registered again as the s3:// object (or the reverse), then Approved, are found', () => {
    const arn = (n: number) => `arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/${n}`;
    const spec = (url: string) => ({ containers: [{ image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/churn@sha256:' + 'a'.repeat(64), modelDataUrl: url }], supportedContentTypes: ['text/csv'], supportedResponseMIMETypes: ['text/csv'] });
    const create = (n: number, url: string, id: string, time: string) => normOne(ctRecord('CreateModelPackage', { modelPackageGroupName: 'churn', modelApprovalStatus: 'PendingManualApproval', inferenceSpecification: spec(url) }, { eventID: id, eventTime: time, responseElements: { modelPackageArn: arn(n) } }));
    const update = (n: number, status: string, id: string, time: string) => normOne(ctRecord('UpdateModelPackage', { modelPackageArn: arn(n), modelApprovalStatus: status }, { eventID: id, eventTime: time, responseElements: { modelPackageArn: arn(n) } }));
    const object = 's3://models/churn/4/model.tar.gz';
    const url = 'https://models.s3.us-east-1.amazonaws.com/churn/4/model.tar.gz';
    const pathStyle = 'https://s3.us-east-1.amazonaws.com/models/churn/4/model.tar.gz';
    for (const [rejectedAs, approvedAs] of [[url, object], [object, url], [url, pathStyle]] as const) {
      const evs = [create(4, rejectedAs, 'rh-1', '2026-11-24T08:00:00Z'), update(4, 'Rejected', 'rh-2', '2026-11-24T09:00:00Z'),
        normOne(ctRecord('DeleteModelPackage', { modelPackageName: arn(4) }, { eventID: 'rh-3', eventTime: '2026-11-24T10:00:00Z' })),
        create(5, approvedAs, 'rh-4', '2026-11-24T11:00:00Z'), update(5, 'Approved', 'rh-5', '2026-11-24T12:00:00Z'),
        // Approved under one form settles the rejection for both: v6 of the same object approved after is nothing more.
        create(6, rejectedAs, 'rh-6', '2026-11-24T13:00:00Z'), update(6, 'Approved', 'rh-7', '2026-11-24T14:00:00Z')];
      expect(alertsOf(evs, RULE).map((a) => [a.details.version, a.details.rejected_version]), `${rejectedAs} then ${approvedAs}`).toEqual([['5', 'churn/4']]);
    }
  });

  it('a rejection kept under the https:// URL as written (state from before rejections were keyed by the S3 object) is still read', () => {
    const state = new MemoryStateStore();
    const url = 'https://models.s3.us-east-1.amazonaws.com/churn/4/model.tar.gz';
    state.set(REGISTRY_NS, `rja|${url}`, { key: 'old', name: 'churn', version: '4', time: '2026-11-24T09:00:00.000Z', event: 'rh-old', identity: 'reviewer' });
    const engine = createRuleEngine(RulesConfig.parse({}), state);
    const arn = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/5';
    const create = normOne(ctRecord('CreateModelPackage', { modelPackageGroupName: 'churn', modelApprovalStatus: 'Approved', inferenceSpecification: { containers: [{ image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/churn@sha256:' + 'a'.repeat(64), modelDataUrl: url }] } }, { eventID: 'rh-new', eventTime: '2026-11-24T11:00:00Z', responseElements: { modelPackageArn: arn } }));
    const found = engine.process(create, Date.parse('2026-11-24T11:05:00Z')).filter((a) => a.rule_id === RULE);
    expect(found.map((a) => [a.details.version, a.details.rejected_version])).toEqual([['5', 'churn/4']]);
  });

  it('MLflow: the model deleted and created again, its rejected version\'s number registered again from the same source and approved, is found', () => {
    const [created] = webhookEvents(undefined, ['registered_model', 'created', '2026-11-24T10:00:00.000000+00:00', { name: 'fraud', tags: {}, description: null }]);
    // The auditor's report of the model's deletion (no webhook is sent for it).
    const deleted = { ...created!, id: 'del-fraud', time: '2026-11-24T09:50:00.000Z', operation: 'DeleteRegisteredModel', action: 'registered_model.delete' } as typeof created;
    const evs = [
      ...webhookEvents(undefined, ...releases(), version('2026-11-24T09:00:00.000000+00:00', '3'), tag('2026-11-24T09:30:00.000000+00:00', '3', 'approval_status', 'rejected')),
      deleted!, created!,
      ...webhookEvents(undefined, version('2026-11-24T10:05:00.000000+00:00', '3'), tag('2026-11-24T11:30:00.000000+00:00', '3', 'approval_status', 'approved')),
    ];
    const alerts = alertsOf(evs, RULE);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.summary).toMatch(/^fraud v3 was rejected as an earlier registration of that number at 2026-11-24T09:30:00.000Z/);
  });

  it('MLflow: the auditor\'s first look (baseline, dated when seen) at two versions of one source, one rejected and one approved before mltrail ran, is no reversal', () => {
    const approval = ApprovalConfig.parse({});
    const now = Date.parse('2026-11-25T08:00:00Z');
    const snap = (v: string, status: string) => ({ name: 'fraud', version: v, source: 'models:/m-300aa', run_id: 'run3', description: '', tags: { approval_status: status }, aliases: [], creation_timestamp: Date.parse('2026-11-01T00:00:00Z') + Number(v) });
    const evs = [baselineState(approval, snap('3', 'rejected'), now, '2026-11-25T08:00:00Z')!, baselineState(approval, snap('4', 'approved'), now, '2026-11-25T08:00:00Z')!];
    expect(evs.map((e) => e.action)).toEqual(['model_version.reject', 'model_version.approve']);
    expect(alertsOf(evs, RULE)).toEqual([]);
  });

  it('Vertex AI: an approval alias removed from a version (MergeVersionAliases -champion) is no rejection; the version aliased again is no reversal', () => {
    const MODEL = `${LOC}/models/55`;
    const aliases = (time: string, versionAliases: string[]) =>
      vertexOne(auditEntry({ method: `${V1}ModelService.MergeVersionAliases`, resourceName: `${MODEL}@4`, request: { name: `${MODEL}@4`, versionAliases }, principal: 'reviewer@corp.example', timestamp: time }));
    const evs = [aliases('2026-11-24T09:00:00Z', ['champion']), aliases('2026-11-24T12:00:00Z', ['-champion']), aliases('2026-11-25T09:00:00Z', ['champion'])];
    // Vertex AI has no rejection state: a removal is a demotion (a rollback removes and restores an alias), not a decision.
    expect(evs.map((e) => e.action)).toEqual(['model_version.approve', 'model_version.alias_delete', 'model_version.approve']);
    expect(alertsOf(evs, RULE)).toEqual([]);
  });
});
