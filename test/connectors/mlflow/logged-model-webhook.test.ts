import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { loggedModelOf, normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixture } from '../../helpers/fixtures.js';
import { ctRecord, normOne } from '../sagemaker/helpers.js';

// MLflow 3's log_model(..., registered_model_name=…) registers a version whose source is the logged model
// (`models:/m-<id>`); the webhook's payload (ModelVersionCreatedPayload: name, version, source, run_id, tags,
// description) never says where that logged model's files are.
const ID = 'm-0f3c2a9b8d7e4f6a9c1b2d3e4f5a6b7c';
const LOCATION = `s3://mlflow-artifacts/1/models/${ID}/artifacts`;
const config = MlflowConfig.parse({ webhook_secrets: ['s'] });

/** The real model_version.created delivery with another source. */
function delivery(source: string, id: string): NormalizedEvent {
  const body = JSON.parse(readFixture('mlflow', 'model_version.created.json').toString()) as { data: Record<string, unknown> };
  body.data.source = source;
  body.data.name = 'fraud';
  const out = normalizeMlflow(body, { channel: 'mlflow.webhook', receivedTime: '2025-08-20T09:16:04Z', keepRaw: false, config, meta: { delivery_id: id } });
  expect(out.rejected).toEqual([]);
  return out.events[0]!;
}
const approve = (): NormalizedEvent => {
  const body = JSON.parse(readFixture('mlflow', 'model_version_alias.created.json').toString()) as { data: Record<string, unknown> };
  body.data = { name: 'fraud', alias: 'champion', version: '1' };
  return normalizeMlflow(body, { channel: 'mlflow.webhook', receivedTime: '2025-08-20T09:20:00Z', keepRaw: false, config, meta: { delivery_id: 'al-1' } }).events[0]!;
};
const put = (key: string) => normOne(ctRecord('PutObject', { bucketName: 'mlflow-artifacts', key }, {
  eventID: `put-${key}`, eventTime: '2025-08-20T10:00:00Z', awsRegion: 'us-east-1', eventSource: 's3.amazonaws.com', eventCategory: 'Data', responseElements: null,
  resources: [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::mlflow-artifacts/${key}` }, { accountId: '111122223333', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::mlflow-artifacts' }],
}), { model_buckets: ['mlflow-artifacts'] });
const modified = (evs: NormalizedEvent[]) => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified' && a.details.object).map((a) => a.details.object);

describe('MLflow 3 logged models seen through webhooks alone', () => {
  it('a models:/m-… source: the logged model id is recorded, and that its files\' location is unknown without REST', () => {
    const ev = delivery(`models:/${ID}`, 'lm-1');
    expect(ev.ml?.model?.artifact_uri).toBe(`models:/${ID}`);
    expect(ev.details).toMatchObject({ logged_model_id: ID, artifact_location_unknown: expect.stringContaining('does not say where its files are') });
    // So a write to the files is not judged by this version on webhooks alone (the auditor's hash record tells them).
    expect(modified([ev, approve(), put(`1/models/${ID}/artifacts/model.pkl`)])).toEqual([]);
  });

  it('a source that is the logged model\'s artifact location: the version carries it, and a write there after approval is judged', () => {
    const ev = delivery(LOCATION, 'lm-2');
    expect(ev.ml?.model?.artifact_uri).toBe(LOCATION);
    expect(ev.details).toMatchObject({ logged_model_id: ID });
    expect(ev.details?.artifact_location_unknown).toBeUndefined();
    expect(modified([ev, approve(), put(`1/models/${ID}/artifacts/model.pkl`)])).toEqual([`s3://mlflow-artifacts/1/models/${ID}/artifacts/model.pkl`]);
  });

  it('a run source or a plain location names no logged model; a model_id field does', () => {
    expect(loggedModelOf('runs:/abc/model', undefined)).toEqual({});
    expect(loggedModelOf('s3://bucket/path/to/model', undefined)).toEqual({});
    expect(loggedModelOf('s3://bucket/path/to/model', ID)).toEqual({ logged_model_id: ID });
    expect(loggedModelOf('models:/fraud/3', undefined)).toEqual({});
    expect(delivery('s3://bucket/path/to/model', 'lm-3').details?.logged_model_id).toBeUndefined();
  });
});
