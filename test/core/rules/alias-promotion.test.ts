import { describe, expect, it } from 'vitest';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { fromServer, type NormalizedEvent } from '../../../core/schema/index.js';
import { alertsOf, champion, releases, version, webhookEvents, type Delivery } from './mlflow-deliveries.js';

/**
 * Moving MLflow's approval alias is the deployment: serving loads `models:/fraud@champion`. These are the
 * bodies MLflow 3.x webhooks send (`_send_webhook_request` envelope), normalized as the webhook route does.
 */
const deliveries = (...bodies: Delivery[]): NormalizedEvent[] => webhookEvents(undefined, ...bodies);

describe('the champion alias moved onto a rejected version', () => {
  it('is an unapproved deployment naming the alias and the versions it moved between', () => {
    const evs = deliveries(
      ...releases(),
      version('2026-11-24T09:00:00.000000+00:00', '3'),
      ['model_version_tag', 'set', '2026-11-24T09:30:00.000000+00:00', { name: 'fraud', version: '3', key: 'approval_status', value: 'rejected' }],
      champion('2026-11-24T23:10:00.000000+00:00', '3'),
    );
    const alerts = alertsOf(evs, 'registry.unapproved_deployment');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.entity).toMatchObject({ type: 'model_version', id: 'fraud/3' });
    expect(alerts[0]!.evidence).toEqual([evs[6]!.id, evs[7]!.id]);
    expect(alerts[0]!.details).toMatchObject({ model: 'fraud', alias: 'champion', from_version: '2', to_version: '3', reason: 'rejected', rejected_at: '2026-11-24T09:30:00.000Z' });
  });

  it('is one too when the rejection was set back to pending first: a review asked for again decides nothing', () => {
    const evs = deliveries(
      ...releases(),
      version('2026-11-24T09:00:00.000000+00:00', '3'),
      ['model_version_tag', 'set', '2026-11-24T09:30:00.000000+00:00', { name: 'fraud', version: '3', key: 'approval_status', value: 'rejected' }],
      ['model_version_tag', 'set', '2026-11-24T23:09:00.000000+00:00', { name: 'fraud', version: '3', key: 'approval_status', value: 'pending' }],
      champion('2026-11-24T23:10:00.000000+00:00', '3'),
    );
    const alerts = alertsOf(evs, 'registry.unapproved_deployment');
    expect(alerts.map((a) => [a.entity.id, a.details.reason, a.details.rejected_at, a.evidence])).toEqual([['fraud/3', 'rejected', '2026-11-24T09:30:00.000Z', [evs[6]!.id, evs[8]!.id]]]);
    // A version only ever pending (never rejected) made champion is the approval itself, as before.
    const fresh = deliveries(
      ...releases(),
      version('2026-11-24T09:00:00.000000+00:00', '3'),
      ['model_version_tag', 'set', '2026-11-24T09:30:00.000000+00:00', { name: 'fraud', version: '3', key: 'approval_status', value: 'pending' }],
      champion('2026-11-24T23:10:00.000000+00:00', '3'),
    );
    expect(alertsOf(fresh, 'registry.unapproved_deployment')).toEqual([]);
  });

  it('is none when the version was approved again after its rejection', () => {
    const evs = deliveries(
      ...releases(),
      version('2026-11-24T09:00:00.000000+00:00', '3'),
      ['model_version_tag', 'set', '2026-11-24T09:30:00.000000+00:00', { name: 'fraud', version: '3', key: 'approval_status', value: 'rejected' }],
      ['model_version_tag', 'set', '2026-11-24T15:30:00.000000+00:00', { name: 'fraud', version: '3', key: 'approval_status', value: 'approved' }],
      champion('2026-11-24T23:10:00.000000+00:00', '3'),
    );
    expect(alertsOf(evs, 'registry.unapproved_deployment')).toEqual([]);
  });
});

