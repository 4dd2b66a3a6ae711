/**
 * A Role or ClusterRole write whose rules hand out rights over ML workloads: a namespace Role in a watched namespace,
 * or a ClusterRole that ML namespaces' users hold — Kubernetes' `admin` / `edit`, Kubeflow's `kubeflow-admin` /
 * `kubeflow-edit` and the `kubeflow-*-admin` / `-edit` roles aggregated into them, or any ClusterRole carrying a label
 * that aggregates it into those (`rbac.authorization.k8s.io/aggregate-to-admin|edit: "true"`,
 * `rbac.authorization.kubeflow.org/aggregate-to-kubeflow-…-admin|edit: "true"`; the apiserver's aggregation controller
 * copies its rules into every contributor's role at once). The rights that get into workloads: every verb or every
 * resource (`*`), Secrets read (`storage-config`), `pods/exec` / `attach` / `portforward`, `serviceaccounts/token`, and
 * `escalate` / `bind` / `impersonate` (grant oneself anything, act as anyone).
 */

import { carriedOut } from './binding-roles.js';
import type { AuditEvent } from './envelope.js';
import { isObject } from './objects.js';

const RBAC = 'rbac.authorization.k8s.io';
/** The ClusterRoles bound in ML namespaces (role-grant.ts ML_ACCESS_ROLES, but `cluster-admin`: it has every right already). */
const BOUND_ROLES = new Set(['admin', 'edit', 'kubeflow-admin', 'kubeflow-edit']);
/** Kubeflow's per-application roles aggregated into kubeflow-admin / kubeflow-edit (`kubeflow-kserve-edit`, `kubeflow-pipelines-edit`). */
const KUBEFLOW_APP_ROLE = /^kubeflow-.+-(admin|edit)$/;
/** Labels aggregating a ClusterRole into the bound roles (Kubeflow aggregates in two steps: `…-kubeflow-kserve-admin` into `kubeflow-admin`). */
const AGGREGATE_LABEL = /^(?:rbac\.authorization\.k8s\.io\/aggregate-to-(admin|edit)|rbac\.authorization\.kubeflow\.org\/aggregate-to-kubeflow(?:-.+)?-(admin|edit))$/;
/** Verbs that are a right in themselves, whatever the resource. */
const POWER_VERBS = new Set(['escalate', 'bind', 'impersonate']);
const READ_VERBS = new Set(['get', 'list', 'watch']);
/** Core subresources that get into a running container, and the token request that acts as an account. */
const ENTRY_RESOURCES = new Set(['pods/exec', 'pods/attach', 'pods/portforward', 'serviceaccounts/token']);
/** Rules read at most per write (a role has tens; bounds what a huge body costs). */
const MAX_RULES = 200;

