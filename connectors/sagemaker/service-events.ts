import { ACTIONS, type Action } from '../../core/schema/actions.js';
import { makeEvent, stableId, toRfc3339, type Stage } from '../../core/schema/index.js';
import { redactJobSecrets } from '../../core/secrets.js';
import type { RecordContext, RecordResult } from './cloudtrail.js';
import { lowerCamelKeys, modelPackageFromArn, packageMetadata, packageModelMetrics, sagemakerMl } from './facts.js';
import { arr, isObj, str, type Obj } from './util.js';

/**
 * SageMaker service events on EventBridge (`source: aws.sagemaker`, not
 * CloudTrail): training/processing/transform/tuning job, endpoint, model
 * package, pipeline execution… state changes (spec §3b).
 */

interface Kind {
  stage: Stage;
  family: string;
  type: string;
  statusKey: string;
}

const KINDS: Record<string, Kind> = {
  'SageMaker Training Job State Change': { stage: 'training', family: 'training_job', type: 'training_job', statusKey: 'trainingJobStatus' },
  'SageMaker HyperParameter Tuning Job State Change': { stage: 'training', family: 'tuning_job', type: 'hyper_parameter_tuning_job', statusKey: 'hyperParameterTuningJobStatus' },
  'SageMaker Processing Job State Change': { stage: 'preprocessing', family: 'processing_job', type: 'processing_job', statusKey: 'processingJobStatus' },
  'SageMaker Transform Job State Change': { stage: 'serving', family: 'transform_job', type: 'transform_job', statusKey: 'transformJobStatus' },
  'SageMaker Endpoint State Change': { stage: 'serving', family: 'endpoint', type: 'endpoint', statusKey: 'endpointStatus' },
  'SageMaker Endpoint Deployment State Change': { stage: 'serving', family: 'endpoint', type: 'endpoint', statusKey: 'endpointStatus' },
  'SageMaker Endpoint Config State Change': { stage: 'serving', family: 'endpoint_config', type: 'endpoint_config', statusKey: 'endpointConfigStatus' },
  'SageMaker Model State Change': { stage: 'serving', family: 'model', type: 'model', statusKey: 'modelStatus' },
  'SageMaker Model Package State Change': { stage: 'registry', family: 'model_version', type: 'model_package', statusKey: 'modelPackageStatus' },
  'SageMaker Model Card State Change': { stage: 'registry', family: 'resource', type: 'model_card', statusKey: 'modelCardStatus' },
  'SageMaker Model Building Pipeline Execution Status Change': { stage: 'training', family: 'pipeline_run', type: 'pipeline_execution', statusKey: 'currentPipelineExecutionStatus' },
  'SageMaker Model Building Pipeline Execution Step Status Change': { stage: 'training', family: 'pipeline_step', type: 'pipeline_execution', statusKey: 'currentStepStatus' },
  'SageMaker Monitoring Schedule State Change': { stage: 'serving', family: 'monitor', type: 'monitoring_schedule', statusKey: 'monitoringScheduleStatus' },
  'SageMaker Feature Group State Change': { stage: 'ingestion', family: 'feature_group', type: 'feature_group', statusKey: 'featureGroupStatus' },
  'SageMaker Ground Truth Labeling Job State Change': { stage: 'ingestion', family: 'resource', type: 'labeling_job', statusKey: 'labelingJobStatus' },
  'SageMaker Notebook Instance State Change': { stage: 'platform', family: 'notebook', type: 'notebook_instance', statusKey: 'notebookInstanceStatus' },
  'SageMaker Notebook Lifecycle Config State Change': { stage: 'platform', family: 'resource', type: 'notebook_instance_lifecycle_config', statusKey: 'status' },
  'SageMaker Algorithm State Change': { stage: 'training', family: 'resource', type: 'algorithm', statusKey: 'algorithmStatus' },
  'SageMaker Image State Change': { stage: 'platform', family: 'resource', type: 'image', statusKey: 'imageStatus' },
  'SageMaker Image Version State Change': { stage: 'platform', family: 'resource', type: 'image_version', statusKey: 'imageVersionStatus' },
};

const FAILED = /^(failed|failure|error|rolled_?back|update_rollback_failed)$/i;
const DONE = /^(completed|succeeded|in_?service)$/i;

function actionFor(kind: Kind, status: string | undefined): Action {
  const candidates = [
    status && FAILED.test(status) ? `${kind.family}.fail` : undefined,
    status && DONE.test(status) && kind.family !== 'endpoint' ? `${kind.family}.complete` : undefined,
    `${kind.family}.status_change`,
    `${kind.family}.update`,
    'resource.update',
  ];
  return candidates.find((a): a is Action => !!a && ACTIONS_SET.has(a))!;
}

const ACTIONS_SET: ReadonlySet<string> = new Set(ACTIONS);

/**
 * True for an EventBridge envelope of a SageMaker service event (not a CloudTrail one).
 *
 * @example
 * isSagemakerServiceEvent({ source: 'aws.sagemaker', 'detail-type': 'SageMaker Endpoint State Change', detail: {} }) // true
 */
