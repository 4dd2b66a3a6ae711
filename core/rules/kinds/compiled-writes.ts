import type { NormalizedEvent } from '../../schema/index.js';
import { asS3Uri, callerText, identityOf, normUri, packageRef, partitionOfEvent, partitionOfRegion, partitionOfVersion, samePartition, versionRollbackOf } from '../facts.js';
import type { CompilationRec, VersionRec } from '../registry.js';
import { writes as jobWrites, type CompiledCopy } from './compiled-copy.js';
import { identityEntity, versionEntity, waited, waitStart, type RuleContext } from './context.js';

/**
 * A compiled copy is vouched for by its object's name: the object a compilation job writes. Whoever can write the
 * output bucket can replace that object after the job wrote it and before the copy is registered; the registered
 * bytes are then not the job's. So the S3 writes seen on an object a compilation job writes (PutObject, CopyObject,
 * CompleteMultipartUpload, a version rollback by delete) are kept, and when the copy is vouched for, the
 * last write between the job's creation and the registration is looked at: one by anyone but the job's role (or the
 * SageMaker service itself) is `registry.approved_model_modified` `artifact_overwritten`, as a write over the copy
 * after its registration already is. Writes read after the registration are judged there (integrity.ts); the job's
 * own write read late (log files out of order) is recognised by jobsOwnWrite; a write read before its job's record is
 * held for it (adoptHeldWrites).
 */

/** A write of an object in a compilation job's output location, as kept in rule state (`cjwrite|<object>`). */
interface OutputWrite {
  event: string;
  time: string;
  operation: string;
  /** The role the writer's session was issued for (lower case), if a role session. */
  issuer?: string;
  /** Written by the SageMaker service itself (`userIdentity.type` AWSService, invokedBy sagemaker.amazonaws.com). */
  service?: boolean;
  actor?: string;
  caller: string;
  rollback?: boolean;
  /**
   * The partition the write happened in (its record's region), when not `aws`: only a job of that partition wrote
   * that bucket. UNKNOWN_PARTITION when its record told none (kept writes without the field were in `aws`).
   */
  partition?: string;
}

/** A kept write's partition when its record told none: matched by a job or version of any partition. */
const UNKNOWN_PARTITION = 'unknown';

/** The partition a kept write or note was in (undefined: not known, any), from its stored `partition`. */
const keptPartition = (p: string | undefined): string | undefined => (p === UNKNOWN_PARTITION ? undefined : p ?? 'aws');

/**
 * Objects whose writes are kept at once, per ring (the first seen forgotten first), and writes per object. Two rings:
 * the objects a job names exactly (`<output>/<input name>-<device>.tar.gz`: one per job, so only new compilation jobs
 * push them out), and the `*.tar.gz` directly in an output location whose job's object name cannot be told (a
 * TargetPlatform job). Writes to other keys are not kept, so a flood of them cannot push out the compiled copy's.
 */
const MAX_OBJECTS = 500;
const WRITES_PER_OBJECT = 10;
type Ring = 'exact' | 'archive';
/** Ring state key prefixes: the archive ring keeps the names it had when it was the only one. */
const RING_KEYS: Record<Ring, string> = { exact: 'cjwrite-exact', archive: 'cjwrite' };

/** The writes kept for an object, its ring (unset: archive) and its slot there. */
interface KeptWrites { slot: number; ring?: 'exact'; writes: OutputWrite[] }

/**
 * A write of a `*.tar.gz` read before the record of the compilation job whose output it is (CloudTrail delivers
 * out of order: the S3 data event may come before CreateCompilationJob), held until that record comes (adoptHeldWrites).
 */
interface HeldWrite { object: string; at: number; rcv: number; write: OutputWrite }
/** How long, by event time and by receipt, and how many writes are held (beyond: the oldest of the caller with the most). */
const HOLD_MS = 3_600_000;
const MAX_HELD = 500;

/** S3 operations that put other bytes under the object's name. */
const BYTE_WRITES = new Set(['PutObject', 'CopyObject', 'CompleteMultipartUpload']);

