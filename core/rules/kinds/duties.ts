import type { NormalizedEvent } from '../../schema/index.js';
import { durationMs } from '../config.js';
import { anyGlob, approvalOf, assumedRoleArnOf, endpointOf, eventScope, identityOf, isDeployment, modelRefOf, versionKey } from '../facts.js';
import type { Party, VersionRec } from '../registry.js';
import { identityEntity, setting, versionEntity, type KindImpl, type RuleContext } from './context.js';
import { CREATES, dropWaiting, versionsOf } from './shared.js';

/**
 * Kinds that judge who did what: an approver who trained, evaluated or registered the version, and one
 * identity that both writes training data and releases models. Either way one person could ship their own work.
 */

/**
 * An approval made in a role session no AssumeRole was seen for yet (STS records often come in another file,
 * later): kept a day, and judged again as the caller's when the session's AssumeRole arrives, as replay (in
 * event-time order) judges it.
 */
interface SessionApproval {
  event: NormalizedEvent;
  /** The access key of the approving call, when named (two sessions of one role and name are told apart by it). */
  key?: string;
}
const SESSION_WAIT_MS = 86_400_000;
const MAX_SESSION_APPROVALS = 20;
/** Sessions whose approvals wait at once: the oldest beyond it are forgotten (session names are often per call). */
const MAX_WAITING_SESSIONS = 1000;

export const selfApproval: KindImpl = (ev, ctx) => {
  if (ev.action === 'role.assume') return judgeSessionApprovals(ev, ctx);
  if (approvalOf(ev, ctx.cfg) !== 'approved') return;
  const session = assumedRoleArnOf(ev.actor);
  if (session && !(ev.actor as { assumed_by?: unknown } | undefined)?.assumed_by) {
    const k = `sessapp|${session}`;
    const key = typeof ev.details?.access_key_id === 'string' && ev.details.access_key_id ? ev.details.access_key_id : undefined;
    const kept = (ctx.get<SessionApproval[]>(k) ?? []).filter((x) => Math.abs(Date.parse(ev.time) - Date.parse(x.event.time)) <= SESSION_WAIT_MS);
    ctx.set(k, [...kept, { event: { ...ev, raw: undefined }, ...(key ? { key } : {}) }].slice(-MAX_SESSION_APPROVALS));
    const open = [...(ctx.get<string[]>('sessapp-index') ?? []).filter((s) => s !== session), session];
    for (const old of open.slice(0, -MAX_WAITING_SESSIONS)) ctx.delete(`sessapp|${old}`);
    ctx.set('sessapp-index', open.slice(-MAX_WAITING_SESSIONS));
  }
  judgeSelfApproval(ev, ctx);
};

/** An AssumeRole seen after approvals made in its session: those approvals are judged again as its caller's. */
function judgeSessionApprovals(ev: NormalizedEvent, ctx: RuleContext): void {
  const arn = ev.details?.assumed_role_arn;
  if (ev.outcome === 'failure' || typeof arn !== 'string' || ev.actor?.type === 'service' || ev.actor?.type === 'system') return;
  const k = `sessapp|${arn.toLowerCase()}`;
  const waiting = ctx.get<SessionApproval[]>(k);
  const caller = identityOf(ev.actor, ctx.cfg);
  if (!waiting?.length || !caller) return;
  const key = typeof ev.details?.assumed_access_key_id === 'string' ? ev.details.assumed_access_key_id : undefined;
  const mine = waiting.filter((w) => !w.key || !key || w.key === key);
  const rest = waiting.filter((w) => !mine.includes(w));
  if (rest.length) ctx.set(k, rest);
  else dropWaiting(ctx, 'sessapp', arn.toLowerCase());
  for (const w of mine) {
    if (Math.abs(Date.parse(ev.time) - Date.parse(w.event.time)) > SESSION_WAIT_MS) continue;
    judgeSelfApproval({ ...w.event, actor: { ...w.event.actor, assumed_by: caller } as NormalizedEvent['actor'] }, ctx);
  }
}

