import { describe, expect, it } from 'vitest';
import { CIM_SOURCETYPES, cimAlertEvent, cimChangeEvent, hecEnvelope } from '../../../core/formats/cim/index.js';
import { CimAlert, CimAuthentication, CimChange, HecAlertEnvelope, HecAuthenticationEnvelope, HecChangeEnvelope, HecEventEnvelope } from '../../../core/formats/cim/validate.js';
import { formatter } from '../../../core/formats/index.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixture, readFixtureJson } from '../../helpers/fixtures.js';
import { syntheticAlerts, syntheticEvents } from './synthetic.js';

const ev = (over: Record<string, unknown>) =>
  NormalizedEvent.parse({
    schema_version: '1', id: 'e-42', time: '2024-06-10T06:13:20.123Z', received_time: '2024-06-10T06:13:21.000Z', platform: 'sagemaker',
    channel: 'sagemaker.firehose', stage: 'registry', action: 'model_version.approve', operation: 'UpdateModelPackage',
    service: 'sagemaker.amazonaws.com', outcome: 'success', ...over,
  });

describe('CIM Change mapping', () => {
  it('fills the Change fields Splunk\'s OCSF→CIM add-on derives', () => {
    const c = cimChangeEvent(
      ev({
        actor: { id: 'AROAX:alice', name: 'alice', type: 'user', ip: '203.0.113.10', user_agent: 'aws-cli/2' },
        resource: { type: 'model_package', id: 'arn:aws:sagemaker:us-east-1:1:model-package/fraud/3', name: 'fraud', version: '3' },
        cloud: { provider: 'aws', account: '111122223333', region: 'us-east-1' },
      }),
    ) as any;
    expect(c).toMatchObject({
      action: 'updated', change_type: 'api', command: 'UpdateModelPackage', object: 'fraud', object_id: 'arn:aws:sagemaker:us-east-1:1:model-package/fraud/3',
      object_category: 'model_package', object_attrs: ['version=3'], status: 'success', result: 'success', src: '203.0.113.10',
      dest: 'sagemaker.amazonaws.com', user: 'AROAX:alice', user_name: 'alice', user_type: 'User', user_agent: 'aws-cli/2',
      vendor_account: '111122223333', vendor_region: 'us-east-1', vendor_product: 'AWS Amazon SageMaker',
    });
    expect(c.mltrail).toMatchObject({ id: 'e-42', stage: 'registry', action: 'model_version.approve' });
  });

  it('uses the prescribed action values and `unknown` for missing fields', () => {
    const a = (action: string) => (cimChangeEvent(ev({ action })) as any).action;
    expect([a('model.create'), a('dataset.read'), a('endpoint.delete'), a('permission.change'), a('training_job.stop'), a('pipeline_run.complete')])
      .toEqual(['created', 'read', 'deleted', 'acl_modified', 'stopped', 'modified']);
    const bare = cimChangeEvent(ev({ outcome: 'unknown' })) as any;
    expect([bare.user, bare.src, bare.object, bare.status]).toEqual(['unknown', 'unknown', 'unknown', undefined]);
    expect(CimChange.safeParse(bare).success).toBe(true);
  });
});

