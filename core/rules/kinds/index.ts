import type { Kind } from '../config.js';
import { anyGlob, callerText, fieldAt, serverScopeOf } from '../facts.js';
import { entityFor, matches, setting, type KindImpl } from './context.js';
import { rejectionReversed } from './reversal.js';
import {
  adversarialFailure, approvedModelModified, sweepArtifactWaits, sweepHeldDutyWrites, behavioralDrift, hashMismatch, scoreDrop, selfApproval, separationOfDuties, trainTestOverlap,
  judgePendingDeployments, settleAllPendingApprovals, settleAllPendingDeployments, sweepPendingApprovals, sweepPendingDeployments, unapprovedDeployment, versionRollback,
} from './model.js';
import { judgeWaitingBatchJobs, settleAllWaitingBatchJobs, sweepWaitingBatchJobs, unapprovedBatchInference } from './batch.js';
import { artifactExport, artifactShare, predictionExport } from './exfiltration.js';
import { notebookExposure } from './notebook.js';
import { mlWorkloadAccess } from './workload-access.js';
import { errorSpike } from './serving.js';
import { codeModified, distributionShift, networkEgress, offHoursJob, schemaMismatch, sourceAuthFailure, unverifiedDependency } from './pipeline.js';
import { unverifiedServingImage } from './serving-image.js';
import { rememberRuntimeWrite, runtimeModelSource, withRuntimeSource } from './serving-runtime.js';
import { modelSourceUnverifiable } from './serving-env.js';
import { unknownBaseEnvPatch } from './serving-patch.js';
import { judgeS3Endpoint, rememberS3Credentials } from './serving-s3.js';
import { sweepHeldDataUploads, unfamiliarDataSource, unfamiliarWriter } from './provenance.js';
import { auditTampering } from './audit.js';
import { monitoringDisabled, settleHeldMonitors, sweepHeldMonitors } from './monitoring.js';
import { heldUpload, isUnfinishedUploadStep } from './multipart.js';
import { aliasOnRejected, aliasRollback } from './alias.js';
import { nameTakeover } from './rename.js';
import { judgeStageRollbacks } from './stage-rollback.js';
import { judgeWaitingCopies, settleAllWaitingCopies } from './compiled-copy.js';
import { multiModelWrite } from './multi-model.js';
import { withTrainedModelParent } from './trained-model-parent.js';
import { inferenceGraphExternal } from './inference-graph.js';
import { settleAllQualityWaits, sweepQualityWaits } from './evaluation-required.js';

const AUTH_ACTIONS = new Set(['ingest.auth_failure', 'source.auth_failure', 'source.unavailable', 'source.recovered', 'auth.failure', 'auth.login']);

/** Ingestion volume per data source: events, and rows / bytes where events carry them. */
const volumeAnomaly: KindImpl = (ev, ctx) => {
  const where = ctx.rule.settings.where as Parameters<typeof matches>[1];
  if (where ? !matches(ev, where) : ev.stage !== 'ingestion' || AUTH_ACTIONS.has(ev.action) || ev.outcome === 'failure') return;
  const measures = setting(ctx, 'measures');
  const entity = entityFor(ev, 'source', ctx.cfg);
  if (measures.includes('events')) ctx.observe('events', entity, 'count', 1);
  if (measures.includes('rows') && typeof ev.ml?.data?.rows === 'number') ctx.observe('rows', entity, 'sum', ev.ml.data.rows);
  if (measures.includes('bytes') && typeof ev.ml?.data?.bytes === 'number') ctx.observe('bytes', entity, 'sum', ev.ml.data.bytes);
};

/** Registry writes per registry (platform + account/project). */
const modificationRate: KindImpl = (ev, ctx) => {
  if (ev.stage !== 'registry' || ev.outcome === 'failure' || /\.(read|list)$/.test(ev.action)) return;
  // An S3 upload in parts to a model bucket is one write, at its completion: a large model's hundred parts are no burst.
  if (isUnfinishedUploadStep(ev)) return;
  // Its completion once per upload: a client's retry (another event id, same upload id) wrote nothing new. Only
  // completions reach the hold here (no part is held, nothing is lost): it remembers the upload ids completed.
  if (ev.operation === 'CompleteMultipartUpload' && heldUpload(ev, ctx, () => true, () => {}) === 'skip') return;
  // An MLflow workspace is a registry of its own (serverScopeOf: `team/a`).
  const scope = serverScopeOf(ev) ?? ev.cloud?.account ?? ev.cloud?.project;
  ctx.observe('writes', { type: 'registry', id: scope ? `${ev.platform}:${scope}` : ev.platform, platform: ev.platform }, 'count', 1);
};

/** Generic: every matching event is a detection. */
const matchKind: KindImpl = (ev, ctx) => {
  if (!matches(ev, ctx.rule.settings.where as Parameters<typeof matches>[1])) return;
  const entity = entityFor(ev, setting(ctx, 'entity'), ctx.cfg);
  ctx.detect({ entity, key: ev.action, evidence: [ev.id], title: ctx.rule.description, summary: `${ev.action} by ${callerText(ev.actor, ctx.cfg)} on ${entity.id}`, details: { action: ev.action, operation: ev.operation } });
};

