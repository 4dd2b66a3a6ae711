import type { NormalizedEvent } from '../../schema/index.js';
import { asS3Uri, callerText, identityOf, normUri, packageRef, partitionOfEvent, partitionOfRegion, partitionOfVersion, samePartition, versionRollbackOf } from '../facts.js';
import type { CompilationRec, VersionRec } from '../registry.js';
import { writes as jobWrites, type CompiledCopy } from './compiled-copy.js';
import { versionEntity, waited, waitStart, type RuleContext } from './context.js';

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
  /** The partition the write happened in (its record's region), when not `aws`: only a job of that partition wrote that bucket. */
  partition?: string;
}

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
const jobsBefore = (object: string, w: OutputWrite, ctx: RuleContext) =>
  ctx.reg.compilationsWriting(object).filter((j) => at(j) <= at(w) && samePartition(object, w.partition ?? 'aws', partitionOfRegion(j.scope?.split(':')[1])));

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
  const partition = partitionOfEvent(ev);
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

/** Hold a write until its job's record comes: HOLD_MS at most, MAX_HELD in all (the oldest of the caller with the most leaves). */
function hold(ctx: RuleContext, h: HeldWrite): void {
  // Held ids in order of receipt, each with its caller (who floods is told without reading every entry).
  const open = (ctx.get<[string, string][]>('cjhold-index') ?? []).filter(([id]) => id !== h.write.event);
  // Those held long enough leave first.
  while (open.length) {
    const first = ctx.get<HeldWrite>(`cjhold|${open[0]![0]}`);
    if (first && !waited(ctx, first, HOLD_MS)) break;
    ctx.delete(`cjhold|${open.shift()![0]}`);
  }
  open.push([h.write.event, h.write.actor ?? '']);
  ctx.set(`cjhold|${h.write.event}`, h);
  if (open.length > MAX_HELD) {
    // One caller writing many archives (a flood) pushes out its own, not another's write still waiting.
    const counts = new Map<string, number>();
    for (const [, caller] of open) counts.set(caller, (counts.get(caller) ?? 0) + 1);
    const most = [...counts].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
    const i = open.findIndex(([, caller]) => caller === most);
    ctx.delete(`cjhold|${open[i]![0]}`);
    open.splice(i, 1);
  }
  ctx.set('cjhold-index', open);
}

/**
 * After the registry took in a compilation job: the writes held for a job's record (read before it) that are its
 * output (written after its creation, an object it writes) are kept now, as if read after it.
 */
export function adoptHeldWrites(ctx: RuleContext): void {
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
  const partition = partitionOfVersion(v);
  for (const c of copies) {
    if (!c.job_time) continue;
    const object = asS3Uri(c.artifact);
    // Writes in the version's partition: one on a bucket of the same name in another partition is not of this copy.
    const writes = (ctx.get<KeptWrites>(`cjwrite|${object}`)?.writes ?? []).filter((w) => at(w) > Date.parse(c.job_time!) && at(w) <= at(update) && samePartition(object, w.partition ?? 'aws', partition));
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
