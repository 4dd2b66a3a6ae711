import { z } from 'zod';
import type { Alert, NormalizedEvent } from '../../schema/index.js';
import type { Formatter } from '../index.js';
import {
  MLTRAIL, PRODUCTS, eventProduct, actionKind, alertCloud, alertPrincipal, callerAddress, cloudTrailFacts, compact, epochMs, eventMessage, gcpAuditFacts, isIpAddress,
  primaryResource, rawText, type ActionKind,
} from '../common.js';

/**
 * OCSF 1.8.0 mapping (spec §4): events → API Activity (6003), alerts →
 * Detection Finding (2004). OCSF 1.8.0 is the first release with the
 * `ai_model` object and the `ai_operation` profile on API Activity
 * (ocsf-schema CHANGELOG 1.8.0, PR #1488; checked in the 1.8.0 tag), so
 * events about a model carry `ai_model` as well as `resources[]`.
 */
export const OCSF_VERSION = '1.8.0';

export const API_ACTIVITY = { class_uid: 6003, class_name: 'API Activity', category_uid: 6, category_name: 'Application Activity' } as const;
export const DETECTION_FINDING = { class_uid: 2004, class_name: 'Detection Finding', category_uid: 2, category_name: 'Findings' } as const;

/** API Activity activity_id: 1 Create, 2 Read, 3 Update, 4 Delete, 99 Other. */
const ACTIVITY: Record<ActionKind, [number, string]> = {
  create: [1, 'Create'], read: [2, 'Read'], update: [3, 'Update'], permission: [3, 'Update'], delete: [4, 'Delete'],
  access: [99, 'Other'], start: [99, 'Other'], stop: [99, 'Other'], status: [99, 'Other'], auth: [99, 'Other'], other: [99, 'Other'],
};

const emailAddr = z.email();
const isEmail = (s: string | undefined): s is string => !!s && emailAddr.safeParse(s).success;

const STATUS: Record<NormalizedEvent['outcome'], [number, string]> = { success: [1, 'Success'], failure: [2, 'Failure'], unknown: [0, 'Unknown'] };

/** user.type_id: 0 Unknown, 1 User, 2 Admin, 3 System, 4 Service, 99 Other. */
const USER_TYPE: Record<string, [number, string]> = { user: [1, 'User'], service: [4, 'Service'], system: [3, 'System'], unknown: [0, 'Unknown'] };

export const SEVERITY_ID: Record<Alert['severity'], [number, string]> = {
  low: [2, 'Low'], medium: [3, 'Medium'], high: [4, 'High'], critical: [5, 'Critical'],
};

const CLOUD_PROVIDER: Record<string, string> = { aws: 'AWS', gcp: 'GCP', azure: 'Azure', other: 'Other' };

/** Observable type_id (spec §4.3). */
const OBS = { hostname: [1, 'Hostname'], ip: [2, 'IP Address'], user: [4, 'User Name'], email: [5, 'Email Address'], url: [6, 'URL String'], resource: [10, 'Resource UID'], ua: [16, 'HTTP User-Agent'] } as const;

type Obs = { name: string; type_id: number; type: string; value: string };
const obs = (name: string, t: readonly [number, string], value: string | undefined): Obs | undefined =>
  value ? { name, type_id: t[0], type: t[1], value } : undefined;

/**
 * A normalized event as OCSF API Activity (class 6003).
 *
 * @example
 * const o = ocsfEvent(ev); o.type_uid // 600301 for training_job.create
 */
