import type { NormalizedEvent } from '../../schema/index.js';
import { anyGlob, approvalOf, eventScope, evidenceValues, identityOf, modelRefOf, serverScopeOf, versionKey } from '../facts.js';
import { uploadKey, type VersionRec } from '../registry.js';
import { setting, versionEntity, waitStart, type KindImpl, type RuleContext } from './context.js';
import { CREATES, dropWaiting, noteVersionState, renameOf, renameVersionState, sweepWaiting, versionsOf } from './shared.js';

/**
 * The adversarial-evaluation kind: a failed adversarial evaluation, and an approval with none on record.
 * Approvals are held back a while before judging, because the evidence often arrives after the approval.
 */

interface AdvEvidence {
  key: string;
  value: unknown;
  event: string;
  /** Evidence that counts only with an author, and only for approvals it came before (see loggedModelEvidence). */
  checked?: CheckedEvidence;
  /**
   * Who wrote it into the registry (a version tag, SageMaker metadata: stage registry), when the record names them:
   * a verdict anyone who may tag can set (`adv_robustness: passed`) counts for no approval by the same identity.
   */
  setBy?: string;
}

/** What an approval is judged against when the evidence is checked: its author, when it was logged and read. */
interface CheckedEvidence {
  /** Who logged it (the evaluation run's user), when known. */
  author?: string;
  /** Why no author is known (the connector's `details.evaluation_author_unknown`). */
  unknown?: string;
  /** When it was logged (event time: the latest metric's timestamp, the client's), ms. */
  at: number;
  /** The auditor first read it in a poll after one that had seen the version approved (`details.read_after_approval`), ms. */
  readAfterApproval?: number;
}

/**
 * Metrics other runs logged for an MLflow 3 logged model (the auditor's `logged-models/get` evaluations): anyone who
 * may log to any run can log a metric under the model's id, so they count as adversarial evidence only when the
 * evaluation run names its author, and only for an approval they were logged before: by their timestamps (the
 * client's), and by when the auditor first read them — it reads them again just before each approval it reports, so
 * metrics it first reads in a later poll (`details.read_after_approval`) were logged after the approval was seen,
 * whatever their timestamps say.
 */
const loggedModelEvidence = (ev: NormalizedEvent) => ev.channel === 'mlflow.audit' && ev.operation === 'logged-models/get';

/** An approval the checked evidence is measured against: its time, and who approved (when the record names them). */
interface ApprovalAt {
  time: number;
  approver?: string;
}

/** Why a piece of evidence does not count for an approval, or undefined when it does. */
function notCounted(e: AdvEvidence, a: ApprovalAt | undefined): string | undefined {
  // The approver vouching for their own approval: a tag or metadata verdict they set themself is no evaluation.
  if (e.setBy && a?.approver && e.setBy === a.approver) return `set by the approver (${e.setBy}) in the registry`;
  const c = e.checked;
  if (!c) return undefined;
  if (!c.author) return `no author known (${c.unknown ?? 'the evaluation run names none'})`;
  if (a && c.at > a.time) return `logged after the approval (${new Date(c.at).toISOString()})`;
  if (a && c.readAfterApproval !== undefined && a.time < c.readAfterApproval) return `first read by the auditor at ${new Date(c.readAfterApproval).toISOString()}, after the version was approved`;
  return undefined;
}

/** Words an evaluation's verdict is written in; anything else that is not a number is no verdict. */
const PASS_WORDS = new Set(['passed', 'pass', 'true', 'yes', 'ok', 'success', 'succeeded']);
const FAIL_WORDS = new Set(['failed', 'fail', 'false', 'no', 'failure']);

/** The judging settings of the kind: the floor, the lower-is-better keys and the keys that are not scores. */
interface AdvScale {
  minScore: number;
  lowerBetter: string[];
  parameters: string[];
}

