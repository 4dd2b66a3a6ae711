import { REDACTED, hideFlagArgument, holdsSecret, isSecretFlag, isSecretName, lastCommandInJson, redactBase64Text, redactScriptText } from '../../../core/secrets.js';
import { redactAuditInput } from './redact.js';

const JSON_STRING = '"((?:[^"\\\\]|\\\\.)*)"';
/** `{"name":"<name>","value":"<value>"}` as the apiserver writes an env entry (name first), in text that does not parse. */
const ENV_PAIR_TEXT = new RegExp(`("name"\\s*:\\s*${JSON_STRING}\\s*,\\s*"value"\\s*:\\s*)${JSON_STRING}`, 'g');
/** A JSON patch op writing `…/env/N/value` (path first, as kubectl and client-go write ops). */
const ENV_VALUE_OP_TEXT = new RegExp(`("path"\\s*:\\s*"[^"]*/env/\\d+/value"\\s*,\\s*"value"\\s*:\\s*)${JSON_STRING}`, 'g');

/**
 * The rules below read JSON at any level of escaping (`\"` inside a JSON string: a last-applied annotation, an AKS
 * `log`): `Q` is a quote of that level, the backslashes before it captured once and matched again (`\1`). A value is
 * read up to its closing quote or the end of the line (a line cut inside it), so a cut value is hidden to the end.
 */
const Q = '(\\\\*)"';
/**
 * The closing quote of that level: `\1"` preceded by no other backslash (in `\\\"` a deeper string's quote, the
 * last `\"` of it is no closing quote of the level of `\"`); at level 0 a quote the pairs before it left unescaped.
 */
const CLOSE = '(?:(?<!\\\\)(?=\\\\)\\1"|(?!\\\\)\\1")';
const VALUE_TO_END = `((?:[^"\\\\]|\\\\.)*?)(${CLOSE}|$)`;
/** `"--token", "value"` in a JSON args list (also escaped: an args list in last-applied JSON). */
const FLAG_PAIR_TEXT = new RegExp(`${Q}(--?[A-Za-z][\\w.-]*)\\1"(\\s*,\\s*)\\1"${VALUE_TO_END}`, 'g');
/** Flags whose next argument redactArgv judges by the command (`-p` of mydumper and sshpass, `-u` of curl). */
const ARGUMENT_FLAG = /^(?:-p|-u|-U|--user)$/;
/** `"-pPASS"` in a JSON list, at any escaping level (a MySQL client's password glued to its flag). */
const GLUED_DASH_P_TEXT = new RegExp(`${Q}-p([^"\\\\]+)(?=\\1")`, 'g');
/** `"<key>": "<value>"`: a string under a key of a secret's name (`"password":"x"`, `"MYSQL_PWD":"x"`). */
const KEY_VALUE_TEXT = new RegExp(`${Q}([^"\\\\]*)\\1"(\\s*:\\s*)\\1"${VALUE_TO_END}`, 'g');
/** `"<name>","value":"<value>"`: an env entry or parameter after its name (also `"default"`, a line cut before `{"name":`). */
const NAME_THEN_VALUE_TEXT = new RegExp(`${Q}([^"\\\\]*)\\1"(\\s*,\\s*\\1"(?:value|default)\\1"\\s*:\\s*)\\1"${VALUE_TO_END}`, 'g');
/** `"value":"<value>","name":"<name>"`: an env entry written value first. */
const VALUE_THEN_NAME_TEXT = new RegExp(`${Q}value\\1"(\\s*:\\s*)\\1"((?:[^"\\\\]|\\\\.)*?)\\1"(\\s*,\\s*\\1"name\\1"\\s*:\\s*\\1")([^"\\\\]*)(?=\\1")`, 'g');
/**
 * `"data": {` / `"stringData": {`: where a Secret's values start (a ConfigMap's `data` too: text cannot tell them
 * apart); `"binaryData": {`: a ConfigMap's encoded files.
 */
const DATA_OPEN_TEXT = new RegExp(`${Q}(data|stringData|binaryData)\\1"\\s*:\\s*\\{`, 'g');

/** One `"key": "value"` pair of a data object at a quote level, read from a position (sticky), with the comma after it. */
const dataPairAt = new Map<string, RegExp>();
function dataPair(esc: string): RegExp {
  let re = dataPairAt.get(esc);
  if (!re) {
    const q = `${esc.replace(/\\/g, '\\\\')}"`;
    // A closing quote of this level is preceded by no other backslash (CLOSE).
    const close = esc === '' ? q : `(?<!\\\\)${q}`;
    re = new RegExp(`(\\s*${q}(?:[^"\\\\]|\\\\.)*?${q}\\s*:\\s*${q})((?:[^"\\\\]|\\\\.)*?)(${close}\\s*,?|$)`, 'y');
    dataPairAt.set(esc, re);
  }
  return re;
}

/**
 * Every string value of each `data` / `stringData` object in the text replaced (keys kept): Secret values, whatever
 * their keys; a `binaryData` value only when its decoded text holds a secret (redactBase64Text).
 */
