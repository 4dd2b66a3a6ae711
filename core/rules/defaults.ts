import { AWS_ALGORITHM_IMAGES, AWS_PROCESSING_IMAGES, AWS_REGIONAL_DLC_IMAGES } from './aws-images.js';
import type { Kind } from './config.js';

/**
 * Kind settings a rule falls back to when its config leaves them out. One
 * table, read both by the kinds (`setting()`) and by `mltrail rules list`, so
 * what an operator sees is what runs.
 */

// Lower case: names are compared lower-cased. The camel-case ones are Vertex AI's evaluation metrics (auRoc, rSquared…).
const HIGHER = ['accuracy', 'auc', 'roc_auc', 'pr_auc', 'f1', 'f1_score', 'precision', 'recall', 'r2', 'average_precision', 'ndcg', 'map', 'auroc', 'auprc', 'rsquared'];
const LOWER = ['rmse', 'mae', 'mse', 'mape', 'log_loss', 'logloss', 'loss', 'error_rate', 'wer', 'rootmeansquarederror', 'meanabsoluteerror', 'meanabsolutepercentageerror', 'rootmeansquaredlogerror'];

/** Monitor names and objectives that are about input data (skew, quality, schema), not model behaviour. */
export const SKEW_PATTERN = 'data.?quality|skew|schema';

const AUTH_ERROR =
  'AccessDenied|Unauthori[sz]ed|Forbidden|PERMISSION_DENIED|UNAUTHENTICATED|InvalidSignature|SignatureDoesNotMatch|ExpiredToken|InvalidClientTokenId|InvalidAccessKeyId|NotAuthorized|\\b40[13]\\b';

const MODIFY_ACTIONS = [
  'model_version.update', 'model_version.tag_set', 'model_version.tag_delete', 'model_version.description_change', 'model_version.source_change',
  'model_version.status_change', 'model_version.stage_transition', 'model_version.hash_registered', 'model_version.delete', 'model_version.alias_delete',
  // Generic tagging of a resource that names a model version (ml.model name + version), e.g. a platform's tag API.
  'resource.tag_set', 'resource.tag_delete',
];

/** What writes training data (separation of duties, unfamiliar writers): objects, datasets, feature records, pipeline artifacts. */
// Deleting records (Feature Store DeleteRecord, HardDelete too; Vertex DeleteFeatureValues) changes what a model learns as much as writing them.
const DATA_WRITE_ACTIONS = ['data_object.write', 'data_object.copy', 'data_object.delete', 'dataset.create', 'dataset.update', 'dataset.import', 'feature_record.write', 'feature_record.delete', 'feature_group.update', 'artifact.write'];
const DATA_WRITE_STAGES = ['ingestion', 'preprocessing'];

/** The clouds' own registries (ECR, Container Registry, Artifact Registry): the default allow list of image rules. */
const CLOUD_REGISTRIES = ['*.dkr.ecr.*.amazonaws.com', '*.dkr.ecr.*.amazonaws.com.cn', 'gcr.io', '*.gcr.io', '*-docker.pkg.dev'];

/**
 * Serving containers the platforms publish and reference by tag: AWS Deep Learning Containers (account
 * 763104351884, most regions), SageMaker's built-in algorithm images (a trained XGBoost or Linear Learner model
 * is served by its algorithm's image), Vertex AI's prebuilt prediction containers, KServe's own runtimes and the
 * images of the ClusterServingRuntimes KServe installs (config/runtimes).
 */
const PREBUILT_SERVING_IMAGES = [
  '763104351884.dkr.ecr.*.amazonaws.com/*',
  ...AWS_ALGORITHM_IMAGES,
  '*-docker.pkg.dev/vertex-ai/prediction/*',
  'docker.io/kserve/*',
  'docker.io/tensorflow/serving',
  'docker.io/pytorch/torchserve-kfs',
  'docker.io/seldonio/mlserver',
  'nvcr.io/nvidia/tritonserver',
];

/**
 * Training containers the clouds publish and reference by tag: AWS Deep Learning Containers (the SageMaker
 * Python SDK's framework estimators run them by tag; the regions with their own DLC account — China, GovCloud, opt-in
 * regions — from that account), SageMaker's built-in algorithm images (XGBoost, Linear
 * Learner, BlazingText…, from per-region accounts), AWS's processing images (Spark, Data Wrangler, Clarify, Model
 * Monitor: a processing job is judged by this rule too, and with `allowed_repositories` set these had to be listed by
 * hand), Vertex AI's prebuilt training containers, and Kubeflow Pipelines v2's driver and launcher (every step of a v2
 * run's Argo Workflow runs them; the KFP backend names them by tag, `V2_DRIVER_IMAGE` / `V2_LAUNCHER_IMAGE`, today on
 * ghcr.io, in older releases on gcr.io/ml-pipeline).
 */
