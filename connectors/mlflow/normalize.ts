import { z } from 'zod';
import type { NormalizeContext, NormalizeOutput } from '../../core/connector.js';
import { contentId, fromWorkspace, isAction, makeEvent, MLFLOW_WORKSPACE, stableId, toRfc3339, type Action, type EventDraft, type NormalizedEvent } from '../../core/schema/index.js';
import { approvalFromTag, isApprovalAlias, isApprovalStage, type Approval } from './approval.js';
import { webhookChange } from './change.js';
import type { MlflowConfig } from './config.js';
import { PROMPT_TAG } from './snapshot.js';
import { safeUri } from './uri.js';
import { redactWebhookData } from './redact.js';
import { redactTagList } from '../../core/secrets.js';

/** The entities and actions MLflow 3.x webhooks emit (`mlflow/entities/webhook.py`). */
export const MLFLOW_ENTITIES = [
  'registered_model', 'model_version', 'model_version_tag', 'model_version_alias',
  'prompt', 'prompt_version', 'prompt_tag', 'prompt_version_tag', 'prompt_alias', 'budget_policy',
] as const;
export const MLFLOW_ACTIONS = ['created', 'updated', 'deleted', 'set', 'exceeded'] as const;

/** The envelope `_send_webhook_request` builds: `{entity, action, timestamp, data[, workspace]}`. */
export const MlflowEnvelope = z.looseObject({
  entity: z.string().min(1),
  action: z.string().min(1),
  timestamp: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
  workspace: z.string().optional(),
});
export type MlflowEnvelope = z.infer<typeof MlflowEnvelope>;

/** Databricks Workspace Model Registry webhook body (flat). */
export const DatabricksBody = z.looseObject({
  event: z.string().min(1),
  webhook_id: z.string().optional(),
  event_timestamp: z.union([z.number(), z.string()]).optional(),
  model_name: z.string().optional(),
  version: z.union([z.string(), z.number()]).optional(),
  to_stage: z.string().optional(),
  from_stage: z.string().optional(),
  tags: z.array(z.looseObject({ key: z.string(), value: z.string().optional() })).optional(),
  comment: z.string().optional(),
  text: z.string().optional(),
});
export type DatabricksBody = z.infer<typeof DatabricksBody>;

const DATABRICKS_EVENT = /^(MODEL_VERSION_|REGISTERED_MODEL_|TRANSITION_REQUEST_|COMMENT_)[A-Z_]+$/;

/** True for an MLflow OSS webhook envelope or a Databricks registry webhook body. */
export function detectMlflow(record: unknown): boolean {
  if (!record || typeof record !== 'object' || Array.isArray(record)) return false;
  const r = record as Record<string, unknown>;
  if (typeof r.entity === 'string' && typeof r.action === 'string' && typeof r.timestamp === 'string' && !!r.data && typeof r.data === 'object') {
    return (MLFLOW_ENTITIES as readonly string[]).includes(r.entity);
  }
  return typeof r.event === 'string' && DATABRICKS_EVENT.test(r.event) && ('model_name' in r || 'webhook_id' in r);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
const tagRecord = (v: unknown): Record<string, string> | undefined => {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) out[k] = typeof val === 'string' ? val : JSON.stringify(val);
  return out;
};

interface Mapping {
  action: Action;
  /** Fields `data` must carry. */
  required: string[];
  resource: 'registered_model' | 'model_version' | 'prompt' | 'budget_policy';
}

