import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../bridge/replay.js';
import { ApprovalConfig, MlflowConfig } from '../../connectors/mlflow/config.js';
import { registryDiffer } from '../../connectors/mlflow/diff.js';
import { normalizeMlflow } from '../../connectors/mlflow/normalize.js';
import { RulesConfig } from '../../core/rules/engine.js';
import { modelRefOf } from '../../core/rules/facts.js';
import { resolvesAtLoad } from '../../core/rules/kinds/shared.js';
import type { Alert, NormalizedEvent } from '../../core/schema/index.js';
import { HOUR, T0, actors, at, ev } from './events.js';
import { renamedByAuditor } from './mlflow-rename.js';

/**
 * A live KServe deployment of `models:/fraud@<alias>` loads the version holding the alias whenever its predictor starts
 * (MLflow resolves the alias at load time): a rename of the model or a move of the alias changes what it serves with no
 * deployment event, as a stage URI's transition does. Versions, tags and aliases arrive as MLflow's webhooks deliver
 * them (the fixtures' envelopes), a rename as the registry auditor reports it (webhooks send none).
 */

const EP = 'kubeflow-user-alice/fraud';
let seq = 0;

function webhook(h: number, entity: string, action: string, data: Record<string, unknown>): NormalizedEvent {
  const timestamp = `${at(T0 + h * HOUR).replace('Z', '')}000+00:00`;
  const [e] = normalizeMlflow({ entity, action, timestamp, data }, { channel: 'mlflow.webhook', receivedTime: timestamp, keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: `d-${++seq}` } }).events;
  return e!;
}
/** model_version.created (fixtures/mlflow/model_version.created.json's envelope). */
const created = (h: number, v: string, name = 'fraud') => webhook(h, 'model_version', 'created', { name, version: v, source: `s3://models/${name}/${v}`, run_id: `r${name}${v}`, tags: {}, description: null });
/** model_version_tag.set of the approval tag (fixtures/mlflow/model_version_tag.set.json). */
const tagged = (h: number, v: string, value: string) => webhook(h, 'model_version_tag', 'set', { name: 'fraud', version: v, key: 'approval_status', value });
/** model_version_alias.created: the alias set on (moved to) version `v` (fixtures/mlflow/model_version_alias.created.json). */
const aliased = (h: number, v: string, alias: string, name = 'fraud') => webhook(h, 'model_version_alias', 'created', { name, alias, version: v });

const renamed = renamedByAuditor;

/** The registry auditor's report of `alias` moved from version `was` to `now` between two polls (diffModels). */
function auditedMove(h: number, alias: string, was: string, now: string): NormalizedEvent {
  const t = T0 + h * HOUR;
  const model = (v: string) => ({ name: 'fraud', description: '', tags: {}, aliases: { [alias]: v }, creation_timestamp: T0 - 2 * HOUR, last_updated_timestamp: t, prompt: false });
  const differ = registryDiffer({ approval: ApprovalConfig.parse({}), ownDigestTag: () => undefined, receivedTime: at(t + 60_000) });
  const out = differ.diffModels(new Map([['fraud', model(was)]]), new Map([['fraud', model(now)]]), t + 60_000);
  expect(out.map((e) => e.action)).toEqual(['model_version.alias_set']);
  return out[0]!;
}

/** KServe serving the MLflow model by registry URI (the Kubeflow connector's InferenceService patch). */
function deploy(h: number, modelUri: string, ep = EP): NormalizedEvent {
  return ev({
    time: at(T0 + h * HOUR), platform: 'kubeflow', stage: 'serving', action: 'endpoint.update', operation: 'patch inferenceservices', actor: actors.mallory,
    resource: { type: 'inferenceservices', name: ep.split('/')[1]!, namespace: ep.split('/')[0]! }, ml: { deployment: { endpoint: ep, model_uri: modelUri } },
  });
}

const alertsOf = (rule: string, events: NormalizedEvent[]): Alert[] => replayEvents(events, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === rule);
const DEPLOY = 'registry.unapproved_deployment';
const ROLLBACK = 'registry.version_rollback';
/** v3 and v5, both approved by tag. */
const approved = () => [created(0, '3'), tagged(0.5, '3', 'approved'), created(1, '5'), tagged(1.5, '5', 'approved')];

