import { stableId, type NormalizedEvent } from '../../core/schema/index.js';
import { createHash } from 'node:crypto';
import type { LoggedModel, Run } from './client.js';
import { auditEvent, versionResource, type AuditDraft } from './events.js';
import { iso, kv, type RunMetricsRecord, type VersionSnap } from './snapshot.js';
import { safeUri } from './uri.js';

/**
 * Training provenance (stage training) and evaluation metrics (stage
 * evaluation) events from the run that produced a model version.
 *
 * @example
 * runEvents(versionSnap(mv), await client.getRun(mv.run_id, signal), Date.now(), new Date().toISOString())
 */
export function runEvents(v: VersionSnap, run: Run, now: number, receivedTime: string, opts: RunIdentityOptions = {}): NormalizedEvent[] {
  const base = (d: AuditDraft) => auditEvent(d, receivedTime);
  const tags = kv(run.data?.tags);
  const params = kv(run.data?.params);
  const metrics: Record<string, number> = {};
  for (const m of run.data?.metrics ?? []) if (Number.isFinite(m.value)) metrics[m.key] = m.value;
  const datasets = (run.inputs?.dataset_inputs ?? []).map((d) => d.dataset).filter((d) => !!d);
  const inputs = datasets.map((d) => safeUri(datasetLocation(d!.source)) ?? (d!.name ? `${d!.name}${d!.digest ? `@${d!.digest}` : ''}` : undefined)).filter((s): s is string => !!s);
  const runId = run.info.run_id ?? run.info.run_uuid ?? v.run_id!;
  const claimed = tags['mlflow.user'] || run.info.user_id || undefined;
  const who = runIdentity(tags, claimed, claimed ? (tags['mlflow.user'] ? 'run tag mlflow.user (client-asserted)' : 'run info user_id (client-asserted at CreateRun)') : undefined, opts);
  const user = who.user;
  const modelRef = `models:/${v.name}/${v.version}`;
  const model = { name: v.name, version: v.version, run_id: runId, artifact_uri: safeUri(v.source) };
  const out: NormalizedEvent[] = [
    base({
      id: stableId('mlflow', 'audit', 'provenance', v.name, v.version, v.creation_timestamp, runId), time: iso(run.info.end_time ?? run.info.start_time, now, run.info.end_time !== undefined ? 'end_time' : 'start_time'),
      stage: 'training', action: 'run.provenance', operation: 'runs/get', outcome: run.info.status === 'FAILED' ? 'failure' : 'success',
      actor: user ? { id: user, name: user, type: 'user' } : undefined,
      resource: { type: 'run', id: runId, name: run.info.run_name, namespace: run.info.experiment_id },
      ml: {
        model,
        code: { repo: tags['mlflow.source.git.repoURL'], commit: tags['mlflow.source.git.commit'], source: tags['mlflow.source.name'] },
        job: { name: run.info.run_name, type: tags['mlflow.source.type'], status: run.info.status, image: tags['mlflow.docker.image.uri'], params },
        data: inputs.length ? { inputs } : undefined,
        provenance: { run_id: runId, parent_run_id: tags['mlflow.parentRunId'], inputs: inputs.length ? inputs : undefined, outputs: [modelRef] },
      },
      details: {
        // mlflow.* run tags and user_id are written by the logging client: who they name is asserted, not verified.
        ...who.details,
        git_branch: tags['mlflow.source.git.branch'], datasets: datasets.length ? datasets.map((d) => ({ ...d, source: safeDatasetSource(d!.source) })) : undefined, artifact_uri: safeUri(run.info.artifact_uri),
        experiment_id: run.info.experiment_id, start_time: iso(run.info.start_time, now, 'start_time'),
      },
    }),
  ];
  out.push(...datasetInputEvents(run, runId, user, model, now, receivedTime));
  if (Object.keys(metrics).length) {
    out.push(base({
      id: stableId('mlflow', 'audit', 'evaluation', v.name, v.version, v.creation_timestamp, runId), time: iso(run.info.end_time ?? run.info.start_time, now, run.info.end_time !== undefined ? 'end_time' : 'start_time'),
      stage: 'evaluation', action: 'evaluation.metrics', operation: 'runs/get', resource: versionResource(v, false),
      actor: user ? { id: user, name: user, type: 'user' } : undefined, ml: { model, metrics, provenance: { run_id: runId } },
      details: { metric_steps: Object.fromEntries((run.data?.metrics ?? []).map((m) => [m.key, m.step])), ...who.details },
    }));
  }
  return out;
}

