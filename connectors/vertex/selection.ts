/**
 * The Cloud Logging entries the Vertex connector judges, as one Logging query: Vertex AI's audit entries, Cloud
 * Storage bucket IAM changes (shares of `model_buckets` / `training_buckets`), sink and `_Default`-sink exclusion
 * changes, Resource Manager IAM policies and Pub/Sub subscription changes (audit logs narrowed, mltrail's feed cut:
 * platform.audit_log_tampering), Vertex AI Workbench instance writes (post-startup scripts: platform.notebook_exposure),
 * and Model Monitoring anomalies. The README's Logging sink and `mltrail backfill vertex` read the same, so history is judged as live entries are.
 * Resource Manager names its method by API version (`SetIamPolicy`, `google.cloud.resourcemanager.v2.Folders.SetIamPolicy`):
 * hence `:` (has). OR binds tighter than AND in this language, hence the parentheses.
 *
 * @example
 * vertexLogSelection('my-ml-project') // 'protoPayload.serviceName="aiplatform.googleapis.com" OR … OR logName="projects/my-ml-project/logs/aiplatform.googleapis.com%2Fmodel_monitoring_anomaly"'
 */
/** The Pub/Sub calls that stop or redirect a subscription, or delete the sink's topic (Admin Activity: always logged). */
export const PUBSUB_FEED_METHODS = ['google.pubsub.v1.Subscriber.DeleteSubscription', 'google.pubsub.v1.Subscriber.ModifyPushConfig', 'google.pubsub.v1.Subscriber.UpdateSubscription', 'google.pubsub.v1.Publisher.DetachSubscription', 'google.pubsub.v1.Publisher.DeleteTopic'];

export function vertexLogSelection(project: string): string {
  return [
    'protoPayload.serviceName="aiplatform.googleapis.com"',
    'protoPayload.methodName="storage.setIamPermissions"',
    ...['DeleteSink', 'UpdateSink', 'CreateExclusion', 'UpdateExclusion'].map((rpc) => `protoPayload.methodName="google.logging.v2.ConfigServiceV2.${rpc}"`),
    '(protoPayload.serviceName="cloudresourcemanager.googleapis.com" AND protoPayload.methodName:"SetIamPolicy")',
    // mltrail's own Pub/Sub subscription deleted, detached or re-pointed (platform.audit_log_tampering, feed_names).
    ...PUBSUB_FEED_METHODS.map((m) => `protoPayload.methodName="${m}"`),
    // Vertex AI Workbench instances: their post-startup scripts (platform.notebook_exposure).
    'protoPayload.serviceName="notebooks.googleapis.com"',
    `logName="projects/${project}/logs/aiplatform.googleapis.com%2Fmodel_monitoring_anomaly"`,
  ].join(' OR ');
}
