import { hubModelOfEnv, type HubModel } from '../../core/integrity/hub.js';
import { packageSourceFactsOf } from '../../core/integrity/packages.js';
import type { Ml } from '../../core/schema/index.js';
import { redactArgv, redactTagMap, redactUrlSecrets, redactValueMap } from '../../core/secrets.js';
import { arr, bool, get, imageDigest, isObj, num, str, uniq, type Obj } from './util.js';

/**
 * Security facts of a SageMaker request, from CloudTrail `requestParameters`
 * (lower-camel keys, spec §2.0) or from a service event's `detail` after
 * `lowerCamelKeys`. Goes into `ml.job`, `ml.model`, `ml.deployment`,
 * `ml.data` and `ml.provenance`.
 */

/** Keys whose values are user maps: their keys keep the user's spelling. */
const USER_MAPS = new Set(['tags', 'hyperParameters', 'environment', 'customerMetadataProperties', 'staticHyperParameters']);

/**
 * PascalCase service-event keys → CloudTrail's lower-camel, so one extractor reads both.
 *
 * @example
 * lowerCamelKeys({ TrainingJobName: 'j', HyperParameters: { Lr: '1' } }) // { trainingJobName: 'j', hyperParameters: { Lr: '1' } }
 */
export function lowerCamelKeys(v: unknown, parentKey = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => lowerCamelKeys(x, parentKey));
  if (!isObj(v) || USER_MAPS.has(parentKey)) return v;
  const out: Obj = {};
  for (const [k, val] of Object.entries(v)) {
    const key = /^[A-Z]{2,}[a-z]/.test(k) ? k.replace(/^([A-Z]+)([A-Z][a-z])/, (_, a: string, b: string) => a.toLowerCase() + b) : k[0]!.toLowerCase() + k.slice(1);
    out[key] = lowerCamelKeys(val, key);
  }
  return out;
}

const JOB_TYPES: Array<[RegExp, string]> = [
  [/TrainingJob$/, 'training'],
  [/HyperParameterTuningJob$/, 'tuning'],
  [/AutoMLJob(V2)?$/, 'automl'],
  [/ProcessingJob$/, 'processing'],
  [/TransformJob$/, 'transform'],
  [/LabelingJob$/, 'labeling'],
  [/JobDefinition$|MonitoringSchedule$/, 'monitoring'],
  [/CompilationJob$|OptimizationJob$/, 'compilation'],
  [/InferenceRecommendationsJob$/, 'inference_recommendation'],
];

/**
 * The job kind an operation or detail-type is about, or undefined when it is not a job.
 *
 * @example
 * jobType('CreateProcessingJob') // 'processing'
 */
export function jobType(name: string): string | undefined {
  return JOB_TYPES.find(([re]) => re.test(name))?.[1];
}

function firstString(o: unknown, paths: string[]): string | undefined {
  for (const p of paths) {
    const v = str(get(o, p));
    if (v) return v;
  }
  return undefined;
}

