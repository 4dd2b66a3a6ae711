import type { NormalizedEvent } from '../../schema/index.js';
import { versionRollbackOf, type VersionRollback } from '../facts.js';
import { waited, waitStart, type RuleContext } from './context.js';
import { SWEEP_EVERY_MS } from './shared.js';

/**
 * An S3 object written in parts: `CreateMultipartUpload`, `UploadPart` and `UploadPartCopy` change nothing; the object
 * changes only when `CompleteMultipartUpload` of that upload makes the parts its new version (an aborted upload, or
 * one never completed, changes nothing). The completion names only the key and the upload id, so the upload's first
 * part by event time, whichever arrived first (or the first part copy of the same key `?versionId=`, which the
 * connector marks a rollback) is kept here until it comes and handed to it, once: the rule judges the write there, the
 * part as evidence.
 * CloudTrail does not deliver in order (records of one upload can land in different log files, read in any order):
 * every completion or abort is remembered as long as a part is held (whether it found parts held or not), so a part
 * arriving after it is judged then (a rollback copied back, or another writer's part: completed) or dropped (aborted,
 * or a plain part of a completion already judged as a write) — never held to be a false finding a week later — and a
 * completion or abort delivered again (the same event id: CloudTrail ids are stable) is judged once, and so is a
 * completion retried by its client (another event id, the same upload id).
 * Each rule holds and remembers only uploads to objects it judges (its `judged` test). The hold is bounded, so an
 * upload can leave it unfinished: pushed out by newer ones (20 per object, 200 in all; beyond either, the oldest of the
 * caller holding the most leaves, so one identity's flood pushes out its own first), or held past a week. Someone
 * able to write judged objects could start uploads that never complete to push a real one out, whose completion
 * would then read as a plain write; so an upload leaving the hold is never dropped silently: the rule is handed its
 * part, to judge as a write started in parts whose completion can no longer be judged, once: the upload is remembered
 * as reported, so its parts delivered again are no second report. A caller judging who
 * writes (`writerOf`) also gets the first part of each other writer of the upload: whoever has its id may add parts.
 */

/** An upload in parts to a judged object, waiting for its completion. */
interface HeldUpload {
  /** The part judged at the completion (its first, or the first part copy putting an earlier version back), without `raw`. */
  part: NormalizedEvent;
  restored_version?: string;
  /** When the wait started (event time bounded by receipt, and receipt): see `waited`. */
  at: number;
  rcv: number;
  /** The first part of each other writer of the upload (anyone holding its id may add parts), without `raw`. */
  others?: NormalizedEvent[];
}

/** A completion or abort, remembered for the parts (or copies of records) delivered after it; or an upload that left the hold unjudged. */
interface EndedUpload {
  /** `Unjudged`: the upload left the hold unfinished and was handed to `lost`; a part of it delivered again is not held again. */
  operation: 'CompleteMultipartUpload' | 'AbortMultipartUpload' | typeof UNJUDGED;
  /** The call's event id (for `Unjudged`: the part reported). */
  event: string;
  at: number;
  rcv: number;
  /** Its rollback was judged (a part copy held, or one delivered late): the others of the same upload add nothing. */
  judged?: boolean;
  /** It ended a held upload: a part after it is a straggler, and it leaves the bounded memory first. */
  settled?: boolean;
  /** For a caller judging who writes (`writerOf`): the writers judged at the completion (or reported unjudged), so a late part of another is judged once. */
  writers?: string[];
  /** Who made the call (`callerOf`; for `Unjudged`: the part's): beyond the bound, the caller remembered most often leaves first. */
  caller?: string;
  /** For `Unjudged`: why it was reported, its part's operation and the version it copied back, for a completion arriving after the report. */
  unjudged?: Unjudged;
  part_operation?: string;
  restored_version?: string;
}

/** EndedUpload.operation of an upload handed to `lost`: it ended for the rule, though no call ended it. */
const UNJUDGED = 'Unjudged';

/** What a completion carries: the rollback its parts made if any, the part and the completion that show it (in that order). */
export interface CarriedUpload {
  rollback?: VersionRollback;
  evidence: string[];
  /** `UploadPartCopy, made current by CompleteMultipartUpload`: the calls that made the write. */
  operation: string;
  /** Parts held of writers other than the completion's (`writerOf`): their bytes may be in the object too. */
  otherWriters?: NormalizedEvent[];
  /** The upload was reported unjudged (`lost`) before this completion came: the report it completes. */
  completes?: CompletedReport;
}

