/**
 * The audit.k8s.io Event record as mltrail reads it: its fields, how to tell
 * one apart and check its field types, the items of one record, and which
 * resource family, stage and catalogue action an event is about.
 */

import { isAction, type Stage } from '../../../core/schema/index.js';
import { at } from './objects.js';

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
  'serving.kserve.io/clusterstoragecontainers': { family: 'resource', stage: 'serving' },
  'serving.kserve.io/trainedmodels': { family: 'resource', stage: 'serving' },
  // ModelMesh (kserve/modelmesh-serving): a Predictor is a stable endpoint for the model its spec names.
  'serving.kserve.io/predictors': { family: 'endpoint', stage: 'serving' },
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
