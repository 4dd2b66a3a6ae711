import type { NormalizeContext, NormalizeOutput, Rejection } from '../../core/connector.js';
import { isAction, makeEvent, stableId, toRfc3339, type EventDraft, type NormalizedEvent, type Stage } from '../../core/schema/index.js';

/** The fields of an `audit.k8s.io/v1` Event that mltrail reads (v1beta1 and legacy log lines share them). */
export interface AuditEvent {
  kind?: string;
  apiVersion?: string;
  level?: string;
  auditID?: string;
  stage?: string;
  requestURI?: string;
  verb?: string;
  user?: UserInfo;
  impersonatedUser?: UserInfo;
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: {
    resource?: string;
    namespace?: string;
    name?: string;
    uid?: string;
    apiGroup?: string;
    apiVersion?: string;
    subresource?: string;
  };
  responseStatus?: { code?: number; status?: string; message?: string; reason?: string };
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
  /** Legacy (pre-1.12 log backend) keys. */
  timestamp?: string;
  metadata?: { creationTimestamp?: string };
  annotations?: Record<string, string>;
}

interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

type Family =
  | 'pod' | 'secret' | 'service_account' | 'role_binding' | 'role' | 'notebook' | 'endpoint' | 'pipeline_run'
  | 'recurring_run' | 'pipeline' | 'pipeline_version' | 'namespace' | 'tuning_job' | 'training_job' | 'workload'
  | 'permission' | 'resource';

interface ResourceKind {
  family: Family;
  stage: Stage;
}

/**
 * What each Kubernetes resource means to an ML pipeline, keyed `group/resource`
 * (core group = empty). Stage: serving for KServe, training for Argo/KFP/
 * notebooks/training operators, platform for workload, identity and RBAC objects.
 */
const RESOURCE_KINDS: Record<string, ResourceKind> = {
  '/pods': { family: 'pod', stage: 'platform' },
  '/secrets': { family: 'secret', stage: 'platform' },
  '/serviceaccounts': { family: 'service_account', stage: 'platform' },
  '/namespaces': { family: 'namespace', stage: 'platform' },
  '/configmaps': { family: 'resource', stage: 'platform' },
  'rbac.authorization.k8s.io/rolebindings': { family: 'role_binding', stage: 'platform' },
  'rbac.authorization.k8s.io/clusterrolebindings': { family: 'role_binding', stage: 'platform' },
  'rbac.authorization.k8s.io/roles': { family: 'role', stage: 'platform' },
  'rbac.authorization.k8s.io/clusterroles': { family: 'role', stage: 'platform' },
  'argoproj.io/workflows': { family: 'pipeline_run', stage: 'training' },
  'argoproj.io/workflowtemplates': { family: 'pipeline', stage: 'training' },
  'argoproj.io/clusterworkflowtemplates': { family: 'pipeline', stage: 'training' },
  'argoproj.io/cronworkflows': { family: 'recurring_run', stage: 'training' },
  'argoproj.io/workflowtaskresults': { family: 'resource', stage: 'training' },
  'kubeflow.org/scheduledworkflows': { family: 'recurring_run', stage: 'training' },
  'kubeflow.org/viewers': { family: 'resource', stage: 'platform' },
  'kubeflow.org/profiles': { family: 'namespace', stage: 'platform' },
  'kubeflow.org/notebooks': { family: 'notebook', stage: 'training' },
  'kubeflow.org/poddefaults': { family: 'resource', stage: 'platform' },
  'kubeflow.org/experiments': { family: 'tuning_job', stage: 'training' },
  'kubeflow.org/trials': { family: 'tuning_job', stage: 'training' },
  'kubeflow.org/suggestions': { family: 'tuning_job', stage: 'training' },
  'kubeflow.org/tfjobs': { family: 'training_job', stage: 'training' },
  'kubeflow.org/pytorchjobs': { family: 'training_job', stage: 'training' },
  'kubeflow.org/mpijobs': { family: 'training_job', stage: 'training' },
  'kubeflow.org/xgboostjobs': { family: 'training_job', stage: 'training' },
  'kubeflow.org/paddlejobs': { family: 'training_job', stage: 'training' },
  'kubeflow.org/jaxjobs': { family: 'training_job', stage: 'training' },
  'trainer.kubeflow.org/trainjobs': { family: 'training_job', stage: 'training' },
  'trainer.kubeflow.org/trainingruntimes': { family: 'resource', stage: 'training' },
  'trainer.kubeflow.org/clustertrainingruntimes': { family: 'resource', stage: 'training' },
  'pipelines.kubeflow.org/pipelines': { family: 'pipeline', stage: 'training' },
  'pipelines.kubeflow.org/pipelineversions': { family: 'pipeline_version', stage: 'training' },
  'serving.kserve.io/inferenceservices': { family: 'endpoint', stage: 'serving' },
  // KFServing (KServe before 0.7), still found on old clusters.
  'serving.kubeflow.org/inferenceservices': { family: 'endpoint', stage: 'serving' },
  'serving.kserve.io/llminferenceservices': { family: 'endpoint', stage: 'serving' },
  'serving.kserve.io/inferencegraphs': { family: 'endpoint', stage: 'serving' },
  'serving.kserve.io/servingruntimes': { family: 'resource', stage: 'serving' },
  'serving.kserve.io/clusterservingruntimes': { family: 'resource', stage: 'serving' },
  'serving.kserve.io/trainedmodels': { family: 'resource', stage: 'serving' },
  'apps/deployments': { family: 'workload', stage: 'platform' },
  'apps/statefulsets': { family: 'workload', stage: 'platform' },
  'apps/daemonsets': { family: 'workload', stage: 'platform' },
  'apps/replicasets': { family: 'workload', stage: 'platform' },
  'batch/jobs': { family: 'workload', stage: 'platform' },
  'batch/cronjobs': { family: 'workload', stage: 'platform' },
  'security.istio.io/authorizationpolicies': { family: 'permission', stage: 'platform' },
};

