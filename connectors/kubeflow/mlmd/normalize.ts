import { makeEvent, stableId, type NormalizedEvent, type Stage } from '../../../core/schema/index.js';
import { customString, mlmdValueToJson, type MlmdArtifact, type MlmdContext, type MlmdEvent, type MlmdExecution } from './types.js';

/** Everything MLMD holds about one KFP run (the system.PipelineRun context and its neighbourhood). */
export interface RunGraph {
  run: MlmdContext;
  pipeline?: MlmdContext;
  executions: MlmdExecution[];
  events: MlmdEvent[];
  artifacts: MlmdArtifact[];
}

/** What the KFP REST poller learnt about the run (who launched it, from which version). */
export interface RunInfo {
  service_account?: string;
  namespace?: string;
  experiment_id?: string;
  pipeline_id?: string;
  pipeline_version_id?: string;
  display_name?: string;
}

export interface MlmdNormalizeContext {
  channel: string;
  receivedTime: string;
  keepRaw: boolean;
}

const METRICS_TYPES = new Set(['system.Metrics', 'system.ClassificationMetrics', 'system.SlicedClassificationMetrics']);
const STEP_TYPES = new Set(['system.ContainerExecution', 'system.ImporterExecution', 'system.ImporterWorkspaceExecution']);
/** Artifact custom properties that are bookkeeping, not metric values (KFP's reader skips them too). */
const NON_METRIC_KEYS = new Set(['display_name', 'store_session_info']);

const ms = (v: string | undefined) => (v && Number(v) > 0 ? new Date(Number(v)).toISOString() : undefined);
const eventKey = (e: MlmdEvent) => e.path?.steps?.find((s) => s.key !== undefined)?.key;

const STEP_ACTION: Record<string, NormalizedEvent['action']> = {
  RUNNING: 'pipeline_step.start',
  COMPLETE: 'pipeline_step.complete',
  FAILED: 'pipeline_step.fail',
  CACHED: 'pipeline_step.cached',
};
const RUN_ACTION: Record<string, NormalizedEvent['action']> = {
  RUNNING: 'pipeline_run.start',
  COMPLETE: 'pipeline_run.complete',
  FAILED: 'pipeline_run.fail',
  CANCELED: 'pipeline_run.stop',
};

/** Artifact custom properties as JSON, without the object-store session (it names credential Secrets). */
function artifactMetadata(a: MlmdArtifact): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a.custom_properties ?? {})) if (!NON_METRIC_KEYS.has(k)) out[k] = mlmdValueToJson(v);
  return Object.keys(out).length ? out : undefined;
}

/** Scalar metric values of a metrics artifact (`custom_properties[name].double_value`). */
export function metricValues(a: MlmdArtifact): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(a.custom_properties ?? {})) {
    if (NON_METRIC_KEYS.has(k)) continue;
    if (v.double_value !== undefined) out[k] = v.double_value;
    else if (v.int_value !== undefined && Number.isSafeInteger(Number(v.int_value))) out[k] = Number(v.int_value);
  }
  return Object.keys(out).length ? out : undefined;
}

/** Provider and Secret name of `store_session_info` (which credentials the step used). */
function storeSession(a: MlmdArtifact): Record<string, unknown> | undefined {
  const raw = a.custom_properties?.store_session_info?.string_value;
  if (!raw) return undefined;
  try {
    const s = JSON.parse(raw) as { Provider?: string; Params?: Record<string, string> };
    return { provider: s.Provider, secret_name: s.Params?.secretName, endpoint: s.Params?.endpoint, from_env: s.Params?.fromEnv };
  } catch {
    return undefined;
  }
}

/**
 * Turn a run's MLMD graph into events for the executions in `changed`:
 * run started/finished (root DAG), each step (ContainerExecution, importer),
 * and each artifact it consumed or produced, with provenance (run → step →
 * upstream datasets → output URIs). Ids come from the KFP run id, the MLMD ids
 * and the state, so re-reading the same graph yields the same ids.
 *
 * @example
 * const events = normalizeMlmdRun(graph, new Set(['12']), { channel: 'kubeflow.mlmd', receivedTime, keepRaw: true });
 */
