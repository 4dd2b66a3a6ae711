import type { NormalizedEvent } from '../../schema/index.js';
import { durationMs } from '../config.js';
import { anyGlob, endpointOf, exceededFeatures, globMatch, identityOf, isJobSubmission, isLabelingJobSubmission, jobEntity, jobNameOf, sagemakerScopeOf, sourceOf } from '../facts.js';
import { endpointEntity, identityEntity, projectSetting, setting, type KindImpl, type RuleContext } from './context.js';
import { isPinnedImage, judgeImages } from './images.js';
import { untrustedCode, untrustedFunctions } from './code-locations.js';
import { isAllowedSource } from './packages.js';

/**
 * Per-event kinds of the data and training stages: schema pinning, auth
 * failures, monitor violations + feature statistics, code and image
 * provenance, network policy + egress, off-hours submissions.
 */

const DATA_STAGES = new Set(['ingestion', 'preprocessing']);

/**
 * A job judged as a preprocessing job runs: one at stage preprocessing, or a processing job the connector classified
 * as a model evaluation step (`details.evaluation_step`: its `evaluation` output, a step named for it) — it still runs
 * the pipeline's own code on the pipeline's data, and naming an output `evaluation` must not take a job out of the
 * code, package and network checks.
 */
const runsAsProcessing = (ev: NormalizedEvent) => ev.stage === 'preprocessing' || (ev.stage === 'evaluation' && typeof ev.details?.evaluation_step === 'string');

export const schemaMismatch: KindImpl = (ev, ctx) => {
  if (!DATA_STAGES.has(ev.stage) || ev.outcome === 'failure') return;
  contentDigestChange(ev, ctx);
  const hash = ev.ml?.data?.schema_hash;
  if (!hash) return;
  const source = sourceOf(ev);
  const entity = { type: 'data_source', id: source, platform: ev.platform };
  const pinned = Object.entries(setting<Record<string, string>>(ctx, 'pinned')).find(([g]) => globMatch(g, source))?.[1];
  if (pinned) {
    if (pinned.toLowerCase() !== hash.toLowerCase()) {
      ctx.detect({ entity, key: hash, evidence: [ev.id], title: 'Schema differs from the pinned schema', summary: `${source} delivered schema ${hash}, pinned ${pinned}`, details: { schema_hash: hash, expected: pinned, basis: 'pinned' } });
    }
    return;
  }
  const learned = ctx.get<{ hash: string; event: string }>(`schema|${source}`);
  if (!learned) return ctx.set(`schema|${source}`, { hash, event: ev.id });
  if (learned.hash === hash) return;
  ctx.detect({
    entity, key: hash, evidence: [learned.event, ev.id], title: 'Schema differs from the learned schema',
    summary: `${source} delivered schema ${hash}; learned ${learned.hash}`, details: { schema_hash: hash, expected: learned.hash, basis: 'learned' },
  });
  if (setting(ctx, 'accept_after_alert')) ctx.set(`schema|${source}`, { hash, event: ev.id });
};


/**
 * A dataset's content changed under the same name: the digest its platform computed over the data
 * (`details.dataset_digest`: MLflow's `log_input`, per experiment and dataset name) differs from the previous run's,
 * for the sources `digest_sources` names (globs; default none: a pipeline retraining on each day's extract under one
 * name changes it every run, so only datasets meant to stay fixed — a released training set — are listed). One finding
 * per source and digest, the new digest then learned; a later run reading the old content again is a change back.
 */
function contentDigestChange(ev: NormalizedEvent, ctx: RuleContext): void {
  const digest = ev.details?.dataset_digest;
  if (typeof digest !== 'string' || !digest) return;
  const source = sourceOf(ev);
  if (!anyGlob(setting<string[]>(ctx, 'digest_sources'), source)) return;
  const k = `digest|${source}`;
  const learned = ctx.get<{ digest: string; event: string; run?: string }>(k);
  const run = ev.ml?.provenance?.run_id;
  ctx.set(k, { digest, event: ev.id, run });
  if (!learned || learned.digest === digest) return;
  const name = typeof ev.details?.dataset_name === 'string' ? ev.details.dataset_name : source;
  ctx.detect({
    entity: { type: 'data_source', id: source, platform: ev.platform }, key: `digest:${digest}`, evidence: [learned.event, ev.id],
    title: 'Dataset content changed under the same name',
    summary: `${name}: run ${run ?? '?'} read content digest ${digest}; the previous run${learned.run ? ` ${learned.run}` : ''} read ${learned.digest}`,
    details: { finding: 'content_digest_changed', dataset_digest: digest, previous_digest: learned.digest, run_id: run, previous_run_id: learned.run, uris: ev.ml?.data?.uris, basis: 'previous_run' },
  });
}