/**
 * An upload reported unjudged (its `unjudged` finding: the part `event`, `upload_id`) that a completion arriving later
 * shows was completed after all: the write finding names the report, so the two findings read as one upload.
 */
export interface CompletedReport {
  upload_id: string;
  unjudged: Unjudged;
  /** The part the report cited. */
  event: string;
}

/** Why an upload left the hold unfinished: newer uploads pushed it out, or it waited HOLD_MS with no completion or abort seen. */
export type Unjudged = 'pushed_out' | 'not_completed';

/** An upload that left the hold unfinished: the rule judges its part as a write whose completion can no longer be judged. */
export interface LostUpload {
  part: NormalizedEvent;
  rollback?: VersionRollback;
  upload_id: string;
  unjudged: Unjudged;
  /** The first parts of other writers of the upload (HeldUpload.others). */
  others?: NormalizedEvent[];
}

/** Who wrote a part, as the caller tells writers apart (undefined: not known). */
export type WriterOf = (ev: NormalizedEvent) => string | undefined;

export type OnLost = (lost: LostUpload) => void;

/** Rule state key: held uploads by `<s3 uri>|<upload id>` (named when only rollbacks were held: kept, so the state survives an upgrade). */
const HELD = 'mpu-rollbacks';
/** Uploads held at most (an upload waits only until its completion: few are open at once); the oldest leave first. */
const MAX_HELD = 200;
/** Other writers' first parts held per upload at most. */
const MAX_OTHER_WRITERS = 5;
/** Uploads held per object at most: one object's uploads cannot push out those of the others. */
const MAX_HELD_PER_OBJECT = 20;
/** S3 keeps an unfinished upload until it is aborted; a week covers a slow copy and a lifecycle's usual abort rule. */
const HOLD_MS = 7 * 86_400_000;
/** Rule state key: completions and aborts seen (with or without parts held), and uploads reported unjudged, by `<s3 uri>|<upload id>`. */
const ENDED = 'mpu-ended';
/**
 * Entries remembered at most of each kind (completions, aborts, uploads reported unjudged), each kind within its own
 * bound: an abort costs nothing (CreateMultipartUpload and AbortMultipartUpload, no bytes), so 500 of them must not push
 * out a completion still waiting for its parts (they would be held, then a week-late `not_completed`), whereas a
 * completion writes the object (each judged as a write, seen). Within a kind the settled ones leave first, then the
 * oldest of the caller with the most entries of that kind: one caller's 500 cheap aborts push out their own, not
 * another caller's abort still waiting for its late parts.
 */
const MAX_ENDED = 500;
/**
 * CloudTrail delivers a record within about 5 minutes, S3 data events within 15 in the usual case, but a lagging reader
 * or a log file read days late delivers a part after its completion: remembered as long as a part waits (HOLD_MS), else
 * a part coming more than that later would wait for a completion already seen and be a false `not_completed` finding.
 */
const ENDED_MS = HOLD_MS;
/** Rule state key: when the held uploads were last looked over for ones that waited HOLD_MS. */
const SWEPT = 'uploads-swept';

const PARTS = new Set(['UploadPart', 'UploadPartCopy']);
/** The calls of an upload in parts before (or instead of) its completion: each changes no object by itself. */
const UNFINISHED = new Set(['CreateMultipartUpload', ...PARTS, 'AbortMultipartUpload']);

/** Whether an event is a step of an S3 upload in parts that writes nothing by itself (all but `CompleteMultipartUpload`). */
export const isUnfinishedUploadStep = (ev: Pick<NormalizedEvent, 'operation'>): boolean => UNFINISHED.has(ev.operation);
const madeCurrent = (part: string) => `${part}, made current by CompleteMultipartUpload`;
/** Where the wait of a remembered entry started: `{at, rcv}` (older entries kept only `at`). */
const since = (x: { at: number; rcv?: number }) => ({ at: x.at, rcv: x.rcv ?? x.at });

const uploadKey = (ev: NormalizedEvent): string | undefined => {
  const id = ev.details?.upload_id;
  const uri = ev.resource?.uri;
  return typeof id === 'string' && id && uri ? `${uri}|${id}` : undefined;
};
const uploadIdOf = (key: string) => key.slice(key.lastIndexOf('|') + 1);

/**
 * The held uploads, those kept before parts were held whole (a part copy's id and version only, `part_event`) read as
 * a part copy of their object: state survives an upgrade.
 */
