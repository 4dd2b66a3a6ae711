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
  normalize(record, ctx): NormalizeOutput {
    const parsed = checkEvent(stampReceived([record], ctx.receivedTime)[0]);
    if (parsed.success) return { events: [parsed.data], rejected: [], skipped: [] };
    const first = parsed.error.issues[0];
    return {
      events: [],
      rejected: [{ reason: describeZodError(parsed.error), field: first?.path.join('.'), record }],
      skipped: [],
    };
  },
};

/**
 * `received_time` is when mltrail got the event, which a sender cannot know:
 * fill it in where a record leaves it out (a record that sets it keeps its
 * own, so re-sent or replayed events stay byte-identical). Returns new
 * objects for the records it fills; anything that is not an object passes
 * through untouched for validation to reject.
 *
 * @example
 * ingest.ingest(stampReceived(records, new Date().toISOString()), 'core.api')
 */
export function stampReceived(records: unknown[], receivedTime: string): unknown[] {
  return records.map((r) =>
    r !== null && typeof r === 'object' && !Array.isArray(r) && (r as { received_time?: unknown }).received_time === undefined
      ? { ...(r as object), received_time: receivedTime }
      : r,
  );
}