/** The kind of an audited object (`group/resource`), or a generic platform resource. */
export function resourceKind(ref: AuditEvent['objectRef']): ResourceKind {
  return RESOURCE_KINDS[`${ref?.apiGroup ?? ''}/${ref?.resource ?? ''}`] ?? { family: 'resource', stage: 'platform' };
}

/** Kubernetes verb → catalogue verb (`get`/`list`/`watch` are reads). */
function baseVerb(verb: string | undefined): 'create' | 'read' | 'update' | 'delete' | 'other' {
  switch (verb) {
    case 'get': case 'list': case 'watch': return 'read';
    case 'create': return 'create';
    case 'update': case 'patch': return 'update';
    case 'delete': case 'deletecollection': return 'delete';
    default: return 'other';
  }
}

/** The normalized action of an audit event. */
export function auditAction(ev: AuditEvent): string {
  const ref = ev.objectRef ?? {};
  const { family } = resourceKind(ref);
  const sub = ref.subresource;
  const v = baseVerb(ev.verb);
  if (family === 'pod' && sub && ['exec', 'attach', 'portforward'].includes(sub)) return `pod.${sub}`;
  if (family === 'pod' && sub === 'log') return 'pod.read';
  // `kubectl debug` adds an ephemeral container to a running pod: code execution inside it.
  if (family === 'pod' && sub === 'ephemeralcontainers' && (v === 'update' || v === 'create')) return 'pod.exec';
  if (family === 'service_account' && sub === 'token' && v === 'create') return 'service_account.token_create';
  let candidate: string;
  if (family === 'permission') candidate = v === 'read' ? 'permission.read' : 'permission.change';
  else if (family === 'pipeline_run' && v === 'update') candidate = 'pipeline_run.status_change';
  else if ((family === 'tuning_job' || family === 'training_job') && v === 'update') candidate = `${family}.status_change`;
  else if (family === 'resource' && ev.verb === 'list') candidate = 'resource.list';
  else candidate = `${family}.${v}`;
  if (isAction(candidate)) return candidate;
  return isAction(`resource.${v}`) ? `resource.${v}` : 'resource.other';
}

/** True for an object that looks like one audit Event (any of v1, v1beta1, legacy log lines). */
export function isAuditEvent(x: unknown): x is AuditEvent {
  if (!x || typeof x !== 'object' || Array.isArray(x)) return false;
  const o = x as Record<string, unknown>;
  if (o.kind !== undefined && o.kind !== 'Event') return false;
  if (typeof o.apiVersion === 'string' && !o.apiVersion.startsWith('audit.k8s.io/')) return false;
  return typeof o.auditID === 'string' && typeof o.verb === 'string' && typeof o.stage === 'string';
}

const STRING_FIELDS = [
  'level', 'requestURI', 'userAgent', 'user.username', 'user.uid', 'impersonatedUser.username',
  'objectRef.resource', 'objectRef.namespace', 'objectRef.name', 'objectRef.uid', 'objectRef.apiGroup',
  'objectRef.apiVersion', 'objectRef.subresource', 'responseStatus.message', 'responseStatus.reason',
] as const;
const OBJECT_FIELDS = ['user', 'impersonatedUser', 'objectRef', 'responseStatus', 'annotations'] as const;
const STRING_LIST_FIELDS = ['sourceIPs', 'user.groups', 'impersonatedUser.groups'] as const;

/** The fields above as key paths, split once (this check runs on every audit item). */
const split = (fields: readonly string[]) => fields.map((f) => ({ name: f, keys: f.split('.') }));
const STRING_PATHS = split(STRING_FIELDS);
const OBJECT_PATHS = split(OBJECT_FIELDS);
const STRING_LIST_PATHS = split(STRING_LIST_FIELDS);

function at(o: unknown, keys: readonly string[]): unknown {
  let v = o;
  for (const k of keys) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/**
 * The first field of an audit Event whose type the apiserver would never send
 * (e.g. `user.username` a number), named with what was expected — so one
 * malformed item is rejected with a clear reason instead of failing its batch.
 */
export function auditFieldError(ev: AuditEvent): { field: string; reason: string } | undefined {
  for (const { name: f, keys } of OBJECT_PATHS) {
    const v = at(ev, keys);
    if (v !== undefined && kindOf(v) !== 'object') return { field: f, reason: `${f}: expected an object, got ${kindOf(v)}` };
  }
  for (const { name: f, keys } of STRING_PATHS) {
    const v = at(ev, keys);
    if (v !== undefined && typeof v !== 'string') return { field: f, reason: `${f}: expected a string, got ${kindOf(v)}` };
  }
  for (const { name: f, keys } of STRING_LIST_PATHS) {
    const v = at(ev, keys);
    if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) return { field: f, reason: `${f}: expected a list of strings` };
  }
  const code = ev.responseStatus?.code;
  if (code !== undefined && typeof code !== 'number') return { field: 'responseStatus.code', reason: `responseStatus.code: expected a number, got ${kindOf(code)}` };
  return undefined;
}

