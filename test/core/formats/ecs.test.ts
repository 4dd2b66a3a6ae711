import { describe, expect, it } from 'vitest';
import { ECS_DATASETS, ecsAlert, ecsEvent } from '../../../core/formats/ecs/index.js';
import { EcsDocument } from '../../../core/formats/ecs/validate.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { cloudTrailEvent, cloudTrailRecord, eventBridgeEvent, gcpAuditEntry, gcpEvent, syntheticAlerts } from './synthetic.js';

const ev = (over: Record<string, unknown>) =>
  NormalizedEvent.parse({
    schema_version: '1', id: '6f1d2c0e9b7a4e1f8a3b5c7d9e0f1a2b', time: '2024-06-10T06:13:20.123Z', received_time: '2024-06-10T06:13:21.000Z',
    platform: 'custom', channel: 'core.api', stage: 'registry', action: 'model_version.update', operation: 'repo.update', outcome: 'success', ...over,
  });

/** A CloudTrail record as Elastic's test logs have it (principalId, eventID, IP, user agent all present). */
const fullRecord = {
  ...(cloudTrailRecord as { eventName: string; eventSource: string; awsRegion: string; eventTime: string }),
  eventID: '3b1a4e0c-1111-2222-3333-444455556666',
  requestID: 'req-1',
  sourceIPAddress: '198.51.100.23',
  userAgent: 'aws-cli/2.15.0',
  userIdentity: {
    type: 'IAMUser', principalId: 'AIDAEXAMPLEPRINCIPAL', arn: 'arn:aws:iam::558069890522:user/bob', accountId: '558069890522',
    accessKeyId: 'AKIAEXAMPLE', userName: 'bob',
  },
  errorCode: 'AccessDenied',
  errorMessage: 'User is not authorized',
};

describe('ECS mapping of events', () => {
  it('agrees with Elastic\'s CloudTrail integration on the spec §5 table fields', () => {
    const e = { ...cloudTrailEvent, outcome: 'failure' as const, error: { code: 'AccessDenied', message: 'User is not authorized' }, raw: fullRecord };
    const d = ecsEvent(e) as any;
    expect(d.event.action).toBe(fullRecord.eventName); // eventName → event.action
    expect(d.event.provider).toBe(fullRecord.eventSource); // eventSource → event.provider
    expect(d.event.id).toBe(fullRecord.eventID); // eventID → event.id
    expect(d.user.id).toBe('AIDAEXAMPLEPRINCIPAL'); // principalId → user.id
    expect(d.user.name).toBe('bob'); // userName → user.name
    expect(d.cloud.account.id).toBe('558069890522'); // userIdentity.accountId → cloud.account.id
    expect(d.cloud.region).toBe(fullRecord.awsRegion);
    expect(d.source.ip).toBe('198.51.100.23');
    expect(d.user_agent.original).toBe('aws-cli/2.15.0');
    expect(d.event.outcome).toBe('failure');
    expect(d['@timestamp']).toBe(new Date(fullRecord.eventTime).toISOString());
    expect(d.aws.cloudtrail).toMatchObject({ request_id: 'req-1', error_code: 'AccessDenied', user_identity: { type: 'IAMUser', access_key_id: 'AKIAEXAMPLE' } });
    expect(d.related.user).toEqual(expect.arrayContaining(['bob', 'AIDAEXAMPLEPRINCIPAL']));
    expect(d.mltrail.id).toBe(e.id); // the Elastic _id
    expect(JSON.parse(d.event.original).eventID).toBe(fullRecord.eventID);
    expect(EcsDocument.safeParse(d).success).toBe(true);
  });

  it('uses the session issuer\'s userName for an assumed role, and reads the record inside an EventBridge envelope', () => {
    const assumed = { ...fullRecord, userIdentity: { type: 'AssumedRole', principalId: 'AROAX:alice', sessionContext: { sessionIssuer: { userName: 'Trainer' } } } };
    expect((ecsEvent({ ...cloudTrailEvent, raw: assumed }) as any).user).toMatchObject({ id: 'AROAX:alice', name: 'Trainer' });
    const d = ecsEvent(eventBridgeEvent) as any;
    expect(d.event.provider).toBe('sagemaker.amazonaws.com');
    expect(d.event.action).toBe('CreateTrainingJob');
  });

  it('puts a non-IP sourceIPAddress in source.address only', () => {
    const d = ecsEvent({ ...cloudTrailEvent, raw: { ...fullRecord, sourceIPAddress: 'sagemaker.amazonaws.com' } }) as any;
    expect(d.source).toEqual({ address: 'sagemaker.amazonaws.com' });
    expect(d.related.ip).toBeUndefined();
  });

  it('agrees with Elastic\'s GCP audit integration (spec vertex §6.1)', () => {
    const d = ecsEvent(gcpEvent) as any;
    const pp = gcpAuditEntry.protoPayload;
    expect(d.event.id).toBe(gcpAuditEntry.insertId); // insertId → event.id
    expect(d.event.action).toBe(pp.methodName); // methodName → event.action
    expect(d.event.provider).toBe('activity'); // log kind, not serviceName
    expect(d.service.name).toBe(pp.serviceName);
    expect(d.client.user.email).toBe(pp.authenticationInfo.principalEmail);
    expect(d.source.ip).toBe(pp.requestMetadata.callerIp);
    expect(d.user_agent.original).toBe(pp.requestMetadata.callerSuppliedUserAgent);
    expect(d.cloud.project.id).toBe(gcpAuditEntry.resource.labels.project_id);
    expect(d.log.logger).toBe(gcpAuditEntry.logName);
    expect(d.gcp.audit).toMatchObject({ resource_name: pp.resourceName, status: { code: 0 } });
    const priv = ecsEvent({ ...gcpEvent, raw: { ...gcpAuditEntry, protoPayload: { ...pp, requestMetadata: { callerIp: 'private' } } } }) as any;
    expect(priv.source).toBeUndefined(); // Elastic skips the `private` marker
  });

  it('agrees with the spec vector (ecs_api_activity.json) for the same logical event', () => {
    const want = readFixtureJson<any>('sinks', 'normalized', 'ecs_api_activity.json');
    const d = ecsEvent(
      ev({
        action: 'registered_model.update', service: 'github', actor: { id: 'u-1', name: 'alice', email: 'alice@example.com', type: 'user', ip: '203.0.113.10', user_agent: 'Mozilla/5.0' },
      }),
    ) as any;
    expect(d.event).toMatchObject({ kind: want.event.kind, type: want.event.type, action: want.event.action, outcome: want.event.outcome, provider: want.event.provider, id: want.event.id });
    expect(d['@timestamp']).toBe(want['@timestamp']);
    expect(d.user).toEqual(want.user);
    expect(d.source.ip).toBe(want.source.ip);
    expect(d.user_agent).toEqual(want.user_agent);
    expect(d.related.user).toEqual(expect.arrayContaining(want.related.user));
    expect(d.related.ip).toEqual(want.related.ip);
  });

  it('sets event.category/type pairs ECS expects', () => {
    const cat = (action: string) => { const d = ecsEvent(ev({ action })) as any; return [d.event.category, d.event.type]; };
    expect(cat('model_version.create')).toEqual([['api'], ['creation']]);
    expect(cat('endpoint.delete')).toEqual([['api'], ['deletion']]);
    expect(cat('dataset.read')).toEqual([['api'], ['access']]);
    expect(cat('role_binding.create')).toEqual([['iam'], ['change']]);
    expect(cat('service_account.create')).toEqual([['iam'], ['creation']]);
    expect(cat('auth.failure')).toEqual([['authentication'], ['start']]);
    expect(cat('training_job.complete')).toEqual([['api'], ['info']]);
  });
});

