/**
 * A MutatingWebhookConfiguration write: which objects its webhooks may rewrite (pods, KServe objects), in which
 * namespaces, and whether the write only rotates the CA bundle the apiserver trusts the webhook server with (what
 * cert-manager's cainjector and istiod do all day).
 */

import type { AuditEvent } from './envelope.js';
import { at, isObject } from './objects.js';

/**
 * The objects whose rewrite changes what an ML workload runs or loads, by API group: pods; KServe's serving objects;
 * the Deployments / ReplicaSets / StatefulSets whose pod template a model server (KServe RawDeployment, ModelMesh) or
 * an MLflow server runs from; Knative's Services, Configurations and Revisions (KServe Serverless); Argo's Workflows
 * (each KFP pipeline step). A group's resource is matched in that group only: core `services` are no workload.
 */
const ML_TARGETS: Readonly<Record<string, ReadonlySet<string>>> = {
  '': new Set(['pods']),
  'serving.kserve.io': new Set(['inferenceservices', 'trainedmodels', 'servingruntimes', 'clusterservingruntimes', 'inferencegraphs', 'llminferenceservices', 'predictors']),
  apps: new Set(['deployments', 'replicasets', 'statefulsets']),
  'serving.knative.dev': new Set(['services', 'configurations', 'revisions']),
  'argoproj.io': new Set(['workflows']),
};

