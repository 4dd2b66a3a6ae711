/**
 * A Kubernetes env list written in a file (a manifest or Helm values in a ConfigMap, a script's heredoc): the secret's
 * name is the value of `name:` and the secret the `value:` beside it (`- name: DB_PASSWORD` then `  value: x`, or
 * `- {name: DB_PASSWORD, value: x}`). The key rules read `value` as the key, no secret's name, and kept it.
 */
import { holdsSecret, isUnsetValue, REDACTED } from './names.js';

/** A line break, real or escaped in a JSON string (the text of a record body). */
const BREAK = String.raw`(?:\r?\n|(?:\\r)?\\n)`;
/** A YAML value: double- or single-quoted (also with JSON-escaped quotes), or a plain word to the line's end or a comment. */
const VALUE = String.raw`(\\?"(?:[^"\\\n]|\\.)*?\\?"|'[^'\n]*'|(?:[^\s"'\\#]|\\(?![nrt"]))(?:[^\n"\\#]|\\(?![nrt"])|#(?<![ \t]#))*)`;
/** `- name: X` then `value: v` on the next line, at the column of `name` (group 2 the indent, 3 the blanks after '-'). */
const BLOCK_PAIR = new RegExp(String.raw`((?:^|${BREAK})([ \t]*)-([ \t]+)name:[ \t]*(\\?["']?)([A-Za-z_][\w.-]*)\4[ \t]*${BREAK}\2[ \t]\3value:[ \t]*)${VALUE}`, 'g');
/** `{name: X, value: v}` (a flow mapping): the plain value ends at ',' or '}'. */
const FLOW_PAIR = /(\{[ \t]*name:[ \t]*(\\?["']?)([A-Za-z_][\w.-]*)\2[ \t]*,[ \t]*value:[ \t]*)(\\?"(?:[^"\\\n]|\\.)*?\\?"|'[^'\n]*'|[^\s,}"'][^,}\n]*)/g;

/** The value without its quotes (JSON-escaped too) and trailing blanks. */
function unquoted(value: string): string {
  return value.trim().replace(/^\\?(["'])([^]*?)\\?\1$/, '$2');
}
/** `value` with its body replaced by `[redacted]`, quotes kept. */
function hidden(value: string): string {
  const v = value.trimEnd();
  const q = /^\\?["']/.exec(v)?.[0] ?? '';
  return `${q}${REDACTED}${q}${value.slice(v.length)}`;
}
const secretValue = (name: string, value: string): boolean => {
  const v = unquoted(value);
  return v !== '' && v !== REDACTED && !isUnsetValue(v) && holdsSecret(name, v);
};

/**
 * Text with the `value` of every env list entry whose `name` is a secret's (holdsSecret) hidden; the same string when none is.
 *
 * @example
 * redactEnvListValues('- name: DB_PASSWORD\n  value: hunter2') // '- name: DB_PASSWORD\n  value: [redacted]'
 */
export function redactEnvListValues(text: string): string {
  if (!text.includes('value:') || !text.includes('name:')) return text;
  const out = text
    .replace(BLOCK_PAIR, (all, head: string, _indent: string, _blanks: string, _q: string, name: string, value: string) => (secretValue(name, value) ? `${head}${hidden(value)}` : all))
    .replace(FLOW_PAIR, (all, head: string, _q: string, name: string, value: string) => (secretValue(name, value) ? `${head}${hidden(value)}` : all));
  return out === text ? text : out;
}