/**
 * Evaluation metrics of an MLflow 3 logged model that runs other than the version's own logged for it (stage
 * evaluation): `mlflow.evaluate` / `mlflow.genai.evaluate` of `models:/m-…` (or with `model_id`) record their metrics
 * in an evaluation run of their own, linked to the model by `model_id`, where the version's run (`runs/get`) does not
 * show them. One `evaluation.metrics` per run, as for the version's run; its id is the metrics' own, so reading the
 * same metrics again adds nothing.
 *
 * @example
 * loggedModelEvaluations(versionSnap(mv), await client.getLoggedModel(mv.model_id, signal), Date.now(), new Date().toISOString())
 */
export function loggedModelEvaluations(v: VersionSnap, lm: LoggedModel, now: number, receivedTime: string, runs: ReadonlyMap<string, EvaluationRun> = new Map(), opts: RunIdentityOptions = {}): NormalizedEvent[] {
  const byRun = new Map<string, NonNullable<NonNullable<LoggedModel['data']>['metrics']>>();
  for (const m of lm.data?.metrics ?? []) {
    // The version's own run is read whole by runEvents.
    if (!Number.isFinite(m.value) || (m.run_id && m.run_id === v.run_id)) continue;
    const run = m.run_id ?? '';
    byRun.set(run, [...(byRun.get(run) ?? []), m]);
  }
  const out: NormalizedEvent[] = [];
  for (const [runId, list] of [...byRun].sort(([a], [b]) => (a < b ? -1 : 1))) {
    // The latest value of each key (metrics are logged per step and dataset), as a run's metrics are.
    const latest = new Map<string, (typeof list)[number]>();
    for (const m of list) {
      const k = m.key;
      const had = latest.get(k);
      if (!had || (m.timestamp ?? 0) > (had.timestamp ?? 0) || ((m.timestamp ?? 0) === (had.timestamp ?? 0) && (m.step ?? 0) >= (had.step ?? 0))) latest.set(k, m);
    }
    const metrics = Object.fromEntries([...latest].map(([k, m]) => [k, m.value]));
    const datasets = [...new Map(list.filter((m) => m.dataset_name).map((m) => [`${m.dataset_name}@${m.dataset_digest ?? ''}`, { name: m.dataset_name, digest: m.dataset_digest }])).values()];
    const last = Math.max(...list.map((m) => m.timestamp ?? 0));
    const digest = createHash('sha256').update(JSON.stringify([...latest].map(([k, m]) => [k, m.value, m.step, m.timestamp]).sort())).digest('hex');
    const author = evaluationAuthor(runs.get(runId), runId, opts);
    out.push(auditEvent({
      id: stableId('mlflow', 'audit', 'logged_model_evaluation', v.name, v.version, v.creation_timestamp, lm.info.model_id, runId, digest),
      time: iso(last > 0 ? last : undefined, now, 'timestamp'), stage: 'evaluation', action: 'evaluation.metrics', operation: 'logged-models/get',
      resource: versionResource(v, false),
      ...(author.user ? { actor: { id: author.user, name: author.user, type: 'user' as const } } : {}),
      ml: { model: { name: v.name, version: v.version, run_id: v.run_id, artifact_uri: safeUri(v.source) }, metrics, provenance: { run_id: runId || undefined } },
      details: {
        model_id: lm.info.model_id, evaluation_run_id: runId || undefined, datasets: datasets.length ? datasets : undefined,
        metric_steps: Object.fromEntries([...latest].map(([k, m]) => [k, m.step])),
        ...author.details,
      },
    }, receivedTime));
  }
  return out;
}

