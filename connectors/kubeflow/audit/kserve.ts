/**
 * KServe endpoints: the namespace-qualified endpoint id, the model a write
 * deploys (a JSON patch replayed op by op), and controller writes that deploy nothing.
 */

import { MLFLOW_WORKSPACE } from '../../../core/schema/origin.js';
import { redactUrlSecrets } from '../../../core/secrets.js';
import { ARTIFACT_ENDPOINT_ENVS, AWS_FILE_ENVS, AZURE_CONNECTION_STRING_ENV, azureBlobEndpointOf, MLFLOW_S3_ENDPOINT_ENV, OVERRIDDEN_BY_MLFLOW_S3_ENDPOINT, PROXY_ENVS, shownEndpoint } from '../artifactendpoints.js';
import { deploysRegistryUri, shownRegistryUri } from '../mlflowserver.js';
import type { AuditEvent } from './envelope.js';
import { serviceAccountOf } from './identity.js';
import { at, definedOnly, isObject } from './objects.js';

const KSERVE_GROUPS = new Set(['serving.kserve.io', 'serving.kubeflow.org']);
/** The KServe controllers' service accounts (kserve/kserve `config/rbac`; LLMInferenceService has its own). */
const KSERVE_CONTROLLER_SAS = new Set(['kserve-controller-manager', 'llmisvc-controller-manager']);
/**
 * Namespaces the KServe controllers run in: `kserve` (KServe's own install), `kubeflow` (Kubeflow's
 * manifests), `opendatahub` and `redhat-ods-applications` (Open Data Hub and Red Hat OpenShift AI, whose
 * operator deploys kserve-controller-manager there). A profile editor can make an account of the same name in
 * their own namespace: that one's writes are the user's, not reconciliation (as for KFP's `ml-pipeline`, see
 * identity.ts).
 */
export const KSERVE_CONTROLLER_NAMESPACES = new Set(['kserve', 'kubeflow', 'opendatahub', 'redhat-ods-applications']);

/** True when the request was made by a KServe controller's own service account. */
function isKserveController(username: string | undefined): boolean {
  const sa = serviceAccountOf(username);
  return !!sa && KSERVE_CONTROLLER_SAS.has(sa.name) && KSERVE_CONTROLLER_NAMESPACES.has(sa.namespace);
}

/**
 * A write to an endpoint that changes no model: the `/status` subresource, or
 * the KServe controller writing the object itself (finalizers, annotations)
 * without a spec change. Such a write is reconciliation, not a deployment.
 */
export function isEndpointStatusWrite(ev: AuditEvent): boolean {
  const ref = ev.objectRef ?? {};
  if (ref.subresource === 'status') return true;
  if (ref.subresource || !KSERVE_GROUPS.has(ref.apiGroup ?? '')) return false;
  if (!isKserveController(ev.user?.username) || (ev.verb !== 'update' && ev.verb !== 'patch')) return false;
  const req = ev.requestObject;
  if (Array.isArray(req)) return !req.some((op) => isObject(op) && typeof op.path === 'string' && op.path.startsWith('/spec'));
  const gen = (o: unknown) => (o as { metadata?: { generation?: unknown } } | undefined)?.metadata?.generation;
  const before = gen(req), after = gen(ev.responseObject);
  // The apiserver bumps metadata.generation only when the spec changes.
  if (typeof before === 'number' && typeof after === 'number') return before === after;
  // A controller merge patch without `spec`; a full-object update (finalizers) is not an authored spec change.
  return ev.verb === 'update' || !(isObject(req) && 'spec' in req);
}

/** JSON pointer `/a/b~1c` → an object holding `value` at that path (array indices become keys). */
function nestAt(pointer: string, value: unknown): unknown {
  const keys = pointerKeys(pointer);
  let out = value;
  for (const k of keys.reverse()) out = { [k]: out };
  return out;
}

/** The env var a custom predictor names its model with (KServe `CustomSpecStorageUriEnvVarKey`). */
const STORAGE_URI_ENV = 'STORAGE_URI';

/**
 * The env var an MLflow client reads its workspace from when the code sets none (`MLFLOW_WORKSPACE`,
 * mlflow/environment_variables.py; mlflow/utils/workspace_utils.py resolve_entity_workspace_name).
 */
const MLFLOW_WORKSPACE_ENV = 'MLFLOW_WORKSPACE';
/**
 * The env vars an MLflow client resolves `models:/…` against, first set wins: the registry URI
 * (`MLFLOW_REGISTRY_URI`, mlflow/tracking/_model_registry/utils.py), else the tracking URI (`MLFLOW_TRACKING_URI`).
 */
const MLFLOW_REGISTRY_ENVS = ['MLFLOW_REGISTRY_URI', 'MLFLOW_TRACKING_URI'] as const;


/** The container KServe runs the model server in (`constants.InferenceServiceContainerName`). */
const SERVING_CONTAINER = 'kserve-container';

/**
 * The containers whose env the model server gets, in the order they are read: the `model` or framework spec's
 * embedded container (merged into the serving runtime's `kserve-container`), then the predictor container that
 * serves — the one named `kserve-container`, else the first (KServe's CustomPredictor.Default names it so when it
 * is the only one or unnamed, older releases whatever its name; KServe reads the custom predictor's model from it)
 * — and v1alpha2's `custom.container`. Other containers (a sidecar, a collocated `transformer-container`) never
 * load the model, so their env is not read. A JSON patch target keeps list indices as keys (nestAt): only index
 * `0` can be the first one.
 */