/** Generic: a windowed count / sum / metric of matching events against its baseline. */
const statisticalKind: KindImpl = (ev, ctx) => {
  if (!matches(ev, ctx.rule.settings.where as Parameters<typeof matches>[1])) return;
  const entity = entityFor(ev, setting(ctx, 'entity'), ctx.cfg);
  const measure = setting<string>(ctx, 'measure');
  if (measure === 'count') return ctx.observe('count', entity, 'count', 1);
  if (measure.startsWith('sum:')) {
    const v = Number(fieldAt(ev, measure.slice(4)));
    if (Number.isFinite(v)) ctx.observe(measure, entity, 'sum', v);
    return;
  }
  const glob = measure.slice('metric:'.length);
  for (const [k, v] of Object.entries(ev.ml?.metrics ?? {})) if (anyGlob([glob], k)) ctx.observe(k, entity, 'mean', v);
};

/** Second looks, after the registry folded the event in: see Engine.process. */
export const KIND_AFTER_UPDATE: Partial<Record<Kind, KindImpl>> = {
  unapproved_deployment: judgePendingDeployments,
  unapproved_batch_inference: judgeWaitingBatchJobs,
  approved_model_modified: judgeWaitingCopies,
  version_rollback: judgeStageRollbacks,
};

/** At the end of input (replay): what a kind still waits for, judged with what is known (see Engine.flush). */
export const KIND_AT_END: Partial<Record<Kind, KindImpl>> = {
  unapproved_deployment: settleAllPendingDeployments,
  unapproved_batch_inference: settleAllWaitingBatchJobs,
  adversarial_failure: settleAllPendingApprovals,
  score_drop: settleAllQualityWaits,
  approved_model_modified: settleAllWaitingCopies,
  monitoring_disabled: settleHeldMonitors,
};

/**
 * When no event has come for a while (serve only): what a kind waits for is looked over by the clock the
 * sources would show now, as the next event would have done (see Engine.tick).
 */
export const KIND_ON_TICK: Partial<Record<Kind, KindImpl>> = {
  unapproved_deployment: sweepPendingDeployments,
  unapproved_batch_inference: sweepWaitingBatchJobs,
  adversarial_failure: sweepPendingApprovals,
  score_drop: sweepQualityWaits,
  approved_model_modified: sweepArtifactWaits,
  unfamiliar_writer: sweepHeldDataUploads,
  separation_of_duties: sweepHeldDutyWrites,
  monitoring_disabled: sweepHeldMonitors,
};

export const KIND_IMPLS: Record<Kind, KindImpl> = {
  volume_anomaly: volumeAnomaly,
  schema_mismatch: schemaMismatch,
  source_auth_failure: sourceAuthFailure,
  distribution_shift: distributionShift,
  code_modified: codeModified,
  network_egress: networkEgress,
  off_hours_job: offHoursJob,
  unverified_dependency: unverifiedDependency,
  unverified_image: unverifiedServingImage,
  score_drop: scoreDrop,
  adversarial_failure: adversarialFailure,
  train_test_overlap: trainTestOverlap,
  self_approval: selfApproval,
  approved_model_modified: (ev, ctx) => {
    approvedModelModified(ev, ctx);
    nameTakeover(ev, ctx);
  },
  unapproved_deployment: (given, ctx) => {
    // A TrainedModel patch logged without its stored object deploys onto the parent its earlier writes named.
    const ev = withTrainedModelParent(given, ctx);
    // A KServe deployment is judged with the env of the serving runtime it names, seen before or read late.
    for (const late of rememberRuntimeWrite(ev, ctx)) unapprovedDeployment(late, ctx);
    unapprovedDeployment(withRuntimeSource(ev, ctx), ctx);
    // A patch of the serving env of an object never seen: where it loads from is known, the model is not.
    // With the env of a serving runtime it names and seen (a runtime switch of an object never seen).
    unknownBaseEnvPatch(withRuntimeSource(ev, ctx, false), ctx);
    // An s3:// KServe model is fetched from its ServiceAccount's S3 endpoint.
    rememberS3Credentials(ev, ctx);
    judgeS3Endpoint(ev, ctx);
    aliasOnRejected(ev, ctx);
    // An object written under a SageMaker multi-model Model's prefix is a model its endpoint can load.
    multiModelWrite(ev, ctx);
    // A KServe InferenceGraph step sending the requests to a service outside the cluster.
    inferenceGraphExternal(ev, ctx);
  },
  unapproved_batch_inference: unapprovedBatchInference,
  version_rollback: (ev, ctx) => {
    versionRollback(ev, ctx);
    aliasRollback(ev, ctx);
  },
  rejection_reversed: rejectionReversed,
  modification_rate: modificationRate,
  hash_mismatch: hashMismatch,
  runtime_model_source: runtimeModelSource,
  model_source_unverifiable: (ev, ctx) => {
    // A runtime's hidden artifact endpoint reaches the models on it as their own would (kept in this rule's state too).
    for (const late of rememberRuntimeWrite(ev, ctx)) modelSourceUnverifiable(late, ctx);
    modelSourceUnverifiable(withRuntimeSource(ev, ctx), ctx);
  },
  behavioral_drift: behavioralDrift,
  error_spike: errorSpike,
  separation_of_duties: separationOfDuties,
  unfamiliar_writer: unfamiliarWriter,
  unfamiliar_data_source: unfamiliarDataSource,
  audit_tampering: auditTampering,
  monitoring_disabled: monitoringDisabled,
  artifact_export: (ev, ctx) => {
    artifactExport(ev, ctx);
    // Predictions written where the record shows another account owns the destination.
    predictionExport(ev, ctx);
  },
  artifact_share: artifactShare,
  notebook_exposure: notebookExposure,
  ml_workload_access: mlWorkloadAccess,
  match: matchKind,
  statistical: statisticalKind,
};
