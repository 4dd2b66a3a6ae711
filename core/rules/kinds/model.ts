import type { NormalizedEvent } from '../../schema/index.js';
import { durationMs } from '../config.js';
import {
  anyGlob, approvalOf, compareVersions, deploymentConfigOf, endpointOf, evidenceValues, identityOf, inputsOf, isDeployment, modelRefOf, normUri, tagsOf, uriMayOverlap, uriOverlap,
} from '../facts.js';
import { uploadKey, type Party, type VersionRec } from '../registry.js';
import type { ModelRef } from '../facts.js';
import { SKEW_PATTERN } from '../defaults.js';
import { endpointEntity, identityEntity, setting, versionEntity, waited, waitStart, type KindImpl, type RuleContext } from './context.js';

/**
 * Per-event kinds of the evaluation, registry and serving stages, plus the
 * cross-stage identity rule. They read the shared registry state as it was
 * before the event (the engine folds the event in afterwards).
 */

const CREATES = /^(model_version|model)\.(create|upload)$/;

/** The version(s) an event is about: the named one, else versions linked by artifact, hash or run. */
function versionsOf(ev: NormalizedEvent, ctx: RuleContext): { named?: VersionRec; all: VersionRec[] } {
  const ref = modelRefOf(ev, ctx.cfg);
  if (!ref) return { all: [] };
  const { named, linked } = ctx.reg.resolve(ref);
  const all = [...(named ? [named] : []), ...linked.filter((l) => l.key !== named?.key)];
  // A create/upload without a number is a new version (Vertex UploadModel with parentModel), not the newest known one.
  if (!named && ref.name && !ref.version && !CREATES.test(ev.action)) {
    const latest = ctx.reg.versionsOf(ref.platform, ref.name).at(-1);
    if (latest) all.unshift(latest);
  }
  // Only a run id (a KFP metrics artifact): the versions registered from that run.
  const runId = ref.runId ?? ev.ml?.provenance?.run_id;
  if (!all.length && runId) all.push(...ctx.reg.versionsForRun(runId));
  return { named, all };
}


/** The catalogue metric a logged name is (exact, else a `_`/`-`/`.`-separated suffix: `test_accuracy` is accuracy). */
function metricOf(name: string, metrics: Record<string, 'higher' | 'lower'>): { metric: string; dir: 'higher' | 'lower' } | undefined {
  const n = name.toLowerCase();
  if (metrics[n]) return { metric: n, dir: metrics[n] };
  const hit = Object.keys(metrics)
    .sort((a, b) => b.length - a.length)
    .find((m) => n.endsWith(m.toLowerCase()) && /[^a-z0-9]/.test(n.charAt(n.length - m.length - 1)));
  return hit ? { metric: hit.toLowerCase(), dir: metrics[hit]! } : undefined;
}

/** A metric name as spelled loosely: case and separators do not make another metric (`Test-Accuracy` = `test_accuracy`). */
const looseName = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '_');

/**
 * The baseline's value of a metric: the same name spelled loosely, else — when both sides log only one
 * metric of that kind (`accuracy` then `test_accuracy`) — that one, so a rename does not hide a drop;
 * never a guess between several (`train_accuracy` and `test_accuracy`).
 */
function baselineMetric(
  base: Record<string, { value: number; event: string }>,
  name: string,
  metric: string,
  ours: Record<string, unknown>,
  dirs: Record<string, 'higher' | 'lower'>,
): { name: string; value: number; event: string } | undefined {
  const loose = looseName(name);
  for (const [k, m] of Object.entries(base)) if (looseName(k) === loose) return { name: k, ...m };
  // Only metrics of the same kind measured the same way count: a training-split or adversarial metric logged
  // beside the renamed one (`train_accuracy`, `adv_robust_accuracy`) must not make the pairing ambiguous.
  // A metric logged under the same name on both sides is its own pair (`val_accuracy` kept beside a renamed one).
  const paired = (k: string, other: string[]) => other.some((o) => looseName(o) === looseName(k));
  const sameKind = (names: string[], other: string[]) =>
    names.filter((k) => metricOf(k, dirs)?.metric === metric && sameSplit(k, name) && !isAdversarialName(k) && !paired(k, other));
  const theirs = sameKind(Object.keys(base), Object.keys(ours));
  if (theirs.length === 1 && sameKind(Object.keys(ours), Object.keys(base)).length === 1) return { name: theirs[0]!, ...base[theirs[0]!]! };
  return undefined;
}

/** A metric of an adversarial evaluation (`adv_robust_accuracy`): another measurement than the clean one of its kind. */
const isAdversarialName = (name: string) => /^(adv|adversarial)_/.test(looseName(name));

/** The data split a metric name says it was measured on: training, or held-out data (test/validation/eval). */
function splitOf(name: string): 'train' | 'holdout' | undefined {
  const words = looseName(name).split('_');
  if (words.some((w) => w === 'train' || w === 'training')) return 'train';
  if (words.some((w) => ['test', 'val', 'valid', 'validation', 'eval', 'evaluation', 'holdout'].includes(w))) return 'holdout';
  return undefined;
}

/** A renamed metric pairs with its predecessor only on the same data: a bare name counts as held-out, never as training. */
function sameSplit(a: string, b: string): boolean {
  const sa = splitOf(a) ?? 'holdout';
  const sb = splitOf(b) ?? 'holdout';
  return sa === sb;
}