const PREBUILT_TRAINING_IMAGES = [
  '763104351884.dkr.ecr.*.amazonaws.com/*', ...AWS_REGIONAL_DLC_IMAGES, ...AWS_ALGORITHM_IMAGES, ...AWS_PROCESSING_IMAGES, '*-docker.pkg.dev/vertex-ai/training/*', 'gcr.io/cloud-aiplatform/training/*',
  'ghcr.io/kubeflow/kfp-driver', 'ghcr.io/kubeflow/kfp-launcher', 'gcr.io/ml-pipeline/kfp-driver', 'gcr.io/ml-pipeline/kfp-launcher',
];

/**
 * Package indexes a job may install from (`host` or `host/path` globs): PyPI and its file host, PyTorch's wheel index
 * (`--extra-index-url https://download.pytorch.org/whl/cu121`, its install instructions), and the clouds' package
 * repositories (Artifact Registry's `<region>-python.pkg.dev`, CodeArtifact's `<domain>-<account>.d.codeartifact.<region>.amazonaws.com`).
 */
const PACKAGE_INDEXES = ['pypi.org', 'files.pythonhosted.org', 'download.pytorch.org', '*-python.pkg.dev', '*.d.codeartifact.*.amazonaws.com'];

/**
 * conda channels a job may install from by name (`conda install -c conda-forge`, `conda-forge::numpy`, `CONDA_CHANNELS`):
 * `defaults` (Anaconda's repo.anaconda.com `pkgs/main`, `pkgs/r`, `pkgs/msys2`), the community's `conda-forge`, and the
 * channels PyTorch's and NVIDIA's install instructions name. Any other name is an anaconda.org user or organization.
 */
const CONDA_CHANNELS = ['defaults', 'conda-forge', 'pytorch', 'nvidia'];

