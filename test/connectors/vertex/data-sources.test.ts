import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { auditEntry, LOC, normOne, V1 } from './samples.js';

/**
 * Where Vertex AI's ingestion stage reads data from: a tabular Dataset's BigQuery source, a FeatureView's sync source,
 * the Datasets a DataLabelingJob labels (v1 protos: CreateDatasetRequest.dataset.metadata.inputConfig,
 * CreateFeatureViewRequest.featureView.bigQuerySource.uri, CreateDataLabelingJobRequest.dataLabelingJob.datasets).
 */
const DATASET = `${LOC}/datasets/4567`;

describe('Vertex AI ingestion sources in ml.data.inputs', () => {
  it('a tabular Dataset\'s BigQuery source', () => {
    const ev = normOne(auditEntry({
      method: `${V1}DatasetService.CreateDataset`, resourceName: LOC,
      request: { '@type': 'type.googleapis.com/google.cloud.aiplatform.v1.CreateDatasetRequest', parent: LOC, dataset: { displayName: 'churn', metadataSchemaUri: 'gs://google-cloud-aiplatform/schema/dataset/metadata/tabular_1.0.0.yaml', metadata: { inputConfig: { bigquerySource: { uri: 'bq://ml-prod-123.raw.churn' } } } } },
    }));
    expect([ev.stage, ev.action]).toEqual(['ingestion', 'dataset.create']);
    expect(ev.ml?.data?.inputs).toEqual(['bq://ml-prod-123.raw.churn']);
  });

  it('a FeatureView\'s BigQuery sync source (another project\'s table shows)', () => {
    const ev = normOne(auditEntry({
      method: `${V1}FeatureOnlineStoreAdminService.CreateFeatureView`, resourceName: `${LOC}/featureOnlineStores/fos1`,
      request: { parent: `${LOC}/featureOnlineStores/fos1`, featureViewId: 'churn_view', featureView: { bigQuerySource: { uri: 'bq://partner-proj.ds.features', entityIdColumns: ['id'] }, syncConfig: { cron: '0 * * * *' } } },
    }));
    expect([ev.stage, ev.action]).toEqual(['ingestion', 'feature_group.create']);
    expect(ev.ml?.data?.inputs).toEqual(['bq://partner-proj.ds.features']);
  });

  it('a DataLabelingJob: its Datasets, and no training.network_egress alert (human labelers, no network of the caller\'s)', () => {
    const ev = normOne(auditEntry({
      method: `${V1}JobService.CreateDataLabelingJob`, resourceName: LOC,
      request: { parent: LOC, dataLabelingJob: { displayName: 'churn-labels', datasets: [DATASET], labelerCount: 1, instructionUri: 'gs://ml-docs/instructions.pdf', inputsSchemaUri: 'gs://google-cloud-aiplatform/schema/datalabelingjob/inputs/image_classification_1.0.0.yaml', inputs: {} } },
    }));
    expect([ev.stage, ev.action, ev.resource?.type]).toEqual(['preprocessing', 'processing_job.create', 'data_labeling_job']);
    expect(ev.ml?.data?.inputs).toEqual([DATASET]);
    const alerts = replayEvents([ev], { rules: RulesConfig.parse({}) }).alerts;
    expect(alerts.filter((a) => a.rule_id === 'training.network_egress')).toEqual([]);
    // A custom job with no network still alerts (the exemption is the labeling job's alone).
    const custom = normOne(auditEntry({
      method: `${V1}JobService.CreateCustomJob`, resourceName: LOC,
      request: { parent: LOC, customJob: { displayName: 'prep', jobSpec: { workerPoolSpecs: [{ containerSpec: { imageUri: `us-docker.pkg.dev/ml-prod-123/r/prep@sha256:${'ab'.repeat(32)}` } }] } } },
    }));
    expect(replayEvents([custom], { rules: RulesConfig.parse({}) }).alerts.filter((a) => a.rule_id === 'training.network_egress')).toHaveLength(1);
  });
});