function judgeSelfApproval(ev: NormalizedEvent, ctx: RuleContext): void {
  const who = identityOf(ev.actor, ctx.cfg);
  if (!who || anyGlob(setting<string[]>(ctx, 'exempt'), who)) return;
  const roles = setting(ctx, 'roles');
  const { named, all } = versionsOf(ev, ctx);
  const hits: Array<{ role: string; p: Party; v: Pick<VersionRec, 'key' | 'name' | 'version' | 'platform' | 'scope'> }> = [];
  const ref = modelRefOf(ev, ctx.cfg);
  // An upload without a number (Vertex parentModel) is a new version: `new` until it is seen.
  const version = ref?.version ?? (ref?.name && CREATES.test(ev.action) ? 'new' : undefined);
  if (!all.length && ref?.name && version) {
    // Approved at registration: the version has no record yet, its producers do.
    const v = { key: versionKey(ref.platform, ref.name, version, ref.scope), name: ref.name, version, platform: ref.platform, scope: ref.scope };
    for (const j of ctx.reg.producers(ref)) {
      if (roles.includes('trained')) for (const p of j.trainers) if (p.identity === who) hits.push({ role: 'trained', p, v });
      if (roles.includes('evaluated')) for (const p of j.evaluators ?? []) if (p.identity === who) hits.push({ role: 'evaluated', p, v });
    }
  }
  for (const v of all) {
    if (roles.includes('trained')) for (const p of v.trainers) if (p.identity === who) hits.push({ role: 'trained', p, v });
    if (roles.includes('evaluated')) for (const p of v.evaluators) if (p.identity === who) hits.push({ role: 'evaluated', p, v });
    if (roles.includes('registered')) for (const p of v.registrants) if (p.identity === who) hits.push({ role: 'registered', p, v });
  }
  // Registered and approved in one call (an approval alias set at upload, a package created Approved): the
  // caller registered it — not yet on record, the registry takes the event in after the rules.
  if (roles.includes('registered') && CREATES.test(ev.action) && ref?.name && version && !hits.some((h) => h.role === 'registered')) {
    hits.push({ role: 'registered', p: { identity: who, event: ev.id, time: ev.time, platform: ev.platform }, v: named ?? { key: versionKey(ref.platform, ref.name, version, ref.scope), name: ref.name, version, platform: ref.platform, scope: ref.scope } });
  }
  if (!hits.length) return;
  // Not registered anywhere yet: the version this approval registers (records of it on other platforms are only linked).
  const target = named ?? (ref?.name && version ? { name: ref.name, version, platform: ref.platform, scope: ref.scope } : (all[0] ?? hits[0]!.v));
  ctx.detect({
    entity: versionEntity(target), key: who, evidence: [...new Set([...hits.map((h) => h.p.event), ev.id])], title: 'Model version approved by its own trainer / evaluator', time: ev.time,
    summary: `${who} approved ${target.version === 'new' ? `a new version of ${target.name}` : `${target.name} v${target.version}`} (${ev.platform}) after having ${[...new Set(hits.map((h) => `${h.role} it on ${h.p.platform}`))].join(' and ')}`,
    // Dated at the approval, which may be judged again when its session's AssumeRole comes: where and by whom from it.
    details: { identity: who, roles: [...new Set(hits.map((h) => h.role))], approved_on: ev.platform, linked_versions: [...new Set(hits.map((h) => h.v.key))], ...eventScope(ev) },
  });
};

interface Duty {
  time: string;
  event: string;
  what: string;
}

function writesTrainingData(ev: NormalizedEvent, trainingData: string[]): boolean {
  if (!trainingData.length) return false;
  const uris = [...(ev.ml?.data?.uris ?? []), ...(ev.ml?.data?.outputs ?? []), ...(ev.resource?.uri ? [ev.resource.uri] : [])];
  return uris.some((u) => anyGlob(trainingData, u));
}

export const separationOfDuties: KindImpl = (ev, ctx) => {
  if (ev.outcome === 'failure') return;
  const who = identityOf(ev.actor, ctx.cfg);
  if (!who || anyGlob(setting<string[]>(ctx, 'exempt'), who)) return;
  // A data write only counts in the configured stages or on training data (the URIs are gathered only then).
  const isWrite =
    anyGlob(setting(ctx, 'data_write_actions'), ev.action) &&
    (setting(ctx, 'data_write_stages').includes(ev.stage) || writesTrainingData(ev, setting<string[]>(ctx, 'training_data_uris')));
  let release: string | undefined;
  if (approvalOf(ev, ctx.cfg) === 'approved') {
    const r = modelRefOf(ev, ctx.cfg);
    release = `approved ${r?.name ?? ''}${r?.version ? ` v${r.version}` : ''}`;
  } else if (isDeployment(ev)) {
    const ep = endpointOf(ev);
    if (ep && anyGlob(setting(ctx, 'production_endpoints'), ep)) release = `deployed to ${ep}`;
  }
  if (!isWrite && !release) return;
  const lookback = durationMs(setting(ctx, 'lookback'));
  const t = Date.parse(ev.time);
  const what = isWrite ? `wrote ${ev.ml?.data?.uris?.[0] ?? ev.ml?.data?.outputs?.[0] ?? ev.resource?.name ?? ev.action}` : release!;
  const mine: Duty = { time: ev.time, event: ev.id, what };
  const otherKey = isWrite ? `release|${who}` : `write|${who}`;
  const other = ctx.get<Duty>(otherKey);
  ctx.set(isWrite ? `write|${who}` : `release|${who}`, mine);
  if (!other || t - Date.parse(other.time) > lookback) return;
  const [write, rel] = isWrite ? [mine, other] : [other, mine];
  ctx.detect({
    entity: identityEntity(who), key: 'write+release', evidence: [other.event, ev.id], title: 'One identity writes training data and releases models',
    summary: `${who} ${write.what} (${write.time}) and ${rel.what} (${rel.time}) within ${Math.round(lookback / 86_400_000)} days`,
    details: { identity: who, data_write: write, release: rel },
  });
};
