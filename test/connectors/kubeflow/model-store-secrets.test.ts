import { describe, expect, it } from 'vitest';
import { auditEvent } from './helpers.js';
import { normAudit as norm, workloadAccessAlerts as alerts, MALLORY, saUser as sa } from './audit-harness.js';

type Obj = Record<string, unknown>;
const NS = 'kubeflow-user-alice';


/** A ServiceAccount create as the shipped policy logs it (Request level: the body). */
const account = (name: string, secrets: string[], annotations?: Obj) => auditEvent({
  level: 'Request', verb: 'create', user: { username: 'alice@corp.example' }, objectRef: { resource: 'serviceaccounts', namespace: NS, name, apiVersion: 'v1' },
  requestURI: `/api/v1/namespaces/${NS}/serviceaccounts`, responseStatus: { metadata: {}, code: 201 },
  requestObject: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: NS, ...(annotations ? { annotations } : {}) }, secrets: secrets.map((s) => ({ name: s })) },
});
/** An InferenceService create running under `serviceAccountName`. */
const isvc = (name: string, serviceAccountName?: string) => auditEvent({
  level: 'Request', verb: 'create', user: { username: 'alice@corp.example' }, objectRef: { resource: 'inferenceservices', namespace: NS, name, apiGroup: 'serving.kserve.io', apiVersion: 'v1beta1' },
  requestURI: `/apis/serving.kserve.io/v1beta1/namespaces/${NS}/inferenceservices`, responseStatus: { metadata: {}, code: 201 },
  requestObject: { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name, namespace: NS }, spec: { predictor: { ...(serviceAccountName ? { serviceAccountName } : {}), model: { modelFormat: { name: 'sklearn' }, storageUri: 's3://models/fraud/v3' } } } },
});
/** A Secret read (Metadata level, as the shipped policy logs Secrets). */
const read = (user: Obj, name: string) => auditEvent({ verb: 'get', user, objectRef: { resource: 'secrets', namespace: NS, name, apiVersion: 'v1' }, requestURI: `/api/v1/namespaces/${NS}/secrets/${name}` });

describe("platform.ml_workload_access: a KServe ServiceAccount's model store secret read", () => {
  it('a Secret listed on the account an InferenceService runs under, read by a user, alerts; the account unused by any InferenceService does not', () => {
    const got = alerts([account('sa-s3', ['s3-creds']), isvc('fraud', 'sa-s3'), account('other', ['team-token']), read(MALLORY, 's3-creds'), read(MALLORY, 'team-token')]);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ details: { access: 'credentials read', object: 's3-creds', model_store_secret_from: { from: 'service_account', service_account: 'sa-s3', account_of: `${NS}/fraud` } } });
  });

  it("an account annotated serving.kserve.io/s3-endpoint lists it; the default account of an InferenceService naming none too; kubelet and KServe's controller are not judged", () => {
    const records = [
      account('annotated', ['minio-creds'], { 'serving.kserve.io/s3-endpoint': 'minio.kubeflow:9000', 'serving.kserve.io/s3-usehttps': '0' }),
      account('default', ['default-token-x7k2p', 'gcs-creds']),
      isvc('churn'),
      read(MALLORY, 'minio-creds'),
      read(MALLORY, 'gcs-creds'),
      // The account's legacy token secret is not a model store credential.
      read(MALLORY, 'default-token-x7k2p'),
      read({ username: 'system:node:worker-1', groups: ['system:nodes'] }, 'minio-creds'),
      read(sa('kserve', 'kserve-controller-manager'), 'gcs-creds'),
    ];
    const got = alerts(records);
    expect(got.map((a) => [a.details?.object, (a.details?.model_store_secret_from as Obj)?.account_of])).toEqual([['minio-creds', 'annotation'], ['gcs-creds', `${NS}/churn`]]);
  });

  it('a Secret whose own body (Request level) carries the s3 annotations is a model store secret when read', () => {
    const secret = auditEvent({
      level: 'Request', verb: 'create', user: { username: 'alice@corp.example' }, objectRef: { resource: 'secrets', namespace: NS, name: 'annotated-secret', apiVersion: 'v1' },
      requestURI: `/api/v1/namespaces/${NS}/secrets`, responseStatus: { metadata: {}, code: 201 },
      requestObject: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'annotated-secret', annotations: { 'serving.kserve.io/s3-endpoint': 's3.amazonaws.com' } }, data: { AWS_ACCESS_KEY_ID: 'QUtJQQ==', AWS_SECRET_ACCESS_KEY: 'c2VjcmV0' } },
    });
    const evs = norm([secret, read(MALLORY, 'annotated-secret')]);
    expect(evs[1]!.details).toMatchObject({ model_store_secret: true, model_store_secret_from: { from: 'annotation' } });
    expect(alerts([secret, read(MALLORY, 'annotated-secret')])).toHaveLength(1);
  });
});