/** True for an `audit.k8s.io` EventList (items may or may not carry kind/apiVersion). */
export function isAuditEventList(x: unknown): x is { items: unknown[] } {
  if (!x || typeof x !== 'object') return false;
  const o = x as Record<string, unknown>;
  return o.kind === 'EventList' && Array.isArray(o.items) && (o.apiVersion === undefined || String(o.apiVersion).startsWith('audit.k8s.io/'));
}

/**
 * Audit items of one record with their position: an EventList, a single Event,
 * a JSON array of Events, or an AKS diagnostic record (`properties.log`).
 * Returns undefined when the record is none of these.
 */
export function auditItems(record: unknown): Array<{ item: unknown; path: string }> | undefined {
  if (isAuditEventList(record)) return record.items.map((item, i) => ({ item, path: `items[${i}]` }));
  if (isAuditEvent(record)) return [{ item: record, path: '' }];
  const aks = (record as { properties?: { log?: unknown } } | null)?.properties?.log;
  if (aks !== undefined) {
    let inner: unknown = aks;
    if (typeof aks === 'string') {
      try {
        inner = JSON.parse(aks);
      } catch {
        return undefined;
      }
    }
    if (isAuditEvent(inner)) return [{ item: inner, path: 'properties.log' }];
  }
  return undefined;
}


/** A KFP API server authorization check: the end user behind a Kubeflow Pipelines API call. */
export interface KfpAuthorization {
  user?: string;
  groups?: string[];
  verb?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  namespace?: string;
  allowed?: boolean;
  reason?: string;
}

/**
 * In multi-user mode the KFP API server (service account `ml-pipeline`) files a
 * SubjectAccessReview on the caller's behalf for every API call, with
 * `resourceAttributes.group: pipelines.kubeflow.org`. With the body logged
 * (level Request/RequestResponse) this is the only place the cluster records
 * which user created, deleted or terminated a run.
 */
export function kfpAuthorizationOf(ev: AuditEvent): KfpAuthorization | undefined {
  if (ev.objectRef?.resource !== 'subjectaccessreviews' || ev.objectRef.apiGroup !== 'authorization.k8s.io') return undefined;
  const req = ev.requestObject as { spec?: Record<string, any> } | undefined;
  const resp = ev.responseObject as { spec?: Record<string, any>; status?: { allowed?: boolean; denied?: boolean; reason?: string } } | undefined;
  const spec = req?.spec ?? resp?.spec;
  const ra = spec?.resourceAttributes;
  if (!ra || ra.group !== 'pipelines.kubeflow.org') return undefined;
  return {
    user: spec?.user,
    groups: spec?.groups,
    verb: ra.verb,
    resource: ra.resource,
    subresource: ra.subresource || undefined,
    name: ra.name || undefined,
    namespace: ra.namespace || undefined,
    allowed: resp?.status ? resp.status.allowed === true : undefined,
    reason: resp?.status?.reason || undefined,
  };
}

const KFP_FAMILY: Record<string, string> = {
  runs: 'pipeline_run',
  pipelines: 'pipeline',
  pipelineversions: 'pipeline_version',
  experiments: 'experiment',
  jobs: 'recurring_run',
  recurringruns: 'recurring_run',
  scheduledworkflows: 'recurring_run',
};
const KFP_VERB: Record<string, string> = {
  get: 'read', list: 'read', watch: 'read', create: 'create', update: 'update', delete: 'delete',
  archive: 'archive', unarchive: 'status_change', retry: 'retry', terminate: 'stop', reportMetrics: 'status_change',
  enable: 'enable', disable: 'disable',
};

/** The normalized action of a KFP authorization check. */
export function kfpAuthorizationAction(a: KfpAuthorization): string {
  if (a.verb === 'readArtifact') return 'artifact.read';
  const family = KFP_FAMILY[a.resource ?? ''];
  const verb = KFP_VERB[a.verb ?? ''];
  const candidate = family && verb ? `${family}.${verb}` : '';
  if (isAction(candidate)) return candidate;
  if (family === 'experiment' && (verb === 'archive' || verb === 'status_change')) return 'experiment.update';
  return isAction(`resource.${verb}`) ? `resource.${verb}` : 'resource.other';
}

const SA_PREFIX = 'system:serviceaccount:';

/**
 * The KFP API server's identity. Only its SubjectAccessReviews stand for a user's
 * KFP call: anyone may file a SAR naming any user, and a profile editor can make
 * an `ml-pipeline` account in their own namespace, so the namespace is checked too.
 */
export const KFP_API_SERVER = `${SA_PREFIX}kubeflow:ml-pipeline`;