/**
 * What an adversarial value says: a score (against `min_score`, or its complement for lower-is-better
 * metrics), a pass or fail word, else nothing — a placeholder (`pending`, `skipped`, `n/a`, ``) is not an
 * evaluation: it used to count as a pass, so stamping one at registration silenced the missing-evaluation alert.
 * A key matching `parameters` sets the attack up (`adv_epsilon: 0.03` read as a score of 3 % failed every
 * model); a number above 1 is a percent (`adversarial_accuracy: 40` read as 40 ≥ 0.5 passed), above 100 or
 * below 0 no score at all.
 */
function advVerdict(f: AdvEvidence, scale: AdvScale): 'pass' | 'fail' | undefined {
  if (anyGlob(scale.parameters, f.key)) return undefined;
  const n = typeof f.value === 'number' ? f.value : typeof f.value === 'string' ? scoreOf(f.value) : undefined;
  if (n !== undefined && Number.isFinite(n)) {
    if (n < 0 || n > 100) return undefined;
    const score = n > 1 ? n / 100 : n;
    return (anyGlob(scale.lowerBetter, f.key) ? score > 1 - scale.minScore : score < scale.minScore) ? 'fail' : 'pass';
  }
  if (typeof f.value === 'boolean') return f.value ? 'pass' : 'fail';
  const s = String(f.value).trim().toLowerCase();
  return PASS_WORDS.has(s) ? 'pass' : FAIL_WORDS.has(s) ? 'fail' : undefined;
}

/** A score written as text: `0.81`, `.81`, `+0.8`, `1e-05` (Python's str of a small float), `0,81`, `85%`. */
function scoreOf(text: string): number | undefined {
  const m = /^([+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:e[+-]?\d+)?)(%?)$/i.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]!.replace(',', '.'));
  return Number.isFinite(n) ? (m[2] ? n / 100 : n) : undefined;
}

function adversarialOf(ev: NormalizedEvent, prefixes: string[], scale: AdvScale, setter?: string): AdvEvidence[] {
  const after = typeof ev.details?.read_after_approval === 'string' ? Date.parse(ev.details.read_after_approval) : NaN;
  const checked: CheckedEvidence | undefined = loggedModelEvidence(ev)
    ? {
        ...(ev.actor?.id ? { author: ev.actor.id } : {}),
        ...(typeof ev.details?.evaluation_author_unknown === 'string' ? { unknown: ev.details.evaluation_author_unknown } : {}),
        at: Date.parse(ev.time),
        ...(Number.isFinite(after) ? { readAfterApproval: after } : {}),
      }
    : undefined;
  return evidenceValues(ev)
    .filter(([k]) => prefixes.some((p) => k.toLowerCase().startsWith(p.toLowerCase())))
    // A metric is measured; a tag or metadata value is only written: the writer is what vouches for it.
    .map(([key, value]) => ({ key, value, event: ev.id, ...(checked ? { checked } : {}), ...(setter && !(key in (ev.ml?.metrics ?? {})) ? { setBy: setter } : {}) }))
    .filter((f) => advVerdict(f, scale) !== undefined);
}

/**
 * An approval seen before any adversarial evidence: judged when evidence comes (no alert) or ADV_GRACE_MS of
 * event time later. A registry's approval webhook arrives at once, while the run's metrics come with the next
 * poll of an auditor or pipeline: judging on arrival raised a false alert that replay (by event time) did not.
 */
interface PendingApproval {
  keys: string[];
  at: number;
  /** Receipt of the approval (ms). */
  rcv?: number;
  time: string;
  event: string;
  subject: { name: string; version: string; platform: string; scope?: string };
  approver?: string;
  /** Where the approval was made and its caller as logged (eventScope), for the alert judged an hour later. */
  scope?: ReturnType<typeof eventScope>;
  /** How it was approved (the marker: alias, tag, stage; else the platform's operation): MLflow names no approver. */
  how?: Record<string, unknown>;
  /** Its model's name was taken by another model's rename: set aside for the rename that takes this one on (a swap). */
  displaced?: boolean;
}

