import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../../bridge/cli/main.js';
import { loadConfig } from '../../../../bridge/config.js';
import { ElasticConfig, elasticAuth } from '../../../../bridge/sinks/elastic/config.js';
import { BULK_FILTER_PATH, classifyBulkItem, elasticSinkFactory } from '../../../../bridge/sinks/elastic/index.js';
import { readFixture, readFixtureJson } from '../../../helpers/fixtures.js';
import { FAST, Harness, counts, testAlert, testEvent, until } from '../helpers.js';
import { FLATTENED_IGNORE_ABOVE, ecsMappings, runSetup } from '../../../../bridge/sinks/elastic/setup.js';
import { FakeElastic, applyFilterPath, mappingProblem } from './fake.js';

describe('bulk item classification (fixture bulk_response_mixed)', () => {
  const expected = readFixtureJson<{ outcomes: Array<{ i: number; status: number; outcome: string }> }>('sinks', 'elasticsearch', 'bulk_response_mixed.expected.json');
  for (const o of expected.outcomes) {
    it(`item ${o.i}: ${o.status} → ${o.outcome}`, () => expect(classifyBulkItem(o.status)).toBe(o.outcome));
  }
  it('the filter_path the sink uses keeps one entry per item, in order', () => {
    const full = readFixtureJson<Record<string, unknown>>('sinks', 'elasticsearch', 'bulk_response_mixed.json');
    const filtered = applyFilterPath(full, BULK_FILTER_PATH) as { items: Array<Record<string, { status: number }>> };
    expect(filtered.items.map((i) => Object.values(i)[0]!.status)).toEqual([201, 409, 429, 400, 400, 503, 400, 404]);
    // The tempting `items.*.error` loses positions (spec §2.5): only 7 of 8 items survive.
    expect((applyFilterPath(full, 'items.*.error') as { items: unknown[] }).items).toHaveLength(7);
    const fp = readFixtureJson<{ items: unknown[] }>('sinks', 'elasticsearch', 'bulk_response_filter_path.json');
    expect(fp.items).toHaveLength(3);
  });
});

