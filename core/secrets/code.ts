/**
 * Telling code from data under a secret's name: a call expression or a variable names where a secret comes from, a
 * literal is the secret. Python and JavaScript are read in scripts, YAML in configs: the same `"password": x` is a
 * variable in a dict and a value in a YAML flow mapping.
 */

/** A call's callee opening a value (`get_tok(`, `dbutils.secrets.get(`, `await vault.read(`, `new Client(`). */
const CALL_OPEN = /^(?:(?:await|new)[ \t]+)?\$?[A-Za-z_][\w$]*(?:\.\$?[A-Za-z_][\w$]*)*\(/;
/** How far a call's arguments are read for its closing parenthesis (an unclosed one on a long line is no call). */
const CALL_LIMIT = 2000;

/**
 * Where the call expression opening `text` at `at` ends (the index after its closing parenthesis), or -1 when no call
 * opens there or it is not closed within CALL_LIMIT characters (cut: what follows is unknown). Quotes are skipped, so a
 * parenthesis inside a string literal (`get("a)")`) does not close it.
 *
 * @example
 * callEnd('token = get_tok() + x', 8) // 17
 * callEnd('token = hunter2', 8) // -1
 */
export function callEnd(text: string, at: number): number {
  const open = CALL_OPEN.exec(text.slice(at, at + 300));
  if (!open) return -1;
  let depth = 0;
  const end = Math.min(text.length, at + CALL_LIMIT);
  for (let i = at + open[0].length - 1; i < end; i++) {
    const c = text[i];
    if (c === '"' || c === "'" || c === '`') {
      const close = skipString(text, i, end);
      if (close < 0) return -1;
      i = close;
    } else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return c === ')' ? i + 1 : -1;
    }
  }
  return -1;
}
/** The index of the quote closing the string literal opened at `at`, or -1 (a line break ends a '…' or "…" literal). */
function skipString(text: string, at: number, end: number): number {
  const q = text[at];
  for (let i = at + 1; i < end; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === q) return i;
    else if (c === '\n' && q !== '`') return -1;
  }
  return -1;
}

/** Python statements that end in ':' before an expression (`lambda: {…}`, `else: {…}`): no YAML key. */
const PY_COLON_KEYWORD = /^(?:lambda|else|try|finally)$/;
/** A YAML key (unquoted) and ':' ending what precedes a flow mapping (`creds: {`, `- db: {`). */
const YAML_KEY_BEFORE = /(?:^|[\s-])([A-Za-z_][\w.-]*)[ \t]*:$/;

/**
 * Where the line holding `at` starts, looked for `max` characters back at most (then `at - max`). Read backwards from
 * `at`, not with lastIndexOf('\n'): on one long line that reads back to the text's start for every key, quadratic.
 */
export function lineStartWithin(text: string, at: number, max: number): number {
  const stop = Math.max(0, at - max);
  for (let i = at - 1; i >= stop; i--) if (text.charCodeAt(i) === 10) return i + 1;
  return stop;
}

/**
 * Whether the key at `keyAt` sits in a YAML flow mapping (`creds: {"password": hunter2}`, `- {"token": x}`, a line
 * that is `{"password": x}`), not in a Python or JavaScript dict (`d = {"token": tok}`, `post(u, json={"token": tok})`):
 * told by what precedes the outermost `{` open on the key's line — a YAML key and ':', a list item's '-', nothing.
 * False when no '{' is open on the line before the key (a dict written one item a line: its opening line decides,
 * and a variable is assumed, as before).
 */
export function inYamlFlowMapping(text: string, keyAt: number): boolean {
  const line = text.slice(lineStartWithin(text, keyAt, 1000), keyAt);
  const opens: number[] = [];
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"' || c === "'") {
      const close = skipString(line, i, line.length);
      if (close < 0) break;
      i = close;
    } else if (c === '{') opens.push(i);
    else if (c === '}') opens.pop();
  }
  if (opens.length === 0) return false;
  const before = line.slice(0, opens[0]).trimEnd();
  if (before === '' || /^[ \t]*-$/.test(before)) return true;
  const key = YAML_KEY_BEFORE.exec(before);
  return key !== null && !PY_COLON_KEYWORD.test(key[1]!) && !/\blambda\b/.test(before);
}

