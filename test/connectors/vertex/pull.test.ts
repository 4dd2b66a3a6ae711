import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VertexConfig } from '../../../connectors/vertex/config.js';
import { vertexConnector } from '../../../connectors/vertex/index.js';
import { VertexPullPoller, handlePullMessage, type PullMessage } from '../../../connectors/vertex/pull.js';
import type { ConnectorDeps } from '../../../core/connector.js';
import { Ingestor } from '../../../core/ingest.js';
import { createLogger } from '../../../core/log.js';
import { Spool } from '../../../core/spool/index.js';
import { startFakeSubscriber } from './pubsub-fake.js';
import { LOC, V1, auditEntry, deepEntryJson } from './samples.js';
import { until } from '../../helpers/wait.js';

const SUB = 'projects/ml-prod-123/subscriptions/mltrail-vertex';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function deps(config: Record<string, unknown> = {}, spoolOpts: { maxBytes?: number } = {}): ConnectorDeps<VertexConfig> & { events: () => Array<Record<string, any>> } {
  const dir = mkdtempSync(join(tmpdir(), 'mltrail-vertex-pull-'));
  const spool = Spool.open({ dir, synchronous: 'NORMAL', ...spoolOpts });
  cleanups.push(() => spool.close());
  const logger = createLogger({ level: 'silent' });
  return {
    config: VertexConfig.parse(config),
    ingest: new Ingestor(spool, logger),
    spool,
    logger,
    server: { host: '127.0.0.1', port: 0, bodyLimitBytes: 1 << 20 },
    dataDir: dir,
    keepRaw: true,
    env: {},
    events: () => spool.read('test', 10_000, 0).filter((r) => r.kind === 'event').map((r) => JSON.parse(r.body) as Record<string, any>),
  };
}

const entryBytes = (insertId: string) => Buffer.from(`${JSON.stringify(auditEntry({ method: `${V1}PipelineService.CreatePipelineJob`, resourceName: LOC, insertId }))}\n`);

/** A Message-shaped object recording what the handler settled, and what the spool held at that moment. */
function message(id: string, data: Buffer, d: ReturnType<typeof deps>) {
  const log: Array<{ op: 'ack' | 'nack'; committed: boolean }> = [];
  const committed = () => d.events().some((e) => e.details?.pubsub?.message_id === id) || d.spool.listQuarantine().some((q) => q.meta.message_id === id);
  const msg: PullMessage = {
    id,
    data,
    attributes: { 'logging.googleapis.com/timestamp': '2026-11-20T10:00:00Z' },
    publishTime: new Date('2026-11-20T10:00:01Z'),
    deliveryAttempt: 1,
    ack: () => void log.push({ op: 'ack', committed: committed() }),
    nack: () => void log.push({ op: 'nack', committed: committed() }),
  };
  return { msg, log };
}

describe('pull handler contract', () => {
  it('acks only after the event is committed, with the Pub/Sub facts on the event', async () => {
    const d = deps();
    const { msg, log } = message('m-1', entryBytes('pull-1'), d);
    expect(await handlePullMessage(msg, d, SUB)).toBe('ack');
    expect(log).toEqual([{ op: 'ack', committed: true }]);
    const ev = d.events().find((e) => e.details?.insert_id === 'pull-1');
    expect(ev).toMatchObject({ channel: 'vertex.pubsub_pull', stage: 'training', action: 'pipeline_run.create', details: { pubsub: { message_id: 'm-1', subscription: SUB, publish_time: '2026-11-20T10:00:01.000Z' } } });
  });

  it('quarantines (commits) a message that is not a LogEntry, then acks it', async () => {
    const d = deps();
    const { msg, log } = message('m-bad', Buffer.from([1, 2, 3, 4]), d);
    expect(await handlePullMessage(msg, d, SUB)).toBe('ack');
    expect(log).toEqual([{ op: 'ack', committed: true }]);
    expect(d.spool.listQuarantine({ channel: 'vertex.pubsub_pull' })[0]?.reason).toMatch(/does not decode to a LogEntry/);
  });

  it('acks a quarantined message only once the quarantine is synced to disk', async () => {
    const d = deps();
    let release!: () => void;
    const synced = d.spool.synced.bind(d.spool);
    d.spool.synced = () => new Promise<void>((r) => (release = r)).then(synced);
    const { msg, log } = message('m-sync', Buffer.from('not json'), d);
    const settled = handlePullMessage(msg, d, SUB);
    await until(() => release !== undefined, 2000, 'sync asked');
    await new Promise((r) => setTimeout(r, 50));
    expect(log).toEqual([]);
    release();
    expect(await settled).toBe('ack');
    expect(log).toEqual([{ op: 'ack', committed: true }]);
  });

  it('quarantines (with its bytes) and acks a LogEntry nested 5000 levels deep instead of nacking it forever', async () => {
    const d = deps();
    const data = Buffer.from(deepEntryJson(5000));
    const { msg, log } = message('m-deep', data, d);
    expect(await handlePullMessage(msg, d, SUB)).toBe('ack');
    expect(log).toEqual([{ op: 'ack', committed: true }]);
    const q = d.spool.listQuarantine({ channel: 'vertex.pubsub_pull' });
    expect(q.map((e) => e.reason)).toEqual(['Pub/Sub message data does not decode to a LogEntry: JSON nested deeper than 200 levels']);
    expect(q[0]!.body.equals(data)).toBe(true);
  });

  it('nacks when the commit fails (spool full) and never acks', async () => {
    const d = deps({}, { maxBytes: 1 });
    await d.ingest.ingest([vertexConnector.normalize!(auditEntry({ method: `${V1}JobService.GetCustomJob` }), { channel: 't', receivedTime: new Date().toISOString(), keepRaw: false, config: d.config }).events[0]], 't');
    const { msg, log } = message('m-2', entryBytes('pull-2'), d);
    expect(await handlePullMessage(msg, d, SUB)).toBe('nack');
    expect(log).toEqual([{ op: 'nack', committed: false }]);
  });

  it('only polls when MLTRAIL_PUBSUB_SUBSCRIPTION is set', () => {
    expect(vertexConnector.pollers!(deps())).toHaveLength(0);
    expect(vertexConnector.pollers!(deps({ pull: { subscription: SUB } }))[0]?.name).toBe('vertex.pubsub_pull');
  });
});

