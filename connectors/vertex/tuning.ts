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

/** What a tuning job is asked to tune (CreateTuningJob / RebaseTunedModel's `tuningJob`). */
export interface TuningRequest {
  /** `tunedModelDisplayName`: the name a team gives every run of one tuning (the job's own name is a number). */
  name?: string;
  /** The model tuned: `baseModel` (`gemini-2.0-flash-001`, `meta/llama3_1@llama-3.1-8b`), or for continuous tuning the tuned model `preTunedModel.tunedModelName`. */
  base_model?: string;
  /** Which of `preTunedModel`'s checkpoints the tuning starts from. */
  base_checkpoint_id?: string;
}

const TUNING_REQUEST = /^(CreateTuningJob|RebaseTunedModel)$/;

/**
 * The run's name and its base model from a tuning request (the TuningJob in `tuningJob`, else the TuningJob the call
 * answered with). The base model is the model whose weights the tuned model starts from: swapping it (another
 * project's model, another open model) changes what the tuned model is as much as its data does.
 *
 * @example
 * tuningRequestOf('GenAiTuningService', 'CreateTuningJob', { tuningJob: { baseModel: 'gemini-2.0-flash-001', tunedModelDisplayName: 'support-bot' } }, undefined, (n) => n)
 * // { name: 'support-bot', base_model: 'gemini-2.0-flash-001' }
 */
export function tuningRequestOf(service: string | undefined, rpc: string, req: Json, resp: unknown, canon: Canon): TuningRequest | undefined {
  if (service !== 'GenAiTuningService' || !TUNING_REQUEST.test(rpc)) return undefined;
  const job = isObj(req.tuningJob) ? req.tuningJob : isObj(resp) ? resp : {};
  const pre = isObj(job.preTunedModel) ? job.preTunedModel : undefined;
  const out: TuningRequest = {
    name: str(job.tunedModelDisplayName),
    base_model: canon(str(pre?.tunedModelName)) ?? str(job.baseModel),
    base_checkpoint_id: str(pre?.checkpointId),
  };
  const kept = Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as TuningRequest;
  return Object.keys(kept).length ? kept : undefined;
}
