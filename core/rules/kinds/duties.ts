import type { NormalizedEvent } from '../../schema/index.js';
import { durationMs } from '../config.js';
import { anyGlob, approvalOf, assumedRoleArnOf, endpointOf, eventScope, identityOf, isDeployment, modelRefOf, versionKey } from '../facts.js';
import type { Party, VersionRec } from '../registry.js';
import { identityEntity, setting, versionEntity, type KindImpl, type RuleContext } from './context.js';
import { CREATES, dropWaiting, versionsOf } from './shared.js';
import { completedReportText, heldUpload, sweepHeldUploads, unjudgedText, type CompletedReport, type LostUpload, type Unjudged } from './multipart.js';
import { datasetRoot } from './provenance.js';
import { learnStudioRoles, studioProfileMaker, studioRoleOwnership } from './studio-roles.js';

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

/** Notebook execution roles learned (lower-case role ARN → what made it one), at most this many. */
const NOTEBOOK_ROLES_KEY = 'notebook-roles';
const MAX_NOTEBOOK_ROLES = 500;

/**
 * Learns the roles people's notebooks run as: a notebook instance's `RoleArn` (Create/UpdateNotebookInstance,
 * `details.role_arn`) and the Studio execution roles a domain or user profile sets (`details.studio_execution_roles`).
 */
function learnNotebookRoles(ev: NormalizedEvent, ctx: RuleContext): void {
  if (ev.outcome === 'failure') return;
  const d = ev.details ?? {};
  const found: Array<[string, string]> = [];
  if (ev.resource?.type === 'notebook_instance' && typeof d.role_arn === 'string') found.push([d.role_arn, `notebook instance ${ev.resource.name ?? ''}`.trim()]);
  const studio = d.studio_execution_roles as Record<string, unknown> | undefined;
  if (studio && typeof studio === 'object') {
    for (const k of ['default_user_role', 'default_space_role', 'user_profile_role']) {
      const r = studio[k];
      if (typeof r === 'string' && r) found.push([r, k === 'user_profile_role' ? `Studio user profile ${String(studio.user_profile ?? '')}` : `Studio domain ${String(studio.domain_id ?? '')} default`]);
    }
  }
  if (!found.length) return;
  const known = ctx.get<Record<string, string>>(NOTEBOOK_ROLES_KEY) ?? {};
  let changed = false;
  for (const [arn, why] of found) if (!known[arn.toLowerCase()]) (known[arn.toLowerCase()] = why), (changed = true);
  if (!changed) return;
  const keys = Object.keys(known);
  for (const k of keys.slice(0, Math.max(0, keys.length - MAX_NOTEBOOK_ROLES))) delete known[k];
  ctx.set(NOTEBOOK_ROLES_KEY, known);
}

/** Roles seen making models (lower-case role ARN → when first seen): a job, a Model or a registered version. */
const PRODUCER_ROLES_KEY = 'producer-roles';
const MAX_PRODUCER_ROLES = 2000;

/**
 * Learns the roles that make models: a successful create of a job (training, processing, tuning, compilation…), a
 * Model, or a model version (a package registered), by a role session (`session_issuer`). A Studio profile's role never
 * seen doing any of these is an approver's (see notebookRoleOf).
 */
function learnProducerRole(ev: NormalizedEvent, ctx: RuleContext): void {
  const role = ev.actor?.session_issuer;
  if (typeof role !== 'string' || !role || ev.outcome === 'failure') return;
  if (!/\.(create|upload)$/.test(ev.action) || !(ev.ml?.job || ev.ml?.model)) return;
  const known = ctx.get<Record<string, string>>(PRODUCER_ROLES_KEY) ?? {};
  if (known[role.toLowerCase()]) return;
  known[role.toLowerCase()] = ev.time;
  const keys = Object.keys(known);
  for (const k of keys.slice(0, Math.max(0, keys.length - MAX_PRODUCER_ROLES))) delete known[k];
  ctx.set(PRODUCER_ROLES_KEY, known);
}

