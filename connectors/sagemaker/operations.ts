import { isAction, type Action } from '../../core/schema/actions.js';
import type { Stage } from '../../core/schema/index.js';
import { arr } from './util.js';
import { evaluationStepOf } from './evaluation-step.js';

/**
 * SageMaker API operation → pipeline stage and normalized action.
 *
 * An eventName is split into a verb (Create, Describe, Stop…) and a resource
 * noun (TrainingJob, Endpoint…). The noun gives the stage and the action's
 * resource family (spec §2.1–2.8); the verb gives the action's verb. A few
 * operations carry more meaning than their verb (an approval, a deployment)
 * and are special-cased. Anything unknown still normalizes: stage platform,
 * `resource.<verb>`.
 */
export interface OperationClass {
  stage: Stage;
  action: Action;
  /** Resource type for `resource.type` (snake case of the noun). */
  resourceType: string;
  /** Request parameters naming the resource, first present wins (e.g. `trainingJobName`); `a[].b` reads every element of array `a`. */
  nameKeys: string[];
  /** The resource-type segment of its ARN (`…:sagemaker:<region>:<acct>:<arnType>/<name>`). */
  arnType: string;
  /** Request parameter whose value scopes the name in the ARN (`user-profile/<domainId>/<name>`). */
  arnScope?: string;
  readOnly: boolean;
}

interface Noun {
  stage: Stage;
  /** Action family in the catalogue; falls back to `resource` when the verb is not catalogued for it. */
  family: string;
  type: string;
  /** Request parameters naming the resource when they are not `<noun>Name` (botocore member names, lower-camel). */
  names?: string[];
  /** ARN resource type when it is not the kebab form of `type`. */
  arnType?: string;
  arnScope?: string;
}

