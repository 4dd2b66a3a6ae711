import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../bridge/config.js';
import { chronicleTokenSource } from '../../../../bridge/sinks/chronicle/auth.js';
import { ChronicleConfig, chronicleBase } from '../../../../bridge/sinks/chronicle/config.js';
import { chronicleSinkFactory, classifyChronicle, type ChronicleClass } from '../../../../bridge/sinks/chronicle/index.js';
import { readFixtureJson } from '../../../helpers/fixtures.js';
import { FAST, Harness, counts, testAlert, testEvent, tmpDir, until } from '../helpers.js';
import { FakeChronicle, udmProblem } from './fake.js';

const FIXTURE_CLASS: Record<string, ChronicleClass> = {
  drop_batch_or_split: 'bad_request',
  split: 'split',
  refresh_token_then_retry_once: 'refresh',
  fix_config: 'fix_config',
  retry_backoff: 'retry',
};

describe('Chronicle error classification (fixture errors.json)', () => {
  const { cases } = readFixtureJson<{ cases: Array<{ name: string; http_status: number; body: { error: { message: string } }; class: string }> }>('sinks', 'chronicle', 'errors.json');
  for (const c of cases) {
    it(`${c.name} → ${c.class}`, () => expect(classifyChronicle(c.http_status, c.body.error.message)).toBe(FIXTURE_CLASS[c.class]));
  }
});

describe('Chronicle fake (strictness check against the fixtures)', () => {
  it('accepts the fixture UDM events and refuses one missing required fields', () => {
    for (const e of readFixtureJson<{ events: Array<Record<string, unknown>> }>('sinks', 'chronicle', 'legacy_udm_request.json').events) expect(udmProblem(e)).toBeUndefined();
    const imp = readFixtureJson<{ inline_source: { events: Array<{ udm: Record<string, unknown> }> } }>('sinks', 'chronicle', 'import_events_request.json');
    expect(udmProblem(imp.inline_source.events[0]!.udm)).toBeUndefined();
    expect(udmProblem({ metadata: { event_timestamp: '2024-06-10T06:13:20Z', event_type: 'USER_RESOURCE_ACCESS' }, principal: { user: { userid: 'a' } } })).toMatch(/target.resource/);
    expect(udmProblem({ metadata: { event_type: 'GENERIC_EVENT' } })).toMatch(/event_timestamp/);
  });

  it('takes the fixture request bodies on their endpoints and refuses bad ones with Google error JSON', async () => {
    const fake = await new FakeChronicle().start();
    fake.logTypes.add('GITHUB');
    const post = (path: string, body: unknown, token = 'ya29.test-token') =>
      fetch(fake.url + path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    try {
      const strip = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith('_')));
      expect((await post('/v2/udmevents:batchCreate', readFixtureJson('sinks', 'chronicle', 'legacy_udm_request.json'))).status).toBe(200);
      expect((await post(`/v1alpha/${fake.instance}/events:import`, strip(readFixtureJson('sinks', 'chronicle', 'import_events_request.json')))).status).toBe(200);
      expect((await post(`/v1alpha/${fake.instance}/logTypes/GITHUB/logs:import`, strip(readFixtureJson('sinks', 'chronicle', 'import_logs_request.json')))).status).toBe(200);
      const bad = await post(`/v1alpha/${fake.instance}/events:import`, { inline_source: { events: [{ udm: { metadata: { event_timestamp: '2024-06-10T06:13:20Z', event_type: 'USER_RESOURCE_ACCESS' } } }] } });
      expect(await bad.json()).toEqual({ error: { code: 400, status: 'INVALID_ARGUMENT', message: expect.stringMatching(/principal.user and target.resource/) } });
      const unauth = await post('/v2/udmevents:batchCreate', {}, 'nope');
      expect(await unauth.json()).toEqual(readFixtureJson<{ cases: Array<{ name: string; body: unknown }> }>('sinks', 'chronicle', 'errors.json').cases.find((c) => c.name === 'unauthenticated')!.body);
    } finally {
      await fake.close();
    }
  });
});

