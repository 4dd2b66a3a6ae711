import type { NormalizedEvent } from '../../schema/index.js';
import { anyGlob, eventScope, identityOf, inputsOf, isBatchInference, jobFamilyOf, jobNameOf, modelRefOf, namedEntity, outputsOf, scopeOf, scopedName, UNIDENTIFIED } from '../facts.js';
import { setting, waitStart, type KindImpl, type RuleContext } from './context.js';
import { approvalVerdict, servedParts, type ApprovalVerdict } from './served.js';
import { deployedDetails, dropWaiting, sweepWaiting } from './shared.js';

/**
 * Batch inference (a SageMaker transform job, a Vertex batch prediction job) judged against the registry as a
 * deployment is (served.ts): a job running a rejected or revoked version always alerts; one running a version
 * awaiting approval, or a model no approval covers, as `judge` says. Evaluation pipelines batch-score candidate
 * versions, so `pending` is not judged by default, and a job whose every output is under `evaluation_outputs`
 * is an evaluation. A job naming a SageMaker Model not seen yet waits for it (CloudTrail delivers out of order).
 */

type Reason = 'rejected' | 'revoked' | 'approved_in_another_account' | 'pending' | 'never_approved';

/** The `judge` value that turns each reason on; a rejected or revoked version is always judged. */
const JUDGED_BY: Record<Reason, 'never_approved' | 'pending' | undefined> = {
  rejected: undefined,
  revoked: undefined,
  approved_in_another_account: 'never_approved',
  never_approved: 'never_approved',
  pending: 'pending',
};

/** A job kept until the SageMaker Models it names arrive. */
interface WaitingJob {
  at: number;
  /** Receipt of the job (ms). */
  rcv?: number;
  event: Pick<NormalizedEvent, 'id' | 'time' | 'platform' | 'actor' | 'cloud' | 'action' | 'outcome' | 'resource' | 'ml'>;
}
/** How long a job waits for a Model never seen (created before mltrail watched) before it is judged without it. */
const WAIT_FOR_MODEL_MS = 3_600_000;
/** Jobs waiting at once: the oldest beyond it are forgotten. */
const MAX_WAITING = 1000;

export const unapprovedBatchInference: KindImpl = (ev, ctx) => {
  if (!isBatchInference(ev)) return;
  const missing = ctx.reg.deployedModels(ev).filter((m) => !ctx.reg.hasModelResource(ev.platform, m, scopeOf(ev)));
  if (!missing.length) return judgeBatchJob(ev, ctx);
  const id = `${ev.platform}|${ev.id}`;
  const kept: WaitingJob['event'] = { id: ev.id, time: ev.time, platform: ev.platform, actor: ev.actor, cloud: ev.cloud, action: ev.action, outcome: ev.outcome, resource: ev.resource, ml: { deployment: ev.ml?.deployment, model: ev.ml?.model, data: ev.ml?.data, job: ev.ml?.job?.name ? { name: ev.ml.job.name } : undefined } };
  ctx.set(`batchwait|${id}`, { ...waitStart(ev, ctx), event: kept } satisfies WaitingJob);
  for (const m of missing) {
    const w = ctx.get<string[]>(modelKey(ev, m)) ?? [];
    if (!w.includes(id)) ctx.set(modelKey(ev, m), [...w, id].slice(-MAX_WAITING));
  }
  const open = [...(ctx.get<string[]>('batchwait-index') ?? []).filter((x) => x !== id), id];
  for (const old of open.slice(0, -MAX_WAITING)) ctx.delete(`batchwait|${old}`);
  ctx.set('batchwait-index', open.slice(-MAX_WAITING));
};

/** Jobs waiting for a Model, by Model (`platform`, name; a SageMaker Model's in the job's account and region). */
const modelKey = (job: Pick<NormalizedEvent, 'platform' | 'cloud'>, model: string) => `batchmodel|${job.platform}|${scopedName(model, scopeOf(job))}`;

/** After the registry took in a Model: the jobs that named it before it arrived are judged once all theirs have. */
export const judgeWaitingBatchJobs: KindImpl = (ev, ctx) => {
  sweepWaitingBatchJobs(ev, ctx);
  if (ev.outcome === 'failure' || (ev.action !== 'model.create' && ev.action !== 'model.upload')) return;
  const name = ev.resource?.name ?? ev.resource?.id;
  const ids = name ? ctx.get<string[]>(modelKey(ev, name)) : undefined;
  if (!ids) return;
  ctx.delete(modelKey(ev, name!));
  for (const id of ids) {
    const w = ctx.get<WaitingJob>(`batchwait|${id}`);
    const job = w?.event as NormalizedEvent | undefined;
    if (w && job && ctx.reg.deployedModels(job).every((m) => ctx.reg.hasModelResource(job.platform, m, scopeOf(job)))) settle(ctx, id, w);
  }
};

/** Every SWEEP_EVERY_MS of event time (and on a quiet bridge's tick): a job whose Model never came is judged without it. */
export function sweepWaitingBatchJobs(_ev: NormalizedEvent, ctx: RuleContext): void {
  sweepWaiting<WaitingJob>(ctx, 'batchwait', WAIT_FOR_MODEL_MS, (id, w) => settle(ctx, id, w));
}

