import { describe, expect, it } from 'vitest';
import { actionKind } from '../../../core/formats/common.js';
import { udmAlert, udmEvent, udmLogId } from '../../../core/formats/udm/index.js';
import { UDM_EVENT_TYPES, UdmEvent } from '../../../core/formats/udm/validate.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { loadConfig } from '../../../bridge/config.js';
import { normalizeInput } from '../../../bridge/normalize.js';
import { readFixture, readFixtureJson } from '../../helpers/fixtures.js';
import { syntheticAlerts, syntheticEvents } from './synthetic.js';

const ev = (over: Record<string, unknown>) =>
  NormalizedEvent.parse({
    schema_version: '1', id: 'e1', time: '2024-06-10T06:13:20.123Z', received_time: '2024-06-10T06:13:21.000Z', platform: 'vertex',
    channel: 'vertex.pubsub_push', stage: 'registry', action: 'model.update', operation: 'google.cloud.aiplatform.v1.ModelService.UpdateModel',
    service: 'aiplatform.googleapis.com', outcome: 'success', ...over,
  });
const alice = { id: 'alice@example.com', email: 'alice@example.com', type: 'user', ip: '203.0.113.10' };
const model = { type: 'model', id: 'projects/p/locations/l/models/1', name: 'fraud' };

