import type { Action } from '../../core/schema/actions.js';
import type { Stage } from '../../core/schema/index.js';

/** Where a Vertex AI RPC sits in the ML pipeline and what it does, in catalogue terms. */
export interface MethodMapping {
  stage: Stage;
  action: Action;
  /** `resource.type` of the event (custom_job, endpoint, model…). */
  resource: string;
  /** True when matched by the RPC table; false when derived from the service default and the verb. */
  exact: boolean;
}

type Row = [Action, string];

/**
 * The RPCs of spec §2, keyed `Service.Rpc` (the version segment of
 * `google.cloud.aiplatform.{v1,v1beta1,internal}.` is ignored on lookup).
 */
const services: Record<string, { stage: Stage; resource: string; rpcs: Record<string, Row> }> = {
  // §2.1 ingestion
  DatasetService: {
    stage: 'ingestion',
    resource: 'dataset',
    rpcs: {
      CreateDataset: ['dataset.create', 'dataset'],
      UpdateDataset: ['dataset.update', 'dataset'],
      DeleteDataset: ['dataset.delete', 'dataset'],
      ImportData: ['dataset.import', 'dataset'],
      ExportData: ['dataset.export', 'dataset'],
      GetDataset: ['dataset.read', 'dataset'],
      ListDatasets: ['dataset.read', 'dataset'],
      ListDataItems: ['dataset.read', 'data_item'],
      SearchDataItems: ['dataset.read', 'data_item'],
      ListAnnotations: ['dataset.read', 'annotation'],
      GetAnnotationSpec: ['dataset.read', 'annotation_spec'],
      ListSavedQueries: ['dataset.read', 'saved_query'],
      DeleteSavedQuery: ['dataset.update', 'saved_query'],
      CreateDatasetVersion: ['dataset.create', 'dataset_version'],
      UpdateDatasetVersion: ['dataset.update', 'dataset_version'],
      DeleteDatasetVersion: ['dataset.delete', 'dataset_version'],
      RestoreDatasetVersion: ['dataset.update', 'dataset_version'],
      GetDatasetVersion: ['dataset.read', 'dataset_version'],
      ListDatasetVersions: ['dataset.read', 'dataset_version'],
    },
  },
  FeaturestoreService: {
    stage: 'ingestion',
    resource: 'featurestore',
    rpcs: {
      CreateFeaturestore: ['feature_group.create', 'featurestore'],
      UpdateFeaturestore: ['feature_group.update', 'featurestore'],
      DeleteFeaturestore: ['feature_group.delete', 'featurestore'],
      GetFeaturestore: ['feature_group.read', 'featurestore'],
      ListFeaturestores: ['feature_group.read', 'featurestore'],
      CreateEntityType: ['feature_group.create', 'entity_type'],
      UpdateEntityType: ['feature_group.update', 'entity_type'],
      DeleteEntityType: ['feature_group.delete', 'entity_type'],
      GetEntityType: ['feature_group.read', 'entity_type'],
      ListEntityTypes: ['feature_group.read', 'entity_type'],
      CreateFeature: ['feature_group.update', 'feature'],
      BatchCreateFeatures: ['feature_group.update', 'feature'],
      UpdateFeature: ['feature_group.update', 'feature'],
      DeleteFeature: ['feature_group.update', 'feature'],
      GetFeature: ['feature_group.read', 'feature'],
      ListFeatures: ['feature_group.read', 'feature'],
      SearchFeatures: ['feature_group.read', 'feature'],
      ImportFeatureValues: ['feature_record.write', 'entity_type'],
      ExportFeatureValues: ['feature_record.read', 'entity_type'],
      BatchReadFeatureValues: ['feature_record.read', 'featurestore'],
      DeleteFeatureValues: ['feature_record.delete', 'entity_type'],
    },
  },
  FeaturestoreOnlineServingService: {
    stage: 'ingestion',
    resource: 'entity_type',
    rpcs: {
      ReadFeatureValues: ['feature_record.read', 'entity_type'],
      StreamingReadFeatureValues: ['feature_record.read', 'entity_type'],
      WriteFeatureValues: ['feature_record.write', 'entity_type'],
    },
  },
  FeatureOnlineStoreAdminService: {
    stage: 'ingestion',
    resource: 'feature_online_store',
    rpcs: {
      CreateFeatureOnlineStore: ['feature_group.create', 'feature_online_store'],
      UpdateFeatureOnlineStore: ['feature_group.update', 'feature_online_store'],
      DeleteFeatureOnlineStore: ['feature_group.delete', 'feature_online_store'],
      GetFeatureOnlineStore: ['feature_group.read', 'feature_online_store'],
      ListFeatureOnlineStores: ['feature_group.read', 'feature_online_store'],
      CreateFeatureView: ['feature_group.create', 'feature_view'],
      UpdateFeatureView: ['feature_group.update', 'feature_view'],
      DeleteFeatureView: ['feature_group.delete', 'feature_view'],
      GetFeatureView: ['feature_group.read', 'feature_view'],
      ListFeatureViews: ['feature_group.read', 'feature_view'],
      SyncFeatureView: ['feature_record.write', 'feature_view'],
      GetFeatureViewSync: ['feature_group.read', 'feature_view'],
      ListFeatureViewSyncs: ['feature_group.read', 'feature_view'],
    },
  },
  FeatureOnlineStoreService: {
    stage: 'ingestion',
    resource: 'feature_view',
    rpcs: {
      FetchFeatureValues: ['feature_record.read', 'feature_view'],
      StreamingFetchFeatureValues: ['feature_record.read', 'feature_view'],
      SearchNearestEntities: ['feature_record.read', 'feature_view'],
      FeatureViewDirectWrite: ['feature_record.write', 'feature_view'],
      GenerateFetchAccessToken: ['credential.create', 'feature_view'],
    },
  },
  FeatureRegistryService: {
    stage: 'ingestion',
    resource: 'feature_group',
    rpcs: {
      CreateFeatureGroup: ['feature_group.create', 'feature_group'],
      UpdateFeatureGroup: ['feature_group.update', 'feature_group'],
      DeleteFeatureGroup: ['feature_group.delete', 'feature_group'],
      GetFeatureGroup: ['feature_group.read', 'feature_group'],
      ListFeatureGroups: ['feature_group.read', 'feature_group'],
      CreateFeature: ['feature_group.update', 'feature'],
      BatchCreateFeatures: ['feature_group.update', 'feature'],
      UpdateFeature: ['feature_group.update', 'feature'],
      DeleteFeature: ['feature_group.update', 'feature'],
      GetFeature: ['feature_group.read', 'feature'],
      ListFeatures: ['feature_group.read', 'feature'],
    },
  },
  // §2.2 preprocessing: lineage writes (and data labeling, which prepares training data)
  MetadataService: {
    stage: 'preprocessing',
    resource: 'metadata',
    rpcs: {
      CreateMetadataStore: ['resource.create', 'metadata_store'],
      DeleteMetadataStore: ['resource.delete', 'metadata_store'],
      CreateMetadataSchema: ['resource.create', 'metadata_schema'],
      CreateArtifact: ['artifact.create', 'artifact'],
      UpdateArtifact: ['artifact.write', 'artifact'],
      DeleteArtifact: ['artifact.delete', 'artifact'],
      PurgeArtifacts: ['artifact.delete', 'artifact'],
      CreateContext: ['experiment.create', 'context'],
      UpdateContext: ['experiment.update', 'context'],
      DeleteContext: ['experiment.delete', 'context'],
      PurgeContexts: ['experiment.delete', 'context'],
      CreateExecution: ['run.create', 'execution'],
      UpdateExecution: ['run.update', 'execution'],
      DeleteExecution: ['run.delete', 'execution'],
      PurgeExecutions: ['run.delete', 'execution'],
      AddContextArtifactsAndExecutions: ['run.provenance', 'context'],
      AddContextChildren: ['run.provenance', 'context'],
      RemoveContextChildren: ['run.provenance', 'context'],
      AddExecutionEvents: ['run.provenance', 'execution'],
      QueryContextLineageSubgraph: ['artifact.read', 'context'],
      QueryExecutionInputsAndOutputs: ['artifact.read', 'execution'],
      QueryArtifactLineageSubgraph: ['artifact.read', 'artifact'],
    },
  },
  // §2.3 training / orchestration (JobService also hosts labeling, batch prediction and monitoring jobs)
  JobService: {
    stage: 'training',
    resource: 'job',
    rpcs: {
      CreateCustomJob: ['training_job.create', 'custom_job'],
      CancelCustomJob: ['training_job.stop', 'custom_job'],
      DeleteCustomJob: ['training_job.delete', 'custom_job'],
      GetCustomJob: ['training_job.read', 'custom_job'],
      ListCustomJobs: ['training_job.read', 'custom_job'],
      CreateHyperparameterTuningJob: ['tuning_job.create', 'hyperparameter_tuning_job'],
      CancelHyperparameterTuningJob: ['tuning_job.stop', 'hyperparameter_tuning_job'],
      DeleteHyperparameterTuningJob: ['tuning_job.delete', 'hyperparameter_tuning_job'],
      GetHyperparameterTuningJob: ['tuning_job.read', 'hyperparameter_tuning_job'],
      ListHyperparameterTuningJobs: ['tuning_job.read', 'hyperparameter_tuning_job'],
      CreateNasJob: ['tuning_job.create', 'nas_job'],
      CancelNasJob: ['tuning_job.stop', 'nas_job'],
      DeleteNasJob: ['tuning_job.delete', 'nas_job'],
      GetNasJob: ['tuning_job.read', 'nas_job'],
      ListNasJobs: ['tuning_job.read', 'nas_job'],
    },
  },
  PipelineService: {
    stage: 'training',
    resource: 'pipeline_job',
    rpcs: {
      CreateTrainingPipeline: ['training_job.create', 'training_pipeline'],
      CancelTrainingPipeline: ['training_job.stop', 'training_pipeline'],
      DeleteTrainingPipeline: ['training_job.delete', 'training_pipeline'],
      GetTrainingPipeline: ['training_job.read', 'training_pipeline'],
      ListTrainingPipelines: ['training_job.read', 'training_pipeline'],
      CreatePipelineJob: ['pipeline_run.create', 'pipeline_job'],
      CancelPipelineJob: ['pipeline_run.stop', 'pipeline_job'],
      DeletePipelineJob: ['pipeline_run.delete', 'pipeline_job'],
      BatchCancelPipelineJobs: ['pipeline_run.stop', 'pipeline_job'],
      BatchDeletePipelineJobs: ['pipeline_run.delete', 'pipeline_job'],
      GetPipelineJob: ['pipeline_run.read', 'pipeline_job'],
      ListPipelineJobs: ['pipeline_run.read', 'pipeline_job'],
    },
  },
  ScheduleService: {
    stage: 'training',
    resource: 'schedule',
    rpcs: {
      CreateSchedule: ['recurring_run.create', 'schedule'],
      UpdateSchedule: ['recurring_run.update', 'schedule'],
      DeleteSchedule: ['recurring_run.delete', 'schedule'],
      PauseSchedule: ['recurring_run.disable', 'schedule'],
      ResumeSchedule: ['recurring_run.enable', 'schedule'],
      GetSchedule: ['recurring_run.read', 'schedule'],
      ListSchedules: ['recurring_run.read', 'schedule'],
    },
  },
  PersistentResourceService: {
    stage: 'training',
    resource: 'persistent_resource',
    rpcs: {
      CreatePersistentResource: ['resource.create', 'persistent_resource'],
      UpdatePersistentResource: ['resource.update', 'persistent_resource'],
      DeletePersistentResource: ['resource.delete', 'persistent_resource'],
      RebootPersistentResource: ['resource.other', 'persistent_resource'],
      GetPersistentResource: ['resource.read', 'persistent_resource'],
      ListPersistentResources: ['resource.list', 'persistent_resource'],
    },
  },
  GenAiTuningService: {
    stage: 'training',
    resource: 'tuning_job',
    rpcs: {
      CreateTuningJob: ['tuning_job.create', 'tuning_job'],
      CancelTuningJob: ['tuning_job.stop', 'tuning_job'],
      RebaseTunedModel: ['tuning_job.create', 'tuning_job'],
      GetTuningJob: ['tuning_job.read', 'tuning_job'],
      ListTuningJobs: ['tuning_job.read', 'tuning_job'],
    },
  },
  TensorboardService: {
    stage: 'training',
    resource: 'tensorboard',
    rpcs: {
      CreateTensorboard: ['experiment.create', 'tensorboard'],
      UpdateTensorboard: ['experiment.update', 'tensorboard'],
      DeleteTensorboard: ['experiment.delete', 'tensorboard'],
      CreateTensorboardExperiment: ['experiment.create', 'tensorboard_experiment'],
      UpdateTensorboardExperiment: ['experiment.update', 'tensorboard_experiment'],
      DeleteTensorboardExperiment: ['experiment.delete', 'tensorboard_experiment'],
      CreateTensorboardRun: ['run.create', 'tensorboard_run'],
      BatchCreateTensorboardRuns: ['run.create', 'tensorboard_run'],
      UpdateTensorboardRun: ['run.update', 'tensorboard_run'],
      DeleteTensorboardRun: ['run.delete', 'tensorboard_run'],
      CreateTensorboardTimeSeries: ['run.update', 'tensorboard_time_series'],
      BatchCreateTensorboardTimeSeries: ['run.update', 'tensorboard_time_series'],
      UpdateTensorboardTimeSeries: ['run.update', 'tensorboard_time_series'],
      DeleteTensorboardTimeSeries: ['run.update', 'tensorboard_time_series'],
      WriteTensorboardExperimentData: ['run.update', 'tensorboard_experiment'],
      WriteTensorboardRunData: ['run.update', 'tensorboard_run'],
      ReadTensorboardTimeSeriesData: ['run.read', 'tensorboard_time_series'],
      BatchReadTensorboardTimeSeriesData: ['run.read', 'tensorboard_time_series'],
      ReadTensorboardBlobData: ['run.read', 'tensorboard_time_series'],
      ReadTensorboardUsage: ['experiment.read', 'tensorboard'],
      ReadTensorboardSize: ['experiment.read', 'tensorboard'],
      ExportTensorboardTimeSeriesData: ['run.read', 'tensorboard_time_series'],
    },
  },
  NotebookService: {
    stage: 'training',
    resource: 'notebook_runtime',
    rpcs: {
      CreateNotebookRuntimeTemplate: ['notebook.create', 'notebook_runtime_template'],
      UpdateNotebookRuntimeTemplate: ['notebook.update', 'notebook_runtime_template'],
      DeleteNotebookRuntimeTemplate: ['notebook.delete', 'notebook_runtime_template'],
      AssignNotebookRuntime: ['notebook.create', 'notebook_runtime'],
      StartNotebookRuntime: ['notebook.start', 'notebook_runtime'],
      StopNotebookRuntime: ['notebook.stop', 'notebook_runtime'],
      UpgradeNotebookRuntime: ['notebook.update', 'notebook_runtime'],
      DeleteNotebookRuntime: ['notebook.delete', 'notebook_runtime'],
      CreateNotebookExecutionJob: ['training_job.create', 'notebook_execution_job'],
      DeleteNotebookExecutionJob: ['training_job.delete', 'notebook_execution_job'],
      GetNotebookRuntime: ['notebook.read', 'notebook_runtime'],
      ListNotebookRuntimes: ['notebook.read', 'notebook_runtime'],
    },
  },
  // §2.4 evaluation and §2.5 registry share ModelService
  ModelService: {
    stage: 'registry',
    resource: 'model',
    rpcs: {
      ImportModelEvaluation: ['evaluation.create', 'model_evaluation'],
      BatchImportModelEvaluationSlices: ['evaluation.update', 'model_evaluation_slice'],
      BatchImportEvaluatedAnnotations: ['evaluation.update', 'model_evaluation_slice'],
      GetModelEvaluation: ['evaluation.read', 'model_evaluation'],
      ListModelEvaluations: ['evaluation.read', 'model_evaluation'],
      GetModelEvaluationSlice: ['evaluation.read', 'model_evaluation_slice'],
      ListModelEvaluationSlices: ['evaluation.read', 'model_evaluation_slice'],
      UploadModel: ['model.upload', 'model'],
      UpdateModel: ['model.update', 'model'],
      DeleteModel: ['model.delete', 'model'],
      DeleteModelVersion: ['model_version.delete', 'model_version'],
      MergeVersionAliases: ['model_version.alias_set', 'model_version'],
      ExportModel: ['model.export', 'model'],
      CopyModel: ['model.copy', 'model'],
      UpdateExplanationDataset: ['model.update', 'model'],
      GetModel: ['model.read', 'model'],
      ListModels: ['model.read', 'model'],
      ListModelVersions: ['model.read', 'model'],
      ListModelVersionCheckpoints: ['model.read', 'model'],
    },
  },
  EvaluationService: {
    stage: 'evaluation',
    resource: 'evaluation',
    rpcs: { EvaluateInstances: ['evaluation.create', 'evaluation'], EvaluateDataset: ['evaluation.create', 'evaluation'] },
  },
  // §2.6 serving
  EndpointService: {
    stage: 'serving',
    resource: 'endpoint',
    rpcs: {
      CreateEndpoint: ['endpoint.create', 'endpoint'],
      UpdateEndpoint: ['endpoint.update', 'endpoint'],
      UpdateEndpointLongRunning: ['endpoint.update', 'endpoint'],
      DeleteEndpoint: ['endpoint.delete', 'endpoint'],
      DeployModel: ['endpoint.deploy', 'endpoint'],
      UndeployModel: ['endpoint.undeploy', 'endpoint'],
      MutateDeployedModel: ['endpoint.update', 'endpoint'],
      GetEndpoint: ['endpoint.read', 'endpoint'],
      ListEndpoints: ['endpoint.read', 'endpoint'],
    },
  },
  PredictionService: { stage: 'serving', resource: 'endpoint', rpcs: {} },
  LlmBidiService: { stage: 'serving', resource: 'endpoint', rpcs: {} },
  ModelGardenService: {
    stage: 'serving',
    resource: 'publisher_model',
    rpcs: {
      Deploy: ['endpoint.deploy', 'endpoint'],
      DeployPublisherModel: ['endpoint.deploy', 'endpoint'],
      GetPublisherModel: ['model.read', 'publisher_model'],
      ListPublisherModels: ['model.read', 'publisher_model'],
    },
  },
  // §2.7 Model Monitoring v2 (v1beta1): a ModelMonitor watches a model version; each monitoring job is one
  // run of it. Deleting a monitor or its job silences drift alerts on a served model (defence evasion).
  ModelMonitoringService: {
    stage: 'serving',
    resource: 'model_monitor',
    rpcs: {
      CreateModelMonitor: ['monitor.create', 'model_monitor'],
      UpdateModelMonitor: ['monitor.update', 'model_monitor'],
      DeleteModelMonitor: ['monitor.delete', 'model_monitor'],
      GetModelMonitor: ['monitor.read', 'model_monitor'],
      ListModelMonitors: ['monitor.read', 'model_monitor'],
      CreateModelMonitoringJob: ['monitor.start', 'model_monitoring_job'],
      DeleteModelMonitoringJob: ['monitor.delete', 'model_monitoring_job'],
      GetModelMonitoringJob: ['monitor.read', 'model_monitoring_job'],
      ListModelMonitoringJobs: ['monitor.read', 'model_monitoring_job'],
      SearchModelMonitoringStats: ['monitor.read', 'model_monitor'],
      SearchModelMonitoringAlerts: ['monitor.read', 'model_monitor'],
    },
  },
  // Agent Engine: a pickled object, source code or an image run by a managed runtime is a deployment (agent.ts).
  ReasoningEngineService: {
    stage: 'serving',
    resource: 'reasoning_engine',
    rpcs: {
      CreateReasoningEngine: ['endpoint.deploy', 'reasoning_engine'],
      UpdateReasoningEngine: ['endpoint.deploy', 'reasoning_engine'],
      DeleteReasoningEngine: ['endpoint.delete', 'reasoning_engine'],
      GetReasoningEngine: ['endpoint.read', 'reasoning_engine'],
      ListReasoningEngines: ['endpoint.read', 'reasoning_engine'],
    },
  },
  ReasoningEngineExecutionService: {
    stage: 'serving',
    resource: 'reasoning_engine',
    rpcs: { QueryReasoningEngine: ['endpoint.invoke', 'reasoning_engine'], StreamQueryReasoningEngine: ['endpoint.invoke', 'reasoning_engine'] },
  },
  DeploymentResourcePoolService: { stage: 'serving', resource: 'deployment_resource_pool', rpcs: {} },
  IndexEndpointService: {
    stage: 'serving',
    resource: 'index_endpoint',
    rpcs: {
      DeployIndex: ['endpoint.deploy', 'index_endpoint'],
      UndeployIndex: ['endpoint.undeploy', 'index_endpoint'],
      MutateDeployedIndex: ['endpoint.update', 'index_endpoint'],
    },
  },
  MatchService: { stage: 'serving', resource: 'index_endpoint', rpcs: {} },
  IndexService: {
    stage: 'ingestion',
    resource: 'index',
    rpcs: { UpsertDatapoints: ['feature_record.write', 'index'], RemoveDatapoints: ['feature_record.delete', 'index'] },
  },
};

