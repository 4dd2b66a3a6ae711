import type { NormalizeContext, NormalizeOutput, Rejection } from '../../core/connector.js';
import { redactArgv, redactUrlSecrets } from '../../core/secrets.js';
import { makeEvent, stableId, toRfc3339, type EventDraft, type NormalizedEvent, type Stage } from '../../core/schema/index.js';
import { auditAction, auditFieldError, auditItems, isAuditEvent, resourceKind, type AuditEvent } from './audit/envelope.js';
import { actorOf, identityOf, KFP_API_SERVER, serviceAccountOf } from './audit/identity.js';
import { kfpAuthorizationAction, kfpAuthorizationOf } from './audit/kfp-authz.js';
import { deploymentOf, endpointId, isEndpointStatusWrite, predictorServiceAccountOf, type DeploymentFacts } from './audit/kserve.js';
import { modelMeshDeploymentOf } from './audit/modelmesh.js';
import { trainedModelDeploymentOf } from './audit/trained-model.js';
import { graphServiceUrlsOf } from './audit/inference-graph.js';
import { isKserveConfigMap, isKserveConfigMapName, kserveConfigChangeOf, kserveConfigImagesOf, kserveNamespacesOf, learnKserveNamespace } from './audit/kserve-config.js';
import { copyDefined, definedOnly } from './audit/objects.js';
import { bindingOf, grantsClusterAdmin } from './audit/rbac.js';
import { kfamContributorOf, PROFILE_CONTROLLER, roleGrantOf } from './audit/role-grant.js';
import { bindingRoleSeen } from './audit/binding-roles.js';
import { clusterRoleRightsSeen, rememberClusterRole, roleRulesOf } from './audit/role-rules.js';
import { watchedBy } from './namespaces.js';
import { mutatingWebhookOf } from './audit/webhook.js';
import { namespaceGuardsOff } from './audit/namespace-guards.js';
import { DEFAULT_NAMESPACES } from './config.js';
import { redactAuditRaw, redactRequestUri, redactStatusMessage, redactValidationFailure, VALIDATION_FAILURE } from './audit/redact.js';
import { jobImages, workloadFacts } from './audit/workload.js';
import { changesPodSpec, ephemeralContainersOf, isWorkloadController, mlWorkloadOf, secretRefsOf, storageInitializerUrisOf } from './audit/ml-workload.js';
import { kserveS3Of, removesS3Endpoint } from './audit/s3-credentials.js';
import { modelStoreSecretOf, patchedObjectOf } from './audit/patch-base.js';
import { gitopsApplicationOf, helmReleaseOf } from './audit/gitops.js';
import type { KubeflowConfig } from './config.js';
import { withClusterMlflow } from './mlflowserver.js';

// Importers use `./audit.js`: the names it exported before the split into audit/ stay here.
export { auditAction, auditFieldError, auditItems, isAuditEvent, isAuditEventList, resourceKind, type AuditEvent } from './audit/envelope.js';
export { KFP_API_SERVER, serviceAccountOf } from './audit/identity.js';
export { kfpAuthorizationAction, kfpAuthorizationOf, type KfpAuthorization } from './audit/kfp-authz.js';
export { endpointId } from './audit/kserve.js';
export { bindingOf } from './audit/rbac.js';

/**
 * The event id of one audit Event. The apiserver takes `auditID` from the client's `Audit-ID` request
 * header when one is sent (apiserver filters `WithAuditInit`), so any user can give two different requests
 * the same auditID: keyed on it and the stage alone, an exec sent after a harmless read with the same
 * header was answered as a duplicate and never reached the rules or a sink. What the apiserver itself
 * records about the request (when it received it, verb, URI, user, object) is in the id too: a retried
 * batch resends the same values (one id), a request with a copied Audit-ID does not.
 *
 * @example
 * auditEventId({ auditID: 'a', stage: 'ResponseComplete', verb: 'get', requestURI: '/api/v1/…' }) // 32 hex
 */
