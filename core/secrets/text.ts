/** One-line text (messages, sh -c strings, args): headers, flags, assignments, one-line lists, PEM keys. */
import { holdsSecret, isSecretAtNoPlace, locatesKey, isSecretKey, isUnsetValue, KEY_KINDS, REDACTED, SECRET_NAME } from './names.js';
import { redactConfigSetters } from './setters.js';
import { redactUrlUserinfo } from './urls.js';
import { FLAG_IN_TEXT, hideUserPassword, isSecretFlag, PASS_FLAG, USER_PASSWORD_FLAGS } from './flags.js';
import { redactCommandFlags } from './commands.js';
import { ANNOTATION_END, isTemplateOfNames, KEYWORD_ARGUMENT, LITERAL_PAIR, namesOnly, PY_ANNOTATION, PY_TYPE_ONLY, redactCredentialCalls, redactPythonContainers } from './python.js';
import { YAML_BLOCK_INDICATOR, YAML_LINE_END, YAML_PROPERTY } from './yaml-lines.js';
import { callEnd, inYamlFlowMapping, lineStartWithin } from './code.js';
import { redactAssignedExpressions } from './expressions.js';
import { redactKaggleCredentials } from './kaggle.js';

/**
 * A credential header in a command line or message (`curl -H 'Authorization: Bearer x'`, `X-Api-Key: x`,
 * `PRIVATE-TOKEN: x`), or a secret-named key given a quoted value in a message (`token: "x"`, `password: 'x'`: the
 * quotes are the text's own when the closing one ends a word): the header's name, an auth scheme and the quotes stay. Its name is Authorization or a secret's.
 * A shell's escaped blank (`-H Authorization:Bearer\ x`, unquoted) separates as a blank does, and the header may be glued
 * to curl's `-H` (`-HAuthorization:Bearer x`). A YAML anchor
 * or tag before the value (`password: &pw x`, `token: !!str x`) stays as a scheme does; alone at a line's end it is
 * YAML's, whose value is on the lines under it (redactYamlValuesUnder).
 */
