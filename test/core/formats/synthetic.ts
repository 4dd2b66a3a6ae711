import { ACTIONS, Alert, NormalizedEvent, Stage, type NormalizedEventInput } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';

/**
 * Synthetic normalized events and alerts that cover every stage, outcome,
 * actor type, platform and action of the catalogue, plus events that carry a
 * real CloudTrail record / Cloud Audit LogEntry in `raw` (from the shared
 * fixtures), so the mappings are exercised before the connectors land.
 */

const base = (over: Partial<NormalizedEventInput>): NormalizedEvent =>
  NormalizedEvent.parse({
    schema_version: '1',
    id: 'evt-0001',
    time: '2026-11-25T10:00:00.123Z',
    received_time: '2026-11-25T10:00:01.000Z',
    platform: 'sagemaker',
    channel: 'sagemaker.eventbridge',
    stage: 'training',
    action: 'training_job.create',
    operation: 'CreateTrainingJob',
    service: 'sagemaker.amazonaws.com',
    outcome: 'success',
    ...over,
  });

export const cloudTrailRecord = readFixtureJson<Record<string, any>>('sagemaker', 'cloudtrail-sagemaker-createtrainingjob.real.json');
export const gcpAuditEntry = readFixtureJson<Record<string, any>>('vertex', 'otel-auditlog-activity.json');

/** A SageMaker CreateTrainingJob event as the connector would normalize it, with the real record in `raw`. */
export const cloudTrailEvent = base({
  id: 'ct-1',
  time: new Date(cloudTrailRecord.eventTime).toISOString(),
  actor: { id: 'arn:aws:sts::558069890522:assumed-role/Trainer/alice', name: 'alice', type: 'user', ip: '198.51.100.7', user_agent: 'Boto3/1.34' },
  resource: { type: 'training_job', name: 'b5-universal', id: 'arn:aws:sagemaker:eu-central-1:558069890522:training-job/b5-universal' },
  cloud: { provider: 'aws', account: '558069890522', region: 'eu-central-1' },
  ml: { job: { name: 'b5-universal', image_pinned: true, network_isolation: false } },
  raw: cloudTrailRecord,
});

