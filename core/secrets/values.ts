/** Free values a user writes (tag values, descriptions, a hyperparameter holding JSON): text and JSON redaction. */
import { holdsSecret, isCountOf, isSecretKey, isUnsetValue, KEY_KINDS, REDACTED, SECRET_NAME } from './names.js';
import { redactUrlSecrets } from './urls.js';
import { redactSecretText } from './text.js';
import { mapElements, mapValues } from '../copy-on-write.js';

/**
 * What must be in a value for redactSecretText to find anything in it: a secret's name, a dashed secret flag, a
 * password flag, a credential header or call (`Authorization:`, `Cookie`, `auth=(…)`, `.login(`), a user flag (`-u user:pw`), a
 * PEM key or a key of KEY_KINDS (`signing_key`, `--app-key`). Most tag values and hyperparameters (`0.01`, `s3://bucket/x`, `resnet50`) hold none and skip the text rules.
 */
const TEXT_HINT = new RegExp(String.raw`password|passwd|secret|token|credential|private|api[_-]?key|access[_-]?key|routing[_-]?key|connection|account[_.-]?key|sharedaccess|azure\.sas\.|_pass|_pwd|-pass|auth|cookie|login|(?:^|\s)-[uU]|--user|(?:${KEY_KINDS})[_-]?keys?(?![a-z])|client[_-]?key[_-]?data|kaggle|username`, 'i');
/** A JSON object or array as a string (a hyperparameter SageMaker passes as a string, a JSON tag value). */
const JSON_LOOKING = /^\s*[[{][^]*[\]}]\s*$/;
/** Largest JSON text parsed (a hyperparameter is at most 2,500 characters; tags 256): larger is read as text. */
const MAX_JSON = 64 * 1024;
/** How deep a parsed JSON value is read. */
const MAX_DEPTH = 16;

/**
 * A free-text value (a description, a tag value, a comment) with what redactSecretText hides (`password: "x"`,
 * `--token x`, `NAME=x`) and URL user-info / secret query values (redactUrlSecrets) hidden; a JSON object or array
 * given as a string has its secret-named keys' values hidden (redactJsonText). The same string (===) when nothing was.
 *
 * @example
 * redactFreeText('trained with password: "hunter2"') // 'trained with password: "[redacted]"'
 * redactFreeText('{"token": "x", "lr": 0.1}') // '{"token":"[redacted]","lr":0.1}'
 */
export function redactFreeText(s: string): string {
  if (s.length < 3) return s;
  const json = redactJsonText(s);
  if (json !== undefined) return json;
  const text = TEXT_HINT.test(s) ? redactIniLines(redactJsonPairs(redactSecretText(s))) : s;
  return redactUrlSecrets(text);
}

