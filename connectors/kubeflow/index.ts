import { z } from 'zod';
import type { ConnectorPlugin } from '../../core/connector.js';

/** kubeflow connector — implemented by its issue; this stub keeps the registry whole. */
export const kubeflowConnector: ConnectorPlugin<Record<string, unknown>> = {
  name: 'kubeflow',
  platform: 'kubeflow',
  description: 'kubeflow (not yet implemented)',
  configSchema: z.strictObject({}),
};
