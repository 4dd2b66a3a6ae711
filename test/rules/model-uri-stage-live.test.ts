import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { ApprovalConfig, MlflowConfig } from '../../connectors/mlflow/config.js';
import { registryDiffer } from '../../connectors/mlflow/diff.js';
import { normalizeMlflow } from '../../connectors/mlflow/normalize.js';
import type { VersionSnap } from '../../connectors/mlflow/snapshot.js';
import { createRuleEngine, RulesConfig } from '../../core/rules/engine.js';
import { MemoryStateStore } from '../../core/state/index.js';
import { fromServer, type Alert, type NormalizedEvent } from '../../core/schema/index.js';
import { HOUR, T0, actors, at, ev } from './events.js';
import { renamedByAuditor } from './mlflow-rename.js';

/**
 * A live KServe deployment of `models:/fraud/<stage>` or `models:/fraud/latest` loads the highest version in that stage
 * (of all) whenever its predictor starts (MLflow's `get_model_name_and_version`): a stage transition or a new version
 * read after the deployment changes what it serves, with no deployment event. Versions are created as MLflow 3.x
 * webhooks deliver them (the fixtures' envelope), transitions as the registry auditor reports a `current_stage` change
 * between two polls (connectors/mlflow/diff.ts): to Production, an approval.
 */

const RULE = 'registry.unapproved_deployment';
const EP = 'kubeflow-user-alice/fraud';
let seq = 0;

/** MLflow's model_version.created webhook (fixtures/mlflow/model_version.created.json's envelope). */
function created(h: number, v: string): NormalizedEvent {
  const timestamp = `${at(T0 + h * HOUR).replace('Z', '')}000+00:00`;
  const data = { name: 'fraud', version: v, source: `s3://models/fraud/${v}`, run_id: `r${v}`, tags: {}, description: null };
  const [e] = normalizeMlflow({ entity: 'model_version', action: 'created', timestamp, data }, { channel: 'mlflow.webhook', receivedTime: timestamp, keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: `d-${++seq}` } }).events;
  return e!;
}

/** The registry auditor's report of version `v` moved from one stage to another between two polls. */
function transition(h: number, v: string, from: string, to: string): NormalizedEvent {
  const snap = (stage: string, updated: number): VersionSnap => ({
    name: 'fraud', version: v, current_stage: stage, status: 'READY', user_id: 'alice', source: `s3://models/fraud/${v}`, run_id: `r${v}`,
    description: '', tags: {}, aliases: [], creation_timestamp: T0 - HOUR, last_updated_timestamp: updated,
  });
  const t = T0 + h * HOUR;
  const differ = registryDiffer({ approval: ApprovalConfig.parse({}), ownDigestTag: () => undefined, receivedTime: at(t + 60_000) });
  const key = `fraud/${v}`;
  const out = differ.diffVersions(new Map([[key, snap(from, t - HOUR)]]), new Map([[key, snap(to, t)]]), new Set(), t + 60_000);
  expect(out.map((e) => e.details?.field)).toEqual(['current_stage']);
  return out[0]!;
}

/** KServe serving the MLflow model by registry URI (the Kubeflow connector's InferenceService patch). */
function deploy(h: number, modelUri: string, ep = EP): NormalizedEvent {
  return ev({
    time: at(T0 + h * HOUR), platform: 'kubeflow', stage: 'serving', action: 'endpoint.update', operation: 'patch inferenceservices', actor: actors.mallory,
    resource: { type: 'inferenceservices', name: ep.split('/')[1]!, namespace: 'kubeflow-user-alice' }, ml: { deployment: { endpoint: ep, model_uri: modelUri } },
  });
}
/** The InferenceService deleted (the Kubeflow connector's `delete` of it). */
function deleted(h: number): NormalizedEvent {
  return ev({
    time: at(T0 + h * HOUR), platform: 'kubeflow', stage: 'serving', action: 'endpoint.delete', operation: 'delete inferenceservices', actor: actors.mallory,
    resource: { type: 'inferenceservices', name: 'fraud', namespace: 'kubeflow-user-alice' }, ml: { deployment: { endpoint: EP } },
  });
}

const only = (alerts: Alert[]) => alerts.filter((a) => a.rule_id === RULE);
/** Judged in event-time order (replay). */
const replayed = (events: NormalizedEvent[]) => only(replayEvents(events, { rules: RulesConfig.parse({}) }).alerts);
/** Judged in arrival order, as `serve` judges a live stream. */
function arriving(events: NormalizedEvent[]): Alert[] {
  const engine = createRuleEngine(RulesConfig.parse({}), new MemoryStateStore());
  return only(events.flatMap((e) => engine.process(e, Date.parse(e.time) + 60_000)));
}