function servingContainersOf(predictor: Record<string, unknown>, hasEnv: (c: Record<string, unknown>) => boolean = envListed): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const [k, v] of Object.entries(predictor)) if (k !== 'containers' && isObject(v) && hasEnv(v)) out.push(v);
  const list = predictor.containers;
  const entries = (Array.isArray(list) ? list.map((c, i) => [String(i), c] as const) : isObject(list) ? Object.entries(list) : []).filter((e): e is readonly [string, Record<string, unknown>] => isObject(e[1]));
  const serving = entries.find(([, c]) => c.name === SERVING_CONTAINER) ?? entries.find(([k]) => k === '0');
  if (serving) out.push(serving[1]);
  const custom = (predictor.custom as { container?: unknown } | undefined)?.container;
  if (isObject(custom)) out.push(custom);
  return out;
}

const listed = (v: unknown) => Array.isArray(v) || isObject(v);
/** A container (or model spec) that lists env: a `model` or framework spec is told from other predictor fields so. */
const envListed = (c: Record<string, unknown>) => listed(c.env) || listed(c.envFrom);
/** A container a merge patch writes the env of (`null` removes it). */
const envWritten = (c: Record<string, unknown>) => Object.hasOwn(c, 'env') || Object.hasOwn(c, 'envFrom');

/**
 * Whether a write sets or removes the env of a predictor's serving container (servingContainersOf): what decides the
 * MLflow registry and workspace its `models:/…` URI loads from, so such a write redeploys that URI from wherever the
 * env now says, though it names no storageUri. `jsonPatchPaths`: the paths a JSON patch's ops write (with `doc`,
 * what they set, nested); else `doc` is the merge patch.
 */
function writesServingEnv(doc: unknown, jsonPatchPaths?: string[]): boolean {
  if (jsonPatchPaths?.some((p) => /^\/spec\/(?:default\/)?predictor\/.*\/(?:env|envFrom)(?:\/|$)/.test(p))) return true;
  const spec = (doc as { spec?: unknown } | undefined)?.spec;
  if (!isObject(spec)) return false;
  return [spec.predictor, (spec.default as { predictor?: unknown } | undefined)?.predictor].some((p) => isObject(p) && servingContainersOf(p, envWritten).some(envWritten));
}

/**
 * Whether a patch sets or removes the serving runtime a predictor names (`spec.predictor.model.runtime`): KServe
 * merges that runtime's container env under the model's, so, like an env write, it redeploys the stored `models:/…`
 * URI from wherever the new runtime's env says. `jsonPatchPaths` and `doc` as writesServingEnv.
 */
function writesServingRuntime(doc: unknown, jsonPatchPaths?: string[]): boolean {
  if (jsonPatchPaths) return jsonPatchPaths.some((p) => p === '/spec/predictor/model/runtime');
  const model = (doc as { spec?: { predictor?: { model?: unknown } } } | undefined)?.spec?.predictor?.model;
  return isObject(model) && Object.hasOwn(model, 'runtime');
}

/**
 * Whether a patch sets or removes the ServiceAccount a predictor runs under (`spec.predictor.serviceAccountName`):
 * KServe takes the S3 settings of the new account (and the Secrets it lists), so the stored storageUri is fetched anew
 * from wherever they say. `jsonPatchPaths` and `doc` as writesServingEnv.
 */
function writesPredictorAccount(doc: unknown, jsonPatchPaths?: string[]): boolean {
  if (jsonPatchPaths) return jsonPatchPaths.some((p) => p === '/spec/predictor/serviceAccountName');
  const predictor = (doc as { spec?: { predictor?: unknown } } | undefined)?.spec?.predictor;
  return isObject(predictor) && Object.hasOwn(predictor, 'serviceAccountName');
}

/** A `$(VAR)` reference the kubelet expands from the container's other env (`$$(` is an escaped literal). */
const ENV_REFERENCE = /(^|[^$])\$\([A-Za-z_][A-Za-z0-9_.-]*\)/;

/**
 * What the serving containers set `name` to: `{value}` when an `env` entry gives it literally (the last entry of
 * the name: the kubelet applies them in order), `{hidden: true}` when its value is not in the object — a `valueFrom`
 * (ConfigMap, Secret, field) entry, a `$(VAR)` reference, or no entry but an `envFrom` source whose prefix can
 * make the name (an `env` entry wins over `envFrom`) — and undefined when nothing sets it.
 */
function envSetting(containers: Record<string, unknown>[], name: string): { value?: string; hidden?: true; bySecret?: true } | undefined {
  for (const c of containers) {
    const e = itemsOf(c.env).filter((x) => isObject(x) && x.name === name).at(-1) as { value?: unknown; valueFrom?: unknown } | undefined;
    if (!e) continue;
    if (e.valueFrom !== undefined || typeof e.value !== 'string') return e.valueFrom !== undefined ? { hidden: true } : { value: '' };
    return ENV_REFERENCE.test(e.value) ? { hidden: true } : { value: e.value };
  }
  const sources = containers.flatMap((c) => itemsOf(c.envFrom)).filter((src): src is Record<string, unknown> => isObject(src) && envFromCanSet(src.prefix, name));
  if (!sources.length) return undefined;
  // Only unprefixed Secrets could set it: what a credentials Secret mounted whole looks like (mlflowEnvOf tells it apart).
  return sources.every(isBlanketSecret) ? { hidden: true, bySecret: true } : { hidden: true };
}

