import { identityOf, isCarriedOut, namedEntity, scopeOf, scopedName } from '../facts.js';
import type { KindImpl } from './context.js';

/**
 * Where a KServe (Cluster)ServingRuntime sends the models that select it: its serving container's env is merged
 * under every such predictor's, and the InferenceService's record never shows it. A runtime write whose env names an
 * MLflow registry no configured server has, or an artifact endpoint or proxy the cluster's `artifact_endpoints` does
 * not list (the connector's verdicts: `details.mlflow_registry_unwatched`, `details.artifact_endpoint_unlisted`),
 * redirects every later `models:/…` deployment on it that does not set those names itself.
 */

/** A runtime write: the resource types KServe names them by (the audit record's `objectRef.resource`). */
const RUNTIME_TYPES = new Set(['servingruntimes', 'clusterservingruntimes']);
const WRITES = /^resource\.(create|update)$/;

export const runtimeModelSource: KindImpl = (ev, ctx) => {
  const r = ev.resource;
  if (ev.platform !== 'kubeflow' || !r || !RUNTIME_TYPES.has(r.type) || !WRITES.test(ev.action) || !isCarriedOut(ev)) return;
  const d = ev.details ?? {};
  const registry = d.mlflow_registry_unwatched === true ? ev.ml?.deployment?.mlflow_registry_uri : undefined;
  const env = (d.artifact_env ?? {}) as Record<string, unknown>;
  const unlisted = Array.isArray(d.artifact_endpoint_unlisted) ? (d.artifact_endpoint_unlisted as unknown[]).filter((n): n is string => typeof n === 'string') : [];
  if (!registry && !unlisted.length) return;
  const endpoints = Object.fromEntries(unlisted.map((n) => [n, typeof env[n] === 'string' ? (env[n] as string) : '']));
  const name = r.name ?? r.id ?? 'unknown';
  // Names repeat across namespaces (a ServingRuntime is namespaced) and clusters.
  const entity = namedEntity(r.type, scopedName(r.namespace ? `${r.namespace}/${name}` : name, scopeOf(ev)), name, ev.platform);
  const who = identityOf(ev.actor, ctx.cfg);
  const said = [
    ...(registry ? [`loads models:/ URIs from ${registry}, which no configured MLflow server has`] : []),
    ...(unlisted.length ? [`fetches model bytes from or through ${Object.entries(endpoints).map(([n, v]) => `${n}=${v}`).join(', ')}, which the cluster's artifact_endpoints does not list`] : []),
  ];
  ctx.detect({
    entity, key: [registry ?? '', ...unlisted.map((n) => `${n}=${endpoints[n]}`)].join('|'), evidence: [ev.id], title: 'Serving runtime that loads models from an unwatched registry or an artifact endpoint not allowed', time: ev.time,
    summary: `${entity.id} (${ev.platform}) ${said.join(', and ')}: every model deployed on it that does not set these itself does too${who ? ` (written by ${who})` : ''}`,
    details: { reasons: [...(registry ? ['unwatched_registry'] : []), ...(unlisted.length ? ['artifact_endpoint_not_allowed'] : [])], mlflow_registry_uri: registry, artifact_endpoints_not_allowed: unlisted.length ? endpoints : undefined, action: ev.action, deployer: who },
  });
};
