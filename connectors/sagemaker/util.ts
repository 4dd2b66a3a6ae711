/** Small shape helpers for untyped AWS JSON. */

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function bool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
}

export function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Split paths, keyed by path: callers pass a few dozen literal paths, split once each (bounded). */
const SPLIT_PATHS = new Map<string, string[]>();
const MAX_CACHED_PATHS = 1024;

/** `get(o, 'a.b.c')` for nested objects; undefined when any step is missing. */
export function get(o: unknown, path: string): unknown {
  let keys = SPLIT_PATHS.get(path);
  if (!keys) {
    keys = path.split('.');
    if (SPLIT_PATHS.size < MAX_CACHED_PATHS) SPLIT_PATHS.set(path, keys);
  }
  let cur: unknown = o;
  for (let i = 0; i < keys.length; i++) {
    if (!isObj(cur)) return undefined;
    cur = cur[keys[i]!];
  }
  return cur;
}

/**
 * A request field under S3's XML spelling or the lower-camel one some senders use (`Bucket` / `bucket`).
 *
 * @example
 * field({ bucket: 'models' }, 'Bucket') // 'models'
 */
export function field(o: Obj, name: string): unknown {
  return o[name] ?? o[name[0]!.toLowerCase() + name.slice(1)];
}

/** Distinct non-empty strings, order kept. */
export function uniq(values: Array<string | undefined>): string[] {
  return [...new Set(values.filter((v): v is string => !!v))];
}

/** `image@sha256:…` → the digest; a tag or bare reference → undefined (the shared helper, under this connector's name). */
export { imageDigestOf as imageDigest } from '../../core/integrity/image.js';

/**
 * `{...base, ...over}` without its undefined values: keys of `base` in order
 * (value from `over` when it has the key), then the new keys of `over`.
 * Used to hand makeEvent compact objects (deleting keys from a wide object is slow).
 *
 * @example
 * mergeDefined({ a: 1, b: undefined, c: 3 }, { c: undefined, d: 4 }) // { a: 1, d: 4 }
 */
export function mergeDefined(base: Obj, over: Obj = {}): Obj {
  const out: Obj = {};
  for (const k of Object.keys(base)) {
    const v = Object.hasOwn(over, k) ? over[k] : base[k];
    if (v !== undefined) out[k] = v;
  }
  for (const k of Object.keys(over)) {
    if (Object.hasOwn(base, k)) continue;
    const v = over[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