function heldOf(ctx: RuleContext): Record<string, HeldUpload> {
  const held = { ...ctx.get<Record<string, HeldUpload & { part_event?: string }>>(HELD) };
  for (const [k, h] of Object.entries(held)) {
    if (h.part || !h.part_event) continue;
    const uri = k.slice(0, k.lastIndexOf('|'));
    const part = { id: h.part_event, time: new Date(h.at).toISOString(), platform: 'sagemaker', operation: 'UploadPartCopy', action: 'data_object.copy', resource: { type: 's3_object', id: uri, uri }, details: { upload_id: uploadIdOf(k) } };
    held[k] = { part: part as unknown as NormalizedEvent, restored_version: h.restored_version, at: h.at, rcv: h.rcv ?? h.at };
  }
  return held;
}

/**
 * `h` handed to `lost`, and remembered as reported (UNJUDGED, with its writers and whether its rollback was reported):
 * its parts delivered again, or its other parts straggling in, are not held into a second report of the same upload.
 */
function lose(ctx: RuleContext, key: string, h: HeldUpload, unjudged: Unjudged, lost: OnLost, writerOf: WriterOf | undefined): void {
  lost({ part: h.part, rollback: h.restored_version ? { restored_version: h.restored_version } : undefined, upload_id: uploadIdOf(key), unjudged, ...(h.others?.length ? { others: h.others } : {}) });
  const ended = ctx.get<Record<string, EndedUpload>>(ENDED) ?? {};
  const prev = ended[key]?.operation === UNJUDGED ? ended[key] : undefined;
  const judged = !!h.restored_version || !!prev?.judged;
  const writers = writerOf ? { writers: writersOf([...(prev?.writers ?? []), ...[h.part, ...(h.others ?? [])].map(writerOf)]) } : {};
  const restored = h.restored_version ?? prev?.restored_version;
  // The report of a part held again (a writer not reported yet) keeps citing the first report's part; a rollback
  // reported after a plain part is cited instead (it is what a late completion makes current).
  const first = prev?.unjudged && !(h.restored_version && !prev.restored_version) ? { event: prev.event, unjudged: prev.unjudged, part_operation: prev.part_operation } : { event: h.part.id, unjudged, part_operation: h.part.operation };
  remember(ctx, ended, key, { operation: UNJUDGED, ...first, at: ctx.clock(), rcv: ctx.receipt(), ...(judged ? { judged } : {}), ...writers, ...callerOf(h.part), ...(restored ? { restored_version: restored } : {}) });
}

/** `held` with `key` set to `h`: the entries that waited HOLD_MS, then the oldest beyond the per-object and overall bounds, handed to `lost`. */
function hold(ctx: RuleContext, held: Record<string, HeldUpload>, key: string, h: HeldUpload, lost: OnLost, writerOf: WriterOf | undefined): void {
  const entries: [string, HeldUpload][] = [];
  for (const [k, x] of Object.entries(held)) {
    if (k === key) continue;
    if (waited(ctx, since(x), HOLD_MS)) lose(ctx, k, x, 'not_completed', lost, writerOf);
    else entries.push([k, x]);
  }
  const uri = h.part.resource?.uri;
  // Beyond either bound, the oldest upload of the caller holding the most leaves (fairShare): one identity starting
  // uploads it never completes pushes out its own first, not another's upload still waiting for its completion.
  const heldBy = (x: HeldUpload) => callerOf(x.part).caller ?? '';
  const same = entries.filter(([, x]) => x.part.resource?.uri === uri);
  const out = new Set(fairShare([...same, [key, h]], same.length + 1 - MAX_HELD_PER_OBJECT, heldBy, key));
  const rest = entries.filter(([k]) => !out.has(k));
  for (const k of fairShare([...rest, [key, h]], rest.length + 1 - MAX_HELD, heldBy, key)) out.add(k);
  for (const [k, x] of entries) if (out.has(k)) lose(ctx, k, x, 'pushed_out', lost, writerOf);
  ctx.set(HELD, Object.fromEntries([...entries.filter(([k]) => !out.has(k)), [key, h]]));
}

/**
 * `ended` with `key` set to `e`, without entries remembered ENDED_MS; beyond MAX_ENDED of `e`'s kind (its operation),
 * the oldest settled ones of that kind leave first, then the oldest of the caller with the most entries of that kind
 * (a fair share: a flood evicts its own first): other kinds are not touched.
 */
