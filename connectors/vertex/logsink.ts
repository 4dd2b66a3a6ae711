import type { Action } from '../../core/schema/actions.js';
import { maskPaths } from './facts.js';
import { isObj, str, type Json } from './logentry.js';

/**
 * Cloud Logging's own calls on a sink (`logging.googleapis.com`, Admin Activity, always logged): deleting or
 * disabling the sink that exports the audit log hides what follows from mltrail and the SIEM (MITRE ATT&CK
 * T1562.008). Read as CloudTrail's trail calls are (connectors/sagemaker/trail.ts): the same `audit_log.*` actions,
 * the sink's resource name as `details.trail`, so `platform.audit_log_tampering` judges both clouds.
 */
export interface SinkChange {
  action: Action;
  /** `projects/P/sinks/S` (or a folder's, organization's, billing account's). */
  sink: string;
  /** UpdateSink: the new destination, when the mask names it (entries now go there: the reader's stop). */
  destination?: string;
  /** UpdateSink: the exclusion filters set, when the mask names them (matching entries are no longer exported). */
  exclusions?: string[];
}

const SINK_RPC = /^google\.logging\.v2\.ConfigServiceV2\.(CreateSink|UpdateSink|DeleteSink|CreateExclusion|UpdateExclusion)$/;

/**
 * @example
 * sinkChange('google.logging.v2.ConfigServiceV2.DeleteSink', { sinkName: 'projects/p/sinks/mltrail' }, 'projects/p/sinks/mltrail')
 * // { action: 'audit_log.delete', sink: 'projects/p/sinks/mltrail' }
 */
export function sinkChange(methodName: string, req: Json, resourceName: string | undefined): SinkChange | undefined {
  const rpc = SINK_RPC.exec(methodName)?.[1];
  if (!rpc) return undefined;
  if (rpc === 'CreateExclusion' || rpc === 'UpdateExclusion') return exclusionChange(rpc, req, resourceName);
  const sink = str(req.sinkName) ?? resourceName;
  if (!sink) return undefined;
  if (rpc === 'DeleteSink') return { action: 'audit_log.delete', sink };
  if (rpc === 'CreateSink') {
    // Logged on its parent: the new sink's name is in the request.
    const name = isObj(req.sink) ? str(req.sink.name) : undefined;
    return { action: 'audit_log.create', sink: name ? `${str(req.parent) ?? sink}/sinks/${name}` : sink };
  }
  // UpdateSink: `disabled` changes only when the field mask names it (an empty mask means destination, filter and
  // includeChildren); a request that sets it with no mask at all is still read as a disable, not shown otherwise.
  const paths = maskPaths(req.updateMask);
  const body = isObj(req.sink) ? req.sink : {};
  const disables = body.disabled === true && (paths.length === 0 || paths.includes('disabled'));
  if (disables) return { action: 'audit_log.disable', sink };
  // Only what the mask names explicitly: an empty mask rewrites destination and filter with whatever the client
  // holds, mostly the same values (read as a redirect, every such edit would alert).
  const destination = paths.includes('destination') ? str(body.destination) : undefined;
  // An exclusion only ever removes entries (`filter: "*"` exports nothing); a disabled one removes none.
  const exclusions = paths.includes('exclusions') && Array.isArray(body.exclusions)
    ? body.exclusions.filter(isObj).filter((x) => x.disabled !== true).map((x) => str(x.filter)).filter((f): f is string => !!f).filter(mayExcludeAuditEntries)
    : [];
  return { action: 'audit_log.update', sink, ...(destination ? { destination } : {}), ...(exclusions.length ? { exclusions } : {}) };
}

/**
 * A `_Default` sink exclusion made through the exclusions API (CreateExclusion / UpdateExclusion on a project, folder,
 * organization or billing account: "creates a new exclusion in the _Default sink"): entries it matches are no longer
 * stored in the `_Default` bucket, which holds the Data Access audit logs and is what `mltrail backfill` reads. Read as
 * an UpdateSink of `<parent>/sinks/_Default` setting that exclusion. An update changes what its mask names: a new
 * filter, or `disabled: false` (an exclusion switched back on, its filter not logged: named by the exclusion).
 */
