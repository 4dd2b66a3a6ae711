import { z } from 'zod';
import { ACTIONS } from '../schema/actions.js';
import { Platform, Severity, Stage } from '../schema/event.js';
import { eventPathProblem } from '../schema/paths.js';
import { KIND_DEFAULTS } from './defaults.js';
import { metricOf } from './metric-names.js';

/** Event times further ahead of their receipt than this do not move the windows' clock (a bad clock must not close a day of windows), nor start a wait later. */
export const MAX_CLOCK_SKEW_MS = 3_600_000;

/**
 * Rule configuration schemas (YAML key `rules`). Every object is strict, so a
 * misspelt key is an error naming its path. Durations are strings such as
 * `30m`, `1h`, `28d`.
 */

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Milliseconds of a duration string.
 *
 * @example
 * durationMs('1h') // 3600000
 */
export function durationMs(s: string): number {
  const m = DURATION.exec(s.trim());
  if (!m) throw new Error(`not a duration: "${s}" (expected e.g. 30m, 1h, 28d)`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

export const Duration = z.string().refine((s) => DURATION.test(s.trim()), { message: 'expected a duration such as 30m, 1h, 28d' });
/** A duration that must be longer than zero (a zero-length window could never close). */
const PositiveDuration = Duration.refine((s) => !DURATION.test(s.trim()) || durationMs(s) > 0, { message: 'expected a duration longer than zero, such as 1h' });
/** A case-insensitive regular expression, checked when the config is read rather than at the first event. */
const Pattern = z.string().superRefine((s, ctx) => {
  try {
    new RegExp(s, 'i');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(err as Error).message}` });
  }
});
const globs = z.array(z.string().min(1));
/** `registry/repository` globs: the host part alone is matched against the registry, so each needs a `/`. */
const repositoryGlobs = z.array(z.string().regex(/^[^/]+\/.+$/, 'expected registry/repository, e.g. docker.io/kserve/* or *-docker.pkg.dev/vertex-ai/prediction/*'));
/**
 * Image and package source lists for one GCP project or AWS account (the event's `cloud.project`, else
 * `cloud.account`): each list given replaces the rule's own for that project's or account's events, e.g. its own
 * Artifact Registry repositories or CodeArtifact domain only, where the default trusts every project's and account's.
 */
const perProject = z.record(
  z.string().min(1),
  z.strictObject({ allowed_registries: globs.optional(), allowed_repositories: repositoryGlobs.optional(), trusted_images: repositoryGlobs.optional(), allowed_package_sources: globs.optional() }),
).superRefine((scopes, ctx) => {
  // A GCP project id starts with a letter, so a key of digits only is an AWS account id, which has 12. YAML reads an
  // unquoted 012345678901 as the number 12345678901: the key would never match the account and its lists would
  // silently not apply (the rule's broader ones would).
  for (const key of Object.keys(scopes)) {
    if (/^\d+$/.test(key) && key.length !== 12) ctx.addIssue({ code: 'custom', path: [key], message: `an AWS account id has 12 digits, ${key} has ${key.length}: quote an account id starting with 0 ("012345678901"), which YAML otherwise reads as a number` });
  }
});

/** Settings every rule has. */
const common = {
  enabled: z.boolean().optional(),
  mode: z.enum(['observe', 'alert']).optional(),
  severity: Severity.optional(),
  /** Consecutive detections before an alert (default 3 statistical, 1 per-event). */
  n: z.number().int().min(1).optional(),
  /** Observe-only period from the first observation (default 28d statistical, 0 per-event). */
  learning: Duration.optional(),
  /** Repeats per rule+entity inside this period are counted, not re-sent. */
  suppress: Duration.optional(),
};

/** Settings of the windowed statistical parts. */
const statistical = {
  window: PositiveDuration.optional(),
  k: z.number().positive().optional(),
  direction: z.enum(['above', 'below', 'both']).optional(),
  /** Samples in the baseline (per seasonal bucket) before it is trusted. */
  min_samples: z.number().int().min(2).optional(),
  /** weekday_hour: weekday/weekend × hour of day; hour_of_week: 168 buckets; none. */
  seasonality: z.enum(['weekday_hour', 'hour_of_week', 'none']).optional(),
  /** Smallest absolute deviation that can count as anomalous (guards near-constant baselines). */
  min_delta: z.number().nonnegative().optional(),
  /** Samples kept per seasonal bucket. */
  history: z.number().int().min(4).max(500).optional(),
  /** Allowed lateness: a window is judged this long after it ends, so delayed sources (CloudTrail) still count. */
  grace: Duration.optional(),
  /**
   * A series that has gone quiet (its source silent, or lagging behind the others) is judged this long
   * after the engine's clock passes its window's end plus `grace`; a series that keeps sending is judged
   * by its own events. Later events of a judged window are ignored.
   */
  quiet_grace: Duration.optional(),
};

/**
 * Per rule only (no `defaults.statistical` key): a σ floor is in the unit of the rule's measure, and the
 * rules measure different things (events, bytes, a fraction).
 */
const sigmaFloor = {
  /** Smallest σ a baseline is given, in the measure's unit; replaces the automatic floor (Poisson, fraction). */
  min_sigma: z.number().positive().optional(),
};

/** Action globs that must each name at least one action of the catalogue: a typo (`secret.raed`) would never match. */
const actionGlobs = globs.superRefine((gs, ctx) => {
  gs.forEach((g, i) => {
    const re = new RegExp(`^${g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
    if (!ACTIONS.some((a) => re.test(a))) ctx.addIssue({ code: 'custom', path: [i], message: `"${g}" matches no action of the catalogue (mltrail schema event lists them)` });
  });
});

const where = z.strictObject({
  actions: actionGlobs.optional(),
  stages: z.array(Stage).optional(),
  platforms: z.array(Platform).optional(),
  outcome: z.enum(['success', 'failure', 'unknown']).optional(),
  /** Field path → glob, e.g. `{ "actor.email": "*@contractor.example" }`. A path no event has is an error (it would match nothing). */
  fields: z
    .record(z.string(), z.string())
    .superRefine((fields, ctx) => {
      for (const path of Object.keys(fields)) {
        const problem = eventPathProblem(path);
        if (problem) ctx.addIssue({ code: 'custom', path: [path], message: `not a field path of the event: ${problem} (mltrail schema event lists the fields)` });
      }
    })
    .optional(),
});
export type Where = z.infer<typeof where>;

export const KindSchemas = {
  volume_anomaly: z.strictObject({ ...common, ...statistical, ...sigmaFloor, measures: z.array(z.enum(['events', 'rows', 'bytes'])).optional(), where: where.optional() }),
  schema_mismatch: z.strictObject({ ...common, pinned: z.record(z.string(), z.string()).optional(), accept_after_alert: z.boolean().optional(), digest_sources: z.array(z.string()).optional() }),
  source_auth_failure: z.strictObject({
    ...common,
    actions: globs.optional(),
    /** Case-insensitive regular expression over error code and message. */
    error_pattern: Pattern.optional(),
  }),
  distribution_shift: z.strictObject({ ...common, ...statistical, ...sigmaFloor, metrics: globs.optional(), monitor_pattern: Pattern.optional() }),
  code_modified: z.strictObject({ ...common, approved_images: globs.optional(), approved_commits: globs.optional(), learn: z.boolean().optional() }),
  network_egress: z.strictObject({
    ...common,
    ...statistical,
    ...sigmaFloor,
    /** First matching job-name glob wins. */
    policy: z.array(z.strictObject({ jobs: z.string().min(1), require_isolation: z.boolean() })).optional(),
    metrics: globs.optional(),
  }),
  off_hours_job: z.strictObject({
    ...common,
    min_history: Duration.optional(),
    min_jobs: z.number().int().min(1).optional(),
    tolerance_hours: z.number().int().min(0).max(6).optional(),
    min_support: z.number().int().min(1).optional(),
    utc_offset_hours: z.number().min(-14).max(14).optional(),
    /** IANA time zone of the hours and days (`Europe/Berlin`): daylight saving included. Instead of utc_offset_hours. */
    time_zone: z
      .string()
      .refine((zone) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: zone });
          return true;
        } catch {
          return false;
        }
      }, 'expected an IANA time zone such as Europe/Berlin or America/New_York')
      .optional(),
    /**
     * A fixed allowed window: days (mon..sun) and hours [from, to). An overnight window (from > to,
     * e.g. 18 → 9) runs past midnight; its early hours belong to the day it started on.
     */
    allowed_window: z
      .strictObject({ days: z.array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])).min(1, 'list at least one day, or leave days out for every day').optional(), from_hour: z.number().int().min(0).max(23), to_hour: z.number().int().min(1).max(24) })
      .refine((w) => w.from_hour !== w.to_hour, { message: 'from_hour and to_hour are the same hour: the window would be empty', path: ['to_hour'] })
      .optional(),
    exempt: globs.optional(),
  }).refine((r) => r.time_zone === undefined || r.utc_offset_hours === undefined, { message: 'set time_zone or utc_offset_hours, not both', path: ['time_zone'] }),
  unverified_dependency: z.strictObject({ ...common, allowed_registries: globs.optional(), per_project: perProject.optional(), require_digest: z.boolean().optional(), trusted_images: repositoryGlobs.optional(), allowed_repositories: repositoryGlobs.optional(), trusted_algorithms: globs.optional(), allowed_package_sources: globs.optional(), allowed_conda_channels: globs.optional(), trust_hidden_package_sources: z.boolean().optional(), trusted_code_locations: globs.optional() }),
  unverified_image: z.strictObject({ ...common, allowed_registries: globs.optional(), per_project: perProject.optional(), require_digest: z.boolean().optional(), trusted_images: repositoryGlobs.optional(), allowed_repositories: repositoryGlobs.optional(), trusted_code_locations: globs.optional(), allowed_package_sources: globs.optional(), allowed_conda_channels: globs.optional(), trust_hidden_package_sources: z.boolean().optional(), require_hub_commit: z.boolean().optional(), allowed_hub_models: globs.optional() }),
  score_drop: z.strictObject({
    ...common,
    /** Metric name → which direction is better. */
    metrics: z.record(z.string(), z.enum(['higher', 'lower'])).optional(),
    /** Relative worsening that fires (0.02 = 2 %). 1 or more could never fire for a higher-is-better metric. */
    threshold: z.number().positive().lt(1, 'a fraction of the metric: 0.02 is 2 % (1 or more would never fire for a higher-is-better metric)').optional(),
    /** Metric (a logged name, or a metric of `metrics`) → its own relative threshold; the others keep `threshold`. */
    thresholds: z.record(z.string(), z.number().positive()).optional(),
    compare: z.enum(['previous', 'champion', 'both']).optional(),
    /** The smallest absolute worsening that fires, in the metric's own units (0: any beyond `threshold`). */
    min_difference: z.number().min(0).optional(),
    /** Metric (a logged name, or a metric of `metrics`) → its own `min_difference`; replaces the default map when given. */
    min_differences: z.record(z.string(), z.number().min(0)).optional(),
    /** Opt-in: a version approved with no quality metric (or model_quality report) on record an hour later is a finding. */
    require_at_approval: z.boolean().optional(),
  }).superRefine((r, ctx) => {
    // A key no metric matches would never apply; above 1 a higher-is-better metric could never fire (it would
    // have to fall below 0). A lower-is-better one can: 1 is twice the previous loss.
    const dirs = r.metrics ?? (KIND_DEFAULTS.score_drop.metrics as Record<string, 'higher' | 'lower'>);
    for (const key of Object.keys(r.min_differences ?? {})) {
      if (!metricOf(key, dirs)) ctx.addIssue({ code: 'custom', path: ['min_differences', key], message: `"${key}" is no metric of this rule's metrics (log_loss, rmse, val_loss…): it would never apply` });
    }
    for (const [key, t] of Object.entries(r.thresholds ?? {})) {
      const kind = metricOf(key, dirs);
      if (!kind) ctx.addIssue({ code: 'custom', path: ['thresholds', key], message: `"${key}" is no metric of this rule's metrics (accuracy, rmse, test_accuracy…): it would never apply` });
      else if (kind.dir === 'higher' && t >= 1) ctx.addIssue({ code: 'custom', path: ['thresholds', key], message: `${kind.metric} is higher-is-better: a fraction below 1 (0.02 is 2 %), 1 or more would never fire` });
    }
  }),
  adversarial_failure: z.strictObject({
    ...common,
    prefixes: globs.optional(),
    /** Scores are fractions (a tag `85%`, or a number from 1 to 100, is read as a percent: 0.85). */
    min_score: z.number().min(0, 'a score from 0 to 1 (85 % is 0.85)').max(1, 'a score from 0 to 1 (85 % is 0.85)').optional(),
    lower_is_better: globs.optional(),
    /** Keys under the prefixes that set the attack up (budget, steps, samples): never read as scores. */
    parameters: globs.optional(),
    require_for: globs.optional(),
  }),
  train_test_overlap: z.strictObject({ ...common }),
  self_approval: z.strictObject({ ...common, roles: z.array(z.enum(['trained', 'evaluated', 'registered'])).optional(), exempt: globs.optional(), notebook_approvals: z.boolean().optional(), notebook_roles: globs.optional() }),
  approved_model_modified: z.strictObject({ ...common, actions: globs.optional(), ignore_tags: globs.optional() }),
  unapproved_deployment: z.strictObject({
    ...common,
    check_substitution: z.boolean().optional(),
    endpoints: globs.optional(),
    /** URI globs an agent runtime (Vertex Agent Engine) may load code from; empty: judged by the locations each engine was deployed from before. */
    agent_sources: globs.optional(),
    /** Also judge deployments a platform makes by itself (a Vertex tuning job's tuned model on its endpoint). */
    auto_deployments: z.boolean().optional(),
    /**
     * Let an approved MLflow version named by a SageMaker Model's `model_uri` tag (mlflow.sagemaker's deploy) vouch for
     * the re-packed copy the Model serves. Off: the tag is the deployer's claim, the bytes are not the approved artifact.
     */
    trust_mlflow_model_uri_tag: z.boolean().optional(),
    /**
     * Identity or principal ARN globs that may write under a SageMaker multi-model Model's S3 prefix (the deploy
     * pipeline); empty: the principal that created the Model (its IAM role, any session).
     */
    mme_writers: globs.optional(),
    /**
     * Hosts (globs) outside the cluster a KServe InferenceGraph step's `serviceUrl` may send requests to; others
     * alert (`reason: graph_external_service`). In-cluster hosts (`*.svc`, `*.svc.cluster.local`, a Service name,
     * a known InferenceService's URL) are never judged.
     */
    graph_hosts: globs.optional(),
  }),
  unapproved_batch_inference: z.strictObject({
    ...common,
    /** Which unapproved models alert besides rejected and revoked versions (always): no approval at all, a version awaiting review. */
    judge: z.array(z.enum(['never_approved', 'pending'])).optional(),
    /** As for registry.unapproved_deployment: an approved MLflow version a Model's `model_uri` tag names vouches for the job. */
    trust_mlflow_model_uri_tag: z.boolean().optional(),
    /** Output URI globs of evaluation jobs: a job writing only there may score a candidate (still not a rejected version). */
    evaluation_outputs: globs.optional(),
    /** Model names (globs) never judged: foundation models no registry of yours approves. */
    exempt_models: globs.optional(),
  }),
  version_rollback: z.strictObject({ ...common }),
  rejection_reversed: z.strictObject({ ...common }),
  modification_rate: z.strictObject({ ...common, ...statistical, ...sigmaFloor }),
  hash_mismatch: z.strictObject({ ...common }),
  runtime_model_source: z.strictObject({ ...common }),
  model_source_unverifiable: z.strictObject({ ...common }),
  behavioral_drift: z.strictObject({ ...common, ...statistical, ...sigmaFloor, metrics: globs.optional(), monitor_pattern: Pattern.optional() }),
  error_spike: z.strictObject({
    ...common,
    ...statistical,
    ...sigmaFloor,
    metrics: globs.optional(),
    /**
     * `rate`: failures per request where an endpoint's requests are known (its successful invocations are
     * events, or a request-count metric comes next to an error count), counts elsewhere; `count`: counts only.
     */
    measure: z.enum(['rate', 'count']).optional(),
    /** Request-count metrics an error-count metric of the same event is divided by (`rate`). */
    traffic_metrics: globs.optional(),
  }),
  separation_of_duties: z.strictObject({
    ...common,
    lookback: Duration.optional(),
    data_write_actions: globs.optional(),
    data_write_stages: z.array(Stage).optional(),
    /** URI globs of training data: writes there count whatever stage the connector gave them (S3 PutObject is `platform`). */
    training_data_uris: globs.optional(),
    production_endpoints: globs.optional(),
    exempt: globs.optional(),
    /**
     * Opt-in (0: off): after an identity did both for the same data source and model or endpoint on this many UTC days
     * (each alerted), those pairs are learned and quiet; another pair still alerts.
     */
    learn_days: z.number().int().min(0).max(365).refine((n) => n !== 1, 'at least 2 days (0 turns learning off)').optional(),
  }),
  /** A write into a data source by an identity not among the writers learned for it over `min_history`. */
  unfamiliar_writer: z.strictObject({
    ...common,
    data_write_actions: globs.optional(),
    data_write_stages: z.array(Stage).optional(),
    /** URI globs of training data: writes there count whatever stage the connector gave them. */
    training_data_uris: globs.optional(),
    /** How long a source's writers are learned (from its first write) before a new one alerts. */
    min_history: Duration.optional(),
    exempt: globs.optional(),
  }),
  /** A training job family reading a data location (bucket, project) none of its `min_runs` earlier runs read. */
  unfamiliar_data_source: z.strictObject({ ...common, min_runs: z.number().int().min(1).optional(), allowed_sources: globs.optional() }),
  /** The audit log switched off, deleted, or narrowed so it no longer logs listed buckets' writes or management events. */
  audit_tampering: z.strictObject({ ...common, actions: actionGlobs.optional(), exempt: globs.optional() }),
  /** Model monitoring, endpoint data capture or request logging switched off, reduced or pointed elsewhere. */
  monitoring_disabled: z.strictObject({ ...common, grace: Duration.optional(), ignore_endpoints: globs.optional(), exempt: globs.optional() }),
  /** URI globs (`gs://corp-ml-exports/*`) and account/project globs a model or dataset may be exported to. */
  artifact_export: z.strictObject({ ...common, allowed_destinations: globs.optional(), allowed_accounts: globs.optional(), prediction_buckets: globs.optional() }),
  /** Accounts (ids, principal ARNs, `o-…` organizations; globs) a model or data store may be shared with. */
  artifact_share: z.strictObject({ ...common, allowed_accounts: globs.optional() }),
  /** Exec, attach, port-forward or a debug container into a KServe / KFP / MLflow pod, or a model server's pods changed outside KServe. */
  ml_workload_access: z.strictObject({ ...common, exempt: globs.optional(), pods: globs.optional(), trusted_installers: globs.optional() }),
  notebook_exposure: z.strictObject({ ...common, trusted_code_locations: globs.optional(), allowed_package_sources: globs.optional(), allowed_conda_channels: globs.optional(), exempt: globs.optional(), exempt_notebooks: globs.optional() }),
  /** Generic: every matching event is a detection. */
  match: z.strictObject({
    ...common,
    // Required and not empty: a match rule without criteria would alert on every event.
    where: where.refine((w) => Object.values(w).some((v) => v !== undefined && (typeof v !== 'object' || Object.keys(v).length > 0)), {
      message: 'give at least one of actions, stages, platforms, outcome or fields: an empty where matches every event',
    }),
    entity: z.enum(['resource', 'actor', 'model', 'endpoint', 'source']).optional(),
  }),
  /** Generic: windowed count or metric of matching events against its baseline. */
  statistical: z.strictObject({
    ...common,
    ...statistical,
    ...sigmaFloor,
    /** Which events count; default all (README). */
    where: where.default({}),
    entity: z.enum(['resource', 'actor', 'model', 'endpoint', 'source', 'platform']).optional(),
    /** `count`, `sum:<field path>` or `metric:<glob>`. */
    measure: z
      .string()
      .regex(/^(count|sum:.+|metric:.+)$/, 'expected count, sum:<path> or metric:<glob>')
      .superRefine((m, ctx) => {
        const problem = m.startsWith('sum:') ? eventPathProblem(m.slice(4)) : undefined;
        if (problem) ctx.addIssue({ code: 'custom', message: `sum: names no field of the event: ${problem}` });
      })
      .optional(),
  }),
} as const;

