import type { Alert, NormalizedEvent } from '../../schema/index.js';
import type { Formatter } from '../index.js';
import {
  SEVERITY_SCORE, actionKind, alertCloud, alertPrincipal, cloudTrailFacts, compact, eventMessage, gcpAuditFacts, isIamAction, isIpAddress, rawText, uniq,
  type ActionKind,
} from '../common.js';

/** An email address, not just any string with an `@` or a principal name. */
const isEmailAddress = (s: string | undefined): s is string => !!s && /^[^@\s:/]+@[^@\s:/]+\.[^@\s:/]+$/.test(s);

/**
 * ECS mapping (spec §2.8). Events are `event.kind: event`, alerts
 * `event.kind: alert` (observe-mode detections `event`, so `kind:alert` pages
 * only on real alerts) with `rule.*`. ML facts live under `mltrail.*`
 * (docs/formats.md). For CloudTrail and Cloud Audit Log records kept in
 * `raw`, the fields of Elastic's own integrations (aws.cloudtrail, gcp.audit)
 * are taken from the record exactly as those pipelines take them.
 *
 * Id policy: the Elastic document `_id` is the mltrail id, also kept in
 * `mltrail.id`; `event.id` is the platform's own record id where Elastic's
 * integration puts it there (CloudTrail eventID, LogEntry insertId), else
 * the mltrail id.
 */
export const ECS_VERSION = '8.17.0';

/** `event.dataset` (and the data stream dataset) for events and alerts. */
export const ECS_DATASETS = { event: 'mltrail.events', alert: 'mltrail.alerts' } as const;
export const ECS_MODULE = 'mltrail';

/** event.type per action kind (every value is expected for the category chosen below). */
const TYPE: Record<ActionKind, string[]> = {
  create: ['creation'], read: ['access'], update: ['change'], delete: ['deletion'], permission: ['change'],
  access: ['access'], start: ['start'], stop: ['end'], status: ['info'], auth: ['start'], other: ['info'],
};

/** event.category and event.type for a normalized action. */
export function ecsCategorization(action: string): { category: string[]; type: string[] } {
  const kind = actionKind(action);
  if (kind === 'auth') return { category: ['authentication'], type: ['start'] };
  if (isIamAction(action)) {
    const t = kind === 'read' || kind === 'access' ? ['info'] : kind === 'create' ? ['creation'] : kind === 'delete' ? ['deletion'] : ['change'];
    return { category: ['iam'], type: t };
  }
  return { category: ['api'], type: TYPE[kind] };
}

/** AWS service short name the way Elastic's CloudTrail pipeline sets cloud.service.name (`s3`, `sagemaker`). */
const awsServiceName = (s: string | undefined) => s?.replace(/\.amazonaws\.com$/, '');

/**
 * A normalized event as an ECS document.
 *
 * @example
 * const doc = ecsEvent(ev); doc.event.action // 'CreateTrainingJob'
 */
