/** Command-line flags: secret-named flags, place flags, and user:password flags (curl, httpie). */
import { isSecretName, REDACTED } from './names.js';

/**
 * Flags that name where a secret is, not the secret: a file's path (`--token-file`), a header's name, a Secret
 * object's name or a reference to one (`--secret-name db-creds`: what an analyst follows). `--password-stdin`
 * (`docker login`, `helm registry login`) takes no value: the secret is read from stdin, the next word is the registry.
 */
const FLAG_NAMES_A_PLACE = /[_-](file|path|dir|header|name|ref|arn|stdin)$/i;

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

/** `--flag` or `-flag` alone (its value is the next argument). */
export const FLAG_ALONE = /^--?[A-Za-z][\w.-]*$/;
/** `--flag=value`. */
export const FLAG_WITH_VALUE = /^(--?[A-Za-z][\w.-]*)=([^]*)$/;
/**
 * Inside one string (a `sh -c` script): `--flag=value`, `--flag value` (quoted or not) and `NAME=value` assignments
 * (also `--set=a.password=x`, `?x=1&token=y`).
 * The value is not one starting with `-` (the next flag of a flag that takes none). A command substitution
 * (`$(cat /run/pw)`, one level) is one value here and in the assignment and command patterns: cut at its blank, the
 * rest of it was left behind the placeholder.
 */
export const FLAG_IN_TEXT = /(^|[\s;&|("'])(--?[A-Za-z][\w.-]*)(=|[ \t]+)(\$\([^()]*\)|"[^"]*"|'[^']*'|[^\s"';&|)-][^\s"';&|)]*)/g;
/**
 * Flags whose value is `user:password` whatever the command (curl's `--proxy-user`, httpie's `--auth`): the part after
 * the first ':' is hidden, a bare user name stays.
 */
export const USER_PASSWORD_FLAGS = new Set(['--proxy-user', '--auth']);
/**
 * curl's `-u`/`--user`/`-U`: `user:password` for curl only — docker, podman, kubectl, sudo take `-u uid:gid` or
 * `user:group`, no credential. Hidden after curl, and where no command is known unless it is a numeric `uid:gid`.
 */
export const CURL_USER_FLAGS = new Set(['-u', '--user', '-U']);
/**
 * curl's short flags run together ending in `u` / `U` (`-sSfu user:pass`, `-fsSLubob:pw`): an option taking a value
 * takes the rest of its word, else the next word. Read so after curl only (other tools' clusters are not curl's). The
 * letters before it are curl's options that take no value (`-s`, `-S`, `-f`, `-L`, `-k`…): one that takes a value takes
 * the rest of the word, so `-HAuthorization:Bearer x` is `-H` given a header, not `-HAu` given `thorization:…`.
 */
export const CURL_FLAG_CLUSTER = /^-[0-6aBfgGiIjJklLMnNOpqRsSvVZ]+[uU]$/;
export const CURL_GLUED_CLUSTER = /^(-[0-6aBfgGiIjJklLMnNOpqRsSvVZ]+?[uU])([^]+)$/;
const UID_GID = /^["']?\d+:\d+["']?$/;
/** `user:password` of such a flag (quoted or not) with the password hidden; undefined when it holds no ':'. */
export function hideUserPassword(value: string): string | undefined {
  const q = value[0] === '"' || value[0] === "'" ? value[0] : '';
  const inner = q ? value.slice(1, -1) : value;
  const i = inner.indexOf(':');
  return i < 0 || i === inner.length - 1 ? undefined : `${q}${inner.slice(0, i + 1)}${REDACTED}${q}`;
}
/** The value of a user flag with its password hidden, judged by the command it belongs to; undefined to keep it. */
export function hideUserFlagValue(flag: string, value: string, command: string | undefined): string | undefined {
  if (USER_PASSWORD_FLAGS.has(flag)) return hideUserPassword(value);
  if (!CURL_USER_FLAGS.has(flag)) return undefined;
  return command === 'curl' || (command === undefined && !UID_GID.test(value)) ? hideUserPassword(value) : undefined;
}

/** `--pass` / `-pass` in text (isSecretFlag's one name SECRET_NAME does not hold). */
export const PASS_FLAG = /(?:^|[\s"'])--?pass[\s=]/;

/** curl's `-uuser:pass` (the value glued to the flag). */
export const GLUED_USER_FLAG = /^(-[uU])([^]+)$/;
