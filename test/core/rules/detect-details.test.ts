import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { T0, at, ev } from '../../rules/events.js';

/**
 * The details the engine adds to a detection of the event judged (where, by whom, how it came), before the rule's own
 * and the identity and the chain-of-custody ids (lineage) after them: their order is what alerts serialise, so it must not move (perf: built in one object).
 */
const rules = RulesConfig.parse({});
const SM = { provider: 'aws' as const, account: '111122223333', region: 'us-east-1' };
const arn = 'arn:aws:sts::111122223333:assumed-role/MLDeployer/bob@corp.example';
const job = (details: Record<string, unknown>) =>
  ev({ id: 'job', time: at(T0), platform: 'sagemaker', stage: 'training', action: 'training_job.create', operation: 'CreateTrainingJob', actor: { id: arn, type: 'user' }, cloud: SM, resource: { type: 'training_job', name: 'fraud-retrain-7' }, ml: { job: { name: 'fraud-retrain-7', image: 'python:3.11', image_pinned: false, network_isolation: false } }, details });

describe('details of a detection of the event judged', () => {
  it('scope (cloud, actor_id, invoked_by) before the rule’s own, the identity and the lineage last', () => {
    const [alert] = replayEvents([job({ invoked_by: 'cloudformation.amazonaws.com' })], { rules }).alerts.filter((a) => a.rule_id === 'training.network_egress');
    expect(Object.keys(alert!.details)).toEqual(['kind', 'consecutive', 'cloud', 'actor_id', 'invoked_by', 'job', 'network_isolation', 'vpc', 'policy', 'submitted_by', 'actor', 'lineage']);
    expect(alert!.details).toMatchObject({ cloud: SM, actor_id: arn, invoked_by: 'cloudformation.amazonaws.com', job: 'fraud-retrain-7', actor: 'bob@corp.example' });
  });

  it('without invoked_by no key for it; a blank one is none', () => {
    for (const details of [{}, { invoked_by: '' }]) {
      const [alert] = replayEvents([job(details)], { rules }).alerts.filter((a) => a.rule_id === 'training.network_egress');
      expect(Object.keys(alert!.details)).toEqual(['kind', 'consecutive', 'cloud', 'actor_id', 'job', 'network_isolation', 'vpc', 'policy', 'submitted_by', 'actor', 'lineage']);
      expect(alert!.details).not.toHaveProperty('invoked_by');
      expect(alert!.details).not.toHaveProperty('gitops_application');
    }
  });
});