describe('a rename of the model a live alias deployment names', () => {
  it('renamed away: MLflow no longer resolves models:/fraud@<alias>, said once (reason model_renamed), as for a stage URI', () => {
    for (const alias of ['canary', 'champion']) {
      const dep = deploy(3, `models:/fraud@${alias}`);
      const away = renamed(4, 'fraud', 'fraud-v2');
      const alerts = alertsOf(DEPLOY, [...approved(), aliased(2, '5', alias), dep, away]);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.details).toMatchObject({
        reason: 'model_renamed', model: 'fraud', renamed_to: 'fraud-v2', loaded_version: '5', resolved_from: `alias:${alias}`, deployment_event: dep.id, changed_by: away.id,
        unresolved: `model fraud renamed to fraud-v2: MLflow no longer resolves models:/fraud@${alias}`,
      });
      expect(alerts[0]!.entity).toMatchObject({ type: 'endpoint', id: EP });
      expect(alerts[0]!.summary).toContain(`Redeploy it as models:/fraud-v2@${alias}`);
    }
  });

  it('another model renamed onto the name: the version holding the alias in it is what the deployment loads, judged afresh', () => {
    const dep = deploy(3, 'models:/fraud@canary');
    const onto = renamed(5, 'shadow', 'fraud');
    // shadow's never-approved v3 (other weights than fraud's approved v3) holds canary.
    const alerts = alertsOf(DEPLOY, [...approved(), aliased(2, '3', 'canary'), created(0.2, '3', 'shadow'), aliased(0.3, '3', 'canary', 'shadow'), dep, renamed(4, 'fraud', 'fraud-old'), onto]);
    expect(alerts.map((a) => a.details.reason)).toEqual(['model_renamed', 'never_approved']);
    expect(alerts[1]!.details).toMatchObject({ changed_by: onto.id, deployment_event: dep.id, known_versions: ['mlflow|fraud|3'] });
  });
});

describe('only a models:/ alias is resolved at load time', () => {
  it('a KServe models:/fraud@canary is; a Vertex model@alias names the version it was deployed with', () => {
    const kserve = deploy(1, 'models:/fraud@canary');
    expect(resolvesAtLoad(kserve, modelRefOf(kserve, RulesConfig.parse({}))!)).toBe(true);
    const vertex = ev({
      time: at(T0), platform: 'vertex', stage: 'serving', action: 'endpoint.deploy', operation: 'google.cloud.aiplatform.v1.EndpointService.DeployModel', actor: actors.mallory,
      resource: { type: 'endpoint', name: 'projects/p/locations/us-central1/endpoints/9' }, ml: { deployment: { endpoint: 'projects/p/locations/us-central1/endpoints/9', model_uri: 'projects/p/locations/us-central1/models/fraud@canary' } },
    });
    const ref = modelRefOf(vertex, RulesConfig.parse({}))!;
    expect(ref.alias).toBe('canary');
    expect(resolvesAtLoad(vertex, ref)).toBe(false);
  });
});

describe('an alias move under a live alias deployment', () => {
  it('a non-approval alias moved onto a version never approved: the deployment now serves it, alerted once, dated at the move', () => {
    const dep = deploy(3, 'models:/fraud@canary');
    const move = aliased(5, '7', 'canary');
    const events = [...approved(), aliased(2, '5', 'canary'), dep, created(4, '7'), move];
    const alerts = alertsOf(DEPLOY, events);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details).toMatchObject({ reason: 'never_approved', known_versions: ['mlflow|fraud|7'], deployment_event: dep.id, changed_by: move.id });
    expect(alerts[0]!.evidence).toEqual([dep.id, move.id]);
    expect(alerts[0]!.time).toBe(move.time);
    // Set on it again: the same deployment and version, no second alert; moved onto an approved version: none.
    expect(alertsOf(DEPLOY, [...events, aliased(6, '5', 'canary'), aliased(7, '7', 'canary')])).toHaveLength(1);
    expect(alertsOf(DEPLOY, [...approved(), aliased(2, '5', 'canary'), dep, aliased(5, '3', 'canary')])).toEqual([]);
    // The same move as the registry auditor reports it (a server polled, without webhooks).
    const audited = auditedMove(5, 'canary', '5', '7');
    expect(alertsOf(DEPLOY, [...approved(), aliased(2, '5', 'canary'), dep, created(4, '7'), audited]).map((a) => a.details)).toMatchObject([{ reason: 'never_approved', changed_by: audited.id }]);
  });

  it('a rejection of the version the alias names judges the deployment again (reason rejected), once', () => {
    const dep = deploy(3, 'models:/fraud@canary');
    const reject = tagged(4, '5', 'rejected');
    const events = [...approved(), aliased(2, '5', 'canary'), dep, reject];
    const alerts = alertsOf(DEPLOY, events);
    expect(alerts.map((a) => a.details)).toMatchObject([{ reason: 'rejected', deployment_event: dep.id, changed_by: reject.id }]);
    expect(alertsOf(DEPLOY, [...events, tagged(5, '5', 'approved'), tagged(6, '5', 'rejected')])).toHaveLength(1);
  });

  it('an approval alias moved onto a rejected version is alias.ts\'s finding (entity the version), with no second one on the endpoint', () => {
    const events = [...approved(), aliased(2, '5', 'champion'), deploy(3, 'models:/fraud@champion'), created(4, '7'), tagged(4.5, '7', 'rejected'), aliased(5, '7', 'champion')];
    const alerts = alertsOf(DEPLOY, events);
    expect(alerts.map((a) => [a.entity.type, a.details.reason])).toEqual([['model_version', 'rejected']]);
  });

  it('moved back to an older version: registry.version_rollback of the endpoint (via alias_moved); an approval alias only on the alias', () => {
    const dep = deploy(3, 'models:/fraud@canary');
    const back = aliased(4, '3', 'canary');
    const alerts = alertsOf(ROLLBACK, [...approved(), aliased(2, '5', 'canary'), dep, back]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.entity).toMatchObject({ type: 'endpoint', id: EP });
    expect(alerts[0]!.details).toMatchObject({ model: 'fraud', from_version: '5', to_version: '3', via: 'alias_moved', resolved_from: 'alias:canary', resolved_via: 'alias', changed_by: back.id, deployment_event: dep.id });
    // champion: aliasRollback's finding on fraud@champion, said once.
    const champion = alertsOf(ROLLBACK, [...approved(), aliased(2, '5', 'champion'), deploy(3, 'models:/fraud@champion'), aliased(4, '3', 'champion')]);
    expect(champion.map((a) => [a.entity.type, a.entity.id])).toEqual([['model_alias', 'fraud@champion']]);
  });
});

