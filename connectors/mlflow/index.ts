import type { ConnectorPlugin } from '../../core/connector.js';
import { MlflowConfig, mlflowFromEnv } from './config.js';
import { detectMlflow, normalizeMlflow } from './normalize.js';
import { mountMlflowRoutes } from './routes.js';
import { createRegistryAuditor } from './auditor.js';

export interface MlflowConnectorOptions {
  /** Clock in ms for the webhook timestamp window and the auditor (tests). */
  now?: () => number;
  /** Bytes of webhook bodies held at once before their signature is checked (tests; see UNVERIFIED_BODY_BYTES). */
  unverifiedBodyBytes?: number;
}

/**
 * The MLflow connector: signed webhook target (`POST /v1/ingest/mlflow`,
 * `/v1/ingest/mlflow/databricks`) and the registry auditor poller
 * (`connectors.mlflow.poll`, enabled by MLFLOW_TRACKING_URI).
 *
 * @example
 * const plugin = createMlflowConnector({ now: () => 1755681342_000 });
 */
export function createMlflowConnector(opts: MlflowConnectorOptions = {}): ConnectorPlugin<MlflowConfig> {
  const now = opts.now ?? Date.now;
  return {
    name: 'mlflow',
    platform: 'mlflow',
    description: 'MLflow Model Registry: signed webhooks (OSS 3.x and Databricks) and a REST registry auditor',
    configSchema: MlflowConfig,
    fromEnv: mlflowFromEnv,
    detect: detectMlflow,
    normalize: normalizeMlflow,
    routes: (app, deps) => mountMlflowRoutes(app, deps, { now, unverifiedBodyBytes: opts.unverifiedBodyBytes }),
    pollers: (deps) => {
      const p = deps.config.poll;
      const envUri = deps.env.MLFLOW_TRACKING_URI?.trim();
      if (p.enabled && !p.tracking_uri && envUri && !/^https?:\/\//i.test(envUri)) {
        // MLflow clients accept databricks, sqlite:, postgresql:, file paths here; only a tracking
        // server can be audited over REST. Say so instead of silently auditing nothing.
        // Only the scheme is logged: a database URI may carry a password.
        const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(envUri)?.[1] ?? (/^databricks(-uc)?$/i.test(envUri) ? envUri : 'a local path');
        deps.logger.warn(
          { code: 'MLTRAIL_ERR_CONFIG', variable: 'MLFLOW_TRACKING_URI', scheme },
          `MLFLOW_TRACKING_URI (${scheme}) is not an http(s):// MLflow tracking server: the registry auditor is off. Set MLFLOW_TRACKING_URI (or connectors.mlflow.poll.tracking_uri) to the server URL, e.g. https://mlflow.internal:5000, to audit the registry`,
        );
      }
      // Each configured server with a tracking URI is audited too, its events and snapshot its own; so is each
      // workspace listed in `poll.workspaces` (none listed: the server's default workspace).
      const auditors = (poll: MlflowConfig['poll'], server?: string) =>
        (poll.workspaces.length ? poll.workspaces : [undefined]).map((workspace) =>
          createRegistryAuditor(server === undefined ? deps : { ...deps, config: { ...deps.config, poll } }, { now, server, workspace }));
      const servers = deps.config.servers.flatMap((srv) => (srv.poll?.enabled && srv.poll.tracking_uri ? auditors(srv.poll, srv.id) : []));
      return [...(p.enabled && p.tracking_uri ? auditors(p) : []), ...servers];
    },
  };
}

export const mlflowConnector = createMlflowConnector();