function remember(ctx: RuleContext, ended: Record<string, EndedUpload>, key: string, e: EndedUpload): void {
  const all: [string, EndedUpload][] = [...Object.entries(ended).filter(([k, x]) => k !== key && !waited(ctx, since(x), ENDED_MS)), [key, e]];
  const kind = all.filter(([, x]) => x.operation === e.operation);
  const excess = Math.max(0, kind.length - MAX_ENDED);
  const out = new Set(kind.filter(([k, x]) => x.settled && k !== key).map(([k]) => k).slice(0, excess));
  // Entries kept before callers were: one caller, ''.
  if (out.size < excess) for (const k of fairShare(kind.filter(([k]) => !out.has(k)), excess - out.size, (x) => x.caller ?? '')) out.add(k);
  ctx.set(ENDED, Object.fromEntries(all.filter(([k]) => !out.has(k))));
}

/**
 * The `excess` keys of `entries` (oldest first) to leave a bounded memory, fairly: each from the caller with the most
 * entries (ties: the one first in `entries`, whose oldest is oldest), its oldest, so a flood by one caller evicts its
 * own first. `keep` (the entry being added) is counted for its caller but never chosen.
 */
function fairShare<T>(entries: Array<[string, T]>, excess: number, callerOf: (x: T) => string, keep?: string): string[] {
  if (excess <= 0) return [];
  const byCaller = new Map<string, { n: number; keys: string[] }>();
  for (const [k, x] of entries) {
    const c = callerOf(x);
    let g = byCaller.get(c);
    if (!g) byCaller.set(c, (g = { n: 0, keys: [] }));
    g.n++;
    if (k !== keep) g.keys.push(k);
  }
  const out: string[] = [];
  while (out.length < excess) {
    let most: { n: number; keys: string[] } | undefined;
    for (const g of byCaller.values()) if (g.keys.length && (!most || g.n > most.n)) most = g;
    if (!most) break;
    out.push(most.keys.shift()!);
    most.n--;
  }
  return out;
}

/** Who made a call, for the fair share of the bounded memory: a role's sessions are one caller (its issuer), so a flood cannot escape by new session names. */
const callerOf = (ev: NormalizedEvent): { caller?: string } => {
  const c = ev.actor?.session_issuer ?? ev.actor?.id ?? ev.actor?.name;
  return c ? { caller: c } : {};
};

/** The writers named, once each (an unknown writer is none). */
const writersOf = (ws: Array<string | undefined>): string[] => [...new Set(ws.filter((w): w is string => w !== undefined))];

/**
 * For a part of an upload in parts (`UploadPart`, `UploadPartCopy`) to a judged object, and for `CreateMultipartUpload`
 * and `AbortMultipartUpload`: `'skip'` (the call changes nothing: the caller judges nothing now). For the completion
 * of an upload whose part is held: what it carries, handed over once. A completion with nothing held: undefined (a
 * write, judged as one). A part delivered after its completion: what it adds, if anything — a copy back of an earlier
 * version (the rollback), or for a caller judging who writes a part of a writer not judged at the completion — for
 * the caller to judge the part as the write, its writer's; else `'skip'`. A completion or abort delivered again (the
 * same event id), or a completion of an upload already completed (a client's retry: another event id): `'skip'`.
 * Anything else: undefined. Callers pass successful calls only (a failed completion leaves the parts waiting).
 * `judged(uri)` says whether the caller judges writes to the object: only then is the upload held or remembered (asked
 * of multipart calls only, so a plain write costs nothing here). `lost` is handed each upload that leaves the hold
 * unfinished. `writerOf`, for a caller that judges who writes: a part of another writer than the held one's is held
 * too (its first by event time), and the completion carries those of writers other than its own.
 */
