import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { MlflowConfig } from '../../../connectors/mlflow/config.js';
import { mlflowConnector } from '../../../connectors/mlflow/index.js';
import type { NormalizeContext } from '../../../core/connector.js';
import { NormalizedEvent, contentId, stableId } from '../../../core/schema/index.js';
import { fixturePath, listFixtures, readFixtureJson } from '../../helpers/fixtures.js';

const config = MlflowConfig.parse({});
const ctx = (over: Partial<NormalizeContext<MlflowConfig>> = {}): NormalizeContext<MlflowConfig> => ({
  channel: 'test',
  receivedTime: '2025-08-20T10:00:00.000Z',
  keepRaw: true,
  config,
  ...over,
});
const norm = (record: unknown, c = ctx()) => mlflowConnector.normalize!(record, c);
const one = (record: unknown, c = ctx()) => {
  const out = norm(record, c);
  expect(out.rejected).toEqual([]);
  expect(out.events).toHaveLength(1);
  const v = NormalizedEvent.safeParse(out.events[0]);
  expect(v.success, v.success ? '' : JSON.stringify(v.error.issues)).toBe(true);
  return out.events[0]!;
};
const envelope = (entity: string, action: string, data: Record<string, unknown>) => ({ entity, action, timestamp: '2025-08-20T09:16:03+00:00', data });