describe('UDM mapping', () => {
  it('picks an event_type whose required nouns are present', () => {
    const t = (over: Record<string, unknown>) => (udmEvent(ev(over)) as any).metadata.event_type;
    expect(t({ actor: alice, resource: model, action: 'model.create' })).toBe('USER_RESOURCE_CREATION');
    expect(t({ actor: alice, resource: model, action: 'model.read' })).toBe('USER_RESOURCE_ACCESS');
    expect(t({ actor: alice, resource: model })).toBe('USER_RESOURCE_UPDATE_CONTENT');
    expect(t({ actor: alice, resource: model, action: 'model.delete' })).toBe('USER_RESOURCE_DELETION');
    expect(t({ actor: alice, resource: { type: 'role_binding', name: 'rb' }, action: 'role_binding.create' })).toBe('USER_RESOURCE_UPDATE_PERMISSIONS');
    expect(t({ resource: model, action: 'model.create' })).toBe('RESOURCE_CREATION'); // no acting user known
    expect(t({ actor: alice, action: 'model.create' })).toBe('GENERIC_EVENT'); // no object known
    expect(t({ action: 'training_job.complete', resource: { type: 'custom_job', name: 'j' } })).toBe('STATUS_UPDATE');
    expect(t({ action: 'auth.failure', outcome: 'failure', actor: alice })).toBe('USER_LOGIN');
    expect(t({ action: 'ingest.auth_failure', outcome: 'failure', actor: { ip: '198.51.100.1', type: 'unknown' } })).toBe('GENERIC_EVENT');
  });

  it('an AssumeRole is a login into the role: target.user is the assumed role session, principal.user the caller', () => {
    const u = udmEvent(ev({
      platform: 'sagemaker', action: 'role.assume', operation: 'AssumeRole', service: 'sts.amazonaws.com', stage: 'platform',
      actor: { id: 'arn:aws:iam::123456789012:user/alice', name: 'alice', type: 'user', ip: '198.51.100.7' },
      resource: { type: 'iam_role', id: 'arn:aws:iam::123456789012:role/Exec', name: 'Exec' },
      details: { assumed_role_arn: 'arn:aws:sts::123456789012:assumed-role/Exec/alice-sess' },
    })) as any;
    expect(u.metadata.event_type).toBe('USER_LOGIN');
    expect(u.principal.user.userid).toBe('arn:aws:iam::123456789012:user/alice');
    expect(u.target.user).toEqual({ userid: 'arn:aws:sts::123456789012:assumed-role/Exec/alice-sess', user_display_name: 'Exec' });
    expect(u.target.resource).toMatchObject({ product_object_id: 'arn:aws:iam::123456789012:role/Exec' });
    expect(UdmEvent.safeParse(u).success).toBe(true);
  });

  it('fills metadata: product_log_id = mltrail id, product_event_type = native operation (≤64 bytes)', () => {
    const u = udmEvent(ev({ actor: alice, resource: model })) as any;
    expect(u.metadata).toMatchObject({
      event_timestamp: '2024-06-10T06:13:20.123Z', vendor_name: 'Google Cloud', product_name: 'Vertex AI',
      product_event_type: 'google.cloud.aiplatform.v1.ModelService.UpdateModel', product_log_id: 'e1', collected_timestamp: '2024-06-10T06:13:21.000Z',
    });
    expect(u.principal).toEqual({ user: { userid: 'alice@example.com', email_addresses: ['alice@example.com'] }, ip: ['203.0.113.10'] });
    expect(u.target.resource).toEqual({ name: 'fraud', product_object_id: model.id, resource_subtype: 'model' });
    const long = udmEvent(ev({ operation: `é${'x'.repeat(100)}` })) as any;
    expect(Buffer.byteLength(long.metadata.product_event_type)).toBeLessThanOrEqual(64);
    expect(long.metadata.product_event_type.startsWith('é')).toBe(true);
  });

  it('maps outcome to security_result.action (denied → BLOCK, other failure → FAIL) and flags auth violations', () => {
    const sr = (over: Record<string, unknown>) => (udmEvent(ev(over)) as any).security_result[0];
    expect(sr({}).action).toEqual(['ALLOW']);
    expect(sr({ outcome: 'failure', error: { code: 'PERMISSION_DENIED', message: 'no' } }).action).toEqual(['BLOCK']);
    expect(sr({ outcome: 'failure', error: { code: 'INVALID_ARGUMENT' } }).action).toEqual(['FAIL']);
    expect(sr({ outcome: 'unknown' }).action).toEqual(['UNKNOWN_ACTION']);
    expect(sr({ action: 'auth.failure', outcome: 'failure', actor: alice }).category).toEqual(['AUTH_VIOLATION']);
  });

  it('keeps ML facts and the mltrail id in additional', () => {
    const u = udmEvent(ev({ ml: { model: { name: 'fraud', version: '2', approval: 'approved' } }, cloud: { provider: 'gcp', project: 'p1' } })) as any;
    expect(u.additional).toMatchObject({ mltrail_id: 'e1', stage: 'registry', cloud_project: 'p1', ml: { model: { approval: 'approved' } } });
  });

  it('maps alerts to GENERIC_EVENT with the rule in security_result', () => {
    for (const a of syntheticAlerts()) {
      const u = udmAlert(a) as any;
      expect(u.metadata).toMatchObject({ event_type: 'GENERIC_EVENT', product_log_id: a.id, product_event_type: a.rule_id });
      expect(u.security_result[0]).toMatchObject({ rule_id: a.rule_id, rule_name: a.title, severity_details: a.severity });
      expect(u.target.resource.product_object_id).toBe(a.entity.id);
      expect(UdmEvent.safeParse(u).success).toBe(true);
    }
    expect((udmAlert(syntheticAlerts()[0]!) as any).security_result[0].category).toEqual(['AUTH_VIOLATION']);
  });

  it('gives every synthetic event a valid, non-fallback type when user and object are known', () => {
    for (const e of syntheticEvents()) {
      const u = udmEvent(e) as any;
      expect(UDM_EVENT_TYPES[u.metadata.event_type as keyof typeof UDM_EVENT_TYPES]).toBeGreaterThan(0);
      if (u.principal?.user && u.target?.resource && actionKind(e.action) === 'create') expect(u.metadata.event_type).toBe('USER_RESOURCE_CREATION');
    }
  });
});

