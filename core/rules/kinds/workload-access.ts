import { anyGlob, callerText, identityOf, namedEntity, scopedName, scopeOf } from '../facts.js';
import { endpointEntity, setting, type KindImpl } from './context.js';

const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** What each interactive pod action is, in the finding. */
const ENTRY: Record<string, string> = { 'pod.exec': 'exec', 'pod.attach': 'attach', 'pod.portforward': 'port-forward' };

/** The Kubernetes verb of an audit event's operation (`create pods/proxy`). */
const verbOf = (operation: unknown): string => (typeof operation === 'string' ? (operation.split(' ')[0] ?? '') : '');

const WHAT: Record<string, string> = { model_server: 'model server', pipeline_step: 'pipeline step', mlflow_server: 'MLflow server', configured: 'ML workload' };

/**
 * Argo's workflow-controller signals a step's containers (stop, terminate, an active deadline, a sidecar to end) by an
 * exec of `/var/run/argo/argoexec kill <signal> 1`, or `/bin/sh -c "kill -<signal> 1"` where argoexec is not mounted
 * (workflow/signal in argo-workflows): it reads nothing and runs nothing else.
 */
function isArgoSignal(cmd: string[]): boolean {
  if (cmd.length === 4 && cmd[0] === '/var/run/argo/argoexec' && cmd[1] === 'kill' && /^\d{1,2}$/.test(cmd[2] ?? '') && cmd[3] === '1') return true;
  return cmd.length === 3 && cmd[0] === '/bin/sh' && cmd[1] === '-c' && /^kill -\d{1,2} 1$/.test(cmd[2] ?? '');
}

/**
 * `kubectl cp` is an exec of `tar`: `tar cf - <path>` copies out of the pod, `tar xf - -C <dir>` (kubectl's
 * `tar xmf - -C <dir>`) into it. Returns the direction and path, else undefined.
 */
function copyOf(cmd: string[]): { direction: 'out' | 'in'; path?: string } | undefined {
  if (cmd[0] !== 'tar' || cmd.length < 2) return undefined;
  const mode = cmd[1] ?? '';
  if (/^-?[a-z]*c[a-z]*f/.test(mode) || /^-?[a-z]*c/.test(mode)) return { direction: 'out', path: cmd.slice(2).find((a) => a !== '-' && !a.startsWith('-')) };
  if (/^-?[a-z]*x/.test(mode)) {
    const c = cmd.indexOf('-C');
    return { direction: 'in', path: c >= 0 ? cmd[c + 1] : undefined };
  }
  return undefined;
}

/**
 * `platform.ml_workload_access`: someone gets into, or changes, an ML workload outside the controller that runs it —
 * an exec (`kubectl exec`, `kubectl cp`), attach, port-forward or ephemeral debug container (`kubectl debug`) into a
 * KServe model server, a KFP pipeline step or an MLflow server pod (the connector's `details.ml_workload`, or a pod
 * `pods` lists), or a model server's Deployment, ReplicaSet or pod spec written by anyone but KServe's, Knative's or
 * Kubernetes' controllers (`kubectl set image`, an edited storage-initializer argument): the weights served, the run's
 * data or the registry's store change with no deployment, run or registry record. Also a token minted for an ML namespace's
 * ServiceAccount, or KServe's `storage-config` Secret read, outside the controllers (credentialTaken). Failed and dry-run
 * requests are not judged; `exempt` identities (a break-glass role) are not judged.
 */
