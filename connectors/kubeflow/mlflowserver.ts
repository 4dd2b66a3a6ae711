import type { NormalizedEvent } from '../../core/schema/index.js';
import type { KubeflowConfig } from './config.js';

/**
 * The MLflow server a cluster's KServe deployments load `models:/…` from (`connectors.kubeflow.mlflow_server` for the
 * default cluster, `clusters[].mlflow_server` for a configured one). A `models:/fraud@champion` URI names no server;
 * this tells the rules whose versions and aliases it means. Undefined: not said (judged as before).
 */
export function mlflowServerOf(cfg: Pick<KubeflowConfig, 'mlflow_server' | 'clusters'> | undefined, cluster: string | undefined): string | undefined {
  if (!cfg) return undefined;
  return cluster === undefined ? cfg.mlflow_server : cfg.clusters.find((c) => c.id === cluster)?.mlflow_server;
}

const REGISTRY_URI = /^models:\//;

/**
 * The event with `ml.deployment.mlflow_server` set to `server` where it deploys a `models:/` URI, and removed where
 * `server` is unset (a configured cluster does not take the default cluster's).
 */
export function withMlflowServer(ev: NormalizedEvent, server: string | undefined): NormalizedEvent {
  const d = ev.ml?.deployment;
  if (!d) return ev;
  const uris = [d.model_uri, ...(d.model_uris ?? [])];
  if (!uris.some((u) => typeof u === 'string' && REGISTRY_URI.test(u))) return ev;
  const { mlflow_server: _old, ...rest } = d;
  return { ...ev, ml: { ...ev.ml, deployment: server === undefined ? rest : { ...rest, mlflow_server: server } } };
}