export const scoreDrop: KindImpl = (ev, ctx) => {
  const isCreate = ev.action === 'model_version.create' || ev.action === 'model.upload';
  if (ev.outcome === 'failure' || !(ev.stage === 'evaluation' || ev.action.startsWith('evaluation.') || isCreate)) return;
  const ref = modelRefOf(ev, ctx.cfg);
  if (!ref) return;
  // The metrics: this event's, and (at registration) those its producing run logged before.
  const metrics: Record<string, { value: number; event: string }> = {};
  if (isCreate) for (const j of ctx.reg.producers(ref)) for (const [k, m] of Object.entries(j.metrics ?? {})) metrics[k] = m;
  for (const [k, v] of Object.entries(ev.ml?.metrics ?? {})) metrics[k] = { value: v, event: ev.id };
  if (!Object.keys(metrics).length) return;
  // The version(s) they belong to: named (on any platform), else the run's versions.
  const { named } = ctx.reg.resolve(ref);
  const targets: Array<Pick<VersionRec, 'platform' | 'name' | 'version'>> = named
    ? [named]
    : ref.name && ref.version
      ? [{ platform: ref.platform, name: ref.name, version: ref.version }]
      : ref.runId
        ? ctx.reg.versionsForRun(ref.runId)
        : [];
  const dirs = setting(ctx, 'metrics');
  const threshold = setting(ctx, 'threshold');
  const compare = setting<'previous' | 'champion' | 'both'>(ctx, 'compare');
  for (const target of targets) {
    // A version evaluated where the model is not registered: also compare with the registry's versions of it.
    const home = ctx.reg.homePlatform(target.platform, target.name);
    const others = [...ctx.reg.versionsOf(target.platform, target.name), ...(home ? ctx.reg.versionsOf(home, target.name) : [])].filter((v) => v.version !== target.version);
    for (const [name, { value, event }] of Object.entries(metrics)) {
      const kind = metricOf(name, dirs);
      if (!kind) continue;
      const { metric, dir } = kind;
      const baselines: Array<{ role: string; v: VersionRec; b: { name: string; value: number; event: string } }> = [];
      const withMetric = (v: VersionRec) => {
        const b = baselineMetric(v.metrics, name, metric, metrics, dirs);
        return b ? { v, b } : undefined;
      };
      if (compare !== 'champion') {
        const prev = others.filter((v) => compareVersions(v.version, target.version) < 0).sort((a, b) => compareVersions(b.version, a.version)).map(withMetric).find((x) => x);
        if (prev) baselines.push({ role: 'previous', ...prev });
      }
      if (compare !== 'previous') {
        const champ = others.filter((v) => v.approval?.state === 'approved').sort((a, b) => compareVersions(b.version, a.version)).map(withMetric).find((x) => x);
        if (champ && !baselines.some((x) => x.v.key === champ.v.key)) baselines.push({ role: 'champion', ...champ });
      }
      for (const { role, v, b } of baselines) {
        const base = b.value;
        if (base === 0) continue;
        const worse = dir === 'higher' ? (base - value) / Math.abs(base) : (value - base) / Math.abs(base);
        if (worse > threshold) {
          ctx.detect({
            // Named as a version of the registry's model when only evaluated elsewhere (same alert whichever platform registers it).
            entity: versionEntity(home ? { ...target, platform: home } : target), key: `${looseName(name)}|${role}`,
            evidence: [...new Set([b.event, event, ev.id])], title: 'Evaluation score dropped',
            summary: `${target.name} v${target.version} ${name}=${value} is ${(worse * 100).toFixed(1)}% worse than the ${role} version v${v.version} (${b.name === name ? '' : `${b.name}=`}${base})`,
            details: { metric: name, value, baseline: base, baseline_version: v.version, ...(b.name === name ? {} : { baseline_metric: b.name }), compared_with: role, worse_by: worse, threshold },
          });
          break;
        }
      }
    }
  }
};

interface AdvEvidence {
  key: string;
  value: unknown;
  event: string;
}

/** Words an evaluation's verdict is written in; anything else that is not a number is no verdict. */
const PASS_WORDS = new Set(['passed', 'pass', 'true', 'yes', 'ok', 'success', 'succeeded']);
const FAIL_WORDS = new Set(['failed', 'fail', 'false', 'no', 'failure']);

/**
 * What an adversarial value says: a score (against `min_score`, or its complement for lower-is-better
 * metrics), a pass or fail word, else nothing — a placeholder (`pending`, `skipped`, `n/a`, ``) is not an
 * evaluation: it used to count as a pass, so stamping one at registration silenced the missing-evaluation alert.
 */