export const mlWorkloadAccess: KindImpl = (ev, ctx) => {
  if (ev.platform !== 'kubeflow' || ev.outcome === 'failure') return;
  const d = ev.details ?? {};
  if (d.dry_run === true) return;
  const ns = ev.resource?.namespace;
  const podName = ev.resource?.name;
  // Rights over an ML namespace's workloads handed out outside Kubeflow's profile controller / KFAM.
  if (/^role_binding\.(create|update)$/.test(ev.action) && d.role_grant && typeof d.role_grant === 'object' && d.by_profile_controller !== true) {
    roleGranted(ev, ctx);
    return;
  }
  // A Role / ClusterRole handing out rights that get into ML workloads (`*`, Secrets, pods/exec, escalate/bind/impersonate).
  if (/^role\.(create|update)$/.test(ev.action) && d.role_rules && typeof d.role_rules === 'object' && d.by_workload_controller !== true) {
    roleRulesWritten(ev, ctx);
    return;
  }
  // KServe's controller configuration (the images run beside every model server, the credentials they use) edited.
  if (/^resource\.(create|update)$/.test(ev.action) && d.kserve_config_change && typeof d.kserve_config_change === 'object') {
    kserveConfigWritten(ev, ctx);
    return;
  }
  // A mutating webhook that can rewrite ML workloads, installed or changed outside the known installers.
  if (/^resource\.(create|update)$/.test(ev.action) && d.mutating_webhook && typeof d.mutating_webhook === 'object') {
    webhookWritten(ev, ctx);
    return;
  }
  // The identity or the credentials of ML workloads, taken for use outside them.
  const mounts = d.model_store_secret === true && /^(pod|workload)\.(create|update)$/.test(ev.action);
  if ((ev.action === 'service_account.token_create' || (d.model_store_secret === true && (ev.action === 'secret.read' || mounts))) && d.by_workload_controller !== true) {
    credentialTaken(ev, ctx);
    return;
  }
  const marked = d.ml_workload && typeof d.ml_workload === 'object' ? (d.ml_workload as Record<string, unknown>) : undefined;
  const listed = !marked && ev.resource?.type === 'pods' && ns && podName && anyGlob(setting<string[]>(ctx, 'pods'), `${ns}/${podName}`);
  const kind = text(marked?.kind) ?? (listed ? 'configured' : undefined);
  if (!kind) return;
  const debug = d.subresource === 'ephemeralcontainers';
  let how: string | undefined = debug ? 'ephemeral container' : ENTRY[ev.action];
  // A request sent through the API server's pod proxy (`/pods/<pod>:8081/proxy/models?url=…`: TorchServe's management API
  // registers a model from a URL) reaches the model server's own API past its InferenceService; reads (metrics) are not judged.
  // So does one through the service proxy (`/services/<isvc>-predictor:80/proxy/…`, `/services/modelmesh-serving:8008/proxy/…`).
  if (!how && d.subresource === 'proxy' && (ev.resource?.type === 'pods' || ev.resource?.type === 'services') && kind === 'model_server' && !/^(get|list|watch)$/.test(verbOf(ev.operation))) how = 'proxy';
  // A model server's pods changed outside KServe (a pipeline pod's own executor writes its pod; MLflow servers are upgraded by their admins).
  if (!how && kind === 'model_server' && d.pod_spec_changed === true && d.by_workload_controller !== true) how = 'pod spec change';
  if (!how) return;
  const identity = identityOf(ev.actor, ctx.cfg);
  if (identity && anyGlob(setting<string[]>(ctx, 'exempt'), identity)) return;
  const command = strings(d.exec_command);
  // A service account (Argo's controller: its name and namespace differ between installs) signalling a pipeline step.
  if (ev.action === 'pod.exec' && kind === 'pipeline_step' && ev.actor?.type === 'service' && isArgoSignal(command)) return;
  const copy = ev.action === 'pod.exec' ? copyOf(command) : undefined;
  const endpoint = text(marked?.endpoint);
  const target = `${ev.resource?.type === 'pods' ? 'pod' : (ev.resource?.type ?? 'object').replace(/s$/, '')} ${ns ? `${ns}/` : ''}${podName ?? '?'}`;
  const modelMesh = text(marked?.component) === 'modelmesh';
  const entity = endpoint ? endpointEntity(ev, endpoint) : namedEntity('pod', scopedName(`${ns ?? ''}/${podName ?? ''}`, scopeOf(ev)), `${ns ?? ''}/${podName ?? ''}`, ev.platform);
  const debugContainers = Array.isArray(d.ephemeral_containers) ? d.ephemeral_containers : undefined;
  const act =
    copy ? `copied ${copy.path ?? 'files'} ${copy.direction === 'in' ? 'into' : 'out of'}`
      : how === 'exec' ? `ran ${command.length ? `'${command.join(' ')}'` : 'a command'} in`
        : how === 'ephemeral container' ? `added a debug container${debugContainers?.length ? ` (${debugContainers.map((c) => text((c as Record<string, unknown>).image) ?? '?').join(', ')})` : ''} to`
          : how === 'pod spec change' ? 'changed the pods of'
            : how === 'proxy' ? `sent a ${verbOf(ev.operation) || 'proxied'} request through the API server's proxy to`
              : `${how === 'attach' ? 'attached to' : 'port-forwarded to'}`;
  const whatText = `${modelMesh ? 'ModelMesh model server' : (WHAT[kind] ?? 'ML workload')}${endpoint ? ` ${endpoint}` : ''}`;
  // The model location the write gives the storage initializer (the connector's ml.model.artifact_uri).
  const modelUri = how === 'pod spec change' ? text(ev.ml?.model?.artifact_uri) : undefined;
  ctx.detect({
    entity,
    // One finding per caller, way in and object: an exec's ResponseStarted and ResponseComplete are one.
    key: `${how}|${identity ?? ''}|${ns ?? ''}/${podName ?? ''}${copy ? `|cp-${copy.direction}` : ''}`,
    evidence: [ev.id],
    title: how === 'pod spec change' ? 'Model server changed outside KServe' : 'Interactive access into an ML workload',
    summary: `${callerText(ev.actor, ctx.cfg)} ${act} ${target} (${whatText}${how === 'pod spec change' ? ', not through its InferenceService' : ''})${modelUri ? `: its pods download the model from ${modelUri}` : ''}`,
    details: {
      identity,
      workload: kind,
      access: copy ? `copy ${copy.direction}` : how,
      endpoint,
      component: text(marked?.component),
      workflow: text(marked?.workflow),
      workload_from: text(marked?.from) ?? (listed ? 'config' : undefined),
      namespace: ns,
      object: podName,
      object_type: ev.resource?.type,
      operation: ev.operation,
      command: command.length ? command : undefined,
      container: text(d.container),
      copy_path: copy?.path,
      ephemeral_containers: debugContainers,
      images: !debug && how === 'pod spec change' && strings(d.images).length ? strings(d.images) : undefined,
      model_uri: modelUri,
      impersonated: Array.isArray(ev.actor?.chain) && ev.actor.chain.length > 1 ? ev.actor.chain[ev.actor.chain.length - 1] : undefined,
    },
  });
};