describe('the version a live stage or alias deployment serves follows the registry', () => {
  it('a direct redeploy is compared with what the alias made the endpoint serve (details.resolved_via alias)', () => {
    const move = aliased(5, '7', 'champion');
    const events = [...approved(), aliased(2, '3', 'champion'), deploy(3, 'models:/fraud@champion'), created(4, '7'), tagged(4.5, '7', 'approved'), move, deploy(6, 'models:/fraud/5')];
    const alerts = alertsOf(ROLLBACK, events);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.details).toMatchObject({ model: 'fraud', from_version: '7', to_version: '5', resolved_via: 'alias', deployed_version: '3', changed_by: move.id });
    expect(alerts[0]!.evidence).toEqual([move.id, events.at(-1)!.id]);
  });

  it('by stage (`latest` too): details.resolved_via stage, on the stage change\'s rollback and on a redeploy\'s', () => {
    const v8 = created(6, '8');
    const events = [...approved(), created(4, '7'), tagged(4.5, '7', 'approved'), deploy(5, 'models:/fraud/latest'), v8, tagged(6.5, '8', 'approved'), deploy(7, 'models:/fraud/7')];
    const alerts = alertsOf(ROLLBACK, events);
    expect(alerts.map((a) => a.details)).toMatchObject([{ from_version: '8', to_version: '7', resolved_via: 'stage', deployed_version: '7', changed_by: v8.id }]);
    // Deleting v8 makes latest fall back: the stage change's own rollback says it too.
    const gone = { ...v8, id: 'v8-deleted', action: 'model_version.delete', operation: 'model-versions/delete', time: at(T0 + 8 * HOUR) } as NormalizedEvent;
    const back = alertsOf(ROLLBACK, [...approved(), created(4, '7'), deploy(5, 'models:/fraud/latest'), v8, gone]);
    expect(back.map((a) => a.details)).toMatchObject([{ from_version: '8', to_version: '7', via: 'version_deleted', resolved_via: 'stage', resolved_from: 'latest' }]);
  });
});

