import { describe, expect, it } from 'vitest';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { LOC, PROJECT, V1, auditEntry, normOne } from './samples.js';

/** Exports the action does not say: what the connector marks for platform.artifact_exported. */
describe('Vertex exports in the event: source, destinations, details.export_of', () => {
  it('ExportFeatureValues: a dataset export to its BigQuery or Cloud Storage destination (none when refused)', () => {
    const entry = (status?: Record<string, unknown>) => auditEntry({
      method: `${V1}FeaturestoreService.ExportFeatureValues`, resourceName: `${LOC}/featurestores/fs/entityTypes/users`, status,
      request: { entityType: `${LOC}/featurestores/fs/entityTypes/users`, destination: { csvDestination: { gcsDestination: { outputUriPrefix: 'gs://dump/users/' } } }, snapshotExport: {} },
    });
    const ev = normOne(entry());
    expect(ev.action).toBe('feature_record.read');
    expect(ev.details?.export_of).toBe('dataset');
    expect(ev.ml?.data?.outputs).toEqual(['gs://dump/users/']);
    expect(normOne(entry({ code: 7, message: 'denied' })).details?.export_of).toBeUndefined();
  });

  it('CopyModel: a source in another project (by id, or by a number other than the entry\'s own) is a model export to the entry\'s project; the own number is the own project', () => {
    // Logged in the own project, which the operation pins as number 424242424242.
    const copy = (sourceModel: string) => normOne(auditEntry({
      method: `${V1}ModelService.CopyModel`, resourceName: LOC, request: { parent: LOC, sourceModel, modelId: 'imported' },
      response: { name: 'projects/424242424242/locations/us-central1/models/imported/operations/1' },
    }));
    const byId = copy('projects/vendor-models/locations/us-central1/models/3@1');
    expect(byId.details).toMatchObject({ export_of: 'model', destination_account: PROJECT });
    expect(byId.ml?.data).toMatchObject({ inputs: ['projects/vendor-models/locations/us-central1/models/3@1'], outputs: [`${LOC}/models/imported`] });
    expect(copy('projects/777000111222/locations/us-central1/models/3@1').details?.export_of).toBe('model');
    expect(copy('projects/424242424242/locations/europe-west4/models/3@1').details?.export_of).toBeUndefined();
  });

  it('a legacy BigQuery extract job (the fixture entry with an extract configuration) names its table and destinations', () => {
    const e = readFixtureJson<Record<string, any>>('vertex', 'cloudevents-LogEntryData-bigqueryjobcompleted.json');
    e.protoPayload.serviceData.jobCompletedEvent.eventName = 'extract_job_completed';
    e.protoPayload.serviceData.jobCompletedEvent.job.jobConfiguration = { extract: { destinationUris: ['gs://b/t-*.avro'], sourceTable: { projectId: 'test-project', datasetId: 'ds', tableId: 't' } } };
    const ev = normOne(e);
    expect(ev.details?.export_of).toBe('dataset');
    expect(ev.ml?.data).toEqual({ uris: ['bq://test-project.ds.t', 'gs://b/t-*.avro'], inputs: ['bq://test-project.ds.t'], outputs: ['gs://b/t-*.avro'] });
    // The fixture itself is a query job: no export.
    const q = normOne(readFixtureJson('vertex', 'cloudevents-LogEntryData-bigqueryjobcompleted.json'));
    expect(q.details?.export_of).toBeUndefined();
    expect(q.ml?.data).toBeUndefined();
  });

  it('BigQueryAuditMetadata: a jobInsertion extracting a BigQuery ML model is a model export; a job that failed is none', () => {
    const entry = (jobStatus: Record<string, unknown>, insertId: string) => ({
      insertId, logName: 'projects/test-project/logs/cloudaudit.googleapis.com%2Fdata_access', timestamp: '2026-11-20T11:00:00Z',
      resource: { type: 'bigquery_project', labels: { project_id: 'test-project' } },
      protoPayload: {
        '@type': 'type.googleapis.com/google.cloud.audit.AuditLog', serviceName: 'bigquery.googleapis.com', methodName: 'google.cloud.bigquery.v2.JobService.InsertJob',
        authenticationInfo: { principalEmail: 'a@corp.example' }, resourceName: 'projects/test-project/jobs/j1', status: {},
        metadata: { jobInsertion: { job: { jobConfig: { type: 'EXPORT', extractConfig: { destinationUris: ['gs://x/m'], sourceModel: 'projects/test-project/datasets/ml/models/churn' } }, jobStatus } } },
      },
    });
    const ev = normOne(entry({ jobState: 'RUNNING' }, 'i1'));
    expect(ev.details?.export_of).toBe('model');
    expect(ev.ml?.data?.inputs).toEqual(['bq://test-project.ml.churn']);
    expect(normOne(entry({ jobState: 'DONE', errorResult: { code: 7 } }, 'i2')).details?.export_of).toBeUndefined();
  });
});
