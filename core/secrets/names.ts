/** Names of secrets: which env vars, keys and assignments hold one, which only name or locate one; the placeholder. */

/**
 * Keys that are a credential by their first word, written `_` or run together (`AUTH_KEY`, Tailscale's `TS_AUTHKEY`,
 * `signingKey`): an auth or signing key (`--signing-key`, `hmac_key`, `encryption_key`, `master_key`, Airflow's
 * `FERNET_KEY`), a service's key (Datadog's `DD_APP_KEY`, New Relic's `NEW_RELIC_LICENSE_KEY`, an Azure
 * `subscription_key`, `AZURE_STORAGE_KEY`, PagerDuty's `service_key` / `integration_key`), a deploy key. A TLS
 * client's key is one as data only (kubeconfig's `client-key-data`): `--client-key` names its file. `key` must end the word (or be `keys`): `client_keystore`, `auth_keyring`
 * name no key. Other keys (`key_name`, `--keyspace`, `sort_key`, `s3_key`, `cache_key`) name or locate something.
 */
export const KEY_KINDS = 'auth|signing|hmac|encryption|master|fernet|license|app|subscription|storage|service|integration|deploy';
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
 * Manager version) or how many there are (`token_count`, a language model's `--token-limit 512`, `token_budget`), a key's
 * fingerprint or thumbprint (`deploy_key_fingerprint: SHA256:…`: a hash of its public half, which an analyst matches
 * against GitHub's deploy keys). Not `id`: Vault AppRole's `secret_id` is the credential itself.
 */
const NAMES_NO_SECRET_VALUE = /[_.-](?:url|uri|endpoint|policy|type|ttl|expiry|lifetime|audience|scopes?|length|port|version|count|limit|budget|fingerprint|thumbprint)$/i;
/** The same last words in camelCase (`tokenUrl`, `passwordPolicy`). */
const NAMES_NO_SECRET_VALUE_CAMEL = /[a-z](?:Url|Uri|URL|URI|Endpoint|Policy|Type|Ttl|TTL|Expiry|Lifetime|Audience|Scopes?|Length|Port|Version|Count|Limit|Budget|Fingerprint|Thumbprint)$/;
/** One name (`TOKEN_URL`, `tokenUri`), not a text holding names (a query string the suffix test would misread). */
const IDENTIFIER = /^[\w.-]+$/;
/**
 * An access key's id (`AWS_ACCESS_KEY_ID`, `aws_access_key_id`, Alibaba's `ACCESS_KEY_ID`) names which key, not its
 * secret part: CloudTrail shows it in every record (`userIdentity.accessKeyId`), and an analyst matches a pod's key id
 * against those; so does a signing or other key's id (`SIGNING_KEY_ID`, a JWT `kid`), and a Google service account key's
 * `private_key_id` (the key's id IAM lists, beside the `private_key` it names). A name holding another secret's part stays one
 * (`AWS_SECRET_ACCESS_KEY_ID`).
 */
const KEY_ID_ALL = new RegExp(String.raw`(?:access|private)[_.-]?key[_.-]?id|(?:${KEY_KINDS})[_.-]?key[_.-]?id(?![a-z])`, 'gi');
/**
 * `token` in a name that is about a language model's tokens, not a credential: a tokenizer (`--tokenizer
 * meta-llama/…`: which model is served) and a token count (`max_new_tokens`, `--max-num-batched-tokens`, `maxTokens`).
 * Such a name is a secret's only when the rest of it is (`TOKENIZER_SECRET`).
 */
const NOT_A_TOKEN_SOURCE = String.raw`tokeniz[a-z]*|(?:max|min|num)(?:[_.-]?[a-z]+)*?[_.-]?tokens(?![a-z])`;
const NOT_A_TOKEN = new RegExp(NOT_A_TOKEN_SOURCE, 'i');
const NOT_A_TOKEN_ALL = new RegExp(NOT_A_TOKEN_SOURCE, 'gi');
// `api_?key`: `API_KEY`, and `apiKey` / `APIKEY` as JavaScript and many SDKs write it. `connection_string`: an Azure Storage connection string (MLflow's AZURE_STORAGE_CONNECTION_STRING) holds
// `AccountKey=` (named too, for the same text in a script or message); `_pass`, `_pwd`: DB_PASS, MYSQL_PWD.
// KEY_KINDS: other keys that are a credential by their first word. Dotted too, as Hadoop and Spark settings are
// written (`fs.azure.account.key.<account>.dfs.core.windows.net`, `fs.gs.auth.service.account.private.key`,
// `fs.azure.sas.<container>.<account>…`); Azure connection strings' `SharedAccessKey=` (Service Bus, Event Hubs) and
// `SharedAccessSignature=` (a SAS), not `SharedAccessKeyName` (a name). `KAGGLE_KEY`: the Kaggle API's key as its
// clients read it from the environment (beside `KAGGLE_USERNAME`, which stays).
export const SECRET_NAME = new RegExp(String.raw`password|passwd|secret|token|credential|private[_.]?key|api_?key|access_key|routing_key|connection_?string|account[_.]?key|shared_?access_?(?:key|signature)|azure\.sas\.|_pass\b|_pwd\b|(?:${KEY_KINDS})_?keys?(?![a-z])|client_?key_?data|kaggle_?key(?![a-z])`, 'i');

/** What every redaction puts in place of a hidden value (raw records, config checks, logs). */
export const REDACTED = '[redacted]';

/**
 * A secret's name that says its value is where the secret is (`GITHUB_TOKEN_FILE`, `--password-path`, `TOKEN_DIR`,
 * `secret_arn`: an AWS Secrets Manager secret's ARN, which CloudTrail names too)
 * given a value that is no place (`ghp_…`, `hunter2`): the name is no proof, the value is then the secret itself.
 */
export function isSecretAtNoPlace(name: string, value: string): boolean {
  return /(?:file|path|dir|arn)$/i.test(name) && isSecretName(name.replace(/-/g, '_')) && !namesAPlace(value);
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
  return ((isSecretKey(name) && !locatesKey(name, value)) || isSecretAtNoPlace(name, value)) && !ENV_LOOKUP.test(value) && !isUnsetValue(value);
}

const KEY_KIND_ALL = new RegExp(String.raw`(?:${KEY_KINDS})_?keys?(?![a-z])`, 'gi');
/** KEY_KIND_ALL's test, `-` read as `_` (`--signing-key`). */
const KEY_KIND_ANY = new RegExp(String.raw`(?:${KEY_KINDS})[_-]?keys?(?![a-z])`, 'i');
/**
 * A name that is a secret's only by a key kind (`storage_key`, `AZURE_STORAGE_KEY`, `app_key`, `service_key`,
 * `master_key`, `--signing-key`): no password, token or secret word besides. In MLOps configs such a name often
 * holds an object key or an id (`storage_key: models/x.pkl`, `master_key: alias/ml`), judged by its value (isKeyPlace).
 */
function isKeyKindOnly(name: string): boolean {
  const n = name.replace(/-/g, '_');
  return n.replace(KEY_KIND_ALL, ' ') !== n && !isSecretName(n.replace(KEY_KIND_ALL, ' '));
}
/**
 * A value that locates a key or an object rather than being one: a storage URI (`s3://…`, `gs://…`, `abfss://…`,
 * `models:/…`), an ARN, a KMS alias, a shell variable (`$SIGNING_KEY`), or a path or file name with an extension
 * (`models/x.pkl`, `/etc/keys/sign.pem`), a home path (`~/.ssh/deploy`). No key's text is such: base64 has no `.`, hex no `/`, and an https URL
 * (a webhook's key in its path) is not taken.
 */
const KEY_PLACE = /^(?:(?:s3a?|gs|gcs|az|abfss?|wasbs?|hdfs|dbfs|file|runs|models|mlflow-artifacts):\/{1,2}\S+|arn:[\w-]+:\S+|alias\/[\w/-]+|\$\{?[A-Za-z_]\w*\}?|~\/\S+|(?:~|\.{1,2})?\/?(?:[\w.-]+\/)*[\w-][\w.-]*\.[A-Za-z][A-Za-z0-9]{0,10})$/;
function isKeyPlace(value: string): boolean {
  return KEY_PLACE.test(value.trim().replace(/^(["'])(.*)\1$/, '$2'));
}
/**
 * Whether `value` is by its shape no secret under `name`, kept: under a name that is a secret's only by its key kind,
 * a value that locates an object or a key instead of being one (`storage_key: models/x.pkl`, `--signing-key
 * /etc/keys/sign.pem`, `master_key: alias/ml`), names a service (`service_key: inference-svc`) or is a key's
 * fingerprint (`deploy_key: SHA256:…`); under `routing_key` a broker's topic (`model.deployed`) or a name; under a
 * plural a count (`tokens: 100`, isCountOf). A password's, token's or secret's value is never judged by its shape:
 * `password: correct-horse-battery` is a passphrase.
 *
 * @example
 * locatesKey('storage_key', 's3://ml/models/x.pkl') // true
 * locatesKey('storage_key', 'Zm9vYmFy/YmF6cXV4+abc==') // false
 */
export function locatesKey(name: string, value: string): boolean {
  const n = name.replace(/^-+/, '');
  // Names first (cheap): most secret names (`password`, `HF_TOKEN`) are none of these and their value is not read.
  const plural = PLURAL_SECRET_WORD.test(n);
  const routing = ROUTING_KEY.test(n);
  const kind = KEY_KIND_ANY.test(n);
  if (!plural && !routing && !kind) return false;
  const v = value.trim().replace(/^(["'])(.*)\1$/, '$2');
  if (plural && isCountOf(n, v)) return true;
  if (routing && isRoutingKeyOnly(n)) return isRoutingTopic(v) || isServiceName(v);
  return kind && isKeyKindOnly(n) && (isKeyPlace(v) || (isServiceName(v) && !CIPHER_KEY_KIND.test(n)) || KEY_FINGERPRINT.test(v));
}
/**
 * A key kind that encrypts, signs or authenticates (`encryption_key`, `master_key`, `hmac_key`, `FERNET_KEY`,
 * `signing_key`, `auth_key`): such a key is often a passphrase (`correct-horse-battery-staple`), which reads as a
 * service's name; under these a name-shaped value is hidden. A service's, app's or license's key names a service.
 */
const CIPHER_KEY_KIND = /(?:auth|signing|hmac|encryption|master|fernet)[_-]?keys?(?![a-z])/i;

/**
 * A name of things counted (`tokens`, `prompt_tokens`, `completionTokens`, `tokens_per_second`, `api_keys`,
 * `secrets`): a plural. A plural given one number counts them (a language model's `tokens: 100`, a usage record's
 * `total_tokens: 150`); a list of credentials is a list, never a number. A singular name (`token: 100`, `api_key:
 * 12345678901234567890`) holds one secret, and some are numbers (an MFA code, a PIN, a numeric API key): hidden.
 */
const PLURAL_SECRET_WORD = /(?:[Tt]okens|[Kk]eys|[Ss]ecrets|[Pp]asswords|[Cc]redentials)(?![a-z])|TOKENS|KEYS|SECRETS|PASSWORDS|CREDENTIALS/;
/** A count or a measure: a number of at most 10 digits, a decimal too (`35.2` tokens a second). */
const COUNT_VALUE = /^\d{1,10}(?:\.\d{1,6})?$/;
/**
 * Whether `value` (a string, or a number as JSON gives it) under `name` is a count of the things the name's plural
 * names (PLURAL_SECRET_WORD): kept.
 *
 * @example
 * isCountOf('prompt_tokens', 100) // true
 * isCountOf('token', '100') // false
 */
export function isCountOf(name: string, value: unknown): boolean {
  const v = typeof value === 'number' ? (Number.isFinite(value) && value >= 0 ? String(value) : '') : typeof value === 'string' ? value : '';
  return PLURAL_SECRET_WORD.test(name) && COUNT_VALUE.test(v) && !(PASSWORDS_WORD.test(name) && /^\d{4,}/.test(v));
}
/**
 * Passwords are not counted in thousands, but a numeric one is a PIN's shape (`DB_PASSWORDS=123456`, `passwords:
 * 1234`): under a passwords plural a number of four digits or more is hidden.
 */
const PASSWORDS_WORD = /[Pp]asswords|PASSWORDS/;
/**
 * `routing_key` alone: PagerDuty's Events API key (32 characters, no dots), but also a message broker's routing key
 * (AMQP, RabbitMQ, Kafka Connect's RabbitMQ sink: `model.deployed`, `audit.*.ml`), a topic of dotted words.
 */
const ROUTING_KEY = /routing[_-]?keys?/i;
function isRoutingKeyOnly(name: string): boolean {
  const n = name.replace(/-/g, '_');
  return ROUTING_KEY.test(n) && !isSecretName(n.replace(/routing_?keys?/gi, ' '));
}
/**
 * A broker's routing key as AMQP topics are written: two or more words joined by dots, each short and lower-case
 * (letters, digits, `_` / `-`, or a wildcard `*` / `#` alone: `model.deployed`, `audit.*.ml`, `ml.#`), 255 characters
 * at most (AMQP's limit). A PagerDuty Events v2 routing key is 32 characters of mixed case and digits
 * (`r3FPuDvNOTEDyQYCc7trBkymIFcy2NkE`): with a dot added or upper-case letters in it, it is no topic.
 */
const ROUTING_TOPIC = /^(?:[a-z][a-z0-9_-]{0,23}|[*#])(?:\.(?:[a-z0-9][a-z0-9_-]{0,23}|[*#])){1,15}$/;
/** A topic's word that reads as a key (isRandomWord), e.g. a lower-case key split at a dot: no topic. */
function isRoutingTopic(value: string): boolean {
  return value.length <= 255 && ROUTING_TOPIC.test(value) && !value.split('.').some(isRandomWord);
}
/**
 * A service's or object's name (`inference-svc`, `fraud-scorer`, `churn-model-v2`, `model.v3`): lower-case words of
 * letters (a number may end one) joined by `-` or `.`, two or more, with a letter past `f` (a hex key's groups have
 * none). A key is random: its groups mix letters and digits (`k3j9-x8w2`) or are hex (`a1b2-c3d4`), and do not pass;
 * nor do groups cut to one length, three or more of four characters or more (`abcd-efgh-ijkl-mnop`: an Apple
 * app-specific password's shape, license and integration keys printed in groups), nor a group that reads as random
 * letters (isRandomWord: `qzxvbnmt`).
 */
const SERVICE_NAME = /^[a-z]{2,24}\d{0,4}(?:[-.][a-z]{1,24}\d{0,4}){1,7}$/;
function isServiceName(value: string): boolean {
  if (value.length > 63 || !SERVICE_NAME.test(value) || !/[g-z]/.test(value)) return false;
  const groups = value.split(/[-.]/);
  if (groups.length >= 3 && groups[0]!.length >= 4 && groups.every((g) => g.length === groups[0]!.length)) return false;
  return !groups.some(isRandomWord);
}
/**
 * A word that reads as random letters, not a word or an abbreviation: five consonants in a row (`y` read as a vowel:
 * `rhythm` passes; `mlflow`, `grpc`, `svc`, `xgb` have four or fewer), or six letters or more with no vowel. A word
 * of letters and digits mixed, 12 characters or more (`abc123xyz456`), reads as a key too.
 */
function isRandomWord(word: string): boolean {
  const letters = word.replace(/[^a-z]/gi, '');
  if (/[bcdfghjklmnpqrstvwxz]{5}/i.test(letters)) return true;
  if (letters.length >= 6 && !/[aeiouy]/i.test(letters)) return true;
  return word.length >= 12 && /\d/.test(word) && /[a-z]/i.test(word) && !/^[a-z]+\d{1,4}$/i.test(word);
}
/** A key's fingerprint as SSH and GitHub show it (`SHA256:…`, `MD5:aa:bb:…`): a hash of its public half. */
const KEY_FINGERPRINT = /^(?:SHA256|SHA1|MD5):[A-Za-z0-9+/=:]{16,}$/;
/**
 * A value that says a secret is unset: an empty string (`""`, `''`, `r""`, `\"\"` in escaped JSON) or a null (Python's
 * `None`, JSON's and YAML's `null` / `~`). It is evidence (the secret is not set, or set empty), holds no secret, and
 * stays as written. Nothing (`''`) is no such value: callers judging a key alone pass it.
 *
 * @example
 * isUnsetValue('None') // true
 * isUnsetValue('"x"') // false
 */
export function isUnsetValue(value: string): boolean {
  return value !== '' && UNSET_VALUE.test(value);
}
const UNSET_VALUE = /^(?:[rRbBuU]{0,2}(?:""|'')|(\\+)"\1"|(\\+)'\2'|None|null|Null|NULL|~)$/;
/**
 * A Python lookup of an environment variable (`os.environ['HF_TOKEN']`, `os.getenv("HF_TOKEN")`): it says where the
 * secret is, not what, and stays whole. The assignment patterns read it as one value: cut at its bracket, the rest of it
 * was left behind the placeholder (`[redacted]'HF_TOKEN']`). With a default (`os.getenv("X", "hf_…")`) it is hidden whole.
 */
const ENV_LOOKUP = /^os\.(?:environ\[\s*(["'])[A-Za-z_]\w*\1\s*\]|(?:environ\.get|getenv)\(\s*(["'])[A-Za-z_]\w*\2\s*\))$/;
/** A path (`/run/x`, `./x`, `~/x`, `C:\x`, `dir/x`, `token.txt`), an ARN (`arn:aws:…`), a variable (`$X`, `${X}`, `$(cat x)`), or nothing. */
const PLACE_VALUE = /^(?:$|arn:[\w-]+:|[.~$\/\\]|[A-Za-z]:[\\/]|\S*[\/\\]|[\w-]+\.[A-Za-z0-9]{1,5}$)/;
function namesAPlace(value: string): boolean {
  const v = value.replace(/^["'`]|["'`]$/g, '');
  return v === REDACTED || PLACE_VALUE.test(v);
}

/**
 * Names of a secret that name where or which one it is, not its value: a Secret object's name (`secretName:
 * db-creds` in a volume, `SECRET_NAME=db`), a reference; their values are what an analyst needs to follow. The AWS
 * CLI's `credential_source` (`Ec2InstanceMetadata`) and `credential_process` (a command) in ~/.aws/config say where
 * credentials come from: AWS's cross-account CodeCommit lifecycle sample writes one, and was hidden whole.
 */
const NAMES_A_REFERENCE = /(?:name|ref|file|path|dir|arn)$|^credential_(?:source|process)$/i;
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
