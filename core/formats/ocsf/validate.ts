import { z } from 'zod';

/**
 * Zod schemas for the OCSF 1.8.0 records mltrail emits, written from the
 * schema's class/object definitions (spec §4.2–4.5, checked against the
 * ocsf-schema 1.8.0 tag): required attributes, `at_least_one` constraints,
 * enum ids, `type_uid = class_uid*100 + activity_id`, and profile
 * consistency (`cloud` required once the cloud profile is declared).
 * Objects are strict where
 * mltrail writes them, so a misspelt attribute fails instead of passing.
 *
 * @example
 * OcsfApiActivity.parse(ocsfEvent(ev));
 */

const int = z.number().int();
const nonEmpty = z.string().min(1);
const timestamp = int.positive(); // timestamp_t: epoch milliseconds
const datetime = z.iso.datetime({ offset: true });
const oneOf = (values: number[]) => int.refine((v) => values.includes(v), { message: `must be one of ${values.join(', ')}` });

const atLeastOne = <T extends z.ZodObject>(schema: T, keys: string[]) =>
  schema.refine((o: Record<string, unknown>) => keys.some((k) => o[k] !== undefined && o[k] !== ''), {
    message: `needs at least one of ${keys.join(', ')}`,
  });

export const SEVERITY_IDS = [0, 1, 2, 3, 4, 5, 6, 99];

const Product = atLeastOne(
  z.strictObject({ name: nonEmpty.optional(), uid: nonEmpty.optional(), vendor_name: nonEmpty.optional(), version: nonEmpty.optional() }),
  ['name', 'uid'],
);

const Metadata = z.strictObject({
  version: z.literal('1.8.0'),
  product: Product,
  uid: nonEmpty.optional(),
  profiles: z.array(z.enum(['cloud', 'datetime', 'host', 'osint', 'security_control', 'trace', 'ai_operation', 'incident'])).optional(),
  original_time: z.string().optional(),
  logged_time: timestamp.optional(),
  log_name: z.string().optional(),
  log_provider: z.string().optional(),
  tenant_uid: z.string().optional(),
  event_code: z.string().optional(),
  correlation_uid: z.string().optional(),
});

const Account = atLeastOne(
  z.strictObject({ uid: nonEmpty.optional(), name: nonEmpty.optional(), type_id: oneOf([...Array.from({ length: 20 }, (_, i) => i), 99]).optional(), type: z.string().optional() }),
  ['uid', 'name'],
);

const User = atLeastOne(
  z.strictObject({
    uid: nonEmpty.optional(),
    name: nonEmpty.optional(),
    account: Account.optional(),
    email_addr: z.email().optional(),
    type_id: oneOf([0, 1, 2, 3, 4, 99]).optional(),
    type: z.string().optional(),
    has_mfa: z.boolean().optional(),
    uid_alt: z.string().optional(),
    credential_uid: z.string().optional(),
  }),
  ['account', 'name', 'uid'],
);

const Actor = atLeastOne(
  z.strictObject({
    user: User.optional(),
    session: z.strictObject({ issuer: z.string().optional(), is_mfa: z.boolean().optional(), uid: z.string().optional() }).optional(),
    invoked_by: nonEmpty.optional(),
    app_name: nonEmpty.optional(),
    app_uid: nonEmpty.optional(),
    process: z.record(z.string(), z.unknown()).optional(),
  }),
  ['process', 'user', 'invoked_by', 'session', 'app_name', 'app_uid'],
);

const Api = z.strictObject({
  operation: nonEmpty,
  service: atLeastOne(z.strictObject({ name: nonEmpty.optional(), uid: nonEmpty.optional(), version: z.string().optional() }), ['name', 'uid']).optional(),
  request: z.strictObject({ uid: nonEmpty, data: z.unknown().optional() }).optional(),
  response: z.strictObject({ code: int.optional(), error: z.string().optional(), message: z.string().optional(), data: z.unknown().optional() }).optional(),
  version: z.string().optional(),
});

const NetworkEndpoint = atLeastOne(
  z.strictObject({
    ip: z.union([z.ipv4(), z.ipv6()]).optional(),
    uid: nonEmpty.optional(),
    name: nonEmpty.optional(),
    hostname: nonEmpty.optional(),
    svc_name: nonEmpty.optional(),
    instance_uid: nonEmpty.optional(),
    domain: nonEmpty.optional(),
    port: int.optional(),
  }),
  ['ip', 'uid', 'name', 'hostname', 'svc_name', 'instance_uid', 'interface_uid', 'interface_name', 'domain'],
);

const Cloud = z.strictObject({
  provider: nonEmpty,
  region: z.string().optional(),
  project_uid: z.string().optional(),
  account: Account.optional(),
  zone: z.string().optional(),
});

