import type { NormalizedEvent } from '../../schema/index.js';
import { partitionOfEvent, partitionOfUri } from '../facts.js';
import type { RuleContext } from './context.js';

/**
 * Which bucket each S3 access point fronts, so that an object reached one way is judged against an artifact named the
 * other way: an artifact registered through an access point (its object ARN, or `s3://<alias>/<key>`) written straight
 * to its bucket (`s3://<bucket>/<key>`, the record naming no access point), an artifact registered by its bucket
 * written through an access point whose record names no bucket, or one access point's name against another's of the
 * same bucket (its ARN against its alias). Names carry no bucket (an alias is `<name>-<suffix>-s3alias`), so the map
 * is learned: from CreateAccessPoint (the bucket in its request, the alias in its response where the record has it),
 * from requests made through an access point whose `resources[]` name the bucket behind it (and, through an alias,
 * the access point's ARN), and from `rules.access_points` for those made before mltrail ran. The connector says what
 * a record tells (`details.access_point_bucket`); DeleteAccessPoint (`details.access_point` on a `resource.delete`)
 * forgets the name, as a new access point may take it over another bucket — but an artifact approved while it
 * fronted the bucket stays that bucket's object: the deleted mapping is kept for writes to the bucket, and judges
 * only versions approved before the deletion.
 *
 * A write judged before the record that teaches its mapping (CloudTrail delivers log files out of order) is not judged
 * again when the mapping comes: which bucket an unknown access point fronts cannot be told beforehand, so that would
 * mean keeping every recent write to every bucket; replay (event-time order) sees CreateAccessPoint first.
 *
 * Kept in rule state, bounded: at most MAX_PER_BUCKET access points per bucket besides the `pinned` ones — those an
 * artifact was approved or rejected through — (a deleted one leaves for a new one, else the least recently seen one not
 * pinned: making access points on a bucket cannot push out one an artifact was approved through, and a new one is
 * always kept, however many are pinned), at most MAX_PINNED_PER_BUCKET pinned (pinning one more unpins the least
 * recently seen, which then leaves as any other: pinning needs an approval, so this bound is met only by a bucket
 * serving that many approved artifacts through access points) and MAX_MAPPINGS in all (a deleted one leaves first, else the first kept not pinned of the bucket holding the most). A
 * record telling what is known already writes nothing, except once a day its `seen` time. Configured access points
 * (`rules.access_points`) are not kept here: always mapped.
 */

/** One access point: its names, the bucket, where the map learned it. */
export interface AccessPointMapping {
  arn?: string;
  alias?: string;
  bucket: string;
  /** The partition the bucket is in (the ARN's, else the record's), where known: bucket names are unique per partition. */
  partition?: string;
  /** `create` (CreateAccessPoint), `request` (a request through it naming the bucket), `config` (rules.access_points). */
  source: 'create' | 'request' | 'config';
  /** The event it was learned from (not for `config`). */
  event?: string;
  /** When it was deleted (DeleteAccessPoint): kept for writes to the bucket, judging versions approved before then. */
  deleted_at?: string;
  /** When a record last told it (updated at most once a day): the least recently seen leaves a full bucket first. */
  seen?: string;
  /** An artifact was approved or rejected through it: never pushed out by another access point of its bucket. */
  pinned?: true;
}

/** Another name of an object: through an access point of its bucket, or the bucket's own. */
export interface ObjectName {
  uri: string;
  /** The access point that maps the written name onto this one, as kept. */
  via: AccessPointMapping;
  /** Only versions approved before this time (the access point was deleted then). */
  approved_before?: string;
}

export const MAX_MAPPINGS = 1000;
export const MAX_PER_BUCKET = 50;
/** Pinned mappings a bucket keeps beyond MAX_PER_BUCKET (the least recently seen is unpinned past it). */
export const MAX_PINNED_PER_BUCKET = 200;

const COUNTS = 'apmap|counts';
const byBucket = (bucket: string) => `apmap|b|${bucket}`;
const byName = (name: string) => `apmap|n|${name}`;

/** An access point object ARN's parts: the access point ARN and the key. */
const AP_OBJECT = /^(arn:(aws[a-z-]*):s3:[a-z0-9-]+:\d{12}:accesspoint\/[a-z0-9-]{3,50})\/object\/(.+)$/;
/** The AWS CLI's `s3://arn:aws:s3:<region>:<account>:accesspoint/<name>/<key>`. */
const AP_CLI_OBJECT = /^s3:\/\/(arn:(aws[a-z-]*):s3:[a-z0-9-]+:\d{12}:accesspoint\/[a-z0-9-]{3,50})\/(.+)$/;
/** `s3://<bucket or alias>/<key>`. */
const S3_OBJECT = /^s3:\/\/([^/]+)\/(.+)$/;

