import type { NormalizedEvent } from '../../../core/schema/index.js';
import { DAY, ECR_IMAGE, HOUR, actors, at, gid } from '../../rules/events.js';
import { prng } from '../../bench/workload.js';

/** Deterministic generators for windowed-rule scenarios and the benign month. */

/** Seeded PRNG (mulberry32, shared with the benchmark's generator): the same seed gives the same month. */
export const rng = prng;

/** The ingestion writer role (not the CI deployer: separation of duties). */
const INGEST_WRITER = { id: 'arn:aws:sts::111122223333:assumed-role/IngestWriter/botocore-session-1700000001', type: 'service' as const };

/** Monday 2026-03-02 00:00 UTC. */
export const START = Date.parse('2026-03-02T00:00:00Z');

export interface Spike {
  day: number;
  hour: number;
  hours: number;
  count: number;
}

function base(e: Omit<NormalizedEvent, 'schema_version' | 'received_time' | 'channel' | 'operation' | 'outcome'> & Partial<NormalizedEvent>): NormalizedEvent {
  return { schema_version: '1', received_time: e.time, channel: `${e.platform}.gen`, operation: e.action, outcome: 'success', ...e } as NormalizedEvent;
}

/** Usual events per hour: office-hours peak on weekdays, quiet nights and weekends. */
export function diurnal(t: number, peak: number, night: number, weekend: number): number {
  const d = new Date(t);
  const wd = d.getUTCDay() !== 0 && d.getUTCDay() !== 6;
  const h = d.getUTCHours();
  return !wd ? weekend : h >= 8 && h < 18 ? peak : night;
}

/** Hourly series of `make(time, i)` events with seeded noise and spikes (count replaces the usual number). */
export function hourly(days: number, seed: number, usual: (t: number) => number, make: (t: number, n: string) => NormalizedEvent, spikes: Spike[] = []): NormalizedEvent[] {
  const r = rng(seed);
  const out: NormalizedEvent[] = [];
  for (let h = 0; h < days * 24; h++) {
    const t = START + h * HOUR;
    const day = Math.floor(h / 24);
    const hour = h % 24;
    const spike = spikes.find((s) => s.day === day && hour >= s.hour && hour < s.hour + s.hours);
    const mean = usual(t);
    const n = spike ? spike.count : Math.max(0, mean + (r() < 0.25 ? -1 : r() < 0.33 ? 1 : 0));
    for (let i = 0; i < n; i++) out.push(make(t + Math.floor(((i + 0.5) / n) * HOUR), `${h}-${i}`));
  }
  return out;
}

export const ingestionEvent = (source: string) => (t: number, n: string) =>
  base({ id: gid('ing', source, n), time: at(t), platform: 'vertex', stage: 'ingestion', action: 'dataset.import', actor: actors.ingestSa, resource: { type: 'dataset', name: source }, ml: { data: { schema_hash: 'schema-1' } } });

export const registryWrite = (t: number, n: string) =>
  base({ id: gid('reg', n), time: at(t), platform: 'mlflow', stage: 'registry', action: 'model_version.tag_set', actor: actors.ci, ml: { model: { name: 'churn', version: '1', tags: { build: n } } } });

export const servingFailure = (endpoint: string) => (t: number, n: string) =>
  base({ id: gid('err', endpoint, n), time: at(t), platform: 'sagemaker', stage: 'serving', action: 'endpoint.invoke', operation: 'InvokeEndpoint', outcome: 'failure', error: { code: 'ModelError' }, resource: { type: 'endpoint', name: endpoint }, ml: { deployment: { endpoint } } });

/** Daily feature-statistics runs (one per weekday at 10:00), with a shifted value on the given days. */
export function featureStats(days: number, seed: number, shiftedDays: number[]): NormalizedEvent[] {
  const r = rng(seed);
  const out: NormalizedEvent[] = [];
  for (let d = 0; d < days; d++) {
    const t = START + d * DAY + 10 * HOUR;
    const v = shiftedDays.includes(d) ? 0.31 : 0.02 + r() * 0.004;
    out.push(base({ id: gid('fs', d), time: at(t), platform: 'kubeflow', stage: 'preprocessing', action: 'pipeline_step.complete', actor: actors.kfRunner, resource: { type: 'dataset', name: 'clicks-features' }, ml: { job: { name: `features-${d}` }, metrics: { null_fraction_user_id: v } } }));
  }
  return out;
}

/**
 * A benign month across the four platforms with the defaults in mind:
 * hourly ingestion with a weekly rhythm, nightly pipelines by service
 * accounts, people training in office hours, versions evaluated by CI,
 * approved by a reviewer who did not train them, deployed by CI, attested
 * with the registered hash, registry writes and a few serving errors.
 */