/** Serving-side RPCs that run the model: each is one `endpoint.invoke`. */
const INVOKE_RPCS = new Set([
  'Predict', 'RawPredict', 'Explain', 'PredictLongRunning', 'FetchPredictOperation', 'StreamRawPredict', 'DirectPredict',
  'DirectRawPredict', 'StreamDirectPredict', 'StreamDirectRawPredict', 'StreamingPredict', 'ServerStreamingPredict',
  'StreamingRawPredict', 'GenerateContent', 'StreamGenerateContent', 'EmbedContent', 'CountTokens', 'ComputeTokens',
  'ChatCompletions', 'BidiGenerateContent', 'Invoke', 'FindNeighbors', 'ReadIndexDatapoints',
]);

/** Model monitoring jobs live on JobService but watch deployed endpoints: serving. */
const MONITORING: Record<string, Action> = {
  CreateModelDeploymentMonitoringJob: 'monitor.create',
  UpdateModelDeploymentMonitoringJob: 'monitor.update',
  DeleteModelDeploymentMonitoringJob: 'monitor.delete',
  PauseModelDeploymentMonitoringJob: 'monitor.stop',
  ResumeModelDeploymentMonitoringJob: 'monitor.start',
  GetModelDeploymentMonitoringJob: 'monitor.read',
  ListModelDeploymentMonitoringJobs: 'monitor.read',
  SearchModelDeploymentMonitoringStatsAnomalies: 'monitor.read',
};

