/** Script and config files (redactScriptText): key and assignment rules over whole files, multi-line strings. */
import { holdsSecret, isSecretKey, isUnsetValue, REDACTED, SECRET_NAME } from './names.js';
import { ESCAPED_QUOTE, isCredentialWord, isKeywordVariable, redactSecretTextAfter, REFERENCE_LIST } from './text.js';
import { AUTH_HEADER_NAME, ENV_NAME, isTemplateOfNames, LITERAL_PAIR, NAME_THEN_VALUE_ARGS, PY_ANNOTATION, PY_NAME_VALUE, PY_TYPE_ONLY, redactPythonContainers } from './python.js';
import { YAML_BLOCK_INDICATOR, YAML_PROPERTY } from './yaml-lines.js';
import { redactYamlPlainContinued } from './yaml-spans.js';
import { redactYamlValuesUnder } from './yaml.js';
import { redactDockerAuths } from './docker.js';
import { redactEnvListValues } from './env-lists.js';
import { callEnd, inYamlFlowMapping, redactCallLiterals } from './code.js';

/**
 * In a script or config file (an Argo `script.source`, a KFP inline component, a ConfigMap's file): an assignment or
 * key of a secret's name with blanks, quotes or ':' around it — `password = "x"`, `os.environ["API_TOKEN"] = 'x'`,
 * `"token": "x"`, `db_password: x`, a key quoted in escaped JSON (`\"api_key\": x`) — up to the end of its quoted
 * value or word, or an escaped line break (`\n` of a YAML file inside JSON: the value under `password:\n` is
 * redactYamlValuesUnder's). Not `==`. A Python annotation is read with the separator (`api_key: str = "x"`,
 * `token: Optional[str] = "x"`: a settings class). A YAML anchor or tag after ':' (`password: &pw x`) is read with the separator; a
 * value already `[redacted]` is matched whole, so that it is no anchor's value. A single-quoted value goes on over `''`
 * (YAML's quote inside it; Python's adjacent literals). An annotation's bracket is read for 200 characters at most: unbounded,
 * every name on a long line without ']' scanned to its end (quadratic).
 */
const SCRIPT_ASSIGNMENT = /(^|[\s;,({[]|(?<=\\)[nrt])(\\*["']|)([A-Za-z_][\w.-]*)\2(\]?[ \t]*(?::[ \t]*[A-Za-z_][\w.]*(?:\[(?:[^[\]\n=]|\[(?:[^[\]\n=]|\[[^[\]\n=]*\])*\]){0,200}\])?(?:[ \t]*\|[ \t]*[A-Za-z_][\w.]*(?:\[[^[\]\n=]{0,200}\])?)*[ \t]*=(?!=)|:(?:[ \t]+[&!][^\s,;)}\]#{[=\\]*(?=[ \t]+[^\s#]))*|=(?!=))(?:[ \t]|\\+t)*)(\[redacted\]|\\+["']\[redacted\](?:\\+["'])?|os\.environ\[[^\][\n]*\]|os\.(?:environ\.get|getenv)\([^()\n]*\)|(?:[rR]?[fF]|[fF][rR])(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|`(?:[^`\\\n]|\\.)*`|[A-Za-z_$][\w$.]*(?:\[[ \t]*(?:"[^"\\\n\]]*"|'[^'\\\n\]]*'|`[^`\\\n\]]*`|\d+)[ \t]*\])+(?![\w$.(\[])|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.|'')*'|(?:[^\s"',;)}\]#{[=\\]|\\(?!\\*n))(?:[^\s,;)}\]#\\]|\\(?!\\*n))*)/g;

/**
 * Script or config text (redactSecretText, and SCRIPT_ASSIGNMENT): secret-named assignments and keys, also quoted or
 * spaced, are hidden, those naming a reference (`secretName`, `TOKEN_PATH`) stay. The same string (===) when nothing is.
 *
 * @example
 * redactScriptText('import os\npassword = "pw"\nsecretName: db') // 'import os\npassword = "[redacted]"\nsecretName: db'
 */
