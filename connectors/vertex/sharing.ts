import { isObj, str, type Json } from './logentry.js';

/**
 * A Vertex AI resource opened to everyone, for `platform.artifact_shared`: a SetIamPolicy whose policy (or whose
 * logged binding deltas) grants a role to `allUsers` or `allAuthenticatedUsers`. Only that case is read: any other
 * member (a user, a group, another project's service account) is someone the operator may well mean, and the
 * audit log gives no organization to tell ours from theirs.
 *
 * @example
 * publicShareOf('SetIamPolicy', 'projects/p/locations/us-central1/featurestores/fs', { policy: { bindings: [{ role: 'roles/aiplatform.featurestoreDataViewer', members: ['allUsers'] }] } }, {})
 * // { of: 'dataset', grantees: ['*'] }
 */
export function publicShareOf(rpc: string, resourceName: string | undefined, req: Json, pp: Json): { of: 'model' | 'dataset'; grantees: string[] } | undefined {
  if (rpc !== 'SetIamPolicy' || !resourceName) return undefined;
  const of = /\/(models|endpoints)\//.test(`${resourceName}/`) ? 'model' : /\/(datasets|featurestores|featureOnlineStores|featureGroups|metadataStores)\//.test(`${resourceName}/`) ? 'dataset' : undefined;
  if (!of) return undefined;
  const members: string[] = [];
  const policy = isObj(req.policy) ? req.policy : undefined;
  for (const b of Array.isArray(policy?.bindings) ? policy.bindings.filter(isObj) : []) {
    for (const m of Array.isArray(b.members) ? b.members : []) if (str(m)) members.push(str(m)!);
  }
  const delta = isObj(pp.serviceData) && isObj(pp.serviceData.policyDelta) ? pp.serviceData.policyDelta : undefined;
  for (const d of Array.isArray(delta?.bindingDeltas) ? delta.bindingDeltas.filter(isObj) : []) {
    if (str(d.action) === 'ADD' && str(d.member)) members.push(str(d.member)!);
  }
  return members.some((m) => m === 'allUsers' || m === 'allAuthenticatedUsers') ? { of, grantees: ['*'] } : undefined;
}
