import { describe, expect, it } from 'vitest';
import { replayEvents } from '../../../bridge/replay.js';
import { RulesConfig } from '../../../core/rules/engine.js';
import { FORMATS, formatter } from '../../../core/formats/index.js';
import { outputSchemas } from '../../../core/formats/validate.js';
import { ActorType, Outcome, Stage, describeZodError, type NormalizedEvent } from '../../../core/schema/index.js';
import { cloudTrailEvent, emptyStringsEvent, eventBridgeEvent, gcpEvent, syntheticAlerts, syntheticEvents } from './synthetic.js';

const SIEM = ['ocsf', 'ecs', 'udm', 'cim'] as const;
const events = [...syntheticEvents(), cloudTrailEvent, eventBridgeEvent, gcpEvent, emptyStringsEvent];
const alerts = syntheticAlerts();

/** Parse with a readable failure (which event, which format, which paths). */
function expectValid(format: (typeof FORMATS)[number], kind: 'event' | 'alert', out: unknown, id: string): void {
  const r = outputSchemas[format][kind].safeParse(out);
  if (!r.success) throw new Error(`${format} ${kind} ${id}: ${describeZodError(r.error)}\n${JSON.stringify(out, null, 1).slice(0, 3000)}`);
}

describe('output format registry', () => {
  it('serves every format, and names the choices for an unknown one', () => {
    for (const f of FORMATS) expect(typeof formatter(f).event).toBe('function');
    expect(() => formatter('splunk')).toThrow(/unknown format "splunk" \(expected one of core, ocsf, ecs, udm, cim\)/);
  });

  it('synthetic inputs cover every stage, outcome and actor type (and no actor)', () => {
    expect(new Set(events.map((e) => e.stage))).toEqual(new Set(Stage.options));
    expect(new Set(events.map((e) => e.outcome))).toEqual(new Set(Outcome.options));
    expect(new Set(events.map((e) => e.actor?.type ?? 'none'))).toEqual(new Set([...ActorType.options, 'none']));
    expect(new Set(alerts.map((a) => `${a.severity}/${a.mode}`)).size).toBe(8);
  });
});

describe.each(SIEM)('%s mapping', (format) => {
  const f = formatter(format);

  it('maps every synthetic event to a valid record', () => {
    for (const ev of events) expectValid(format, 'event', f.event(ev), ev.id);
  });

  it('maps every alert (each severity, both modes) to a valid record', () => {
    for (const a of alerts) expectValid(format, 'alert', f.alert(a), a.id);
  });

  it('is deterministic: the same input maps to the same bytes', () => {
    for (const ev of events.slice(0, 20)) expect(JSON.stringify(f.event(structuredClone(ev)))).toBe(JSON.stringify(f.event(ev)));
  });

  it('carries the mltrail id where an operator traces it', () => {
    const idOf = (o: any): unknown =>
      ({ ocsf: o.metadata?.uid, ecs: o.mltrail?.id, udm: o.metadata?.product_log_id, cim: o.fields?.mltrail_id })[format];
    for (const ev of events) expect(idOf(f.event(ev))).toBe(ev.id);
    for (const a of alerts) expect(idOf(f.alert(a))).toBe(a.id);
  });
});

describe('validators reject what a SIEM would reject', () => {
  it('core schema validators stay the normalized schema', () => {
    expect(outputSchemas.core.event.safeParse(events[0]).success).toBe(true);
  });
});