/**
 * A token minted for a watched namespace's ServiceAccount (`kubectl create token pipeline-runner`: the pipeline's, a
 * notebook's or a model server's identity, usable from anywhere until it expires), or KServe's `storage-config` Secret
 * read (every model store key the namespace's model servers download with) by anyone but the controllers and kubelets.
 */
const credentialTaken: KindImpl = (ev, ctx) => {
  const identity = identityOf(ev.actor, ctx.cfg);
  if (identity && anyGlob(setting<string[]>(ctx, 'exempt'), identity)) return;
  const ns = ev.resource?.namespace ?? '';
  const name = ev.resource?.name ?? '?';
  const token = ev.action === 'service_account.token_create';
  const mounted = !token && ev.action !== 'secret.read';
  const type = token ? 'service_account' : mounted ? 'pod' : 'secret';
  ctx.detect({
    entity: namedEntity(type, scopedName(`${ns}/${name}`, scopeOf(ev)), `${ns}/${name}`, ev.platform),
    key: `${token ? 'token' : 'credentials'}|${identity ?? ''}`,
    evidence: [ev.id],
    title: token ? "Token minted for an ML workload's service account" : "ML model store credentials read",
    summary: token
      ? `${callerText(ev.actor, ctx.cfg)} minted a token for service account ${ns}/${name}: it acts as that account outside its pods until the token expires`
      : mounted
        ? `${callerText(ev.actor, ctx.cfg)} wrote ${(ev.resource?.type ?? 'pod').replace(/s$/, '')} ${ns}/${name} to mount secret ${ns}/storage-config (the model store credentials KServe's storage initializer downloads models with)`
        : !ev.resource?.name
          ? `${callerText(ev.actor, ctx.cfg)} listed the secrets of namespace ${ns}, storage-config among them (the`
          : `${callerText(ev.actor, ctx.cfg)} read secret ${ns}/${name} (the model store credentials KServe's storage initializer downloads models with)`,
    details: {
      identity, workload: type, access: token ? 'token request' : mounted ? 'credentials mounted' : 'credentials read', namespace: ns || undefined, object: name, object_type: ev.resource?.type, operation: ev.operation,
      // Not storage-config: why the Secret is a model store credential (KServe S3 annotations, or the KServe account listing it).
      model_store_secret_from: ev.details?.model_store_secret_from,
    },
  });
};