function advVerdict(f: AdvEvidence, minScore: number, lowerBetter: string[]): 'pass' | 'fail' | undefined {
  const n = typeof f.value === 'number' ? f.value : typeof f.value === 'string' ? scoreOf(f.value) : undefined;
  if (n !== undefined && Number.isFinite(n)) return (anyGlob(lowerBetter, f.key) ? n > 1 - minScore : n < minScore) ? 'fail' : 'pass';
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

function adversarialOf(ev: NormalizedEvent, prefixes: string[], minScore: number, lowerBetter: string[]): AdvEvidence[] {
  return evidenceValues(ev)
    .filter(([k]) => prefixes.some((p) => k.toLowerCase().startsWith(p.toLowerCase())))
    .map(([key, value]) => ({ key, value, event: ev.id }))
    .filter((f) => advVerdict(f, minScore, lowerBetter) !== undefined);
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
  subject: { name: string; version: string; platform: string };
  approver?: string;
}
const ADV_GRACE_MS = 3_600_000;
const MAX_PENDING_APPROVALS = 1000;

/** Evidence keys of a version: its records (adopted, run, producer runs) and its own name+version. */
function evidenceKeys(all: VersionRec[], subject: PendingApproval['subject']): string[] {
  return [...all.flatMap((v) => [v.key, ...(v.adopted ?? []), ...(v.runId ? [`run:${v.runId}`] : []), ...(v.producerRuns ?? []).map((r) => `run:${r}`)]), `${subject.platform}|${subject.name}|${subject.version}`];
}
const hasEvidence = (ctx: RuleContext, keys: string[]) => keys.some((k) => (ctx.get<AdvEvidence[]>(`adv|${k}`)?.length ?? 0) > 0);

/** Judge a waiting approval with the evidence known now (also under keys learnt since), and forget it. */
function settleApproval(ctx: RuleContext, id: string, p: PendingApproval): void {
  dropWaiting(ctx, 'advwait', id);
  const { linked, named } = ctx.reg.resolve({ platform: p.subject.platform, name: p.subject.name, version: p.subject.version });
  // Approved at an upload without a number: the version that upload became, once seen (Registry.claimUpload).
  const became = p.subject.version === 'new' ? ctx.reg.versionsOf(p.subject.platform, p.subject.name).filter((v) => v.adopted?.includes(uploadKey(p.event))) : [];
  if (hasEvidence(ctx, [...p.keys, ...evidenceKeys([...(named ? [named] : []), ...linked, ...became], p.subject)])) return;
  const prefixes = setting<string[]>(ctx, 'prefixes');
  ctx.detect({
    entity: versionEntity(p.subject), key: 'missing', evidence: [p.event], time: p.time, title: 'Approved without adversarial evaluation',
    summary: `${p.subject.version === 'new' ? `A new version of ${p.subject.name}` : `${p.subject.name} v${p.subject.version}`} was approved${p.approver ? ` by ${p.approver}` : ''} with no adversarial evaluation on record (keys ${prefixes.join(', ')}*)`,
    details: { prefixes, approver: p.approver },
  });
}

/** Every SWEEP_EVERY_MS of event time: approvals that waited ADV_GRACE_MS are judged (also on an idle bridge's tick). */
export function sweepPendingApprovals(ev: NormalizedEvent, ctx: RuleContext): void {
  const t = ctx.clock();
  if (!(t - (ctx.get<number>('advwait-swept') ?? 0) >= SWEEP_EVERY_MS)) return;
  ctx.set('advwait-swept', t);
  for (const id of ctx.get<string[]>('advwait-index') ?? []) {
    const p = ctx.get<PendingApproval>(`advwait|${id}`);
    if (!p) dropWaiting(ctx, 'advwait', id);
    else if (waited(ctx, p, ADV_GRACE_MS)) settleApproval(ctx, id, p);
  }
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
  const prefixes = setting(ctx, 'prefixes');
  // Removing a tag is not evidence (its key would otherwise read as an `adv_*` value).
  const minScore = setting<number>(ctx, 'min_score');
  const lowerBetter = setting<string[]>(ctx, 'lower_is_better');
  const found = ev.outcome === 'failure' || ev.action.endsWith('.tag_delete') ? [] : adversarialOf(ev, prefixes, minScore, lowerBetter);
  const approved = approvalOf(ev, ctx.cfg) === 'approved';
  // Most events carry no adversarial evidence and approve nothing: skip the registry lookups below.
  if (!found.length && !approved) return;
  const ref = modelRefOf(ev, ctx.cfg);
  const { named, all } = versionsOf(ev, ctx);
  const target = named ?? all[0];
  // Remember the evidence per version (and per run, for evaluations logged on the training run).
  const runId = ref?.runId ?? ev.ml?.provenance?.run_id;
  if (found.length) {
    const own = ref?.name && ref.version ? `${ref.platform}|${ref.name}|${ref.version}` : ref?.name && CREATES.test(ev.action) ? uploadKey(ev.id) : undefined;
    // Also under the keys the version took over (an upload it was made by: an approval made at that upload waits there).
    const keys = [...new Set([...(target ? [target.key, ...(target.adopted ?? [])] : []), ...(own ? [own] : []), ...(runId ? [`run:${runId}`] : [])])];
    for (const k of keys) ctx.set(`adv|${k}`, [...(ctx.get<AdvEvidence[]>(`adv|${k}`) ?? []), ...found].slice(-50));
    clearPendingApprovals(ctx, keys);
    const failed = found.filter((f) => advVerdict(f, minScore, lowerBetter) === 'fail');
    if (failed.length) {
      const entity = target ? versionEntity(target) : ref?.name ? versionEntity({ name: ref.name, version: ref.version ?? '', platform: ev.platform }) : { type: 'run', id: ref?.runId ?? ev.id, platform: ev.platform };
      ctx.detect({
        entity, key: failed.map((f) => f.key).join(','), evidence: [ev.id], title: 'Adversarial evaluation failed',
        summary: `${entity.id}: ${failed.map((f) => `${f.key}=${String(f.value)}`).join(', ')} (minimum ${minScore})`, details: { failed, min_score: minScore },
      });
    }
  }
  // Only the transition to approved (platforms repeat the status on every later state change).
  // A version approved at registration (SageMaker CreateModelPackage Approved) has no record yet: judge it by its ref.
  // Not registered anywhere yet (records other platforms made of it are only linked): the version this approval registers.
  // An approval alias set at an upload without a number (Vertex parentModel): the new version, `new` until seen;
  // its evidence is what the upload carries and what the version it becomes gets (kept under the upload's key).
  const atUpload = !!ref?.name && !ref.version && CREATES.test(ev.action);
  const subject = named ?? (ref?.name && ref.version ? { name: ref.name, version: ref.version, platform: ref.platform } : atUpload ? { name: ref!.name!, version: 'new', platform: ref!.platform } : target);
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
    if (!hasEvidence(ctx, keys) && !found.length) {
      // Wait for evidence that may still come (see PendingApproval).
      const id = `${subject.platform}|${subject.name}|${subject.version}${atUpload ? `:${ev.id}` : ''}`;
      if (!ctx.get<PendingApproval>(`advwait|${id}`)) {
        ctx.set(`advwait|${id}`, { keys, ...waitStart(ev, ctx), time: ev.time, event: ev.id, subject: { name: subject.name, version: subject.version, platform: subject.platform }, approver: identityOf(ev.actor, ctx.cfg) } satisfies PendingApproval);
        ctx.set('advwait-index', [...(ctx.get<string[]>('advwait-index') ?? []), id].slice(-MAX_PENDING_APPROVALS));
      }
    }
  }
};

