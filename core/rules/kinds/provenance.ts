import type { NormalizedEvent } from '../../schema/index.js';
import { durationMs } from '../config.js';
import { anyGlob, assumedRoleArnOf, identityOf, inputsOf, isJobSubmission, jobEntity, jobFamilyOf, jobNameOf, namedEntity, scopeOf, scopedName, sourceOf, versionRollbackOf, versionRollbackText, type VersionRollback } from '../facts.js';
import { setting, type KindImpl, type RuleContext } from './context.js';
import { completedReportText, heldUpload, sweepHeldUploads, unjudgedText, type CarriedUpload, type LostUpload } from './multipart.js';

/**
 * Where training data comes from and who puts it there (MITRE ATLAS AML.T0020, poison training data): a write
 * into a data source by an identity that never wrote there, and a training job family reading a data location
 * it never read. Both learn what is usual and judge only once there is something learned to judge by.
 */

/** Writers kept per data source (the most recent ones): a source with more is fed by a crowd, not a pipeline. */
const MAX_WRITERS = 200;
/** Data locations kept per job family. */
const MAX_SOURCES = 50;

/** A folder named by its date or a partition key (`2026-11-05`, `20261105`, `dt=2026-11-05`): a day's batch, not a dataset. */
const PARTITION = /^(\d{4}-?\d{2}-?\d{2}.*|[a-z_]+=.*)$/i;

/**
 * Object-store URI → `scheme://bucket/first-folder/` (the dataset a pipeline feeds), or the bucket for a key at its
 * root or under a date / partition folder (else each day's folder would be a new source, never judged).
 */
export function datasetRoot(uri: string): string | undefined {
  const m = /^([a-z0-9+.-]+:\/\/[^/]+)(?:\/([^/]+)\/)?/i.exec(uri);
  if (!m) return undefined;
  return m[2] && !PARTITION.test(m[2]) ? `${m[1]}/${m[2]}/` : m[1];
}

