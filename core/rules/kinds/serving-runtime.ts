import type { NormalizedEvent } from '../../schema/index.js';
import { identityOf, isCarriedOut, namedEntity, scopeOf, scopedName } from '../facts.js';
import type { KindImpl, RuleContext } from './context.js';
import { stringList } from './shared.js';

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

/**
 * What a runtime write's serving container env said that serving.runtime_model_source flags (the connector's
 * verdicts), kept so the `models:/…` deployments naming the runtime are judged with it (KServe merges the
 * InferenceService's container env over the runtime's by name: the runtime's value of a name the deployment does not
 * set reaches the model server).
 */
interface RuntimeWrite {
  /** Event time (ms). */
  at: number;
  /** The runtime was deleted then: KServe finds none of that name here from then on (a namespace's falls back to the cluster's). */
  deleted?: true;
  /** The registry URI its env names that no configured MLflow server has. */
  registry?: string;
  /** The env name that gave its registry URI (MLFLOW_REGISTRY_URI or MLFLOW_TRACKING_URI). */
  registryEnv?: string;
  /** Artifact endpoints and proxies not in the cluster's artifact_endpoints: env name → value as shown. */
  unlisted: Record<string, string>;
  /** Registry or workspace names its env sets from a source the log does not show (`details.mlflow_env_unverifiable`). */
  hidden?: string[];
  /**
   * Artifact endpoints or proxies its env sets from a source the log does not show, beside no hidden registry name, where
   * the cluster lists `artifact_endpoints` (`details.artifact_env_unverifiable` with `artifact_endpoint_unverifiable`).
   */
  artifactHidden?: string[];
  /**
   * MLflow names its env does not list that only an unprefixed envFrom Secret could set, beside a literal registry URI
   * (`details.mlflow_env_secret_unverifiable`): the lesser doubt, carried to the models on it as their own would be.
   */
  secretHidden?: string[];
  /** Its env gives MLFLOW_S3_ENDPOINT_URL literally (`details.artifact_env`): MLflow's S3 client fetches from there. */
  s3Endpoint?: true;
}

/** The env names that decide the MLflow registry or workspace; any other hidden name is an artifact endpoint or proxy. */
const REGISTRY_ENV_NAMES = new Set(['MLFLOW_REGISTRY_URI', 'MLFLOW_TRACKING_URI', 'MLFLOW_WORKSPACE']);
/**
 * MLflow's S3 artifact endpoint, and the AWS SDK's own endpoint settings it overrides where given (passed to boto3 as
 * `endpoint_url`, which wins over them; the connector's OVERRIDDEN_BY_MLFLOW_S3_ENDPOINT, artifactendpoints.ts).
 */
const MLFLOW_S3_ENDPOINT = 'MLFLOW_S3_ENDPOINT_URL';
const OVERRIDDEN_BY_MLFLOW_S3 = new Set(['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_PROFILE']);

/** Writes kept per runtime (the one in force at a deployment's time is looked up), runtimes kept, deployments waiting. */
const WRITES_PER_RUNTIME = 5;
const MAX_RUNTIMES = 500;
const MAX_WAITING = 200;
/** A deployment naming a runtime not seen yet waits this long (event time) for its write, read late. */
const RUNTIME_WAIT_MS = 86_400_000;

type KeptDeployment = Pick<NormalizedEvent, 'id' | 'time' | 'platform' | 'actor' | 'cloud' | 'resource' | 'action' | 'outcome' | 'operation' | 'ml' | 'details'>;


/** The state key of a runtime: its resource type and name, a ServingRuntime's namespace-qualified, in its cluster's scope. */
function runtimeKey(type: string, namespace: string | undefined, name: string, scope: string | undefined): string {
  return `runtime|${type}|${scopedName(namespace ? `${namespace}/${name}` : name, scope)}`;
}

/**
 * A runtime write (as runtimeModelSource reads it) is kept in the rule's state, bounded; the deployments that named
 * the runtime before its write was read are returned, with its env applied (withRuntimeSource), to be judged now.
 */
