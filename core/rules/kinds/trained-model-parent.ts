import type { NormalizedEvent } from '../../schema/index.js';
import { scopeOf } from '../facts.js';
import type { RuleContext } from './context.js';

/**
 * A KServe TrainedModel's parent InferenceService, remembered from the writes that named it (its create, an update,
 * a patch whose stored object was logged), so that a later patch of its `storageUri` logged without the stored
 * object (a `Request`-level audit policy) is judged as a deployment onto that endpoint: without it the patch had no
 * endpoint and no rule judged it (create it pointing at an approved model, then patch in other weights).
 */
export function withTrainedModelParent(ev: NormalizedEvent, ctx: RuleContext): NormalizedEvent {
  if (ev.platform !== 'kubeflow' || ev.resource?.type !== 'trainedmodels' || !ev.resource.id) return ev;
  const key = `tm-parent|${scopeOf(ev) ?? ''}|${ev.resource.id}`;
  const dep = ev.ml?.deployment;
  if (ev.action === 'resource.delete' && ev.outcome !== 'failure') {
    ctx.delete(key);
    return ev;
  }
  if (!dep) return ev;
  if (typeof dep.endpoint === 'string' && dep.endpoint) {
    if (ev.outcome !== 'failure' && ctx.get<string>(key) !== dep.endpoint) ctx.set(key, dep.endpoint);
    return ev;
  }
  const parent = ctx.get<string>(key);
  return parent ? { ...ev, ml: { ...ev.ml, deployment: { ...dep, endpoint: parent } }, details: { ...ev.details, trained_model_parent_remembered: true } } : ev;
}
