import type { NormalizedEvent } from '../../schema/index.js';
import { anyGlob, approvalOf, asS3Uri, callerText, endpointOf, identityOf, type ModelRef, modelRefOf, normUri, partitionOfEvent, partitionOfVersion, samePartition, scopedName, serverScopeOf, tagsOf, uriOverlap, versionRollbackOf, versionRollbackText } from '../facts.js';
import type { VersionRec } from '../registry.js';
import { setting, versionEntity, type KindImpl, type RuleContext } from './context.js';
import { KIND_DEFAULTS } from '../defaults.js';
import { ADV_GRACE_MS } from './adversarial.js';
import { listVersionState, noteVersionState, renameOf, renameVersionState, versionsOf } from './shared.js';
import { completedReportText, heldUpload, sweepHeldUploads, unjudgedText, type LostUpload } from './multipart.js';
import { addsOnlyCopies, compiledCopyAt, judgeCopies, reportUnvouched, sweepWaitingCopies } from './compiled-copy.js';
import { jobsOwnWrite, noteOutputWrite } from './compiled-writes.js';
import { learnAccessPoint, otherNames, pinAccessPoint, type ObjectName } from './access-point-map.js';

/**
 * Kinds that judge whether a model is still what was approved and registered: a change to an approved
 * version, and an artifact whose hash differs from the registered one (also when the hash is registered late).
 */

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
  for (const f of updatedFields(ev)) if (!APPROVAL_FIELDS.has(f.toLowerCase()) && !out.includes(f)) out.push(f);
  return out;
}

/** The fields an update call names: its update mask (Vertex `labels`) or the request fields it sets (SageMaker). */
function updatedFields(ev: NormalizedEvent): string[] {
  const named = [ev.details?.update_mask, ev.details?.changed_fields].flatMap((x) => (Array.isArray(x) ? x : []));
  return [...new Set(named.filter((f): f is string => typeof f === 'string' && f !== ''))];
}

/** The alias a registry call names its version by (`resource.id` `…/models/55@production`), when it names one. */
function aliasAddressed(ev: NormalizedEvent): string | undefined {
  const r = ev.resource;
  if (!r?.version || !/model/.test(r.type) || /^\d+$/.test(r.version) || r.version === '-') return undefined;
  return r.id?.endsWith(`@${r.version}`) ? r.version : undefined;
}

/** Pin in the access point map the access points an approval or rejection names its version's artifacts through. */
export function pinArtifactsOf(ev: NormalizedEvent, ctx: RuleContext): void {
  const ref = modelRefOf(ev, ctx.cfg);
  const artifacts = [ref?.artifact, ...versionsOf(ev, ctx).all.map((v) => v.artifact)].filter((u): u is string => !!u);
  for (const u of new Set([...artifacts, ...artifacts.map((a) => asS3Uri(a))])) pinAccessPoint(ctx, u);
}

/** Object-store writes: one landing on an approved version's artifact replaces what was approved. */
const OBJECT_WRITE = /^data_object\.(write|copy|delete)$/;

/** The approved versions whose artifact holds the object at `uri` (what a write there changes). */
// An S3 write is in the partition its record happened in: an approved artifact in another partition is another
// bucket of the same name (bucket names are unique per partition), not what was written.
const approvedAt = (ev: Pick<NormalizedEvent, 'platform' | 'cloud'>, ctx: RuleContext, uri: string): VersionRec[] => {
  const partition = partitionOfEvent(ev);
  return ctx.reg.resolve({ platform: ev.platform, artifact: normUri(uri, ctx.cfg) }).linked.filter((v) => v.approval?.state === 'approved' && v.artifact && samePartition(uri, partition, partitionOfVersion(v, ctx.cfg)));
};

/** Whether the rule judges writes to the object at `uri`: an approved version's artifact holds it, by this name or another (access points). */
const judgedObject = (ev: NormalizedEvent, ctx: RuleContext) => (uri: string) => namesOfWrite(ev, ctx, [uri]).some((n) => approvedOf(ev, ctx, n).length > 0);

