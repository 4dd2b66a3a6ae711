import { createHash } from 'node:crypto';

/**
 * Canonical JSON: keys sorted at every depth, no whitespace. Two records that
 * differ only in key order hash the same.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/**
 * A stable event id: the same native record always gets the same id. Parts are
 * the platform's own identifiers (eventID, delivery id, insertId+logName…);
 * pass the platform first so ids from different platforms never collide.
 *
 * @example
 * stableId('sagemaker', record.eventID) // '5f0c…' (32 hex chars)
 */
export function stableId(...parts: Array<string | number | undefined | null>): string {
  // One update over "part\0part\0…": the same bytes (and ids) as hashing the parts one by one, cheaper.
  let joined = '';
  for (const p of parts) joined += `${p ?? ''}\u0000`;
  return createHash('sha256').update(joined).digest('hex').slice(0, 32);
}

/** Stable id from the hash of a record's canonical JSON (when it carries no id of its own). */
export function contentId(platform: string, record: unknown): string {
  return stableId(platform, 'content', canonicalJson(record));
}
