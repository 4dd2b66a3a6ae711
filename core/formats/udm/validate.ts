import { z } from 'zod';

/**
 * Zod schema of a UDM event, written from the UDM usage guide as summarised
 * in spec §3.5: required `metadata.event_timestamp` / `event_type`, byte
 * limits on metadata strings, the event_type enum, the nouns each event type
 * requires, and the security_result enums. Accepts the snake_case JSON form
 * (what mltrail sends). Exported for the Chronicle sink's strict test fake.
 *
 * @example
 * const r = UdmEvent.safeParse(udmEvent(ev)); if (!r.success) …
 */

/** `google.backstory.Metadata.EventType` values named in the spec, with their numbers. */
export const UDM_EVENT_TYPES = {
  EVENTTYPE_UNSPECIFIED: 0,
  RESOURCE_CREATION: 1,
  RESOURCE_DELETION: 2,
  RESOURCE_PERMISSIONS_CHANGE: 3,
  RESOURCE_READ: 4,
  RESOURCE_WRITTEN: 5,
  SETTING_MODIFICATION: 12002,
  USER_UNCATEGORIZED: 15000,
  USER_LOGIN: 15001,
  USER_LOGOUT: 15002,
  USER_CREATION: 15003,
  USER_CHANGE_PASSWORD: 15004,
  USER_CHANGE_PERMISSIONS: 15005,
  USER_DELETION: 15008,
  USER_RESOURCE_CREATION: 15009,
  USER_RESOURCE_UPDATE_CONTENT: 15010,
  USER_RESOURCE_UPDATE_PERMISSIONS: 15011,
  USER_RESOURCE_ACCESS: 15013,
  USER_RESOURCE_DELETION: 15014,
  STATUS_HEARTBEAT: 17001,
  STATUS_UPDATE: 17004,
  GROUP_CREATION: 23001,
  GROUP_DELETION: 23002,
  GROUP_MODIFICATION: 23003,
  GENERIC_EVENT: 100000,
} as const;
export type UdmEventType = keyof typeof UDM_EVENT_TYPES;

export const UDM_SECURITY_ACTIONS = ['UNKNOWN_ACTION', 'ALLOW', 'BLOCK', 'ALLOW_WITH_MODIFICATION', 'QUARANTINE', 'FAIL', 'CHALLENGE'] as const;
export const UDM_SEVERITIES = ['UNKNOWN_SEVERITY', 'INFORMATIONAL', 'ERROR', 'LOW', 'MEDIUM', 'HIGH'] as const;
export const UDM_CATEGORIES = [
  'ACL_VIOLATION', 'AUTH_VIOLATION', 'DATA_AT_REST', 'DATA_DESTRUCTION', 'DATA_EXFILTRATION', 'EXPLOIT', 'MAIL_PHISHING',
  'MAIL_SPAM', 'MAIL_SPOOFING', 'NETWORK_CATEGORIZED_CONTENT', 'NETWORK_COMMAND_AND_CONTROL', 'NETWORK_DENIAL_OF_SERVICE',
  'NETWORK_MALICIOUS', 'NETWORK_SUSPICIOUS', 'NETWORK_RECON', 'POLICY_VIOLATION', 'SOFTWARE_MALICIOUS', 'SOFTWARE_PUA',
  'SOFTWARE_SUSPICIOUS', 'UNKNOWN_CATEGORY',
] as const;
/** Resource.resource_type values confirmed in the spec (the full enum is unverified: use resource_subtype otherwise). */
export const UDM_RESOURCE_TYPES = ['MUTEX', 'STORAGE_OBJECT', 'TASK', 'SETTING', 'CLUSTER', 'SERVICE_ACCOUNT', 'DEVICE'] as const;

const maxBytes = (n: number) => z.string().refine((s) => Buffer.byteLength(s, 'utf8') <= n, { message: `at most ${n} bytes` });
const date = z.iso.datetime({ offset: true });

const User = z.strictObject({
  userid: z.string().min(1).optional(),
  user_display_name: z.string().optional(),
  email_addresses: z.array(z.string()).optional(),
  employee_id: z.string().optional(),
  windows_sid: z.string().optional(),
  group_identifiers: z.array(z.string()).optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  title: z.string().optional(),
  product_object_id: z.string().optional(),
});

const Resource = z.strictObject({
  name: z.string().min(1).optional(),
  resource_type: z.enum(UDM_RESOURCE_TYPES).optional(),
  resource_subtype: z.string().optional(),
  product_object_id: z.string().optional(),
  attribute: z.record(z.string(), z.unknown()).optional(),
});

const Noun = z.strictObject({
  hostname: z.string().min(1).optional(),
  ip: z.array(z.union([z.ipv4(), z.ipv6()])).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  mac: z.array(z.string()).optional(),
  asset_id: z.string().regex(/^[^:]+:.+$/, 'asset_id is Vendor:ID').optional(),
  user: User.optional(),
  resource: Resource.optional(),
  application: z.string().optional(),
  url: z.string().optional(),
  email: z.string().optional(),
  process: z.record(z.string(), z.unknown()).optional(),
  file: z.record(z.string(), z.unknown()).optional(),
  registry: z.record(z.string(), z.unknown()).optional(),
  location: z.record(z.string(), z.unknown()).optional(),
  platform: z.string().optional(),
});
type Noun = z.infer<typeof Noun>;

