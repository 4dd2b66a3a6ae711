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

const SINK_RPC = /^google\.logging\.v2\.ConfigServiceV2\.(CreateSink|UpdateSink|DeleteSink)$/;

/**
 * @example
 * sinkChange('google.logging.v2.ConfigServiceV2.DeleteSink', { sinkName: 'projects/p/sinks/mltrail' }, 'projects/p/sinks/mltrail')
 * // { action: 'audit_log.delete', sink: 'projects/p/sinks/mltrail' }
 */
export function sinkChange(methodName: string, req: Json, resourceName: string | undefined): SinkChange | undefined {
  const rpc = SINK_RPC.exec(methodName)?.[1];
  if (!rpc) return undefined;
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
    ? body.exclusions.filter(isObj).filter((x) => x.disabled !== true).map((x) => str(x.filter)).filter((f): f is string => !!f)
    : [];
  return { action: 'audit_log.update', sink, ...(destination ? { destination } : {}), ...(exclusions.length ? { exclusions } : {}) };
}
