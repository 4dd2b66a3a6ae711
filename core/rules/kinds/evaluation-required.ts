import type { NormalizedEvent } from '../../schema/index.js';
import { approvalOf, eventScope, identityOf, modelRefOf, versionKey } from '../facts.js';
import { metricOf } from '../metric-names.js';
import { setting, versionEntity, waitStart, type KindImpl, type RuleContext } from './context.js';
import { ADV_GRACE_MS } from './adversarial.js';
import { dropWaiting, sweepWaiting, versionsOf } from './shared.js';

/**
 * `evaluation.score_drop`'s `require_at_approval` (opt-in): a version approved (an approval status, alias, tag or
 * stage) with no recognised quality metric on record — none of its version records, runs or producers logged a metric
 * of the rule's `metrics` (accuracy, auc, rmse, `val_loss`…), and no SageMaker `model_quality` report was registered
 * with it. Like a missing adversarial evaluation it is judged an hour after the approval (by event time and by
 * receipt), as the run's metrics often come after the approval webhook. Off by default: registries whose evaluations
 * live outside what mltrail reads (a notebook's numbers, a report in a ticket) would alert on every approval.
 */

interface QualityWait {
  at: number;
  rcv?: number;
  time: string;
  event: string;
  subject: { name: string; version: string; platform: string; scope?: string };
  runIds: string[];
  approver?: string;
  scope?: ReturnType<typeof eventScope>;
}

const MAX_WAITING = 1000;
const isAdversarial = (name: string) => /^(adv|adversarial)[_-]/i.test(name);

/** Whether a quality metric or report is on record for the subject (its records, runs and producers). */
function hasQualityEvidence(ctx: RuleContext, w: Pick<QualityWait, 'subject' | 'runIds'>): boolean {
  const dirs = setting<Record<string, 'higher' | 'lower'>>(ctx, 'metrics');
  const quality = (names: string[]) => names.some((n) => !isAdversarial(n) && metricOf(n, dirs) !== undefined);
  const { named, linked } = ctx.reg.resolve({ ...w.subject });
  const recs = [...(named ? [named] : []), ...linked];
  if (recs.some((v) => quality(Object.keys(v.metrics)) || v.evaluationReports?.some((r) => r.report.startsWith('model_quality')))) return true;
  const runs = [...new Set([...w.runIds, ...recs.flatMap((v) => [...(v.runId ? [v.runId] : []), ...(v.producerRuns ?? [])])])];
  const jobs = [...ctx.reg.producers({ ...w.subject }), ...runs.flatMap((runId) => ctx.reg.producers({ platform: w.subject.platform, runId }))];
  return jobs.some((j) => quality(Object.keys(j.metrics ?? {})));
}

function settle(ctx: RuleContext, id: string, w: QualityWait, pushedOut = false): void {
  dropWaiting(ctx, 'qualwait', id);
  if (hasQualityEvidence(ctx, w)) return;
  ctx.detect({
    entity: versionEntity(w.subject), key: 'no_quality_metric', evidence: [w.event], time: w.time, title: 'Approved without a quality evaluation',
    summary: `${w.subject.name} v${w.subject.version} was approved${w.approver ? ` by ${w.approver}` : ''} at ${w.time} with no quality metric on record (no metric of this rule's metrics logged for it, its run or its producers, no model_quality report)${pushedOut ? `; judged before its hour was up: more than ${MAX_WAITING} approvals were waiting` : ''}`,
    details: { finding: 'no_quality_metric', approver: w.approver, approved_at: w.time, ...w.scope, ...(pushedOut ? { pushed_out: true } : {}) },
  });
}

/** Every SWEEP_EVERY_MS of event time (and on an idle bridge's tick): approvals that waited their hour are judged. */
export const sweepQualityWaits: KindImpl = (_ev, ctx) => {
  if (!setting<boolean>(ctx, 'require_at_approval')) return;
  sweepWaiting<QualityWait>(ctx, 'qualwait', ADV_GRACE_MS, (id, w) => settle(ctx, id, w));
};

/** End of input (replay): every waiting approval is judged with what is known. */
export const settleAllQualityWaits: KindImpl = (_ev, ctx) => {
  for (const id of ctx.get<string[]>('qualwait-index') ?? []) {
    const w = ctx.get<QualityWait>(`qualwait|${id}`);
    if (w) settle(ctx, id, w);
  }
};

/** An approval made now (not the MLflow auditor's first-run baseline, not a version approved already): wait for its evaluation. */
export function noteApprovalForQuality(ev: NormalizedEvent, ctx: RuleContext): void {
  if (!setting<boolean>(ctx, 'require_at_approval') || ev.outcome === 'failure') return;
  sweepQualityWaits(ev, ctx);
  if (approvalOf(ev, ctx.cfg) !== 'approved' || (ev.channel === 'mlflow.audit' && ev.details?.baseline === true)) return;
  const ref = modelRefOf(ev, ctx.cfg);
  const { named, all } = versionsOf(ev, ctx);
  const target = named ?? all[0];
  if (target?.approval?.state === 'approved') return;
  const subject = named ?? (ref?.name && ref.version ? { name: ref.name, version: ref.version, platform: ref.platform, scope: ref.scope } : target);
  if (!subject) return;
  const runIds = [...new Set([ref?.runId, ev.ml?.provenance?.run_id].filter((r): r is string => !!r))];
  const w: QualityWait = { ...waitStart(ev, ctx), time: ev.time, event: ev.id, subject: { name: subject.name, version: subject.version, platform: subject.platform, ...(subject.scope ? { scope: subject.scope } : {}) }, runIds, approver: identityOf(ev.actor, ctx.cfg), scope: eventScope(ev) };
  if (hasQualityEvidence(ctx, w)) return;
  const id = versionKey(subject.platform, subject.name, subject.version, subject.scope);
  if (ctx.get<QualityWait>(`qualwait|${id}`)) return;
  ctx.set(`qualwait|${id}`, w);
  const open = [...(ctx.get<string[]>('qualwait-index') ?? []), id];
  ctx.set('qualwait-index', open.slice(-MAX_WAITING));
  for (const old of open.slice(0, -MAX_WAITING)) {
    const p = ctx.get<QualityWait>(`qualwait|${old}`);
    if (p) settle(ctx, old, p, true);
  }
}
