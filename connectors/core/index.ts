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
    const parsed = checkEvent(stampReceived([record], ctx.receivedTime, ctx.keepRaw)[0]);
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
 * own, so re-sent or replayed events stay byte-identical). With `keepRaw`
 * false (`spool.keep_raw: false`) a sender's `raw` is dropped, as every
 * connector drops the native record then: the operator chose not to store
 * it. Returns new objects for the records it changes; anything that is not
 * an object passes through untouched for validation to reject.
 *
 * @example
 * ingest.ingest(stampReceived(records, new Date().toISOString(), cfg.spool.keep_raw), 'core.api')
 */
export function stampReceived(records: unknown[], receivedTime: string, keepRaw = true): unknown[] {
  return records.map((r) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) return r;
    const rec = r as { received_time?: unknown; raw?: unknown };
    const stamp = rec.received_time === undefined;
    const drop = !keepRaw && 'raw' in rec;
    if (!stamp && !drop) return r;
    const out: Record<string, unknown> = { ...rec };
    if (stamp) out.received_time = receivedTime;
    if (drop) delete out.raw;
    return out;
  });
}