/** Longest nouns first so `PipelineExecution` wins over `Pipeline`. */
const NOUNS: Array<[string, Noun]> = (
  [
    // Ingestion & labeling
    ['FeatureGroup', { stage: 'ingestion', family: 'feature_group', type: 'feature_group' }],
    ['FeatureMetadata', { stage: 'ingestion', family: 'feature_group', type: 'feature_group', names: ['featureGroupName'] }],
    ['Record', { stage: 'ingestion', family: 'feature_record', type: 'feature_group', names: ['featureGroupName', 'identifiers[].featureGroupName'] }],
    ['LabelingJob', { stage: 'ingestion', family: 'resource', type: 'labeling_job' }],
    ['Workteam', { stage: 'ingestion', family: 'resource', type: 'workteam' }],
    ['Workforce', { stage: 'ingestion', family: 'resource', type: 'workforce' }],
    ['HumanTaskUi', { stage: 'ingestion', family: 'resource', type: 'human_task_ui' }],
    ['DataQualityJobDefinition', { stage: 'serving', family: 'monitor', type: 'monitoring_job_definition', names: ['jobDefinitionName'], arnType: 'data-quality-job-definition' }],
    // Preprocessing
    ['ProcessingJob', { stage: 'preprocessing', family: 'processing_job', type: 'processing_job' }],
    // Training
    ['TrainingJob', { stage: 'training', family: 'training_job', type: 'training_job' }],
    ['HyperParameterTuningJob', { stage: 'training', family: 'tuning_job', type: 'hyper_parameter_tuning_job' }],
    ['TrainingJobsForHyperParameterTuningJob', { stage: 'training', family: 'tuning_job', type: 'hyper_parameter_tuning_job', names: ['hyperParameterTuningJobName'] }],
    ['AutoMLJob', { stage: 'training', family: 'training_job', type: 'automl_job', names: ['autoMLJobName'] }],
    ['AutoMLJobV2', { stage: 'training', family: 'training_job', type: 'automl_job', names: ['autoMLJobName'] }],
    ['CandidatesForAutoMLJob', { stage: 'training', family: 'training_job', type: 'automl_job', names: ['autoMLJobName'] }],
    ['Algorithm', { stage: 'training', family: 'resource', type: 'algorithm' }],
    ['Pipeline', { stage: 'training', family: 'pipeline', type: 'pipeline' }],
    ['PipelineDefinitionForExecution', { stage: 'training', family: 'pipeline_run', type: 'pipeline_execution' }],
    ['PipelineExecution', { stage: 'training', family: 'pipeline_run', type: 'pipeline_execution' }],
    ['PipelineExecutionSteps', { stage: 'training', family: 'pipeline_run', type: 'pipeline_execution' }],
    ['PipelineParametersForExecution', { stage: 'training', family: 'pipeline_run', type: 'pipeline_execution' }],
    ['PipelineExecutionStepSuccess', { stage: 'training', family: 'pipeline_step', type: 'pipeline_execution' }],
    ['PipelineExecutionStepFailure', { stage: 'training', family: 'pipeline_step', type: 'pipeline_execution' }],
    ['Experiment', { stage: 'training', family: 'experiment', type: 'experiment' }],
    ['Trial', { stage: 'training', family: 'run', type: 'trial' }],
    ['TrialComponent', { stage: 'training', family: 'run', type: 'trial_component' }],
    ['TrainingPlan', { stage: 'training', family: 'resource', type: 'training_plan' }],
    // A HyperPod cluster: training infrastructure whose nodes run its lifecycle scripts as root.
    ['Cluster', { stage: 'training', family: 'resource', type: 'cluster', names: ['clusterName'] }],
    ['ClusterSchedulerConfig', { stage: 'training', family: 'resource', type: 'cluster_scheduler_config', names: ['name'] }],
    ['ComputeQuota', { stage: 'training', family: 'resource', type: 'compute_quota' }],
    // Evaluation
    ['InferenceRecommendationsJob', { stage: 'evaluation', family: 'evaluation', type: 'inference_recommendations_job', names: ['jobName'] }],
    ['InferenceRecommendationsJobSteps', { stage: 'evaluation', family: 'evaluation', type: 'inference_recommendations_job', names: ['jobName'] }],
    ['InferenceExperiment', { stage: 'evaluation', family: 'evaluation', type: 'inference_experiment', names: ['name'] }],
    ['EvaluationJob', { stage: 'evaluation', family: 'evaluation', type: 'evaluation_job' }],
    ['ModelQualityJobDefinition', { stage: 'serving', family: 'monitor', type: 'monitoring_job_definition', names: ['jobDefinitionName'], arnType: 'model-quality-job-definition' }],
    ['ModelBiasJobDefinition', { stage: 'serving', family: 'monitor', type: 'monitoring_job_definition', names: ['jobDefinitionName'], arnType: 'model-bias-job-definition' }],
    ['ModelExplainabilityJobDefinition', { stage: 'serving', family: 'monitor', type: 'monitoring_job_definition', names: ['jobDefinitionName'], arnType: 'model-explainability-job-definition' }],
    // Monitoring of deployed endpoints
    ['MonitoringSchedule', { stage: 'serving', family: 'monitor', type: 'monitoring_schedule' }],
    ['MonitoringExecution', { stage: 'serving', family: 'monitor', type: 'monitoring_schedule', names: ['monitoringScheduleName'] }],
    ['MonitoringAlert', { stage: 'serving', family: 'monitor', type: 'monitoring_schedule', names: ['monitoringScheduleName'] }],
    ['MonitoringAlertHistory', { stage: 'serving', family: 'monitor', type: 'monitoring_schedule', names: ['monitoringScheduleName'] }],
    // Registry
    ['ModelPackage', { stage: 'registry', family: 'model_version', type: 'model_package' }],
    // A private hub's model (ImportHubContent…): named by the content's name, not its version (the ARN's last part).
    ['HubContent', { stage: 'platform', family: 'resource', type: 'hub_content', names: ['hubContentName'] }],
    ['ModelPackageGroup', { stage: 'registry', family: 'model_package_group', type: 'model_package_group' }],
    ['ModelPackageGroupPolicy', { stage: 'registry', family: 'permission', type: 'model_package_group' }],
    ['ModelCard', { stage: 'registry', family: 'resource', type: 'model_card' }],
    ['ModelCardExportJob', { stage: 'registry', family: 'resource', type: 'model_card' }],
    ['ModelMetadata', { stage: 'registry', family: 'model', type: 'model' }],
    // Serving
    ['Model', { stage: 'serving', family: 'model', type: 'model' }],
    ['Endpoint', { stage: 'serving', family: 'endpoint', type: 'endpoint' }],
    ['EndpointConfig', { stage: 'serving', family: 'endpoint_config', type: 'endpoint_config' }],
    ['EndpointWeightsAndCapacities', { stage: 'serving', family: 'endpoint', type: 'endpoint', names: ['endpointName'] }],
    ['InferenceComponent', { stage: 'serving', family: 'endpoint', type: 'inference_component' }],
    ['InferenceComponentRuntimeConfig', { stage: 'serving', family: 'endpoint', type: 'inference_component', names: ['inferenceComponentName'] }],
    ['TransformJob', { stage: 'serving', family: 'transform_job', type: 'transform_job' }],
    ['CompilationJob', { stage: 'serving', family: 'resource', type: 'compilation_job' }],
    ['OptimizationJob', { stage: 'serving', family: 'resource', type: 'optimization_job' }],
    ['EdgePackagingJob', { stage: 'serving', family: 'resource', type: 'edge_packaging_job' }],
    ['EdgeDeploymentPlan', { stage: 'serving', family: 'resource', type: 'edge_deployment_plan' }],
    ['DeviceFleet', { stage: 'serving', family: 'resource', type: 'device_fleet' }],
    // Cross-stage development environment and account (spec §2.8) → platform
    ['NotebookInstance', { stage: 'platform', family: 'notebook', type: 'notebook_instance' }],
    ['NotebookInstanceLifecycleConfig', { stage: 'platform', family: 'resource', type: 'notebook_instance_lifecycle_config' }],
    ['StudioLifecycleConfig', { stage: 'platform', family: 'resource', type: 'studio_lifecycle_config' }],
    ['PresignedNotebookInstanceUrl', { stage: 'platform', family: 'notebook', type: 'notebook_instance', names: ['notebookInstanceName'] }],
    ['PresignedDomainUrl', { stage: 'platform', family: 'notebook', type: 'domain', names: ['domainId'] }],
    ['PresignedMlflowTrackingServerUrl', { stage: 'platform', family: 'notebook', type: 'mlflow_tracking_server', names: ['trackingServerName'] }],
    ['Domain', { stage: 'platform', family: 'resource', type: 'domain', names: ['domainId', 'domainName'] }],
    ['UserProfile', { stage: 'platform', family: 'resource', type: 'user_profile', arnScope: 'domainId' }],
    ['Space', { stage: 'platform', family: 'resource', type: 'space', arnScope: 'domainId' }],
    ['App', { stage: 'platform', family: 'resource', type: 'app' }],
    ['CodeRepository', { stage: 'platform', family: 'resource', type: 'code_repository' }],
    ['Project', { stage: 'platform', family: 'resource', type: 'project' }],
    ['Image', { stage: 'platform', family: 'resource', type: 'image' }],
    ['ImageVersion', { stage: 'platform', family: 'resource', type: 'image_version' }],
    ['Tags', { stage: 'platform', family: 'resource', type: 'tags' }],
    ['MlflowTrackingServer', { stage: 'platform', family: 'resource', type: 'mlflow_tracking_server', names: ['trackingServerName'] }],
    // SageMaker's serverless MLflow Apps (CreateMlflowApp…): named by ARN (`…:mlflow-app/<id>`) after their creation.
    ['MlflowApp', { stage: 'platform', family: 'resource', type: 'mlflow_app', names: ['arn', 'name'] }],
    ['PresignedMlflowAppUrl', { stage: 'platform', family: 'notebook', type: 'mlflow_app', names: ['arn'] }],
  ] as Array<[string, Noun]>
).sort((a, b) => b[0].length - a[0].length);