const issuerOf = (ev: Pick<NormalizedEvent, 'actor'>) => ev.actor?.session_issuer?.toLowerCase();
const bySagemaker = (ev: Pick<NormalizedEvent, 'details'>) => ev.details?.identity_type === 'AWSService' && ev.details?.invoked_by === 'sagemaker.amazonaws.com';
const byRole = (issuer: string | undefined, role: string | undefined) => !!issuer && !!role && issuer === role.toLowerCase();
const at = (x: { time: string }) => Date.parse(x.time);

/** The version a job compiled by package ARN (its artifact names the job's object), if seen. */
function compiledVersion(j: CompilationRec, ctx: RuleContext): VersionRec | undefined {
  const p = j.input_package ? packageRef(j.input_package) : undefined;
  return p ? ctx.reg.ownVersion('sagemaker', p.name, p.version, p.scope) : undefined;
}

/** The compilation jobs writing `object` created before write `w`, in its partition (a bucket of that name elsewhere is another). */
const jobsBefore = (object: string, w: Pick<OutputWrite, 'time' | 'partition'>, ctx: RuleContext) =>
  ctx.reg.compilationsWriting(object).filter((j) => at(j) <= at(w) && samePartition(object, keptPartition(w.partition), partitionOfRegion(j.scope?.split(':')[1])));

/** The ring `object` is kept in for jobs `jobs` (created before the write), or undefined: no job writes it. */
function ringOf(object: string, jobs: CompilationRec[], ctx: RuleContext): Ring | undefined {
  let ring: Ring | undefined;
  for (const j of jobs) {
    const match = jobWrites(j, compiledVersion(j, ctx), object);
    if (match === 'exact_name') return 'exact';
    if (match) ring = 'archive';
  }
  return ring;
}

/** Keep a write of `uri` if a compilation job created before it writes there (an object of its output location). */
export function noteOutputWrite(ev: NormalizedEvent, ctx: RuleContext, uri: string): void {
  const rollback = !!versionRollbackOf(ev, uri);
  if (!BYTE_WRITES.has(ev.operation) && !(ev.action === 'data_object.delete' && rollback)) return;
  const object = asS3Uri(normUri(uri, ctx.cfg));
  const issuer = issuerOf(ev);
  const service = bySagemaker(ev);
  // The job's own writes are kept too: one read after someone else's (log files out of order) still replaced it.
  const w: OutputWrite = {
    event: ev.id, time: ev.time, operation: ev.operation, ...(issuer ? { issuer } : {}), ...(service ? { service } : {}),
    actor: identityOf(ev.actor, ctx.cfg), caller: callerText(ev.actor, ctx.cfg), ...(rollback ? { rollback } : {}),
  };
  const partition = partitionOfEvent(ev) ?? UNKNOWN_PARTITION;
  if (partition !== 'aws') w.partition = partition;
  const jobs = jobsBefore(object, w, ctx);
  const ring = jobs.length ? ringOf(object, jobs, ctx) : undefined;
  if (ring) return keep(ctx, object, w, ring);
  // No job seen writing it (yet): an archive is held for the job's record read late.
  if (object.endsWith('.tar.gz')) hold(ctx, { object, ...waitStart(ev, ctx), write: w });
}

/** Add a write to an object's kept writes, giving a new object the next slot of its ring (the object there is forgotten). */
function keep(ctx: RuleContext, object: string, w: OutputWrite, ring: Ring): void {
  const key = `cjwrite|${object}`;
  const kept = ctx.get<KeptWrites>(key);
  const writes = [...(kept?.writes ?? []).filter((x) => x.event !== w.event), w].sort((a, b) => at(a) - at(b) || a.event.localeCompare(b.event)).slice(-WRITES_PER_OBJECT);
  if (kept) return ctx.set(key, { ...kept, writes } satisfies KeptWrites);
  const prefix = RING_KEYS[ring];
  const next = ctx.get<number>(`${prefix}-next`) ?? 0;
  const slot = next % MAX_OBJECTS;
  ctx.set(`${prefix}-next`, next + 1);
  const before = ctx.get<string>(`${prefix}-slot|${slot}`);
  // Unless that object was forgotten already and holds a newer slot now (or one of the other ring).
  const held = before !== undefined && before !== object ? ctx.get<KeptWrites>(`cjwrite|${before}`) : undefined;
  if (held && held.slot === slot && (held.ring ?? 'archive') === ring) ctx.delete(`cjwrite|${before}`);
  ctx.set(`${prefix}-slot|${slot}`, object);
  ctx.set(key, { slot, ...(ring === 'exact' ? { ring } : {}), writes } satisfies KeptWrites);
}