/**
 * An `envFrom` source that is a Secret (`secretRef`) mounted without a prefix: the usual way S3 credentials reach a
 * predictor (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, often MLFLOW_S3_ENDPOINT_URL). It could set any name, but it
 * targets none: a prefixed source that can make an MLflow name, or a ConfigMap (where MLflow settings are kept), does.
 */
function isBlanketSecret(src: Record<string, unknown>): boolean {
  return typeof src.prefix !== 'string' && isObject(src.secretRef) && src.configMapRef === undefined;
}

/**
 * Whether an `envFrom` source with `prefix` can set `name`: each key of its ConfigMap or Secret becomes
 * `<prefix><key>`, and a key is never empty (Kubernetes key names are `[-._a-zA-Z0-9]+`), so only a prefix that
 * starts `name` and is shorter can. Without a prefix (or a non-string one) the keys are the names: any can be set.
 * So a credentials Secret under `prefix: CREDS_` hides no MLflow or endpoint variable.
 */
function envFromCanSet(prefix: unknown, name: string): boolean {
  return typeof prefix !== 'string' || (name.startsWith(prefix) && name.length > prefix.length);
}

/**
 * The artifact endpoints and proxies (ARTIFACT_ENDPOINT_ENVS, PROXY_ENVS) the serving containers set: `values`
 * those given literally (name → value as shownEndpoint shows it; a blank one is unset, as boto3 and urllib take it),
 * `hidden` the names set from a source the object does not show (envSetting). A proxy counts under every spelling
 * an `env` entry gives it (`HTTPS_PROXY`, `https_proxy`, `Https_Proxy`); lower and upper case are looked for in
 * `envFrom`.
 */
function artifactEnvOf(containers: Record<string, unknown>[]): { values: Record<string, string>; hidden: string[] } {
  const names: string[] = [...ARTIFACT_ENDPOINT_ENVS, ...PROXY_ENVS.flatMap((p) => [p.toUpperCase(), p])];
  for (const c of containers) {
    for (const e of itemsOf(c.env)) {
      const n = isObject(e) && typeof e.name === 'string' ? e.name : undefined;
      if (n && (PROXY_ENVS as readonly string[]).includes(n.toLowerCase()) && !names.includes(n)) names.push(n);
    }
  }
  const values: Record<string, string> = {};
  const hidden: string[] = [];
  for (const name of names) {
    const set = envSetting(containers, name);
    if (set?.hidden) hidden.push(name);
    else if (set?.value?.trim()) values[name] = shownEndpoint(set.value);
  }
  // An Azure connection string: its blob endpoint only (read here, before the raw record's value is redacted).
  const azure = envSetting(containers, AZURE_CONNECTION_STRING_ENV);
  const blob = azure?.value ? azureBlobEndpointOf(azure.value) : undefined;
  if (azure?.hidden) hidden.push(AZURE_CONNECTION_STRING_ENV);
  else if (blob) values[AZURE_CONNECTION_STRING_ENV] = shownEndpoint(blob);
  // A shared config file or profile may set endpoint_url where the log cannot see: set at all, it is not shown.
  for (const name of AWS_FILE_ENVS) {
    const set = envSetting(containers, name);
    if (set?.hidden || set?.value?.trim()) hidden.push(name);
  }
  // A literal MLFLOW_S3_ENDPOINT_URL is the endpoint MLflow's S3 client uses: the AWS SDK's own settings, hidden, are not.
  if (values[MLFLOW_S3_ENDPOINT_ENV]) return { values, hidden: hidden.filter((n) => !(OVERRIDDEN_BY_MLFLOW_S3_ENDPOINT as readonly string[]).includes(n)) };
  return { values, hidden };
}

/** The MLflow settings the serving container of a predictor gets from its env (mlflowEnvOf). */
export interface MlflowEnv {
  /** `MLFLOW_WORKSPACE`, trimmed as MLflow does; a name MLflow would refuse (its server checks every workspace) is not read. */
  workspace?: string;
  /** The registry URI `models:/…` resolves against (MLFLOW_REGISTRY_URI, else MLFLOW_TRACKING_URI), as written, non-blank. */
  registryUri?: string;
  /** The env name that gave registryUri: a serving runtime's value of the other name still applies (merged by name). */
  registryEnv?: string;
  /**
   * Every env name the serving containers list (`env` entries, literal or not): KServe merges these over the serving
   * runtime's container env by name, so the runtime's value of any other name reaches the model server.
   */
  listed: string[];
  /**
   * The env vars deciding the registry, workspace or artifact endpoint whose value the object does not show
   * (envSetting).
   */
  hidden: string[];
  /** The artifact endpoints and proxies the serving container's env gives literally (artifactEnvOf). */
  artifactEnv: Record<string, string>;
  /**
   * MLflow names the env does not list that only an unprefixed envFrom Secret could set (isBlanketSecret), beside a
   * registry URI the env gives literally: not the registry doubt `hidden` is (mlflowEnvOf).
   */
  secretHidden: string[];
  /**
   * MLflow names only an unprefixed envFrom Secret could set, with or without a literal registry URI beside them (in
   * `hidden` when there is none): a patch of an object not seen cannot tell which (patchEnvOnly).
   */
  bySecret: string[];
}