/** Evidence that arrived for versions whose approval waits for it: nothing to judge any more. */
function clearPendingApprovals(ctx: RuleContext, keys: string[]): void {
  const open = ctx.get<string[]>('advwait-index');
  if (!open?.length) return;
  const settled = open.filter((id) => {
    const p = ctx.get<PendingApproval>(`advwait|${id}`);
    return !p || p.keys.some((k) => keys.includes(k)) || keys.includes(id);
  });
  if (!settled.length) return;
  for (const id of settled) ctx.delete(`advwait|${id}`);
  ctx.set('advwait-index', open.filter((id) => !settled.includes(id)));
}

export const trainTestOverlap: KindImpl = (ev, ctx) => {
  if (ev.outcome === 'failure') return;
  if (ev.action === 'model_version.create' || ev.action === 'model.upload') {
    // Registered from a run evaluated before: compare what its producers trained and evaluated on.
    const ref = modelRefOf(ev, ctx.cfg);
    if (!ref?.name || !ref.version) return;
    const jobs = ctx.reg.producers(ref);
    const train = jobs.flatMap((j) => j.inputs);
    const evals = jobs.flatMap((j) => j.evalInputs ?? []);
    const pairs = evals.flatMap((e) => train.filter((t) => uriMayOverlap(e.uri, t.uri)).map((t) => ({ evaluation: e.uri, training: t.uri, events: [t.event, e.event] })));
    if (!pairs.length) return;
    ctx.detect({
      entity: versionEntity({ name: ref.name, version: ref.version, platform: ref.platform }), key: pairs.map((p) => p.evaluation).join(','),
      evidence: [...new Set([...pairs.flatMap((p) => p.events), ev.id])], title: 'Evaluation data overlaps training data',
      summary: `${ref.name} v${ref.version} was evaluated on ${pairs[0]!.evaluation}, which overlaps its training input ${pairs[0]!.training}`,
      details: { overlaps: pairs.map(({ evaluation, training }) => ({ evaluation, training })) },
    });
    return;
  }
  if (!(ev.stage === 'evaluation' || ev.action.startsWith('evaluation.'))) return;
  const evalInputs = inputsOf(ev).map((u) => normUri(u, ctx.cfg));
  if (!evalInputs.length) return;
  const { all } = versionsOf(ev, ctx);
  for (const v of all) {
    const pairs = v.trainingInputs.flatMap((t) => evalInputs.filter((e) => uriMayOverlap(e, t.uri)).map((e) => ({ evaluation: e, training: t.uri, event: t.event })));
    if (!pairs.length) continue;
    ctx.detect({
      entity: versionEntity(v), key: pairs.map((p) => p.evaluation).join(','), evidence: [...new Set(pairs.map((p) => p.event)), ev.id], title: 'Evaluation data overlaps training data',
      summary: `${v.name} v${v.version} was evaluated on ${pairs[0]!.evaluation}, which overlaps its training input ${pairs[0]!.training}`, details: { overlaps: pairs.map(({ evaluation, training }) => ({ evaluation, training })) },
    });
    return;
  }
};

export const selfApproval: KindImpl = (ev, ctx) => {
  if (approvalOf(ev, ctx.cfg) !== 'approved') return;
  const who = identityOf(ev.actor, ctx.cfg);
  if (!who || anyGlob(setting<string[]>(ctx, 'exempt'), who)) return;
  const roles = setting(ctx, 'roles');
  const { named, all } = versionsOf(ev, ctx);
  const hits: Array<{ role: string; p: Party; v: Pick<VersionRec, 'key' | 'name' | 'version' | 'platform'> }> = [];
  const ref = modelRefOf(ev, ctx.cfg);
  // An upload without a number (Vertex parentModel) is a new version: `new` until it is seen.
  const version = ref?.version ?? (ref?.name && CREATES.test(ev.action) ? 'new' : undefined);
  if (!all.length && ref?.name && version) {
    // Approved at registration: the version has no record yet, its producers do.
    const v = { key: `${ref.platform}|${ref.name}|${version}`, name: ref.name, version, platform: ref.platform };
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
    hits.push({ role: 'registered', p: { identity: who, event: ev.id, time: ev.time, platform: ev.platform }, v: named ?? { key: `${ref.platform}|${ref.name}|${version}`, name: ref.name, version, platform: ref.platform } });
  }
  if (!hits.length) return;
  // Not registered anywhere yet: the version this approval registers (records of it on other platforms are only linked).
  const target = named ?? (ref?.name && version ? { name: ref.name, version, platform: ref.platform } : (all[0] ?? hits[0]!.v));
  ctx.detect({
    entity: versionEntity(target), key: who, evidence: [...new Set([...hits.map((h) => h.p.event), ev.id])], title: 'Model version approved by its own trainer / evaluator',
    summary: `${who} approved ${target.version === 'new' ? `a new version of ${target.name}` : `${target.name} v${target.version}`} (${ev.platform}) after having ${[...new Set(hits.map((h) => `${h.role} it on ${h.p.platform}`))].join(' and ')}`,
    details: { identity: who, roles: [...new Set(hits.map((h) => h.role))], approved_on: ev.platform, linked_versions: [...new Set(hits.map((h) => h.v.key))] },
  });
};

/**
 * Tag keys a tagging event sets or removes: the one tag it names (`details.tag.key`, MLflow),
 * the keys a multi-key delete removes (`details.tag_keys`, SageMaker DeleteTags), else the
 * tags it carries (a platform's tag API sends just the ones it sets). Other changes name none:
 * a version's full tag list is not what changed.
 */
