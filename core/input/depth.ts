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

/**
 * Nesting past which a request body is refused before it is parsed at all. No record may nest deeper than
 * MAX_JSON_DEPTH, so such a body holds nothing valid; JSON.parse of 4 MB of `[` (2 million levels) held the
 * event loop for about half a second, and what came after it as long again.
 */
export const MAX_BODY_DEPTH = 10_000;

/**
 * True when JSON text nests arrays/objects deeper than `max` levels, found in one pass over the text
 * without parsing it (brackets inside strings do not count). Text shorter than `max` cannot, and is not scanned.
 *
 * @example
 * textNestsDeeper('[[[]]]', 2) // true
 */
export function textNestsDeeper(text: string, max = MAX_BODY_DEPTH): boolean {
  if (text.length <= max) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // Skip the string to its closing quote (one not escaped: preceded by an even run of backslashes).
      // indexOf runs natively: the scan costs well under a JSON.parse of the same text.
      let j = text.indexOf('"', i + 1);
      for (;;) {
        if (j === -1) return false;
        let k = j - 1;
        while (text.charCodeAt(k) === 92) k--;
        if ((j - 1 - k) % 2 === 0) break;
        j = text.indexOf('"', j + 1);
      }
      i = j;
    } else if (c === 91 || c === 123) {
      if (++depth > max) return true;
    } else if (c === 93 || c === 125) depth--;
  }
  return false;
}

/**
 * JSON.parse, refusing first (a SyntaxError, as for any text that is not JSON) text nested deeper than
 * MAX_BODY_DEPTH: what every route parses a request body with.
 *
 * @example
 * const record = parseJsonText(body.toString('utf8'));
 */
export function parseJsonText(text: string): unknown {
  if (textNestsDeeper(text)) throw new SyntaxError(`JSON nested deeper than ${MAX_BODY_DEPTH} levels`);
  return JSON.parse(text);
}
