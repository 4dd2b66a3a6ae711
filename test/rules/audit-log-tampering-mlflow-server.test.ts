import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * A SageMaker managed MLflow tracking server (or App) whose automatic model registration is turned off, or whose
 * artifact store moves to a bucket mltrail does not read, was in `details` and raised nothing: the models registered
 * from then on escape the Model Registry's approvals, or their weights are written where no overwrite is seen.
 * platform.audit_log_tampering now judges both, against what the server's Create/Update set before. Request fields as
 * CloudTrail logs the SageMaker API's (ArtifactStoreUri, AutomaticModelRegistration; an App's ModelRegistrationMode).
 */
const SERVER = 'arn:aws:sagemaker:us-east-1:111122223333:mlflow-tracking-server/ml-tracking';
const APP = 'arn:aws:sagemaker:us-east-1:111122223333:mlflow-app/app-7xk2m9qp4w';
const CFG = { model_buckets: ['ml-models'], training_buckets: ['ml-training-data'] };
let n = 0;
const call = (eventName: string, params: Record<string, unknown>, response: Record<string, unknown> = { trackingServerArn: SERVER }, cfg: Record<string, unknown> = CFG): NormalizedEvent =>
  normOne(ctRecord(eventName, params, { eventID: `mls-${++n}`, eventTime: new Date(Date.parse('2026-11-27T09:00:00Z') + n * 60_000).toISOString().replace('.000Z', 'Z'), responseElements: response }), cfg);
const create = () => call('CreateMlflowTrackingServer', { trackingServerName: 'ml-tracking', artifactStoreUri: 's3://ml-models/mlartifacts', roleArn: 'arn:aws:iam::111122223333:role/MlflowRole', automaticModelRegistration: true, trackingServerSize: 'Small' });
const update = (p: Record<string, unknown>, cfg: Record<string, unknown> = CFG) => call('UpdateMlflowTrackingServer', { trackingServerName: 'ml-tracking', ...p }, { trackingServerArn: SERVER }, cfg);
const alerts = (evs: NormalizedEvent[]): Alert[] => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'platform.audit_log_tampering');

describe('platform.audit_log_tampering: a SageMaker managed MLflow server no longer watched', () => {
  it('automatic model registration turned off alerts, naming what it was; turning it on, or off again, does not', () => {
    const created = create();
    const off = update({ automaticModelRegistration: false });
    const a = alerts([created, off]);
    expect(a.map((x) => [x.evidence, x.entity.id, x.details.model_registration, x.details.previous_seen])).toEqual([[[off.id], SERVER, { was: 'enabled', now: 'disabled' }, true]]);
    expect(a[0]!.summary).toContain('turned off automatic model registration: models registered in its MLflow no longer become SageMaker Model Registry packages on MLflow tracking server ml-tracking');
    expect(alerts([create(), update({ automaticModelRegistration: true }), update({ trackingServerSize: 'Medium' })])).toEqual([]);
    expect(alerts([create(), update({ automaticModelRegistration: false }), update({ automaticModelRegistration: false })])).toHaveLength(1);
    // Created with it off: nothing turned off.
    expect(alerts([call('CreateMlflowTrackingServer', { trackingServerName: 'ml-tracking', artifactStoreUri: 's3://ml-models/mlartifacts', automaticModelRegistration: false }), update({ automaticModelRegistration: false })])).toEqual([]);
  });

  it('the artifact store moved to a bucket neither list names alerts; within the listed buckets, or with no lists, it does not', () => {
    const created = create();
    const moved = update({ artifactStoreUri: 's3://scratch-bucket/mlflow' });
    expect(moved.details).toMatchObject({ artifact_store_uri: 's3://scratch-bucket/mlflow', artifact_store_unwatched: true });
    const a = alerts([created, moved]);
    expect(a.map((x) => [x.evidence, x.details.artifact_store, x.details.model_registration ?? null])).toEqual([[[moved.id], { was: 's3://ml-models/mlartifacts', now: 's3://scratch-bucket/mlflow' }, null]]);
    expect(a[0]!.summary).toContain('moved its artifact store to s3://scratch-bucket/mlflow (was s3://ml-models/mlartifacts), a bucket neither model_buckets nor training_buckets lists');
    expect(alerts([create(), update({ artifactStoreUri: 's3://ml-models/mlflow-v2' })])).toEqual([]);
    expect(update({ artifactStoreUri: 's3://scratch-bucket/mlflow' }, {}).details).not.toHaveProperty('artifact_store_unwatched');
    // The same store sent again: no second move.
    expect(alerts([create(), update({ artifactStoreUri: 's3://scratch-bucket/mlflow' }), update({ artifactStoreUri: 's3://scratch-bucket/mlflow', trackingServerSize: 'Large' })])).toHaveLength(1);
  });

  it('nothing seen of the server before: the update alone is judged; a failed update, an exempt identity and a deleted server forget', () => {
    expect(alerts([update({ automaticModelRegistration: false })]).map((x) => [x.details.previous_seen, x.summary.includes('(whether it was on is not known)')])).toEqual([[false, true]]);
    const failed = normOne(ctRecord('UpdateMlflowTrackingServer', { trackingServerName: 'ml-tracking', automaticModelRegistration: false }, { eventID: 'mls-failed', eventTime: '2026-11-27T12:00:00Z', errorCode: 'ValidationException', errorMessage: 'x' }), CFG);
    expect(alerts([create(), failed])).toEqual([]);
    const created = create();
    const deleted = call('DeleteMlflowTrackingServer', { trackingServerName: 'ml-tracking' });
    expect(alerts([created, deleted, update({ automaticModelRegistration: false })]).map((x) => x.details.previous_seen)).toEqual([false]);
    expect(replayEvents([create(), update({ automaticModelRegistration: false })], { rules: RulesConfig.parse({ 'platform.audit_log_tampering': { exempt: ['alice'] } }) }).alerts.filter((a) => a.rule_id === 'platform.audit_log_tampering')).toEqual([]);
  });

  it('an MLflow App: ModelRegistrationMode AutoModelRegistrationDisabled is the same finding', () => {
    const created = call('CreateMlflowApp', { name: 'team-mlflow', artifactStoreUri: 's3://ml-models/apps', roleArn: 'arn:aws:iam::111122223333:role/MlflowRole', modelRegistrationMode: 'AutoModelRegistrationEnabled' }, { arn: APP });
    const off = call('UpdateMlflowApp', { arn: APP, modelRegistrationMode: 'AutoModelRegistrationDisabled' }, { arn: APP });
    expect(alerts([created, off]).map((x) => [x.entity.id, x.details.model_registration])).toEqual([[APP, { was: 'enabled', now: 'disabled' }]]);
  });
});
