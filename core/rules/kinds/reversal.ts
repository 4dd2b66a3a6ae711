import { approvalOf, callerText, identityOf } from '../facts.js';
import { versionEntity, type KindImpl } from './context.js';
import { deploysByAlias } from './alias.js';
import { versionsOf } from './shared.js';

/**
 * `registry.rejection_reversed`: a model version approved after its last decision was a rejection. A version's
 * weights cannot change (an MLflow version's source, a SageMaker package's inference specification, a Vertex
 * version), so the approval reverses a decision about the very same model: a reviewer's change of mind, or someone
 * approving what review turned down. MLflow names no approver, so who did it is often unknown; a review asked for
 * again in between (`pending` after the rejection) is said, not excused. An approval alias or stage moved onto the
 * rejected version is `registry.unapproved_deployment`'s (it deploys it), not this rule's.
 */
export const rejectionReversed: KindImpl = (ev, ctx) => {
  if (ev.stage !== 'registry' || ev.outcome === 'failure' || approvalOf(ev, ctx.cfg) !== 'approved') return;
  if (deploysByAlias(ev, ctx)) return;
  const v = versionsOf(ev, ctx).named;
  const rejected = v?.rejected;
  // A rejection logged after this approval, read first (CloudTrail out of order), is not one this approval reverses.
  if (!v || !rejected || Date.parse(rejected.time) > Date.parse(ev.time)) return;
  const reopened = v.approval?.state === 'pending';
  const approver = identityOf(ev.actor, ctx.cfg);
  ctx.detect({
    entity: versionEntity(v), key: `reversed|${rejected.event}`, evidence: [rejected.event, ev.id],
    title: 'Rejected model version approved',
    summary: `${v.name} v${v.version} was rejected at ${rejected.time}${rejected.identity ? ` by ${rejected.identity}` : ''}${reopened ? ', set back to pending since,' : ''} and approved at ${ev.time} by ${callerText(ev.actor, ctx.cfg)}: the same weights the rejection was about`,
    details: { model: v.name, version: v.version, rejected_at: rejected.time, rejected_by: rejected.identity, review_requested: reopened || undefined, approver, approval_operation: ev.operation },
  });
};
