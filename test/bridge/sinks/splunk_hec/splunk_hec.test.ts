import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../bridge/config.js';
import { createMetrics } from '../../../../core/metrics.js';
import { Spool } from '../../../../core/spool/index.js';
import { classifyHec, parseHecReply, type HecClass } from '../../../../bridge/sinks/splunk_hec/codes.js';
import { SplunkHecConfig } from '../../../../bridge/sinks/splunk_hec/config.js';
import { splunkHecSinkFactory } from '../../../../bridge/sinks/splunk_hec/index.js';
import { readFixture, readFixtureJson } from '../../../helpers/fixtures.js';
import { FAST, Harness, counts, makeTestPki, testAlert, testEvent, until } from '../helpers.js';
import { FakeHec, splitEnvelopes } from './fake.js';

interface HecCase {
  name: string;
  http_status: number;
  body: Record<string, unknown> | null;
  class: string;
  endpoint?: string;
}

/** The fixture's class column in this sink's vocabulary (see codes.ts). */
const FIXTURE_CLASS: Record<string, HecClass> = {
  ok: 'ok',
  ok_pending_ack: 'ok',
  fix_config: 'fix_config',
  drop_event: 'bad_event',
  retry: 'retry',
  split: 'split',
  // We never send an empty body, so "No data" means a proxy mangled it: keep the records.
  drop_batch_bug: 'fix_config',
};

describe('HEC reply classification', () => {
  const { cases } = readFixtureJson<{ cases: HecCase[] }>('sinks', 'splunk_hec', 'responses.json');
  for (const c of cases.filter((x) => !x.endpoint)) {
    it(`${c.name} (HTTP ${c.http_status}) → ${c.class}`, () => {
      const reply = parseHecReply(c.body === null ? '' : JSON.stringify(c.body));
      expect(classifyHec(c.http_status, reply.code)).toBe(FIXTURE_CLASS[c.class]);
    });
  }
  it('reads ackId and invalid-event-number', () => {
    expect(parseHecReply('{"text":"Success","code":0,"ackId":7}').ackId).toBe(7);
    expect(parseHecReply('{"text":"Invalid data format","code":6,"invalid-event-number":1}').invalidEventNumber).toBe(1);
  });
});

describe('HEC fake (strictness check against the fixture)', () => {
  it('accepts the fixture batch as two envelopes and refuses a wrong scheme / token / nested fields', async () => {
    const fake = await new FakeHec().start();
    try {
      const body = readFixture('sinks', 'splunk_hec', 'event_batch_request.txt').toString();
      expect(splitEnvelopes(body).values).toHaveLength(2);
      const post = (auth: string, b: string) =>
        fetch(`${fake.url}/services/collector/event`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: b });
      expect((await post(`Splunk ${fake.token}`, body)).status).toBe(200);
      expect(await (await post(`Bearer ${fake.token}`, body)).json()).toEqual({ text: 'Invalid authorization', code: 3 });
      expect(await (await post('Splunk nope', body)).json()).toEqual({ text: 'Invalid token', code: 4 });
      const nested = await post(`Splunk ${fake.token}`, '{"event":"a"}{"event":"b","fields":{"x":{"y":1}}}');
      expect(await nested.json()).toEqual({ text: 'Error in handling indexed fields', code: 15, 'invalid-event-number': 1 });
    } finally {
      await fake.close();
    }
  });
});

