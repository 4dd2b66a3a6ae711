import { mlflowUrlKey } from '../../core/schema/origin.js';
import { isArtifactEnvName, unlistedArtifactEnv } from './artifactendpoints.js';
import type { NormalizedEvent } from '../../core/schema/index.js';
import type { KubeflowConfig } from './config.js';

type MlflowOriginConfig = Pick<KubeflowConfig, 'mlflow_server' | 'mlflow_workspace' | 'clusters' | 'mlflowRegistryUrls'> & Partial<Pick<KubeflowConfig, 'trust_mlflow_env_refs' | 'artifact_endpoints'>>;

/** A URL a configured MLflow server is reached by (`key`: mlflowUrlKey) and the server's id (undefined: the default server). */
export interface MlflowRegistryUrl {
  key: string;
  server?: string;
  /** Listed in `tracking_uris` (not only the auditor's `poll.tracking_uri`): the operator named the URLs clients use. */
  listed?: true;
}

/**
 * A registry URI as an event may show it: without the credentials (`user:password@`), query or fragment a
 * predictor's `MLFLOW_TRACKING_URI` may carry (secrets never reach an event).
 *
 * @example
 * shownRegistryUri('https://bob:s3cret@mlflow.evil:5000/?token=x') // 'https://mlflow.evil:5000/'
 */
export function shownRegistryUri(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1').replace(/[?#].*$/s, '');
}

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

/** MLflow reads the scheme in any case (urlparse lowercases it), as the rules' parseMlflowModelUri does. */
const REGISTRY_URI = /^models:\//i;

/** True when a deployment names an MLflow registry URI (`models:/…`). */
export function deploysRegistryUri(d: { model_uri?: unknown; model_uris?: unknown[] } | undefined): boolean {
  if (!d) return false;
  return [d.model_uri, ...(d.model_uris ?? [])].some((u) => typeof u === 'string' && REGISTRY_URI.test(u));
}

/** How withMlflowServer reads what the predictor's env says beside the cluster's settings. */
export interface MlflowEnvJudging {
  /** The configured MLflow servers' URLs (KubeflowConfig.mlflowRegistryUrls); unset: none is known. */
  registries?: readonly MlflowRegistryUrl[];
  /** The cluster's `trust_mlflow_env_refs`: an env value the log does not show is taken to be the cluster's setting. */
  trustRefs?: boolean;
  /** The cluster's `artifact_endpoints`: the hosts its predictors may fetch model bytes from; unset: not checked. */
  artifactEndpoints?: readonly string[];
}

/**
 * The event with `ml.deployment.mlflow_server` set to `server` where it deploys a `models:/` URI, and removed where
 * `server` is unset (a configured cluster does not take the default cluster's). `ml.deployment.mlflow_workspace`
 * keeps what the predictor's own `MLFLOW_WORKSPACE` env said (set by the audit normalizer, kserve.ts; applied once
 * per event, normalizeAuditEvent with its cluster), else becomes `workspace`, the cluster's setting.
 *
 * A registry URI the predictor's env names (`ml.deployment.mlflow_registry_uri`) says the server, over the
 * cluster's: the configured server reached by that URL (the cluster's `workspace` then applies only when it is the
 * cluster's server too), and where none is, no server and `details.mlflow_registry_unwatched: true` (the model comes
 * from a registry mltrail does not watch; rules: no approval seen vouches for it) — once some server lists its URLs in
 * `tracking_uris`; before that, `details.mlflow_registry_unmatched: true` and the cluster's settings, as without the env. Env names whose value the log
 * does not show (`details.mlflow_env_unverifiable`, set by the audit normalizer) stay unverifiable unless the
 * cluster trusts them (`trustRefs`): then they move to `details.mlflow_env_trusted`. With the cluster's
 * `artifact_endpoints` (`judging.artifactEndpoints`), the names in `details.artifact_env` (the artifact endpoints and
 * proxies the predictor's env gives) whose host is not listed are `details.artifact_endpoint_unlisted` (rules: the
 * registry's approval does not vouch for bytes fetched from there); without the list, hidden ones are recorded in
 * `details.artifact_env_unverifiable`, not doubts (withHiddenArtifactEnv). A (Cluster)ServingRuntime write's registry URI
 * and artifact endpoints (its containers' env) get the same details, and no server. Applying it twice changes nothing.
 */
