import type { NormalizedEvent } from '../../schema/index.js';
import { scopeOf } from '../facts.js';
import type { RuleContext } from './context.js';

/**
 * A KServe TrainedModel's parent InferenceService and model location, remembered from the writes that named them (its
 * create, an update, a patch whose stored object was logged, a patch setting them), so that:
 * - a later patch of its `storageUri` logged without the stored object (a `Request`-level audit policy) is judged as
 *   a deployment onto that endpoint: without it the patch had no endpoint and no rule judged it (create it pointing
 *   at an approved model, then patch in other weights);
 * - a patch moving it to another InferenceService (`spec.inferenceService` only) logged without the stored object is
 *   judged as a deployment of the remembered model onto the new parent (`details.trained_model_uri_remembered`):
 *   KServe's model agent unloads it from the old endpoint and loads it into the new one, which the patch does not
 *   say (it was a plain update, judged by nothing).
 */
export function withTrainedModelParent(ev: NormalizedEvent, ctx: RuleContext): NormalizedEvent {
  if (ev.platform !== 'kubeflow' || ev.resource?.type !== 'trainedmodels' || !ev.resource.id) return ev;
  const key = `tm-parent|${scopeOf(ev) ?? ''}|${ev.resource.id}`;
  const modelKey = `tm-model|${scopeOf(ev) ?? ''}|${ev.resource.id}`;
  const dep = ev.ml?.deployment;
  if (ev.action === 'resource.delete' && ev.outcome !== 'failure') {
    ctx.delete(key);
    ctx.delete(modelKey);
    return ev;
  }
  if (!dep) return ev;
  const ok = ev.outcome !== 'failure';
  const uri = typeof dep.model_uri === 'string' && dep.model_uri ? dep.model_uri : undefined;
  // A location copied from a field the log does not show: what it loads now is unknown, so nothing is remembered.
  if (ok && uri && ctx.get<string>(modelKey) !== uri) ctx.set(modelKey, uri);
  else if (ok && !uri && dep.model_uri_copied_from !== undefined) ctx.delete(modelKey);
  if (typeof dep.endpoint === 'string' && dep.endpoint) {
    const before = ctx.get<string>(key);
    if (ok && before !== dep.endpoint) ctx.set(key, dep.endpoint);
    const remembered = ctx.get<string>(modelKey);
    if (!uri && dep.model_uri_copied_from === undefined && before && before !== dep.endpoint && remembered) {
      return { ...ev, action: 'endpoint.deploy', ml: { ...ev.ml, deployment: { ...dep, model_uri: remembered } }, details: { ...ev.details, trained_model_uri_remembered: true, trained_model_previous_parent: before } };
    }
    return ev;
  }
  const parent = ctx.get<string>(key);
  return parent ? { ...ev, ml: { ...ev.ml, deployment: { ...dep, endpoint: parent } }, details: { ...ev.details, trained_model_parent_remembered: true } } : ev;
}