/**
 * The apiserver itself: at start it reconciles its bootstrap bindings (`cluster-admin` to `system:masters`); and the
 * addon manager, which re-applies the platform's shipped manifests.
 */
const RBAC_BOOTSTRAP = new Set(['system:apiserver', 'system:addon-manager']);

/**
 * Whether the caller is a trusted installer (`trusted_installers`: by default Argo CD's application controller and
 * Flux's kustomize / helm controllers, which apply what a reviewed Git repository holds). Matched on the account that
 * sent the request: a person impersonating it (`kubectl --as`) is that person. Helm's labels and annotations and Argo
 * CD's tracking marks on the object are anyone's to write, so they decide nothing: a person running `helm install`
 * acts with their own rights and is judged.
 */
function byTrustedInstaller(ev: Parameters<KindImpl>[0], ctx: Parameters<KindImpl>[1]): boolean {
  return anyGlob(setting<string[]>(ctx, 'trusted_installers'), ev.actor?.id);
}

/** What the alert says of the Helm release / Argo CD Application the object names (connector details), for the analyst. */
function installMarks(ev: Parameters<KindImpl>[0]): { helm_release?: unknown; gitops_application?: string; text: string } {
  const d = ev.details ?? {};
  const helm = d.helm_release && typeof d.helm_release === 'object' ? (d.helm_release as Record<string, unknown>) : undefined;
  const app = text(d.gitops_application);
  const parts = [
    helm ? `Helm release ${text(helm.name) ?? '(unnamed)'}: Helm ran with the caller's own rights` : undefined,
    app ? `Argo CD Application ${app}, applied by the caller, not Argo CD's controller` : undefined,
  ].filter(Boolean);
  return { helm_release: helm, gitops_application: app, text: parts.length ? ` (${parts.join('; ')})` : '' };
}

/**
 * A (Cluster)RoleBinding giving a subject `kubeflow-admin`, `kubeflow-edit`, `admin` or `edit` in a watched namespace, or
 * any of them or `cluster-admin` cluster-wide (the connector's `details.role_grant`): exec into its model servers and
 * pipeline steps, its Secrets (storage-config), its Deployments — made by someone other than the profile controller /
 * KFAM (which Kubeflow's own contributor flow goes through) or the apiserver's bootstrap.
 */
const roleGranted: KindImpl = (ev, ctx) => {
  const d = ev.details ?? {};
  if (RBAC_BOOTSTRAP.has(ev.actor?.id ?? '') || byTrustedInstaller(ev, ctx)) return;
  const identity = identityOf(ev.actor, ctx.cfg);
  if (identity && anyGlob(setting<string[]>(ctx, 'exempt'), identity)) return;
  const grant = d.role_grant as Record<string, unknown>;
  const roleUnknown = grant.role_unknown === true;
  const role = text(grant.role) ?? '?';
  const marks = installMarks(ev);
  const cluster = grant.scope === 'cluster';
  const ns = ev.resource?.namespace ?? '';
  const name = ev.resource?.name ?? '?';
  const subjects = Array.isArray(d.subjects) ? (d.subjects as Array<Record<string, unknown>>) : [];
  const who = subjects.map((s) => `${text(s.kind) ?? '?'} ${text(s.namespace) ? `${text(s.namespace)}/` : ''}${text(s.name) ?? '?'}`).join(', ') || 'a subject';
  const object = cluster ? name : `${ns}/${name}`;
  const roleRights = strings(grant.role_rights);
  const bound = roleRights.length ? `${role} (${roleRights.join('; ')})` : role;
  ctx.detect({
    entity: namedEntity('role_binding', scopedName(object, scopeOf(ev)), object, ev.platform),
    key: `role grant|${identity ?? ''}|${object}`,
    evidence: [ev.id],
    title: cluster ? 'Cluster-wide rights over ML namespaces granted' : 'Rights over an ML namespace granted',
    summary: roleUnknown
      ? `${callerText(ev.actor, ctx.cfg)} added ${who} to ${cluster ? 'cluster role binding' : 'role binding'} ${object}, whose role the audit record does not name (a patch repeats no roleRef, and no earlier record of the binding was seen)${cluster ? '' : ` in ML namespace ${ns}`}, outside Kubeflow's profile controller${marks.text}`
      : `${callerText(ev.actor, ctx.cfg)} bound ${bound} to ${who} ${cluster ? 'cluster-wide (every ML namespace: exec into model servers and pipeline steps, model store secrets)' : `in namespace ${ns} (exec into its model servers and pipeline steps, its model store secrets)`}, outside Kubeflow's profile controller${marks.text}`,
    details: {
      identity,
      workload: 'role_binding',
      access: 'role grant',
      role: roleUnknown ? undefined : role,
      role_unknown: roleUnknown || undefined,
      role_from: text(grant.role_from),
      role_rights: roleRights.length ? roleRights : undefined,
      helm_release: marks.helm_release,
      gitops_application: marks.gitops_application,
      scope: cluster ? 'cluster' : 'namespace',
      namespace: cluster ? undefined : ns || undefined,
      object: name,
      object_type: ev.resource?.type,
      operation: ev.operation,
      subjects,
      impersonated: Array.isArray(ev.actor?.chain) && ev.actor.chain.length > 1 ? ev.actor.chain[ev.actor.chain.length - 1] : undefined,
    },
  });
};