/** A name of the object a write changed: as the record names it, or through the access point map (`other`). */
interface WrittenName {
  uri: string;
  other?: ObjectName;
  /** The name the record gave, that `other` maps from. */
  written?: string;
}

/**
 * The names of the objects a write changed: those the record names, then the same objects named through the access
 * points the rule knows of (a bucket's object through each of its access points, an access point's object in its
 * bucket and through the bucket's other access points): an approved artifact is judged by whichever name registered it.
 */
function namesOfWrite(ev: NormalizedEvent, ctx: RuleContext, uris: string[]): WrittenName[] {
  const out: WrittenName[] = uris.map((uri) => ({ uri }));
  for (const w of uris) for (const o of otherNames(ev, ctx, w)) if (!out.some((n) => n.uri === o.uri)) out.push({ uri: o.uri, other: o, written: w });
  return out;
}

/** The approved versions a write at this name changed: through a deleted access point, only those approved before the deletion. */
const approvedOf = (ev: Pick<NormalizedEvent, 'platform' | 'cloud'>, ctx: RuleContext, n: WrittenName): VersionRec[] => {
  const before = n.other?.approved_before;
  return approvedAt(ev, ctx, n.uri).filter((v) => !before || (!!v.approval && Date.parse(v.approval.time) < Date.parse(before)));
};

/** What an alert says of a name reached through the access point map: the name written, the access point, the bucket. */
function mappingDetails(n: WrittenName): Record<string, unknown> | undefined {
  if (!n.other || !n.written) return undefined;
  const m = n.other.via;
  return { written: n.written, access_point: m.arn ?? m.alias, ...(m.arn && m.alias ? { alias: m.alias } : {}), bucket: m.bucket, learned_from: m.source, event: m.event, deleted_at: m.deleted_at };
}

/** ` (written as s3://models/k: access point … fronts bucket models, from its CreateAccessPoint)`. */
function mappingText(n: WrittenName): string {
  if (!n.other || !n.written) return '';
  const m = n.other.via;
  const from = m.source === 'config' ? 'rules.access_points' : m.source === 'create' ? `its CreateAccessPoint ${m.event}` : `a request through it, ${m.event}`;
  return ` (written as ${n.written}: access point ${m.arn ?? m.alias} ${m.deleted_at ? `fronted bucket ${m.bucket} until it was deleted at ${m.deleted_at}` : `fronts bucket ${m.bucket}`}, from ${from})`;
}

/**
 * A write, copy or delete of an object inside an approved version's artifact (an S3 PutObject over its
 * model.tar.gz): the approved bytes are replaced under the same name, whatever registry the version is in.
 */
