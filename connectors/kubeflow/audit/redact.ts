import { MAX_JSON_DEPTH } from '../../../core/input/depth.js';
import { REDACTED, holdsSecret, isSecretName, redactArgv, redactBase64Text, redactScriptText, redactSecretText, redactUrlSecrets, redactUrlUserinfo } from '../../../core/secrets.js';
import { redactJsonText as redactJsonString } from '../../../core/secrets/values.js';
import type { AuditEvent } from './envelope.js';

/** How many redacted paths `details.raw_redacted` lists (a pod spec with hundreds of env entries stays bounded). */
export const RAW_REDACTED_MAX = 20;

/**
 * The audit record as it may be kept in `raw`: URL user-info in any string of `requestObject` / `responseObject`,
 * the `value` of every env entry whose name is a secret's (isSecretName) and the values of secret-named flags in
 * `args` / `command` (redactArgv) replaced, in a copy — the record itself,
 * which the normalizer reads (registry URIs, images), is never changed. Only the objects on a changed path are
 * copied; a record with nothing to hide is returned as is (`paths` empty).
 *
 * @example
 * const { raw, paths } = redactAuditRaw(ev); // paths: ['requestObject.spec.containers[0].env[2].value']
 */
export function redactAuditRaw(ev: AuditEvent): { raw: AuditEvent; paths: string[] } {
  const rec = ev as AuditEvent & Record<string, unknown>;
  const walk: Walk = { paths: [], patched: rec.responseObject, secretData: isSecretsRecord(rec), configMapData: isConfigMapsRecord(rec) };
  let out: Record<string, unknown> | undefined;
  // The request line and the answer's message: query parameters and admission messages echo values.
  if (typeof rec.requestURI === 'string') {
    const uri = redactRequestUri(rec.requestURI);
    if (uri !== rec.requestURI) {
      (out ??= { ...rec }).requestURI = uri;
      walk.paths.push('requestURI');
    }
  }
  const status = rec.responseStatus as Record<string, unknown> | undefined;
  if (typeof status?.message === 'string') {
    const message = redactStatusMessage(status.message);
    if (message !== status.message) {
      (out ??= { ...rec }).responseStatus = { ...status, message };
      walk.paths.push('responseStatus.message');
    }
  }
  const annotations = redactValidationFailureAnnotation(redactWebhookPatches(rec.annotations, walk), walk);
  if (annotations !== rec.annotations) (out ??= { ...rec }).annotations = annotations;
  for (const key of ['requestObject', 'responseObject'] as const) {
    const v = rec[key];
    if (v === null || typeof v !== 'object') continue;
    const r = redactValue(v, [key], 'plain', walk);
    if (r !== v) (out ??= { ...rec })[key] = r;
  }
  return { raw: (out ?? ev) as AuditEvent, paths: walk.paths.slice(0, RAW_REDACTED_MAX) };
}

/**
 * The audit annotation a mutating admission webhook's patch is logged in (Request level and up), as JSON text
 * `{"configuration","webhook","patch":[ops],"patchType":"JSONPatch"}`: a webhook injecting env (Kubeflow PodDefaults,
 * a secrets injector) writes the values there.
 */
const WEBHOOK_PATCH = 'patch.webhook.admission.k8s.io/';

/** The event's annotations with the ops of each webhook patch redacted (judged by the patched `responseObject`). */
function redactWebhookPatches(annotations: unknown, walk: Walk): unknown {
  if (annotations === null || typeof annotations !== 'object') return annotations;
  const ann = annotations as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const k of Object.keys(ann)) {
    const v = ann[k];
    if (typeof v !== 'string' || !k.startsWith(WEBHOOK_PATCH)) continue;
    const r = redactJsonText(v, ['annotations', k], walk);
    if (r !== v) (copy ??= { ...ann })[k] = r;
  }
  return copy ?? annotations;
}

/**
 * The audit annotation a ValidatingAdmissionPolicy's failures are logged in, as JSON text
 * `[{"message","policy","binding","expressionIndex","validationActions"}]`: a `messageExpression` can echo the value
 * it refused (`'env ' + e.name + '=' + e.value + ' must come from a Secret'`).
 */