export type Kind = keyof typeof KindSchemas;
export const KINDS = Object.keys(KindSchemas) as Kind[];
/** Kinds whose detections come from windowed baselines (defaults: k=2, N=3, 28d learning). */
export const STATISTICAL_KINDS: ReadonlySet<Kind> = new Set(['volume_anomaly', 'modification_rate', 'error_spike', 'statistical']);
/** Kinds with both a per-event part and a σ part. */
export const MIXED_KINDS: ReadonlySet<Kind> = new Set(['distribution_shift', 'network_egress', 'behavioral_drift']);

export interface BuiltinRule {
  id: string;
  kind: Kind;
  stage: Stage;
  severity: z.infer<typeof Severity>;
  description: string;
}

/** The catalogue. Rule ids are a contract: alerts carry them, users configure them by id. */
export const BUILTIN_RULES: readonly BuiltinRule[] = [
  { id: 'ingestion.volume_anomaly', kind: 'volume_anomaly', stage: 'ingestion', severity: 'medium', description: "a source's ingestion volume (events, rows or bytes per window) is more than k·σ above or below its baseline" },
  { id: 'ingestion.schema_mismatch', kind: 'schema_mismatch', stage: 'ingestion', severity: 'medium', description: "a source's schema hash differs from its pinned or learned schema" },
  { id: 'ingestion.unfamiliar_writer', kind: 'unfamiliar_writer', stage: 'ingestion', severity: 'medium', description: 'training data (a dataset folder, feature group, table) is written, copied in or deleted by an identity that never wrote there before' },
  { id: 'ingestion.source_auth_failure', kind: 'source_auth_failure', stage: 'ingestion', severity: 'medium', description: 'a data source or platform reports an authentication/authorization failure, or a sender fails the bridge checks' },
  { id: 'preprocessing.distribution_shift', kind: 'distribution_shift', stage: 'preprocessing', severity: 'medium', description: 'a feature statistic moves more than k·σ from its baseline, or a data-quality / skew monitor reports a violation' },
  { id: 'preprocessing.code_modified', kind: 'code_modified', stage: 'preprocessing', severity: 'high', description: 'a preprocessing job runs code (image digest, git commit) not on the approved list or changed since the last approved run' },
  { id: 'training.network_egress', kind: 'network_egress', stage: 'training', severity: 'high', description: 'a training job runs without network isolation/VPC where policy requires it, or its egress metric is more than k·σ above baseline' },
  { id: 'training.off_hours_job', kind: 'off_hours_job', stage: 'training', severity: 'low', description: "a job is submitted outside the identity's learned weekly pattern, or outside a configured window" },
  { id: 'training.unfamiliar_data_source', kind: 'unfamiliar_data_source', stage: 'training', severity: 'medium', description: 'a training job reads data from a location (bucket, project) that no earlier run of its job family read' },
  { id: 'training.unverified_dependency', kind: 'unverified_dependency', stage: 'training', severity: 'high', description: 'a training image is not pinned by digest, comes from a registry not on the allow list, packages come from an index or URL not on the allow list, a code archive comes from an untrusted location, or a dependency hash check failed' },
  { id: 'evaluation.score_drop', kind: 'score_drop', stage: 'evaluation', severity: 'medium', description: "a new model version's evaluation metric is worse than the previous version's (or the champion's) by more than a threshold" },
  { id: 'evaluation.adversarial_failure', kind: 'adversarial_failure', stage: 'evaluation', severity: 'high', description: 'adversarial metrics fall below threshold, or a version is approved with no adversarial evaluation' },
  { id: 'evaluation.train_test_overlap', kind: 'train_test_overlap', stage: 'evaluation', severity: 'high', description: 'an evaluation dataset overlaps the training inputs of the same model' },
  { id: 'evaluation.self_approval', kind: 'self_approval', stage: 'evaluation', severity: 'high', description: 'the identity that trained or evaluated a model version also approved it' },
  { id: 'registry.approved_model_modified', kind: 'approved_model_modified', stage: 'registry', severity: 'high', description: 'an approved / production version is changed afterwards (tags, source, artifact, description, status)' },
  { id: 'registry.unapproved_deployment', kind: 'unapproved_deployment', stage: 'registry', severity: 'critical', description: 'a never-approved model version is deployed (or a rejected one given an approval alias), or a deployment serves an artifact other than the approved one' },
  { id: 'registry.rejection_reversed', kind: 'rejection_reversed', stage: 'registry', severity: 'medium', description: 'a model version is approved after its last decision was a rejection: the same weights, the decision reversed' },
  { id: 'registry.version_rollback', kind: 'version_rollback', stage: 'registry', severity: 'medium', description: 'an endpoint, an approval alias, or a live stage deployment (by a stage change) is moved to an older version than it serves' },
  { id: 'registry.modification_rate', kind: 'modification_rate', stage: 'registry', severity: 'medium', description: 'registry write rate is more than k·σ above baseline' },
  { id: 'serving.hash_mismatch', kind: 'hash_mismatch', stage: 'serving', severity: 'critical', description: 'the hash of the served or re-verified artifact differs from the registered hash' },
  { id: 'serving.unapproved_batch_inference', kind: 'unapproved_batch_inference', stage: 'serving', severity: 'high', description: 'a batch inference job (SageMaker transform job, Vertex batch prediction job) runs a rejected or revoked model version, or one never approved' },
  { id: 'serving.behavioral_drift', kind: 'behavioral_drift', stage: 'serving', severity: 'medium', description: 'a model monitor reports drift/anomaly, or an output statistic is more than k·σ from baseline' },
  { id: 'serving.error_spike', kind: 'error_spike', stage: 'serving', severity: 'medium', description: 'a serving error rate is more than k·σ above baseline' },
  { id: 'serving.unverified_image', kind: 'unverified_image', stage: 'serving', severity: 'high', description: 'a serving image (model container, KServe predictor/transformer/explainer or runtime) is not pinned by digest or comes from a registry not on the allow list, and is not a trusted prebuilt container, or the environment files of a registered model version (MLflow requirements.txt, conda.yaml) install packages from a source not on the allow list' },
  { id: 'serving.runtime_model_source', kind: 'runtime_model_source', stage: 'serving', severity: 'high', description: "a KServe serving runtime's container env points the models that select it at an MLflow registry no configured server has, or at an artifact endpoint or proxy the cluster's artifact_endpoints does not list" },
  { id: 'serving.monitoring_disabled', kind: 'monitoring_disabled', stage: 'serving', severity: 'medium', description: "an endpoint's model monitoring (SageMaker Model Monitor schedule, Vertex model monitoring job or monitor), data capture or request-response logging is stopped, deleted, reduced or pointed elsewhere, and not restarted or torn down with its endpoint" },
  { id: 'serving.model_source_unverifiable', kind: 'model_source_unverifiable', stage: 'serving', severity: 'medium', description: "a KServe models:/ deployment whose registry URI is literal, but whose artifact endpoint or proxy (where artifact_endpoints is set), or an MLflow name only an unprefixed envFrom Secret could set, comes from a source the audit log does not show" },
  { id: 'access.separation_of_duties', kind: 'separation_of_duties', stage: 'platform', severity: 'high', description: 'one identity both writes training data and approves or deploys to production within the lookback' },
  { id: 'platform.artifact_exported', kind: 'artifact_export', stage: 'platform', severity: 'medium', description: 'a model or dataset is exported or copied to a destination (URI or account) not on the allow list' },
  { id: 'platform.audit_log_tampering', kind: 'audit_tampering', stage: 'platform', severity: 'high', description: "the platform's audit log is switched off, deleted, or narrowed so it no longer records a training/model bucket's writes or management events" },
  { id: 'platform.artifact_shared', kind: 'artifact_share', stage: 'platform', severity: 'high', description: 'a grant opens a model registry group or a model/training bucket to another account, or to everyone' },
  { id: 'platform.notebook_exposure', kind: 'notebook_exposure', stage: 'platform', severity: 'medium', description: "a notebook lifecycle script runs code or packages from an untrusted place, a notebook instance gets root access with no VPC (direct internet), or a Studio login URL is minted for another user's profile" },
  { id: 'platform.ml_workload_access', kind: 'ml_workload_access', stage: 'platform', severity: 'high', description: "someone execs, attaches, port-forwards or adds a debug container into a KServe model server, KFP pipeline step or MLflow server pod, or changes a model server's Deployment or pods outside KServe, mints a token for an ML namespace's service account, reads KServe's model store credentials, binds admin/edit rights over an ML namespace outside Kubeflow's profile controller, writes a role with exec/secrets/escalation rights over ML workloads, edits KServe's inferenceservice-config, or writes a mutating webhook over ML pods" },
];