/** A line that is a config file's `name = value` alone, blanks around '=', its value one word (INI, .env, properties). */
const INI_LINE = /^([ \t]*)([A-Za-z_][\w.-]*)([ \t]+=[ \t]*|[ \t]*=[ \t]+)([^\s"'`()[\]{}]+)(?=[ \t]*\r?$)/gm;
/** A code line's attribute read (`password = cfg.password`): a lookup, as code redaction keeps it. */
const ATTRIBUTE_READ = /^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$/;
/**
 * The secret-named lines of a config file quoted in free text (a description holding a heredoc that writes
 * `~/.aws/credentials`, `WANDB_API_KEY = …` in `.env`): text redaction reads `NAME=x` and `name: x`, and reads a spaced
 * '=' only as code (scripts, echo'd strings) — in free text it was shown. A whole line only, its value one word with no quote,
 * bracket or call (code's forms, read by the code rules), so prose (`the token = expired last week`) stays; a `$VAR`
 * and an attribute read (`cfg.password`) name where the secret is and stay.
 */
function redactIniLines(s: string): string {
  if (!/[ \t]=|=[ \t]/.test(s)) return s;
  return s.replace(INI_LINE, (line, lead: string, name: string, sep: string, value: string) =>
    value === REDACTED || value.startsWith('$') || ATTRIBUTE_READ.test(value) || isUnsetValue(value) || !holdsSecret(name, value) ? line : `${lead}${name}${sep}${REDACTED}`);
}

/** A JSON `"name": "value"` pair in text (JSON too long to parse, or cut at the value): text redaction reads no quoted key. */
const JSON_PAIR = /"([A-Za-z_][\w.-]*)"(\s*:\s*)"((?:[^"\\\n]|\\.)*)("|$)/g;
function redactJsonPairs(s: string): string {
  if (!s.includes('"')) return s;
  return s.replace(JSON_PAIR, (all, name: string, sep: string, value: string, end: string) => {
    const hidden = hideNamed(name, value);
    return hidden === undefined ? all : `"${name}"${sep}"${hidden}${end}`;
  });
}

/**
 * A string that parses as a JSON object or array (at most MAX_JSON long) with secret-named keys' values hidden
 * and free text in its strings redacted, written back compact; the same string (===) when nothing was hidden;
 * undefined when it is no such JSON (the caller reads it as text). Cheap: a string with no secret's name, no '@'
 * and no '?' is not parsed.
 */
export function redactJsonText(s: string): string | undefined {
  if (s.length > MAX_JSON || !JSON_LOOKING.test(s)) return undefined;
  if (!SECRET_NAME.test(s) && !TEXT_HINT.test(s) && !s.includes('@') && !s.includes('?')) return s;
  let parsed: unknown;
  try {
    parsed = JSON.parse(s);
  } catch {
    return undefined;
  }
  const out = redactJsonValue(parsed, 0);
  return out === parsed ? s : JSON.stringify(out);
}

/**
 * A parsed JSON value (an object, array or string) with secret-named keys' values hidden and free text in its strings
 * redacted, as redactJsonText does for JSON text, read at most MAX_DEPTH levels deep; the same value (===) when nothing
 * was hidden. For a value already parsed (a rejected webhook body), whatever its size.
 *
 * @example
 * redactJsonTree({ data: { token: 'x', lr: 0.1 } }) // { data: { token: '[redacted]', lr: 0.1 } }
 */
export function redactJsonTree<T>(v: T): T {
  return redactJsonValue(v, 0) as T;
}

function redactJsonValue(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return redactFreeText(v);
  if (depth > MAX_DEPTH || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return mapElements(v, (e) => redactJsonValue(e, depth + 1));
  const kaggle = isKaggleCredentials(v as Record<string, unknown>);
  return mapValues(v, (val, k) => (kaggle && k === 'key' ? REDACTED : undefined) ?? hideNamed(k, val) ?? redactJsonValue(val, depth + 1));
}
/**
 * A Kaggle API credentials object (`kaggle.json`: `{"username": "alice", "key": "…"}`, as Kaggle's CLI and kagglehub
 * read it): `key` alone names no secret (an object key, a sort key), beside `username` in one object it is the API key.
 */
export function isKaggleCredentials(o: Record<string, unknown>): boolean {
  return typeof o.username === 'string' && typeof o.key === 'string' && o.key !== '' && o.key !== REDACTED && !isUnsetValue(o.key);
}

/** A credential header's name as a key (a JSON header map, a tag): `Authorization`, `Proxy-Authorization`. */
const AUTH_HEADER_KEY = /^(?:proxy-)?authorization$/i;
/** A cookie header's name as a key: a session cookie is a bearer credential, hidden whole (`Cookie`, `Set-Cookie`). */
const COOKIE_HEADER_KEY = /^(?:set-)?cookie$/i;
/** An auth scheme opening a credential header's value: it says which kind of credential, not what, and stays (as the text rules keep it). */
const AUTH_SCHEME = /^(?:Bearer|Basic|Token|Digest|Negotiate|ApiKey)[ \t]+/i;

/**
 * `[redacted]` for a value given under a secret's name (a string that holds one, or any number or object), undefined
 * when the name is no secret's. `-` in the name is read as `_` (`api-key`). Under a credential header's name
 * (`Authorization`, `Proxy-Authorization`) the value's auth scheme stays (`Bearer [redacted]`); a cookie header's
 * value (`Cookie`, `Set-Cookie`) is hidden whole. An empty or unset value (`""`, `null`) stays.
 *
 * @example
 * hideNamed('Authorization', 'Bearer x') // 'Bearer [redacted]'
 */
export function hideNamed(name: string, v: unknown): string | undefined {
  if (AUTH_HEADER_KEY.test(name) || COOKIE_HEADER_KEY.test(name)) return hideHeaderValue(name, v);
  const key = name.includes('-') ? name.replace(/-/g, '_') : name;
  if (!SECRET_NAME.test(key) || v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v !== '' && holdsSecret(key, v) ? REDACTED : undefined;
  return isSecretKey(key) && !isCountOf(key, v) ? REDACTED : undefined;
}
/** hideNamed under a credential or cookie header's name: the scheme kept; undefined when nothing is left to hide. */
function hideHeaderValue(name: string, v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'string') return REDACTED;
  if (v === '' || v === REDACTED || isUnsetValue(v)) return undefined;
  const scheme = AUTH_HEADER_KEY.test(name) ? (AUTH_SCHEME.exec(v)?.[0] ?? '') : '';
  const rest = v.slice(scheme.length);
  return rest === '' || rest === REDACTED ? undefined : `${scheme}${REDACTED}`;
}

/**
 * A tag map (`{key: value}`: MLflow tags) with the values of secret-named tags hidden and free text in the others
 * redacted (redactFreeText); the same map (===) when nothing was hidden.
 *
 * @example
 * redactTagMap({ hf_token: 'hf_x', team: 'fraud' }) // { hf_token: '[redacted]', team: 'fraud' }
 */
export function redactTagMap<T>(tags: T): T {
  if (tags === null || typeof tags !== 'object' || Array.isArray(tags)) return tags;
  return mapValues(tags, (v, k) => hideNamed(k, v) ?? (typeof v === 'string' ? redactFreeText(v) : v));
}

/**
 * A tag list (`[{key, value}]` as CloudTrail logs SageMaker's Tags and Databricks sends its tags, `[{Key, Value}]` in
 * the API's own casing) with secret-named tags' values hidden and free text in the others redacted; the same list
 * (===) when nothing was hidden.
 *
 * @example
 * redactTagList([{ Key: 'api_token', Value: 'x' }, { Key: 'team', Value: 'fraud' }]) // [{ Key: 'api_token', Value: '[redacted]' }, { Key: 'team', Value: 'fraud' }]
 */
export function redactTagList<T extends readonly unknown[]>(list: T): T {
  return mapElements(list, (e) => {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) return e;
    const t = e as Record<string, unknown>;
    const [k, vk] = typeof t.key === 'string' ? ['key', 'value'] : typeof t.Key === 'string' ? ['Key', 'Value'] : [undefined, undefined];
    if (k === undefined || !(vk in t)) return e;
    const v = t[vk];
    const r = hideNamed(t[k] as string, v) ?? (typeof v === 'string' ? redactFreeText(v) : v);
    return r === v ? e : { ...t, [vk]: r };
  });
}