/** `system:serviceaccount:<ns>:<name>` → { namespace, name }. */
export function serviceAccountOf(username: string | undefined): { namespace: string; name: string } | undefined {
  if (!username?.startsWith(SA_PREFIX)) return undefined;
  const [namespace, name] = username.slice(SA_PREFIX.length).split(':');
  return namespace && name ? { namespace, name } : undefined;
}

function actorOf(ev: AuditEvent): NormalizedEvent['actor'] {
  return identityOf(ev.user?.username, ev);
}

function identityOf(username: string | undefined, ev?: AuditEvent): NormalizedEvent['actor'] {
  const sa = serviceAccountOf(username);
  const type = sa ? 'service' : username === 'system:anonymous' || !username ? 'unknown' : username.startsWith('system:') ? 'system' : 'user';
  const local = username?.includes(':') && !sa ? username.slice(username.lastIndexOf(':') + 1) : username;
  const email = local && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(local) ? local : undefined;
  const ips = ev?.sourceIPs ?? [];
  const chain = ev?.impersonatedUser?.username && username ? [username, ev.impersonatedUser.username] : undefined;
  return {
    id: username,
    name: sa ? sa.name : local,
    email,
    type,
    // All but the last source IP come from client-settable headers; the last is the apiserver's peer.
    ip: ips.length ? ips[ips.length - 1] : undefined,
    user_agent: ev?.userAgent,
    chain,
  };
}

interface Container {
  name?: string;
  image?: string;
  securityContext?: { privileged?: boolean; allowPrivilegeEscalation?: boolean; runAsUser?: number; capabilities?: { add?: string[] } };
}
interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  hostPID?: boolean;
  hostNetwork?: boolean;
  hostIPC?: boolean;
  serviceAccountName?: string;
  volumes?: Array<{ name?: string; hostPath?: { path?: string } }>;
}

/**
 * Pod specs inside a Pod, a pod-template controller, a Notebook, an Argo
 * Workflow (also inside a KFP ScheduledWorkflow or CronWorkflow), a training
 * operator job (`spec.<kind>ReplicaSpecs.<role>.template`), a Kubeflow Trainer
 * TrainJob (`spec.trainer.image`) or runtime (JobSet `replicatedJobs`), or a
 * Katib Experiment's trial template. `depth` bounds the nesting followed.
 */
function podSpecsOf(obj: unknown, depth = 0): PodSpec[] {
  const o = obj as { kind?: string; spec?: Record<string, any> } | undefined;
  const spec = o?.spec;
  if (!spec || typeof spec !== 'object' || depth > 4) return [];
  if (Array.isArray(spec.containers)) return [spec as PodSpec];
  if (spec.template?.spec) {
    // A JobSet-based Trainer runtime: each replicated job is a Job with its own pod template.
    const jobs = listOf(spec.template.spec.replicatedJobs as unknown[]);
    if (jobs.length) return jobs.flatMap((j) => podSpecsOf((j as { template?: unknown } | null)?.template, depth + 1));
    return podSpecsOf(spec.template, depth + 1);
  }
  if (spec.jobTemplate?.spec) return podSpecsOf(spec.jobTemplate.spec.template ?? spec.jobTemplate, depth + 1);
  const out: PodSpec[] = [];
  // PyTorchJob/TFJob/XGBoostJob/MPIJob/…: one pod template per replica role.
  for (const [k, roles] of Object.entries(spec)) {
    if (!k.endsWith('ReplicaSpecs') || !isObject(roles)) continue;
    for (const r of Object.values(roles)) out.push(...podSpecsOf((r as { template?: unknown } | null)?.template, depth + 1));
  }
  // Kubeflow Trainer TrainJob: the trainer image overrides the runtime's.
  if (isObject(spec.trainer) && typeof spec.trainer.image === 'string') out.push({ containers: [{ name: 'trainer', image: spec.trainer.image }] });
  if (isObject(spec.trialTemplate) && isObject(spec.trialTemplate.trialSpec)) out.push(...podSpecsOf(spec.trialTemplate.trialSpec, depth + 1));
  // KFP ScheduledWorkflow (`spec.workflow.spec`) and Argo CronWorkflow (`spec.workflowSpec`).
  const wf = spec.workflow?.spec ?? spec.workflowSpec ?? spec;
  if (Array.isArray(wf.templates)) {
    // Argo: each template runs as its own pod; PSA never evaluates the Workflow itself.
    for (const t of wf.templates as Array<Record<string, any>>) {
      if (t === null || typeof t !== 'object') continue;
      const containers = [t.container, t.script, ...listOf(t.containerSet?.containers), ...listOf(t.sidecars)].filter(Boolean);
      if (containers.length || t.initContainers) out.push({ containers, initContainers: t.initContainers, hostNetwork: t.hostNetwork, volumes: wf.volumes });
    }
  }
  return out;
}

function isPinned(image: string): boolean {
  return /@sha256:[0-9a-f]{64}$/.test(image);
}

/**
 * `ml.job` for the images of a workload: every image (the dependency rule
 * checks each), pinned only when all are, and `image` the first unpinned one
 * so an alert names the offender rather than the main container.
 */
function jobImages(images: string[], role?: string): Record<string, unknown> {
  const image = images.find((i) => !isPinned(i)) ?? images[0];
  return definedOnly({ image, image_pinned: images.every(isPinned), images, role });
}