describe('Chronicle endpoints, scopes and auth', () => {
  it('picks regional hosts per API', () => {
    expect(chronicleBase({ api: 'legacy' })).toBe('https://malachiteingestion-pa.googleapis.com');
    expect(chronicleBase({ api: 'legacy', region: 'eu' })).toBe('https://europe-malachiteingestion-pa.googleapis.com');
    expect(chronicleBase({ api: 'legacy', region: 'europe-west2' })).toBe('https://europe-west2-malachiteingestion-pa.googleapis.com');
    expect(chronicleBase({ api: 'v1alpha', instance: 'projects/p/locations/europe/instances/i' })).toBe('https://europe-chronicle.googleapis.com');
    expect(chronicleBase({ api: 'v1alpha', instance: 'projects/p/locations/us/instances/i' })).toBe('https://us-chronicle.googleapis.com');
    expect(chronicleBase({ api: 'v1alpha', url: 'http://127.0.0.1:9/' })).toBe('http://127.0.0.1:9');
  });
  it('uses google-auth-library with the scope of each API for a service-account file', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const file = join(tmpDir(), 'sa.json');
    writeFileSync(file, JSON.stringify({ type: 'service_account', project_id: 'p', private_key_id: 'k', private_key: privateKey, client_email: 'ingest@p.iam.gserviceaccount.com', client_id: '1', token_uri: 'https://oauth2.googleapis.com/token' }));
    const legacy = chronicleTokenSource({ credentials: file, api: 'legacy' });
    expect(legacy).toMatchObject({ kind: 'service_account', scopes: ['https://www.googleapis.com/auth/malachite-ingestion'] });
    expect(chronicleTokenSource({ credentials: file, api: 'v1alpha' }).scopes).toEqual(['https://www.googleapis.com/auth/cloud-platform']);
    expect(chronicleTokenSource({ access_token: 't', api: 'v1alpha' }).kind).toBe('static');
    expect(() => chronicleTokenSource({ credentials: join(tmpDir(), 'missing.json'), api: 'v1alpha' })).toThrow(/credentials: cannot read/);
    const notSa = join(tmpDir(), 'user.json');
    writeFileSync(notSa, JSON.stringify({ type: 'authorized_user', client_id: 'x' }));
    expect(() => chronicleTokenSource({ credentials: notSa, api: 'v1alpha' })).toThrow(/not a service-account key/);
  });
  it('a credentials file that cannot be used is a config error naming the key path (check-config and start), and the variable only when it set it', () => {
    const instance = 'projects/p/locations/us/instances/i';
    const missing = join(tmpDir(), 'missing-sa.json');
    const fromFile = () => loadConfig({ env: {}, overrides: { sinks: { soc_chronicle: { type: 'chronicle', instance, credentials: missing } } } });
    expect(fromFile).toThrow(/sinks\.soc_chronicle\.credentials: cannot read the service-account key .*ENOENT/);
    expect(fromFile).not.toThrow(/MLTRAIL_CHRONICLE_CREDENTIALS/);
    const notSa = join(tmpDir(), 'user.json');
    writeFileSync(notSa, JSON.stringify({ type: 'authorized_user', client_id: 'x' }));
    expect(() => loadConfig({ env: { MLTRAIL_CHRONICLE_CREDENTIALS: notSa, MLTRAIL_CHRONICLE_INSTANCE: instance } })).toThrow(/sinks\.chronicle\.credentials: .* is not a service-account key .*\(from environment variable MLTRAIL_CHRONICLE_CREDENTIALS\)/);
  });
  it('a key put where its file belongs (MLTRAIL_CHRONICLE_CREDENTIALS=\'{…}\') is refused without printing the private key', () => {
    const instance = 'projects/p/locations/us/instances/i';
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const inline = JSON.stringify({ type: 'service_account', client_email: 'sa@p.iam.gserviceaccount.com', private_key: privateKey });
    const secret = privateKey.split('\n')[1]!;
    let message = '';
    try {
      loadConfig({ env: { MLTRAIL_CHRONICLE_CREDENTIALS: inline, MLTRAIL_CHRONICLE_INSTANCE: instance } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/sinks\.chronicle\.credentials: cannot read the service-account key the value given \(.* not shown.*\(from environment variable MLTRAIL_CHRONICLE_CREDENTIALS\)/);
    expect(message).not.toContain(secret);
    // A key file that is not JSON is named, its text (JSON.parse quotes it) is not.
    const broken = join(tmpDir(), 'broken-sa.json');
    writeFileSync(broken, inline.replace('"private_key"', 'private_key'));
    expect(() => loadConfig({ env: { MLTRAIL_CHRONICLE_CREDENTIALS: broken, MLTRAIL_CHRONICLE_INSTANCE: instance } })).toThrow(/broken-sa\.json is not JSON/);
  });

  it('env enables it; each API names what it is missing', () => {
    const env = { MLTRAIL_CHRONICLE_ACCESS_TOKEN: 't', MLTRAIL_CHRONICLE_INSTANCE: 'projects/p/locations/us/instances/i' };
    expect(loadConfig({ env }).sinks.find((s) => s.type === 'chronicle')?.config).toMatchObject({ api: 'v1alpha', mode: 'udm', access_token: 't' });
    expect(() => loadConfig({ env: { MLTRAIL_CHRONICLE_ACCESS_TOKEN: 't' } })).toThrow(/MLTRAIL_CHRONICLE_INSTANCE/);
    expect(() => loadConfig({ env: { MLTRAIL_CHRONICLE_ACCESS_TOKEN: 't', MLTRAIL_CHRONICLE_API: 'legacy' } })).toThrow(/MLTRAIL_CHRONICLE_CUSTOMER_ID/);
    expect(ChronicleConfig.safeParse({ instance: env.MLTRAIL_CHRONICLE_INSTANCE }).error?.message).toMatch(/MLTRAIL_CHRONICLE_CREDENTIALS/);
    expect(loadConfig({ env: {} }).sinks.some((s) => s.type === 'chronicle')).toBe(false);
  });
  it('namespace and labels, which only unstructured logs carry, are a config error in udm mode instead of being dropped', () => {
    const base = { type: 'chronicle', instance: 'projects/p/locations/us/instances/i', access_token: 't' };
    const load = (extra: Record<string, unknown>) => () => loadConfig({ env: {}, overrides: { sinks: { soc: { ...base, ...extra } } } });
    expect(load({ labels: { team: 'ml' } })).toThrow(/sinks\.soc\.labels: labels applies to mode: unstructured only/);
    expect(load({ mode: 'udm', namespace: 'prod' })).toThrow(/sinks\.soc\.namespace: namespace applies to mode: unstructured only/);
    expect(load({ mode: 'unstructured', log_type: 'MLTRAIL_JSON', namespace: 'prod', labels: { team: 'ml' } })).not.toThrow();
    expect(load({})).not.toThrow();
  });
});

describe('Chronicle sink through SinkRunner + Spool', () => {
  let fake: FakeChronicle;
  let h: Harness<ChronicleConfig> | undefined;
  afterEach(async () => {
    await h?.stop().catch(() => {});
    h = undefined;
    await fake?.close();
  });
  const setup = async (over: Record<string, unknown> = {}) => {
    fake = await new FakeChronicle().start();
    h = new Harness(chronicleSinkFactory, { url: fake.url, access_token: 'ya29.test-token', instance: fake.instance, ...FAST, ...over });
    return h;
  };
  const legacy = { api: 'legacy', customer_id: 'c8c65bfa-5f2c-42d4-9189-64bb7b939f2c' };

  it('v1alpha events:import: valid UDM with metadata.product_log_id = mltrail id, each once', async () => {
    await setup();
    await h!.add([...Array.from({ length: 60 }, (_, i) => testEvent(i)), testAlert(1)]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(fake.requests.every((r) => r.path === `/v1alpha/${fake.instance}/events:import` && r.headers.authorization === 'Bearer ya29.test-token')).toBe(true);
    const c = counts(fake.ids());
    expect(c.size).toBe(61);
    expect([...c.values()].every((n) => n === 1)).toBe(true);
    expect(h!.deadLetters()).toEqual([]);
  });

  it('v1alpha logs:import (unstructured): base64 of the normalized event, collection_time ≥ log_entry_time, forwarder', async () => {
    await setup({ mode: 'unstructured', log_type: 'MLTRAIL_JSON', forwarder: 'fwd-1', namespace: 'prod', labels: { team: 'ml' } });
    await h!.add([testEvent(1), testEvent(2)]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    const body = JSON.parse(fake.requests[0]!.body);
    expect(fake.requests[0]!.path).toBe(`/v1alpha/${fake.instance}/logTypes/MLTRAIL_JSON/logs:import`);
    expect(body.inline_source.forwarder).toBe(`${fake.instance}/forwarders/fwd-1`);
    expect(body.inline_source.logs[0]).toMatchObject({ log_entry_time: testEvent(1).time, environment_namespace: 'prod', labels: { team: { value: 'ml' } } });
    expect(JSON.parse(fake.ingested[0]!.value as string)).toEqual(testEvent(1));
    expect(fake.ids()).toEqual(['evt-0001', 'evt-0002']);
  });

  it('v1alpha logs:import: collection_time is compared with the event time as an instant, whatever the offsets (a skewed clock)', async () => {
    await setup({ mode: 'unstructured', log_type: 'MLTRAIL_JSON' });
    // 03:31-08:00 is 11:31Z, ten minutes after the bridge received it (11:21Z): as text "2026-…T11:21" > "2026-…T03:31".
    const skewed = { ...testEvent(1), time: '2026-11-26T03:31:24-08:00', received_time: '2026-11-26T11:21:24.573Z' };
    await h!.add([skewed]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(JSON.parse(fake.requests[0]!.body).inline_source.logs[0]).toMatchObject({ log_entry_time: skewed.time, collection_time: skewed.time });
    expect(fake.ids()).toEqual(['evt-0001']);
  });

  it('legacy unstructured: a lost response is resent byte-identical and deduplicated by Chronicle → once', async () => {
    await setup({ ...legacy, mode: 'unstructured', log_type: 'MLTRAIL_JSON' });
    fake.loseNextResponse = 1;
    await h!.add(Array.from({ length: 20 }, (_, i) => testEvent(i)));
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[0]!.path).toBe('/v2/unstructuredlogentries:batchCreate');
    expect(fake.requests[1]!.body).toBe(fake.requests[0]!.body);
    expect([...counts(fake.ids()).values()]).toEqual(Array(20).fill(1));
  });

  it('legacy udmevents: 429/500/503/504 Google errors are retried with the identical batch; delivered once', async () => {
    await setup(legacy);
    const errs = readFixtureJson<{ cases: Array<{ name: string; http_status: number; body: unknown }> }>('sinks', 'chronicle', 'errors.json').cases;
    for (const name of ['resource_exhausted', 'internal', 'unavailable', 'deadline_exceeded']) {
      const c = errs.find((x) => x.name === name)!;
      fake.fault((r) => r.path === '/v2/udmevents:batchCreate', { status: c.http_status, json: c.body }, 1);
    }
    await h!.add(Array.from({ length: 5 }, (_, i) => testEvent(i)));
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(fake.requests).toHaveLength(5);
    expect(new Set(fake.requests.map((r) => r.body)).size).toBe(1);
    expect(JSON.parse(fake.requests[0]!.body).customer_id).toBe(legacy.customer_id);
    expect([...counts(fake.ids()).values()]).toEqual(Array(5).fill(1));
  });

  it('a bad record in a batch: Chronicle refuses the batch, the sink isolates it, dead-letters it with the reason and delivers the rest', async () => {
    await setup();
    fake.rejectUdm = (u) => (u.metadata.product_log_id === 'evt-0002' ? 'principal.ip is not an IP address' : undefined);
    await h!.add(Array.from({ length: 5 }, (_, i) => testEvent(i)));
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(fake.ids().sort()).toEqual(['evt-0000', 'evt-0001', 'evt-0003', 'evt-0004']);
    const dl = h!.deadLetters();
    expect(dl.map((d) => d.record_id)).toEqual(['evt-0002']);
    expect(dl[0]!.reason).toMatch(/400 INVALID_ARGUMENT: Invalid UDM event at index 0: principal.ip/);
  });

  it('a 200 reporting failed events: the batch is resent one event per request; the failing one is dead-lettered, none lost', async () => {
    await setup();
    fake.failEvent = (u) => u.metadata.product_log_id === 'evt-0002';
    await h!.add(Array.from({ length: 4 }, (_, i) => testEvent(i)));
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect([...new Set(fake.ids())].sort()).toEqual(['evt-0000', 'evt-0001', 'evt-0003']);
    expect(h!.deadLetters().map((d) => [d.record_id, d.reason])).toEqual([['evt-0002', expect.stringMatching(/failureCount/)]]);
    // Duplicates this may create carry the same product_log_id and identical content.
    const byId = new Map<string, Set<string>>();
    for (const x of fake.ingested) byId.set(x.id, (byId.get(x.id) ?? new Set()).add(JSON.stringify(x.value)));
    expect([...byId.values()].every((v) => v.size === 1)).toBe(true);
  });

  it('payload over the cap → split and resent in halves; a lone oversize record is dead-lettered', async () => {
    await setup();
    fake.capBytes = 12_000;
    await h!.add([...Array.from({ length: 12 }, (_, i) => testEvent(i)), testEvent(77, { details: { blob: 'z'.repeat(20_000) } })]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect([...counts(fake.ids()).values()]).toEqual(Array(12).fill(1));
    expect(h!.deadLetters().map((d) => [d.record_id, d.reason])).toEqual([['evt-0077', expect.stringMatching(/payload size exceeds/)]]);
  });

  it('401 (expired static token), 403 and 404 keep every record and report unhealthy', async () => {
    await setup({ access_token: 'expired' });
    await h!.add([testEvent(1)]);
    h!.start();
    await until(() => fake.requests.length >= 2, 5000, 'retries');
    expect(h!.runner.health()).toMatchObject({ state: 'unhealthy', backlog: 1 });
    expect(h!.runner.health().reason).toMatch(/401 UNAUTHENTICATED.*MLTRAIL_CHRONICLE_ACCESS_TOKEN/);
    await h!.stop();
    h = new Harness(chronicleSinkFactory, { url: fake.url, access_token: 'ya29.test-token', instance: 'projects/my-project/locations/us/instances/other', ...FAST }, h!.dir);
    h.start();
    await until(() => fake.requests.length >= 4, 5000, 'retries');
    expect(h.runner.health().reason).toMatch(/404 NOT_FOUND/);
    expect(h.deadLetters()).toEqual([]);
    await h.stop();
    h = new Harness(chronicleSinkFactory, { url: fake.url, access_token: 'ya29.test-token', instance: fake.instance, ...FAST }, h.dir);
    h.start();
    expect(await h.drain()).toBe(true);
    expect(fake.ids()).toEqual(['evt-0001']);
  });

  it('a hang and a restart lose nothing', async () => {
    await setup({ request_timeout_ms: 300 });
    fake.fault(() => true, 'hang', 1);
    await h!.add(Array.from({ length: 4 }, (_, i) => testEvent(i)));
    h!.start();
    await until(() => fake.requests.length >= 1, 2000, 'request');
    await h!.restart();
    expect(await h!.drain()).toBe(true);
    expect([...counts(fake.ids()).values()]).toEqual([1, 1, 1, 1]);
  });

  // Request limits, legacy body fields, Retry-After (mutation audit).

  it('legacy API: requests stay under its 1,000,000-byte cap by default (never sent over it and split after a 400)', async () => {
    await setup({ ...legacy, batch: { max_events: 50, max_bytes: 5_000_000, timeout_ms: 0 } });
    // ~1.4 MB of UDM in one read: more than the legacy cap, less than the v1alpha one.
    await h!.add(Array.from({ length: 14 }, (_, i) => testEvent(i, { details: { blob: 'b'.repeat(100_000) } })));
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(fake.requests.length).toBeGreaterThanOrEqual(2);
    expect(fake.requests.every((r) => Buffer.byteLength(r.body) <= 1_000_000)).toBe(true);
    expect([...counts(fake.ids()).values()]).toEqual(Array(14).fill(1));
  });

  it('legacy unstructured: namespace and labels ride in the batch as {key, value} pairs', async () => {
    await setup({ ...legacy, mode: 'unstructured', log_type: 'MLTRAIL_JSON', namespace: 'prod', labels: { team: 'ml', env: 'p' } });
    await h!.add([testEvent(1)]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    const body = JSON.parse(fake.requests[0]!.body);
    expect(body).toMatchObject({ customer_id: legacy.customer_id, log_type: 'MLTRAIL_JSON', namespace: 'prod', labels: [{ key: 'team', value: 'ml' }, { key: 'env', value: 'p' }] });
    expect(fake.ids()).toEqual(['evt-0001']);
  });

  it('v1alpha logs:import: a forwarder given by its full resource name is sent as is', async () => {
    const forwarder = `${new FakeChronicle().instance}/forwarders/fwd-9`;
    await setup({ mode: 'unstructured', log_type: 'MLTRAIL_JSON', forwarder });
    await h!.add([testEvent(1)]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(JSON.parse(fake.requests[0]!.body).inline_source.forwarder).toBe(forwarder);
    expect(fake.ids()).toEqual(['evt-0001']);
  });

  it('a 429 with Retry-After is resent only after the delay the server asked for', async () => {
    await setup();
    let refusedAt = 0;
    fake.fault(() => true, () => {
      refusedAt = Date.now();
      return { status: 429, json: { error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED' } }, headers: { 'retry-after': '1' } };
    }, 1);
    await h!.add([testEvent(1)]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(fake.requests).toHaveLength(2);
    expect(Date.now() - refusedAt).toBeGreaterThanOrEqual(900);
    expect(fake.ids()).toEqual(['evt-0001']);
  });
});