export function redactScriptText(s: string): string {
  // A Kubernetes env list's `value:` beside a secret's `name:` (a manifest in a ConfigMap): no key of the rules below.
  const text = redactEnvListValues(redactDockerAuths(redactSecretTextAfter(s, undefined, true)));
  if (!SECRET_NAME.test(text) && !/authorization/i.test(text)) return text === s ? s : text;
  const blocks = redactPythonContainers(redactMultiLineLists(redactMultiLineStrings(redactYamlPlainContinued(redactYamlValuesUnder(text)))), isSecretKey);
  const args = blocks.replace(NAME_THEN_VALUE_ARGS, (all, q: string, name: string, sep: string, value: string) =>
    ENV_NAME.test(name) && isSecretKey(name) && value.slice(1, -1) !== REDACTED && !ENV_NAME.test(value.slice(1, -1)) ? `${q}${name}${q}${sep}${value[0]}${REDACTED}${value[0]}` : all)
    // A lower-case name's pair: a tuple or a setter's arguments only, its value one word (`("token", "is set")` is words).
    .replace(LITERAL_PAIR, (all, pre: string, q: string, name: string, sep: string, value: string) =>
      isSecretKey(name) && value.slice(1, -1) !== REDACTED && !/\s/.test(value) && !isUnsetValue(value) ? `${pre}${q}${name}${q}${sep}${value[0]}${REDACTED}${value[0]}` : all);
  const out = redactHclVariableDefaults(redactCallLiterals(args, isSecretKey, isCredentialWord).replace(SCRIPT_ASSIGNMENT, redactScriptAssignment));
  return out === s ? s : out;
}
/** A Terraform / HCL input variable's block (`variable "db_password" { … }`), one level of blocks nested in it. */
const HCL_VARIABLE = /(\bvariable[ \t]+"([A-Za-z_][\w-]*)"[ \t]*\{)((?:[^{}]|\{[^{}]*\})*)\}/g;
/** Its `default = …`: a quoted string or a word. */
const HCL_DEFAULT = /(\bdefault[ \t]*=[ \t]*)("(?:[^"\\\n]|\\.)*"|[^\s#,}]+)/g;
/**
 * The `default` of a Terraform input variable named as a secret's (`variable "db_password" { default = "x" }`): the
 * variable's name is a string, no key of the assignment rules, so its default value was shown. A `null` default stays.
 */
function redactHclVariableDefaults(text: string): string {
  if (!text.includes('variable')) return text;
  return text.replace(HCL_VARIABLE, (all, head: string, name: string, body: string) => {
    if (!isSecretKey(name)) return all;
    const hidden = body.replace(HCL_DEFAULT, (d, sep: string, value: string) => {
      const inner = value.startsWith('"') ? value.slice(1, -1) : value;
      return inner === REDACTED || isUnsetValue(value) || inner === '' || !holdsSecret(name, inner) ? d : `${sep}${value.startsWith('"') ? `"${REDACTED}"` : REDACTED}`;
    });
    return hidden === body ? all : `${head}${hidden}}`;
  });
}
/**
 * A quoted value that spans lines, which SCRIPT_ASSIGNMENT (one line) does not read: a YAML double- or single-quoted
 * scalar continued on the next lines under a secret-named key (`password: "a` … `b"`), a Python triple-quoted string
 * assigned to a secret's name (`token = """x"""`, `r'''x'''`).
 */
