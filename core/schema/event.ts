import { z } from 'zod';
import { ACTIONS } from './actions.js';

/**
 * The normalized event, schema version "1". Field names are a contract:
 * rules, sinks, saved searches and outside checks rely on them. Add fields,
 * never rename. Sub-objects under `ml` are loose (they keep extra keys a
 * connector knows) so a platform fact is never dropped for want of a field.
 */
export const SCHEMA_VERSION = '1' as const;

export const Platform = z.enum(['mlflow', 'kubeflow', 'sagemaker', 'vertex', 'custom']);
export const Stage = z.enum(['ingestion', 'preprocessing', 'training', 'evaluation', 'registry', 'serving', 'platform']);
export const Outcome = z.enum(['success', 'failure', 'unknown']);
export const ActorType = z.enum(['user', 'service', 'system', 'unknown']);

const rfc3339 = z.iso.datetime({ offset: true });
const str = z.string();

export const Actor = z.object({
  id: str.optional(),
  name: str.optional(),
  email: str.optional(),
  type: ActorType.default('unknown'),
  ip: str.optional(),
  user_agent: str.optional(),
  mfa: z.boolean().optional(),
  session_issuer: str.optional(),
  /** Delegation chain (service account impersonation, assumed roles), outermost first. */
  chain: z.array(str).optional(),
  /** Credential the actor authenticated with (access key id, service-account key name); never a secret. */
  key_id: str.optional(),
});

export const Resource = z.object({
  type: str,
  id: str.optional(),
  name: str.optional(),
  version: str.optional(),
  uri: str.optional(),
  namespace: str.optional(),
});

export const Cloud = z.object({
  provider: z.enum(['aws', 'gcp', 'onprem', 'azure', 'other']),
  account: str.optional(),
  region: str.optional(),
  project: str.optional(),
});

export const MlModel = z.looseObject({
  name: str.optional(),
  version: str.optional(),
  /** approved | pending | rejected | none (never approved) */
  approval: z.enum(['approved', 'pending', 'rejected', 'none']).optional(),
  aliases: z.array(str).optional(),
  artifact_uri: str.optional(),
  sha256: str.optional(),
  run_id: str.optional(),
  stage: str.optional(),
  status: str.optional(),
  tags: z.record(str, str).optional(),
  /** Code archives the serving containers download and run (SageMaker `Environment.SAGEMAKER_SUBMIT_DIRECTORY` naming a remote location). */
  code_uris: z.array(str).optional(),
  /**
   * Where the packages of the model's own environment come from (an MLflow model's `requirements.txt`, `conda.yaml`,
   * `python_env.yaml`, which `pyfunc`'s env restore installs): index and requirement URLs, `conda:<name>` channels,
   * as `ml.job.package_sources`.
   */
  package_sources: z.array(str).optional(),
  /** Sources those files name but do not show (a `${VAR}` pip expands from the environment), as `ml.job.package_sources_unverifiable`. */
  package_sources_unverifiable: z.array(str).optional(),
  /**
   * The Hugging Face Hub repository (`owner/name`) a serving container downloads at start instead of model data
   * (SageMaker `Environment.HF_MODEL_ID` / DJL `OPTION_MODEL_ID`, a Vertex container's `MODEL_ID`); the first when several.
   */
  hub_id: str.optional(),
  /** The Hub revision asked for with `hub_id` (`HF_MODEL_REVISION`…): a branch, tag or commit; unset: the default branch. */
  hub_revision: str.optional(),
  /** Every Hub model the containers load: `{id, revision?, task?, trust_remote_code?}`. */
  hub_models: z.array(z.looseObject({ id: str, revision: str.optional(), task: str.optional(), trust_remote_code: z.boolean().optional() })).optional(),
  /**
   * The S3 prefixes a SageMaker multi-model container (`Mode: MultiModel`) loads its models from: every object under
   * one is a model `InvokeEndpoint` can name (`TargetModel`), with no registry step.
   */
  multi_model_prefixes: z.array(str).optional(),
});

