/**
 * The end user behind a Kubeflow Pipelines API call, read from the
 * SubjectAccessReview the KFP API server files for it, and the action it stands for.
 */

import { isAction } from '../../../core/schema/index.js';
import type { AuditEvent } from './envelope.js';

/** A KFP API server authorization check: the end user behind a Kubeflow Pipelines API call. */
export interface KfpAuthorization {
  user?: string;
  groups?: string[];
  verb?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  namespace?: string;
  allowed?: boolean;
  reason?: string;
}

/**
 * In multi-user mode the KFP API server (service account `ml-pipeline`) files a
 * SubjectAccessReview on the caller's behalf for every API call, with
 * `resourceAttributes.group: pipelines.kubeflow.org`. With the body logged
 * (level Request/RequestResponse) this is the only place the cluster records
 * which user created, deleted or terminated a run.
 */
export function kfpAuthorizationOf(ev: AuditEvent): KfpAuthorization | undefined {
  if (ev.objectRef?.resource !== 'subjectaccessreviews' || ev.objectRef.apiGroup !== 'authorization.k8s.io') return undefined;
  const req = ev.requestObject as { spec?: Record<string, any> } | undefined;
  const resp = ev.responseObject as { spec?: Record<string, any>; status?: { allowed?: boolean; denied?: boolean; reason?: string } } | undefined;
  const spec = req?.spec ?? resp?.spec;
  const ra = spec?.resourceAttributes;
  if (!ra || ra.group !== 'pipelines.kubeflow.org') return undefined;
  return {
    user: spec?.user,
    groups: spec?.groups,
    verb: ra.verb,
    resource: ra.resource,
    subresource: ra.subresource || undefined,
    name: ra.name || undefined,
    namespace: ra.namespace || undefined,
    allowed: resp?.status ? resp.status.allowed === true : undefined,
    reason: resp?.status?.reason || undefined,
  };
}

const KFP_FAMILY: Record<string, string> = {
  runs: 'pipeline_run',
  pipelines: 'pipeline',
  pipelineversions: 'pipeline_version',
  experiments: 'experiment',
  jobs: 'recurring_run',
  recurringruns: 'recurring_run',
  scheduledworkflows: 'recurring_run',
};
const KFP_VERB: Record<string, string> = {
  get: 'read', list: 'read', watch: 'read', create: 'create', update: 'update', delete: 'delete',
  archive: 'archive', unarchive: 'status_change', retry: 'retry', terminate: 'stop', reportMetrics: 'status_change',
  enable: 'enable', disable: 'disable',
};

/** The normalized action of a KFP authorization check. */
export function kfpAuthorizationAction(a: KfpAuthorization): string {
  if (a.verb === 'readArtifact') return 'artifact.read';
  const family = KFP_FAMILY[a.resource ?? ''];
  const verb = KFP_VERB[a.verb ?? ''];
  const candidate = family && verb ? `${family}.${verb}` : '';
  if (isAction(candidate)) return candidate;
  if (family === 'experiment' && (verb === 'archive' || verb === 'status_change')) return 'experiment.update';
  return isAction(`resource.${verb}`) ? `resource.${verb}` : 'resource.other';
}