export function rememberRuntimeWrite(ev: NormalizedEvent, ctx: RuleContext): NormalizedEvent[] {
  const r = ev.resource;
  const deleted = ev.action === 'resource.delete';
  if (ev.platform !== 'kubeflow' || !r || !RUNTIME_TYPES.has(r.type) || !(WRITES.test(ev.action) || deleted) || !isCarriedOut(ev) || (!deleted && !ev.ml?.deployment)) return [];
  const name = r.name ?? r.id;
  if (!name) return [];
  const d = ev.details ?? {};
  const env = (d.artifact_env ?? {}) as Record<string, unknown>;
  const rec: RuntimeWrite = deleted
    ? { at: Date.parse(ev.time), deleted: true, unlisted: {} }
    : {
        at: Date.parse(ev.time),
        ...(d.mlflow_registry_unwatched === true && typeof ev.ml!.deployment!.mlflow_registry_uri === 'string' ? { registry: ev.ml!.deployment!.mlflow_registry_uri } : {}),
        ...(typeof d.mlflow_registry_env === 'string' ? { registryEnv: d.mlflow_registry_env } : {}),
        unlisted: Object.fromEntries(stringList(d.artifact_endpoint_unlisted).map((n) => [n, typeof env[n] === 'string' ? (env[n] as string) : ''])),
        ...(stringList(d.mlflow_env_unverifiable).length ? { hidden: stringList(d.mlflow_env_unverifiable) } : {}),
        ...(d.artifact_endpoint_unverifiable === true && stringList(d.artifact_env_unverifiable).length ? { artifactHidden: stringList(d.artifact_env_unverifiable) } : {}),
        ...(stringList(d.mlflow_env_secret_unverifiable).length ? { secretHidden: stringList(d.mlflow_env_secret_unverifiable) } : {}),
        ...(typeof env[MLFLOW_S3_ENDPOINT] === 'string' ? { s3Endpoint: true as const } : {}),
      };
  const key = runtimeKey(r.type, r.type === 'servingruntimes' ? r.namespace : undefined, name, scopeOf(ev));
  const writes = [...(ctx.get<RuntimeWrite[]>(key) ?? []), rec].sort((a, b) => a.at - b.at).slice(-WRITES_PER_RUNTIME);
  ctx.set(key, writes);
  const index = (ctx.get<string[]>('runtime-index') ?? []).filter((k) => k !== key);
  index.push(key);
  for (const old of index.splice(0, Math.max(0, index.length - MAX_RUNTIMES))) ctx.delete(old);
  ctx.set('runtime-index', index);
  // Deployments read before this write that named the runtime: judged now, as in order.
  const waiting = ctx.get<KeptDeployment[]>('runtime-waiting') ?? [];
  const done: NormalizedEvent[] = [];
  const still = waiting.filter((w) => {
    if (Math.abs(rec.at - Date.parse(w.time)) > RUNTIME_WAIT_MS) return false;
    if (!runtimeOf(w as NormalizedEvent, ctx)) return true;
    // Judged already as read, without the runtime: again only where the runtime's env changes what it loads.
    const judged = withRuntimeSource(w as NormalizedEvent, ctx, false);
    if (judged !== w) done.push(judged);
    return false;
  });
  if (still.length !== waiting.length) ctx.set('runtime-waiting', still);
  return done;
}

/**
 * The write in force of the runtime a deployment names at its time: its namespace's ServingRuntime of that name, else
 * the ClusterServingRuntime (one deleted by then, or written only after, is not there; KServe looks again at each
 * reconcile). Where neither was there at its time, the first write kept (the deployment waited for its runtime, read
 * late), its namespace's first. Undefined: no write of either is kept.
 */
function runtimeOf(ev: NormalizedEvent, ctx: RuleContext): { id: string; rec: RuntimeWrite } | undefined {
  const name = ev.details?.serving_runtime;
  if (typeof name !== 'string') return undefined;
  const scope = scopeOf(ev);
  const ns = ev.resource?.namespace;
  const t = Date.parse(ev.time);
  const kinds: Array<{ id: string; writes: RuntimeWrite[] }> = [];
  const own = ns ? ctx.get<RuntimeWrite[]>(runtimeKey('servingruntimes', ns, name, scope)) : undefined;
  if (own?.length) kinds.push({ id: `${ns}/${name}`, writes: own });
  const cluster = ctx.get<RuntimeWrite[]>(runtimeKey('clusterservingruntimes', undefined, name, scope));
  if (cluster?.length) kinds.push({ id: name, writes: cluster });
  for (const k of kinds) {
    const rec = k.writes.filter((w) => w.at <= t).at(-1);
    if (rec && !rec.deleted) return { id: k.id, rec };
  }
  for (const k of kinds) {
    const rec = k.writes.find((w) => !w.deleted);
    if (rec && !k.writes.some((w) => w.at <= t)) return { id: k.id, rec };
  }
  return undefined;
}

