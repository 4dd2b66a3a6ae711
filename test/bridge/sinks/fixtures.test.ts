import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../bridge/config.js';
import { normalizeInput } from '../../../bridge/normalize.js';
import { chronicleSinkFactory } from '../../../bridge/sinks/chronicle/index.js';
import { ElasticConfig } from '../../../bridge/sinks/elastic/config.js';
import { elasticSinkFactory } from '../../../bridge/sinks/elastic/index.js';
import { runSetup } from '../../../bridge/sinks/elastic/setup.js';
import { splunkHecSinkFactory } from '../../../bridge/sinks/splunk_hec/index.js';
import { SinkRunner } from '../../../core/delivery/runner.js';
import { outputSchemas } from '../../../core/formats/validate.js';
import { silentLogger } from '../../../core/log.js';
import { describeZodError, type Alert, type NormalizedEvent } from '../../../core/schema/index.js';
import type { SinkFactory } from '../../../core/sink.js';
import { Spool } from '../../../core/spool/index.js';
import { FIXTURES, readFixture } from '../../helpers/fixtures.js';
import { FakeChronicle } from './chronicle/fake.js';
import { FakeElastic } from './elastic/fake.js';
import { FAST, counts, items, testAlert, tmpDir } from './helpers.js';
import { FakeHec } from './splunk_hec/fake.js';

/**
 * Every platform fixture, normalized by the real connectors, spooled once and
 * delivered by three sinks at the same time (each on its own cursor) to their
 * strict fakes; every payload that arrives is checked against the output
 * schema's validator, and every id arrives exactly once at each SIEM.
 */

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return filesUnder(p);
    return n === 'SOURCES.md' || n.startsWith('.') ? [] : [p];
  });
}

const check = (schema: { safeParse(v: unknown): { success: boolean; error?: unknown } }, v: unknown, what: string) => {
  const r = schema.safeParse(v);
  if (!r.success) throw new Error(`${what}: ${describeZodError(r.error as never)}`);
};

describe('platform fixtures → HEC (CIM), Elastic (ECS), Chronicle (UDM) at once', () => {
  const records: Array<NormalizedEvent | Alert> = [];
  const hec = new FakeHec();
  const es = new FakeElastic();
  const chr = new FakeChronicle();
  let spool: Spool;
  const runners: SinkRunner[] = [];

  beforeAll(async () => {
    const cfg = loadConfig({ env: {} });
    const files = ['mlflow', 'sagemaker', 'vertex', 'kubeflow'].flatMap((d) => filesUnder(join(FIXTURES, d)));
    const seen = new Set<string>();
    for (const f of files) {
      for (const ev of normalizeInput(readFixture(relative(FIXTURES, f)), f, 'auto', cfg, '2026-11-25T12:00:00.000Z').events) {
        if (!seen.has(ev.id)) records.push(ev);
        seen.add(ev.id);
      }
    }
    records.push(testAlert(1), testAlert(2, { severity: 'critical' }), testAlert(3, { mode: 'observe', severity: 'low' }));
    await Promise.all([hec.start(), es.start(), chr.start()]);
    hec.useAck = true;
    // The Elastic fake then checks every document against the installed mappings (no type clash).
    await runSetup(ElasticConfig.parse({ url: es.url, api_key: es.apiKey }), AbortSignal.timeout(10_000));
    spool = Spool.open({ dir: tmpDir(), synchronous: 'NORMAL' });
    await spool.append(items(records));
    const sinks: Array<[SinkFactory<any>, Record<string, unknown>]> = [
      [splunkHecSinkFactory, { url: hec.url, token: hec.token, index: 'mltrail', ack: { poll_interval_ms: 20, timeout_ms: 1500 }, route: { observe_alerts: true } }],
      [elasticSinkFactory, { url: es.url, api_key: es.apiKey, route: { observe_alerts: true } }],
      [chronicleSinkFactory, { url: chr.url, access_token: 'ya29.test-token', instance: chr.instance, route: { observe_alerts: true } }],
    ];
    for (const [factory, raw] of sinks) {
      const c = factory.configSchema.parse({ ...FAST, batch: { max_events: 100, max_bytes: 1_000_000, timeout_ms: 0 }, ...raw });
      const sink = factory.create(c, { name: factory.type, logger: silentLogger(), dataDir: '', spool, env: {} });
      const r = new SinkRunner(spool, sink, c, silentLogger());
      runners.push(r);
      r.start();
    }
    for (const r of runners) expect(await r.drain(20_000)).toBe(true);
  }, 60_000);

  afterAll(async () => {
    for (const r of runners) await r.stop();
    spool?.close();
    await Promise.all([hec.close(), es.close(), chr.close()]);
  });

  it('has fixture events from several platforms', () => {
    const platforms = new Set(records.filter((r): r is NormalizedEvent => 'platform' in r).map((r) => r.platform));
    expect(records.length).toBeGreaterThan(40);
    console.log(`[sinks] ${records.length} records (${platforms.size} platforms) through 3 sinks`);
    expect(platforms.size).toBeGreaterThanOrEqual(3);
  });

  const wanted = () => records.map((r) => r.id).sort();
  const once = (ids: string[]) => {
    const c = counts(ids);
    expect([...c.keys()].sort()).toEqual(wanted());
    expect([...c.values()].every((n) => n === 1)).toBe(true);
  };

  it('Splunk got every record once, as valid CIM HEC envelopes with fields.mltrail_id', () => {
    once(hec.ids());
    for (const x of hec.indexed) {
      const isAlert = x.envelope.sourcetype === 'mltrail:alert';
      check(isAlert ? outputSchemas.cim.alert : outputSchemas.cim.event, x.envelope, `HEC ${x.id}`);
    }
  });

  it('Elastic got every record once, as valid ECS documents with _id = mltrail id, fitting the setup mappings', () => {
    expect(es.templates.has('mltrail')).toBe(true);
    once(es.ids());
    for (const [stream, docs] of es.docs) {
      for (const [id, doc] of docs) {
        const { data_stream, ...ecs } = doc;
        expect(data_stream).toMatchObject({ dataset: stream.split('-')[1] });
        check(outputSchemas.ecs.event, ecs, `ECS ${id}`);
        expect((ecs.mltrail as { id: string }).id).toBe(id);
      }
    }
    expect(spool.listDeadLetters()).toEqual([]);
  });

  it('Chronicle got every record once, as valid UDM with metadata.product_log_id = mltrail id', () => {
    once(chr.ids());
    for (const x of chr.ingested) check(outputSchemas.udm.event, x.value, `UDM ${x.id}`);
  });
});