const SecurityResult = z.strictObject({
  action: z.array(z.enum(UDM_SECURITY_ACTIONS)).optional(),
  severity: z.enum(UDM_SEVERITIES).optional(),
  severity_details: z.string().optional(),
  category: z.array(z.enum(UDM_CATEGORIES)).optional(),
  confidence: z.string().regex(/_CONFIDENCE$/).optional(),
  priority: z.string().regex(/_PRIORITY$/).optional(),
  summary: z.string().optional(),
  description: z.string().optional(),
  rule_name: z.string().optional(),
  rule_id: z.string().optional(),
  threat_name: z.string().optional(),
  action_details: z.string().optional(),
  url_back_to_product: z.string().optional(),
});

const Metadata = z.strictObject({
  event_timestamp: date,
  event_type: z.enum(Object.keys(UDM_EVENT_TYPES) as [UdmEventType, ...UdmEventType[]]),
  collected_timestamp: date.optional(),
  vendor_name: maxBytes(256).optional(),
  product_name: maxBytes(256).optional(),
  product_version: maxBytes(32).optional(),
  product_event_type: maxBytes(64).optional(),
  product_log_id: maxBytes(256).optional(),
  description: maxBytes(1024).optional(),
  url_back_to_product: z.string().optional(),
});

const hasUser = (n: Noun | undefined) => !!n?.user && Object.keys(n.user).length > 0;
const hasMachine = (n: Noun | undefined) => !!(n?.hostname || n?.ip?.length || n?.mac?.length || n?.asset_id);
const hasResource = (n: Noun | undefined) => !!n?.resource && Object.keys(n.resource).length > 0;

/** One UDM event (the element of `events[]` / `inline_source.events[].udm`). */
export const UdmEvent = z
  .strictObject({
    metadata: Metadata,
    principal: Noun.optional(),
    src: Noun.optional(),
    target: Noun.optional(),
    intermediary: z.array(Noun).optional(),
    observer: Noun.optional(),
    about: z.array(Noun).optional(),
    network: z.record(z.string(), z.unknown()).optional(),
    security_result: z.array(SecurityResult).optional(),
    extensions: z
      .strictObject({
        auth: z.strictObject({ type: z.string().min(1), mechanism: z.array(z.string().min(1)).min(1) }).optional(),
        vulns: z.unknown().optional(),
      })
      .optional(),
    additional: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((e, ctx) => {
    const t = e.metadata.event_type;
    const need = (ok: boolean, path: string, what: string) => {
      if (!ok) ctx.addIssue({ code: 'custom', path: path.split('.'), message: `${t} requires ${what}` });
    };
    if (t === 'EVENTTYPE_UNSPECIFIED') ctx.addIssue({ code: 'custom', path: ['metadata', 'event_type'], message: 'EVENTTYPE_UNSPECIFIED is not a valid event type to ingest' });
    if (t.startsWith('USER_RESOURCE_')) {
      need(hasUser(e.principal), 'principal.user', 'principal.user');
      need(hasResource(e.target), 'target.resource', 'target.resource');
    } else if (t.startsWith('RESOURCE_')) {
      // Not listed in the usage guide; mltrail's own rule so the object is never lost.
      need(hasResource(e.target), 'target.resource', 'target.resource');
    } else if (t === 'USER_LOGIN' || t === 'USER_LOGOUT') {
      need(hasUser(e.target), 'target.user', 'target.user');
      need(!!e.extensions?.auth, 'extensions.auth', 'extensions.auth (type and mechanism)');
      const failed = e.security_result?.some((r) => r.action?.some((a) => ['BLOCK', 'FAIL', 'QUARANTINE', 'CHALLENGE'].includes(a)));
      if (t === 'USER_LOGIN' && failed) {
        need(!!e.security_result?.some((r) => r.category?.includes('AUTH_VIOLATION')), 'security_result', 'security_result.category AUTH_VIOLATION on a failed login');
      }
    } else if (t === 'USER_CHANGE_PASSWORD' || t === 'USER_CHANGE_PERMISSIONS') {
      need(hasUser(e.target), 'target.user', 'target.user');
    } else if (t === 'USER_CREATION' || t === 'USER_DELETION' || t === 'USER_UNCATEGORIZED') {
      need(hasMachine(e.principal), 'principal', 'a principal machine id (hostname, ip, mac or asset_id)');
      need(hasUser(e.target), 'target.user', 'target.user');
    } else if (t.startsWith('STATUS_')) {
      need(hasMachine(e.principal), 'principal', 'a principal machine id (hostname, ip, mac or asset_id)');
    } else if (t.startsWith('SETTING_')) {
      need(hasMachine(e.principal), 'principal', 'a principal machine id (hostname, ip, mac or asset_id)');
      need(e.target?.resource?.resource_type === 'SETTING', 'target.resource.resource_type', 'target.resource of type SETTING');
    }
  });
export type UdmEventJson = z.infer<typeof UdmEvent>;