function judgeArtifactWrite(ev: NormalizedEvent, ctx: RuleContext): void {
  // Written in parts, the object changes only once its upload completes: judged then, once, its first part beside
  // the completion (an aborted upload changed nothing). Held only for an approved artifact.
  const carried = heldUpload(ev, ctx, judgedObject(ev, ctx), (lost) => judgeLostUpload(lost, ctx));
  if (carried === 'skip' || !OBJECT_WRITE.test(ev.action)) return;
  const data = ev.ml?.data;
  const written = ev.action === 'data_object.copy' ? (data?.outputs ?? data?.uris ?? []) : (data?.uris ?? []);
  // Written through an access point whose bucket the record names: the object as an artifact named through the
  // access point is too (its object ARN), judged beside the bucket's.
  const viaAccessPoint = typeof ev.details?.access_point_object === 'string' && written.length === 1 ? [ev.details.access_point_object] : [];
  // And the same objects named through the other access points of the bucket (or in the bucket), as the map knows them.
  const names = namesOfWrite(ev, ctx, written);
  for (const uri of viaAccessPoint) if (!names.some((n) => n.uri === uri)) names.push({ uri });
  const seen = new Set<string>();
  for (const name of names) {
    const { uri } = name;
    // A write in a compilation job's output location, kept for when a copy there is registered.
    noteOutputWrite(ev, ctx, uri);
    // An earlier version put back (no new bytes uploaded): a rollback, its own finding beside an overwrite of the same object.
    // (A name through the access point map: the rollback is read for the object as the record names it.)
    const rollback = carried?.rollback ?? versionRollbackOf(ev, name.written ?? uri);
    const operation = carried?.operation ?? ev.operation;
    for (const v of approvedOf(ev, ctx, name)) {
      if (seen.has(v.key) || !v.approval) continue;
      seen.add(v.key);
      const copy = compiledCopyAt(ctx, v, normUri(uri, ctx.cfg));
      // The compilation job writing its output, read after the copy's registration (log files out of order).
      if (!carried && jobsOwnWrite(ev, copy)) continue;
      const change = ev.action === 'data_object.delete' ? 'artifact_deleted' : 'artifact_overwritten';
      const how = rollback ? `rolled back: ${versionRollbackText(rollback)}` : change === 'artifact_deleted' ? 'deleted' : 'written';
      ctx.detect({
        entity: versionEntity(v), key: `${change}|${uri}${rollback ? '|rollback' : ''}`, evidence: [v.approval.event, ...(carried?.evidence ?? [ev.id])], title: 'Approved model version changed after approval',
        summary: `${v.name} v${v.version} was approved at ${v.approval.time} and then its artifact ${uri} was ${how} (${operation}) by ${callerText(ev.actor, ctx.cfg)}${mappingText(name)}${carried?.completes ? completedReportText(carried.completes) : ''}`,
        // A compiled copy recorded as vouched for: the job that wrote the bytes now replaced.
        details: { change, object: uri, artifact: v.artifact, approved_at: v.approval.time, version_rollback: rollback, compiled_copy: copy, access_point_mapping: mappingDetails(name), ...(carried?.completes ? { completes_unjudged: carried.completes } : {}) },
      });
    }
    if (!carried) judgeReportWrite(ev, ctx, name, rollback);
  }
}

/**
 * A write, copy or delete of an evaluation report registered with an approved version (SageMaker ModelMetrics: the
 * `evaluation.json` a pipeline's evaluation step wrote, a Clarify bias or explainability report): what the approval
 * was judged on, and what an auditor later reads as its evidence, is replaced under the same name. The package keeps
 * only the report's location (and a digest its client claimed), so the rewrite is seen only here.
 */
function judgeReportWrite(ev: NormalizedEvent, ctx: RuleContext, name: WrittenName, rollback: ReturnType<typeof versionRollbackOf>): void {
  const partition = partitionOfEvent(ev);
  const uri = normUri(name.uri, ctx.cfg);
  for (const v of ctx.reg.versionsWithReport(uri)) {
    const report = v.evaluationReports?.find((r) => asS3Uri(r.uri) === asS3Uri(uri));
    if (!report || !samePartition(uri, partition, partitionOfVersion(v))) continue;
    // Rewritten after its registration and before any approval: the approver will read what was written since, not
    // what the evaluation step produced. Kept until the version is approved, judged then (judgeReportRewrittenBeforeApproval).
    if (v.approval?.state !== 'approved') {
      if (Date.parse(ev.time) > Date.parse(report.time)) noteReportRewrite(ctx, v, { event: ev.id, time: ev.time, operation: ev.operation, actor: identityOf(ev.actor, ctx.cfg), caller: callerText(ev.actor, ctx.cfg), object: uri, report: report.report, deleted: ev.action === 'data_object.delete' });
      continue;
    }
    // A rewrite before the approval was judged at the approval; one after it changes what was approved on.
    if (Date.parse(ev.time) < Date.parse(v.approval.time)) continue;
    const change = ev.action === 'data_object.delete' ? 'evaluation_report_deleted' : 'evaluation_report_overwritten';
    const how = rollback ? `rolled back: ${versionRollbackText(rollback)}` : change === 'evaluation_report_deleted' ? 'deleted' : 'written';
    ctx.detect({
      entity: versionEntity(v), key: `${change}|${uri}${rollback ? '|rollback' : ''}`, evidence: [v.approval.event, report.event, ev.id], title: 'Evaluation report of an approved model version changed after approval',
      summary: `${v.name} v${v.version} was approved at ${v.approval.time} and then its evaluation report ${uri} (${report.report}) was ${how} (${ev.operation}) by ${callerText(ev.actor, ctx.cfg)}${mappingText(name)}`,
      details: { change, object: uri, report: report.report, registered_digest: report.content_digest, artifact: v.artifact, approved_at: v.approval.time, version_rollback: rollback, access_point_mapping: mappingDetails(name) },
    });
  }
}

