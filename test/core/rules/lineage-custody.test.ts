import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { lineageOf } from '../../../core/rules/facts.js';
import type { Alert, NormalizedEvent } from '../../../core/schema/index.js';
import { ctRecord, normOne } from '../../connectors/sagemaker/helpers.js';

const ACC = '111122223333';
const PKG = `arn:aws:sagemaker:us-east-1:${ACC}:model-package/fraud-models/1`;
const session = (role: string, name: string) => ({
  type: 'AssumedRole', principalId: `AROA${role.toUpperCase()}:${name}`, arn: `arn:aws:sts::${ACC}:assumed-role/${role}/${name}`, accountId: ACC, accessKeyId: `ASIA${role.toUpperCase()}`,
  sessionContext: { sessionIssuer: { type: 'Role', principalId: `AROA${role.toUpperCase()}`, arn: `arn:aws:iam::${ACC}:role/${role}`, accountId: ACC, userName: role }, attributes: { creationDate: '2026-11-25T09:00:00Z', mfaAuthenticated: 'false' } },
});
let n = 0;
const record = (name: string, who: ReturnType<typeof session>, params: Record<string, unknown>, response: Record<string, unknown>): NormalizedEvent =>
  normOne(ctRecord(name, params, { userIdentity: who, eventTime: `2026-11-25T10:${String(++n).padStart(2, '0')}:00Z`, eventID: `custody-${n}`, requestID: `req-custody-${n}`, responseElements: response }));
const alice = session('MLEngineer', 'alice@example.com');
const bob = session('MLApprover', 'bob@example.com');
const pkg = (art: string) => record('CreateModelPackage', alice, {
  modelPackageGroupName: 'fraud-models', modelApprovalStatus: 'PendingManualApproval',
  inferenceSpecification: { containers: [{ image: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1', modelDataUrl: art }], supportedContentTypes: ['text/csv'], supportedResponseMIMETypes: ['text/csv'] },
}, { modelPackageArn: PKG });
const approve = () => record('UpdateModelPackage', bob, { modelPackageArn: PKG, modelApprovalStatus: 'Approved' }, { modelPackageArn: PKG });
const alertsOf = (events: NormalizedEvent[]): Alert[] => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts;

describe('details.lineage: what it must not show', () => {
  it('a presigned HTTPS model data URL keeps no signature or credential in any alert', () => {
    n = 0;
    const art = `https://fraud-models.s3.us-east-1.amazonaws.com/model.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAXXXX%2F20261125%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLETOKEN&X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef`;
    const alerts = alertsOf([pkg(art), approve()]);
    expect(alerts.length).toBeGreaterThan(0);
    const text = JSON.stringify(alerts);

    expect(text).not.toContain('0123456789abcdef0123456789abcdef');
    expect(text).not.toContain('EXAMPLETOKEN');
  });

  it('user-info in an HTTPS model data URL is not shown', () => {
    n = 0;
    const alerts = alertsOf([pkg('https://deploy:hunter2@artifacts.corp.example/fraud/model.tar.gz'), approve()]);
    expect(alerts.length).toBeGreaterThan(0);
    expect(JSON.stringify(alerts)).not.toContain('hunter2');
    const adv = alerts.find((a) => a.rule_id === 'evaluation.adversarial_failure');
    expect((adv?.details.lineage as { registry?: { artifact_uri?: string } }).registry?.artifact_uri).toBe('https://[redacted]@artifacts.corp.example/fraud/model.tar.gz');
  });

  it('lineageOf hides credentials in the artifact and model URIs it copies', () => {
    expect(lineageOf({
      resource: { type: 'model', id: 'https://u:pw@h.example/m' },
      ml: { model: { name: 'm', artifact_uri: 'https://u:pw@h.example/m.tar.gz' }, deployment: { endpoint: 'e', model_uri: 'hf://org/m?token=hf_abcdefghijklmnop' } },
    })).toEqual({
      resource: { type: 'model', id: 'https://[redacted]@h.example/m' },
      model: { name: 'm', artifact_uri: 'https://[redacted]@h.example/m.tar.gz' },
      endpoint: 'e', model_uri: 'hf://org/m?token=[redacted]',
    });
  });
});

describe('details.lineage.registry: only this version\'s', () => {
  it('a package group deleted and re-created: the old approval judged late carries none of the new package\'s custody', () => {
    n = 0;
    const carol = session('Admin', 'carol@example.com');
    const mallory = session('MLEngineer', 'mallory@example.com');
    const events = [
      pkg('s3://fraud-models/old/model.tar.gz'), approve(),
      record('DeleteModelPackage', carol, { modelPackageName: PKG }, {}),
      record('DeleteModelPackageGroup', carol, { modelPackageGroupName: 'fraud-models' }, {}),
      record('CreateModelPackageGroup', mallory, { modelPackageGroupName: 'fraud-models' }, { modelPackageGroupArn: `arn:aws:sagemaker:us-east-1:${ACC}:model-package-group/fraud-models` }),
      record('CreateModelPackage', mallory, {
        modelPackageGroupName: 'fraud-models', modelApprovalStatus: 'PendingManualApproval',
        inferenceSpecification: { containers: [{ image: '683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1', modelDataUrl: 's3://fraud-models/new/model.tar.gz' }], supportedContentTypes: ['text/csv'], supportedResponseMIMETypes: ['text/csv'] },
      }, { modelPackageArn: PKG }),
    ];
    const alerts = alertsOf(events);
    const adv = alerts.find((a) => a.rule_id === 'evaluation.adversarial_failure');
    // bob's approval of the old package, judged at the end of input, after the new package 1 was registered.
    expect(adv?.evidence[0]).toBe(events[1]!.id);
    expect(JSON.stringify(adv?.details.lineage ?? {})).not.toMatch(/new\/model|mallory/);
    // The delete of the approved package, judged as it happened, still names the old package's custody.
    const del = alerts.find((a) => a.rule_id === 'registry.approved_model_modified');
    expect((del?.details.lineage as { registry?: Record<string, unknown> }).registry).toMatchObject({ artifact_uri: 's3://fraud-models/old/model.tar.gz', approval: { state: 'approved', identity: 'bob@example.com' } });
  });
});

describe('SageMaker ModelDataUrl in the event', () => {
  it('an https:// model data URL is kept with its user-info and signature hidden, in ml.model and raw', () => {
    n = 0;
    const ev = pkg('https://deploy:hunter2@fraud-models.s3.us-east-1.amazonaws.com/model.tar.gz?X-Amz-Security-Token=IQoTOKEN&X-Amz-Signature=abcdef0123456789');
    expect(ev.ml?.model?.artifact_uri).toBe('https://[redacted]@fraud-models.s3.us-east-1.amazonaws.com/model.tar.gz?X-Amz-Security-Token=[redacted]&X-Amz-Signature=[redacted]');
    const text = JSON.stringify(ev);
    expect(text).not.toMatch(/hunter2|IQoTOKEN|abcdef0123456789/);
    // an s3:// one is as logged
    expect(pkg('s3://fraud-models/model.tar.gz').ml?.model?.artifact_uri).toBe('s3://fraud-models/model.tar.gz');
  });
});
