/**
 * Which ML workload a pod or pod controller is: a KServe model server, a KFP pipeline step, or an MLflow server.
 * An exec, attach, port-forward or debug container into one, or its pod template changed outside the controller that
 * owns it, reaches the model (or the run, or the registry) without any KServe, KFP or MLflow record.
 */

import type { AuditEvent } from './envelope.js';
import { serviceAccountOf } from './identity.js';
import { at, isObject } from './objects.js';

/** What `details.ml_workload` says of the pod or workload an audit event names. */
export interface MlWorkload {
  kind: 'model_server' | 'pipeline_step' | 'mlflow_server';
  /** KServe: `<namespace>/<InferenceService>`. */
  endpoint?: string;
  /** KServe: predictor, transformer or explainer; `modelmesh` for a ModelMesh runtime pod (it serves every Predictor of its namespace). */
  component?: string;
  /** KFP: the Argo workflow (run) the pod belongs to, when its labels or name say. */
  workflow?: string;
  /** How it was told: the object's labels, its name, or the container the request names. */
  from: 'labels' | 'name' | 'container';
}

/** The container KServe names every predictor, transformer and explainer server (`InferenceServiceContainerName`). */
const KSERVE_CONTAINER = 'kserve-container';

/**
 * KServe's object names: RawDeployment `<isvc>-predictor` (KServe < 0.9 `<isvc>-predictor-default`), Knative
 * `<isvc>-predictor-00001-deployment`; a ReplicaSet adds `-<hash>`, a pod `-<hash>-<suffix>`.
 */