export const MlJob = z.looseObject({
  name: str.optional(),
  type: str.optional(),
  image: str.optional(),
  image_digest: str.optional(),
  /** True when the image reference is pinned by digest (@sha256:…). */
  image_pinned: z.boolean().optional(),
  /** Every image when a job runs several (a tuning job with several definitions); `image` is the least safe. */
  images: z.array(str).optional(),
  role: str.optional(),
  network_isolation: z.boolean().optional(),
  /** VPC / private network the job runs in (id or name), or true when present but unnamed. */
  vpc: z.union([str, z.boolean()]).optional(),
  status: str.optional(),
  instance_type: str.optional(),
  kms_key: str.optional(),
  params: z.record(str, z.unknown()).optional(),
  /**
   * Where the job's Python packages come from besides its image: the indexes pip / uv is pointed at (`PIP_INDEX_URL`,
   * `--extra-index-url`…) and requirements fetched from a URL (`git+https://…`), credentials hidden.
   */
  package_sources: z.array(str).optional(),
  /**
   * Package sources the request names but does not show, each `what: why` (`--index-url ${PIP_URL}: PIP_URL not set
   * in the request`, `PIP_INDEX_URL: from secretKeyRef pip/url`, `PIP_CONFIG_FILE=/etc/pip.conf: a config file the
   * request does not show`): an index the log cannot show, only the running job knows.
   */
  package_sources_unverifiable: z.array(str).optional(),
  /**
   * The code archives the job downloads and runs besides its image: SageMaker script mode's `sagemaker_submit_directory`,
   * a Vertex `pythonPackageSpec.packageUris`.
   */
  code_uris: z.array(str).optional(),
  /**
   * The model a fine-tuning job starts from: a Vertex AI tuning job's `baseModel` (or the tuned model it continues,
   * `preTunedModel.tunedModelName`), the S3 location of a SageMaker (JumpStart) training job's `model` input channel.
   */
  base_model: str.optional(),
  /** The checkpoint of `base_model` the tuning starts from (Vertex `preTunedModel.checkpointId`). */
  base_checkpoint_id: str.optional(),
});

export const MlData = z.looseObject({
  uris: z.array(str).optional(),
  rows: z.number().optional(),
  bytes: z.number().optional(),
  schema_hash: str.optional(),
  /** inputs / outputs when an event links both (provenance). */
  inputs: z.array(str).optional(),
  outputs: z.array(str).optional(),
});

export const MlCode = z.looseObject({ repo: str.optional(), commit: str.optional(), source: str.optional() });

export const MlDeployment = z.looseObject({
  endpoint: str.optional(),
  variant: str.optional(),
  traffic: z.union([z.number(), z.record(str, z.number())]).optional(),
  model_uri: str.optional(),
  /** Every model location when a deployment names several (KServe storageUris, LoRA adapters); model_uri is the first. */
  model_uris: z.array(str).optional(),
  /** Container images a deployment (or a serving runtime) runs: KServe predictor, transformer and explainer containers, as written. */
  images: z.array(str).optional(),
  /**
   * The configured MLflow server (`connectors.mlflow.servers[].id`) whose registry the deployment's `models:/…` URIs
   * name: a KServe cluster's `mlflow_server`. Unset: the URI names no server.
   */
  mlflow_server: str.optional(),
  /**
   * The MLflow workspace (on `mlflow_server`, else on the default server) whose registry the `models:/…` URIs name:
   * the predictor's `MLFLOW_WORKSPACE` env, else the KServe cluster's `mlflow_workspace`. Unset or `default`: the
   * server's own registry.
   */
  mlflow_workspace: str.optional(),
  /**
   * The registry URI the serving container's MLflow client resolves the `models:/…` URIs against, as its env gives
   * it literally (KServe predictor `MLFLOW_REGISTRY_URI`, else `MLFLOW_TRACKING_URI`), without credentials, query
   * or fragment. It decides `mlflow_server`; naming no configured server, the event has
   * `details.mlflow_registry_unwatched: true`.
   */
  mlflow_registry_uri: str.optional(),
  /** The base inference component a SageMaker adapter component (`BaseInferenceComponentName`) is loaded into. */
  base_inference_component: str.optional(),
});

