import type { ConnectorDeps, Poller } from '../../core/connector.js';
import { diffManifests, type Manifest } from '../../core/integrity/manifest.js';
import { describe as describeError, type RetryPolicy } from '../../core/retry/index.js';
import { makeEvent, stableId, type Action, type NormalizedEvent, type Stage } from '../../core/schema/index.js';
import { approvalOfVersion, approvalFromTag, isApprovalAlias, isApprovalStage } from './approval.js';
import { manifestOf, resolveArtifactLocation } from './artifacts.js';
import { MlflowApiError, MlflowClient, type ModelVersion, type RegisteredModel, type Run } from './client.js';
import type { MlflowConfig } from './config.js';

export const AUDIT_CHANNEL = 'mlflow.audit';
const NS = 'mlflow.registry';
const PROMPT_TAG = 'mlflow.prompt.is_prompt';
/** Poll cycles a new version may fail transiently before it is reported as unauditable. */
const PENDING_MAX_CYCLES = 5;

/** What the auditor remembers of a registered model between polls. */
interface ModelSnap {
  name: string;
  description: string;
  tags: Record<string, string>;
  aliases: Record<string, string>;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  prompt: boolean;
}

interface VersionSnap {
  name: string;
  version: string;
  current_stage?: string;
  status?: string;
  user_id?: string;
  source?: string;
  run_id?: string;
  description: string;
  tags: Record<string, string>;
  aliases: string[];
  creation_timestamp?: number;
  last_updated_timestamp?: number;
}

/** The registered hash of a version: the manifest taken when the auditor first saw it. */
interface HashRecord {
  root: string;
  files: Manifest['files'];
  location: string;
  registered_at: string;
  last_verified?: string;
}

interface Meta {
  initialized: boolean;
  last_verify_ms?: number;
}

const modelKey = (name: string) => `model:${name}`;
const versionKey = (name: string, version: string) => `version:${JSON.stringify([name, version])}`;
const hashKey = (name: string, version: string) => `hash:${JSON.stringify([name, version])}`;
const pendingKey = (name: string, version: string) => `pending:${JSON.stringify([name, version])}`;
const kv = (list?: Array<{ key: string; value: string }>) => Object.fromEntries((list ?? []).map((t) => [t.key, t.value]));
const iso = (ms: number | undefined, fallback: number) => new Date(ms && Number.isFinite(ms) ? ms : fallback).toISOString();

export function modelSnap(m: RegisteredModel): ModelSnap {
  const tags = kv(m.tags);
  return {
    name: m.name,
    description: m.description ?? '',
    tags,
    aliases: Object.fromEntries((m.aliases ?? []).map((a) => [a.alias, a.version])),
    creation_timestamp: m.creation_timestamp,
    last_updated_timestamp: m.last_updated_timestamp,
    prompt: (tags[PROMPT_TAG] ?? '').toLowerCase() === 'true',
  };
}

export function versionSnap(v: ModelVersion): VersionSnap {
  return {
    name: v.name,
    version: v.version,
    current_stage: v.current_stage,
    status: v.status,
    user_id: v.user_id || undefined,
    source: v.source,
    run_id: v.run_id || undefined,
    description: v.description ?? '',
    tags: kv(v.tags),
    aliases: [...(v.aliases ?? [])].sort(),
    creation_timestamp: v.creation_timestamp,
    last_updated_timestamp: v.last_updated_timestamp,
  };
}

export interface AuditorOptions {
  now: () => number;
  /** Test hook: called after every poll cycle. */
  onCycle?: (r: { ok: boolean; events: number }) => void;
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
  const log = deps.logger;
  const retry: RetryPolicy = { initialMs: cfg.retry_initial_ms, maxMs: cfg.retry_max_ms, requestTimeoutMs: cfg.request_timeout_ms, maxAttempts: cfg.max_attempts };
  const client = new MlflowClient({ trackingUri: cfg.tracking_uri!, username: cfg.username, password: cfg.password, token: cfg.token, retry });
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let health: { state: 'healthy' | 'degraded' | 'unhealthy'; reason?: string } = { state: 'healthy' };
  let outage: { kind: 'auth_failure' | 'unavailable'; since: number } | undefined;

