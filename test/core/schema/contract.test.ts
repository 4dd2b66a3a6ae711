import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { Alert, NormalizedEvent, checkEvent, describeZodError, jsonSchemaOf } from '../../../core/schema/index.js';

/**
 * The normalized event and alert are a contract (issue 2, "The normalized event"): the field names, which are
 * required and the values of each enum are what sinks, saved searches and outside checks rely on. These tests pin
 * them exactly, so widening an enum or loosening a required field is seen (mutation audit).
 */
type Js = { required?: string[]; properties: Record<string, { enum?: string[]; properties?: Record<string, { enum?: string[] }> }> };
const eventSchema = () => jsonSchemaOf('event') as Js;
const alertSchema = () => jsonSchemaOf('alert') as Js;

const event = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  schema_version: '1', id: 'ev-1', time: '2026-11-25T12:00:00Z', received_time: '2026-11-25T12:00:01Z',
  platform: 'custom', channel: 'demo', stage: 'training', action: 'training_job.create',
  operation: 'CreateTrainingJob', outcome: 'success', ...over,
});

const alert = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  schema_version: '1', id: 'al-1', rule_id: 'registry.unapproved_deployment', stage: 'serving', severity: 'high', mode: 'alert',
  title: 't', summary: 's', time: '2026-11-25T12:00:00Z', entity: { type: 'endpoint', id: 'e1' }, evidence: ['ev-1'], details: {}, ...over,
});

describe('the event contract (JSON Schema of `mltrail schema event`)', () => {
  it('requires exactly the contract fields (received_time is stamped on ingest)', () => {
    expect([...eventSchema().required!].sort()).toEqual(['action', 'channel', 'id', 'operation', 'outcome', 'platform', 'schema_version', 'stage', 'time'].sort());
  });

  it('enumerates exactly the contract values of platform, stage, outcome and actor.type', () => {
    const p = eventSchema().properties;
    expect(p.platform!.enum).toEqual(['mlflow', 'kubeflow', 'sagemaker', 'vertex', 'custom']);
    expect(p.stage!.enum).toEqual(['ingestion', 'preprocessing', 'training', 'evaluation', 'registry', 'serving', 'platform']);
    expect(p.outcome!.enum).toEqual(['success', 'failure', 'unknown']);
    expect(p.actor!.properties!.type!.enum).toEqual(['user', 'service', 'system', 'unknown']);
  });

  it('accepts what the bridge accepts: an actor without type (the bridge fills "unknown")', () => {
    const validate = new Ajv2020({ allowUnionTypes: true, strict: false }).compile(jsonSchemaOf('event') as object);
    const e = event({ actor: { id: 'alice' } });
    expect(validate(e), JSON.stringify(validate.errors)).toBe(true);
    expect(checkEvent(e).success).toBe(true);
  });
});

describe('the alert contract (JSON Schema of `mltrail schema alert`)', () => {
  it('is the alert, not the event: severity and mode enums, evidence and rule_id required', () => {
    const s = alertSchema();
    expect(s.properties.severity!.enum).toEqual(['low', 'medium', 'high', 'critical']);
    expect(s.properties.mode!.enum).toEqual(['observe', 'alert']);
    expect(s.required).toEqual(expect.arrayContaining(['id', 'rule_id', 'stage', 'severity', 'mode', 'title', 'summary', 'time', 'entity', 'evidence', 'details']));
    expect(s.properties).not.toHaveProperty('action');
  });

  it('the zod Alert accepts a well-formed alert and refuses an empty rule_id, a count of 0, a missing evidence or an unknown severity', () => {
    expect(Alert.safeParse(alert()).success).toBe(true);
    expect(Alert.safeParse(alert({ count: 1 })).success).toBe(true);
    expect(Alert.safeParse(alert({ rule_id: '' })).success).toBe(false);
    expect(Alert.safeParse(alert({ count: 0 })).success).toBe(false);
    const { evidence: _, ...noEvidence } = alert();
    expect(Alert.safeParse(noEvidence).success).toBe(false);
    expect(Alert.safeParse(alert({ severity: 'info' })).success).toBe(false);
  });
});

describe('NormalizedEvent: values the contract refuses', () => {
  it.each([
    ['an empty channel', { channel: '' }],
    ['an outcome outside success|failure|unknown', { outcome: 'denied' }],
    ['a missing operation', { operation: undefined }],
    ['a platform outside the list', { platform: 'azureml' }],
  ])('refuses %s, on the fast path as in zod', (_n, over) => {
    const e = event(over);
    expect(NormalizedEvent.safeParse(e).success).toBe(false);
    expect(checkEvent(e).success).toBe(false);
  });

  it('keeps only {code, message} of error (a sender\'s stack trace is not stored)', () => {
    const v = checkEvent(event({ outcome: 'failure', error: { code: 'AccessDenied', message: 'no', stack: 'at x (y.js:1)' } }));
    expect(v.success && v.data.error).toEqual({ code: 'AccessDenied', message: 'no' });
  });
});

describe('describeZodError: the reason a rejected event is quarantined with', () => {
  it('names each failing field by its dotted path, up to five, joined by "; "', () => {
    const one = NormalizedEvent.safeParse(event({ actor: { type: 'robot' } }));
    expect(one.success).toBe(false);
    expect(describeZodError(one.error!)).toMatch(/^actor\.type: /);
    const many = NormalizedEvent.safeParse({ schema_version: '1' });
    const reason = describeZodError(many.error!);
    expect(reason.split('; ')).toHaveLength(5);
    expect(reason.split('; ').map((r) => r.split(':')[0])).toEqual(['id', 'time', 'received_time', 'platform', 'channel']);
  });
});
