import type { NormalizedEvent } from '../../schema/index.js';
import { isAwsNeoImage } from '../aws-images.js';
import { asS3Uri, callerText, inferenceArtifactsOf, modelRefOf, normUri, packageRef, readingsDiffer, scopeOf, uriAncestors } from '../facts.js';
import type { CompilationRec, VersionRec } from '../registry.js';
import { adoptHeldWrites, judgeOutputWrites } from './compiled-writes.js';
import { versionEntity, waited, waitStart, type KindImpl, type RuleContext } from './context.js';
import { dropWaiting, SWEEP_EVERY_MS } from './shared.js';

/**
 * `registry.approved_model_modified` for the normal SageMaker Neo flow: approve a package, compile it
 * (CreateCompilationJob), register the compiled copy in the package (UpdateModelPackage
 * `AdditionalInferenceSpecificationsToAdd`). A copy whose artifact is the output of a compilation job that read this
 * very version, served by an image AWS publishes for Neo, is recorded (rule state `compiled|<version>`) and raises
 * nothing; any other addition stays the finding, its summary saying what was not vouched for. The job's record may be
 * read after the update's (log files out of order): the update then waits for it (COPY_WAIT_MS), in rule state.
 */

/** The request field an UpdateModelPackage adds copies with. */
const ADD_FIELD = 'additionalInferenceSpecificationsToAdd';
/** How long an addition waits for the compilation job that wrote it (read late), by event time and by receipt. */
const COPY_WAIT_MS = 3_600_000;
/** Additions waiting at once: one pushed out is judged then, with what is known. */
const MAX_COPY_WAITS = 100;
/** Copies recorded per version. */
const MAX_COPIES = 50;

/** A compiled copy vouched for: its artifact and the job that wrote it from this version's weights. */
export interface CompiledCopy {
  artifact: string;
  job: string;
  job_event: string;
  /** When the job was created, and the role it writes its output with: a later write by another is not its output. */
  job_time?: string;
  job_role?: string;
  input: string;
  output: string;
  target_device?: string;
  target_platform?: string;
  /**
   * How the artifact was matched to the job's output: `exact_name` (the object Neo writes for a device), or
   * `tar_gz_in_output` (a `TargetPlatform` job, or an input not named `*.tar.gz`: the name Neo gives is not documented,
   * so any `*.tar.gz` directly in the output location, none deeper, is taken).
   */
  output_match?: 'exact_name' | 'tar_gz_in_output';
  event: string;
  time: string;
}

interface Verdict {
  vouched: CompiledCopy[];
  /** What was not vouched for, one sentence each. */
  unvouched: string[];
  /** Only compilation jobs not seen (yet): worth waiting for. */
  noJobOnly: boolean;
}

/** An addition waiting for its compilation job. */
interface CopyWait {
  at: number;
  rcv?: number;
  event: Pick<NormalizedEvent, 'id' | 'time' | 'platform' | 'actor' | 'cloud' | 'resource' | 'action' | 'operation' | 'ml' | 'details'>;
}

/** Whether an update only adds copies (and restates what names the package): the fields it names besides those. */
export function addsOnlyCopies(ev: NormalizedEvent, fields: string[], approvalFields: Set<string>): boolean {
  const rest = fields.filter((f) => !approvalFields.has(f.toLowerCase()));
  return ev.platform === 'sagemaker' && rest.length === 1 && rest[0] === ADD_FIELD && inferenceArtifactsOf(ev).length > 0;
}

/**
 * Judge an addition of copies to approved version `v`: true when it was vouched for (recorded) or waits for its
 * compilation job; false, with the reasons in `out`, when it stays a finding.
 */
export function judgeCopies(ev: NormalizedEvent, ctx: RuleContext, v: VersionRec, out: string[]): boolean {
  const verdict = verdictOf(ev, ctx, v);
  if (!verdict.unvouched.length) return record(ev, ctx, v, verdict.vouched), true;
  if (verdict.noJobOnly) return hold(ev, ctx), true;
  out.push(...verdict.unvouched);
  return false;
}

/** What the addition names besides its artifacts: its images (`ml.model.additional_images`), its code (`additional_code_uris`). */
function addedStrings(ev: Pick<NormalizedEvent, 'ml'>, field: 'additional_images' | 'additional_code_uris'): string[] {
  const values = (ev.ml?.model as Record<string, unknown> | undefined)?.[field];
  return Array.isArray(values) ? values.filter((x): x is string => typeof x === 'string') : [];
}