/**
 * What approved: the approval marker the connector names (an MLflow alias or tag), a legacy stage moved to, Vertex's
 * aliases added, else the operation. Webhooks and the MLflow auditor name no approver: this is what a SOC can ask about.
 */
function approvalHow(ev: NormalizedEvent): Record<string, unknown> {
  const d = ev.details ?? {};
  const marker = d.approval_marker;
  if (marker && typeof marker === 'object' && !Array.isArray(marker)) return { ...(marker as Record<string, unknown>), operation: ev.operation };
  if (d.field === 'current_stage' && typeof d.new === 'string') return { kind: 'stage', stage: d.new, old_stage: d.old, operation: ev.operation };
  if (Array.isArray(d.aliases_added) && d.aliases_added.length) return { kind: 'alias', aliases: d.aliases_added, operation: ev.operation };
  return { operation: ev.operation };
}

/** `alias champion`, `tag approval_status=approved`, `stage Production`: the marker in a few words. */
function howText(how: Record<string, unknown> | undefined): string {
  if (how?.kind === 'alias') return ` by alias ${String(how.alias ?? (how.aliases as string[] | undefined)?.join(', '))}`;
  if (how?.kind === 'tag') return ` by tag ${String(how.key)}=${String(how.value)}`;
  if (how?.kind === 'stage') return ` by stage ${String(how.stage)}`;
  return '';
}
export const ADV_GRACE_MS = 3_600_000;
const MAX_PENDING_APPROVALS = 1000;

/** Evidence keys of a version: its records (adopted, run, producer runs) and its own name+version. */
function evidenceKeys(all: VersionRec[], subject: PendingApproval['subject']): string[] {
  return [...all.flatMap((v) => [v.key, ...(v.adopted ?? []), ...(v.runId ? [`run:${v.runId}`] : []), ...(v.producerRuns ?? []).map((r) => `run:${r}`)]), versionKey(subject.platform, subject.name, subject.version, subject.scope)];
}
/** The evidence kept under keys: what counts for the approval `a`, and what does not (with why). */
function evidenceFor(ctx: RuleContext, keys: string[], a: ApprovalAt | undefined): { counted: AdvEvidence[]; not: Array<AdvEvidence & { why: string }> } {
  const counted: AdvEvidence[] = [];
  const not: Array<AdvEvidence & { why: string }> = [];
  for (const k of new Set(keys)) {
    for (const e of ctx.get<AdvEvidence[]>(`adv|${k}`) ?? []) {
      const why = notCounted(e, a);
      if (why === undefined) counted.push(e);
      else if (!not.some((n) => n.event === e.event && n.key === e.key)) not.push({ ...e, why });
    }
  }
  return { counted, not };
}
const hasEvidence = (ctx: RuleContext, keys: string[], a: ApprovalAt | undefined) => evidenceFor(ctx, keys, a).counted.length > 0;
const approvalAt = (p: Pick<PendingApproval, 'time' | 'approver'>): ApprovalAt => ({ time: Date.parse(p.time), ...(p.approver ? { approver: p.approver } : {}) });
/** Evidence not counted, as an alert shows it. */
const notCountedShown = (not: Array<AdvEvidence & { why: string }>) => not.slice(0, 10).map((n) => ({ key: n.key, value: n.value, event: n.event, ...(n.checked?.author ? { author: n.checked.author } : {}), why: n.why }));