/**
 * The CA injectors that rewrite webhook configurations' `caBundle` as certificates rotate: cert-manager's cainjector,
 * OpenShift's service CA operator (Open Data Hub, OpenShift AI) and istiod (its webhook patcher). An update by them sends the whole object, with no old one in the record to compare:
 * it is taken as the rotation it always is; their patches are read (anything beyond `caBundle` is judged).
 */
const CA_INJECTORS = new Set(['system:serviceaccount:cert-manager:cert-manager-cainjector', 'system:serviceaccount:openshift-service-ca:service-ca']);
/** istiod's account, also per revision (`istiod-1-22-0`, Helm's revisioned installs). */
const ISTIOD = /^system:serviceaccount:istio-system:istiod(?:-[a-z0-9-]+)?$/;
/**
 * The accounts of controllers that keep their own webhook configuration up to date, as their manifests name them:
 * Kyverno's admission controller (`kyverno-admission-controller`; `kyverno` before 1.10), which rewrites its webhooks'
 * rules as policies change, and Gatekeeper's (`gatekeeper-admin`, its certificate rotator). Trusted for updates of
 * configurations whose every service is in the account's namespace; others go in `trusted_installers`.
 */
const WEBHOOK_CONTROLLERS = new Map([['kyverno-admission-controller', 'kyverno-'], ['kyverno', 'kyverno-'], ['gatekeeper-admin', 'gatekeeper-']]);
// Each keeps only configurations its product names so (`kyverno-resource-mutating-webhook-cfg`, `kyverno-policy-…`,
// `gatekeeper-mutating-webhook-configuration`): an account given one of these names in a namespace of one's own
// (`kubectl create sa kyverno -n team-x`) keeps no configuration of another name calling a service there.

/**
 * A MutatingWebhookConfiguration created or changed (the connector's `details.mutating_webhook`) whose webhooks match
 * pods or KServe objects — in every namespace, in namespaces picked by labels, or in a watched one — outside the
 * controllers that keep their own webhook: a webhook server can then rewrite the image, env, command or storageUri of
 * every model server and pipeline step at admission, with no record on the workload itself.
 */
