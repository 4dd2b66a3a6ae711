import { huggingFacePublisherModel } from './facts.js';
import { isObj, str, type Json } from './logentry.js';

/**
 * What a Model Garden deployment (ModelGardenService.Deploy, DeployPublisherModel) puts on an endpoint when
 * the request does not name it as a publisher model: custom weights (`Deploy.customModel.gcsUri`;
 * DeployPublisherModel's `model` as a `gs://` or `https://` location or a Hugging Face id) and the serving
 * container the model config sets (`modelConfig.containerSpec`). Model Garden uploads and deploys them in one
 * call, with no UploadModel or DeployModel of its own in the audit log: this request is all there is to judge.
 */
export interface GardenDeploy {
  /** Models named: a Hugging Face id as its `publishers/hf-…` publisher model. */
  models: string[];
  /** Weights deployed from a location. */
  artifacts: string[];
  /** The serving container image, when the request sets one. */
  image?: string;
}

const GARDEN_DEPLOY = /^(Deploy|DeployPublisherModel)$/;

/**
 * @example
 * gardenDeploy('ModelGardenService', 'Deploy', { customModel: { gcsUri: 'gs://b/llm' } }) // { models: [], artifacts: ['gs://b/llm'] }
 */
export function gardenDeploy(service: string | undefined, rpc: string, req: Json): GardenDeploy | undefined {
  if (service !== 'ModelGardenService' || !GARDEN_DEPLOY.test(rpc)) return undefined;
  const models: string[] = [];
  const artifacts: string[] = [];
  const custom = isObj(req.customModel) ? str(req.customModel.gcsUri) : undefined;
  if (custom) artifacts.push(custom);
  // DeployPublisherModel's `model`: a publisher model (collectFacts names it), a Hugging Face id, or weights at a URL.
  const model = rpc === 'DeployPublisherModel' ? str(req.model) : undefined;
  if (model && /^(gs|https?):\/\//i.test(model)) artifacts.push(model);
  else if (model && !/\/models\//.test(model)) {
    const hf = huggingFacePublisherModel(model);
    if (hf) models.push(hf);
  }
  const config = isObj(req.modelConfig) ? req.modelConfig : undefined;
  const image = config && isObj(config.containerSpec) ? str(config.containerSpec.imageUri) : undefined;
  return { models, artifacts, image };
}