export const VALIDATION_FAILURE = 'validation.policy.admission.k8s.io/validation_failure';

/** The annotations with the validation-failure annotation's messages redacted (redactValidationFailure). */
function redactValidationFailureAnnotation(annotations: unknown, walk: Walk): unknown {
  if (annotations === null || typeof annotations !== 'object') return annotations;
  const text = (annotations as Record<string, unknown>)[VALIDATION_FAILURE];
  if (typeof text !== 'string') return annotations;
  const r = redactValidationFailure(text);
  if (r === text) return annotations;
  walk.paths.push(`annotations.${VALIDATION_FAILURE}`);
  return { ...(annotations as Record<string, unknown>), [VALIDATION_FAILURE]: r };
}

/**
 * A validation-failure annotation's text with each message redacted as an answer's message is (redactStatusMessage);
 * text that is not that JSON array is redacted as one message. The same string (===) when nothing is hidden.
 *
 * @example
 * redactValidationFailure('[{"message":"MLFLOW_TRACKING_PASSWORD=x must come from a Secret","policy":"p"}]')
 * // '[{"message":"MLFLOW_TRACKING_PASSWORD=[redacted] must come from a Secret","policy":"p"}]'
 */
export function redactValidationFailure(text: string): string {
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    return redactStatusMessage(text);
  }
  if (!Array.isArray(list)) return redactStatusMessage(text);
  let changed = false;
  const out = list.map((f) => {
    if (f === null || typeof f !== 'object' || typeof (f as { message?: unknown }).message !== 'string') return f;
    const message = redactStatusMessage((f as { message: string }).message);
    if (message === (f as { message: string }).message) return f;
    changed = true;
    return { ...f, message };
  });
  return changed ? JSON.stringify(out) : text;
}

/** A query parameter of a request URI whose name is a secret's (a proxied `?token=`, `?api_key=`). */
const QUERY_PAIR = /^([^=]*)(=?)(.*)$/s;

function decodeQuery(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * A request URI with the values of secret-named query parameters, secret flag values in an exec/attach `command=`
 * and URL user-info in any parameter hidden; the path (resource, subresource, name) and the other parameters stay as
 * sent (untouched parameters are not re-encoded). The same string (===) when nothing is hidden.
 *
 * @example
 * redactRequestUri('/api/v1/namespaces/a/services/mlflow:5000/proxy/api?token=t&x=1') // '…/proxy/api?token=[redacted]&x=1'
 */
export function redactRequestUri(uri: string): string {
  const q = uri.indexOf('?');
  if (q === -1) return uri;
  // Cheap test first: nothing to hide in a query whose decoded text names no secret and holds no '@' (most do not).
  const query = uri.slice(q + 1);
  const text = query.includes('%') || query.includes('+') ? (decodeQuery(query) ?? query) : query;
  // An exec command is always read: `curl -u user:pw` or an Authorization header names no secret.
  if (!text.includes('@') && !isSecretName(text) && !/(?:^|&)command=/.test(query)) return uri;
  const pairs = query.split('&');
  let changed = false;
  const commands: number[] = [];
  for (let i = 0; i < pairs.length; i++) {
    const [, rawKey, eq, rawValue] = QUERY_PAIR.exec(pairs[i]!)!;
    const key = decodeQuery(rawKey!) ?? rawKey!;
    if (!eq || rawValue === '') continue;
    if (key === 'command') {
      commands.push(i);
      continue;
    }
    if (isSecretName(key)) {
      pairs[i] = `${rawKey}=${REDACTED}`;
      changed = true;
      continue;
    }
    const value = decodeQuery(rawValue!);
    const r = value === undefined ? value : redactUrlUserinfo(value);
    if (r !== value) {
      pairs[i] = `${rawKey}=${encodeURIComponent(r!)}`;
      changed = true;
    }
  }
  if (commands.length) {
    // The exec command is one argv split over `command=` parameters: `--password` and its value are two of them.
    const { argv, changed: hidden } = redactArgv(commands.map((i) => decodeQuery(pairs[i]!.slice(pairs[i]!.indexOf('=') + 1))));
    for (const j of hidden) {
      const i = commands[j]!;
      pairs[i] = `${pairs[i]!.slice(0, pairs[i]!.indexOf('='))}=${encodeURIComponent(argv[j] as string)}`;
      changed = true;
    }
  }
  return changed ? `${uri.slice(0, q + 1)}${pairs.join('&')}` : uri;
}

/** `<field path>: Invalid value: "<value>"` (apimachinery's field.Invalid), whose value the message echoes. */
const INVALID_VALUE = /([\w.[\]-]+): Invalid value: "((?:[^"\\]|\\.)*)"/g;
/** An env entry's value (its name is not in the message) or a field named like a secret. */
const SECRET_FIELD = /env\[\d+\]\.value$/;