/**
 * The notebook execution role an approval was made in, and why it is one: a role a notebook instance or Studio was
 * seen given, one named like the execution role SageMaker creates for Studio (`AmazonSageMaker-ExecutionRole-*`), or one
 * `notebook_roles` lists (ARN or name globs). A call a service made for the role (`invokedBy`: a pipeline step
 * registering its model Approved) is the service's, not the notebook's: undefined.
 */
function notebookRoleOf(ev: NormalizedEvent, ctx: RuleContext): { role: string; why: string } | undefined {
  const role = ev.actor?.session_issuer;
  if (typeof role !== 'string' || !role || typeof ev.details?.invoked_by === 'string') return undefined;
  // Role chaining: a session of another role that a notebook role's machine-named session (`role:<name>/SageMaker`, as
  // the engine names who assumed it) assumed is still the notebook's: any cell could assume the approver role too.
  const by = (ev.actor as { assumed_by?: unknown } | undefined)?.assumed_by;
  const from = typeof by === 'string' ? /^role:([^/]+)\//.exec(by)?.[1] : undefined;
  const chained = from ? notebookRoleNamed(from, ctx) : undefined;
  if (chained) return { role, why: `assumed from notebook role ${from} (${chained})` };
  // A session that names its person — a source identity (Studio's source-identity propagation names the user profile;
  // STS keeps it across role chaining, unchangeable) or the Identity Center user it was made for — is that person's
  // approval: Studio's Model Registry UI approving as the profile's role is then an accountable review, not a finding.
  const d = ev.details ?? {};
  if ((typeof d.source_identity === 'string' && d.source_identity) || (typeof d.on_behalf_of === 'string' && d.on_behalf_of)) return undefined;
  const direct = notebookRoleNamed(role, ctx);
  if (!direct) return undefined;
  // A dedicated approver profile: the role is one Studio user profile's own (studioRoleOwnership: no other profile, no
  // domain default, no notebook instance) and was never seen making a job, Model or version. Its approvals are that
  // profile's user's, as a source identity would have said: quiet. A role seen making models is a workbench's.
  // A role `notebook_roles` lists is a notebook's whatever was seen of it.
  const listed = anyGlob(setting<string[]>(ctx, 'notebook_roles'), role) || anyGlob(setting<string[]>(ctx, 'notebook_roles'), /:role\/(?:.*\/)?([^/]+)$/.exec(role)?.[1] ?? role);
  const owner = listed ? undefined : studioRoleOwnership(role, ctx).owner;
  if (owner && !ctx.get<Record<string, string>>(PRODUCER_ROLES_KEY)?.[role.toLowerCase()]) {
    // Unless the profile was made (or re-pointed at the role) by someone who trained, evaluated or registered the
    // version: a trainer making themself a fresh profile to approve from is no other person's review, and the role's
    // sessions name no person the trained/evaluated check could compare.
    const maker = studioProfileMaker(owner, ctx);
    const did = maker ? partOf(ev, ctx, maker) : undefined;
    if (!did) return undefined;
    return { role, why: `${direct}, made by ${maker}, who ${did} the version` };
  }
  return { role, why: direct };
}

/** Whether `identity` trained, evaluated or registered (the rule's `roles`) the version `ev` approves: the first of these. */
function partOf(ev: NormalizedEvent, ctx: RuleContext, identity: string): string | undefined {
  const roles = setting(ctx, 'roles');
  const { all } = versionsOf(ev, ctx);
  const parties: Array<[string, Party[]]> = all.flatMap((v) => [['trained', v.trainers], ['evaluated', v.evaluators], ['registered', v.registrants]] as Array<[string, Party[]]>);
  const ref = modelRefOf(ev, ctx.cfg);
  if (!all.length && ref?.name) for (const j of ctx.reg.producers(ref)) parties.push(['trained', j.trainers], ['evaluated', j.evaluators ?? []]);
  return parties.find(([r, ps]) => roles.includes(r as never) && ps.some((p) => p.identity === identity))?.[0];
}

