import type { Alert, NormalizedEvent } from '../../schema/index.js';
import type { Formatter } from '../index.js';
import {
  MLTRAIL, PRODUCTS, boundedId, eventProduct, str, actionKind, alertPrincipal, alertTarget, callerAddress, compact, eventMessage, isIpAddress, primaryResource, truncateBytes, type ActionKind,
} from '../common.js';

/**
 * Chronicle UDM mapping (spec §3.5). Every event gets a valid
 * `metadata.event_type` together with the nouns that type requires:
 * `USER_RESOURCE_*` when both the acting user (principal.user) and the object
 * (target.resource) are known; `RESOURCE_*` when only the object is;
 * `STATUS_UPDATE` for platform-reported state changes (principal = the
 * platform service host); `USER_LOGIN` for authentications of a known user;
 * `GENERIC_EVENT` otherwise. `metadata.product_log_id` is the mltrail id.
 * Alerts are `GENERIC_EVENT`s whose `security_result[]` carries the rule.
 */

type UdmEventType =
  | 'USER_RESOURCE_ACCESS' | 'USER_RESOURCE_CREATION' | 'USER_RESOURCE_UPDATE_CONTENT' | 'USER_RESOURCE_UPDATE_PERMISSIONS'
  | 'USER_RESOURCE_DELETION' | 'RESOURCE_CREATION' | 'RESOURCE_DELETION' | 'RESOURCE_PERMISSIONS_CHANGE' | 'RESOURCE_READ'
  | 'RESOURCE_WRITTEN' | 'STATUS_UPDATE' | 'USER_LOGIN' | 'GENERIC_EVENT';

const USER_RESOURCE: Partial<Record<ActionKind, UdmEventType>> = {
  create: 'USER_RESOURCE_CREATION', read: 'USER_RESOURCE_ACCESS', access: 'USER_RESOURCE_ACCESS',
  update: 'USER_RESOURCE_UPDATE_CONTENT', start: 'USER_RESOURCE_UPDATE_CONTENT', stop: 'USER_RESOURCE_UPDATE_CONTENT',
  permission: 'USER_RESOURCE_UPDATE_PERMISSIONS', delete: 'USER_RESOURCE_DELETION',
};
// `other` (an action that is none of these) has no entry: it is a GENERIC_EVENT, not a claimed write.
const RESOURCE: Partial<Record<ActionKind, UdmEventType>> = {
  create: 'RESOURCE_CREATION', read: 'RESOURCE_READ', access: 'RESOURCE_READ', update: 'RESOURCE_WRITTEN',
  start: 'RESOURCE_WRITTEN', stop: 'RESOURCE_WRITTEN', permission: 'RESOURCE_PERMISSIONS_CHANGE',
  delete: 'RESOURCE_DELETION',
};

/**
 * Confirmed Resource.resource_type values (spec §3.5) for the resource types
 * the connectors emit (S3 / GCS objects, Kubernetes `serviceaccounts`);
 * anything else goes in resource_subtype only. Keyed on the emitted types:
 * `data_object` / `service_account` alone matched no real event.
 */
const RESOURCE_TYPE: Record<string, string> = {
  service_account: 'SERVICE_ACCOUNT', serviceaccounts: 'SERVICE_ACCOUNT',
  data_object: 'STORAGE_OBJECT', s3_object: 'STORAGE_OBJECT', gcs_object: 'STORAGE_OBJECT',
};

/** UDM's limit on metadata.product_log_id, in bytes. */
export const UDM_MAX_LOG_ID_BYTES = 256;

/**
 * metadata.product_log_id for an mltrail id: the id itself, or — over 256
 * bytes (`/v1/events` takes ids of 256 characters, up to 1024 UTF-8 bytes) —
 * `mltrail-sha256:<hex>` of it, stable so the same record always gets the
 * same value (as the Elastic `_id`); `additional.mltrail_id` keeps the real id.
 *
 * @example
 * udmLogId('e-42') // 'e-42'
 */
export function udmLogId(id: string): string {
  return boundedId(id, UDM_MAX_LOG_ID_BYTES);
}

/** security_result.action for an outcome; a denied call is BLOCK, another failure FAIL. */
function resultAction(ev: NormalizedEvent): string {
  if (ev.outcome === 'success') return 'ALLOW';
  if (ev.outcome === 'unknown') return 'UNKNOWN_ACTION';
  const code = `${ev.error?.code ?? ''} ${ev.error?.message ?? ''}`;
  return /denied|unauthori[sz]ed|forbidden|PERMISSION_DENIED|UNAUTHENTICATED|\b40[13]\b/i.test(code) ? 'BLOCK' : 'FAIL';
}