describe('the champion alias moved back to an older version', () => {
  it('is a rollback of the alias, from and to named', () => {
    const evs = deliveries(...releases(), champion('2026-11-24T23:10:00.000000+00:00', '1'));
    const alerts = alertsOf(evs, 'registry.version_rollback');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.entity).toMatchObject({ type: 'model_alias', id: 'fraud@champion' });
    expect(alerts[0]!.evidence).toEqual([evs[4]!.id, evs[5]!.id]);
    expect(alerts[0]!.details).toMatchObject({ model: 'fraud', alias: 'champion', from_version: '2', to_version: '1' });
  });

  it('also when the alias is deleted first (the alias webhook names no version)', () => {
    const evs = deliveries(
      ...releases(),
      ['model_version_alias', 'deleted', '2026-11-24T23:09:00.000000+00:00', { name: 'fraud', alias: 'champion' }],
      champion('2026-11-24T23:10:00.000000+00:00', '1'),
    );
    expect(alertsOf(evs, 'registry.version_rollback').map((a) => a.details)).toEqual([expect.objectContaining({ from_version: '2', to_version: '1' })]);
  });

  it('also after the model was renamed (the registry auditor\'s rename: aliases and versions go with the model), and across a swap of two names', () => {
    /** A rename as the MLflow registry auditor reports it (connectors/mlflow/diff.ts). */
    const rename = (time: string, from: string, to: string): NormalizedEvent => ({
      schema_version: '1', id: `rename-${from}-${to}-${time}`, time, received_time: time, platform: 'mlflow', channel: 'mlflow.poll', service: 'mlflow',
      stage: 'registry', action: 'registered_model.rename', operation: 'registered-models/rename', outcome: 'success',
      resource: { type: 'registered_model', id: to, name: to }, details: { old_name: from, new_name: to },
    });
    const renamed = [...deliveries(...releases()), rename('2026-11-23T08:00:00.000Z', 'fraud', 'fraud-prod'),
      ...deliveries(['model_version_alias', 'created', '2026-11-24T23:10:00.000000+00:00', { name: 'fraud-prod', alias: 'champion', version: '1' }])];
    expect(alertsOf(renamed, 'registry.version_rollback').map((a) => [a.entity.id, a.details.from_version, a.details.to_version])).toEqual([['fraud-prod@champion', '2', '1']]);
    // fraud (champion v2) and fraud-b (champion v7) swap names: each keeps its own history under the other's name.
    const swapped = [
      ...deliveries(...releases(),
        ['registered_model', 'created', '2026-11-20T11:00:00.000000+00:00', { name: 'fraud-b', tags: {}, description: null }],
        ['model_version_alias', 'created', '2026-11-20T11:02:00.000000+00:00', { name: 'fraud-b', alias: 'champion', version: '7' }]),
      // Between two polls: the auditor reports the pair, each rename taking the name the other leaves.
      rename('2026-11-23T08:00:00.000Z', 'fraud', 'fraud-b'), rename('2026-11-23T08:00:00.000Z', 'fraud-b', 'fraud'),
      ...deliveries(
        ['model_version_alias', 'created', '2026-11-24T23:10:00.000000+00:00', { name: 'fraud', alias: 'champion', version: '6' }],
        ['model_version_alias', 'created', '2026-11-24T23:11:00.000000+00:00', { name: 'fraud-b', alias: 'champion', version: '3' }]),
    ];
    expect(alertsOf(swapped, 'registry.version_rollback').map((a) => [a.entity.id, a.details.from_version, a.details.to_version])).toEqual([['fraud@champion', '7', '6']]);
  });

  it('is none for promotions forward, another alias, or a model deleted and created again', () => {
    const forward = deliveries(...releases(), version('2026-11-24T09:00:00.000000+00:00', '3'), champion('2026-11-24T09:10:00.000000+00:00', '3'));
    const other = deliveries(...releases(), ['model_version_alias', 'created', '2026-11-24T23:10:00.000000+00:00', { name: 'fraud', alias: 'shadow', version: '1' }]);
    const recreated = deliveries(
      ...releases(),
      ['registered_model', 'created', '2026-11-25T10:00:00.000000+00:00', { name: 'fraud', tags: {}, description: null }],
      version('2026-11-25T10:01:00.000000+00:00', '1'),
      champion('2026-11-25T10:02:00.000000+00:00', '1'),
    );
    for (const evs of [forward, other, recreated]) expect(alertsOf(evs, 'registry.version_rollback')).toEqual([]);
  });
});

