import type { NormalizedEvent } from '../../schema/index.js';
import { modelRefOf } from '../facts.js';
import type { VersionRec } from '../registry.js';
import type { RuleContext } from './context.js';

/**
 * Helpers the model kinds share across their modules: which actions create a version and which versions an
 * event is about, and the bookkeeping of what waits (approvals for evidence, deployments for their config):
 * one sweep period and one way to forget, so both kinds age their waiting entries alike.
 */

export const CREATES = /^(model_version|model)\.(create|upload)$/;

/** The version(s) an event is about: the named one, else versions linked by artifact, hash or run. */
export function versionsOf(ev: NormalizedEvent, ctx: RuleContext): { named?: VersionRec; all: VersionRec[] } {
  const ref = modelRefOf(ev, ctx.cfg);
  if (!ref) return { all: [] };
  const { named, linked } = ctx.reg.resolve(ref);
  const all = [...(named ? [named] : []), ...linked.filter((l) => l.key !== named?.key)];
  // A create/upload without a number is a new version (Vertex UploadModel with parentModel), not the newest known one.
  if (!named && ref.name && !ref.version && !CREATES.test(ev.action)) {
    const latest = ctx.reg.versionsOf(ref.platform, ref.name, ref.scope).at(-1);
    if (latest) all.unshift(latest);
  }
  // Only a run id (a KFP metrics artifact): the versions registered from that run.
  const runId = ref.runId ?? ev.ml?.provenance?.run_id;
  if (!all.length && runId) all.push(...ctx.reg.versionsForRun(runId));
  return { named, all };
}

/** How often (event time) the waiting deployments and approvals are looked over. */
export const SWEEP_EVERY_MS = 600_000;

/** Forget a waiting entry (`<ns>|<id>`: a deployment, an approval, a session's approvals, a batch job) and its place in `<ns>-index`. */
export function dropWaiting(ctx: RuleContext, ns: 'pending' | 'advwait' | 'sessapp' | 'batchwait', id: string): void {
  ctx.delete(`${ns}|${id}`);
  const open = ctx.get<string[]>(`${ns}-index`);
  if (open?.includes(id)) ctx.set(`${ns}-index`, open.filter((x) => x !== id));
}