const sameIn = (a: string | undefined, b: string | undefined) => a === undefined || b === undefined || a === b;
const namesOf = (m: Pick<AccessPointMapping, 'arn' | 'alias'>) => [m.arn, m.alias].filter((n): n is string => !!n);

/** The configured access points, as mappings. */
function configured(ctx: RuleContext): AccessPointMapping[] {
  return ctx.cfg.access_points.map((a) => ({ arn: a.arn, alias: a.alias, bucket: a.bucket, partition: partitionOfUri(a.arn), source: 'config' as const }));
}

/** Where a kept name points: the bucket and partition of its (live) mapping. */
interface NameRef {
  bucket: string;
  partition?: string;
}

/**
 * Learn what an event tells of access points: the bucket one fronts (`details.access_point_bucket`), or its deletion
 * (DeleteAccessPoint's `details.access_point`). Call it for successful events only.
 */
export function learnAccessPoint(ev: NormalizedEvent, ctx: RuleContext): void {
  const told = ev.details?.access_point_bucket as { arn?: unknown; alias?: unknown; bucket?: unknown } | undefined;
  if (told && typeof told.bucket === 'string') {
    const arn = typeof told.arn === 'string' ? told.arn : undefined;
    const alias = typeof told.alias === 'string' ? told.alias : undefined;
    if (arn || alias) keep(ctx, { arn, alias, bucket: told.bucket, partition: partitionOfUri(arn) ?? partitionOfEvent(ev), source: ev.operation === 'CreateAccessPoint' ? 'create' : 'request', event: ev.id, seen: ev.time });
    return;
  }
  if (ev.operation === 'DeleteAccessPoint' && ev.action === 'resource.delete' && typeof ev.details?.access_point === 'string') forget(ctx, ev.details.access_point, ev.time);
}

/** Keep a mapping: merged into the live one of its bucket that shares a name, else added (if the bucket has room). */
function keep(ctx: RuleContext, m: AccessPointMapping): void {
  const names = namesOf(m);
  // A name kept for another bucket (an access point deleted and made again over another bucket, its deletion unseen):
  // the newer record wins, the old mapping leaves.
  for (const n of names) {
    const ref = ctx.get<NameRef>(byName(n));
    if (ref && ref.bucket !== m.bucket) dropName(ctx, n, ref.bucket);
  }
  const list = ctx.get<AccessPointMapping[]>(byBucket(m.bucket)) ?? [];
  const i = list.findIndex((x) => !x.deleted_at && namesOf(x).some((n) => names.includes(n)));
  if (i >= 0) {
    const had = list[i]!;
    // Already known (the common case: every request through the access point tells it again): nothing written, but
    // its `seen` time once a day (which access point leaves a full bucket first).
    const stale = !!m.seen && (!had.seen || Date.parse(m.seen) - Date.parse(had.seen) >= SEEN_EVERY_MS);
    if (names.every((n) => namesOf(had).includes(n))) {
      if (!stale) return;
      list[i] = { ...had, seen: m.seen };
      return setBucket(ctx, m.bucket, list);
    }
    list[i] = { ...had, arn: had.arn ?? m.arn, alias: had.alias ?? m.alias, ...(stale ? { seen: m.seen } : {}) };
  } else {
    // A bucket full of access points: a deleted one leaves, else the least recently seen one not pinned (a bucket
    // with many teams' access points still maps a new one). Pinned ones take none of the MAX_PER_BUCKET places:
    // someone making access points on the bucket cannot push out one an artifact was approved or rejected through,
    // and a bucket whose places are all pinned still maps a new one (it was not kept before: a write through it,
    // the record naming no bucket, went unjudged).
    if (list.filter((x) => x.deleted_at || !x.pinned).length >= MAX_PER_BUCKET) {
      const at = leavingFirst(list);
      if (at < 0) return;
      const [gone] = list.splice(at, 1);
      if (gone && !gone.deleted_at) for (const n of namesOf(gone)) if (ctx.get<NameRef>(byName(n))?.bucket === m.bucket) ctx.delete(byName(n));
    }
    list.push(m);
  }
  for (const n of names) ctx.set(byName(n), { bucket: m.bucket, ...(m.partition ? { partition: m.partition } : {}) } satisfies NameRef);
  setBucket(ctx, m.bucket, list);
}