const HEADER_IN_TEXT = /(^|[\s"'`{,=]|(?<=\\)[nrt]|(?<=(?:^|[\s"'])-H))([A-Za-z][\w-]*)([ \t]*:(?:[ \t]|\\+t|\\[ \t])*)((?:(?:Bearer|Basic|Token|Digest|Negotiate|ApiKey)(?:[ \t]|\\[ \t])+|[&!][^\s"'\\]*[ \t]+(?=[^\s#]))?)(?!\{(?:\{|[\w.-]*:?(?:[ \t]|$))|[A-Za-z][\w-]*:[ \t])(\\+["'](?:[^"'\\\n]|\\(?!\\*["'n]))*(?:\\+["'])?|"(?:[^"\\\n]|\\[^\n])*"(?=$|[\s,;)}\].`])|`(?:[^`\\\n]|\\.)*`(?=$|[\s,;)}\].'"])|\$\([^()\n]*\)(?=$|[\s,;)}\]'"])|\$\{[^{}`\n]*\}(?=$|[\s,;)}\]'"`])|'[^'\n]*'(?=$|[\s,;)}\].`])|(?:[^\s"'\\#]|\\(?!\\*[n"']))(?:[^\s"'\\]|\\(?!\\*n))*)/gi;
const TRAILING_BACKSLASHES = /\\+$/;
/** A separator glued to a value (`token: null, user: x`): an unset value so is still unset. */
const UNSET_THEN_SEPARATOR = /[,;]$/;
/** A secret-named key whose value is a word ending in ':' (`password: foo: bar`), which HEADER_IN_TEXT reads as a key. */
const KEY_CHAIN = /(^|[\s"'{,])([A-Za-z][\w-]*)([ \t]*:[ \t]+)([A-Za-z][\w-]*:)(?=[ \t])/g;
const KEY_CHAIN_HINT = /:[ \t]+[A-Za-z][\w-]*:[ \t]/;
/** A value quoted in the text itself (`token: "x"` in a message), its closing quote in the match. */
const QUOTED = /^(["'])[^]*\1$/;
// A flow mapping or template opening the value (`credentials: {secretName: x}`, `{ user: a, password: b}`, Helm's
// `{{ .Values.token }}`) is no value: not matched, so its keys are read one by one (a key after '{' or ',').
const FLOW_MAPPING_OPEN = /\{[^{}\n]*$/;
const isCredentialHeader = (name: string) => /^(?:proxy-)?authorization$/i.test(name) || isSecretKey(name.replace(/-/g, '_'));
/**
 * `NAME=value`; a quoted value may carry a Python string prefix (`password=r"x"`: a keyword argument), an f-string's
 * too (`token=f"{tok}"` names a variable and stays; read as a word, its prefix alone was hidden and the rest shown).
 */
const ASSIGNMENT_IN_TEXT = /(^|[\s;&|(=,?"'`])((?:export[ \t]+)?[A-Za-z_][\w.-]*)=(os\.environ\[[^\][\n]*\]|os\.(?:environ\.get|getenv)\([^()\n]*\)|\$\([^()]*\)|`(?:[^`\\\n]|\\.)*`|[rRbBuUfF]{0,2}"[^"]*"|[rRbBuUfF]{0,2}'[^']*'|[^\s"';&|)]+)/g;

/**
 * The string with the values of secret-named flags (`--password=x`, `--token x`) and shell assignments
 * (`AWS_SECRET_ACCESS_KEY=x`) in it, URL user-info, and a credential passed positionally to a known call
 * (CREDENTIAL_CALL: `auth=("u", "pw")`, `.login(u, "pw")`) replaced by `[redacted]`; the same string (===) when nothing is.
 *
 * @example
 * redactSecretText('python train.py --api-key abc --epochs 3') // 'python train.py --api-key [redacted] --epochs 3'
 */
export function redactSecretText(s: string): string {
  return redactSecretTextAfter(s, undefined);
}
/**
 * redactSecretText of text that follows `command` (an argument of a command line): its flags are judged by it. `code`:
 * the text is a script's (redactScriptText), where a keyword argument's bare name is a variable (`dict(token=tok)`); in
 * a message it may be a value printed by a JVM `toString` (Lombok's, Kotlin's `Config(user=bob, password=hunter2)`).
 */
export function redactSecretTextAfter(s: string, command: string | undefined, code = false): string {
  let url = redactKaggleCredentials(redactUrlUserinfo(redactPemPrivateKeys(s)));
  if (FLOW_LIST_HINT.test(url) && SECRET_NAME.test(url)) url = url.replace(FLOW_LIST, (all, pre: string, q: string, name: string, sep: string, items: string) =>
    items.trim() !== '' && items !== 'redacted' && holdsSecret(name, items) && !REFERENCE_LIST.test(items) ? `${pre}${q}${name}${q}${sep}${REDACTED}` : all);
  if (url.includes(':')) {
    url = url.replace(HEADER_IN_TEXT, (all, pre: string, name: string, sep: string, scheme: string, matched: string, at: number, text: string) => {
      // Python's walrus (`password := "x"`) is an assignment, not a key: `=` is no value (the assignment rules read it).
      if (!isCredentialHeader(name) || (sep.endsWith(':') && matched.startsWith('='))) return all;
      // A key inside a flow mapping (a '{' open before it on its line): its value ends at the next ',' or '}'.
      const end = !QUOTED.test(matched) && !/^`[^]*`$/.test(matched) && (pre === '{' || FLOW_MAPPING_OPEN.test(text.slice(Math.max(0, at - 200), at))) ? matched.search(/[,}]/) : -1;
      if (end === 0) return all;
      let whole = end > 0 ? matched.slice(0, end) : matched;
      let after = end > 0 ? matched.slice(end) : '';
      // Inside a template literal (``log.info(`token: abc123`)``): its closing backquote ends the value, and an
      // interpolation alone (`` `token: ${tok}` ``) names a variable.
      if (whole[0] !== '`' && inTemplateLiteral(text, at + pre.length)) {
        const bq = whole.indexOf('`');
        if (bq === 0) return all;
        if (bq > 0) {
          after = whole.slice(bq) + after;
          whole = whole.slice(0, bq);
        }
        if (isInterpolation(whole)) return all;
      }
      // The backslashes of a deeper string's closing quote (`password: x\\"}` in escaped JSON) are no part of the value.
      const slashes = /[^\\]\\+$/.test(whole) && /^["']/.test(text.slice(at + all.length, at + all.length + 1)) ? TRAILING_BACKSLASHES.exec(whole)![0] : '';
      const value = whole.slice(0, whole.length - slashes.length);
      // A call given to the name (`{token: getToken()}` in JavaScript, `token: get_tok()`): where the secret comes from.
      if (isCallValue(text, at + all.length - matched.length, value)) return all;
      // A template literal (`` Authorization: `Bearer ${t}` ``): kept when it holds no literal text, else hidden inside
      // its backquotes, a scheme kept (it was read as a word, `[redacted] ${t}\``).
      if (value.length > 1 && value[0] === '`' && value.endsWith('`')) {
        if (isTemplateOfNames(value)) return all;
        const inner = value.slice(1, -1);
        const head = /^(?:Bearer|Basic|Token|Digest|Negotiate|ApiKey)[ \t]+/i.exec(inner)?.[0] ?? '';
        return inner.slice(head.length) === REDACTED || isUnsetValue(value) ? all : `${pre}${name}${sep}${scheme}\`${head}${REDACTED}\`${slashes}${after}`;
      }
      return value !== REDACTED && !isUnsetValue(value) && !locatesKey(name, value) && !isUnsetValue(value.replace(UNSET_THEN_SEPARATOR, '')) && !YAML_BLOCK_INDICATOR.test(value) && !(YAML_PROPERTY.test(value) && YAML_LINE_END.test(text.slice(at + all.length, at + all.length + 2))) && !ANNOTATION_END.test(text.slice(at + all.length, at + all.length + 40)) && !PY_ANNOTATION.test(text.slice(at + all.length - matched.length, at + all.length - matched.length + 1000)) && !PY_TYPE_ONLY.test(value + text.slice(at + all.length, at + all.length + 80)) && !(value.startsWith('[{') && isReferenceListAt(text, at + all.length - value.length)) ? `${pre}${name}${sep}${scheme}${hideKeepingEscapedQuotes(value)}${slashes}${after}` : all;
    });
    // A cookie header (`curl -H "Cookie: session=x; csrf=y"`): its value is the session, up to the quote or the line's end.
    if (COOKIE_HINT.test(url)) url = url.replace(COOKIE_IN_TEXT, (all, pre: string, name: string, sep: string, value: string) => (value.trim() === '' || value === REDACTED ? all : `${pre}${name}${sep}${REDACTED}`));
    // A quoted key (a dict or JSON object in a message: `{"password": "x"}`, `{'api_key': 'x'}`): HEADER_IN_TEXT reads no quoted key.
    if (QUOTED_KEY_HINT.test(url)) url = url.replace(QUOTED_KEY_PAIR, hideQuotedKeyValue).replace(QUOTED_KEY_WORD, hideQuotedKeyWord);
    // A key given what reads as a key (`password: foo: bar`): no key of HEADER_IN_TEXT's, which reads keys in a chain
    // (`log: token: "x"`), but a secret-named key's value all the same.
    if (KEY_CHAIN_HINT.test(url)) url = url.replace(KEY_CHAIN, (all, pre: string, name: string, sep: string, word: string) => (isCredentialHeader(name) && !isCredentialHeader(word.slice(0, -1)) ? `${pre}${name}${sep}${REDACTED}:` : all));
    url = url.replace(FLAG_IN_TEXT, (all, pre: string, flag: string, sep: string, value: string) => {
      const hidden = USER_PASSWORD_FLAGS.has(flag) ? hideUserPassword(value) : undefined;
      return hidden === undefined ? all : `${pre}${flag}${sep}${hidden}`;
    });
  }
  // A credential header set by assignment (`headers["Authorization"] = "Bearer x"`, `headers.Authorization = `…``):
  // no key of HEADER_IN_TEXT's; the scheme and quotes stay, a template of interpolations stays whole.
  if (AUTH_ASSIGNED_HINT.test(url)) url = url.replace(AUTH_ASSIGNED, (all, head: string, _keyQuote: string | undefined, q: string, scheme: string | undefined, value: string) =>
    value === '' || value === REDACTED || isTemplateOfNames(`${q}${scheme ?? ''}${value}${q}`) ? all : `${head}${q}${scheme ?? ''}${REDACTED}${q}`);
  url = redactConfigSetters(redactCredentialCalls(redactCommandFlags(url, command)));
  // Cheap test first: nothing more to hide without a secret's name in it.
  if (!SECRET_NAME.test(url) && !PASS_FLAG.test(url) && !DASHED_SECRET_NAME.test(url)) return url === s ? s : url;
  url = redactAfterKeptValue(url);
  // A container given to a secret's name in one line of Python (`python -c 'token = {"hf": "x"}'`).
  url = redactPythonContainers(url, isSecretKey);
  // A setter's or a tuple's pair in one line (`python -c 'spark.conf.set("fs.s3a.secret.key", "x")'`), as in a script.
  if (url.includes('(')) url = url.replace(LITERAL_PAIR, (all, pre: string, q: string, name: string, sep: string, value: string) =>
    isSecretKey(name) && value.slice(1, -1) !== REDACTED && !/\s/.test(value) && !isUnsetValue(value) ? `${pre}${q}${name}${q}${sep}${value[0]}${REDACTED}${value[0]}` : all);
  const kwargs = url.includes('=') ? url.replace(KEYWORD_ARGUMENT, (all, pre: string, name: string, sep: string, prefix: string, literal: string) =>
    literal.slice(1, -1) !== REDACTED && literal.length > 2 && holdsSecret(name, literal) ? `${pre}${name}${sep}${prefix}${literal[0]}${REDACTED}${literal[0]}` : all) : url;
  const flags = kwargs.replace(FLAG_IN_TEXT, (all, pre: string, flag: string, sep: string, value: string) => (!isUnsetValue(value) && ((isSecretFlag(flag) && !locatesKey(flag, value)) || isSecretAtNoPlace(flag.replace(/^-+/, ''), value)) ? `${pre}${flag}${sep}${REDACTED}` : all));
  // An Azure SAS in a connection string (`…;SharedAccessSignature=sv=…&sig=…`): its '&' would end an assignment's value.
  const sas = /SharedAccessSignature=/i.test(flags) ? flags.replace(SAS_IN_TEXT, (all, head: string, value: string) => (value === REDACTED ? all : `${head}${REDACTED}`)) : flags;
  // The name without `export ` (one name: `export SECRET_PORT=5432` is judged as `SECRET_PORT`).
  const out = sas.replace(ASSIGNMENT_IN_TEXT, (all, pre: string, name: string, matched: string, at: number, text: string) => {
    // Inside a template literal (`` `token=abc123` ``) its closing backquote ends the value; an interpolation alone
    // (`` `token=${tok}` ``) names a variable.
    let value = matched;
    let rest = '';
    if (value[0] !== '`' && (value.includes('`') || value.startsWith('${')) && inTemplateLiteral(text, at + pre.length)) {
      const bq = value.indexOf('`');
      if (bq >= 0) {
        rest = value.slice(bq);
        value = value.slice(0, bq);
      }
      if (value === '' || isInterpolation(value)) return all;
    }
    return holdsSecret(name.replace(EXPORT, ''), value) && !isTemplateOfNames(value) && !isCallValue(text, at + all.length - matched.length, value) && !(code && isKeywordVariable(text, at + pre.length, value)) ? `${pre}${name}=${REDACTED}${ARGUMENT_SEPARATOR.test(value) ? ',' : ''}${rest}` : all;
  });
  // The literals after the first in an expression given to a secret's name (`token = get() or "x"`, `"a" + "b"`).
  const expr = redactAssignedExpressions(redactDockerEnvLegacy(redactEchoedIniLines(out)), isCredentialWord);
  return expr === s ? s : expr;
}

const EXPORT = /^export[ \t]+/;
/** A Dockerfile's `ENV key value` (its legacy form, no '='): the value is the rest of the line. */
const DOCKER_ENV_LEGACY = /(^|\n)([ \t]*ENV[ \t]+)([A-Za-z_][\w.-]*)([ \t]+)([^\s=\\][^\r\n]*?)(?=[ \t]*\\?\r?(?:\n|$))/g;
/**
 * A Dockerfile's `ENV HF_TOKEN hf_…` (legacy form) has its value hidden by the name, as `ENV HF_TOKEN=hf_…` is: the
 * value after a blank was read as no assignment's and shown.
 */
function redactDockerEnvLegacy(text: string): string {
  if (!text.includes('ENV')) return text;
  return text.replace(DOCKER_ENV_LEGACY, (all, pre: string, head: string, name: string, sep: string, value: string) =>
    value === REDACTED || value.startsWith('$') || isUnsetValue(value) || !holdsSecret(name, value) ? all : `${pre}${head}${name}${sep}${REDACTED}`);
}
/** A quoted string echo or printf writes (`echo "…" >> ~/.aws/credentials`, `printf '[default]\\n…'`): a file's text. */
const ECHOED_STRING = /(\b(?:echo|printf)(?:[ \t]+-[neE]+)*[ \t]+)(["'])((?:(?!\2)[^\\\n]|\\.)*)\2/g;
/** An INI or properties line in it, `name = value` with blanks around '=', up to its (escaped) line end. */
const INI_LINE = /(^|\\n)([ \t]*)([A-Za-z_][\w.-]*)([ \t]+=[ \t]*|[ \t]*=[ \t]+)([^\\\s][^\\]*?)(?=[ \t]*(?:\\n|$))/g;
/**
 * The INI lines of the strings echo and printf write hidden by name (`echo "aws_secret_access_key = x" >>
 * ~/.aws/credentials`, `printf '[db]\\npassword = x\\n' > app.ini`): with blanks around its '=' the line was read as
 * code, its word a variable's name, and shown. A `$VAR` the shell expands names a variable and stays.
 */
function redactEchoedIniLines(text: string): string {
  if (!/\b(?:echo|printf)\b/.test(text) || !/[ \t]=|=[ \t]/.test(text)) return text;
  return text.replace(ECHOED_STRING, (all, head: string, q: string, body: string) => {
    const hidden = body.replace(INI_LINE, (line, pre: string, lead: string, name: string, sep: string, value: string) =>
      value === REDACTED || value.startsWith('$') || isUnsetValue(value) || !holdsSecret(name, value) ? line : `${pre}${lead}${name}${sep}${REDACTED}`);
    return hidden === body ? all : `${head}${q}${hidden}${q}`;
  });
}
/**
 * Whether `at` is inside a JavaScript template literal (or a shell's backquoted command) opened on its line: an odd
 * number of unescaped backquotes before it there, looked for 1000 characters back at most (a long line is read in
 * linear time).
 */
function inTemplateLiteral(text: string, at: number): boolean {
  const from = lineStartWithin(text, at, 1000);
  let n = 0;
  for (let i = from; i < at; i++) if (text[i] === '`' && text[i - 1] !== '\\') n++;
  return n % 2 === 1;
}
/** A template literal's interpolation alone (`${tok}`, `${cfg.token}`): a variable's value, no literal text. */
const isInterpolation = (value: string) => /^\$\{[^{}`]*\}$/.test(value) && namesOnly(value.slice(2, -1));
/** A value read on over the ',' that ends it (`f(password=x, user=y)`): the ',' is kept after the placeholder. */
const ARGUMENT_SEPARATOR = /[^,],$/;
/**
 * A cookie header's name and value in text (after a quote, blank, `=` of `--header=`, or at a line's start). A YAML
 * mapping, list, block scalar, anchor or tag opening the value (`cookie: {name: sid, secure: true}`) is settings.
 */
const COOKIE_IN_TEXT = /(^|[\s"'=])((?:set-)?cookie)([ \t]*:(?![ \t]*[{[|>&!])[ \t]*)([^\s"'\\][^"'\n\\]*)/gim;
const COOKIE_HINT = /cookie[ \t]*:/i;
/** A credential header assigned as a subscript or property (`h["Authorization"] = "Bearer x"`, `h.Authorization = 'x'`), its value one literal. */
const AUTH_ASSIGNED = /((?:\[[ \t]*(["'])(?:proxy-)?authorization\2[ \t]*\]|\.(?:proxy)?authorization\b)[ \t]*=(?!=)[ \t]*)(["'`])((?:Bearer|Basic|Token|Digest|Negotiate|ApiKey)[ \t]+)?([^"'`\n\\]*)\3/gi;
const AUTH_ASSIGNED_HINT = /authorization["'\]]*[ \t]*=/i;
/** An Azure connection string's SAS, up to the next ';', blank or quote. */
const SAS_IN_TEXT = /(\bSharedAccessSignature=)([^;"'\s]+)/gi;
/** A call expression opening a value at `at` (callEnd), not an environment lookup (a default there is hidden whole). */
function isCallValue(text: string, at: number, value: string): boolean {
  return !/^os\.(?:environ|getenv)\b/.test(value) && callEnd(text, at) >= 0;
}
/** A Python name (`tok`, `self.api_key`), maybe followed by the next argument (`tok,` : the assignment value reads on over ','). */
const KEYWORD_VARIABLE = /^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:,|$)/;
/**
 * A keyword argument given a variable (`dict(token=tok)`, `Client(api_key=self.api_key, …)`): after '(' or ',' inside
 * a call's parentheses (`Hi, DB_PASSWORD=x` is prose), a Python name, which says where the secret is; a literal (`dict(token="x")`) is KEYWORD_ARGUMENT's, a word that reads
 * as a credential (`token=hf_…`) is hidden. A shell assignment (`TOKEN=abc ./run`) has no '(' or ',' before it.
 */
export function isKeywordVariable(text: string, nameAt: number, value: string): boolean {
  const before = text.slice(Math.max(0, nameAt - 1000), nameAt).trimEnd();
  const name = KEYWORD_VARIABLE.exec(value)?.[1];
  return (before.endsWith('(') || before.endsWith(',')) && name !== undefined && !isCredentialWord(name) && !isUnsetValue(name) && insideCall(before);
}
/** Whether a '(' is left open at the end of `before` (a call's arguments go on): prose's commas are no call's. */
function insideCall(before: string): boolean {
  let depth = 0;
  for (let i = before.length - 1; i >= 0; i--) {
    const c = before[i];
    if (c === ')') depth++;
    else if (c === '(' && --depth < 0) return true;
  }
  return false;
}
/**
 * A quoted key given a plain word in a flow mapping (`creds: {"password": hunter2}`, `- {"token": x, "user": y}`): YAML's
 * value, up to the next ',' or '}'. In a Python or JavaScript dict (`d = {"token": tok}`) the word is a variable and
 * stays (inYamlFlowMapping tells them apart by what opens the mapping); a word reading as a credential is hidden in both.
 */
const QUOTED_KEY_WORD = /(^|[\s{,])(["'])([A-Za-z_][\w.-]*)\2([ \t]*:[ \t]*)([^\s"',{}[\]#&*!|>\\][^,{}[\]\n"'\\]*?)(?=[ \t]*[,}])/g;
function hideQuotedKeyWord(all: string, pre: string, q: string, name: string, sep: string, value: string, at: number, text: string): string {
  if (value === REDACTED || !holdsSecret(name.replace(/-/g, '_'), value)) return all;
  return inYamlFlowMapping(text, at + pre.length) || isCredentialWord(value) ? `${pre}${q}${name}${q}${sep}${REDACTED}` : all;
}
/**
 * A quoted key and its value, one literal or a number (`"password": "x"`, `'api_key': 'x'`, `"pin_password": 1234`):
 * a dict or JSON object printed in a message or a `python -c` string. A container value is the list and container
 * rules'; a name or a call (`"token": tok`, `os.environ[…]`) names no value.
 */
const QUOTED_KEY_PAIR = /(^|[\s{,[(])(["'])([A-Za-z_][\w.-]*)\2([ \t]*:[ \t]*)((?:[rR]?[fF]|[fF][rR])?(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|`(?:[^`\\\n]|\\.)*`|-?\d[\d.]*(?=$|[\s,;)}\]]))/g;
const QUOTED_KEY_HINT = /["'][ \t]*:/;
/** One QUOTED_KEY_PAIR: its value hidden under a secret's name (a header's keeps its scheme: `"Authorization": "Bearer [redacted]"`), quotes kept. */
function hideQuotedKeyValue(all: string, pre: string, q: string, name: string, sep: string, value: string): string {
  // An f-string or a template literal (`f"Bearer {tok}"`, `` `Bearer ${t}` ``): kept when it holds no literal text
  // (isTemplateOfNames), else hidden as a literal is, its prefix and quotes kept.
  const fp = /^(?:[rR]?[fF]|[fF][rR])(?=["'])/.exec(value)?.[0] ?? '';
  const lit = value.slice(fp.length);
  const quoted = lit[0] === '"' || lit[0] === "'" || lit[0] === '`';
  const inner = quoted ? lit.slice(1, -1) : lit;
  if (inner === '' || inner === REDACTED || isTemplateOfNames(value)) return all;
  const key = name.replace(/-/g, '_');
  if (/^(?:proxy-)?authorization$/i.test(name)) {
    const scheme = /^(?:Bearer|Basic|Token|Digest|Negotiate|ApiKey)[ \t]+/i.exec(inner)?.[0] ?? '';
    return inner.length > scheme.length && inner.slice(scheme.length) !== REDACTED ? `${pre}${q}${name}${q}${sep}${fp}${lit[0]}${scheme}${REDACTED}${lit[0]}` : all;
  }
  if (!holdsSecret(key, fp || lit[0] === '`' ? inner : value)) return all;
  return quoted ? `${pre}${q}${name}${q}${sep}${fp}${lit[0]}${REDACTED}${lit[0]}` : `${pre}${q}${name}${q}${sep}${REDACTED}`;
}

/**
 * A secret's name given a value the rules keep (an unset one, `None`, `null`, `~`, `""`, `''`; an environment lookup,
 * `os.getenv("X")`; an f-string of variables only, `f"{tok}"`, `f""`) and more after it on its line: an expression going on (`None if x else "sk-…"`, `None or "x"`,
 * `'' + 'abc'`, `null ?? "x"`, `os.getenv("K") or "x"`) or a comment (`api_key: null  # sk-…`). Group 1 what precedes
 * the name, 2 its quote, 3 the name, 4 the separator, 5 the value kept, 6 the rest of the line.
 */
const KEPT_VALUE_THEN_MORE = /(^|[\s;,({"'])(["']?)([A-Za-z_][\w.-]*)\2([ \t]*(?::|=(?!=))[ \t]*)([rRbBuU]{0,2}(?:""|'')|(?:[rR]?[fF]|[fF][rR])(?:"(?:\{[^{}"\n]*\})*"|'(?:\{[^{}'\n]*\})*')|(?:None|null|Null|NULL|~)(?![\w.~])|os\.(?:environ\[[^\][\n]*\]|(?:environ\.get|getenv)\([^()\n]*\)))([ \t]*(?:#|\/\/|\b(?:if|else|or|and)\b|\+|\|\||\?\?|\?)[^\n\r]*)/g;
/** Cheap test for KEPT_VALUE_THEN_MORE. */
const KEPT_VALUE_HINT = /(?:""|''|\}["']|None|null|Null|NULL|~|\))[ \t]*(?:#|\/\/|if\b|or\b|and\b|\+|\|\||\?)/;
/** A string literal in what follows, or the comment ending the line. */
const LITERAL_OR_COMMENT = /([rRbBuUfF]{0,2})("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|(#|\/\/)([^\n\r]*)/g;
/**
 * A word that reads as a credential whatever names it: a known service's key or token format (OpenAI / Stripe `sk-`,
 * `sk_live_`, GitHub `ghp_` / `github_pat_`, Hugging Face `hf_`, Slack `xox?-`, GitLab `glpat-`, AWS `AKIA…`, Google
 * `AIza…` / `ya29.`, a JWT), or a long random-looking word (20 or more letters and digits, both in it).
 */
const CREDENTIAL_WORD = /(?<![\w\/.:-])(?:(?:sk|pk|rk)[-_][\w-]{6,}|gh[pousr]_\w{6,}|github_pat_\w+|hf_\w{6,}|xox[abposr]-[\w-]+|glpat-[\w-]+|A[KS]IA[0-9A-Z]{12,}|AIza[\w-]{20,}|ya29\.[\w.-]+|eyJ[\w-]+\.[\w-]+(?:\.[\w-]*)?|(?=[A-Za-z_+=-]*\d)(?=[\d_+=-]*[A-Za-z])[A-Za-z0-9_+=-]{20,})(?![\w\/.:-])/g;
/** Whether a word reads as a credential whatever names it (CREDENTIAL_WORD). */
export function isCredentialWord(word: string): boolean {
  return word.replace(CREDENTIAL_WORD, '') !== word;
}
/**
 * Text with what follows a secret's kept value on its line (KEPT_VALUE_THEN_MORE) read: the string literals of an
 * expression going on are hidden (quotes kept; f-strings, a lookup's variable name, empty literals and a literal
 * compared with `==` / `!=` stay), and in a comment the words reading as a credential (CREDENTIAL_WORD): a comment
 * in words (`# unset`, `# set in CI`) stays. The unset value or lookup stays as written.
 */
function redactAfterKeptValue(text: string): string {
  if (!KEPT_VALUE_HINT.test(text)) return text;
  return text.replace(KEPT_VALUE_THEN_MORE, (all, pre: string, q: string, name: string, sep: string, value: string, rest: string) => {
    if (!isSecretKey(name.replace(/-/g, '_'))) return all;
    const hidden = rest.replace(LITERAL_OR_COMMENT, (lit: string, prefix: string | undefined, body: string | undefined, _c: string | undefined, comment: string | undefined, at: number) => {
      if (comment !== undefined) return lit.replace(CREDENTIAL_WORD, REDACTED);
      if (/[fF]/.test(prefix!) || body!.length <= 2 || body!.slice(1, -1) === REDACTED) return lit;
      const before = rest.slice(Math.max(0, at - 40), at);
      if (/(?:[=!]=|environ\[|getenv\(|environ\.get\()\s*$/.test(before) || /^\s*[=!]=/.test(rest.slice(at + lit.length, at + lit.length + 4))) return lit;
      return `${prefix}${body![0]}${REDACTED}${body![0]}`;
    });
    return hidden === rest ? all : `${pre}${q}${name}${q}${sep}${value}${hidden}`;
  });
}
/**
 * SECRET_NAME's names written with '-' for their '_' (`--api-key`, `--access-key`, `--private-key`): flags read dashes
 * as underscores (isSecretFlag), so the cheap test must let them through too, or `--api-key x` in a message or a
 * `sh -c` string was never read (`--signing-key`, `--auth-key`: KEY_KINDS).
 */
const DASHED_SECRET_NAME = new RegExp(String.raw`(?:api|access|private|routing|account)-key|connection-string|(?:${KEY_KINDS})-keys?(?![a-z])|client-key-data|kaggle-key`, 'i');
/**
 * A list of object references (a ServiceAccount's `secrets: [{name: db-creds}]`, `{"name": "x", "namespace": "y"}`):
 * mappings of ObjectReference fields only, which name Secrets, as a block list of them does and stays.
 */
const REFERENCE_ITEM = String.raw`\{\s*(?:\\*["']?(?:name|namespace|kind|apiVersion|uid|resourceVersion|fieldPath)\\*["']?\s*:\s*[^\s,{}:]+\s*,?\s*)+\}`;
export const REFERENCE_LIST = new RegExp(String.raw`^\s*${REFERENCE_ITEM}(?:\s*,\s*${REFERENCE_ITEM})*\s*,?\s*$`);
/** Whether a list of object references (REFERENCE_LIST) opens at `at` in the text. */
function isReferenceListAt(text: string, at: number): boolean {
  const list = /^\[([^[\]\n]*)\]/.exec(text.slice(at, at + 2000));
  return list !== null && REFERENCE_LIST.test(list[1]!);
}
/**
 * A secret-named key or assignment given a list on one line (`tokens: [a, b]`, `api_keys = ["a", "b"]`, `"tokens":
 * ["a"]`, escaped in JSON too, also first in a JSON string: `"tokens: [a, b]\n"`): hidden whole, as the one-value
 * rules hid its first item only and left the rest.
 */
/** Cheap test for FLOW_LIST: a list after ':' or '='. */
const FLOW_LIST_HINT = /[:=][ \t]*\[/;
const FLOW_LIST = /(^|[\s;,({["]|(?<=\\)[nrt])(\\*["']|)([A-Za-z_][\w.-]*)\2([ \t]*(?::|=(?!=))[ \t]*)\[([^[\]\n]*)\]/g;
/**
 * A PEM private key block (`-----BEGIN RSA PRIVATE KEY-----` … its END line, or the text's end when it was cut): a key
 * pasted into a ConfigMap file, a script or an argument is named by no secret's name, only by its armour.
 */
const PEM_PRIVATE_KEY = /(-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----)[^]*?(-----END \2-----|$)/g;
/** The text with the body of every PEM private key block hidden; its BEGIN / END lines (the key's kind) stay. */
function redactPemPrivateKeys(s: string): string {
  if (!s.includes('PRIVATE KEY-----')) return s;
  return s.replace(PEM_PRIVATE_KEY, (_all, begin: string, _label: string, end: string) => `${begin}${REDACTED}${end}`);
}

export const ESCAPED_QUOTE = /^\\+["']/;
/** `[redacted]` for a value, in the escaped quotes it had (`\\"x\\"`: a quoted value in a JSON string), the closing one if it was there. */
function hideKeepingEscapedQuotes(value: string): string {
  if (QUOTED.test(value) && value.length >= 2) return `${value[0]}${REDACTED}${value[0]}`;
  const q = ESCAPED_QUOTE.exec(value)?.[0];
  if (q === undefined) return REDACTED;
  return `${q}${REDACTED}${value.length > q.length && value.endsWith(q) ? q : ''}`;
}
