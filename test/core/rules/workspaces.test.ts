import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { fromServer, stableId, type NormalizedEvent } from '../../../core/schema/index.js';
import { alertsOf, champion, releases, tag, version, webhookEvents } from './mlflow-deliveries.js';

/**
 * One MLflow server run with MLFLOW_ENABLE_WORKSPACES hosts workspaces whose registered-model names are their own
 * (registered_models' key is (workspace, name)): team-a's fraud/3 and team-b's fraud/3 are two models. Its webhooks
 * say which workspace a change was made in (the envelope's `workspace`, `_send_webhook_request`). These are such
 * bodies, normalized as the webhook route does.
 */
const deliveries = webhookEvents;

describe('MLflow workspaces in the rule state', () => {
  it("one workspace's approval does not vouch for another's fraud/3; its own approved version changed is alerted, naming the workspace", () => {
    const a = deliveries('team-a', version('2026-11-24T09:00:00.000000+00:00', '3'), champion('2026-11-24T09:10:00.000000+00:00', '3'));
    // team-b's fraud/3, never approved there, gets a tag: nothing approved changed.
    const b = deliveries('team-b', version('2026-11-24T09:05:00.000000+00:00', '3'), tag('2026-11-24T10:00:00.000000+00:00', '3', 'owner', 'mallory'));
    expect(alertsOf([...a, ...b], 'registry.approved_model_modified')).toEqual([]);
    // team-a's approved fraud/3 gets the same tag: that one is an approved version modified.
    const aTag = deliveries('team-a', tag('2026-11-24T10:05:00.000000+00:00', '3', 'owner', 'mallory'));
    const alerts = alertsOf([...a, ...b, ...aTag], 'registry.approved_model_modified');
    expect(alerts.map((x) => x.entity)).toEqual([{ type: 'model_version', id: '/team-a:fraud/3', name: 'fraud', platform: 'mlflow' }]);
    expect(alerts[0]!.evidence).toContain(aTag[0]!.id);
    expect(alerts[0]!.summary).toMatch(/ \(in MLflow workspace team-a\)$/);
  });

  it("one workspace's champion history is not another's: no rollback read across them; its own move back is one, naming the workspace", () => {
    const a = deliveries('team-a', ...releases());
    const b = deliveries('team-b',
      ['registered_model', 'created', '2026-11-23T10:00:00.000000+00:00', { name: 'fraud', tags: {}, description: null }],
      version('2026-11-23T10:01:00.000000+00:00', '1'),
      champion('2026-11-23T10:02:00.000000+00:00', '1'),
    );
    expect(alertsOf([...a, ...b], 'registry.version_rollback')).toEqual([]);
    const back = deliveries('team-a', champion('2026-11-24T10:02:00.000000+00:00', '1'));
    const alerts = alertsOf([...a, ...b, ...back], 'registry.version_rollback');
    expect(alerts.map((x) => [x.entity.id, x.entity.name, x.details?.from_version, x.details?.to_version])).toEqual([['/team-a:fraud@champion', 'fraud', '2', '1']]);
    const [plain] = alertsOf(deliveries(undefined, ...releases(), champion('2026-11-24T10:02:00.000000+00:00', '1')), 'registry.version_rollback');
    expect(alerts[0]!.summary).toBe(`${plain!.summary} (in MLflow workspace team-a)`);
  });

  it("combines with the server scope: workspace team-a of server team is neither server team's default workspace nor the default server's team-a", () => {
    const onTeam = (evs: NormalizedEvent[]) => evs.map((e) => fromServer(e, 'team'));
    const teamA = onTeam(deliveries('team-a', ...releases()));
    const teamDefault = onTeam(deliveries('default', version('2026-11-23T09:01:00.000000+00:00', '1'), champion('2026-11-23T09:02:00.000000+00:00', '1')));
    const defaultA = deliveries('team-a', version('2026-11-23T10:01:00.000000+00:00', '1'), champion('2026-11-23T10:02:00.000000+00:00', '1'));
    expect(alertsOf([...teamA, ...teamDefault, ...defaultA], 'registry.version_rollback')).toEqual([]);
    const back = onTeam(deliveries('team-a', champion('2026-11-24T10:02:00.000000+00:00', '1')));
    const alerts = alertsOf([...teamA, ...teamDefault, ...defaultA, ...back], 'registry.version_rollback');
    expect(alerts.map((x) => x.entity.id)).toEqual(['team/team-a:fraud@champion']);
    expect(alerts[0]!.summary).toMatch(/ \(in MLflow workspace team-a on server team\)$/);
    expect(alerts[0]!.details.cloud).toEqual({ provider: 'other', project: 'team-a', account: 'team' });
  });

  it("a version rejected in one workspace does not make another workspace's champion move an unapproved deployment", () => {
    const a = deliveries('team-a', ...releases(), version('2026-11-24T09:00:00.000000+00:00', '3'), tag('2026-11-24T09:30:00.000000+00:00', '3', 'approval_status', 'rejected'));
    const b = deliveries('team-b', version('2026-11-24T10:00:00.000000+00:00', '3'), champion('2026-11-24T10:05:00.000000+00:00', '3'));
    expect(alertsOf([...a, ...b], 'registry.unapproved_deployment')).toEqual([]);
    const aMove = deliveries('team-a', champion('2026-11-24T11:00:00.000000+00:00', '3'));
    expect(alertsOf([...a, ...b, ...aMove], 'registry.unapproved_deployment').map((x) => x.entity.id)).toEqual(['/team-a:fraud/3']);
  });

  it("the default workspace's events are the server's as before workspaces: same ids, entities and alerts", () => {
    const plain = deliveries(undefined, ...releases(), champion('2026-11-24T10:02:00.000000+00:00', '1'));
    const dflt = deliveries('default', ...releases(), champion('2026-11-24T10:02:00.000000+00:00', '1'));
    expect(dflt.every((e) => e.cloud === undefined)).toBe(true);
    // One delivery's id is its delivery id's, with or without `workspace: default`; a named workspace's is its own.
    const one = (workspace?: string) => normalizeMlflow({ entity: 'model_version_alias', action: 'created', timestamp: '2026-11-24T10:02:00.000000+00:00', data: { name: 'fraud', alias: 'champion', version: '1' }, ...(workspace ? { workspace } : {}) },
      { channel: 'mlflow.webhook', receivedTime: '2026-11-24T10:02:00Z', keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: 'dlv-1' } }).events[0]!;
    expect(one('default').id).toBe(stableId('mlflow', 'delivery', 'dlv-1'));
    expect(one().id).toBe(stableId('mlflow', 'delivery', 'dlv-1'));
    expect(one('team-a').id).toBe(stableId('mlflow', 'workspace', 'team-a', stableId('mlflow', 'delivery', 'dlv-1')));
    expect(one('team-a').details?.change_key).not.toBe(one('team-b').details?.change_key);
    expect(dflt.map((e) => e.details?.change_key)).toEqual(plain.map((e) => e.details?.change_key));
    const [p] = alertsOf(plain, 'registry.version_rollback');
    const [d] = alertsOf(dflt, 'registry.version_rollback');
    expect([d!.entity, d!.summary]).toEqual([p!.entity, p!.summary]);
    expect(d!.entity.id).toBe('fraud@champion');
  });

  it("registry.modification_rate counts each workspace's writes as its registry's: a burst in one is not hidden by the other's steady writes", () => {
    const HOUR = 3_600_000;
    const T = Date.parse('2026-11-20T00:00:00Z');
    const at = (ms: number) => new Date(ms).toISOString().replace('Z', '000+00:00');
    let n = 0;
    const write = (ws: string, ms: number) => deliveries(ws, tag(at(ms), '1', `k${++n}`, 'x'));
    const evs: NormalizedEvent[] = [];
    // team-a: one write an hour for six hours, then four in the seventh; team-b: four an hour throughout.
    for (let h = 0; h < 7; h++) {
      for (let i = 0; i < (h < 6 ? 1 : 4); i++) evs.push(...write('team-a', T + h * HOUR + 600_000 + i * 60_000));
      for (let i = 0; i < 4; i++) evs.push(...write('team-b', T + h * HOUR + 900_000 + i * 60_000));
    }
    evs.push(...write('team-a', T + 9 * HOUR), ...write('team-b', T + 9 * HOUR)); // closes the seventh hour's window
    const stat = { rules: RulesConfig.parse({ 'registry.modification_rate': { learning: '0s', n: 1, min_samples: 3, seasonality: 'none' } }) };
    const rate = replayEvents(evs.sort((x, y) => x.time.localeCompare(y.time)), stat).alerts.filter((a) => a.rule_id === 'registry.modification_rate');
    expect(rate.map((a) => [a.entity.id, a.details.value, a.details.baseline_median])).toEqual([['mlflow:/team-a', 4, 1]]);
  });
});

