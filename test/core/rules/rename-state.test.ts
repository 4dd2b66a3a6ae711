import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { fromServer, type NormalizedEvent } from '../../../core/schema/index.js';

/**
 * Rule state kept per version (adversarial evidence) follows a rename of its model, as the registry's records and the
 * approval-alias history do. MLflow 3.x webhook bodies, normalized as the webhook route does; the rename as the
 * registry auditor reports it (connectors/mlflow/diff.ts).
 */
type Delivery = [entity: string, action: string, timestamp: string, data: Record<string, unknown>];
function deliveries(...bodies: Delivery[]): NormalizedEvent[] {
  return bodies.flatMap(([entity, action, timestamp, data], i) =>
    normalizeMlflow({ entity, action, timestamp, data }, { channel: 'mlflow.webhook', receivedTime: timestamp, keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: `d-${timestamp}-${i}` } }).events,
  );
}
const rename = (time: string, from: string, to: string): NormalizedEvent => ({
  schema_version: '1', id: `rename-${from}-${to}-${time}`, time, received_time: time, platform: 'mlflow', channel: 'mlflow.poll', service: 'mlflow',
  stage: 'registry', action: 'registered_model.rename', operation: 'registered-models/rename', outcome: 'success',
  resource: { type: 'registered_model', id: to, name: to }, details: { old_name: from, new_name: to },
});
/** A model with v3, its adversarial evaluation (if any) tagged at registration. */
const model = (name: string, ts: string, adversarial?: string): Delivery[] => [
  ['registered_model', 'created', `${ts}:00.000000+00:00`, { name, tags: {}, description: null }],
  ['model_version', 'created', `${ts}:01.000000+00:00`, { name, version: '3', source: `models:/m-${name}-${ts.slice(11, 13)}`, run_id: `run-${name}-${ts.slice(11, 13)}`, tags: adversarial ? { adversarial_accuracy: adversarial } : {}, description: null }],
];
const champion = (ts: string, name: string): Delivery => ['model_version_alias', 'created', ts, { name, alias: 'champion', version: '3' }];
const missing = (evs: NormalizedEvent[]) =>
  replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'evaluation.adversarial_failure' && a.title.endsWith('Approved without adversarial evaluation')).map((a) => a.entity.id);

describe('adversarial evidence after registered_model.rename', () => {
  it('follows the version to its new name: an approval under it finds the (failing) evaluation on record', () => {
    // The evaluation tagged on the version (kept under the version only, not its run).
    const evs = [...deliveries(...model('fraud', '2026-11-20T10:00'), ['model_version_tag', 'set', '2026-11-20T10:30:00.000000+00:00', { name: 'fraud', version: '3', key: 'adversarial_accuracy', value: '0.2' }]), rename('2026-11-23T08:00:00.000Z', 'fraud', 'fraud-prod'), ...deliveries(champion('2026-11-24T09:00:00.000000+00:00', 'fraud-prod'))];
    expect(missing(evs)).toEqual([]);
  });

  it('follows each model across a swap of two names', () => {
    const evs = [
      ...deliveries(...model('fraud', '2026-11-20T10:00', '0.9'), ...model('fraud-b', '2026-11-20T11:00')),
      rename('2026-11-23T08:00:00.000Z', 'fraud', 'fraud-b'), rename('2026-11-23T08:00:00.000Z', 'fraud-b', 'fraud'),
      ...deliveries(champion('2026-11-24T09:00:00.000000+00:00', 'fraud-b'), champion('2026-11-24T09:01:00.000000+00:00', 'fraud')),
    ];
    // fraud-b v3 is the evaluated one (fraud before the swap); fraud v3 never was.
    expect(missing(evs)).toEqual(['fraud/3']);
  });

  it('stays in its MLflow server: a rename on one server moves nothing of another', () => {
    const onServer = (server: string, evs: NormalizedEvent[]) => evs.map((e) => fromServer(e, server));
    const evs = [
      ...onServer('team', deliveries(...model('fraud', '2026-11-20T10:00', '0.9'))),
      ...deliveries(...model('fraud', '2026-11-20T11:00')),
      rename('2026-11-23T08:00:00.000Z', 'fraud', 'fraud-prod'),
      ...onServer('team', [rename('2026-11-23T08:00:00.000Z', 'fraud', 'fraud-prod')]),
      ...onServer('team', deliveries(champion('2026-11-24T09:00:00.000000+00:00', 'fraud-prod'))),
      ...deliveries(champion('2026-11-24T09:01:00.000000+00:00', 'fraud-prod')),
    ];
    expect(missing(evs)).toEqual(['fraud-prod/3']);
  });

  it('takes an approval still waiting for evidence along: the evaluation logged after the rename settles it', () => {
    const evs = [
      ...deliveries(...model('fraud', '2026-11-20T10:00'), champion('2026-11-20T10:05:00.000000+00:00', 'fraud')),
      rename('2026-11-20T10:10:00.000Z', 'fraud', 'fraud-prod'),
      ...deliveries(['model_version_tag', 'set', '2026-11-20T10:20:00.000000+00:00', { name: 'fraud-prod', version: '3', key: 'adversarial_accuracy', value: '0.9' }]),
    ];
    expect(missing(evs)).toEqual([]);
  });
});