export function ocsfEvent(ev: NormalizedEvent): Record<string, unknown> {
  const [activity_id, activity_name] = ACTIVITY[actionKind(ev.action)];
  const [status_id, status] = STATUS[ev.outcome];
  const product = eventProduct(ev);
  const ct = cloudTrailFacts(ev.raw);
  const gcp = ct ? undefined : gcpAuditFacts(ev.raw);
  const a = ev.actor;
  const t = epochMs(ev.time);

  const user = a && (a.id || a.name || a.email)
    ? {
        uid: a.id || a.email,
        name: a.name,
        // principalEmail can be a non-address (`system:gcp-controller-manager`); email_t wants an address.
        email_addr: isEmail(a.email) ? a.email : undefined,
        type_id: USER_TYPE[a.type ?? 'unknown']![0],
        type: USER_TYPE[a.type ?? 'unknown']![1],
        has_mfa: a.mfa,
        uid_alt: ct?.principalId && ct.principalId !== a.id ? ct.principalId : undefined,
        credential_uid: ct?.accessKeyId,
        account: ct?.accountId ? { uid: ct.accountId, type_id: 10, type: 'AWS Account' } : undefined,
      }
    : undefined;
  const session = a?.session_issuer || a?.mfa !== undefined ? { issuer: a?.session_issuer, is_mfa: a?.mfa } : undefined;
  // actor needs one of user/session/invoked_by/app_name…: a platform-initiated event is acted by the service;
  // a caller the platform could not name (a refused sender, an address only) is an unknown user, not the service.
  const unknownCaller = !user && !session && !ct?.invokedBy && (a?.type === 'unknown' || !!a?.ip);
  const actor = compact({
    user: user ?? (unknownCaller ? { name: 'unknown', type_id: 0, type: 'Unknown' } : undefined),
    session,
    invoked_by: ct?.invokedBy,
    app_name: user || session || ct?.invokedBy || unknownCaller ? undefined : ev.service || product.product,
  });

  const ip = callerAddress(ev);
  // src_endpoint must name something: the caller's IP, a service name (CloudTrail puts
  // e.g. sagemaker.amazonaws.com in sourceIPAddress), a marker like "private", or the service itself.
  const src_endpoint = isIpAddress(ip)
    ? { ip, uid: ct?.vpcEndpointId }
    : ip && /^[a-z0-9.-]+\.[a-z]{2,}$/i.test(ip)
      ? { domain: ip, uid: ct?.vpcEndpointId }
      : ip
        ? { name: ip }
        : { svc_name: ev.service || product.product };

  const cloud = ocsfCloud(ev.cloud);

  const resources = ocsfResources(ev);
  const model = ev.ml?.model;
  const modelName = model?.name ?? (primaryResource(ev)?.type === 'model' ? primaryResource(ev)?.name : undefined);
  const ai_model = modelName
    ? compact({ name: modelName, version: model?.version ?? ev.resource?.version, uid: model?.artifact_uri, ai_provider: product.aiProvider })
    : undefined;

  const requestUid = ct?.requestID ?? gcp?.requestId;
  const profiles = ['datetime', ...(cloud ? ['cloud'] : []), ...(ai_model ? ['ai_operation'] : [])];

  return compact({
    ...API_ACTIVITY,
    activity_id,
    activity_name,
    type_uid: API_ACTIVITY.class_uid * 100 + activity_id,
    type_name: `${API_ACTIVITY.class_name}: ${activity_name}`,
    time: t,
    time_dt: new Date(t).toISOString(),
    severity_id: 1,
    severity: 'Informational',
    status_id,
    status,
    status_code: ev.error?.code,
    status_detail: ev.error?.message,
    message: eventMessage(ev),
    metadata: {
      version: OCSF_VERSION,
      uid: ev.id,
      product: { name: product.product, vendor_name: product.vendor },
      profiles,
      original_time: ev.time,
      logged_time: epochMs(ev.received_time),
      log_name: ev.channel,
      log_provider: MLTRAIL.product,
      tenant_uid: ev.cloud?.account ?? ev.cloud?.project,
      event_code: ct?.eventType,
      correlation_uid: ev.ml?.provenance?.run_id,
    },
    actor,
    api: {
      operation: ev.operation || ev.action,
      service: ev.service ? { name: ev.service } : undefined,
      request: requestUid ? { uid: requestUid } : undefined,
      response: ev.outcome === 'failure' ? { error: ev.error?.code, message: ev.error?.message } : undefined,
    },
    src_endpoint,
    http_request: a?.user_agent ? { user_agent: a.user_agent } : undefined,
    cloud,
    resources,
    ai_model,
    observables: [
      obs('actor.user.name', OBS.user, user?.name),
      obs('actor.user.email_addr', OBS.email, user?.email_addr),
      obs('src_endpoint.ip', OBS.ip, isIpAddress(ip) ? ip : undefined),
      obs('src_endpoint.domain', OBS.hostname, !isIpAddress(ip) && src_endpoint && 'domain' in src_endpoint ? ip : undefined),
      obs('http_request.user_agent', OBS.ua, a?.user_agent),
      ...resources.map((r, i) => obs(`resources[${i}].uid`, OBS.resource, r.uid)),
    ].filter(Boolean),
    raw_data: rawText(ev.raw),
    unmapped: {
      mltrail: compact({
        schema_version: ev.schema_version,
        platform: ev.platform,
        channel: ev.channel,
        stage: ev.stage,
        action: ev.action,
        received_time: ev.received_time,
        actor_type: a?.type,
        actor_chain: a?.chain,
        resource: ev.resource,
        ml: ev.ml,
        details: ev.details,
      }),
    },
  });
}

interface OcsfResource {
  uid?: string;
  name?: string;
  type?: string;
  version?: string;
  namespace?: string;
  region?: string;
  role_id?: number;
  role?: string;
  labels?: string[];
  data?: Record<string, unknown>;
}

/**
 * `resources[]`: the event's object (role Target), then the model, endpoint,
 * job and data it names (role Related), each with its ML facts in `data`.
 */
