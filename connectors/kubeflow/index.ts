import type { ConnectorPlugin, NormalizeContext, NormalizeOutput, Poller } from '../../core/connector.js';
import { auditItems, normalizeAudit } from './audit.js';
import { KubeflowConfig, kubeflowFromEnv } from './config.js';
import { kfpItems, normalizeKfp } from './kfp/normalize.js';
import { KfpPoller } from './kfp/poller.js';
import { MlmdPoller } from './mlmd/poller.js';
import { mountAuditRoute } from './route.js';

/**
 * Normalize one Kubeflow record: a Kubernetes audit EventList/Event (webhook
 * or log backend, v1/v1beta1, AKS wrapper) or a KFP v2beta1 REST object/page.
 * The namespace filter is not applied here (only on the live webhook route).
 */
function normalize(record: unknown, ctx: NormalizeContext<KubeflowConfig>): NormalizeOutput {
  const items = auditItems(record);
  if (items) return normalizeAudit(record, ctx, items);
  if (kfpItems(record)) return normalizeKfp(record, ctx);
  return {
    events: [],
    rejected: [{ reason: 'not a Kubernetes audit Event/EventList nor a KFP v2beta1 run, recurring run, pipeline, pipeline version or experiment', record }],
    skipped: [],
  };
}

/**
 * The Kubeflow connector: Kubernetes audit webhook, ML Metadata poller and
 * KFP REST poller.
 */
export const kubeflowConnector: ConnectorPlugin<KubeflowConfig> = {
  name: 'kubeflow',
  platform: 'kubeflow',
  description: 'Kubeflow: Kubernetes audit webhook, ML Metadata (gRPC) and Pipelines v2beta1 REST pollers',
  configSchema: KubeflowConfig,
  fromEnv: kubeflowFromEnv,
  detect: (record) => auditItems(record) !== undefined || kfpItems(record) !== undefined,
  normalize,
  routes: mountAuditRoute,
  pollers(deps) {
    const out: Poller[] = [];
    if (deps.config.mlmd.address) out.push(new MlmdPoller(deps));
    // KFP REST is also the fallback when MLMD is absent (KFP plans to drop MLMD).
    if (deps.config.kfp.url) out.push(new KfpPoller(deps));
    return out;
  },
};
