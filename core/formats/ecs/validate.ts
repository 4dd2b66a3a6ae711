import { z } from 'zod';
import { Platform, Severity, Stage } from '../../schema/index.js';

/**
 * Zod schema for the ECS documents mltrail emits, written from elastic/ecs
 * `schemas/*.yml` as summarised in spec §2.8: field types (keyword = string,
 * long = integer, ip = IP literal, date = RFC 3339), the allowed values of
 * `event.kind/category/type/outcome`, the category → expected `event.type`
 * table, `event.kind: signal` being reserved for Kibana, and the `mltrail.*`
 * namespace. Objects mltrail writes are strict, so a misspelt field fails.
 *
 * @example
 * EcsDocument.parse(ecsEvent(ev));
 */

export const ECS_EVENT_KINDS = ['alert', 'asset', 'enrichment', 'event', 'metric', 'state', 'pipeline_error', 'signal'] as const;
export const ECS_EVENT_CATEGORIES = [
  'api', 'authentication', 'configuration', 'database', 'driver', 'email', 'file', 'host', 'iam', 'intrusion_detection',
  'library', 'malware', 'network', 'package', 'process', 'registry', 'session', 'threat', 'vulnerability', 'web',
] as const;
export const ECS_EVENT_TYPES = [
  'access', 'admin', 'allowed', 'change', 'connection', 'creation', 'deletion', 'denied', 'device', 'end', 'error', 'group',
  'indicator', 'info', 'installation', 'protocol', 'start', 'user',
] as const;

/** allowed_values.expected_event_types (spec §2.8) for the categories mltrail uses. */
export const ECS_EXPECTED_TYPES: Partial<Record<(typeof ECS_EVENT_CATEGORIES)[number], readonly string[]>> = {
  api: ['access', 'admin', 'allowed', 'change', 'creation', 'deletion', 'denied', 'end', 'info', 'start', 'user'],
  authentication: ['start', 'end', 'info'],
  configuration: ['access', 'change', 'creation', 'deletion', 'info'],
  iam: ['admin', 'change', 'creation', 'deletion', 'group', 'info', 'user'],
  session: ['start', 'end', 'info'],
  intrusion_detection: ['allowed', 'denied', 'info'],
};

const keyword = z.string().min(1);
const date = z.iso.datetime({ offset: true });
const ip = z.union([z.ipv4(), z.ipv6()]);
const long = z.number().int();

const EcsEvent = z.strictObject({
  kind: z.enum(ECS_EVENT_KINDS),
  category: z.array(z.enum(ECS_EVENT_CATEGORIES)).min(1),
  type: z.array(z.enum(ECS_EVENT_TYPES)).min(1),
  action: keyword,
  provider: keyword.optional(),
  outcome: z.enum(['success', 'failure', 'unknown']).optional(),
  id: keyword,
  dataset: z.string().regex(/^[a-z0-9_]+(\.[a-z0-9_]+)*$/, 'dataset must be lower-case <module>.<dataset>'),
  module: keyword,
  severity: long.optional(),
  risk_score: z.number().optional(),
  risk_score_norm: z.number().min(0).max(100).optional(),
  created: date.optional(),
  /** Set by the cluster (the final pipeline `mltrail setup elastic` installs), never by the mapping. */
  ingested: date.optional(),
  start: date.optional(),
  end: date.optional(),
  original: z.string().optional(),
});

const MltrailNs = z.strictObject({
  id: keyword,
  schema_version: z.literal('1'),
  platform: Platform.optional(),
  channel: keyword.optional(),
  stage: Stage,
  action: keyword.optional(),
  operation: z.string().optional(),
  service: z.string().optional(),
  actor: z
    .strictObject({
      id: z.string().optional(),
      type: z.enum(['user', 'service', 'system', 'unknown']).optional(),
      mfa: z.boolean().optional(),
      session_issuer: z.string().optional(),
      chain: z.array(z.string()).optional(),
    })
    .optional(),
  resource: z.record(z.string(), z.string()).optional(),
  ml: z.record(z.string(), z.unknown()).optional(),
  details: z.record(z.string(), z.unknown()).optional(),
  alert: z
    .strictObject({
      rule_id: keyword,
      severity: Severity,
      mode: z.enum(['observe', 'alert']),
      entity: z.strictObject({ type: keyword, id: keyword, name: z.string().optional(), platform: Platform.optional() }),
      evidence: z.array(keyword),
      count: long.positive().optional(),
      first_seen: date.optional(),
      last_seen: date.optional(),
      details: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});

/** One ECS document as mltrail writes it (events and alerts). */
export const EcsDocument = z
  .strictObject({
    '@timestamp': date,
    ecs: z.strictObject({ version: z.string().regex(/^\d+\.\d+\.\d+/) }),
    message: z.string().optional(),
    event: EcsEvent,
    user: z.strictObject({ id: keyword.optional(), name: keyword.optional(), email: keyword.optional(), domain: keyword.optional(), roles: z.array(keyword).optional() }).optional(),
    client: z.strictObject({ user: z.strictObject({ id: keyword.optional(), email: keyword.optional() }) }).optional(),
    source: z.strictObject({ ip: ip.optional(), address: keyword.optional() }).optional(),
    user_agent: z.strictObject({ original: keyword }).optional(),
    cloud: z
      .strictObject({
        provider: keyword.optional(),
        account: z.strictObject({ id: keyword.optional(), name: keyword.optional() }).optional(),
        region: keyword.optional(),
        project: z.strictObject({ id: keyword.optional(), name: keyword.optional() }).optional(),
        service: z.strictObject({ name: keyword }).optional(),
      })
      .optional(),
    service: z.strictObject({ name: keyword }).optional(),
    log: z.strictObject({ logger: keyword.optional(), level: keyword.optional() }).optional(),
    error: z.strictObject({ code: keyword.optional(), message: z.string().optional() }).optional(),
    related: z.strictObject({ user: z.array(keyword).optional(), ip: z.array(ip).optional(), hosts: z.array(keyword).optional(), hash: z.array(keyword).optional() }).optional(),
    rule: z
      .strictObject({
        id: keyword,
        name: keyword.optional(),
        description: z.string().optional(),
        category: keyword.optional(),
        ruleset: keyword.optional(),
        uuid: keyword.optional(),
        version: keyword.optional(),
        reference: keyword.optional(),
        author: z.array(keyword).optional(),
      })
      .optional(),
    aws: z.record(z.string(), z.unknown()).optional(),
    gcp: z.record(z.string(), z.unknown()).optional(),
    mltrail: MltrailNs,
  })
  .superRefine((d, ctx) => {
    if (d.event.kind === 'signal') ctx.addIssue({ code: 'custom', path: ['event', 'kind'], message: 'event.kind "signal" is reserved for Kibana alerting' });
    if (d.event.kind === 'alert' && !d.rule) ctx.addIssue({ code: 'custom', path: ['rule'], message: 'an alert needs rule.*' });
    const expected = new Set(d.event.category.flatMap((c) => ECS_EXPECTED_TYPES[c] ?? ECS_EVENT_TYPES));
    for (const t of d.event.type) {
      if (!expected.has(t)) ctx.addIssue({ code: 'custom', path: ['event', 'type'], message: `event.type "${t}" is not expected for category ${d.event.category.join(',')}` });
    }
  });
