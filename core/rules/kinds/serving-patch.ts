import { anyGlob, endpointOf, identityOf, isDeployment, mlflowDoubtOf } from '../facts.js';
import { endpointEntity, setting, type KindImpl } from './context.js';
import { runtimeSourceDetails } from './serving-runtime.js';

/**
 * A Request-level patch of the serving env of an InferenceService no whole object of which was seen (the connector's
 * `details.patch_base_unknown`, no model named: a restart, or a deployment older than the log read): which model the
 * live deployment serves is not known, but where it now loads it from is what the env says. An unwatched registry, an
 * artifact endpoint not allowed, or a registry name set from a source the log does not show (mlflowDoubtOf) are the
 * reasons registry.unapproved_deployment gives a known model even when its version is approved: they are judged here
 * with the same reason and the rule's severity, the model said unknown. A hidden artifact endpoint beside a literal
 * registry URI is serving.model_source_unverifiable's, as for a known model, and so is an MLflow name only an unprefixed
 * envFrom Secret could set, even with no registry URI in the patch (the connector's `mlflow_env_secret_unverifiable`):
 * the object's env, not in the log, may give one literally, and an env entry wins over envFrom.
 */
export const unknownBaseEnvPatch: KindImpl = (ev, ctx) => {
  const dep = ev.ml?.deployment;
  if (ev.platform !== 'kubeflow' || ev.details?.patch_base_unknown !== true || !isDeployment(ev) || !dep) return;
  // A patch naming its model is judged as a deployment of it (unapprovedDeployment).
  if (dep.model_uri || dep.model_uris || dep.model_uri_copied_from) return;
  const ep = endpointOf(ev);
  const doubt = mlflowDoubtOf(ev);
  if (!ep || !doubt || !anyGlob(setting(ctx, 'endpoints'), ep)) return;
  const who = identityOf(ev.actor, ctx.cfg);
  const said = doubt.reason === 'unwatched_registry'
    ? `loads models:/ URIs from ${doubt.registry_uri ?? 'a registry'}, which no configured MLflow server has`
    : doubt.reason === 'artifact_endpoint_not_allowed'
      ? `fetches model bytes from or through ${Object.entries(doubt.endpoints).map(([n, v]) => `${n}=${v}`).join(', ')}, which the cluster's artifact_endpoints does not list`
      : `takes ${doubt.env.join(', ')} from a source the audit log does not show, so which registry or endpoint it loads from cannot be told`;
  const figures = doubt.reason === 'unwatched_registry' ? { mlflow_registry_uri: doubt.registry_uri } : doubt.reason === 'artifact_endpoint_not_allowed' ? { artifact_endpoints_not_allowed: doubt.endpoints } : { mlflow_env_unverifiable: doubt.env };
  // The doubt may be the serving runtime's the patch switched to (withRuntimeSource): it is named.
  const runtime = runtimeSourceDetails(ev);
  const via = typeof runtime.serving_runtime === 'string' ? ` through serving runtime ${runtime.serving_runtime}` : '';
  ctx.detect({
    entity: endpointEntity(ev, ep), key: `patch_base_unknown|${doubt.reason}|${JSON.stringify(figures)}`, evidence: [ev.id], time: ev.time,
    title: 'Live deployment moved to another model source by a patch of its serving env',
    summary: `${who ?? 'someone'} patched the serving env of ${ep} (${ev.platform}): it now ${said}${via}; the model it serves is not in the log (no whole object of it was seen before the patch)`,
    details: { reason: doubt.reason, ...figures, patch_base_unknown: true, patch_type: ev.details?.patch_type, deployer: who, ...runtime },
  });
};