/**
 * An answer's message (`responseStatus.message`, a Status object's `message`: admission webhooks and validation echo
 * what was sent) with secret flag values, `NAME=value` assignments, URL user-info and the value of an invalid env
 * value or secret-named field hidden. Reason, code and the rest of the text stay. Same string (===) when none.
 */
export function redactStatusMessage(message: string): string {
  let out = redactSecretText(message);
  if (out.includes('Invalid value: "')) {
    out = out.replace(INVALID_VALUE, (all, field: string, value: string) =>
      value !== REDACTED && (SECRET_FIELD.test(field) || isSecretName(field.slice(field.lastIndexOf('.') + 1))) ? `${field}: Invalid value: "${REDACTED}"` : all);
  }
  return out === message ? message : out;
}

/**
 * A record of the Kubernetes audit route as it may be kept in quarantine: whatever its shape (an EventList, an item
 * that is no audit Event, an AKS wrapper whose `log` is JSON text), every part is redacted as `raw` is — env and
 * patch-op values (an op's `…/env/N/value` always: no patched object vouches for it here), args, messages, any
 * `requestURI` — and what nests deeper than MAX_JSON_DEPTH is cut as boundedJson cuts it. The same value (===) when
 * nothing is hidden. Never throws on odd input.
 *
 * @example
 * boundedJson(redactAuditInput(rejected.record))
 */
export function redactAuditInput(record: unknown): unknown {
  return redactValue(record, [], 'plain', { paths: [], patched: undefined, whole: true });
}

/**
 * What one walk shares: the paths it redacted, the object a patch produced (`responseObject`), to judge patch ops by,
 * and whether it walks a whole input record (quarantine) rather than an audit Event's objects.
 */
interface Walk {
  paths: string[];
  patched: unknown;
  whole?: boolean;
  /** The walk is inside a record about Secrets (isSecretsRecord): every `data` / `stringData` value is a secret. */
  secretData?: boolean;
  /** The walk is inside a record about ConfigMaps (isConfigMapsRecord): `data` / `binaryData` are read by key. */
  configMapData?: boolean;
}

/**
 * A record about Secrets (`objectRef.resource: secrets` of the core group): the objects, lists and patches it carries
 * are Secrets, whose `data` and `stringData` values are secrets whatever their keys are named. A policy logging
 * Secrets above Metadata level (ours does not: docker/kubeflow/audit-policy.yaml) would otherwise ship them.
 */
function isSecretsRecord(o: Record<string, unknown>): boolean {
  const ref = o.objectRef as { resource?: unknown; apiGroup?: unknown } | null | undefined;
  return ref?.resource === 'secrets' && !ref.apiGroup;
}
/** A record about ConfigMaps (`objectRef.resource: configmaps` of the core group): its objects and patches are ConfigMaps. */
function isConfigMapsRecord(o: Record<string, unknown>): boolean {
  const ref = o.objectRef as { resource?: unknown; apiGroup?: unknown } | null | undefined;
  return ref?.resource === 'configmaps' && !ref.apiGroup;
}
/** A JSON patch op path that writes a ConfigMap's values (`/data`, `/binaryData/api_token`). */
const PATCH_CONFIGMAP_DATA = /^\/(?:data|binaryData)(?:\/|$)/;