export function auditEventId(ev: AuditEvent): string {
  const ref = ev.objectRef ?? {};
  return stableId(
    'kubeflow', 'k8s-audit', ev.auditID, ev.stage,
    ev.requestReceivedTimestamp ?? ev.timestamp, ev.verb, ev.requestURI, ev.user?.username, ev.impersonatedUser?.username,
    ref.apiGroup, ref.resource, ref.subresource, ref.namespace, ref.name,
  );
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

const WORKLOAD_WRITES = new Set(['create', 'update', 'patch']);
/** KServe's storage spec secret (`DefaultStorageSpecSecret`): every storage key a namespace's model servers download with. */
const MODEL_STORE_SECRET = 'storage-config';

/**
 * Whether a list or watch may return the named object: no label selector (an object's labels are not in the record),
 * and no field selector, or one naming it (`metadata.name=<name>`).
 */
function listMayReturn(uri: string | undefined, name: string): boolean {
  if (queryValues(uri, 'labelSelector').some((v) => v.trim())) return false;
  const fields = queryValues(uri, 'fieldSelector').join(',').split(',').map((f) => f.trim()).filter(Boolean);
  return fields.every((f) => !/^metadata\.name\s*==?/.test(f) || f.replace(/^metadata\.name\s*==?\s*/, '') === name);
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

/**
 * Normalize one audit Event. Pure: no I/O, no namespace filtering (the live
 * route filters; `mltrail normalize` shows everything). `cluster`: the configured
 * cluster that sent it (undefined: the default one), whose `mlflow_server` and
 * `mlflow_workspace` its `models:/` deployments name.
 *
 * @example
 * const r = normalizeAuditEvent(item, ctx);
 * if ('event' in r) events.push(r.event);
 */
export function normalizeAuditEvent(ev: AuditEvent, ctx: NormalizeContext, path = '', cluster?: string): { event: NormalizedEvent } | { rejection: Rejection } {
  const bad = auditFieldError(ev);
  if (bad) return { rejection: { reason: bad.reason, path, field: bad.field, record: ev } };
  try {
    const r = normalizeCheckedAuditEvent(ev, ctx, path, cluster);
    // The MLflow server and workspace its `models:/` URIs name: `cluster`'s settings (forCluster then scopes the
    // event to a configured cluster). Applied here, once, so that a workspace set on the event is the predictor's
    // own or its cluster's, never the default cluster's.
    return 'event' in r ? { event: withClusterMlflow(r.event, ctx.config as KubeflowConfig | undefined, cluster) } : r;
  } catch (err) {
    // An object body this code did not expect (e.g. a container list holding null): this item only.
    return { rejection: { reason: `cannot normalize this audit event: ${(err as Error).message}`, path, record: ev } };
  }
}

/** The controller namespaces of an audit item that is not KServe's ConfigMap: none is looked at. */
const NO_NAMESPACES: ReadonlySet<string> = new Set();

function normalizeCheckedAuditEvent(ev: AuditEvent, ctx: NormalizeContext, path: string, cluster?: string): { event: NormalizedEvent } | { rejection: Rejection } {
  if (!ev.auditID) return { rejection: { reason: 'audit event has no auditID', path, field: 'auditID', record: ev } };
  const time = toRfc3339(ev.stageTimestamp ?? ev.requestReceivedTimestamp ?? ev.timestamp ?? ev.metadata?.creationTimestamp);
  if (!time) return { rejection: { reason: 'audit event has no valid stageTimestamp', path, field: 'stageTimestamp', record: ev } };
  const ref = ev.objectRef ?? {};
  const kind = resourceKind(ref);
  // KServe's controller ConfigMap is read in the configured namespaces and in the one its controller is seen acting from.
  learnKserveNamespace(ev, ctx.config, cluster);
  // Only KServe's ConfigMap is judged by them (isKserveConfigMap, kserveConfigImagesOf): for every other item the set is
  // not built (it was, a copy of the configured and learned lists per audit event).
  const kserveNamespaces = isKserveConfigMapName(ev.objectRef) ? kserveNamespacesOf(ctx.config, cluster) : NO_NAMESPACES;
  // The controllers' namespaces again, for the few items whose writer is judged (ML workload writes, model store secrets,
  // tokens): built on demand, not per item.
  const controllerNamespaces = () => kserveNamespacesOf(ctx.config, cluster);
  const ann = ev.annotations ?? {};
  const decision = ann['authorization.k8s.io/decision'];
  const code = ev.responseStatus?.code;
  // What goes to the SIEMs from the request line and the answer's message, secrets hidden as in raw (redact.ts).
  const statusMessage = ev.responseStatus?.message === undefined ? undefined : redactStatusMessage(ev.responseStatus.message);
  let outcome: NormalizedEvent['outcome'] = 'unknown';
  let error: NormalizedEvent['error'];
  if (decision === 'forbid') {
    outcome = 'failure';
    error = { code: 'Forbidden', message: statusMessage ?? ann['authorization.k8s.io/reason'] ?? 'denied by the authorizer' };
  } else if (ev.stage === 'Panic') {
    outcome = 'failure';
    error = { code: 'Panic', message: statusMessage ?? 'apiserver panicked serving the request' };
  } else if (typeof code === 'number' && code >= 400) {
    outcome = 'failure';
    error = { code: ev.responseStatus?.reason || String(code), message: statusMessage };
  } else if (typeof code === 'number') {
    outcome = 'success';
  }

  const body = ev.responseObject ?? ev.requestObject;
  const workload = workloadFacts(ev.requestObject) ?? workloadFacts(ev.responseObject);
  const sent = kind.family === 'role_binding' ? bindingOf(ev.requestObject) : undefined;
  const stored = kind.family === 'role_binding' ? bindingOf(ev.responseObject) : undefined;
  // A patch names the subjects it adds, not the (immutable) roleRef: a RequestResponse record's answer says which role they get.
  const binding = sent ? (sent.roleRef?.name || !stored?.roleRef?.name ? sent : { ...sent, roleRef: stored.roleRef }) : stored;
  // The roleRef an earlier record of the binding showed, for a Request-level patch that repeats none (it is immutable).
  const earlierRole = kind.family === 'role_binding' ? bindingRoleSeen(ev, binding?.roleRef, ctx.config, cluster) : undefined;
  const labels = objectLabels(body);
  const kfpRunId = labels?.['pipeline/runid'];
  // A pod created by a KFP run is a training step, not bare platform activity.
  // KServe's controller ConfigMap configures the storage initializer of every InferenceService: a serving object.
  const stage: Stage = kind.family === 'pod' && (kfpRunId || labels?.['workflows.argoproj.io/workflow']) ? 'training' : isKserveConfigMap(ref, kserveNamespaces) ? 'serving' : kind.stage;
  const command = ref.subresource === 'exec' ? (redactArgv(queryValues(ev.requestURI, 'command')).argv as string[]) : [];
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
    request_uri: ev.requestURI === undefined ? undefined : redactRequestUri(ev.requestURI),
    api_group: ref.apiGroup || undefined,
    api_version: ref.apiVersion,
    subresource: ref.subresource,
    object_uid: ref.uid,
    response_code: code,
    response_reason: ev.responseStatus?.reason,
    response_message: statusMessage,
    source_ips: ev.sourceIPs,
    user_groups: ev.user?.groups,
    user_uid: ev.user?.uid,
    service_account_namespace: sa?.namespace,
    actor_pod: ev.user?.extra?.['authentication.kubernetes.io/pod-name']?.[0],
    actor_node: ev.user?.extra?.['authentication.kubernetes.io/node-name']?.[0],
    // The bound token's id (`JTI=<uuid>`, Kubernetes 1.29+): which token of the account made the call, so one token
    // used from a pod and from elsewhere can be told apart. It names the token, it is not the token.
    actor_credential_id: ev.user?.extra?.['authentication.kubernetes.io/credential-id']?.[0],
    impersonated_user: ev.impersonatedUser ? { username: ev.impersonatedUser.username, groups: ev.impersonatedUser.groups } : undefined,
    authorization: decision || ann['authorization.k8s.io/reason'] ? { decision, reason: ann['authorization.k8s.io/reason'] } : undefined,
    pod_security: podSecurityOf(ann),
    validation_failure: typeof ann[VALIDATION_FAILURE] === 'string' ? redactValidationFailure(ann[VALIDATION_FAILURE]) : undefined,
    truncated: ann['audit.k8s.io/truncated'] === 'true' || undefined,
    // `?dryRun=All`: admission and validation ran, nothing was persisted.
    dry_run: queryValues(ev.requestURI, 'dryRun').includes('All') || undefined,
    exec_command: command.length ? command : undefined,
    container,
    // Which Argo CD Application applied the object: what an analyst looks up in Git.
    gitops_application: gitopsApplicationOf(ev.requestObject, ev.user?.username) ?? gitopsApplicationOf(ev.responseObject, ev.user?.username),
    // Which Helm release the object says it belongs to (anyone can write it: recorded, not trusted).
    helm_release: Array.isArray(ev.requestObject) ? helmReleaseOf(ev.responseObject) : (helmReleaseOf(ev.requestObject) ?? helmReleaseOf(ev.responseObject)),
  });
  if (workload) copyDefined(details, workload);
  // A KServe model server, KFP step or MLflow server pod (or its controller): entered or changed outside KServe/KFP.
  const mlWorkload = mlWorkloadOf(ev);
  let modelLocation: string | undefined;
  if (mlWorkload) {
    details.ml_workload = definedOnly({ ...mlWorkload });
    if (!ref.subresource && WORKLOAD_WRITES.has(ev.verb ?? '')) {
      details.pod_spec_changed = changesPodSpec(ev);
      if (isWorkloadController(ev.user?.username, controllerNamespaces())) details.by_workload_controller = true;
      // The model a model server's pods download (storage-initializer argument or KServe's source-URI annotation):
      // the model location, as an InferenceService's storageUri is (credentials hidden).
      if (mlWorkload.kind === 'model_server') {
        const uris = [...new Set([...storageInitializerUrisOf(ref, ev.requestObject), ...storageInitializerUrisOf(ref, ev.responseObject)])].map(redactUrlSecrets);
        if (uris.length) {
          modelLocation = uris[0];
          details.storage_initializer_uris = uris;
        }
      }
    }
  }
  // The credentials KServe's storage initializer (and ModelMesh) loads models with, read; a token minted for an account.
  if (kind.family === 'secret' && ref.name === MODEL_STORE_SECRET && !ref.subresource) details.model_store_secret = true;
  // `kubectl get secrets -o yaml` (a list, or a watch, of the namespace's secrets) returns storage-config's keys too, with no
  // name in the record; a label selector (Helm's release secrets) or a field selector naming another secret does not.
  if (kind.family === 'secret' && !ref.name && ref.namespace && !ref.subresource && (ev.verb === 'list' || ev.verb === 'watch') && listMayReturn(ev.requestURI, MODEL_STORE_SECRET)) {
    details.model_store_secret = true;
  }
  // A pod (or pod template) written to mount it or take env from it: the credentials handed to whatever that pod runs.
  if ((kind.family === 'pod' || kind.family === 'workload') && !ref.subresource && WORKLOAD_WRITES.has(ev.verb ?? '')
    && [ev.requestObject, ev.responseObject].some((o) => secretRefsOf(o).includes(MODEL_STORE_SECRET))) details.model_store_secret = true;
  // Other model store credentials: a Secret KServe's S3 annotations mark, or one a KServe ServiceAccount lists (the
  // objects kept in patch-base), read by name.
  if (kind.family === 'secret' && ref.name && ref.name !== MODEL_STORE_SECRET && ref.namespace && !ref.subresource && ev.verb === 'get') {
    const store = modelStoreSecretOf(ctx.config, cluster, ref.namespace, ref.name, predictorServiceAccountOf);
    if (store) {
      details.model_store_secret = true;
      details.model_store_secret_from = definedOnly({ ...store });
    }
  }
  if ((details.model_store_secret || (kind.family === 'service_account' && ref.subresource === 'token')) && isWorkloadController(ev.user?.username, controllerNamespaces())) {
    details.by_workload_controller = true;
  }
  const debugContainers = ephemeralContainersOf(ev);
  if (debugContainers) {
    details.ephemeral_containers = debugContainers.map((c) => definedOnly(c));
    const debugImages = debugContainers.map((c) => c.image).filter((i): i is string => !!i);
    if (debugImages.length && !details.images) details.images = debugImages;
  }
  copyDefined(details, {
    role_ref: binding?.roleRef,
    subjects: binding?.subjects.length ? binding.subjects : undefined,
    grants_cluster_admin: grantsClusterAdmin(ref, earlierRole && binding && !binding.roleRef?.name ? { ...binding, roleRef: earlierRole } : binding) || undefined,
  });
  // An ExternalName Service: a name in the namespace that resolves elsewhere (an InferenceGraph step naming it leaves the cluster).
  if (ref.resource === 'services' && !ref.apiGroup && !ref.subresource && WORKLOAD_WRITES.has(ev.verb ?? '')) {
    const spec = (ev.responseObject as { spec?: { type?: unknown; externalName?: unknown } } | undefined)?.spec ?? (ev.requestObject as { spec?: { type?: unknown; externalName?: unknown } } | undefined)?.spec;
    if (spec?.type === 'ExternalName' && typeof spec.externalName === 'string' && spec.externalName) details.external_name = spec.externalName.toLowerCase().replace(/\.$/, '');
    else if (spec?.type !== undefined && spec.type !== 'ExternalName') details.external_name_cleared = true;
  }
  // Pod Security or Istio injection switched off on a watched namespace: recorded for the SIEM (no rule judges it).
  if (kind.family === 'namespace' && ref.resource === 'namespaces' && watchedBy((ctx.config as KubeflowConfig | undefined)?.namespaces ?? DEFAULT_NAMESPACES)(ref.name ?? objectName(ev))) {
    const off = namespaceGuardsOff(ev);
    if (off) details.namespace_protection_off = off;
  }
  // A mutating webhook rewrites the pods / InferenceServices its rules match (platform.ml_workload_access).
  const webhook = mutatingWebhookOf(ev);
  if (webhook) {
    // Pinned to namespaces by name: the watched ones among them (none watched: it rewrites no ML workload).
    const pinned = Array.isArray(webhook.namespaces) ? webhook.namespaces.filter(watchedBy((ctx.config as KubeflowConfig | undefined)?.namespaces ?? DEFAULT_NAMESPACES)) : undefined;
    details.mutating_webhook = definedOnly({ ...webhook, watched_namespaces: pinned });
  }
  // A Role / ClusterRole whose rules get into ML workloads (platform.ml_workload_access).
  if (kind.family === 'role') {
    rememberClusterRole(ev, ctx.config, cluster);
    const rules = roleRulesOf(ev, watchedBy((ctx.config as KubeflowConfig | undefined)?.namespaces ?? DEFAULT_NAMESPACES));
    if (rules) details.role_rules = rules;
    if (rules && isWorkloadController(ev.user?.username, controllerNamespaces())) details.by_workload_controller = true;
  }
  if (kind.family === 'role_binding') {
    // Rights to exec into, read the Secrets of and rewrite an ML namespace's workloads (platform.ml_workload_access).
    const grant = roleGrantOf(ev, binding, watchedBy((ctx.config as KubeflowConfig | undefined)?.namespaces ?? DEFAULT_NAMESPACES), earlierRole, (role) => clusterRoleRightsSeen(role, ctx.config, cluster));
    if (grant) details.role_grant = grant;
    if (ev.user?.username === PROFILE_CONTROLLER) details.by_profile_controller = true;
    // KFAM's contributor add: who was added, as which dashboard role (the person who asked is not in the record).
    const contributor = kfamContributorOf(ev);
    if (contributor) details.kfam_contributor = definedOnly(contributor);
  }

  // `raw` goes to the SIEMs: secrets in pod / InferenceService env and URL credentials are hidden in a copy
  // (the normalizer above read the original), and the event says where, so raw is known not byte-exact.
  const kept = ctx.keepRaw === false ? undefined : redactAuditRaw(ev);
  if (kept?.paths.length) details.raw_redacted = kept.paths;
  const raw = kept?.raw ?? ev;

  const kfpAuthz = kfpAuthorizationOf(ev);
  if (kfpAuthz) details.kfp_authorization = { ...kfpAuthz, checked_by: ev.user?.username };
  if (kfpAuthz && ev.user?.username === KFP_API_SERVER) {
    // The checked user is the actor; the API server that asked is the delegate.
    const who = identityOf(kfpAuthz.user);
    const event = makeEvent(
      {
        id: auditEventId(ev),
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
      { raw, keepRaw: ctx.keepRaw },
    );
    return { event };
  }

  const packageSources = (workload?.package_sources as string[] | undefined) ?? [];
  const hiddenSources = (workload?.package_sources_unverifiable as string[] | undefined) ?? [];
  const job = images.length || packageSources.length || hiddenSources.length ? jobImages(images, workload?.service_account as string | undefined, packageSources, hiddenSources) : undefined;
  const statusOnly = kind.family === 'endpoint' && isEndpointStatusWrite(ev);
  // Every event naming a KServe endpoint carries its namespace-qualified id, so that rules never
  // fall back to the bare `resource.name` (the same name in another profile is another endpoint).
  const endpoint = kind.family === 'endpoint' && name ? endpointId(ref.namespace, name) : undefined;
  // A serving runtime names no endpoint, but the images the endpoints selecting it run.
  const deployFacts: DeploymentFacts = {};
  // A Request-level patch shows no object: judged as the object it made of the last one seen (patch-base.ts).
  const patched = kind.family === 'endpoint' || kind.family === 'service_account' || kind.family === 'secret' ? patchedObjectOf(ev, auditEventId(ev), ctx.config, cluster) : {};
  if (patched.facts) copyDefined(details, patched.facts as unknown as Record<string, unknown>);
  const written = patched.object ? { ...ev, responseObject: patched.object } : ev;
  if (patched.facts?.patch_base_unknown) deployFacts.patchBaseUnknown = true;
  // The storage-initializer image a write of KServe's `inferenceservice-config` sets runs before every model server.
  // So do its agent / logger, batcher, router and explainer images, beside every model server.
  const kserveConfig = kserveConfigImagesOf(ev, kserveNamespaces);
  const initializerImages = kserveConfig ? [...new Set(Object.values(kserveConfig).flat())] : undefined;
  if (kserveConfig) details.kserve_config_keys = Object.keys(kserveConfig);
  // Which of its keys the write changed (any key: credentials, ingress, the images): judged by platform.ml_workload_access.
  const kserveChange = kserveConfigChangeOf(ev, kserveNamespaces, ctx.config, cluster);
  if (kserveChange) details.kserve_config_change = kserveChange;
  // A KServe TrainedModel loads its model into the InferenceService it names: a deployment onto that endpoint
  // (not a controller's finalizer or status write).
  const trained = isEndpointStatusWrite(ev) ? undefined : trainedModelDeploymentOf(ev);
  // An InferenceGraph step's serviceUrl: where the router sends the requests (judged by registry.unapproved_deployment).
  const graphUrls = statusOnly || isEndpointStatusWrite(ev) ? undefined : graphServiceUrlsOf(ev, written);
  if (graphUrls) details.graph_service_urls = graphUrls;
  // A ModelMesh Predictor is its own endpoint: the model its storage spec names (not a status or controller write).
  const mesh = endpoint && !statusOnly ? modelMeshDeploymentOf(ev, endpoint) : undefined;
  const deployment = trained ?? mesh ?? (endpoint ? ((statusOnly ? undefined : deploymentOf(written, endpoint, deployFacts)) ?? { endpoint }) : initializerImages ? { images: initializerImages } : deploymentOf(ev, undefined, deployFacts));
  // The env vars naming its MLflow registry or workspace whose value the log does not show (withMlflowServer may
  // take them as the cluster's setting, trust_mlflow_env_refs).
  if (deployFacts.mlflowEnvHidden) details.mlflow_env_unverifiable = deployFacts.mlflowEnvHidden;
  // Those only an unprefixed envFrom Secret could set beside a literal registry URI: a lesser doubt (withMlflowServer).
  if (deployFacts.mlflowEnvSecretHidden) details.mlflow_env_secret_unverifiable = deployFacts.mlflowEnvSecretHidden;
  // The artifact endpoints and proxies its env names (judged against the cluster's artifact_endpoints by withMlflowServer).
  if (deployFacts.artifactEnv) details.artifact_env = deployFacts.artifactEnv;
  if (deployFacts.registryEnv) details.mlflow_registry_env = deployFacts.registryEnv;
  if (deployFacts.servingRuntime) details.serving_runtime = deployFacts.servingRuntime;
  if (deployFacts.envNames) details.serving_env_names = deployFacts.envNames;
  if (deployFacts.serviceAccount && deployment?.model_uri) details.predictor_service_account = deployFacts.serviceAccount;
  // KServe's S3 credential annotations on a ServiceAccount or Secret (judged against artifact_endpoints by withClusterMlflow).
  // A Request-level patch (no object): read on the object it made of the last one seen; with none seen, only an
  // endpoint the patch itself sets, the Secrets it lists, or the endpoint it removes is said (the account's other
  // settings, and its Secrets where it lists none, stay as the rules knew them).
  const kserveS3 = patched.partial ? kserveS3Of({ ...ev, responseObject: patched.partial }) : kserveS3Of(patched.object && kind.family !== 'endpoint' ? { ...ev, responseObject: patched.object } : ev);
  // What the object kept before the write said: a setting the write removed is said so (an object without any says nothing).
  const before = patched.previous ? kserveS3Of({ ...ev, verb: 'update', responseObject: patched.previous }) : undefined;
  const endpointRemoved = kind.family !== 'endpoint' && !kserveS3?.endpoint && (patched.facts?.patch_base_unknown === true ? removesS3Endpoint(ev.requestObject) : !!kserveS3 && !!before?.endpoint);
  const secretsUnlisted = !!kserveS3 && !patched.partial && !kserveS3.secrets && !!before?.secrets;
  if ((kserveS3 && (!patched.partial || kserveS3.endpoint || kserveS3.secrets)) || endpointRemoved) {
    details.kserve_s3 = { ...kserveS3, ...(endpointRemoved ? { endpoint_removed: true } : {}), ...(secretsUnlisted ? { secrets: [] } : {}) };
  }
  const event = makeEvent(
    // Compact objects (defined values only): the same event once makeEvent prunes, without its key deletes.
    definedOnly({
      id: auditEventId(ev),
      time,
      received_time: ctx.receivedTime,
      platform: 'kubeflow',
      channel: ctx.channel,
      stage,
      action: (statusOnly ? 'endpoint.status_change' : trained?.model_uri || trained?.model_uri_copied_from ? 'endpoint.deploy' : auditAction(ev)) as NormalizedEvent['action'],
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
      ml: job || kfpRunId || deployment || modelLocation ? definedOnly({ job, deployment, model: modelLocation ? { artifact_uri: modelLocation } : undefined, provenance: kfpRunId ? { run_id: kfpRunId, pipeline_run: kfpRunId } : undefined }) : undefined,
      details,
    }) as unknown as EventDraft,
    { raw, keepRaw: ctx.keepRaw },
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