/** Verb prefixes of SageMaker operation names, longest first. */
const VERBS = [
  'BatchDescribe', 'BatchGet', 'BatchDelete', 'BatchPut', 'BatchWrite', 'Describe', 'List', 'Get', 'Search', 'Query',
  'Create', 'Update', 'Put', 'Delete', 'Stop', 'Start', 'Retry', 'Send', 'Add', 'Remove', 'Associate', 'Disassociate',
  'Register', 'Deregister', 'Enable', 'Disable', 'Import', 'Export', 'Invoke', 'Render', 'Attach', 'Detach', 'Restart',
].sort((a, b) => b.length - a.length);

const READ_VERBS = new Set(['BatchDescribe', 'BatchGet', 'Describe', 'List', 'Get', 'Search', 'Query', 'Render']);

/** The catalogued verb a native verb means, per action family. */
function verbFor(nativeVerb: string): string {
  switch (nativeVerb) {
    case 'Create': case 'Register': case 'Import': return 'create';
    case 'Update': case 'Put': case 'Associate': case 'Disassociate': case 'Enable': case 'Disable': case 'Attach': case 'Detach': return 'update';
    case 'Delete': case 'BatchDelete': case 'Remove': case 'Deregister': return 'delete';
    case 'Stop': return 'stop';
    case 'Start': case 'Restart': return 'start';
    case 'Retry': return 'retry';
    case 'Invoke': return 'invoke';
    case 'Export': return 'export';
    case 'Add': return 'update';
    default: return READ_VERBS.has(nativeVerb) ? 'read' : 'other';
  }
}

