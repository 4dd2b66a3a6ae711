import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/fixtures.js';
import { buildFilter } from '../../../connectors/vertex/backfill.js';
import { auditEntry, LOC, normOneConfigured } from './samples.js';

/**
 * The README's Logging sink is what reaches the connector: an entry its filter drops is never judged, whatever the
 * connector does with it. Its `--log-filter` is evaluated here as Cloud Logging would (a disjunction of `field="value"`
 * comparisons; another shape fails the test so the evaluator is extended, not skipped).
 */

const PROJECT = 'my-ml-project';

function readmeFilter(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Vertex AI'), readme.indexOf('## Kubeflow'));
  const arg = /gcloud logging sinks create [\s\S]*?--log-filter='(.*)'\s*$/m.exec(section)?.[1];
  expect(arg, 'the README creates the sink with --log-filter').toBeTruthy();
  // The shell splices the project in: '…projects/'$P'/logs…'.
  return arg!.replace(/'\$P'/g, PROJECT);
}

/**
 * A disjunction of comparisons or of parenthesized conjunctions of them: `field="value"` (equal) and `field:"value"`
 * (has: a substring, case-insensitive, as Cloud Logging reads a string field). Cloud Logging binds OR tighter than
 * AND, so a conjunction among the OR terms must be parenthesized: an unparenthesized AND fails the test.
 */
function passes(filter: string, entry: Record<string, unknown>): boolean {
  return filter.split(/\s+OR\s+/).some((term) => {
    const t = term.trim();
    const conj = /^\((.*)\)$/.exec(t);
    return (conj ? conj[1]!.split(/\s+AND\s+/) : [t]).every((cmp) => holds(cmp.trim(), entry));
  });
}

function holds(cmp: string, entry: Record<string, unknown>): boolean {
  const m = /^([A-Za-z_.]+)(=|:)"([^"]*)"$/.exec(cmp);
  if (!m) throw new Error(`filter term this test cannot evaluate: ${cmp}`);
  const value = m[1]!.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), entry);
  if (m[2] === '=') return value === m[3];
  return typeof value === 'string' && value.toLowerCase().includes(m[3]!.toLowerCase());
}

/** A bucket IAM change as Cloud Storage logs it (Admin Activity, always on): the policy delta only. */
const bucketIam = {
  protoPayload: {
    '@type': 'type.googleapis.com/google.cloud.audit.AuditLog', status: {},
    authenticationInfo: { principalEmail: 'mallory@corp.example' },
    serviceName: 'storage.googleapis.com', methodName: 'storage.setIamPermissions',
    authorizationInfo: [{ resource: 'projects/_/buckets/fraud-models', permission: 'storage.buckets.setIamPolicy', granted: true, resourceAttributes: {} }],
    resourceName: 'projects/_/buckets/fraud-models',
    serviceData: { '@type': 'type.googleapis.com/google.iam.v1.logging.AuditData', policyDelta: { bindingDeltas: [{ action: 'ADD', role: 'roles/storage.objectViewer', member: 'allUsers' }] } },
  },
  insertId: 'gcs-iam-1', resource: { type: 'gcs_bucket', labels: { project_id: PROJECT, bucket_name: 'fraud-models', location: 'us-central1' } },
  timestamp: '2026-11-20T12:00:00.000Z', severity: 'NOTICE', logName: `projects/${PROJECT}/logs/cloudaudit.googleapis.com%2Factivity`,
};

