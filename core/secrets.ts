/** What names a secret and what hides one: shared so every place that keeps or shows records redacts alike. */
import { constants as zlibConstants, gunzipSync } from 'node:zlib';

/**
 * A name (env var, config key, header) whose value is a secret (`routing_key`: PagerDuty's). Substrings, case-insensitive, so that
 * `AWS_SECRET_ACCESS_KEY`, `MLFLOW_TRACKING_PASSWORD`, `HF_TOKEN` and `AZURE_STORAGE_CONNECTION_STRING` all match.
 *
 * @example
 * isSecretName('MLFLOW_TRACKING_PASSWORD') // true
 * isSecretName('MLFLOW_TRACKING_URI') // false
 */
export function isSecretName(name: string): boolean {
  if (!SECRET_NAME.test(name)) return false;
  if ((NAMES_NO_SECRET_VALUE.test(name) || NAMES_NO_SECRET_VALUE_CAMEL.test(name)) && IDENTIFIER.test(name)) return false;
  const rest = name.replace(NOT_A_TOKEN_ALL, '').replace(KEY_ID_ALL, '');
  return rest === name || SECRET_NAME.test(rest);
}
/**
 * A secret's name whose last word says its value is a fact about the secret, not the secret: where a token is got or
 * checked (`token_url`, `token_endpoint`, `oauth_token_uri`: the OAuth endpoint an analyst needs, its user-info and
 * secret query parameters still hidden by redactUrlSecrets), a rule or a measure (`password_policy`,
 * `password_min_length`, `token_ttl`, `token_type`, `token_expiry`, `token_audience`, `token_scopes`), where a secret
 * store listens (`secret_port`, `SECRET_PORT`), which version of a secret is read (`secret_version: 5`, a Secret
 * Manager version) or how many there are (`token_count`). Not `id`: Vault AppRole's `secret_id` is the credential itself.
 */
const NAMES_NO_SECRET_VALUE = /[_.-](?:url|uri|endpoint|policy|type|ttl|expiry|lifetime|audience|scopes?|length|port|version|count)$/i;
/** The same last words in camelCase (`tokenUrl`, `passwordPolicy`). */
const NAMES_NO_SECRET_VALUE_CAMEL = /[a-z](?:Url|Uri|URL|URI|Endpoint|Policy|Type|Ttl|TTL|Expiry|Lifetime|Audience|Scopes?|Length|Port|Version|Count)$/;
/** One name (`TOKEN_URL`, `tokenUri`), not a text holding names (a query string the suffix test would misread). */
const IDENTIFIER = /^[\w.-]+$/;
/**
 * An access key's id (`AWS_ACCESS_KEY_ID`, `aws_access_key_id`, Alibaba's `ACCESS_KEY_ID`) names which key, not its
 * secret part: CloudTrail shows it in every record (`userIdentity.accessKeyId`), and an analyst matches a pod's key id
 * against those. A name holding another secret's part stays one (`AWS_SECRET_ACCESS_KEY_ID`).
 */
const KEY_ID_ALL = /access[_.-]?key[_.-]?id/gi;
/**
 * `token` in a name that is about a language model's tokens, not a credential: a tokenizer (`--tokenizer
 * meta-llama/…`: which model is served) and a token count (`max_new_tokens`, `--max-num-batched-tokens`, `maxTokens`).
 * Such a name is a secret's only when the rest of it is (`TOKENIZER_SECRET`).
 */
const NOT_A_TOKEN_SOURCE = String.raw`tokeniz[a-z]*|(?:max|min|num)(?:[_.-]?[a-z]+)*?[_.-]?tokens(?![a-z])`;
const NOT_A_TOKEN = new RegExp(NOT_A_TOKEN_SOURCE, 'i');
const NOT_A_TOKEN_ALL = new RegExp(NOT_A_TOKEN_SOURCE, 'gi');
// `connection_string`: an Azure Storage connection string (MLflow's AZURE_STORAGE_CONNECTION_STRING) holds
// `AccountKey=` (named too, for the same text in a script or message); `_pass`, `_pwd`: DB_PASS, MYSQL_PWD.
const SECRET_NAME = /password|passwd|secret|token|credential|private_key|api_key|access_key|routing_key|connection_?string|account_?key|_pass\b|_pwd\b/i;

/**
 * `scheme://user:pass@` anywhere in a string, up to the last `@` before the host: user-info cannot hold `/`, `?`, `#`,
 * whitespace or quotes, but clients (curl, Python's urllib, libpq) take a password with an unencoded `@` and split at
 * the last one, so stopping at the first left the password's tail readable.
 */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/?#\s"'<>]*@/gi;

/**
 * The string with the user-info of every URL in it replaced by `[redacted]` (host and path stay readable);
 * the same string (===) when there is none.
 *
 * @example
 * redactUrlUserinfo('--uri=https://bob:s3cret@mlflow:5000/') // '--uri=https://[redacted]@mlflow:5000/'
 */
export function redactUrlUserinfo(s: string): string {
  // Cheap test first: nearly every string has no '@'.
  if (!s.includes('@') || !s.includes('://')) return s;
  return s.replace(WHOLE_URL_USERINFO, '$1[redacted]@').replace(URL_USERINFO, '$1[redacted]@');
}
/**
 * A string that is one URL (an env value, a flag's value): its user-info may hold quotes (`p"ss`, `it's`, which
 * clients take), as no text around it is quoted.
 */
