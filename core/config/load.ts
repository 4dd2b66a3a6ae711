import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { MltrailError } from '../errors.js';

/**
 * Replace `${VAR}` and `${VAR:-default}` in every string scalar. `$${` escapes
 * a literal `${`. An unset variable without a default is an error naming it.
 */
export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv, path: string[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (whole, esc: string, name: string, def?: string) => {
      if (esc) return whole.slice(1);
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (def !== undefined) return def;
      throw new MltrailError('CONFIG', `${path.join('.') || '(root)'}: environment variable ${name} is not set`, { path: path.join('.'), variable: name });
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateEnv(v, env, [...path, String(i)]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateEnv(v, env, [...path, k])]));
  }
  return value;
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
    throw new MltrailError('CONFIG', `${file}: YAML error: ${e.message}`, { file });
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