describe('alerts carry who and from where in every schema', () => {
  const base = syntheticAlerts()[1]!;
  const selfApproval = { ...base, rule_id: 'evaluation.self_approval', entity: { type: 'model_version', id: 'churn/3', platform: 'mlflow' as const }, details: { identity: 'alice@corp.example', roles: ['trainer'] } };
  const authFailure = { ...base, rule_id: 'ingestion.source_auth_failure', entity: { type: 'ingest_route', id: 'core.api', platform: 'custom' as const }, details: { principal: '203.0.113.9', ip: '203.0.113.9' } };

  it('the person a rule names (details.identity/principal/deployer) is the user; details.ip the source', () => {
    const f = (name: (typeof SIEM)[number], a: typeof base) => formatter(name).alert(a) as Record<string, any>;
    // CIM: the HEC envelope's event.
    expect(f('cim', selfApproval).event).toMatchObject({ user: 'alice@corp.example', src: 'unknown' });
    expect(f('cim', authFailure).event).toMatchObject({ src: '203.0.113.9' });
    expect(f('cim', authFailure).event.user).toBeUndefined();
    expect(f('ecs', selfApproval)).toMatchObject({ user: { name: 'alice@corp.example' }, related: { user: ['alice@corp.example'] } });
    expect(f('ecs', authFailure)).toMatchObject({ source: { ip: '203.0.113.9' }, related: { ip: ['203.0.113.9'] } });
    expect(f('udm', selfApproval).principal).toEqual({ user: { userid: 'alice@corp.example' } });
    expect(f('udm', authFailure).principal).toEqual({ ip: ['203.0.113.9'] });
    expect(f('ocsf', selfApproval).evidences).toEqual([{ actor: { user: { name: 'alice@corp.example', email_addr: 'alice@corp.example' } } }]);
    expect(f('ocsf', authFailure).evidences).toEqual([{ src_endpoint: { ip: '203.0.113.9' } }]);
    for (const name of SIEM) for (const a of [selfApproval, authFailure]) expectValid(name, 'alert', formatter(name).alert(a), `${a.rule_id}`);
  });

  it('ECS related.user holds user names only: an identity entity that is an address goes to related.ip', () => {
    // The real ingestion.source_auth_failure alert (replay of vertex/otel-auditlog-policy.json) has entity
    // {type: identity, id: '192.168.1.1'}: ECS related.user is for user names (pivots on it listed the IP as a user).
    const byIp = { ...authFailure, entity: { type: 'identity', id: '192.168.1.1' }, details: { principal: '192.168.1.1', ip: '192.168.1.1' } };
    const d = formatter('ecs').alert(byIp) as Record<string, any>;
    expect(d.related.user).toBeUndefined();
    expect(d.related.ip).toEqual(['192.168.1.1']);
    const named = formatter('ecs').alert({ ...byIp, entity: { type: 'identity', id: 'alice@corp.example' }, details: { identity: 'alice@corp.example', ip: '203.0.113.9' } }) as Record<string, any>;
    expect(named.related).toEqual({ user: ['alice@corp.example'], ip: ['203.0.113.9'] });
    expectValid('ecs', 'alert', d, 'identity entity by address');
  });

  it('an alert about an offending identity names what was attacked (details.target) as CIM dest and UDM target, the offender as the source', () => {
    const byIp = { ...authFailure, entity: { type: 'identity', id: '192.168.1.1' }, details: { principal: '192.168.1.1', ip: '192.168.1.1', target: { type: 'ingest_route', id: 'core.api', platform: 'custom' } } };
    const cim = (formatter('cim').alert(byIp) as Record<string, any>).event;
    expect([cim.dest, cim.src]).toEqual(['core.api', '192.168.1.1']);
    const udm = formatter('udm').alert(byIp) as Record<string, any>;
    expect(udm.target.resource).toMatchObject({ name: 'core.api', product_object_id: 'core.api', resource_subtype: 'ingest_route' });
    expect(udm.principal).toEqual({ ip: ['192.168.1.1'] });
    // Any other alert keeps its entity as the target.
    expect((formatter('cim').alert(selfApproval) as Record<string, any>).event.dest).toBe('churn/3');
    for (const name of ['cim', 'udm'] as const) expectValid(name, 'alert', formatter(name).alert(byIp), 'identity entity with a target');
  });

  it('a rule that names nobody: the caller of the event it judged is the user (network_egress, code_modified, rollback… reached the SIEMs without one)', () => {
    const job = (id: string, hour: number, image: string) =>
      ({ schema_version: '1', id, time: new Date(Date.UTC(2026, 2, 2, hour)).toISOString(), received_time: '2026-03-02T12:00:00.000Z', channel: 'test', platform: 'sagemaker', stage: 'training', action: 'training_job.create', operation: 'CreateTrainingJob', service: 'sagemaker.amazonaws.com', outcome: 'success', actor: { type: 'user', email: 'bob@corp.example', ip: '198.51.100.7' }, resource: { type: 'training_job', name: `train-${id}` }, ml: { job: { name: `train-${id}`, image, network_isolation: false } } }) as unknown as NormalizedEvent;
    const alerts = replayEvents([job('j1', 1, 'docker.io/evil/trainer:latest')], { rules: RulesConfig.parse({}) }).alerts;
    const ruleIds = alerts.map((a) => a.rule_id).sort();
    expect(ruleIds).toEqual(['training.network_egress', 'training.unverified_dependency']);
    for (const a of alerts) {
      expect(a.details).toMatchObject({ actor: 'bob@corp.example' });
      expect((formatter('cim').alert(a) as any).event.user).toBe('bob@corp.example');
      expect((formatter('ecs').alert(a) as any).user.name).toBe('bob@corp.example');
      expect((formatter('udm').alert(a) as any).principal.user.userid).toBe('bob@corp.example');
    }
  });
});