/** entity.action → normalized action. Prompt entities keep resource type `prompt`. */
const MAPPINGS: Record<string, Mapping> = {
  'registered_model.created': { action: 'registered_model.create', required: ['name'], resource: 'registered_model' },
  'model_version.created': { action: 'model_version.create', required: ['name', 'version'], resource: 'model_version' },
  'model_version_tag.set': { action: 'model_version.tag_set', required: ['name', 'version', 'key'], resource: 'model_version' },
  'model_version_tag.deleted': { action: 'model_version.tag_delete', required: ['name', 'version', 'key'], resource: 'model_version' },
  'model_version_alias.created': { action: 'model_version.alias_set', required: ['name', 'alias', 'version'], resource: 'model_version' },
  'model_version_alias.deleted': { action: 'model_version.alias_delete', required: ['name', 'alias'], resource: 'model_version' },
  'prompt.created': { action: 'prompt.create', required: ['name'], resource: 'prompt' },
  'prompt_version.created': { action: 'prompt_version.create', required: ['name', 'version'], resource: 'prompt' },
  'prompt_tag.set': { action: 'prompt.tag_set', required: ['name', 'key'], resource: 'prompt' },
  'prompt_tag.deleted': { action: 'prompt.tag_delete', required: ['name', 'key'], resource: 'prompt' },
  'prompt_version_tag.set': { action: 'prompt_version.tag_set', required: ['name', 'version', 'key'], resource: 'prompt' },
  'prompt_version_tag.deleted': { action: 'prompt_version.tag_delete', required: ['name', 'version', 'key'], resource: 'prompt' },
  'prompt_alias.created': { action: 'prompt.alias_set', required: ['name', 'alias', 'version'], resource: 'prompt' },
  'prompt_alias.deleted': { action: 'prompt.alias_delete', required: ['name', 'alias'], resource: 'prompt' },
  'budget_policy.exceeded': { action: 'budget_policy.exceeded', required: ['budget_policy_id'], resource: 'budget_policy' },
};

/** Verbs of entity/action pairs MLflow may add later (`updated` exists in the enum, unused today). */
const FALLBACK_VERB: Record<string, string> = { created: 'create', updated: 'update', deleted: 'delete' };

/** The delivery id from the transport facts (`X-MLflow-Delivery-Id`), if the caller passed it. */
export function deliveryIdOf(meta: Record<string, unknown> | undefined): string | undefined {
  if (!meta) return undefined;
  const direct = meta.delivery_id ?? meta.deliveryId;
  if (typeof direct === 'string' && direct) return direct;
  const headers = meta.headers as Record<string, unknown> | undefined;
  const h = headers?.['x-mlflow-delivery-id'];
  return typeof h === 'string' && h ? h : undefined;
}