describe('the webhook envelope of a server with workspaces', () => {
  it('an envelope whose workspace is no workspace name is rejected naming the field (it would make scoped names ambiguous)', () => {
    for (const workspace of ['a:b', 'a/b', '']) {
      const out = normalizeMlflow({ entity: 'registered_model', action: 'created', timestamp: '2026-03-02T09:00:00+00:00', data: { name: 'fraud' }, workspace },
        { channel: 'mlflow.webhook', receivedTime: '2026-03-02T09:00:00Z', keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: 'x' } });
      expect(out.events).toEqual([]);
      expect(out.rejected[0]).toMatchObject({ field: 'workspace' });
    }
  });

  it("an envelope workspace MLflow's WorkspaceNameValidator refuses is rejected: `Default` never becomes a scope beside `default`", () => {
    // MLflow checks every X-MLFLOW-WORKSPACE against a lowercase DNS label (2-63), so no signed delivery names these.
    const normalize = (workspace: string) => normalizeMlflow({ entity: 'registered_model', action: 'created', timestamp: '2026-03-02T09:00:00+00:00', data: { name: 'fraud' }, workspace },
      { channel: 'mlflow.webhook', receivedTime: '2026-03-02T09:00:00Z', keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: 'x' } });
    for (const workspace of ['Default', 'Team-A', 'team_a', 'team.a', 'a', '-team', 'team-', 'te\u0430m', 'a'.repeat(64)]) {
      const out = normalize(workspace);
      expect(out.events, workspace).toEqual([]);
      expect(out.rejected[0], workspace).toMatchObject({ field: 'workspace' });
    }
    for (const workspace of ['default', 'team-a', 'ab', '123', 'a'.repeat(63)]) expect(normalize(workspace).events, workspace).toHaveLength(1);
  });
});
