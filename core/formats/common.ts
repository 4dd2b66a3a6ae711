import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Alert, NormalizedEvent, Platform } from '../schema/index.js';

/**
 * Facts every output schema shares: how a normalized action reads as a
 * create/read/update/delete, which product a platform is, and the native
 * CloudTrail / Cloud Audit Log record behind an event (when `raw` was kept),
 * so the ECS mapping can agree field by field with Elastic's own integrations.
 *
 * Every function here is pure and deterministic: the same event always maps
 * to the same bytes (Chronicle dedups identical batches; resends must match).
 */

/** What an action does to its object, coarse enough for every schema's verb enum. */
export type ActionKind =
  | 'create'
  | 'read'
  | 'update'
  | 'delete'
  /** permissions, role bindings, credentials: IAM changes */
  | 'permission'
  /** exec / attach / port-forward / invoke: using a resource, not reading its definition */
  | 'access'
  | 'start'
  | 'stop'
  /** a platform-reported state change (job completed, run failed, monitor violation) */
  | 'status'
  | 'auth'
  | 'other';

const VERB_KIND: Record<string, ActionKind> = {
  create: 'create', upload: 'create', copy: 'create', push: 'create', import: 'create', produce: 'create',
  token_create: 'create', write: 'update',
  read: 'read', list: 'read', export: 'read', consume: 'read', pull: 'read', open: 'read', metrics: 'read',
  update: 'update', rename: 'update', tag_set: 'update', tag_delete: 'update', alias_set: 'update', alias_delete: 'update',
  approve: 'update', reject: 'update', stage_transition: 'update', description_change: 'update', source_change: 'update',
  deploy: 'update', undeploy: 'update', traffic_change: 'update', enable: 'update', disable: 'update', archive: 'update',
  attest: 'update', hash_registered: 'update', retry: 'start',
  delete: 'delete',
  change: 'permission', assume: 'auth',
  exec: 'access', attach: 'access', portforward: 'access', invoke: 'access',
  start: 'start', stop: 'stop',
  status_change: 'status', complete: 'status', fail: 'status', cached: 'status', violation: 'status', anomaly: 'status',
  exceeded: 'status', hash_verified: 'status', hash_mismatch: 'status', provenance: 'status',
  unavailable: 'status', recovered: 'status',
  auth_failure: 'auth', failure: 'auth', login: 'auth',
};

/** Resources whose writes are IAM changes (ECS category iam, UDM *_PERMISSIONS). */
const IAM_RESOURCES = new Set(['permission', 'role', 'role_binding', 'service_account', 'credential', 'secret']);

/**
 * The kind of an action (`model_version.approve` → `update`).
 *
 * @example
 * actionKind('training_job.create') // 'create'
 */
export function actionKind(action: string): ActionKind {
  const [resource = '', verb = ''] = splitAction(action);
  if (resource === 'auth' || verb === 'auth_failure') return 'auth';
  // Grants and policy edits change who may do what; creating an account or a secret is a creation.
  if (resource === 'permission' || resource === 'role_binding' || (resource === 'role' && verb === 'update')) {
    if (verb !== 'read') return 'permission';
  }
  return VERB_KIND[verb] ?? 'other';
}

/** `['model_version', 'approve']` for `model_version.approve`. */
export function splitAction(action: string): [string, string] {
  const i = action.indexOf('.');
  return i < 0 ? [action, ''] : [action.slice(0, i), action.slice(i + 1)];
}

/** True when the action touches identities or permissions. */
export function isIamAction(action: string): boolean {
  return IAM_RESOURCES.has(splitAction(action)[0]);
}

export interface ProductInfo {
  vendor: string;
  product: string;
  /** OCSF `ai_model.ai_provider`: who hosts/serves the model. */
  aiProvider: string;
}

/** The product behind each platform (vendor and product names as the vendors spell them). */
export const PRODUCTS: Record<Platform, ProductInfo> = {
  sagemaker: { vendor: 'AWS', product: 'Amazon SageMaker', aiProvider: 'AWS' },
  vertex: { vendor: 'Google Cloud', product: 'Vertex AI', aiProvider: 'Google' },
  mlflow: { vendor: 'MLflow', product: 'MLflow', aiProvider: 'MLflow' },
  kubeflow: { vendor: 'Kubeflow', product: 'Kubeflow', aiProvider: 'Kubeflow' },
  custom: { vendor: 'mltrail', product: 'mltrail', aiProvider: 'Internal' },
};

/**
 * Cloud services a connector also reports (the trail or audit log it reads carries them) that are not the
 * ML platform: their records name their own product. By service name as logged (eventSource / serviceName).
 */
