/** Python: keyword arguments, type annotations, positional credentials of known calls, env names handed a value. */
import { REDACTED } from './names.js';

/**
 * A Python keyword argument with blanks around its '=' (`Client(api_key = "x")`, one argument a line too): the
 * assignment patterns read a line's first `x = Client(api_key` as one assignment and went on after it, so the
 * keyword's literal was never read. String literals only (a name or an f-string names no value). The literal may
 * follow on the next line (`dict(password=\n    "x")`: black wraps a long argument so).
 */
export const KEYWORD_ARGUMENT = /([(,]\s*)([A-Za-z_]\w*)([ \t]*=(?!=)\s*)([rRbBuU]{0,2})("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')/g;
/**
 * A secret's name as a string literal handed a string literal next (`os.environ.setdefault("HF_TOKEN", "x")`,
 * `os.putenv('API_TOKEN', 'x')`, `headers={"Authorization": "Bearer x"}` is SCRIPT_ASSIGNMENT's): the second is its value, unless it is a key (JSON's
 * `{"name":"HF_TOKEN","value":…}`, whose value the key rules judge). The arguments may be written one a line.
 */
export const NAME_THEN_VALUE_ARGS = /(["'])([A-Za-z_][\w.-]*)\1(\s*,\s*)("(?:[^"\\\n]|\\.)+"|'(?:[^'\\\n]|\\.)+')(?!\s*:)/g;
/**
 * A Python f-string literal (`f"x{a}"`, `rf'x'`): the assignment rules read it whole, prefix and quotes, or its
 * prefix was read as a word and the rest of it left after the placeholder (`[redacted]}"`).
 */
export const PY_FSTRING = String.raw`(?:[rR]?[fF]|[fF][rR])(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')`;
/**
 * An f-string of replacement fields only (`f"{tok}"`, `f"{a}{b!r}"`, `f""`): it names variables, holds no literal,
 * so no secret, and stays as written. One with literal text (`f"sk-{x}"`, `f"{{x}}"`) is a literal's.
 */
export const PY_FSTRING_OF_NAMES_SOURCE = String.raw`(?:[rR]?[fF]|[fF][rR])(?:"(?:\{[^{}"\n]*\})*"|'(?:\{[^{}'\n]*\})*')`;
export const PY_FSTRING_OF_NAMES = new RegExp(`^${PY_FSTRING_OF_NAMES_SOURCE}$`);
/** A JavaScript template literal on one line (`` `Bearer ${t}` ``): read whole, or its backquote was read as a word's. */
export const JS_TEMPLATE = String.raw`\`(?:[^\`\\\n]|\\.)*\``;
/** An auth scheme opening a template's text (`Bearer `): which kind of credential, not what. */
const TEMPLATE_SCHEME = /^[ \t]*(?:Bearer|Basic|Token|Digest|Negotiate|ApiKey)(?=[ \t]|$)/i;
/**
 * A template whose only variable part is its interpolations and whose text is at most an auth scheme and punctuation:
 * a JavaScript template literal (`` `${t}` ``, `` `Bearer ${t}` ``, `` `${user}:${pass}` ``) or a Python f-string
 * (`f"{tok}"`, `f"Bearer {tok}"`). It names variables and holds no literal, so no secret, and stays as written; one
 * with literal text (`` `Bearer abc123…` ``, `f"sk-{x}"`, `f"{{x}}"`: braces doubled are text) is a literal's. An
 * interpolation holding braces (`${f({a})}`) is not read apart: the template is a literal's then.
 *
 * @example
 * isTemplateOfNames('`Bearer ${t}`') // true
 * isTemplateOfNames('f"Bearer abc123"') // false
 */
export function isTemplateOfNames(value: string): boolean {
  let body: string;
  if (value.length >= 2 && value[0] === '`' && value.endsWith('`')) body = value.slice(1, -1).replace(/\$\{([^{}`]*)\}/g, (all, e: string) => (namesOnly(e) ? '' : all));
  else {
    const m = /^(?:[rR]?[fF]|[fF][rR])(["'])([^]*)\1$/.exec(value);
    if (!m) return false;
    body = m[2]!.replace(/\{\{|\}\}/g, 'x').replace(/\{([^{}]*)\}/g, (all, e: string) => (namesOnly(e) ? '' : all));
  }
  return !/[A-Za-z0-9]/.test(body.replace(TEMPLATE_SCHEME, ''));
}
/**
 * Whether an interpolation's expression names values only: a string literal in it is a literal's text
 * (`` `${"s3cr3t"}` ``, `f"{'sk-…'}"`, `${t || "x"}`) unless it is a lookup's key or a call's argument
 * (`f"{cfg['token']}"`, `${env("TOKEN")}`), which name where the secret is.
 */
export function namesOnly(expr: string): boolean {
  return !/["'`]/.test(expr.replace(/[[(][ \t]*(?:"[^"\\\n]*"|'[^'\\\n]*')[ \t]*[\])]/g, ''));
}
/**
 * A Python name as a value (`tok`, `self.token`, `cfg.api_key`): a variable, no literal. A quoted key given one in a
 * dict (`{"token": tok}`) names where the secret is, not what.
 */
export const PY_NAME_VALUE = /^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$/;
/** An environment variable's name as written (`HF_TOKEN`): a lower-case `"token"` there is a message's word. */
export const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;
/** A credential header's name, as a key of a script's headers (`"Authorization": "Bearer x"`). */
export const AUTH_HEADER_NAME = /^(?:proxy-)?authorization$/i;
/** A Python type of a string-like value, alone or in a union (`str`, `Optional[str]`, `SecretStr | None`). */
const PY_TYPE = String.raw`(?:typing\.|t\.|pydantic\.)?(?:str|bytes|Any|SecretStr|SecretBytes|None|(?:Optional|Union|Annotated)\[[\w.[\], |]*\])`;
/**
 * A type annotation ending a parameter (`def f(password: str, …)`, `token: Optional[str])`): the name is typed, no
 * value is given, so nothing is hidden. Followed by `,` or `)` only: a YAML value (`password: str`) stays a value.
 */
export const PY_TYPE_ONLY = new RegExp(String.raw`^${PY_TYPE}(?:[ \t]*\|[ \t]*${PY_TYPE})*[ \t]*[,)]`);
/** What follows a Python annotation's type (`api_key: str = "x"`): the type is no header's value. */
export const ANNOTATION_END = /^(?:\[[^\]\n=]*\])?(?:[ \t]*\|[ \t]*[A-Za-z_][\w.]*)*[ \t]*=(?!=)/;
/**
 * A Python string literal (`"x"`, `'x'`, `r"x"`, triple-quoted; not an f-string, whose braces name a variable). A
 * triple-quoted one ends at the first closing triple quote: a longer try over later ones was quadratic.
 */
const PY_STR = String.raw`(?<![\w])[rRuUbB]?(?:"""(?:[^"]|"(?!""))*"""|'''(?:[^']|'(?!''))*'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')`;
/** An argument before the credential: a literal, a name, `os.environ["U"]`, `os.getenv("U")`. */
const PY_ARG = String.raw`(?:${PY_STR}|[A-Za-z_][\w.]*(?:\[[^\]\n]*\]|\([^()\n]*\))?)`;
/** Arguments may be written one a line (`connect(\n    "db",\n    "user",\n    "pw")`). */
const PY_SEP = String.raw`\s*,\s*`;
/**
 * Calls handing a password or token as a positional string literal, where the position is the credential by the
 * library's signature: `auth=("user", "pw")` (requests, httpx), `HTTPBasicAuth("u", "pw")` / `HTTPDigestAuth`,
 * `HTTPProxyAuth`, aiohttp's `BasicAuth`, `login(user, "pw")` (smtplib, imaplib, ftplib, poplib-like clients) and a
 * lone `login("hf_…")` (huggingface_hub), the `key=` of W&B's `wandb.login(key="…")`, the third argument of DB-API `connect` of MySQL / MSSQL drivers
 * (`pymysql.connect(host, user, "pw")`, MySQLdb, mysql.connector, pymssql, mariadb) and of `ftplib.FTP(host, user,
 * "pw")`. Group 1 is what precedes the literal (kept), group 2 the literal. A URL's user-info, DSN `password=` and
 * keywords (`aws_secret_access_key="x"`) are the assignment and URL rules'.
 */
const CREDENTIAL_CALL = new RegExp(
  `(${[
    String.raw`\bauth[ \t]*=[ \t]*\(\s*${PY_ARG}${PY_SEP}`,
    String.raw`\b(?:HTTPBasicAuth|HTTPDigestAuth|HTTPProxyAuth|BasicAuth)\(\s*${PY_ARG}${PY_SEP}`,
    String.raw`\blogin\(\s*(?:${PY_ARG}${PY_SEP})?(?=${PY_STR}\s*[,)])`,
    // W&B's `wandb.login(key="…")` (and `relogin=True, key=…`): its `key` is the API key.
    String.raw`\blogin\((?:[^()\n]*?,\s*)?key[ \t]*=[ \t]*`,
    String.raw`\b(?:pymysql|MySQLdb|mysql\.connector|pymssql|mariadb)\.connect\(\s*${PY_ARG}${PY_SEP}${PY_ARG}${PY_SEP}`,
    String.raw`\bFTP(?:_TLS)?\(\s*${PY_ARG}${PY_SEP}${PY_ARG}${PY_SEP}`,
  ].join('|')})(${PY_STR})`,
  'g',
);
/** Cheap test for CREDENTIAL_CALL. */
const CREDENTIAL_CALL_HINT = /\bauth[ \t]*=|login\(|Auth\(|\.connect\(|FTP/;
/** Text with the credential literal of CREDENTIAL_CALL's calls hidden, its quotes kept. */
export function redactCredentialCalls(text: string): string {
  if (!CREDENTIAL_CALL_HINT.test(text)) return text;
  return text.replace(CREDENTIAL_CALL, (all, head: string, literal: string) => {
    const open = literal.search(/["']/);
    const q = literal[open]!;
    if (literal.slice(open + 1, -1) === REDACTED || literal.length - open <= 2) return all;
    return `${head}${literal.slice(0, open)}${q}${REDACTED}${q}`;
  });
}

/**
 * A lower-case secret name as a string literal paired with a literal value: a two-item tuple (`("password", "x")`,
 * one item a line too, in a list of settings) or the arguments of a setter (`cfg.set("token", "x")`, `setdefault`,
 * `putenv`; MLflow's `mlflow.log_param("hf_token", "x")`, `set_tag`, a client's `set_tag(run_id, "api_key", "x")`, up to three
 * arguments before the pair: a run's params and tags are kept by the tracking server and shown to whoever reads the run). Group 1 is what precedes the name (kept), 2 its quote, 3 the name, 4 the separator, 5 the value. A tuple
 * is told from a call by what precedes its '(' (no name: `print("token", "x")` is a message's words) and by its ')'.
 */
export const LITERAL_PAIR = /((?:^|[^\w\s.)\]'"])\s*\(\s*|\b(?:set|setdefault|putenv|setenv)\(\s*|\b(?:log_param|set_tag|set_experiment_tag|set_registered_model_tag|set_model_version_tag|set_logged_model_tags?|logParam|setTag)\(\s*(?:[^()\n,]+,\s*){0,3})(["'])([A-Za-z_][\w.-]*)\2(\s*,\s*)("(?:[^"\\\n]|\\.)+"|'(?:[^'\\\n]|\\.)+')(?=\s*\))/gm;

/** A type in an annotation, its brackets nested three deep (`Dict[str, List[Tuple[str, str]]]`), read for 200 characters at most. */
const PY_ANNOTATION_TYPE = String.raw`[A-Za-z_][\w.]*(?:\[(?:[^[\]\n=]|\[(?:[^[\]\n=]|\[[^[\]\n=]*\])*\]){0,200}\])?`;
/** A Python annotation with its '=' (`str =`, `Dict[str, str] =`, `Optional[str] | None =`), at a value's start. */
export const PY_ANNOTATION = new RegExp(String.raw`^${PY_ANNOTATION_TYPE}(?:[ \t]*\|[ \t]*${PY_ANNOTATION_TYPE})*[ \t]*=(?!=)`);
/**
 * A secret-named name given a Python container (`token: Dict[str, str] = {`, `API_KEYS: List[str] = [`, `creds =
 * dict(`, `password = (`), annotated or not. Group 1 what precedes the name, 2 the name, 3 up to the container's opening.
 */
const PY_CONTAINER_ASSIGNMENT = new RegExp(String.raw`(^|[\s;,("'])([A-Za-z_][\w.]*)((?:[ \t]*:[ \t]*${PY_ANNOTATION_TYPE}(?:[ \t]*\|[ \t]*${PY_ANNOTATION_TYPE})*)?[ \t]*=(?!=)[ \t]*(?:dict\(|[{([]))`, 'g');
/** A string literal's start, an f-string's too (its prefix is group 1, its quote 2), a comment, or a bracket. */
const PY_TOKEN = /([rRbBuUfF]{0,2})("""|'''|"|')|#[^\n]*|[()[\]{}]/g;
/** Keys whose value names where or who, not a secret (`{"user": "svc", "host": "db", "password": "x"}`): kept. */
const NOT_SECRET_KEY = /^(?:user(?:name)?|login|host(?:name)?|port|url|uri|endpoint|region|database|db|schema|namespace|kind|name|type)$|(?:name|ref|file|path|dir|arn)$/i;
/** How far a container is read for its end: a longer one is read to there (its literals hidden as far as read). */
const CONTAINER_LIMIT = 64 * 1024;

/**
 * Text with the string literals inside a container given to a secret's name (PY_CONTAINER_ASSIGNMENT) hidden, quotes
 * kept, over lines up to the container's end: the one-value rules read no dict, tuple or call. Dict keys, f-strings
 * (a variable's name), the name an environment lookup reads (`os.environ["X"]`, `os.getenv("X")`), empty literals
 * and the values of keys naming where or who (NOT_SECRET_KEY) stay. `isSecret` judges the name.
 *
 * @example
 * redactPythonContainers('token: Dict[str, str] = {"hf": "x"}', isSecretKey) // 'token: Dict[str, str] = {"hf": "[redacted]"}'
 */
export function redactPythonContainers(text: string, isSecret: (name: string) => boolean): string {
  if (!CONTAINER_HINT.test(text)) return text;
  let out = '';
  let done = 0;
  for (const m of text.matchAll(PY_CONTAINER_ASSIGNMENT)) {
    const open = m.index + m[0].length;
    // A list without an annotation is hidden whole by the list rules (FLOW_LIST, MULTI_LINE_LIST).
    if (m.index < done || (text[open - 1] === '[' && !m[3]!.includes(':')) || !isSecret(m[2]!)) continue;
    const hidden = hideContainerLiterals(text, open);
    if (hidden === undefined) continue;
    out += text.slice(done, open) + hidden.text;
    done = hidden.end;
  }
  return done === 0 ? text : out + text.slice(done);
}
/** Cheap test for PY_CONTAINER_ASSIGNMENT. */
const CONTAINER_HINT = /=[ \t]*(?:dict\(|[{([])/;
/** The container opened just before `open` with its value literals hidden, and where it ends; undefined when none was. */
function hideContainerLiterals(text: string, open: number): { text: string; end: number } | undefined {
  const limit = Math.min(text.length, open + CONTAINER_LIMIT);
  const token = new RegExp(PY_TOKEN.source, 'g');
  token.lastIndex = open;
  let depth = 1;
  let out = '';
  let from = open;
  let changed = false;
  let closed = -1;
  for (let t = token.exec(text); t && t.index < limit; t = token.exec(text)) {
    if (t[2] === undefined) {
      const c = t[0];
      if (c === '(' || c === '[' || c === '{') depth++;
      else if ((c === ')' || c === ']' || c === '}') && --depth === 0) {
        closed = t.index + 1;
        break;
      }
      continue;
    }
    // A string literal: up to its closing quote (a one-quote string ends at its line's end if unclosed).
    const q = t[2];
    const start = t.index + t[0].length;
    let end = start;
    if (q.length === 3) {
      end = text.indexOf(q, start);
      if (end < 0) end = text.length;
    } else {
      while (end < text.length && text[end] !== q && text[end] !== '\n') end += text[end] === '\\' ? 2 : 1;
      end = Math.min(end, text.length);
    }
    const close = text.startsWith(q, end) ? q : '';
    token.lastIndex = end + close.length;
    const body = text.slice(start, end);
    if (body === '' || body === REDACTED || /[fF]/.test(t[1]!) || !mayBeSecretAt(text, t.index, end + close.length)) continue;
    out += `${text.slice(from, start)}${REDACTED}`;
    from = end;
    changed = true;
  }
  const end = closed < 0 ? Math.max(limit, from) : closed;
  return changed ? { text: out + text.slice(from, end), end } : undefined;
}
/** Whether the literal at [at, end) is a value that may be a secret: no dict key, no environment lookup's name, no NOT_SECRET_KEY's value. */
function mayBeSecretAt(text: string, at: number, end: number): boolean {
  if (/^\s*:(?!=)/.test(text.slice(end, end + 40))) return false;
  const before = text.slice(Math.max(0, at - 120), at);
  if (/(?:environ\[|getenv\(|environ\.get\()\s*$/.test(before)) return false;
  const key = /(?:(["'])([A-Za-z_][\w.-]*)\1\s*:|\b([A-Za-z_]\w*)\s*=)\s*$/.exec(before);
  return !(key && NOT_SECRET_KEY.test(key[2] ?? key[3]!));
}
