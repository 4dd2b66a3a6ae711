/** What an MLflow registry record holds that users write freely (tags, descriptions, sources): its secrets hidden. */
import { redactFreeText, redactJsonText, redactJsonTree, redactTagList, redactTagMap, redactUrlSecrets, redactValueMap } from '../../core/secrets.js';
import { hideNamed } from '../../core/secrets/values.js';
import type { NormalizedEvent } from '../../core/schema/index.js';

const text = (v: unknown): unknown => (typeof v === 'string' ? redactFreeText(v) : v);
/** A tag's value under its key: hidden whole under a secret's name (`hf_token`), else its free text redacted. */
export const tagValue = (key: unknown, v: unknown): unknown => (typeof key === 'string' ? hideNamed(key, v) : undefined) ?? text(v);

/**
 * A webhook's `data` with the secrets users put in it hidden: `source`'s URL user-info and secret query values
 * (`https://u:token@host/…`, `?sig=`, `X-Amz-Signature`), secret-named tags' values and free text in the other tags
 * (`tags: {hf_token: x}`, `note: "password: x"`), `description`, a prompt version's `template`, a tag event's `value` under its `key`. The same
 * object (===) when nothing was hidden (nearly every delivery).
 *
 * @example
 * redactWebhookData({ name: 'm', source: 'https://u:t@h/m', tags: { hf_token: 'x' } }) // { name: 'm', source: 'https://[redacted]@h/m', tags: { hf_token: '[redacted]' } }
 */
export function redactWebhookData(d: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  const set = (k: string, r: unknown) => { if (r !== d[k]) (out ??= { ...d })[k] = r; };
  if (typeof d.source === 'string') set('source', redactUrlSecrets(d.source));
  if (d.tags !== undefined) set('tags', Array.isArray(d.tags) ? redactTagList(d.tags) : redactTagMap(d.tags));
  for (const k of ['description', 'comment', 'text']) if (k in d) set(k, text(d[k]));
  if ('template' in d) set('template', promptTemplate(d.template));
  if ('value' in d) set('value', tagValue(d.key, d.value));
  return out ?? d;
}

/**
 * A prompt version's template (MLflow `prompt_version.created`): a text template (`Use api_key: "x" to …`) read as free
 * text, a chat template (a list of `{role, content}` messages, or that list as JSON text) read as JSON — secret-named
 * keys' values and free text in its strings hidden. The same value (===) when nothing was hidden.
 */
export function promptTemplate(t: unknown): unknown {
  if (typeof t === 'string') return redactFreeText(t);
  if (t === null || typeof t !== 'object') return t;
  const json = JSON.stringify(t);
  const r = redactJsonText(json);
  return r === undefined || r === json ? t : JSON.parse(r);
}

/**
 * An auditor event with the secrets of the registry's free fields hidden, as the webhook's (redactWebhookData):
 * `ml.model.tags`, a run's `ml.job.params` (as a SageMaker job's hyperparameters: secret-named values, URL user-info), `details.description`, a description change's `old` / `new`, a tag change's `old` / `value`, and
 * the tags and description of a deleted version's `last_seen`. Ids and change keys are made before (hashes).
 */
