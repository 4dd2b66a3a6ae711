import { describe, expect, it } from 'vitest';
import { normalizeInput } from '../../../bridge/normalize.js';
import { replayEvents } from '../../../bridge/replay.js';
import { encodeAuditLogAny, decodeAuditLogAny } from '../../../connectors/vertex/audit-proto.js';
import { fromGrpcEntry } from '../../../connectors/vertex/backfill-grpc.js';
import { VertexConfig } from '../../../connectors/vertex/config.js';
import { vertexConnector } from '../../../connectors/vertex/index.js';
import { canonicalTimestamp } from '../../../connectors/vertex/logentry.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { approvalOf } from '../../../core/rules/facts.js';
import { listFixtures, readFixture, readFixtureJson } from '../../helpers/fixtures.js';
import { DIGEST, LOC, PROJECT, V1, V1B, auditEntry, deepEntryJson, ctx, normOne } from './samples.js';

const one = normOne;

const cfg = { connectors: {}, spool: { keep_raw: true } } as never;

describe('vertex fixtures through the CLI normalize path', () => {
  const expected: Record<string, { stage: string; action: string; outcome: string; actor?: Record<string, unknown>; rejected?: RegExp }> = {
    'cloudevents-LogEntryData-bigqueryjobcompleted.json': {
      stage: 'platform', action: 'resource.other', outcome: 'success',
      actor: { email: 'robot@test-project.iam.gserviceaccount.com', type: 'service', ip: '2620:15c:0:200:1a75:e914:115b:e970' },
    },
    'cloudevents-LogEntryData-monitoringCreateTimeSeries.json': {
      stage: 'platform', action: 'resource.create', outcome: 'success',
      // spec §7: principalEmail first; the subject (`user:…`) stays in details.principal_subject.
      actor: { email: 'robot@test-project.iam.gserviceaccount.com', id: 'robot@test-project.iam.gserviceaccount.com', user_agent: 'google-cloud-sdk357.0.0 (gzip),gzip(gfe)' },
    },
    'cloudevents-LogEntryData-pubsubCreateTopic.json': {
      stage: 'platform', action: 'resource.create', outcome: 'success',
      actor: {
        email: 'robot@test-project.iam.gserviceaccount.com', ip: '192.168.0.1',
        key_id: '//iam.googleapis.com/projects/test-project/serviceAccounts/robot@test-project.iam.gserviceaccount.com/keys/90f662482321f1ca8e82ea675b1a1c30c1fe681f',
      },
    },
    'cloudevents-MessagePublishedData-duplicatedFields.json': { stage: '', action: '', outcome: '', rejected: /message\.data: Pub\/Sub message data does not decode to a LogEntry: invalid JSON \(first bytes 0x01020304\)/ },
    'loki-gcplog-push-envelope.json': { stage: 'platform', action: 'resource.other', outcome: 'unknown' },
    'otel-auditlog-activity.json': {
      stage: 'platform', action: 'resource.update', outcome: 'success',
      actor: { name: 'system:gcp-controller-manager', type: 'system', ip: '172.16.0.3' },
    },
    'otel-auditlog-data_access.json': {
      stage: 'platform', action: 'resource.read', outcome: 'success',
      actor: { email: 'service-8560181848@container-engine-robot.iam.gserviceaccount.com', type: 'system', ip: '34.29.77.17' },
    },
    'otel-auditlog-policy.json': { stage: 'platform', action: 'resource.read', outcome: 'failure', actor: { type: 'unknown', ip: '192.168.1.1' } },
    'otel-auditlog-system_event.json': { stage: 'platform', action: 'resource.other', outcome: 'success', actor: { email: 'system@google.com', type: 'system' } },
    'vertex-model-monitoring-anomaly-doc-example.json': { stage: 'preprocessing', action: 'monitor.anomaly', outcome: 'success' },
  };

  it('has an expectation for every fixture file', () => {
    expect(listFixtures('vertex').sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [file, want] of Object.entries(expected)) {
    for (const platform of ['vertex', 'auto']) {
      it(`${file} (--platform ${platform})`, () => {
        const r = normalizeInput(readFixture('vertex', file), file, platform, cfg);
        if (want.rejected) {
          expect(r.events).toHaveLength(0);
          expect(r.errors.join('\n')).toMatch(want.rejected);
          return;
        }
        expect(r.errors).toEqual([]);
        expect(r.events).toHaveLength(1);
        const ev = r.events[0]!;
        expect(ev.platform).toBe('vertex');
        expect(ev.stage).toBe(want.stage);
        expect(ev.action).toBe(want.action);
        expect(ev.outcome).toBe(want.outcome);
        expect(ev.cloud?.provider).toBe('gcp');
        if (want.actor) expect(ev.actor).toMatchObject(want.actor);
      });
    }
  }

  it('keeps policy-denied facts: PERMISSION_DENIED and the VPC-SC violation', () => {
    const ev = one(readFixtureJson('vertex', 'otel-auditlog-policy.json'));
    expect(ev.error).toEqual({ code: 'PERMISSION_DENIED', message: 'PERMISSION_DENIED' });
    expect(ev.details).toMatchObject({
      audit_log: 'policy',
      vpc_sc: { violation_reason: 'NO_MATCHING_ACCESS_LEVEL', perimeter: 'accessPolicies/30507210272/servicePerimeters/some_service' },
      status_details: ['type.googleapis.com/google.rpc.PreconditionFailure'],
    });
    expect(ev.cloud?.project).toBe('elastic-siem');
  });

  it('unwraps the Loki push envelope (base64 data with trailing newline) and keeps the Pub/Sub facts', () => {
    const ev = one(readFixtureJson('vertex', 'loki-gcplog-push-envelope.json'));
    expect(ev.cloud).toMatchObject({ provider: 'gcp', project: 'test-project', region: 'us-central1' });
    expect(ev.time).toBe('2022-09-06T18:07:42.363Z');
    expect(ev.details).toMatchObject({
      audit_log: 'data_access',
      insert_id: '4affa858-e5f2-47f7-9254-e609b5c014d0',
      pubsub: { message_id: '5187581549398349', publish_time: '2022-07-25T22:19:15.56Z', subscription: 'projects/test-project/subscriptions/test', attributes: { 'logging.googleapis.com/timestamp': '2022-07-25T22:19:09.903683708Z' } },
    });
  });

  it('Model Monitoring skew → preprocessing with every feature deviation and threshold; drift → serving', () => {
    const entry = readFixtureJson<Record<string, any>>('vertex', 'vertex-model-monitoring-anomaly-doc-example.json');
    const ev = one(entry);
    expect(ev.details).toMatchObject({
      monitoring: 'skew',
      objective: 'RAW_FEATURE_SKEW',
      total_anomalies: 2,
      max_deviation: 0.9,
      features: [
        { feature: 'age', deviation: 0.9, threshold: 0.7, exceeded: true },
        { feature: 'education', deviation: 0.6, threshold: 0.3, exceeded: true },
      ],
    });
    expect(ev.ml?.metrics).toEqual({ 'skew.age': 0.9, 'skew.education': 0.6 });
    expect(ev.resource).toMatchObject({ type: 'model_deployment_monitoring_job', name: '6680511704087920640' });
    expect(ev.cloud).toMatchObject({ project: 'model-monitoring-demo', region: 'us-central1' });
    const drift = one({ ...entry, insertId: 'drift-1', jsonPayload: { ...entry.jsonPayload, anomalyObjective: 'FEATURE_ATTRIBUTION_DRIFT' } });
    expect(drift.stage).toBe('serving');
    expect(drift.action).toBe('monitor.anomaly');
    expect(drift.ml?.metrics).toEqual({ 'drift.age': 0.9, 'drift.education': 0.6 });
  });
});

describe('Vertex methodName → stage and action', () => {
  const table: Array<[string, string, string]> = [
    // §2.1 ingestion
    ['DatasetService.CreateDataset', 'ingestion', 'dataset.create'],
    ['DatasetService.UpdateDataset', 'ingestion', 'dataset.update'],
    ['DatasetService.DeleteDataset', 'ingestion', 'dataset.delete'],
    ['DatasetService.ImportData', 'ingestion', 'dataset.import'],
    ['DatasetService.ExportData', 'ingestion', 'dataset.export'],
    ['DatasetService.ListDatasets', 'ingestion', 'dataset.read'],
    ['DatasetService.ListDataItems', 'ingestion', 'dataset.read'],
    ['DatasetService.CreateDatasetVersion', 'ingestion', 'dataset.create'],
    ['DatasetService.RestoreDatasetVersion', 'ingestion', 'dataset.update'],
    ['FeaturestoreService.CreateFeaturestore', 'ingestion', 'feature_group.create'],
    ['FeaturestoreService.DeleteEntityType', 'ingestion', 'feature_group.delete'],
    ['FeaturestoreService.BatchCreateFeatures', 'ingestion', 'feature_group.update'],
    ['FeaturestoreService.ImportFeatureValues', 'ingestion', 'feature_record.write'],
    ['FeaturestoreService.ExportFeatureValues', 'ingestion', 'feature_record.read'],
    ['FeaturestoreService.BatchReadFeatureValues', 'ingestion', 'feature_record.read'],
    ['FeaturestoreService.DeleteFeatureValues', 'ingestion', 'feature_record.delete'],
    ['FeaturestoreService.SearchFeatures', 'ingestion', 'feature_group.read'],
    ['FeaturestoreOnlineServingService.ReadFeatureValues', 'ingestion', 'feature_record.read'],
    ['FeaturestoreOnlineServingService.StreamingReadFeatureValues', 'ingestion', 'feature_record.read'],
    ['FeaturestoreOnlineServingService.WriteFeatureValues', 'ingestion', 'feature_record.write'],
    ['FeatureOnlineStoreAdminService.CreateFeatureOnlineStore', 'ingestion', 'feature_group.create'],
    ['FeatureOnlineStoreAdminService.SyncFeatureView', 'ingestion', 'feature_record.write'],
    ['FeatureOnlineStoreService.FetchFeatureValues', 'ingestion', 'feature_record.read'],
    ['FeatureOnlineStoreService.FeatureViewDirectWrite', 'ingestion', 'feature_record.write'],
    ['FeatureOnlineStoreService.GenerateFetchAccessToken', 'ingestion', 'credential.create'],
    ['FeatureRegistryService.CreateFeatureGroup', 'ingestion', 'feature_group.create'],
    ['FeatureRegistryService.DeleteFeature', 'ingestion', 'feature_group.update'],
    // §2.2 preprocessing
    ['JobService.CreateDataLabelingJob', 'preprocessing', 'processing_job.create'],
    ['JobService.CancelDataLabelingJob', 'preprocessing', 'processing_job.stop'],
    ['MetadataService.CreateArtifact', 'preprocessing', 'artifact.create'],
    ['MetadataService.PurgeExecutions', 'preprocessing', 'run.delete'],
    ['MetadataService.AddContextArtifactsAndExecutions', 'preprocessing', 'run.provenance'],
    ['MetadataService.AddExecutionEvents', 'preprocessing', 'run.provenance'],
    ['MetadataService.CreateMetadataSchema', 'preprocessing', 'resource.create'],
    ['MetadataService.QueryArtifactLineageSubgraph', 'preprocessing', 'artifact.read'],
    // §2.3 training
    ['JobService.CreateCustomJob', 'training', 'training_job.create'],
    ['JobService.CancelCustomJob', 'training', 'training_job.stop'],
    ['JobService.DeleteCustomJob', 'training', 'training_job.delete'],
    ['JobService.ListCustomJobs', 'training', 'training_job.read'],
    ['JobService.CreateHyperparameterTuningJob', 'training', 'tuning_job.create'],
    ['JobService.CancelHyperparameterTuningJob', 'training', 'tuning_job.stop'],
    ['JobService.CreateNasJob', 'training', 'tuning_job.create'],
    ['PipelineService.CreateTrainingPipeline', 'training', 'training_job.create'],
    ['PipelineService.CancelTrainingPipeline', 'training', 'training_job.stop'],
    ['PipelineService.CreatePipelineJob', 'training', 'pipeline_run.create'],
    ['PipelineService.CancelPipelineJob', 'training', 'pipeline_run.stop'],
    ['PipelineService.BatchDeletePipelineJobs', 'training', 'pipeline_run.delete'],
    ['ScheduleService.CreateSchedule', 'training', 'recurring_run.create'],
    ['ScheduleService.PauseSchedule', 'training', 'recurring_run.disable'],
    ['ScheduleService.ResumeSchedule', 'training', 'recurring_run.enable'],
    ['PersistentResourceService.RebootPersistentResource', 'training', 'resource.other'],
    ['GenAiTuningService.CreateTuningJob', 'training', 'tuning_job.create'],
    ['GenAiTuningService.CancelTuningJob', 'training', 'tuning_job.stop'],
    ['TensorboardService.CreateTensorboardExperiment', 'training', 'experiment.create'],
    ['TensorboardService.WriteTensorboardRunData', 'training', 'run.update'],
    ['TensorboardService.ExportTensorboardTimeSeriesData', 'training', 'run.read'],
    ['NotebookService.AssignNotebookRuntime', 'training', 'notebook.create'],
    ['NotebookService.StartNotebookRuntime', 'training', 'notebook.start'],
    // §2.4 evaluation
    ['ModelService.ImportModelEvaluation', 'evaluation', 'evaluation.create'],
    ['ModelService.BatchImportModelEvaluationSlices', 'evaluation', 'evaluation.update'],
    ['ModelService.ListModelEvaluations', 'evaluation', 'evaluation.read'],
    ['EvaluationService.EvaluateInstances', 'evaluation', 'evaluation.create'],
    // §2.5 registry
    ['ModelService.UploadModel', 'registry', 'model.upload'],
    ['ModelService.UpdateModel', 'registry', 'model.update'],
    ['ModelService.DeleteModel', 'registry', 'model.delete'],
    ['ModelService.DeleteModelVersion', 'registry', 'model_version.delete'],
    ['ModelService.ExportModel', 'registry', 'model.export'],
    ['ModelService.CopyModel', 'registry', 'model.copy'],
    ['ModelService.ListModelVersions', 'registry', 'model.read'],
    // §2.6 serving
    ['EndpointService.CreateEndpoint', 'serving', 'endpoint.create'],
    ['EndpointService.UpdateEndpoint', 'serving', 'endpoint.update'],
    ['EndpointService.DeleteEndpoint', 'serving', 'endpoint.delete'],
    ['EndpointService.DeployModel', 'serving', 'endpoint.deploy'],
    ['EndpointService.UndeployModel', 'serving', 'endpoint.undeploy'],
    ['EndpointService.MutateDeployedModel', 'serving', 'endpoint.update'],
    ['PredictionService.Predict', 'serving', 'endpoint.invoke'],
    ['PredictionService.RawPredict', 'serving', 'endpoint.invoke'],
    ['PredictionService.Explain', 'serving', 'endpoint.invoke'],
    ['PredictionService.StreamGenerateContent', 'serving', 'endpoint.invoke'],
    ['LlmBidiService.BidiGenerateContent', 'serving', 'endpoint.invoke'],
    ['JobService.CreateBatchPredictionJob', 'serving', 'transform_job.create'],
    ['JobService.CreateModelDeploymentMonitoringJob', 'serving', 'monitor.create'],
    ['JobService.PauseModelDeploymentMonitoringJob', 'serving', 'monitor.stop'],
    // §2.7 Model Monitoring v2 (ModelMonitoringService)
    ['ModelMonitoringService.CreateModelMonitor', 'serving', 'monitor.create'],
    ['ModelMonitoringService.UpdateModelMonitor', 'serving', 'monitor.update'],
    ['ModelMonitoringService.DeleteModelMonitor', 'serving', 'monitor.delete'],
    ['ModelMonitoringService.CreateModelMonitoringJob', 'serving', 'monitor.start'],
    ['ModelMonitoringService.DeleteModelMonitoringJob', 'serving', 'monitor.delete'],
    ['ModelMonitoringService.SearchModelMonitoringStats', 'serving', 'monitor.read'],
    ['ModelMonitoringService.SearchModelMonitoringAlerts', 'serving', 'monitor.read'],
    ['ModelMonitoringService.GetModelMonitor', 'serving', 'monitor.read'],
    ['ModelMonitoringService.ListModelMonitors', 'serving', 'monitor.read'],
    // an RPC the table does not know: service default stage + verb
    ['DatasetService.FrobnicateDataset', 'ingestion', 'resource.other'],
    ['EndpointService.GetIamPolicyFoo', 'serving', 'resource.read'],
  ];
  for (const [suffix, stage, action] of table) {
    for (const prefix of [V1, V1B]) {
      it(`${prefix}${suffix} → ${stage} ${action}`, () => {
        const ev = one(auditEntry({ method: `${prefix}${suffix}`, resourceName: `${LOC}/x/1` }));
        expect([ev.stage, ev.action]).toEqual([stage, action]);
        expect(ev.operation).toBe(`${prefix}${suffix}`);
        expect(ev.service).toBe('aiplatform.googleapis.com');
      });
    }
  }

  it('matches the internal version segment (observed CountTokens data-access entry)', () => {
    const ev = one(auditEntry({ method: 'google.cloud.aiplatform.internal.PredictionService.CountTokens', log: 'data_access', resourceName: `${LOC}/publishers/google/models/gemini-2.0-flash` }));
    expect([ev.stage, ev.action]).toEqual(['serving', 'endpoint.invoke']);
  });

  it('Predict data-access entry → serving endpoint.invoke on the endpoint', () => {
    const endpoint = `${LOC}/endpoints/4242`;
    const ev = one(auditEntry({ method: `${V1}PredictionService.Predict`, log: 'data_access', resourceName: endpoint, request: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.PredictRequest', endpoint } }));
    expect(ev).toMatchObject({ stage: 'serving', action: 'endpoint.invoke', resource: { type: 'endpoint', id: endpoint, name: '4242' }, ml: { deployment: { endpoint } } });
    expect(ev.details).toMatchObject({ audit_log: 'data_access', authorization: [{ permission_type: 'DATA_READ', granted: true }] });
  });

  it('Model Monitoring v2: monitors and their jobs are serving monitor.* on model_monitor / model_monitoring_job', () => {
    const monitor = `${LOC}/modelMonitors/5`;
    const del = one(auditEntry({ method: `${V1B}ModelMonitoringService.DeleteModelMonitor`, resourceName: monitor, request: { name: monitor, force: true } }));
    expect(del).toMatchObject({ stage: 'serving', action: 'monitor.delete', resource: { type: 'model_monitor', id: monitor, name: '5' } });
    const create = one(auditEntry({ method: `${V1B}ModelMonitoringService.CreateModelMonitor`, resourceName: LOC, request: { parent: LOC, modelMonitor: { displayName: 'drift' } } }));
    expect(create).toMatchObject({ stage: 'serving', action: 'monitor.create', resource: { type: 'model_monitor', id: LOC, name: 'drift' } });
    const job = one(auditEntry({ method: `${V1B}ModelMonitoringService.DeleteModelMonitoringJob`, resourceName: `${monitor}/modelMonitoringJobs/9` }));
    expect(job).toMatchObject({ stage: 'serving', action: 'monitor.delete', resource: { type: 'model_monitoring_job', name: '9' } });
    // A call of no known service on a monitor (IAM) is placed by the monitor's collection.
    const iam = one(auditEntry({ method: 'google.iam.v1.IAMPolicy.SetIamPolicy', resourceName: monitor }));
    expect([iam.stage, iam.action]).toEqual(['serving', 'permission.change']);
  });

  it('SetIamPolicy on a Vertex endpoint → serving permission.change', () => {
    const ev = one(auditEntry({ method: 'google.iam.v1.IAMPolicy.SetIamPolicy', resourceName: `${LOC}/endpoints/9` }));
    expect([ev.stage, ev.action]).toEqual(['serving', 'permission.change']);
  });
});

describe('registry aliases and approvals', () => {
  const model = `${LOC}/models/777`;
  const merge = (aliases: string[], status?: Record<string, unknown>) =>
    one(auditEntry({ method: `${V1}ModelService.MergeVersionAliases`, resourceName: `${model}@3`, request: { name: `${model}@3`, versionAliases: aliases }, status }));

  it('setting production is an approval', () => {
    const ev = merge(['production']);
    expect(ev).toMatchObject({ stage: 'registry', action: 'model_version.approve', resource: { type: 'model_version', name: '777', version: '3' } });
    expect(ev.ml?.model).toMatchObject({ name: model, version: '3', approval: 'approved', aliases: ['production'] });
  });

  it('champion approves too; default (every SDK upload sets it) and other aliases are alias_set', () => {
    expect(merge(['champion']).action).toBe('model_version.approve');
    expect(merge(['default']).action).toBe('model_version.alias_set');
    expect(merge(['default']).ml?.model?.approval).toBeUndefined();
    expect(merge(['champion', '-old']).details).toMatchObject({ aliases_added: ['champion'], aliases_removed: ['old'] });
    const staging = merge(['staging']);
    expect(staging.action).toBe('model_version.alias_set');
    expect(staging.ml?.model?.approval).toBeUndefined();
  });

  it('a leading "-" removes: removing production is alias_delete, not an approval', () => {
    const ev = merge(['-production']);
    expect(ev.action).toBe('model_version.alias_delete');
    expect(ev.ml?.model?.approval).toBeUndefined();
    expect(ev.details).toMatchObject({ aliases_removed: ['production'] });
  });

  it('a denied approval attempt keeps the action but is a failure without approval state', () => {
    const ev = merge(['production'], { code: 7, message: 'Permission denied' });
    expect(ev.action).toBe('model_version.approve');
    expect(ev.outcome).toBe('failure');
    expect(ev.error).toEqual({ code: 'PERMISSION_DENIED', message: 'Permission denied' });
    expect(ev.ml?.model?.approval).toBeUndefined();
  });

  it('approval aliases are configurable', () => {
    const out = vertexConnector.normalize!(
      auditEntry({ method: `${V1}ModelService.MergeVersionAliases`, resourceName: `${model}@4`, request: { versionAliases: ['blessed'] } }),
      { ...ctx, config: VertexConfig.parse({ approval_aliases: ['blessed'] }) },
    );
    expect(out.events[0]?.action).toBe('model_version.approve');
  });

  it('UploadModel of a new version under parentModel → model_version.create with serving image facts', () => {
    const ev = one(
      auditEntry({
        method: `${V1}ModelService.UploadModel`,
        request: {
          parent: LOC,
          parentModel: model,
          model: { displayName: 'fraud', artifactUri: 'gs://models/fraud/v5/', containerSpec: { imageUri: `us-docker.pkg.dev/p/serve/fraud@${DIGEST}` }, encryptionSpec: { kmsKeyName: 'projects/p/locations/us/keyRings/r/cryptoKeys/k' } },
        },
      }),
    );
    expect(ev.action).toBe('model_version.create');
    expect(ev.ml?.model).toMatchObject({ name: model, artifact_uri: 'gs://models/fraud/v5/' });
    expect(ev.ml?.job).toMatchObject({ image_pinned: true, image_digest: DIGEST, kms_key: 'projects/p/locations/us/keyRings/r/cryptoKeys/k' });
  });

  it('a Model\'s labels are its tags (where adversarial evidence is recorded); UpdateModel\'s too', () => {
    const up = one(auditEntry({ method: `${V1}ModelService.UploadModel`, request: { parent: LOC, parentModel: model, model: { displayName: 'fraud', artifactUri: 'gs://models/fraud/v5/', labels: { adv_verdict: 'passed', team: 'risk' } } } }));
    expect(up.ml?.model?.tags).toEqual({ adv_verdict: 'passed', team: 'risk' });
    const upd = one(auditEntry({ method: `${V1}ModelService.UpdateModel`, resourceName: `${model}@2`, request: { model: { name: `${model}@2`, labels: { owner: 'x' } }, updateMask: 'labels' } }));
    expect(upd.ml?.model?.tags).toEqual({ owner: 'x' });
  });

  it('ExportModel of a version records the destination', () => {
    const ev = one(auditEntry({ method: `${V1}ModelService.ExportModel`, resourceName: `${model}@2`, request: { name: `${model}@2`, outputConfig: { exportFormatId: 'custom-trained', artifactDestination: { outputUriPrefix: 'gs://attacker-bucket/x' } } } }));
    expect(ev.action).toBe('model_version.export');
    expect(ev.ml?.data?.outputs).toEqual(['gs://attacker-bucket/x']);
  });
});

describe('security facts into ml.*', () => {
  it('CreateCustomJob: unpinned image, service account, network, CMEK, web access, output dir', () => {
    const ev = one(
      auditEntry({
        method: `${V1}JobService.CreateCustomJob`,
        request: {
          '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.CreateCustomJobRequest',
          parent: LOC,
          customJob: {
            displayName: 'train-fraud',
            jobSpec: {
              workerPoolSpecs: [
                { machineSpec: { machineType: 'n1-standard-4' }, replicaCount: '1', containerSpec: { imageUri: 'us-docker.pkg.dev/p/train/fraud:latest' } },
                { containerSpec: { imageUri: `us-docker.pkg.dev/p/train/sidecar@${DIGEST}` } },
              ],
              serviceAccount: 'trainer@p.iam.gserviceaccount.com',
              network: 'projects/123/global/networks/ml-vpc',
              enableWebAccess: true,
              baseOutputDirectory: { outputUriPrefix: 'gs://ml-out/fraud/' },
            },
            encryptionSpec: { kmsKeyName: 'projects/p/locations/us-central1/keyRings/ml/cryptoKeys/train' },
          },
        },
        response: { name: `${LOC}/customJobs/555`, displayName: 'train-fraud' },
      }),
    );
    expect(ev).toMatchObject({ stage: 'training', action: 'training_job.create', resource: { type: 'custom_job', id: `${LOC}/customJobs/555`, name: '555' } });
    // The same create logged with only its parent location (no response yet): named by its displayName, never "us-central1".
    const pending = one(auditEntry({ method: `${V1}JobService.CreateCustomJob`, resourceName: LOC, request: { parent: LOC, customJob: { displayName: 'train-fraud' } } }));
    expect(pending.resource).toEqual({ type: 'custom_job', id: LOC, name: 'train-fraud' });
    const pipeline = one(auditEntry({ method: `${V1}PipelineService.CreatePipelineJob`, resourceName: LOC, request: { parent: LOC, pipelineJob: {} } }));
    expect(pipeline.resource).toEqual({ type: 'pipeline_job', id: LOC });
    const list = one(auditEntry({ method: `${V1}JobService.ListCustomJobs`, resourceName: LOC, request: { parent: LOC } }));
    expect(list.resource?.name).toBeUndefined();
    expect(ev.ml?.job).toMatchObject({
      type: 'custom_job',
      name: 'train-fraud',
      image: 'us-docker.pkg.dev/p/train/fraud:latest',
      image_pinned: false,
      images: ['us-docker.pkg.dev/p/train/fraud:latest', `us-docker.pkg.dev/p/train/sidecar@${DIGEST}`],
      role: 'trainer@p.iam.gserviceaccount.com',
      vpc: 'projects/123/global/networks/ml-vpc',
      kms_key: 'projects/p/locations/us-central1/keyRings/ml/cryptoKeys/train',
      web_access: true,
    });
    expect(ev.ml?.job?.image_digest).toBeUndefined();
    expect(ev.ml?.data?.outputs).toEqual(['gs://ml-out/fraud/']);
    expect(ev.cloud).toEqual({ provider: 'gcp', project: PROJECT, region: 'us-central1' });
  });

  it('a job with a pinned and an unpinned image names the unpinned one; every image is in ml.job.images', () => {
    const pinned = `gcr.io/p/a@${DIGEST}`;
    const ev = one(
      auditEntry({
        method: `${V1}JobService.CreateCustomJob`,
        request: { parent: LOC, customJob: { jobSpec: { workerPoolSpecs: [{ containerSpec: { imageUri: pinned } }, { containerSpec: { imageUri: 'docker.io/evil/miner:latest' } }] } } },
      }),
    );
    expect(ev.ml?.job).toMatchObject({ image: 'docker.io/evil/miner:latest', image_pinned: false, images: [pinned, 'docker.io/evil/miner:latest'] });
    expect(ev.ml?.job?.image_digest).toBeUndefined();
    // One pinned image: it is the image, with its digest, and the list names it too.
    const single = one(auditEntry({ method: `${V1}JobService.CreateCustomJob`, request: { customJob: { jobSpec: { workerPoolSpecs: [{ containerSpec: { imageUri: pinned } }] } } } }));
    expect(single.ml?.job).toMatchObject({ image: pinned, image_digest: DIGEST, image_pinned: true, images: [pinned] });
  });

  it('a job without network or PSC has no vpc (training.network_egress can see it)', () => {
    const ev = one(auditEntry({ method: `${V1}JobService.CreateCustomJob`, request: { customJob: { jobSpec: { workerPoolSpecs: [{ containerSpec: { imageUri: `gcr.io/p/t@${DIGEST}` } }] } } } }));
    expect(ev.ml?.job?.vpc).toBeUndefined();
    expect(ev.ml?.job?.image_pinned).toBe(true);
    const psc = one(auditEntry({ method: `${V1}PipelineService.CreatePipelineJob`, request: { pipelineJob: { pscInterfaceConfig: {}, serviceAccount: 'pipe@p.iam.gserviceaccount.com', pipelineSpec: { deploymentSpec: { executors: { e: { container: { image: 'python:3.11' } } } } } } } }));
    expect(psc.ml?.job).toMatchObject({ vpc: true, role: 'pipe@p.iam.gserviceaccount.com' });
  });

  it('DeployModel: model version, deployed model service account and traffic split', () => {
    const endpoint = `${LOC}/endpoints/88`;
    const ev = one(
      auditEntry({
        method: `${V1}EndpointService.DeployModel`,
        resourceName: endpoint,
        request: { endpoint, deployedModel: { model: `${LOC}/models/777@3`, serviceAccount: 'serve@p.iam.gserviceaccount.com', disableContainerLogging: true }, trafficSplit: { '0': 90, '123': 10 } },
      }),
    );
    expect(ev).toMatchObject({ stage: 'serving', action: 'endpoint.deploy' });
    expect(ev.ml?.deployment).toMatchObject({ endpoint, traffic: { '0': 90, '123': 10 }, model_uri: `${LOC}/models/777@3`, service_account: 'serve@p.iam.gserviceaccount.com', container_logging_disabled: true });
    expect(ev.ml?.model).toMatchObject({ name: `${LOC}/models/777`, version: '3' });
  });

  it('UpdateEndpoint with updateMask trafficSplit → endpoint.traffic_change', () => {
    const endpoint = `${LOC}/endpoints/88`;
    const ev = one(auditEntry({ method: `${V1}EndpointService.UpdateEndpoint`, resourceName: endpoint, request: { endpoint: { name: endpoint, trafficSplit: { '1': 0, '2': 100 } }, updateMask: 'trafficSplit' } }));
    expect(ev.action).toBe('endpoint.traffic_change');
    expect(ev.ml?.deployment?.traffic).toEqual({ '1': 0, '2': 100 });
    const rename = one(auditEntry({ method: `${V1}EndpointService.UpdateEndpoint`, resourceName: endpoint, request: { endpoint: { displayName: 'x' }, updateMask: { paths: ['display_name'] } } }));
    expect(rename.action).toBe('endpoint.update');
  });
});

describe('actor and outcome', () => {
  it('impersonation chain, key name and the private caller IP marker', () => {
    const ev = one(
      auditEntry({
        method: `${V1}JobService.CreateCustomJob`,
        callerIp: 'private',
        authInfo: {
          principalEmail: 'trainer@p.iam.gserviceaccount.com',
          principalSubject: 'serviceAccount:trainer@p.iam.gserviceaccount.com',
          serviceAccountKeyName: '//iam.googleapis.com/projects/p/serviceAccounts/trainer@p.iam.gserviceaccount.com/keys/abc',
          serviceAccountDelegationInfo: [
            { firstPartyPrincipal: { principalEmail: 'mallory@example.com' } },
            { principalSubject: 'serviceAccount:hop@p.iam.gserviceaccount.com' },
          ],
        },
      }),
    );
    expect(ev.actor).toEqual({
      id: 'trainer@p.iam.gserviceaccount.com',
      email: 'trainer@p.iam.gserviceaccount.com',
      type: 'service',
      ip: 'private',
      user_agent: 'google-cloud-sdk gcloud/470.0.0 command/gcloud.ai.custom-jobs.create,gzip(gfe)',
      chain: ['mallory@example.com', 'hop@p.iam.gserviceaccount.com'],
      key_id: '//iam.googleapis.com/projects/p/serviceAccounts/trainer@p.iam.gserviceaccount.com/keys/abc',
    });
    expect(ev.details).toMatchObject({ caller_ip_redacted: 'private', impersonated: true });
    expect(one(auditEntry({ method: `${V1}JobService.GetCustomJob`, callerIp: 'gce-internal-ip' })).actor?.ip).toBe('gce-internal-ip');
  });

  it('outcome: status {} success, code≠0 failure with its name, absent status → authorizationInfo.granted, else unknown', () => {
    const m = `${V1}EndpointService.GetEndpoint`;
    expect(one(auditEntry({ method: m, status: {} })).outcome).toBe('success');
    expect(one(auditEntry({ method: m, status: { message: 'done' } })).outcome).toBe('success');
    const nf = one(auditEntry({ method: m, status: { code: 5, message: 'not found' } }));
    expect([nf.outcome, nf.error?.code]).toEqual(['failure', 'NOT_FOUND']);
    expect(one(auditEntry({ method: m, status: null, authorizationInfo: [{ permission: 'p', granted: false }] })).outcome).toBe('failure');
    expect(one(auditEntry({ method: m, status: null, authorizationInfo: [{ permission: 'p', granted: true }] })).outcome).toBe('success');
    expect(one(auditEntry({ method: m, status: null, authorizationInfo: [{ permission: 'p' }] })).outcome).toBe('unknown');
  });

  it('cloud.project falls back on the logName when resource labels lack it', () => {
    const e = auditEntry({ method: `${V1}EndpointService.GetEndpoint` }) as Record<string, any>;
    e.resource = { type: 'audited_resource', labels: {} };
    e.logName = 'projects/other-proj/logs/cloudaudit.googleapis.com%2Fdata_access';
    expect(one(e).cloud?.project).toBe('other-proj');
  });
});

describe('ids and envelopes', () => {
  const base = auditEntry({ method: `${V1}JobService.CreateCustomJob`, insertId: 'dup-1', timestamp: '2026-11-20T10:00:00.1Z' });

  it('same insertId + logName + timestamp → same id, whatever the rendering; otherwise different', () => {
    const a = one(base);
    const b = one({ ...base, timestamp: '2026-11-20T10:00:00.100000000Z' });
    const c = one({ ...base, timestamp: { seconds: Date.parse('2026-11-20T10:00:00Z') / 1000, nanos: 100_000_000 } });
    expect(b.id).toBe(a.id);
    expect(c.id).toBe(a.id);
    expect(one({ ...base, insertId: 'dup-2' }).id).not.toBe(a.id);
    expect(one({ ...base, logName: 'projects/x/logs/cloudaudit.googleapis.com%2Factivity' }).id).not.toBe(a.id);
    expect(one({ ...base, timestamp: '2026-11-20T10:00:00.100000001Z' }).id).not.toBe(a.id);
    expect(canonicalTimestamp('2026-11-20T11:00:00.5+01:00')).toBe('2026-11-20T10:00:00.500000000Z');
  });

  it('wrapped push body, CloudEvents, entries.list, arrays and @google-cloud/logging entries give the same event', () => {
    const direct = one(base);
    const data = Buffer.from(`${JSON.stringify(base)}\n`).toString('base64');
    const wrapped = one({ message: { data, messageId: '11', message_id: '11', publishTime: '2026-11-20T10:00:01Z', attributes: { 'logging.googleapis.com/timestamp': '2026-11-20T10:00:00.1Z' } }, subscription: 'projects/p/subscriptions/s', deliveryAttempt: 2 });
    expect(wrapped.id).toBe(direct.id);
    expect(wrapped.details?.pubsub).toMatchObject({ message_id: '11', delivery_attempt: 2, subscription: 'projects/p/subscriptions/s' });
    const ce = one({ specversion: '1.0', type: 'google.cloud.audit.log.v1.written', source: '//cloudaudit.googleapis.com/projects/p/logs/activity', id: 'x', data: base });
    expect(ce.id).toBe(direct.id);
    expect(one({ entries: [base], nextPageToken: 't' }).id).toBe(direct.id);
    const lib = one({ metadata: { ...base, protoPayload: undefined }, data: encodeAuditLogAny(base.protoPayload as Record<string, unknown>) });
    expect(lib.id).toBe(direct.id);
    expect([lib.stage, lib.action, lib.actor?.email]).toEqual(['training', 'training_job.create', 'alice@example.com']);
    const many = vertexConnector.normalize!([base, { ...base, insertId: 'other' }], ctx);
    expect(many.events.map((e) => e.id)).toEqual([direct.id, expect.any(String)]);
    for (const rec of [base, { message: { data } }, { entries: [base] }]) expect(vertexConnector.detect!(rec)).toBe(true);
    expect(vertexConnector.detect!({ Records: [] })).toBe(false);
  });

  it('rejects what is not a LogEntry with the path and field, keeping the rest of an array', () => {
    const out = vertexConnector.normalize!([base, { hello: 1 }, { message: { data: '!!!' } }], ctx);
    expect(out.events).toHaveLength(1);
    expect(out.rejected.map((r) => [r.path, r.field])).toEqual([
      ['[1]', 'logName'],
      ['[2].message.data', 'message.data'],
    ]);
  });

  it('decodes a protobuf Any AuditLog (gRPC entries.list) to the REST JSON shape', () => {
    const pp = auditEntry({
      method: `${V1}ModelService.MergeVersionAliases`,
      resourceName: `${LOC}/models/1@2`,
      request: { name: `${LOC}/models/1@2`, versionAliases: ['production'], nested: { n: 1.5, ok: true, list: ['a', null] } },
      status: { code: 7, message: 'denied' },
      authInfo: { principalEmail: 'bob@example.com', serviceAccountDelegationInfo: [{ firstPartyPrincipal: { principalEmail: 'x@example.com' } }] },
    }).protoPayload as Record<string, unknown>;
    (pp as any).numResponseItems = '71';
    const decoded = decodeAuditLogAny(encodeAuditLogAny(pp));
    expect(decoded).toMatchObject({
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
      methodName: `${V1}ModelService.MergeVersionAliases`,
      serviceName: 'aiplatform.googleapis.com',
      numResponseItems: '71',
      status: { code: 7, message: 'denied' },
      authenticationInfo: { principalEmail: 'bob@example.com', serviceAccountDelegationInfo: [{ firstPartyPrincipal: { principalEmail: 'x@example.com' } }] },
      authorizationInfo: [{ permissionType: 'ADMIN_WRITE', granted: true }],
      request: { name: `${LOC}/models/1@2`, versionAliases: ['production'], nested: { n: 1.5, ok: true, list: ['a', null] } },
      requestMetadata: { callerIp: '203.0.113.7', requestAttributes: { time: '2026-11-20T10:00:00.123000000Z' } },
    });
  });
});

describe('approval aliases outside MergeVersionAliases', () => {
  const model = `${LOC}/models/777`;
  it('UploadModel carrying production is an approved upload; without it, no approval', () => {
    const up = one(auditEntry({ method: `${V1}ModelService.UploadModel`, request: { parent: LOC, parentModel: model, model: { versionAliases: ['production'] } } }));
    expect(up.action).toBe('model_version.create');
    expect(up.ml?.model).toMatchObject({ approval: 'approved', aliases: ['production'] });
    const plain = one(auditEntry({ method: `${V1}ModelService.UploadModel`, request: { parent: LOC, model: { versionAliases: ['candidate'] } } }));
    expect(plain.action).toBe('model.upload');
    expect(plain.ml?.model?.approval).toBeUndefined();
  });

  it('UploadModel of a new model (no parentModel, no artifactUri) setting champion is still an approval', () => {
    const up = one(auditEntry({ method: `${V1}ModelService.UploadModel`, request: { parent: LOC, model: { displayName: 'fraud-v9', versionAliases: ['champion'] } } }));
    expect(up).toMatchObject({ action: 'model.upload', details: { aliases_added: ['champion'] }, ml: { model: { approval: 'approved', aliases: ['champion'] } } });
    expect(up.ml?.model?.name).toBeUndefined();
    expect(approvalOf(up, RulesConfig.parse({}))).toBe('approved');
    const denied = one(auditEntry({ method: `${V1}ModelService.UploadModel`, status: { code: 7, message: 'denied' }, request: { parent: LOC, model: { versionAliases: ['champion'] } } }));
    expect(denied.ml?.model?.approval).toBeUndefined();
  });

  it('UploadModel names the model (parentModel, else parent + modelId, else its operation) and the version when known', () => {
    const upload = (request: Record<string, unknown>, response?: Record<string, unknown>) => one(auditEntry({ method: `${V1}ModelService.UploadModel`, resourceName: LOC, request, response }));
    // New version of parentModel, logged when accepted: the version id is not known yet, the aliases are.
    const pending = upload({ parent: LOC, parentModel: model, model: { artifactUri: 'gs://m/55/', versionAliases: ['production'] } }, { name: `${model}/operations/9` });
    expect(pending.ml?.model).toMatchObject({ name: model, aliases: ['production'], approval: 'approved' });
    expect(pending.ml?.model?.version).toBeUndefined();
    // The same upload once its operation is done: UploadModelResponse carries modelVersionId.
    const done = upload(
      { parent: LOC, parentModel: model, model: { versionAliases: ['production'] } },
      { name: `${model}/operations/9`, done: true, response: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.UploadModelResponse', model, modelVersionId: '4' } },
    );
    expect(done.ml?.model).toMatchObject({ name: model, version: '4', aliases: ['production'] });
    // A new model: modelId names it, and its first version is 1.
    const byId = upload({ parent: LOC, modelId: '55', model: { artifactUri: 'gs://m/55/', versionAliases: ['production'] } });
    expect(byId.ml?.model).toMatchObject({ name: `${LOC}/models/55`, version: '1', aliases: ['production'], approval: 'approved' });
    const refused = one(auditEntry({ method: `${V1}ModelService.UploadModel`, status: { code: 6, message: 'exists' }, request: { parent: LOC, modelId: '55', model: {} } }));
    expect(refused.ml?.model).toEqual({ name: `${LOC}/models/55` });
    // A new model without modelId: the operation's name carries the id the server gave it.
    const byOp = upload({ parent: LOC, model: { displayName: 'fraud', artifactUri: 'gs://m/x/' } }, { name: `${LOC}/models/8123/operations/77` });
    expect(byOp.ml?.model).toMatchObject({ name: `${LOC}/models/8123`, version: '1' });
    expect(byOp.resource).toEqual({ type: 'model', id: LOC, name: 'fraud' });
  });

  it('a model uploaded with modelId and production, then deployed by version, is not an unapproved deployment', () => {
    const name = `${LOC}/models/55`;
    const endpoint = `${LOC}/endpoints/88`;
    const ev = (e: Record<string, unknown>) => vertexConnector.normalize!(e, ctx).events[0]!;
    const up = ev(auditEntry({ method: `${V1}ModelService.UploadModel`, request: { parent: LOC, modelId: '55', model: { artifactUri: 'gs://m/55/', versionAliases: ['production'] } }, timestamp: '2026-11-20T10:00:00Z' }));
    const deploy = (v: string, t: string) => ev(auditEntry({ method: `${V1}EndpointService.DeployModel`, resourceName: endpoint, request: { endpoint, deployedModel: { model: `${name}@${v}` } }, timestamp: t }));
    const { alerts } = replayEvents(
      [up, deploy('1', '2026-11-20T11:00:00Z'), deploy('production', '2026-11-20T11:30:00Z'), deploy('2', '2026-11-20T12:00:00Z')],
      { rules: RulesConfig.parse({}) },
    );
    // Only the version nobody approved alerts.
    expect(alerts.filter((a) => a.rule_id === 'registry.unapproved_deployment').map((a) => a.summary)).toEqual([expect.stringMatching(/models\/55 v2 to /)]);
  });

  it('UpdateModel with update mask version_aliases setting champion → model_version.approve', () => {
    const ev = one(auditEntry({ method: `${V1}ModelService.UpdateModel`, resourceName: `${model}@7`, request: { model: { name: `${model}@7`, versionAliases: ['champion'] }, updateMask: 'version_aliases' } }));
    expect(ev.action).toBe('model_version.approve');
    expect(ev.ml?.model).toMatchObject({ name: model, version: '7', approval: 'approved' });
    const desc = one(auditEntry({ method: `${V1}ModelService.UpdateModel`, resourceName: `${model}@7`, request: { model: { description: 'x', versionAliases: ['champion'] }, updateMask: 'description' } }));
    expect(desc.action).toBe('model_version.update');
  });
});

describe('input that cannot be an event', () => {
  it('a record nested thousands of levels deep is rejected with an outline that can be quarantined (no stack overflow)', () => {
    const entry = JSON.parse(deepEntryJson(5000)) as Record<string, unknown>;
    const arrays = JSON.parse(`${'['.repeat(5000)}${']'.repeat(5000)}`) as unknown;
    for (const record of [entry, arrays]) {
      const out = vertexConnector.normalize!(record, ctx);
      expect(out.events).toEqual([]);
      expect(out.rejected.map((r) => r.reason)).toEqual(['not a LogEntry: JSON nested deeper than 200 levels']);
      expect(() => JSON.stringify(out.rejected[0]!.record)).not.toThrow();
    }
    expect(vertexConnector.normalize!(entry, ctx).rejected[0]!.record).toMatchObject({ insertId: 'deep-1', protoPayload: '[object omitted: nested too deeply]' });
  });

  it('empty envelopes ({"entries":[]}, []) are rejected, not silently dropped', () => {
    expect(vertexConnector.normalize!({ entries: [] }, ctx).rejected.map((r) => r.reason)).toEqual(['entries is empty: no LogEntry in it']);
    expect(vertexConnector.normalize!([], ctx).rejected.map((r) => r.reason)).toEqual(['empty array: no LogEntry in it']);
  });
});

describe('event time: a LogEntry timestamp that is not a time is refused naming it, never replaced', () => {
  const fixture = () => readFixtureJson<Record<string, unknown>>('vertex', 'otel-auditlog-activity.json');
  const refused = (record: unknown, field = 'timestamp', reason = new RegExp(`^${field} .*not a valid RFC 3339 time`)) => {
    const out = vertexConnector.normalize!(record, ctx);
    expect(out.events).toEqual([]);
    expect(out.rejected).toHaveLength(1);
    expect(out.rejected[0]!.field).toBe(field);
    expect(out.rejected[0]!.reason).toMatch(reason);
    return out.rejected[0]!;
  };

  it.each([
    ['2024-02-30T10:00:00Z', 'a day February does not have (used to roll over to March 1)'],
    ['2023-02-29T10:00:00Z', 'February 29 of a common year'],
    ['2024-05-01T24:00:00Z', 'hour 24'],
    ['2024-05-01T10:00:60Z', 'second 60'],
    ['2024-05-01T10:00:00+24:00', 'an offset of 24 h'],
    ['0', '"0" (used to become 2000-01-01 through new Date)'],
    ['1714564800', 'bare epoch seconds'],
    ['2024-05-01T10:00:00', 'no offset (the instant depends on a zone)'],
    ['May 1, 2024 10:00 UTC', 'not RFC 3339'],
    ['10000-01-01T00:00:00Z', 'year 10000 (used to fail as "produced an invalid event: time")'],
    ['9999-12-31T23:59:59-01:00', 'past 9999 once converted to UTC'],
    ['1969-12-31T23:59:59Z', 'before 1970'],
    ['', 'empty'],
  ])('timestamp %j: %s', (timestamp) => {
    // receiveTimestamp is valid: it must not stand in for a timestamp the entry has.
    const rej = refused({ ...fixture(), timestamp });
    expect(rej.record).toMatchObject({ timestamp });
  });

  it('gRPC Timestamps out of range, unset or with bad nanos are refused too', () => {
    refused({ ...fixture(), timestamp: { seconds: 253402300800, nanos: 0 } }); // 10000-01-01
    refused({ ...fixture(), timestamp: { seconds: '0', nanos: 0 } });
    refused({ ...fixture(), timestamp: { seconds: 1763632800, nanos: 1_000_000_000 } });
    refused({ ...fixture(), timestamp: { seconds: -1, nanos: 0 } });
    expect(canonicalTimestamp(new Date(Date.UTC(10000, 0, 1)))).toBeUndefined();
  });

  it('a gRPC (backfill) entry keeps a bad timestamp as received, so it is refused rather than dated by receiveTimestamp', () => {
    const raw = { logName: 'projects/p/logs/cloudaudit.googleapis.com%2Factivity', insertId: 'g1', timestamp: { seconds: '253402300800', nanos: 0 }, receiveTimestamp: { seconds: '1763632800', nanos: 5 }, textPayload: 'x' };
    refused(fromGrpcEntry(raw));
    expect(one(fromGrpcEntry({ ...raw, timestamp: null })).time).toBe('2025-11-20T10:00:00.000Z');
  });

  it('a missing timestamp falls back on receiveTimestamp only; without either, or with a bad one, the entry is refused', () => {
    const { timestamp: _ts, ...noTs } = fixture();
    expect(one(noTs).time).toBe('2025-08-15T12:54:37.402Z');
    expect(one({ ...noTs, timestamp: null }).time).toBe('2025-08-15T12:54:37.402Z');
    refused({ ...noTs, receiveTimestamp: '2025-02-30T00:00:00Z' }, 'receiveTimestamp');
    const { receiveTimestamp: _rts, ...neither } = noTs;
    refused(neither, 'timestamp', /^timestamp is missing, and so is receiveTimestamp/);
  });

  it('valid spellings still give the same time and id (calendar edges included)', () => {
    const a = one(fixture());
    expect(a.time).toBe('2025-08-15T12:54:34.966Z');
    expect(one({ ...fixture(), timestamp: '2025-08-15T14:54:34.966334+02:00' }).id).toBe(a.id);
    expect(one({ ...fixture(), timestamp: '2025-08-15t12:54:34.966334000z' }).id).toBe(a.id);
    expect(canonicalTimestamp('2024-02-29T23:59:59.999999999Z')).toBe('2024-02-29T23:59:59.999999999Z');
    expect(canonicalTimestamp('2000-02-29T00:00:00Z')).toBe('2000-02-29T00:00:00.000000000Z');
    expect(canonicalTimestamp('9999-12-31T23:59:59.999999999Z')).toBe('9999-12-31T23:59:59.999999999Z');
    expect(canonicalTimestamp('1970-01-01T01:00:00+01:00')).toBe('1970-01-01T00:00:00.000000000Z');
  });

  it('the CLI path names the field: FILE:N: field timestamp: …', () => {
    const res = normalizeInput(Buffer.from(`${JSON.stringify(fixture())}\n${JSON.stringify({ ...fixture(), timestamp: '2024-02-30T10:00:00Z' })}\n`), 'in.ndjson', 'vertex', cfg);
    expect(res.events).toHaveLength(1);
    expect(res.errors).toEqual([expect.stringMatching(/^in\.ndjson:2: field timestamp: timestamp "2024-02-30T10:00:00Z" is not a valid RFC 3339 time/)]);
  });
});