/** An evaluation run of a logged model as the auditor read it (`runs/get`), or why it could not. */
export type EvaluationRun = { run: Run } | { error: string };

/**
 * Who logged an evaluation run's metrics, as far as MLflow tells: the run's `info.user_id`, which the client sends
 * with CreateRun and MLflow stores as sent (`_create_run` takes the request's `user_id`, not the login) and which no
 * later call changes, else its `mlflow.user` tag (also the client's, and any editor of the run may set it again).
 * MLflow records no author per metric: whoever may log to the run may add metrics to it, under any timestamp. So this names the run's author, claimed by its client, never proven; a run the auditor
 * could not read (deleted, no READ on its experiment) or one naming no user gives no author (`evaluation_author_unknown`).
 */
function evaluationAuthor(read: EvaluationRun | undefined, runId: string, opts: RunIdentityOptions): { user?: string; details: Record<string, unknown> } {
  if (!runId) return { details: { evaluation_author_unknown: 'the metrics name no run' } };
  if (!read) return { details: { evaluation_author_unknown: 'the evaluation run was not read' } };
  if ('error' in read) return { details: { evaluation_author_unknown: `the evaluation run could not be read: ${read.error}` } };
  const info = read.run.info;
  const tag = kv(read.run.data?.tags)['mlflow.user'];
  const claimed = info.user_id || tag || undefined;
  const run = { experiment_id: info.experiment_id, status: info.status, user_id: info.user_id || undefined, mlflow_user: tag || undefined, start_time: info.start_time, end_time: info.end_time };
  const who = runIdentity(kv(read.run.data?.tags), claimed, claimed ? (info.user_id ? 'evaluation run info user_id (client-asserted at CreateRun)' : 'evaluation run tag mlflow.user (client-asserted)') : undefined, opts);
  if (!who.user) return { details: { evaluation_author_unknown: 'the evaluation run names no user (user_id, mlflow.user)', evaluation_run: run, ...who.details } };
  // Claimed by the logging client unless the operator's tag says who logged in: the rules count such evidence only with an author.
  return { user: who.user, details: { ...who.details, evaluation_run: run } };
}

/** How the auditor tells who made a run (`poll.authenticated_user_tag`). */
export interface RunIdentityOptions {
  /** A run tag the operator's deployment sets from the authenticated login, clients unable to set it. */
  authenticatedUserTag?: string;
}

/**
 * Who a run's events name, and on what ground. MLflow stores a run's `user_id` as the client sent it (`_create_run`
 * takes the request's field, not the login; the basic-auth app checks the login's permission on the experiment and
 * leaves `user_id` alone) and `mlflow.user` is a tag any editor of the run may set: both are claims. Where the operator
 * names a tag their deployment writes from the login (`authenticatedUserTag`) and the run carries it, that login is the
 * actor — what the rules judge (separation of duties, evaluation authorship) — and a claim naming someone else is kept
 * as `details.claimed_user` with `claimed_user_differs: true`, never judged. Otherwise the claim is the actor, said so by
 * `actor_source` and `claimed_user` (and `authenticated_user_missing` when the tag is configured but absent: a run
 * made around the proxy).
 *
 * @example
 * runIdentity({ 'mltrail.login': 'alice' }, 'bob', 'run info user_id (client-asserted at CreateRun)', { authenticatedUserTag: 'mltrail.login' })
 * // { user: 'alice', details: { actor_source: 'run tag mltrail.login (authenticated login, set by the operator\'s deployment)', authenticated_user: 'alice', claimed_user: 'bob', claimed_user_differs: true } }
 */
