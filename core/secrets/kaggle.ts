/** Kaggle API credentials (`kaggle.json`) written as text: `key` is a secret beside `username` in one object. */
import { REDACTED } from './names.js';

/**
 * One object or `dict(…)` call without nested braces (a `kaggle.json` written by a script, an `echo '{…}' >
 * ~/.kaggle/kaggle.json`, a ConfigMap's or env value's JSON cut or escaped in a string), read for 4096 characters at
 * most: each match stops at the next brace, so the scan is linear.
 */
const OBJECT = /\{[^{}]{1,4096}\}|\bdict\([^()]{1,4096}\)/g;
/** A `username` key in it: quoted (JSON, a Python dict, escaped in JSON at any depth) or a keyword (`username=`). */
const USERNAME_KEY = /username\\*["']\s*:|\busername\s*=/;
/**
 * Its `key` given a literal: quoted key (group 1 its quote, 2 the separator, 3 the value's quote, 4 the value), or `key=` (5, 6, 7).
 * A run of backslashes is read from its start only (`(?<!\\)`): tried at each of its backslashes it was quadratic.
 */
const KEY_VALUE = /(?<!\\)(\\*["'])key\1(\s*:\s*)(?<!\\)(\\*["'])([^"'\\\n]+)\3|\b(key\s*=\s*)(["'])([^"'\\\n]+)\6/g;
/** Cheap test: `key` as a word (with `username`, tested first). */
const KEY_WORD = /\bkey\b/;

/**
 * Text with the `key` of every Kaggle credentials object hidden (`{"username": "alice", "key": "[redacted]"}`, quotes
 * kept; `dict(username="alice", key="[redacted]")`): Kaggle's clients read the API key so from `~/.kaggle/kaggle.json`.
 * `key` elsewhere (an object key, `{"key": "models/x.pkl"}`) names no secret and stays. The same string when nothing is.
 *
 * @example
 * redactKaggleCredentials('{"username":"alice","key":"0123abcd"}') // '{"username":"alice","key":"[redacted]"}'
 */
export function redactKaggleCredentials(text: string): string {
  if (!text.includes('username') || !KEY_WORD.test(text)) return text;
  return text.replace(OBJECT, (obj: string) => {
    if (!USERNAME_KEY.test(obj)) return obj;
    return obj.replace(KEY_VALUE, (all, kq: string | undefined, sep: string, vq: string, value: string, kw: string, wq: string, wvalue: string) => {
      if (kq !== undefined) return value === REDACTED ? all : `${kq}key${kq}${sep}${vq}${REDACTED}${vq}`;
      return wvalue === REDACTED ? all : `${kw}${wq}${REDACTED}${wq}`;
    });
  });
}