export function ecsEvent(ev: NormalizedEvent): Record<string, unknown> {
  const { category, type } = ecsCategorization(ev.action);
  const ct = cloudTrailFacts(ev.raw);
  const gcp = ct ? undefined : gcpAuditFacts(ev.raw);
  const a = ev.actor;

  // Identity: Elastic's CloudTrail pipeline uses principalId as user.id and userName
  // (or the session issuer's userName) as user.name; GCP puts the principal in client.user.*.
  const userId = ct ? (ct.principalId ?? a?.id) : a?.id;
  const userName = ct ? (ct.userName ?? a?.name) : a?.name;
  // Only an address is an email (GCP puts `system:gcp-controller-manager` in principalEmail).
  const userEmail = [a?.email, gcp?.principalEmail, userName].find(isEmailAddress);
  const ip = gcp?.callerIp ?? ct?.sourceIPAddress ?? a?.ip;
  const ua = gcp?.userAgent ?? ct?.userAgent ?? a?.user_agent;

  const provider = ct?.eventSource || gcp?.logKind || ev.service || ev.platform;
  const cloud = ev.cloud && ev.cloud.provider !== 'onprem'
    ? {
        provider: ev.cloud.provider,
        account: { id: ct?.accountId ?? ev.cloud.account },
        region: ct?.awsRegion ?? ev.cloud.region,
        project: { id: gcp?.projectId ?? ev.cloud.project },
        service: { name: ev.cloud.provider === 'aws' ? awsServiceName(ev.service) : ev.service },
      }
    : undefined;

  return compact({
    '@timestamp': ev.time,
    ecs: { version: ECS_VERSION },
    message: eventMessage(ev),
    event: {
      kind: 'event',
      category,
      type,
      action: ct?.eventName ?? gcp?.methodName ?? (ev.operation || ev.action),
      provider,
      outcome: ev.outcome,
      id: ct?.eventID ?? gcp?.insertId ?? ev.id,
      dataset: ECS_DATASETS.event,
      module: ECS_MODULE,
      created: ev.received_time,
      original: rawText(ev.raw),
    },
    user: { id: userId, name: userName, email: userEmail },
    // As Elastic's GCP audit integration has it (principalEmail verbatim): searches written for it keep working.
    client: gcp ? { user: { email: gcp.principalEmail, id: gcp.principalSubject } } : undefined,
    // Elastic: sourceIPAddress / callerIp → source.ip only when it is an IP, else source.address.
    // GCP's pipeline drops the `private` / `gce-internal-ip` markers altogether.
    source: ip ? (isIpAddress(ip) ? { ip, address: ip } : gcp ? undefined : { address: ip }) : undefined,
    user_agent: ua ? { original: ua } : undefined,
    cloud,
    service: gcp?.serviceName ? { name: gcp.serviceName } : undefined,
    log: gcp ? { logger: gcp.logName, level: gcp.severity } : undefined,
    error: ev.outcome === 'failure' && ev.error ? { code: ev.error.code, message: ev.error.message } : undefined,
    related: {
      user: uniq([userName, userId, userEmail, a?.name, a?.id, a?.email, gcp?.principalSubject]),
      ip: isIpAddress(ip) ? [ip] : undefined,
    },
    aws: ct
      ? {
          cloudtrail: {
            event_type: ct.eventType,
            event_category: ct.eventCategory,
            request_id: ct.requestID,
            error_code: ct.errorCode,
            error_message: ct.errorMessage,
            recipient_account_id: ct.recipientAccountId,
            vpc_endpoint_id: ct.vpcEndpointId,
            user_identity: { type: ct.identityType, arn: ct.arn, access_key_id: ct.accessKeyId, invoked_by: ct.invokedBy },
          },
        }
      : undefined,
    gcp: gcp
      ? { audit: { resource_name: gcp.resourceName, status: gcp.statusCode !== undefined ? { code: gcp.statusCode, message: gcp.statusMessage } : undefined } }
      : undefined,
    mltrail: {
      id: ev.id,
      schema_version: ev.schema_version,
      platform: ev.platform,
      channel: ev.channel,
      stage: ev.stage,
      action: ev.action,
      operation: ev.operation,
      service: ev.service,
      actor: a ? { id: a.id, type: a.type, mfa: a.mfa, session_issuer: a.session_issuer, chain: a.chain } : undefined,
      resource: ev.resource,
      ml: ev.ml,
      details: ev.details,
    },
  });
}

/**
 * An alert as an ECS document: `event.kind: alert` (`event` in observe mode),
 * `rule.*`, `event.severity`/`risk_score` 21/47/73/99 for low…critical.
 *
 * @example
 * ecsAlert(alert).rule.id === alert.rule_id
 */
export function ecsAlert(alert: Alert): Record<string, unknown> {
  const score = SEVERITY_SCORE[alert.severity];
  const who = alertPrincipal(alert);
  // related.user holds user names only (ECS); an identity entity that is an address (an unauthenticated sender) is a related.ip.
  const isPerson = alert.entity.type === 'identity' || alert.entity.type === 'user';
  // The caller's id as logged (an ARN) too: the events' related.user holds it, not the person mltrail resolved from it.
  const relatedUsers = uniq([...(isPerson ? [alert.entity.id, alert.entity.name] : []), who.user, who.uid]).filter((u) => !isIpAddress(u));
  const where = alertCloud(alert);
  const relatedIps = uniq([who.ip, ...(isPerson ? [alert.entity.id, alert.entity.name] : [])]).filter(isIpAddress);
  return compact({
    '@timestamp': alert.time,
    ecs: { version: ECS_VERSION },
    message: alert.summary,
    event: {
      kind: alert.mode === 'alert' ? 'alert' : 'event',
      category: ['intrusion_detection'],
      type: ['info'],
      action: alert.rule_id,
      id: alert.id,
      provider: ECS_MODULE,
      dataset: ECS_DATASETS.alert,
      module: ECS_MODULE,
      severity: score,
      risk_score: score,
      risk_score_norm: score,
      start: alert.first_seen,
      end: alert.last_seen,
    },
    rule: {
      id: alert.rule_id,
      name: alert.title,
      description: alert.summary,
      category: alert.stage,
      ruleset: ECS_MODULE,
    },
    user: who.user ? { name: who.user } : undefined,
    source: who.ip ? { ip: who.ip } : undefined,
    cloud: where ? { provider: where.provider, account: { id: where.account }, region: where.region, project: { id: where.project } } : undefined,
    related: compact({
      user: relatedUsers.length ? relatedUsers : undefined,
      ip: relatedIps.length ? relatedIps : undefined,
    }),
    mltrail: {
      id: alert.id,
      schema_version: alert.schema_version,
      stage: alert.stage,
      alert: {
        rule_id: alert.rule_id,
        severity: alert.severity,
        mode: alert.mode,
        entity: alert.entity,
        evidence: alert.evidence,
        count: alert.count,
        first_seen: alert.first_seen,
        last_seen: alert.last_seen,
        details: alert.details,
      },
    },
  });
}

export const ecsFormatter: Formatter = { event: ecsEvent, alert: ecsAlert };