/**
 * The MLflow registry and workspace a predictor's serving containers (servingContainersOf) load `models:/…`
 * from, as far as the object shows them; undefined when the object has no predictor. The registry URI
 * that decides is the first of MLFLOW_REGISTRY_ENVS set: a hidden one hides those after it.
 */
function mlflowEnvOf(obj: unknown): MlflowEnv | undefined {
  const spec = (obj as { spec?: Record<string, any> } | undefined)?.spec;
  if (!isObject(spec)) return undefined;
  let found = false;
  const out: MlflowEnv = { hidden: [], artifactEnv: {}, secretHidden: [], listed: [], bySecret: [] };
  for (const predictor of [spec.predictor, (spec.default as { predictor?: unknown } | undefined)?.predictor]) {
    if (!isObject(predictor)) continue;
    found = true;
    const containers = servingContainersOf(predictor);
    const secretOnly: string[] = [];
    const ws = envSetting(containers, MLFLOW_WORKSPACE_ENV);
    if (ws?.hidden) (ws.bySecret ? secretOnly : out.hidden).push(MLFLOW_WORKSPACE_ENV);
    const wsValue = ws?.value?.trim();
    if (wsValue && MLFLOW_WORKSPACE.test(wsValue)) out.workspace ??= wsValue;
    let literalUri: string | undefined;
    for (const c of containers) for (const e of itemsOf(c.env)) if (isObject(e) && typeof e.name === 'string' && !out.listed.includes(e.name)) out.listed.push(e.name);
    for (const name of MLFLOW_REGISTRY_ENVS) {
      const set = envSetting(containers, name);
      // MLflow takes a blank value as unset (`if uri := MLFLOW_REGISTRY_URI.get()`): the next one decides.
      const uri = set?.value?.trim();
      if (uri) {
        literalUri = uri;
        out.registryEnv ??= name;
      }
      else if (set?.bySecret) {
        // Possibly in a credentials Secret: read on, the registry URI the env lists decides whether it is a doubt.
        secretOnly.push(name);
        continue;
      } else if (set?.hidden) out.hidden.push(name);
      if (set?.hidden || uri) break;
    }
    if (literalUri) out.registryUri ??= literalUri;
    // With no registry URI given literally, the Secret may be where it comes from: the registry doubt it always was.
    (literalUri ? out.secretHidden : out.hidden).push(...secretOnly);
    out.bySecret.push(...secretOnly);
    // Where the bytes are fetched from, whichever registry names them (the first predictor's value of a name wins).
    const artifact = artifactEnvOf(containers);
    out.hidden.push(...artifact.hidden);
    out.artifactEnv = { ...artifact.values, ...out.artifactEnv };
  }
  if (!found) return undefined;
  const hidden = [...new Set(out.hidden)];
  return { ...out, hidden, secretHidden: [...new Set(out.secretHidden)].filter((n) => !hidden.includes(n)), bySecret: [...new Set(out.bySecret)] };
}

/**
 * What a (Cluster)ServingRuntime's serving container (`spec.containers`: the one named `kserve-container`, else the
 * first, as for a predictor) sets of the MLflow registry and artifact endpoints (mlflowEnvOf); undefined when the
 * object has no spec.
 */
function runtimeEnvOf(obj: unknown): MlflowEnv | undefined {
  const spec = (obj as { spec?: unknown } | undefined)?.spec;
  return isObject(spec) ? mlflowEnvOf({ spec: { predictor: { containers: spec.containers } } }) : undefined;
}

/** The items of a list field; a JSON patch target nested by `nestAt` holds indices as keys. */
function itemsOf(v: unknown): unknown[] {
  return Array.isArray(v) ? v : isObject(v) ? Object.values(v) : [];
}

/**
 * Every model location an InferenceService body names, in spec order:
 * `storageUri` of the predictor, of `spec.predictor.model` or of a framework
 * (`sklearn`, `tensorflow`, …); each `storageUris[].uri` (KServe 0.15+, on the
 * predictor or its implementation); a `storage` spec's `path` (see storageSpecUri); the `STORAGE_URI` env of a custom
 * predictor container, which KServe's storage initializer downloads like a
 * storageUri; and the v1alpha2 `spec.default.predictor.<framework>` /
 * `custom.container`. Every predictor container's STORAGE_URI counts: a JSON
 * patch seldom repeats the container name KServe keys on. An
 * LLMInferenceService names its model in `spec.model.uri`, adapters in
 * `spec.model.lora.adapters[].uri`.
 */
function storageUrisOf(obj: unknown): string[] {
  const spec = (obj as { spec?: Record<string, any> } | undefined)?.spec;
  const out: string[] = [];
  if (!isObject(spec)) return out;
  const add = (u: unknown) => typeof u === 'string' && u && !out.includes(u) && out.push(u);
  for (const predictor of [spec.predictor, (spec.default as { predictor?: unknown } | undefined)?.predictor]) {
    if (!isObject(predictor)) continue;
    for (const impl of [predictor, ...Object.values(predictor)]) {
      if (!isObject(impl)) continue;
      add(impl.storageUri);
      for (const s of itemsOf(impl.storageUris)) add(isObject(s) ? s.uri : undefined);
      add(storageSpecUri(impl.storage));
    }
    const custom = (predictor.custom as { container?: unknown } | undefined)?.container;
    for (const c of [...itemsOf(predictor.containers), custom]) {
      for (const e of itemsOf(isObject(c) ? c.env : undefined)) if (isObject(e) && e.name === STORAGE_URI_ENV) add(e.value);
    }
  }
  // LLMInferenceService: the base model (`spec.model.uri`) and its LoRA adapters.
  if (isObject(spec.model)) {
    add(spec.model.uri);
    for (const a of itemsOf((spec.model.lora as { adapters?: unknown } | undefined)?.adapters)) add(isObject(a) ? a.uri : undefined);
  }
  return out;
}