const CLOUD_SERVICE_PRODUCTS: Record<string, string> = {
  's3.amazonaws.com': 'Amazon S3',
  'sts.amazonaws.com': 'AWS STS',
  'iam.amazonaws.com': 'AWS IAM',
  'ecr.amazonaws.com': 'Amazon ECR',
  'kms.amazonaws.com': 'AWS KMS',
  'cloudtrail.amazonaws.com': 'AWS CloudTrail',
  'logs.amazonaws.com': 'Amazon CloudWatch Logs',
  'storage.googleapis.com': 'Cloud Storage',
  'bigquery.googleapis.com': 'BigQuery',
  'pubsub.googleapis.com': 'Pub/Sub',
  'container.googleapis.com': 'Google Kubernetes Engine',
  'compute.googleapis.com': 'Compute Engine',
  'iam.googleapis.com': 'Cloud IAM',
  'iamcredentials.googleapis.com': 'Cloud IAM',
  'cloudresourcemanager.googleapis.com': 'Resource Manager',
  'logging.googleapis.com': 'Cloud Logging',
  'artifactregistry.googleapis.com': 'Artifact Registry',
};

/**
 * The product an event's record comes from: its platform's, unless the record is another service of the
 * same cloud that the connector also reads (an S3 data event or an STS AssumeRole in the SageMaker trail, a
 * BigQuery job in the Vertex audit log): that service's. Labelled "Amazon SageMaker", those records mixed
 * into every search a SOC scopes by product. An AWS or Google service not listed is named as logged.
 *
 * @example
 * eventProduct({ platform: 'sagemaker', service: 's3.amazonaws.com' }).product // 'Amazon S3'
 */
export function eventProduct(ev: Pick<NormalizedEvent, 'platform' | 'service'>): ProductInfo {
  const own = PRODUCTS[ev.platform];
  const service = ev.service?.toLowerCase();
  if (!service) return own;
  const listed = CLOUD_SERVICE_PRODUCTS[service];
  if (listed) return { ...own, product: listed };
  const aws = ev.platform === 'sagemaker' && /^([a-z0-9-]+)\.amazonaws\.com$/.exec(service);
  if (aws && !aws[1]!.startsWith('sagemaker')) return { ...own, product: service };
  const gcp = ev.platform === 'vertex' && /^([a-z0-9-]+)\.googleapis\.com$/.exec(service);
  if (gcp && !['aiplatform', 'ml', 'notebooks'].includes(gcp[1]!)) return { ...own, product: service };
  return own;
}

/**
 * An mltrail id as a destination's id field that holds at most `maxBytes` UTF-8 bytes: the id itself, or a
 * stable `mltrail-sha256:<hex>` of it (the same record always gets the same value, so resends still dedupe).
 *
 * @example
 * boundedId('e-42', 256) // 'e-42'
 */
export function boundedId(id: string, maxBytes: number): string {
  return Buffer.byteLength(id) <= maxBytes ? id : `mltrail-sha256:${createHash('sha256').update(id).digest('hex')}`;
}

/** Our own product facts (the forwarder that produced the record). */
export const MLTRAIL = { vendor: 'mltrail', product: 'mltrail' } as const;

/** Epoch milliseconds of an RFC 3339 time (the schema guarantees it parses). */
export function epochMs(time: string): number {
  return Date.parse(time);
}

/** True when the string is an IPv4/IPv6 literal (callerIp may be `private`, sourceIPAddress a service name). */
export function isIpAddress(s: string | undefined): s is string {
  return !!s && isIP(s) !== 0;
}

/** The object an event is about: its `resource`, else the model, endpoint or job it names. */
export interface PrimaryResource {
  type: string;
  id?: string;
  name?: string;
  version?: string;
  uri?: string;
  namespace?: string;
}

/**
 * The event's object, falling back on the ML facts when a connector gave no
 * `resource` (so schemas that require a target still get one when it is known).
 */
export function primaryResource(ev: NormalizedEvent): PrimaryResource | undefined {
  if (ev.resource && (ev.resource.id || ev.resource.name || ev.resource.uri)) return ev.resource;
  const m = ev.ml;
  if (m?.model?.name) return { type: 'model', name: m.model.name, version: m.model.version, uri: m.model.artifact_uri };
  if (m?.deployment?.endpoint) return { type: 'endpoint', name: m.deployment.endpoint };
  if (m?.job?.name) return { type: m.job.type ?? 'job', name: m.job.name };
  return undefined;
}

