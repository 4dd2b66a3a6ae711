import { isObj, str, type Json } from './logentry.js';

/**
 * Data Access audit logging narrowed through an IAM policy (`SetIamPolicy` on a project, folder or organization, its
 * `auditConfigs`): the Vertex AI reads and predictions, the Cloud Storage object writes mltrail reads stop being
 * logged, with no sink touched. The audit log records the change as the policy delta
 * (`serviceData.policyDelta.auditConfigDeltas[]`: `action` ADD/REMOVE, `service`, `logType`, `exemptedMember`),
 * whatever the request carried. Two changes narrow it: a log type REMOVEd from a watched service (or `allServices`,
 * which Google unions with each service's own config), and an exempted member ADDed (that identity's accesses are
 * no longer logged). A REMOVE naming a member ends an exemption and an ADD without one enables logging: widening.
 */
export interface AuditConfigNarrowing {
  /** Log types switched off: `{ service, log_type }`. */
  off: { service: string; log_type: string }[];
  /** Identities exempted from logging: `{ service, log_type, member }`. */
  exempted: { service: string; log_type: string; member: string }[];
}

/** The services whose audit entries mltrail reads; `allServices` covers them too. */
const WATCHED_SERVICES = new Set(['aiplatform.googleapis.com', 'storage.googleapis.com', 'allServices']);

/** One audit config change of a watched service, as the policy delta logs it. */
export interface AuditConfigDelta {
  action: 'ADD' | 'REMOVE';
  service: string;
  log_type: string;
  member?: string;
}

/**
 * Every change a SetIamPolicy makes to the watched services' audit configs, widening ones too: what the rule keeps
 * of a project's, folder's or organization's configs, to judge a later REMOVE by what still logs (a delta names only
 * what changed: `allServices` set before it is not in it).
 */
export function auditConfigDeltasOf(methodName: string, pp: Json): AuditConfigDelta[] {
  if (!/(^|\.)SetIamPolicy$/i.test(methodName)) return [];
  const delta = isObj(pp.serviceData) && isObj(pp.serviceData.policyDelta) ? pp.serviceData.policyDelta : undefined;
  const out: AuditConfigDelta[] = [];
  for (const d of Array.isArray(delta?.auditConfigDeltas) ? delta.auditConfigDeltas.filter(isObj) : []) {
    const action = str(d.action);
    const service = str(d.service);
    const logType = str(d.logType);
    if ((action !== 'ADD' && action !== 'REMOVE') || !service || !logType || !WATCHED_SERVICES.has(service)) continue;
    const member = str(d.exemptedMember);
    out.push({ action, service, log_type: logType, ...(member ? { member } : {}) });
  }
  return out;
}

/**
 * @example
 * auditConfigNarrowing('SetIamPolicy', { serviceData: { policyDelta: { auditConfigDeltas: [{ action: 'REMOVE', service: 'aiplatform.googleapis.com', logType: 'DATA_READ' }] } } })
 * // { off: [{ service: 'aiplatform.googleapis.com', log_type: 'DATA_READ' }], exempted: [] }
 */
export function auditConfigNarrowing(methodName: string, pp: Json): AuditConfigNarrowing | undefined {
  if (!/(^|\.)SetIamPolicy$/i.test(methodName)) return undefined;
  const delta = isObj(pp.serviceData) && isObj(pp.serviceData.policyDelta) ? pp.serviceData.policyDelta : undefined;
  const deltas = Array.isArray(delta?.auditConfigDeltas) ? delta.auditConfigDeltas.filter(isObj) : [];
  // A log type moved between a service's config and allServices' is still logged: the ADD in the same delta offsets it.
  const enabled = (service: string, logType: string) => deltas.some((d) => str(d.action) === 'ADD' && !str(d.exemptedMember) && str(d.service) === service && str(d.logType) === logType);
  const stillLogged = (service: string, logType: string) =>
    service === 'allServices' ? ['aiplatform.googleapis.com', 'storage.googleapis.com'].every((s) => enabled(s, logType)) : enabled(service, logType) || enabled('allServices', logType);
  const out: AuditConfigNarrowing = { off: [], exempted: [] };
  for (const d of deltas) {
    const service = str(d.service);
    const logType = str(d.logType);
    if (!service || !logType || !WATCHED_SERVICES.has(service)) continue;
    const member = str(d.exemptedMember);
    if (str(d.action) === 'REMOVE' && !member && !stillLogged(service, logType)) out.off.push({ service, log_type: logType });
    if (str(d.action) === 'ADD' && member) out.exempted.push({ service, log_type: logType, member });
  }
  return out.off.length || out.exempted.length ? out : undefined;
}