describe('HEC fake indexer acknowledgement (fixture ack_query_*)', () => {
  it('answers the fixture ack query with the fixture response shape; channel required', async () => {
    const fake = await new FakeHec().start();
    fake.useAck = true;
    fake.loseAck = (id) => id === 1;
    const channel = '0f9b1c9e-2a53-4d5e-9a41-3c3f7b0e2d11';
    const h = { authorization: `Splunk ${fake.token}`, 'content-type': 'application/json', 'x-splunk-request-channel': channel };
    try {
      const noChannel = await fetch(`${fake.url}/services/collector/event`, { method: 'POST', headers: { ...h, 'x-splunk-request-channel': '' }, body: '{"event":"x"}' });
      expect(await noChannel.json()).toEqual({ text: 'Data channel is missing', code: 10 });
      for (let i = 0; i < 3; i++) {
        const r = await fetch(`${fake.url}/services/collector/event`, { method: 'POST', headers: h, body: `{"event":"e${i}"}` });
        expect(await r.json()).toEqual({ text: 'Success', code: 0, ackId: i });
      }
      const ack = await fetch(`${fake.url}/services/collector/ack`, { method: 'POST', headers: h, body: readFixture('sinks', 'splunk_hec', 'ack_query_request.json') });
      expect(await ack.json()).toEqual(readFixtureJson('sinks', 'splunk_hec', 'ack_query_response.json'));
    } finally {
      await fake.close();
    }
  });
});

