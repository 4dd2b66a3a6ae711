import { describe, expect, it } from 'vitest';
import { ApprovalConfig } from '../../../connectors/mlflow/config.js';
import { registryDiffer } from '../../../connectors/mlflow/diff.js';
import { versionKey, type VersionSnap } from '../../../connectors/mlflow/snapshot.js';
import { approvalOf } from '../../../core/rules/facts.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { NormalizedEvent } from '../../../core/schema/index.js';

/**
 * The registry auditor's poll-to-poll diff (connectors/mlflow/diff.ts) through its interface:
 * two snapshots in, the events a change makes out. These cases are the approval and digest facts
 * the rules rely on that the auditor's end-to-end tests do not reach.
 */

const approval = ApprovalConfig.parse({});
const NOW = Date.parse('2026-11-25T12:00:00Z');
const CREATED = Date.parse('2026-11-20T09:00:00Z');
const DIGEST_TAG = 'mltrail.sha256';
const OWN = `sha256:${'a'.repeat(64)}`;

function differ() {
  return registryDiffer({ approval, digestTag: DIGEST_TAG, ownDigestTag: () => OWN, receivedTime: '2026-11-25T12:00:01.000Z' });
}

function version(tags: Record<string, string>, over: Partial<VersionSnap> = {}): VersionSnap {
  return {
    name: 'fraud', version: '3', current_stage: 'None', status: 'READY', user_id: 'alice', source: 's3://models/fraud/3', run_id: 'r1',
    description: '', tags, aliases: [], creation_timestamp: CREATED, last_updated_timestamp: CREATED, ...over,
  };
}

const snaps = (...vs: VersionSnap[]) => new Map(vs.map((v) => [versionKey(v.name, v.version), v]));

function diff(before: Record<string, string>, after: Record<string, string>): NormalizedEvent[] {
  const out = differ().diffVersions(snaps(version(before)), snaps(version(after)), new Set(), NOW);
  for (const ev of out) expect(NormalizedEvent.safeParse(ev).success).toBe(true);
  return out;
}

describe('tag changes seen between two polls', () => {
  it('a rejection tag set on a version is a rejection', () => {
    const [ev, ...rest] = diff({}, { approval_status: 'rejected' });
    expect(rest).toEqual([]);
    expect(ev!.action).toBe('model_version.reject');
    expect(ev!.ml?.model).toMatchObject({ name: 'fraud', version: '3', approval: 'rejected' });
    expect(ev!.details?.approval_marker).toEqual({ kind: 'tag', key: 'approval_status', value: 'rejected' });
  });

  it('removing an approval tag says which approval marker went away (a revocation)', () => {
    const [ev] = diff({ approval_status: 'approved' }, {});
    expect(ev!.action).toBe('model_version.tag_delete');
    expect(ev!.details?.approval_marker_removed).toEqual({ kind: 'tag', key: 'approval_status' });
    // Removing an ordinary tag is not a revocation.
    expect(diff({ team: 'risk' }, {})[0]!.details?.approval_marker_removed).toBeUndefined();
  });

  it('the digest tag: the auditor\'s own write-back is not news, anyone else\'s value is', () => {
    expect(diff({}, { [DIGEST_TAG]: OWN })).toEqual([]);
    const forged = diff({}, { [DIGEST_TAG]: `sha256:${'b'.repeat(64)}` });
    expect(forged).toHaveLength(1);
    expect(forged[0]!.action).toBe('model_version.tag_set');
    expect(forged[0]!.details?.tag).toEqual({ key: DIGEST_TAG, value: `sha256:${'b'.repeat(64)}` });
    // Changing our value afterwards is seen too.
    expect(diff({ [DIGEST_TAG]: OWN }, { [DIGEST_TAG]: `sha256:${'b'.repeat(64)}` })).toHaveLength(1);
  });
});

describe('a version first seen carrying both an approval and a rejection tag', () => {
  it('reports the approval first and the rejection last, so the version ends rejected (the stronger statement)', () => {
    const d = differ();
    const v = version({ approval_status: 'approved', approved: 'false' });
    d.diffVersions(new Map(), snaps(v), new Set(), NOW);
    const markers = d.atCreation.get(versionKey('fraud', '3')) ?? [];
    expect(markers.map((e) => e.action)).toEqual(['model_version.approve', 'model_version.reject']);
    const rules = RulesConfig.parse({});
    expect(approvalOf(markers.at(-1)!, rules)).toBe('rejected');
  });
});