export function heldUpload(ev: NormalizedEvent, ctx: RuleContext, judged: (uri: string) => boolean, lost: OnLost, writerOf?: WriterOf): 'skip' | CarriedUpload | undefined {
  const op = ev.operation;
  // The upload started: no bytes yet (its request names no upload id; the parts and the completion do).
  if (op === 'CreateMultipartUpload') return 'skip';
  const isPart = PARTS.has(op);
  if (!isPart && op !== 'CompleteMultipartUpload' && op !== 'AbortMultipartUpload') return undefined;
  const key = uploadKey(ev);
  const uri = ev.resource?.uri;
  // A part naming no upload cannot be paired with its completion: judged at once, as a write (as before the hold).
  if (!key || !uri) return op === 'AbortMultipartUpload' ? 'skip' : undefined;
  if (!judged(uri)) return isPart || op === 'AbortMultipartUpload' ? 'skip' : undefined;
  const held = heldOf(ctx);
  const ended = ctx.get<Record<string, EndedUpload>>(ENDED) ?? {};
  if (isPart) {
    const restored = op === 'UploadPartCopy' ? versionRollbackOf(ev, uri)?.restored_version : undefined;
    const end = ended[key];
    const w = writerOf?.(ev);
    // A writer not named yet by the end remembered (`writerOf` callers only; an unknown writer is none).
    const newWriter = w !== undefined && !!end?.writers && !end.writers.includes(w) && end.writers.length <= MAX_OTHER_WRITERS;
    if (end?.operation === UNJUDGED) {
      // Its upload was reported unjudged: a part delivered again, or another part of a writer reported, is no new
      // finding; a rollback not reported, or a writer not reported, is held again (its own report if it is lost too).
      if (!(restored && !end.judged) && !newWriter) return 'skip';
    } else if (end) {
      // Delivered after its upload ended (or delivered again): an abort changed nothing, and a completion was judged
      // as a write when it came; only a copy back of an earlier version adds the rollback it made, once, and a part
      // of a writer not judged at the completion (`writerOf`) that writer's write, once.
      if (end.operation !== 'CompleteMultipartUpload') return 'skip';
      const rollback = restored && !end.judged;
      if (!rollback && !newWriter) return 'skip';
      remember(ctx, ended, key, { ...end, ...(rollback ? { judged: true } : {}), ...(end.writers ? { writers: writersOf([...end.writers, w]) } : {}) });
      return { ...(rollback ? { rollback: { restored_version: restored } } : {}), evidence: [ev.id, end.event], operation: madeCurrent(op) };
    }
    const h = held[key];
    const { raw: _raw, ...part } = ev;
    // The part judged at the completion: the first copy back of an earlier version if any (the rollback is what to
    // judge), else the first part; first by event time (ties: by event id), not by arrival, so `serve` cites what
    // `replay` cites. The wait started when its upload's first part came, or at its event time if earlier.
    const replaces = h && (restored ? !h.restored_version || earlier(part, h.part) : !h.restored_version && earlier(part, h.part));
    if (!h || replaces) {
      const others = h ? withWriter(withoutWriter(h.others ?? [], part, writerOf), h.part, part, writerOf) : undefined;
      const start = waitStart(ev, ctx);
      const wait = h ? { at: Math.min(h.at, start.at), rcv: h.rcv } : start;
      hold(ctx, held, key, { part, restored_version: restored ?? h?.restored_version, ...wait, ...(others?.length ? { others } : {}) }, lost, writerOf);
    } else if (writerOf) {
      // Another writer's part (an id is all it takes to add one): kept, so its writer is judged at the completion.
      const others = withWriter(h.others ?? [], part, h.part, writerOf);
      if (others.length && others !== h.others) ctx.set(HELD, { ...held, [key]: { ...h, others } });
    }
    return 'skip';
  }
  const h = held[key];
  const end = ended[key];
  const operation = op as EndedUpload['operation'];
  // The same record delivered again (CloudTrail event ids are stable): judged when it first came.
  if (end?.event === ev.id) return 'skip';
  const completer = writerOf?.(ev);
  const completed = op === 'CompleteMultipartUpload';
  // A client retrying its completion (a timeout: S3 may send 200 and fail later, or finish the first) is a second
  // record of the same upload under another event id; a successful one completed nothing new: one write per upload.
  if (completed && end?.operation === 'CompleteMultipartUpload') return 'skip';
  // An upload reported unjudged that is completed after all: the report said its completion could not be judged; now
  // it is, and it changed the object. Judged as that upload's write (the part reported beside the completion, the
  // report named), not as an unrelated one: a SOC that closed the report as an abandoned upload must learn it was not.
  const reported = end?.operation === UNJUDGED ? end : undefined;
  const completes = reported && completed ? { completes: { upload_id: uploadIdOf(key), unjudged: reported.unjudged ?? 'not_completed', event: reported.event } } : {};
  if (!h) {
    // Nothing held (yet): a part delivered late finds this. The writers reported stay named: a late part of theirs is
    // no second write.
    if (!end || reported) remember(ctx, ended, key, { operation, event: ev.id, ...waitStart(ev, ctx), ...(writerOf && completed ? { writers: writersOf([completer, ...(reported?.writers ?? [])]) } : {}), ...callerOf(ev) });
    if (!completed) return 'skip';
    if (!reported) return undefined;
    const restored = reported.restored_version;
    return { ...(restored ? { rollback: { restored_version: restored } } : {}), evidence: [reported.event, ev.id], operation: madeCurrent(reported.part_operation ?? 'UploadPart'), ...completes };
  }
  const rest = { ...held };
  delete rest[key];
  ctx.set(HELD, rest);
  // Remembered too: a part delivered after it (a straggler, or one delivered again) must not wait for an end already seen.
  const writers = writerOf && completed ? { writers: writersOf([completer, ...[h.part, ...(h.others ?? [])].map(writerOf), ...(reported?.writers ?? [])]) } : {};
  remember(ctx, ended, key, { operation, event: ev.id, ...waitStart(ev, ctx), settled: true, ...(h.restored_version ? { judged: true } : {}), ...writers, ...callerOf(ev) });
  if (!completed) return 'skip';
  const otherWriters = writerOf ? [h.part, ...(h.others ?? [])].filter((p) => writerOf(p) !== completer) : [];
  return { rollback: h.restored_version ? { restored_version: h.restored_version } : undefined, evidence: [h.part.id, ev.id], operation: madeCurrent(h.part.operation), ...(otherWriters.length ? { otherWriters } : {}), ...completes };
}

