import { describe, expect, it } from 'vitest';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { mlflowConnector } from '../../../connectors/mlflow/index.js';
import type { NormalizeContext } from '../../../core/connector.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';

/**
 * Webhook → event facts the rules and the SIEM rely on that no other test pins: a deleted alias
 * is not a current alias, a signed artifact URL never reaches the event, Databricks rejections
 * and per-version resource ids.
 */

const ctx: NormalizeContext<MlflowConfig> = { channel: 'test', receivedTime: '2025-08-20T10:00:00.000Z', keepRaw: false, config: MlflowConfig.parse({}) };

function one(record: unknown): NormalizedEvent {
  const out = mlflowConnector.normalize!(record, ctx);
  expect(out.rejected).toEqual([]);
  expect(out.events).toHaveLength(1);
  const v = NormalizedEvent.safeParse(out.events[0]);
  expect(v.success, v.success ? '' : JSON.stringify(v.error.issues)).toBe(true);
  return out.events[0]!;
}

describe('MLflow webhooks', () => {
  it('a deleted alias (the shared fixture) is not listed as one of the version\'s aliases', () => {
    const ev = one(readFixtureJson('mlflow', 'model_version_alias.deleted.json'));
    expect(ev.action).toBe('model_version.alias_delete');
    expect(ev.details?.alias).toBeDefined();
    expect(ev.ml?.model?.aliases).toBeUndefined();
    // A created alias is.
    const set = one(readFixtureJson('mlflow', 'model_version_alias.created.json'));
    expect(set.ml?.model?.aliases).toEqual([set.details?.alias]);
  });

  it('an artifact source with credentials (signed URL, user-info) is redacted in resource.uri and ml.model.artifact_uri', () => {
    const rec = readFixtureJson<{ data: Record<string, unknown> }>('mlflow', 'model_version.created.json');
    rec.data.source = 'https://acct.blob.core.windows.net/models/fraud?sv=2024-01-01&sig=SECRETSIGNATURE';
    const ev = one(rec);
    expect(JSON.stringify(ev)).not.toContain('SECRETSIGNATURE');
    expect(ev.ml?.model?.artifact_uri).toBe('https://acct.blob.core.windows.net/models/fraud?sv=2024-01-01&sig=REDACTED');
    expect(ev.resource?.uri).toBe(ev.ml?.model?.artifact_uri);
    rec.data.source = 'https://deploy:hunter2@artifacts.example.com/fraud/1';
    expect(JSON.stringify(one(rec))).not.toContain('hunter2');
  });
});

describe('Databricks registry webhooks', () => {
  const body = (over: Record<string, unknown>) => ({ event: 'MODEL_VERSION_TAG_SET', webhook_id: 'wh-1', event_timestamp: 1755681363000, model_name: 'fraud', version: '7', ...over });

  it('a rejection tag is a rejection, an approval tag an approval', () => {
    const rejected = one(body({ tags: [{ key: 'approval_status', value: 'rejected' }] }));
    expect(rejected.action).toBe('model_version.reject');
    expect(rejected.ml?.model).toMatchObject({ name: 'fraud', version: '7', approval: 'rejected' });
    expect(one(body({ tags: [{ key: 'approval_status', value: 'approved' }] })).action).toBe('model_version.approve');
    expect(one(body({ tags: [{ key: 'team', value: 'risk' }] })).action).toBe('model_version.tag_set');
  });

  it('a version event names the version as the resource id (model/version), as MLflow OSS events do', () => {
    const ev = one(body({ event: 'MODEL_VERSION_CREATED' }));
    expect(ev.resource).toMatchObject({ type: 'model_version', id: 'fraud/7', name: 'fraud', version: '7' });
    const oss = one({ entity: 'model_version', action: 'created', timestamp: '2025-08-20T09:16:03+00:00', data: { name: 'fraud', version: '7', source: 's3://m/fraud/7' } });
    expect(oss.resource?.id).toBe(ev.resource?.id);
    expect(one({ event: 'REGISTERED_MODEL_CREATED', webhook_id: 'wh-1', event_timestamp: 1755681363000, model_name: 'fraud' }).resource?.id).toBe('fraud');
  });
});
