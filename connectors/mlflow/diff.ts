import { stableId, type Action, type NormalizedEvent } from '../../core/schema/index.js';
import { approvalFromTag, approvalOfVersion, isApprovalAlias, isApprovalStage } from './approval.js';
import type { ApprovalConfig } from './config.js';
import { changeKey } from './change.js';
import { act, auditEvent, versionResource, type AuditDraft } from './events.js';
import { safeUri } from './uri.js';
import { iso, nextChange, recreated, versionKey, type ModelSnap, type VersionSnap } from './snapshot.js';

/**
 * When a field edit happened: MLflow's last_updated_timestamp if this edit moved it,
 * else the poll that saw it (MLflow gives no time for it).
 */
function changeTime(p: { last_updated_timestamp?: number }, c: { last_updated_timestamp?: number }, now: number): string {
  return iso(c.last_updated_timestamp !== p.last_updated_timestamp ? c.last_updated_timestamp : undefined, now, 'last_updated_timestamp');
}

export interface DiffContext {
  approval: ApprovalConfig;
  /** Tag key the auditor writes digests to (its own writes are not news). */
  digestTag?: string;
  /** The digest tag value the auditor wrote for a version, if any. */
  ownDigestTag(v: VersionSnap): string | undefined;
  receivedTime: string;
}

/**
 * Events for every difference between two registry snapshots. Ids derive
 * from the change, its per-key change count (kept in the snapshot) and the
 * creation_timestamp of the model or version it belongs to, so re-diffing the
 * same pair gives the same ids, a repeated move a new one, and the same move
 * on a deleted and re-created model/version (whose counts restart) a new one too.
 * Records the counts on the current snapshots: persist them after the events.
 *
 * @example
 * const d = registryDiffer(ctx); d.diffModels(prev, cur, Date.now())
 */
