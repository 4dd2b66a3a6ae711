import { fromServer, type NormalizedEvent } from '../../core/schema/index.js';
import type { KubeflowConfig } from './config.js';
import { withClusterMlflow } from './mlflowserver.js';

/**
 * An event as one of the configured clusters (`connectors.kubeflow.clusters[].id`) produced it, whichever source
 * read it (audit webhook, KFP or MLMD poller): its id and `cloud.account` are the cluster's (core/schema/origin.ts),
 * and a `models:/` deployment names that cluster's MLflow server and workspace. The default cluster's events (`cluster`
 * undefined) are returned as they are: their ids stay as they were.
 */
export function forCluster(ev: NormalizedEvent, cfg: Pick<KubeflowConfig, 'mlflow_server' | 'mlflow_workspace' | 'clusters'>, cluster: string | undefined): NormalizedEvent {
  return cluster === undefined ? ev : fromServer(withClusterMlflow(ev, cfg, cluster), cluster);
}

/**
 * A poller's name or state namespace for `cluster` (`kubeflow.kfp@cluster-b`, as the MLflow auditors'
 * `mlflow.registry-auditor@team`): each cluster's cursors and seen-state are its own. Unchanged for the default cluster.
 */
export function ofCluster(name: string, cluster: string | undefined): string {
  return cluster === undefined ? name : `${name}@${cluster}`;
}
