import { describe, expect, it } from 'vitest';
import { LOC, PROJECT, V1, auditEntry, normOne } from './samples.js';

/**
 * A Vertex AI Dataset or FeatureView filled from another project's BigQuery table (`bq://other-project.d.t`): data
 * from outside the watched project. No rule judges ingested data by project, so the event says it in
 * `details.data_from_other_projects` (Cloud Audit Log entries of the Admin Activity log, request as logged).
 */
const DATASET_SCHEMA = 'gs://google-cloud-aiplatform/schema/dataset/metadata/tabular_1.0.0.yaml';
const createDataset = (uri: string) => normOne(auditEntry({
  method: `${V1}DatasetService.CreateDataset`, resourceName: LOC,
  request: { '@type': `type.googleapis.com/${V1}CreateDatasetRequest`, parent: LOC, dataset: { displayName: 'churn', metadataSchemaUri: DATASET_SCHEMA, metadata: { inputConfig: { bigquerySource: { uri } } } } },
}));
const STORE = `${LOC}/featureOnlineStores/online`;
const createFeatureView = (uri: string) => normOne(auditEntry({
  method: `${V1}FeatureOnlineStoreAdminService.CreateFeatureView`, resourceName: STORE,
  request: { '@type': `type.googleapis.com/${V1}CreateFeatureViewRequest`, parent: STORE, featureViewId: 'churn_view', featureView: { bigQuerySource: { uri, entityIdColumns: ['customer_id'] }, syncConfig: { cron: '0 * * * *' } } },
}));

describe('Vertex: BigQuery sources of another project', () => {
  it('a tabular Dataset from another project\'s table names it; one from its own project does not', () => {
    const foreign = createDataset('bq://other-project.sales.orders');
    expect(foreign.stage).toBe('ingestion');
    expect(foreign.ml?.data?.inputs).toEqual(['bq://other-project.sales.orders']);
    expect(foreign.details?.data_from_other_projects).toEqual(['bq://other-project.sales.orders']);
    expect(createDataset(`bq://${PROJECT}.sales.orders`).details?.data_from_other_projects).toBeUndefined();
  });

  it('a FeatureView syncing from another project\'s table (a domain-scoped project too) names it', () => {
    expect(createFeatureView('bq://example.com:analytics.crm.customers').details?.data_from_other_projects).toEqual(['bq://example.com:analytics.crm.customers']);
    expect(createFeatureView(`bq://${PROJECT}.crm.customers`).details?.data_from_other_projects).toBeUndefined();
  });
});