const YAML_QUOTED_SPAN = /^([ \t]*(?:-[ \t]+)?)(["']?)([A-Za-z_][\w.-]*)\2([ \t]*:[ \t]+(?:[&!][^\s#]*[ \t]+)*)("(?:[^"\\]|\\[^])*"|'(?:[^']|'')*')/gm;
const PY_TRIPLE_QUOTED = /(^|[\s;,(])([A-Za-z_][\w.]*)([ \t]*=[ \t]*[rRbBuU]{0,2})("""|''')([^]*?)\4/g;
/** Text with the values of YAML_QUOTED_SPAN and PY_TRIPLE_QUOTED under a secret's name hidden, quotes kept. */
function redactMultiLineStrings(text: string): string {
  const yaml = !text.includes('\n') ? text : text.replace(YAML_QUOTED_SPAN, (all, lead: string, q: string, name: string, sep: string, value: string) =>
    value.includes('\n') && isSecretKey(name) ? `${lead}${q}${name}${q}${sep}${value[0]}${REDACTED}${value[0]}` : all);
  if (!yaml.includes('"""') && !yaml.includes("'''")) return yaml;
  return yaml.replace(PY_TRIPLE_QUOTED, (all, pre: string, name: string, sep: string, quote: string, value: string) =>
    value !== REDACTED && value !== '' && holdsSecret(name, value) ? `${pre}${name}${sep}${quote}${REDACTED}${quote}` : all);
}
/**
 * A list opened at its line's end under a secret's name and closed on a later line (`API_KEYS = [` then one item a
 * line, pretty-printed JSON's `"tokens": [` …): the one-line rules read it a line at a time and left every item.
 */
const MULTI_LINE_LIST = /(^|[\s;,({"])(["']|)([A-Za-z_][\w.-]*)\2([ \t]*(?::|=(?!=))[ \t]*)\[([ \t]*\r?\n[^[\]]*)\]/g;
/** Text with a MULTI_LINE_LIST under a secret's name hidden whole (`api_keys = [redacted]`); object references stay. */
function redactMultiLineLists(text: string): string {
  if (!/[:=][ \t]*\[[ \t]*\r?\n/.test(text)) return text;
  return text.replace(MULTI_LINE_LIST, (all, pre: string, q: string, name: string, sep: string, items: string) =>
    items.trim() !== '' && holdsSecret(name, items) && !REFERENCE_LIST.test(items) ? `${pre}${q}${name}${q}${sep}${REDACTED}` : all);
}
/** `"""[redacted]"""`: a triple-quoted value redactMultiLineStrings hid (SCRIPT_ASSIGNMENT reads its quotes apart). */
const TRIPLE_REDACTED = /^[rRbBuU]{0,2}("""|''')\[redacted\]\1/;

/** One SCRIPT_ASSIGNMENT match: a secret's value hidden; a quoted value that is no secret is read for pairs inside it. */
function redactScriptAssignment(all: string, pre: string, q: string, name: string, sep: string, value: string, at: number, text: string): string {
  const valueAt = at + all.length - value.length;
  const secret = (holdsSecret(name, value) || (q !== '' && AUTH_HEADER_NAME.test(name) && /^(?:[rR]?[fF]|[fF][rR])?["'`]/.test(value)))
    && !isTemplateOfNames(value) && !SUBSCRIPT_LOOKUP.test(value) && !JS_ENV_LOOKUP.test(value) && !isAttributeLookup(value, q, sep) && !SCHEME_ONLY.test(value) && !(q.length === 1 && isVariableInContainer(value, text.slice(at + all.length, at + all.length + 200)) && !inYamlFlowMapping(text, at + pre.length));
  // A call expression (`{"token": get_tok()}`, `password = dbutils.secrets.get(scope="s", key="k")`) says where the
  // secret comes from, not what it is: kept whole (cut at its '(' it was hidden as `[redacted])`); its credential and
  // fallback literals were hidden before (redactCallLiterals).
  if (secret && !/^["'\\]|^os\.(?:environ|getenv)\b/.test(value) && callEnd(text, valueAt) >= 0) return all;
  // A keyword argument given a variable (`dict(token=tok)`, `Client(api_key=self.api_key, …)`), as in text.
  if (secret && q === '' && /^[ \t]*=/.test(sep) && isKeywordVariable(text, at + pre.length, value)) return all;
  if (secret) {
    // A YAML anchor or tag alone on its key's line: the value under it was hidden (redactYamlValuesUnder).
    if (YAML_PROPERTY.test(value) && VALUE_HIDDEN_UNDER.test(text.slice(at + all.length, at + all.length + 200))) return all;
    if (TRIPLE_REDACTED.test(text.slice(at + all.length - value.length, at + all.length - value.length + 18))) return all;
  }
  // A parenthesized value opened by a literal (`password = ("a"\n "b")`): its literals are redactPythonContainers'.
  if (secret && sep.includes('=') && PAREN_LITERAL.test(value)) return all;
  if (!secret || value === REDACTED || value.slice(1, -1) === REDACTED || YAML_BLOCK_INDICATOR.test(value)) {
    // A JSON string holding YAML or JSON (`"f": "creds: {password: x}"`) was matched whole: its own pairs are read
    // too. (A global replace collects every match before calling back, so using the pattern again here is safe.)
    // An f-string's literal text is read so too (its prefix kept).
    const fp = F_PREFIX.exec(value)?.[0].slice(0, -1) ?? '';
    const lit = value.slice(fp.length);
    if (lit.length < 3 || (lit[0] !== '"' && lit[0] !== "'") || !SECRET_NAME.test(lit)) return all;
    const inner = lit.slice(1, -1).replace(SCRIPT_ASSIGNMENT, redactScriptAssignment);
    return inner === lit.slice(1, -1) ? all : `${pre}${q}${name}${q}${sep}${fp}${lit[0]}${inner}${lit[0]}`;
  }
  // A parameter's type (`def f(password: str, …)`): no value is given.
  if (!sep.includes('=') && PY_TYPE_ONLY.test(value + text.slice(at + all.length, at + all.length + 80))) return all;
  // A Python annotation (`token: Dict[str, str] = {…}`): its type is no value (the container is redactPythonContainers').
  if (!sep.includes('=') && PY_ANNOTATION.test(text.slice(at + all.length - value.length, at + all.length - value.length + 1000))) return all;
  // A credential header's value (`"Authorization": "Bearer x"`) keeps its auth scheme, as the text rules keep it.
  // An f-string's or template's too (`f"Bearer [redacted]"`, `` `Bearer [redacted]` ``).
  if (q !== '' && AUTH_HEADER_NAME.test(name) && /^(?:[rR]?[fF]|[fF][rR])?["'`]/.test(value)) {
    const fp = F_PREFIX.exec(value)?.[0].slice(0, -1) ?? '';
    const lit = value.slice(fp.length);
    const inner = lit.slice(1, lit.length > 1 && lit.endsWith(lit[0]!) ? -1 : undefined);
    const scheme = AUTH_SCHEME.exec(inner)?.[0] ?? '';
    if (inner.slice(scheme.length) === REDACTED || inner === '') return all;
    return `${pre}${q}${name}${q}${sep}${fp}${lit[0]}${scheme}${REDACTED}${inner.length < lit.length - 1 ? lit[0] : ''}`;
  }
  // An f-string with literal text keeps its prefix and quotes (`f"[redacted]"`).
  const fq = F_PREFIX.exec(value)?.[0];
  if (fq !== undefined) return `${pre}${q}${name}${q}${sep}${fq}${REDACTED}${fq.slice(-1)}`;
  // A value quoted in escaped JSON (`\"x\"`) keeps its quotes, the closing one only if the line did not cut it.
  const vq = value[0] === '"' || value[0] === "'" || value[0] === '`' ? value[0] : (ESCAPED_QUOTE.exec(value)?.[0] ?? '');
  if (vq.length > 1 && value.slice(vq.length, value.endsWith(vq) ? -vq.length : undefined) === REDACTED) return all;
  return `${pre}${q}${name}${q}${sep}${vq}${REDACTED}${vq.length > 1 && !(value.length > vq.length && value.endsWith(vq)) ? '' : vq}`;
}
/**
 * A name subscripted by literal keys (`cfg["token"]`, `secrets['hf']`, `cfg["db"]["password"]`, `argv[1]`, JavaScript's
 * backquoted `` cfg[`token`] ``): a lookup,
 * which names where the secret is, not what (read as a word it was hidden up to its first `]`, `[redacted]]`).
 */
const SUBSCRIPT_LOOKUP = /^[A-Za-z_$][\w$.]*(?:\[[ \t]*(?:"[^"\\\n\]]*"|'[^'\\\n\]]*'|`[^`\\\n\]]*`|\d+)[ \t]*\])+$/;
/** A dotted name (`cfg.password`, `self.api_key`, `settings.db.password`): an attribute read, no literal. */
const ATTRIBUTE_CHAIN = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/;
/** Objects a script reads its settings from, by their usual names (`cfg.pw`, `args.hf`, `this.key`). */
const SETTINGS_OBJECT = /^(?:self|cls|this|cfg|conf|config|configs|settings|args|opts|options|params|env|environ|secrets|creds|credentials|ctx|context|props|os)$/i;
/**
 * An attribute read given to a secret's name by a code statement (`password = cfg.password`, `token = self.api_token`,
 * `const pw = config.db.password;`): where the secret is, as a subscript lookup is. Only with blanks before the '='
 * (a shell word `PASSWORD=a.b` or a YAML value `password: a.b` is the value itself), its last name a secret's or its
 * first a settings object's (a dotted passphrase `password = Summer2024.Fall` stays hidden), and no word reading as a credential.
 */
function isAttributeLookup(value: string, q: string, sep: string): boolean {
  if (q !== '' || !/^[ \t]+=[ \t]/.test(sep) || !ATTRIBUTE_CHAIN.test(value)) return false;
  const parts = value.split('.');
  if (parts.some(isCredentialWord)) return false;
  return isSecretKey(parts[parts.length - 1]!) || SETTINGS_OBJECT.test(parts[0]!);
}
/** A literal of an auth scheme alone (`token = "Bearer " + t`): which kind of credential, as the expression rules keep it. */
const SCHEME_ONLY = /^(["'`])(?:Bearer|Basic|Token|Digest|Negotiate|ApiKey)[ \t]*\1$/i;
/** A JavaScript environment lookup (`process.env.DB_PASSWORD`, `import.meta.env.VITE_TOKEN`): where, as `os.environ[…]`. */
const JS_ENV_LOOKUP = /^(?:process|import\.meta)\.env\.[A-Za-z_$][\w$]*$/;
/** An auth scheme opening a credential header's value (`Bearer`, `Basic`): which kind of credential, not what. */
const AUTH_SCHEME = /^(?:Bearer|Basic|Token|Digest|Negotiate|ApiKey)[ \t]+/i;
/** An f-string's prefix and opening quote. */
const F_PREFIX = /^(?:[rR]?[fF]|[fF][rR])["']/;
/** What follows a dict's value: the next item or the container's end, on its line or the next. */
const CONTAINER_GOES_ON = /^[ \t]*(?:[,})\]]|\r?\n\s*[})\]])/;
/**
 * A quoted key's value that is a Python name in a dict (`{"token": tok}`, `"token": self.tok,`): a variable, which
 * names where the secret is, not what. Only with the dict going on after it (`,`, `}`), so that a YAML line's plain
 * value under a quoted key (`"password": hunter2`) stays a value; a word that reads as a credential (`hf_…`) stays hidden.
 */
function isVariableInContainer(value: string, after: string): boolean {
  return PY_NAME_VALUE.test(value) && !isCredentialWord(value) && CONTAINER_GOES_ON.test(after);
}
const PAREN_LITERAL = /^\((?:[ \t]*$|[ \t]*[rRbBuU]{0,2}["'])/;
/** The next line is a value redactYamlValuesUnder hid. */
const VALUE_HIDDEN_UNDER = /^\r?\n[ \t]*(?:- )?\[redacted\]/;