const webhookWritten: KindImpl = (ev, ctx) => {
  const d = ev.details ?? {};
  const w = d.mutating_webhook as Record<string, unknown>;
  if (w.ca_bundle_only === true) return;
  const unknown = w.body_unknown === true;
  const namespaces = w.namespaces;
  if (!unknown && w.matches_ml !== true) return;
  const watchedList = Array.isArray(namespaces) ? strings(namespaces) : undefined;
  // Pinned to namespaces none of which is watched (the connector names the watched ones in `watched_namespaces`).
  if (watchedList && !strings(w.watched_namespaces).length) return;
  const actor = ev.actor?.id ?? '';
  const update = ev.action === 'resource.update';
  // Their patches are read when the record shows them; a Metadata-level record shows nothing to compare.
  if (update && (CA_INJECTORS.has(actor) || ISTIOD.test(actor)) && (d.audit_level === 'Metadata' || ev.operation?.startsWith('update '))) return;
  // Kubernetes' and Knative's own controllers (Knative's webhook keeps its configuration's rules and caBundle).
  const sa = /^system:serviceaccount:([^:]+):/.exec(actor)?.[1];
  if (update && (sa === 'kube-system' || sa === 'knative-serving')) return;
  // A controller keeping its own webhook (Kyverno rewrites its rules as policies change; Gatekeeper's cert rotator): its
  // own account, named as its manifests name it, and every service the configuration calls in that account's namespace.
  // Any other account of that namespace (a sidecar, a job, a compromised pod of the same install) is judged.
  const services = strings(w.services);
  const own = /^system:serviceaccount:[^:]+:([^:]+)$/.exec(actor)?.[1];
  const prefix = own ? WEBHOOK_CONTROLLERS.get(own) : undefined;
  if (update && sa && prefix && (ev.resource?.name ?? '').startsWith(prefix) && services.length && services.every((s) => s.startsWith(`${sa}/`))) return;
  if (byTrustedInstaller(ev, ctx)) return;
  const identity = identityOf(ev.actor, ctx.cfg);
  if (identity && anyGlob(setting<string[]>(ctx, 'exempt'), identity)) return;
  const marks = installMarks(ev);
  const name = ev.resource?.name ?? '?';
  const where = unknown ? 'pods or InferenceServices (the record does not show its rules)' : namespaces === 'all' ? 'the pods or InferenceServices of every namespace' : namespaces === 'selected' ? 'pods or InferenceServices in namespaces selected by label' : `pods or InferenceServices in ${strings(w.watched_namespaces).join(', ')}`;
  ctx.detect({
    entity: namedEntity('webhook', scopedName(name, scopeOf(ev)), name, ev.platform),
    key: `webhook|${identity ?? ''}|${name}`,
    evidence: [ev.id],
    title: 'Mutating webhook over ML workloads changed',
    summary: `${callerText(ev.actor, ctx.cfg)} ${ev.action === 'resource.create' ? 'created' : 'changed'} mutating webhook configuration ${name}, which can rewrite ${where} at admission${marks.text}`,
    details: {
      identity,
      workload: 'mutating_webhook',
      access: 'mutating webhook',
      object: name,
      object_type: ev.resource?.type,
      operation: ev.operation,
      webhooks: strings(w.webhooks).length ? strings(w.webhooks) : undefined,
      namespaces: unknown ? undefined : namespaces,
      services: services.length ? services : undefined,
      body_unknown: unknown || undefined,
      helm_release: marks.helm_release,
      gitops_application: marks.gitops_application,
      impersonated: Array.isArray(ev.actor?.chain) && ev.actor.chain.length > 1 ? ev.actor.chain[ev.actor.chain.length - 1] : undefined,
    },
  });
};

/**
 * A Role in a watched namespace, or a ClusterRole ML namespaces' users hold (`admin`, `edit`, `kubeflow-admin`,
 * `kubeflow-edit`, Kubeflow's per-application roles, or any aggregated into them by label), written with rules that get
 * into ML workloads (the connector's `details.role_rules`): `*`, Secrets read, pods/exec / attach / portforward,
 * serviceaccounts/token, escalate / bind / impersonate — outside the apiserver's bootstrap, Kubernetes' and KServe's
 * controllers (the aggregation controller fills `admin`, `edit` and Kubeflow's roles all day) and trusted installers.
 */