/** End of input: every waiting job is judged with what is known. */
export const settleAllWaitingBatchJobs: KindImpl = (_ev, ctx) => {
  for (const id of ctx.get<string[]>('batchwait-index') ?? []) {
    const w = ctx.get<WaitingJob>(`batchwait|${id}`);
    if (w) settle(ctx, id, w);
    else dropWaiting(ctx, 'batchwait', id);
  }
};

/** Forget a waiting job (and where it waited for its Models), then judge it with what is known now. */
function settle(ctx: RuleContext, id: string, w: WaitingJob): void {
  const job = w.event as NormalizedEvent;
  dropWaiting(ctx, 'batchwait', id);
  for (const m of ctx.reg.deployedModels(job)) {
    const left = (ctx.get<string[]>(modelKey(job, m)) ?? []).filter((x) => x !== id);
    if (left.length) ctx.set(modelKey(job, m), left);
    else ctx.delete(modelKey(job, m));
  }
  judgeBatchJob(job, ctx);
}

/** A batch job family as alerts name it: a SageMaker one prefixed with its `<account>:<region>` (TransformJobName is unique only there). */
function batchEntity(ev: NormalizedEvent, family: string): { type: string; id: string; name?: string; platform: string } {
  return namedEntity('batch_job', scopedName(family, scopeOf(ev)), family, ev.platform);
}

function reasonOf(v: ApprovalVerdict): Reason | undefined {
  if (v.approved.length) return undefined;
  if (v.rejected) return v.rejected.approvedEver ? 'revoked' : 'rejected';
  if (v.withdrawn) return 'revoked';
  if (v.elsewhere) return 'approved_in_another_account';
  // Registered and awaiting review: a SageMaker package PendingManualApproval, an MLflow or Vertex version
  // registered without an approval. Anything else (an artifact no version has, a version known only from an
  // evaluation, a Model never seen) is no registered candidate.
  if (v.candidates.some((c) => c.approval?.state === 'pending' || (!c.approval && c.created))) return 'pending';
  return 'never_approved';
}

function judgeBatchJob(ev: NormalizedEvent, ctx: RuleContext): void {
  const ref = modelRefOf(ev, ctx.cfg);
  const models = ctx.reg.deployedModels(ev);
  const names = [...(ref?.name ? [ref.name] : []), ...models];
  if (!ref && !models.length) return;
  if (names.length && names.every((n) => anyGlob(setting(ctx, 'exempt_models'), n))) return;
  const outputs = outputsOf(ev);
  const evaluation = outputs.length > 0 && outputs.every((o) => anyGlob(setting(ctx, 'evaluation_outputs'), o));
  const judge = setting<string[]>(ctx, 'judge');
  const job = jobNameOf(ev) ?? ev.resource?.id ?? ev.id;
  const runner = identityOf(ev.actor, ctx.cfg);
  // Dated at the job (it may be judged when its Model arrives): where and by whom as logged, from the job itself.
  const scope = eventScope(ev);
  for (const served of servedParts(ev, ctx, ref, ref, models)) {
    // A `models:/<name>/<stage>` or `/latest` job runs the version it resolves to now, as a deployment of it does.
    const { ref: partRef, details: resolution } = ctx.reg.resolveModelUri(served.ref);
    const part = { ...served, ref: partRef };
    const v = approvalVerdict(ctx, part.ref, part.models, ev.platform, scopeOf(ev), setting<boolean>(ctx, 'trust_mlflow_model_uri_tag') === true);
    const reason = reasonOf(v);
    const by = reason ? JUDGED_BY[reason] : undefined;
    if (!reason || (by && (evaluation || !judge.includes(by)))) continue;
    const unseen = part.models.filter((m) => !ctx.reg.hasModelResource(ev.platform, m, scopeOf(ev)));
    // The version a SageMaker Model resolves to, beside the Model's name (what the job request names).
    const what = v.named?.version && !part.ref?.name ? `${v.named.name} v${v.named.version} (model ${part.models.join(', ')})` : v.what;
    const why = {
      rejected: 'it was rejected',
      revoked: `its approval was revoked (${v.rejected ? 'rejected' : 'set back to pending'} after it was approved)`,
      approved_in_another_account: `the package is in ${v.scopes.join(', ')}, but the approval was made in ${v.candidates.flatMap((c) => c.approvedScopes ?? []).join(', ')}`,
      pending: 'it is awaiting approval',
      never_approved: unseen.length ? `model ${unseen.join(', ')} was never seen` : v.candidates.length ? 'it was never approved' : 'no approved version matches it',
    }[reason];
    ctx.detect({
      // A transform job's name is unique only in its account and region: one family per account.
      entity: batchEntity(ev, jobFamilyOf(ev, job)), key: `${what}|${reason}`,
      evidence: [...(v.rejected ?? v.withdrawn ? [(v.rejected ?? v.withdrawn)!.approval!.event] : []), ev.id], title: 'Batch inference with a model version that is not approved', time: ev.time,
      summary: `${runner ?? UNIDENTIFIED} ran batch job ${job} with ${what} (${ev.platform}); ${why}`,
      details: { job, deployed: deployedDetails(part.ref), models: part.models.length ? part.models : undefined, known_versions: v.candidates.map((c) => c.key), reason, ...resolution, deployer: runner, inputs: inputsOf(ev).slice(0, 20), outputs: outputs.slice(0, 20), ...scope, ...(reason === 'approved_in_another_account' ? { package_scopes: v.scopes } : {}) },
    });
  }
}