describe('Elastic sink through SinkRunner + Spool', () => {
  let fake: FakeElastic;
  let h: Harness<ElasticConfig> | undefined;
  afterEach(async () => {
    await h?.stop().catch(() => {});
    h = undefined;
    await fake?.close();
  });
  const setup = async (over: Record<string, unknown> = {}) => {
    fake = await new FakeElastic().start();
    h = new Harness(elasticSinkFactory, { url: fake.url, api_key: fake.apiKey, ...FAST, ...over });
    return h;
  };
  const stream = (name: string) => fake.docs.get(name) ?? new Map();

  it('writes ECS docs with create + _id = mltrail id into the data streams; gzip, NDJSON newline, filter_path; each once', async () => {
    await setup();
    await h!.add([...Array.from({ length: 120 }, (_, i) => testEvent(i)), testAlert(1), testAlert(2)]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    const reqs = fake.bulkRequests();
    expect(reqs.every((r) => r.headers['content-encoding'] === 'gzip' && r.headers['content-type'] === 'application/x-ndjson')).toBe(true);
    expect(reqs.every((r) => r.query.get('filter_path') === BULK_FILTER_PATH && r.body.endsWith('\n'))).toBe(true);
    expect(reqs.every((r) => r.headers.authorization === `ApiKey ${fake.apiKey}`)).toBe(true);
    expect(stream('logs-mltrail.events-default').size).toBe(120);
    expect(stream('logs-mltrail.alerts-default').size).toBe(2);
    expect([...counts(fake.ids()).values()].every((n) => n === 1)).toBe(true);
    const doc = stream('logs-mltrail.events-default').get('evt-0007') as Record<string, any>;
    expect(doc['@timestamp']).toBe(testEvent(7).time);
    expect(doc.data_stream).toEqual({ type: 'logs', dataset: 'mltrail.events', namespace: 'default' });
    expect(doc.mltrail.id).toBe('evt-0007');
    expect(doc.event.kind).toBe('event');
    const alert = stream('logs-mltrail.alerts-default').get('alert-0001') as Record<string, any>;
    expect(alert.event.kind).toBe('alert');
    expect(alert.rule.id).toBe('registry.unapproved_promotion');
    expect(h!.deadLetters()).toEqual([]);
  });

  it('answers the fixture mixed response per item: only 429/5xx items are resent, 409 is delivered, mapping errors dead-lettered with the reason', async () => {
    await setup();
    const mixed = readFixtureJson('sinks', 'elasticsearch', 'bulk_response_mixed.json');
    fake.fault((r) => r.path === '/_bulk', (r) => ({ status: 200, json: applyFilterPath(mixed as Record<string, unknown>, r.query.get('filter_path') ?? '') }), 1);
    const evs = Array.from({ length: 8 }, (_, i) => testEvent(i));
    await h!.add(evs);
    h!.start();
    expect(await h!.drain()).toBe(true);
    const second = fake.bulkRequests()[1]!;
    const ids = second.body.trim().split('\n').filter((_, k) => k % 2 === 0).map((l) => (JSON.parse(l) as { create: { _id: string } }).create._id);
    expect(ids).toEqual(['evt-0002', 'evt-0005']);
    expect(fake.bulkRequests()).toHaveLength(2);
    const dl = h!.deadLetters();
    expect(dl.map((d) => d.record_id).sort()).toEqual(['evt-0003', 'evt-0004', 'evt-0006', 'evt-0007']);
    expect(dl.find((d) => d.record_id === 'evt-0003')!.reason).toMatch(/document_parsing_exception: .*source\.ip/);
    expect(dl.find((d) => d.record_id === 'evt-0007')!.reason).toMatch(/index_not_found_exception/);
  });

  it('a real mapping failure at the cluster is dead-lettered alone; the rest of the batch is indexed', async () => {
    await setup();
    await h!.add([testEvent(1), testEvent(2), testEvent(3)]);
    fake.itemFault = (id) => (id === 'evt-0002' ? { status: 400, error: { type: 'document_parsing_exception', reason: "failed to parse field [source.ip] of type [ip] in document with id 'evt-0002'" } } : undefined);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(fake.ids().sort()).toEqual(['evt-0001', 'evt-0003']);
    expect(h!.deadLetters().map((d) => [d.record_id, d.reason])).toEqual([['evt-0002', expect.stringMatching(/^item 400 document_parsing_exception/)]]);
  });

  it('a document redirected to the failure store counts as stored but degrades health', async () => {
    await setup();
    fake.itemFault = (id) => (id === 'evt-0001' ? { status: 201, failure_store: 'used' } as never : undefined);
    await h!.add([testEvent(0), testEvent(1)]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(h!.deadLetters()).toEqual([]);
    expect(h!.runner.health()).toMatchObject({ state: 'degraded', reason: expect.stringMatching(/failure store/) });
  });

  it('item-level 429 is retried until indexed (never dropped)', async () => {
    await setup();
    fake.itemFault = (id, attempt) => (id === 'evt-0001' && attempt <= 3 ? { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'rejected execution' } } : undefined);
    await h!.add([testEvent(0), testEvent(1), testEvent(2)]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect([...counts(fake.ids()).entries()].sort()).toEqual([['evt-0000', 1], ['evt-0001', 1], ['evt-0002', 1]]);
  });

  it('a lost response is resent and answered 409 → delivered exactly once', async () => {
    await setup();
    fake.loseNextResponse = 1;
    await h!.add(Array.from({ length: 10 }, (_, i) => testEvent(i)));
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(fake.bulkRequests()).toHaveLength(2);
    expect(counts(fake.ids()).size).toBe(10);
    expect([...counts(fake.ids()).values()].every((n) => n === 1)).toBe(true);
    expect(h!.deadLetters()).toEqual([]);
  });

  it('whole-request 429 (fixture bodies) and 503 back off with Retry-After, then deliver', async () => {
    await setup();
    fake.fault((r) => r.path === '/_bulk', { status: 429, json: readFixtureJson('sinks', 'elasticsearch', 'error_429_rejected_execution.json'), headers: { 'retry-after': '0' } }, 1);
    fake.fault((r) => r.path === '/_bulk', { status: 429, json: readFixtureJson('sinks', 'elasticsearch', 'error_429_circuit_breaking.json') }, 1);
    fake.fault((r) => r.path === '/_bulk', { status: 503, json: { error: { type: 'unavailable', reason: 'x' }, status: 503 } }, 1);
    await h!.add([testEvent(1), testEvent(2)]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(fake.bulkRequests()).toHaveLength(4);
    expect(fake.ids().sort()).toEqual(['evt-0001', 'evt-0002']);
  });

  it('401 / 403 make the sink unhealthy and keep the records; a working key then delivers them once', async () => {
    await setup({ api_key: 'wrong' });
    await h!.add([testEvent(1), testEvent(2)]);
    h!.start();
    await until(() => fake.bulkRequests().length >= 2, 5000, 'retries');
    expect(h!.runner.health()).toMatchObject({ state: 'unhealthy', backlog: 2 });
    expect(h!.runner.health().reason).toMatch(/401 security_exception/);
    await h!.stop();
    fake.readOnlyKeys = ['ro-key'];
    h = new Harness(elasticSinkFactory, { url: fake.url, api_key: 'ro-key', ...FAST }, h!.dir);
    h.start();
    await until(() => fake.bulkRequests().length >= 4, 5000, 'retries');
    expect(h.runner.health().reason).toMatch(/403 security_exception/);
    expect(h.deadLetters()).toEqual([]);
    await h.stop();
    h = new Harness(elasticSinkFactory, { url: fake.url, api_key: fake.apiKey, ...FAST }, h.dir);
    h.start();
    expect(await h.drain()).toBe(true);
    expect(fake.ids().sort()).toEqual(['evt-0001', 'evt-0002']);
  });

  it('413 splits; a lone document over the cluster limit is dead-lettered', async () => {
    await setup();
    fake.maxBodyBytes = 8000;
    await h!.add([...Array.from({ length: 6 }, (_, i) => testEvent(i)), testEvent(50, { details: { blob: 'y'.repeat(9000) } })]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(fake.ids().sort()).toEqual(Array.from({ length: 6 }, (_, i) => `evt-000${i}`));
    expect(h!.deadLetters().map((d) => d.record_id)).toEqual(['evt-0050']);
    expect(h!.deadLetters()[0]!.reason).toMatch(/413/);
  });

  it('survives a hang and a restart with every document once', async () => {
    await setup({ request_timeout_ms: 300 });
    fake.fault((r) => r.path === '/_bulk', 'hang', 1);
    await h!.add(Array.from({ length: 5 }, (_, i) => testEvent(i)));
    h!.start();
    await until(() => fake.bulkRequests().length >= 1, 2000, 'request');
    await h!.restart();
    expect(await h!.drain()).toBe(true);
    expect([...counts(fake.ids()).values()]).toEqual([1, 1, 1, 1, 1]);
  });

  // Item permissions, whole-request refusals, odd responses (mutation audit).
  it('an item refused with 403 (key without privilege on one stream) is kept, the sink unhealthy; granted, it is indexed once', async () => {
    await setup();
    let granted = false;
    fake.itemFault = (id) => (id === 'alert-0001' && !granted ? { status: 403, error: { type: 'security_exception', reason: 'action [indices:data/write/bulk[s]] is unauthorized for API key' } } : undefined);
    await h!.add([testEvent(1), testAlert(1)]);
    h!.start();
    await until(() => fake.ids().includes('evt-0001') && h!.runner.health().state === 'unhealthy', 5000, 'unhealthy on the refused item');
    expect(h!.runner.health().reason).toMatch(/403 security_exception/);
    expect(h!.deadLetters()).toEqual([]);
    granted = true;
    expect(await h!.drain()).toBe(true);
    expect([...counts(fake.ids()).entries()].sort()).toEqual([['alert-0001', 1], ['evt-0001', 1]]);
    expect(classifyBulkItem(401)).toBe('fix_config');
  });

  it('a whole _bulk refused with 400: documents are resent one per request, the lone refused one is dead-lettered, the rest indexed', async () => {
    await setup();
    fake.fault((r) => r.path === '/_bulk' && r.body.includes('"_id":"evt-0002"'), { status: 400, json: { error: { type: 'illegal_argument_exception', reason: 'bad document' }, status: 400 } }, Infinity);
    await h!.add(Array.from({ length: 4 }, (_, i) => testEvent(i)));
    h!.start();
    expect(await h!.drain(5000)).toBe(true);
    expect(fake.ids().sort()).toEqual(['evt-0000', 'evt-0001', 'evt-0003']);
    const dl = h!.deadLetters();
    expect(dl.map((d) => d.record_id)).toEqual(['evt-0002']);
    expect(dl[0]!.reason).toMatch(/400 illegal_argument_exception/);
  });

  // A 200 whose items cannot be matched to the documents is not trusted: every document is resent and indexed once, none dead-lettered.
  it.each([
    ['whose items do not line up with the documents', { errors: false, items: [{ create: { status: 201 } }] }],
    ['with an item that has no status', { errors: true, items: [{ create: { status: 201 } }, { create: { error: { type: 'x', reason: 'y' } } }, { create: { status: 201 } }] }],
  ])('a 200 %s is not trusted: every document is resent and indexed once', async (_, json) => {
    await setup();
    fake.fault((r) => r.path === '/_bulk', { status: 200, json }, 1);
    await h!.add(Array.from({ length: 3 }, (_, i) => testEvent(i)));
    h!.start();
    expect(await h!.drain(5000)).toBe(true);
    expect(fake.bulkRequests()).toHaveLength(2);
    expect([...counts(fake.ids()).entries()].sort()).toEqual([['evt-0000', 1], ['evt-0001', 1], ['evt-0002', 1]]);
    expect(h!.deadLetters()).toEqual([]);
  });

  it('a whole-request 429 with Retry-After is resent only after the delay the cluster asked for', async () => {
    await setup();
    let refusedAt = 0;
    fake.fault((r) => r.path === '/_bulk', () => {
      refusedAt = Date.now();
      return { status: 429, json: readFixtureJson('sinks', 'elasticsearch', 'error_429_rejected_execution.json'), headers: { 'retry-after': '1' } };
    }, 1);
    await h!.add([testEvent(1)]);
    h!.start();
    expect(await h!.drain(5000)).toBe(true);
    expect(fake.bulkRequests()).toHaveLength(2);
    expect(Date.now() - refusedAt).toBeGreaterThanOrEqual(900);
  });

  it('the configured ingest pipeline is named on every _bulk request', async () => {
    await setup({ pipeline: 'mltrail-enrich' });
    await h!.add([testEvent(1), testAlert(1)]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(fake.bulkRequests().length).toBeGreaterThan(0);
    expect(fake.bulkRequests().every((r) => r.query.get('pipeline') === 'mltrail-enrich')).toBe(true);
  });

  it('config refuses an API key together with username/password', () => {
    expect(ElasticConfig.safeParse({ url: 'https://es:9200', api_key: 'k', username: 'u', password: 'p' }).success).toBe(false);
    expect(ElasticConfig.safeParse({ url: 'https://es:9200', username: 'u', password: 'p' }).success).toBe(true);
  });
});

describe('Elastic fake (strictness check against the fixtures)', () => {
  it('indexes the fixture data-stream request, refuses it without the final newline, as `index`, or with a wrong key', async () => {
    const fake = await new FakeElastic().start();
    try {
      const ndjson = readFixture('sinks', 'elasticsearch', 'bulk_request_datastream.ndjson').toString();
      const post = (body: string, key = fake.apiKey) =>
        fetch(`${fake.url}/_bulk`, { method: 'POST', headers: { authorization: `ApiKey ${key}`, 'content-type': 'application/x-ndjson' }, body });
      const ok = (await (await post(ndjson)).json()) as { errors: boolean; items: Array<{ create: { status: number } }> };
      expect(ok.errors).toBe(false);
      expect(ok.items.map((i) => i.create.status)).toEqual([201, 201]);
      const again = (await (await post(ndjson)).json()) as { items: Array<{ create: { status: number } }> };
      expect(again.items.map((i) => i.create.status)).toEqual([409, 409]);
      const noNewline = await post(ndjson.trimEnd());
      expect(noNewline.status).toBe(400);
      expect(await noNewline.json()).toEqual(readFixtureJson('sinks', 'elasticsearch', 'error_400_missing_newline.json'));
      const asIndex = (await (await post(ndjson.replaceAll('{"create":', '{"index":'))).json()) as { items: Array<{ index: { error: { reason: string } } }> };
      expect(asIndex.items[0]!.index.error.reason).toMatch(/only write ops with an op_type of create/);
      expect((await post(ndjson, 'wrong')).status).toBe(401);
    } finally {
      await fake.close();
    }
  });
});

describe('setup mappings vs documents', () => {
  it('the fake refuses documents that clash with the installed mappings', () => {
    const m = ecsMappings() as never;
    expect(mappingProblem(m, { '@timestamp': '2026-01-01T00:00:00Z', source: { ip: '10.0.0.1' }, mltrail: { ml: { metrics: { auc: 0.9 } } } })).toBeUndefined();
    expect(mappingProblem(m, { source: { ip: 'sagemaker.amazonaws.com' } })).toMatch(/source\.ip.*\[ip\]/);
    expect(mappingProblem(m, { mltrail: { ml: { job: { image_pinned: 'yes' } } } })).toMatch(/boolean/);
    expect(mappingProblem(m, { mltrail: { ml: { data: { rows: 'many' } } } })).toMatch(/\[long\]/);
    expect(mappingProblem(m, { user: 'alice' })).toMatch(/found a concrete value/);
    expect(mappingProblem(m, { mltrail: { ml: { deployment: { traffic: 50 } } } })).toBeUndefined();
  });
});

describe('mltrail setup elastic', () => {
  it('installs component + index templates with data_stream and creates both streams (idempotent)', async () => {
    const fake = await new FakeElastic().start();
    try {
      let out = '';
      let err = '';
      const io = { stdout: { write: (s: string) => ((out += s), true) }, stderr: { write: (s: string) => ((err += s), true) }, stdin: process.stdin, env: { MLTRAIL_ELASTIC_URL: fake.url, MLTRAIL_ELASTIC_API_KEY: fake.apiKey } } as never;
      expect(await main(['setup', 'elastic'], io)).toBe(0);
      expect(err).toBe('');
      const tpl = fake.templates.get('mltrail')!;
      expect(tpl.data_stream).toEqual({});
      expect(tpl.priority).toBeGreaterThan(100);
      expect(tpl.index_patterns).toEqual(['logs-mltrail.events-*', 'logs-mltrail.alerts-*']);
      const mappings = (fake.componentTemplates.get('mltrail@mappings') as any).template.mappings.properties;
      expect(mappings['@timestamp']).toEqual({ type: 'date' });
      expect(mappings.source.properties.ip).toEqual({ type: 'ip' });
      expect(mappings.event.properties.original).toMatchObject({ index: false, doc_values: false });
      expect(mappings.mltrail.properties.details).toEqual({ type: 'flattened', ignore_above: FLATTENED_IGNORE_ABOVE });
      // event.ingested is stamped by the cluster (final pipeline), before any document arrives.
      expect(fake.pipelines.get('mltrail@final')?.processors).toEqual([expect.objectContaining({ set: expect.objectContaining({ field: 'event.ingested', value: '{{{_ingest.timestamp}}}' }) })]);
      expect((fake.componentTemplates.get('mltrail@settings') as any).template.settings['index.final_pipeline']).toBe('mltrail@final');
      expect([...fake.dataStreams].sort()).toEqual(['logs-mltrail.alerts-default', 'logs-mltrail.events-default']);
      expect(await main(['setup', 'elastic'], io)).toBe(0);
      expect(out).toMatch(/already exists/);
      expect(await main(['setup', 'elastic'], { ...(io as object), env: { MLTRAIL_ELASTIC_URL: fake.url, MLTRAIL_ELASTIC_API_KEY: 'bad' } } as never)).toBe(1);
      expect(err).toMatch(/HTTP 401 security_exception/);
    } finally {
      await fake.close();
    }
  });

  it('a data stream the cluster refuses (a 400 other than "already exists") fails the setup instead of passing as existing', async () => {
    const fake = await new FakeElastic().start();
    try {
      fake.fault((r) => r.method === 'PUT' && r.path === '/_data_stream/logs-mltrail.events-default', { status: 400, json: { error: { type: 'illegal_argument_exception', reason: 'no matching index template found for data stream [logs-mltrail.events-default]' }, status: 400 } }, 1);
      const cfg = ElasticConfig.parse({ url: fake.url, api_key: fake.apiKey });
      await expect(runSetup(cfg, new AbortController().signal)).rejects.toThrow(/_data_stream\/logs-mltrail.events-default: HTTP 400 illegal_argument_exception/);
      expect(fake.dataStreams.has('logs-mltrail.events-default')).toBe(false);
    } finally {
      await fake.close();
    }
  });

  it('--dry-run prints the requests; no elastic sink → a config error naming the variable', async () => {
    let out = '';
    let err = '';
    const io = (env: Record<string, string>) => ({ stdout: { write: (s: string) => ((out += s), true) }, stderr: { write: (s: string) => ((err += s), true) }, stdin: process.stdin, env }) as never;
    expect(await main(['setup', 'elastic', '--dry-run'], io({ MLTRAIL_ELASTIC_URL: 'https://es:9200', MLTRAIL_ELASTIC_API_KEY: 'k' }))).toBe(0);
    expect(out).toMatch(/PUT \/_index_template\/mltrail/);
    expect(await main(['setup', 'elastic'], io({}))).toBe(2);
    expect(err).toMatch(/MLTRAIL_ELASTIC_URL/);
  });
});

describe('Elastic config', () => {
  it('MLTRAIL_ELASTIC_URL + MLTRAIL_ELASTIC_API_KEY enable it; missing credentials are named', () => {
    const cfg = loadConfig({ env: { MLTRAIL_ELASTIC_URL: 'https://es:9200', MLTRAIL_ELASTIC_API_KEY: 'k' } });
    expect(cfg.sinks.find((s) => s.type === 'elastic')?.config).toMatchObject({ url: 'https://es:9200', api_key: 'k' });
    expect(() => loadConfig({ env: { MLTRAIL_ELASTIC_URL: 'https://es:9200' } })).toThrow(/MLTRAIL_ELASTIC_API_KEY/);
    expect(ElasticConfig.safeParse({ url: 'https://es:9200', username: 'u', password: 'p' }).success).toBe(true);
    expect(elasticAuth(ElasticConfig.parse({ url: 'https://es:9200', username: 'u', password: 'p' }))).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    expect(elasticAuth(ElasticConfig.parse({ url: 'https://es:9200', api_key: 'id1:secret' }))).toBe(`ApiKey ${Buffer.from('id1:secret').toString('base64')}`);
    expect(elasticAuth(ElasticConfig.parse({ url: 'https://es:9200', api_key: 'aWQxOnNlY3JldA==' }))).toBe('ApiKey aWQxOnNlY3JldA==');
    expect(ElasticConfig.safeParse({ url: 'https://es:9200', api_key: 'k', data_stream: { namespace: 'Prod-1' } }).success).toBe(false);
  });
});