export function runIdentity(tags: Record<string, string>, claimed: string | undefined, claimedSource: string | undefined, opts: RunIdentityOptions): { user?: string; details: Record<string, unknown> } {
  const tag = opts.authenticatedUserTag;
  const login = tag ? tags[tag]?.trim() || undefined : undefined;
  if (tag && login) {
    return {
      user: login,
      details: {
        actor_source: `run tag ${tag} (authenticated login, set by the operator's deployment)`, authenticated_user: login,
        ...(claimed && claimed !== login ? { claimed_user: claimed, claimed_user_differs: true } : {}),
      },
    };
  }
  if (!claimed) return { details: tag ? { authenticated_user_missing: `run tag ${tag} is not set` } : {} };
  return { user: claimed, details: { actor_source: claimedSource, claimed_user: claimed, ...(tag ? { authenticated_user_missing: `run tag ${tag} is not set` } : {}) } };
}

/**
 * One `dataset.read` (stage ingestion) per dataset the run logged with `mlflow.log_input` (`inputs.dataset_inputs`),
 * what MLflow tells of it: the data source is the dataset's name within the run's experiment
 * (`dataset:experiments/<experiment id>/datasets/<name>`: the runs of one experiment logging a dataset of one name are
 * its runs), `ml.data.uris` its location, `ml.data.schema_hash` the sha256 of the schema MLflow stored with it (its
 * `mlflow_colspec` JSON, as logged: ingestion.schema_mismatch learns it per source), `ml.data.rows` its profile's
 * `num_rows`, `details.dataset_digest` the digest MLflow computed over its content (the rule compares it with the
 * previous run's where `digest_sources` asks). Its id is the run's, dataset's and digest's: two versions of one run
 * are one read.
 */
function datasetInputEvents(run: Run, runId: string, user: string | undefined, model: NonNullable<NormalizedEvent['ml']>['model'], now: number, receivedTime: string): NormalizedEvent[] {
  const out: NormalizedEvent[] = [];
  for (const input of run.inputs?.dataset_inputs ?? []) {
    const d = input.dataset;
    if (!d?.name) continue;
    const location = safeUri(datasetLocation(d.source));
    const schemaHash = d.schema ? `sha256:${createHash('sha256').update(d.schema).digest('hex')}` : undefined;
    // MLflow names a dataset logged without one `dataset` (mlflow.data's Dataset.name): every unnamed frame of the
    // experiment — a notebook's features, another's labels — would share one source and alternate schemas, so its
    // schema is kept in details only, not learned as the source's.
    const unnamed = d.name === DEFAULT_DATASET_NAME;
    const rows = profileRows(d.profile);
    const context = kv(input.tags)['mlflow.data.context'];
    const experiment = run.info.experiment_id ?? '';
    out.push(auditEvent({
      id: stableId('mlflow', 'audit', 'dataset_input', runId, d.name, d.digest ?? '', d.source ?? ''), time: iso(run.info.start_time, now, 'start_time'),
      stage: 'ingestion', action: 'dataset.read', operation: 'runs/get',
      actor: user ? { id: user, name: user, type: 'user' } : undefined,
      resource: { type: 'dataset', id: `experiments/${experiment}/datasets/${d.name}`, namespace: run.info.experiment_id },
      ml: {
        model,
        data: { ...(location ? { uris: [location] } : {}), ...(schemaHash && !unnamed ? { schema_hash: schemaHash } : {}), ...(rows !== undefined ? { rows } : {}) },
        provenance: { run_id: runId },
      },
      details: {
        dataset_name: d.name, dataset_digest: d.digest, dataset_source_type: d.source_type, dataset_source: safeDatasetSource(d.source), dataset_context: context,
        experiment_id: run.info.experiment_id, run_name: run.info.run_name,
        ...(unnamed && schemaHash ? { dataset_schema_hash: schemaHash, schema_not_learned: 'dataset logged without a name (MLflow calls it "dataset")' } : {}),
        actor_source: user ? 'run tag mlflow.user or info user_id (client-asserted)' : undefined,
      },
    }, receivedTime));
  }
  return out;
}