describe('a call an AWS service made (sourceIPAddress is its name)', () => {
  it('names that service as the source in OCSF (domain), CIM (src) and UDM (principal.hostname), raw kept or not', async () => {
    const { normalizeInput } = await import('../../../bridge/normalize.js');
    const { ConfigSchema } = await import('../../../bridge/config.js');
    const { readFixture } = await import('../../helpers/fixtures.js');
    for (const keep_raw of [true, false]) {
      const cfg = ConfigSchema.parse({ spool: { keep_raw } });
      const [ev] = normalizeInput(readFixture('sagemaker', 'cloudtrail-sagemaker-listtags-by-config.sumologic-docs.json'), 'f.json', 'sagemaker', cfg).events;
      expect((formatter('ocsf').event(ev!) as any).src_endpoint).toMatchObject({ domain: 'config.amazonaws.com' });
      expect((formatter('cim').event(ev!) as any).event.src).toBe('config.amazonaws.com');
      expect((formatter('udm').event(ev!) as any).principal).toMatchObject({ hostname: 'config.amazonaws.com' });
      for (const f of SIEM) expectValid(f, 'event', formatter(f).event(ev!), ev!.id);
    }
  });
});

describe('event types that say what happened', () => {
  const base = { schema_version: '1' as const, id: 'e1', time: '2026-11-25T10:00:00.000Z', received_time: '2026-11-25T10:00:01.000Z', outcome: 'success' as const };
  it('UDM: a Kubeflow run finishing is a STATUS_UPDATE of the ml-pipeline service, not a GENERIC_EVENT', () => {
    const ev = { ...base, platform: 'kubeflow' as const, channel: 'kubeflow.kfp', stage: 'training' as const, action: 'pipeline_run.complete', operation: 'run.succeeded', service: 'ml-pipeline', actor: { name: 'sa1', type: 'service' as const }, resource: { type: 'pipeline_run', id: 'run-1', name: 'run-1' } };
    const u = formatter('udm').event(ev as any) as any;
    expect(u.metadata.event_type).toBe('STATUS_UPDATE');
    expect(u.principal).toMatchObject({ hostname: 'ml-pipeline' });
    expectValid('udm', 'event', u, ev.id);
  });
  it('UDM: an action of no known kind is a GENERIC_EVENT, not a claimed write', () => {
    const ev = { ...base, platform: 'vertex' as const, channel: 'vertex.pubsub_push', stage: 'platform' as const, action: 'resource.other', operation: 'jobservice.jobcompleted', service: 'bigquery.googleapis.com', actor: { email: 'a@corp.example', type: 'user' as const }, resource: { type: 'resource', id: 'x' } };
    const u = formatter('udm').event(ev as any) as any;
    expect(u.metadata.event_type).toBe('GENERIC_EVENT');
    expectValid('udm', 'event', u, ev.id);
  });
  it('ECS: user.email holds only an address', () => {
    const ev = { ...base, platform: 'vertex' as const, channel: 'vertex.pubsub_push', stage: 'platform' as const, action: 'resource.update', operation: 'x', service: 'container.googleapis.com', actor: { name: 'system:gcp-controller-manager', id: 'system:gcp-controller-manager', type: 'system' as const } };
    expect((formatter('ecs').event(ev as any) as any).user?.email).toBeUndefined();
    expect((formatter('ecs').event({ ...ev, actor: { email: 'bob@corp.example', type: 'user' as const } } as any) as any).user.email).toBe('bob@corp.example');
  });
});