/** The generic `resource.*` verb for an operation without a catalogued family verb. */
function genericVerb(nativeVerb: string): string {
  if (nativeVerb === 'List' || nativeVerb === 'Search' || nativeVerb === 'Query') return 'list';
  const v = verbFor(nativeVerb);
  return isAction(`resource.${v}`) ? v : 'other';
}

/**
 * Split an operation name into its verb and resource noun.
 *
 * @example
 * splitOperation('CreateTrainingJob') // { verb: 'Create', noun: 'TrainingJob' }
 */
export function splitOperation(eventName: string): { verb: string; noun: string } {
  const verb = VERBS.find((v) => eventName.startsWith(v) && eventName.length > v.length && /[A-Z]/.test(eventName[v.length]!));
  return verb ? { verb, noun: eventName.slice(verb.length) } : { verb: '', noun: eventName };
}

/** Exact noun, plural `s` and `es` forms → the first NOUNS entry they name (built once, same answer as a scan). */
const NOUN_FORMS = new Map<string, [string, Noun]>();
for (const entry of NOUNS) for (const form of [entry[0], `${entry[0]}s`, `${entry[0]}es`]) if (!NOUN_FORMS.has(form)) NOUN_FORMS.set(form, entry);

function findNoun(noun: string): [string, Noun] | undefined {
  const exact = NOUN_FORMS.get(noun);
  if (exact) return exact;
  // `ListTrainingJobsForHyperParameterTuningJob`-style names: the longest known noun prefix.
  return NOUNS.find(([n]) => noun.startsWith(n));
}

function lowerFirst(s: string): string {
  return s ? s[0]!.toLowerCase() + s.slice(1) : s;
}

/**
 * Classify a SageMaker CloudTrail operation. `params` are its lower-camel
 * requestParameters (they decide approvals and evaluation jobs).
 *
 * @example
 * classifySagemakerOperation('CreateTrainingJob', {}) // { stage: 'training', action: 'training_job.create', … }
 */
export function classifySagemakerOperation(eventName: string, params: Record<string, unknown> = {}): OperationClass {
  const { verb, noun } = splitOperation(eventName);
  const readOnly = READ_VERBS.has(verb);
  const special = specialCases(eventName, params);
  const found = findNoun(noun);
  const n: Noun = found?.[1] ?? { stage: 'platform', family: 'resource', type: snake(noun || eventName) };
  // The request names its resource `<noun>Name` unless the noun's entry says otherwise (spec §2.1–2.8).
  const names = { nameKeys: n.names ?? (found ? [`${lowerFirst(found[0])}Name`] : []), arnType: n.arnType ?? n.type.replace(/_/g, '-'), arnScope: n.arnScope };
  if (special) return { resourceType: n.type, ...names, readOnly, ...special };
  const v = verbFor(verb);
  const familyAction = `${n.family}.${v}`;
  const action = (isAction(familyAction) ? familyAction : `resource.${genericVerb(verb)}`) as Action;
  return { stage: n.stage, action, resourceType: n.type, ...names, readOnly };
}

const ANALYZER_IMAGE = /sagemaker-model-monitor-analyzer|sagemaker-clarify-processing/i;