/** A display name for a resource (`name@version`, else id, else uri). */
export function resourceLabel(r: PrimaryResource | undefined): string | undefined {
  if (!r) return undefined;
  const base = r.name || r.id || r.uri;
  return base && r.version ? `${base}@${r.version}` : base;
}

/** The identity to show for the actor: name, else email, else id. */
export function actorLabel(ev: NormalizedEvent): string | undefined {
  const a = ev.actor;
  return a?.name || a?.email || a?.id || undefined;
}

/** One-line human summary (`alice model_version.approve fraud@3 (success)`). */
export function eventMessage(ev: NormalizedEvent): string {
  const who = actorLabel(ev) ?? 'unknown actor';
  const what = resourceLabel(primaryResource(ev));
  return `${who} ${ev.action}${what ? ` ${what}` : ''} on ${ev.platform} (${ev.operation}): ${ev.outcome}`;
}

/** Alert severity as a 0–100 score (Elastic's detection-rule convention). */
export const SEVERITY_SCORE: Record<Alert['severity'], number> = { low: 21, medium: 47, high: 73, critical: 99 };

/**
 * Where the call came from: the caller's IP, or what CloudTrail puts in
 * `sourceIPAddress` for a call an AWS service made (`config.amazonaws.com`),
 * which the SageMaker connector keeps in `details.source_ip_address`.
 *
 * @example
 * callerAddress(listTagsByConfig) // 'config.amazonaws.com'
 */
export function callerAddress(ev: NormalizedEvent): string | undefined {
  const kept = ev.details?.source_ip_address;
  return ev.actor?.ip || (typeof kept === 'string' && kept ? kept : undefined);
}

/**
 * Who an alert is about and from where, as its rule recorded them
 * (`details.identity` / `principal` / `deployer` / `approver`, else `actor`,
 * the caller of the event judged; `details.ip`),
 * or its entity when that is a person: every schema's alert gets its user
 * and source fields from here, so a SOC can pivot from the alert.
 *
 * @example
 * alertPrincipal(selfApproval) // { user: 'alice@corp.example' }
 */
export function alertPrincipal(alert: Alert): { user?: string; uid?: string; ip?: string } {
  const d = (alert.details ?? {}) as Record<string, unknown>;
  const isUser = alert.entity.type === 'identity' || alert.entity.type === 'user';
  const named = [d.identity, d.principal, d.deployer, d.approver, d.actor].find((v): v is string => typeof v === 'string' && v !== '' && v !== 'unknown');
  const user = isUser ? alert.entity.name || alert.entity.id : named;
  const ip = typeof d.ip === 'string' && isIpAddress(d.ip) ? d.ip : undefined;
  // The caller as the platform logged it (an ARN where `user` is the session's person; an email, the same as `user`,
  // for a Vertex caller): what the events' user ids hold, so it is the alert's user id even when it reads as `user`.
  const uid = typeof d.actor_id === 'string' && d.actor_id !== '' && !isIpAddress(d.actor_id) ? d.actor_id : undefined;
  // A principal recorded as an address (an unauthenticated sender) is the source, not a user.
  return { user: user && isIpAddress(user) ? undefined : user, ...(uid ? { uid } : {}), ip: ip ?? (user && isIpAddress(user) ? user : undefined) };
}

const PROVIDERS: ReadonlySet<string> = new Set(['aws', 'gcp', 'azure', 'other']);

/** Where an alert's event happened (`details.cloud`, as the rules record it: the event's `cloud`), when it names a cloud. */
export function alertCloud(alert: Alert): NonNullable<NormalizedEvent['cloud']> | undefined {
  const c = (alert.details as Record<string, unknown> | undefined)?.cloud as Record<string, unknown> | undefined;
  if (!c || typeof c !== 'object' || typeof c.provider !== 'string' || !PROVIDERS.has(c.provider)) return undefined;
  return { provider: c.provider as NonNullable<NormalizedEvent['cloud']>['provider'], account: str(c.account), region: str(c.region), project: str(c.project) };
}

/**
 * What an alert is about as a target (CIM `dest`, UDM `target`): its entity, unless that entity is the
 * offending identity and the rule names what was attacked (`details.target`, e.g. the route or bucket a
 * refused sender tried): then that. Triage by destination asks which asset is under attack.
 *
 * @example
 * alertTarget(authFailureAlert) // { type: 'route', id: 'core.api', … }
 */
export function alertTarget(alert: Alert): { type: string; id: string; name?: string } {
  const t = (alert.details as Record<string, unknown> | undefined)?.target;
  const isIdentity = alert.entity.type === 'identity' || alert.entity.type === 'user';
  if (isIdentity && t && typeof t === 'object' && typeof (t as { id?: unknown }).id === 'string' && (t as { id: string }).id) {
    const o = t as { type?: unknown; id: string; name?: unknown };
    return { type: typeof o.type === 'string' ? o.type : 'resource', id: o.id, name: typeof o.name === 'string' && o.name ? o.name : undefined };
  }
  return alert.entity;
}