export function registryDiffer(ctx: DiffContext) {
  const approvalCfg = ctx.approval;
  const cfg = { digest_tag: ctx.digestTag };
  const base = (d: AuditDraft) => auditEvent(d, ctx.receivedTime);
  const ownDigestTag = ctx.ownDigestTag;
  /** Alias assignments diffModels reported this cycle (name, version, alias): a new version's own markers skip them. */
  const aliasReported = new Set<string>();
  const aliasKey = (name: string, version: string, alias: string) => JSON.stringify([name, version, alias]);
  /**
   * Per new version (snapshot key): the events of what it carried when first seen — the alias
   * assignments diffModels returned for it, then markersAtCreation. The caller commits these after
   * the version's run events (its pending record), so leaves them out of the diff it commits.
   */
  const atCreation = new Map<string, NormalizedEvent[]>();
  /** Alias assignments diffModels returned, by target version (snapshot key): moved into atCreation if that version is new. */
  const aliasTo = new Map<string, NormalizedEvent[]>();

  function diffModels(prev: Map<string, ModelSnap>, cur: Map<string, ModelSnap>, now: number): NormalizedEvent[] {
    const out: NormalizedEvent[] = [];
    const polled = iso(undefined, now);
    // A name whose creation_timestamp changed belongs to another model now (deleted and re-created,
    // or renamed away and the name re-used): the old one is removed, the new one added.
    const same = (p: ModelSnap, c: ModelSnap | undefined) => !!c && (p.creation_timestamp === undefined || c.creation_timestamp === undefined || p.creation_timestamp === c.creation_timestamp);
    const removed = [...prev.values()].filter((m) => !same(m, cur.get(m.name)));
    const added = [...cur.values()].filter((m) => { const p = prev.get(m.name); return !p || !same(p, m); });
    /** Current name → previous snapshot, renamed models included (their edits in the same poll still count). */
    const before = new Map([...prev].filter(([name, p]) => same(p, cur.get(name))));
    for (const m of removed) {
      // A rename keeps creation_timestamp: pair a vanished model with a new one born at the same instant.
      const renamedTo = m.creation_timestamp !== undefined ? added.find((a) => a.creation_timestamp === m.creation_timestamp) : undefined;
      if (renamedTo) {
        added.splice(added.indexOf(renamedTo), 1);
        before.set(renamedTo.name, m);
        out.push(base({
          id: stableId('mlflow', 'audit', 'rename', m.name, renamedTo.name, renamedTo.last_updated_timestamp),
          time: iso(renamedTo.last_updated_timestamp, now, 'last_updated_timestamp'), stage: 'registry', action: act('registered_model.rename', m.prompt),
          operation: 'registered-models/rename', resource: { type: m.prompt ? 'prompt' : 'registered_model', id: renamedTo.name, name: renamedTo.name },
          details: { old_name: m.name, new_name: renamedTo.name },
        }));
        continue;
      }
      out.push(base({
        id: stableId('mlflow', 'audit', 'model_delete', m.name, m.creation_timestamp, m.last_updated_timestamp), time: polled, stage: 'registry',
        action: act('registered_model.delete', m.prompt), operation: 'registered-models/delete',
        resource: { type: m.prompt ? 'prompt' : 'registered_model', id: m.name, name: m.name }, details: { last_seen: m },
      }));
    }
    for (const m of added) {
      out.push(base({
        id: stableId('mlflow', 'audit', 'model_create', m.name, m.creation_timestamp), time: iso(m.creation_timestamp, now, 'creation_timestamp'), stage: 'registry',
        action: act('registered_model.create', m.prompt), operation: 'registered-models/create',
        resource: { type: m.prompt ? 'prompt' : 'registered_model', id: m.name, name: m.name },
        ml: m.prompt ? undefined : { model: { name: m.name, tags: m.tags } }, details: { description: m.description || undefined, change_key: changeKey(['model_create', m.name]) },
      }));
    }
    for (const [name, p] of before) {
      const m = cur.get(name)!;
      if (p.changes) m.changes = { ...p.changes };
      const res = { type: m.prompt ? 'prompt' : 'registered_model', id: m.name, name: m.name };
      if (p.description !== m.description) {
        const n = nextChange(p, m, 'description');
        out.push(base({
          id: stableId('mlflow', 'audit', 'model_description', m.name, m.creation_timestamp, p.description, m.description, n), time: changeTime(p, m, now), stage: 'registry',
          action: act('registered_model.update', m.prompt), operation: 'registered-models/update', resource: res,
          details: { field: 'description', old: p.description, new: m.description },
        }));
      }
      // MLflow keeps no time for tag and alias writes (last_updated_timestamp does not move): they are dated when seen.
      out.push(...tagDiff(p.tags, m.tags, (k, old, val) => base({
        id: stableId('mlflow', 'audit', 'model_tag', m.name, m.creation_timestamp, k, old, val, nextChange(p, m, `tag:${k}`)), time: polled, stage: 'registry',
        action: act(val === undefined ? 'registered_model.tag_delete' : 'registered_model.tag_set', m.prompt),
        operation: val === undefined ? 'registered-models/delete-tag' : 'registered-models/set-tag', resource: res,
        details: { tag: { key: k, old, value: val }, change_key: changeKey(val === undefined ? ['model_tag_delete', m.name, k] : ['model_tag_set', m.name, k, val]) },
      })));
      for (const alias of new Set([...Object.keys(p.aliases), ...Object.keys(m.aliases)])) {
        const was = p.aliases[alias];
        const now_ = m.aliases[alias];
        if (was === now_) continue;
        const approve = now_ !== undefined && !m.prompt && isApprovalAlias(approvalCfg, alias);
        if (now_ !== undefined) aliasReported.add(aliasKey(m.name, now_, alias));
        const ev = base({
          id: stableId('mlflow', 'audit', 'alias', m.name, m.creation_timestamp, alias, was, now_, nextChange(p, m, `alias:${alias}`)), time: polled, stage: 'registry',
          action: act(now_ === undefined ? 'model_version.alias_delete' : approve ? 'model_version.approve' : 'model_version.alias_set', m.prompt),
          operation: now_ === undefined ? 'registered-models/delete-alias' : 'registered-models/alias',
          resource: versionResource({ name: m.name, version: now_ ?? was }, m.prompt),
          ml: m.prompt ? undefined : { model: { name: m.name, version: now_ ?? was, aliases: now_ !== undefined ? [alias] : undefined, approval: approve ? 'approved' : undefined } },
          details: { alias, old_version: was, new_version: now_, approval_marker: approve ? { kind: 'alias', alias } : undefined,
            approval_marker_removed: now_ === undefined && isApprovalAlias(approvalCfg, alias) ? { kind: 'alias', alias } : undefined,
            change_key: changeKey(now_ === undefined ? ['alias_delete', m.name, alias] : ['alias_set', m.name, alias, now_]) },
        });
        out.push(ev);
        if (now_ !== undefined && !m.prompt) {
          const key = versionKey(m.name, now_);
          aliasTo.set(key, [...(aliasTo.get(key) ?? []), ev]);
        }
      }
    }
    return out;
  }

  function tagDiff(
    a: Record<string, string>, b: Record<string, string>, mk: (k: string, old: string | undefined, val: string | undefined) => NormalizedEvent, ownWrite?: string,
  ): NormalizedEvent[] {
    const out: NormalizedEvent[] = [];
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      // Our own digest write-back is not news; anyone else touching that tag is.
      if (k === cfg.digest_tag && ownWrite !== undefined && b[k] === ownWrite && a[k] === undefined) continue;
      if (a[k] !== b[k]) out.push(mk(k, a[k], b[k]));
    }
    return out;
  }

  function deleted(p: VersionSnap, prompt: boolean, now: number): NormalizedEvent {
    return base({
      id: stableId('mlflow', 'audit', 'version_delete', p.name, p.version, p.creation_timestamp, p.last_updated_timestamp), time: iso(undefined, now), stage: 'registry',
      action: act('model_version.delete', prompt), operation: 'model-versions/delete', resource: versionResource(p, prompt),
      ml: prompt ? undefined : { model: { name: p.name, version: p.version, run_id: p.run_id, artifact_uri: safeUri(p.source), stage: p.current_stage } },
      details: { last_seen: { ...p, source: safeUri(p.source) }, ...(p.user_id ? { version_creator: p.user_id } : {}) },
    });
  }

  /**
   * `prev` is keyed and named as of now (a renamed model's versions under its new name);
   * `displaced` are previous versions whose key such a renamed version took over (deleted).
   */
  function diffVersions(prev: Map<string, VersionSnap>, cur: Map<string, VersionSnap>, prompts: Set<string>, now: number, displaced: VersionSnap[] = []): NormalizedEvent[] {
    const out: NormalizedEvent[] = [];
    for (const [key, v] of cur) {
      const prompt = prompts.has(v.name);
      let p = prev.get(key);
      const res = versionResource(v, prompt);
      const model = (extra: Record<string, unknown> = {}) => (prompt ? undefined : { model: { name: v.name, version: v.version, run_id: v.run_id, artifact_uri: safeUri(v.source), stage: v.current_stage, status: v.status, tags: v.tags, aliases: v.aliases.length ? v.aliases : undefined, ...extra } });
      const creator = v.user_id ? { version_creator: v.user_id } : {};
      if (p && recreated(p, v)) {
        // The number was deleted and re-used within one poll: another version, not an edit of the old one.
        out.push(deleted(p, prompt, now));
        p = undefined;
      }
      if (!p) {
        // The creator made only what create-model-version can set (source, run, tags, description):
        // aliases and a stage were set by someone MLflow does not name, reported in events of their own.
        const created = isUnset(v.current_stage) ? {} : { stage: undefined };
        out.push(base({
          id: stableId('mlflow', 'audit', 'version_create', v.name, v.version, v.creation_timestamp), time: iso(v.creation_timestamp, now, 'creation_timestamp'), stage: 'registry',
          action: act('model_version.create', prompt), operation: 'model-versions/create', resource: res,
          actor: v.user_id ? { id: v.user_id, name: v.user_id, type: 'user' } : undefined,
          ml: model({ aliases: undefined, ...created }), details: { description: v.description || undefined, change_key: changeKey(['version_create', v.name, v.version]) },
        }));
        // An alias set on it before this poll (say champion moved from v1) is an approval like its markers:
        // judged only once its run's evaluation is on record.
        if (!prompt) atCreation.set(key, [...(aliasTo.get(key) ?? []), ...markersAtCreation(v, now)]);
        continue;
      }
      const was = p;
      if (was.changes) v.changes = { ...was.changes };
      const t = changeTime(was, v, now);
      const change = (field: string, action: Action, operation: string, old: unknown, val: unknown, extra: { ml?: NormalizedEvent["ml"] } = {}) =>
        out.push(base({
          id: stableId('mlflow', 'audit', 'version', field, v.name, v.version, v.creation_timestamp, JSON.stringify(old), JSON.stringify(val), nextChange(was, v, field)), time: t, stage: 'registry',
          action: act(action, prompt), operation, resource: res, ml: model(), details: { field, old, new: val, ...creator }, ...extra,
        }));
      if (was.current_stage !== v.current_stage) {
        const approve = isApprovalStage(approvalCfg, v.current_stage);
        change('current_stage', approve ? 'model_version.approve' : 'model_version.stage_transition', 'model-versions/transition-stage', was.current_stage, v.current_stage,
          approve ? { ml: model({ approval: 'approved' }) } : {});
      }
      if (was.status !== v.status) change('status', 'model_version.status_change', 'model-versions/get', was.status, v.status);
      if (was.description !== v.description) change('description', 'model_version.description_change', 'model-versions/update', was.description, v.description);
      if (was.source !== v.source) change('source', 'model_version.source_change', 'model-versions/get', safeUri(was.source), safeUri(v.source));
      out.push(...tagDiff(was.tags, v.tags, (k, old, val) => {
        const approval = val === undefined ? undefined : approvalFromTag(approvalCfg, k, val);
        const action: Action = val === undefined ? 'model_version.tag_delete' : approval === 'approved' ? 'model_version.approve' : approval === 'rejected' ? 'model_version.reject' : 'model_version.tag_set';
        return base({
          // set_model_version_tag does not move last_updated_timestamp: dated when seen.
          id: stableId('mlflow', 'audit', 'version_tag', v.name, v.version, v.creation_timestamp, k, old, val, nextChange(was, v, `tag:${k}`)), time: iso(undefined, now), stage: 'registry',
          action: act(action, prompt), operation: val === undefined ? 'model-versions/delete-tag' : 'model-versions/set-tag', resource: res,
          ml: model({ approval }), details: { tag: { key: k, old, value: val }, ...creator,
            approval_marker: approval ? { kind: 'tag', key: k, value: val } : undefined,
            approval_marker_removed: val === undefined && approvalFromTag(approvalCfg, k, 'approved') ? { kind: 'tag', key: k } : undefined,
            change_key: changeKey(val === undefined ? ['version_tag_delete', v.name, v.version, k] : ['version_tag_set', v.name, v.version, k, val]) },
        });
      }, ownDigestTag(v)));
    }
    for (const [key, p] of prev) if (!cur.has(key)) out.push(deleted(p, prompts.has(p.name), now));
    for (const p of displaced) out.push(deleted(p, prompts.has(p.name), now));
    return out;
  }

  /**
   * What a version first seen already carries beyond its creation: aliases (those diffModels did
   * not report), a stage, approval tags. MLflow keeps no author for them, so none has an actor;
   * `details.version_creator` names the creator. Ordered so a rejection tag comes last and wins,
   * as in `approvalOfVersion`. Ids derive from the version and the marker: a re-diff gives the same.
   * Kept in `atCreation`, not returned by diffVersions: the auditor commits them after the version's run.
   * Must run after diffModels (aliasReported).
   */
  function markersAtCreation(v: VersionSnap, now: number): NormalizedEvent[] {
    const out: NormalizedEvent[] = [];
    const creator = v.user_id ? { version_creator: v.user_id } : {};
    const ev = (kind: string, key: string, value: string | undefined, action: Action, operation: string, extra: { ml?: Record<string, unknown>; details?: Record<string, unknown> }) =>
      base({
        id: stableId('mlflow', 'audit', 'version_marker', v.name, v.version, v.creation_timestamp, kind, key, value), time: iso(undefined, now), stage: 'registry',
        action, operation, resource: versionResource(v, false),
        ml: { model: { name: v.name, version: v.version, run_id: v.run_id, artifact_uri: safeUri(v.source), ...extra.ml } },
        details: { ...extra.details, ...creator, seen_at_creation: true },
      });
    for (const alias of v.aliases) {
      if (aliasReported.has(aliasKey(v.name, v.version, alias))) continue;
      const approve = isApprovalAlias(approvalCfg, alias);
      out.push(ev('alias', alias, undefined, approve ? 'model_version.approve' : 'model_version.alias_set', 'registered-models/alias', {
        ml: { aliases: [alias], approval: approve ? 'approved' : undefined },
        details: { alias, new_version: v.version, approval_marker: approve ? { kind: 'alias', alias } : undefined, change_key: changeKey(['alias_set', v.name, alias, v.version]) },
      }));
    }
    if (!isUnset(v.current_stage)) {
      const approve = isApprovalStage(approvalCfg, v.current_stage);
      out.push(ev('stage', v.current_stage!, undefined, approve ? 'model_version.approve' : 'model_version.stage_transition', 'model-versions/transition-stage', {
        ml: { stage: v.current_stage, approval: approve ? 'approved' : undefined },
        details: { field: 'current_stage', old: 'None', new: v.current_stage, approval_marker: approve ? { kind: 'stage', stage: v.current_stage } : undefined },
      }));
    }
    const decisions = Object.entries(v.tags).map(([k, val]) => [k, val, approvalFromTag(approvalCfg, k, val)] as const).filter(([, , a]) => a === 'approved' || a === 'rejected');
    for (const [k, val, approval] of decisions.sort(([, , a], [, , b]) => (a === b ? 0 : a === 'rejected' ? 1 : -1))) {
      out.push(ev('tag', k, val, approval === 'approved' ? 'model_version.approve' : 'model_version.reject', 'model-versions/set-tag', {
        ml: { tags: { [k]: val }, approval },
        details: { tag: { key: k, value: val }, approval_marker: { kind: 'tag', key: k, value: val }, change_key: changeKey(['version_tag_set', v.name, v.version, k, val]) },
      }));
    }
    return out;
  }

  return { diffModels, diffVersions, atCreation };
}

