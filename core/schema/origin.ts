import type { NormalizedEvent } from './event.js';
import { stableId } from './id.js';

/**
 * An id a configured MLflow tracking server or Kubernetes cluster goes by (`connectors.mlflow.servers[].id`,
 * `connectors.kubeflow.clusters[].id`). No `:`: rule state and alert entities join it to names with one
 * (`team:fraud/3`), as SageMaker's `<account>:<region>:<name>`.
 */
export const SERVER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const SERVER_ID_MESSAGE = 'expected 1-63 letters, digits, ".", "_" or "-" (no ":"), starting with a letter or digit';

/**
 * An event as sent by the configured server `server`, whose sender authenticated with that server's secret or
 * token: `cloud.account` names it (provider `other`: mltrail does not know where the server runs), which scopes
 * the rules' state and alert entities to it (core/rules/facts.ts serverScopeOf). Its id, and the `change_key`
 * that pairs a webhook's report with the auditor's, are made the server's too: two servers' identical
 * deliveries (a content hash, a Databricks body) are two events, not one deduplicated. Events of the default
 * server (no id) are never passed here: their ids stay as they were.
 *
 * @example
 * fromServer(ev, 'team') // { ...ev, id: stableId('mlflow', 'server', 'team', ev.id), cloud: { provider: 'other', account: 'team' } }
 */
export function fromServer(ev: NormalizedEvent, server: string): NormalizedEvent {
  const out: NormalizedEvent = { ...ev, id: stableId(ev.platform, 'server', server, ev.id), cloud: { ...(ev.cloud ?? { provider: 'other' }), account: server } };
  const change = ev.details?.change_key;
  if (typeof change === 'string') out.details = { ...ev.details, change_key: stableId(ev.platform, 'server', server, change) };
  return out;
}

/**
 * The workspace an MLflow server with `MLFLOW_ENABLE_WORKSPACES` puts resources in when a request names none
 * (`DEFAULT_WORKSPACE_NAME` in mlflow/utils/workspace_utils.py). Its names are the server's as before workspaces.
 */
export const MLFLOW_DEFAULT_WORKSPACE = 'default';

/**
 * An MLflow workspace name as MLflow's WorkspaceNameValidator (mlflow/store/workspace/abstract_store.py) has it: a
 * Kubernetes DNS label, 2-63 lowercase letters, digits or `-`. The server checks every `X-MLFLOW-WORKSPACE` header
 * against it, so a webhook's envelope never names another and an auditor listing another only fails at its first
 * request. Kept this strict, `Default` or `team_a` can never become a scope beside `default` or `team-a`.
 */
export const MLFLOW_WORKSPACE = /^[a-z0-9][-a-z0-9]{0,61}[a-z0-9]$/;
export const MLFLOW_WORKSPACE_MESSAGE = 'expected an MLflow workspace name: 2-63 lowercase letters, digits or "-", starting and ending with a letter or digit';

/**
 * An MLflow event of the named workspace `workspace` (the webhook envelope's `workspace`, the workspace the
 * registry auditor asked with `X-MLFLOW-WORKSPACE`): registered-model names are unique per workspace, so
 * `cloud.project` names it and scopes the rules' state and alert entities to it within its server (core/rules/
 * facts.ts serverScopeOf: `team/a:fraud/3`). Id and `change_key` become the workspace's, as fromServer does for a
 * server: two workspaces' identical audit reports are two events, and a webhook pairs with the auditor's report of
 * the same workspace only. The default workspace (or none) leaves the event as it is: its ids stay as they were.
 * Applied before fromServer.
 *
 * @example
 * fromWorkspace(ev, 'team-a') // { ...ev, id: stableId('mlflow', 'workspace', 'team-a', ev.id), cloud: { provider: 'other', project: 'team-a' } }
 * fromWorkspace(ev, 'default') === ev
 */
export function fromWorkspace(ev: NormalizedEvent, workspace: string | undefined): NormalizedEvent {
  if (workspace === undefined || workspace === '' || workspace === MLFLOW_DEFAULT_WORKSPACE) return ev;
  const out: NormalizedEvent = { ...ev, id: stableId(ev.platform, 'workspace', workspace, ev.id), cloud: { ...(ev.cloud ?? { provider: 'other' }), project: workspace } };
  const change = ev.details?.change_key;
  if (typeof change === 'string') out.details = { ...ev.details, change_key: stableId(ev.platform, 'workspace', workspace, change) };
  return out;
}

/**
 * The scope of a named MLflow workspace (`cloud.project`, fromWorkspace) on its server, which the rules key its
 * names by (core/rules/facts.ts serverScopeOf: `team/a:fraud/3`): `team/a` on the configured server `team`, `/a` on
 * the default one. Neither server ids nor workspace names hold a `/`, so it is never a server's id, and a server's
 * own scope (no workspace, or the default one) stays its bare id.
 */
export const workspaceScope = (server: string | undefined, workspace: string): string => `${server ?? ''}/${workspace}`;

/**
 * The URL of an MLflow server as compared to find which configured server a client's URI names
 * (`MLFLOW_TRACKING_URI` of a KServe predictor against `poll.tracking_uri` and `tracking_uris`): WHATWG-normalised
 * (scheme and host lower-cased, a default port dropped), without credentials, query, fragment, a host's trailing dot
 * or a path's trailing slashes; the path stays (a server behind `/mlflow` is another one than the one at `/`).
 * Other URIs (`databricks`, `sqlite:///…`) are compared as written, trimmed.
 *
 * @example
 * mlflowUrlKey('HTTP://user:pw@MLflow.Team.:80/mlflow/') // 'http://mlflow.team/mlflow'
 */
export function mlflowUrlKey(uri: string): string {
  const text = uri.trim();
  if (!/^https?:\/\//i.test(text) || !URL.canParse(text)) return text;
  const u = new URL(text);
  const host = u.hostname.replace(/\.$/, '');
  return `${u.protocol}//${host}${u.port ? `:${u.port}` : ''}${u.pathname.replace(/\/+$/, '')}`;
}