describe('UDM validator', () => {
  it('accepts the spec vectors (legacy udmevents and v1alpha events:import)', () => {
    for (const e of readFixtureJson<any>('sinks', 'chronicle', 'legacy_udm_request.json').events) expect(UdmEvent.safeParse(e).success).toBe(true);
    for (const e of readFixtureJson<any>('sinks', 'chronicle', 'import_events_request.json').inline_source.events) expect(UdmEvent.safeParse(e.udm).success).toBe(true);
  });

  const good = udmEvent(ev({ actor: alice, resource: model })) as any;
  it.each([
    ['USER_RESOURCE_* without principal.user', (u: any) => delete u.principal.user],
    ['USER_RESOURCE_* without target.resource', (u: any) => delete u.target.resource],
    ['missing event_timestamp', (u: any) => delete u.metadata.event_timestamp],
    ['an event_type not in the enum', (u: any) => (u.metadata.event_type = 'MODEL_UPDATE')],
    ['EVENTTYPE_UNSPECIFIED', (u: any) => (u.metadata.event_type = 'EVENTTYPE_UNSPECIFIED')],
    ['product_event_type over 64 bytes', (u: any) => (u.metadata.product_event_type = 'x'.repeat(65))],
    ['description over 1024 bytes', (u: any) => (u.metadata.description = 'é'.repeat(513))],
    ['a security_result action outside the enum', (u: any) => (u.security_result[0].action = ['DENY'])],
    ['a principal.ip that is not an IP', (u: any) => (u.principal.ip = ['private'])],
    ['STATUS_UPDATE without a principal machine id', (u: any) => { u.metadata.event_type = 'STATUS_UPDATE'; delete u.principal.ip; }],
    ['USER_LOGIN without target.user', (u: any) => (u.metadata.event_type = 'USER_LOGIN')],
    ['a resource_type outside the confirmed values', (u: any) => (u.target.resource.resource_type = 'MODEL')],
    ['a failed USER_LOGIN without the AUTH_VIOLATION category', (u: any) => {
      u.metadata.event_type = 'USER_LOGIN';
      u.target.user = { userid: 'alice' };
      u.extensions = { auth: { type: 'MACHINE', mechanism: ['USERNAME_PASSWORD'] } };
      u.security_result = [{ action: ['FAIL'] }];
    }],
    ['SETTING_MODIFICATION whose target resource is not a SETTING', (u: any) => {
      u.metadata.event_type = 'SETTING_MODIFICATION';
      u.principal.ip = ['10.0.0.1'];
    }],
  ])('rejects %s', (_n, mutate) => {
    expect(UdmEvent.safeParse(good).success).toBe(true);
    const u = structuredClone(good);
    mutate(u);
    expect(UdmEvent.safeParse(u).success).toBe(false);
  });
});

describe('UDM validator limits (mutation audit)', () => {
  it('accepts metadata strings of exactly their byte limit, and the failed login and setting change it refuses once complete', () => {
    const u = structuredClone(udmEvent(ev({ actor: alice, resource: model }))) as any;
    u.metadata.product_event_type = 'x'.repeat(64);
    u.metadata.description = 'é'.repeat(512);
    expect(UdmEvent.safeParse(u).success).toBe(true);
    const login = structuredClone(u);
    login.metadata.event_type = 'USER_LOGIN';
    login.target.user = { userid: 'alice' };
    login.extensions = { auth: { type: 'MACHINE', mechanism: ['USERNAME_PASSWORD'] } };
    login.security_result = [{ action: ['FAIL'], category: ['AUTH_VIOLATION'] }];
    expect(UdmEvent.safeParse(login).success, JSON.stringify(UdmEvent.safeParse(login).error?.issues)).toBe(true);
    const setting = structuredClone(u);
    setting.metadata.event_type = 'SETTING_MODIFICATION';
    setting.principal.ip = ['10.0.0.1'];
    setting.target.resource.resource_type = 'SETTING';
    expect(UdmEvent.safeParse(setting).success, JSON.stringify(UdmEvent.safeParse(setting).error?.issues)).toBe(true);
  });
});

describe('UDM facts a Chronicle rule keys on (mutation audit)', () => {
  const alert = (rule_id: string) => ({ ...syntheticAlerts()[0]!, rule_id });
  it('alert categories follow the rule: egress → DATA_EXFILTRATION, duties / self approval → ACL_VIOLATION, else POLICY_VIOLATION', () => {
    const cat = (rule: string) => (udmAlert(alert(rule)) as any).security_result[0].category;
    expect(cat('training.network_egress')).toEqual(['DATA_EXFILTRATION']);
    // Exports and shares of models and datasets are exfiltration of ML artifacts.
    expect(cat('platform.artifact_exported')).toEqual(['DATA_EXFILTRATION']);
    expect(cat('platform.artifact_shared')).toEqual(['DATA_EXFILTRATION']);
    expect(cat('evaluation.self_approval')).toEqual(['ACL_VIOLATION']);
    expect(cat('access.separation_of_duties')).toEqual(['ACL_VIOLATION']);
    expect(cat('registry.unapproved_promotion')).toEqual(['POLICY_VIOLATION']);
  });

  it('a refused sender of mltrail (ingest.auth_failure) is never a USER_LOGIN, even with a known user; it is an auth violation', () => {
    const u = udmEvent(ev({ action: 'ingest.auth_failure', outcome: 'failure', actor: alice, resource: undefined })) as any;
    expect(u.metadata.event_type).toBe('GENERIC_EVENT');
    expect(u.extensions).toBeUndefined();
    expect(u.security_result[0].category).toEqual(['AUTH_VIOLATION']);
  });

  it('a failed call is an ERROR result, a successful one INFORMATIONAL', () => {
    const sev = (over: Record<string, unknown>) => (udmEvent(ev(over)) as any).security_result[0].severity;
    expect(sev({ outcome: 'failure', error: { code: 'INVALID_ARGUMENT' } })).toBe('ERROR');
    expect(sev({})).toBe('INFORMATIONAL');
  });

  it('the target names the platform service as its application', () => {
    const u = udmEvent(ev({ actor: alice, resource: model })) as any;
    expect(u.target.application).toBe('aiplatform.googleapis.com');
    expect((udmEvent(ev({ actor: alice, resource: model, service: undefined })) as any).target.application).toBe('Vertex AI');
  });
});