function ocsfResources(ev: NormalizedEvent): OcsfResource[] {
  const out: OcsfResource[] = [];
  const seen = new Set<string>();
  const add = (r: OcsfResource): void => {
    if (!r.uid && !r.name) return;
    // The model/endpoint/job the event is about is the target itself: give the target its facts.
    const target = out[0];
    if (target?.role_id === 1 && r.role_id !== 1 && r.name && r.name === target.name && (!r.uid || r.uid === target.uid)) {
      target.data = compact({ ...r.data, ...target.data });
      if (r.labels?.length) target.labels = r.labels;
      return;
    }
    const key = `${r.type}|${r.uid ?? ''}|${r.name ?? ''}|${r.version ?? ''}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(compact(r));
  };
  const region = ev.cloud?.region;
  const primary = primaryResource(ev);
  if (primary) {
    add({ uid: primary.id || primary.uri, name: primary.name, type: primary.type, version: primary.version, namespace: primary.namespace, region, role_id: 1, role: 'Target', data: primary.uri && primary.id ? { uri: primary.uri } : undefined });
  }
  const m = ev.ml;
  if (m?.model?.name) {
    const { name, version, aliases, ...rest } = m.model;
    add({ uid: m.model.artifact_uri, name, version, type: 'model', region, role_id: 4, role: 'Related', labels: aliases, data: compact({ ...rest, aliases }) });
  }
  if (m?.deployment?.endpoint) add({ name: m.deployment.endpoint, type: 'endpoint', region, role_id: 4, role: 'Related', data: compact({ ...m.deployment }) });
  if (m?.job?.name) add({ name: m.job.name, type: m.job.type ?? 'job', region, role_id: 4, role: 'Related', data: compact({ ...m.job }) });
  for (const uri of m?.data?.uris ?? []) add({ uid: uri, type: 'data', role_id: 4, role: 'Related' });
  return out;
}

/** An OCSF Cloud object (provider, region, project, account) for an event's or an alert's cloud. */
function ocsfCloud(c: NormalizedEvent['cloud']): Record<string, unknown> | undefined {
  if (!c || c.provider === 'onprem') return undefined;
  return compact({
    provider: CLOUD_PROVIDER[c.provider] ?? c.provider,
    region: c.region,
    project_uid: c.project,
    account: c.account
      ? { uid: c.account, ...(c.provider === 'aws' ? { type_id: 10, type: 'AWS Account' } : {}) }
      : c.project && c.provider === 'gcp'
        ? { uid: c.project, type_id: 11, type: 'GCP Project' }
        : undefined,
  });
}

/**
 * An alert as OCSF Detection Finding (class 2004). `is_alert` is false for
 * observe-mode detections, so a SIEM rule on `is_alert` pages only on alerts.
 *
 * @example
 * ocsfAlert(alert).finding_info.uid === alert.id
 */
export function ocsfAlert(alert: Alert): Record<string, unknown> {
  const update = (alert.count ?? 1) > 1;
  const activity_id = update ? 2 : 1;
  const activity_name = update ? 'Update' : 'Create';
  const [severity_id, severity] = SEVERITY_ID[alert.severity];
  const t = epochMs(alert.time);
  const product = alert.entity.platform ? PRODUCTS[alert.entity.platform] : undefined;
  const who = alertPrincipal(alert);
  return compact({
    ...DETECTION_FINDING,
    // Who and from where, as the rule recorded them: the finding's evidence (Evidence Artifacts: actor, src_endpoint).
    evidences:
      who.user || who.ip
        ? [compact({ actor: who.user ? { user: compact({ name: who.user, uid: who.uid, email_addr: isEmail(who.user) ? who.user : undefined }) } : undefined, src_endpoint: who.ip ? { ip: who.ip } : undefined })]
        : undefined,
    // Where the judged event happened (the rules' details.cloud): the account / project an analyst scopes by.
    cloud: ocsfCloud(alertCloud(alert)),
    activity_id,
    activity_name,
    type_uid: DETECTION_FINDING.class_uid * 100 + activity_id,
    type_name: `${DETECTION_FINDING.class_name}: ${activity_name}`,
    time: t,
    time_dt: new Date(t).toISOString(),
    severity_id,
    severity,
    status_id: 1,
    status: 'New',
    is_alert: alert.mode === 'alert',
    message: alert.summary,
    count: alert.count,
    metadata: {
      version: OCSF_VERSION,
      uid: alert.id,
      product: { name: MLTRAIL.product, vendor_name: MLTRAIL.vendor },
      profiles: ['datetime'],
      original_time: alert.time,
      log_provider: MLTRAIL.product,
    },
    finding_info: {
      uid: alert.id,
      title: alert.title,
      desc: alert.summary,
      types: [alert.stage],
      created_time: t,
      first_seen_time: alert.first_seen ? epochMs(alert.first_seen) : undefined,
      last_seen_time: alert.last_seen ? epochMs(alert.last_seen) : undefined,
      analytic: { uid: alert.rule_id, name: alert.rule_id, type_id: 1, type: 'Rule' },
      related_events: alert.evidence.map((uid) => ({ uid })),
      related_events_count: alert.evidence.length,
    },
    resources: [
      {
        uid: alert.entity.id,
        name: alert.entity.name || undefined,
        type: alert.entity.type,
        role_id: 1,
        role: 'Target',
        labels: product ? [product.product] : undefined,
      },
    ],
    unmapped: {
      mltrail: compact({
        schema_version: alert.schema_version,
        rule_id: alert.rule_id,
        stage: alert.stage,
        mode: alert.mode,
        entity: alert.entity,
        evidence: alert.evidence,
        details: alert.details,
        first_seen: alert.first_seen,
        last_seen: alert.last_seen,
      }),
    },
  });
}

export const ocsfFormatter: Formatter = { event: ocsfEvent, alert: ocsfAlert };