/** The same record wrapped in an EventBridge "AWS API Call via CloudTrail" envelope. */
export const eventBridgeEvent = base({
  id: 'ct-2',
  raw: { version: '0', id: 'e-1', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.sagemaker', detail: cloudTrailRecord },
  actor: { id: 'AROAEXAMPLE:alice', type: 'user' },
  cloud: { provider: 'aws', account: '558069890522', region: 'eu-central-1' },
});

/** A Vertex event with a real audit LogEntry in `raw`. */
export const gcpEvent = base({
  id: 'gcp-1',
  platform: 'vertex',
  channel: 'vertex.pubsub_push',
  stage: 'platform',
  action: 'resource.update',
  operation: gcpAuditEntry.protoPayload.methodName,
  service: gcpAuditEntry.protoPayload.serviceName,
  actor: { email: gcpAuditEntry.protoPayload.authenticationInfo.principalEmail, type: 'system', ip: '172.16.0.3' },
  resource: { type: 'lease', name: gcpAuditEntry.protoPayload.resourceName },
  cloud: { provider: 'gcp', project: 'elastic-observability', region: 'us-central1' },
  raw: gcpAuditEntry,
});

/** Every optional string empty: what a careless connector might hand over; must still map validly. */
export const emptyStringsEvent = base({
  id: 'empty-1',
  operation: '',
  service: '',
  outcome: 'failure',
  error: { code: '', message: '' },
  actor: { id: '', name: '', email: '', ip: '', user_agent: '', session_issuer: '', type: 'user', chain: [''] },
  resource: { type: '', id: '', name: '', version: '', uri: '', namespace: '' },
  cloud: { provider: 'aws', account: '', region: '', project: '' },
  ml: { model: { name: '', version: '' }, deployment: { endpoint: '' }, job: { name: '' }, data: { uris: [''] } },
  details: { '': '' },
});

const PLATFORMS = ['mlflow', 'kubeflow', 'sagemaker', 'vertex', 'custom'] as const;
const OUTCOMES = ['success', 'failure', 'unknown'] as const;
const ACTOR_TYPES = ['user', 'service', 'system', 'unknown'] as const;
const CLOUDS = [
  { provider: 'aws', account: '111122223333', region: 'us-east-1' },
  { provider: 'gcp', project: 'ml-prod', region: 'europe-west4' },
  { provider: 'onprem' },
  undefined,
] as const;

/**
 * Every catalogued action once, rotating through platforms, stages, outcomes,
 * actor types (and no actor), IP kinds, clouds, resources and ML facts.
 */
export function syntheticEvents(): NormalizedEvent[] {
  const stages = Stage.options;
  return ACTIONS.map((action, i) => {
    const outcome = OUTCOMES[i % OUTCOMES.length]!;
    const actorType = ACTOR_TYPES[i % ACTOR_TYPES.length]!;
    const ipKinds = ['203.0.113.9', '2001:db8::5', 'sagemaker.amazonaws.com', 'private', undefined];
    const withActor = i % 5 !== 4;
    const resourceKind = i % 3;
    return base({
      id: `syn-${i}`,
      platform: PLATFORMS[i % PLATFORMS.length],
      channel: `${PLATFORMS[i % PLATFORMS.length]}.test`,
      stage: stages[i % stages.length],
      action,
      operation: i % 11 === 0 ? '' : `Op${i}`,
      service: i % 4 === 0 ? undefined : 'aiplatform.googleapis.com',
      outcome,
      error: outcome === 'failure' ? { code: i % 2 ? 'AccessDenied' : 'ValidationException', message: 'nope' } : undefined,
      actor: withActor
        ? {
            id: i % 2 ? `user-${i}` : undefined,
            name: i % 3 ? `name-${i}` : undefined,
            email: i % 2 ? undefined : `u${i}@example.com`,
            type: actorType,
            ip: ipKinds[i % ipKinds.length],
            user_agent: i % 2 ? 'curl/8' : undefined,
            mfa: i % 2 === 0,
            session_issuer: i % 3 === 0 ? 'arn:aws:iam::1:role/R' : undefined,
            chain: i % 7 === 0 ? ['sa-a@x.iam.gserviceaccount.com', 'sa-b@x.iam.gserviceaccount.com'] : undefined,
          }
        : undefined,
      resource:
        resourceKind === 0
          ? { type: action.split('.')[0]!, id: `res-${i}`, name: `thing-${i}`, version: String(i), uri: `s3://b/k${i}` }
          : resourceKind === 1
            ? { type: 'data_object', uri: `gs://bucket/o${i}` }
            : undefined,
      cloud: CLOUDS[i % CLOUDS.length] as NormalizedEventInput['cloud'],
      ml:
        i % 2 === 0
          ? {
              model: { name: `fraud-${i}`, version: '3', approval: 'approved', aliases: ['champion'], sha256: 'a'.repeat(64), tags: { team: 'risk' } },
              job: { name: `job-${i}`, image: 'img@sha256:abc', image_pinned: true, network_isolation: false, vpc: true, params: { lr: 0.1 } },
              data: { uris: [`s3://data/${i}.csv`], rows: 10 },
              metrics: { auc: 0.91 },
              deployment: { endpoint: `ep-${i}`, traffic: { a: 50, b: 50 } },
              provenance: { run_id: `run-${i}` },
            }
          : i % 3 === 0
            ? { deployment: { endpoint: `ep-${i}` } }
            : undefined,
      details: i % 4 === 0 ? { note: 'x', nested: { a: [1, 2] } } : undefined,
      raw: i % 6 === 0 ? { native: true, n: i } : undefined,
    });
  });
}

/** Every severity in both modes, with and without suppression bookkeeping. */
export function syntheticAlerts(): Alert[] {
  const severities = ['low', 'medium', 'high', 'critical'] as const;
  const rules = ['ingestion.source_auth_failure', 'training.network_egress', 'evaluation.self_approval', 'serving.hash_mismatch', 'access.separation_of_duties'];
  const entities = [
    { type: 'model_version', id: 'fraud/3', name: 'fraud@3', platform: 'mlflow' as const },
    { type: 'endpoint', id: 'ep-1', platform: 'sagemaker' as const },
    { type: 'identity', id: 'alice@example.com', name: 'alice' },
    { type: 'service_account', id: 'sa@x.iam.gserviceaccount.com', platform: 'vertex' as const },
  ];
  const out: Alert[] = [];
  let n = 0;
  for (const severity of severities) {
    for (const mode of ['observe', 'alert'] as const) {
      const rule = rules[n % rules.length]!;
      out.push(
        Alert.parse({
          schema_version: '1',
          id: `alert-${n}`,
          rule_id: rule,
          stage: rule.startsWith('access') ? 'platform' : rule.split('.')[0],
          severity,
          mode,
          title: `Title ${n}`,
          summary: `Summary of alert ${n}`,
          time: '2026-11-25T10:05:00.000Z',
          entity: entities[n % entities.length],
          evidence: [`evt-${n}`, `evt-${n + 1}`],
          details: { value: n, baseline: { mean: 1, sd: 0.5 } },
          ...(n % 2 ? { count: 3, first_seen: '2026-11-25T09:00:00.000Z', last_seen: '2026-11-25T10:05:00.000Z' } : {}),
        }),
      );
      n++;
    }
  }
  return out;
}
