import type { Alert, NormalizedEvent, Platform } from '../../schema/index.js';
import type { Formatter } from '../index.js';
import { MLTRAIL, PRODUCTS, eventProduct, actionKind, alertPrincipal, alertTarget, callerAddress, compact, epochMs, primaryResource, type ActionKind } from '../common.js';

/**
 * Splunk CIM mapping (spec §1.9, following Splunk's own OCSF→CIM add-on):
 * events fit the **Change** data model (authentications the
 * **Authentication** model), alerts the **Alerts** data model.
 * The CIM fields sit at the top of the HEC `event` object; the rest of the
 * normalized facts ride along under `mltrail` (search-time JSON extraction
 * gives `mltrail.ml.model.name` …). Fields without a value are `unknown`, as
 * CIM asks, for the ones searches group by (user, src, dest, object).
 *
 * Tags (`change`, `alert`) are search-time in Splunk: docs/formats.md gives
 * the eventtypes.conf / tags.conf stanzas keyed on the sourcetypes below.
 */

/** Sourcetype per platform for events, and one for alerts. */
export const CIM_SOURCETYPES: Record<Platform | 'alert', string> = {
  mlflow: 'mltrail:mlflow',
  kubeflow: 'mltrail:kubeflow',
  sagemaker: 'mltrail:sagemaker',
  vertex: 'mltrail:vertex',
  custom: 'mltrail:custom',
  alert: 'mltrail:alert',
};

/** Change.action (prescribed values: acl_modified, cleared, created, deleted, modified, read, stopped, updated); `auth` never gets here (Authentication). */
const ACTION: Record<ActionKind, string> = {
  create: 'created', read: 'read', update: 'updated', delete: 'deleted', permission: 'acl_modified', access: 'read',
  start: 'modified', stop: 'stopped', status: 'modified', auth: 'modified', other: 'modified',
};

const USER_TYPE: Record<string, string> = { user: 'User', service: 'Service', system: 'System', unknown: 'unknown' };

/**
 * The CIM fields (plus `mltrail`) for one event, the HEC `event` body: an
 * authentication (`role.assume`, `auth.*`, `*.auth_failure`) fits the
 * **Authentication** data model ({@link cimAuthenticationEvent}), every other
 * event the **Change** data model ({@link cimChangeEvent}).
 *
 * @example
 * cimEvent(ev).action // 'created' (Change) or 'failure' (Authentication)
 */
export function cimEvent(ev: NormalizedEvent): Record<string, unknown> {
  return actionKind(ev.action) === 'auth' ? cimAuthenticationEvent(ev) : cimChangeEvent(ev);
}

/**
 * An authentication as the CIM **Authentication** data model has it (field
 * derivations as Splunk's OCSF→CIM add-on maps OCSF Authentication 3002):
 * `action` success / failure (`unknown` when the outcome is), `app`,
 * `signature` = native operation, `reason` = the error, `src`, `dest`,
 * `user`. It keeps the Change fields that do not clash (object*, status,
 * result, command…) but has no `change_type`: that is what the eventtypes in
 * docs/formats.md tell the two models apart by. As a Change `modified` it was
 * invisible to every Authentication search (failed logins / brute force by
 * `src`, AssumeRole by user), while ECS and UDM call it an authentication.
 *
 * @example
 * cimAuthenticationEvent(assumeRole).action // 'success'
 */
export function cimAuthenticationEvent(ev: NormalizedEvent): Record<string, unknown> {
  const { change_type: _changeType, action: _changeAction, ...rest } = cimChangeEvent(ev);
  return compact({
    action: ev.outcome,
    app: ev.service || PRODUCTS[ev.platform].product,
    signature: ev.operation || ev.action,
    reason: ev.error?.message || ev.error?.code,
    user_id: ev.actor?.id,
    ...rest,
  });
}

/**
 * The CIM Change fields (plus `mltrail`) for one event.
 *
 * @example
 * cimChangeEvent(ev).action // 'created'
 */
export function cimChangeEvent(ev: NormalizedEvent): Record<string, unknown> {
  const product = eventProduct(ev);
  const a = ev.actor;
  const r = primaryResource(ev);
  const status = ev.outcome === 'unknown' ? undefined : ev.outcome;
  return compact({
    action: ACTION[actionKind(ev.action)],
    change_type: 'api',
    command: ev.operation || ev.action,
    object: r?.name || r?.id || r?.uri || 'unknown',
    object_id: r?.id || r?.uri,
    object_category: r?.type || ev.action.split('.')[0],
    object_path: r?.uri,
    object_attrs: r?.version ? [`version=${r.version}`] : undefined,
    status,
    result: ev.error?.message || ev.error?.code || ev.outcome,
    result_id: ev.error?.code,
    src: callerAddress(ev) || 'unknown',
    dest: ev.service || product.product,
    dvc: MLTRAIL.product,
    user: a?.id || a?.email || a?.name || 'unknown',
    user_name: a?.name || a?.email || a?.id || 'unknown',
    user_type: USER_TYPE[a?.type ?? 'unknown'],
    user_agent: a?.user_agent,
    vendor_account: ev.cloud?.account || ev.cloud?.project,
    vendor_region: ev.cloud?.region,
    vendor_product: `${product.vendor === product.product ? '' : `${product.vendor} `}${product.product}`,
    mltrail: {
      id: ev.id,
      schema_version: ev.schema_version,
      time: ev.time,
      received_time: ev.received_time,
      platform: ev.platform,
      channel: ev.channel,
      stage: ev.stage,
      action: ev.action,
      outcome: ev.outcome,
      actor: a,
      resource: ev.resource,
      cloud: ev.cloud,
      ml: ev.ml,
      details: ev.details,
    },
  });
}