export const KIND_DEFAULTS: { readonly [K in Kind]: Readonly<Record<string, unknown>> } = {
  volume_anomaly: { measures: ['events', 'rows', 'bytes'] },
  schema_mismatch: { pinned: {}, accept_after_alert: true, digest_sources: [] },
  source_auth_failure: { actions: ['ingest.auth_failure', 'source.auth_failure', 'auth.failure'], error_pattern: AUTH_ERROR },
  distribution_shift: { metrics: ['*'], monitor_pattern: SKEW_PATTERN },
  code_modified: { approved_images: [], approved_commits: [], learn: true },
  network_egress: { policy: [{ jobs: '*', require_isolation: true }], metrics: ['*egress*', 'network_out*', 'networkout*', '*_tx_bytes', 'network.tx*', 'sent_bytes*'] },
  off_hours_job: { min_history: '28d', min_jobs: 10, tolerance_hours: 1, min_support: 2, utc_offset_hours: 0, exempt: [] },
  unverified_dependency: { allowed_registries: CLOUD_REGISTRIES, per_project: {}, require_digest: true, trusted_images: PREBUILT_TRAINING_IMAGES, allowed_repositories: [], trusted_algorithms: [], allowed_package_sources: PACKAGE_INDEXES, allowed_conda_channels: CONDA_CHANNELS, trust_hidden_package_sources: false, trusted_code_locations: [] },
  unverified_image: { allowed_registries: CLOUD_REGISTRIES, per_project: {}, require_digest: true, trusted_images: PREBUILT_SERVING_IMAGES, allowed_repositories: [], trusted_code_locations: [], allowed_package_sources: PACKAGE_INDEXES, allowed_conda_channels: CONDA_CHANNELS, trust_hidden_package_sources: false, require_hub_commit: true, allowed_hub_models: [] },
  score_drop: { metrics: Object.fromEntries([...HIGHER.map((m) => [m, 'higher']), ...LOWER.map((m) => [m, 'lower'])]), threshold: 0.02, thresholds: {}, compare: 'both', min_difference: 0, min_differences: { log_loss: 0.005, logloss: 0.005, loss: 0.005 }, require_at_approval: false },
  adversarial_failure: {
    prefixes: ['adversarial', 'adv_'],
    min_score: 0.5,
    lower_is_better: ['*success_rate*', '*asr', '*attack_success*'],
    // Keys that set an attack up, not score it: an epsilon of 0.03 is no 3 % score. Besides these, the settings the
    // common attack libraries name (ART's max_iter, norm, num_random_init; CleverHans' nb_iter, rand_init;
    // torchattacks' alpha; Foolbox's abs/rel_stepsize): read as a percent, `adv_max_iter: 40` failed every model.
    parameters: ['*epsilon*', '*eps', '*_eps_*', '*steps', '*iterations', '*iters', '*samples', '*budget*', '*seed', '*restarts', '*batch_size',
      '*_iter', '*norm', '*step_size', '*stepsize', '*alpha', '*random_init', '*rand_init'],
    require_for: ['*'],
  },
  train_test_overlap: {},
  self_approval: { roles: ['trained', 'evaluated'], exempt: [], notebook_approvals: true, notebook_roles: [] },
  approved_model_modified: { actions: MODIFY_ACTIONS, ignore_tags: [] },
  unapproved_deployment: { check_substitution: true, endpoints: ['*'], agent_sources: [], auto_deployments: false, trust_mlflow_model_uri_tag: false, mme_writers: [], graph_hosts: [] },
  // Pending versions are what evaluation pipelines batch-score: judged only when asked. Google's foundation models
  // (Gemini batch prediction) are in no registry of yours.
  unapproved_batch_inference: { judge: ['never_approved'], trust_mlflow_model_uri_tag: false, evaluation_outputs: [], exempt_models: ['publishers/google/models/*', 'projects/*/locations/*/publishers/google/models/*'] },
  version_rollback: {},
  rejection_reversed: {},
  modification_rate: {},
  hash_mismatch: {},
  runtime_model_source: {},
  model_source_unverifiable: {},
  // No monitor_pattern: by default every monitor finding that is not about input data (SKEW_PATTERN) counts.
  behavioral_drift: { metrics: ['prediction*', 'output*', '*confidence*', '*score_mean*'] },
  // Rate by default: an endpoint serving three times the requests at the same error rate is busy, not failing.
  // Request counts: SageMaker's CloudWatch `Invocations`, Vertex AI's `prediction/online/prediction_count`.
  error_spike: { metrics: ['*5xx*', '*error*'], measure: 'rate', traffic_metrics: ['invocations', '*prediction_count', '*request_count', '*invocation_count'] },
  separation_of_duties: {
    lookback: '30d',
    data_write_actions: DATA_WRITE_ACTIONS,
    data_write_stages: DATA_WRITE_STAGES,
    training_data_uris: [],
    production_endpoints: ['*'],
    exempt: [],
    // Off: whoever holds an identity could do both on purpose for a while to have it learned (see duties.ts).
    learn_days: 0,
  },
  // A week of a source's writes learned before a new writer alerts: daily and weekly pipelines have all run by then.
  unfamiliar_writer: { data_write_actions: DATA_WRITE_ACTIONS, data_write_stages: DATA_WRITE_STAGES, training_data_uris: [], min_history: '7d', exempt: [] },
  unfamiliar_data_source: { min_runs: 3, allowed_sources: [] },
  audit_tampering: { actions: ['audit_log.disable', 'audit_log.delete', 'audit_log.update'], exempt: [] },
  // 15 minutes: an automation redeploying a schedule (stop, update, start) or tearing an endpoint down is done by then.
  monitoring_disabled: { grace: '15m', ignore_endpoints: [], exempt: [] },
  artifact_export: { allowed_destinations: [], allowed_accounts: [] },
  artifact_share: { allowed_accounts: [] },
  notebook_exposure: { trusted_code_locations: [], allowed_package_sources: PACKAGE_INDEXES, allowed_conda_channels: CONDA_CHANNELS, exempt: [], exempt_notebooks: [] },
  // No break-glass identity by default: each cluster names its own.
  // Trusted installers: the GitOps controllers that apply a reviewed repository (Argo CD, OpenShift GitOps, Flux), as
  // their manifests name them. A person running helm or kubectl is not one.
  ml_workload_access: {
    exempt: [], pods: [],
    trusted_installers: [
      'system:serviceaccount:argocd:argocd-application-controller',
      'system:serviceaccount:openshift-gitops:openshift-gitops-argocd-application-controller',
      'system:serviceaccount:flux-system:kustomize-controller',
      'system:serviceaccount:flux-system:helm-controller',
    ],
  },
  match: { entity: 'resource' },
  statistical: { entity: 'resource', measure: 'count' },
};