describe('the auditor listing the aliases a version holds', () => {
  it('is no alias move: a rejected champion approved again by tag is no unapproved deployment', async () => {
    const { auditEvent } = await import('../../../connectors/mlflow/events.js');
    const evs = deliveries(
      ...releases(),
      ['model_version_tag', 'set', '2026-11-24T09:30:00.000000+00:00', { name: 'fraud', version: '2', key: 'approval_status', value: 'rejected' }],
    );
    // diff.ts: a tag change's event carries the version's whole alias list in ml.model.aliases.
    const approvedAgain = auditEvent({
      id: 'audit-tag-approve', time: '2026-11-24T10:00:00.000Z', stage: 'registry', action: 'model_version.approve', operation: 'model-versions/set-tag',
      resource: { type: 'model_version', id: 'fraud/2', name: 'fraud', version: '2' },
      ml: { model: { name: 'fraud', version: '2', aliases: ['champion'], tags: { approval_status: 'approved' }, approval: 'approved' } },
      details: { tag: { key: 'approval_status', old: 'rejected', value: 'approved' }, approval_marker: { kind: 'tag', key: 'approval_status', value: 'approved' } },
    }, '2026-11-24T10:00:00.000Z');
    expect(alertsOf([...evs, approvedAgain], 'registry.unapproved_deployment')).toEqual([]);
  });
});

describe('a rejected version moved to the Production stage (legacy stages: models:/fraud/Production)', () => {
  /** Databricks registry webhook bodies (flat), normalized as the /databricks route does. */
  const databricks = (...bodies: Array<Record<string, unknown>>) =>
    bodies.flatMap((b, i) => normalizeMlflow(b, { channel: 'mlflow.webhook', receivedTime: '2026-11-25T00:00:00.000Z', keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: `db-${i}` } }).events);
  const created = { event: 'MODEL_VERSION_CREATED', webhook_id: 'w1', event_timestamp: 1764000000000, model_name: 'fraud', version: '3' };
  const rejectedTag = { event: 'MODEL_VERSION_TAG_SET', webhook_id: 'w1', event_timestamp: 1764000600000, model_name: 'fraud', version: '3', tags: [{ key: 'approval_status', value: 'rejected' }] };
  const toProduction = { event: 'MODEL_VERSION_TRANSITIONED_STAGE', webhook_id: 'w1', event_timestamp: 1764050000000, model_name: 'fraud', version: '3', from_stage: 'Staging', to_stage: 'Production' };

  it('is an unapproved deployment naming the stage (Databricks transition webhook)', () => {
    const evs = databricks(created, rejectedTag, toProduction);
    expect(evs.map((e) => e.action)).toEqual(['model_version.create', 'model_version.reject', 'model_version.approve']);
    const alerts = alertsOf(evs, 'registry.unapproved_deployment');
    expect(alerts.map((a) => [a.entity.id, a.details])).toEqual([['fraud/3', expect.objectContaining({ model: 'fraud', stage: 'Production', to_version: '3', reason: 'rejected' })]]);
  });

  it('is none for a version not rejected', () => {
    expect(alertsOf(databricks(created, toProduction), 'registry.unapproved_deployment')).toEqual([]);
  });
});