/** Whether a compilation job read version `v`: its package version, or one of its artifacts (or a file in it). */
function compiledFrom(j: CompilationRec, v: VersionRec, ctx: RuleContext): boolean {
  if (j.input_package) {
    const p = packageRef(j.input_package);
    return !!p && p.name === v.name && p.version === v.version && (!p.scope || !v.scope || p.scope === v.scope);
  }
  const mine = [v.artifact, ...(v.moreArtifacts ?? [])].filter((a): a is string => !!a).map((a) => asS3Uri(normUri(a, ctx.cfg)));
  if (!j.input_uri) return false;
  if (mine.includes(j.input_uri)) return true;
  // Under an artifact only when that artifact is a prefix: an archive is one S3 object, and `<archive>/x.tar.gz` is
  // another object anyone who can write the bucket may upload.
  return uriAncestors(j.input_uri).slice(1).some((a) => mine.includes(a) && !ARCHIVE.test(a));
}

/** An object name that is an archive (a model's `.tar.gz`), never a prefix holding files. */
const ARCHIVE = /\.(tar\.gz|tgz|tar|gz|zip)$/i;

/**
 * The object Neo writes for a job: `<output>/<input name without .tar.gz>-<target device>.tar.gz` (as AWS's examples
 * show: `model.tar.gz` for `ml_c5` → `model-ml_c5.tar.gz`). Undefined when it cannot be told (a `TargetPlatform`
 * instead of a device, an input not named `*.tar.gz`): see archiveDirectlyIn.
 */
function expectedObject(j: CompilationRec, v: Pick<VersionRec, 'artifact'> | undefined): string | undefined {
  const input = j.input_uri ?? (j.input_package && v?.artifact ? asS3Uri(v.artifact) : undefined);
  const name = input?.split('/').at(-1);
  if (!j.target_device || !name?.endsWith('.tar.gz')) return undefined;
  return `${j.output}/${name.slice(0, -'.tar.gz'.length)}-${j.target_device}.tar.gz`;
}

/**
 * Whether `object` is a `*.tar.gz` directly in the output location: what a job whose object name cannot be told may
 * have written. Not deeper: an output location at a bucket's root would otherwise vouch for the whole bucket. Read the
 * same leniently and literally (no `%2F`, `..`), as the locations that vouch elsewhere.
 */
function archiveDirectlyIn(output: string, object: string): boolean {
  if (!object.startsWith(`${output}/`) || readingsDiffer(object)) return false;
  const name = object.slice(output.length + 1);
  return !name.includes('/') && name.length > '.tar.gz'.length && name.endsWith('.tar.gz');
}

/**
 * Whether job `j` writes `object`, and how that was told; `v` the version it compiled (by package ARN: its artifact
 * names the object), undefined when not known — then any `*.tar.gz` directly in the output, which holds the exact name.
 */
export function writes(j: CompilationRec, v: Pick<VersionRec, 'artifact'> | undefined, object: string): CompiledCopy['output_match'] | undefined {
  const exact = expectedObject(j, v);
  if (exact) return exact === object ? 'exact_name' : undefined;
  return archiveDirectlyIn(j.output, object) ? 'tar_gz_in_output' : undefined;
}

/** What job `j` writes, for a finding's reason. */
function writtenText(j: CompilationRec, v: VersionRec): string {
  return expectedObject(j, v) ?? `a *.tar.gz directly in ${j.output}: the name Neo gives ${j.target_platform ? `a TargetPlatform (${j.target_platform}) job's output` : 'this output'} is not documented`;
}