/** A service name that can stand as a host (`sagemaker.amazonaws.com`). */
const hostLike = (s: string | undefined) => (s && /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(s) ? s : undefined);
/** A cluster service that reports state changes (`ml-pipeline`, a Kubernetes service name): the machine of a STATUS_UPDATE. */
const serviceName = (s: string | undefined) => (s && /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(s) ? s : undefined);

/**
 * A normalized event as a UDM event (snake_case JSON, as the ingestion APIs accept).
 *
 * @example
 * udmEvent(ev).metadata.event_type // 'USER_RESOURCE_CREATION'
 */
export function udmEvent(ev: NormalizedEvent): Record<string, unknown> {
  const product = eventProduct(ev);
  const kind = actionKind(ev.action);
  const a = ev.actor;
  const user = a && (a.id || a.name || a.email)
    ? compact({
        userid: a.id || a.email || a.name,
        user_display_name: a.name,
        email_addresses: a.email ? [a.email] : undefined,
      })
    : undefined;
  const ip = isIpAddress(a?.ip) ? a.ip : undefined;
  const r = primaryResource(ev);
  const resource = r
    ? compact({
        name: r.name || r.id || r.uri,
        product_object_id: r.id || r.uri,
        resource_type: RESOURCE_TYPE[r.type],
        resource_subtype: r.type,
      })
    : undefined;
  const serviceHost = hostLike(ev.service) ?? hostLike(a?.ip && !ip ? a.ip : undefined);

  let event_type: UdmEventType;
  // A call an AWS service made names it instead of an address (sourceIPAddress `config.amazonaws.com`).
  const callerHost = ip ? undefined : hostLike(callerAddress(ev));
  let principal: Record<string, unknown> | undefined = user || ip || callerHost ? compact({ user, ip: ip ? [ip] : undefined, hostname: callerHost }) : undefined;
  let target: Record<string, unknown> | undefined;
  let extensions: Record<string, unknown> | undefined;
  if (kind === 'auth' && user && ev.action !== 'ingest.auth_failure' && ev.action !== 'source.auth_failure') {
    event_type = 'USER_LOGIN';
    // A role assumed: the identity logged into is the role (its session), not the caller who assumed it.
    const assumedId = ev.action === 'role.assume' ? str(ev.details?.assumed_role_arn) || r?.id || r?.name : undefined;
    target = assumedId ? { user: compact({ userid: assumedId, user_display_name: r?.name }), resource } : { user };
    extensions = { auth: { type: 'AUTHTYPE_UNSPECIFIED', mechanism: ['MECHANISM_UNSPECIFIED'] } };
  } else if (kind === 'status' && (serviceHost ?? serviceName(ev.service))) {
    // A platform-reported state change: the platform service is the principal machine.
    event_type = 'STATUS_UPDATE';
    principal = { hostname: serviceHost ?? serviceName(ev.service), application: product.product, user };
    target = resource ? { resource } : undefined;
  } else if (user && resource && USER_RESOURCE[kind]) {
    event_type = USER_RESOURCE[kind]!;
    target = { resource };
  } else if (resource && RESOURCE[kind]) {
    event_type = RESOURCE[kind]!;
    target = { resource };
  } else {
    event_type = 'GENERIC_EVENT';
    target = resource ? { resource } : undefined;
  }
  if (target) target.application = ev.service || product.product;

  const action = resultAction(ev);
  const authViolation = (kind === 'auth' || /auth_failure$/.test(ev.action)) && ev.outcome !== 'success';
  const security_result = [
    compact({
      action: [action],
      severity: ev.outcome === 'failure' ? 'ERROR' : 'INFORMATIONAL',
      category: authViolation ? ['AUTH_VIOLATION'] : undefined,
      summary: truncateBytes(`${ev.action} ${ev.outcome}`, 256),
      description: ev.error?.message ? truncateBytes(ev.error.message, 1024) : undefined,
      action_details: ev.error?.code,
    }),
  ];

  return compact({
    metadata: {
      event_timestamp: ev.time,
      collected_timestamp: ev.received_time,
      event_type,
      vendor_name: product.vendor,
      product_name: product.product,
      product_event_type: truncateBytes(ev.operation || ev.action, 64),
      product_log_id: udmLogId(ev.id),
      description: truncateBytes(eventMessage(ev), 1024),
    },
    principal,
    target,
    network: a?.user_agent ? { http: { user_agent: a.user_agent } } : undefined,
    extensions,
    security_result,
    additional: {
      mltrail_id: ev.id,
      platform: ev.platform,
      channel: ev.channel,
      stage: ev.stage,
      action: ev.action,
      service: ev.service,
      actor_type: a?.type,
      actor_ip: a?.ip && !ip ? a.ip : undefined,
      actor_chain: a?.chain,
      session_issuer: a?.session_issuer,
      mfa: a?.mfa,
      cloud_provider: ev.cloud?.provider,
      cloud_account: ev.cloud?.account,
      cloud_region: ev.cloud?.region,
      cloud_project: ev.cloud?.project,
      resource: ev.resource,
      ml: ev.ml,
      details: ev.details,
    },
  });
}