/** Copy of `o` without its undefined values, key order kept. */
function definedOnly(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

const nonEmpty = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

/**
 * `MlflowEnvelope.safeParse` without its cost on the hot path: a well-formed
 * JSON envelope is used as is (zod would return an equal copy); anything else
 * goes through zod, which gives the same result and error messages as before.
 * `data` must be a plain object without an own `__proto__` key, the only case
 * where zod's copy of a JSON object differs from the object.
 */
function parseEnvelope(record: unknown): { success: true; data: MlflowEnvelope } | { success: false; error: z.ZodError } {
  if (record !== null && typeof record === 'object' && Object.getPrototypeOf(record) === Object.prototype) {
    const r = record as Record<string, unknown>;
    const data = r.data;
    if (
      nonEmpty(r.entity) && nonEmpty(r.action) && nonEmpty(r.timestamp) &&
      (r.workspace === undefined || typeof r.workspace === 'string') &&
      data !== null && typeof data === 'object' && Object.getPrototypeOf(data) === Object.prototype && !Object.hasOwn(data, '__proto__')
    ) {
      return { success: true, data: r as MlflowEnvelope };
    }
  }
  return MlflowEnvelope.safeParse(record);
}

/**
 * Normalize one MLflow webhook delivery (OSS envelope or Databricks flat
 * body) into one registry event. Pure: no I/O.
 *
 * @example
 * normalizeMlflow(JSON.parse(body), { channel: 'mlflow.webhook', receivedTime, keepRaw: true, config, meta: { delivery_id } })
 */
export function normalizeMlflow(record: unknown, ctx: NormalizeContext<MlflowConfig>): NormalizeOutput {
  if (record && typeof record === 'object' && 'event' in record && !('entity' in record)) return normalizeDatabricks(record, ctx);
  const parsed = parseEnvelope(record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      events: [],
      rejected: [{ reason: `not an MLflow webhook envelope {entity, action, timestamp, data}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`, field: issue?.path.join('.'), record }],
      skipped: [],
    };
  }
  const env = parsed.data;
  // MLflow names workspaces as Kubernetes names namespaces (WorkspaceNameValidator): never a `:` or `/`, which
  // would make the rule state's scoped names (`team/a:fraud/3`) ambiguous, nor upper case (`Default` is no `default`).
  if (env.workspace !== undefined && !MLFLOW_WORKSPACE.test(env.workspace)) {
    return reject(record, `workspace ${JSON.stringify(env.workspace)} is not an MLflow workspace name (lowercase letters, digits and "-", 2-63 characters)`, 'workspace');
  }
  const key = `${env.entity}.${env.action}`;
  const time = toRfc3339(env.timestamp);
  if (!time) return reject(record, `timestamp ${JSON.stringify(env.timestamp)} is not a valid RFC 3339 time (years 1970-9999, a date the calendar has)`, 'timestamp');
  const mapping = MAPPINGS[key];
  const d = env.data;
  // What the event and raw show: secrets users put in a source, tags or a description hidden. `d` (as sent) still
  // decides the action, the approval and the change key, which must match the auditor's report of the same change.
  const shown = redactWebhookData(d);
  const raw = shown === d ? record : { ...(record as Record<string, unknown>), data: shown };
  if (mapping) {
    const missing = mapping.required.find((f) => str(d[f]) === undefined);
    if (missing) return reject(record, `${key}: data.${missing} is missing or not a string`, `data.${missing}`);
  } else if (!(MLFLOW_ENTITIES as readonly string[]).includes(env.entity)) {
    return reject(record, `unknown MLflow webhook entity "${env.entity}" (expected one of ${MLFLOW_ENTITIES.join(', ')})`, 'entity');
  }

  const deliveryId = deliveryIdOf(ctx.meta);
  const id = deliveryId ? stableId('mlflow', 'delivery', deliveryId) : contentId('mlflow', record);
  const name = str(d.name);
  const version = str(d.version);
  let action: Action = mapping?.action ?? fallbackAction(env.entity, env.action);
  let approval: Approval | undefined;
  let marker: Record<string, string> | undefined;
  const approvalCfg = ctx.config.approval;
  const tags = tagRecord(d.tags);
  const shownTags = shown === d ? tags : tagRecord(shown.tags);
  // MLflow 3.3 had no prompt events: creating a prompt sent registered_model.created (and a version
  // model_version.created) whose request tags carry mlflow.prompt.is_prompt — its own test for "is a prompt".
  const legacyPrompt = (key === 'registered_model.created' || key === 'model_version.created') && !!tags && Object.hasOwn(tags, PROMPT_TAG);
  if (legacyPrompt) action = key === 'registered_model.created' ? 'prompt.create' : 'prompt_version.create';

  if (key === 'model_version_tag.set') {
    approval = approvalFromTag(approvalCfg, str(d.key)!, str(d.value));
    if (approval) marker = { kind: 'tag', key: str(d.key)!, value: str(d.value) ?? '' };
    if (approval === 'approved') action = 'model_version.approve';
    else if (approval === 'rejected') action = 'model_version.reject';
  } else if (key === 'model_version_alias.created' && isApprovalAlias(approvalCfg, str(d.alias))) {
    approval = 'approved';
    marker = { kind: 'alias', alias: str(d.alias)! };
    action = 'model_version.approve';
  } else if (key === 'model_version.created' && tags && !legacyPrompt) {
    // A version born with an approval tag skips the approval step: keep `create`, flag the state.
    for (const [k, v] of Object.entries(tags)) {
      const a = approvalFromTag(approvalCfg, k, v);
      if (a) [approval, marker] = [a, { kind: 'tag', key: k, value: v }];
    }
  }

  const resourceType = legacyPrompt ? 'prompt' : (mapping?.resource ?? (env.entity.startsWith('prompt') ? 'prompt' : env.entity));
  const isModel = resourceType === 'registered_model' || resourceType === 'model_version';
  const alias = str(d.alias);
  const source = safeUri(str(shown.source)); // a signed URL or user-info must not reach the SIEM
  const detailsLiteral: Record<string, unknown> = {
    delivery_id: deliveryId,
    workspace: env.workspace,
    description: shown.description ?? undefined,
    tag: str(d.key) !== undefined ? { key: str(d.key), value: str(shown.value) } : undefined,
    alias,
    template: key === 'prompt_version.created' ? shown.template : legacyPrompt ? shownTags?.['mlflow.prompt.text'] : undefined,
    // Prompts have no ml.model: their tags (prompt.created, prompt_version.created) are kept here.
    tags: resourceType === 'prompt' ? shownTags : undefined,
    approval_marker: marker,
    // The same change as the auditor's report of it (connectors/mlflow/change.ts): the rules count it once.
    change_key: webhookChange(key, d),
  };
  // Defined values only (makeEvent would delete the rest: slow on wide objects). Not for
  // budget policies: `data` is merged in below and may set keys that are undefined here.
  const details = resourceType === 'budget_policy' ? detailsLiteral : definedOnly(detailsLiteral);
  if (key === 'model_version_tag.deleted' && approvalFromTag(approvalCfg, str(d.key)!, 'approved')) details.approval_marker_removed = { kind: 'tag', key: str(d.key) };
  if (key === 'model_version_alias.deleted' && isApprovalAlias(approvalCfg, alias)) details.approval_marker_removed = { kind: 'alias', alias };
  if (key === 'model_version.created' && !legacyPrompt) Object.assign(details, loggedModelOf(str(d.source), str(d.model_id)));
  if (resourceType === 'budget_policy') Object.assign(details, shown);
  if (!mapping) details.unmapped = `no specific mapping for ${key}`;

  const ev: NormalizedEvent = makeEvent(
    definedOnly({
      id,
      time,
      platform: 'mlflow',
      channel: ctx.channel,
      stage: 'registry',
      action,
      operation: key,
      service: 'mlflow',
      outcome: 'success',
      resource:
        resourceType === 'budget_policy'
          ? { type: 'budget_policy', id: str(d.budget_policy_id), namespace: env.workspace ?? str(d.workspace) }
          : definedOnly({
              type: resourceType,
              id: name && version ? `${name}/${version}` : name,
              name,
              version,
              uri: source,
              namespace: env.workspace,
            }),
      ml: isModel
        ? {
            model: definedOnly({
              name,
              version,
              approval,
              aliases: alias && key !== 'model_version_alias.deleted' ? [alias] : undefined,
              artifact_uri: source,
              run_id: str(d.run_id),
              tags: shownTags,
            }),
          }
        : undefined,
      details,
    }) as unknown as EventDraft,
    { raw, keepRaw: ctx.keepRaw, receivedTime: ctx.receivedTime },
  );
  // A named workspace's names are its own (registered-model names are unique per workspace): scoped to it.
  return { events: [fromWorkspace(ev, env.workspace)], rejected: [], skipped: [] };
}