  const base = (draft: {
    id: string; time: string; stage: Stage; action: Action; operation: string; outcome?: 'success' | 'failure';
  } & Partial<NormalizedEvent>): NormalizedEvent =>
    makeEvent({ platform: 'mlflow', channel: AUDIT_CHANNEL, service: 'mlflow', outcome: 'success', ...draft }, { keepRaw: false, receivedTime: new Date(opts.now()).toISOString() });

  const versionResource = (v: { name: string; version?: string; source?: string }, prompt: boolean) => ({
    type: prompt ? 'prompt' : 'model_version',
    id: v.version ? `${v.name}/${v.version}` : v.name,
    name: v.name,
    version: v.version,
    uri: v.source,
  });

  /** Same verb, prompt resource when the model is a prompt. */
  const act = (modelAction: Action, prompt: boolean): Action => {
    if (!prompt) return modelAction;
    const map: Partial<Record<Action, Action>> = {
      'registered_model.create': 'prompt.create', 'registered_model.delete': 'prompt.delete', 'registered_model.update': 'prompt.update',
      'registered_model.rename': 'prompt.update', 'registered_model.tag_set': 'prompt.tag_set', 'registered_model.tag_delete': 'prompt.tag_delete',
      'model_version.create': 'prompt_version.create', 'model_version.delete': 'prompt_version.delete', 'model_version.tag_set': 'prompt_version.tag_set',
      'model_version.tag_delete': 'prompt_version.tag_delete', 'model_version.alias_set': 'prompt.alias_set', 'model_version.alias_delete': 'prompt.alias_delete',
      'model_version.approve': 'prompt.alias_set',
    };
    return map[modelAction] ?? 'prompt.update';
  };

  function diffModels(prev: Map<string, ModelSnap>, cur: Map<string, ModelSnap>, now: number): NormalizedEvent[] {
    const out: NormalizedEvent[] = [];
    const removed = [...prev.values()].filter((m) => !cur.has(m.name));
    const added = [...cur.values()].filter((m) => !prev.has(m.name));
    for (const m of removed) {
      // A rename keeps creation_timestamp: pair a vanished model with a new one born at the same instant.
      const renamedTo = m.creation_timestamp !== undefined ? added.find((a) => a.creation_timestamp === m.creation_timestamp) : undefined;
      if (renamedTo) {
        added.splice(added.indexOf(renamedTo), 1);
        out.push(base({
          id: stableId('mlflow', 'audit', 'rename', m.name, renamedTo.name, renamedTo.last_updated_timestamp),
          time: iso(renamedTo.last_updated_timestamp, now), stage: 'registry', action: act('registered_model.rename', m.prompt),
          operation: 'registered-models/rename', resource: { type: m.prompt ? 'prompt' : 'registered_model', id: renamedTo.name, name: renamedTo.name },
          details: { old_name: m.name, new_name: renamedTo.name },
        }));
        continue;
      }
      out.push(base({
        id: stableId('mlflow', 'audit', 'model_delete', m.name, m.last_updated_timestamp), time: iso(undefined, now), stage: 'registry',
        action: act('registered_model.delete', m.prompt), operation: 'registered-models/delete',
        resource: { type: m.prompt ? 'prompt' : 'registered_model', id: m.name, name: m.name }, details: { last_seen: m },
      }));
    }
    for (const m of added) {
      out.push(base({
        id: stableId('mlflow', 'audit', 'model_create', m.name, m.creation_timestamp), time: iso(m.creation_timestamp, now), stage: 'registry',
        action: act('registered_model.create', m.prompt), operation: 'registered-models/create',
        resource: { type: m.prompt ? 'prompt' : 'registered_model', id: m.name, name: m.name },
        ml: m.prompt ? undefined : { model: { name: m.name, tags: m.tags } }, details: { description: m.description || undefined },
      }));
    }
    for (const m of cur.values()) {
      const p = prev.get(m.name);
      if (!p) continue;
      const t = iso(m.last_updated_timestamp, now);
      const res = { type: m.prompt ? 'prompt' : 'registered_model', id: m.name, name: m.name };
      if (p.description !== m.description) {
        out.push(base({
          id: stableId('mlflow', 'audit', 'model_description', m.name, p.description, m.description, m.last_updated_timestamp), time: t, stage: 'registry',
          action: act('registered_model.update', m.prompt), operation: 'registered-models/update', resource: res,
          details: { field: 'description', old: p.description, new: m.description },
        }));
      }
      out.push(...tagDiff(p.tags, m.tags, (k, old, val) => base({
        id: stableId('mlflow', 'audit', 'model_tag', m.name, k, old, val, m.last_updated_timestamp), time: t, stage: 'registry',
        action: act(val === undefined ? 'registered_model.tag_delete' : 'registered_model.tag_set', m.prompt),
        operation: val === undefined ? 'registered-models/delete-tag' : 'registered-models/set-tag', resource: res, details: { tag: { key: k, old, value: val } },
      })));
      for (const alias of new Set([...Object.keys(p.aliases), ...Object.keys(m.aliases)])) {
        const was = p.aliases[alias];
        const now_ = m.aliases[alias];
        if (was === now_) continue;
        const approve = now_ !== undefined && !m.prompt && isApprovalAlias(approvalCfg, alias);
        out.push(base({
          id: stableId('mlflow', 'audit', 'alias', m.name, alias, was, now_, m.last_updated_timestamp), time: t, stage: 'registry',
          action: act(now_ === undefined ? 'model_version.alias_delete' : approve ? 'model_version.approve' : 'model_version.alias_set', m.prompt),
          operation: now_ === undefined ? 'registered-models/delete-alias' : 'registered-models/alias',
          resource: versionResource({ name: m.name, version: now_ ?? was }, m.prompt),
          ml: m.prompt ? undefined : { model: { name: m.name, version: now_ ?? was, aliases: now_ !== undefined ? [alias] : undefined, approval: approve ? 'approved' : undefined } },
          details: { alias, old_version: was, new_version: now_, approval_marker: approve ? { kind: 'alias', alias } : undefined,
            approval_marker_removed: now_ === undefined && isApprovalAlias(approvalCfg, alias) ? { kind: 'alias', alias } : undefined },
        }));
      }
    }
    return out;
  }

