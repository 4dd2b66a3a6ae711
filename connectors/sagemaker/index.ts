import { z } from 'zod';
import type { ConnectorPlugin } from '../../core/connector.js';

/** sagemaker connector — implemented by its issue; this stub keeps the registry whole. */
export const sagemakerConnector: ConnectorPlugin<Record<string, unknown>> = {
  name: 'sagemaker',
  platform: 'sagemaker',
  description: 'sagemaker (not yet implemented)',
  configSchema: z.strictObject({}),
};