function tagKeysOf(ev: NormalizedEvent): string[] {
  if (!ev.action.includes('tag_')) return [];
  const one = (ev.details?.tag as { key?: unknown } | undefined)?.key;
  if (typeof one === 'string') return [one];
  const removed = Array.isArray(ev.details?.tag_keys) ? (ev.details.tag_keys as unknown[]).filter((k): k is string => typeof k === 'string') : [];
  return removed.length ? [...new Set(removed)] : Object.keys(tagsOf(ev));
}

/** Fields of an update call that only (re)state the approval: naming them is no change of what was approved. */
const APPROVAL_FIELDS = new Set(['versionaliases', 'version_aliases', 'modelapprovalstatus', 'approvaldescription', 'modelpackagearn']);

/**
 * What an approving call changes besides the approval, on a version already approved: a different
 * artifact or hash, tags, or fields its update mask (Vertex) / request (SageMaker) names.
 */
function changesBesidesApproval(ev: NormalizedEvent, v: VersionRec, ref: ModelRef, tagKeys: string[], ignore: string[]): string[] {
  const out: string[] = [];
  if (ref.artifact && v.artifact && !uriOverlap(ref.artifact, v.artifact)) out.push('artifact');
  if (ref.sha256 && v.sha256 && ref.sha256 !== v.sha256) out.push('sha256');
  if (tagKeys.some((k) => !anyGlob(ignore, k))) out.push('tags');
  for (const f of [ev.details?.update_mask, ev.details?.changed_fields].flatMap((x) => (Array.isArray(x) ? x : []))) {
    if (typeof f === 'string' && !APPROVAL_FIELDS.has(f.toLowerCase()) && !out.includes(f)) out.push(f);
  }
  return out;
}

export const approvedModelModified: KindImpl = (ev, ctx) => {
  if (ev.outcome === 'failure') return;
  const approving = approvalOf(ev, ctx.cfg) === 'approved';
  if (!approving && (!anyGlob(setting(ctx, 'actions'), ev.action) || approvalOf(ev, ctx.cfg))) return;
  const ref = modelRefOf(ev, ctx.cfg);
  if (!ref?.name || !ref.version) return;
  const v = ctx.reg.version(`${ref.platform}|${ref.name}|${ref.version}`);
  // An approving call judges a version approved at any time (revoked, then approved again with a swap);
  // other changes only one approved now.
  if (!v || !v.approval || (approving ? !v.approvedEver : v.approval.state !== 'approved')) return;
  const tagKeys = tagKeysOf(ev);
  // mltrail's own digest tags and the approval markers are not silent changes.
  // The auditor's own tags (mltrail.sha256 write-back) are always excepted; ignore_tags adds to them.
  const ignore = ['mltrail.*', 'mltrail_*', ...setting<string[]>(ctx, 'ignore_tags'), ...Object.keys(ctx.cfg.approval.tags)];
  if (approving) {
    // Approving again is no change, unless the same call changes the version too (approve + swap in one request).
    const changed = changesBesidesApproval(ev, v, ref, tagKeys, ignore);
    if (!changed.length) return;
    ctx.detect({
      entity: versionEntity(v), key: `approve+${changed.join(',')}`, evidence: [v.approval.event, ev.id], title: 'Approved model version changed after approval',
      summary: `${v.name} v${v.version} was approved at ${v.approval.time} and then changed (${changed.join(', ')}) by ${identityOf(ev.actor, ctx.cfg) ?? 'unknown'} in a call that approved it again`,
      details: { change: 'reapproved_with_changes', fields: changed, approved_at: v.approval.time, previous_artifact: changed.includes('artifact') ? v.artifact : undefined, new_artifact: changed.includes('artifact') ? ref.artifact : undefined },
    });
    return;
  }
  if (ev.action.includes('tag_') && tagKeys.length && tagKeys.every((k) => anyGlob(ignore, k))) return;
  // Registering a hash is only a change when another hash was registered before.
  if (ev.action === 'model_version.hash_registered' && (!ref.sha256 || !v.sha256 || ref.sha256 === v.sha256)) return;
  if (ev.action === 'model_version.alias_delete' || ev.action === 'model_version.stage_transition') {
    // Removing an approval alias, or moving the version out of an approved stage (Production → Archived when
    // the next version is promoted), is a demotion, not a silent change of what was approved.
    return;
  }
  const change = ev.action.split('.')[1]!;
  ctx.detect({
    entity: versionEntity(v), key: change, evidence: [v.approval.event, ev.id], title: 'Approved model version changed after approval',
    summary: `${v.name} v${v.version} was approved at ${v.approval.time} and then changed (${change}${tagKeys.length ? `: ${tagKeys.join(', ')}` : ''}) by ${identityOf(ev.actor, ctx.cfg) ?? 'unknown'}`,
    details: { change, tags: tagKeys.length ? tagKeys : undefined, approved_at: v.approval.time, previous_sha256: ev.action === 'model_version.hash_registered' ? v.sha256 : undefined, new_sha256: ev.action === 'model_version.hash_registered' ? ref.sha256 : undefined },
  });
};

export const unapprovedDeployment: KindImpl = (ev, ctx) => {
  if (!isDeployment(ev)) return;
  // An inference component's update names only the component: the endpoint it was created on, else the component.
  const component = ev.resource?.type === 'inference_component' ? (ev.resource.name ?? ev.resource.id) : undefined;
  const ep = endpointOf(ev) ?? (component ? (ctx.reg.componentEndpoint(ev.platform, component) ?? `inference-component/${component}`) : undefined);
  if (!ep || !anyGlob(setting(ctx, 'endpoints'), ep)) return;
  const direct = modelRefOf(ev, ctx.cfg);
  const ref = direct ?? ctx.reg.configRef(ev);
  const models = ctx.reg.deployedModels(ev);
  if (!ref && !models.length) {
    // An endpoint config not seen yet (CloudTrail delivers out of order, the same second in either order):
    // judged once it and its models have arrived (judgePendingDeployments). Else nothing is named: a traffic
    // shift between models already judged.
    const cfgName = deploymentConfigOf(ev);
    if (cfgName && !ctx.reg.endpointConfig(ev.platform, cfgName)) {
      const kept = { id: ev.id, time: ev.time, platform: ev.platform, actor: ev.actor, action: ev.action, ml: { deployment: ev.ml?.deployment } };
      ctx.set(`pending|${ev.platform}|${cfgName}`, { ep, ...waitStart(ev, ctx), event: kept } satisfies PendingDeploy);
      const open = ctx.get<string[]>('pending-index') ?? [];
      if (!open.includes(`${ev.platform}|${cfgName}`)) ctx.set('pending-index', [...open, `${ev.platform}|${cfgName}`].slice(-MAX_PENDING_DEPLOYS));
    }
    return;
  }
  judgeAll(ev, ctx, ep, direct, ref, models);
};

