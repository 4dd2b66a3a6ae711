import { z } from 'zod';

/**
 * Zod schemas for what mltrail sends to Splunk, from spec §1.3 (HEC event
 * envelope) and §1.9 (CIM Change and Alerts data models): prescribed values
 * of Change `action`/`status` and Alerts `severity`/`type`, the fields each
 * model's searches group by, and HEC's rules for `fields` (flat, string or
 * string-array values) plus mltrail's `mltrail_id` indexed field.
 *
 * @example
 * HecChangeEnvelope.parse(hecEnvelope({ kind: 'event', event: ev }));
 */

export const CIM_CHANGE_ACTIONS = ['acl_modified', 'cleared', 'created', 'deleted', 'modified', 'read', 'stopped', 'updated'] as const;
export const CIM_ALERT_SEVERITIES = ['critical', 'high', 'medium', 'low', 'informational', 'unknown'] as const;

const field = z.string().min(1);

/** CIM Change data model fields (mltrail's extra `mltrail` object allowed beside them). */
export const CimChange = z.strictObject({
  action: z.enum(CIM_CHANGE_ACTIONS),
  change_type: field,
  command: field.optional(),
  dest: field,
  dvc: field.optional(),
  object: field,
  object_attrs: z.array(z.string()).optional(),
  object_category: field,
  object_id: field.optional(),
  object_path: field.optional(),
  result: field.optional(),
  result_id: field.optional(),
  src: field,
  status: z.enum(['success', 'failure']).optional(),
  user: field,
  user_name: field.optional(),
  user_type: field.optional(),
  user_agent: field.optional(),
  vendor_account: field.optional(),
  vendor_region: field.optional(),
  vendor_product: field,
  mltrail: z.looseObject({ id: field }),
});

/**
 * CIM Authentication data model fields (action success / failure; Splunk's
 * OCSF→CIM add-on maps an unknown status to `unknown`), with the Change
 * fields that do not clash kept beside them but never `change_type`, which
 * the eventtypes tell the two models apart by.
 */
export const CimAuthentication = z.strictObject({
  action: z.enum(['success', 'failure', 'unknown']),
  app: field,
  signature: field,
  reason: field.optional(),
  src: field,
  dest: field,
  user: field,
  user_id: field.optional(),
  user_name: field.optional(),
  user_type: field.optional(),
  user_agent: field.optional(),
  command: field.optional(),
  dvc: field.optional(),
  object: field.optional(),
  object_attrs: z.array(z.string()).optional(),
  object_category: field.optional(),
  object_id: field.optional(),
  object_path: field.optional(),
  result: field.optional(),
  result_id: field.optional(),
  status: z.enum(['success', 'failure']).optional(),
  vendor_account: field.optional(),
  vendor_region: field.optional(),
  vendor_product: field,
  mltrail: z.looseObject({ id: field }),
});

/** CIM Alerts data model fields. */
export const CimAlert = z.strictObject({
  app: field,
  description: field,
  dest: field,
  id: field,
  severity: z.enum(CIM_ALERT_SEVERITIES),
  signature: field,
  signature_id: field,
  src: field.optional(),
  type: z.enum(['alert', 'event']),
  user: field.optional(),
  vendor_account: field.optional(),
  vendor_region: field.optional(),
  vendor_product: field.optional(),
  mltrail: z.looseObject({ id: field }),
});

/** HEC `fields`: flat, values string or array of strings (nested objects → HEC code 15). */
const HecFields = z.record(z.string().min(1), z.union([z.string(), z.array(z.string())])).refine((f) => typeof f.mltrail_id === 'string' && f.mltrail_id.length > 0, {
  message: 'fields.mltrail_id (the mltrail id) is required',
});

const envelope = <E extends z.ZodType>(event: E) =>
  z.strictObject({
    time: z.number().positive().refine((t) => Math.round(t * 1000) === t * 1000 || Math.abs(Math.round(t * 1000) - t * 1000) < 1e-3, { message: 'time is epoch seconds with at most ms precision' }),
    host: field.optional(),
    source: field,
    sourcetype: field,
    index: field.optional(),
    event,
    fields: HecFields,
  });

export const HecChangeEnvelope = envelope(CimChange).refine((e) => e.fields.mltrail_id === e.event.mltrail.id, { message: 'fields.mltrail_id must equal the event id' });
export const HecAuthenticationEnvelope = envelope(CimAuthentication).refine((e) => e.fields.mltrail_id === e.event.mltrail.id, { message: 'fields.mltrail_id must equal the event id' });
/** An event envelope: Authentication for authentications (no change_type), Change for the rest. */
export const HecEventEnvelope = z.union([HecChangeEnvelope, HecAuthenticationEnvelope]);
export const HecAlertEnvelope = envelope(CimAlert).refine((e) => e.fields.mltrail_id === e.event.mltrail.id, { message: 'fields.mltrail_id must equal the alert id' });
