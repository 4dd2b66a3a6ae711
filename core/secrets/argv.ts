/** Argument lists (a container's args / command, an exec): secret flag values, by command. */
import { isSecretAtNoPlace, isSecretKey, locatesKey, REDACTED } from './names.js';
import { CURL_FLAG_CLUSTER, CURL_GLUED_CLUSTER, CURL_USER_FLAGS, FLAG_ALONE, FLAG_WITH_VALUE, GLUED_USER_FLAG, hideUserFlagValue, isSecretFlag, USER_PASSWORD_FLAGS } from './flags.js';
import { commandName, dashPIsPassword } from './commands.js';
import { redactSecretTextAfter } from './text.js';
import { redactScriptText } from './script.js';

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
  /** A credential header's name was the last word, its value split off by a shell (`-H Authorization:Bearer x` unquoted). */
  let header: 'scheme' | 'value' | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (typeof a !== 'string') {
      valueIsSecret = false;
      userFlag = undefined;
      header = undefined;
      continue;
    }
    const pending = header;
    header = undefined;
    if (pending !== undefined && a !== '' && !a.startsWith('-') && !a.includes('://') && a !== REDACTED) {
      // The scheme alone keeps the value pending (`Authorization:` `Bearer` `x`); the next word is the credential.
      if (pending === 'scheme' && AUTH_SCHEME_WORD.test(a)) header = 'value';
      else {
        (copy ??= argv.slice())[i] = REDACTED;
        changed.push(i);
      }
      continue;
    }
    const h = HEADER_NAME_ONLY.exec(a);
    if (h && isCredentialHeaderName(h[1]!)) {
      // Name and scheme stay, as in text (`Authorization: Bearer [redacted]`).
      header = h[2] ? 'value' : 'scheme';
      valueIsSecret = false;
      userFlag = undefined;
      continue;
    }
    let r: string;
    const place = placeFlag;
    placeFlag = undefined;
    const userValue = userFlag === undefined ? undefined : hideUserFlagValue(userFlag, a, cmd);
    // A key-kind or routing flag's value is judged by its shape as in text (`--routing-key model.deployed`: a topic).
    if (((valueIsSecret && !locatesKey(place ?? '', a)) || (place !== undefined && isSecretAtNoPlace(place, a))) && a !== '' && !a.startsWith('--')) {
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

/**
 * A credential header with no value in its word (`Authorization:Bearer`, `Authorization:`, `-HX-Api-Key:`, `--header=…`):
 * what a shell leaves of `curl -H Authorization:Bearer x` written unquoted, the credential in the next word (an exec's
 * command as kubectl sends it). Group 1 the name, 2 the scheme.
 */
const HEADER_NAME_ONLY = /^(?:-H|--header=)?([A-Za-z][\w-]*)[ \t]*:[ \t]*((?:Bearer|Basic|Token|Digest|Negotiate|ApiKey)[ \t]*)?$/i;
const AUTH_SCHEME_WORD = /^(?:Bearer|Basic|Token|Digest|Negotiate|ApiKey)$/i;
function isCredentialHeaderName(name: string): boolean {
  return /^(?:proxy-)?authorization$/i.test(name) || isSecretKey(name.replace(/-/g, '_'));
}