describe('HEC envelope', () => {
  it('has time in epoch seconds (ms fraction), per-platform sourcetype, and fields.mltrail_id', () => {
    const env = hecEnvelope({ kind: 'event', event: ev({}) }, { host: 'bridge-1', index: 'ml_audit', fields: { tenant: 'acme', mltrail_id: 'spoofed' } });
    expect(Object.keys(env)).toEqual(['time', 'host', 'source', 'sourcetype', 'index', 'event', 'fields']);
    expect(env.time).toBe(1718000000.123);
    expect(env.sourcetype).toBe('mltrail:sagemaker');
    expect(env.source).toBe('mltrail:sagemaker.firehose');
    expect(env.fields).toEqual({ tenant: 'acme', mltrail_id: 'e-42' });
    expect(HecChangeEnvelope.safeParse(env).success).toBe(true);
    // Same key layout as the spec vector; a batch is the concatenation of these objects.
    const want = readFixtureJson<any>('sinks', 'normalized', 'cim_change_hec_event.json');
    expect(Object.keys(env)).toEqual(Object.keys(want));
    const batch = readFixture('sinks', 'splunk_hec', 'event_batch_request.txt').toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(Object.keys(env).filter((k) => k !== 'host' && k !== 'index')).toEqual(expect.arrayContaining(Object.keys(batch[0]).filter((k) => k !== 'host' && k !== 'index')));
  });

  it('gives every platform its own sourcetype and alerts mltrail:alert', () => {
    for (const e of syntheticEvents()) expect(hecEnvelope({ kind: 'event', event: e }).sourcetype).toBe(CIM_SOURCETYPES[e.platform]);
    expect(new Set(Object.values(CIM_SOURCETYPES)).size).toBe(6);
    const a = hecEnvelope({ kind: 'alert', alert: syntheticAlerts()[1]! });
    expect([a.sourcetype, a.source, a.fields.mltrail_id]).toEqual(['mltrail:alert', 'mltrail:alerts', 'alert-1']);
  });

  it('formatter("cim") emits the envelope without host/index (sink settings)', () => {
    const out = formatter('cim').event(ev({})) as any;
    expect(out.host).toBeUndefined();
    expect(out.index).toBeUndefined();
    expect(out.fields.mltrail_id).toBe('e-42');
  });
});

describe('CIM Alerts mapping', () => {
  it('fills the Alerts fields; observe-mode detections are type event', () => {
    for (const a of syntheticAlerts()) {
      const c = cimAlertEvent(a) as any;
      expect(c).toMatchObject({ app: 'mltrail', id: a.id, signature: a.title, signature_id: a.rule_id, description: a.summary, severity: a.severity, type: a.mode === 'alert' ? 'alert' : 'event' });
      expect(CimAlert.safeParse(c).success).toBe(true);
    }
  });

  it('matches the spec vector\'s Alerts field names (cim_alert_hec_event.json)', () => {
    const want = readFixtureJson<any>('sinks', 'normalized', 'cim_alert_hec_event.json');
    const got = cimAlertEvent(syntheticAlerts()[2]!) as any; // entity is an identity
    for (const k of ['app', 'type', 'id', 'signature', 'signature_id', 'description', 'severity', 'dest']) expect(Object.keys(got)).toContain(k);
    expect(Object.keys(want.event).filter((k) => !(k in got))).toEqual(['vendor_account']); // our alerts carry no tenant
  });
});

describe('CIM/HEC validators', () => {
  const good = hecEnvelope({ kind: 'event', event: ev({ actor: { id: 'u', type: 'user' } }) });
  it.each([
    ['a nested indexed field (HEC code 15)', (e: any) => (e.fields.extra = { a: 1 })],
    ['no mltrail_id', (e: any) => delete e.fields.mltrail_id],
    ['an mltrail_id that is not the event id', (e: any) => (e.fields.mltrail_id = 'other')],
    ['time in milliseconds as a string', (e: any) => (e.time = '1718000000123')],
    ['an action outside the prescribed values', (e: any) => (e.event.action = 'approved')],
    ['status unknown', (e: any) => (e.event.status = 'unknown')],
    ['missing event', (e: any) => delete e.event],
    ['missing sourcetype', (e: any) => delete e.sourcetype],
  ])('rejects %s', (_n, mutate) => {
    expect(HecChangeEnvelope.safeParse(good).success).toBe(true);
    const e = structuredClone(good) as any;
    mutate(e);
    expect(HecChangeEnvelope.safeParse(e).success).toBe(false);
  });

  it('rejects an alert severity outside the CIM values', () => {
    const a = hecEnvelope({ kind: 'alert', alert: syntheticAlerts()[0]! }) as any;
    expect(HecAlertEnvelope.safeParse(a).success).toBe(true);
    a.event.severity = 'severe';
    expect(HecAlertEnvelope.safeParse(a).success).toBe(false);
  });
});

describe('CIM Change user_type (mutation audit)', () => {
  it('a service or system identity is not a User (Change.user_type)', () => {
    const t = (type: string) => (cimChangeEvent(ev({ actor: { id: 'x', type } })) as any).user_type;
    expect([t('user'), t('service'), t('system'), t('unknown')]).toEqual(['User', 'Service', 'System', 'unknown']);
  });
});

