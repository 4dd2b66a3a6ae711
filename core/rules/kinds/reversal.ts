import { approvalOf, callerText, identityOf, modelRefOf, partitionOfVersion } from '../facts.js';
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
  const known = versionsOf(ev, ctx).named;
  // A version created approved (CreateModelPackage with `Approved`) is not on record yet: the event names it.
  const ref = known ? undefined : modelRefOf(ev, ctx.cfg);
  const v = known ?? (ref?.name && ref.version ? { platform: ref.platform, name: ref.name, version: ref.version, scope: ref.scope, artifact: ref.artifact, approval: undefined, rejected: undefined } : undefined);
  if (!v) return;
  // Else the same weights rejected as another version (deleted since, or registered again from the same source).
  // Not on the MLflow auditor's first look (baseline, dated when seen): both decisions predate mltrail, order unknown.
  const baseline = ev.channel === 'mlflow.audit' && ev.details?.baseline === true;
  const other = v.rejected || baseline ? undefined : ctx.reg.rejectedArtifact(v.artifact, partitionOfVersion(v));
  const rejected = v.rejected ?? other;
  // A rejection logged after this approval, read first (CloudTrail out of order), is not one this approval reverses.
  if (!rejected || Date.parse(rejected.time) > Date.parse(ev.time)) return;
  const reopened = !other && v.approval?.state === 'pending';
  const approver = identityOf(ev.actor, ctx.cfg);
  const as = !other ? '' : other.name === v.name && other.version === v.version ? ' as an earlier registration of that number' : ` as v${other.version}${other.name !== v.name ? ` of ${other.name}` : ''}`;
  ctx.detect({
    entity: versionEntity(v), key: `reversed|${rejected.event}`, evidence: [rejected.event, ev.id],
    title: 'Rejected model version approved',
    summary: `${v.name} v${v.version} was rejected${as} at ${rejected.time}${rejected.identity ? ` by ${rejected.identity}` : ''}${reopened ? ', set back to pending since,' : ''} and approved at ${ev.time} by ${callerText(ev.actor, ctx.cfg)}: the same weights the rejection was about`,
    details: { model: v.name, version: v.version, rejected_at: rejected.time, rejected_by: rejected.identity, rejected_version: other ? `${other.name}/${other.version}` : undefined, review_requested: reopened || undefined, approver, approval_operation: ev.operation },
  });
};
