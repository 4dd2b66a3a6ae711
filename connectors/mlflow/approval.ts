import type { ApprovalConfig } from './config.js';

export type Approval = 'approved' | 'rejected' | 'pending';

const has = (list: readonly string[], v: string | undefined | null): boolean =>
  v !== undefined && v !== null && list.some((x) => x.toLowerCase() === v.trim().toLowerCase());

/**
 * The approval decision a tag carries, if its key is an approval tag.
 *
 * @example
 * approvalFromTag(cfg, 'approval_status', 'Approved') // 'approved'
 */
export function approvalFromTag(cfg: ApprovalConfig, key: string, value: string | undefined | null): Approval | undefined {
  if (!has(cfg.tags, key)) return undefined;
  if (has(cfg.approved_values, value)) return 'approved';
  if (has(cfg.rejected_values, value)) return 'rejected';
  if (has(cfg.pending_values, value)) return 'pending';
  return undefined;
}

/**
 * True when assigning this alias means approval. Exactly as configured: MLflow keeps an alias as given and
 * PostgreSQL and SQLite resolve `@champion` case-sensitively, so `CHAMPION` set on another version is another
 * alias, and no approval (the rules judge a deployment of a case variant against every version holding one).
 */
export function isApprovalAlias(cfg: ApprovalConfig, alias: string | undefined | null): boolean {
  return typeof alias === 'string' && cfg.aliases.includes(alias);
}

/** True when moving to this legacy stage means approval. */
export function isApprovalStage(cfg: ApprovalConfig, stage: string | undefined | null): boolean {
  return has(cfg.stages, stage);
}

/**
 * The approval state of a whole model version from its tags, aliases and
 * stage: approved when any marker says so (a rejection tag wins over an alias,
 * since an explicit "rejected" is the stronger statement).
 */
export function approvalOfVersion(
  cfg: ApprovalConfig,
  v: { tags?: Record<string, string>; aliases?: readonly string[]; current_stage?: string },
): Approval | undefined {
  let out: Approval | undefined;
  for (const [k, val] of Object.entries(v.tags ?? {})) {
    const a = approvalFromTag(cfg, k, val);
    if (a === 'rejected') return 'rejected';
    if (a === 'approved' || (a === 'pending' && !out)) out = a;
  }
  if ((v.aliases ?? []).some((a) => isApprovalAlias(cfg, a)) || isApprovalStage(cfg, v.current_stage)) out = 'approved';
  return out;
}