export function withMlflowServer(ev: NormalizedEvent, server: string | undefined, workspace?: string, judging: MlflowEnvJudging = {}): NormalizedEvent {
  const d = ev.ml?.deployment;
  if (!d) return ev;
  // A serving runtime's write deploys no model, but its container's env reaches every model that selects it: its
  // registry URI and artifact endpoints are judged alike (audit/kserve.ts sets them only there and on `models:/…`).
  const runtime = !deploysRegistryUri(d);
  if (runtime && typeof d.mlflow_registry_uri !== 'string' && !ev.details?.artifact_env && !ev.details?.mlflow_env_unverifiable) return ev;
  const { mlflow_server: _old, mlflow_workspace: own, ...rest } = d;
  const predictorWs = typeof own === 'string' && own ? own : undefined;
  let srv = server;
  let ws = predictorWs ?? workspace;
  let details = ev.details;
  if (typeof d.mlflow_registry_uri === 'string') {
    const key = mlflowUrlKey(d.mlflow_registry_uri);
    const match = judging.registries?.find((r) => r.key === key);
    if (!match || match.server !== server) {
      // Another server than the cluster's (or none configured): the cluster's workspace is one of another registry.
      srv = match?.server;
      ws = predictorWs;
    }
    if (!match) details = { ...details, mlflow_registry_unwatched: true };
    // Until the operator lists the URLs clients use (`tracking_uris`), the only URL known may be the auditor's, often
    // not the in-cluster one predictors name: an unmatched URI is then said, and judged by the cluster's settings.
    if (!match && !judging.registries?.some((r) => r.listed)) {
      const { mlflow_registry_unwatched: _u, ...others } = details!;
      details = { ...others, mlflow_registry_unmatched: true };
      srv = server;
      ws = predictorWs ?? workspace;
    }
  }
  const artifactEnv = details?.artifact_env;
  const unlisted = judging.artifactEndpoints && artifactEnv && typeof artifactEnv === 'object' ? unlistedArtifactEnv(artifactEnv as Record<string, unknown>, judging.artifactEndpoints) : [];
  if (details && 'artifact_endpoint_unlisted' in details) {
    const { artifact_endpoint_unlisted: _a, ...others } = details;
    details = others;
  }
  if (unlisted.length) details = { ...details, artifact_endpoint_unlisted: unlisted };
  details = withHiddenArtifactEnv(details, judging.artifactEndpoints !== undefined);
  if (judging.trustRefs && details) details = trusted(details);
  // No model named: no server or workspace to resolve it in.
  if (runtime) return details ? { ...ev, details } : ev;
  return { ...ev, ...(details ? { details } : {}), ml: { ...ev.ml, deployment: { ...rest, ...(srv === undefined ? {} : { mlflow_server: srv }), ...(ws === undefined ? {} : { mlflow_workspace: ws }) } } };
}

/**
 * Hidden artifact endpoints and proxies (`details.mlflow_env_unverifiable` names of isArtifactEnvName) are registry
 * doubts (critical `registry_unverifiable`) only beside a hidden registry or workspace name: the registry may then be
 * another one altogether. Where every registry name the env lists is literal, they are `details.artifact_env_unverifiable`:
 * recorded only without the cluster's `artifact_endpoints` (a visible endpoint is not judged either), and with it also
 * `details.artifact_endpoint_unverifiable: true`, the lesser doubt `serving.model_source_unverifiable` alerts (most
 * installs take S3 credentials, often with `MLFLOW_S3_ENDPOINT_URL`, from an unprefixed `envFrom` Secret: a critical
 * alert on every deployment would only teach the SOC to ignore it). Both lists are read, so applying it again changes
 * nothing.
 */