/** Provenance links: which run/step produced what from what. */
export const MlProvenance = z.looseObject({
  run_id: str.optional(),
  pipeline: str.optional(),
  pipeline_version: str.optional(),
  step: str.optional(),
  parent_run_id: str.optional(),
  inputs: z.array(str).optional(),
  outputs: z.array(str).optional(),
  /**
   * The pipeline run the event belongs to or whose output it names, the same value on every stage's event so one
   * search pivots across them: a KFP run id, a SageMaker pipeline execution ARN, a Vertex AI pipeline job's resource
   * name. Unlike `run_id` (the run or job the event is about, as each platform names it), no rule reads it.
   */
  pipeline_run: str.optional(),
});

export const Ml = z.looseObject({
  model: MlModel.optional(),
  job: MlJob.optional(),
  data: MlData.optional(),
  metrics: z.record(str, z.number()).optional(),
  code: MlCode.optional(),
  deployment: MlDeployment.optional(),
  provenance: MlProvenance.optional(),
});

export const NormalizedEvent = z.strictObject({
  schema_version: z.literal(SCHEMA_VERSION),
  id: str.min(1).max(256),
  time: rfc3339,
  received_time: rfc3339,
  platform: Platform,
  channel: str.min(1),
  stage: Stage,
  action: z.enum(ACTIONS as unknown as [string, ...string[]]),
  operation: str,
  service: str.optional(),
  outcome: Outcome,
  error: z.object({ code: str.optional(), message: str.optional() }).optional(),
  actor: Actor.optional(),
  resource: Resource.optional(),
  cloud: Cloud.optional(),
  ml: Ml.optional(),
  details: z.record(str, z.unknown()).optional(),
  raw: z.unknown().optional(),
});

export const Severity = z.enum(['low', 'medium', 'high', 'critical']);
export const AlertMode = z.enum(['observe', 'alert']);

export const Alert = z.strictObject({
  schema_version: z.literal(SCHEMA_VERSION),
  id: str.min(1).max(256),
  rule_id: str.min(1),
  stage: Stage,
  severity: Severity,
  mode: AlertMode,
  title: str,
  summary: str,
  /** Event time of the observation that raised it. */
  time: rfc3339,
  /** The object at risk: model version, endpoint, data source or identity. */
  entity: z.object({ type: str, id: str, name: str.optional(), platform: Platform.optional() }),
  /** Ids of the normalized events that made the case. */
  evidence: z.array(str),
  details: z.record(str, z.unknown()),
  /** Suppression bookkeeping: how many detections this alert stands for. */
  count: z.number().int().positive().optional(),
  first_seen: rfc3339.optional(),
  last_seen: rfc3339.optional(),
});

export type Platform = z.infer<typeof Platform>;
export type Stage = z.infer<typeof Stage>;
export type Outcome = z.infer<typeof Outcome>;
export type NormalizedEvent = z.infer<typeof NormalizedEvent>;
export type NormalizedEventInput = z.input<typeof NormalizedEvent>;
export type Alert = z.infer<typeof Alert>;
export type Actor = z.infer<typeof Actor>;
export type Ml = z.infer<typeof Ml>;

/** JSON Schema (draft 2020-12) of the event or alert, for `mltrail schema`. */
export function jsonSchemaOf(kind: 'event' | 'alert'): unknown {
  const schema = kind === 'event' ? NormalizedEvent : Alert;
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { required?: string[]; properties?: Record<string, { description?: string }> };
  // What a sender may leave out: the bridge (POST /v1/events) and normalize stamp received_time when it is missing.
  if (kind === 'event' && out.required) {
    out.required = out.required.filter((k) => k !== 'received_time');
    const rt = out.properties?.received_time;
    if (rt) rt.description = 'when mltrail received the event; filled in on ingest when a sender leaves it out';
  }
  return out;
}

/** Human-readable path+message list from a zod error, e.g. `actor.type: Invalid option`. */
export function describeZodError(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
