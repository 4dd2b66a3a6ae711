import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { ApprovalConfig, MlflowConfig } from '../../../connectors/mlflow/config.js';
import { registryDiffer } from '../../../connectors/mlflow/diff.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import type { ModelSnap } from '../../../connectors/mlflow/snapshot.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';

/**
 * Serving loads `models:/fraud@champion`: renaming another model onto the name of an approved one swaps what
 * production loads with no alias set and no deployment. MLflow sends no webhook for a rename; the registry auditor
 * reports it, pairing a vanished model with one of the same creation_timestamp (connectors/mlflow/diff.ts).
 */
const FRAUD_BORN = Date.parse('2026-11-01T09:00:00Z');
const EVIL_BORN = Date.parse('2026-11-20T09:00:00Z');
const POLL = Date.parse('2026-11-25T12:00:00Z');

/** MLflow 3.x webhook deliveries (the `_send_webhook_request` envelope), normalized as the webhook route does. */
function deliveries(...bodies: Array<[entity: string, action: string, timestamp: string, data: Record<string, unknown>]>): NormalizedEvent[] {
  return bodies.flatMap(([entity, action, timestamp, data], i) =>
    normalizeMlflow({ entity, action, timestamp, data }, { channel: 'mlflow.webhook', receivedTime: timestamp, keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: `d-${i}` } }).events,
  );
}

/** `fraud` v3 approved by champion; `fraud-evil` v1 given its own champion (no one serves it, so no one looks). */
const history = () =>
  deliveries(
    ['registered_model', 'created', '2026-11-01T09:00:00.000000+00:00', { name: 'fraud', tags: {}, description: null }],
    ['model_version', 'created', '2026-11-10T09:00:00.000000+00:00', { name: 'fraud', version: '3', source: 'models:/m-3aa', run_id: 'r3', tags: {}, description: null }],
    ['model_version_alias', 'created', '2026-11-10T10:00:00.000000+00:00', { name: 'fraud', alias: 'champion', version: '3' }],
    ['registered_model', 'created', '2026-11-20T09:00:00.000000+00:00', { name: 'fraud-evil', tags: {}, description: null }],
    ['model_version', 'created', '2026-11-20T09:05:00.000000+00:00', { name: 'fraud-evil', version: '1', source: 's3://scratch/evil/', run_id: 'e1', tags: {}, description: null }],
    ['model_version_alias', 'created', '2026-11-20T09:10:00.000000+00:00', { name: 'fraud-evil', alias: 'champion', version: '1' }],
  );

const snap = (name: string, born: number, updated = born): ModelSnap => ({ name, description: '', tags: {}, aliases: { champion: '1' }, creation_timestamp: born, last_updated_timestamp: updated, prompt: false });

/** The auditor's report of the models between two polls. */
function renames(before: ModelSnap[], after: ModelSnap[]): NormalizedEvent[] {
  const differ = registryDiffer({ approval: ApprovalConfig.parse({}), ownDigestTag: () => undefined, receivedTime: new Date(POLL).toISOString() });
  return differ.diffModels(new Map(before.map((m) => [m.name, m])), new Map(after.map((m) => [m.name, m])), POLL).filter((e) => e.action === 'registered_model.rename');
}

const takeovers = (evs: NormalizedEvent[]) =>
  replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified' && a.details.change === 'name_taken_over');

describe('an approved model’s name taken over by a rename', () => {
  it('two renames between polls (fraud → fraud-old, fraud-evil → fraud), in either order of their times', () => {
    for (const [oldAt, evilAt] of [[POLL - 120_000, POLL - 60_000], [POLL - 60_000, POLL - 120_000]]) {
      const evs = renames([snap('fraud', FRAUD_BORN), snap('fraud-evil', EVIL_BORN)], [snap('fraud-old', FRAUD_BORN, oldAt), snap('fraud', EVIL_BORN, evilAt)]);
      expect(evs.map((e) => [e.details?.old_name, e.details?.new_name]).sort()).toEqual([['fraud', 'fraud-old'], ['fraud-evil', 'fraud']]);
      const alerts = takeovers([...history(), ...evs]);
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.entity).toMatchObject({ type: 'model_version', id: 'fraud/3' });
      expect(alerts[0]!.details).toMatchObject({ model: 'fraud', from_model: 'fraud-evil', approved_versions: ['3'], incoming_approved_versions: ['1'] });
      expect(alerts[0]!.summary).toContain('models:/fraud@<alias>');
    }
  });

  it('is none for a plain rename, or a name taken over from a model never approved', () => {
    // fraud renamed to fraud-v1 and nothing takes its name.
    expect(takeovers([...history(), ...renames([snap('fraud', FRAUD_BORN)], [snap('fraud-v1', FRAUD_BORN, POLL)])])).toEqual([]);
    // scratch (no approved version) renamed away, fraud-evil renamed onto its name.
    const scratch = deliveries(['registered_model', 'created', '2026-11-02T09:00:00.000000+00:00', { name: 'scratch', tags: {}, description: null }]);
    const evs = renames([snap('scratch', FRAUD_BORN + 1), snap('fraud-evil', EVIL_BORN)], [snap('scratch-old', FRAUD_BORN + 1, POLL - 120_000), snap('scratch', EVIL_BORN, POLL - 60_000)]);
    expect(takeovers([...history(), ...scratch, ...evs])).toEqual([]);
  });
});