export interface MutatingWebhookFacts {
  /** The webhooks the write names. */
  webhooks?: string[];
  /** Whether a webhook's rules match pods or KServe objects (create or update). */
  matches_ml?: boolean;
  /** `all` (no namespace selector), `selected` (by labels the record does not show), or the namespaces named. */
  namespaces?: 'all' | 'selected' | string[];
  /** The services the webhooks call (`<namespace>/<name>`), or `url` for one outside the cluster. */
  services?: string[];
  /** The write changes only `clientConfig.caBundle` (a patch; or an update whose webhooks say nothing else new). */
  ca_bundle_only?: true;
  /** A Metadata-level record, or a patch that does not show the rules it leaves in place: what it matches is not known. */
  body_unknown?: true;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function matchesMl(rule: unknown): boolean {
  if (!isObject(rule)) return false;
  const ops = strings(rule.operations);
  if (ops.length && !ops.some((o) => o === '*' || o === 'CREATE' || o === 'UPDATE')) return false;
  const listed = strings(rule.apiGroups);
  // No groups listed (the apiserver refuses it; read as the core group) or `*` (every group).
  const groups = listed.includes('*') ? Object.keys(ML_TARGETS) : listed.length ? listed : [''];
  return strings(rule.resources).some((r) => {
    const base = r.split('/')[0] ?? '';
    return groups.some((g) => ML_TARGETS[g] !== undefined && (base === '*' || ML_TARGETS[g]!.has(base)));
  });
}

/**
 * The namespaces a webhook's `namespaceSelector` lets in: none set (or empty) is every namespace; one pinned by the
 * `kubernetes.io/metadata.name` label (matchLabels, or an `In` expression) those names; anything else selects by
 * labels the record does not show (Istio's `istio-injection: enabled`, which Kubeflow's profile namespaces carry).
 */
function namespacesOf(sel: unknown): 'all' | 'selected' | string[] {
  if (!isObject(sel)) return 'all';
  const labels = isObject(sel.matchLabels) ? sel.matchLabels : {};
  const exprs = Array.isArray(sel.matchExpressions) ? sel.matchExpressions.filter(isObject) : [];
  if (!Object.keys(labels).length && !exprs.length) return 'all';
  const byName = typeof labels['kubernetes.io/metadata.name'] === 'string' ? [labels['kubernetes.io/metadata.name']] : undefined;
  const inExpr = exprs.find((e) => e.key === 'kubernetes.io/metadata.name' && e.operator === 'In');
  if (byName) return byName;
  if (inExpr) return strings(inExpr.values);
  return 'selected';
}

/** Whether a JSON patch or merge patch body writes only `webhooks[].clientConfig.caBundle` (and the names that key the list). */
function caBundleOnly(body: unknown): boolean {
  if (Array.isArray(body)) {
    return body.length > 0 && body.every((op) => isObject(op) && typeof op.path === 'string' && /^\/webhooks\/\d+\/clientConfig\/caBundle$/.test(op.path) && op.op !== 'remove');
  }
  if (!isObject(body)) return false;
  const keys = Object.keys(body).filter((k) => k !== 'apiVersion' && k !== 'kind' && k !== 'metadata');
  if (keys.length !== 1 || keys[0] !== 'webhooks' || !Array.isArray(body.webhooks) || !body.webhooks.length) return false;
  // Server-side apply repeats the metadata name; a merge patch may carry a resourceVersion. Nothing else in metadata.
  if (isObject(body.metadata) && Object.keys(body.metadata).some((k) => k !== 'name' && k !== 'resourceVersion')) return false;
  return body.webhooks.every((w) => {
    if (!isObject(w)) return false;
    const rest = Object.keys(w).filter((k) => k !== 'name' && k !== 'clientConfig');
    const cc = w.clientConfig;
    return rest.length === 0 && isObject(cc) && Object.keys(cc).length === 1 && typeof cc.caBundle === 'string';
  });
}

/**
 * What a MutatingWebhookConfiguration create, update or patch does: from the request body (a whole object, or a
 * patch), else the response. A patch whose body only rotates CA bundles is `ca_bundle_only`; a patch naming rules is
 * read as far as it shows them. Undefined for other records.
 */
export function mutatingWebhookOf(ev: AuditEvent): MutatingWebhookFacts | undefined {
  const ref = ev.objectRef ?? {};
  if (ref.resource !== 'mutatingwebhookconfigurations' || ref.apiGroup !== 'admissionregistration.k8s.io' || ref.subresource) return undefined;
  if (!['create', 'update', 'patch'].includes(ev.verb ?? '')) return undefined;
  const req = ev.requestObject;
  if (req === undefined && ev.responseObject === undefined) return { body_unknown: true };
  if (ev.verb === 'patch' && caBundleOnly(req)) return { ca_bundle_only: true };
  // A create or update sends the whole object. A patch shows only what it changes: a merge patch whose every webhook
  // entry repeats its rules is read by them; any other (a JSON patch, a changed service or selector with the rules
  // left as they were) matches what the stored object's rules match, which the record does not show.
  const patchWebhooks = ev.verb === 'patch' && isObject(req) && Array.isArray(req.webhooks) ? req.webhooks.filter(isObject) : undefined;
  const names = (patchWebhooks ?? []).map((w) => w.name).filter((n): n is string => typeof n === 'string');
  if (ev.verb === 'patch' && isObject(ev.responseObject) && Array.isArray(ev.responseObject.webhooks)) {
    // RequestResponse: the answer is the object as patched.
  } else if (ev.verb === 'patch' && (!patchWebhooks?.length || patchWebhooks.some((w) => !Array.isArray(w.rules)))) {
    return { body_unknown: true, webhooks: names.length ? names : undefined };
  }
  const body = ev.verb === 'patch' ? (isObject(ev.responseObject) && Array.isArray(ev.responseObject.webhooks) ? ev.responseObject : req) : (req ?? ev.responseObject);
  const webhooks = (Array.isArray(at(body, ['webhooks'])) ? (at(body, ['webhooks']) as unknown[]) : []).filter(isObject);
  names.splice(0, names.length, ...webhooks.map((w) => w.name).filter((n): n is string => typeof n === 'string'));
  let ns: 'all' | 'selected' | string[] | undefined;
  let ml = false;
  const services = new Set<string>();
  for (const w of webhooks) {
    if (!(Array.isArray(w.rules) && w.rules.some(matchesMl))) continue;
    ml = true;
    const sel = namespacesOf(w.namespaceSelector);
    ns = sel === 'all' || ns === 'all' ? 'all' : sel === 'selected' || ns === 'selected' ? 'selected' : [...new Set([...(ns ?? []), ...sel])];
    const svc = at(w, ['clientConfig', 'service']);
    if (isObject(svc)) services.add(`${typeof svc.namespace === 'string' ? svc.namespace : '?'}/${typeof svc.name === 'string' ? svc.name : '?'}`);
    else if (typeof at(w, ['clientConfig', 'url']) === 'string') services.add('url');
  }
  return {
    webhooks: names.length ? names : undefined,
    matches_ml: ml,
    namespaces: ns,
    services: services.size ? [...services] : undefined,
  };
}
