/**
 * HEC reply classification (specs/sinks.md §1.5). Keyed on `code`, never on
 * `text` (the text varies by Splunk version).
 */
export type HecClass =
  /** Accepted (pending an ack when the reply carries an ackId). */
  | 'ok'
  /** Transient: resend with backoff (Retry-After honoured). */
  | 'retry'
  /** The event at `invalid-event-number` is bad: prefix delivered, it dead-lettered, the rest resent. */
  | 'bad_event'
  /** Token / index / channel problem: the sink turns unhealthy and keeps every record for later. */
  | 'fix_config'
  /** Request too large: resend in smaller requests. */
  | 'split';

const BAD_EVENT_CODES = new Set([6, 12, 13, 15]);
const FIX_CONFIG_CODES = new Set([1, 2, 3, 4, 5, 7, 10, 11, 14, 16, 21, 22]);
const RETRY_CODES = new Set([8, 9, 18, 19, 20]);

/** What a HEC reply means for the records of its request. */
export function classifyHec(status: number, code: number | undefined): HecClass {
  if (status === 413) return 'split';
  if (status === 408 || status === 429) return 'retry';
  if (code !== undefined) {
    if (code === 0 && status >= 200 && status < 300) return 'ok';
    if (BAD_EVENT_CODES.has(code)) return 'bad_event';
    if (FIX_CONFIG_CODES.has(code)) return 'fix_config';
    if (RETRY_CODES.has(code)) return 'retry';
  }
  if (status >= 200 && status < 300) return 'ok';
  if (status >= 500) return 'retry';
  // Unknown 4xx (a proxy's 404, a gateway's 401…): never drop, report and keep.
  return 'fix_config';
}

/** The parsed HEC reply body. */
export interface HecReply {
  text?: string;
  code?: number;
  ackId?: number;
  invalidEventNumber?: number;
}

export function parseHecReply(text: string): HecReply {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
  if (!j || typeof j !== 'object') return {};
  const num = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);
  return {
    text: typeof j.text === 'string' ? j.text : undefined,
    code: num(j.code),
    ackId: num(j.ackId) ?? num(j.ack_id),
    invalidEventNumber: num(j['invalid-event-number']),
  };
}
