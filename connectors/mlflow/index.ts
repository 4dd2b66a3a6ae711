import { z } from 'zod';
import type { ConnectorPlugin } from '../../core/connector.js';

/** mlflow connector — implemented by its issue; this stub keeps the registry whole. */
export const mlflowConnector: ConnectorPlugin<Record<string, unknown>> = {
  name: 'mlflow',
  platform: 'mlflow',
  description: 'mlflow (not yet implemented)',
  configSchema: z.strictObject({}),
};
