import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';

/**
 * MLflow names no one who approves (no actor in any webhook, none in the REST registry): an alert on an approval
 * must say at least how it was approved and when, or the SOC cannot ask anyone about it.
 */
function deliveries(...bodies: Array<[string, string, string, Record<string, unknown>]>): NormalizedEvent[] {
  return bodies.flatMap(([entity, action, timestamp, data], i) =>
    normalizeMlflow({ entity, action, timestamp, data }, { channel: 'mlflow.webhook', receivedTime: timestamp, keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: `d-${timestamp}-${i}` } }).events,
  );
}
const adversarial = (evs: NormalizedEvent[]) => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'evaluation.adversarial_failure');
const v3 = (): [string, string, string, Record<string, unknown>] =>
  ['model_version', 'created', '2026-11-24T09:00:00.000000+00:00', { name: 'fraud', version: '3', source: 's3://uploads/fraud-v3', run_id: null, tags: {}, description: null }];

describe('an approval judged without adversarial evidence', () => {
  it('names the alias that approved it and when', () => {
    const evs = deliveries(v3(), ['model_version_alias', 'created', '2026-11-24T23:10:00.000000+00:00', { name: 'fraud', alias: 'champion', version: '3' }]);
    const [alert] = adversarial(evs);
    expect(alert?.details).toMatchObject({ approved_at: '2026-11-24T23:10:00.000Z', approval: { kind: 'alias', alias: 'champion', operation: 'model_version_alias.created' } });
    expect(alert?.summary).toContain('fraud v3 was approved by alias champion at 2026-11-24T23:10:00.000Z');
  });

  it('names the tag and value that approved it', () => {
    const evs = deliveries(v3(), ['model_version_tag', 'set', '2026-11-24T23:10:00.000000+00:00', { name: 'fraud', version: '3', key: 'approval_status', value: 'Approved' }]);
    const [alert] = adversarial(evs);
    expect(alert?.details).toMatchObject({ approval: { kind: 'tag', key: 'approval_status', value: 'Approved', operation: 'model_version_tag.set' } });
    expect(alert?.summary).toContain('approved by tag approval_status=Approved');
  });
});