// ---------------------------------------------------------------------------
// The native record behind an event (only when `raw` was kept).

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
/** A non-empty string, else undefined. */
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The fields of a CloudTrail record the ECS and OCSF mappings read. */
export interface CloudTrailFacts {
  eventID?: string;
  eventName?: string;
  eventSource?: string;
  eventType?: string;
  eventCategory?: string;
  requestID?: string;
  principalId?: string;
  userName?: string;
  identityType?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  invokedBy?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  awsRegion?: string;
  recipientAccountId?: string;
  errorCode?: string;
  errorMessage?: string;
  vpcEndpointId?: string;
}

/**
 * The CloudTrail record in `raw`: the record itself, or the `detail` of an
 * EventBridge "AWS API Call via CloudTrail" envelope.
 */
export function cloudTrailFacts(raw: unknown): CloudTrailFacts | undefined {
  let r = raw;
  if (isObj(r) && isObj(r.detail) && !('eventID' in r)) r = r.detail;
  if (!isObj(r) || typeof r.eventVersion !== 'string' || typeof r.eventSource !== 'string') return undefined;
  const ui = isObj(r.userIdentity) ? r.userIdentity : {};
  const sc = isObj(ui.sessionContext) ? ui.sessionContext : {};
  const issuer = isObj(sc.sessionIssuer) ? sc.sessionIssuer : {};
  return {
    eventID: str(r.eventID),
    eventName: str(r.eventName),
    eventSource: str(r.eventSource),
    eventType: str(r.eventType),
    eventCategory: str(r.eventCategory),
    requestID: str(r.requestID),
    principalId: str(ui.principalId),
    // Elastic: userIdentity.userName, else the session issuer's userName (assumed roles).
    userName: str(ui.userName) ?? str(issuer.userName),
    identityType: str(ui.type),
    arn: str(ui.arn),
    accountId: str(ui.accountId),
    accessKeyId: str(ui.accessKeyId),
    invokedBy: str(ui.invokedBy),
    sourceIPAddress: str(r.sourceIPAddress),
    userAgent: str(r.userAgent),
    awsRegion: str(r.awsRegion),
    recipientAccountId: str(r.recipientAccountId),
    errorCode: str(r.errorCode),
    errorMessage: str(r.errorMessage),
    vpcEndpointId: str(r.vpcEndpointId),
  };
}

/** The fields of a Cloud Logging LogEntry (audit log) the ECS and OCSF mappings read. */
export interface GcpAuditFacts {
  insertId?: string;
  logName?: string;
  /** `activity` | `data_access` | `system_event` | `policy` (the LOG_ID after `%2F`). */
  logKind?: string;
  severity?: string;
  methodName?: string;
  serviceName?: string;
  resourceName?: string;
  principalEmail?: string;
  principalSubject?: string;
  callerIp?: string;
  userAgent?: string;
  statusCode?: number;
  statusMessage?: string;
  projectId?: string;
  requestId?: string;
}

/** The audit LogEntry in `raw` (a LogEntry with `insertId` and `logName`). */
export function gcpAuditFacts(raw: unknown): GcpAuditFacts | undefined {
  if (!isObj(raw) || typeof raw.logName !== 'string' || typeof raw.insertId !== 'string') return undefined;
  const pp = isObj(raw.protoPayload) ? raw.protoPayload : {};
  const auth = isObj(pp.authenticationInfo) ? pp.authenticationInfo : {};
  const meta = isObj(pp.requestMetadata) ? pp.requestMetadata : {};
  const status = isObj(pp.status) ? pp.status : undefined;
  const labels = isObj(raw.resource) && isObj(raw.resource.labels) ? raw.resource.labels : {};
  const logName = raw.logName;
  // Only audit logs have a kind (…/logs/cloudaudit.googleapis.com%2Factivity); other logs have none.
  const i = logName.indexOf('cloudaudit.googleapis.com%2F');
  const logKind = i >= 0 ? decodeURIComponent(logName.slice(i + 'cloudaudit.googleapis.com%2F'.length)) : undefined;
  const projectFromLog = /^projects\/([^/]+)\//.exec(logName)?.[1];
  return {
    insertId: raw.insertId,
    logName,
    logKind,
    severity: str(raw.severity),
    methodName: str(pp.methodName),
    serviceName: str(pp.serviceName),
    resourceName: str(pp.resourceName),
    principalEmail: str(auth.principalEmail),
    principalSubject: str(auth.principalSubject),
    callerIp: str(meta.callerIp),
    userAgent: str(meta.callerSuppliedUserAgent),
    statusCode: status ? (typeof status.code === 'number' ? status.code : 0) : undefined,
    statusMessage: status ? str(status.message) : undefined,
    projectId: str(labels.project_id) ?? projectFromLog,
    requestId: isObj(raw.operation) ? str(raw.operation.id) : undefined,
  };
}