/** MLflow's stage of a version never transitioned ("None", or absent on servers without stages). */
function isUnset(stage: string | undefined): boolean {
  return !stage || stage.toLowerCase() === 'none';
}

/**
 * The approval state an existing version has when the auditor first sees the registry, so the
 * rules know versions approved before mltrail was installed (a rollout of today's production
 * model is no "never approved" deployment). Undefined when there is nothing to tell (no approval
 * decision, no alias). MLflow records neither who approved nor when: no actor, dated when seen,
 * `details.baseline: true`. One id per version (and creation time): a retry after a crash collapses.
 *
 * @example
 * baselineState(approvalCfg, snap, Date.now(), new Date().toISOString())?.action // 'model_version.approve'
 */
export function baselineState(approvalCfg: ApprovalConfig, v: VersionSnap, now: number, receivedTime: string): NormalizedEvent | undefined {
  const approval = approvalOfVersion(approvalCfg, v);
  if (approval !== 'approved' && approval !== 'rejected' && !v.aliases.length) return undefined;
  const markers = [
    ...v.aliases.filter((a) => isApprovalAlias(approvalCfg, a)).map((alias) => ({ kind: 'alias', alias })),
    ...(isApprovalStage(approvalCfg, v.current_stage) ? [{ kind: 'stage', stage: v.current_stage }] : []),
    ...Object.entries(v.tags).filter(([k, val]) => approvalFromTag(approvalCfg, k, val)).map(([key, value]) => ({ kind: 'tag', key, value })),
  ];
  return auditEvent({
    id: stableId('mlflow', 'audit', 'baseline_state', v.name, v.version, v.creation_timestamp), time: iso(undefined, now), stage: 'registry',
    action: approval === 'approved' ? 'model_version.approve' : approval === 'rejected' ? 'model_version.reject' : 'model_version.alias_set',
    operation: 'registry/baseline', resource: versionResource(v, false),
    ml: { model: {
      name: v.name, version: v.version, run_id: v.run_id, artifact_uri: safeUri(v.source), stage: v.current_stage, status: v.status,
      tags: Object.keys(v.tags).length ? v.tags : undefined, aliases: v.aliases.length ? v.aliases : undefined, approval,
    } },
    details: { baseline: true, approval_markers: markers.length ? markers : undefined, ...(v.user_id ? { version_creator: v.user_id } : {}) },
  }, receivedTime);
}