/**
 * Writes one caller may have held at once. Its next ones are not held but noted (notePushedOut): a caller flooding
 * the hold with archives after its own overwrite keeps that overwrite held (its flood is what is not), and cannot
 * push out another caller's write. Beyond MAX_HELD in all (several callers near their share), the oldest of the
 * caller with the most leaves, noted the same way.
 */
const MAX_HELD_PER_CALLER = 100;
/** Locations (an object's parent: a job's output location) noted per caller whose writes were not held (beyond: `more`), and callers noted at once. */
const MAX_PUSHED_LOCATIONS = 1000;
const MAX_PUSHED_CALLERS = 50;
/**
 * Findings of one caller's pushed-out writes in the output locations of distinct jobs, per hour: each job it hit is
 * its own finding (its copy is another to check), but a flood over thousands of jobs' outputs is not thousands.
 */
const MAX_JOB_FINDINGS_PER_HOUR = 20;

/** A caller's writes that were not held (or pushed out of the hold), for the job records that come after (judgePushedOut). */
interface PushedOut {
  caller: string;
  issuer?: string;
  service?: boolean;
  callerText: string;
  partition?: string;
  /**
   * Where the writes were (each object's parent: a compilation job writes its output directly in its output location)
   * and the last write time there, the first MAX_PUSHED_LOCATIONS; `more`: others too, not named.
   */
  locations: [string, string][];
  more?: true;
  count: number;
  /** When the last was noted (the note lasts HOLD_MS from it, as a held write would). */
  at: number;
  rcv: number;
  /** The hour (ISO, to the hour) a finding of writes in too many locations to name was last said: one per caller and hour. */
  reported?: string;
  /** The compilation jobs whose output location it wrote in that were said, in one hour: one finding each, MAX_JOB_FINDINGS_PER_HOUR at most. */
  reported_jobs?: { hour: string; jobs: string[] };
}

/** Hold a write until its job's record comes: HOLD_MS at most, MAX_HELD_PER_CALLER per caller and MAX_HELD in all. */
function hold(ctx: RuleContext, h: HeldWrite): void {
  // Held ids in order of receipt, each with its caller (who floods is told without reading every entry).
  const open = (ctx.get<[string, string][]>('cjhold-index') ?? []).filter(([id]) => id !== h.write.event);
  // Those held long enough leave first.
  while (open.length) {
    const first = ctx.get<HeldWrite>(`cjhold|${open[0]![0]}`);
    if (first && !waited(ctx, first, HOLD_MS)) break;
    ctx.delete(`cjhold|${open.shift()![0]}`);
  }
  const caller = h.write.actor ?? '';
  let mine = 0;
  for (const [, c] of open) if (c === caller) mine++;
  if (mine >= MAX_HELD_PER_CALLER) {
    // Its newest is not held: its earlier writes (an overwrite before the flood) stay.
    notePushedOut(ctx, h);
  } else {
    open.push([h.write.event, caller]);
    ctx.set(`cjhold|${h.write.event}`, h);
  }
  if (open.length > MAX_HELD) {
    // One caller writing many archives (a flood) pushes out its own, not another's write still waiting.
    const counts = new Map<string, number>();
    for (const [, c] of open) counts.set(c, (counts.get(c) ?? 0) + 1);
    const most = [...counts].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
    const i = open.findIndex(([, c]) => c === most);
    const out = ctx.get<HeldWrite>(`cjhold|${open[i]![0]}`);
    if (out) notePushedOut(ctx, out);
    ctx.delete(`cjhold|${open[i]![0]}`);
    open.splice(i, 1);
  }
  ctx.set('cjhold-index', open);
}