/** The scheme of a storage-config entry type whose bucket makes a plain URI (KServe's `uriParameters.type`). */
const STORAGE_TYPE_SCHEME: Record<string, string> = { s3: 's3', gcs: 'gs' };

/**
 * The location a KServe `storage` spec (`{key, path, parameters, schemaPath}`, the alternative to
 * `storageUri`) names. The bucket is in the `storage-config` secret entry `key` (default `default`), which the
 * audit log never shows: `kserve-storage://<key>/<path>`, a location no approved artifact holds unless
 * `rules.artifact_mirrors` maps it (`{from: "s3://mlpipeline/", to: "kserve-storage://localMinIO/"}`). When
 * `parameters` override the entry with a `type` and `bucket`, the plain URI (`s3://<bucket>/<path>`).
 */
export function storageSpecUri(storage: unknown): string | undefined {
  if (!isObject(storage) || typeof storage.path !== 'string' || !storage.path) return undefined;
  const path = storage.path.replace(/^\/+/, '');
  const params = isObject(storage.parameters) ? storage.parameters : {};
  const scheme = typeof params.type === 'string' ? STORAGE_TYPE_SCHEME[params.type] : undefined;
  if (scheme && typeof params.bucket === 'string' && params.bucket) return `${scheme}://${params.bucket}/${path}`;
  const key = typeof storage.key === 'string' && storage.key ? storage.key : 'default';
  return `kserve-storage://${key}/${path}`;
}

/** The images of a list of containers (`image` of each). */
function containerImages(list: unknown, add: (v: unknown) => void): void {
  for (const c of itemsOf(list)) if (isObject(c)) add(c.image);
}

/** The containers of a pod spec KServe embeds: `containers`, `initContainers`, and a `workerSpec`'s (multi-node). */
function podImages(pod: unknown, add: (v: unknown) => void): void {
  if (!isObject(pod)) return;
  containerImages(pod.containers, add);
  containerImages(pod.initContainers, add);
  if (isObject(pod.workerSpec)) podImages(pod.workerSpec, add);
}

/**
 * Every container image a KServe object names, as written (a tag stays a tag): an InferenceService's
 * predictor, transformer and explainer — their pod containers, and the `image` of a framework or `model`
 * spec (`spec.predictor.sklearn.image`, `spec.explainer.art.image`), which replaces the serving runtime's —;
 * v1alpha2's `spec.default|canary.<component>.custom.container` and framework `image`s; an
 * LLMInferenceService's `template`, `worker` and `prefill` pods; a (Cluster)ServingRuntime's containers.
 * A framework's `runtimeVersion` alone names no image: only a tag of the runtime's image, judged where the
 * runtime is written.
 */
function kserveImagesOf(obj: unknown): string[] {
  const spec = (obj as { spec?: Record<string, any> } | undefined)?.spec;
  const out: string[] = [];
  if (!isObject(spec)) return out;
  const add = (v: unknown) => typeof v === 'string' && v && !out.includes(v) && out.push(v);
  const component = (c: unknown) => {
    if (!isObject(c)) return;
    podImages(c, add);
    for (const impl of Object.values(c)) {
      if (!isObject(impl)) continue;
      add(impl.image);
      if (isObject(impl.container)) add(impl.container.image);
    }
  };
  for (const name of ['predictor', 'transformer', 'explainer']) {
    component(spec[name]);
    for (const rollout of [spec.default, spec.canary]) if (isObject(rollout)) component(rollout[name]);
  }
  // A ServingRuntime's pod spec is the spec itself.
  podImages(spec, add);
  // A ClusterStorageContainer's one container: the storage initializer that downloads the models of the URIs it supports.
  if (isObject(spec.container)) add(spec.container.image);
  const prefill = isObject(spec.prefill) ? spec.prefill : {};
  for (const pod of [spec.template, spec.worker, prefill.template, prefill.worker]) podImages(pod, add);
  return out;
}