/** The name MLflow gives a dataset logged without one (`mlflow.data.dataset.Dataset.name`). */
const DEFAULT_DATASET_NAME = 'dataset';

/** A dataset profile's row count (`{"num_rows": 1000, "num_elements": 9000}`, a pandas dataset's), if it tells one. */
function profileRows(profile: string | undefined): number | undefined {
  if (!profile) return undefined;
  try {
    const n = (JSON.parse(profile) as Record<string, unknown>).num_rows;
    return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
  } catch {
    return undefined; // a profile of another shape: MLflow stores what the dataset class wrote
  }
}

/** Keys of a dataset source's JSON that name where the data is (file/S3 `uri`, HTTP `url`, HF/Delta/Spark `path`, tables). */
const LOCATION_KEYS = ['uri', 'url', 'path', 'table_name', 'delta_table_name'] as const;

/** A dataset source (JSON or plain location) with credentials removed from the locations in it. */
function safeDatasetSource(source: string | undefined): string | undefined {
  if (!source?.trimStart().startsWith('{')) return safeUri(source);
  try {
    const j = JSON.parse(source) as Record<string, unknown>;
    let changed = false;
    for (const k of LOCATION_KEYS) {
      if (typeof j[k] === 'string' && safeUri(j[k] as string) !== j[k]) {
        j[k] = safeUri(j[k] as string);
        changed = true;
      }
    }
    return changed ? JSON.stringify(j) : source; // as MLflow stored it unless a credential was removed
  } catch {
    return safeUri(source);
  }
}

/**
 * Where a run's dataset input came from. MLflow stores `dataset.source` as the
 * source's `to_json()` (`{"uri": "s3://bucket/train.parquet"}`), not as a URI:
 * the location inside it is what URI-prefix rules must see.
 *
 * @example
 * datasetLocation('{"uri": "s3://data/tx.parquet"}') // 's3://data/tx.parquet'
 */
export function datasetLocation(source: string | undefined): string | undefined {
  if (!source) return undefined;
  if (!source.trimStart().startsWith('{')) return source; // already a plain location (older clients, hand-logged)
  try {
    const j = JSON.parse(source) as Record<string, unknown>;
    for (const k of LOCATION_KEYS) if (typeof j[k] === 'string' && j[k]) return j[k] as string;
  } catch {
    // not JSON after all: keep it as written
    return source;
  }
  return undefined; // a source without a location (e.g. code): fall back to name@digest
}

/** At most this many metric keys of a run are kept to compare at approval (a run logging thousands keeps its first). */
const MAX_KEPT_METRICS = 500;

/**
 * Each metric key's latest value of a run as `runs/get` shows it (MLflow's latest: the highest `step`, then timestamp),
 * with its step and the timestamp its client gave it: what the auditor keeps at registration (RunMetricsRecord).
 */
export function runMetricsOf(run: Run): RunMetricsRecord['metrics'] {
  const out: RunMetricsRecord['metrics'] = {};
  for (const m of run.data?.metrics ?? []) {
    if (!Number.isFinite(m.value) || Object.keys(out).length >= MAX_KEPT_METRICS) continue;
    out[m.key] = { value: m.value, ...(m.step !== undefined ? { step: m.step } : {}), ...(m.timestamp !== undefined ? { timestamp: m.timestamp } : {}) };
  }
  return out;
}

/**
 * How far a metric's client timestamp may be before the registration read and still be no backdated value: the client
 * that logs an evaluation after registration (a laptop, a CI runner) keeps its own clock, minutes off the auditor's.
 */
const BACKDATE_SKEW_MS = 5 * 60_000;

/** A metric of a version's run whose value at approval is not the one read at registration. */
export interface RewrittenMetric {
  key: string;
  value: number;
  step?: number;
  timestamp?: number;
  /** Unset: the key was first logged after the registration read. */
  registered_value?: number;
  registered_step?: number;
  registered_timestamp?: number;
  /** The new value's client timestamp is before the registration read although the auditor did not see it then: backdated. */
  backdated?: true;
}