/** `seen` is written back at most this often (a request through an access point is a common record). */
const SEEN_EVERY_MS = 86_400_000;

/** Which mapping of a full bucket leaves first: a deleted one, else the least recently seen not pinned; -1 if all are pinned. */
function leavingFirst(list: AccessPointMapping[]): number {
  const deleted = list.findIndex((x) => x.deleted_at);
  if (deleted >= 0) return deleted;
  let at = -1;
  for (const [i, x] of list.entries()) {
    if (x.pinned) continue;
    if (at < 0 || seenMs(x) < seenMs(list[at]!)) at = i;
  }
  return at;
}
/** When a mapping was last told (its learning event's time if kept before `seen` was); unknown counts as oldest. */
const seenMs = (x: AccessPointMapping) => (x.seen ? Date.parse(x.seen) : Number.NEGATIVE_INFINITY);

/**
 * An artifact approved or rejected through an access point (its object ARN, `s3://<ARN>/<key>` or `s3://<alias>/<key>`):
 * its mapping is pinned, so no other access point of the bucket pushes it out of the map.
 */
export function pinAccessPoint(ctx: RuleContext, uri: string | undefined): void {
  if (!uri) return;
  const ap = AP_OBJECT.exec(uri) ?? AP_CLI_OBJECT.exec(uri);
  const s3 = ap ? null : S3_OBJECT.exec(uri);
  const name = ap ? ap[1]! : s3 && s3[1]!.endsWith('-s3alias') ? s3[1]! : undefined;
  if (!name) return;
  const ref = ctx.get<NameRef>(byName(name));
  if (!ref) return;
  const list = ctx.get<AccessPointMapping[]>(byBucket(ref.bucket)) ?? [];
  const i = list.findIndex((x) => !x.deleted_at && namesOf(x).includes(name));
  if (i < 0 || list[i]!.pinned) return;
  list[i] = { ...list[i]!, pinned: true };
  // Past the bound, the least recently seen pinned one (not this one) is an ordinary mapping again.
  const pinned = list.filter((x) => x.pinned && !x.deleted_at);
  if (pinned.length > MAX_PINNED_PER_BUCKET) {
    const oldest = pinned.filter((x) => x !== list[i]).reduce((a, b) => (seenMs(b) < seenMs(a) ? b : a));
    const j = list.indexOf(oldest);
    const { pinned: _unpinned, ...rest } = oldest;
    list[j] = rest;
  }
  ctx.set(byBucket(ref.bucket), list);
}

/** How many mappings each bucket holds, live and deleted, in the order buckets were first kept. */
type Counts = Array<[bucket: string, live: number, deleted: number]>;

/**
 * Store a bucket's list and keep the map within MAX_MAPPINGS: beyond it, a deleted mapping leaves first (of the bucket
 * holding the most deleted), else the first kept of the bucket holding the most — so a flood of access points made on
 * a few buckets pushes out its own, not the one access point of a model bucket.
 */
function setBucket(ctx: RuleContext, bucket: string, list: AccessPointMapping[]): void {
  if (list.length) ctx.set(byBucket(bucket), list);
  else ctx.delete(byBucket(bucket));
  const counts = (ctx.get<Counts>(COUNTS) ?? []).filter(([b]) => b !== bucket);
  const live = list.filter((x) => !x.deleted_at).length;
  if (list.length) counts.push([bucket, live, list.length - live]);
  let total = counts.reduce((sum, [, l, d]) => sum + l + d, 0);
  while (total > MAX_MAPPINGS) {
    const most = (k: 1 | 2) => counts.reduce<number>((best, c, j) => (c[k] > (best < 0 ? 0 : counts[best]![k]) ? j : best), -1);
    const j = most(2) >= 0 ? most(2) : most(1);
    const [victim, l, d] = counts[j]!;
    const kept = victim === bucket ? list : ctx.get<AccessPointMapping[]>(byBucket(victim)) ?? [];
    // A deleted one first, else the first kept not pinned (all pinned: the first kept).
    const at = d > 0 ? kept.findIndex((x) => x.deleted_at) : Math.max(0, kept.findIndex((x) => !x.pinned));
    const [gone] = kept.splice(at, 1);
    if (gone && !gone.deleted_at) for (const n of namesOf(gone)) if (ctx.get<NameRef>(byName(n))?.bucket === victim) ctx.delete(byName(n));
    if (kept.length) ctx.set(byBucket(victim), kept);
    else ctx.delete(byBucket(victim));
    counts[j] = d > 0 ? [victim, l, d - 1] : [victim, l - 1, d];
    if (counts[j]![1] + counts[j]![2] === 0) counts.splice(j, 1);
    total--;
  }
  ctx.set(COUNTS, counts);
}