describe('a models:/<name>/<stage> deployment read before the transition it depends on', () => {
  it('resolved when the transition arrives: the first alert stands; an approved version raises nothing more, an unapproved one one alert naming it', () => {
    const v3 = created(0, '3');
    const dep = deploy(3, 'models:/fraud/Production');
    const toProd = transition(2, '3', 'None', 'Production');
    // serve: the deployment (event time 3h) arrives before the transition (2h) that puts v3 in Production.
    expect(arriving([v3, dep, toProd]).map((a) => a.details.unresolved)).toEqual(['no version seen in stage Production']);
    // Replay sorts by event time: the same records resolve at once.
    expect(replayed([v3, dep, toProd])).toEqual([]);

    // The same read before v5's move to Staging: one alert more, with v5, once (a later transition of another version is no news).
    const staged = deploy(3, 'models:/fraud/Staging');
    const toStaging = transition(2, '5', 'None', 'Staging');
    const alerts = arriving([created(0, '3'), created(1, '5'), staged, toStaging, transition(2.5, '3', 'None', 'Archived')]);
    expect(alerts).toHaveLength(2);
    expect(alerts[0]!.details).toMatchObject({ unresolved: 'no version seen in stage Staging' });
    expect(alerts[1]!.details).toMatchObject({ reason: 'never_approved', resolved_from: 'stage:Staging', resolved_version: '5', known_versions: ['mlflow|fraud|5'], deployment_event: staged.id, changed_by: toStaging.id });
    expect(alerts[1]!.evidence).toEqual([staged.id, toStaging.id]);
    expect(alerts[1]!.entity).toMatchObject({ type: 'endpoint', id: EP });
  });
});

describe('a transition into the stage a live deployment serves', () => {
  const approved = () => [created(0, '3'), transition(1, '3', 'None', 'Staging'), transition(1.5, '3', 'Staging', 'Production')];

  it('an unapproved version moved into the stage above the approved one: the deployment now serves it, alerted once per version', () => {
    // v3, approved by its move to Production, is back in Staging and served from there.
    const dep = deploy(2, 'models:/fraud/Staging');
    const toStaging = transition(4, '5', 'None', 'Staging');
    const events = [...approved(), transition(1.8, '3', 'Production', 'Staging'), dep, created(3, '5'), toStaging];
    const alerts = replayed(events);
    // v3 served: no alert; v5 moved in above it: one, dated at the transition.
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details).toMatchObject({ reason: 'never_approved', resolved_from: 'stage:Staging', resolved_version: '5', changed_by: toStaging.id, deployment_event: dep.id });
    expect(alerts[0]!.evidence).toEqual([dep.id, toStaging.id]);
    expect(alerts[0]!.time).toBe(toStaging.time);
    expect(alerts[0]!.summary).toContain(`since model_version.stage_transition ${toStaging.id}`);
    // v5 moved out and in again: the same version on the same deployment, not alerted again.
    const again = replayed([...events, transition(5, '5', 'Staging', 'Archived'), transition(6, '5', 'Archived', 'Staging')]);
    expect(again).toHaveLength(1);
    // A new version nobody moved into Staging changes nothing it serves.
    expect(replayed([...approved(), transition(1.8, '3', 'Production', 'Staging'), dep, created(3, '5')])).toEqual([]);
  });

  it('`latest`: a new highest version changes what it serves', () => {
    const dep = deploy(2, 'models:/fraud/latest');
    const v6 = created(3, '6');
    const alerts = replayed([...approved(), dep, v6]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details).toMatchObject({ reason: 'never_approved', resolved_from: 'latest', resolved_version: '6', changed_by: v6.id });
  });

  it('only while live: a deleted InferenceService, or one redeployed with another URI, serves nothing of the stage', () => {
    const later = [created(3, '6'), transition(4, '6', 'None', 'Staging')];
    expect(replayed([...approved(), transition(1.8, '3', 'Production', 'Staging'), deploy(2, 'models:/fraud/Staging'), deleted(2.5), ...later])).toEqual([]);
    expect(replayed([...approved(), deploy(2, 'models:/fraud/latest'), deploy(2.5, 'models:/fraud/3'), ...later])).toEqual([]);
    // Another endpoint's deletion ends nothing.
    const kept = replayed([...approved(), deploy(2, 'models:/fraud/latest'), deploy(2.1, 'models:/fraud/3', 'kubeflow-user-alice/other'), ...later]);
    expect(kept.map((a) => a.details.resolved_version)).toEqual(['6']);
  });
});