export const sourceAuthFailure: KindImpl = (ev, ctx) => {
  const actions = setting(ctx, 'actions');
  const pattern = new RegExp(setting(ctx, 'error_pattern'), 'i');
  // A listed action counts unless its event says it succeeded (a sender's failure report may leave the outcome unknown).
  const byAction = ev.outcome !== 'success' && anyGlob(actions, ev.action);
  const byError = ev.outcome === 'failure' && !!ev.error && pattern.test(`${ev.error.code ?? ''} ${ev.error.message ?? ''}`);
  if (!byAction && !byError) return;
  const principal = identityOf(ev.actor, ctx.cfg) ?? ev.actor?.ip;
  const who = principal ?? 'unknown';
  // What a refused sender claimed to be (token email, key id) is not verified: shown, never the principal.
  const claimed = typeof ev.details?.claimed_principal === 'string' ? ev.details.claimed_principal : undefined;
  const target =
    ev.action === 'ingest.auth_failure'
      ? { type: 'ingest_route', id: ev.resource?.id ?? ev.channel, platform: ev.platform }
      : DATA_STAGES.has(ev.stage)
        ? { type: 'data_source', id: sourceOf(ev), platform: ev.platform }
        : { type: ev.resource?.type ?? 'platform', id: ev.resource?.name ?? ev.resource?.id ?? ev.platform, platform: ev.platform };
  // Senders refused at the bridge are one finding per route and error: keyed by address, a spray from
  // thousands of addresses (an IPv6 /64) raised as many alerts. A platform's refusals are one finding per
  // principal, whatever they were refused: keyed by object, enumerating a bucket raised an alert per key.
  // Repeats are counted in the next alert. Refusals of nobody known stay apart by what was refused.
  const bridge = ev.action === 'ingest.auth_failure';
  const entity = bridge || !principal ? target : identityEntity(principal);
  const key = bridge ? `refused|${ev.error?.code ?? ''}` : 'refused';
  ctx.detect({
    entity, key, evidence: [ev.id], title: 'Authentication / authorization failure',
    summary: `${who}${claimed ? ` (claiming to be ${claimed}, unverified)` : ''} failed ${ev.operation} on ${target.id}: ${ev.error?.code ?? ''} ${ev.error?.message ?? ''}`.trim(),
    details: { principal: who, ip: ev.actor?.ip, operation: ev.operation, error: ev.error, target, ...(claimed ? { claimed_principal: claimed } : {}) },
  });
};

/** A monitor's finding (connectors report the finding itself as outcome success: the monitor worked). */
const isMonitorFinding = (ev: NormalizedEvent) => ev.action === 'monitor.violation' || ev.action === 'monitor.anomaly';
function monitorText(ev: NormalizedEvent): string {
  const d = ev.details ?? {};
  return [ev.operation, ev.resource?.type, ev.resource?.name, d.objective, d.anomaly_objective, d.monitoring_type, d.monitor_type].filter((x) => typeof x === 'string').join(' ');
}

