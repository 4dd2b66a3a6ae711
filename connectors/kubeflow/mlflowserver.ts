import type { NormalizedEvent } from '../../core/schema/index.js';
import type { KubeflowConfig } from './config.js';

type MlflowOriginConfig = Pick<KubeflowConfig, 'mlflow_server' | 'mlflow_workspace' | 'clusters'>;

/**
 * The MLflow server a cluster's KServe deployments load `models:/…` from (`connectors.kubeflow.mlflow_server` for the
 * default cluster, `clusters[].mlflow_server` for a configured one). A `models:/fraud@champion` URI names no server;
 * this tells the rules whose versions and aliases it means. Undefined: not said (judged as before).
 */
export function mlflowServerOf(cfg: Pick<KubeflowConfig, 'mlflow_server' | 'clusters'> | undefined, cluster: string | undefined): string | undefined {
  if (!cfg) return undefined;
  return cluster === undefined ? cfg.mlflow_server : cfg.clusters.find((c) => c.id === cluster)?.mlflow_server;
}

/**
 * The MLflow workspace (of mlflowServerOf's server, else of the default server) a cluster's KServe deployments load
 * `models:/…` from when their predictor does not say (`mlflow_workspace`, as mlflowServerOf). Undefined: not said.
 */
export function mlflowWorkspaceOf(cfg: Pick<KubeflowConfig, 'mlflow_workspace' | 'clusters'> | undefined, cluster: string | undefined): string | undefined {
  if (!cfg) return undefined;
  return cluster === undefined ? cfg.mlflow_workspace : cfg.clusters.find((c) => c.id === cluster)?.mlflow_workspace;
}

const REGISTRY_URI = /^models:\//;

/** True when a deployment names an MLflow registry URI (`models:/…`). */
export function deploysRegistryUri(d: { model_uri?: unknown; model_uris?: unknown[] } | undefined): boolean {
  if (!d) return false;
  return [d.model_uri, ...(d.model_uris ?? [])].some((u) => typeof u === 'string' && REGISTRY_URI.test(u));
}

/**
 * The event with `ml.deployment.mlflow_server` set to `server` where it deploys a `models:/` URI, and removed where
 * `server` is unset (a configured cluster does not take the default cluster's). `ml.deployment.mlflow_workspace`
 * keeps what the predictor's own `MLFLOW_WORKSPACE` env said (set by the audit normalizer, kserve.ts; applied once
 * per event, normalizeAuditEvent with its cluster), else becomes `workspace`, the cluster's setting.
 */
export function withMlflowServer(ev: NormalizedEvent, server: string | undefined, workspace?: string): NormalizedEvent {
  const d = ev.ml?.deployment;
  if (!d || !deploysRegistryUri(d)) return ev;
  const { mlflow_server: _old, mlflow_workspace: own, ...rest } = d;
  const ws = typeof own === 'string' && own ? own : workspace;
  return { ...ev, ml: { ...ev.ml, deployment: { ...rest, ...(server === undefined ? {} : { mlflow_server: server }), ...(ws === undefined ? {} : { mlflow_workspace: ws }) } } };
}

/** withMlflowServer with `cluster`'s settings (undefined: the default cluster's). */
export function withClusterMlflow(ev: NormalizedEvent, cfg: MlflowOriginConfig | undefined, cluster: string | undefined): NormalizedEvent {
  return withMlflowServer(ev, mlflowServerOf(cfg, cluster), mlflowWorkspaceOf(cfg, cluster));
}