/** Note a write of `h`'s caller that the hold does not keep (a write by the SageMaker service is always its job's: not noted). */
function notePushedOut(ctx: RuleContext, h: HeldWrite): void {
  const w = h.write;
  if (w.service) return;
  const caller = w.actor ?? '';
  const key = `cjpushed|${caller}`;
  const rec = ctx.get<PushedOut>(key) ?? { caller, ...(w.issuer ? { issuer: w.issuer } : {}), callerText: w.caller, ...(w.partition ? { partition: w.partition } : {}), locations: [], count: 0, at: h.at, rcv: h.rcv };
  const location = h.object.slice(0, h.object.lastIndexOf('/'));
  const seen = rec.locations.find(([l]) => l === location);
  if (seen) seen[1] = at(w) > Date.parse(seen[1]) ? w.time : seen[1];
  else if (rec.locations.length < MAX_PUSHED_LOCATIONS) rec.locations.push([location, w.time]);
  else rec.more = true;
  rec.count++;
  rec.at = Math.max(rec.at, h.at);
  rec.rcv = h.rcv;
  ctx.set(key, rec);
  const index = (ctx.get<string[]>('cjpushed-index') ?? []).filter((c) => c !== caller);
  index.push(caller);
  for (const old of index.splice(0, Math.max(0, index.length - MAX_PUSHED_CALLERS))) ctx.delete(`cjpushed|${old}`);
  ctx.set('cjpushed-index', index);
}

/**
 * A compilation job's record came: a caller whose writes the hold did not keep (its flood) may have written this
 * job's output before the record was read — an overwrite that can no longer be judged when the copy is registered.
 * Said when one of those writes was in the job's output location after its creation, in its partition (or the
 * caller wrote in too many locations to name), unless the caller is the job's role (its own output: never a finding):
 * `details.finding: early_write_pushed_out`, entity the caller: once per job whose output location it wrote in
 * (MAX_JOB_FINDINGS_PER_HOUR per caller and hour at most), once per caller and hour when it wrote in too many locations
 * to name. A busy writer's writes elsewhere (a training pipeline's model.tar.gz) are never said.
 */
function judgePushedOut(ctx: RuleContext, job: NormalizedEvent): void {
  const index = ctx.get<string[]>('cjpushed-index');
  if (!index?.length) return;
  const j = job.ml?.job as { name?: unknown; role?: unknown; output_location?: unknown } | undefined;
  const role = typeof j?.role === 'string' ? j.role : undefined;
  if (typeof j?.output_location !== 'string') return;
  const output = asS3Uri(normUri(j.output_location, ctx.cfg));
  const partition = partitionOfEvent(job);
  const left: string[] = [];
  for (const caller of index) {
    const key = `cjpushed|${caller}`;
    const rec = ctx.get<PushedOut>(key);
    if (!rec || waited(ctx, rec, HOLD_MS)) {
      ctx.delete(key);
      continue;
    }
    left.push(caller);
    if (byRole(rec.issuer, role)) continue;
    const hour = job.time.slice(0, 13);
    if (!samePartition(output, keptPartition(rec.partition), partition)) continue;
    const hit = rec.locations.some(([location, time]) => location === output && Date.parse(time) >= at(job));
    if (!hit && !rec.more) continue;
    const jobName = typeof j?.name === 'string' ? j.name : (job.resource?.name ?? '');
    // A write in this job's output location: this job's finding (another job's said earlier is another copy). Writes
    // in too many locations to name: said once per caller and hour, of the first job read.
    const said = rec.reported_jobs?.hour === hour ? rec.reported_jobs.jobs : [];
    if (hit ? said.includes(jobName) || said.length >= MAX_JOB_FINDINGS_PER_HOUR : rec.reported === hour) continue;
    ctx.set(key, (hit ? { ...rec, reported_jobs: { hour, jobs: [...said, jobName] } } : { ...rec, reported: hour }) satisfies PushedOut);
    ctx.detect({
      entity: identityEntity(caller || 'unknown'), key: hit ? `early_write_pushed_out|${caller}|${hour}|${jobName}` : `early_write_pushed_out|${caller}|${hour}`, evidence: [job.id], time: job.time, title: 'Writes of a compilation output could not be held for their job',
      summary: `${rec.callerText} wrote ${rec.count} *.tar.gz object(s) that were read before any compilation job writing them and could not be held for one (more than ${MAX_HELD_PER_CALLER} held of that caller at once)${hit ? `, some in the output location ${output} of compilation job ${jobName} after its creation` : `, in too many locations to name, before compilation job ${jobName} was read`}: an overwrite of a compiled copy among them can no longer be judged when the copy is registered`,
      details: { finding: 'early_write_pushed_out', actor: caller || undefined, pushed_out: rec.count, job: jobName, output_location: output, ...(hit ? {} : { locations_unknown: true }) },
    });
  }
  if (left.length !== index.length) ctx.set('cjpushed-index', left);
}

