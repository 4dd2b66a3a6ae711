/**
 * Which Argo CD Application applied an object. Argo CD stamps what it manages with the annotation
 * `argocd.argoproj.io/tracking-id: <app>:<group>/<kind>:<namespace>/<name>` (Argo CD user guide, "Resource
 * Tracking"; the core group is empty: `app:/Secret:ns/name`), and with the label `app.kubernetes.io/instance: <app>`
 * under the `label` and `annotation+label` tracking methods. An Application outside Argo CD's own namespace ("apps
 * in any namespace") is written `<app namespace>_<app>` there; an Application's name is a DNS subdomain, so it never
 * holds `_` or `:` itself.
 */

export const ARGOCD_TRACKING_ID = 'argocd.argoproj.io/tracking-id';
const INSTANCE_LABEL = 'app.kubernetes.io/instance';
/** A DNS-1123 subdomain (a Kubernetes object name): what an Application's name is. */
const APP_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
/** Argo CD's application controller, the one writer whose `app.kubernetes.io/instance` label is Argo CD's. */
const ARGOCD_CONTROLLER = /^system:serviceaccount:[^:]+:argocd-application-controller$/;

type Meta = { metadata?: { annotations?: Record<string, unknown>; labels?: Record<string, unknown> } };

/** The Application's name in a tracking value (`<app>` or `<app namespace>_<app>`), if it is one. */
function appName(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const qualified = value.trim();
  const name = qualified.slice(qualified.indexOf('_') + 1);
  return APP_NAME.test(name) ? name : undefined;
}

/**
 * The name of the Argo CD Application that applied the object (name only, without its namespace): from the
 * tracking-id annotation; else, when the caller is Argo CD's application controller, from the instance label
 * (Helm charts and other tools set that label to their own release names, so it is not read from other callers).
 *
 * @example
 * gitopsApplicationOf({ metadata: { annotations: { 'argocd.argoproj.io/tracking-id': 'churn-prod:serving.kserve.io/InferenceService:ml-prod/churn' } } }, 'alice') // 'churn-prod'
 */
export function gitopsApplicationOf(obj: unknown, username: string | undefined): string | undefined {
  const meta = (obj as Meta | undefined)?.metadata;
  const tracking = meta?.annotations?.[ARGOCD_TRACKING_ID];
  if (typeof tracking === 'string') {
    const colon = tracking.indexOf(':');
    // `<app>:<group>/<kind>:<namespace>/<name>`: anything else is not Argo CD's value.
    if (colon > 0 && /^[^:]*\/[^:]+:[^/]*\/[^/]+$/.test(tracking.slice(colon + 1))) return appName(tracking.slice(0, colon));
    return undefined;
  }
  if (username && ARGOCD_CONTROLLER.test(username)) return appName(meta?.labels?.[INSTANCE_LABEL]);
  return undefined;
}

const HELM_RELEASE_NAME = 'meta.helm.sh/release-name';
const HELM_RELEASE_NAMESPACE = 'meta.helm.sh/release-namespace';
const MANAGED_BY = 'app.kubernetes.io/managed-by';

/**
 * The Helm release an object says it belongs to: Helm 3 annotates what it installs with `meta.helm.sh/release-name` and
 * `meta.helm.sh/release-namespace` (its ownership check on upgrade), and charts label it `app.kubernetes.io/managed-by:
 * Helm`. Anyone can write these: they say which chart the object came from, never who ran it (Helm runs with its
 * user's own rights), so they are recorded, not trusted.
 *
 * @example
 * helmReleaseOf({ metadata: { annotations: { 'meta.helm.sh/release-name': 'kyverno', 'meta.helm.sh/release-namespace': 'kyverno' } } }) // { name: 'kyverno', namespace: 'kyverno' }
 */
export function helmReleaseOf(obj: unknown): { name?: string; namespace?: string } | undefined {
  const meta = (obj as Meta | undefined)?.metadata;
  const name = meta?.annotations?.[HELM_RELEASE_NAME];
  const namespace = meta?.annotations?.[HELM_RELEASE_NAMESPACE];
  const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 253) : undefined);
  if (text(name)) return { name: text(name), ...(text(namespace) ? { namespace: text(namespace) } : {}) };
  return meta?.labels?.[MANAGED_BY] === 'Helm' ? {} : undefined;
}
