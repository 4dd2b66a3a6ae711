import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { benignMonth } from './generate.js';

describe('a benign month', () => {
  it('raises no alert (of any mode) with the default settings, across all four platforms', () => {
    const events = benignMonth(35, 7);
    expect(new Set(events.map((e) => e.platform))).toEqual(new Set(['mlflow', 'kubeflow', 'sagemaker', 'vertex', 'custom']));
    expect(events.length).toBeGreaterThan(5000);
    const { alerts } = replayEvents(events, { rules: RulesConfig.parse({}) });
    expect(alerts.map((a) => `${a.rule_id} ${a.mode} ${a.summary}`)).toEqual([]);
  });

  it('is not benign by accident: the same month with one rogue act alerts on exactly that', () => {
    const events = benignMonth(35, 7);
    const deploy = events.filter((e) => e.action === 'endpoint.update').at(-1)!;
    const rogue = { ...deploy, id: 'rogue-deploy', time: new Date(Date.parse(deploy.time) + 60_000).toISOString(), ml: { deployment: { endpoint: 'fraud-prod' }, model: { name: 'fraud', version: '999' } } };
    const { alerts } = replayEvents([...events, rogue], { rules: RulesConfig.parse({}) });
    expect(alerts.map((a) => [a.rule_id, a.evidence])).toEqual([['registry.unapproved_deployment', ['rogue-deploy']]]);
  });
});