export function benignMonth(days = 35, seed = 7): NormalizedEvent[] {
  const r = rng(seed);
  const out: NormalizedEvent[] = [];
  out.push(...hourly(days, seed, (t) => diurnal(t, 8, 3, 2), ingestionEvent('clicks')));
  out.push(...hourly(days, seed + 1, (t) => diurnal(t, 3, 1, 1), (t, n) => base({ id: gid('s3w', n), time: at(t), platform: 'sagemaker', stage: 'ingestion', action: 'data_object.write', operation: 'PutObject', actor: INGEST_WRITER, ml: { data: { uris: [`s3://raw-data/events/${n}.json`], bytes: 1000 } } })));
  out.push(...hourly(days, seed + 2, (t) => diurnal(t, 2, 0, 0), registryWrite));
  out.push(...hourly(days, seed + 3, (t) => (r() < 0.1 ? 1 : 0), servingFailure('fraud-prod')));
  let version = 0;
  for (let d = 0; d < days; d++) {
    const day0 = START + d * DAY;
    const dow = new Date(day0).getUTCDay();
    const weekday = dow !== 0 && dow !== 6;
    // Nightly Kubeflow pipeline by its service account (02:00), feature statistics stable.
    out.push(base({ id: gid('kf', d), time: at(day0 + 2 * HOUR), platform: 'kubeflow', stage: 'training', action: 'pipeline_run.create', operation: 'CreateRun', actor: actors.kfRunner, resource: { type: 'pipeline_run', name: `nightly-${d}` }, ml: { job: { name: `nightly-${d}`, image: ECR_IMAGE, image_pinned: true } } }));
    out.push(base({ id: gid('prep', d), time: at(day0 + 2 * HOUR + 600_000), platform: 'sagemaker', stage: 'preprocessing', action: 'processing_job.create', operation: 'CreateProcessingJob', actor: actors.ci, resource: { type: 'processing_job', name: `features-${d}` }, ml: { job: { name: `features-2026-03-${String(d + 1).padStart(2, '0')}-02-10-00`, image: `111122223333.dkr.ecr.us-east-1.amazonaws.com/features@sha256:${'c'.repeat(64)}`, image_pinned: true, network_isolation: true }, code: { commit: 'abc123' }, metrics: { null_fraction: 0.02 + r() * 0.002 } } }));
    if (!weekday) continue;
    // Alice trains on SageMaker in office hours, inside the VPC, pinned ECR image.
    const jobT = day0 + (9 + Math.floor(r() * 7)) * HOUR;
    const job = `fraud-train-${d}`;
    out.push(base({ id: gid('tj', d), time: at(jobT), platform: 'sagemaker', stage: 'training', action: 'training_job.create', operation: 'CreateTrainingJob', actor: actors.aliceAws, resource: { type: 'training_job', name: job }, ml: { job: { name: job, image: ECR_IMAGE, image_pinned: true, vpc: 'vpc-0abc' }, data: { inputs: [`s3://data/fraud/train/`], outputs: [`s3://models/fraud/${job}/`] } } }));
    out.push(base({ id: gid('tjm', d), time: at(jobT + 2 * HOUR), platform: 'sagemaker', stage: 'training', action: 'training_job.complete', operation: 'SageMaker Training Job State Change', actor: { type: 'system' }, resource: { type: 'training_job', name: job }, ml: { job: { name: job }, metrics: { network_egress_bytes: 1_000_000 + Math.floor(r() * 50_000) } } }));
    // Every Tuesday and Thursday a new version: registered, evaluated by CI, approved by Bob, deployed by CI, attested.
    if (dow === 2 || dow === 4) {
      version++;
      const v = String(version);
      const t = jobT + 3 * HOUR;
      const shaV = gid('sha', v) + gid('sha2', v);
      out.push(base({ id: gid('mv', v), time: at(t), platform: 'mlflow', stage: 'registry', action: 'model_version.create', operation: 'model_version.created', actor: actors.ci, resource: { type: 'model_version', name: 'fraud', version: v }, ml: { model: { name: 'fraud', version: v, artifact_uri: `s3://models/fraud/${job}/output/model` } } }));
      out.push(base({ id: gid('hr', v), time: at(t + 300_000), platform: 'mlflow', stage: 'registry', action: 'model_version.hash_registered', operation: 'audit.register', actor: { name: 'mltrail-auditor', type: 'service' }, ml: { model: { name: 'fraud', version: v, sha256: shaV } } }));
      out.push(base({ id: gid('ev', v), time: at(t + 600_000), platform: 'kubeflow', stage: 'evaluation', action: 'evaluation.metrics', operation: 'evaluate', actor: actors.kfRunner, ml: { model: { name: 'fraud', version: v }, metrics: { accuracy: 0.95 + r() * 0.01, adv_robust_accuracy: 0.8 }, data: { inputs: ['s3://data/fraud/holdout/'] } } }));
      out.push(base({ id: gid('ap', v), time: at(t + 1_200_000), platform: 'mlflow', stage: 'registry', action: 'model_version.alias_set', operation: 'model_version_alias.created', actor: actors.bobMlflow, resource: { type: 'model_version', name: 'fraud', version: v }, ml: { model: { name: 'fraud', version: v, aliases: ['champion'] } }, details: { alias: 'champion' } }));
      out.push(base({ id: gid('dp', v), time: at(t + 1_800_000), platform: 'sagemaker', stage: 'serving', action: 'endpoint.update', operation: 'UpdateEndpoint', actor: actors.ci, resource: { type: 'endpoint', name: 'fraud-prod' }, ml: { deployment: { endpoint: 'fraud-prod' }, model: { name: 'fraud', version: v } } }));
      out.push(base({ id: gid('at', v), time: at(t + 2_400_000), platform: 'custom', stage: 'serving', action: 'model_version.attest', operation: 'attest', actor: { type: 'service' }, ml: { model: { name: 'fraud', version: v, sha256: shaV } }, details: { where: 'fraud-prod/pod-0' } }));
    }
  }
  return out;
}
