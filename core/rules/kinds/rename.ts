import type { NormalizedEvent } from '../../schema/index.js';
import type { VersionRec } from '../registry.js';
import { callerText, identityOf, scopedName, serverScopeOf } from '../facts.js';
import { versionEntity, type KindImpl, type RuleContext } from './context.js';
import { renameOf } from './shared.js';

/**
 * `registry.approved_model_modified`, a model's name taken over. Serving loads a model by its name
 * (`models:/fraud@champion`, `models:/fraud/Production`), so renaming another model onto the name an approved model
 * had — the approved one renamed away before or after, as two renames between two polls of the MLflow auditor
 * report it — swaps what production loads with no alias set, no approval and no deployment to judge.
 */

/** An approved model renamed away from a name: kept until another model takes the name. */
interface Vacated {
  to: string;
  versions: string[];
  event: string;
  time: string;
}

const vacatedKey = (platform: string, name: string, scope: string | undefined) => `vacated|${platform}|${scopedName(name, scope)}`;

const approvedOf = (vs: VersionRec[]) => vs.filter((v) => v.approval?.state === 'approved');

/** The versions compared by number, for a stable finding. */
const versionNumbers = (vs: VersionRec[]) => vs.map((v) => v.version).sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));

export const nameTakeover: KindImpl = (ev, ctx) => {
  const renamed = renameOf(ev);
  if (!renamed) return;
  const { from, to } = renamed;
  // Runs before the registry applies the rename: the names still hold what they held.
  const scope = serverScopeOf(ev);
  const leaving = approvedOf(ctx.reg.versionsOf(ev.platform, from, scope));
  if (leaving.length) ctx.set(vacatedKey(ev.platform, from, scope), { to, versions: versionNumbers(leaving), event: ev.id, time: ev.time } satisfies Vacated);
  // The name's approved model: still there (renamed away next), or renamed away before.
  const displaced = approvedOf(ctx.reg.versionsOf(ev.platform, to, scope));
  const vacated = ctx.get<Vacated>(vacatedKey(ev.platform, to, scope));
  if (vacated) ctx.delete(vacatedKey(ev.platform, to, scope));
  if (!displaced.length && !vacated) return;
  report(ev, ctx, { from, to, scope, displaced, vacated, incoming: versionNumbers(leaving) });
};

function report(
  ev: NormalizedEvent,
  ctx: RuleContext,
  t: { from: string; to: string; scope: string | undefined; displaced: VersionRec[]; vacated?: Vacated; incoming: string[] },
): void {
  const approved = t.displaced.length ? versionNumbers(t.displaced) : t.vacated!.versions;
  const latest = approved.at(-1)!;
  const movedTo = t.vacated?.to;
  const entity = versionEntity({ platform: ev.platform, name: t.to, version: latest, scope: t.scope });
  ctx.detect({
    entity, key: `name_taken_over|${t.from}`, evidence: [...new Set([...(t.vacated ? [t.vacated.event] : []), ev.id])],
    title: "Approved model's name taken over by another model",
    summary: `${t.from} was renamed to ${t.to}, the name of a model with approved version${approved.length > 1 ? 's' : ''} ${approved.map((v) => `v${v}`).join(', ')}${movedTo ? ` (renamed to ${movedTo} at ${t.vacated!.time})` : ''}: serving that loads models:/${t.to}@<alias> or by stage now loads ${t.from}'s versions${t.incoming.length ? ` (approved: ${t.incoming.map((v) => `v${v}`).join(', ')})` : ''} (by ${callerText(ev.actor, ctx.cfg)})`,
    details: {
      change: 'name_taken_over', model: t.to, from_model: t.from, approved_versions: approved, approved_model_renamed_to: movedTo,
      incoming_approved_versions: t.incoming.length ? t.incoming : undefined, deployer: identityOf(ev.actor, ctx.cfg),
    },
  });
}