/**
 * A ConfigMap's `data` / `binaryData` (`key`: the one key a patch op writes, if so): the value of a secret-named key
 * is hidden whole (binary too), every other value is read as a file (`.env`, properties, YAML, a script:
 * redactScriptText) for secret-named assignments and URL credentials — a base64 value by its decoded text, hidden
 * whole if that holds any (redactBase64Text); keys stay.
 */
function redactConfigMapData(v: unknown, keys: Array<string | number>, walk: Walk, key?: string): unknown {
  if (typeof v === 'string') {
    if (v === '' || v === REDACTED) return v;
    // A value that is base64 (every `binaryData` value, a file stored encoded under `data`) is judged by its text.
    // A base64 value is replaced by what redactBase64Text gives when that differs (`[redacted]`, or `[unscanned: N
    // bytes]` for a gzip text longer than is ever read).
    const b64 = key !== undefined && holdsSecret(key, v) ? REDACTED : redactBase64Text(v);
    const r = b64 !== v ? b64 : redactUrlSecrets(redactScriptText(jsonHidden(v)));
    if (r !== v) walk.paths.push(pathText(keys));
    return r;
  }
  if (key !== undefined || v === null || typeof v !== 'object' || Array.isArray(v)) return redactValue(v, keys, 'plain', walk);
  let copy: Record<string, unknown> | undefined;
  for (const [k, x] of Object.entries(v)) {
    keys.push(k);
    const r = redactConfigMapData(x, keys, walk, k);
    keys.pop();
    if (r !== x) (copy ??= { ...(v as Record<string, unknown>) })[k] = r;
  }
  return copy ?? v;
}
/** The ConfigMap key a patch op path writes (`/data/DB_PASSWORD` → `DB_PASSWORD`), undefined for the whole map. */
function patchedConfigMapKey(opPath: string): string | undefined {
  const parts = opPath.split('/');
  return parts.length > 2 ? parts.slice(2).join('/').replace(/~1/g, '/').replace(/~0/g, '~') : undefined;
}

/**
 * The command a container's `args` are given to: its `command`'s first word, else the name of its image
 * (`curlimages/curl:8.5.0` → `curl`, `mysql:8.4` → `mysql`), whose entrypoint it is.
 */
function argsCommandOf(o: Record<string, unknown>): string | undefined {
  if (Array.isArray(o.command)) return typeof o.command[0] === 'string' ? o.command[0] : undefined;
  if (typeof o.image !== 'string') return undefined;
  const repo = o.image.replace(/@.*$/, '');
  const name = repo.slice(repo.lastIndexOf('/') + 1);
  return name.replace(/:.*$/, '');
}

/** The keys of a Secret holding its values. */
const SECRET_DATA = new Set(['data', 'stringData']);
/** A JSON patch op path that writes a Secret's values (`/data`, `/stringData/password`). */
const PATCH_SECRET_DATA = /^\/(?:data|stringData)(?:\/|$)/;