/** JobService RPCs that are not training: labeling (preprocessing) and batch prediction (serving). */
function jobServiceExtras(rpc: string): MethodMapping | undefined {
  const verb = rpcVerb(rpc);
  if (/DataLabelingJob/.test(rpc)) {
    const action = (verb === 'stop' ? 'processing_job.stop' : verb === 'other' ? 'processing_job.update' : `processing_job.${verb === 'list' ? 'read' : verb}`) as Action;
    return { stage: 'preprocessing', action, resource: 'data_labeling_job', exact: true };
  }
  if (/BatchPredictionJob/.test(rpc)) {
    const action = (verb === 'list' ? 'transform_job.read' : verb === 'update' || verb === 'other' ? 'transform_job.status_change' : `transform_job.${verb}`) as Action;
    return { stage: 'serving', action, resource: 'batch_prediction_job', exact: true };
  }
  if (MONITORING[rpc]) return { stage: 'serving', action: MONITORING[rpc]!, resource: 'model_deployment_monitoring_job', exact: true };
  return undefined;
}

type Verb = 'create' | 'read' | 'list' | 'update' | 'delete' | 'stop' | 'other';

/** The verb of an RPC or REST-style method name (`CreateCustomJob`, `instances.insert`, `GetCluster`). */
export function rpcVerb(rpc: string): Verb {
  const last = (rpc.split('.').pop() ?? rpc).replace(/^Batch(?=[A-Z])/, '');
  const m = /^([A-Za-z][a-z]*)/.exec(last);
  const w = (m?.[1] ?? '').toLowerCase();
  if (['create', 'insert', 'add', 'upload', 'import', 'assign', 'write', 'put', 'post'].includes(w)) return 'create';
  if (['get', 'read', 'fetch', 'search', 'query', 'lookup', 'describe', 'export'].includes(w)) return 'read';
  if (w === 'list' || w === 'aggregated') return 'list';
  if (['update', 'patch', 'set', 'mutate', 'merge', 'modify', 'replace', 'restore', 'rebase', 'resume', 'start', 'upgrade'].includes(w)) return 'update';
  if (['delete', 'remove', 'purge', 'undeploy', 'destroy'].includes(w)) return 'delete';
  if (['cancel', 'stop', 'pause', 'suspend'].includes(w)) return 'stop';
  return 'other';
}

