import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { runEvents, runIdentity } from '../../../connectors/mlflow/provenance.js';
import type { Run } from '../../../connectors/mlflow/client.js';
import type { VersionSnap } from '../../../connectors/mlflow/snapshot.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';
import { useAuditorHarness } from './auditor-harness.js';

// MLflow stores a run's user_id as the client sent it (handlers.py `_create_run`: `user_id=request_message.user_id`),
// so a run can name anyone. Where the operator's deployment writes the authenticated login into a run tag clients
// cannot set (poll.authenticated_user_tag), that login is the actor the rules judge; the claim is only recorded.
const T0 = 1755680000000;
const TAG = 'mltrail.login';

/** A `GET /api/2.0/mlflow/runs/get` run as MLflow returns it, whose client claimed to be bob. */
function run(tags: Record<string, string>, userId = 'bob'): Run {
  return {
    info: { run_id: 'r1', run_uuid: 'r1', run_name: 'train', experiment_id: '1', user_id: userId, status: 'FINISHED', start_time: T0, end_time: T0 + 500_000, artifact_uri: 'mlflow-artifacts:/1/r1/artifacts', lifecycle_stage: 'active' },
    data: { metrics: [{ key: 'auc', value: 0.91, timestamp: T0 + 400_000, step: 0 }], params: [], tags: Object.entries({ 'mlflow.source.name': 'train.py', ...tags }).map(([key, value]) => ({ key, value })) },
  } as unknown as Run;
}
const version: VersionSnap = { name: 'fraud', version: '3', run_id: 'r1', source: 's3://models/fraud/3', description: '', tags: {}, aliases: [], creation_timestamp: T0 + 600_000, user_id: 'bob' };

describe('MLflow run identity: authenticated login vs claimed user_id', () => {
  it('the operator-set login tag is the actor; a user_id or mlflow.user naming someone else is kept as details.claimed_user', () => {
    const evs = runEvents(version, run({ 'mlflow.user': 'bob', [TAG]: 'alice' }), T0 + 3_600_000, '2025-08-20T10:00:00Z', { authenticatedUserTag: TAG });
    expect(evs.map((e) => [e.action, e.actor?.id])).toEqual([['run.provenance', 'alice'], ['evaluation.metrics', 'alice']]);
    for (const e of evs) {
      expect(e.details).toMatchObject({ authenticated_user: 'alice', claimed_user: 'bob', claimed_user_differs: true, actor_source: `run tag ${TAG} (authenticated login, set by the operator's deployment)` });
    }
  });

  it('the login and the claim agreeing: no claimed_user recorded beside it', () => {
    const [prov] = runEvents(version, run({ 'mlflow.user': 'alice', [TAG]: 'alice' }, 'alice'), T0 + 3_600_000, 'x', { authenticatedUserTag: TAG });
    expect(prov!.actor?.id).toBe('alice');
    expect(prov!.details?.claimed_user).toBeUndefined();
    expect(prov!.details?.claimed_user_differs).toBeUndefined();
  });

  it('no tag configured: the claim is the actor, said to be one (actor_source, claimed_user)', () => {
    const [prov, evaluation] = runEvents(version, run({ [TAG]: 'alice' }), T0 + 3_600_000, 'x');
    expect(prov!.actor?.id).toBe('bob');
    expect(prov!.details).toMatchObject({ claimed_user: 'bob', actor_source: 'run info user_id (client-asserted at CreateRun)' });
    expect(prov!.details?.authenticated_user).toBeUndefined();
    expect(evaluation!.details).toMatchObject({ claimed_user: 'bob' });
  });

  it('the tag configured but absent from the run (made around the proxy): the claim stands, authenticated_user_missing says so', () => {
    const who = runIdentity({ 'mlflow.user': 'bob' }, 'bob', 'run tag mlflow.user (client-asserted)', { authenticatedUserTag: TAG });
    expect(who).toEqual({ user: 'bob', details: { actor_source: 'run tag mlflow.user (client-asserted)', claimed_user: 'bob', authenticated_user_missing: `run tag ${TAG} is not set` } });
    expect(runIdentity({}, undefined, undefined, { authenticatedUserTag: TAG })).toEqual({ details: { authenticated_user_missing: `run tag ${TAG} is not set` } });
    // An empty tag value is no login.
    expect(runIdentity({ [TAG]: ' ' }, 'bob', 'c', { authenticatedUserTag: TAG }).user).toBe('bob');
  });

  it('evaluation.self_approval judges the login: alice approving the version she trained claiming to be bob is found; bob approving is not', () => {
    const trained = runEvents(version, run({ 'mlflow.user': 'bob', [TAG]: 'alice' }), T0 + 3_600_000, '2025-08-20T10:00:00Z', { authenticatedUserTag: TAG });
    const approve = (who: string): NormalizedEvent => ({
      schema_version: '1', id: `approve-${who}`, time: '2025-08-20T12:00:00Z', received_time: '2025-08-20T12:00:00Z', platform: 'mlflow', channel: 'mlflow.webhook', stage: 'registry',
      action: 'model_version.approve', operation: 'model_version_tag.set', outcome: 'success', actor: { id: who, name: who, type: 'user' },
      resource: { type: 'model_version', name: 'fraud', version: '3' }, ml: { model: { name: 'fraud', version: '3', approval: 'approved' } },
    }) as unknown as NormalizedEvent;
    const selfApprovals = (evs: NormalizedEvent[]) => replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'evaluation.self_approval').map((a) => a.details?.identity);
    expect(selfApprovals([...trained, approve('alice')])).toEqual(['alice']);
    expect(selfApprovals([...trained, approve('bob')])).toEqual([]);
    // Without the login tag the claim is all there is: bob is taken as the trainer (the forgery works, as README says).
    const claimedOnly = runEvents(version, run({ 'mlflow.user': 'bob', [TAG]: 'alice' }), T0 + 3_600_000, '2025-08-20T10:00:00Z');
    expect(selfApprovals([...claimedOnly, approve('alice')])).toEqual([]);
  });

  it('the config key is accepted (poll.authenticated_user_tag) and optional', () => {
    expect(MlflowConfig.parse({ poll: { authenticated_user_tag: TAG } }).poll.authenticated_user_tag).toBe(TAG);
    expect(MlflowConfig.parse({}).poll.authenticated_user_tag).toBeUndefined();
    expect(() => MlflowConfig.parse({ poll: { authenticated_user_tag: '' } })).toThrow();
  });
});

describe('the registry auditor reads the login tag from runs/get', () => {
  const h = useAuditorHarness('mltrail-mlflow-login-', T0);
  it('a new version\'s run carrying the login tag: its provenance names the login, the claim in details', async () => {
    h.fake.addModel('fraud', T0);
    h.fake.addVersion('fraud', '1', T0 + 10, { MLmodel: 'x', 'model.pkl': 'w' }, { run_id: 'runfraud1', user_id: 'bob' });
    h.fake.addRun('runfraud1', { user: 'bob', info: { user_id: 'bob' } });
    (h.fake.runs.get('runfraud1') as { data: { tags: Array<{ key: string; value: string }> } }).data.tags.push({ key: TAG, value: 'alice' });
    await h.auditor({ authenticated_user_tag: TAG }).runOnce();
    const prov = h.events().find((e) => e.action === 'run.provenance')!;
    expect(prov.actor?.id).toBe('alice');
    expect(prov.details).toMatchObject({ authenticated_user: 'alice', claimed_user: 'bob', claimed_user_differs: true });
  });
});