/** Whether part `a` came before part `b` by event time (ties: by event id): the same order in `serve` and `replay`. */
function earlier(a: NormalizedEvent, b: NormalizedEvent): boolean {
  const [ta, tb] = [Date.parse(a.time), Date.parse(b.time)];
  return ta < tb || (ta === tb && a.id < b.id);
}

/**
 * `others` with `part` as its writer's when that writer is not `held`'s: added (at most MAX_OTHER_WRITERS), or in place
 * of that writer's part kept if `part` came earlier (each writer cited by its first part, as in `replay`). Unchanged: `others` itself.
 */
function withWriter(others: NormalizedEvent[], part: NormalizedEvent, held: NormalizedEvent, writerOf: WriterOf | undefined): NormalizedEvent[] {
  if (!writerOf) return others;
  const w = writerOf(part);
  if (w === writerOf(held)) return others;
  const i = others.findIndex((o) => writerOf(o) === w);
  if (i >= 0) return earlier(part, others[i]!) ? others.map((o, j) => (j === i ? part : o)) : others;
  return others.length >= MAX_OTHER_WRITERS ? others : [...others, part];
}

/** `others` without the part of `part`'s writer (it becomes the held part). */
const withoutWriter = (others: NormalizedEvent[], part: NormalizedEvent, writerOf: WriterOf | undefined): NormalizedEvent[] =>
  writerOf ? others.filter((o) => writerOf(o) !== writerOf(part)) : others;

/**
 * Every SWEEP_EVERY_MS of event time (and on an idle bridge's tick): uploads held HOLD_MS with no completion or abort
 * seen leave the hold, handed to `lost` (a lifecycle rule's abort is not in CloudTrail; nor is a completion a trail's
 * selectors leave out).
 */
export function sweepHeldUploads(ctx: RuleContext, lost: OnLost, writerOf?: WriterOf): void {
  const t = ctx.clock();
  if (!(t - (ctx.get<number>(SWEPT) ?? 0) >= SWEEP_EVERY_MS)) return;
  ctx.set(SWEPT, t);
  const held = heldOf(ctx);
  const kept = Object.entries(held).filter(([k, h]) => {
    if (!waited(ctx, since(h), HOLD_MS)) return true;
    lose(ctx, k, h, 'not_completed', lost, writerOf);
    return false;
  });
  if (kept.length < Object.keys(held).length) ctx.set(HELD, Object.fromEntries(kept));
}

/** How a write finding says it completes an upload reported unjudged earlier. */
export function completedReportText(c: CompletedReport): string {
  return `; it completes upload ${c.upload_id}, reported earlier as unjudged (${c.unjudged}, part ${c.event})`;
}

/** How a lost upload's finding says why its completion can no longer be judged. */
export function unjudgedText(unjudged: Unjudged): string {
  return unjudged === 'pushed_out'
    ? 'pushed out of the uploads waiting for their completion by newer ones'
    : 'no completion or abort seen within 7 days (a lifecycle rule aborts silently; a trail may not log the completion)';
}