/** A write of a version's evaluation report seen before its approval. */
interface ReportRewrite {
  event: string;
  time: string;
  operation?: string;
  actor?: string;
  caller: string;
  object: string;
  report: string;
  deleted: boolean;
}

/** Report rewrites kept per version until its approval: the last few (the evidence), per version, at most this many. */
const MAX_REPORT_REWRITES = 10;
const reportRewriteKey = (v: Pick<VersionRec, 'key'>) => `evrw|${v.key}`;

function noteReportRewrite(ctx: RuleContext, v: VersionRec, w: ReportRewrite): void {
  const kept = ctx.get<ReportRewrite[]>(reportRewriteKey(v)) ?? [];
  if (kept.some((k) => k.event === w.event)) return;
  ctx.set(reportRewriteKey(v), [...kept, w].slice(-MAX_REPORT_REWRITES));
}

/**
 * A version approved after one of its registered evaluation reports was rewritten (or deleted) since its
 * registration: the approver judged numbers someone wrote after the evaluation step — an evaluation.json edited
 * between RegisterModel and the review. One finding at the approval, the rewrites in its evidence.
 */
function judgeReportRewrittenBeforeApproval(ev: NormalizedEvent, ctx: RuleContext, v: VersionRec): void {
  const kept = ctx.get<ReportRewrite[]>(reportRewriteKey(v));
  if (!kept?.length) return;
  ctx.delete(reportRewriteKey(v));
  const before = kept.filter((w) => Date.parse(w.time) <= Date.parse(ev.time));
  if (!before.length) return;
  const first = before[0]!;
  const objects = [...new Set(before.map((w) => w.object))];
  ctx.detect({
    entity: versionEntity(v), key: `evaluation_report_rewritten_before_approval|${objects.join(',')}`, evidence: [...new Set([...before.map((w) => w.event), ev.id])], title: 'Model version approved after its evaluation report was rewritten',
    summary: `${v.name} v${v.version} was approved at ${ev.time} after its evaluation report ${first.object} (${first.report}) was ${first.deleted ? 'deleted' : 'written'} (${first.operation ?? 'write'}) by ${first.caller} at ${first.time}, after the version was registered${before.length > 1 ? ` (${before.length} writes)` : ''}`,
    details: { change: 'evaluation_report_rewritten_before_approval', objects, writes: before.map(({ caller: _c, ...w }) => w), approved_at: ev.time, approver: identityOf(ev.actor, ctx.cfg) },
  });
}

/** A run metric the MLflow auditor found changed at an approval since it read the run at registration. */
interface RewrittenMetric {
  key: string;
  value: number;
  registered_value?: number;
  backdated?: boolean;
}

/** Run statuses of a run done logging: one still `RUNNING` at registration logs its own metrics on. */
const ENDED_RUN = new Set(['FINISHED', 'FAILED', 'KILLED']);

/**
 * A version approved after its run's metrics were overwritten since registration (the MLflow auditor's run read again
 * at the approval, `details.metrics_changed_after_registration`): the approver judged values someone logged after
 * the evaluation — a higher `step` makes any value the one MLflow shows, under any timestamp. A value overwritten,
 * or one backdated (its timestamp before the registration read that did not see it), is the finding; a key first
 * logged since with a current timestamp (an evaluation logged to the run after registering) is evidence, not a
 * rewrite, and a run still running at registration was logging its own metrics.
 */