/** Why a role (ARN, or a bare role name from a session's caller) is a notebook's execution role, if it is one. */
function notebookRoleNamed(role: string, ctx: RuleContext): string | undefined {
  const known = ctx.get<Record<string, string>>(NOTEBOOK_ROLES_KEY) ?? {};
  const name = role.startsWith('arn:') ? /:role\/(?:.*\/)?([^/]+)$/.exec(role)?.[1] : role;
  const learned = role.startsWith('arn:') ? known[role.toLowerCase()] : Object.entries(known).find(([arn]) => arn.endsWith(`/${role.toLowerCase()}`))?.[1];
  if (learned) return learned;
  if (name && /^AmazonSageMaker-ExecutionRole-/i.test(name)) return "named as SageMaker's Studio execution role";
  if (anyGlob(setting<string[]>(ctx, 'notebook_roles'), role) || (name && anyGlob(setting<string[]>(ctx, 'notebook_roles'), name))) return 'listed in notebook_roles';
  return undefined;
}

/**
 * A model version approved in a notebook's execution role: every cell of every notebook run as that role (and any
 * package a cell installed) can approve, and a Studio role's sessions name no person, so the approval is nobody's review.
 * One finding per version and role; `notebook_approvals: false` turns it off.
 */
function judgeNotebookApproval(ev: NormalizedEvent, ctx: RuleContext): void {
  if (!setting<boolean>(ctx, 'notebook_approvals')) return;
  const nb = notebookRoleOf(ev, ctx);
  if (!nb) return;
  const who = identityOf(ev.actor, ctx.cfg);
  if (who && anyGlob(setting<string[]>(ctx, 'exempt'), who)) return;
  const { named, all } = versionsOf(ev, ctx);
  const ref = modelRefOf(ev, ctx.cfg);
  const target = named ?? (ref?.name && ref.version ? { name: ref.name, version: ref.version, platform: ref.platform, scope: ref.scope } : all[0]);
  if (!target) return;
  ctx.detect({
    entity: versionEntity(target), key: `notebook|${nb.role.toLowerCase()}`, evidence: [ev.id], title: 'Model version approved from a notebook execution role', time: ev.time,
    summary: `${who ?? nb.role} approved ${target.name} v${target.version} (${ev.operation}) as ${nb.role}, a notebook execution role (${nb.why}): any notebook run as it could have, no approver is accountable`,
    details: { identity: who, roles: ['notebook'], approved_on: ev.platform, approver_role: nb.role, notebook_role: nb.why, ...eventScope(ev) },
  });
}

export const selfApproval: KindImpl = (ev, ctx) => {
  if (ev.action === 'role.assume') return judgeSessionApprovals(ev, ctx);
  learnNotebookRoles(ev, ctx);
  learnStudioRoles(ev, ctx);
  learnProducerRole(ev, ctx);
  if (approvalOf(ev, ctx.cfg) !== 'approved') return;
  judgeNotebookApproval(ev, ctx);
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
    const judged = { ...w.event, actor: { ...w.event.actor, assumed_by: caller } as NormalizedEvent['actor'] };
    // A notebook role's session that assumed the approver role, its AssumeRole read after the approval: the chain is known now.
    judgeNotebookApproval(judged, ctx);
    judgeSelfApproval(judged, ctx);
  }
}

/**
 * Whether an approval was made in a role session whose taker is not known: no AssumeRole seen for it, and no person
 * named in it (a source identity, an Identity Center user): its identity is then only the session's name.
 */
function chainUnknown(ev: NormalizedEvent): boolean {
  const d = ev.details ?? {};
  if ((typeof d.source_identity === 'string' && d.source_identity) || (typeof d.on_behalf_of === 'string' && d.on_behalf_of)) return false;
  return !!assumedRoleArnOf(ev.actor) && !(ev.actor as { assumed_by?: unknown } | undefined)?.assumed_by;
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
    // In a role session no AssumeRole was seen for (yet): `who` is the session's name, whoever took it (judged again as
    // the caller's if its AssumeRole comes within a day).
    details: { identity: who, roles: [...new Set(hits.map((h) => h.role))], approved_on: ev.platform, linked_versions: [...new Set(hits.map((h) => h.v.key))], ...(chainUnknown(ev) ? { role_chain_unknown: true } : {}), ...eventScope(ev) },
  });
};

