import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { NormalizedEvent } from '../../core/schema/index.js';
import { fx, normOne } from '../connectors/sagemaker/helpers.js';

/**
 * ingestion.unfamiliar_writer: records deleted from a feature group (Feature Store DeleteRecord, a data event as the
 * PutRecord fixture is) change what a model learns as much as records written: a stranger's deletion is judged too.
 */
const RULE = 'ingestion.unfamiliar_writer';
const PUT = fx('cloudtrail-sagemaker-featurestore-putrecord-dataevent.awsdocs.json');
const record = (id: string, time: string, eventName = 'PutRecord', who?: string) =>
  NormalizedEvent.parse(normOne({
    ...PUT, eventID: id, eventTime: time, eventName,
    ...(eventName === 'DeleteRecord' ? { requestParameters: { featureGroupName: 'your-feature-group-name', deletionMode: 'HardDelete' } } : {}),
    ...(who ? { userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::123456789012:assumed-role/${who}/${who}-session`, accountId: '123456789012', sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::123456789012:role/${who}`, accountId: '123456789012' } } } } : {}),
  }));
const history = Array.from({ length: 10 }, (_, d) => record(`put-${d}`, `2023-01-${String(d + 1).padStart(2, '0')}T01:00:00Z`));
const alertsOf = (evs: NormalizedEvent[], rules: Record<string, unknown> = {}) => replayEvents(evs, { rules: RulesConfig.parse(rules) }).alerts.filter((a) => a.rule_id === RULE);

describe('Feature Store DeleteRecord is a write to the feature group', () => {
  it('a stranger\'s deletion alerts; the learned writer\'s does not', () => {
    const del = record('del-1', '2023-01-12T03:00:00Z', 'DeleteRecord', 'Eve');
    expect([del.stage, del.action]).toEqual(['ingestion', 'feature_record.delete']);
    const [alert, ...more] = alertsOf([...history, del]);
    expect(more).toEqual([]);
    expect(alert!.details).toMatchObject({ action: 'feature_record.delete', operation: 'DeleteRecord', known_writers: ['your-user-name'] });
    expect(alert!.summary).toContain('deleted');
    expect(alertsOf([...history, record('del-2', '2023-01-12T03:00:00Z', 'DeleteRecord')])).toEqual([]);
    // An operator's own list of write actions still decides.
    expect(alertsOf([...history, del], { [RULE]: { data_write_actions: ['feature_record.write'] } })).toEqual([]);
  });
});