export function normalizeMlmdRun(graph: RunGraph, changed: ReadonlySet<string>, ctx: MlmdNormalizeContext, info: RunInfo = {}): NormalizedEvent[] {
  const runId = graph.run.name ?? graph.run.id;
  const namespace = customString(graph.run, 'namespace') || info.namespace || undefined;
  const pipelineName = graph.pipeline?.name;
  const artifacts = new Map(graph.artifacts.map((a) => [a.id, a]));
  const byExec = new Map<string, MlmdEvent[]>();
  const producer = new Map<string, string>();
  for (const e of graph.events) {
    if (!e.execution_id) continue;
    const list = byExec.get(e.execution_id) ?? [];
    list.push(e);
    byExec.set(e.execution_id, list);
    if (e.type === 'OUTPUT' && e.artifact_id) producer.set(e.artifact_id, e.execution_id);
  }
  const io = (execId: string, type: 'INPUT' | 'OUTPUT') =>
    (byExec.get(execId) ?? []).filter((e) => e.type === type).map((e) => ({ e, a: artifacts.get(e.artifact_id ?? '') })).filter((x): x is { e: MlmdEvent; a: MlmdArtifact } => !!x.a);
  const uris = (xs: Array<{ a: MlmdArtifact }>) => xs.map((x) => x.a.uri).filter((u): u is string => !!u);

  /** Dataset URIs anywhere upstream of an execution, inside this run. */
  const upstreamDatasets = (execId: string, seen = new Set<string>()): string[] => {
    if (seen.has(execId)) return [];
    seen.add(execId);
    const out = new Set<string>();
    for (const { a } of io(execId, 'INPUT')) {
      if (a.type === 'system.Dataset' && a.uri) out.add(a.uri);
      const p = producer.get(a.id);
      if (p) for (const u of upstreamDatasets(p, seen)) out.add(u);
    }
    return [...out];
  };
  const stepStage = (execId: string): Stage => {
    const outs = io(execId, 'OUTPUT').map((x) => x.a.type);
    if (outs.includes('system.Model')) return 'training';
    if (outs.some((t) => t && METRICS_TYPES.has(t))) return 'evaluation';
    if (outs.includes('system.Dataset')) return io(execId, 'INPUT').length ? 'preprocessing' : 'ingestion';
    return 'training';
  };

  const actor: NormalizedEvent['actor'] = info.service_account
    ? { type: 'service', name: info.service_account, id: namespace ? `system:serviceaccount:${namespace}:${info.service_account}` : info.service_account }
    : undefined;
  const base = { platform: 'kubeflow' as const, channel: ctx.channel, received_time: ctx.receivedTime, service: 'ml-metadata', actor };
  const runDetails = {
    pipeline_root: customString(graph.run, 'pipeline_root') || undefined,
    mlmd_run_context_id: graph.run.id,
    experiment_id: info.experiment_id,
  };
  const events: NormalizedEvent[] = [];

  for (const x of graph.executions) {
    if (!changed.has(x.id)) continue;
    const state = x.last_known_state ?? 'UNKNOWN';
    const time = (state === 'RUNNING' ? ms(x.create_time_since_epoch) : ms(x.last_update_time_since_epoch)) ?? ms(x.create_time_since_epoch) ?? ctx.receivedTime;
    const params = x.custom_properties?.inputs ? (mlmdValueToJson(x.custom_properties.inputs) as Record<string, unknown>) : undefined;
    const isRoot = x.type === 'system.DAGExecution' && !x.custom_properties?.parent_dag_id;
    const inputs = io(x.id, 'INPUT');
    const outputs = io(x.id, 'OUTPUT');
    const provenance = {
      run_id: runId,
      pipeline_run: runId,
      pipeline: pipelineName,
      pipeline_version: info.pipeline_version_id,
      step: customString(x, 'task_name') || undefined,
      inputs: uris(inputs).length ? uris(inputs) : undefined,
      outputs: uris(outputs).length ? uris(outputs) : undefined,
    };

    if (isRoot) {
      events.push(
        makeEvent(
          {
            ...base,
            id: stableId('kubeflow', 'mlmd', runId, 'execution', x.id, state),
            time,
            stage: 'training',
            action: RUN_ACTION[state] ?? 'pipeline_run.status_change',
            operation: `mlmd.run.${state.toLowerCase()}`,
            outcome: state === 'FAILED' ? 'failure' : state === 'UNKNOWN' ? 'unknown' : 'success',
            resource: { type: 'pipeline_run', id: runId, name: info.display_name ?? pipelineName, namespace },
            ml: { job: { name: pipelineName, type: 'kfp.run', status: state, params }, provenance: { run_id: runId, pipeline: pipelineName, pipeline_version: info.pipeline_version_id, pipeline_run: runId } },
            details: { ...runDetails, mlmd_execution_id: x.id, execution_name: x.name, state },
          },
          { raw: x, keepRaw: ctx.keepRaw },
        ),
      );
      continue;
    }
    if (!STEP_TYPES.has(x.type ?? '')) continue; // nested DAGs roll up into their steps

    const taskName = customString(x, 'task_name') || customString(x, 'display_name') || x.id;
    const image = customString(x, 'image') || undefined;
    events.push(
      makeEvent(
        {
          ...base,
          id: stableId('kubeflow', 'mlmd', runId, 'execution', x.id, state),
          time,
          stage: stepStage(x.id),
          action: STEP_ACTION[state] ?? 'pipeline_step.status_change',
          operation: `mlmd.step.${state.toLowerCase()}`,
          outcome: state === 'FAILED' ? 'failure' : state === 'UNKNOWN' ? 'unknown' : 'success',
          resource: { type: 'pipeline_step', id: `${runId}/${x.id}`, name: taskName, namespace },
          ml: {
            job: { name: taskName, type: x.type, status: state, image, params },
            provenance,
            data: { inputs: upstreamDatasets(x.id).length ? upstreamDatasets(x.id) : undefined, outputs: provenance.outputs },
          },
          details: {
            ...runDetails,
            mlmd_execution_id: x.id,
            execution_type: x.type,
            state,
            task_name: customString(x, 'task_name') || undefined,
            display_name: customString(x, 'display_name') || undefined,
            pod_name: customString(x, 'pod_name') || undefined,
            pod_uid: customString(x, 'pod_uid') || undefined,
            pod_namespace: customString(x, 'namespace') || undefined,
            parent_dag_id: customString(x, 'parent_dag_id') || undefined,
            cached_execution_id: customString(x, 'cached_execution_id') || undefined,
            cache_reused: state === 'CACHED' || undefined,
            cache_fingerprint: customString(x, 'cache_fingerprint') || undefined,
          },
        },
        { raw: x, keepRaw: ctx.keepRaw },
      ),
    );

    const upstream = upstreamDatasets(x.id);
    for (const { e, a } of [...inputs, ...outputs]) {
      const produced = e.type === 'OUTPUT';
      const type = a.type ?? 'unknown';
      const isMetrics = METRICS_TYPES.has(type);
      // Produced: by what it is. Consumed: by what the consuming step does with it.
      let stage: Stage = stepStage(x.id);
      if (produced && type === 'system.Dataset') stage = inputs.length ? 'preprocessing' : 'ingestion';
      else if (produced && type === 'system.Model') stage = 'training';
      else if (isMetrics) stage = 'evaluation';
      const name = eventKey(e);
      const metadata = artifactMetadata(a);
      const classification = type === 'system.ClassificationMetrics' ? metadata : undefined;
      events.push(
        makeEvent(
          {
            ...base,
            id: stableId('kubeflow', 'mlmd', runId, 'event', x.id, a.id, e.type, name),
            time: ms(e.milliseconds_since_epoch) ?? time,
            stage,
            action: produced ? (isMetrics ? 'evaluation.metrics' : 'artifact.produce') : 'artifact.consume',
            operation: `mlmd.event.${(e.type ?? 'unknown').toLowerCase()}`,
            outcome: 'success',
            resource: { type, id: `mlmd:artifact:${a.id}`, name: customString(a, 'display_name') || name, uri: a.uri, namespace },
            ml: {
              model: type === 'system.Model' ? { artifact_uri: a.uri, run_id: runId, name: customString(a, 'display_name') || name } : undefined,
              metrics: isMetrics && produced ? metricValues(a) : undefined,
              data: type === 'system.Dataset' ? { uris: a.uri ? [a.uri] : undefined } : produced && upstream.length ? { inputs: upstream, outputs: a.uri ? [a.uri] : undefined } : undefined,
              provenance: { ...provenance, upstream_datasets: upstream.length ? upstream : undefined },
            },
            details: {
              ...runDetails,
              mlmd_execution_id: x.id,
              mlmd_artifact_id: a.id,
              artifact_type: type,
              artifact_role: name,
              artifact_state: a.state,
              event_type: e.type,
              step_state: state,
              pod_name: customString(x, 'pod_name') || undefined,
              store_session: storeSession(a),
              artifact_metadata: classification ? undefined : metadata,
              confusion_matrix: classification?.confusionMatrix,
              confidence_metrics: classification?.confidenceMetrics,
            },
          },
          { raw: { event: e, artifact: a }, keepRaw: ctx.keepRaw },
        ),
      );
    }
  }
  return events;
}
