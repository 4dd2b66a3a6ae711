import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { HOUR, T0, actors, at, ev } from '../../rules/events.js';

/**
 * The version a `models:/<name>/<version>` URI names, as MLflow reads it: an all-digit suffix is a version that
 * the registry matches as an integer, so `models:/fraud/03` loads version 3. A suffix MLflow does not take as a
 * version (`-3`, `3a`) names no version: such a deployment stays unmatched.
 */

const RULE = 'registry.unapproved_deployment';

function version(h: number, v: string): NormalizedEvent {
  return ev({
    time: at(T0 + h * HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.create', operation: 'model_version.created', actor: actors.aliceMlflow,
    resource: { type: 'model_version', name: 'fraud', version: v }, ml: { model: { name: 'fraud', version: v, artifact_uri: `s3://models/fraud/${v}`, tags: { adv_verdict: 'passed' } } },
  });
}
function approve(h: number, v: string): NormalizedEvent {
  return ev({
    time: at(T0 + h * HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.alias_set', operation: 'model_version_alias.created', actor: actors.bobMlflow,
    resource: { type: 'model_version', name: 'fraud', version: v }, ml: { model: { name: 'fraud', version: v, aliases: ['champion'] } }, details: { alias: 'champion' },
  });
}
/** KServe serving the MLflow model by registry URI. */
function deploy(h: number, modelUri: string): NormalizedEvent {
  return ev({
    time: at(T0 + h * HOUR), platform: 'kubeflow', stage: 'serving', action: 'endpoint.update', operation: 'patch inferenceservices', actor: actors.mallory,
    resource: { type: 'inferenceservices', name: 'fraud', namespace: 'kubeflow-user-alice' }, ml: { deployment: { endpoint: 'kubeflow-user-alice/fraud', model_uri: modelUri } },
  });
}
const deployAlerts = (events: NormalizedEvent[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === RULE);
/** v3 approved (champion), v5 never approved. */
const history = () => [version(0, '3'), approve(1, '3'), version(2, '5')];

describe('models:/<name>/<version> with leading zeros', () => {
  it('`models:/fraud/03` is approved v3: no alert', () => {
    expect(deployAlerts([...history(), deploy(3, 'models:/fraud/03')])).toEqual([]);
    expect(deployAlerts([...history(), deploy(3, 'models:/fraud/0003')])).toEqual([]);
  });

  it('`models:/fraud/05` is v5, never approved: the alert names v5', () => {
    const alerts = deployAlerts([...history(), deploy(3, 'models:/fraud/05')]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details).toMatchObject({ reason: 'never_approved', known_versions: ['mlflow|fraud|5'], deployed: { name: 'fraud', version: '5' } });
  });

  it('a suffix MLflow does not read as a version (`-3`, `3a`, `+3`) names no version of fraud: unmatched, alerted', () => {
    for (const uri of ['models:/fraud/-3', 'models:/fraud/3a', 'models:/fraud/+3']) {
      const alerts = deployAlerts([...history(), deploy(3, uri)]);
      expect(alerts, uri).toHaveLength(1);
      expect(alerts[0]!.details, uri).toMatchObject({ reason: 'never_approved', known_versions: [] });
    }
  });
});