function withHiddenArtifactEnv(details: Record<string, unknown> | undefined, judged: boolean): Record<string, unknown> | undefined {
  if (!details || (!('mlflow_env_unverifiable' in details) && !('artifact_env_unverifiable' in details))) return details;
  const { mlflow_env_unverifiable: hidden, artifact_env_unverifiable: recorded, artifact_endpoint_unverifiable: _v, ...others } = details;
  const names = [...new Set([...stringsOf(hidden), ...stringsOf(recorded)])];
  const registryDoubt = names.some((n) => !isArtifactEnvName(n));
  const artifact = registryDoubt && judged ? [] : names.filter(isArtifactEnvName);
  const doubts = names.filter((n) => !artifact.includes(n));
  return { ...others, ...(doubts.length ? { mlflow_env_unverifiable: doubts } : {}), ...(artifact.length ? { artifact_env_unverifiable: artifact, ...(judged ? { artifact_endpoint_unverifiable: true } : {}) } : {}) };
}

/**
 * `trust_mlflow_env_refs`: the env values the log does not show are taken to be the cluster's settings; the names of
 * every doubt (registry, unprefixed Secret, judged artifact endpoint) move to `details.mlflow_env_trusted`.
 */
function trusted(details: Record<string, unknown>): Record<string, unknown> {
  const { mlflow_env_unverifiable: hidden, mlflow_env_secret_unverifiable: secret, artifact_endpoint_unverifiable: judgedArtifact, ...others } = details;
  const names = [...stringsOf(hidden), ...stringsOf(secret), ...(judgedArtifact === true ? stringsOf(details.artifact_env_unverifiable) : [])];
  if (!names.length) return details;
  return { ...others, mlflow_env_trusted: [...new Set([...stringsOf(details.mlflow_env_trusted), ...names])] };
}

const stringsOf = (v: unknown): string[] => (Array.isArray(v) ? v.filter((n): n is string => typeof n === 'string') : []);

/** Whether `cluster` (undefined: the default cluster) trusts env values the audit log does not show (`trust_mlflow_env_refs`). */
export function trustsMlflowEnvRefs(cfg: MlflowOriginConfig | undefined, cluster: string | undefined): boolean {
  if (!cfg) return false;
  return (cluster === undefined ? cfg.trust_mlflow_env_refs : cfg.clusters.find((c) => c.id === cluster)?.trust_mlflow_env_refs) === true;
}

/** The `artifact_endpoints` of `cluster` (undefined: the default cluster; a configured cluster does not take its list). */
export function artifactEndpointsOf(cfg: MlflowOriginConfig | undefined, cluster: string | undefined): readonly string[] | undefined {
  if (!cfg) return undefined;
  return cluster === undefined ? cfg.artifact_endpoints : cfg.clusters.find((c) => c.id === cluster)?.artifact_endpoints;
}

/**
 * A ServiceAccount or Secret write's KServe S3 endpoint (`details.kserve_s3.endpoint`, audit/s3-credentials.ts) with
 * `unlisted: true` where the cluster lists `artifact_endpoints` and not its host: the `s3://` models of every
 * predictor running under that account are fetched from there (the rules judge them). Applying it again changes nothing.
 */
function withKserveS3Judged(ev: NormalizedEvent, allowed: readonly string[] | undefined): NormalizedEvent {
  const s3 = ev.details?.kserve_s3 as Record<string, unknown> | undefined;
  if (!s3 || typeof s3 !== 'object') return ev;
  const { unlisted: _u, ...rest } = s3;
  const unlisted = allowed !== undefined && typeof rest.endpoint === 'string' && unlistedArtifactEnv({ endpoint: rest.endpoint }, allowed).length > 0;
  return { ...ev, details: { ...ev.details, kserve_s3: { ...rest, ...(unlisted ? { unlisted: true } : {}) } } };
}

/** withMlflowServer with `cluster`'s settings (undefined: the default cluster's). */
export function withClusterMlflow(ev: NormalizedEvent, cfg: MlflowOriginConfig | undefined, cluster: string | undefined): NormalizedEvent {
  ev = withKserveS3Judged(ev, artifactEndpointsOf(cfg, cluster));
  return withMlflowServer(ev, mlflowServerOf(cfg, cluster), mlflowWorkspaceOf(cfg, cluster), { registries: cfg?.mlflowRegistryUrls, trustRefs: trustsMlflowEnvRefs(cfg, cluster), artifactEndpoints: artifactEndpointsOf(cfg, cluster) });
}