interface Duty {
  time: string;
  event: string;
  what: string;
  /** A write in parts: `UploadPart, made current by CompleteMultipartUpload`, or the part of an upload left unjudged. */
  operation?: string;
  /** A write in parts whose completion can no longer be judged (multipart.ts): why, and which upload. */
  unjudged?: Unjudged;
  upload_id?: string;
  /** A write in parts completing an upload reported unjudged earlier (multipart.ts): that report. */
  completes_unjudged?: CompletedReport;
  /** The events that made the write when more than `event` (its part and completion); not shown in `details`. */
  evidence?: string[];
  /** What it was about, for `learn_days`: the dataset written (folder or bucket), the model approved, the endpoint. */
  target?: string;
}

/** Whether a data write lands where this rule judges writes: in `data_write_stages`, or under `training_data_uris`. */
function onJudgedData(ev: NormalizedEvent, ctx: RuleContext): boolean {
  return setting<string[]>(ctx, 'data_write_stages').includes(ev.stage) || writesTrainingData(ev, setting<string[]>(ctx, 'training_data_uris'));
}

function writesTrainingData(ev: NormalizedEvent, trainingData: string[]): boolean {
  if (!trainingData.length) return false;
  const uris = [...(ev.ml?.data?.uris ?? []), ...(ev.ml?.data?.outputs ?? []), ...(ev.resource?.uri ? [ev.resource.uri] : [])];
  return uris.some((u) => anyGlob(trainingData, u));
}

const wrote = (ev: NormalizedEvent) => ev.ml?.data?.uris?.[0] ?? ev.ml?.data?.outputs?.[0] ?? ev.resource?.name ?? ev.action;
/** The data source a write is about, as `ingestion.unfamiliar_writer` names it (a dataset folder, else the bucket). */
const writtenSource = (ev: NormalizedEvent) => datasetRoot(wrote(ev)) ?? wrote(ev);
/** Who wrote, as this rule tells identities apart: also who wrote a part of an upload in parts (multipart.ts `writerOf`). */
const judgedIdentity = (ev: NormalizedEvent, ctx: RuleContext): string | undefined => {
  const who = identityOf(ev.actor, ctx.cfg);
  return who && !anyGlob(setting<string[]>(ctx, 'exempt'), who) ? who : undefined;
};

/** Who wrote a part of an upload in parts, as this rule tells writers apart (multipart.ts `writerOf`). */
const partWriter = (p: NormalizedEvent, ctx: RuleContext): string | undefined => identityOf(p.actor, ctx.cfg);

/** Uploads in parts to judged data held a week with no completion seen count as their writers' writes then (see multipart.ts). */
export const sweepHeldDutyWrites: KindImpl = (_ev, ctx) => sweepHeldUploads(ctx, (lost) => judgeLostWrite(lost, ctx), (p) => partWriter(p, ctx));

/**
 * An upload in parts that left the hold unfinished: whether it was completed can no longer be judged, so each writer
 * of it (its first part's, and the others held) is taken as having written then, dated at their part — else uploads
 * that never complete, pushing a real one out, would hide that write.
 */
function judgeLostWrite(lost: LostUpload, ctx: RuleContext): void {
  for (const part of [lost.part, ...(lost.others ?? [])]) {
    const who = judgedIdentity(part, ctx);
    if (who) judgeDuty(ctx, who, 'write', { time: part.time, event: part.id, what: `started writing ${wrote(part)} in parts`, operation: part.operation, unjudged: lost.unjudged, upload_id: lost.upload_id, target: writtenSource(part) }, true);
  }
}

