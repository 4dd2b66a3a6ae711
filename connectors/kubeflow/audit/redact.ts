import { isSecretName, redactUrlUserinfo } from '../../../core/secrets.js';
import type { AuditEvent } from './envelope.js';

/** How many redacted paths `details.raw_redacted` lists (a pod spec with hundreds of env entries stays bounded). */
export const RAW_REDACTED_MAX = 20;
const REDACTED = '[redacted]';

/**
 * The audit record as it may be kept in `raw`: URL user-info in any string of `requestObject` / `responseObject`
 * and the `value` of every env entry whose name is a secret's (isSecretName) replaced, in a copy — the record itself,
 * which the normalizer reads (registry URIs, images), is never changed. Only the objects on a changed path are
 * copied; a record with nothing to hide is returned as is (`paths` empty).
 *
 * @example
 * const { raw, paths } = redactAuditRaw(ev); // paths: ['requestObject.spec.containers[0].env[2].value']
 */
export function redactAuditRaw(ev: AuditEvent): { raw: AuditEvent; paths: string[] } {
  const rec = ev as AuditEvent & Record<string, unknown>;
  if (rec.requestObject === undefined && rec.responseObject === undefined) return { raw: ev, paths: [] };
  const paths: string[] = [];
  let out: Record<string, unknown> | undefined;
  for (const key of ['requestObject', 'responseObject'] as const) {
    const v = rec[key];
    if (v === null || typeof v !== 'object') continue;
    const r = redactValue(v, [key], 'plain', paths);
    if (r !== v) (out ??= { ...rec })[key] = r;
  }
  return { raw: (out ?? ev) as AuditEvent, paths: paths.slice(0, RAW_REDACTED_MAX) };
}

/** What a value is to the walk: anything, a list of env entries, or one env entry. */
type Shape = 'plain' | 'envList' | 'envEntry';

/** A JSON patch op path that targets an env list (`…/env`) or one entry of it (`…/env/3`, `…/env/-`). */
const PATCH_ENV_LIST = /\/env$/;
const PATCH_ENV_ENTRY = /\/env\/(?:\d+|-)$/;

/**
 * `kubectl apply` keeps the whole object it applied, env values and all, as JSON text in this annotation: the text is
 * parsed, redacted like the object, and written back (compact, as kubectl writes it) when something was hidden.
 */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function redactLastApplied(text: string, keys: Array<string | number>, paths: string[]): string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return redactValue(text, keys, 'plain', paths) as string;
  }
  const r = redactValue(doc, keys, 'plain', paths);
  return r === doc ? text : `${JSON.stringify(r)}${text.endsWith('\n') ? '\n' : ''}`;
}

/** `requestObject.spec.containers[0].env[2].value` from its keys; built only for what was redacted (the walk stays cheap). */
function pathText(keys: Array<string | number>): string {
  let out = '';
  for (const k of keys) out += typeof k === 'number' ? `[${k}]` : out ? `.${k}` : k;
  return out;
}

/** `keys`: where `v` is (a stack the walk pushes to and pops from). */
function redactValue(v: unknown, keys: Array<string | number>, shape: Shape, paths: string[]): unknown {
  if (typeof v === 'string') {
    const r = redactUrlUserinfo(v);
    if (r !== v) paths.push(pathText(keys));
    return r;
  }
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      keys.push(i);
      const r = redactValue(v[i], keys, shape === 'envList' ? 'envEntry' : 'plain', paths);
      keys.pop();
      if (r !== v[i]) (copy ??= v.slice())[i] = r;
    }
    return copy ?? v;
  }
  const o = v as Record<string, unknown>;
  // An env entry `{name, value}` whose name is a secret's: its literal value goes, whatever it looks like.
  const secretEntry = shape === 'envEntry' && typeof o.name === 'string' && isSecretName(o.name) && typeof o.value === 'string' && o.value !== '';
  // A JSON patch op (`{op, path, value}`) writing an env list or entry: its `value` is that list or entry.
  const opPath = typeof o.op === 'string' && typeof o.path === 'string' ? o.path : undefined;
  const opValueShape: Shape = opPath === undefined ? 'plain' : PATCH_ENV_ENTRY.test(opPath) ? 'envEntry' : PATCH_ENV_LIST.test(opPath) ? 'envList' : 'plain';
  let copy: Record<string, unknown> | undefined;
  for (const k of Object.keys(o)) {
    const child = o[k];
    let r: unknown;
    keys.push(k);
    if (secretEntry && k === 'value') {
      r = REDACTED;
      paths.push(pathText(keys));
    } else if (k === LAST_APPLIED && typeof child === 'string' && child.includes('"env"')) {
      r = redactLastApplied(child, keys, paths);
    } else {
      const childShape: Shape = k === 'env' && Array.isArray(child) ? 'envList' : k === 'value' && opValueShape !== 'plain' ? opValueShape : 'plain';
      r = redactValue(child, keys, childShape, paths);
    }
    keys.pop();
    if (r !== child) (copy ??= { ...o })[k] = r;
  }
  return copy ?? o;
}