describe('UDM target.resource.resource_type on real connector output', () => {
  // Chronicle rules select storage objects and service accounts by target.resource.resource_type; the
  // mapping keyed it on `data_object` / `service_account`, types no connector emits (S3: s3_object, GCS:
  // gcs_object, Kubernetes audit: serviceaccounts), so it was never set.
  const cfg = loadConfig({ env: {} });
  const fixture = (file: string) => normalizeInput(readFixture(file), file, 'auto', cfg, '2026-11-25T12:00:00.000Z').events;
  it('S3 objects and GCS objects are STORAGE_OBJECT, Kubernetes service accounts SERVICE_ACCOUNT', () => {
    const [copy] = fixture('sagemaker/cloudtrail-s3-copyobject-external-account.panther.json');
    expect(copy!.resource?.type).toBe('s3_object');
    expect((udmEvent(copy!) as any).target.resource).toMatchObject({ resource_type: 'STORAGE_OBJECT', resource_subtype: 's3_object', name: 'customer-database.csv' });
    const [sa] = fixture('kubeflow/k8s-audit/falco_create_serviceaccount.json');
    expect(sa!.resource?.type).toBe('serviceaccounts');
    expect((udmEvent(sa!) as any).target.resource).toMatchObject({ resource_type: 'SERVICE_ACCOUNT', name: 'myacct' });
    const gcs = udmEvent(ev({ actor: alice, action: 'data_object.read', resource: { type: 'gcs_object', name: 'train.csv', uri: 'gs://b/train.csv' } })) as any;
    expect(gcs.target.resource.resource_type).toBe('STORAGE_OBJECT');
    for (const u of [udmEvent(copy!), udmEvent(sa!), gcs]) expect(UdmEvent.safeParse(u).success).toBe(true);
    // Anything unconfirmed stays in resource_subtype only.
    expect((udmEvent(ev({ actor: alice, resource: model })) as any).target.resource.resource_type).toBeUndefined();
  });
});

describe('UDM metadata.product_log_id stays within 256 bytes', () => {
  // /v1/events takes ids of up to 256 characters (768 bytes as €): product_log_id is ≤ 256 bytes in UDM
  // (spec §3.5, and the UdmEvent validator), so such an event was refused by the format's own contract.
  it('a long id becomes a stable mltrail-sha256 log id; additional.mltrail_id keeps the real id', () => {
    const longId = '€'.repeat(256);
    const u = udmEvent(ev({ id: longId, actor: alice, resource: model })) as any;
    expect(Buffer.byteLength(u.metadata.product_log_id)).toBeLessThanOrEqual(256);
    expect(u.metadata.product_log_id).toMatch(/^mltrail-sha256:[0-9a-f]{64}$/);
    expect((udmEvent(ev({ id: longId, actor: alice, resource: model })) as any).metadata.product_log_id).toBe(u.metadata.product_log_id);
    expect(u.additional.mltrail_id).toBe(longId);
    expect(UdmEvent.safeParse(u).success).toBe(true);
    const exact = 'a'.repeat(256);
    expect((udmEvent(ev({ id: exact })) as any).metadata.product_log_id).toBe(exact);
    expect(udmLogId('e1')).toBe('e1');
  });
});