const KSERVE_GROUPS = new Set(['serving.kserve.io', 'serving.kubeflow.org']);
/** The KServe controllers' service accounts (kserve/kserve `config/rbac`; LLMInferenceService has its own). */
const KSERVE_CONTROLLER_SAS = new Set(['kserve-controller-manager', 'llmisvc-controller-manager']);

/**
 * A write to an endpoint that changes no model: the `/status` subresource, or
 * the KServe controller writing the object itself (finalizers, annotations)
 * without a spec change. Such a write is reconciliation, not a deployment.
 */
function isEndpointStatusWrite(ev: AuditEvent): boolean {
  const ref = ev.objectRef ?? {};
  if (ref.subresource === 'status') return true;
  if (ref.subresource || !KSERVE_GROUPS.has(ref.apiGroup ?? '')) return false;
  if (!KSERVE_CONTROLLER_SAS.has(serviceAccountOf(ev.user?.username)?.name ?? '') || (ev.verb !== 'update' && ev.verb !== 'patch')) return false;
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

/** The items of a list field; a JSON patch target nested by `nestAt` holds indices as keys. */
function itemsOf(v: unknown): unknown[] {
  return Array.isArray(v) ? v : isObject(v) ? Object.values(v) : [];
}

/**
 * Every model location an InferenceService body names, in spec order:
 * `storageUri` of the predictor, of `spec.predictor.model` or of a framework
 * (`sklearn`, `tensorflow`, …); each `storageUris[].uri` (KServe 0.15+, on the
 * predictor or its implementation); the `STORAGE_URI` env of a custom
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

/** KServe resources that serve a model they name. */
const MODEL_SERVERS = new Set(['inferenceservices', 'llminferenceservices']);

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
 * them all, as `ml.job.images` does for images.
 */
function deploymentOf(ev: AuditEvent, endpoint: string): Record<string, unknown> | undefined {
  const ref = ev.objectRef ?? {};
  if (!KSERVE_GROUPS.has(ref.apiGroup ?? '') || !MODEL_SERVERS.has(ref.resource ?? '') || ref.subresource) return undefined;
  if (ev.verb !== 'create' && ev.verb !== 'update' && ev.verb !== 'patch') return undefined;
  let uris: string[];
  const req = ev.requestObject;
  let copiedFrom: string | undefined;
  if (Array.isArray(req)) {
    const doc: Record<string, unknown> = {};
    const envFields: string[] = [];
    for (const op of req) {
      if (!isObject(op) || typeof op.path !== 'string' || (op.path && !op.path.startsWith('/'))) continue;
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
    for (const p of envFields) {
      const entry = at(ev.responseObject, pointerKeys(p));
      if (isObject(entry) && entry.name === STORAGE_URI_ENV && typeof entry.value === 'string' && entry.value && !uris.includes(entry.value)) uris.push(entry.value);
    }
    if (copiedFrom) {
      const stored = storageUrisOf(ev.responseObject);
      if (stored.length) (uris = stored), (copiedFrom = undefined);
    }
  } else {
    uris = storageUrisOf(req);
    if (!uris.length && ev.verb !== 'patch') uris = storageUrisOf(ev.responseObject);
  }
  if (!uris.length && !copiedFrom) return undefined;
  return definedOnly({ endpoint, model_uri: uris[0], model_uris: uris.length > 1 ? uris : undefined, model_uri_copied_from: copiedFrom });
}

/** Security facts of the pod specs in an object (privileged containers, host namespaces, images). */
function workloadFacts(obj: unknown): Record<string, unknown> | undefined {
  const specs = podSpecsOf(obj);
  if (!specs.length) return undefined;
  const images = new Set<string>();
  const privileged: string[] = [];
  const escalation: string[] = [];
  const capabilities = new Set<string>();
  const hostPaths = new Set<string>();
  let hostPID = false, hostNetwork = false, hostIPC = false;
  const serviceAccounts = new Set<string>();
  for (const s of specs) {
    for (const c of [...listOf(s.containers), ...listOf(s.initContainers), ...listOf(s.ephemeralContainers)]) {
      if (c === null || typeof c !== 'object') continue;
      if (typeof c.image === 'string') images.add(c.image);
      if (c.securityContext?.privileged === true) privileged.push(c.name ?? c.image ?? '?');
      if (c.securityContext?.allowPrivilegeEscalation === true) escalation.push(c.name ?? '?');
      for (const cap of c.securityContext?.capabilities?.add ?? []) capabilities.add(cap);
    }
    hostPID ||= s.hostPID === true;
    hostNetwork ||= s.hostNetwork === true;
    hostIPC ||= s.hostIPC === true;
    for (const v of listOf(s.volumes)) if (v !== null && typeof v === 'object' && v.hostPath?.path) hostPaths.add(v.hostPath.path);
    if (s.serviceAccountName) serviceAccounts.add(s.serviceAccountName);
  }
  return {
    images: [...images],
    privileged: privileged.length > 0,
    privileged_containers: privileged.length ? privileged : undefined,
    allow_privilege_escalation: escalation.length ? escalation : undefined,
    added_capabilities: capabilities.size ? [...capabilities] : undefined,
    host_pid: hostPID || undefined,
    host_network: hostNetwork || undefined,
    host_ipc: hostIPC || undefined,
    host_path_volumes: hostPaths.size ? [...hostPaths] : undefined,
    service_account: serviceAccounts.size ? [...serviceAccounts].join(',') : undefined,
  };
}

interface RbacSubject {
  kind?: string;
  name?: string;
  namespace?: string;
}

/** roleRef + subjects of a (Cluster)RoleBinding body. */
export function bindingOf(obj: unknown): { roleRef?: { kind?: string; name?: string }; subjects: RbacSubject[] } | undefined {
  if (Array.isArray(obj)) return bindingOfJsonPatch(obj);
  const o = obj as { roleRef?: { kind?: string; name?: string }; subjects?: RbacSubject[] } | undefined;
  if (!o || typeof o !== 'object' || (!o.roleRef && !o.subjects)) return undefined;
  return { roleRef: o.roleRef, subjects: Array.isArray(o.subjects) ? o.subjects.filter(isObject) : [] };
}

/**
 * What a JSON patch (RFC 6902; `kubectl patch --type=json`, logged as the
 * request object at the Request level) adds to a binding: subjects added or
 * replaced (`/subjects`, `/subjects/-`, `/subjects/N`) and a new roleRef.
 * Removals grant nothing and are not counted.
 */
function bindingOfJsonPatch(ops: unknown[]): { roleRef?: { kind?: string; name?: string }; subjects: RbacSubject[] } | undefined {
  const subjects: RbacSubject[] = [];
  let roleRef: { kind?: string; name?: string } | undefined;
  for (const op of ops) {
    if (!isObject(op)) continue;
    const { op: verb, path, value } = op as { op?: unknown; path?: unknown; value?: unknown };
    if ((verb !== 'add' && verb !== 'replace') || typeof path !== 'string') continue;
    if (path === '/subjects' && Array.isArray(value)) subjects.push(...value.filter(isObject));
    else if (/^\/subjects\/(\d+|-)$/.test(path) && isObject(value)) subjects.push(value as RbacSubject);
    else if (/^\/subjects\/(\d+|-)\/(kind|name|namespace)$/.test(path) && typeof value === 'string') {
      // A field of an existing subject changed: the subject it makes is not fully known; keep what is.
      const field = path.slice(path.lastIndexOf('/') + 1) as keyof RbacSubject;
      subjects.push({ [field]: value });
    } else if (path === '/roleRef' && isObject(value)) roleRef = value as { kind?: string; name?: string };
    else if (path === '/roleRef/name' && typeof value === 'string') roleRef = { ...roleRef, name: value };
  }
  return subjects.length || roleRef ? { roleRef, subjects } : undefined;
}

/**
 * Whether a binding change hands out cluster-admin. A patch rarely repeats the
 * roleRef, but a roleRef is immutable, so the system binding named
 * `cluster-admin` binds the cluster-admin role whatever the patch says.
 */
function grantsClusterAdmin(ref: { resource?: string; name?: string }, binding: ReturnType<typeof bindingOf>): boolean {
  if (!binding) return false;
  if (binding.roleRef?.name) return binding.roleRef.name === 'cluster-admin';
  return ref.resource === 'clusterrolebindings' && ref.name === 'cluster-admin' && binding.subjects.length > 0;
}

/** A list field as sent, or none when the field is absent or not a list. */
function listOf<T>(v: T[] | undefined): T[] {
  return Array.isArray(v) ? v : [];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Values of a repeated query parameter of the request URI (exec `command=`). */
function queryValues(uri: string | undefined, key: string): string[] {
  if (!uri) return [];
  try {
    return new URL(uri, 'http://apiserver').searchParams.getAll(key);
  } catch {
    return [];
  }
}

function objectLabels(obj: unknown): Record<string, string> | undefined {
  return (obj as { metadata?: { labels?: Record<string, string> } } | undefined)?.metadata?.labels;
}

/**
 * The name of the object a request acted on. A create with `generateName`
 * (every ReplicaSet, Job and Argo pod) has no `objectRef.name`: the apiserver
 * picks the name, and only the response object carries it. A refused create
 * never got one; its request body may still name the object. Subresource
 * bodies (Binding, Eviction, exec streams) and Status/List answers are not the
 * object, so they are not read.
 */
function objectName(ev: AuditEvent): string | undefined {
  const ref = ev.objectRef ?? {};
  if (ref.name) return ref.name;
  if (ref.subresource) return undefined;
  for (const obj of [ev.responseObject, ev.requestObject]) {
    const o = obj as { kind?: unknown; metadata?: { name?: unknown } } | undefined;
    if (o?.kind === 'Status' || (typeof o?.kind === 'string' && o.kind.endsWith('List'))) continue;
    if (typeof o?.metadata?.name === 'string' && o.metadata.name) return o.metadata.name;
  }
  return undefined;
}

/** Pod Security Admission annotations, if any. */
function podSecurityOf(ann: Record<string, string>): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const k of Object.keys(ann)) if (k.startsWith('pod-security.kubernetes.io/')) out[k.slice('pod-security.kubernetes.io/'.length).replace(/-/g, '_')] = ann[k]!;
  return Object.keys(out).length ? out : undefined;
}

/** Copy of `o` without its undefined values, key order kept. */
function definedOnly(o: Record<string, unknown>): Record<string, unknown> {
  return copyDefined({}, o);
}

/** Assign the defined values of `from` onto `to`, in order. */
function copyDefined(to: Record<string, unknown>, from: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(from)) {
    const v = from[k];
    if (v !== undefined) to[k] = v;
  }
  return to;
}

