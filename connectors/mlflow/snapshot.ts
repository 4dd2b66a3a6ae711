import type { ModelVersion, RegisteredModel } from './client.js';
import type { Manifest } from '../../core/integrity/manifest.js';
import type { NormalizedEvent } from '../../core/schema/index.js';

/** The auditor's persisted view of the registry (spool state namespace `mlflow.registry`). */
export const NS = 'mlflow.registry';
export const PROMPT_TAG = 'mlflow.prompt.is_prompt';
/** Poll cycles a new version may fail transiently before it is reported as unauditable. */
export const PENDING_MAX_CYCLES = 5;

/** What the auditor remembers of a registered model between polls. */
export interface ModelSnap {
  name: string;
  description: string;
  tags: Record<string, string>;
  aliases: Record<string, string>;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  prompt: boolean;
  /** Changes seen so far per field/tag/alias (see `nextChange`). */
  changes?: Record<string, number>;
}

export interface VersionSnap {
  name: string;
  version: string;
  current_stage?: string;
  status?: string;
  user_id?: string;
  source?: string;
  run_id?: string;
  /** MLflow 3: the logged model the version was registered from (`m-<hex>`). */
  model_id?: string;
  description: string;
  tags: Record<string, string>;
  aliases: string[];
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  /** Changes seen so far per field/tag (see `nextChange`). */
  changes?: Record<string, number>;
}

/** A version awaiting provenance/hashing; the parts already done are not redone. */
export interface PendingVersion {
  name: string;
  version: string;
  /** Cycles that failed on this version while the registry itself read fine. */
  attempts?: number;
  /** Why the last attempt failed (shown in health until the version is done or given up). */
  last_error?: string;
  provenance_done?: boolean;
  hash_done?: boolean;
  /**
   * What the rules must learn of its approval state (at the first run: `baselineState`; else the
   * aliases, stage and approval tags it carried when first seen), taken with the snapshot and
   * committed after the run's events, so an approval is judged with its evaluation on record.
   */
  approvals?: NormalizedEvent[];
  approvals_done?: boolean;
}

/**
 * The metrics of a version's run as the auditor read them when it first saw the version (each key's latest value, as
 * `runs/get` shows it), kept to compare with the run read again at the version's approval: a value logged or
 * overwritten since (a higher `step`, whatever timestamp its client gave it) is evidence rewritten after registration.
 */
export interface RunMetricsRecord {
  run_id: string;
  read_at: string;
  /** The run's status then (`FINISHED`; a `RUNNING` run still logs its own metrics). */
  run_status?: string;
  /** The run's experiment: where MLflow 2 evaluation runs of the version are searched for. */
  experiment_id?: string;
  metrics: Record<string, { value: number; step?: number; timestamp?: number }>;
}

/** The registered hash of a version: the manifest taken when the auditor first saw it. */
export interface HashRecord {
  root: string;
  /** The `model_uuid` of the version's MLmodel: what MLflow 2's `mlflow.evaluate` names the model by (`mlflow.datasets`). */
  model_uuid?: string;
  files: Manifest['files'];
  location: string;
  registered_at: string;
  last_verified?: string;
}

export interface Meta {
  initialized: boolean;
  last_verify_ms?: number;
}

export const modelKey = (name: string) => `model:${name}`;
export const versionKey = (name: string, version: string) => `version:${JSON.stringify([name, version])}`;
export const hashKey = (name: string, version: string) => `hash:${JSON.stringify([name, version])}`;
export const pendingKey = (name: string, version: string) => `pending:${JSON.stringify([name, version])}`;
export const runMetricsKey = (name: string, version: string) => `runmetrics:${JSON.stringify([name, version])}`;
export const kv = (list?: Array<{ key: string; value: string }>) => Object.fromEntries((list ?? []).map((t) => [t.key, t.value]));
/** 9999-12-31T23:59:59.999Z: the last instant RFC 3339 (and the event schema) can write. */
const LAST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const BAD_TIME = /^invalid ([a-z_]+) (.*)$/;

/**
 * RFC 3339 time of an MLflow epoch-milliseconds field (`field` names it).
 * Unset (absent, or 0: the proto default) → `fallback`, the poll's own time,
 * as for the changes MLflow does not date. A value no time can be (negative,
 * past year 9999) is not replaced by another time: the result is the marker
 * `invalid <field> <value>`, which the auditor's commit quarantines naming
 * the field (`badTime`); anywhere else it fails the event schema.
 *
 * @example
 * iso(1755680000000, Date.now(), 'creation_timestamp') // '2025-08-20T08:53:20.000Z'
 * iso(-5, Date.now(), 'creation_timestamp') // 'invalid creation_timestamp -5'
 */
export function iso(ms: number | undefined, fallback: number, field = 'time'): string {
  if (ms === undefined || ms === 0) return new Date(fallback).toISOString();
  return ms > 0 && ms <= LAST_MS ? new Date(ms).toISOString() : `invalid ${field} ${ms}`;
}

/** The native field and a reason when `time` is an `iso` marker, else undefined. */
export function badTime(time: string): { field: string; reason: string } | undefined {
  const m = BAD_TIME.exec(time);
  return m ? { field: m[1]!, reason: `MLflow's ${m[1]} ${m[2]} is not a valid time (epoch milliseconds, years 1970-9999)` } : undefined;
}

/**
 * Number the next change of `key` on a snapshot: one more than the count the
 * persisted previous snapshot holds, recorded on the current one. MLflow does
 * not move `last_updated_timestamp` for tag and alias writes, so this count is
 * what tells a repeated move (champion v1→v2→v1→v2) apart in event ids, while a
 * re-diff of the same persisted snapshot after a crash gives the same number.
 */
export function nextChange(prev: { changes?: Record<string, number> }, cur: { changes?: Record<string, number> }, key: string): number {
  const n = (prev.changes?.[key] ?? 0) + 1;
  cur.changes = { ...prev.changes, ...cur.changes, [key]: n };
  return n;
}

/** Same number, different version: deleted and re-created (MLflow reuses max+1) between two polls. */
export function recreated(p: VersionSnap, v: VersionSnap): boolean {
  return p.creation_timestamp !== undefined && v.creation_timestamp !== undefined && p.creation_timestamp !== v.creation_timestamp;
}

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
    ...(v.model_id ? { model_id: v.model_id } : {}),
    description: v.description ?? '',
    tags: kv(v.tags),
    aliases: [...(v.aliases ?? [])].sort(),
    creation_timestamp: v.creation_timestamp,
    last_updated_timestamp: v.last_updated_timestamp,
  };
}