function verdictOf(ev: NormalizedEvent, ctx: RuleContext, v: VersionRec): Verdict {
  const scope = scopeOf(ev);
  const vouched: CompiledCopy[] = [];
  const unvouched: string[] = [];
  let other = false;
  for (const artifact of inferenceArtifactsOf(ev).map((u) => normUri(u, ctx.cfg))) {
    // Jobs' locations are kept as s3:// URIs: an https:// one registered is compared as the object it names.
    const object = asS3Uri(artifact);
    // A job of the package's own account and region (where the update is made).
    const seen = ctx.reg.compilationsWriting(object).filter((j) => !j.scope || !scope || j.scope === scope);
    if (!seen.length) {
      unvouched.push(`no compilation job seen writing ${artifact}`);
      continue;
    }
    other = true;
    // Only a job created before the update can have written what it registers: one created after vouches for nothing
    // (else anyone could register their own object, then start a job naming that location).
    const jobs = seen.filter((j) => Date.parse(j.time) <= Date.parse(ev.time));
    if (!jobs.length) {
      const j = seen[0]!;
      unvouched.push(`compilation job ${j.job} writing ${artifact} was created at ${j.time}, after the update`);
      continue;
    }
    const own = jobs.filter((j) => compiledFrom(j, v, ctx));
    if (!own.length) {
      const j = jobs.at(-1)!;
      unvouched.push(`compilation job ${j.job} writing ${artifact} compiled ${j.input_uri ?? j.input_package ?? 'an input not logged'}, not an artifact of ${v.name} v${v.version}`);
      continue;
    }
    // A job stopped before the update (StopCompilationJob, which only a job still running accepts) may never have
    // written its output: what is at its object name may be anyone's.
    const running = own.filter((x) => !stopOf(ctx, x, ev.time));
    if (!running.length) {
      const j = own.at(-1)!;
      const stop = stopOf(ctx, j, ev.time)!;
      unvouched.push(`compilation job ${j.job} writing ${artifact} was stopped at ${stop.time} (StopCompilationJob), before the update: it may never have written its output`);
      continue;
    }
    const j = running.reverse().find((x) => writes(x, v, object));
    if (!j) {
      unvouched.push(`${artifact} is not the object compilation job ${running[0]!.job} writes (${writtenText(running[0]!, v)})`);
      continue;
    }
    vouched.push({
      artifact, job: j.job, job_event: j.event, job_time: j.time, ...(j.role ? { job_role: j.role } : {}), input: (j.input_uri ?? j.input_package)!, output: j.output, ...(j.target_device ? { target_device: j.target_device } : {}),
      ...(j.target_platform ? { target_platform: j.target_platform } : {}), output_match: writes(j, v, object)!, event: ev.id, time: ev.time,
    });
  }
  // An AWS image runs the script its environment names (SAGEMAKER_SUBMIT_DIRECTORY): code no job wrote, no approval saw.
  for (const code of addedStrings(ev, 'additional_code_uris')) {
    other = true;
    unvouched.push(`code ${code} the container downloads and runs (SAGEMAKER_SUBMIT_DIRECTORY) is not part of a compiled copy`);
  }
  for (const image of addedStrings(ev, 'additional_images')) {
    if (isAwsNeoImage(image)) continue;
    other = true;
    unvouched.push(`image ${image} is not an AWS Neo or Deep Learning Container image`);
  }
  return { vouched, unvouched, noJobOnly: unvouched.length > 0 && !other };
}

/**
 * Keep the copies vouched for on the version (rule state), the last MAX_COPIES; a copy whose object someone else wrote
 * after its job was created is the finding still (judgeOutputWrites): its name was vouched for, not its bytes.
 */
function record(update: NormalizedEvent, ctx: RuleContext, v: VersionRec, copies: CompiledCopy[]): void {
  const key = `compiled|${v.key}`;
  const kept = (ctx.get<CompiledCopy[]>(key) ?? []).filter((c) => !copies.some((x) => x.artifact === c.artifact));
  ctx.set(key, [...kept, ...copies].slice(-MAX_COPIES));
  for (const job of new Set(copies.map((c) => c.job))) noteVouchedBy(ctx, scopeOf(update), job, { version: v.key, event: keptUpdate(update) });
  judgeOutputWrites(update, ctx, v, copies);
}

/** An update as kept in rule state: what verdictOf and reportUnvouched read of it. */
function keptUpdate(ev: NormalizedEvent): CopyWait['event'] {
  return { id: ev.id, time: ev.time, platform: ev.platform, actor: ev.actor, cloud: ev.cloud, resource: ev.resource, action: ev.action, operation: ev.operation, ml: { model: ev.ml?.model }, details: { changed_fields: ev.details?.changed_fields } };
}
/** The fields an update changed, as its finding names them. */
const fieldsOf = (ev: Pick<NormalizedEvent, 'details'>): string[] => (Array.isArray(ev.details?.changed_fields) ? (ev.details.changed_fields as string[]) : [ADD_FIELD]);

