/** Python: keyword arguments, type annotations, positional credentials of known calls, env names handed a value. */
import { REDACTED } from './names.js';

/**
 * A Python keyword argument with blanks around its '=' (`Client(api_key = "x")`, one argument a line too): the
 * assignment patterns read a line's first `x = Client(api_key` as one assignment and went on after it, so the
 * keyword's literal was never read. String literals only (a name or an f-string names no value).
 */
export const KEYWORD_ARGUMENT = /([(,]\s*)([A-Za-z_]\w*)([ \t]*=(?!=)[ \t]*)([rRbBuU]{0,2})("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')/g;
/**
 * A secret's name as a string literal handed a string literal next (`os.environ.setdefault("HF_TOKEN", "x")`,
 * `os.putenv('API_TOKEN', 'x')`, `headers={"Authorization": "Bearer x"}` is SCRIPT_ASSIGNMENT's): the second is its value, unless it is a key (JSON's
 * `{"name":"HF_TOKEN","value":…}`, whose value the key rules judge).
 */
export const NAME_THEN_VALUE_ARGS = /(["'])([A-Za-z_][\w.-]*)\1([ \t]*,[ \t]*)("(?:[^"\\\n]|\\.)+"|'(?:[^'\\\n]|\\.)+')(?![ \t]*:)/g;
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
 * lone `login("hf_…")` (huggingface_hub), the third argument of DB-API `connect` of MySQL / MSSQL drivers
 * (`pymysql.connect(host, user, "pw")`, MySQLdb, mysql.connector, pymssql, mariadb) and of `ftplib.FTP(host, user,
 * "pw")`. Group 1 is what precedes the literal (kept), group 2 the literal. A URL's user-info, DSN `password=` and
 * keywords (`aws_secret_access_key="x"`) are the assignment and URL rules'.
 */
const CREDENTIAL_CALL = new RegExp(
  `(${[
    String.raw`\bauth[ \t]*=[ \t]*\(\s*${PY_ARG}${PY_SEP}`,
    String.raw`\b(?:HTTPBasicAuth|HTTPDigestAuth|HTTPProxyAuth|BasicAuth)\(\s*${PY_ARG}${PY_SEP}`,
    String.raw`\blogin\(\s*(?:${PY_ARG}${PY_SEP})?(?=${PY_STR}\s*[,)])`,
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
