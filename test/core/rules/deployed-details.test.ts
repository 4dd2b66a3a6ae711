import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { T0, actors, at, ev } from '../../rules/events.js';

/**
 * `details.deployed` of registry.unapproved_deployment speaks snake_case like every other details key:
 * `mlflow_server` (the MLflow server the `models:/…` URI was judged in) and `run_id`. The camelCase names that
 * reached alerts before (`mlflowServer`, `runId`) stay beside them, deprecated, for searches built on them.
 */
const RULE = 'registry.unapproved_deployment';
let n = 0;
const next = () => at(T0 + ++n * 60_000);
const team = { provider: 'other' as const, account: 'team' };

/** fraud/5 registered on the `team` MLflow server, never approved. */
const registered = (): NormalizedEvent =>
  ev({ id: `create-${++n}`, time: next(), platform: 'mlflow', stage: 'registry', action: 'model_version.create', actor: actors.aliceMlflow, cloud: team, resource: { type: 'model_version', name: 'fraud', version: '5' }, ml: { model: { name: 'fraud', version: '5', artifact_uri: 's3://models/fraud/5' } } });
/** KServe serving `models:/fraud/5` from the `team` server (the cluster's `mlflow_server`). */
const deployed = (extra: Partial<NormalizedEvent> = {}): NormalizedEvent =>
  ev({ id: `deploy-${++n}`, time: next(), platform: 'kubeflow', stage: 'serving', action: 'endpoint.update', operation: 'patch inferenceservices', actor: actors.mallory, resource: { type: 'inferenceservices', name: 'fraud', namespace: 'prod' }, ml: { deployment: { endpoint: 'prod/fraud', model_uri: 'models:/fraud/5', mlflow_server: 'team' } }, ...extra });
const alertsOf = (events: NormalizedEvent[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === RULE);

describe('details.deployed keys', () => {
  it('the MLflow server is `mlflow_server`, with the deprecated `mlflowServer` beside it', () => {
    const alerts = alertsOf([registered(), deployed()]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details?.deployed).toMatchObject({ name: 'fraud', version: '5', mlflow_server: 'team', mlflowServer: 'team' });
  });

  it('the run is `run_id`, with the deprecated `runId` beside it', () => {
    const alerts = alertsOf([registered(), deployed({ ml: { deployment: { endpoint: 'prod/fraud', model_uri: 'models:/fraud/5', mlflow_server: 'team' }, provenance: { run_id: 'run-7' } } })]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details?.deployed).toMatchObject({ run_id: 'run-7', runId: 'run-7' });
  });

  it('no other camelCase key is in details.deployed', () => {
    const alerts = alertsOf([registered(), deployed({ ml: { deployment: { endpoint: 'prod/fraud', model_uri: 'models:/fraud/5', mlflow_server: 'team' }, provenance: { run_id: 'run-7' } } })]);
    const camel = Object.keys(alerts[0]!.details?.deployed as Record<string, unknown>).filter((k) => /[a-z][A-Z]/.test(k));
    expect(camel.sort()).toEqual(['mlflowServer', 'runId']);
  });
});