describe('CIM Authentication mapping (authentications are not Change events)', () => {
  // Splunk's Authentication searches (failed logins / brute force by src, AssumeRole by user) read the
  // Authentication data model: action success | failure (help.splunk.com CIM "Authentication"; Splunk's
  // OCSF→CIM add-on maps OCSF 3002 there). ECS calls these `authentication`, UDM USER_LOGIN; CIM had them
  // as Change `modified`, which no Authentication search sees.
  const assumeRole = ev({
    stage: 'platform', action: 'role.assume', operation: 'AssumeRole', service: 'sts.amazonaws.com',
    actor: { id: 'arn:aws:iam::123456789012:user/alice', name: 'alice', type: 'user', ip: '198.51.100.7', user_agent: 'aws-cli/2.15' },
    resource: { type: 'iam_role', id: 'arn:aws:iam::123456789012:role/SageMakerExecutionRole', name: 'SageMakerExecutionRole' },
    cloud: { provider: 'aws', account: '123456789012', region: 'us-east-1' },
  });
  const refused = ev({
    platform: 'custom', channel: 'core.api', stage: 'ingestion', action: 'ingest.auth_failure', operation: 'bridge.authenticate', service: 'mltrail',
    outcome: 'failure', error: { code: 'MLTRAIL_ERR_UNAUTHORIZED', message: 'invalid bearer token' },
    actor: { type: 'unknown', ip: '203.0.113.9' }, resource: { type: 'ingest_route', id: 'core.api' },
  });

  it('AssumeRole and a refused sender carry Authentication fields: action success/failure, app, signature, src, user, reason', () => {
    const ok = hecEnvelope({ kind: 'event', event: assumeRole }).event as any;
    expect(ok).toMatchObject({ action: 'success', app: 'sts.amazonaws.com', signature: 'AssumeRole', src: '198.51.100.7', dest: 'sts.amazonaws.com', user: 'arn:aws:iam::123456789012:user/alice', user_name: 'alice', object: 'SageMakerExecutionRole' });
    expect(ok.change_type).toBeUndefined();
    const bad = hecEnvelope({ kind: 'event', event: refused }).event as any;
    expect(bad).toMatchObject({ action: 'failure', signature: 'bridge.authenticate', src: '203.0.113.9', reason: 'invalid bearer token', user: 'unknown' });
    expect(bad.change_type).toBeUndefined();
    for (const e of [assumeRole, refused]) expect(HecEventEnvelope.safeParse(hecEnvelope({ kind: 'event', event: e })).success).toBe(true);
    // Every other event stays a Change event, with change_type (the eventtypes tell the models apart by it).
    const change = hecEnvelope({ kind: 'event', event: ev({}) });
    expect(change.event).toMatchObject({ action: 'updated', change_type: 'api' });
    expect(HecEventEnvelope.safeParse(change).success).toBe(true);
  });

  it('the eventtypes of docs/formats.md tag CIM events only: core and OCSF bodies under the same sourcetypes match neither search', () => {
    // The searches: change = change_type=*; authentication = NOT change_type=* app=* signature=* action ∈ {success, failure, unknown}.
    const isAuth = (b: any) => b.change_type === undefined && b.app !== undefined && b.signature !== undefined && ['success', 'failure', 'unknown'].includes(String(b.action).toLowerCase());
    const isChange = (b: any) => b.change_type !== undefined;
    for (const e of syntheticEvents()) {
      const cim = hecEnvelope({ kind: 'event', event: e }).event as any;
      expect(isAuth(cim) !== isChange(cim), `${e.id} ${e.action}: exactly one of the two`).toBe(true);
      for (const name of ['core', 'ocsf'] as const) {
        const body = formatter(name).event(e) as any;
        expect(isAuth(body) || isChange(body), `${name} ${e.id} ${e.action}`).toBe(false);
      }
    }
  });

  it('the validator refuses a Change action on an authentication and a change_type on it', () => {
    const env = hecEnvelope({ kind: 'event', event: refused }) as any;
    expect(HecAuthenticationEnvelope.safeParse(env).success).toBe(true);
    expect(HecAuthenticationEnvelope.safeParse({ ...env, event: { ...env.event, action: 'modified' } }).success).toBe(false);
    expect(HecAuthenticationEnvelope.safeParse({ ...env, event: { ...env.event, change_type: 'api' } }).success).toBe(false);
    expect(CimAuthentication.safeParse(env.event).success).toBe(true);
  });
});