const WHOLE_URL_USERINFO = /^(\s*[a-z][a-z0-9+.-]*:\/\/)[^/?#\s]*@(?=[^\s]*$)/i;

/** What every redaction puts in place of a hidden value (raw records, config checks, logs). */
export const REDACTED = '[redacted]';

/**
 * A query parameter of a URL whose value is a secret: a secret's name (`password`, `token`), or a signed URL's
 * signature, a bearer credential for the object until it expires (Azure SAS `sig`, S3 `X-Amz-Signature`, GCS
 * `X-Goog-Signature`).
 */
const SIGNATURE_PARAM = /(?:^|[-_])(?:sig|signature)$/i;
/** `?name=value` / `&name=value` (the value up to the next parameter, fragment, whitespace or quote). */
const QUERY_PARAM = /([?&])([^=&#\s"'<>]+)=([^&#\s"'<>]*)/g;

/**
 * The string with the user-info of every URL in it and the values of its secret query parameters (`?password=`,
 * a JDBC URL's `&password=`, a presigned URL's signature) replaced by `[redacted]`; the same string (===) when none.
 *
 * @example
 * redactUrlSecrets('https://acct.blob.core.windows.net/m/model.pkl?sv=2022-11-02&sig=abc') // '…?sv=2022-11-02&sig=[redacted]'
 */
export function redactUrlSecrets(s: string): string {
  const url = redactUrlUserinfo(s);
  // Cheap test first: a query needs a '?' and a '='.
  if (!url.includes('?') || !url.includes('=')) return url;
  const out = url.replace(QUERY_PARAM, (all, sep: string, name: string, value: string) =>
    value !== '' && value !== REDACTED && (isSecretName(name) || SIGNATURE_PARAM.test(name)) ? `${sep}${name}=${REDACTED}` : all);
  return out === s ? s : out;
}

/**
 * Flags that name where a secret is, not the secret: a file's path (`--token-file`), a header's name, a Secret
 * object's name or a reference to one (`--secret-name db-creds`: what an analyst follows).
 */
const FLAG_NAMES_A_PLACE = /[_-](file|path|dir|header|name|ref)$/i;

/**
 * A command-line flag (`--aws-secret-access-key`, `-password`, `--api-key`) whose value is a secret: its name, dashes
 * read as underscores, is a secret's (isSecretName), and it does not name a file or header holding one.
 *
 * @example
 * isSecretFlag('--api-key') // true
 * isSecretFlag('--token-file') // false
 */
export function isSecretFlag(flag: string): boolean {
  const name = flag.replace(/^-+/, '');
  // `--pass` (mycli, openssl's `-pass`) is a password's flag though `pass` alone names none in env or keys.
  return name !== '' && (isSecretName(name.replace(/-/g, '_')) || name === 'pass') && !FLAG_NAMES_A_PLACE.test(name);
}

/**
 * A secret's name that says its value is where the secret is (`GITHUB_TOKEN_FILE`, `--password-path`, `TOKEN_DIR`)
 * given a value that is no place (`ghp_…`, `hunter2`): the name is no proof, the value is then the secret itself.
 */
function isSecretAtNoPlace(name: string, value: string): boolean {
  return /(?:file|path|dir)$/i.test(name) && isSecretName(name.replace(/-/g, '_')) && !namesAPlace(value);
}
/**
 * Whether `value`, given under key or assignment `name`, is a secret: a secret's name that names no reference
 * (isSecretKey), or one naming a place (`*_file`, `*_path`, `*_dir`) whose value is no place.
 *
 * @example
 * holdsSecret('token_file', 'ghp_x') // true
 * holdsSecret('token_file', '/run/secrets/t') // false
 */
export function holdsSecret(name: string, value: string): boolean {
  return (isSecretKey(name) || isSecretAtNoPlace(name, value)) && !ENV_LOOKUP.test(value);
}
/**
 * A Python lookup of an environment variable (`os.environ['HF_TOKEN']`, `os.getenv("HF_TOKEN")`): it says where the
 * secret is, not what, and stays whole. The assignment patterns read it as one value: cut at its bracket, the rest of it
 * was left behind the placeholder (`[redacted]'HF_TOKEN']`). With a default (`os.getenv("X", "hf_…")`) it is hidden whole.
 */
const ENV_LOOKUP = /^os\.(?:environ\[\s*(["'])[A-Za-z_]\w*\1\s*\]|(?:environ\.get|getenv)\(\s*(["'])[A-Za-z_]\w*\2\s*\))$/;
/** A path (`/run/x`, `./x`, `~/x`, `C:\x`, `dir/x`, `token.txt`), a variable (`$X`, `${X}`, `$(cat x)`), or nothing. */
const PLACE_VALUE = /^(?:$|[.~$\/\\]|[A-Za-z]:[\\/]|\S*[\/\\]|[\w-]+\.[A-Za-z0-9]{1,5}$)/;
function namesAPlace(value: string): boolean {
  const v = value.replace(/^["'`]|["'`]$/g, '');
  return v === REDACTED || PLACE_VALUE.test(v);
}

/** `--flag` or `-flag` alone (its value is the next argument). */
const FLAG_ALONE = /^--?[A-Za-z][\w.-]*$/;
/** `--flag=value`. */
const FLAG_WITH_VALUE = /^(--?[A-Za-z][\w.-]*)=([^]*)$/;
/**
 * Inside one string (a `sh -c` script): `--flag=value`, `--flag value` (quoted or not) and `NAME=value` assignments
 * (also `--set=a.password=x`, `?x=1&token=y`).
 * The value is not one starting with `-` (the next flag of a flag that takes none). A command substitution
 * (`$(cat /run/pw)`, one level) is one value here and in the assignment and command patterns: cut at its blank, the
 * rest of it was left behind the placeholder.
 */
const FLAG_IN_TEXT = /(^|[\s;&|("'])(--?[A-Za-z][\w.-]*)(=|[ \t]+)(\$\([^()]*\)|"[^"]*"|'[^']*'|[^\s"';&|)-][^\s"';&|)]*)/g;
/**
 * Flags whose value is `user:password` whatever the command (curl's `--proxy-user`, httpie's `--auth`): the part after
 * the first ':' is hidden, a bare user name stays.
 */
const USER_PASSWORD_FLAGS = new Set(['--proxy-user', '--auth']);
/**
 * curl's `-u`/`--user`/`-U`: `user:password` for curl only — docker, podman, kubectl, sudo take `-u uid:gid` or
 * `user:group`, no credential. Hidden after curl, and where no command is known unless it is a numeric `uid:gid`.
 */
const CURL_USER_FLAGS = new Set(['-u', '--user', '-U']);
/**
 * curl's short flags run together ending in `u` / `U` (`-sSfu user:pass`, `-fsSLubob:pw`): an option taking a value
 * takes the rest of its word, else the next word. Read so after curl only (other tools' clusters are not curl's).
 */
const CURL_FLAG_CLUSTER = /^-[A-Za-z]+[uU]$/;
const CURL_GLUED_CLUSTER = /^(-[A-Za-z]+?[uU])([^]+)$/;
const UID_GID = /^["']?\d+:\d+["']?$/;
/** `user:password` of such a flag (quoted or not) with the password hidden; undefined when it holds no ':'. */
function hideUserPassword(value: string): string | undefined {
  const q = value[0] === '"' || value[0] === "'" ? value[0] : '';
  const inner = q ? value.slice(1, -1) : value;
  const i = inner.indexOf(':');
  return i < 0 || i === inner.length - 1 ? undefined : `${q}${inner.slice(0, i + 1)}${REDACTED}${q}`;
}
/** The value of a user flag with its password hidden, judged by the command it belongs to; undefined to keep it. */
function hideUserFlagValue(flag: string, value: string, command: string | undefined): string | undefined {
  if (USER_PASSWORD_FLAGS.has(flag)) return hideUserPassword(value);
  if (!CURL_USER_FLAGS.has(flag)) return undefined;
  return command === 'curl' || (command === undefined && !UID_GID.test(value)) ? hideUserPassword(value) : undefined;
}

/**
 * MySQL and MariaDB clients, whose `-p` takes the password glued (`-pS3cret`; a bare `-p` prompts and the next word
 * is the database). Elsewhere `-p` is a port, a path or a flag, so it is read as a password only after these and sshpass.
 */
const MYSQL_CLIENT = /^(?:mysql(?:dump|admin|import|check|show|slap|pump|binlog|sh|_upgrade)?|mariadb(?:-(?:dump|admin|import|check|show|slap|binlog|upgrade))?)$/;
/** Commands whose flags are read by command (the rest are unknown): password flags, or `-u` that is no password. */
const KNOWN_COMMAND = /^(?:curl|sshpass|docker|podman|nerdctl|kubectl|oc|crictl|sudo|su|runuser|setpriv|chroot|mysql\w*|mariadb[\w-]*|mycli|mydumper|myloader|pt-[a-z-]+)$/;
/**
 * MySQL tools whose `-p` takes the password glued or as the next word (mycli's `-p TEXT`, mydumper's and myloader's
 * `--password, -p`, Percona Toolkit's `-p` short for `--password`): read as `mysql-tool`.
 */
const MYSQL_PASSWORD_TOOL = /^(?:mycli|mydumper|myloader|pt-[a-z-]+)$/;
/**
 * The command a word names (its path's last part) when it is one KNOWN_COMMAND lists: MySQL / MariaDB clients read as
 * `mysql`, so callers test one name. Undefined for any other word.
 *
 * @example
 * commandName('/usr/bin/mysqldump') // 'mysql'
 */
export function commandName(word: string): string | undefined {
  const name = word.slice(word.lastIndexOf('/') + 1);
  if (!KNOWN_COMMAND.test(name)) return undefined;
  return MYSQL_CLIENT.test(name) ? 'mysql' : MYSQL_PASSWORD_TOOL.test(name) ? 'mysql-tool' : /^(?:mysql|mariadb)/.test(name) ? 'other' : name;
}
/**
 * Whether `-p` of this command takes a password: glued after a MySQL client, glued or as the next word after sshpass
 * and the MySQL tools that take it so.
 */
function dashPIsPassword(command: string | undefined, glued: boolean): boolean {
  return command === 'sshpass' || command === 'mysql-tool' || (command === 'mysql' && glued);
}
/** KNOWN_COMMAND's words as a JSON string of an argument list (`"mydumper"`, escaped `\"curl\"`) or an image's name (`"mydumper/mydumper:v0.16"`). */
const COMMAND_IN_JSON = /(?<=")(?:[\w.-]+\/)*(curl|sshpass|docker|podman|nerdctl|kubectl|oc|crictl|sudo|su|runuser|setpriv|chroot|mysql\w*|mariadb[\w-]*|mycli|mydumper|myloader|pt-[a-z-]+)(?=\\*"|[:@])/g;
/**
 * The command (commandName's) that the last argument list or image named in JSON text does: a quarantined line cut
 * before it parsed, read up to a flag. Undefined when it names none.
 */
export function lastCommandInJson(text: string): string | undefined {
  let word: string | undefined;
  for (const m of text.matchAll(COMMAND_IN_JSON)) word = m[1];
  return word === undefined ? undefined : commandName(word);
}
/**
 * The argument after `-p`, `-u`, `-U` or `--user` (`glued`: the rest of its word, `-pX`) as redactArgv leaves it after
 * `command` (commandName's): hidden (`[redacted]`, or `user:[redacted]`), or undefined to keep it.
 */
export function hideFlagArgument(flag: string, value: string, command: string | undefined, glued = false): string | undefined {
  if (flag === '-p') return dashPIsPassword(command, glued) ? REDACTED : undefined;
  return hideUserFlagValue(flag, value, command);
}
/**
 * In text: a separator of commands (the command read so far ends), a KNOWN_COMMAND word, or `-p` / `-u` / `-U` /
 * `--user` with its value (glued, after '=' or blanks), scanned in order so each flag is judged by the command before it.
 */
const COMMAND_TEXT = /[;&|\n(`]|(?<=^|[\s"'\/,])(curl|sshpass|docker|podman|nerdctl|kubectl|oc|crictl|sudo|su|runuser|setpriv|chroot|mysql\w*|mariadb[\w-]*|mycli|mydumper|myloader|pt-[a-z-]+)(?=$|[\s"',;&|)`])|(?<=^|[\s"',])(-p|-u|-U|--user|-[A-Za-z]+[uU])(=|[ \t]+|)(\$\([^()]*\)|"[^"]*"|'[^']*'|[^\s"',;&|)]+)/g;
const JSON_LIST_SEPARATOR = /^"\s*,\s*"$/;
/** Cheap test for COMMAND_TEXT: a `-p`, `-u`, `-U` or `--user` flag. */
const COMMAND_FLAG = /(?:^|[\s"',])-(?:p|u|U|-user|[A-Za-z]+[uU])/;

/** Text with `-pPASS` of MySQL clients and sshpass and `-u user:pass` of curl hidden (COMMAND_TEXT). */
function redactCommandFlags(s: string, after: string | undefined): string {
  if (!COMMAND_FLAG.test(s)) return s;
  let command = after;
  return s.replace(COMMAND_TEXT, (all, word: string | undefined, flag: string | undefined, sep: string, value: string) => {
    if (word !== undefined) {
      command = commandName(word);
      return all;
    }
    if (flag === undefined) {
      command = undefined;
      return all;
    }
    // `"-p","x"`: a JSON list's separator is no glued quoted value (its next element is, FLAG_PAIR_TEXT's in quarantine).
    if (value === REDACTED || (flag === '--user' && sep === '') || JSON_LIST_SEPARATOR.test(value)) return all;
    if (flag === '-p') return dashPIsPassword(command, sep === '') && sep !== '=' ? `${flag}${sep}${REDACTED}` : all;
    if (sep === '=' && CURL_FLAG_CLUSTER.test(flag)) return all;
    const hidden = hideUserFlagValue(CURL_FLAG_CLUSTER.test(flag) ? (command === 'curl' ? '-u' : '') : flag, value, command);
    return hidden === undefined ? all : `${flag}${sep}${hidden}`;
  });
}

/**
 * A credential header in a command line or message (`curl -H 'Authorization: Bearer x'`, `X-Api-Key: x`,
 * `PRIVATE-TOKEN: x`): the header's name and an auth scheme stay. Its name is Authorization or a secret's. A YAML anchor
 * or tag before the value (`password: &pw x`, `token: !!str x`) stays as a scheme does; alone at a line's end it is
 * YAML's, whose value is on the lines under it (redactYamlValuesUnder).
 */
const HEADER_IN_TEXT = /(^|[\s"']|(?<=\\)[nrt])([A-Za-z][\w-]*)([ \t]*:(?:[ \t]|\\+t)*)((?:(?:Bearer|Basic|Token|Digest|Negotiate|ApiKey)[ \t]+|[&!][^\s"'\\]*[ \t]+(?=[^\s#]))?)(\\+["'](?:[^"'\\\n]|\\(?!\\*["'n]))*(?:\\+["'])?|(?:[^\s"'\\#]|\\(?!\\*[n"']))(?:[^\s"'\\]|\\(?!\\*n))*)/gi;
const TRAILING_BACKSLASHES = /\\+$/;
const isCredentialHeader = (name: string) => /^(?:proxy-)?authorization$/i.test(name) || isSecretKey(name.replace(/-/g, '_'));
/** `NAME=value`; a quoted value may carry a Python string prefix (`password=r"x"`: a keyword argument). */
const ASSIGNMENT_IN_TEXT = /(^|[\s;&|(=,?"'])((?:export[ \t]+)?[A-Za-z_][\w.-]*)=(os\.environ\[[^\][\n]*\]|os\.(?:environ\.get|getenv)\([^()\n]*\)|\$\([^()]*\)|[rRbBuU]{0,2}"[^"]*"|[rRbBuU]{0,2}'[^']*'|[^\s"';&|)]+)/g;

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
/** redactSecretText of text that follows `command` (an argument of a command line): its flags are judged by it. */
function redactSecretTextAfter(s: string, command: string | undefined): string {
  let url = redactUrlUserinfo(redactPemPrivateKeys(s));
  if (FLOW_LIST_HINT.test(url) && SECRET_NAME.test(url)) url = url.replace(FLOW_LIST, (all, pre: string, q: string, name: string, sep: string, items: string) =>
    items.trim() !== '' && items !== 'redacted' && holdsSecret(name, items) && !REFERENCE_LIST.test(items) ? `${pre}${q}${name}${q}${sep}${REDACTED}` : all);
  if (url.includes(':')) {
    url = url.replace(HEADER_IN_TEXT, (all, pre: string, name: string, sep: string, scheme: string, whole: string, at: number, text: string) => {
      if (!isCredentialHeader(name)) return all;
      // The backslashes of a deeper string's closing quote (`password: x\\"}` in escaped JSON) are no part of the value.
      const slashes = /[^\\]\\+$/.test(whole) && /^["']/.test(text.slice(at + all.length, at + all.length + 1)) ? TRAILING_BACKSLASHES.exec(whole)![0] : '';
      const value = whole.slice(0, whole.length - slashes.length);
      return value !== REDACTED && !YAML_BLOCK_INDICATOR.test(value) && !(YAML_PROPERTY.test(value) && YAML_LINE_END.test(text.slice(at + all.length, at + all.length + 2))) && !ANNOTATION_END.test(text.slice(at + all.length, at + all.length + 40)) && !PY_TYPE_ONLY.test(value + text.slice(at + all.length, at + all.length + 80)) && !(value.startsWith('[{') && isReferenceListAt(text, at + all.length - value.length)) ? `${pre}${name}${sep}${scheme}${hideKeepingEscapedQuotes(value)}${slashes}` : all;
    });
    url = url.replace(FLAG_IN_TEXT, (all, pre: string, flag: string, sep: string, value: string) => {
      const hidden = USER_PASSWORD_FLAGS.has(flag) ? hideUserPassword(value) : undefined;
      return hidden === undefined ? all : `${pre}${flag}${sep}${hidden}`;
    });
  }
  url = redactCredentialCalls(redactCommandFlags(url, command));
  // Cheap test first: nothing more to hide without a secret's name in it.
  if (!SECRET_NAME.test(url) && !PASS_FLAG.test(url)) return url === s ? s : url;
  const kwargs = url.includes('=') ? url.replace(KEYWORD_ARGUMENT, (all, pre: string, name: string, sep: string, prefix: string, literal: string) =>
    literal.slice(1, -1) !== REDACTED && literal.length > 2 && holdsSecret(name, literal) ? `${pre}${name}${sep}${prefix}${literal[0]}${REDACTED}${literal[0]}` : all) : url;
  const flags = kwargs.replace(FLAG_IN_TEXT, (all, pre: string, flag: string, sep: string, value: string) => (isSecretFlag(flag) || isSecretAtNoPlace(flag.replace(/^-+/, ''), value) ? `${pre}${flag}${sep}${REDACTED}` : all));
  // The name without `export ` (one name: `export SECRET_PORT=5432` is judged as `SECRET_PORT`).
  const out = flags.replace(ASSIGNMENT_IN_TEXT, (all, pre: string, name: string, value: string) => (holdsSecret(name.replace(EXPORT, ''), value) ? `${pre}${name}=${REDACTED}` : all));
  return out === s ? s : out;
}

const EXPORT = /^export[ \t]+/;
/**
 * A list of object references (a ServiceAccount's `secrets: [{name: db-creds}]`, `{"name": "x", "namespace": "y"}`):
 * mappings of ObjectReference fields only, which name Secrets, as a block list of them does and stays.
 */
const REFERENCE_ITEM = String.raw`\{\s*(?:\\*["']?(?:name|namespace|kind|apiVersion|uid|resourceVersion|fieldPath)\\*["']?\s*:\s*[^\s,{}:]+\s*,?\s*)+\}`;
const REFERENCE_LIST = new RegExp(String.raw`^\s*${REFERENCE_ITEM}(?:\s*,\s*${REFERENCE_ITEM})*\s*,?\s*$`);
/** Whether a list of object references (REFERENCE_LIST) opens at `at` in the text. */
function isReferenceListAt(text: string, at: number): boolean {
  const list = /^\[([^[\]\n]*)\]/.exec(text.slice(at, at + 2000));
  return list !== null && REFERENCE_LIST.test(list[1]!);
}
/**
 * A secret-named key or assignment given a list on one line (`tokens: [a, b]`, `api_keys = ["a", "b"]`, `"tokens":
 * ["a"]`, escaped in JSON too): hidden whole, as the one-value rules hid its first item only and left the rest.
 */
/** Cheap test for FLOW_LIST: a list after ':' or '='. */
const FLOW_LIST_HINT = /[:=][ \t]*\[/;
const FLOW_LIST = /(^|[\s;,({[]|(?<=\\)[nrt])(\\*["']|)([A-Za-z_][\w.-]*)\2([ \t]*(?::|=(?!=))[ \t]*)\[([^[\]\n]*)\]/g;
/**
 * A Python keyword argument with blanks around its '=' (`Client(api_key = "x")`, one argument a line too): the
 * assignment patterns read a line's first `x = Client(api_key` as one assignment and went on after it, so the
 * keyword's literal was never read. String literals only (a name or an f-string names no value).
 */
const KEYWORD_ARGUMENT = /([(,]\s*)([A-Za-z_]\w*)([ \t]*=(?!=)[ \t]*)([rRbBuU]{0,2})("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')/g;
/** `--pass` / `-pass` in text (isSecretFlag's one name SECRET_NAME does not hold). */
const PASS_FLAG = /(?:^|[\s"'])--?pass[\s=]/;

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

/**
 * Names of a secret that name where or which one it is, not its value: a Secret object's name (`secretName:
 * db-creds` in a volume, `SECRET_NAME=db`), a reference; their values are what an analyst needs to follow.
 */
const NAMES_A_REFERENCE = /(?:name|ref|file|path|dir)$/i;
/**
 * A key or assignment whose value is a secret: a secret's name (isSecretName) that does not name a reference to one.
 *
 * @example
 * isSecretKey('db_password') // true
 * isSecretKey('secretName') // false
 */
export function isSecretKey(name: string): boolean {
  return isSecretName(name) && !NAMES_A_REFERENCE.test(name);
}
/**
 * In a script or config file (an Argo `script.source`, a KFP inline component, a ConfigMap's file): an assignment or
 * key of a secret's name with blanks, quotes or ':' around it — `password = "x"`, `os.environ["API_TOKEN"] = 'x'`,
 * `"token": "x"`, `db_password: x`, a key quoted in escaped JSON (`\"api_key\": x`) — up to the end of its quoted
 * value or word, or an escaped line break (`\n` of a YAML file inside JSON: the value under `password:\n` is
 * redactYamlValuesUnder's). Not `==`. A Python annotation is read with the separator (`api_key: str = "x"`,
 * `token: Optional[str] = "x"`: a settings class). A YAML anchor or tag after ':' (`password: &pw x`) is read with the separator; a
 * value already `[redacted]` is matched whole, so that it is no anchor's value.
 */
const SCRIPT_ASSIGNMENT = /(^|[\s;,({[]|(?<=\\)[nrt])(\\*["']|)([A-Za-z_][\w.-]*)\2(\]?[ \t]*(?::[ \t]*[A-Za-z_][\w.]*(?:\[[^\]\n=]*\])?(?:[ \t]*\|[ \t]*[A-Za-z_][\w.]*)*[ \t]*=(?!=)|:(?:[ \t]+[&!][^\s,;)}\]#{[=\\]*(?=[ \t]+[^\s#]))*|=(?!=))(?:[ \t]|\\+t)*)(\[redacted\]|\\+["']\[redacted\](?:\\+["'])?|os\.environ\[[^\][\n]*\]|os\.(?:environ\.get|getenv)\([^()\n]*\)|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|(?:[^\s"',;)}\]#{[=\\]|\\(?!\\*n))(?:[^\s,;)}\]#\\]|\\(?!\\*n))*)/g;

/**
 * The YAML line breaks in a text: real ones, and those escaped in a JSON string at any depth (`\n` in a ConfigMap file
 * kept in kubectl's last-applied JSON, `\\n` one string deeper; 2^(d-1) backslashes), by their backslash count.
 */
const ESCAPED_NEWLINE = /(?<!\\)(\\+)n/g;
/**
 * A YAML line holding only a key (`password:`, `"api_key": |`, `token: >- # note`, `- token:` in a list): its value is
 * on the lines under it (a block scalar, or a plain scalar continued there); group 1 is its column. In an escaped string the key may follow the string's
 * opening quote (`{\"config.yaml\":\"password: |\n…`).
 */
function yamlKeyLine(depth: number): RegExp {
  let re = yamlKeyLineAt.get(depth);
  if (!re) {
    const blank = depth === 0 ? '[ \\t]' : '(?:[ \\t]|\\\\+t)';
    re = new RegExp(`${lineStart(depth)}(${blank}*(?:-${blank}+)*)(\\\\*["']|)([A-Za-z_][\\w.-]*)\\2${blank}*:(?:[ \\t]+[&!][^\\s#]*)*[ \\t]*([|>][+-]?[1-9]?[+-]?)?[ \\t]*(?:#[^\\n\\r]*)?\\r?$`);
    yamlKeyLineAt.set(depth, re);
  }
  return re;
}
const yamlKeyLineAt = new Map<number, RegExp>();
/** An explicit YAML key (`? password`, `? "api_key"`), group 1 its column, 3 its name; its value follows on a ':' line. */
function explicitKeyLine(depth: number): RegExp {
  let re = explicitKeyLineAt.get(depth);
  if (!re) explicitKeyLineAt.set(depth, (re = new RegExp(`${lineStart(depth)}([ \\t]*(?:-[ \\t]+)*)\\?[ \\t]+(\\\\*["']|)([A-Za-z_][\\w.-]*)\\2[ \\t]*(?:#[^\\n\\r]*)?\\r?$`)));
  return re;
}
const explicitKeyLineAt = new Map<number, RegExp>();
/** The ':' line of an explicit key's value: group 1 its column. */
function explicitValueLine(depth: number): RegExp {
  let re = explicitValueLineAt.get(depth);
  if (!re) explicitValueLineAt.set(depth, (re = new RegExp(`${lineStart(depth)}([ \\t]*):`)));
  return re;
}
const explicitValueLineAt = new Map<number, RegExp>();
/** A value on an explicit key's ':' line (after its blanks, an anchor or tag kept): not a block indicator or a comment. */
const EXPLICIT_INLINE_VALUE = /^([ \t]+(?:[&!][^\s#]*[ \t]+)*)([^\s#|>&!](?:[^\r]*[^\s])?)[ \t]*\r?$/;
/** Where a YAML line may start at that depth: the text's start, or an escaped string's opening quote. */
function lineStart(depth: number): string {
  return depth === 0 ? '^' : `(?:^|(?<=(?:^|[^\\\\])${backslashesSource(2 ** (depth - 1) - 1)}"))`;
}
/**
 * Pattern source for `n` backslashes, as a count (`\\{n}`): written out, a string escaped 20 deep (2^19 backslashes
 * before its `n`, a 1 MB body) made a pattern V8 refuses ("Regular expression too large") and redaction threw.
 */
function backslashesSource(n: number): string {
  return n === 0 ? '' : `\\\\{${n}}`;
}
/** A YAML sequence entry (`- x`, `-` alone). */
const SEQUENCE_ITEM = /^-(?:[ \t]|\r?$)/;
/** A line under a key that is a nested mapping's key (`  name: x`, `- name: x`): the key's value is no scalar. */
const YAML_MAPPING_LINE = /^[ \t]*(?:-[ \t]+)?(?:\\*["'][^"']*\\*["']|[\w.-]+)[ \t]*:(?:[ \t]|$)/;
const LEADING_BLANKS = /^[ \t]*/;
/** The same in an escaped string, whose tabs are written `\\t` (`\\\\t` a string deeper). */
const LEADING_BLANKS_ESCAPED = /^(?:[ \t]|\\+t)*/;
const stringEndAt = new Map<number, RegExp>();
/** Where an escaped string of that depth ends in a line (its closing quote: 2^(d-1)-1 backslashes), -1 if not in it. */
function stringEnd(line: string, depth: number): number {
  if (depth === 0) return -1;
  let re = stringEndAt.get(depth);
  if (!re) stringEndAt.set(depth, (re = new RegExp(`(?:^|[^\\\\])(${backslashesSource(2 ** (depth - 1) - 1)}")`)));
  const m = re.exec(line);
  return m ? m.index + m[0].length - m[1]!.length : -1;
}

/**
 * A secret-named YAML key's value written on the lines under it — a block scalar (`password: |`, `private_key: >-`)
 * or a plain scalar or list continued there (`password:` then the value indented on the next line) — hidden as one
 * `[redacted]` line at the first line's indentation; the `|` indicator, blank lines after, and the next keys stay.
 * Read at every depth of JSON escaping the text holds (a YAML file inside last-applied JSON, inside a JSON file): an
 * escaped string ends the value at its closing quote. A nested mapping under the key is left to the key rules.
 */
function redactYamlValuesUnder(text: string): string {
  const depths = yamlDepths(text);
  let out = text;
  for (const depth of depths) out = redactYamlValuesAt(out, depth);
  // Real lines are redactMultiLineStrings' and redactYamlPlainContinued's.
  for (const depth of depths) if (depth > 0) out = redactYamlSpansAt(out, depth);
  return out;
}
/** A YAML key line with its value begun on it, in an escaped string of that depth: group 1 the key's column, 3 its name, 5 the value. */
function yamlValueLine(depth: number): RegExp {
  let re = yamlValueLineAt.get(depth);
  if (!re) {
    const blank = '(?:[ \\t]|\\\\+t)';
    yamlValueLineAt.set(depth, (re = new RegExp(`${lineStart(depth)}(${blank}*(?:-${blank}+)?)(\\\\*["']|)([A-Za-z_][\\w.-]*)\\2(${blank}*:${blank}+(?:[&!][^\\s#\\\\]*${blank}+)*)(\\S.*)$`)));
  }
  return re;
}
const yamlValueLineAt = new Map<number, RegExp>();
/** A double quote inside a string of that depth (2^d-1 backslashes before it), not one escaped in YAML too. */
function escapedQuote(depth: number): RegExp {
  let re = escapedQuoteAt.get(depth);
  if (!re) escapedQuoteAt.set(depth, (re = new RegExp(`(?<!\\\\)${backslashesSource(2 ** depth - 1)}"`)));
  return re;
}
const escapedQuoteAt = new Map<number, RegExp>();
/** A YAML single-quoted scalar's closing quote: a lone `'` (`''` is a quote inside it). */
const SINGLE_QUOTE_END = /(?<!')(?:'')*'(?!')/;
/**
 * In YAML held in an escaped string of that depth: a secret-named key's quoted value spanning lines (`password: \\"a`
 * … `b\\"`, `'a` … `b'`) and a plain value continued on more-indented lines, hidden whole on the key's line (as
 * redactMultiLineStrings and redactYamlPlainContinued do on real lines). The value ends at its string's end when cut there.
 */
function redactYamlSpansAt(text: string, depth: number): string {
  const nl = yamlLineBreak(depth);
  const lines = yamlLines(text, depth);
  if (lines.length < 2) return text;
  const valueLine = yamlValueLine(depth);
  const dq = escapedQuote(depth);
  const out: string[] = [];
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    out.push(line);
    if (i === lines.length - 1 || !SECRET_NAME.test(line)) continue;
    const m = valueLine.exec(line);
    // A value its string ends on this line with is the one-line rules'.
    if (!m || !isSecretKey(m[3]!) || stringEnd(m[5]!, depth) >= 0) continue;
    const value = m[5]!;
    const head = line.slice(0, m.index + m[0].length - value.length);
    const quote = dq.exec(value);
    const q = quote?.index === 0 ? quote[0] : value[0] === "'" ? "'" : '';
    let last = -1;
    let rest = '';
    if (q !== '') {
      // Quoted: up to its closing quote on a later line (one on this line is the one-line rules'), or the string's end.
      const close = q === "'" ? SINGLE_QUOTE_END : dq;
      if (close.test(value.slice(q.length))) continue;
      for (let j = i + 1; j < lines.length && last < 0; j++) {
        const end = stringEnd(lines[j]!, depth);
        const own = end < 0 ? lines[j]! : lines[j]!.slice(0, end);
        const c = close.exec(own);
        if (c) [last, rest] = [j, `${q}${own.slice(c.index + c[0].length)}${end < 0 ? '' : lines[j]!.slice(end)}`];
        else if (end >= 0) [last, rest] = [j, lines[j]!.slice(end)];
      }
    } else {
      // Plain: YAML folds the more-indented lines under the key into the value; a nested key or a comment ends it.
      if ((value !== REDACTED && /^[|>[{#&!*]/.test(value)) || CODE_GOES_ON.test(value) || !holdsSecret(m[3]!, value)) continue;
      const indent = m[1]!.length;
      for (let j = i + 1; j < lines.length; j++) {
        const end = stringEnd(lines[j]!, depth);
        const own = end < 0 ? lines[j]! : lines[j]!.slice(0, end);
        const lead = LEADING_BLANKS_ESCAPED.exec(own)![0].length;
        if (own.trim() !== '') {
          if (lead <= indent || own[lead] === '#' || YAML_MAPPING_LINE.test(own.slice(lead))) break;
          [last, rest] = [j, end < 0 ? '' : lines[j]!.slice(end)];
        }
        if (end >= 0) break;
      }
    }
    if (last < 0) continue;
    out[out.length - 1] = `${head}${q}${REDACTED}${rest}`;
    i = last;
    changed = true;
  }
  return changed ? out.join(nl) : text;
}
/** The text's lines at that depth of escaping (split at real line breaks, or at `\\n` escaped 2^(d-1) times). */
function yamlLines(text: string, depth: number): string[] {
  if (depth === 0) return text.split('\n');
  let re = lineBreakAt.get(depth);
  if (!re) lineBreakAt.set(depth, (re = new RegExp(`(?<!\\\\)${backslashesSource(2 ** (depth - 1))}n`)));
  return text.split(re);
}
const lineBreakAt = new Map<number, RegExp>();
/** The line break that joins lines of that depth again. */
function yamlLineBreak(depth: number): string {
  return depth === 0 ? '\n' : `${'\\'.repeat(2 ** (depth - 1))}n`;
}
/** The depths of JSON escaping at which the text holds line breaks (0: real ones), so YAML may be read there. */
function yamlDepths(text: string): Set<number> {
  const depths = new Set<number>(text.includes('\n') ? [0] : []);
  if (text.includes('\\')) for (const m of text.matchAll(ESCAPED_NEWLINE)) if ((m[1]!.length & (m[1]!.length - 1)) === 0) depths.add(Math.log2(m[1]!.length) + 1);
  return depths;
}
function redactYamlValuesAt(text: string, depth: number): string {
  const nl = yamlLineBreak(depth);
  const lines = yamlLines(text, depth);
  if (lines.length < 2) return text;
  const keyLine = yamlKeyLine(depth);
  const leading = depth === 0 ? LEADING_BLANKS : LEADING_BLANKS_ESCAPED;
  let changed = false;
  for (let i = 0; i < lines.length - 1; i++) {
    let m = keyLine.exec(lines[i]!);
    if (!m && lines[i]!.includes('?')) {
      // An explicit key (`? password`, then `: value` at its column): the value is judged on the ':' line, or under it.
      const k = explicitKeyLine(depth).exec(lines[i]!);
      const v = k && isSecretKey(k[3]!) ? explicitValueLine(depth).exec(lines[i + 1]!) : null;
      if (!v || v[1]!.length !== k![1]!.length) continue;
      const end = stringEnd(lines[i + 1]!, depth);
      const own = end < 0 ? lines[i + 1]! : lines[i + 1]!.slice(0, end);
      const inline = EXPLICIT_INLINE_VALUE.exec(own.slice(v[0].length));
      if (inline) {
        if (inline[2] !== REDACTED && holdsSecret(k![3]!, inline[2]!)) {
          lines[i + 1] = `${v[0]}${inline[1]}${REDACTED}${own.endsWith('\r') ? '\r' : ''}${end < 0 ? '' : lines[i + 1]!.slice(end)}`;
          changed = true;
        }
        continue;
      }
      // `:` alone or a block indicator: the lines under it are the value, as under a key line.
      i++;
      m = keyLine.exec(`${v[1]}${k![3]}:${own.slice(v[1]!.length + 1)}`);
      if (!m) continue;
    }
    if (!m || !isSecretKey(m[3]!)) continue;
    const indent = m[1]!.length;
    // The value's lines: deeper than the key (blank lines among them), up to the last deeper one or the string's end.
    let last = -1;
    let tail = '';
    for (let j = i + 1; j < lines.length; j++) {
      const line = lines[j]!;
      const end = stringEnd(line, depth);
      const own = end < 0 ? line : line.slice(0, end);
      if (own.trim() === '') {
        if (end >= 0) break;
        continue;
      }
      const lineIndent = leading.exec(own)![0].length;
      // A plain key's list may be written at the key's own indentation (`tokens:` then `- x`, as kubectl writes YAML).
      if (lineIndent < indent || (lineIndent === indent && !(m[4] === undefined && SEQUENCE_ITEM.test(own.slice(indent))))) break;
      // A plain key's value is a scalar or a list of scalars; a mapping under it is judged key by key. Told by its first
      // line, before reading further: nested keys each read every deeper line, cubic in a staircase of indented keys.
      if (last < 0 && m[4] === undefined && YAML_MAPPING_LINE.test(own)) break;
      last = j;
      if (end >= 0) {
        tail = line.slice(end);
        break;
      }
    }
    if (last < 0) continue;
    const first = lines.slice(i + 1, last + 1).find((l) => l.trim() !== '')!;
    const lead = leading.exec(first)![0];
    const body = lines.slice(i + 1, last + 1).join('\n').trim();
    if (body === REDACTED || body === `- ${REDACTED}`) continue;
    // A CRLF file keeps its line ends.
    const cr = tail === '' && lines[last]!.endsWith('\r') ? '\r' : '';
    lines.splice(i + 1, last - i, `${lead}${lead.length === indent ? '- ' : ''}${REDACTED}${tail}${cr}`);
    changed = true;
  }
  return changed ? lines.join(nl) : text;
}
/**
 * A YAML key line with a plain value on it (`password: x`, `- token: x`): group 1 the key's column, 5 where its value
 * starts. Not a quoted, block, flow, anchored or commented value (those are other rules'); one the header rule hid
 * (`[redacted]`) is.
 */
const YAML_PLAIN_VALUE_LINE = /^([ \t]*(?:-[ \t]+)?)(["']?)([A-Za-z_][\w.-]*)\2([ \t]*:[ \t]+)(\[redacted\]|[^\s"'|>&!#[{](?:[^#\n]*[^\s#])?)[ \t]*\r?$/;
/** A value on its key's line that is code going on, not YAML (`password: str = (`, `token: x,`, `key: f(`). */
const CODE_GOES_ON = /[([{,\\:=][ \t]*\r?$/;
/**
 * A secret-named key's plain value continued on the more-indented lines under it (`password: x` then `  more`: YAML
 * folds those lines into the value) hidden whole, on the key's line; the one-line rules hid its first line only. A
 * nested key or a comment under it ends the value, as in YAML. Real line breaks only.
 */
function redactYamlPlainContinued(text: string): string {
  if (!text.includes('\n')) return text;
  const lines = text.split('\n');
  // Built anew, not spliced: a splice per value was quadratic in a file of many.
  const out: string[] = [];
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    out.push(line);
    if (!line.includes(':') || i === lines.length - 1) continue;
    const m = YAML_PLAIN_VALUE_LINE.exec(line);
    if (!m || CODE_GOES_ON.test(m[5]!) || !holdsSecret(m[3]!, m[5]!)) continue;
    const indent = m[1]!.length;
    let last = -1;
    for (let j = i + 1; j < lines.length; j++) {
      const next = lines[j]!;
      if (next.trim() === '') continue;
      const lead = LEADING_BLANKS.exec(next)![0].length;
      if (lead <= indent || next[lead] === '#' || YAML_MAPPING_LINE.test(next)) break;
      last = j;
    }
    if (last < 0) continue;
    const cr = lines[last]!.endsWith('\r') ? '\r' : '';
    out[out.length - 1] = `${line.slice(0, m[1]!.length + m[2]!.length * 2 + m[3]!.length + m[4]!.length)}${REDACTED}${cr}`;
    i = last;
    changed = true;
  }
  return changed ? out.join('\n') : text;
}

/**
 * A secret's name as a string literal handed a string literal next (`os.environ.setdefault("HF_TOKEN", "x")`,
 * `os.putenv('API_TOKEN', 'x')`, `headers={"Authorization": "Bearer x"}` is SCRIPT_ASSIGNMENT's): the second is its value, unless it is a key (JSON's
 * `{"name":"HF_TOKEN","value":…}`, whose value the key rules judge).
 */
const NAME_THEN_VALUE_ARGS = /(["'])([A-Za-z_][\w.-]*)\1([ \t]*,[ \t]*)("(?:[^"\\\n]|\\.)+"|'(?:[^'\\\n]|\\.)+')(?![ \t]*:)/g;
/** An environment variable's name as written (`HF_TOKEN`): a lower-case `"token"` there is a message's word. */
const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;
/** A credential header's name, as a key of a script's headers (`"Authorization": "Bearer x"`). */
const AUTH_HEADER_NAME = /^(?:proxy-)?authorization$/i;
/** A YAML anchor or tag (`&pw`, `!!str`), and a line's end after one. */
const YAML_PROPERTY = /^[&!]/;
const YAML_LINE_END = /^\r?\n/;
/** A Python type of a string-like value, alone or in a union (`str`, `Optional[str]`, `SecretStr | None`). */
const PY_TYPE = String.raw`(?:typing\.|t\.|pydantic\.)?(?:str|bytes|Any|SecretStr|SecretBytes|None|(?:Optional|Union|Annotated)\[[\w.[\], |]*\])`;
/**
 * A type annotation ending a parameter (`def f(password: str, …)`, `token: Optional[str])`): the name is typed, no
 * value is given, so nothing is hidden. Followed by `,` or `)` only: a YAML value (`password: str`) stays a value.
 */
const PY_TYPE_ONLY = new RegExp(String.raw`^${PY_TYPE}(?:[ \t]*\|[ \t]*${PY_TYPE})*[ \t]*[,)]`);
/** What follows a Python annotation's type (`api_key: str = "x"`): the type is no header's value. */
const ANNOTATION_END = /^(?:\[[^\]\n=]*\])?(?:[ \t]*\|[ \t]*[A-Za-z_][\w.]*)*[ \t]*=(?!=)/;
/** A YAML block scalar's header (`|`, `>-`, `|2+`): the value follows on the next lines. */
const YAML_BLOCK_INDICATOR = /^[|>][+-]?[1-9]?[+-]?$/;

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
function redactCredentialCalls(text: string): string {
  if (!CREDENTIAL_CALL_HINT.test(text)) return text;
  return text.replace(CREDENTIAL_CALL, (all, head: string, literal: string) => {
    const open = literal.search(/["']/);
    const q = literal[open]!;
    if (literal.slice(open + 1, -1) === REDACTED || literal.length - open <= 2) return all;
    return `${head}${literal.slice(0, open)}${q}${REDACTED}${q}`;
  });
}

/**
 * Script or config text (redactSecretText, and SCRIPT_ASSIGNMENT): secret-named assignments and keys, also quoted or
 * spaced, are hidden, those naming a reference (`secretName`, `TOKEN_PATH`) stay. The same string (===) when nothing is.
 *
 * @example
 * redactScriptText('import os\npassword = "pw"\nsecretName: db') // 'import os\npassword = "[redacted]"\nsecretName: db'
 */
export function redactScriptText(s: string): string {
  const text = redactDockerAuths(redactSecretText(s));
  if (!SECRET_NAME.test(text) && !/authorization/i.test(text)) return text === s ? s : text;
  const blocks = redactMultiLineStrings(redactYamlPlainContinued(redactYamlValuesUnder(text)));
  const args = blocks.replace(NAME_THEN_VALUE_ARGS, (all, q: string, name: string, sep: string, value: string) =>
    ENV_NAME.test(name) && isSecretKey(name) && value.slice(1, -1) !== REDACTED && !ENV_NAME.test(value.slice(1, -1)) ? `${q}${name}${q}${sep}${value[0]}${REDACTED}${value[0]}` : all);
  const out = args.replace(SCRIPT_ASSIGNMENT, redactScriptAssignment);
  return out === s ? s : out;
}
/**
 * A docker config's `auths` object (`config.json`, `.dockerconfigjson`: `{"auths": {"<registry>": {"auth": "<base64
 * user:password>"}}}`), quoted at any depth of JSON escaping (a ConfigMap file, last-applied JSON). `auth` names no
 * secret elsewhere, so its value is hidden only under `auths`.
 */
const DOCKER_AUTHS = /(?<![\w\\])(\\*["']?)auths\1(?:\s|\\+[nrt])*:(?:\s|\\+[nrt])*\{/g;
const DOCKER_AUTH_VALUE = /((?<![\w\\])(\\*["']?)auth\2(?:\s|\\+[nrt])*:(?:\s|\\+[nrt])*\2)[A-Za-z0-9+/_-]+=*(?=\2)/g;
/** Text with the `auth` value of every registry under a docker config's `auths` hidden; the same string (===) when none. */
function redactDockerAuths(text: string): string {
  if (!text.includes('auths')) return text;
  let yaml = text;
  for (const depth of yamlDepths(text)) yaml = redactDockerAuthsYamlAt(yaml, depth);
  return redactDockerAuthsJson(yaml);
}
/** A YAML `auths:` key line (a docker config written as YAML), group 1 its column. */
function yamlAuthsLine(depth: number): RegExp {
  let re = yamlAuthsLineAt.get(depth);
  if (!re) {
    const blank = depth === 0 ? '[ \\t]' : '(?:[ \\t]|\\\\+t)';
    yamlAuthsLineAt.set(depth, (re = new RegExp(`${lineStart(depth)}(${blank}*(?:-${blank}+)?)(\\\\*["']|)auths\\2${blank}*:${blank}*(?:#[^\\n\\r]*)?\\r?$`)));
  }
  return re;
}
const yamlAuthsLineAt = new Map<number, RegExp>();
/** A YAML `auth: <base64>` line (quoted or not, also in an escaped string): group 1 up to the value, 3 its quote. */
const YAML_AUTH_LINE = /^((?:[ \t]|\\+t)*(\\*["']|)auth\2(?:[ \t]|\\+t)*:(?:[ \t]|\\+t)+(\\*["']|))[A-Za-z0-9+/_-]+=*(?=\3(?:[ \t]|\\+t)*(?:#.*)?\r?$)/;
/**
 * A docker config written as YAML (`auths:` then `<registry>:` then `auth: <base64>`, in a ConfigMap file or a Helm
 * values file), at any depth of escaping: every `auth` value in the lines under `auths` hidden.
 */
function redactDockerAuthsYamlAt(text: string, depth: number): string {
  const lines = yamlLines(text, depth);
  const authsLine = yamlAuthsLine(depth);
  const leading = depth === 0 ? LEADING_BLANKS : LEADING_BLANKS_ESCAPED;
  let changed = false;
  for (let i = 0; i < lines.length - 1; i++) {
    const m = lines[i]!.includes('auths') ? authsLine.exec(lines[i]!) : null;
    if (!m) continue;
    const indent = m[1]!.length;
    for (let j = i + 1; j < lines.length; j++) {
      const end = stringEnd(lines[j]!, depth);
      const own = end < 0 ? lines[j]! : lines[j]!.slice(0, end);
      if (own.trim() !== '') {
        if (leading.exec(own)![0].length <= indent) break;
        const a = YAML_AUTH_LINE.exec(own);
        if (a) {
          lines[j] = `${a[1]}${REDACTED}${lines[j]!.slice(a[0].length)}`;
          changed = true;
        }
      }
      if (end >= 0) break;
      i = j;
    }
  }
  return changed ? lines.join(yamlLineBreak(depth)) : text;
}
/** The JSON form (`{"auths": {…}}`, a flow mapping `auths: {r: {auth: x}}` too). */
function redactDockerAuthsJson(text: string): string {
  let out = '';
  let done = 0;
  for (const m of text.matchAll(DOCKER_AUTHS)) {
    if (m.index < done) continue;
    // The auths object ends at its closing brace (registries and base64 hold none), or at the text's end when cut.
    let depth = 0;
    let end = m.index + m[0].length - 1;
    for (; end < text.length; end++) {
      const c = text.charCodeAt(end);
      if (c === 123 /* { */) depth++;
      else if (c === 125 /* } */ && --depth === 0) break;
    }
    out += text.slice(done, m.index) + text.slice(m.index, end).replace(DOCKER_AUTH_VALUE, `$1${REDACTED}`);
    done = end;
  }
  return done === 0 ? text : out + text.slice(done);
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
/** `"""[redacted]"""`: a triple-quoted value redactMultiLineStrings hid (SCRIPT_ASSIGNMENT reads its quotes apart). */
const TRIPLE_REDACTED = /^[rRbBuU]{0,2}("""|''')\[redacted\]\1/;

/** One SCRIPT_ASSIGNMENT match: a secret's value hidden; a quoted value that is no secret is read for pairs inside it. */
function redactScriptAssignment(all: string, pre: string, q: string, name: string, sep: string, value: string, at: number, text: string): string {
  const secret = holdsSecret(name, value) || (q !== '' && AUTH_HEADER_NAME.test(name) && /^["']/.test(value));
  if (secret) {
    // A YAML anchor or tag alone on its key's line: the value under it was hidden (redactYamlValuesUnder).
    if (YAML_PROPERTY.test(value) && VALUE_HIDDEN_UNDER.test(text.slice(at + all.length, at + all.length + 200))) return all;
    if (TRIPLE_REDACTED.test(text.slice(at + all.length - value.length, at + all.length - value.length + 18))) return all;
  }
  if (!secret || value === REDACTED || value.slice(1, -1) === REDACTED || YAML_BLOCK_INDICATOR.test(value)) {
    // A JSON string holding YAML or JSON (`"f": "creds: {password: x}"`) was matched whole: its own pairs are read
    // too. (A global replace collects every match before calling back, so using the pattern again here is safe.)
    if (value.length < 3 || (value[0] !== '"' && value[0] !== "'") || !SECRET_NAME.test(value)) return all;
    const inner = value.slice(1, -1).replace(SCRIPT_ASSIGNMENT, redactScriptAssignment);
    return inner === value.slice(1, -1) ? all : `${pre}${q}${name}${q}${sep}${value[0]}${inner}${value[0]}`;
  }
  // A parameter's type (`def f(password: str, …)`): no value is given.
  if (!sep.includes('=') && PY_TYPE_ONLY.test(value + text.slice(at + all.length, at + all.length + 80))) return all;
  // A value quoted in escaped JSON (`\"x\"`) keeps its quotes, the closing one only if the line did not cut it.
  const vq = value[0] === '"' || value[0] === "'" ? value[0] : (ESCAPED_QUOTE.exec(value)?.[0] ?? '');
  if (vq.length > 1 && value.slice(vq.length, value.endsWith(vq) ? -vq.length : undefined) === REDACTED) return all;
  return `${pre}${q}${name}${q}${sep}${vq}${REDACTED}${vq.length > 1 && !(value.length > vq.length && value.endsWith(vq)) ? '' : vq}`;
}
const ESCAPED_QUOTE = /^\\+["']/;
/** `[redacted]` for a value, in the escaped quotes it had (`\\"x\\"`: a quoted value in a JSON string), the closing one if it was there. */
function hideKeepingEscapedQuotes(value: string): string {
  const q = ESCAPED_QUOTE.exec(value)?.[0];
  if (q === undefined) return REDACTED;
  return `${q}${REDACTED}${value.length > q.length && value.endsWith(q) ? q : ''}`;
}
/** The next line is a value redactYamlValuesUnder hid. */
const VALUE_HIDDEN_UNDER = /^\r?\n[ \t]*(?:- )?\[redacted\]/;

/** One base64 word (a ConfigMap's `binaryData` value, a file stored encoded under `data`), padded as Kubernetes writes it. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/**
 * Base64 as other tools write it, under `data`: padding left off, the URL-safe alphabet (`-`, `_`), lines wrapped
 * (`base64` wraps at 76: the breaks are removed first). Buffer decodes all of these.
 */
const BASE64_LOOSE = /^[A-Za-z0-9+/_-]+={0,2}$/;
/** Text as a file holds it: no control characters but tab and line breaks. */
const CONTROL_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
/** The same in Latin-1 text, with its C1 controls (most bytes of binary data decode to one or another). */
const LATIN1_CONTROL_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });
/**
 * A base64 value whose decoded bytes are text holding what redactScriptText or redactUrlSecrets hides (an encoded
 * `.env`, credentials file, properties, a PEM key) replaced whole by `[redacted]`: only the secret part of decoded
 * text could be hidden, and re-encoding a partly hidden file would pass off an edited file as the one sent. Binary
 * data, text without secrets and values that are no base64 are returned as they are (===). `cut`: the value is the
 * start of one (a quarantined line ends in it), whose last character may be split. The text is UTF-8 or else Latin-1
 * (a file saved on Windows), and may itself be base64 (encoded twice: read once more).
 *
 * @example
 * redactBase64Text(Buffer.from('DB_PASSWORD=x\n').toString('base64')) // '[redacted]'
 */
export function redactBase64Text(value: string, cut = false): string {
  return value.length >= 8 && base64HoldsSecret(value, cut, 2) ? REDACTED : value;
}
function base64HoldsSecret(value: string, cut: boolean, depth: number): boolean {
  const word = BLANKS.test(value) ? value.replace(BLANKS_ALL, '') : value;
  // No base64 leaves one character over a group of four.
  if (!BASE64_LOOSE.test(word) || word.replace(/=+$/, '').length % 4 === 1) return false;
  const text = bytesAsText(Buffer.from(word, 'base64'), cut, true);
  if (text === undefined) return false;
  if (redactUrlSecrets(redactScriptText(text)) !== text) return true;
  const inner = text.trim();
  return depth > 1 && inner.length >= 8 && base64HoldsSecret(inner, false, depth - 1);
}
/** Blanks and line breaks splitting base64 (`base64` wraps at 76, `-w 64`, groups pasted with spaces): removed first. */
const BLANKS = /\s/;
const BLANKS_ALL = /\s+/g;
/** The most a gzip-compressed value is inflated to: its text is judged by that much (a ConfigMap holds 1 MiB at most). */
const GZIP_TEXT_LIMIT = 256 * 1024;
/**
 * The bytes as text a file would hold, undefined when they are binary: gzip-compressed (`H4sI…`: inflated, at most
 * GZIP_TEXT_LIMIT bytes, once), UTF-16 (a BOM, or ASCII text's zero byte in every pair: Windows tools write it), UTF-8,
 * else Latin-1. `cut`: the bytes are a value's start, so a split last character is dropped.
 */
function bytesAsText(bytes: Buffer, cut: boolean, gzip: boolean): string | undefined {
  if (gzip && bytes.length > 18 && bytes[0] === 0x1f && bytes[1] === 0x8b && bytes[2] === 8) {
    const inflated = gunzipBounded(bytes);
    return inflated === undefined ? undefined : bytesAsText(inflated.bytes, cut || inflated.cut, false);
  }
  const utf16 = utf16Text(bytes, cut);
  if (utf16 !== undefined) return CONTROL_CHAR.test(utf16) ? undefined : utf16;
  const text = decodeUtf8(bytes, cut);
  if (text !== undefined) return CONTROL_CHAR.test(text) ? undefined : text;
  const latin1 = bytes.toString('latin1');
  return LATIN1_CONTROL_CHAR.test(latin1) ? undefined : latin1;
}
/**
 * A gzip stream inflated to at most GZIP_TEXT_LIMIT bytes (`cut` when it held more, or was itself cut: a sync flush
 * takes a stream's start); undefined when it is no gzip. Larger streams are read from a shorter start, never whole.
 */
function gunzipBounded(bytes: Buffer): { bytes: Buffer; cut: boolean } | undefined {
  for (let n = bytes.length; n > 0; n = Math.floor(n / 8)) {
    try {
      const out = gunzipSync(bytes.subarray(0, n), { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: GZIP_TEXT_LIMIT });
      return { bytes: out, cut: n < bytes.length };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') return undefined;
    }
  }
  return undefined;
}
/** UTF-16 text (little- or big-endian, by its BOM or by the zero bytes of ASCII text), undefined when the bytes are none. */
function utf16Text(bytes: Buffer, cut: boolean): string | undefined {
  const even = bytes.subarray(0, bytes.length - (bytes.length % 2));
  if (even.length < 4 || (even.length !== bytes.length && !cut)) return undefined;
  let le = even[0] === 0xff && even[1] === 0xfe;
  let be = even[0] === 0xfe && even[1] === 0xff;
  if (!le && !be) {
    // ASCII text in UTF-16: one zero byte in (nearly) every pair, on the same side; UTF-8 and Latin-1 text hold none.
    let zeroHigh = 0;
    let zeroLow = 0;
    for (let i = 0; i < even.length; i += 2) {
      if (even[i] !== 0 && even[i + 1] === 0) zeroHigh++;
      else if (even[i] === 0 && even[i + 1] !== 0) zeroLow++;
    }
    const pairs = even.length / 2;
    le = zeroHigh >= pairs * 0.9;
    be = !le && zeroLow >= pairs * 0.9;
    if (!le && !be) return undefined;
  }
  const body = le ? Buffer.from(even) : Buffer.from(even).swap16();
  const text = body.toString('utf16le');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * The bytes as UTF-8 text, undefined if they are none. `cut`: the bytes are a value's start (a quarantined line cut it),
 * so a character the cut split at their end (up to 3 bytes of it) is dropped, not taken for binary.
 */
function decodeUtf8(bytes: Buffer, cut: boolean): string | undefined {
  for (let drop = 0; drop <= (cut ? Math.min(3, bytes.length) : 0); drop++) {
    try {
      return UTF8.decode(bytes.subarray(0, bytes.length - drop));
    } catch {
      // Try one byte less.
    }
  }
  return undefined;
}

/**
 * A container's `args` / `command` (or an exec command) with the values of secret-named flags hidden: `--token=x`,
 * `--token` followed by its value (unless that is another `--flag`), flags and assignments inside a shell string,
 * and URL user-info; after a MySQL / MariaDB client `-pPASS`, after sshpass `-p PASS`, after curl `-u user:PASS`.
 * `command`: the command the list belongs to when it does not start with it (a container's `args`: its `command`'s
 * first word or its image's name; commandName reads it). Returns the same array (===) when nothing was hidden, and
 * the indices of what was.
 *
 * @example
 * redactArgv(['--token', 'abc', '--epochs=3']) // { argv: ['--token', '[redacted]', '--epochs=3'], changed: [1] }
 * redactArgv(['-uroot', '-pS3cret', 'db'], 'mysql') // { argv: ['-uroot', '-p[redacted]', 'db'], changed: [1] }
 */
export function redactArgv(argv: readonly unknown[], command?: string): { argv: readonly unknown[]; changed: number[] } {
  let copy: unknown[] | undefined;
  const changed: number[] = [];
  let valueIsSecret = false;
  /** The previous argument was a secret-named place flag (`--token-file`): its value is hidden unless it is a place. */
  let placeFlag: string | undefined;
  let userFlag: string | undefined;
  let cmd = command === undefined ? undefined : commandName(command);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (typeof a !== 'string') {
      valueIsSecret = false;
      userFlag = undefined;
      continue;
    }
    let r: string;
    const place = placeFlag;
    placeFlag = undefined;
    const userValue = userFlag === undefined ? undefined : hideUserFlagValue(userFlag, a, cmd);
    if ((valueIsSecret || (place !== undefined && isSecretAtNoPlace(place, a))) && a !== '' && !a.startsWith('--')) {
      r = REDACTED;
      valueIsSecret = false;
    } else if (userValue !== undefined) {
      r = userValue;
      userFlag = undefined;
    } else if (a.length > 2 && a.startsWith('-p') && dashPIsPassword(cmd, true)) {
      // `-pPASS` of a MySQL client or sshpass (FLAG_ALONE would read it as a flag).
      r = `-p${REDACTED}`;
      valueIsSecret = false;
      userFlag = undefined;
    } else if (FLAG_ALONE.test(a)) {
      valueIsSecret = isSecretFlag(a) || (a === '-p' && dashPIsPassword(cmd, false));
      placeFlag = a.replace(/^-+/, '');
      userFlag = USER_PASSWORD_FLAGS.has(a) || CURL_USER_FLAGS.has(a) ? a : cmd === 'curl' && CURL_FLAG_CLUSTER.test(a) ? '-u' : undefined;
      continue;
    } else {
      valueIsSecret = false;
      userFlag = undefined;
      if (a.charCodeAt(0) !== 45 /* - */) {
        const name = commandName(a);
        if (name !== undefined) {
          cmd = name;
          continue;
        }
      }
      const m = FLAG_WITH_VALUE.exec(a) ?? GLUED_USER_FLAG.exec(a) ?? (cmd === 'curl' ? CURL_GLUED_CLUSTER.exec(a) : null);
      const userPassword = m ? hideUserFlagValue(CURL_FLAG_CLUSTER.test(m[1]!) ? '-u' : m[1]!, m[2]!, cmd) : undefined;
      const sep = m && a[m[1]!.length] === '=' ? '=' : '';
      r = m && m[2] !== '' && (isSecretFlag(m[1]!) || isSecretAtNoPlace(m[1]!.replace(/^-+/, ''), m[2]!)) ? `${m[1]}=${REDACTED}` : userPassword !== undefined ? `${m![1]}${sep}${userPassword}` : a.includes('\n') ? redactScriptText(a) : redactSecretTextAfter(a, cmd);
    }
    if (r !== a) {
      (copy ??= argv.slice())[i] = r;
      changed.push(i);
    }
  }
  return { argv: copy ?? argv, changed };
}
/** curl's `-uuser:pass` (the value glued to the flag). */
const GLUED_USER_FLAG = /^(-[uU])([^]+)$/;