  function tagDiff(
    a: Record<string, string>, b: Record<string, string>, mk: (k: string, old: string | undefined, val: string | undefined) => NormalizedEvent, ownWrite?: string,
  ): NormalizedEvent[] {
    const out: NormalizedEvent[] = [];
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      // Our own digest write-back is not news; anyone else touching that tag is.
      if (k === cfg.digest_tag && ownWrite !== undefined && b[k] === ownWrite && a[k] === undefined) continue;
      if (a[k] !== b[k]) out.push(mk(k, a[k], b[k]));
    }
    return out;
  }

  function diffVersions(prev: Map<string, VersionSnap>, cur: Map<string, VersionSnap>, prompts: Set<string>, renamed: Map<string, string>, now: number): NormalizedEvent[] {
    const out: NormalizedEvent[] = [];
    for (const [key, v] of cur) {
      const prompt = prompts.has(v.name);
      const p = prev.get(key);
      const res = versionResource(v, prompt);
      const model = (extra: Record<string, unknown> = {}) => (prompt ? undefined : { model: { name: v.name, version: v.version, run_id: v.run_id, artifact_uri: v.source, stage: v.current_stage, status: v.status, tags: v.tags, aliases: v.aliases.length ? v.aliases : undefined, ...extra } });
      const creator = v.user_id ? { version_creator: v.user_id } : {};
      if (!p) {
        out.push(base({
          id: stableId('mlflow', 'audit', 'version_create', v.name, v.version, v.creation_timestamp), time: iso(v.creation_timestamp, now), stage: 'registry',
          action: act('model_version.create', prompt), operation: 'model-versions/create', resource: res,
          actor: v.user_id ? { id: v.user_id, name: v.user_id, type: 'user' } : undefined,
          ml: model({ approval: approvalOfVersion(approvalCfg, v) }), details: { description: v.description || undefined },
        }));
        continue;
      }
      const t = iso(v.last_updated_timestamp, now);
      const change = (field: string, action: Action, operation: string, old: unknown, val: unknown, extra: { ml?: NormalizedEvent["ml"] } = {}) =>
        out.push(base({
          id: stableId('mlflow', 'audit', 'version', field, v.name, v.version, JSON.stringify(old), JSON.stringify(val), v.last_updated_timestamp), time: t, stage: 'registry',
          action: act(action, prompt), operation, resource: res, ml: model(), details: { field, old, new: val, ...creator }, ...extra,
        }));
      if (p.current_stage !== v.current_stage) {
        const approve = isApprovalStage(approvalCfg, v.current_stage);
        change('current_stage', approve ? 'model_version.approve' : 'model_version.stage_transition', 'model-versions/transition-stage', p.current_stage, v.current_stage,
          approve ? { ml: model({ approval: 'approved' }) } : {});
      }
      if (p.status !== v.status) change('status', 'model_version.status_change', 'model-versions/get', p.status, v.status);
      if (p.description !== v.description) change('description', 'model_version.description_change', 'model-versions/update', p.description, v.description);
      if (p.source !== v.source) change('source', 'model_version.source_change', 'model-versions/get', p.source, v.source);
      out.push(...tagDiff(p.tags, v.tags, (k, old, val) => {
        const approval = val === undefined ? undefined : approvalFromTag(approvalCfg, k, val);
        const action: Action = val === undefined ? 'model_version.tag_delete' : approval === 'approved' ? 'model_version.approve' : approval === 'rejected' ? 'model_version.reject' : 'model_version.tag_set';
        return base({
          id: stableId('mlflow', 'audit', 'version_tag', v.name, v.version, k, old, val, v.last_updated_timestamp), time: t, stage: 'registry',
          action: act(action, prompt), operation: val === undefined ? 'model-versions/delete-tag' : 'model-versions/set-tag', resource: res,
          ml: model({ approval }), details: { tag: { key: k, old, value: val }, ...creator,
            approval_marker: approval ? { kind: 'tag', key: k, value: val } : undefined,
            approval_marker_removed: val === undefined && approvalFromTag(approvalCfg, k, 'approved') ? { kind: 'tag', key: k } : undefined },
        });
      }, ownDigestTag(v)));
    }
    for (const [key, p] of prev) {
      if (cur.has(key) || renamed.has(p.name)) continue;
      const prompt = prompts.has(p.name);
      out.push(base({
        id: stableId('mlflow', 'audit', 'version_delete', p.name, p.version, p.last_updated_timestamp), time: iso(undefined, now), stage: 'registry',
        action: act('model_version.delete', prompt), operation: 'model-versions/delete', resource: versionResource(p, prompt),
        ml: prompt ? undefined : { model: { name: p.name, version: p.version, run_id: p.run_id, artifact_uri: p.source, stage: p.current_stage } },
        details: { last_seen: p, ...(p.user_id ? { version_creator: p.user_id } : {}) },
      }));
    }
    return out;
  }

  /** The digest tag value the auditor itself wrote for this version, if it did. */
  function ownDigestTag(v: VersionSnap): string | undefined {
    if (!cfg.digest_tag) return undefined;
    const rec = state.get<HashRecord>(NS, hashKey(v.name, v.version));
    return rec ? `sha256:${rec.root}` : undefined;
  }

  /** Training provenance and evaluation events from the run that produced the version. */
  function runEvents(v: VersionSnap, run: Run, now: number): NormalizedEvent[] {
    const tags = kv(run.data?.tags);
    const params = kv(run.data?.params);
    const metrics: Record<string, number> = {};
    for (const m of run.data?.metrics ?? []) if (Number.isFinite(m.value)) metrics[m.key] = m.value;
    const datasets = (run.inputs?.dataset_inputs ?? []).map((d) => d.dataset).filter((d) => !!d);
    const inputs = datasets.map((d) => d!.source ?? (d!.name ? `${d!.name}${d!.digest ? `@${d!.digest}` : ''}` : undefined)).filter((s): s is string => !!s);
    const runId = run.info.run_id ?? run.info.run_uuid ?? v.run_id!;
    const user = tags['mlflow.user'] ?? run.info.user_id;
    const modelRef = `models:/${v.name}/${v.version}`;
    const model = { name: v.name, version: v.version, run_id: runId, artifact_uri: v.source };
    const out: NormalizedEvent[] = [
      base({
        id: stableId('mlflow', 'audit', 'provenance', v.name, v.version, runId), time: iso(run.info.end_time ?? run.info.start_time, now),
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
          // mlflow.* run tags are written by the logging client: who/what they name is asserted, not verified.
          actor_source: user ? (tags['mlflow.user'] ? 'run tag mlflow.user (client-asserted)' : 'run info user_id') : undefined,
          git_branch: tags['mlflow.source.git.branch'], datasets: datasets.length ? datasets : undefined, artifact_uri: run.info.artifact_uri,
          experiment_id: run.info.experiment_id, start_time: iso(run.info.start_time, now),
        },
      }),
    ];
    if (Object.keys(metrics).length) {
      out.push(base({
        id: stableId('mlflow', 'audit', 'evaluation', v.name, v.version, runId), time: iso(run.info.end_time ?? run.info.start_time, now),
        stage: 'evaluation', action: 'evaluation.metrics', operation: 'runs/get', resource: versionResource(v, false),
        actor: user ? { id: user, name: user, type: 'user' } : undefined, ml: { model, metrics, provenance: { run_id: runId } },
        details: { metric_steps: Object.fromEntries((run.data?.metrics ?? []).map((m) => [m.key, m.step])) },
      }));
    }
    return out;
  }

  /** Run provenance + registered hash for one new version. Throws when it must be retried next cycle. */
  async function processNewVersion(v: VersionSnap, signal: AbortSignal, now: number): Promise<NormalizedEvent[]> {
    const events: NormalizedEvent[] = [];
    if (cfg.run_provenance && v.run_id) {
      try {
        events.push(...runEvents(v, await client.getRun(v.run_id, signal), now));
      } catch (err) {
        if (!(err instanceof MlflowApiError) || err.status !== 404) throw err;
        events.push(base({
          id: stableId('mlflow', 'audit', 'provenance_missing', v.name, v.version, v.run_id), time: iso(v.creation_timestamp, now), stage: 'training',
          action: 'run.provenance', operation: 'runs/get', outcome: 'failure', error: { code: err.errorCode, message: err.message },
          resource: { type: 'run', id: v.run_id }, ml: { model: { name: v.name, version: v.version, run_id: v.run_id } },
          details: { reason: 'the run that produced this version does not exist (deleted or never logged here)' },
        }));
      }
    }
    if (cfg.hash_artifacts) {
      const mv = { name: v.name, version: v.version, source: v.source } as ModelVersion;
      const loc = await resolveArtifactLocation(client, mv, signal);
      const res = versionResource(v, false);
      if (loc.kind === 'unreachable') {
        events.push(base({
          id: stableId('mlflow', 'audit', 'hash_unreachable', v.name, v.version, loc.uri), time: iso(undefined, now), stage: 'registry',
          action: 'model_version.hash_registered', operation: 'artifacts/manifest', outcome: 'failure', error: { message: loc.reason },
          resource: res, ml: { model: { name: v.name, version: v.version, artifact_uri: loc.uri } },
        }));
      } else {
        const manifest = await manifestOf(client, loc, cfg.download_concurrency, signal);
        const rec: HashRecord = { root: manifest.root, files: manifest.files, location: loc.uri, registered_at: new Date(now).toISOString() };
        state.set(NS, hashKey(v.name, v.version), rec);
        events.push(base({
          id: stableId('mlflow', 'audit', 'hash_registered', v.name, v.version, manifest.root), time: iso(undefined, now), stage: 'registry',
          action: 'model_version.hash_registered', operation: 'artifacts/manifest', resource: res,
          ml: { model: { name: v.name, version: v.version, sha256: manifest.root, artifact_uri: loc.uri, run_id: v.run_id } },
          details: { files: manifest.files.length, bytes: manifest.files.reduce((s, f) => s + f.size, 0), manifest: manifest.files.slice(0, 200) },
        }));
        if (cfg.digest_tag) {
          await client.setModelVersionTag(v.name, v.version, cfg.digest_tag, `sha256:${manifest.root}`, signal).catch((err: unknown) =>
            log.warn({ err: describeError(err), model: v.name, version: v.version, code: 'MLTRAIL_ERR_UPSTREAM' }, 'could not write the digest tag back'));
        }
      }
    }
    return events;
  }

  async function verifyApproved(versions: Map<string, VersionSnap>, prompts: Set<string>, signal: AbortSignal, now: number): Promise<NormalizedEvent[]> {
    const out: NormalizedEvent[] = [];
    for (const v of versions.values()) {
      if (prompts.has(v.name) || approvalOfVersion(approvalCfg, v) !== 'approved') continue;
      const rec = state.get<HashRecord>(NS, hashKey(v.name, v.version));
      if (!rec) continue;
      const loc = await resolveArtifactLocation(client, { name: v.name, version: v.version, source: v.source } as ModelVersion, signal);
      if (loc.kind === 'unreachable') continue;
      const observed = await manifestOf(client, loc, cfg.download_concurrency, signal);
      if (observed.root === rec.root) {
        state.set(NS, hashKey(v.name, v.version), { ...rec, last_verified: new Date(now).toISOString() });
        continue;
      }
      const differing = diffManifests({ root: rec.root, files: rec.files }, observed);
      const before = new Map(rec.files.map((f) => [f.path, f.sha256]));
      const after = new Map(observed.files.map((f) => [f.path, f.sha256]));
      log.warn({ model: v.name, version: v.version, expected: rec.root, observed: observed.root, files: differing.slice(0, 20) }, 'model artifacts changed since registration');
      out.push(base({
        id: stableId('mlflow', 'audit', 'hash_mismatch', v.name, v.version, rec.root, observed.root), time: iso(undefined, now), stage: 'registry',
        action: 'model_version.hash_mismatch', operation: 'artifacts/verify', outcome: 'failure',
        error: { code: 'HASH_MISMATCH', message: `artifacts of ${v.name} version ${v.version} no longer match the registered digest` },
        resource: versionResource(v, false),
        ml: { model: { name: v.name, version: v.version, sha256: observed.root, artifact_uri: rec.location, approval: 'approved', aliases: v.aliases.length ? v.aliases : undefined, stage: v.current_stage } },
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
    log.warn({ code: 'MLTRAIL_ERR_UPSTREAM', tracking_uri: client.trackingUri, reason: describeError(err) }, 'mlflow registry audit failed');
    if (outage?.kind === kind) return; // one event per outage, not per poll
    outage = { kind, since: now };
    await deps.ingest.ingest([base({
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
    await deps.ingest.ingest([base({
      id: stableId('mlflow', 'audit', 'source_recovered', client.trackingUri, was.since), time: iso(undefined, now), stage: 'ingestion',
      action: 'source.recovered', operation: 'registry.poll', resource: { type: 'mlflow_server', id: client.trackingUri, uri: client.trackingUri },
      details: { after: was.kind, down_s: Math.round((now - was.since) / 1000) },
    })], AUDIT_CHANNEL);
  }

  /** One poll: snapshot, diff, persist, process new versions, verify when due. Never throws. */
  async function runOnce(): Promise<boolean> {
    const signal = controller.signal;
    const now = opts.now();
    let emitted = 0;
    try {
      const [models, versions] = await Promise.all([client.searchRegisteredModels(signal, cfg.page_size), client.searchModelVersions(signal, cfg.page_size)]);
      const meta = state.get<Meta>(NS, 'meta') ?? { initialized: false };
      const curModels = new Map(models.map((m) => [m.name, modelSnap(m)]));
      const curVersions = new Map(versions.map((v) => [versionKey(v.name, v.version), versionSnap(v)]));
      const prompts = new Set([...curModels.values()].filter((m) => m.prompt).map((m) => m.name));
      const prevModels = new Map(state.list<ModelSnap>(NS, 'model:').map((e) => [e.value.name, e.value]));
      const prevVersions = new Map(state.list<VersionSnap>(NS, 'version:').map((e) => [e.key, e.value]));
      for (const m of prevModels.values()) if (m.prompt) prompts.add(m.name);

      let events: NormalizedEvent[] = [];
      const newVersions: VersionSnap[] = [];
      if (meta.initialized) {
        events = diffModels(prevModels, curModels, now);
        const renamed = new Map(events.filter((e) => e.details?.old_name).map((e) => [e.details!.old_name as string, e.details!.new_name as string]));
        // Versions of a renamed model reappear under the new name: not deletions nor creations.
        const carried = new Map(prevVersions);
        for (const [key, p] of prevVersions) {
          const to = renamed.get(p.name);
          if (to) {
            carried.delete(key);
            carried.set(versionKey(to, p.version), { ...p, name: to });
          }
        }
        events.push(...diffVersions(carried, curVersions, prompts, renamed, now));
        for (const [key, v] of curVersions) if (!carried.has(key) && !prompts.has(v.name)) newVersions.push(v);
      } else {
        // First run: baseline silently, but register hashes / provenance of what exists.
        for (const v of curVersions.values()) if (!prompts.has(v.name)) newVersions.push(v);
      }
      if (events.length) await deps.ingest.ingest(events, AUDIT_CHANNEL);
      emitted += events.length;
      // Persist the snapshot only after its events are committed (a crash in between re-emits; stable ids collapse them).
      deps.spool.transaction(() => {
        for (const key of prevModels.keys()) if (!curModels.has(key)) state.delete(NS, modelKey(key));
        for (const [key] of prevVersions) if (!curVersions.has(key)) state.delete(NS, key);
        for (const m of curModels.values()) state.set(NS, modelKey(m.name), m);
        for (const [key, v] of curVersions) state.set(NS, key, v);
        for (const v of newVersions) state.set(NS, pendingKey(v.name, v.version), { name: v.name, version: v.version });
        state.set(NS, 'meta', { ...meta, initialized: true, last_verify_ms: meta.last_verify_ms ?? now });
      });
      await sourceRecovered(now);

      // New versions (and those a previous cycle could not finish).
      for (const { value } of state.list<{ name: string; version: string; attempts?: number }>(NS, 'pending:')) {
        const v = curVersions.get(versionKey(value.name, value.version));
        if (!v) {
          state.delete(NS, pendingKey(value.name, value.version));
          continue;
        }
        let r: NormalizedEvent[];
        try {
          r = await processNewVersion(v, signal, now);
        } catch (err) {
          if (signal.aborted) throw err;
          const attempts = (value.attempts ?? 0) + 1;
          const permanent = err instanceof MlflowApiError && !err.retryable && !err.isAuth;
          // Transient or auth trouble is the source's: keep the version pending for the next
          // cycle, but not forever — one broken version must not stall the auditor.
          if (!permanent && attempts < PENDING_MAX_CYCLES) {
            state.set(NS, pendingKey(v.name, v.version), { ...value, attempts });
            throw err;
          }
          const e = err instanceof MlflowApiError ? err : undefined;
          r = [base({
            id: stableId('mlflow', 'audit', 'version_audit_failed', v.name, v.version, describeError(err)), time: iso(undefined, now), stage: 'registry',
            action: 'model_version.hash_registered', operation: 'artifacts/manifest', outcome: 'failure',
            error: { code: e?.errorCode ?? (e?.status ? `HTTP_${e.status}` : 'ERROR'), message: describeError(err) },
            resource: versionResource(v, false), ml: { model: { name: v.name, version: v.version, artifact_uri: v.source, run_id: v.run_id } },
            details: { cycles: attempts },
          })];
        }
        if (r.length) await deps.ingest.ingest(r, AUDIT_CHANNEL);
        emitted += r.length;
        state.delete(NS, pendingKey(v.name, v.version));
      }

      const m2 = state.get<Meta>(NS, 'meta')!;
      if (cfg.hash_artifacts && now - (m2.last_verify_ms ?? 0) >= cfg.verify_interval_s * 1000) {
        const mismatches = await verifyApproved(curVersions, prompts, signal, now);
        if (mismatches.length) await deps.ingest.ingest(mismatches, AUDIT_CHANNEL);
        emitted += mismatches.length;
        state.set(NS, 'meta', { ...m2, last_verify_ms: now });
      }
      health = { state: 'healthy' };
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
    name: 'mlflow.registry-auditor',
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