/** A name (quoted or not) given a call after ':' or '=' (`token = get_tok(`, `"token": cfg.get(`): group 2 the name, 3 the callee. */
const NAMED_CALL = /(?<![\w.])()(["']?)([A-Za-z_][\w.-]*)\2[ \t]*(?::|=(?!=))[ \t]*((?:(?:await|new)[ \t]+)?\$?[A-Za-z_][\w$]*(?:\.\$?[A-Za-z_][\w$]*)*)\(/g;
/** Callees whose arguments after the first are a fallback value (`cfg.get("token", "x")`, `d.pop("k", "x")`). */
const DEFAULT_TAKING = /(?:^|\.)(?:get|getenv|pop|setdefault)$/;
/** A secret store's read, all of whose arguments name the secret (Databricks' `dbutils.secrets.get("scope", "key")`). */
const SECRET_STORE_READ = /(?:^|\.)secrets\.get$/;
/**
 * Callees that hold or convert the value given them, not look one up (pydantic's `SecretStr("…")`, `str("…")`,
 * `bytes("…", "utf-8")`, `base64.b64decode("…")`, `decrypt("…")`, `Secret(value="…")`): under a secret's name their
 * first argument (or `value=`) is the secret itself, whatever its shape, and is hidden.
 */
const WRAPS_VALUE = /(?:^|\.)(?:SecretStr|SecretBytes|Secret|SecretString|str|bytes|bytearray|String|from|b64decode|urlsafe_b64decode|standard_b64decode|a2b_base64|unhexlify|fromhex|decode|encode|decrypt|strip|trim)$/;
/** A string literal, its optional prefix, quote and text. */
const STRING_LITERAL = /([rRbBuU]{0,2})(["'])((?:(?!\2)[^\\\n]|\\.)*)\2/y;

/**
 * Text with the literals hidden in the calls given to a secret's name (`token = get_tok(…)`, `"api_key": cfg.get(…)`):
 * a literal that reads as a credential (`get_tok("hf_…")`, by `isCredential`) and a fallback value (`cfg.get("token",
 * "x")`, `default="x"`, the arguments after the first of a `get` / `getenv` / `pop` / `setdefault`). The call stays, its
 * names too (`dbutils.secrets.get(scope="s", key="k")`): the assignment rules then keep it whole (callEnd).
 * `os.getenv` / `os.environ.get` are the lookup rules' (a default hides the lookup whole). The same string when nothing is.
 */
export function redactCallLiterals(text: string, isSecret: (name: string) => boolean, isCredential: (word: string) => boolean): string {
  if (!text.includes('(')) return text;
  let out = text;
  const spans: Array<[number, number, string]> = [];
  for (const m of text.matchAll(NAMED_CALL)) {
    const callee = m[4]!;
    if (/^os\.(?:getenv|environ\.get)$/.test(callee) || !isSecret(m[3]!.replace(/-/g, '_'))) continue;
    const at = m.index + m[0].length - callee.length - 1;
    const end = callEnd(text, at);
    if (end < 0) continue;
    const name = callee.replace(/^(?:await|new)[ \t]+/, '');
    spans.push([at + callee.length + 1, end - 1, SECRET_STORE_READ.test(name) ? '' : name]);
  }
  for (const [from, to, callee] of spans.reverse()) {
    const args = hideArgumentLiterals(text.slice(from, to), DEFAULT_TAKING.test(callee), WRAPS_VALUE.test(callee), isCredential);
    if (args !== text.slice(from, to)) out = `${out.slice(0, from)}${args}${out.slice(to)}`;
  }
  return out;
}
/**
 * A call's argument text with its credential literals (and, `defaults`, its fallback literals; `wraps`, its first or
 * `value=` literal) hidden, quotes kept.
 */
function hideArgumentLiterals(args: string, defaults: boolean, wraps: boolean, isCredential: (word: string) => boolean): string {
  let out = '';
  let depth = 0;
  let index = 0;
  let keyword = '';
  for (let i = 0; i < args.length; i++) {
    const c = args[i]!;
    STRING_LITERAL.lastIndex = i;
    const lit = c === '"' || c === "'" || /[rRbBuU]/.test(c) ? STRING_LITERAL.exec(args) : null;
    if (lit && (i === 0 || !/[\w$]/.test(args[i - 1]!))) {
      const hide = lit[3] !== '' && lit[3] !== '[redacted]' && (isCredential(lit[3]!) || (defaults && depth === 0 && ((index > 0 && keyword === '') || keyword === 'default')) || (wraps && depth === 0 && ((index === 0 && keyword === '') || keyword === 'value')));
      out += hide ? `${lit[1]}${lit[2]}[redacted]${lit[2]}` : lit[0];
      i += lit[0].length - 1;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      index++;
      keyword = '';
    } else if (c === '=' && depth === 0 && args[i + 1] !== '=') keyword = /([A-Za-z_]\w*)\s*$/.exec(args.slice(0, i))?.[1] ?? '';
    out += c;
  }
  return out;
}