describe('approval aliases of two MLflow servers (connectors.mlflow.servers)', () => {
  /** A configured server's deliveries, stamped as its route does once the server's secret verified them. */
  const onServer = (server: string, evs: NormalizedEvent[]) => evs.map((e) => fromServer(e, server));

  it("one server's champion history is not another's: no rollback read across them", () => {
    // The team server moves champion v1 → v2; the prod server then puts its own champion on its v1 for the first time.
    const team = onServer('team', deliveries(...releases()));
    const prod = onServer('prod', deliveries(
      ['registered_model', 'created', '2026-11-23T10:00:00.000000+00:00', { name: 'fraud', tags: {}, description: null }],
      version('2026-11-23T10:01:00.000000+00:00', '1'),
      champion('2026-11-23T10:02:00.000000+00:00', '1'),
    ));
    expect(alertsOf([...team, ...prod], 'registry.version_rollback')).toEqual([]);
    // The team server's own move back is a rollback, named by its server.
    const back = onServer('team', deliveries(champion('2026-11-24T10:02:00.000000+00:00', '1')));
    const alerts = alertsOf([...team, ...prod, ...back], 'registry.version_rollback');
    expect(alerts.map((a) => [a.entity.id, a.entity.name, a.details?.from_version, a.details?.to_version])).toEqual([['team:fraud@champion', 'fraud', '2', '1']]);
  });

  it("an alert's summary names the server of a configured one; the default server's reads as before", () => {
    const evs = [...deliveries(...releases()), ...deliveries(champion('2026-11-24T10:02:00.000000+00:00', '1'))];
    const [plain] = alertsOf(evs, 'registry.version_rollback');
    const [team] = alertsOf(onServer('team', evs), 'registry.version_rollback');
    expect(plain!.summary).toMatch(/^fraud@champion moved from v2 to older v1 \(by [^)]+\)$/);
    expect(team!.summary).toBe(`${plain!.summary} (on MLflow server team)`);
  });

  it("a version rejected on one server does not make another server's champion move an unapproved deployment", () => {
    const team = onServer('team', deliveries(
      ...releases(),
      version('2026-11-24T09:00:00.000000+00:00', '3'),
      ['model_version_tag', 'set', '2026-11-24T09:30:00.000000+00:00', { name: 'fraud', version: '3', key: 'approval_status', value: 'rejected' }],
    ));
    const prod = onServer('prod', deliveries(version('2026-11-24T10:00:00.000000+00:00', '3'), champion('2026-11-24T10:05:00.000000+00:00', '3')));
    expect(alertsOf([...team, ...prod], 'registry.unapproved_deployment')).toEqual([]);
    const teamMove = onServer('team', deliveries(champion('2026-11-24T11:00:00.000000+00:00', '3')));
    expect(alertsOf([...team, ...prod, ...teamMove], 'registry.unapproved_deployment').map((a) => a.entity.id)).toEqual(['team:fraud/3']);
  });
});

describe('a Vertex version alias moved back', () => {
  it('is no rollback: a Vertex endpoint serves the version deployed to it, not an alias', () => {
    // UpdateModel / MergeVersionAliases as the Vertex connector reports them (details.aliases_added).
    const M = 'projects/p/locations/us-central1/models/55';
    const move = (id: string, version: string, time: string) => ({
      schema_version: '1', id, time, received_time: time, platform: 'vertex', channel: 'vertex.pubsub_push', stage: 'registry', action: 'model_version.alias_set',
      operation: 'google.cloud.aiplatform.v1.ModelService.MergeVersionAliases', service: 'aiplatform.googleapis.com', outcome: 'success',
      resource: { type: 'model', id: `${M}@${version}` }, ml: { model: { name: M, version, aliases: ['production'], approval: 'approved' } }, details: { aliases_added: ['production'] },
    }) as NormalizedEvent;
    const evs = [move('v2', '2', '2026-11-20T10:00:00.000Z'), move('v3', '3', '2026-11-21T10:00:00.000Z'), move('v2-again', '2', '2026-11-22T10:00:00.000Z')];
    expect(alertsOf(evs, 'registry.version_rollback')).toEqual([]);
  });
});
