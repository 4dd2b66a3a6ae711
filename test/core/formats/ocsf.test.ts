import { describe, expect, it } from 'vitest';
import { OCSF_VERSION, ocsfAlert, ocsfEvent } from '../../../core/formats/ocsf/index.js';
import { OcsfApiActivity, OcsfDetectionFinding } from '../../../core/formats/ocsf/validate.js';
import { NormalizedEvent } from '../../../core/schema/index.js';
import { readFixtureJson } from '../../helpers/fixtures.js';
import { cloudTrailEvent, cloudTrailRecord, gcpEvent, syntheticAlerts, syntheticEvents } from './synthetic.js';

const ev = (over: Record<string, unknown>) =>
  NormalizedEvent.parse({
    schema_version: '1', id: 'e1', time: '2024-06-10T06:13:20.123Z', received_time: '2024-06-10T06:13:21Z', platform: 'custom',
    channel: 'core.api', stage: 'registry', action: 'model_version.update', operation: 'repo.update', outcome: 'success', ...over,
  });

describe('OCSF API Activity (6003)', () => {
  it('derives activity_id and type_uid from the action', () => {
    const cases: Array<[string, number]> = [
      ['training_job.create', 1], ['model_version.read', 2], ['model_version.approve', 3], ['endpoint.delete', 4],
      ['role_binding.create', 3], ['pod.exec', 99], ['training_job.complete', 99],
    ];
    for (const [action, id] of cases) {
      const o = ocsfEvent(ev({ action })) as any;
      expect([action, o.activity_id, o.type_uid]).toEqual([action, id, 600300 + id]);
    }
  });

  it('matches the spec vector for the same logical event (ocsf_api_activity_6003.json)', () => {
    const want = readFixtureJson<any>('sinks', 'normalized', 'ocsf_api_activity_6003.json');
    const got = ocsfEvent(
      ev({
        id: want.metadata.uid,
        action: 'resource.update',
        service: 'github.com',
        actor: { id: 'u-1', name: 'alice', email: 'alice@example.com', type: 'user', ip: '203.0.113.10', user_agent: 'Mozilla/5.0' },
        resource: { type: 'repository', id: 'R_kgDOAbc123', name: 'acme/web' },
        details: { repo_visibility: 'private' },
      }),
    ) as any;
    for (const k of ['class_uid', 'category_uid', 'activity_id', 'type_uid', 'type_name', 'time', 'time_dt', 'severity_id', 'status_id', 'status']) {
      expect([k, got[k]]).toEqual([k, want[k]]);
    }
    expect(got.metadata).toMatchObject({ version: want.metadata.version, uid: want.metadata.uid, original_time: want.metadata.original_time });
    expect(got.actor.user).toMatchObject(want.actor.user);
    expect(got.api.operation).toBe(want.api.operation);
    expect(got.api.service).toEqual(want.api.service);
    expect(got.src_endpoint).toEqual(want.src_endpoint);
    expect(got.http_request).toEqual(want.http_request);
    expect(got.resources[0]).toMatchObject(want.resources[0]);
    expect(got.observables).toEqual(expect.arrayContaining(want.observables));
    expect(got.unmapped.mltrail.details).toEqual(want.unmapped);
    expect(OcsfApiActivity.safeParse(got).success).toBe(true);
  });

  it('carries model facts in ai_model (OCSF 1.8.0 ai_operation profile), resources[] and unmapped', () => {
    const o = ocsfEvent(
      ev({ ml: { model: { name: 'fraud', version: '3', approval: 'approved', sha256: 'ab'.repeat(32), aliases: ['champion'] } }, resource: { type: 'model_version', name: 'fraud', version: '3', id: 'models:/fraud/3' } }),
    ) as any;
    expect(OCSF_VERSION).toBe('1.8.0');
    expect(o.ai_model).toEqual({ name: 'fraud', version: '3', ai_provider: 'Internal' });
    expect(o.metadata.profiles).toContain('ai_operation');
    expect(o.resources[0]).toMatchObject({ uid: 'models:/fraud/3', name: 'fraud', type: 'model_version', role_id: 1 });
    expect(o.resources.some((r: any) => r.data?.sha256 === 'ab'.repeat(32) && r.labels?.includes('champion'))).toBe(true);
    expect(o.unmapped.mltrail.ml.model.approval).toBe('approved');
    for (const e of syntheticEvents()) {
      const x = ocsfEvent(e) as any;
      if (x.ai_model) expect(x.metadata.profiles).toContain('ai_operation');
      if (x.cloud) expect(x.metadata.profiles).toContain('cloud');
    }
  });

  it('takes CloudTrail facts the way the OCSF CloudTrail mapping does', () => {
    const o = ocsfEvent(cloudTrailEvent) as any;
    expect(o.api.operation).toBe(cloudTrailRecord.eventName);
    expect(o.api.service.name).toBe(cloudTrailRecord.eventSource);
    expect(o.cloud).toMatchObject({ provider: 'AWS', region: cloudTrailRecord.awsRegion, account: { uid: '558069890522', type_id: 10 } });
    expect(o.metadata.uid).toBe(cloudTrailEvent.id);
    expect(JSON.parse(o.raw_data).eventName).toBe('CreateTrainingJob');
    const g = ocsfEvent(gcpEvent) as any;
    expect(g.actor.user.uid).toBe('system:gcp-controller-manager');
    expect(g.actor.user.email_addr).toBeUndefined(); // not an address
    expect(g.api.request.uid).toBe(gcpEvent.raw && (gcpEvent.raw as any).operation.id);
  });

  it('gives a platform-initiated event an actor and a source endpoint', () => {
    const o = ocsfEvent(ev({ platform: 'sagemaker', service: 'sagemaker.amazonaws.com', action: 'training_job.complete' })) as any;
    expect(o.actor).toEqual({ app_name: 'sagemaker.amazonaws.com' });
    expect(o.src_endpoint).toEqual({ svc_name: 'sagemaker.amazonaws.com' });
    const s = ocsfEvent(ev({ actor: { ip: 'sagemaker.amazonaws.com', type: 'service' } })) as any;
    expect(s.src_endpoint).toEqual({ domain: 'sagemaker.amazonaws.com' });
  });

  it('reports failures in status and api.response', () => {
    const o = ocsfEvent(ev({ outcome: 'failure', error: { code: 'AccessDenied', message: 'not allowed' } })) as any;
    expect([o.status_id, o.status, o.status_code, o.status_detail]).toEqual([2, 'Failure', 'AccessDenied', 'not allowed']);
    expect(o.api.response).toEqual({ error: 'AccessDenied', message: 'not allowed' });
  });
});