describe('an approval alias history across a swap of two names', () => {
  it('stays with its model where the other model never had the alias', () => {
    const version = (name: string, ts: string, v: string): Delivery => ['model_version', 'created', ts, { name, version: v, source: `models:/m-${name}-${v}`, run_id: `run-${name}-${v}`, tags: { adversarial_accuracy: '0.9' }, description: null }];
    const alias = (name: string, ts: string, v: string): Delivery => ['model_version_alias', 'created', ts, { name, alias: 'champion', version: v }];
    const evs = [
      ...deliveries(
        ['registered_model', 'created', '2026-11-20T10:00:00.000000+00:00', { name: 'fraud', tags: {}, description: null }],
        version('fraud', '2026-11-20T10:01:00.000000+00:00', '1'), version('fraud', '2026-11-20T10:02:00.000000+00:00', '2'),
        alias('fraud', '2026-11-20T10:03:00.000000+00:00', '2'),
        ['registered_model', 'created', '2026-11-20T11:00:00.000000+00:00', { name: 'fraud-b', tags: {}, description: null }],
        version('fraud-b', '2026-11-20T11:01:00.000000+00:00', '1'),
      ),
      rename('2026-11-23T08:00:00.000Z', 'fraud', 'fraud-b'), rename('2026-11-23T08:00:00.000Z', 'fraud-b', 'fraud'),
      // fraud is the model that was fraud-b: its first champion, no rollback from the other model's v2.
      ...deliveries(alias('fraud', '2026-11-24T09:00:00.000000+00:00', '1'), alias('fraud-b', '2026-11-24T09:01:00.000000+00:00', '1')),
    ];
    const rollbacks = replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.version_rollback');
    expect(rollbacks.map((a) => [a.entity.id, a.details.from_version, a.details.to_version])).toEqual([['fraud-b@champion', '2', '1']]);
  });
});

describe('registry.approved_model_modified after registered_model.rename', () => {
  it('knows the adversarial evidence it took under the old name: the same tag reported again is no change', () => {
    const tag = (name: string, ts: string): Delivery => ['model_version_tag', 'set', ts, { name, version: '3', key: 'adversarial_accuracy', value: '0.9' }];
    const evs = [
      ...deliveries(...model('fraud', '2026-11-20T10:00'), champion('2026-11-20T10:05:00.000000+00:00', 'fraud'), tag('fraud', '2026-11-20T10:15:00.000000+00:00')),
      rename('2026-11-20T10:20:00.000Z', 'fraud', 'fraud-prod'),
      ...deliveries(tag('fraud-prod', '2026-11-20T12:00:00.000000+00:00')),
    ];
    expect(replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified')).toEqual([]);
  });
});

describe('serving.hash_mismatch after registered_model.rename', () => {
  it('an attestation made before the hash was registered is compared once the auditor registers it under the new name', () => {
    const A = 'a'.repeat(64);
    const B = 'b'.repeat(64);
    // As /v1/attest records a serving container's hash (core.attest), before the auditor hashed the version.
    const attest = { schema_version: '1', id: 'att-b', time: '2026-03-02T10:02:00.000Z', received_time: '2026-03-02T10:02:00.000Z', channel: 'core.attest', operation: 'attest', outcome: 'success', platform: 'custom', stage: 'serving', action: 'model_version.attest', actor: { name: 'serving', type: 'service' }, ml: { model: { name: 'Fraud', version: '8', sha256: B } }, details: { where: 'pod/x' } } as unknown as NormalizedEvent;
    const registered = { schema_version: '1', id: 'reg', time: '2026-03-02T10:05:00.000Z', received_time: '2026-03-02T10:05:00.000Z', channel: 'mlflow.audit', operation: 'model-versions/get', outcome: 'success', platform: 'mlflow', stage: 'registry', action: 'model_version.hash_registered', actor: { name: 'mltrail-auditor', type: 'service' }, ml: { model: { name: 'fraud-prod', version: '8', sha256: A } } } as unknown as NormalizedEvent;
    const evs = [attest, rename('2026-03-02T10:04:00.000Z', 'Fraud', 'fraud-prod'), registered];
    const mismatches = replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'serving.hash_mismatch');
    expect(mismatches.map((a) => [a.entity.id, a.evidence])).toEqual([['fraud-prod/8', ['att-b', 'reg']]]);
  });
});
