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
