import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { normalizeInput } from '../../../bridge/normalize.js';
import { connectorByName } from '../../../connectors/index.js';
import { NormalizedEvent, checkEvent } from '../../../core/schema/index.js';
import { generateWorkload } from '../../bench/workload.js';
import { FIXTURES, readFixture } from '../../helpers/fixtures.js';

/**
 * `checkEvent` (compiled JSON Schema, zod only for what it refuses) must give
 * exactly zod's verdict and output: the ingest path relies on it instead of
 * `NormalizedEvent.safeParse`.
 */
function expectSameAsZod(e: unknown): boolean {
  const fast = checkEvent(structuredClone(e));
  const zod = NormalizedEvent.safeParse(structuredClone(e));
  expect(fast.success).toBe(zod.success);
  if (fast.success && zod.success) expect(JSON.parse(JSON.stringify(fast.data))).toEqual(JSON.parse(JSON.stringify(zod.data)));
  return zod.success;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return filesUnder(p);
    return n === 'SOURCES.md' || n.startsWith('.') ? [] : [p];
  });
}

/** Connector output before validation: the generated bench workload through each connector's normalize. */
function connectorEvents(n: number): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const w of generateWorkload(n, 7, 1)) {
    const plugin = connectorByName(w.platform)!;
    const ctx = { channel: `test.${w.platform}`, receivedTime: '2026-11-25T12:00:00.000Z', keepRaw: true, config: plugin.configSchema.parse({}) };
    out.push(...(plugin.normalize!(w.record, ctx as never).events as Array<Record<string, unknown>>));
  }
  return out;
}

const base = (): Record<string, unknown> => ({
  schema_version: '1',
  id: 'ev-1',
  time: '2026-11-25T12:00:00Z',
  received_time: '2026-11-25T12:00:01.123Z',
  platform: 'mlflow',
  channel: 'mlflow.webhook',
  stage: 'registry',
  action: 'model_version.create',
  operation: 'model_version.created',
  outcome: 'success',
  actor: { id: 'alice', type: 'user' },
  ml: { model: { name: 'm', version: '1', extra_fact: 1 }, metrics: { auc: 0.9 } },
  details: { any: { nested: [1, 'x'] } },
  raw: { anything: true },
});

/** Each mutation of a valid event, and whether zod accepts the result. */
const MUTATIONS: Array<[string, (e: Record<string, unknown>) => void, boolean]> = [
  ['unchanged', () => {}, true],
  ['missing required id', (e) => delete e.id, false],
  ['empty id', (e) => (e.id = ''), false],
  ['id of 256 UTF-16 units', (e) => (e.id = 'x'.repeat(256)), true],
  ['id of 257 UTF-16 units', (e) => (e.id = 'x'.repeat(257)), false],
  ['id of 256 astral characters (code points count, as in zod)', (e) => (e.id = '😀'.repeat(256)), true],
  ['id of 257 astral characters', (e) => (e.id = '😀'.repeat(257)), false],
  ['unknown action', (e) => (e.action = 'model.frobnicate'), false],
  ['unknown top-level key', (e) => (e.extra = 1), false],
  ['unknown actor key (zod strips it)', (e) => ((e.actor as Record<string, unknown>).shoe_size = 9), true],
  ['actor without type (zod fills the default)', (e) => delete (e.actor as Record<string, unknown>).type, true],
  ['bad actor type', (e) => ((e.actor as Record<string, unknown>).type = 'robot'), false],
  ['NaN metric', (e) => (((e.ml as Record<string, Record<string, unknown>>).metrics!).auc = Number.NaN), false],
  ['infinite metric', (e) => (((e.ml as Record<string, Record<string, unknown>>).metrics!).auc = Number.POSITIVE_INFINITY), false],
  ['time without zone', (e) => (e.time = '2026-11-25T12:00:00'), false],
  ['time with offset', (e) => (e.time = '2026-11-25T12:00:00+02:00'), true],
  ['not a date', (e) => (e.time = '2026-02-30T12:00:00Z'), false],
  ['schema_version 2', (e) => (e.schema_version = '2'), false],
  ['optional field explicitly undefined', (e) => (e.service = undefined), true],
  ['ml.job.vpc as boolean', (e) => ((e.ml as Record<string, unknown>).job = { vpc: true }), true],
  ['ml.job.vpc as number', (e) => ((e.ml as Record<string, unknown>).job = { vpc: 3 }), false],
  ['cloud with unknown provider', (e) => (e.cloud = { provider: 'moon' }), false],
  ['error with unknown key (zod strips it)', (e) => (e.error = { code: 'X', message: 'm', stack: 's' }), true],
  ['details not an object', (e) => (e.details = [1, 2]), false],
];

describe('checkEvent: the ingest fast path gives zod’s verdict and output', () => {
  it.each(MUTATIONS)('%s', (_name, mutate, valid) => {
    const e = base();
    mutate(e);
    expect(expectSameAsZod(e)).toBe(valid);
  });

  it.each([null, 'text', 42, [], [base()]])('refuses %j as zod does', (v) => {
    expect(expectSameAsZod(v)).toBe(false);
  });

  it('returns the valid input itself (no copy) and lets zod fill defaults otherwise', () => {
    const e = base();
    expect(checkEvent(e)).toEqual({ success: true, data: e });
    expect((checkEvent(e) as { data: unknown }).data).toBe(e);
    const noType = base();
    delete (noType.actor as Record<string, unknown>).type;
    const v = checkEvent(noType);
    expect(v.success && v.data.actor?.type).toBe('unknown');
  });

  it('agrees with zod on every connector event of a generated workload, as is and mutated', () => {
    const events = connectorEvents(400);
    expect(events.length).toBeGreaterThan(300);
    for (const e of events) {
      expect(expectSameAsZod(e)).toBe(true);
      for (const [, mutate] of MUTATIONS) {
        const m = structuredClone(e);
        if (!m.actor) m.actor = { id: 'x', type: 'user' };
        if (!m.ml) m.ml = { metrics: { auc: 1 } };
        if (!(m.ml as Record<string, unknown>).metrics) (m.ml as Record<string, unknown>).metrics = { auc: 1 };
        mutate(m);
        expectSameAsZod(m);
      }
    }
  });

  it('agrees with zod on every event of every platform fixture', () => {
    const cfg = loadConfig({ env: {} });
    const files = ['mlflow', 'sagemaker', 'vertex', 'kubeflow'].flatMap((d) => filesUnder(join(FIXTURES, d))).map((p) => relative(FIXTURES, p));
    let n = 0;
    for (const file of files) {
      for (const ev of normalizeInput(readFixture(file), file, 'auto', cfg, '2026-11-25T12:00:00.000Z').events) {
        n++;
        expect(expectSameAsZod(ev)).toBe(true);
      }
    }
    expect(n).toBeGreaterThan(40);
  });
});
