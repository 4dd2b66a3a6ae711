import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { modelRefOf } from '../../core/rules/facts.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import { HOUR, T0, actors, at, ev } from './events.js';

/**
 * `models:/…` URIs as MLflow's `_parse_model_uri` (mlflow/store/artifact/utils/models.py) reads them: a path of more
 * than two segments (a trailing slash makes one) or with an empty name, suffix or alias is refused
 * (`_improper_model_uri_msg`), an alias is split off at the last `@`, a query is not part of the path. And the rules
 * besides registry.unapproved_deployment that take a deployed version resolve a stage or `latest` URI as it does.
 */

function version(h: number, v: string): NormalizedEvent {
  return ev({
    time: at(T0 + h * HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.create', operation: 'model_version.created', actor: actors.aliceMlflow,
    resource: { type: 'model_version', name: 'fraud', version: v }, ml: { model: { name: 'fraud', version: v, artifact_uri: `s3://models/fraud/${v}`, tags: { adv_verdict: 'passed' } } },
  });
}
/** A stage transition as the MLflow auditor reports it; to Production it is an approval. */
function transition(h: number, v: string, to: string): NormalizedEvent {
  const approve = to === 'Production';
  return ev({
    time: at(T0 + h * HOUR), platform: 'mlflow', stage: 'registry', action: approve ? 'model_version.approve' : 'model_version.stage_transition', operation: 'model-versions/transition-stage',
    resource: { type: 'model_version', id: `fraud/${v}`, name: 'fraud', version: v, uri: `s3://models/fraud/${v}` },
    ml: { model: { name: 'fraud', version: v, artifact_uri: `s3://models/fraud/${v}`, stage: to, status: 'READY', ...(approve ? { approval: 'approved' as const } : {}) } },
    details: { field: 'current_stage', old: 'None', new: to },
  });
}
function aliasSet(h: number, v: string, alias: string): NormalizedEvent {
  return ev({
    time: at(T0 + h * HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.alias_set', operation: 'model_version_alias.created', actor: actors.bobMlflow,
    resource: { type: 'model_version', name: 'fraud', version: v }, ml: { model: { name: 'fraud', version: v, aliases: [alias] } }, details: { alias },
  });
}
function deploy(h: number, modelUri: string): NormalizedEvent {
  return ev({
    time: at(T0 + h * HOUR), platform: 'kubeflow', stage: 'serving', action: 'endpoint.update', operation: 'patch inferenceservices', actor: actors.mallory,
    resource: { type: 'inferenceservices', name: 'fraud', namespace: 'kubeflow-user-alice' }, ml: { deployment: { endpoint: 'kubeflow-user-alice/fraud', model_uri: modelUri } },
  });
}
const alertsOf = (rule: string, events: NormalizedEvent[], rules = RulesConfig.parse({})) => replayEvents(events, { rules }).alerts.filter((a) => a.rule_id === rule);
/** v3 approved (moved to Production, champion alias), v5 registered in Staging and never approved. */
const history = () => [version(0, '3'), transition(1, '3', 'Production'), aliasSet(1.5, '3', 'champion'), version(2, '5'), transition(2.5, '5', 'Staging')];

describe('models:/ URIs MLflow refuses name no version', () => {
  it('a trailing slash or an empty part: an unknown artifact, never approved, details.unresolved says why', () => {
    for (const uri of ['models:/fraud/3/', 'models:/fraud@champion/', 'models:/fraud/Production/', 'models:/fraud/', 'models:/fraud@']) {
      const alerts = alertsOf('registry.unapproved_deployment', [...history(), deploy(3, uri)]);
      expect(alerts, uri).toHaveLength(1);
      expect(alerts[0]!.details, uri).toMatchObject({ reason: 'never_approved', known_versions: [], deployed: { artifact: expect.stringMatching(/^models:\/fraud/) } });
      expect((alerts[0]!.details.deployed as { version?: string }).version, uri).toBeUndefined();
      expect(alerts[0]!.details.unresolved, uri).toMatch(/^not a proper models:\/ URI, MLflow refuses it: /);
    }
    // The proper spellings still resolve to the approved v3.
    for (const uri of ['models:/fraud/3', 'models:/fraud@champion', 'models:/fraud/Production']) expect(alertsOf('registry.unapproved_deployment', [...history(), deploy(3, uri)]), uri).toEqual([]);
  });

  it('the alias is what follows the last `@`, and a query is not part of the path', () => {
    const cfg = RulesConfig.parse({});
    const ref = (uri: string) => modelRefOf(deploy(3, uri), cfg);
    expect(ref('models:/fraud@eu@champion')).toMatchObject({ name: 'fraud@eu', alias: 'champion' });
    expect(ref('models:/fraud/3?x=1')).toMatchObject({ name: 'fraud', version: '3' });
    expect(ref('models:/fraud/3?x=1')?.stage).toBeUndefined();
    expect(ref('models:/fraud/3/')).toMatchObject({ artifact: 'models:/fraud/3', improperUri: expect.stringContaining('more than two path segments') });
    expect(ref('models:/fraud/3/')?.name).toBeUndefined();
  });
});

describe('other rules that take a deployed version resolve stage and latest URIs alike', () => {
  it('registry.version_rollback: from what `models:/fraud/Staging` served (v5) to v3, and from v5 to a stage serving v3', () => {
    const fromStage = alertsOf('registry.version_rollback', [...history(), deploy(3, 'models:/fraud/Staging'), deploy(4, 'models:/fraud/3')]);
    expect(fromStage.map((a) => a.details)).toMatchObject([{ model: 'fraud', from_version: '5', to_version: '3' }]);
    const toStage = alertsOf('registry.version_rollback', [...history(), deploy(3, 'models:/fraud/5'), deploy(4, 'models:/fraud/Production')]);
    expect(toStage.map((a) => a.details)).toMatchObject([{ model: 'fraud', from_version: '5', to_version: '3' }]);
  });

  it('serving.unapproved_batch_inference: a job on `models:/fraud/Production` runs approved v3; on `/Staging` unapproved v5', () => {
    const job = (h: number, uri: string) => ev({
      time: at(T0 + h * HOUR), platform: 'kubeflow', stage: 'serving', action: 'transform_job.create', operation: 'create',
      actor: actors.mallory, resource: { type: 'job', name: `score-${h}` }, ml: { deployment: { model_uri: uri } },
    });
    // Versions awaiting approval judged too (README's example), so that v5 in Staging is a finding.
    const rules = RulesConfig.parse({ 'serving.unapproved_batch_inference': { judge: ['never_approved', 'pending'] } });
    expect(alertsOf('serving.unapproved_batch_inference', [...history(), job(3, 'models:/fraud/Production')], rules)).toEqual([]);
    const staged = alertsOf('serving.unapproved_batch_inference', [...history(), version(2.8, '6'), job(3, 'models:/fraud/Staging')], rules);
    expect(staged.map((a) => a.details)).toMatchObject([{ reason: 'pending', known_versions: ['mlflow|fraud|5'], resolved_from: 'stage:Staging', resolved_version: '5' }]);
  });
});

describe('stage `None` and non-ASCII digits, as MLflow reads them', () => {
  it('`models:/fraud/None` (any case) loads the highest version never moved out of stage None: v6 here, never approved', () => {
    // v3 in Production, v5 in Staging, v6 created after: in stage None, as every new version is.
    for (const uri of ['models:/fraud/None', 'models:/fraud/NONE']) {
      const alerts = alertsOf('registry.unapproved_deployment', [...history(), version(2.8, '6'), deploy(3, uri)]);
      expect(alerts.map((a) => a.details), uri).toMatchObject([{ reason: 'never_approved', resolved_from: `stage:${uri.slice(14)}`, resolved_version: '6', known_versions: ['mlflow|fraud|6'] }]);
    }
    // A version moved back to None is in it again; the highest in it wins.
    const back = alertsOf('registry.unapproved_deployment', [...history(), transition(2.7, '5', 'None'), deploy(3, 'models:/fraud/None')]);
    expect(back.map((a) => a.details.resolved_version)).toEqual(['5']);
  });

  it('`models:/fraud/３` (fullwidth) and `models:/fraud/³` are versions to MLflow that no version matches; a stage MLflow lacks loads nothing', () => {
    const cfg = RulesConfig.parse({});
    for (const uri of ['models:/fraud/３', 'models:/fraud/1３', 'models:/fraud/³', 'models:/fraud/Prod']) {
      const ref = modelRefOf(deploy(3, uri), cfg);
      expect(ref?.version, uri).toBeUndefined();
      expect(ref?.stage, uri).toBeUndefined();
      const alerts = alertsOf('registry.unapproved_deployment', [...history(), deploy(3, uri)]);
      expect(alerts.map((a) => a.details.reason), uri).toEqual(['never_approved']);
      expect(alerts[0]!.details.unresolved, uri).toMatch(/^not a proper models:\/ URI, MLflow refuses it: /);
    }
    expect(modelRefOf(deploy(3, 'models:/fraud/３'), cfg)?.improperUri).toContain('its store compares the digits as written');
    expect(modelRefOf(deploy(3, 'models:/fraud/³'), cfg)?.improperUri).toContain('int() refuses it');
    expect(modelRefOf(deploy(3, 'models:/fraud/Prod'), cfg)?.improperUri).toContain("none of MLflow's stages");
    // ASCII digits stay the version they name.
    expect(modelRefOf(deploy(3, 'models:/fraud/03'), cfg)).toMatchObject({ name: 'fraud', version: '3' });
  });
});