export const distributionShift: KindImpl = (ev, ctx) => {
  const pattern = new RegExp(setting(ctx, 'monitor_pattern'), 'i');
  if (isMonitorFinding(ev) && (DATA_STAGES.has(ev.stage) || pattern.test(monitorText(ev)))) {
    const ep = endpointOf(ev);
    const entity = ep ? endpointEntity(ev, ep) : { type: 'data_source', id: sourceOf(ev), platform: ev.platform };
    // What was violated: Vertex names objectives and findings; SageMaker Model Monitor a feature, a check and its text.
    const d = ev.details ?? {};
    const feature = typeof d.feature_name === 'string' ? d.feature_name : undefined;
    const check = typeof d.constraint_check_type === 'string' ? d.constraint_check_type : undefined;
    // Vertex names the features over their thresholds (details.features): the summary says which and by how much.
    const over = exceededFeatures(d);
    const what = [check, feature ? `on feature ${feature}` : undefined, over.length ? over.join(', ') : undefined].filter(Boolean).join(' ');
    ctx.detect({
      entity, key: monitorText(ev), evidence: [ev.id], title: 'Data-quality / skew monitor violation',
      summary: `${ev.resource?.name ?? ev.operation} reported a violation${what ? ` (${what})` : ''} on ${entity.id}${typeof d.description === 'string' ? `: ${d.description}` : ''}`,
      details: { monitor: ev.resource?.name, objective: d.objective ?? d.anomaly_objective, findings: d.findings ?? d.features ?? d.feature_anomalies, feature, check, description: d.description },
    });
  }
  if (ev.stage === 'preprocessing' && ev.ml?.metrics && ev.outcome !== 'failure') {
    const globs = setting(ctx, 'metrics');
    const job = jobNameOf(ev);
    const hasData = !!(ev.ml.data?.uris?.length || ev.ml.data?.inputs?.length || (ev.resource && /dataset|feature/.test(ev.resource.type)));
    const entity = hasData || !job ? { type: 'data_source', id: sourceOf(ev), platform: ev.platform } : jobEntity(ev, job);
    for (const [k, v] of Object.entries(ev.ml.metrics)) if (anyGlob(globs, k)) ctx.observe(k, entity, 'mean', v);
  }
};

function codeOf(ev: NormalizedEvent): { image?: string; commit?: string } {
  const j = ev.ml?.job;
  const digest = j?.image_digest ?? (j?.image?.includes('@sha256:') ? j.image.slice(j.image.indexOf('@') + 1) : undefined);
  return { image: digest ?? j?.image, commit: ev.ml?.code?.commit };
}

/**
 * Where a job's code archives come from, stable across runs: the bucket and the file's name (`s3://sagemaker-us-east-1-
 * 111122223333/…/preprocess.py`). The SageMaker SDK uploads a processing script under the run's own job name
 * (`s3://<bucket>/<job-name>/input/code/preprocess.py`), a pipeline under a content hash, so the whole URI is new every
 * run; the bucket says whose code it is, and a script fetched from another bucket is other code.
 */
function codeLocations(ev: NormalizedEvent): string[] {
  const uris = Array.isArray(ev.ml?.job?.code_uris) ? ev.ml.job.code_uris.filter((u): u is string => typeof u === 'string') : [];
  return [...new Set(uris.map((u) => {
    const m = /^([a-z0-9+.-]+:\/\/[^/]+)(\/.*)?$/i.exec(u);
    if (!m) return u;
    const path = (m[2] ?? '').replace(/\/+$/, '');
    // A pipeline's folder is the hash of the script's content (`<pipeline>/code/<hash>/<file>`): a new hash is new code.
    const hashed = /\/code\/([0-9a-f]{32,64}\/[^/]+)$/.exec(path);
    if (hashed) return `${m[1]}/…/code/${hashed[1]}`;
    const file = path.split('/').pop();
    return file ? `${m[1]}/…/${file}` : m[1]!;
  }))].sort();
}