/** A Secret's `data` / `stringData` (or one value a patch op writes) with every value replaced, keys kept. */
function redactSecretData(v: unknown, keys: Array<string | number>, walk: Walk): unknown {
  if (typeof v === 'string') {
    if (v === '' || v === REDACTED) return v;
    walk.paths.push(pathText(keys));
    return REDACTED;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  let copy: Record<string, unknown> | undefined;
  for (const [k, x] of Object.entries(v)) {
    keys.push(k);
    const r = redactSecretData(x, keys, walk);
    keys.pop();
    if (r !== x) (copy ??= { ...(v as Record<string, unknown>) })[k] = r;
  }
  return copy ?? v;
}

/** What a value is to the walk: anything, a list of env entries, one env entry, or a command line (`args`, `command`). */
type Shape = 'plain' | 'envList' | 'envEntry' | 'argv';

/** A JSON patch op path that targets an env (or Argo parameter) list (`…/env`) or one entry of it (`…/env/3`, `…/env/-`). */
const PATCH_ENV_LIST = /\/(?:env|parameters)$/;
const PATCH_ENV_ENTRY = /\/(?:env|parameters)\/(?:\d+|-)$/;
/** A JSON patch op path that writes only the value of env entry N (`…/env/3/value`): the op carries no name. */
const PATCH_ENV_VALUE = /\/(?:env|parameters)\/\d+\/value$/;
/** A JSON patch op path that writes a container's `args` / `command` list, or one argument of it. */
const PATCH_ARGV_LIST = /\/(?:args|command)$/;
const PATCH_ARGV_ITEM = /\/(?:args|command)\/(?:\d+|-)$/;

/**
 * Whether a patch op writing `value` at `…/env/N/value` may keep it: only when the object the patch produced
 * (`responseObject`, logged at RequestResponse level) shows that very value at that place under a name that is no
 * secret's. The op names no variable, so without that proof its value is taken for a secret; requiring the same
 * value (not just the index) keeps an earlier op of the patch that shifted the list from lending entry N's harmless
 * name to another entry's secret, and what is kept is then no more than the logged object already shows.
 */
function patchValueShownHarmless(opPath: string, value: string, patched: unknown): boolean {
  let node: unknown = patched;
  const parts = opPath.split('/');
  // parts[0] is '' (the pointer starts with '/'); the last part is 'value'.
  for (let i = 1; i < parts.length - 1; i++) {
    if (node === null || typeof node !== 'object') return false;
    const key = parts[i]!.replace(/~1/g, '/').replace(/~0/g, '~');
    node = (node as Record<string, unknown>)[key];
  }
  const entry = node as { name?: unknown; value?: unknown } | null | undefined;
  return typeof entry?.name === 'string' && !holdsSecret(entry.name, value) && entry.value === value;
}

/**
 * `kubectl apply` keeps the whole object it applied, env values and all, as JSON text in this annotation: the text is
 * parsed, redacted like the object, and written back (compact, as kubectl writes it) when something was hidden.
 */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** JSON text held in a string (that annotation, an AKS `log`): parsed, redacted, written back compact if changed. */
function redactJsonText(text: string, keys: Array<string | number>, walk: Walk): string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return redactValue(text, keys, 'plain', walk) as string;
  }
  // The patch ops a JSON text may hold (a webhook's) are judged by the patched object the walk was given, if any.
  const r = redactValue(doc, keys, 'plain', walk);
  return r === doc ? text : `${JSON.stringify(r)}${text.endsWith('\n') ? '\n' : ''}`;
}

/**
 * A string holding a JSON object or array (an annotation's value, an env value, a ConfigMap's `config.json`) with its
 * secret-named keys' values hidden at any depth (a number's too: `{"pin_password": 1234}`) and free text in its strings
 * redacted, written back compact when something was (core/secrets redactJsonText); any other string as it is. Only a
 * string opening with `{` or `[` is parsed.
 */