const ResourceDetails = atLeastOne(
  z.strictObject({
    uid: nonEmpty.optional(),
    name: nonEmpty.optional(),
    type: z.string().optional(),
    version: z.string().optional(),
    namespace: z.string().optional(),
    region: z.string().optional(),
    role_id: oneOf([0, 1, 2, 3, 4, 99]).optional(),
    role: z.string().optional(),
    labels: z.array(z.string()).optional(),
    data: z.unknown().optional(),
  }),
  ['name', 'uid'],
);

const Observable = z.strictObject({
  name: nonEmpty.optional(),
  type_id: oneOf([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 16, 20, 21, 99]),
  type: z.string().optional(),
  value: z.string().optional(),
});

/** ai_model (OCSF 1.8.0, ai_operation profile): name and ai_provider required. */
const AiModel = z.strictObject({ name: nonEmpty, ai_provider: nonEmpty, version: z.string().optional(), uid: z.string().optional() });

const baseShape = {
  class_uid: int,
  class_name: z.string().optional(),
  category_uid: int,
  category_name: z.string().optional(),
  activity_id: int,
  activity_name: z.string().optional(),
  type_uid: int,
  type_name: z.string().optional(),
  time: timestamp,
  time_dt: datetime.optional(),
  severity_id: oneOf(SEVERITY_IDS),
  severity: z.string().optional(),
  status_id: int.optional(),
  status: z.string().optional(),
  status_code: z.string().optional(),
  status_detail: z.string().optional(),
  message: z.string().optional(),
  count: int.positive().optional(),
  metadata: Metadata,
  observables: z.array(Observable).optional(),
  cloud: Cloud.optional(),
  raw_data: z.string().optional(),
  unmapped: z.record(z.string(), z.unknown()).optional(),
};

type Base = { class_uid: number; activity_id: number; type_uid: number; metadata: { profiles?: string[] }; cloud?: unknown };

function checkBase(o: Base, ctx: z.RefinementCtx): void {
  if (o.type_uid !== o.class_uid * 100 + o.activity_id) {
    ctx.addIssue({ code: 'custom', path: ['type_uid'], message: `type_uid must be class_uid*100+activity_id (${o.class_uid * 100 + o.activity_id})` });
  }
  const profiles = o.metadata.profiles ?? [];
  if (profiles.includes('cloud') && !o.cloud) ctx.addIssue({ code: 'custom', path: ['cloud'], message: 'cloud is required when the cloud profile is applied' });
}

/** API Activity (class 6003, category 6). */
export const OcsfApiActivity = z
  .strictObject({
    ...baseShape,
    class_uid: z.literal(6003),
    category_uid: z.literal(6),
    activity_id: oneOf([0, 1, 2, 3, 4, 99]),
    status_id: oneOf([0, 1, 2, 99]).optional(),
    actor: Actor,
    api: Api,
    src_endpoint: NetworkEndpoint,
    dst_endpoint: NetworkEndpoint.optional(),
    http_request: z.strictObject({ user_agent: z.string().optional(), url: z.unknown().optional(), http_method: z.string().optional() }).optional(),
    resources: z.array(ResourceDetails).optional(),
    ai_model: AiModel.optional(),
  })
  .superRefine((o, ctx) => checkBase(o as Base, ctx));

const Analytic = atLeastOne(
  z.strictObject({
    uid: nonEmpty.optional(),
    name: nonEmpty.optional(),
    type_id: oneOf([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 99]),
    type: z.string().optional(),
    desc: z.string().optional(),
  }),
  ['name', 'uid'],
);

const FindingInfo = z.strictObject({
  uid: nonEmpty,
  title: z.string().optional(),
  desc: z.string().optional(),
  types: z.array(z.string()).optional(),
  created_time: timestamp.optional(),
  first_seen_time: timestamp.optional(),
  last_seen_time: timestamp.optional(),
  analytic: Analytic.optional(),
  related_events: z.array(z.strictObject({ uid: nonEmpty, type_uid: int.optional(), severity_id: int.optional() })).optional(),
  related_events_count: int.nonnegative().optional(),
});

/** Evidence Artifacts (`evidences[]`): at least one of its many artifacts; mltrail writes the actor and the source. */
const EvidenceArtifacts = atLeastOne(z.strictObject({ actor: Actor.optional(), src_endpoint: NetworkEndpoint.optional() }), ['actor', 'src_endpoint']);

/** Detection Finding (class 2004, category 2). */
export const OcsfDetectionFinding = z
  .strictObject({
    ...baseShape,
    class_uid: z.literal(2004),
    category_uid: z.literal(2),
    activity_id: oneOf([0, 1, 2, 3, 99]),
    status_id: oneOf([0, 1, 2, 3, 4, 5, 6, 99]).optional(),
    finding_info: FindingInfo,
    is_alert: z.boolean().optional(),
    confidence_id: oneOf([0, 1, 2, 3, 99]).optional(),
    evidences: z.array(EvidenceArtifacts).min(1).optional(),
    resources: z.array(ResourceDetails).optional(),
  })
  .superRefine((o, ctx) => checkBase(o as Base, ctx));
