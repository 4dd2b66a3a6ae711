import type { NormalizedEvent } from '../../schema/index.js';
import { callerText, compareVersions, identityOf, modelRefOf, namedEntity, scopedName, serverScopeOf } from '../facts.js';
import type { Entity } from '../baseline.js';
import { versionEntity, type KindImpl, type RuleContext } from './context.js';
import { renameModelState, renameOf } from './shared.js';

/**
 * Moves of an MLflow approval alias (`approval.aliases`: `champion`). Serving loads
 * `models:/<name>@<alias>` when it (re)starts, so moving the alias is the deployment, and no endpoint event
 * follows. Two of the deployment rules read it: onto a version explicitly rejected
 * (`registry.unapproved_deployment`), or back to an older version (`registry.version_rollback`).
 */

/** The last version each approval alias named, kept per rule: an alias deleted and set again still has it. */
interface AliasHolder {
  version: string;
  event: string;
  time: string;
}

const ALIAS_ACTIONS = new Set(['model_version.alias_set', 'model_version.approve', 'model_version.update']);

/**
 * The aliases an event says it set: the alias of an alias write (MLflow's webhook and auditor: `details.alias`, or
 * the approval marker it names). Not `ml.model.aliases`: the auditor lists there every alias the version holds.
 */
function aliasesSetBy(ev: NormalizedEvent): string[] {
  const d = ev.details ?? {};
  const marker = d.approval_marker as { kind?: unknown; alias?: unknown } | undefined;
  const out: string[] = [];
  if (marker?.kind === 'alias' && typeof marker.alias === 'string') out.push(marker.alias);
  if (ev.action === 'model_version.alias_set' && typeof d.alias === 'string') out.push(d.alias);
  return out;
}

/** The approval aliases this event sets, with the model and version it sets them on. */
function approvalAliasesSet(ev: NormalizedEvent, ctx: RuleContext): { name: string; version: string; scope?: string; aliases: string[] } | undefined {
  if (ev.outcome === 'failure' || !ALIAS_ACTIONS.has(ev.action)) return undefined;
  const aliases = [...new Set(aliasesSetBy(ev))].filter((a) => ctx.cfg.approval.aliases.includes(a));
  if (!aliases.length) return undefined;
  const ref = modelRefOf(ev, ctx.cfg);
  return ref?.name && ref.version ? { name: ref.name, version: ref.version, scope: ref.scope, aliases } : undefined;
}

/** Keyed by the model's name where it is unique: a configured MLflow server's `fraud` is not the default server's. */
/**
 * Whether serving follows the platform's aliases and stages: MLflow's (`models:/fraud@champion`, Databricks' too).
 * A Vertex endpoint serves the version deployed to it; moving a version alias there redeploys nothing.
 */
const followsAliases = (ev: NormalizedEvent) => ev.platform === 'mlflow';

const holderKey = (platform: string, name: string, alias: string, scope: string | undefined) => `holder|${platform}|${scopedName(name, scope)}|${alias}`;

/**
 * A model renamed (the MLflow auditor's `registered_model.rename`) keeps its aliases and versions: so does what they
 * named here, or the first move under the new name had nothing to compare with (a rollback unseen). Renames of a swap
 * arrive one by one: the holder under the new name is set aside (`sw|`) for the rename that takes it on, as the
 * registry does with its version records.
 */
function renameHolders(ctx: RuleContext, platform: string, from: string, to: string, scope: string | undefined): void {
  renameModelState(ctx, 'holder', { platform, scope, from, to }, ctx.cfg.approval.aliases, (name, alias) => holderKey(platform, name, alias, scope));
}

/**
 * Track the version each approval alias names and return, per alias this event sets, the one it named before
 * (undefined the first time). A model created (again) or deleted starts over: its numbers start over too.
 */
function aliasMoves(ev: NormalizedEvent, ctx: RuleContext): Array<{ name: string; version: string; scope?: string; alias: string; before?: AliasHolder }> {
  if (!followsAliases(ev)) return [];
  if (ev.action === 'registered_model.rename') {
    const renamed = renameOf(ev);
    if (renamed) renameHolders(ctx, ev.platform, renamed.from, renamed.to, serverScopeOf(ev));
    return [];
  }
  if ((ev.action === 'registered_model.create' || ev.action === 'registered_model.delete') && ev.outcome !== 'failure') {
    const name = ev.resource?.name ?? ev.ml?.model?.name;
    if (name) for (const alias of ctx.cfg.approval.aliases) ctx.delete(holderKey(ev.platform, name, alias, serverScopeOf(ev)));
    return [];
  }
  const set = approvalAliasesSet(ev, ctx);
  if (!set) return [];
  return set.aliases.map((alias) => {
    const key = holderKey(ev.platform, set.name, alias, set.scope);
    // Not seen before here: the MLflow auditor names the version it moved from (an alias it first saw moved).
    const old = ev.details?.old_version;
    const before = ctx.get<AliasHolder>(key) ?? (typeof old === 'string' && old !== set.version ? { version: old, event: ev.id, time: ev.time } : undefined);
    ctx.set(key, { version: set.version, event: ev.id, time: ev.time } satisfies AliasHolder);
    return { name: set.name, version: set.version, scope: set.scope, alias, before };
  });
}