export const separationOfDuties: KindImpl = (ev, ctx) => {
  sweepHeldDutyWrites(ev, ctx);
  if (ev.outcome === 'failure') return;
  const lost = (l: LostUpload) => judgeLostWrite(l, ctx);
  // An aborted upload in parts wrote nothing: it forgets its held part; one to data this rule does not judge is not remembered.
  if (ev.operation === 'AbortMultipartUpload') return void heldUpload(ev, ctx, () => onJudgedData(ev, ctx), lost);
  // A data write only counts in the configured stages or on training data (the URIs are gathered only then).
  const isWrite = anyGlob(setting(ctx, 'data_write_actions'), ev.action) && onJudgedData(ev, ctx);
  // Written in parts, the data changes only when the upload completes (an aborted one wrote nothing): the parts are held
  // and the completion is the write, its completer's and each other writer's of its parts, whoever completed it. Before
  // the exempt test, so an exempt identity's completion still ends the upload it completes.
  const carried = isWrite ? heldUpload(ev, ctx, () => true, lost, (p) => partWriter(p, ctx)) : undefined;
  if (carried === 'skip') return;
  for (const part of carried?.otherWriters ?? []) {
    const by = judgedIdentity(part, ctx);
    if (by) judgeDuty(ctx, by, 'write', { time: ev.time, event: part.id, what: `wrote ${wrote(part)}`, operation: carried!.operation, evidence: [part.id, ev.id], target: writtenSource(part) });
  }
  const who = judgedIdentity(ev, ctx);
  if (!who) return;
  let release: string | undefined;
  let target: string | undefined;
  if (approvalOf(ev, ctx.cfg) === 'approved') {
    const r = modelRefOf(ev, ctx.cfg);
    release = `approved ${r?.name ?? ''}${r?.version ? ` v${r.version}` : ''}`;
    target = `model ${r?.name ?? ''}`;
  } else if (isDeployment(ev)) {
    const ep = endpointOf(ev);
    if (ep && anyGlob(setting(ctx, 'production_endpoints'), ep)) {
      release = `deployed to ${ep}`;
      target = `endpoint ${ep}`;
    }
  }
  if (isWrite) judgeDuty(ctx, who, 'write', { time: ev.time, event: ev.id, what: `wrote ${wrote(ev)}`, target: writtenSource(ev), ...(carried ? { operation: carried.operation, evidence: carried.evidence } : {}), ...(carried?.completes ? { completes_unjudged: carried.completes } : {}) });
  else if (release) judgeDuty(ctx, who, 'release', { time: ev.time, event: ev.id, what: release, target });
};

/**
 * `who`'s write or release, kept (the latest of each), and judged against their other duty within `lookback`.
 * `dated`: the duty is not this event's (a lost upload's part): the alert is dated at the later of the two.
 */
function judgeDuty(ctx: RuleContext, who: string, duty: 'write' | 'release', mine: Duty, dated = false): void {
  const lookback = durationMs(setting(ctx, 'lookback'));
  const t = Date.parse(mine.time);
  const other = ctx.get<Duty>(duty === 'write' ? `release|${who}` : `write|${who}`);
  const prev = ctx.get<Duty>(`${duty}|${who}`);
  // A write judged late (dated at its part) does not replace a later one kept.
  if (!prev || !dated || Date.parse(prev.time) <= t) ctx.set(`${duty}|${who}`, mine);
  if (!other || t - Date.parse(other.time) > lookback) return;
  const [write, rel] = duty === 'write' ? [mine, other] : [other, mine];
  const shown = ({ evidence: _evidence, target: _target, ...d }: Duty) => d;
  // In the order judged; a duty judged late (dated) in event-time order.
  const [first, last] = dated && Date.parse(mine.time) < Date.parse(other.time) ? [mine, other] : [other, mine];
  const learned = learnPattern(ctx, who, write, rel, Date.parse(write.time) >= Date.parse(rel.time) ? write.time : rel.time);
  if (learned?.quiet) return;
  ctx.detect({
    entity: identityEntity(who), key: learned?.key ?? 'write+release', evidence: [...new Set([first, last].flatMap((d) => d.evidence ?? [d.event]))], title: 'One identity writes training data and releases models',
    ...(dated ? { time: Date.parse(write.time) >= Date.parse(rel.time) ? write.time : rel.time } : {}),
    summary: `${who} ${write.what} (${write.time}${write.operation ? `, ${write.operation}` : ''}) and ${rel.what} (${rel.time}) within ${Math.round(lookback / 86_400_000)} days${write.unjudged ? `; whether the upload was completed can no longer be judged: ${unjudgedText(write.unjudged)}` : ''}${write.completes_unjudged ? completedReportText(write.completes_unjudged) : ''}${learned?.text ?? ''}`,
    details: { identity: who, data_write: shown(write), release: shown(rel), ...(learned?.details ?? {}) },
  });
}