function fallbackAction(entity: string, verb: string): Action {
  // Only whole resources map to their own verb; a tag/alias sub-entity has no safe generic mapping.
  const candidate = `${entity}.${FALLBACK_VERB[verb] ?? verb}`;
  return isAction(candidate) && ['registered_model', 'model_version', 'prompt', 'prompt_version', 'budget_policy'].includes(entity)
    ? candidate
    : 'resource.other';
}

/** A logged model's id (`m-` and 32 hex digits in MLflow 3; read loosely: `m-` and letters, digits, `-` or `_`). */
const LOGGED_MODEL_ID = String.raw`m-[A-Za-z0-9_-]+`;
const LOGGED_MODEL_URI = new RegExp(`^models:/(${LOGGED_MODEL_ID})/?$`);
/** A logged model's artifact location as MLflow 3 lays it out: `<experiment artifact root>/models/<model_id>/artifacts`. */
const LOGGED_MODEL_FILES = new RegExp(`/models/(${LOGGED_MODEL_ID})/artifacts(?:/|$)`);

/**
 * What a `model_version.created` delivery says of an MLflow 3 logged model (`log_model(..., registered_model_name=…)`):
 * its id (`details.logged_model_id`) from a `models:/m-…` source, a source that is the logged model's artifact location
 * (`…/models/m-…/artifacts`, then `ml.model.artifact_uri` is where its files are) or a `model_id` field. MLflow's payload
 * (name, version, source, run_id, tags, description) never gives the location of a `models:/m-…` source's files: that is
 * `details.artifact_location_unknown`, answered only by the registry auditor's REST read (its hash record), so with
 * webhooks alone no object-store write or deployment naming the files is judged by this version.
 *
 * @example
 * loggedModelOf('models:/m-0a1b', undefined) // { logged_model_id: 'm-0a1b', artifact_location_unknown: '…' }
 */
