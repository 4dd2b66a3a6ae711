import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../../bridge/cli/main.js';
import { loadConfig } from '../../../../bridge/config.js';
import { normalizeInput } from '../../../../bridge/normalize.js';
import { ElasticConfig } from '../../../../bridge/sinks/elastic/config.js';
import { MAX_ID_BYTES, elasticDocId, elasticSinkFactory } from '../../../../bridge/sinks/elastic/index.js';
import { ecsMappings, runSetup } from '../../../../bridge/sinks/elastic/setup.js';
import type { NormalizedEvent } from '../../../../core/schema/index.js';
import { readFixture } from '../../../helpers/fixtures.js';
import { FAST, Harness, counts, testAlert, testEvent } from '../helpers.js';
import { FakeElastic } from './fake.js';

/**
 * What `mltrail setup elastic` installs must keep taking the documents the
 * connectors really produce: the sink runs against the strict fake after
 * setup, whose backing-index mapping grows the way Elasticsearch's does
 * (dotted keys, dynamic templates, first-wins types, field limit, term limit).
 */

const cfg = loadConfig({ env: {} });
const RECEIVED = '2026-11-25T12:00:00.000Z';

/** The events a platform fixture normalizes to, through the real connectors. */
function fixtureEvents(file: string): NormalizedEvent[] {
  const r = normalizeInput(readFixture(file), file, 'auto', cfg, RECEIVED);
  expect(r.events.length).toBeGreaterThan(0);
  return r.events;
}