/** Judge a waiting approval with the evidence known now (also under keys learnt since), and forget it. */
function settleApproval(ctx: RuleContext, id: string, p: PendingApproval, pushedOut = false): void {
  dropWaiting(ctx, 'advwait', id);
  const { linked, named } = ctx.reg.resolve({ platform: p.subject.platform, name: p.subject.name, version: p.subject.version, ...(p.subject.scope ? { scope: p.subject.scope } : {}) });
  // Approved at an upload without a number: the version that upload became, once seen (Registry.claimUpload).
  const became = p.subject.version === 'new' ? ctx.reg.versionsOf(p.subject.platform, p.subject.name, p.subject.scope).filter((v) => v.adopted?.includes(uploadKey(p.event))) : [];
  const { counted, not } = evidenceFor(ctx, [...p.keys, ...evidenceKeys([...(named ? [named] : []), ...linked, ...became], p.subject)], approvalAt(p));
  if (counted.length) return;
  const prefixes = setting<string[]>(ctx, 'prefixes');
  ctx.detect({
    entity: versionEntity(p.subject), key: 'missing', evidence: [p.event, ...new Set(not.slice(0, 10).map((n) => n.event))], time: p.time, title: 'Approved without adversarial evaluation',
    summary: `${p.subject.version === 'new' ? `A new version of ${p.subject.name}` : `${p.subject.name} v${p.subject.version}`} was approved${howText(p.how)}${p.approver ? ` by ${p.approver}` : ''} at ${p.time} with no adversarial evaluation on record (keys ${prefixes.join(', ')}*)${not.length ? `; not counted: ${not.slice(0, 3).map((n) => `${n.key}=${String(n.value)}, ${n.why}`).join('; ')}` : ''}${pushedOut ? `; judged before its hour was up: more than ${MAX_PENDING_APPROVALS} approvals were waiting` : ''}`,
    details: { prefixes, approver: p.approver, approved_at: p.time, approval: p.how, ...p.scope, ...(pushedOut ? { pushed_out: true } : {}), ...(not.length ? { evidence_not_counted: notCountedShown(not) } : {}) },
  });
}

/** Every SWEEP_EVERY_MS of event time: approvals that waited ADV_GRACE_MS are judged (also on an idle bridge's tick). */
export function sweepPendingApprovals(_ev: NormalizedEvent, ctx: RuleContext): void {
  sweepWaiting<PendingApproval>(ctx, 'advwait', ADV_GRACE_MS, (id, p) => settleApproval(ctx, id, p));
}

/** End of input (replay): every waiting approval is judged with what is known. */
export const settleAllPendingApprovals: KindImpl = (_ev, ctx) => {
  for (const id of ctx.get<string[]>('advwait-index') ?? []) {
    const p = ctx.get<PendingApproval>(`advwait|${id}`);
    if (p) settleApproval(ctx, id, p);
  }
};