export function loggedModelOf(source: string | undefined, modelId: string | undefined): Record<string, unknown> {
  const byUri = source ? LOGGED_MODEL_URI.exec(source)?.[1] : undefined;
  const byFiles = source && !byUri ? LOGGED_MODEL_FILES.exec(source)?.[1] : undefined;
  const id = byUri ?? byFiles ?? (modelId && new RegExp(`^${LOGGED_MODEL_ID}$`).test(modelId) ? modelId : undefined);
  if (!id) return {};
  return {
    logged_model_id: id,
    ...(byUri ? { artifact_location_unknown: `the source names logged model ${id} only through MLflow; the webhook does not say where its files are (the registry auditor reads it: logged-models/get)` } : {}),
  };
}

function reject(record: unknown, reason: string, field?: string): NormalizeOutput {
  return { events: [], rejected: [{ reason, field, record }], skipped: [] };
}

/** Databricks event → normalized action (stage transitions to an approval stage are approvals). */
function databricksAction(b: DatabricksBody, cfg: MlflowConfig): { action: Action; approval?: Approval } {
  const e = b.event;
  if (e === 'REGISTERED_MODEL_CREATED') return { action: 'registered_model.create' };
  if (e === 'MODEL_VERSION_CREATED') return { action: 'model_version.create' };
  if (e === 'MODEL_VERSION_TAG_SET') {
    for (const t of b.tags ?? []) {
      const a = approvalFromTag(cfg.approval, t.key, t.value);
      if (a === 'approved') return { action: 'model_version.approve', approval: a };
      if (a === 'rejected') return { action: 'model_version.reject', approval: a };
    }
    return { action: 'model_version.tag_set' };
  }
  if (e.startsWith('MODEL_VERSION_TRANSITIONED_')) {
    const to = b.to_stage ?? stageFromEvent(e);
    return isApprovalStage(cfg.approval, to) ? { action: 'model_version.approve', approval: 'approved' } : { action: 'model_version.stage_transition' };
  }
  if (e.startsWith('TRANSITION_REQUEST_')) return { action: 'model_version.transition_request', approval: 'pending' };
  if (e === 'COMMENT_CREATED') return { action: 'model_version.comment' };
  return { action: 'resource.other' };
}

function stageFromEvent(e: string): string | undefined {
  const m = /_TO_(STAGING|PRODUCTION|ARCHIVED)/.exec(e);
  return m ? m[1]![0] + m[1]!.slice(1).toLowerCase() : undefined;
}

