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
  return opensToEveryone(req, pp) ? { of, grantees: ['*'] } : undefined;
}

/**
 * A Cloud Storage bucket listed in `model_buckets` / `training_buckets` shared: Cloud Storage logs a bucket IAM change
 * as `storage.setIamPermissions` on `projects/_/buckets/B`, its grants as the policy delta
 * (`serviceData.policyDelta.bindingDeltas`, no request body). Public members are always read; a named member
 * (`user:`, `group:`, `serviceAccount:`, `domain:`) only once `allowed_domains` says which domains are the
 * organization's — the record names no organization — and then when its domain is none of them.
 *
 * @example
 * bucketShareOf('storage.setIamPermissions', 'fraud-models', {}, { serviceData: { policyDelta: { bindingDeltas: [{ action: 'ADD', role: 'roles/storage.objectViewer', member: 'user:eve@partner.example' }] } } }, { model_buckets: ['fraud-models'], allowed_domains: ['corp.example'] })
 * // { of: 'model', grantees: ['user:eve@partner.example'] }
 */
export function bucketShareOf(methodName: string, bucket: string | undefined, req: Json, pp: Json, lists: BucketLists): { of: 'model' | 'dataset'; grantees: string[] } | undefined {
  if (methodName !== 'storage.setIamPermissions') return undefined;
  const of = bucketArtifact(bucket, lists);
  if (!of) return undefined;
  const outsiders = lists.allowed_domains?.length ? addedMembers(pp).filter((m) => isOutsider(m, lists.allowed_domains!)) : [];
  const grantees = [...(opensToEveryone(req, pp) ? ['*'] : []), ...new Set(outsiders)];
  return grantees.length ? { of, grantees } : undefined;
}

/** The connector's bucket lists (`connectors.vertex.model_buckets` / `training_buckets`): names, or `gs://` names; `allowed_domains`: the organization's email domains. */
export interface BucketLists {
  model_buckets?: readonly string[];
  training_buckets?: readonly string[];
  allowed_domains?: readonly string[];
  /** mltrail's feed subscriptions (VertexConfig.feed_names) and the configured pull subscription. */
  feed_names?: readonly string[];
  pull?: { subscription?: string };
}

/** Members a logged policy delta ADDs. */
function addedMembers(pp: Json): string[] {
  const delta = isObj(pp.serviceData) && isObj(pp.serviceData.policyDelta) ? pp.serviceData.policyDelta : undefined;
  const deltas = Array.isArray(delta?.bindingDeltas) ? delta.bindingDeltas.filter(isObj) : [];
  return deltas.filter((d) => str(d.action) === 'ADD').map((d) => str(d.member)).filter((m): m is string => !!m);
}

/**
 * A named member outside the organization: its email's domain (`user:`, `group:`, `serviceAccount:`), or the
 * `domain:` itself, neither an allowed domain nor under one. Other forms (workforce or workload identity
 * `principal://`, `projectViewer:`-style convenience members, `deleted:` members) carry no domain: not judged.
 */
function isOutsider(member: string, allowed: readonly string[]): boolean {
  const m = /^(?:(?:user|group|serviceAccount):[^@\s]+@([^?\s]+)|domain:([^?\s]+))$/.exec(member);
  const domain = (m?.[1] ?? m?.[2])?.toLowerCase();
  if (!domain) return false;
  return !allowed.some((a) => {
    const d = a.toLowerCase().replace(/^@/, '');
    return domain === d || domain.endsWith(`.${d}`);
  });
}

/** What a listed bucket holds: training data (dataset) or model artifacts (model); undefined when unlisted. */
export function bucketArtifact(bucket: string | undefined, lists: BucketLists): 'model' | 'dataset' | undefined {
  if (!bucket) return undefined;
  const listed = (list: readonly string[] | undefined) => !!list?.some((b) => b === bucket || b === `gs://${bucket}` || b === `gs://${bucket}/`);
  return listed(lists.training_buckets) ? 'dataset' : listed(lists.model_buckets) ? 'model' : undefined;
}

/** Whether a policy set (the request's bindings) or its logged delta (bindings ADDed) names allUsers or allAuthenticatedUsers. */
function opensToEveryone(req: Json, pp: Json): boolean {
  const members: string[] = [];
  const policy = isObj(req.policy) ? req.policy : undefined;
  for (const b of Array.isArray(policy?.bindings) ? policy.bindings.filter(isObj) : []) {
    for (const m of Array.isArray(b.members) ? b.members : []) if (str(m)) members.push(str(m)!);
  }
  const delta = isObj(pp.serviceData) && isObj(pp.serviceData.policyDelta) ? pp.serviceData.policyDelta : undefined;
  for (const d of Array.isArray(delta?.bindingDeltas) ? delta.bindingDeltas.filter(isObj) : []) {
    if (str(d.action) === 'ADD' && str(d.member)) members.push(str(d.member)!);
  }
  return members.some((m) => m === 'allUsers' || m === 'allAuthenticatedUsers');
}