/** MLflow's model_version_tag.set webhook (fixtures/mlflow/model_version_tag.set.json's envelope) of an approval tag. */
function tagged(h: number, v: string, key: string, value: string): NormalizedEvent {
  const timestamp = `${at(T0 + h * HOUR).replace('Z', '')}000+00:00`;
  const [e] = normalizeMlflow({ entity: 'model_version_tag', action: 'set', timestamp, data: { name: 'fraud', version: v, key, value } }, { channel: 'mlflow.webhook', receivedTime: timestamp, keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: `d-${++seq}` } }).events;
  return e!;
}

const renamed = renamedByAuditor;

describe('a rejection of the version a live stage deployment serves', () => {
  it('judges the deployment again, once per deployment and version: reason rejected, the rejection as changed_by', () => {
    // v3 approved by its move to Production, served by models:/fraud/Production; then its approval is revoked by tag.
    const dep = deploy(2, 'models:/fraud/Production');
    const reject = tagged(3, '3', 'approval_status', 'rejected');
    const events = [created(0, '3'), transition(1, '3', 'None', 'Production'), dep, reject];
    for (const alerts of [replayed(events), arriving(events)]) {
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.details).toMatchObject({ reason: 'rejected', resolved_from: 'stage:Production', resolved_version: '3', deployment_event: dep.id, changed_by: reject.id });
      expect(alerts[0]!.evidence).toContain(reject.id);
      expect(alerts[0]!.time).toBe(reject.time);
    }
    // Rejected again (the tag written once more): the same deployment and version, no second alert.
    expect(replayed([...events, tagged(4, '3', 'approval_status', 'approved'), tagged(5, '3', 'approval_status', 'rejected')])).toHaveLength(1);
    // A rejection of a version the deployment does not serve changes nothing it serves.
    expect(replayed([created(0, '3'), transition(1, '3', 'None', 'Production'), created(1.5, '4'), dep, tagged(3, '4', 'approval_status', 'rejected')])).toEqual([]);
  });
});

describe('a rename of the model a live stage deployment names', () => {
  const approved = () => [created(0, '3'), transition(1, '3', 'None', 'Production')];

  it('renamed away: MLflow no longer resolves models:/fraud/Production, said once (reason model_renamed); the watch does not follow to the new name', () => {
    const dep = deploy(2, 'models:/fraud/Production');
    const away = renamed(3, 'fraud', 'fraud-v2');
    const alerts = replayed([...approved(), dep, away]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details).toMatchObject({ reason: 'model_renamed', model: 'fraud', renamed_to: 'fraud-v2', loaded_version: '3', deployment_event: dep.id, changed_by: away.id, unresolved: 'model fraud renamed to fraud-v2: MLflow no longer resolves models:/fraud/Production' });
    expect(alerts[0]!.evidence).toEqual([dep.id, away.id]);
    expect(alerts[0]!.summary).toContain('Redeploy it as models:/fraud-v2/Production');
    // An unapproved version of the renamed model moved to Production is not what models:/fraud/Production loads.
    const later = [...approved(), dep, away, { ...created(4, '5'), ml: { model: { name: 'fraud-v2', version: '5' } }, resource: { type: 'model_version', name: 'fraud-v2', version: '5' } } as NormalizedEvent];
    expect(replayed(later).map((a) => a.details.reason)).toEqual(['model_renamed']);
  });

  it('another model renamed onto the name: its versions are what the deployment loads, judged afresh (its v3 is not the old v3)', () => {
    // A second model, `shadow`, whose never-approved v3 (other weights) is in Staging.
    const shadowV3 = { ...created(0.5, '3'), id: 'shadow-v3', ml: { model: { name: 'shadow', version: '3', artifact_uri: 's3://evil/3' } }, resource: { type: 'model_version', name: 'shadow', version: '3' } } as NormalizedEvent;
    const shadowProd = { ...transition(0.6, '3', 'None', 'Staging'), id: 'shadow-staging' } as NormalizedEvent;
    shadowProd.ml = { model: { ...shadowProd.ml!.model!, name: 'shadow' } };
    shadowProd.resource = { ...shadowProd.resource!, name: 'shadow', id: 'shadow/3' };
    const onto = renamed(4, 'shadow', 'fraud');
    // fraud v3 approved (tag) and served from Staging; fraud renamed away, shadow renamed onto the name: its v3 is served now.
    const staged = deploy(2, 'models:/fraud/Staging');
    const got = replayed([created(0, '3'), transition(1, '3', 'None', 'Staging'), tagged(1.2, '3', 'approval_status', 'approved'), shadowV3, shadowProd, staged, renamed(3, 'fraud', 'fraud-old'), onto]);
    expect(got.map((a) => a.details.reason)).toEqual(['model_renamed', 'never_approved']);
    expect(got[1]!.details).toMatchObject({ resolved_version: '3', changed_by: onto.id, deployment_event: staged.id });
  });
});

