/**
 * Per-event kinds of the evaluation, registry and serving stages, plus the cross-stage identity rule. They
 * read the shared registry state as it was before the event (the engine folds the event in afterwards).
 * Each lives with the kinds that judge the same thing; this module gathers them so importers need not know which.
 */

export { scoreDrop, trainTestOverlap } from './evaluation.js';
export { adversarialFailure, settleAllPendingApprovals, sweepPendingApprovals } from './adversarial.js';
export { selfApproval, separationOfDuties, sweepHeldDutyWrites } from './duties.js';
export { approvedModelModified, hashMismatch, sweepArtifactWaits, sweepHeldArtifactUploads } from './integrity.js';
export { behavioralDrift, judgePendingDeployments, settleAllPendingDeployments, sweepPendingDeployments, unapprovedDeployment, versionRollback } from './serving.js';
