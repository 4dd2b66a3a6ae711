import { stableId, type NormalizedEvent } from '../../core/schema/index.js';
import type { Run } from './client.js';
import { auditEvent, versionResource, type AuditDraft } from './events.js';
import { iso, kv, type VersionSnap } from './snapshot.js';
import { safeUri } from './uri.js';

/**
 * Training provenance (stage training) and evaluation metrics (stage
 * evaluation) events from the run that produced a model version.
 *
 * @example
 * runEvents(versionSnap(mv), await client.getRun(mv.run_id, signal), Date.now(), new Date().toISOString())
 */
export function runEvents(v: VersionSnap, run: Run, now: number, receivedTime: string): NormalizedEvent[] {
  const base = (d: AuditDraft) => auditEvent(d, receivedTime);
  const tags = kv(run.data?.tags);
  const params = kv(run.data?.params);
  const metrics: Record<string, number> = {};
  for (const m of run.data?.metrics ?? []) if (Number.isFinite(m.value)) metrics[m.key] = m.value;
  const datasets = (run.inputs?.dataset_inputs ?? []).map((d) => d.dataset).filter((d) => !!d);
  const inputs = datasets.map((d) => safeUri(datasetLocation(d!.source)) ?? (d!.name ? `${d!.name}${d!.digest ? `@${d!.digest}` : ''}` : undefined)).filter((s): s is string => !!s);
  const runId = run.info.run_id ?? run.info.run_uuid ?? v.run_id!;
  const user = tags['mlflow.user'] ?? run.info.user_id;
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
        // mlflow.* run tags are written by the logging client: who/what they name is asserted, not verified.
        actor_source: user ? (tags['mlflow.user'] ? 'run tag mlflow.user (client-asserted)' : 'run info user_id') : undefined,
        git_branch: tags['mlflow.source.git.branch'], datasets: datasets.length ? datasets.map((d) => ({ ...d, source: safeDatasetSource(d!.source) })) : undefined, artifact_uri: safeUri(run.info.artifact_uri),
        experiment_id: run.info.experiment_id, start_time: iso(run.info.start_time, now, 'start_time'),
      },
    }),
  ];
  if (Object.keys(metrics).length) {
    out.push(base({
      id: stableId('mlflow', 'audit', 'evaluation', v.name, v.version, v.creation_timestamp, runId), time: iso(run.info.end_time ?? run.info.start_time, now, run.info.end_time !== undefined ? 'end_time' : 'start_time'),
      stage: 'evaluation', action: 'evaluation.metrics', operation: 'runs/get', resource: versionResource(v, false),
      actor: user ? { id: user, name: user, type: 'user' } : undefined, ml: { model, metrics, provenance: { run_id: runId } },
      details: { metric_steps: Object.fromEntries((run.data?.metrics ?? []).map((m) => [m.key, m.step])) },
    }));
  }
  return out;
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