/** A JSON pointer's keys, unescaped. */
function pointerKeys(pointer: string): string[] {
  return pointer.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `…/containers/N/env/M/value` (or `/name`): one field of an env entry, whose other half only the stored object knows. */
const ENV_FIELD = /^(\/spec\/(?:default\/)?predictor\/(?:custom\/container|containers\/[^/]+)\/env\/[^/]+)\/(?:value|name)$/;

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Apply one JSON patch op (RFC 6902) to `doc`, the part of the object the
 * patch itself wrote (paths it never wrote are created as objects, array
 * indices then being keys). Lets later ops override, extend (`/-`) or remove
 * what earlier ones set. The value is copied: the logged request stays as it was.
 */
function applyOp(doc: Record<string, unknown>, keys: string[], op: 'add' | 'replace' | 'remove', value?: unknown): void {
  // The keys come from whoever sent the request: never walk into or write a prototype.
  if (keys.some((k) => UNSAFE_KEYS.has(k))) return;
  if (op !== 'remove') value = structuredClone(value);
  if (!keys.length) {
    // Path "": the whole object is replaced.
    for (const k of Object.keys(doc)) delete doc[k];
    if (isObject(value)) Object.assign(doc, value);
    return;
  }
  let node: unknown = doc;
  for (const k of keys.slice(0, -1)) {
    const o = node as Record<string, unknown>;
    if (!Object.hasOwn(o, k) || o[k] === null || typeof o[k] !== 'object') o[k] = {};
    node = o[k];
  }
  const last = keys[keys.length - 1]!;
  if (Array.isArray(node)) {
    const i = last === '-' ? node.length : Number(last);
    if (!Number.isInteger(i) || i < 0) return;
    if (op === 'add') node.splice(i, 0, value);
    else if (op === 'replace') node[i] = value;
    else node.splice(i, 1);
  } else if (op === 'remove') delete (node as Record<string, unknown>)[last];
  else (node as Record<string, unknown>)[last] = value;
}

/**
 * The identity of a KServe endpoint: `<namespace>/<name>`. InferenceService
 * names are unique only within a namespace, and every Kubeflow profile is one:
 * two tenants' `churn` are two endpoints (a rollback, approval or alert
 * suppression on one must not touch the other). A cluster-scoped object keeps
 * its name.
 *
 * @example
 * endpointId('kubeflow-user-alice', 'churn') // 'kubeflow-user-alice/churn'
 */
export function endpointId(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** What deploymentOf reads of a serving container's env beside `ml.deployment` (they become `details`, audit.ts). */
export interface DeploymentFacts {
  /** MlflowEnv.hidden: `details.mlflow_env_unverifiable`. */
  mlflowEnvHidden?: string[];
  /** MlflowEnv.secretHidden: `details.mlflow_env_secret_unverifiable`. */
  mlflowEnvSecretHidden?: string[];
  /** MlflowEnv.artifactEnv: `details.artifact_env`. */
  artifactEnv?: Record<string, string>;
  /** MlflowEnv.registryEnv: `details.mlflow_registry_env`. */
  registryEnv?: string;
  /** The serving runtime an InferenceService names (servingRuntimeOf): `details.serving_runtime`. */
  servingRuntime?: string;
  /** MlflowEnv.listed, where a serving runtime is named: `details.serving_env_names`. */
  envNames?: string[];
  /** The predictor's ServiceAccount (predictorServiceAccountOf): `details.predictor_service_account`. */
  serviceAccount?: string;
  /**
   * Set by the caller: the write is a patch whose object is unknown (patch-base.ts). The registry and artifact
   * endpoints its env sets are then said even where the model it loads is not known (patchEnvOnly).
   */
  patchBaseUnknown?: boolean;
}

/**
 * The ServiceAccount an InferenceService's predictor runs under (`spec.predictor.serviceAccountName`, else `default`,
 * as KServe takes it): its S3 credential annotations and Secrets decide where an `s3://` storageUri is fetched from.
 * Undefined when the object is not in the record.
 */
export function predictorServiceAccountOf(obj: unknown): string | undefined {
  const predictor = (obj as { spec?: { predictor?: unknown } } | undefined)?.spec?.predictor;
  if (!isObject(predictor)) return undefined;
  return typeof predictor.serviceAccountName === 'string' && predictor.serviceAccountName ? predictor.serviceAccountName : 'default';
}

/**
 * The serving runtime an InferenceService's predictor names (`spec.predictor.model.runtime`, KServe v1beta1): KServe
 * looks for a ServingRuntime of that name in the InferenceService's namespace, then a ClusterServingRuntime.
 * Undefined when it names none (KServe then picks one by `modelFormat` among those with `autoSelect`, which the
 * audit log does not show).
 */
function servingRuntimeOf(obj: unknown): string | undefined {
  const model = (obj as { spec?: { predictor?: { model?: { runtime?: unknown } } } } | undefined)?.spec?.predictor?.model;
  return isObject(model) && typeof model.runtime === 'string' && model.runtime ? model.runtime : undefined;
}

/**
 * A patch of the serving env of an object not seen before: what the env it sets says of the registry and artifact
 * endpoints (judged as a runtime's are, withMlflowServer), the model it loads unknown. An MLflow name only an
 * unprefixed envFrom Secret it adds could set (S3 credentials mounted whole) is the lesser doubt even with no literal
 * registry URI in the patch: the object's env, not in the log, may list one, and an env entry wins over envFrom.
 */
function patchEnvOnly(env: MlflowEnv | undefined, endpoint: string | undefined, facts: DeploymentFacts): Record<string, unknown> | undefined {
  const hidden = env ? env.hidden.filter((n) => !env.bySecret.includes(n)) : [];
  const secretHidden = env ? [...new Set([...env.secretHidden, ...env.hidden.filter((n) => env.bySecret.includes(n))])] : [];
  if (!env || (env.registryUri === undefined && !Object.keys(env.artifactEnv).length && !hidden.length && !secretHidden.length)) return undefined;
  if (hidden.length) facts.mlflowEnvHidden = hidden;
  if (secretHidden.length) facts.mlflowEnvSecretHidden = secretHidden;
  if (Object.keys(env.artifactEnv).length) facts.artifactEnv = env.artifactEnv;
  facts.registryEnv = env.registryEnv;
  return definedOnly({ endpoint, mlflow_registry_uri: env.registryUri === undefined ? undefined : shownRegistryUri(env.registryUri) });
}

/** KServe resources that serve a model they name. */
const MODEL_SERVERS = new Set(['inferenceservices', 'llminferenceservices']);
/** KServe resources that name serving containers for the models that select them. */
const RUNTIMES = new Set(['servingruntimes', 'clusterservingruntimes']);
/**
 * KServe's ClusterStorageContainer (serving.kserve.io/v1alpha1, KServe 0.11+): the storage-initializer container
 * KServe injects to download the model of every InferenceService whose storageUri matches its `supportedUriFormats`.
 * Its image runs before each of those servers, with their storage credentials: judged as a serving image.
 */
const STORAGE_CONTAINERS = new Set(['clusterstoragecontainers']);

/** The value `doc` holds at `keys`, own properties only (a pointer may name `toString`). */
function ownAt(doc: unknown, keys: string[]): unknown {
  let v = doc;
  for (const k of keys) v = v !== null && typeof v === 'object' && Object.hasOwn(v, k) ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/**
 * `ml.deployment` of an (LLM)InferenceService write: the model it serves. Only what
 * the request sets counts (a merge patch of labels deploys nothing); a create
 * or full update falls back to the stored object in the response. A JSON patch
 * (`kubectl patch --type=json`) is replayed op by op onto what it writes, so
 * any add/replace/copy/move landing on a storageUri, storageUris or a
 * STORAGE_URI env counts, and a later op overrides an earlier one. A copy/move
 * from elsewhere in the stored object, or a change to one field of an env
 * entry, is resolved from the response when logged; otherwise
 * `model_uri_copied_from` says where a copied model came from. `model_uri` is
 * the first location; with several (base model + adapters) `model_uris` lists
 * them all, as `ml.job.images` does for images. `images` are the serving
 * containers the write sets (kserveImagesOf), read the same way; a
 * (Cluster)ServingRuntime write has them and no endpoint. Where it deploys a `models:/` URI, what the serving
 * container's env says of its registry (mlflowEnvOf, the stored object's when logged, as it is the whole spec
 * after the write): `mlflow_workspace` (`MLFLOW_WORKSPACE`), `mlflow_registry_uri` (MLFLOW_REGISTRY_URI, else
 * MLFLOW_TRACKING_URI, shown without credentials), and in `facts.mlflowEnvHidden` the names of those the object
 * sets from a source it does not show. A patch that only changes the serving container's env (writesServingEnv)
 * deploys the stored `models:/…` URI anew, from the registry the env now names (known when the response is logged).
 * The artifact endpoints and proxies that env gives go to `facts.artifactEnv` (artifactEnvOf). A (Cluster)ServingRuntime
 * write that sets its containers gets the same of its own serving container (runtimeEnvOf): every model selecting it
 * inherits that env.
 */
export function deploymentOf(ev: AuditEvent, endpoint?: string, facts: DeploymentFacts = {}): Record<string, unknown> | undefined {
  const ref = ev.objectRef ?? {};
  if (!KSERVE_GROUPS.has(ref.apiGroup ?? '') || !(MODEL_SERVERS.has(ref.resource ?? '') || RUNTIMES.has(ref.resource ?? '') || STORAGE_CONTAINERS.has(ref.resource ?? '')) || ref.subresource) return undefined;
  if (ev.verb !== 'create' && ev.verb !== 'update' && ev.verb !== 'patch') return undefined;
  let uris: string[];
  let images: string[];
  const req = ev.requestObject;
  let copiedFrom: string | undefined;
  let mlflowEnv: MlflowEnv | undefined;
  let envWrite = false;
  let accountWrite = false;
  // What the request writes (a JSON patch replayed onto an empty object, else the body).
  let written: unknown = req;
  let runtimeEnvWrite = ev.verb !== 'patch';
  if (Array.isArray(req)) {
    const doc: Record<string, unknown> = {};
    written = doc;
    const envFields: string[] = [];
    const paths: string[] = [];
    for (const op of req) {
      if (!isObject(op) || typeof op.path !== 'string' || (op.path && !op.path.startsWith('/'))) continue;
      paths.push(op.path);
      const keys = pointerKeys(op.path);
      if (op.op === 'remove') {
        applyOp(doc, keys, 'remove');
        continue;
      }
      let value: unknown;
      if (op.op === 'add' || op.op === 'replace') value = op.value;
      else if ((op.op === 'copy' || op.op === 'move') && typeof op.from === 'string') value = ownAt(doc, pointerKeys(op.from));
      else continue;
      if (op.op === 'move') applyOp(doc, pointerKeys(op.from as string), 'remove');
      // The ops apply in order: the last one that sets the model wins.
      if (value === undefined && /^\/spec(\/(predictor|default|model)(\/|$)|$)/.test(op.path)) {
        copiedFrom = op.from as string;
        applyOp(doc, keys, 'remove');
        continue;
      }
      applyOp(doc, keys, op.op === 'replace' ? 'replace' : 'add', value);
      const env = ENV_FIELD.exec(op.path);
      if (env) envFields.push(env[1]!);
      if (storageUrisOf(nestAt(op.path, value)).length) copiedFrom = undefined;
    }
    uris = storageUrisOf(doc);
    images = kserveImagesOf(doc);
    for (const p of envFields) {
      const entry = at(ev.responseObject, pointerKeys(p));
      if (isObject(entry) && entry.name === STORAGE_URI_ENV && typeof entry.value === 'string' && entry.value && !uris.includes(entry.value)) uris.push(entry.value);
    }
    if (copiedFrom) {
      const stored = storageUrisOf(ev.responseObject);
      if (stored.length) (uris = stored), (copiedFrom = undefined);
    }
    mlflowEnv = mlflowEnvOf(doc);
    envWrite = writesServingEnv(doc, paths) || writesServingRuntime(doc, paths);
    accountWrite = writesPredictorAccount(doc, paths);
    runtimeEnvWrite ||= paths.some((p) => /^\/spec(?:\/containers(?:\/|$)|$)/.test(p));
  } else {
    envWrite = ev.verb === 'patch' && (writesServingEnv(req) || writesServingRuntime(req));
    accountWrite = ev.verb === 'patch' && writesPredictorAccount(req);
    runtimeEnvWrite ||= isObject((req as { spec?: unknown } | undefined)?.spec) && Object.hasOwn((req as { spec: Record<string, unknown> }).spec, 'containers');
    mlflowEnv = mlflowEnvOf(req);
    uris = storageUrisOf(req);
    if (!uris.length && ev.verb !== 'patch') uris = storageUrisOf(ev.responseObject);
    images = kserveImagesOf(req);
    if (!images.length && ev.verb !== 'patch') images = kserveImagesOf(ev.responseObject);
  }
  // Only the env or the serving runtime changed: the stored `models:/…` URI now loads from the registry they name (from the response, when logged).
  if (envWrite && !uris.length && !copiedFrom) {
    const stored = storageUrisOf(ev.responseObject);
    if (deploysRegistryUri({ model_uris: stored })) uris = stored;
  }
  // Only the ServiceAccount changed: the stored storageUri is fetched with the new account's S3 settings.
  if (accountWrite && !uris.length && !copiedFrom) uris = storageUrisOf(ev.responseObject);
  // A (Cluster)ServingRuntime's kserve-container env reaches every model that selects it (KServe merges the
  // predictor's env over it): what it says of the registry and artifact endpoints, when the write sets its containers.
  const runtime = RUNTIMES.has(ref.resource ?? '') && runtimeEnvWrite ? runtimeEnvOf(ev.responseObject) ?? runtimeEnvOf(written) : undefined;
  if (runtime) {
    if (runtime.hidden.length) facts.mlflowEnvHidden = runtime.hidden;
    if (runtime.secretHidden.length) facts.mlflowEnvSecretHidden = runtime.secretHidden;
    facts.registryEnv = runtime.registryEnv;
    if (Object.keys(runtime.artifactEnv).length) facts.artifactEnv = runtime.artifactEnv;
    const says = runtime.registryUri !== undefined || runtime.hidden.length || facts.artifactEnv;
    if (!says && !images.length) return undefined;
    return definedOnly({ images: images.length ? images : undefined, mlflow_registry_uri: runtime.registryUri === undefined ? undefined : shownRegistryUri(runtime.registryUri) });
  }
  // An env write of an object not seen: judged by what the env it sets says, with the images it sets too (a merge
  // patch of a predictor's containers resends each container whole, image included).
  const envOnly = !uris.length && !copiedFrom && facts.patchBaseUnknown && envWrite ? patchEnvOnly(mlflowEnv, endpoint, facts) : undefined;
  // A runtime switch of an object not seen: the runtime it names is judged (the rules know its env), under the env
  // names the patch lists (the object's own, not in the log, are unknown).
  const runtimeSwitch = !uris.length && !copiedFrom && facts.patchBaseUnknown ? servingRuntimeOf(written) : undefined;
  if (runtimeSwitch) {
    facts.servingRuntime = runtimeSwitch;
    facts.envNames = mlflowEnv?.listed ?? [];
  }
  if (envOnly) return definedOnly({ ...envOnly, images: images.length ? images : undefined });
  if (runtimeSwitch) return definedOnly({ endpoint, images: images.length ? images : undefined });
  if (!uris.length && !copiedFrom && !images.length) return undefined;
  // The stored object (the response) is the whole spec after the write: a patch of storageUri keeps the env it had.
  mlflowEnv = mlflowEnvOf(ev.responseObject) ?? mlflowEnv;
  const registry = deploysRegistryUri({ model_uris: uris }) ? mlflowEnv : undefined;
  if (registry?.hidden.length) facts.mlflowEnvHidden = registry.hidden;
  if (registry?.secretHidden.length) facts.mlflowEnvSecretHidden = registry.secretHidden;
  if (registry) facts.registryEnv = registry.registryEnv;
  // The runtime whose serving container env the model server gets under its own (judged by the rules, which saw it).
  facts.servingRuntime = servingRuntimeOf(ev.responseObject) ?? servingRuntimeOf(written);
  facts.serviceAccount = predictorServiceAccountOf(ev.responseObject) ?? (ev.verb === 'patch' ? undefined : predictorServiceAccountOf(written));
  if (registry && facts.servingRuntime) facts.envNames = registry.listed;
  if (registry && Object.keys(registry.artifactEnv).length) facts.artifactEnv = registry.artifactEnv;
  // The event shows the location, not a credential in it (a presigned or SAS URL's signature, user-info).
  const shown = uris.map(redactUrlSecrets);
  return definedOnly({ endpoint, model_uri: shown[0], model_uris: shown.length > 1 ? shown : undefined, model_uri_copied_from: copiedFrom === undefined ? undefined : redactUrlSecrets(copiedFrom), images: images.length ? images : undefined, mlflow_workspace: registry?.workspace, mlflow_registry_uri: registry?.registryUri === undefined ? undefined : shownRegistryUri(registry.registryUri) });
}