/**
 * The version's run read again at an approval (an approval alias, stage or tag the auditor saw this cycle), compared
 * with what it read at registration: one `evaluation.metrics` event (stage evaluation) carrying the run's metrics as
 * they are now — so the rules judge the approval on them, not on the registration-time values — and
 * `details.metrics_changed_after_registration` naming each value logged or overwritten since, or none when nothing
 * changed. MLflow keeps a metric's whole history but shows its value of the highest step, and a client may log any
 * step and timestamp: only the comparison with the earlier read, not the timestamps, tells what was written after it.
 * Its id is the changed values', so the same rewrite read at a second approval adds nothing.
 *
 * @example
 * metricsRewrittenEvent(v, run, state.get(NS, runMetricsKey(v.name, v.version)), approvedAt, Date.now(), new Date().toISOString())
 */
export function metricsRewrittenEvent(v: VersionSnap, run: Run, registered: RunMetricsRecord, approvedAt: string, now: number, receivedTime: string, opts: RunIdentityOptions = {}): NormalizedEvent | undefined {
  const current = runMetricsOf(run);
  const readAt = Date.parse(registered.read_at);
  const changed: RewrittenMetric[] = [];
  for (const [key, m] of Object.entries(current)) {
    const was = registered.metrics[key];
    // MLflow leaves out a step of 0 in some versions' answers: the same step either way.
    if (was && was.value === m.value && (was.step ?? 0) === (m.step ?? 0) && was.timestamp === m.timestamp) continue;
    changed.push({
      key, value: m.value, step: m.step, timestamp: m.timestamp,
      ...(was ? { registered_value: was.value, registered_step: was.step, registered_timestamp: was.timestamp } : {}),
      ...(m.timestamp !== undefined && Number.isFinite(readAt) && m.timestamp <= readAt - BACKDATE_SKEW_MS ? { backdated: true as const } : {}),
    });
  }
  if (!changed.length) return undefined;
  const tags = kv(run.data?.tags);
  const runId = run.info.run_id ?? run.info.run_uuid ?? registered.run_id;
  const claimed = tags['mlflow.user'] || run.info.user_id || undefined;
  const who = runIdentity(tags, claimed, claimed ? (tags['mlflow.user'] ? 'run tag mlflow.user (client-asserted)' : 'run info user_id (client-asserted at CreateRun)') : undefined, opts);
  const digest = createHash('sha256').update(JSON.stringify(changed.map((c) => [c.key, c.value, c.step, c.timestamp]))).digest('hex');
  return auditEvent({
    id: stableId('mlflow', 'audit', 'evaluation_rewritten', v.name, v.version, v.creation_timestamp, runId, digest), time: iso(undefined, now),
    stage: 'evaluation', action: 'evaluation.metrics', operation: 'runs/get', resource: versionResource(v, false),
    actor: who.user ? { id: who.user, name: who.user, type: 'user' } : undefined,
    ml: { model: { name: v.name, version: v.version, run_id: runId, artifact_uri: safeUri(v.source) }, metrics: Object.fromEntries(Object.entries(current).map(([k, m]) => [k, m.value])), provenance: { run_id: runId } },
    details: {
      metrics_changed_after_registration: changed, registered_read_at: registered.read_at, registered_run_status: registered.run_status, approved_at: approvedAt,
      metric_steps: Object.fromEntries(Object.entries(current).map(([k, m]) => [k, m.step])), ...who.details,
    },
  }, receivedTime);
}

