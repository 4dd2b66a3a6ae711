/** Who sent an audited request: service-account names, the KFP API server, the actor of an event. */

import type { NormalizedEvent } from '../../../core/schema/index.js';
import type { AuditEvent } from './envelope.js';

const SA_PREFIX = 'system:serviceaccount:';

/**
 * The KFP API server's identity. Only its SubjectAccessReviews stand for a user's
 * KFP call: anyone may file a SAR naming any user, and a profile editor can make
 * an `ml-pipeline` account in their own namespace, so the namespace is checked too.
 */
export const KFP_API_SERVER = `${SA_PREFIX}kubeflow:ml-pipeline`;

/** `system:serviceaccount:<ns>:<name>` → { namespace, name }. */
export function serviceAccountOf(username: string | undefined): { namespace: string; name: string } | undefined {
  if (!username?.startsWith(SA_PREFIX)) return undefined;
  const [namespace, name] = username.slice(SA_PREFIX.length).split(':');
  return namespace && name ? { namespace, name } : undefined;
}

export function actorOf(ev: AuditEvent): NormalizedEvent['actor'] {
  return identityOf(ev.user?.username, ev);
}

export function identityOf(username: string | undefined, ev?: AuditEvent): NormalizedEvent['actor'] {
  const sa = serviceAccountOf(username);
  const type = sa ? 'service' : username === 'system:anonymous' || !username ? 'unknown' : username.startsWith('system:') ? 'system' : 'user';
  const local = username?.includes(':') && !sa ? username.slice(username.lastIndexOf(':') + 1) : username;
  const email = local && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(local) ? local : undefined;
  const ips = ev?.sourceIPs ?? [];
  const chain = ev?.impersonatedUser?.username && username ? [username, ev.impersonatedUser.username] : undefined;
  return {
    id: username,
    name: sa ? sa.name : local,
    email,
    type,
    // All but the last source IP come from client-settable headers; the last is the apiserver's peer.
    ip: ips.length ? ips[ips.length - 1] : undefined,
    user_agent: ev?.userAgent,
    chain,
  };
}