/**
 * An update vouched for by a compilation job, kept by the job (`cjvouched|<scope>|<job>`): a StopCompilationJob made
 * before it but read after it (log files out of order; replay, sorting by event time, reads the stop first) judges it
 * again when it comes, so serve says what replay says.
 */
interface VouchedUpdate { version: string; event: CopyWait['event'] }
/** Jobs whose vouched updates are kept at once (the oldest forgotten first): as many as stops are. */
const MAX_VOUCHED_JOBS = 200;
const vouchedKey = (scope: string | undefined, job: string) => `cjvouched|${scope ?? ''}|${job}`;

function noteVouchedBy(ctx: RuleContext, scope: string | undefined, job: string, u: VouchedUpdate): void {
  const key = vouchedKey(scope, job);
  ctx.set(key, [...(ctx.get<VouchedUpdate[]>(key) ?? []).filter((x) => x.event.id !== u.event.id), u].slice(-MAX_COPIES));
  const open = (ctx.get<string[]>('cjvouched-index') ?? []).filter((k) => k !== key);
  open.push(key);
  while (open.length > MAX_VOUCHED_JOBS) ctx.delete(open.shift()!);
  ctx.set('cjvouched-index', open);
}

/** A job's stop read after updates it vouched for: those made after the stop are judged again now (the stop is kept). */
function rejudgeVouchedBy(stop: NormalizedEvent, ctx: RuleContext, scope: string | undefined, job: string): void {
  const key = vouchedKey(scope, job);
  const kept = ctx.get<VouchedUpdate[]>(key);
  if (!kept) return;
  ctx.delete(key);
  ctx.set('cjvouched-index', (ctx.get<string[]>('cjvouched-index') ?? []).filter((k) => k !== key));
  for (const { version, event } of kept) {
    // Made before the stop, the update registered what the running job had written by then (stopOf agrees).
    if (Date.parse(event.time) < Date.parse(stop.time)) continue;
    const v = ctx.reg.version(version);
    if (v?.approval?.state !== 'approved') continue;
    const verdict = verdictOf(event as NormalizedEvent, ctx, v);
    // Only a verdict the stop changed: a job record forgotten since says nothing new.
    if (!verdict.unvouched.length || verdict.noJobOnly) continue;
    // No longer vouched for: its copies are the version's artifacts still, but not this job's output.
    const copies = ctx.get<CompiledCopy[]>(`compiled|${v.key}`);
    if (copies) ctx.set(`compiled|${v.key}`, copies.filter((c) => c.event !== event.id));
    reportUnvouched(event, ctx, v, fieldsOf(event), verdict.unvouched, event.time, [stop.id]);
  }
}

/** The compiled copy vouched for at `artifact` (normalized) of version `v`, if one was. */
export function compiledCopyAt(ctx: RuleContext, v: VersionRec, artifact: string): CompiledCopy | undefined {
  // By the object named: the copy registered by an https:// URL, the write naming s3:// (or the other way round).
  const object = asS3Uri(artifact);
  return ctx.get<CompiledCopy[]>(`compiled|${v.key}`)?.find((c) => asS3Uri(c.artifact) === object);
}

/** The finding for an addition not vouched for, as an update of the approved version (its usual shape), saying why. */
export function reportUnvouched(ev: Pick<NormalizedEvent, 'id' | 'time' | 'actor'>, ctx: RuleContext, v: VersionRec, fields: string[], reasons: string[], time?: string, also: string[] = []): void {
  const approval = v.approval!;
  ctx.detect({
    entity: versionEntity(v), key: `update|${[...fields].sort().join(',')}`, evidence: [approval.event, ev.id, ...also], title: 'Approved model version changed after approval', ...(time ? { time } : {}),
    summary: `${v.name} v${v.version} was approved at ${approval.time} and then changed (update: ${fields.join(', ')}) by ${callerText(ev.actor, ctx.cfg)}; not vouched for as a compiled copy: ${reasons.join('; ')}`,
    details: { change: 'update', fields, approved_at: approval.time, compiled_copy_unvouched: reasons },
  });
}

function hold(ev: NormalizedEvent, ctx: RuleContext): void {
  ctx.set(`copywait|${ev.id}`, { ...waitStart(ev, ctx), event: keptUpdate(ev) } satisfies CopyWait);
  const open = (ctx.get<string[]>('copywait-index') ?? []).filter((k) => k !== ev.id);
  open.push(ev.id);
  // Pushed out: judged now with what is known, so a flood of additions cannot hide one.
  while (open.length > MAX_COPY_WAITS) settle(ctx, open.shift()!, true);
  ctx.set('copywait-index', open);
}