function redactDataObjectsText(text: string): string {
  if (!text.includes('ata')) return text;
  let out = '';
  let from = 0;
  DATA_OPEN_TEXT.lastIndex = 0;
  for (let open = DATA_OPEN_TEXT.exec(text); open; open = DATA_OPEN_TEXT.exec(text)) {
    const pair = dataPair(open[1]!);
    // A ConfigMap's binaryData (no Secret has one) is judged by its decoded text, as in raw; a value the line cut, by
    // its whole base64 groups.
    const binary = open[2] === 'binaryData';
    let at = DATA_OPEN_TEXT.lastIndex;
    out += text.slice(from, at);
    for (let m = (pair.lastIndex = at, pair.exec(text)); m && m[0] !== ''; m = (pair.lastIndex = at, pair.exec(text))) {
      const v = m[2]!;
      const whole = m[3] === '' ? v.slice(0, v.length - (v.length % 4)) : v;
      // Hidden (`[redacted]`), or `[unscanned: N bytes]` for a gzip text longer than is ever read: either replaces it.
      const judged = v === '' || !binary ? undefined : redactBase64Text(whole, m[3] === '');
      const hidden = v === '' ? '' : !binary ? REDACTED : judged !== whole ? judged! : v;
      out += `${m[1]}${hidden}${m[3]}`;
      at = pair.lastIndex;
      if (m[3] === '') break;
    }
    from = at;
    DATA_OPEN_TEXT.lastIndex = at;
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * The command the text names last before a position (lastCommandInJson), for positions asked in increasing order (a
 * replace's matches): each part of the text is read once, not the whole prefix at every flag.
 */
function commandsBefore(line: string): (at: number) => string | undefined {
  let from = 0;
  let command: string | undefined;
  return (at) => {
    command = lastCommandInJson(line.slice(from, at)) ?? command;
    from = Math.max(from, at);
    return command;
  };
}

/**
 * Text-level rules for what does not parse: env pairs (either order, or a name followed by its value), `/env/N/value`
 * ops, args flag pairs, `data` / `stringData` values, strings under secret-named keys, and what redactScriptText hides
 * (flags, assignments, `-pPASS`, URL user-info) — at any quote level, and a value the line cuts is hidden to its end.
 */
function redactUnparsedText(text: string): string {
  const hide = (value: string) => value !== '' && value !== REDACTED;
  let glued: ((at: number) => string | undefined) | undefined;
  let pairs: ((at: number) => string | undefined) | undefined;
  const out = redactDataObjectsText(redactScriptText(text))
    .replace(ENV_PAIR_TEXT, (all, head: string, name: string, value: string) => (holdsSecret(name, value) ? `${head}"${REDACTED}"` : all))
    .replace(ENV_VALUE_OP_TEXT, (_all, head: string) => `${head}"${REDACTED}"`)
    .replace(FLAG_PAIR_TEXT, (all, esc: string, flag: string, sep: string, value: string, end: string, at: number, line: string) => {
      if (!hide(value) || value.startsWith('--')) return all;
      // `-p` / `-u` are judged by the command the list or image before them names (mydumper, sshpass, curl), as in args.
      const hidden = isSecretFlag(flag) ? REDACTED : ARGUMENT_FLAG.test(flag) ? hideFlagArgument(flag, value, (pairs ??= commandsBefore(line))(at)) : undefined;
      return hidden === undefined ? all : `${esc}"${flag}${esc}"${sep}${esc}"${hidden}${end}`;
    })
    .replace(GLUED_DASH_P_TEXT, (all, esc: string, value: string, at: number, line: string) => (hide(value) && hideFlagArgument('-p', value, (glued ??= commandsBefore(line))(at), true) !== undefined ? `${esc}"-p${REDACTED}` : all))
    .replace(KEY_VALUE_TEXT, function keyValue(all: string, esc: string, key: string, sep: string, value: string, end: string): string {
      if (hide(value) && holdsSecret(key, value)) return `${esc}"${key}${esc}"${sep}${esc}"${REDACTED}${end}`;
      // A string holding escaped JSON (the last-applied configuration) was matched whole: its own pairs are read too.
      // (A global replace collects every match before calling back, so using the pattern again here is safe.)
      if (!value.includes('\\"')) return all;
      const inner = value.replace(KEY_VALUE_TEXT, keyValue);
      return inner === value ? all : `${esc}"${key}${esc}"${sep}${esc}"${inner}${end}`;
    })
    .replace(NAME_THEN_VALUE_TEXT, (all, esc: string, name: string, mid: string, value: string, end: string) => (hide(value) && holdsSecret(name, value) ? `${esc}"${name}${esc}"${mid}${esc}"${REDACTED}${end}` : all))
    .replace(VALUE_THEN_NAME_TEXT, (all, esc: string, sep: string, value: string, mid: string, name: string) => (hide(value) && holdsSecret(name, value) ? `${esc}"value${esc}"${sep}${esc}"${REDACTED}${esc}"${mid}${name}` : all));
  return out === text ? text : out;
}

/**
 * A request body of the audit route that does not parse as a whole (one bad NDJSON line, a truncated EventList), as
 * kept in quarantine: each line that parses is redacted as a rejected record is (redactAuditInput) and written back
 * compact; a line that does not gets text-level rules (redactUnparsedText) — best effort, since what is cut off
 * mid-object cannot be judged by its name, so they err on hiding (every `data` value, any secret-named key's string).
 * The same bytes when nothing is hidden.
 *
 * @example
 * ingest.quarantine(AUDIT_CHANNEL, reason, redactAuditBody(body))
 */
export function redactAuditBody(body: Buffer): Buffer {
  const lines = body.toString('utf8').split('\n');
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let r: string;
    try {
      const rec: unknown = JSON.parse(line);
      const red = redactAuditInput(rec);
      r = red === rec ? line : JSON.stringify(red);
    } catch {
      r = redactUnparsedText(line);
    }
    if (r !== line) {
      lines[i] = r;
      changed = true;
    }
  }
  return changed ? Buffer.from(lines.join('\n')) : body;
}