/**
 * After the registry took in a compilation job (`job`, its record): the writes held for a job's record (read before
 * it) that are its output (written after its creation, an object it writes) are kept now, as if read after it; those
 * that could not be held are said (judgePushedOut).
 */
export function adoptHeldWrites(ctx: RuleContext, job?: NormalizedEvent): void {
  if (job) judgePushedOut(ctx, job);
  const open = ctx.get<[string, string][]>('cjhold-index');
  if (!open?.length) return;
  const left: [string, string][] = [];
  for (const entry of open) {
    const id = entry[0];
    const h = ctx.get<HeldWrite>(`cjhold|${id}`);
    if (!h) continue;
    const jobs = jobsBefore(h.object, h.write, ctx);
    const ring = jobs.length ? ringOf(h.object, jobs, ctx) : undefined;
    if (ring) {
      keep(ctx, h.object, h.write, ring);
      ctx.delete(`cjhold|${id}`);
    } else left.push(entry);
  }
  if (left.length !== open.length) ctx.set('cjhold-index', left);
}

/** Whether a kept write is the job's own: its role's session, or the SageMaker service. */
const writtenByJob = (w: Pick<OutputWrite, 'issuer' | 'service'>, role: string | undefined) => !!w.service || byRole(w.issuer, role);

/**
 * A write read after the copy's registration that is the job's own (its role, between the job's creation and the
 * registration): the job writing its output, read late, not a change of what was registered.
 */
export function jobsOwnWrite(ev: NormalizedEvent, copy: CompiledCopy | undefined): boolean {
  if (!copy?.job_time) return false;
  const t = at(ev);
  return t >= Date.parse(copy.job_time) && t <= at(copy) && writtenByJob({ issuer: issuerOf(ev), service: bySagemaker(ev) }, copy.job_role);
}

/**
 * Copies of `v` just vouched for by `update`: the last write of each between its job's creation and the update, if
 * not the job's own, is the finding — the bytes registered are not the ones the job wrote.
 */
export function judgeOutputWrites(update: Pick<NormalizedEvent, 'id' | 'time'>, ctx: RuleContext, v: VersionRec, copies: CompiledCopy[]): void {
  const approval = v.approval;
  if (!approval) return;
  const partition = partitionOfVersion(v, ctx.cfg);
  for (const c of copies) {
    if (!c.job_time) continue;
    const object = asS3Uri(c.artifact);
    // Writes in the version's partition: one on a bucket of the same name in another partition is not of this copy.
    const writes = (ctx.get<KeptWrites>(`cjwrite|${object}`)?.writes ?? []).filter((w) => at(w) > Date.parse(c.job_time!) && at(w) <= at(update) && samePartition(object, keptPartition(w.partition), partition));
    // CloudTrail times writes to the second: of writes in the last write's second, which came last cannot be told,
    // so one not the job's there is the finding (an overwrite raced right after the job's write would else pass
    // whenever its event id sorted first).
    const lastTime = writes.length ? at(writes.at(-1)!) : NaN;
    const tied = writes.filter((w) => at(w) === lastTime);
    const last = tied.find((w) => !writtenByJob(w, c.job_role));
    if (!last) continue;
    const sameTimeAsJob = tied.some((w) => writtenByJob(w, c.job_role));
    const how = last.rollback ? 'rolled back to an earlier version' : 'written';
    ctx.detect({
      entity: versionEntity(v), key: `artifact_overwritten|${c.artifact}`, evidence: [approval.event, last.event, update.id], title: 'Approved model version changed after approval',
      summary: `${v.name} v${v.version} was approved at ${approval.time} and then its compiled copy ${c.artifact} was ${how} (${last.operation}) by ${last.caller} at ${last.time}, after compilation job ${c.job} was created (${c.job_time}) and before the copy was registered: the registered bytes are not the job's output`,
      details: {
        change: 'artifact_overwritten', object: c.artifact, artifact: v.artifact, approved_at: approval.time, compiled_copy: c,
        written_before_registration: { event: last.event, time: last.time, operation: last.operation, actor: last.actor, ...(last.rollback ? { version_rollback: true } : {}), ...(sameTimeAsJob ? { same_time_as_job_write: true } : {}) },
      },
    });
  }
}