function judgeMetricsRewrittenBeforeApproval(ev: NormalizedEvent, ctx: RuleContext): void {
  const list = ev.details?.metrics_changed_after_registration;
  if (!Array.isArray(list) || !ENDED_RUN.has(String(ev.details?.registered_run_status))) return;
  // A value logged again unchanged (autologging's end-of-run callback, a higher step of the same number) is what was
  // evaluated: only a different value, or a first value backdated, is a rewrite.
  const rewritten = (list as RewrittenMetric[]).filter((m) => m && typeof m.key === 'string' && (m.registered_value !== undefined ? m.registered_value !== m.value : m.backdated));
  if (!rewritten.length) return;
  const ref = modelRefOf(ev, ctx.cfg);
  if (!ref?.name || !ref.version) return;
  const v = ctx.reg.ownVersion(ref.platform, ref.name, ref.version, ref.scope) ?? { name: ref.name, version: ref.version, platform: ref.platform, scope: ref.scope };
  const keys = rewritten.map((m) => m.key).sort();
  const first = rewritten[0]!;
  const how = (m: RewrittenMetric) => (m.registered_value !== undefined ? `${m.key} ${m.registered_value} → ${m.value}` : `${m.key} = ${m.value} (first logged, backdated)`);
  ctx.detect({
    entity: versionEntity(v), key: `evaluation_metrics_rewritten_before_approval|${keys.join(',')}`, evidence: [ev.id], title: 'Model version approved after its run metrics were rewritten',
    summary: `${ref.name} v${ref.version} was approved at ${String(ev.details?.approved_at ?? ev.time)} after its run's metrics changed since registration (${how(first)}${rewritten.length > 1 ? `, and ${rewritten.length - 1} more` : ''})${first.backdated ? ', logged under a timestamp from before the registration read' : ''}`,
    details: { change: 'evaluation_metrics_rewritten_before_approval', metrics: rewritten, registered_read_at: ev.details?.registered_read_at, approved_at: ev.details?.approved_at },
  });
}

/**
 * An upload in parts over an approved artifact that left the hold unfinished (pushed out by newer uploads, or no
 * completion seen in a week): if it was completed, its completion can no longer be judged, so it is a finding now,
 * dated at its part — else flooding the hold with uploads that never complete would hide a real one.
 */
function judgeLostUpload(lost: LostUpload, ctx: RuleContext): void {
  const { part, rollback, unjudged } = lost;
  const uri = part.resource?.uri;
  if (!uri) return;
  const what = rollback ? versionRollbackText(rollback) : 'new bytes';
  const seen = new Set<string>();
  for (const name of namesOfWrite(part, ctx, [uri])) for (const v of approvedOf(part, ctx, name)) {
    if (!v.approval || seen.has(v.key)) continue;
    seen.add(v.key);
    ctx.detect({
      entity: versionEntity(v), key: `artifact_upload_unjudged|${uri}${rollback ? '|rollback' : ''}`, evidence: [v.approval.event, part.id], time: part.time, title: 'Upload in parts over an approved model artifact could not be judged',
      summary: `${v.name} v${v.version} was approved at ${v.approval.time} and then an upload in parts over its artifact ${name.uri} was started (${part.operation}: ${what}) by ${callerText(part.actor, ctx.cfg)}${mappingText(name)}; whether it was completed can no longer be judged: ${unjudgedText(unjudged)}`,
      details: { change: 'artifact_upload_unjudged', object: name.uri, access_point_mapping: mappingDetails(name), artifact: v.artifact, approved_at: v.approval.time, version_rollback: rollback, upload_id: lost.upload_id, unjudged, operation: part.operation, actor: identityOf(part.actor, ctx.cfg) },
    });
  }
}

/**
 * A tag set soon after the approval whose keys are all adversarial evidence (`adversarial*`, `adv_*`, as
 * evaluation.adversarial_failure reads them): the evaluation that rule waits an hour after an approval for,
 * reported as the README says (an auditor's or pipeline's next poll), not a change of what was approved. A
 * failing score is that rule's alert; a removal, a key set again, a later tag or any other key is still a change here.
 */
