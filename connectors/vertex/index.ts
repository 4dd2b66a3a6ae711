import { z } from 'zod';
import type { ConnectorPlugin } from '../../core/connector.js';

/** vertex connector — implemented by its issue; this stub keeps the registry whole. */
export const vertexConnector: ConnectorPlugin<Record<string, unknown>> = {
  name: 'vertex',
  platform: 'vertex',
  description: 'vertex (not yet implemented)',
  configSchema: z.strictObject({}),
};
