import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { ctRecord, normOne } from '../connectors/sagemaker/helpers.js';

/** verify27c: a managed MLflow server's tag or maintenance-window change is no tampering (seen before, or not). */
const SERVER = 'arn:aws:sagemaker:us-east-1:111122223333:mlflow-tracking-server/ml-tracking';
const CFG = { model_buckets: ['ml-models'], training_buckets: ['ml-training-data'] };
let n = 0;
const call = (eventName: string, params: Record<string, unknown>, response: Record<string, unknown> = { trackingServerArn: SERVER }): NormalizedEvent =>
  normOne(ctRecord(eventName, params, { eventID: `mq-${++n}`, eventTime: new Date(Date.parse('2026-11-27T09:00:00Z') + n * 60_000).toISOString().replace('.000Z', 'Z'), responseElements: response }), CFG);
const alerts = (evs: NormalizedEvent[]) => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'platform.audit_log_tampering');

describe('managed MLflow: changes that move nothing', () => {
  it('AddTags on the server, an update of its maintenance window only, raise nothing', () => {
    const created = call('CreateMlflowTrackingServer', { trackingServerName: 'ml-tracking', artifactStoreUri: 's3://ml-models/mlartifacts', automaticModelRegistration: true });
    const tags = call('AddTags', { resourceArn: SERVER, tags: [{ key: 'team', value: 'ml' }] }, { tags: [{ key: 'team', value: 'ml' }] });
    const window = call('UpdateMlflowTrackingServer', { trackingServerName: 'ml-tracking', weeklyMaintenanceWindowStart: 'Tue:03:30' });
    expect(alerts([created, tags, window])).toEqual([]);
    // Never seen created: still nothing.
    expect(alerts([window, tags])).toEqual([]);
  });
});