describe('a deletion of the model a live stage deployment names', () => {
  it('a model created again under the name is judged afresh: its v3 is not the deleted model\'s approved v3', () => {
    const staged = deploy(2, 'models:/fraud/Staging');
    const modelDeleted = ev({ time: at(T0 + 3 * HOUR), platform: 'mlflow', stage: 'registry', action: 'registered_model.delete', operation: 'registered-models/delete', resource: { type: 'registered_model', id: 'fraud', name: 'fraud' } });
    const again = ev({ time: at(T0 + 4 * HOUR), platform: 'mlflow', stage: 'registry', action: 'model_version.create', operation: 'model-versions/create', resource: { type: 'model_version', name: 'fraud', version: '3' }, ml: { model: { name: 'fraud', version: '3', artifact_uri: 's3://other/3' } } });
    // The auditor's id of a transition names the version and stages, not the model's creation: another id for this one.
    const toStaging = { ...transition(5, '3', 'None', 'Staging'), id: 'fraud-v3-staging-again' };
    const alerts = replayed([created(0, '3'), transition(1, '3', 'None', 'Staging'), tagged(1.2, '3', 'approval_status', 'approved'), staged, modelDeleted, again, toStaging]);
    expect(alerts.map((a) => a.details)).toMatchObject([{ reason: 'never_approved', resolved_version: '3', deployment_event: staged.id }]);
  });
});