function genericAction(verb: Verb): Action {
  return verb === 'stop' ? 'resource.update' : (`resource.${verb}` as Action);
}

/** Split a methodName into service and RPC: `google.cloud.aiplatform.v1beta1.JobService.CreateCustomJob` → JobService, CreateCustomJob. */
export function splitMethod(methodName: string): { service?: string; rpc: string } {
  const parts = methodName.split('.');
  if (parts.length < 2) return { rpc: methodName };
  return { service: parts[parts.length - 2], rpc: parts[parts.length - 1]! };
}

/** True for `google.cloud.aiplatform.*` methodNames (any version segment). */
export function isVertexMethod(methodName: string): boolean {
  return /^google\.cloud\.aiplatform\./.test(methodName);
}

/** Stage from the collection path of a resource name, for calls not tied to a Vertex service (IAM, operations). */
export function stageFromResourceName(name: string | undefined): Stage | undefined {
  if (!name) return undefined;
  if (/\/(endpoints|reasoningEngines|indexEndpoints|modelDeploymentMonitoringJobs|modelMonitors|batchPredictionJobs|deploymentResourcePools)\//.test(`${name}/`)) return 'serving';
  if (/\/models\/[^/]+\/evaluations\//.test(`${name}/`)) return 'evaluation';
  if (/\/models\//.test(`${name}/`)) return 'registry';
  if (/\/(datasets|featurestores|featureOnlineStores|featureGroups|indexes)\//.test(`${name}/`)) return 'ingestion';
  if (/\/(dataLabelingJobs|metadataStores)\//.test(`${name}/`)) return 'preprocessing';
  if (/\/(customJobs|trainingPipelines|pipelineJobs|hyperparameterTuningJobs|nasJobs|tuningJobs|schedules|tensorboards|notebookRuntimes|persistentResources)\//.test(`${name}/`)) return 'training';
  return undefined;
}

/**
 * Map a Vertex AI methodName to stage, normalized action and resource type.
 * Matches on the `Service.Rpc` suffix, whatever the version segment.
 *
 * @example
 * mapVertexMethod('google.cloud.aiplatform.v1beta1.JobService.CreateCustomJob')
 * // { stage: 'training', action: 'training_job.create', resource: 'custom_job', exact: true }
 */
export function mapVertexMethod(methodName: string, resourceName?: string): MethodMapping {
  const { service, rpc } = splitMethod(methodName);
  if (rpc === 'SetIamPolicy' || rpc === 'GetIamPolicy' || rpc === 'TestIamPermissions') {
    return {
      stage: stageFromResourceName(resourceName) ?? 'platform',
      action: rpc === 'SetIamPolicy' ? 'permission.change' : 'permission.read',
      resource: 'iam_policy',
      exact: true,
    };
  }
  if (INVOKE_RPCS.has(rpc) && (service === 'PredictionService' || service === 'LlmBidiService' || service === 'MatchService' || !service || !services[service])) {
    return { stage: 'serving', action: rpc === 'FetchPredictOperation' ? 'endpoint.read' : 'endpoint.invoke', resource: 'endpoint', exact: true };
  }
  if (service === 'JobService') {
    const extra = jobServiceExtras(rpc);
    if (extra) return extra;
  }
  const svc = service ? services[service] : undefined;
  const row = svc?.rpcs[rpc];
  if (row && svc) {
    const evaluation = row[0].startsWith('evaluation.');
    return { stage: evaluation ? 'evaluation' : svc.stage, action: row[0], resource: row[1], exact: true };
  }
  const verb = rpcVerb(rpc);
  const stage = svc?.stage ?? stageFromResourceName(resourceName) ?? 'platform';
  return { stage, action: genericAction(verb), resource: svc?.resource ?? 'resource', exact: false };
}

/**
 * A generic mapping for audit entries of other Google services (Compute, GKE,
 * Storage, IAM…): stage platform, action from the method's verb; the few
 * identity-relevant calls get their specific action.
 */
export function mapOtherMethod(methodName: string): { stage: Stage; action: Action; resource: string } {
  const { rpc } = splitMethod(methodName);
  if (/^SetIamPolicy$/i.test(rpc) || /\.setIamPolicy$/i.test(methodName)) return { stage: 'platform', action: 'permission.change', resource: 'iam_policy' };
  if (/^GetIamPolicy$/i.test(rpc)) return { stage: 'platform', action: 'permission.read', resource: 'iam_policy' };
  if (/^(CreateServiceAccountKey|UploadServiceAccountKey)$/.test(rpc)) return { stage: 'platform', action: 'credential.create', resource: 'service_account_key' };
  if (/^DeleteServiceAccountKey$/.test(rpc)) return { stage: 'platform', action: 'credential.delete', resource: 'service_account_key' };
  if (/^(GenerateAccessToken|GenerateIdToken|SignBlob|SignJwt)$/.test(rpc)) return { stage: 'platform', action: 'service_account.token_create', resource: 'service_account' };
  if (/^CreateServiceAccount$/.test(rpc)) return { stage: 'platform', action: 'service_account.create', resource: 'service_account' };
  const verb = rpcVerb(rpc);
  return { stage: 'platform', action: genericAction(verb), resource: 'resource' };
}