/** A deployment kept until its endpoint config and models arrive. */
interface PendingDeploy {
  ep: string;
  at: number;
  /** Receipt of the deployment (ms). */
  rcv?: number;
  event: Pick<NormalizedEvent, 'id' | 'time' | 'platform' | 'actor' | 'action' | 'ml'>;
}
/** How long a deployment waits for the config and models it names. */
const PENDING_DEPLOY_MS = 86_400_000;
/** A deployment whose config has come waits this long for models never seen, then is judged without them. */
const PENDING_MODELS_MS = 3_600_000;
/** Deployments waiting at once (the oldest beyond it are no longer swept). */
const MAX_PENDING_DEPLOYS = 1000;
/** How often (event time) the waiting deployments are looked over. */
const SWEEP_EVERY_MS = 600_000;

/**
 * After the registry took in an endpoint config or a model resource: the deployments that named it before it
 * arrived are judged now that everything they name is known (raised on arrival, as a late approval is).
 */
export const judgePendingDeployments: KindImpl = (ev, ctx) => {
  sweepPendingDeployments(ev, ctx);
  if (ev.outcome === 'failure') return;
  const configs: string[] = [];
  if (ev.action === 'endpoint_config.create') {
    const name = deploymentConfigOf(ev) ?? ev.resource?.name ?? ev.resource?.id;
    if (name) configs.push(name);
  } else if (ev.action === 'model.create' || ev.action === 'model.upload') {
    const name = ev.resource?.name ?? ev.resource?.id;
    const waiting = name ? ctx.get<string[]>(`waiting|${ev.platform}|${name}`) : undefined;
    if (waiting) {
      configs.push(...waiting);
      ctx.delete(`waiting|${ev.platform}|${name}`);
    }
  }
  for (const cfgName of configs) {
    const p = ctx.get<PendingDeploy>(`pending|${ev.platform}|${cfgName}`);
    if (!p) continue;
    if (Math.abs(ctx.clock() - p.at) > PENDING_DEPLOY_MS) {
      dropPending(ctx, `${ev.platform}|${cfgName}`);
      continue;
    }
    const config = ctx.reg.endpointConfig(ev.platform, cfgName);
    if (!config) continue;
    const missing = config.models.filter((m) => !ctx.reg.hasModelResource(ev.platform, m));
    if (missing.length) {
      for (const m of missing) {
        const w = ctx.get<string[]>(`waiting|${ev.platform}|${m}`) ?? [];
        if (!w.includes(cfgName)) ctx.set(`waiting|${ev.platform}|${m}`, [...w, cfgName].slice(-20));
      }
      continue;
    }
    settlePending(ctx, ev.platform, cfgName, p);
  }
};

/** End of input: every waiting deployment whose config came is judged with what is known. */
export const settleAllPendingDeployments: KindImpl = (_ev, ctx) => {
  for (const k of ctx.get<string[]>('pending-index') ?? []) {
    const i = k.indexOf('|');
    const p = ctx.get<PendingDeploy>(`pending|${k}`);
    if (p && ctx.reg.endpointConfig(k.slice(0, i), k.slice(i + 1))) settlePending(ctx, k.slice(0, i), k.slice(i + 1), p);
  }
};

/** Forget a waiting deployment (`platform|config`) and its place in the index. */
function dropPending(ctx: RuleContext, k: string): void {
  dropWaiting(ctx, 'pending', k);
}

/** Forget a waiting entry (`<ns>|<id>`: a deployment, an approval) and its place in `<ns>-index`. */
function dropWaiting(ctx: RuleContext, ns: 'pending' | 'advwait', id: string): void {
  ctx.delete(`${ns}|${id}`);
  const open = ctx.get<string[]>(`${ns}-index`);
  if (open?.includes(id)) ctx.set(`${ns}-index`, open.filter((x) => x !== id));
}

/** Judge a waiting deployment with what is known now, and forget it. */
function settlePending(ctx: RuleContext, platform: string, cfgName: string, p: PendingDeploy): void {
  dropPending(ctx, `${platform}|${cfgName}`);
  const dep = p.event as NormalizedEvent;
  judgeAll(dep, ctx, p.ep, undefined, ctx.reg.configRef(dep), ctx.reg.deployedModels(dep));
}

/**
 * Every SWEEP_EVERY_MS of event time: a deployment whose config has come but one of whose models never has
 * (created before mltrail watched) is judged after PENDING_MODELS_MS as it would have been in order: a model
 * nothing approved is an alert. One whose config never came is forgotten after PENDING_DEPLOY_MS.
 */
export function sweepPendingDeployments(ev: NormalizedEvent, ctx: RuleContext): void {
  const t = ctx.clock();
  const last = ctx.get<number>('pending-swept') ?? 0;
  if (!(t - last >= SWEEP_EVERY_MS)) return;
  const open = ctx.get<string[]>('pending-index');
  ctx.set('pending-swept', t);
  if (!open?.length) return;
  for (const k of open) {
    const i = k.indexOf('|');
    const platform = k.slice(0, i);
    const cfgName = k.slice(i + 1);
    const p = ctx.get<PendingDeploy>(`pending|${k}`);
    // Judged when its config has come, however late this sweep is (a bridge quiet for a day): only a
    // deployment whose config never came is forgotten.
    if (p && waited(ctx, p, PENDING_MODELS_MS) && ctx.reg.endpointConfig(platform, cfgName)) settlePending(ctx, platform, cfgName, p);
    else if (!p || waited(ctx, p, PENDING_DEPLOY_MS)) dropPending(ctx, k);
  }
}