/**
 * The CIM Alerts fields (plus `mltrail`) for one alert. `type` is `alert`
 * for alert mode and `event` for observe-mode detections.
 *
 * @example
 * cimAlertEvent(alert).signature_id === alert.rule_id
 */
export function cimAlertEvent(alert: Alert): Record<string, unknown> {
  const who = alertPrincipal(alert);
  return compact({
    app: MLTRAIL.product,
    type: alert.mode === 'alert' ? 'alert' : 'event',
    id: alert.id,
    signature: alert.title,
    signature_id: alert.rule_id,
    description: alert.summary,
    severity: alert.severity,
    dest: alertTarget(alert).name || alertTarget(alert).id,
    user: who.user,
    src: who.ip ?? 'unknown',
    vendor_product: alert.entity.platform ? `${MLTRAIL.product} (${PRODUCTS[alert.entity.platform].product})` : MLTRAIL.product,
    mltrail: {
      id: alert.id,
      schema_version: alert.schema_version,
      time: alert.time,
      stage: alert.stage,
      mode: alert.mode,
      entity: alert.entity,
      evidence: alert.evidence,
      count: alert.count,
      first_seen: alert.first_seen,
      last_seen: alert.last_seen,
      details: alert.details,
    },
  });
}

/** Per-sink HEC settings for {@link hecEnvelope}. */
export interface HecEnvelopeOptions {
  /** `host` metadata (e.g. the bridge's hostname); omitted when unset (Splunk then uses the HEC host). */
  host?: string;
  /** Target index; must be allowed for the token (else HEC code 7). Omitted → the token's default index. */
  index?: string;
  /** Override `source` (default `mltrail:<channel>` for events, `mltrail:alerts` for alerts). */
  source?: string;
  /** Override `sourcetype` (default {@link CIM_SOURCETYPES}). */
  sourcetype?: string;
  /** Extra index-time fields (flat strings only; `mltrail_id` is always set and cannot be overridden). */
  fields?: Record<string, string | string[]>;
}

/** One `/services/collector/event` envelope. */
export interface HecEnvelope {
  /** Event time in epoch seconds with a millisecond fraction. */
  time: number;
  host?: string;
  source: string;
  sourcetype: string;
  index?: string;
  event: Record<string, unknown>;
  /** Index-time fields: flat, string values; always `mltrail_id`. */
  fields: Record<string, string | string[]>;
}

/** Epoch seconds with exactly millisecond precision (HEC `time`). */
const hecTime = (iso: string) => Math.round(epochMs(iso)) / 1000;

/**
 * Build the HEC envelope for an event or alert: `time` (epoch seconds,
 * ms fraction), `host`, `source`, `sourcetype` (per platform), `index`,
 * `event` (the CIM Change / Alerts fields + `mltrail`), and the indexed field
 * `fields.mltrail_id` (the mltrail event or alert id, so an operator can
 * search `mltrail_id::<id>` and trace a record end to end). The HEC sink
 * concatenates these (one JSON object each) into a batch body.
 *
 * @example
 * const env = hecEnvelope({ kind: 'event', event: ev }, { host: 'bridge-1', index: 'ml_audit' });
 * body += JSON.stringify(env) + '\n';
 */
export function hecEnvelope(
  item: { kind: 'event'; event: NormalizedEvent } | { kind: 'alert'; alert: Alert },
  opts: HecEnvelopeOptions = {},
): HecEnvelope {
  const isEvent = item.kind === 'event';
  const id = isEvent ? item.event.id : item.alert.id;
  const env: HecEnvelope = {
    time: hecTime(isEvent ? item.event.time : item.alert.time),
    source: opts.source ?? (isEvent ? `mltrail:${item.event.channel}` : 'mltrail:alerts'),
    sourcetype: opts.sourcetype ?? (isEvent ? CIM_SOURCETYPES[item.event.platform] : CIM_SOURCETYPES.alert),
    event: isEvent ? cimEvent(item.event) : cimAlertEvent(item.alert),
    fields: { ...opts.fields, mltrail_id: id },
  };
  if (opts.host) env.host = opts.host;
  if (opts.index) env.index = opts.index;
  // Key order as Splunk documents it (time, host, source, sourcetype, index, event, fields).
  return { time: env.time, ...(env.host ? { host: env.host } : {}), source: env.source, sourcetype: env.sourcetype, ...(env.index ? { index: env.index } : {}), event: env.event, fields: env.fields };
}

/**
 * `formatter('cim')`: the HEC envelope without host/index (those are the
 * sink's settings), ready to POST to /services/collector/event.
 */
export const cimFormatter: Formatter = {
  event: (ev) => hecEnvelope({ kind: 'event', event: ev }),
  alert: (alert) => hecEnvelope({ kind: 'alert', alert }),
  // cimEvent carries `mltrail` facts, never the native record.
  readsRaw: false,
};
