import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { HOUR, T0, actors, at, ev } from '../../rules/events.js';

/**
 * Approval aliases and case. MLflow stores an alias as given; PostgreSQL and SQLite resolve `@champion`
 * exactly, MySQL (case-insensitive collation) reaches `champion` by `@Champion` too. So a case variant set
 * on another version approves nothing, and a deployment naming an alias is judged against every version
 * holding it in any case: neither a false approval nor a deployment left unjudged.
 */

const RULE = 'registry.unapproved_deployment';
const EP = 'kubeflow-user-alice/fraud';

function version(h: number, v: string): NormalizedEvent {
  return ev({
    time: at(T0 + h * HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.create', operation: 'model_version.created', actor: actors.aliceMlflow,
    resource: { type: 'model_version', name: 'fraud', version: v }, ml: { model: { name: 'fraud', version: v, artifact_uri: `s3://models/fraud/${v}`, tags: { adv_verdict: 'passed' } } },
  });
}
function alias(h: number, v: string, name: string, actor: NormalizedEvent['actor']): NormalizedEvent {
  return ev({
    time: at(T0 + h * HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.alias_set', operation: 'model_version_alias.created', actor,
    resource: { type: 'model_version', name: 'fraud', version: v }, ml: { model: { name: 'fraud', version: v, aliases: [name] } }, details: { alias: name },
  });
}
/** KServe serving the MLflow model by registry URI (the storage initializer resolves `models:/`). */
function deploy(h: number, modelUri: string): NormalizedEvent {
  return ev({
    time: at(T0 + h * HOUR), platform: 'kubeflow', stage: 'serving', action: 'endpoint.update', operation: 'patch inferenceservices', actor: actors.mallory,
    resource: { type: 'inferenceservices', name: 'fraud', namespace: 'kubeflow-user-alice' }, ml: { deployment: { endpoint: EP, model_uri: modelUri } },
  });
}
const deployAlerts = (events: NormalizedEvent[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === RULE);

/** v3 approved as `champion` by bob; mallory sets `CHAMPION` on v5, never approved. */
const history = () => [version(0, '3'), alias(1, '3', 'champion', actors.bobMlflow), version(2, '5'), alias(3, '5', 'CHAMPION', actors.mallory)];

describe('approval aliases are compared exactly', () => {
  it('`CHAMPION` on another version approves nothing: deploying that version is an unapproved deployment', () => {
    const d = deploy(4, 'models:/fraud/5');
    const alerts = deployAlerts([...history(), d]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details).toMatchObject({ reason: 'never_approved', known_versions: ['mlflow|fraud|5'] });
  });

  it('a deployment of `@champion` while `CHAMPION` names another version is judged against both: the unapproved one alerts', () => {
    const d = deploy(4, 'models:/fraud@champion');
    const alerts = deployAlerts([...history(), d]);
    expect(alerts.map((a) => a.details?.known_versions)).toEqual([['mlflow|fraud|5']]);
    expect(alerts[0]!.summary).toContain('fraud@champion v5');
    // Without the case variant, `@champion` is v3, approved: nothing.
    expect(deployAlerts([...history().slice(0, 3), deploy(4, 'models:/fraud@champion')])).toEqual([]);
  });
});

describe('a deployment naming an alias in another case reaches the version that holds it (MySQL)', () => {
  it('`@Champion` is judged as the `champion` version: approved, no alert', () => {
    expect(deployAlerts([...history().slice(0, 3), deploy(4, 'models:/fraud@Champion')])).toEqual([]);
  });

  it('`@Staging` is judged as the `staging` version, never approved: the alert names it', () => {
    const alerts = deployAlerts([version(0, '4'), alias(1, '4', 'staging', actors.aliceMlflow), deploy(2, 'models:/fraud@Staging')]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details).toMatchObject({ reason: 'never_approved', known_versions: ['mlflow|fraud|4'] });
  });
});

describe('a live deployment of an alias follows every version holding it in any case, as the deployment was judged', () => {
  it('`@champion` deployed on the approved v3, then `CHAMPION` set on unapproved v5: judged then as a deployment of v5, once', () => {
    const d = deploy(4, 'models:/fraud@champion');
    const moved = alias(5, '5', 'CHAMPION', actors.mallory);
    const alerts = deployAlerts([...history().slice(0, 3), d, moved, alias(6, '5', 'CHAMPION', actors.mallory)]);
    expect(alerts.map((a) => [a.details?.known_versions, a.details?.changed_by])).toEqual([[['mlflow|fraud|5'], moved.id]]);
    // As the deployment itself is judged when the case variant was set before it: the same version, one alert.
    expect(deployAlerts([...history(), d]).map((a) => a.details?.known_versions)).toEqual([['mlflow|fraud|5']]);
    // v5 judged by the deployment is not judged again by the watch when its alias is set again after it.
    expect(deployAlerts([...history(), d, alias(5, '5', 'CHAMPION', actors.mallory)]).map((a) => a.details?.known_versions)).toEqual([['mlflow|fraud|5']]);
  });

  it('`@CHAMPION` deployed while only `champion` (approved v3) holds it, then `CHAMPION` set on v5: v5 is judged; an approved variant holder raises nothing', () => {
    const d = deploy(4, 'models:/fraud@CHAMPION');
    const moved = alias(5, '5', 'CHAMPION', actors.mallory);
    expect(deployAlerts([...history().slice(0, 3), d, moved]).map((a) => a.details?.changed_by)).toEqual([moved.id]);
    // `Champion` set by bob on v3 again (already judged, approved): nothing.
    expect(deployAlerts([...history().slice(0, 3), deploy(4, 'models:/fraud@champion'), alias(5, '3', 'Champion', actors.bobMlflow)])).toEqual([]);
  });
});