export const codeModified: KindImpl = (ev, ctx) => {
  if (!runsAsProcessing(ev) || !(isJobSubmission(ev) || ev.action === 'pipeline_step.start')) return;
  const { image, commit } = codeOf(ev);
  // The script a processing job runs on a prebuilt image by tag (the SDK's ScriptProcessor `code` input) is its code too.
  const locations = codeLocations(ev);
  if (!image && !commit && !locations.length) return;
  const job = jobNameOf(ev) ?? 'unknown';
  const entity = jobEntity(ev, job);
  // Learned per family (in its account, on SageMaker): the entity's id.
  const family = entity.id;
  const approvedImages = setting<string[]>(ctx, 'approved_images');
  const approvedCommits = setting<string[]>(ctx, 'approved_commits');
  const reasons: string[] = [];
  if (approvedImages.length && image && !anyGlob(approvedImages, image) && !anyGlob(approvedImages, ev.ml?.job?.image)) reasons.push(`image ${image} is not on the approved list`);
  if (approvedCommits.length && commit && !anyGlob(approvedCommits, commit)) reasons.push(`commit ${commit} is not on the approved list`);
  // `locations`: learned since code locations were judged; a family learned before has none yet, and learns them now.
  const known = ctx.get<{ images: string[]; commits: string[]; locations?: string[]; event: string }>(`code|${family}`);
  const newLocations = known?.locations?.length ? locations.filter((l) => !known.locations!.includes(l)) : [];
  if (!known) {
    ctx.set(`code|${family}`, { images: image ? [image] : [], commits: commit ? [commit] : [], locations, event: ev.id });
  } else if (!reasons.length) {
    if (!approvedImages.length && image && !known.images.includes(image)) reasons.push(`image changed to ${image} since the last approved run (${known.images.at(-1)})`);
    if (!approvedCommits.length && commit && !known.commits.includes(commit)) reasons.push(`commit changed to ${commit} since the last approved run (${known.commits.at(-1)})`);
    if (newLocations.length) reasons.push(`code from ${newLocations.join(', ')} since the last approved run (${known.locations!.join(', ')})`);
  }
  if (reasons.length) {
    const codeUris = newLocations.length ? { code_locations: newLocations, known_code_locations: known!.locations } : {};
    ctx.detect({ entity, key: `${image ?? ''}|${commit ?? ''}${newLocations.length ? `|${newLocations.join(',')}` : ''}`, evidence: known ? [known.event, ev.id] : [ev.id], title: 'Preprocessing code not approved', summary: `${job}: ${reasons.join('; ')}`, details: { job, image, commit, reasons, ...codeUris } });
  }
  if (known && setting(ctx, 'learn')) {
    if (image && !known.images.includes(image)) known.images = [...known.images, image].slice(-20);
    if (commit && !known.commits.includes(commit)) known.commits = [...known.commits, commit].slice(-20);
    for (const l of locations) if (!(known.locations ?? []).includes(l)) known.locations = [...(known.locations ?? []), l].slice(-20);
    known.event = ev.id;
    ctx.set(`code|${family}`, known);
  }
};

const JOB_CREATE = new Set(['training_job.create', 'processing_job.create', 'tuning_job.create']);

export const networkEgress: KindImpl = (ev, ctx) => {
  const j = ev.ml?.job;
  const isVertexPipeline = ev.platform === 'vertex' && ev.action === 'pipeline_run.create';
  // A Vertex AI GenAI tuning job (GenAiTuningService, resource `tuning_job`; not a HyperparameterTuningJob) runs no
  // code of the caller's on machines of the caller's: its TuningJob has no network or VPC field to set, so every one
  // would read "not isolated" and the alert could never be made to go away.
  const managedTuning = ev.platform === 'vertex' && ev.resource?.type === 'tuning_job';
  // Nor does a Vertex AI DataLabelingJob (read as processing_job.create): human labelers (specialist pools) label the
  // dataset on Google's side; the job has no network, VPC or container of the caller's to isolate.
  const humanLabeling = ev.platform === 'vertex' && ev.resource?.type === 'data_labeling_job';
  // A SageMaker Ground Truth labeling job runs instances of the caller's only with automated data labeling (its
  // `labelingJobResourceConfig.vpcConfig` is their network): judged then, at stage ingestion; a labeling job of human
  // workers and Lambda functions alone has nothing to isolate, as Vertex's above.
  const automatedLabeling = ev.platform === 'sagemaker' && isLabelingJobSubmission(ev) && j?.automated_labeling === true;
  if ((((JOB_CREATE.has(ev.action) || isVertexPipeline) && (ev.stage === 'training' || runsAsProcessing(ev))) || automatedLabeling) && !managedTuning && !humanLabeling && ev.outcome !== 'failure') {
    const known = j?.network_isolation !== undefined || j?.vpc !== undefined;
    // The create request is the whole truth on SageMaker and Vertex: a field left out means "not isolated".
    if (known || ev.platform === 'sagemaker' || ev.platform === 'vertex') {
      const isolated = j?.network_isolation === true || (j?.vpc !== undefined && j.vpc !== false && j.vpc !== '');
      const job = jobNameOf(ev) ?? 'unknown';
      const policy = setting<Array<{ jobs: string; require_isolation: boolean }>>(ctx, 'policy').find((p) => globMatch(p.jobs, job));
      if (!isolated && policy?.require_isolation) {
        // By family, as the egress σ part and training.unverified_dependency name the job: the alerts of one run
        // group under one entity (`fraud-train-1` → `fraud-train`); `key` and `details.job` still name the run.
        ctx.detect({
          entity: jobEntity(ev, job), key: job, evidence: [ev.id], title: 'Job runs without network isolation',
          summary: `${job} was submitted without network isolation or a VPC / private network (policy "${policy.jobs}")`,
          details: { job, network_isolation: j?.network_isolation ?? null, vpc: j?.vpc ?? null, policy: policy.jobs, submitted_by: identityOf(ev.actor, ctx.cfg) },
        });
      }
    }
  }
  if (ev.stage === 'training' && ev.ml?.metrics) {
    const globs = setting(ctx, 'metrics');
    const job = jobNameOf(ev);
    if (job) for (const [k, v] of Object.entries(ev.ml.metrics)) if (anyGlob(globs, k)) ctx.observe(k, jobEntity(ev, job), 'max', v);
  }
};

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
interface Pattern {
  first: number;
  jobs: number;
  hist: Record<string, number>;
}