function exclusionChange(rpc: 'CreateExclusion' | 'UpdateExclusion', req: Json, resourceName: string | undefined): SinkChange | undefined {
  const exclusion = isObj(req.exclusion) ? req.exclusion : {};
  // CreateExclusion names its parent; UpdateExclusion the exclusion, `<parent>/exclusions/<id>`.
  const named = rpc === 'CreateExclusion' ? (str(req.parent) ?? resourceName) : (str(req.name) ?? resourceName);
  const parent = named?.replace(/\/exclusions\/[^/]+$/, '');
  if (!parent) return undefined;
  const sink = `${parent}/sinks/_Default`;
  const paths = rpc === 'UpdateExclusion' ? maskPaths(req.updateMask) : [];
  const active = rpc === 'CreateExclusion' ? exclusion.disabled !== true : paths.includes('disabled') ? exclusion.disabled !== true : paths.includes('filter');
  const filter = rpc === 'CreateExclusion' || paths.includes('filter') ? str(exclusion.filter) : undefined;
  const excluded = !active ? undefined : filter ?? (rpc === 'UpdateExclusion' && str(req.name) ? `exclusion ${str(req.name)}` : undefined);
  return { action: 'audit_log.update', sink, ...(excluded && mayExcludeAuditEntries(excluded) ? { exclusions: [excluded] } : {}) };
}

/**
 * What an exclusion filter may name and still match the audit entries mltrail reads: Vertex AI's, Cloud Storage's,
 * Cloud Logging's and Resource Manager's (the sink and IAM policy changes judged here), the audit logs themselves.
 */
const AUDIT_TERMS = /aiplatform|\bstorage\.googleapis|\blogging\.googleapis|cloudresourcemanager|cloudaudit|audited_resource|gcs_bucket|logging_sink|data_access|activity|^(project|folder|organization)$/i;
/**
 * The values those entries carry in the fields a filter pins (service, resource type, log id): `:` is Logging's
 * "has" operator, a case-insensitive substring match, so `protoPayload.serviceName:"googleapis"` or
 * `resource.type:"_"` names them as surely as the whole value does.
 */
const AUDIT_VALUES = [
  'aiplatform.googleapis.com', 'storage.googleapis.com', 'logging.googleapis.com', 'cloudresourcemanager.googleapis.com',
  'audited_resource', 'gcs_bucket', 'logging_sink', 'project', 'folder', 'organization', 'aiplatform.googleapis.com/',
  'cloudaudit.googleapis.com%2factivity', 'cloudaudit.googleapis.com%2fdata_access', 'cloudaudit.googleapis.com/activity', 'cloudaudit.googleapis.com/data_access',
];
/**
 * Comparisons of a service, resource type or log: field, operator, value (quoted or not), or `log_id("…")`. Only `=`
 * and `:` pin; a regular expression (`=~`) or a negation (`!=`, `!~`) may match anything.
 */
const PINNING = /\b(protoPayload\.serviceName|resource\.type|logName)\s*(=~|!~|!=|=|:)\s*"?([^"\s)]*)|\blog_id\(\s*"?([^"\s)]+)/g;

/** Whether one pinned comparison may select the audit entries mltrail reads. */
function pinsAuditEntries(field: string | undefined, op: string | undefined, value: string): boolean {
  if (op !== undefined && op !== '=' && op !== ':') return true;
  if (AUDIT_TERMS.test(value)) return true;
  if (op !== ':') return false;
  const v = value.toLowerCase();
  // A log name holds its parent (`projects/<id>/logs/…`), whose id a filter cannot be checked against: only a value
  // that names a log (`…logs/<id>`) can be told apart from the audit logs'.
  if (field === 'logName') {
    const id = /logs(?:\/|%2f)(.*)$/.exec(v)?.[1];
    return id === undefined || AUDIT_VALUES.some((a) => a.startsWith('cloudaudit') && (a.startsWith(id) || id.startsWith(a)));
  }
  return v === '' || AUDIT_VALUES.some((a) => a.includes(v));
}

/**
 * Whether an exclusion filter can leave out the audit entries mltrail reads. Only a filter that is a plain conjunction
 * (no OR, no negation) pinned to a service, resource type or log other than those is known not to: an exclusion of
 * `resource.type="k8s_container"` hides no audit entry, one of `severity<ERROR` hides them all (audit entries are
 * INFO and NOTICE), as `*` does. Reading the whole query language is not needed to tell those apart.
 */
export function mayExcludeAuditEntries(filter: string): boolean {
  if (/\bOR\b|\bNOT\b|(^|[\s(])-\w/.test(filter)) return true;
  const pins = [...filter.matchAll(PINNING)];
  return !pins.some((m) => !pinsAuditEntries(m[1], m[2], m[3] ?? m[4] ?? ''));
}