function firstBool(o: unknown, paths: string[]): boolean | undefined {
  for (const p of paths) {
    const v = bool(get(o, p));
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The `*AppSpecification` / inline monitoring definition objects of monitor and processing requests. */
function appSpecImage(p: Obj): string | undefined {
  for (const [k, v] of Object.entries(p)) if (/AppSpecification$/i.test(k) && isObj(v) && str(v.imageUri)) return str(v.imageUri);
  return firstString(p, ['monitoringScheduleConfig.monitoringJobDefinition.monitoringAppSpecification.imageUri']);
}

function vpcFacts(v: unknown): { vpc?: boolean; vpc_config?: Obj } {
  if (!isObj(v)) return {};
  const subnets = arr(v.subnets).map(str).filter(Boolean) as string[];
  const sgs = arr(v.securityGroupIds).map(str).filter(Boolean) as string[];
  if (!subnets.length && !sgs.length) return { vpc: false };
  return { vpc: true, vpc_config: { subnets, security_group_ids: sgs } };
}

/** Keys under which an `s3://` URI is an output (written), not an input. */
const OUTPUT_KEY = /output|checkpoint|destination|capture|debugHook|tensorBoard|failurePath/i;

/**
 * Keys whose whole content is what a job reads: a processing job's inputs. Under them a key that names an output is the
 * place a dataset definition stages its query result for the job to read (`datasetDefinition.athenaDatasetDefinition.
 * outputS3Uri`, `redshiftDatasetDefinition.outputS3Uri`), an input of the job.
 */
const INPUT_KEY = /^processingInputs$/;

/** Every `s3://` URI under a request, split into inputs and outputs by where it sits. */
function s3Uris(p: Obj): { inputs: string[]; outputs: string[] } {
  const inputs: string[] = [];
  const outputs: string[] = [];
  const walk = (v: unknown, isOutput: boolean, key: string, input: boolean): void => {
    if (USER_MAPS.has(key)) return;
    if (typeof v === 'string') {
      if (/^s3:\/\//i.test(v)) (isOutput ? outputs : inputs).push(v);
      return;
    }
    if (Array.isArray(v)) return v.forEach((x) => walk(x, isOutput, key, input));
    if (!isObj(v)) return;
    // Object.keys rather than Object.entries: no [key, value] pair per property.
    for (const k of Object.keys(v)) {
      const inInput = input || INPUT_KEY.test(k);
      walk(v[k], !inInput && (isOutput || OUTPUT_KEY.test(k)), k, inInput);
    }
  };
  walk(p, false, '', false);
  return { inputs: uniq(inputs), outputs: uniq(outputs) };
}

function containerFacts(containers: unknown[]): { images: string[]; artifacts: string[]; digests: string[]; extra: string[]; code: string[]; hub: HubModel[]; multi: string[] } {
  const hub: HubModel[] = [];
  const multi: string[] = [];
  const images: string[] = [];
  const artifacts: string[] = [];
  const digests: string[] = [];
  const extra: string[] = [];
  const code: string[] = [];
  for (const c of containers) {
    if (!isObj(c)) continue;
    const image = str(c.image);
    if (image) images.push(image);
    const d = str(c.imageDigest) ?? imageDigest(image);
    if (d) digests.push(d);
    // ModelDataUrl may be an https:// URL (presigned, or with user-info): shown with its secrets hidden, as in raw.
    const url = str(c.modelDataUrl);
    const art = (url === undefined ? undefined : redactUrlSecrets(url)) ?? str(get(c, 'modelDataSource.s3DataSource.s3Uri')) ?? str(c.artifactUrl);
    if (art) artifacts.push(art);
    // A multi-model container's model data is a prefix: each object under it is a model InvokeEndpoint's TargetModel loads.
    if (art && c.mode === 'MultiModel') multi.push(art);
    // Weights the container loads besides its model data (CreateModel `additionalModelDataSources[]`, up to five: a
    // speculative-decoding draft model, adapters), and a package container's `additionalS3DataSource`.
    for (const src of arr(c.additionalModelDataSources)) {
      const uri = str(get(src, 's3DataSource.s3Uri'));
      if (uri) extra.push(uri);
    }
    const pkgExtra = str(get(c, 'additionalS3DataSource.s3Uri'));
    if (pkgExtra) extra.push(pkgExtra);
    // The script archive AWS's framework images download and run (the SageMaker inference toolkit's
    // SAGEMAKER_SUBMIT_DIRECTORY); a local path (`/opt/ml/model/code`) is inside the model data.
    const submit = str(get(c, 'environment.SAGEMAKER_SUBMIT_DIRECTORY'));
    if (submit && /^[a-z][a-z0-9+.-]*:\/\//i.test(submit)) code.push(submit);
    // The Hugging Face Hub repository the LLM / TGI / TEI / DJL / inference-toolkit images download at start
    // (HF_MODEL_ID…): the weights they serve, with no model data. DJL's `s3://` form is weights besides the model data.
    const fromHub = hubModelOfEnv(c.environment);
    if (fromHub.hub && !hub.some((h) => h.id === fromHub.hub!.id && h.revision === fromHub.hub!.revision)) hub.push(fromHub.hub);
    if (fromHub.uri) extra.push(fromHub.uri);
  }
  return { images: uniq(images), artifacts: uniq(artifacts), digests: uniq(digests), extra: uniq(extra), code: uniq(code), hub, multi: uniq(multi) };
}

/**
 * `additional_images` / `additional_image_digests` / `additional_inference_artifact_uris` / `additional_code_uris`
 * (`Environment.SAGEMAKER_SUBMIT_DIRECTORY` naming a remote script archive) of a package's additional
 * inference specifications (CreateModelPackage `AdditionalInferenceSpecifications`, UpdateModelPackage
 * `AdditionalInferenceSpecificationsToAdd`), when it has any. The artifacts are where the registry keeps the package's
 * compiled or optimized copies (AWS: "Generally used with SageMaker Neo to store the compiled artifacts"): the
 * version's own weights for another target, with the further weights their containers load.
 */
function additionalImages(params: Obj): { additional_images?: string[]; additional_image_digests?: string[]; additional_inference_artifact_uris?: string[]; additional_code_uris?: string[]; additional_hub_models?: HubModel[] } {
  const specs = [...arr(params.additionalInferenceSpecifications), ...arr(params.additionalInferenceSpecificationsToAdd)];
  const c = containerFacts(specs.flatMap((sp) => arr(get(sp, 'containers'))));
  const artifacts = uniq([...c.artifacts, ...c.extra]);
  return {
    ...(c.images.length ? { additional_images: c.images } : {}),
    ...(c.digests.length ? { additional_image_digests: c.digests } : {}),
    ...(artifacts.length ? { additional_inference_artifact_uris: artifacts } : {}),
    ...(c.code.length ? { additional_code_uris: c.code } : {}),
    ...(c.hub.length ? { additional_hub_models: c.hub } : {}),
  };
}

/**
 * The source archive a script-mode job runs (the SageMaker Python SDK's `sagemaker_submit_directory` hyperparameter,
 * which the framework containers download and run: `source_dir` / `entry_point` packed as `sourcedir.tar.gz`). The SDK
 * writes hyperparameters JSON-encoded (`"\"s3://…\""`); a local path (`/opt/ml/code`) is in the image.
 */
function submitDirectory(hyper: unknown): string | undefined {
  const raw = isObj(hyper) ? str(hyper.sagemaker_submit_directory) : undefined;
  if (!raw) return undefined;
  let value = raw;
  try {
    const decoded: unknown = JSON.parse(raw);
    if (typeof decoded === 'string') value = decoded;
  } catch {
    // Not JSON: given as the plain string.
  }
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : undefined;
}

/**
 * The code a processing job runs from S3: the SDK's `ScriptProcessor` / `FrameworkProcessor` upload the script (or
 * source archive) as the processing input named `code`, mounted under `/opt/ml/processing/input/code`.
 */
function processingCode(params: Obj): string[] {
  return arr(params.processingInputs).filter(isObj).flatMap((input) => {
    const uri = str(get(input, 's3Input.s3Uri'));
    const local = str(get(input, 's3Input.localPath')) ?? '';
    return uri && (str(input.inputName) === 'code' || /^\/opt\/ml\/processing\/input\/code(\/|$)/.test(local)) ? [uri] : [];
  });
}

interface DefinitionFacts {
  name?: string;
  image?: string;
  image_pinned?: boolean;
  algorithm?: string;
  role?: string;
  network_isolation?: boolean;
  inter_container_encryption?: boolean;
  vpc?: boolean;
  vpc_config?: Obj;
}

/** Security facts of one job definition: a tuning job's `trainingJobDefinition(s)[]`, a monitoring schedule's inline definition. */
function definitionFacts(def: Obj): DefinitionFacts {
  const image = firstString(def, ['algorithmSpecification.trainingImage']);
  return {
    name: str(def.definitionName),
    image,
    image_pinned: image ? !!imageDigest(image) : undefined,
    algorithm: firstString(def, ['algorithmSpecification.algorithmName']),
    role: str(def.roleArn),
    network_isolation: firstBool(def, ['enableNetworkIsolation', 'networkConfig.enableNetworkIsolation']),
    inter_container_encryption: firstBool(def, ['enableInterContainerTrafficEncryption', 'networkConfig.enableInterContainerTrafficEncryption']),
    ...vpcFacts(def.vpcConfig ?? get(def, 'networkConfig.vpcConfig')),
  };
}

/** True only when every definition says true; false when any says or implies false (left out = off, as for a single job); undefined when none says. */
function allTrue(values: Array<boolean | undefined>): boolean | undefined {
  if (values.every((v) => v === undefined)) return undefined;
  return values.every((v) => v === true);
}

/**
 * Several definitions (`CreateHyperParameterTuningJob.trainingJobDefinitions[]`)
 * in the one `ml.job` the rules read: the least safe value wins — the first
 * image not pinned by digest (else the first image), isolation / VPC /
 * encryption only when every definition has it — and every image, role and
 * per-definition summary is kept (`images`, `roles`, `definitions`).
 */
function combineDefinitions(defs: DefinitionFacts[]): DefinitionFacts & { images?: string[]; roles?: string[]; definitions?: DefinitionFacts[] } {
  if (defs.length <= 1) return defs[0] ?? {};
  const images = uniq(defs.map((d) => d.image));
  const image = images.find((i) => !imageDigest(i)) ?? images[0];
  const roles = uniq(defs.map((d) => d.role));
  const vpc = allTrue(defs.map((d) => d.vpc));
  return {
    image,
    images: images.length > 1 ? images : undefined,
    algorithm: uniq(defs.map((d) => d.algorithm))[0],
    role: roles[0],
    roles: roles.length > 1 ? roles : undefined,
    network_isolation: allTrue(defs.map((d) => d.network_isolation)),
    inter_container_encryption: allTrue(defs.map((d) => d.inter_container_encryption)),
    vpc,
    vpc_config: vpc ? defs[0]!.vpc_config : undefined,
    definitions: defs,
  };
}

const APPROVAL: Record<string, 'approved' | 'rejected' | 'pending'> = {
  Approved: 'approved',
  Rejected: 'rejected',
  PendingManualApproval: 'pending',
};

/**
 * `…:model-package/<group>/<version>` → group (its `name`) and version;
 * an unversioned package ARN `…:model-package/<name>` → name. Anything else → {}.
 *
 * @example
 * modelPackageFromArn('arn:aws:sagemaker:us-east-1:1:model-package/fraud/7') // { name: 'fraud', group: 'fraud', version: '7' }
 * modelPackageFromArn('arn:aws:sagemaker:us-east-1:1:model-package/solo') // { name: 'solo' }
 */
export function modelPackageFromArn(arn: string | undefined): { name?: string; group?: string; version?: string } {
  const m = arn ? /^arn:[^:]+:sagemaker:[^:]*:[^:]*:model-package\/([^/]+)(?:\/(\d+))?$/.exec(arn) : null;
  if (!m) return {};
  return m[2] ? { name: m[1], group: m[1], version: m[2] } : { name: m[1] };
}

/**
 * A `modelPackageGroupName` parameter, which SageMaker accepts as a name or as the group's ARN
 * (`…:model-package-group/<name>`), → the group name, so a registration naming the group by ARN
 * and an approval of `…:model-package/<group>/<version>` name the same model.
 *
 * @example
 * packageGroupName('arn:aws:sagemaker:us-east-1:1:model-package-group/churn') // 'churn'
 * packageGroupName('churn') // 'churn'
 */
export function packageGroupName(v: string | undefined): string | undefined {
  return (v ? /^arn:[^:]+:sagemaker:[^:]*:[^:]*:model-package-group\/([^/]+)$/.exec(v)?.[1] : undefined) ?? v;
}

/**
 * SageMaker tags `[{key, value}]` (CloudTrail), `[{Key, Value}]` (an API shape kept in the
 * user's spelling) or a `{key: value}` object (the Tags of EventBridge job state changes) → a
 * map, or undefined when there are none.
 *
 * @example
 * tagMap([{ key: 'adv_verdict', value: 'passed' }]) // { adv_verdict: 'passed' }
 */
export function tagMap(tags: unknown): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (isObj(tags)) for (const [k, v] of Object.entries(tags)) if (typeof v === 'string') out[k] = v;
  for (const t of arr(tags)) {
    if (!isObj(t)) continue;
    const k = str(t.key) ?? str(t.Key);
    if (k) out[k] = String(t.value ?? t.Value ?? '');
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * `customerMetadataProperties` of a model package (string map), or undefined. The rules read
 * it from `details.metadata` (adversarial evidence such as `adversarial_verdict: passed`).
 */
export function packageMetadata(params: Obj): Record<string, unknown> | undefined {
  const m = params.customerMetadataProperties;
  return isObj(m) && Object.keys(m).length ? m : undefined;
}

/** One report of a package's `ModelMetrics`: which (`model_quality.statistics`, `bias.post_training_report`…) and where. */
export interface PackageMetricsReport {
  report: string;
  uri: string;
  content_digest?: string;
  content_type?: string;
}

/**
 * The evaluation reports CreateModelPackage registers with a package (`modelMetrics`: ModelQuality and
 * ModelDataQuality `statistics` / `constraints`, Bias `report` / `preTrainingReport` / `postTrainingReport`,
 * Explainability `report`; each a MetricsSource of `s3Uri`, optional `contentDigest` and `contentType`). The
 * package holds only their location and the digest its client claimed, never their numbers: what an auditor can
 * link the approved version to, and what a later write there would change. ModelMetrics cannot be updated (a
 * new package replaces it), so only the create names them.
 *
 * @example
 * packageModelMetrics({ modelMetrics: { modelQuality: { statistics: { s3Uri: 's3://b/evaluation.json' } } } })
 * // [{ report: 'model_quality.statistics', uri: 's3://b/evaluation.json' }]
 */
export function packageModelMetrics(params: Obj): PackageMetricsReport[] {
  const out: PackageMetricsReport[] = [];
  const metrics = params.modelMetrics;
  if (!isObj(metrics)) return out;
  for (const [group, sources] of Object.entries(metrics)) {
    if (!isObj(sources)) continue;
    for (const [which, src] of Object.entries(sources)) {
      const uri = isObj(src) ? str(src.s3Uri) : undefined;
      if (!uri) continue;
      const digest = str((src as Obj).contentDigest);
      const type = str((src as Obj).contentType);
      out.push({ report: `${snakeKey(group)}.${snakeKey(which)}`, uri, ...(digest ? { content_digest: digest } : {}), ...(type ? { content_type: type } : {}) });
    }
  }
  return out;
}

/** `preTrainingReport` → `pre_training_report`. */
const snakeKey = (k: string) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

/**
 * The model variants an inference experiment puts on its endpoint, in the shape of endpoint config variants:
 * Create/UpdateInferenceExperiment's `modelVariants` (those `shadowModeConfig.shadowModelVariants` names are
 * shadows), StopInferenceExperiment's `desiredModelVariants` (what serves once it stops).
 */
function experimentVariants(params: Obj): { production: Obj[]; shadow: Obj[] } {
  const shadowNames = new Set(arr(get(params, 'shadowModeConfig.shadowModelVariants')).map((v) => str(get(v, 'shadowModelVariantName'))));
  const production: Obj[] = [];
  const shadow: Obj[] = [];
  for (const v of [...arr(params.modelVariants), ...arr(params.desiredModelVariants)].filter(isObj)) {
    const rt = get(v, 'infrastructureConfig.realTimeInferenceConfig');
    const variant: Obj = { variantName: v.variantName, modelName: v.modelName, instanceType: get(rt, 'instanceType'), initialInstanceCount: get(rt, 'instanceCount') };
    (shadowNames.has(str(v.variantName)) ? shadow : production).push(variant);
  }
  return { production, shadow };
}

/** Tags SageMaker Pipelines puts on every job a pipeline step starts (spec §2.3a). */
const PIPELINE_EXECUTION_TAG = 'sagemaker:pipeline-execution-arn';
const PIPELINE_STEP_TAG = 'sagemaker:pipeline-step-name';
const PIPELINE_EXECUTION_ARN = /^arn:aws[a-z-]*:sagemaker:[^:]+:\d{12}:pipeline\/[^/]+\/execution\/[^/]+$/;

/**
 * What links a job to the run that started it, whatever its name: the SageMaker Pipelines execution and step (the
 * job's `sagemaker:pipeline-*` tags; a tuning job's training jobs inherit its tags), and the tuning job that
 * launched a training job (`TuningJobArn` of DescribeTrainingJob / the state-change event). The tuning job is named
 * as the training job's name writes it (the ARN lower-cases names; a training job's name starts with its tuning
 * job's). Empty when nothing links it.
 */
function pipelineLink(params: Obj, jobName: string | undefined): { pipeline_execution?: string; pipeline_step?: string; tuning_job?: string } {
  const tags = tagMap(params.tags);
  const execution = tags?.[PIPELINE_EXECUTION_TAG];
  const step = tags?.[PIPELINE_STEP_TAG];
  const link: { pipeline_execution?: string; pipeline_step?: string; tuning_job?: string } = {};
  if (execution && PIPELINE_EXECUTION_ARN.test(execution)) {
    link.pipeline_execution = execution;
    if (step) link.pipeline_step = step;
  }
  const tuning = /:hyper-parameter-tuning-job\/([^/]+)$/.exec(str(params.tuningJobArn) ?? '')?.[1];
  if (tuning) link.tuning_job = jobName?.toLowerCase().startsWith(`${tuning}-`) ? jobName.slice(0, tuning.length) : tuning;
  return link;
}

/**
 * The pipeline execution that registered a model package: `MetadataProperties.GeneratedBy` when it is an execution's
 * ARN, else the `sagemaker:pipeline-execution-arn` tag. Undefined for a package registered by hand.
 *
 * @example
 * packagePipelineRun('arn:aws:sagemaker:us-east-2:123456789012:pipeline/p/execution/4r83jejmhorv', undefined) // that ARN
 */
export function packagePipelineRun(generatedBy: string | undefined, tags: unknown): string | undefined {
  if (generatedBy && PIPELINE_EXECUTION_ARN.test(generatedBy)) return generatedBy;
  const tagged = tagMap(tags)?.[PIPELINE_EXECUTION_TAG];
  return tagged && PIPELINE_EXECUTION_ARN.test(tagged) ? tagged : undefined;
}

/**
 * What an inference-optimization job (CreateOptimizationJob) makes from what: the SageMaker Model the service creates
 * from its output (`OutputConfig.SageMakerModel.ModelName`: no CreateModel of it is logged), and its source — the
 * `ModelSource.S3.S3Uri` weights or the existing `ModelSource.SageMakerModel` — so the registry can judge the output
 * by the source's approval; `output_location` and `deployment_instance_type` (what the weights are made for).
 */
function optimizationFacts(params: Obj): { output_model?: string; source_model?: string; source_uri?: string; optimization_images?: string[]; output_location?: string; deployment_instance_type?: string } {
  const output = str(get(params, 'outputConfig.sageMakerModel.modelName'));
  // Where the optimized weights are uploaded (`OutputConfig.S3OutputLocation`) and the instance type they are made
  // for (`DeploymentInstanceType`): the optimization job's target, as a compilation job's device is.
  const location = str(get(params, 'outputConfig.s3OutputLocation'));
  const instance = str(params.deploymentInstanceType);
  const sourceModel = str(get(params, 'modelSource.sageMakerModel.modelName'));
  const sourceUri = str(get(params, 'modelSource.s3.s3Uri'));
  // A container the caller names for a step (`OptimizationConfigs[].ModelQuantizationConfig.Image`, compilation,
  // sharding…) runs that step and writes the output weights.
  const images = uniq(arr(params.optimizationConfigs).flatMap((c) => (isObj(c) ? Object.values(c) : [])).flatMap((step) => (isObj(step) && str(step.image) ? [str(step.image)!] : [])));
  return {
    ...(output ? { output_model: output } : {}), ...(sourceModel ? { source_model: sourceModel } : {}), ...(sourceUri ? { source_uri: sourceUri } : {}),
    ...(images.length ? { optimization_images: images } : {}),
    ...(location ? { output_location: location } : {}), ...(instance ? { deployment_instance_type: instance } : {}),
  };
}

/** A hub content document (`HubContentDocument`, a JSON string; an object when already parsed), or undefined. */
function hubContentDocument(v: unknown): Obj | undefined {
  if (isObj(v)) return v;
  if (typeof v !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(v);
    return isObj(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a Neo compilation job (CreateCompilationJob) reads and where it writes: `source_uri` (`InputConfig.S3Uri`) or
 * `source_package` (`ModelPackageVersionArn`, the package version whose model it compiles), `output_location`
 * (`OutputConfig.S3OutputLocation`) and `target_device` or `target_platform`. CloudTrail logs no result of the job: Neo
 * writes the compiled model into the output location as `<input name>-<target device>.tar.gz` (a platform's name is
 * not documented).
 */
function compilationFacts(params: Obj): { source_uri?: string; source_package?: string; output_location?: string; target_device?: string; target_platform?: string } {
  // A `TargetPlatform` instead of a device: `<Os>_<Arch>[_<Accelerator>]`, e.g. `LINUX_X86_64_NVIDIA`.
  const platform = [get(params, 'outputConfig.targetPlatform.os'), get(params, 'outputConfig.targetPlatform.arch'), get(params, 'outputConfig.targetPlatform.accelerator')].map(str).filter((x): x is string => !!x);
  const out = {
    source_uri: str(get(params, 'inputConfig.s3Uri')), source_package: str(params.modelPackageVersionArn), output_location: str(get(params, 'outputConfig.s3OutputLocation')),
    target_device: str(get(params, 'outputConfig.targetDevice')), target_platform: platform.length ? platform.join('_') : undefined,
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

/**
 * What a processing job reads and writes besides S3 locations: the feature groups it ingests into
 * (`processingOutputConfig.outputs[].featureStoreOutput.featureGroupName`: a Data Wrangler flow's export writes the
 * records the training data is read from) and the queries its dataset definitions run (`processingInputs[].
 * datasetDefinition`: Athena catalog / database / work group, Redshift cluster / database; the query text stays in `raw`).
 */
function processingDataFacts(params: Obj): { feature_group_outputs?: string[]; dataset_definitions?: Obj[] } {
  const groups = uniq(arr(get(params, 'processingOutputConfig.outputs')).map((o) => str(get(o, 'featureStoreOutput.featureGroupName'))));
  const defs = arr(params.processingInputs).flatMap((input): Obj[] => {
    const athena = get(input, 'datasetDefinition.athenaDatasetDefinition');
    const redshift = get(input, 'datasetDefinition.redshiftDatasetDefinition');
    if (isObj(athena)) return [Object.fromEntries(Object.entries({ type: 'athena', catalog: str(athena.catalog), database: str(athena.database), work_group: str(athena.workGroup), staged_at: str(athena.outputS3Uri) }).filter(([, v]) => v !== undefined))];
    if (isObj(redshift)) return [Object.fromEntries(Object.entries({ type: 'redshift', cluster_id: str(redshift.clusterId), database: str(redshift.database), db_user: str(redshift.dbUser), staged_at: str(redshift.outputS3Uri) }).filter(([, v]) => v !== undefined))];
    return [];
  });
  return { ...(groups.length ? { feature_group_outputs: groups } : {}), ...(defs.length ? { dataset_definitions: defs } : {}) };
}

/**
 * Who and what labels a Ground Truth labeling job's data (CreateLabelingJob `humanTaskConfig`): the Lambda functions it
 * runs over every data object before workers see it (`preHumanTaskLambdaArn`) and over the workers' answers to decide
 * each label (`annotationConsolidationConfig.annotationConsolidationLambdaArn`) — code that writes the training labels —
 * and the work team (`workteamArn`; `public-crowd` is Amazon Mechanical Turk, anyone who takes the task).
 */
function labelingFacts(params: Obj): { lambda_functions?: string[]; pre_annotation_lambda?: string; consolidation_lambda?: string; workteam?: string; public_workforce?: true; automated_labeling?: true; labeling_algorithm?: string } {
  const pre = str(get(params, 'humanTaskConfig.preHumanTaskLambdaArn'));
  const acs = str(get(params, 'humanTaskConfig.annotationConsolidationConfig.annotationConsolidationLambdaArn'));
  const workteam = str(get(params, 'humanTaskConfig.workteamArn'));
  const fns = uniq([pre, acs]);
  // Automated data labeling (`labelingJobAlgorithmsConfig`): Ground Truth trains and runs a model over the data on
  // instances of the job (`labelingJobResourceConfig.vpcConfig` is their network); without it, human workers and the
  // Lambda functions label it, nothing of the caller's runs on an instance to isolate.
  const algorithms = get(params, 'labelingJobAlgorithmsConfig');
  const out = {
    lambda_functions: fns.length ? fns : undefined, pre_annotation_lambda: pre, consolidation_lambda: acs, workteam, public_workforce: workteam && /:workteam\/public-crowd\//.test(workteam) ? (true as const) : undefined,
    automated_labeling: isObj(algorithms) ? (true as const) : undefined, labeling_algorithm: str(get(params, 'labelingJobAlgorithmsConfig.labelingJobAlgorithmSpecificationArn')),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

/**
 * The `ml` block for one SageMaker request or service-event detail.
 * `operation` is the eventName (or detail-type) it came from.
 *
 * @example
 * sagemakerMl('CreateTrainingJob', record.requestParameters, record.responseElements)
 */
export function sagemakerMl(operation: string, params: Obj, response: Obj = {}): Ml {
  const ml: Ml = {};
  const kind = jobType(operation);
  // A tuning job carries its training definition(s) in either form (spec §2.3); a monitoring schedule may inline one.
  const defs: Obj[] = isObj(params.trainingJobDefinition) ? [params.trainingJobDefinition] : arr(params.trainingJobDefinitions).filter(isObj);
  const monitorDef = get(params, 'monitoringScheduleConfig.monitoringJobDefinition');
  if (!defs.length && isObj(monitorDef)) defs.push(monitorDef);
  const def = combineDefinitions(defs.map(definitionFacts));

  if (kind) {
    const image = firstString(params, ['algorithmSpecification.trainingImage', 'appSpecification.imageUri', 'trainingSpecification.trainingImage']) ?? def.image ?? appSpecImage(params);
    const ownVpc = params.vpcConfig ?? get(params, 'networkConfig.vpcConfig') ?? get(params, 'securityConfig.vpcConfig') ?? get(params, 'labelingJobAlgorithmsConfig.labelingJobResourceConfig.vpcConfig');
    const vpc = ownVpc !== undefined ? vpcFacts(ownVpc) : { vpc: def.vpc, vpc_config: def.vpc_config };
    const envKeys = uniq([params, ...defs].flatMap((o) => (isObj(o.environment) ? Object.keys(o.environment) : [])));
    // The values of the few variables that point pip at an index: the rest of the environment stays out (names only).
    // The job's own env with its container entrypoint and arguments (a processing job's `sh -c "pip install …"`), so
    // `-i $IDX` resolves from the env; a tuning job's definitions carry env alone.
    const command = [...arr(get(params, 'algorithmSpecification.containerEntrypoint') ?? get(params, 'appSpecification.containerEntrypoint')), ...arr(get(params, 'algorithmSpecification.containerArguments') ?? get(params, 'appSpecification.containerArguments'))];
    const packageFacts = [packageSourceFactsOf({ env: params.environment, command }), ...defs.map((d) => packageSourceFactsOf({ env: d.environment }))];
    const packageSources = uniq(packageFacts.flatMap((f) => f.sources));
    const hiddenSources = uniq(packageFacts.flatMap((f) => f.unverifiable));
    const codeUris = uniq([...[params.hyperParameters, ...defs.map((d) => d.staticHyperParameters)].map(submitDirectory), ...processingCode(params)]);
    const hyper = isObj(params.hyperParameters) ? params.hyperParameters : defs.length === 1 && isObj(defs[0]!.staticHyperParameters) ? defs[0]!.staticHyperParameters : undefined;
    const digest = imageDigest(image) ?? str(params.trainingImageDigest);
    ml.job = {
      name: firstString(params, ['trainingJobName', 'processingJobName', 'transformJobName', 'hyperParameterTuningJobName', 'autoMLJobName', 'labelingJobName', 'jobDefinitionName', 'monitoringScheduleName', 'compilationJobName', 'optimizationJobName', 'jobName']),
      type: kind,
      image,
      image_digest: digest,
      image_pinned: image ? !!imageDigest(image) : undefined,
      images: def.images,
      algorithm: firstString(params, ['algorithmSpecification.algorithmName']) ?? def.algorithm,
      role: firstString(params, ['roleArn']) ?? def.role,
      roles: def.roles,
      network_isolation: firstBool(params, ['enableNetworkIsolation', 'networkConfig.enableNetworkIsolation']) ?? def.network_isolation,
      inter_container_encryption: firstBool(params, ['enableInterContainerTrafficEncryption', 'networkConfig.enableInterContainerTrafficEncryption', 'securityConfig.enableInterContainerTrafficEncryption']) ?? def.inter_container_encryption,
      ...vpc,
      status: firstString(params, ['trainingJobStatus', 'processingJobStatus', 'transformJobStatus', 'hyperParameterTuningJobStatus', 'monitoringScheduleStatus']),
      instance_type: firstString(params, ['resourceConfig.instanceType', 'processingResources.clusterConfig.instanceType', 'transformResources.instanceType', 'jobResources.clusterConfig.instanceType']),
      kms_key: firstString(params, ['outputDataConfig.kmsKeyId', 'processingOutputConfig.kmsKeyId', 'transformOutput.kmsKeyId', 'outputConfig.kmsKeyId']),
      volume_kms_key: firstString(params, ['resourceConfig.volumeKmsKeyId', 'processingResources.clusterConfig.volumeKmsKeyId', 'transformResources.volumeKmsKeyId']),
      // Flags' secrets (`--password x`) and hyperparameters' (`hf_token`) hidden: these fields reach every sink.
      entrypoint: redactArgv(arr(get(params, 'algorithmSpecification.containerEntrypoint') ?? get(params, 'appSpecification.containerEntrypoint')).map(String)).argv as string[],
      arguments: redactArgv(arr(get(params, 'algorithmSpecification.containerArguments') ?? get(params, 'appSpecification.containerArguments')).map(String)).argv as string[],
      remote_debug: firstBool(params, ['remoteDebugConfig.enableRemoteDebug']),
      repository_access_mode: firstString(params, ['algorithmSpecification.trainingImageConfig.trainingRepositoryAccessMode']),
      params: redactValueMap(hyper) as Record<string, unknown> | undefined,
      env_keys: envKeys.length ? envKeys.sort() : undefined,
      package_sources: packageSources.length ? packageSources : undefined,
      package_sources_unverifiable: hiddenSources.length ? hiddenSources : undefined,
      code_uris: codeUris.length ? codeUris : undefined,
      definitions: def.definitions,
    };
    Object.assign(ml.job, pipelineLink(params, ml.job.name));
    // The pipeline execution a step job ran in, under the name every stage's event gives it (the execution's own
    // events, the model package it registered), so one search follows the run from data to registry.
    if (typeof ml.job.pipeline_execution === 'string') ml.provenance = { ...ml.provenance, pipeline_run: ml.job.pipeline_execution };
    // A fine-tuning job's base model: the input channel JumpStart (and the SDK's fine-tuning recipes) name `model`,
    // whose weights the job starts from (its `modelAccessConfig.acceptEula` says a gated model's licence was accepted).
    const baseModel = arr(params.inputDataConfig).filter(isObj).find((c) => str(c.channelName) === 'model');
    const baseUri = str(get(baseModel, 'dataSource.s3DataSource.s3Uri'));
    if (baseUri) ml.job.base_model = baseUri;
    if (!(ml.job.entrypoint as string[]).length) delete ml.job.entrypoint;
    if (!(ml.job.arguments as string[]).length) delete ml.job.arguments;
    // A transform job runs a SageMaker Model (CreateModel) over a batch: named where an inference component names
    // its model, so the rules resolve it to the package or artifact it serves (the registry's approval of that).
    if (kind === 'transform' && str(params.modelName)) ml.deployment = { model: str(params.modelName) };
    if (/OptimizationJob$/.test(operation)) Object.assign(ml.job, optimizationFacts(params));
    if (/CompilationJob$/.test(operation)) Object.assign(ml.job, compilationFacts(params));
    if (kind === 'labeling') Object.assign(ml.job, labelingFacts(params));
    if (kind === 'processing') Object.assign(ml.job, processingDataFacts(params));
  }

  // Models (CreateModel) and model packages (registry).
  const containers = [params.primaryContainer, ...arr(params.containers), ...arr(get(params, 'inferenceSpecification.containers')), ...arr(get(params, 'specification.container') ? [get(params, 'specification.container')] : [])];
  if (/^((Create|Delete|Describe|Update)?Model)$|ModelPackage|InferenceComponent/.test(operation)) {
    const c = containerFacts(containers);
    // Describe/DeleteModelPackage take a name or a (versioned) ARN in modelPackageName: split it like UpdateModelPackage's modelPackageArn.
    const pkgName = str(params.modelPackageName);
    const pkgArn = str(params.modelPackageArn) ?? str(response.modelPackageArn) ?? (pkgName?.startsWith('arn:') ? pkgName : undefined);
    const pkg = modelPackageFromArn(pkgArn);
    const approvalStatus = str(params.modelApprovalStatus);
    const vpc = vpcFacts(params.vpcConfig);
    // The packages a Model is made from: its primary container's, or each container's of an inference pipeline.
    const sources = uniq([params.primaryContainer, ...arr(params.containers)].filter(isObj).map((x) => str(x.modelPackageName)).filter((x): x is string => !!x));
    ml.model = {
      name: packageGroupName(str(params.modelPackageGroupName)) ?? pkg.name ?? str(params.modelName) ?? pkgName,
      version: pkg.version ?? (num(params.modelPackageVersion) !== undefined ? String(num(params.modelPackageVersion)) : undefined),
      approval: approvalStatus ? APPROVAL[approvalStatus] : undefined,
      approval_status: approvalStatus,
      approval_description: str(params.approvalDescription),
      artifact_uri: c.artifacts[0],
      artifact_uris: c.artifacts.length > 1 ? c.artifacts : undefined,
      // Not the model's artifact (a Model made from a package serves the package's): more weights it loads, judged apart.
      additional_artifact_uris: c.extra.length ? c.extra : undefined,
      image: c.images[0],
      images: c.images.length > 1 ? c.images : undefined,
      image_digests: c.digests.length ? c.digests : undefined,
      // The script archive its containers download and run (Environment.SAGEMAKER_SUBMIT_DIRECTORY, remote): code beside the image.
      code_uris: c.code.length ? c.code : undefined,
      // The Hugging Face Hub repository its containers load (HF_MODEL_ID / OPTION_MODEL_ID), and its revision.
      hub_id: c.hub[0]?.id,
      hub_revision: c.hub[0]?.revision,
      hub_models: c.hub.length ? c.hub : undefined,
      multi_model_prefixes: c.multi.length ? c.multi : undefined,
      image_pinned: c.images.length ? c.images.every((i) => !!imageDigest(i)) || c.digests.length >= c.images.length : undefined,
      role: str(params.executionRoleArn),
      network_isolation: bool(params.enableNetworkIsolation),
      ...vpc,
      status: str(params.modelPackageStatus),
      generated_by: str(get(params, 'metadataProperties.generatedBy')),
      skip_validation: str(params.skipModelValidation),
      source_package: sources[0],
      // An inference pipeline of packages: every container's, each judged on its own (an approved first container
      // must not vouch for the others).
      source_packages: sources.length > 1 ? sources : undefined,
      // Images and artifacts of the package's additional inference specifications (a GPU variant, a Neo-compiled
      // copy): approved to serve it too.
      ...additionalImages(params),
      // Tags given at registration (CreateModelPackage, the state-change event): evidence and approval markers.
      tags: redactTagMap(tagMap(params.tags)),
    };
    // A package a pipeline registered (its RegisterModel step sets `MetadataProperties.GeneratedBy` to the execution's
    // ARN and tags it with it): the run its training ran in, as the step jobs' and the execution's events name it.
    const run = packagePipelineRun(ml.model.generated_by as string | undefined, params.tags);
    if (run) ml.provenance = { ...ml.provenance, pipeline_run: run };
  }

  // A private hub's model (ImportHubContent, UpdateHubContent): its document, a JSON string, says where its weights,
  // inference script and image are; JumpStart copies them from there when the model is deployed or fine-tuned.
  if (/HubContent$/.test(operation) && !/Reference$/.test(operation)) {
    const doc = hubContentDocument(params.hubContentDocument);
    if (doc || str(params.hubContentName)) {
      const hostingArtifact = str(doc?.HostingArtifactUri) ?? str(doc?.HostingPrepackedArtifactUri);
      const hostingScript = str(doc?.HostingScriptUri);
      const trainingScript = str(doc?.TrainingScriptUri);
      ml.model = {
        ...ml.model,
        name: str(params.hubContentName),
        version: str(params.hubContentVersion),
        hub: str(params.hubName),
        hub_content_type: str(params.hubContentType),
        artifact_uri: hostingArtifact,
        image: str(doc?.HostingEcrUri),
        code_uris: hostingScript ? [hostingScript] : undefined,
        training_artifact_uri: str(doc?.TrainingArtifactUri),
        training_image: str(doc?.TrainingEcrUri),
        training_code_uris: trainingScript ? [trainingScript] : undefined,
      };
      const uris = uniq([hostingArtifact, hostingScript, str(doc?.TrainingArtifactUri), trainingScript]);
      if (uris.length) ml.data = { uris, inputs: uris };
      return ml;
    }
  }

  // A private hub's reference to a public JumpStart model (Create/Update/DeleteHubContentReference): no document of
  // its own, the model is the public hub's (`SageMakerPublicHubContentArn`, `…:aws:hub-content/SageMakerPublicHub/Model/<id>`),
  // offered to the private hub's users from `MinVersion` on. Named by `HubContentName`, else by the public model's id
  // (what SageMaker names the reference when the request gives no name).
  if (/HubContentReference$/.test(operation)) {
    const publicArn = str(params.sageMakerPublicHubContentArn);
    const publicId = publicArn ? /:hub-content\/[^/]+\/Model\/([^/]+)/.exec(publicArn)?.[1] : undefined;
    const name = str(params.hubContentName) ?? publicId;
    if (name || publicArn) {
      ml.model = {
        ...ml.model,
        name,
        hub: str(params.hubName),
        hub_content_type: str(params.hubContentType) ?? 'ModelReference',
        public_hub_content_arn: publicArn,
        jumpstart_model_id: publicId,
        min_version: str(params.minVersion),
      };
      return ml;
    }
  }

  // A HyperPod cluster (CreateCluster, UpdateCluster): every node of an instance group downloads its lifecycle
  // configuration (`LifeCycleConfig.SourceS3Uri`) and runs its `OnCreate` script as root, so that prefix is code the
  // cluster runs, judged as a job's code archive; the groups' execution roles and the cluster's VPC as a job's.
  if (/^(Create|Update)Cluster$/.test(operation)) {
    const groups = [...arr(params.instanceGroups), ...arr(params.restrictedInstanceGroups)].filter(isObj);
    const code = uniq(groups.map((g) => str(get(g, 'lifeCycleConfig.sourceS3Uri'))));
    const onCreate = uniq(groups.map((g) => str(get(g, 'lifeCycleConfig.onCreate'))));
    const roles = uniq(groups.map((g) => str(g.executionRole)));
    const types = uniq(groups.map((g) => str(g.instanceType)));
    ml.job = {
      ...ml.job,
      name: str(params.clusterName),
      type: 'cluster',
      role: roles[0],
      roles: roles.length > 1 ? roles : undefined,
      ...(params.vpcConfig !== undefined ? vpcFacts(params.vpcConfig) : {}),
      instance_type: types[0],
      code_uris: code.length ? code : undefined,
      lifecycle_on_create: onCreate.length ? onCreate : undefined,
    };
  }

  // Endpoints and their configurations.
  if (/Endpoint|InferenceComponent|InferenceExperiment/.test(operation)) {
    const experiment = /InferenceExperiment$/.test(operation) ? experimentVariants(params) : undefined;
    const variants = experiment?.production ?? arr(params.productionVariants).filter(isObj);
    const weights = arr(params.desiredWeightsAndCapacities).filter(isObj);
    const shadows = experiment?.shadow ?? arr(params.shadowProductionVariants).filter(isObj);
    const traffic: Record<string, number> = {};
    for (const v of [...variants, ...weights]) {
      const name = str(v.variantName);
      const w = num(v.initialVariantWeight ?? v.desiredWeight ?? v.currentWeight);
      if (name && w !== undefined) traffic[name] = w;
    }
    ml.deployment = {
      endpoint: str(params.endpointName),
      endpoint_config: str(params.endpointConfigName),
      variant: variants.length === 1 ? str(variants[0]!.variantName) : str(params.variantName),
      traffic: Object.keys(traffic).length ? traffic : undefined,
      // Shadow variants too (marked): they serve a model as much as the production ones, so it is judged as well.
      variants: variants.length || shadows.length
        ? [...variants, ...shadows].map((v, i) => ({
            name: str(v.variantName),
            shadow: i >= variants.length || undefined,
            model: str(v.modelName),
            instance_type: str(v.instanceType),
            instance_count: num(v.initialInstanceCount ?? v.currentInstanceCount ?? v.desiredInstanceCount),
            weight: num(v.initialVariantWeight ?? v.currentWeight ?? v.desiredWeight),
            ssm_access: bool(v.enableSSMAccess),
            serverless: isObj(v.serverlessConfig) ? true : undefined,
          }))
        : undefined,
      shadow_variants: shadows.length || undefined,
      data_capture: isObj(params.dataCaptureConfig)
        ? {
            // EnableCapture is optional and defaults to true (the API reference): a config that leaves it out captures.
            enabled: bool(params.dataCaptureConfig.enableCapture) ?? true,
            destination: str(params.dataCaptureConfig.destinationS3Uri),
            kms_key: str(params.dataCaptureConfig.kmsKeyId),
            sampling_percentage: num(params.dataCaptureConfig.initialSamplingPercentage),
            capture_modes: arr(params.dataCaptureConfig.captureOptions).filter(isObj).map((o) => str(o.captureMode)).filter((x): x is string => !!x),
          }
        : undefined,
      kms_key: str(params.kmsKeyId),
      role: str(params.executionRoleArn),
      network_isolation: bool(params.enableNetworkIsolation),
      model: str(get(params, 'specification.modelName')) ?? str(params.modelName),
      // An adapter inference component (a LoRA adapter at `specification.container.artifactUrl`) runs inside the base
      // component it names: the model it changes.
      base_inference_component: str(get(params, 'specification.baseInferenceComponentName')),
      status: str(params.endpointStatus),
      deployment_config: isObj(params.deploymentConfig) ? Object.keys(params.deploymentConfig) : undefined,
    };
  }

  // Feature groups (ingestion).
  if (/FeatureGroup/.test(operation)) {
    ml.job = {
      ...(ml.job ?? {}),
      role: str(params.roleArn),
      kms_key: firstString(params, ['offlineStoreConfig.s3StorageConfig.kmsKeyId', 'onlineStoreConfig.securityConfig.kmsKeyId']),
    };
    ml.feature_group = {
      name: str(params.featureGroupName),
      online: bool(get(params, 'onlineStoreConfig.enableOnlineStore')),
      offline_uri: str(get(params, 'offlineStoreConfig.s3StorageConfig.s3Uri')),
    };
  }

  // Pipelines and their executions.
  if (/Pipeline/.test(operation)) {
    const execArn = str(params.pipelineExecutionArn) ?? str(response.pipelineExecutionArn);
    ml.provenance = {
      pipeline: str(params.pipelineName) ?? str(params.pipelineArn) ?? (execArn ? execArn.replace(/\/execution\/.*$/, '') : undefined),
      run_id: execArn,
      pipeline_run: execArn,
      pipeline_version: str(params.pipelineVersionId) ?? str(response.pipelineVersionId),
      step: str(params.stepName),
    };
    if (!ml.job?.role && str(params.roleArn)) ml.job = { ...(ml.job ?? {}), role: str(params.roleArn) };
    const parameters = arr(params.pipelineParameters).filter(isObj);
    if (parameters.length) ml.provenance.parameters = Object.fromEntries(parameters.map((x) => [String(x.name), x.value]));
  }

  const { inputs, outputs } = s3Uris(params);
  if (inputs.length || outputs.length) ml.data = { uris: uniq([...inputs, ...outputs]), inputs: inputs.length ? inputs : undefined, outputs: outputs.length ? outputs : undefined };
  return ml;
}