export function redactAuditEvent(ev: NormalizedEvent): NormalizedEvent {
  const e = ev as unknown as { ml?: { model?: Record<string, unknown>; job?: Record<string, unknown> }; details?: Record<string, unknown> };
  const model = e.ml?.model;
  if (model && model.tags !== undefined) {
    const tags = redactTagMap(model.tags);
    if (tags !== model.tags) e.ml!.model = { ...model, tags };
  }
  // A run's params (`ml.job.params` of a provenance event) are what `mlflow.log_param` / autologging were given:
  // a training script's `hf_token`, `db_password` or `--api-key` argument lands there as a param.
  const job = e.ml?.job;
  if (job && job.params !== undefined) {
    const params = redactValueMap(job.params);
    if (params !== job.params) e.ml!.job = { ...job, params };
  }
  const d = e.details;
  if (!d) return ev;
  let out: Record<string, unknown> | undefined;
  const set = (k: string, r: unknown) => { if (r !== d[k]) (out ??= { ...d })[k] = r; };
  if ('description' in d) set('description', text(d.description));
  if (d.field === 'description') {
    set('old', text(d.old));
    set('new', text(d.new));
  }
  const tag = d.tag as Record<string, unknown> | undefined;
  if (tag && typeof tag === 'object') {
    const [old, value] = [tagValue(tag.key, tag.old), tagValue(tag.key, tag.value)];
    if (old !== tag.old || value !== tag.value) set('tag', { ...tag, ...('old' in tag ? { old } : {}), ...('value' in tag ? { value } : {}) });
  }
  const last = d.last_seen as Record<string, unknown> | undefined;
  if (last && typeof last === 'object') {
    const hidden = redactWebhookData(last);
    if (hidden !== last) set('last_seen', hidden);
  }
  if (out) e.details = out;
  return ev;
}

/**
 * A rejected webhook record (an OSS envelope, a Databricks flat body, or whatever JSON was signed) as quarantine keeps
 * it: `data` (or the flat body) redacted as an event's raw is (redactWebhookData), then every secret-named key's value
 * and free text anywhere else (a malformed envelope puts tags where redactWebhookData does not look). The same value
 * (===) when nothing was hidden.
 *
 * @example
 * redactRejectedRecord({ entity: 'model_version', data: { version: '1', tags: { hf_token: 'x' } } }) // …tags: { hf_token: '[redacted]' }
 */
export function redactRejectedRecord(record: unknown): unknown {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return redactJsonTree(record);
  const r = record as Record<string, unknown>;
  let out = r;
  if (r.data !== null && typeof r.data === 'object' && !Array.isArray(r.data)) {
    const data = redactWebhookData(r.data as Record<string, unknown>);
    if (data !== r.data) out = { ...r, data };
  } else if (!('data' in r)) out = redactWebhookData(r);
  return redactJsonTree(out);
}

/** A signed body as quarantine keeps it, and what its meta says about that. */
export interface KeptBody {
  body: Buffer | string;
  /** `{redacted: true, body_bytes}` (of the bytes as signed) when something was hidden; else empty. */
  meta: Record<string, unknown>;
}

/**
 * What quarantine keeps of a signed webhook body it rejects: the bytes as signed when they hold no secret (they still
 * verify against the delivery's signature, the usual case), else the body with the secrets users put in it hidden as
 * in `raw` — `parsed` (the body's JSON, when it parsed within the depth limit) through redactRejectedRecord, other
 * text through redactFreeText — with the signed bytes' length. No digest of the signed bytes: they hold the secret, and
 * an unkeyed hash of them lets whoever reads quarantine test guesses of a short password offline (the delivery id
 * matches the record to the sender's copy). A signature proves who sent the secrets, not that they may be kept: a secret-bearing
 * delivery refused for an unrelated field (a bad timestamp) must not leave its `hf_token` on disk.
 *
 * @example
 * keptBody(Buffer.from('{"data":{"tags":{"hf_token":"x"}}}'), { data: { tags: { hf_token: 'x' } } }).meta // { redacted: true, body_bytes: 35 }
 */
export function keptBody(body: Buffer, parsed?: unknown): KeptBody {
  const text = body.toString('utf8');
  let shown: string;
  try {
    if (parsed !== undefined) {
      const r = redactRejectedRecord(parsed);
      shown = r === parsed ? text : JSON.stringify(r);
    } else shown = redactFreeText(text);
  } catch (err) {
    // A body too deep to read back (a stack overflow): kept unredacted it could hold the very secrets hidden elsewhere.
    shown = `[not kept: could not be redacted: ${(err as Error).message.slice(0, 200)}]`;
  }
  if (shown === text) return { body, meta: {} };
  return { body: shown, meta: { redacted: true, body_bytes: body.length } };
}
