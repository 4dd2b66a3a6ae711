import { describe, expect, it } from 'vitest';
import { mlflowServerDetails } from '../../../connectors/sagemaker/cloudtrail.js';
import { ctRecord, normOne } from './helpers.js';

/**
 * SageMaker's managed MLflow as CloudTrail logs it: tracking servers (Create/Update/Delete/Start/StopMlflowTrackingServer,
 * CreatePresignedMlflowTrackingServerUrl) and the serverless MLflow Apps (Create/Update/DeleteMlflowApp,
 * CreatePresignedMlflowAppUrl; requests per the SageMaker API reference: an App is named by its ARN, `…:mlflow-app/<id>`,
 * its creation's response is `{Arn}`). Where its artifacts go and whether registered models are synced into the SageMaker
 * Model Registry are what a change of it can move.
 */
const SERVER = 'arn:aws:sagemaker:us-east-1:111122223333:mlflow-tracking-server/ml-tracking';
const APP = 'arn:aws:sagemaker:us-east-1:111122223333:mlflow-app/app-7xk2m9qp4w';

describe('SageMaker managed MLflow records', () => {
  it('a tracking server created or updated names its artifact store, model registration, version and role', () => {
    const created = normOne(ctRecord('CreateMlflowTrackingServer', {
      trackingServerName: 'ml-tracking', artifactStoreUri: 's3://ml-mlflow/mlartifacts', trackingServerSize: 'Small', mlflowVersion: '2.16', roleArn: 'arn:aws:iam::111122223333:role/MlflowRole', automaticModelRegistration: true,
    }, { responseElements: { trackingServerArn: SERVER } }));
    expect([created.stage, created.action, created.resource]).toEqual(['platform', 'resource.create', { type: 'mlflow_tracking_server', id: SERVER, name: 'ml-tracking' }]);
    expect(created.details).toMatchObject({ artifact_store_uri: 's3://ml-mlflow/mlartifacts', model_registration: 'enabled', mlflow_version: '2.16', role_arn: 'arn:aws:iam::111122223333:role/MlflowRole' });
    const moved = normOne(ctRecord('UpdateMlflowTrackingServer', { trackingServerName: 'ml-tracking', artifactStoreUri: 's3://other-bucket/mlartifacts', automaticModelRegistration: false }, { responseElements: { trackingServerArn: SERVER } }));
    expect(moved.action).toBe('resource.update');
    expect(moved.details).toMatchObject({ artifact_store_uri: 's3://other-bucket/mlartifacts', model_registration: 'disabled' });
    // An update naming neither leaves them unsaid (unchanged), not "disabled".
    const resized = normOne(ctRecord('UpdateMlflowTrackingServer', { trackingServerName: 'ml-tracking', trackingServerSize: 'Medium' }));
    expect(resized.details).not.toHaveProperty('model_registration');
    expect(resized.details).not.toHaveProperty('artifact_store_uri');
  });

  it('an MLflow App is its own resource, named by its ARN from the creation response on', () => {
    const created = normOne(ctRecord('CreateMlflowApp', { name: 'team-mlflow', artifactStoreUri: 's3://ml-mlflow/apps', roleArn: 'arn:aws:iam::111122223333:role/MlflowRole', modelRegistrationMode: 'AutoModelRegistrationEnabled' }, { responseElements: { arn: APP } }));
    expect([created.action, created.resource]).toEqual(['resource.create', { type: 'mlflow_app', id: APP, name: 'team-mlflow' }]);
    expect(created.details).toMatchObject({ artifact_store_uri: 's3://ml-mlflow/apps', model_registration: 'enabled' });
    const updated = normOne(ctRecord('UpdateMlflowApp', { arn: APP, modelRegistrationMode: 'AutoModelRegistrationDisabled' }, { responseElements: { arn: APP } }));
    expect([updated.action, updated.resource?.type, updated.resource?.id, updated.details?.model_registration]).toEqual(['resource.update', 'mlflow_app', APP, 'disabled']);
    const deleted = normOne(ctRecord('DeleteMlflowApp', { arn: APP }, { responseElements: { arn: APP } }));
    expect([deleted.action, deleted.resource?.type, deleted.resource?.id]).toEqual(['resource.delete', 'mlflow_app', APP]);
  });

  it('a presigned URL to the MLflow UI of a tracking server or an App is a notebook.open of it', () => {
    const server = normOne(ctRecord('CreatePresignedMlflowTrackingServerUrl', { trackingServerName: 'ml-tracking', expiresInSeconds: 300, sessionExpirationDurationInSeconds: 43200 }));
    expect([server.action, server.resource?.type, server.resource?.id, server.details?.session_expiration_duration_in_seconds]).toEqual(['notebook.open', 'mlflow_tracking_server', SERVER, 43200]);
    const app = normOne(ctRecord('CreatePresignedMlflowAppUrl', { arn: APP, expiresInSeconds: 60, sessionExpirationDurationInSeconds: 1800 }));
    expect([app.stage, app.action, app.resource?.type, app.resource?.id]).toEqual(['platform', 'notebook.open', 'mlflow_app', APP]);
  });

  it('mlflowServerDetails reads only the values the API defines', () => {
    expect(mlflowServerDetails({ modelRegistrationMode: 'Bogus', automaticModelRegistration: 'yes' })).toEqual({});
    expect(mlflowServerDetails({ automaticModelRegistration: false })).toEqual({ model_registration: 'disabled' });
  });
});