function adversarialEvidenceInTime(ev: NormalizedEvent, ctx: RuleContext, v: VersionRec, tagKeys: string[], ignore: string[]): boolean {
  if (!ev.action.endsWith('.tag_set') || !v.approval) return false;
  const keys = tagKeys.filter((k) => !anyGlob(ignore, k));
  const configured = (ctx.cfg as unknown as Record<string, { prefixes?: string[] } | undefined>)['evaluation.adversarial_failure']?.prefixes;
  const prefixes = configured ?? (KIND_DEFAULTS.adversarial_failure.prefixes as string[]);
  if (!keys.length || !keys.every((k) => prefixes.some((p) => k.toLowerCase().startsWith(p.toLowerCase())))) return false;
  // Per key: the value taken as evidence, or null once the key was set as a change (it is never evidence again).
  const key = `advtag|${v.key}`;
  const taken = ctx.get<Record<string, string | null>>(key) ?? {};
  const values = tagsOf(ev);
  const lower = keys.map((k) => k.toLowerCase());
  // The evidence already taken, reported again with the same values: MLflow's webhook sends the tag at once and
  // the registry auditor reports it at its next poll (both halves on, as the README sets them up). Nothing changed.
  if (keys.every((k, i) => typeof taken[lower[i]!] === 'string' && taken[lower[i]!] === String(values[k] ?? ''))) return true;
  const after = Date.parse(ev.time) - Date.parse(v.approval.time);
  // Within the hour, each key once; a key set again (a failing score replaced by a passing one, or set back), or
  // after the hour, is a change, and that key stays one.
  const first = after >= 0 && after <= ADV_GRACE_MS && lower.every((k) => !(k in taken));
  const next: Record<string, string | null> = { ...taken };
  keys.forEach((k, i) => (next[lower[i]!] = first ? String(values[k] ?? '') : null));
  ctx.set(key, Object.fromEntries(Object.entries(next).slice(-50)));
  noteVersionState(ctx, 'advtag', v);
  return first;
}

/** Uploads in parts over an approved artifact held a week with no completion seen are judged as lost (see multipart.ts). */
export const sweepHeldArtifactUploads: KindImpl = (_ev, ctx) => sweepHeldUploads(ctx, (lost) => judgeLostUpload(lost, ctx));

/** What the rule waits for, looked over by the clock: uploads in parts, and compiled copies waiting for their compilation job. */
export const sweepArtifactWaits: KindImpl = (ev, ctx) => {
  sweepHeldArtifactUploads(ev, ctx);
  sweepWaitingCopies(ev, ctx);
};

