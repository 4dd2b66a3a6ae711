/**
 * The Cloud Logging entries the Vertex connector judges, as one Logging query: Vertex AI's audit entries, Cloud
 * Storage bucket IAM changes (shares of `model_buckets` / `training_buckets`), sink and `_Default`-sink exclusion
 * changes and Resource Manager IAM policies (audit logs narrowed: platform.audit_log_tampering), and Model Monitoring
 * anomalies. The README's Logging sink and `mltrail backfill vertex` read the same, so history is judged as live entries are.
 * Resource Manager names its method by API version (`SetIamPolicy`, `google.cloud.resourcemanager.v2.Folders.SetIamPolicy`):
 * hence `:` (has). OR binds tighter than AND in this language, hence the parentheses.
 *
 * @example
 * vertexLogSelection('my-ml-project') // 'protoPayload.serviceName="aiplatform.googleapis.com" OR … OR logName="projects/my-ml-project/logs/aiplatform.googleapis.com%2Fmodel_monitoring_anomaly"'
 */
export function vertexLogSelection(project: string): string {
  return [
    'protoPayload.serviceName="aiplatform.googleapis.com"',
    'protoPayload.methodName="storage.setIamPermissions"',
    ...['DeleteSink', 'UpdateSink', 'CreateExclusion', 'UpdateExclusion'].map((rpc) => `protoPayload.methodName="google.logging.v2.ConfigServiceV2.${rpc}"`),
    '(protoPayload.serviceName="cloudresourcemanager.googleapis.com" AND protoPayload.methodName:"SetIamPolicy")',
    `logName="projects/${project}/logs/aiplatform.googleapis.com%2Fmodel_monitoring_anomaly"`,
  ].join(' OR ');
}
