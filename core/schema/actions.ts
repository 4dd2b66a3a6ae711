/**
 * The catalogue of normalized actions (`resource.verb`). Every connector maps a
 * platform's native operation onto one of these so that rules can match
 * "an approval" or "a deployment" whatever platform it came from.
 * Append only: alerts, saved searches and checks rely on these strings.
 */
const catalogue = {
  // Model registry
  registered_model: ['create', 'read', 'update', 'rename', 'delete', 'tag_set', 'tag_delete', 'alias_set', 'alias_delete'],
  model_version: [
    'create', 'read', 'update', 'delete', 'approve', 'reject', 'stage_transition', 'status_change',
    'tag_set', 'tag_delete', 'alias_set', 'alias_delete', 'description_change', 'source_change',
    'hash_registered', 'hash_verified', 'hash_mismatch', 'export', 'copy', 'attest',
    // Databricks registry: stage-transition requests and comments (mlflow connector)
    'transition_request', 'comment',
  ],
  model: ['create', 'read', 'update', 'delete', 'upload', 'export', 'copy'],
  model_package_group: ['create', 'read', 'update', 'delete'],
  prompt: ['create', 'read', 'update', 'delete', 'tag_set', 'tag_delete', 'alias_set', 'alias_delete'],
  prompt_version: ['create', 'read', 'delete', 'tag_set', 'tag_delete'],
  budget_policy: ['create', 'update', 'delete', 'exceeded'],
  // Experiments and runs
  experiment: ['create', 'read', 'update', 'delete'],
  run: ['create', 'read', 'update', 'delete', 'provenance'],
  // Jobs
  training_job: ['create', 'read', 'update', 'stop', 'delete', 'status_change', 'complete', 'fail'],
  processing_job: ['create', 'read', 'update', 'stop', 'delete', 'status_change', 'complete', 'fail'],
  transform_job: ['create', 'read', 'stop', 'delete', 'status_change', 'complete', 'fail'],
  tuning_job: ['create', 'read', 'stop', 'delete', 'status_change', 'complete', 'fail'],
  evaluation: ['create', 'read', 'update', 'delete', 'complete', 'metrics'],
  // Pipelines
  pipeline: ['create', 'read', 'update', 'delete'],
  pipeline_version: ['create', 'read', 'delete'],
  pipeline_run: ['create', 'read', 'start', 'stop', 'retry', 'delete', 'archive', 'status_change', 'complete', 'fail'],
  pipeline_step: ['start', 'complete', 'fail', 'cached', 'status_change'],
  recurring_run: ['create', 'read', 'update', 'delete', 'enable', 'disable'],
  // Monitoring
  monitor: ['create', 'read', 'update', 'delete', 'start', 'stop', 'violation', 'anomaly'],
  // Serving
  endpoint: ['create', 'read', 'update', 'delete', 'deploy', 'undeploy', 'traffic_change', 'status_change', 'invoke'],
  endpoint_config: ['create', 'read', 'delete'],
  // Data
  dataset: ['create', 'read', 'update', 'delete', 'import', 'export'],
  feature_group: ['create', 'read', 'update', 'delete'],
  feature_record: ['read', 'write', 'delete'],
  artifact: ['create', 'read', 'write', 'delete', 'produce', 'consume'],
  data_object: ['read', 'write', 'delete', 'copy'],
  image: ['push', 'pull', 'delete', 'read'],
  // Access control and platform
  permission: ['change', 'read'],
  role: ['assume', 'create', 'update', 'delete', 'read'],
  role_binding: ['create', 'update', 'delete', 'read'],
  secret: ['create', 'read', 'update', 'delete'],
  service_account: ['create', 'update', 'delete', 'read', 'token_create'],
  credential: ['create', 'delete', 'read'],
  pod: ['create', 'read', 'update', 'delete', 'exec', 'attach', 'portforward'],
  notebook: ['create', 'read', 'update', 'delete', 'start', 'stop', 'open'],
  namespace: ['create', 'read', 'update', 'delete'],
  workload: ['create', 'read', 'update', 'delete'],
  // The platform's own audit log (a CloudTrail trail): switched off, deleted, narrowed.
  audit_log: ['create', 'update', 'disable', 'enable', 'delete'],
  // Generic fallback for operations without a specific mapping: verb of the native call.
  resource: ['create', 'read', 'list', 'update', 'delete', 'invoke', 'tag_set', 'tag_delete', 'other'],
  // Telemetry about the pipeline's own inputs
  ingest: ['auth_failure'],
  source: ['auth_failure', 'unavailable', 'recovered'],
  auth: ['failure', 'login'],
} as const;

type Catalogue = typeof catalogue;
export type Action = { [R in keyof Catalogue]: `${R & string}.${Catalogue[R][number]}` }[keyof Catalogue];

/** Every action string, sorted. */
export const ACTIONS: readonly Action[] = Object.entries(catalogue)
  .flatMap(([resource, verbs]) => (verbs as readonly string[]).map((v) => `${resource}.${v}` as Action))
  .sort();

const actionSet: ReadonlySet<string> = new Set(ACTIONS);

/** True when `s` is a catalogued action. */
export function isAction(s: string): s is Action {
  return actionSet.has(s);
}