export const approvedModelModified: KindImpl = (ev, ctx) => {
  sweepArtifactWaits(ev, ctx);
  if (ev.outcome === 'failure') return;
  if (ev.action === 'evaluation.metrics') return judgeMetricsRewrittenBeforeApproval(ev, ctx);
  // Which bucket an access point fronts (its creation, a request through it), or its deletion: before judging this
  // very write, which may be what tells it.
  learnAccessPoint(ev, ctx);
  // An artifact approved or rejected through an access point pins it in the map (no flood of others pushes it out).
  const decision = approvalOf(ev, ctx.cfg);
  if (decision === 'approved' || decision === 'rejected') pinArtifactsOf(ev, ctx);
  // The evidence tags taken per version follow a rename of their model (the registry's records do).
  const renamed = renameOf(ev);
  if (renamed) return renameVersionState(ctx, 'advtag', ev.platform, renamed.from, renamed.to, serverScopeOf(ev));
  if (OBJECT_WRITE.test(ev.action) || ev.operation === 'AbortMultipartUpload') return judgeArtifactWrite(ev, ctx);
  const approving = approvalOf(ev, ctx.cfg) === 'approved';
  if (!approving && (!anyGlob(setting(ctx, 'actions'), ev.action) || approvalOf(ev, ctx.cfg))) return;
  let ref = modelRefOf(ev, ctx.cfg);
  // A version addressed by its alias (Vertex UpdateModel on `…/models/55@production` edits that version): the
  // version holding the alias now.
  const alias = ref?.name && !ref.version ? aliasAddressed(ev) : undefined;
  if (ref && alias) {
    const held = ctx.reg.resolve({ ...ref, alias }, [], ev.platform, true).named;
    if (held?.version && /^\d+$/.test(held.version) && held.name === ref.name) ref = { ...ref, version: held.version };
  }
  if (!ref?.name || !ref.version) return;
  const v = ctx.reg.ownVersion(ref.platform, ref.name, ref.version, ref.scope);
  // An approving call judges a version approved at any time (revoked, then approved again with a swap);
  // other changes only one approved now.
  // Judged before the registry takes this approval in: the version's evaluation reports rewritten since its registration.
  if (v && approving) judgeReportRewrittenBeforeApproval(ev, ctx, v);
  if (!v || !v.approval || (approving ? !v.approvedEver : v.approval.state !== 'approved')) return;
  const tagKeys = tagKeysOf(ev);
  // mltrail's own digest tags and the approval markers are not silent changes.
  // The auditor's own tags (mltrail.sha256 write-back) are excepted; ignore_tags adds to them. The MLflow
  // auditor never reports its own write-back (connectors/mlflow/diff.ts skips it): a digest tag change it
  // reports is someone else setting, rewriting or removing the digest — to hide a swap — judged like any tag.
  const own = ev.channel === 'mlflow.audit' ? [] : ['mltrail.*', 'mltrail_*'];
  const ignore = [...own, ...setting<string[]>(ctx, 'ignore_tags'), ...Object.keys(ctx.cfg.approval.tags)];
  if (approving) {
    // Approving again is no change, unless the same call changes the version too (approve + swap in one request).
    const changed = changesBesidesApproval(ev, v, ref, tagKeys, ignore);
    if (!changed.length) return;
    ctx.detect({
      entity: versionEntity(v), key: `approve+${changed.join(',')}`, evidence: [v.approval.event, ev.id], title: 'Approved model version changed after approval',
      summary: `${v.name} v${v.version} was approved at ${v.approval.time} and then changed (${changed.join(', ')}) by ${callerText(ev.actor, ctx.cfg)} in a call that approved it again`,
      details: { change: 'reapproved_with_changes', fields: changed, approved_at: v.approval.time, previous_artifact: changed.includes('artifact') ? v.artifact : undefined, new_artifact: changed.includes('artifact') ? ref.artifact : undefined },
    });
    return;
  }
  if (ev.action.includes('tag_') && tagKeys.length && tagKeys.every((k) => anyGlob(ignore, k))) return;
  if (adversarialEvidenceInTime(ev, ctx, v, tagKeys, ignore)) return;
  // Registering a hash is only a change when another hash was registered before.
  if (ev.action === 'model_version.hash_registered' && (!ref.sha256 || !v.sha256 || ref.sha256 === v.sha256)) return;
  if (ev.action === 'model_version.alias_delete' || ev.action === 'model_version.stage_transition') {
    // Removing an approval alias, or moving the version out of an approved stage (Production → Archived when
    // the next version is promoted), is a demotion, not a silent change of what was approved.
    return;
  }
  const change = ev.action.split('.')[1]!;
  // What an update call changed, as its update mask (Vertex) / request (SageMaker) names it: "changed (update)" alone
  // sent the analyst to the raw event to learn whether labels, the description or the artifact moved.
  const fields = updatedFields(ev);
  const what = [...tagKeys, ...fields.filter((f) => !tagKeys.includes(f))];
  // A Neo-compiled copy of this very version registered in it (the normal Neo flow) is recorded, not a finding; any
  // other addition is, saying what was not vouched for.
  const unvouched: string[] = [];
  if (!tagKeys.length && addsOnlyCopies(ev, fields, APPROVAL_FIELDS)) {
    if (judgeCopies(ev, ctx, v, unvouched)) return;
    return reportUnvouched(ev, ctx, v, fields, unvouched);
  }
  // One finding per change and what it touched: a second tag (`decision_threshold` after `notes`) is news, not a repeat.
  const tag = ev.details?.tag as { key?: unknown; old?: unknown; value?: unknown } | undefined;
  ctx.detect({
    entity: versionEntity(v), key: what.length ? `${change}|${[...what].sort().join(',')}` : change, evidence: [v.approval.event, ev.id], title: 'Approved model version changed after approval',
    summary: `${v.name} v${v.version} was approved at ${v.approval.time} and then changed (${change}${what.length ? `: ${what.join(', ')}` : ''}) by ${callerText(ev.actor, ctx.cfg)}`,
    details: { change, tags: tagKeys.length ? tagKeys : undefined, tag: tag && typeof tag.key === 'string' ? { key: tag.key, old: tag.old, value: tag.value } : undefined, fields: fields.length ? fields : undefined, approved_at: v.approval.time, previous_sha256: ev.action === 'model_version.hash_registered' ? v.sha256 : undefined, new_sha256: ev.action === 'model_version.hash_registered' ? ref.sha256 : undefined },
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

/** Attestations waiting for their version's hash, by model name (any case: serving containers write it as they like) and version. */
const earlyName = (name: string) => name.toLowerCase();
const earlyKey = (name: string, version: string, scope: string | undefined) => `early|${scopedName(earlyName(name), scope)}|${version}`;

export const hashMismatch: KindImpl = (ev, ctx) => {
  const a = ev.action;
  // Attestations still waiting for the hash follow a rename of their model (the auditor registers it under the new name).
  const renamed = renameOf(ev);
  if (renamed) {
    const scope = serverScopeOf(ev);
    renameVersionState(ctx, 'early', ev.platform, renamed.from, renamed.to, scope, (name, n) => earlyKey(name, n, scope), earlyName);
    return;
  }
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
    const key = earlyKey(ref.name, ref.version, ref.scope);
    const kept = ctx.get<EarlyAttestation[]>(key) ?? [];
    // Listed for a rename of the model, which only MLflow's registry auditor reports (an attestation names no platform).
    listVersionState(ctx, 'early', 'mlflow', earlyName(ref.name), ref.version, ref.scope);
    const where = ev.details?.where ?? endpointOf(ev) ?? ev.ml?.model?.artifact_uri;
    ctx.set(key, [...kept, { observed, event: ev.id, where: where === undefined ? undefined : String(where), at: Date.parse(ev.time) }].slice(-10));
    return;
  }
  const mismatch = a === 'model_version.hash_mismatch' || (a === 'model_version.hash_verified' && ev.outcome === 'failure') || (!!observed && !!registered && observed.toLowerCase() !== registered.toLowerCase());
  if (!mismatch) return;
  const entity = v ? versionEntity(v) : ref?.name ? versionEntity({ name: ref.name, version: ref.version ?? '', platform: ev.platform, scope: ref.scope }) : { type: 'model_version', id: `unknown/${ref?.version ?? ''}`, platform: ev.platform };
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
  const key = earlyKey(ref.name, ref.version, ref.scope);
  const kept = ctx.get<EarlyAttestation[]>(key);
  if (!kept) return;
  ctx.delete(key);
  const registered = ref.sha256.toLowerCase();
  const t = Date.parse(ev.time);
  for (const x of kept) {
    if (x.observed.toLowerCase() === registered || Math.abs(t - x.at) > EARLY_ATTEST_MS) continue;
    const entity = versionEntity({ name: ref.name, version: ref.version, platform: ev.platform, scope: ref.scope });
    ctx.detect({
      entity, key: x.observed, evidence: [x.event, ev.id], title: 'Model artifact hash differs from the registered hash',
      summary: `${entity.id}: observed sha256 ${x.observed}, registered ${registered} (registered after the attestation)${x.where ? ` (at ${x.where})` : ''}`,
      details: { observed_sha256: x.observed, registered_sha256: registered, where: x.where, source: 'model_version.attest' },
    });
  }
}
