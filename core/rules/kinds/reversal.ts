import { approvalOf, asS3Uri, callerText, identityOf, isArchiveObject, modelRefOf, partitionOfVersion } from '../facts.js';
import type { RejectedArtifact } from '../registry.js';
import { learnAccessPoint, otherNames, type ObjectName } from './access-point-map.js';
import { versionEntity, type KindImpl, type RuleContext } from './context.js';
import { deploysByAlias } from './alias.js';
import { pinArtifactsOf } from './integrity.js';
import { versionsOf } from './shared.js';

/**
 * `registry.rejection_reversed`: a model version approved after its last decision was a rejection. A version's
 * weights cannot change (an MLflow version's source, a SageMaker package's inference specification, a Vertex
 * version), so the approval reverses a decision about the very same model: a reviewer's change of mind, or someone
 * approving what review turned down. MLflow names no approver, so who did it is often unknown; a review asked for
 * again in between (`pending` after the rejection) is said, not excused. An approval alias or stage moved onto the
 * rejected version is `registry.unapproved_deployment`'s (it deploys it), not this rule's.
 */
/** Rejections (their events) reported reversed through the access point map; the last MAX_REVERSED_MAPPED kept. */
const REVERSED_MAPPED = 'reversed-mapped';
const MAX_REVERSED_MAPPED = 1000;

export const rejectionReversed: KindImpl = (ev, ctx) => {
  // Which bucket an access point fronts (its creation, a request through it), or its deletion: this rule's own copy of
  // the access point map, as rule state is per rule.
  if (ev.outcome !== 'failure') learnAccessPoint(ev, ctx);
  // Weights rejected or approved through an access point pin it in this rule's map too.
  if (ev.stage !== 'registry' || ev.outcome === 'failure') return;
  const decision = approvalOf(ev, ctx.cfg);
  if (decision === 'approved' || decision === 'rejected') pinArtifactsOf(ev, ctx);
  if (decision !== 'approved') return;
  if (deploysByAlias(ev, ctx)) return;
  const known = versionsOf(ev, ctx).named;
  // A version created approved (CreateModelPackage with `Approved`) is not on record yet: the event names it.
  const ref = known ? undefined : modelRefOf(ev, ctx.cfg);
  const v = known ?? (ref?.name && ref.version ? { platform: ref.platform, name: ref.name, version: ref.version, scope: ref.scope, artifact: ref.artifact, approval: undefined, rejected: undefined } : undefined);
  if (!v) return;
  // Else the same weights rejected as another version (deleted since, or registered again from the same source).
  // Not on the MLflow auditor's first look (baseline, dated when seen): both decisions predate mltrail, order unknown.
  const baseline = ev.channel === 'mlflow.audit' && ev.details?.baseline === true;
  const byName = v.rejected || baseline ? undefined : ctx.reg.rejectedArtifact(v.artifact, partitionOfVersion(v, ctx.cfg));
  // Or rejected under the object's other name: through an access point of its bucket, or by the bucket's own name.
  let mapped = v.rejected || baseline || byName ? undefined : rejectedUnderOtherName(ev, ctx, v.artifact, partitionOfVersion(v, ctx.cfg));
  // A rejection reversed already under its other name: no second finding. The registry forgets a rejection its
  // approval reversed where both name the weights alike; one kept under the other name (an access point's) stays
  // there, so the rule remembers which it reported (a new rejection is a new event: reversed again, it is found).
  if (mapped && (ctx.get<string[]>(REVERSED_MAPPED) ?? []).includes(mapped.rejected.event)) mapped = undefined;
  // Or rejected as a folder holding this version's artifact, when that is an archive (a SageMaker package's
  // `model.tar.gz`) inside a rejected MLflow model's directory (`…/artifacts/model/model.tar.gz`): the rejected weights'
  // files packed. Not a folder inside a rejected folder (`gs://b/churn/v2/` under a rejected `gs://b/churn/`): a layout
  // of versions in subfolders, not the same weights.
  const enclosing = v.rejected || baseline || byName || mapped || !v.artifact || !isArchiveObject(asS3Uri(v.artifact)) ? undefined : ctx.reg.rejectedEnclosing(v.artifact, partitionOfVersion(v, ctx.cfg));
  const other = byName ?? mapped?.rejected ?? enclosing?.rejected;
  const rejected = v.rejected ?? other;
  // A rejection logged after this approval, read first (CloudTrail out of order), is not one this approval reverses.
  if (!rejected || Date.parse(rejected.time) > Date.parse(ev.time)) return;
  const reopened = !other && v.approval?.state === 'pending';
  const approver = identityOf(ev.actor, ctx.cfg);
  const as = (!other ? '' : other.name === v.name && other.version === v.version ? ' as an earlier registration of that number' : ` as v${other.version}${other.name !== v.name ? ` of ${other.name}` : ''}`) + (mapped ? mappingText(mapped.name) : '') + (enclosing ? ` (its artifact ${v.artifact} lies inside that version's, ${enclosing.folder})` : '');
  ctx.detect({
    entity: versionEntity(v), key: `reversed|${rejected.event}`, evidence: [rejected.event, ev.id],
    title: 'Rejected model version approved',
    summary: `${v.name} v${v.version} was rejected${as} at ${rejected.time}${rejected.identity ? ` by ${rejected.identity}` : ''}${reopened ? ', set back to pending since,' : ''} and approved at ${ev.time} by ${callerText(ev.actor, ctx.cfg)}: the same weights the rejection was about`,
    details: { model: v.name, version: v.version, rejected_at: rejected.time, rejected_by: rejected.identity, rejected_version: other ? `${other.name}/${other.version}` : undefined, review_requested: reopened || undefined, approver, approval_operation: ev.operation, access_point_mapping: mapped ? mappingDetails(mapped.name) : undefined, rejected_artifact: enclosing?.folder },
  });
  if (mapped) ctx.set(REVERSED_MAPPED, [...(ctx.get<string[]>(REVERSED_MAPPED) ?? []), mapped.rejected.event].slice(-MAX_REVERSED_MAPPED));
};