/** Drop a name from the live mapping of `bucket` that holds it (the mapping leaves once it has no name). */
function dropName(ctx: RuleContext, name: string, bucket: string): void {
  ctx.delete(byName(name));
  const list = ctx.get<AccessPointMapping[]>(byBucket(bucket)) ?? [];
  const next = list.flatMap((x) => {
    if (x.deleted_at || !namesOf(x).includes(name)) return [x];
    const rest = { ...x, arn: x.arn === name ? undefined : x.arn, alias: x.alias === name ? undefined : x.alias };
    return namesOf(rest).length ? [rest] : [];
  });
  setBucket(ctx, bucket, next);
}

/** DeleteAccessPoint: the name no longer maps to the bucket; the mapping stays, deleted, for writes to the bucket. */
function forget(ctx: RuleContext, arn: string, time: string): void {
  const ref = ctx.get<NameRef>(byName(arn));
  if (!ref) return;
  const list = ctx.get<AccessPointMapping[]>(byBucket(ref.bucket)) ?? [];
  for (const [i, x] of list.entries()) {
    if (x.deleted_at || x.arn !== arn) continue;
    list[i] = { ...x, deleted_at: time };
    for (const n of namesOf(x)) ctx.delete(byName(n));
  }
  setBucket(ctx, ref.bucket, list);
}

/** The bucket an access point name (ARN or alias) fronts now: configured, else kept. */
function bucketOf(ctx: RuleContext, name: string): { bucket: string; via: AccessPointMapping } | undefined {
  const conf = configured(ctx).find((m) => m.arn === name || m.alias === name);
  if (conf) return { bucket: conf.bucket, via: conf };
  const ref = ctx.get<NameRef>(byName(name));
  if (!ref) return undefined;
  const via = ctx.get<AccessPointMapping[]>(byBucket(ref.bucket))?.find((x) => !x.deleted_at && namesOf(x).includes(name));
  return via ? { bucket: ref.bucket, via } : undefined;
}

/** The access points of a bucket, in a partition: configured, kept, and deleted ones. */
function accessPointsOf(ctx: RuleContext, bucket: string, partition: string | undefined): AccessPointMapping[] {
  const kept = ctx.get<AccessPointMapping[]>(byBucket(bucket)) ?? [];
  return [...configured(ctx).filter((m) => m.bucket === bucket), ...kept].filter((m) => sameIn(m.partition, partition));
}

/**
 * The other names of the object an event wrote at `uri`: for `s3://<bucket>/<key>`, the key through each access
 * point of the bucket (its object ARN, `s3://<alias>/<key>`); for an object reached through an access point (its
 * object ARN, or `s3://<alias>/<key>`), the bucket's object and the key through the bucket's other access points.
 * Empty when the map knows no access point of the bucket (or the bucket of the access point).
 *
 * @example
 * // arn:aws:s3:us-east-1:111122223333:accesspoint/ml-ap fronts models:
 * otherNames(ev, ctx, 's3://models/fraud/model.tar.gz') // [{ uri: 'arn:aws:s3:us-east-1:111122223333:accesspoint/ml-ap/object/fraud/model.tar.gz', via }]
 */
export function otherNames(ev: NormalizedEvent, ctx: RuleContext, uri: string): ObjectName[] {
  const partition = partitionOfEvent(ev);
  const ap = AP_OBJECT.exec(uri);
  const s3 = ap ? null : S3_OBJECT.exec(uri);
  if (!ap && !s3) return [];
  const key = ap ? ap[3]! : s3![2]!;
  const named = ap ? ap[1]! : s3![1]!;
  const out: ObjectName[] = [];
  let bucket = named;
  if (ap || named.endsWith('-s3alias')) {
    const found = bucketOf(ctx, named);
    if (!found || !sameIn(found.via.partition, partition)) return [];
    bucket = found.bucket;
    out.push({ uri: `s3://${bucket}/${key}`, via: found.via });
  }
  for (const m of accessPointsOf(ctx, bucket, partition)) {
    for (const n of namesOf(m)) {
      if (n === named) continue;
      // A deleted access point's name still names the objects approved through it before the deletion.
      const name = n.startsWith('arn:') ? `${n}/object/${key}` : `s3://${n}/${key}`;
      if (name === uri || out.some((o) => o.uri === name)) continue;
      out.push({ uri: name, via: m, ...(m.deleted_at ? { approved_before: m.deleted_at } : {}) });
    }
  }
  return out;
}