export interface RoleRules {
  /** The Role or ClusterRole written. */
  role: string;
  /** `namespace` for a Role, `cluster` for a ClusterRole. */
  scope: 'namespace' | 'cluster';
  /** The rights it holds that get into ML workloads, as `<verbs> <resources>` (`get,list secrets`, `* *`, `create pods/exec`). */
  rights: string[];
  /** The aggregation labels it carries (a ClusterRole whose rules flow into `admin`, `edit`, `kubeflow-admin`, `kubeflow-edit`). */
  aggregated_by?: string[];
  /** A JSON patch of single fields (`/rules/0/verbs/-`): the rest of the rule it changes is not shown. */
  rules_partial?: true;
  /** A patch adding an aggregation label to a ClusterRole whose rules the record does not show. */
  rules_unknown?: true;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The rights of one PolicyRule that get into ML workloads (nonResourceURLs rules grant none). */
function rightsOf(rule: Record<string, unknown>, out: Set<string>): void {
  const verbs = strings(rule.verbs);
  const resources = strings(rule.resources);
  const groups = rule.apiGroups === undefined ? [''] : strings(rule.apiGroups);
  const core = groups.includes('') || groups.includes('*');
  const any = verbs.includes('*');
  for (const v of verbs) if (POWER_VERBS.has(v)) out.add(`${v} ${resources.join(',') || '?'}`);
  if (!resources.length) return;
  if (resources.includes('*') && verbs.length) out.add(`${verbs.join(',')} *`);
  else if (any) out.add(`* ${resources.join(',')}`);
  if (!core) return;
  const reads = verbs.filter((v) => v === '*' || READ_VERBS.has(v));
  if (resources.includes('secrets') && reads.length && !any) out.add(`${reads.join(',')} secrets`);
  for (const r of resources) if (ENTRY_RESOURCES.has(r) && !any && (verbs.includes('create') || verbs.includes('get'))) out.add(`${verbs.filter((v) => v === 'create' || v === 'get').join(',')} ${r}`);
}

/** The rules a JSON patch adds (whole rules, or single fields of one: `partial`). */
function rulesOfJsonPatch(ops: unknown[]): { rules: Record<string, unknown>[]; partial: boolean } {
  const rules: Record<string, unknown>[] = [];
  let partial = false;
  for (const op of ops) {
    if (!isObject(op) || (op.op !== 'add' && op.op !== 'replace') || typeof op.path !== 'string') continue;
    const { path, value } = op;
    if (path === '/rules' && Array.isArray(value)) rules.push(...value.filter(isObject));
    else if (/^\/rules\/(\d+|-)$/.test(path) && isObject(value)) rules.push(value);
    else {
      // One field of a rule: judged as if the rest allowed anything (a verb `*` added to a rule of unknown resources).
      const field = /^\/rules\/\d+\/(verbs|resources|apiGroups)(?:\/(\d+|-))?$/.exec(path);
      if (!field) continue;
      const values = Array.isArray(value) ? strings(value) : typeof value === 'string' ? [value] : [];
      if (!values.length) continue;
      partial = true;
      rules.push(field[1] === 'verbs' ? { verbs: values, resources: ['?'], apiGroups: ['*'] } : field[1] === 'resources' ? { verbs: ['get', 'create'], resources: values, apiGroups: ['*'] } : {});
    }
  }
  return { rules, partial };
}

/**
 * What a Role or ClusterRole create, update or patch hands out (RoleRules), when it is one ML namespaces' users hold
 * and its rules get into ML workloads: read from the logged response (the role as written), else the request (a
 * whole object, a merge patch's `rules` — a list replaced whole —, or a JSON patch's added rules and rule fields).
 * Undefined otherwise (a Metadata-level write, a role of another namespace, rules that grant none of those rights).
 *
 * @example
 * roleRulesOf(createRoleRecord, watched) // { role: 'debug', scope: 'namespace', rights: ['create pods/exec', 'get,list secrets'] }
 */
export function roleRulesOf(ev: AuditEvent, watched: (ns: string | undefined) => boolean): RoleRules | undefined {
  const ref = ev.objectRef ?? {};
  if (ref.apiGroup !== RBAC || ref.subresource || !['create', 'update', 'patch'].includes(ev.verb ?? '')) return undefined;
  const cluster = ref.resource === 'clusterroles';
  if (!cluster && (ref.resource !== 'roles' || !watched(ref.namespace))) return undefined;
  const response = isObject(ev.responseObject) && Array.isArray(ev.responseObject.rules) ? ev.responseObject : undefined;
  const req = ev.requestObject;
  const body = response ?? (isObject(req) ? req : undefined);
  const name = ref.name ?? (isObject(body?.metadata) && typeof body.metadata.name === 'string' ? body.metadata.name : undefined);
  if (!name) return undefined;
  const labels = [response, isObject(req) ? req : undefined].map((o) => (isObject(o) && isObject(o.metadata) && isObject(o.metadata.labels) ? o.metadata.labels : {}));
  // `kubectl label clusterrole x …=true --type=json`: `/metadata/labels/<label>` (`/` written `~1`) or the whole map.
  for (const op of Array.isArray(req) ? req.filter(isObject) : []) {
    if ((op.op !== 'add' && op.op !== 'replace') || typeof op.path !== 'string') continue;
    if (op.path === '/metadata/labels' && isObject(op.value)) labels.push(op.value);
    const m = /^\/metadata\/labels\/(.+)$/.exec(op.path);
    if (m) labels.push({ [m[1]!.replace(/~1/g, '/').replace(/~0/g, '~')]: op.value });
  }
  const aggregatedBy = [...new Set(labels.flatMap((l) => Object.entries(l).filter(([k, v]) => AGGREGATE_LABEL.test(k) && String(v).toLowerCase() === 'true').map(([k]) => k)))];
  if (cluster && !BOUND_ROLES.has(name) && !KUBEFLOW_APP_ROLE.test(name) && !aggregatedBy.length) return undefined;
  const { rules, partial } = response ? { rules: (response.rules as unknown[]).filter(isObject), partial: false } : Array.isArray(req) ? rulesOfJsonPatch(req) : { rules: isObject(req) && Array.isArray(req.rules) ? req.rules.filter(isObject) : [], partial: false };
  const rights = new Set<string>();
  for (const rule of rules.slice(0, MAX_RULES)) rightsOf(rule, rights);
  // A patch only labelling a ClusterRole for aggregation: its rules, which now flow into every contributor's role, are not shown.
  const rulesUnknown = !response && !rules.length && aggregatedBy.length > 0 && ev.verb === 'patch';
  if (!rights.size && !rulesUnknown) return undefined;
  return {
    role: name, scope: cluster ? 'cluster' : 'namespace', rights: [...rights],
    ...(aggregatedBy.length ? { aggregated_by: aggregatedBy } : {}), ...(partial ? { rules_partial: true as const } : {}), ...(rulesUnknown ? { rules_unknown: true as const } : {}),
  };
}

/** ClusterRoles remembered per connector config: at most this many (oldest forgotten first). */
const MAX_CLUSTER_ROLES = 2000;
/** Per connector config: `<cluster>|<name>` → the rights its last write showed (only ClusterRoles that hold some). */
const clusterRoleRights = new WeakMap<object, Map<string, string[]>>();
const NO_CONFIG = {};

/**
 * The rights that get into workloads a ClusterRole write's whole rules show (the logged response, else a create or
 * update body, else a merge patch's `rules`), `[]` for rules that hold none, undefined when the record shows no rules.
 * Read for any ClusterRole, bound or aggregated or not: a RoleBinding in an ML namespace can bind any of them.
 */
export function clusterRoleRightsOf(ev: AuditEvent): string[] | undefined {
  const ref = ev.objectRef ?? {};
  if (ref.apiGroup !== RBAC || ref.resource !== 'clusterroles' || ref.subresource || !['create', 'update', 'patch'].includes(ev.verb ?? '')) return undefined;
  const response = isObject(ev.responseObject) && Array.isArray(ev.responseObject.rules) ? ev.responseObject : undefined;
  const req = isObject(ev.requestObject) && Array.isArray(ev.requestObject.rules) ? ev.requestObject : undefined;
  const body = response ?? req;
  if (!body) return undefined;
  const rights = new Set<string>();
  for (const rule of (body.rules as unknown[]).filter(isObject).slice(0, MAX_RULES)) rightsOf(rule, rights);
  return [...rights];
}

/**
 * Remember what a ClusterRole write shows it hands out (clusterRoleRightsOf; a delete forgets it; a refused or dry-run
 * write teaches nothing), so that a RoleBinding of it in an ML namespace is judged by those rights (roleGrantOf): a
 * ClusterRole `pwn` with `*` made first, unbound and unaggregated, then bound in `kubeflow-user-alice`, is a grant.
 * Kept in memory (bounded): after a restart a binding of a role written before it is not judged by its rules.
 */
export function rememberClusterRole(ev: AuditEvent, config: unknown, cluster = ''): void {
  const ref = ev.objectRef ?? {};
  if (ref.apiGroup !== RBAC || ref.resource !== 'clusterroles' || !ref.name || ref.subresource || !carriedOut(ev)) return;
  const owner = isObject(config) ? config : NO_CONFIG;
  let memory = clusterRoleRights.get(owner);
  if (!memory) clusterRoleRights.set(owner, (memory = new Map()));
  const key = `${cluster}|${ref.name}`;
  if (ev.verb === 'delete') {
    memory.delete(key);
    return;
  }
  const rights = clusterRoleRightsOf(ev);
  if (rights === undefined) return;
  memory.delete(key);
  if (!rights.length) return;
  memory.set(key, rights);
  if (memory.size > MAX_CLUSTER_ROLES) memory.delete(memory.keys().next().value as string);
}

/** The rights a ClusterRole's last seen write showed (rememberClusterRole), if it holds any. */
export function clusterRoleRightsSeen(name: string, config: unknown, cluster = ''): string[] | undefined {
  return clusterRoleRights.get(isObject(config) ? config : NO_CONFIG)?.get(`${cluster}|${name}`);
}