/**
 * Normalize one audit Event. Pure: no I/O, no namespace filtering (the live
 * route filters; `mltrail normalize` shows everything).
 *
 * @example
 * const r = normalizeAuditEvent(item, ctx);
 * if ('event' in r) events.push(r.event);
 */
export function normalizeAuditEvent(ev: AuditEvent, ctx: NormalizeContext, path = ''): { event: NormalizedEvent } | { rejection: Rejection } {
  const bad = auditFieldError(ev);
  if (bad) return { rejection: { reason: bad.reason, path, field: bad.field, record: ev } };
  try {
    return normalizeCheckedAuditEvent(ev, ctx, path);
  } catch (err) {
    // An object body this code did not expect (e.g. a container list holding null): this item only.
    return { rejection: { reason: `cannot normalize this audit event: ${(err as Error).message}`, path, record: ev } };
  }
}

function normalizeCheckedAuditEvent(ev: AuditEvent, ctx: NormalizeContext, path: string): { event: NormalizedEvent } | { rejection: Rejection } {
  if (!ev.auditID) return { rejection: { reason: 'audit event has no auditID', path, field: 'auditID', record: ev } };
  const time = toRfc3339(ev.stageTimestamp ?? ev.requestReceivedTimestamp ?? ev.timestamp ?? ev.metadata?.creationTimestamp);
  if (!time) return { rejection: { reason: 'audit event has no valid stageTimestamp', path, field: 'stageTimestamp', record: ev } };
  const ref = ev.objectRef ?? {};
  const kind = resourceKind(ref);
  const ann = ev.annotations ?? {};
  const decision = ann['authorization.k8s.io/decision'];
  const code = ev.responseStatus?.code;
  let outcome: NormalizedEvent['outcome'] = 'unknown';
  let error: NormalizedEvent['error'];
  if (decision === 'forbid') {
    outcome = 'failure';
    error = { code: 'Forbidden', message: ev.responseStatus?.message ?? ann['authorization.k8s.io/reason'] ?? 'denied by the authorizer' };
  } else if (ev.stage === 'Panic') {
    outcome = 'failure';
    error = { code: 'Panic', message: ev.responseStatus?.message ?? 'apiserver panicked serving the request' };
  } else if (typeof code === 'number' && code >= 400) {
    outcome = 'failure';
    error = { code: ev.responseStatus?.reason || String(code), message: ev.responseStatus?.message };
  } else if (typeof code === 'number') {
    outcome = 'success';
  }

  const body = ev.responseObject ?? ev.requestObject;
  const workload = workloadFacts(ev.requestObject) ?? workloadFacts(ev.responseObject);
  const binding = kind.family === 'role_binding' ? bindingOf(ev.requestObject) ?? bindingOf(ev.responseObject) : undefined;
  const labels = objectLabels(body);
  const kfpRunId = labels?.['pipeline/runid'];
  // A pod created by a KFP run is a training step, not bare platform activity.
  const stage: Stage = kind.family === 'pod' && (kfpRunId || labels?.['workflows.argoproj.io/workflow']) ? 'training' : kind.stage;
  const command = ref.subresource === 'exec' ? queryValues(ev.requestURI, 'command') : [];
  const container = ref.subresource ? queryValues(ev.requestURI, 'container')[0] : undefined;
  const sa = serviceAccountOf(ev.user?.username);
  const resourceType = ref.resource ?? (ev.requestURI ? 'nonresource' : 'unknown');
  const images = (workload?.images as string[] | undefined) ?? [];
  const name = objectName(ev);

  // Only defined values are copied (makeEvent would delete the rest: deleting
  // keys from a wide object is slow), and no spread in the middle of the literal.
  const details = definedOnly({
    verb: ev.verb,
    audit_id: ev.auditID,
    audit_stage: ev.stage,
    audit_level: ev.level,
    request_uri: ev.requestURI,
    api_group: ref.apiGroup || undefined,
    api_version: ref.apiVersion,
    subresource: ref.subresource,
    object_uid: ref.uid,
    response_code: code,
    response_reason: ev.responseStatus?.reason,
    response_message: ev.responseStatus?.message,
    source_ips: ev.sourceIPs,
    user_groups: ev.user?.groups,
    user_uid: ev.user?.uid,
    service_account_namespace: sa?.namespace,
    actor_pod: ev.user?.extra?.['authentication.kubernetes.io/pod-name']?.[0],
    actor_node: ev.user?.extra?.['authentication.kubernetes.io/node-name']?.[0],
    impersonated_user: ev.impersonatedUser ? { username: ev.impersonatedUser.username, groups: ev.impersonatedUser.groups } : undefined,
    authorization: decision || ann['authorization.k8s.io/reason'] ? { decision, reason: ann['authorization.k8s.io/reason'] } : undefined,
    pod_security: podSecurityOf(ann),
    validation_failure: ann['validation.policy.admission.k8s.io/validation_failure'],
    truncated: ann['audit.k8s.io/truncated'] === 'true' || undefined,
    // `?dryRun=All`: admission and validation ran, nothing was persisted.
    dry_run: queryValues(ev.requestURI, 'dryRun').includes('All') || undefined,
    exec_command: command.length ? command : undefined,
    container,
  });
  if (workload) copyDefined(details, workload);
  copyDefined(details, {
    role_ref: binding?.roleRef,
    subjects: binding?.subjects.length ? binding.subjects : undefined,
    grants_cluster_admin: grantsClusterAdmin(ref, binding) || undefined,
  });

  const kfpAuthz = kfpAuthorizationOf(ev);
  if (kfpAuthz) details.kfp_authorization = { ...kfpAuthz, checked_by: ev.user?.username };
  if (kfpAuthz && ev.user?.username === KFP_API_SERVER) {
    // The checked user is the actor; the API server that asked is the delegate.
    const who = identityOf(kfpAuthz.user);
    const event = makeEvent(
      {
        id: stableId('kubeflow', 'k8s-audit', ev.auditID, ev.stage),
        time,
        received_time: ctx.receivedTime,
        platform: 'kubeflow',
        channel: ctx.channel,
        stage: 'training',
        action: kfpAuthorizationAction(kfpAuthz) as NormalizedEvent['action'],
        operation: `kfp.authorize ${kfpAuthz.verb ?? '?'} ${kfpAuthz.resource ?? '?'}`,
        service: 'ml-pipeline',
        outcome: kfpAuthz.allowed === undefined ? 'unknown' : kfpAuthz.allowed ? 'success' : 'failure',
        error: kfpAuthz.allowed === false ? { code: 'Forbidden', message: kfpAuthz.reason ?? 'denied by KFP authorization' } : undefined,
        actor: who ? { ...who, chain: kfpAuthz.user && ev.user?.username ? [kfpAuthz.user, ev.user.username] : undefined } : undefined,
        resource: {
          type: `pipelines.kubeflow.org/${kfpAuthz.resource ?? 'unknown'}`,
          id: kfpAuthz.name,
          name: kfpAuthz.name,
          namespace: kfpAuthz.namespace,
        },
        details,
      },
      { raw: ev, keepRaw: ctx.keepRaw },
    );
    return { event };
  }

  const job = images.length ? jobImages(images, workload?.service_account as string | undefined) : undefined;
  const statusOnly = kind.family === 'endpoint' && isEndpointStatusWrite(ev);
  // Every event naming a KServe endpoint carries its namespace-qualified id, so that rules never
  // fall back to the bare `resource.name` (the same name in another profile is another endpoint).
  const endpoint = kind.family === 'endpoint' && name ? endpointId(ref.namespace, name) : undefined;
  const deployment = endpoint ? ((statusOnly ? undefined : deploymentOf(ev, endpoint)) ?? { endpoint }) : undefined;
  const event = makeEvent(
    // Compact objects (defined values only): the same event once makeEvent prunes, without its key deletes.
    definedOnly({
      id: stableId('kubeflow', 'k8s-audit', ev.auditID, ev.stage),
      time,
      received_time: ctx.receivedTime,
      platform: 'kubeflow',
      channel: ctx.channel,
      stage,
      action: (statusOnly ? 'endpoint.status_change' : auditAction(ev)) as NormalizedEvent['action'],
      operation: `${ev.verb ?? 'unknown'} ${resourceType}${ref.subresource ? `/${ref.subresource}` : ''}`,
      service: 'kube-apiserver',
      outcome,
      error,
      actor: definedOnly(actorOf(ev) as Record<string, unknown>),
      resource: definedOnly({
        type: resourceType,
        id: name ? `${ref.namespace ? `namespaces/${ref.namespace}/` : ''}${resourceType}/${name}` : undefined,
        name,
        namespace: ref.namespace,
      }),
      ml: job || kfpRunId || deployment ? definedOnly({ job, deployment, provenance: kfpRunId ? { run_id: kfpRunId } : undefined }) : undefined,
      details,
    }) as unknown as EventDraft,
    { raw: ev, keepRaw: ctx.keepRaw },
  );
  return { event };
}

/**
 * Normalize every audit item of one record (EventList, Event, array, AKS wrapper).
 * `items` is `auditItems(record)`, passed when the caller has already looked.
 *
 * @example
 * normalizeAudit({ kind: 'EventList', items: [...] }, ctx).events
 */
export function normalizeAudit(record: unknown, ctx: NormalizeContext, items = auditItems(record)): NormalizeOutput {
  const out: NormalizeOutput = { events: [], rejected: [], skipped: [] };
  if (!items) {
    out.rejected.push({ reason: 'not a Kubernetes audit Event or EventList', record });
    return out;
  }
  for (const { item, path } of items) {
    if (!isAuditEvent(item)) {
      out.rejected.push({ reason: 'list item is not an audit Event (needs auditID, verb, stage)', path, record: item });
      continue;
    }
    const r = normalizeAuditEvent(item, ctx, path);
    if ('event' in r) out.events.push(r.event);
    else out.rejected.push(r.rejection);
  }
  return out;
}