const roleRulesWritten: KindImpl = (ev, ctx) => {
  const d = ev.details ?? {};
  const actor = ev.actor?.id ?? '';
  if (RBAC_BOOTSTRAP.has(actor) || actor === 'system:kube-controller-manager' || /^system:serviceaccount:kube-system:/.test(actor) || byTrustedInstaller(ev, ctx)) return;
  const identity = identityOf(ev.actor, ctx.cfg);
  if (identity && anyGlob(setting<string[]>(ctx, 'exempt'), identity)) return;
  const r = d.role_rules as Record<string, unknown>;
  const cluster = r.scope === 'cluster';
  const ns = ev.resource?.namespace ?? '';
  const name = text(r.role) ?? ev.resource?.name ?? '?';
  const object = cluster ? name : `${ns}/${name}`;
  const rights = strings(r.rights);
  const aggregated = strings(r.aggregated_by);
  const marks = installMarks(ev);
  const what = r.rules_unknown === true ? 'rules the record does not show' : rights.join('; ');
  ctx.detect({
    entity: namedEntity(cluster ? 'cluster_role' : 'role', scopedName(object, scopeOf(ev)), object, ev.platform),
    key: `role rules|${identity ?? ''}|${object}`,
    evidence: [ev.id],
    title: cluster ? 'Rights over ML namespaces added to a cluster role' : 'Role with rights over ML workloads written',
    summary: `${callerText(ev.actor, ctx.cfg)} ${ev.action === 'role.create' ? 'created' : 'changed'} ${cluster ? 'cluster role' : 'role'} ${object} with ${what}${aggregated.length ? ` — aggregated into every binding of ${aggregated.map((l) => l.replace(/^.*aggregate-to-/, '')).join(', ')}` : cluster ? ', a role bound in ML namespaces' : ''}${marks.text}`,
    details: {
      identity,
      workload: cluster ? 'cluster_role' : 'role',
      access: 'role rules',
      role: name,
      scope: cluster ? 'cluster' : 'namespace',
      rights: rights.length ? rights : undefined,
      aggregated_by: aggregated.length ? aggregated : undefined,
      rules_partial: r.rules_partial === true || undefined,
      rules_unknown: r.rules_unknown === true || undefined,
      namespace: cluster ? undefined : ns || undefined,
      object: name,
      object_type: ev.resource?.type,
      operation: ev.operation,
      helm_release: marks.helm_release,
      gitops_application: marks.gitops_application,
      impersonated: Array.isArray(ev.actor?.chain) && ev.actor.chain.length > 1 ? ev.actor.chain[ev.actor.chain.length - 1] : undefined,
    },
  });
};

/**
 * KServe's controller ConfigMap `inferenceservice-config` written (the connector's `details.kserve_config_change`): its
 * keys name the storage initializer that downloads every model with the namespace's credentials, the agent / logger
 * sidecar that sees every request, the credentials configuration and the ingress of every model server. Anyone but a
 * trusted installer (or `exempt`) editing it changes every model server at its next start, with no InferenceService write.
 */
const kserveConfigWritten: KindImpl = (ev, ctx) => {
  if (byTrustedInstaller(ev, ctx)) return;
  const identity = identityOf(ev.actor, ctx.cfg);
  if (identity && anyGlob(setting<string[]>(ctx, 'exempt'), identity)) return;
  const c = ev.details?.kserve_config_change as Record<string, unknown>;
  const keys = strings(c.keys);
  const ns = ev.resource?.namespace ?? '';
  const name = ev.resource?.name ?? 'inferenceservice-config';
  const object = `${ns}/${name}`;
  const marks = installMarks(ev);
  const images = strings(ev.ml?.deployment?.images);
  ctx.detect({
    entity: namedEntity('config_map', scopedName(object, scopeOf(ev)), object, ev.platform),
    key: `kserve config|${identity ?? ''}|${object}`,
    evidence: [ev.id],
    title: "KServe's controller configuration changed",
    summary: `${callerText(ev.actor, ctx.cfg)} ${ev.action === 'resource.create' ? 'created' : 'changed'} ${object}${c.body_unknown === true ? ' (the record does not show which keys)' : keys.length ? ` (${keys.join(', ')})` : ''}, KServe's configuration of every model server: the storage initializer that downloads models, the agent and logger that see every request, the credentials they use${marks.text}`,
    details: {
      identity,
      workload: 'kserve_config',
      access: 'kserve config',
      namespace: ns || undefined,
      object: name,
      object_type: ev.resource?.type,
      operation: ev.operation,
      keys: keys.length ? keys : undefined,
      images: images.length ? images : undefined,
      previous_unknown: c.previous_unknown === true || undefined,
      body_unknown: c.body_unknown === true || undefined,
      helm_release: marks.helm_release,
      gitops_application: marks.gitops_application,
      impersonated: Array.isArray(ev.actor?.chain) && ev.actor.chain.length > 1 ? ev.actor.chain[ev.actor.chain.length - 1] : undefined,
    },
  });
};
