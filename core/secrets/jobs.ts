/** Cloud job and model requests as audit logs keep them (SageMaker CloudTrail, Vertex AI audit): env, hyperparameters, argv. */
import { holdsSecret, isCountOf, isSecretKey, REDACTED, SECRET_NAME } from './names.js';
import { redactArgv } from './argv.js';
import { redactSecretText } from './text.js';
import { redactFreeText, redactTagList } from './values.js';
import { mapElements, mapValues } from '../copy-on-write.js';
import { redactBase64Text } from './base64.js';
import { redactUrlSecrets } from './urls.js';

/**
 * `{NAME: value}` maps a job or model request carries in clear: a container's environment and a training job's
 * hyperparameters (SageMaker CloudTrail logs both as sent, lowerCamel or PascalCase keys).
 */
const VALUE_MAPS = new Set(['environment', 'Environment', 'hyperParameters', 'HyperParameters', 'staticHyperParameters', 'StaticHyperParameters']);
/** Argument lists: SageMaker's container entrypoint / arguments, a Vertex container's `command` / `args`. */
const ARGV_LISTS = new Set(['containerArguments', 'ContainerArguments', 'containerEntrypoint', 'ContainerEntrypoint', 'args', 'command']);
/** A request's resource tags as CloudTrail logs them (`tags: [{key, value}]`, `Tags: [{Key, Value}]`). */
const TAG_LISTS = new Set(['tags', 'Tags']);
/** A Vertex (Kubernetes-style) container env: `[{name, value}]`. */
const ENV_LIST = 'env';
/**
 * Request fields that are a credential by their API's definition, whatever their value looks like: Vertex AI Model
 * Garden's Hugging Face token (`DeployRequest.modelConfig.huggingFaceAccessToken`, DeployPublisherModel's
 * `huggingFaceAccessToken`, `huggingFaceToken`), sent to deploy a gated or private Hugging Face model by id.
 */
const CREDENTIAL_FIELDS = new Set(['huggingFaceAccessToken', 'hugging_face_access_token', 'huggingFaceToken', 'hugging_face_token']);
/**
 * Messages an audit log keeps about a request (CloudTrail's `errorMessage`, a Cloud Audit `status.message`, a job's
 * `FailureReason`): a service's validation error echoes what it was sent (`Invalid value: token: "x"`).
 */
const MESSAGE_KEYS = new Set(['message', 'errorMessage', 'statusMessage', 'failureReason', 'FailureReason']);
/**
 * A Vertex AI prompt (prompt management saves one as a Dataset of the text prompt metadata schema,
 * `…/schema/dataset/metadata/text_prompt_1.0.0.yaml`): its `metadata` holds the prompt a user wrote — `text`, `note`,
 * `promptApiSchema.multimodalPrompt.promptMessage` (`contents[].parts[].text`, `systemInstruction`) and the variables'
 * values (`executions[].arguments`) — as CreateDataset / UpdateDataset requests log it.
 */