describe('mlflow normalize: shared fixtures', () => {
  const expected: Record<string, { action: string; type: string; name: string; version?: string }> = {
    'registered_model.created.json': { action: 'registered_model.create', type: 'registered_model', name: 'test_hmac_model' },
    'model_version.created.json': { action: 'model_version.create', type: 'model_version', name: 'model_version_created', version: '1' },
    'model_version_tag.set.json': { action: 'model_version.tag_set', type: 'model_version', name: 'model_version_tag_set', version: '1' },
    'model_version_alias.created.json': { action: 'model_version.alias_set', type: 'model_version', name: 'model_version_alias_created', version: '1' },
    'model_version_alias.deleted.json': { action: 'model_version.alias_delete', type: 'model_version', name: 'model_version_alias_deleted' },
    'prompt_version.created.json': { action: 'prompt_version.create', type: 'prompt', name: 'example_prompt', version: '1' },
  };

  it('covers every fixture file', () => {
    expect(listFixtures('mlflow').sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [file, exp] of Object.entries(expected)) {
    it(`${file} → ${exp.action} in stage registry`, () => {
      const rec = readFixtureJson('mlflow', file);
      expect(mlflowConnector.detect!(rec)).toBe(true);
      const ev = one(rec);
      expect(ev.action).toBe(exp.action);
      expect(ev.stage).toBe('registry');
      expect(ev.platform).toBe('mlflow');
      expect(ev.resource?.type).toBe(exp.type);
      expect(ev.resource?.name).toBe(exp.name);
      expect(ev.resource?.version).toBe(exp.version);
      expect(ev.operation).toBe(file.replace(/\.json$/, ''));
      expect(ev.time).toBe(new Date((rec as { timestamp: string }).timestamp).toISOString());
      expect(ev.raw).toEqual(rec);
    });
  }

  it('model_version.created carries source, run id and tags in ml.model', () => {
    const ev = one(readFixtureJson('mlflow', 'model_version.created.json'));
    expect(ev.resource?.uri).toBe('s3://bucket/path/to/model');
    expect(ev.ml?.model).toMatchObject({
      name: 'model_version_created', version: '1', run_id: '1234567890abcdef',
      artifact_uri: 's3://bucket/path/to/model', tags: { test_tag_key: 'test_tag_value' },
    });
    expect(ev.ml?.model?.approval).toBeUndefined();
  });

  it('alias and tag events keep alias and tag', () => {
    expect(one(readFixtureJson('mlflow', 'model_version_alias.created.json')).ml?.model?.aliases).toEqual(['test_alias']);
    expect(one(readFixtureJson('mlflow', 'model_version_alias.deleted.json')).details?.alias).toBe('test_alias');
    expect(one(readFixtureJson('mlflow', 'model_version_tag.set.json')).details?.tag).toEqual({ key: 'test_tag_key', value: 'new_value' });
  });
});

describe('mlflow normalize: ids', () => {
  const rec = readFixtureJson('mlflow', 'model_version.created.json');
  it('uses X-MLflow-Delivery-Id from ctx.meta when known', () => {
    expect(one(rec, ctx({ meta: { delivery_id: 'd-1' } })).id).toBe(stableId('mlflow', 'delivery', 'd-1'));
    expect(one(rec, ctx({ meta: { headers: { 'x-mlflow-delivery-id': 'd-1' } } })).id).toBe(stableId('mlflow', 'delivery', 'd-1'));
  });
  it('falls back to a hash of the canonical record (key order does not matter)', () => {
    const a = one(rec).id;
    const reordered = Object.fromEntries(Object.entries(rec as object).reverse());
    expect(one(reordered).id).toBe(a);
    expect(a).toBe(contentId('mlflow', rec));
    expect(one({ ...(rec as object), timestamp: '2025-08-20T09:16:04+00:00' }).id).not.toBe(a);
  });
});

describe('mlflow normalize: every catalogue event', () => {
  const cases: Array<[string, string, Record<string, unknown>, string, string]> = [
    ['registered_model', 'created', { name: 'm', tags: {}, description: '' }, 'registered_model.create', 'registered_model'],
    ['model_version', 'created', { name: 'm', version: '2', source: 'models:/m-abc', run_id: null, tags: {}, description: null }, 'model_version.create', 'model_version'],
    ['model_version_tag', 'set', { name: 'm', version: '2', key: 'k', value: 'v' }, 'model_version.tag_set', 'model_version'],
    ['model_version_tag', 'deleted', { name: 'm', version: '2', key: 'k' }, 'model_version.tag_delete', 'model_version'],
    ['model_version_alias', 'created', { name: 'm', alias: 'candidate', version: '2' }, 'model_version.alias_set', 'model_version'],
    ['model_version_alias', 'deleted', { name: 'm', alias: 'candidate' }, 'model_version.alias_delete', 'model_version'],
    ['prompt', 'created', { name: 'p', tags: {}, description: '' }, 'prompt.create', 'prompt'],
    ['prompt_version', 'created', { name: 'p', version: '1', template: 'Hi', tags: {}, description: null }, 'prompt_version.create', 'prompt'],
    ['prompt_tag', 'set', { name: 'p', key: 'k', value: 'v' }, 'prompt.tag_set', 'prompt'],
    ['prompt_tag', 'deleted', { name: 'p', key: 'k' }, 'prompt.tag_delete', 'prompt'],
    ['prompt_version_tag', 'set', { name: 'p', version: '1', key: 'k', value: 'v' }, 'prompt_version.tag_set', 'prompt'],
    ['prompt_version_tag', 'deleted', { name: 'p', version: '1', key: 'k' }, 'prompt_version.tag_delete', 'prompt'],
    ['prompt_alias', 'created', { name: 'p', alias: 'prod', version: '1' }, 'prompt.alias_set', 'prompt'],
    ['prompt_alias', 'deleted', { name: 'p', alias: 'prod' }, 'prompt.alias_delete', 'prompt'],
    ['budget_policy', 'exceeded', { budget_policy_id: 'bp-1', budget_unit: 'USD', budget_amount: 100, current_spend: 120.5, duration_unit: 'DAYS', duration_value: 1, target_scope: 'WORKSPACE', workspace: 'w', window_start: 1757663059000 }, 'budget_policy.exceeded', 'budget_policy'],
  ];
  for (const [entity, action, data, want, type] of cases) {
    it(`${entity}.${action} → ${want}`, () => {
      const rec = envelope(entity, action, data);
      expect(mlflowConnector.detect!(rec)).toBe(true);
      const ev = one(rec);
      expect(ev.action).toBe(want);
      expect(ev.stage).toBe('registry');
      expect(ev.resource?.type).toBe(type);
    });
  }

  it('keeps the workspace of a workspace-enabled server', () => {
    const ev = one({ ...envelope('registered_model', 'created', { name: 'm' }), workspace: 'team-a' });
    expect(ev.resource?.namespace).toBe('team-a');
    expect(ev.details?.workspace).toBe('team-a');
  });

  it('budget_policy.exceeded keeps the spend figures', () => {
    const ev = one(envelope(...(cases.at(-1)!.slice(0, 3) as [string, string, Record<string, unknown>])));
    expect(ev.details).toMatchObject({ budget_policy_id: 'bp-1', current_spend: 120.5, budget_amount: 100 });
  });

  it('a future entity/action pair of a known entity is kept, not dropped', () => {
    const ev = one(envelope('registered_model', 'updated', { name: 'm' }));
    expect(ev.action).toBe('registered_model.update');
    expect(one(envelope('model_version_alias', 'updated', { name: 'm' })).action).toBe('resource.other');
  });
});

describe('mlflow normalize: approval markers', () => {
  it('alias champion/production → model_version.approve, spelt exactly as configured', () => {
    for (const alias of ['champion', 'production']) {
      const ev = one(envelope('model_version_alias', 'created', { name: 'fraud', alias, version: '7' }));
      expect(ev.action).toBe('model_version.approve');
      expect(ev.ml?.model?.approval).toBe('approved');
      expect(ev.ml?.model?.aliases).toEqual([alias]);
      expect(ev.details?.approval_marker).toEqual({ kind: 'alias', alias });
    }
    // MLflow keeps `CHAMPION` apart from `champion` (PostgreSQL, SQLite): another alias, set, not an approval.
    for (const alias of ['CHAMPION', 'Production']) {
      const ev = one(envelope('model_version_alias', 'created', { name: 'fraud', alias, version: '8' }));
      expect(ev.action).toBe('model_version.alias_set');
      expect(ev.ml?.model?.approval).toBeUndefined();
      expect(ev.ml?.model?.aliases).toEqual([alias]);
    }
  });
  it('tag approval_status/approved → approve, reject, pending', () => {
    const tag = (key: string, value: string) => one(envelope('model_version_tag', 'set', { name: 'fraud', version: '7', key, value }));
    expect(tag('approval_status', 'APPROVED').action).toBe('model_version.approve');
    expect(tag('approved', 'true').ml?.model?.approval).toBe('approved');
    expect(tag('approval_status', 'rejected').action).toBe('model_version.reject');
    const pending = tag('approval_status', 'pending');
    expect(pending.action).toBe('model_version.tag_set');
    expect(pending.ml?.model?.approval).toBe('pending');
    const other = tag('owner', 'approved');
    expect(other.action).toBe('model_version.tag_set');
    expect(other.ml?.model?.approval).toBeUndefined();
  });
  it('configurable markers', () => {
    const c = ctx({ config: MlflowConfig.parse({ approval: { aliases: 'prod-ok', tags: ['sec_review'], approved_values: ['pass'] } }) });
    expect(one(envelope('model_version_alias', 'created', { name: 'm', alias: 'champion', version: '1' }), c).action).toBe('model_version.alias_set');
    expect(one(envelope('model_version_alias', 'created', { name: 'm', alias: 'prod-ok', version: '1' }), c).action).toBe('model_version.approve');
    expect(one(envelope('model_version_tag', 'set', { name: 'm', version: '1', key: 'sec_review', value: 'pass' }), c).action).toBe('model_version.approve');
  });
  it('a version created already carrying an approval tag stays create but is flagged approved', () => {
    const ev = one(envelope('model_version', 'created', { name: 'm', version: '3', source: 's3://b/m', run_id: 'r', tags: { approval_status: 'approved' }, description: null }));
    expect(ev.action).toBe('model_version.create');
    expect(ev.ml?.model?.approval).toBe('approved');
  });
  it('removing an approval alias or tag is flagged', () => {
    expect(one(envelope('model_version_alias', 'deleted', { name: 'm', alias: 'champion' })).details?.approval_marker_removed).toEqual({ kind: 'alias', alias: 'champion' });
    expect(one(envelope('model_version_tag', 'deleted', { name: 'm', version: '1', key: 'approved' })).details?.approval_marker_removed).toEqual({ kind: 'tag', key: 'approved' });
  });
  it('prompt aliases are not model approvals', () => {
    const ev = one(envelope('prompt_alias', 'created', { name: 'p', alias: 'production', version: '1' }));
    expect(ev.action).toBe('prompt.alias_set');
  });
});

describe('mlflow normalize: prompts', () => {
  it('keeps the tags of prompt and prompt-version creations (prompts have no ml.model)', () => {
    const pv = one(readFixtureJson('mlflow', 'prompt_version.created.json'));
    expect(pv.details?.tags).toEqual({ example_key: 'example_value' });
    expect(pv.details?.template).toBe('Hello {{name}}!');
    const p = one(envelope('prompt', 'created', { name: 'support', tags: { owner: 'team-a', risk: 'high' }, description: '' }));
    expect(p.details?.tags).toEqual({ owner: 'team-a', risk: 'high' });
    expect(p.ml).toBeUndefined();
  });

  it('a 3.3-era prompt (registered_model.created tagged mlflow.prompt.is_prompt) is a prompt', () => {
    const ev = one(envelope('registered_model', 'created', { name: 'support', tags: { 'mlflow.prompt.is_prompt': 'true', owner: 'team-a' }, description: '' }));
    expect(ev.action).toBe('prompt.create');
    expect(ev.resource).toMatchObject({ type: 'prompt', name: 'support' });
    expect(ev.ml).toBeUndefined();
    expect(ev.details?.tags).toEqual({ 'mlflow.prompt.is_prompt': 'true', owner: 'team-a' });
    const v = one(envelope('model_version', 'created', {
      name: 'support', version: '2', source: 'dummy-source', run_id: null,
      tags: { 'mlflow.prompt.is_prompt': 'true', 'mlflow.prompt.text': 'Hi {{name}}', approved: 'true' }, description: null,
    }));
    expect(v.action).toBe('prompt_version.create');
    expect(v.resource).toMatchObject({ type: 'prompt', id: 'support/2' });
    expect(v.details?.template).toBe('Hi {{name}}');
    expect(v.details?.approval_marker).toBeUndefined(); // not a model approval
    // An ordinary model is unaffected.
    expect(one(readFixtureJson('mlflow', 'registered_model.created.json')).resource?.type).toBe('registered_model');
  });
});

describe('mlflow normalize: Databricks registry webhooks', () => {
  const base = { webhook_id: 'c5596721253c4b429368cf6f4341b88a', event_timestamp: 1632225654000, model_name: 'Airline_Delay_SparkML', version: '8', text: 'Registered model moved' };
  it('stage transition to Production is an approval; to Staging a stage transition', () => {
    const prod = one({ event: 'MODEL_VERSION_TRANSITIONED_STAGE', ...base, to_stage: 'Production', from_stage: 'Staging' });
    expect(prod.action).toBe('model_version.approve');
    expect(prod.ml?.model?.stage).toBe('Production');
    expect(prod.time).toBe('2021-09-21T12:00:54.000Z');
    const staging = one({ event: 'MODEL_VERSION_TRANSITIONED_TO_STAGING', ...base });
    expect(staging.action).toBe('model_version.stage_transition');
    expect(staging.details?.to_stage).toBe('Staging');
  });
  it('tags, comments, transition requests, creation', () => {
    expect(one({ event: 'MODEL_VERSION_TAG_SET', ...base, tags: [{ key: 'k', value: 'v' }] }).action).toBe('model_version.tag_set');
    expect(one({ event: 'MODEL_VERSION_TAG_SET', ...base, tags: [{ key: 'approval_status', value: 'approved' }] }).action).toBe('model_version.approve');
    expect(one({ event: 'COMMENT_CREATED', ...base, comment: 'LGTM' }).action).toBe('model_version.comment');
    const req = one({ event: 'TRANSITION_REQUEST_TO_PRODUCTION_CREATED', ...base });
    expect(req.action).toBe('model_version.transition_request');
    expect(req.ml?.model?.approval).toBe('pending');
    expect(one({ event: 'MODEL_VERSION_CREATED', ...base }).action).toBe('model_version.create');
    expect(one({ event: 'REGISTERED_MODEL_CREATED', ...base }).resource?.type).toBe('registered_model');
  });
  it('one transition sent by a registry-wide and a model-specific webhook is one event (webhook_id names the subscription, not the event)', () => {
    const transition = { event: 'MODEL_VERSION_TRANSITIONED_STAGE', ...base, to_stage: 'Production', from_stage: 'Staging' };
    const registryWide = one(transition);
    const modelSpecific = one({ ...transition, webhook_id: '1f2e3d4c5b6a79880123456789abcdef' });
    expect(modelSpecific.id).toBe(registryWide.id);
    expect(modelSpecific.details?.webhook_id).toBe('1f2e3d4c5b6a79880123456789abcdef');
    // Still told apart: another version, another time, another stage, another event.
    expect(one({ ...transition, version: '9' }).id).not.toBe(registryWide.id);
    expect(one({ ...transition, event_timestamp: 1632225654001 }).id).not.toBe(registryWide.id);
    expect(one({ ...transition, to_stage: 'Archived', from_stage: 'Production' }).id).not.toBe(registryWide.id);
    expect(one({ ...transition, event: 'MODEL_VERSION_TAG_SET', tags: [{ key: 'k', value: 'v' }] }).id).not.toBe(registryWide.id);
  });
  it('detects Databricks bodies and nothing else', () => {
    expect(mlflowConnector.detect!({ event: 'MODEL_VERSION_CREATED', ...base })).toBe(true);
    expect(mlflowConnector.detect!({ event: 'something', model_name: 'x' })).toBe(false);
    expect(mlflowConnector.detect!({ eventVersion: '1.08', eventSource: 'sagemaker.amazonaws.com' })).toBe(false);
    expect(mlflowConnector.detect!({ entity: 'pipeline', action: 'created', timestamp: 'x', data: {} })).toBe(false);
    expect(mlflowConnector.detect!([])).toBe(false);
  });
});

describe('mlflow normalize: bad input is rejected with the field', () => {
  it('not an envelope', () => {
    const out = norm({ entity: 'model_version', action: 'created' });
    expect(out.events).toEqual([]);
    expect(out.rejected[0]!.reason).toMatch(/envelope/);
    expect(out.rejected[0]!.field).toBe('timestamp');
  });
  it('missing required data field', () => {
    const out = norm(envelope('model_version', 'created', { version: '1' }));
    expect(out.rejected[0]).toMatchObject({ field: 'data.name' });
  });
  it('unknown entity, bad timestamp', () => {
    expect(norm(envelope('experiment', 'created', { name: 'x' })).rejected[0]!.field).toBe('entity');
    expect(norm({ ...envelope('registered_model', 'created', { name: 'x' }), timestamp: 'yesterday' }).rejected[0]!.field).toBe('timestamp');
  });
});

describe('mltrail normalize --platform mlflow', () => {
  const cli = (args: string[]) => runCli(args);
  it('normalizes every fixture', async () => {
    const files = listFixtures('mlflow').map((f) => fixturePath('mlflow', f));
    const r = await cli(['normalize', '--platform', 'mlflow', ...files]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const events = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(events).toHaveLength(files.length);
    for (const e of events) {
      expect(NormalizedEvent.safeParse(e).success).toBe(true);
      expect(e.stage).toBe('registry');
    }
  });
  it('auto-detects the fixtures as mlflow', async () => {
    const r = await cli(['normalize', fixturePath('mlflow', 'model_version_alias.created.json')]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).platform).toBe('mlflow');
  });
});

describe('mlflow normalize: an event time that is not a time is refused naming its field, never re-dated', () => {
  const refused = (record: unknown, field: string) => {
    const out = norm(record);
    expect(out.events).toEqual([]);
    expect(out.rejected).toHaveLength(1);
    expect(out.rejected[0]!.field).toBe(field);
    expect(out.rejected[0]!.reason).toMatch(new RegExp(`^${field} `));
    return out.rejected[0]!.reason;
  };
  const fixture = () => readFixtureJson<Record<string, unknown>>('mlflow', 'model_version.created.json');

  it.each(['-5', '0', 'garbage', '2024-02-30T10:00:00+00:00', '2024-05-01T24:00:00+00:00', '10000-01-01T00:00:00+00:00', '9999-12-31T23:59:59-01:00'])(
    'OSS envelope timestamp %j', (timestamp) => {
      expect(refused({ ...fixture(), timestamp }, 'timestamp')).toContain(`timestamp ${JSON.stringify(timestamp)} is not a valid RFC 3339 time`);
    },
  );

  // Databricks' documented MODEL_VERSION_TRANSITIONED_STAGE example (no shared fixture exists for Databricks bodies).
  const databricks = { event: 'MODEL_VERSION_TRANSITIONED_STAGE', webhook_id: 'c5596721253c4b429368cf6f4341b88a', event_timestamp: 1632225654000 as unknown, model_name: 'Airline_Delay_SparkML', version: '8', to_stage: 'Production', from_stage: 'Staging', text: 'Registered model moved' };
  it.each(['garbage', '-5', -5, 0, '0', 253402300800000, 1e300, '2024-02-30T10:00:00Z'])('Databricks event_timestamp %j (garbage used to be dated "now")', (event_timestamp) => {
    expect(refused({ ...databricks, event_timestamp }, 'event_timestamp')).toContain(`event_timestamp ${JSON.stringify(event_timestamp)} is not a valid time`);
  });
  it('a Databricks body without event_timestamp is refused, not dated at receipt', () => {
    const { event_timestamp: _t, ...missing } = databricks;
    expect(refused(missing, 'event_timestamp')).toMatch(/event_timestamp is missing/);
    expect(one(databricks).time).toBe('2021-09-21T12:00:54.000Z');
  });

  it('mltrail normalize prints FILE:N naming the field and exits 1; the good record still comes out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mltrail-mlflow-time-'));
    try {
      const file = join(dir, 'deliveries.ndjson');
      writeFileSync(file, [fixture(), { ...fixture(), timestamp: '-5' }, { ...databricks, event_timestamp: 'garbage' }, { ...fixture(), timestamp: '10000-01-01T00:00:00+00:00' }].map((r) => JSON.stringify(r)).join('\n'));
      const r = await runCli(['normalize', '--platform', 'mlflow', file]);
      expect(r.out.trim().split('\n')).toHaveLength(1);
      expect(r.err).toContain(`${file}:2: field timestamp: timestamp "-5" is not a valid RFC 3339 time`);
      expect(r.err).toContain(`${file}:3: field event_timestamp: event_timestamp "garbage" is not a valid time`);
      expect(r.err).toContain(`${file}:4: field timestamp: timestamp "10000-01-01T00:00:00+00:00" is not a valid RFC 3339 time`);
      expect(r.err).not.toMatch(/invalid event/);
      expect(r.code).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