describe('ECS mapping of alerts', () => {
  it('is event.kind alert with rule.* (observe mode stays an event), scored 21/47/73/99', () => {
    for (const a of syntheticAlerts()) {
      const d = ecsAlert(a) as any;
      expect(d.event.kind).toBe(a.mode === 'alert' ? 'alert' : 'event');
      expect(d.rule).toMatchObject({ id: a.rule_id, name: a.title, ruleset: 'mltrail' });
      expect(d.event.severity).toBe({ low: 21, medium: 47, high: 73, critical: 99 }[a.severity]);
      expect(d.event.id).toBe(a.id);
      expect(d.event.dataset).toBe(ECS_DATASETS.alert);
      expect(d.mltrail.alert.evidence).toEqual(a.evidence);
    }
  });

  it('shares the spec vector\'s alert conventions (ecs_alert.json)', () => {
    const want = readFixtureJson<any>('sinks', 'normalized', 'ecs_alert.json');
    const d = ecsAlert(syntheticAlerts()[5]!) as any; // high, alert mode
    expect([d.event.kind, d.event.severity, d.event.risk_score]).toEqual([want.event.kind, want.event.severity, want.event.risk_score]);
    expect(Object.keys(d.rule)).toEqual(expect.arrayContaining(Object.keys(want.rule)));
  });
});

describe('ECS validator', () => {
  const good = ecsEvent(cloudTrailEvent) as any;
  it.each([
    ['event.kind signal (reserved for Kibana)', (d: any) => (d.event.kind = 'signal')],
    ['an event.type the category does not expect', (d: any) => (d.event.type = ['installation'])],
    ['an unknown category', (d: any) => (d.event.category = ['ml'])],
    ['source.ip that is not an IP', (d: any) => (d.source = { ip: 'private' })],
    ['event.severity as a string', (d: any) => (d.event.severity = 'high')],
    ['@timestamp that is not a date', (d: any) => (d['@timestamp'] = 'yesterday')],
    ['an alert without rule', (d: any) => (d.event.kind = 'alert')],
    ['a misspelt user field', (d: any) => (d.user.username = 'x')],
    ['mltrail.id missing', (d: any) => delete d.mltrail.id],
    ['related.ip that is not an IP', (d: any) => (d.related.ip = ['x'])],
    ['an upper-case dataset', (d: any) => (d.event.dataset = 'MLTrail')],
    ['event.risk_score_norm over 100', (d: any) => (d.event.risk_score_norm = 150)],
  ])('rejects %s', (_n, mutate) => {
    expect(EcsDocument.safeParse(good).success).toBe(true);
    const d = structuredClone(good);
    mutate(d);
    expect(EcsDocument.safeParse(d).success).toBe(false);
  });
});

describe('ECS cloud.provider (mutation audit)', () => {
  it('is the lowercase ECS value (aws, gcp), as Elastic\'s integrations write it', () => {
    expect((ecsEvent(ev({ cloud: { provider: 'aws', account: '111122223333', region: 'us-east-1' } })) as any).cloud.provider).toBe('aws');
    expect((ecsEvent(ev({ cloud: { provider: 'gcp', project: 'p1' } })) as any).cloud.provider).toBe('gcp');
  });
});
