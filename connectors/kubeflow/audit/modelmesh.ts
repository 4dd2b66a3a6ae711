/**
 * KServe ModelMesh `Predictor` (`serving.kserve.io/v1alpha1`, kserve/modelmesh-serving): a stable endpoint
 * (`<namespace>/<name>`) behind which ModelMesh loads the model its spec names, from the storage-config secret's
 * entry: `spec.storage.{key, path, parameters}`, or the deprecated `spec.path` with `spec.storage.s3.{secretKey,
 * bucket}`. No storageUri: the bucket is in the secret the audit log never shows, unless the spec names it.
 */

import { redactUrlSecrets } from '../../../core/secrets.js';
import type { AuditEvent } from './envelope.js';
import { storageSpecUri } from './kserve.js';
import { isObject } from './objects.js';

/** True for an audit record of a ModelMesh Predictor object (not its `/status`). */
export function isModelMeshPredictor(ev: AuditEvent): boolean {
  const ref = ev.objectRef ?? {};
  return ref.apiGroup === 'serving.kserve.io' && ref.resource === 'predictors' && !ref.subresource;
}

/**
 * The model location a Predictor object names: its `storage` spec as KServe reads one (`kserve-storage://<key>/<path>`,
 * or `s3://<bucket>/<path>` when `parameters` say `type: s3` and a `bucket`), else the deprecated `path` in
 * `storage.s3.bucket` (`s3://<bucket>/<path>`) or in the secret entry `storage.s3.secretKey`
 * (`kserve-storage://<secretKey>/<path>`).
 *
 * @example
 * predictorModelUri({ spec: { storage: { s3: { secretKey: 'localMinIO', bucket: 'models' } }, path: 'mnist' } }) // 's3://models/mnist'
 */
export function predictorModelUri(obj: unknown): string | undefined {
  const spec = isObject(obj) && isObject(obj.spec) ? obj.spec : undefined;
  if (!spec) return undefined;
  const storage = isObject(spec.storage) ? spec.storage : undefined;
  const fromStorage = storageSpecUri(storage);
  if (fromStorage) return fromStorage;
  if (typeof spec.path !== 'string' || !spec.path) return undefined;
  const path = spec.path.replace(/^\/+/, '');
  const s3 = storage && isObject(storage.s3) ? storage.s3 : undefined;
  if (s3 && typeof s3.bucket === 'string' && s3.bucket) return `s3://${s3.bucket}/${path}`;
  const key = s3 && typeof s3.secretKey === 'string' && s3.secretKey ? s3.secretKey : storage && typeof storage.key === 'string' && storage.key ? storage.key : 'default';
  return `kserve-storage://${key}/${path}`;
}

/** Whether a patch writes the model a Predictor loads (its spec, storage or path). */
function patchWritesModel(req: unknown): boolean {
  if (Array.isArray(req)) return req.some((op) => isObject(op) && op.op !== 'test' && typeof op.path === 'string' && /^(\/spec(\/(storage|path)(\/.*)?)?)?$/.test(op.path));
  const spec = isObject(req) && isObject(req.spec) ? req.spec : undefined;
  return !!spec && ('storage' in spec || 'path' in spec);
}

/**
 * `ml.deployment` of a Predictor create, update or patch that sets its model: `endpoint` (the caller's `<namespace>/<name>`)
 * and `model_uri` (predictorModelUri of the stored object when logged, else of the request; credentials hidden).
 * Undefined for a write that names no model (a label patch), a delete or a read.
 */
export function modelMeshDeploymentOf(ev: AuditEvent, endpoint: string): Record<string, unknown> | undefined {
  if (!isModelMeshPredictor(ev) || (ev.verb !== 'create' && ev.verb !== 'update' && ev.verb !== 'patch')) return undefined;
  if (ev.verb === 'patch' && !patchWritesModel(ev.requestObject)) return undefined;
  // A patch alone (no stored object logged) says where only when it sets the storage too: a new `path` in a bucket
  // the stored storage names cannot be told from the patch.
  const req = ev.requestObject;
  const namesStorage = isObject(req) && isObject(req.spec) && isObject(req.spec.storage);
  const fromRequest = Array.isArray(req) || (ev.verb === 'patch' && !namesStorage) ? undefined : predictorModelUri(req);
  const uri = predictorModelUri(ev.responseObject) ?? fromRequest;
  return uri ? { endpoint, model_uri: redactUrlSecrets(uri) } : undefined;
}
