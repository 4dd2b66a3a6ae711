import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { ConfigSchema } from '../../../bridge/config.js';
import { normalizeInput } from '../../../bridge/normalize.js';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { sagemakerConnector } from '../../../connectors/sagemaker/index.js';
import { classifySagemakerOperation } from '../../../connectors/sagemaker/operations.js';
import { CLI, listFixtures, readFixture } from '../../helpers/fixtures.js';
import { ctRecord, cwlData, fx, norm, normOne, RECEIVED } from './helpers.js';

const cfg = ConfigSchema.parse({});

const one = normOne;

/** What every fixture must become (stage, action, actor, outcome) — or why it is skipped / rejected. */
const EXPECTED: Record<string, { events?: Array<{ stage: string; action: string; operation: string; outcome: string; actor?: Record<string, unknown> }>; skipped?: number; rejected?: number }> = {
  'cloudtrail-digest-file.awsdocs.json': { skipped: 1 },
  'cloudtrail-logfile-records-insight-event.awsdocs.json': { skipped: 2 },
  's3-event-notification-testevent.awsdocs.json': { skipped: 1 },
  's3-event-notification-objectcreated-put.awsdocs.json': { skipped: 1 },
  'sns-message-cloudtrail-log-delivery.awsdocs.json': { skipped: 1 },
  'cwlogs-subscription-data-message.decoded.awsdocs.json': { rejected: 3 },
  'firehose-http-endpoint-request.awsdocs.json': { rejected: 2 },
  'cloudtrail-ecr-putimage.panther.json': {
    events: [{ stage: 'platform', action: 'image.push', operation: 'PutImage', outcome: 'success', actor: { type: 'user', name: 'Mary_Major', ip: '203.0.113.12', mfa: false } }],
  },
  'cloudtrail-s3-copyobject-external-account.panther.json': {
    events: [{ stage: 'platform', action: 'data_object.copy', operation: 'CopyObject', outcome: 'success', actor: { ip: '1.2.3.4', session_issuer: 'arn:aws:iam::12948575929274:role/sample-role-keen-cohen', user_agent: 'aws-cli/2.13.0' } }],
  },
  'cloudtrail-sagemaker-createendpoint.awsdocs.json': {
    events: [{ stage: 'serving', action: 'endpoint.deploy', operation: 'CreateEndpoint', outcome: 'success', actor: { type: 'user', id: 'arn:aws:iam::123456789012:user/intern', name: 'intern', ip: '127.0.0.1', user_agent: 'USER_AGENT' } }],
  },
  'cloudtrail-sagemaker-createtrainingjob.real.json': {
    events: [{ stage: 'training', action: 'training_job.create', operation: 'CreateTrainingJob', outcome: 'success', actor: { id: 'arn:aws:sts::558069890522:assumed-role/medzen-arm-launch-role/GitHubActions', session_issuer: 'arn:aws:iam::558069890522:role/medzen-arm-launch-role' } }],
  },
  'cloudtrail-sagemaker-featurestore-putrecord-dataevent.awsdocs.json': {
    events: [{ stage: 'ingestion', action: 'feature_record.write', operation: 'PutRecord', outcome: 'success', actor: { type: 'user', name: 'your-user-name', ip: '192.0.2.0' } }],
  },
  'cloudtrail-sagemaker-listtags-by-config.sumologic-docs.json': {
    events: [{ stage: 'platform', action: 'resource.read', operation: 'ListTags', outcome: 'success', actor: { type: 'service', user_agent: 'config.amazonaws.com', mfa: false } }],
  },
  'eventbridge-cloudtrail-s3-putobject.stepfunctions-docs.json': {
    events: [{ stage: 'platform', action: 'data_object.write', operation: 'PutObject', outcome: 'success', actor: { type: 'user', name: 'username', mfa: true, ip: '203.0.113.34' } }],
  },
  'eventbridge-sagemaker-endpoint-state-change.awsdocs.json': {
    events: [{ stage: 'serving', action: 'endpoint.status_change', operation: 'SageMaker Endpoint State Change', outcome: 'success', actor: { type: 'service' } }],
  },
  'eventbridge-sagemaker-model-package-state-change.awsdocs.json': {
    events: [{ stage: 'registry', action: 'model_version.status_change', operation: 'SageMaker Model Package State Change', outcome: 'success', actor: { type: 'service' } }],
  },
  'eventbridge-sagemaker-pipeline-execution-status-change.awsdocs.json': {
    events: [{ stage: 'training', action: 'pipeline_run.complete', operation: 'SageMaker Model Building Pipeline Execution Status Change', outcome: 'success' }],
  },
  'eventbridge-sagemaker-training-job-state-change.awsdocs.json': {
    events: [{ stage: 'training', action: 'training_job.complete', operation: 'SageMaker Training Job State Change', outcome: 'success' }],
  },
  'modelmonitor-bias-drift-constraint_violations.awsdocs.json': {
    events: [
      { stage: 'serving', action: 'monitor.violation', operation: 'ModelMonitor.bias_drift_check', outcome: 'success' },
      { stage: 'serving', action: 'monitor.violation', operation: 'ModelMonitor.bias_drift_check', outcome: 'success' },
    ],
  },
};

