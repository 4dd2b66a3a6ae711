import { describe as describeError } from '../../core/retry/index.js';
import { MlflowApiError } from './client.js';

/**
 * Absence from a paged listing is only a hint, never proof of a delete. MLflow's SQL store pages
 * by offset: an item deleted while the auditor reads one page moves every later item one place
 * up, so the next page starts one item too far and an untouched item is never listed. (Renames
 * and timestamp-ordered listings shift pages the same way.) Only a `get` answering 404
 * `RESOURCE_DOES_NOT_EXIST` proves that an item is gone.
 */
export interface AbsenceCheck<T> {
  /** Confirmed deleted: report them. */
  gone: T[];
  /**
   * Still there, or not confirmed (`reason` says why): keep their snapshot unchanged, ask again next poll.
   * `refused`: MLflow answered about this item alone (403: the auditor's READ on it was taken away, which also
   * hides it from the listing), not a failing server.
   */
  kept: Array<{ item: T; reason?: string; refused?: boolean }>;
}

/** MLflow's answer for a registered model or version that does not exist. */
export function isDoesNotExist(err: unknown): boolean {
  return err instanceof MlflowApiError && err.status === 404 && err.errorCode === 'RESOURCE_DOES_NOT_EXIST';
}

/**
 * Ask MLflow about each item a listing missed (only those: a large registry costs one request per
 * missing item, not per item). `get` goes through core/retry. After a failure that is not about the
 * item itself (5xx, network, timeout, 401: the server or the credentials) the remaining items are
 * not asked this poll, so a failing server does not cost every item its retries; they are kept.
 */
export async function confirmAbsent<T>(missing: T[], get: (item: T, signal: AbortSignal) => Promise<unknown>, signal: AbortSignal): Promise<AbsenceCheck<T>> {
  const out: AbsenceCheck<T> = { gone: [], kept: [] };
  let stopped: string | undefined;
  for (const item of missing) {
    if (stopped) {
      out.kept.push({ item, reason: stopped });
      continue;
    }
    try {
      await get(item, signal);
      out.kept.push({ item });
    } catch (err) {
      if (signal.aborted) throw err;
      if (isDoesNotExist(err)) {
        out.gone.push(item);
        continue;
      }
      const reason = describeError(err);
      // 403 (no READ on this model), another 4xx: about this item only.
      const perItem = err instanceof MlflowApiError && err.status !== undefined && !err.retryable && err.status !== 401;
      out.kept.push({ item, reason, ...(perItem ? { refused: true } : {}) });
      if (!perItem) stopped = `not asked after an earlier check failed: ${reason}`;
    }
  }
  return out;
}
