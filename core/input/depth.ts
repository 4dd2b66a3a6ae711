/**
 * Deepest JSON nesting accepted in one record. No platform record comes near
 * it; far deeper input (thousands of levels) still parses, but serializing it
 * again (spooling, quarantining) overflows the stack, so it is refused up
 * front and quarantined instead.
 */
export const MAX_JSON_DEPTH = 200;

/**
 * True when `v` nests arrays/objects deeper than `max` levels.
 *
 * @example
 * nestedTooDeep(JSON.parse(body)) // quarantine the body instead of ingesting it
 */
export function nestedTooDeep(v: unknown, max = MAX_JSON_DEPTH): boolean {
  return deeperThan(v, max);
}

/** Recursive, but never past `left` levels (so at most MAX_JSON_DEPTH frames), and it allocates nothing: this runs on every record. */
function deeperThan(node: unknown, left: number): boolean {
  if (node === null || typeof node !== 'object') return false;
  if (left <= 0) return true;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) if (deeperThan(node[i], left - 1)) return true;
    return false;
  }
  for (const k in node) if (deeperThan((node as Record<string, unknown>)[k], left - 1)) return true;
  return false;
}

/**
 * JSON text of a value for quarantine, whatever it is: what lies deeper than
 * `max` levels is replaced by a marker string (the whole record could not be
 * serialized at all), so the rest stays inspectable.
 *
 * @example
 * boundedJson(tooDeep) // '{"a":{"a":…"[nested deeper than 200 levels]"…}}'
 */
export function boundedJson(v: unknown, max = MAX_JSON_DEPTH): string {
  if (!nestedTooDeep(v, max)) return JSON.stringify(v ?? null) ?? 'null';
  const cut = (node: unknown, left: number): unknown => {
    if (node === null || typeof node !== 'object') return node;
    if (left <= 0) return `[nested deeper than ${max} levels]`;
    if (Array.isArray(node)) return node.map((x) => cut(x, left - 1));
    const out: Record<string, unknown> = {};
    for (const k in node) out[k] = cut((node as Record<string, unknown>)[k], left - 1);
    return out;
  };
  return JSON.stringify(cut(v, max));
}