function jsonHidden(v: string): string {
  if (!JSON_OPEN.test(v)) return v;
  return redactJsonString(v) ?? v;
}
const JSON_OPEN = /^\s*[[{]/;
/** JSON text that may hold a container spec: its env entries and args need reading as a container's. */
const CONTAINER_JSON = /"(?:env|args|command)"\s*:/;

/** Whether text parses as a JSON object (an applied object as kubectl writes it). */
function isJsonObjectText(text: string): boolean {
  try {
    const doc: unknown = JSON.parse(text);
    return doc !== null && typeof doc === 'object' && !Array.isArray(doc);
  } catch {
    return false;
  }
}

/** `requestObject.spec.containers[0].env[2].value` from its keys; built only for what was redacted (the walk stays cheap). */
function pathText(keys: Array<string | number>): string {
  let out = '';
  for (const k of keys) out += typeof k === 'number' ? `[${k}]` : out ? `.${k}` : k;
  return out;
}

/**
 * A command line (`args`, `command`; `one`: a single argument a patch op writes; `command`: the command `args` are
 * given to) with secret flag values hidden (redactArgv); what it leaves (objects in a malformed list) is walked as usual.
 */
function redactArgvAt(v: unknown, keys: Array<string | number>, walk: Walk, one: boolean, command?: string): unknown {
  if (!Array.isArray(v)) return redactValue(v, keys, 'plain', walk);
  const { argv, changed } = redactArgv(v, command);
  if (one) {
    if (changed.length) walk.paths.push(pathText(keys));
    return argv[0];
  }
  for (const i of changed) {
    keys.push(i);
    walk.paths.push(pathText(keys));
    keys.pop();
  }
  let copy: unknown[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === null || typeof argv[i] !== 'object') continue;
    keys.push(i);
    const r = redactValue(argv[i], keys, 'plain', walk);
    keys.pop();
    if (r !== argv[i]) (copy ??= argv.slice())[i] = r;
  }
  return copy ?? argv;
}

/** `keys`: where `v` is (a stack the walk pushes to and pops from). */
function redactValue(v: unknown, keys: Array<string | number>, shape: Shape, walk: Walk): unknown {
  // A whole input may nest deeper than any record the route takes: cut where boundedJson would, not overflow the stack.
  if (walk.whole && keys.length >= MAX_JSON_DEPTH && v !== null && typeof v === 'object') return `[nested deeper than ${MAX_JSON_DEPTH} levels]`;
  if (shape === 'argv') return redactArgvAt(typeof v === 'string' ? [v] : v, keys, walk, typeof v === 'string');
  if (typeof v === 'string') {
    // Any string may be a URL: a storageUri or env value with credentials, a presigned URL's signature; one holding a
    // JSON object or array (an annotation's or env value's JSON: `{"token": "x"}`) has its secret-named keys hidden.
    const r = redactUrlSecrets(jsonHidden(v));
    if (r !== v) walk.paths.push(pathText(keys));
    return r;
  }
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      keys.push(i);
      const r = redactValue(v[i], keys, shape === 'envList' ? 'envEntry' : 'plain', walk);
      keys.pop();
      if (r !== v[i]) (copy ??= v.slice())[i] = r;
    }
    return copy ?? v;
  }
  const o = v as Record<string, unknown>;
  if (!walk.secretData && walk.whole && isSecretsRecord(o)) walk = { ...walk, secretData: true };
  if (!walk.configMapData && walk.whole && isConfigMapsRecord(o)) walk = { ...walk, configMapData: true };
  // A Secret (or a SecretList, whose items name no kind) anywhere, in a record about any resource (a `v1/List`, a
  // list's items): read as a record about Secrets is, its last-applied configuration included.
  if (!walk.secretData && (o.kind === 'Secret' || o.kind === 'SecretList')) walk = { ...walk, secretData: true };
  const secretObject = walk.secretData;
  // An env entry `{name, value}` (or an Argo / KFP parameter `{name, value, default}`) whose name is a secret's: its
  // literal value goes, whatever it looks like — unless the name names a place (`HF_TOKEN_FILE`, `SECRET_NAME`) and
  // the value is one (holdsSecret, as in text).
  const secretEntry = shape === 'envEntry' && typeof o.name === 'string' ? o.name : undefined;
  // A JSON patch op (`{op, path, value}`) writing an env list or entry: its `value` is that list or entry.
  const opPath = typeof o.op === 'string' && typeof o.path === 'string' ? o.path : undefined;
  const opValueShape: Shape =
    opPath === undefined ? 'plain'
    : PATCH_ENV_ENTRY.test(opPath) ? 'envEntry'
    : PATCH_ENV_LIST.test(opPath) ? 'envList'
    : PATCH_ARGV_LIST.test(opPath) || PATCH_ARGV_ITEM.test(opPath) ? 'argv'
    : 'plain';
  // A patch op writing only an env entry's value (`…/env/3/value`), unless the patched object shows it harmless.
  const secretOpValue = opPath !== undefined && typeof o.value === 'string' && o.value !== '' && PATCH_ENV_VALUE.test(opPath) && !patchValueShownHarmless(opPath, o.value, walk.patched);
  const secretDataOp = walk.secretData === true && opPath !== undefined && PATCH_SECRET_DATA.test(opPath);
  const configMapOp = opPath !== undefined && walk.configMapData === true && !secretDataOp && PATCH_CONFIGMAP_DATA.test(opPath);
  let copy: Record<string, unknown> | undefined;
  for (const k of Object.keys(o)) {
    const child = o[k];
    let r: unknown;
    keys.push(k);
    if (((secretEntry !== undefined && (k === 'value' || k === 'default') && typeof child === 'string' && holdsSecret(secretEntry, child)) || (secretOpValue && k === 'value')) && typeof child === 'string' && child !== '') {
      r = REDACTED;
      walk.paths.push(pathText(keys));
    } else if (secretEntry !== undefined && (k === 'value' || k === 'default') && typeof child === 'string' && JSON_OPEN.test(child) && CONTAINER_JSON.test(child)) {
      // A container spec as JSON text in a parameter (a KFP v2 Workflow's `implementations-<hash>`, its driver task's
      // `container` argument): its env entries and args are read as a container's, then as any JSON string's.
      const text = redactJsonText(child, keys, { ...walk, patched: undefined });
      r = redactUrlSecrets(jsonHidden(text));
      if (r !== text) walk.paths.push(pathText(keys));
    } else if ((secretObject && SECRET_DATA.has(k)) || (secretDataOp && k === 'value')) {
      r = redactSecretData(child, keys, walk);
    } else if (((k === 'data' || k === 'binaryData') && !secretObject && (walk.configMapData === true || o.kind === 'ConfigMap')) || (configMapOp && k === 'value')) {
      // A ConfigMap's values (the key is compared first: this test runs for every key of every object).
      r = redactConfigMapData(child, keys, walk, configMapOp ? patchedConfigMapKey(opPath!) : undefined);
    } else if (k === 'source' && typeof child === 'string' && (typeof o.image === 'string' || Array.isArray(o.command))) {
      // An Argo script template (`script: {image, command, source}`): its source is a script, read like a sh -c string.
      r = redactUrlSecrets(redactScriptText(child));
      if (r !== child) walk.paths.push(pathText(keys));
    } else if (walk.whole && k === 'requestURI' && typeof child === 'string') {
      r = redactRequestUri(child);
      if (r !== child) walk.paths.push(pathText(keys));
    } else if (walk.whole && k === 'log' && typeof child === 'string' && child.startsWith('{')) {
      // AKS diagnostics carry the audit Event as JSON text in properties.log.
      r = redactJsonText(child, keys, walk);
    } else if (k === 'message' && typeof child === 'string') {
      // A Status answer's message (the same text as responseStatus.message).
      r = redactStatusMessage(child);
      if (r !== child) walk.paths.push(pathText(keys));
    } else if (k === LAST_APPLIED && typeof child === 'string' && walk.secretData === true) {
      // A Secret's applied object holds its values whatever its text says (a hand-written one may name no kind):
      // always read as a Secret, and hidden whole when it is no JSON (nothing tells its values from the rest).
      const text = redactJsonText(child, keys, { ...walk, patched: undefined });
      r = text === child && !isJsonObjectText(child) && child !== '' ? REDACTED : text;
      if (r === REDACTED) walk.paths.push(pathText(keys));
    } else if (k === LAST_APPLIED && typeof child === 'string' && (child.includes('"env"') || child.includes('"args"') || child.includes('"command"') || child.includes('"Secret"') || child.includes('"ConfigMap"') || child.includes('"source"'))) {
      // The applied object is not what the request's patch produced: no patch op is judged by it.
      r = redactJsonText(child, keys, { ...walk, patched: undefined });
    } else if (walk.whole && typeof child === 'string' && k.startsWith(WEBHOOK_PATCH)) {
      r = redactJsonText(child, keys, walk);
    } else {
      const childShape: Shape =
        (k === 'env' || k === 'parameters') && Array.isArray(child) ? 'envList'
        : (k === 'args' || k === 'command') && Array.isArray(child) ? 'argv'
        : k === 'value' && opValueShape !== 'plain' ? opValueShape
        : 'plain';
      // A container's args go to its command (or its image's entrypoint): `-p` and `-u` are judged by it.
      r = childShape === 'argv' && k === 'args' ? redactArgvAt(child, keys, walk, false, argsCommandOf(o)) : redactValue(child, keys, childShape, walk);
    }
    keys.pop();
    if (r !== child) (copy ??= { ...o })[k] = r;
  }
  return copy ?? o;
}
