import type { NormalizedEvent } from '../../schema/index.js';
import { versionRollbackOf, type VersionRollback } from '../facts.js';
import type { RuleContext } from './context.js';

/**
 * An S3 object put back to an earlier version in parts: each `UploadPartCopy` of the same key `?versionId=` is marked
 * a rollback by the connector, but the object changes only when `CompleteMultipartUpload` of that upload makes the
 * parts its new version (an aborted upload, or one never completed, changes nothing). The completion names only the
 * key and the upload id, so what its part copies put back is kept here until it comes and handed to it, once.
 * CloudTrail does not deliver in order (records of one upload can land in different log files, read in any order):
 * a completion or abort that finds nothing held is remembered a while, so a part copy arriving after it is judged
 * then (completed) or dropped (aborted), not held for a completion that already came.
 * Each rule holds and remembers only uploads to objects it judges (its `judged` test): the maps are capped, and
 * uploads anywhere else (a busy bucket, or an attacker's own part copies) would push a waiting rollback out.
 */

/** A rollback copied in parts, waiting for its upload's completion. */
interface HeldRollback {
  restored_version: string;
  /** The first part copy that put it back: the finding's evidence beside the completion. */
  part_event: string;
  /** Event time of that part copy (ms). */
  at: number;
}

/** A completion or abort that came with no part copy held (one may still arrive, delivered late). */
interface EndedUpload {
  operation: 'CompleteMultipartUpload' | 'AbortMultipartUpload';
  event: string;
  /** Event time of the completion (ms). */
  at: number;
  /** A late part copy already made it a rollback: the others of the same upload add nothing. */
  judged?: boolean;
}

/** What a completion carries: the rollback its parts made, the part copy and the completion that show it (in that order). */
export interface CarriedRollback {
  rollback: VersionRollback;
  evidence: string[];
  /** `UploadPartCopy, made current by CompleteMultipartUpload`: the calls that made the rollback. */
  operation: string;
}

/** Rule state key: held rollbacks by `<s3 uri>|<upload id>`. */
const HELD = 'mpu-rollbacks';
/**
 * Uploads held at most (a copy back in parts is rare; the oldest go first): the state stays small whatever the traffic.
 * Only uploads to objects the rule judges count, so uploads elsewhere cannot push a waiting one out.
 */
const MAX_HELD = 200;
/** S3 keeps an unfinished upload until it is aborted; a week covers a slow copy and a lifecycle's usual abort rule. */
const HOLD_MS = 7 * 86_400_000;
/** Rule state key: uploads ended with nothing held, by `<s3 uri>|<upload id>`. */
const ENDED = 'mpu-ended';
/** CloudTrail delivers a record within about 5 minutes, S3 data events within 15 in the usual case; a day covers a lagging reader. */
const ENDED_MS = 86_400_000;
const OPERATION = 'UploadPartCopy, made current by CompleteMultipartUpload';

/** `map` with `key` set to `value`, the entries older than `keepMs` by the clock dropped and at most MAX_HELD kept (the newest). */
function bounded<T extends { at: number }>(map: Record<string, T>, key: string, value: T, now: number, keepMs: number): Record<string, T> {
  const kept = Object.entries(map).filter(([k, h]) => k !== key && now - h.at < keepMs);
  kept.push([key, value]);
  return Object.fromEntries(kept.slice(-MAX_HELD));
}

const uploadKey = (ev: NormalizedEvent): string | undefined => {
  const id = ev.details?.upload_id;
  const uri = ev.resource?.uri;
  return typeof id === 'string' && id && uri ? `${uri}|${id}` : undefined;
};

/**
 * For a part copy that rolls its object back: `'held'` (the caller judges nothing yet; the completion will). For the
 * completion of an upload whose parts rolled it back: that rollback, handed over once. An abort forgets it. Anything
 * else: undefined. Callers pass successful calls only (a failed completion leaves the parts waiting). `judged(uri)`
 * says whether the caller judges writes to the object: only then is the upload held or remembered (asked of
 * multipart calls only, so a plain write costs nothing here).
 */
export function multipartRollback(ev: NormalizedEvent, ctx: RuleContext, judged: (uri: string) => boolean): 'held' | CarriedRollback | undefined {
  const op = ev.operation;
  if (op !== 'UploadPartCopy' && op !== 'CompleteMultipartUpload' && op !== 'AbortMultipartUpload') return undefined;
  const key = uploadKey(ev);
  const uri = ev.resource?.uri;
  if (!key || !uri || !judged(uri)) return undefined;
  const held = ctx.get<Record<string, HeldRollback>>(HELD) ?? {};
  const ended = ctx.get<Record<string, EndedUpload>>(ENDED) ?? {};
  if (op === 'UploadPartCopy') {
    const restored = versionRollbackOf(ev, uri)?.restored_version;
    if (!restored) return undefined;
    const end = ended[key];
    if (end) {
      // Delivered after its upload ended: an abort changed nothing; a completion made it current, judged now, once.
      if (end.operation !== 'CompleteMultipartUpload' || end.judged) return 'held';
      ctx.set(ENDED, { ...ended, [key]: { ...end, judged: true } });
      return { rollback: { restored_version: restored }, evidence: [ev.id, end.event], operation: OPERATION };
    }
    if (!held[key]) ctx.set(HELD, bounded(held, key, { restored_version: restored, part_event: ev.id, at: Date.parse(ev.time) }, ctx.clock(), HOLD_MS));
    return 'held';
  }
  const h = held[key];
  if (!h) {
    // Nothing held (yet): a part copy delivered late finds this.
    if (!ended[key]) ctx.set(ENDED, bounded(ended, key, { operation: op, event: ev.id, at: Date.parse(ev.time) }, ctx.clock(), ENDED_MS));
    return undefined;
  }
  const rest = { ...held };
  delete rest[key];
  ctx.set(HELD, rest);
  return op === 'CompleteMultipartUpload' ? { rollback: { restored_version: h.restored_version }, evidence: [h.part_event, ev.id], operation: OPERATION } : undefined;
}
