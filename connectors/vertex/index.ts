import type { ConnectorPlugin } from '../../core/connector.js';
import { backfillCommand } from './backfill.js';
import { VertexConfig, vertexFromEnv } from './config.js';
import { looksLikeVertexInput } from './envelope.js';
import { normalizeVertex } from './normalize.js';
import { VertexPullPoller } from './pull.js';
import { mountPushRoute } from './push.js';

/**
 * Vertex AI: Cloud Audit Logs (and Model Monitoring anomaly entries) exported
 * by a Logging sink to Pub/Sub — push (OIDC-authenticated), pull, or
 * backfilled from Cloud Logging.
 */
export const vertexConnector: ConnectorPlugin<VertexConfig> = {
  name: 'vertex',
  platform: 'vertex',
  description: 'Vertex AI Cloud Audit Logs and Model Monitoring anomalies (Logging sink → Pub/Sub push/pull, Logging backfill)',
  configSchema: VertexConfig,
  fromEnv: vertexFromEnv,
  detect: (record) => looksLikeVertexInput(record),
  normalize: (record, ctx) => normalizeVertex(record, ctx),
  routes: (app, deps) => mountPushRoute(app, deps),
  pollers: (deps) => (deps.config.pull.subscription ? [new VertexPullPoller(deps)] : []),
  commands: [backfillCommand],
};
