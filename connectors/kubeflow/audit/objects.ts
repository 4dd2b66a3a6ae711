/** Small shape helpers for the untyped JSON bodies of audit events (request and response objects). */

export function at(o: unknown, keys: readonly string[]): unknown {
  let v = o;
  for (const k of keys) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** A list field as sent, or none when the field is absent or not a list. */
export function listOf<T>(v: T[] | undefined): T[] {
  return Array.isArray(v) ? v : [];
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Copy of `o` without its undefined values, key order kept. */
export function definedOnly(o: Record<string, unknown>): Record<string, unknown> {
  return copyDefined({}, o);
}

/** Assign the defined values of `from` onto `to`, in order. */
export function copyDefined(to: Record<string, unknown>, from: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(from)) {
    const v = from[k];
    if (v !== undefined) to[k] = v;
  }
  return to;
}
