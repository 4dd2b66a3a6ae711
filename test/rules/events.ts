import { stableId, type NormalizedEvent, type NormalizedEventInput } from '../../core/schema/index.js';

/** Builders for normalized test events (schema_version "1"), as connectors emit them. */

export type Draft = Partial<NormalizedEventInput> & Pick<NormalizedEventInput, 'time' | 'platform' | 'stage' | 'action'>;

let seq = 0;
/** Reset the id counter so generated files are byte-identical run to run. */
export function resetIds(prefix = 'ev'): void {
  seq = 0;
  idPrefix = prefix;
}
let idPrefix = 'ev';

export function ev(d: Draft): NormalizedEvent {
  seq++;
  return {
    schema_version: '1',
    id: d.id ?? `${idPrefix}-${String(seq).padStart(4, '0')}`,
    received_time: d.time,
    channel: `${d.platform}.test`,
    operation: d.action,
    outcome: 'success',
    ...d,
  } as NormalizedEvent;
}

export const T0 = Date.parse('2026-03-02T10:00:00Z'); // a Monday
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
export const at = (ms: number) => new Date(ms).toISOString();

/** People and services, as each platform reports them. */
export const actors = {
  aliceAws: { id: 'arn:aws:sts::111122223333:assumed-role/MLEngineer/alice@corp.example', type: 'user' as const, session_issuer: 'arn:aws:iam::111122223333:role/MLEngineer' },
  aliceAwsData: { id: 'arn:aws:sts::111122223333:assumed-role/DataEngineer/alice@corp.example', type: 'user' as const },
  aliceAwsDeploy: { id: 'arn:aws:sts::111122223333:assumed-role/MLDeployer/alice@corp.example', type: 'user' as const },
  aliceMlflow: { name: 'alice@corp.example', type: 'user' as const },
  aliceGcp: { email: 'alice@corp.example', type: 'user' as const },
  bob: { email: 'bob@corp.example', type: 'user' as const },
  bobMlflow: { name: 'bob@corp.example', type: 'user' as const },
  mallory: { name: 'mallory@corp.example', type: 'user' as const },
  ci: { id: 'arn:aws:sts::111122223333:assumed-role/CIPipeline/botocore-session-1700000000', type: 'service' as const },
  ciGcp: { email: 'ci-deployer@proj.iam.gserviceaccount.com', type: 'service' as const },
  ingestSa: { email: 'ingest@proj.iam.gserviceaccount.com', type: 'service' as const },
  kfRunner: { name: 'system:serviceaccount:kubeflow:pipeline-runner', type: 'service' as const },
};

export const ECR_IMAGE = `111122223333.dkr.ecr.us-east-1.amazonaws.com/train@sha256:${'a'.repeat(64)}`;
export const sha = (c: string) => c.repeat(64).slice(0, 64);

/** A SageMaker training job submission that is compliant (isolated, pinned image). */
export function smTraining(time: number, job: string, actor: NormalizedEvent['actor'], extra: Partial<NonNullable<NormalizedEvent['ml']>> = {}, jobExtra: Record<string, unknown> = {}): NormalizedEvent {
  return ev({
    time: at(time), platform: 'sagemaker', stage: 'training', action: 'training_job.create', operation: 'CreateTrainingJob', actor,
    resource: { type: 'training_job', name: job },
    ml: { job: { name: job, image: ECR_IMAGE, image_pinned: true, network_isolation: true, ...jobExtra }, ...extra },
  });
}

/** Stable ids for generated (bulk) events. */
export const gid = (...parts: Array<string | number>) => stableId('test', ...parts);