export function isSagemakerServiceEvent(r: unknown): r is Obj {
  return isObj(r) && r.source === 'aws.sagemaker' && typeof r['detail-type'] === 'string' && !/via CloudTrail$/.test(r['detail-type'] as string) && isObj(r.detail);
}

/**
 * Normalize a SageMaker service event. Its id comes from the envelope's id
 * together with detail-type, resources and time: AWS's own examples reuse one
 * envelope id for two different events.
 *
 * @example
 * normalizeServiceEvent(envelope, ctx) // { event: { action: 'training_job.complete', … } }
 */
export function normalizeServiceEvent(env: Obj, ctx: RecordContext): RecordResult {
  const detailType = env['detail-type'] as string;
  const time = toRfc3339(env.time);
  if (!time) return { reject: `service event has no valid time (${JSON.stringify(env.time ?? null)})`, field: 'time' };
  const detail = lowerCamelKeys(env.detail) as Obj;
  const known = KINDS[detailType];
  const kind: Kind = known ?? { stage: 'platform', family: 'resource', type: 'sagemaker_resource', statusKey: 'status' };
  const status = str(detail[kind.statusKey]) ?? str(detail.status);
  const resources = arr(env.resources).map(String);
  const camel = kind.type.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const arn =
    str(detail[`${camel}Arn`]) ??
    resources.find((a) => a.includes(`:${kind.type.replace(/_/g, '-')}/`) || (kind.type === 'pipeline_execution' && a.includes('/execution/'))) ??
    resources[0];
  const pkg = modelPackageFromArn(arn);
  const name = str(detail[`${camel}Name`]) ?? (kind.type === 'model_package' ? str(detail.modelPackageGroupName) ?? pkg.group : undefined) ?? arn?.split('/').pop();
  const version = kind.type === 'model_package' ? pkg.version ?? (detail.modelPackageVersion !== undefined ? String(detail.modelPackageVersion) : undefined) : undefined;
  // The facts extractor keys on operation names; a detail-type reads like one ("…Training Job State Change").
  const opName = detailType.replace(/^SageMaker /, '').replace(/ (State|Status) Change$/, '').replace(/ /g, '');
  const ml = sagemakerMl(opName, detail);
  if (kind.family === 'endpoint') {
    ml.deployment = { ...(ml.deployment ?? {}), endpoint: str(detail.endpointName), endpoint_config: str(detail.endpointConfigName), status };
    const variants = arr(detail.productionVariants).filter(isObj);
    if (variants.length && !ml.deployment.variants) {
      ml.deployment.variants = variants.map((v) => ({ name: str(v.variantName), weight: v.desiredWeight ?? v.currentWeight, instance_count: v.desiredInstanceCount ?? v.currentInstanceCount }));
    }
  }
  if (ml.job) ml.job.status = status;
  if (ml.model) ml.model.status = status;
  if (kind.family === 'pipeline_run' || kind.family === 'pipeline_step') {
    ml.provenance = {
      ...(ml.provenance ?? {}),
      pipeline: str(detail.pipelineArn),
      run_id: str(detail.pipelineExecutionArn),
      pipeline_run: str(detail.pipelineExecutionArn),
      step: str(detail.stepName),
      status,
      previous_status: str(detail.previousPipelineExecutionStatus) ?? str(detail.previousStepStatus),
    };
  }
  const failed = status ? FAILED.test(status) : false;
  const event = makeEvent(
    {
      id: stableId('sagemaker', 'service_event', str(env.id), detailType, resources.join(','), str(env.time) ?? String(env.time ?? '')),
      time,
      received_time: ctx.receivedTime,
      platform: 'sagemaker',
      channel: ctx.channel,
      stage: kind.stage,
      action: actionFor(kind, status),
      operation: detailType,
      service: 'sagemaker.amazonaws.com',
      outcome: failed ? 'failure' : status ? 'success' : 'unknown',
      error: failed ? { code: status, message: str(detail.failureReason) } : undefined,
      actor: { type: 'service', name: 'sagemaker.amazonaws.com', id: 'sagemaker.amazonaws.com' },
      resource: { type: kind.type, id: arn, name, version },
      cloud: { provider: 'aws', account: str(env.account), region: str(env.region) },
      ml,
      details: { event_bridge_id: str(env.id), status, secondary_status: str(detail.secondaryStatus), failure_reason: str(detail.failureReason), metadata: kind.type === 'model_package' ? packageMetadata(detail) : undefined, model_metrics: kind.type === 'model_package' ? reportsOf(detail) : undefined },
    },
    // The detail's env and hyperparameters (a training job's state change) as sent: their secrets hidden.
    { raw: ctx.keepRaw === false ? undefined : redactJobSecrets(env), keepRaw: ctx.keepRaw },
  );
  return { event };
}

/** The package's evaluation reports (its `ModelMetrics`, as DescribeModelPackage shows them), or undefined. */
function reportsOf(detail: Obj) {
  const reports = packageModelMetrics(detail);
  return reports.length ? reports : undefined;
}
