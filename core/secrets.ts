/** What names a secret and what hides one: shared so every place that keeps or shows records redacts alike. */

/**
 * A name (env var, config key, header) whose value is a secret (`routing_key`: PagerDuty's). Substrings, case-insensitive, so that
 * `AWS_SECRET_ACCESS_KEY`, `MLFLOW_TRACKING_PASSWORD`, `HF_TOKEN` and `AZURE_STORAGE_CONNECTION_STRING` all match.
 *
 * @example
 * isSecretName('MLFLOW_TRACKING_PASSWORD') // true
 * isSecretName('MLFLOW_TRACKING_URI') // false
 */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}
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

/** Flags that name where a secret is, not the secret: a file's path (`--token-file`), a header's name. */
const FLAG_NAMES_A_PLACE = /[_-](file|path|dir|header)$/i;

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
  return name !== '' && isSecretName(name.replace(/-/g, '_')) && !FLAG_NAMES_A_PLACE.test(name);
}

/** `--flag` or `-flag` alone (its value is the next argument). */
const FLAG_ALONE = /^--?[A-Za-z][\w.-]*$/;
/** `--flag=value`. */
const FLAG_WITH_VALUE = /^(--?[A-Za-z][\w.-]*)=([^]*)$/;
/**
 * Inside one string (a `sh -c` script): `--flag=value`, `--flag value` (quoted or not) and `NAME=value` assignments
 * (also `--set=a.password=x`, `?x=1&token=y`).
 * The value is not one starting with `-` (the next flag of a flag that takes none).
 */
const FLAG_IN_TEXT = /(^|[\s;&|("'])(--?[A-Za-z][\w.-]*)(=|[ \t]+)("[^"]*"|'[^']*'|[^\s"';&|)-][^\s"';&|)]*)/g;
/**
 * Flags whose value is `user:password` (curl's `-u`/`--user`, `-U`/`--proxy-user`; httpie's `--auth`): the
 * part after the first ':' is hidden, a bare user name (`mysql -u root`) stays.
 */
const USER_PASSWORD_FLAGS = new Set(['-u', '--user', '-U', '--proxy-user', '--auth']);
/** `user:password` of such a flag (quoted or not) with the password hidden; undefined when it holds no ':'. */
function hideUserPassword(value: string): string | undefined {
  const q = value[0] === '"' || value[0] === "'" ? value[0] : '';
  const inner = q ? value.slice(1, -1) : value;
  const i = inner.indexOf(':');
  return i < 0 || i === inner.length - 1 ? undefined : `${q}${inner.slice(0, i + 1)}${REDACTED}${q}`;
}
/**
 * A credential header in a command line or message (`curl -H 'Authorization: Bearer x'`, `X-Api-Key: x`,
 * `PRIVATE-TOKEN: x`): the header's name and an auth scheme stay. Its name is Authorization or a secret's.
 */
const HEADER_IN_TEXT = /(^|[\s"'])([A-Za-z][\w-]*)([ \t]*:[ \t]*)((?:(?:Bearer|Basic|Token|Digest|Negotiate|ApiKey)[ \t]+)?)([^\s"']+)/gi;
const isCredentialHeader = (name: string) => /^(?:proxy-)?authorization$/i.test(name) || isSecretName(name.replace(/-/g, '_'));
const ASSIGNMENT_IN_TEXT = /(^|[\s;&|(=,?"'])((?:export[ \t]+)?[A-Za-z_][\w.-]*)=("[^"]*"|'[^']*'|[^\s"';&|)]+)/g;

/**
 * The string with the values of secret-named flags (`--password=x`, `--token x`) and shell assignments
 * (`AWS_SECRET_ACCESS_KEY=x`) in it, and URL user-info, replaced by `[redacted]`; the same string (===) when nothing is.
 *
 * @example
 * redactSecretText('python train.py --api-key abc --epochs 3') // 'python train.py --api-key [redacted] --epochs 3'
 */
export function redactSecretText(s: string): string {
  let url = redactUrlUserinfo(s);
  if (url.includes(':')) {
    url = url.replace(HEADER_IN_TEXT, (all, pre: string, name: string, sep: string, scheme: string, value: string) => (value !== REDACTED && isCredentialHeader(name) ? `${pre}${name}${sep}${scheme}${REDACTED}` : all));
    url = url.replace(FLAG_IN_TEXT, (all, pre: string, flag: string, sep: string, value: string) => {
      const hidden = USER_PASSWORD_FLAGS.has(flag) ? hideUserPassword(value) : undefined;
      return hidden === undefined ? all : `${pre}${flag}${sep}${hidden}`;
    });
  }
  // Cheap test first: nothing more to hide without a secret's name in it.
  if (!SECRET_NAME.test(url)) return url === s ? s : url;
  const flags = url.replace(FLAG_IN_TEXT, (all, pre: string, flag: string, sep: string) => (isSecretFlag(flag) ? `${pre}${flag}${sep}${REDACTED}` : all));
  const out = flags.replace(ASSIGNMENT_IN_TEXT, (all, pre: string, name: string) => (isSecretName(name) ? `${pre}${name}=${REDACTED}` : all));
  return out === s ? s : out;
}

/**
 * A container's `args` / `command` (or an exec command) with the values of secret-named flags hidden: `--token=x`,
 * `--token` followed by its value (unless that is another `--flag`), flags and assignments inside a shell string,
 * and URL user-info. Returns the same array (===) when nothing was hidden, and the indices of what was.
 *
 * @example
 * redactArgv(['--token', 'abc', '--epochs=3']) // { argv: ['--token', '[redacted]', '--epochs=3'], changed: [1] }
 */
export function redactArgv(argv: readonly unknown[]): { argv: readonly unknown[]; changed: number[] } {
  let copy: unknown[] | undefined;
  const changed: number[] = [];
  let valueIsSecret = false;
  let valueIsUserPassword = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (typeof a !== 'string') {
      valueIsSecret = false;
      valueIsUserPassword = false;
      continue;
    }
    let r: string;
    if (valueIsSecret && a !== '' && !a.startsWith('--')) {
      r = REDACTED;
      valueIsSecret = false;
    } else if (valueIsUserPassword && hideUserPassword(a) !== undefined) {
      r = hideUserPassword(a)!;
      valueIsUserPassword = false;
    } else if (FLAG_ALONE.test(a)) {
      valueIsSecret = isSecretFlag(a);
      valueIsUserPassword = USER_PASSWORD_FLAGS.has(a);
      continue;
    } else {
      valueIsSecret = false;
      valueIsUserPassword = false;
      const m = FLAG_WITH_VALUE.exec(a);
      const userPassword = m && USER_PASSWORD_FLAGS.has(m[1]!) ? hideUserPassword(m[2]!) : undefined;
      r = m && m[2] !== '' && isSecretFlag(m[1]!) ? `${m[1]}=${REDACTED}` : userPassword !== undefined ? `${m![1]}=${userPassword}` : redactSecretText(a);
    }
    if (r !== a) {
      (copy ??= argv.slice())[i] = r;
      changed.push(i);
    }
  }
  return { argv: copy ?? argv, changed };
}