/**
 * Whether the event moves an approval alias or stage onto a version where serving follows them (MLflow): that move
 * deploys the version, and is judged as a deployment (aliasOnRejected), not as an approval.
 */
export function deploysByAlias(ev: NormalizedEvent, ctx: RuleContext): boolean {
  return followsAliases(ev) && (!!approvalAliasesSet(ev, ctx) || !!approvalStageSet(ev, ctx));
}

function aliasEntity(ev: NormalizedEvent, name: string, alias: string, scope: string | undefined): Entity {
  return namedEntity('model_alias', `${scopedName(name, scope)}@${alias}`, name, ev.platform);
}

/**
 * The approval stage (`approval.stages`) a legacy transition moves a version to: `models:/<name>/Production` loads
 * the newest version in it. The MLflow auditor (`details.field: current_stage`), Databricks' transition webhook.
 */
function approvalStageSet(ev: NormalizedEvent, ctx: RuleContext): { name: string; version: string; scope?: string; stage: string } | undefined {
  if (!followsAliases(ev)) return undefined;
  if (ev.outcome === 'failure' || (ev.action !== 'model_version.approve' && ev.action !== 'model_version.stage_transition')) return undefined;
  const d = ev.details ?? {};
  const stage = d.field === 'current_stage' && typeof d.new === 'string' ? d.new : typeof d.to_stage === 'string' ? d.to_stage : undefined;
  if (!stage || !ctx.cfg.approval.stages.some((s) => s.toLowerCase() === stage.toLowerCase())) return undefined;
  const ref = modelRefOf(ev, ctx.cfg);
  return ref?.name && ref.version ? { name: ref.name, version: ref.version, scope: ref.scope, stage } : undefined;
}

/**
 * `registry.unapproved_deployment`: an approval alias moved onto a version whose last decision was a rejection,
 * or such a version moved to an approval stage.
 */
export const aliasOnRejected: KindImpl = (ev, ctx) => {
  const moves: Array<{ name: string; version: string; scope?: string; alias?: string; stage?: string; before?: AliasHolder }> = [...aliasMoves(ev, ctx)];
  const staged = approvalStageSet(ev, ctx);
  if (staged) moves.push(staged);
  for (const move of moves) {
    const target = ctx.reg.resolve({ platform: ev.platform, name: move.name, version: move.version, scope: move.scope }).named;
    // Rejected, or put back to pending after a rejection (not approved since): the decision stands.
    const rejection = target?.approval?.state === 'rejected' ? target.approval : target?.approval?.state === 'pending' ? target.rejected : undefined;
    if (!target || !rejection) continue;
    const by = callerText(ev.actor, ctx.cfg);
    const pointer = move.alias !== undefined ? `${move.name}@${move.alias}` : `${move.name}/${move.stage}`;
    ctx.detect({
      entity: versionEntity(target), key: move.alias !== undefined ? `alias|${move.alias}|rejected` : `stage|${move.stage}|rejected`, evidence: [rejection.event, ev.id].filter(Boolean),
      title: move.alias !== undefined ? 'Approval alias moved onto a rejected model version' : 'Rejected model version moved to an approval stage',
      summary: `${pointer} moved ${move.before ? `from v${move.before.version} ` : ''}to v${move.version}, rejected at ${rejection.time}${rejection === target.approval ? '' : ' and set back to pending since'} (by ${by})`,
      details: {
        model: move.name, alias: move.alias, stage: move.stage, from_version: move.before?.version, to_version: move.version, reason: 'rejected',
        rejected_at: rejection.time, rejected_by: rejection.identity, deployer: identityOf(ev.actor, ctx.cfg),
      },
    });
  }
};

/** `registry.version_rollback`: an approval alias moved to an older version than the one it named. */
export const aliasRollback: KindImpl = (ev, ctx) => {
  for (const move of aliasMoves(ev, ctx)) {
    if (!move.before || compareVersions(move.version, move.before.version) >= 0) continue;
    ctx.detect({
      entity: aliasEntity(ev, move.name, move.alias, move.scope), key: `${move.name}|${move.version}`, evidence: [...new Set([move.before.event, ev.id])],
      title: 'Approval alias moved back to an older model version',
      summary: `${move.name}@${move.alias} moved from v${move.before.version} to older v${move.version} (by ${callerText(ev.actor, ctx.cfg)})`,
      details: { model: move.name, alias: move.alias, from_version: move.before.version, to_version: move.version, deployer: identityOf(ev.actor, ctx.cfg) },
    });
  }
};
