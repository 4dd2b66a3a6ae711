/** Credentials given to a tool's own config setter or login command on a command line (a lifecycle or startup script). */
import { isSecretKey, REDACTED } from './names.js';

/**
 * `<tool> config set <name> <value>` and its kin, a secret-named setting's value: `aws configure set
 * aws_secret_access_key …`, `git config --global …`, `npm|pip|yarn config set …`, `poetry config http-basic.… `,
 * `conda config --set …`. Group 1 the command and name (kept), 2 the name, 3 the value.
 */
const CONFIG_SETTER = /(\b(?:aws\s+configure\s+set|git\s+config(?:\s+--(?:global|system|local|file\s+\S+))*|(?:npm|pip3?|yarn|pnpm)\s+config\s+set|poetry\s+config|conda\s+config\s+--set)\s+(?:--\S+\s+)*([A-Za-z_/@][\w.:/@-]*)[ \t]+)("[^"\n]*"|'[^'\n]*'|[^\s;&|)"'`]+)/g;
/** A `.netrc` line written by a script (`machine h login u password p`): the password. */
const NETRC_PASSWORD = /(\bmachine\s+\S+\s+(?:login\s+\S+\s+)?(?:account\s+\S+\s+)?password\s+)("[^"\n]*"|'[^'\n]*'|[^\s;&|)"'`]+)/g;
/** Login commands taking the key as their argument: `wandb login <key>`, `huggingface-cli login <token>` (no flag). */
const LOGIN_ARGUMENT = /(\b(?:wandb|huggingface-cli|hf\s+auth|neptune|comet)\s+login\s+(?:--(?:relogin|host\s+\S+|cloud)\s+)*)([A-Za-z0-9_-]{20,})/g;
/** Poetry's `config http-basic.<repo> <user> <password>`: the password, the second value. */
const POETRY_BASIC = /(\bpoetry\s+config\s+(?:--\S+\s+)*http-basic\.[\w.-]+[ \t]+(?:"[^"\n]*"|'[^'\n]*'|[^\s;&|]+)[ \t]+)("[^"\n]*"|'[^'\n]*'|[^\s;&|)"'`]+)/g;
/** Cheap test for all of them. */
const HINT = /\bconfig(?:ure)?\b|\bmachine\b|\blogin\b/;

/**
 * Settings whose names read as secrets and whose values are not: git's `user.signingKey` (a GPG key id or an SSH
 * public key's path). (`credential_source` / `credential_process` are references for isSecretKey already.)
 */
const NOT_SECRET_SETTING = /^signingkey$/i;

/** Whether a setting's name names a secret: its last part (`http-basic.pypi.password`, `aws_secret_access_key`), `-` read as `_`. */
function secretSetting(name: string): boolean {
  const last = (name.split(/[.:/]/).filter(Boolean).pop() ?? name).replace(/^_+/, '');
  if (NOT_SECRET_SETTING.test(last)) return false;
  // The last part only: `credential.helper` names a helper, not a credential.
  return isSecretKey(last.replace(/-/g, '_'));
}

/**
 * Text with the values of secret-named settings given to config setters, a `.netrc` password and a login command's
 * key argument hidden (the command and name kept). The same string (===) when nothing is.
 *
 * @example
 * redactConfigSetters('aws configure set aws_secret_access_key abc') // 'aws configure set aws_secret_access_key [redacted]'
 */
export function redactConfigSetters(s: string): string {
  if (!HINT.test(s)) return s;
  const out = s
    .replace(CONFIG_SETTER, (all, head: string, name: string, value: string) => (secretSetting(name) && value !== REDACTED ? `${head}${REDACTED}` : all))
    .replace(POETRY_BASIC, (all, head: string, value: string) => (value !== REDACTED ? `${head}${REDACTED}` : all))
    .replace(NETRC_PASSWORD, (all, head: string, value: string) => (value !== REDACTED ? `${head}${REDACTED}` : all))
    .replace(LOGIN_ARGUMENT, (all, head: string) => `${head}${REDACTED}`);
  return out === s ? s : out;
}