const builtinShape = Object.fromEntries(BUILTIN_RULES.map((r) => [r.id, KindSchemas[r.kind].optional()])) as Record<string, z.ZodOptional<z.ZodType>>;

/** The AWS partitions (the AWS SDK's `partitions.json`): what partitionOfRegion answers. */
export const AWS_PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc'] as const;

/**
 * An access point (its ARN `arn:<partition>:s3:<region>:<account>:accesspoint/<name>`, its alias `<name>-<suffix>-s3alias`,
 * or both) and the bucket it fronts (`models` or `s3://models`). Multi-Region Access Points (no region in the ARN, one of
 * several buckets answers) and Object Lambda access points (`s3-object-lambda`: a function's output) are not accepted.
 */
const AccessPointEntry = z
  .strictObject({
    arn: z.string().regex(/^arn:aws[a-z-]*:s3:[a-z0-9-]+:\d{12}:accesspoint[/:][a-z0-9-]{3,50}$/, 'expected an access point ARN like arn:aws:s3:us-east-1:111122223333:accesspoint/ml-ap').optional(),
    alias: z.string().regex(/^[a-z0-9-]{3,63}-s3alias$/, 'expected an access point alias like ml-ap-abcdefghijklmnopqrstuvwxyz0123-s3alias').optional(),
    bucket: z.string().regex(/^(?:s3:\/\/)?[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/?$/, 'expected a bucket name like models').transform((b) => b.replace(/^s3:\/\//, '').replace(/\/$/, '')),
  })
  .refine((v) => v.arn || v.alias, { message: 'name the access point by arn or alias (or both)' })
  .transform((v) => ({ ...v, arn: v.arn?.replace(/:accesspoint:/, ':accesspoint/') }));

/** A user rule of a built-in kind (no code): `custom: [{ id, kind, stage, ...settings }]`. */
const CustomRule = z
  .looseObject({ id: z.string().regex(/^[a-z0-9_]+\.[a-z0-9_.-]+$/, 'expected an id like stage.name'), kind: z.enum(KINDS as [Kind, ...Kind[]]), stage: Stage, description: z.string().optional() })
  .superRefine((v, ctx) => {
    const { id: _id, kind, stage: _s, description: _d, ...settings } = v;
    const r = KindSchemas[kind].safeParse(settings);
    if (!r.success) for (const i of r.error.issues) ctx.addIssue({ ...i, path: [...i.path] } as never);
    if (BUILTIN_RULES.some((b) => b.id === v.id)) ctx.addIssue({ code: 'custom', path: ['id'], message: `"${v.id}" is a built-in rule id; configure it under rules.${v.id}` });
  });

export const RulesConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /**
     * Days of per-rule daily statistics (`rules tune`'s input) kept, counted back from today (UTC); older days are
     * deleted by the bridge's housekeeping. 0 keeps them all. Default 400: a year back plus a month, so a year's
     * comparison (`rules tune --since 365d`) still finds its first days.
     */
    // At most 100 years: a cutoff further back is no date (statsCutoffDay threw), and housekeeping then stopped
    // after its first slice every second, the spool pruned 256 rows a second.
    stats_retention_days: z.number().int().nonnegative().max(36_500).default(400),
    /**
     * Days a key of the rules' learned state (`rules.registry`, `rules.kind`) is kept after the rules last wrote or
     * read it; 0 (the default) keeps it for good: an approved version deployed and untouched for years is still
     * what an overwrite of its artifact is judged against, so ageing is the operator's choice (opt-in).
     */
    state_retention_days: z.number().int().nonnegative().max(36_500).default(0),
    /** Who is who across platforms: person → other names (user ids, role session names, emails). */
    identities: z.strictObject({ aliases: z.record(z.string(), z.array(z.string())).default({}) }).prefault({}),
    /** What counts as an approval, beyond `model_version.approve` and ml.model.approval. */
    approval: z
      .strictObject({
        aliases: z.array(z.string()).default(['champion', 'production', 'prod', 'approved']),
        tags: z.record(z.string(), z.array(z.string())).default({ approval: ['approved'], approved: ['true', 'yes'], 'approval.status': ['approved'] }),
        stages: z.array(z.string()).default(['Production']),
      })
      .prefault({}),
    /**
     * The AWS partition a registry's `s3://` artifacts are in, where its records do not say (an MLflow, Kubeflow or
     * Vertex version's `s3://` URI names a bucket in no partition), keyed `<platform>` (every server of it) or
     * `mlflow:<server id>` (a configured MLflow server, over `mlflow`). Set, a write to the bucket is judged only in that
     * partition (bucket names are unique per partition); unset, a write in any partition matches.
     */
    artifact_partitions: z.record(z.string().regex(/^(?:mlflow|kubeflow|vertex)(?::[^:\s]+)?$/, 'expected mlflow, kubeflow, vertex or mlflow:<server id>'), z.enum(AWS_PARTITIONS)).default({}),
    /** The same artifacts under another URI (cross-cloud copies), so versions link across platforms. */
    artifact_mirrors: z.array(z.strictObject({ from: z.string().min(1), to: z.string().min(1) })).default([]),
    /**
     * S3 access points and the bucket each fronts, for those whose creation mltrail did not see (made before it ran):
     * an object reached through one is the bucket's object (registry.approved_model_modified, registry.rejection_reversed),
   * and a policy on one (by `arn`) shares the bucket (platform.artifact_shared). `arn` and/or `alias`.
     */
    access_points: z.array(AccessPointEntry).default([]),
    defaults: z
      .strictObject({
        statistical: z.strictObject({ ...statistical, n: common.n, learning: common.learning, mode: common.mode, suppress: common.suppress }).prefault({}),
        per_event: z.strictObject({ n: common.n, learning: common.learning, mode: common.mode, suppress: common.suppress }).prefault({}),
      })
      .prefault({}),
    custom: z.array(CustomRule).default([]),
    ...builtinShape,
  })
  .superRefine((v, ctx) => {
    const seen = new Set<string>();
    v.custom.forEach((c, i) => {
      if (seen.has(c.id)) ctx.addIssue({ code: 'custom', path: ['custom', i, 'id'], message: `duplicate rule id "${c.id}"` });
      seen.add(c.id);
    });
    // A baseline keeps `history` samples per bucket and is trusted from `min_samples`: fewer kept than needed
    // and no window is ever judged (the rule never fires, and `rules tune` sees no window to tune).
    if (seen.size !== v.custom.length) return;
    let rules: ResolvedRule[];
    try {
      rules = resolveRules(v as RulesConfigParsed);
    } catch {
      return; // a setting it cannot read (a custom rule's bad duration) is reported on its own path
    }
    const short = new Map<string, { path: Array<string | number>; history: number; minSamples: number; ids: string[] }>();
    for (const r of rules) {
      const { history, minSamples } = r.stat;
      if (!r.enabled || !(STATISTICAL_KINDS.has(r.kind) || MIXED_KINDS.has(r.kind)) || typeof history !== 'number' || typeof minSamples !== 'number' || history >= minSamples) continue;
      const own = r.settings.history !== undefined || r.settings.min_samples !== undefined;
      const at = r.custom ? ['custom', v.custom.findIndex((c) => c.id === r.id)] : [r.id];
      const path = own ? [...at, r.settings.history !== undefined ? 'history' : 'min_samples'] : ['defaults', 'statistical', v.defaults.statistical.history !== undefined ? 'history' : 'min_samples'];
      const key = path.join('.');
      const seenPath = short.get(key);
      if (seenPath) seenPath.ids.push(r.id);
      else short.set(key, { path, history, minSamples, ids: [r.id] });
    }
    for (const { path, history, minSamples, ids } of short.values()) {
      ctx.addIssue({ code: 'custom', path, message: `history (${history}) is less than min_samples (${minSamples}): no baseline of ${ids.join(', ')} would ever be trusted, so it would never fire` });
    }
  });

export type RulesConfigInput = z.input<typeof RulesConfigSchema>;
export type RulesConfigParsed = z.infer<typeof RulesConfigSchema>;

/** Effective settings of one rule: built-in defaults < `defaults` < per-rule config. */
export interface ResolvedRule {
  id: string;
  kind: Kind;
  stage: z.infer<typeof Stage>;
  severity: z.infer<typeof Severity>;
  description: string;
  enabled: boolean;
  mode: 'observe' | 'alert';
  /** N for per-event detections. */
  n: number;
  learningMs: number;
  suppressMs: number;
  /** Windowed statistical settings (used by statistical kinds and σ parts). */
  stat: {
    windowMs: number;
    k: number;
    direction: 'above' | 'below' | 'both';
    minSamples: number;
    seasonality: 'weekday_hour' | 'hour_of_week' | 'none';
    minDelta: number;
    /** The rule's `min_sigma` (else each series' automatic floor). */
    minSigma?: number;
    history: number;
    graceMs: number;
    quietGraceMs: number;
    n: number;
    learningMs: number;
    /**
     * Mode and suppression of the σ part: the rule's own `mode` / `suppress`, else `defaults.statistical`'s —
     * also for a mixed kind, whose per-event part keeps `defaults.per_event`'s (`mode`, `suppressMs` above).
     */
    mode: 'observe' | 'alert';
    suppressMs: number;
  };
  /** Kind-specific settings as configured (defaults applied by the kind). */
  settings: Record<string, unknown>;
  custom: boolean;
}

const STAT_DEFAULTS = { grace: '20m', quiet_grace: '2h', window: '1h', k: 2, direction: 'both' as const, min_samples: 8, seasonality: 'weekday_hour' as const, min_delta: 0, history: 24, n: 3, learning: '28d', mode: 'alert' as const, suppress: '24h' };
const EVENT_DEFAULTS = { n: 1, learning: '0s', mode: 'alert' as const, suppress: '24h' };
/** Direction that matters by default per kind (an error spike is only ever above). */
const KIND_DIRECTION: Partial<Record<Kind, 'above' | 'below' | 'both'>> = { error_spike: 'above', modification_rate: 'above', network_egress: 'above' };

/**
 * Resolve every rule (built-in and custom) with its effective settings.
 *
 * @example
 * resolveRules(RulesConfigSchema.parse({})).find((r) => r.id === 'serving.error_spike')!.stat.k // 2
 */
export function resolveRules(cfg: RulesConfigParsed): ResolvedRule[] {
  const out: ResolvedRule[] = [];
  const entries: Array<{ id: string; kind: Kind; stage: ResolvedRule['stage']; severity: ResolvedRule['severity']; description: string; settings: Record<string, unknown>; custom: boolean }> = [];
  for (const b of BUILTIN_RULES) entries.push({ ...b, settings: ((cfg as Record<string, unknown>)[b.id] as Record<string, unknown> | undefined) ?? {}, custom: false });
  for (const c of cfg.custom) {
    const { id, kind, stage, description, ...settings } = c;
    entries.push({ id, kind, stage, severity: (settings.severity as ResolvedRule['severity']) ?? 'medium', description: description ?? `custom ${kind} rule`, settings, custom: true });
  }
  for (const e of entries) {
    const s = e.settings as Record<string, any>;
    const isStat = STATISTICAL_KINDS.has(e.kind);
    const isMixed = MIXED_KINDS.has(e.kind);
    const sd = { ...STAT_DEFAULTS, ...stripUndef(cfg.defaults.statistical) };
    const ed = { ...EVENT_DEFAULTS, ...stripUndef(cfg.defaults.per_event) };
    // `n` and `learning` configure the σ part of statistical and mixed kinds;
    // the per-event part of a mixed kind (a monitor violation, a policy breach) keeps the per-event defaults.
    const statOwnsN = isStat || isMixed;
    out.push({
      id: e.id,
      kind: e.kind,
      stage: e.stage,
      severity: (s.severity as ResolvedRule['severity']) ?? e.severity,
      description: e.description,
      enabled: cfg.enabled && s.enabled !== false,
      mode: s.mode ?? (isStat ? sd.mode : ed.mode),
      n: statOwnsN ? ed.n : (s.n ?? ed.n),
      learningMs: durationMs(statOwnsN ? ed.learning : (s.learning ?? ed.learning)),
      suppressMs: durationMs(s.suppress ?? (isStat ? sd.suppress : ed.suppress)),
      stat: {
        windowMs: durationMs(typeof s.window === 'string' ? s.window : sd.window),
        k: s.k ?? sd.k,
        direction: s.direction ?? KIND_DIRECTION[e.kind] ?? sd.direction,
        minSamples: s.min_samples ?? sd.min_samples,
        seasonality: s.seasonality ?? sd.seasonality,
        minDelta: s.min_delta ?? sd.min_delta,
        ...(s.min_sigma !== undefined ? { minSigma: s.min_sigma } : {}),
        history: s.history ?? sd.history,
        graceMs: durationMs(s.grace ?? sd.grace),
        quietGraceMs: durationMs(s.quiet_grace ?? sd.quiet_grace),
        n: statOwnsN ? (s.n ?? sd.n) : sd.n,
        learningMs: durationMs(statOwnsN ? (s.learning ?? sd.learning) : sd.learning),
        mode: s.mode ?? sd.mode,
        suppressMs: durationMs(s.suppress ?? sd.suppress),
      },
      settings: s,
      custom: e.custom,
    });
  }
  return out;
}

function stripUndef<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
