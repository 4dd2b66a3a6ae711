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
  /**
   * The endpoint deployed to, when the call names it: the done operation's `DeployResponse.endpoint` /
   * `DeployPublisherModelResponse.endpoint`, else the id the caller chose (`endpointConfig.endpointUserId`) under the
   * request's `destination`. Unset: Model Garden creates an endpoint the logged request does not name.
   */
  endpoint?: string;
  /** The endpoint's display name the caller gave (`endpointConfig.endpointDisplayName`, DeployPublisherModel's `endpointDisplayName`). */
  endpoint_display_name?: string;
}

const GARDEN_DEPLOY = /^(Deploy|DeployPublisherModel)$/;

/**
 * @example
 * gardenDeploy('ModelGardenService', 'Deploy', { customModel: { gcsUri: 'gs://b/llm' } }) // { models: [], artifacts: ['gs://b/llm'] }
 */
export function gardenDeploy(service: string | undefined, rpc: string, req: Json, resp?: unknown): GardenDeploy | undefined {
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
  // The endpoint: only the done operation (or an id the caller picked) names it; the request's `destination` is the
  // project and region, which every Garden deploy there shares, so it names no endpoint.
  const op = isObj(resp) ? resp : {};
  const done = isObj(op.response) ? op.response : op;
  const endpointConfig = isObj(req.endpointConfig) ? req.endpointConfig : {};
  const userId = str(endpointConfig.endpointUserId);
  const destination = str(req.destination);
  const endpoint = (str(done.endpoint) && /\/endpoints\/[^/]+$/.test(str(done.endpoint)!) ? str(done.endpoint) : undefined)
    ?? (userId && destination && /^projects\/[^/]+\/locations\/[^/]+$/.test(destination) ? `${destination}/endpoints/${userId}` : undefined);
  const endpoint_display_name = str(endpointConfig.endpointDisplayName) ?? str(req.endpointDisplayName);
  return { models, artifacts, image, ...(endpoint ? { endpoint } : {}), ...(endpoint_display_name ? { endpoint_display_name } : {}) };
}
