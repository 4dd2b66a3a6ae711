import { bindingOf, kfpAuthorizationOf, serviceAccountOf, type AuditEvent } from './audit.js';
import { grantsClusterAdmin } from './audit/rbac.js';
import { isKserveConfigMapName } from './audit/kserve-config.js';
import { clusterRoleRightsOf } from './audit/role-rules.js';

/**
 * High-volume objects that say nothing about ML pipelines (leader-election
 * leases, Kubernetes Events, endpoint bookkeeping, authn/authz reviews the
 * KFP API server files for every request).
 */
const NOISE = new Set([
  'coordination.k8s.io/leases',
  '/events',
  'events.k8s.io/events',
  '/endpoints',
  'discovery.k8s.io/endpointslices',
  'authorization.k8s.io/subjectaccessreviews',
  'authorization.k8s.io/selfsubjectaccessreviews',
  'authorization.k8s.io/selfsubjectrulesreviews',
  'authorization.k8s.io/localsubjectaccessreviews',
  'authentication.k8s.io/tokenreviews',
  'authentication.k8s.io/selfsubjectreviews',
]);

const READ_VERBS = new Set(['get', 'list', 'watch']);
const WRITE_VERBS = new Set(['create', 'update', 'patch']);

/** Groups that hold every watched service account (and more): a grant to them is a grant to the watched namespaces. */
const EVERYONE_GROUPS = new Set(['system:serviceaccounts', 'system:authenticated', 'system:unauthenticated']);

/**
 * Kubernetes' user-facing ClusterRoles: bound cluster-wide (a ClusterRoleBinding) they give every namespace's pods/exec
 * and Secrets (`admin`, `edit`) or everything (`cluster-admin`).
 */
/** The service accounts of KServe's, its LLM controller's and ModelMesh's controllers (their manifests' names). */
const MODEL_SERVING_CONTROLLER_ACCOUNTS = new Set(['kserve-controller-manager', 'llmisvc-controller-manager', 'modelmesh-controller']);
const CLUSTER_WIDE_ROLES = new Set(['cluster-admin', 'admin', 'edit']);

/** Whether a ClusterRole write's body (or JSON patch) names a label aggregating it into `admin`, `edit` or Kubeflow's roles. */
function aggregatesIntoBoundRoles(ev: AuditEvent): boolean {
  const text = JSON.stringify([ev.requestObject ?? null, ev.responseObject ?? null]);
  return /rbac\.authorization\.k8s\.io\/aggregate-to-(admin|edit)|rbac\.authorization\.kubeflow\.org\/aggregate-to-kubeflow|rbac\.authorization\.k8s\.io~1aggregate-to-(admin|edit)|rbac\.authorization\.kubeflow\.org~1aggregate-to-kubeflow/.test(text);
}

/** Why an audit item is kept, or why not. */
export type Relevance = { keep: true; why: string } | { keep: false; why: string };

/** `auditRelevance`, keeping an item whose body it cannot read (normalizing it says what is wrong). */
export function relevanceOrKeep(item: AuditEvent, watched: (ns: string | undefined) => boolean): Relevance {
  try {
    return auditRelevance(item, watched);
  } catch {
    return { keep: true, why: 'unreadable body' };
  }
}

/**
 * Decide whether an audit item matters to the watched Kubeflow namespaces:
 * objects in a watched namespace; the namespaces and Profiles themselves; writes of KServe
 * ClusterServingRuntimes (their containers serve models in the watched namespaces);
 * (Cluster)RoleBindings granting rights to a subject of a watched namespace or
 * to Kubeflow's aggregated ClusterRoles; `kubeflow-*` ClusterRoles; and writes
 * by a watched namespace's service account anywhere (a pipeline pod acting
 * outside its namespace).
 *
 * @example
 * auditRelevance(ev, namespaceMatcher(['kubeflow', 'kubeflow-*'])).keep
 */
