import type { Canon } from './names.js';
import { isObj, str, type Json } from './logentry.js';

/**
 * What a Vertex AI tuning job (GenAiTuningService) made and put on an endpoint by itself: the TuningJob's
 * `tunedModel.model` (`…/models/{model}@{version}`, registered by the service) and `tunedModel.endpoint` (the
 * service deploys the tuned model there, with no DeployModel call of anyone's), and with intermediate checkpoints
 * (`supervisedTuningSpec.exportLastCheckpointOnly` unset) each checkpoint on an endpoint of its own
 * (`tunedModel.checkpoints[].endpoint`). All output only: known when an entry's response carries the TuningJob
 * once done (CreateTuningJob answers with the job still pending), bare or in an Operation's `response`.
 */
export interface TunedModel {
  model?: string;
  endpoint?: string;
  checkpoints: Array<{ checkpoint_id?: string; endpoint?: string; epoch?: string; step?: string }>;
  /** The data it was tuned on (`supervisedTuningSpec` / `preferenceOptimizationSpec` training and validation URIs). */
  inputs: string[];
  /**
   * The tuned model's default checkpoint when the job ended: the one on `tunedModel.endpoint` ("the main endpoint for
   * the tuned model always points to the default checkpoint", Vertex AI's tuning checkpoints guide).
   */
  default_checkpoint?: string;
}

/**
 * @example
 * tunedModelOf('GenAiTuningService', { tuningJob: {} }, { tunedModel: { model: 'projects/p/locations/l/models/9@1', endpoint: 'projects/p/locations/l/endpoints/7' } }, (n) => n)
 * // { model: 'projects/p/locations/l/models/9@1', endpoint: 'projects/p/locations/l/endpoints/7', checkpoints: [], inputs: [] }
 */
export function tunedModelOf(service: string | undefined, req: Json, resp: unknown, canon: Canon): TunedModel | undefined {
  if (service !== 'GenAiTuningService') return undefined;
  const op = isObj(resp) ? resp : {};
  const job = isObj(op.response) ? op.response : op;
  const tuned = isObj(job.tunedModel) ? job.tunedModel : undefined;
  const inputs: string[] = [];
  const spec = isObj(req.tuningJob) ? req.tuningJob : job;
  for (const k of ['supervisedTuningSpec', 'preferenceOptimizationSpec', 'distillationSpec']) {
    const s = isObj(spec[k]) ? (spec[k] as Json) : undefined;
    for (const u of [str(s?.trainingDatasetUri), str(s?.validationDatasetUri)]) if (u && !inputs.includes(u)) inputs.push(u);
  }
  if (!tuned && !inputs.length) return undefined;
  const checkpoints = (tuned && Array.isArray(tuned.checkpoints) ? tuned.checkpoints.filter(isObj) : []).map((c) => ({
    checkpoint_id: str(c.checkpointId),
    endpoint: canon(str(c.endpoint)),
    epoch: c.epoch !== undefined ? String(c.epoch) : undefined,
    step: c.step !== undefined ? String(c.step) : undefined,
  }));
  const endpoint = canon(str(tuned?.endpoint));
  const byEndpoint = endpoint ? checkpoints.filter((c) => c.endpoint === endpoint && c.checkpoint_id) : [];
  // One checkpoint on the main endpoint names the default; none, or several, names nothing.
  const default_checkpoint = byEndpoint.length === 1 ? byEndpoint[0]!.checkpoint_id : undefined;
  return { model: canon(str(tuned?.model)), endpoint, checkpoints, inputs, ...(default_checkpoint ? { default_checkpoint } : {}) };
}