/**
 * A KServe `models:/…` deployment naming a serving runtime (`details.serving_runtime`), with what the runtime's env
 * sets and its own env does not (`details.serving_env_names` and the hidden ones are its own) applied as if its own:
 * an unwatched registry URI (`details.mlflow_registry_unwatched`, `ml.deployment.mlflow_registry_uri`, and
 * `details.runtime_registry_uri`), artifact endpoints or proxies not allowed (`details.artifact_endpoint_unlisted`,
 * `artifact_env`, and `details.runtime_artifact_env`), so registry.unapproved_deployment judges it by them. The write
 * in force at the deployment's time is used (else the first one: the deployment waited for the runtime). A runtime
 * not seen yet: the deployment is kept (`wait`), bounded, for a write read late (rememberRuntimeWrite).
 */
export function withRuntimeSource(ev: NormalizedEvent, ctx: RuleContext, wait = true): NormalizedEvent {
  const d = ev.details;
  const dep = ev.ml?.deployment;
  // A Request-level patch of an object never seen that names a runtime (a runtime switch): its model is unknown, but
  // the runtime's env reaches whatever it serves (judged by serving-patch.ts and serving-env.ts); a runtime seen only.
  const modelUnknown = d?.patch_base_unknown === true && !!dep && !dep.model_uri && !dep.model_uris && !dep.model_uri_copied_from;
  if (ev.platform !== 'kubeflow' || typeof d?.serving_runtime !== 'string' || !(modelUnknown || /^models:\//i.test(String(dep?.model_uri ?? '')))) return ev;
  const runtime = runtimeOf(ev, ctx);
  if (!runtime) {
    if (wait && !modelUnknown) {
      const { raw: _raw, ...kept } = ev as NormalizedEvent & { raw?: unknown };
      ctx.set('runtime-waiting', [...(ctx.get<KeptDeployment[]>('runtime-waiting') ?? []), kept as KeptDeployment].slice(-MAX_WAITING));
    }
    return ev;
  }
  const rec = runtime.rec;
  // The names the predictor's env lists replace the runtime's (KServe merges the containers' env by name); a name only
  // its envFrom could set does not: the kubelet lets an env entry, the runtime's included, win over envFrom.
  const own = new Set(stringList(d.serving_env_names));
  // MLFLOW_REGISTRY_URI is read before MLFLOW_TRACKING_URI: the deployment's own registry URI hides the runtime's tracking URI.
  const registry = rec.registry && rec.registryEnv && !own.has(rec.registryEnv) && !(rec.registryEnv === 'MLFLOW_TRACKING_URI' && own.has('MLFLOW_REGISTRY_URI')) ? rec.registry : undefined;
  const endpoints = Object.fromEntries(Object.entries(rec.unlisted).filter(([n]) => !own.has(n)));
  // A literal MLFLOW_S3_ENDPOINT_URL, its own or the runtime's where its env does not list the name, is where MLflow's
  // S3 client fetches from: the AWS SDK endpoint settings either hides do not count (the literal one is judged).
  const ownS3 = typeof (d.artifact_env as Record<string, unknown> | undefined)?.[MLFLOW_S3_ENDPOINT] === 'string';
  const runtimeS3 = rec.s3Endpoint === true && !own.has(MLFLOW_S3_ENDPOINT);
  const overridden = (n: string) => (ownS3 || runtimeS3) && OVERRIDDEN_BY_MLFLOW_S3.has(n);
  // Its own hidden ones the runtime's literal endpoint overrides (the connector dropped them beside its own literal one).
  const ownArtifactHidden = stringList(d.artifact_env_unverifiable);
  const ownOverridden = runtimeS3 ? ownArtifactHidden.filter(overridden) : [];
  // Names the runtime sets from a source the log does not show (those its own env sets replace them, by name).
  const unseen = [...(rec.hidden ?? []), ...(rec.artifactHidden ?? [])].filter((n) => !own.has(n) && !(n === 'MLFLOW_TRACKING_URI' && own.has('MLFLOW_REGISTRY_URI')) && !overridden(n));
  // As for its own env (withHiddenArtifactEnv): a hidden registry or workspace name redirects the registry itself, and
  // hidden artifact endpoints join that doubt; beside none, they are the lesser doubt of where the bytes come from.
  const registryDoubt = unseen.some((n) => REGISTRY_ENV_NAMES.has(n)) || stringList(d.mlflow_env_unverifiable).length > 0;
  const hidden = registryDoubt ? unseen : [];
  const artifactHidden = registryDoubt ? [] : unseen;
  // MLflow names the runtime's unprefixed envFrom Secret could set (the kubelet lets the merged env entries win over
  // it, the predictor's by name): the lesser doubt, as for its own Secret; none beside a registry doubt, which says more.
  const secretHidden = registryDoubt ? [] : (rec.secretHidden ?? []).filter((n) => !own.has(n) && !(n === 'MLFLOW_TRACKING_URI' && own.has('MLFLOW_REGISTRY_URI')));
  if (!registry && !Object.keys(endpoints).length && !hidden.length && !artifactHidden.length && !secretHidden.length && !ownOverridden.length) return ev;
  const details: Record<string, unknown> = { ...d, serving_runtime_id: runtime.id };
  if (ownOverridden.length) {
    const left = ownArtifactHidden.filter((n) => !ownOverridden.includes(n));
    if (left.length) details.artifact_env_unverifiable = left;
    else {
      delete details.artifact_env_unverifiable;
      delete details.artifact_endpoint_unverifiable;
    }
  }
  if (hidden.length) {
    details.runtime_env_unverifiable = hidden;
    details.mlflow_env_unverifiable = [...new Set([...stringList(d.mlflow_env_unverifiable), ...hidden])];
  }
  if (artifactHidden.length) {
    details.runtime_artifact_env_unverifiable = artifactHidden;
    details.artifact_env_unverifiable = [...new Set([...stringList(details.artifact_env_unverifiable), ...artifactHidden])];
    details.artifact_endpoint_unverifiable = true;
  }
  if (secretHidden.length) {
    details.runtime_env_secret_unverifiable = secretHidden;
    details.mlflow_env_secret_unverifiable = [...new Set([...stringList(d.mlflow_env_secret_unverifiable), ...secretHidden])];
  }
  if (Object.keys(endpoints).length) {
    details.runtime_artifact_env = endpoints;
    details.artifact_env = { ...endpoints, ...((d.artifact_env ?? {}) as Record<string, unknown>) };
    details.artifact_endpoint_unlisted = [...new Set([...stringList(d.artifact_endpoint_unlisted), ...Object.keys(endpoints)])];
  }
  let ml = ev.ml;
  if (registry) {
    details.runtime_registry_uri = registry;
    details.mlflow_registry_unwatched = true;
    const { mlflow_server: _s, mlflow_workspace: _w, ...dep } = ev.ml!.deployment!;
    ml = { ...ev.ml, deployment: { ...dep, mlflow_registry_uri: registry } };
  }
  return { ...ev, ml, details };
}

/** The runtime facts withRuntimeSource applied to a deployment, for its alert's details. */
export function runtimeSourceDetails(ev: Pick<NormalizedEvent, 'details'>): Record<string, unknown> {
  const d = ev.details;
  if (!d?.runtime_artifact_env && !d?.runtime_registry_uri && !d?.runtime_env_unverifiable && !d?.runtime_artifact_env_unverifiable && !d?.runtime_env_secret_unverifiable) return {};
  return { serving_runtime: d.serving_runtime_id, runtime_registry_uri: d.runtime_registry_uri, runtime_artifact_env: d.runtime_artifact_env, runtime_env_unverifiable: d.runtime_env_unverifiable, runtime_artifact_env_unverifiable: d.runtime_artifact_env_unverifiable, runtime_env_secret_unverifiable: d.runtime_env_secret_unverifiable };
}
