import type { NormalizedEvent } from '../../schema/index.js';
import { versionRollbackOf, type VersionRollback } from '../facts.js';
import type { RuleContext } from './context.js';

/**
 * An S3 object put back to an earlier version in parts: each `UploadPartCopy` of the same key `?versionId=` is marked
 * a rollback by the connector, but the object changes only when `CompleteMultipartUpload` of that upload makes the
 * parts its new version (an aborted upload, or one never completed, changes nothing). The completion names only the
 * key and the upload id, so what its part copies put back is kept here until it comes and handed to it, once.
 */

/** A rollback copied in parts, waiting for its upload's completion. */
interface HeldRollback {
  restored_version: string;
  /** The first part copy that put it back: the finding's evidence beside the completion. */
  part_event: string;
  /** Event time of that part copy (ms). */
  at: number;
}

/** What a completion carries: the rollback its parts made, and the part copy that shows it. */
export interface CarriedRollback {
  rollback: VersionRollback;
  partEvent: string;
  partOperation: string;
}

/** Rule state key: held rollbacks by `<s3 uri>|<upload id>`. */
const HELD = 'mpu-rollbacks';
/** Uploads held at most (a copy back in parts is rare; the oldest go first): the state stays small whatever the traffic. */
const MAX_HELD = 200;
/** S3 keeps an unfinished upload until it is aborted; a week covers a slow copy and a lifecycle's usual abort rule. */
const HOLD_MS = 7 * 86_400_000;

const uploadKey = (ev: NormalizedEvent): string | undefined => {
  const id = ev.details?.upload_id;
  const uri = ev.resource?.uri;
  return typeof id === 'string' && id && uri ? `${uri}|${id}` : undefined;
};

/**
 * For a part copy that rolls its object back: `'held'` (the caller judges nothing yet; the completion will). For the
 * completion of an upload whose parts rolled it back: that rollback, handed over once. An abort forgets it. Anything
 * else: undefined. Callers pass successful calls only (a failed completion leaves the parts waiting).
 */
export function multipartRollback(ev: NormalizedEvent, ctx: RuleContext): 'held' | CarriedRollback | undefined {
  const op = ev.operation;
  if (op !== 'UploadPartCopy' && op !== 'CompleteMultipartUpload' && op !== 'AbortMultipartUpload') return undefined;
  const key = uploadKey(ev);
  if (!key) return undefined;
  const held = ctx.get<Record<string, HeldRollback>>(HELD) ?? {};
  if (op === 'UploadPartCopy') {
    const restored = versionRollbackOf(ev, ev.resource?.uri)?.restored_version;
    if (!restored) return undefined;
    if (!held[key]) {
      const now = ctx.clock();
      const kept = Object.entries(held).filter(([, h]) => now - h.at < HOLD_MS);
      kept.push([key, { restored_version: restored, part_event: ev.id, at: Date.parse(ev.time) }]);
      ctx.set(HELD, Object.fromEntries(kept.slice(-MAX_HELD)));
    }
    return 'held';
  }
  const h = held[key];
  if (!h) return undefined;
  const rest = { ...held };
  delete rest[key];
  ctx.set(HELD, rest);
  return op === 'CompleteMultipartUpload' ? { rollback: { restored_version: h.restored_version }, partEvent: h.part_event, partOperation: 'UploadPartCopy' } : undefined;
}
