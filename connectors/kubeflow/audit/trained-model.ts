/**
 * KServe TrainedModel (`serving.kserve.io/v1alpha1`, multi-model serving): `spec.model.storageUri` is loaded into
 * the InferenceService `spec.inferenceService` names by KServe's model agent, next to the models it already serves.
 * Writing one is a deployment of that model onto that endpoint, though no InferenceService is written.
 */

import { redactUrlSecrets } from '../../../core/secrets.js';
import type { AuditEvent } from './envelope.js';
import { endpointId } from './kserve.js';
import { definedOnly, isObject } from './objects.js';

const KSERVE_GROUPS = new Set(['serving.kserve.io', 'serving.kubeflow.org']);

/** True for an audit record of a TrainedModel object (not its `/status`). */
export function isTrainedModel(ev: AuditEvent): boolean {
  const ref = ev.objectRef ?? {};
  return KSERVE_GROUPS.has(ref.apiGroup ?? '') && ref.resource === 'trainedmodels' && !ref.subresource;
}

function specOf(obj: unknown): { inferenceService?: string; storageUri?: string } {
  const spec = isObject(obj) && isObject(obj.spec) ? obj.spec : undefined;
  const model = spec && isObject(spec.model) ? spec.model : undefined;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return { inferenceService: str(spec?.inferenceService), storageUri: str(model?.storageUri) };
}

/** Whether a patch (JSON patch ops, or a merge patch body) writes the model's location or the endpoint it goes to. */
function patchWritesModel(req: unknown): boolean {
  if (Array.isArray(req)) {
    return req.some((op) => isObject(op) && op.op !== 'test' && typeof op.path === 'string' && /^(\/spec(\/(model(\/storageUri)?|inferenceService))?)?$/.test(op.path));
  }
  const { inferenceService, storageUri } = specOf(req);
  return !!inferenceService || !!storageUri;
}

const MODEL_PATHS = ['', '/spec', '/spec/model', '/spec/model/storageUri'];

/**
 * What a JSON patch's ops set (the last op wins), as a TrainedModel object holding them. A `copy` / `move` into the
 * model's location takes the value an earlier op of the same patch put at `from`; from anywhere else (a field of the
 * stored object the log does not show) the location is unknown: `copiedFrom` names where it came from.
 */
function jsonPatchSpec(ops: unknown[]): { inferenceService?: string; storageUri?: string; copiedFrom?: string } {
  const out: { inferenceService?: string; storageUri?: string; copiedFrom?: string } = {};
  const setHere = new Map<string, unknown>();
  for (const op of ops) {
    if (!isObject(op) || typeof op.path !== 'string') continue;
    let value: unknown;
    if (op.op === 'add' || op.op === 'replace') value = op.value;
    else if ((op.op === 'copy' || op.op === 'move') && typeof op.from === 'string') {
      if (!setHere.has(op.from)) {
        // Not set by this patch: the stored object's, unknown here.
        if (MODEL_PATHS.includes(op.path)) (out.copiedFrom = op.from), (out.storageUri = undefined);
        continue;
      }
      value = setHere.get(op.from);
    } else continue;
    setHere.set(op.path, value);
    const nested: Record<string, unknown> = { '': value, '/spec': { spec: value }, '/spec/model': { spec: { model: value } }, '/spec/model/storageUri': { spec: { model: { storageUri: value } } }, '/spec/inferenceService': { spec: { inferenceService: value } } };
    if (!Object.hasOwn(nested, op.path)) continue;
    const got = specOf(nested[op.path]);
    if (MODEL_PATHS.includes(op.path)) (out.storageUri = got.storageUri), (out.copiedFrom = undefined);
    if (op.path === '' || op.path === '/spec' || op.path === '/spec/inferenceService') out.inferenceService = got.inferenceService;
  }
  return out;
}

/**
 * `ml.deployment` of a TrainedModel create, update or patch that sets its model: the parent InferenceService as
 * `endpoint` (`<namespace>/<name>`), the model's location as `model_uri` (credentials in it hidden), the
 * TrainedModel's own name as `variant` (one of the models the endpoint serves). A patch is read from the stored
 * object when the record logs it, else from the patch. Undefined for a write that sets neither (labels), a
 * delete or a read.
 *
 * @example
 * trainedModelDeploymentOf(createRecord) // { endpoint: 'team-a/triton', model_uri: 'gs://models/cifar10', variant: 'cifar10' }
 */
export function trainedModelDeploymentOf(ev: AuditEvent): Record<string, unknown> | undefined {
  if (!isTrainedModel(ev)) return undefined;
  if (ev.verb !== 'create' && ev.verb !== 'update' && ev.verb !== 'patch') return undefined;
  if (ev.verb === 'patch' && !patchWritesModel(ev.requestObject)) return undefined;
  const written: { inferenceService?: string; storageUri?: string; copiedFrom?: string } = Array.isArray(ev.requestObject) ? jsonPatchSpec(ev.requestObject) : specOf(ev.requestObject);
  const stored = specOf(ev.responseObject);
  // The stored object is the whole spec after the write; a patch without it says only what it sets.
  const inferenceService = stored.inferenceService ?? written.inferenceService;
  const storageUri = stored.storageUri ?? written.storageUri;
  // A location copied from a field the log does not show is a model loaded from somewhere unknown, as for an
  // InferenceService (`model_uri_copied_from`).
  const copiedFrom = storageUri ? undefined : written.copiedFrom;
  if (!storageUri && !inferenceService && !copiedFrom) return undefined;
  const ref = ev.objectRef ?? {};
  return definedOnly({
    endpoint: inferenceService ? endpointId(ref.namespace, inferenceService) : undefined,
    model_uri: storageUri ? redactUrlSecrets(storageUri) : undefined,
    model_uri_copied_from: copiedFrom === undefined ? undefined : redactUrlSecrets(copiedFrom),
    variant: ref.name,
  });
}
