import { z } from 'zod';
import type { ConnectorPlugin, NormalizeOutput } from '../../core/connector.js';
import { checkEvent, describeZodError } from '../../core/schema/index.js';

/**
 * Already-normalized events (schema version "1"): what `POST /v1/events`
 * takes and what `mltrail normalize --platform core` reads back.
 */
export const coreConnector: ConnectorPlugin<Record<string, never>> = {
  name: 'core',
  platform: 'custom',
  description: 'Already-normalized mltrail events (schema_version "1")',
  configSchema: z.strictObject({}),
  detect: (r) => !!r && typeof r === 'object' && (r as { schema_version?: unknown }).schema_version === '1' && 'action' in r,
  normalize(record): NormalizeOutput {
    const parsed = checkEvent(record);
    if (parsed.success) return { events: [parsed.data], rejected: [], skipped: [] };
    const first = parsed.error.issues[0];
    return {
      events: [],
      rejected: [{ reason: describeZodError(parsed.error), field: first?.path.join('.'), record }],
      skipped: [],
    };
  },
};