/**
 * What `learn_days` (opt-in) learned of an identity that writes training data and releases models: the pairs (data
 * source → model or endpoint) it did both for, on distinct UTC days. Each finding still alerts while learning; on the
 * `learn_days`-th day the finding says the pattern is learned from then on (its own alert, key `pattern_learned`:
 * never silent), and afterwards the same pairs are quiet while a new one — another dataset written, another model or
 * endpoint released — alerts (key `outside_pattern`) and is not learned: an identity used for something else than it
 * did every day still stands out. Opt-in because whoever holds the identity could do both on purpose for those days to
 * have it learned; the learning alerts say so.
 */
interface LearnedPattern {
  /** Distinct UTC days a pair was seen on while learning (at most learn_days). */
  days: string[];
  /** `source → target` pairs seen while learning (at most MAX_LEARNED_PAIRS). */
  pairs: string[];
  /** When the pattern was learned (the learn_days-th day's finding). */
  learned_at?: string;
  /** While learning: the distinct UTC days each pair was seen on (at most learn_days each, MAX_LEARNED_PAIRS pairs). */
  pair_days?: Record<string, string[]>;
}
const MAX_LEARNED_PAIRS = 20;

function learnPattern(ctx: RuleContext, who: string, write: Duty, rel: Duty, time: string): { quiet?: true; key?: string; text?: string; details?: Record<string, unknown> } | undefined {
  const days = setting<number>(ctx, 'learn_days');
  if (!days || !write.target || !rel.target) return undefined;
  const pair = `${write.target} → ${rel.target}`;
  const k = `sodpattern|${who}`;
  const p = ctx.get<LearnedPattern>(k) ?? { days: [], pairs: [] };
  if (p.learned_at) {
    if (p.pairs.includes(pair)) return { quiet: true };
    return {
      key: 'outside_pattern', text: `; outside the pattern learned for it on ${p.learned_at} (${p.pairs.join(', ')})`,
      details: { pattern: { learned_at: p.learned_at, pairs: p.pairs, pair, outside: true } },
    };
  }
  const day = time.slice(0, 10);
  // Days are counted per pair: a pair done once, on the day another reached learn_days, is no routine (an identity
  // doing its nightly pair for N-1 days, then a pair of its choosing beside it on day N, had that one learned too).
  const before = p.pair_days ?? {};
  const seen = before[pair] ?? [];
  const pairDays = seen.includes(day) ? seen : [...seen, day].slice(-days);
  const rest = Object.entries(before).filter(([q]) => q !== pair);
  const byPair = Object.fromEntries([...rest.slice(Math.max(0, rest.length - MAX_LEARNED_PAIRS + 1)), [pair, pairDays]]);
  const next: LearnedPattern = { days: pairDays, pairs: Object.keys(byPair), pair_days: byPair };
  if (pairDays.length >= days) {
    // Learned: the pairs seen on learn_days days (this one; another too when it got there the same day).
    const learnedPairs = Object.entries(byPair).filter(([, d]) => d.length >= days).map(([q]) => q);
    const learned: LearnedPattern = { days: pairDays, pairs: learnedPairs, learned_at: time };
    ctx.set(k, learned);
    return {
      key: 'pattern_learned', text: `; seen on ${days} days: from now on, ${learnedPairs.join(', ')} by ${who} is not alerted (learn_days), anything else it writes or releases still is`,
      details: { pattern: { learned_at: time, pairs: learnedPairs, days: pairDays, pair } },
    };
  }
  if (pairDays.length !== seen.length || !(pair in before)) ctx.set(k, next);
  return { details: { pattern: { learning: true, days: pairDays.length, of: days, pair } } };
}