describe('pull subscriber against a local gRPC Pub/Sub fake (@google-cloud/pubsub StreamingPull)', () => {
  it('commits then acks each message, quarantines+acks the malformed one, and stops cleanly', async () => {
    const fake = await startFakeSubscriber(SUB, [
      { messageId: '101', data: entryBytes('grpc-1'), attributes: { 'logging.googleapis.com/timestamp': '2026-11-20T10:00:00Z' } },
      { messageId: '102', data: Buffer.from('not json') },
      { messageId: '103', data: entryBytes('grpc-3') },
    ]);
    cleanups.push(() => fake.close());
    const d = deps({ pull: { subscription: SUB, api_endpoint: fake.endpoint, max_messages: 2 } });
    const poller = new VertexPullPoller(d);
    poller.start();
    await until(() => new Set(fake.ackedMessages()).size === 3);
    expect(fake.state.errors).toEqual([]);
    expect(fake.nackedMessages()).toEqual([]);
    const ids = d.events().map((e) => e.details?.insert_id);
    expect(ids).toEqual(expect.arrayContaining(['grpc-1', 'grpc-3']));
    expect(d.events().find((e) => e.details?.insert_id === 'grpc-1')?.details.pubsub).toMatchObject({ message_id: '101', subscription: SUB, attributes: { 'logging.googleapis.com/timestamp': '2026-11-20T10:00:00Z' } });
    expect(d.spool.listQuarantine({ channel: 'vertex.pubsub_pull' }).map((q) => q.meta.message_id)).toEqual(['102']);
    expect(poller.stats()).toMatchObject({ ack: 3, nack: 0, inflight: 0 });
    await poller.stop();
    expect(poller.health().state).toBe('healthy');
  });

  it('flow control: never more than max_messages leased and in commit at once, even when the server sends more', async () => {
    const fake = await startFakeSubscriber(SUB, Array.from({ length: 6 }, (_, i) => ({ messageId: `5${i}`, data: entryBytes(`flow-${i}`) })));
    cleanups.push(() => fake.close());
    const d = deps({ pull: { subscription: SUB, api_endpoint: fake.endpoint, max_messages: 2 } });
    // A slow disk: each commit takes a while, so what the library hands over at once is observable.
    let active = 0;
    let peak = 0;
    const durably = d.ingest.durably.bind(d.ingest);
    d.ingest.durably = (async (fn: () => unknown) => {
      peak = Math.max(peak, ++active);
      try {
        await sleep(150);
        return await durably(fn as never);
      } finally {
        active--;
      }
    }) as typeof d.ingest.durably;
    const poller = new VertexPullPoller(d);
    poller.start();
    await until(() => new Set(fake.ackedMessages()).size === 6);
    expect(peak).toBe(2);
    await poller.stop();
  });

  it('stop() after the grace period nacks what is still leased (redelivered at once, not after the lease runs out)', async () => {
    const fake = await startFakeSubscriber(SUB, [{ messageId: '601', data: entryBytes('stuck-1') }]);
    cleanups.push(() => fake.close());
    const d = deps({ pull: { subscription: SUB, api_endpoint: fake.endpoint } });
    // A commit that never finishes (a wedged disk).
    let started = false;
    d.ingest.durably = (() => {
      started = true;
      return new Promise(() => {});
    }) as typeof d.ingest.durably;
    const poller = new VertexPullPoller(d, { graceMs: 100 });
    poller.start();
    await until(() => started);
    const t0 = Date.now();
    await poller.stop();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(fake.nackedMessages()).toEqual(['601']);
    expect(fake.ackedMessages()).toEqual([]);
  });

  it('nacks (ModifyAckDeadline 0) what cannot be committed; the redelivery is nacked again, never acked', async () => {
    const fake = await startFakeSubscriber(SUB, [{ messageId: '201', data: entryBytes('grpc-full') }], { redeliver: 1 });
    cleanups.push(() => fake.close());
    const d = deps({ pull: { subscription: SUB, api_endpoint: fake.endpoint } }, { maxBytes: 1 });
    await d.ingest.ingest([vertexConnector.normalize!(auditEntry({ method: `${V1}JobService.GetCustomJob` }), { channel: 't', receivedTime: new Date().toISOString(), keepRaw: false, config: d.config }).events[0]], 't');
    const poller = new VertexPullPoller(d);
    poller.start();
    await until(() => fake.nackedMessages().length >= 2);
    expect(fake.nackedMessages()).toEqual(['201', '201']);
    expect(fake.ackedMessages()).toEqual([]);
    await poller.stop();
  });

  it('a wrong subscription name surfaces as an unhealthy poller with the upstream error', async () => {
    const fake = await startFakeSubscriber('projects/ml-prod-123/subscriptions/other', []);
    cleanups.push(() => fake.close());
    const d = deps({ pull: { subscription: SUB, api_endpoint: fake.endpoint } });
    const poller = new VertexPullPoller(d);
    poller.start();
    await until(() => poller.health().state === 'unhealthy');
    expect(poller.health().reason).toMatch(/not found/i);
    await poller.stop();
  });

  it('after a non-retryable StreamingPull error (PERMISSION_DENIED) it reopens with backoff, stays unhealthy meanwhile, then pulls and acks', async () => {
    const fake = await startFakeSubscriber(SUB, [{ messageId: '301', data: entryBytes('grpc-after-deny') }], {
      refuse: { code: grpc.status.PERMISSION_DENIED, details: 'User not authorized to perform this action.' },
    });
    cleanups.push(() => fake.close());
    const d = deps({ pull: { subscription: SUB, api_endpoint: fake.endpoint } });
    const poller = new VertexPullPoller(d, { reopen: { initialMs: 50, maxMs: 200 } });
    poller.start();
    await until(() => poller.health().state === 'unhealthy');
    expect(poller.health().reason).toMatch(/not authorized/);
    // Still refused: it keeps reopening (the library opens 5 streams per attempt) and stays unhealthy…
    const refused = fake.state.refused;
    await until(() => fake.state.refused >= refused + 10);
    expect(poller.health().state).toBe('unhealthy');
    // …however long ago the error was (it used to be forgotten after 5 minutes while nothing was pulled).
    const now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(now + 60 * 60_000);
    expect(poller.health().state).toBe('unhealthy');
    clock.mockRestore();
    expect(fake.ackedMessages()).toEqual([]);

    fake.serve();
    await until(() => fake.ackedMessages().includes('301'));
    expect(d.events().map((e) => e.details?.insert_id)).toContain('grpc-after-deny');
    expect(poller.stats()).toMatchObject({ ack: 1, nack: 0 });
    await until(() => poller.health().state === 'healthy');
    await poller.stop();
  });

  it('an unreachable endpoint (the library retries silently) reads degraded, then unhealthy once that lasts, and healthy once messages flow', async () => {
    // A free port: nothing listens there until the fake starts on it.
    const probe = await startFakeSubscriber(SUB, []);
    const port = Number(probe.endpoint.split(':')[1]);
    await probe.close();
    const d = deps({ pull: { subscription: SUB, api_endpoint: `127.0.0.1:${port}` } });
    const poller = new VertexPullPoller(d, { troubleUnhealthyMs: 4000 });
    poller.start();
    expect(poller.health().state).toBe('healthy');
    await until(() => poller.health().state !== 'healthy', 15_000);
    expect(poller.health()).toMatchObject({ state: 'degraded', reason: expect.stringMatching(/no Pub\/Sub stream has stayed open since .*ECONNREFUSED.*keeps retrying/) });
    // Still failing a while later (two minutes by default): unhealthy.
    await until(() => poller.health().state === 'unhealthy', 15_000);
    expect(poller.health().reason).toMatch(/ECONNREFUSED/);
    // The endpoint comes up: the library's own retry connects, a message arrives, the trouble is over.
    const fake = await startFakeSubscriber(SUB, [{ messageId: '401', data: entryBytes('after-outage') }], { port });
    cleanups.push(() => fake.close());
    await until(() => fake.ackedMessages().includes('401'), 30_000);
    expect(poller.health().state).toBe('healthy');
    await poller.stop();
  }, 60_000);

  it('a reopened subscription without messages counts as working once it stays open', async () => {
    const fake = await startFakeSubscriber(SUB, [], { refuse: { code: grpc.status.PERMISSION_DENIED, details: 'User not authorized to perform this action.' } });
    cleanups.push(() => fake.close());
    const d = deps({ pull: { subscription: SUB, api_endpoint: fake.endpoint } });
    const poller = new VertexPullPoller(d, { reopen: { initialMs: 50, maxMs: 200 }, stableMs: 500 });
    poller.start();
    await until(() => poller.health().state === 'unhealthy');
    fake.serve();
    await until(() => poller.health().state === 'healthy');
    const refused = fake.state.refused;
    await sleep(300);
    expect(fake.state.refused).toBe(refused);
    await poller.stop();
  });
});