describe('OCSF Detection Finding (2004)', () => {
  it('maps an alert: finding_info.uid = alert id, is_alert only in alert mode, severity ids', () => {
    for (const a of syntheticAlerts()) {
      const f = ocsfAlert(a) as any;
      expect(f.finding_info.uid).toBe(a.id);
      expect(f.finding_info.analytic).toMatchObject({ uid: a.rule_id, type_id: 1 });
      expect(f.finding_info.related_events.map((r: any) => r.uid)).toEqual(a.evidence);
      expect(f.is_alert).toBe(a.mode === 'alert');
      expect(f.severity_id).toBe({ low: 2, medium: 3, high: 4, critical: 5 }[a.severity]);
      expect(f.type_uid).toBe(200400 + f.activity_id);
      expect(f.activity_id).toBe((a.count ?? 1) > 1 ? 2 : 1);
    }
  });

  it('agrees with the spec vector (ocsf_detection_finding_2004.json) on the class fields', () => {
    const want = readFixtureJson<any>('sinks', 'normalized', 'ocsf_detection_finding_2004.json');
    const { count: _c, first_seen: _f, last_seen: _l, ...first } = syntheticAlerts()[5]!; // high, alert mode, first sighting
    const got = ocsfAlert(first) as any;
    for (const k of ['class_uid', 'category_uid', 'activity_id', 'type_uid', 'type_name', 'is_alert', 'severity_id', 'severity', 'status_id', 'status']) {
      expect([k, got[k]]).toEqual([k, want[k]]);
    }
    expect(OcsfDetectionFinding.safeParse(want).success).toBe(true);
  });
});

describe('OCSF validators', () => {
  const good = ocsfEvent(cloudTrailEvent) as any;

  it('accept the spec vectors', () => {
    expect(OcsfApiActivity.safeParse(readFixtureJson('sinks', 'normalized', 'ocsf_api_activity_6003.json')).success).toBe(true);
    expect(OcsfApiActivity.safeParse(good).success).toBe(true);
  });

  it.each([
    ['type_uid not class*100+activity', (o: any) => (o.type_uid = 600302)],
    ['missing api.operation', (o: any) => delete o.api.operation],
    ['empty actor', (o: any) => (o.actor = {})],
    ['src_endpoint without an identifier', (o: any) => (o.src_endpoint = { port: 443 })],
    ['cloud profile without cloud', (o: any) => delete o.cloud],
    ['unknown severity_id', (o: any) => (o.severity_id = 7)],
    ['time in seconds as a string', (o: any) => (o.time = '2024-06-10T06:13:20Z')],
    ['wrong OCSF version', (o: any) => (o.metadata.version = '1.1.0')],
    ['request without uid', (o: any) => (o.api.request = {})],
    ['misspelt attribute', (o: any) => (o.resource = [])],
    ['ai_model without ai_provider', (o: any) => (o.ai_model = { name: 'm' })],
    ['resource without name or uid', (o: any) => (o.resources = [{ type: 'x' }])],
    ['a user email_addr that is not an address', (o: any) => (o.actor.user.email_addr = 'alice')],
  ])('reject %s', (_name, mutate) => {
    const o = structuredClone(good);
    mutate(o);
    expect(OcsfApiActivity.safeParse(o).success).toBe(false);
  });

  it('reject a finding without finding_info.uid or an analytic without type_id', () => {
    const f = ocsfAlert(syntheticAlerts()[0]!) as any;
    expect(OcsfDetectionFinding.safeParse(f).success).toBe(true);
    const a = structuredClone(f);
    delete a.finding_info.uid;
    expect(OcsfDetectionFinding.safeParse(a).success).toBe(false);
    const b = structuredClone(f);
    delete b.finding_info.analytic.type_id;
    expect(OcsfDetectionFinding.safeParse(b).success).toBe(false);
  });
});

describe('OCSF enum ids a SIEM filters on (mutation audit)', () => {
  it('status_id: Success 1, Failure 2, Unknown 0', () => {
    const st = (outcome: string) => {
      const o = ocsfEvent(ev({ outcome })) as any;
      return [o.status_id, o.status];
    };
    expect([st('success'), st('failure'), st('unknown')]).toEqual([[1, 'Success'], [2, 'Failure'], [0, 'Unknown']]);
  });

  it('actor.user.type_id: User 1, System 3, Service 4, Unknown 0', () => {
    const ut = (type: string) => {
      const u = (ocsfEvent(ev({ actor: { id: 'x', type } })) as any).actor.user;
      return [u.type_id, u.type];
    };
    expect([ut('user'), ut('system'), ut('service'), ut('unknown')]).toEqual([[1, 'User'], [3, 'System'], [4, 'Service'], [0, 'Unknown']]);
  });
});