const KSERVE_NAME = /^([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)-(predictor|transformer|explainer)(?:-default)?(?:-\d{5}-deployment)?(?:-[a-z0-9]{6,10})?(?:-[a-z0-9]{5})?$/;

/** KFP v2 pods: `<workflow>-system-container-impl-<n>` (the step's own code), its drivers, `retry-` for retried steps. */
const KFP_POD_NAME = /^(.+)-(?:retry-)?system-(?:container-impl|container-driver|dag-driver|container-executor)-\d+$/;

/** An MLflow tracking/registry server: a pod or workload named `mlflow…`, or the container the request names. */
const MLFLOW_NAME = /^mlflow(?:-|$)/;

const POD_WORKLOADS = new Set(['/pods', 'apps/deployments', 'apps/replicasets', 'apps/statefulsets']);

/**
 * ModelMesh's runtime pods: the Deployment `modelmesh-serving-<runtime>` (its ReplicaSets and pods add hashes), labelled
 * `modelmesh-service: <service>` (kserve/modelmesh-serving; the service is `modelmesh-serving` unless configured).
 * Every ModelMesh Predictor of the namespace is loaded into them.
 */
const MODELMESH_NAME = /^modelmesh-serving-[a-z0-9]/;
const MODELMESH_LABEL = 'modelmesh-service';

/**
 * The Services in front of model servers that `services/<name>:<port>/proxy` reaches: KServe's component Service
 * `<isvc>-predictor` (`-transformer`, `-explainer`; `-default` before 0.9; a Knative revision's `-00001`, `-00001-private`)
 * and ModelMesh's `modelmesh-serving`.
 */
const KSERVE_SERVICE = /^([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)-(predictor|transformer|explainer)(?:-default)?(?:-\d{5}(?:-private)?)?$/;
const MODELMESH_SERVICE = 'modelmesh-serving';

function labelsOf(obj: unknown): Record<string, unknown> | undefined {
  const own = at(obj, ['metadata', 'labels']);
  const template = at(obj, ['spec', 'template', 'metadata', 'labels']);
  if (!isObject(own) && !isObject(template)) return undefined;
  return { ...(isObject(template) ? template : {}), ...(isObject(own) ? own : {}) };
}

/** The pod a `pods/proxy` request names: `[scheme:]<pod>[:port]`. */
function proxiedName(name: string): string {
  const parts = name.split(':');
  if (parts.length > 1 && /^https?$/.test(parts[0]!)) parts.shift();
  return parts[0] ?? '';
}

/** The exec / attach `container=` query parameter, if any. */
function containerParam(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  try {
    return new URL(uri, 'http://apiserver').searchParams.get('container') ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * The ML workload a pod, Deployment, ReplicaSet or StatefulSet event names: by the labels its logged body carries
 * (`serving.kserve.io/inferenceservice`, `pipeline/runid`, `workflows.argoproj.io/workflow`), else by its name (KServe's
 * and KFP's naming, `mlflow-*`), else — for an exec or attach — by the container named (`kserve-container`, `mlflow`).
 *
 * @example
 * mlWorkloadOf({ objectRef: { resource: 'pods', namespace: 'kubeflow-user-alice', name: 'fraud-predictor-00001-deployment-7d9f8c6b5-x2x9z', subresource: 'exec' } })
 * // { kind: 'model_server', endpoint: 'kubeflow-user-alice/fraud', component: 'predictor', from: 'name' }
 */
export function mlWorkloadOf(ev: AuditEvent): MlWorkload | undefined {
  const ref = ev.objectRef ?? {};
  // A request through the API server's service proxy reaches the pods behind the Service (only the proxy: a Service
  // object's own writes change no model server).
  if (ref.resource === 'services' && !ref.apiGroup && ref.subresource === 'proxy') {
    const svc = proxiedName(ref.name ?? '');
    const k = KSERVE_SERVICE.exec(svc);
    if (k) return { kind: 'model_server', endpoint: ref.namespace ? `${ref.namespace}/${k[1]}` : k[1], component: k[2], from: 'name' };
    return svc === MODELMESH_SERVICE ? { kind: 'model_server', component: 'modelmesh', from: 'name' } : undefined;
  }
  if (!POD_WORKLOADS.has(`${ref.apiGroup ?? ''}/${ref.resource ?? ''}`)) return undefined;
  const ns = ref.namespace;
  for (const obj of [ev.responseObject, ev.requestObject]) {
    const l = labelsOf(obj);
    if (!l) continue;
    const isvc = l['serving.kserve.io/inferenceservice'] ?? l['serving.kubeflow.org/inferenceservice'];
    if (typeof isvc === 'string' && isvc) {
      return { kind: 'model_server', endpoint: ns ? `${ns}/${isvc}` : isvc, component: typeof l.component === 'string' ? l.component : undefined, from: 'labels' };
    }
    if (typeof l[MODELMESH_LABEL] === 'string' && l[MODELMESH_LABEL]) return { kind: 'model_server', component: 'modelmesh', from: 'labels' };
    const wf = l['workflows.argoproj.io/workflow'];
    if (typeof l['pipeline/runid'] === 'string' || typeof wf === 'string') return { kind: 'pipeline_step', workflow: typeof wf === 'string' ? wf : undefined, from: 'labels' };
  }
  // A proxy request names the pod with its port (`<pod>:8081`, `https:<pod>:8443`).
  const name = ref.subresource === 'proxy' ? proxiedName(ref.name ?? '') : (ref.name ?? '');
  const k = KSERVE_NAME.exec(name);
  if (k) return { kind: 'model_server', endpoint: ns ? `${ns}/${k[1]}` : k[1], component: k[2], from: 'name' };
  if (MODELMESH_NAME.test(name)) return { kind: 'model_server', component: 'modelmesh', from: 'name' };
  const p = KFP_POD_NAME.exec(name);
  if (p && ref.resource === 'pods') return { kind: 'pipeline_step', workflow: p[1], from: 'name' };
  if (MLFLOW_NAME.test(name)) return { kind: 'mlflow_server', from: 'name' };
  const container = ref.subresource ? containerParam(ev.requestURI) : undefined;
  if (container === KSERVE_CONTAINER) return { kind: 'model_server', from: 'container' };
  if (container && MLFLOW_NAME.test(container)) return { kind: 'mlflow_server', from: 'container' };
  return undefined;
}

/**
 * The controllers that write model-server pods and their controllers as a matter of course: KServe's (RawDeployment),
 * Knative Serving's (a revision's Deployment), and Kubernetes' own (the Deployment and ReplicaSet controllers, the
 * garbage collector), and the kubelet. Anyone else changing a model server's pod template does it outside KServe.
 * The same controllers (and ModelMesh's) read the model store's credentials and kubelets mint pods' tokens.
 */
export function isWorkloadController(username: string | undefined, kserveNamespaces: ReadonlySet<string>): boolean {
  if (!username) return false;
  if (username === 'system:kube-controller-manager' || username.startsWith('system:node:')) return true;
  const sa = serviceAccountOf(username);
  if (!sa) return false;
  if (sa.namespace === 'kube-system') return true;
  if (sa.namespace === 'knative-serving') return true;
  // ModelMesh's controller reads the storage-config secret of the namespaces it serves.
  if (sa.name === 'modelmesh-controller') return sa.namespace === 'modelmesh-serving' || kserveNamespaces.has(sa.namespace);
  return (sa.name === 'kserve-controller-manager' || sa.name === 'llmisvc-controller-manager') && kserveNamespaces.has(sa.namespace);
}

/**
 * Whether a write changes the pods' spec (what runs: images, command, env, volumes), not only their metadata or
 * replica count: a patch touching `spec.template.spec` (a pod's `spec`), or a whole object sent (create, update).
 * `kubectl rollout restart` (a template annotation) and scaling change nothing that runs.
 */
export function changesPodSpec(ev: AuditEvent): boolean {
  const ref = ev.objectRef ?? {};
  if (ref.subresource) return false;
  if (ev.verb !== 'patch') return ev.verb === 'create' || ev.verb === 'update';
  const req = ev.requestObject;
  const specPath = ref.resource === 'pods' ? ['spec'] : ['spec', 'template', 'spec'];
  if (Array.isArray(req)) {
    const prefix = `/${specPath.join('/')}`;
    return req.some((op) => isObject(op) && typeof op.path === 'string' && (op.path === prefix || op.path.startsWith(`${prefix}/`) || prefix.startsWith(`${op.path}/`)))
      || storageInitializerUrisOf(ref, req).length > 0;
  }
  // A patch body the record does not show (Metadata level): it may change anything.
  if (req === undefined) return true;
  // The pod template's storage-initializer annotation is what KServe's pod mutator downloads the model from (a running
  // pod's annotation is read by nobody: for pods only the init container counts).
  return at(req, specPath) !== undefined || storageInitializerUrisOf(ev.objectRef, req).length > 0;
}

/** KServe's pod annotation naming the model its pod mutator injects the storage initializer for (`constants.StorageInitializerSourceUriInternalAnnotationKey`). */
export const STORAGE_INITIALIZER_ANNOTATION = 'internal.serving.kserve.io/storage-initializer-sourceuri';
/** KServe's storage-initializer init container (`constants.StorageInitializerContainerName`): `args` [model URI, `/mnt/models`]. */
const STORAGE_INITIALIZER = 'storage-initializer';

/**
 * Where a model server's pods download the model from, as a write of a Pod, a Deployment / ReplicaSet / StatefulSet
 * (its template) sets it: a template's `internal.serving.kserve.io/storage-initializer-sourceuri` annotation (KServe's pod
 * mutator injects the storage initializer with it when it creates a pod) and the first argument of a `storage-initializer` init container;
 * from a whole object, a merge patch, or JSON-patch ops on those paths. Unredacted: the caller hides credentials.
 */
export function storageInitializerUrisOf(ref: { resource?: string } | undefined, obj: unknown): string[] {
  const out = new Set<string>();
  const add = (v: unknown) => { if (typeof v === 'string' && v) out.add(v); };
  const base = ref?.resource === 'pods' ? [] : ['spec', 'template'];
  const annPointer = `/${[...base, 'metadata', 'annotations'].join('/')}`;
  const initPointer = `/${[...base, 'spec', 'initContainers'].join('/')}`;
  if (Array.isArray(obj)) {
    for (const op of obj) {
      if (!isObject(op) || (op.op !== 'add' && op.op !== 'replace') || typeof op.path !== 'string') continue;
      const path = op.path;
      // A pod's annotation is read by KServe's mutator when the pod is created, never after: only a template's counts.
      if (ref?.resource === 'pods' && path.startsWith(annPointer)) continue;
      if (path === `${annPointer}/${STORAGE_INITIALIZER_ANNOTATION.replace('/', '~1')}`) add(op.value);
      else if (path === annPointer && isObject(op.value)) add(op.value[STORAGE_INITIALIZER_ANNOTATION]);
      // `…/initContainers/0/args/0`, `…/initContainers/0/args`: the storage initializer is the one init container KServe adds.
      else if (path.startsWith(`${initPointer}/`) && /\/args\/0$/.test(path)) add(op.value);
      else if (path.startsWith(`${initPointer}/`) && /\/args$/.test(path) && Array.isArray(op.value)) add(op.value[0]);
      else if (path.startsWith(initPointer) && (isObject(op.value) || Array.isArray(op.value))) {
        for (const c of Array.isArray(op.value) ? op.value : [op.value]) if (isObject(c) && c.name === STORAGE_INITIALIZER && Array.isArray(c.args)) add(c.args[0]);
      }
    }
    return [...out];
  }
  const ann = ref?.resource === 'pods' ? undefined : at(obj, [...base, 'metadata', 'annotations']);
  if (isObject(ann)) add(ann[STORAGE_INITIALIZER_ANNOTATION]);
  const inits = at(obj, [...base, 'spec', 'initContainers']);
  for (const c of Array.isArray(inits) ? inits : []) if (isObject(c) && c.name === STORAGE_INITIALIZER && Array.isArray(c.args)) add(c.args[0]);
  return [...out];
}

/**
 * The ephemeral containers a `pods/ephemeralcontainers` write adds (`kubectl debug`): name, image and the container
 * whose process namespace it joins (`targetContainerName`), from the patch or the whole Pod sent.
 */
export function ephemeralContainersOf(ev: AuditEvent): Array<{ name?: string; image?: string; target?: string }> | undefined {
  if (ev.objectRef?.subresource !== 'ephemeralcontainers') return undefined;
  const list = at(ev.requestObject, ['spec', 'ephemeralContainers']);
  const fromOps = Array.isArray(ev.requestObject)
    ? ev.requestObject.filter((op) => isObject(op) && typeof op.path === 'string' && op.path.startsWith('/spec/ephemeralContainers')).map((op) => (op as { value?: unknown }).value).flat()
    : [];
  const out = [...(Array.isArray(list) ? list : []), ...fromOps]
    .filter(isObject)
    .map((c) => ({
      name: typeof c.name === 'string' ? c.name : undefined,
      image: typeof c.image === 'string' ? c.image : undefined,
      target: typeof c.targetContainerName === 'string' ? c.targetContainerName : undefined,
    }));
  return out.length ? out : undefined;
}

/**
 * The Secrets a pod spec mounts or takes env from — `volumes[].secret.secretName`, a projected volume's `secret` sources,
 * `env[].valueFrom.secretKeyRef.name`, `envFrom[].secretRef.name` of every container — in a Pod or a pod template.
 */
export function secretRefsOf(obj: unknown): string[] {
  const spec = isObject(at(obj, ['spec', 'template', 'spec'])) ? at(obj, ['spec', 'template', 'spec']) : at(obj, ['spec']);
  if (!isObject(spec)) return [];
  const out = new Set<string>();
  const add = (v: unknown) => { if (typeof v === 'string' && v) out.add(v); };
  for (const vol of Array.isArray(spec.volumes) ? spec.volumes : []) {
    add(at(vol, ['secret', 'secretName']));
    const sources = at(vol, ['projected', 'sources']);
    for (const src of Array.isArray(sources) ? sources : []) add(at(src, ['secret', 'name']));
  }
  for (const key of ['containers', 'initContainers', 'ephemeralContainers']) {
    const list = spec[key];
    for (const c of Array.isArray(list) ? list : []) {
      const env = at(c, ['env']);
      for (const e of Array.isArray(env) ? env : []) add(at(e, ['valueFrom', 'secretKeyRef', 'name']));
      const envFrom = at(c, ['envFrom']);
      for (const e of Array.isArray(envFrom) ? envFrom : []) add(at(e, ['secretRef', 'name']));
    }
  }
  return [...out];
}
