import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';

/** MLflow webhook deliveries (the `_send_webhook_request` envelope), normalized as the webhook route does. */
function deliveries(...bodies: Array<[string, string, string, Record<string, unknown>]>): NormalizedEvent[] {
  return bodies.flatMap(([entity, action, timestamp, data], i) =>
    normalizeMlflow({ entity, action, timestamp, data }, { channel: 'mlflow.webhook', receivedTime: timestamp, keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: `d-${timestamp}-${i}` } }).events,
  );
}
const modified = (evs: NormalizedEvent[]) => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified').map((a) => a.details);

const champion = () => deliveries(
  ['model_version', 'created', '2026-11-20T10:01:00.000000+00:00', { name: 'churn', version: '1', source: 's3://models/churn/1', run_id: 'abc123', tags: {}, description: null }],
  ['model_version_alias', 'created', '2026-11-20T10:03:00.000000+00:00', { name: 'churn', alias: 'champion', version: '1' }],
);

describe('a pending approval tag on the champion version', () => {
  it('does not hide a change made under it: the version still holds its approval alias', () => {
    const evs = [
      ...champion(),
      ...deliveries(
        ['model_version_tag', 'set', '2026-11-23T02:00:00.000000+00:00', { name: 'churn', version: '1', key: 'approval_status', value: 'pending' }],
        ['model_version_tag', 'set', '2026-11-23T02:01:00.000000+00:00', { name: 'churn', version: '1', key: 'decision_threshold', value: '0.05' }],
        ['model_version_tag', 'set', '2026-11-23T02:02:00.000000+00:00', { name: 'churn', version: '1', key: 'approval_status', value: 'approved' }],
      ),
    ];
    expect(evs.map((e) => e.action)).toEqual(['model_version.create', 'model_version.approve', 'model_version.tag_set', 'model_version.tag_set', 'model_version.approve']);
    expect(modified(evs)).toEqual([expect.objectContaining({ change: 'tag_set', tags: ['decision_threshold'] })]);
  });

  it('a version approved by tag alone that goes back to pending is no longer judged as approved', () => {
    const evs = deliveries(
      ['model_version', 'created', '2026-11-20T10:01:00.000000+00:00', { name: 'churn', version: '2', source: 's3://models/churn/2', run_id: 'abc124', tags: {}, description: null }],
      ['model_version_tag', 'set', '2026-11-20T10:03:00.000000+00:00', { name: 'churn', version: '2', key: 'approval_status', value: 'approved' }],
      ['model_version_tag', 'set', '2026-11-23T02:00:00.000000+00:00', { name: 'churn', version: '2', key: 'approval_status', value: 'pending' }],
      ['model_version_tag', 'set', '2026-11-23T02:01:00.000000+00:00', { name: 'churn', version: '2', key: 'decision_threshold', value: '0.05' }],
    );
    expect(modified(evs)).toEqual([]);
  });
});
