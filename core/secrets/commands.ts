/** Commands whose flags are read by command: -p of MySQL tools and sshpass, curl's -u; in args, text and JSON lists. */
import { REDACTED } from './names.js';
import { CURL_FLAG_CLUSTER, hideUserFlagValue } from './flags.js';

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
 * and the MySQL tools that take it so, and after a container registry login (`docker login -u u -p x`, podman, nerdctl,
 * buildah, skopeo, oras, crane, `helm registry login`), glued or not.
 */
export function dashPIsPassword(command: string | undefined, glued: boolean): boolean {
  return command === 'sshpass' || command === 'registry-login' || command === 'mysql-tool' || (command === 'mysql' && glued);
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
const COMMAND_TEXT = /[;&|\n(`]|(?<=^|[\s"'\/,])((?:docker|podman|nerdctl|buildah|skopeo|oras|crane|finch)[ \t]+login|helm[ \t]+registry[ \t]+login|curl|sshpass|docker|podman|nerdctl|kubectl|oc|crictl|sudo|su|runuser|setpriv|chroot|mysql\w*|mariadb[\w-]*|mycli|mydumper|myloader|pt-[a-z-]+)(?=$|[\s"',;&|)`])|(?<=^|[\s"',])(-p|-u|-U|--user|-[0-6aBfgGiIjJklLMnNOpqRsSvVZ]+[uU])(=|[ \t]+|)(\$\([^()]*\)|"[^"]*"|'[^']*'|[^\s"',;&|)]+)/g;
const JSON_LIST_SEPARATOR = /^"\s*,\s*"$/;
/** Cheap test for COMMAND_TEXT: a `-p`, `-u`, `-U` or `--user` flag. */
const COMMAND_FLAG = /(?:^|[\s"',])-(?:p|u|U|-user|[0-6aBfgGiIjJklLMnNOpqRsSvVZ]+[uU])/;

/** Text with `-pPASS` of MySQL clients and sshpass and `-u user:pass` of curl hidden (COMMAND_TEXT). */
export function redactCommandFlags(s: string, after: string | undefined): string {
  if (!COMMAND_FLAG.test(s)) return s;
  let command = after;
  return s.replace(COMMAND_TEXT, (all, word: string | undefined, flag: string | undefined, sep: string, value: string) => {
    if (word !== undefined) {
      // A registry login's `-p` is its password (`docker login -u AWS -p eyJ…`); `docker run -p 8080:80` is a port.
      command = /login$/.test(word) ? 'registry-login' : commandName(word);
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