describe('the README\'s Vertex AI Logging sink', () => {
  it("forwards mltrail's own Pub/Sub subscription cut (deleted, detached, push config changed), which the connector makes audit_log events; other Pub/Sub calls not", () => {
    const filter = readmeFilter();
    const sub = `projects/${PROJECT}/subscriptions/mltrail-vertex-pull`;
    for (const m of ['Subscriber.DeleteSubscription', 'Subscriber.ModifyPushConfig', 'Subscriber.UpdateSubscription', 'Publisher.DetachSubscription', 'Publisher.DeleteTopic']) {
      const entry = { ...bucketIam, protoPayload: { ...bucketIam.protoPayload, serviceName: 'pubsub.googleapis.com', methodName: `google.pubsub.v1.${m}`, resourceName: sub, serviceData: undefined, request: { subscription: sub } }, resource: { type: 'pubsub_subscription', labels: { project_id: PROJECT } } };
      expect(passes(filter, entry), m).toBe(true);
    }
    const deleted = { ...bucketIam, protoPayload: { ...bucketIam.protoPayload, serviceName: 'pubsub.googleapis.com', methodName: 'google.pubsub.v1.Subscriber.DeleteSubscription', resourceName: sub, serviceData: undefined, request: { subscription: sub } }, resource: { type: 'pubsub_subscription', labels: { project_id: PROJECT } } };
    expect(normOneConfigured(deleted, {}).action).toBe('audit_log.delete');
    expect(passes(filter, { protoPayload: { serviceName: 'pubsub.googleapis.com', methodName: 'google.pubsub.v1.Publisher.Publish' } })).toBe(false);
  });

  it('forwards Vertex AI audit entries and a listed bucket opened to everyone (connectors.vertex.model_buckets), which the connector marks as a share', () => {
    const filter = readmeFilter();
    expect(passes(filter, auditEntry({ method: 'google.cloud.aiplatform.v1.ModelService.UploadModel', resourceName: LOC }))).toBe(true);
    expect(normOneConfigured(bucketIam, { model_buckets: ['fraud-models'] }).details).toMatchObject({ share_of: 'model', grantees: ['*'] });
    expect(passes(filter, bucketIam)).toBe(true);
    // Not every Cloud Storage entry: an object read is not what the filter is for.
    expect(passes(filter, { ...bucketIam, protoPayload: { ...bucketIam.protoPayload, methodName: 'storage.objects.get' } })).toBe(false);
    // Another sink deleted or disabled (platform.audit_log_tampering).
    for (const rpc of ['DeleteSink', 'UpdateSink']) expect(passes(filter, { protoPayload: { serviceName: 'logging.googleapis.com', methodName: `google.logging.v2.ConfigServiceV2.${rpc}` } })).toBe(true);
    // A Vertex AI Workbench instance's post-startup script (platform.notebook_exposure).
    expect(passes(filter, { protoPayload: { serviceName: 'notebooks.googleapis.com', methodName: 'google.cloud.notebooks.v2.NotebookService.CreateInstance' } })).toBe(true);
  });

  it('forwards the other ways audit entries stop being kept that the connector judges: _Default-sink exclusions and Data Access logging switched off in an IAM policy', () => {
    const filter = readmeFilter();
    const exclusion = { ...bucketIam, protoPayload: { ...bucketIam.protoPayload, serviceName: 'logging.googleapis.com', methodName: 'google.logging.v2.ConfigServiceV2.CreateExclusion', resourceName: `projects/${PROJECT}`,
      request: { '@type': 'type.googleapis.com/google.logging.v2.CreateExclusionRequest', parent: `projects/${PROJECT}`, exclusion: { name: 'quiet', filter: 'protoPayload.serviceName="aiplatform.googleapis.com"' } }, serviceData: undefined }, resource: { type: 'audited_resource', labels: { project_id: PROJECT } } };
    expect(normOneConfigured(exclusion, {}).details).toMatchObject({ trail: `projects/${PROJECT}/sinks/_Default`, log_exclusions: ['protoPayload.serviceName="aiplatform.googleapis.com"'] });
    expect(passes(filter, exclusion)).toBe(true);
    const updated = { ...exclusion, protoPayload: { ...exclusion.protoPayload, methodName: 'google.logging.v2.ConfigServiceV2.UpdateExclusion' } };
    expect(passes(filter, updated)).toBe(true);
    const auditOff = { ...bucketIam, protoPayload: { ...bucketIam.protoPayload, serviceName: 'cloudresourcemanager.googleapis.com', methodName: 'SetIamPolicy', resourceName: `projects/${PROJECT}`,
      serviceData: { '@type': 'type.googleapis.com/google.iam.v1.logging.AuditData', policyDelta: { auditConfigDeltas: [{ action: 'REMOVE', service: 'aiplatform.googleapis.com', logType: 'DATA_READ' }] } } }, resource: { type: 'project', labels: { project_id: PROJECT } } };
    expect(normOneConfigured(auditOff, {})).toMatchObject({ action: 'audit_log.update', details: { audit_logs_off: [{ service: 'aiplatform.googleapis.com', log_type: 'DATA_READ' }] } });
    expect(passes(filter, auditOff)).toBe(true);
  });

  it('forwards a folder\'s or organization\'s IAM policy change whichever Resource Manager API version logged it (the README says a folder or organization sink forwards them)', () => {
    const filter = readmeFilter();
    const deltas = { '@type': 'type.googleapis.com/google.iam.v1.logging.AuditData', policyDelta: { auditConfigDeltas: [{ action: 'ADD', service: 'storage.googleapis.com', logType: 'DATA_WRITE', exemptedMember: 'serviceAccount:etl@my-ml-project.iam.gserviceaccount.com' }] } };
    // gcloud resource-manager folders set-iam-policy calls google.cloud.resourcemanager.v2.Folders.SetIamPolicy; v3 clients log v3 names.
    for (const [methodName, resourceName] of [
      ['SetIamPolicy', 'organizations/123456789012'],
      ['google.cloud.resourcemanager.v2.Folders.SetIamPolicy', 'folders/987654321'],
      ['google.cloud.resourcemanager.v3.Folders.SetIamPolicy', 'folders/987654321'],
      ['google.cloud.resourcemanager.v3.Projects.SetIamPolicy', `projects/${PROJECT}`],
    ] as const) {
      const entry = { ...bucketIam, protoPayload: { ...bucketIam.protoPayload, serviceName: 'cloudresourcemanager.googleapis.com', methodName, resourceName, serviceData: deltas }, resource: { type: resourceName.split('/')[0]!.replace(/s$/, ''), labels: {} } };
      expect(normOneConfigured(entry, {}), methodName).toMatchObject({ action: 'audit_log.update', details: { trail: resourceName, audit_exemptions: [{ service: 'storage.googleapis.com', log_type: 'DATA_WRITE' }] } });
      expect(passes(filter, entry), methodName).toBe(true);
    }
    // Not every service's IAM policy: a Pub/Sub topic's holds no audit config and is not what the filter is for.
    expect(passes(filter, { protoPayload: { serviceName: 'pubsub.googleapis.com', methodName: 'google.iam.v1.IAMPolicy.SetIamPolicy' } })).toBe(false);
  });

  it('is what mltrail backfill vertex reads by default: history is judged as live entries are (a bucket share, a sink deleted)', () => {
    const filter = readmeFilter();
    const since = '2026-11-01T00:00:00.000Z';
    const until = '2026-11-02T00:00:00.000Z';
    const backfill = buildFilter(PROJECT, since, until);
    expect(backfill).toBe(`(${filter}) AND timestamp>="${since}" AND timestamp<"${until}"`);
    const selection = /^\((.*)\) AND timestamp/.exec(backfill)![1]!;
    expect(passes(selection, bucketIam)).toBe(true);
    expect(passes(selection, { protoPayload: { serviceName: 'logging.googleapis.com', methodName: 'google.logging.v2.ConfigServiceV2.DeleteSink' } })).toBe(true);
  });
});
