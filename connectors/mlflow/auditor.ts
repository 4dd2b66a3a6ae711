import type { ConnectorDeps, Poller } from '../../core/connector.js';
import { diffManifests } from '../../core/integrity/manifest.js';
import { describe as describeError, type RetryPolicy } from '../../core/retry/index.js';
import { fromServer, fromWorkspace, MLFLOW_DEFAULT_WORKSPACE, stableId, workspaceScope, type NormalizedEvent } from '../../core/schema/index.js';
import { confirmAbsent } from './absence.js';
import { approvalOfVersion } from './approval.js';
import { manifestOf, resolveArtifactLocation } from './artifacts.js';
import { packageSourceFactsOfCondaYaml, packageSourceFactsOfRequirements } from '../../core/integrity/packages.js';
import { MlflowApiError, MlflowClient, type LoggedModel, type ModelVersion, type RegisteredModel } from './client.js';
import type { MlflowConfig } from './config.js';
import { baselineState, registryDiffer } from './diff.js';
import { AUDIT_CHANNEL, auditEvent, versionResource, type AuditDraft } from './events.js';
import { evaluationRunEvents, evaluationRunFilter, loggedModelEvaluations, metricsRewrittenEvent, modelUuidOf, runEvents, runMetricsOf, type EvaluationRun } from './provenance.js';
import { loggedModelIdOf } from './artifacts.js';
import { hubModelsOfMlmodel } from './mlmodel.js';
import type { HubModel } from '../../core/integrity/hub.js';
import { safeUri } from './uri.js';
import { ownSnapshot, webhookCuts, webhookSnap, type WebhookSnap } from './webhooks.js';
import {
  NS as DEFAULT_NS, PENDING_MAX_CYCLES, PROMPT_TAG, badTime, hashKey, iso, modelKey, modelSnap, pendingKey, recreated, runMetricsKey, versionKey, versionSnap,
  type HashRecord, type Meta, type ModelSnap, type PendingVersion, type RunMetricsRecord, type VersionSnap,
} from './snapshot.js';

export { AUDIT_CHANNEL };

/** The search filter that lists MLflow 3 prompts (and prompt versions), as MLflow's own prompt APIs ask for them. */
/** Evaluation runs of one logged model read for their author per read (the latest logged first). */
const MAX_EVALUATION_RUNS = 20;
export const PROMPT_FILTER = `tag.\`${PROMPT_TAG}\` = 'true'`;

export interface AuditorOptions {
  now: () => number;
  /** Test hook: called after every poll cycle. */
  onCycle?: (r: { ok: boolean; events: number }) => void;
  /** The configured server audited (`connectors.mlflow.servers[].id`); unset for the default one. */
  server?: string;
  /** The workspace audited (`poll.workspaces[]`, sent as `X-MLFLOW-WORKSPACE`); unset for the server's default one. */
  workspace?: string;
}

/**
 * Where the packages of a model's own environment come from, read from its environment files as hashed
 * (`requirements.txt`, `conda.yaml`, `python_env.yaml`): what `mlflow.pyfunc`'s env restore and `mlflow models serve`
 * install before the model is served. `ml.model.package_sources` (and `_unverifiable`), for serving.unverified_image.
 */
function environmentSources(files: Record<string, string> | undefined): { package_sources?: string[]; package_sources_unverifiable?: string[] } {
  if (!files) return {};
  // By path, not by which download finished first: the same files give the same list.
  const facts = Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, text]) => (path === 'requirements.txt' ? packageSourceFactsOfRequirements(text) : packageSourceFactsOfCondaYaml(text)));
  const sources = [...new Set(facts.flatMap((f) => f.sources))];
  const hidden = [...new Set(facts.flatMap((f) => f.unverifiable))];
  return { package_sources: sources.length ? sources : undefined, package_sources_unverifiable: hidden.length ? hidden : undefined };
}

/**
 * The Hugging Face Hub repositories a `transformers` model saved without its weights loads (its `MLmodel`, as hashed):
 * `ml.model.hub_models`, the first as `hub_id` / `hub_revision`, as a SageMaker container's `HF_MODEL_ID` is, for
 * serving.unverified_image (`require_hub_commit`, `allowed_hub_models`).
 */
function hubFacts(mlmodel: string | undefined): { hub_models?: HubModel[]; hub_id?: string; hub_revision?: string } {
  const hub = hubModelsOfMlmodel(mlmodel);
  return hub.length ? { hub_id: hub[0]!.id, ...(hub[0]!.revision ? { hub_revision: hub[0]!.revision } : {}), hub_models: hub } : {};
}

/**
 * The MLflow registry auditor: snapshots the registry through the REST API,
 * emits an event for every difference (what webhooks never report: stage
 * transitions, deletes, renames, description edits), reads each new
 * version's run (training provenance, evaluation metrics), registers a
 * SHA-256 manifest of its artifacts and re-verifies approved versions.
 *
 * @example
 * const poller = createRegistryAuditor(deps, { now: Date.now }); poller.start();
 */
