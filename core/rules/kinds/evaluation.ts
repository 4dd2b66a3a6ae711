import { compareVersions, inputsOf, modelRefOf, normUri, uriMayOverlap } from '../facts.js';
import { averagingOf, isNegated, looseName, metricOf, pairingKind } from '../metric-names.js';
import type { VersionRec } from '../registry.js';
import { setting, versionEntity, type KindImpl } from './context.js';
import { versionsOf } from './shared.js';
import { noteApprovalForQuality } from './evaluation-required.js';

/**
 * Kinds that judge what an evaluation shows: a score worse than the previous or champion version's, and
 * evaluation data that overlaps the training data. Metric names are matched loosely, so a rename or a
 * respelling does not hide a drop.
 */

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
): { name: string; value: number; event: string; negated?: true } | undefined {
  const loose = looseName(name);
  for (const [k, m] of Object.entries(base)) if (looseName(k) === loose) return { name: k, ...m };
  // Only metrics of the same kind measured the same way count: a training-split or adversarial metric logged
  // beside the renamed one (`train_accuracy`, `adv_robust_accuracy`) must not make the pairing ambiguous.
  // A metric logged under the same name on both sides is its own pair (`val_accuracy` kept beside a renamed one).
  const paired = (k: string, other: string[]) => other.some((o) => looseName(o) === looseName(k));
  // `f1_score` and `f1` are one measurement spelled two ways (pairingKind); `f1_macro` and `f1_weighted` are two.
  const kind = pairingKind(metric, dirs);
  const sameKind = (names: string[], other: string[], negated?: boolean) =>
    names.filter((k) => {
      const m = metricOf(k, dirs)?.metric;
      return m !== undefined && pairingKind(m, dirs) === kind && sameSplit(k, name) && averagingOf(k) === averagingOf(name) && (negated === undefined || isNegated(k) === negated) && !isAdversarialName(k) && !paired(k, other);
    });
  const theirs = sameKind(Object.keys(base), Object.keys(ours), isNegated(name));
  if (theirs.length === 1 && sameKind(Object.keys(ours), Object.keys(base), isNegated(name)).length === 1) return { name: theirs[0]!, ...base[theirs[0]!]! };
  // A loss logged as scikit-learn's negated scorer on one side only (`log_loss` then `neg_log_loss`): the same
  // measurement with its sign flipped, compared as such — only when each side logs that one metric of the kind.
  const flipped = sameKind(Object.keys(base), Object.keys(ours), !isNegated(name));
  if (!theirs.length && flipped.length === 1 && sameKind(Object.keys(ours), Object.keys(base)).length === 1) {
    const m = base[flipped[0]!]!;
    return { name: flipped[0]!, value: -m.value, event: m.event, negated: true };
  }
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
  // `require_at_approval`: an approval waits an hour for a quality metric on record (evaluation-required.ts).
  noteApprovalForQuality(ev, ctx);
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
  const targets: Array<Pick<VersionRec, 'platform' | 'name' | 'version' | 'scope'>> = named
    ? [named]
    : ref.name && ref.version
      ? [{ platform: ref.platform, name: ref.name, version: ref.version, scope: ref.scope }]
      : ref.runId
        ? ctx.reg.versionsForRun(ref.runId)
        : [];
  const dirs = setting(ctx, 'metrics');
  const threshold = setting<number>(ctx, 'threshold');
  // Per-metric thresholds, by the logged name (loosely spelled) or the catalogue metric it is; else `threshold`.
  const perMetric = new Map(Object.entries(setting<Record<string, number>>(ctx, 'thresholds')).map(([k, t]) => [looseName(k), t]));
  const compare = setting<'previous' | 'champion' | 'both'>(ctx, 'compare');
  // The smallest absolute worsening that counts, by metric, else `min_difference`: a log loss from 0.050 to 0.052 is 4 %
  // relative, and noise.
  const floors = new Map(Object.entries(setting<Record<string, number>>(ctx, 'min_differences')).map(([k, t]) => [looseName(k), t]));
  const minDifference = setting<number>(ctx, 'min_difference');
  // A version rejected and never approved is no baseline: its scores are what the reviewers turned down, not a bar
  // the next version must clear. One approved before (and rejected when superseded) still is.
  const baselineOk = (v: VersionRec) => !(v.rejected && !v.approvedEver);
  for (const target of targets) {
    // A version evaluated where the model is not registered: also compare with the registry's versions of it.
    const home = ctx.reg.homePlatform(target.platform, target.name);
    const others = [...ctx.reg.versionsOf(target.platform, target.name, target.scope), ...(home ? ctx.reg.versionsOf(home, target.name) : [])].filter((v) => v.version !== target.version && baselineOk(v));
    for (const [name, { value, event }] of Object.entries(metrics)) {
      const kind = metricOf(name, dirs);
      if (!kind) continue;
      const { metric, dir } = kind;
      const limit = perMetric.get(looseName(name)) ?? perMetric.get(looseName(metric)) ?? threshold;
      const floor = floors.get(looseName(name)) ?? floors.get(looseName(metric)) ?? minDifference;
      const baselines: Array<{ role: string; v: VersionRec; b: { name: string; value: number; event: string; negated?: true } }> = [];
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
        // Relative to a baseline of 0 is undefined (a loss of 0 then 0.3): the difference itself is compared.
        const comparison = base === 0 ? 'absolute' : 'relative';
        const diff = dir === 'higher' ? base - value : value - base;
        const worse = base === 0 ? diff : diff / Math.abs(base);
        if (worse > limit && diff > floor) {
          const by = comparison === 'relative' ? `${(worse * 100).toFixed(1)}% worse than` : `worse by ${Number(worse.toPrecision(6))} than`;
          ctx.detect({
            // Named as a version of the registry's model when only evaluated elsewhere (same alert whichever platform registers it).
            entity: versionEntity(home ? { ...target, platform: home } : target), key: `${looseName(name)}|${role}`,
            evidence: [...new Set([b.event, event, ev.id])], title: 'Evaluation score dropped',
            summary: `${target.name} v${target.version} ${name}=${value} is ${by} the ${role} version v${v.version} (${b.negated ? `${b.name}=${-base}, negated ${base}` : `${b.name === name ? '' : `${b.name}=`}${base}`})`,
            details: { metric: name, value, baseline: base, baseline_version: v.version, ...(b.name === name ? {} : { baseline_metric: b.name }), ...(b.negated ? { baseline_negated: true } : {}), compared_with: role, worse_by: worse, comparison, threshold: limit, ...(floor > 0 ? { min_difference: floor } : {}) },
          });
          break;
        }
      }
    }
  }
};

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
      entity: versionEntity({ name: ref.name, version: ref.version, platform: ref.platform, scope: ref.scope }), key: pairs.map((p) => p.evaluation).join(','),
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
