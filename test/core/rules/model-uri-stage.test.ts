import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { ApprovalConfig, MlflowConfig } from '../../../connectors/mlflow/config.js';
import { baselineState } from '../../../connectors/mlflow/diff.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { HOUR, T0, actors, at, ev } from '../../rules/events.js';

/**
 * `models:/<name>/<stage>` and `models:/<name>/latest`, as MLflow loads them (`_parse_model_uri`): a stage name loads
 * the highest version now in that stage (`get_latest_versions(name, [stage])`, stage names case-insensitive),
 * `latest` the highest version of all. The version is judged as a `models:/<name>/<n>` deployment of it would be.
 */

const RULE = 'registry.unapproved_deployment';
const team = { provider: 'other' as const, account: 'team' };

/** A version as MLflow's model_version.created webhook reports it (fixtures/mlflow/model_version.created.json). */
function version(h: number, v: string, extra: Partial<NormalizedEvent> = {}): NormalizedEvent {
  return ev({
    time: at(T0 + h * HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.create', operation: 'model_version.created', actor: actors.aliceMlflow,
    resource: { type: 'model_version', name: 'fraud', version: v }, ml: { model: { name: 'fraud', version: v, artifact_uri: `s3://models/fraud/${v}`, tags: { adv_verdict: 'passed' } } }, ...extra,
  });
}
/**
 * A stage transition as the MLflow auditor reports it (connectors/mlflow/diff.ts): to an approval stage
 * (`approval.stages`, default Production) it is `model_version.approve`.
 */
function transition(h: number, v: string, from: string, to: string, extra: Partial<NormalizedEvent> = {}): NormalizedEvent {
  const approve = to.toLowerCase() === 'production';
  return ev({
    time: at(T0 + h * HOUR), platform: 'mlflow', stage: 'registry', action: approve ? 'model_version.approve' : 'model_version.stage_transition', operation: 'model-versions/transition-stage',
    resource: { type: 'model_version', id: `fraud/${v}`, name: 'fraud', version: v, uri: `s3://models/fraud/${v}` },
    ml: { model: { name: 'fraud', version: v, artifact_uri: `s3://models/fraud/${v}`, stage: to, status: 'READY', ...(approve ? { approval: 'approved' as const } : {}) } },
    details: { field: 'current_stage', old: from, new: to }, ...extra,
  });
}
/** KServe serving the MLflow model by registry URI. */
function deploy(h: number, modelUri: string, deployment: Record<string, unknown> = {}): NormalizedEvent {
  return ev({
    time: at(T0 + h * HOUR), platform: 'kubeflow', stage: 'serving', action: 'endpoint.update', operation: 'patch inferenceservices', actor: actors.mallory,
    resource: { type: 'inferenceservices', name: 'fraud', namespace: 'kubeflow-user-alice' }, ml: { deployment: { endpoint: 'kubeflow-user-alice/fraud', model_uri: modelUri, ...deployment } },
  });
}
const deployAlerts = (events: NormalizedEvent[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === RULE);
/** v3 moved to Production (an approval), v5 registered and never approved. */
const history = () => [version(0, '3'), transition(1, '3', 'None', 'Production'), version(2, '5')];

describe('models:/<name>/<stage> and /latest', () => {
  it('the version approved by its transition to Production, deployed as `models:/fraud/Production`: no alert', () => {
    expect(deployAlerts([...history(), deploy(3, 'models:/fraud/Production')])).toEqual([]);
    // MLflow compares stage names case-insensitively.
    expect(deployAlerts([...history(), deploy(3, 'models:/fraud/production')])).toEqual([]);
  });

  it('an unapproved version moved to Staging, deployed as `models:/fraud/Staging`: never_approved, naming it', () => {
    const alerts = deployAlerts([...history(), transition(3, '5', 'None', 'Staging'), deploy(4, 'models:/fraud/Staging')]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details).toMatchObject({ reason: 'never_approved', known_versions: ['mlflow|fraud|5'], deployed: { name: 'fraud', version: '5' }, resolved_from: 'stage:Staging', resolved_version: '5' });
    expect(alerts[0]!.summary).toContain('deployed models:/fraud/Staging (v5) to kubeflow-user-alice/fraud');
  });

  it('the highest version in the stage: a later approved version in Production is the one loaded, an archived one is not', () => {
    const events = [...history(), transition(3, '5', 'None', 'Production'), transition(4, '3', 'Production', 'Archived'), deploy(5, 'models:/fraud/Production')];
    expect(deployAlerts(events)).toEqual([]);
    // v3 archived and nothing moved into Production since: no version is in it.
    const moved = deployAlerts([...history(), transition(3, '3', 'Production', 'Archived'), deploy(4, 'models:/fraud/Production')]);
    expect(moved).toHaveLength(1);
    expect(moved[0]!.details).toMatchObject({ reason: 'never_approved', unresolved: 'no version seen in stage Production' });
  });

  it('`models:/fraud/latest` is the highest version number: v5, never approved', () => {
    const alerts = deployAlerts([...history(), deploy(3, 'models:/fraud/latest')]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details).toMatchObject({ reason: 'never_approved', known_versions: ['mlflow|fraud|5'], resolved_from: 'latest', resolved_version: '5' });
    // Once v5 is approved, `latest` is approved.
    expect(deployAlerts([...history(), transition(3, '5', 'None', 'Production'), deploy(4, 'models:/fraud/latest')])).toEqual([]);
  });

  it('a stage no version was seen in: alerted as before, saying why', () => {
    const alerts = deployAlerts([...history(), deploy(3, 'models:/fraud/Staging')]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details).toMatchObject({ reason: 'never_approved', known_versions: [], unresolved: 'no version seen in stage Staging', resolved_from: 'stage:Staging' });
  });

  it('resolved in the registry the cluster names (mlflow_server): another server\'s Production version does not vouch', () => {
    const onTeam = [version(0, '3', { cloud: team }), transition(1, '3', 'None', 'Production', { cloud: team })];
    expect(deployAlerts([...onTeam, deploy(2, 'models:/fraud/Production', { mlflow_server: 'team' })])).toEqual([]);
    const other = deployAlerts([...onTeam, deploy(2, 'models:/fraud/Production', { mlflow_server: 'other' })]);
    expect(other).toHaveLength(1);
    expect(other[0]!.details).toMatchObject({ reason: 'never_approved', known_versions: [], unresolved: 'no version seen in stage Production' });
  });

  it('a deployment read before the transition it names is judged as a `models:/fraud/<n>` one read early is: at once, with what is known', () => {
    const alerts = deployAlerts([version(0, '3'), deploy(1, 'models:/fraud/Production'), transition(2, '3', 'None', 'Production')]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details).toMatchObject({ unresolved: 'no version seen in stage Production' });
  });

  it('the stage a version was in when the auditor first saw it (baseline) and a Databricks transition webhook count too', () => {
    const snap = { name: 'fraud', version: '3', current_stage: 'Production', status: 'READY', source: 's3://models/fraud/3', description: '', tags: {}, aliases: [], creation_timestamp: T0 };
    const baseline = baselineState(ApprovalConfig.parse({}), snap, T0 + HOUR, at(T0 + HOUR))!;
    expect(deployAlerts([version(0, '3'), baseline, deploy(2, 'models:/fraud/Production')])).toEqual([]);
    const databricks = (...bodies: Array<Record<string, unknown>>) =>
      bodies.flatMap((b, i) => normalizeMlflow(b, { channel: 'mlflow.webhook', receivedTime: at(T0 + 3 * HOUR), keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: `db-${i}` } }).events);
    const created = { event: 'MODEL_VERSION_CREATED', webhook_id: 'w1', event_timestamp: T0, model_name: 'fraud', version: '5' };
    const toStaging = { event: 'MODEL_VERSION_TRANSITIONED_STAGE', webhook_id: 'w1', event_timestamp: T0 + HOUR, model_name: 'fraud', version: '5', from_stage: 'None', to_stage: 'Staging' };
    // A request to move it asks, it moves nothing.
    const request = { event: 'TRANSITION_REQUEST_CREATED', webhook_id: 'w1', event_timestamp: T0 + HOUR, model_name: 'fraud', version: '5', to_stage: 'Production' };
    const alerts = deployAlerts([...databricks(created, toStaging), deploy(2, 'models:/fraud/STAGING')]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details).toMatchObject({ reason: 'never_approved', resolved_from: 'stage:STAGING', resolved_version: '5' });
    const requested = deployAlerts([...databricks(created, request), deploy(2, 'models:/fraud/Production')]);
    expect(requested).toHaveLength(1);
    expect(requested[0]!.details).toMatchObject({ unresolved: 'no version seen in stage Production' });
  });
});