/** Object-store URI → `scheme://bucket` (a location a job reads from; dated folders under it are one place). */
function storeOf(uri: string): string {
  return /^([a-z0-9+.-]+:\/\/[^/?#]+)/i.exec(uri)?.[1] ?? uri;
}

/**
 * The objects a data write touches: what it wrote or deleted — a copy's destination, not its source; nothing an
 * import reads (Vertex ImportData names only its sources: the dataset it fills is the resource).
 */
function writtenUris(ev: NormalizedEvent): string[] {
  const read = new Set(ev.ml?.data?.inputs ?? []);
  return [...(ev.ml?.data?.outputs ?? []), ...(ev.ml?.data?.uris ?? []).filter((u) => !read.has(u)), ...(ev.resource?.uri ? [ev.resource.uri] : [])];
}

/**
 * The writer a source learns: a person, or for a role session named by a tool (`role:etl/botocore-session-17…`,
 * a new name each run) the role alone — else a daily pipeline would be a new writer every day. A session name an
 * orchestrator makes per run (Step Functions `execution-<id>`, an Airflow DAG run's `…__2026-10-08t02_00_00`,
 * `mwaa-17`) is that role's sessions of that pattern, its digits and ids as `*` (`role:etl/execution-*`).
 */
function writerOf(identity: string, actor: NormalizedEvent['actor']): string {
  const m = /^role:([^/]+)\//.exec(identity);
  if (m) return `role:${m[1]}`;
  // Only a name the session itself gave (not an alias, not who assumed the role, not an email: a person).
  const session = /assumed-role\/([^/]+)\/(.+)$/.exec(assumedRoleArnOf(actor) ?? '');
  if (!session || session[2] !== identity || identity.includes('@')) return identity;
  // A run id is a word of digits or hex, or mostly digits (`08t02`); a person's `alice2` stays a name.
  const runId = (w: string) => /\d/.test(w) && (/^[0-9a-f]+$/.test(w) || w.replace(/\D/g, '').length * 2 >= w.length);
  const pattern = identity.replace(/[a-z0-9]+/g, (w) => (runId(w) ? '*' : w)).replace(/\*(?:[^a-z0-9*]*\*)+/g, '*');
  return pattern === identity ? identity : `role:${session[1]}/${pattern}`;
}

const PAST: Record<string, string> = { write: 'wrote', copy: 'copied', delete: 'deleted', create: 'created', update: 'updated', import: 'imported' };

interface Writers {
  /** First write seen to the source (ms): the source is judged once it has `min_history` of writers learned. */
  first: number;
  /** identity → last write (ms). */
  writers: Record<string, number>;
}

/** Versions put back kept per data source (object and version): the oldest go first. */
const MAX_RESTORED = 200;
/** Job families kept per store as readers of its data: what an alert names as affected. */
const MAX_READERS = 50;
interface Reader {
  uri: string;
  family: string;
}

/** A training job's inputs, remembered per store: a write under one of them names the families trained on it. */
function learnReaders(ev: NormalizedEvent, ctx: RuleContext): void {
  const job = jobNameOf(ev);
  if (!job || ev.stage !== 'training' || ev.outcome === 'failure') return;
  const family = jobFamilyOf(ev, job);
  for (const uri of inputsOf(ev).filter((u) => /^[a-z0-9+.-]+:\/\//i.test(u))) {
    const k = `readers|${storeOf(uri)}`;
    const readers = (ctx.get<Reader[]>(k) ?? []).filter((r) => !(r.uri === uri && r.family === family));
    ctx.set(k, [...readers, { uri, family }].slice(-MAX_READERS));
  }
}

/** The job families whose training inputs hold what was written (an input folder above the object, or inside the source). */
function readersOf(ctx: RuleContext, source: string, object: string | undefined): string[] {
  const readers = ctx.get<Reader[]>(`readers|${storeOf(source)}`) ?? [];
  return [...new Set(readers.filter((r) => (object ?? source).startsWith(r.uri) || r.uri.startsWith(source)).map((r) => r.family))];
}

/**
 * A known writer's rollback of training data that training jobs have read (MITRE ATLAS AML.T0020 by restoring an
 * older, possibly poisoned, version): their next run trains on the older bytes, and the models they made no longer
 * match their data. Only an earlier version copied back is judged — a deleted version may be the cleanup of an old
 * one (the record does not say whether it was current) — and only data a training job read: a data engineer fixing
 * a file no job has trained on yet stays in the event's `details.version_rollback`.
 */
function judgeTrainedDataRollback(ev: NormalizedEvent, ctx: RuleContext, at: { identity: string; source: string; named: string; object: string; rollback: VersionRollback; carried?: CarriedUpload; lost?: LostUpload }): void {
  const { identity, source, named, object, rollback, carried, lost } = at;
  if (!rollback.restored_version) return;
  const readBy = readersOf(ctx, source, object);
  if (!readBy.length) return;
  // A version put back before is the same bytes again (S3 version ids name immutable bytes): a pipeline resetting a
  // file to its canonical version every night is a finding the first time, not nightly; another version is new.
  const restoredKey = `restored|${source}`;
  const restored = ctx.get<Record<string, number>>(restoredKey) ?? {};
  const which = `${object}|${rollback.restored_version}`;
  if (which in restored) return;
  ctx.set(restoredKey, Object.fromEntries([...Object.entries(restored), [which, Date.parse(ev.time)] as const].slice(-MAX_RESTORED)));
  const operation = carried?.operation ?? ev.operation;
  const readers = `read by training jobs ${readBy.slice(0, 5).join(', ')}${readBy.length > 5 ? ` and ${readBy.length - 5} more` : ''}`;
  ctx.detect({
    entity: namedEntity('data_source', source, named, ev.platform), key: `rollback|${object}`, evidence: carried?.evidence ?? [ev.id], title: 'Training data read by training jobs rolled back to an earlier version',
    ...(lost ? { time: ev.time } : {}),
    summary: lost
      ? `${identity} started rolling back ${object} in parts (${operation}: ${versionRollbackText(rollback)}); ${readers}; whether it was completed can no longer be judged: ${unjudgedText(lost.unjudged)}`
      : `${identity} rolled back ${object} (${operation}: ${versionRollbackText(rollback)}); ${readers}: their next run trains on the earlier version`,
    details: { finding: 'trained_data_rolled_back', identity, source, object, action: ev.action, operation, ip: ev.actor?.ip, read_by: readBy.slice(0, 20), version_rollback: rollback, ...(lost ? { upload_id: lost.upload_id, unjudged: lost.unjudged } : {}), ...(carried?.completes ? { completes_unjudged: carried.completes } : {}) },
  });
}

/** Whether the rule judges what a data write touches: data of a `data_write_stages` stage, or under `training_data_uris`. */
function onJudgedData(ev: NormalizedEvent, ctx: RuleContext, uris: string[]): boolean {
  if (setting<string[]>(ctx, 'data_write_stages').includes(ev.stage)) return true;
  const trainingData = setting<string[]>(ctx, 'training_data_uris');
  return trainingData.length > 0 && uris.some((u) => anyGlob(trainingData, u));
}

/** Uploads in parts to judged data held a week with no completion seen are judged as lost (see multipart.ts). */
export const sweepHeldDataUploads: KindImpl = (_ev, ctx) => sweepHeldUploads(ctx, (lost) => judgeLostDataUpload(lost, ctx), (p) => partWriter(p, ctx));

/**
 * An upload in parts to training data that left the hold unfinished: its first part is judged as the write it started
 * (a stranger's, or a known writer's copy back of data jobs read), said to be one whose completion can no longer be
 * judged. A known writer's plain upload that never completed changes nothing the rule judges: nothing.
 */
function judgeLostDataUpload(lost: LostUpload, ctx: RuleContext): void {
  // Other writers' parts of the upload too (HeldUpload.others): each its writer's; the rollback is the first part's.
  for (const part of [lost.part, ...(lost.others ?? [])]) {
    const identity = identityOf(part.actor, ctx.cfg);
    if (identity && !anyGlob(setting<string[]>(ctx, 'exempt'), identity)) judgeDataWrite(part, ctx, identity, writtenUris(part), undefined, part === lost.part ? lost : { ...lost, part, rollback: undefined });
  }
}

/** Who wrote a part, as the rule learns writers (writerOf): parts of one pipeline's machine sessions are one writer's. */
function partWriter(ev: NormalizedEvent, ctx: RuleContext): string | undefined {
  const identity = identityOf(ev.actor, ctx.cfg);
  return identity === undefined ? undefined : writerOf(identity, ev.actor);
}

export const unfamiliarWriter: KindImpl = (ev, ctx) => {
  sweepHeldDataUploads(ev, ctx);
  if (isJobSubmission(ev)) return learnReaders(ev, ctx);
  if (ev.outcome === 'failure') return;
  const lost = (l: LostUpload) => judgeLostDataUpload(l, ctx);
  // An aborted upload in parts changed nothing: it forgets its held part (see multipart.ts); an abort of an upload to
  // data the rule does not judge is not remembered (the bounded map would lose the ones that matter).
  if (ev.operation === 'AbortMultipartUpload') return void heldUpload(ev, ctx, () => onJudgedData(ev, ctx, writtenUris(ev)), lost);
  if (!anyGlob(setting(ctx, 'data_write_actions'), ev.action)) return;
  const uris = writtenUris(ev);
  if (!onJudgedData(ev, ctx, uris)) return;
  // Written in parts, the data changes only when the upload completes: the parts are held (data this rule judges: the
  // tests above), and the completion is judged as the write, its first part beside it. Before the exempt test, so an
  // exempt identity's completion still ends the upload it completes.
  const carried = heldUpload(ev, ctx, () => true, lost, (p) => partWriter(p, ctx));
  if (carried === 'skip') return;
  // Parts another writer added to the upload (anyone holding its id and allowed to write may, and a completion built
  // from ListParts takes them): their bytes are in the object too, each judged as its writer's write, whoever completed.
  for (const part of carried?.otherWriters ?? []) {
    const by = identityOf(part.actor, ctx.cfg);
    if (by && !anyGlob(setting<string[]>(ctx, 'exempt'), by)) judgeDataWrite(part, ctx, by, writtenUris(part), { evidence: [part.id, ev.id], operation: `${part.operation}, made current by CompleteMultipartUpload` });
  }
  const identity = identityOf(ev.actor, ctx.cfg);
  if (!identity || anyGlob(setting<string[]>(ctx, 'exempt'), identity)) return;
  judgeDataWrite(ev, ctx, identity, uris, carried);
};

/**
 * A write to judged data by `identity` (not exempt): a stranger's is a finding, a known writer's rollback of data jobs
 * read is one; then the writer is learned. `carried`: what the completion of an upload in parts carries; `lost`: the
 * write is the first part of an upload that left the hold unfinished.
 */
function judgeDataWrite(ev: NormalizedEvent, ctx: RuleContext, identity: string, uris: string[], carried?: CarriedUpload, lost?: LostUpload): void {
  const who = writerOf(identity, ev.actor);
  const object = uris[0];
  const named = (object && datasetRoot(object)) ?? sourceOf(ev);
  // A bucket is global; a named source (a SageMaker feature group) is unique only in its account and region: the dev
  // and prod accounts' `churn-features` from one template have their own writers.
  const source = /^[a-z0-9+.-]+:\/\//i.test(named) ? named : scopedName(named, scopeOf(ev));
  const t = Date.parse(ev.time);
  const minHistory = durationMs(setting(ctx, 'min_history'));
  // `writers|` a source's, `bucket-writers|` a whole bucket's (a bucket laid out by date is a source itself).
  const load = (prefix: string, where: string) => {
    const w = ctx.get<Writers>(`${prefix}|${where}`) ?? { first: t, writers: {} };
    if (t < w.first) w.first = t;
    return { prefix, where, w };
  };
  const learned = load('writers', source);
  // The bucket as a whole too: a folder a poisoner makes beside the datasets a job reads from the bucket's root
  // would otherwise be a new source, unjudged.
  const store = object ? storeOf(object) : undefined;
  const bucket = store ? load('bucket-writers', store) : undefined;
  const judgedBy = (x: { w: Writers }) => Object.keys(x.w.writers).length > 0 && t - x.w.first >= minHistory;
  // A young source is still learning who feeds it: its first pipeline is no intruder. Its very first writer, though,
  // makes it: judged by the bucket's writers, once those are learned.
  const fresh = Object.keys(learned.w.writers).length === 0;
  const by = judgedBy(learned) ? learned : fresh && bucket && store !== source && judgedBy(bucket) ? bucket : undefined;
  // A part copied back from an earlier version is a rollback once its upload completes: the completion carries it.
  const rollback = carried ? carried.rollback : lost ? lost.rollback : versionRollbackOf(ev, object);
  const operation = carried?.operation ?? ev.operation;
  if (by && !(who in by.w.writers)) {
    const known = Object.keys(by.w.writers);
    // What a copy or an import brought in: where the data came from.
    const copied = ev.ml?.data?.inputs ?? [];
    const readBy = readersOf(ctx, source, object);
    ctx.detect({
      entity: namedEntity('data_source', source, named, ev.platform), key: who, evidence: carried?.evidence ?? [ev.id], title: 'Training data written by an identity that never wrote there',
      ...(lost ? { time: ev.time } : {}),
      summary: `${identity} ${lost ? 'started writing' : (PAST[ev.action.split('.').pop()!] ?? ev.action)} ${object ?? source}${lost ? ' in parts' : ''}${copied.length ? ` from ${copied[0]}` : ''} (${operation}${rollback ? `: ${versionRollbackText(rollback)}` : ''}); ${by === learned ? source : `${source} is new; ${by.where}`} has been written only by ${known.slice(0, 5).join(', ')}${known.length > 5 ? ` and ${known.length - 5} more` : ''} since ${new Date(by.w.first).toISOString().slice(0, 10)}${readBy.length ? `; read by training jobs ${readBy.slice(0, 5).join(', ')}` : ''}${lost ? `; whether the upload was completed can no longer be judged: ${unjudgedText(lost.unjudged)}` : ''}${carried?.completes ? completedReportText(carried.completes) : ''}`,
      details: { identity, source, object, action: ev.action, operation, ip: ev.actor?.ip, inputs: copied.length ? copied.slice(0, 20) : undefined, known_writers: known.slice(0, 20), known_writers_of: by === learned ? undefined : by.where, read_by: readBy.length ? readBy.slice(0, 20) : undefined, version_rollback: rollback, ...(lost ? { upload_id: lost.upload_id, unjudged: lost.unjudged } : {}), ...(carried?.completes ? { completes_unjudged: carried.completes } : {}) },
    });
  }
  // A writer not judged a stranger here (known, or the source still learning) rolling back data jobs trained on.
  else if (rollback && object) judgeTrainedDataRollback(ev, ctx, { identity, source, named, object, rollback, carried, lost });
  // Learned after judging (as schema_mismatch accepts a change once alerted): a new pipeline alerts once, not daily.
  for (const x of bucket ? [learned, bucket] : [learned]) {
    x.w.writers[who] = Math.max(x.w.writers[who] ?? 0, t);
    const entries = Object.entries(x.w.writers);
    if (entries.length > MAX_WRITERS) x.w.writers = Object.fromEntries(entries.sort((a, b) => b[1] - a[1]).slice(0, MAX_WRITERS));
    ctx.set(`${x.prefix}|${x.where}`, x.w);
  }
}

interface FamilySources {
  runs: number;
  sources: string[];
  event: string;
}

/**
 * What a run is judged against: a job's family, or for an MLflow run behind a registered version (the registry
 * auditor's `run.provenance`: its `mlflow.log_input` datasets) the model — MLflow run names are random words.
 */
function lineageOf(ev: NormalizedEvent): { entity: { type: string; id: string; name?: string; platform: string }; family: string; job: string } | undefined {
  const job = jobNameOf(ev) ?? ev.resource?.id;
  const model = ev.ml?.model?.name;
  if (ev.action === 'run.provenance' && model) return { entity: { type: 'model', id: model, platform: ev.platform }, family: `model:${model}`, job: job ?? model };
  if (!isJobSubmission(ev) || !job) return undefined;
  // A SageMaker family in its account: the dev and prod accounts' pipeline of one name read their own buckets.
  const entity = jobEntity(ev, job);
  return { entity, family: entity.id, job };
}

export const unfamiliarDataSource: KindImpl = (ev, ctx) => {
  if (ev.stage !== 'training' || ev.outcome === 'failure') return;
  const lineage = lineageOf(ev);
  // Once each: a run's datasets are both its data inputs and its provenance inputs.
  const inputs = [...new Set(inputsOf(ev).filter((u) => /^[a-z0-9+.-]+:\/\//i.test(u)))];
  // A fine-tuning job's base model named as a model (a Vertex tuning job's `baseModel`), not a location: a source of
  // its own, `model:<name>`, whole (another model is other weights). One given as a location (a SageMaker `model`
  // channel) is among the inputs already, judged by its bucket.
  const baseModel = ev.ml?.job?.base_model;
  const base = baseModel && !/^[a-z0-9+.-]+:\/\//i.test(baseModel) ? baseModel : undefined;
  if (!lineage || (!inputs.length && !base)) return;
  const { entity, family, job } = lineage;
  const k = `sources|${family}`;
  const learned = ctx.get<FamilySources>(k) ?? { runs: 0, sources: [], event: ev.id };
  const baseSource = base ? `model:${base}` : undefined;
  const stores = [...new Set([...inputs.map(storeOf), ...(baseSource ? [baseSource] : [])])];
  const fresh = stores.filter((s) => !learned.sources.includes(s));
  const allowed = setting<string[]>(ctx, 'allowed_sources');
  const unexpected = fresh.filter((s) => (s === baseSource ? !anyGlob(allowed, base!) : !inputs.filter((u) => storeOf(u) === s).every((u) => anyGlob(allowed, u))));
  if (unexpected.length && learned.runs >= setting<number>(ctx, 'min_runs')) {
    const newInputs = inputs.filter((u) => unexpected.includes(storeOf(u)));
    const newBase = baseSource && unexpected.includes(baseSource) ? base : undefined;
    // A new base model is said as one (a run that tunes unfamiliar weights), not as data it reads.
    const did = [newInputs.length ? `reads ${newInputs.slice(0, 3).join(', ')}` : '', newBase ? `tunes base model ${newBase}` : ''].filter(Boolean).join(' and ');
    const earlierModels = learned.sources.filter((s) => s.startsWith('model:')).map((s) => s.slice('model:'.length));
    const earlierData = learned.sources.filter((s) => !s.startsWith('model:'));
    const earlier = newBase
      ? [earlierData.length ? `read only ${earlierData.slice(0, 5).join(', ')}` : '', earlierModels.length ? `tuned only ${earlierModels.slice(0, 5).join(', ')}` : 'tuned no base model'].filter(Boolean).join(' and ')
      : `read only ${learned.sources.slice(0, 5).join(', ')}`;
    const title = newBase
      ? newInputs.length ? 'Training job reads data from a location its family never read and tunes a base model it never tuned' : 'Training job tunes a base model its family never tuned'
      : 'Training job reads data from a location its family never read';
    ctx.detect({
      entity, key: unexpected.join(','), evidence: [learned.event, ev.id], title,
      summary: `${job} ${did}; the ${learned.runs} earlier runs ${entity.type === 'model' ? `behind versions of model ${entity.id}` : `of ${entity.name ?? entity.id}`} ${earlier}`,
      details: { job, submitted_by: identityOf(ev.actor, ctx.cfg), inputs: newInputs.length ? newInputs.slice(0, 20) : undefined, base_model: newBase, known_sources: learned.sources.slice(0, 20) },
    });
  }
  learned.runs++;
  learned.sources = [...learned.sources, ...fresh].slice(-MAX_SOURCES);
  learned.event = ev.id;
  ctx.set(k, learned);
};
