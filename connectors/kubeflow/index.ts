import type { ConnectorPlugin, NormalizeContext, NormalizeOutput, Poller } from '../../core/connector.js';
import { auditFieldError, auditItems, isAuditEvent, normalizeAudit } from './audit.js';
import { KfpConfig, KubeflowConfig, kubeflowFromEnv, MlmdConfig, withMlflowRegistryUrls } from './config.js';
import { relevanceOrKeep } from './filter.js';
import { watchedBy as watchedByGlobs } from './namespaces.js';
import { kfpItems, normalizeKfp } from './kfp/normalize.js';
import { KfpPoller } from './kfp/poller.js';
import { MlmdPoller } from './mlmd/poller.js';
import { mountAuditRoute } from './route.js';

/** The watched-namespace test of a configuration, built once per configuration (a replay calls it per record). */
const watchedBy = (cfg: KubeflowConfig) => watchedByGlobs(cfg.namespaces);

/**
 * Normalize one Kubeflow record: a Kubernetes audit EventList/Event (webhook
 * or log backend, v1/v1beta1, AKS wrapper) or a KFP v2beta1 REST object/page.
 * The audit route's namespace filter applies only with `ctx.liveFilter` (replay): items it leaves out are
 * counted in `filtered`; as on the route, an item that is no valid audit Event is left to normalizing,
 * which says what is wrong with it.
 */
function normalize(record: unknown, ctx: NormalizeContext<KubeflowConfig>): NormalizeOutput {
  const items = auditItems(record);
  if (items && ctx.liveFilter && !ctx.config.audit.keep_all) {
    const watched = watchedBy(ctx.config);
    const filtered: Record<string, number> = {};
    const kept = items.filter(({ item }) => {
      if (!isAuditEvent(item) || auditFieldError(item)) return true;
      const rel = relevanceOrKeep(item, watched);
      if (!rel.keep) filtered[rel.why] = (filtered[rel.why] ?? 0) + 1;
      return rel.keep;
    });
    return { ...normalizeAudit(record, ctx, kept), filtered };
  }
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
  clientCaFiles: (cfg) => [cfg.audit.client_ca_file, ...cfg.clusters.map((cl) => cl.client_ca_file)].filter((f): f is string => f !== undefined),
  pollers(deps) {
    const out: Poller[] = [];
    if (deps.config.mlmd.address) out.push(new MlmdPoller(deps));
    // KFP REST is also the fallback when MLMD is absent (KFP plans to drop MLMD).
    if (deps.config.kfp.url) out.push(new KfpPoller(deps));
    // Each configured cluster's pollers read its own settings in place of the top-level ones (its MLMD poller joins
    // its own KFP), keep their own state and emit its events as the cluster's.
    for (const cl of deps.config.clusters) {
      if (!cl.mlmd?.address && !cl.kfp?.url) continue;
      const own = { ...deps, config: withMlflowRegistryUrls({ ...deps.config, kfp: cl.kfp ?? KfpConfig.parse({}), mlmd: cl.mlmd ?? MlmdConfig.parse({}) }, deps.config.mlflowRegistryUrls) };
      if (own.config.mlmd.address) out.push(new MlmdPoller(own, { cluster: cl.id }));
      if (own.config.kfp.url) out.push(new KfpPoller(own, cl.id));
    }
    return out;
  },
};