describe('OCSF actor of a caller nobody could name', () => {
  it('a refused sender is an unknown user with its address, not the platform acting (app_name)', () => {
    const ev = { schema_version: '1' as const, id: 'af', time: '2026-11-25T10:00:00.000Z', received_time: '2026-11-25T10:00:00.000Z', outcome: 'failure' as const, platform: 'custom' as const, channel: 'core.api', stage: 'ingestion' as const, action: 'ingest.auth_failure', operation: 'bridge.authenticate', service: 'mltrail', error: { code: 'MLTRAIL_ERR_UNAUTHORIZED', message: 'invalid bearer token' }, actor: { type: 'unknown' as const, ip: '203.0.113.9' }, resource: { type: 'ingest_route', id: 'core.api' } };
    const o = formatter('ocsf').event(ev as any) as any;
    expect(o.actor).toEqual({ user: { name: 'unknown', type_id: 0, type: 'Unknown' } });
    expect(o.src_endpoint).toMatchObject({ ip: '203.0.113.9' });
    expectValid('ocsf', 'event', o, ev.id);
    // A platform-initiated event (no caller at all) is still acted by the service.
    const sys = formatter('ocsf').event({ ...ev, id: 'sys', outcome: 'success', error: undefined, actor: undefined, service: 'sagemaker.amazonaws.com', platform: 'sagemaker' } as any) as any;
    expect(sys.actor).toEqual({ app_name: 'sagemaker.amazonaws.com' });
  });
});

describe('the product an event is labelled with', () => {
  const mk = (platform: 'sagemaker' | 'vertex', service: string, operation: string) =>
    ({ schema_version: '1', id: `p-${service}`, time: '2026-11-25T10:00:00.000Z', received_time: '2026-11-25T10:00:01.000Z', platform, channel: 'test', stage: 'platform', action: 'data_object.write', operation, service, outcome: 'success', actor: { type: 'user', id: 'alice' }, resource: { type: 'object', id: 'x' } }) as unknown as NormalizedEvent;
  const labels = (ev: NormalizedEvent) => {
    const cim = (formatter('cim').event(ev) as any).event.vendor_product;
    const udm = (formatter('udm').event(ev) as any).metadata;
    const ocsf = (formatter('ocsf').event(ev) as any).metadata.product;
    return [cim, `${udm.vendor_name} / ${udm.product_name}`, `${ocsf.vendor_name} / ${ocsf.name}`];
  };
  it('is the service\'s own for the other services a trail or audit log carries (S3, STS, BigQuery…), the platform\'s for the ML service', () => {
    expect(labels(mk('sagemaker', 's3.amazonaws.com', 'PutObject'))).toEqual(['AWS Amazon S3', 'AWS / Amazon S3', 'AWS / Amazon S3']);
    expect(labels(mk('sagemaker', 'sts.amazonaws.com', 'AssumeRole'))[1]).toBe('AWS / AWS STS');
    expect(labels(mk('sagemaker', 'ec2.amazonaws.com', 'RunInstances'))[1]).toBe('AWS / ec2.amazonaws.com');
    // The trail's own calls, kept by default (platform.audit_log_tampering), are CloudTrail's, named as the other services are.
    expect(labels(mk('sagemaker', 'cloudtrail.amazonaws.com', 'StopLogging'))).toEqual(['AWS AWS CloudTrail', 'AWS / AWS CloudTrail', 'AWS / AWS CloudTrail']);
    expect(labels(mk('sagemaker', 'sagemaker.amazonaws.com', 'CreateModel'))).toEqual(['AWS Amazon SageMaker', 'AWS / Amazon SageMaker', 'AWS / Amazon SageMaker']);
    expect(labels(mk('vertex', 'bigquery.googleapis.com', 'jobservice.jobcompleted'))[1]).toBe('Google Cloud / BigQuery');
    expect(labels(mk('vertex', 'aiplatform.googleapis.com', 'UploadModel'))[1]).toBe('Google Cloud / Vertex AI');
    for (const name of ['cim', 'udm', 'ocsf'] as const) expectValid(name, 'event', formatter(name).event(mk('sagemaker', 's3.amazonaws.com', 'PutObject')), 'S3 event');
  });
});