export function auditRelevance(ev: AuditEvent, watched: (ns: string | undefined) => boolean): Relevance {
  const ref = ev.objectRef;
  if (!ref?.resource) return { keep: false, why: 'non-resource request' };
  const key = `${ref.apiGroup ?? ''}/${ref.resource}`;
  const kfp = kfpAuthorizationOf(ev);
  if (kfp) {
    // KFP's authorization checks name the end user; reads (UI polling) are noise.
    if (READ_VERBS.has(kfp.verb ?? '')) return { keep: false, why: 'KFP read authorization check' };
    if (watched(kfp.namespace) || watched(serviceAccountOf(ev.user?.username)?.namespace)) return { keep: true, why: 'KFP authorization check' };
  }
  if (NOISE.has(key)) return { keep: false, why: `noise resource ${key}` };
  if (watched(ref.namespace)) return { keep: true, why: 'watched namespace' };
  if (key === '/namespaces' && watched(ref.name)) return { keep: true, why: 'watched namespace object' };
  if (key === 'kubeflow.org/profiles') return { keep: true, why: 'Kubeflow profile' };
  // Cluster-scoped: its containers (image, env) serve the models of every namespace that selects it.
  if (key === 'serving.kserve.io/clusterservingruntimes' && WRITE_VERBS.has(ev.verb ?? '')) return { keep: true, why: 'KServe ClusterServingRuntime write' };
  // Cluster-scoped too: its storage-initializer image downloads the models of every namespace whose storageUri it supports.
  if (key === 'serving.kserve.io/clusterstoragecontainers' && WRITE_VERBS.has(ev.verb ?? '')) return { keep: true, why: 'KServe ClusterStorageContainer write' };
  // KServe's controller ConfigMap (in the controller's namespace, seldom a watched one): its storage initializer downloads
  // every model. Kept in any namespace: normalizing tells the controller's (connectors.kubeflow.kserve_namespaces, learned).
  if (isKserveConfigMapName(ref) && WRITE_VERBS.has(ev.verb ?? '')) return { keep: true, why: 'KServe inferenceservice-config write' };
  if (key === 'rbac.authorization.k8s.io/clusterrolebindings' || key === 'rbac.authorization.k8s.io/rolebindings') {
    const b = bindingOf(ev.responseObject) ?? bindingOf(ev.requestObject);
    if (b?.roleRef?.name?.startsWith('kubeflow-')) return { keep: true, why: 'binding to a Kubeflow role' };
    // Cluster-wide rights over every namespace, the watched ones included (pods/exec, secrets), whoever the subject is.
    if (key === 'rbac.authorization.k8s.io/clusterrolebindings' && WRITE_VERBS.has(ev.verb ?? '') && (grantsClusterAdmin(ref, b) || CLUSTER_WIDE_ROLES.has(b?.roleRef?.name ?? ''))) {
      return { keep: true, why: 'grants cluster-wide rights over every namespace' };
    }
    // A binding write whose subjects the record does not show (a JSON patch touching other fields, a
    // Metadata-level policy) may grant a watched account rights: keep it rather than guess.
    if (WRITE_VERBS.has(ev.verb ?? '') && !b?.subjects.length) return { keep: true, why: 'binding change whose subjects the record does not show' };
    for (const s of b?.subjects ?? []) {
      if (s.kind === 'Group' && EVERYONE_GROUPS.has(s.name ?? '')) return { keep: true, why: `grants rights to every account in ${s.name}` };
      if (s.kind === 'User' && s.name === 'system:anonymous') return { keep: true, why: 'grants rights to anonymous requests' };
      if (s.kind === 'ServiceAccount' && watched(s.namespace)) return { keep: true, why: 'grants rights to a watched service account' };
      if (s.kind === 'Group' && s.name?.startsWith('system:serviceaccounts:') && watched(s.name.slice('system:serviceaccounts:'.length))) {
        return { keep: true, why: 'grants rights to a watched namespace group' };
      }
      if (s.kind === 'User' && watched(serviceAccountOf(s.name)?.namespace)) return { keep: true, why: 'grants rights to a watched service account' };
    }
  }
  if (key === 'rbac.authorization.k8s.io/clusterroles' && ref.name?.startsWith('kubeflow-')) return { keep: true, why: 'Kubeflow ClusterRole' };
  // Kubernetes' `admin` / `edit` (bound in every profile namespace), and a ClusterRole whose rules flow into them or into
  // Kubeflow's roles by an aggregation label (role-rules.ts judges what they hand out).
  if (key === 'rbac.authorization.k8s.io/clusterroles' && WRITE_VERBS.has(ev.verb ?? '') && (ref.name === 'admin' || ref.name === 'edit' || aggregatesIntoBoundRoles(ev))) {
    return { keep: true, why: 'ClusterRole aggregated into the roles ML namespaces bind' };
  }
  // Any ClusterRole whose rules get into workloads (a RoleBinding in a watched namespace may bind it later: its rules
  // are remembered for that), and a delete, which forgets them.
  if (key === 'rbac.authorization.k8s.io/clusterroles' && ((WRITE_VERBS.has(ev.verb ?? '') && clusterRoleRightsOf(ev)?.length) || ev.verb === 'delete')) {
    return { keep: true, why: 'ClusterRole with rights over workloads' };
  }
  // A token for KServe's (or ModelMesh's) controller account acts as it from anywhere: it reads every namespace's
  // storage-config and writes every model server. Its namespace (kserve, opendatahub, …) is seldom a watched one.
  if (key === '/serviceaccounts' && ref.subresource === 'token' && ev.verb === 'create' && MODEL_SERVING_CONTROLLER_ACCOUNTS.has(ref.name ?? '')) {
    return { keep: true, why: "token for a model-serving controller's service account" };
  }
  // A mutating webhook can rewrite any pod or InferenceService the watched namespaces create (image, storageUri, env).
  if (key === 'admissionregistration.k8s.io/mutatingwebhookconfigurations' && (WRITE_VERBS.has(ev.verb ?? '') || ev.verb === 'delete')) return { keep: true, why: 'mutating admission webhook write' };
  const actorSa = serviceAccountOf(ev.user?.username) ?? serviceAccountOf(ev.impersonatedUser?.username);
  if (actorSa && watched(actorSa.namespace) && (!READ_VERBS.has(ev.verb ?? '') || ref.resource === 'secrets')) {
    return { keep: true, why: 'watched service account acting outside its namespace' };
  }
  return { keep: false, why: 'outside watched namespaces' };
}