/** Judge a waiting addition again: vouched for, still waiting (unless `final`), or the finding. */
function settle(ctx: RuleContext, id: string, final: boolean): void {
  const w = ctx.get<CopyWait>(`copywait|${id}`);
  if (!w) return dropWaiting(ctx, 'copywait', id);
  const ev = w.event as NormalizedEvent;
  const ref = modelRefOf(ev, ctx.cfg);
  const v = ref?.name && ref.version ? ctx.reg.ownVersion(ref.platform, ref.name, ref.version, ref.scope) : undefined;
  if (!v || v.approval?.state !== 'approved') return dropWaiting(ctx, 'copywait', id);
  const verdict = verdictOf(ev, ctx, v);
  if (verdict.noJobOnly && !final) return;
  dropWaiting(ctx, 'copywait', id);
  if (!verdict.unvouched.length) return record(ev, ctx, v, verdict.vouched);
  reportUnvouched(ev, ctx, v, fieldsOf(ev), verdict.unvouched, ev.time);
}

/** A compilation job stopped (a StopCompilationJob that succeeded), kept by scope and job name (`cjstop|…`). */
interface JobStop { time: string; event: string }
/** Stops kept at once (the oldest forgotten first): as many as compilation locations the registry keeps. */
const MAX_STOPS = 200;
const stopKey = (scope: string | undefined, job: string) => `cjstop|${scope ?? ''}|${job}`;

/** The stop of job `j` after its creation and at or before `time`, if one was seen. */
function stopOf(ctx: RuleContext, j: CompilationRec, time: string): JobStop | undefined {
  const stop = ctx.get<JobStop>(stopKey(j.scope, j.job));
  return stop && Date.parse(stop.time) >= Date.parse(j.time) && Date.parse(stop.time) <= Date.parse(time) ? stop : undefined;
}

function noteStop(ev: NormalizedEvent, ctx: RuleContext): void {
  const job = ev.resource?.name ?? ev.resource?.id;
  if (!job) return;
  const key = stopKey(scopeOf(ev), job);
  ctx.set(key, { time: ev.time, event: ev.id } satisfies JobStop);
  const open = (ctx.get<string[]>('cjstop-index') ?? []).filter((k) => k !== key);
  open.push(key);
  while (open.length > MAX_STOPS) ctx.delete(open.shift()!);
  ctx.set('cjstop-index', open);
  // Kept first: the updates it vouched for, judged again, see the stop.
  rejudgeVouchedBy(ev, ctx, scopeOf(ev), job);
}

/** After the registry took in a compilation job: the additions waiting for it are judged now. A job's stop is kept. */
export const judgeWaitingCopies: KindImpl = (ev, ctx) => {
  // The catalogue has no stop verb for jobs (`resource.other`): the operation names it.
  if (ev.resource?.type === 'compilation_job' && ev.operation === 'StopCompilationJob' && ev.outcome !== 'failure') return noteStop(ev, ctx);
  if (ev.resource?.type !== 'compilation_job' || ev.action !== 'resource.create' || ev.outcome === 'failure') return;
  // Writes of its output read before it first: an addition waiting for it is judged with them.
  adoptHeldWrites(ctx, ev);
  for (const id of ctx.get<string[]>('copywait-index') ?? []) settle(ctx, id, false);
};

/** Every SWEEP_EVERY_MS: an addition whose compilation job has not come in COPY_WAIT_MS is the finding. */
export const sweepWaitingCopies: KindImpl = (_ev, ctx) => {
  const last = ctx.get<number>('copywait-swept') ?? 0;
  if (!(ctx.clock() - last >= SWEEP_EVERY_MS)) return;
  ctx.set('copywait-swept', ctx.clock());
  for (const id of ctx.get<string[]>('copywait-index') ?? []) {
    const w = ctx.get<CopyWait>(`copywait|${id}`);
    if (!w || waited(ctx, w, COPY_WAIT_MS)) settle(ctx, id, true);
  }
};

/** End of input: every waiting addition is judged with what is known. */
export const settleAllWaitingCopies: KindImpl = (_ev, ctx) => {
  for (const id of ctx.get<string[]>('copywait-index') ?? []) settle(ctx, id, true);
};