/** The `model_uuid` an MLmodel file names (`model_uuid: 1e5c…`), as `mlflow.evaluate` names the model it evaluated. */
export function modelUuidOf(mlmodel: string | undefined): string | undefined {
  const m = mlmodel ? /^model_uuid:\s*['"]?([0-9a-fA-F-]{32,36})['"]?\s*$/m.exec(mlmodel) : undefined;
  return m?.[1]?.toLowerCase();
}

/** The search filter that finds runs whose `mlflow.datasets` tag names a model_uuid. */
export const evaluationRunFilter = (modelUuid: string) => `tags.\`mlflow.datasets\` LIKE '%"model":"${modelUuid}"%'`;

/**
 * Evaluation runs of MLflow 2's `mlflow.evaluate(model="models:/fraud/2", …)`: it logs its metrics in a run of its own
 * and names the model it evaluated only by its MLmodel `model_uuid`, in the run's `mlflow.datasets` tag
 * (`[{"name":…,"hash":…,"model":"<model_uuid>"}]`): one `evaluation.metrics` (operation `runs/search`) per run that
 * names this version's model_uuid there — the version's own run aside, read by runEvents — with the run's metrics and
 * its author, so the rules compare and judge them as the version's. Its id is the metrics', so reading them again adds
 * nothing. A run whose tag only mentions the uuid elsewhere (the LIKE filter is loose) is not one.
 *
 * @example
 * evaluationRunEvents(v, modelUuid, await client.searchRuns([experiment], evaluationRunFilter(modelUuid), 20, signal), Date.now(), receivedTime)
 */
export function evaluationRunEvents(v: VersionSnap, modelUuid: string, runs: Run[], now: number, receivedTime: string, opts: RunIdentityOptions = {}): NormalizedEvent[] {
  const out: NormalizedEvent[] = [];
  for (const run of runs) {
    const runId = run.info.run_id ?? run.info.run_uuid;
    if (!runId || runId === v.run_id) continue;
    const tags = kv(run.data?.tags);
    let named: Array<{ name?: unknown; hash?: unknown; model?: unknown }> = [];
    try {
      const parsed = JSON.parse(tags['mlflow.datasets'] ?? '[]') as unknown;
      if (Array.isArray(parsed)) named = parsed.filter((d): d is { model?: unknown } => !!d && typeof d === 'object');
    } catch {
      continue; // not the tag mlflow.evaluate writes
    }
    const evaluated = named.filter((d) => typeof d.model === 'string' && d.model.toLowerCase() === modelUuid);
    if (!evaluated.length) continue;
    const metrics = runMetricsOf(run);
    if (!Object.keys(metrics).length) continue;
    const claimed = tags['mlflow.user'] || run.info.user_id || undefined;
    const who = runIdentity(tags, claimed, claimed ? (tags['mlflow.user'] ? 'run tag mlflow.user (client-asserted)' : 'run info user_id (client-asserted at CreateRun)') : undefined, opts);
    const digest = createHash('sha256').update(JSON.stringify(Object.entries(metrics).map(([k, m]) => [k, m.value, m.step, m.timestamp]).sort())).digest('hex');
    out.push(auditEvent({
      id: stableId('mlflow', 'audit', 'evaluation_run', v.name, v.version, v.creation_timestamp, runId, digest), time: iso(run.info.end_time ?? run.info.start_time, now, run.info.end_time !== undefined ? 'end_time' : 'start_time'),
      stage: 'evaluation', action: 'evaluation.metrics', operation: 'runs/search', resource: versionResource(v, false),
      actor: who.user ? { id: who.user, name: who.user, type: 'user' } : undefined,
      ml: { model: { name: v.name, version: v.version, run_id: v.run_id, artifact_uri: safeUri(v.source) }, metrics: Object.fromEntries(Object.entries(metrics).map(([k, m]) => [k, m.value])), provenance: { run_id: runId } },
      details: {
        evaluation_run_id: runId, linked_by: 'mlflow.datasets model_uuid', model_uuid: modelUuid,
        datasets: evaluated.map((d) => ({ name: d.name, hash: d.hash })), experiment_id: run.info.experiment_id,
        metric_steps: Object.fromEntries(Object.entries(metrics).map(([k, m]) => [k, m.step])), ...who.details,
      },
    }, receivedTime));
  }
  return out;
}