export function createRegistryAuditor(deps: ConnectorDeps<MlflowConfig>, opts: AuditorOptions): Poller & { runOnce(): Promise<boolean> } {
  const cfg = deps.config.poll;
  const approvalCfg = deps.config.approval;
  const state = deps.spool.state;
  const server = opts.server;
  const workspace = opts.workspace;
  // The default workspace's names are the server's own (fromWorkspace leaves its events as they are).
  const named = workspace !== undefined && workspace !== MLFLOW_DEFAULT_WORKSPACE ? workspace : undefined;
  // Each server's and named workspace's snapshot apart: the same model names there are two registries.
  const where = named === undefined ? server : workspaceScope(server, named);
  const NS = where === undefined ? DEFAULT_NS : `${DEFAULT_NS}@${where}`;
  /** Commit events, a named workspace's and a configured server's as theirs (core/schema/origin.ts), as its webhooks' are. */
  const own = (ev: NormalizedEvent) => {
    const scoped = fromWorkspace(ev, named);
    return server === undefined ? scoped : fromServer(scoped, server);
  };
  const ingest = (events: NormalizedEvent[], channel: string) => deps.ingest.ingest(where === undefined ? events : events.map(own), channel);
  const log = deps.logger;
  const retry: RetryPolicy = { initialMs: cfg.retry_initial_ms, maxMs: cfg.retry_max_ms, requestTimeoutMs: cfg.request_timeout_ms, maxAttempts: cfg.max_attempts };
  const client = new MlflowClient({ trackingUri: cfg.tracking_uri!, username: cfg.username, password: cfg.password, token: cfg.token, retry, workspace, staticPrefix: cfg.static_prefix });
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let health: { state: 'healthy' | 'degraded' | 'unhealthy'; reason?: string } = { state: 'healthy' };
  let outage: { kind: 'auth_failure' | 'unavailable'; since: number } | undefined;
  /** Approved versions the last verify pass could not read (their artifacts), for health. */
  let unverifiable: string[] = [];
  /** Items missing from the last listing whose deletion MLflow could not confirm (kept in the snapshot), for health. */
  let unconfirmed: string[] = [];

  const receivedTime = () => new Date(opts.now()).toISOString();
  const base = (d: AuditDraft) => auditEvent(d, receivedTime());
  const differ = () => registryDiffer({ approval: approvalCfg, digestTag: cfg.digest_tag, ownDigestTag, receivedTime: receivedTime() });

  /** New name → old name of the models renamed in the current cycle (their hash records move at its end). */
  let renamedFrom = new Map<string, string>();

  /** The digest tag value the auditor itself wrote for this version, if it did. */
  function ownDigestTag(v: VersionSnap): string | undefined {
    if (!cfg.digest_tag) return undefined;
    // Until the cycle's end a renamed model's records are still under its old name (in a swap the
    // new name holds the other model's).
    const rec = state.get<HashRecord>(NS, hashKey(renamedFrom.get(v.name) ?? v.name, v.version));
    return rec ? `sha256:${rec.root}` : undefined;
  }

  /**
   * Commit auditor events. One whose MLflow time field is not a time (an `iso` marker) is
   * quarantined with a reason naming the field, never dated otherwise; the rest are ingested.
   * Resolves once both are on stable storage: the snapshot that moves past them is saved after.
   */
  function commitAudit(events: NormalizedEvent[]): Promise<unknown> {
    return deps.ingest.durably(() => {
      const good: NormalizedEvent[] = [];
      for (const ev of events) {
        const bad = badTime(ev.time);
        if (!bad) good.push(ev);
        else deps.ingest.quarantine(AUDIT_CHANNEL, `${ev.operation} ${ev.resource?.id ?? ''}: ${bad.reason}`, JSON.stringify(ev), { id: ev.id, field: bad.field });
      }
      return good.length ? ingest(good, AUDIT_CHANNEL) : undefined;
    });
  }

  /**
   * The evaluation metrics other runs logged for the version's MLflow 3 logged model (loggedModelEvaluations), or
   * none: a version of no logged model, or one MLflow will not show (deleted, no READ, a backend without logged
   * models, failing after retries): logged, not a finding — the rules already say when an approval has no evaluation
   * on record. Never thrown: the approval it precedes, or the version's run, must not wait on it (a cycle that failed
   * on it would diff the same approval again, forever, while the endpoint fails).
   */
  async function loggedModelMetrics(v: VersionSnap, signal: AbortSignal, now: number, approvedBefore = false): Promise<NormalizedEvent[]> {
    const modelId = v.model_id ?? loggedModelIdOf(v.source);
    if (!modelId || !cfg.run_provenance) return [];
    try {
      const lm = await client.getLoggedModel(modelId, signal);
      const evs = loggedModelEvaluations(v, lm, now, receivedTime(), await evaluationRuns(v, lm, signal), { authenticatedUserTag: cfg.authenticated_user_tag });
      // Read again for another approval marker of a version approved in an earlier poll: metrics first seen now were
      // logged after that approval was seen (those read before are the same events, ids by their values, kept as first
      // read), whatever timestamps their client gave them. The rules do not count them for that approval.
      return approvedBefore ? evs.map((e) => ({ ...e, details: { ...e.details, read_after_approval: new Date(now).toISOString() } })) : evs;
    } catch (err) {
      if (signal.aborted) throw err;
      log.warn({ code: 'MLTRAIL_ERR_UPSTREAM', model: v.name, version: v.version, model_id: modelId, reason: describeError(err) }, 'could not read the logged model of a version (its evaluation metrics)');
      return [];
    }
  }

  /**
   * The runs that logged a logged model's metrics (other than the version's own, read by runEvents): who they name is
   * the evaluation's author. At most MAX_EVALUATION_RUNS, the latest logged first; a run that cannot be read is said
   * so on its event (no author), never thrown: the approval the metrics precede must not wait on it.
   */
  async function evaluationRuns(v: VersionSnap, lm: LoggedModel, signal: AbortSignal): Promise<Map<string, EvaluationRun>> {
    const last = new Map<string, number>();
    for (const m of lm.data?.metrics ?? []) if (m.run_id && m.run_id !== v.run_id) last.set(m.run_id, Math.max(last.get(m.run_id) ?? 0, m.timestamp ?? 0));
    const ids = [...last].sort((a, b) => b[1] - a[1]).slice(0, MAX_EVALUATION_RUNS).map(([id]) => id);
    const out = new Map<string, EvaluationRun>();
    for (const id of ids) {
      try {
        out.set(id, { run: await client.getRun(id, signal) });
      } catch (err) {
        if (signal.aborted) throw err;
        out.set(id, { error: describeError(err) });
      }
    }
    return out;
  }

  /**
   * The version's run read again at its approval, compared with the read at registration (metricsRewrittenEvent): its
   * metrics as they are now, and those logged or overwritten since, or nothing. A version whose run was not read at
   * registration (registered before this was kept, or unreadable then) has nothing to compare with. Never thrown: the
   * approval must not wait on its run (an unreadable run is logged).
   */
  async function metricsAtApproval(v: VersionSnap, approvedAt: string, signal: AbortSignal, now: number): Promise<NormalizedEvent[]> {
    if (!cfg.run_provenance || !v.run_id) return [];
    const registered = state.get<RunMetricsRecord>(NS, runMetricsKey(v.name, v.version));
    if (!registered || registered.run_id !== v.run_id) return [];
    try {
      const ev = metricsRewrittenEvent(v, await client.getRun(v.run_id, signal), registered, approvedAt, now, receivedTime(), { authenticatedUserTag: cfg.authenticated_user_tag });
      return ev ? [ev] : [];
    } catch (err) {
      if (signal.aborted) throw err;
      log.warn({ code: 'MLTRAIL_ERR_UPSTREAM', model: v.name, version: v.version, run_id: v.run_id, reason: describeError(err) }, 'could not read the run of an approved version again (its metrics since registration)');
      return [];
    }
  }

  /**
   * MLflow 2 evaluation runs of the version (`mlflow.evaluate` of `models:/<name>/<version>`), read at its approval: the
   * runs of its run's experiment whose `mlflow.datasets` tag names its MLmodel `model_uuid` (evaluationRunEvents), at
   * most MAX_EVALUATION_RUNS, the latest first. Needs the uuid (hashed artifacts) and the run's experiment (its run
   * read); an evaluation logged to another experiment is not searched for. Never thrown: the approval must not wait.
   */
  async function evaluationRunsAtApproval(v: VersionSnap, signal: AbortSignal, now: number): Promise<NormalizedEvent[]> {
    const uuid = state.get<HashRecord>(NS, hashKey(v.name, v.version))?.model_uuid;
    const experiment = state.get<RunMetricsRecord>(NS, runMetricsKey(v.name, v.version))?.experiment_id;
    if (!cfg.run_provenance || !uuid || !experiment) return [];
    try {
      const runs = await client.searchRuns([experiment], evaluationRunFilter(uuid), MAX_EVALUATION_RUNS, signal);
      return evaluationRunEvents(v, uuid, runs, now, receivedTime(), { authenticatedUserTag: cfg.authenticated_user_tag });
    } catch (err) {
      if (signal.aborted) throw err;
      log.warn({ code: 'MLTRAIL_ERR_UPSTREAM', model: v.name, version: v.version, reason: describeError(err) }, 'could not search the evaluation runs of an approved version');
      return [];
    }
  }

  let promptFilterRefused = false;
  /**
   * The prompt registry's prompts and their versions (MLflow 3 leaves them out of an unfiltered search:
   * `_update_query_to_exclude_prompts`, unless the filter asks for `mlflow.prompt.is_prompt = 'true'`); what webhooks
   * never report of them (deletes, renames, alias moves on 3.3-era servers, descriptions) is seen only so. A server
   * that refuses the filter (400: older, which lists prompts unfiltered anyway) gives none, said once in the log.
   */
  async function promptListing(signal: AbortSignal): Promise<{ models: RegisteredModel[]; versions: ModelVersion[] }> {
    try {
      const [models, versions] = await Promise.all([client.searchRegisteredModels(signal, cfg.page_size, PROMPT_FILTER), client.searchModelVersions(signal, cfg.page_size, PROMPT_FILTER)]);
      return { models, versions };
    } catch (err) {
      if (signal.aborted || !(err instanceof MlflowApiError) || err.status !== 400) throw err;
      if (!promptFilterRefused) log.warn({ code: 'MLTRAIL_ERR_UPSTREAM', reason: describeError(err) }, 'MLflow refused the prompt filter; prompts are audited as far as the unfiltered listing shows them');
      promptFilterRefused = true;
      return { models: [], versions: [] };
    }
  }

  /** A failed `run.provenance`: the version is still hashed; the reason says why its run could not be read. */
  function provenanceUnavailable(v: VersionSnap, err: unknown, now: number): NormalizedEvent {
    const e = err instanceof MlflowApiError ? err : undefined;
    const reason = e?.status === 404
      ? 'the run that produced this version does not exist (deleted or never logged here)'
      : e?.isAuth
        ? `MLflow refused to read the run (HTTP ${e.status}): the auditor's user needs READ on the run's experiment`
        : `the run could not be read: ${describeError(err)}`;
    return base({
      id: stableId('mlflow', 'audit', e?.status === 404 ? 'provenance_missing' : 'provenance_unavailable', v.name, v.version, v.run_id, v.creation_timestamp),
      time: iso(v.creation_timestamp, now, 'creation_timestamp'), stage: 'training', action: 'run.provenance', operation: 'runs/get', outcome: 'failure',
      error: { code: e?.errorCode ?? (e?.status ? `HTTP_${e.status}` : 'ERROR'), message: describeError(err) },
      resource: { type: 'run', id: v.run_id }, ml: { model: { name: v.name, version: v.version, run_id: v.run_id } },
      details: { provenance: 'unavailable', reason, http_status: e?.status },
    });
  }

  /**
   * Run provenance, then registered hash, of one new version. Each part's events are committed
   * (and the part marked done in `pend`) as soon as it is finished, so a retry redoes only what
   * is missing. Throws when something must be retried next cycle.
   */
  async function processNewVersion(v: VersionSnap, pend: PendingVersion, signal: AbortSignal, now: number): Promise<number> {
    let emitted = 0;
    const commit = async (events: NormalizedEvent[], part: Partial<PendingVersion>) => {
      if (events.length) await commitAudit(events);
      emitted += events.length;
      Object.assign(pend, part);
      state.set(NS, pendingKey(v.name, v.version), pend);
    };
    let deferred: unknown;
    if (cfg.run_provenance && v.run_id && !pend.provenance_done) {
      let events: NormalizedEvent[];
      try {
        const run = await client.getRun(v.run_id, signal);
        events = runEvents(v, run, now, receivedTime(), { authenticatedUserTag: cfg.authenticated_user_tag });
        // What the run shows now, to compare with at the version's approval (metricsAtApproval).
        state.set(NS, runMetricsKey(v.name, v.version), { run_id: v.run_id, read_at: new Date(now).toISOString(), run_status: run.info.status, experiment_id: run.info.experiment_id, metrics: runMetricsOf(run) });
      } catch (err) {
        if (signal.aborted) throw err;
        // An unreadable run (403: no READ on its experiment; deleted) must not stop the artifacts
        // being hashed: that is the integrity control. Only a transient failure (5xx, network, 401 =
        // credentials, the whole source's problem) is tried again next cycle.
        const transient = !(err instanceof MlflowApiError) || err.retryable || err.status === 401;
        if (transient && (pend.attempts ?? 0) + 1 < PENDING_MAX_CYCLES) deferred = err;
        events = deferred ? [] : [provenanceUnavailable(v, err, now)];
      }
      // MLflow 3: evaluations of its logged model run in runs of their own (loggedModelEvaluations).
      if (!deferred) await commit([...events, ...(await loggedModelMetrics(v, signal, now))], { provenance_done: true });
    }
    // After the run's metrics, so the rules judge the approval with its evaluation evidence on record;
    // not held back by a run still unreadable (later diffs would overtake it).
    if (pend.approvals?.length && !pend.approvals_done) await commit(pend.approvals, { approvals_done: true });
    if (cfg.hash_artifacts && !pend.hash_done) {
      const events: NormalizedEvent[] = [];
      const mv = { name: v.name, version: v.version, source: v.source } as ModelVersion;
      const loc = await resolveArtifactLocation(client, mv, signal);
      const res = versionResource(v, false);
      if (loc.kind === 'unreachable') {
        events.push(base({
          id: stableId('mlflow', 'audit', 'hash_unreachable', v.name, v.version, v.creation_timestamp, loc.uri), time: iso(undefined, now), stage: 'registry',
          action: 'model_version.hash_registered', operation: 'artifacts/manifest', outcome: 'failure', error: { message: loc.reason },
          resource: res, ml: { model: { name: v.name, version: v.version, artifact_uri: safeUri(loc.uri) } },
        }));
      } else {
        const manifest = await manifestOf(client, loc, cfg.download_concurrency, signal);
        const uuid = modelUuidOf(manifest.mlmodel);
        const rec: HashRecord = { root: manifest.root, ...(uuid ? { model_uuid: uuid } : {}), files: manifest.files, location: loc.uri, registered_at: new Date(now).toISOString() };
        state.set(NS, hashKey(v.name, v.version), rec);
        events.push(base({
          id: stableId('mlflow', 'audit', 'hash_registered', v.name, v.version, v.creation_timestamp, manifest.root), time: iso(undefined, now), stage: 'registry',
          action: 'model_version.hash_registered', operation: 'artifacts/manifest', resource: res,
          ml: { model: { name: v.name, version: v.version, sha256: manifest.root, artifact_uri: safeUri(loc.uri), run_id: v.run_id, ...environmentSources(manifest.environment), ...hubFacts(manifest.mlmodel) } },
          details: { files: manifest.files.length, bytes: manifest.files.reduce((s, f) => s + f.size, 0), manifest: manifest.files.slice(0, 200) },
        }));
        if (cfg.digest_tag) {
          await client.setModelVersionTag(v.name, v.version, cfg.digest_tag, `sha256:${manifest.root}`, signal).catch((err: unknown) =>
            log.warn({ err: describeError(err), model: v.name, version: v.version, code: 'MLTRAIL_ERR_UPSTREAM' }, 'could not write the digest tag back'));
        }
      }
      await commit(events, { hash_done: true });
    }
    if (deferred) throw deferred;
    return emitted;
  }

  async function verifyApproved(versions: Map<string, VersionSnap>, prompts: Set<string>, signal: AbortSignal, now: number): Promise<NormalizedEvent[]> {
    const out: NormalizedEvent[] = [];
    unverifiable = [];
    for (const v of versions.values()) {
      if (prompts.has(v.name) || approvalOfVersion(approvalCfg, v) !== 'approved') continue;
      const rec = state.get<HashRecord>(NS, hashKey(v.name, v.version));
      if (!rec) continue;
      let observed: Awaited<ReturnType<typeof manifestOf>>;
      try {
        // Resolving the location is part of reading the artifacts: MLflow refuses get-download-uri (403) for a
        // model whose READ the auditor lost, which is this version's finding, not an outage.
        const loc = await resolveArtifactLocation(client, { name: v.name, version: v.version, source: v.source } as ModelVersion, signal);
        if (loc.kind === 'unreachable') continue;
        observed = await manifestOf(client, loc, cfg.download_concurrency, signal);
      } catch (err) {
        if (signal.aborted) throw err;
        // The server or this version? A registry that no longer reads is an outage (the probe's error fails
        // the cycle: one source.unavailable). Otherwise only this approved version's artifacts cannot be read
        // (deleted, permissions changed, stalled): a finding of its own, reported once per distinct error,
        // instead of failing the cycle every verify interval — and skipping it silently would let anyone
        // escape the check by making the artifacts unreadable.
        if (!(err instanceof MlflowApiError && !err.retryable && !err.isAuth)) await client.probe(signal);
        const e = err instanceof MlflowApiError ? err : undefined;
        log.warn({ code: 'MLTRAIL_ERR_UPSTREAM', model: v.name, version: v.version, reason: describeError(err) }, 'cannot verify the artifacts of an approved version');
        unverifiable.push(`${v.name}/${v.version}`);
        out.push(base({
          id: stableId('mlflow', 'audit', 'verify_failed', v.name, v.version, v.creation_timestamp, rec.root, describeError(err)), time: iso(undefined, now), stage: 'registry',
          action: 'model_version.hash_verified', operation: 'artifacts/verify', outcome: 'failure',
          error: { code: e?.errorCode ?? (e?.status ? `HTTP_${e.status}` : 'UNVERIFIABLE'), message: `artifacts of approved ${v.name} version ${v.version} cannot be read to verify them: ${describeError(err)}` },
          resource: versionResource(v, false),
          ml: { model: { name: v.name, version: v.version, artifact_uri: safeUri(rec.location), approval: 'approved', aliases: v.aliases.length ? v.aliases : undefined, stage: v.current_stage } },
          details: { expected_sha256: rec.root, registered_at: rec.registered_at },
        }));
        continue;
      }
      if (observed.root === rec.root) {
        state.set(NS, hashKey(v.name, v.version), { ...rec, last_verified: new Date(now).toISOString() });
        continue;
      }
      const differing = diffManifests({ root: rec.root, files: rec.files }, observed);
      const before = new Map(rec.files.map((f) => [f.path, f.sha256]));
      const after = new Map(observed.files.map((f) => [f.path, f.sha256]));
      log.warn({ model: v.name, version: v.version, expected: rec.root, observed: observed.root, files: differing.slice(0, 20) }, 'model artifacts changed since registration');
      out.push(base({
        id: stableId('mlflow', 'audit', 'hash_mismatch', v.name, v.version, v.creation_timestamp, rec.root, observed.root), time: iso(undefined, now), stage: 'registry',
        action: 'model_version.hash_mismatch', operation: 'artifacts/verify', outcome: 'failure',
        error: { code: 'HASH_MISMATCH', message: `artifacts of ${v.name} version ${v.version} no longer match the registered digest` },
        resource: versionResource(v, false),
        ml: { model: { name: v.name, version: v.version, sha256: observed.root, artifact_uri: safeUri(rec.location), approval: 'approved', aliases: v.aliases.length ? v.aliases : undefined, stage: v.current_stage } },
        details: {
          expected_sha256: rec.root, observed_sha256: observed.root, registered_at: rec.registered_at,
          files: differing.slice(0, 500).map((path) => ({ path, expected_sha256: before.get(path) ?? null, observed_sha256: after.get(path) ?? null })),
          files_differing: differing.length,
        },
      }));
    }
    return out;
  }

  async function sourceFailure(err: unknown, now: number): Promise<void> {
    const kind = err instanceof MlflowApiError && err.isAuth ? 'auth_failure' : 'unavailable';
    health = { state: 'unhealthy', reason: `${kind === 'auth_failure' ? 'MLflow refused the credentials' : 'MLflow unreachable'}: ${describeError(err)}` };
    log.warn({ code: 'MLTRAIL_ERR_UPSTREAM', tracking_uri: client.trackingUri, workspace, reason: describeError(err) }, 'mlflow registry audit failed');
    if (outage?.kind === kind) return; // one event per outage, not per poll
    outage = { kind, since: now };
    await ingest([base({
      id: stableId('mlflow', 'audit', 'source', kind, client.trackingUri, now), time: iso(undefined, now), stage: 'ingestion',
      action: kind === 'auth_failure' ? 'source.auth_failure' : 'source.unavailable', operation: 'registry.poll', outcome: 'failure',
      error: { code: err instanceof MlflowApiError ? (err.errorCode ?? (err.status ? `HTTP_${err.status}` : 'NETWORK')) : 'ERROR', message: describeError(err) },
      resource: { type: 'mlflow_server', id: client.trackingUri, uri: client.trackingUri },
      details: { http_status: err instanceof MlflowApiError ? err.status : undefined, attempts: cfg.max_attempts,
        hint: kind === 'auth_failure' ? 'check MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN and the user\'s READ permission' : undefined },
    })], AUDIT_CHANNEL).catch((e: unknown) => log.error({ err: describeError(e), code: 'MLTRAIL_ERR_INTERNAL' }, 'could not record the source failure event'));
  }

  async function sourceRecovered(now: number): Promise<void> {
    if (!outage) return;
    const was = outage;
    outage = undefined;
    await ingest([base({
      id: stableId('mlflow', 'audit', 'source_recovered', client.trackingUri, was.since), time: iso(undefined, now), stage: 'ingestion',
      action: 'source.recovered', operation: 'registry.poll', resource: { type: 'mlflow_server', id: client.trackingUri, uri: client.trackingUri },
      details: { after: was.kind, down_s: Math.round((now - was.since) / 1000) },
    })], AUDIT_CHANNEL);
  }

  /** Set once the server answered that it has no webhooks API (MLflow before 3.3): not asked again. */
  let webhooksUnsupported = false;

  /**
   * mltrail's own webhooks (`poll.webhooks`) compared with the last listing: deleted, disabled, re-pointed or
   * narrowed ones are committed as `audit_log.*` events. A webhook missing from the listing is deleted only once
   * MLflow answers 404 for it. A failure here is logged and leaves the snapshot as it was: the registry audit goes on.
   */
  async function watchWebhooks(signal: AbortSignal, now: number): Promise<number> {
    const wcfg = cfg.webhooks;
    if (!wcfg.enabled || webhooksUnsupported) return 0;
    const own = { ids: wcfg.ids, urls: wcfg.urls };
    let listed;
    try {
      listed = await client.listWebhooks(signal);
    } catch (err) {
      if (signal.aborted) throw err;
      if (err instanceof MlflowApiError && (err.status === 404 || err.status === 501)) {
        webhooksUnsupported = true;
        log.info({ reason: describeError(err) }, 'MLflow server has no registry webhooks API (before 3.3): webhooks of mltrail not watched');
      } else {
        log.warn({ code: 'MLTRAIL_ERR_UPSTREAM', reason: describeError(err) }, "could not list MLflow webhooks: changes to mltrail's webhooks not checked this cycle");
      }
      return 0;
    }
    const cur = new Map<string, WebhookSnap & { updated?: number }>(listed.map((w) => [w.webhook_id, { ...webhookSnap(w), updated: w.last_updated_timestamp }]));
    const before = state.get<{ hooks: Record<string, WebhookSnap> }>(NS, 'webhooks');
    const prev = new Map(Object.entries(before?.hooks ?? {}));
    for (const p of prev.values()) {
      if (cur.has(p.id)) continue;
      try {
        const w = await client.getWebhook(p.id, signal);
        cur.set(p.id, { ...webhookSnap(w), updated: w.last_updated_timestamp });
      } catch (err) {
        if (signal.aborted) throw err;
        // Not confirmed gone (an error other than 404): judged next cycle, as it was.
        if (!(err instanceof MlflowApiError && err.status === 404)) cur.set(p.id, p);
      }
    }
    const cuts = before ? webhookCuts(prev, cur, own, now).map(base) : [];
    if (cuts.length) await commitAudit(cuts);
    state.set(NS, 'webhooks', { hooks: ownSnapshot(cur.values(), own) });
    return cuts.length;
  }

  /** One poll: snapshot, diff, persist, process new versions, verify when due. Never throws. */
  async function runOnce(): Promise<boolean> {
    const signal = controller.signal;
    const now = opts.now();
    let emitted = 0;
    try {
      const [listedModels, listedVersions, promptList] = await Promise.all([client.searchRegisteredModels(signal, cfg.page_size), client.searchModelVersions(signal, cfg.page_size), promptListing(signal)]);
      // MLflow 3 lists prompts only when asked (an older server lists them in both: each item once).
      const models = [...new Map([...listedModels, ...promptList.models].map((m) => [m.name, m])).values()];
      const versions = [...new Map([...listedVersions, ...promptList.versions].map((v) => [versionKey(v.name, v.version), v])).values()];
      const meta = state.get<Meta>(NS, 'meta') ?? { initialized: false };
      const curModels = new Map(models.map((m) => [m.name, modelSnap(m)]));
      const curVersions = new Map(versions.map((v) => [versionKey(v.name, v.version), versionSnap(v)]));
      const prompts = new Set([...curModels.values()].filter((m) => m.prompt).map((m) => m.name));
      const prevModels = new Map(state.list<ModelSnap>(NS, 'model:').map((e) => [e.value.name, e.value]));
      const prevVersions = new Map(state.list<VersionSnap>(NS, 'version:').map((e) => [e.key, e.value]));
      for (const m of prevModels.values()) if (m.prompt) prompts.add(m.name);

      let events: NormalizedEvent[] = [];
      const newVersions: VersionSnap[] = [];
      let renamed = new Map<string, string>();
      let atCreation = new Map<string, NormalizedEvent[]>();
      unconfirmed = [];
      /** Versions kept although MLflow could not say whether they exist: not verified this cycle. */
      const doubtful = new Set<string>();
      if (meta.initialized) {
        // A model the listing missed is deleted only once MLflow says so (see absence.ts); until
        // then its previous snapshot stands in for it: no event, and a later change is still seen.
        const modelCheck = await confirmAbsent([...prevModels.values()].filter((m) => !curModels.has(m.name)), (m, s) => client.getRegisteredModel(m.name, s), signal);
        for (const { item, reason } of modelCheck.kept) {
          curModels.set(item.name, item);
          if (reason) unconfirmed.push(`model ${item.name}: ${reason}`);
        }
        const goneModels = new Set(modelCheck.gone.map((m) => m.name));
        const d = differ();
        events = d.diffModels(prevModels, curModels, now);
        renamed = new Map(events.filter((e) => e.details?.old_name).map((e) => [e.details!.old_name as string, e.details!.new_name as string]));
        renamedFrom = new Map([...renamed].map(([from, to]) => [to, from]));
        // Versions of a renamed model reappear under the new name: not deletions nor creations.
        // Built from prevVersions in two passes, never in place: in a swap (a→b, b→a) one model's
        // new keys are the other's old ones.
        const carried = new Map([...prevVersions].filter(([, p]) => !renamed.has(p.name)));
        const displaced: VersionSnap[] = [];
        for (const p of prevVersions.values()) {
          const to = renamed.get(p.name);
          if (!to) continue;
          const key = versionKey(to, p.version);
          const other = carried.get(key);
          // A deleted model's version whose key a renamed model took over is still a deletion.
          if (other && !renamed.has(other.name)) displaced.push(other);
          carried.set(key, { ...p, name: to });
        }
        // The same for versions, except those of a model confirmed deleted: MLflow deletes a
        // model's versions with it, so a deleted model with many versions costs one request.
        const missing = [...carried].filter(([key, p]) => !curVersions.has(key) && !goneModels.has(p.name));
        const versionCheck = await confirmAbsent(missing, ([, p], s) => client.getModelVersion(p.name, p.version, s), signal);
        for (const { item: [key, p], reason, refused } of versionCheck.kept) {
          curVersions.set(key, p);
          if (!reason) continue;
          // A version MLflow refuses to show the auditor (its READ taken away, so it left the listing) is still
          // re-verified: its artifacts may yet be readable (experiment permissions are apart), and if not the
          // verification says so (failed hash_verified). Skipping it let whoever hid it swap approved weights unseen.
          if (!refused) doubtful.add(key);
          unconfirmed.push(`version ${p.name}/${p.version}: ${reason}`);
        }
        if (unconfirmed.length) {
          log.warn({ code: 'MLTRAIL_ERR_UPSTREAM', items: unconfirmed.slice(0, 20) }, 'items missing from the registry listing could not be confirmed deleted; kept, asked again next cycle');
        }
        events.push(...d.diffVersions(carried, curVersions, prompts, now, displaced));
        atCreation = d.atCreation;
        // An alias diffModels saw set on a version first seen now goes with that version's pending
        // record, after its run's events (serve's rules must see the evaluation before the approval).
        const held = new Set([...atCreation.values()].flat());
        events = events.filter((e) => !held.has(e));
        for (const [key, v] of curVersions) {
          const p = carried.get(key);
          if ((!p || recreated(p, v)) && !prompts.has(v.name)) newVersions.push(v);
        }
      } else {
        // First run: no diffs, but register provenance / hashes of what exists and tell the rules
        // which versions are approved already (their pending records' `approvals`).
        for (const v of curVersions.values()) if (!prompts.has(v.name)) newVersions.push(v);
      }
      // Approvals still held from an earlier cycle (the auditor stopped before its run's events were
      // committed) go before this cycle's diffs: a later alias move must not be committed ahead of the
      // alias set it follows, and a version deleted since must not take its approval record with it.
      const leftover = state.list<PendingVersion>(NS, 'pending:').filter(({ value }) => value.approvals?.length && !value.approvals_done);
      if (leftover.length) {
        const approvals = leftover.flatMap(({ value }) => value.approvals!);
        await commitAudit(approvals);
        emitted += approvals.length;
        deps.spool.transaction(() => {
          for (const { key, value } of leftover) state.set(NS, key, { ...value, approvals_done: true });
        });
      }
      // An approval of a version of an MLflow 3 logged model goes after the model's evaluations as they are now
      // (often logged after registration, in runs of their own): read again for each version approved this cycle.
      const approvedNow = [...new Set(events.filter((e) => e.action === 'model_version.approve' && e.ml?.model?.name && e.ml.model.version).map((e) => versionKey(e.ml!.model!.name!, e.ml!.model!.version!)))];
      const evaluations: NormalizedEvent[] = [];
      for (const key of approvedNow) {
        const v = curVersions.get(key);
        const prev = prevVersions.get(key);
        if (v && !prompts.has(v.name)) {
          evaluations.push(...(await loggedModelMetrics(v, signal, now, !!prev && approvalOfVersion(approvalCfg, prev) === 'approved')));
          const approval = events.find((e) => e.action === 'model_version.approve' && e.ml?.model?.name === v.name && e.ml?.model?.version === v.version);
          evaluations.push(...(await metricsAtApproval(v, approval?.time ?? new Date(now).toISOString(), signal, now)));
          evaluations.push(...(await evaluationRunsAtApproval(v, signal, now)));
        }
      }
      events = [...evaluations, ...events];
      if (events.length) await commitAudit(events);
      emitted += events.length;
      // Persist the snapshot only after its events are committed (a crash in between re-emits; stable ids collapse them).
      deps.spool.transaction(() => {
        for (const key of prevModels.keys()) if (!curModels.has(key)) state.delete(NS, modelKey(key));
        // A renamed model keeps its versions and files: their registered hashes (and unfinished
        // work) follow the new name, or re-verification would silently stop for every approved
        // version. All moves are read before any record is written or deleted: in a swap one
        // move's target is another's source.
        const moves: Array<{ name: string; version: string; rec?: HashRecord; pend?: PendingVersion; metrics?: RunMetricsRecord }> = [];
        for (const p of prevVersions.values()) {
          const to = renamed.get(p.name);
          const cur = to ? curVersions.get(versionKey(to, p.version)) : undefined;
          if (to && cur && !recreated(p, cur)) {
            moves.push({ name: to, version: p.version, rec: state.get<HashRecord>(NS, hashKey(p.name, p.version)), pend: state.get<PendingVersion>(NS, pendingKey(p.name, p.version)), metrics: state.get<RunMetricsRecord>(NS, runMetricsKey(p.name, p.version)) });
          }
        }
        for (const [key, p] of prevVersions) {
          const cur = curVersions.get(key);
          // Moved, gone, or another version under the same key: its hash must not be checked against other files.
          if (renamed.has(p.name) || !cur || recreated(p, cur)) {
            state.delete(NS, hashKey(p.name, p.version));
            state.delete(NS, pendingKey(p.name, p.version));
            state.delete(NS, runMetricsKey(p.name, p.version));
          }
          if (!cur) state.delete(NS, key);
        }
        for (const m of moves) {
          if (m.rec) state.set(NS, hashKey(m.name, m.version), m.rec);
          if (m.pend) state.set(NS, pendingKey(m.name, m.version), { ...m.pend, name: m.name });
          if (m.metrics) state.set(NS, runMetricsKey(m.name, m.version), m.metrics);
        }
        for (const m of curModels.values()) state.set(NS, modelKey(m.name), m);
        for (const [key, v] of curVersions) state.set(NS, key, v);
        for (const v of newVersions) {
          const approvals = meta.initialized ? (atCreation.get(versionKey(v.name, v.version)) ?? []) : [baselineState(approvalCfg, v, now, receivedTime())].filter((e) => !!e);
          state.set(NS, pendingKey(v.name, v.version), { name: v.name, version: v.version, ...(approvals.length ? { approvals } : {}) });
        }
        state.set(NS, 'meta', { ...meta, initialized: true, last_verify_ms: meta.last_verify_ms ?? now });
      });
      await sourceRecovered(now);
      emitted += await watchWebhooks(signal, now);

      renamedFrom = new Map();

      // New versions (and those a previous cycle could not finish).
      const unfinished: string[] = [];
      for (const { value } of state.list<PendingVersion>(NS, 'pending:')) {
        const v = curVersions.get(versionKey(value.name, value.version));
        if (!v) {
          state.delete(NS, pendingKey(value.name, value.version));
          continue;
        }
        let r: NormalizedEvent[] = [];
        try {
          emitted += await processNewVersion(v, value, signal, now);
        } catch (err) {
          if (signal.aborted) throw err;
          const permanent = err instanceof MlflowApiError && !err.retryable && !err.isAuth;
          // Is it the server or this version? If the registry no longer reads, the source is down
          // (the probe's error fails the cycle: one source.unavailable per outage) and the version
          // is not charged for it.
          if (!permanent) await client.probe(signal);
          const attempts = (value.attempts ?? 0) + 1;
          // Only this version fails (stalled download, a run it may not read): recorded on its
          // pending record and retried next cycle, not forever — one broken version must neither
          // stall the auditor nor make the source flap between unavailable and recovered.
          if (!permanent && attempts < PENDING_MAX_CYCLES) {
            state.set(NS, pendingKey(v.name, v.version), { ...value, attempts, last_error: describeError(err) });
            unfinished.push(`${v.name}/${v.version}`);
            log.warn({ code: 'MLTRAIL_ERR_UPSTREAM', model: v.name, version: v.version, attempts, reason: describeError(err) }, 'could not audit a new model version yet; retried next cycle');
            continue;
          }
          const e = err instanceof MlflowApiError ? err : undefined;
          if (cfg.run_provenance && v.run_id && !value.provenance_done) {
            r.push(provenanceUnavailable(v, new Error(`not read before the auditor gave up on this version: ${describeError(err)}`), now));
          }
          if (value.approvals?.length && !value.approvals_done) r.push(...value.approvals);
          if (!value.hash_done) r.push(base({
            id: stableId('mlflow', 'audit', 'version_audit_failed', v.name, v.version, v.creation_timestamp, describeError(err)), time: iso(undefined, now), stage: 'registry',
            action: 'model_version.hash_registered', operation: 'artifacts/manifest', outcome: 'failure',
            error: { code: e?.errorCode ?? (e?.status ? `HTTP_${e.status}` : 'ERROR'), message: describeError(err) },
            resource: versionResource(v, false), ml: { model: { name: v.name, version: v.version, artifact_uri: safeUri(v.source), run_id: v.run_id } },
            details: { cycles: attempts },
          }));
        }
        if (r.length) await commitAudit(r);
        emitted += r.length;
        state.delete(NS, pendingKey(v.name, v.version));
      }

      const m2 = state.get<Meta>(NS, 'meta')!;
      if (cfg.hash_artifacts && now - (m2.last_verify_ms ?? 0) >= cfg.verify_interval_s * 1000) {
        const mismatches = await verifyApproved(new Map([...curVersions].filter(([key]) => !doubtful.has(key))), prompts, signal, now);
        if (mismatches.length) await commitAudit(mismatches);
        emitted += mismatches.length;
        state.set(NS, 'meta', { ...m2, last_verify_ms: now });
      }
      health = unfinished.length
        ? { state: 'degraded', reason: `${unfinished.length} new version(s) not audited yet, retried next cycle: ${unfinished.slice(0, 10).join(', ')}` }
        : unverifiable.length
          ? { state: 'degraded', reason: `${unverifiable.length} approved version(s) whose artifacts cannot be read to verify them: ${unverifiable.slice(0, 10).join(', ')}` }
          : unconfirmed.length
            ? { state: 'degraded', reason: `${unconfirmed.length} item(s) missing from the listing whose deletion could not be confirmed, asked again next cycle: ${unconfirmed.slice(0, 10).join('; ')}` }
            : { state: 'healthy' };
      opts.onCycle?.({ ok: true, events: emitted });
      return true;
    } catch (err) {
      if (signal.aborted) return false;
      await sourceFailure(err, now);
      opts.onCycle?.({ ok: false, events: emitted });
      return false;
    }
  }

  const schedule = () => {
    if (controller.signal.aborted) return;
    timer = setTimeout(() => {
      running = runOnce().finally(schedule);
    }, cfg.interval_s * 1000);
    timer.unref?.();
  };

  return {
    name: where === undefined ? 'mlflow.registry-auditor' : `mlflow.registry-auditor@${where}`,
    runOnce,
    start() {
      running = runOnce().finally(schedule);
    },
    async stop() {
      controller.abort();
      if (timer) clearTimeout(timer);
      await running?.catch(() => {});
    },
    health: () => health,
  };
}