function specialCases(eventName: string, params: Record<string, unknown>): Pick<OperationClass, 'stage' | 'action'> | undefined {
  switch (eventName) {
    case 'CreateEndpoint':
    case 'UpdateEndpoint':
      return { stage: 'serving', action: 'endpoint.deploy' };
    case 'DeleteEndpoint':
      return { stage: 'serving', action: 'endpoint.undeploy' };
    case 'UpdateEndpointWeightsAndCapacities':
      return { stage: 'serving', action: 'endpoint.traffic_change' };
    case 'CreateInferenceComponent':
    case 'UpdateInferenceComponent':
      return { stage: 'serving', action: 'endpoint.deploy' };
    // A shadow test deploys its shadow variants onto a live endpoint (each gets a copy of production
    // requests), and stopping it with `Promote` makes a shadow variant serve production: both put a model
    // on the endpoint, as an UpdateEndpoint does.
    case 'CreateInferenceExperiment':
    case 'UpdateInferenceExperiment':
      return arr(params.modelVariants).length ? { stage: 'serving', action: 'endpoint.deploy' } : undefined;
    case 'StopInferenceExperiment':
      return promotedVariants(params).length ? { stage: 'serving', action: 'endpoint.deploy' } : undefined;
    case 'InvokeEndpoint':
    case 'InvokeEndpointAsync':
    case 'InvokeEndpointWithResponseStream':
      return { stage: 'serving', action: 'endpoint.invoke' };
    case 'PutRecord':
    case 'BatchWriteRecord':
      return { stage: 'ingestion', action: 'feature_record.write' };
    case 'GetRecord':
    case 'BatchGetRecord':
    case 'ListRecords':
      return { stage: 'ingestion', action: 'feature_record.read' };
    case 'DeleteRecord':
      return { stage: 'ingestion', action: 'feature_record.delete' };
    case 'UpdateModelPackage':
    case 'CreateModelPackage': {
      const status = params.modelApprovalStatus;
      if (eventName === 'UpdateModelPackage') {
        if (status === 'Approved') return { stage: 'registry', action: 'model_version.approve' };
        if (status === 'Rejected') return { stage: 'registry', action: 'model_version.reject' };
        if (status === 'PendingManualApproval') return { stage: 'registry', action: 'model_version.status_change' };
        return { stage: 'registry', action: 'model_version.update' };
      }
      return { stage: 'registry', action: 'model_version.create' };
    }
    case 'PutModelPackageGroupPolicy':
    case 'DeleteModelPackageGroupPolicy':
      return { stage: 'registry', action: 'permission.change' };
    case 'GetModelPackageGroupPolicy':
      return { stage: 'registry', action: 'permission.read' };
    case 'StartPipelineExecution':
      return { stage: 'training', action: 'pipeline_run.start' };
    case 'SendPipelineExecutionStepSuccess':
      return { stage: 'training', action: 'pipeline_step.complete' };
    case 'SendPipelineExecutionStepFailure':
      return { stage: 'training', action: 'pipeline_step.fail' };
    case 'CreatePresignedNotebookInstanceUrl':
    case 'CreatePresignedDomainUrl':
    case 'CreatePresignedMlflowTrackingServerUrl':
    case 'CreatePresignedMlflowAppUrl':
      return { stage: 'platform', action: 'notebook.open' };
    case 'AddTags':
      return { stage: 'platform', action: 'resource.tag_set' };
    case 'DeleteTags':
      return { stage: 'platform', action: 'resource.tag_delete' };
    case 'CreateProcessingJob': {
      // Model Monitor baselines and Clarify bias/explainability analyses run as processing jobs.
      const image = (params.appSpecification as { imageUri?: unknown } | undefined)?.imageUri;
      if (typeof image === 'string' && ANALYZER_IMAGE.test(image)) return { stage: 'evaluation', action: 'processing_job.create' };
      // A pipeline's evaluation step (its `evaluation` output, a step named for it): the job that scores the model.
      if (evaluationStepOf(params)) return { stage: 'evaluation', action: 'processing_job.create' };
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The variants a StopInferenceExperiment promotes to production (`modelVariantActions` maps a variant name to
 * `Promote`, `Remove` or `Retain`).
 *
 * @example
 * promotedVariants({ modelVariantActions: { shadow: 'Promote', prod: 'Remove' } }) // ['shadow']
 */
export function promotedVariants(params: Record<string, unknown>): string[] {
  const actions = params.modelVariantActions;
  if (!actions || typeof actions !== 'object' || Array.isArray(actions)) return [];
  return Object.entries(actions as Record<string, unknown>).filter(([, a]) => a === 'Promote').map(([v]) => v);
}

export function snake(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2').toLowerCase();
}
