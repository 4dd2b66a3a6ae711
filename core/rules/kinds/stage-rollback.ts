import type { NormalizedEvent } from '../../schema/index.js';
import { callerText, compareVersions, currentStageOf, endpointOf, identityOf, isCarriedOut, isDeployment, modelRefOf, type ModelRef } from '../facts.js';
import { endpointEntity, type RuleContext } from './context.js';
import { FollowerFindings } from './followers.js';
import { dropWaiting, loadTimeUri, movesAlias, renameOf, resolvedFrom, resolvesAtLoad, sameRegistry, stageWatchId } from './shared.js';

/**
 * `registry.version_rollback` of a live `models:/<name>/<stage>`, `/latest` or `@<alias>` deployment: its predictor loads the
 * highest version in that stage (of all) whenever it starts, so a transition that makes the stage resolve to an older
 * version — an older version moved in while the newer one is archived (`archive_existing_versions`), the newer one
 * archived or deleted — rolls the endpoint back as a deployment of that version would, with no endpoint event. Judged
 * as a deployment's rollback is: a lower version number of the same model than the one it served, approved or not.
 * Kept in this rule's state (the version each live stage deployment serves now), woken after the registry took in a
 * registry event; a direct deployment compares with what the stage made it serve last, not with what it was deployed as.
 * An alias deployment follows its alias the same way (`via: alias_moved`); a move of an approval alias back is
 * aliasRollback's finding (entity the alias), so it is followed but not said again here.
 *
 * Followed at the registry change, not at a pod start: KServe resolves the URI when a predictor starts (a restart, a
 * scale-up, a rollout), which no audit record shows, so the version the stage or alias names now is what the endpoint
 * serves from its next start on, and the change is dated at the registry event that made it.
 */

interface StageServing {
  ep: string;
  /** The URI's reference as modelRefOf read it (stage unresolved). */
  ref: ModelRef;
  /** The deployment event, as kept. */
  event: Pick<NormalizedEvent, 'id' | 'time' | 'platform' | 'actor' | 'cloud' | 'resource' | 'action'>;
  /** The version it loads now, and the event since which it does (unset: none resolved yet, or the model renamed or deleted). */
  version?: string;
  since?: string;
}

/** Live stage deployments followed at once (the oldest beyond it are forgotten). */
const MAX_STAGE_SERVINGS = 1000;

/**
 * Before the registry takes a deployment in: a stage or `latest` URI is followed from now on, serving the version it
 * resolves to now; any other URI, or the endpoint's deletion, ends it. Returns the version a followed stage made the
 * endpoint serve since it was deployed, when it differs from the one it was deployed as (for the deployment's own rollback).
 */
export function followStageDeployment(ev: NormalizedEvent, ctx: RuleContext): { version: string; event: string; via: 'stage' | 'alias' } | undefined {
  const deleting = (ev.action === 'endpoint.delete' || ev.action === 'endpoint.undeploy') && isCarriedOut(ev);
  if (!deleting && !isDeployment(ev)) return undefined;
  const ep = endpointOf(ev);
  if (!ep) return undefined;
  const id = stageWatchId(ev, ep);
  const kept = ctx.get<StageServing>(`stageserve|${id}`);
  if (deleting) {
    if (kept) dropWaiting(ctx, 'stageserve', id);
    return undefined;
  }
  const served = kept?.version && kept.since && kept.since !== kept.event.id ? { version: kept.version, event: kept.since, via: kept.ref.stage ? ('stage' as const) : ('alias' as const) } : undefined;
  const direct = modelRefOf(ev, ctx.cfg);
  if (!direct || !resolvesAtLoad(ev, direct)) {
    if (kept) dropWaiting(ctx, 'stageserve', id);
    return served;
  }
  const now = ctx.reg.loadTimeVersion(direct)?.version;
  const event = { id: ev.id, time: ev.time, platform: ev.platform, actor: ev.actor, cloud: ev.cloud, resource: ev.resource, action: ev.action };
  ctx.set(`stageserve|${id}`, { ep, ref: direct, event, ...(now ? { version: now, since: ev.id } : {}) } satisfies StageServing);
  const open = ctx.get<string[]>('stageserve-index') ?? [];
  const next = [...open.filter((k) => k !== id), id];
  for (const gone of next.slice(0, -MAX_STAGE_SERVINGS)) ctx.delete(`stageserve|${gone}`);
  ctx.set('stageserve-index', next.slice(-MAX_STAGE_SERVINGS));
  return served;
}