function utcDayHour(ms: number): { day: number; hour: number } {
  const d = new Date(ms);
  return { day: d.getUTCDay(), hour: d.getUTCHours() };
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();
const WEEKDAY: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** Day of week and hour on the wall clock of an IANA zone (daylight saving included). */
function zonedDayHour(ms: number, zone: string): { day: number; hour: number } {
  let f = zoneFormats.get(zone);
  if (!f) zoneFormats.set(zone, (f = new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short', hour: 'numeric', hourCycle: 'h23' })));
  let day = 0;
  let hour = 0;
  for (const part of f.formatToParts(ms)) {
    if (part.type === 'weekday') day = WEEKDAY[part.value] ?? 0;
    else if (part.type === 'hour') hour = Number(part.value);
  }
  return { day, hour };
}

/** Executions kept a pipeline (its StartPipelineExecution responses), for trusting its step jobs' tags. */
const PIPELINE_EXECUTIONS_KEPT = 50;

/**
 * Whether a job's `sagemaker:pipeline-execution-arn` tag is SageMaker Pipelines' own: AWS reserves only the `aws:` tag
 * prefix, so any caller allowed CreateTrainingJob may write `sagemaker:`-prefixed tags and borrow a pipeline's weekly
 * pattern. Trusted when SageMaker made the call (`invokedBy: sagemaker.amazonaws.com`: Pipelines starting a step as the
 * pipeline's execution role), or when a StartPipelineExecution returning that execution ARN was seen.
 */
function pipelineTagTrusted(ev: NormalizedEvent, ctx: RuleContext, pipeline: string, exec: string): boolean {
  if (ev.details?.invoked_by === 'sagemaker.amazonaws.com') return true;
  return (ctx.get<string[]>(`pipeexecs|${pipeline}`) ?? []).includes(exec.toLowerCase());
}

export const offHoursJob: KindImpl = (ev, ctx) => {
  if (!isJobSubmission(ev)) return;
  // A pipeline run started: its execution ARN (the response's) is kept, so a step job tagged with it is the pipeline's.
  const runArn = ev.ml?.provenance?.run_id;
  const started = ev.outcome !== 'failure' && typeof runArn === 'string' && /\/execution\//.test(runArn) && !ev.ml?.job?.pipeline_execution ? pipelineOf(ev) : undefined;
  if (started) {
    const key = `pipeexecs|${started}`;
    const seen = ctx.get<string[]>(key) ?? [];
    if (!seen.includes(runArn!.toLowerCase())) ctx.set(key, [...seen, runArn!.toLowerCase()].slice(-PIPELINE_EXECUTIONS_KEPT));
  }
  const who = identityOf(ev.actor, ctx.cfg);
  if (!who || anyGlob(setting<string[]>(ctx, 'exempt'), who)) return;
  const t = Date.parse(ev.time);
  const zone = setting<string | undefined>(ctx, 'time_zone');
  const { day, hour } = zone ? zonedDayHour(t, zone) : utcDayHour(t + setting(ctx, 'utc_offset_hours') * 3_600_000);
  const where = zone ?? (setting(ctx, 'utc_offset_hours') ? `UTC${setting(ctx, 'utc_offset_hours') > 0 ? '+' : ''}${setting(ctx, 'utc_offset_hours')}` : 'UTC');
  const dayType = day === 0 || day === 6 ? 'we' : 'wd';
  const entity = identityEntity(who);
  const job = jobNameOf(ev) ?? ev.operation;
  const window = ctx.rule.settings.allowed_window as { days?: string[]; from_hour: number; to_hour: number } | undefined;
  if (window) {
    const overnight = window.from_hour > window.to_hour;
    const hourOk = overnight ? hour >= window.from_hour || hour < window.to_hour : hour >= window.from_hour && hour < window.to_hour;
    // The hours after midnight of an overnight window belong to the day it opened.
    const windowDay = overnight && hour < window.to_hour ? (day + 6) % 7 : day;
    const dayOk = !window.days || window.days.includes(DAYS[windowDay]!);
    if (!dayOk || !hourOk) {
      ctx.detect({ entity, key: 'window', evidence: [ev.id], title: 'Job submitted outside the allowed window', summary: `${who} submitted ${job} at ${DAYS[day]} ${String(hour).padStart(2, '0')}:xx ${where}, outside the configured window`, details: { job, day: DAYS[day], hour, time_zone: where, basis: 'window' } });
    }
  }
  // Hours are learned in the zone they are judged in: after a `time_zone` change the pattern is learned again
  // (hours counted in UTC read as New York hours would flag every usual job). UTC keeps its original key.
  const identityKey = where === 'UTC' ? `pattern|${who}` : `pattern|${where}|${who}`;
  // A pipeline's jobs (and its runs) have the pipeline's own pattern: the pipelines of one execution role are not one
  // schedule (a nightly pipeline must not make another pipeline of the role running at 02:00 usual).
  let pipeline = pipelineOf(ev);
  // A step job's tag is trusted only as SageMaker's own (pipelineTagTrusted): a caller tagging its own job is judged,
  // and learned, by its identity's pattern, the tag it wrote in details.pipeline_tag_untrusted.
  const tagged = ev.ml?.job?.pipeline_execution;
  const untrustedTag = pipeline && typeof tagged === 'string' && /\/execution\//.test(tagged) && !pipelineTagTrusted(ev, ctx, pipeline, tagged) ? tagged : undefined;
  if (untrustedTag) pipeline = undefined;
  const patternKey = pipeline ? `${identityKey}|pipeline:${pipeline}` : identityKey;
  const p = ctx.get<Pattern>(patternKey) ?? { first: t, jobs: 0, hist: {} };
  // History starts at the earliest job seen: a first one dated far ahead (a bad clock) must not make it never long enough.
  if (t < p.first) p.first = t;
  const historyMs = durationMs(setting(ctx, 'min_history'));
  const learned = (x: Pattern) => t - x.first >= historyMs && x.jobs >= setting(ctx, 'min_jobs');
  // A pipeline whose pattern is still learning is judged by its identity's pattern as before: what an older mltrail
  // learned (all the role's jobs, pipelines' included) and the role's own jobs outside pipelines since.
  const byIdentity = pipeline && !learned(p) ? ctx.get<Pattern>(identityKey) : undefined;
  const judge = byIdentity && learned(byIdentity) ? byIdentity : learned(p) ? p : undefined;
  if (judge) {
    const tol = setting(ctx, 'tolerance_hours');
    let support = 0;
    for (let h = hour - tol; h <= hour + tol; h++) support += judge.hist[`${dayType}-${(h + 24) % 24}`] ?? 0;
    if (support < setting(ctx, 'min_support')) {
      const ofPipeline = pipeline && judge === p;
      ctx.detect({
        entity, key: pipeline ? `pattern|${pipeline}` : 'pattern', evidence: [ev.id], title: ofPipeline ? 'Pipeline job submitted outside the pipeline’s usual hours' : 'Job submitted outside the identity’s usual hours',
        summary: `${who} submitted ${job}${pipeline ? ` (pipeline ${pipeline})` : ''} on a ${dayType === 'we' ? 'weekend' : 'weekday'} at ${String(hour).padStart(2, '0')}:xx ${where}; ${judge.jobs} earlier jobs${ofPipeline ? ' of the pipeline' : pipeline ? ` of ${who} (the pipeline's own pattern is still learning)` : ''} since ${new Date(judge.first).toISOString().slice(0, 10)}, ${support} near this hour${untrustedTag ? `; its sagemaker:pipeline-execution-arn tag (${untrustedTag}) was not written by SageMaker Pipelines (the caller set it, no run of that execution seen): judged by the identity's pattern` : ''}`,
        details: { job, day: DAYS[day], hour, time_zone: where, support, history_jobs: judge.jobs, basis: 'learned_pattern', pipeline, pattern_of: pipeline ? (ofPipeline ? 'pipeline' : 'identity') : undefined, pipeline_tag_untrusted: untrustedTag },
      });
    }
  }
  const b = `${dayType}-${hour}`;
  p.hist[b] = (p.hist[b] ?? 0) + 1;
  p.jobs++;
  ctx.set(patternKey, p);
};

/**
 * The SageMaker pipeline a job submission belongs to, as `<account>:<region>:<name>` (names as the ARNs write them,
 * lower case): a step's job by its `sagemaker:pipeline-execution-arn` tag (`ml.job.pipeline_execution`, in the event's
 * account and region, as jobFamilyOf reads it), a pipeline run by the pipeline it names (`ml.provenance.pipeline`, name
 * or ARN). Another platform's run names its pipeline as its connector gives it. Undefined for a job of no pipeline.
 */
function pipelineOf(ev: NormalizedEvent): string | undefined {
  const here = sagemakerScopeOf(ev);
  const fromArn = (arn: string) => {
    const m = /^arn:aws[a-z-]*:sagemaker:([^:]+):(\d{12}):pipeline\/([^/]+)/.exec(arn);
    return m && (!here || here === `${m[2]}:${m[1]}`) ? `${m[2]}:${m[1]}:${m[3]!.toLowerCase()}` : undefined;
  };
  const exec = ev.ml?.job?.pipeline_execution;
  if (typeof exec === 'string' && /\/execution\//.test(exec)) return fromArn(exec);
  const named = ev.ml?.provenance?.pipeline;
  if (!named) return undefined;
  if (named.startsWith('arn:')) return fromArn(named);
  return ev.platform === 'sagemaker' ? (here ? `${here}:${named.toLowerCase()}` : named.toLowerCase()) : `${ev.platform}:${named}`;
}


export { registryOf } from './images.js';

export const unverifiedDependency: KindImpl = (ev, ctx) => {
  // A processing job is judged too (it writes the data a model learns from): its packages and code, and where its
  // image comes from — not whether it is pinned: AWS's processing containers (scikit-learn, Spark, Data Wrangler) run
  // by tag from ECR accounts the trusted list does not name, and pass the registry allow list; an image from Docker Hub
  // or another registry off the list (an attacker's preprocessing container) does not.
  // A labeling job (SageMaker Ground Truth, stage ingestion) runs Lambda functions over every data object and its
  // labels: judged on those (labelingFunctions).
  const preprocessing = runsAsProcessing(ev);
  const labeling = ev.resource?.type === 'labeling_job' && ev.action === 'resource.create' && ev.outcome !== 'failure';
  if (ev.stage !== 'training' && !preprocessing && !labeling) return;
  const reasons: string[] = [];
  /** The images that failed: the alert names (and suppresses by) them, not a pinned first image. */
  const offenders: string[] = [];
  const j = ev.ml?.job;
  // Judged when the job is submitted (or a pipeline step starts), not on its later state changes.
  // A HyperPod cluster written (created, or its instance groups changed): its nodes run the lifecycle scripts then.
  const clusterWrite = ev.resource?.type === 'cluster' && /^resource\.(create|update)$/.test(ev.action) && ev.outcome !== 'failure';
  const submitted = isJobSubmission(ev) || ev.action === 'pipeline_step.start' || clusterWrite;
  if (j?.image && submitted) {
    // A job may run several images (a tuning job's definitions): each must pass.
    const images = j.images?.length ? j.images : [j.image];
    // `image_pinned` is the connector's verdict over the whole job: it speaks for one image only when there is one.
    const pinned = (image: string) => (images.length === 1 && j.image_pinned !== undefined ? j.image_pinned : isPinnedImage(image) || (image === j.image && !!j.image_digest));
    const judged = judgeImages(images, { allowed_registries: projectSetting(ctx, ev, 'allowed_registries'), require_digest: !preprocessing && setting<boolean>(ctx, 'require_digest'), trusted_images: projectSetting(ctx, ev, 'trusted_images'), allowed_repositories: projectSetting(ctx, ev, 'allowed_repositories') }, pinned);
    reasons.push(...judged.reasons);
    offenders.push(...judged.offenders);
  }
  // A SageMaker algorithm resource of another account (AWS Marketplace, a partner) runs a training image the job does
  // not show (it is in that account's algorithm): nothing to pin or check, unless the operator trusts the algorithm.
  const algorithm = typeof j?.algorithm === 'string' ? j.algorithm : undefined;
  const owner = algorithm ? /^arn:aws[a-z-]*:sagemaker:[^:]*:(\d{12}):algorithm\//.exec(algorithm)?.[1] : undefined;
  if (algorithm && owner && isJobSubmission(ev) && owner !== ev.cloud?.account && !anyGlob(setting<string[]>(ctx, 'trusted_algorithms'), algorithm)) {
    reasons.push(`algorithm ${algorithm} of account ${owner}: its training image is not in the request`);
    offenders.push(algorithm);
  }
  // Packages pip or uv fetch from an index or a URL the allow list does not name (PIP_INDEX_URL, a KFP component's
  // pip_index_urls, a `git+https://` requirement): code that runs in the job, from outside the image judged above.
  const sources = Array.isArray(j?.package_sources) ? j.package_sources.filter((s): s is string => typeof s === 'string') : [];
  const foreignSources = submitted ? sources.filter((s) => !isAllowedSource(s, projectSetting<string[]>(ctx, ev, 'allowed_package_sources'), setting<string[]>(ctx, 'allowed_conda_channels'))) : [];
  for (const s of foreignSources) reasons.push(s.startsWith('conda:') ? `packages from conda channel ${s.slice(6)}, not in allowed_conda_channels` : `packages from ${s}, not an allowed package source`);
  // An index the request names but does not show (`-i $IDX`, PIP_INDEX_URL from a Secret, PIP_CONFIG_FILE): cannot
  // be judged, so it is a weaker finding of its own (medium at most) unless the operator trusts what it hides.
  const hiddenSources = submitted && !setting<boolean>(ctx, 'trust_hidden_package_sources') && Array.isArray(j?.package_sources_unverifiable) ? j.package_sources_unverifiable.filter((s): s is string => typeof s === 'string') : [];
  const seenReasons = reasons.length;
  for (const s of hiddenSources) reasons.push(`packages from a source the request does not show (${s})`);
  const foreignCode = submitted ? untrustedCode(Array.isArray(j?.code_uris) ? j.code_uris.filter((u): u is string => typeof u === 'string') : [], ev.cloud?.account, setting<string[]>(ctx, 'trusted_code_locations')) : [];
  for (const c of foreignCode) reasons.push(c.reason);
  const foreignFunctions = labeling ? untrustedFunctions(j, ev.cloud?.account, setting<string[]>(ctx, 'trusted_code_locations')) : [];
  for (const f of foreignFunctions) reasons.push(f.reason);
  if ((preprocessing || labeling) && !reasons.length) return;
  const check = ev.details?.dependency_check;
  if (check === 'failed' || (ev.outcome === 'failure' && /hash|digest|checksum|integrity/i.test(`${ev.error?.code ?? ''} ${ev.error?.message ?? ''}`))) {
    reasons.push(`dependency hash check failed: ${ev.error?.message ?? ev.error?.code ?? 'failed'}`);
  }
  if (!reasons.length) return;
  const job = jobNameOf(ev) ?? ev.operation;
  const image = offenders[0] ?? j?.image;
  // By job family: each run of a recurring pipeline (churn-nightly-16, -17…) is the same finding, suppressed as a repeat.
  // The foreign package sources are in the key: another index is another finding, not a repeat of an image's.
  const key = [...offenders, ...foreignSources, ...foreignCode.map((c) => c.uri), ...foreignFunctions.map((f) => f.arn), ...hiddenSources].join(',') || (j?.image ?? 'dependency');
  // Only hidden sources found (no image, source, code or hash check failed that the request shows): medium at most.
  const onlyHidden = hiddenSources.length > 0 && seenReasons === 0 && reasons.length === hiddenSources.length;
  ctx.detect({
    entity: jobEntity(ev, job), key, evidence: [ev.id], title: 'Unverified training dependency', summary: `${job}: ${reasons.join('; ')}`,
    details: {
      job, image, ...(offenders.length > 1 ? { images: offenders } : {}), ...(foreignSources.length ? { package_sources: foreignSources } : {}),
      ...(hiddenSources.length ? { package_sources_unverifiable: hiddenSources } : {}), ...(foreignCode.length ? { code_uris: foreignCode.map((c) => c.uri) } : {}),
      ...(foreignFunctions.length ? { lambda_functions: foreignFunctions.map((f) => f.arn) } : {}), reasons,
    },
    ...(onlyHidden ? { severity_cap: 'medium' as const } : {}),
  });
};

export type { RuleContext };
