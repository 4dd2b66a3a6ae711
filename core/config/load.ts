import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { MltrailError } from '../errors.js';

/** An unset `${VAR}` (without a default) found by `interpolateEnv`: where, which, and the line that says so. */
export interface UnsetVariable {
  /** The key path holding it (`server.ingest_token`, `connectors.sagemaker.eventbridge.api_keys.0`). */
  path: string;
  variable: string;
  message: string;
}

/**
 * Replace `${VAR}` and `${VAR:-default}` in every string scalar. `$${` escapes
 * a literal `${`. An unset variable without a default is an error naming it;
 * given `unset`, it is listed there instead and its `${VAR}` text is kept as a
 * placeholder, so the rest of the file can still be validated (a caller that
 * passes `unset` must refuse the result when anything was listed).
 */
export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv, path: string[] = [], interpolated?: Map<string, string[]>, unset?: UnsetVariable[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (whole, esc: string, name: string, def?: string) => {
      if (esc) return whole.slice(1);
      // Which values came from which variables: the loader may read them as numbers, and names them in errors.
      if (interpolated) {
        const key = path.join('.');
        interpolated.set(key, [...(interpolated.get(key) ?? []), name]);
      }
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (def !== undefined) return def;
      const message = `${path.join('.') || '(root)'}: environment variable ${name} is not set (or empty); set it, or give a default: \${${name}:-value}`;
      if (!unset) throw new MltrailError('CONFIG', message, { path: path.join('.'), variable: name });
      unset.push({ path: path.join('.'), variable: name, message });
      return whole;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateEnv(v, env, [...path, String(i)], interpolated, unset));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateEnv(v, env, [...path, k], interpolated, unset)]));
  }
  return value;
}

/**
 * A value `${VAR}` gave is text; where the schema wants a number or a
 * boolean (`max_bytes: ${SPOOL_MAX}`), read that text as one. Returns the
 * paths it changed in `config` (in place). Only interpolated values: a quoted
 * number written in the file stays an error.
 */
export function coerceInterpolated(config: unknown, issues: ReadonlyArray<{ code: string; expected?: unknown; path: readonly PropertyKey[] }>, interpolated: { has(path: string): boolean }): string[] {
  const changed: string[] = [];
  for (const i of issues) {
    if (i.code !== 'invalid_type' || (i.expected !== 'number' && i.expected !== 'boolean') || !interpolated.has(i.path.join('.'))) continue;
    const parent = i.path.slice(0, -1).reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<PropertyKey, unknown>)[k] : undefined), config);
    const key = i.path.at(-1);
    if (!parent || typeof parent !== 'object' || key === undefined) continue;
    const text = (parent as Record<PropertyKey, unknown>)[key];
    if (typeof text !== 'string') continue;
    const t = text.trim();
    let v: number | boolean | undefined;
    // Decimal notation only: Number() would also read '0x10' or '' as numbers.
    if (i.expected === 'number' && typeof decimalOrText(t) === 'number') v = Number(t);
    if (i.expected === 'boolean' && (t === 'true' || t === 'false')) v = t === 'true';
    if (v === undefined) continue;
    (parent as Record<PropertyKey, unknown>)[key] = v;
    changed.push(i.path.join('.'));
  }
  return changed;
}

/**
 * Text from the environment or a flag where a number belongs: a decimal
 * number becomes one; anything else stays text, so validation reports it
 * (and names its variable) instead of `Number()` reading `''` as 0 or
 * `0x1F90` as 8080.
 *
 * @example
 * decimalOrText('8080') // 8080
 * decimalOrText('80a') // '80a' (then "expected number, received string")
 */
export function decimalOrText(text: string): number | string {
  const t = text.trim();
  return /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(t) ? Number(t) : text;
}

/** Read and parse a YAML config file (errors name the file, line and column). */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MltrailError('CONFIG', `${file}: cannot read: ${(err as Error).message}`, { file });
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    // `{ k: ${VAR} }`: inside a flow map `{` starts another map; the value must be quoted.
    const line = e.linePos ? text.split('\n')[e.linePos[0].line - 1] : undefined;
    const hint = line && /\{[^}]*\$\{/.test(line) ? ' (a ${VAR} inside { … } must be quoted: k: "${VAR}")' : '';
    throw new MltrailError('CONFIG', `${file}: YAML error${hint}: ${e.message}`, { file });
  }
  return doc.toJS() ?? {};
}

/**
 * Deep-merge plain objects; `b` wins. Arrays and scalars are replaced, except
 * that a section `b` sets as an object never replaces a value of another kind
 * in `a` (a list where a map belongs): that value is kept so validation names
 * it, instead of the mistake vanishing under an override (the environment's
 * overrides always carry the sections, often empty).
 */
export function deepMerge(a: unknown, b: unknown): unknown {
  if (b === undefined) return a;
  if (isPlain(b) && a !== undefined && a !== null && !isPlain(a)) return a;
  if (!isPlain(a) || !isPlain(b)) return b;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = deepMerge(out[k], v);
  return out;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Format zod issues as `key.path: message` lines, each naming what was expected. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string[] {
  return issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(root)';
    let msg = i.message;
    if (i.code === 'unrecognized_keys') msg = `unknown key(s): ${(i as { keys: string[] }).keys.join(', ')}`;
    return `${path}: ${msg}`;
  });
}

/** Split a comma-separated env value into trimmed non-empty parts. */
export function csv(v: string | undefined): string[] | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}