function judgeAll(ev: NormalizedEvent, ctx: RuleContext, ep: string, direct: ModelRef | undefined, ref: ModelRef | undefined, models: string[]): void {
  // Several models served at once (SageMaker production variants): each is judged on its own, so an
  // approved variant cannot vouch for an unapproved one beside it.
  const parts: Array<{ ref?: ModelRef; models: string[] }> = models.length > 1 ? [...(direct ? [{ ref: direct, models: [] }] : []), ...models.map((m) => ({ models: [m] }))] : [{ ref, models }];
  // Several model locations (KServe storageUris, an LLM and its LoRA adapters): each beyond the first, which
  // `ref` already stands for, is judged too, so an approved base model cannot vouch for an unapproved adapter.
  const uris = ev.ml?.deployment?.model_uris;
  if (Array.isArray(uris)) {
    for (const uri of uris.slice(1)) if (typeof uri === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) parts.push({ ref: { platform: ev.platform, artifact: normUri(uri, ctx.cfg) }, models: [] });
  }
  // A model resource of several containers (SageMaker): the artifact of each container after the first, too.
  for (const m of models) for (const artifact of ctx.reg.moreArtifactsOf(ev.platform, m)) parts.push({ ref: { platform: ev.platform, artifact }, models: [] });
  for (const part of parts) judgeDeployment(ev, ctx, ep, part.ref, part.models);
}

function judgeDeployment(ev: NormalizedEvent, ctx: RuleContext, ep: string, ref: ModelRef | undefined, models: string[]): void {
  const { named, linked } = ctx.reg.resolve(ref, models, ev.platform, true);
  const candidates = [...(named ? [named] : []), ...linked.filter((l) => l.key !== named?.key)];
  const approved = candidates.filter((v) => v.approvedEver && v.approval?.state !== 'rejected');
  const what = ref?.name ? `${ref.name}${ref.version ? ` v${ref.version}` : ''}` : (ref?.artifact ?? models.join(', '));
  const entity = endpointEntity(ev, ep);
  const deployer = identityOf(ev.actor, ctx.cfg);
  if (!approved.length) {
    const rejected = candidates.find((v) => v.approval?.state === 'rejected');
    ctx.detect({
      entity, key: what, evidence: [...(rejected ? [rejected.approval!.event] : []), ev.id], title: 'Deployment of a model version that was never approved', time: ev.time,
      summary: `${deployer ?? 'someone'} deployed ${what} to ${ep} (${ev.platform}); ${rejected ? 'it was rejected' : candidates.length ? 'it was never approved' : 'no approved version matches it'}`,
      details: { deployed: ref, models: models.length ? models : undefined, known_versions: candidates.map((v) => v.key), reason: rejected ? 'rejected' : 'never_approved', deployer },
    });
    return;
  }
  if (setting(ctx, 'check_substitution') && named && named.approvedEver && ref) {
    const artifactDiffers = !!(ref.artifact && named.artifact && !uriOverlap(ref.artifact, named.artifact));
    const shaDiffers = !!(ref.sha256 && named.sha256 && ref.sha256 !== named.sha256);
    if (artifactDiffers || shaDiffers) {
      ctx.detect({
        entity, key: `${what}|substitution`, evidence: [named.approval?.event ?? '', named.shaEvent ?? '', ev.id].filter(Boolean), title: 'Deployed artifact differs from the approved one', time: ev.time,
        summary: `${ep} deploys ${named.name} v${named.version} but with ${shaDiffers ? `sha256 ${ref.sha256} (approved ${named.sha256})` : `artifact ${ref.artifact} (approved ${named.artifact})`}`,
        details: { approved_artifact: named.artifact, approved_sha256: named.sha256, deployed_artifact: ref.artifact, deployed_sha256: ref.sha256, reason: 'substitution', deployer },
      });
    }
  }
}

export const versionRollback: KindImpl = (ev, ctx) => {
  if (!isDeployment(ev)) return;
  const ep = endpointOf(ev);
  if (!ep) return;
  const prev = ctx.reg.endpoint(ev.platform, ep);
  if (!prev?.name || !prev.version) return;
  const ref = modelRefOf(ev, ctx.cfg) ?? ctx.reg.configRef(ev);
  const { named, linked } = ctx.reg.resolve(ref, ctx.reg.deployedModels(ev), ev.platform, true);
  const target = named ?? linked.find((l) => l.name === prev.name);
  const name = target?.name ?? ref?.name;
  const version = target?.version ?? ref?.version;
  if (!name || !version || name !== prev.name || compareVersions(version, prev.version) >= 0) return;
  ctx.detect({
    entity: endpointEntity(ev, ep), key: `${name}|${version}`, evidence: [prev.event, ev.id], title: 'Endpoint rolled back to an older model version',
    summary: `${ep} moved from ${name} v${prev.version} to older v${version} (by ${identityOf(ev.actor, ctx.cfg) ?? 'unknown'})`,
    details: { model: name, from_version: prev.version, to_version: version },
  });
};

/** An attestation that came before any hash was registered for its version, kept to compare with the first one. */
interface EarlyAttestation {
  observed: string;
  event: string;
  where?: string;
  at: number;
}
const EARLY_ATTEST_MS = 7 * 86_400_000;