export const adversarialFailure: KindImpl = (ev, ctx) => {
  sweepPendingApprovals(ev, ctx);
  const renamed = renameOf(ev);
  if (renamed) return renameEvidence(ctx, ev.platform, renamed.from, renamed.to, serverScopeOf(ev));
  const prefixes = setting(ctx, 'prefixes');
  // Removing a tag is not evidence (its key would otherwise read as an `adv_*` value).
  const minScore = setting<number>(ctx, 'min_score');
  const scale: AdvScale = { minScore, lowerBetter: setting<string[]>(ctx, 'lower_is_better'), parameters: setting<string[]>(ctx, 'parameters') };
  // Evidence written into a registered version (a tag, metadata) names its setter: the approver's own counts for no
  // approval of theirs. A registration carrying its evaluation (a pipeline registering its package with the scores
  // its evaluation step wrote) is the evaluation, not a verdict stamped on afterwards.
  // A service reporting a version's state (SageMaker's "Model Package State Change": actor sagemaker.amazonaws.com, the
  // package's metadata and tags as they are) wrote none of it: it sets nothing, and is nobody's own evidence.
  const setter = ev.stage === 'registry' && !CREATES.test(ev.action) && ev.actor?.type !== 'service' ? identityOf(ev.actor, ctx.cfg) : undefined;
  const found = ev.outcome === 'failure' || ev.action.endsWith('.tag_delete') ? [] : adversarialOf(ev, prefixes, scale, setter);
  const approved = approvalOf(ev, ctx.cfg) === 'approved';
  // Most events carry no adversarial evidence and approve nothing: skip the registry lookups below.
  if (!found.length && !approved) return;
  const ref = modelRefOf(ev, ctx.cfg);
  const { named, all } = versionsOf(ev, ctx);
  const target = named ?? all[0];
  // Remember the evidence per version (and per run, for evaluations logged on the training run).
  const runId = ref?.runId ?? ev.ml?.provenance?.run_id;
  if (found.length) {
    const own = ref?.name && ref.version ? versionKey(ref.platform, ref.name, ref.version, ref.scope) : ref?.name && CREATES.test(ev.action) ? uploadKey(ev.id) : undefined;
    // Also under the keys the version took over (an upload it was made by: an approval made at that upload waits there).
    const keys = [...new Set([...(target ? [target.key, ...(target.adopted ?? [])] : []), ...(own ? [own] : []), ...(runId ? [`run:${runId}`] : [])])];
    for (const k of keys) ctx.set(`adv|${k}`, [...(ctx.get<AdvEvidence[]>(`adv|${k}`) ?? []), ...found].slice(-50));
    if (target) noteVersionState(ctx, 'adv', target);
    if (ref?.name && ref.version) noteVersionState(ctx, 'adv', { key: versionKey(ref.platform, ref.name, ref.version, ref.scope), platform: ref.platform, name: ref.name, version: ref.version, scope: ref.scope });
    clearPendingApprovals(ctx, keys, found);
    const failed = found.filter((f) => advVerdict(f, scale) === 'fail');
    if (failed.length) {
      const entity = target ? versionEntity(target) : ref?.name ? versionEntity({ name: ref.name, version: ref.version ?? '', platform: ev.platform, scope: ref.scope }) : { type: 'run', id: ref?.runId ?? ev.id, platform: ev.platform };
      ctx.detect({
        entity, key: failed.map((f) => f.key).join(','), evidence: [ev.id], title: 'Adversarial evaluation failed',
        summary: `${entity.id}: ${failed.map((f) => `${f.key}=${String(f.value)}`).join(', ')} (minimum ${minScore})`, details: { failed: failed.map(({ setBy: _s, ...f }) => f), min_score: minScore },
      });
    }
  }
  // Only the transition to approved (platforms repeat the status on every later state change).
  // A version approved at registration (SageMaker CreateModelPackage Approved) has no record yet: judge it by its ref.
  // Not registered anywhere yet (records other platforms made of it are only linked): the version this approval registers.
  // An approval alias set at an upload without a number (Vertex parentModel): the new version, `new` until seen;
  // its evidence is what the upload carries and what the version it becomes gets (kept under the upload's key).
  const atUpload = !!ref?.name && !ref.version && CREATES.test(ev.action);
  const subject = named ?? (ref?.name && ref.version ? { name: ref.name, version: ref.version, platform: ref.platform, scope: ref.scope } : atUpload ? { name: ref!.name!, version: 'new', platform: ref!.platform, scope: ref!.scope } : target);
  // The MLflow auditor's first-run report of versions approved before mltrail watched is state, not an
  // approval made now: judged silently, as the README says of that baseline (one alert per old version at install).
  const baseline = ev.channel === 'mlflow.audit' && ev.details?.baseline === true;
  if (approved && subject && target?.approval?.state !== 'approved' && !baseline) {
    if (!anyGlob(setting(ctx, 'require_for'), subject.name)) return;
    const keys = [
      ...evidenceKeys(all, subject),
      ...(atUpload ? [uploadKey(ev.id)] : []),
      ...(runId ? [`run:${runId}`] : []),
      ...ctx.reg.producers(ref).flatMap((j) => (j.runIds ?? []).map((r) => `run:${r}`)),
    ];
    const approver = identityOf(ev.actor, ctx.cfg);
    const at: ApprovalAt = { time: Date.parse(ev.time), ...(approver ? { approver } : {}) };
    if (!hasEvidence(ctx, keys, at) && !found.some((f) => notCounted(f, at) === undefined)) {
      // Wait for evidence that may still come (see PendingApproval).
      const id = `${versionKey(subject.platform, subject.name, subject.version, subject.scope)}${atUpload ? `:${ev.id}` : ''}`;
      if (!ctx.get<PendingApproval>(`advwait|${id}`)) {
        ctx.set(`advwait|${id}`, { keys, ...waitStart(ev, ctx), time: ev.time, event: ev.id, subject: { name: subject.name, version: subject.version, platform: subject.platform, ...(subject.scope ? { scope: subject.scope } : {}) }, approver: identityOf(ev.actor, ctx.cfg), scope: eventScope(ev), how: approvalHow(ev) } satisfies PendingApproval);
        const open = [...(ctx.get<string[]>('advwait-index') ?? []), id];
        ctx.set('advwait-index', open.slice(-MAX_PENDING_APPROVALS));
        // Past the bound (a first poll of a large registry approves thousands at once) the oldest waiting approval
        // is judged now, with what is on record: dropped from the index only, it was never judged and its row
        // stayed in rule state for good.
        for (const old of open.slice(0, -MAX_PENDING_APPROVALS)) {
          const p = ctx.get<PendingApproval>(`advwait|${old}`);
          if (p) settleApproval(ctx, old, p, true);
        }
      }
    }
  }
};

