import { describe, expect, it } from 'vitest';
import { ctRecord, normOne } from './helpers.js';

/**
 * What a SageMaker processing job (CreateProcessingJob, CloudTrail requestParameters lowerCamel, spec §2.2) reads and
 * writes besides plain S3 inputs and outputs: Athena / Redshift dataset definitions (their query result is staged at
 * `outputS3Uri` and read by the job) and feature groups it ingests into (`featureStoreOutput`).
 */
const processing = (inputs: unknown[], outputs: unknown[]) => normOne(ctRecord('CreateProcessingJob', {
  processingJobName: 'dw-export-churn', appSpecification: { imageUri: '663277389841.dkr.ecr.us-east-1.amazonaws.com/sagemaker-data-wrangler-container:1.x' },
  processingInputs: inputs, processingOutputConfig: { outputs },
  processingResources: { clusterConfig: { instanceCount: 1, instanceType: 'ml.m5.4xlarge', volumeSizeInGB: 30 } }, roleArn: 'arn:aws:iam::111122223333:role/SageMakerExec',
}));

describe('CreateProcessingJob data facts', () => {
  it('an Athena dataset definition\'s staging location is an input; its catalog, database and work group are named', () => {
    const ev = processing(
      [{ inputName: 'athena', datasetDefinition: { athenaDatasetDefinition: { catalog: 'AwsDataCatalog', database: 'raw', queryString: 'SELECT * FROM churn', workGroup: 'primary', outputS3Uri: 's3://athena-staging/churn/', outputFormat: 'PARQUET' }, localPath: '/opt/ml/processing/input/athena', dataDistributionType: 'FullyReplicated', inputMode: 'File' } },
        { inputName: 'redshift', datasetDefinition: { redshiftDatasetDefinition: { clusterId: 'dw-1', database: 'sales', dbUser: 'etl', queryString: 'SELECT 1', clusterRoleArn: 'arn:aws:iam::111122223333:role/RedshiftUnload', outputS3Uri: 's3://redshift-staging/q/', outputFormat: 'PARQUET' }, localPath: '/opt/ml/processing/input/rs' } }],
      [{ outputName: 'train', s3Output: { s3Uri: 's3://training-data/churn/train/', localPath: '/opt/ml/processing/train', s3UploadMode: 'EndOfJob' } }],
    );
    expect(ev.ml?.data).toMatchObject({ inputs: ['s3://athena-staging/churn/', 's3://redshift-staging/q/'], outputs: ['s3://training-data/churn/train/'] });
    expect(ev.ml?.job?.dataset_definitions).toEqual([
      { type: 'athena', catalog: 'AwsDataCatalog', database: 'raw', work_group: 'primary', staged_at: 's3://athena-staging/churn/' },
      { type: 'redshift', cluster_id: 'dw-1', database: 'sales', db_user: 'etl', staged_at: 's3://redshift-staging/q/' },
    ]);
  });

  it('a feature group it ingests into is named (Data Wrangler\'s export to Feature Store)', () => {
    const ev = processing(
      [{ inputName: 'flow', s3Input: { s3Uri: 's3://sagemaker-us-east-1-111122223333/data_wrangler_flows/churn.flow', localPath: '/opt/ml/processing/flow', s3DataType: 'S3Prefix', s3InputMode: 'File' } }],
      [{ outputName: 'fs', featureStoreOutput: { featureGroupName: 'churn-features' } }],
    );
    expect(ev.ml?.job?.feature_group_outputs).toEqual(['churn-features']);
    expect(ev.ml?.data?.inputs).toEqual(['s3://sagemaker-us-east-1-111122223333/data_wrangler_flows/churn.flow']);
  });
});