/** UDM security_result.severity per alert severity (CRITICAL is unverified in the proto, so HIGH + severity_details). */
const ALERT_SEVERITY: Record<Alert['severity'], [string, string]> = {
  low: ['LOW', 'LOW_PRIORITY'], medium: ['MEDIUM', 'MEDIUM_PRIORITY'], high: ['HIGH', 'HIGH_PRIORITY'], critical: ['HIGH', 'HIGH_PRIORITY'],
};

/** security_result.category for a rule id (POLICY_VIOLATION unless the rule is about auth, access or exfiltration). */
function alertCategory(ruleId: string): string {
  if (/auth/.test(ruleId)) return 'AUTH_VIOLATION';
  if (/egress|exfil|artifact_(exported|shared)/.test(ruleId)) return 'DATA_EXFILTRATION';
  if (/separation_of_duties|self_approval/.test(ruleId)) return 'ACL_VIOLATION';
  return 'POLICY_VIOLATION';
}

/**
 * An alert as a UDM event: GENERIC_EVENT with the rule in `security_result[]`
 * and the entity at risk as `target.resource`.
 *
 * @example
 * udmAlert(alert).security_result[0].rule_id === alert.rule_id
 */
export function udmAlert(alert: Alert): Record<string, unknown> {
  const [severity, priority] = ALERT_SEVERITY[alert.severity];
  const who = alertPrincipal(alert);
  const target = alertTarget(alert);
  const product = alert.entity.platform ? PRODUCTS[alert.entity.platform] : undefined;
  return compact({
    metadata: {
      event_timestamp: alert.time,
      event_type: 'GENERIC_EVENT',
      vendor_name: MLTRAIL.vendor,
      product_name: MLTRAIL.product,
      product_event_type: truncateBytes(alert.rule_id, 64),
      product_log_id: udmLogId(alert.id),
      description: truncateBytes(alert.title, 1024),
    },
    // userid is the caller's id as the events hold it (an ARN: details.actor_id), so an alert pivots to its events by
    // principal.user.userid; the person mltrail resolved from it is the display name (OCSF: user.uid and user.name).
    principal: who.user || who.ip
      ? compact({ user: who.user ? { userid: who.uid ?? who.user, user_display_name: who.uid && who.uid !== who.user ? who.user : undefined } : undefined, ip: who.ip ? [who.ip] : undefined })
      : undefined,
    target: {
      resource: compact({
        name: target.name || target.id,
        product_object_id: target.id,
        resource_type: RESOURCE_TYPE[target.type],
        resource_subtype: target.type,
      }),
      application: product?.product,
    },
    security_result: [
      {
        rule_id: alert.rule_id,
        rule_name: alert.title,
        severity,
        severity_details: alert.severity,
        priority,
        category: [alertCategory(alert.rule_id)],
        action: ['UNKNOWN_ACTION'],
        summary: truncateBytes(alert.title, 256),
        description: truncateBytes(alert.summary, 1024),
      },
    ],
    additional: {
      mltrail_id: alert.id,
      mode: alert.mode,
      stage: alert.stage,
      evidence: alert.evidence,
      count: alert.count,
      first_seen: alert.first_seen,
      last_seen: alert.last_seen,
      details: alert.details,
    },
  });
}

// The UDM mapping takes its facts from the normalized fields, never from the native record.
export const udmFormatter: Formatter = { event: udmEvent, alert: udmAlert, readsRaw: false };