/** Evidence that arrived for versions whose approval waits for it: nothing to judge any more (if it counts for that approval). */
function clearPendingApprovals(ctx: RuleContext, keys: string[], found: AdvEvidence[]): void {
  const open = ctx.get<string[]>('advwait-index');
  if (!open?.length) return;
  const settled = open.filter((id) => {
    const p = ctx.get<PendingApproval>(`advwait|${id}`);
    if (!p) return true;
    if (!(p.keys.some((k) => keys.includes(k)) || keys.includes(id))) return false;
    return found.some((f) => notCounted(f, approvalAt(p)) === undefined);
  });
  if (!settled.length) return;
  for (const id of settled) ctx.delete(`advwait|${id}`);
  ctx.set('advwait-index', open.filter((id) => !settled.includes(id)));
}

/**
 * A model renamed (`registered_model.rename`): the evidence kept per version of it, and the approvals of it still
 * waiting, go with it to the new name (in its server), or an approval under the new name found none on record.
 */
function renameEvidence(ctx: RuleContext, platform: string, from: string, to: string, scope: string | undefined): void {
  const fromStashed = renameVersionState(ctx, 'adv', platform, from, to, scope);
  const ofModel = (p: PendingApproval, name: string) => p.subject.platform === platform && p.subject.name === name && p.subject.scope === scope;
  const waiting = (ctx.get<string[]>('advwait-index') ?? []).flatMap((id) => {
    const p = ctx.get<PendingApproval>(`advwait|${id}`);
    return p ? [{ id, p }] : [];
  });
  // As the evidence: the approvals set aside under the old name move if its model was set aside, else the ones under it.
  const moving = waiting.filter((w) => ofModel(w.p, from) && !!w.p.displaced === fromStashed);
  for (const w of waiting) if (ofModel(w.p, to) && !w.p.displaced) ctx.set(`advwait|${w.id}`, { ...w.p, displaced: true } satisfies PendingApproval);
  for (const { id, p } of moving) {
    const n = p.subject.version;
    const renamedKey = (k: string) => (k === versionKey(platform, from, n, scope) ? versionKey(platform, to, n, scope) : k);
    const { displaced: _, ...rest } = p;
    ctx.set(`advwait|${id}`, { ...rest, keys: p.keys.map(renamedKey), subject: { ...p.subject, name: to } } satisfies PendingApproval);
  }
}