describe('one registry event under many live deployments of one alias or stage', () => {
  /** `n` InferenceServices of `uri`, in their own namespaces, deployed 3 h after T0. */
  const fleet = (n: number, uri: string) => Array.from({ length: n }, (_, i) => deploy(3, uri, `team-${String(i).padStart(3, '0')}/fraud`));

  it('500 deployments of models:/fraud@canary, the alias moved onto a version never approved: one alert of the move, naming them', () => {
    const deps = fleet(500, 'models:/fraud@canary');
    const move = aliased(5, '7', 'canary');
    const alerts = alertsOf(DEPLOY, [...approved(), aliased(2, '5', 'canary'), ...deps, created(4, '7'), move]);
    expect(alerts).toHaveLength(1);
    const [a] = alerts;
    expect(a!.entity).toMatchObject({ type: 'model_alias', id: 'fraud@canary', platform: 'mlflow' });
    // The fields a single deployment's alert has (its first deployment's), and the deployments it stands for.
    expect(a!.details).toMatchObject({ reason: 'never_approved', known_versions: ['mlflow|fraud|7'], deployment_event: deps[0]!.id, changed_by: move.id, deployments_count: 500 });
    expect(a!.details.deployments).toHaveLength(100);
    expect((a!.details.deployments as string[]).slice(0, 2)).toEqual(['team-000/fraud', 'team-001/fraud']);
    // Each deployment's event up to the cap, the move last.
    expect(a!.evidence).toEqual([...deps.slice(0, 19).map((d) => d.id), move.id]);
    expect(a!.time).toBe(move.time);
    expect(a!.summary).toContain('and so do 499 other live deployments of models:/fraud@canary (team-001/fraud, team-002/fraud');
    // Set on it again: no second alert (each deployment judged that version once).
    expect(alertsOf(DEPLOY, [...approved(), aliased(2, '5', 'canary'), ...deps, created(4, '7'), move, aliased(6, '5', 'canary'), aliased(7, '7', 'canary')])).toHaveLength(1);
  });

  it('a rejection of the version the alias names: one alert for the deployments serving it', () => {
    const deps = fleet(3, 'models:/fraud@canary');
    const reject = tagged(4, '5', 'rejected');
    const alerts = alertsOf(DEPLOY, [...approved(), aliased(2, '5', 'canary'), ...deps, reject]);
    expect(alerts.map((a) => [a.entity.id, a.details.reason, a.details.deployments_count])).toEqual([['fraud@canary', 'rejected', 3]]);
    // The rejection is the registry event that changed them all: last.
    expect(alerts[0]!.evidence).toEqual([...deps.map((d) => d.id), reject.id]);
  });

  it('moved back: one registry.version_rollback (via alias_moved) listing the deployments rolled back', () => {
    const deps = fleet(3, 'models:/fraud@canary');
    const back = aliased(4, '3', 'canary');
    const alerts = alertsOf(ROLLBACK, [...approved(), aliased(2, '5', 'canary'), ...deps, back]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.entity).toMatchObject({ type: 'model_alias', id: 'fraud@canary' });
    expect(alerts[0]!.details).toMatchObject({ model: 'fraud', from_version: '5', to_version: '3', via: 'alias_moved', changed_by: back.id, deployment_event: deps[0]!.id, deployments_count: 3 });
    expect(alerts[0]!.details.deployments).toEqual(deps.map((d) => d.ml!.deployment!.endpoint));
    expect(alerts[0]!.evidence).toEqual([...deps.map((d) => d.id), back.id]);
  });

  it('a new version under models:/fraud/latest deployments: one alert on the stage; renamed away: one model_renamed alert', () => {
    const deps = fleet(4, 'models:/fraud/latest');
    const v9 = created(5, '9');
    const alerts = alertsOf(DEPLOY, [...approved(), ...deps, v9]);
    expect(alerts.map((a) => [a.entity.type, a.entity.id, a.details.reason, a.details.deployments_count])).toEqual([['model_stage', 'fraud/latest', 'never_approved', 4]]);
    const away = renamed(6, 'fraud', 'fraud-v2');
    const gone = alertsOf(DEPLOY, [...approved(), ...deps, away]);
    expect(gone.map((a) => [a.entity.id, a.details.reason, a.details.renamed_to, a.details.deployments_count])).toEqual([['fraud/latest', 'model_renamed', 'fraud-v2', 4]]);
  });

  it('deployments following another alias of the model are their own alert', () => {
    const canary = fleet(2, 'models:/fraud@canary');
    const shadow = [deploy(3, 'models:/fraud@shadow', 'other/a'), deploy(3, 'models:/fraud@shadow', 'other/b')];
    const events = [...approved(), aliased(2, '5', 'canary'), aliased(2, '5', 'shadow'), ...canary, ...shadow, created(4, '7'), aliased(5, '7', 'canary'), aliased(5.5, '7', 'shadow')];
    expect(alertsOf(DEPLOY, events).map((a) => [a.entity.id, a.details.deployments])).toEqual([
      ['fraud@canary', canary.map((d) => d.ml!.deployment!.endpoint)],
      ['fraud@shadow', ['other/a', 'other/b']],
    ]);
  });
});

describe('two live deployments of one alias, one registry event', () => {
  it('read as one alert naming the other deployment in the singular; a repeat of the move within suppression is held', () => {
    const a = deploy(3, 'models:/fraud@canary', 'team-a/fraud');
    const b = deploy(3, 'models:/fraud@canary', 'team-b/fraud');
    const back = aliased(4, '3', 'canary');
    const events = [...approved(), aliased(2, '5', 'canary'), a, b, back];
    const alerts = alertsOf(ROLLBACK, events);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.summary).toMatch(/^team-a\/fraud loads models:\/fraud@canary: .* — and so does 1 other live deployment of models:\/fraud@canary \(team-b\/fraud\)$/);
    expect(alerts[0]!.details).toMatchObject({ from_version: '5', to_version: '3', deployments: ['team-a/fraud', 'team-b/fraud'], deployments_count: 2 });
    // Forward and back again an hour later: the same move of the same alias, suppressed as any repeat.
    expect(alertsOf(ROLLBACK, [...events, aliased(4.5, '5', 'canary'), aliased(5, '3', 'canary')])).toHaveLength(1);
  });
});