/**
 * After the registry took in an event: a stage transition, a version deleted or created changes what a followed
 * deployment of that model loads; to a lower version than it served, that is a rollback (`details.via`:
 * `stage_transition`, or `version_deleted` when deleting the newest made `latest` or the stage fall back). A rename or
 * deletion of the model forgets what it served: the name resolves to nothing, or to another model's numbers, which
 * are what it serves from then on.
 */
export function judgeStageRollbacks(ev: NormalizedEvent, ctx: RuleContext): void {
  const open = ctx.get<string[]>('stageserve-index');
  if (!open?.length || ev.outcome === 'failure') return;
  const renamed = renameOf(ev);
  const modelGone = !!renamed || ev.action === 'registered_model.delete';
  const deleted = ev.action === 'model_version.delete';
  const aliasMove = !modelGone && movesAlias(ev);
  if (!modelGone && !deleted && !aliasMove && !currentStageOf(ev) && !/^model_version\.create$/.test(ev.action)) return;
  const names = renamed ? [renamed.from, renamed.to] : [modelRefOf(ev, ctx.cfg)?.name ?? ev.resource?.name];
  // One registry event rolls back every deployment following the alias or stage: said once per finding (followers.ts).
  const found = new FollowerFindings(ctx, ev);
  for (const id of open) {
    const w = ctx.get<StageServing>(`stageserve|${id}`);
    if (!w?.ref.name || !names.includes(w.ref.name)) continue;
    const now = ctx.reg.loadTimeVersion(w.ref)?.version;
    if (modelGone) {
      // A model of that name on another MLflow server (or workspace) is another model: what this one serves stays.
      if (!sameRegistry(w.ref, ev)) continue;
      // The numbers it served were the old model's: not compared with those of the model that has the name now (one
      // renamed onto it, as in a swap), which its later changes are compared with; none, renamed away or deleted.
      ctx.set(`stageserve|${id}`, { ...w, version: now, since: now ? ev.id : undefined } satisfies StageServing);
      continue;
    }
    // A stage left empty (an alias deleted) loads nothing new (the predictor keeps what it has until it restarts): nothing to compare yet.
    if (!now || now === w.version) continue;
    ctx.set(`stageserve|${id}`, { ...w, version: now, since: ev.id } satisfies StageServing);
    if (!w.version || compareVersions(now, w.version) >= 0) continue;
    // An approval alias moved back: aliasRollback's finding (alias.ts), on the alias every deployment of it loads.
    if (w.ref.alias && ctx.cfg.approval.aliases.includes(w.ref.alias) && aliasMove) continue;
    const dep = w.event;
    const uri = loadTimeUri(w.ref);
    const via = deleted ? 'version_deleted' : w.ref.alias ? 'alias_moved' : 'stage_transition';
    found.judging(w.ref).detect({
      entity: endpointEntity(dep, w.ep), key: `${w.ref.name}|${now}`, evidence: [...new Set([dep.id, ...(w.since && w.since !== dep.id ? [w.since] : []), ev.id])], time: ev.time,
      title: w.ref.alias ? 'Endpoint rolled back to an older model version by an alias move' : 'Endpoint rolled back to an older model version by a stage change',
      summary: `${w.ep} loads ${uri}: since ${ev.action} ${ev.id} (by ${callerText(ev.actor, ctx.cfg)}) that is ${w.ref.name} v${now}, older than v${w.version} it served, loaded at its predictor's next start`,
      details: {
        model: w.ref.name, from_version: w.version, to_version: now, via, resolved_from: resolvedFrom(w.ref), resolved_via: w.ref.stage ? 'stage' : 'alias',
        changed_by: ev.id, deployment_event: dep.id, deployer: identityOf(ev.actor, ctx.cfg),
      },
    });
  }
  found.flush();
}