describe('sagemaker fixtures through normalizeInput (the CLI path), --platform sagemaker and auto', () => {
  const names = listFixtures('sagemaker').filter((n) => n !== 'firehose-http-endpoint-response-success.awsdocs.json');

  it('has an expectation for every input fixture', () => {
    expect(names.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const name of names) {
    for (const platform of ['sagemaker', 'auto']) {
      it(`${name} (${platform})`, () => {
        const want = EXPECTED[name]!;
        const r = normalizeInput(readFixture('sagemaker', name), name, platform, cfg);
        expect(r.events.map((e) => ({ stage: e.stage, action: e.action, operation: e.operation, outcome: e.outcome }))).toEqual(
          (want.events ?? []).map(({ actor: _a, ...rest }) => rest),
        );
        (want.events ?? []).forEach((w, i) => {
          if (w.actor) expect(r.events[i]!.actor).toMatchObject(w.actor);
          expect(r.events[i]!.platform).toBe('sagemaker');
        });
        expect(r.skipped).toHaveLength(want.skipped ?? 0);
        expect(r.errors).toHaveLength(want.rejected ?? 0);
      });
    }
  }

  it('reads the same files gzip-compressed (.json.gz as CloudTrail writes them)', () => {
    const gz = gzipSync(readFixture('sagemaker', 'cloudtrail-sagemaker-createtrainingjob.real.json'));
    const r = normalizeInput(gz, 'x.json.gz', 'auto', cfg);
    expect(r.events.map((e) => e.action)).toEqual(['training_job.create']);
  });

  it('does not claim the Firehose success response (it is not input)', () => {
    expect(sagemakerConnector.detect!(fx('firehose-http-endpoint-response-success.awsdocs.json'))).toBe(false);
  });

  it('rejected doc examples name the record and why (quarantine, not fatal)', () => {
    const r = normalizeInput(readFixture('sagemaker', 'cwlogs-subscription-data-message.decoded.awsdocs.json'), 'cwl.json', 'auto', cfg);
    expect(r.errors[0]).toMatch(/^cwl\.json:1: logEvents\[0\]: field message: log event message is not JSON/);
    const f = normalizeInput(readFixture('sagemaker', 'firehose-http-endpoint-request.awsdocs.json'), 'fh.json', 'auto', cfg);
    expect(f.errors[1]).toMatch(/records\[1\].*not JSON/);
  });
});

describe('security facts', () => {
  it('CreateTransformJob: the SageMaker Model it runs (ml.deployment.model, as an inference component names its model), input and output', () => {
    const ev = one(ctRecord('CreateTransformJob', {
      transformJobName: 'fraud-score-2026-11-25', modelName: 'fraud-4', batchStrategy: 'MultiRecord',
      transformInput: { dataSource: { s3DataSource: { s3DataType: 'S3Prefix', s3Uri: 's3://prod-data/transactions/' } }, contentType: 'text/csv', splitType: 'Line' },
      transformOutput: { s3OutputPath: 's3://scoring/fraud/', assembleWith: 'Line' },
      transformResources: { instanceType: 'ml.m5.xlarge', instanceCount: 1 },
    }, { responseElements: { transformJobArn: 'arn:aws:sagemaker:us-east-1:111122223333:transform-job/fraud-score-2026-11-25' } }));
    expect([ev.stage, ev.action]).toEqual(['serving', 'transform_job.create']);
    expect(ev.ml?.deployment).toEqual({ model: 'fraud-4' });
    expect(ev.ml?.job).toMatchObject({ name: 'fraud-score-2026-11-25', type: 'transform', instance_type: 'ml.m5.xlarge' });
    expect(ev.ml?.data).toMatchObject({ inputs: ['s3://prod-data/transactions/'], outputs: ['s3://scoring/fraud/'] });
    expect(ev.actor?.id).toBe('arn:aws:sts::111122223333:assumed-role/MLEngineer/alice');
  });

  it('CreateTrainingJob (REAL): image pinned by digest, role, isolation, VPC, S3 URIs, KMS', () => {
    const ev = one(fx('cloudtrail-sagemaker-createtrainingjob.real.json'));
    expect(ev.ml?.job).toMatchObject({
      name: 'medzen-b5-b5-universal-arm1-2026-005',
      type: 'training',
      image: '558069890522.dkr.ecr.eu-central-1.amazonaws.com/medzen-trainer-omniasr@sha256:059f4bfb27d2dc5aeca8a5f609398f3590379bdf0a8e40c6b59680cf02507a7b',
      image_digest: 'sha256:059f4bfb27d2dc5aeca8a5f609398f3590379bdf0a8e40c6b59680cf02507a7b',
      image_pinned: true,
      role: 'arn:aws:iam::558069890522:role/medzen-trainer-role',
      network_isolation: false,
      vpc: true,
      vpc_config: { subnets: ['subnet-00232b25bc1ac407a'], security_group_ids: ['sg-0fee72d218ac002a7'] },
      instance_type: 'ml.g6.xlarge',
      kms_key: 'arn:aws:kms:eu-central-1:558069890522:key/9c336116-c648-4548-95c6-1b926478ae57',
      entrypoint: ['/opt/venv/bin/python'],
    });
    expect(ev.ml?.data?.outputs).toEqual([
      's3://medzen-speech/research/b5-training/b5-universal-arm1-2026-005/checkpoints',
      's3://medzen-speech/research/b5-training/b5-universal-arm1-2026-005/output',
    ]);
    // Environment values stay in raw; the event lists only their names.
    expect(ev.ml?.job?.env_keys).toContain('MEDZEN_LR');
    expect(JSON.stringify(ev.ml)).not.toContain('DQ-2026-006');
    expect(ev.cloud).toEqual({ provider: 'aws', account: '558069890522', region: 'eu-central-1' });
    // The owner trimmed eventID: the id falls back to the record's content hash, still stable.
    expect(one(fx('cloudtrail-sagemaker-createtrainingjob.real.json')).id).toBe(ev.id);
  });

  it('CreateHyperParameterTuningJob with trainingJobDefinitions[] (plural): facts of every definition, least safe value in ml.job, rules see them', () => {
    const ECR = '111122223333.dkr.ecr.us-east-1.amazonaws.com/train';
    const pinned = `${ECR}@sha256:${'f'.repeat(64)}`;
    const definition = (name: string, image: string, isolated: boolean | undefined, vpc: boolean) => ({
      definitionName: name,
      algorithmSpecification: { trainingImage: image, trainingInputMode: 'File' },
      roleArn: `arn:aws:iam::111122223333:role/SageMaker-${name}`,
      ...(isolated === undefined ? {} : { enableNetworkIsolation: isolated }),
      ...(vpc ? { vpcConfig: { securityGroupIds: ['sg-0123'], subnets: ['subnet-0abc'] } } : {}),
      environment: { [`${name.toUpperCase()}_MODE`]: 'x' },
      inputDataConfig: [{ channelName: 'train', dataSource: { s3DataSource: { s3DataType: 'S3Prefix', s3Uri: `s3://ml-training-data/${name}/` } } }],
      outputDataConfig: { s3OutputPath: 's3://ml-model-artifacts/hpo/' },
    });
    const safe = one(ctRecord('CreateHyperParameterTuningJob', { hyperParameterTuningJobName: 'hpo-safe', trainingJobDefinitions: [definition('a', pinned, true, true), definition('b', pinned, true, true)] }, { eventID: 'hpo-safe' }));
    expect(safe).toMatchObject({ stage: 'training', action: 'tuning_job.create' });
    expect(safe.ml!.job).toMatchObject({
      name: 'hpo-safe', type: 'tuning', image: pinned, image_pinned: true, image_digest: `sha256:${'f'.repeat(64)}`,
      role: 'arn:aws:iam::111122223333:role/SageMaker-a', roles: ['arn:aws:iam::111122223333:role/SageMaker-a', 'arn:aws:iam::111122223333:role/SageMaker-b'],
      network_isolation: true, vpc: true, vpc_config: { subnets: ['subnet-0abc'], security_group_ids: ['sg-0123'] }, env_keys: ['A_MODE', 'B_MODE'],
    });
    expect((safe.ml!.job as { definitions: unknown[] }).definitions).toHaveLength(2);
    expect(safe.ml!.data!.inputs).toEqual(['s3://ml-training-data/a/', 's3://ml-training-data/b/']);

    // One definition by tag, without isolation or VPC: the job as a whole is that unsafe.
    const mixed = one(ctRecord('CreateHyperParameterTuningJob', { hyperParameterTuningJobName: 'hpo-mixed', trainingJobDefinitions: [definition('a', pinned, true, true), definition('b', `${ECR}:latest`, undefined, false)] }, { eventID: 'hpo-mixed' }));
    expect(mixed.ml!.job).toMatchObject({ image: `${ECR}:latest`, images: [pinned, `${ECR}:latest`], image_pinned: false, network_isolation: false, vpc: false });
    expect(mixed.ml!.job!.image_digest).toBeUndefined();

    // The singular form (one definition) reads the same facts, without the per-definition list.
    const single = one(ctRecord('CreateHyperParameterTuningJob', { hyperParameterTuningJobName: 'hpo-one', trainingJobDefinition: definition('a', pinned, true, true) }, { eventID: 'hpo-one' }));
    expect(single.ml!.job).toMatchObject({ image: pinned, image_pinned: true, role: 'arn:aws:iam::111122223333:role/SageMaker-a', network_isolation: true, vpc: true, env_keys: ['A_MODE'] });
    expect(single.ml!.job).not.toHaveProperty('definitions');

    const { alerts } = replayEvents([safe, mixed, single], { rules: RulesConfig.parse({}) });
    expect(alerts.map((a) => `${a.rule_id} ${(a.evidence ?? []).join()}`).sort()).toEqual([`training.network_egress ${mixed.id}`, `training.unverified_dependency ${mixed.id}`]);
  });

  it('a training image referenced by tag is not pinned', () => {
    const ev = one(ctRecord('CreateTrainingJob', { trainingJobName: 'j', algorithmSpecification: { trainingImage: '1.dkr.ecr.us-east-1.amazonaws.com/t:latest' }, roleArn: 'arn:aws:iam::111122223333:role/SageMakerExec', enableNetworkIsolation: true }));
    expect(ev.ml?.job).toMatchObject({ image_pinned: false, network_isolation: true, role: 'arn:aws:iam::111122223333:role/SageMakerExec' });
    expect(ev.ml?.job?.image_digest).toBeUndefined();
    expect(ev.actor).toMatchObject({ type: 'user', mfa: true, ip: '198.51.100.7', user_agent: 'Boto3/1.35.0', name: 'MLEngineer/alice', session_issuer: 'arn:aws:iam::111122223333:role/MLEngineer' });
  });

  it('UpdateModelPackage Approved → registry/model_version.approve with group, version and approval', () => {
    const ev = one(ctRecord('UpdateModelPackage', { modelPackageArn: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/7', modelApprovalStatus: 'Approved', approvalDescription: 'ok' }, { responseElements: { modelPackageArn: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/7' } }));
    expect([ev.stage, ev.action]).toEqual(['registry', 'model_version.approve']);
    expect(ev.ml?.model).toMatchObject({ name: 'fraud', version: '7', approval: 'approved' });
    expect(ev.resource).toMatchObject({ type: 'model_package', name: 'fraud', version: '7' });
    expect(one(ctRecord('UpdateModelPackage', { modelPackageArn: 'arn:aws:sagemaker:us-east-1:1:model-package/fraud/7', modelApprovalStatus: 'Rejected' })).action).toBe('model_version.reject');
    expect(one(ctRecord('UpdateModelPackage', { modelPackageArn: 'arn:aws:sagemaker:us-east-1:1:model-package/fraud/7', customerMetadataProperties: { a: 'b' } })).action).toBe('model_version.update');
  });

  it('Delete/DescribeModelPackage with a versioned ARN name the package group and version, as UpdateModelPackage does', () => {
    const ARN = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/3';
    const update = one(ctRecord('UpdateModelPackage', { modelPackageArn: ARN, modelApprovalStatus: 'Approved' }));
    const del = one(ctRecord('DeleteModelPackage', { modelPackageName: ARN }));
    const describe = one(ctRecord('DescribeModelPackage', { modelPackageName: ARN }));
    // The same call through an EventBridge "AWS API Call via CloudTrail" envelope.
    const viaEventBridge = one({ version: '0', id: 'dp', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.sagemaker', account: '111122223333', time: '2026-11-25T10:05:00Z', region: 'us-east-1', resources: [], detail: ctRecord('DeleteModelPackage', { modelPackageName: ARN }, { eventID: 'del-eb' }) });
    for (const ev of [update, del, describe, viaEventBridge]) {
      expect(ev.resource, ev.operation).toMatchObject({ type: 'model_package', id: ARN, name: 'churn', version: '3' });
      expect(ev.ml?.model, ev.operation).toMatchObject({ name: 'churn', version: '3' });
    }
    expect([del.action, describe.action]).toEqual(['model_version.delete', 'model_version.read']);
    // An unversioned package (no group) by ARN, and by plain name.
    const solo = one(ctRecord('DeleteModelPackage', { modelPackageName: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/solo-pkg' }));
    expect(solo.resource).toMatchObject({ id: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/solo-pkg', name: 'solo-pkg' });
    expect(solo.resource?.version).toBeUndefined();
    expect(solo.ml?.model).toMatchObject({ name: 'solo-pkg' });
    const byName = one(ctRecord('DescribeModelPackage', { modelPackageName: 'solo-pkg' }));
    expect(byName.resource).toMatchObject({ id: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/solo-pkg', name: 'solo-pkg' });
    expect(byName.ml?.model?.name).toBe('solo-pkg');
  });

  it('CreateModelPackage carries images, digests and model data URL', () => {
    const ev = one(ctRecord('CreateModelPackage', {
      modelPackageGroupName: 'fraud',
      modelApprovalStatus: 'PendingManualApproval',
      inferenceSpecification: { containers: [{ image: '1.dkr.ecr.us-east-1.amazonaws.com/xgb:1', imageDigest: 'sha256:' + 'a'.repeat(64), modelDataUrl: 's3://models/fraud/model.tar.gz' }] },
    }));
    expect([ev.stage, ev.action]).toEqual(['registry', 'model_version.create']);
    expect(ev.ml?.model).toMatchObject({ name: 'fraud', approval: 'pending', artifact_uri: 's3://models/fraud/model.tar.gz', image_pinned: true });
  });

  it('adversarial evidence in model-package metadata or tags reaches the rules: recorded at create, counted at a later approval', () => {
    const PKG = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/1';
    const create = (extra: Record<string, unknown>, id: string) =>
      one(ctRecord('CreateModelPackage', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'PendingManualApproval', ...extra }, { eventID: id, eventTime: '2026-03-02T10:00:00Z', responseElements: { modelPackageArn: PKG } }));
    const byMeta = create({ customerMetadataProperties: { adversarial_verdict: 'passed' } }, 'c-meta');
    const byTag = create({ tags: [{ key: 'adv_verdict', value: 'passed' }] }, 'c-tag');
    const bare = create({}, 'c-bare');
    expect(byMeta.details?.metadata).toEqual({ adversarial_verdict: 'passed' });
    expect(byTag.ml?.model?.tags).toEqual({ adv_verdict: 'passed' });
    const approve = one(ctRecord('UpdateModelPackage', { modelPackageArn: PKG, modelApprovalStatus: 'Approved' }, { eventID: 'approve', eventTime: '2026-03-02T11:00:00Z' }));
    const adv = (evs: NormalizedEvent[]) => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'evaluation.adversarial_failure');
    expect(adv([byMeta, approve])).toEqual([]);
    expect(adv([byTag, approve])).toEqual([]);
    expect(adv([bare, approve]).map((a) => [a.entity.id, a.evidence])).toEqual([['111122223333:us-east-1:fraud/1', [approve.id]]]);
    // A failed verdict recorded at registration is an adversarial failure by itself.
    expect(adv([create({ customerMetadataProperties: { adversarial_verdict: 'failed' } }, 'c-fail')]).map((a) => a.entity.id)).toEqual(['111122223333:us-east-1:fraud/1']);

    // The "Model Package State Change" service event carries both (PascalCase, user keys kept).
    const state = fx<Record<string, unknown>>('eventbridge-sagemaker-model-package-state-change.awsdocs.json');
    const detail = state.detail as Record<string, unknown>;
    const withEvidence = one({ ...state, detail: { ...detail, ModelApprovalStatus: 'Approved', CustomerMetadataProperties: { adversarial_verdict: 'passed' }, Tags: [{ Key: 'adv_score', Value: '0.9' }] } });
    expect(withEvidence.details?.metadata).toEqual({ adversarial_verdict: 'passed' });
    expect(withEvidence.ml?.model).toMatchObject({ approval: 'approved', tags: { adv_score: '0.9' } });
    expect(adv([withEvidence])).toEqual([]);
    expect(adv([one({ ...state, detail: { ...detail, ModelApprovalStatus: 'Approved' } })])).toHaveLength(1);
  });

  it('AddTags / DeleteTags on a model package are registry tag changes of that version; tagging an approved version alerts', () => {
    const PKG = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/1';
    const add = one(ctRecord('AddTags', { resourceArn: PKG, tags: [{ key: 'stage', value: 'x' }] }, { eventID: 'tag', eventTime: '2026-11-25T12:00:00Z' }));
    const del = one(ctRecord('DeleteTags', { resourceArn: PKG, tagKeys: ['reviewed_by'] }, { eventID: 'untag', eventTime: '2026-11-25T13:00:00Z' }));
    expect([add.stage, add.action, del.stage, del.action]).toEqual(['registry', 'model_version.tag_set', 'registry', 'model_version.tag_delete']);
    for (const ev of [add, del]) {
      expect(ev.resource).toEqual({ type: 'model_package', id: PKG, name: 'fraud', version: '1' });
      expect(ev.ml?.model).toMatchObject({ name: 'fraud', version: '1' });
    }
    expect(add.ml?.model?.tags).toEqual({ stage: 'x' });
    expect(del.details?.tag_keys).toEqual(['reviewed_by']);
    const group = one(ctRecord('AddTags', { resourceArn: 'arn:aws:sagemaker:us-east-1:111122223333:model-package-group/fraud', tags: [{ key: 'team', value: 'risk' }] }));
    expect([group.stage, group.action, group.resource?.name]).toEqual(['registry', 'registered_model.tag_set', 'fraud']);
    // Tags on anything else stay platform/resource.tag_*.
    const job = one(ctRecord('AddTags', { resourceArn: 'arn:aws:sagemaker:us-east-1:111122223333:training-job/train-1', tags: [{ key: 'k', value: 'v' }] }));
    expect([job.stage, job.action, job.resource?.type, job.resource?.name]).toEqual(['platform', 'resource.tag_set', 'training_job', 'train-1']);

    const approve = one(ctRecord('UpdateModelPackage', { modelPackageArn: PKG, modelApprovalStatus: 'Approved' }, { eventID: 'approve', eventTime: '2026-11-25T11:00:00Z' }));
    const mod = replayEvents([approve, add, del], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');
    // A tag that reads like an approval marker does not approve a SageMaker package (ModelApprovalStatus does).
    const tagApprove = one(ctRecord('AddTags', { resourceArn: PKG, tags: [{ key: 'approval', value: 'approved' }] }, { eventID: 'tag-approve', eventTime: '2026-11-25T11:00:00Z' }));
    const deploy = one(ctRecord('CreateModel', { modelName: 'fraud-m', primaryContainer: { modelPackageName: PKG } }, { eventID: 'model', eventTime: '2026-11-25T11:10:00Z' }));
    const endpoint = one(ctRecord('CreateEndpointConfig', { endpointConfigName: 'fraud-ec', productionVariants: [{ variantName: 'v', modelName: 'fraud-m' }] }, { eventID: 'ec', eventTime: '2026-11-25T11:20:00Z' }));
    const serve = one(ctRecord('CreateEndpoint', { endpointName: 'fraud-prod', endpointConfigName: 'fraud-ec' }, { eventID: 'ep', eventTime: '2026-11-25T11:30:00Z' }));
    const unapproved = replayEvents([tagApprove, deploy, endpoint, serve], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect(unapproved.map((a) => a.entity.id)).toEqual(['111122223333:us-east-1:fraud-prod']);
    expect(mod.map((a) => [a.entity.id, a.evidence, a.details.tags])).toEqual([
      ['111122223333:us-east-1:fraud/1', [approve.id, add.id], ['stage']],
      ['111122223333:us-east-1:fraud/1', [approve.id, del.id], ['reviewed_by']],
    ]);
  });

  it('a model package group named by its ARN is the group name (ml.model.name, resource.name), so an approval at registration and a later change of that version are one model', () => {
    const GROUP = 'arn:aws:sagemaker:us-east-1:111122223333:model-package-group/churn';
    const PKG = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/5';
    const create = one(ctRecord('CreateModelPackage', { modelPackageGroupName: GROUP, modelApprovalStatus: 'Approved' }, { eventID: 'reg', eventTime: '2026-11-25T11:00:00Z', responseElements: { modelPackageArn: PKG } }));
    expect([create.action, create.ml?.model?.name, create.ml?.model?.version, create.ml?.model?.approval]).toEqual(['model_version.create', 'churn', '5', 'approved']);
    expect(create.resource).toEqual({ type: 'model_package', id: PKG, name: 'churn', version: '5' });
    // Without a response (a failed or truncated record) the package is still named by its group.
    expect(one(ctRecord('CreateModelPackage', { modelPackageGroupName: GROUP })).resource).toEqual({ type: 'model_package', name: 'churn' });
    for (const op of ['DeleteModelPackageGroup', 'DescribeModelPackageGroup', 'PutModelPackageGroupPolicy']) {
      const ev = one(ctRecord(op, { modelPackageGroupName: GROUP, resourcePolicy: op.startsWith('Put') ? '{}' : undefined }));
      expect([op, ev.resource, ev.ml?.model?.name]).toEqual([op, { type: 'model_package_group', id: GROUP, name: 'churn' }, 'churn']);
    }
    expect(one(ctRecord('ListModelPackages', { modelPackageGroupName: GROUP })).ml?.model?.name).toBe('churn');
    // By name, as before; a policy call now names its group too.
    expect(one(ctRecord('PutModelPackageGroupPolicy', { modelPackageGroupName: 'churn', resourcePolicy: '{}' })).resource).toEqual({ type: 'model_package_group', id: GROUP, name: 'churn' });

    const update = one(ctRecord('UpdateModelPackage', { modelPackageArn: PKG, customerMetadataProperties: { owner: 'mallory' } }, { eventID: 'upd', eventTime: '2026-11-25T12:00:00Z' }));
    const tag = one(ctRecord('AddTags', { resourceArn: PKG, tags: [{ key: 'stage', value: 'x' }] }, { eventID: 'tag', eventTime: '2026-11-25T13:00:00Z' }));
    const mod = replayEvents([create, update, tag], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(mod.map((a) => [a.entity.id, a.evidence])).toEqual([
      ['111122223333:us-east-1:churn/5', [create.id, update.id]],
      ['111122223333:us-east-1:churn/5', [create.id, tag.id]],
    ]);
  });

  it('a package group registered by a mixed-case name and later named by its (lower-cased) ARN is one model: changes alert, deployments link to the approval', () => {
    // SageMaker lower-cases names inside ARNs (spec §2): `FraudModel` is `model-package/fraudmodel/1`.
    const PKG = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraudmodel/1';
    const create = one(ctRecord('CreateModelPackage', { modelPackageGroupName: 'FraudModel', modelApprovalStatus: 'Approved' }, { eventID: 'reg', eventTime: '2026-11-25T11:00:00Z', responseElements: { modelPackageArn: PKG } }));
    const tag = one(ctRecord('AddTags', { resourceArn: PKG, tags: [{ key: 'stage', value: 'x' }] }, { eventID: 'tag', eventTime: '2026-11-25T13:00:00Z' }));
    const mod = replayEvents([create, tag], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified');
    expect(mod.map((a) => a.evidence)).toEqual([[create.id, tag.id]]);
    const model = one(ctRecord('CreateModel', { modelName: 'fraud-m', primaryContainer: { modelPackageName: PKG } }, { eventID: 'model', eventTime: '2026-11-25T11:10:00Z' }));
    const ec = one(ctRecord('CreateEndpointConfig', { endpointConfigName: 'fraud-ec', productionVariants: [{ variantName: 'v', modelName: 'fraud-m' }] }, { eventID: 'ec', eventTime: '2026-11-25T11:20:00Z' }));
    const ep = one(ctRecord('CreateEndpoint', { endpointName: 'fraud-prod', endpointConfigName: 'fraud-ec' }, { eventID: 'ep', eventTime: '2026-11-25T11:30:00Z' }));
    const alerts = (reg: NormalizedEvent) => replayEvents([reg, model, ec, ep], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment');
    expect(alerts(create)).toEqual([]);
    // Near miss: another group whose name differs by more than case is not that approval.
    const other = one(ctRecord('CreateModelPackage', { modelPackageGroupName: 'FraudModel2', modelApprovalStatus: 'Approved' }, { eventID: 'reg2', eventTime: '2026-11-25T11:00:00Z', responseElements: { modelPackageArn: PKG.replace('fraudmodel/', 'fraudmodel2/') } }));
    expect(alerts(other)).toHaveLength(1);
  });

  it('CreateEndpointConfig → variants, traffic, data capture; CreateModel → model data URL and role', () => {
    const ec = one(ctRecord('CreateEndpointConfig', {
      endpointConfigName: 'cfg-1',
      productionVariants: [
        { variantName: 'blue', modelName: 'm1', instanceType: 'ml.m5.xlarge', initialInstanceCount: 2, initialVariantWeight: 0.9 },
        { variantName: 'green', modelName: 'm2', instanceType: 'ml.m5.xlarge', initialInstanceCount: 1, initialVariantWeight: 0.1, enableSSMAccess: true },
      ],
      dataCaptureConfig: { enableCapture: true, destinationS3Uri: 's3://capture/ep', initialSamplingPercentage: 100 },
    }));
    expect([ec.stage, ec.action]).toEqual(['serving', 'endpoint_config.create']);
    expect(ec.ml?.deployment).toMatchObject({ endpoint_config: 'cfg-1', traffic: { blue: 0.9, green: 0.1 }, data_capture: { enabled: true, destination: 's3://capture/ep' } });
    expect((ec.ml?.deployment?.variants as Array<Record<string, unknown>>)[1]).toMatchObject({ name: 'green', ssm_access: true });
    const m = one(ctRecord('CreateModel', { modelName: 'm1', executionRoleArn: 'arn:aws:iam::1:role/exec', primaryContainer: { image: 'x/y:1', modelDataUrl: 's3://models/m1.tar.gz' }, enableNetworkIsolation: false }));
    expect([m.stage, m.action]).toEqual(['serving', 'model.create']);
    expect(m.ml?.model).toMatchObject({ name: 'm1', artifact_uri: 's3://models/m1.tar.gz', role: 'arn:aws:iam::1:role/exec', image_pinned: false, network_isolation: false });
    expect(one(ctRecord('UpdateEndpoint', { endpointName: 'ep', endpointConfigName: 'cfg-2' })).action).toBe('endpoint.deploy');
    const uw = one(ctRecord('UpdateEndpointWeightsAndCapacities', { endpointName: 'ep', desiredWeightsAndCapacities: [{ variantName: 'green', desiredWeight: 1 }] }));
    expect([uw.action, uw.ml?.deployment?.traffic]).toEqual(['endpoint.traffic_change', { green: 1 }]);
  });

  it('builds the lower-cased SageMaker ARN when the record carries none', () => {
    const ev = one(ctRecord('DeleteEndpoint', { endpointName: 'MyEndpoint' }));
    expect(ev.resource).toEqual({ type: 'endpoint', id: 'arn:aws:sagemaker:us-east-1:111122223333:endpoint/myendpoint', name: 'MyEndpoint' });
  });

  it('AwsServiceEvent records (SageMaker acting for a tuning job) name the service as actor', () => {
    const ev = one(ctRecord('CreateTrainingJob', { trainingJobName: 'tuning-001' }, { eventType: 'AwsServiceEvent', userIdentity: { accountId: '111122223333', invokedBy: 'sagemaker.amazonaws.com' }, sourceIPAddress: 'sagemaker.amazonaws.com', userAgent: 'sagemaker.amazonaws.com' }));
    expect(ev.actor).toMatchObject({ type: 'service', id: 'sagemaker.amazonaws.com', name: 'sagemaker.amazonaws.com' });
    expect(ev.actor?.ip).toBeUndefined();
  });

  it('errorCode → failure with the code and message', () => {
    const ev = one(ctRecord('CreateTrainingJob', { trainingJobName: 'j' }, { errorCode: 'AccessDenied', errorMessage: 'User is not authorized to perform: iam:PassRole' }));
    expect(ev.outcome).toBe('failure');
    expect(ev.error).toEqual({ code: 'AccessDenied', message: 'User is not authorized to perform: iam:PassRole' });
  });
});

describe('operation classification (spec stage tables)', () => {
  const cases: Array<[string, Record<string, unknown>, string, string]> = [
    ['CreateProcessingJob', {}, 'preprocessing', 'processing_job.create'],
    ['CreateProcessingJob', { appSpecification: { imageUri: '156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer' } }, 'evaluation', 'processing_job.create'],
    ['CreateHyperParameterTuningJob', {}, 'training', 'tuning_job.create'],
    ['StartPipelineExecution', {}, 'training', 'pipeline_run.start'],
    ['StopPipelineExecution', {}, 'training', 'pipeline_run.stop'],
    ['CreatePipeline', {}, 'training', 'pipeline.create'],
    ['CreateMonitoringSchedule', {}, 'serving', 'monitor.create'],
    ['StopMonitoringSchedule', {}, 'serving', 'monitor.stop'],
    ['CreateDataQualityJobDefinition', {}, 'serving', 'monitor.create'],
    ['CreateModelBiasJobDefinition', {}, 'serving', 'monitor.create'],
    ['CreateInferenceRecommendationsJob', {}, 'evaluation', 'evaluation.create'],
    ['PutModelPackageGroupPolicy', {}, 'registry', 'permission.change'],
    ['CreateModelPackageGroup', {}, 'registry', 'model_package_group.create'],
    ['CreateFeatureGroup', {}, 'ingestion', 'feature_group.create'],
    ['GetRecord', {}, 'ingestion', 'feature_record.read'],
    ['CreateLabelingJob', {}, 'ingestion', 'resource.create'],
    ['CreateTransformJob', {}, 'serving', 'transform_job.create'],
    ['CreateNotebookInstance', {}, 'platform', 'notebook.create'],
    ['CreatePresignedNotebookInstanceUrl', {}, 'platform', 'notebook.open'],
    ['CreateNotebookInstanceLifecycleConfig', {}, 'platform', 'resource.create'],
    ['CreateDomain', {}, 'platform', 'resource.create'],
    ['AddTags', {}, 'platform', 'resource.tag_set'], // on a model package: registry/model_version.tag_set (security facts)
    ['DescribeTrainingJob', {}, 'training', 'training_job.read'],
    ['ListTrainingJobs', {}, 'training', 'training_job.read'],
    ['ListTrainingJobsForHyperParameterTuningJob', {}, 'training', 'tuning_job.read'],
    ['DescribeEndpoint', {}, 'serving', 'endpoint.read'],
    ['ListModelPackages', {}, 'registry', 'model_version.read'],
    ['SomeFutureOperation', {}, 'platform', 'resource.other'],
    ['CreateFancyNewThing', {}, 'platform', 'resource.create'],
  ];
  for (const [op, params, stage, action] of cases) {
    it(`${op} → ${stage}/${action}`, () => {
      const c = classifySagemakerOperation(op, params);
      expect([c.stage, c.action]).toEqual([stage, action]);
    });
  }

  it('reads are marked read-only and still normalize', () => {
    const ev = one(ctRecord('DescribeModelPackage', { modelPackageName: 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/7' }));
    expect(ev.action).toBe('model_version.read');
    expect(ev.details?.read_only).toBe(true);
  });
});

describe('related non-SageMaker records', () => {
  const assume = (roleArn: string, extra: Record<string, unknown> = {}) =>
    ctRecord('AssumeRole', { roleArn, roleSessionName: 's1' }, { eventSource: 'sts.amazonaws.com', responseElements: { assumedRoleUser: { arn: `${roleArn.replace(':iam:', ':sts:').replace(':role/', ':assumed-role/')}/s1` } }, ...extra });

  it('STS AssumeRole of a SageMaker role → platform/role.assume; other roles are skipped', () => {
    const ev = one(assume('arn:aws:iam::111122223333:role/AmazonSageMaker-ExecutionRole-2026'));
    expect([ev.stage, ev.action, ev.resource?.id]).toEqual(['platform', 'role.assume', 'arn:aws:iam::111122223333:role/AmazonSageMaker-ExecutionRole-2026']);
    const other = norm(assume('arn:aws:iam::111122223333:role/BillingReader'));
    expect(other.events).toHaveLength(0);
    expect(other.skipped[0]!.reason).toMatch(/not a SageMaker role/);
    expect(norm(assume('arn:aws:iam::111122223333:role/BillingReader'), { role_arns: ['arn:aws:iam::111122223333:role/BillingReader'] }).events).toHaveLength(1);
    // The SageMaker service assuming an execution role on the user's behalf.
    const bySvc = assume('arn:aws:iam::111122223333:role/trainer', { userIdentity: { type: 'AWSService', invokedBy: 'sagemaker.amazonaws.com' }, sourceIPAddress: 'sagemaker.amazonaws.com' });
    const svc = one(bySvc);
    expect(svc.actor).toMatchObject({ type: 'service', name: 'sagemaker.amazonaws.com' });
    expect(svc.actor?.ip).toBeUndefined();
    expect(svc.details?.source_ip_address).toBe('sagemaker.amazonaws.com');
  });

  it('S3 data events take their stage from the configured buckets', () => {
    const put = ctRecord('PutObject', { bucketName: 'train-data', key: 'a/b.csv' }, { eventSource: 's3.amazonaws.com', eventCategory: 'Data' });
    expect(one(put, { training_buckets: ['train-data'] }).stage).toBe('ingestion');
    const model = ctRecord('PutObject', { bucketName: 'models', key: 'fraud/model.tar.gz' }, { eventSource: 's3.amazonaws.com' });
    expect(one(model, { model_buckets: ['models'] }).stage).toBe('registry');
    const skipped = norm(put, { model_buckets: ['models'] });
    expect(skipped.events).toHaveLength(0);
    expect(skipped.skipped[0]!.reason).toMatch(/not a listed training\/model bucket/);
    expect(one(put).stage).toBe('platform');
  });

  it('a copy out of a listed bucket to an unlisted one is kept (as platform, its source in inputs), whatever way the source is written', () => {
    const cfg = { training_buckets: ['train-data'], model_buckets: ['models'] };
    for (const [event, source] of [
      ['CopyObject', 'train-data/churn/v1/train.csv'],
      ['UploadPartCopy', '/train-data/churn/v1/train.csv?versionId=3HL4kqtJ'],
      ['CopyObject', 'train-data/churn%2Fv1%2Ftrain.csv'],
    ] as const) {
      const ev = one(ctRecord(event, { bucketName: 'exfil', key: 'x.csv', 'x-amz-copy-source': source }, { eventSource: 's3.amazonaws.com', eventCategory: 'Data' }), cfg);
      expect([ev.stage, ev.action, ev.ml?.data?.inputs], `${event} ${source}`).toEqual(['platform', 'data_object.copy', ['s3://train-data/churn/v1/train.csv']]);
    }
    // Out of the model bucket too; a copy between two unlisted buckets is still skipped.
    expect(one(ctRecord('CopyObject', { bucketName: 'exfil', key: 'm.tar.gz', 'x-amz-copy-source': 'models/fraud/model.tar.gz' }, { eventSource: 's3.amazonaws.com' }), cfg).stage).toBe('platform');
    expect(norm(ctRecord('CopyObject', { bucketName: 'exfil', key: 'y', 'x-amz-copy-source': 'scratch/y' }, { eventSource: 's3.amazonaws.com' }), cfg).events).toHaveLength(0);
    // A copy into the training bucket is a write to training data, as before.
    expect(one(ctRecord('CopyObject', { bucketName: 'train-data', key: 'y', 'x-amz-copy-source': 'scratch/y' }, { eventSource: 's3.amazonaws.com' }), cfg).stage).toBe('ingestion');
  });

  it('CopyObject names the other accounts involved', () => {
    const ev = one(fx('cloudtrail-s3-copyobject-external-account.panther.json'));
    expect(ev.details?.other_accounts).toEqual(['111111111111']);
    expect(ev.ml?.data?.inputs).toEqual(['s3://ransomware-test-victim-1764604156/customer-database.csv']);
  });

  it('ECR PutImage records the pushed digest', () => {
    const ev = one(fx('cloudtrail-ecr-putimage.panther.json'));
    expect(ev.ml?.job?.image_digest).toBe('sha256:98c8b060c21d9adbb6b8c41b916e95e6307102786973ab93a41e8b86d1fc6d3e');
    expect(ev.resource?.version).toBe('latest');
  });

  it('unrelated services are skipped with a reason', () => {
    const out = norm(ctRecord('DescribeInstances', null, { eventSource: 'ec2.amazonaws.com' }));
    expect(out.events).toHaveLength(0);
    expect(out.skipped[0]!.reason).toMatch(/ec2\.amazonaws\.com is not ML-relevant/);
    expect(norm(ctRecord('Decrypt', null, { eventSource: 'kms.amazonaws.com' }), { extra_event_sources: ['kms.amazonaws.com'] }).events).toHaveLength(1);
  });
});

describe('envelopes and ids', () => {
  const record = ctRecord('CreateEndpoint', { endpointName: 'ep', endpointConfigName: 'cfg' });

  it('the same record alone, in a log file, via EventBridge, CloudWatch Logs/Firehose and SNS has one id', () => {
    const ids = [
      norm(record),
      norm({ Records: [record] }),
      norm({ version: '0', id: 'eb-1', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.sagemaker', account: '111122223333', time: '2026-11-25T10:05:00Z', region: 'us-east-1', resources: [], detail: record }),
      norm({ requestId: 'r1', timestamp: 1, records: [{ data: cwlData([record]) }] }),
      norm({ requestId: 'r2', timestamp: 1, records: [{ data: Buffer.from(JSON.stringify(record)).toString('base64') }] }),
      norm({ awslogs: { data: cwlData([record]) } }),
      norm({ Type: 'Notification', MessageId: 'm', TopicArn: 'arn:aws:sns:us-east-1:1:t', Message: JSON.stringify({ Records: [record] }) }),
    ].map((o) => {
      expect(o.rejected).toEqual([]);
      return o.events.map((e) => e.id);
    });
    for (const i of ids) expect(i).toEqual(ids[0]);
    expect(ids[0]).toHaveLength(1);
  });

  it('a log file with one bad record keeps the others and names the bad one', () => {
    const out = norm({ Records: [record, { hello: 'world' }, ctRecord('CreateModel', { modelName: 'm' })] });
    expect(out.events.map((e) => e.operation)).toEqual(['CreateEndpoint', 'CreateModel']);
    expect(out.rejected).toMatchObject([{ path: 'Records[1]' }]);
    expect(out.rejected[0]!.record).toEqual({ hello: 'world' });
  });

  it('records with no eventTime or a foreign eventVersion are rejected with the field', () => {
    const { eventTime: _t, ...noTime } = record;
    expect(norm(noTime).rejected[0]).toMatchObject({ field: 'eventTime' });
    expect(norm({ ...record, eventVersion: '2.0' }).rejected[0]).toMatchObject({ field: 'eventVersion' });
    expect(norm('just a string').rejected[0]!.reason).toMatch(/expected a JSON object/);
  });

  it('a Firehose batch with a bad record still yields the good ones; CONTROL_MESSAGE is skipped', () => {
    const out = norm({
      requestId: 'r',
      timestamp: 1,
      records: [{ data: cwlData([record, '{"eventVersion":"1.08"']) }, { data: '!!!notbase64' }, { data: cwlData([], 'CONTROL_MESSAGE') }, { data: '' }],
    });
    expect(out.events).toHaveLength(1);
    expect(out.rejected.map((r) => r.path)).toEqual(['records[0].logEvents[1]', 'records[1]']);
    expect(out.skipped.map((s) => s.reason)).toEqual([expect.stringMatching(/control message/), 'empty record']);
  });

  it('Firehose records already decompressed (CloudWatch Logs decompression on) are read too', () => {
    const plain = Buffer.from(`${JSON.stringify(record)}\n${JSON.stringify(ctRecord('CreateModel', { modelName: 'm' }))}\n`).toString('base64');
    const out = norm({ requestId: 'r', timestamp: 1, records: [{ data: plain }] });
    expect(out.events.map((e) => e.operation)).toEqual(['CreateEndpoint', 'CreateModel']);
  });

  it('service events that share an envelope id (as the AWS docs do) keep distinct ids; the same one twice is stable', () => {
    const a = one(fx('eventbridge-sagemaker-training-job-state-change.awsdocs.json'));
    const b = one(fx('eventbridge-sagemaker-model-package-state-change.awsdocs.json'));
    expect(a.id).not.toBe(b.id);
    expect(one(fx('eventbridge-sagemaker-training-job-state-change.awsdocs.json')).id).toBe(a.id);
    expect(b.ml?.model).toMatchObject({ name: 'versionedmp-p-idy6c3e1fiqj', version: '2', approval: 'rejected', image_pinned: true });
    expect(b.resource).toMatchObject({ name: 'versionedmp-p-idy6c3e1fiqj', version: '2' });
    const ep = one(fx('eventbridge-sagemaker-endpoint-state-change.awsdocs.json'));
    expect(ep.time).toBe('2020-03-10T09:18:09.050Z');
    expect(ep.ml?.deployment).toMatchObject({ endpoint: 'MyEndpoint', endpoint_config: 'MyEndpointConfig', status: 'IN_SERVICE' });
    const pipe = one(fx('eventbridge-sagemaker-pipeline-execution-status-change.awsdocs.json'));
    expect(pipe.resource?.id).toBe('arn:aws:sagemaker:us-east-1:123456789012:pipeline/myPipeline-123/execution/p4jn9xou8a8s');
    expect(pipe.ml?.provenance).toMatchObject({ pipeline: 'arn:aws:sagemaker:us-east-1:123456789012:pipeline/myPipeline-123', previous_status: 'Executing' });
  });

  it('a failed training job state change → training_job.fail, outcome failure', () => {
    const env = fx<Record<string, unknown>>('eventbridge-sagemaker-training-job-state-change.awsdocs.json');
    const ev = one({ ...env, detail: { ...(env.detail as object), TrainingJobStatus: 'Failed', FailureReason: 'AlgorithmError' } });
    expect([ev.action, ev.outcome, ev.error?.message]).toEqual(['training_job.fail', 'failure', 'AlgorithmError']);
    expect(ev.ml?.job).toMatchObject({ role: 'arn:aws:iam::123456789012:role/SMRole', type: 'training', status: 'Failed' });
  });

  it('Model Monitor: data-quality violations → preprocessing, drift → serving, with feature, check and description', () => {
    const out = norm(
      { violations: [
        { feature_name: 'age', constraint_check_type: 'data_type_check', description: 'Data type match requirement is not met.' },
        { label: 'label0', metric_name: 'shap', constraint_check_type: 'feature_attribution_drift_check', description: 'nDCG 0.8' },
        { metric_name: 'auc', constraint_check_type: 'LessThanThreshold', description: 'Metric auc with 0.6 was LessThanThreshold 0.8' },
        { description: 'no check type' },
      ] },
      {},
      { source_uri: 's3://mon/ep/sched/2026/11/25/10/constraint_violations.json' },
    );
    expect(out.events.map((e) => [e.stage, e.details?.monitoring_type, e.details?.subject])).toEqual([
      ['preprocessing', 'DataQuality', 'age'],
      ['serving', 'ModelExplainability', 'label0'],
      ['serving', 'ModelQuality', undefined],
    ]);
    expect(out.events[0]!.details).toMatchObject({ feature_name: 'age', constraint_check_type: 'data_type_check', description: 'Data type match requirement is not met.' });
    expect(out.events[0]!.resource?.uri).toBe('s3://mon/ep/sched/2026/11/25/10/constraint_violations.json');
    expect(out.rejected).toMatchObject([{ path: 'violations[3]', field: 'constraint_check_type' }]);
    expect(new Set(out.events.map((e) => e.id)).size).toBe(3);
    expect(norm({ version: '1.0', violations: [] }).skipped[0]!.reason).toMatch(/without violations/);
  });

  it('Model Monitor ids depend on the content (and the S3 object), never on the path a file was named by; time is the object/file time, not the run time', () => {
    const body = readFixture('sagemaker', 'modelmonitor-bias-drift-constraint_violations.awsdocs.json');
    const ids = (name: string, receivedTime: string) => normalizeInput(body, name, 'sagemaker', cfg, receivedTime).events.map((e) => e.id);
    const byPath = ids('monitoring/run1/constraint_violations.json', '2026-11-25T12:00:00.000Z');
    expect(byPath).toHaveLength(2);
    expect(ids('./monitoring/../monitoring/run1/constraint_violations.json', '2026-11-26T08:00:00.000Z')).toEqual(byPath);
    expect(ids('/abs/copy/constraint_violations.json', '2026-11-27T08:00:00.000Z')).toEqual(byPath);
    expect(ids('<stdin>', '2026-11-28T08:00:00.000Z')).toEqual(byPath);
    // Different findings, different ids.
    const other = Buffer.from(body.toString('utf8').replace('0.0751544567666083', '0.09'));
    expect(normalizeInput(other, 'monitoring/run1/constraint_violations.json', 'sagemaker', cfg).events.map((e) => e.id)).not.toEqual(byPath);

    // From S3: anchored to the object (ids as before this change), time = the object's LastModified.
    const doc = JSON.parse(body.toString('utf8'));
    const s3 = (uri: string) => norm(doc, {}, { source_uri: uri, object_time: '2026-11-25T10:10:00.000Z' }).events;
    const run1 = s3('s3://ml-monitoring/fraud-ep/2026/11/25/10/constraint_violations.json');
    expect(run1.map((e) => e.id)).toEqual(['5037f640daf068046ecff72c29b06d02', '3ff1e5ed584dfe65a61a1b9c27b731eb']);
    expect(run1.map((e) => e.time)).toEqual(['2026-11-25T10:10:00.000Z', '2026-11-25T10:10:00.000Z']);
    // The next hourly run with identical findings is a distinct event.
    expect(s3('s3://ml-monitoring/fraud-ep/2026/11/25/11/constraint_violations.json').map((e) => e.id)).not.toEqual(run1.map((e) => e.id));

    // A file's mtime, when the reader passes it, is the event time; without any, the receive time is all there is.
    expect(norm(doc, {}, { file: 'v.json', file_mtime: '2026-11-24T09:00:00.000Z' }).events[0]!.time).toBe('2026-11-24T09:00:00.000Z');
    expect(norm(doc, {}, { file: 'v.json' }).events[0]!.time).toBe(RECEIVED);
  });

  it('`mltrail normalize` of a Model Monitor file through a symlink (no hour folder in its name) gives the ids of its real path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mltrail-mm-'));
    try {
      const real = join(dir, 'sched/2026/11/25/10/constraint_violations.json');
      mkdirSync(dirname(real), { recursive: true });
      writeFileSync(real, readFixture('sagemaker', 'modelmonitor-bias-drift-constraint_violations.awsdocs.json'));
      symlinkSync(real, join(dir, 'latest.json'));
      const ids = (file: string) => {
        const r = spawnSync(process.execPath, [CLI, 'normalize', '--platform', 'sagemaker', file], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        return r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
      };
      const byReal = ids(real);
      expect(byReal).toHaveLength(2);
      expect(ids(join(dir, 'latest.json'))).toEqual(byReal);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('resources named by a parameter other than <noun>Name (spec §2.4, §2.6, §2.8)', () => {
  const ARN = 'arn:aws:sagemaker:us-east-1:111122223333';
  const cases: Array<[string, Record<string, unknown>, { type: string; id: string; name: string }]> = [
    ['CreatePresignedNotebookInstanceUrl', { notebookInstanceName: 'nb', sessionExpirationDurationInSeconds: 1800 }, { type: 'notebook_instance', id: `${ARN}:notebook-instance/nb`, name: 'nb' }],
    ['UpdateEndpointWeightsAndCapacities', { endpointName: 'fraud-prod', desiredWeightsAndCapacities: [{ variantName: 'v2', desiredWeight: 1 }] }, { type: 'endpoint', id: `${ARN}:endpoint/fraud-prod`, name: 'fraud-prod' }],
    ['CreateDataQualityJobDefinition', { jobDefinitionName: 'dq', roleArn: 'arn:aws:iam::111122223333:role/SMMonitor' }, { type: 'monitoring_job_definition', id: `${ARN}:data-quality-job-definition/dq`, name: 'dq' }],
    ['DeleteModelQualityJobDefinition', { jobDefinitionName: 'mq' }, { type: 'monitoring_job_definition', id: `${ARN}:model-quality-job-definition/mq`, name: 'mq' }],
    ['DescribeModelBiasJobDefinition', { jobDefinitionName: 'bias' }, { type: 'monitoring_job_definition', id: `${ARN}:model-bias-job-definition/bias`, name: 'bias' }],
    ['CreateModelExplainabilityJobDefinition', { jobDefinitionName: 'shap' }, { type: 'monitoring_job_definition', id: `${ARN}:model-explainability-job-definition/shap`, name: 'shap' }],
    ['CreateAutoMLJobV2', { autoMLJobName: 'auto' }, { type: 'automl_job', id: `${ARN}:automl-job/auto`, name: 'auto' }],
    ['PutRecord', { featureGroupName: 'customers', record: [] }, { type: 'feature_group', id: `${ARN}:feature-group/customers`, name: 'customers' }],
    ['GetRecord', { featureGroupName: 'customers', recordIdentifierValueAsString: '42' }, { type: 'feature_group', id: `${ARN}:feature-group/customers`, name: 'customers' }],
    ['DeleteRecord', { featureGroupName: 'customers', recordIdentifierValueAsString: '42' }, { type: 'feature_group', id: `${ARN}:feature-group/customers`, name: 'customers' }],
    ['BatchGetRecord', { identifiers: [{ featureGroupName: 'customers', recordIdentifiersValueAsString: ['1'] }] }, { type: 'feature_group', id: `${ARN}:feature-group/customers`, name: 'customers' }],
    ['CreateUserProfile', { domainId: 'd-abc123', userProfileName: 'alice' }, { type: 'user_profile', id: `${ARN}:user-profile/d-abc123/alice`, name: 'alice' }],
  ];
  for (const [op, params, resource] of cases) {
    it(`${op} → resource ${resource.type} ${resource.name}`, () => {
      expect(one(ctRecord(op, params)).resource).toEqual(resource);
    });
  }

  it('a Feature Store record call without resources[] (a data event trimmed of them) still names its feature group for the rules', () => {
    const fixture = fx<Record<string, unknown>>('cloudtrail-sagemaker-featurestore-putrecord-dataevent.awsdocs.json');
    const { resources: _dropped, ...bare } = fixture;
    const ev = one(bare);
    expect(ev.action).toBe('feature_record.write');
    expect(ev.resource?.type).toBe('feature_group');
    expect(ev.resource?.name).toBeTruthy();
    expect(ev.resource?.name).toBe(one(fixture).resource?.name);
  });

  it('BatchGetRecord over several feature groups names the first and lists all', () => {
    const ev = one(ctRecord('BatchGetRecord', { identifiers: [{ featureGroupName: 'customers' }, { featureGroupName: 'payments' }, { featureGroupName: 'customers' }] }));
    expect(ev.resource?.name).toBe('customers');
    expect(ev.details?.resource_names).toEqual(['customers', 'payments']);
  });

  it('CreatePresignedDomainUrl names the domain (resource) and the user profile / space opened (details)', () => {
    const ev = one(ctRecord('CreatePresignedDomainUrl', { domainId: 'd-abc123', userProfileName: 'bob', spaceName: 'shared', sessionExpirationDurationInSeconds: 43200 }));
    expect(ev.action).toBe('notebook.open');
    expect(ev.resource).toEqual({ type: 'domain', id: `${ARN}:domain/d-abc123`, name: 'd-abc123' });
    expect(ev.details).toMatchObject({
      domain_id: 'd-abc123',
      user_profile_name: 'bob',
      space_name: 'shared',
      user_profile_arn: `${ARN}:user-profile/d-abc123/bob`,
      session_expiration_duration_in_seconds: 43200,
    });
  });
});

describe('a failed call claims no state (spec §1.1 errorCode)', () => {
  const PKG = 'arn:aws:sagemaker:us-east-1:111122223333:model-package/fraud/3';

  it('a failed UpdateModelPackage Approved keeps what was asked in details, not as the version approval', () => {
    const ev = one(ctRecord('UpdateModelPackage', { modelPackageArn: PKG, modelApprovalStatus: 'Approved' }, { errorCode: 'ValidationException', errorMessage: 'bad' }));
    expect(ev.outcome).toBe('failure');
    expect(ev.ml?.model).toEqual({ name: 'fraud', version: '3' });
    expect(ev.details).toMatchObject({ requested_approval: 'approved', requested_approval_status: 'Approved' });
    // The same call that succeeds does carry the approval.
    const ok = one(ctRecord('UpdateModelPackage', { modelPackageArn: PKG, modelApprovalStatus: 'Approved' }));
    expect(ok.ml?.model).toMatchObject({ approval: 'approved', approval_status: 'Approved' });
    expect(ok.details?.requested_approval).toBeUndefined();
  });

  it('a failed CreateModelPackage registering as Approved is not an approved version either', () => {
    const ev = one(ctRecord('CreateModelPackage', { modelPackageGroupName: 'fraud', modelApprovalStatus: 'Approved' }, { errorCode: 'AccessDeniedException', errorMessage: 'no' }));
    expect(ev.ml?.model?.approval).toBeUndefined();
    expect(ev.ml?.model?.approval_status).toBeUndefined();
    expect(ev.details?.requested_approval).toBe('approved');
  });
});

describe('IAM Identity Center callers (CloudTrail userIdentity type IdentityCenterUser)', () => {
  // The shape of the CloudTrail user guide's example (userIdentity element).
  const idc = (userId: string, extra: Record<string, unknown> = {}) =>
    ctRecord('CreateTrainingJob', { trainingJobName: 't' }, {
      eventID: `idc-${userId}`,
      userIdentity: {
        type: 'IdentityCenterUser',
        accountId: '111122223333',
        onBehalfOf: { userId, identityStoreArn: 'arn:aws:identitystore::111122223333:identitystore/d-9067642ac7' },
        credentialId: 'EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR_Whr1fEXAMPLE',
      },
      ...extra,
    });

  it('is a user named by its identity store and user id; two users are two actors', () => {
    const a = one(idc('544894e8-80c1-707f-60e3-3ba6510dfac1'));
    expect(a.actor).toMatchObject({
      type: 'user',
      id: 'arn:aws:identitystore::111122223333:identitystore/d-9067642ac7/544894e8-80c1-707f-60e3-3ba6510dfac1',
      name: '544894e8-80c1-707f-60e3-3ba6510dfac1',
    });
    expect(one(idc('94d00cd8-e9e6-4810-b177-b08e84775435')).actor?.id).not.toBe(a.actor?.id);
    // The bearer credential id is not copied anywhere but raw.
    expect(JSON.stringify({ ...a, raw: undefined })).not.toContain('EXAMPLEVHUL');
  });

  it('takes the user name when the record gives one (additionalEventData.UserName)', () => {
    expect(one(idc('u-1', { additionalEventData: { UserName: 'alice@corp.example' } })).actor?.name).toBe('alice@corp.example');
  });

  it('a role session made for an Identity Center user names that user in details.on_behalf_of', () => {
    const rec = ctRecord('CreateTrainingJob', { trainingJobName: 't' });
    (rec.userIdentity as Record<string, unknown>).onBehalfOf = { userId: 'u-9', identityStoreArn: 'arn:aws:identitystore::111122223333:identitystore/d-1' };
    const ev = one(rec);
    expect(ev.actor?.id).toBe('arn:aws:sts::111122223333:assumed-role/MLEngineer/alice');
    expect(ev.details?.on_behalf_of).toBe('arn:aws:identitystore::111122223333:identitystore/d-1/u-9');
  });
});

describe('Model Monitor results name their endpoint and schedule (default output layout <endpoint>/<schedule>/yyyy/mm/dd/hh)', () => {
  const body = () => JSON.parse(readFixture('sagemaker', 'modelmonitor-bias-drift-constraint_violations.awsdocs.json').toString('utf8')) as Record<string, unknown>;

  it('from S3: ml.deployment.endpoint, resource name = schedule, id = the object', () => {
    const uri = 's3://ml-monitoring/reports/fraud-prod/fraud-prod-bias/2026/11/25/10/constraint_violations.json';
    const out = norm(body(), {}, { source_uri: uri });
    expect(out.events).toHaveLength(2);
    for (const ev of out.events) {
      expect(ev.ml?.deployment?.endpoint).toBe('fraud-prod');
      expect(ev.resource).toEqual({ type: 'monitoring_execution', id: uri, name: 'fraud-prod-bias', uri });
      expect(ev.details).toMatchObject({ monitoring_schedule: 'fraud-prod-bias', facet: 'Age', metric_name: expect.any(String), constraint_check_type: 'bias_drift_check', description: expect.stringMatching(/does not meet/) });
    }
  });

  it('from a file: the path layout, or the resolved path of a link; always a resource id', () => {
    const file = 'monitoring/churn-prod/churn-dq/2026/11/25/10/constraint_violations.json';
    const ev = norm(body(), {}, { file }).events[0]!;
    expect(ev.ml?.deployment?.endpoint).toBe('churn-prod');
    expect(ev.resource).toEqual({ type: 'monitoring_execution', id: file, name: 'churn-dq' });
    const linked = norm(body(), {}, { file: 'latest.json', file_realpath: `/data/${file}` }).events[0]!;
    expect(linked.ml?.deployment?.endpoint).toBe('churn-prod');
    expect(linked.resource?.id).toBe(`/data/${file}`);
    // Without the layout (or from stdin): no endpoint is made up, and the resource still has an id.
    const flat = norm(body(), {}, { file: 'cv.json' }).events[0]!;
    expect(flat.ml?.deployment).toBeUndefined();
    expect(flat.resource).toEqual({ type: 'monitoring_execution', id: 'cv.json' });
    const stdin = norm(body(), {}, { file: '<stdin>' }).events[0]!;
    expect(stdin.resource?.id).toMatch(/^constraint_violations:[0-9a-f]+$/);
    expect(norm(body(), {}, { source_uri: 's3://ml-monitoring/fraud-ep/2026/11/25/10/constraint_violations.json' }).events[0]!.ml?.deployment).toBeUndefined();
  });

  it('two endpoints with the same findings in the same hour are not duplicates; one file by two names still is', () => {
    const mtime = '2026-11-25T10:12:00.000Z';
    const ids = (meta: Record<string, unknown>) => norm(body(), {}, { file_mtime: mtime, ...meta }).events.map((e) => e.id);
    const rel = (ep: string) => `monitoring/${ep}/${ep}-bias/2026/11/25/10/constraint_violations.json`;
    const fraud = ids({ file: rel('fraud-prod'), file_realpath: `/data/${rel('fraud-prod')}` });
    expect(ids({ file: rel('churn-prod'), file_realpath: `/data/${rel('churn-prod')}` })).not.toEqual(fraud);
    // Named from inside the endpoint folder (no endpoint in the name): the resolved path decides the id.
    expect(ids({ file: 'fraud-prod-bias/2026/11/25/10/constraint_violations.json', file_realpath: `/data/${rel('fraud-prod')}` })).toEqual(fraud);
    expect(ids({ file: 'latest.json', file_realpath: `/data/${rel('fraud-prod')}` })).toEqual(fraud);
  });

  it('two endpoints with the same findings are two alert entities, not one empty monitoring_execution', () => {
    const evs = ['fraud-prod', 'churn-prod'].flatMap((ep) => norm(body(), {}, { source_uri: `s3://mon/${ep}/${ep}-bias/2026/11/25/10/constraint_violations.json` }).events);
    const { alerts } = replayEvents(evs, { rules: RulesConfig.parse({}) });
    const drift = alerts.filter((a) => a.rule_id === 'serving.behavioral_drift');
    expect(new Set(drift.map((a) => `${a.entity.type}:${a.entity.id}`))).toEqual(new Set(['endpoint:fraud-prod', 'endpoint:churn-prod']));
  });
});