/**
 * `event_timestamp` is epoch milliseconds (Databricks docs; the route checks freshness in ms too):
 * read as such, not through toRfc3339's seconds/µs guess, which would date a year-10000 value 1978.
 */
function databricksTime(v: unknown): string | undefined {
  if (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v))) {
    const ms = Number(v);
    return ms > 0 ? toRfc3339(new Date(ms)) : undefined;
  }
  return toRfc3339(v);
}

/**
 * A Databricks body's id: the hash of the body without `webhook_id`. The body carries no event or
 * delivery id; `webhook_id` names the subscription that sent it, not the registry event. A
 * registry-wide and a model-specific webhook (both documented, both may point here, e.g. while one
 * replaces the other) deliver the same transition with different `webhook_id`s: hashed whole they were
 * two events (two approvals of one version). Everything else in the body (event, model, version,
 * stages, event_timestamp in ms, tags, comment) still tells events apart, and a retried body is still
 * the same id. ID CONTRACT CHANGE: Databricks ids differ from those of earlier releases.
 *
 * @example
 * databricksEventId({ event: 'MODEL_VERSION_CREATED', webhook_id: 'a', event_timestamp: 1, model_name: 'm', version: '1' })
 * // === databricksEventId({ ...same, webhook_id: 'b' })
 */
export function databricksEventId(record: Record<string, unknown>): string {
  const { webhook_id: _webhook, ...event } = record;
  return contentId('mlflow', event);
}

function normalizeDatabricks(record: unknown, ctx: NormalizeContext<MlflowConfig>): NormalizeOutput {
  const parsed = DatabricksBody.safeParse(record);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return reject(record, `not a Databricks registry webhook body: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`, issue?.path.join('.'));
  }
  const b = parsed.data;
  if (!DATABRICKS_EVENT.test(b.event)) return reject(record, `unknown Databricks registry webhook event "${b.event}"`, 'event');
  // No stand-in (the receipt time): a missing or impossible event time is refused, not re-dated.
  const time = databricksTime(b.event_timestamp);
  if (!time) {
    return reject(record, b.event_timestamp === undefined
      ? 'event_timestamp is missing (Databricks sends it in every registry webhook, epoch milliseconds)'
      : `event_timestamp ${JSON.stringify(b.event_timestamp)} is not a valid time (epoch milliseconds, years 1970-9999)`, 'event_timestamp');
  }
  const { action, approval } = databricksAction(b, ctx.config);
  const version = str(b.version);
  // Shown with secret-named tags' values and secrets in free text hidden (as the OSS webhook's, redactWebhookData).
  const shownTags = b.tags ? redactTagList(b.tags) : undefined;
  const tags = shownTags ? Object.fromEntries(shownTags.map((t) => [t.key, t.value ?? ''])) : undefined;
  const shown = redactWebhookData(record as Record<string, unknown>);
  const toStage = b.to_stage ?? stageFromEvent(b.event);
  const ev = makeEvent(
    {
      id: databricksEventId(record as Record<string, unknown>),
      time,
      platform: 'mlflow',
      channel: ctx.channel,
      stage: 'registry',
      action,
      operation: b.event,
      service: 'databricks-model-registry',
      outcome: 'success',
      resource: {
        type: b.event === 'REGISTERED_MODEL_CREATED' ? 'registered_model' : 'model_version',
        id: b.model_name && version ? `${b.model_name}/${version}` : b.model_name,
        name: b.model_name,
        version,
      },
      ml: { model: { name: b.model_name, version, approval, stage: toStage, tags } },
      details: { webhook_id: b.webhook_id, from_stage: b.from_stage, to_stage: toStage, comment: str(shown.comment), text: str(shown.text) },
    },
    { raw: shown, keepRaw: ctx.keepRaw, receivedTime: ctx.receivedTime },
  );
  return { events: [ev], rejected: [], skipped: [] };
}