describe('Splunk HEC sink through SinkRunner + Spool', () => {
  let fake: FakeHec;
  let h: Harness<SplunkHecConfig> | undefined;
  afterEach(async () => {
    await h?.stop().catch(() => {});
    h = undefined;
    await fake?.close();
  });

  const setup = async (over: Record<string, unknown> = {}, metrics?: ReturnType<typeof createMetrics>) => {
    fake = await new FakeHec().start();
    h = new Harness(splunkHecSinkFactory, { url: fake.url, token: fake.token, format: 'core', index: 'mltrail', ...FAST, ...over }, undefined, undefined, metrics);
    return h;
  };
  const metric = async (m: ReturnType<typeof createMetrics>, line: string) => Number(new RegExp(`^${line.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(await m.registry.metrics())?.[1] ?? 0);

  it('dlq retry: a re-sent dead letter is counted in sink_sent_total, one dead-lettered again in failed_total{kind="dead_letter"}', async () => {
    const metrics = createMetrics();
    await setup({ ack: { enabled: false } }, metrics);
    let poisoned = ['evt-0003', 'evt-0007'];
    fake.poison = (env) => poisoned.includes((env.event as { id?: string }).id ?? '');
    await h!.add(Array.from({ length: 10 }, (_, i) => testEvent(i)));
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(h!.deadLetters().map((d) => d.record_id).sort()).toEqual(['evt-0003', 'evt-0007']);
    const sent = 'mltrail_sink_sent_total{sink="splunk_hec"}';
    const dead = 'mltrail_sink_failed_total{sink="splunk_hec",kind="dead_letter"}';
    expect(await metric(metrics, sent)).toBe(8);
    expect(await metric(metrics, dead)).toBe(2);
    // `mltrail dlq retry` is another process: it only marks the rows through its own connection; the serving runner re-sends.
    poisoned = ['evt-0007'];
    const cli = Spool.open({ dir: h!.dir });
    expect(cli.markDeadLettersForRetry({ sink: 'splunk_hec' })).toBe(2);
    cli.close();
    await until(() => h!.deadLetters().every((d) => d.status === 'dead'));
    expect(fake.ids().filter((id) => id === 'evt-0003')).toHaveLength(1);
    expect(h!.deadLetters()).toMatchObject([{ record_id: 'evt-0007', status: 'dead', attempts: 2 }]);
    expect(await metric(metrics, sent)).toBe(9);
    expect(await metric(metrics, dead)).toBe(3);
  });

  it('sends gzip batches with Splunk auth, channel, per-event metadata and fields.mltrail_id; each id once', async () => {
    await setup({ ack: { enabled: false } });
    const evs = Array.from({ length: 120 }, (_, i) => testEvent(i));
    await h!.add([...evs, testAlert(1)]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(fake.eventRequests().every((r) => r.headers['content-encoding'] === 'gzip')).toBe(true);
    expect(fake.eventRequests().length).toBeGreaterThanOrEqual(3); // batch.max_events 50
    const c = counts(fake.ids());
    expect(c.size).toBe(121);
    expect([...c.values()].every((n) => n === 1)).toBe(true);
    const first = fake.indexed.find((x) => x.id === 'evt-0001')!.envelope;
    // source is mltrail:<channel> in every format (README), as the CIM mapping sets it.
    expect(first).toMatchObject({ index: 'mltrail', source: 'mltrail:sagemaker.test', sourcetype: 'mltrail:sagemaker', fields: { mltrail_id: 'evt-0001', mltrail_kind: 'event' } });
    expect(first.time).toBeCloseTo(Date.parse(testEvent(1).time) / 1000, 3);
    expect((first.event as { id: string }).id).toBe('evt-0001');
    const alert = fake.indexed.find((x) => x.id === 'alert-0001')!.envelope;
    expect(alert).toMatchObject({ source: 'mltrail:alerts', sourcetype: 'mltrail:alert', fields: { mltrail_kind: 'alert' } });
    expect(h!.deadLetters()).toEqual([]);
  });

  it('invalid-event-number N: prefix delivered once, event N dead-lettered with the reason, the rest resent — no loop', async () => {
    await setup({ ack: { enabled: false } });
    fake.poison = (env) => (env.event as { id?: string }).id === 'evt-0002';
    await h!.add(Array.from({ length: 5 }, (_, i) => testEvent(i)));
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(fake.ids().sort()).toEqual(['evt-0000', 'evt-0001', 'evt-0003', 'evt-0004']);
    expect(fake.eventRequests()).toHaveLength(2); // the batch, then only the tail
    const dl = h!.deadLetters();
    expect(dl.map((d) => d.record_id)).toEqual(['evt-0002']);
    expect(dl[0]!.reason).toMatch(/code 6.*invalid-event-number 2/);
  });

  it('server busy (503 code 9) and 429 with Retry-After are retried; delivered exactly once', async () => {
    await setup({ ack: { enabled: false } });
    fake.fault((r) => r.path === '/services/collector/event', { status: 503, json: { text: 'Server is busy', code: 9, 'invalid-event-number': 0 } }, 2);
    fake.fault((r) => r.path === '/services/collector/event', { status: 429, text: '', headers: { 'retry-after': '0' } }, 1);
    await h!.add(Array.from({ length: 10 }, (_, i) => testEvent(i)));
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(fake.eventRequests()).toHaveLength(4);
    expect([...counts(fake.ids()).values()]).toEqual(Array(10).fill(1));
  });

  it('a wrong token makes the sink unhealthy and keeps every record; a fixed token delivers them once', async () => {
    await setup({ ack: { enabled: false } });
    const good = fake.token;
    fake.token = 'rotated-token';
    await h!.add(Array.from({ length: 3 }, (_, i) => testEvent(i)));
    h!.start();
    await until(() => fake.eventRequests().length >= 3, 5000, 'retries');
    expect(h!.runner.health()).toMatchObject({ state: 'unhealthy', backlog: 3 });
    expect(h!.runner.health().reason).toMatch(/403 code 4/);
    expect(h!.deadLetters()).toEqual([]);
    fake.token = good;
    expect(await h!.drain()).toBe(true);
    expect(fake.ids().sort()).toEqual(['evt-0000', 'evt-0001', 'evt-0002']);
    expect(h!.runner.health().state).toBe('healthy');
  });

  it('a refused alerts index (code 7) parks its alerts: events keep flowing, nothing is resent after a restart, the alerts go once the index is allowed', async () => {
    await setup({ ack: { enabled: false }, alerts_index: 'secret_alerts', retry: { initial_ms: 20, max_ms: 300 } });
    fake.allowedIndexes = ['mltrail'];
    await h!.add([testEvent(1), testAlert(1), testEvent(2)]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(fake.ids().sort()).toEqual(['evt-0001', 'evt-0002']);
    // The alert waits as a parked dead letter naming the index; the cursor moved on.
    const dl = h!.deadLetters();
    expect(dl.map((d) => [d.record_id, d.status])).toEqual([['alert-0001', 'parked']]);
    expect(dl[0]!.reason).toMatch(/code 7.*index "secret_alerts" is not allowed/);
    expect(h!.runner.health()).toMatchObject({ state: 'degraded', backlog: 0 });
    // Later reads are not blocked behind it (this used to wait forever), even a read holding only alerts.
    await h!.add([testAlert(2)]);
    await h!.add([testEvent(3), testEvent(4)]);
    expect(await h!.drain()).toBe(true);
    await until(() => fake.ids().length === 4, 5000, 'later events');
    // A restart resends nothing already delivered.
    await h!.restart();
    await h!.add([testEvent(5)]);
    expect(await h!.drain()).toBe(true);
    await until(() => fake.ids().includes('evt-0005'), 5000, 'event after restart');
    // Allowed, the parked alerts are re-sent on their own schedule and delivered once.
    fake.allowedIndexes = ['mltrail', 'secret_alerts'];
    await until(() => h!.deadLetters().length === 0, 5000, 'parked alerts delivered');
    expect([...counts(fake.ids()).entries()].sort()).toEqual([
      ['alert-0001', 1], ['alert-0002', 1], ['evt-0001', 1], ['evt-0002', 1], ['evt-0003', 1], ['evt-0004', 1], ['evt-0005', 1],
    ]);
    await until(() => h!.runner.health().state === 'healthy', 5000, 'healthy again');
  });

  it('413 splits the request; a single event over the server cap is dead-lettered with the reason', async () => {
    await setup({ ack: { enabled: false } });
    fake.maxBodyBytes = 6000;
    const big = testEvent(99, { details: { blob: 'x'.repeat(7000) } });
    await h!.add([...Array.from({ length: 8 }, (_, i) => testEvent(i)), big]);
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect(fake.ids().sort()).toEqual(Array.from({ length: 8 }, (_, i) => `evt-000${i}`));
    expect(fake.requests.some((r) => r.path === '/services/collector/event' && Buffer.byteLength(r.body) > 6000)).toBe(true);
    const dl = h!.deadLetters();
    expect(dl.map((d) => d.record_id)).toEqual(['evt-0099']);
    expect(dl[0]!.reason).toMatch(/413/);
  });

  it('indexer acknowledgement: records are ok only once acked; a lost ack → resend after ack.timeout_ms', async () => {
    await setup({ ack: { enabled: true, poll_interval_ms: 20, timeout_ms: 300 } });
    fake.useAck = true;
    fake.loseAck = (id) => id === 0;
    await h!.add(Array.from({ length: 4 }, (_, i) => testEvent(i)));
    h!.start();
    expect(await h!.drain()).toBe(true);
    // The first request's ack was lost: its records were resent (HEC is at-least-once);
    // the copies are byte-identical and carry the same mltrail_id, so Splunk-side dedup is exact.
    const c = counts(fake.ids());
    expect([...c.keys()].sort()).toEqual(['evt-0000', 'evt-0001', 'evt-0002', 'evt-0003']);
    expect([...c.values()]).toEqual([2, 2, 2, 2]);
    const byId = new Map<string, Set<string>>();
    for (const x of fake.indexed) byId.set(x.id, (byId.get(x.id) ?? new Set()).add(x.line));
    expect([...byId.values()].every((s) => s.size === 1)).toBe(true);
    const acks = fake.requests.filter((r) => r.path === '/services/collector/ack');
    expect(acks.length).toBeGreaterThan(2);
    expect(acks.every((r) => r.headers['x-splunk-request-channel'] === [...fake.ackChannels][0])).toBe(true);
    expect(JSON.parse(acks[0]!.body)).toEqual({ acks: [0] }); // the shape of fixture ack_query_request.json
  });

  it('an ack endpoint that refused (invalid channel) and answers again: once all is acknowledged the sink is healthy, with no new batch', async () => {
    await setup({ ack: { enabled: true, poll_interval_ms: 20, timeout_ms: 1000 } });
    fake.useAck = true;
    fake.fault((r) => r.path === '/services/collector/ack', { status: 400, json: { text: 'Invalid data channel', code: 11 } }, 5);
    await h!.add(Array.from({ length: 3 }, (_, i) => testEvent(i)));
    h!.start();
    await until(() => h!.runner.health().state === 'unhealthy', 5000, 'unhealthy while the ack endpoint refuses');
    expect(await h!.drain()).toBe(true);
    expect(counts(fake.ids()).size).toBe(3);
    expect(h!.runner.health()).toMatchObject({ state: 'healthy', backlog: 0 });
  });

  it('acks that arrive are enough: exactly once, no resend', async () => {
    await setup({ ack: { enabled: true, poll_interval_ms: 20, timeout_ms: 1000 } });
    fake.useAck = true;
    await h!.add(Array.from({ length: 60 }, (_, i) => testEvent(i)));
    h!.start();
    expect(await h!.drain()).toBe(true);
    expect([...counts(fake.ids()).values()].every((n) => n === 1)).toBe(true);
    expect(counts(fake.ids()).size).toBe(60);
  });

  it('a hung request times out and is resent; a restart mid-outage loses nothing', async () => {
    await setup({ ack: { enabled: false }, request_timeout_ms: 300 });
    fake.fault((r) => r.path === '/services/collector/event', 'hang', 1);
    fake.fault((r) => r.path === '/services/collector/event', 'reset', 1);
    await h!.add(Array.from({ length: 5 }, (_, i) => testEvent(i)));
    h!.start();
    await until(() => fake.eventRequests().length >= 1, 2000, 'first request');
    // Restart while the request hangs: the cursor stays behind, nothing is lost.
    fake.fault((r) => r.path === '/services/collector/event', { status: 503, json: { text: 'Server is busy', code: 9 } }, 3);
    await h!.restart();
    await h!.add([testEvent(5)]);
    expect(await h!.drain()).toBe(true);
    expect([...counts(fake.ids()).entries()].sort()).toEqual(Array.from({ length: 6 }, (_, i) => [`evt-000${i}`, 1]));
  });

  // Replies that must not loop or lose (mutation audit).
  const envelopeCount = (r: { body: string }) => splitEnvelopes(r.body).values.length;

  it('an invalid-event-number past the end of the batch is not trusted: events are resent one per request, each delivered once', async () => {
    await setup({ ack: { enabled: false } });
    // A proxy / HEC version that numbers from 1: the number equals the batch size.
    fake.fault((r) => r.path === '/services/collector/event' && envelopeCount(r) > 1, (r) => ({ status: 400, json: { text: 'Invalid data format', code: 6, 'invalid-event-number': envelopeCount(r) } }), Infinity);
    await h!.add(Array.from({ length: 4 }, (_, i) => testEvent(i)));
    h!.start();
    expect(await h!.drain(5000)).toBe(true);
    expect([...counts(fake.ids()).entries()].sort()).toEqual([['evt-0000', 1], ['evt-0001', 1], ['evt-0002', 1], ['evt-0003', 1]]);
    expect(h!.deadLetters()).toEqual([]);
  });

  it('code 6 without invalid-event-number: the batch is resent one event per request and the lone bad event is dead-lettered (no endless resend)', async () => {
    await setup({ ack: { enabled: false } });
    fake.fault((r) => r.path === '/services/collector/event' && r.body.includes('"mltrail_id":"evt-0002"'), { status: 400, json: { text: 'Invalid data format', code: 6 } }, Infinity);
    await h!.add(Array.from({ length: 4 }, (_, i) => testEvent(i)));
    h!.start();
    expect(await h!.drain(5000)).toBe(true);
    expect(fake.ids().sort()).toEqual(['evt-0000', 'evt-0001', 'evt-0003']);
    const dl = h!.deadLetters();
    expect(dl.map((d) => [d.record_id, d.status])).toEqual([['evt-0002', 'dead']]);
    expect(dl[0]!.reason).toMatch(/HEC 400 code 6/);
  });

  it('a token pasted with its scheme word ("Splunk <guid>") is sent once as Authorization: Splunk <guid>', async () => {
    await setup({ ack: { enabled: false } });
    h = new Harness(splunkHecSinkFactory, { url: fake.url, token: `Splunk ${fake.token}`, format: 'core', ...FAST, ack: { enabled: false } }, h!.dir);
    await h.add([testEvent(1)]);
    h.start();
    expect(await h.drain(5000)).toBe(true);
    expect(fake.ids()).toEqual(['evt-0001']);
    expect(fake.eventRequests().every((r) => r.headers.authorization === `Splunk ${fake.token}`)).toBe(true);
  });

  it('ack endpoint code 14 (useACK off on the token, ackId given anyway): the 200 counts as delivered, nothing is resent', async () => {
    await setup({ ack: { enabled: true, poll_interval_ms: 20, timeout_ms: 300 } });
    fake.useAck = true;
    fake.fault((r) => r.path === '/services/collector/ack', { status: 400, json: { text: 'ACK is disabled', code: 14 } }, Infinity);
    await h!.add(Array.from({ length: 3 }, (_, i) => testEvent(i)));
    h!.start();
    expect(await h!.drain(5000)).toBe(true);
    await new Promise((r) => setTimeout(r, 400)); // longer than ack.timeout_ms: a resend would show now
    expect([...counts(fake.ids()).entries()].sort()).toEqual([['evt-0000', 1], ['evt-0001', 1], ['evt-0002', 1]]);
    expect(h!.runner.health().state).toBe('healthy');
  });

  it('an envelope over max_event_bytes is dead-lettered before sending; the rest of the batch is delivered', async () => {
    await setup({ ack: { enabled: false }, max_event_bytes: 4000 });
    await h!.add([testEvent(1), testEvent(2, { details: { blob: 'x'.repeat(5000) } }), testEvent(3)]);
    h!.start();
    expect(await h!.drain(5000)).toBe(true);
    expect(fake.ids().sort()).toEqual(['evt-0001', 'evt-0003']);
    expect(fake.eventRequests().some((r) => r.body.includes('evt-0002'))).toBe(false);
    const dl = h!.deadLetters();
    expect(dl.map((d) => d.record_id)).toEqual(['evt-0002']);
    expect(dl[0]!.reason).toMatch(/exceeds max_event_bytes \(4000\)/);
  });
  it('a 503 with Retry-After is resent only after the delay the server asked for', async () => {
    await setup({ ack: { enabled: false } });
    let refusedAt = 0;
    fake.fault((r) => r.path === '/services/collector/event', () => {
      refusedAt = Date.now();
      return { status: 503, json: { text: 'Server is busy', code: 9 }, headers: { 'retry-after': '1' } };
    }, 1);
    await h!.add([testEvent(1)]);
    h!.start();
    expect(await h!.drain(5000)).toBe(true);
    expect(fake.eventRequests()).toHaveLength(2);
    expect(Date.now() - refusedAt).toBeGreaterThanOrEqual(900);
    expect(fake.ids()).toEqual(['evt-0001']);
  });

  it('a lost ack is resent after ack.timeout_ms, well before the request timeout: only that request\'s records go again', async () => {
    await setup({ ack: { enabled: true, poll_interval_ms: 20, timeout_ms: 300 }, alerts_index: 'mltrail_alerts' });
    fake.useAck = true;
    // One send, two requests (one per index): events get ackId 0, the alert ackId 1, whose ack is lost.
    fake.loseAck = (id) => id === 1;
    await h!.add([testEvent(1), testEvent(2), testAlert(1)]);
    h!.start();
    expect(await h!.drain(5000)).toBe(true);
    expect([...counts(fake.ids()).entries()].sort()).toEqual([['alert-0001', 2], ['evt-0001', 1], ['evt-0002', 1]]);
  });

  it('a configured ack channel is the X-Splunk-Request-Channel of every event and ack request', async () => {
    const channel = '0f9b1c9e-2a53-4d5e-9a41-3c3f7b0e2d11';
    await setup({ ack: { enabled: true, poll_interval_ms: 20, timeout_ms: 1000, channel } });
    fake.useAck = true;
    await h!.add([testEvent(1)]);
    h!.start();
    expect(await h!.drain(5000)).toBe(true);
    expect(fake.ids()).toEqual(['evt-0001']);
    expect(fake.requests.length).toBeGreaterThanOrEqual(2);
    expect(fake.requests.every((r) => r.headers['x-splunk-request-channel'] === channel)).toBe(true);
  });

  it('configured source, sourcetype and host are the envelope metadata of every event and alert', async () => {
    await setup({ ack: { enabled: false }, source: 'ml:audit', sourcetype: 'ml:trail', host: 'bridge-7' });
    await h!.add([testEvent(1), testAlert(1)]);
    h!.start();
    expect(await h!.drain(5000)).toBe(true);
    expect(fake.indexed).toHaveLength(2);
    for (const x of fake.indexed) expect(x.envelope).toMatchObject({ source: 'ml:audit', sourcetype: 'ml:trail', host: 'bridge-7' });
  });
});

describe('Splunk HEC over TLS with a private CA', () => {
  it('delivers with tls.ca_file; without it the certificate is refused and every record is kept', async () => {
    const pki = makeTestPki();
    const fake = await new FakeHec().start({ key: pki.key, cert: pki.cert });
    let h = new Harness(splunkHecSinkFactory, { url: fake.url, token: fake.token, format: 'core', ack: { enabled: false }, ...FAST });
    try {
      await h.add([testEvent(1), testEvent(2)]);
      h.start();
      await until(() => (h.runner.health().last_error ?? '').length > 0, 5000, 'a TLS failure');
      expect(h.runner.health().last_error).toMatch(/certificate|self.signed|unable to verify/i);
      expect(fake.ids()).toEqual([]);
      expect(h.deadLetters()).toEqual([]);
      await h.stop();
      h = new Harness(splunkHecSinkFactory, { url: fake.url, token: fake.token, format: 'core', ack: { enabled: false }, tls: { ca_file: pki.caFile }, ...FAST }, h.dir);
      h.start();
      expect(await h.drain()).toBe(true);
      expect(fake.ids().sort()).toEqual(['evt-0001', 'evt-0002']);
    } finally {
      await h.stop().catch(() => {});
      await fake.close();
    }
  });
});

describe('Splunk HEC config', () => {
  it('is enabled by MLTRAIL_SPLUNK_HEC_URL + MLTRAIL_SPLUNK_HEC_TOKEN', () => {
    const cfg = loadConfig({ env: { MLTRAIL_SPLUNK_HEC_URL: 'https://splunk.example.com:8088', MLTRAIL_SPLUNK_HEC_TOKEN: 't' } });
    const s = cfg.sinks.find((x) => x.type === 'splunk_hec');
    expect(s?.config).toMatchObject({ url: 'https://splunk.example.com:8088', token: 't', format: 'cim', gzip: true });
  });
  it('names the missing token variable and refuses an API path in the base URL', () => {
    expect(() => loadConfig({ env: { MLTRAIL_SPLUNK_HEC_URL: 'https://s:8088' } })).toThrow(/MLTRAIL_SPLUNK_HEC_TOKEN/);
    expect(SplunkHecConfig.safeParse({ url: 'https://s:8088/services/collector/event', token: 't' }).success).toBe(false);
    expect(SplunkHecConfig.safeParse({ url: 'https://s:8088', token: 't', ack: { timeout_ms: 70_000 } }).success).toBe(false);
  });
});

describe('HEC reply classification without a HEC code (a proxy answering)', () => {
  it('a bare 5xx is transient (retry), a code-0 body on an error status is not a success', () => {
    expect(classifyHec(500, undefined)).toBe('retry');
    expect(classifyHec(502, undefined)).toBe('retry');
    expect(classifyHec(503, 0)).not.toBe('ok');
    expect(classifyHec(400, 0)).not.toBe('ok');
  });
});