/**
 * A rejection kept by the artifact's other name, as the access point map knows it (registry.approved_model_modified's
 * map, learned the same way): rejected as an access point's object (its object ARN, `s3://<alias>/<key>`) and
 * registered again by its bucket, or the reverse. A name through an access point deleted since counts for a rejection
 * made before the deletion (while it fronted the bucket).
 */
function rejectedUnderOtherName(ev: Parameters<KindImpl>[0], ctx: RuleContext, artifact: string | undefined, partition: string | undefined): { rejected: RejectedArtifact; name: ObjectName } | undefined {
  if (!artifact) return undefined;
  for (const name of otherNames(ev, ctx, asS3Uri(artifact))) {
    const rejected = ctx.reg.rejectedArtifact(name.uri, partition);
    if (rejected && (!name.approved_before || Date.parse(rejected.time) < Date.parse(name.approved_before))) return { rejected, name };
  }
  return undefined;
}

/** What the finding says of the access point that maps the rejected name onto the approved one. */
function mappingDetails(n: ObjectName): Record<string, unknown> {
  const m = n.via;
  return { rejected_as: n.uri, access_point: m.arn ?? m.alias, ...(m.arn && m.alias ? { alias: m.alias } : {}), bucket: m.bucket, learned_from: m.source, event: m.event, deleted_at: m.deleted_at };
}

/** ` (rejected as <uri>: access point … fronts bucket models, from its CreateAccessPoint <event>)`. */
function mappingText(n: ObjectName): string {
  const m = n.via;
  const from = m.source === 'config' ? 'rules.access_points' : m.source === 'create' ? `its CreateAccessPoint ${m.event}` : `a request through it, ${m.event}`;
  return ` (rejected as ${n.uri}: access point ${m.arn ?? m.alias} ${m.deleted_at ? `fronted bucket ${m.bucket} until it was deleted at ${m.deleted_at}` : `fronts bucket ${m.bucket}`}, from ${from})`;
}