/** The raw record as a string (ECS `event.original`, OCSF `raw_data`), or undefined when none was kept. */
export function rawText(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  return typeof raw === 'string' ? raw : JSON.stringify(raw);
}

/**
 * Drop undefined, null and empty-string values, empty objects and empty arrays, recursively (stable, compact output).
 *
 * Copy-on-write: a plain object or array that has nothing to drop is returned
 * as is (no copy), so the result may share untouched sub-objects with the
 * input. Mappings run once per event per sink on the delivery path, and most
 * sub-objects of a normalized event are already compact (makeEvent prunes).
 *
 * @example
 * compact({ a: '', b: { c: undefined }, d: [null, 'x'] }) // { d: ['x'] }
 */
export function compact<T>(value: T): T {
  return (value !== null && typeof value === 'object' ? walk(value, true) : value) as T;
}

/** Marks a member whose compacted value is an empty object or array (its key is dropped). */
const DROP = Symbol('drop');

/** Compact an object or array; an empty result is DROP unless `keepEmpty` (top level and array elements keep it). */
function walk(v: object, keepEmpty: boolean): unknown {
  if (Array.isArray(v)) {
    const r = arrayIsCompact(v) ? v : compactArray(v);
    return r.length || keepEmpty ? r : DROP;
  }
  const obj = v as Obj;
  const keys = Object.keys(obj);
  if (!isPlain(obj)) return compactObject(obj, keys, 0, undefined, keepEmpty);
  for (let i = 0; i < keys.length; i++) {
    const x = obj[keys[i]!];
    if (x === undefined || x === null || x === '') return compactObject(obj, keys, i, undefined, keepEmpty);
    if (x !== null && typeof x === 'object') {
      const c = walk(x, false);
      if (c !== x) return compactObject(obj, keys, i, c, keepEmpty);
    }
  }
  return keys.length || keepEmpty ? obj : DROP;
}

/** Copy of `obj` from key `from` on (keys before it are known to be kept unchanged); `first` is the compacted value at `from`, when known. */
function compactObject(obj: Obj, keys: string[], from: number, first: unknown, keepEmpty: boolean): unknown {
  const out: Obj = {};
  let n = from;
  for (let i = 0; i < from; i++) out[keys[i]!] = obj[keys[i]!];
  for (let i = from; i < keys.length; i++) {
    const k = keys[i]!;
    const x = obj[k];
    // Empty strings carry nothing and break keyword/min-length rules downstream.
    if (x === undefined || x === null || x === '') continue;
    const c = i === from && first !== undefined ? first : typeof x === 'object' ? walk(x, false) : x;
    if (c === DROP) continue;
    out[k] = c;
    n++;
  }
  return n || keepEmpty ? out : DROP;
}

/** True when no element would be dropped or changed (holes count as dropped). */
function arrayIsCompact(arr: unknown[]): boolean {
  for (let i = 0; i < arr.length; i++) {
    if (!(i in arr)) return false;
    const v = arr[i];
    if (v === undefined || v === null || v === '') return false;
    if (typeof v === 'object' && walk(v, true) !== v) return false;
  }
  return true;
}

function compactArray(arr: unknown[]): unknown[] {
  // Elements keep empty objects/arrays (only undefined, null and '' go), as before.
  return arr.map((v) => compact(v)).filter((v) => v !== undefined && v !== null && v !== '');
}

/** Only plain objects are returned uncopied (anything else is rebuilt from its own keys, as always). */
function isPlain(v: Obj): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}


/** Unique non-empty strings, first occurrence order. */
export function uniq(values: Array<string | undefined>): string[] {
  return [...new Set(values.filter((v): v is string => !!v))];
}

/** Truncate a string to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateBytes(s: string, maxBytes: number): string {
  if (Buffer.byteLength(s, 'utf8') <= maxBytes) return s;
  let out = '';
  let n = 0;
  for (const ch of s) {
    const b = Buffer.byteLength(ch, 'utf8');
    if (n + b > maxBytes) break;
    out += ch;
    n += b;
  }
  return out;
}