export const hashMismatch: KindImpl = (ev, ctx) => {
  const a = ev.action;
  if (a === 'model_version.hash_registered') return judgeEarlyAttestations(ev, ctx);
  if (a !== 'model_version.hash_mismatch' && a !== 'model_version.attest' && a !== 'model_version.hash_verified') return;
  const ref = modelRefOf(ev, ctx.cfg);
  const { named, all } = versionsOf(ev, ctx);
  const v = named ?? all[0];
  const detail = (k: string) => (typeof ev.details?.[k] === 'string' ? (ev.details[k] as string).replace(/^sha256:/, '') : undefined);
  const registered = v?.sha256 ?? detail('expected_sha256') ?? detail('registered_sha256');
  const observed = ref?.sha256 ?? detail('observed_sha256');
  if (a === 'model_version.attest' && observed && !registered && ref?.name && ref.version) {
    // A serving container that starts before the auditor has hashed the version (it registers the hash at
    // its next poll): kept, and compared with the hash when it is registered.
    const key = `early|${ref.name.toLowerCase()}|${ref.version}`;
    const kept = ctx.get<EarlyAttestation[]>(key) ?? [];
    const where = ev.details?.where ?? endpointOf(ev) ?? ev.ml?.model?.artifact_uri;
    ctx.set(key, [...kept, { observed, event: ev.id, where: where === undefined ? undefined : String(where), at: Date.parse(ev.time) }].slice(-10));
    return;
  }
  const mismatch = a === 'model_version.hash_mismatch' || (a === 'model_version.hash_verified' && ev.outcome === 'failure') || (!!observed && !!registered && observed.toLowerCase() !== registered.toLowerCase());
  if (!mismatch) return;
  const entity = v ? versionEntity(v) : { type: 'model_version', id: `${ref?.name ?? 'unknown'}/${ref?.version ?? ''}`, name: ref?.name, platform: ev.platform };
  const where = ev.details?.where ?? endpointOf(ev) ?? ev.ml?.model?.artifact_uri;
  ctx.detect({
    entity, key: observed ?? 'mismatch', evidence: [...(v?.shaEvent ? [v.shaEvent] : []), ev.id], title: 'Model artifact hash differs from the registered hash',
    summary: `${entity.id}: ${observed ? `observed sha256 ${observed}` : 'hash check failed'}${registered ? `, registered ${registered}` : ''}${where ? ` (at ${String(where)})` : ''}`,
    details: { observed_sha256: observed, registered_sha256: registered, where, source: a },
  });
};


/** The first hash registered for a version: the attestations that came before it are compared now. */
function judgeEarlyAttestations(ev: NormalizedEvent, ctx: RuleContext): void {
  const ref = modelRefOf(ev, ctx.cfg);
  if (!ref?.name || !ref.version || !ref.sha256 || ev.outcome === 'failure') return;
  const key = `early|${ref.name.toLowerCase()}|${ref.version}`;
  const kept = ctx.get<EarlyAttestation[]>(key);
  if (!kept) return;
  ctx.delete(key);
  const registered = ref.sha256.toLowerCase();
  const t = Date.parse(ev.time);
  for (const x of kept) {
    if (x.observed.toLowerCase() === registered || Math.abs(t - x.at) > EARLY_ATTEST_MS) continue;
    const entity = { type: 'model_version', id: `${ref.name}/${ref.version}`, name: ref.name, platform: ev.platform };
    ctx.detect({
      entity, key: x.observed, evidence: [x.event, ev.id], title: 'Model artifact hash differs from the registered hash',
      summary: `${entity.id}: observed sha256 ${x.observed}, registered ${registered} (registered after the attestation)${x.where ? ` (at ${x.where})` : ''}`,
      details: { observed_sha256: x.observed, registered_sha256: registered, where: x.where, source: 'model_version.attest' },
    });
  }
}

export const behavioralDrift: KindImpl = (ev, ctx) => {
  const skew = new RegExp(SKEW_PATTERN, 'i');
  const pattern = ctx.rule.settings.monitor_pattern ? new RegExp(ctx.rule.settings.monitor_pattern as string, 'i') : undefined;
  if ((ev.action === 'monitor.violation' || ev.action === 'monitor.anomaly') && ev.stage !== 'ingestion' && ev.stage !== 'preprocessing') {
    const text = [ev.operation, ev.resource?.type, ev.resource?.name, ev.details?.objective, ev.details?.anomaly_objective, ev.details?.monitoring_type, ev.details?.monitor_type].filter((x) => typeof x === 'string').join(' ');
    if (pattern ? pattern.test(text) : !skew.test(text)) {
      const ep = endpointOf(ev);
      const d = ev.details ?? {};
      const entity = ep ? endpointEntity(ev, ep) : { type: ev.resource?.name || ev.resource?.id ? (ev.resource.type ?? 'monitor') : 'monitor', id: ev.resource?.name ?? ev.resource?.id ?? String(d.monitoring_type ?? ev.operation), platform: ev.platform };
      const what = [d.monitoring_type, d.objective ?? d.anomaly_objective, d.constraint_check_type, d.metric_name].filter((x) => typeof x === 'string').join(' / ') || ev.operation;
      ctx.detect({
        entity, key: text, evidence: [ev.id], title: 'Model monitor reported drift / anomaly',
        summary: `${what} on ${entity.id}${typeof d.description === 'string' ? `: ${d.description}` : ''}`,
        details: { monitor: ev.resource?.name, monitoring_type: d.monitoring_type, objective: d.objective ?? d.anomaly_objective, metric: d.metric_name, features: d.features ?? d.feature_anomalies },
      });
    }
  }
  if (ev.stage === 'serving' && ev.ml?.metrics) {
    const ep = endpointOf(ev);
    const globs = setting(ctx, 'metrics');
    if (ep) for (const [k, v] of Object.entries(ev.ml.metrics)) if (anyGlob(globs, k)) ctx.observe(k, endpointEntity(ev, ep), 'mean', v);
  }
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