describe('Elastic mappings vs the documents mltrail sends', () => {
  let fake: FakeElastic;
  let h: Harness<ElasticConfig> | undefined;
  afterEach(async () => {
    await h?.stop().catch(() => {});
    h = undefined;
    await fake?.close();
  });
  /** Fake cluster, `mltrail setup elastic` against it, then the sink. */
  const setup = async (over: Record<string, unknown> = {}) => {
    fake = await new FakeElastic().start();
    const raw = { url: fake.url, api_key: fake.apiKey, ...FAST, ...over };
    await runSetup(ElasticConfig.parse(raw), AbortSignal.timeout(5000));
    h = new Harness(elasticSinkFactory, raw);
    return h;
  };
  const stream = (name = 'logs-mltrail.events-default') => fake.docs.get(name) ?? new Map<string, Record<string, any>>();
  const deadLetters = () => h!.deadLetters().map((d) => `${d.record_id}: ${d.reason}`);

  it('metric names with dots (Vertex skew.age) and shared prefixes (loss, loss.val) are indexed as leaf fields', async () => {
    await setup();
    const [vertex] = fixtureEvents('vertex/vertex-model-monitoring-anomaly-doc-example.json');
    expect(vertex!.ml?.metrics).toEqual({ 'skew.age': 0.9, 'skew.education': 0.6 });
    const loss = testEvent(1, { ml: { metrics: { loss: 0.5 } } });
    const lossVal = testEvent(2, { ml: { metrics: { 'loss.val': 0.25, 'loss.train': 1 } } });
    await h!.add([vertex!, loss, lossVal]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(deadLetters()).toEqual([]);
    expect(stream().size).toBe(3);
    const m = fake.mappings.get('logs-mltrail.events-default')!;
    expect(m.at('mltrail.ml.metrics.skew.age')?.type).toBe('double');
    expect(m.at('mltrail.ml.metrics.loss')?.type).toBe('double');
    expect(m.at('mltrail.ml.metrics.loss.val')?.type).toBe('double');
    // An integer-valued metric is a double too, not a first-wins long.
    expect(m.at('mltrail.ml.metrics.loss.train')?.type).toBe('double');
  });

  it('wide monitoring events past the field limit are still indexed (new fields beyond it stay in _source)', async () => {
    await setup();
    // 10 events × 300 distinct feature metrics: 3000 new fields against a limit of 2000.
    const wide = Array.from({ length: 10 }, (_, e) =>
      testEvent(e, { ml: { metrics: Object.fromEntries(Array.from({ length: 300 }, (_, f) => [`drift.feature_${e}_${f}`, f / 300])) } }),
    );
    await h!.add([...wide, testEvent(99)]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(deadLetters()).toEqual([]);
    expect(stream().size).toBe(11);
  });

  it('a 44 KB KFP run parameter and long free-form details do not refuse the document (flattened ignore_above)', async () => {
    await setup();
    const [run] = fixtureEvents('kubeflow/kfp-rest/run_completed.json');
    const sql = `SELECT ${Array.from({ length: 4000 }, (_, i) => `col_${i}`).join(', ')} FROM features WHERE ds = '2026-11-25'`;
    expect(Buffer.byteLength(sql)).toBeGreaterThan(32766);
    const big: NormalizedEvent = { ...run!, id: 'kfp-bigparam', ml: { ...run!.ml, job: { ...run!.ml?.job, params: { ...run!.ml?.job?.params, query: sql } } } };
    // 11,000 three-byte characters: 33,000 bytes, over Lucene's term limit.
    const details = testEvent(3, { details: { note: '€'.repeat(11_000), nested: { sql } } });
    await h!.add([big, details, testAlert(4, { details: { sql } })]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(deadLetters()).toEqual([]);
    expect(stream().get('kfp-bigparam')?.mltrail.ml.job.params.query).toBe(sql);
  });

  it('event.dataset follows the configured data stream dataset (events and alerts)', async () => {
    await setup({ data_stream: { events_dataset: 'ml.audit', alerts_dataset: 'ml.findings', namespace: 'prod' } });
    await h!.add([testEvent(1), testAlert(2)]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    const ev = stream('logs-ml.audit-prod').get('evt-0001')!;
    expect(ev.data_stream).toEqual({ type: 'logs', dataset: 'ml.audit', namespace: 'prod' });
    expect(ev.event.dataset).toBe('ml.audit');
    const al = stream('logs-ml.findings-prod').get('alert-0002')!;
    expect(al.event.dataset).toBe('ml.findings');
    expect(al.data_stream.dataset).toBe('ml.findings');
  });

  it('documents get event.ingested from the final pipeline setup installs (Elastic Security rules search on it, not on the event time)', async () => {
    // External Alerts (elastic/detection-rules rules/promotions/external_alerts.toml): interval 1m, from now-2m,
    // timestamp_override event.ingested, falling back to @timestamp when the field is missing. An alert's
    // @timestamp is the time of the event that triggered it (CloudTrail via S3: minutes late; replay/backfill:
    // days): without event.ingested it is never inside the rule's window and never becomes an Elastic alert.
    await setup();
    const before = Date.now();
    const late = testAlert(1, { time: '2026-11-01T00:00:00.000Z' });
    await h!.add([testEvent(1), late]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(deadLetters()).toEqual([]);
    const settings = fake.settingsOf('logs-mltrail.alerts-default');
    expect(settings['index.final_pipeline']).toBe('mltrail@final');
    for (const doc of [stream().get('evt-0001')!, stream('logs-mltrail.alerts-default').get('alert-0001')!]) {
      expect(typeof doc.event.ingested).toBe('string');
      expect(Date.parse(doc.event.ingested)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(doc.event.ingested)).toBeGreaterThan(Date.parse(doc['@timestamp']));
    }
    expect(fake.mappings.get('logs-mltrail.alerts-default')!.at('event.ingested')?.type).toBe('date');
  });

  it('SageMaker variant weights keep their fractions whichever weight comes first', async () => {
    await setup();
    const [ep] = fixtureEvents('sagemaker/eventbridge-sagemaker-endpoint-state-change.awsdocs.json');
    const variants = ep!.ml?.deployment?.variants as Array<{ weight: number }>;
    expect(variants[0]!.weight).toBe(1);
    const split: NormalizedEvent = { ...ep!, id: 'ep-split', ml: { deployment: { ...ep!.ml!.deployment, variants: [{ ...variants[0]!, weight: 0.9 }, { weight: 0.1, instance_count: 2 }] } } };
    await h!.add([ep!, split]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(deadLetters()).toEqual([]);
    const m = fake.mappings.get('logs-mltrail.events-default')!;
    expect(m.at('mltrail.ml.deployment.variants.weight')?.type).toBe('double');
    expect(m.at('mltrail.ml.deployment.variants.instance_count')?.type).toBe('long');
    expect(m.truncated).toEqual([]);
  });

  it('an id over 512 bytes is sent with a stable derived _id; the document keeps the real id; a resend is a 409', async () => {
    await setup();
    const longId = '€'.repeat(256); // the longest /v1/events id: 768 UTF-8 bytes
    const ev = testEvent(1, { id: longId });
    await h!.add([ev, testEvent(2)]);
    fake.loseNextResponse = 1; // indexed, answer lost: the resend must hit the same _id (409 = delivered)
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(deadLetters()).toEqual([]);
    const derived = elasticDocId(longId);
    expect(Buffer.byteLength(derived)).toBeLessThanOrEqual(MAX_ID_BYTES);
    expect(derived).toBe(elasticDocId(longId));
    expect(stream().get(derived)?.mltrail.id).toBe(longId);
    expect(elasticDocId('evt-0002')).toBe('evt-0002');
    const exact = 'a'.repeat(MAX_ID_BYTES);
    expect(elasticDocId(exact)).toBe(exact);
    expect(counts(fake.ids()).get(derived)).toBe(1);
    expect(fake.bulkRequests().length).toBeGreaterThanOrEqual(2);
  });

  it('after an upgrade, setup --rollover puts the new mappings in force (a backing index keeps its own)', async () => {
    await setup();
    // The mappings an earlier mltrail installed: a metrics template that also matched objects.
    const old = structuredClone(ecsMappings()) as any;
    old.dynamic_templates = [{ mltrail_metrics: { path_match: 'mltrail.ml.metrics.*', mapping: { type: 'double' } } }, ...old.dynamic_templates.slice(2)];
    old.properties.mltrail.properties.ml.properties.metrics = { type: 'object' };
    fake.componentTemplates.set('mltrail@mappings', { template: { mappings: old } });
    const [vertex] = fixtureEvents('vertex/vertex-model-monitoring-anomaly-doc-example.json');
    const anomaly = (id: string): NormalizedEvent => ({ ...vertex!, id });
    await h!.add([anomaly('v1')]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(h!.deadLetters().map((d) => d.record_id)).toEqual(['v1']);

    let out = '';
    const io = { stdout: { write: (s: string) => ((out += s), true) }, stderr: { write: () => true }, stdin: process.stdin, env: { MLTRAIL_ELASTIC_URL: fake.url, MLTRAIL_ELASTIC_API_KEY: fake.apiKey } } as never;
    expect(await main(['setup', 'elastic'], io)).toBe(0);
    expect(out).toMatch(/already exists \(changed mappings apply from its next rollover: --rollover\)/);
    await h!.add([anomaly('v2')]);
    expect(await h!.drain()).toBe(true);
    expect(h!.deadLetters().map((d) => d.record_id).sort()).toEqual(['v1', 'v2']); // still the old backing index

    expect(await main(['setup', 'elastic', '--rollover'], io)).toBe(0);
    expect(out).toMatch(/POST \/logs-mltrail\.events-default\/_rollover: 200 ok/);
    await h!.add([anomaly('v3')]);
    expect(await h!.drain()).toBe(true);
    expect(stream().has('v3')).toBe(true);
    expect(h!.deadLetters().map((d) => d.record_id).sort()).toEqual(['v1', 'v2']);
  });
});
