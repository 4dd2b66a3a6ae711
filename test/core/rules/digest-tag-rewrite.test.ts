import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { ApprovalConfig } from '../../../connectors/mlflow/config.js';
import { registryDiffer } from '../../../connectors/mlflow/diff.js';
import { normalizeMlflow } from '../../../connectors/mlflow/normalize.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { versionKey, type VersionSnap } from '../../../connectors/mlflow/snapshot.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import type { NormalizedEvent } from '../../../core/schema/index.js';

const CREATED = Date.parse('2026-11-20T09:00:00Z');
const HOUR = 3_600_000;
const DIGEST_TAG = 'mltrail.sha256';
const OWN = `sha256:${'a'.repeat(64)}`;

const version = (tags: Record<string, string>): VersionSnap => ({
  name: 'fraud', version: '3', current_stage: 'None', status: 'READY', user_id: 'alice', source: 's3://models/fraud/3', run_id: 'r1',
  description: '', tags, aliases: [], creation_timestamp: CREATED, last_updated_timestamp: CREATED,
});

/** The registry auditor's events for the tag changes between successive polls (its digest tag write-back configured). */
function polls(...states: Array<Record<string, string>>): NormalizedEvent[] {
  const differ = registryDiffer({ approval: ApprovalConfig.parse({}), digestTag: DIGEST_TAG, ownDigestTag: () => OWN, receivedTime: '2026-11-25T12:00:01.000Z' });
  const out: NormalizedEvent[] = [];
  for (let i = 1; i < states.length; i++) {
    const snap = (t: Record<string, string>) => new Map([[versionKey('fraud', '3'), version(t)]]);
    out.push(...differ.diffVersions(snap(states[i - 1]!), snap(states[i]!), new Set(), CREATED + i * 24 * HOUR));
  }
  return out;
}
const modified = (evs: NormalizedEvent[]) =>
  replayEvents(evs, { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'registry.approved_model_modified').map((a) => a.details.tags);

describe('the MLflow digest tag on an approved version', () => {
  const approved = { approval_status: 'approved' };
  const own = { ...approved, [DIGEST_TAG]: OWN };

  it('the auditor’s own write-back is no change (it is not even reported)', () => {
    const evs = polls({}, approved, own);
    expect(evs.map((e) => e.action)).toEqual(['model_version.approve']);
    expect(modified(evs)).toEqual([]);
  });

  it('someone rewriting or removing it is a change of the approved version', () => {
    const rewritten = polls({}, approved, own, { ...approved, [DIGEST_TAG]: `sha256:${'0'.repeat(64)}` });
    expect(rewritten.map((e) => e.action)).toEqual(['model_version.approve', 'model_version.tag_set']);
    expect(modified(rewritten)).toEqual([[DIGEST_TAG]]);
    const removed = polls({}, approved, own, approved);
    expect(removed.map((e) => e.action)).toEqual(['model_version.approve', 'model_version.tag_delete']);
    expect(modified(removed)).toEqual([[DIGEST_TAG]]);
  });

  it('the webhook MLflow sends for the auditor’s own write-back stays excepted', () => {
    const approve = polls({}, approved);
    const hook = normalizeMlflow(
      { entity: 'model_version_tag', action: 'set', timestamp: '2026-11-22T09:00:00.000000+00:00', data: { name: 'fraud', version: '3', key: DIGEST_TAG, value: OWN } },
      { channel: 'mlflow.webhook', receivedTime: '2026-11-22T09:00:00.000Z', keepRaw: false, config: MlflowConfig.parse({}), meta: { delivery_id: 'own-write' } },
    ).events;
    expect(modified([...approve, ...hook])).toEqual([]);
  });
});