const PROMPT_SCHEMA = /\/text_prompt_[\w.-]*\.yaml$/;
function isPromptDataset(o: Record<string, unknown>, metadata: object): boolean {
  if (Array.isArray(metadata)) return false;
  return (typeof o.metadataSchemaUri === 'string' && PROMPT_SCHEMA.test(o.metadataSchemaUri)) || 'promptApiSchema' in metadata || 'promptType' in metadata;
}
/** Every string under `v` read as free text (redactFreeText), secret-named keys' values hidden; copy-on-write. */
function redactTextAt(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return redactFreeText(v);
  if (depth > MAX_DEPTH || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return mapElements(v, (e) => redactTextAt(e, depth + 1));
  return mapValues(v, (x, k) => {
    // A secret's name hides its value whole; a string is read as free text (hiddenValue), an object walked.
    const h = hiddenValue(k, x);
    return h !== x || x === null || typeof x !== 'object' ? h : redactTextAt(x, depth + 1);
  });
}

/**
 * Base64 shell scripts a request carries: a SageMaker notebook instance lifecycle configuration's hooks
 * (`onCreate` / `onStart: [{content}]`) and a Studio lifecycle configuration's `studioLifecycleConfigContent`, run
 * at every start (as root on a notebook instance), where a team's credentials are often exported.
 */
const SCRIPT_HOOK_LISTS = new Set(['onCreate', 'OnCreate', 'onStart', 'OnStart']);
const BASE64_SCRIPT_FIELDS = new Set(['studioLifecycleConfigContent', 'StudioLifecycleConfigContent']);
/**
 * Presigned login URLs a response returns (`authorizedUrl` of CreatePresignedNotebookInstanceUrl /
 * CreatePresignedDomainUrl / CreatePresignedMlflowTrackingServerUrl): their `authToken` opens the notebook to
 * whoever holds the URL until it expires. A Vertex AI Workbench instance's post-startup script URL
 * (`gceSetup.metadata["post-startup-script"]`, v1 `postStartupScript`) may carry a token to fetch it.
 */
const LOGIN_URL_FIELDS = new Set(['authorizedUrl', 'AuthorizedUrl', 'post-startup-script', 'postStartupScript']);
/**
 * A SageMaker container's model data URL (CreateModel / CreateModelPackage `ModelDataUrl`): `s3://` or `https://`, and
 * an `https://` one may be presigned (`X-Amz-Signature`, `X-Amz-Security-Token`) or carry user-info.
 */
const MODEL_DATA_URL_FIELDS = new Set(['modelDataUrl', 'ModelDataUrl']);
/** How deep the walk looks (a tuning job's container env sits 5-6 levels below the record). */
const MAX_DEPTH = 16;

/**
 * A `{NAME: value}` map with the values of secret-named keys (holdsSecret) replaced by `[redacted]` and URL
 * user-info / secret query values hidden in the rest; names stay. The same map (===) when nothing was hidden.
 *
 * @example
 * redactValueMap({ HF_TOKEN: 'hf_x', EPOCHS: '3' }) // { HF_TOKEN: '[redacted]', EPOCHS: '3' }
 */
export function redactValueMap<T>(map: T): T {
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return map;
  return mapValues(map, (v, k) => hiddenValue(k, v));
}

/**
 * One value under a name: hidden whole under a secret's name, else its URLs' credentials hidden. A hyperparameter's
 * `-` is read as `_` (`api-key`: the SDK passes hyperparameters as `--api-key` flags). SECRET_NAME first: one regex
 * rules out most names before holdsSecret, which tests a name up to three times (env maps hold dozens).
 */
function hiddenValue(name: string, v: unknown): unknown {
  const key = name.includes('-') ? name.replace(/-/g, '_') : name;
  const secretName = SECRET_NAME.test(key);
  // Not a secret's name: the value may still hold one (a JSON hyperparameter `config: '{"token": "x"}'`, `--token x`).
  if (typeof v === 'string') return v !== '' && secretName && holdsSecret(key, v) ? REDACTED : redactFreeText(v);
  // A number or object under a secret's name is still the secret (a JSON-typed hyperparameter).
  return v !== null && v !== undefined && secretName && isSecretKey(key) && !isCountOf(key, v) ? REDACTED : v;
}

/** Lifecycle hooks `[{content}]` with each base64 script holding a credential replaced whole (redactBase64Text); the same list (===) when none. */
function redactScriptHooks(list: readonly unknown[]): readonly unknown[] {
  return mapElements(list, (h) => {
    if (h === null || typeof h !== 'object') return h;
    const hook = h as Record<string, unknown>;
    const key = typeof hook.content === 'string' ? 'content' : typeof hook.Content === 'string' ? 'Content' : undefined;
    if (!key) return h;
    const r = redactBase64Text(hook[key] as string);
    return r === hook[key] ? h : { ...hook, [key]: r };
  });
}

/** A `[{name, value}]` env list with secret-named entries' values hidden; the same list (===) when none. */
function redactEnvList(list: readonly unknown[]): readonly unknown[] {
  return mapElements(list, (e) => {
    if (e === null || typeof e !== 'object' || typeof (e as Record<string, unknown>).name !== 'string' || !('value' in e)) return e;
    const entry = e as Record<string, unknown>;
    const value = hiddenValue(entry.name as string, entry.value);
    return value === entry.value ? e : { ...entry, value };
  });
}

/**
 * `record` with the secrets a job or model request logs in clear hidden, at any depth: the values of secret-named
 * keys in `environment` / `hyperParameters` / `staticHyperParameters` maps and in `env: [{name, value}]` lists, the
 * values of secret-named flags in `containerArguments` / `containerEntrypoint` / `args` / `command` lists
 * (redactArgv), the values of secret-named tags in `tags` / `Tags: [{key, value}]` lists, URL user-info and what
 * redactFreeText hides (a JSON hyperparameter's secret-named keys, `--token x` in a value) in all of those and in every
 * string of a Vertex AI prompt's `metadata` (isPromptDataset: its text, messages and variables), and the string of a credential field (CREDENTIAL_FIELDS); in `message` /
 * `errorMessage` / `statusMessage` / `failureReason` strings, what redactSecretText hides (`token: "x"`, `--api-key x`,
 * `NAME=x`); a lifecycle configuration's base64 scripts (`onCreate` / `onStart: [{content}]`,
 * `studioLifecycleConfigContent`) holding a credential, whole (redactBase64Text), and a presigned login URL's token
 * (`authorizedUrl`). Copy-on-write: the record itself (which the normalizer reads) is
 * never changed, and comes back as is (===) when nothing was hidden — most records, which hold none of those keys.
 *
 * @example
 * redactJobSecrets({ requestParameters: { environment: { HF_TOKEN: 'hf_x' } } }) // { requestParameters: { environment: { HF_TOKEN: '[redacted]' } } }
 */
export function redactJobSecrets<T>(record: T): T {
  return walk(record, 0) as T;
}

function walk(v: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return mapElements(v, (e) => walk(e, depth + 1));
  const o = v as Record<string, unknown>;
  return mapValues(o, (val, k) => walkField(o, k, val, depth));
}
/** One field `k` of object `o` (at `depth`) as the walk leaves it. */
function walkField(o: Record<string, unknown>, k: string, val: unknown, depth: number): unknown {
  if (typeof val === 'string') {
    if (val !== '' && CREDENTIAL_FIELDS.has(k)) return REDACTED;
    if (BASE64_SCRIPT_FIELDS.has(k)) return redactBase64Text(val);
    if (LOGIN_URL_FIELDS.has(k) || MODEL_DATA_URL_FIELDS.has(k)) return redactUrlSecrets(val);
    return MESSAGE_KEYS.has(k) ? redactSecretText(val) : val;
  }
  if (val === null || typeof val !== 'object') return val;
  if (k === 'metadata' && isPromptDataset(o, val)) return redactTextAt(val, depth + 1);
  if (VALUE_MAPS.has(k) && !Array.isArray(val)) return redactValueMap(val);
  if (Array.isArray(val) && ARGV_LISTS.has(k)) return redactArgv(val).argv;
  if (Array.isArray(val) && k === ENV_LIST) return redactEnvList(val);
  if (Array.isArray(val) && TAG_LISTS.has(k)) return redactTagList(val);
  if (Array.isArray(val) && SCRIPT_HOOK_LISTS.has(k)) return redactScriptHooks(val);
  return walk(val, depth + 1);
}