describe('registry.version_rollback of a live stage deployment by a stage change', () => {
  const ROLLBACK = 'registry.version_rollback';
  const rollbacks = (events: NormalizedEvent[]) => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === ROLLBACK);
  /** The registry auditor's report of version `v` deleted between two polls. */
  function versionDeleted(h: number, v: string, stage: string): NormalizedEvent {
    const t = T0 + h * HOUR;
    const snap: VersionSnap = { name: 'fraud', version: v, current_stage: stage, status: 'READY', user_id: 'alice', source: `s3://models/fraud/${v}`, run_id: `r${v}`, description: '', tags: {}, aliases: [], creation_timestamp: T0 - HOUR, last_updated_timestamp: t - HOUR };
    const differ = registryDiffer({ approval: ApprovalConfig.parse({}), ownDigestTag: () => undefined, receivedTime: at(t + 60_000) });
    const out = differ.diffVersions(new Map([[`fraud/${v}`, snap]]), new Map(), new Set(), t);
    expect(out.map((e) => e.action)).toEqual(['model_version.delete']);
    return out[0]!;
  }
  // v3 then v5 promoted to Production (v3 archived with it): models:/fraud/Production serves v5.
  const history = () => [created(0, '3'), transition(1, '3', 'None', 'Production'), created(2, '5'), transition(3, '5', 'None', 'Production'), transition(3, '3', 'Production', 'Archived')];

  it('the newer version archived and the older one moved back into Production: one rollback, v5 → v3, via stage_transition', () => {
    const dep = deploy(4, 'models:/fraud/Production');
    const back = transition(5, '3', 'Archived', 'Production');
    const archived = transition(5, '5', 'Production', 'Archived');
    for (const events of [[...history(), dep, archived, back], [...history(), dep, back, archived]]) {
      const alerts = rollbacks(events);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.details).toMatchObject({ model: 'fraud', from_version: '5', to_version: '3', via: 'stage_transition', resolved_from: 'stage:Production', deployment_event: dep.id });
      expect([back.id, archived.id]).toContain(alerts[0]!.details.changed_by);
      expect(alerts[0]!.entity).toMatchObject({ type: 'endpoint', id: EP });
    }
    // An older version moved into Production beside the newer one changes nothing: Production loads the highest.
    expect(rollbacks([...history(), dep, back])).toEqual([]);
    // A newer version promoted is no rollback.
    expect(rollbacks([...history(), dep, created(5, '6'), transition(6, '6', 'None', 'Production')])).toEqual([]);
  });

  it('`latest`: deleting the newest version makes it load the one before (via version_deleted); a direct redeploy compares with what the stage served', () => {
    const dep = deploy(4, 'models:/fraud/latest');
    const gone = versionDeleted(5, '5', 'Production');
    expect(rollbacks([...history(), dep, gone]).map((a) => a.details)).toMatchObject([{ from_version: '5', to_version: '3', via: 'version_deleted', resolved_from: 'latest', changed_by: gone.id }]);
    // After the stage moved it to v7, a redeploy of v6 is a rollback from v7 (not from v5, what it was deployed as).
    const later = [...history(), dep, created(5, '7'), deploy(6, 'models:/fraud/6')];
    expect(rollbacks(later).map((a) => a.details)).toMatchObject([{ from_version: '7', to_version: '6' }]);
    // Renamed away and another model renamed onto the name: its numbers are not compared with the old model's.
    const otherV1 = { ...created(0.5, '1'), id: 'other-v1', ml: { model: { name: 'other', version: '1', artifact_uri: 's3://models/other/1' } }, resource: { type: 'model_version', name: 'other', version: '1' } } as NormalizedEvent;
    const otherProd = { ...transition(0.6, '1', 'None', 'Production'), id: 'other-prod' } as NormalizedEvent;
    otherProd.ml = { model: { ...otherProd.ml!.model!, name: 'other' } };
    otherProd.resource = { ...otherProd.resource!, name: 'other', id: 'other/1' };
    expect(rollbacks([otherV1, otherProd, ...history(), deploy(4, 'models:/fraud/Production'), renamed(5, 'fraud', 'fraud-old'), renamed(6, 'other', 'fraud')])).toEqual([]);
  });

  it('names swapped (fraud→tmp, b→fraud, tmp→b): each deployment serves the other model from then on, and a stage change of it is compared with what that model served', () => {
    /** `e` as an event of model `b`. */
    const asB = (e: NormalizedEvent, id: string) => ({ ...e, id, ml: { model: { ...e.ml!.model!, name: 'b', ...(e.ml?.model?.artifact_uri ? { artifact_uri: e.ml.model.artifact_uri.replace('/fraud/', '/b/') } : {}) } }, resource: { ...e.resource!, name: 'b', id: `b/${e.resource?.version ?? ''}` } }) as NormalizedEvent;
    const b = [asB(created(0.5, '7'), 'b-v7'), asB(transition(0.6, '7', 'None', 'Production'), 'b-v7-prod')];
    const deps = [deploy(4, 'models:/fraud/Production'), deploy(4, 'models:/b/Production', 'kubeflow-user-alice/b')];
    const swap = [renamed(5, 'fraud', 'tmp'), renamed(5.1, 'b', 'fraud'), renamed(5.2, 'tmp', 'b')];
    // The old fraud, now named b, rolled back from v5 to v3: what models:/b/Production loads.
    const back = [asB(transition(6, '5', 'Production', 'Archived'), 'b-v5-archived'), asB(transition(6.1, '3', 'Archived', 'Production'), 'b-v3-back')];
    const alerts = rollbacks([...history(), ...b, ...deps, ...swap, ...back]);
    expect(alerts.map((a) => [a.entity.id, a.details.model, a.details.from_version, a.details.to_version, a.details.changed_by])).toEqual([['kubeflow-user-alice/b', 'b', '5', '3', 'b-v3-back']]);
  });

  it('a model of the same name on another MLflow server renamed or deleted leaves what the deployment serves as it was', () => {
    const dep = deploy(4, 'models:/fraud/Production');
    const rollback = [transition(6, '5', 'Production', 'Archived'), transition(6.1, '3', 'Archived', 'Production')];
    const elsewhere = [
      fromServer(renamed(5, 'fraud', 'fraud-old'), 'other'),
      fromServer(ev({ time: at(T0 + 5 * HOUR), platform: 'mlflow', stage: 'registry', action: 'registered_model.delete', operation: 'registered-models/delete', resource: { type: 'registered_model', id: 'fraud', name: 'fraud' } }), 'other'),
    ];
    // The deployment loads the default server's fraud: another server's fraud going does not forget that it served v5.
    for (const gone of elsewhere) expect(rollbacks([...history(), dep, gone, ...rollback]).map((a) => [a.details.from_version, a.details.to_version])).toEqual([['5', '3']]);
  });
});
